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
public final class MADE: AutoregressiveModel {
    public let config: ModelConfig
    let layers: [MaskedLinear]
    let direct: MaskedLinear?
    /// One set of masks (and ordering) per connectivity.
    let maskSets: [MaskSet]
    /// Index of the mask set used by `logits`.
    public private(set) var activeMask = 0

    struct MaskSet {
        let ordering: [Int]
        let layerMasks: [Tensor]
        let directMask: Tensor?
    }

    public init(config: ModelConfig) throws {
        try config.validate()
        guard config.kind == .made else { throw ModelError(description: "config is for \(config.kind), not made") }
        self.config = config
        let d = config.dimension, levels = config.levels
        let outWidth = levels == 2 ? d : d * levels
        var rng = RandomGenerator(seed: config.seed)
        let sizes = [d] + config.hidden
        var layers: [MaskedLinear] = []
        for l in 0..<config.hidden.count {
            layers.append(MaskedLinear(inputs: sizes[l], outputs: sizes[l + 1], name: "hidden\(l)", rng: &rng))
        }
        layers.append(MaskedLinear(inputs: sizes.last!, outputs: outWidth, name: "output", rng: &rng))
        self.layers = layers
        direct = config.directConnections
            ? MaskedLinear(inputs: d, outputs: outWidth, name: "direct", rng: &rng) : nil
        // Mask sets come from their own stream so that weights do not depend on `masks`.
        var maskRNG = RandomGenerator(seed: config.seed ^ 0x4D41_4445)
        maskSets = (0..<config.masks).map { _ in
            MADE.makeMasks(config: config, rng: &maskRNG)
        }
        applyMask(0)
    }

    static func makeMasks(config: ModelConfig, rng: inout RandomGenerator) -> MaskSet {
        let d = config.dimension, levels = config.levels
        let ordering = makeOrdering(config.ordering, dimension: d, rng: &rng)
        let rank = ranks(of: ordering)
        let inputDegrees = rank.map { $0 + 1 }
        var degrees = [inputDegrees]
        for size in config.hidden {
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
        let outDegrees = levels == 2 ? inputDegrees : inputDegrees.flatMap { [Int](repeating: $0, count: levels) }
        var layerMasks: [Tensor] = []
        for l in 0..<config.hidden.count { layerMasks.append(mask(degrees[l], degrees[l + 1], strict: false)) }
        layerMasks.append(mask(degrees.last!, outDegrees, strict: true))
        let directMask = config.directConnections ? mask(inputDegrees, outDegrees, strict: true) : nil
        return MaskSet(ordering: ordering, layerMasks: layerMasks, directMask: directMask)
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

    public var ordering: [Int] { maskSets[activeMask].ordering }

    public var parameters: [(name: String, tensor: Tensor)] {
        layers.flatMap(\.parameters) + (direct?.parameters ?? [])
    }

    /// The scaled input and the last hidden layer's activations.
    func hiddenFeatures(_ pixels: Tensor) -> (input: Tensor, hidden: Tensor) {
        let x = config.levels == 2 ? pixels : pixels.scaled(by: 1 / Float(config.levels - 1))
        var h = x
        for layer in layers.dropLast() { h = layer(h).relu() }
        return (x, h)
    }

    public func logits(_ pixels: Tensor) -> Tensor {
        let d = config.dimension, batch = pixels.count / d
        let (x, h) = hiddenFeatures(pixels)
        var out = layers.last!(h)
        if let direct { out = out + direct(x) }
        return config.levels == 2 ? out : out.reshaped([batch, d, config.levels])
    }

    /// Pixel `i`'s logits only: the hidden layers in full, then just that pixel's output
    /// columns (a 256-way head has D·256 outputs, of which sampling needs 256 per pass).
    public func logits(_ pixels: Tensor, pixel i: Int) -> [Float] {
        let width = config.levels == 2 ? 1 : config.levels
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
