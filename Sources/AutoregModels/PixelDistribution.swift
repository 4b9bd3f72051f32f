import AutoregTensor
import Foundation

/// The distribution a model outputs for each sub-pixel given the earlier ones, and so how
/// its output tensor reads: the width of the output per sub-pixel, the NLL of observed
/// pixels, a draw and its mean.
///
/// `levels` is the depth of the pixels the distribution covers (2 for binary pixels, 256
/// for 8-bit ones); `width` is the number of outputs per sub-pixel (1 logit for Bernoulli,
/// one per level for the categorical softmax, 3K for a K-component logistic mixture). A new
/// output is a new case here, and every model can use it.
public enum PixelDistribution: Equatable, Hashable, Sendable {
    /// Binary pixels: one logit of p(x = 1) per sub-pixel.
    case bernoulli
    /// Pixels in 0..<levels: a softmax over `levels` logits per sub-pixel.
    case categorical(levels: Int)
    /// 8-bit pixels: a discretised mixture of `components` logistics per sub-pixel
    /// (PixelCNN++, Salimans et al. 2017): mixture logits, means and log-scales, 3K outputs
    /// laid out as a grey `LogisticMixture`. For colour each sub-pixel's mixture is its
    /// conditional given the earlier ones: models with channel masks compute it from R (and G)
    /// like any other output; PixelCNN++, whose sub-pixels share their context, gets it from
    /// the paper's coupled colour mixture (`logisticMixtureConditionals`).
    case logisticMixture(components: Int)

    /// The distribution for pixels with `levels` values: Bernoulli for 2, categorical otherwise.
    public static func forLevels(_ levels: Int) -> PixelDistribution {
        levels == 2 ? .bernoulli : .categorical(levels: levels)
    }

    /// Number of pixel values the distribution covers.
    public var levels: Int {
        switch self {
        case .bernoulli: return 2
        case let .categorical(levels): return levels
        case .logisticMixture: return LogisticMixture.levels
        }
    }

    /// The engine's mixture for one grey sub-pixel, for `.logisticMixture`.
    var mixture: LogisticMixture? {
        guard case let .logisticMixture(k) = self else { return nil }
        return LogisticMixture(components: k, channels: 1)
    }

    /// Outputs per sub-pixel: the last axis of a model's logits ([B, D] when 1, else [B, D, width]).
    public var width: Int {
        switch self {
        case .bernoulli: return 1
        case let .categorical(levels): return levels
        case let .logisticMixture(k): return 3 * k
        }
    }

    /// Shape of the logits for `batch` images of `dimension` sub-pixels.
    public func logitShape(batch: Int, dimension: Int) -> [Int] {
        width == 1 ? [batch, dimension] : [batch, dimension, width]
    }

    /// −log p(x_i | x_<i) of every sub-pixel, [B, D], from logits of `logitShape` and raw pixels [B, D].
    public func nllTerms(logits: Tensor, pixels: Tensor) -> Tensor {
        switch self {
        case .bernoulli:
            return logits.bernoulliNLL(targets: pixels)
        case .categorical:
            return logits.categoricalNLL(targets: pixels.data.map { Int32($0) })
        case .logisticMixture:
            return logits.logisticMixtureNLL(pixels: pixels, mixture: mixture!, layout: .channelsLast)
        }
    }

    /// −log p(x) per image in nats, [B].
    public func nll(logits: Tensor, pixels: Tensor) -> Tensor {
        nllTerms(logits: logits, pixels: pixels).sum(axis: 1)
    }

    /// Draws one sub-pixel from its `width` outputs at `temperature`, consuming a fixed number
    /// of uniform numbers (`uniformsPerDraw`), so that every sampler draws the same images from
    /// the same generator. Returns the value and the probability recorded beside it: p(x = 1)
    /// for Bernoulli pixels, the mean E[x] / (levels − 1) for 8-bit ones.
    @inline(__always)
    public func draw(_ logits: UnsafeBufferPointer<Float>, temperature: Float,
                     rng: inout some UniformSource) -> (value: Float, probability: Float) {
        switch self {
        case .bernoulli:
            let p = logistic(logits[0] / temperature)
            return (rng.uniform() < p ? 1 : 0, p)
        case let .categorical(levels):
            let (value, mean) = sampleCategorical(Array(logits), temperature: temperature, rng: &rng)
            return (Float(value), mean / Float(levels - 1))
        case .logisticMixture:
            let m = mixture!, p = logits.baseAddress!
            let value = m.sample(p, temperature: temperature, rng: &rng)[0]
            let mean = m.conditionalMeans(p, values: [value], temperature: temperature)[0]
            return (Float(value), mean / Float(LogisticMixture.levels - 1))
        }
    }

    /// Uniform numbers one `draw` consumes.
    public var uniformsPerDraw: Int { mixture?.uniformsPerSample ?? 1 }

    /// How training logs name it: "Bernoulli outputs", "256-way softmax outputs".
    public var summary: String {
        switch self {
        case .bernoulli: return "Bernoulli outputs"
        case let .categorical(levels): return "\(levels)-way softmax outputs"
        case let .logisticMixture(k): return "\(k)-component discretised logistic mixture outputs"
        }
    }
}

extension PixelDistribution: CustomStringConvertible, LosslessStringConvertible {
    /// "bernoulli" or "categorical:256", as checkpoints and the command line spell it.
    public var description: String {
        switch self {
        case .bernoulli: return "bernoulli"
        case let .categorical(levels): return "categorical:\(levels)"
        case let .logisticMixture(k): return "logistic-mixture:\(k)"
        }
    }

    /// Parses `description`; "categorical" alone means 256 levels, "logistic-mixture" 10 components.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch (parts.first, parts.count) {
        case ("bernoulli", 1): self = .bernoulli
        case ("categorical", 1): self = .categorical(levels: 256)
        case ("categorical", 2):
            guard let n = Int(parts[1]), n >= 2, n <= 1 << 16 else { return nil }
            self = .categorical(levels: n)
        case ("logistic-mixture", 1): self = .logisticMixture(components: 10)
        case ("logistic-mixture", 2):
            guard let k = Int(parts[1]), k >= 1, k <= LogisticMixture.maxComponents else { return nil }
            self = .logisticMixture(components: k)
        default: return nil
        }
    }
}

extension PixelDistribution: Codable {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let d = PixelDistribution(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "unknown pixel distribution '\(text)'"))
        }
        self = d
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
