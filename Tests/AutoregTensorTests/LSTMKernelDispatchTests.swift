import AutoregTensor
import CKernels
import Foundation
import XCTest

/// `ar_lstm_forward` and `ar_lstm_backward` (CKernels/lstm.c), in whichever clone the CPU
/// chose, against the equations in Double — the same checks as `KernelDispatchTests`: lengths
/// that leave every vector remainder, 1000 crossing the kernel's 512-element tiles, and
/// sentinels after every output. Every NULL argument the header allows is exercised.
final class LSTMKernelDispatchTests: XCTestCase {
    private let lengths = [1, 7, 33, 1000]
    private let groups = 3
    private let sentinel: Float = -12345.5
    private let guardCount = 17
    private var rng = RandomGenerator(seed: 0x157A)

    private func random(_ n: Int, _ low: Float, _ high: Float) -> [Float] {
        (0..<n).map { _ in low + (high - low) * rng.uniform() }
    }

    /// `body` gets n floats (`initial`, or zeros) followed by sentinels; returns the n floats
    /// after checking the sentinels.
    private func output(_ n: Int, initial: [Float]? = nil, _ what: String,
                        _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        var buffer = (initial ?? [Float](repeating: 0, count: n)) + [Float](repeating: sentinel, count: guardCount)
        buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
        XCTAssertEqual(Array(buffer[n...]), [Float](repeating: sentinel, count: guardCount),
                       "\(what): wrote past its \(n) outputs")
        return Array(buffer[..<n])
    }

    private func assertClose(_ got: [Float], _ want: [Double], rel: Double = 2e-6, abs absTol: Double = 2e-6,
                             _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, what, file: file, line: line)
        for (i, (g, w)) in zip(got, want).enumerated() where !(Swift.abs(Double(g) - w) <= rel * Swift.abs(w) + absTol) {
            XCTFail("\(what)[\(i) of \(got.count)] = \(g), want \(w)", file: file, line: line)
            return
        }
    }

    private func sigmoid(_ v: Float) -> Double { 1 / (1 + Foundation.exp(-Double(v))) }

    func testForwardAndBackwardAgainstTheEquations() throws {
        for inner in lengths {
            let n = groups * inner, what = "inner=\(inner)"
            let gates = random(4 * n, -6, 6), cPrev = random(n, -3, 3)
            let dh = random(n, -1, 1), dc = random(n, -1, 1)
            for hasPrevious in [true, false] {
                // Reference, from the gates and the previous cell state.
                var wantH = [Double](), wantC = [Double]()
                var wantDG = [Double](repeating: 0, count: 4 * n), wantDP = [Double]()
                var wantDGNoDC = wantDG  // with dc absent (NULL)
                var wantDGNoDH = wantDG  // with dh absent
                for b in 0..<groups {
                    for j in 0..<inner {
                        let at = b * inner + j
                        func pre(_ block: Int) -> Float { gates[(4 * b + block) * inner + j] }
                        let (so, sf, si) = (sigmoid(pre(0)), sigmoid(pre(1)), sigmoid(pre(2)))
                        let tg = Foundation.tanh(Double(pre(3)))
                        let cp = hasPrevious ? Double(cPrev[at]) : 0
                        let c = sf * cp + si * tg, tc = Foundation.tanh(c)
                        wantC.append(c)
                        wantH.append(so * tc)
                        func gradients(_ dhj: Double, _ dcj: Double) -> [Double] {
                            let dct = dcj + dhj * so * (1 - tc * tc)
                            return [dhj * tc * so * (1 - so), dct * cp * sf * (1 - sf), dct * tg * si * (1 - si),
                                    dct * si * (1 - tg * tg), dct * sf]
                        }
                        let full = gradients(Double(dh[at]), Double(dc[at]))
                        let noDC = gradients(Double(dh[at]), 0), noDH = gradients(0, Double(dc[at]))
                        for k in 0..<4 {
                            wantDG[(4 * b + k) * inner + j] = full[k]
                            wantDGNoDC[(4 * b + k) * inner + j] = noDC[k]
                            wantDGNoDH[(4 * b + k) * inner + j] = noDH[k]
                        }
                        wantDP.append(full[4])
                    }
                }
                let label = "\(what) previous=\(hasPrevious)"
                let prev: [Float]? = hasPrevious ? cPrev : nil
                var c = [Float]()
                let h = output(n, "ar_lstm_forward h") { ph in
                    c = output(n, "ar_lstm_forward c") { pc in
                        withPointer(prev) { ar_lstm_forward(gates, $0, ph, pc, groups, inner) }
                    }
                }
                assertClose(h, wantH, "h \(label)")
                assertClose(c, wantC, rel: 4e-6, abs: 4e-6, "c \(label)")

                // Both gradients written, then added to what is there.
                var dPrev = [Float]()
                let dGates = output(4 * n, "ar_lstm_backward dgates") { pg in
                    dPrev = output(n, "ar_lstm_backward dc_prev") { pp in
                        withPointer(prev) { ar_lstm_backward(gates, $0, c, dh, dc, pg, pp, groups, inner, 0, 0) }
                    }
                }
                assertClose(dGates, wantDG, "dgates \(label)")
                assertClose(dPrev, wantDP, "dc_prev \(label)")
                let before = random(4 * n, -1, 1), beforePrev = random(n, -1, 1)
                var addedPrev = [Float]()
                let added = output(4 * n, initial: before, "ar_lstm_backward dgates accumulate") { pg in
                    addedPrev = output(n, initial: beforePrev, "ar_lstm_backward dc_prev accumulate") { pp in
                        withPointer(prev) { ar_lstm_backward(gates, $0, c, dh, dc, pg, pp, groups, inner, 1, 1) }
                    }
                }
                assertClose(added, zip(before, wantDG).map { Double($0) + $1 }, "dgates accumulate \(label)")
                assertClose(addedPrev, zip(beforePrev, wantDP).map { Double($0) + $1 }, "dc_prev accumulate \(label)")

                // dc or dh absent (NULL), dc_prev not wanted (NULL).
                let onlyDH = output(4 * n, "ar_lstm_backward dc NULL") { pg in
                    withPointer(prev) { ar_lstm_backward(gates, $0, c, dh, nil, pg, nil, groups, inner, 0, 0) }
                }
                assertClose(onlyDH, wantDGNoDC, "dgates with dc NULL \(label)")
                let onlyDC = output(4 * n, "ar_lstm_backward dh NULL") { pg in
                    withPointer(prev) { ar_lstm_backward(gates, $0, c, nil, dc, pg, nil, groups, inner, 0, 0) }
                }
                assertClose(onlyDC, wantDGNoDH, "dgates with dh NULL \(label)")
                // dgates not wanted: dc_prev alone.
                let prevOnly = output(n, "ar_lstm_backward dgates NULL") { pp in
                    withPointer(prev) { ar_lstm_backward(gates, $0, c, dh, dc, nil, pp, groups, inner, 0, 0) }
                }
                assertClose(prevOnly, wantDP, "dc_prev with dgates NULL \(label)")
            }
        }
    }

    private func withPointer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let array else { return body(nil) }
        return array.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
