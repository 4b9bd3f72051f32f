extension Tensor {
    /// Matrix product of `self` [..., K] with `w` [K, N]: leading dimensions are treated as rows.
    public func matmul(_ w: Tensor) -> Tensor { matmul(w, mask: nil) }

    /// Matrix product with a fixed 0/1 `mask` [K, N] applied to the weight: self · (w ⊙ mask).
    /// The weight's gradient is masked too, so masked entries never receive a gradient —
    /// the primitive behind MADE, FVSBN and every other masked autoregressive layer.
    public func matmul(_ w: Tensor, mask: Tensor?) -> Tensor {
        precondition(w.rank == 2, "matmul weight must be 2-D, got \(w.shape)")
        let k = w.shape[0], n = w.shape[1]
        precondition(rank >= 1 && shape[rank - 1] == k,
                     "matmul: input \(shape) does not match weight \(w.shape)")
        if let mask { precondition(mask.shape == w.shape, "mask \(mask.shape) differs from weight \(w.shape)") }
        let m = count / max(k, 1)
        let x = self
        let effective: [Float] = mask.map { mk in
            makeArray(k * n) { y in
                w.data.withUnsafeBufferPointer { pw in mk.data.withUnsafeBufferPointer { pm in
                    for i in 0..<(k * n) { y[i] = pw[i] * pm[i] }
                } }
            }
        } ?? w.data
        let out = x.data.withUnsafeBufferPointer { px in
            effective.withUnsafeBufferPointer { pw in
                makeArray(m * n) { y in
                    Gemm.sgemm(m: m, n: n, k: k, a: px.baseAddress!, b: pw.baseAddress!, c: y)
                }
            }
        }
        var outShape = shape
        outShape[rank - 1] = n
        return Tensor(shape: outShape, data: out, inputs: [x, w]) { result in
            result.grad!.withUnsafeBufferPointer { pg in
                let g = pg.baseAddress!
                if x.requiresGrad {  // dX = G · Wᵀ
                    effective.withUnsafeBufferPointer { pw in
                        x.accumulateGrad { gx in
                            Gemm.sgemm(transB: true, m: m, n: k, k: n, a: g, b: pw.baseAddress!, beta: 1, c: gx)
                        }
                    }
                }
                if w.requiresGrad {  // dW = (Xᵀ · G) ⊙ mask
                    x.data.withUnsafeBufferPointer { px in
                        if let mask {
                            let full = makeArray(k * n) {
                                Gemm.sgemm(transA: true, m: k, n: n, k: m, a: px.baseAddress!, b: g, c: $0)
                            }
                            w.accumulateGrad { gw in
                                mask.data.withUnsafeBufferPointer { pm in
                                    for i in 0..<(k * n) { gw[i] += full[i] * pm[i] }
                                }
                            }
                        } else {
                            w.accumulateGrad { gw in
                                Gemm.sgemm(transA: true, m: k, n: n, k: m, a: px.baseAddress!, b: g, beta: 1, c: gw)
                            }
                        }
                    }
                }
            }
        }
    }
}
