import AutoregImaging
import AutoregModels
import AutoregTensor
import AutoregTraining
import Foundation
import XCTest

/// `eval --per-image FILE.csv`: every image's NLL as numbers, agreeing with the mean `eval` prints.
final class EvalPerImageCLITests: CLITestCase {
    override var workDirLabel: String { "autoreg-per-image" }

    func writeCheckpoint(_ kind: ModelKind, _ name: String, seed: UInt64) throws -> String {
        let model = try makeModel(try ModelConfig(kind: kind, height: 28, width: 28, hidden: kind == .nade ? [5] : nil))
        perturb(model, std: 0.05, seed: seed)
        let path = workDir.appendingPathComponent(name).path
        try Checkpoint(model: model).write(to: path)
        return path
    }

    func rows(_ path: String) throws -> (header: [String], rows: [[String]]) {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return (lines[0], Array(lines.dropFirst()))
    }

    /// The printed NLL ("test NLL 123.45 nats/image").
    func printedNLL(_ r: Result) -> Double? {
        guard let range = r.stdout.range(of: "test NLL ") else { return nil }
        return Double(r.stdout[range.upperBound...].prefix { $0 != " " })
    }

    func testOneModelWritesEveryImageAndTheMeanMatches() throws {
        let mnist = try writeTinyIDXMNIST(in: workDir, trainCount: 10, testCount: 25, seed: 9)
        let ckpt = try writeCheckpoint(.fvsbn, "fvsbn.ckpt", seed: 1)
        let csv = workDir.appendingPathComponent("scores.csv").path
        let r = try run(["eval", "--checkpoint", ckpt, "--data", "mnist", "--data-dir", mnist, "--per-image", csv])
        assertSucceeds(r)
        let (header, body) = try rows(csv)
        XCTAssertEqual(header, ["index", "label", "nll_nats", "bits_per_dim"])
        XCTAssertEqual(body.count, 25)
        XCTAssertEqual(body.map { Int($0[0]) }, Array(0..<25))
        let labels = [UInt8](try Data(contentsOf: URL(fileURLWithPath: mnist).appendingPathComponent("t10k-labels-idx1-ubyte")))
        XCTAssertEqual(body.map { Int($0[1]) }, labels.dropFirst(8).map { Int($0) }, "labels as in the file")
        let nats = body.map { Double($0[2])! }, bits = body.map { Double($0[3])! }
        // The nats are Float values in their shortest text; bits/dim is computed from the same Float.
        for (n, b) in zip(nats, bits) { XCTAssertEqual(b, n / (784 * M_LN2), accuracy: 1e-7 * max(1, b)) }
        let mean = nats.reduce(0, +) / Double(nats.count)
        XCTAssertEqual(mean, try XCTUnwrap(printedNLL(r)), accuracy: 0.006, "the CSV's mean is the printed NLL: \(r.stdout)")
        XCTAssertGreaterThan(Set(nats).count, 20, "per-image values, not one value repeated")
    }

    func testMixtureWritesTheMixtureAndEachMember() throws {
        let mnist = try writeTinyIDXMNIST(in: workDir, trainCount: 10, testCount: 12, seed: 10)
        let a = try writeCheckpoint(.fvsbn, "a.ckpt", seed: 2), b = try writeCheckpoint(.nade, "b.ckpt", seed: 3)
        let csv = workDir.appendingPathComponent("mix.csv").path
        assertSucceeds(try run(["eval", "--checkpoint", a, "--checkpoint", b, "--data", "mnist", "--data-dir", mnist,
                                "--per-image", csv]))
        let (header, body) = try rows(csv)
        XCTAssertEqual(header, ["index", "label", "nll_nats", "bits_per_dim", "nll_nats_checkpoint1", "nll_nats_checkpoint2"])
        for row in body {
            let mix = Double(row[2])!, x = Double(row[4])!, y = Double(row[5])!
            // −log((e^−x + e^−y) / 2), computed stably.
            let expected = min(x, y) - log((1 + exp(-abs(x - y))) / 2)
            XCTAssertEqual(mix, expected, accuracy: 1e-3 * max(1, expected))
        }
    }

    func testPerImageDoesNotGoWithPerPixel() throws {
        let ckpt = try writeCheckpoint(.fvsbn, "f.ckpt", seed: 4)
        assertFailsCleanly(try run(["eval", "--checkpoint", ckpt, "--per-pixel", "--per-image", "x.csv"]),
                           mentioning: ["--per-image", "--per-pixel"])
    }
}

/// `eval --per-pixel --terms FILE`: the per-pixel terms as numbers; `--scale-max` fixes the
/// heat map's scale so that maps of several images compare.
final class PerPixelTermsCLITests: CLITestCase {
    override var workDirLabel: String { "autoreg-per-pixel-terms" }

    func setUpData() throws -> (mnist: String, checkpoint: String) {
        let mnist = try writeTinyIDXMNIST(in: workDir, trainCount: 10, testCount: 3, seed: 21)
        let model = try makeModel(try ModelConfig(kind: .fvsbn, height: 28, width: 28))
        perturb(model, std: 0.05, seed: 5)
        let path = workDir.appendingPathComponent("fvsbn.ckpt").path
        try Checkpoint(model: model).write(to: path)
        return (mnist, path)
    }

    /// The total printed for the image ("NLL 543.21 nats = sum of 784 per-pixel terms").
    func printedTotal(_ r: Result) -> Double? {
        guard let range = r.stdout.range(of: ": NLL ") else { return nil }
        return Double(r.stdout[range.upperBound...].prefix { $0 != " " })
    }

    func testTermsAsCSVAndNPYAgreeWithThePrintedTotal() throws {
        let (mnist, ckpt) = try setUpData()
        let csv = workDir.appendingPathComponent("terms.csv").path, npy = workDir.appendingPathComponent("terms.npy").path
        let common = ["eval", "--checkpoint", ckpt, "--data", "mnist", "--data-dir", mnist, "--per-pixel", "--index", "2",
                      "--out", workDir.appendingPathComponent("map.png").path]
        let a = try run(common + ["--terms", csv]), b = try run(common + ["--terms", npy])
        assertSucceeds(a)
        assertSucceeds(b)
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.first, "image,row,column,channel,nats")
        let rows = lines.dropFirst().map { $0.split(separator: ",").map(String.init) }
        XCTAssertEqual(rows.count, 784)
        XCTAssertEqual(rows[29].prefix(4), ["2", "1", "1", "0"], "row-major: entry 29 is row 1, column 1 of image 2")
        let values = rows.map { Float($0[4])! }
        XCTAssertEqual(Double(values.reduce(0, +)), try XCTUnwrap(printedTotal(a)), accuracy: 0.01)

        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: npy)))
        XCTAssertEqual(Array(bytes.prefix(8)), [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0, "data aligned to 64 bytes")
        let header = String(decoding: bytes[10..<10 + headerLength], as: UTF8.self)
        XCTAssertTrue(header.contains("'descr': '<f4'") && header.contains("'shape': (1, 1, 28, 28)"), header)
        let payload = bytes[(10 + headerLength)...]
        XCTAssertEqual(payload.count, 784 * 4)
        var fromNPY: [Float] = []
        for i in stride(from: payload.startIndex, to: payload.endIndex, by: 4) {
            var bits: UInt32 = 0
            for k in 0..<4 { bits |= UInt32(payload[i + k]) << (8 * UInt32(k)) }
            fromNPY.append(Float(bitPattern: bits))
        }
        XCTAssertEqual(fromNPY, values, "the same numbers in both files")
    }

    /// With --scale-max below every term, every heat-map pixel is the colour map's top colour;
    /// without it, the map spans the image's own range.
    func testScaleMaxFixesTheHeatMapsScale() throws {
        let (mnist, ckpt) = try setUpData()
        func heat(_ extra: [String]) throws -> [RGB] {
            let png = workDir.appendingPathComponent("map-\(extra.count).png").path
            let r = try run(["eval", "--checkpoint", ckpt, "--data", "mnist", "--data-dir", mnist, "--per-pixel",
                             "--scale", "1", "--out", png] + extra)
            assertSucceeds(r)
            if let m = extra.last { XCTAssertTrue(r.stdout.contains("0 to \(m) nats"), r.stdout) }
            let image = try PNG.read(path: png)
            XCTAssertEqual(image.width, 28 + 2 + 28)
            var colours: [RGB] = []
            for y in 0..<28 {
                for x in 0..<28 {
                    let at: Int = (y * image.width + 30 + x) * image.channels
                    colours.append(RGB(image.pixels[at], image.pixels[at + 1], image.pixels[at + 2]))
                }
            }
            return colours
        }
        let top = Colormap.inferno.color(at: 1)
        XCTAssertTrue(try heat(["--scale-max", "0.01"]).allSatisfy { $0 == top })
        XCTAssertFalse(try heat([]).allSatisfy { $0 == top })
    }
}
