import AutoregTestSupport
import AutoregModels
import AutoregNN
import AutoregTensor
import XCTest

final class ReproducibilityTests: XCTestCase {
    /// Builds a MADE from `seed`, trains it for a few Adam steps on seeded data, and returns
    /// the losses and every final weight.
    private func trainMADE(seed: UInt64) -> (losses: [Float], weights: [[Float]], orderings: [[Int]]) {
        let config = try! makeConfig(.made, 4, 4, hidden: [16, 12], masks: 2, ordering: .random, direct: true, seed: seed)
        let made = try! MADE(config: config)
        let orderings = (0..<2).map { k -> [Int] in made.applyMask(k); return made.ordering }
        made.applyMask(0)
        let data = randomPixels(batch: 8, dimension: 16, levels: 2, seed: 1234)
        let losses = train(made, on: data, steps: 6, learningRate: 0.01)
        return (losses, made.parameters.map(\.tensor.data), orderings)
    }

    func testSameSeedGivesBitIdenticalTraining() throws {
        let a = trainMADE(seed: 5), b = trainMADE(seed: 5)
        XCTAssertEqual(a.losses.map(\.bitPattern), b.losses.map(\.bitPattern))
        XCTAssertEqual(a.weights.count, b.weights.count)
        for (wa, wb) in zip(a.weights, b.weights) { XCTAssertEqual(wa.map(\.bitPattern), wb.map(\.bitPattern)) }
        XCTAssertEqual(a.orderings, b.orderings)
        XCTAssertLessThan(a.losses.last!, a.losses.first!, "training makes progress")
    }

    func testDifferentSeedGivesDifferentTraining() throws {
        let a = trainMADE(seed: 5), c = trainMADE(seed: 6)
        XCTAssertNotEqual(a.losses, c.losses)
        for (wa, wc) in zip(a.weights, c.weights) where wa.count > 16 { XCTAssertNotEqual(wa, wc) }
        XCTAssertNotEqual(a.orderings, c.orderings)
    }

    func testConstructionIsSeeded() throws {
        for kind in [ModelKind.fvsbn, .nade, .made] {  // the models with seeded orderings
            let config = try makeConfig(kind, 3, 3, hidden: kind == .fvsbn ? [] : [5], ordering: .random, seed: 21)
            let a = buildModel(config), b = buildModel(config)
            XCTAssertEqual(a.ordering, b.ordering, "\(kind)")
            XCTAssertEqual(a.parameters.map(\.tensor.data), b.parameters.map(\.tensor.data), "\(kind)")
            var other = config
            other.seed = 22
            let c = buildModel(other)
            XCTAssertNotEqual(a.ordering, c.ordering, "\(kind)")
            if kind != .fvsbn {  // FVSBN starts at zero weights whatever the seed
                XCTAssertNotEqual(a.parameters.map(\.tensor.data), c.parameters.map(\.tensor.data), "\(kind)")
            }
        }
    }

    func testMADEWeightsDoNotDependOnMaskCount() throws {
        let one = buildModel(try makeConfig(.made, 3, 3, hidden: [6], masks: 1, seed: 30))
        let four = buildModel(try makeConfig(.made, 3, 3, hidden: [6], masks: 4, seed: 30))
        XCTAssertEqual(one.parameters.map(\.tensor.data), four.parameters.map(\.tensor.data))
        XCTAssertEqual(one.ordering, four.ordering)
    }

    func testSamplingIsSeededAndConsistentWithLogits() throws {
        for config in [try makeConfig(.nade, 3, 3, hidden: [5], ordering: .random, seed: 40),
                       try makeConfig(.fvsbn, 3, 3, ordering: .random, seed: 41),
                       try makeConfig(.made, 3, 3, hidden: [8], ordering: .random, seed: 42)] {
            let model = buildModel(config)
            perturbParameters(model, std: 0.5, seed: 43)
            var r1 = RandomGenerator(seed: 44), r2 = RandomGenerator(seed: 44)
            let s1 = model.sample(count: 6, rng: &r1), s2 = model.sample(count: 6, rng: &r2)
            XCTAssertEqual(s1.pixels, s2.pixels, "\(config.kind)")
            XCTAssertTrue(s1.pixels.allSatisfy { $0 == 0 || $0 == 1 })
            // The probability recorded for each pixel is the model's conditional for it.
            let logits = withoutGrad { model.logits(Tensor(shape: [6, 9], data: s1.pixels)) }.data
            for k in 0..<logits.count {
                XCTAssertEqual(s1.probabilities[k], 1 / (1 + Foundation.exp(-logits[k])), accuracy: 1e-5,
                               "\(config.kind) element \(k)")
            }
        }
    }

    func testSamplingKeepsObservedPixels() throws {
        // Inpainting: observed pixels keep their given values, the others are drawn.
        let model = buildModel(try makeConfig(.made, 3, 3, hidden: [8], ordering: .random, seed: 60))
        perturbParameters(model, std: 0.5, seed: 61)
        let observed = (0..<9).map { $0 % 2 == 0 }
        let fixed = (0..<27).map { Float(($0 / 2) % 2) }
        var rng = RandomGenerator(seed: 62)
        let s = model.sampleByRerunning(count: 3, rng: &rng, fixed: fixed, observed: observed)
        for n in 0..<3 {
            for i in 0..<9 where observed[i] { XCTAssertEqual(s.pixels[n * 9 + i], fixed[n * 9 + i]) }
        }
        XCTAssertTrue(s.pixels.allSatisfy { $0 == 0 || $0 == 1 })
        let logits = withoutGrad { model.logits(Tensor(shape: [3, 9], data: s.pixels)) }.data
        for n in 0..<3 {
            for i in 0..<9 where !observed[i] {
                let k = n * 9 + i
                XCTAssertEqual(s.probabilities[k], 1 / (1 + Foundation.exp(-logits[k])), accuracy: 1e-5)
            }
        }
    }

    func testMADEMaskCycling() throws {
        let made = try! MADE(config: try makeConfig(.made, 2, 2, hidden: [4], masks: 3, ordering: .random, seed: 63))
        XCTAssertEqual(made.activeMask, 0)
        var seen: [Int] = []
        for _ in 0..<6 { made.nextMask(); seen.append(made.activeMask) }
        XCTAssertEqual(seen, [1, 2, 0, 1, 2, 0])
        made.applyMask(2)
        let ordering2 = made.ordering
        made.applyMask(0)
        made.applyMask(2)
        XCTAssertEqual(made.ordering, ordering2, "a mask set's ordering is fixed")
    }

    func testCategoricalSamplingIsSeededAndConsistentWithLogits() throws {
        let model = buildModel(try makeConfig(.made, 1, 3, levels: 256, hidden: [6], ordering: .random, direct: true, seed: 50))
        perturbParameters(model, std: 0.5, seed: 51)
        var r1 = RandomGenerator(seed: 52), r2 = RandomGenerator(seed: 52)
        let s1 = model.sample(count: 4, rng: &r1), s2 = model.sample(count: 4, rng: &r2)
        XCTAssertEqual(s1.pixels, s2.pixels)
        XCTAssertTrue(s1.pixels.allSatisfy { $0 >= 0 && $0 <= 255 && $0 == $0.rounded() })
        // Each recorded probability is E[x_i | x_<i] / 255 under the model's conditional.
        let logits = withoutGrad { model.logits(Tensor(shape: [4, 3], data: s1.pixels)) }.data
        for k in 0..<12 {
            let row = (0..<256).map { Double(logits[k * 256 + $0]) }
            let m = row.max()!
            let w = row.map { Foundation.exp($0 - m) }
            let mean = zip(0..<256, w).reduce(0.0) { $0 + Double($1.0) * $1.1 } / w.reduce(0, +)
            XCTAssertEqual(Double(s1.probabilities[k]), mean / 255, accuracy: 1e-4, "element \(k)")
        }
    }
}

import Foundation
