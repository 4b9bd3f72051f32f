import AutoregTestSupport
import AutoregModels
import AutoregNN
import AutoregTensor
import AutoregTestSupport
import Foundation
import XCTest

/// PixelCNN and Gated PixelCNN: gradients, sizes, configuration and the conditional path.
final class ConvolutionalModelTests: XCTestCase {
    // Thousands of tiny per-image GEMMs: a second OpenMP thread only spins (10x slower here).
    override func setUp() { Gemm.setThreads(1) }
    override func tearDown() { Gemm.setThreads(ProcessInfo.processInfo.activeProcessorCount) }

    // MARK: - Gradients

    func testPixelCNNGradients() throws {
        for channels in [1, 3] {
            let config = try convConfig(.pixelcnn, 3, 3, channels: channels, hiddenChannels: 6, layers: 1,
                                    firstKernel: 3, seed: 20)
            let model = buildModel(config)
            perturbParameters(model, std: 0.1, seed: 21)
            let x = randomPixels(batch: 2, dimension: config.dimension, levels: 2, seed: 22)
            assertGradients(wrt: model.parameters.map(\.tensor), eps: 1e-3, "PixelCNN \(channels) channel(s)") {
                model.loss(x)
            }
        }
    }

    func testGatedPixelCNNGradients() throws {
        for (channels, levels, classes) in [(1, 2, 2), (3, 2, 0), (1, 256, 0)] {
            let config = try convConfig(.gatedPixelCNN, channels == 1 && levels == 2 ? 3 : 2, 2, channels: channels,
                                    levels: levels, hiddenChannels: 3, layers: 2, dilations: [1, 2],
                                    classes: classes, seed: 23)
            let model = try! GatedPixelCNN(config: config)
            perturbParameters(model, std: 0.1, seed: 24)
            let x = randomPixels(batch: 2, dimension: config.dimension, levels: levels, seed: 25)
            let labels = classes == 0 ? nil : [1, 0]
            assertGradients(wrt: model.parameters.map(\.tensor), eps: 1e-2,
                            "gated \(channels) channel(s), levels \(levels), classes \(classes)") {
                model.loss(x, labels: labels)
            }
            // And with respect to the (scaled) input pixels, through the layout changes.
            let xr = Tensor(shape: x.shape, data: x.data, requiresGrad: true)
            assertGradients(wrt: [xr], eps: levels == 2 ? 1e-2 : 1e-1, "gated input \(channels) \(levels)") {
                model.logits(xr, labels: labels)
            }
        }
    }

    // MARK: - Sizes

    /// The UvA tutorial's Gated PixelCNN: 64 channels, 7 blocks, 256-way head on one channel.
    func testGatedPixelCNNTutorialSize() throws {
        let model = try GatedPixelCNN(config: try ModelConfig(kind: .gatedPixelCNN, height: 28, width: 28, levels: 256))
        XCTAssertEqual(model.config.dilations, [1, 2, 1, 4, 1, 2, 1])
        XCTAssertEqual(model.parameterCount, 852_160)
        // 640 + 256 (input stacks) + 7 × 119 232 (blocks) + 16 640 (head).
        let blockCount = model.parameters.filter { $0.name.hasPrefix("block0.") }.reduce(0) { $0 + $1.tensor.count }
        XCTAssertEqual(blockCount, 73_856 + 24_704 + 16_512 + 4_160)
        XCTAssertEqual(Set(model.parameters.map(\.name)).count, model.parameters.count, "names are unique")
        let binary = try GatedPixelCNN(config: try ModelConfig(kind: .gatedPixelCNN, height: 28, width: 28))
        XCTAssertEqual(binary.parameterCount, 852_160 - 16_640 + 65)
    }

    func testPixelCNNSize() throws {
        let model = try PixelCNN(config: try ModelConfig(kind: .pixelcnn, height: 28, width: 28))
        // 7×7 mask A 1→64, 15 × (1×1 64→32, 3×3 32→32, 1×1 32→64), 1×1 64→64, 1×1 64→1.
        let block = (64 * 32 + 32) + (32 * 32 * 9 + 32) + (32 * 64 + 64)
        XCTAssertEqual(model.parameterCount, (64 * 49 + 64) + 15 * block + (64 * 64 + 64) + (64 + 1))
    }

    func testShapesAndBatchIndependence() throws {
        for config in [try convConfig(.pixelcnn, 3, 4, channels: 3, levels: 256, hiddenChannels: 6),
                       try convConfig(.gatedPixelCNN, 4, 3, channels: 3, hiddenChannels: 3),
                       try convConfig(.pixelcnn, 2, 5), try convConfig(.gatedPixelCNN, 5, 2, levels: 256)] {
            let model = buildModel(config)
            let d = config.dimension
            let x = randomPixels(batch: 3, dimension: d, levels: config.levels, seed: 30)
            let logits = model.logits(x)
            XCTAssertEqual(logits.shape, config.levels == 2 ? [3, d] : [3, d, config.levels], "\(config.kind)")
            let nll = model.nll(x).data
            for n in 0..<3 {
                let alone = model.nll(Tensor(shape: [1, d], data: Array(x.data[(n * d)..<((n + 1) * d)]))).data[0]
                XCTAssertEqual(alone, nll[n], accuracy: 1e-4, "\(config.kind) image \(n)")
            }
            // The single-pixel shortcut used by sampling agrees with the full pass.
            let width = config.levels == 2 ? 1 : config.levels
            let one = model.logits(x, pixel: d - 1)
            for n in 0..<3 { for k in 0..<width {
                XCTAssertEqual(one[n * width + k], logits.data[(n * d + d - 1) * width + k], accuracy: 1e-5)
            } }
        }
    }

    // MARK: - Configuration

    func testDefaults() throws {
        let p = try ModelConfig(kind: .pixelcnn, height: 28, width: 28)
        XCTAssertEqual([p.hiddenChannels, p.layers, p.kernelSize, p.firstKernelSize, p.classes], [64, 15, 3, 7, 0])
        XCTAssertEqual(p.dilations, [Int](repeating: 1, count: 15))
        XCTAssertEqual(p.hidden, [])
        let g = try ModelConfig(kind: .gatedPixelCNN, height: 28, width: 28, layers: 10)
        XCTAssertEqual(g.dilations, [1, 2, 1, 4, 1, 2, 1, 1, 2, 1])
        XCTAssertEqual(ModelKind(rawValue: "gated-pixelcnn"), .gatedPixelCNN)
        XCTAssertEqual(ModelKind(rawValue: "pixelcnn"), .pixelcnn)
        XCTAssertTrue(buildModel(try convConfig(.pixelcnn, 3, 3)) is PixelCNN)
        XCTAssertTrue(buildModel(try convConfig(.gatedPixelCNN, 3, 3)) is GatedPixelCNN)
    }

    /// A configuration written before the convolutional fields existed still decodes, with
    /// the defaults; new ones round-trip.
    func testDecodingOlderConfigurations() throws {
        let old = #"{"kind":"made","height":28,"width":28,"channels":1,"levels":2,"hidden":[500],"masks":1,"ordering":"natural","directConnections":false,"seed":0}"#
        let decoded = try JSONDecoder().decode(ModelConfig.self, from: Data(old.utf8))
        XCTAssertEqual(decoded, try ModelConfig(kind: .made, height: 28, width: 28, hidden: [500]))
        XCTAssertEqual([decoded.hiddenChannels, decoded.layers, decoded.classes], [0, 0, 0])
        let sparse = #"{"kind":"gated-pixelcnn","height":5,"width":6,"channels":3,"levels":256,"hidden":[],"masks":1,"ordering":"natural","directConnections":false,"seed":4}"#
        let gated = try JSONDecoder().decode(ModelConfig.self, from: Data(sparse.utf8))
        XCTAssertEqual(gated.dilations, [1, 2, 1, 4, 1, 2, 1])
        XCTAssertEqual(gated.hiddenChannels, 64)
        let config = try convConfig(.gatedPixelCNN, 5, 7, channels: 3, levels: 256, hiddenChannels: 9, layers: 3,
                                kernel: 5, dilations: [1, 3, 2], classes: 10, seed: 99)
        XCTAssertEqual(try JSONDecoder().decode(ModelConfig.self, from: JSONEncoder().encode(config)), config)
    }

    func testValidationIsReadable() throws {
        let bad: [(String, () throws -> ModelConfig, String)] = [
            ("even kernel", { try convConfig(.gatedPixelCNN, 4, 4, kernel: 4) }, "kernel"),
            ("kernel 1", { try convConfig(.pixelcnn, 4, 4, kernel: 1) }, "kernel"),
            ("even first kernel", { try convConfig(.pixelcnn, 4, 4, firstKernel: 6) }, "kernel"),
            ("dilations count", { try convConfig(.gatedPixelCNN, 4, 4, layers: 3, dilations: [1, 2]) }, "dilation"),
            ("dilation 0", { try convConfig(.gatedPixelCNN, 4, 4, layers: 2, dilations: [1, 0]) }, "dilation"),
            ("no channels", { try convConfig(.gatedPixelCNN, 4, 4, hiddenChannels: 0) }, "channels"),
            ("odd pixelcnn channels", { try convConfig(.pixelcnn, 4, 4, hiddenChannels: 7) }, "channels"),
            ("colour needs groups", { try convConfig(.pixelcnn, 4, 4, channels: 3, hiddenChannels: 4) }, "channels"),
            ("gated colour groups", { try convConfig(.gatedPixelCNN, 4, 4, channels: 3, hiddenChannels: 2) }, "channels"),
            ("conditional pixelcnn", { try convConfig(.pixelcnn, 4, 4, classes: 10) }, "class"),
            ("conditional made", { try ModelConfig(kind: .made, height: 4, width: 4, classes: 10) }, "class"),
            ("negative classes", { try convConfig(.gatedPixelCNN, 4, 4, classes: -1) }, "classes"),
            ("random ordering", { try ModelConfig(kind: .pixelcnn, height: 4, width: 4, ordering: .random) }, "ordering"),
            ("dense hidden", { try ModelConfig(kind: .gatedPixelCNN, height: 4, width: 4, hidden: [10]) }, "hidden"),
            ("no gated blocks", { try convConfig(.gatedPixelCNN, 4, 4, layers: 0, dilations: []) }, "layers"),
            ("3 levels", { try convConfig(.pixelcnn, 4, 4, levels: 3) }, "levels"),
        ]
        for (label, config, word) in bad {
            XCTAssertThrowsError(try makeModel(try config()), label) { error in
                let text = String(describing: error)
                XCTAssertTrue(text.lowercased().contains(word), "\(label): '\(text)' should mention \(word)")
                XCTAssertFalse(text.contains("ModelError("), "\(label): '\(text)'")
            }
        }
        XCTAssertThrowsError(try PixelCNN(config: try convConfig(.gatedPixelCNN, 3, 3)))
        XCTAssertThrowsError(try GatedPixelCNN(config: try convConfig(.pixelcnn, 3, 3)))
        XCTAssertNoThrow(try makeModel(try convConfig(.pixelcnn, 4, 4, layers: 0, dilations: [])))
    }

    // MARK: - Conditioning

    func testLabelsChangeTheOutputAndSamplingIsSeeded() throws {
        let config = try convConfig(.gatedPixelCNN, 3, 3, hiddenChannels: 4, layers: 2, classes: 4, seed: 40)
        let model = try! GatedPixelCNN(config: config)
        XCTAssertEqual(model.classes, 4)
        XCTAssertTrue(model.parameters.contains { $0.name == "block1.horizontal.label" })
        let x = randomPixels(batch: 2, dimension: 9, levels: 2, seed: 41)
        let a = model.logits(x, labels: [0, 0]).data, b = model.logits(x, labels: [3, 3]).data
        XCTAssertGreaterThan(zip(a, b).map { abs($0 - $1) }.max()!, 1e-3)
        // Labels act per image.
        let mixed = model.logits(x, labels: [0, 3]).data
        XCTAssertEqual(Array(mixed[0..<9]), Array(a[0..<9]))
        XCTAssertEqual(Array(mixed[9..<18]), Array(b[9..<18]))
        // The unconditional protocol path is the model without a label term.
        XCTAssertEqual(model.logits(x).data, model.logits(x, labels: nil).data)
        var r1 = RandomGenerator(seed: 42), r2 = RandomGenerator(seed: 42)
        let s1 = model.sample(count: 3, labels: [0, 1, 2], rng: &r1)
        let s2 = model.sample(count: 3, labels: [0, 1, 2], rng: &r2)
        XCTAssertEqual(s1.pixels, s2.pixels)
        XCTAssertTrue(s1.pixels.allSatisfy { $0 == 0 || $0 == 1 })
        XCTAssertTrue(s1.probabilities.allSatisfy { $0 > 0 && $0 < 1 })
    }

    /// Sampling the unconditional model goes through the protocol and gives valid pixels.
    func testSamplingColourCategorical() throws {
        let model = buildModel(try convConfig(.pixelcnn, 2, 2, channels: 3, levels: 256, hiddenChannels: 6, layers: 1))
        var rng = RandomGenerator(seed: 43)
        let s = model.sample(count: 2, rng: &rng)
        XCTAssertEqual(s.pixels.count, 24)
        XCTAssertTrue(s.pixels.allSatisfy { $0 >= 0 && $0 <= 255 && $0 == $0.rounded() })
    }
}
