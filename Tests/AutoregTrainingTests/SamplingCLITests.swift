import AutoregData
import AutoregImaging
import AutoregModels
import AutoregTensor
import AutoregTraining
import Foundation
import XCTest

/// Process-level tests of `autoreg sample` and `autoreg complete`: exit codes, clear errors,
/// the files written, and observed pixels kept in the completions.
final class SamplingCLITests: CLITestCase {
    override var workDirLabel: String { "autoreg-sampling-cli" }
    override var trailingArguments: [String] { ["--threads", "1"] }
    override var environmentOverrides: [String: String]? { ["AUTOREG_DATA": UseCommandsCLITests.dataRoot] }
    override var defaultTimeout: TimeInterval { 120 }

    func path(_ name: String) -> String { workDir.appendingPathComponent(name).path }

    /// Writes a checkpoint of a small seeded model (weights perturbed so samples vary).
    func checkpoint(_ config: ModelConfig, name: String) throws -> String {
        let model = try makeModel(config)
        perturb(model, std: 0.2, seed: 5)
        let p = path(name)
        try Checkpoint(model: model).write(to: p)
        return p
    }

    func gated(height: Int = 6, width: Int = 5, levels: Int = 2, classes: Int = 0) throws -> ModelConfig {
        try ModelConfig(kind: .gatedPixelCNN, height: height, width: width, levels: levels, seed: 3,
                    hiddenChannels: 4, layers: 2, classes: classes)
    }

    // MARK: sample

    func testSampleWritesGridProbabilitiesAndSideBySide() throws {
        let ck = try checkpoint(try gated(), name: "gated.ckpt")
        let out = path("out/samples.png")
        let r = try run(["sample", "--checkpoint", ck, "-n", "4", "--scale", "1", "--out", out])
        assertSucceeds(r)
        XCTAssertTrue(r.stdout.contains("cached sampler"), r.stdout)
        XCTAssertTrue(r.stdout.contains("sampling took"), r.stdout)
        let grid = try PNG.read(path: out)
        XCTAssertEqual([grid.width, grid.height], [2 * 5 + 3, 2 * 6 + 3], "2 x 2 tiles with 1-pixel padding")
        XCTAssertTrue(grid.pixels.allSatisfy { [0, 128, 255].contains($0) }, "binary pixels and grey padding")
        for suffix in ["-probabilities.png", "-side-by-side.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: path("out/samples\(suffix)")), suffix)
        }
    }

    func testCachedAndNaiveSamplersWriteTheSameImages() throws {
        let ck = try checkpoint(try gated(levels: 256), name: "gated8.ckpt")
        var images: [RasterImage] = []
        for sampler in ["cached", "naive"] {
            let out = path("\(sampler).png")
            let r = try run(["sample", "--checkpoint", ck, "-n", "3", "--seed", "4", "--sampler", sampler, "--out", out])
            assertSucceeds(r)
            XCTAssertTrue(r.stdout.contains("\(sampler) sampler"), r.stdout)
            images.append(try PNG.read(path: out))
            XCTAssertFalse(FileManager.default.fileExists(atPath: path("\(sampler)-probabilities.png")),
                           "no probability map for an 8-bit model")
        }
        XCTAssertEqual(images[0], images[1])
    }

    func testSampleMissingCheckpoint() throws {
        let missing = path("nope.ckpt")
        assertFailsCleanly(try run(["sample", "--checkpoint", missing, "-n", "2"]), mentioning: [missing])
    }

    func testSampleLabelOnUnconditionalModel() throws {
        let ck = try checkpoint(try gated(), name: "gated.ckpt")
        let r = try run(["sample", "--checkpoint", ck, "-n", "2", "--label", "1", "--out", path("s.png")])
        assertFailsCleanly(r, mentioning: ["--label", "unconditional"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("s.png")))
    }

    func testSampleConditionalLabels() throws {
        let ck = try checkpoint(try gated(classes: 3), name: "conditional.ckpt")
        assertFailsCleanly(try run(["sample", "--checkpoint", ck, "-n", "2", "--label", "3", "--out", path("a.png")]),
                           mentioning: ["--label", "0..<3"])
        let r = try run(["sample", "--checkpoint", ck, "-n", "4", "--out", path("b.png")])
        assertSucceeds(r)
        XCTAssertTrue(r.stderr.contains("class k mod 3"), "says which labels it uses: \(r.stderr)")
        assertSucceeds(try run(["sample", "--checkpoint", ck, "-n", "2", "--label", "2", "--out", path("c.png")]))
    }

    func testCachedSamplerNeedsAConvolutionalModel() throws {
        let ck = try checkpoint(try ModelConfig(kind: .made, height: 3, width: 3, hidden: [5]), name: "made.ckpt")
        assertFailsCleanly(try run(["sample", "--checkpoint", ck, "-n", "2", "--sampler", "cached", "--out", path("m.png")]),
                           mentioning: ["cached", "made"])
        let r = try run(["sample", "--checkpoint", ck, "-n", "2", "--out", path("m.png")])
        assertSucceeds(r)
        XCTAssertTrue(r.stdout.contains("naive sampler"), r.stdout)
        assertFailsCleanly(try run(["sample", "--checkpoint", ck, "--sampler", "fast"]), mentioning: ["fast"])
    }

    // MARK: complete

    /// A grey test image of the model's size: a diagonal gradient.
    func writeImage(width: Int, height: Int, name: String) throws -> (path: String, image: RasterImage) {
        let pixels = (0..<(width * height)).map { UInt8((($0 % width) + ($0 / width)) * 255 / (width + height - 2)) }
        let image = RasterImage(width: width, height: height, channels: 1, pixels: pixels)
        try PNG.write(image, to: path(name))
        return (path(name), image)
    }

    /// Tile `index` (RGB, scale 1) of a one-row grid of `height x width` tiles with 1-pixel padding.
    func tile(_ grid: RasterImage, _ index: Int, width: Int, height: Int) -> [[UInt8]] {
        let left = 1 + index * (width + 1)
        return (0..<(width * height)).map { p in
            Array(grid[1 + p / width, left + p % width])
        }
    }

    func testCompleteTopHalfKeepsObservedPixels() throws {
        let (w, h, k) = (5, 6, 3)
        let ck = try checkpoint(try gated(height: h, width: w), name: "gated.ckpt")
        let (img, _) = try writeImage(width: w, height: h, name: "image.png")
        let out = path("done/completions.png")
        let r = try run(["complete", "--checkpoint", ck, "--image", img, "--observe", "top-half", "-k", "\(k)",
                         "--scale", "1", "--seed", "2", "--out", out])
        assertSucceeds(r)
        XCTAssertFalse(r.stderr.contains("not a prefix"), r.stderr)
        let grid = try PNG.read(path: out)
        XCTAssertEqual([grid.width, grid.height, grid.channels], [(k + 2) * (w + 1) + 1, h + 2, 3])
        let original = tile(grid, 0, width: w, height: h)
        let observedPart = tile(grid, 1, width: w, height: h)
        for p in 0..<(w * h) {
            XCTAssertTrue(original[p].allSatisfy { $0 == 0 || $0 == 255 }, "binarised original")
            if p / w < h / 2 {
                XCTAssertEqual(observedPart[p], original[p])
            } else {
                XCTAssertEqual(observedPart[p], [255, 0, 255], "unobserved pixels drawn in magenta")
            }
        }
        for j in 0..<k {
            let completion = tile(grid, 2 + j, width: w, height: h)
            for p in 0..<(w * h / 2) { XCTAssertEqual(completion[p], original[p], "completion \(j) keeps observed pixel \(p)") }
        }
    }

    func testCompleteWithMaskThatIsNotAPrefix() throws {
        let (w, h) = (5, 6)
        let ck = try checkpoint(try gated(height: h, width: w, levels: 256), name: "gated8.ckpt")
        let (img, image) = try writeImage(width: w, height: h, name: "image.png")
        // Observed: a checkerboard (white = observed).
        let mask = RasterImage(width: w, height: h, channels: 1,
                               pixels: (0..<(w * h)).map { (($0 % w) + ($0 / w)) % 2 == 0 ? 255 : 0 })
        try PNG.write(mask, to: path("mask.png"))
        let out = path("c.png")
        let r = try run(["complete", "--checkpoint", ck, "--image", img, "--observe", path("mask.png"), "-k", "2",
                         "--scale", "1", "--out", out])
        assertSucceeds(r)
        XCTAssertTrue(r.stderr.contains("not a prefix") && r.stderr.contains("cannot inform"), r.stderr)
        let grid = try PNG.read(path: out)
        for j in 0..<2 {
            let completion = tile(grid, 2 + j, width: w, height: h)
            for p in 0..<(w * h) where mask.pixels[p] == 255 {
                XCTAssertEqual(completion[p], [UInt8](repeating: image.pixels[p], count: 3), "observed pixel \(p) kept")
            }
        }
    }

    func testCompleteErrors() throws {
        let ck = try checkpoint(try gated(), name: "gated.ckpt")
        let (img, _) = try writeImage(width: 5, height: 6, name: "image.png")
        let (wrong, _) = try writeImage(width: 6, height: 6, name: "wrong.png")
        assertFailsCleanly(try run(["complete", "--checkpoint", ck, "--image", img, "--observe", wrong, "-k", "2"]),
                           mentioning: ["mask", "6x6", "5x6"])
        assertFailsCleanly(try run(["complete", "--checkpoint", ck, "--image", wrong, "-k", "2"]),
                           mentioning: ["wrong.png", "6x6", "5x6"])
        assertFailsCleanly(try run(["complete", "--checkpoint", ck, "-k", "2"]), mentioning: ["--image", "--index"])
        assertFailsCleanly(try run(["complete", "--checkpoint", path("missing.ckpt"), "--image", img]),
                           mentioning: ["missing.ckpt"])
        assertFailsCleanly(try run(["complete", "--checkpoint", ck, "--image", img, "--label", "0"]),
                           mentioning: ["--label", "unconditional"])
        assertFailsCleanly(try run(["complete", "--checkpoint", ck, "--image", path("none.png")]), mentioning: ["none.png"])
    }

    func testCompleteFromDataSetIndex() throws {
        do {
            _ = try DatasetCatalog.load(name: .binarizedMNIST, split: .test, dataDirectory: UseCommandsCLITests.dataRoot)
        } catch {
            throw XCTSkip("binarized-mnist not found under \(UseCommandsCLITests.dataRoot): \(error)")
        }
        let ck = try checkpoint(try gated(height: 28, width: 28), name: "mnist.ckpt")
        let out = path("mnist.png")
        let r = try run(["complete", "--checkpoint", ck, "--index", "3", "--data", "binarized-mnist", "--split", "test",
                         "-k", "2", "--scale", "1", "--out", out])
        assertSucceeds(r)
        let data = try DatasetCatalog.load(name: .binarizedMNIST, split: .test, dataDirectory: UseCommandsCLITests.dataRoot)
        let expected = data.image(3).map { $0 == 1 ? UInt8(255) : 0 }
        let grid = try PNG.read(path: out)
        let original = tile(grid, 0, width: 28, height: 28)
        XCTAssertEqual(original.map { $0[0] }, expected, "the data set's image")
        for j in 0..<2 {
            let completion = tile(grid, 2 + j, width: 28, height: 28)
            XCTAssertEqual(completion[..<(14 * 28)].map { $0[0] }, Array(expected[..<(14 * 28)]))
        }
        assertFailsCleanly(try run(["complete", "--checkpoint", ck, "--index", "10000", "--data", "binarized-mnist"]),
                           mentioning: ["10000"])
    }
}
