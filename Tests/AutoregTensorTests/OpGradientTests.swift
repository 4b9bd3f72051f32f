import AutoregTensor
import AutoregTestSupport
import XCTest

/// Finite-difference checks of every differentiable op of the engine.
final class UnaryGradientTests: XCTestCase {
    func testSigmoid() throws {
        let x = uniformTensor([3, 5], -4, 4, seed: 10)
        assertGradients(wrt: [x]) { x.sigmoid() }
    }

    func testTanh() throws {
        // Covers both branches of the kernel (series below |x| = 0.125, quotient above).
        let x = Tensor(shape: [2, 5], data: [-2.5, -1, -0.3, -0.1, -0.01, 0.02, 0.11, 0.14, 0.8, 2.2],
                       requiresGrad: true)
        assertGradients(wrt: [x], eps: 3e-3) { x.tanh() }
    }

    func testRelu() throws {
        let x = awayFromZero([4, 4], seed: 11)
        assertGradients(wrt: [x]) { x.relu() }
        // Negative inputs get exactly zero gradient, positive ones exactly g.
        let y = x.relu()
        y.backward(seed: [Float](repeating: 1, count: 16))
        for i in 0..<16 { XCTAssertEqual(x.grad![i], x.data[i] > 0 ? 1 : 0) }
    }

    func testElu() throws {
        let x = awayFromZero([3, 4], 0.1, 3, seed: 12)
        assertGradients(wrt: [x]) { x.elu() }
        assertGradients(wrt: [x], "alpha 0.5") { x.elu(alpha: 0.5) }
    }

    func testSoftplus() throws {
        let x = uniformTensor([3, 5], -6, 6, seed: 13)
        assertGradients(wrt: [x]) { x.softplus() }
    }

    func testExp() throws {
        let x = uniformTensor([3, 4], -3, 2, seed: 14)
        assertGradients(wrt: [x], eps: 3e-3) { x.exp() }
    }

    func testLog() throws {
        let x = uniformTensor([3, 4], 0.3, 4, seed: 15)
        assertGradients(wrt: [x], eps: 3e-3) { x.log() }
    }

    func testScaledShiftedNegated() throws {
        let x = uniformTensor([2, 3], seed: 16)
        assertGradients(wrt: [x], "scaled") { x.scaled(by: -2.5) }
        assertGradients(wrt: [x], "* Float") { 3 * x }
        assertGradients(wrt: [x], "Float *") { x * 0.25 }
        assertGradients(wrt: [x], "shifted") { x.shifted(by: 1.5) }
        assertGradients(wrt: [x], "+ Float") { x + (-4) }
        assertGradients(wrt: [x], "negation") { -x }
    }

    func testChainOfUnaryOps() throws {
        let x = uniformTensor([6], 0.1, 2, seed: 17)
        assertGradients(wrt: [x]) { (x.log().tanh() * 3).sigmoid().softplus() }
    }
}

final class BroadcastGradientTests: XCTestCase {
    private let cases: [(String, [Int], [Int])] = [
        ("same shape", [3, 4], [3, 4]),
        ("row broadcast [B,N] ∘ [N]", [3, 4], [4]),
        ("row broadcast [N] ∘ [B,N]", [4], [3, 4]),
        ("column broadcast [B,1] ∘ [B,N]", [3, 1], [3, 4]),
        ("column broadcast [B,N] ∘ [B,1]", [3, 4], [3, 1]),
        ("scalar-shaped left", [], [3, 4]),
        ("scalar-shaped right", [3, 4], []),
        ("one-element [1]", [1], [2, 3]),
        ("3-D [2,1,4] ∘ [3,1]", [2, 1, 4], [3, 1]),
        ("3-D [2,3,1] ∘ [1,3,4]", [2, 3, 1], [1, 3, 4]),
        ("3-D [2,3,4] ∘ [2,1,4]", [2, 3, 4], [2, 1, 4]),
    ]

    private func check(_ name: String, _ op: @escaping (Tensor, Tensor) -> Tensor) {
        for (k, (label, sa, sb)) in cases.enumerated() {
            let a = uniformTensor(sa, seed: UInt64(100 + k))
            let b = uniformTensor(sb, -2, 2, seed: UInt64(200 + k))
            assertGradients(wrt: [a, b], "\(name) \(label)") { op(a, b) }
            // One operand constant: the other still gets the right gradient.
            let c = Tensor(shape: sb, data: b.data)
            assertGradients(wrt: [a], "\(name) \(label), right constant") { op(a, c) }
        }
    }

    func testAdd() throws { check("+") { $0 + $1 } }
    func testSubtract() throws { check("-") { $0 - $1 } }
    func testMultiply() throws { check("*") { $0 * $1 } }

    func testSameTensorOnBothSides() throws {
        let x = uniformTensor([2, 3], seed: 300)
        assertGradients(wrt: [x], "x * x") { x * x }
        assertGradients(wrt: [x], "x - x") { x - x }
        assertGradients(wrt: [x], "x + x * x") { x + x * x }
    }

    func testDiamondGraph() throws {
        // x feeds two branches that meet again: the tape must sum both contributions.
        let x = uniformTensor([3, 2], seed: 301)
        let w = uniformTensor([2, 2], seed: 302)
        assertGradients(wrt: [x, w]) {
            let h = x.matmul(w)
            return (h.sigmoid() * h.tanh() + x.exp()).sum(axis: 1)
        }
    }
}

final class ReductionGradientTests: XCTestCase {
    func testSumAndMean() throws {
        let x = uniformTensor([3, 4], seed: 20)
        assertGradients(wrt: [x], "sum") { x.sum() }
        assertGradients(wrt: [x], "mean") { x.mean() }
        let y = uniformTensor([2, 3, 4], seed: 21)
        assertGradients(wrt: [y], "sum 3-D") { y.sum() }
        assertGradients(wrt: [y], "mean 3-D") { y.mean() }
    }

    func testSumAlongEachAxis() throws {
        let x = uniformTensor([2, 3, 4], seed: 22)
        for axis in [0, 1, 2, -1, -3] {
            assertGradients(wrt: [x], "sum axis \(axis)") { x.sum(axis: axis) }
        }
        let m = uniformTensor([3, 5], seed: 23)
        assertGradients(wrt: [m], "2-D sum axis 0") { m.sum(axis: 0) }
        assertGradients(wrt: [m], "2-D sum axis 1") { m.sum(axis: 1) }
    }

    func testMeanAlongEachAxis() throws {
        let x = uniformTensor([2, 3, 4], seed: 24)
        for axis in [0, 1, 2, -2] {
            assertGradients(wrt: [x], "mean axis \(axis)") { x.mean(axis: axis) }
        }
    }
}

final class ShapeOpGradientTests: XCTestCase {
    func testConcatAxis0() throws {
        let a = uniformTensor([2, 3], seed: 30), b = uniformTensor([1, 3], seed: 31), c = uniformTensor([3, 3], seed: 32)
        assertGradients(wrt: [a, b, c]) { Tensor.concat([a, b, c], axis: 0) }
    }

    func testConcatAxis1() throws {
        let a = uniformTensor([2, 3], seed: 33), b = uniformTensor([2, 1], seed: 34), c = uniformTensor([2, 2], seed: 35)
        assertGradients(wrt: [a, b, c]) { Tensor.concat([a, b, c], axis: 1) }
        assertGradients(wrt: [a, c], "negative axis") { Tensor.concat([c, a], axis: -1) }
    }

    func testConcat3DAndConstantPart() throws {
        let a = uniformTensor([2, 2, 3], seed: 36), b = uniformTensor([2, 1, 3], seed: 37)
        let constant = uniformTensor([2, 3, 3], seed: 38, requiresGrad: false)
        assertGradients(wrt: [a, b], "3-D axis 1") { Tensor.concat([a, constant, b], axis: 1) }
        let c = uniformTensor([2, 2, 1], seed: 39)
        assertGradients(wrt: [a, c], "3-D axis 2") { Tensor.concat([a, c], axis: 2) }
    }

    func testSlice() throws {
        let x = uniformTensor([3, 4, 5], seed: 40)
        assertGradients(wrt: [x], "axis 0") { x.slice(axis: 0, start: 1, length: 2) }
        assertGradients(wrt: [x], "axis 1") { x.slice(axis: 1, start: 1, length: 2) }
        assertGradients(wrt: [x], "axis 2") { x.slice(axis: 2, start: 3, length: 2) }
        assertGradients(wrt: [x], "axis -1, whole") { x.slice(axis: -1, start: 0, length: 5) }
    }

    func testSplit() throws {
        let x = uniformTensor([2, 4, 3], seed: 41)
        for k in 0..<3 {
            assertGradients(wrt: [x], "part \(k)") { x.split(sizes: [1, 2, 1], axis: 1)[k] }
        }
        // All parts used at once, with different downstream ops.
        assertGradients(wrt: [x], "all parts") {
            let p = x.split(sizes: [1, 2, 1], axis: 1)
            return Tensor.concat([p[2].exp(), p[0] * 3, p[1].sigmoid()], axis: 1)
        }
    }

    func testCumsum() throws {
        let x = uniformTensor([3, 4], seed: 42)
        for axis in [0, 1] {
            assertGradients(wrt: [x], "inclusive axis \(axis)") { x.cumsum(axis: axis) }
            assertGradients(wrt: [x], "exclusive axis \(axis)") { x.cumsum(axis: axis, exclusive: true) }
        }
        let y = uniformTensor([2, 3, 4], seed: 43)
        for axis in [0, 1, 2] {
            assertGradients(wrt: [y], "3-D inclusive axis \(axis)") { y.cumsum(axis: axis) }
            assertGradients(wrt: [y], "3-D exclusive axis \(axis)") { y.cumsum(axis: axis, exclusive: true) }
        }
    }

    func testTransposedInner() throws {
        let x = uniformTensor([2, 3, 5], seed: 45)
        let w = uniformTensor([2, 5, 3], seed: 46, requiresGrad: false)
        // Weighted so that each output position has its own gradient, and used twice so that
        // the pullback must add into a gradient already there.
        assertGradients(wrt: [x], "[2,3,5]") { (x.transposedInner() * w).sum() + x.transposedInner().sigmoid().sum() }
        let y = uniformTensor([17, 18], seed: 47)
        assertGradients(wrt: [y], "[17,18]") { y.transposedInner().tanh().sum(axis: 0) }
    }

    func testReshaped() throws {
        let x = uniformTensor([2, 6], seed: 44)
        assertGradients(wrt: [x], "[3,4]") { x.reshaped([3, 4]).sigmoid() }
        assertGradients(wrt: [x], "[-1]") { x.reshaped([-1]) * x.reshaped([12]) }
        assertGradients(wrt: [x], "[4,-1]") { x.reshaped([4, -1]).sum(axis: 1) }
    }
}

final class MatMulGradientTests: XCTestCase {
    func testMatmul() throws {
        let x = uniformTensor([3, 4], seed: 50), w = uniformTensor([4, 5], seed: 51)
        assertGradients(wrt: [x, w]) { x.matmul(w) }
        let wc = uniformTensor([4, 5], seed: 51, requiresGrad: false)
        assertGradients(wrt: [x], "constant weight") { x.matmul(wc) }
        let xc = uniformTensor([3, 4], seed: 50, requiresGrad: false)
        assertGradients(wrt: [w], "constant input") { xc.matmul(w) }
    }

    func testMatmulWithLeadingDimensions() throws {
        let x = uniformTensor([2, 3, 4], seed: 52), w = uniformTensor([4, 2], seed: 53)
        assertGradients(wrt: [x, w]) { x.matmul(w) }
        let v = uniformTensor([4], seed: 54)
        assertGradients(wrt: [v, w], "vector input") { v.matmul(w) }
    }

    private func randomMask(_ k: Int, _ n: Int, seed: UInt64) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return Tensor(shape: [k, n], data: (0..<(k * n)).map { _ in rng.uniform() < 0.5 ? 0 : 1 })
    }

    func testMaskedMatmul() throws {
        let x = uniformTensor([3, 4], seed: 55), w = uniformTensor([4, 5], seed: 56)
        let mask = randomMask(4, 5, seed: 57)
        XCTAssertTrue(mask.data.contains(0) && mask.data.contains(1))
        assertGradients(wrt: [x, w]) { x.matmul(w, mask: mask) }
    }

    func testMaskedWeightsGetExactlyZeroGradient() throws {
        let x = uniformTensor([6, 4], seed: 58), w = uniformTensor([4, 5], seed: 59)
        let mask = randomMask(4, 5, seed: 60)
        let y = x.matmul(w, mask: mask)
        var rng = RandomGenerator(seed: 61)
        y.backward(seed: (0..<y.count).map { _ in rng.normal() })
        let gw = try! XCTUnwrap(w.grad)
        var unmaskedNonZero = 0
        for i in 0..<mask.count {
            if mask.data[i] == 0 { XCTAssertEqual(gw[i], 0, "masked weight \(i) got a gradient") }
            else if gw[i] != 0 { unmaskedNonZero += 1 }
        }
        XCTAssertEqual(unmaskedNonZero, Int(mask.data.reduce(0, +)))
    }

    func testMaskedWeightValuesDoNotAffectOutput() throws {
        let x = uniformTensor([3, 4], seed: 62), w = uniformTensor([4, 5], seed: 63)
        let mask = randomMask(4, 5, seed: 64)
        let before = x.matmul(w, mask: mask).data
        for i in 0..<mask.count where mask.data[i] == 0 { w.data[i] = 1000 }
        XCTAssertEqual(x.matmul(w, mask: mask).data, before)
        // And the result is the product with the explicitly masked matrix.
        let masked = Tensor(shape: w.shape, data: zip(w.data, mask.data).map { $0 * $1 })
        let reference = x.matmul(masked).data
        for (a, b) in zip(before, reference) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }
}

final class LossGradientTests: XCTestCase {
    func testBernoulliNLLWithRespectToLogits() throws {
        let logits = uniformTensor([3, 4], -4, 4, seed: 70)
        let targets = Tensor(shape: [3, 4], data: (0..<12).map { Float($0 % 2) })
        assertGradients(wrt: [logits]) { logits.bernoulliNLL(targets: targets) }
    }

    func testBernoulliNLLWithRespectToTargets() throws {
        let logits = uniformTensor([3, 4], -4, 4, seed: 71)
        let targets = uniformTensor([3, 4], 0.05, 0.95, seed: 72)
        assertGradients(wrt: [targets], "targets only") {
            logits.detached().bernoulliNLL(targets: targets)
        }
        assertGradients(wrt: [logits, targets], "both") { logits.bernoulliNLL(targets: targets) }
    }

    func testCategoricalNLL() throws {
        let logits = uniformTensor([4, 5], -3, 3, seed: 73)
        assertGradients(wrt: [logits]) { logits.categoricalNLL(targets: [0, 4, 2, 2]) }
        let logits3 = uniformTensor([2, 3, 4], -3, 3, seed: 74)
        assertGradients(wrt: [logits3], "3-D") { logits3.categoricalNLL(targets: [0, 1, 2, 3, 3, 0]) }
    }

    func testLogSoftmax() throws {
        let x = uniformTensor([3, 5], -3, 3, seed: 75)
        assertGradients(wrt: [x]) { x.logSoftmax() }
        let y = uniformTensor([2, 2, 4], -3, 3, seed: 76)
        assertGradients(wrt: [y], "3-D") { y.logSoftmax() }
    }

    func testCategoricalNLLAgreesWithLogSoftmax() throws {
        let x = uniformTensor([3, 6], -3, 3, seed: 77)
        let targets: [Int32] = [5, 0, 3]
        let nll = x.categoricalNLL(targets: targets)
        let ls = x.logSoftmax()
        for r in 0..<3 { XCTAssertEqual(nll.data[r], -ls.data[r * 6 + Int(targets[r])], accuracy: 1e-5) }
    }

    func testSmallNetworkLoss() throws {
        // A two-layer network with its mean Bernoulli loss: every op composed.
        let x = uniformTensor([4, 3], seed: 78, requiresGrad: false)
        let w1 = uniformTensor([3, 5], seed: 79), b1 = uniformTensor([5], seed: 80)
        let w2 = uniformTensor([5, 2], seed: 81), b2 = uniformTensor([2], seed: 82)
        let t = Tensor(shape: [4, 2], data: [1, 0, 0, 1, 1, 1, 0, 0])
        assertGradients(wrt: [w1, b1, w2, b2], eps: 3e-3) {
            ((x.matmul(w1) + b1).tanh().matmul(w2) + b2).bernoulliNLL(targets: t).sum(axis: 1).mean()
        }
    }
}
