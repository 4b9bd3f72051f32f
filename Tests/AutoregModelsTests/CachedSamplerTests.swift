import AutoregModels
import AutoregNN
import AutoregTensor
import XCTest

/// The cached incremental sampler must draw exactly what the naive one (a full pass per
/// sub-pixel) draws for the same generator, with the same recorded probabilities, and its
/// per-step logits must be the full forward pass's logits of the finished images.
final class CachedSamplerTests: XCTestCase {
    // MARK: PixelCNN

    func testPixelCNNBinary() throws {
        assertCachedMatchesNaive(try convConfig(.pixelcnn, 5, 7, hiddenChannels: 8, layers: 2, firstKernel: 5, dilations: [1, 2]))
    }

    func testPixelCNNCategorical() throws {
        assertCachedMatchesNaive(try convConfig(.pixelcnn, 4, 5, levels: 256, hiddenChannels: 8, layers: 2, dilations: [2, 1]),
                                 count: 2)
    }

    func testPixelCNNColourBinary() throws {
        assertCachedMatchesNaive(try convConfig(.pixelcnn, 4, 5, channels: 3, hiddenChannels: 12, layers: 2, kernel: 3,
                                            firstKernel: 5, dilations: [1, 3]))
    }

    func testPixelCNNColourCategoricalNoBlocks() throws {
        assertCachedMatchesNaive(try convConfig(.pixelcnn, 3, 4, channels: 3, levels: 256, hiddenChannels: 6, layers: 0,
                                            firstKernel: 3), count: 2, seeds: [5])
    }

    func testPixelCNNTemperature() throws {
        assertCachedMatchesNaive(try convConfig(.pixelcnn, 4, 4, levels: 256, hiddenChannels: 8, layers: 1),
                                 count: 2, seeds: [7], temperature: 0.7)
    }

    // MARK: Gated PixelCNN

    func testGatedBinary() throws {
        assertCachedMatchesNaive(try convConfig(.gatedPixelCNN, 5, 7, hiddenChannels: 6, layers: 3, dilations: [1, 2, 4]))
    }

    func testGatedCategorical() throws {
        assertCachedMatchesNaive(try convConfig(.gatedPixelCNN, 6, 5, levels: 256, hiddenChannels: 6, layers: 2, dilations: [2, 1]),
                                 count: 2)
    }

    /// The logistic-mixture output: each draw takes two uniforms, through the same `draw`.
    func testLogisticMixtureOutputs() throws {
        for kind in [ModelKind.gatedPixelCNN, .pixelcnn] {
            var config = try convConfig(kind, 4, 5, levels: 256, hiddenChannels: 8, layers: 2)
            config.output = .logisticMixture(components: 3)
            assertCachedMatchesNaive(config)
            // Colour: one grey mixture per sub-pixel, given R (and G) through the channel masks.
            var colour = try convConfig(kind, 3, 3, channels: 3, levels: 256, hiddenChannels: 6, layers: 2)
            colour.output = .logisticMixture(components: 2)
            assertCachedMatchesNaive(colour)
        }
    }

    func testGatedKernel5() throws {
        assertCachedMatchesNaive(try convConfig(.gatedPixelCNN, 5, 6, hiddenChannels: 4, layers: 2, kernel: 5, dilations: [1, 2]))
    }

    func testGatedColourCategorical() throws {
        assertCachedMatchesNaive(try convConfig(.gatedPixelCNN, 3, 4, channels: 3, levels: 256, hiddenChannels: 6, layers: 2,
                                            dilations: [1, 2]), count: 2, seeds: [21])
    }

    func testGatedColourBinary() throws {
        assertCachedMatchesNaive(try convConfig(.gatedPixelCNN, 4, 5, channels: 3, hiddenChannels: 7, layers: 2, dilations: [2, 1]))
    }

    func testGatedClassConditional() throws {
        let config = try convConfig(.gatedPixelCNN, 5, 7, hiddenChannels: 6, layers: 2, dilations: [1, 2], classes: 3)
        assertCachedMatchesNaive(config, labels: [2, 0, 1])
        assertCachedMatchesNaive(try convConfig(.gatedPixelCNN, 3, 4, channels: 3, levels: 256, hiddenChannels: 6, layers: 1,
                                            classes: 4), count: 2, seeds: [8], labels: [3, 1])
    }

    func testLabelsChangeTheSamples() throws {
        let model = randomModel(try convConfig(.gatedPixelCNN, 5, 7, hiddenChannels: 6, layers: 2, classes: 3), seed: 4)
        var r1 = RandomGenerator(seed: 1), r2 = RandomGenerator(seed: 1)
        let a = model.generate(count: 4, labels: [0, 0, 0, 0], rng: &r1, sampler: .cached)
        let b = model.generate(count: 4, labels: [2, 2, 2, 2], rng: &r2, sampler: .cached)
        XCTAssertNotEqual(a.probabilities, b.probabilities)
    }

    // MARK: Observed pixels

    func testObservedPrefix() throws {
        for config in [try convConfig(.pixelcnn, 5, 7, hiddenChannels: 8, layers: 2, firstKernel: 5, dilations: [1, 2]),
                       try convConfig(.gatedPixelCNN, 5, 7, levels: 256, hiddenChannels: 6, layers: 2, dilations: [1, 2])] {
            let d = config.dimension
            let (fixed, observed) = observation(config, count: 3, seed: 31) { $0 < d / 2 }
            assertCachedMatchesNaive(config, seeds: [9], fixed: fixed, observed: observed)
        }
    }

    func testObservedScatteredMaskIncludingSubpixels() throws {
        // A mask that is not a prefix, with some channels of a pixel observed and others not.
        for config in [try convConfig(.pixelcnn, 4, 5, channels: 3, hiddenChannels: 12, layers: 2, firstKernel: 3),
                       try convConfig(.gatedPixelCNN, 4, 5, channels: 3, levels: 256, hiddenChannels: 6, layers: 2,
                                  dilations: [1, 2]),
                       try convConfig(.gatedPixelCNN, 5, 6, hiddenChannels: 6, layers: 2, classes: 2)] {
            var mrng = RandomGenerator(seed: 77)
            let mask = (0..<config.dimension).map { _ in mrng.uniform() < 0.4 }
            let (fixed, observed) = observation(config, count: 2, seed: 32) { mask[$0] }
            assertCachedMatchesNaive(config, count: 2, seeds: [10], labels: config.classes > 0 ? [1, 0] : nil,
                                     fixed: fixed, observed: observed)
        }
    }

    func testObservedPixelsConsumeNoRandomNumbers() throws {
        let config = try convConfig(.gatedPixelCNN, 4, 6, hiddenChannels: 6, layers: 2)
        let model = randomModel(config)
        let d = config.dimension, count = 3
        var mrng = RandomGenerator(seed: 5)
        let observed = (0..<d).map { _ in mrng.uniform() < 0.5 }
        let (fixed, _) = observation(config, count: count, seed: 6) { _ in true }
        for sampler in [Sampler.cached, .naive] {
            var rng = RandomGenerator(seed: 40)
            let s = model.generate(count: count, rng: &rng, fixed: fixed, observed: observed, sampler: sampler)
            var expected = RandomGenerator(seed: 40)
            for _ in 0..<(count * observed.filter { !$0 }.count) { _ = expected.uniform() }
            XCTAssertEqual(rng.next(), expected.next(), "\(sampler): one uniform per drawn sub-pixel and image, none for observed")
            for n in 0..<count { for i in 0..<d where observed[i] {
                XCTAssertEqual(s.pixels[n * d + i], fixed[n * d + i])
                XCTAssertEqual(s.probabilities[n * d + i], 0, "nothing recorded for an observed sub-pixel")
            } }
            // Everything observed: the images come back unchanged and no randomness is used.
            var untouched = RandomGenerator(seed: 41)
            let all = model.generate(count: count, rng: &untouched, fixed: fixed, observed: [Bool](repeating: true, count: d),
                                     sampler: sampler)
            XCTAssertEqual(all.pixels, fixed)
            var fresh = RandomGenerator(seed: 41)
            XCTAssertEqual(untouched.next(), fresh.next())
        }
    }

    func testObservedValuesConditionLaterPixels() throws {
        // Different observed prefixes give different conditionals for the first free pixel.
        let config = try convConfig(.gatedPixelCNN, 4, 4, hiddenChannels: 6, layers: 2)
        let model = randomModel(config)
        let observed = (0..<16).map { $0 < 8 }
        var probs: [[Float]] = []
        for value: Float in [0, 1] {
            var rng = RandomGenerator(seed: 3)
            let s = model.generate(count: 1, rng: &rng, fixed: [Float](repeating: value, count: 16), observed: observed,
                                   sampler: .cached)
            probs.append(Array(s.probabilities[8...]))
        }
        XCTAssertNotEqual(probs[0][0], probs[1][0])
    }

    // MARK: Dispatch

    func testAutomaticSamplerChoice() throws {
        let gated = buildModel(try convConfig(.gatedPixelCNN, 3, 3, hiddenChannels: 4, layers: 1))
        let pixelcnn = buildModel(try convConfig(.pixelcnn, 3, 3, hiddenChannels: 4, layers: 1))
        let nade = buildModel(try makeConfig(.nade, 3, 3, hidden: [5]))
        let made = buildModel(try makeConfig(.made, 3, 3, hidden: [5]))
        XCTAssertEqual(gated.samplingMethod(.automatic), .cached)
        XCTAssertEqual(pixelcnn.samplingMethod(.automatic), .cached)
        XCTAssertEqual(gated.samplingMethod(.naive), .naive)
        XCTAssertEqual(nade.samplingMethod(.automatic), .direct)
        XCTAssertEqual(nade.samplingMethod(.automatic, observing: true), .naive)
        XCTAssertEqual(made.samplingMethod(.automatic), .naive)
        XCTAssertNil(made.samplingMethod(.cached))
        XCTAssertTrue(gated is any CachedSampling && pixelcnn is any CachedSampling)
        XCTAssertFalse(nade is any CachedSampling || made is any CachedSampling)
        // The PixelRNN models too (PixelRNNCachedSamplerTests checks what they draw).
        for kind in [ModelKind.rowLSTM, .diagonalBiLSTM] {
            let rnn = buildModel(ModelConfig(kind: kind, height: 3, width: 3,
                                             options: PixelRNNOptions(hiddenUnits: 4, layers: 1, outputChannels: 4)))
            XCTAssertEqual(rnn.samplingMethod(.automatic), .cached, "\(kind)")
            XCTAssertTrue(rnn is any CachedSampling, "\(kind)")
        }

        // NADE's automatic sampler is its running-sum one.
        perturbParameters(nade, std: 0.5, seed: 2)
        var r1 = RandomGenerator(seed: 9), r2 = RandomGenerator(seed: 9)
        XCTAssertEqual(nade.generate(count: 4, rng: &r1).pixels, (nade as! NADE).sampleDirect(count: 4, rng: &r2).pixels)
        // Automatic on a convolutional model is the cached sampler, which matches the naive one.
        perturbParameters(gated, std: 0.3, seed: 2)
        var r3 = RandomGenerator(seed: 9), r4 = RandomGenerator(seed: 9)
        XCTAssertEqual(gated.generate(count: 2, rng: &r3).pixels, gated.generate(count: 2, rng: &r4, sampler: .naive).pixels)
    }

    func testDefaultSizeGatedModelBatchOfOne() throws {
        // The default 64-channel, 7-block, 256-level model on a small image, one image, against
        // the naive sampler (deep enough that float rounding would show if the layers disagreed).
        let config = try ModelConfig(kind: .gatedPixelCNN, height: 3, width: 4, levels: 256)
        assertCachedMatchesNaive(config, count: 1, seeds: [1])
    }
}

/// The equality check between the cached and the naive sampler, for every model with a
/// cached sampler (`PixelRNNCachedSamplerTests` too).
extension XCTestCase {
    /// A model with seeded random weights (large enough that every layer matters).
    func randomModel(_ config: ModelConfig, seed: UInt64 = 3) -> any AutoregressiveModel {
        let model = buildModel(config)
        perturbParameters(model, std: 0.25, seed: seed)
        return model
    }

    /// Full-pass logits of `pixels` [count × D] (with labels for a conditional model).
    func fullLogits(_ model: any AutoregressiveModel, _ pixels: [Float], count: Int, labels: [Int]?) -> [Float] {
        let x = Tensor(shape: [count, model.dimension], data: pixels)
        if let labels, let gated = model as? GatedPixelCNN { return withoutGrad { gated.logits(x, labels: labels) }.data }
        return withoutGrad { model.logits(x) }.data
    }

    /// Samples with both samplers from the same seed and checks: identical pixels, matching
    /// probabilities, the same number of random numbers consumed, observed sub-pixels kept,
    /// and the cached sampler's per-step logits equal to the full pass on the result.
    /// Returns the cached sample.
    @discardableResult
    func assertCachedMatchesNaive(_ config: ModelConfig, count: Int = 3, seeds: [UInt64] = [11, 12],
                                  labels: [Int]? = nil, fixed: [Float]? = nil, observed: [Bool]? = nil,
                                  temperature: Float = 1,
                                  file: StaticString = #filePath, line: UInt = #line) -> Sample? {
        let model = randomModel(config)
        let d = config.dimension, width = config.output.width
        let what = "\(config.kind) \(config.height)x\(config.width)x\(config.channels) levels \(config.levels)"
        var last: Sample?
        for seed in seeds {
            var r1 = RandomGenerator(seed: seed), r2 = RandomGenerator(seed: seed)
            let naive = model.generate(count: count, labels: labels, rng: &r1, temperature: temperature,
                                       fixed: fixed, observed: observed, sampler: .naive)
            var stepLogits = [Int: [Float]]()
            var steps: [Int] = []
            let cached = (model as! any CachedSampling).sampleCached(count: count, labels: labels, rng: &r2, temperature: temperature,
                                            fixed: fixed, observed: observed,
                                            progress: { done, total in steps.append(done); XCTAssertEqual(total, d) },
                                            logits: { i, l in stepLogits[i] = Array(l) })
            XCTAssertEqual(steps, Array(1...d), "progress reports every sub-pixel in order", file: file, line: line)
            XCTAssertEqual(cached.pixels, naive.pixels, "\(what) seed \(seed): same pixels", file: file, line: line)
            XCTAssertEqual(r1.next(), r2.next(), "\(what) seed \(seed): same random numbers consumed", file: file, line: line)
            // Without a logits callback and with two threads, the images are split between
            // them (count 3: one and two): the same images, and the generator left as it was.
            var r3 = RandomGenerator(seed: seed)
            let previousThreads = Gemm.threads
            Gemm.setThreads(2)
            let split = (model as! any CachedSampling).sampleCached(count: count, labels: labels, rng: &r3, temperature: temperature,
                                                                   fixed: fixed, observed: observed)
            Gemm.setThreads(previousThreads)
            var r4 = RandomGenerator(seed: seed)
            _ = model.generate(count: count, labels: labels, rng: &r4, temperature: temperature,
                               fixed: fixed, observed: observed, sampler: .naive)
            XCTAssertEqual(split.pixels, naive.pixels, "\(what) seed \(seed): two threads, same pixels", file: file, line: line)
            XCTAssertEqual(r3.next(), r4.next(), "\(what) seed \(seed): two threads, same numbers consumed", file: file, line: line)
            for k in 0..<(count * d) {
                XCTAssertEqual(split.probabilities[k], naive.probabilities[k], accuracy: 1e-5,
                               "\(what) seed \(seed): two threads, probability \(k)", file: file, line: line)
            }
            for k in 0..<(count * d) {
                XCTAssertEqual(cached.probabilities[k], naive.probabilities[k], accuracy: 1e-5,
                               "\(what) seed \(seed) probability \(k)", file: file, line: line)
            }
            if config.levels == 2 {
                XCTAssertTrue(cached.pixels.allSatisfy { $0 == 0 || $0 == 1 }, file: file, line: line)
            } else {
                XCTAssertTrue(cached.pixels.allSatisfy { $0 >= 0 && $0 < 256 && $0 == $0.rounded() }, file: file, line: line)
            }
            let isObserved: (Int) -> Bool = { fixed != nil && (observed?[$0] ?? false) }
            if let fixed {
                for n in 0..<count { for i in 0..<d where isObserved(i) {
                    XCTAssertEqual(cached.pixels[n * d + i], fixed[n * d + i], "observed sub-pixel \(i) kept", file: file, line: line)
                } }
            }
            // Per-step logits against the full pass over the finished images.
            let full = fullLogits(model, cached.pixels, count: count, labels: labels)
            XCTAssertEqual(Set(stepLogits.keys), Set((0..<d).filter { !isObserved($0) }),
                           "logits reported for exactly the drawn sub-pixels", file: file, line: line)
            var worst: Float = 0
            for (i, l) in stepLogits {
                XCTAssertEqual(l.count, count * width, file: file, line: line)
                for n in 0..<count {
                    for k in 0..<width {
                        let f = full[(n * d + i) * width + k]
                        worst = max(worst, abs(l[n * width + k] - f) / max(1, abs(f)))
                    }
                }
            }
            XCTAssertLessThan(worst, 1e-4, "\(what) seed \(seed): per-step logits vs the full pass", file: file, line: line)
            last = cached
        }
        return last
    }

    /// `fixed` images of random values and an `observed` mask.
    func observation(_ config: ModelConfig, count: Int, seed: UInt64,
                     _ isObserved: (Int) -> Bool) -> (fixed: [Float], observed: [Bool]) {
        var rng = RandomGenerator(seed: seed)
        let d = config.dimension
        let fixed = (0..<(count * d)).map { _ in Float(rng.int(below: config.levels)) }
        return (fixed, (0..<d).map(isObserved))
    }
}
