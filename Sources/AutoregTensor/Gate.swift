import CKernels

extension Tensor {
    /// The gated activation tanh(a) ⊙ σ(b) of van den Oord et al. (2016), where a and b are
    /// the first and second halves of `axis` (whose size must be even): [.., 2n, ..] → [.., n, ..].
    ///
    /// One fused pass instead of two slices, tanh, sigmoid and a product; the backward pass
    /// recomputes tanh and σ from the input rather than keeping them.
    public func gated(axis: Int = 1) -> Tensor {
        combiningHalves(axis: axis, name: "gated", forward: { ar_gate_forward($0, $1, $2, $3) },
                        backward: { ar_gate_backward($0, $1, $2, $3, $4, $5) })
    }

    /// PixelCNN++'s gate a ⊙ σ(b) (a gated linear unit), where a and b are the first and
    /// second halves of `axis` (whose size must be even): [.., 2n, ..] → [.., n, ..]. Like
    /// `gated()` (tanh(a) ⊙ σ(b)), one fused pass that recomputes σ in the backward pass.
    public func gatedLinear(axis: Int = 1) -> Tensor {
        combiningHalves(axis: axis, name: "gatedLinear", forward: { ar_glu_forward($0, $1, $2, $3) },
                        backward: { ar_glu_backward($0, $1, $2, $3, $4, $5) })
    }

    /// [.., 2n, ..] → [.., n, ..] by a C kernel pair that combines the two halves of `axis`
    /// elementwise: `forward(x, y, groups, inner)` and
    /// `backward(x, gy, dx, groups, inner, accumulate)`, run over chunks of the groups.
    private func combiningHalves(
        axis: Int, name: String,
        forward: @escaping @Sendable (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int) -> Void,
        backward: @escaping @Sendable (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Int,
                                       Int32) -> Void
    ) -> Tensor {
        precondition(axis >= 0 && axis < rank, "\(name): axis \(axis) out of range for shape \(shape)")
        precondition(shape[axis] % 2 == 0, "\(name): axis \(axis) of \(shape) must have even size")
        var outShape = shape
        outShape[axis] /= 2
        let groups = shape[..<axis].reduce(1, *)
        let inner = outShape[axis...].reduce(1, *)
        let x = self
        let out = makeArray(groups * inner) { y in
            x.data.withUnsafeBufferPointer { px in
                parallelChunks(groups, work: groups * inner) { _, g in
                    forward(px.baseAddress! + 2 * g.lowerBound * inner, y + g.lowerBound * inner, g.count, inner)
                }
            }
        }
        return Tensor(shape: outShape, data: out, inputs: [x]) { result in
            x.accumulateGrad { dx, initialized in
                x.data.withUnsafeBufferPointer { px in
                    result.grad!.withUnsafeBufferPointer { gy in
                        parallelChunks(groups, work: groups * inner) { _, g in
                            let at = g.lowerBound * inner
                            backward(px.baseAddress! + 2 * at, gy.baseAddress! + at, dx + 2 * at, g.count, inner,
                                     initialized ? 1 : 0)
                        }
                    }
                }
            }
        }
    }
}
