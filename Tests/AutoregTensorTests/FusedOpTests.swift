import AutoregTensor
import AutoregTestSupport
import XCTest

/// The fused ops must equal the compositions they replace, value for value and gradient for
/// gradient, and the image-parallel paths must equal the serial ones.
final class GatedActivationTests: XCTestCase {
    /// tanh(first half) ⊙ σ(second half) along `axis`, by slices and the unfused ops.
    private func reference(_ x: Tensor, axis: Int) -> Tensor {
        let n = x.shape[axis] / 2
        return x.slice(axis: axis, start: 0, length: n).tanh() * x.slice(axis: axis, start: n, length: n).sigmoid()
    }

    func testValuesMatchTanhTimesSigmoid() throws {
        for (shape, axis) in [([2, 6, 3, 4], 1), ([4, 3], 0), ([2, 3, 8], 2), ([3, 4, 2, 6], 3)] {
            let x = uniformTensor(shape, -4, 4, seed: 10)
            let y = x.gated(axis: axis), r = reference(x, axis: axis)
            XCTAssertEqual(y.shape, r.shape, "\(shape) axis \(axis)")
            for (a, b) in zip(y.data, r.data) { XCTAssertEqual(a, b, accuracy: 2e-6, "\(shape) axis \(axis)") }
        }
    }

    func testGradients() throws {
        for (shape, axis) in [([2, 4, 3, 3], 1), ([6, 2], 0), ([2, 3, 4], 2)] {
            let x = uniformTensor(shape, -2, 2, seed: 20)
            assertGradients(wrt: [x], "gated \(shape) axis \(axis)") { x.gated(axis: axis) }
        }
    }

    func testGradientAccumulatesWithOtherUses() throws {
        // x feeds the gate and a product: the second pullback must add to the first.
        let x = uniformTensor([2, 4, 2, 2], -2, 2, seed: 30)
        assertGradients(wrt: [x], "gated plus another use") {
            x.gated() * x.slice(axis: 1, start: 0, length: 2)
        }
    }

    func testTwoThreadsGiveTheSameValuesAndGradients() throws {
        let x = uniformTensor([5, 8, 3, 3], -3, 3, seed: 40)
        var results: [([Float], [Float])] = []
        for threads in [1, 2] {
            Gemm.setThreads(threads)
            x.grad = nil
            let y = x.gated()
            y.backward(seed: (0..<y.count).map { Float($0 % 7) - 3 })
            results.append((y.data, x.grad!))
        }
        Gemm.setThreads(1)
        XCTAssertEqual(results[0].0, results[1].0)
        XCTAssertEqual(results[0].1, results[1].1)
    }
}

final class SumOfConvolutionsTests: XCTestCase {
    override func tearDown() { Gemm.setThreads(1) }

    /// A horizontal-stack-like pair: a dilated 1×3 masked convolution of `h` plus a 1×1 of `v`.
    private func operands(seed: UInt64) -> (h: Tensor, v: Tensor, wh: Tensor, bh: Tensor, mh: Tensor,
                                            wv: Tensor, bv: Tensor) {
        let h = uniformTensor([3, 2, 4, 5], seed: seed), v = uniformTensor([3, 4, 4, 5], seed: seed + 1)
        let wh = uniformTensor([3, 2, 1, 3], seed: seed + 2), bh = uniformTensor([3], seed: seed + 3)
        let mask = (0..<18).map { i -> Float in i % 3 == 2 ? 0 : 1 }  // drop the right tap
        let wv = uniformTensor([3, 4, 1, 1], seed: seed + 4), bv = uniformTensor([3], seed: seed + 5)
        return (h, v, wh, bh, Tensor(shape: [3, 2, 1, 3], data: mask), wv, bv)
    }

    private func terms(_ o: (h: Tensor, v: Tensor, wh: Tensor, bh: Tensor, mh: Tensor, wv: Tensor, bv: Tensor))
        -> [ConvolutionTerm] {
        [ConvolutionTerm(input: o.h, weight: o.wh, bias: o.bh, mask: o.mh, dilation: (1, 2)),
         ConvolutionTerm(input: o.v, weight: o.wv, bias: o.bv)]
    }

    func testEqualsTheSumOfSeparateConvolutions() throws {
        let o = operands(seed: 50)
        let fused = Tensor.sumOfConvolutions(terms(o))
        let separate = o.h.conv2d(weight: o.wh, bias: o.bh, mask: o.mh, dilation: (1, 2))
            + o.v.conv2d(weight: o.wv, bias: o.bv)
        XCTAssertEqual(fused.shape, separate.shape)
        for (a, b) in zip(fused.data, separate.data) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testGradientsOfEveryOperand() throws {
        let o = operands(seed: 60)
        assertGradients(wrt: [o.h, o.v, o.wh, o.bh, o.wv, o.bv], "sum of convolutions") {
            Tensor.sumOfConvolutions(terms(o))
        }
    }

    func testSameInputInBothTerms() throws {
        // Both terms read x: their input gradients must add up.
        let x = uniformTensor([2, 2, 3, 3], seed: 70)
        let w1 = uniformTensor([2, 2, 3, 3], seed: 71), w2 = uniformTensor([2, 2, 1, 1], seed: 72)
        assertGradients(wrt: [x, w1, w2], "shared input") {
            Tensor.sumOfConvolutions([ConvolutionTerm(input: x, weight: w1, bias: nil),
                                      ConvolutionTerm(input: x, weight: w2, bias: nil)])
        }
    }

    func testBiasGradientWhereSomeTermsHaveNoProductsToRun() throws {
        // The bias sums ride on the first term whose input or weight wants a gradient; with
        // none (or only a later one), they must still come out, on one thread and on two.
        let o = operands(seed: 90)
        let constant = { (t: Tensor) in Tensor(shape: t.shape, data: t.data) }
        let h = constant(o.h), wh = constant(o.wh), v = constant(o.v), wv = constant(o.wv)
        for threads in [1, 2] {
            Gemm.setThreads(threads)
            assertGradients(wrt: [o.bh, o.bv], "only biases, \(threads) threads") {
                Tensor.sumOfConvolutions([ConvolutionTerm(input: h, weight: wh, bias: o.bh, mask: o.mh, dilation: (1, 2)),
                                          ConvolutionTerm(input: v, weight: wv, bias: o.bv)])
            }
            assertGradients(wrt: [o.bh, o.v, o.bv], "the second term's input, \(threads) threads") {
                Tensor.sumOfConvolutions([ConvolutionTerm(input: h, weight: wh, bias: o.bh, mask: o.mh, dilation: (1, 2)),
                                          ConvolutionTerm(input: o.v, weight: wv, bias: o.bv)])
            }
        }
    }

    func testTwoThreadsMatchOneThread() throws {
        // Images are split between threads; the weight gradient is summed over the threads.
        var outputs: [[Float]] = [], grads: [[[Float]]] = []
        for threads in [1, 2] {
            Gemm.setThreads(threads)
            let o = operands(seed: 80)
            let y = Tensor.sumOfConvolutions(terms(o))
            y.backward(seed: (0..<y.count).map { Float($0 % 5) - 2 })
            outputs.append(y.data)
            grads.append([o.h, o.v, o.wh, o.bh, o.wv, o.bv].map { $0.grad! })
        }
        XCTAssertEqual(outputs[0], outputs[1], "forward: every image's product is the same")
        for (g1, g2) in zip(grads[0], grads[1]) {
            for (a, b) in zip(g1, g2) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(a))) }
        }
    }
}

final class BroadcastLayoutTests: XCTestCase {
    /// a + b by explicit index arithmetic over the broadcast shape.
    private func naiveAdd(_ a: Tensor, _ b: Tensor) -> [Float] {
        let rank = max(a.rank, b.rank)
        let sa = [Int](repeating: 1, count: rank - a.rank) + a.shape
        let sb = [Int](repeating: 1, count: rank - b.rank) + b.shape
        let out = (0..<rank).map { max(sa[$0], sb[$0]) }
        var result: [Float] = []
        for flat in 0..<out.reduce(1, *) {
            var rest = flat, ia = 0, ib = 0, mulA = 1, mulB = 1
            for d in stride(from: rank - 1, through: 0, by: -1) {
                let i = rest % out[d]
                rest /= out[d]
                ia += (sa[d] == 1 ? 0 : i) * mulA
                ib += (sb[d] == 1 ? 0 : i) * mulB
                mulA *= sa[d]
                mulB *= sb[d]
            }
            result.append(a.data[ia] + b.data[ib])
        }
        return result
    }

    func testMergedDimensionsKeepValuesAndGradients() throws {
        let pairs: [([Int], [Int])] = [
            ([2, 3, 4], [2, 3, 4]), ([2, 3, 4], [3, 1]), ([2, 1, 4], [1, 3, 1]), ([4], [2, 3, 4]),
            ([2, 3, 1, 5], [1, 3, 2, 1]), ([2, 3, 4, 5], [2, 3, 1, 1]), ([1, 1, 3], [2, 2, 1]), ([], [2, 3]),
        ]
        for (k, (sa, sb)) in pairs.enumerated() {
            let a = uniformTensor(sa, seed: 90 + UInt64(k)), b = uniformTensor(sb, seed: 190 + UInt64(k))
            XCTAssertEqual((a + b).data, naiveAdd(a, b), "\(sa) + \(sb)")
            assertGradients(wrt: [a, b], "\(sa) * \(sb)") { a * b }
            assertGradients(wrt: [a, b], "\(sa) - \(sb)") { a - b }
        }
    }
}

final class RectifiedInputAndResidualTests: XCTestCase {
    override func tearDown() { Gemm.setThreads(1) }

    /// (name, weight shape, mask, padding): a direct 1×1 and a lowered masked 3×3.
    private let layers: [(String, [Int], [Float]?, Conv2DPadding)] = [
        ("1x1 (direct)", [3, 2, 1, 1], nil, .same),
        ("3x3 mask B (lowered)", [3, 2, 3, 3], (0..<54).map { ($0 % 9) <= 4 ? 1 : 0 }, .same),
    ]

    func testReluInputEqualsConvolutionOfTheRectifiedInput() throws {
        for (k, (name, ws, mask, padding)) in layers.enumerated() {
            let x = awayFromZero([2, 2, 4, 5], seed: 300 + UInt64(k))
            let w = uniformTensor(ws, seed: 310 + UInt64(k)), b = uniformTensor([3], seed: 320)
            let m = mask.map { Tensor(shape: ws, data: $0) }
            let fused = Tensor.sumOfConvolutions([ConvolutionTerm(input: x, weight: w, bias: b, mask: m,
                                                                  padding: padding, reluInput: true)])
            let plain = x.relu().conv2d(weight: w, bias: b, mask: m, padding: padding)
            for (a, r) in zip(fused.data, plain.data) { XCTAssertEqual(a, r, accuracy: 1e-5, name) }
            assertGradients(wrt: [x, w, b], name) {
                Tensor.sumOfConvolutions([ConvolutionTerm(input: x, weight: w, bias: b, mask: m,
                                                          padding: padding, reluInput: true)])
            }
        }
    }

    func testReluInputGradientAddsToOtherUses() throws {
        // x is used rectified by the convolution and directly by a product: both gradients count.
        for (k, (name, ws, mask, _)) in layers.enumerated() {
            let x = awayFromZero([2, 2, 3, 3], seed: 330 + UInt64(k))
            let w = uniformTensor(ws, seed: 340 + UInt64(k))
            let m = mask.map { Tensor(shape: ws, data: $0) }
            assertGradients(wrt: [x, w], name) {
                x * x + Tensor.sumOfConvolutions([ConvolutionTerm(input: x, weight: w, bias: nil, mask: m,
                                                                  reluInput: true)]).slice(axis: 1, start: 0, length: 2)
            }
        }
    }

    func testResidualIsAddedWithItsGradient() throws {
        let x = uniformTensor([2, 2, 3, 4], seed: 350), r = uniformTensor([2, 3, 3, 4], seed: 351)
        let w = uniformTensor([3, 2, 3, 3], seed: 352), b = uniformTensor([3], seed: 353)
        let fused = Tensor.sumOfConvolutions([ConvolutionTerm(input: x, weight: w, bias: b)], plus: r)
        let plain = r + x.conv2d(weight: w, bias: b)
        for (a, p) in zip(fused.data, plain.data) { XCTAssertEqual(a, p, accuracy: 1e-5) }
        assertGradients(wrt: [x, r, w, b], "residual") {
            Tensor.sumOfConvolutions([ConvolutionTerm(input: x, weight: w, bias: b)], plus: r)
        }
        // The residual also used elsewhere: gradients from both uses add up.
        assertGradients(wrt: [x, r], "residual used twice") {
            Tensor.sumOfConvolutions([ConvolutionTerm(input: x, weight: w, bias: b)], plus: r) * r
        }
    }

    /// A row of a larger map [N, Cout, S, P] as the residual, read in place: the same values
    /// and gradients as copying the row out, for the first, a middle and the last row, and a
    /// map with one row.
    func testRowOfAMapIsAddedInPlaceWithItsGradient() throws {
        let x = uniformTensor([2, 2, 3, 1], seed: 370), w = uniformTensor([4, 2, 2, 1], seed: 371)
        let b = uniformTensor([4], seed: 372)
        func terms() -> [ConvolutionTerm] {
            [ConvolutionTerm(input: x, weight: w, bias: b, padding: .explicit(top: 1, bottom: 0, left: 0, right: 0))]
        }
        for rows in [5, 1] {
            let map = uniformTensor([2, 4, rows, 3], seed: 373 + UInt64(rows))
            for row in Set([0, rows / 2, rows - 1]).sorted() {
                let inPlace = Tensor.sumOfConvolutions(terms(), plusRow: row, of: map)
                let copied = Tensor.sumOfConvolutions(terms(), plus: map.row(row).reshaped([2, 4, 3, 1]))
                XCTAssertEqual(inPlace.shape, [2, 4, 3, 1])
                XCTAssertEqual(inPlace.data, copied.data, "row \(row) of \(rows)")
                assertGradients(wrt: [x, w, b, map], "row \(row) of \(rows)") {
                    Tensor.sumOfConvolutions(terms(), plusRow: row, of: map)
                }
            }
        }
        // Every row of one map in turn, as the Diagonal BiLSTM's steps read it: the gradients add up.
        let map = uniformTensor([2, 4, 3, 3], seed: 380)
        assertGradients(wrt: [x, map], "all rows, summed") {
            (0..<3).map { Tensor.sumOfConvolutions(terms(), plusRow: $0, of: map).tanh() }.reduce(map.row(0).sum()) { $0 + $1.sum() }
        }
    }

    func testReluInputWithTwoThreadsMatchesOne() throws {
        var results: [([Float], [Float], [Float])] = []
        for threads in [1, 2] {
            Gemm.setThreads(threads)
            let x = awayFromZero([5, 2, 4, 4], seed: 360), w = uniformTensor([3, 2, 3, 3], seed: 361)
            let y = Tensor.sumOfConvolutions([ConvolutionTerm(input: x, weight: w, bias: nil, reluInput: true)])
            y.backward(seed: (0..<y.count).map { Float($0 % 5) - 2 })
            results.append((y.data, x.grad!, w.grad!))
        }
        XCTAssertEqual(results[0].0, results[1].0)
        XCTAssertEqual(results[0].1, results[1].1)
        for (a, b) in zip(results[0].2, results[1].2) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(a))) }
    }
}
