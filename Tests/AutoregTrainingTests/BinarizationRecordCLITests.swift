import AutoregData
import AutoregModels
import AutoregTraining
import Foundation
import XCTest

/// Runs saved with `--binarize none` for a binary model on 8-bit data (before that was
/// refused) resume, say that their pixels are thresholded at 0.5, and record it; a run without
/// best.ckpt says so when one asks for it.
final class BinarizationRecordCLITests: CLITestCase {
    override var workDirLabel: String { "autoreg-binarize-record" }

    func testAnOldRunRecordedAsNoneResumesThresholdedAndSaysSo() throws {
        let data = try writePNGFolder("grey", size: 4, train: ["x": 20], valid: ["x": 4])
        let run = workDir.appendingPathComponent("old-run").path
        var options = TrainingOptions()
        options.dataset = "png"
        options.dataDirectory = data
        options.binarization = .none
        options.epochs = 1
        options.batchSize = 10
        options.outputDirectory = run
        let model = try makeModel(try ModelConfig(kind: .fvsbn, height: 4, width: 4))
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        try Checkpoint(model: model, training: TrainingState(options: options)).write(to: run + "/last.ckpt")

        let r = try self.run(["train", "--resume", "--out", run, "--epochs", "1"])
        assertSucceeds(r)
        XCTAssertTrue(r.stdout.contains("records --binarize none") && r.stdout.contains("binarised at 0.5"), r.stdout)
        XCTAssertEqual(try Checkpoint.read(from: run + "/last.ckpt").training?.options.binarization, .fixed, "recorded as it is")
        assertSucceeds(try self.run(["train", "--resume", "--out", run, "--epochs", "2", "--binarize", "fixed"]))
        assertFailsCleanly(try self.run(["train", "--resume", "--out", run, "--epochs", "3", "--binarize", "dynamic"]),
                           mentioning: ["--binarize dynamic", "the run's: fixed"])
    }

    func testAskingForBestBeforeTheFirstEpochEndsSaysWhatToUse() throws {
        let data = try writePNGFolder("short", size: 4, train: ["x": 20], valid: ["x": 4])
        let run = workDir.appendingPathComponent("short-run").path
        assertSucceeds(try self.run(["train", "--model", "fvsbn", "--data", "png", "--data-dir", data, "--epochs", "1",
                                     "--batch-size", "1", "--max-minutes", "1e-9", "--out", run]))
        for command in [["eval", "--split", "valid"], ["sample", "-n", "1"]] {
            let r = try self.run([command[0], "--checkpoint", run + "/best.ckpt"] + command.dropFirst())
            assertFailsCleanly(r, mentioning: [run + "/best.ckpt", "no best.ckpt exists yet", run + "/last.ckpt", "--resume"])
        }
        assertSucceeds(try self.run(["eval", "--checkpoint", run + "/last.ckpt", "--split", "valid"]))
    }
}
