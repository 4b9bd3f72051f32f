import AutoregModels
import AutoregNN
import AutoregTensor
import AutoregTraining
import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// CRC-32 (polynomial 0xEDB88320), written out here so that the tests do not lean on the
/// implementation they check.
func referenceCRC32<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = (crc >> 1) ^ (crc & 1 == 1 ? 0xEDB8_8320 : 0) }
    }
    return ~crc
}

/// A checkpoint file taken apart: the JSON header text and the tensor bytes (without the CRC).
struct CheckpointParts {
    var json: String
    var tensors: Data
    var format: Int

    init(_ bytes: Data) {
        let length = Int(bytes.subdata(in: 8..<16).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        json = String(decoding: bytes.subdata(in: 16..<(16 + length)), as: UTF8.self)
        format = json.contains("\"format\":1") ? 1 : json.contains("\"format\":2") ? 2 : 3
        tensors = bytes.subdata(in: (16 + length)..<(bytes.count - (format >= 2 ? 4 : 0)))
    }

    /// The file again; formats 2 and 3 get a freshly computed, valid CRC.
    func assembled() -> Data {
        var out = Data("AUTOREG1".utf8)
        withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(Data(json.utf8))
        out.append(tensors)
        if format >= 2 { withUnsafeBytes(of: referenceCRC32(out).littleEndian) { out.append(contentsOf: $0) } }
        return out
    }

    /// Replaces the first `"key":scalar` (the key as it appears in the sorted JSON) by `"key":value`.
    mutating func set(_ key: String, _ value: String) {
        let pattern = #""\#(key)":(-?[0-9.eE+-]+|"[^"]*"|true|false|null)"#
        guard let r = json.range(of: pattern, options: .regularExpression) else {
            return XCTFail("no scalar field \(key) in \(json)")
        }
        json.replaceSubrange(r, with: "\"\(key)\":\(value)")
    }

    mutating func replace(_ text: String, with new: String) {
        guard let r = json.range(of: text) else { return XCTFail("no \(text) in \(json)") }
        json.replaceSubrange(r, with: new)
    }

    /// Sets float number `index` of the tensor data (all tensors in file order) to `value`.
    mutating func setValue(at index: Int, _ value: Float) {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { tensors.replaceSubrange((4 * index)..<(4 * index + 4), with: $0) }
    }
}

final class CheckpointIntegrityTests: XCTestCase {
    var dir: URL!
    var model: (any AutoregressiveModel)!
    /// A NADE (W [16, 6], c [6], V [16, 6], b [16]) with Adam state and training state.
    var goodBytes = Data()

    override func setUpWithError() throws {
        dir = try makeTemporaryDirectory(self, "autoreg-ckpt-integrity")
        model = try makeModel(try config(.nade, hidden: [6]))
        perturb(model, seed: 3)
        let adam = Adam()
        model.loss(tensor(of: prototypeDataset(count: 10, seed: 2))).backward()
        adam.step(model.parameters.map(\.tensor))
        var state = TrainingState(options: trainingOptions(dir, epochs: 5))
        state.epoch = 2; state.step = 7; state.stepInEpoch = 1; state.bestEpoch = 2; state.bestValidNLL = 9.5
        let path = dir.appendingPathComponent("good.ckpt").path
        try Checkpoint(model: model, training: state, optimizer: adam.state).write(to: path)
        goodBytes = try Data(contentsOf: URL(fileURLWithPath: path))
    }

    func file(_ name: String, _ bytes: Data) -> String {
        let path = dir.appendingPathComponent(name).path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: bytes))
        return path
    }

    /// Reading `bytes` (from a file and from memory) throws a CheckpointError naming the file
    /// whose reason contains each of `keywords`.
    func assertRejected(_ bytes: Data, _ keywords: [String], name: String,
                        file sourceFile: StaticString = #filePath, line: UInt = #line) {
        let path = file(name, bytes)
        for (how, attempt) in [("read", { try Checkpoint.read(from: path) }),
                               ("decode", { try Checkpoint.decode(bytes: Array(bytes), path: path) })] {
            XCTAssertThrowsError(try attempt(), how, file: sourceFile, line: line) { error in
                guard let e = error as? CheckpointError else {
                    return XCTFail("\(how): expected CheckpointError, got \(error)", file: sourceFile, line: line)
                }
                XCTAssertEqual(e.path, path, file: sourceFile, line: line)
                XCTAssertTrue(e.description.hasPrefix(path + ": "), e.description, file: sourceFile, line: line)
                XCTAssertFalse(e.description.contains("\n"), "one line: \(e.description)", file: sourceFile, line: line)
                for k in keywords {
                    XCTAssertTrue(e.reason.contains(k), "\(how): '\(e.reason)' mentions \(k)", file: sourceFile, line: line)
                }
            }
        }
    }

    func rejected(_ name: String, _ keywords: [String], file: StaticString = #filePath, line: UInt = #line,
                  _ edit: (inout CheckpointParts) -> Void) {
        var parts = CheckpointParts(goodBytes)
        edit(&parts)
        assertRejected(parts.assembled(), keywords, name: name, file: file, line: line)
    }

    // MARK: - Layout and round trip

    func testCurrentFormatWithValidTrailer() throws {
        let parts = CheckpointParts(goodBytes)
        XCTAssertEqual(parts.format, 3)
        XCTAssertTrue(parts.json.contains("\"format\":3"))
        let stored = goodBytes.suffix(4).withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
        XCTAssertEqual(stored, referenceCRC32(goodBytes.dropLast(4)), "the trailer is the CRC-32 of everything before it")
        XCTAssertEqual(parts.assembled(), goodBytes)
        let ck = try Checkpoint.read(from: file("copy.ckpt", goodBytes))
        XCTAssertEqual(ck.notes, [])
        assertSameBits(parameterBits(try ck.makeModel()), parameterBits(model))
        let fromMemory = try Checkpoint.decode(bytes: Array(goodBytes), path: "memory")
        XCTAssertEqual(fromMemory.parameters.map { bits($0.values) }, ck.parameters.map { bits($0.values) })
        XCTAssertEqual(fromMemory.optimizer?.slots["v"]?.map(bits), ck.optimizer?.slots["v"]?.map(bits))
    }

    // MARK: - Checksum

    func testFlippedWeightByteIsAChecksumMismatch() throws {
        var bytes = goodBytes
        let i = bytes.count - 4 - 40  // inside the tensor data
        bytes[i] ^= 0x10
        assertRejected(bytes, ["checksum mismatch", "damaged", "stored 0x", "computed 0x"], name: "flipped-weight.ckpt")
    }

    func testFlippedChecksumByte() throws {
        var bytes = goodBytes
        bytes[bytes.count - 1] ^= 0x01
        assertRejected(bytes, ["checksum mismatch"], name: "flipped-crc.ckpt")
    }

    /// A change in the header that keeps it valid JSON and the sizes unchanged is found by the checksum.
    func testChangedHeaderValueIsAChecksumMismatch() throws {
        var bytes = goodBytes
        let json = CheckpointParts(goodBytes).json
        let r = json.range(of: "\"dataset\":\"synthetic\"")!
        let at = 16 + json.utf8.distance(from: json.startIndex, to: r.upperBound) - 2  // the final "c"
        XCTAssertEqual(bytes[at], UInt8(ascii: "c"))
        bytes[at] = UInt8(ascii: "d")
        assertRejected(bytes, ["checksum mismatch"], name: "header-value.ckpt")
    }

    /// A flipped byte that breaks the JSON is refused too (as an unreadable header).
    func testFlippedHeaderStructureByte() throws {
        var bytes = goodBytes
        let json = CheckpointParts(goodBytes).json
        let at = 16 + json.utf8.distance(from: json.startIndex, to: json.range(of: "\"model\":{")!.upperBound) - 1
        bytes[at] ^= 0x01  // "{" becomes "z"
        assertRejected(bytes, ["header"], name: "header-structure.ckpt")
    }

    /// Every single-byte change anywhere in the file is refused; none loads.
    func testEverySingleByteFlipIsRefused() throws {
        for i in stride(from: 0, to: goodBytes.count, by: max(1, goodBytes.count / 400)) {
            var bytes = goodBytes
            bytes[i] ^= 0x04
            XCTAssertThrowsError(try Checkpoint.decode(bytes: Array(bytes), path: "flip-\(i)"), "byte \(i)") { error in
                XCTAssertTrue(error is CheckpointError, "byte \(i): \(error)")
            }
        }
    }

    /// Every prefix of a good file is refused cleanly (the fuzz target's simplest inputs).
    func testEveryPrefixIsRefused() throws {
        for n in 0..<goodBytes.count {
            XCTAssertThrowsError(try Checkpoint.decode(bytes: Array(goodBytes.prefix(n)), path: "prefix")) { error in
                XCTAssertTrue(error is CheckpointError, "prefix \(n): \(error)")
            }
        }
    }

    // MARK: - Finite values

    func testNaNWeightRefusedOnLoad() throws {
        rejected("nan.ckpt", ["parameter W", "value 5", "nan"]) { $0.setValue(at: 5, .nan) }
        // c follows W's 96 values.
        rejected("inf.ckpt", ["parameter c", "value 2", "inf"]) { $0.setValue(at: 96 + 2, .infinity) }
        rejected("neg-inf.ckpt", ["parameter b", "value 15"]) { $0.setValue(at: 96 + 6 + 96 + 15, -.infinity) }
    }

    func testNaNInOptimizerSlotRefusedOnLoad() throws {
        // After the 214 parameter values come the slots in sorted order: m, then v.
        rejected("nan-m.ckpt", ["optimizer slot m buffer 0", "value 0", "nan"]) { $0.setValue(at: 214, .nan) }
        rejected("inf-v.ckpt", ["optimizer slot v buffer 3", "value 1", "inf"]) {
            $0.setValue(at: 214 + 214 + 96 + 6 + 96 + 1, .infinity)
        }
    }

    func testNonFiniteWeightsRefusedOnWriteLeavingTheOldFile() throws {
        let path = file("kept.ckpt", goodBytes)
        for bad in [Float.nan, .infinity, -.infinity] {
            var ck = Checkpoint(model: model)
            ck.parameters[2].values[7] = bad
            XCTAssertThrowsError(try ck.write(to: path)) { error in
                guard let e = error as? CheckpointError else { return XCTFail("\(error)") }
                XCTAssertEqual(e.path, path)
                XCTAssertTrue(e.reason.contains("parameter V") && e.reason.contains("value 7"), e.reason)
            }
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), goodBytes, "the previous checkpoint is untouched")
            XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp"))
        }
        var state = Adam().state
        state.step = 1
        state.slots["m"] = model.parameters.map { [Float](repeating: 0, count: $0.tensor.count) }
        state.slots["v"] = state.slots["m"]
        state.slots["v"]![1][3] = .nan
        XCTAssertThrowsError(try Checkpoint(model: model, optimizer: state).write(to: path)) { error in
            XCTAssertTrue("\(error)".contains("optimizer slot v buffer 1 value 3"), "\(error)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), goodBytes)
    }

    // MARK: - Training state

    func testTrainingStateOutOfRange() throws {
        rejected("mask-1000.ckpt", ["activeMask 1000"]) { $0.set("activeMask", "1000") }
        rejected("mask-minus-1.ckpt", ["activeMask -1"]) { $0.set("activeMask", "-1") }
        rejected("step-in-epoch.ckpt", ["stepInEpoch -3"]) { $0.set("stepInEpoch", "-3") }
        rejected("epoch.ckpt", ["epoch -1"]) { $0.set("epoch", "-1") }
        rejected("step.ckpt", ["step -5"]) { $0.set("step", "-5") }
        rejected("step-max.ckpt", ["step"]) { $0.set("step", "\(Int.max)") }
        rejected("best-epoch.ckpt", ["bestEpoch 3"]) { $0.set("bestEpoch", "3") }
        rejected("best-epoch-neg.ckpt", ["bestEpoch -1"]) { $0.set("bestEpoch", "-1") }
        rejected("elapsed.ckpt", ["elapsedSeconds"]) { $0.set("elapsedSeconds", "-2") }
        rejected("epoch-images.ckpt", ["epochImages"]) { $0.set("epochImages", "-100") }
        rejected("ema-updates.ckpt", ["emaUpdates"]) { $0.set("emaUpdates", "-1") }
        rejected("rng.ckpt", ["shuffleRNG"]) {
            $0.json = $0.json.replacingOccurrences(of: #""shuffleRNG":\{"state":\[[0-9,]*\]\}"#,
                                                   with: #""shuffleRNG":{"state":[0,0,0,0]}"#, options: .regularExpression)
        }
        rejected("batch-size.ckpt", ["training options", "batch size"]) { $0.set("batchSize", "0") }
        rejected("huge-batch.ckpt", ["batchSize"]) { $0.set("batchSize", "\(1 << 50)") }
        rejected("optimizer-kind.ckpt", ["optimizerKind"]) { $0.set("optimizerKind", "\"rmsprop\"") }
        rejected("optimizer-step.ckpt", ["optimizerStep -1"]) { $0.set("optimizerStep", "-1") }
    }

    func testModelConfigurationChecked() throws {
        rejected("levels.ckpt", ["model", "levels"]) { $0.set("output", "\"categorical:3\"") }
        rejected("output.ckpt", ["model", "pixel distribution"]) { $0.set("output", "\"gaussian\"") }
        rejected("height.ckpt", ["model", "height"]) { $0.set("height", "\(Int.max)") }
        rejected("width.ckpt", ["model", "image size"]) { $0.set("width", "0") }
    }

    // MARK: - Shapes and sizes

    func testNegativeShape() throws {
        rejected("negative-shape.ckpt", ["parameter 0 (W)", "negative shape"]) { $0.replace("\"shape\":[16,6]", with: "\"shape\":[-16,6]") }
        rejected("negative-both.ckpt", ["negative shape"]) { $0.replace("\"shape\":[16,6]", with: "\"shape\":[-16,-6]") }
    }

    func testOverflowingShape() throws {
        rejected("overflow.ckpt", ["W", "shape", "overflow"]) {
            $0.replace("\"shape\":[16,6]", with: "\"shape\":[4611686018427387904,4]")
        }
        rejected("overflow3.ckpt", ["overflow"]) {
            $0.replace("\"shape\":[16,6]", with: "\"shape\":[3037000500,3037000500,3037000500]")
        }
        // Each shape fits, their sum does not.
        rejected("overflow-sum.ckpt", ["overflow"]) {
            $0.replace("\"shape\":[16,6]", with: "\"shape\":[1152921504606846975]")
            $0.replace("\"shape\":[6]", with: "\"shape\":[1152921504606846975]")
        }
    }

    func testShapeDisagreeingWithFileLength() throws {
        rejected("longer-shape.ckpt", ["truncated", "shapes"]) { $0.replace("\"shape\":[16,6]", with: "\"shape\":[16,7]") }
        rejected("shorter-shape.ckpt", ["trailing", "shapes"]) { $0.replace("\"shape\":[16,6]", with: "\"shape\":[16,5]") }
        rejected("huge-shape.ckpt", ["truncated"]) { $0.replace("\"shape\":[16,6]", with: "\"shape\":[1000000000,1000]") }
    }

    func testSlotSizesDisagreeingWithParameters() throws {
        let slots = "\"m\":[96,6,96,16]"
        XCTAssertTrue(CheckpointParts(goodBytes).json.contains(slots), CheckpointParts(goodBytes).json)
        rejected("slot-order.ckpt", ["optimizer slot m buffer 0", "size 6", "W"]) {
            $0.replace(slots, with: "\"m\":[6,96,96,16]")
        }
        rejected("slot-count.ckpt", ["optimizer slot m", "3 buffers", "4 parameters"]) {
            $0.replace(slots, with: "\"m\":[96,102,16]")
        }
        rejected("slot-negative.ckpt", ["optimizer slot m", "negative"]) { $0.replace(slots, with: "\"m\":[-96,6,96,16]") }
        rejected("slot-missing.ckpt", ["optimizer slot v", "missing"]) {
            $0.replace(",\"v\":[96,6,96,16]", with: "")
            $0.tensors = $0.tensors.prefix(4 * (214 + 214))
        }
        rejected("slot-unknown.ckpt", ["optimizer slot velocity"]) {
            $0.replace("\"m\":[96,6,96,16]", with: "\"m\":[96,6,96,16],\"velocity\":[]")
        }
    }

    func testWeightAverageSlotMustMatchParameters() throws {
        var state = Adam().state
        state.slots[WeightAverage.checkpointSlot] = model.parameters.map(\.tensor.data)
        let path = dir.appendingPathComponent("ema.ckpt").path
        try Checkpoint(model: model, optimizer: state).write(to: path)
        XCTAssertEqual(try Checkpoint.read(from: path).weightAverage?.count, 4, "a fresh Adam with an average loads")
        var parts = CheckpointParts(try Data(contentsOf: URL(fileURLWithPath: path)))
        parts.replace("\"weight-average\":[96,6,96,16]", with: "\"weight-average\":[96,6,16,96]")
        assertRejected(parts.assembled(), ["weight-average", "buffer 2"], name: "ema-swapped.ckpt")
    }

    // MARK: - Format 1

    func testFormatOneStillLoadsWithANote() throws {
        var parts = CheckpointParts(goodBytes)
        parts.set("format", "1")
        parts.format = 1
        let old = parts.assembled()
        XCTAssertEqual(old.count, goodBytes.count - 4, "no trailer")
        let path = file("format1.ckpt", old)
        let ck = try Checkpoint.read(from: path)
        XCTAssertEqual(ck.notes.count, 1)
        XCTAssertTrue(ck.notes.first?.contains("checksum") ?? false, "\(ck.notes)")
        assertSameBits(parameterBits(try ck.makeModel(path: path)), parameterBits(model))
        XCTAssertEqual(ck.training?.epoch, 2)
        // Its values are still checked.
        var nan = parts
        nan.setValue(at: 1, .nan)
        assertRejected(nan.assembled(), ["parameter W", "value 1", "nan"], name: "format1-nan.ckpt")
        var mask = parts
        mask.set("activeMask", "1000")
        assertRejected(mask.assembled(), ["activeMask 1000"], name: "format1-mask.ckpt")
        // And writing it again upgrades it.
        try ck.write(to: path)
        XCTAssertEqual(try Checkpoint.read(from: path).notes, [])
    }

    func testUnknownFormatVersion() throws {
        rejected("format4.ckpt", ["unsupported format version 4"]) { $0.set("format", "4") }
    }

    // MARK: - Files that are not checkpoints

    func testFIFOIsRefusedWithoutHanging() throws {
        let path = dir.appendingPathComponent("pipe.ckpt").path
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        let done = expectation(description: "read returns")
        final class Box: @unchecked Sendable {
            let lock = NSLock()
            var result: Result<Checkpoint, Error>?
        }
        let box = Box()
        Thread.detachNewThread {
            let r = Result { try Checkpoint.read(from: path) }
            box.lock.withLock { box.result = r }
            done.fulfill()
        }
        wait(for: [done], timeout: 20)
        let result = box.lock.withLock { box.result }
        guard case .failure(let error)? = result else {
            // On a hang the thread stays blocked in open(); the test fails rather than waiting for ever.
            return XCTFail("expected an error, got \(String(describing: result))")
        }
        XCTAssertTrue("\(error)".contains(path) && "\(error)".contains("FIFO"), "\(error)")
    }

    func testDeviceIsRefused() throws {
        XCTAssertThrowsError(try Checkpoint.read(from: "/dev/zero")) { error in
            XCTAssertTrue("\(error)".contains("/dev/zero") && "\(error)".contains("not a regular file"), "\(error)")
        }
    }

    func testDirectoryIsRefused() throws {
        XCTAssertThrowsError(try Checkpoint.read(from: dir.path)) { error in
            XCTAssertTrue("\(error)".contains("directory"), "\(error)")
        }
    }

    func testAbsurdHeaderLengthFitsInFile() throws {
        // A header length within the file but beyond the limit on headers.
        var bytes = Data("AUTOREG1".utf8)
        withUnsafeBytes(of: UInt64(20 << 20).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(Data(repeating: 0x20, count: 20 << 20))
        assertRejected(bytes, ["header length", "limit"], name: "long-header.ckpt")
    }

    // MARK: - Stale temporary files

    func testRemoveStaleTemporaryFiles() throws {
        let run = dir.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        for name in ["last.ckpt.tmp", "best.ckpt.tmp", "last.ckpt", "metrics.jsonl", "notes.txt.tmp"] {
            XCTAssertTrue(FileManager.default.createFile(atPath: run.appendingPathComponent(name).path, contents: Data([1])))
        }
        try FileManager.default.createDirectory(at: run.appendingPathComponent("folder.ckpt.tmp"), withIntermediateDirectories: true)
        let removed = removeStaleTemporaryFiles(in: run.path)
        XCTAssertEqual(removed, [run.path + "/best.ckpt.tmp", run.path + "/last.ckpt.tmp"])
        let left = try FileManager.default.contentsOfDirectory(atPath: run.path).sorted()
        XCTAssertEqual(left, ["folder.ckpt.tmp", "last.ckpt", "metrics.jsonl", "notes.txt.tmp"])
        XCTAssertEqual(removeStaleTemporaryFiles(in: run.path), [])
        XCTAssertEqual(removeStaleTemporaryFiles(in: dir.appendingPathComponent("absent").path), [])
    }
}
