/// Reader for the binary version of CIFAR-10 (`cifar-10-batches-bin`): each record is one
/// label byte (0-9) followed by the 32x32 red plane, then green, then blue, each row-major.
public enum CIFAR10 {
    public static let side = 32
    public static let recordSize = 1 + 3 * side * side
    /// Records in one batch file of the distribution (each of `data_batch_1.bin` ... and
    /// `test_batch.bin` holds 10 000): the most a batch may hold, 30 730 000 bytes. Reading
    /// stops with ``DataError/tooLarge(path:limitBytes:detail:)`` past it.
    public static let maxRecords = 10_000

    /// Reads one batch file (plain or gzip) as 32x32x3 8-bit images, channels last, with labels.
    public static func readBatch(path: String, name: String) throws -> ImageDataset {
        let bytes = try readPossiblyCompressedFile(path, maxBytes: maxRecords * recordSize, limitReason: limitReason)
        return try records(bytes, path: path, name: name)
    }

    /// Decodes the bytes of a batch file, gzip-compressed or not, under the same limit as
    /// ``readBatch(path:name:)``; `path` only labels errors.
    public static func decodeBatch(_ bytes: [UInt8], path: String = "<memory>", name: String) throws -> ImageDataset {
        let data = try decompressPossiblyCompressed(bytes, maxBytes: maxRecords * recordSize, path: path,
                                                    limitReason: limitReason)
        return try records(data, path: path, name: name)
    }

    private static let limitReason = "a CIFAR-10 batch holds at most \(maxRecords) records of \(recordSize) bytes"

    private static func records(_ bytes: [UInt8], path: String, name: String) throws -> ImageDataset {
        guard !bytes.isEmpty, bytes.count % recordSize == 0 else {
            throw DataError.wrongDimensions(path: path, detail: "\(bytes.count) bytes is not a whole number of "
                + "\(recordSize)-byte CIFAR-10 records (1 label byte and 32x32x3 pixels)")
        }
        let count = bytes.count / recordSize, plane = side * side
        var pixels = [UInt8](repeating: 0, count: count * 3 * plane)
        var labels = [Int](repeating: 0, count: count)
        for i in 0..<count {
            let record = i * recordSize
            guard bytes[record] < 10 else {
                throw DataError.valueOutOfRange(path: path, line: i + 1, column: 1, value: String(bytes[record]),
                                                allowed: "class labels 0-9 (record \(i + 1))")
            }
            labels[i] = Int(bytes[record])
            let out = i * 3 * plane
            for p in 0..<plane {
                for c in 0..<3 { pixels[out + 3 * p + c] = bytes[record + 1 + c * plane + p] }
            }
        }
        return ImageDataset(name: name, pixels: pixels, count: count, height: side, width: side, channels: 3,
                            levels: 256, labels: labels)
    }
}
