import CZlib
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The most bytes ``readPossiblyCompressedFile(_:maxBytes:limitReason:)`` accepts when the
/// caller names no smaller limit (after decompression): 2 GiB.
public let defaultMaxDataFileBytes = 1 << 31

/// Reads a whole file, transparently decompressing it when it is gzip-compressed, and stops
/// as soon as the data goes past `maxBytes` (counted after decompression).
///
/// zlib's `gzread` passes uncompressed files through unchanged, so the same call serves
/// `train-images-idx3-ubyte` and `train-images-idx3-ubyte.gz`. A gzip stream that ends early
/// or fails its checksum is reported as ``DataError/corruptCompression(path:reason:)``; a path
/// that is not a regular file (a FIFO, a device, a socket) as ``DataError/unusable(path:reason:)``
/// before anything is read from it; data longer than `maxBytes` as
/// ``DataError/tooLarge(path:limitBytes:detail:)`` after reading `maxBytes + 1` bytes.
/// Memory grows with the data actually read, never beyond `maxBytes`.
public func readPossiblyCompressedFile(_ path: String, maxBytes: Int = defaultMaxDataFileBytes,
                                       limitReason: String = "the most a data file may hold") throws -> [UInt8] {
    var source = try GzipFileSource(path: path)
    return try readBounded(&source, path: path, maxBytes: maxBytes, limitReason: limitReason)
}

/// The in-memory twin of ``readPossiblyCompressedFile(_:maxBytes:limitReason:)``: inflates
/// `bytes` when they start with the gzip magic number (concatenated gzip members included,
/// like `gzread`), otherwise returns them unchanged; stops past `maxBytes`. `path` only
/// labels errors.
public func decompressPossiblyCompressed(_ bytes: [UInt8], maxBytes: Int, path: String = "<memory>",
                                         limitReason: String = "the most the caller accepts") throws -> [UInt8] {
    var source = MemorySource(bytes, path: path)
    return try readBounded(&source, path: path, maxBytes: maxBytes, limitReason: limitReason)
}

private func readBounded<S: ByteSource>(_ source: inout S, path: String, maxBytes: Int, limitReason: String) throws -> [UInt8] {
    precondition(maxBytes >= 0, "maxBytes must not be negative")
    var bytes: [UInt8] = []
    try fill(&source, into: &bytes, upTo: maxBytes)
    if bytes.count == maxBytes, try hasMore(&source) {
        throw DataError.tooLarge(path: path, limitBytes: maxBytes, detail: limitReason)
    }
    return bytes
}

// MARK: - Byte sources

/// Decompressed bytes, read in pieces.
protocol ByteSource {
    /// Reads at most `buffer.count` bytes into `buffer`; returns 0 only at the end of the data.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Reads from `source` until `bytes` holds `total` bytes or the data ends. Reads go through a
/// scratch buffer that starts at 64 KiB and grows with the data up to 1 MiB; the array's
/// capacity at most doubles at a time and never exceeds `total`.
func fill<S: ByteSource>(_ source: inout S, into bytes: inout [UInt8], upTo total: Int) throws {
    var scratch = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    defer { scratch.deallocate() }
    while bytes.count < total {
        let start = bytes.count
        let wanted = min(total - start, max(1 << 16, min(start, 1 << 20)))
        if wanted > scratch.count {
            scratch.deallocate()
            scratch = .allocate(byteCount: wanted, alignment: 16)
        }
        let got = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<wanted]))
        if got == 0 { return }
        if start + got > bytes.capacity {
            bytes.reserveCapacity(min(total, max(2 * bytes.capacity, start + got)))
        }
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<got]).bindMemory(to: UInt8.self))
    }
}

/// Whether at least one more byte follows; consumes it.
func hasMore<S: ByteSource>(_ source: inout S) throws -> Bool {
    var probe: UInt8 = 0
    return try withUnsafeMutableBytes(of: &probe) { try source.read(into: $0) } > 0
}

/// A file opened through zlib's gz* interface (plain files pass through unchanged).
struct GzipFileSource: ByteSource {
    private final class Handle {
        let file: gzFile
        init(_ file: gzFile) { self.file = file }
        deinit { gzclose_r(file) }
    }

    private let handle: Handle
    let path: String

    /// Opens `path` after checking that it is a regular file (symbolic links to one are fine).
    ///
    /// The file is opened non-blocking and checked with `fstat` on the open descriptor, so a
    /// FIFO neither blocks the open nor slips in between a check and the open.
    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw DataError.missingFile(path: path) }
            throw DataError.unreadable(path: path, reason: String(cString: strerror(code)))
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw DataError.unreadable(path: path, reason: String(cString: strerror(code)))
        }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG else {
            close(fd)
            if kind == S_IFDIR { throw DataError.missingFile(path: path) }
            throw DataError.unusable(path: path, reason: "is not a regular file (\(fileKindName(kind)))")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        guard let file = gzdopen(fd, "rb") else {
            let code = errno
            close(fd)
            throw DataError.unreadable(path: path, reason: String(cString: strerror(code)))
        }
        gzbuffer(file, 1 << 18)
        handle = Handle(file)
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        let got = gzread(handle.file, base, UInt32(min(buffer.count, Int(Int32.max))))
        if got < 0 { throw gzipFailure(handle.file, path: path) }
        if got == 0 {
            // gzread returns 0 (not -1) when the stream stops short, so look at the error state too.
            var code: Int32 = Z_OK
            _ = gzerror(handle.file, &code)
            if code != Z_OK { throw gzipFailure(handle.file, path: path) }
        }
        return Int(got)
    }
}

/// Bytes in memory: passed through, or inflated when they start with the gzip magic number.
struct MemorySource: ByteSource {
    private final class Inflater {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        let input: UnsafeMutableBufferPointer<UInt8>
        var finished = false
        let ready: Bool

        init(_ bytes: [UInt8]) {
            input = .allocate(capacity: bytes.count)
            _ = input.initialize(from: bytes)
            stream.initialize(to: z_stream())
            stream.pointee.next_in = input.baseAddress
            stream.pointee.avail_in = 0
            // 15 + 16: a gzip wrapper around a deflate stream with a 32 KiB window.
            ready = inflateInit2_(stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK
        }

        deinit {
            if ready { inflateEnd(stream) }
            stream.deinitialize(count: 1)
            stream.deallocate()
            input.deallocate()
        }
    }

    private let bytes: [UInt8]
    private var offset = 0
    private let inflater: Inflater?
    let path: String

    init(_ bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
        inflater = bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B ? Inflater(bytes) : nil
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        guard let inflater else {
            let n = min(buffer.count, bytes.count - offset)
            bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<offset + n])) }
            offset += n
            return n
        }
        guard inflater.ready else {
            throw DataError.corruptCompression(path: path, reason: "zlib could not start inflating")
        }
        let stream = inflater.stream
        let capacity = min(buffer.count, Int(UInt32.max))
        var produced = 0
        while produced == 0 && !inflater.finished {
            // Hand zlib the input in pieces that fit its 32-bit counters.
            if stream.pointee.avail_in == 0 && offset < inflater.input.count {
                let piece = min(inflater.input.count - offset, Int(UInt32.max))
                stream.pointee.next_in = inflater.input.baseAddress! + offset
                stream.pointee.avail_in = UInt32(piece)
                offset += piece
            }
            stream.pointee.next_out = base.assumingMemoryBound(to: UInt8.self)
            stream.pointee.avail_out = UInt32(capacity)
            let status = CZlib.inflate(stream, Z_NO_FLUSH)
            produced = capacity - Int(stream.pointee.avail_out)
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                // Another gzip member may follow, as in `cat a.gz b.gz`; anything else is
                // ignored, as gzread ignores trailing garbage.
                let remaining = Int(stream.pointee.avail_in) + (inflater.input.count - offset)
                if remaining >= 2, nextInputByte(0) == 0x1F, nextInputByte(1) == 0x8B {
                    inflateReset(stream)
                } else {
                    inflater.finished = true
                }
            case Z_BUF_ERROR where stream.pointee.avail_in == 0 && offset < inflater.input.count:
                continue  // the next piece of input goes in at the top of the loop
            case Z_BUF_ERROR:
                throw DataError.corruptCompression(path: path, reason: "unexpected end of file")
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw DataError.corruptCompression(path: path, reason: message)
            }
        }
        return produced
    }

    /// The `k`-th input byte zlib has not consumed yet.
    private func nextInputByte(_ k: Int) -> UInt8 {
        let stream = inflater!.stream
        if k < Int(stream.pointee.avail_in) { return stream.pointee.next_in[k] }
        return inflater!.input[offset + k - Int(stream.pointee.avail_in)]
    }
}

/// `1 GiB`, `64 MiB`, `4096 bytes`: a byte count for messages, exact when it is a whole number of units.
func readableByteCount(_ count: Int) -> String {
    for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] where count >= 1 << shift && count % (1 << shift) == 0 {
        return "\(count >> shift) \(unit)"
    }
    return "\(count) bytes"
}

private func fileKindName(_ kind: mode_t) -> String {
    switch kind {
    case S_IFIFO: return "a FIFO"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    case S_IFSOCK: return "a socket"
    default: return "file type \(String(kind, radix: 8))"
    }
}

private func gzipFailure(_ file: gzFile, path: String) -> DataError {
    var code: Int32 = Z_OK
    let message = gzerror(file, &code).map { String(cString: $0) } ?? "unknown zlib error"
    if code == Z_ERRNO {
        return .unreadable(path: path, reason: String(cString: strerror(errno)))
    }
    return .corruptCompression(path: path, reason: message)
}
