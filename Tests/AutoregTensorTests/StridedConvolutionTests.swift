import AutoregTensor
import AutoregTestSupport
import XCTest

// PixelCNN++'s engine ops: strided convolutions (down), transposed convolutions (up, their
// adjoint), concat_elu and the a·σ(b) gate, each against a direct reference in Double and by
// finite differences.

/// Direct strided convolution in Double (no mask): out[n,co,oy,ox] = b[co]
/// + Σ w[co,ci,ky,kx] · x[n, ci, sy·oy − top + dy·ky, sx·ox − left + dx·kx], zero outside.
private func directConv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride s: (Int, Int), dilation d: (Int, Int) = (1, 1),
                        pads p: (top: Int, bottom: Int, left: Int, right: Int)) -> (shape: [Int], values: [Double]) {
    let (n, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (cout, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
    let oh = (h + p.top + p.bottom - d.0 * (kh - 1) - 1) / s.0 + 1
    let ow = (wd + p.left + p.right - d.1 * (kw - 1) - 1) / s.1 + 1
    var out = [Double](repeating: 0, count: n * cout * oh * ow)
    for i in 0..<n {
        for co in 0..<cout {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var v = b.map { Double($0.data[co]) } ?? 0
                    for ci in 0..<cin {
                        for ky in 0..<kh {
                            for kx in 0..<kw {
                                let iy = s.0 * oy - p.top + d.0 * ky, ix = s.1 * ox - p.left + d.1 * kx
                                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                                v += Double(w.data[((co * cin + ci) * kh + ky) * kw + kx])
                                    * Double(x.data[((i * cin + ci) * h + iy) * wd + ix])
                            }
                        }
                    }
                    out[((i * cout + co) * oh + oy) * ow + ox] = v
                }
            }
        }
    }
    return ([n, cout, oh, ow], out)
}

/// Direct transposed convolution in Double, written as the scatter it is: every input value
/// x[n, ci, oy, ox] adds w[ci, co, ky, kx]·x to output (sy·oy − top + dy·ky, sx·ox − left + dx·kx)
/// when that lies inside the H × W output.
private func directTransposedConv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride s: (Int, Int),
                                  dilation d: (Int, Int) = (1, 1), pads p: (top: Int, bottom: Int, left: Int, right: Int),
                                  output: (Int, Int)) -> [Double] {
    let (n, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (cout, kh, kw) = (w.shape[1], w.shape[2], w.shape[3])
    let (oh, ow) = output
    var out = [Double](repeating: 0, count: n * cout * oh * ow)
    for i in 0..<n {
        for co in 0..<cout { for k in 0..<(oh * ow) { out[(i * cout + co) * oh * ow + k] = b.map { Double($0.data[co]) } ?? 0 } }
        for ci in 0..<cin {
            for y in 0..<h {
                for xx in 0..<wd {
                    let v = Double(x.data[((i * cin + ci) * h + y) * wd + xx])
                    for co in 0..<cout {
                        for ky in 0..<kh {
                            for kx in 0..<kw {
                                let ty = s.0 * y - p.top + d.0 * ky, tx = s.1 * xx - p.left + d.1 * kx
                                guard ty >= 0, ty < oh, tx >= 0, tx < ow else { continue }
                                out[((i * cout + co) * oh + ty) * ow + tx] += v * Double(w.data[((ci * cout + co) * kh + ky) * kw + kx])
                            }
                        }
                    }
                }
            }
        }
    }
    return out
}

private func worstError(_ a: [Float], _ b: [Double]) -> Double {
    zip(a, b).reduce(0) { max($0, abs(Double($1.0) - $1.1)) }
}

/// One strided convolution (and its transpose) configuration.
private struct StridedCase {
    var name: String
    var n = 2, cin = 2, cout = 3, h = 6, w = 5, kh = 3, kw = 3
    var stride = (2, 2), dilation = (1, 1)
    var pads = (top: 1, bottom: 1, left: 1, right: 1)
    var padding: Conv2DPadding { .explicit(top: pads.top, bottom: pads.bottom, left: pads.left, right: pads.right) }
}

private let stridedCases: [StridedCase] = [
    StridedCase(name: "3x3 stride 2 pad 1, 6x5"),
    StridedCase(name: "PixelCNN++ down-shifted 2x3 stride 2, 8x8", h: 8, w: 8, kh: 2, kw: 3,
                pads: (1, 0, 1, 1)),
    StridedCase(name: "PixelCNN++ down-shifted 2x3 stride 2, odd 7x5", h: 7, w: 5, kh: 2, kw: 3, pads: (1, 0, 1, 1)),
    StridedCase(name: "PixelCNN++ down-right-shifted 2x2 stride 2, 8x6", h: 8, w: 6, kh: 2, kw: 2, pads: (1, 0, 1, 0)),
    StridedCase(name: "PixelCNN++ down-right-shifted 2x2 stride 2, odd 5x3", h: 5, w: 3, kh: 2, kw: 2, pads: (1, 0, 1, 0)),
    StridedCase(name: "down-right-shifted 2x2 stride 2 on 1x2", n: 1, h: 1, w: 2, kh: 2, kw: 2, pads: (1, 0, 1, 0)),
    StridedCase(name: "stride (2, 1), 3x3 pad 1", h: 6, w: 4, stride: (2, 1)),
    StridedCase(name: "stride (1, 3), 2x2 valid", h: 4, w: 8, kh: 2, kw: 2, stride: (1, 3), pads: (0, 0, 0, 0)),
    StridedCase(name: "stride 3 dilation 2, 3x3", h: 9, w: 8, stride: (3, 3), dilation: (2, 2), pads: (2, 1, 0, 2)),
    StridedCase(name: "1x1 stride 2 (not read directly)", h: 5, w: 4, kh: 1, kw: 1, pads: (0, 0, 0, 0)),
    StridedCase(name: "1x1 stride 2 on 1x3", n: 1, h: 1, w: 3, kh: 1, kw: 1, pads: (0, 0, 0, 0)),
    StridedCase(name: "empty batch", n: 0, h: 4, w: 4),
]

final class StridedConvolutionTests: XCTestCase {
    override func tearDown() { Gemm.setThreads(1) }

    func testForwardMatchesDirectConvolution() throws {
        for (k, c) in stridedCases.enumerated() {
            let seed = 500 + UInt64(k) * 10
            let x = uniformTensor([c.n, c.cin, c.h, c.w], seed: seed), w = uniformTensor([c.cout, c.cin, c.kh, c.kw], seed: seed + 1)
            let b = uniformTensor([c.cout], seed: seed + 2)
            let y = x.conv2d(weight: w, bias: b, dilation: c.dilation, stride: c.stride, padding: c.padding)
            let ref = directConv(x, w, b, stride: c.stride, dilation: c.dilation, pads: c.pads)
            XCTAssertEqual(y.shape, ref.shape, c.name)
            XCTAssertLessThanOrEqual(worstError(y.data, ref.values), 1e-5, c.name)
        }
    }

    /// The sizes PixelCNN++ relies on: ⌈H/2⌉ × ⌈W/2⌉ for both shifted kernels.
    func testDownsampledSizesRoundUp() throws {
        for (h, w) in [(28, 28), (14, 14), (7, 7), (1, 2), (3, 4), (5, 1)] {
            let down = try Conv2DGeometry(input: [1, 1, h, w], weight: [1, 1, 2, 3], stride: (2, 2),
                                          padding: .explicit(top: 1, bottom: 0, left: 1, right: 1))
            let downRight = try Conv2DGeometry(input: [1, 1, h, w], weight: [1, 1, 2, 2], stride: (2, 2),
                                               padding: .explicit(top: 1, bottom: 0, left: 1, right: 0))
            for g in [down, downRight] { XCTAssertEqual([g.outHeight, g.outWidth], [(h + 1) / 2, (w + 1) / 2], "\(h)x\(w)") }
        }
    }

    func testGradients() throws {
        for (k, c) in stridedCases.enumerated() where c.n > 0 {
            let seed = 600 + UInt64(k) * 10
            let x = uniformTensor([c.n, c.cin, c.h, c.w], seed: seed), w = uniformTensor([c.cout, c.cin, c.kh, c.kw], seed: seed + 1)
            let b = uniformTensor([c.cout], seed: seed + 2)
            assertGradients(wrt: [x, w, b], c.name) {
                x.conv2d(weight: w, bias: b, dilation: c.dilation, stride: c.stride, padding: c.padding)
            }
        }
    }

    /// A strided convolution beside a stride-1 one in one sum, with a residual.
    func testStridedTermInASumOfConvolutions() throws {
        let x = uniformTensor([2, 2, 8, 6], seed: 700), small = uniformTensor([2, 3, 4, 3], seed: 701)
        let w = uniformTensor([3, 2, 2, 3], seed: 702), v = uniformTensor([3, 3, 1, 1], seed: 703)
        let b = uniformTensor([3], seed: 704), r = uniformTensor([2, 3, 4, 3], seed: 705)
        let pad = Conv2DPadding.explicit(top: 1, bottom: 0, left: 1, right: 1)
        let fused = Tensor.sumOfConvolutions([ConvolutionTerm(input: x, weight: w, bias: b, stride: (2, 2), padding: pad),
                                              ConvolutionTerm(input: small, weight: v, bias: nil)], plus: r)
        let separate = x.conv2d(weight: w, bias: b, stride: (2, 2), padding: pad) + small.conv2d(weight: v, bias: nil) + r
        for (a, e) in zip(fused.data, separate.data) { XCTAssertEqual(a, e, accuracy: 1e-5) }
        assertGradients(wrt: [x, small, w, v, b, r]) {
            Tensor.sumOfConvolutions([ConvolutionTerm(input: x, weight: w, bias: b, stride: (2, 2), padding: pad),
                                      ConvolutionTerm(input: small, weight: v, bias: nil)], plus: r)
        }
    }

    func testTwoThreadsMatchOneThread() throws {
        let x = uniformTensor([5, 3, 7, 6], seed: 710), w = uniformTensor([4, 3, 2, 3], seed: 711)
        let b = uniformTensor([4], seed: 712)
        var results: [[Float]] = []
        for threads in [1, 2] {
            Gemm.setThreads(threads)
            for t in [x, w, b] { t.grad = nil }
            let y = x.conv2d(weight: w, bias: b, stride: (2, 2), padding: .explicit(top: 1, bottom: 0, left: 1, right: 1))
            y.backward(seed: (0..<y.count).map { Float($0 % 5) - 2 })
            results.append(y.data + x.grad! + w.grad! + b.grad!)
        }
        XCTAssertEqual(results[0].count, results[1].count)
        for (a, e) in zip(results[0], results[1]) { XCTAssertEqual(a, e, accuracy: 1e-5) }
    }

    func testRejectsBadStrides() {
        XCTAssertThrowsError(try Conv2DGeometry(input: [1, 1, 4, 4], weight: [1, 1, 3, 3], stride: (2, 2))) {
            XCTAssertTrue("\($0)".contains(".same padding needs stride 1"), "\($0)")
        }
        XCTAssertThrowsError(try Conv2DGeometry(input: [1, 1, 4, 4], weight: [1, 1, 3, 3], stride: (0, 1), padding: .valid)) {
            XCTAssertTrue("\($0)".contains("stride must be at least 1"), "\($0)")
        }
        XCTAssertThrowsError(try Conv2DGeometry(input: [1, 1, 2, 2], weight: [1, 1, 3, 3], stride: (2, 2), padding: .valid)) {
            XCTAssertTrue("\($0)".contains("output would be"), "\($0)")
        }
    }
}

final class TransposedConvolutionTests: XCTestCase {
    override func tearDown() { Gemm.setThreads(1) }

    /// Every strided case, transposed: the output size of its convolution's input.
    func testForwardMatchesDirectScatter() throws {
        for (k, c) in stridedCases.enumerated() {
            let seed = 800 + UInt64(k) * 10
            let g = try Conv2DGeometry(input: [c.n, c.cin, c.h, c.w], weight: [c.cout, c.cin, c.kh, c.kw],
                                       dilation: c.dilation, stride: c.stride, padding: c.padding)
            let y = uniformTensor([c.n, c.cout, g.outHeight, g.outWidth], seed: seed)
            let w = uniformTensor([c.cout, c.cin, c.kh, c.kw], seed: seed + 1), b = uniformTensor([c.cin], seed: seed + 2)
            let t = y.transposedConv2d(weight: w, bias: b, dilation: c.dilation, stride: c.stride, padding: c.padding,
                                       outputSize: (c.h, c.w))
            XCTAssertEqual(t.shape, [c.n, c.cin, c.h, c.w], c.name)
            let ref = directTransposedConv(y, w, b, stride: c.stride, dilation: c.dilation, pads: c.pads, output: (c.h, c.w))
            XCTAssertLessThanOrEqual(worstError(t.data, ref), 1e-5, c.name)
        }
    }

    /// ⟨conv2d(x, W), y⟩ = ⟨x, transposedConv2d(y, W)⟩ (no biases): the one is the other's adjoint.
    func testIsTheAdjointOfTheStridedConvolution() throws {
        for (k, c) in stridedCases.enumerated() where c.n > 0 {
            let seed = 900 + UInt64(k) * 10
            let x = uniformTensor([c.n, c.cin, c.h, c.w], seed: seed), w = uniformTensor([c.cout, c.cin, c.kh, c.kw], seed: seed + 1)
            let cx = x.conv2d(weight: w, bias: nil, dilation: c.dilation, stride: c.stride, padding: c.padding)
            let y = uniformTensor(cx.shape, seed: seed + 2)
            let ty = y.transposedConv2d(weight: w, bias: nil, dilation: c.dilation, stride: c.stride, padding: c.padding,
                                        outputSize: (c.h, c.w))
            let left = zip(cx.data, y.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let right = zip(x.data, ty.data).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            XCTAssertEqual(left, right, accuracy: 1e-4 * max(1, abs(left)), c.name)
        }
    }

    /// PixelCNN++'s up-sampling: TensorFlow's VALID stride-2 deconvolution cropped as its
    /// `down_shifted_deconv2d` (2×3: rows :2h, columns 1:2w+1) and `down_right_shifted_deconv2d`
    /// (2×2: rows :2h, columns :2w) is the transposed convolution with the padding of the
    /// corresponding down convolution's bottom/right edge, (0, 1, 1, 1) and (0, 1, 0, 1).
    func testPixelCNNPlusPlusUpsamplingSizes() throws {
        for (h, w) in [(14, 14), (7, 7), (4, 3), (1, 1)] {
            let down = try Conv2DGeometry.transposed(input: [1, 4, h, w], weight: [4, 2, 2, 3], stride: (2, 2),
                                                     padding: .explicit(top: 0, bottom: 1, left: 1, right: 1),
                                                     outputSize: (2 * h, 2 * w))
            XCTAssertEqual([down.height, down.width], [2 * h, 2 * w])
            // The default is the smallest size that fits: one row and column fewer here.
            let smallest = try Conv2DGeometry.transposed(input: [1, 4, h, w], weight: [4, 2, 2, 2], stride: (2, 2),
                                                         padding: .explicit(top: 0, bottom: 1, left: 0, right: 1))
            XCTAssertEqual([smallest.height, smallest.width], [2 * h - 1, 2 * w - 1])
        }
    }

    func testGradients() throws {
        for (k, c) in stridedCases.enumerated() where c.n > 0 {
            let seed = 1000 + UInt64(k) * 10
            let g = try Conv2DGeometry(input: [c.n, c.cin, c.h, c.w], weight: [c.cout, c.cin, c.kh, c.kw],
                                       dilation: c.dilation, stride: c.stride, padding: c.padding)
            let y = uniformTensor([c.n, c.cout, g.outHeight, g.outWidth], seed: seed)
            let w = uniformTensor([c.cout, c.cin, c.kh, c.kw], seed: seed + 1), b = uniformTensor([c.cin], seed: seed + 2)
            assertGradients(wrt: [y, w, b], c.name) {
                y.transposedConv2d(weight: w, bias: b, dilation: c.dilation, stride: c.stride, padding: c.padding,
                                   outputSize: (c.h, c.w))
            }
        }
    }

    func testGradientAddsToOtherUses() throws {
        let y = uniformTensor([2, 3, 3, 3], seed: 1100), w = uniformTensor([3, 3, 2, 2], seed: 1101)
        assertGradients(wrt: [y, w]) {
            y.transposedConv2d(weight: w, bias: nil, stride: (2, 2), padding: .explicit(top: 0, bottom: 1, left: 0, right: 1),
                               outputSize: (6, 6)).slice(axis: 2, start: 0, length: 3).slice(axis: 3, start: 0, length: 3) * y
        }
    }

    func testTwoThreadsMatchOneThread() throws {
        let y = uniformTensor([5, 3, 4, 3], seed: 1110), w = uniformTensor([3, 2, 2, 3], seed: 1111)
        let b = uniformTensor([2], seed: 1112)
        var results: [[Float]] = []
        for threads in [1, 2] {
            Gemm.setThreads(threads)
            for t in [y, w, b] { t.grad = nil }
            let t = y.transposedConv2d(weight: w, bias: b, stride: (2, 2), padding: .explicit(top: 0, bottom: 1, left: 1, right: 1),
                                       outputSize: (7, 6))
            t.backward(seed: (0..<t.count).map { Float($0 % 5) - 2 })
            results.append(t.data + y.grad! + w.grad! + b.grad!)
        }
        XCTAssertEqual(results[0].count, results[1].count)
        for (a, e) in zip(results[0], results[1]) { XCTAssertEqual(a, e, accuracy: 1e-5) }
    }

    func testRejectsBadArguments() {
        func rejects(_ input: [Int], _ weight: [Int], bias: [Int]? = nil, stride: (Int, Int) = (2, 2),
                     padding: Conv2DPadding = .valid, output: (Int, Int)? = nil, _ fragment: String,
                     line: UInt = #line) {
            XCTAssertThrowsError(try Conv2DGeometry.transposed(input: input, weight: weight, bias: bias, stride: stride,
                                                                padding: padding, outputSize: output), line: line) {
                XCTAssertTrue("\($0)".hasPrefix("transposedConv2d: ") && "\($0)".contains(fragment), "\($0)", line: line)
            }
        }
        rejects([1, 3, 4, 4], [2, 3, 2, 2], "input has 3 channels")
        rejects([1, 2, 4, 4], [2, 3, 2, 2], bias: [2], "bias must be [3]")
        rejects([1, 2, 4, 4], [2, 3, 2, 2], output: (10, 8), "not the adjoint")
        rejects([1, 2, 4, 4], [2, 3, 3, 3], padding: .same, ".same padding")
        rejects([1, 2, 4, 4], [2, 3, 2, 2], stride: (0, 2), "stride and dilation")
        XCTAssertNoThrow(try Conv2DGeometry.transposed(input: [1, 2, 4, 4], weight: [2, 3, 2, 2], stride: (2, 2), outputSize: (9, 8)))
    }
}

final class ConcatELUTests: XCTestCase {
    /// [elu(x), elu(−x)] along `axis`, by the unfused ops.
    private func reference(_ x: Tensor, axis: Int) -> Tensor { Tensor.concat([x.elu(), (-x).elu()], axis: axis) }

    func testValuesMatchConcatOfELUs() throws {
        for (shape, axis) in [([2, 3, 4, 5], 1), ([4, 3], 0), ([2, 3, 4], 2), ([3, 2, 2, 6], 3), ([7], 0)] {
            let x = uniformTensor(shape, -4, 4, seed: 1200)
            let y = x.concatELU(axis: axis), r = reference(x, axis: axis)
            XCTAssertEqual(y.shape, r.shape, "\(shape) axis \(axis)")
            for (a, b) in zip(y.data, r.data) { XCTAssertEqual(a, b, accuracy: 1e-6, "\(shape) axis \(axis)") }
        }
        XCTAssertEqual(Tensor(shape: [1, 3], data: [0, 2, -1]).concatELU().data.map { ($0 * 1e4).rounded() / 1e4 },
                       [0, 2, -0.6321, 0, -0.8647, 1])
    }

    func testGradients() throws {
        // ELU is once differentiable at 0, so values need only stay a step away from it.
        for (shape, axis) in [([2, 3, 3, 3], 1), ([5, 2], 0), ([2, 3, 4], 2)] {
            let x = awayFromZero(shape, 0.05, 3, seed: 1210)
            assertGradients(wrt: [x], "concatELU \(shape) axis \(axis)") { x.concatELU(axis: axis) }
        }
        let x = awayFromZero([2, 2, 3, 3], 0.05, 3, seed: 1220)
        assertGradients(wrt: [x], "concatELU plus another use") { x.concatELU().slice(axis: 1, start: 1, length: 2) * x }
    }

    func testTwoThreadsGiveTheSameValuesAndGradients() throws {
        let x = uniformTensor([5, 4, 3, 3], -3, 3, seed: 1230)
        var results: [[Float]] = []
        for threads in [1, 2] {
            Gemm.setThreads(threads)
            x.grad = nil
            let y = x.concatELU()
            y.backward(seed: (0..<y.count).map { Float($0 % 7) - 3 })
            results.append(y.data + x.grad!)
        }
        Gemm.setThreads(1)
        XCTAssertEqual(results[0], results[1])
    }
}

final class GatedLinearTests: XCTestCase {
    private func reference(_ x: Tensor, axis: Int) -> Tensor {
        let n = x.shape[axis] / 2
        return x.slice(axis: axis, start: 0, length: n) * x.slice(axis: axis, start: n, length: n).sigmoid()
    }

    func testValuesMatchATimesSigmoidB() throws {
        for (shape, axis) in [([2, 6, 3, 4], 1), ([4, 3], 0), ([2, 3, 8], 2)] {
            let x = uniformTensor(shape, -5, 5, seed: 1300)
            let y = x.gatedLinear(axis: axis), r = reference(x, axis: axis)
            XCTAssertEqual(y.shape, r.shape)
            for (a, b) in zip(y.data, r.data) { XCTAssertEqual(a, b, accuracy: 2e-6, "\(shape) axis \(axis)") }
        }
    }

    func testGradients() throws {
        for (shape, axis) in [([2, 4, 3, 3], 1), ([6, 2], 0)] {
            let x = uniformTensor(shape, -3, 3, seed: 1310)
            assertGradients(wrt: [x], "gatedLinear \(shape) axis \(axis)") { x.gatedLinear(axis: axis) }
        }
        let x = uniformTensor([2, 4, 2, 2], -2, 2, seed: 1320)
        assertGradients(wrt: [x], "gatedLinear plus another use") { x.gatedLinear() * x.slice(axis: 1, start: 2, length: 2) }
    }
}
