import AutoregModels
import Foundation
import XCTest

/// The command line reads the model registry: every registered model builds from flags (its
/// `CommandLineOptions`), flags a model does not read are refused naming the models that do,
/// and the help lists every model.
final class RegistryCLITests: CLITestCase {
    override var workDirLabel: String { "autoreg-registry-cli" }
    override var trailingArguments: [String] { ["--threads", "1"] }

    func testEveryRegisteredModelBuildsFromTheCommandLine() throws {
        for kind in ModelKind.allCases {
            let out = "field-\(kind.rawValue).png"
            let r = try run(["receptive-field", "--model", kind.rawValue, "--height", "4", "--width", "4",
                             "--pixel", "2,1", "--out", out])
            assertSucceeds(r)
            XCTAssertTrue(r.stdout.contains(kind.rawValue), "\(kind): \(r.stdout)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: workDir.appendingPathComponent(out).path), "\(kind)")
        }
    }

    func testFlagsAModelDoesNotReadAreRefusedNamingItsReaders() throws {
        let cases: [([String], [String])] = [
            (["--model", "made", "--first-kernel", "5"], ["--first-kernel", "applies to pixelcnn", "not made"]),
            (["--model", "fvsbn", "--hidden", "10"], ["--hidden", "nade, made", "not fvsbn"]),
            (["--model", "pixelcnn", "--ordering", "random"], ["--ordering", "fvsbn, nade and made", "not pixelcnn"]),
            (["--model", "nade", "--channels", "8", "--layers", "2"], ["--channels, --layers", "apply to", "not nade"]),
        ]
        for (args, fragments) in cases {
            let r = try run(["receptive-field", "--height", "4", "--width", "4", "--pixel", "1,1", "--out", "x.png"] + args)
            assertFailsCleanly(r, mentioning: fragments)
        }
    }

    func testHelpListsEveryModel() throws {
        let r = try run(["--help"])
        for kind in ModelKind.allCases { XCTAssertTrue(r.stdout.contains(kind.rawValue), "\(kind) missing from help") }
    }
}

/// `--output logistic-mixture:K` through the commands a user runs: train, eval, sample (the
/// cached and naive samplers agree), and the refusals.
final class OutputDistributionCLITests: CLITestCase {
    override var workDirLabel: String { "autoreg-output-cli" }
    override var trailingArguments: [String] { ["--threads", "1"] }
    override var defaultTimeout: TimeInterval { 120 }

    func testLogisticMixtureOutput() throws {
        let data = try writePNGFolder("grey", size: 6, train: ["x": 30], valid: ["x": 10])
        let out = workDir.appendingPathComponent("mixture-run").path
        let common = ["--data", "png", "--data-dir", data]
        let r = try run(["train", "--model", "gated-pixelcnn", "--channels", "6", "--layers", "2",
                         "--output", "logistic-mixture:3", "--epochs", "1", "--out", out] + common)
        assertSucceeds(r)
        XCTAssertTrue(r.stdout.contains("3-component discretised logistic mixture outputs"), r.stdout)
        let e = try run(["eval", "--checkpoint", out + "/best.ckpt", "--split", "valid"] + common)
        assertSucceeds(e)
        XCTAssertTrue(e.stdout.contains("bits/dim"), e.stdout)
        for sampler in ["cached", "naive"] {
            assertSucceeds(try run(["sample", "--checkpoint", out + "/best.ckpt", "-n", "2", "--seed", "4",
                                    "--sampler", sampler, "--out", "s-\(sampler).png"]))
        }
        let a = try Data(contentsOf: workDir.appendingPathComponent("s-cached.png"))
        let b = try Data(contentsOf: workDir.appendingPathComponent("s-naive.png"))
        XCTAssertEqual(a, b, "cached and naive samples differ")
        // Colour: each sub-pixel's mixture given R (and G) through the channel masks.
        let rgb = try writePNGFolder("rgb", size: 4, channels: 3, train: ["x": 12], valid: ["x": 4])
        let colourRun = workDir.appendingPathComponent("colour-run").path
        assertSucceeds(try run(["train", "--model", "gated-pixelcnn", "--channels", "6", "--layers", "1", "--mixtures", "2",
                                "--epochs", "1", "--out", colourRun, "--data", "png", "--data-dir", rgb]))
        for sampler in ["cached", "naive"] {
            assertSucceeds(try run(["sample", "--checkpoint", colourRun + "/best.ckpt", "-n", "2", "--seed", "5",
                                    "--sampler", sampler, "--out", "rgb-\(sampler).png"]))
        }
        XCTAssertEqual(try Data(contentsOf: workDir.appendingPathComponent("rgb-cached.png")),
                       try Data(contentsOf: workDir.appendingPathComponent("rgb-naive.png")), "colour samples differ")
        // Refusals: a binary model, a model without 8-bit outputs, a bad K.
        assertFailsCleanly(try run(["train", "--model", "made", "--levels", "2", "--output", "logistic-mixture:3",
                                    "--out", "x"] + common), mentioning: ["--output", "--levels 2"])
        assertFailsCleanly(try run(["train", "--model", "nade", "--output", "logistic-mixture", "--out", "y"] + common),
                           mentioning: ["nade", "binary"])
        assertFailsCleanly(try run(["train", "--model", "made", "--output", "logistic-mixture:0", "--out", "z"] + common),
                           mentioning: ["--output"])
    }
}
