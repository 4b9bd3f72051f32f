import AutoregData
import AutoregModels
import AutoregTensor
import AutoregTraining
import Foundation
import XCTest

/// Process-level tests of the `autoreg` executable that the same build put next to this test bundle.
final class CLITests: CLITestCase {
    func testHelpListsSubcommands() throws {
        let r = try run(["--help"])
        XCTAssertEqual(r.status, 0, r.all)
        let text = r.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for word in ["train", "eval", "sample", "bench", "bits per dimension"] + ModelKind.allCases.map(\.rawValue)
            + DatasetName.allCases.map(\.rawValue) {
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

    /// On --resume the saved settings hold, except --lr, --lr-decay, --clip, --ema, --dropout and --valid-limit when
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
        do {
            let held = try RunLock(directory: out)  // as if the run were still going in another process
            assertFailsCleanly(try run(["train", "--resume", "--epochs", "2"] + common), mentioning: [out, "in use"])
            withExtendedLifetime(held) {}
        }
        let unchanged = try run(["train", "--resume", "--epochs", "2"] + common)
        assertSucceeds(unchanged)
        let resuming = unchanged.stderr.split(separator: "\n").filter { $0.hasPrefix("resuming") }
        XCTAssertEqual(resuming.count, 1, unchanged.stderr)
        XCTAssertFalse(resuming.first?.contains(" with ") ?? true, "nothing changed: \(unchanged.stderr)")
        let changed = try run(["train", "--resume", "--epochs", "3", "--lr", "0.004", "--lr-decay", "exp:0.5", "--ema", "0.9"] + common)
        assertSucceeds(changed)
        XCTAssertTrue(changed.stderr.contains("lr 0.01 -> 0.004") && changed.stderr.contains("lr decay exp:0.5"), changed.stderr)
        XCTAssertTrue(changed.stderr.contains("weight averaging from here on, decay 0.9"), changed.stderr)
        XCTAssertNotNil(try Checkpoint.read(from: out + "/last.ckpt").optimizer?.slots["weight-average"])
        let averaged = try run(["eval", "--checkpoint", out + "/last.ckpt", "--average", "--split", "valid"])
        assertSucceeds(averaged)
        XCTAssertTrue(averaged.stdout.contains("valid NLL"), averaged.stdout)
        assertFailsCleanly(try run(["eval", "--checkpoint", out + "/best.ckpt", "--average"]), mentioning: [out + "/best.ckpt", "weight average"])
        assertSucceeds(try run(["train", "--resume", "--epochs", "4"] + common))
        // Epochs are numbered from 0 in the schedule: epoch 3 runs at 0.004 * 0.5^2, epoch 4 at 0.004 * 0.5^3.
        let expected = [0.01, 0.01, 0.001, 0.0005]
        let got = try rates()
        XCTAssertEqual(got.count, 4)
        for (g, e) in zip(got, expected) { XCTAssertEqual(g, e, accuracy: 1e-7, "\(got)") }
        assertFailsCleanly(try run(["train", "--resume", "--lr-decay", "exp:"] + common), mentioning: ["--lr-decay"])
        assertFailsCleanly(try run(["train", "--resume", "--ema", "1"] + common), mentioning: ["--ema"])
        assertFailsCleanly(try run(["train", "--resume", "--dropout", "0.2"] + common), mentioning: ["dropout", "fvsbn"])
        assertFailsCleanly(try run(["train", "--model", "made", "--dropout", "0.2", "--out", out + "-made"] + common.dropLast(2)),
                           mentioning: ["--dropout", "made"])
    }

    /// --init-from starts a new run from a checkpoint's weights (here with a learning rate too
    /// small to move them), records where they came from, and refuses what cannot work.
    func testInitFromStartsFromTheCheckpointsWeights() throws {
        let data = try writeTinyBinarizedMNIST(counts: ["train": 40, "valid": 10, "test": 10])
        let first = workDir.appendingPathComponent("first").path, second = workDir.appendingPathComponent("second").path
        let common = ["--data", "binarized-mnist", "--data-dir", data, "--batch-size", "20", "--epochs", "1"]
        assertSucceeds(try run(["train", "--model", "fvsbn", "--lr", "0.05", "--out", first] + common))
        let source = try Checkpoint.read(from: first + "/best.ckpt")
        let fresh = try makeModel(source.model).parameters.flatMap(\.tensor.data)
        let warm = try run(["train", "--init-from", first + "/best.ckpt", "--lr", "1e-9", "--out", second] + common)
        assertSucceeds(warm)
        XCTAssertTrue(warm.stderr.contains("starting from the weights of \(first)/best.ckpt (fvsbn"), warm.stderr)
        let continued = try Checkpoint.read(from: second + "/last.ckpt")
        XCTAssertEqual(continued.training?.options.initializedFrom, first + "/best.ckpt")
        let before = source.parameters.flatMap(\.values), after = continued.parameters.flatMap(\.values)
        XCTAssertEqual(before.count, after.count)
        XCTAssertLessThan(zip(before, after).map { abs($0 - $1) }.max()!, 1e-5, "the weights it started from")
        XCTAssertGreaterThan(zip(before, fresh).map { abs($0 - $1) }.max()!, 1e-2, "not a fresh initialisation")
        let ck = first + "/best.ckpt"
        assertFailsCleanly(try run(["train", "--init-from", ck, "--resume", "--out", second] + common), mentioning: ["--init-from", "--resume"])
        assertFailsCleanly(try run(["train", "--init-from", ck, "--hidden", "8", "--out", second + "-b"] + common),
                           mentioning: ["--hidden", ck])
        assertFailsCleanly(try run(["train", "--init-from", ck, "--model", "nade", "--out", second + "-c"] + common),
                           mentioning: ["nade", ck, "fvsbn"])
        assertFailsCleanly(try run(["train", "--init-from", ck, "--dropout", "0.2", "--out", second + "-e"] + common),
                           mentioning: ["dropout", "fvsbn"])
        // Options of the saved model's kind are judged against it, not against --model's default.
        let gated = workDir.appendingPathComponent("gated").path
        assertSucceeds(try run(["train", "--model", "gated-pixelcnn", "--channels", "4", "--layers", "1", "--out", gated] + common))
        let tuned = try run(["train", "--init-from", gated + "/best.ckpt", "--dropout", "0.1", "--out", gated + "-tuned"] + common)
        assertSucceeds(tuned)
        XCTAssertTrue(tuned.stdout.contains("gated-pixelcnn") && tuned.stdout.contains("dropout 0.1"), tuned.stdout)
        let missing = workDir.appendingPathComponent("nothing.ckpt").path
        assertFailsCleanly(try run(["train", "--init-from", missing, "--out", second + "-d"] + common), mentioning: [missing])
        assertFailsCleanly(try run(["train", "--init-from", ck, "--out", second] + common), mentioning: [second + "/last.ckpt", "exists"])
    }

    /// A run trained with --binarize dynamic on 8-bit data validates on one fixed stochastic draw,
    /// and `eval` of its checkpoint sees that same draw (the same NLL as the run reported).
    func testDynamicRunsValidateAndEvaluateOnTheSameDraw() throws {
        let data = try writeTinyIDXMNIST(in: workDir, trainCount: 30, testCount: 10, seed: 11)
        let out = workDir.appendingPathComponent("dynamic").path
        assertSucceeds(try run(["train", "--model", "fvsbn", "--data", "mnist", "--data-dir", data, "--binarize", "dynamic",
                                "--batch-size", "10", "--lr", "0.05", "--epochs", "1", "--valid-limit", "40", "--out", out]))
        let row = try JSONSerialization.jsonObject(with: Data(try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8)
            .split(separator: "\n")[0].utf8)) as! [String: Any]
        let reported = try XCTUnwrap(row["valid_nll"] as? Double)
        let evaluated = try run(["eval", "--checkpoint", out + "/best.ckpt", "--split", "valid", "--limit", "40"])
        assertSucceeds(evaluated)
        XCTAssertTrue(evaluated.stdout.contains(String(format: "valid NLL %.2f nats", reported)), "\(reported): \(evaluated.stdout)")
        let tested = try run(["eval", "--checkpoint", out + "/best.ckpt", "--split", "test"])
        assertSucceeds(tested)
        XCTAssertTrue(tested.stdout.contains("10 images of mnist"), tested.stdout)
    }

    /// `eval` with several --checkpoint flags scores the equal-weight mixture of the models on
    /// the same images, prints each member beside it, and refuses members that model other
    /// images or would see other binarisations.
    func testEvalMixesCheckpoints() throws {
        let binary = try writeTinyBinarizedMNIST(counts: ["train": 40, "valid": 10, "test": 10])
        let grey = try writeTinyIDXMNIST(in: workDir, trainCount: 30, testCount: 10, seed: 12)
        func path(_ name: String) -> String { workDir.appendingPathComponent(name).path + "/best.ckpt" }
        // Validation on 50 images: the 10 000 of the tiny MNIST folder took most of a minute in debug builds.
        let common = ["--batch-size", "20", "--epochs", "1", "--lr", "0.05", "--valid-limit", "50"]
        let onBinary = ["--data", "binarized-mnist", "--data-dir", binary], onGrey = ["--data", "mnist", "--data-dir", grey]
        for (name, args) in [("fvsbn", ["--model", "fvsbn"] + onBinary), ("nade", ["--model", "nade", "--hidden", "5"] + onBinary),
                             ("dynamic", ["--model", "fvsbn", "--binarize", "dynamic"] + onGrey),
                             ("threshold", ["--model", "fvsbn"] + onGrey),
                             ("categorical", ["--model", "made", "--hidden", "4", "--levels", "256"] + onGrey)] {
            assertSucceeds(try run(["train", "--out", workDir.appendingPathComponent(name).path] + args + common))
        }
        /// The NLLs printed, in order: members first, the mixture last.
        func nlls(_ r: Result) -> [Double] {
            r.stdout.split(separator: "\n").compactMap { line in
                line.range(of: "test NLL ").flatMap { Double(line[$0.upperBound...].prefix { $0 != " " }) }
            }
        }
        let alone = try run(["eval", "--checkpoint", path("fvsbn")])
        assertSucceeds(alone)
        let twice = try run(["eval", "--checkpoint", path("fvsbn"), "--checkpoint", path("fvsbn")])
        assertSucceeds(twice)
        XCTAssertEqual(nlls(twice).count, 3, twice.stdout)
        XCTAssertEqual(nlls(twice).last, nlls(alone).first, "a model mixed with itself is itself: \(twice.stdout)")
        let mixed = try run(["eval", "--checkpoint", path("fvsbn"), "--checkpoint", path("nade")])
        assertSucceeds(mixed)
        XCTAssertTrue(mixed.stdout.contains(path("nade")) && mixed.stdout.contains("mixture of 2 checkpoints"), mixed.stdout)
        let v = nlls(mixed)
        XCTAssertEqual(v.count, 3, mixed.stdout)
        if v.count == 3 {
            XCTAssertGreaterThan(abs(v[0] - v[1]), 0.1, "two different models: \(mixed.stdout)")
            XCTAssertLessThanOrEqual(v[2], (v[0] + v[1]) / 2 + 0.01, "never worse than the members' mean")
            XCTAssertLessThanOrEqual(v[2], min(v[0], v[1]) + M_LN2 + 0.01)
            XCTAssertGreaterThanOrEqual(v[2], min(v[0], v[1]) - 0.01)
        }
        // Trained on other data: the user says which data to score; binary data then suits both.
        assertFailsCleanly(try run(["eval", "--checkpoint", path("fvsbn"), "--checkpoint", path("dynamic")]),
                           mentioning: [path("dynamic"), "--data"])
        assertSucceeds(try run(["eval", "--checkpoint", path("dynamic"), "--checkpoint", path("fvsbn")] + onBinary))
        assertFailsCleanly(try run(["eval", "--checkpoint", path("dynamic"), "--checkpoint", path("threshold")]),
                           mentioning: [path("threshold"), "binarises"])
        assertFailsCleanly(try run(["eval", "--checkpoint", path("threshold"), "--checkpoint", path("categorical")]),
                           mentioning: [path("categorical"), "256 levels"])
        assertFailsCleanly(try run(["eval", "--checkpoint", path("fvsbn"), "--checkpoint", path("nade"), "--per-pixel"]),
                           mentioning: ["--per-pixel"])
        assertFailsCleanly(try run(["eval"]), mentioning: ["--checkpoint"])
    }

    /// Writes a small CIFAR-10 folder: five training batches of `perBatch` random records and a
    /// test batch of 4.
    func writeTinyCIFAR10(perBatch: Int) throws -> String {
        let dir = workDir.appendingPathComponent("tiny-cifar10/cifar-10-batches-bin")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var rng = SystemRandomNumberGenerator()
        func batch(_ n: Int) -> Data {
            let words = (0..<(n * 3073 + 7) / 8).map { _ in rng.next() }
            var bytes = words.withUnsafeBytes { Data($0.prefix(n * 3073)) }
            for record in 0..<n { bytes[record * 3073] %= 10 }  // the label byte
            return bytes
        }
        for b in 1...5 { try batch(perBatch).write(to: dir.appendingPathComponent("data_batch_\(b).bin")) }
        try batch(4).write(to: dir.appendingPathComponent("test_batch.bin"))
        return dir.deletingLastPathComponent().path
    }

    /// Colour end to end: both convolutional models train on 32x32x3 8-bit images, evaluate on
    /// the test split and write RGB samples.
    func testColourModelsTrainEvaluateAndSample() throws {
        let data = try writeTinyCIFAR10(perBatch: 1002)  // 10 training images beside the 5 000-image validation split
        for model in ["pixelcnn", "gated-pixelcnn"] {
            let out = workDir.appendingPathComponent("colour-\(model)").path
            let trained = try run(["train", "--model", model, "--data", "cifar10", "--data-dir", data, "--channels", "6",
                                   "--layers", "1", "--epochs", "1", "--batch-size", "5", "--valid-limit", "6", "--dropout", "0.2",
                                   "--out", out])
            assertSucceeds(trained)
            XCTAssertTrue(trained.stdout.contains("10 train / 6 valid images") && trained.stdout.contains("dropout 0.2"), trained.stdout)
            let evaluated = try run(["eval", "--checkpoint", out + "/best.ckpt", "--split", "test"])
            assertSucceeds(evaluated)
            XCTAssertTrue(evaluated.stdout.contains("bits/dim") && evaluated.stdout.contains("4 images"), evaluated.stdout)
            let png = out + "/samples.png"
            assertSucceeds(try run(["sample", "--checkpoint", out + "/best.ckpt", "-n", "2", "--scale", "1", "--out", png]))
            let bytes = [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: png)))
            XCTAssertGreaterThan(bytes.count, 26)
            XCTAssertEqual(bytes[25], 2, "PNG colour type 2: RGB")
        }
    }

    func testSampleRejectsBadOutput() throws {
        assertFailsCleanly(try run(["sample", "--checkpoint", "x.ckpt", "--out", "samples.jpg"]), mentioning: ["samples.jpg"])
    }
}
