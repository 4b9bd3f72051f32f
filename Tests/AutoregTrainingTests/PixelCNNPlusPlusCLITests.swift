import AutoregModels
import AutoregImaging
import Foundation
import XCTest

/// `--model pixelcnn++` through the commands a user runs: a small model with the logistic
/// mixture and dropout trains, evaluates and samples (naive: it has no cached sampler), its
/// flags map to its options, and what it cannot do is refused readably.
final class PixelCNNPlusPlusCLITests: CLITestCase {
    override var workDirLabel: String { "autoreg-pixelcnnpp-cli" }
    override var trailingArguments: [String] { ["--threads", "1"] }
    override var defaultTimeout: TimeInterval { 120 }

    func testTrainEvalSampleWithTheMixture() throws {
        let data = try writePNGFolder("grey", size: 6, train: ["x": 24], valid: ["x": 8])
        let out = workDir.appendingPathComponent("run").path
        let common = ["--data", "png", "--data-dir", data]
        let r = try run(["train", "--model", "pixelcnn++", "--channels", "4", "--layers", "1", "--output", "logistic-mixture:2",
                         "--dropout", "0.2", "--epochs", "1", "--batch-size", "8", "--out", out] + common)
        assertSucceeds(r)
        XCTAssertTrue(r.stdout.contains("pixelcnn++"), r.stdout)
        XCTAssertTrue(r.stdout.contains("2-component discretised logistic mixture outputs"), r.stdout)
        let e = try run(["eval", "--checkpoint", out + "/best.ckpt", "--split", "valid"] + common)
        assertSucceeds(e)
        XCTAssertTrue(e.stdout.contains("bits/dim"), e.stdout)
        assertSucceeds(try run(["sample", "--checkpoint", out + "/best.ckpt", "-n", "2", "--seed", "4", "--out", "s.png"]))
        XCTAssertTrue(FileManager.default.fileExists(atPath: workDir.appendingPathComponent("s.png").path))
        assertFailsCleanly(try run(["sample", "--checkpoint", out + "/best.ckpt", "-n", "2", "--sampler", "cached", "--out", "c.png"]),
                           mentioning: ["no cached sampler"])
    }

    /// RGB images: without --output it takes the paper's 10-logistic mixture, coupled over R, G
    /// and B; --mixtures K is --output logistic-mixture:K; the other heads are refused for colour.
    func testColourAndTheDefaultMixture() throws {
        let data = try writePNGFolder("rgb", size: 5, channels: 3, train: ["x": 16], valid: ["x": 4])
        let common = ["--data", "png", "--data-dir", data]
        let out = workDir.appendingPathComponent("rgb-run").path
        let r = try run(["train", "--model", "pixelcnn++", "--channels", "4", "--layers", "0", "--epochs", "1",
                         "--batch-size", "8", "--out", out] + common)
        assertSucceeds(r)
        XCTAssertTrue(r.stdout.contains("10-component discretised logistic mixture outputs"), r.stdout)
        let e = try run(["eval", "--checkpoint", out + "/best.ckpt", "--split", "valid"] + common)
        assertSucceeds(e)
        XCTAssertTrue(e.stdout.contains("bits/dim"), e.stdout)
        assertSucceeds(try run(["sample", "--checkpoint", out + "/best.ckpt", "-n", "2", "--seed", "3", "--out", "rgb.png"]))
        let image = try PNG.read(path: workDir.appendingPathComponent("rgb.png").path)
        XCTAssertEqual(image.channels, 3, "colour samples")

        let k3 = workDir.appendingPathComponent("k3").path
        let m = try run(["train", "--model", "pixelcnn++", "--channels", "4", "--layers", "0", "--mixtures", "3",
                         "--epochs", "1", "--batch-size", "8", "--out", k3] + common)
        assertSucceeds(m)
        XCTAssertTrue(m.stdout.contains("3-component discretised logistic mixture outputs"), m.stdout)
        assertFailsCleanly(try run(["train", "--resume", "--out", k3, "--mixtures", "4"] + common),
                           mentioning: ["--mixtures", "logistic-mixture:3"])
        assertFailsCleanly(try run(["train", "--model", "pixelcnn++", "--mixtures", "3", "--output", "categorical",
                                    "--epochs", "1", "--out", "x"] + common),
                           mentioning: ["--mixtures 3", "categorical"])
        assertFailsCleanly(try run(["train", "--model", "pixelcnn++", "--output", "categorical", "--epochs", "1",
                                    "--out", "y"] + common),
                           mentioning: ["logistic-mixture"])
    }

    func testFlagsAndRefusals() throws {
        let r = try run(["receptive-field", "--model", "pixelcnn++", "--channels", "6", "--layers", "2", "--height", "8",
                         "--width", "8", "--pixel", "5,0", "--out", "field.png"])
        assertSucceeds(r)
        XCTAssertTrue(r.stdout.contains("filters 6, resnet blocks 2 per resolution"), r.stdout)
        XCTAssertTrue(r.stdout.contains("depends on 40 of 40 earlier pixels"), r.stdout)
        assertFailsCleanly(try run(["receptive-field", "--model", "pixelcnn++", "--kernel", "5", "--height", "4", "--width", "4",
                                    "--pixel", "1,1", "--out", "x.png"]),
                           mentioning: ["--kernel", "not pixelcnn++"])
        assertFailsCleanly(try run(["receptive-field", "--model", "pixelcnn++", "--layers", "-1", "--height", "4", "--width", "4",
                                    "--pixel", "1,1", "--out", "x.png"]),
                           mentioning: ["resnet blocks"])
    }
}
