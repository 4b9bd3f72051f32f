import ArgumentParser
import AutoregData
import AutoregModels
import AutoregTraining
import Foundation

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report a checkpoint's negative log-likelihood on a data split.",
        discussion: "Prints the mean NLL in nats per image and in bits per dimension.")

    @Option(help: "Checkpoint file.") var checkpoint: String
    @Option(help: "Split: train, valid or test.") var split: String = "test"
    @Option(help: "Data set (default: the one the checkpoint was trained on).") var data: String?
    @Option(help: "Folder holding the data set's files.") var dataDir: String?
    @Option(help: "made: average this many masks (default: all the model has).") var masks: Int?
    @Flag(help: "Also evaluate the training split and print the train/test gap.") var gap = false
    @Option(help: "Evaluate only the first N images.") var limit: Int?
    @Option(help: "Images per batch.") var batchSize: Int = 500
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        if Split(rawValue: split) == nil { throw ValidationError("--split must be train, valid or test, got '\(split)'") }
        if let m = masks, m < 1 { throw ValidationError("--masks must be at least 1") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        try compute.apply()
        let (model, ck) = try loadModel(checkpoint)
        let name = data ?? ck.training?.options.dataset ?? "binarized-mnist"
        let dir = dataDir ?? ck.training?.options.dataDirectory
        let k = (model as? MADE).map { _ in masks ?? model.config.masks }
        func report(_ s: Split) throws -> EvaluationResult {
            let d = try loadSplit(name, split: s, dataDirectory: dir, levels: model.config.levels, limit: limit)
            let r = Evaluator.evaluate(model, d, batchSize: batchSize, masks: k)
            print(String(format: "%@ NLL %.2f nats/image, %.4f bits/dim (%d images of %@, %.1f s, %.0f img/s)%@",
                         s.rawValue, r.natsPerImage, r.bitsPerDimension, r.images, name, r.seconds, r.imagesPerSecond,
                         k.map { $0 > 1 ? ", ensemble of \($0) masks" : "" } ?? ""))
            return r
        }
        let main = try report(Split(rawValue: split)!)
        if gap && split != "train" {
            let tr = try report(.train)
            print(String(format: "gap (%@ - train) %.2f nats/image", split, main.natsPerImage - tr.natsPerImage))
        }
    }
}
