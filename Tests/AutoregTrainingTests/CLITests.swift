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

    func testSampleRejectsBadOutput() throws {
        assertFailsCleanly(try run(["sample", "--checkpoint", "x.ckpt", "--out", "samples.jpg"]), mentioning: ["samples.jpg"])
    }
}
