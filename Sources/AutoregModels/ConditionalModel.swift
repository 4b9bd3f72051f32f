import AutoregNN
import AutoregTensor

/// A model of p(x | y) = Π p(x_i | x_<i, y) for a class label y in 0..<`classes`.
///
/// The unconditional `logits(_:)` of the `AutoregressiveModel` protocol stays available:
/// it is `logits(_:labels: nil)`, the model without any label term (itself a normalised
/// distribution), so every tool that knows nothing of labels keeps working.
public protocol ConditionalModel: AutoregressiveModel {
    /// Number of classes the model is conditioned on; 0 when it is unconditional.
    var classes: Int { get }
    /// Logits as `logits(_:)` gives them ([B, D] or [B, D, levels]), for one label per image
    /// (each in 0..<classes); nil leaves the label term out.
    func logits(_ pixels: Tensor, labels: [Int]?) -> Tensor
    /// −log p(x | y) per image in nats: [B] (default: from `logits(_:labels:)`).
    func nll(_ pixels: Tensor, labels: [Int]?) -> Tensor
}

extension ConditionalModel {
    /// −log p(x | y) per image in nats: [B].
    public func nll(_ pixels: Tensor, labels: [Int]?) -> Tensor {
        config.output.nll(logits: logits(pixels, labels: labels), pixels: pixels)
    }

    /// Mean −log p(x | y) over the batch: the training loss.
    public func loss(_ pixels: Tensor, labels: [Int]?) -> Tensor { nll(pixels, labels: labels).mean() }

    /// Draws `count` images, image n conditioned on `labels[n]` (nil: no label term), with
    /// the fastest exact sampler the model has (see `generate`).
    public func sample(count: Int, labels: [Int]?, rng: inout RandomGenerator, temperature: Float = 1,
                       progress: ((Int, Int) -> Void)? = nil) -> Sample {
        generate(count: count, labels: labels, rng: &rng, temperature: temperature, progress: progress)
    }

    /// Checks labels against the batch size and the number of classes.
    func checkLabels(_ labels: [Int], batch: Int) {
        precondition(classes > 0, "this model is not class-conditional (classes 0) but was given labels")
        precondition(labels.count == batch, "\(labels.count) labels for a batch of \(batch)")
        precondition(labels.allSatisfy { $0 >= 0 && $0 < classes }, "labels must lie in 0..<\(classes)")
    }
}

/// One-hot rows [B, classes] for `labels`.
func oneHot(_ labels: [Int], classes: Int) -> Tensor {
    var data = [Float](repeating: 0, count: labels.count * classes)
    for (n, y) in labels.enumerated() { data[n * classes + y] = 1 }
    return Tensor(shape: [labels.count, classes], data: data)
}
