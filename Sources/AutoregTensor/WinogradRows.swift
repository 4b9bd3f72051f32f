import CKernels

/// The tap rows of a stride-1, same-size convolution that hold three taps (dx = −d, 0, d) or
/// two (dx = −d, 0), computed with Winograd's minimal filtering along the rows (Lavin & Gray,
/// "Fast Algorithms for Convolutional Neural Networks", 2016). `parts` splits a convolution
/// into one such part per kind of row: PixelCNN's mask B (a row of three above a row of two)
/// has two.
///
/// Two neighbouring outputs of a row (x and x + d) under a 3-tap row need 6 multiply-adds
/// per channel pair; F(2,3) gets them from 4 products of transformed values, F(2,2) from 3
/// instead of 4 for a 2-tap row. Per image and per point of the transform the products are
/// GEMMs, [Cout, Cin] × [Cin, H·W/2] for each tap row, reading the transformed input shifted
/// by the row's offset; the transforms before and after are C loops (winograd.c). The Gated
/// PixelCNN's vertical stack (2 × 3 taps) does 4/6 of the multiply-adds of `ShiftedTaps`,
/// its horizontal stack (1 × 2 taps) 3/4, PixelCNN's 3 × 3 mask B 7/10, PixelCNN++'s
/// down-shifted 2 × 3 and down-right-shifted 2 × 2 kernels 2/3 and 3/4, in all three products
/// of a training step.
///
/// The transforms only add, subtract and halve, so on small integers (the tests' inputs) the
/// result is exact; on real data it differs from the direct sum by rounding.
struct WinogradRows {
    /// Whether eligible convolutions take this path (tests switch it off to compare with the
    /// per-tap products).
    nonisolated(unsafe) static var enabled = true

    /// Taps per row (3 or 2) and points of the transform (4 or 3).
    let taps: Int, points: Int
    /// Per tap row its row offset dy (input row = output row + dy), in the lowering's order.
    let rowOffsets: [Int32]
    /// Per tap row the lowering's index of its taps, left to right.
    let tapIndex: [[Int]]
    /// Taps of the whole lowering (the column layout's width per input channel).
    let keptTaps: Int
    let cin: Int, cout: Int, height: Int, width: Int, dilation: Int
    /// Tiles per row (two outputs each), transformed-input rows above the image, transformed rows.
    let tiles: Int, padTop: Int, paddedRows: Int
    /// The transformed weight, [points][Cout][tap rows · Cin]: per point one matrix whose
    /// column block i (leading dimension tap rows · Cin) is tap row i's forward left matrix, and
    /// whose transpose is the input gradient's left matrix for all tap rows at once.
    let u: [Float]

    var tapRows: Int { rowOffsets.count }

    /// The convolution as one part per kind of tap row (rows of three first), or nil unless
    /// the lowering is stride 1 and same-size, over at least `ShiftedTaps.minimumChannels`
    /// input channels, with every tap row kept whole as three taps at dx = −d, 0, d or two at
    /// dx = −d, 0. `wk` is the masked weight in the column layout [Cout, Cin·taps], entry
    /// (co, ci·taps + t).
    static func parts(_ lowering: Im2Col, wk: [Float]) -> [WinogradRows]? {
        let g = lowering.geometry, d = g.dilationX
        guard enabled, g.inChannels >= ShiftedTaps.minimumChannels, g.strideY == 1, g.strideX == 1,
              g.outHeight == g.height, g.outWidth == g.width, !lowering.taps.isEmpty else { return nil }
        // Group the kept taps by kernel row (raster order keeps each row's taps together).
        var rows: [(ky: Int, indices: [Int])] = []
        for (k, tap) in lowering.taps.enumerated() {
            if rows.last?.ky == tap.ky { rows[rows.count - 1].indices.append(k) } else { rows.append((tap.ky, [k])) }
        }
        for row in rows {
            // Kept columns kx0, kx0 + 1, ... reading dx = −d, 0 (, d).
            let kxs = row.indices.map { lowering.taps[$0].kx }
            guard kxs.count == 3 || kxs.count == 2, kxs == Array(kxs[0] ..< kxs[0] + kxs.count),
                  kxs[0] * d - g.padLeft == -d else { return nil }
        }
        return [3, 2].compactMap { n in
            let kind = rows.filter { $0.indices.count == n }
            return kind.isEmpty ? nil : WinogradRows(lowering, wk: wk, rows: kind)
        }
    }

    /// The part for `rows` (each with the same number of taps, checked by `parts`).
    private init(_ lowering: Im2Col, wk: [Float], rows: [(ky: Int, indices: [Int])]) {
        let g = lowering.geometry, d = g.dilationX, n = rows[0].indices.count
        (taps, points) = (n, n + 1)
        (cin, cout, height, width, dilation) = (g.inChannels, g.outChannels, g.height, g.width, d)
        rowOffsets = rows.map { Int32($0.ky * g.dilationY - g.padTop) }
        tapIndex = rows.map(\.indices)
        keptTaps = lowering.taps.count
        tiles = Int(ar_wino_tiles(Int32(g.width), Int32(d)))
        let dys = rowOffsets.map(Int.init)
        padTop = max(0, -dys.min()!)
        paddedRows = g.height + padTop + max(0, dys.max()!)
        // U = G·g per (tap row, co, ci): F(2,3) G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], F(2,2) [1 0; 1 1; 0 1].
        let (cin, cout, points, tapRows, kept) = (cin, cout, points, rows.count, lowering.taps.count)
        let index = tapIndex, three = n == 3
        u = makeArray(points * tapRows * cout * cin) { dst in
            for (i, row) in index.enumerated() {
                for co in 0..<cout {
                    for ci in 0..<cin {
                        let src = co * cin * kept + ci * kept, g0 = wk[src + row[0]], g1 = wk[src + row[1]]
                        let out = dst + (co * tapRows + i) * cin + ci, plane = tapRows * cout * cin
                        if three {
                            let g2 = wk[src + row[2]]
                            (out[0], out[plane], out[2 * plane], out[3 * plane]) = (g0, 0.5 * (g0 + g1 + g2), 0.5 * (g0 - g1 + g2), g2)
                        } else {
                            (out[0], out[plane], out[2 * plane]) = (g0, g0 + g1, g1)
                        }
                    }
                }
            }
        }
    }

    /// Floats of one transformed input [points][Cin][paddedRows·tiles], one set of products
    /// [points][Cout][H·tiles], and one transformed input gradient [points][tap rows·Cin][H·tiles].
    var inputSize: Int { points * cin * paddedRows * tiles }
    var productSize: Int { points * cout * height * tiles }
    var inputGradientSize: Int { points * tapRows * cin * height * tiles }
    /// Floats of the weight gradient in the transformed layout of `u`.
    var weightSize: Int { points * tapRows * cout * cin }

    /// Per-thread buffers: the transformed input, the products (or their gradient) and the
    /// transformed input gradient (allocated only where wanted).
    struct Scratch {
        let v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>?

        init(_ w: WinogradRows, inputGradient: Bool = false) {
            v = .allocate(capacity: w.inputSize)
            m = .allocate(capacity: w.productSize)
            dv = inputGradient ? .allocate(capacity: w.inputGradientSize) : nil
        }

        func release() { v.deallocate(); m.deallocate(); dv?.deallocate() }
    }

    /// Row `i`'s block of the transformed input of point `p`: [Cin, H·tiles] with row stride
    /// paddedRows·tiles, starting at the transformed row of output row 0.
    @inline(__always)
    private func shiftedInput(_ v: UnsafePointer<Float>, point p: Int, row i: Int) -> UnsafePointer<Float> {
        v + p * cin * paddedRows * tiles + (Int(rowOffsets[i]) + padTop) * tiles
    }

    private func transformInput(_ image: UnsafePointer<Float>, into v: UnsafeMutablePointer<Float>) {
        ar_wino_rows_input(Int32(taps), image, cin, Int32(height), Int32(width), Int32(dilation),
                           Int32(padTop), Int32(paddedRows), v)
    }

    /// Adds the convolution of one image [Cin, H, W] into its output [Cout, H, W].
    func forward(_ image: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, scratch: Scratch) {
        transformInput(image, into: scratch.v)
        let n = height * tiles
        u.withUnsafeBufferPointer { pu in
            for p in 0..<points {
                for i in 0..<tapRows {
                    Gemm.sgemm(m: cout, n: n, k: cin, a: pu.baseAddress! + p * cout * tapRows * cin + i * cin,
                               lda: tapRows * cin,
                               b: shiftedInput(scratch.v, point: p, row: i), ldb: paddedRows * tiles,
                               beta: i == 0 ? 0 : 1, c: scratch.m + p * cout * n)
                }
            }
        }
        ar_wino_rows_output(Int32(taps), scratch.m, cout, Int32(height), Int32(width), Int32(dilation), y)
    }

    /// One image's backward pass from its output gradient `gy` [Cout, H, W]: with `image`
    /// (the convolution's input) adds the weight gradient into `du` (layout of `u`); with `gx`
    /// writes the input gradient there, or adds it when `accumulate` (needs a scratch made
    /// with `inputGradient`).
    func backward(image: UnsafePointer<Float>?, gy: UnsafePointer<Float>, du: UnsafeMutablePointer<Float>?,
                  gx: UnsafeMutablePointer<Float>?, accumulate: Bool, scratch: Scratch) {
        let n = height * tiles
        ar_wino_rows_output_adjoint(Int32(taps), gy, cout, Int32(height), Int32(width), Int32(dilation), scratch.m)
        if let image, let du {  // dU[p][i] += dM[p] · shifted V[p]ᵀ
            transformInput(image, into: scratch.v)
            for p in 0..<points {
                for i in 0..<tapRows {
                    Gemm.sgemm(transB: true, m: cout, n: cin, k: n, a: scratch.m + p * cout * n,
                               b: shiftedInput(scratch.v, point: p, row: i), ldb: paddedRows * tiles,
                               beta: 1, c: du + p * cout * tapRows * cin + i * cin, ldc: tapRows * cin)
                }
            }
        }
        guard let gx, let dv = scratch.dv else { return }
        u.withUnsafeBufferPointer { pu in  // dV[p] = U[p]ᵀ · dM[p], all tap rows in one product
            for p in 0..<points {
                Gemm.sgemm(transA: true, m: tapRows * cin, n: n, k: cout, a: pu.baseAddress! + p * cout * tapRows * cin,
                           b: scratch.m + p * cout * n, c: dv + p * tapRows * cin * n)
            }
        }
        rowOffsets.withUnsafeBufferPointer { dys in
            ar_wino_rows_input_adjoint(Int32(taps), dv, Int32(tapRows), dys.baseAddress!, cin, Int32(height),
                                       Int32(width), Int32(dilation), gx, accumulate ? 1 : 0)
        }
    }

    /// Adds `du` (layout of `u`) into a gradient in the column layout [Cout, Cin·taps]:
    /// dg = Gᵀ·dU per tap row and channel pair.
    func addColumnLayout(_ du: UnsafePointer<Float>, into dwk: UnsafeMutablePointer<Float>) {
        let kept = keptTaps, plane = tapRows * cout * cin
        for (i, row) in tapIndex.enumerated() {
            for co in 0..<cout {
                for ci in 0..<cin {
                    let e = (co * tapRows + i) * cin + ci, dst = dwk + co * cin * kept + ci * kept
                    let d0 = du[e], d1 = du[plane + e], d2 = du[2 * plane + e]
                    if taps == 3 {
                        let d3 = du[3 * plane + e]
                        dst[row[0]] += d0 + 0.5 * (d1 + d2)
                        dst[row[1]] += 0.5 * (d1 - d2)
                        dst[row[2]] += 0.5 * (d1 + d2) + d3
                    } else {
                        dst[row[0]] += d0 + d1
                        dst[row[1]] += d1 + d2
                    }
                }
            }
        }
    }
}
