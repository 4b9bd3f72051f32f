import CKernels

extension Tensor {
    /// PixelCNN++'s concat_elu (Salimans et al. 2017): [elu(x), elu(−x)] joined along `axis`,
    /// [.., C, ..] → [.., 2C, ..]; for NCHW feature maps (axis 1) channel c of the result is
    /// elu(x_c) and channel C + c is elu(−x_c). Keeps both signs of every value, where one ELU
    /// would squash the negative ones.
    ///
    /// One fused pass: the same values as `Tensor.concat([x.elu(), (-x).elu()], axis:)` with
    /// one output buffer instead of four (negation, two ELUs, their concatenation), and a
    /// backward pass that recomputes the exponentials from the input instead of keeping them.
    public func concatELU(axis: Int = 1) -> Tensor {
        precondition(axis >= 0 && axis < rank, "concatELU: axis \(axis) out of range for shape \(shape)")
        var outShape = shape
        outShape[axis] *= 2
        let groups = shape[..<axis].reduce(1, *)
        let inner = shape[axis...].reduce(1, *)
        let x = self
        let out = makeArray(2 * groups * inner) { y in
            x.data.withUnsafeBufferPointer { px in
                parallelChunks(groups, work: groups * inner) { _, g in
                    ar_concat_elu_forward(px.baseAddress! + g.lowerBound * inner, y + 2 * g.lowerBound * inner,
                                          g.count, inner)
                }
            }
        }
        return Tensor(shape: outShape, data: out, inputs: [x]) { result in
            x.accumulateGrad { dx, initialized in
                x.data.withUnsafeBufferPointer { px in
                    result.grad!.withUnsafeBufferPointer { gy in
                        parallelChunks(groups, work: groups * inner) { _, g in
                            let at = g.lowerBound * inner
                            ar_concat_elu_backward(px.baseAddress! + at, gy.baseAddress! + 2 * at, dx + at,
                                                   g.count, inner, initialized ? 1 : 0)
                        }
                    }
                }
            }
        }
    }
}
