import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on a run's output folder, so that two training processes never write the
/// same `last.ckpt` (for instance a `--resume` started before the stopped run has finished
/// writing its checkpoint). The lock is the `flock` of `OUT/.lock`; it goes with the process.
public final class RunLock {
    private let descriptor: Int32
    public let path: String

    /// Takes the lock of `directory` (created if missing), or throws at once if another
    /// process holds it.
    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = directory + "/.lock"
        descriptor = open(path, O_RDWR | O_CREAT, 0o644)
        guard descriptor >= 0 else {
            throw TrainingError(description: "\(path): cannot open the run's lock file (\(String(cString: strerror(errno))))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(descriptor)
            throw TrainingError(description: "\(directory) is in use by another training process"
                + (holder.map { $0.isEmpty ? "" : " (pid \($0))" } ?? "") + "; wait for it to stop, or choose another --out")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
