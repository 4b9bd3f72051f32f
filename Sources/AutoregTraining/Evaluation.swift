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
    /// Images per evaluation batch unless told otherwise: 500 for the dense models, 50 for
    /// the convolutional ones, whose activations at 500 images (200 MB a layer) would fall
    /// out of the allocator's reusable heap and cost fresh zeroed pages on every batch.
    public static func defaultBatchSize(for model: any AutoregressiveModel) -> Int {
        model.config.kind.isConvolutional ? 50 : 500
    }

    /// Per-image NLL (nats) of every image in `data`, in batches (`defaultBatchSize` when
    /// nil), without a tape. For MADE with several masks, `masks` > 1 averages that many
    /// masks' probabilities. A class-conditional model is evaluated as −log p(x | label) when
    /// `data` has labels.
    public static func perImageNLL(_ model: any AutoregressiveModel, _ data: ImageDataset,
                                   batchSize: Int? = nil, masks: Int? = nil) -> [Float] {
        let batchSize = batchSize ?? defaultBatchSize(for: model)
        precondition(data.dimension == model.dimension,
                     "data has \(data.dimension) pixels per image, model \(model.dimension)")
        var out: [Float] = []
        out.reserveCapacity(data.count)
        var start = 0
        while start < data.count {
            let idx = Array(start..<min(start + batchSize, data.count))
            let x = Tensor(shape: [idx.count, data.dimension], data: data.floatBatch(indices: idx))
            if let conditional = model as? any ConditionalModel, conditional.classes > 0, data.labels != nil {
                let labels = data.labelBatch(indices: idx)
                out += withoutGrad { conditional.nll(x, labels: labels).data }
            } else if let made = model as? MADE, let k = masks, k >= 1 {
                out += made.ensembleNLL(x, count: k)
            } else {
                out += withoutGrad { model.nll(x).data }
            }
            start += batchSize
        }
        return out
    }

    /// Mean NLL in nats per image and bits per dimension.
    public static func evaluate(_ model: any AutoregressiveModel, _ data: ImageDataset,
                                batchSize: Int? = nil, masks: Int? = nil) -> EvaluationResult {
        let t0 = Date()
        let nll = perImageNLL(model, data, batchSize: batchSize, masks: masks)
        let mean = nll.reduce(0.0) { $0 + Double($1) } / Double(max(nll.count, 1))
        return EvaluationResult(natsPerImage: mean, bitsPerDimension: mean / (Double(data.dimension) * M_LN2),
                                images: nll.count, seconds: Date().timeIntervalSince(t0))
    }
}
