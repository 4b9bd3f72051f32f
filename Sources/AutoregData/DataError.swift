/// An error raised while locating or reading a data set.
///
/// Every description names the file (or directory) concerned and says what is wrong, e.g.
/// `t10k-images-idx3-ubyte.gz: wrong magic number 0x00000802, expected 0x00000803 (IDX ubyte images)`.
public enum DataError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file does not exist (or is a directory).
    case missingFile(path: String)
    /// The file exists but could not be opened or read.
    case unreadable(path: String, reason: String)
    /// The gzip stream ends early or is damaged.
    case corruptCompression(path: String, reason: String)
    /// The header's magic number is not the one the format requires.
    case wrongMagic(path: String, found: UInt32, expected: UInt32, format: String)
    /// The announced or inferred dimensions are wrong or implausible.
    case wrongDimensions(path: String, detail: String)
    /// The file holds fewer bytes than its header announces.
    case truncated(path: String, expectedBytes: Int, actualBytes: Int)
    /// The file holds more bytes than its header announces.
    case trailingData(path: String, expectedBytes: Int, actualBytes: Int)
    /// The data goes on past `limitBytes` (after decompression), the most the reader accepts;
    /// reading stopped there. `detail` says where the limit comes from.
    case tooLarge(path: String, limitBytes: Int, detail: String)
    /// A value is outside the allowed set (e.g. an `.amat` value that is not 0 or 1).
    case valueOutOfRange(path: String, line: Int, column: Int, value: String, allowed: String)
    /// A text line holds a different number of values than the first line.
    case inconsistentLineLength(path: String, line: Int, expected: Int, found: Int)
    /// The images file and the labels file disagree on the number of items.
    case countMismatch(imagesPath: String, imageCount: Int, labelsPath: String, labelCount: Int)
    /// An explicitly given data directory lacks the files a data set needs.
    case filesNotInDirectory(directory: String, files: [String])
    /// No search location holds the data set.
    case datasetNotFound(name: String, searched: [String], hint: String)
    /// The data set name is not one the catalog knows.
    case unknownDataset(name: String, known: [String])
    /// A file or folder that cannot serve as data, and why.
    case unusable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .missingFile(path):
            return "\(path): no such file"
        case let .unreadable(path, reason):
            return "\(path): cannot read file (\(reason))"
        case let .corruptCompression(path, reason):
            return "\(path): truncated or corrupt gzip data (\(reason))"
        case let .wrongMagic(path, found, expected, format):
            return "\(path): wrong magic number \(hex(found)), expected \(hex(expected)) (\(format))"
        case let .wrongDimensions(path, detail):
            return "\(path): wrong dimensions: \(detail)"
        case let .truncated(path, expected, actual):
            return "\(path): truncated file: expected \(expected) bytes, got \(actual)"
        case let .trailingData(path, expected, actual):
            return "\(path): unexpected trailing data: expected \(expected) bytes, got \(actual)"
        case let .tooLarge(path, limit, detail):
            return "\(path): too much data: more than \(limit) bytes (\(detail)); stopped reading there"
        case let .valueOutOfRange(path, line, column, value, allowed):
            return "\(path):\(line): value \"\(value)\" in column \(column) is out of range (allowed: \(allowed))"
        case let .inconsistentLineLength(path, line, expected, found):
            return "\(path):\(line): line has \(found) values, expected \(expected) like the first line"
        case let .countMismatch(imagesPath, imageCount, labelsPath, labelCount):
            return "\(imagesPath) holds \(imageCount) images but \(labelsPath) holds \(labelCount) labels"
        case let .filesNotInDirectory(directory, files):
            return "\(directory): data directory lacks \(files.joined(separator: ", ")) (each may also end in .gz)"
        case let .datasetNotFound(name, searched, hint):
            let places = searched.map { "  \($0)" }.joined(separator: "\n")
            return "data set \"\(name)\" not found; looked in:\n\(places)\n\(hint)"
        case let .unknownDataset(name, known):
            return "unknown data set \"\(name)\"; known: \(known.joined(separator: ", "))"
        case let .unusable(path, reason):
            return "\(path): \(reason)"
        }
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
