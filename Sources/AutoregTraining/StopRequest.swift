import CKernels
import Foundation

/// Ctrl-C and SIGTERM for long commands: once `catchSignals()` has been called, either
/// signal is recorded instead of killing the process, and the work in progress stops at the
/// next safe point: a training run finishes its minibatch (or its validation batch), writes
/// `last.ckpt` and returns, so that `--resume` continues exactly where it stopped; an
/// evaluation throws `Stopped` between batches. A second signal of the same kind kills the
/// process as usual.
public enum StopRequest {
    /// Records SIGINT and SIGTERM from now on instead of dying on them.
    public static func catchSignals() { ar_stop_install() }

    /// The signal that asked to stop, or nil.
    public static var signal: Int32? {
        let s = ar_stop_requested()
        return s == 0 ? nil : s
    }

    /// Forgets a recorded signal (the handlers stay as they are).
    public static func clear() { ar_stop_clear() }

    /// Throws `Stopped` if a signal asked to stop; `during` says what it interrupts.
    public static func check(during: String) throws {
        if let s = signal { throw Stopped(signal: s, during: during) }
    }

    /// For loops that cannot throw and have nothing to save (sampling): if a signal asked to
    /// stop, prints why to standard error and ends the process at once with 128 + signal,
    /// without running exit handlers while other threads may still be working.
    public static func exitIfRequested(during: String) {
        guard let s = signal else { return }
        FileHandle.standardError.write(Data(("\n" + Stopped(signal: s, during: during).description + "\n").utf8))
        _exit(128 + s)
    }

    /// The error a command stopped by a signal throws; its exit status is 128 + signal.
    public struct Stopped: Error, CustomStringConvertible {
        public let signal: Int32
        /// What the signal interrupted, e.g. "evaluation of mnist/test".
        public let during: String
        public init(signal: Int32, during: String) { self.signal = signal; self.during = during }
        public var description: String { "stopped by \(StopRequest.name(signal)) during \(during)" }
    }

    /// "SIGINT (Ctrl-C)", "SIGTERM", or "signal N".
    public static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT (Ctrl-C)"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(signal)"
        }
    }
}
