import CKernels

extension Tensor {
    /// The gated activation tanh(a) ⊙ σ(b) of van den Oord et al. (2016), where a and b are
    /// the first and second halves of `axis` (whose size must be even): [.., 2n, ..] → [.., n, ..].
    ///
    /// One fused pass instead of two slices, tanh, sigmoid and a product; the backward pass
    /// recomputes tanh and σ from the input rather than keeping them.
    public func gated(axis: Int = 1) -> Tensor {
        precondition(axis >= 0 && axis < rank, "gated: axis \(axis) out of range for shape \(shape)")
        precondition(shape[axis] % 2 == 0, "gated: axis \(axis) of \(shape) must have even size")
        var outShape = shape
        outShape[axis] /= 2
        let groups = shape[..<axis].reduce(1, *)
        let inner = outShape[axis...].reduce(1, *)
        let x = self
        let out = makeArray(groups * inner) { y in
            x.data.withUnsafeBufferPointer { px in
                parallelChunks(groups) { _, g in
                    ar_gate_forward(px.baseAddress! + 2 * g.lowerBound * inner, y + g.lowerBound * inner, g.count, inner)
                }
            }
        }
        return Tensor(shape: outShape, data: out, inputs: [x]) { result in
            x.accumulateGrad { dx, initialized in
                x.data.withUnsafeBufferPointer { px in
                    result.grad!.withUnsafeBufferPointer { gy in
                        parallelChunks(groups) { _, g in
                            let at = g.lowerBound * inner
                            ar_gate_backward(px.baseAddress! + 2 * at, gy.baseAddress! + at, dx + 2 * at,
                                             g.count, inner, initialized ? 1 : 0)
                        }
                    }
                }
            }
        }
    }
}
