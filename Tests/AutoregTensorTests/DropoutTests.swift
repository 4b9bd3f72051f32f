import AutoregTensor
import AutoregTestSupport
import Foundation
import XCTest

/// Dropout: the gradient goes through the forward pass's mask, the drop rate and the mean
/// are right, and it acts only inside `withDropout`.
final class DropoutTests: XCTestCase {
    func testGradientGoesThroughTheSameMask() throws {
        let x = uniformTensor([4, 6], -2, 2, seed: 21)
        // A fresh generator per call: every evaluation of f draws the same mask.
        assertGradients(wrt: [x]) {
            var rng = RandomGenerator(seed: 5)
            return x.dropout(rate: 0.4, rng: &rng)
        }
        var rng = RandomGenerator(seed: 6)
        let y = x.dropout(rate: 0.4, rng: &rng)
        x.grad = nil
        y.backward(seed: [Float](repeating: 1, count: x.count))
        for i in 0..<x.count {
            XCTAssertEqual(x.grad![i], y.data[i] == 0 ? 0 : 1 / Float(0.6), "element \(i)")
            if y.data[i] != 0 { XCTAssertEqual(y.data[i], x.data[i] / Float(0.6), accuracy: 1e-6) }
        }
    }

    func testDropsAtTheRateAndKeepsTheMean() throws {
        let n = 200_000
        let x = Tensor(repeating: 1, shape: [n])
        for rate: Float in [0.1, 0.3, 0.5] {
            var rng = RandomGenerator(seed: 1)
            let y = x.dropout(rate: rate, rng: &rng)
            let dropped = Double(y.data.filter { $0 == 0 }.count) / Double(n)
            // The fraction's standard deviation is at most 0.0012 here: 5 of them.
            XCTAssertEqual(dropped, Double(rate), accuracy: 0.006, "rate \(rate)")
            XCTAssertTrue(y.data.allSatisfy { $0 == 0 || $0 == 1 / (1 - rate) }, "kept values are scaled by 1/(1 - rate)")
            let mean = y.data.reduce(0.0) { $0 + Double($1) } / Double(n)
            XCTAssertEqual(mean, 1, accuracy: 0.012, "rate \(rate): the mean is kept")
        }
    }

    func testActsOnlyInsideWithDropout() throws {
        let x = uniformTensor([3, 50], seed: 22)
        XCTAssertTrue(x.dropout() === x, "no dropout outside withDropout")
        XCTAssertEqual(DropoutMode.currentRate, 0)
        let a = withDropout(rate: 0.5, seed: 3) { () -> [Float] in
            XCTAssertEqual(DropoutMode.currentRate, 0.5)
            let first = x.dropout().data
            XCTAssertNotEqual(x.dropout().data, first, "each call draws a new mask")
            return first
        }
        XCTAssertEqual(DropoutMode.currentRate, 0, "the rate is restored")
        XCTAssertTrue(x.dropout() === x)
        XCTAssertNotEqual(a, x.data)
        XCTAssertEqual(withDropout(rate: 0.5, seed: 3) { x.dropout().data }, a, "the same seed, the same mask")
        XCTAssertNotEqual(withDropout(rate: 0.5, seed: 4) { x.dropout().data }, a, "another seed, another mask")
        XCTAssertTrue(withDropout(rate: 0, seed: 3) { x.dropout() } === x, "rate 0 is the identity")
        XCTAssertTrue(withoutGrad { withDropout(rate: 0.5, seed: 3) { !x.dropout().requiresGrad } })
    }

    func testASplitBatchDrawsTheWholeBatchsMask() throws {
        let x = uniformTensor([6, 10], 0.5, 2, seed: 23)
        let whole = x.dropout(rate: 0.5, key: 99, firstElement: 0).data
        let tail = Tensor(shape: [4, 10], data: Array(x.data[20...]))
        XCTAssertEqual(tail.dropout(rate: 0.5, key: 99, firstElement: 20).data, Array(whole[20...]))
        XCTAssertNotEqual(tail.dropout(rate: 0.5, key: 99, firstElement: 0).data, Array(whole[20...]),
                          "the offset selects the mask")
        XCTAssertNotEqual(x.dropout(rate: 0.5, key: 98, firstElement: 0).data, whole, "another key, another mask")
    }

    func testTapeModeAndDropoutBelongToTheirThread() {
        nonisolated(unsafe) var other: (tape: Bool, rate: Float) = (false, -1)
        withoutGrad {
            withDropout(rate: 0.5, seed: 1) {
                let done = DispatchSemaphore(value: 0)
                Thread { other = (GradMode.isEnabled, DropoutMode.currentRate); done.signal() }.start()
                done.wait()
                XCTAssertFalse(GradMode.isEnabled)
                XCTAssertEqual(DropoutMode.currentRate, 0.5)
            }
        }
        XCTAssertTrue(other.tape, "another thread records a tape while this one is inside withoutGrad")
        XCTAssertEqual(other.rate, 0, "another thread has no dropout")
    }
}
