/// The colour mixture as three grey ones: the conditionals p(r), p(g | r) and p(b | r, g) of a
/// colour `LogisticMixture` are each a K-component discretised logistic mixture of one
/// channel, with
///
///     p(r):        logits  log π_k,                               means μ_R,              log-scales s_R
///     p(g | r):    logits  log π_k + log p_k(r),                  means μ_G + α_k·r,      log-scales s_G
///     p(b | r, g): logits  log π_k + log p_k(r) + log p_k(g | r), means μ_B + β_k·r + γ_k·g, log-scales s_B
///
/// (the component's posterior given the earlier channels; r and g on the [−1, 1] scale, and
/// log p_k the bin log-probability under component k). So a model whose sub-pixels share their
/// context, like PixelCNN++, can give every sub-pixel a grey mixture in the ordinary
/// per-sub-pixel layout: the likelihood, the samplers (which draw r, then g, then b) and the
/// per-pixel maps then need nothing colour-specific, and the result is exactly the coupled
/// mixture of the paper.
extension Tensor {
    /// Per-sub-pixel grey mixture parameters from colour mixture parameters.
    ///
    /// self: [N, P] with each pixel's P = 10K parameters of `mixture` (3 channels, the
    /// `LogisticMixture` table's order); `values`: the pixels' 8-bit values [N, 3] (r, g, b as
    /// floats; b is not read). Returns [N, 3, 3K]: for channel c, the 3K parameters of a
    /// 1-channel `LogisticMixture` with K components (logits, means, log-scales) that is
    /// p(x_c | x_<c) of the colour mixture. Differentiable with respect to self (not `values`).
    /// The sum over c of the grey terms' −log p equals `logisticMixtureNLL` of the colour
    /// mixture, and clamped log-scales stay clamped the same way.
    public func logisticMixtureConditionals(values: Tensor, mixture: LogisticMixture) -> Tensor {
        let K = mixture.components, P = mixture.parameterCount
        precondition(mixture.channels == 3, "conditionals split a colour (3-channel) mixture, not \(mixture.channels)")
        precondition(rank == 2 && shape[1] == P, "colour mixture parameters need shape [N, \(P)], got \(shape)")
        let n = shape[0]
        precondition(values.shape == [n, 3], "values need shape [\(n), 3], got \(values.shape)")
        let parts = split(sizes: [Int](repeating: K, count: 10), axis: 1)
        let (logits, mean, logScale) = (parts[0], Array(parts[1...3]), Array(parts[4...6]))
        func coefficient(_ j: LogisticMixture.Coefficient) -> Tensor {
            let raw = parts[7 + j.rawValue]
            return mixture.coefficients == .tanh ? raw.tanh() : raw
        }
        // The earlier channels on the [−1, 1] scale, [N, 1] each (constants: no gradient).
        let scaled = values.data.map { LogisticMixture.scaled(Int($0)) }
        let channel = { (c: Int) in Tensor(shape: [n, 1], data: (0..<n).map { scaled[3 * $0 + c] }) }
        let (r, g) = (channel(0), channel(1))
        let means = [mean[0], mean[1] + coefficient(.alpha) * r,
                     mean[2] + coefficient(.beta) * r + coefficient(.gamma) * g]
        // log p_k(x_c) for every component: a 1-component mixture per (pixel, component).
        let one = LogisticMixture(components: 1, channels: 1, coefficients: mixture.coefficients)
        let zeros = Tensor(repeating: 0, shape: [n, K])
        func logProbability(channel c: Int) -> Tensor {
            let single = Tensor.stack([zeros, means[c], logScale[c]], axis: 2).reshaped([n * K, 3])
            let v = Tensor(shape: [n * K], data: (0..<n * K).map { values.data[3 * ($0 / K) + c] })
            return single.logisticMixtureNLL(pixels: v, mixture: one, layout: .channelsLast)
                .reshaped([n, K]).scaled(by: -1)
        }
        let afterR = logits + logProbability(channel: 0)
        let afterG = afterR + logProbability(channel: 1)
        let perChannel = zip([logits, afterR, afterG], 0..<3).map { w, c in
            Tensor.concat([w, means[c], logScale[c]], axis: 1)
        }
        return Tensor.stack(perChannel, axis: 1)
    }
}
