import AutoregData
import AutoregModels
import AutoregTensor

/// −log p(x_i | x_<i) in nats for every sub-pixel i of one image (`pixels`: D raw values,
/// 0/1 or 0..<levels), from one pass of the model: [D] values that sum to the image's NLL.
///
/// A class-conditional model uses `label` (nil: no label term). MADE uses its active mask
/// only; the average over several masks is a mixture whose NLL does not split per pixel.
public func perPixelNLL(_ model: any AutoregressiveModel, pixels: [Float], label: Int? = nil) throws -> [Float] {
    let c = model.config
    guard pixels.count == c.dimension else {
        throw ModelError(description: "image has \(pixels.count) values, the model expects \(c.dimension)")
    }
    guard pixels.allSatisfy({ $0 >= 0 && $0 < Float(c.levels) && $0 == $0.rounded() }) else {
        throw ModelError(description: "pixel values must be integers in 0..<\(c.levels)")
    }
    let x = Tensor(shape: [1, c.dimension], data: pixels)
    return try withoutGrad {
        let logits: Tensor
        if let label {
            guard let conditional = model as? any ConditionalModel, conditional.classes > 0 else {
                throw ModelError(description: "a label was given but the \(c.kind) model is not class-conditional")
            }
            guard label >= 0 && label < conditional.classes else {
                throw ModelError(description: "label \(label) outside 0..<\(conditional.classes)")
            }
            logits = conditional.logits(x, labels: [label])
        } else {
            logits = model.logits(x)
        }
        return c.output.nllTerms(logits: logits, pixels: x).data
    }
}

/// `perPixelNLL` of image `index` of `data`, with its label when the model is
/// class-conditional and the data set has labels (as `Evaluator` does).
public func perPixelNLL(_ model: any AutoregressiveModel, _ data: ImageDataset, index: Int) throws -> [Float] {
    guard index >= 0 && index < data.count else {
        throw ModelError(description: "image index \(index) is outside 0..<\(data.count) of \(data.name)")
    }
    let image = data.batch(indices: [index])
    var label: Int?
    if let conditional = model as? any ConditionalModel, conditional.classes > 0, let labels = image.labels {
        label = labels[0]
    }
    return try perPixelNLL(model, pixels: image.pixels, label: label)
}
