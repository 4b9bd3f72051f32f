import AutoregModels
import AutoregNN
import Foundation

/// The byte layout of a checkpoint file, and the checks made on a header before anything is
/// allocated from it.
///
/// Format 3 (written since models have their own options; format 2 added checksums):
///
/// | offset | bytes | content |
/// |---|---|---|
/// | 0 | 8 | the magic `AUTOREG1` |
/// | 8 | 8 | H, the header's length, UInt64 little-endian (1 ≤ H ≤ 16 MiB) |
/// | 16 | H | the JSON header, `"format": 3`; its `model` is a `ModelConfig` |
/// | 16 + H | 4·N | the tensors' float32 values, little-endian, in header order: the parameters, then each optimiser slot (slots in sorted name order, one buffer per entry of its size list) |
/// | 16 + H + 4·N | 4 | CRC-32 (zlib's `crc32`), UInt32 little-endian, of every byte before it |
///
/// Format 2 is the same with the flat model configuration of `LegacyModelConfig`; format 1
/// has no trailing CRC either. Both still load (format 1 with a note).
enum CheckpointFormat {
    static let magic = Array("AUTOREG1".utf8)
    static let current = 3
    static let prefixLength = 16
    static let trailerLength = 4
    /// Headers are a few kilobytes; anything longer is not a checkpoint.
    static let maxHeaderLength = 16 << 20
    /// Bound on counters (epochs, steps, images) so that `+ 1` and products with them stay far from overflow.
    static let maxCount = 1 << 48

    struct Header: Codable {
        var format = CheckpointFormat.current
        var model: ModelConfig
        var parameters: [Entry]
        var training: TrainingState?
        var optimizerKind: String?
        var optimizerStep: Int?
        /// Optimiser slot names with one entry per parameter buffer.
        var optimizerSlots: [String: [Int]]?
    }
    struct Entry: Codable { var name: String; var shape: [Int] }

    /// A header that passed every check, with where each tensor lies in the file.
    struct Layout {
        var header: Header
        var headerLength: Int
        /// Element counts of the parameters, in header order.
        var parameterCounts: [Int]
        /// Slot names (sorted) with the element count of each buffer.
        var slots: [(name: String, counts: [Int])]
        /// Offset of the first tensor byte.
        var dataOffset: Int
        /// Total float32 values after the header.
        var totalValues: Int
        /// The file length the header implies (including the CRC trailer for format 2).
        var fileLength: Int
        var hasChecksum: Bool { header.format >= 2 }
    }

    /// Reads the 16-byte prefix: checks the magic and returns the header length, which must fit in `fileSize`.
    static func headerLength(prefix: UnsafeRawBufferPointer, fileSize: Int, fail: (String) -> CheckpointError) throws -> Int {
        guard prefix.count >= prefixLength, fileSize >= prefixLength,
              Array(prefix[0..<8]) == magic else { throw fail("not an Autoreg checkpoint (bad magic)") }
        let raw = UInt64(littleEndian: prefix.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        guard raw > 0 else { throw fail("empty header (header length 0)") }
        guard raw <= UInt64(fileSize - prefixLength) else {
            throw fail("truncated header: it should be \(raw) bytes, the file has \(fileSize - prefixLength) after the prefix")
        }
        guard raw <= UInt64(maxHeaderLength) else {
            throw fail("header length \(raw) exceeds the \(maxHeaderLength >> 20) MiB limit")
        }
        return Int(raw)
    }

    /// Decodes and checks the header in `headerBytes` (the file's bytes 16..<16+H) against
    /// the file's total size: structure, sizes and every value, without reading tensor data.
    static func layout(headerBytes: UnsafeRawBufferPointer, fileSize: Int,
                       fail: (String) -> CheckpointError) throws -> Layout {
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(headerBytes))
        } catch let error as DecodingError {
            throw fail("unreadable header: \(describe(error))")
        } catch {
            throw fail("unreadable header: \(error)")
        }
        guard (1...current).contains(header.format) else {
            throw fail("unsupported format version \(header.format) (this build reads formats 1 to \(current))")
        }

        var parameterCounts: [Int] = []
        var total = 0
        func add(_ n: Int, _ what: String) throws {
            let (sum, overflow) = total.addingReportingOverflow(n)
            guard !overflow, sum <= Int.max / 4 else { throw fail("tensor sizes overflow at \(what)") }
            total = sum
        }
        for (i, e) in header.parameters.enumerated() {
            let n = try elementCount(e.shape, "parameter \(i) (\(e.name))", fail: fail)
            parameterCounts.append(n)
            try add(n, "parameter \(e.name)")
        }
        var slots: [(name: String, counts: [Int])] = []
        if let sizes = header.optimizerSlots {
            for name in sizes.keys.sorted() {
                let counts = sizes[name] ?? []
                for (i, n) in counts.enumerated() {
                    guard n >= 0 else { throw fail("optimizer slot \(name) buffer \(i) has negative size \(n)") }
                    try add(n, "optimizer slot \(name) buffer \(i)")
                }
                slots.append((name, counts))
            }
        }
        let headerLength = headerBytes.count
        let dataOffset = prefixLength + headerLength
        let trailer = header.format >= 2 ? trailerLength : 0
        let (afterData, o1) = dataOffset.addingReportingOverflow(total * 4)
        let (expected, o2) = afterData.addingReportingOverflow(trailer)
        guard !o1, !o2 else { throw fail("tensor sizes overflow") }
        let described = "the header's tensor shapes and slot sizes describe \(expected) bytes (\(total) float32 values"
            + (trailer > 0 ? " and a checksum" : "") + "), the file has \(fileSize)"
        if expected > fileSize { throw fail("truncated: " + described) }
        if expected < fileSize { throw fail("\(fileSize - expected) unexpected trailing bytes: " + described) }
        return Layout(header: header, headerLength: headerLength, parameterCounts: parameterCounts, slots: slots,
                      dataOffset: dataOffset, totalValues: total, fileLength: expected)
    }

    /// The number of elements of `shape`; throws for negative sizes and for products whose
    /// bytes (`bytesPerElement` each: 4 for float32, 8 for safetensors' int64) overflow.
    static func elementCount(_ shape: [Int], _ what: String, bytesPerElement: Int = 4,
                             fail: (String) -> CheckpointError) throws -> Int {
        var n = 1
        for d in shape {
            guard d >= 0 else { throw fail("\(what) has negative shape \(shape)") }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow, p <= Int.max / bytesPerElement else { throw fail("\(what) shape \(shape) has too many elements (the product overflows)") }
            n = p
        }
        return n
    }

    /// Checks the values of a structurally sound header: model configuration, training
    /// state and optimiser state. Names and shapes of parameters are checked against the
    /// model when it is loaded (`Checkpoint.load(into:)`).
    static func validateValues(_ layout: Layout, fail: (String) -> CheckpointError) throws {
        let header = layout.header
        let config = header.model
        // `validate` bounds every size field before it multiplies any.
        do { try config.validate() } catch { throw fail("model: \(error)") }

        if let t = header.training { try validateTraining(t, config: config, fail: fail) }

        switch (header.optimizerKind, header.optimizerSlots) {
        case (nil, nil):
            if let step = header.optimizerStep { throw fail("optimizerStep \(step) given without an optimizer") }
        case (nil, _?): throw fail("optimizerSlots given without optimizerKind")
        case (_?, nil): throw fail("optimizerKind given without optimizerSlots")
        case let (kind?, _?):
            try validateOptimizer(kind: kind, step: header.optimizerStep ?? 0, layout: layout, fail: fail)
            if let t = header.training, t.options.optimizer.rawValue != kind {
                throw fail("optimizerKind \(kind) differs from the training options' optimizer \(t.options.optimizer)")
            }
        }
    }

    static func validateTraining(_ t: TrainingState, config: ModelConfig, fail: (String) -> CheckpointError) throws {
        func count(_ name: String, _ value: Int) throws {
            guard value >= 0 else { throw fail("training state: \(name) \(value) is negative") }
            guard value <= maxCount else { throw fail("training state: \(name) \(value) is out of range") }
        }
        try count("epoch", t.epoch)
        try count("stepInEpoch", t.stepInEpoch)
        try count("step", t.step)
        try count("epochImages", t.epochImages)
        try count("emaUpdates", t.emaUpdates)
        guard t.elapsedSeconds.isFinite, t.elapsedSeconds >= 0 else {
            throw fail("training state: elapsedSeconds \(t.elapsedSeconds) is not a finite non-negative number")
        }
        guard t.epochLossSum.isFinite else { throw fail("training state: epochLossSum \(t.epochLossSum) is not finite") }
        for (name, rng) in [("shuffleRNG", t.shuffleRNG), ("noiseRNG", t.noiseRNG)] {
            // xoshiro's all-zero state is its one fixed point: it would yield 0 for ever. From any
            // other state eight zero outputs in a row do not happen.
            var g = rng
            if (0..<8).allSatisfy({ _ in g.next() == 0 }) { throw fail("training state: \(name) state is all zeros") }
        }
        if let nll = t.bestValidNLL, !nll.isFinite { throw fail("training state: bestValidNLL \(nll) is not finite") }
        if let best = t.bestEpoch, !(0...t.epoch).contains(best) {
            throw fail("training state: bestEpoch \(best) is outside 0...\(t.epoch) (the epochs completed)")
        }
        guard t.activeMask >= 0, t.activeMask < config.maskCount else {
            throw fail("training state: activeMask \(t.activeMask) is outside 0..<\(config.maskCount) (the model's masks)")
        }
        let o = t.options
        do { try o.validate() } catch { throw fail("training options: \(error)") }
        if let k = o.evalMasks, k < 1 { throw fail("training options: evalMasks \(k) must be at least 1") }
        // Batches of batchSize images are allocated at once; keep them addressable.
        let dimension = config.height * config.width * config.channels  // bounded by validateModelRanges
        for (name, size) in [("batchSize", o.batchSize), ("evalBatchSize", o.evalBatchSize)] {
            let (n, overflow) = size.multipliedReportingOverflow(by: dimension)
            guard !overflow, n <= 1 << 31 else {
                throw fail("training options: \(name) \(size) × \(dimension) pixels is too large a batch")
            }
        }
    }

    static func validateOptimizer(kind: String, step: Int, layout: Layout, fail: (String) -> CheckpointError) throws {
        let own: [String]
        switch kind {
        case "adam": own = ["m", "v"]
        case "sgd": own = ["velocity"]
        default: throw fail("optimizerKind '\(kind)' is not adam or sgd")
        }
        guard step >= 0, step <= maxCount else { throw fail("optimizerStep \(step) is out of range") }
        let counts = layout.parameterCounts
        let names = layout.header.parameters.map(\.name)
        for name in own where !layout.slots.contains(where: { $0.name == name }) {
            throw fail("optimizer slot \(name) is missing (\(kind) keeps \(own.joined(separator: " and ")))")
        }
        for slot in layout.slots {
            let isAverage = slot.name == WeightAverage.checkpointSlot
            guard isAverage || own.contains(slot.name) else {
                throw fail("optimizer slot \(slot.name) is not one \(kind) or the weight average uses")
            }
            // A fresh optimiser (no step yet) has empty buffers; otherwise one per parameter.
            if !isAverage && slot.counts.isEmpty && step == 0 { continue }
            guard slot.counts.count == counts.count else {
                throw fail("optimizer slot \(slot.name) has \(slot.counts.count) buffers for \(counts.count) parameters")
            }
            for (i, (n, expected)) in zip(slot.counts, counts).enumerated() where n != expected {
                throw fail("optimizer slot \(slot.name) buffer \(i) has size \(n), parameter \(names[i]) has \(expected) values")
            }
        }
    }

    /// One line for a JSON decoding error: what went wrong and at which field.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String {
            keys.isEmpty ? "the top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
                .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        func oneLine(_ s: String) -> String { s.split(whereSeparator: \.isNewline).joined(separator: " ") }
        switch error {
        case let .keyNotFound(key, context):
            return "field \(path(context.codingPath + [key])) is missing"
        case let .valueNotFound(_, context):
            return "field \(path(context.codingPath)) is null"
        case let .typeMismatch(type, context):
            return "field \(path(context.codingPath)) is not a \(type)"
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty { return "not valid JSON (\(oneLine(context.debugDescription)))" }
            return "field \(path(context.codingPath)): \(oneLine(context.debugDescription))"
        @unknown default:
            return oneLine("\(error)")
        }
    }
}
