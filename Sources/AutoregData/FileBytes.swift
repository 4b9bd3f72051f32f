import CZlib
import Foundation

/// Reads a whole file, transparently decompressing it when it is gzip-compressed.
///
/// zlib's `gzread` passes uncompressed files through unchanged, so the same call serves
/// `train-images-idx3-ubyte` and `train-images-idx3-ubyte.gz`. A gzip stream that ends early
/// or fails its checksum is reported as ``DataError/corruptCompression(path:reason:)``.
public func readPossiblyCompressedFile(_ path: String) throws -> [UInt8] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
        throw DataError.missingFile(path: path)
    }
    guard let file = gzopen(path, "rb") else {
        throw DataError.unreadable(path: path, reason: String(cString: strerror(errno)))
    }
    defer { gzclose_r(file) }
    gzbuffer(file, 1 << 18)

    let chunkSize = 1 << 20
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: chunkSize)
    while true {
        let got = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32(chunkSize)) }
        if got < 0 { throw gzipFailure(file, path: path) }
        if got == 0 { break }
        bytes.append(contentsOf: chunk[0..<Int(got)])
    }
    // gzread returns 0 (not -1) when the stream stops short, so look at the error state too.
    var code: Int32 = Z_OK
    _ = gzerror(file, &code)
    if code != Z_OK { throw gzipFailure(file, path: path) }
    return bytes
}

private func gzipFailure(_ file: gzFile, path: String) -> DataError {
    var code: Int32 = Z_OK
    let message = gzerror(file, &code).map { String(cString: $0) } ?? "unknown zlib error"
    if code == Z_ERRNO {
        return .unreadable(path: path, reason: String(cString: strerror(errno)))
    }
    return .corruptCompression(path: path, reason: message)
}
