import AutoregNN
import AutoregTensor
import Foundation
import AutoregTestSupport
import XCTest

final class OptimizerTests: XCTestCase {
    func testAdamFirstStepMovesEachWeightByLearningRateTimesSign() throws {
        let p = uniformTensor([3, 4], seed: 1)
        let q = uniformTensor([5], seed: 2)
        let before = p.data + q.data
        // Gradients of very different sizes: bias correction makes the first step ±lr anyway.
        p.grad = [1e-3, -2, 50, -0.1, 7, -7, 3e-2, -3e-2, 1, -1, 0.5, -1e2]
        q.grad = [4, -4e-3, 0.25, -9, 1e-1]
        let lr: Float = 0.01
        Adam(learningRate: lr).step([p, q])
        let grads = p.grad! + q.grad!
        for (i, (w0, w1)) in zip(before, p.data + q.data).enumerated() {
            let expected = w0 - lr * (grads[i] > 0 ? 1 : -1)
            XCTAssertEqual(w1, expected, accuracy: 2e-6, "weight \(i), gradient \(grads[i])")
        }
    }

    func testAdamSecondStepMatchesFormula() throws {
        let p = Tensor(shape: [2], data: [0.5, -0.5], requiresGrad: true)
        let adam = Adam(learningRate: 0.1, beta1: 0.9, beta2: 0.99, epsilon: 1e-8)
        let g1: [Double] = [1, -0.5], g2: [Double] = [-2, 0.25]
        p.grad = g1.map(Float.init); adam.step([p])
        p.grad = g2.map(Float.init); adam.step([p])
        for j in 0..<2 {
            let m1 = 0.1 * g1[j], v1 = 0.01 * g1[j] * g1[j]
            let w1 = [0.5, -0.5][j] - 0.1 * (m1 / 0.1) / ((v1 / 0.01).squareRoot() + 1e-8)
            let m2 = 0.9 * m1 + 0.1 * g2[j], v2 = 0.99 * v1 + 0.01 * g2[j] * g2[j]
            let c1 = 1 - 0.9 * 0.9, c2 = 1 - 0.99 * 0.99
            let w2 = w1 - 0.1 * (m2 / c1) / ((v2 / c2).squareRoot() + 1e-8)
            XCTAssertEqual(Double(p.data[j]), w2, accuracy: 1e-6)
        }
        XCTAssertEqual(adam.state.step, 2)
    }

    func testAdamSkipsParametersWithoutGradient() throws {
        let p = uniformTensor([3], seed: 3), q = uniformTensor([3], seed: 4)
        let qBefore = q.data
        p.grad = [1, 1, 1]
        Adam(learningRate: 0.1).step([p, q])
        XCTAssertEqual(q.data, qBefore)
    }

    func testAdamStateRestoreContinuesIdentically() throws {
        let make = { uniformTensor([4], seed: 5) }
        let a = make(), b = make()
        let adamA = Adam(learningRate: 0.05)
        var rng = RandomGenerator(seed: 6)
        let grads = (0..<4).map { _ in (0..<4).map { _ in rng.normal() } }
        a.grad = grads[0]; adamA.step([a])
        a.grad = grads[1]; adamA.step([a])
        // b replays the first two steps with its own optimizer, then hands its state over.
        let adamB = Adam(learningRate: 0.05)
        b.grad = grads[0]; adamB.step([b])
        b.grad = grads[1]; adamB.step([b])
        let restored = Adam(learningRate: 0.05)
        try restored.restore(adamB.state, for: [b])
        for k in 2..<4 {
            a.grad = grads[k]; adamA.step([a])
            b.grad = grads[k]; restored.step([b])
        }
        XCTAssertEqual(a.data, b.data)
        XCTAssertThrowsError(try restored.restore(SGD().state, for: [b]))
    }

    func testSGDMomentumThreeStepTrajectory() throws {
        // v ← μv + g, w ← w − lr·v with lr = 0.1, μ = 0.9, worked by hand:
        // v1 = [0.5, 1],       w1 = [0.95, −2.1]
        // v2 = [−0.55, 1.4],   w2 = [1.005, −2.24]
        // v3 = [1.505, 1.26],  w3 = [0.8545, −2.366]
        let w = Tensor(shape: [2], data: [1, -2], requiresGrad: true)
        let sgd = SGD(learningRate: 0.1, momentum: 0.9)
        let grads: [[Float]] = [[0.5, 1], [-1, 0.5], [2, 0]]
        let expected: [[Float]] = [[0.95, -2.1], [1.005, -2.24], [0.8545, -2.366]]
        for (g, e) in zip(grads, expected) {
            w.grad = g
            sgd.step([w])
            XCTAssertEqual(w.data[0], e[0], accuracy: 1e-6)
            XCTAssertEqual(w.data[1], e[1], accuracy: 1e-6)
        }
        XCTAssertEqual(sgd.state.slots["velocity"]![0][0], 1.505, accuracy: 1e-6)
        XCTAssertEqual(sgd.state.slots["velocity"]![0][1], 1.26, accuracy: 1e-6)
    }

    func testSGDWithoutMomentumIsPlainGradientDescent() throws {
        let w = Tensor(shape: [2], data: [1, 1], requiresGrad: true)
        let sgd = SGD(learningRate: 0.5, momentum: 0)
        w.grad = [2, -4]; sgd.step([w])
        w.grad = [2, -4]; sgd.step([w])
        XCTAssertEqual(w.data, [-1, 5])
    }

    func testWeightDecayAddsL2GradientToSGDAndAdam() throws {
        // SGD without momentum: w ← w − lr·(g + λw).
        let p = Tensor(shape: [3], data: [2, -1, 0.5], requiresGrad: true)
        p.grad = [0.1, 0, -0.2]
        let sgd = SGD(learningRate: 0.5, momentum: 0)
        sgd.weightDecay = 0.1
        sgd.step([p])
        XCTAssertEqual(p.data[0], 2 - 0.5 * (0.1 + 0.2), accuracy: 1e-6)
        XCTAssertEqual(p.data[1], -1 - 0.5 * (0 - 0.1), accuracy: 1e-6)
        XCTAssertEqual(p.data[2], 0.5 - 0.5 * (-0.2 + 0.05), accuracy: 1e-6)
        // Adam with a zero data gradient: the decay alone moves each weight towards 0 by lr.
        let q = Tensor(shape: [2], data: [3, -4], requiresGrad: true)
        q.grad = [0, 0]
        let adam = Adam(learningRate: 0.01)
        adam.weightDecay = 1e-2
        adam.step([q])
        XCTAssertEqual(q.data[0], 3 - 0.01, accuracy: 1e-5)
        XCTAssertEqual(q.data[1], -4 + 0.01, accuracy: 1e-5)
    }

    func testClipGradientNormRescales() throws {
        let a = Tensor(shape: [2], data: [0, 0], requiresGrad: true)
        let b = Tensor(shape: [1], data: [0], requiresGrad: true)
        let c = Tensor(shape: [3], data: [0, 0, 0], requiresGrad: true)  // no gradient: ignored
        a.grad = [3, 4]; b.grad = [12]
        let norm = clipGradientNorm([a, b, c], maxNorm: 6.5)
        XCTAssertEqual(norm, 13, accuracy: 1e-6)
        XCTAssertEqual(a.grad![0], 1.5, accuracy: 1e-6)
        XCTAssertEqual(a.grad![1], 2, accuracy: 1e-6)
        XCTAssertEqual(b.grad![0], 6, accuracy: 1e-6)
        XCTAssertNil(c.grad)
        let after = (a.grad! + b.grad!).reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        XCTAssertEqual(after, 6.5, accuracy: 1e-5)
        // Below the limit: untouched, and the norm is still reported.
        let again = clipGradientNorm([a, b], maxNorm: 100)
        XCTAssertEqual(again, 6.5, accuracy: 1e-5)
        XCTAssertEqual(a.grad![0], 1.5, accuracy: 1e-6)
    }

    func testLearningRateSchedules() throws {
        XCTAssertEqual(LearningRateSchedule.constant.rate(base: 0.3, epoch: 17), 0.3)
        let step = LearningRateSchedule.step(every: 3, gamma: 0.5)
        let expected: [Float] = [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]
        for (epoch, e) in expected.enumerated() {
            XCTAssertEqual(step.rate(base: 0.2, epoch: epoch), 0.2 * e, accuracy: 1e-7, "epoch \(epoch)")
        }
        let exponential = LearningRateSchedule.exponential(gamma: 0.9)
        XCTAssertEqual(exponential.rate(base: 0.1, epoch: 0), 0.1, accuracy: 1e-7)
        XCTAssertEqual(exponential.rate(base: 0.1, epoch: 1), 0.09, accuracy: 1e-7)
        XCTAssertEqual(exponential.rate(base: 0.1, epoch: 3), 0.0729, accuracy: 1e-7)
        XCTAssertEqual(exponential.rate(base: 0.1, epoch: 10), Float(0.1 * Foundation.pow(0.9, 10.0)), accuracy: 1e-7)
        // Decays monotonically.
        XCTAssertLessThan(exponential.rate(base: 0.1, epoch: 11), exponential.rate(base: 0.1, epoch: 10))
    }

    func testAdamMinimisesQuadratic() throws {
        // f(w) = Σ a_i (w_i − c_i)², minimum 0 at w = c.
        let target = Tensor(shape: [4], data: [1.5, -2, 0.25, 3])
        let curvature = Tensor(shape: [4], data: [1, 10, 0.5, 3])
        let w = Tensor(shape: [4], data: [0, 0, 0, 0], requiresGrad: true)
        let adam = Adam(learningRate: 0.1)
        func loss() -> Tensor { let d = w - target; return (curvature * d * d).sum() }
        let initial = loss().item
        for _ in 0..<400 {
            w.grad = nil
            loss().backward()
            adam.step([w])
        }
        XCTAssertLessThan(loss().item, 1e-4 * initial)
        for i in 0..<4 { XCTAssertEqual(w.data[i], target.data[i], accuracy: 1e-2) }
    }

    func testSGDMinimisesQuadratic() throws {
        let w = Tensor(shape: [2], data: [3, -3], requiresGrad: true)
        let sgd = SGD(learningRate: 0.05, momentum: 0.9)
        for _ in 0..<300 {
            w.grad = nil
            (w * w).sum().backward()
            sgd.step([w])
        }
        XCTAssertEqual(w.data[0], 0, accuracy: 1e-3)
        XCTAssertEqual(w.data[1], 0, accuracy: 1e-3)
    }
}

final class LayerTests: XCTestCase {
    func testMaskedLinearComputesMaskedAffineMap() throws {
        var rng = RandomGenerator(seed: 9)
        let mask = Tensor(shape: [3, 2], data: [1, 0, 0, 1, 1, 1])
        let layer = MaskedLinear(inputs: 3, outputs: 2, mask: mask, name: "l", rng: &rng)
        layer.bias.data = [0.5, -0.25]
        let x = uniformTensor([4, 3], seed: 10, requiresGrad: false)
        let y = layer(x)
        XCTAssertEqual(y.shape, [4, 2])
        let w = layer.weight.data
        for n in 0..<4 { for j in 0..<2 {
            var s = layer.bias.data[j]
            for i in 0..<3 { s += x.data[n * 3 + i] * w[i * 2 + j] * mask.data[i * 2 + j] }
            XCTAssertEqual(y.data[n * 2 + j], s, accuracy: 1e-5)
        } }
        XCTAssertEqual(layer.parameters.map(\.name), ["l.weight", "l.bias"])
        XCTAssertEqual(layer.parameterCount, 8)
        assertGradients(wrt: [layer.weight, layer.bias]) { layer(x) }
    }

    func testGlorotUniformBounds() throws {
        var rng = RandomGenerator(seed: 11)
        let w = Initializer.glorotUniform([30, 20], fanIn: 30, fanOut: 20, rng: &rng)
        let bound = (6.0 / 50.0).squareRoot()
        XCTAssertTrue(w.requiresGrad)
        XCTAssertTrue(w.data.allSatisfy { abs(Double($0)) <= bound })
        XCTAssertGreaterThan(w.data.map { abs(Double($0)) }.max()!, 0.9 * bound)
    }
}
