import AutoregTraining
import Foundation
import XCTest

/// commands.txt: each recorded line is what a shell reads back as the same arguments.
final class CommandRecordTests: XCTestCase {
    func testRecordedLinesReadBackAsTheSameArgumentsInAShell() throws {
        let dir = try makeTemporaryDirectory(self)
        let arguments = ["autoreg", "train", "--out", "runs/it's a \"run\" & more", "--lr", "0.01", "", "$HOME", "a\\b"]
        try CommandRecord.append(arguments, in: dir.path)
        try CommandRecord.append(["autoreg", "train", "--resume"], in: dir.path)
        let lines = CommandRecord.read(in: dir.path)
        XCTAssertEqual(lines.count, 2)
        XCTAssertEqual(lines[1], "autoreg train --resume")
        // /bin/sh splits the first line into words again; printf shows each between < and >.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "printf '<%s>\\n' " + lines[0]]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(output, arguments.map { "<\($0)>\n" }.joined())
        let text = try String(contentsOf: dir.appendingPathComponent("commands.txt"), encoding: .utf8)
        XCTAssertEqual(text.split(separator: "\n").filter { $0.hasPrefix("# ") }.count, 2, "a time stamp per invocation")
    }
}
