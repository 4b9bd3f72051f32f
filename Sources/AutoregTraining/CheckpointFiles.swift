import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file opened for reading a known number of bytes: opening never blocks (a FIFO
/// or device is refused, not waited on), and reads never go past the size `fstat` reported.
struct BoundedFile {
    let descriptor: Int32
    let size: Int
    let path: String
    let fail: (String) -> CheckpointError

    init(path: String, fail: @escaping (String) -> CheckpointError) throws {
        self.path = path
        self.fail = fail
        // O_NONBLOCK: opening a FIFO without a writer would otherwise wait forever.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw fail("no such file") }
            throw fail("cannot open (\(String(cString: strerror(code))))")
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let why = String(cString: strerror(errno))
            _ = Glibc.close(fd)
            throw fail("cannot stat (\(why))")
        }
        let type = st.st_mode & S_IFMT
        guard type == S_IFREG else {
            _ = Glibc.close(fd)
            let kind = type == S_IFDIR ? "a directory" : type == S_IFIFO ? "a FIFO" : type == S_IFCHR ? "a character device"
                : type == S_IFSOCK ? "a socket" : type == S_IFBLK ? "a block device" : "not a plain file"
            throw fail("is \(kind), not a regular file")
        }
        guard let size = Int(exactly: st.st_size), size >= 0 else {
            _ = Glibc.close(fd)
            throw fail("has an invalid size \(st.st_size)")
        }
        descriptor = fd
        self.size = size
    }

    /// Exactly `count` bytes from `offset`; throws if the file ends first (it shrank) or
    /// the range lies beyond the size seen at opening.
    func read(count: Int, at offset: Int) throws -> [UInt8] {
        guard count >= 0, offset >= 0, offset <= size, count <= size - offset else {
            throw fail("truncated: cannot read \(count) bytes at offset \(offset) of a \(size)-byte file")
        }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { raw in
                pread(descriptor, raw.baseAddress! + done, count - done, off_t(offset + done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("read failed (\(String(cString: strerror(errno))))")
            }
            if n == 0 { throw fail("truncated: the file shrank while it was read") }
            done += n
        }
        return bytes
    }

    func close() { _ = Glibc.close(descriptor) }
}

/// Removes the `*.ckpt.tmp` files in `directory` (not below it) that a writer killed in the
/// middle of `writeAtomically` left behind; returns the paths removed. Call it only while
/// no other process can be writing there (a training run calls it holding the `RunLock`).
@discardableResult
public func removeStaleTemporaryFiles(in directory: String) -> [String] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
    var removed: [String] = []
    for name in names.sorted() where name.hasSuffix(".ckpt.tmp") {
        let path = directory + "/" + name
        var st = stat()
        // lstat: a symbolic link named like a temporary file is left alone, as is anything not a plain file.
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
        if unlink(path) == 0 { removed.append(path) }
    }
    return removed
}

/// Writes `data` to a temporary file beside `path` (`path + ".tmp"`), fsyncs it, then renames it
/// over `path`. A process killed before the rename leaves the temporary file; see
/// `removeStaleTemporaryFiles(in:)`.
public func writeAtomically(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let dir = url.deletingLastPathComponent().path
    try FileManager.default.createDirectory(atPath: dir.isEmpty ? "." : dir, withIntermediateDirectories: true)
    let tmp = path + ".tmp"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw CheckpointError(path: tmp, reason: "cannot create (\(String(cString: strerror(errno))))") }
    var ok = true
    data.withUnsafeBytes { raw in
        var done = 0
        while done < raw.count {
            let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
            if n <= 0 { ok = false; break }
            done += n
        }
    }
    ok = ok && fsync(fd) == 0
    close(fd)
    guard ok else {
        unlink(tmp)
        throw CheckpointError(path: tmp, reason: "write failed (\(String(cString: strerror(errno))))")
    }
    guard rename(tmp, path) == 0 else {
        let why = String(cString: strerror(errno))
        unlink(tmp)
        throw CheckpointError(path: path, reason: "rename failed (\(why))")
    }
    let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY)
    if dfd >= 0 { fsync(dfd); close(dfd) }
}
