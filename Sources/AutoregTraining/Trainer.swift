import AutoregData
import AutoregModels
import AutoregNN
import AutoregTensor
import Foundation

/// Maximum-likelihood training with minibatches: shuffles each epoch, evaluates the
/// validation NLL after every epoch, keeps `best.ckpt` (lowest validation NLL) and
/// `last.ckpt` (for resuming), and appends one JSON row per evaluation to `metrics.jsonl`.
/// With `emaDecay` set, validation and `best.ckpt` use the Polyak average of the weights
/// (`WeightAverage`); `last.ckpt` keeps the trained weights and the average.
public final class Trainer {
    public let model: any AutoregressiveModel
    public private(set) var state: TrainingState
    let optimizer: any Optimizer
    /// The Polyak average of the weights, when the options ask for one.
    public private(set) var average: WeightAverage?
    let train: ImageDataset
    let valid: ImageDataset
    /// Receives human-readable lines (epoch summaries); progress goes to `progress`.
    public var log: (String) -> Void = { print($0) }
    public var progress = ProgressLine()
    /// The signal that stopped the last `run()` early (see `StopRequest`), or nil.
    public private(set) var stoppedBySignal: Int32?

    var lastPath: String { state.options.outputDirectory + "/last.ckpt" }
    var bestPath: String { state.options.outputDirectory + "/best.ckpt" }
    var metricsPath: String { state.options.outputDirectory + "/metrics.jsonl" }

    /// A new run, or the continuation of `resume` (a checkpoint with training state),
    /// on the data set named in the options.
    public convenience init(model: any AutoregressiveModel, options: TrainingOptions, resume: Checkpoint? = nil) throws {
        let o = resume?.training?.options ?? options
        let levels = model.config.levels
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
    }

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
            // Settings that do not change the data or the model may be changed on resume.
            state.options.epochs = options.epochs
            state.options.maxMinutes = options.maxMinutes
            state.options.outputDirectory = options.outputDirectory
            (model as? MADE)?.applyMask(saved.activeMask)
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
        if resume?.training != nil { try dropMetrics(after: state.epoch) }
        let o = state.options, levels = model.config.levels
        if o.dropout > 0 && !model.config.kind.hasDropout {
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

    /// Runs until `epochs` are complete or the time budget is spent; returns the final state.
    @discardableResult
    public func run() throws -> TrainingState {
        stoppedBySignal = nil
        let o = state.options
        for path in removeStaleTemporaryFiles(in: o.outputDirectory) {
            log("removed \(path), left by a process stopped while writing it")
        }
        let params = model.parameters.map(\.tensor)
        let batchesPerEpoch = train.batches(of: o.batchSize).count
        let started = Date()
        let elapsedBefore = state.elapsedSeconds
        var lastCheckpoint = Date()
        var windowImages = 0, windowStart = Date(), windowLoss = 0.0, windowBatches = 0
        var rate = 0.0
        let outputs = model.config.levels == 2 ? "Bernoulli outputs" : "\(model.config.levels)-way softmax outputs"
        let seen = [Binarization.fixed: " binarised at 0.5", .dynamic: " binarised afresh every batch"][o.binarization] ?? ""
        log("training \(model.config.kind) (\(model.parameterCount) parameters, \(outputs)) on \(o.dataset)\(seen): "
            + "\(train.count) train\(o.includeValidation ? " (train+valid)" : "") / \(valid.count) valid images, "
            + "batch \(o.batchSize), \(o.optimizer) lr \(o.learningRate)" + (o.dropout > 0 ? ", dropout \(o.dropout)" : ""))
        // A signal during data loading: nothing has been done, so nothing needs saving.
        try StopRequest.check(during: "start-up (data loading); nothing was written")

        while state.epoch < o.epochs {
            optimizer.learningRate = o.schedule.rate(base: o.learningRate, epoch: state.epoch)
            var epochRNG = state.shuffleRNG
            let batches = train.batches(of: o.batchSize, order: epochRNG.permutation(train.count))
            while state.stepInEpoch < batchesPerEpoch {
                let batch = o.binarization == .dynamic ? batches.dynamicallyBinarized(state.stepInEpoch, using: &state.noiseRNG)
                                                       : batches[state.stepInEpoch]
                let x = batch.tensor
                // Dropout masks depend on the run's seed and the step alone, so a resumed run
                // draws the same ones.
                let loss = withDropout(rate: o.dropout, seed: o.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(state.step)) {
                    if let conditional = model as? any ConditionalModel, conditional.classes > 0, let labels = batch.labels {
                        return conditional.loss(x, labels: labels)
                    }
                    return model.loss(x)
                }
                guard loss.item.isFinite, Double(loss.item) <= divergenceLimit else {
                    throw diverged("training loss", loss.item, at: "epoch \(state.epoch + 1) step \(state.stepInEpoch + 1)")
                }
                loss.backward()
                if let c = o.clipNorm { clipGradientNorm(params, maxNorm: c) }
                optimizer.step(params)
                if average != nil {
                    average!.update(params, after: state.emaUpdates)
                    state.emaUpdates += 1
                }
                model.zeroGrad()
                (model as? MADE)?.nextMask()

                state.stepInEpoch += 1
                state.step += 1
                state.epochLossSum += Double(loss.item) * Double(batch.count)
                state.epochImages += batch.count
                windowImages += batch.count; windowLoss += Double(loss.item); windowBatches += 1
                let now = Date()
                let w = now.timeIntervalSince(windowStart)
                if w >= 2 {
                    rate = Double(windowImages) / w
                    windowImages = 0; windowStart = now
                }
                let remaining = Double((o.epochs - state.epoch) * batchesPerEpoch - state.stepInEpoch) * Double(o.batchSize)
                progress.update(String(format: "epoch %d/%d  step %d/%d  loss %.2f  %@ img/s  ETA %@",
                                       state.epoch + 1, o.epochs, state.stepInEpoch, batchesPerEpoch,
                                       windowLoss / Double(max(windowBatches, 1)),
                                       rate > 0 ? String(format: "%.0f", rate) : "--",
                                       rate > 0 ? formatDuration(remaining / rate) : "--"))
                if windowBatches >= 50 { windowLoss = 0; windowBatches = 0 }
                state.elapsedSeconds = elapsedBefore + now.timeIntervalSince(started)
                let budgetSpent = o.maxMinutes.map { now.timeIntervalSince(started) >= $0 * 60 } ?? false
                if budgetSpent || StopRequest.signal != nil {
                    progress.finish()
                    try saveLast()
                    stoppedBySignal = budgetSpent ? nil : StopRequest.signal
                    let why = budgetSpent ? "time budget of \(o.maxMinutes!) min reached"
                                          : "stopped by \(StopRequest.name(stoppedBySignal!))"
                    log("\(why) at epoch \(state.epoch + 1) step \(state.stepInEpoch); "
                        + "checkpoint \(lastPath) (rerun with --resume to continue)")
                    return state
                }
                if now.timeIntervalSince(lastCheckpoint) >= o.checkpointMinutes * 60 {
                    try saveLast()
                    lastCheckpoint = now
                }
            }
            progress.finish()
            // Epoch done: evaluate, record, checkpoint. A signal during validation saves the
            // state as it is, the epoch's steps done, so that --resume starts with validation.
            let result: EvaluationResult
            do {
                result = try withEvaluationWeights {
                    try Evaluator.evaluate(model, valid, batchSize: min(o.evalBatchSize, Evaluator.defaultBatchSize(for: model)),
                                           masks: evalMasks)
                }
            } catch let stop as StopRequest.Stopped {
                try saveLast()
                stoppedBySignal = stop.signal
                log("\(stop) after epoch \(state.epoch + 1)'s steps; checkpoint \(lastPath) "
                    + "(rerun with --resume to validate and continue)")
                return state
            }
            guard result.natsPerImage.isFinite, result.natsPerImage <= divergenceLimit else {
                throw diverged("validation NLL", Float(result.natsPerImage), at: "epoch \(state.epoch + 1)")
            }
            state.epoch += 1
            state.stepInEpoch = 0
            state.shuffleRNG = epochRNG
            let trainNLL = state.epochLossSum / Double(max(state.epochImages, 1))
            state.epochLossSum = 0; state.epochImages = 0
            // With validation inside the training data it cannot pick a best epoch: keep the last.
            let improved = o.includeValidation || (state.bestValidNLL.map { result.natsPerImage < Double($0) } ?? true)
            if improved { state.bestValidNLL = Float(result.natsPerImage); state.bestEpoch = state.epoch }
            log(String(format: "epoch %d/%d  train NLL %.2f  valid NLL %.2f nats (%.4f bits/dim)%@  %@ elapsed",
                       state.epoch, o.epochs, trainNLL, result.natsPerImage, result.bitsPerDimension,
                       improved ? "  *best*" : "", formatDuration(state.elapsedSeconds)))
            // Checkpoints first: a metrics row never describes an epoch whose checkpoint was lost.
            try saveLast()
            if improved { try withEvaluationWeights { try Checkpoint(model: model, training: state).write(to: bestPath) } }
            try appendMetrics([
                "epoch": state.epoch, "step": state.step, "train_nll": trainNLL,
                "valid_nll": result.natsPerImage, "valid_bpd": result.bitsPerDimension,
                "learning_rate": Double(optimizer.learningRate), "elapsed_s": state.elapsedSeconds,
                "train_images_per_s": rate,
            ])
            lastCheckpoint = Date()
        }
        return state
    }

    /// A training loss or validation NLL above this many nats per image means the run has
    /// diverged: `divergenceFactor` times what the uniform distribution gives (D ln levels),
    /// which any model beats by predicting 1/levels everywhere.
    var divergenceLimit: Double {
        Trainer.divergenceFactor * Double(model.dimension) * Foundation.log(Double(model.config.levels))
    }
    /// See `divergenceLimit`.
    public static let divergenceFactor = 10.0

    /// The error that stops a diverged run; the checkpoints keep the last good state.
    func diverged(_ what: String, _ value: Float, at when: String) -> TrainingError {
        let kept = FileManager.default.fileExists(atPath: lastPath) ? "\(lastPath) keeps the last good state"
                                                                    : "no checkpoint was written"
        let why = value.isFinite ? String(format: "%.4g nats, more than %.0f× the uniform model's %.1f", value,
                                          Trainer.divergenceFactor, divergenceLimit / Trainer.divergenceFactor)
                                 : "\(value)"
        return TrainingError(description: "the run diverged: \(what) \(why) at \(when); \(kept). "
            + "Try a lower learning rate (--lr) or gradient clipping (--clip), then --resume")
    }

    /// Runs `body` with the weights that are evaluated: the average when there is one.
    func withEvaluationWeights<T>(_ body: () throws -> T) rethrows -> T {
        guard let average else { return try body() }
        return try average.withAveragedWeights(model.parameters.map(\.tensor), body)
    }

    var evalMasks: Int? {
        guard let made = model as? MADE else { return nil }
        return state.options.evalMasks ?? made.config.masks
    }

    func saveLast() throws {
        if let made = model as? MADE { state.activeMask = made.activeMask }
        var saved = optimizer.state
        if let average { saved.slots[WeightAverage.checkpointSlot] = average.values }
        try Checkpoint(model: model, training: state, optimizer: saved).write(to: lastPath)
    }

    /// Removes the rows of `metrics.jsonl` for epochs after `epoch`: a run that resumes from an
    /// earlier checkpoint (the process died after writing a row, or the disk filled) would
    /// otherwise record those epochs twice.
    func dropMetrics(after epoch: Int) throws {
        guard let data = FileManager.default.contents(atPath: metricsPath) else { return }
        let lines = data.split(separator: UInt8(ascii: "\n"))
        let kept = lines.filter { line in
            let row = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
            return ((row?["epoch"] as? Int) ?? 0) <= epoch
        }
        guard kept.count < lines.count else { return }
        try writeAtomically(Data(kept.map { Data($0) + Data("\n".utf8) }.joined()), to: metricsPath)
    }

    func appendMetrics(_ row: [String: Any]) throws {
        let json = try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys])
        let url = URL(fileURLWithPath: metricsPath)
        if !FileManager.default.fileExists(atPath: metricsPath) {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: metricsPath, contents: nil)
        }
        let h = try FileHandle(forWritingTo: url)
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: json + Data("\n".utf8))
    }
}
