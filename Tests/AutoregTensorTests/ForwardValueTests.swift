import AutoregTensor
import Foundation
import AutoregTestSupport
import XCTest

/// Forward values of the ops against straightforward Double-precision references.
final class ForwardValueTests: XCTestCase {
    private func sweep(_ low: Double, _ high: Double, _ n: Int) -> [Float] {
        (0..<n).map { Float(low + (high - low) * Double($0) / Double(n - 1)) }
    }

    private func assertUnary(_ name: String, _ xs: [Float], relative: Double, absolute: Double = 0,
                             _ op: (Tensor) -> Tensor, _ reference: (Double) -> Double,
                             file: StaticString = #filePath, line: UInt = #line) {
        let y = op(Tensor(shape: [xs.count], data: xs)).data
        var worst = 0.0, worstX: Float = 0
        for (x, v) in zip(xs, y) {
            let r = reference(Double(x))
            let err = abs(Double(v) - r) / max(abs(r), 1e-300)
            if abs(Double(v) - r) > absolute, err > worst { worst = err; worstX = x }
        }
        XCTAssertLessThanOrEqual(worst, relative, "\(name): relative error \(worst) at x = \(worstX)", file: file, line: line)
    }

    func testUnaryValues() throws {
        let xs = sweep(-20, 20, 4001)
        assertUnary("sigmoid", xs, relative: 1e-6, { $0.sigmoid() }) { 1 / (1 + Foundation.exp(-$0)) }
        assertUnary("tanh", xs, relative: 1e-6, { $0.tanh() }) { Foundation.tanh($0) }
        assertUnary("softplus", xs, relative: 1e-6, { $0.softplus() }) { Foundation.log1p(Foundation.exp($0)) }
        assertUnary("relu", xs, relative: 0, { $0.relu() }) { max($0, 0) }
        assertUnary("elu", xs, relative: 1e-6, absolute: 1e-7, { $0.elu() }) { $0 > 0 ? $0 : Foundation.expm1($0) }
        assertUnary("elu alpha 2", xs, relative: 1e-6, absolute: 1e-7, { $0.elu(alpha: 2) }) { $0 > 0 ? $0 : 2 * Foundation.expm1($0) }
        assertUnary("scaled", xs, relative: 1e-7, { $0.scaled(by: -3) }) { -3 * $0 }
        assertUnary("shifted", xs, relative: 1e-6, absolute: 1e-6, { $0.shifted(by: 0.5) }) { $0 + 0.5 }
        assertUnary("negation", xs, relative: 0, { -$0 }) { -$0 }
        let positive = sweep(1e-3, 50, 2001)
        assertUnary("log", positive, relative: 1e-6, absolute: 1e-7, { $0.log() }) { Foundation.log($0) }
        // Tiny arguments: tanh and sigmoid keep their relative accuracy near 0.
        let tiny: [Float] = [1e-30, -1e-20, 1e-8, -1e-5, 3e-3, 0.0624, -0.1249, 0.1251]
        assertUnary("tanh tiny", tiny, relative: 1e-6, { $0.tanh() }) { Foundation.tanh($0) }
    }

    func testBroadcastValues() throws {
        let a = uniformTensor([2, 1, 4], seed: 1, requiresGrad: false)
        let b = uniformTensor([3, 1], seed: 2, requiresGrad: false)
        let sum = a + b, diff = a - b, prod = a * b
        XCTAssertEqual(sum.shape, [2, 3, 4])
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 {
            let x = a.data[i * 4 + k], y = b.data[j], o = (i * 3 + j) * 4 + k
            XCTAssertEqual(sum.data[o], x + y)
            XCTAssertEqual(diff.data[o], x - y)
            XCTAssertEqual(prod.data[o], x * y)
        } } }
        let s = Tensor(2) * uniformTensor([3], seed: 3, requiresGrad: false)
        XCTAssertEqual(s.shape, [3])
        XCTAssertEqual((Tensor(1) + Tensor(2)).shape, [])
        XCTAssertEqual((Tensor(1) + Tensor(2)).item, 3)
    }

    func testReductionValues() throws {
        let x = Tensor(shape: [2, 3, 2], data: (0..<12).map(Float.init))
        XCTAssertEqual(x.sum().item, 66)
        XCTAssertEqual(x.sum().shape, [])
        XCTAssertEqual(x.mean().item, 5.5)
        XCTAssertEqual(x.sum(axis: 0).shape, [3, 2])
        XCTAssertEqual(x.sum(axis: 0).data, [6, 8, 10, 12, 14, 16])
        XCTAssertEqual(x.sum(axis: 1).data, [6, 9, 24, 27])
        XCTAssertEqual(x.sum(axis: 2).data, [1, 5, 9, 13, 17, 21])
        XCTAssertEqual(x.sum(axis: -1).data, x.sum(axis: 2).data)
        // Long sums are rounded once: 1 + 4096 · f (f = Float(1e-4)) is exact in double, and a
        // float accumulator would round each of the 4096 additions (ulp(1) = 1.2e-7 ≈ f / 800).
        let f = Float(1e-4)
        let row = [Float(1)] + [Float](repeating: f, count: 4096)
        let exact = Float(1 + 4096 * Double(f))
        XCTAssertEqual(Tensor(shape: [1, row.count], data: row).sum(axis: 1).data, [exact])
        XCTAssertEqual(Tensor(shape: [row.count, 1], data: row).sum(axis: 0).data, [exact])
        var floatSum: Float = 0
        for v in row { floatSum += v }
        XCTAssertNotEqual(floatSum, exact, "the case tells the two accumulations apart")
        XCTAssertEqual(x.mean(axis: 1).data, [2, 3, 8, 9])
        XCTAssertEqual(x.mean(axis: 1).shape, [2, 2])
    }

    /// A per-image NLL is a sum over many small terms: each row here is 1000 then 10 000 terms
    /// of 2⁻¹⁶ (below half a float ulp of 1000, so a float accumulator drops every one of them);
    /// the sum over either axis must still be 1000 + 10 000 · 2⁻¹⁶ to float precision.
    func testSumOverAnAxisKeepsSmallTerms() throws {
        let n = 10_001, small = Float(1) / 65_536
        var rows = [Float](repeating: small, count: 2 * n)
        rows[0] = 1000
        rows[n] = 1000
        let expected = Float(1000 + 10_000 * Double(small))
        XCTAssertEqual(Tensor(shape: [2, n], data: rows).sum(axis: 1).data, [expected, expected])
        // The same numbers down the columns of [n, 2] (the inner loop of the reduction).
        var columns = [Float](repeating: small, count: 2 * n)
        columns[0] = 1000
        columns[1] = 1000
        XCTAssertEqual(Tensor(shape: [n, 2], data: columns).sum(axis: 0).data, [expected, expected])
    }

    func testCumsumValues() throws {
        let x = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(x.cumsum(axis: 1).data, [1, 3, 6, 4, 9, 15])
        XCTAssertEqual(x.cumsum(axis: 1, exclusive: true).data, [0, 1, 3, 0, 4, 9])
        XCTAssertEqual(x.cumsum(axis: 0).data, [1, 2, 3, 5, 7, 9])
        XCTAssertEqual(x.cumsum(axis: 0, exclusive: true).data, [0, 0, 0, 1, 2, 3])
        XCTAssertEqual(x.cumsum(axis: 0).shape, [2, 3])
    }

    func testConcatSliceSplitReshapeValues() throws {
        let a = Tensor(shape: [2, 2], data: [1, 2, 3, 4]), b = Tensor(shape: [2, 1], data: [5, 6])
        let c = Tensor.concat([a, b], axis: 1)
        XCTAssertEqual(c.shape, [2, 3])
        XCTAssertEqual(c.data, [1, 2, 5, 3, 4, 6])
        let r = Tensor.concat([a, Tensor(shape: [1, 2], data: [7, 8])], axis: 0)
        XCTAssertEqual(r.shape, [3, 2])
        XCTAssertEqual(r.data, [1, 2, 3, 4, 7, 8])
        XCTAssertEqual(c.slice(axis: 1, start: 1, length: 2).data, [2, 5, 4, 6])
        XCTAssertEqual(r.slice(axis: 0, start: 2, length: 1).data, [7, 8])
        let parts = c.split(sizes: [2, 1], axis: 1)
        XCTAssertEqual(parts.map(\.shape), [[2, 2], [2, 1]])
        XCTAssertEqual(parts[0].data, a.data)
        XCTAssertEqual(parts[1].data, b.data)
        XCTAssertEqual(c.reshaped([3, -1]).shape, [3, 2])
        XCTAssertEqual(c.reshaped([-1]).shape, [6])
        XCTAssertEqual(c.reshaped([-1]).data, c.data)
    }

    func testTransposedInnerValues() throws {
        // Sizes on both sides of the kernel's 16×16 blocks, and one leading axis or two.
        for shape in [[3, 4], [2, 37, 19], [1, 256, 50], [2, 2, 16, 33]] {
            let x = uniformTensor(shape, seed: 7, requiresGrad: false)
            let y = x.transposedInner()
            let rows = shape[shape.count - 2], cols = shape[shape.count - 1], plane = rows * cols
            var expectedShape = shape
            expectedShape.swapAt(shape.count - 2, shape.count - 1)
            XCTAssertEqual(y.shape, expectedShape)
            var mismatches = 0
            for n in 0..<(x.count / plane) {
                for r in 0..<rows {
                    for c in 0..<cols where y.data[n * plane + c * rows + r] != x.data[n * plane + r * cols + c] {
                        mismatches += 1
                    }
                }
            }
            XCTAssertEqual(mismatches, 0, "\(shape)")
            XCTAssertEqual(y.transposedInner().data, x.data, "\(shape): transposing twice")
        }
    }

    func testMatmulValues() throws {
        let x = uniformTensor([5, 7], seed: 4, requiresGrad: false)
        let w = uniformTensor([7, 3], seed: 5, requiresGrad: false)
        let y = x.matmul(w)
        XCTAssertEqual(y.shape, [5, 3])
        for i in 0..<5 { for j in 0..<3 {
            var s = 0.0
            for k in 0..<7 { s += Double(x.data[i * 7 + k]) * Double(w.data[k * 3 + j]) }
            XCTAssertEqual(Double(y.data[i * 3 + j]), s, accuracy: 1e-5)
        } }
        XCTAssertEqual(x.reshaped([5, 1, 7]).matmul(w).shape, [5, 1, 3])
    }

    func testLogSoftmaxRowsNormalise() throws {
        let x = uniformTensor([4, 7], -5, 5, seed: 6, requiresGrad: false)
        let y = x.logSoftmax()
        for r in 0..<4 {
            let s = (0..<7).reduce(0.0) { $0 + Foundation.exp(Double(y.data[r * 7 + $1])) }
            XCTAssertEqual(s, 1, accuracy: 1e-6)
        }
    }
}

/// Tape mechanics: accumulation, zeroing, grad mode, detaching.
final class TapeTests: XCTestCase {
    func testGradientsAccumulateAcrossBackwardCalls() throws {
        let x = Tensor(shape: [3], data: [1, 2, 3], requiresGrad: true)
        (x * x).sum().backward()
        XCTAssertEqual(x.grad!, [2, 4, 6])
        (x * x).sum().backward()
        XCTAssertEqual(x.grad!, [4, 8, 12])
        x.zeroGrad()
        XCTAssertEqual(x.grad!, [0, 0, 0])
    }

    func testWithoutGradRecordsNoTape() throws {
        let x = Tensor(shape: [2], data: [1, 2], requiresGrad: true)
        let y = withoutGrad { (x * x).sigmoid().sum() }
        XCTAssertFalse(y.requiresGrad)
        y.backward()
        XCTAssertNil(x.grad)
        XCTAssertTrue((x * x).requiresGrad, "grad mode is restored after withoutGrad")
    }

    func testDetachedAndConstantsDoNotRequireGrad() throws {
        let x = Tensor(shape: [2], data: [1, 2], requiresGrad: true)
        XCTAssertFalse(x.detached().requiresGrad)
        XCTAssertFalse((Tensor(shape: [2], data: [1, 2]) * 3).requiresGrad)
        let y = (x.detached() * x).sum()
        y.backward()
        XCTAssertEqual(x.grad!, [1, 2], "the detached factor is a constant")
    }

    func testBackwardTwiceOnTheSameGraphAccumulatesTwice() throws {
        let x = Tensor(shape: [3], data: [1, -2, 0.5], requiresGrad: true)
        let y = (x * x).sigmoid().sum()
        y.backward()
        let once = x.grad!
        y.backward()
        for (a, b) in zip(x.grad!, once) { XCTAssertEqual(a, 2 * b, accuracy: 1e-7) }
    }

    func testSharedSubexpressionReceivesAllContributions() throws {
        // y = s + s·s with s = sum(x): dy/dx_k = 1 + 2s.
        let x = Tensor(shape: [3], data: [0.5, 0.25, -1], requiresGrad: true)
        let s = x.sum()
        (s + s * s).backward()
        let expected = 1 + 2 * (0.5 + 0.25 - 1) as Float
        XCTAssertEqual(x.grad!, [expected, expected, expected])
    }

    func testBackwardWithSeed() throws {
        let x = Tensor(shape: [2, 2], data: [1, 2, 3, 4], requiresGrad: true)
        (x * 3).backward(seed: [1, 0, -1, 2])
        XCTAssertEqual(x.grad!, [3, 0, -3, 6])
    }
}
