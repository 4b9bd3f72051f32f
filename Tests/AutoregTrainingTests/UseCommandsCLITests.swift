import AutoregData
import AutoregModels
import AutoregTensor
import AutoregTraining
import Foundation
import XCTest

/// Process-level tests of `autoreg receptive-field`, `autoreg classify` and
/// `autoreg eval --per-pixel`: exit codes, error messages naming the file or option, the
/// printed figures and the PNGs written.
final class UseCommandsCLITests: CLITestCase {
    override var workDirLabel: String { "autoreg-use-cli" }
    override var trailingArguments: [String] { ["--threads", "1"] }
    override var environmentOverrides: [String: String]? { ["AUTOREG_DATA": Self.dataRoot] }
    override var defaultTimeout: TimeInterval { 120 }

    /// The folder holding the data sets: $AUTOREG_DATA, else ../shared/data beside the package.
    static var dataRoot: String {
        if let env = ProcessInfo.processInfo.environment["AUTOREG_DATA"] { return env }
        var root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while root.path != "/" && !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root = root.deletingLastPathComponent()
        }
        return root.deletingLastPathComponent().appendingPathComponent("shared/data").path
    }

    /// Skips (with the reason) unless MNIST's test split can be loaded.
    func requireMNIST() throws {
        do {
            _ = try DatasetCatalog.load(name: .mnist, split: .test, dataDirectory: Self.dataRoot)
        } catch {
            throw XCTSkip("mnist not found under \(Self.dataRoot) (set AUTOREG_DATA): \(error)")
        }
    }

    /// Width and height from a PNG file's IHDR chunk, after checking the signature.
    func pngSize(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> (width: Int, height: Int) {
        let bytes = [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: path), "\(path) was written", file: file, line: line))
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG signature", file: file, line: line)
        XCTAssertGreaterThan(bytes.count, 33, file: file, line: line)
        func be32(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (be32(16), be32(20))
    }

    /// The integer after `prefix` in `text`.
    func number(after prefix: String, in text: String) -> Double? {
        guard let range = text.range(of: prefix) else { return nil }
        return Double(text[range.upperBound...].prefix { "0123456789.-".contains($0) })
    }

    func writeCheckpoint(_ config: ModelConfig, _ name: String, perturbSeed: UInt64? = nil) throws -> String {
        let model = try makeModel(config)
        if let s = perturbSeed { perturb(model, std: 0.05, seed: s) }
        let path = workDir.appendingPathComponent(name).path
        try Checkpoint(model: model).write(to: path)
        return path
    }

    // MARK: - Help

    func testHelpListsTheNewCommands() throws {
        let r = try run(["--help"])
        assertSucceeds(r)
        XCTAssertTrue(r.stdout.contains("classify") && r.stdout.contains("receptive-field"), r.stdout)
        let rf = try run(["receptive-field", "--help"])
        for option in ["--checkpoint", "--model", "--pixel", "--input", "--out", "--scale", "--seed", "--layers", "--dilations"] {
            XCTAssertTrue(rf.stdout.contains(option), "receptive-field --help documents \(option)")
        }
        let c = try run(["classify", "--help"])
        for option in ["--checkpoint", "--checkpoints", "--data", "--split", "--limit", "--prior", "--out-dir"] {
            XCTAssertTrue(c.stdout.contains(option), "classify --help documents \(option)")
        }
        let e = try run(["eval", "--help"])
        for option in ["--per-pixel", "--index", "--out"] { XCTAssertTrue(e.stdout.contains(option), "eval --help documents \(option)") }
    }

    // MARK: - receptive-field

    func testReceptiveFieldOfPixelCNNHasABlindSpot() throws {
        let png = workDir.appendingPathComponent("pics/pixelcnn.png").path
        let r = try run(["receptive-field", "--model", "pixelcnn", "--height", "8", "--width", "8", "--channels", "8",
                         "--layers", "6", "--pixel", "5,2", "--scale", "4", "--out", png])
        assertSucceeds(r)
        let blind = try XCTUnwrap(number(after: "blind spot: ", in: r.stdout), r.stdout)
        let seen = try XCTUnwrap(number(after: "depends on ", in: r.stdout), r.stdout)
        XCTAssertGreaterThan(blind, 0, r.stdout)
        XCTAssertGreaterThan(try XCTUnwrap(number(after: "zero gradient (", in: r.stdout)), 0, "holes inside the field: \(r.stdout)")
        XCTAssertEqual(blind + seen, 42, "the 42 pixels before (5,2) are seen or blind: \(r.stdout)")
        XCTAssertFalse(r.stdout.contains("not causal"), r.stdout)
        let size = try pngSize(png)
        XCTAssertEqual(size.width, 32)
        XCTAssertEqual(size.height, 32)
    }

    func testReceptiveFieldOfGatedPixelCNNHasNone() throws {
        let png = workDir.appendingPathComponent("gated.png").path
        let r = try run(["receptive-field", "--model", "gated-pixelcnn", "--height", "8", "--width", "8", "--channels", "8",
                         "--layers", "7", "--pixel", "5,2", "--out", png])
        assertSucceeds(r)
        XCTAssertEqual(number(after: "blind spot: ", in: r.stdout), 0, r.stdout)
        XCTAssertEqual(number(after: "depends on ", in: r.stdout), 42, r.stdout)
        XCTAssertEqual(try pngSize(png).width, 64, "default scale 8")
    }

    func testReceptiveFieldFromACheckpoint() throws {
        let ck = try writeCheckpoint(try ModelConfig(kind: .gatedPixelCNN, height: 6, width: 5, seed: 2, hiddenChannels: 4,
                                                 layers: 1, classes: 3), "gated.ckpt")
        let png = workDir.appendingPathComponent("ck.png").path
        let r = try run(["receptive-field", "--checkpoint", ck, "--pixel", "5,4", "--input", "zeros", "--scale", "2", "--out", png])
        assertSucceeds(r)
        XCTAssertTrue(r.stdout.contains("6x5"), r.stdout)
        XCTAssertEqual(number(after: "of ", in: r.stdout.components(separatedBy: "depends on").last ?? ""), 29, r.stdout)
        XCTAssertEqual(try pngSize(png).width, 10)
        XCTAssertEqual(try pngSize(png).height, 12)
    }

    func testReceptiveFieldBadInput() throws {
        let out = workDir.appendingPathComponent("never.png").path
        assertFailsCleanly(try run(["receptive-field", "--model", "pixelcnn", "--height", "8", "--width", "8", "--layers", "1",
                                    "--pixel", "8,0", "--out", out]), mentioning: ["--pixel", "8,0", "8x8"])
        assertFailsCleanly(try run(["receptive-field", "--model", "pixelcnn", "--pixel", "3", "--out", out]),
                           mentioning: ["--pixel", "'3'"])
        assertFailsCleanly(try run(["receptive-field", "--model", "pixelcnn", "--pixel", "-1,2", "--out", out]),
                           mentioning: ["--pixel"])
        let missing = workDir.appendingPathComponent("missing.ckpt").path
        assertFailsCleanly(try run(["receptive-field", "--checkpoint", missing, "--pixel", "1,1", "--out", out]),
                           mentioning: [missing, "no such file"])
        assertFailsCleanly(try run(["receptive-field", "--checkpoint", missing, "--model", "nade", "--pixel", "1,1"]),
                           mentioning: ["--checkpoint", "--model"])
        assertFailsCleanly(try run(["receptive-field", "--pixel", "1,1"]), mentioning: ["--checkpoint", "--model"])
        assertFailsCleanly(try run(["receptive-field", "--model", "nade", "--pixel", "1,1", "--out", "field.jpg"]),
                           mentioning: ["field.jpg"])
        assertFailsCleanly(try run(["receptive-field", "--model", "nade", "--pixel", "1,1", "--input", "noise"]),
                           mentioning: ["noise"])
        assertFailsCleanly(try run(["receptive-field", "--model", "pixelcnn", "--channels", "3", "--pixel", "1,1"]),
                           mentioning: ["hidden channels", "3"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written")
    }

    // MARK: - classify

    func testClassifyBadInput() throws {
        let missing = workDir.appendingPathComponent("missing.ckpt").path
        assertFailsCleanly(try run(["classify", "--checkpoint", missing, "--data", "mnist"]), mentioning: [missing])
        assertFailsCleanly(try run(["classify", "--data", "mnist"]), mentioning: ["--checkpoint", "--checkpoints"])
        let fvsbn = try writeCheckpoint(try ModelConfig(kind: .fvsbn, height: 28, width: 28), "fvsbn.ckpt")
        assertFailsCleanly(try run(["classify", "--checkpoint", fvsbn, "--data", "mnist"]),
                           mentioning: [fvsbn, "not class-conditional", "--checkpoints"])
        assertFailsCleanly(try run(["classify", "--checkpoints", fvsbn, "--data", "mnist"]), mentioning: ["--checkpoints", "at least two"])
        assertFailsCleanly(try run(["classify", "--checkpoint", fvsbn, "--data", "cifar"]), mentioning: ["cifar"])
        assertFailsCleanly(try run(["classify", "--checkpoint", fvsbn, "--prior", "flat"]), mentioning: ["--prior", "flat"])
        let small = try writeCheckpoint(try ModelConfig(kind: .fvsbn, height: 4, width: 4), "small.ckpt")
        assertFailsCleanly(try run(["classify", "--checkpoints", "\(fvsbn),\(small)", "--data", "mnist"]),
                           mentioning: [small, "4x4"])
    }

    func testClassifyWithData() throws {
        try requireMNIST()
        let fvsbn = try writeCheckpoint(try ModelConfig(kind: .fvsbn, height: 28, width: 28), "fvsbn.ckpt")
        assertFailsCleanly(try run(["classify", "--checkpoints", [fvsbn, fvsbn, fvsbn].joined(separator: ","), "--data", "mnist"]),
                           mentioning: ["--checkpoints gives 3 models", "10 classes"])
        let wrongClasses = try writeCheckpoint(try ModelConfig(kind: .gatedPixelCNN, height: 28, width: 28, hiddenChannels: 2,
                                                           layers: 1, classes: 4), "four.ckpt")
        assertFailsCleanly(try run(["classify", "--checkpoint", wrongClasses, "--data", "mnist"]),
                           mentioning: [wrongClasses, "4 classes", "10 classes"])
        assertFailsCleanly(try run(["classify", "--checkpoint", wrongClasses, "--data", "binarized-mnist"]),
                           mentioning: ["binarized-mnist", "no class labels"])

        let conditional = try writeCheckpoint(try ModelConfig(kind: .gatedPixelCNN, height: 28, width: 28, seed: 1, hiddenChannels: 4,
                                                          layers: 1, classes: 10), "conditional.ckpt", perturbSeed: 3)
        let outDir = workDir.appendingPathComponent("classified").path
        let r = try run(["classify", "--checkpoint", conditional, "--data", "mnist", "--limit", "30", "--show", "6",
                         "--prior", "train", "--out-dir", outDir])
        assertSucceeds(r)
        XCTAssertTrue(r.stdout.contains("classified 30 images"), r.stdout)
        let accuracy = try XCTUnwrap(number(after: "accuracy ", in: r.stdout), r.stdout)
        XCTAssertTrue((0...100).contains(accuracy))
        XCTAssertTrue(r.stdout.contains("confusion matrix"), r.stdout)
        // Ten rows of the matrix, each with its total; the totals add up to the images classified.
        let rows = r.stdout.split(separator: "\n").filter { line in
            let f = line.split(separator: " "); return f.count == 12 && f.allSatisfy { Int($0) != nil }
        }
        XCTAssertEqual(rows.count, 10, r.stdout)
        XCTAssertEqual(rows.map { Int($0.split(separator: " ").last!)! }.reduce(0, +), 30)
        let grid = try pngSize(outDir + "/least-sure.png")
        XCTAssertEqual(grid.width, 3 * (3 * 28 + 4), "6 images in 3 columns, padding 1, scale 3")
        let csv = try String(contentsOfFile: outDir + "/scores.csv", encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 31, "header and one row per image")
    }

    // MARK: - eval --per-pixel

    /// An untrained FVSBN gives each pixel probability 1/2: the map's total is 784 ln 2.
    func testPerPixelNLLMap() throws {
        try requireMNIST()
        let ck = try writeCheckpoint(try ModelConfig(kind: .fvsbn, height: 28, width: 28), "uniform.ckpt")
        let png = workDir.appendingPathComponent("maps/nll.png").path
        let r = try run(["eval", "--checkpoint", ck, "--data", "mnist", "--per-pixel", "--index", "3", "--out", png])
        assertSucceeds(r)
        XCTAssertTrue(r.stdout.contains("image 3 of mnist/test"), r.stdout)
        XCTAssertEqual(number(after: "NLL ", in: r.stdout), 543.43, "784 ln 2: \(r.stdout)")
        XCTAssertEqual(number(after: "model NLL of the image ", in: r.stdout), 543.43, r.stdout)
        let size = try pngSize(png)
        XCTAssertEqual(size.width, 2 * 28 * 8 + 16, "image and map side by side, scale 8, gap 16")
        XCTAssertEqual(size.height, 28 * 8 + 16 + 16, "then a gap of 16 and the colour bar, 16 high")

        let trained = try writeCheckpoint(try ModelConfig(kind: .fvsbn, height: 28, width: 28), "perturbed.ckpt", perturbSeed: 5)
        let t = try run(["eval", "--checkpoint", trained, "--data", "mnist", "--per-pixel", "--index", "0", "--out", png])
        assertSucceeds(t)
        let total = try XCTUnwrap(number(after: "NLL ", in: t.stdout), t.stdout)
        XCTAssertEqual(total, try XCTUnwrap(number(after: "model NLL of the image ", in: t.stdout)), accuracy: 0.011, t.stdout)
    }

    func testPerPixelBadInput() throws {
        let ck = try writeCheckpoint(try ModelConfig(kind: .fvsbn, height: 28, width: 28), "uniform.ckpt")
        assertFailsCleanly(try run(["eval", "--checkpoint", ck, "--index", "3"]), mentioning: ["--index", "--per-pixel"])
        assertFailsCleanly(try run(["eval", "--checkpoint", ck, "--per-pixel", "--out", "map.jpg"]), mentioning: ["map.jpg"])
        assertFailsCleanly(try run(["eval", "--checkpoint", ck, "--per-pixel", "--index", "-2"]), mentioning: ["--index"])
        let missing = workDir.appendingPathComponent("missing.ckpt").path
        assertFailsCleanly(try run(["eval", "--checkpoint", missing, "--per-pixel"]), mentioning: [missing])
        try requireMNIST()
        assertFailsCleanly(try run(["eval", "--checkpoint", ck, "--data", "mnist", "--per-pixel", "--index", "10000"]),
                           mentioning: ["--index 10000", "10000 images"])
        assertFailsCleanly(try run(["eval", "--checkpoint", ck, "--data", "cifar", "--per-pixel"]), mentioning: ["cifar"])
    }
}
