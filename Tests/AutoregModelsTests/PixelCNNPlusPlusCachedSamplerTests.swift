@testable import AutoregModels
import AutoregTensor
import AutoregTestSupport
import Foundation
import XCTest

/// PixelCNN++'s cached sampler (lazy planes) against the naive one: the same pixels from the
/// same seed, matching probabilities, per-step logits equal to the full pass, for grey and
/// RGB images, every output, even and odd sizes (each halving rounds up), with and without
/// blocks, and completion of a partly observed image.
final class PixelCNNPlusPlusCachedSamplerTests: XCTestCase {
    override func setUp() { Gemm.setThreads(1) }
    override func tearDown() { Gemm.setThreads(ProcessInfo.processInfo.activeProcessorCount) }

    func config(_ h: Int, _ w: Int, channels: Int = 1, output: PixelDistribution, filters: Int = 5, blocks: Int = 1,
                seed: UInt64 = 2) -> ModelConfig {
        ModelConfig(kind: .pixelCNNPlusPlus, height: h, width: w, channels: channels, output: output, seed: seed,
                    options: PixelCNNPlusPlus.Options(filters: filters, resnetBlocks: blocks))
    }

    func testGreyOutputs() {
        assertCachedMatchesNaive(config(5, 6, output: .bernoulli))
        assertCachedMatchesNaive(config(4, 4, output: .categorical(levels: 256)), count: 2, seeds: [3])
        assertCachedMatchesNaive(config(6, 5, output: .logisticMixture(components: 3)), count: 2)
    }

    func testOddSizesAndDepths() {
        assertCachedMatchesNaive(config(7, 3, output: .bernoulli, blocks: 2), count: 2, seeds: [5])
        assertCachedMatchesNaive(config(3, 7, output: .logisticMixture(components: 2), blocks: 0), count: 2, seeds: [6])
        assertCachedMatchesNaive(config(1, 5, output: .bernoulli), count: 2, seeds: [7])
        assertCachedMatchesNaive(config(5, 1, output: .bernoulli), count: 2, seeds: [8])
    }

    func testColourWithTheCoupledMixture() {
        assertCachedMatchesNaive(config(3, 4, channels: 3, output: .logisticMixture(components: 2)), count: 2, seeds: [9, 10])
    }

    func testCompletion() {
        let cfg = config(4, 5, output: .logisticMixture(components: 2))
        var rng = RandomGenerator(seed: 12)
        let fixed = (0..<(2 * cfg.dimension)).map { _ in Float(rng.int(below: 256)) }
        let observed = (0..<cfg.dimension).map { $0 < 8 || $0 % 3 == 0 }
        assertCachedMatchesNaive(cfg, count: 2, seeds: [13], fixed: fixed, observed: observed)
    }

    /// Three full resolutions (12, 6, 3) with two blocks each, as the default model has. (Few
    /// filters: with the tests' large random weights, 8 filters and two blocks already give
    /// logits near 5·10⁴, whose float rounding differs between any two summation orders.)
    func testDeeperModel() {
        assertCachedMatchesNaive(config(12, 12, output: .logisticMixture(components: 5), filters: 3, blocks: 2),
                                 count: 1, seeds: [14])
    }
}
