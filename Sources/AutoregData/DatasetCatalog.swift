import Foundation

/// The data sets the catalog knows how to find and load.
public enum DatasetName: String, CaseIterable, Sendable {
    /// The fixed binarization of MNIST (Larochelle & Murray 2011) in `.amat` files, 50 000/10 000/10 000.
    case binarizedMNIST = "binarized-mnist"
    /// MNIST, 8-bit, in IDX files; train/valid are the first 50 000 / last 10 000 of the train file.
    case mnist
    /// Fashion-MNIST, 8-bit, in IDX files, split like ``mnist``.
    case fashionMNIST = "fashion-mnist"
    /// CIFAR-10, 32x32 RGB, 8-bit, binary version; train/valid are the first 45 000 / last 5 000
    /// of the five training batches.
    case cifar10
    /// The user's own PNG files in `train/`, `valid/`, `test/` folders (see ``PNGFolder``).
    case png
}

/// A data set split.
public enum Split: String, CaseIterable, Sendable {
    case train, valid, test
}

/// Finds data set files on disk and loads splits as ``ImageDataset``s.
///
/// Search order: the explicit `dataDirectory` (it or its `<name>` subfolder must hold the files),
/// `$AUTOREG_DATA/<name>`, `../shared/data/<name>`, `./data/<name>`, and for Fashion-MNIST
/// `/usr/share/datasets/fashion-mnist` (Debian package `dataset-fashion-mnist`).
/// Each file may be plain or gzip-compressed (`.gz`).
public enum DatasetCatalog {
    /// Size of the validation split taken from the end of the MNIST / Fashion-MNIST train file.
    public static let idxValidationCount = 10_000
    /// Size of the validation split taken from the end of CIFAR-10's training batches.
    public static let cifarValidationCount = 5_000
    /// CIFAR-10's classes: labels 0...9.
    public static let cifarClasses = 10
    /// MNIST's digits and Fashion-MNIST's garments: labels 0...9.
    public static let idxClasses = 10

    /// Loads `split` of the data set called `name` (e.g. "binarized-mnist").
    public static func load(name: String, split: Split, dataDirectory: String? = nil) throws -> ImageDataset {
        guard let dataset = DatasetName(rawValue: name) else {
            throw DataError.unknownDataset(name: name, known: DatasetName.allCases.map(\.rawValue))
        }
        return try load(name: dataset, split: split, dataDirectory: dataDirectory)
    }

    /// Loads `split` of `name`, searching the locations described on ``DatasetCatalog``.
    public static func load(name: DatasetName, split: Split, dataDirectory: String? = nil) throws -> ImageDataset {
        let files = fileNames(name: name, split: split)
        let directory: String
        if let dataDirectory {
            guard let found = candidateDirectories(name: name, explicit: dataDirectory).first(where: { holds(files, $0, name: name) }) else {
                if name == .png {
                    throw DataError.unusable(path: dataDirectory, reason: "has no \(files[0])/ folder of PNG files "
                        + "(expected train/, and valid/ and test/ if you have them)")
                }
                throw DataError.filesNotInDirectory(directory: dataDirectory, files: files)
            }
            directory = found
        } else {
            let places = searchDirectories(name: name)
            guard let found = places.first(where: { holds(files, $0, name: name) }) else {
                throw DataError.datasetNotFound(name: name.rawValue, searched: places, hint: howToGet(name))
            }
            directory = found
        }
        let paths = files.compactMap { resolve($0, in: directory) }  // all present (checked above); none for png's folders
        switch name {
        case .png:
            return try PNGFolder.load(root: directory, split: split, name: name.rawValue)
        case .binarizedMNIST:
            return try loadAmat(path: paths[0], name: "\(name.rawValue)/\(split.rawValue)")
        case .mnist, .fashionMNIST:
            let all = try loadIDX(imagesPath: paths[0], labelsPath: paths[1], name: name.rawValue)
            guard split != .test else { return named(all, "\(name.rawValue)/test") }
            guard all.count > idxValidationCount else {
                throw DataError.wrongDimensions(path: paths[0], detail: "\(all.count) images, too few for a \(idxValidationCount)-image validation split")
            }
            let trainCount = all.count - idxValidationCount
            return split == .train
                ? all.prefix(trainCount, name: "\(name.rawValue)/train")
                : all.suffix(idxValidationCount, name: "\(name.rawValue)/valid")
        case .cifar10:
            let batches = try paths.map { try CIFAR10.readBatch(path: $0, name: name.rawValue) }  // checks labels 0...9
            let all = ImageDataset(name: name.rawValue, pixels: batches.flatMap(\.pixels), count: batches.reduce(0) { $0 + $1.count },
                                   height: CIFAR10.side, width: CIFAR10.side, channels: 3, levels: 256,
                                   labels: batches.flatMap { $0.labels ?? [] }, classes: cifarClasses)
            guard split != .test else { return named(all, "\(name.rawValue)/test") }
            guard all.count > cifarValidationCount else {
                throw DataError.wrongDimensions(path: paths.last!, detail: "\(all.count) training images, too few for a "
                    + "\(cifarValidationCount)-image validation split")
            }
            return split == .train
                ? all.prefix(all.count - cifarValidationCount, name: "\(name.rawValue)/train")
                : all.suffix(cifarValidationCount, name: "\(name.rawValue)/valid")
        }
    }

    /// The directory holding the files of `split` (all splits when nil), or nil if none does.
    public static func locate(name: DatasetName, split: Split? = nil, dataDirectory: String? = nil) -> String? {
        let splits = split.map { [$0] } ?? Split.allCases
        let files = splits.flatMap { fileNames(name: name, split: $0) }
        let places = dataDirectory.map { candidateDirectories(name: name, explicit: $0) } ?? searchDirectories(name: name)
        return places.first { holds(files, $0, name: name) }
    }

    /// The directories searched when no explicit directory is given, in order.
    public static func searchDirectories(name: DatasetName) -> [String] {
        var places: [String] = []
        if let root = ProcessInfo.processInfo.environment["AUTOREG_DATA"], !root.isEmpty {
            places.append(join(root, name.rawValue))
        }
        let cwd = FileManager.default.currentDirectoryPath
        places.append(standardized(join(cwd, "../shared/data/\(name.rawValue)")))
        places.append(join(cwd, "data/\(name.rawValue)"))
        if name == .fashionMNIST { places.append("/usr/share/datasets/fashion-mnist") }
        return places.flatMap { place in [place] + archiveFolders(name).map { join(place, $0) } }
    }

    /// Base names of the files `split` needs (each may also carry a `.gz` suffix).
    public static func fileNames(name: DatasetName, split: Split) -> [String] {
        switch name {
        case .binarizedMNIST:
            return ["binarized_mnist_\(split.rawValue).amat"]
        case .mnist, .fashionMNIST:
            let prefix = split == .test ? "t10k" : "train"
            return ["\(prefix)-images-idx3-ubyte", "\(prefix)-labels-idx1-ubyte"]
        case .cifar10:
            return split == .test ? ["test_batch.bin"] : (1...5).map { "data_batch_\($0).bin" }
        case .png:
            return [split == .test ? "test" : "train"]  // folders
        }
    }

    /// Loads an `.amat` file of 28x28 binary images.
    public static func loadAmat(path: String, name: String) throws -> ImageDataset {
        let matrix = try Amat.readBinary(path: path)
        guard matrix.columns == 28 * 28 else {
            throw DataError.wrongDimensions(path: path, detail: "\(matrix.columns) values per line, expected 784 (28x28)")
        }
        return ImageDataset(name: name, pixels: matrix.values, count: matrix.rows, height: 28, width: 28,
                            levels: 2)
    }

    /// Loads a pair of IDX files (28x28 images and their labels) as one labelled data set.
    public static func loadIDX(imagesPath: String, labelsPath: String, name: String) throws -> ImageDataset {
        let images = try IDX.readImages(path: imagesPath)
        guard images.rows == 28, images.columns == 28 else {
            throw DataError.wrongDimensions(path: imagesPath, detail: "images are \(images.rows)x\(images.columns), expected 28x28")
        }
        let labels = try IDX.readLabels(path: labelsPath)
        guard labels.count == images.count else {
            throw DataError.countMismatch(imagesPath: imagesPath, imageCount: images.count,
                                          labelsPath: labelsPath, labelCount: labels.count)
        }
        try checkLabels(labels, classes: idxClasses, path: labelsPath)
        return ImageDataset(name: name, pixels: images.pixels, count: images.count, height: images.rows,
                            width: images.columns, levels: 256, labels: labels, classes: idxClasses)
    }

    private static func howToGet(_ name: DatasetName) -> String {
        let setEnv = "Put the files in one of these places, or set AUTOREG_DATA to a folder holding a \(name.rawValue)/ subfolder."
        switch name {
        case .binarizedMNIST:
            let base = "http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/"
            let urls = Split.allCases.map { "  \(base)binarized_mnist_\($0.rawValue).amat" }.joined(separator: "\n")
            return "Download the .amat files (optionally gzip them):\n\(urls)\n\(setEnv)"
        case .mnist:
            return "Download the four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) from an MNIST mirror, e.g. https://ossci-datasets.s3.amazonaws.com/mnist/\n\(setEnv)"
        case .fashionMNIST:
            return "Install it with: apt-get install dataset-fashion-mnist\n\(setEnv)"
        case .png:
            return "Make a folder with train/ (and optionally valid/, test/) subfolders of PNG files, one subfolder "
                + "per class inside each if the images have labels, and pass it with --data-dir.\n\(setEnv)"
        case .cifar10:
            return "Download the binary version, https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz, and extract it "
                + "(its folder cifar-10-batches-bin/ may stay as it is inside cifar10/).\n\(setEnv)"
        }
    }

    private static func candidateDirectories(name: DatasetName, explicit: String) -> [String] {
        [explicit, join(explicit, name.rawValue)].flatMap { place in [place] + archiveFolders(name).map { join(place, $0) } }
    }

    /// Folders that a data set's download unpacks into, searched inside each candidate.
    private static func archiveFolders(_ name: DatasetName) -> [String] {
        name == .cifar10 ? ["cifar-10-batches-bin"] : []
    }

    private static func holds(_ files: [String], _ directory: String, name: DatasetName) -> Bool {
        name == .png ? files.allSatisfy { PNGFolder.isDirectory(join(directory, $0)) }
                     : files.allSatisfy { resolve($0, in: directory) != nil }
    }

    /// The path of `file` or `file.gz` in `directory`, whichever exists first.
    private static func resolve(_ file: String, in directory: String) -> String? {
        for candidate in [file, file + ".gz"] {
            let path = join(directory, candidate)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return path
            }
        }
        return nil
    }

    private static func named(_ dataset: ImageDataset, _ name: String) -> ImageDataset {
        var copy = dataset
        copy.name = name
        return copy
    }

    static func join(_ directory: String, _ component: String) -> String {
        directory.hasSuffix("/") ? directory + component : directory + "/" + component
    }

    private static func standardized(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }
}
