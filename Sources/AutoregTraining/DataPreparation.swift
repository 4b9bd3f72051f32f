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

/// Loads a split as `model` needs it (see `loadSplit(_:split:dataDirectory:levels:limit:binarization:)`)
/// and checks that the model can score it (`checkCompatible`): the one place where data and
/// a model meet in `eval`, `sample`, `complete`, `classify` and `train --test`.
public func loadSplit(_ name: String, split: Split, dataDirectory: String?, for model: any AutoregressiveModel,
                      limit: Int? = nil, binarization: Binarization = .fixed) throws -> ImageDataset {
    let data = try loadSplit(name, split: split, dataDirectory: dataDirectory, levels: model.config.levels,
                             limit: limit, binarization: binarization)
    try checkCompatible(data, with: model)
    return data
}

/// Checks that `model` can score `data`: the same image shape, the model's levels (or
/// `dataLevels`, for 8-bit data binarised batch by batch), and, for a class-conditional
/// model, labels among its classes. The error names the data set, and for a label the
/// image's index and value.
public func checkCompatible(_ data: ImageDataset, with model: any AutoregressiveModel, dataLevels: Int? = nil) throws {
    let c = model.config
    if (data.height, data.width, data.channels) != (c.height, c.width, c.channels) {
        throw TrainingError(description: "\(data.name): images are \(data.height)x\(data.width)x\(data.channels) "
            + "(height x width x channels, \(data.dimension) values); the model was built for "
            + "\(c.height)x\(c.width)x\(c.channels) (\(c.dimension))")
    }
    let levels = dataLevels ?? c.levels
    if data.levels != levels {
        throw TrainingError(description: "\(data.name): pixels have \(data.levels) levels; the model expects \(levels)")
    }
    guard let conditional = model as? any ConditionalModel, conditional.classes > 0, let labels = data.labels else { return }
    if let i = labels.firstIndex(where: { $0 < 0 || $0 >= conditional.classes }) {
        throw TrainingError(description: "\(data.name): image \(i) has label \(labels[i]), but the model is conditioned "
            + "on \(conditional.classes) classes (0...\(conditional.classes - 1))")
    }
}

/// The shape of images in a data set, for building a matching model, and the number of
/// classes its labels are drawn from (0 when it has none): the data set's own count (10
/// for MNIST, the class folders of a PNG data set), not the labels one split happens to hold.
public func imageShape(of name: String, dataDirectory: String?)
    throws -> (height: Int, width: Int, channels: Int, levels: Int, classes: Int) {
    let d = try DatasetCatalog.load(name: name, split: .valid, dataDirectory: dataDirectory)
    return (d.height, d.width, d.channels, d.levels, d.classes)
}

/// The levels of a data set's pixels: known for the catalogue's fixed data sets (binarized
/// MNIST 2, the others 256), read from the files for a PNG folder.
public func dataLevels(of name: String, dataDirectory: String?) throws -> Int {
    switch DatasetName(rawValue: name) {
    case .binarizedMNIST: return 2
    case .mnist, .fashionMNIST, .cifar10: return 256
    case .png, nil: return try imageShape(of: name, dataDirectory: dataDirectory).levels
    }
}

/// The generator behind the stochastic binarisation of `split` for evaluation: fixed, so a
/// `--valid-limit` prefix and the whole split agree on the images they share.
func evaluationBinarizationRNG(_ split: Split) -> RandomGenerator {
    RandomGenerator(seed: 0xB1AA_21E5 &+ UInt64(Split.allCases.firstIndex(of: split)!))
}
