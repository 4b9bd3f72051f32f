import AutoregImaging
import AutoregTensor
import Foundation
import XCTest

/// The base of the process-level tests of the `autoreg` executable that the same build put next
/// to this test bundle: finds it, gives each test a temporary working folder, runs the command
/// with its output captured, and checks how it ended. Subclasses set the per-suite parameters.
class CLITestCase: XCTestCase {
    struct Result {
        var status: Int32
        var signaled: Bool
        var stdout: String
        var stderr: String
        var all: String { stdout + stderr }
    }

    /// The products directory (the folder holding the running `.xctest` bundle), then the usual
    /// scratch paths below the package root.
    static func findExecutable(named name: String = "autoreg") -> URL? {
        var candidates: [URL] = []
        var bundleURLs = [Bundle.main.bundleURL, Bundle(for: CLITestCase.self).bundleURL]
        if let exe = Bundle.main.executableURL { bundleURLs.append(exe) }
        if let arg0 = CommandLine.arguments.first { bundleURLs.append(URL(fileURLWithPath: arg0)) }
        for url in bundleURLs {
            // Walk up to the `.xctest` bundle (on macOS the binary sits inside it); its parent is the products dir.
            var u = url.standardizedFileURL
            while u.path != "/" && u.pathExtension != "xctest" { u = u.deletingLastPathComponent() }
            if u.pathExtension == "xctest" { candidates.append(u.deletingLastPathComponent().appendingPathComponent(name)) }
        }
        var root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while root.path != "/" && !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root = root.deletingLastPathComponent()
        }
        for scratch in [".build-ttests", ".build"] { candidates.append(root.appendingPathComponent("\(scratch)/debug/\(name)")) }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    // MARK: Per-suite parameters

    /// The executable the suite runs: `autoreg`, or `autoreg-lab`.
    var executableName: String { "autoreg" }
    /// The start of the temporary working folder's name.
    var workDirLabel: String { "autoreg-cli" }
    /// Appended to every command line (not shown in the timeout message).
    var trailingArguments: [String] { [] }
    /// Variables set on top of this process's environment for every run; nil: inherit it unchanged.
    var environmentOverrides: [String: String]? { nil }
    /// Seconds a run may take before it is terminated and the test fails, unless `run` is given a timeout.
    var defaultTimeout: TimeInterval { 60 }

    var executable: URL!
    var workDir: URL!

    override func setUpWithError() throws {
        guard let exe = CLITestCase.findExecutable(named: executableName) else {
            throw XCTSkip("\(executableName) executable not found next to the test bundle (build it with `swift build --build-tests`)")
        }
        executable = exe
        workDir = try makeTemporaryDirectory(self, workDirLabel)
    }

    /// Runs `autoreg arguments` in `workDir` (stdin empty; stdout and stderr through files) and
    /// waits for it, terminating it and failing the test after `timeout` (default: `defaultTimeout`).
    func run(_ arguments: [String], timeout: TimeInterval? = nil) throws -> Result {
        let timeout = timeout ?? defaultTimeout
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments + trailingArguments
        process.currentDirectoryURL = workDir
        if let overrides = environmentOverrides {
            process.environment = ProcessInfo.processInfo.environment.merging(overrides) { _, new in new }
        }
        let out = workDir.appendingPathComponent("stdout-\(UUID().uuidString)")
        let err = workDir.appendingPathComponent("stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
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

    /// A success: no crash and exit status 0.
    func assertSucceeds(_ r: Result, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(r.signaled, "crashed: \(r.all)", file: file, line: line)
        XCTAssertEqual(r.status, 0, r.all, file: file, line: line)
    }

    /// A failure: exits normally (no crash) with a non-zero status and an `Error:` line on stderr
    /// containing every fragment.
    func assertFailsCleanly(_ r: Result, mentioning fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(r.signaled, "crashed with signal \(r.status): \(r.all)", file: file, line: line)
        XCTAssertNotEqual(r.status, 0, r.all, file: file, line: line)
        let errorLine = r.stderr.split(separator: "\n").first { $0.hasPrefix("Error:") }
        XCTAssertNotNil(errorLine, "an Error: line on stderr: \(r.stderr)", file: file, line: line)
        for f in fragments {
            XCTAssertTrue(errorLine?.contains(f) ?? false, "error line '\(errorLine ?? "")' mentions '\(f)'", file: file, line: line)
        }
    }

    /// A PNG data set of `size`x`size` random images (grey, or RGB with `channels: 3`), one
    /// subfolder per class in each split.
    func writePNGFolder(_ name: String, size: Int = 28, channels: Int = 1, train: [String: Int], valid: [String: Int],
                        test: [String: Int] = [:]) throws -> String {
        let root = workDir.appendingPathComponent(name)
        var rng = RandomGenerator(seed: 7)
        for (split, classes) in [("train", train), ("valid", valid), ("test", test)] {
            for (cls, count) in classes {
                let dir = root.appendingPathComponent("\(split)/\(cls)")
                try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
                for i in 0..<count {
                    let pixels = (0..<size * size * channels).map { _ in UInt8(rng.int(below: 256)) }
                    try PNG.write(RasterImage(width: size, height: size, channels: channels, pixels: pixels),
                                  to: dir.appendingPathComponent("\(i).png").path)
                }
            }
        }
        return root.path
    }
}
