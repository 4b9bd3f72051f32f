import AutoregData
import AutoregModels
import AutoregNN
import AutoregTensor
import AutoregTraining
import Foundation
import XCTest

final class EvaluatorTests: XCTestCase {
    let data = prototypeDataset(count: 37, noise: 0.2, seed: 4)

    func testBitsPerDimensionAndMean() throws {
        for cfg in [try config(.fvsbn), try config(.nade), try config(.made, hidden: [10], masks: 3)] {
            let model = try makeModel(cfg)
            perturb(model, seed: 2)
            let masks = cfg.kind == .made ? 3 : nil
            let per = try Evaluator.perImageNLL(model, data, batchSize: 10, masks: masks)
            XCTAssertEqual(per.count, data.count)
            XCTAssertTrue(per.allSatisfy { $0.isFinite && $0 > 0 }, "\(cfg.kind)")
            let r = try Evaluator.evaluate(model, data, batchSize: 10, masks: masks)
            XCTAssertEqual(r.images, data.count)
            let mean = per.reduce(0.0) { $0 + Double($1) } / Double(per.count)
            XCTAssertEqual(r.natsPerImage, mean, accuracy: 1e-12 * mean, "\(cfg.kind): mean of per-image NLL")
            XCTAssertEqual(r.bitsPerDimension, r.natsPerImage / (Double(data.dimension) * M_LN2),
                           accuracy: 1e-12, "\(cfg.kind): bits per dimension")
            XCTAssertGreaterThanOrEqual(r.seconds, 0)
        }
    }

    /// An untrained FVSBN is uniform: exactly D ln 2 nats, 1 bit per dimension.
    func testUniformModelScoresOneBitPerDimension() throws {
        let r = try Evaluator.evaluate(try makeModel(try config(.fvsbn)), data)
        XCTAssertEqual(r.natsPerImage, Double(data.dimension) * M_LN2, accuracy: 1e-4)
        XCTAssertEqual(r.bitsPerDimension, 1, accuracy: 1e-6)
    }

    /// The per-image NLL is the model's own nll, whatever the batch size.
    func testBatchSizeDoesNotMatter() throws {
        let model = try makeModel(try config(.nade, hidden: [9]))
        perturb(model, seed: 3)
        let direct = withoutGrad { model.nll(tensor(of: data)) }.data
        for b in [1, 5, 36, 37, 500] {
            let per = try Evaluator.perImageNLL(model, data, batchSize: b)
            XCTAssertEqual(per.count, direct.count)
            for (x, y) in zip(per, direct) { XCTAssertEqual(x, y, accuracy: 1e-5 * max(1, abs(y)), "batch size \(b)") }
        }
    }

    func testCategoricalModel() throws {
        let eight = eightBitDataset(count: 12, height: 2, width: 3, seed: 8)
        let model = try makeModel(try config(.made, height: 2, width: 3, levels: 256, hidden: [8], masks: 2))
        let r = try Evaluator.evaluate(model, eight, masks: 2)
        XCTAssertEqual(r.bitsPerDimension, r.natsPerImage / (6 * M_LN2), accuracy: 1e-12)
        XCTAssertTrue(r.natsPerImage.isFinite)
        // Near-uniform at initialisation: about 8 bits per dimension.
        XCTAssertEqual(r.bitsPerDimension, 8, accuracy: 1)
    }

    /// −log of the mean likelihood: unchanged by identical members, between the best member
    /// and the best member + log K, and finite where exp(−nll) underflows.
    func testMixtureNLLProperties() throws {
        let a: [Float] = [3, 50, 700, 2_000, .infinity], b: [Float] = [5, 48, 701, 2_500, 9]
        XCTAssertEqual(mixtureNLL([a]), a)
        for (x, y) in zip(mixtureNLL([b, b, b]), b) { XCTAssertEqual(x, y, accuracy: 1e-3) }
        let mix = mixtureNLL([a, b])
        for n in 0..<a.count {
            let best = Double(min(a[n], b[n]))
            XCTAssertTrue(mix[n].isFinite, "image \(n): \(mix[n])")
            XCTAssertLessThanOrEqual(Double(mix[n]), best + M_LN2 + 1e-3, "image \(n)")
            XCTAssertGreaterThanOrEqual(Double(mix[n]), best - 1e-3, "image \(n)")
        }
        XCTAssertEqual(Double(mix[0]), -Foundation.log((Foundation.exp(-3.0) + Foundation.exp(-5.0)) / 2), accuracy: 1e-5)
        XCTAssertEqual(Double(mix[2]), 700 + M_LN2 - Foundation.log(1 + Foundation.exp(-1.0)), accuracy: 1e-3)
        XCTAssertEqual(Double(mix[3]), 2_000 + M_LN2, accuracy: 1e-3, "the worse member adds nothing")
        XCTAssertEqual(Double(mix[4]), 9 + M_LN2, accuracy: 1e-4, "a member that rules the image out")
        XCTAssertEqual(mixtureNLL([[Float.infinity], [Float.infinity]]), [Float.infinity])
    }

    /// evaluateMixture reports each member as `evaluate` would, and the mixture's mean NLL.
    func testEvaluateMixture() throws {
        let models = [try makeModel(try config(.fvsbn)), try makeModel(try config(.nade, hidden: [7])),
                      try makeModel(try config(.made, hidden: [10], masks: 3))]
        for (i, m) in models.enumerated() { perturb(m, seed: 30 + UInt64(i)) }
        let (mixture, members) = try Evaluator.evaluateMixture(models, data, batchSize: 8, masks: 2)
        XCTAssertEqual(members.count, 3)
        let alone = [try Evaluator.evaluate(models[0], data), try Evaluator.evaluate(models[1], data),
                     try Evaluator.evaluate(models[2], data, masks: 2)]
        for (m, r) in zip(members, alone) { XCTAssertEqual(m.natsPerImage, r.natsPerImage, accuracy: 1e-4) }
        let per = mixtureNLL([try Evaluator.perImageNLL(models[0], data), try Evaluator.perImageNLL(models[1], data),
                              try Evaluator.perImageNLL(models[2], data, masks: 2)])
        XCTAssertEqual(mixture.natsPerImage, per.reduce(0.0) { $0 + Double($1) } / Double(per.count), accuracy: 1e-4)
        XCTAssertEqual(mixture.images, data.count)
        XCTAssertLessThanOrEqual(mixture.natsPerImage, members.map(\.natsPerImage).reduce(0, +) / 3 + 1e-6,
                                 "Jensen: never worse than the members' mean")
        // MADE without `masks` averages all its masks.
        let all = try Evaluator.evaluateMixture([models[2]], data).mixture
        XCTAssertEqual(all.natsPerImage, try Evaluator.evaluate(models[2], data, masks: 3).natsPerImage, accuracy: 1e-4)
    }

    func makeMADE(masks: Int = 4, activeMask: Int = 0) throws -> MADE {
        let made = try XCTUnwrap(try makeModel(try config(.made, hidden: [16, 12], masks: masks, ordering: .random, seed: 5)) as? MADE)
        perturb(made, std: 0.5, seed: 9)
        made.applyMask(activeMask)
        return made
    }

    func singleMaskNLL(_ made: MADE, _ mask: Int) -> [Float] {
        let saved = made.activeMask
        defer { made.applyMask(saved) }
        made.applyMask(mask)
        return withoutGrad { made.nll(tensor(of: data)) }.data
    }

    func testEnsembleOfOneIsMaskZero() throws {
        let made = try makeMADE()
        let mask0 = singleMaskNLL(made, 0)
        XCTAssertEqual(made.ensembleNLL(tensor(of: data), count: 1), mask0)
        XCTAssertEqual(try Evaluator.perImageNLL(made, data, masks: 1), mask0)
        // The masks really differ, so the comparison above means something.
        XCTAssertNotEqual(singleMaskNLL(made, 1), mask0)
    }

    /// Evaluating with one mask must not depend on which mask training happened to stop on.
    func testEvaluatorWithOneMaskIgnoresTheActiveMask() throws {
        let made = try makeMADE(activeMask: 2)
        let mask0 = singleMaskNLL(made, 0)
        XCTAssertEqual(made.ensembleNLL(tensor(of: data), count: 1), mask0)
        XCTAssertEqual(try Evaluator.perImageNLL(made, data, masks: 1), mask0,
                       "masks: 1 means the first mask, as ensembleNLL(count: 1) does")
        XCTAssertEqual(made.activeMask, 2, "evaluation restores the active mask")
    }

    /// −log((1/k) Σ p_k) ≤ (1/k) Σ −log p_k for every image (Jensen), and the ensemble is
    /// the log-mean-exp of the single-mask likelihoods.
    func testEnsembleObeysJensen() throws {
        let made = try makeMADE(masks: 4, activeMask: 3)
        let singles = (0..<4).map { singleMaskNLL(made, $0) }
        // (k = 1 is covered by the two tests above.)
        for k in 2...4 {
            let ensemble = try Evaluator.perImageNLL(made, data, batchSize: 8, masks: k)
            XCTAssertEqual(made.activeMask, 3)
            var jensen: [Int] = [], floor: [Int] = [], formula: [String] = []
            for n in 0..<data.count {
                let parts = (0..<k).map { Double(singles[$0][n]) }
                let meanNLL = parts.reduce(0, +) / Double(k)
                let e = Double(ensemble[n])
                if e > meanNLL + 1e-5 * meanNLL { jensen.append(n) }
                if e < parts.min()! - 1e-5 * meanNLL { floor.append(n) }
                let exact = -log(parts.map { exp(-$0) }.reduce(0, +) / Double(k))
                if abs(e - exact) > 1e-5 * meanNLL { formula.append("image \(n): \(e) vs \(exact)") }
            }
            XCTAssertEqual(jensen, [], "k \(k): ensemble NLL above the mean single-mask NLL (Jensen) on these images")
            XCTAssertEqual(floor, [], "k \(k): ensemble NLL below the best single mask on these images")
            XCTAssertEqual(formula, [], "k \(k): ensemble NLL is −log of the mean likelihood")
        }
        let all = try Evaluator.evaluate(made, data, masks: 4).natsPerImage
        let meanOfSingles = singles.map { s in s.reduce(0.0) { $0 + Double($1) } / Double(s.count) }.reduce(0, +) / 4
        XCTAssertLessThan(all, meanOfSingles)
        XCTAssertEqual(try Evaluator.perImageNLL(made, data, masks: 99), try Evaluator.perImageNLL(made, data, masks: 4),
                       "asking for more masks than the model has uses all of them")
    }

    /// A proper distribution: over all 2^D images of a tiny model the ensemble probabilities sum to 1.
    func testEnsembleIsNormalized() throws {
        let made = try XCTUnwrap(try makeModel(try config(.made, height: 2, width: 3, hidden: [8], masks: 3, ordering: .random)) as? MADE)
        perturb(made, std: 0.7, seed: 1)
        let d = 6, n = 1 << d
        var pixels = [UInt8](repeating: 0, count: n * d)
        for k in 0..<n { for i in 0..<d where (k >> i) & 1 == 1 { pixels[k * d + i] = 1 } }
        let all = ImageDataset(name: "all", pixels: pixels, count: n, height: 2, width: 3, levels: 2)
        for k in 1...3 {
            let total = try Evaluator.perImageNLL(made, all, masks: k).reduce(0.0) { $0 + exp(-Double($1)) }
            XCTAssertEqual(total, 1, accuracy: 1e-4, "ensemble of \(k)")
        }
    }
}
