@testable import AutoregTensor
import XCTest

// The column matrix of a convolution, exactly: `Im2Col.gather` against the index formula, and
// `scatterAdd` as its adjoint, on geometries where gather takes the flat (one block per row)
// path and the row-by-row one: shifted kernels, taps wholly in the padding, dilations, strides, outputs
// of another size.
final class Im2ColTests: XCTestCase {
    struct Case {
        var h: Int, w: Int, kh: Int, kw: Int
        var dilation = (1, 1), stride = (1, 1)
        var padding: Conv2DPadding = .same
    }

    static let cases: [Case] = [
        Case(h: 5, w: 6, kh: 3, kw: 3),
        Case(h: 6, w: 5, kh: 2, kw: 3, padding: .explicit(top: 1, bottom: 0, left: 1, right: 1)),   // down-shifted
        Case(h: 6, w: 5, kh: 2, kw: 2, padding: .explicit(top: 1, bottom: 0, left: 1, right: 0)),   // down-right
        Case(h: 4, w: 7, kh: 1, kw: 3, padding: .explicit(top: 0, bottom: 0, left: 2, right: 0)),   // left of the pixel
        Case(h: 4, w: 4, kh: 3, kw: 3, dilation: (3, 3)),                    // most taps in the padding
        Case(h: 3, w: 3, kh: 5, kw: 5, dilation: (2, 2)),                    // taps wholly outside
        Case(h: 7, w: 6, kh: 3, kw: 3, dilation: (2, 1)),
        Case(h: 5, w: 5, kh: 3, kw: 3, padding: .explicit(top: 2, bottom: 3, left: 1, right: 1)),   // taller output
        Case(h: 4, w: 5, kh: 3, kw: 3, padding: .explicit(top: 2, bottom: 3, left: 0, right: 1)),   // wider output
        Case(h: 7, w: 7, kh: 2, kw: 3, stride: (2, 2), padding: .explicit(top: 1, bottom: 0, left: 1, right: 1)),
        Case(h: 8, w: 6, kh: 2, kw: 2, stride: (2, 1), padding: .explicit(top: 1, bottom: 0, left: 1, right: 0)),
    ]

    func lowering(_ c: Case, cin: Int, taps: [(ky: Int, kx: Int)]? = nil) throws -> Im2Col {
        let g = try Conv2DGeometry(input: [1, cin, c.h, c.w], weight: [2, cin, c.kh, c.kw], dilation: c.dilation,
                                   stride: c.stride, padding: c.padding)
        let all = (0..<(c.kh * c.kw)).map { (ky: $0 / c.kw, kx: $0 % c.kw) }
        return Im2Col(geometry: g, taps: taps ?? all)
    }

    /// The input index tap t reads at output pixel p, or nil in the padding.
    func source(_ l: Im2Col, channel ci: Int, tap: (ky: Int, kx: Int), pixel p: Int) -> Int? {
        let g = l.geometry
        let oy = p / g.outWidth, ox = p % g.outWidth
        let iy = g.strideY * oy - g.padTop + g.dilationY * tap.ky
        let ix = g.strideX * ox - g.padLeft + g.dilationX * tap.kx
        guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { return nil }
        return (ci * g.height + iy) * g.width + ix
    }

    func testGatherReadsEachTapWhereTheFormulaSays() throws {
        for (i, c) in Self.cases.enumerated() {
            for taps in [nil, [(ky: c.kh - 1, kx: 0)]] {
                let l = try lowering(c, cin: 2, taps: taps)
                let image = (0..<(2 * c.h * c.w)).map { Float($0 + 1) }
                // Filled with NaN first: every entry must be written.
                var cols = [Float](repeating: .nan, count: l.rows * l.pixels)
                image.withUnsafeBufferPointer { x in
                    cols.withUnsafeMutableBufferPointer { l.gather(x.baseAddress!, into: $0.baseAddress!, ld: l.pixels) }
                }
                for ci in 0..<2 {
                    for (t, tap) in l.taps.enumerated() {
                        for p in 0..<l.pixels {
                            let want = source(l, channel: ci, tap: tap, pixel: p).map { image[$0] } ?? 0
                            let got = cols[(ci * l.taps.count + t) * l.pixels + p]
                            XCTAssertEqual(got, want, "case \(i) channel \(ci) tap \(tap) pixel \(p)")
                        }
                    }
                }
            }
        }
    }

    func testScatterAddIsTheAdjointOfGather() throws {
        for (i, c) in Self.cases.enumerated() {
            let l = try lowering(c, cin: 3)
            var rng = SystemRandomNumberGenerator()
            // Small integers keep every sum exact.
            let cols = (0..<(l.rows * l.pixels)).map { _ in Float(Int.random(in: -8...8, using: &rng)) }
            var want = (0..<(3 * c.h * c.w)).map { Float($0 % 5) }
            var got = want
            for ci in 0..<3 {
                for (t, tap) in l.taps.enumerated() {
                    for p in 0..<l.pixels {
                        if let s = source(l, channel: ci, tap: tap, pixel: p) { want[s] += cols[(ci * l.taps.count + t) * l.pixels + p] }
                    }
                }
            }
            cols.withUnsafeBufferPointer { cp in
                got.withUnsafeMutableBufferPointer { l.scatterAdd(cp.baseAddress!, ld: l.pixels, into: $0.baseAddress!) }
            }
            XCTAssertEqual(got, want, "case \(i)")
        }
    }
}

/// The input gradient of a convolution, exactly as the formula gives it (Double): the flipped
/// "adjoint" lowering that stride-1, same-size convolutions use, and the scatter path of the
/// others, over shifted, masked and dilated kernels.
final class ConvolutionInputGradientTests: XCTestCase {
    func testInputGradientMatchesTheFormula() throws {
        var rng = RandomGenerator(seed: 77)
        for (i, c) in Im2ColTests.cases.enumerated() {
            let (n, cin, cout) = (2, 3, 2)
            let x = Tensor(shape: [n, cin, c.h, c.w], data: (0..<(n * cin * c.h * c.w)).map { _ in rng.uniform() - 0.5 },
                           requiresGrad: true)
            let w = Tensor(shape: [cout, cin, c.kh, c.kw], data: (0..<(cout * cin * c.kh * c.kw)).map { _ in rng.uniform() - 0.5 })
            // Some taps masked for some channel pairs, one tap for all.
            let mask = Tensor(shape: w.shape, data: (0..<w.count).map { $0 % 5 == 3 || $0 % (c.kh * c.kw) == 0 ? 0 : 1 })
            let y = x.conv2d(weight: w, bias: nil, mask: mask, dilation: c.dilation, stride: c.stride, padding: c.padding)
            let seed = (0..<y.count).map { _ in rng.uniform() - 0.5 }
            y.backward(seed: seed)
            let g = try Conv2DGeometry(input: x.shape, weight: w.shape, dilation: c.dilation, stride: c.stride, padding: c.padding)
            var want = [Double](repeating: 0, count: x.count)
            for b in 0..<n { for co in 0..<cout { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth {
                let gy = Double(seed[((b * cout + co) * g.outHeight + oy) * g.outWidth + ox])
                for ci in 0..<cin { for ky in 0..<c.kh { for kx in 0..<c.kw {
                    let iy = g.strideY * oy - g.padTop + g.dilationY * ky, ix = g.strideX * ox - g.padLeft + g.dilationX * kx
                    guard iy >= 0, iy < c.h, ix >= 0, ix < c.w else { continue }
                    let k = ((co * cin + ci) * c.kh + ky) * c.kw + kx
                    want[((b * cin + ci) * c.h + iy) * c.w + ix] += Double(w.data[k] * mask.data[k]) * gy
                } } }
            } } } }
            for (j, (got, ref)) in zip(x.grad!, want).enumerated() {
                XCTAssertEqual(Double(got), ref, accuracy: 1e-5, "case \(i), input \(j)")
            }
        }
    }
}
