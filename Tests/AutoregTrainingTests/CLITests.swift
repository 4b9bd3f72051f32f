import AutoregModels
import AutoregTraining
import Foundation
import XCTest

/// Process-level tests of the `autoreg` executable that the same build put next to this test bundle.
final class CLITests: CLITestCase {
    func testHelpListsSubcommands() throws {
        let r = try run(["--help"])
        XCTAssertEqual(r.status, 0, r.all)
        let text = r.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for word in ["train", "eval", "sample", "bench", "fvsbn", "nade", "made", "bits per dimension"] {
            XCTAssertTrue(text.contains(word), "--help mentions \(word): \(r.stdout)")
        }
    }

    func testTrainHelpDocumentsOptions() throws {
        let r = try run(["train", "--help"])
        XCTAssertEqual(r.status, 0, r.all)
        for option in ["--model", "--data", "--data-dir", "--binarize", "--levels", "--hidden", "--masks", "--ordering",
                       "--epochs", "--batch-size", "--lr", "--optimizer", "--lr-decay", "--clip", "--seed", "--out",
                       "--resume", "--max-minutes", "--train-limit", "--valid-limit", "--eval-masks", "--threads"] {
            XCTAssertTrue(r.stdout.contains(option), "train --help documents \(option)")
        }
        XCTAssertTrue(r.stdout.contains("last.ckpt") && r.stdout.contains("best.ckpt") && r.stdout.contains("metrics.jsonl"))
    }

    func testEvalHelp() throws {
        let r = try run(["eval", "--help"])
        XCTAssertEqual(r.status, 0, r.all)
        for option in ["--checkpoint", "--split", "--masks", "--batch-size"] {
            XCTAssertTrue(r.stdout.contains(option), "eval --help documents \(option)")
        }
    }

    func testBogusModel() throws {
        let r = try run(["train", "--model", "bogus", "--out", workDir.appendingPathComponent("run").path])
        assertFailsCleanly(r, mentioning: ["bogus"])
        XCTAssertTrue(r.stderr.contains("fvsbn") && r.stderr.contains("made"), "lists the valid models: \(r.stderr)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: workDir.appendingPathComponent("run").path), "nothing written")
    }

    func testBadTrainValues() throws {
        assertFailsCleanly(try run(["train", "--batch-size", "0"]), mentioning: ["--batch-size"])
        assertFailsCleanly(try run(["train", "--optimizer", "rmsprop"]), mentioning: ["rmsprop"])
        assertFailsCleanly(try run(["train", "--data", "cifar"]), mentioning: ["cifar"])
        assertFailsCleanly(try run(["train", "--levels", "3"]), mentioning: ["3"])
        assertFailsCleanly(try run(["train", "--epochs", "two"]), mentioning: ["two"])
    }

    func testEvalMissingCheckpoint() throws {
        let path = "/nonexistent.ckpt"
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        let r = try run(["eval", "--checkpoint", path])
        assertFailsCleanly(r, mentioning: [path])
    }

    func testEvalCorruptCheckpoint() throws {
        let path = workDir.appendingPathComponent("corrupt.ckpt").path
        try Data("AUTOREG1 but then nothing useful".utf8).write(to: URL(fileURLWithPath: path))
        assertFailsCleanly(try run(["eval", "--checkpoint", path]), mentioning: [path])
    }

    /// A header length with the top bit set (or near Int.max) must be rejected, not crash the reader.
    func testEvalCheckpointWithAbsurdHeaderLength() throws {
        for (name, length) in [("top-bit.ckpt", UInt64.max), ("near-max.ckpt", UInt64(Int.max) - 4)] {
            let path = workDir.appendingPathComponent(name).path
            var bytes = Data("AUTOREG1".utf8)
            withUnsafeBytes(of: length.littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(Data(repeating: 0x20, count: 64))
            try bytes.write(to: URL(fileURLWithPath: path))
            assertFailsCleanly(try run(["eval", "--checkpoint", path]), mentioning: [path])
        }
    }

    func testResumeWithoutCheckpoint() throws {
        let out = workDir.appendingPathComponent("empty-run").path
        let r = try run(["train", "--resume", "--out", out])
        assertFailsCleanly(r, mentioning: [out + "/last.ckpt"])
    }

    /// Writes a tiny binarized-MNIST folder (random 28x28 binary images in .amat files).
    func writeTinyBinarizedMNIST(counts: [String: Int]) throws -> String {
        let dir = workDir.appendingPathComponent("tiny-binarized-mnist")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var rng = SystemRandomNumberGenerator()
        for (split, count) in counts {
            let lines = (0..<count).map { _ in (0..<784).map { _ in Bool.random(using: &rng) ? "1" : "0" }.joined(separator: " ") }
            try (lines.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("binarized_mnist_\(split).amat"),
                                                          atomically: true, encoding: .utf8)
        }
        return dir.path
    }

    /// On --resume the saved settings hold, except --lr, --lr-decay, --clip and --valid-limit when
    /// given; a change is announced and then saved with the run.
    func testResumeChangesTheLearningRateOnlyWhenAsked() throws {
        let data = try writeTinyBinarizedMNIST(counts: ["train": 40, "valid": 10, "test": 10])
        let out = workDir.appendingPathComponent("lr-run").path
        func rates() throws -> [Double] {
            let text = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8)
            return try text.split(separator: "\n").map { line in
                let row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                return try XCTUnwrap(row["learning_rate"] as? Double)
            }
        }
        let common = ["--data", "binarized-mnist", "--data-dir", data, "--out", out]
        assertSucceeds(try run(["train", "--model", "fvsbn", "--batch-size", "20", "--lr", "0.01", "--epochs", "1"] + common))
        let unchanged = try run(["train", "--resume", "--epochs", "2"] + common)
        assertSucceeds(unchanged)
        let resuming = unchanged.stderr.split(separator: "\n").filter { $0.hasPrefix("resuming") }
        XCTAssertEqual(resuming.count, 1, unchanged.stderr)
        XCTAssertFalse(resuming.first?.contains(" with ") ?? true, "nothing changed: \(unchanged.stderr)")
        let changed = try run(["train", "--resume", "--epochs", "3", "--lr", "0.004", "--lr-decay", "exp:0.5"] + common)
        assertSucceeds(changed)
        XCTAssertTrue(changed.stderr.contains("lr 0.01 -> 0.004") && changed.stderr.contains("lr decay exp:0.5"), changed.stderr)
        assertSucceeds(try run(["train", "--resume", "--epochs", "4"] + common))
        // Epochs are numbered from 0 in the schedule: epoch 3 runs at 0.004 * 0.5^2, epoch 4 at 0.004 * 0.5^3.
        let expected = [0.01, 0.01, 0.001, 0.0005]
        let got = try rates()
        XCTAssertEqual(got.count, 4)
        for (g, e) in zip(got, expected) { XCTAssertEqual(g, e, accuracy: 1e-7, "\(got)") }
        assertFailsCleanly(try run(["train", "--resume", "--lr-decay", "exp:"] + common), mentioning: ["--lr-decay"])
    }

    func testSampleRejectsBadOutput() throws {
        assertFailsCleanly(try run(["sample", "--checkpoint", "x.ckpt", "--out", "samples.jpg"]), mentioning: ["samples.jpg"])
    }
}
