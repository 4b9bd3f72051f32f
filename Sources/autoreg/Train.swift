import ArgumentParser
import AutoregData
import AutoregModels
import AutoregTensor
import AutoregTraining
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model by maximum likelihood.",
        discussion: """
        Writes OUT/last.ckpt (for --resume), OUT/best.ckpt (lowest validation NLL) and \
        OUT/metrics.jsonl (one row per epoch). Ctrl-C or SIGTERM stops after the current \
        step and writes last.ckpt. Example:
          autoreg train --model made --data binarized-mnist --masks 8 --epochs 20 --out runs/made
        """)

    @OptionGroup var architecture: ArchitectureOptions
    @Option(name: .customLong("data"), help: "Data set name: \(DatasetName.allCases.map(\.rawValue).joined(separator: ", ")) (default: binarized-mnist).")
    var dataGiven: DatasetName?
    /// `--data`, binarized-mnist when not given.
    var data: String { dataGiven?.rawValue ?? "binarized-mnist" }
    @Option(help: "Folder holding the data set's files (default: search the usual places).")
    var dataDir: String?
    @Option(help: ArgumentHelp("""
        How a binary model sees 8-bit data: fixed (each pixel thresholded at 0.5, the default for a \
        binary model on 8-bit data), dynamic (a fresh Bernoulli(value/255) draw per training batch) \
        or none (no binarisation: for binary data, or 8-bit data with a 256-level model).
        """, valueName: "how"))
    var binarize: Binarization?
    @Option(name: .customLong("masks"), parsing: .unconditional,
            help: "\(ModelFlag.masks.readers): number of connectivity masks to train over (and to average at test time). Default 1.")
    var masksGiven: Int?
    @Option(name: .customLong("ordering"), help: "\(ModelFlag.ordering.readers): pixel ordering, natural (raster) or random. Default natural.")
    var orderingGiven: PixelOrdering?
    @Flag(help: "\(ModelFlag.direct.readers): add direct input-to-output connections.")
    var direct = false
    @Flag(help: "\(ModelKind.names(where: \.isConditional)): condition on the images' class labels (a per-class bias in every gated layer).")
    var conditional = false
    @Option(name: .customLong("epochs"), parsing: .unconditional, help: "Number of epochs in all (default: 10; on --resume, the run's own).")
    var epochsGiven: Int?
    var epochs: Int { epochsGiven ?? 10 }
    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Minibatch size (default: 100).")
    var batchSizeGiven: Int?
    var batchSize: Int { batchSizeGiven ?? 100 }
    @Option(parsing: .unconditional, help: "Learning rate (default: 1e-3).") var lr: Float?
    @Option(name: .customLong("optimizer"), help: "Optimizer: \(OptimizerKind.allCases.map(\.rawValue).joined(separator: " or ")) (default: adam).")
    var optimizerGiven: OptimizerKind?
    var optimizer: OptimizerKind { optimizerGiven ?? .adam }
    @Option(name: .customLong("momentum"), parsing: .unconditional, help: "SGD momentum (default: 0.9).")
    var momentumGiven: Float?
    var momentum: Float { momentumGiven ?? 0.9 }
    @Option(help: "Learning-rate decay per epoch: none, exp:GAMMA or step:EPOCHS:GAMMA (default: none).")
    var lrDecay: String?
    @Option(parsing: .unconditional, help: "Clip the global gradient norm to this value.") var clip: Float?
    @Option(name: .customLong("weight-decay"), parsing: .unconditional, help: "L2 weight decay coefficient (default: 0).")
    var weightDecayGiven: Float?
    var weightDecay: Float { weightDecayGiven ?? 0 }
    @Option(parsing: .unconditional, help: ArgumentHelp("Polyak averaging: validate, keep best.ckpt and test with a moving average of the weights with this decay, e.g. 0.999.",
                               valueName: "decay"))
    var ema: Float?
    @Option(parsing: .unconditional, help: ArgumentHelp("\(ModelKind.withDropout): drop out hidden activations with this probability in training steps, e.g. 0.1 (default: 0).",
                               valueName: "rate"))
    var dropout: Float?
    @Option(name: .customLong("seed"), parsing: .unconditional,
            help: "Random seed (weights, masks, data order): the same seed gives the same run (default: 0).")
    var seedGiven: UInt64?
    var seed: UInt64 { seedGiven ?? 0 }
    @Option(help: "Output folder for checkpoints and metrics.") var out: String?
    @Option(help: ArgumentHelp("""
        Start a new run from this checkpoint's weights (fine-tuning: on other data, say, or with \
        --binarize dynamic); the model's architecture comes from the checkpoint, the optimizer starts afresh.
        """, valueName: "checkpoint"))
    var initFrom: String?
    @Flag(help: ArgumentHelp("""
        Continue from OUT/last.ckpt with its saved settings. \(Train.changeableOnResume) change the run \
        only when given; an option that contradicts the run (another --model, --data, --batch-size, ...) is an error.
        """)) var resume = false

    /// The options that may change a run on --resume (`TrainingOptions.ResumeSetting`, applied by
    /// `changeOnResume`); every other one must agree with the run (`conflictsOnResume`).
    static let changeableOnResume: String = {
        let flags = TrainingOptions.ResumeSetting.allCases.map(option)
        return flags.dropLast().joined(separator: ", ") + " and " + flags.last!
    }()

    /// The command-line option of a setting a resumed run may change.
    static func option(_ setting: TrainingOptions.ResumeSetting) -> String {
        switch setting {
        case .epochs: return "--epochs"
        case .maxMinutes: return "--max-minutes"
        case .learningRate: return "--lr"
        case .schedule: return "--lr-decay"
        case .clipNorm: return "--clip"
        case .emaDecay: return "--ema"
        case .dropout: return "--dropout"
        case .validLimit: return "--valid-limit"
        case .dataDirectory: return "--data-dir"
        }
    }

    /// Whether the command line gives `setting`.
    func gives(_ setting: TrainingOptions.ResumeSetting) -> Bool {
        switch setting {
        case .epochs: return epochsGiven != nil
        case .maxMinutes: return maxMinutes != nil
        case .learningRate: return lr != nil
        case .schedule: return lrDecay != nil
        case .clipNorm: return clip != nil
        case .emaDecay: return ema != nil
        case .dropout: return dropout != nil
        case .validLimit: return validLimit != nil
        case .dataDirectory: return dataDir != nil
        }
    }
    @Option(parsing: .unconditional, help: "Stop after this many minutes (a checkpoint is written; resume later).")
    var maxMinutes: Double?
    @Option(parsing: .unconditional, help: "Use only the first N training images.") var trainLimit: Int?
    @Option(parsing: .unconditional, help: "Use only the first N validation images.") var validLimit: Int?
    @Option(parsing: .unconditional, help: "made: masks averaged when evaluating (default: all).") var evalMasks: Int?
    @Flag(help: "Train on train+valid (a final model; best.ckpt is then the last epoch).")
    var includeValid = false
    @Flag(help: "After training, evaluate the best checkpoint on the test split.") var test = false
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var imageLimit: ImageLimitOptions

    /// Every model flag given: the architecture group's and train's own.
    var modelFlags: ModelFlags {
        get throws { try architecture.shape.flags(masks: masksGiven, ordering: orderingGiven, direct: direct ? true : nil) }
    }

    func validate() throws {
        if let e = epochsGiven, e < 1 { throw ValidationError("--epochs must be at least 1, got \(e)") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number, got \(lr)") }
        if !momentum.isFinite || momentum < 0 { throw ValidationError("--momentum must be a number of at least 0, got \(momentum)") }
        if let clip, !(clip > 0 && clip.isFinite) { throw ValidationError("--clip must be a positive number, got \(clip)") }
        if let m = maxMinutes, !(m > 0 && m.isFinite) { throw ValidationError("--max-minutes must be a positive number, got \(m)") }
        for (name, value) in [("--train-limit", trainLimit), ("--valid-limit", validLimit), ("--eval-masks", evalMasks)] {
            if let value, value < 1 { throw ValidationError("\(name) must be at least 1, got \(value)") }
        }
        if let lrDecay { _ = try parseSchedule(lrDecay) }
        if let ema, !(ema > 0 && ema < 1) { throw ValidationError("--ema must lie strictly between 0 and 1, got \(ema)") }
        if let m = masksGiven, m < 1 { throw ValidationError("--masks must be at least 1, got \(m)") }
        if !(weightDecay >= 0 && weightDecay.isFinite) { throw ValidationError("--weight-decay must be a number of at least 0, got \(weightDecay)") }
        if let dropout, !(dropout >= 0 && dropout < 1) { throw ValidationError("--dropout must lie in [0, 1), got \(dropout)") }
        let model = architecture.model
        if let dropout, dropout > 0, !resume, initFrom == nil, !model.hasDropout {  // else checked against the saved model
            throw ValidationError("--dropout applies to \(ModelKind.withDropout), not \(model.rawValue)")
        }
        if !resume, initFrom == nil { try (try modelFlags).check(for: model) }  // else the run's or checkpoint's model
        if conditional && !model.isConditional {
            throw ValidationError("--conditional is a \(ModelKind.names(where: \.isConditional)) option, not \(model.rawValue)")
        }
        if let initFrom {
            if resume { throw ValidationError("--init-from starts a new run; --resume continues one: give one of them") }
            let shapeGiven = try modelFlags.given.map(\.rawValue)
                + [("--levels", architecture.shape.levels != nil), ("--output", architecture.shape.output != nil),
                   ("--mixtures", architecture.shape.mixtures != nil), ("--conditional", conditional)].filter(\.1).map(\.0)
            if !shapeGiven.isEmpty {
                throw ValidationError("\(shapeGiven.joined(separator: ", ")) cannot change the architecture of \(initFrom); "
                                      + "--init-from takes it from the checkpoint")
            }
        }
    }

    func run() throws {
        try compute.apply()
        imageLimit.apply()
        var options = TrainingOptions()
        options.dataset = data
        options.dataDirectory = dataDir
        options.binarization = binarize ?? .none
        options.batchSize = batchSize
        options.epochs = epochs
        options.learningRate = lr ?? 1e-3
        options.optimizer = optimizer
        options.momentum = momentum
        options.schedule = try parseSchedule(lrDecay ?? "none")
        options.clipNorm = clip
        options.weightDecay = weightDecay
        options.emaDecay = ema
        options.dropout = dropout ?? 0
        options.seed = seed
        options.maxMinutes = maxMinutes
        options.trainLimit = trainLimit
        options.validLimit = validLimit
        options.evalMasks = evalMasks
        options.includeValidation = includeValid
        let warmStart = try initFrom.map { path in
            let ck = try Checkpoint.read(from: path)
            for n in ck.notes { note("note: \(path): \(n)") }
            return ck
        }
        options.outputDirectory = out ?? "runs/\((warmStart?.model.kind ?? architecture.model).rawValue)-\(data)"

        let lastPath = options.outputDirectory + "/last.ckpt"
        let trainer: Trainer
        // One process per run folder: a second one (say, a resume started while the stopped run
        // is still writing its checkpoint) fails at once instead of overwriting last.ckpt.
        var lock: RunLock?
        defer { withExtendedLifetime(lock) {} }
        if resume {
            if FileManager.default.fileExists(atPath: lastPath) { lock = try RunLock(directory: options.outputDirectory) }
            var ck = try Checkpoint.read(from: lastPath)
            for n in ck.notes { note("note: \(lastPath): \(n)") }
            guard ck.training != nil else { throw TrainingError(description: "\(lastPath): has no training state to resume") }
            options.epochs = epochsGiven ?? ck.training!.options.epochs
            let conflicts = conflictsOnResume(ck.model, ck.training!.options)
            if !conflicts.isEmpty {
                throw ValidationError("\(lastPath) cannot continue with \(conflicts.joined(separator: ", ")): --resume keeps "
                    + "the run's model and data (\(Train.changeableOnResume) may change); start a new run with another --out instead")
            }
            let changes = changeOnResume(&ck.training!.options, to: options)
            let m = try ck.makeModel(path: lastPath)
            trainer = try Trainer(model: m, options: options, resume: ck)
            if options.epochs <= ck.training!.epoch {
                throw ValidationError("\(lastPath) has completed \(ck.training!.epoch) epochs already; pass a larger --epochs "
                    + "to train on (it counts all epochs of the run)")
            }
            note("resuming \(lastPath) at epoch \(ck.training!.epoch + 1), step \(ck.training!.stepInEpoch)"
                 + (changes.isEmpty ? "" : " with " + changes.joined(separator: ", ")))
        } else {
            if FileManager.default.fileExists(atPath: lastPath) {
                throw ValidationError("\(lastPath) exists: pass --resume to continue it, or choose another --out")
            }
            let m: any AutoregressiveModel
            if let initFrom, let warmStart {
                m = try warmStartModel(warmStart, path: initFrom, options: &options)
            } else {
                let shape = try imageShape(of: data, dataDirectory: dataDir)
                let modelLevels = architecture.levels(dataLevels: shape.levels, binarized: (binarize ?? .none) != .none)
                try binarizeForBinaryModel(modelLevels: modelLevels, dataLevels: shape.levels, &options)
                if conditional && shape.classes == 0 {
                    throw ValidationError("--conditional needs class labels, and \(data) has none")
                }
                let classes = conditional ? shape.classes : 0
                let config = try architecture.config(height: shape.height, width: shape.width, channels: shape.channels,
                                                     levels: modelLevels, masks: masksGiven, ordering: orderingGiven,
                                                     directConnections: direct ? true : nil, seed: seed, classes: classes)
                m = try makeModel(config)
            }
            lock = try RunLock(directory: options.outputDirectory)
            trainer = try Trainer(model: m, options: options)
        }
        let o = trainer.state.options
        if test, let name = DatasetName(rawValue: o.dataset),
           DatasetCatalog.locate(name: name, split: .test, dataDirectory: o.dataDirectory) == nil {
            throw ValidationError("--test: \(o.dataset) has no test split\(o.dataDirectory.map { " in \($0)" } ?? "") "
                + "(\(DatasetCatalog.fileNames(name: name, split: .test).joined(separator: ", "))); add it or leave --test out")
        }
        try finish(trainer)
    }

    /// The model for --init-from: the checkpoint's architecture and weights, checked against the data.
    func warmStartModel(_ ck: Checkpoint, path: String, options: inout TrainingOptions) throws -> any AutoregressiveModel {
        let model = try ck.makeModel(path: path)
        let c = model.config
        if let given = architecture.modelGiven, given != c.kind {
            throw ValidationError("--model \(architecture.model.rawValue) does not match \(path), a \(c.kind.rawValue) model")
        }
        let shape = try imageShape(of: data, dataDirectory: dataDir)
        if (shape.height, shape.width, shape.channels) != (c.height, c.width, c.channels) {
            throw ValidationError("\(path) models \(c.height)x\(c.width)x\(c.channels) images; \(data) has "
                                  + "\(shape.height)x\(shape.width)x\(shape.channels)")
        }
        try binarizeForBinaryModel(modelLevels: c.levels, dataLevels: shape.levels, &options)
        if c.classes > 0 && shape.classes != c.classes {
            throw ValidationError("\(path) is conditioned on \(c.classes) classes; \(data) has \(shape.classes)")
        }
        note("starting from the weights of \(path) (\(c.kind.rawValue), \(model.parameterCount) parameters)")
        options.initializedFrom = path
        return model
    }

    /// 8-bit data for a binary model is thresholded at 0.5 unless --binarize chose otherwise;
    /// an explicit `--binarize none` there is an error, since a binary model needs binary pixels.
    func binarizeForBinaryModel(modelLevels: Int, dataLevels: Int, _ options: inout TrainingOptions) throws {
        if modelLevels == 2 && dataLevels == 256 && binarize == Binarization.none {
            throw ValidationError("--binarize none: \(data) is 8-bit and the model binary (levels 2); choose --binarize "
                + "fixed or dynamic, or a 256-level model (--levels 256)")
        }
        guard modelLevels == 2 && dataLevels == 256 && binarize == nil else { return }
        options.binarization = .fixed
        note("note: \(data) is 8-bit; binarising it at 0.5 for a binary model (see --binarize)")
    }

    /// Runs `trainer`, then reports the best validation NLL and, with --test, the test NLL.
    func finish(_ trainer: Trainer) throws {
        let state = try trainer.run()
        let o = state.options  // the run's own settings, also when resumed
        if state.bestValidNLL == nil {
            note("no epoch has finished yet, so there is no \(o.outputDirectory)/best.ckpt; --resume continues from last.ckpt")
        }
        if let sig = trainer.stoppedBySignal { throw ExitCode(128 + sig) }
        if let best = state.bestValidNLL {
            print(String(format: "best valid NLL %.2f nats at epoch %d; checkpoints in %@", best, state.bestEpoch ?? 0,
                         o.outputDirectory))
        }
        if test && state.bestValidNLL != nil {
            let (m, _) = try loadModel(o.outputDirectory + "/best.ckpt")
            let data = try loadSplit(o.dataset, split: .test, dataDirectory: o.dataDirectory, for: m,
                                     binarization: o.binarization)
            let r = try Evaluator.evaluate(m, data, masks: m is any MaskEnsemble ? evalMasks ?? m.config.maskCount : nil)
            print(String(format: "test NLL %.2f nats/image, %.4f bits/dim (%d images, %.0f img/s)",
                         r.natsPerImage, r.bitsPerDimension, r.images, r.imagesPerSecond))
        }
    }

    /// The options given on the command line that disagree with the run being resumed, each
    /// with the run's own value ("--model nade (the run's: made)").
    func conflictsOnResume(_ model: ModelConfig, _ saved: TrainingOptions) -> [String] {
        var found: [String] = []
        func check<T: Equatable>(_ name: String, _ given: T?, _ theirs: T) {
            if let given, given != theirs { found.append("\(name) \(given) (the run's: \(theirs))") }
        }
        check("--model", architecture.modelGiven, model.kind)
        check("--levels", architecture.shape.levels, model.levels)
        check(architecture.shape.mixtures != nil ? "--mixtures" : "--output", architecture.shape.givenOutput, model.output)
        // Model flags: the options they give must be the run's own.
        if let flags = try? modelFlags, !flags.given.isEmpty {
            do {
                let given = try flags.options(for: model.kind, base: model.options)
                if !given.isEqual(to: model.options) {
                    found.append(flags.given.map(\.rawValue).joined(separator: ", ") + " (the run's: \(model.options))")
                }
            } catch { found.append("\(error)") }
        }
        if conditional && model.classes == 0 { found.append("--conditional (the run is unconditional)") }
        check("--data", dataGiven?.rawValue, saved.dataset)
        check("--binarize", binarize, saved.binarization)
        check("--batch-size", batchSizeGiven, saved.batchSize)
        check("--optimizer", optimizerGiven, saved.optimizer)
        check("--momentum", momentumGiven, saved.momentum)
        check("--weight-decay", weightDecayGiven, saved.weightDecay)
        check("--seed", seedGiven, saved.seed)
        check("--train-limit", trainLimit, saved.trainLimit ?? Int.max)
        check("--eval-masks", evalMasks, saved.evalMasks ?? model.maskCount)
        if includeValid && !saved.includeValidation { found.append("--include-valid (the run trains on train alone)") }
        return found
    }

    /// Applies the settings given on the command line (`given`, built from it) that may change
    /// when a run resumes; returns a description of each change.
    func changeOnResume(_ saved: inout TrainingOptions, to given: TrainingOptions) -> [String] {
        let before = saved
        let changed = saved.resume(with: given, changing: Set(TrainingOptions.ResumeSetting.allCases.filter(gives)))
        return changed.compactMap { setting in
            switch setting {
            case .epochs, .maxMinutes: return nil  // how far and how long this invocation trains
            case .learningRate: return "lr \(before.learningRate) -> \(saved.learningRate)"
            case .schedule: return "lr decay \(lrDecay!)"
            case .clipNorm: return "clip \(clip!)"
            case .emaDecay:
                return before.emaDecay == nil ? "weight averaging from here on, decay \(ema!)" : "weight-average decay \(ema!)"
            case .dropout: return "dropout \(dropout!)"
            case .validLimit: return "valid limit \(validLimit!)"
            case .dataDirectory: return "data folder \(dataDir!)"
            }
        }
    }
}
