import Foundation

/// One status line on the terminal: redrawn in place on a TTY, printed every
/// `interval` seconds otherwise (so logs stay readable).
public final class ProgressLine {
    let isTTY = isatty(STDERR_FILENO) != 0
    let interval: Double
    var lastPrint = Date.distantPast
    var drawn = false

    public init(interval: Double = 10) { self.interval = isatty(STDERR_FILENO) != 0 ? 0.2 : interval }

    /// Shows `text` unless the last update was too recent (or `force`).
    public func update(_ text: String, force: Bool = false) {
        let now = Date()
        guard force || now.timeIntervalSince(lastPrint) >= interval else { return }
        lastPrint = now
        if isTTY {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
            drawn = true
        } else {
            FileHandle.standardError.write(Data((text + "\n").utf8))
        }
    }

    /// Ends the in-place line so the next output starts on a fresh line.
    public func finish() {
        if isTTY && drawn { FileHandle.standardError.write(Data("\n".utf8)) }
        drawn = false
    }
}

/// "1h02m", "4m05s", "12s".
public func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "--" }
    let s = Int(seconds.rounded())
    if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
    if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
    return "\(s)s"
}
