import Foundation

/// A file in the safetensors layout (Hugging Face's format, read by `safetensors.torch.load_file`
/// and `safetensors.numpy`), for the dtypes Autoreg uses: F32 weights and I64 index buffers.
///
/// | offset | bytes | content |
/// |---|---|---|
/// | 0 | 8 | N, the header's length, UInt64 little-endian |
/// | 8 | N | UTF-8 JSON: `{"__metadata__": {string: string}, NAME: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}`, padded with spaces so that the data starts 8-byte aligned |
/// | 8 + N | … | the tensors' raw little-endian bytes; offsets are relative to here |
///
/// The tensors' byte ranges must tile the data exactly: sorted by offset, each starts where the
/// previous one ends, the first at 0, the last at the end of the file, and each holds
/// element count × dtype size bytes. Written in the order given, atomically (temp file, fsync,
/// rename). Reading checks all of this before any tensor is allocated; errors name the file.
public struct SafeTensorsFile: Equatable {
    /// Element types Autoreg writes and reads.
    public enum DType: String, Sendable {
        case f32 = "F32"
        case i64 = "I64"
        /// Bytes per element.
        public var size: Int { self == .f32 ? 4 : 8 }
    }

    /// A tensor's values, row-major.
    public enum Values: Equatable, Sendable {
        case f32([Float])
        case i64([Int64])

        public var dtype: DType {
            if case .f32 = self { return .f32 }
            return .i64
        }
        public var count: Int {
            switch self {
            case let .f32(v): return v.count
            case let .i64(v): return v.count
            }
        }
    }

    /// One named tensor.
    public struct Entry: Equatable, Sendable {
        public var name: String
        public var shape: [Int]
        public var values: Values
        public init(name: String, shape: [Int], values: Values) { (self.name, self.shape, self.values) = (name, shape, values) }
    }

    /// The header's `__metadata__` (string to string).
    public var metadata: [String: String]
    /// The tensors, in file order.
    public var tensors: [Entry]

    public init(metadata: [String: String], tensors: [Entry]) { (self.metadata, self.tensors) = (metadata, tensors) }

    /// The tensor called `name`, if any.
    public subscript(name: String) -> Entry? { tensors.first { $0.name == name } }

    /// Largest header read (the safetensors reference implementation's limit).
    public static let maxHeaderLength = 100_000_000
    static let metadataKey = "__metadata__"

    // MARK: Writing

    /// Writes the file atomically to `path`: readers see the old file or the complete new one.
    public func write(to path: String) throws {
        try writeAtomically(encoded(path: path), to: path)
    }

    /// The file's bytes; throws when a shape does not match its values or names repeat.
    public func encoded(path: String) throws -> Data {
        func fail(_ why: String) -> CheckpointError { CheckpointError(path: path, reason: why) }
        var seen = Set<String>()
        var json = "{" + jsonString(Self.metadataKey) + ":{"
        json += metadata.keys.sorted().map { jsonString($0) + ":" + jsonString(metadata[$0]!) }.joined(separator: ",")
        json += "}"
        var offset = 0
        for t in tensors {
            guard t.name != Self.metadataKey, !t.name.isEmpty, seen.insert(t.name).inserted else {
                throw fail("tensor name '\(t.name)' is empty, reserved or repeated; not written")
            }
            let n = try CheckpointFormat.elementCount(t.shape, "tensor \(t.name)", bytesPerElement: 8, fail: fail)
            guard n == t.values.count else {
                throw fail("tensor \(t.name) has \(t.values.count) values for shape \(t.shape); not written")
            }
            let end = offset + n * t.values.dtype.size
            json += "," + jsonString(t.name) + ":{\"dtype\":\"\(t.values.dtype.rawValue)\",\"shape\":["
                + t.shape.map(String.init).joined(separator: ",") + "],\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        json += "}"
        var header = Array(json.utf8)
        while (8 + header.count) % 8 != 0 { header.append(UInt8(ascii: " ")) }
        var bytes = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: header)
        for t in tensors {
            switch t.values {
            case let .f32(v):
                #if _endian(little)
                v.withUnsafeBytes { bytes.append(contentsOf: $0) }
                #else
                for x in v { withUnsafeBytes(of: x.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
                #endif
            case let .i64(v):
                #if _endian(little)
                v.withUnsafeBytes { bytes.append(contentsOf: $0) }
                #else
                for x in v { withUnsafeBytes(of: x.littleEndian) { bytes.append(contentsOf: $0) } }
                #endif
            }
        }
        return bytes
    }

    // MARK: Reading

    /// Reads and checks a safetensors file: only a regular file, the header length against the
    /// file's size, the header, then the tensor bytes the header accounts for.
    public static func read(from path: String) throws -> SafeTensorsFile {
        func fail(_ why: String) -> CheckpointError { CheckpointError(path: path, reason: why) }
        let file = try BoundedFile(path: path, fail: fail)
        defer { file.close() }
        let prefix = try file.read(count: min(file.size, 8), at: 0)
        let n = try prefix.withUnsafeBytes { try headerLength($0, fileSize: file.size, fail: fail) }
        let layout = try file.read(count: n, at: 8).withUnsafeBytes {
            try Layout(header: $0, dataLength: file.size - 8 - n, fail: fail)
        }
        let data = try file.read(count: file.size - 8 - n, at: 8 + n)
        return data.withUnsafeBytes { layout.file(data: $0) }
    }

    /// Decodes a file held in memory (`path` names it in errors); every failure is a
    /// `CheckpointError`, whatever the bytes.
    public static func decode(bytes: [UInt8], path: String) throws -> SafeTensorsFile {
        func fail(_ why: String) -> CheckpointError { CheckpointError(path: path, reason: why) }
        return try bytes.withUnsafeBytes { raw in
            let n = try headerLength(raw, fileSize: raw.count, fail: fail)
            let layout = try Layout(header: UnsafeRawBufferPointer(rebasing: raw[8..<(8 + n)]),
                                    dataLength: raw.count - 8 - n, fail: fail)
            return layout.file(data: UnsafeRawBufferPointer(rebasing: raw[(8 + n)...]))
        }
    }

    /// The header length N from the first 8 bytes, checked against the file's size.
    static func headerLength(_ prefix: UnsafeRawBufferPointer, fileSize: Int, fail: (String) -> CheckpointError) throws -> Int {
        guard prefix.count >= 8, fileSize >= 8 else {
            throw fail("truncated: \(fileSize) bytes, too short for a safetensors file (8-byte header length, then the header)")
        }
        let n = UInt64(littleEndian: prefix.loadUnaligned(as: UInt64.self))
        guard n >= 2 else { throw fail("header length \(n) is too short for a JSON header") }
        guard n <= UInt64(fileSize - 8) else {
            throw fail("header length \(n) goes beyond the end of the file (\(fileSize - 8) bytes after the length): "
                + "truncated, or not a safetensors file")
        }
        guard n <= UInt64(maxHeaderLength) else { throw fail("header length \(n) exceeds the limit of \(maxHeaderLength) bytes") }
        return Int(n)
    }

    /// A header that passed every check: where each tensor lies in the data.
    struct Layout {
        var metadata: [String: String]
        var entries: [(name: String, dtype: DType, shape: [Int], begin: Int, count: Int)]

        init(header: UnsafeRawBufferPointer, dataLength: Int, fail: (String) -> CheckpointError) throws {
            guard header.first == UInt8(ascii: "{") else { throw fail("the header does not start with '{': not a safetensors file") }
            let decoded: Header
            do { decoded = try JSONDecoder().decode(Header.self, from: Data(header)) } catch let error as DecodingError {
                throw fail("unreadable header: \(CheckpointFormat.describe(error))")
            } catch {
                throw fail("unreadable header: \(error)")
            }
            metadata = decoded.metadata
            entries = []
            var ranges: [(begin: Int, end: Int, name: String)] = []
            for (name, raw) in decoded.tensors {
                let what = "tensor \(name)"
                guard let dtype = DType(rawValue: raw.dtype) else {
                    throw fail("\(what) has dtype \(raw.dtype); Autoreg reads F32 (weights) and I64 (buffers)")
                }
                let count = try CheckpointFormat.elementCount(raw.shape, what, bytesPerElement: 8, fail: fail)
                guard raw.data_offsets.count == 2 else {
                    throw fail("\(what): data_offsets \(raw.data_offsets) must be [begin, end]")
                }
                let (begin, end) = (raw.data_offsets[0], raw.data_offsets[1])
                guard begin >= 0, begin <= end else { throw fail("\(what): data_offsets [\(begin), \(end)] are not a range") }
                guard end <= dataLength else {
                    throw fail("truncated: \(what) ends at byte \(end) of the tensor data, the file holds \(dataLength) after the header")
                }
                let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.size)
                guard !overflow, end - begin == bytes else {
                    throw fail("\(what): data_offsets [\(begin), \(end)] hold \(end - begin) bytes, its \(dtype.rawValue) shape "
                        + "\(raw.shape) needs \(overflow ? "more" : String(bytes))")
                }
                entries.append((name, dtype, raw.shape, begin, count))
                ranges.append((begin, end, name))
            }
            ranges.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
            var at = 0
            for r in ranges {
                if r.begin < at { throw fail("tensor \(r.name): data_offsets [\(r.begin), \(r.end)] overlap the tensor before it (which ends at \(at))") }
                if r.begin > at { throw fail("tensor \(r.name): data_offsets start at \(r.begin), leaving bytes \(at)..<\(r.begin) unaccounted for") }
                at = r.end
            }
            if at != dataLength {
                throw fail("the tensors cover \(at) bytes of data, the file holds \(dataLength) after the header")
            }
            entries.sort { $0.begin < $1.begin }
        }

        /// The tensors, read from `data` (the bytes after the header, as long as checked).
        func file(data: UnsafeRawBufferPointer) -> SafeTensorsFile {
            let tensors = entries.map { e -> Entry in
                switch e.dtype {
                case .f32:
                    return Entry(name: e.name, shape: e.shape, values: .f32((0..<e.count).map {
                        Float(bitPattern: UInt32(littleEndian: data.loadUnaligned(fromByteOffset: e.begin + 4 * $0, as: UInt32.self)))
                    }))
                case .i64:
                    return Entry(name: e.name, shape: e.shape, values: .i64((0..<e.count).map {
                        Int64(littleEndian: data.loadUnaligned(fromByteOffset: e.begin + 8 * $0, as: Int64.self))
                    }))
                }
            }
            return SafeTensorsFile(metadata: metadata, tensors: tensors)
        }
    }

    /// The JSON header: `__metadata__` and one entry per tensor.
    struct Header: Decodable {
        struct RawEntry: Decodable {
            var dtype: String
            var shape: [Int]
            var data_offsets: [Int]
        }
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        var metadata: [String: String] = [:]
        var tensors: [(String, RawEntry)] = []

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            for key in c.allKeys {
                if key.stringValue == SafeTensorsFile.metadataKey {
                    metadata = try c.decode([String: String].self, forKey: key)
                } else {
                    tensors.append((key.stringValue, try c.decode(RawEntry.self, forKey: key)))
                }
            }
        }
    }
}

/// `s` as a JSON string literal (quotes and escapes).
private func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 {
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out + "\""
}
