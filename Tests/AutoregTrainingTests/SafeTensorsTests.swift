import AutoregImaging
import AutoregModels
import AutoregTensor
import AutoregTraining
import Foundation
import XCTest

/// `autoreg export --format safetensors` and `autoreg import`: the file's layout read by an
/// independent minimal reader, the round trip back to a checkpoint, and bad files.
final class SafeTensorsCLITests: CLITestCase {
    override var workDirLabel: String { "autoreg-safetensors" }

    /// A MADE with random orderings, two masks and direct connections (it has buffers), its
    /// weights moved off their initial values.
    func writeCheckpoint(_ name: String = "made.ckpt") throws -> (path: String, model: any AutoregressiveModel) {
        let config = ModelConfig(kind: .made, height: 5, width: 5, output: .bernoulli, seed: 3,
                                 options: MADE.Options(hidden: [11, 9], masks: 2, ordering: .random, directConnections: true))
        let model = try makeModel(config)
        perturb(model, std: 0.1, seed: 4)
        let path = workDir.appendingPathComponent(name).path
        try Checkpoint(model: model).write(to: path)
        return (path, model)
    }

    func export(_ ckpt: String, _ name: String = "model.safetensors") throws -> String {
        let out = workDir.appendingPathComponent(name).path
        assertSucceeds(try run(["export", "--checkpoint", ckpt, "--format", "safetensors", "--out", out]))
        return out
    }

    /// The file read by the safetensors rules alone, written here without Autoreg's reader:
    /// an 8-byte little-endian header length, JSON, tensor bytes whose offsets tile the data.
    func testTheFileParsesAsSafeTensorsByAMinimalReader() throws {
        let (ckpt, model) = try writeCheckpoint()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try export(ckpt))))
        var n = 0
        for k in 0..<8 { n |= Int(bytes[k]) << (8 * k) }
        XCTAssertLessThanOrEqual(8 + n, bytes.count)
        XCTAssertEqual((8 + n) % 8, 0, "the data starts 8-byte aligned")
        let headerBytes = Array(bytes[8..<8 + n])
        XCTAssertEqual(headerBytes.first, UInt8(ascii: "{"))
        let header = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any])
        let data = Array(bytes[(8 + n)...])

        let metadata = try XCTUnwrap(header["__metadata__"] as? [String: String])
        XCTAssertEqual(metadata["format"], "autoreg-safetensors/1")
        // The configuration is the checkpoint header's "model" object, byte for byte.
        let ckptBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ckpt)))
        var h = 0
        for k in 0..<8 { h |= Int(ckptBytes[8 + k]) << (8 * k) }
        let ckptHeader = String(decoding: ckptBytes[16..<16 + h], as: UTF8.self)
        let config = try XCTUnwrap(metadata["autoreg.config"])
        XCTAssertTrue(ckptHeader.contains("\"model\":" + config + ","), "\(config) in \(ckptHeader)")

        var ranges: [(begin: Int, end: Int)] = []
        var floats: [String: [Float]] = [:], ints: [String: [Int64]] = [:]
        for (name, value) in header where name != "__metadata__" {
            let entry = try XCTUnwrap(value as? [String: Any], name)
            let dtype = try XCTUnwrap(entry["dtype"] as? String), shape = try XCTUnwrap(entry["shape"] as? [Int])
            let offsets = try XCTUnwrap(entry["data_offsets"] as? [Int])
            let size = try XCTUnwrap(["F32": 4, "I64": 8][dtype], "dtype \(dtype)")
            XCTAssertEqual(offsets.count, 2)
            XCTAssertEqual(offsets[1] - offsets[0], shape.reduce(1, *) * size, name)
            ranges.append((offsets[0], offsets[1]))
            let slice = Array(data[offsets[0]..<offsets[1]])
            func word(_ i: Int, _ width: Int) -> UInt64 {
                (0..<width).reduce(UInt64(0)) { $0 | UInt64(slice[i * width + $1]) << (8 * UInt64($1)) }
            }
            if dtype == "F32" {
                floats[name] = (0..<slice.count / 4).map { Float(bitPattern: UInt32(word($0, 4))) }
            } else {
                ints[name] = (0..<slice.count / 8).map { Int64(bitPattern: word($0, 8)) }
            }
        }
        ranges.sort { $0.begin < $1.begin }
        XCTAssertEqual(ranges.first?.begin, 0)
        XCTAssertEqual(ranges.last?.end, data.count, "the tensors end where the file ends")
        for (a, b) in zip(ranges, ranges.dropFirst()) { XCTAssertEqual(a.end, b.begin, "contiguous, no gap, no overlap") }

        XCTAssertEqual(metadata["autoreg.parameters"], "[" + model.parameters.map { "\"\($0.name)\"" }.joined(separator: ",") + "]")
        for p in model.parameters {
            XCTAssertEqual(floats[p.name].map(bits), bits(p.tensor.data), "\(p.name): the weights, bit for bit")
        }
        // The buffers: each mask set's ordering (a permutation) and hidden degrees in 1...D-1.
        let made = try XCTUnwrap(model as? MADE)
        XCTAssertEqual(Set(ints.keys), ["buffers.mask0.ordering", "buffers.mask0.degrees0", "buffers.mask0.degrees1",
                                        "buffers.mask1.ordering", "buffers.mask1.degrees0", "buffers.mask1.degrees1"])
        for k in 0..<2 {
            let ordering = try XCTUnwrap(ints["buffers.mask\(k).ordering"]).map(Int.init)
            XCTAssertEqual(ordering.sorted(), Array(0..<25))
            made.applyMask(k)
            XCTAssertEqual(ordering, made.ordering)
            for l in 0..<2 { XCTAssertTrue(try XCTUnwrap(ints["buffers.mask\(k).degrees\(l)"]).allSatisfy { (1...24).contains($0) }) }
        }
        XCTAssertNotEqual(ints["buffers.mask0.ordering"], ints["buffers.mask1.ordering"], "two random orderings")
    }

    /// export → import gives the same parameters, bit for bit, and the same NLL per image.
    func testExportImportRoundTripIsExact() throws {
        let (ckpt, _) = try writeCheckpoint()
        let exported = try export(ckpt)
        let back = workDir.appendingPathComponent("back.ckpt").path
        assertSucceeds(try run(["import", "--safetensors", exported, "--out", back]))
        let a = try Checkpoint.read(from: ckpt), b = try Checkpoint.read(from: back)
        XCTAssertEqual(a.model, b.model)
        XCTAssertNil(b.optimizer)
        XCTAssertNil(b.training)
        XCTAssertEqual(a.parameters.map(\.name), b.parameters.map(\.name))
        XCTAssertEqual(a.parameters.map(\.shape), b.parameters.map(\.shape))
        XCTAssertEqual(a.parameters.map { bits($0.values) }, b.parameters.map { bits($0.values) })

        let root = workDir.appendingPathComponent("data/test")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var rng = RandomGenerator(seed: 5)
        for i in 0..<6 {
            try PNG.write(RasterImage(width: 5, height: 5, channels: 1, pixels: (0..<25).map { _ in UInt8(rng.int(below: 256)) }),
                          to: root.appendingPathComponent("\(i).png").path)
        }
        func scores(_ ckpt: String, _ csv: String) throws -> String {
            let path = workDir.appendingPathComponent(csv).path
            assertSucceeds(try run(["eval", "--checkpoint", ckpt, "--data", "png", "--data-dir", root.deletingLastPathComponent().path,
                                    "--split", "test", "--per-image", path]))
            return try String(contentsOfFile: path, encoding: .utf8)
        }
        let original = try scores(ckpt, "a.csv"), imported = try scores(back, "b.csv")
        XCTAssertEqual(original.split(separator: "\n").count, 7)
        XCTAssertEqual(original, imported, "identical per-image NLLs")
        // sample takes the imported checkpoint and draws the same images from the same seed.
        for (name, path) in [("a", ckpt), ("b", back)] {
            assertSucceeds(try run(["sample", "--checkpoint", path, "-n", "3", "--seed", "9",
                                    "--out", workDir.appendingPathComponent("\(name).png").path]))
        }
        XCTAssertEqual(try PNG.read(path: workDir.appendingPathComponent("a.png").path).pixels,
                       try PNG.read(path: workDir.appendingPathComponent("b.png").path).pixels)
    }

    func testExportRefusesWhatItCannotDo() throws {
        let (ckpt, _) = try writeCheckpoint()
        assertFailsCleanly(try run(["export", "--checkpoint", ckpt, "--out", ckpt]), mentioning: ["--out must differ"])
        // A checkpoint written without training has no weight average to export.
        assertFailsCleanly(try run(["export", "--checkpoint", ckpt, "--average", "--out", "x.safetensors"]), mentioning: [ckpt, "no weight average"])
        let missing = workDir.appendingPathComponent("missing.ckpt").path
        assertFailsCleanly(try run(["export", "--checkpoint", missing, "--out", "x.safetensors"]), mentioning: [missing, "no such file"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: workDir.appendingPathComponent("x.safetensors").path))
        let st = workDir.appendingPathComponent("missing.safetensors").path
        assertFailsCleanly(try run(["import", "--safetensors", st, "--out", "y.ckpt"]), mentioning: [st, "no such file"])
    }

    // MARK: Bad files: one line naming the file and what is wrong

    func assertImportFails(_ bytes: [UInt8], mentioning fragments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let path = workDir.appendingPathComponent("bad-\(UUID().uuidString.prefix(8)).safetensors").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let out = workDir.appendingPathComponent("never.ckpt").path
        assertFailsCleanly(try run(["import", "--safetensors", path, "--out", out]), mentioning: [path] + fragments,
                           file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written", file: file, line: line)
    }

    /// The exported bytes of a small FVSBN (one weight matrix, one bias, an ordering).
    func fvsbnExport() throws -> [UInt8] {
        let model = try makeModel(ModelConfig(kind: .fvsbn, height: 3, width: 3, options: FVSBN.Options(ordering: .random)))
        perturb(model, std: 0.1, seed: 8)
        let ckpt = workDir.appendingPathComponent("fvsbn.ckpt").path
        try Checkpoint(model: model).write(to: ckpt)
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: try export(ckpt, "fvsbn.safetensors"))))
    }

    /// Header text and the rest of a file, to edit the header.
    func split(_ bytes: [UInt8]) -> (header: String, data: [UInt8]) {
        var n = 0
        for k in 0..<8 { n |= Int(bytes[k]) << (8 * k) }
        return (String(decoding: bytes[8..<8 + n], as: UTF8.self), Array(bytes[(8 + n)...]))
    }

    func join(_ header: String, _ data: [UInt8]) -> [UInt8] {
        let h = Array(header.utf8)
        return (0..<8).map { UInt8(truncatingIfNeeded: h.count >> (8 * $0)) } + h + data
    }

    func testTruncatedFileIsRefused() throws {
        let bytes = try fvsbnExport()
        try assertImportFails(Array(bytes.dropLast(10)), mentioning: ["truncated", "ends at byte", "holds \(bytes.count - 10 - 8 - split(bytes).header.utf8.count)"])
        // Extra bytes after the last tensor are refused too.
        try assertImportFails(bytes + [0, 0, 0, 0], mentioning: ["the tensors cover", "the file holds"])
        try assertImportFails(Array(bytes.prefix(5)), mentioning: ["truncated"])
    }

    func testHeaderLengthBeyondTheFileIsRefused() throws {
        var bytes = try fvsbnExport()
        let huge = UInt64(bytes.count)  // more than the bytes after the 8-byte length
        for k in 0..<8 { bytes[k] = UInt8(truncatingIfNeeded: huge >> (8 * UInt64(k))) }
        try assertImportFails(bytes, mentioning: ["header length \(huge) goes beyond the end of the file"])
    }

    func testWrongDTypeIsRefused() throws {
        let (header, data) = split(try fvsbnExport())
        // F16 is a safetensors dtype Autoreg does not read (same header length).
        try assertImportFails(join(header.replacingOccurrences(of: "\"F32\"", with: "\"F16\""), data),
                              mentioning: ["dtype F16", "Autoreg reads F32"])
        // A parameter stored as I64 (with consistent offsets) is no weight.
        var file = try SafeTensorsFile.decode(bytes: try fvsbnExport(), path: "x")
        let i = try XCTUnwrap(file.tensors.firstIndex { $0.name == "linear.bias" })
        file.tensors[i].values = .i64([Int64](repeating: 0, count: 9))
        try assertImportFails([UInt8](try file.encoded(path: "x")), mentioning: ["tensor linear.bias has dtype I64", "must be F32"])
    }

    func testShapeMismatchIsRefused() throws {
        // Offsets that do not fit the shape.
        let (header, data) = split(try fvsbnExport())
        let edited = header.replacingOccurrences(of: "\"linear.bias\":{\"dtype\":\"F32\",\"shape\":[9]",
                                                 with: "\"linear.bias\":{\"dtype\":\"F32\",\"shape\":[8]")
        XCTAssertNotEqual(edited, header)
        try assertImportFails(join(edited, data), mentioning: ["tensor linear.bias", "hold 36 bytes", "needs 32"])
        // A consistent file whose shape is not the configured model's.
        var file = try SafeTensorsFile.decode(bytes: try fvsbnExport(), path: "x")
        let i = try XCTUnwrap(file.tensors.firstIndex { $0.name == "linear.bias" })
        file.tensors[i].shape = [3, 3]
        try assertImportFails([UInt8](try file.encoded(path: "x")),
                              mentioning: ["tensor linear.bias has shape [3, 3]", "the configured fvsbn has [9]"])
    }

    func testOverlappingOffsetsAreRefused() throws {
        let (header, data) = split(try fvsbnExport())
        // linear.weight holds [0, 324); make the bias claim bytes inside it.
        let edited = header.replacingOccurrences(of: "\"data_offsets\":[324,360]", with: "\"data_offsets\":[288,324]")
        XCTAssertNotEqual(edited, header)
        try assertImportFails(join(edited, data), mentioning: ["overlap"])
    }

    func testNonFiniteWeightsMismatchedBuffersAndMissingMetadataAreRefused() throws {
        let original = try SafeTensorsFile.decode(bytes: try fvsbnExport(), path: "x")
        var file = original
        let w = try XCTUnwrap(file.tensors.firstIndex { $0.name == "linear.weight" })
        guard case var .f32(values) = file.tensors[w].values else { return XCTFail("weights are F32") }
        values[4] = .nan
        file.tensors[w].values = .f32(values)
        try assertImportFails([UInt8](try file.encoded(path: "x")), mentioning: ["tensor linear.weight value 4 is nan"])

        file = original
        let o = try XCTUnwrap(file.tensors.firstIndex { $0.name == "buffers.ordering" })
        file.tensors[o].values = .i64((0..<9).map(Int64.init))  // natural, not the seed's random ordering
        try assertImportFails([UInt8](try file.encoded(path: "x")), mentioning: ["buffer buffers.ordering differs"])

        file = original
        file.metadata["autoreg.config"] = nil
        try assertImportFails([UInt8](try file.encoded(path: "x")), mentioning: ["no autoreg.config"])

        file = original
        file.tensors.append(.init(name: "extra", shape: [1], values: .f32([1])))
        try assertImportFails([UInt8](try file.encoded(path: "x")), mentioning: ["tensor extra is neither a parameter"])

        file = original
        file.tensors.removeAll { $0.name == "linear.bias" }
        try assertImportFails([UInt8](try file.encoded(path: "x")), mentioning: ["tensor linear.bias is missing"])

        // Without the (optional) buffer it still imports: the seed gives it again.
        file = original
        file.tensors.removeAll { $0.name.hasPrefix("buffers.") }
        let path = workDir.appendingPathComponent("no-buffers.safetensors").path
        try file.write(to: path)
        assertSucceeds(try run(["import", "--safetensors", path, "--out", workDir.appendingPathComponent("ok.ckpt").path]))
    }

    func testImportRefusesAFileThatIsNotSafeTensors() throws {
        let (ckpt, _) = try writeCheckpoint()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ckpt)))  // "AUTOREG1": a huge header length
        try assertImportFails(bytes, mentioning: ["header length"])
    }
}
