import AutoregModels
import AutoregNN
import AutoregTensor
import Foundation
import XCTest

/// Every model in the registry is built the same way: its default options fit a small image,
/// the configuration round-trips through JSON, and the capabilities the registry reports
/// before a model exists are the protocols the built model conforms to.
final class RegistryTests: XCTestCase {
    /// A small configuration of each model: its own default options, shrunk where they are sizes.
    func smallConfig(_ kind: ModelKind, levels: Int = 2, channels: Int = 1) -> ModelConfig {
        var options = kind.optionsType.init()
        if var o = options as? PixelCNN.Options { o = .init(hiddenChannels: 8, layers: 2); options = o }
        if var o = options as? GatedPixelCNN.Options { o = .init(hiddenChannels: 6, layers: 2); options = o }
        if var o = options as? NADE.Options { o.hidden = 7; options = o }
        if var o = options as? MADE.Options { o.hidden = [9]; o.masks = 2; options = o }
        if options is PixelCNNPlusPlus.Options { options = PixelCNNPlusPlus.Options(filters: 6, resnetBlocks: 1) }
        return ModelConfig(kind: kind, height: 3, width: 4, channels: channels, output: .forLevels(levels),
                           classes: kind.isConditional ? 3 : 0, seed: 5, options: options)
    }

    func testEveryModelBuildsFromItsRegistryEntry() throws {
        for kind in ModelKind.allCases {
            let config = smallConfig(kind)
            let model = try makeModel(config)
            XCTAssertEqual(model.config, config, "\(kind)")
            XCTAssertTrue(type(of: model) == kind.type, "\(kind): built \(type(of: model))")
            XCTAssertTrue(Swift.type(of: config.options) == kind.optionsType, "\(kind)")
            XCTAssertFalse(kind.summary.isEmpty, "\(kind)")
            let logits = withoutGrad { model.logits(Tensor(shape: [2, config.dimension], data: [Float](repeating: 1, count: 2 * config.dimension))) }
            XCTAssertEqual(logits.shape, config.output.logitShape(batch: 2, dimension: config.dimension), "\(kind)")
        }
    }

    func testConfigurationsRoundTripThroughJSON() throws {
        for kind in ModelKind.allCases {
            for levels in kind.supportsCategorical ? [2, 256] : [2] {
                let config = smallConfig(kind, levels: levels)
                let data = try JSONEncoder().encode(config)
                XCTAssertEqual(try JSONDecoder().decode(ModelConfig.self, from: data), config, "\(kind) levels \(levels)")
                let text = String(decoding: data, as: UTF8.self)
                XCTAssertTrue(text.contains("\"options\""), text)
            }
        }
    }

    /// Capabilities known from the kind (for the command line, before building) agree with
    /// the protocols of the model built.
    func testCapabilitiesMatchTheModelsProtocols() throws {
        for kind in ModelKind.allCases {
            let model = try makeModel(smallConfig(kind))
            XCTAssertEqual(kind.hasDropout, model is any DropoutModel, "\(kind)")
            XCTAssertEqual(kind.isConditional, model is any ConditionalModel, "\(kind)")
            XCTAssertEqual(kind.hasCachedSampler, model is any CachedSampling, "\(kind)")
            XCTAssertEqual(kind.hasMaskEnsembles, model is any MaskEnsemble, "\(kind)")
            XCTAssertEqual(kind.evaluationBatchSize, type(of: model).evaluationBatchSize, "\(kind)")
            XCTAssertEqual(model.config.maskCount, (model as? any MaskEnsemble)?.maskCount ?? 1, "\(kind)")
            if let conv = model as? any ConvolutionalModel {
                // The listed convolutions are the model's convolution weights, each once.
                let listed = Set(conv.convolutions.map { $0.layer.name + ".weight" })
                let weights = Set(model.parameters.filter { $0.tensor.rank == 4 }.map(\.name))
                XCTAssertEqual(listed, weights, "\(kind)")
            }
        }
    }

    /// Options of another model, or a categorical output on a Bernoulli-only model, are refused readably.
    func testMismatchedOptionsAndOutputsAreRefused() {
        let wrong = ModelConfig(kind: .made, height: 3, width: 3, options: NADE.Options())
        XCTAssertThrowsError(try makeModel(wrong)) { XCTAssertTrue("\($0)".contains("made"), "\($0)") }
        for kind in ModelKind.allCases where !kind.supportsCategorical {
            XCTAssertThrowsError(try makeModel(smallConfig(kind, levels: 256))) {
                XCTAssertTrue("\($0)".contains("binary"), "\($0)")
            }
        }
    }
}

/// `PixelDistribution`: the output width, the per-sub-pixel NLL and the draw.
final class PixelDistributionTests: XCTestCase {
    func testNamesRoundTrip() {
        for d in [PixelDistribution.bernoulli, .categorical(levels: 256), .categorical(levels: 4), .logisticMixture(components: 5)] {
            XCTAssertEqual(PixelDistribution(d.description), d)
        }
        XCTAssertEqual(PixelDistribution("logistic-mixture"), .logisticMixture(components: 10))
        XCTAssertNil(PixelDistribution("logistic-mixture:0"))
        XCTAssertNil(PixelDistribution("logistic-mixture:x"))
        XCTAssertEqual([PixelDistribution.logisticMixture(components: 5).width, PixelDistribution.logisticMixture(components: 5).levels], [15, 256])
        XCTAssertEqual(PixelDistribution("categorical"), .categorical(levels: 256))
        XCTAssertNil(PixelDistribution("categorical:1"))
        XCTAssertNil(PixelDistribution("gaussian"))
        XCTAssertEqual([PixelDistribution.bernoulli.width, PixelDistribution.categorical(levels: 256).width], [1, 256])
        XCTAssertEqual(PixelDistribution.forLevels(2), .bernoulli)
    }

    /// exp(−NLL) over every value of a sub-pixel sums to 1, for random logits.
    func testProbabilitiesOfAllValuesSumToOne() {
        var rng = RandomGenerator(seed: 3)
        for d in [PixelDistribution.bernoulli, .categorical(levels: 5), .categorical(levels: 256), .logisticMixture(components: 4)] {
            let logits = (0..<d.width).map { _ in rng.normal() * 4 }
            var total = 0.0
            for v in 0..<d.levels {
                let l = Tensor(shape: d.logitShape(batch: 1, dimension: 1), data: logits)
                total += Foundation.exp(-Double(d.nll(logits: l, pixels: Tensor(shape: [1, 1], data: [Float(v)])).data[0]))
            }
            XCTAssertEqual(total, 1, accuracy: 1e-5, "\(d)")
        }
    }

    /// A draw consumes exactly one uniform number, and its frequencies follow the probabilities.
    func testDrawsFollowTheDistribution() {
        let d = PixelDistribution.categorical(levels: 3)
        let logits: [Float] = [0, 1, 2]
        let e = logits.map { Foundation.exp(Double($0)) }, z = e.reduce(0, +)
        var rng = RandomGenerator(seed: 8), count = [0, 0, 0]
        let n = 20000
        for _ in 0..<n {
            var copy = rng
            let (v, mean) = logits.withUnsafeBufferPointer { d.draw($0, temperature: 1, rng: &rng) }
            _ = copy.uniform()
            XCTAssertEqual(copy.next(), rng.next())
            count[Int(v)] += 1
            XCTAssertEqual(Double(mean), (e[1] + 2 * e[2]) / z / 2, accuracy: 1e-5)
        }
        for k in 0..<3 { XCTAssertEqual(Double(count[k]) / Double(n), e[k] / z, accuracy: 0.015) }
    }

    /// A mixture draw consumes `uniformsPerDraw` (two) uniforms, always, and records its mean.
    func testMixtureDrawsConsumeAFixedNumberOfUniforms() {
        let d = PixelDistribution.logisticMixture(components: 3)
        XCTAssertEqual(d.uniformsPerDraw, 2)
        var rng = RandomGenerator(seed: 4), params = RandomGenerator(seed: 5)
        for _ in 0..<200 {
            let logits = (0..<d.width).map { _ in params.normal() * 3 }
            var copy = rng
            let (v, p) = logits.withUnsafeBufferPointer { d.draw($0, temperature: 1, rng: &rng) }
            for _ in 0..<d.uniformsPerDraw { _ = copy.uniform() }
            XCTAssertEqual(copy.next(), rng.next())
            XCTAssertTrue(v >= 0 && v <= 255 && v == v.rounded())
            XCTAssertTrue(p >= 0 && p <= 1)
        }
    }

    /// Every model that outputs 8-bit pixels takes the mixture head: exactly normalised over
    /// all 65 536 values of a 1×2 grey image, and over every colour of a 1×1 RGB image (each
    /// conditional sums to 1 and ignores its own and later sub-pixels).
    func testEveryEightBitModelTakesTheMixtureOutput() throws {
        for kind in ModelKind.allCases where kind.supportsCategorical {
            var options = kind.optionsType.init()
            if options is PixelCNN.Options { options = PixelCNN.Options(hiddenChannels: 8, layers: 1) }
            if options is GatedPixelCNN.Options { options = GatedPixelCNN.Options(hiddenChannels: 6, layers: 1) }
            if options is MADE.Options { options = MADE.Options(hidden: [7]) }
            if options is PixelRNNOptions { options = PixelRNNOptions(hiddenUnits: 4, layers: 1, outputChannels: 6) }
            if options is PixelCNNPlusPlus.Options { options = PixelCNNPlusPlus.Options(filters: 4, resnetBlocks: 0) }
            let config = ModelConfig(kind: kind, height: 1, width: 2, output: .logisticMixture(components: 3), seed: 2,
                                     options: options)
            let model = try makeModel(config)
            perturbParameters(model, std: 0.3, seed: 3)
            XCTAssertEqual(totalProbabilityTwoSubpixels { model.nll($0) }, 1, accuracy: 1e-3, "\(kind)")
            var colour = ModelConfig(kind: kind, height: 1, width: 1, channels: 3, output: .logisticMixture(components: 2),
                                     seed: 4, options: options)
            colour.channels = 3
            let colourModel = try makeModel(colour)
            perturbParameters(colourModel, std: 0.3, seed: 5)
            let (worst, leaks) = colourConditionalTotals(colourModel)
            XCTAssertLessThan(worst, 1e-4, "\(kind): a colour conditional does not sum to 1")
            XCTAssertEqual(leaks, [], "\(kind)")
        }
        XCTAssertThrowsError(try makeModel(ModelConfig(kind: .nade, height: 2, width: 2, output: .logisticMixture(components: 2),
                                                       options: nil)))
    }
}
