import AutoregTensor
import Foundation
import XCTest

/// Extreme arguments: losses stay finite and exact, nonlinearities saturate cleanly.
final class StabilityTests: XCTestCase {
    /// −log p(t | l) in Double: max(l,0) − t·l + log1p(e^−|l|).
    private func exactBernoulli(_ l: Double, _ t: Double) -> Double {
        max(l, 0) - t * l + Foundation.log1p(Foundation.exp(-abs(l)))
    }

    func testBernoulliNLLKeepsRelativeAccuracyAcrossLogits() throws {
        // The softplus term log(1 + e^−|l|) has its own series (not libm's log1pf): check it
        // over a fine grid, including the tiny losses of confident, correct predictions.
        let logits = stride(from: -40, through: 40, by: 0.01).map { Float($0) }
        for target: Float in [0, 1] {
            let nll = Tensor(shape: [logits.count], data: logits)
                .bernoulliNLL(targets: Tensor(repeating: target, shape: [logits.count]))
            var worst = 0.0, at: Float = 0
            for (i, l) in logits.enumerated() {
                let exact = exactBernoulli(Double(l), Double(target))
                let rel = abs(Double(nll.data[i]) - exact) / exact
                if rel > worst { (worst, at) = (rel, l) }
            }
            XCTAssertLessThan(worst, 2e-6, "target \(target): worst relative error at logit \(at)")
        }
    }

    func testBernoulliNLLAtExtremeLogits() throws {
        let logits: [Float] = [100, -100, 100, -100, 100, -100, 30, -30, 0, 1e-3, 88.5, -88.5]
        let targets: [Float] = [1, 0, 0, 1, 0.25, 0.75, 0, 1, 1, 0, 1, 1]
        let l = Tensor(shape: [12], data: logits, requiresGrad: true)
        let t = Tensor(shape: [12], data: targets, requiresGrad: true)
        let nll = l.bernoulliNLL(targets: t)
        for i in 0..<12 {
            let exact = exactBernoulli(Double(logits[i]), Double(targets[i]))
            XCTAssertTrue(nll.data[i].isFinite, "nll(\(logits[i]), \(targets[i])) = \(nll.data[i])")
            XCTAssertEqual(Double(nll.data[i]), exact, accuracy: 1e-6 * max(1, abs(exact)),
                           "nll(\(logits[i]), \(targets[i]))")
        }
        // Certain and right costs nothing; certain and wrong costs |l|.
        XCTAssertEqual(nll.data[0], 0, accuracy: 1e-30)
        XCTAssertEqual(nll.data[2], 100)
        nll.backward(seed: [Float](repeating: 1, count: 12))
        for i in 0..<12 {
            let s = 1 / (1 + Foundation.exp(-Double(logits[i])))
            XCTAssertEqual(Double(l.grad![i]), s - Double(targets[i]), accuracy: 1e-6, "dnll/dl at \(logits[i])")
            XCTAssertEqual(t.grad![i], -logits[i], "dnll/dt at \(logits[i])")
        }
    }

    func testCategoricalNLLAtExtremeLogits() throws {
        let rows: [[Float]] = [[100, -100, 0], [100, -100, 0], [-100, -100, -100], [100, 100, -100],
                               [-100, 100, -100], [0, 0, 0], [88, 89, 90], [-1000, 1000, 0]]
        let targets: [Int32] = [0, 1, 2, 1, 0, 1, 2, 0]
        let logits = Tensor(shape: [rows.count, 3], data: rows.flatMap { $0 }, requiresGrad: true)
        let nll = logits.categoricalNLL(targets: targets)
        XCTAssertEqual(nll.shape, [rows.count])
        for (r, row) in rows.enumerated() {
            let d = row.map(Double.init), m = d.max()!
            let exact = m + Foundation.log(d.reduce(0) { $0 + Foundation.exp($1 - m) }) - d[Int(targets[r])]
            XCTAssertTrue(nll.data[r].isFinite)
            // Float32 logits of size |l| carry an ulp of |l|·2^-23; allow two of those on top
            // of 1e-6 relative (a wrong formula is off by O(1), or by log 2 for ties).
            let ulps = 2 * Double(row.map { abs($0) }.max()!.ulp)
            XCTAssertEqual(Double(nll.data[r]), exact, accuracy: 1e-6 * max(1, abs(exact)) + ulps,
                           "row \(row) target \(targets[r])")
        }
        nll.backward(seed: [Float](repeating: 1, count: rows.count))
        for (r, row) in rows.enumerated() {
            let d = row.map(Double.init), m = d.max()!
            let z = d.reduce(0) { $0 + Foundation.exp($1 - m) }
            for c in 0..<3 {
                let expected = Foundation.exp(d[c] - m) / z - (c == Int(targets[r]) ? 1 : 0)
                XCTAssertEqual(Double(logits.grad![r * 3 + c]), expected, accuracy: 1e-6)
            }
        }
        let ls = Tensor(shape: [rows.count, 3], data: rows.flatMap { $0 }).logSoftmax()
        XCTAssertTrue(ls.data.allSatisfy(\.isFinite))
        XCTAssertEqual(ls.data[0], 0)
        XCTAssertEqual(ls.data[1], -200)
    }

    func testCategoricalNLLOfConfidentCorrectPredictionsIsAccurate() throws {
        // Small losses must keep their relative accuracy, as bernoulliNLL's do: the loss of
        // a confident, correct prediction is log1p(Σ_{k≠t} e^{l_k − l_t}), which is not
        // reachable as m + log(s) − l_t in float once it is below ~1e-7 · |m|.
        let rows: [[Float]] = [[20, 8.5], [0, -20], [100, 100, -100], [-100, -100, -100], [12, 0, -3, 1]]
        let targets: [Int32] = [0, 0, 1, 2, 0]
        for (r, row) in rows.enumerated() {
            let logits = Tensor(shape: [1, row.count], data: row)
            let value = logits.categoricalNLL(targets: [targets[r]]).data[0]
            let d = row.map(Double.init), m = d.max()!
            let exact = m + Foundation.log(d.reduce(0) { $0 + Foundation.exp($1 - m) }) - d[Int(targets[r])]
            XCTAssertEqual(Double(value), exact, accuracy: 1e-5 * exact,
                           "row \(row) target \(targets[r]): \(value) vs exact \(exact)")
            // The two-class case must agree with the Bernoulli loss of the logit difference.
            if row.count == 2 {
                let bern = Tensor(shape: [1], data: [row[1] - row[0]]).bernoulliNLL(targets: Tensor(shape: [1], data: [0])).data[0]
                XCTAssertEqual(Double(value), Double(bern), accuracy: 1e-5 * Double(bern), "row \(row) vs Bernoulli")
            }
        }
    }

    func testSaturation() throws {
        let x = Tensor(shape: [6], data: [-100, -30, -1e4, 100, 30, 1e4], requiresGrad: true)
        let s = x.sigmoid().data
        XCTAssertEqual(s[3], 1); XCTAssertEqual(s[4], 1); XCTAssertEqual(s[5], 1)
        for v in s[0..<3] { XCTAssertTrue(v >= 0 && v < 1e-13, "sigmoid of a large negative value: \(v)") }
        XCTAssertEqual(Double(s[1]), 1 / (1 + Foundation.exp(30.0)), accuracy: 1e-6 * 9.4e-14)

        let t = x.tanh().data
        XCTAssertEqual(t, [-1, -1, -1, 1, 1, 1])

        let sp = x.softplus().data
        XCTAssertEqual(sp[3], 100); XCTAssertEqual(sp[4], 30); XCTAssertEqual(sp[5], 1e4)
        for v in sp[0..<3] { XCTAssertTrue(v >= 0 && v < 1e-13, "softplus of a large negative value: \(v)") }
        XCTAssertEqual(Double(sp[1]), Foundation.log1p(Foundation.exp(-30.0)), accuracy: 1e-6 * 9.4e-14)

        let e = Tensor(shape: [4], data: [-100, -1e4, 80, 88]).exp().data
        XCTAssertTrue(e[0] >= 0 && e[0] < 1e-37, "exp(-100) = \(e[0])")
        XCTAssertTrue(e[1] >= 0 && e[1] < 1e-37, "exp(-1e4) = \(e[1])")
        XCTAssertEqual(Double(e[2]), Foundation.exp(80.0), accuracy: 1e-6 * Foundation.exp(80.0))
        XCTAssertEqual(Double(e[3]), Foundation.exp(88.0), accuracy: 1e-6 * Foundation.exp(88.0))
        XCTAssertFalse(Tensor(shape: [1], data: [200]).exp().data[0].isNaN)

        // Gradients at saturation are finite and vanish.
        for (name, y) in [("sigmoid", x.sigmoid()), ("tanh", x.tanh())] {
            x.grad = nil
            y.backward(seed: [Float](repeating: 1, count: 6))
            for g in x.grad! { XCTAssertTrue(g.isFinite && abs(g) < 1e-12, "\(name)' at saturation: \(g)") }
        }
        x.grad = nil
        x.softplus().backward(seed: [Float](repeating: 1, count: 6))
        XCTAssertEqual(Array(x.grad![3...]), [1, 1, 1])
        for g in x.grad![..<3] { XCTAssertTrue(g >= 0 && g < 1e-12) }
    }

    func testExpKernelRelativeErrorOverSweep() throws {
        // 320 001 points over [-80, 80] (step 5e-4) plus the endpoints' neighbourhoods.
        let n = 320_001
        var xs = (0..<n).map { Float(-80 + 160 * Double($0) / Double(n - 1)) }
        xs += [-80, -79.999, 79.999, 80, 0, -0.0, 1e-30, -1e-30, 0.5, -0.5, 0.3465736, -0.3465736]
        let y = Tensor(shape: [xs.count], data: xs).exp().data
        var worst = 0.0, worstX: Float = 0
        for (x, v) in zip(xs, y) {
            let exact = Foundation.exp(Double(x))
            let err = abs(Double(v) - exact) / exact
            if !(err <= worst) { worst = err; worstX = x }
        }
        XCTAssertLessThan(worst, 1e-6, "worst relative error \(worst) at x = \(worstX)")
    }
}
