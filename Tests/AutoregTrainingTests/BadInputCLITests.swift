import AutoregData
import AutoregImaging
import AutoregModels
import AutoregTensor
import AutoregTraining
import Foundation
import XCTest

/// The cases of issue 14, tried as a careless or hostile user would: each ends with a one-line
/// error naming what is wrong and a non-zero exit; none crashes or prints a wrong figure.
final class BadInputCLITests: CLITestCase {
    override var workDirLabel: String { "autoreg-bad-input" }
    override var defaultTimeout: TimeInterval { 120 }

    func smallGated(classes: Int, levels: Int = 256, size: Int = 28) throws -> ModelConfig {
        try ModelConfig(kind: .gatedPixelCNN, height: size, width: size, levels: levels, hiddenChannels: 4, layers: 1, classes: classes)
    }

    func writeCheckpoint(_ config: ModelConfig, _ name: String) throws -> String {
        let path = workDir.appendingPathComponent(name).path
        try Checkpoint(model: try makeModel(config)).write(to: path)
        return path
    }

    /// The reported case: a class with no held-out image. The model's classes come from the
    /// data set (3 class folders), not from the validation split (2), so the third class's
    /// label is in range; this used to corrupt the heap.
    func testClassMissingFromValidationTrainsAndEvaluates() throws {
        let data = try writePNGFolder("three-classes", size: 6, train: ["a": 4, "b": 4, "c": 4], valid: ["a": 2, "b": 2])
        let out = workDir.appendingPathComponent("run").path
        let r = try run(["train", "--model", "gated-pixelcnn", "--conditional", "--data", "png", "--data-dir", data,
                         "--channels", "4", "--layers", "1", "--epochs", "1", "--batch-size", "5", "--out", out])
        assertSucceeds(r)
        let ck = try Checkpoint.read(from: out + "/best.ckpt")
        XCTAssertEqual(ck.model.classes, 3, "the data set's class folders, not the labels of one split")
        assertSucceeds(try run(["eval", "--checkpoint", out + "/best.ckpt", "--split", "train"]))
    }

    /// eval of a 3-class checkpoint on MNIST (labels 0...9) refuses the labels it does not know.
    func testEvalOfAThreeClassModelOnMNISTIsRefused() throws {
        let mnist = try writeTinyIDXMNIST(in: workDir, trainCount: 10, testCount: 20, seed: 3)
        let ckpt = try writeCheckpoint(try smallGated(classes: 3), "three.ckpt")
        let r = try run(["eval", "--checkpoint", ckpt, "--data", "mnist", "--data-dir", mnist, "--limit", "20"])
        assertFailsCleanly(r, mentioning: ["mnist/test", "label", "3 classes"])
        let c = try run(["classify", "--checkpoint", ckpt, "--data", "mnist", "--data-dir", mnist, "--limit", "20"])
        assertFailsCleanly(c, mentioning: ["3 classes"])
    }

    /// MNIST label files with values 10-16 name the file, the item and the value.
    func testMNISTLabelsOutsideTheDigitsAreRefused() throws {
        let mnist = try writeTinyIDXMNIST(in: workDir, trainCount: 10, testCount: 20, seed: 4)
        let labels = URL(fileURLWithPath: mnist).appendingPathComponent("t10k-labels-idx1-ubyte")
        var bytes = [UInt8](try Data(contentsOf: labels))
        bytes[8 + 5] = 13
        try Data(bytes).write(to: labels)
        let ckpt = try writeCheckpoint(try smallGated(classes: 10), "ten.ckpt")
        let r = try run(["eval", "--checkpoint", ckpt, "--data", "mnist", "--data-dir", mnist])
        assertFailsCleanly(r, mentioning: ["t10k-labels-idx1-ubyte", "label 13", "item 5"])
    }

    /// Other-sized images used to evaluate to -5.8e35 or -nan with exit 0.
    func testEvalOfOtherSizedImagesIsRefused() throws {
        let data = try writePNGFolder("small-pngs", size: 6, train: ["x": 10], valid: ["x": 2])
        let ckpt = try writeCheckpoint(try smallGated(classes: 0), "gated28.ckpt")
        let r = try run(["eval", "--checkpoint", ckpt, "--data", "png", "--data-dir", data, "--split", "valid"])
        assertFailsCleanly(r, mentioning: ["6x6x1", "28x28x1"])
        XCTAssertFalse(r.stdout.contains("NLL"), "no figure printed: \(r.stdout)")
    }

    /// A blow-up is not saved as success: non-zero exit, no best.ckpt.
    func testDivergingRunFailsWithoutABestCheckpoint() throws {
        let data = try writePNGFolder("diverge", size: 4, train: ["x": 40], valid: ["x": 10])
        let out = workDir.appendingPathComponent("diverged").path
        let r = try run(["train", "--model", "fvsbn", "--data", "png", "--data-dir", data, "--lr", "1e4", "--epochs", "2",
                         "--batch-size", "4", "--out", out])
        assertFailsCleanly(r, mentioning: ["diverged"])
        XCTAssertFalse(r.stdout.contains("*best*"), r.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/best.ckpt"))
    }

    func testOptionValuesThatCannotBeSavedOrUsed() throws {
        assertFailsCleanly(try run(["train", "--lr", "inf"]), mentioning: ["--lr", "inf"])
        assertFailsCleanly(try run(["train", "--momentum", "nan"]), mentioning: ["--momentum", "nan"])
        assertFailsCleanly(try run(["train", "--clip", "inf"]), mentioning: ["--clip"])
        assertFailsCleanly(try run(["train", "--batch-size", "-5"]), mentioning: ["--batch-size", "-5"])
        assertFailsCleanly(try run(["train", "--epochs", "0"]), mentioning: ["--epochs", "0"])
        assertFailsCleanly(try run(["sample", "--checkpoint", "x.ckpt", "--temperature", "inf"]), mentioning: ["--temperature"])
        let ckpt = try writeCheckpoint(try ModelConfig(kind: .made, height: 28, width: 28, hidden: [8]), "made.ckpt")
        assertFailsCleanly(try run(["eval", "--checkpoint", ckpt, "--limit", "0"]), mentioning: ["--limit", "0"])
        assertFailsCleanly(try run(["eval", "--checkpoint", ckpt, "--masks", "1000"]), mentioning: ["--masks 1000", "1 mask"])
    }

    func testSizesBeyondMemoryAreRefusedWithTheirSize() throws {
        let data = try writePNGFolder("sizes", size: 28, train: ["x": 10], valid: ["x": 2])
        let r = try run(["train", "--model", "made", "--hidden", "100000000", "--data", "png", "--data-dir", data,
                         "--out", workDir.appendingPathComponent("h").path])
        assertFailsCleanly(r, mentioning: ["needs about", "GiB"])
        let ckpt = try writeCheckpoint(try ModelConfig(kind: .made, height: 28, width: 28, hidden: [8]), "made.ckpt")
        assertFailsCleanly(try run(["sample", "--checkpoint", ckpt, "-n", "100000000"]), mentioning: ["-n", "needs about"])
        assertFailsCleanly(try run(["sample", "--checkpoint", ckpt, "-n", "4", "--scale", "100000"]),
                           mentioning: ["--scale 100000", "needs about"])
        assertFailsCleanly(try run(["receptive-field", "--checkpoint", ckpt, "--pixel", "3,3", "--scale", "100000"]),
                           mentioning: ["--scale 100000", "needs about"])
    }

    /// --resume with a --model other than the run's is an error, not silently ignored.
    func testResumeRefusesAConflictingModel() throws {
        let data = try writePNGFolder("resume", size: 4, train: ["x": 20], valid: ["x": 4])
        let out = workDir.appendingPathComponent("made-run").path
        let common = ["--data", "png", "--data-dir", data, "--hidden", "8", "--out", out]
        assertSucceeds(try run(["train", "--model", "made", "--epochs", "1"] + common))
        let r = try run(["train", "--resume", "--model", "nade", "--epochs", "2", "--out", out])
        assertFailsCleanly(r, mentioning: ["--model nade", "made"])
        // The same command line with --resume is fine.
        assertSucceeds(try run(["train", "--resume", "--model", "made", "--epochs", "2"] + common))
    }

    /// An option given explicitly at its default value still conflicts with a run that used
    /// another value (it used to be mistaken for "not given").
    func testResumeRefusesExplicitDefaultsThatDifferFromTheRun() throws {
        let data = try writePNGFolder("resume-defaults", size: 4, train: ["x": 20], valid: ["x": 4])
        let out = workDir.appendingPathComponent("made-masks-run").path
        let common = ["--data", "png", "--data-dir", data, "--out", out]
        assertSucceeds(try run(["train", "--model", "made", "--hidden", "8", "--masks", "3", "--batch-size", "10",
                                "--seed", "4", "--epochs", "1"] + common))
        for (given, expected) in [(["--masks", "1"], "--masks"), (["--batch-size", "100"], "--batch-size 100"),
                                  (["--seed", "0"], "--seed 0"), (["--hidden", "500"], "--hidden")] {
            assertFailsCleanly(try run(["train", "--resume", "--epochs", "2"] + given + common), mentioning: [expected, "the run's"])
        }
        // Giving the run's own values is fine.
        assertSucceeds(try run(["train", "--resume", "--epochs", "2", "--masks", "3", "--batch-size", "10", "--seed", "4",
                                "--hidden", "8"] + common))
    }

    /// --test without a test split fails before training, not after it.
    func testMissingTestSplitFailsBeforeTraining() throws {
        let data = try writePNGFolder("no-test", size: 4, train: ["x": 20], valid: ["x": 4])
        let out = workDir.appendingPathComponent("no-test-run").path
        let r = try run(["train", "--model", "fvsbn", "--data", "png", "--data-dir", data, "--epochs", "1", "--test", "--out", out])
        assertFailsCleanly(r, mentioning: ["--test", "test split"])
        XCTAssertFalse(r.stdout.contains("epoch 1/1"), "no training happened: \(r.stdout)")
    }

    /// An output path under a regular file: a plain one-line error, not Foundation's raw dump.
    func testBadOutputPathsGiveAPlainError() throws {
        let blocker = workDir.appendingPathComponent("afile").path
        XCTAssertTrue(FileManager.default.createFile(atPath: blocker, contents: Data()))
        let data = try writePNGFolder("out-paths", size: 4, train: ["x": 20], valid: ["x": 4])
        let r = try run(["train", "--model", "fvsbn", "--data", "png", "--data-dir", data, "--epochs", "1",
                         "--out", blocker + "/run"])
        assertFailsCleanly(r, mentioning: [blocker + "/run", "Not a directory"])
        let ckpt = try writeCheckpoint(try ModelConfig(kind: .fvsbn, height: 4, width: 4), "fvsbn.ckpt")
        let s = try run(["sample", "--checkpoint", ckpt, "-n", "2", "--out", blocker + "/x.png"])
        assertFailsCleanly(s, mentioning: ["afile", "File exists"])
        for result in [r, s] { XCTAssertFalse(result.stderr.contains("NSCocoaErrorDomain"), result.stderr) }
    }

    /// PNG data larger than the cap is refused before decoding, and the error says how to raise it.
    func testImageCapIsAnOption() throws {
        let data = try writePNGFolder("cap", size: 12, train: ["x": 10], valid: ["x": 2])
        let out = workDir.appendingPathComponent("cap-run").path
        let args = ["train", "--model", "fvsbn", "--data", "png", "--data-dir", data, "--epochs", "1", "--out", out]
        assertFailsCleanly(try run(args + ["--max-image-pixels", "100"]), mentioning: ["144", "--max-image-pixels"])
        assertSucceeds(try run(args + ["--max-image-pixels", "144"]))
    }

    /// Training says what it models and how it sees the data; `--binarize none` means none.
    func testTrainingSaysWhatItModelsAndHowItSeesTheData() throws {
        let data = try writePNGFolder("grey", size: 4, train: ["x": 20], valid: ["x": 4])
        let base = ["train", "--model", "fvsbn", "--data", "png", "--data-dir", data, "--epochs", "1"]
        let auto = try run(base + ["--out", workDir.appendingPathComponent("auto").path])
        assertSucceeds(auto)
        XCTAssertTrue(auto.stdout.contains("2 output levels per value, Bernoulli outputs") && auto.stdout.contains("binarised at 0.5"),
                      auto.stdout)
        let made = try run(["train", "--model", "made", "--hidden", "8", "--data", "png", "--data-dir", data, "--epochs", "1",
                            "--out", workDir.appendingPathComponent("made").path])
        XCTAssertTrue(made.stdout.contains("256 output levels per value, 256-way softmax outputs") && !made.stdout.contains("binarised"),
                      made.stdout)
        assertFailsCleanly(try run(base + ["--binarize", "none", "--out", workDir.appendingPathComponent("none").path]),
                           mentioning: ["--binarize none", "8-bit"])
    }

    /// A run stopped before its first epoch ends says there is no best.ckpt yet.
    func testStopBeforeTheFirstEpochSaysThereIsNoBestCheckpoint() throws {
        let data = try writePNGFolder("short", size: 4, train: ["x": 20], valid: ["x": 4], test: ["x": 4])
        let out = workDir.appendingPathComponent("short-run").path
        let r = try run(["train", "--model", "fvsbn", "--data", "png", "--data-dir", data, "--epochs", "1", "--batch-size", "1",
                         "--max-minutes", "1e-9", "--test", "--out", out])
        assertSucceeds(r)
        XCTAssertTrue(r.stderr.contains("no epoch has finished yet") && r.stderr.contains("best.ckpt"), r.stderr)
        XCTAssertFalse(r.stdout.contains("test NLL"), "nothing to test yet: \(r.stdout)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/last.ckpt"))
    }

    /// SIGTERM during eval stops within a second or so, says so, and exits 128 + 15.
    func testSIGTERMDuringEvalStopsWithAMessage() throws {
        let mnist = try writeTinyIDXMNIST(in: workDir, trainCount: 10, testCount: 10, seed: 5)
        let ckpt = try writeCheckpoint(try ModelConfig(kind: .gatedPixelCNN, height: 28, width: 28, levels: 256,
                                                   hiddenChannels: 16, layers: 4), "gated.ckpt")
        let process = Process()
        process.executableURL = executable
        process.arguments = ["eval", "--checkpoint", ckpt, "--data", "mnist", "--data-dir", mnist, "--split", "valid",
                             "--batch-size", "10", "--threads", "1"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: 3)  // past loading, into the 10 000 validation images
        XCTAssertTrue(process.isRunning, "evaluation of 10 000 images should take longer than 3 s")
        process.terminate()
        let stopAsked = Date()
        process.waitUntilExit()
        let waited = Date().timeIntervalSince(stopAsked)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationReason, .exit, "ends by itself, not killed: \(stderr)")
        XCTAssertEqual(process.terminationStatus, 128 + SIGTERM, stderr)
        XCTAssertTrue(stderr.contains("stopped by SIGTERM during evaluation"), stderr)
        XCTAssertLessThan(waited, 5, "stops at the next batch")
    }
}
