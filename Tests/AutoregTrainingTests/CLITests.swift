import AutoregModels
import AutoregTraining
import Foundation
import XCTest

/// Process-level tests of the `autoreg` executable that the same build put next to this test bundle.
final class CLITests: XCTestCase {
    struct Result {
        var status: Int32
        var signaled: Bool
        var stdout: String
        var stderr: String
        var all: String { stdout + stderr }
    }

    /// The products directory (the folder holding the running `.xctest` bundle), then the usual
    /// scratch paths below the package root.
    static func findExecutable() -> URL? {
        var candidates: [URL] = []
        var bundleURLs = [Bundle.main.bundleURL, Bundle(for: CLITests.self).bundleURL]
        if let exe = Bundle.main.executableURL { bundleURLs.append(exe) }
        if let arg0 = CommandLine.arguments.first { bundleURLs.append(URL(fileURLWithPath: arg0)) }
        for url in bundleURLs {
            // Walk up to the `.xctest` bundle (on macOS the binary sits inside it); its parent is the products dir.
            var u = url.standardizedFileURL
            while u.path != "/" && u.pathExtension != "xctest" { u = u.deletingLastPathComponent() }
            if u.pathExtension == "xctest" { candidates.append(u.deletingLastPathComponent().appendingPathComponent("autoreg")) }
        }
        var root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while root.path != "/" && !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root = root.deletingLastPathComponent()
        }
        for scratch in [".build-ttests", ".build"] { candidates.append(root.appendingPathComponent("\(scratch)/debug/autoreg")) }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    var executable: URL!
    var workDir: URL!

    override func setUpWithError() throws {
        guard let exe = CLITests.findExecutable() else {
            throw XCTSkip("autoreg executable not found next to the test bundle (build it with `swift build --build-tests`)")
        }
        executable = exe
        workDir = try makeTemporaryDirectory(self, "autoreg-cli")
    }

    func run(_ arguments: [String], timeout: TimeInterval = 60) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = workDir
        let out = workDir.appendingPathComponent("stdout-\(UUID().uuidString)")
        let err = workDir.appendingPathComponent("stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
        defer { try? outHandle.close(); try? errHandle.close() }
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            XCTFail("autoreg \(arguments.joined(separator: " ")) did not finish within \(timeout) s")
        }
        process.waitUntilExit()
        return Result(status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
                      stdout: try String(contentsOf: out, encoding: .utf8), stderr: try String(contentsOf: err, encoding: .utf8))
    }

    /// A failure: exits normally (no crash) with a non-zero status and an `Error:` line containing every fragment.
    func assertFailsCleanly(_ r: Result, mentioning fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(r.signaled, "crashed with signal \(r.status): \(r.all)", file: file, line: line)
        XCTAssertNotEqual(r.status, 0, file: file, line: line)
        let errorLine = r.stderr.split(separator: "\n").first { $0.hasPrefix("Error:") }
        XCTAssertNotNil(errorLine, "an Error: line on stderr: \(r.stderr)", file: file, line: line)
        for f in fragments {
            XCTAssertTrue(errorLine?.contains(f) ?? false, "error line '\(errorLine ?? "")' mentions '\(f)'", file: file, line: line)
        }
    }

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
