import AutoregImaging
import AutoregTraining
import Foundation
import XCTest

/// `autoreg report` on a tiny run trained here, read as a user would: the page's own text,
/// then the page opened in headless Chromium (DOM, console, screenshot).
final class ReportCLITests: CLITestCase {
    override var workDirLabel: String { "autoreg-report" }
    override var defaultTimeout: TimeInterval { 120 }

    /// Trains FVSBN on 8x8 PNG images for two epochs of 5 steps (a step row every 2 steps),
    /// in a folder whose name needs escaping, and writes its report. Returns the run folder
    /// and the page.
    func trainAndReport() throws -> (run: String, html: String, page: URL) {
        let data = try writePNGFolder("tiny", size: 8, train: ["a": 24, "b": 16], valid: ["a": 8], test: ["a": 3])
        let folder = workDir.appendingPathComponent("r&d <run>").path
        assertSucceeds(try run(["train", "--model", "fvsbn", "--data", "png", "--data-dir", data, "--epochs", "2",
                                "--batch-size", "8", "--lr", "0.05", "--metrics-every", "2", "--threads", "1", "--out", folder]))
        let page = workDir.appendingPathComponent("report.html")
        let r = try run(["report", folder, "--out", page.path])
        assertSucceeds(r)
        XCTAssertTrue(r.stdout.contains("wrote \(page.path) (1 run"), r.stdout)
        return (folder, try String(contentsOf: page, encoding: .utf8), page)
    }

    func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// The page without a browser: four plots whose lines have points, five pictures as PNG
    /// data URIs that decode, the command recorded at train time, the run's name escaped, and
    /// nothing fetched from elsewhere.
    func testReportHoldsPlotsPicturesAndTheCommand() throws {
        let (run, html, _) = try trainAndReport()
        let commands = try String(contentsOfFile: run + "/commands.txt", encoding: .utf8)
        XCTAssertTrue(commands.contains("autoreg train --model fvsbn --data png") && commands.contains("'\(run)'"), commands)

        XCTAssertEqual(count("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\"", in: html), 4, "NLL, steps, lr, speed")
        let polylines = html.components(separatedBy: "<polyline").dropFirst()
        XCTAssertGreaterThanOrEqual(polylines.count, 6)
        for p in polylines {
            let points = p.components(separatedBy: "points=\"")[1].prefix { $0 != "\"" }
            XCTAssertFalse(points.isEmpty, "a drawn line has points")
        }
        // Step rows at steps 2, 4, 6, 8, 10: the per-step line has five points.
        let stepLine = try XCTUnwrap(polylines.first { $0.contains("data-name=\"train loss\"") })
        XCTAssertEqual(stepLine.components(separatedBy: "points=\"")[1].prefix { $0 != "\"" }.split(separator: " ").count, 5)

        let uris = html.components(separatedBy: "src=\"data:image/png;base64,").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        XCTAssertEqual(uris.count, 5, "samples, their probabilities, completions, surprise, receptive field")
        for uri in uris {
            let image = try PNG.decode([UInt8](try XCTUnwrap(Data(base64Encoded: uri))))
            XCTAssertGreaterThanOrEqual(image.width, 8 * 4)
        }
        XCTAssertTrue(html.contains("Run r&amp;d &lt;run&gt;") && !html.contains("r&d <run>"), "the run's name escaped")
        XCTAssertTrue(html.contains("--metrics-every 2"), "the command line is shown")
        XCTAssertTrue(html.contains("&quot;kind&quot; : &quot;fvsbn&quot;"), "the checkpoint's configuration is shown")
        let outside = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        XCTAssertFalse(outside.contains("http:") || outside.contains("https:") || outside.contains("<link"), "self-contained")
    }

    /// An older run (no per-step rows, no commands.txt) whose test data has gone: the page
    /// still comes, with a note in place of each missing part.
    func testMissingPartsBecomeNotes() throws {
        let (run, _, page) = try trainAndReport()
        try FileManager.default.removeItem(atPath: workDir.appendingPathComponent("tiny/test").path)
        try FileManager.default.removeItem(atPath: run + "/commands.txt")
        let metrics = run + "/metrics.jsonl"
        let epochRows = try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n").filter { !$0.contains("\"kind\"") }
        try (epochRows.joined(separator: "\n") + "\n").write(toFile: metrics, atomically: true, encoding: .utf8)
        assertSucceeds(try self.run(["report", run, "--out", page.path]))
        let html = try String(contentsOf: page, encoding: .utf8)
        XCTAssertEqual(count("class=\"note\">Skipped: the test split of png is not available", in: html), 2, "completions and surprise")
        XCTAssertTrue(html.contains("No per-step rows in metrics.jsonl"))
        XCTAssertTrue(html.contains("does not record its command line"))
        XCTAssertEqual(count("src=\"data:image/png;base64,", in: html), 3, "samples, their probabilities, receptive field")
        // NLL and learning rate per epoch; the epoch rows of a run this short record no speed
        // (the progress line's rate needs 2 s), so that plot is a note as well.
        XCTAssertEqual(count("class=\"plot\"", in: html), 2)
        XCTAssertTrue(html.contains("No training speed recorded."))
    }

    /// FVSBN draws with the naive sampler: with a budget no pass can meet, samples and
    /// completions become notes naming --slow-sampling, which draws them.
    func testSamplingBudgetTurnsSlowPanelsIntoNotes() throws {
        let (run, _, page) = try trainAndReport()
        assertSucceeds(try self.run(["report", run, "--out", page.path, "--sampling-budget", "1e-9"]))
        let html = try String(contentsOf: page, encoding: .utf8)
        XCTAssertEqual(count("class=\"note\">Skipped: fvsbn draws these", in: html), 2, "samples and completions")
        XCTAssertEqual(count("--slow-sampling", in: html), 2)
        XCTAssertEqual(count("src=\"data:image/png;base64,", in: html), 2, "surprise and receptive field")
        assertSucceeds(try self.run(["report", run, "--out", page.path, "--sampling-budget", "1e-9", "--slow-sampling"]))
        XCTAssertEqual(count("src=\"data:image/png;base64,", in: try String(contentsOf: page, encoding: .utf8)), 5)
    }

    /// The run folder that is not one, and a bad --out, are one-line errors naming the path.
    func testBadRunFoldersAreNamed() throws {
        let empty = workDir.appendingPathComponent("empty").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        assertFailsCleanly(try run(["report", empty]), mentioning: [empty, "neither best.ckpt nor last.ckpt"])
        assertFailsCleanly(try run(["report", empty + "/nope"]), mentioning: [empty + "/nope", "no such folder"])
        assertFailsCleanly(try run(["report", empty, "--out", "x.png"]), mentioning: ["--out", ".html"])
    }

    /// The first Chromium binary on PATH, or nil.
    static func chromium() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            for name in ["chromium", "chromium-browser", "google-chrome"] {
                let candidate = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    /// Runs headless Chromium on `page` with `arguments`; returns its stdout and stderr.
    func browse(_ chromium: String, _ page: URL, _ arguments: [String]) throws -> (stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                             "--user-data-dir=" + workDir.appendingPathComponent("chromium-profile").path,
                             "--enable-logging=stderr", "--v=0"] + arguments + [page.absoluteString]
        let out = workDir.appendingPathComponent("chromium-\(UUID().uuidString).out")
        let err = workDir.appendingPathComponent("chromium-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
        defer { try? outHandle.close(); try? errHandle.close() }
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            XCTFail("chromium did not finish within 120 s")
        }
        process.waitUntilExit()
        return (try String(contentsOf: out, encoding: .utf8), try String(contentsOf: err, encoding: .utf8))
    }

    /// The console messages the page logged (Chromium writes them as `INFO:CONSOLE` lines).
    func consoleLines(_ stderr: String) -> [Substring] { stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") } }

    /// Headless Chromium loads the page with no console message, every image decodes (the
    /// page's own check), the DOM has the plots' lines; the screenshot is not blank and shows
    /// the curves' colours. A page with a broken image fails the same checks.
    func testTheReportRendersInChromium() throws {
        guard let chromium = ReportCLITests.chromium() else {
            throw XCTSkip("no chromium binary on PATH (apt-get install chromium, or scripts/install-deps.sh)")
        }
        let (_, html, page) = try trainAndReport()
        let images = count("<img ", in: html)

        let dom = try browse(chromium, page, ["--dump-dom"])
        XCTAssertEqual(consoleLines(dom.stderr), [], "no console messages")
        XCTAssertTrue(dom.stdout.contains("data-images-loaded=\"\(images)\""), "all \(images) images decoded")
        XCTAssertEqual(count("<svg", in: dom.stdout), count("<svg", in: html))
        XCTAssertGreaterThanOrEqual(count("<polyline", in: dom.stdout), 6)

        // The same checks see a broken image.
        let broken = workDir.appendingPathComponent("broken.html")
        try html.replacingOccurrences(of: "base64,iVBOR", with: "base64,AAAA").write(to: broken, atomically: true, encoding: .utf8)
        let bad = try browse(chromium, broken, ["--dump-dom"])
        XCTAssertEqual(consoleLines(bad.stderr).count, images, bad.stderr)
        XCTAssertTrue(bad.stdout.contains("data-images-loaded=\"0\""))

        let shot = workDir.appendingPathComponent("shot.png")
        _ = try browse(chromium, page, ["--screenshot=" + shot.path, "--window-size=1200,1600"])
        let png = try PNG.read(path: shot.path).rgb()
        XCTAssertEqual(png.width, 1200)
        var nonWhite = 0, blue = 0, red = 0
        for p in stride(from: 0, to: png.pixels.count, by: 3) {
            let (r, g, b) = (Int(png.pixels[p]), Int(png.pixels[p + 1]), Int(png.pixels[p + 2]))
            if r < 240 || g < 240 || b < 240 { nonWhite += 1 }
            if abs(r - 31) < 40 && abs(g - 119) < 40 && abs(b - 180) < 40 { blue += 1 }   // train, #1f77b4
            if abs(r - 214) < 40 && abs(g - 39) < 40 && abs(b - 40) < 40 { red += 1 }     // valid, #d62728
        }
        let total = png.width * png.height
        XCTAssertGreaterThan(Double(nonWhite) / Double(total), 0.03, "the page is not blank")
        XCTAssertGreaterThan(blue, 200, "training curves drawn")
        XCTAssertGreaterThan(red, 200, "validation curves drawn")
    }
}
