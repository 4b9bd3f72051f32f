@testable import AutoregModels
import AutoregNN
import AutoregTensor
import Foundation
import XCTest

/// The PixelRNN models' cached samplers (`RowLSTM.Layer.Cached`, `DiagonalBiLSTM.Layer.Cached`
/// around `PixelRNNStack.Cached`): the same images, random numbers and probabilities as the
/// naive sampler (`assertCachedMatchesNaive`), grey and colour, both heads, with observed
/// pixels; chosen by `.automatic`; and caches that do not grow with the image's height.
final class PixelRNNCachedSamplerTests: XCTestCase {
    // Thousands of tiny GEMMs in the naive passes: a second OpenMP thread only spins.
    override func setUp() { Gemm.setThreads(1) }
    override func tearDown() { Gemm.setThreads(ProcessInfo.processInfo.activeProcessorCount) }

    static let kinds: [ModelKind] = [.rowLSTM, .diagonalBiLSTM]

    func config(_ kind: ModelKind, _ h: Int, _ w: Int, channels: Int = 1, levels: Int = 2,
                options: PixelRNNOptions = PixelRNNOptions(hiddenUnits: 6, layers: 2, outputChannels: 6, firstKernelSize: 5),
                seed: UInt64 = 3) -> ModelConfig {
        ModelConfig(kind: kind, height: h, width: w, channels: channels, output: .forLevels(levels), seed: seed,
                    options: options)
    }

    // MARK: Equality with the naive sampler

    func testGreyBinary() {
        for kind in Self.kinds { assertCachedMatchesNaive(config(kind, 5, 6)) }
    }

    func testGreyCategorical() {
        for kind in Self.kinds { assertCachedMatchesNaive(config(kind, 5, 6, levels: 256), count: 2) }
    }

    func testColourBinary() {
        for kind in Self.kinds { assertCachedMatchesNaive(config(kind, 3, 4, channels: 3)) }
    }

    func testColourCategorical() {
        for kind in Self.kinds { assertCachedMatchesNaive(config(kind, 3, 4, channels: 3, levels: 256), count: 2, seeds: [21]) }
    }

    /// Logistic-mixture outputs, grey and colour (one grey mixture per sub-pixel).
    func testLogisticMixture() {
        for kind in Self.kinds {
            for channels in [1, 3] {
                var c = config(kind, 3, 4, channels: channels, levels: 256)
                c.output = .logisticMixture(components: 2)
                assertCachedMatchesNaive(c, count: 2, seeds: [6])
            }
        }
    }

    func testOtherKernelsAndDepths() {
        // Row LSTM's 1×5 kernels reach two columns either side; one layer and three layers;
        // a 3×3 and the default 7×7 first layer (wider than the image).
        let options = [PixelRNNOptions(hiddenUnits: 4, layers: 1, outputChannels: 5, firstKernelSize: 3, kernelSize: 5),
                       PixelRNNOptions(hiddenUnits: 5, layers: 3, outputChannels: 7, firstKernelSize: 7, kernelSize: 5)]
        for kind in Self.kinds {
            for o in options { assertCachedMatchesNaive(config(kind, 6, 5, options: o), count: 2, seeds: [4]) }
        }
    }

    func testSingleRowAndSingleColumn() {
        for kind in Self.kinds {
            assertCachedMatchesNaive(config(kind, 1, 6, levels: 256), count: 2, seeds: [2])
            assertCachedMatchesNaive(config(kind, 6, 1), count: 2, seeds: [2])
        }
    }

    func testTemperature() {
        for kind in Self.kinds {
            assertCachedMatchesNaive(config(kind, 4, 4, levels: 256), count: 2, seeds: [7], temperature: 0.7)
        }
    }

    func testDefaultSizeModelsBatchOfOne() throws {
        // The paper's MNIST-size layers (h 16, 7 layers, 32 output maps), 256 levels, on a small
        // image: deep enough that float rounding would show if a layer disagreed.
        for kind in Self.kinds {
            assertCachedMatchesNaive(config(kind, 4, 5, levels: 256, options: PixelRNNOptions()), count: 1, seeds: [1])
        }
    }

    // MARK: Observed pixels

    func testObservedPrefix() {
        for kind in Self.kinds {
            for cfg in [config(kind, 5, 6), config(kind, 3, 4, channels: 3, levels: 256)] {
                let d = cfg.dimension
                let (fixed, observed) = observation(cfg, count: 3, seed: 31) { $0 < d / 2 }
                assertCachedMatchesNaive(cfg, seeds: [9], fixed: fixed, observed: observed)
            }
        }
    }

    func testObservedScatteredMaskIncludingSubpixels() {
        // Not a prefix; some channels of a pixel observed and others not; whole rows observed.
        for kind in Self.kinds {
            for cfg in [config(kind, 5, 6, levels: 256), config(kind, 3, 4, channels: 3),
                        config(kind, 3, 4, channels: 3, levels: 256)] {
                var mrng = RandomGenerator(seed: 77)
                let w = cfg.width * cfg.channels
                let mask = (0..<cfg.dimension).map { $0 / w == 1 || mrng.uniform() < 0.4 }
                let (fixed, observed) = observation(cfg, count: 2, seed: 32) { mask[$0] }
                assertCachedMatchesNaive(cfg, count: 2, seeds: [10], fixed: fixed, observed: observed)
            }
        }
    }

    func testObservedValuesConditionLaterPixels() {
        for kind in Self.kinds {
            let model = randomModel(config(kind, 4, 4))
            let observed = (0..<16).map { $0 < 8 }
            var probs: [Float] = []
            for value: Float in [0, 1] {
                var rng = RandomGenerator(seed: 3)
                let s = model.generate(count: 1, rng: &rng, fixed: [Float](repeating: value, count: 16), observed: observed,
                                       sampler: .cached)
                probs.append(s.probabilities[8])
            }
            XCTAssertNotEqual(probs[0], probs[1], "\(kind)")
        }
    }

    // MARK: Dispatch

    func testAutomaticPicksTheCachedSampler() {
        for kind in Self.kinds {
            let model = buildModel(config(kind, 3, 3))
            XCTAssertTrue(kind.hasCachedSampler, "\(kind)")
            XCTAssertTrue(model is any CachedSampling, "\(kind)")
            XCTAssertEqual(model.samplingMethod(.automatic), .cached, "\(kind)")
            XCTAssertEqual(model.samplingMethod(.automatic, observing: true), .cached, "\(kind)")
            XCTAssertEqual(model.samplingMethod(.cached), .cached, "\(kind)")
            XCTAssertEqual(model.samplingMethod(.naive), .naive, "\(kind)")
            // generate's default is the cached sampler, which draws the naive sampler's images.
            perturbParameters(model, std: 0.3, seed: 2)
            var r1 = RandomGenerator(seed: 9), r2 = RandomGenerator(seed: 9)
            XCTAssertEqual(model.generate(count: 2, rng: &r1).pixels, model.generate(count: 2, rng: &r2, sampler: .naive).pixels)
        }
    }

    // MARK: Memory

    /// Floats the incremental network of `kind` holds over positions, for `count` images.
    func cachedFloats(_ kind: ModelKind, height: Int, width: Int, count: Int = 4,
                      options: PixelRNNOptions = PixelRNNOptions(hiddenUnits: 6, layers: 3, outputChannels: 6)) -> Int {
        let model = buildModel(config(kind, height, width, options: options)) as! any CachedSampling
        let net = model.incrementalNetwork(count: count, labels: nil) as! PixelRNNIncremental
        defer { net.release() }
        return net.cachedFloats
    }

    /// The caches hold a fixed number of rows of W positions per layer (planes of the image's
    /// 7×7 reach, the streams' current row, each LSTM's states of two rows and cell of one or
    /// two, a row of gate terms), never the whole image: the count does not grow with the
    /// height, except by the Diagonal BiLSTM's edge states (h and c of the state just before
    /// each row's first column, per direction and layer: 4h floats a row, whatever the batch).
    func testCachesDoNotGrowWithTheHeight() {
        let h = 6, layers = 3
        let rowShort = cachedFloats(.rowLSTM, height: 8, width: 10), rowTall = cachedFloats(.rowLSTM, height: 80, width: 10)
        XCTAssertEqual(rowShort, rowTall, "row-lstm: nothing per row of the image")
        let diagShort = cachedFloats(.diagonalBiLSTM, height: 8, width: 10)
        let diagTall = cachedFloats(.diagonalBiLSTM, height: 80, width: 10)
        XCTAssertEqual(diagTall - diagShort, (80 - 8) * layers * 2 * 2 * h, "diagonal-bilstm: only the edge states per row")
        // Against the whole image: a full-image cache of the states alone would hold
        // layers × H × W × N × h floats per direction.
        let fullImage = layers * 80 * 10 * 4 * h
        XCTAssertLessThan(rowTall, fullImage / 2)
        XCTAssertLessThan(diagTall, fullImage / 2)
        // Linear in the width and the batch.
        for kind in Self.kinds {
            let base = cachedFloats(kind, height: 8, width: 10)
            XCTAssertLessThanOrEqual(cachedFloats(kind, height: 8, width: 20), 2 * base, "\(kind)")
            XCTAssertLessThanOrEqual(cachedFloats(kind, height: 8, width: 10, count: 8), 2 * base, "\(kind)")
        }
    }
}
