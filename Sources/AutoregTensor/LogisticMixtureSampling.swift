import Foundation

/// Drawing one pixel from a `LogisticMixture`, and its conditional means. One pixel at a time
/// (the samplers run pixel by pixel anyway), in Double.
///
/// **Temperature** T > 0 (1: the model's own distribution): the component is drawn from
/// softmax(logits / T) and every logistic's scale is multiplied by T (log-scale
/// max(s, `minLogScale`) + log T, clamped first). Small T concentrates on the likeliest
/// component and on its means' bins; large T spreads out.
extension LogisticMixture {
    /// Uniform numbers one `sample` call takes from the generator, whatever the parameters:
    /// one for the component, then one per channel (`rng.uniform()` each, so 1 + C calls of
    /// `next()`).
    public var uniformsPerSample: Int { 1 + channels }

    /// Draws one pixel: its component k from softmax(logits / T) by inverse CDF on one uniform
    /// u₀ (the first k whose cumulative probability exceeds u₀), then each channel in order
    /// r, g, b by the inverse logistic CDF, y = m + T·e^s · log(u / (1 − u)) with
    /// u = uniform + 2⁻²⁵ (never 0 or 1), conditioned on the channels already drawn (the means
    /// of G and B use their 8-bit values, scaled to [−1, 1], exactly as the likelihood does),
    /// and y is rounded to its bin: v = clamp(round((y + 1) · 255/2), 0, 255). This draws
    /// exactly from the distribution `logisticMixtureNLL` scores (at T = 1).
    ///
    /// `parameters` points at the pixel's first parameter, the others following every `stride`
    /// floats (1 for channels-last, H·W for a [B, P, H, W] head). Consumes exactly
    /// `uniformsPerSample` (1 + C) uniforms. Returns C values in 0…255.
    public func sample(_ parameters: UnsafePointer<Float>, stride: Int = 1, temperature: Float = 1,
                       rng: inout some UniformSource) -> [Int] {
        let px = MixturePixel(self, parameters, stride: stride, temperature: temperature)
        let probabilities = px.componentProbabilities()
        let u0 = Double(rng.uniform())
        var k = components - 1, cumulative = 0.0
        for j in 0..<components {
            cumulative += probabilities[j]
            if u0 < cumulative { k = j; break }
        }
        var values = [Int]()
        values.reserveCapacity(channels)
        for c in 0..<channels {
            let m = px.mean(channel: c, component: k, earlier: values)
            let s = px.logScale(channel: c, component: k)
            let u = Double(rng.uniform()) + 0x1p-25
            let y = m + Foundation.exp(s) * (Foundation.log(u) - Foundation.log1p(-u))
            precondition(!y.isNaN, "logistic mixture parameters are not finite")
            values.append(Int(Swift.min(Swift.max(((y + 1) * 127.5).rounded(), 0), 255)))
        }
        return values
    }

    /// `sample` for one pixel's P parameters in an array.
    public func sample(_ parameters: [Float], temperature: Float = 1, rng: inout some UniformSource) -> [Int] {
        precondition(parameters.count == parameterCount, "need \(parameterCount) parameters, got \(parameters.count)")
        return parameters.withUnsafeBufferPointer { sample($0.baseAddress!, temperature: temperature, rng: &rng) }
    }

    /// The expected value of each channel given the earlier ones, on the 0…255 scale:
    /// E[r], E[g | r], E[b | r, g] for colour (each with the component posterior given the
    /// earlier channels' `values`), E[x] for grey, at temperature T as `sample` draws. `values`
    /// holds the pixel's C values (the last is not used). Exact sums over the 256 bins:
    /// E[x | k] = Σ_{j<255} P(x > j | k), 255 logistic CDFs per channel and component.
    public func conditionalMeans(_ parameters: UnsafePointer<Float>, stride: Int = 1, values: [Int],
                                 temperature: Float = 1) -> [Float] {
        precondition(values.count == channels && values.allSatisfy { $0 >= 0 && $0 <= 255 },
                     "need \(channels) values in 0…255, got \(values)")
        let px = MixturePixel(self, parameters, stride: stride, temperature: temperature)
        var logWeights = (0..<components).map { px.logit($0) }
        var means = [Float]()
        for c in 0..<channels {
            let top = logWeights.max()!
            let w = logWeights.map { Foundation.exp($0 - top) }
            let total = w.reduce(0, +)
            var mean = 0.0
            for k in 0..<components where w[k] > 0 {
                let m = px.mean(channel: c, component: k, earlier: values)
                let inv = Foundation.exp(-px.logScale(channel: c, component: k))
                var e = 0.0
                for j in 0..<255 { e += dlmLogisticCDF(-(Double(2 * j - 254) / 255 - m) * inv) }
                mean += w[k] / total * e
            }
            means.append(Float(mean))
            for k in 0..<components {
                logWeights[k] += dlmLogBinProbability(values[c], mean: px.mean(channel: c, component: k, earlier: values),
                                                   logScale: px.logScale(channel: c, component: k))
            }
        }
        return means
    }

    /// `conditionalMeans` for one pixel's P parameters in an array.
    public func conditionalMeans(_ parameters: [Float], values: [Int], temperature: Float = 1) -> [Float] {
        precondition(parameters.count == parameterCount, "need \(parameterCount) parameters, got \(parameters.count)")
        return parameters.withUnsafeBufferPointer {
            conditionalMeans($0.baseAddress!, values: values, temperature: temperature)
        }
    }
}

/// One pixel's parameters read through a stride, with temperature applied, in Double.
private struct MixturePixel {
    let mixture: LogisticMixture
    let p: UnsafePointer<Float>
    let stride: Int
    let inverseTemperature: Double, logTemperature: Double

    init(_ mixture: LogisticMixture, _ p: UnsafePointer<Float>, stride: Int, temperature: Float) {
        precondition(stride >= 1, "parameter stride must be positive")
        precondition(temperature > 0 && temperature.isFinite, "temperature must be positive, got \(temperature)")
        self.mixture = mixture
        self.p = p
        self.stride = stride
        inverseTemperature = 1 / Double(temperature)
        logTemperature = Foundation.log(Double(temperature))
    }

    func parameter(_ i: Int) -> Double { Double(p[i * stride]) }

    /// logit_k / T.
    func logit(_ k: Int) -> Double { parameter(mixture.logitIndex(component: k)) * inverseTemperature }

    func componentProbabilities() -> [Double] {
        let logits = (0..<mixture.components).map(logit)
        let top = logits.max()!
        let e = logits.map { Foundation.exp($0 - top) }
        let total = e.reduce(0, +)
        return e.map { $0 / total }
    }

    func coefficient(_ j: LogisticMixture.Coefficient, _ k: Int) -> Double {
        let raw = parameter(mixture.coefficientIndex(j, component: k))
        return mixture.coefficients == .tanh ? Foundation.tanh(raw) : raw
    }

    /// The mean of channel c in component k given the 8-bit values of the channels before it.
    func mean(channel c: Int, component k: Int, earlier values: [Int]) -> Double {
        var m = parameter(mixture.meanIndex(channel: c, component: k))
        if c >= 1 { m += coefficient(c == 1 ? .alpha : .beta, k) * Double(2 * values[0] - 255) / 255 }
        if c == 2 { m += coefficient(.gamma, k) * Double(2 * values[1] - 255) / 255 }
        return m
    }

    /// max(s, minLogScale) + log T.
    func logScale(channel c: Int, component k: Int) -> Double {
        Swift.max(parameter(mixture.logScaleIndex(channel: c, component: k)), Double(LogisticMixture.minLogScale))
            + logTemperature
    }
}

@inline(__always)
private func dlmLogisticCDF(_ z: Double) -> Double {
    z >= 0 ? 1 / (1 + Foundation.exp(-z)) : Foundation.exp(z) / (1 + Foundation.exp(z))
}

@inline(__always)
private func dlmSoftplus(_ z: Double) -> Double { Swift.max(z, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(z))) }

/// log P(bin v) under a logistic with this mean and log-scale, in log space as the kernel.
private func dlmLogBinProbability(_ v: Int, mean m: Double, logScale s: Double) -> Double {
    let inv = Foundation.exp(-s)
    let a = (Double(2 * v - 254) / 255 - m) * inv, b = (Double(2 * v - 256) / 255 - m) * inv
    if v == 0 { return -dlmSoftplus(-a) }
    if v == 255 { return -dlmSoftplus(b) }
    let d = 2 / 255 * inv, logD = Foundation.log(2.0 / 255) - s
    let log1mexp = d < 1e-6 ? logD - d / 2 : (d < 0.693 ? Foundation.log(-Foundation.expm1(-d)) : Foundation.log1p(-Foundation.exp(-d)))
    return -dlmSoftplus(-a) - dlmSoftplus(b) + log1mexp
}
