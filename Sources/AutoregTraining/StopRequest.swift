import CKernels

/// Ctrl-C and SIGTERM for training runs: once `catchSignals()` has been called, either
/// signal makes a running `Trainer` finish its minibatch, write `last.ckpt` and return,
/// so that `--resume` continues exactly where it stopped. A second signal of the same
/// kind kills the process as usual.
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
}
