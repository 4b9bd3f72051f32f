extension Tensor {
    /// 2-D convolution (cross-correlation, as in every deep-learning library) of an NCHW
    /// input [N, Cin, H, W] with `weight` [Cout, Cin, KH, KW] plus `bias` [Cout]:
    ///
    ///     out[n, co, oy, ox] = bias[co] + Σ_{ci, ky, kx} (weight ⊙ mask)[co, ci, ky, kx]
    ///                          · in[n, ci, oy − padTop + dy·ky, ox − padLeft + dx·kx]
    ///
    /// with (dy, dx) = `dilation` and zeros outside the image. The output is
    /// [N, Cout, H, W] for `.same` padding (odd kernels; dilation·(K − 1)/2 zeros per side), or
    /// [N, Cout, H + top + bottom − dy·(KH − 1), W + left + right − dx·(KW − 1)] for
    /// `.explicit(top:bottom:left:right:)`.
    ///
    /// `mask` is a fixed tensor of the weight's shape, 0 for taps that must not be used
    /// (PixelCNN's mask A and B): where it is 0 the weight neither affects the output (even if
    /// it is NaN) nor receives any gradient (exactly 0). A tap whose mask is 0 for every channel
    /// pair is left out of the product altogether.
    ///
    /// Differentiable in the input, weight and bias. Traps with a `Conv2DError` message on
    /// arguments that do not fit; `Conv2DGeometry(input:weight:...)` checks without trapping.
    public func conv2d(weight: Tensor, bias: Tensor?, mask: Tensor? = nil,
                       dilation: (Int, Int) = (1, 1), padding: Conv2DPadding = .same) -> Tensor {
        let g: Conv2DGeometry
        do {
            g = try Conv2DGeometry(input: shape, weight: weight.shape, bias: bias?.shape,
                                   mask: mask?.shape, dilation: dilation, padding: padding)
        } catch {
            preconditionFailure("\(error)")
        }
        let x = self
        let cin = g.inChannels, cout = g.outChannels, khw = g.kernelHeight * g.kernelWidth
        let maskData = mask?.data

        // Taps that some (cout, cin) pair uses, in raster order.
        let taps: [(ky: Int, kx: Int)] = (0..<khw).compactMap { t in
            let used = maskData.map { m in (0..<(cout * cin)).contains { m[$0 * khw + t] != 0 } } ?? true
            return used ? (t / g.kernelWidth, t % g.kernelWidth) : nil
        }
        let lowering = Im2Col(geometry: g, taps: taps)
        let rows = lowering.rows, pixels = lowering.pixels, batch = g.batch
        let inSize = cin * g.height * g.width, outSize = cout * pixels

        /// Weight index of (co, ci, kept tap t).
        func weightIndex(_ co: Int, _ ci: Int, _ t: Int) -> Int {
            (co * cin + ci) * khw + taps[t].ky * g.kernelWidth + taps[t].kx
        }
        // The masked weight as the GEMM's left matrix [Cout, rows].
        let wk: [Float] = makeArray(cout * rows) { dst in
            for co in 0..<cout {
                for ci in 0..<cin {
                    for t in 0..<taps.count {
                        let i = weightIndex(co, ci, t)
                        let m = maskData?[i] ?? 1
                        dst[co * rows + ci * taps.count + t] = m == 0 ? 0 : weight.data[i] * m
                    }
                }
            }
        }

        let out = makeArray(batch * outSize) { y in
            for n in 0..<batch {
                for co in 0..<cout {
                    (y + n * outSize + co * pixels).update(repeating: bias?.data[co] ?? 0, count: pixels)
                }
            }
            guard rows > 0, batch > 0 else { return }
            x.data.withUnsafeBufferPointer { px in
                wk.withUnsafeBufferPointer { pw in
                    // One GEMM per image, straight into the NCHW output: [Cout, rows] · [rows, pixels].
                    // One GEMM over the whole batch ([rows, N·pixels] columns, then a transpose)
                    // was 3.5× slower at N = 64, C = 64, 28×28, 3×3 on one thread (223 vs 62 ms
                    // forward): its 115 MB column matrix does not stay in cache.
                    let cols = UnsafeMutablePointer<Float>.allocate(capacity: rows * pixels)
                    defer { cols.deallocate() }
                    for n in 0..<batch {
                        lowering.gather(px.baseAddress! + n * inSize, into: cols, ld: pixels)
                        Gemm.sgemm(m: cout, n: pixels, k: rows, a: pw.baseAddress!, b: cols,
                                   beta: 1, c: y + n * outSize)
                    }
                }
            }
        }

        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        return Tensor(shape: g.outputShape, data: out, inputs: inputs) { result in
            result.grad!.withUnsafeBufferPointer { pg in
                let gy = pg.baseAddress!
                if let bias, bias.requiresGrad {  // dBias = Σ over N, H, W
                    bias.accumulateGrad { gb in
                        for co in 0..<cout {
                            var s: Float = 0
                            for n in 0..<batch {
                                let row = gy + n * outSize + co * pixels
                                for p in 0..<pixels { s += row[p] }
                            }
                            gb[co] += s
                        }
                    }
                }
                guard rows > 0, batch > 0, x.requiresGrad || weight.requiresGrad else { return }
                // dW (before masking) in the GEMM layout [Cout, rows].
                var dwk = [Float](repeating: 0, count: weight.requiresGrad ? cout * rows : 0)
                x.data.withUnsafeBufferPointer { px in
                    wk.withUnsafeBufferPointer { pw in
                        dwk.withUnsafeMutableBufferPointer { pdw in
                            func run(_ gx: UnsafeMutablePointer<Float>?) {
                                // Columns are recomputed per image rather than kept from the
                                // forward pass: the tape then holds no N·rows·pixels buffer.
                                let cols = UnsafeMutablePointer<Float>.allocate(capacity: rows * pixels)
                                defer { cols.deallocate() }
                                for n in 0..<batch {
                                    let gyn = gy + n * outSize
                                    if weight.requiresGrad {  // dW += dOut · colsᵀ
                                        lowering.gather(px.baseAddress! + n * inSize, into: cols, ld: pixels)
                                        Gemm.sgemm(transB: true, m: cout, n: rows, k: pixels, a: gyn, b: cols,
                                                   beta: 1, c: pdw.baseAddress!)
                                    }
                                    if let gx {  // dIn += col2im(Wᵀ · dOut)
                                        Gemm.sgemm(transA: true, m: rows, n: pixels, k: cout,
                                                   a: pw.baseAddress!, b: gyn, c: cols)
                                        lowering.scatterAdd(cols, ld: pixels, into: gx + n * inSize)
                                    }
                                }
                            }
                            if x.requiresGrad { x.accumulateGrad { run($0) } } else { run(nil) }
                        }
                    }
                }
                if weight.requiresGrad {  // masked: dropped taps and zero-mask entries get nothing
                    weight.accumulateGrad { gw in
                        for co in 0..<cout {
                            for ci in 0..<cin {
                                for t in 0..<taps.count {
                                    let i = weightIndex(co, ci, t)
                                    let m = maskData?[i] ?? 1
                                    if m != 0 { gw[i] += dwk[co * rows + ci * taps.count + t] * m }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
