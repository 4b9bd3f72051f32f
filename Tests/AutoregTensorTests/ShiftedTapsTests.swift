@testable import AutoregTensor
import XCTest

// Convolutions over at least `ShiftedTaps.minimumChannels` input channels read each kept tap
// straight from the shifted input planes and take the wrapped edge pixels back out. Here
// their output, weight gradient and input gradient are checked exactly (small integers, so
// every sum is exact in Float) against the convolution's formula, on the geometries of
// `Im2ColTests`: shifted kernels, taps wholly in the padding, dilations, and the strided or
// resized ones that keep the column matrix.
final class ShiftedTapsTests: XCTestCase {
    func testOutputAndGradientsMatchTheFormulaExactly() throws {
        var rng = RandomGenerator(seed: 5)
        func small(_ range: ClosedRange<Int>) -> Float { Float(range.lowerBound + Int(rng.next() % UInt64(range.count))) }
        for (i, c) in Im2ColTests.cases.enumerated() {
            for relu in [false, true] {
                let (n, cin, cout) = (2, ShiftedTaps.minimumChannels, 3)
                let x = Tensor(shape: [n, cin, c.h, c.w], data: (0..<(n * cin * c.h * c.w)).map { _ in small(-3...3) },
                               requiresGrad: true)
                let w = Tensor(shape: [cout, cin, c.kh, c.kw], data: (0..<(cout * cin * c.kh * c.kw)).map { _ in small(-2...2) },
                               requiresGrad: true)
                let mask = Tensor(shape: w.shape, data: (0..<w.count).map { $0 % 7 == 3 ? 0 : 1 })
                let term = ConvolutionTerm(input: x, weight: w, bias: nil, mask: mask, dilation: c.dilation,
                                           stride: c.stride, padding: c.padding, reluInput: relu)
                let flat = c.stride == (1, 1) && LoweredConvolution(term).geometry.outWidth == c.w
                XCTAssertEqual(LoweredConvolution(term).shifted != nil, flat, "case \(i): shifted planes only where flat")
                let y = Tensor.sumOfConvolutions([term])
                let seed = (0..<y.count).map { _ in small(-2...2) }
                y.backward(seed: seed)

                let g = try Conv2DGeometry(input: x.shape, weight: w.shape, dilation: c.dilation, stride: c.stride,
                                           padding: c.padding)
                var wantY = [Float](repeating: 0, count: y.count)
                var wantDW = [Float](repeating: 0, count: w.count), wantDX = [Float](repeating: 0, count: x.count)
                for b in 0..<n { for co in 0..<cout { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth {
                    let o = ((b * cout + co) * g.outHeight + oy) * g.outWidth + ox
                    for ci in 0..<cin { for ky in 0..<c.kh { for kx in 0..<c.kw {
                        let iy = g.strideY * oy - g.padTop + g.dilationY * ky, ix = g.strideX * ox - g.padLeft + g.dilationX * kx
                        guard iy >= 0, iy < c.h, ix >= 0, ix < c.w else { continue }
                        let k = ((co * cin + ci) * c.kh + ky) * c.kw + kx, xi = ((b * cin + ci) * c.h + iy) * c.w + ix
                        let v = relu ? max(x.data[xi], 0) : x.data[xi]
                        wantY[o] += w.data[k] * mask.data[k] * v
                        wantDW[k] += mask.data[k] * seed[o] * v
                        if !relu || x.data[xi] > 0 { wantDX[xi] += w.data[k] * mask.data[k] * seed[o] }
                    } } }
                } } } }
                XCTAssertEqual(y.data, wantY, "case \(i), relu \(relu): output")
                XCTAssertEqual(w.grad!, wantDW, "case \(i), relu \(relu): weight gradient")
                XCTAssertEqual(x.grad!, wantDX, "case \(i), relu \(relu): input gradient")
            }
        }
    }

    /// Below `minimumChannels` input channels the column matrix stays: per-tap products would be too thin.
    func testShiftedPlanesFromTheChannelThreshold() {
        let c = ShiftedTaps.minimumChannels
        for (cin, shifted) in [(c - 1, false), (c, true)] {
            let x = Tensor(shape: [1, cin, 5, 5], data: [Float](repeating: 1, count: cin * 25))
            let w = Tensor(shape: [2, cin, 3, 3], data: [Float](repeating: 1, count: 2 * cin * 9))
            XCTAssertEqual(LoweredConvolution(ConvolutionTerm(input: x, weight: w, bias: nil)).shifted != nil, shifted, "\(cin) channels")
        }
    }
}
