/// Dropout for training steps (Srivastava et al. 2014): each element is zeroed with
/// probability `rate` and the rest are scaled by 1/(1 − rate), so every activation keeps its
/// expectation. Models mark where dropout goes with `Tensor.dropout()`, which does nothing
/// unless a training step runs them inside `withDropout(rate:seed:)`: evaluation, sampling and
/// the cached samplers never see it.
public enum DropoutMode {
    /// The rate in force on the calling thread: 0 outside `withDropout`.
    public static var currentRate: Float { ThreadContext.current.dropoutRate }
}

/// Runs `body` with `Tensor.dropout()` active at `rate`, drawing its masks from a generator
/// seeded with `seed`: the same seed gives the same masks (a resumed run repeats them), on
/// any number of threads (`parallelBatch` workers mask their images as one pass over the
/// whole batch would).
public func withDropout<R>(rate: Float, seed: UInt64, _ body: () throws -> R) rethrows -> R {
    precondition(rate >= 0 && rate < 1, "dropout rate must lie in [0, 1), got \(rate)")
    let context = ThreadContext.current
    let saved = (context.dropoutRate, context.dropoutKeys)
    (context.dropoutRate, context.dropoutKeys) = (rate, RandomGenerator(seed: seed))
    defer { (context.dropoutRate, context.dropoutKeys) = saved }
    return try body()
}

extension Tensor {
    /// Dropout at the rate `withDropout` set; the tensor itself outside it. Each call takes
    /// one key from the run's generator, and element i of image b is kept or dropped by a
    /// hash of the key and b's place in the whole batch: a worker of `parallelBatch` that
    /// holds images b₀..<b₁ draws exactly their part of the batch's mask.
    public func dropout() -> Tensor {
        let context = ThreadContext.current
        guard context.dropoutRate > 0 else { return self }
        let key = context.dropoutKeys.next()
        let first = context.imageOffset * (count / max(shape.first ?? 1, 1))
        return dropout(rate: context.dropoutRate, key: key, firstElement: first)
    }

    /// Dropout with an explicit rate and generator: zero each element with probability
    /// `rate`, scale the others by 1/(1 − rate). Differentiable: the gradient goes through
    /// the same mask.
    public func dropout(rate: Float, rng: inout RandomGenerator) -> Tensor {
        dropout(rate: rate, key: rng.next(), firstElement: 0)
    }

    /// Dropout whose mask for element i is a hash of `key` and `firstElement + i` (SplitMix64's
    /// finaliser): the same key gives the same mask however the elements are split.
    public func dropout(rate: Float, key: UInt64, firstElement: Int) -> Tensor {
        precondition(rate >= 0 && rate < 1, "dropout rate must lie in [0, 1), got \(rate)")
        precondition(firstElement >= 0, "negative first element \(firstElement)")
        guard rate > 0 else { return self }
        let keep = 1 / (1 - rate), n = count
        // Compare 24-bit uniforms with the rate's threshold: P(drop) = threshold / 2^24.
        let threshold = UInt64((Double(rate) * 16_777_216).rounded())
        let scale = makeArray(n) { s in
            for i in 0..<n {
                var z = key &+ UInt64(firstElement + i) &* 0x9E37_79B9_7F4A_7C15
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                z ^= z >> 31
                s[i] = (z >> 40) < threshold ? 0 : keep
            }
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
