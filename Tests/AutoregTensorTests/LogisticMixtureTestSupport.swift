import AutoregTensor
import Foundation

/// Helpers for the logistic mixture tests: an independent double-precision reference written
/// straight from the paper's formulas, and the op evaluated for one parameter set at many values.
enum MixtureReference {
    static func sigmoid(_ z: Double) -> Double {
        z >= 0 ? 1 / (1 + Foundation.exp(-z)) : Foundation.exp(z) / (1 + Foundation.exp(z))
    }

    /// P(bin v) for a logistic with mean m and scale σ, as the paper writes it:
    /// σ((x + 1/255 − m)/σ) − σ((x − 1/255 − m)/σ) with x = v/127.5 − 1, the edge bins taking
    /// the tails. (When both arguments are positive the mirrored difference
    /// σ(−b) − σ(−a) is taken, which is the same number without the cancellation near 1.)
    static func binProbability(_ v: Int, mean m: Double, scale: Double) -> Double {
        let x = Double(v) / 127.5 - 1, h = 1.0 / 255
        let a = (x + h - m) / scale, b = (x - h - m) / scale
        if v == 0 { return sigmoid(a) }
        if v == 255 { return 1 - sigmoid(b) }
        return b > 0 ? sigmoid(-b) - sigmoid(-a) : sigmoid(a) - sigmoid(b)
    }

    /// The means of channel c for every component, per the paper's coupling, given the values.
    static func mean(_ mixture: LogisticMixture, _ params: [Float], channel c: Int, component k: Int,
                     values: [Int]) -> Double {
        func coefficient(_ j: LogisticMixture.Coefficient) -> Double {
            let raw = Double(params[mixture.coefficientIndex(j, component: k)])
            return mixture.coefficients == .tanh ? Foundation.tanh(raw) : raw
        }
        let mu = Double(params[mixture.meanIndex(channel: c, component: k)])
        let r = values.count > 0 ? Double(values[0]) / 127.5 - 1 : 0
        let g = values.count > 1 ? Double(values[1]) / 127.5 - 1 : 0
        switch c {
        case 0: return mu
        case 1: return mu + coefficient(.alpha) * r
        default: return mu + coefficient(.beta) * r + coefficient(.gamma) * g
        }
    }

    static func scale(_ mixture: LogisticMixture, _ params: [Float], channel c: Int, component k: Int) -> Double {
        Foundation.exp(max(Double(params[mixture.logScaleIndex(channel: c, component: k)]), -7))
    }

    static func logSumExp(_ u: [Double]) -> Double {
        let m = u.max()!
        return m + Foundation.log(u.reduce(0) { $0 + Foundation.exp($1 - m) })
    }

    /// −log p(x_c | x_<c) per channel, from p(x) = Σ_k π_k Π_c p(x_c | x_<c, k).
    static func terms(_ mixture: LogisticMixture, _ params: [Float], values: [Int]) -> [Double] {
        let K = mixture.components
        let logits = (0..<K).map { Double(params[mixture.logitIndex(component: $0)]) }
        let norm = logSumExp(logits)
        var u = logits.map { $0 - norm }
        var before = 0.0, out = [Double]()
        for c in 0..<mixture.channels {
            for k in 0..<K {
                let p = binProbability(values[c], mean: mean(mixture, params, channel: c, component: k, values: values),
                                       scale: scale(mixture, params, channel: c, component: k))
                u[k] += Foundation.log(p)
            }
            let after = logSumExp(u)
            out.append(before - after)
            before = after
        }
        return out
    }

    /// The largest |log| that the reference's sums pass through: float rounding of those
    /// intermediate values bounds how exact the op's terms can be.
    static func magnitude(_ mixture: LogisticMixture, _ params: [Float], values: [Int]) -> Double {
        var m = 1.0
        for c in 0..<mixture.channels {
            for k in 0..<mixture.components {
                let mean = mean(mixture, params, channel: c, component: k, values: values)
                let s = scale(mixture, params, channel: c, component: k)
                m = max(m, (abs(Double(values[c]) / 127.5 - 1 - mean) + 1.0 / 255) / s)
            }
        }
        return m
    }
}

extension LogisticMixture {
    /// The op's C terms for one parameter set at each of `values` (each C values), channels-last.
    func terms(_ params: [Float], at values: [[Int]]) -> [[Float]] {
        let flat = flatTerms(params, at: values)
        return (0..<values.count).map { Array(flat[($0 * channels)..<(($0 + 1) * channels)]) }
    }

    /// `terms`, as one array: value i's channel c at i·C + c.
    func flatTerms(_ params: [Float], at values: [[Int]]) -> [Float] {
        let n = values.count, P = parameterCount
        precondition(params.count == P)
        let data = params.withUnsafeBufferPointer { src in
            [Float](unsafeUninitializedCapacity: n * P) { buf, count in
                for i in 0..<n { (buf.baseAddress! + i * P).initialize(from: src.baseAddress!, count: P) }
                count = n * P
            }
        }
        var flat = [Float]()
        flat.reserveCapacity(n * channels)
        for v in values { for c in v { flat.append(Float(c)) } }
        let x = Tensor(shape: [n * channels], data: flat)
        return withoutGrad {
            Tensor(shape: [n, P], data: data).logisticMixtureNLL(pixels: x, mixture: self, layout: .channelsLast)
        }.data
    }

    /// Random parameters: logits in ±3, means and log-scales from the given ranges,
    /// coefficient parameters in ±2.
    func randomParameters(_ rng: inout RandomGenerator, means: ClosedRange<Float> = -1.2...1.2,
                          logScales: ClosedRange<Float> = -4...0) -> [Float] {
        func draw(_ r: ClosedRange<Float>) -> Float { r.lowerBound + (r.upperBound - r.lowerBound) * rng.uniform() }
        var p = [Float](repeating: 0, count: parameterCount)
        for k in 0..<components {
            p[logitIndex(component: k)] = draw(-3...3)
            for c in 0..<channels {
                p[meanIndex(channel: c, component: k)] = draw(means)
                p[logScaleIndex(channel: c, component: k)] = draw(logScales)
            }
            if channels == 3 {
                for j in LogisticMixture.Coefficient.allCases { p[coefficientIndex(j, component: k)] = draw(-2...2) }
            }
        }
        return p
    }
}
