import AutoregTensor
import AutoregTestSupport
import CKernels
import Foundation
import XCTest

/// The discretised logistic mixture likelihood (`logisticMixtureNLL`): values against a
/// double-precision reference, normalisation over every value, gradients by finite
/// differences, both layouts.
final class LogisticMixtureTests: XCTestCase {
    private let grey3 = LogisticMixture(components: 3, channels: 1)
    private let colour3 = LogisticMixture(components: 3, channels: 3)

    // MARK: Layout

    func testParameterLayout() throws {
        let m = LogisticMixture(components: 5, channels: 3)
        XCTAssertEqual(m.parameterCount, 50)  // 10K, as PixelCNN++ with K = 5... or 100 for K = 10
        XCTAssertEqual(LogisticMixture(components: 10, channels: 3).parameterCount, 100)
        XCTAssertEqual(LogisticMixture(components: 5, channels: 1).parameterCount, 15)
        XCTAssertEqual(m.logitIndex(component: 4), 4)
        XCTAssertEqual(m.meanIndex(channel: 0, component: 0), 5)
        XCTAssertEqual(m.meanIndex(channel: 2, component: 4), 19)
        XCTAssertEqual(m.logScaleIndex(channel: 0, component: 0), 20)
        XCTAssertEqual(m.logScaleIndex(channel: 2, component: 4), 34)
        XCTAssertEqual(m.coefficientIndex(.alpha, component: 0), 35)
        XCTAssertEqual(m.coefficientIndex(.gamma, component: 4), 49)
        // Every index once.
        var all = (0..<5).map { m.logitIndex(component: $0) }
        for k in 0..<5 {
            for c in 0..<3 { all += [m.meanIndex(channel: c, component: k), m.logScaleIndex(channel: c, component: k)] }
            for j in LogisticMixture.Coefficient.allCases { all.append(m.coefficientIndex(j, component: k)) }
        }
        XCTAssertEqual(all.sorted(), Array(0..<50))
    }

    // MARK: Values

    /// Random parameters (means outside [−1, 1], log-scales on both sides of the −7 clamp,
    /// both coefficient modes) and values including 0 and 255, against `MixtureReference`.
    func testForwardMatchesDoublePrecisionReference() throws {
        var rng = RandomGenerator(seed: 0xD1A)
        var worst = 0.0, checked = 0
        for mixture in [LogisticMixture(components: 1, channels: 1), grey3, LogisticMixture(components: 1, channels: 3),
                        colour3, LogisticMixture(components: 5, channels: 3, coefficients: .identity)] {
            for trial in 0..<60 {
                let params = mixture.randomParameters(&rng, means: -3...3, logScales: trial % 3 == 0 ? -9...(-5) : -5...4)
                let values = (0..<mixture.channels).map { c -> Int in
                    switch (trial + c) % 5 {
                    case 0: return 0
                    case 1: return 255
                    default: return rng.int(below: 256)
                    }
                }
                let want = MixtureReference.terms(mixture, params, values: values)
                guard want.allSatisfy(\.isFinite) else { continue }  // the direct formula underflowed
                let got = mixture.terms(params, at: [values])[0]
                let scale = MixtureReference.magnitude(mixture, params, values: values)
                for c in 0..<mixture.channels {
                    let error = abs(Double(got[c]) - want[c]) / (1e-6 * scale + 1e-6 * abs(want[c]))
                    worst = max(worst, error)
                    checked += 1
                    XCTAssertLessThanOrEqual(error, 1, "K=\(mixture.components) C=\(mixture.channels) trial \(trial) "
                                             + "channel \(c) values \(values): got \(got[c]), want \(want[c])")
                }
            }
        }
        XCTAssertGreaterThan(checked, 400)
        print("logistic mixture forward: worst error \(worst) × 1e-6 × (magnitude + |term|) over \(checked) terms")
    }

    /// A pixel's terms add up to −log p(pixel), and the grey case with one component is one
    /// bin of one logistic: checked against closed forms.
    func testClosedFormsAndExtremeScales() throws {
        let one = LogisticMixture(components: 1, channels: 1)
        // Mean on a bin centre at the clamp: P = σ(e^7/255) − σ(−e^7/255), for any log-scale below −7.
        for s: Float in [-7, -8, -30] {
            let t = one.terms([5, LogisticMixture.scaled(100), s], at: [[100]])[0][0]
            let z = Foundation.exp(7.0) / 255
            XCTAssertEqual(Double(t), -Foundation.log(MixtureReference.sigmoid(z) - MixtureReference.sigmoid(-z)),
                           accuracy: 1e-6, "log-scale \(s)")
        }
        // Huge scales: the edge bins take half the mass each, a middle bin has
        // (2/255) · pdf(0) = (2/255) / (4σ); no underflow to 0 even where e^−s is below floats.
        for s: Float in [20, 60, 95, 110] {
            let t = one.terms([0, 0.3, s], at: [[0], [255], [128], [1]]).map { Double($0[0]) }
            XCTAssertEqual(t[0], Foundation.log(2), accuracy: 1e-6, "bin 0 at log-scale \(s)")
            XCTAssertEqual(t[1], Foundation.log(2), accuracy: 1e-6, "bin 255 at log-scale \(s)")
            let middle = -(Foundation.log(2.0 / 255 / 4) - Double(s))
            XCTAssertEqual(t[2], middle, accuracy: 1e-5 * middle, "bin 128 at log-scale \(s)")
            XCTAssertEqual(t[3], middle, accuracy: 1e-5 * middle, "bin 1 at log-scale \(s)")
        }
        // Means far outside: the near edge bin is certain, the far one costs (distance)/σ.
        for (mean, certain, far) in [(Float(50), 255, 0), (-50, 0, 255)] {
            let t = one.terms([0, mean, -2], at: [[certain], [far], [128]]).map { Double($0[0]) }
            XCTAssertEqual(t[0], 0, accuracy: 1e-6)
            let distance = abs(Double(mean)) + 1 - 1.0 / 255  // from the far bin's inner edge
            XCTAssertEqual(t[1], distance * Foundation.exp(2.0), accuracy: 1e-5 * distance * Foundation.exp(2.0))
            XCTAssertTrue(t[2].isFinite && t[2] > 300, "a middle bin far from the mean: \(t[2])")
        }
        // Terms add up to −log p: the colour terms' sum equals a direct mixture of the joint.
        var rng = RandomGenerator(seed: 77)
        let params = colour3.randomParameters(&rng)
        let values = [[0, 17, 255], [255, 255, 0], [128, 3, 200]]
        for (v, got) in zip(values, colour3.terms(params, at: values)) {
            var joint = [Double]()
            for k in 0..<3 {
                var lp = Double(params[k])
                for c in 0..<3 {
                    lp += Foundation.log(MixtureReference.binProbability(
                        v[c], mean: MixtureReference.mean(colour3, params, channel: c, component: k, values: v),
                        scale: MixtureReference.scale(colour3, params, channel: c, component: k)))
                }
                joint.append(lp)
            }
            let nll = MixtureReference.logSumExp(params[0..<3].map(Double.init)) - MixtureReference.logSumExp(joint)
            XCTAssertEqual(got.reduce(0.0) { $0 + Double($1) }, nll, accuracy: 1e-5 * max(1, nll), "values \(v)")
        }
    }

    // MARK: Normalisation

    /// Parameter sets for the normalisation tests: random ones, and ones with extreme scales
    /// (clamped, at the clamp, huge) and means far outside [−1, 1].
    private func normalisationCases(_ mixture: LogisticMixture, seed: UInt64) -> [[Float]] {
        var rng = RandomGenerator(seed: seed)
        var cases = [mixture.randomParameters(&rng), mixture.randomParameters(&rng, means: -3...3, logScales: -9...3)]
        for (means, logScales): (ClosedRange<Float>, ClosedRange<Float>) in
            [(-1...1, -30...(-7)), (-1.1...1.1, -7.5...(-6)), (-60...60, -7...2), (-1e4...1e4, -7...(-7)),
             (-2...2, 15...100), (0.98...1.2, -7...(-4)), (-1.2...(-0.98), -7...(-4))] {
            cases.append(mixture.randomParameters(&rng, means: means, logScales: logScales))
        }
        return cases
    }

    func testGreyProbabilitiesOfAll256ValuesSumToOne() throws {
        for mixture in [LogisticMixture(components: 1, channels: 1), grey3, LogisticMixture(components: 7, channels: 1)] {
            for (i, params) in normalisationCases(mixture, seed: UInt64(mixture.components)).enumerated() {
                let terms = mixture.terms(params, at: (0..<256).map { [$0] })
                let total = terms.reduce(0.0) { $0 + Foundation.exp(-Double($1[0])) }
                XCTAssertEqual(total, 1, accuracy: 1e-5, "K=\(mixture.components) case \(i): \(params)")
                XCTAssertTrue(terms.allSatisfy { $0[0].isFinite && $0[0] >= -1e-6 }, "K=\(mixture.components) case \(i)")
            }
        }
    }

    /// The colour joint p(r, g, b) over all 256³ values sums to 1: Σ_r p(r) = 1 (the red
    /// marginal is the grey mixture of the red parameters alone, whatever the coupling), and for
    /// chosen r (both edges and random ones) the op's joint summed exhaustively over all
    /// 65 536 (g, b) is p(r). So Σ_rgb p = Σ_r Σ_gb p(r, g, b) = Σ_r p(r) = 1 on the checked
    /// r, and the per-channel terms are the conditionals: exp(−term_g) sums to 1 over g for
    /// every r, exp(−term_b) over b for every checked (r, g). A wrong edge bin breaks the
    /// sums; a coupling that read a channel's own value (or a later one) breaks its
    /// conditional's sum; a red term that depended on g or b breaks term_r = −log p(r).
    ///
    /// A conditional given an all but impossible condition (p(r) = e^−10⁷ when every mean is
    /// 10⁴ away) is a difference of two log-sum-exps near −10⁷, exact only to float rounding of
    /// those: each conditional is held to 1e-5 where −log p(condition) ≤ 50, and everywhere
    /// weighted by the probability of its condition, which is what the joint's sum sees.
    func testColourJointSumsToOne() throws {
        for mixture in [colour3, LogisticMixture(components: 2, channels: 3, coefficients: .identity)] {
            let grey = LogisticMixture(components: mixture.components, channels: 1)
            // (Fewer cases for the second mixture: each takes a second in a debug build.)
            for (i, params) in normalisationCases(mixture, seed: 40 + UInt64(mixture.components)).enumerated()
            where mixture.coefficients == .tanh || [1, 3, 6, 7].contains(i) {
                let what = "K=\(mixture.components) \(mixture.coefficients) case \(i)"
                // The red parameters alone as a grey mixture: its probabilities are p(r).
                var red = [Float]()
                red += (0..<mixture.components).map { params[mixture.logitIndex(component: $0)] }
                red += (0..<mixture.components).map { params[mixture.meanIndex(channel: 0, component: $0)] }
                red += (0..<mixture.components).map { params[mixture.logScaleIndex(channel: 0, component: $0)] }
                let logPR = grey.terms(red, at: (0..<256).map { [$0] }).map { -Double($0[0]) }
                XCTAssertEqual(logPR.reduce(0) { $0 + Foundation.exp($1) }, 1, accuracy: 1e-5, what)

                // Every (r, g) with b = 77: term_r = −log p(r), Σ_g p(g | r) = 1 for every r.
                let rg = (0..<65536).map { [$0 >> 8, $0 & 255, 77] }
                let t = mixture.flatTerms(params, at: rg)
                var worstR = 0.0, worstG = 0.0, weightedG = 0.0
                for r in 0..<256 {
                    var sumG = 0.0
                    for g in 0..<256 {
                        let i = 3 * (r << 8 | g)
                        worstR = max(worstR, abs(Double(t[i]) + logPR[r]) / max(1, abs(logPR[r])))
                        sumG += Foundation.exp(-Double(t[i + 1]))
                    }
                    if logPR[r] >= -50 { worstG = max(worstG, abs(sumG - 1)) }
                    weightedG += Foundation.exp(logPR[r]) * abs(sumG - 1)
                }
                XCTAssertLessThan(worstR, 1e-5, "\(what): red term differs from the red marginal")
                XCTAssertLessThan(worstG, 1e-5, "\(what): Σ_g p(g | r) ≠ 1")
                XCTAssertLessThan(weightedG, 1e-5, "\(what): Σ_r p(r) |Σ_g p(g | r) − 1|")

                // Exhaustively over (g, b) for chosen r: Σ_gb p(r, g, b) = p(r), Σ_b p(b | r, g) = 1.
                var rng = RandomGenerator(seed: UInt64(i))
                let likely = logPR.indices.max { logPR[$0] < logPR[$1] }!
                for r in Set([0, 255, likely, rng.int(below: 256)]).sorted() {
                    let gb = (0..<65536).map { [r, $0 >> 8, $0 & 255] }
                    let t = mixture.flatTerms(params, at: gb)
                    var joint = 0.0, worstB = 0.0, weightedB = 0.0
                    for g in 0..<256 {
                        var sumB = 0.0
                        let logPRG = -(Double(t[3 * (g << 8)]) + Double(t[3 * (g << 8) + 1]))
                        for b in 0..<256 {
                            let i = 3 * (g << 8 | b)
                            joint += Foundation.exp(-(Double(t[i]) + Double(t[i + 1]) + Double(t[i + 2])))
                            sumB += Foundation.exp(-Double(t[i + 2]))
                        }
                        if logPRG >= -50 { worstB = max(worstB, abs(sumB - 1)) }
                        weightedB += Foundation.exp(logPRG) * abs(sumB - 1)
                    }
                    XCTAssertLessThan(worstB, 1e-5, "\(what) r=\(r): Σ_b p(b | r, g) ≠ 1")
                    XCTAssertLessThan(weightedB, 1e-5, "\(what) r=\(r): Σ_g p(r, g) |Σ_b p(b | r, g) − 1|")
                    let pr = Foundation.exp(logPR[r])
                    XCTAssertEqual(joint, pr, accuracy: 1e-5 * pr + 1e-30, "\(what) r=\(r): Σ_gb p(r, g, b) ≠ p(r)")
                }
            }
        }
    }

    // MARK: Layouts

    func testChannelsFirstAndChannelsLastAgree() throws {
        let (B, H, W) = (2, 3, 4)
        for mixture in [grey3, colour3] {
            let P = mixture.parameterCount, C = mixture.channels
            var rng = RandomGenerator(seed: 5)
            // Channels-last parameters [B, H·W, P] and values [B, H·W·C].
            let last = (0..<(B * H * W)).flatMap { _ in mixture.randomParameters(&rng) }
            let values = (0..<(B * H * W * C)).map { _ in Float(rng.int(below: 256)) }
            var first = [Float](repeating: 0, count: last.count), firstValues = values
            for b in 0..<B {
                for q in 0..<(H * W) {
                    for p in 0..<P { first[(b * P + p) * H * W + q] = last[(b * H * W + q) * P + p] }
                    for c in 0..<C { firstValues[(b * C + c) * H * W + q] = values[(b * H * W + q) * C + c] }
                }
            }
            let pl = Tensor(shape: [B, H * W, P], data: last, requiresGrad: true)
            let pf = Tensor(shape: [B, P, H, W], data: first, requiresGrad: true)
            let outL = pl.logisticMixtureNLL(pixels: Tensor(shape: [B, H * W * C], data: values), mixture: mixture,
                                             layout: .channelsLast)
            let outF = pf.logisticMixtureNLL(pixels: Tensor(shape: [B, C, H, W], data: firstValues), mixture: mixture)
            XCTAssertEqual(outL.shape, [B, H * W * C])
            XCTAssertEqual(outF.shape, [B, C, H, W])
            let seed = (0..<outL.count).map { _ in rng.normal() }
            var seedF = seed
            for b in 0..<B {
                for q in 0..<(H * W) {
                    for c in 0..<C {
                        XCTAssertEqual(outF.data[(b * C + c) * H * W + q], outL.data[(b * H * W + q) * C + c])
                        seedF[(b * C + c) * H * W + q] = seed[(b * H * W + q) * C + c]
                    }
                }
            }
            outL.backward(seed: seed)
            outF.backward(seed: seedF)
            for b in 0..<B {
                for q in 0..<(H * W) {
                    for p in 0..<P {
                        XCTAssertEqual(pf.grad![(b * P + p) * H * W + q], pl.grad![(b * H * W + q) * P + p],
                                       "C=\(C) image \(b) pixel \(q) parameter \(p)")
                    }
                }
            }
            // Per-pixel NLL maps: the channel sum of the terms.
            XCTAssertEqual(outF.sum(axis: 1).shape, [B, H, W])
        }
    }

    // MARK: Gradients

    /// Parameters [N, P] with the log-scales kept more than `margin` away from the clamp's
    /// kink (finite differences straddling it would see half a slope).
    private func parameters(_ mixture: LogisticMixture, pixels: Int, seed: UInt64, means: ClosedRange<Float>,
                            logScales: ClosedRange<Float>, margin: Float) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        var data = [Float]()
        for _ in 0..<pixels {
            var p = mixture.randomParameters(&rng, means: means, logScales: logScales)
            for c in 0..<mixture.channels {
                for k in 0..<mixture.components {
                    let i = mixture.logScaleIndex(channel: c, component: k)
                    if abs(p[i] - LogisticMixture.minLogScale) < margin { p[i] = LogisticMixture.minLogScale + margin }
                }
            }
            data += p
        }
        return Tensor(shape: [pixels, mixture.parameterCount], data: data, requiresGrad: true)
    }

    /// Values within `spread` levels of the means of the first component (so that the sharp
    /// cases see their bins' slopes, not only the tails), and with `edges` a quarter each 0 and 255.
    private func values(_ mixture: LogisticMixture, _ params: Tensor, seed: UInt64, spread: Int,
                        edges: Bool) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        let n = params.shape[0], P = mixture.parameterCount
        var out = [Float]()
        for i in 0..<n {
            let pixel = Array(params.data[(i * P)..<((i + 1) * P)])
            var v = [Int]()
            for c in 0..<mixture.channels {
                if edges && (i + c) % 4 == 0 { v.append(0); continue }
                if edges && (i + c) % 4 == 1 { v.append(255); continue }
                // The mean of component 0 given the channels before (coupled for G and B).
                let mu = MixtureReference.mean(mixture, pixel, channel: c, component: 0, values: v)
                let centre = Int(((mu + 1) * 127.5).rounded()) + rng.int(below: 2 * spread + 1) - spread
                v.append(min(max(centre, 0), 255))
            }
            out += v.map(Float.init)
        }
        return Tensor(shape: [n * mixture.channels], data: out)
    }

    private func assertMixtureGradients(_ mixture: LogisticMixture, _ label: String, pixels: Int = 12,
                                        means: ClosedRange<Float>, logScales: ClosedRange<Float>, spread: Int,
                                        edges: Bool = true, eps: Float, file: StaticString = #filePath, line: UInt = #line) {
        let p = parameters(mixture, pixels: pixels, seed: UInt64(label.count * 31 + mixture.parameterCount),
                           means: means, logScales: logScales, margin: 3 * eps)
        let x = values(mixture, p, seed: UInt64(label.count), spread: spread, edges: edges)
        assertGradients(wrt: [p], eps: eps, "\(label) K=\(mixture.components) C=\(mixture.channels) "
                        + "\(mixture.coefficients)", file: file, line: line) {
            p.logisticMixtureNLL(pixels: x, mixture: mixture, layout: .channelsLast)
        }
    }

    func testGradientsModerate() throws {
        for mixture in [grey3, colour3, LogisticMixture(components: 2, channels: 3, coefficients: .identity),
                        LogisticMixture(components: 1, channels: 3)] {
            assertMixtureGradients(mixture, "moderate", means: -1.2...1.2, logScales: -3...0.5, spread: 20, eps: 3e-3)
        }
    }

    func testGradientsWithLargeScalesAndFarMeans() throws {
        for mixture in [grey3, colour3] {
            assertMixtureGradients(mixture, "large scales", means: -4...4, logScales: 1...6, spread: 60, eps: 1e-2)
            assertMixtureGradients(mixture, "far means", means: -20...20, logScales: -2...2, spread: 0, eps: 1e-2)
        }
    }

    func testGradientsWithSharpLogistics() throws {
        // Scales near the clamp (σ ≈ 1e-3, four times narrower than a bin): values within two
        // bins of the mean (a value far out costs ~|x − m|/σ ≈ 1000 nats, whose float rounding
        // would drown the small steps), small steps. Means near ±1 put the edge bins among them.
        for mixture in [grey3, colour3] {
            assertMixtureGradients(mixture, "sharp", pixels: 6, means: -0.9...0.9, logScales: -6.8...(-5.5), spread: 2,
                                   edges: false, eps: 2e-4)
            assertMixtureGradients(mixture, "sharp at 0", pixels: 6, means: -1.01...(-0.985), logScales: -6.8...(-5.5),
                                   spread: 1, edges: false, eps: 2e-4)
            assertMixtureGradients(mixture, "sharp at 255", pixels: 6, means: 0.985...1.01, logScales: -6.8...(-5.5),
                                   spread: 1, edges: false, eps: 2e-4)
        }
    }

    func testClampedLogScalesGetNoGradient() throws {
        var rng = RandomGenerator(seed: 9)
        var params = colour3.randomParameters(&rng)
        params[colour3.logScaleIndex(channel: 1, component: 2)] = -9
        params[colour3.logScaleIndex(channel: 0, component: 0)] = -40
        let p = Tensor(shape: [1, colour3.parameterCount], data: params, requiresGrad: true)
        let x = Tensor(shape: [3], data: [40, 200, 255])
        let out = p.logisticMixtureNLL(pixels: x, mixture: colour3, layout: .channelsLast)
        out.sum().backward()
        XCTAssertEqual(p.grad![colour3.logScaleIndex(channel: 1, component: 2)], 0)
        XCTAssertEqual(p.grad![colour3.logScaleIndex(channel: 0, component: 0)], 0)
        XCTAssertTrue(p.grad!.allSatisfy(\.isFinite))
        // And the rest by finite differences, the clamped ones included (both sides flat).
        assertGradients(wrt: [p], eps: 3e-3, "clamped") {
            p.logisticMixtureNLL(pixels: x, mixture: colour3, layout: .channelsLast)
        }
    }

    func testGradientsStayFiniteAtExtremes() throws {
        let one = LogisticMixture(components: 2, channels: 3)
        var rng = RandomGenerator(seed: 11)
        for (means, logScales): (ClosedRange<Float>, ClosedRange<Float>) in
            [(-1e4...1e4, -7...(-7)), (-2...2, 40...100), (-1...1, -50...(-7))] {
            let params = (0..<8).flatMap { _ in one.randomParameters(&rng, means: means, logScales: logScales) }
            let p = Tensor(shape: [8, one.parameterCount], data: params, requiresGrad: true)
            let x = Tensor(shape: [24], data: (0..<24).map { [0, 255, 1, 254, 128, 64][$0 % 6] })
            let out = p.logisticMixtureNLL(pixels: x, mixture: one, layout: .channelsLast)
            XCTAssertTrue(out.data.allSatisfy(\.isFinite), "\(means) \(logScales): \(out.data)")
            out.backward(seed: (0..<24).map { _ in rng.normal() })
            XCTAssertTrue(p.grad!.allSatisfy(\.isFinite), "\(means) \(logScales): \(p.grad!)")
        }
    }

    /// The kernel writes every gradient on first use and adds on later ones; results go
    /// nowhere outside the output (sentinels around both buffers).
    func testKernelWritesThenAccumulatesWithinBounds() throws {
        let mixture = colour3, n = 5, P = mixture.parameterCount
        var rng = RandomGenerator(seed: 12)
        let params = (0..<n).flatMap { _ in mixture.randomParameters(&rng) }
        let values = (0..<(3 * n)).map { _ in Float(rng.int(below: 256)) }
        let g = (0..<(3 * n)).map { _ in rng.normal() }
        var shape = ar_dlm_shape()
        shape.images = 1
        shape.positions = n
        shape.components = 3
        shape.channels = 3
        shape.param_position_stride = P
        shape.param_stride = 1
        shape.value_position_stride = 3
        shape.value_channel_stride = 1
        shape.min_log_scale = -7
        shape.tanh_coefficients = 1
        let sentinel: Float = -12345.5
        var out = [Float](repeating: sentinel, count: 3 * n + 9)
        ar_dlm_forward(&shape, params, values, &out)
        XCTAssertEqual(Array(out[(3 * n)...]), [Float](repeating: sentinel, count: 9))
        var grad = [Float](repeating: sentinel, count: P * n + 9)
        ar_dlm_backward(&shape, params, values, g, &grad, 0)
        XCTAssertEqual(Array(grad[(P * n)...]), [Float](repeating: sentinel, count: 9))
        XCTAssertFalse(grad[..<(P * n)].contains(sentinel), "a gradient was not written")
        let once = Array(grad[..<(P * n)])
        ar_dlm_backward(&shape, params, values, g, &grad, 1)
        for i in 0..<(P * n) { XCTAssertEqual(grad[i], 2 * once[i], accuracy: 1e-6 * max(1, abs(once[i]))) }
        XCTAssertEqual(Array(grad[(P * n)...]), [Float](repeating: sentinel, count: 9))
    }
}
