/// Dropout for training steps (Srivastava et al. 2014): each element is zeroed with
/// probability `rate` and the rest are scaled by 1/(1 − rate), so every activation keeps its
/// expectation. Models mark where dropout goes with `Tensor.dropout()`, which does nothing
/// unless a training step runs them inside `withDropout(rate:seed:)`: evaluation, sampling and
/// the cached samplers never see it.
public enum DropoutMode {
    nonisolated(unsafe) static var rate: Float = 0
    nonisolated(unsafe) static var rng = RandomGenerator(seed: 0)
    /// The rate in force: 0 outside `withDropout`.
    public static var currentRate: Float { rate }
}

/// Runs `body` with `Tensor.dropout()` active at `rate`, drawing its masks from a generator
/// seeded with `seed`: the same seed gives the same masks (a resumed run repeats them).
public func withDropout<R>(rate: Float, seed: UInt64, _ body: () throws -> R) rethrows -> R {
    precondition(rate >= 0 && rate < 1, "dropout rate must lie in [0, 1), got \(rate)")
    let saved = (DropoutMode.rate, DropoutMode.rng)
    (DropoutMode.rate, DropoutMode.rng) = (rate, RandomGenerator(seed: seed))
    defer { (DropoutMode.rate, DropoutMode.rng) = saved }
    return try body()
}

extension Tensor {
    /// Dropout at the rate `withDropout` set; the tensor itself outside it.
    public func dropout() -> Tensor {
        guard DropoutMode.rate > 0 else { return self }
        return dropout(rate: DropoutMode.rate, rng: &DropoutMode.rng)
    }

    /// Dropout with an explicit rate and generator: zero each element with probability
    /// `rate`, scale the others by 1/(1 − rate). Differentiable: the gradient goes through
    /// the same mask.
    public func dropout(rate: Float, rng: inout RandomGenerator) -> Tensor {
        precondition(rate >= 0 && rate < 1, "dropout rate must lie in [0, 1), got \(rate)")
        guard rate > 0 else { return self }
        let keep = 1 / (1 - rate), n = count
        // Compare 24-bit uniforms with the rate's threshold: P(drop) = threshold / 2^24.
        let threshold = UInt64((Double(rate) * 16_777_216).rounded())
        let scale = makeArray(n) { s in
            for i in 0..<n { s[i] = (rng.next() >> 40) < threshold ? 0 : keep }
        }
        let out = makeArray(n) { y in
            data.withUnsafeBufferPointer { x in for i in 0..<n { y[i] = x[i] * scale[i] } }
        }
        let x = self
        return Tensor(shape: shape, data: out, inputs: [x]) { result in
            result.grad!.withUnsafeBufferPointer { g in
                x.accumulateGrad { gx, initialized in
                    if initialized {
                        for i in 0..<n { gx[i] += g[i] * scale[i] }
                    } else {
                        for i in 0..<n { gx[i] = g[i] * scale[i] }
                    }
                }
            }
        }
    }
}
