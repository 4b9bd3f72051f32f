import AutoregModels
import Foundation

/// Checkpoints to and from safetensors files (`autoreg export` and `autoreg import`).
///
/// The file holds every parameter under its name in `model.parameters` (F32, the shapes as in
/// Swift), the fixed buffers of a `FixedBuffers` model as `buffers.NAME` (I64), and in
/// `__metadata__`:
///
/// | key | value |
/// |---|---|
/// | `format` | `autoreg-safetensors/1` |
/// | `autoreg.config` | the `ModelConfig` as JSON, exactly as a checkpoint header stores it |
/// | `autoreg.parameters` | JSON array of the parameter names in the model's order |
/// | `autoreg.buffers` | JSON array of the buffer tensors' names |
/// | `autoreg.logits` | how the model's logits are laid out, in words |
/// | `autoreg.epoch`, `autoreg.step` | the training progress of the checkpoint, when it has one |
///
/// Optimiser and training state are not exported.
extension Checkpoint {
    public static let safeTensorsFormat = "autoreg-safetensors/1"
    /// Prefix of the fixed buffers' tensor names.
    public static let bufferPrefix = "buffers."

    /// The weights, buffers and configuration as a safetensors file (`path` names the
    /// checkpoint in errors).
    public func safeTensors(path: String = "checkpoint") throws -> SafeTensorsFile {
        let model = try makeModel(path: path)
        var tensors = parameters.map { SafeTensorsFile.Entry(name: $0.name, shape: $0.shape, values: .f32($0.values)) }
        for (name, values) in parameters.map({ ($0.name, $0.values) }) {
            if let i = values.firstIndex(where: { !$0.isFinite }) {
                throw CheckpointError(path: path, reason: "parameter \(name) value \(i) is \(values[i]); not exported")
            }
        }
        let buffers = (model as? any FixedBuffers)?.fixedBuffers ?? []
        for b in buffers { tensors.append(SafeTensorsFile.Entry(name: Self.bufferPrefix + b.name, shape: b.shape, values: b.tensorValues)) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func json<T: Encodable>(_ value: T) throws -> String {
            do { return String(decoding: try encoder.encode(value), as: UTF8.self) } catch {
                throw CheckpointError(path: path, reason: "cannot encode the metadata: \(error)")
            }
        }
        let c = self.model
        var metadata = [
            "format": Self.safeTensorsFormat,
            "autoreg.config": try json(c),
            "autoreg.parameters": try json(parameters.map(\.name)),
            "autoreg.buffers": try json(buffers.map { Self.bufferPrefix + $0.name }),
            "autoreg.logits": "\(c.output.width == 1 ? "[batch, D]" : "[batch, D, \(c.output.width)]") for \(c.output): "
                + "D = height*width*channels sub-pixels, row-major with the channels of a pixel last",
        ]
        if let t = training {
            metadata["autoreg.epoch"] = String(t.epoch)
            metadata["autoreg.step"] = String(t.step)
        }
        return SafeTensorsFile(metadata: metadata, tensors: tensors)
    }

    /// A checkpoint (weights only, no training or optimiser state) from a file `safeTensors`
    /// wrote or one edited elsewhere with the same names: checks the format, the configuration,
    /// that the tensors are exactly the configured model's parameters (names, F32, shapes, finite
    /// values) and that any buffers equal those the configuration's seed gives.
    public init(safeTensors file: SafeTensorsFile, path: String) throws {
        func fail(_ why: String) -> CheckpointError { CheckpointError(path: path, reason: why) }
        guard let format = file.metadata["format"] else {
            throw fail("no \"format\" in __metadata__: not an Autoreg export (expected \"\(Self.safeTensorsFormat)\")")
        }
        guard format == Self.safeTensorsFormat else {
            throw fail("__metadata__ format is \"\(format)\"; this build reads \"\(Self.safeTensorsFormat)\"")
        }
        guard let configText = file.metadata["autoreg.config"] else { throw fail("no autoreg.config in __metadata__") }
        let config: ModelConfig
        do { config = try JSONDecoder().decode(ModelConfig.self, from: Data(configText.utf8)) } catch let error as DecodingError {
            throw fail("autoreg.config: \(CheckpointFormat.describe(error))")
        } catch {
            throw fail("autoreg.config: \(error)")
        }
        let model: any AutoregressiveModel
        do { model = try AutoregModels.makeModel(config) } catch { throw fail("autoreg.config: \(error)") }

        var byName: [String: SafeTensorsFile.Entry] = [:]
        for t in file.tensors { byName[t.name] = t }
        var params: [(String, [Int], [Float])] = []
        for p in model.parameters {
            guard let t = byName.removeValue(forKey: p.name) else {
                throw fail("tensor \(p.name) is missing (the configured \(config.kind) has \(model.parameters.count) parameter tensors)")
            }
            guard case let .f32(values) = t.values else {
                throw fail("tensor \(p.name) has dtype \(t.values.dtype.rawValue), a parameter must be F32")
            }
            guard t.shape == p.tensor.shape else {
                throw fail("tensor \(p.name) has shape \(t.shape), the configured \(config.kind) has \(p.tensor.shape)")
            }
            if let i = values.firstIndex(where: { !$0.isFinite }) {
                throw fail("tensor \(p.name) value \(i) is \(values[i]) (weights must be finite)")
            }
            params.append((p.name, t.shape, values))
        }
        for b in (model as? any FixedBuffers)?.fixedBuffers ?? [] {
            let name = Self.bufferPrefix + b.name
            guard let t = byName.removeValue(forKey: name) else { continue }  // the seed gives it again
            let expected = b.tensorValues
            guard t.shape == b.shape, t.values.dtype == expected.dtype else {
                throw fail("buffer \(name) is \(t.values.dtype.rawValue) \(t.shape), autoreg.config's seed gives "
                    + "\(expected.dtype.rawValue) \(b.shape)")
            }
            if let i = t.values.firstDifference(from: expected) {
                throw fail("buffer \(name) differs from the one autoreg.config's seed gives (at element \(i)): "
                    + "the buffers and the configuration do not belong together")
            }
        }
        if let extra = byName.keys.sorted().first {
            throw fail("tensor \(extra) is neither a parameter nor a buffer of the configured \(config.kind)"
                + (byName.count > 1 ? " (nor are \(byName.count - 1) more)" : ""))
        }
        self.init(config: config, parameters: params)
    }
}

extension SafeTensorsFile.Values {
    /// The first index at which two value lists of one dtype and count differ.
    func firstDifference(from other: Self) -> Int? {
        switch (self, other) {
        case let (.f32(a), .f32(b)): return a.indices.first { a[$0].bitPattern != b[$0].bitPattern }
        case let (.i64(a), .i64(b)): return a.indices.first { a[$0] != b[$0] }
        default: return 0
        }
    }
}

extension FixedBuffer {
    /// The values as a safetensors tensor holds them: integers as I64, reals as F32.
    var tensorValues: SafeTensorsFile.Values {
        switch values {
        case let .integers(v): return .i64(v.map(Int64.init))
        case let .reals(v): return .f32(v)
        }
    }
}
