import AutoregTensor
import AutoregTestSupport
import Foundation
import XCTest

/// `logisticMixtureConditionals`: the colour mixture split into three grey mixtures, one per
/// sub-pixel, must give the colour mixture's own conditional terms, the double-precision
/// reference's, joint probabilities that sum to 1 over every colour, and correct gradients.
final class LogisticMixtureConditionalsTests: XCTestCase {
    /// Random pixels: parameters and values (including the edge values 0 and 255).
    private func batch(_ mixture: LogisticMixture, pixels n: Int, seed: UInt64, means: ClosedRange<Float> = -1.5...1.5,
                       logScales: ClosedRange<Float> = -6...1) -> (params: [Float], values: [[Int]]) {
        var rng = RandomGenerator(seed: seed)
        var params = [Float]()
        var values = [[Int]]()
        for i in 0..<n {
            params += mixture.randomParameters(&rng, means: means, logScales: i % 5 == 0 ? -9...(-6) : logScales)
            values.append((0..<3).map { c in
                switch (i + c) % 7 {
                case 0: return 0
                case 1: return 255
                default: return rng.int(below: 256)
                }
            })
        }
        return (params, values)
    }

    /// The grey terms −log p(x_c | x_<c) of the split parameters, [N, 3].
    private func greyTerms(_ mixture: LogisticMixture, _ params: Tensor, _ values: [[Int]]) -> Tensor {
        let n = values.count, K = mixture.components
        let v = Tensor(shape: [n, 3], data: values.flatMap { $0.map(Float.init) })
        let split = params.logisticMixtureConditionals(values: v, mixture: mixture)
        let grey = LogisticMixture(components: K, channels: 1, coefficients: mixture.coefficients)
        return split.reshaped([n * 3, 3 * K])
            .logisticMixtureNLL(pixels: v.reshaped([n * 3]), mixture: grey, layout: .channelsLast)
    }

    func testSplitGivesTheColourMixturesConditionalTerms() throws {
        var worst = 0.0
        for (index, mixture) in [LogisticMixture(components: 1, channels: 3), LogisticMixture(components: 3, channels: 3),
                                 LogisticMixture(components: 5, channels: 3, coefficients: .identity)].enumerated() {
            let n = 64
            let (params, values) = batch(mixture, pixels: n, seed: UInt64(40 + index))
            let p = Tensor(shape: [n, mixture.parameterCount], data: params)
            let got = withoutGrad { greyTerms(mixture, p, values) }
            // The colour op's own per-channel terms (an independent C kernel) ...
            let colour = withoutGrad {
                p.logisticMixtureNLL(pixels: Tensor(shape: [n * 3], data: values.flatMap { $0.map(Float.init) }),
                                     mixture: mixture, layout: .channelsLast)
            }
            for i in 0..<n {
                let pixel = Array(params[(i * mixture.parameterCount)..<((i + 1) * mixture.parameterCount)])
                // ... and the double-precision reference's.
                let want = MixtureReference.terms(mixture, pixel, values: values[i])
                let scale = MixtureReference.magnitude(mixture, pixel, values: values[i])
                for c in 0..<3 {
                    let g = Double(got.data[3 * i + c]), k = Double(colour.data[3 * i + c])
                    XCTAssertEqual(g, k, accuracy: 2e-5 * max(1, abs(k), scale),
                                   "K=\(mixture.components) pixel \(i) values \(values[i]) channel \(c)")
                    // The reference's direct formula is reliable away from the far tails, where
                    // its bin differences underflow; the colour kernel (log space) covers those.
                    if want[c].isFinite && scale < 100 {
                        let error = abs(g - want[c]) / (1e-6 * scale + 1e-6 * abs(want[c]))
                        worst = max(worst, error)
                        XCTAssertLessThanOrEqual(error, 4, "against the reference: pixel \(i) channel \(c)")
                    }
                }
            }
        }
        print("mixture conditionals: worst error \(worst) × 1e-6 × (magnitude + |term|)")
    }

    /// Every conditional of the split is a distribution: Σ_r p(r) = 1, Σ_g p(g | r) = 1 and
    /// Σ_b p(b | r, g) = 1 over all 256 values, for r and g on a grid that includes 0 and 255
    /// (so, with the exact-decomposition test above, the joint sums to 1 over every colour).
    func testEveryConditionalOfTheSplitSumsToOne() throws {
        let mixture = LogisticMixture(components: 2, channels: 3)
        var rng = RandomGenerator(seed: 77)
        let pixel = mixture.randomParameters(&rng, means: -1.3...1.3, logScales: -3...(-1))
        let grey = LogisticMixture(components: 2, channels: 1), width = 3 * grey.components
        let grid = Array(stride(from: 0, through: 255, by: 15)) + [254, 255]
        let pairs = grid.flatMap { r in grid.map { g in [r, g, 0] } }
        let p = Tensor(shape: [pairs.count, mixture.parameterCount],
                       data: Array(repeating: pixel, count: pairs.count).flatMap { $0 })
        let v = Tensor(shape: [pairs.count, 3], data: pairs.flatMap { $0.map(Float.init) })
        let split = withoutGrad { p.logisticMixtureConditionals(values: v, mixture: mixture) }.data
        func total(channel c: Int, pair: Int) -> Double {
            let params = Array(split[((pair * 3 + c) * width)..<((pair * 3 + c + 1) * width)])
            return grey.flatTerms(params, at: (0..<256).map { [$0] }).reduce(0.0) { $0 + Foundation.exp(-Double($1)) }
        }
        XCTAssertEqual(total(channel: 0, pair: 0), 1, accuracy: 1e-4, "Σ_r p(r)")
        for (i, pair) in pairs.enumerated() {
            if pair[1] == 0 { XCTAssertEqual(total(channel: 1, pair: i), 1, accuracy: 1e-4, "Σ_g p(g | r=\(pair[0]))") }
            XCTAssertEqual(total(channel: 2, pair: i), 1, accuracy: 1e-4, "Σ_b p(b | r=\(pair[0]), g=\(pair[1]))")
        }
        // The split really conditions: p(g | r) differs between r = 0 and r = 255.
        XCTAssertNotEqual(Array(split[width..<(2 * width)]),
                          Array(split[((pairs.count - 1) * 3 + 1) * width..<((pairs.count - 1) * 3 + 2) * width]))
    }

    func testGradientsByFiniteDifferences() throws {
        for (index, mixture) in [LogisticMixture(components: 2, channels: 3),
                                 LogisticMixture(components: 3, channels: 3, coefficients: .identity)].enumerated() {
            let n = 6
            var (params, values) = batch(mixture, pixels: n, seed: UInt64(90 + index), means: -1...1, logScales: -3...0)
            // Keep log-scales clear of the −7 clamp (no gradient there; the step must not cross it).
            for i in 0..<n {
                for c in 0..<3 {
                    for k in 0..<mixture.components {
                        let j = i * mixture.parameterCount + mixture.logScaleIndex(channel: c, component: k)
                        params[j] = max(params[j], -3)
                    }
                }
                values[i] = values[i].map { min(max($0, 30), 225) }
            }
            let p = Tensor(shape: [n, mixture.parameterCount], data: params, requiresGrad: true)
            assertGradients(wrt: [p], eps: 3e-3, "conditionals K=\(mixture.components) \(mixture.coefficients)") {
                greyTerms(mixture, p, values)
            }
            // And the split parameters themselves (not only through the likelihood).
            let v = Tensor(shape: [n, 3], data: values.flatMap { $0.map(Float.init) })
            assertGradients(wrt: [p], eps: 3e-3, "split K=\(mixture.components)") {
                p.logisticMixtureConditionals(values: v, mixture: mixture)
            }
        }
    }

    func testShapes() throws {
        let mixture = LogisticMixture(components: 4, channels: 3)
        let p = Tensor(repeating: 0.1, shape: [5, 40])
        let out = p.logisticMixtureConditionals(values: Tensor(repeating: 7, shape: [5, 3]), mixture: mixture)
        XCTAssertEqual(out.shape, [5, 3, 12])
        // Channel R's set is the colour set's logits, R means and R log-scales, unchanged.
        var rng = RandomGenerator(seed: 3)
        let pixel = mixture.randomParameters(&rng)
        let split = Tensor(shape: [1, 40], data: pixel)
            .logisticMixtureConditionals(values: Tensor(shape: [1, 3], data: [10, 20, 30]), mixture: mixture).data
        let expected = (0..<4).map { pixel[mixture.logitIndex(component: $0)] }
            + (0..<4).map { pixel[mixture.meanIndex(channel: 0, component: $0)] }
            + (0..<4).map { pixel[mixture.logScaleIndex(channel: 0, component: $0)] }
        XCTAssertEqual(Array(split[0..<12]), expected)
        // G's log-scales are G's; its means moved by α·r.
        let r = LogisticMixture.scaled(10)
        for k in 0..<4 {
            XCTAssertEqual(split[12 + 8 + k], pixel[mixture.logScaleIndex(channel: 1, component: k)])
            let alpha = Foundation.tanh(pixel[mixture.coefficientIndex(.alpha, component: k)])
            XCTAssertEqual(split[12 + 4 + k], pixel[mixture.meanIndex(channel: 1, component: k)] + alpha * r, accuracy: 1e-6)
        }
    }
}
