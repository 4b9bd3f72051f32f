import AutoregData
import AutoregModels
import AutoregTensor
import Foundation

/// Mean negative log-likelihood of a data set under a model.
public struct EvaluationResult: Codable, Sendable {
    /// Mean −log p(x) in nats per image.
    public var natsPerImage: Double
    /// The same in bits per sub-pixel: nats / (D · ln 2).
    public var bitsPerDimension: Double
    public var images: Int
    public var seconds: Double
    public var imagesPerSecond: Double { Double(images) / max(seconds, 1e-9) }
}

public enum Evaluator {
    /// Images per evaluation batch unless told otherwise: the model's own
    /// `evaluationBatchSize` (500 for the dense models, 50 for the convolutional ones, whose
    /// activations at 500 images, 200 MB a layer, would fall out of the allocator's reusable
    /// heap and cost fresh zeroed pages on every batch).
    public static func defaultBatchSize(for model: any AutoregressiveModel) -> Int {
        type(of: model).evaluationBatchSize
    }

    /// Per-image NLL (nats) of every image in `data`, in batches (`defaultBatchSize` when
    /// nil), without a tape. For a `MaskEnsemble` (MADE), `masks` ≥ 1 averages that many
    /// masks' probabilities. A class-conditional model is evaluated as −log p(x | label) when
    /// `data` has labels. Throws `StopRequest.Stopped` between batches once a caught signal
    /// asks to stop. With several threads each takes a share of every batch (`nllPerImage`).
    public static func perImageNLL(_ model: any AutoregressiveModel, _ data: ImageDataset,
                                   batchSize: Int? = nil, masks: Int? = nil) throws -> [Float] {
        let batchSize = batchSize ?? defaultBatchSize(for: model)
        precondition(data.dimension == model.dimension,
                     "data has \(data.dimension) pixels per image, model \(model.dimension)")
        var out: [Float] = []
        out.reserveCapacity(data.count)
        for batch in data.batches(of: batchSize) {
            try StopRequest.check(during: "evaluation of \(data.name) (image \(batch.start) of \(data.count))")
            let x = batch.tensor
            if let conditional = model as? any ConditionalModel, conditional.classes > 0, let labels = batch.labels {
                out += model.nllPerImage(x, labels: labels)
            } else if let ensemble = model as? any MaskEnsemble, let k = masks, k >= 1 {
                out += ensemble.ensembleNLL(x, count: k)
            } else {
                out += model.nllPerImage(x)
            }
        }
        return out
    }

    /// Mean NLL in nats per image and bits per dimension.
    public static func evaluate(_ model: any AutoregressiveModel, _ data: ImageDataset,
                                batchSize: Int? = nil, masks: Int? = nil) throws -> EvaluationResult {
        let t0 = Date()
        let nll = try perImageNLL(model, data, batchSize: batchSize, masks: masks)
        return result(nll, dimension: data.dimension, seconds: Date().timeIntervalSince(t0))
    }

    /// The equal-weight mixture (1/K) Σₖ pₖ(x) of several models on the same images (see
    /// `mixtureNLL`), and each member's own result, in the order given. The models must share
    /// the image shape and levels. Each mask ensemble (MADE) among them averages `masks` masks (all it has
    /// when nil). `perImage`, if given, receives every image's NLL: the mixture's and each
    /// member's, in nats.
    public static func evaluateMixture(_ models: [any AutoregressiveModel], _ data: ImageDataset,
                                       batchSize: Int? = nil, masks: Int? = nil,
                                       perImage: ((_ mixture: [Float], _ members: [[Float]]) -> Void)? = nil)
        throws -> (mixture: EvaluationResult, members: [EvaluationResult]) {
        precondition(!models.isEmpty, "a mixture needs at least one model")
        var perModel: [[Float]] = [], members: [EvaluationResult] = []
        let t0 = Date()
        for model in models {
            let t = Date()
            let nll = try perImageNLL(model, data, batchSize: batchSize, masks: model is any MaskEnsemble ? (masks ?? model.config.maskCount) : nil)
            perModel.append(nll)
            members.append(result(nll, dimension: data.dimension, seconds: Date().timeIntervalSince(t)))
        }
        let perImageMixture = models.count == 1 ? perModel[0] : mixtureNLL(perModel)
        perImage?(perImageMixture, perModel)
        let mixture = result(perImageMixture, dimension: data.dimension, seconds: Date().timeIntervalSince(t0))
        return (mixture, members)
    }

    static func result(_ nll: [Float], dimension: Int, seconds: Double) -> EvaluationResult {
        let mean = nll.reduce(0.0) { $0 + Double($1) } / Double(max(nll.count, 1))
        return EvaluationResult(natsPerImage: mean, bitsPerDimension: mean / (Double(dimension) * M_LN2),
                                images: nll.count, seconds: seconds)
    }
}
