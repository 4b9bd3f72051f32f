import AutoregModels
import AutoregNN
import AutoregTensor
import Foundation

/// A saved model (and, for resuming, its training state).
///
/// File layout (format 2; see `CheckpointFormat` for the table): the 8 bytes `AUTOREG1`, a
/// little-endian UInt64 header length, a JSON header with `"format": 2`, each tensor's
/// float32 values (little-endian) in header order (the model's parameters, then the
/// optimiser's buffers), and a CRC-32 of all the bytes before it as a little-endian UInt32.
/// Format 1 files (no CRC) still load, with a note in `notes`. Reading checks the header
/// completely (sizes against the file length, configuration, training and optimiser state)
/// before allocating anything from it, then the checksum, then that every value is finite.
/// Written atomically: temp file, fsync, rename.
public struct Checkpoint {
    public var model: ModelConfig
    /// Parameter values by name, in the model's order.
    public var parameters: [(name: String, shape: [Int], values: [Float])]
    public var training: TrainingState?
    public var optimizer: OptimizerState?
    /// Remarks from reading the file that are not errors (an old format without a checksum),
    /// for the caller to show, e.g. on stderr as "note: PATH: NOTE".
    public var notes: [String] = []

    public init(model: any AutoregressiveModel, training: TrainingState? = nil, optimizer: OptimizerState? = nil) {
        self.model = model.config
        parameters = model.parameters.map { ($0.name, $0.tensor.shape, $0.tensor.data) }
        self.training = training
        self.optimizer = optimizer
    }

    /// Writes atomically to `path`: readers see the old file or the complete new one. Throws,
    /// leaving any existing file untouched, when a value is NaN or infinite or a parameter's
    /// values do not fill its shape.
    public func write(to path: String) throws {
        try writeAtomically(encoded(path: path), to: path)
    }

    /// The file's bytes (format 2).
    func encoded(path: String) throws -> Data {
        func fail(_ why: String) -> CheckpointError { CheckpointError(path: path, reason: why) }
        typealias Header = CheckpointFormat.Header
        var header = Header(model: model, parameters: parameters.map { .init(name: $0.name, shape: $0.shape) },
                            training: training)
        var blobs: [(what: String, values: [Float])] = []
        for p in parameters {
            var n = 1
            for d in p.shape {
                let (product, overflow) = n.multipliedReportingOverflow(by: d)
                guard d >= 0, !overflow else { throw fail("parameter \(p.name) has an invalid shape \(p.shape); not written") }
                n = product
            }
            guard n == p.values.count else {
                throw fail("parameter \(p.name) has \(p.values.count) values for shape \(p.shape); not written")
            }
            blobs.append(("parameter \(p.name)", p.values))
        }
        if let optimizer {
            header.optimizerKind = optimizer.kind
            header.optimizerStep = optimizer.step
            var slots: [String: [Int]] = [:]
            for key in optimizer.slots.keys.sorted() {
                let buffers = optimizer.slots[key] ?? []
                slots[key] = buffers.map(\.count)
                for (i, b) in buffers.enumerated() { blobs.append(("optimizer slot \(key) buffer \(i)", b)) }
            }
            header.optimizerSlots = slots
        }
        for blob in blobs {
            if let i = blob.values.firstIndex(where: { !$0.isFinite }) {
                throw fail("\(blob.what) value \(i) is \(blob.values[i]); not written (a previous checkpoint stays as it was)")
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json: Data
        do { json = try encoder.encode(header) } catch { throw fail("cannot encode the header: \(error)") }
        let total = blobs.reduce(CheckpointFormat.prefixLength + json.count + CheckpointFormat.trailerLength) { $0 + 4 * $1.values.count }
        var bytes = Data(capacity: total)
        bytes.append(contentsOf: CheckpointFormat.magic)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(json)
        for blob in blobs {
            #if _endian(little)
            blob.values.withUnsafeBytes { bytes.append(contentsOf: $0) }
            #else
            for v in blob.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
            #endif
        }
        let crc = bytes.withUnsafeBytes { crc32Checksum($0) }
        withUnsafeBytes(of: crc.littleEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// Reads a checkpoint, checking its structure and values; errors name the file. Only
    /// regular files are read, and only as many bytes as `stat` reports; the header is
    /// checked against that size before the tensor data is read.
    public static func read(from path: String) throws -> Checkpoint {
        let bytes = try readCheckpointFile(path)
        return try decode(bytes: bytes, path: path)
    }

    /// Decodes a checkpoint held in memory (`path` names it in errors). Never traps,
    /// whatever the bytes: every failure is a `CheckpointError`.
    public static func decode(bytes: [UInt8], path: String) throws -> Checkpoint {
        func fail(_ why: String) -> CheckpointError { CheckpointError(path: path, reason: why) }
        return try bytes.withUnsafeBytes { raw -> Checkpoint in
            let headerLength = try CheckpointFormat.headerLength(prefix: raw, fileSize: raw.count, fail: fail)
            let start = CheckpointFormat.prefixLength
            let layout = try CheckpointFormat.layout(
                headerBytes: UnsafeRawBufferPointer(rebasing: raw[start..<(start + headerLength)]),
                fileSize: raw.count, fail: fail)
            var notes: [String] = []
            if layout.hasChecksum {
                let end = raw.count - CheckpointFormat.trailerLength
                let stored = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: end, as: UInt32.self))
                let computed = crc32Checksum(UnsafeRawBufferPointer(rebasing: raw[0..<end]))
                guard stored == computed else {
                    throw fail("checksum mismatch: the file is damaged (stored 0x\(hex(stored)), computed 0x\(hex(computed)))")
                }
            } else {
                notes.append("format 1 checkpoint without a checksum: damage to it cannot be detected; "
                    + "writing it again (e.g. by resuming training) adds one")
            }
            try CheckpointFormat.validateValues(layout, fail: fail)

            var offset = layout.dataOffset
            func take(_ n: Int, _ what: String) throws -> [Float] {
                // The layout matched the file length, so every tensor lies inside `raw`.
                guard n >= 0, n <= (raw.count - offset) / 4 else { throw fail("truncated: \(what) ends early") }
                var firstBad: Int?
                let values = [Float](unsafeUninitializedCapacity: n) { buffer, count in
                    for i in 0..<n {
                        let v = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 4 * i, as: UInt32.self)))
                        if firstBad == nil && !v.isFinite { firstBad = i }
                        buffer.initializeElement(at: i, to: v)
                    }
                    count = n
                }
                if let i = firstBad { throw fail("\(what) value \(i) is \(values[i]) (weights must be finite)") }
                offset += 4 * n
                return values
            }
            let header = layout.header
            var params: [(String, [Int], [Float])] = []
            for (e, n) in zip(header.parameters, layout.parameterCounts) {
                params.append((e.name, e.shape, try take(n, "parameter \(e.name)")))
            }
            var optimizer: OptimizerState?
            if let kind = header.optimizerKind, header.optimizerSlots != nil {
                var slots: [String: [[Float]]] = [:]
                for slot in layout.slots {
                    slots[slot.name] = try slot.counts.enumerated().map { try take($0.element, "optimizer slot \(slot.name) buffer \($0.offset)") }
                }
                optimizer = OptimizerState(kind: kind, step: header.optimizerStep ?? 0, slots: slots)
            }
            guard offset == layout.fileLength - (layout.hasChecksum ? CheckpointFormat.trailerLength : 0) else {
                throw fail("internal error: tensor data ends at \(offset), expected \(layout.fileLength)")
            }
            var ck = Checkpoint(config: header.model, parameters: params)
            ck.training = header.training
            ck.optimizer = optimizer
            ck.notes = notes
            return ck
        }
    }

    /// Reads `path` (a regular file) with a bound: the prefix and header first, checked
    /// against the size `fstat` reports, then exactly that many bytes.
    static func readCheckpointFile(_ path: String) throws -> [UInt8] {
        func fail(_ why: String) -> CheckpointError { CheckpointError(path: path, reason: why) }
        let file = try BoundedFile(path: path, fail: fail)
        defer { file.close() }
        let size = file.size
        let prefix = try file.read(count: min(size, CheckpointFormat.prefixLength), at: 0)
        let headerLength = try prefix.withUnsafeBytes {
            try CheckpointFormat.headerLength(prefix: $0, fileSize: size, fail: fail)
        }
        let headerBytes = try file.read(count: headerLength, at: CheckpointFormat.prefixLength)
        // The header must describe exactly `size` bytes before they are read.
        let layout = try headerBytes.withUnsafeBytes {
            try CheckpointFormat.layout(headerBytes: $0, fileSize: size, fail: fail)
        }
        _ = layout  // values are checked by `decode`, after the checksum
        return try file.read(count: size, at: 0)
    }

    init(config: ModelConfig, parameters: [(String, [Int], [Float])]) {
        model = config
        self.parameters = parameters.map { (name: $0.0, shape: $0.1, values: $0.2) }
    }

    /// Rebuilds the model and loads the saved weights into it.
    public func makeModel(path: String = "checkpoint") throws -> any AutoregressiveModel {
        let m: any AutoregressiveModel
        do { m = try AutoregModels.makeModel(model) } catch { throw CheckpointError(path: path, reason: "model: \(error)") }
        try load(into: m, path: path)
        return m
    }

    /// Copies the saved weights into `model`, checking names and shapes.
    public func load(into model: any AutoregressiveModel, path: String = "checkpoint") throws {
        let target = model.parameters
        guard target.count == parameters.count else {
            throw CheckpointError(path: path, reason: "holds \(parameters.count) tensors, model has \(target.count)")
        }
        for (saved, p) in zip(parameters, target) {
            guard saved.name == p.name, saved.shape == p.tensor.shape, saved.values.count == p.tensor.data.count else {
                throw CheckpointError(path: path, reason: "tensor \(saved.name) \(saved.shape) does not match \(p.name) \(p.tensor.shape)")
            }
        }
        for (saved, p) in zip(parameters, target) { p.tensor.data = saved.values }
    }
}

private func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 8 - s.count)) + s
}

/// A checkpoint that cannot be read or does not fit.
public struct CheckpointError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

