import AutoregData
import AutoregModels
import AutoregTensor

/// Loads a split in the form a model with `levels` levels needs; binary data cannot feed an
/// 8-bit model. For a binary model, 8-bit data is binarised as `binarization` says: `.dynamic`
/// (a run trained on fresh draws) gets one stochastic draw, pixel ~ Bernoulli(value/255), from
/// a generator seeded by the split alone, so every epoch, run and `eval` sees the same images,
/// drawn the way binarized MNIST's were; otherwise each pixel is thresholded at 0.5.
public func loadSplit(_ name: String, split: Split, dataDirectory: String?, levels: Int,
                      limit: Int? = nil, binarization: Binarization = .fixed) throws -> ImageDataset {
    var data = try DatasetCatalog.load(name: name, split: split, dataDirectory: dataDirectory)
    if let limit, limit < data.count { data = data.prefix(limit) }
    if levels == 2 && data.levels != 2 {
        guard binarization == .dynamic else { return data.binarizedFixed() }
        var rng = evaluationBinarizationRNG(split)
        return data.dynamicallyBinarized(using: &rng)
    }
    if levels != 2 && data.levels != levels {
        throw TrainingError(description: "\(name) has \(data.levels) levels per pixel but the model expects \(levels); "
            + "use --levels \(data.levels) or an 8-bit data set")
    }
    return data
}

/// The shape of images in a data set, for building a matching model, and the number of
/// classes its labels name (0 when it has none).
public func imageShape(of name: String, dataDirectory: String?)
    throws -> (height: Int, width: Int, channels: Int, levels: Int, classes: Int) {
    let d = try DatasetCatalog.load(name: name, split: .valid, dataDirectory: dataDirectory)
    return (d.height, d.width, d.channels, d.levels, d.labels?.max().map { $0 + 1 } ?? 0)
}

/// The generator behind the stochastic binarisation of `split` for evaluation: fixed, so a
/// `--valid-limit` prefix and the whole split agree on the images they share.
func evaluationBinarizationRNG(_ split: Split) -> RandomGenerator {
    RandomGenerator(seed: 0xB1AA_21E5 &+ UInt64(Split.allCases.firstIndex(of: split)!))
}
