import ArgumentParser
import AutoregData
import AutoregImaging
import AutoregModels
import AutoregTraining
import Foundation

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify images by likelihood: argmax over y of log p(x | y) + log p(y).",
        discussion: """
        p(x | y) comes from a class-conditional checkpoint (gated-pixelcnn trained with \
        --conditional) or from one checkpoint per class (--checkpoints, class 0 first). Prints \
        the accuracy and the confusion matrix (rows: true class, columns: predicted), and writes \
        OUT-DIR/least-sure.png (the images with the smallest margin between the best and \
        second-best score, least sure first) and OUT-DIR/scores.csv. Example:
          autoreg classify --checkpoint runs/cond/best.ckpt --data mnist --limit 1000
        """)

    @Option(help: "A class-conditional checkpoint.") var checkpoint: String?
    @Option(help: "One checkpoint per class, comma-separated, class 0 first.") var checkpoints: String?
    @Option(name: .customLong("data"), help: "Data set with labels (default: the one the checkpoint was trained on).") var dataGiven: DatasetName?
    var data: String? { dataGiven?.rawValue }
    @Option(help: "Folder holding the data set's files.") var dataDir: String?
    @Option(help: "Split: \(Split.allCases.map(\.rawValue).joined(separator: ", ")).") var split: Split = .test
    @Option(parsing: .unconditional, help: "Classify only the first N images.") var limit: Int?
    @Option(help: "Class prior p(y): uniform, or train (the training split's class frequencies).")
    var prior: ClassPriorChoice = .uniform
    @Option(help: "Folder for least-sure.png and scores.csv.") var outDir: String = "classify"
    @Option(parsing: .unconditional, help: "Number of least-sure images to show.") var show: Int = 16
    @Option(parsing: .unconditional, help: "Enlarge each pixel of least-sure.png this many times.") var scale: Int = 3
    @Option(parsing: .unconditional, help: "Images per batch (default: 500, or 50 for pixelcnn and gated-pixelcnn).") var batchSize: Int?
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var imageLimit: ImageLimitOptions

    func validate() throws {
        if (checkpoint == nil) == (checkpoints == nil) {
            throw ValidationError("give either --checkpoint (one class-conditional model) or --checkpoints P0,P1,... (one model per class)")
        }
        if let list = checkpoints, checkpointList(list).count < 2 {
            throw ValidationError("--checkpoints needs one checkpoint per class, at least two, comma-separated; got '\(list)'")
        }
        if let l = limit, l < 1 { throw ValidationError("--limit must be at least 1, got \(l)") }
        if show < 0 { throw ValidationError("--show must not be negative, got \(show)") }
        if scale < 1 { throw ValidationError("--scale must be at least 1, got \(scale)") }
        if let b = batchSize, b < 1 { throw ValidationError("--batch-size must be at least 1, got \(b)") }
    }

    func checkpointList(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The classifier and the first checkpoint (for the data set's name).
    func makeClassifier() throws -> (LikelihoodClassifier, Checkpoint, String) {
        if let path = checkpoint {
            let (model, ck) = try loadModel(path)
            guard let conditional = model as? any ConditionalModel, conditional.classes > 0 else {
                throw ClassificationError(description: "\(path): the \(model.config.kind) model is not class-conditional; train a gated-pixelcnn "
                    + "with --conditional, or pass --checkpoints P0,P1,... with one model per class")
            }
            return (try LikelihoodClassifier(conditional: conditional), ck, path)
        }
        let paths = checkpointList(checkpoints!)
        var models: [any AutoregressiveModel] = []
        var first: Checkpoint?
        for path in paths {
            let (model, ck) = try loadModel(path)
            if let f = first?.model {
                let c = model.config
                guard c.height == f.height, c.width == f.width, c.channels == f.channels, c.levels == f.levels else {
                    throw ClassificationError(description: "\(path): a model of \(c.height)x\(c.width)x\(c.channels) images with \(c.levels) levels, "
                        + "but \(paths[0]) has \(f.height)x\(f.width)x\(f.channels) with \(f.levels)")
                }
            }
            first = first ?? ck
            models.append(model)
        }
        return (try LikelihoodClassifier(perClass: models), first!, paths[0])
    }

    func run() throws {
        try compute.apply()
        imageLimit.apply()
        let (classifier, ck, firstPath) = try makeClassifier()
        let name = data ?? ck.training?.options.dataset ?? "mnist"
        let dir = dataDir ?? ck.training?.options.dataDirectory
        let c = classifier.config
        try checkPictureSize(c, images: 16, scale: scale, copies: 1, options: "--scale \(scale)")
        if let batchSize { try checkBatchSize(c, images: batchSize, option: "--batch-size") }
        var images = try loadSplit(name, split: split, dataDirectory: dir, levels: c.levels)
        guard images.labels != nil else {
            throw ClassificationError(description: "\(name) has no class labels to classify against; use mnist or fashion-mnist (--data)")
        }
        guard images.dimension == c.dimension else {
            throw ClassificationError(description: "\(firstPath): the model is for \(c.height)x\(c.width)x\(c.channels) images, "
                + "\(name) has \(images.height)x\(images.width)x\(images.channels)")
        }
        let dataClasses = images.classes
        guard dataClasses == classifier.classes else {
            let given = checkpoint != nil ? "\(firstPath) models \(classifier.classes) classes"
                                          : "--checkpoints gives \(classifier.classes) models"
            throw ClassificationError(description: "\(given) but \(name) has \(dataClasses) classes")
        }
        if let limit, limit < images.count { images = images.prefix(limit) }
        let k = classifier.classes
        let logPrior: [Float]
        if prior == .train {
            let train = try DatasetCatalog.load(name: name, split: .train, dataDirectory: dir)
            logPrior = ClassPrior.frequencies(of: train.labels ?? [], classes: k)
        } else {
            logPrior = ClassPrior.uniform(classes: k)
        }

        let t0 = Date()
        let result = try classifier.classify(images, logPrior: logPrior, batchSize: batchSize)
        let truth = images.labels!
        let confusion = try ConfusionMatrix(truth: truth, predictions: result.predictions, classes: k)
        print(String(format: "classified %d images of %@/%@ with %@ (%d classes, %@ prior) in %.1f s",
                     images.count, name, split.rawValue, checkpoint ?? "\(k) per-class checkpoints", k, prior.rawValue,
                     Date().timeIntervalSince(t0)))
        print(String(format: "accuracy %.2f%% (%d of %d); error %.2f%%", 100 * confusion.accuracy, confusion.correct,
                     confusion.total, 100 * (1 - confusion.accuracy)))
        print("confusion matrix (rows: true class, columns: predicted):")
        print(confusion.table)

        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        var csv = "index,label,predicted,margin,entropy," + (0..<k).map { "score\($0)" }.joined(separator: ",") + "\n"
        for i in 0..<images.count {
            csv += "\(i),\(truth[i]),\(result.predictions[i]),\(result.margins[i]),\(result.entropy(i)),"
                + result.scores[i].map { String($0) }.joined(separator: ",") + "\n"
        }
        let csvPath = outDir + "/scores.csv"
        try writeAtomically(Data(csv.utf8), to: csvPath)

        let unsure = result.leastSure(show)
        if !unsure.isEmpty {
            print("least sure (margin between the two best scores, nats):")
            for i in unsure {
                print(String(format: "  image %5d  true %d  predicted %d  margin %.3f  posterior entropy %.3f nats",
                             i, truth[i], result.predictions[i], result.margins[i], result.entropy(i)))
            }
            let pixels = unsure.flatMap { expandLevels(Array(images.image($0)), levels: images.levels) }
            let grid = ImageGrid.tile(pixels: pixels, count: unsure.count, height: images.height, width: images.width,
                                      channels: images.channels, padding: 1, paddingValue: 128, scale: scale)
            let pngPath = outDir + "/least-sure.png"
            try PNG.write(grid, to: pngPath)
            print("wrote \(pngPath) (least sure first, row by row) and \(csvPath)")
        } else {
            print("wrote \(csvPath)")
        }
    }
}

/// The class prior p(y) that `classify` combines with the likelihoods.
enum ClassPriorChoice: String, CaseIterable, ExpressibleByArgument {
    /// Every class equally likely.
    case uniform
    /// The class frequencies of the training split.
    case train
}
