import AutoregPNG
import Foundation

/// A data set of the user's own PNG files, in split folders under one root:
///
///     ROOT/train/   ROOT/valid/ (optional)   ROOT/test/ (needed only for the test split)
///
/// A split folder holds either PNG files (an unlabelled data set) or one subfolder of PNG files
/// per class (labels are the classes' positions in the sorted names of `train`'s subfolders;
/// a `test` folder without a `train` folder beside it labels by its own subfolders).
/// Files are read in name order. Every image must have the size and colour type of the first:
/// grey (1 channel) or RGB (3; palette images count as RGB); images with an alpha channel are
/// refused. Pixels are 8-bit (256 levels). Without a `valid` folder, every tenth training
/// image (the 10th, 20th, ... in name order) is held out for validation.
public enum PNGFolder {
    static func join(_ a: String, _ b: String) -> String { DatasetCatalog.join(a, b) }
    /// Without a `valid` folder, training image i (from 0) is held out when i % holdOutEvery == holdOutEvery - 1.
    public static let holdOutEvery = 10

    /// Loads `split` from the folders under `root`.
    public static func load(root: String, split: Split, name: String) throws -> ImageDataset {
        let folder = join(root, split.rawValue)
        // The training folder defines the classes; a test folder alone (to evaluate a model) defines its own.
        let classes = try classNames(isDirectory(join(root, "train")) ? join(root, "train") : folder)
        if split != .test && !isDirectory(join(root, "valid")) {
            let all = try readSplit(join(root, "train"), classes: classes, name: name)
            let held = (0..<all.count).filter { $0 % holdOutEvery == holdOutEvery - 1 }
            guard !held.isEmpty else {
                throw DataError.unusable(path: join(root, "train"), reason: "\(all.count) images: too few to hold out "
                    + "every \(holdOutEvery)th for validation (add a valid/ folder)")
            }
            let kept = (0..<all.count).filter { $0 % holdOutEvery != holdOutEvery - 1 }
            return split == .valid ? all.subset(held, name: "\(name)/valid") : all.subset(kept, name: "\(name)/train")
        }
        return try readSplit(folder, classes: classes, name: "\(name)/\(split.rawValue)")
    }

    /// The class subfolders of a training folder, sorted; empty when it holds PNG files directly.
    static func classNames(_ train: String) throws -> [String] {
        let entries = try listing(train)
        let folders = entries.filter { isDirectory(join(train, $0)) }
        let pngs = entries.filter { isPNG($0) }
        if !folders.isEmpty && !pngs.isEmpty {
            throw DataError.unusable(path: train, reason: "holds both PNG files and subfolders; use either class "
                + "subfolders or PNG files alone")
        }
        return folders
    }

    static func readSplit(_ folder: String, classes: [String], name: String) throws -> ImageDataset {
        var files: [(path: String, label: Int?)] = []
        if classes.isEmpty {
            files = try listing(folder).filter(isPNG).map { (join(folder, $0), nil) }
        } else {
            for sub in try listing(folder) where isDirectory(join(folder, sub)) {
                guard let label = classes.firstIndex(of: sub) else {
                    throw DataError.unusable(path: join(folder, sub), reason: "class \"\(sub)\" is not among the "
                        + "training classes (\(classes.joined(separator: ", ")))")
                }
                files += try listing(join(folder, sub)).filter(isPNG).map { (join(join(folder, sub), $0), label) }
            }
        }
        guard let first = files.first else { throw DataError.unusable(path: folder, reason: "no .png files") }
        var shape: (width: Int, height: Int, channels: Int)?
        var pixels: [UInt8] = []
        for file in files {
            let image: RasterImage
            do { image = try PNG.read(path: file.path) } catch {
                throw DataError.unreadable(path: file.path, reason: "\(error)")
            }
            guard image.channels == 1 || image.channels == 3 else {
                throw DataError.unusable(path: file.path, reason: "has an alpha channel; save it as grey or RGB without transparency")
            }
            if let s = shape, (s.width, s.height, s.channels) != (image.width, image.height, image.channels) {
                throw DataError.wrongDimensions(path: file.path, detail: "\(image.width)x\(image.height), \(image.channels) channel(s); "
                    + "\(first.path) and the files before this one are \(s.width)x\(s.height), \(s.channels) channel(s)")
            }
            shape = shape ?? (image.width, image.height, image.channels)
            pixels += image.pixels
        }
        return ImageDataset(name: name, pixels: pixels, count: files.count, height: shape!.height, width: shape!.width,
                            channels: shape!.channels, levels: 256,
                            labels: classes.isEmpty ? nil : files.map { $0.label! },
                            classes: classes.isEmpty ? nil : classes.count)
    }

    static func listing(_ folder: String) throws -> [String] {
        guard isDirectory(folder) else { throw DataError.missingFile(path: folder) }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw DataError.unreadable(path: folder, reason: error.localizedDescription)
        }
    }

    static func isPNG(_ file: String) -> Bool { file.lowercased().hasSuffix(".png") }

    static func isDirectory(_ path: String) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
    }
}
