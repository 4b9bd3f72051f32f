@testable import AutoregModels
import AutoregNN
import AutoregTensor
import AutoregTestSupport
import Foundation
import XCTest

/// PixelCNN++: causality exhaustively (no output sees its own or a later pixel, and a deep
/// enough model sees every earlier one: no blind spot), exact normalisation, gradients by
/// finite differences, dropout, odd and tiny sizes, and the refusals.
final class PixelCNNPlusPlusTests: XCTestCase {
    // Many small products: a second OpenMP thread only spins.
    override func setUp() { Gemm.setThreads(1) }
    override func tearDown() { Gemm.setThreads(ProcessInfo.processInfo.activeProcessorCount) }

    func config(_ h: Int, _ w: Int, output: PixelDistribution = .bernoulli, filters: Int = 8, blocks: Int = 1,
                channels: Int = 1, seed: UInt64 = 3) -> ModelConfig {
        ModelConfig(kind: .pixelCNNPlusPlus, height: h, width: w, channels: channels, output: output, seed: seed,
                    options: PixelCNNPlusPlus.Options(filters: filters, resnetBlocks: blocks))
    }

    func model(_ config: ModelConfig) throws -> PixelCNNPlusPlus {
        try XCTUnwrap(try makeModel(config) as? PixelCNNPlusPlus)
    }

    /// ∂ outputs_i / ∂ pixels, exhaustively, for any output width: image r of a batch of D + 1
    /// is seeded at output r only (random weights over its outputs); the last image at none,
    /// and must get no gradient (`leaked`).
    func dependencies(_ config: ModelConfig, seed: UInt64, _ logits: (Tensor) -> Tensor) -> (rows: [[Float]], leaked: Bool) {
        let d = config.dimension, width = config.output.width
        let x = randomPixels(batch: d + 1, dimension: d, levels: config.levels, seed: seed, requiresGrad: true)
        let out = logits(x)
        XCTAssertEqual(out.count, (d + 1) * d * width)
        var rng = RandomGenerator(seed: seed ^ 0xC0FFEE)
        var seedGrad = [Float](repeating: 0, count: out.count)
        for i in 0..<d { for l in 0..<width { seedGrad[(i * d + i) * width + l] = width == 1 ? 1 : rng.normal() } }
        out.backward(seed: seedGrad)
        let g = x.grad ?? [Float](repeating: 0, count: x.count)
        return ((0..<d).map { Array(g[($0 * d)..<(($0 + 1) * d)]) }, g[(d * d)...].contains { $0 != 0 })
    }

    /// No output depends on its own or a later pixel (any output, even and odd sizes), and the
    /// unseeded image gets nothing. The field: coarse row i of u sees fine rows < 2i, so the
    /// coarse path brings everything above to the even fine row 2i but not the row above to
    /// row 2i + 1; the odd rows reach the row above and their own row's left part through the
    /// full-resolution layers only, one column per shifted convolution (about 4R + 2 columns
    /// with R blocks per resolution). With enough blocks for the width, every output sees every
    /// earlier pixel (no blind spot); with fewer, what it misses is there and only there.
    func testCausalExhaustively() throws {
        let cases: [(h: Int, w: Int, output: PixelDistribution, blocks: Int, complete: Bool)] = [
            (8, 8, .bernoulli, 2, true), (8, 8, .bernoulli, 1, false), (4, 4, .bernoulli, 1, true),
            (4, 4, .bernoulli, 0, false), (5, 7, .bernoulli, 1, true), (7, 3, .bernoulli, 1, true),
            (4, 4, .categorical(levels: 256), 1, true), (6, 5, .logisticMixture(components: 3), 1, true),
            (1, 6, .bernoulli, 1, true), (6, 1, .logisticMixture(components: 2), 0, true),
        ]
        for c in cases {
            let cfg = config(c.h, c.w, output: c.output, filters: 6, blocks: c.blocks)
            let m = try model(cfg)
            perturbParameters(m, std: 0.05, seed: 4)
            let label = "\(c.h)x\(c.w) \(c.output) blocks \(c.blocks)"
            let (rows, leaked) = dependencies(cfg, seed: 5) { m.logits($0) }
            XCTAssertFalse(leaked, "\(label): an unseeded image got a gradient")
            let violations = causalityViolations(rows, cfg)
            XCTAssertTrue(violations.isEmpty, "\(label):\n" + violations.prefix(10).joined(separator: "\n"))
            var unseen: [String] = [], elsewhere: [String] = []
            for i in rows.indices {
                for j in 0..<i where rows[i][j] == 0 {
                    let line = "\(describe(i, cfg)) ← \(describe(j, cfg))"
                    unseen.append(line)
                    let (ri, rj) = (i / c.w, j / c.w)
                    if !(ri % 2 == 1 && rj >= ri - 1) { elsewhere.append(line) }
                }
            }
            if c.complete {
                XCTAssertTrue(unseen.isEmpty, "\(label): \(unseen.count) earlier pixels unseen: \(unseen.prefix(10))")
            } else {
                XCTAssertFalse(unseen.isEmpty, "\(label): expected a shallow model to miss far pixels")
                XCTAssertTrue(elsewhere.isEmpty, "\(label): missed beyond an odd row's own and previous row: \(elsewhere.prefix(10))")
            }
        }
    }

    /// Dropout (training steps only) never opens a path to a later pixel, changes the outputs,
    /// and repeats with its seed.
    func testDropout() throws {
        let cfg = config(6, 6, filters: 6)
        let m = try model(cfg)
        perturbParameters(m, std: 0.05, seed: 6)
        let (rows, leaked) = dependencies(cfg, seed: 7) { x in withDropout(rate: 0.5, seed: 8) { m.logits(x) } }
        XCTAssertFalse(leaked)
        XCTAssertTrue(causalityViolations(rows, cfg).isEmpty, causalityViolations(rows, cfg).prefix(5).joined(separator: "\n"))
        let x = randomPixels(batch: 2, dimension: cfg.dimension, levels: 2, seed: 9)
        let plain = withoutGrad { m.logits(x).data }
        let dropped = withDropout(rate: 0.3, seed: 10) { withoutGrad { m.logits(x).data } }
        XCTAssertNotEqual(dropped, plain)
        XCTAssertEqual(withDropout(rate: 0.3, seed: 10) { withoutGrad { m.logits(x).data } }, dropped)
        XCTAssertEqual(withoutGrad { m.logits(x).data }, plain)
    }

    /// Σ p(x) = 1 over all 65 536 grey 1×2 images with the mixture, and over all 512 binary 3×3
    /// images. Sizes below 4 work: each halving rounds up, down to 1×1. (The 256-way head is
    /// normalised per sub-pixel, so causality, tested above with it, is what its sum needs;
    /// `PixelDistributionTests` sums the mixture of a model without blocks.)
    func testExactNormalisation() throws {
        let mixture = try model(config(1, 2, output: .logisticMixture(components: 5), filters: 4, blocks: 1))
        perturbParameters(mixture, std: 0.3, seed: 11)
        XCTAssertEqual(totalProbabilityTwoSubpixels { mixture.nll($0) }, 1, accuracy: 1e-3, "mixture 1x2")
        let binary = try model(config(3, 3, filters: 6, blocks: 1))
        perturbParameters(binary, std: 0.3, seed: 13)
        XCTAssertEqual(totalProbability(binary, images: allBinaryImages(9)), 1, accuracy: 1e-4, "Bernoulli 3x3")
    }

    /// Finite differences of the Bernoulli logits (pixels and every parameter) and of the
    /// mixture's loss (every parameter). concat_elu and the a·σ(b) gate are smooth enough:
    /// ELU's second derivative jumps at 0, which a step of 1e-3 barely feels.
    func testGradients() throws {
        let cfg = config(3, 4, filters: 2, blocks: 1)
        let m = try model(cfg)
        perturbParameters(m, std: 0.2, seed: 14)
        let x = randomPixels(batch: 2, dimension: 12, levels: 2, seed: 15, requiresGrad: true)
        assertGradients(wrt: [x] + m.parameters.map(\.tensor), eps: 1e-3, "Bernoulli logits") { m.logits(x) }

        let mixtureConfig = config(3, 4, output: .logisticMixture(components: 2), filters: 2, blocks: 0)
        let mixture = try model(mixtureConfig)
        perturbParameters(mixture, std: 0.2, seed: 16)
        let pixels = randomPixels(batch: 2, dimension: 12, levels: 256, seed: 17)
        assertGradients(wrt: mixture.parameters.map(\.tensor), eps: 1e-3, "mixture loss") { mixture.loss(pixels) }
    }

    /// The structure the paper's code builds: 3R up blocks and R + (R + 1) + (R + 1) down ones
    /// per stream, two down- and two up-samplings, links where the code has auxiliary inputs,
    /// resolutions ⌈n/2⌉ and ⌈n/4⌉; names are unique and the estimate bounds the count.
    func testStructureAndSizes() throws {
        for (h, w, r) in [(28, 28, 2), (7, 5, 3), (1, 1, 0)] {
            let cfg = config(h, w, output: .logisticMixture(components: 5), filters: 5, blocks: r)
            let m = try model(cfg)
            XCTAssertEqual(m.upBlocks.map(\.count), [r, r, r])
            XCTAssertEqual(m.downBlocks.map(\.count), [r + 1, r + 1, r])
            XCTAssertEqual(m.downsampling.count, 2)
            XCTAssertEqual(m.upsampling.count, 2)
            for pair in m.upBlocks.joined() { XCTAssertEqual([pair.u.links.count, pair.ul.links.count], [0, 1]) }
            for pair in m.downBlocks.joined() { XCTAssertEqual([pair.u.links.count, pair.ul.links.count], [1, 2]) }
            let names = m.parameters.map(\.name)
            XCTAssertEqual(Set(names).count, names.count, "unique parameter names")
            XCTAssertGreaterThanOrEqual(cfg.estimatedParameterCount, Double(m.parameterCount))
            XCTAssertLessThan(cfg.estimatedParameterCount, 1.5 * Double(m.parameterCount))
            let sizes = withoutGrad { () -> [[Int]] in
                let x = Tensor(repeating: 1, shape: [1, 5, h, w])
                let a = m.downsampling[0].u(x), b = m.downsampling[1].ul(a)
                return [a.shape, b.shape, m.upsampling[0].ul(a, outputSize: (h, w)).shape]
            }
            XCTAssertEqual(sizes, [[1, 5, (h + 1) / 2, (w + 1) / 2], [1, 5, ((h + 1) / 2 + 1) / 2, ((w + 1) / 2 + 1) / 2],
                                   [1, 5, h, w]])
            let logits = withoutGrad { m.logits(Tensor(repeating: 7, shape: [2, h * w])) }
            XCTAssertEqual(logits.shape, [2, h * w, 15])
        }
        // The default model: 32 filters, 2 blocks per resolution.
        let defaults = PixelCNNPlusPlus.Options()
        XCTAssertEqual([defaults.filters, defaults.resnetBlocks], [32, 2])
        let mnist = try model(ModelConfig(kind: .pixelCNNPlusPlus, height: 28, width: 28, output: .logisticMixture(components: 5),
                                          options: nil))
        XCTAssertEqual(mnist.parameterCount, 968_239)
    }

    /// RGB with the paper's coupled mixture: through the network no output sees its own pixel
    /// or a later one (and a deep enough model sees every channel of every earlier pixel);
    /// within a pixel, G's conditional moves with r only and B's with r and g, and nothing
    /// moves with b. Exactly normalised over the colours of a 1×1 image, finite-difference
    /// gradients, and the shapes and size estimate.
    func testColourWithTheCoupledMixture() throws {
        let cfg = config(4, 4, output: .logisticMixture(components: 2), filters: 6, blocks: 1, channels: 3)
        let m = try model(cfg)
        perturbParameters(m, std: 0.05, seed: 30)
        let (rows, leaked) = dependencies(cfg, seed: 31) { m.logits($0) }
        XCTAssertFalse(leaked)
        var wrong: [String] = [], unseen = 0
        for i in rows.indices {
            for j in rows[i].indices {
                let earlierPixel = j / 3 < i / 3
                if rows[i][j] != 0 && !earlierPixel { wrong.append("\(describe(i, cfg)) ← \(describe(j, cfg))") }
                if rows[i][j] == 0 && earlierPixel { unseen += 1 }
            }
        }
        XCTAssertEqual(wrong, [], "network paths to the own or a later pixel")
        XCTAssertEqual(unseen, 0, "earlier sub-pixels unseen")

        // Within a pixel, by values: pixel 5 (row 1, column 1) of a random image.
        let width = cfg.output.width
        let base = randomPixels(batch: 1, dimension: cfg.dimension, levels: 256, seed: 32).data
        func outputs(changing c: Int) -> [[Float]] {
            var x = base
            x[5 * 3 + c] = Float((Int(x[5 * 3 + c]) + 128) % 256)
            let l = withoutGrad { m.logits(Tensor(shape: [1, cfg.dimension], data: x)) }.data
            return (0..<cfg.dimension).map { Array(l[($0 * width)..<(($0 + 1) * width)]) }
        }
        let plain = withoutGrad { m.logits(Tensor(shape: [1, cfg.dimension], data: base)) }.data
        let before = (0..<cfg.dimension).map { Array(plain[($0 * width)..<(($0 + 1) * width)]) }
        for (c, moved) in [(0, [16, 17]), (1, [17]), (2, [Int]())] {
            let after = outputs(changing: c)
            for i in 0..<(6 * 3) {
                if moved.contains(i) {
                    XCTAssertNotEqual(after[i], before[i], "sub-pixel \(describe(i, cfg)) should move with channel \(c)")
                } else {
                    XCTAssertEqual(after[i], before[i], "sub-pixel \(describe(i, cfg)) moved with channel \(c) of pixel 5")
                }
            }
        }

        let tiny = try model(config(1, 1, output: .logisticMixture(components: 3), filters: 4, blocks: 1, channels: 3))
        perturbParameters(tiny, std: 0.3, seed: 33)
        let (worst, leaks) = colourConditionalTotals(tiny)
        XCTAssertLessThan(worst, 1e-4)
        XCTAssertEqual(leaks, [])

        let small = config(2, 3, output: .logisticMixture(components: 2), filters: 2, blocks: 0, channels: 3)
        let g = try model(small)
        perturbParameters(g, std: 0.2, seed: 34)
        let pixels = randomPixels(batch: 2, dimension: small.dimension, levels: 256, seed: 35)
        assertGradients(wrt: g.parameters.map(\.tensor), eps: 1e-3, "colour mixture loss") { g.loss(pixels) }

        XCTAssertEqual(withoutGrad { m.logits(Tensor(repeating: 9, shape: [2, cfg.dimension])) }.shape, [2, 48, 6])
        XCTAssertEqual(m.head.weight.shape[0], 20, "the head gives 10K parameters per pixel")
        XCTAssertGreaterThanOrEqual(cfg.estimatedParameterCount, Double(m.parameterCount))
        XCTAssertLessThan(cfg.estimatedParameterCount, 1.5 * Double(m.parameterCount))
        let losses = train(m, on: randomPixels(batch: 6, dimension: cfg.dimension, levels: 256, seed: 36), steps: 10,
                           learningRate: 0.01)
        XCTAssertLessThan(losses.last!, losses.first!, "\(losses)")
    }

    /// A few Adam steps on a tiny set lower the mixture's loss.
    func testTrainingLowersTheLoss() throws {
        let cfg = config(4, 4, output: .logisticMixture(components: 2), filters: 4, blocks: 1)
        let m = try model(cfg)
        let data = randomPixels(batch: 8, dimension: 16, levels: 256, seed: 16)
        let losses = train(m, on: data, steps: 12, learningRate: 0.01)
        XCTAssertLessThan(losses.last!, losses.first!, "\(losses)")
    }

    /// Each `validate` reason, readably.
    func testRefusals() {
        let bad: [(ModelConfig, String)] = [
            (config(4, 4, filters: 0), "filters"),
            (config(4, 4, blocks: -1), "resnet blocks"),
            (config(4, 4, output: .categorical(levels: 256), channels: 3), "logistic-mixture"),
            (config(4, 4, channels: 3), "logistic-mixture"),
            (config(4, 4, output: .logisticMixture(components: 5), channels: 2), "RGB"),
        ]
        for (cfg, word) in bad {
            XCTAssertThrowsError(try makeModel(cfg), word) { XCTAssertTrue("\($0)".contains(word), "\($0)") }
        }
        XCTAssertThrowsError(try PixelCNNPlusPlus(config: ModelConfig(kind: .pixelcnn, height: 4, width: 4, options: nil))) {
            XCTAssertTrue("\($0)".contains("not pixelcnn++"), "\($0)")
        }
    }
}
