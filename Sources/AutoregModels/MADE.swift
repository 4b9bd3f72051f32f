import AutoregNN
import AutoregTensor
import Foundation

/// Masked autoencoder for distribution estimation (Germain et al. 2015): an MLP whose
/// weight masks let output i see only inputs earlier than i in the ordering.
///
/// Units carry degrees: input d has degree rank(d)+1 in 1...D, hidden units draw degrees
/// from [min of the previous layer, D−1], a hidden connection k'→k exists when
/// m(k) ≥ m(k'), and an output connection k→d when rank(d)+1 > m(k). With `masks` > 1 the
/// model cycles through that many seeded orderings/degree sets during training
/// (connectivity-agnostic training) and can average them at test time (`ensembleNLL`).
public final class MADE: RegisteredModel, MaskEnsemble {
    /// MADE's options: hidden layer sizes, connectivity masks, ordering, direct connections.
    public struct Options: MaskEnsembleOptions {
        /// One or two hidden layer sizes.
        public var hidden: [Int]
        /// Number of connectivity masks trained over (1 = a single fixed mask).
        public var masks: Int
        public var ordering: PixelOrdering
        /// Direct input→output autoregressive connections.
        public var directConnections: Bool

        public init(hidden: [Int] = [500], masks: Int = 1, ordering: PixelOrdering = .natural,
                    directConnections: Bool = false) {
            (self.hidden, self.masks, self.ordering, self.directConnections) = (hidden, masks, ordering, directConnections)
        }
        public init() { self.init(hidden: [500]) }
        public init(legacy l: LegacyModelConfig) throws {
            try l.requireUnset(except: [.hidden, .masks, .ordering, .directConnections])
            self.init(hidden: l.hidden ?? [500], masks: l.masks, ordering: l.ordering, directConnections: l.directConnections)
        }

        public func validate(for config: ModelConfig) throws {
            func fail(_ s: String) throws -> Never { throw ModelError(description: "made: " + s) }
            if hidden.isEmpty || hidden.count > 2 { try fail("takes one or two hidden layers, got \(hidden.count) (hidden \(hidden))") }
            if hidden.contains(where: { $0 < 1 }) { try fail("hidden sizes must be positive, got \(hidden)") }
            if masks < 1 { try fail("masks must be at least 1, got \(masks)") }
        }
        public var sizes: [(name: String, value: Int)] {
            [("masks", masks)] + hidden.enumerated().map { ("hidden[\($0.offset)]", $0.element) }
        }
        public func estimatedParameterCount(for config: ModelConfig) -> Double {
            let d = Double(config.dimension), out = Double(config.output.width)
            let sizes = [d] + hidden.map(Double.init) + [d * out]
            let layers = zip(sizes, sizes.dropFirst()).reduce(0.0) { $0 + $1.0 * $1.1 + $1.1 }
            return layers + (directConnections ? (d + 1) * d * out : 0)
        }
        /// One 0/1 mask per weight and mask set.
        public var extraCopiesPerParameter: Double { Double(max(masks, 1)) }
        public var description: String {
            "hidden \(hidden.map(String.init).joined(separator: ",")), masks \(masks), ordering \(ordering)"
                + (directConnections ? ", direct connections" : "")
        }
    }

    public static var optionsType: any ModelOptions.Type { Options.self }
    public static var summary: String { "masked autoencoder: an MLP with masked weights; orderings, mask ensembles" }

    public let config: ModelConfig
    public let options: Options
    let layers: [MaskedLinear]
    let direct: MaskedLinear?
    /// One set of masks (and ordering) per connectivity.
    let maskSets: [MaskSet]
    /// Index of the mask set used by `logits`.
    public private(set) var activeMask = 0

    struct MaskSet {
        let ordering: [Int]
        /// Degrees of each hidden layer's units (what the masks are built from).
        let hiddenDegrees: [[Int]]
        let layerMasks: [Tensor]
        let directMask: Tensor?
    }

    public init(config: ModelConfig) throws {
        guard config.kind == .made else { throw ModelError(description: "config is for \(config.kind), not made") }
        try config.validate()
        self.config = config
        let options = try config.options(as: Options.self)
        self.options = options
        let d = config.dimension
        let outWidth = d * config.output.width
        var rng = RandomGenerator(seed: config.seed)
        let sizes = [d] + options.hidden
        var layers: [MaskedLinear] = []
        for l in 0..<options.hidden.count {
            layers.append(MaskedLinear(inputs: sizes[l], outputs: sizes[l + 1], name: "hidden\(l)", rng: &rng))
        }
        layers.append(MaskedLinear(inputs: sizes.last!, outputs: outWidth, name: "output", rng: &rng))
        self.layers = layers
        direct = options.directConnections
            ? MaskedLinear(inputs: d, outputs: outWidth, name: "direct", rng: &rng) : nil
        // Mask sets come from their own stream so that weights do not depend on `masks`.
        var maskRNG = RandomGenerator(seed: config.seed ^ 0x4D41_4445)
        maskSets = (0..<options.masks).map { _ in
            MADE.makeMasks(config: config, options: options, rng: &maskRNG)
        }
        applyMask(0)
    }

    static func makeMasks(config: ModelConfig, options: Options, rng: inout RandomGenerator) -> MaskSet {
        let d = config.dimension, width = config.output.width
        let ordering = makeOrdering(options.ordering, dimension: d, rng: &rng)
        let rank = ranks(of: ordering)
        let inputDegrees = rank.map { $0 + 1 }
        var degrees = [inputDegrees]
        for size in options.hidden {
            let low = min(degrees.last!.min() ?? 1, d - 1)
            let span = max(d - low, 1)  // degrees in low...d-1
            degrees.append((0..<size).map { _ in low + rng.int(below: span) })
        }
        func mask(_ from: [Int], _ to: [Int], strict: Bool) -> Tensor {
            var m = [Float](repeating: 0, count: from.count * to.count)
            for (a, da) in from.enumerated() {
                for (b, db) in to.enumerated() where strict ? db > da : db >= da { m[a * to.count + b] = 1 }
            }
            return Tensor(shape: [from.count, to.count], data: m)
        }
        // Output unit (pixel i, level l) carries pixel i's degree.
        let outDegrees = width == 1 ? inputDegrees : inputDegrees.flatMap { [Int](repeating: $0, count: width) }
        var layerMasks: [Tensor] = []
        for l in 0..<options.hidden.count { layerMasks.append(mask(degrees[l], degrees[l + 1], strict: false)) }
        layerMasks.append(mask(degrees.last!, outDegrees, strict: true))
        let directMask = options.directConnections ? mask(inputDegrees, outDegrees, strict: true) : nil
        return MaskSet(ordering: ordering, hiddenDegrees: Array(degrees.dropFirst()), layerMasks: layerMasks,
                       directMask: directMask)
    }

    /// Switches every layer to mask set `index` (0..<masks).
    public func applyMask(_ index: Int) {
        precondition(index >= 0 && index < maskSets.count, "mask \(index) out of range 0..<\(maskSets.count)")
        activeMask = index
        for (layer, m) in zip(layers, maskSets[index].layerMasks) { layer.mask = m }
        direct?.mask = maskSets[index].directMask
    }

    /// Moves to the next mask set (call once per training minibatch).
    public func nextMask() { applyMask((activeMask + 1) % maskSets.count) }

    public var maskCount: Int { maskSets.count }

    public var ordering: [Int] { maskSets[activeMask].ordering }

    public var parameters: [(name: String, tensor: Tensor)] {
        layers.flatMap(\.parameters) + (direct?.parameters ?? [])
    }

    /// The scaled input and the last hidden layer's activations.
    func hiddenFeatures(_ pixels: Tensor) -> (input: Tensor, hidden: Tensor) {
        let x = config.levels == 2 ? pixels : pixels.scaled(by: 1 / Float(config.levels - 1))  // inputs in [0, 1]
        var h = x
        for layer in layers.dropLast() { h = layer(h).relu() }
        return (x, h)
    }

    public func logits(_ pixels: Tensor) -> Tensor {
        let d = config.dimension, batch = pixels.count / d
        let (x, h) = hiddenFeatures(pixels)
        var out = layers.last!(h)
        if let direct { out = out + direct(x) }
        return out.reshaped(config.output.logitShape(batch: batch, dimension: d))
    }

    /// Pixel `i`'s logits only: the hidden layers in full, then just that pixel's output
    /// columns (a 256-way head has D·256 outputs, of which sampling needs 256 per pass).
    public func logits(_ pixels: Tensor, pixel i: Int) -> [Float] {
        let width = config.output.width
        let columns = Array(i * width ..< (i + 1) * width)
        return withoutGrad {
            let (x, h) = hiddenFeatures(pixels)
            var out = layers.last!.columns(columns, of: h)
            if let direct {
                let extra = direct.columns(columns, of: x)
                for k in out.indices { out[k] += extra[k] }
            }
            return out
        }
    }

    /// −log of the ensemble likelihood (1/K) Σ_k p_k(x) over the first `count` mask sets
    /// (all by default): a proper distribution, never worse than the masks' mean NLL.
    public func ensembleNLL(_ pixels: Tensor, count: Int? = nil) -> [Float] {
        let k = min(count ?? maskSets.count, maskSets.count)
        let saved = activeMask
        defer { applyMask(saved) }
        let perMask: [[Float]] = (0..<k).map { i in
            applyMask(i)
            return withoutGrad { nll(pixels).data }
        }
        return mixtureNLL(perMask)
    }
}

extension MADE: FixedBuffers {
    /// Per mask set k: `mask<k>.ordering` [D] and `mask<k>.degrees<l>` [hidden[l]], the degrees
    /// of hidden layer l's units. The masks follow from them (see `MADE`): input pixel i has
    /// degree rank(i) + 1, hidden connection k'→k exists when m(k) ≥ m(k'), output (pixel i,
    /// any level) reads hidden unit k (and, with direct connections, input j) when
    /// rank(i) + 1 > m(k).
    public var fixedBuffers: [FixedBuffer] {
        maskSets.enumerated().flatMap { k, set in
            [.integers("mask\(k).ordering", set.ordering)]
                + set.hiddenDegrees.enumerated().map { .integers("mask\(k).degrees\($0.offset)", $0.element) }
        }
    }
}
