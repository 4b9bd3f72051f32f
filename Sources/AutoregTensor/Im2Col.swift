import CKernels

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

    /// For a flat tap: the output rows [rowLo, rowHi) whose input row lies inside the image.
    @inline(__always)
    private func validRows(_ dy: Int) -> (lo: Int, hi: Int) {
        let lo = min(geometry.outHeight, max(0, -dy))
        return (lo, max(lo, min(geometry.outHeight, geometry.height - dy)))
    }

    /// Zeroes, in a flat tap's row, the columns outside [lo, hi) of output rows [r0, r1): the
    /// entries a block copy wrapped around an edge (or that lie in the padding).
    @inline(__always)
    private func clearEdges(_ row: UnsafeMutablePointer<Float>, rows r0: Int, _ r1: Int, lo: Int, hi: Int) {
        let ow = geometry.outWidth
        guard lo > 0 || hi < ow else { return }
        for oy in r0..<r1 {
            let dst = row + oy * ow
            for ox in 0..<lo { dst[ox] = 0 }
            for ox in hi..<ow { dst[ox] = 0 }
        }
    }

    /// Writes the column matrix of `image` [Cin, H, W] into `cols` (rows × pixels, row stride `ld`).
    func gather(_ image: UnsafePointer<Float>, into cols: UnsafeMutablePointer<Float>, ld: Int) {
        let g = geometry, h = g.height, w = g.width, oh = g.outHeight, ow = g.outWidth
        let sy = g.strideY, sx = g.strideX
        if flat {
            for ci in 0..<g.inChannels {
                let plane = image + ci * h * w
                for (t, tap) in taps.enumerated() {
                    let row = cols + (ci * taps.count + t) * ld
                    let (dy, dx, lo, hi) = placement(tap)
                    let (r0, r1) = validRows(dy)
                    row.update(repeating: 0, count: r0 * ow)
                    (row + r1 * ow).update(repeating: 0, count: (oh - r1) * ow)
                    // Output indices [r0·W, r1·W) read input p + offset; clipped to the plane,
                    // the entries left out are wrapped ones, which clearEdges zeroes.
                    let offset = dy * w + dx
                    let start = max(r0 * ow, -offset), end = min(r1 * ow, h * w - offset)
                    if end > start { (row + start).update(from: plane + start + offset, count: end - start) }
                    clearEdges(row, rows: r0, r1, lo: lo, hi: hi)
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
    /// position it was read from, in `image` [Cin, H, W]; padding entries are dropped. On the
    /// flat path (stride 1, same width) the padding entries of `cols` are overwritten with 0
    /// so that each row is added as one block.
    func scatterAdd(_ cols: UnsafeMutablePointer<Float>, ld: Int, into image: UnsafeMutablePointer<Float>) {
        let g = geometry, h = g.height, w = g.width, oh = g.outHeight, ow = g.outWidth
        let sy = g.strideY, sx = g.strideX
        if flat {
            for ci in 0..<g.inChannels {
                let plane = image + ci * h * w
                for (t, tap) in taps.enumerated() {
                    let row = cols + (ci * taps.count + t) * ld
                    let (dy, dx, lo, hi) = placement(tap)
                    let (r0, r1) = validRows(dy)
                    clearEdges(row, rows: r0, r1, lo: lo, hi: hi)
                    let offset = dy * w + dx
                    let start = max(r0 * ow, -offset), end = min(r1 * ow, h * w - offset)
                    if end > start { ar_accumulate(row + start, plane + start + offset, end - start) }
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
