import CKernels

extension Tensor {
    /// Transposed 2-D convolution ("deconvolution", PyTorch's `conv_transpose2d`) of an NCHW
    /// input [N, Cin, h, w] with `weight` [Cin, Cout, KH, KW] plus `bias` [Cout]: the adjoint,
    /// in its input, of `conv2d` with the same weight (read as [Cout → Cin]), dilation, stride
    /// and padding,
    ///
    ///     out[n, co, y, x] = bias[co] + Σ_{ci, ky, kx, oy, ox} weight[ci, co, ky, kx] · in[n, ci, oy, ox]
    ///                        over oy, ox with sy·oy − padTop + dy·ky = y and sx·ox − padLeft + dx·kx = x,
    ///
    /// so that ⟨conv2d(a, W), b⟩ = ⟨a, transposedConv2d(b, W)⟩ without biases. With stride 2 it
    /// doubles the image: PixelCNN++'s upsampling. Padding crops the output (it is the padding
    /// of the convolution it reverses). The output is [N, Cout, H, W] with (H, W) = `outputSize`,
    /// or by default (h − 1)·sy − top − bottom + dy·(KH − 1) + 1 rows (and likewise columns);
    /// any size whose strided convolution gives h × w is allowed (a stride leaves the choice
    /// between `stride` sizes: 2h and 2h − 1 for PixelCNN++'s down-shifted 2×3 with top 1).
    ///
    /// Lowered like `conv2d`, one product per image: Wᵀ · in is the column matrix of the
    /// output, which `Im2Col.scatterAdd` adds into place; the backward pass gathers the output
    /// gradient into columns (`Im2Col.gather`) for dIn = W · cols and dW = in · colsᵀ.
    /// Differentiable in the input, weight and bias; traps with a `Conv2DError` message on
    /// arguments that do not fit (`Conv2DGeometry.transposed` checks without trapping).
    public func transposedConv2d(weight: Tensor, bias: Tensor?, dilation: (Int, Int) = (1, 1),
                                 stride: (Int, Int) = (1, 1), padding: Conv2DPadding = .valid,
                                 outputSize: (height: Int, width: Int)? = nil) -> Tensor {
        let g: Conv2DGeometry
        do {
            g = try Conv2DGeometry.transposed(input: shape, weight: weight.shape, bias: bias?.shape, dilation: dilation,
                                              stride: stride, padding: padding, outputSize: outputSize)
        } catch {
            preconditionFailure("\(error)")
        }
        let x = self
        let khw = g.kernelHeight * g.kernelWidth
        let lowering = Im2Col(geometry: g, taps: (0..<khw).map { ($0 / g.kernelWidth, $0 % g.kernelWidth) })
        // The convolution's Cin is this op's Cout, its Cout this op's Cin.
        let cin = g.outChannels, cout = g.inChannels, batch = g.batch
        let rows = lowering.rows, pixels = lowering.pixels, outPlane = g.height * g.width
        let inSize = cin * pixels, outSize = cout * outPlane
        let outShape = [batch, cout, g.height, g.width]

        let out = makeArray(batch * outSize) { y in
            for n in 0..<batch {
                for co in 0..<cout { (y + n * outSize + co * outPlane).update(repeating: bias?.data[co] ?? 0, count: outPlane) }
            }
            guard batch > 0 else { return }
            x.data.withUnsafeBufferPointer { px in
                weight.data.withUnsafeBufferPointer { pw in
                    parallelChunks(batch) { _, images in
                        let cols = UnsafeMutablePointer<Float>.allocate(capacity: rows * pixels)
                        defer { cols.deallocate() }
                        for n in images {  // cols = Wᵀ · in, added into the output where each column lands
                            Gemm.sgemm(transA: true, m: rows, n: pixels, k: cin, a: pw.baseAddress!,
                                       b: px.baseAddress! + n * inSize, c: cols)
                            lowering.scatterAdd(cols, ld: pixels, into: y + n * outSize)
                        }
                    }
                }
            }
        }

        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        return Tensor(shape: outShape, data: out, inputs: inputs) { result in
            result.grad!.withUnsafeBufferPointer { pg in
                let gy = pg.baseAddress!
                if let bias, bias.requiresGrad {
                    let sums = (0..<cout).map { co in
                        (0..<batch).reduce(Float(0)) { $0 + ar_sum(gy + $1 * outSize + co * outPlane, outPlane) }
                    }
                    bias.accumulateGrad { gb in for co in 0..<cout { gb[co] += sums[co] } }
                }
                guard batch > 0, x.requiresGrad || weight.requiresGrad else { return }
                let workers = min(Gemm.threads, batch)
                var dw = [Float](repeating: 0, count: weight.requiresGrad ? workers * weight.count : 0)
                x.data.withUnsafeBufferPointer { px in
                    weight.data.withUnsafeBufferPointer { pw in
                        dw.withUnsafeMutableBufferPointer { pdw in
                            func run(_ gx: UnsafeMutablePointer<Float>?, initialized: Bool) {
                                parallelChunks(batch) { w, images in
                                    let cols = UnsafeMutablePointer<Float>.allocate(capacity: rows * pixels)
                                    defer { cols.deallocate() }
                                    let dwPart = weight.requiresGrad ? pdw.baseAddress! + w * weight.count : nil
                                    for n in images {
                                        lowering.gather(gy + n * outSize, into: cols, ld: pixels)
                                        if let gx {  // dIn = W · cols
                                            Gemm.sgemm(m: cin, n: pixels, k: rows, a: pw.baseAddress!, b: cols,
                                                       beta: initialized ? 1 : 0, c: gx + n * inSize)
                                        }
                                        if let dwPart {  // dW += in · colsᵀ
                                            Gemm.sgemm(transB: true, m: cin, n: rows, k: pixels, a: px.baseAddress! + n * inSize,
                                                       b: cols, beta: n == images.lowerBound ? 0 : 1, c: dwPart)
                                        }
                                    }
                                }
                            }
                            if x.requiresGrad {
                                x.accumulateGrad { gx, initialized in run(gx, initialized: initialized) }
                            } else {
                                run(nil, initialized: true)
                            }
                        }
                    }
                }
                if weight.requiresGrad {
                    let count = weight.count
                    weight.accumulateGrad { gw in
                        for w in 0..<workers { for i in 0..<count { gw[i] += dw[w * count + i] } }
                    }
                }
            }
        }
    }
}
