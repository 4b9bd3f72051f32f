import AutoregTestSupport
import AutoregData
import AutoregModels
import AutoregNN
import AutoregTensor
import AutoregTraining
import Foundation
import XCTest

final class CheckpointRoundTripTests: XCTestCase {
    /// Writes `model` (with trained-looking weights), reads it back, rebuilds it and checks
    /// that parameters and logits are bit-identical.
    func assertRoundTrip(_ cfg: ModelConfig, file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = try makeTemporaryDirectory(self)
        let path = dir.appendingPathComponent("model.ckpt").path
        let model = try makeModel(cfg)
        perturb(model, seed: 11)
        try Checkpoint(model: model).write(to: path)

        let ck = try Checkpoint.read(from: path)
        XCTAssertEqual(ck.model, cfg, "config survives", file: file, line: line)
        XCTAssertNil(ck.training, file: file, line: line)
        XCTAssertNil(ck.optimizer, file: file, line: line)
        XCTAssertEqual(ck.parameters.map(\.name), model.parameters.map(\.name), file: file, line: line)
        XCTAssertEqual(ck.parameters.map(\.shape), model.parameters.map(\.tensor.shape), file: file, line: line)

        let rebuilt = try ck.makeModel(path: path)
        XCTAssertEqual(rebuilt.config, cfg, file: file, line: line)
        XCTAssertEqual(rebuilt.ordering, model.ordering, file: file, line: line)
        assertSameBits(parameterBits(rebuilt), parameterBits(model), "parameters bit-identical", file: file, line: line)
        // And not merely equal to the fresh initialisation.
        XCTAssertFalse(parameterBits(try makeModel(cfg)) == parameterBits(model), file: file, line: line)

        let x = randomBatch(batch: 9, dimension: cfg.dimension, levels: cfg.levels, seed: 5)
        if let made = model as? MADE, let made2 = rebuilt as? MADE {
            for k in 0..<cfg.maskCount {
                made.applyMask(k); made2.applyMask(k)
                XCTAssertEqual(logitBits(made2, x), logitBits(made, x), "logits of mask \(k)", file: file, line: line)
            }
        } else {
            XCTAssertEqual(logitBits(rebuilt, x), logitBits(model, x), "logits bit-identical", file: file, line: line)
        }
    }

    func testFVSBNRoundTrip() throws { try assertRoundTrip(try config(.fvsbn)) }

    func testNADERoundTrip() throws { try assertRoundTrip(try config(.nade, hidden: [10], ordering: .random)) }

    func testMADEWithThreeMasksRoundTrip() throws {
        try assertRoundTrip(try config(.made, hidden: [16, 12], masks: 3, ordering: .random, direct: true, seed: 21))
    }

    func testCategoricalMADERoundTrip() throws {
        try assertRoundTrip(try config(.made, height: 2, width: 3, levels: 256, hidden: [8], masks: 2))
    }

    /// Adam's moments and step count survive the file, and the restored optimiser takes
    /// exactly the same next step as the original.
    func testAdamStateRoundTrip() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = dir.appendingPathComponent("opt.ckpt").path
        let cfg = try config(.made, hidden: [10], masks: 3)
        let model = try makeModel(cfg)
        let adam = Adam(learningRate: 0.02)
        let params = model.parameters.map(\.tensor)
        let data = tensor(of: prototypeDataset(count: 20, seed: 1))
        func step(_ m: any AutoregressiveModel, _ opt: any Optimizer) {
            m.zeroGrad()
            m.loss(data).backward()
            opt.step(m.parameters.map(\.tensor))
            (m as? MADE)?.nextMask()
        }
        for _ in 0..<3 { step(model, adam) }
        _ = params

        var state = TrainingState(options: TrainingOptions())
        state.step = 3
        state.activeMask = (model as! MADE).activeMask
        try Checkpoint(model: model, training: state, optimizer: adam.state).write(to: path)
        let ck = try Checkpoint.read(from: path)

        let saved = adam.state
        let opt = try XCTUnwrap(ck.optimizer)
        XCTAssertEqual(opt.kind, "adam")
        XCTAssertEqual(opt.step, 3)
        XCTAssertEqual(Set(opt.slots.keys), ["m", "v"])
        for key in ["m", "v"] {
            XCTAssertEqual(opt.slots[key]!.count, params.count)
            XCTAssertEqual(opt.slots[key]!.map(bits), saved.slots[key]!.map(bits), "slot \(key) bit-identical")
            XCTAssertTrue(opt.slots[key]!.contains { $0.contains { $0 != 0 } }, "slot \(key) is non-trivial")
        }
        XCTAssertEqual(ck.training?.step, 3)
        XCTAssertEqual(ck.training?.activeMask, 3 % 3)

        // Continue both: the original and a rebuilt model with a restored Adam.
        let rebuilt = try ck.makeModel(path: path) as! MADE
        rebuilt.applyMask(ck.training!.activeMask)
        let adam2 = Adam(learningRate: 0.02)
        try adam2.restore(opt, for: rebuilt.parameters.map(\.tensor))
        for _ in 0..<2 { step(model, adam); step(rebuilt, adam2) }
        assertSameBits(parameterBits(rebuilt), parameterBits(model), "restored Adam continues identically")
        XCTAssertEqual(adam2.state.step, 5)
    }

    func testSGDStateRoundTrip() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = dir.appendingPathComponent("sgd.ckpt").path
        let model = try makeModel(try config(.fvsbn))
        let sgd = SGD(learningRate: 0.1, momentum: 0.8)
        let data = tensor(of: prototypeDataset(count: 20, seed: 1))
        for _ in 0..<2 {
            model.zeroGrad(); model.loss(data).backward(); sgd.step(model.parameters.map(\.tensor))
        }
        try Checkpoint(model: model, optimizer: sgd.state).write(to: path)
        let ck = try Checkpoint.read(from: path)
        let opt = try XCTUnwrap(ck.optimizer)
        XCTAssertEqual(opt.kind, "sgd")
        XCTAssertEqual(opt.step, 2)
        XCTAssertEqual(opt.slots["velocity"]!.map(bits), sgd.state.slots["velocity"]!.map(bits))
    }

    /// An optimiser that has not stepped yet has empty buffers; they must still round-trip.
    func testFreshOptimizerStateRoundTrip() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = dir.appendingPathComponent("fresh.ckpt").path
        let model = try makeModel(try config(.nade))
        try Checkpoint(model: model, optimizer: Adam().state).write(to: path)
        let opt = try XCTUnwrap(Checkpoint.read(from: path).optimizer)
        XCTAssertEqual(opt.step, 0)
        XCTAssertEqual(opt.slots["m"]?.count, 0)
        try Adam().restore(opt, for: model.parameters.map(\.tensor))
    }

    /// Checkpoints written before an option existed must still load (the option takes its default):
    /// the header's training options are cut down to the fields of format 1's first release.
    func testCheckpointFromEarlierVersionStillReads() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = dir.appendingPathComponent("old.ckpt").path
        let model = try makeModel(try config(.nade, hidden: [5]))
        var state = TrainingState(options: trainingOptions(dir, epochs: 4))
        state.epoch = 1
        try Checkpoint(model: model, training: state, optimizer: Adam().state).write(to: path)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let length = Int(bytes.subdata(in: 8..<16).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        var json = String(decoding: bytes.subdata(in: 16..<(16 + length)), as: UTF8.self)
        let firstRelease: Set<String> = ["dataset", "dataDirectory", "binarization", "batchSize", "epochs", "learningRate",
                                         "optimizer", "momentum", "schedule", "clipNorm", "seed", "maxMinutes", "trainLimit",
                                         "validLimit", "evalMasks", "checkpointMinutes", "evalBatchSize", "outputDirectory"]
        let stateFirstRelease: Set<String> = ["options", "epoch", "stepInEpoch", "step", "shuffleRNG", "noiseRNG",
                                              "bestValidNLL", "bestEpoch", "elapsedSeconds", "activeMask"]
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let training = try XCTUnwrap(header["training"] as? [String: Any])
        let options = try XCTUnwrap(training["options"] as? [String: Any])
        let newer = options.keys.filter { !firstRelease.contains($0) } + training.keys.filter { !stateFirstRelease.contains($0) }
        var removed: [String] = []
        for key in newer {
            // Scalar values only (what an added field would be); drop one neighbouring comma.
            let value = #"(-?[0-9.eE+-]+|"[^"]*"|true|false|null)"#
            for pattern in [#""\#(key)":\#(value),"#, #","\#(key)":\#(value)"#] {
                if let r = json.range(of: pattern, options: .regularExpression) { json.removeSubrange(r); removed.append(key); break }
            }
        }
        XCTAssertEqual(removed.sorted(), newer.sorted(), "could strip every newer field")
        // Files that old were format 1: no CRC trailer after the tensors.
        json = json.replacingOccurrences(of: "\"format\":3", with: "\"format\":1")
        var old = Data(Array("AUTOREG1".utf8))
        withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { old.append(contentsOf: $0) }
        old.append(Data(json.utf8))
        old.append(bytes.subdata(in: (16 + length)..<(bytes.count - 4)))
        bytes = old
        try bytes.write(to: URL(fileURLWithPath: path))

        let ck = try Checkpoint.read(from: path)  // fails if a newer option is required in the header
        XCTAssertEqual(ck.training?.epoch, 1, "removed \(removed)")
        XCTAssertTrue(ck.notes.contains { $0.contains("format 1") }, "\(ck.notes)")
        XCTAssertEqual(ck.training?.options.epochs, 4)
        assertSameBits(parameterBits(try ck.makeModel(path: path)), parameterBits(model))
    }

    /// The training state (options, counters, generator states) survives exactly.
    func testTrainingStateRoundTrip() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = dir.appendingPathComponent("state.ckpt").path
        var options = trainingOptions(dir, epochs: 7, batchSize: 13, learningRate: 3e-4, optimizer: "sgd",
                                      seed: 0xFFFF_FFFF_FFFF_FFF1, binarization: .dynamic)
        options.schedule = .step(every: 3, gamma: 0.5)
        options.clipNorm = 2.5
        options.maxMinutes = 1e-9
        var state = TrainingState(options: options)
        state.epoch = 2; state.stepInEpoch = 5; state.step = 19
        state.bestValidNLL = 12.345678; state.bestEpoch = 2; state.activeMask = 1
        // Advance the generators so that their words are large 64-bit values.
        for _ in 0..<17 { _ = state.shuffleRNG.next(); _ = state.noiseRNG.next() }
        // activeMask 1 needs a model with at least two masks.
        try Checkpoint(model: try makeModel(try config(.made, hidden: [8], masks: 2)), training: state).write(to: path)

        let t = try XCTUnwrap(Checkpoint.read(from: path).training)
        XCTAssertEqual(t.epoch, 2); XCTAssertEqual(t.stepInEpoch, 5); XCTAssertEqual(t.step, 19)
        XCTAssertEqual(t.bestValidNLL?.bitPattern, Float(12.345678).bitPattern)
        XCTAssertEqual(t.bestEpoch, 2); XCTAssertEqual(t.activeMask, 1)
        XCTAssertEqual(t.options.seed, 0xFFFF_FFFF_FFFF_FFF1)
        XCTAssertEqual(t.options.learningRate.bitPattern, Float(3e-4).bitPattern)
        XCTAssertEqual(t.options.schedule, .step(every: 3, gamma: 0.5))
        XCTAssertEqual(t.options.binarization, .dynamic)
        XCTAssertEqual(t.options.clipNorm, 2.5)
        XCTAssertEqual(t.options.maxMinutes, 1e-9)
        var a = t.shuffleRNG, b = state.shuffleRNG, c = t.noiseRNG, e = state.noiseRNG
        for _ in 0..<8 {
            XCTAssertEqual(a.next(), b.next(), "shuffle generator state survives")
            XCTAssertEqual(c.next(), e.next(), "noise generator state survives")
        }
    }
}

final class CorruptCheckpointTests: XCTestCase {
    var dir: URL!
    var goodBytes = Data()
    var headerLength = 0

    override func setUpWithError() throws {
        dir = try makeTemporaryDirectory(self)
        let model = try makeModel(try config(.nade, hidden: [6]))
        let adam = Adam()
        let data = tensor(of: prototypeDataset(count: 10, seed: 2))
        model.loss(data).backward()
        adam.step(model.parameters.map(\.tensor))
        let path = dir.appendingPathComponent("good.ckpt").path
        try Checkpoint(model: model, training: TrainingState(options: TrainingOptions()), optimizer: adam.state)
            .write(to: path)
        goodBytes = try Data(contentsOf: URL(fileURLWithPath: path))
        headerLength = Int(goodBytes.subdata(in: 8..<16).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        XCTAssertGreaterThan(headerLength, 0)
        XCTAssertGreaterThan(goodBytes.count, 16 + headerLength)
    }

    /// Writes `bytes` to a fresh file and asserts that reading it throws a CheckpointError
    /// naming the file and whose reason mentions `keyword`.
    func assertRejected(_ bytes: Data, _ keyword: String, name: String,
                        file: StaticString = #filePath, line: UInt = #line) {
        let path = dir.appendingPathComponent(name).path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: bytes), file: file, line: line)
        assertReadFails(path, keyword, file: file, line: line)
    }

    func assertReadFails(_ path: String, _ keyword: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Checkpoint.read(from: path), file: file, line: line) { error in
            guard let e = error as? CheckpointError else {
                return XCTFail("expected CheckpointError, got \(type(of: error)): \(error)", file: file, line: line)
            }
            XCTAssertEqual(e.path, path, file: file, line: line)
            XCTAssertTrue(e.description.contains(path), "'\(e.description)' names the file", file: file, line: line)
            XCTAssertTrue(e.description.lowercased().contains(keyword), "'\(e.description)' mentions \(keyword)",
                          file: file, line: line)
        }
    }

    func testGoodFileReads() throws {
        let path = dir.appendingPathComponent("copy.ckpt").path
        try goodBytes.write(to: URL(fileURLWithPath: path))
        let ck = try Checkpoint.read(from: path)
        XCTAssertNotNil(ck.optimizer)
        XCTAssertNotNil(ck.training)
    }

    func testMissingFile() throws {
        assertReadFails(dir.appendingPathComponent("absent.ckpt").path, "no such file")
    }

    func testDirectoryInsteadOfFile() throws {
        let sub = dir.appendingPathComponent("folder.ckpt")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        XCTAssertThrowsError(try Checkpoint.read(from: sub.path)) { error in
            XCTAssertTrue("\(error)".contains(sub.path), "\(error)")
        }
    }

    func testEmptyFile() throws { assertRejected(Data(), "magic", name: "empty.ckpt") }

    func testWrongMagic() throws {
        var bytes = goodBytes
        bytes.replaceSubrange(0..<8, with: Array("AUTOREG2".utf8))
        assertRejected(bytes, "magic", name: "magic.ckpt")
        assertRejected(Data([0x89, 0x50, 0x4E, 0x47]) + goodBytes.dropFirst(4), "magic", name: "png.ckpt")
    }

    func testTruncatedInsideHeader() throws {
        assertRejected(goodBytes.prefix(16 + headerLength / 2), "truncated", name: "header-half.ckpt")
        assertRejected(goodBytes.prefix(16 + headerLength - 1), "truncated", name: "header-minus-one.ckpt")
        assertRejected(goodBytes.prefix(16), "truncated", name: "header-none.ckpt")
    }

    func testHeaderLengthZeroOrAbsurd() throws {
        var zero = goodBytes
        zero.replaceSubrange(8..<16, with: [UInt8](repeating: 0, count: 8))
        assertRejected(zero, "header", name: "zero-length.ckpt")
        var huge = goodBytes
        withUnsafeBytes(of: (UInt64(1) << 62).littleEndian) { huge.replaceSubrange(8..<16, with: $0) }
        assertRejected(huge, "truncated", name: "huge-length.ckpt")
    }

    func testGarbageHeader() throws {
        var bytes = goodBytes
        bytes.replaceSubrange(16..<(16 + min(10, headerLength)), with: [UInt8](repeating: 0x7B, count: min(10, headerLength)))
        assertRejected(bytes, "header", name: "garbage-header.ckpt")
    }

    func testTruncatedInTensorData() throws {
        assertRejected(goodBytes.prefix(16 + headerLength), "truncated", name: "no-data.ckpt")
        assertRejected(goodBytes.prefix(16 + headerLength + 6), "truncated", name: "first-tensor.ckpt")
        assertRejected(goodBytes.dropLast(1), "truncated", name: "last-byte.ckpt")
        assertRejected(goodBytes.dropLast(4), "truncated", name: "last-float.ckpt")
    }

    func testTrailingBytes() throws {
        assertRejected(goodBytes + Data([0, 0, 0, 0]), "trailing", name: "trailing4.ckpt")
        assertRejected(goodBytes + Data([1]), "trailing", name: "trailing1.ckpt")
    }

    /// A well-formed file whose header gives a parameter another shape (same element count).
    func testHeaderShapeDiffersFromModel() throws {
        let path = dir.appendingPathComponent("transposed.ckpt").path
        let model = try makeModel(try config(.nade, hidden: [6]))  // W: [16, 6]
        var ck = Checkpoint(model: model)
        XCTAssertEqual(ck.parameters[0].name, "W")
        XCTAssertEqual(ck.parameters[0].shape, [16, 6])
        ck.parameters[0].shape = [6, 16]
        try ck.write(to: path)
        let read = try Checkpoint.read(from: path)  // structurally fine
        XCTAssertThrowsError(try read.makeModel(path: path)) { error in
            guard let e = error as? CheckpointError else { return XCTFail("expected CheckpointError, got \(error)") }
            XCTAssertTrue(e.description.contains(path), e.description)
            XCTAssertTrue(e.description.contains("W"), e.description)
            XCTAssertTrue(e.description.contains("[6, 16]") && e.description.contains("[16, 6]"), e.description)
        }
    }

    /// load(into:) a model of another size or kind: a CheckpointError naming the path.
    func testLoadIntoMismatchedModel() throws {
        let path = dir.appendingPathComponent("nade6.ckpt").path
        let small = try makeModel(try config(.nade, hidden: [6]))
        try Checkpoint(model: small).write(to: path)
        let ck = try Checkpoint.read(from: path)
        let before = parameterBits(try makeModel(try config(.nade, hidden: [7])))
        let bigger = try makeModel(try config(.nade, hidden: [7]))
        XCTAssertThrowsError(try ck.load(into: bigger, path: path)) { error in
            guard let e = error as? CheckpointError else { return XCTFail("expected CheckpointError, got \(error)") }
            XCTAssertTrue(e.description.contains(path), e.description)
            XCTAssertTrue(e.description.contains("[16, 6]") && e.description.contains("[16, 7]"), e.description)
        }
        assertSameBits(parameterBits(bigger), before, "a failed load leaves the model untouched")
        XCTAssertThrowsError(try ck.load(into: try makeModel(try config(.made, hidden: [6])), path: path)) { error in
            XCTAssertTrue("\(error)".contains(path), "\(error)")
        }
        XCTAssertThrowsError(try ck.load(into: try makeModel(try config(.fvsbn)), path: path)) { error in
            XCTAssertTrue("\(error)".contains(path), "\(error)")
            XCTAssertTrue("\(error)".contains("4") && "\(error)".contains("2"), "counts tensors: \(error)")
        }
    }

    /// A mismatch in the last tensor must not leave the model half-loaded.
    func testFailedLoadLeavesModelUntouched() throws {
        let path = dir.appendingPathComponent("last-mismatch.ckpt").path
        let source = try makeModel(try config(.nade, hidden: [6]))
        perturb(source, seed: 8)
        var ck = Checkpoint(model: source)
        XCTAssertEqual(ck.parameters.last?.name, "b")
        ck.parameters[ck.parameters.count - 1].shape = [1, 16]
        try ck.write(to: path)
        let target = try makeModel(try config(.nade, hidden: [6]))
        let before = parameterBits(target)
        XCTAssertThrowsError(try Checkpoint.read(from: path).load(into: target, path: path)) { error in
            XCTAssertTrue("\(error)".contains(path), "\(error)")
        }
        assertSameBits(parameterBits(target), before, "no tensor is copied when any tensor mismatches")
    }

    /// A header that lists fewer tensors than the model has.
    func testMissingParameterInHeader() throws {
        let path = dir.appendingPathComponent("short.ckpt").path
        var ck = Checkpoint(model: try makeModel(try config(.nade, hidden: [6])))
        ck.parameters.removeLast()
        try ck.write(to: path)
        XCTAssertThrowsError(try Checkpoint.read(from: path).makeModel(path: path)) { error in
            XCTAssertTrue(error is CheckpointError)
            XCTAssertTrue("\(error)".contains(path), "\(error)")
        }
    }
}

final class AtomicWriteTests: XCTestCase {
    func leftovers(in directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".tmp") }
    }

    func testWriteCreatesFoldersAndLeavesNoTemporaryFile() throws {
        let dir = try makeTemporaryDirectory(self)
        let target = dir.appendingPathComponent("a/b/c.bin")
        let payload = Data((0..<1000).map { UInt8($0 % 251) })
        try writeAtomically(payload, to: target.path)
        XCTAssertEqual(try Data(contentsOf: target), payload)
        XCTAssertEqual(try leftovers(in: target.deletingLastPathComponent()), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: target.path + ".tmp"))
    }

    func testOverwriteReplacesCompletely() throws {
        let dir = try makeTemporaryDirectory(self)
        let target = dir.appendingPathComponent("file.bin")
        try writeAtomically(Data(repeating: 0xAB, count: 100_000), to: target.path)
        let short = Data("short".utf8)
        try writeAtomically(short, to: target.path)
        XCTAssertEqual(try Data(contentsOf: target), short, "no tail of the longer old file survives")
        XCTAssertEqual(try leftovers(in: dir), [])
    }

    func testCheckpointOverwriteReplacesModel() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = dir.appendingPathComponent("m.ckpt").path
        let big = try makeModel(try config(.made, hidden: [40, 40], masks: 2))
        try Checkpoint(model: big).write(to: path)
        let small = try makeModel(try config(.fvsbn, height: 2, width: 2))
        perturb(small, seed: 4)
        try Checkpoint(model: small).write(to: path)
        let ck = try Checkpoint.read(from: path)
        XCTAssertEqual(ck.model.kind, .fvsbn)
        assertSameBits(parameterBits(try ck.makeModel(path: path)), parameterBits(small))
        XCTAssertEqual(try leftovers(in: dir), [])
    }

    /// A stale temporary file from a crashed writer does not get in the way.
    func testStaleTemporaryFileIsReplaced() throws {
        let dir = try makeTemporaryDirectory(self)
        let target = dir.appendingPathComponent("x.bin")
        try Data(repeating: 1, count: 5000).write(to: URL(fileURLWithPath: target.path + ".tmp"))
        try writeAtomically(Data([1, 2, 3]), to: target.path)
        XCTAssertEqual(try Data(contentsOf: target), Data([1, 2, 3]))
        XCTAssertEqual(try leftovers(in: dir), [])
    }

    func testUncreatableDirectoryThrows() throws {
        let dir = try makeTemporaryDirectory(self)
        let blocker = dir.appendingPathComponent("plain-file")
        try Data("x".utf8).write(to: blocker)
        let target = blocker.appendingPathComponent("sub/out.ckpt").path
        XCTAssertThrowsError(try writeAtomically(Data([1]), to: target))
        XCTAssertThrowsError(try Checkpoint(model: try makeModel(try config(.fvsbn))).write(to: target))
        XCTAssertEqual(try Data(contentsOf: blocker), Data("x".utf8), "the blocking file is untouched")
    }

    /// When the final rename fails (the target is a non-empty directory) the call throws,
    /// names the target, and leaves no temporary file behind.
    func testFailedRenameLeavesNoTemporaryFile() throws {
        let dir = try makeTemporaryDirectory(self)
        let target = dir.appendingPathComponent("occupied.ckpt")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: target.appendingPathComponent("inside"))
        XCTAssertThrowsError(try writeAtomically(Data([1, 2, 3]), to: target.path)) { error in
            XCTAssertTrue("\(error)".contains(target.path), "\(error)")
        }
        XCTAssertEqual(try leftovers(in: dir), [], "temporary file removed after a failed rename")
        XCTAssertEqual(try Data(contentsOf: target.appendingPathComponent("inside")), Data("keep".utf8))
    }
}
