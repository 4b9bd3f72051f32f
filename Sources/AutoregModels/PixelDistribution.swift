import AutoregTensor
import Foundation

/// The distribution a model outputs for each sub-pixel given the earlier ones, and so how
/// its output tensor reads: the width of the output per sub-pixel, the NLL of observed
/// pixels, a draw and its mean.
///
/// `levels` is the depth of the pixels the distribution covers (2 for binary pixels, 256
/// for 8-bit ones); `width` is the number of outputs per sub-pixel (1 logit for Bernoulli,
/// one per level for the categorical softmax). A new output (for example a discretised
/// logistic mixture) is a new case here, and every model can use it.
public enum PixelDistribution: Equatable, Hashable, Sendable {
    /// Binary pixels: one logit of p(x = 1) per sub-pixel.
    case bernoulli
    /// Pixels in 0..<levels: a softmax over `levels` logits per sub-pixel.
    case categorical(levels: Int)

    /// The distribution for pixels with `levels` values: Bernoulli for 2, categorical otherwise.
    public static func forLevels(_ levels: Int) -> PixelDistribution {
        levels == 2 ? .bernoulli : .categorical(levels: levels)
    }

    /// Number of pixel values the distribution covers.
    public var levels: Int {
        switch self {
        case .bernoulli: return 2
        case let .categorical(levels): return levels
        }
    }

    /// Outputs per sub-pixel: the last axis of a model's logits ([B, D] when 1, else [B, D, width]).
    public var width: Int {
        switch self {
        case .bernoulli: return 1
        case let .categorical(levels): return levels
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
        }
    }

    /// −log p(x) per image in nats, [B].
    public func nll(logits: Tensor, pixels: Tensor) -> Tensor {
        nllTerms(logits: logits, pixels: pixels).sum(axis: 1)
    }

    /// Draws one sub-pixel from its `width` outputs at `temperature`, consuming exactly one
    /// uniform number. Returns the value and the probability recorded beside it: p(x = 1) for
    /// Bernoulli pixels, the mean E[x] / (levels − 1) for categorical ones.
    @inline(__always)
    public func draw(_ logits: UnsafeBufferPointer<Float>, temperature: Float,
                     rng: inout RandomGenerator) -> (value: Float, probability: Float) {
        switch self {
        case .bernoulli:
            let p = logistic(logits[0] / temperature)
            return (rng.uniform() < p ? 1 : 0, p)
        case let .categorical(levels):
            let (value, mean) = sampleCategorical(Array(logits), temperature: temperature, rng: &rng)
            return (Float(value), mean / Float(levels - 1))
        }
    }

    /// How training logs name it: "Bernoulli outputs", "256-way softmax outputs".
    public var summary: String {
        switch self {
        case .bernoulli: return "Bernoulli outputs"
        case let .categorical(levels): return "\(levels)-way softmax outputs"
        }
    }
}

extension PixelDistribution: CustomStringConvertible, LosslessStringConvertible {
    /// "bernoulli" or "categorical:256", as checkpoints and the command line spell it.
    public var description: String {
        switch self {
        case .bernoulli: return "bernoulli"
        case let .categorical(levels): return "categorical:\(levels)"
        }
    }

    /// Parses `description`; "categorical" alone means 256 levels.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        switch (parts.first, parts.count) {
        case ("bernoulli", 1): self = .bernoulli
        case ("categorical", 1): self = .categorical(levels: 256)
        case ("categorical", 2):
            guard let n = Int(parts[1]), n >= 2, n <= 1 << 16 else { return nil }
            self = .categorical(levels: n)
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
