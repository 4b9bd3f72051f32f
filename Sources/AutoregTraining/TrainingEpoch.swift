import AutoregData
import AutoregTensor
import Foundation

/// What one call of `Trainer.run()` carries from step to step and epoch to epoch.
struct RunSession {
    /// The model's parameters, in the order the optimizer and the weight average keep them.
    let parameters: [Tensor]
    var stops: StopPolicy
    var checkpoints: CheckpointTimer
    var throughput = Throughput()
    /// Loss, images and the time since the last per-step metrics row (or the start).
    var rowLossSum = 0.0, rowImages = 0, rowStart = Date()
    /// Training time of the earlier invocations of the run.
    let elapsedBefore: Double

    init(parameters: [Tensor], options: TrainingOptions, elapsedBefore: Double) {
        self.parameters = parameters
        stops = StopPolicy(started: Date(), maxMinutes: options.maxMinutes)
        checkpoints = CheckpointTimer(minutes: options.checkpointMinutes)
        self.elapsedBefore = elapsedBefore
    }

    /// Training time of the whole run at `now`.
    func elapsed(at now: Date) -> Double { elapsedBefore + now.timeIntervalSince(stops.started) }
}

/// The progress line's figures: images per second over windows of at least 2 s, and the
/// mean loss over windows of up to 50 batches.
struct Throughput {
    var windowImages = 0, windowStart = Date(), windowLoss = 0.0, windowBatches = 0
    /// Images per second in the last full window (0 before the first).
    private(set) var rate = 0.0

    /// Counts a step of `images` images that ended `now`; returns the mean loss of the window
    /// that includes it.
    mutating func add(images: Int, loss: Float, at now: Date) -> Double {
        windowImages += images; windowLoss += Double(loss); windowBatches += 1
        let w = now.timeIntervalSince(windowStart)
        if w >= 2 {
            rate = Double(windowImages) / w
            windowImages = 0; windowStart = now
        }
        let meanLoss = windowLoss / Double(max(windowBatches, 1))
        if windowBatches >= 50 { windowLoss = 0; windowBatches = 0 }
        return meanLoss
    }
}

extension Trainer {
    /// One epoch, or what is left of it: its steps, validation, and its checkpoints and
    /// metrics row. Returns why it stopped early, if it did.
    func runEpoch(_ session: inout RunSession) throws -> EarlyStop? {
        let o = state.options
        optimizer.learningRate = o.schedule.rate(base: o.learningRate, epoch: state.epoch)
        // The epoch's order; the generator is saved as it was at the epoch's start until the
        // epoch ends, so that a resumed run draws the same order.
        var epochRNG = state.shuffleRNG
        let batches = train.batches(of: o.batchSize, order: epochRNG.permutation(train.count))
        if let stop = try trainSteps(batches, &session) { return stop }
        // A signal during validation saves the state as it is, the epoch's steps done, so that
        // --resume starts with validation.
        let result: EvaluationResult
        do {
            result = try validate()
        } catch let stop as StopRequest.Stopped {
            return .duringValidation(stop)
        }
        try guardAgainstDivergence("validation NLL", result.natsPerImage, at: "epoch \(state.epoch + 1)")
        try finishEpoch(result, shuffleRNG: epochRNG, rate: session.throughput.rate)
        session.checkpoints.written(at: Date())
        return nil
    }

    /// The steps left in the epoch, one per batch of `batches`, each followed by the stop
    /// policy and the mid-epoch checkpoint. Returns why they stopped early, if they did.
    func trainSteps(_ batches: Batches, _ session: inout RunSession) throws -> EarlyStop? {
        while state.stepInEpoch < batches.count {
            let batch = trainingBatch(state.stepInEpoch, of: batches)
            let loss = try step(batch, session.parameters)
            let now = Date()
            let meanLoss = session.throughput.add(images: batch.count, loss: loss, at: now)
            showProgress(batchesPerEpoch: batches.count, meanLoss: meanLoss, rate: session.throughput.rate)
            state.elapsedSeconds = session.elapsed(at: now)
            session.rowLossSum += Double(loss) * Double(batch.count); session.rowImages += batch.count
            if stepRowInterval > 0 && state.step % stepRowInterval == 0 {
                try appendStepRow(&session, batchesPerEpoch: batches.count)
            }
            if let stop = session.stops.reason(at: now) {
                progress.finish()
                return stop
            }
            try saveLastIfDue(at: now, &session.checkpoints)
        }
        progress.finish()
        return nil
    }

    func showProgress(batchesPerEpoch: Int, meanLoss: Double, rate: Double) {
        let o = state.options
        let remaining = Double((o.epochs - state.epoch) * batchesPerEpoch - state.stepInEpoch) * Double(o.batchSize)
        progress.update(String(format: "epoch %d/%d  step %d/%d  loss %.2f  %@ img/s  ETA %@",
                               state.epoch + 1, o.epochs, state.stepInEpoch, batchesPerEpoch, meanLoss,
                               rate > 0 ? String(format: "%.0f", rate) : "--",
                               rate > 0 ? formatDuration(remaining / rate) : "--"))
    }

    /// The validation NLL with the evaluated weights; throws `StopRequest.Stopped` between
    /// batches once a signal asks to stop.
    func validate() throws -> EvaluationResult {
        let o = state.options
        return try withEvaluationWeights {
            try Evaluator.evaluate(model, valid, batchSize: min(o.evalBatchSize, Evaluator.defaultBatchSize(for: model)),
                                   masks: evalMasks)
        }
    }

    /// Closes the epoch on its validation result: counts it, keeps the order generator that
    /// drew it, notes whether it is the best so far, logs it and writes its records.
    func finishEpoch(_ result: EvaluationResult, shuffleRNG: RandomGenerator, rate: Double) throws {
        let o = state.options
        state.epoch += 1
        state.stepInEpoch = 0
        state.shuffleRNG = shuffleRNG
        let trainNLL = state.epochLossSum / Double(max(state.epochImages, 1))
        state.epochLossSum = 0; state.epochImages = 0
        // With validation inside the training data it cannot pick a best epoch: keep the last.
        let improved = o.includeValidation || (state.bestValidNLL.map { result.natsPerImage < Double($0) } ?? true)
        if improved { state.bestValidNLL = Float(result.natsPerImage); state.bestEpoch = state.epoch }
        log(String(format: "epoch %d/%d  train NLL %.2f  valid NLL %.2f nats (%.4f bits/dim)%@  %@ elapsed",
                   state.epoch, o.epochs, trainNLL, result.natsPerImage, result.bitsPerDimension,
                   improved ? "  *best*" : "", formatDuration(state.elapsedSeconds)))
        try saveEpoch(result, trainNLL: trainNLL, improved: improved, rate: rate)
    }
}
