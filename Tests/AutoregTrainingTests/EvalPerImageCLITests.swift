import AutoregModels
import AutoregTensor
import AutoregTraining
import Foundation
import XCTest

/// `eval --per-image FILE.csv`: every image's NLL as numbers, agreeing with the mean `eval` prints.
final class EvalPerImageCLITests: CLITestCase {
    override var workDirLabel: String { "autoreg-per-image" }

    func writeCheckpoint(_ kind: ModelKind, _ name: String, seed: UInt64) throws -> String {
        let model = try makeModel(ModelConfig(kind: kind, height: 28, width: 28, hidden: kind == .nade ? [5] : nil))
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
