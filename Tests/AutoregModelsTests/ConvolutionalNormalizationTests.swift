import AutoregModels
import AutoregNN
import AutoregTensor
import Foundation
import XCTest

/// Σ_x p(x) = 1 for PixelCNN and Gated PixelCNN, by enumerating every image: 3×3 binary
/// (512), 1×2×3 binary colour (64), 1×2 8-bit (65 536); per label for the conditional model.
final class ConvolutionalNormalizationTests: XCTestCase {
    // Thousands of tiny per-image GEMMs: a second OpenMP thread only spins (10x slower here).
    override func setUp() { Gemm.setThreads(1) }
    override func tearDown() { Gemm.setThreads(ProcessInfo.processInfo.activeProcessorCount) }

    /// A few Adam steps on random images, checking that the loss went down; `labels` for a
    /// conditional model.
    private func trainBriefly(_ model: any AutoregressiveModel, levels: Int, labels: [Int]? = nil,
                              _ label: String) {
        let data = randomPixels(batch: 6, dimension: model.dimension, levels: levels, seed: 77)
        let params = model.parameters.map(\.tensor)
        let adam = Adam(learningRate: 0.02)
        var losses: [Float] = []
        for _ in 0..<8 {
            model.zeroGrad()
            let loss = (model as? GatedPixelCNN).map { $0.loss(data, labels: labels) } ?? model.loss(data)
            losses.append(loss.item)
            loss.backward()
            adam.step(params)
        }
        XCTAssertLessThan(losses.last!, losses.first!, "\(label): training did not lower the loss \(losses)")
    }

    func testBinary3x3() throws {
        let images = allBinaryImages(9)
        for kind in [ModelKind.pixelcnn, .gatedPixelCNN] {
            let model = buildModel(try convConfig(kind, 3, 3, hiddenChannels: 6, layers: 2, seed: 1))
            for stage in ["untrained", "trained"] {
                if stage == "trained" { trainBriefly(model, levels: 2, "\(kind)") }
                let total = totalProbability(model, images: images)
                XCTAssertEqual(total, 1, accuracy: 1e-4, "\(kind) \(stage): Σ p(x) = \(total)")
            }
        }
    }

    func testBinaryColour1x2() throws {
        let images = allBinaryImages(6)  // 1×2 pixels × RGB
        for kind in [ModelKind.pixelcnn, .gatedPixelCNN] {
            let model = buildModel(try convConfig(kind, 1, 2, channels: 3, hiddenChannels: 6, layers: 2, seed: 2))
            perturbParameters(model, std: 0.3, seed: 3)
            let total = totalProbability(model, images: images)
            XCTAssertEqual(total, 1, accuracy: 1e-4, "\(kind) colour: Σ p(x) = \(total)")
        }
    }

    func testCategorical1x2() throws {
        for kind in [ModelKind.pixelcnn, .gatedPixelCNN] {
            let model = buildModel(try convConfig(kind, 1, 2, levels: 256, hiddenChannels: 4, layers: 1, seed: 4))
            trainBriefly(model, levels: 256, "\(kind) categorical")
            let total = totalProbabilityTwoSubpixels { model.nll($0) }
            XCTAssertEqual(total, 1, accuracy: 1e-4, "\(kind) categorical: Σ p(x) = \(total)")
        }
    }

    func testConditionalNormalisedPerLabel() throws {
        let images = allBinaryImages(9)
        let model = try! GatedPixelCNN(config: try convConfig(.gatedPixelCNN, 3, 3, hiddenChannels: 6, layers: 2,
                                                          classes: 3, seed: 5))
        trainBriefly(model, levels: 2, labels: (0..<6).map { $0 % 3 }, "conditional")
        var perLabel: [[Float]] = []
        for y in 0..<3 {
            let nll = withoutGrad { model.nll(images, labels: [Int](repeating: y, count: 512)) }.data
            XCTAssertEqual(totalProbability(nll: nll), 1, accuracy: 1e-4, "label \(y)")
            perLabel.append(nll)
        }
        XCTAssertEqual(totalProbability(model, images: images), 1, accuracy: 1e-4, "without a label")
        // The labels matter: p(x | 0) and p(x | 1) differ.
        let gap = zip(perLabel[0], perLabel[1]).map { abs($0 - $1) }.max()!
        XCTAssertGreaterThan(gap, 1e-3, "labels do not change the likelihood")
    }

    func testCategoricalConditional1x2() throws {
        let model = try! GatedPixelCNN(config: try convConfig(.gatedPixelCNN, 1, 2, levels: 256, hiddenChannels: 4,
                                                          layers: 1, classes: 2, seed: 6))
        perturbParameters(model, std: 0.3, seed: 7)
        for y in 0..<2 {
            let total = totalProbabilityTwoSubpixels { x in
                model.nll(x, labels: [Int](repeating: y, count: x.shape[0]))
            }
            XCTAssertEqual(total, 1, accuracy: 1e-4, "label \(y)")
        }
    }
}
