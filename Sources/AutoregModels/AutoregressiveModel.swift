import AutoregNN
import AutoregTensor
import Foundation

/// A model of p(x) = Π p(x_i | x_<i) over the pixels of an image, in the order `ordering`.
///
/// Pixels are passed as a [batch, dimension] tensor of raw values: 0/1 for binary data,
/// 0...255 for 8-bit data. Each model scales its inputs itself.
public protocol AutoregressiveModel: ParameterContainer {
    /// Images per evaluation batch unless the user says otherwise (default 500).
    static var evaluationBatchSize: Int { get }

    var config: ModelConfig { get }
    /// `ordering[t]` is the index of the pixel generated at step t.
    var ordering: [Int] { get }
    /// Logits of every conditional p(x_i | x_<i): [B, D] for binary pixels (logit of
    /// x_i = 1), [B, D, levels] for categorical pixels. Output i depends only on the pixels
    /// before i in `ordering`.
    func logits(_ pixels: Tensor) -> Tensor

    /// The logits of pixel `i`'s conditional alone, without a tape: [B] values for binary
    /// pixels, [B × levels] for categorical ones. Sampling asks for one pixel per pass, so
    /// models whose output layer is large compute just that pixel's outputs.
    func logits(_ pixels: Tensor, pixel i: Int) -> [Float]

    /// Negative log-likelihood of each image in nats: [B]. The default reads `logits`; a model
    /// may compute it more directly (the convolutional ones read a softmax head in place).
    func nll(_ pixels: Tensor) -> Tensor
}

/// A model in the registry (`ModelKind.type`): built from a configuration alone.
public protocol RegisteredModel: AutoregressiveModel {
    /// Builds the model `config` describes (weights initialised from its seed); throws a
    /// `ModelError` when the configuration is invalid or for another model.
    init(config: ModelConfig) throws
    /// The type of the model's own options in `ModelConfig.options`.
    static var optionsType: any ModelOptions.Type { get }
    /// One line for help texts: what the model is.
    static var summary: String { get }
    /// Whether the model can output a categorical distribution over 8-bit pixels (default
    /// true; FVSBN and NADE are Bernoulli only).
    static var supportsCategorical: Bool { get }
    /// The output used when none is asked for, for `levels`-level pixels (default:
    /// `PixelDistribution.forLevels`, Bernoulli or categorical).
    static func defaultOutput(levels: Int) -> PixelDistribution
}

extension RegisteredModel {
    public static var supportsCategorical: Bool { true }
    public static func defaultOutput(levels: Int) -> PixelDistribution { .forLevels(levels) }
}

extension AutoregressiveModel {
    public static var evaluationBatchSize: Int { 500 }

    public var dimension: Int { config.dimension }

    /// Negative log-likelihood of each image in nats: [B].
    public func nll(_ pixels: Tensor) -> Tensor {
        config.output.nll(logits: logits(pixels), pixels: pixels)
    }

    /// Default: all logits, then pixel `i`'s.
    public func logits(_ pixels: Tensor, pixel i: Int) -> [Float] {
        let out = withoutGrad { logits(pixels) }
        let batch = out.shape[0], d = dimension, l = config.output.width
        var picked = [Float](repeating: 0, count: batch * l)
        for n in 0..<batch { for k in 0..<l { picked[n * l + k] = out.data[(n * d + i) * l + k] } }
        return picked
    }

    /// Mean NLL over the batch: the training loss.
    public func loss(_ pixels: Tensor) -> Tensor { nll(pixels).mean() }

    /// Draws `count` images pixel by pixel in the model's ordering. Each step reruns the
    /// model on the partial images (D passes). Returns the pixels and, for each pixel, the
    /// probability the model gave it: p(x_i = 1 | x_<i) for binary data, the expected
    /// value E[x_i | x_<i] / (levels − 1) for 8-bit data.
    public func sampleByRerunning(count: Int, rng: inout RandomGenerator, temperature: Float = 1,
                                  fixed: [Float]? = nil, observed: [Bool]? = nil,
                                  progress: ((Int, Int) -> Void)? = nil) -> Sample {
        let d = dimension, output = config.output
        var x = fixed ?? [Float](repeating: 0, count: count * d)
        var probability = [Float](repeating: 0, count: count * d)
        for (step, i) in ordering.enumerated() {
            if let observed, observed[i] && fixed != nil {
                progress?(step + 1, d)
                continue
            }
            let out = logits(Tensor(shape: [count, d], data: x), pixel: i)
            let width = output.width
            out.withUnsafeBufferPointer { o in
                for n in 0..<count {  // the cached sampler draws through the same function
                    let (v, p) = output.draw(UnsafeBufferPointer(rebasing: o[n * width ..< (n + 1) * width]),
                                             temperature: temperature, rng: &rng)
                    x[n * d + i] = v
                    probability[n * d + i] = p
                }
            }
            progress?(step + 1, d)
        }
        return Sample(pixels: x, probabilities: probability, count: count, dimension: d)
    }
}

/// Images drawn from a model, with the conditional probability behind each pixel.
public struct Sample {
    /// [count × dimension] pixel values.
    public var pixels: [Float]
    /// [count × dimension] the model's probability of each pixel given the earlier ones.
    public var probabilities: [Float]
    public var count: Int
    public var dimension: Int
}

/// 1 / (1 + e^−x).
@inline(__always) func logistic(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }

/// Draws from softmax(logits / temperature); returns the value and the distribution's mean.
func sampleCategorical(_ logits: [Float], temperature: Float, rng: inout some UniformSource) -> (Int, Float) {
    let m = logits.max() ?? 0
    var p = logits.map { Foundation.exp(($0 - m) / temperature) }
    let s = p.reduce(0, +)
    var mean: Float = 0
    for k in p.indices { p[k] /= s; mean += Float(k) * p[k] }
    var u = rng.uniform(), value = p.count - 1
    for k in p.indices {
        u -= p[k]
        if u < 0 { value = k; break }
    }
    return (value, mean)
}

/// The inverse of an ordering: rank[i] = step at which pixel i is generated.
func ranks(of ordering: [Int]) -> [Int] {
    var r = [Int](repeating: 0, count: ordering.count)
    for (t, i) in ordering.enumerated() { r[i] = t }
    return r
}

/// Natural or seeded random ordering of `d` pixels.
func makeOrdering(_ kind: PixelOrdering, dimension d: Int, rng: inout RandomGenerator) -> [Int] {
    kind == .natural ? Array(0..<d) : rng.permutation(d)
}
