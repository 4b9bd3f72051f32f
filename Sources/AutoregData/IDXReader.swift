/// Reader for the IDX format of MNIST and Fashion-MNIST (plain or gzip-compressed).
///
/// An IDX file starts with a big-endian magic number `0x0000TTDD` (TT = element type,
/// 0x08 for unsigned bytes; DD = number of dimensions), then one big-endian UInt32 per
/// dimension, then the payload. The payload must have exactly the announced size.
public enum IDX {
    /// Magic number of an unsigned-byte, three-dimensional (count, rows, columns) image file.
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// Magic number of an unsigned-byte, one-dimensional label file.
    public static let labelsMagic: UInt32 = 0x0000_0801
    /// Largest accepted row or column count; larger values indicate a damaged header.
    public static let maxSide = 1 << 14

    /// Images read from an IDX file: `pixels` holds `count * rows * columns` bytes, image after image.
    public struct Images: Sendable {
        public var count: Int
        public var rows: Int
        public var columns: Int
        public var pixels: [UInt8]
    }

    /// Reads an IDX image file (magic 0x00000803).
    public static func readImages(path: String) throws -> Images {
        let bytes = try readPossiblyCompressedFile(path)
        let header = try readHeader(bytes, path: path, magic: imagesMagic, format: "IDX ubyte images")
        let (count, rows, columns) = (header[0], header[1], header[2])
        guard (1...maxSide).contains(rows), (1...maxSide).contains(columns) else {
            throw DataError.wrongDimensions(path: path, detail: "\(rows)x\(columns) pixels per image is implausible")
        }
        let payload = try checkedPayload(bytes, path: path, headerSize: 16, elements: [count, rows, columns])
        return Images(count: count, rows: rows, columns: columns, pixels: Array(payload))
    }

    /// Reads an IDX label file (magic 0x00000801); each label is one byte.
    public static func readLabels(path: String) throws -> [Int] {
        let bytes = try readPossiblyCompressedFile(path)
        let header = try readHeader(bytes, path: path, magic: labelsMagic, format: "IDX ubyte labels")
        let payload = try checkedPayload(bytes, path: path, headerSize: 8, elements: [header[0]])
        return payload.map { Int($0) }
    }

    /// Checks the magic number and returns the dimension sizes that follow it.
    private static func readHeader(_ bytes: [UInt8], path: String, magic: UInt32, format: String) throws -> [Int] {
        let dimensions = Int(magic & 0xFF)
        let headerSize = 4 + 4 * dimensions
        guard bytes.count >= 4 else {
            throw DataError.truncated(path: path, expectedBytes: headerSize, actualBytes: bytes.count)
        }
        let found = bigEndianUInt32(bytes, at: 0)
        guard found == magic else {
            throw DataError.wrongMagic(path: path, found: found, expected: magic, format: format)
        }
        guard bytes.count >= headerSize else {
            throw DataError.truncated(path: path, expectedBytes: headerSize, actualBytes: bytes.count)
        }
        return (0..<dimensions).map { Int(bigEndianUInt32(bytes, at: 4 + 4 * $0)) }
    }

    /// Returns the payload after checking that its size is exactly the product of `elements`.
    private static func checkedPayload(_ bytes: [UInt8], path: String, headerSize: Int, elements: [Int]) throws -> ArraySlice<UInt8> {
        var payloadSize = 1
        for size in elements {
            let (product, overflow) = payloadSize.multipliedReportingOverflow(by: size)
            guard !overflow, product <= Int(Int32.max) else {
                throw DataError.wrongDimensions(path: path, detail: "header announces \(elements.map(String.init).joined(separator: "x")) elements")
            }
            payloadSize = product
        }
        let expected = headerSize + payloadSize
        if bytes.count < expected {
            throw DataError.truncated(path: path, expectedBytes: expected, actualBytes: bytes.count)
        }
        if bytes.count > expected {
            throw DataError.trailingData(path: path, expectedBytes: expected, actualBytes: bytes.count)
        }
        return bytes[headerSize...]
    }

    private static func bigEndianUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }
}
