import AutoregTensor
import AutoregTestSupport
import XCTest

/// The checker must catch wrong gradients, or every other gradient test proves nothing.
final class GradientCheckerTests: XCTestCase {
    /// y = x² with a pullback computing `factor · g · x` (the right factor is 2).
    private func square(_ x: Tensor, factor: Float) -> Tensor {
        Tensor(shape: x.shape, data: x.data.map { $0 * $0 }, inputs: [x]) { out in
            let g = out.grad!
            x.accumulateGrad { gx in for i in 0..<x.count { gx[i] += factor * g[i] * x.data[i] } }
        }
    }

    func testCorrectCustomOpPasses() throws {
        let x = awayFromZero([3, 4], seed: 1)
        let report = checkGradients(wrt: [x]) { self.square(x, factor: 2) }
        XCTAssertTrue(report.passed, report.failures.joined(separator: "\n"))
        XCTAssertEqual(report.checked, 12)
        XCTAssertLessThan(report.relativeNormError, 1e-3)
    }

    func testMissingFactorTwoIsDetected() throws {
        let x = awayFromZero([3, 4], seed: 1)
        let report = checkGradients(wrt: [x]) { self.square(x, factor: 1) }
        XCTAssertFalse(report.passed)
        XCTAssertGreaterThan(report.relativeNormError, 0.4)
    }

    func testWrongSignIsDetected() throws {
        let x = awayFromZero([3, 4], seed: 2)
        let report = checkGradients(wrt: [x]) { self.square(x, factor: -2) }
        XCTAssertFalse(report.passed)
        XCTAssertGreaterThan(report.failures.count, 6)
    }

    func testSmallRelativeErrorIsDetected() throws {
        // A 10% error on a gradient of size ~1 must already fail.
        let x = awayFromZero([2, 3], 0.5, 1, seed: 3)
        XCTAssertFalse(checkGradients(wrt: [x]) { self.square(x, factor: 2.2) }.passed)
    }

    func testMissingGradientIsDetected() throws {
        let x = awayFromZero([4], seed: 4)
        let report = checkGradients(wrt: [x]) { self.square(x, factor: 0) }
        XCTAssertFalse(report.passed)
    }

    func testDetachedOutputIsReported() throws {
        let x = awayFromZero([4], seed: 5)
        let report = checkGradients(wrt: [x]) { x.sigmoid().detached() }
        XCTAssertFalse(report.passed)
    }

    func testInputsAreRestored() throws {
        let x = awayFromZero([5], seed: 6)
        let before = x.data
        _ = checkGradients(wrt: [x]) { x.exp() }
        XCTAssertEqual(x.data, before)
        XCTAssertNil(x.grad)
    }
}
