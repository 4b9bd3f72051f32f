import AutoregImaging
import AutoregModels
import AutoregTraining
import Foundation
import XCTest

/// `eval --per-pixel --count N`: several images' terms as numbers (CSV, NPY [N, C, H, W] in
/// float32 or float64) and their heat maps on one colour scale, checked pixel by pixel against
/// the numbers.
final class PerPixelNumbersCLITests: CLITestCase {
    override var workDirLabel: String { "autoreg-per-pixel-numbers" }

    func setUpData() throws -> (mnist: String, checkpoint: String) {
        let mnist = try writeTinyIDXMNIST(in: workDir, trainCount: 10, testCount: 4, seed: 23)
        let model = try makeModel(try ModelConfig(kind: .fvsbn, height: 28, width: 28))
        perturb(model, std: 0.3, seed: 9)
        let path = workDir.appendingPathComponent("fvsbn.ckpt").path
        try Checkpoint(model: model).write(to: path)
        return (mnist, path)
    }

    func path(_ name: String) -> String { workDir.appendingPathComponent(name).path }

    /// Runs eval --per-pixel on images 1 and 2 at scale 1; returns the run and the terms per image from the CSV.
    func evaluate(_ mnist: String, _ ckpt: String, _ extra: [String], png: String) throws -> (Result, [[Float]]) {
        let csv = path("terms-\(UUID().uuidString).csv")
        let r = try run(["eval", "--checkpoint", ckpt, "--data", "mnist", "--data-dir", mnist, "--per-pixel", "--index", "1",
                         "--count", "2", "--scale", "1", "--out", png, "--terms", csv] + extra)
        assertSucceeds(r)
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",").map(String.init) }
        XCTAssertEqual(rows.count, 2 * 784)
        XCTAssertEqual(Set(rows.map { $0[0] }), ["1", "2"], "the images' indices in the split")
        let terms = [Array(rows[0..<784]), Array(rows[784...])].map { $0.map { Float($0[4])! } }
        return (r, terms)
    }

    /// The totals printed ("NLL 543.21 nats = sum of ..."), one per image.
    func printedTotals(_ r: Result) -> [Double] {
        r.stdout.components(separatedBy: ": NLL ").dropFirst().compactMap { Double($0.prefix { $0 != " " }) }
    }

    /// An NPY file's header fields and payload, parsed here from the bytes.
    func readNPY(_ path: String) throws -> (header: String, payload: [UInt8]) {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(Array(bytes.prefix(8)), [0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = Int(bytes[8]) | Int(bytes[9]) << 8
        XCTAssertEqual((10 + length) % 64, 0, "data aligned to 64 bytes")
        XCTAssertEqual(bytes[10 + length - 1], 0x0A, "the header ends in a newline")
        return (String(decoding: bytes[10..<10 + length], as: UTF8.self), Array(bytes[(10 + length)...]))
    }

    func testTermsOfSeveralImagesAsCSVAndNPYInBothPrecisions() throws {
        let (mnist, ckpt) = try setUpData()
        let (r, terms) = try evaluate(mnist, ckpt, [], png: path("maps.png"))
        let totals = printedTotals(r)
        XCTAssertEqual(totals.count, 2)
        for (t, total) in zip(terms, totals) { XCTAssertEqual(Double(t.reduce(0, +)), total, accuracy: 0.01) }

        for (dtype, width) in [("float32", 4), ("float64", 8)] {
            let npy = path("terms-\(dtype).npy")
            assertSucceeds(try run(["eval", "--checkpoint", ckpt, "--data", "mnist", "--data-dir", mnist, "--per-pixel",
                                    "--index", "1", "--count", "2", "--out", path("m.png"), "--terms", npy, "--terms-dtype", dtype]))
            let (header, payload) = try readNPY(npy)
            XCTAssertTrue(header.hasPrefix("{'descr': '<f\(width)', 'fortran_order': False, 'shape': (2, 1, 28, 28), }"), header)
            XCTAssertEqual(payload.count, 2 * 784 * width)
            var values: [Float] = []
            for i in stride(from: 0, to: payload.count, by: width) {
                var bits: UInt64 = 0
                for k in 0..<width { bits |= UInt64(payload[i + k]) << (8 * UInt64(k)) }
                values.append(width == 4 ? Float(bitPattern: UInt32(bits)) : Float(Double(bitPattern: bits)))
            }
            XCTAssertEqual(values, terms.flatMap { $0 }, "\(dtype): the CSV's numbers, image by image in raster order")
        }
        assertFailsCleanly(try run(["eval", "--checkpoint", ckpt, "--per-pixel", "--terms", path("t.csv"), "--terms-dtype", "float64"]),
                           mentioning: ["--terms-dtype", ".npy"])
        assertFailsCleanly(try run(["eval", "--checkpoint", ckpt, "--data", "mnist", "--data-dir", mnist, "--per-pixel",
                                    "--index", "3", "--count", "2"]), mentioning: ["--index 3 --count 2", "4 images"])
    }

    /// Where some python3 has NumPy, `numpy.load` reads the file as the same array.
    func testNumPyLoadsTheArray() throws {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import numpy"]
        probe.standardError = FileHandle.nullDevice
        do { try probe.run(); probe.waitUntilExit() } catch { throw XCTSkip("no python3 to run NumPy (\(error))") }
        guard probe.terminationStatus == 0 else { throw XCTSkip("python3 has no numpy module") }
        let (mnist, ckpt) = try setUpData()
        let npy = path("terms.npy")
        let (_, terms) = try evaluate(mnist, ckpt, [], png: path("maps.png"))
        assertSucceeds(try run(["eval", "--checkpoint", ckpt, "--data", "mnist", "--data-dir", mnist, "--per-pixel",
                                "--index", "1", "--count", "2", "--out", path("m.png"), "--terms", npy, "--terms-dtype", "float64"]))
        let script = "import numpy, sys; a = numpy.load(sys.argv[1]); print(a.dtype, a.shape); "
            + "print(repr(float(a[1, 0, 3, 5])), repr(float(a[0, 0, 27, 0])), repr(float(a.sum())))"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, npy]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let lines = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        p.waitUntilExit()
        XCTAssertEqual(lines.first, "float64 (2, 1, 28, 28)")
        let numbers = lines[1].split(separator: " ").map { Double($0)! }
        XCTAssertEqual(numbers[0], Double(terms[1][3 * 28 + 5]), "image 2, row 3, column 5")
        XCTAssertEqual(numbers[1], Double(terms[0][27 * 28]), "image 1, row 27, column 0")
        XCTAssertEqual(numbers[2], terms.flatMap { $0 }.reduce(0.0) { $0 + Double($1) }, accuracy: 1e-6)
    }

    /// Every heat-map pixel is the colour of its term on the chosen scale: shared (one maximum
    /// for both maps), per image, or fixed; the colour bar runs from the scale's bottom to its top.
    func testHeatMapsFollowTheChosenScale() throws {
        let (mnist, ckpt) = try setUpData()
        func colours(_ png: String, row k: Int) throws -> [RGB] {
            let image = try PNG.read(path: png)
            XCTAssertEqual([image.width, image.height], [58, 2 * 30 + 2], "two rows of image + map, then the colour bar")
            return (0..<784).map { p in
                let at = ((k * 30 + p / 28) * image.width + 30 + p % 28) * image.channels
                return RGB(image.pixels[at], image.pixels[at + 1], image.pixels[at + 2])
            }
        }
        for (extra, label) in [([String](), "shared"), (["--heat-scale", "image"], "image"), (["--heat-scale", "1:6"], "fixed")] {
            let png = path("maps-\(label).png")
            let (r, terms) = try evaluate(mnist, ckpt, extra, png: png)
            let shared = max(terms[0].max()!, terms[1].max()!)
            for k in 0..<2 {
                let (low, high): (Float, Float) = label == "shared" ? (0, shared) : label == "image" ? (0, terms[k].max()!) : (1, 6)
                let want = terms[k].map { Colormap.inferno.color(at: ($0 - low) / (high - low)) }
                XCTAssertEqual(try colours(png, row: k), want, "\(label) scale, image \(k + 1)")
            }
            if label != "image" {
                let (low, high): (Float, Float) = label == "shared" ? (0, shared) : (1, 6)
                XCTAssertTrue(r.stdout.contains(String(format: "%.2f to %.2f nats for all 2 maps", low, high)), r.stdout)
            }
            let image = try PNG.read(path: png).rgb()
            let barRow = (image.height - 1) * image.width * 3
            XCTAssertEqual(RGB(image.pixels[barRow], image.pixels[barRow + 1], image.pixels[barRow + 2]), Colormap.inferno.color(at: 0))
            let end = barRow + (image.width - 1) * 3
            XCTAssertEqual(RGB(image.pixels[end], image.pixels[end + 1], image.pixels[end + 2]), Colormap.inferno.color(at: 1))
        }
        for bad in ["8:1", "x", "0:", "-1:2"] {
            assertFailsCleanly(try run(["eval", "--checkpoint", ckpt, "--per-pixel", "--heat-scale", bad]), mentioning: ["--heat-scale"])
        }
    }
}
