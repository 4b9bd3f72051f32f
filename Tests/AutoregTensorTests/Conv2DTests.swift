import AutoregTensor
import AutoregTestSupport
import XCTest

// MARK: - Masks and a direct reference convolution

/// Which weight mask a test case uses.
private enum MaskKind: String {
    case none
    /// PixelCNN masks for one channel group: rows above the centre and the taps left of it
    /// (A), plus the centre itself (B); rows below are zero.
    case a, b
    /// PixelCNN masks with channel groups (c mod 3, like R, G, B): as `a`/`b`, but the centre
    /// tap connects input group gi to output group go only if gi < go (A) or gi ≤ go (B), so
    /// the centre tap is kept with a mask that differs between channel pairs.
    case groupA, groupB
    /// Random 0/1 entries with one whole tap zeroed.
    case random
}

/// A mask of shape [cout, cin, kh, kw] (nil for `.none`).
private func makeMask(_ kind: MaskKind, _ cout: Int, _ cin: Int, _ kh: Int, _ kw: Int, seed: UInt64 = 7) -> [Float]? {
    let cy = kh / 2, cx = kw / 2
    var rng = RandomGenerator(seed: seed)
    var m = [Float](repeating: 0, count: cout * cin * kh * kw)
    for co in 0..<cout {
        for ci in 0..<cin {
            for ky in 0..<kh {
                for kx in 0..<kw {
                    let before = ky < cy || (ky == cy && kx < cx), centre = ky == cy && kx == cx
                    let on: Bool
                    switch kind {
                    case .none: return nil
                    case .a: on = before
                    case .b: on = before || centre
                    case .groupA: on = before || (centre && ci % 3 < co % 3)
                    case .groupB: on = before || (centre && ci % 3 <= co % 3)
                    case .random: on = (ky, kx) != (0, kw - 1) && rng.uniform() < 0.6
                    }
                    m[((co * cin + ci) * kh + ky) * kw + kx] = on ? 1 : 0
                }
            }
        }
    }
    return m
}

/// (top, bottom, left, right) zeros of a padding, computed independently of the library.
private func pads(_ p: Conv2DPadding, _ kh: Int, _ kw: Int, _ d: (Int, Int)) -> (Int, Int, Int, Int) {
    switch p {
    case .same: return (d.0 * (kh - 1) / 2, d.0 * (kh - 1) / 2, d.1 * (kw - 1) / 2, d.1 * (kw - 1) / 2)
    case let .explicit(t, b, l, r): return (t, b, l, r)
    }
}

/// Direct convolution in Double: out[n,co,oy,ox] = b[co] + Σ w·mask·x(oy − top + dy·ky, ox − left + dx·kx).
private func naiveConv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, mask: [Float]?, dilation d: (Int, Int),
                       padding: Conv2DPadding) -> (shape: [Int], values: [Double]) {
    let (n, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (cout, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
    let (top, bottom, left, right) = pads(padding, kh, kw, d)
    let oh = h + top + bottom - d.0 * (kh - 1), ow = wd + left + right - d.1 * (kw - 1)
    var out = [Double](repeating: 0, count: n * cout * oh * ow)
    for i in 0..<n {
        for co in 0..<cout {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var s = b.map { Double($0.data[co]) } ?? 0
                    for ci in 0..<cin {
                        for ky in 0..<kh {
                            for kx in 0..<kw {
                                let iy = oy - top + d.0 * ky, ix = ox - left + d.1 * kx
                                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                                let wi = ((co * cin + ci) * kh + ky) * kw + kx
                                if let mask, mask[wi] == 0 { continue }
                                s += Double(w.data[wi]) * Double(mask?[wi] ?? 1)
                                    * Double(x.data[((i * cin + ci) * h + iy) * wd + ix])
                            }
                        }
                    }
                    out[((i * cout + co) * oh + oy) * ow + ox] = s
                }
            }
        }
    }
    return ([n, cout, oh, ow], out)
}

/// One convolution configuration.
private struct ConvCase {
    var name: String
    var n = 1, cin = 1, cout = 1, h = 5, w = 5, kh = 3, kw = 3
    var dilation = (1, 1)
    var padding = Conv2DPadding.same
    var mask = MaskKind.none
    var bias = true

    /// Seeded input, weight, bias (all requiring gradients) and mask tensor.
    func tensors(seed: UInt64) -> (x: Tensor, w: Tensor, b: Tensor?, mask: Tensor?) {
        let x = uniformTensor([n, cin, h, w], seed: seed)
        let wt = uniformTensor([cout, cin, kh, kw], seed: seed + 1)
        let b = bias ? uniformTensor([cout], seed: seed + 2) : nil
        let m = makeMask(mask, cout, cin, kh, kw).map { Tensor(shape: [cout, cin, kh, kw], data: $0) }
        return (x, wt, b, m)
    }
}

// MARK: - Forward values

final class Conv2DForwardTests: XCTestCase {
    private let cases: [ConvCase] = [
        ConvCase(name: "3x3 same"),
        ConvCase(name: "1x1, 3 -> 4 channels, N=2", n: 2, cin: 3, cout: 4, kh: 1, kw: 1),
        ConvCase(name: "3x3 N=3 Cin 2 Cout 3 6x4", n: 3, cin: 2, cout: 3, h: 6, w: 4),
        ConvCase(name: "5x5 dilation 2", cin: 2, cout: 2, h: 7, w: 6, kh: 5, kw: 5, dilation: (2, 2)),
        ConvCase(name: "3x3 dilation (2, 3)", n: 2, cin: 2, cout: 3, h: 6, w: 7, dilation: (2, 3)),
        ConvCase(name: "3x3 dilation 3 on 4x4 (most taps in the padding)", h: 4, w: 4, dilation: (3, 3)),
        ConvCase(name: "5x5 on 2x3 (kernel larger than the image)", cin: 2, cout: 2, h: 2, w: 3, kh: 5, kw: 5),
        ConvCase(name: "3x5 same", cin: 2, cout: 2, h: 4, w: 6, kh: 3, kw: 5),
        ConvCase(name: "3x3 valid", n: 2, cin: 2, cout: 2, h: 6, w: 5, padding: .valid),
        ConvCase(name: "3x3 explicit (2, 3, 0, 1): larger output", cin: 2, cout: 2, h: 4, w: 5,
                 padding: .explicit(top: 2, bottom: 3, left: 0, right: 1)),
        ConvCase(name: "1x3 horizontal, left padding 2", cin: 2, cout: 2, kh: 1, kw: 3,
                 padding: .explicit(top: 0, bottom: 0, left: 2, right: 0)),
        ConvCase(name: "2x3 vertical, top padding 1", n: 2, cin: 2, cout: 3, kh: 2, kw: 3,
                 padding: .explicit(top: 1, bottom: 0, left: 1, right: 1)),
        ConvCase(name: "2x2 even kernel, explicit", cin: 2, cout: 2, kh: 2, kw: 2,
                 padding: .explicit(top: 1, bottom: 0, left: 1, right: 0)),
        ConvCase(name: "3x3 mask A", n: 2, cin: 2, cout: 2, mask: .a),
        ConvCase(name: "3x3 mask B", n: 2, cin: 2, cout: 2, mask: .b),
        ConvCase(name: "5x5 mask A dilation 2", cin: 1, cout: 2, h: 7, w: 7, kh: 5, kw: 5, dilation: (2, 2), mask: .a),
        ConvCase(name: "3x3 group mask A, 3 -> 6 channels", n: 2, cin: 3, cout: 6, mask: .groupA),
        ConvCase(name: "3x3 group mask B, 6 -> 3 channels", cin: 6, cout: 3, mask: .groupB),
        ConvCase(name: "3x3 random mask", n: 2, cin: 2, cout: 3, mask: .random),
        ConvCase(name: "3x3 no bias", cin: 2, cout: 2, bias: false),
        ConvCase(name: "empty batch", n: 0, cin: 2, cout: 3),
    ]

    func testForwardMatchesDirectConvolution() throws {
        for (k, c) in cases.enumerated() {
            let (x, w, b, mask) = c.tensors(seed: 100 + UInt64(k) * 10)
            let y = x.conv2d(weight: w, bias: b, mask: mask, dilation: c.dilation, padding: c.padding)
            let ref = naiveConv(x, w, b, mask: mask?.data, dilation: c.dilation, padding: c.padding)
            XCTAssertEqual(y.shape, ref.shape, c.name)
            guard y.shape == ref.shape else { continue }
            var worst = 0.0
            for (v, r) in zip(y.data, ref.values) { worst = max(worst, abs(Double(v) - r)) }
            XCTAssertLessThanOrEqual(worst, 1e-5, c.name)
        }
    }

    func testOutputShapes() throws {
        // .same keeps H × W whatever the dilation; .explicit follows H + top + bottom − d·(K − 1).
        let same = try Conv2DGeometry(input: [2, 3, 28, 28], weight: [8, 3, 7, 7], dilation: (3, 2))
        XCTAssertEqual(same.outputShape, [2, 8, 28, 28])
        XCTAssertEqual([same.padTop, same.padBottom, same.padLeft, same.padRight], [9, 9, 6, 6])
        let vertical = try Conv2DGeometry(input: [1, 4, 28, 28], weight: [4, 4, 2, 3],
                                          padding: .explicit(top: 1, bottom: 0, left: 1, right: 1))
        XCTAssertEqual(vertical.outputShape, [1, 4, 28, 28])
        let odd = try Conv2DGeometry(input: [1, 1, 10, 9], weight: [1, 1, 3, 2], dilation: (2, 3),
                                     padding: .explicit(top: 0, bottom: 5, left: 2, right: 0))
        XCTAssertEqual(odd.outputShape, [1, 1, 10 + 5 - 4, 9 + 2 - 3])
    }

    func testMaskedWeightValuesDoNotAffectOutput() throws {
        for kind in [MaskKind.a, .b, .groupA, .groupB, .random] {
            let c = ConvCase(name: kind.rawValue, n: 2, cin: 3, cout: 3, mask: kind)
            let (x, w, b, mask) = c.tensors(seed: 300)
            let before = x.conv2d(weight: w, bias: b, mask: mask).data
            for i in 0..<w.count where mask!.data[i] == 0 { w.data[i] = i % 2 == 0 ? 1e30 : .nan }
            XCTAssertEqual(x.conv2d(weight: w, bias: b, mask: mask).data, before, kind.rawValue)
        }
    }

    func testAllZeroMaskGivesBiasOnly() throws {
        let x = uniformTensor([2, 2, 4, 4], seed: 310), w = uniformTensor([3, 2, 3, 3], seed: 311)
        let b = uniformTensor([3], seed: 312)
        let mask = Tensor(repeating: 0, shape: [3, 2, 3, 3])
        let y = x.conv2d(weight: w, bias: b, mask: mask)
        for i in 0..<y.count { XCTAssertEqual(y.data[i], b.data[(i / 16) % 3]) }
        y.backward(seed: [Float](repeating: 1, count: y.count))
        XCTAssertEqual(b.grad, [Float](repeating: 32, count: 3))
        XCTAssertTrue((w.grad ?? []).allSatisfy { $0 == 0 })
        XCTAssertTrue((x.grad ?? []).allSatisfy { $0 == 0 })
    }

    func testNoTapeWithoutGrad() throws {
        let c = ConvCase(name: "", cin: 2, cout: 2)
        let (x, w, b, _) = c.tensors(seed: 320)
        XCTAssertFalse(withoutGrad { x.conv2d(weight: w, bias: b) }.requiresGrad)
    }
}

// MARK: - Gradients

final class Conv2DGradientTests: XCTestCase {
    private func check(_ c: ConvCase, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        let (x, w, b, mask) = c.tensors(seed: seed)
        let f = { x.conv2d(weight: w, bias: b, mask: mask, dilation: c.dilation, padding: c.padding) }
        assertGradients(wrt: [x, w] + (b.map { [$0] } ?? []), c.name, file: file, line: line, f)
    }

    func testPlain3x3() throws {
        check(ConvCase(name: "3x3 N=2 Cin 2 Cout 3", n: 2, cin: 2, cout: 3), seed: 400)
        check(ConvCase(name: "3x3 Cin 3 Cout 1 5x4", cin: 3, cout: 1, h: 5, w: 4), seed: 401)
    }

    func testPixelCNNMasks() throws {
        check(ConvCase(name: "mask A", n: 2, cin: 2, cout: 2, mask: .a), seed: 410)
        check(ConvCase(name: "mask B", n: 2, cin: 2, cout: 3, mask: .b), seed: 411)
        check(ConvCase(name: "group mask A", cin: 3, cout: 3, h: 4, w: 4, mask: .groupA), seed: 412)
        check(ConvCase(name: "group mask B", cin: 3, cout: 3, h: 4, w: 4, mask: .groupB), seed: 413)
        check(ConvCase(name: "random mask", cin: 2, cout: 2, h: 4, w: 4, mask: .random), seed: 414)
    }

    func testCausalStackKernels() throws {
        check(ConvCase(name: "1x3 horizontal, left padding 2", n: 2, cin: 2, cout: 3, kh: 1, kw: 3,
                       padding: .explicit(top: 0, bottom: 0, left: 2, right: 0)), seed: 420)
        check(ConvCase(name: "1x3 horizontal same", cin: 2, cout: 2, kh: 1, kw: 3), seed: 421)
        check(ConvCase(name: "2x3 vertical, top padding 1", n: 2, cin: 2, cout: 3, kh: 2, kw: 3,
                       padding: .explicit(top: 1, bottom: 0, left: 1, right: 1)), seed: 422)
    }

    func testDilation() throws {
        check(ConvCase(name: "dilation 2", n: 2, cin: 2, cout: 2, h: 6, w: 6, dilation: (2, 2)), seed: 430)
        check(ConvCase(name: "dilation 3", cin: 2, cout: 3, h: 7, w: 7, dilation: (3, 3)), seed: 431)
        check(ConvCase(name: "dilation (1, 2) mask B", cin: 2, cout: 2, h: 5, w: 6, dilation: (1, 2), mask: .b), seed: 432)
    }

    func testOtherPaddingsAndShapes() throws {
        check(ConvCase(name: "valid", cin: 2, cout: 2, h: 6, w: 5, padding: .valid), seed: 440)
        check(ConvCase(name: "explicit, larger output", cin: 2, cout: 2, h: 4, w: 4,
                       padding: .explicit(top: 2, bottom: 1, left: 0, right: 3)), seed: 441)
        check(ConvCase(name: "5x5 on 2x3", cin: 2, cout: 2, h: 2, w: 3, kh: 5, kw: 5), seed: 442)
        check(ConvCase(name: "1x1", n: 2, cin: 3, cout: 2, h: 3, w: 3, kh: 1, kw: 1), seed: 443)
        check(ConvCase(name: "no bias", cin: 2, cout: 2, h: 4, w: 4, bias: false), seed: 444)
    }

    func testConstantInputOrWeight() throws {
        // The pullback skips what does not require gradients; the rest must stay right.
        let c = ConvCase(name: "", n: 2, cin: 2, cout: 3, mask: .b)
        let (x, w, b, mask) = c.tensors(seed: 450)
        let xc = x.detached(), wc = w.detached()
        assertGradients(wrt: [w, b!], "constant input") { xc.conv2d(weight: w, bias: b, mask: mask) }
        assertGradients(wrt: [x], "constant weight and bias") { x.conv2d(weight: wc, bias: nil, mask: mask) }
        assertGradients(wrt: [b!], "bias only") { xc.conv2d(weight: wc, bias: b, mask: mask) }
    }

    func testMaskedWeightsGetExactlyZeroGradient() throws {
        for kind in [MaskKind.a, .b, .groupA, .groupB, .random] {
            let c = ConvCase(name: kind.rawValue, n: 2, cin: 3, cout: 3, mask: kind)
            let (x, w, b, mask) = c.tensors(seed: 460)
            let y = x.conv2d(weight: w, bias: b, mask: mask, dilation: (1, 2))
            var rng = RandomGenerator(seed: 461)
            y.backward(seed: (0..<y.count).map { _ in rng.normal() })
            let g = w.grad!
            for i in 0..<w.count where mask!.data[i] == 0 {
                XCTAssertEqual(g[i], 0, "\(kind.rawValue): masked weight \(i)")
            }
            XCTAssertTrue((0..<w.count).allSatisfy { mask!.data[$0] == 0 || g[$0] != 0 },
                          "\(kind.rawValue): every kept weight gets a gradient")
        }
    }

    func testGradientsAccumulateOverUses() throws {
        // Two uses of one weight: the gradients add (the pullback uses accumulateGrad).
        let x = uniformTensor([1, 2, 4, 4], seed: 470), w = uniformTensor([2, 2, 3, 3], seed: 471)
        assertGradients(wrt: [x, w]) {
            x.conv2d(weight: w, bias: nil).tanh().conv2d(weight: w, bias: nil, dilation: (2, 2))
        }
    }
}

// MARK: - Causality

final class Conv2DCausalityTests: XCTestCase {
    /// d f(x)[i, j] / d x[k, l] for every (k, l) of a 1×1×5×5 input.
    private func jacobianRow(_ f: (Tensor) -> Tensor, _ x: Tensor, _ i: Int, _ j: Int) -> [Float] {
        x.grad = nil
        let y = f(x)
        XCTAssertEqual(y.shape, [1, 1, 5, 5])
        var seed = [Float](repeating: 0, count: 25)
        seed[i * 5 + j] = 1
        y.backward(seed: seed)
        return x.grad ?? [Float](repeating: 0, count: 25)
    }

    func testMaskAThenMaskBIsCausal() throws {
        let x = uniformTensor([1, 1, 5, 5], seed: 500)
        let wA = awayFromZero([1, 1, 3, 3], seed: 501), wB = awayFromZero([1, 1, 3, 3], seed: 502)
        let bA = uniformTensor([1], seed: 503), bB = uniformTensor([1], seed: 504)
        let mA = Tensor(shape: [1, 1, 3, 3], data: makeMask(.a, 1, 1, 3, 3)!)
        let mB = Tensor(shape: [1, 1, 3, 3], data: makeMask(.b, 1, 1, 3, 3)!)
        let net = { (x: Tensor) in
            x.conv2d(weight: wA, bias: bA, mask: mA).tanh().conv2d(weight: wB, bias: bB, mask: mB)
        }
        for i in 0..<5 {
            for j in 0..<5 {
                let g = jacobianRow(net, x, i, j)
                for k in 0..<5 {
                    for l in 0..<5 where k * 5 + l >= i * 5 + j {
                        XCTAssertEqual(g[k * 5 + l], 0, "out(\(i),\(j)) depends on in(\(k),\(l))")
                    }
                }
                // Not vacuous: the left and upper neighbours are seen.
                if j > 0 { XCTAssertNotEqual(g[i * 5 + j - 1], 0, "out(\(i),\(j)) misses its left neighbour") }
                if i > 0 { XCTAssertNotEqual(g[(i - 1) * 5 + j], 0, "out(\(i),\(j)) misses the pixel above") }
            }
        }
    }

    func testGatedStacksAreCausal() throws {
        // Vertical stack: 2×3 kernel padded on top (rows i−1 and i), shifted down one row →
        // rows i−2 and i−1. Horizontal stack: 1×2 kernel padded on the left (columns j−1, j), shifted
        // right one column → columns < j of row i. Their sum sees exactly the raster past.
        let x = uniformTensor([1, 1, 5, 5], seed: 510)
        let wv = awayFromZero([1, 1, 2, 3], seed: 511), wh = awayFromZero([1, 1, 1, 2], seed: 512)
        let net = { (x: Tensor) -> Tensor in
            let v = x.conv2d(weight: wv, bias: nil, padding: .explicit(top: 1, bottom: 0, left: 1, right: 1))
            let h = x.conv2d(weight: wh, bias: nil, padding: .explicit(top: 0, bottom: 0, left: 1, right: 0))
            return v.shifted(down: 1, right: 0) + h.shifted(down: 0, right: 1)
        }
        for i in 0..<5 {
            for j in 0..<5 {
                let g = jacobianRow(net, x, i, j)
                for k in 0..<5 {
                    for l in 0..<5 {
                        let seen = ((k == i - 1 || k == i - 2) && abs(l - j) <= 1) || (k == i && (l == j - 1 || l == j - 2))
                        if seen {
                            XCTAssertNotEqual(g[k * 5 + l], 0, "out(\(i),\(j)) misses in(\(k),\(l))")
                        } else {
                            XCTAssertEqual(g[k * 5 + l], 0, "out(\(i),\(j)) depends on in(\(k),\(l))")
                        }
                    }
                }
            }
        }
    }
}

// MARK: - Shifts

final class ShiftTests: XCTestCase {
    func testShiftValues() throws {
        let x = Tensor(shape: [1, 2, 3], data: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(x.shifted(down: 1, right: 0).data, [0, 0, 0, 1, 2, 3])
        XCTAssertEqual(x.shifted(down: 0, right: 1).data, [0, 1, 2, 0, 4, 5])
        XCTAssertEqual(x.shifted(down: -1, right: -2).data, [6, 0, 0, 0, 0, 0])
        XCTAssertEqual(x.shifted(down: 0, right: 0).data, x.data)
        XCTAssertEqual(x.shifted(down: 2, right: 0).data, [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(x.shifted(down: 0, right: -5).data, [0, 0, 0, 0, 0, 0])
        // Every plane of an NCHW tensor moves alike.
        let y = Tensor(shape: [2, 2, 2, 2], data: (0..<16).map(Float.init)).shifted(down: 1, right: 1)
        XCTAssertEqual(y.shape, [2, 2, 2, 2])
        XCTAssertEqual(y.data, [0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 8, 0, 0, 0, 12])
    }

    func testShiftGradients() throws {
        let x = uniformTensor([2, 3, 4, 5], seed: 600)
        for (d, r) in [(1, 0), (0, 1), (2, -1), (-1, 3), (0, 0), (4, 0)] {
            assertGradients(wrt: [x], "down \(d) right \(r)") { x.shifted(down: d, right: r) }
        }
    }
}

// MARK: - Bad arguments

final class Conv2DValidationTests: XCTestCase {
    private func assertRejects(_ input: [Int], _ weight: [Int], bias: [Int]? = nil, mask: [Int]? = nil,
                               dilation: (Int, Int) = (1, 1), padding: Conv2DPadding = .same,
                               _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Conv2DGeometry(input: input, weight: weight, bias: bias, mask: mask,
                                                dilation: dilation, padding: padding),
                             file: file, line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("conv2d: ") && message.contains(fragment),
                          "message \"\(message)\" lacks \"\(fragment)\"", file: file, line: line)
        }
    }

    func testRejectsBadArguments() throws {
        assertRejects([1, 3, 5, 5], [4, 2, 3, 3], "input has 3 channels but weight [4, 2, 3, 3] expects 2")
        assertRejects([1, 1, 5, 5], [1, 1, 2, 3], ".same padding needs an odd kernel, got 2×3")
        assertRejects([1, 1, 5, 5], [1, 1, 3, 4], ".same padding needs an odd kernel, got 3×4")
        assertRejects([1, 5, 5], [1, 1, 3, 3], "input must be [N, Cin, H, W], got [1, 5, 5]")
        assertRejects([1, 1, 5, 5], [1, 3, 3], "weight must be [Cout, Cin, KH, KW]")
        assertRejects([1, 1, 5, 5], [2, 1, 3, 3], bias: [1], "bias must be [2]")
        assertRejects([1, 1, 5, 5], [2, 1, 3, 3], mask: [2, 1, 3, 1], "mask [2, 1, 3, 1] differs from weight")
        assertRejects([1, 1, 5, 5], [1, 1, 3, 3], dilation: (0, 1), "dilation must be at least 1")
        assertRejects([1, 1, 5, 5], [1, 1, 3, 3], padding: .explicit(top: -1, bottom: 0, left: 0, right: 0),
                      "padding must be ≥ 0")
        assertRejects([1, 1, 4, 4], [1, 1, 3, 3], dilation: (2, 2), padding: .valid, "output would be 0×0")
        assertRejects([1, 0, 4, 4], [1, 0, 3, 3], "needs at least one channel")
        assertRejects([1, 1, 4, 4], [0, 1, 3, 3], "empty dimension")
    }

    func testAcceptsGoodArguments() throws {
        XCTAssertNoThrow(try Conv2DGeometry(input: [0, 2, 1, 1], weight: [3, 2, 5, 5], bias: [3], mask: [3, 2, 5, 5],
                                            dilation: (4, 2)))
        XCTAssertNoThrow(try Conv2DGeometry(input: [1, 1, 4, 4], weight: [1, 1, 2, 2], padding: .valid))
    }
}
