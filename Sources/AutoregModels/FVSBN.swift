import AutoregNN
import AutoregTensor

/// Fully visible sigmoid belief network: each pixel is a logistic regression on all the
/// pixels before it, logit_i = b_i + Σ_{j<i} W_ji x_j (a strictly triangular masked layer).
public final class FVSBN: RegisteredModel {
    /// FVSBN's options: only the pixel ordering.
    public struct Options: ModelOptions {
        public var ordering: PixelOrdering
        public init(ordering: PixelOrdering = .natural) { self.ordering = ordering }
        public init() { self.init(ordering: .natural) }
        public init(legacy l: LegacyModelConfig) throws {
            try l.requireUnset(except: [.ordering])
            self.init(ordering: l.ordering)
        }
        public func validate(for config: ModelConfig) throws {}
        public var sizes: [(name: String, value: Int)] { [] }
        public func estimatedParameterCount(for config: ModelConfig) -> Double {
            let d = Double(config.dimension)
            return d * d + d
        }
        public var description: String { "ordering \(ordering)" }
    }

    public static var optionsType: any ModelOptions.Type { Options.self }
    public static var summary: String { "fully visible sigmoid belief net: a logistic regression per pixel" }
    public static var supportsCategorical: Bool { false }

    public let config: ModelConfig
    public let options: Options
    public let ordering: [Int]
    let layer: MaskedLinear

    public init(config: ModelConfig) throws {
        guard config.kind == .fvsbn else { throw ModelError(description: "config is for \(config.kind), not fvsbn") }
        try config.validate()
        self.config = config
        options = try config.options(as: Options.self)
        var rng = RandomGenerator(seed: config.seed)
        let d = config.dimension
        ordering = makeOrdering(options.ordering, dimension: d, rng: &rng)
        let rank = ranks(of: ordering)
        // mask[j, i] = 1 when pixel j comes before pixel i.
        var mask = [Float](repeating: 0, count: d * d)
        for j in 0..<d { for i in 0..<d where rank[j] < rank[i] { mask[j * d + i] = 1 } }
        layer = MaskedLinear(inputs: d, outputs: d, mask: Tensor(shape: [d, d], data: mask),
                             name: "linear", rng: &rng)
        // Start from zero weights: an untrained FVSBN is uniform, p = 1/2 everywhere.
        layer.weight.data = [Float](repeating: 0, count: d * d)
    }

    public var parameters: [(name: String, tensor: Tensor)] { layer.parameters }

    public func logits(_ pixels: Tensor) -> Tensor { layer(pixels) }

    public func logits(_ pixels: Tensor, pixel i: Int) -> [Float] { layer.columns([i], of: pixels) }
}

extension FVSBN: FixedBuffers {
    /// `ordering` [D]: pixel generated at each step (a seeded permutation for `--ordering random`);
    /// the weight mask keeps W[j, i] when pixel j comes before pixel i in it.
    public var fixedBuffers: [FixedBuffer] { [.integers("ordering", ordering)] }
}
