import AutoregData
import AutoregModels
import AutoregNN
import AutoregTensor
import Foundation

/// Maximum-likelihood training with minibatches: shuffles each epoch, evaluates the
/// validation NLL after every epoch, keeps `best.ckpt` (lowest validation NLL) and
/// `last.ckpt` (for resuming), and appends one JSON row per evaluation to `metrics.jsonl` (and one per
/// `stepRowInterval` steps, `"kind": "step"`).
/// With `emaDecay` set, validation and `best.ckpt` use the Polyak average of the weights
/// (`WeightAverage`); `last.ckpt` keeps the trained weights and the average.
public final class Trainer {
    public let model: any AutoregressiveModel
    public internal(set) var state: TrainingState
    let optimizer: any Optimizer
    /// The Polyak average of the weights, when the options ask for one.
    public internal(set) var average: WeightAverage?
    let train: ImageDataset
    let valid: ImageDataset
    /// Receives human-readable lines (epoch summaries); progress goes to `progress`.
    public var log: (String) -> Void = { print($0) }
    public var progress = ProgressLine()
    /// Every this many steps (counted over the whole run) a `"kind": "step"` row goes to
    /// `metrics.jsonl` beside the epoch rows; 0: none.
    public var stepRowInterval = 50
    /// The signal that stopped the last `run()` early (see `StopRequest`), or nil.
    public internal(set) var stoppedBySignal: Int32?

    /// A new run, or the continuation of `resume` (a checkpoint with training state),
    /// on the data set named in the options.
    public convenience init(model: any AutoregressiveModel, options: TrainingOptions, resume: Checkpoint? = nil) throws {
        var o = resume?.training?.options ?? options
        let levels = model.config.levels
        // Runs saved before `--binarize none` was refused for a binary model on 8-bit data
        // say `none` and were thresholded at 0.5 all along: they go on so, and say so.
        let recordedAsNone = try levels == 2 && o.binarization == .none
            && dataLevels(of: o.dataset, dataDirectory: o.dataDirectory) != 2
        if recordedAsNone { o.binarization = .fixed }
        let trainLevels = o.binarization == .dynamic ? 256 : levels
        var train = try loadSplit(o.dataset, split: .train, dataDirectory: o.dataDirectory,
                                  levels: trainLevels, limit: o.trainLimit)
        if o.includeValidation {
            train = train.appending(try loadSplit(o.dataset, split: .valid, dataDirectory: o.dataDirectory,
                                                  levels: trainLevels))
        }
        let valid = try loadSplit(o.dataset, split: .valid, dataDirectory: o.dataDirectory, levels: levels,
                                  limit: o.validLimit, binarization: o.binarization)
        try self.init(model: model, options: options, train: train, valid: valid, resume: resume)
        if recordedAsNone {
            state.options.binarization = .fixed
            binarizationNote = "note: the run records --binarize none, but a binary model sees \(o.dataset)'s 8-bit pixels "
                + "thresholded at 0.5, as it always has; the run now records fixed"
        }
    }

    /// Said at the start of `run()`: how an older run's record of its binarisation was corrected.
    var binarizationNote: String?

    /// A run on given data (8-bit `train` data is binarised per batch when the options
    /// ask for dynamic binarisation).
    public init(model: any AutoregressiveModel, options: TrainingOptions, train: ImageDataset,
                valid: ImageDataset, resume: Checkpoint? = nil) throws {
        try options.validate()
        self.model = model
        if let resume, let saved = resume.training {
            try resume.load(into: model, path: options.outputDirectory + "/last.ckpt")
            optimizer = saved.options.makeOptimizer()
            if let opt = resume.optimizer { try optimizer.restore(opt, for: model.parameters.map(\.tensor)) }
            try saved.options.validate()
            state = saved
            // Epochs, time budget and folder come from `options`; the caller makes any other
            // change a resume allows to the checkpoint's options (`TrainingOptions.resume`).
            state.options.resume(with: options)
            (model as? any MaskEnsemble)?.applyMask(saved.activeMask)
        } else {
            optimizer = options.makeOptimizer()
            state = TrainingState(options: options)
        }
        if let decay = state.options.emaDecay {
            let params = model.parameters.map(\.tensor)
            if let saved = resume?.optimizer?.slots[WeightAverage.checkpointSlot] {
                average = try WeightAverage(decay: decay, values: saved, for: params)
            } else {
                average = WeightAverage(decay: decay, startingAt: params)  // also when switched on at a resume
                state.emaUpdates = 0
            }
        }
        self.train = train
        self.valid = valid
        if resume?.training != nil { try dropMetrics(after: state.epoch, step: state.step) }
        let o = state.options, levels = model.config.levels
        if o.dropout > 0 && !(model is any DropoutModel) {
            throw TrainingError(description: "dropout applies to \(ModelKind.withDropout); \(model.config.kind.rawValue) has no dropout layers")
        }
        try Allocator.require(bytes: model.config.estimatedActivationBytes(images: o.batchSize, training: true),
                              for: "a training batch of \(o.batchSize) images")
        if o.binarization == .dynamic && levels != 2 {
            throw TrainingError(description: "dynamic binarisation needs a binary model (levels 2)")
        }
        try checkCompatible(train, with: model, dataLevels: o.binarization == .dynamic ? 256 : levels)
        try checkCompatible(valid, with: model)
    }

    /// Runs until `epochs` are complete, the time budget is spent or a signal asks to stop;
    /// returns the final state. An epoch is its steps (`trainSteps`), validation and its
    /// records (`finishEpoch`); `StopPolicy` says when to stop early and `CheckpointPolicy.swift`
    /// what is written when.
    @discardableResult
    public func run() throws -> TrainingState {
        stoppedBySignal = nil
        removeLeftoverTemporaryFiles()
        var session = RunSession(parameters: model.parameters.map(\.tensor), options: state.options,
                                 elapsedBefore: state.elapsedSeconds)
        logStart()
        // A signal during data loading: nothing has been done, so nothing needs saving.
        try StopRequest.check(during: "start-up (data loading); nothing was written")
        while state.epoch < state.options.epochs {
            if let stop = try runEpoch(&session) {
                try stopEarly(stop)
                return state
            }
        }
        return state
    }

    /// The run's first line: the model, the data as training sees it, the main settings.
    func logStart() {
        let o = state.options
        let outputs = model.config.output.summary
        if let binarizationNote { log(binarizationNote) }
        let seen = [Binarization.fixed: " binarised at 0.5", .dynamic: " binarised afresh every batch"][o.binarization]
            ?? (model.config.levels == 2 ? " (binary pixels, used as they are)" : " (pixels used as they are)")
        log("training \(model.config.kind) (\(model.parameterCount) parameters, \(model.config.levels) output levels per value, "
            + "\(outputs)) on \(o.dataset)\(seen): "
            + "\(train.count) train\(o.includeValidation ? " (train+valid)" : "") / \(valid.count) valid images, "
            + "batch \(o.batchSize), \(o.optimizer) lr \(o.learningRate)" + (o.dropout > 0 ? ", dropout \(o.dropout)" : ""))
    }

    /// Runs `body` with the weights that are evaluated: the average when there is one.
    func withEvaluationWeights<T>(_ body: () throws -> T) rethrows -> T {
        guard let average else { return try body() }
        return try average.withAveragedWeights(model.parameters.map(\.tensor), body)
    }

    var evalMasks: Int? {
        guard model is any MaskEnsemble else { return nil }
        return state.options.evalMasks ?? model.config.maskCount
    }
}
