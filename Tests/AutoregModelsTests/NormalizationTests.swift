import AutoregTestSupport
import AutoregModels
import AutoregNN
import AutoregTensor
import Foundation
import XCTest

/// Σ_x p(x) = 1 exactly (to float accuracy), by enumerating every image.
final class NormalizationTests: XCTestCase {
    let images = allBinaryImages(9)  // all 512 binary 3×3 images
    let trainingImages = randomPixels(batch: 6, dimension: 9, levels: 2, seed: 77)

    private func assertNormalised(_ model: any AutoregressiveModel, _ label: String,
                                  file: StaticString = #filePath, line: UInt = #line) {
        let total = totalProbability(model, images: images)
        XCTAssertEqual(total, 1, accuracy: 1e-4, "\(label): Σ p(x) = \(total)", file: file, line: line)
    }

    /// Trains on six images and checks that the model actually learnt something (so the
    /// parameters are far from their initial values).
    private func trainAndCheckProgress(_ model: any AutoregressiveModel, _ label: String, steps: Int = 20) {
        let before = withoutGrad { model.nll(trainingImages) }.data.reduce(0, +)
        train(model, on: trainingImages, steps: steps, learningRate: 0.05)
        let after = withoutGrad { model.nll(trainingImages) }.data.reduce(0, +)
        XCTAssertLessThan(after, before - 1, "\(label): training did not lower the NLL (\(before) → \(after))")
    }

    func testFVSBN() throws {
        for ordering in PixelOrdering.allCases {
            let model = buildModel(try makeConfig(.fvsbn, 3, 3, ordering: ordering, seed: 1))
            assertNormalised(model, "FVSBN \(ordering) untrained")
            // Untrained FVSBN is uniform: every image has probability 2^-9.
            let nll = withoutGrad { model.nll(images) }.data
            for v in nll { XCTAssertEqual(v, 9 * Float(M_LN2), accuracy: 1e-5) }
            randomizeParameters(model, std: 1, seed: 2)
            assertNormalised(model, "FVSBN \(ordering) random weights")
            trainAndCheckProgress(model, "FVSBN \(ordering)")
            assertNormalised(model, "FVSBN \(ordering) trained")
        }
    }

    func testNADE() throws {
        for ordering in PixelOrdering.allCases {
            let model = buildModel(try makeConfig(.nade, 3, 3, hidden: [6], ordering: ordering, seed: 3))
            assertNormalised(model, "NADE \(ordering) untrained")
            trainAndCheckProgress(model, "NADE \(ordering)")
            assertNormalised(model, "NADE \(ordering) trained")
        }
    }

    func testMADEEachMaskAndEnsemble() throws {
        let configs = [
            try makeConfig(.made, 3, 3, hidden: [16], masks: 3, ordering: .natural, seed: 4),
            try makeConfig(.made, 3, 3, hidden: [16, 12], masks: 3, ordering: .random, seed: 5),
            try makeConfig(.made, 3, 3, hidden: [10], masks: 3, ordering: .random, direct: true, seed: 6),
            try makeConfig(.made, 3, 3, hidden: [8, 8], masks: 1, ordering: .natural, direct: true, seed: 7),
        ]
        for config in configs {
            let made = try! MADE(config: config)
            let label = "MADE hidden \(config.hidden) \(config.ordering) direct \(config.directConnections)"
            for stage in ["untrained", "trained"] {
                if stage == "trained" { trainAndCheckProgress(made, label) }
                for mask in 0..<config.masks {
                    made.applyMask(mask)
                    assertNormalised(made, "\(label) \(stage) mask \(mask)")
                }
                made.applyMask(0)
                let ensemble = made.ensembleNLL(images)
                XCTAssertEqual(ensemble.count, 512)
                XCTAssertEqual(totalProbability(nll: ensemble), 1, accuracy: 1e-4, "\(label) \(stage) ensemble")
                XCTAssertEqual(made.activeMask, 0, "ensembleNLL restores the active mask")
                if config.masks > 1 {
                    // The ensemble of the first two masks is a distribution too.
                    XCTAssertEqual(totalProbability(nll: made.ensembleNLL(images, count: 2)), 1, accuracy: 1e-4)
                    // And it is the mean of the per-mask likelihoods.
                    var perMask: [[Float]] = []
                    for mask in 0..<config.masks {
                        made.applyMask(mask)
                        perMask.append(withoutGrad { made.nll(images) }.data)
                    }
                    for n in stride(from: 0, to: 512, by: 37) {
                        let mean = perMask.reduce(0.0) { $0 + Foundation.exp(-Double($1[n])) } / Double(config.masks)
                        XCTAssertEqual(Double(ensemble[n]), -Foundation.log(mean), accuracy: 1e-4)
                    }
                    made.applyMask(0)
                }
            }
        }
    }

    /// The equal-weight mixture of unlike models (here FVSBN, NADE and a PixelCNN, each with
    /// random weights) is a distribution too, and its NLL is −log of the mean likelihood.
    func testMixtureOfDifferentModels() throws {
        let members = [buildModel(try makeConfig(.fvsbn, 3, 3, seed: 10)), buildModel(try makeConfig(.nade, 3, 3, hidden: [5], seed: 11)),
                       buildModel(try ModelConfig(kind: .pixelcnn, height: 3, width: 3, seed: 12, hiddenChannels: 4, layers: 1))]
        for (i, m) in members.enumerated() { randomizeParameters(m, std: 1, seed: 20 + UInt64(i)) }
        let perModel = members.map { m in withoutGrad { m.nll(images) }.data }
        for m in members { assertNormalised(m, "member \(m.config.kind)") }
        let mixture = mixtureNLL(perModel)
        XCTAssertEqual(mixture.count, 512)
        XCTAssertEqual(totalProbability(nll: mixture), 1, accuracy: 1e-4, "Σ over all 512 images of the mixture")
        XCTAssertEqual(totalProbability(nll: mixtureNLL(Array(perModel.prefix(2)))), 1, accuracy: 1e-4, "two members")
        for n in stride(from: 0, to: 512, by: 29) {
            let likelihoods: [Double] = perModel.map { Foundation.exp(-Double($0[n])) }
            let mean = likelihoods.reduce(0, +) / 3
            XCTAssertEqual(Double(mixture[n]), -Foundation.log(mean), accuracy: 1e-4, "image \(n)")
        }
    }

    func testCategoricalMADETwoPixels() throws {
        // Every 2-pixel 8-bit image: 65 536 of them, in chunks.
        let configs = [
            try makeConfig(.made, 1, 2, levels: 256, hidden: [8], ordering: .natural, seed: 8),
            try makeConfig(.made, 1, 2, levels: 256, hidden: [6, 5], masks: 2, ordering: .random, direct: true, seed: 9),
        ]
        func total(_ made: MADE) -> Double {
            var sum = 0.0
            let chunk = 16_384
            for start in stride(from: 0, to: 65_536, by: chunk) {
                var data = [Float](repeating: 0, count: chunk * 2)
                for k in 0..<chunk { data[2 * k] = Float((start + k) & 255); data[2 * k + 1] = Float((start + k) >> 8) }
                let nll = withoutGrad { made.nll(Tensor(shape: [chunk, 2], data: data)) }
                XCTAssertEqual(nll.shape, [chunk])
                sum += totalProbability(nll: nll.data)
            }
            return sum
        }
        for config in configs {
            let made = try! MADE(config: config)
            perturbParameters(made, std: 0.5, seed: 10)  // non-uniform, non-zero biases
            let label = "categorical MADE \(config.ordering) direct \(config.directConnections)"
            if config.masks == 1 {  // (each evaluation takes seconds in debug builds)
                XCTAssertEqual(total(made), 1, accuracy: 1e-4, "\(label) untrained")
            }
            let data = randomPixels(batch: 4, dimension: 2, levels: 256, seed: 11)
            let losses = train(made, on: data, steps: 5, learningRate: 0.02)
            XCTAssertLessThan(losses.last!, losses.first!)
            made.applyMask(0)
            XCTAssertEqual(total(made), 1, accuracy: 1e-4, "\(label) trained")
        }
    }
}
