import CKernels

/// One convolution in a sum of convolutions (`Tensor.sumOfConvolutions`): input [N, Cin, H, W],
/// weight [Cout, Cin, KH, KW], optional bias [Cout] and weight mask, dilation, stride and
/// padding, with the meaning `Tensor.conv2d` gives them.
public struct ConvolutionTerm {
    public var input: Tensor
    public var weight: Tensor
    public var bias: Tensor?
    public var mask: Tensor?
    public var dilation: (Int, Int)
    /// (rows, columns) between output positions in the input: (2, 2) halves the image.
    public var stride: (Int, Int)
    public var padding: Conv2DPadding
    /// Convolve max(input, 0) instead of the input. The rectified input is recomputed per
    /// image where the products need it and never stored: PixelCNN's ReLU-then-convolution
    /// keeps one activation per layer instead of two.
    public var reluInput: Bool

    public init(input: Tensor, weight: Tensor, bias: Tensor?, mask: Tensor? = nil,
                dilation: (Int, Int) = (1, 1), stride: (Int, Int) = (1, 1), padding: Conv2DPadding = .same,
                reluInput: Bool = false) {
        (self.input, self.weight, self.bias, self.mask) = (input, weight, bias, mask)
        (self.dilation, self.stride, self.padding, self.reluInput) = (dilation, stride, padding, reluInput)
    }
}

extension Tensor {
    /// 2-D convolution (cross-correlation, as in every deep-learning library) of an NCHW
    /// input [N, Cin, H, W] with `weight` [Cout, Cin, KH, KW] plus `bias` [Cout]:
    ///
    ///     out[n, co, oy, ox] = bias[co] + Σ_{ci, ky, kx} (weight ⊙ mask)[co, ci, ky, kx]
    ///                          · in[n, ci, sy·oy − padTop + dy·ky, sx·ox − padLeft + dx·kx]
    ///
    /// with (dy, dx) = `dilation`, (sy, sx) = `stride` and zeros outside the image. The output
    /// is [N, Cout, H, W] for `.same` padding (odd kernels, stride 1; dilation·(K − 1)/2 zeros
    /// per side), or [N, Cout, (H + top + bottom − dy·(KH − 1) − 1)/sy + 1,
    /// (W + left + right − dx·(KW − 1) − 1)/sx + 1] for `.explicit(top:bottom:left:right:)`.
    /// PixelCNN++ downsamples with a stride of 2; `transposedConv2d` is the adjoint.
    ///
    /// `mask` is a fixed tensor of the weight's shape, 0 for taps that must not be used
    /// (PixelCNN's mask A and B): where it is 0 the weight neither affects the output (even if
    /// it is NaN) nor receives any gradient (exactly 0). A tap whose mask is 0 for every channel
    /// pair is left out of the product altogether.
    ///
    /// Differentiable in the input, weight and bias. Traps with a `Conv2DError` message on
    /// arguments that do not fit; `Conv2DGeometry(input:weight:...)` checks without trapping.
    public func conv2d(weight: Tensor, bias: Tensor?, mask: Tensor? = nil, dilation: (Int, Int) = (1, 1),
                       stride: (Int, Int) = (1, 1), padding: Conv2DPadding = .same) -> Tensor {
        Tensor.sumOfConvolutions([ConvolutionTerm(input: self, weight: weight, bias: bias, mask: mask,
                                                  dilation: dilation, stride: stride, padding: padding)])
    }

    /// Σ_t conv2d(term t): several convolutions with outputs of one shape, added in a single
    /// output buffer (one pass, no intermediate sums). The Gated PixelCNN's horizontal
    /// pre-activation — its 1×k convolution plus the 1×1 link from the vertical stack — is one.
    ///
    /// With `residual` (of the output's shape) the result is residual + Σ_t conv2d(term t):
    /// a residual block's addition without a separate stored sum.
    public static func sumOfConvolutions(_ terms: [ConvolutionTerm], plus residual: Tensor? = nil) -> Tensor {
        sumOfConvolutions(terms, residual: residual, row: nil)
    }

    /// Σ_t conv2d(term t) plus row `row` of `map` [N, Cout, S, P], where P is the output's
    /// H·W: out[n, co, p] = map[n, co, row, p] + Σ_t …, read in place. The PixelRNN layers
    /// add their input-to-state terms this way at each of their S steps, where `map.row(row)`
    /// would copy them out and keep the copy on the tape: as much again as the whole map.
    /// Differentiable in `map` (row `row` receives the output's gradient) and the terms.
    public static func sumOfConvolutions(_ terms: [ConvolutionTerm], plusRow row: Int, of map: Tensor) -> Tensor {
        precondition(map.rank == 4 && row >= 0 && row < map.shape[2],
                     "sumOfConvolutions: row \(row) of a map [N, Cout, S, P], got \(map.shape)")
        return sumOfConvolutions(terms, residual: map, row: row)
    }

    /// The shared body: `residual` has the output's shape (`row` nil), or is a map
    /// [N, Cout, S, P] whose row `row` is added.
    private static func sumOfConvolutions(_ terms: [ConvolutionTerm], residual: Tensor?, row: Int?) -> Tensor {
        precondition(!terms.isEmpty, "sumOfConvolutions needs at least one term")
        let convs = terms.map { LoweredConvolution($0) }
        let shape = convs[0].geometry.outputShape
        for c in convs where c.geometry.outputShape != shape {
            preconditionFailure("sumOfConvolutions: output shapes differ, \(shape) and \(c.geometry.outputShape)")
        }
        let batch = shape[0], cout = shape[1], pixels = shape[2] * shape[3], outSize = cout * pixels
        let rows = row == nil ? 1 : residual?.shape[2] ?? 1
        if let residual, row == nil, residual.shape != shape {
            preconditionFailure("sumOfConvolutions: residual \(residual.shape) differs from the output \(shape)")
        }
        if let residual, row != nil, residual.shape != [batch, cout, rows, pixels] {
            preconditionFailure("sumOfConvolutions: map \(residual.shape) does not hold rows of the output \(shape)")
        }
        /// Where the residual's values for (image n, channel co) start.
        func residualStart(_ n: Int, _ co: Int) -> Int { ((n * cout + co) * rows + (row ?? 0)) * pixels }

        let out = makeArray(batch * outSize) { y in
            var bias = [Float](repeating: 0, count: cout)
            for t in terms { if let b = t.bias { for co in 0..<cout { bias[co] += b.data[co] } } }
            for n in 0..<batch {
                for co in 0..<cout {
                    let dst = y + n * outSize + co * pixels
                    if let residual {
                        residual.data.withUnsafeBufferPointer { r in
                            let start = residualStart(n, co)
                            for p in 0..<pixels { dst[p] = r[start + p] + bias[co] }
                        }
                    } else {
                        dst.update(repeating: bias[co], count: pixels)
                    }
                }
            }
            for c in convs { c.forward(into: y) }
        }

        let inputs = terms.flatMap { [$0.input, $0.weight] + ($0.bias.map { [$0] } ?? []) } + (residual.map { [$0] } ?? [])
        return Tensor(shape: shape, data: out, inputs: inputs) { result in
            if row == nil {
                residual?.accumulateGrad(result.grad!)  // shares the buffer when it has none yet
            } else if let residual {
                result.grad!.withUnsafeBufferPointer { pg in
                    residual.accumulateGrad { gx, initialized in
                        if !initialized { gx.initialize(repeating: 0, count: residual.count) }
                        for n in 0..<batch {
                            for co in 0..<cout {
                                ar_accumulate(pg.baseAddress! + n * outSize + co * pixels, gx + residualStart(n, co), pixels)
                            }
                        }
                    }
                }
            }
            result.grad!.withUnsafeBufferPointer { pg in
                let gy = pg.baseAddress!
                // dBias = Σ over N, H, W, the same for every term's bias: summed once, by the
                // first convolution with products to run, per image while that image's output
                // gradient is in cache for its products (a pass of its own read it from memory).
                let biases = terms.compactMap(\.bias).filter(\.requiresGrad)
                var sums = [Float](repeating: 0, count: biases.isEmpty ? 0 : cout)
                let summing = biases.isEmpty ? nil : convs.firstIndex(where: \.hasBackwardWork)
                sums.withUnsafeMutableBufferPointer { ps in
                    if !biases.isEmpty, summing == nil {
                        for co in 0..<cout {
                            ps[co] = (0..<batch).reduce(Float(0)) { $0 + ar_sum(gy + $1 * outSize + co * pixels, pixels) }
                        }
                    }
                    for (i, c) in convs.enumerated() { c.backward(gy, biasSums: i == summing ? ps.baseAddress : nil) }
                }
                for bias in biases { bias.accumulateGrad { gb in for co in 0..<cout { gb[co] += sums[co] } } }
            }
        }
    }
}

/// One convolution lowered to per-image matrix products over the kept taps.
struct LoweredConvolution {
    let term: ConvolutionTerm
    let geometry: Conv2DGeometry
    let lowering: Im2Col
    /// The masked weight as the GEMM's left matrix [Cout, rows].
    let wk: [Float]
    /// True when the column matrix would be the input image itself (a 1×1 convolution
    /// without padding): the products then read the input directly.
    let direct: Bool
    /// For a stride-1 convolution whose output has the input's size (every shifted or masked
    /// one of the models): the lowering of the input gradient as a convolution of the output
    /// gradient [N, Cout, H, W] with the flipped kept taps, rows co·taps + t. Its product
    /// adds into the input gradient directly, where the general path writes a Cin·taps × H·W
    /// column matrix and scatters it back.
    let adjoint: Im2Col?
    /// For a stride-1 convolution as wide as its input, over at least
    /// `ShiftedTaps.minimumChannels` channels: the output and the weight gradient as one
    /// product per kept tap from the shifted input planes, without the column matrix.
    let shifted: ShiftedTaps?
    /// For such a convolution whose kept taps form rows of three or two (the Gated PixelCNN's
    /// stacks, PixelCNN's mask B): all three products with Winograd's minimal filtering along
    /// the rows, one part per kind of row; empty otherwise.
    let winograd: [WinogradRows]

    var cin: Int { geometry.inChannels }
    var cout: Int { geometry.outChannels }
    var khw: Int { geometry.kernelHeight * geometry.kernelWidth }

    init(_ t: ConvolutionTerm) {
        let g: Conv2DGeometry
        do {
            g = try Conv2DGeometry(input: t.input.shape, weight: t.weight.shape, bias: t.bias?.shape,
                                   mask: t.mask?.shape, dilation: t.dilation, stride: t.stride, padding: t.padding)
        } catch {
            preconditionFailure("\(error)")
        }
        term = t
        geometry = g
        let cin = g.inChannels, cout = g.outChannels, khw = g.kernelHeight * g.kernelWidth
        let maskData = t.mask?.data
        // Taps that some (cout, cin) pair uses, in raster order.
        let taps: [(ky: Int, kx: Int)] = (0..<khw).compactMap { k in
            let used = maskData.map { m in (0..<(cout * cin)).contains { m[$0 * khw + k] != 0 } } ?? true
            return used ? (k / g.kernelWidth, k % g.kernelWidth) : nil
        }
        lowering = Im2Col(geometry: g, taps: taps)
        direct = taps.count == 1 && lowering.isIdentity(taps[0])
        let rows = lowering.rows, weight = t.weight.data
        wk = makeArray(cout * rows) { dst in
            for co in 0..<cout {
                for ci in 0..<cin {
                    for (k, tap) in taps.enumerated() {
                        let i = (co * cin + ci) * khw + tap.ky * g.kernelWidth + tap.kx
                        let m = maskData?[i] ?? 1
                        dst[co * rows + ci * taps.count + k] = m == 0 ? 0 : weight[i] * m
                    }
                }
            }
        }
        winograd = direct ? [] : WinogradRows.parts(lowering, wk: wk) ?? []
        shifted = direct || !winograd.isEmpty ? nil : ShiftedTaps(lowering, wk: wk)
        adjoint = direct || !winograd.isEmpty ? nil : Self.adjointLowering(g, taps: taps)
    }

    /// The input-gradient lowering (see `adjoint`), or nil where the convolution is strided
    /// or changes the size. Input (y, x) receives from output (y − dy, x − dx) for a tap that
    /// reads at offset (dy, dx); the flipped tap (KH − 1 − ky, KW − 1 − kx) under padding
    /// (dilY·(KH − 1) − top, top, dilX·(KW − 1) − left, left) reads at exactly (−dy, −dx).
    static func adjointLowering(_ g: Conv2DGeometry, taps: [(ky: Int, kx: Int)]) -> Im2Col? {
        guard g.strideY == 1, g.strideX == 1, g.outHeight == g.height, g.outWidth == g.width else { return nil }
        let spanY = g.dilationY * (g.kernelHeight - 1), spanX = g.dilationX * (g.kernelWidth - 1)
        guard let t = try? Conv2DGeometry(input: [g.batch, g.outChannels, g.height, g.width],
                                          weight: [g.inChannels, g.outChannels, g.kernelHeight, g.kernelWidth],
                                          dilation: (g.dilationY, g.dilationX),
                                          padding: .explicit(top: spanY - g.padTop, bottom: g.padTop,
                                                             left: spanX - g.padLeft, right: g.padLeft)),
              t.outHeight == g.height, t.outWidth == g.width else { return nil }
        return Im2Col(geometry: t, taps: taps.map { (g.kernelHeight - 1 - $0.ky, g.kernelWidth - 1 - $0.kx) })
    }

    /// The masked weight for the adjoint product, [Cin, Cout·taps]: entry (ci, co·taps + t)
    /// is `wk`'s (co, ci·taps + t).
    func adjointWeight() -> [Float] {
        let t = lowering.taps.count, rows = lowering.rows, width = cout * t
        return makeArray(cin * width) { dst in
            for co in 0..<cout {
                for ci in 0..<cin {
                    for k in 0..<t { dst[ci * width + co * t + k] = wk[co * rows + ci * t + k] }
                }
            }
        }
    }

    /// Whether the products need a per-image column buffer: a lowered input, or a direct
    /// one that must be rectified first.
    var needsColumns: Bool { !direct || term.reluInput }

    /// The GEMM's right matrix for `image`: the image itself (direct), or its columns written
    /// into `cols`, rectified when the term says so.
    @inline(__always)
    func columns(_ image: UnsafePointer<Float>, _ cols: UnsafeMutablePointer<Float>?) -> UnsafePointer<Float> {
        guard let cols else { return image }
        if direct { return input(image, cols) }  // rectified (needsColumns)
        lowering.gather(image, into: cols, ld: lowering.pixels)
        if term.reluInput { ar_relu_inplace(cols, lowering.rows * lowering.pixels) }
        return UnsafePointer(cols)
    }

    /// The convolution's input for `image`: the image itself, or rectified into `buffer`
    /// when the term says so.
    @inline(__always)
    func input(_ image: UnsafePointer<Float>, _ buffer: UnsafeMutablePointer<Float>?) -> UnsafePointer<Float> {
        guard let buffer else { return image }
        ar_relu(image, buffer, cin * geometry.height * geometry.width)
        return UnsafePointer(buffer)
    }

    /// Weight index of (co, ci, kept tap k).
    func weightIndex(_ co: Int, _ ci: Int, _ k: Int) -> Int {
        let tap = lowering.taps[k]
        return (co * cin + ci) * khw + tap.ky * geometry.kernelWidth + tap.kx
    }

    /// Adds this convolution (without bias) into the output `y` [N, Cout, outH, outW].
    ///
    /// One GEMM per image, straight into the NCHW output: [Cout, rows] · [rows, pixels].
    /// One GEMM over the whole batch ([rows, N·pixels] columns, then a transpose) was 3.5×
    /// slower at N = 64, C = 64, 28×28, 3×3 on one thread: its 115 MB column matrix does not
    /// stay in cache. With several threads, each takes a share of the images.
    func forward(into y: UnsafeMutablePointer<Float>) {
        let rows = lowering.rows, pixels = lowering.pixels, batch = geometry.batch
        let inSize = cin * geometry.height * geometry.width, outSize = cout * pixels
        guard rows > 0, batch > 0 else { return }
        if !winograd.isEmpty {
            term.input.data.withUnsafeBufferPointer { px in
                parallelChunks(batch) { _, images in
                    let scratch = winograd.map { WinogradRows.Scratch($0) }
                    let rectified = term.reluInput ? UnsafeMutablePointer<Float>.allocate(capacity: inSize) : nil
                    defer { scratch.forEach { $0.release() }; rectified?.deallocate() }
                    for n in images {
                        let image = input(px.baseAddress! + n * inSize, rectified)
                        for (part, s) in zip(winograd, scratch) { part.forward(image, into: y + n * outSize, scratch: s) }
                    }
                }
            }
            return
        }
        if let shifted {
            term.input.data.withUnsafeBufferPointer { px in
                parallelChunks(batch) { _, images in
                    let scratch = ShiftedTaps.Scratch(shifted)
                    let rectified = term.reluInput ? UnsafeMutablePointer<Float>.allocate(capacity: inSize) : nil
                    defer { scratch.release(); rectified?.deallocate() }
                    for n in images {
                        shifted.forward(input(px.baseAddress! + n * inSize, rectified), into: y + n * outSize, scratch: scratch)
                    }
                }
            }
            return
        }
        term.input.data.withUnsafeBufferPointer { px in
            wk.withUnsafeBufferPointer { pw in
                parallelChunks(batch) { _, images in
                    let cols = needsColumns ? UnsafeMutablePointer<Float>.allocate(capacity: rows * pixels) : nil
                    defer { cols?.deallocate() }
                    for n in images {
                        let b = columns(px.baseAddress! + n * inSize, cols)
                        Gemm.sgemm(m: cout, n: pixels, k: rows, a: pw.baseAddress!, b: b, beta: 1, c: y + n * outSize)
                    }
                }
            }
        }
    }

    /// Whether `backward` has products to run: a gradient for the input or the weight.
    var hasBackwardWork: Bool {
        lowering.rows > 0 && geometry.batch > 0 && (term.input.requiresGrad || term.weight.requiresGrad)
    }

    /// Accumulates the input and weight gradients from the output gradient `gy`; with
    /// `biasSums` [Cout] (only where `hasBackwardWork`), also writes there the sum of `gy`
    /// over images and pixels per output channel: the bias gradient.
    func backward(_ gy: UnsafePointer<Float>, biasSums: UnsafeMutablePointer<Float>? = nil) {
        let x = term.input, weight = term.weight
        let rows = lowering.rows, pixels = lowering.pixels, batch = geometry.batch
        let inSize = cin * geometry.height * geometry.width, outSize = cout * pixels
        precondition(biasSums == nil || hasBackwardWork, "backward: bias sums from a convolution without products")
        guard hasBackwardWork else { return }
        let workers = min(Gemm.threads, batch)
        // dW (before masking) in the GEMM layout [Cout, rows], one partial sum per thread.
        var dwk = [Float](repeating: 0, count: weight.requiresGrad ? workers * cout * rows : 0)
        // The bias sums, one partial [Cout] per thread (added in thread order at the end).
        var biasPartials = [Float](repeating: 0, count: biasSums == nil ? 0 : workers * cout)
        let wt = x.requiresGrad && adjoint != nil ? adjointWeight() : []
        // The direct, adjoint and Winograd products write each image's whole input gradient,
        // so the first gradient into x needs no zeroed buffer.
        let writesAll = direct || adjoint != nil || !winograd.isEmpty
        x.data.withUnsafeBufferPointer { px in
            wk.withUnsafeBufferPointer { pw in
              wt.withUnsafeBufferPointer { pwt in
                dwk.withUnsafeMutableBufferPointer { pdw in
                  biasPartials.withUnsafeMutableBufferPointer { pbias in
                    func run(_ gx: UnsafeMutablePointer<Float>?, initialized: Bool) {
                        parallelChunks(batch) { w, images in
                            // Columns are recomputed per image rather than kept from the forward
                            // pass: the tape then holds no N·rows·pixels buffer.
                            // The column matrix serves dW unless the taps are shifted planes, and the
                            // scatter path's dIn.
                            let cols = needsColumns && winograd.isEmpty && (shifted == nil || (gx != nil && !writesAll))
                                ? UnsafeMutablePointer<Float>.allocate(capacity: rows * pixels) : nil
                            // With a rectified input, dIn goes through a buffer and then the ReLU's mask.
                            let staged = term.reluInput ? UnsafeMutablePointer<Float>.allocate(capacity: inSize) : nil
                            let adjointCols = gx != nil ? adjoint.map { UnsafeMutablePointer<Float>.allocate(capacity: $0.rows * $0.pixels) } : nil
                            // dW from shifted planes: the rectified input, and the taps' own layout.
                            let tapScratch = weight.requiresGrad ? shifted.map { ShiftedTaps.Scratch($0) } : nil
                            // Winograd: each part's buffers, and its dW in its transformed layout.
                            let winoScratch = winograd.map { WinogradRows.Scratch($0, inputGradient: gx != nil) }
                            let winoGradient: [UnsafeMutablePointer<Float>] = weight.requiresGrad ? winograd.map { w in
                                let du = UnsafeMutablePointer<Float>.allocate(capacity: w.weightSize)
                                du.initialize(repeating: 0, count: w.weightSize)
                                return du
                            } : []
                            let rectified = (tapScratch != nil || !winoGradient.isEmpty) && term.reluInput
                                ? UnsafeMutablePointer<Float>.allocate(capacity: inSize) : nil
                            let tapGradient = tapScratch != nil ? UnsafeMutablePointer<Float>.allocate(capacity: cout * rows) : nil
                            tapGradient?.initialize(repeating: 0, count: cout * rows)
                            defer {
                                cols?.deallocate(); staged?.deallocate(); adjointCols?.deallocate()
                                tapScratch?.release(); rectified?.deallocate(); tapGradient?.deallocate()
                                winoScratch.forEach { $0.release() }; winoGradient.forEach { $0.deallocate() }
                            }
                            let dw = weight.requiresGrad ? pdw.baseAddress! + w * cout * rows : nil
                            for n in images {
                                let gyn = gy + n * outSize, image = px.baseAddress! + n * inSize
                                if biasSums != nil {
                                    let partial = pbias.baseAddress! + w * cout
                                    for co in 0..<cout { partial[co] += ar_sum(gyn + co * pixels, pixels) }
                                }
                                if !winograd.isEmpty {  // both gradients through the transforms, part after part
                                    let gxn = gx.map { $0 + n * inSize }
                                    let source = winoGradient.isEmpty ? nil : input(image, rectified)
                                    for (j, part) in winograd.enumerated() {
                                        part.backward(image: source, gy: gyn, du: winoGradient.isEmpty ? nil : winoGradient[j],
                                                      gx: gxn.map { staged ?? $0 },
                                                      accumulate: j > 0 || (initialized && staged == nil), scratch: winoScratch[j])
                                    }
                                    if let staged, let gxn { ar_relu_backward(image, staged, gxn, inSize, initialized ? 1 : 0) }
                                    continue
                                }
                                if let shifted, let tapScratch, let tapGradient {  // dW_t += dOut · shifted(x)ᵀ
                                    shifted.weightGradient(input(image, rectified), gyn, into: tapGradient, scratch: tapScratch)
                                } else if let dw {  // dW += dOut · colsᵀ
                                    Gemm.sgemm(transB: true, m: cout, n: rows, k: pixels, a: gyn, b: columns(image, cols),
                                               beta: n == images.lowerBound ? 0 : 1, c: dw)
                                }
                                guard let gx else { continue }
                                let gxn = gx + n * inSize
                                if direct {  // dIn += Wᵀ · dOut, in place unless rectified
                                    Gemm.sgemm(transA: true, m: rows, n: pixels, k: cout, a: pw.baseAddress!, b: gyn,
                                               beta: initialized && staged == nil ? 1 : 0, c: staged ?? gxn)
                                } else if let adjoint, let adjointCols {  // dIn += W̃ · lowered(dOut)
                                    adjoint.gather(gyn, into: adjointCols, ld: pixels)
                                    Gemm.sgemm(m: cin, n: pixels, k: adjoint.rows, a: pwt.baseAddress!, b: adjointCols,
                                               beta: initialized && staged == nil ? 1 : 0, c: staged ?? gxn)
                                } else {  // dIn += col2im(Wᵀ · dOut)
                                    Gemm.sgemm(transA: true, m: rows, n: pixels, k: cout,
                                               a: pw.baseAddress!, b: gyn, c: cols!)
                                    if let staged { staged.update(repeating: 0, count: inSize) }
                                    lowering.scatterAdd(cols!, ld: pixels, into: staged ?? gxn)
                                }
                                if let staged {  // through the ReLU: only where the input was positive
                                    ar_relu_backward(image, staged, gxn, inSize, initialized || !writesAll ? 1 : 0)
                                }
                            }
                            if let shifted, let tapGradient, let dw { shifted.addColumnLayout(tapGradient, into: dw) }
                            if let dw { for (part, du) in zip(winograd, winoGradient) { part.addColumnLayout(du, into: dw) } }
                        }
                    }
                    if !x.requiresGrad {
                        run(nil, initialized: true)
                    } else if writesAll {
                        x.accumulateGrad { gx, initialized in run(gx, initialized: initialized) }
                    } else {
                        x.accumulateGrad { gx in run(gx, initialized: true) }
                    }
                    for w in 1..<max(workers, 1) where weight.requiresGrad {
                        for i in 0..<(cout * rows) { pdw[i] += pdw[w * cout * rows + i] }
                    }
                    if let biasSums {
                        for co in 0..<cout { biasSums[co] = (0..<workers).reduce(Float(0)) { $0 + pbias[$1 * cout + co] } }
                    }
                  }
                }
              }
            }
        }
        if weight.requiresGrad {  // masked: dropped taps and zero-mask entries get nothing
            let maskData = term.mask?.data
            weight.accumulateGrad { gw in
                for co in 0..<cout {
                    for ci in 0..<cin {
                        for k in 0..<lowering.taps.count {
                            let i = weightIndex(co, ci, k)
                            let m = maskData?[i] ?? 1
                            if m != 0 { gw[i] += dwk[co * rows + ci * lowering.taps.count + k] * m }
                        }
                    }
                }
            }
        }
    }
}
