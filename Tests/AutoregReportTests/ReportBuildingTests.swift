import AutoregPNG
import AutoregReport
import Foundation
import XCTest

/// The report's parts on their own: ticks, escaping, the plot's geometry, metrics rows, images.
final class ReportBuildingTests: XCTestCase {
    func testTicksAreNiceAndCoverTheRange() {
        XCTAssertEqual(niceTicks(low: 0, high: 10), [0, 2, 4, 6, 8, 10])
        XCTAssertEqual(niceTicks(low: 83.2, high: 97.9), [80, 85, 90, 95, 100])  // span 14.7 / 5 = 2.94 -> step 5
        XCTAssertEqual(niceTicks(low: 0.0003, high: 0.0011), [0.0002, 0.0004, 0.0006, 0.0008, 0.001, 0.0012])
        XCTAssertEqual(niceTicks(low: 1, high: 2, target: 10), [1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2])
        XCTAssertEqual(tickLabel(0.30000000000000004, step: 0.1), "0.3")
        XCTAssertEqual(tickLabel(85, step: 5), "85")
    }

    func testEscapingCoversTheFiveSpecialCharacters() {
        XCTAssertEqual(escapeHTML("<a href=\"x\">Tom & 'Jerry'</a>"),
                       "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;")
        XCTAssertEqual(escapeHTML("plain – text ü"), "plain – text ü")
    }

    /// The polyline's points are the data mapped linearly into the plotting area: the
    /// extreme ticks at its edges (70 px from the left, 16 from the right, 30 from the top and
    /// 46 from the bottom of a 560 x 320 chart).
    func testPlotPointsAreTheDataMappedLinearly() throws {
        let plot = LinePlot(title: "NLL <nats>", xLabel: "epoch", yLabel: "nats",
                            series: [.init(name: "valid & co", points: [(0, 80), (5, 90), (10, 100)], color: "#d62728")])
        let svg = plot.svg()
        XCTAssertTrue(svg.contains("NLL &lt;nats&gt;") && svg.contains("valid &amp; co"), "title and legend escaped")
        XCTAssertFalse(svg.contains("<nats>"))
        let polyline = try XCTUnwrap(svg.components(separatedBy: "points=\"").dropFirst().first?.prefix { $0 != "\"" })
        let points = polyline.split(separator: " ").map { $0.split(separator: ",").map { Double($0)! } }
        // x: 0...10 over 70...544; y: 80...100 over 274...30.
        XCTAssertEqual(points, [[70, 274], [307, 152], [544, 30]])
        for label in ["0", "2", "4", "6", "8", "10", "80", "85", "90", "95", "100"] {
            XCTAssertTrue(svg.contains(">\(label)</text>"), "tick label \(label)")
        }
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 3, "a dot per point")
    }

    func testAPlotWithoutDataSaysSo() {
        XCTAssertFalse(LinePlot(title: "t", xLabel: "x", yLabel: "y", series: [.init(name: "a", points: [], color: "#000")]).hasData)
        let single = LinePlot(title: "t", xLabel: "x", yLabel: "y", series: [.init(name: "a", points: [(1, 5)], color: "#000")])
        XCTAssertTrue(single.hasData)
        let (rx, ry) = single.ranges
        XCTAssertTrue(rx.contains(1) && rx.upperBound > rx.lowerBound && ry.contains(5) && ry.upperBound > ry.lowerBound)
    }

    func testMetricsRowsSplitIntoEpochsAndSteps() throws {
        let text = """
        {"epoch":1,"step":10,"train_nll":100.5,"valid_nll":99.25,"learning_rate":0.001,"train_images_per_s":250}
        {"kind":"step","step":5,"epochs":0.5,"train_loss":120,"learning_rate":0.001,"train_images_per_s":240}

        {"kind":"step","step":15,"epochs":1.5,"train_loss":98}
        """
        let m = try RunMetrics(data: Data(text.utf8), path: "runs/x/metrics.jsonl")
        XCTAssertEqual(m.epochs.map(\.epoch), [1])
        XCTAssertEqual(m.epochs[0].validNLL, 99.25)
        XCTAssertEqual(m.epochs[0].step, 10)
        XCTAssertEqual(m.steps.map(\.step), [5, 15])
        XCTAssertEqual(m.steps.map(\.trainLoss), [120, 98])
        XCTAssertNil(m.steps[1].learningRate)
    }

    func testABadMetricsLineIsNamedWithItsFile() {
        let text = "{\"epoch\":1}\nnot json\n"
        XCTAssertThrowsError(try RunMetrics(data: Data(text.utf8), path: "runs/x/metrics.jsonl")) { error in
            XCTAssertEqual("\(error)", "runs/x/metrics.jsonl: line 2 is not a JSON object")
        }
        XCTAssertThrowsError(try RunMetrics(data: Data("{\"valid_nll\":3}\n".utf8), path: "m.jsonl")) { error in
            XCTAssertEqual("\(error)", "m.jsonl: line 1 has no integer \"epoch\"")
        }
    }

    /// A data-URI image decodes back to the same pixels; the page escapes its title and
    /// carries no reference to anything outside it.
    func testImagesRoundTripThroughTheDataURIAndThePageIsSelfContained() throws {
        let image = RasterImage(width: 3, height: 2, channels: 3, pixels: (0..<18).map { UInt8($0 * 14) })
        let uri = try pngDataURI(image)
        let prefix = "data:image/png;base64,"
        XCTAssertTrue(uri.hasPrefix(prefix))
        let bytes = try XCTUnwrap(Data(base64Encoded: String(uri.dropFirst(prefix.count))))
        XCTAssertEqual(try PNG.decode([UInt8](bytes)), image)

        var page = ReportPage(title: "run <b>")
        page.add("Curves & pictures", html: try imageElement(image, alt: "a \"tiny\" image"))
        let html = page.html()
        XCTAssertTrue(html.contains("<title>run &lt;b&gt;</title>") && html.contains("Curves &amp; pictures"))
        XCTAssertTrue(html.contains("alt=\"a &quot;tiny&quot; image\""))
        XCTAssertFalse(html.contains("http") || html.contains("<link"), "nothing from outside the page")
    }
}
