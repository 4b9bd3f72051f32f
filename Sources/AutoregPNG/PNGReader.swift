import CZlib
import Foundation

extension PNG {
    /// Largest accepted image, in pixels (width x height): 4096 x 4096 = 16 777 216 by default,
    /// or the value of the environment variable `AUTOREG_MAX_IMAGE_PIXELS` when it holds a
    /// positive whole number. A bigger header is refused before any image data is inflated.
    nonisolated(unsafe) public static var maxPixels: Int = environmentLimit("AUTOREG_MAX_IMAGE_PIXELS") ?? 4096 * 4096
    /// Largest accepted width or height, whatever the pixel count: 65 536 by default.
    nonisolated(unsafe) public static var maxSide: Int = 1 << 16
    /// How the too-large message tells the reader to raise ``maxPixels``; a tool that sets the
    /// limit from its own option can name that option here.
    nonisolated(unsafe) public static var raiseLimitHint =
        "set AUTOREG_MAX_IMAGE_PIXELS (or PNG.maxPixels) to a larger pixel count to read it"

    /// Largest file ``read(path:)`` reads: room for the biggest image ``maxPixels`` allows
    /// (16-bit RGBA, stored without compression) plus 16 MiB of other chunks.
    public static var maxFileBytes: Int {
        let (raw, overflow) = maxPixels.multipliedReportingOverflow(by: 8)
        return overflow ? Int.max : raw.addingReportingOverflow(16 << 20).overflow ? Int.max : raw + (16 << 20)
    }

    /// Reads a PNG file into an 8-bit image.
    ///
    /// Handles every colour type (grey, grey+alpha, RGB, RGBA, palette), bit depths 1/2/4/8/16
    /// (16-bit samples are rounded to 8 bits, low depths scaled to 0...255) and all five filter
    /// types; checks every chunk CRC. Palette images become RGB, or RGBA when a `tRNS` chunk
    /// gives palette transparency. Interlaced images are refused, and so are images larger
    /// than ``maxPixels`` or ``maxSide`` (before their data is inflated), files larger than
    /// ``maxFileBytes``, and paths that are not regular files (a FIFO, a device).
    public static func read(path: String) throws -> RasterImage {
        try decode(readRegularFile(path, maxBytes: maxFileBytes), path: path)
    }

    /// Decodes PNG bytes; `path` only labels errors.
    public static func decode(_ bytes: [UInt8], path: String = "<memory>") throws -> RasterImage {
        let chunks = try readChunks(bytes, path: path)
        guard let header = chunks.header else { throw ImagingError.malformed(path: path, detail: "no IHDR chunk") }
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
            guard width <= PNG.maxSide, height <= PNG.maxSide else {
                throw ImagingError.tooLarge(path: path, detail: "the header declares \(width)x\(height) pixels; "
                    + "the limit is \(PNG.maxSide) pixels a side (PNG.maxSide)")
            }
            guard width * height <= PNG.maxPixels else {
                throw ImagingError.tooLarge(path: path, detail: "the header declares \(width)x\(height) = \(width * height) pixels; "
                    + "the limit is \(PNG.maxPixels) pixels; \(PNG.raiseLimitHint)")
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
        var header: Header?
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
                // Checked at once, so that a huge declared size stops the decoder here.
                guard !sawHeader else { throw ImagingError.malformed(path: path, detail: "second IHDR chunk") }
                chunks.header = try Header(Array(data), path: path)
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

    /// Inflates the IDAT stream, which must decompress to exactly `expectedSize` bytes. The
    /// output grows with the data and inflation stops as soon as it passes `expectedSize`.
    private static func inflate(_ compressed: [UInt8], expectedSize: Int, path: String) throws -> [UInt8] {
        guard !compressed.isEmpty else { throw ImagingError.malformed(path: path, detail: "no IDAT chunk") }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deinitialize(count: 1); stream.deallocate() }
        guard inflateInit_(stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ImagingError.io(path: path, reason: "zlib could not start inflating")
        }
        defer { inflateEnd(stream) }
        // One spare byte tells "more data than the header announces" apart from an exact fit.
        let limit = expectedSize + 1
        var output = [UInt8](repeating: 0, count: min(limit, max(1 << 16, 4 * compressed.count)))
        var produced = 0
        var ended = false
        try compressed.withUnsafeBufferPointer { input in
            var consumed = 0
            while !ended && produced < limit {
                if produced == output.count {
                    output.append(contentsOf: repeatElement(0, count: min(limit, 2 * output.count) - output.count))
                }
                if stream.pointee.avail_in == 0 && consumed < input.count {
                    let piece = min(input.count - consumed, Int(UInt32.max))
                    stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + consumed)
                    stream.pointee.avail_in = UInt32(piece)
                    consumed += piece
                }
                let room = min(output.count - produced, Int(UInt32.max))
                let status = output.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.pointee.next_out = out.baseAddress! + produced
                    stream.pointee.avail_out = UInt32(room)
                    return CZlib.inflate(stream, Z_NO_FLUSH)
                }
                produced += room - Int(stream.pointee.avail_out)
                switch status {
                case Z_STREAM_END:
                    ended = true
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.pointee.avail_in == 0 && consumed < input.count:
                    continue
                case Z_BUF_ERROR:
                    throw ImagingError.truncated(path: path, detail: "compressed image data ends early")
                case Z_DATA_ERROR, Z_NEED_DICT:
                    throw ImagingError.malformed(path: path, detail: "corrupt compressed image data")
                default:
                    throw ImagingError.io(path: path, reason: "zlib inflate failed with code \(status)")
                }
            }
        }
        if produced > expectedSize {
            throw ImagingError.malformed(path: path, detail: "image data is larger than the header announces")
        }
        if produced < expectedSize {
            throw ImagingError.truncated(path: path, detail: "image data holds \(produced) bytes, expected \(expectedSize)")
        }
        output.removeLast(output.count - expectedSize)
        return output
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
            let pixels = values.map { UInt8((Int($0) * 255 + maximum / 2) / maximum) }
            return RasterImage(width: header.width, height: header.height, channels: header.samples, pixels: pixels)
        }
        guard let palette else { throw ImagingError.malformed(path: path, detail: "palette image without PLTE chunk") }
        let entries = palette.count / 3
        let channels = transparency == nil ? 3 : 4
        var pixels = [UInt8]()
        pixels.reserveCapacity(values.count * channels)
        for value in values {
            let index = Int(value)
            guard index < entries else {
                throw ImagingError.malformed(path: path, detail: "palette index \(index) beyond the \(entries) PLTE entries")
            }
            pixels += palette[3 * index..<3 * index + 3]
            if let transparency { pixels.append(index < transparency.count ? transparency[index] : 255) }
        }
        return RasterImage(width: header.width, height: header.height, channels: channels, pixels: pixels)
    }

    /// Every sample of every row as an integer in `0..<(1 << bitDepth)`.
    private static func samples(_ rows: [UInt8], header: Header) -> [UInt16] {
        let perRow = header.width * header.samples
        let rowBytes = header.rowBytes
        var values = [UInt16]()
        values.reserveCapacity(perRow * header.height)
        for y in 0..<header.height {
            let base = y * rowBytes
            switch header.bitDepth {
            case 8:
                for i in 0..<perRow { values.append(UInt16(rows[base + i])) }
            case 16:
                for i in 0..<perRow { values.append(UInt16(rows[base + 2 * i]) << 8 | UInt16(rows[base + 2 * i + 1])) }
            default:
                let depth = header.bitDepth, mask = (1 << depth) - 1
                for i in 0..<perRow {
                    let bit = i * depth
                    values.append(UInt16(Int(rows[base + bit / 8]) >> (8 - depth - bit % 8) & mask))
                }
            }
        }
        return values
    }
}

/// The positive whole number in environment variable `name`, if it holds one.
func environmentLimit(_ name: String) -> Int? {
    guard let text = ProcessInfo.processInfo.environment[name], let value = Int(text), value > 0 else { return nil }
    return value
}

/// Reads the regular file at `path` (symbolic links to one are fine), refusing FIFOs, devices
/// and sockets before reading from them, and files larger than `maxBytes`.
func readRegularFile(_ path: String, maxBytes: Int) throws -> [UInt8] {
    // Non-blocking, so that opening a FIFO returns at once; fstat then checks what was opened.
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else {
        let code = errno
        throw ImagingError.io(path: path, reason: code == ENOENT ? "no such file" : "cannot open file (\(String(cString: strerror(code))))")
    }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
        throw ImagingError.io(path: path, reason: "cannot read file (\(String(cString: strerror(errno))))")
    }
    switch info.st_mode & S_IFMT {
    case S_IFREG: break
    case S_IFDIR: throw ImagingError.io(path: path, reason: "is a directory, not a PNG file")
    case S_IFIFO: throw ImagingError.io(path: path, reason: "is not a regular file (a FIFO)")
    case S_IFCHR: throw ImagingError.io(path: path, reason: "is not a regular file (a character device)")
    case S_IFBLK: throw ImagingError.io(path: path, reason: "is not a regular file (a block device)")
    default: throw ImagingError.io(path: path, reason: "is not a regular file")
    }
    guard Int(info.st_size) <= maxBytes else {
        throw ImagingError.tooLarge(path: path, detail: "the file holds \(info.st_size) bytes, more than the \(maxBytes) "
            + "a PNG of at most \(PNG.maxPixels) pixels needs; \(PNG.raiseLimitHint)")
    }
    // Read to the end rather than trusting st_size, but never past maxBytes.
    var bytes = [UInt8]()
    bytes.reserveCapacity(Int(info.st_size))
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let got = chunk.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
        if got < 0 {
            if errno == EINTR { continue }
            throw ImagingError.io(path: path, reason: "cannot read file (\(String(cString: strerror(errno))))")
        }
        if got == 0 { return bytes }
        guard bytes.count + got <= maxBytes else {
            throw ImagingError.tooLarge(path: path, detail: "the file grew past \(maxBytes) bytes while being read")
        }
        bytes.append(contentsOf: chunk[0..<got])
    }
}
