/// A stride-1 convolution whose output is as wide as its input, computed one kept tap at a
/// time straight from the input planes, without a column matrix.
///
/// Tap t reads input index p + offset for output pixel p, so its share of the output is one
/// product of its [Cout, Cin] weight with the input planes shifted by `offset`: a block of
/// the [Cin, H·W] input with row stride H·W, which the product reads in place. The few
/// output pixels of the block whose read wrapped around a left or right edge (the padding)
/// are taken back out with a small product over just those pixels. The weight gradient is
/// the same product transposed. Against gathering the kept taps into a column matrix first
/// this saves writing and rereading Cin·taps·H·W floats per image, twice per training step
/// (docs/BENCHMARKS.md, "PixelCNN++ against PyTorch: convolutions from shifted planes"). The input gradient keeps the
/// `adjoint` lowering of `LoweredConvolution`, which measured as fast or faster.
struct ShiftedTaps {
    struct Tap {
        /// Output pixels [start, end) read input index p + offset.
        let start: Int, end: Int, offset: Int
        /// The pixels of [start, end) whose read wrapped around an edge.
        let wrapped: [Int]
    }

    let taps: [Tap]
    /// Per tap its masked weight [Cout, Cin], tap after tap.
    let weights: [Float]
    let cin: Int, cout: Int
    /// Floats per input plane (H·W) and per output plane (outH·outW).
    let inPlane: Int, outPlane: Int
    /// The most wrapped pixels of any tap (the size of the correction's scratch).
    let mostWrapped: Int

    /// Input channels below which the per-tap products, K = Cin each, run slower than one
    /// product over the column matrix: a 7×7 mask-A layer on one grey channel 4× slower, and
    /// the Row LSTM (its 1×3 input-to-state convolution reads 32 channels) trained 5 % slower.
    static let minimumChannels = 64

    /// nil where the lowering is not flat or has too few input channels. `wk` is the masked
    /// weight in the column layout [Cout, Cin·taps], entry (co, ci·taps + t).
    init?(_ lowering: Im2Col, wk: [Float]) {
        let g = lowering.geometry
        guard g.inChannels >= Self.minimumChannels, let blocks = lowering.shiftedBlocks() else { return nil }
        (cin, cout) = (g.inChannels, g.outChannels)
        (inPlane, outPlane) = (g.height * g.width, g.outHeight * g.outWidth)
        taps = blocks
        mostWrapped = taps.map(\.wrapped.count).max() ?? 0
        let t = blocks.count, ni = g.inChannels, no = g.outChannels, rows = ni * t
        weights = makeArray(t * no * ni) { dst in
            for k in 0..<t {
                for co in 0..<no {
                    for ci in 0..<ni { dst[(k * no + co) * ni + ci] = wk[co * rows + ci * t + k] }
                }
            }
        }
    }

    /// Per-thread scratch for the edge corrections: the wrapped inputs [Cin, m], output
    /// gradients [Cout, m] and the correction [max(Cin, Cout), m].
    struct Scratch {
        let inputs: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>
        let product: UnsafeMutablePointer<Float>

        init(_ s: ShiftedTaps) {
            let m = max(s.mostWrapped, 1)
            inputs = .allocate(capacity: s.cin * m)
            gradients = .allocate(capacity: s.cout * m)
            product = .allocate(capacity: max(s.cin, s.cout) * m)
        }

        func release() { inputs.deallocate(); gradients.deallocate(); product.deallocate() }
    }

    /// Copies `planes` (channels × `stride` floats) at a tap's wrapped pixels, [channels, m]:
    /// the inputs they read (planes shifted by the tap's offset) or their output gradients.
    private func gatherWrapped(_ tap: Tap, _ planes: UnsafePointer<Float>, channels: Int, stride: Int,
                               into e: UnsafeMutablePointer<Float>) {
        let m = tap.wrapped.count
        for c in 0..<channels {
            let plane = planes + c * stride, row = e + c * m
            for (j, p) in tap.wrapped.enumerated() { row[j] = plane[p] }
        }
    }

    /// Adds the convolution of one image [Cin, H, W] into its output [Cout, outH, outW].
    func forward(_ image: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, scratch: Scratch) {
        weights.withUnsafeBufferPointer { pw in
            for (k, tap) in taps.enumerated() where tap.end > tap.start {
                let w = pw.baseAddress! + k * cout * cin, n = tap.end - tap.start
                Gemm.sgemm(m: cout, n: n, k: cin, a: w, b: image + (tap.start + tap.offset), ldb: inPlane,
                           beta: 1, c: y + tap.start, ldc: outPlane)
                let m = tap.wrapped.count
                guard m > 0 else { continue }
                // y[:, wrapped] −= W_t · x[:, wrapped + offset]
                gatherWrapped(tap, image + tap.offset, channels: cin, stride: inPlane, into: scratch.inputs)
                Gemm.sgemm(m: cout, n: m, k: cin, a: w, b: scratch.inputs, c: scratch.product)
                for co in 0..<cout {
                    let out = y + co * outPlane, row = scratch.product + co * m
                    for (j, p) in tap.wrapped.enumerated() { out[p] -= row[j] }
                }
            }
        }
    }

    /// Adds one image's weight gradient into `dw`, laid out as `weights` ([Cout, Cin] per tap).
    func weightGradient(_ image: UnsafePointer<Float>, _ gy: UnsafePointer<Float>,
                        into dw: UnsafeMutablePointer<Float>, scratch: Scratch) {
        for (k, tap) in taps.enumerated() where tap.end > tap.start {
            let d = dw + k * cout * cin, n = tap.end - tap.start
            // dW_t += dOut[:, block] · x[:, block + offset]ᵀ
            Gemm.sgemm(transB: true, m: cout, n: cin, k: n, a: gy + tap.start, lda: outPlane,
                       b: image + (tap.start + tap.offset), ldb: inPlane, beta: 1, c: d)
            let m = tap.wrapped.count
            guard m > 0 else { continue }
            // less dOut[:, wrapped] · x[:, wrapped + offset]ᵀ
            gatherWrapped(tap, image + tap.offset, channels: cin, stride: inPlane, into: scratch.inputs)
            gatherWrapped(tap, gy, channels: cout, stride: outPlane, into: scratch.gradients)
            Gemm.sgemm(transB: true, m: cout, n: cin, k: m, alpha: -1, a: scratch.gradients, b: scratch.inputs,
                       beta: 1, c: d)
        }
    }

    /// Adds `dw` (layout of `weights`) into a gradient in the column layout [Cout, Cin·taps].
    func addColumnLayout(_ dw: UnsafePointer<Float>, into dwk: UnsafeMutablePointer<Float>) {
        let t = taps.count, rows = cin * t
        for k in 0..<t {
            for co in 0..<cout {
                for ci in 0..<cin { dwk[co * rows + ci * t + k] += dw[(k * cout + co) * cin + ci] }
            }
        }
    }
}
