import AutoregData
import AutoregModels

/// Loads a split in the form a model with `levels` levels needs: 8-bit data is binarised
/// (with a fixed threshold, which evaluation always uses) for binary models; binary data
/// cannot feed an 8-bit model.
public func loadSplit(_ name: String, split: Split, dataDirectory: String?, levels: Int,
                      limit: Int? = nil) throws -> ImageDataset {
    var data = try DatasetCatalog.load(name: name, split: split, dataDirectory: dataDirectory)
    if let limit, limit < data.count { data = data.prefix(limit) }
    if levels == 2 && data.levels != 2 { return data.binarizedFixed() }
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
