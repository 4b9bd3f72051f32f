import AutoregTensor
import Foundation
import XCTest

/// Drawing pixels from a `LogisticMixture`: frequencies against the probabilities the op
/// gives (seeded, chi-square), the random numbers taken, temperature, extremes, and the
/// conditional means.
final class LogisticMixtureSamplingTests: XCTestCase {
    private let grey3 = LogisticMixture(components: 3, channels: 1)
    private let colour3 = LogisticMixture(components: 3, channels: 3)

    /// Pearson's χ² of `counts` against `probabilities`, bins expected fewer than 5 times
    /// pooled into one; fails if it exceeds df + 6·√(2·df) (about 1e-7 by chance: the
    /// streams are seeded, so a pass is stable).
    private func assertFrequencies(_ counts: [Int], _ probabilities: [Double], _ what: String,
                                   file: StaticString = #filePath, line: UInt = #line) {
        let n = Double(counts.reduce(0, +))
        XCTAssertEqual(probabilities.reduce(0, +), 1, accuracy: 1e-5, "\(what): probabilities", file: file, line: line)
        var chi2 = 0.0, bins = 0, pooledCount = 0.0, pooledExpected = 0.0
        for (count, p) in zip(counts, probabilities) {
            let expected = n * p
            if expected < 5 {
                pooledCount += Double(count)
                pooledExpected += expected
                continue
            }
            chi2 += (Double(count) - expected) * (Double(count) - expected) / expected
            bins += 1
        }
        if pooledExpected > 0 {
            chi2 += (pooledCount - pooledExpected) * (pooledCount - pooledExpected) / max(pooledExpected, 1)
            bins += 1
        }
        let df = Double(max(bins - 1, 1))
        XCTAssertLessThan(chi2, df + 6 * (2 * df).squareRoot(), "\(what): χ² over \(bins) bins", file: file, line: line)
    }

    private func draw(_ mixture: LogisticMixture, _ params: [Float], count: Int, seed: UInt64,
                      temperature: Float = 1) -> [[Int]] {
        var rng = RandomGenerator(seed: seed)
        return (0..<count).map { _ in mixture.sample(params, temperature: temperature, rng: &rng) }
    }

    /// Parameters of the distribution `sample` draws from at temperature T: logits / T and
    /// log-scales max(s, −7) + log T.
    private func tempered(_ mixture: LogisticMixture, _ params: [Float], _ t: Float) -> [Float] {
        var p = params
        for k in 0..<mixture.components {
            p[mixture.logitIndex(component: k)] /= t
            for c in 0..<mixture.channels {
                let i = mixture.logScaleIndex(channel: c, component: k)
                p[i] = max(p[i], LogisticMixture.minLogScale) + Foundation.log(t)
            }
        }
        return p
    }

    func testConsumesOneUniformPerChannelPlusOne() throws {
        var rng = RandomGenerator(seed: 1)
        for mixture in [LogisticMixture(components: 1, channels: 1), grey3, colour3, LogisticMixture(components: 9, channels: 3)] {
            XCTAssertEqual(mixture.uniformsPerSample, 1 + mixture.channels)
            for (means, logScales): (ClosedRange<Float>, ClosedRange<Float>) in
                [(-1...1, -4...0), (-1e4...1e4, -30...(-7)), (-2...2, 50...100)] {
                let params = mixture.randomParameters(&rng, means: means, logScales: logScales)
                for t: Float in [1, 0.01, 30] {
                    var a = RandomGenerator(seed: 99), b = a
                    let v = mixture.sample(params, temperature: t, rng: &a)
                    XCTAssertEqual(v.count, mixture.channels)
                    XCTAssertTrue(v.allSatisfy { (0...255).contains($0) }, "\(v)")
                    for _ in 0..<mixture.uniformsPerSample { _ = b.uniform() }
                    XCTAssertEqual(a.next(), b.next(), "K=\(mixture.components) C=\(mixture.channels) T=\(t)")
                }
            }
        }
    }

    func testGreyFrequenciesMatchProbabilities() throws {
        var rng = RandomGenerator(seed: 2)
        for trial in 0..<3 {
            // Means near the edges in one trial, so that bins 0 and 255 carry mass.
            let params = grey3.randomParameters(&rng, means: trial == 1 ? -1.1...(-0.7) : -1...1, logScales: -4...(-1.5))
            let p = grey3.terms(params, at: (0..<256).map { [$0] }).map { Foundation.exp(-Double($0[0])) }
            var counts = [Int](repeating: 0, count: 256)
            for v in draw(grey3, params, count: 100_000, seed: UInt64(10 + trial)) { counts[v[0]] += 1 }
            assertFrequencies(counts, p, "grey trial \(trial)")
        }
    }

    func testTemperatureScalesLogitsAndScales() throws {
        var rng = RandomGenerator(seed: 3)
        let params = grey3.randomParameters(&rng, means: -0.8...0.8, logScales: -3...(-1.5))
        for t: Float in [0.5, 2] {
            let p = grey3.terms(tempered(grey3, params, t), at: (0..<256).map { [$0] }).map { Foundation.exp(-Double($0[0])) }
            var counts = [Int](repeating: 0, count: 256)
            for v in draw(grey3, params, count: 100_000, seed: 20, temperature: t) { counts[v[0]] += 1 }
            assertFrequencies(counts, p, "temperature \(t)")
        }
    }

    /// Colour with strongly coupled means: the red and green marginals at full resolution
    /// against the op's probabilities (p(g) = Σ_r p(r) p(g | r) from the op's terms), and the
    /// joint on 8×8×8 cells of 32 levels against a per-component sum in Double.
    func testColourFrequenciesMatchProbabilities() throws {
        var rng = RandomGenerator(seed: 4)
        var params = colour3.randomParameters(&rng, means: -0.6...0.6, logScales: -3...(-1.5))
        for k in 0..<3 {
            for j in LogisticMixture.Coefficient.allCases {
                params[colour3.coefficientIndex(j, component: k)] = rng.uniform() < 0.5 ? -1.5 : 1.5
            }
        }
        let samples = draw(colour3, params, count: 150_000, seed: 30)

        let t = colour3.flatTerms(params, at: (0..<65536).map { [$0 >> 8, $0 & 255, 0] })
        var pr = [Double](repeating: 0, count: 256), pg = pr
        for r in 0..<256 {
            pr[r] = Foundation.exp(-Double(t[3 * (r << 8)]))
            for g in 0..<256 { pg[g] += Foundation.exp(-(Double(t[3 * (r << 8 | g)]) + Double(t[3 * (r << 8 | g) + 1]))) }
        }
        var cr = [Int](repeating: 0, count: 256), cg = cr
        for s in samples {
            cr[s[0]] += 1
            cg[s[1]] += 1
        }
        assertFrequencies(cr, pr, "red marginal")
        assertFrequencies(cg, pg, "green marginal")

        // P(cell) = Σ_k π_k Σ_{r ∈ R} p(r | k) Σ_{g ∈ G} p(g | r, k) P(b ∈ B | r, g, k).
        func cdf(_ edge: Int, _ m: Double, _ s: Double) -> Double {  // P(x < bin `edge`'s lower edge)
            edge <= 0 ? 0 : (edge >= 256 ? 1 : MixtureReference.sigmoid((Double(2 * edge - 256) / 255 - m) / s))
        }
        let logits = (0..<3).map { Double(params[$0]) }
        let norm = MixtureReference.logSumExp(logits)
        var cells = [Double](repeating: 0, count: 512)
        for k in 0..<3 {
            let pi = Foundation.exp(logits[k] - norm)
            let s = (0..<3).map { MixtureReference.scale(colour3, params, channel: $0, component: k) }
            for r in 0..<256 {
                let prk = MixtureReference.binProbability(
                    r, mean: MixtureReference.mean(colour3, params, channel: 0, component: k, values: [r]), scale: s[0])
                let mg = MixtureReference.mean(colour3, params, channel: 1, component: k, values: [r])
                for g in 0..<256 {
                    let pgk = MixtureReference.binProbability(g, mean: mg, scale: s[1])
                    let mb = MixtureReference.mean(colour3, params, channel: 2, component: k, values: [r, g])
                    let w = pi * prk * pgk
                    for cb in 0..<8 {
                        cells[(r / 32) * 64 + (g / 32) * 8 + cb] += w * (cdf(32 * (cb + 1), mb, s[2]) - cdf(32 * cb, mb, s[2]))
                    }
                }
            }
        }
        var counts = [Int](repeating: 0, count: 512)
        for s in samples { counts[(s[0] / 32) * 64 + (s[1] / 32) * 8 + s[2] / 32] += 1 }
        assertFrequencies(counts, cells, "joint on 8×8×8 cells")
    }

    func testExtremeParameters() throws {
        let one = LogisticMixture(components: 1, channels: 1)
        // Means far outside: always the near edge.
        XCTAssertEqual(Set(draw(one, [0, 40, -2], count: 500, seed: 5).map { $0[0] }), [255])
        XCTAssertEqual(Set(draw(one, [0, -1e4, -7], count: 500, seed: 5).map { $0[0] }), [0])
        // A huge scale: half the draws in each edge bin.
        let wide = draw(one, [0, 0.2, 90], count: 4000, seed: 6).map { $0[0] }
        XCTAssertEqual(Set(wide), [0, 255])
        XCTAssertEqual(Double(wide.filter { $0 == 0 }.count) / 4000, 0.5, accuracy: 0.04)
        // A log-scale below the clamp draws as at −7: P(own bin) = σ(e^7/255) − σ(−e^7/255) ≈ 0.974.
        let sharp = draw(one, [0, LogisticMixture.scaled(100), -50], count: 20_000, seed: 7).map { $0[0] }
        let z = Foundation.exp(7.0) / 255
        XCTAssertEqual(Double(sharp.filter { $0 == 100 }.count) / 20_000,
                       MixtureReference.sigmoid(z) - MixtureReference.sigmoid(-z), accuracy: 0.005)
        XCTAssertTrue(sharp.allSatisfy { (99...101).contains($0) })
        // A certain component: the others are never drawn.
        let two = LogisticMixture(components: 2, channels: 1)
        XCTAssertEqual(Set(draw(two, [200, -200, -0.9, 0.9, -7, -7], count: 500, seed: 8).map { $0[0] }.map { $0 < 128 }), [true])
    }

    func testStridedParametersDrawTheSame() throws {
        // One pixel of a [1, P, H, W] head: parameter p every H·W floats.
        var rng = RandomGenerator(seed: 9)
        let hw = 6, pixel = 4, P = colour3.parameterCount
        let head = (0..<(P * hw)).map { _ in rng.normal() }
        let gathered = (0..<P).map { head[$0 * hw + pixel] }
        var a = RandomGenerator(seed: 10), b = a
        for _ in 0..<50 {
            let strided = head.withUnsafeBufferPointer { colour3.sample($0.baseAddress! + pixel, stride: hw, rng: &a) }
            XCTAssertEqual(strided, colour3.sample(gathered, rng: &b))
        }
        let means = head.withUnsafeBufferPointer {
            colour3.conditionalMeans($0.baseAddress! + pixel, stride: hw, values: [10, 20, 30])
        }
        XCTAssertEqual(means, colour3.conditionalMeans(gathered, values: [10, 20, 30]))
    }

    /// E[r], E[g | r], E[b | r, g] against Σ v · p(v | earlier) from the op's terms, at T = 1
    /// and, with the tempered parameters, at T = 0.7.
    func testConditionalMeansMatchTheOp() throws {
        var rng = RandomGenerator(seed: 11)
        for mixture in [grey3, colour3, LogisticMixture(components: 2, channels: 3, coefficients: .identity)] {
            for trial in 0..<4 {
                // (Sharp scales stay above −7 − log 0.7, where the op clamps the tempered ones.)
                let params = mixture.randomParameters(&rng, means: trial == 3 ? -3...3 : -1...1,
                                                      logScales: trial == 2 ? -6.6...(-5) : -4...1)
                let pixel = (0..<mixture.channels).map { _ in rng.int(below: 256) }
                for t: Float in [1, 0.7] {
                    let got = mixture.conditionalMeans(params, values: pixel, temperature: t)
                    let op = tempered(mixture, params, t)
                    for c in 0..<mixture.channels {
                        let rows = (0..<256).map { v -> [Int] in var x = pixel; x[c] = v; return x }
                        let terms = mixture.terms(op, at: rows)
                        let want = (0..<256).reduce(0.0) { $0 + Double($1) * Foundation.exp(-Double(terms[$1][c])) }
                        XCTAssertEqual(Double(got[c]), want, accuracy: 2e-3,
                                       "K=\(mixture.components) C=\(mixture.channels) trial \(trial) T=\(t) channel \(c) given \(pixel)")
                    }
                }
            }
        }
    }
}
