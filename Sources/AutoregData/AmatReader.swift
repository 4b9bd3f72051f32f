/// Reader for `.amat` text files of binary images (plain or gzip-compressed), the format of
/// the standard binarized MNIST: one image per line, each pixel a space-separated value.
///
/// Every value must parse to exactly 0 or 1 (`0`, `1`, `0.0`, `1.000`, `1e0` are all accepted)
/// and every non-empty line must hold as many values as the first. The parser works on the raw
/// bytes; the common one-character tokens never become Strings.
public enum Amat {
    /// A matrix of 0/1 values, one row per image.
    public struct BinaryMatrix: Sendable {
        public var rows: Int
        public var columns: Int
        /// `rows * columns` values, each 0 or 1, row after row.
        public var values: [UInt8]
    }

    /// The most bytes (after decompression) an `.amat` file may hold: 1 GiB by default, about
    /// thirteen times binarized MNIST's 78 MB training file. Raise it before reading a bigger one.
    nonisolated(unsafe) public static var maxBytes = 1 << 30

    /// Reads the file at `path`; errors carry the path and, for bad values, the line number.
    /// Reading stops with ``DataError/tooLarge(path:limitBytes:detail:)`` past ``maxBytes``.
    public static func readBinary(path: String) throws -> BinaryMatrix {
        let bytes = try readPossiblyCompressedFile(path, maxBytes: maxBytes, limitReason: limitReason)
        return try bytes.withUnsafeBufferPointer { try parseBinary($0, path: path) }
    }

    /// Decodes the bytes of an `.amat` file, gzip-compressed or not, under the same
    /// ``maxBytes`` limit as ``readBinary(path:)``; `path` only labels errors.
    public static func decodeBinary(_ bytes: [UInt8], path: String = "<memory>") throws -> BinaryMatrix {
        let text = try decompressPossiblyCompressed(bytes, maxBytes: maxBytes, path: path, limitReason: limitReason)
        return try text.withUnsafeBufferPointer { try parseBinary($0, path: path) }
    }

    private static var limitReason: String {
        "an .amat file may hold at most \(readableByteCount(maxBytes)) after decompression; raise Amat.maxBytes to read more"
    }

    /// Parses `.amat` text already in memory; `path` only labels errors.
    public static func parseBinary(_ text: UnsafeBufferPointer<UInt8>, path: String) throws -> BinaryMatrix {
        var parser = Parser(path: path)
        // Each value takes at least two bytes (digit and separator), except perhaps the last.
        let capacity = text.count / 2 + 1
        let values = try [UInt8](unsafeUninitializedCapacity: capacity) { out, initialized in
            try parser.parse(text, into: out)
            initialized = parser.valueCount
        }
        guard parser.rows > 0 else {
            throw DataError.wrongDimensions(path: path, detail: "no values in file")
        }
        return BinaryMatrix(rows: parser.rows, columns: parser.columns, values: values)
    }
}

/// The byte-level state machine behind ``Amat/parseBinary(_:path:)``.
private struct Parser {
    let path: String
    var line = 1
    var valuesInLine = 0
    var columns = -1
    var rows = 0
    var valueCount = 0

    init(path: String) { self.path = path }

    mutating func parse(_ text: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) throws {
        let zero = UInt8(ascii: "0"), one = UInt8(ascii: "1"), newline = UInt8(ascii: "\n")
        guard let bytes = text.baseAddress, let values = out.baseAddress else { return }
        let n = text.count
        var i = 0
        while i < n {
            let byte = bytes[i]
            if (byte == zero || byte == one) && (i + 1 == n || isSeparator(bytes[i + 1])) {
                values[valueCount] = byte &- zero
                valueCount += 1
                valuesInLine += 1
                i += 1
            } else if byte == newline {
                try endLine()
                i += 1
            } else if isSeparator(byte) {
                i += 1
            } else {
                var end = i
                while end < n && !isSeparator(bytes[end]) { end += 1 }
                values[valueCount] = try slowValue(UnsafeBufferPointer(start: bytes + i, count: end - i))
                valueCount += 1
                valuesInLine += 1
                i = end
            }
        }
        try endLine()
    }

    /// Closes the current line; lines without values are skipped.
    private mutating func endLine() throws {
        defer { line += 1; valuesInLine = 0 }
        guard valuesInLine > 0 else { return }
        if columns < 0 {
            columns = valuesInLine
        } else if valuesInLine != columns {
            throw DataError.inconsistentLineLength(path: path, line: line, expected: columns, found: valuesInLine)
        }
        rows += 1
    }

    /// Parses a token other than a bare `0`/`1`, which must still equal exactly 0 or 1.
    private func slowValue(_ token: UnsafeBufferPointer<UInt8>) throws -> UInt8 {
        let string = String(decoding: token, as: UTF8.self)
        switch Double(string) {
        case 0?: return 0
        case 1?: return 1
        default:
            throw DataError.valueOutOfRange(path: path, line: line, column: valuesInLine + 1,
                                            value: string, allowed: "0 or 1")
        }
    }

    private func isSeparator(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D
    }
}
