import CKernels

extension Tensor {
    /// The LSTM cell of PixelRNN (van den Oord, Kalchbrenner & Kavukcuoglu 2016, eq. 3), for
    /// all positions of a row or column at once:
    ///
    ///     [o, f, i, g] = gates            (pre-activations, split along axis 1)
    ///     c = σ(f) ⊙ c_prev + σ(i) ⊙ tanh(g)
    ///     h = σ(o) ⊙ tanh(c)
    ///
    /// **Layout.** `gates` is [B, 4n, …] — NCHW-style, with the four gate blocks of n channels
    /// each along the channel axis in the paper's order o, f, i, g — and `previousCell` is
    /// [B, n, …] with the same trailing dimensions; `h` and `c` are [B, n, …]. The trailing
    /// dimensions are the positions the cell runs over in parallel: [B, 4n, W] for one row of
    /// the Row LSTM, [B, 4n, H] for one column of the Diagonal BiLSTM's skewed map (or
    /// [B, 4n, 1, W] / [B, 4n, H, 1], as a convolution returns them). So the sum of the
    /// input-to-state and state-to-state convolutions, each with 4n output channels, is the
    /// `gates` argument as it stands. `previousCell: nil` is the zero state c₋₁ = 0 of the
    /// first row or column.
    ///
    /// **Gradients.** `h` and `c` are two tensors with one vector-Jacobian product: both
    /// record themselves on the tape, but only to hand their gradients to a shared node, whose
    /// pullback then runs the fused backward kernel once with dL/dh and dL/dc together (either
    /// may be absent: an unused output counts as zero). Gradients reach `gates` and
    /// `previousCell`. Nothing but the outputs is stored: the backward pass recomputes the
    /// gate activations from `gates` and tanh(c) from `c`, so a step costs the tape its two
    /// [B, n, …] outputs.
    public static func lstmCell(gates: Tensor, previousCell: Tensor?) -> (h: Tensor, c: Tensor) {
        precondition(gates.rank >= 2 && gates.shape[1] % 4 == 0,
                     "lstmCell: gates must be [B, 4n, ...] (blocks o, f, i, g along axis 1), got \(gates.shape)")
        var stateShape = gates.shape
        stateShape[1] /= 4
        if let p = previousCell {
            precondition(p.shape == stateShape,
                         "lstmCell: previousCell is \(p.shape), gates \(gates.shape) need \(stateShape)")
        }
        let groups = stateShape[0]
        let inner = groups == 0 ? 0 : stateShape.reduce(1, *) / groups
        let count = groups * inner

        var hidden: [Float] = []
        let cell = gates.data.withUnsafeBufferPointer { pg in
            withOptionalPointer(previousCell?.data) { pc in
                makeArray(count) { c in
                    hidden = makeArray(count) { h in
                        parallelChunks(groups, work: count) { _, r in
                            let at = r.lowerBound * inner
                            ar_lstm_forward(pg.baseAddress! + 4 * at, pc.map { $0 + at }, h + at, c + at, r.count, inner)
                        }
                    }
                }
            }
        }

        let upstream = LSTMUpstream()
        let junction = Tensor(shape: [0], data: [], inputs: [gates] + (previousCell.map { [$0] } ?? [])) { _ in
            let (dh, dc) = (upstream.dh, upstream.dc)
            upstream.dh = nil
            upstream.dc = nil
            guard count > 0, dh != nil || dc != nil else { return }
            // `accumulateGrad` skips its body for a tensor that takes no gradient, so the
            // kernel is called from the innermost closure that is reached.
            func run(_ dgates: UnsafeMutablePointer<Float>?, _ accumulateGates: Bool,
                     _ dprev: UnsafeMutablePointer<Float>?, _ accumulatePrev: Bool) {
                gates.data.withUnsafeBufferPointer { pg in
                    cell.withUnsafeBufferPointer { pc in
                        withOptionalPointer(previousCell?.data) { pp in
                            withOptionalPointer(dh) { pdh in
                                withOptionalPointer(dc) { pdc in
                                    parallelChunks(groups, work: count) { _, r in
                                        let at = r.lowerBound * inner
                                        ar_lstm_backward(pg.baseAddress! + 4 * at, pp.map { $0 + at }, pc.baseAddress! + at,
                                                         pdh.map { $0 + at }, pdc.map { $0 + at },
                                                         dgates.map { $0 + 4 * at }, dprev.map { $0 + at },
                                                         r.count, inner, accumulateGates ? 1 : 0, accumulatePrev ? 1 : 0)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            let prev = previousCell.flatMap { $0.requiresGrad ? $0 : nil }
            if gates.requiresGrad {
                gates.accumulateGrad { dg, gatesInitialized in
                    if let prev {
                        prev.accumulateGrad { dp, prevInitialized in run(dg, gatesInitialized, dp, prevInitialized) }
                    } else {
                        run(dg, gatesInitialized, nil, false)
                    }
                }
            } else if let prev {
                prev.accumulateGrad { dp, prevInitialized in run(nil, false, dp, prevInitialized) }
            }
        }
        // Each output passes its gradient to the shared node (an input of both, so the tape
        // runs its pullback after theirs) and marks it as reached.
        let h = Tensor(shape: stateShape, data: hidden, inputs: [junction]) { out in
            upstream.dh = out.grad
            junction.grad = []
        }
        let c = Tensor(shape: stateShape, data: cell, inputs: [junction]) { out in
            upstream.dc = out.grad
            junction.grad = []
        }
        return (h, c)
    }
}

/// The gradients that reached the two outputs of one `lstmCell`, held until the shared
/// backward runs (and cleared by it).
private final class LSTMUpstream {
    var dh: [Float]?
    var dc: [Float]?
}

/// Calls `body` with a pointer to the array's elements, or nil when there is no array.
private func withOptionalPointer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress) }
}
