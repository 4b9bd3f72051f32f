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
