import Foundation

/// Why a run stops before its epochs are done. (A run that diverges throws instead; see
/// `guardAgainstDivergence`.)
enum EarlyStop {
    /// After a step: this invocation's time budget (`maxMinutes`) is spent.
    case timeBudget(minutes: Double)
    /// After a step: a caught signal asks to stop (`StopRequest`).
    case signal(Int32)
    /// A signal stopped validation, after the epoch's last step.
    case duringValidation(StopRequest.Stopped)
}

/// When a run stops after a step: once this invocation's time budget is spent, or a caught
/// signal asks to (the budget is checked first).
struct StopPolicy {
    /// When this invocation started training.
    let started: Date
    let maxMinutes: Double?

    /// Why to stop after a step that ended `now`, or nil to go on.
    func reason(at now: Date) -> EarlyStop? {
        if let m = maxMinutes, now.timeIntervalSince(started) >= m * 60 { return .timeBudget(minutes: m) }
        return StopRequest.signal.map { .signal($0) }
    }
}

extension Trainer {
    /// Ends the run early: writes `last.ckpt` as the state is, records the signal, if any,
    /// and says how to continue.
    func stopEarly(_ stop: EarlyStop) throws {
        try saveLast()
        let at = "at epoch \(state.epoch + 1) step \(state.stepInEpoch); checkpoint \(lastPath) (rerun with --resume to continue)"
        switch stop {
        case let .timeBudget(minutes):
            stoppedBySignal = nil
            log("time budget of \(minutes) min reached \(at)")
        case let .signal(signal):
            stoppedBySignal = signal
            log("stopped by \(StopRequest.name(signal)) \(at)")
        case let .duringValidation(stopped):
            stoppedBySignal = stopped.signal
            log("\(stopped) after epoch \(state.epoch + 1)'s steps; checkpoint \(lastPath) "
                + "(rerun with --resume to validate and continue)")
        }
    }

    /// A training loss or validation NLL above this many nats per image means the run has
    /// diverged: `divergenceFactor` times what the uniform distribution gives (D ln levels),
    /// which any model beats by predicting 1/levels everywhere.
    var divergenceLimit: Double {
        Trainer.divergenceFactor * Double(model.dimension) * Foundation.log(Double(model.config.levels))
    }
    /// See `divergenceLimit`.
    public static let divergenceFactor = 10.0

    /// Throws `diverged` when `value` (nats per image) is not finite or above `divergenceLimit`.
    func guardAgainstDivergence(_ what: String, _ value: Double, at when: @autoclosure () -> String) throws {
        guard value.isFinite, value <= divergenceLimit else { throw diverged(what, Float(value), at: when()) }
    }

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
}
