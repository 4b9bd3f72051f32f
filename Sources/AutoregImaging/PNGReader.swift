import CZlib
import Foundation

extension PNG {
    /// Largest accepted image, in pixels; bigger headers are treated as unsupported.
    public static let maxPixels = 1 << 28

    /// Reads a PNG file into an 8-bit image.
    ///
    /// Handles every colour type (grey, grey+alpha, RGB, RGBA, palette), bit depths 1/2/4/8/16
    /// (16-bit samples are rounded to 8 bits, low depths scaled to 0...255) and all five filter
    /// types; checks every chunk CRC. Palette images become RGB, or RGBA when a `tRNS` chunk
    /// gives palette transparency. Interlaced images are refused.
    public static func read(path: String) throws -> RasterImage {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ImagingError.io(path: path, reason: "no such file")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ImagingError.io(path: path, reason: "cannot read file (\(error.localizedDescription))")
        }
        return try decode([UInt8](data), path: path)
    }

    /// Decodes PNG bytes; `path` only labels errors.
    public static func decode(_ bytes: [UInt8], path: String = "<memory>") throws -> RasterImage {
        let chunks = try readChunks(bytes, path: path)
        let header = try Header(chunks.header, path: path)
        let scanlines = try inflate(chunks.imageData, expectedSize: header.height * (header.rowBytes + 1), path: path)
        let rows = try unfilter(scanlines, header: header, path: path)
        return try convert(rows, header: header, palette: chunks.palette, transparency: chunks.transparency, path: path)
    }

    /// The IHDR fields that matter for decoding.
    struct Header {
        var width: Int, height: Int, bitDepth: Int, colorType: Int
        /// Samples per pixel in the file (palette: one index).
        var samples: Int
        var rowBytes: Int { (width * samples * bitDepth + 7) / 8 }
        /// Distance in bytes to the corresponding byte of the pixel on the left.
        var stride: Int { max(1, samples * bitDepth / 8) }

        init(_ data: [UInt8], path: String) throws {
            guard data.count == 13 else { throw ImagingError.malformed(path: path, detail: "IHDR chunk has \(data.count) bytes, expected 13") }
            width = Int(data.bigEndianUInt32(at: 0))
            height = Int(data.bigEndianUInt32(at: 4))
            bitDepth = Int(data[8])
            colorType = Int(data[9])
            guard width > 0, height > 0, width <= Int(Int32.max), height <= Int(Int32.max) else {
                throw ImagingError.malformed(path: path, detail: "invalid size \(width)x\(height)")
            }
            guard width * height <= PNG.maxPixels else {
                throw ImagingError.unsupported(path: path, detail: "image of \(width)x\(height) pixels is too large")
            }
            let allowedDepths: [Int: [Int]] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
            guard let depths = allowedDepths[colorType] else {
                throw ImagingError.malformed(path: path, detail: "invalid colour type \(colorType)")
            }
            guard depths.contains(bitDepth) else {
                throw ImagingError.malformed(path: path, detail: "bit depth \(bitDepth) is invalid for colour type \(colorType)")
            }
            samples = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colorType]!
            guard data[10] == 0, data[11] == 0 else {
                throw ImagingError.malformed(path: path, detail: "unknown compression method \(data[10]) or filter method \(data[11])")
            }
            switch data[12] {
            case 0: break
            case 1: throw ImagingError.unsupported(path: path, detail: "interlaced (Adam7) images are not supported; save it without interlacing")
            default: throw ImagingError.malformed(path: path, detail: "unknown interlace method \(data[12])")
            }
        }
    }

    /// The chunks the decoder uses, after CRC checks.
    private struct Chunks {
        var header: [UInt8] = []
        var palette: [UInt8]?
        var transparency: [UInt8]?
        var imageData: [UInt8] = []
    }

    private static func readChunks(_ bytes: [UInt8], path: String) throws -> Chunks {
        guard bytes.count >= signature.count else {
            if bytes == Array(signature.prefix(bytes.count)) && !bytes.isEmpty {
                throw ImagingError.truncated(path: path, detail: "file ends inside the signature")
            }
            throw ImagingError.notPNG(path: path)
        }
        guard Array(bytes.prefix(signature.count)) == signature else { throw ImagingError.notPNG(path: path) }

        var chunks = Chunks()
        var offset = signature.count
        var sawHeader = false
        while true {
            guard offset + 8 <= bytes.count else {
                throw ImagingError.truncated(path: path, detail: "file ends at byte \(bytes.count) before the IEND chunk")
            }
            let length = Int(bytes.bigEndianUInt32(at: offset))
            let typeBytes = Array(bytes[offset + 4..<offset + 8])
            let type = String(decoding: typeBytes, as: UTF8.self)
            guard length <= Int(Int32.max) else {
                throw ImagingError.malformed(path: path, detail: "\(type) chunk length \(length) is too large")
            }
            let dataStart = offset + 8
            guard dataStart + length + 4 <= bytes.count else {
                throw ImagingError.truncated(path: path, detail: "\(type) chunk needs \(length + 12) bytes from byte \(offset), file has \(bytes.count - offset)")
            }
            let stored = bytes.bigEndianUInt32(at: dataStart + length)
            let computed = bytes.withUnsafeBufferPointer {
                chunkCRC(type: typeBytes, data: UnsafeBufferPointer(rebasing: $0[dataStart..<dataStart + length]))
            }
            guard stored == computed else { throw ImagingError.badCRC(path: path, chunk: type) }
            let data = bytes[dataStart..<dataStart + length]
            offset = dataStart + length + 4

            guard sawHeader || type == "IHDR" else {
                throw ImagingError.malformed(path: path, detail: "first chunk is \(type), expected IHDR")
            }
            switch type {
            case "IHDR":
                chunks.header = Array(data)
                sawHeader = true
            case "PLTE":
                guard length % 3 == 0, (3...768).contains(length) else {
                    throw ImagingError.malformed(path: path, detail: "PLTE chunk has \(length) bytes")
                }
                chunks.palette = Array(data)
            case "tRNS":
                chunks.transparency = Array(data)
            case "IDAT":
                chunks.imageData += data
            case "IEND":
                return chunks
            default:
                // Bit 5 of the first type byte clear marks a chunk a decoder must understand.
                if typeBytes[0] & 0x20 == 0 {
                    throw ImagingError.unsupported(path: path, detail: "unknown critical chunk \(type)")
                }
            }
        }
    }

    /// Inflates the IDAT stream, which must decompress to exactly `expectedSize` bytes.
    private static func inflate(_ compressed: [UInt8], expectedSize: Int, path: String) throws -> [UInt8] {
        guard !compressed.isEmpty else { throw ImagingError.malformed(path: path, detail: "no IDAT chunk") }
        // One spare byte tells "more data than the header announces" apart from an exact fit.
        var output = [UInt8](repeating: 0, count: expectedSize + 1)
        var outputSize = UInt(output.count)
        let status = uncompress(&output, &outputSize, compressed, UInt(compressed.count))
        switch status {
        case Z_OK where Int(outputSize) == expectedSize:
            output.removeLast()
            return output
        case Z_OK:
            throw ImagingError.truncated(path: path, detail: "image data holds \(outputSize) bytes, expected \(expectedSize)")
        case Z_BUF_ERROR where Int(outputSize) > expectedSize:
            throw ImagingError.malformed(path: path, detail: "image data is larger than the header announces")
        case Z_BUF_ERROR:
            throw ImagingError.truncated(path: path, detail: "compressed image data ends early")
        case Z_DATA_ERROR:
            throw ImagingError.malformed(path: path, detail: "corrupt compressed image data")
        default:
            throw ImagingError.io(path: path, reason: "zlib uncompress failed with code \(status)")
        }
    }

    /// Undoes the scanline filters; returns the rows without their filter-type bytes.
    private static func unfilter(_ scanlines: [UInt8], header: Header, path: String) throws -> [UInt8] {
        let rowBytes = header.rowBytes
        var rows = [UInt8](repeating: 0, count: header.height * rowBytes)
        let zeros = [UInt8](repeating: 0, count: rowBytes)
        try rows.withUnsafeMutableBufferPointer { rows in
            try zeros.withUnsafeBufferPointer { zeros in
                for y in 0..<header.height {
                    let typeByte = scanlines[y * (rowBytes + 1)]
                    guard let filter = PNGFilter(rawValue: typeByte) else {
                        throw ImagingError.malformed(path: path, detail: "invalid filter type \(typeByte) in row \(y)")
                    }
                    let row = UnsafeMutableBufferPointer(rebasing: rows[y * rowBytes..<(y + 1) * rowBytes])
                    for x in 0..<rowBytes { row[x] = scanlines[y * (rowBytes + 1) + 1 + x] }
                    let previous = y == 0 ? zeros : UnsafeBufferPointer(rebasing: rows[(y - 1) * rowBytes..<y * rowBytes])
                    unfilterRow(filter, row: row, previous: previous, stride: header.stride)
                }
            }
        }
        return rows
    }

    /// Turns unfiltered rows into 8-bit samples, expanding palette indices and low bit depths.
    private static func convert(_ rows: [UInt8], header: Header, palette: [UInt8]?, transparency: [UInt8]?,
                                path: String) throws -> RasterImage {
        let values = samples(rows, header: header)
        guard header.colorType == 3 else {
            let maximum = (1 << header.bitDepth) - 1
            let pixels = values.map { UInt8(($0 * 255 + maximum / 2) / maximum) }
            return RasterImage(width: header.width, height: header.height, channels: header.samples, pixels: pixels)
        }
        guard let palette else { throw ImagingError.malformed(path: path, detail: "palette image without PLTE chunk") }
        let entries = palette.count / 3
        let channels = transparency == nil ? 3 : 4
        var pixels = [UInt8]()
        pixels.reserveCapacity(values.count * channels)
        for index in values {
            guard index < entries else {
                throw ImagingError.malformed(path: path, detail: "palette index \(index) beyond the \(entries) PLTE entries")
            }
            pixels += palette[3 * index..<3 * index + 3]
            if let transparency { pixels.append(index < transparency.count ? transparency[index] : 255) }
        }
        return RasterImage(width: header.width, height: header.height, channels: channels, pixels: pixels)
    }

    /// Every sample of every row as an integer in `0..<(1 << bitDepth)`.
    private static func samples(_ rows: [UInt8], header: Header) -> [Int] {
        let perRow = header.width * header.samples
        let rowBytes = header.rowBytes
        var values = [Int]()
        values.reserveCapacity(perRow * header.height)
        for y in 0..<header.height {
            let base = y * rowBytes
            switch header.bitDepth {
            case 8:
                for i in 0..<perRow { values.append(Int(rows[base + i])) }
            case 16:
                for i in 0..<perRow { values.append(Int(rows[base + 2 * i]) << 8 | Int(rows[base + 2 * i + 1])) }
            default:
                let depth = header.bitDepth, mask = (1 << depth) - 1
                for i in 0..<perRow {
                    let bit = i * depth
                    values.append(Int(rows[base + bit / 8]) >> (8 - depth - bit % 8) & mask)
                }
            }
        }
        return values
    }
}
