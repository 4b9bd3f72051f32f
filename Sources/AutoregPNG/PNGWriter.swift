import CZlib
import Foundation

extension PNG {
    /// Encodes an 8-bit image (1 grey, 2 grey+alpha, 3 RGB or 4 RGBA channels) as PNG bytes.
    ///
    /// `filter` fixes the scanline filter of every row; nil picks, per row, the filter whose
    /// output has the smallest sum of absolute (signed) bytes, the usual compression heuristic.
    public static func encode(_ image: RasterImage, filter: PNGFilter? = nil) throws -> [UInt8] {
        guard image.width > 0, image.height > 0 else {
            throw ImagingError.invalidImage(path: "<memory>", detail: "empty image \(image.width)x\(image.height)")
        }
        let raw = filteredScanlines(image, filter: filter)
        var compressed = [UInt8](repeating: 0, count: Int(compressBound(UInt(raw.count))))
        var compressedSize = UInt(compressed.count)
        let status = compress2(&compressed, &compressedSize, raw, UInt(raw.count), 9)
        guard status == Z_OK else {
            throw ImagingError.invalidImage(path: "<memory>", detail: "zlib compress2 failed with code \(status)")
        }

        var header: [UInt8] = []
        header.appendBigEndian(UInt32(image.width))
        header.appendBigEndian(UInt32(image.height))
        header += [8, colorType(channels: image.channels), 0, 0, 0]

        var file = signature
        appendChunk("IHDR", header, to: &file)
        let maxChunk = 1 << 20
        for start in stride(from: 0, to: Int(compressedSize), by: maxChunk) {
            appendChunk("IDAT", Array(compressed[start..<min(start + maxChunk, Int(compressedSize))]), to: &file)
        }
        appendChunk("IEND", [], to: &file)
        return file
    }

    /// Writes `image` as a PNG file, atomically: to `path.tmp`, flushed with fsync, then renamed.
    public static func write(_ image: RasterImage, to path: String, filter: PNGFilter? = nil) throws {
        let bytes: [UInt8]
        do {
            bytes = try encode(image, filter: filter)
        } catch let ImagingError.invalidImage(_, detail) {
            throw ImagingError.invalidImage(path: path, detail: detail)
        }
        try writeAtomically(bytes, to: path)
    }

    /// Writes `bytes` to `path.tmp`, fsyncs it and renames it to `path`.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp"
        guard let file = fopen(temporary, "wb") else { throw ioError(path, "cannot create \(temporary)") }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        var failure: ImagingError?
        if written != bytes.count || fflush(file) != 0 || fsync(fileno(file)) != 0 {
            failure = ioError(path, "cannot write \(temporary)")
        }
        if fclose(file) != 0, failure == nil {
            failure = ioError(path, "cannot close \(temporary)")
        }
        if failure == nil, rename(temporary, path) != 0 {
            failure = ioError(path, "cannot rename \(temporary) to \(path)")
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
    }

    /// Each scanline prefixed by its filter-type byte, as the IDAT stream expects.
    private static func filteredScanlines(_ image: RasterImage, filter: PNGFilter?) -> [UInt8] {
        let rowBytes = image.width * image.channels
        var out = [UInt8](repeating: 0, count: image.height * (rowBytes + 1))
        var candidate = [UInt8](repeating: 0, count: rowBytes)
        let zeros = [UInt8](repeating: 0, count: rowBytes)
        image.pixels.withUnsafeBufferPointer { pixels in
            out.withUnsafeMutableBufferPointer { out in
                candidate.withUnsafeMutableBufferPointer { candidate in
                    zeros.withUnsafeBufferPointer { zeros in
                        for y in 0..<image.height {
                            let row = UnsafeBufferPointer(rebasing: pixels[y * rowBytes..<(y + 1) * rowBytes])
                            let previous = y == 0 ? zeros : UnsafeBufferPointer(rebasing: pixels[(y - 1) * rowBytes..<y * rowBytes])
                            let target = UnsafeMutableBufferPointer(rebasing: out[y * (rowBytes + 1) + 1..<(y + 1) * (rowBytes + 1)])
                            var best = filter ?? .none
                            if filter == nil {
                                var bestCost = Int.max
                                for option in PNGFilter.allCases {
                                    filterRow(option, row: row, previous: previous, stride: image.channels, into: candidate)
                                    let cost = candidate.reduce(0) { $0 + abs(Int(Int8(bitPattern: $1))) }
                                    if cost < bestCost { (best, bestCost) = (option, cost) }
                                }
                            }
                            out[y * (rowBytes + 1)] = best.rawValue
                            filterRow(best, row: row, previous: previous, stride: image.channels, into: target)
                        }
                    }
                }
            }
        }
        return out
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to file: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        file.appendBigEndian(UInt32(data.count))
        file += typeBytes
        file += data
        file.appendBigEndian(data.withUnsafeBufferPointer { chunkCRC(type: typeBytes, data: $0) })
    }

    private static func ioError(_ path: String, _ what: String) -> ImagingError {
        .io(path: path, reason: "\(what): \(String(cString: strerror(errno)))")
    }
}
