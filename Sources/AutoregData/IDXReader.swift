/// Reader for the IDX format of MNIST and Fashion-MNIST (plain or gzip-compressed).
///
/// An IDX file starts with a big-endian magic number `0x0000TTDD` (TT = element type,
/// 0x08 for unsigned bytes; DD = number of dimensions), then one big-endian UInt32 per
/// dimension, then the payload. The payload must have exactly the announced size.
///
/// The reader decompresses as it goes: it reads the header first, works out the exact size
/// the file must have, and stops reading at that size plus ``trailingSlack`` bytes, so a small
/// gzip file that inflates to gigabytes is rejected after reading what its header announces.
public enum IDX {
    /// Magic number of an unsigned-byte, three-dimensional (count, rows, columns) image file.
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// Magic number of an unsigned-byte, one-dimensional label file.
    public static let labelsMagic: UInt32 = 0x0000_0801
    /// Largest accepted row or column count; larger values indicate a damaged header.
    public static let maxSide = 1 << 14
    /// Largest accepted payload (elements after the header): 2 GiB - 1 bytes.
    public static let maxPayloadBytes = Int(Int32.max)
    /// How many bytes past the announced size are read to report the exact size of a slightly
    /// too long file; beyond that the reader stops with ``DataError/tooLarge(path:limitBytes:detail:)``.
    public static let trailingSlack = 4096

    /// Images read from an IDX file: `pixels` holds `count * rows * columns` bytes, image after image.
    public struct Images: Sendable {
        public var count: Int
        public var rows: Int
        public var columns: Int
        public var pixels: [UInt8]
    }

    /// Reads an IDX image file (magic 0x00000803).
    public static func readImages(path: String) throws -> Images {
        var source = try GzipFileSource(path: path)
        return try images(from: &source, path: path)
    }

    /// Reads an IDX label file (magic 0x00000801); each label is one byte.
    public static func readLabels(path: String) throws -> [Int] {
        var source = try GzipFileSource(path: path)
        return try labels(from: &source, path: path)
    }

    /// Decodes the bytes of an IDX image file, gzip-compressed or not; `path` only labels errors.
    public static func decodeImages(_ bytes: [UInt8], path: String = "<memory>") throws -> Images {
        var source = MemorySource(bytes, path: path)
        return try images(from: &source, path: path)
    }

    /// Decodes the bytes of an IDX label file, gzip-compressed or not; `path` only labels errors.
    public static func decodeLabels(_ bytes: [UInt8], path: String = "<memory>") throws -> [Int] {
        var source = MemorySource(bytes, path: path)
        return try labels(from: &source, path: path)
    }

    private static func images<S: ByteSource>(from source: inout S, path: String) throws -> Images {
        var bytes: [UInt8] = []
        let header = try readHeader(&source, into: &bytes, path: path, magic: imagesMagic, format: "IDX ubyte images")
        let (count, rows, columns) = (header[0], header[1], header[2])
        guard (1...maxSide).contains(rows), (1...maxSide).contains(columns) else {
            throw DataError.wrongDimensions(path: path, detail: "\(rows)x\(columns) pixels per image is implausible")
        }
        try readPayload(&source, into: &bytes, path: path, headerSize: 16, elements: [count, rows, columns],
                        what: "\(count) images of \(rows)x\(columns)")
        bytes.removeFirst(16)
        return Images(count: count, rows: rows, columns: columns, pixels: bytes)
    }

    private static func labels<S: ByteSource>(from source: inout S, path: String) throws -> [Int] {
        var bytes: [UInt8] = []
        let header = try readHeader(&source, into: &bytes, path: path, magic: labelsMagic, format: "IDX ubyte labels")
        try readPayload(&source, into: &bytes, path: path, headerSize: 8, elements: [header[0]],
                        what: "\(header[0]) labels")
        return bytes[8...].map { Int($0) }
    }

    /// Reads the header into `bytes`, checks the magic number and returns the dimension sizes.
    private static func readHeader<S: ByteSource>(_ source: inout S, into bytes: inout [UInt8], path: String,
                                                  magic: UInt32, format: String) throws -> [Int] {
        let dimensions = Int(magic & 0xFF)
        let headerSize = 4 + 4 * dimensions
        try fill(&source, into: &bytes, upTo: 4)
        guard bytes.count >= 4 else {
            throw DataError.truncated(path: path, expectedBytes: headerSize, actualBytes: bytes.count)
        }
        let found = bigEndianUInt32(bytes, at: 0)
        guard found == magic else {
            throw DataError.wrongMagic(path: path, found: found, expected: magic, format: format)
        }
        try fill(&source, into: &bytes, upTo: headerSize)
        guard bytes.count >= headerSize else {
            throw DataError.truncated(path: path, expectedBytes: headerSize, actualBytes: bytes.count)
        }
        return (0..<dimensions).map { Int(bigEndianUInt32(bytes, at: 4 + 4 * $0)) }
    }

    /// Reads the payload after checking that the header's sizes are plausible; the data must
    /// end exactly after `headerSize` + the product of `elements` bytes.
    private static func readPayload<S: ByteSource>(_ source: inout S, into bytes: inout [UInt8], path: String,
                                                   headerSize: Int, elements: [Int], what: String) throws {
        var payloadSize = 1
        for size in elements {
            let (product, overflow) = payloadSize.multipliedReportingOverflow(by: size)
            guard !overflow, product <= maxPayloadBytes else {
                throw DataError.wrongDimensions(path: path, detail: "header announces \(elements.map(String.init).joined(separator: "x")) elements")
            }
            payloadSize = product
        }
        let expected = headerSize + payloadSize
        try fill(&source, into: &bytes, upTo: expected)
        if bytes.count < expected {
            throw DataError.truncated(path: path, expectedBytes: expected, actualBytes: bytes.count)
        }
        // Count a few trailing bytes for the message, but never read on without bound.
        var trailing: [UInt8] = []
        try fill(&source, into: &trailing, upTo: trailingSlack)
        if trailing.count == trailingSlack, try hasMore(&source) {
            throw DataError.tooLarge(path: path, limitBytes: expected + trailingSlack,
                                     detail: "the header announces \(what), \(expected) bytes in all")
        }
        if !trailing.isEmpty {
            throw DataError.trailingData(path: path, expectedBytes: expected, actualBytes: expected + trailing.count)
        }
    }

    private static func bigEndianUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }
}
