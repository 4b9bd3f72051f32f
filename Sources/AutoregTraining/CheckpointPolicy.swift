import AutoregModels
import Foundation

/// When `last.ckpt` is written in the middle of an epoch: once `checkpointMinutes` have
/// passed since the last checkpoint (or the start of the invocation).
struct CheckpointTimer {
    let interval: TimeInterval
    var last = Date()

    init(minutes: Double) { interval = minutes * 60 }

    func isDue(at now: Date) -> Bool { now.timeIntervalSince(last) >= interval }
    mutating func written(at now: Date) { last = now }
}

/// What a run writes, when: `last.ckpt` (the whole state, for `--resume`) after a step once
/// `CheckpointTimer` says so, at every early stop and at the end of every epoch; `best.ckpt`
/// (the evaluated weights) at the end of an epoch with a better validation NLL; then that
/// epoch's row of `metrics.jsonl`. Checkpoints are written atomically (`Checkpoint.write`),
/// and before the metrics row, so a row never describes an epoch whose checkpoint was lost.
extension Trainer {
    var lastPath: String { state.options.outputDirectory + "/last.ckpt" }
    var bestPath: String { state.options.outputDirectory + "/best.ckpt" }
    var metricsPath: String { state.options.outputDirectory + "/metrics.jsonl" }

    /// Removes the `*.ckpt.tmp` files a process killed while writing left behind.
    func removeLeftoverTemporaryFiles() {
        for path in removeStaleTemporaryFiles(in: state.options.outputDirectory) {
            log("removed \(path), left by a process stopped while writing it")
        }
    }

    func saveLast() throws {
        if let ensemble = model as? any MaskEnsemble { state.activeMask = ensemble.activeMask }
        var saved = optimizer.state
        if let average { saved.slots[WeightAverage.checkpointSlot] = average.values }
        try Checkpoint(model: model, training: state, optimizer: saved).write(to: lastPath)
    }

    /// Writes `last.ckpt` after a step that ended `now` if `timer` says it is time.
    func saveLastIfDue(at now: Date, _ timer: inout CheckpointTimer) throws {
        guard timer.isDue(at: now) else { return }
        try saveLast()
        timer.written(at: now)
    }

    /// The records of an epoch just finished: `last.ckpt`, `best.ckpt` if it `improved`, then
    /// its metrics row.
    func saveEpoch(_ result: EvaluationResult, trainNLL: Double, improved: Bool, rate: Double) throws {
        try saveLast()
        if improved { try withEvaluationWeights { try Checkpoint(model: model, training: state).write(to: bestPath) } }
        try appendMetrics([
            "epoch": state.epoch, "step": state.step, "train_nll": trainNLL,
            "valid_nll": result.natsPerImage, "valid_bpd": result.bitsPerDimension,
            "learning_rate": Double(optimizer.learningRate), "elapsed_s": state.elapsedSeconds,
            "train_images_per_s": rate,
        ])
    }

    /// A per-step row of `metrics.jsonl` (`"kind": "step"`, no `epoch` key, so that readers of
    /// the epoch rows can tell them apart): the mean training loss (nats per image) and the
    /// images per second of the steps since the previous such row, the learning rate and the
    /// epochs done so far.
    func appendStepRow(_ session: inout RunSession, batchesPerEpoch: Int) throws {
        let now = Date()
        let loss = session.rowLossSum / Double(max(session.rowImages, 1))
        let rate = Double(session.rowImages) / max(now.timeIntervalSince(session.rowStart), 1e-9)
        session.rowLossSum = 0; session.rowImages = 0; session.rowStart = now
        try appendMetrics([
            "kind": "step", "step": state.step,
            "epochs": Double(state.epoch) + Double(state.stepInEpoch) / Double(max(batchesPerEpoch, 1)),
            "train_loss": loss, "learning_rate": Double(optimizer.learningRate), "elapsed_s": state.elapsedSeconds,
            "train_images_per_s": rate,
        ])
    }

    /// Removes the rows of `metrics.jsonl` for epochs after `epoch` and per-step rows after
    /// `step`: a run that resumes from an earlier checkpoint (the process died after writing a
    /// row, or the disk filled) would otherwise record those epochs and steps twice.
    func dropMetrics(after epoch: Int, step: Int) throws {
        guard let data = FileManager.default.contents(atPath: metricsPath) else { return }
        let lines = data.split(separator: UInt8(ascii: "\n"))
        let kept = lines.filter { line in
            let row = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
            if row?["kind"] as? String == "step" { return ((row?["step"] as? Int) ?? 0) <= step }
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
