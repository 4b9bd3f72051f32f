import AutoregModels
import AutoregNN
import AutoregTensor
import Foundation

/// A saved model (and, for resuming, its training state).
///
/// File layout: the 8 bytes `AUTOREG1`, a little-endian UInt64 header length, a JSON
/// header, then each tensor's float32 values (little-endian) in header order: the model's
/// parameters, then the optimiser's buffers. Written atomically: temp file, fsync, rename.
public struct Checkpoint {
    public var model: ModelConfig
    /// Parameter values by name, in the model's order.
    public var parameters: [(name: String, shape: [Int], values: [Float])]
    public var training: TrainingState?
    public var optimizer: OptimizerState?

    static let magic = Array("AUTOREG1".utf8)

    struct Header: Codable {
        var format = 1
        var model: ModelConfig
        var parameters: [Entry]
        var training: TrainingState?
        var optimizerKind: String?
        var optimizerStep: Int?
        /// Optimiser slot names with one entry per parameter buffer.
        var optimizerSlots: [String: [Int]]?
    }
    struct Entry: Codable { var name: String; var shape: [Int] }

    public init(model: any AutoregressiveModel, training: TrainingState? = nil, optimizer: OptimizerState? = nil) {
        self.model = model.config
        parameters = model.parameters.map { ($0.name, $0.tensor.shape, $0.tensor.data) }
        self.training = training
        self.optimizer = optimizer
    }

    /// Writes atomically to `path`: readers see the old file or the complete new one.
    public func write(to path: String) throws {
        var header = Header(model: model, parameters: parameters.map { Entry(name: $0.name, shape: $0.shape) },
                            training: training)
        var blobs: [[Float]] = parameters.map(\.values)
        if let optimizer {
            header.optimizerKind = optimizer.kind
            header.optimizerStep = optimizer.step
            var slots: [String: [Int]] = [:]
            for key in optimizer.slots.keys.sorted() {
                slots[key] = optimizer.slots[key]!.map(\.count)
                blobs += optimizer.slots[key]!
            }
            header.optimizerSlots = slots
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(header)
        var bytes = Data(Checkpoint.magic)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(json)
        for blob in blobs { blob.withUnsafeBytes { bytes.append(contentsOf: $0) } }
        try writeAtomically(bytes, to: path)
    }

    /// Reads a checkpoint, checking its structure; errors name the file.
    public static func read(from path: String) throws -> Checkpoint {
        func fail(_ why: String) -> CheckpointError { CheckpointError(path: path, reason: why) }
        guard FileManager.default.fileExists(atPath: path) else { throw fail("no such file") }
        guard let bytes = FileManager.default.contents(atPath: path) else { throw fail("cannot read file") }
        guard bytes.count >= 16, Array(bytes.prefix(8)) == magic else { throw fail("not an Autoreg checkpoint (bad magic)") }
        let rawLength = bytes.subdata(in: 8..<16).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard let length = Int(exactly: rawLength), length > 0, length <= bytes.count - 16 else { throw fail("truncated header") }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: bytes.subdata(in: 16..<(16 + length))) }
        catch { throw fail("unreadable header: \(error)") }
        guard header.format == 1 else { throw fail("unsupported format version \(header.format)") }
        var offset = 16 + length
        func take(_ n: Int) throws -> [Float] {
            guard n >= 0, n <= (bytes.count - offset) / 4 else { throw fail("truncated: tensor data ends early") }
            let values = bytes.subdata(in: offset..<(offset + 4 * n)).withUnsafeBytes { raw in
                (0..<n).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            }
            offset += 4 * n
            return values
        }
        var params: [(String, [Int], [Float])] = []
        for e in header.parameters { params.append((e.name, e.shape, try take(e.shape.reduce(1, *)))) }
        var optimizer: OptimizerState?
        if let kind = header.optimizerKind, let slotSizes = header.optimizerSlots {
            var slots: [String: [[Float]]] = [:]
            for key in slotSizes.keys.sorted() { slots[key] = try slotSizes[key]!.map { try take($0) } }
            optimizer = OptimizerState(kind: kind, step: header.optimizerStep ?? 0, slots: slots)
        }
        guard offset == bytes.count else { throw fail("\(bytes.count - offset) unexpected trailing bytes") }
        var ck = Checkpoint(config: header.model, parameters: params)
        ck.training = header.training
        ck.optimizer = optimizer
        return ck
    }

    init(config: ModelConfig, parameters: [(String, [Int], [Float])]) {
        model = config
        self.parameters = parameters.map { (name: $0.0, shape: $0.1, values: $0.2) }
    }

    /// Rebuilds the model and loads the saved weights into it.
    public func makeModel(path: String = "checkpoint") throws -> any AutoregressiveModel {
        let m = try AutoregModels.makeModel(model)
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
            guard saved.name == p.name, saved.shape == p.tensor.shape else {
                throw CheckpointError(path: path, reason: "tensor \(saved.name) \(saved.shape) does not match \(p.name) \(p.tensor.shape)")
            }
        }
        for (saved, p) in zip(parameters, target) { p.tensor.data = saved.values }
    }
}

/// A checkpoint that cannot be read or does not fit.
public struct CheckpointError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Writes `data` to a temporary file beside `path`, fsyncs it, then renames it over `path`.
public func writeAtomically(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let dir = url.deletingLastPathComponent().path
    try FileManager.default.createDirectory(atPath: dir.isEmpty ? "." : dir, withIntermediateDirectories: true)
    let tmp = path + ".tmp"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw CheckpointError(path: tmp, reason: "cannot create (\(String(cString: strerror(errno))))") }
    var ok = true
    data.withUnsafeBytes { raw in
        var done = 0
        while done < raw.count {
            let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
            if n <= 0 { ok = false; break }
            done += n
        }
    }
    ok = ok && fsync(fd) == 0
    close(fd)
    guard ok else {
        unlink(tmp)
        throw CheckpointError(path: tmp, reason: "write failed (\(String(cString: strerror(errno))))")
    }
    guard rename(tmp, path) == 0 else {
        let why = String(cString: strerror(errno))
        unlink(tmp)
        throw CheckpointError(path: path, reason: "rename failed (\(why))")
    }
    let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY)
    if dfd >= 0 { fsync(dfd); close(dfd) }
}
