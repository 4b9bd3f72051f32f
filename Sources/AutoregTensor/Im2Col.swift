/// Lowers a convolution to a matrix product: the "column" matrix of one image has one row
/// per (input channel, kept kernel tap) — row ci·taps.count + t — and one column per output
/// pixel, holding the input value that tap reads there (zero in the padding). With a stride
/// the columns read every strideY-th row and strideX-th column.
struct Im2Col {
    let geometry: Conv2DGeometry
    /// Kernel taps (ky, kx) that take part; the others are left out of the product.
    let taps: [(ky: Int, kx: Int)]

    /// Rows of the column matrix: Cin · taps.count.
    var rows: Int { geometry.inChannels * taps.count }
    /// Columns per image: outHeight · outWidth.
    var pixels: Int { geometry.outHeight * geometry.outWidth }

    /// For tap (ky, kx): the input offset of output (0, 0), and the range of output columns
    /// whose input column strideX·ox + dx lies inside the image.
    @inline(__always)
    private func placement(_ tap: (ky: Int, kx: Int)) -> (dy: Int, dx: Int, lo: Int, hi: Int) {
        let g = geometry, ow = g.outWidth, s = g.strideX
        let dy = tap.ky * g.dilationY - g.padTop, dx = tap.kx * g.dilationX - g.padLeft
        /// ⌈a / s⌉ for any sign of a.
        func ceilDiv(_ a: Int) -> Int { a >= 0 ? (a + s - 1) / s : -((-a) / s) }
        let lo = min(ow, max(0, ceilDiv(-dx)))
        return (dy, dx, lo, max(lo, min(ow, ceilDiv(g.width - dx))))
    }

    /// Whether `tap` alone reads the input unshifted over an output of the input's size, so
    /// that its column matrix is the image itself.
    func isIdentity(_ tap: (ky: Int, kx: Int)) -> Bool {
        let g = geometry
        return tap.ky * g.dilationY == g.padTop && tap.kx * g.dilationX == g.padLeft
            && g.strideY == 1 && g.strideX == 1 && g.outHeight == g.height && g.outWidth == g.width
    }

    /// Whether a tap's column row is the input plane read at one constant offset: with stride 1
    /// and an output as wide as the input, output pixel p reads input index p + dy·W + dx, so a
    /// row is one block copy (or one block add) plus the few entries that wrap past a left or
    /// right edge. Every shifted and masked convolution of the models takes this path; strided
    /// ones read every second column and go row by row.
    private var flat: Bool { geometry.strideY == 1 && geometry.strideX == 1 && geometry.outWidth == geometry.width }

    /// A flat tap's row: output rows [r0, r1) read input rows inside the image; output indices
    /// [start, end) read input index p + offset (the range clipped to the plane, so that what
    /// is left out are wrapped entries); columns outside [lo, hi) of rows [r0, r1) wrapped
    /// around an edge and belong to the padding.
    private struct FlatBlock {
        var r0, r1, start, end, offset, lo, hi: Int
    }

    @inline(__always)
    private func flatBlock(_ tap: (ky: Int, kx: Int)) -> FlatBlock {
        let g = geometry, oh = g.outHeight, w = g.width
        let (dy, dx, lo, hi) = placement(tap)
        let r0 = min(oh, max(0, -dy)), r1 = max(r0, min(oh, g.height - dy)), offset = dy * w + dx
        return FlatBlock(r0: r0, r1: r1, start: max(r0 * w, -offset), end: min(r1 * w, g.height * w - offset),
                         offset: offset, lo: lo, hi: hi)
    }

    /// For a flat lowering (see `flat`), each kept tap as one shifted block (`ShiftedTaps.Tap`):
    /// output pixels [start, end) read input index p + offset, except the `wrapped` ones, whose
    /// read went around a left or right edge (they belong to the padding); nil for strided
    /// lowerings or outputs of another width.
    func shiftedBlocks() -> [ShiftedTaps.Tap]? {
        guard flat else { return nil }
        let ow = geometry.outWidth
        return taps.map { tap in
            let b = flatBlock(tap)
            guard b.end > b.start else { return ShiftedTaps.Tap(start: 0, end: 0, offset: 0, wrapped: []) }
            var wrapped: [Int] = []
            for oy in b.r0..<b.r1 {
                for ox in Array(0..<b.lo) + Array(b.hi..<ow) where (b.start..<b.end).contains(oy * ow + ox) {
                    wrapped.append(oy * ow + ox)
                }
            }
            return ShiftedTaps.Tap(start: b.start, end: b.end, offset: b.offset, wrapped: wrapped)
        }
    }

    /// Zeroes, in a flat tap's row, the padding columns of rows [r0, r1): the entries a block
    /// copy wrapped around an edge.
    @inline(__always)
    private func clearEdges(_ row: UnsafeMutablePointer<Float>, _ b: FlatBlock) {
        let ow = geometry.outWidth
        guard b.lo > 0 || b.hi < ow else { return }
        let right = ow - b.hi
        for oy in b.r0..<b.r1 {
            // Mostly one entry per side (taps one column off centre): a store, not a memset call.
            let dst = row + oy * ow
            if b.lo == 1 { dst[0] = 0 } else if b.lo > 1 { dst.update(repeating: 0, count: b.lo) }
            if right == 1 { dst[ow - 1] = 0 } else if right > 1 { (dst + b.hi).update(repeating: 0, count: right) }
        }
    }

    /// Writes the column matrix of `image` [Cin, H, W] into `cols` (rows × pixels, row stride `ld`).
    func gather(_ image: UnsafePointer<Float>, into cols: UnsafeMutablePointer<Float>, ld: Int) {
        let g = geometry, h = g.height, w = g.width, oh = g.outHeight, ow = g.outWidth
        let sy = g.strideY, sx = g.strideX
        if flat {
            let blocks = taps.map(flatBlock)
            for ci in 0..<g.inChannels {
                let plane = image + ci * h * w
                for (t, b) in blocks.enumerated() {
                    let row = cols + (ci * taps.count + t) * ld
                    row.update(repeating: 0, count: b.r0 * ow)
                    (row + b.r1 * ow).update(repeating: 0, count: (oh - b.r1) * ow)
                    if b.end > b.start { (row + b.start).update(from: plane + b.start + b.offset, count: b.end - b.start) }
                    clearEdges(row, b)
                }
            }
            return
        }
        for ci in 0..<g.inChannels {
            let plane = image + ci * h * w
            for (t, tap) in taps.enumerated() {
                let row = cols + (ci * taps.count + t) * ld
                let (dy, dx, lo, hi) = placement(tap)
                for oy in 0..<oh {
                    let dst = row + oy * ow, iy = sy * oy + dy
                    guard iy >= 0 && iy < h else { dst.update(repeating: 0, count: ow); continue }
                    if lo > 0 { dst.update(repeating: 0, count: lo) }
                    if hi > lo {
                        let src = plane + iy * w + dx
                        if sx == 1 {
                            (dst + lo).update(from: src + lo, count: hi - lo)
                        } else {
                            for ox in lo..<hi { dst[ox] = src[sx * ox] }
                        }
                    }
                    if hi < ow { (dst + hi).update(repeating: 0, count: ow - hi) }
                }
            }
        }
    }

    /// The adjoint of `gather`: adds each entry of `cols` (row stride `ld`) into the input
    /// position it was read from, in `image` [Cin, H, W]; padding entries are dropped. The
    /// models' stride-1, same-size convolutions take their input gradient through `adjoint`
    /// lowering instead, so this serves strided, transposed and size-changing ones.
    func scatterAdd(_ cols: UnsafePointer<Float>, ld: Int, into image: UnsafeMutablePointer<Float>) {
        let g = geometry, h = g.height, w = g.width, oh = g.outHeight, ow = g.outWidth
        let sy = g.strideY, sx = g.strideX
        for ci in 0..<g.inChannels {
            let plane = image + ci * h * w
            for (t, tap) in taps.enumerated() {
                let row = cols + (ci * taps.count + t) * ld
                let (dy, dx, lo, hi) = placement(tap)
                for oy in 0..<oh {
                    let iy = sy * oy + dy
                    guard iy >= 0 && iy < h else { continue }
                    let src = row + oy * ow, dst = plane + iy * w + dx
                    if sx == 1 {
                        for ox in lo..<hi { dst[ox] += src[ox] }
                    } else {
                        for ox in lo..<hi { dst[sx * ox] += src[ox] }
                    }
                }
            }
        }
    }
}
