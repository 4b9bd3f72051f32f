import AutoregTensor
import CKernels
import Foundation
import XCTest

/// Every CKernels loop, in whichever instruction-set clone the CPU chose at load time
/// (AVX-512, AVX2+FMA or baseline x86-64: `Sources/CKernels/ar_dispatch.h`), against a scalar
/// Swift reference in Double. The lengths 1, 7, 33 and 1000 leave every kind of remainder
/// after 4-, 8- and 16-wide vectors (and 1 has no vector iteration at all), and each output
/// is followed by sentinels that a tail writing past its end would overwrite. A clone that
/// was miscompiled or compiled for the wrong features shows up here as a wrong value, a
/// changed sentinel, or SIGILL.
final class KernelDispatchTests: XCTestCase {
    private let lengths = [1, 7, 33, 1000]
    private let sentinel: Float = -12345.5
    private let guardCount = 17
    private var rng = RandomGenerator(seed: 0xC0FFEE)

    private func random(_ n: Int, _ low: Float, _ high: Float) -> [Float] {
        (0..<n).map { _ in low + (high - low) * rng.uniform() }
    }

    /// Calls `body` on n floats (`initial`, or zeros) followed by sentinels; returns the n
    /// floats after checking that the sentinels are untouched.
    private func output(_ n: Int, initial: [Float]? = nil, _ what: String,
                        _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        var buffer = (initial ?? [Float](repeating: 0, count: n))
            + [Float](repeating: sentinel, count: guardCount)
        precondition(buffer.count == n + guardCount)
        buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
        XCTAssertEqual(Array(buffer[n...]), [Float](repeating: sentinel, count: guardCount),
                       "\(what): wrote past its \(n) outputs")
        return Array(buffer[..<n])
    }

    /// |got − want| ≤ rel·|want| + abs for every element.
    private func assertClose(_ got: [Float], _ want: [Double], rel: Double, abs absTol: Double,
                             _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, what, file: file, line: line)
        for (i, (g, w)) in zip(got, want).enumerated() {
            let ok = Swift.abs(Double(g) - w) <= rel * Swift.abs(w) + absTol
            if !ok {
                XCTFail("\(what)[\(i) of \(got.count)] = \(g), want \(w)", file: file, line: line)
                return
            }
        }
    }

    private func sigmoid(_ v: Double) -> Double { 1 / (1 + Foundation.exp(-v)) }

    // MARK: elementwise.c

    func testExpSigmoidTanhSoftplus() throws {
        for n in lengths {
            let x = random(n, -80, 80)
            let e = output(n, "ar_exp") { ar_exp(x, $0, n) }
            assertClose(e, x.map { Foundation.exp(Double($0)) }, rel: 1e-6, abs: 0, "ar_exp n=\(n)")

            let s = random(n, -30, 30)
            let sg = output(n, "ar_sigmoid") { ar_sigmoid(s, $0, n) }
            assertClose(sg, s.map { sigmoid(Double($0)) }, rel: 1e-6, abs: 1e-30, "ar_sigmoid n=\(n)")
            let sp = output(n, "ar_softplus") { ar_softplus(s, $0, n) }
            assertClose(sp, s.map { v in Swift.max(Double(v), 0) + Foundation.log1p(Foundation.exp(-Swift.abs(Double(v)))) },
                        rel: 1e-6, abs: 1e-30, "ar_softplus n=\(n)")

            // Both sides of the series/quotient switch at |x| = 0.125 and saturation.
            let t = random(n, -0.3, 0.3).enumerated().map { $0.offset % 3 == 0 ? $0.element * 40 : $0.element }
            let th = output(n, "ar_tanh") { ar_tanh(t, $0, n) }
            assertClose(th, t.map { Foundation.tanh(Double($0)) }, rel: 1e-6, abs: 1e-30, "ar_tanh n=\(n)")
        }
    }

    func testGateForwardAndBackward() throws {
        for inner in lengths {
            let groups = 3, n = groups * inner
            let x = random(2 * n, -6, 6), gy = random(n, -1, 1)
            var wantY = [Double](), wantDA = [Double](repeating: 0, count: 2 * n)
            for g in 0..<groups {
                for j in 0..<inner {
                    let a = Double(x[2 * g * inner + j]), b = Double(x[2 * g * inner + inner + j])
                    let t = Foundation.tanh(a), s = sigmoid(b), dy = Double(gy[g * inner + j])
                    wantY.append(t * s)
                    wantDA[2 * g * inner + j] = dy * s * (1 - t * t)
                    wantDA[2 * g * inner + inner + j] = dy * t * s * (1 - s)
                }
            }
            let y = output(n, "ar_gate_forward") { ar_gate_forward(x, $0, groups, inner) }
            assertClose(y, wantY, rel: 2e-6, abs: 1e-7, "ar_gate_forward inner=\(inner)")

            let dx = output(2 * n, "ar_gate_backward") { ar_gate_backward(x, gy, $0, groups, inner, 0) }
            // 1 − tanh² cancels near saturation: float t leaves an absolute error of a few 1e-7.
            assertClose(dx, wantDA, rel: 2e-6, abs: 1e-6, "ar_gate_backward inner=\(inner)")
            let before = random(2 * n, -1, 1)
            let dx2 = output(2 * n, initial: before, "ar_gate_backward accumulate") {
                ar_gate_backward(x, gy, $0, groups, inner, 1)
            }
            assertClose(dx2, zip(before, wantDA).map { Double($0) + $1 }, rel: 2e-6, abs: 1e-6,
                        "ar_gate_backward accumulate inner=\(inner)")
        }
    }

    func testGLUAndConcatELUForwardAndBackward() throws {
        for inner in lengths {
            let groups = 3, n = groups * inner
            let x = random(2 * n, -8, 8), gy = random(n, -1, 1)
            var wantY = [Double](), wantDX = [Double](repeating: 0, count: 2 * n)
            for g in 0..<groups {
                for j in 0..<inner {
                    let a = Double(x[2 * g * inner + j]), b = Double(x[2 * g * inner + inner + j])
                    let s = sigmoid(b), dy = Double(gy[g * inner + j])
                    wantY.append(a * s)
                    wantDX[2 * g * inner + j] = dy * s
                    wantDX[2 * g * inner + inner + j] = dy * a * s * (1 - s)
                }
            }
            let y = output(n, "ar_glu_forward") { ar_glu_forward(x, $0, groups, inner) }
            assertClose(y, wantY, rel: 2e-6, abs: 1e-7, "ar_glu_forward inner=\(inner)")
            let dx = output(2 * n, "ar_glu_backward") { ar_glu_backward(x, gy, $0, groups, inner, 0) }
            assertClose(dx, wantDX, rel: 2e-6, abs: 1e-7, "ar_glu_backward inner=\(inner)")
            let before = random(2 * n, -1, 1)
            let dx2 = output(2 * n, initial: before, "ar_glu_backward accumulate") { ar_glu_backward(x, gy, $0, groups, inner, 1) }
            assertClose(dx2, zip(before, wantDX).map { Double($0) + $1 }, rel: 2e-6, abs: 1e-6, "ar_glu_backward accumulate")

            // concat_elu: n inputs, 2n outputs; the backward reads 2n gradients.
            let v = random(n, -6, 6), g2 = random(2 * n, -1, 1)
            func elu(_ t: Double) -> Double { t > 0 ? t : Foundation.expm1(t) }
            func dElu(_ t: Double) -> Double { t > 0 ? 1 : Foundation.exp(t) }
            var wantCE = [Double](), wantCD = [Double]()
            for g in 0..<groups {
                let part = v[(g * inner)..<((g + 1) * inner)].map(Double.init)
                wantCE += part.map(elu) + part.map { elu(-$0) }
                for (j, t) in part.enumerated() {
                    wantCD.append(Double(g2[2 * g * inner + j]) * dElu(t) - Double(g2[2 * g * inner + inner + j]) * dElu(-t))
                }
            }
            let ce = output(2 * n, "ar_concat_elu_forward") { ar_concat_elu_forward(v, $0, groups, inner) }
            assertClose(ce, wantCE, rel: 2e-6, abs: 1e-7, "ar_concat_elu_forward inner=\(inner)")
            let cd = output(n, "ar_concat_elu_backward") { ar_concat_elu_backward(v, g2, $0, groups, inner, 0) }
            assertClose(cd, wantCD, rel: 2e-6, abs: 1e-7, "ar_concat_elu_backward inner=\(inner)")
            let start = random(n, -1, 1)
            let cd2 = output(n, initial: start, "ar_concat_elu_backward accumulate") {
                ar_concat_elu_backward(v, g2, $0, groups, inner, 1)
            }
            assertClose(cd2, zip(start, wantCD).map { Double($0) + $1 }, rel: 2e-6, abs: 1e-6, "ar_concat_elu_backward accumulate")
        }
    }

    func testBernoulliAndCategoricalNLL() throws {
        for n in lengths {
            let l = random(n, -30, 30)
            let t = (0..<n).map { i -> Float in i % 5 == 4 ? 0.3 : Float(i % 2) }
            let nll = output(n, "ar_bernoulli_nll") { ar_bernoulli_nll(l, t, $0, n) }
            let want = zip(l, t).map { (l, t) -> Double in
                let l = Double(l), t = Double(t)
                return Swift.max(l, 0) - t * l + Foundation.log1p(Foundation.exp(-Swift.abs(l)))
            }
            assertClose(nll, want, rel: 2e-6, abs: 1e-6, "ar_bernoulli_nll n=\(n)")
        }
        for classes in lengths {
            let rows = 3
            let logits = random(rows * classes, -20, 20)
            let targets = (0..<rows).map { Int32(($0 * 7 + 3) % classes) }
            var wantNLL = [Double](), wantP = [Double]()
            for r in 0..<rows {
                let row = logits[(r * classes)..<((r + 1) * classes)].map(Double.init)
                let m = row.max()!, z = row.reduce(0) { $0 + Foundation.exp($1 - m) }
                wantNLL.append(m + Foundation.log(z) - row[Int(targets[r])])
                wantP += row.map { Foundation.exp($0 - m) / z }
            }
            let only = output(rows, "ar_categorical_nll") {
                ar_categorical_nll(logits, targets, $0, nil, rows, classes)
            }
            assertClose(only, wantNLL, rel: 2e-6, abs: 2e-6, "ar_categorical_nll classes=\(classes)")
            var withProbs = [Float]()
            let probs = output(rows * classes, "ar_categorical_nll probs") { p in
                withProbs = output(rows, "ar_categorical_nll") {
                    ar_categorical_nll(logits, targets, $0, p, rows, classes)
                }
            }
            assertClose(withProbs, wantNLL, rel: 2e-6, abs: 2e-6, "ar_categorical_nll+probs classes=\(classes)")
            assertClose(probs, wantP, rel: 2e-6, abs: 1e-9, "softmax classes=\(classes)")
        }
    }

    func testCategoricalNLLOverPlanes() throws {
        // Positions n of every length, classes in planes, targets and outputs at stride 2 (the
        // second image channel of two), ties at position 0 (all classes equal) and 1 (two classes).
        for n in lengths {
            for classes in [1, 7, 33] {
                var logits = random(classes * n, -20, 20)
                for k in 0..<classes { logits[k * n] = 2.5 }
                // and at position 1 a top shared by two classes past the first
                if n > 1, classes > 5 { (logits[2 * n + 1], logits[5 * n + 1]) = (30, 30) }
                let targets = (0..<(2 * n)).map { Int32(($0 * 5 + 1) % classes) }
                var wantNLL = [Double](repeating: 0, count: 2 * n), wantP = [Double](repeating: 0, count: classes * n)
                for p in 0..<n {
                    let column = (0..<classes).map { Double(logits[$0 * n + p]) }
                    let m = column.max()!, z = column.reduce(0) { $0 + Foundation.exp($1 - m) }
                    wantNLL[2 * p] = m + Foundation.log(z) - column[Int(targets[2 * p])]
                    for k in 0..<classes { wantP[k * n + p] = Foundation.exp(column[k] - m) / z }
                }
                var top = [Float](repeating: 0, count: n), rest = [Float](repeating: 0, count: n)
                var first = [Int32](repeating: 0, count: n)
                var got = [Float]()
                let probs = output(classes * n, "ar_categorical_nll_planes probs") { pp in
                    got = output(2 * n, initial: [Float](repeating: 7, count: 2 * n), "ar_categorical_nll_planes") {
                        ar_categorical_nll_planes(logits, targets, 2, $0, 2, pp, classes, n, &top, &rest, &first)
                    }
                }
                assertClose(stride(from: 0, to: 2 * n, by: 2).map { got[$0] }, stride(from: 0, to: 2 * n, by: 2).map { wantNLL[$0] },
                            rel: 2e-6, abs: 2e-6, "ar_categorical_nll_planes n=\(n) classes=\(classes)")
                XCTAssertEqual(stride(from: 1, to: 2 * n, by: 2).map { got[$0] }, [Float](repeating: 7, count: n),
                               "the other channel's outputs are left alone")
                assertClose(probs, wantP, rel: 2e-6, abs: 1e-9, "planar softmax n=\(n) classes=\(classes)")
                let plain = output(2 * n, "ar_categorical_nll_planes (no probs)") {
                    ar_categorical_nll_planes(logits, targets, 2, $0, 2, nil, classes, n, &top, &rest, &first)
                }
                XCTAssertEqual(stride(from: 0, to: 2 * n, by: 2).map { plain[$0] }, stride(from: 0, to: 2 * n, by: 2).map { got[$0] })

                let g = random(2 * n, -1, 1), start = random(classes * n, -1, 1)
                for initialized in [0, 1] {
                    let grad = output(classes * n, initial: start, "ar_categorical_nll_planes_backward") {
                        ar_categorical_nll_planes_backward(probs, targets, 2, g, 2, $0, Int32(initialized), classes, n)
                    }
                    var want = [Double](repeating: 0, count: classes * n)
                    for k in 0..<classes {
                        for p in 0..<n {
                            let onehot: Double = Int(targets[2 * p]) == k ? 1 : 0
                            want[k * n + p] = (initialized == 1 ? Double(start[k * n + p]) : 0)
                                + Double(g[2 * p]) * (Double(probs[k * n + p]) - onehot)
                        }
                    }
                    assertClose(grad, want, rel: 1e-6, abs: 1e-6, "backward n=\(n) classes=\(classes) initialized=\(initialized)")
                }
            }
        }
    }

    func testAdamAndSum() throws {
        for n in lengths {
            let w0 = random(n, -1, 1), g = random(n, -1, 1), m0 = random(n, -0.1, 0.1)
            let v0 = random(n, 0, 0.01)
            let (step, b1, b2, eps, wd) = (Float(1e-3), Float(0.9), Float(0.999), Float(1e-8), Float(0.01))
            let c2 = 1 - Foundation.pow(b2, 3)
            var m = m0 + [Float](repeating: sentinel, count: guardCount)
            var v = v0 + [Float](repeating: sentinel, count: guardCount)
            let w = output(n, initial: w0, "ar_adam") { wp in
                m.withUnsafeMutableBufferPointer { mp in
                    v.withUnsafeMutableBufferPointer { vp in
                        ar_adam(wp, g, mp.baseAddress!, vp.baseAddress!, n, step, b1, b2, eps, wd, c2)
                    }
                }
            }
            XCTAssertEqual(Array(m[n...]) + Array(v[n...]), [Float](repeating: sentinel, count: 2 * guardCount),
                           "ar_adam wrote past m or v")
            var wantW = [Double](), wantM = [Double](), wantV = [Double]()
            for j in 0..<n {
                let gj = Double(g[j]) + Double(wd) * Double(w0[j])
                let mj = Double(b1) * Double(m0[j]) + (1 - Double(b1)) * gj
                let vj = Double(b2) * Double(v0[j]) + (1 - Double(b2)) * gj * gj
                wantM.append(mj)
                wantV.append(vj)
                wantW.append(Double(w0[j]) - Double(step) * mj / ((vj / Double(c2)).squareRoot() + Double(eps)))
            }
            // b1·m + (1 − b1)·g cancels: absolute tolerances at the inputs' float precision.
            assertClose(Array(m[..<n]), wantM, rel: 1e-6, abs: 1e-7, "ar_adam m n=\(n)")
            assertClose(Array(v[..<n]), wantV, rel: 1e-6, abs: 1e-9, "ar_adam v n=\(n)")
            assertClose(w, wantW, rel: 1e-6, abs: 1e-7, "ar_adam w n=\(n)")

            let x = random(n, -1, 1)
            let total = x.reduce(0.0) { $0 + Double($1) }, size = x.reduce(0.0) { $0 + Double(Swift.abs($1)) }
            XCTAssertEqual(Double(ar_sum(x, n)), total, accuracy: 1e-6 * size, "ar_sum n=\(n)")
        }
    }

    // MARK: pointwise.c

    func testPointwiseLoopsAreExact() throws {
        for n in lengths {
            let a = random(n, -2, 2), b = random(n, -2, 2), g = random(n, -1, 1), before = random(n, -1, 1)
            XCTAssertEqual(output(n, "ar_relu") { ar_relu(a, $0, n) }, a.map { $0 > 0 ? $0 : 0 }, "ar_relu n=\(n)")
            XCTAssertEqual(output(n, initial: a, "ar_relu_inplace") { ar_relu_inplace($0, n) },
                           a.map { $0 > 0 ? $0 : 0 }, "ar_relu_inplace n=\(n)")
            XCTAssertEqual(output(n, "ar_relu_backward") { ar_relu_backward(a, g, $0, n, 0) },
                           zip(a, g).map { $0 > 0 ? $1 : 0 }, "ar_relu_backward n=\(n)")
            XCTAssertEqual(output(n, initial: before, "ar_relu_backward accumulate") { ar_relu_backward(a, g, $0, n, 1) },
                           (0..<n).map { before[$0] + (a[$0] > 0 ? g[$0] : 0) }, "ar_relu_backward accumulate n=\(n)")
            XCTAssertEqual(output(n, "ar_add") { ar_add(a, b, $0, n) }, zip(a, b).map { $0 + $1 }, "ar_add n=\(n)")
            XCTAssertEqual(output(n, "ar_sub") { ar_sub(a, b, $0, n) }, zip(a, b).map { $0 - $1 }, "ar_sub n=\(n)")
            XCTAssertEqual(output(n, "ar_mul") { ar_mul(a, b, $0, n) }, zip(a, b).map { $0 * $1 }, "ar_mul n=\(n)")
            XCTAssertEqual(output(n, initial: before, "ar_accumulate") { ar_accumulate(g, $0, n) },
                           zip(before, g).map { $0 + $1 }, "ar_accumulate n=\(n)")
            // Contracted to an FMA where the clone has one: one rounding instead of two.
            assertClose(output(n, initial: before, "ar_accumulate_product") { ar_accumulate_product(g, b, $0, n) },
                        (0..<n).map { Double(before[$0]) + Double(g[$0]) * Double(b[$0]) }, rel: 1e-6, abs: 1e-6,
                        "ar_accumulate_product n=\(n)")

            let alpha: Float = 0.7
            let y = a.map { $0 > 0 ? $0 : alpha * (Foundation.exp($0) - 1) }
            for accumulate in [Int32(0), 1] {
                let start = accumulate == 1 ? before : [Float](repeating: 0, count: n)
                let got = output(n, initial: start, "ar_elu_backward") {
                    ar_elu_backward(a, y, g, $0, alpha, n, accumulate)
                }
                let want = (0..<n).map { Double(start[$0]) + Double(g[$0]) * (a[$0] > 0 ? 1 : Double(y[$0]) + Double(alpha)) }
                assertClose(got, want, rel: 1e-6, abs: 1e-6, "ar_elu_backward accumulate=\(accumulate) n=\(n)")
            }
        }
    }

    func testTransposeWithTails() throws {
        for (rows, cols) in [(1, 1), (1, 7), (7, 1), (7, 33), (33, 17), (40, 25)] {
            let x = random(rows * cols, -1, 1), before = random(rows * cols, -1, 1)
            var want = [Float](repeating: 0, count: rows * cols), wantAdded = before
            for r in 0..<rows {
                for c in 0..<cols {
                    want[c * rows + r] = x[r * cols + c]
                    wantAdded[c * rows + r] += x[r * cols + c]
                }
            }
            XCTAssertEqual(output(rows * cols, "ar_transpose") { ar_transpose(x, $0, rows, cols, 0) }, want,
                           "ar_transpose \(rows)x\(cols)")
            XCTAssertEqual(output(rows * cols, initial: before, "ar_transpose accumulate") {
                ar_transpose(x, $0, rows, cols, 1)
            }, wantAdded, "ar_transpose accumulate \(rows)x\(cols)")
        }
    }

    // MARK: nade.c

    func testNADEForwardAndBackward() throws {
        for (B, D, H) in [(1, 1, 1), (3, 7, 33), (2, 33, 7), (2, 5, 1000)] {
            let x = (0..<(B * D)).map { i -> Float in i % 4 == 1 ? 0.5 : Float((i * 5 + 1) % 3 == 0 ? 1 : 0) }
            let W = random(D * H, -0.5, 0.5), V = random(D * H, -0.5, 0.5)
            let b = random(D, -1, 1), c = random(H, -1, 1)
            let g = (0..<(B * D)).map { i -> Float in i % 6 == 2 ? 0 : rng.uniform() - 0.5 }

            // Reference: a_0 = c, a_{i+1} = a_i + x_i W_i, logit_i = b_i + V_i · σ(a_i), and its
            // vector-Jacobian product with δ_i = g_i V_i ⊙ h_i(1 − h_i): dW_i = x_i Σ_{k>i} δ_k,
            // dx_i = W_i · Σ_{k>i} δ_k, dV_i = g_i h_i, db_i = Σ_n g_i, dc = Σ_k δ_k.
            var logits = [Double](repeating: 0, count: B * D)
            var dW = [Double](repeating: 0, count: D * H), dV = dW, db = [Double](repeating: 0, count: D)
            var dc = [Double](repeating: 0, count: H), dx = logits
            for n in 0..<B {
                var a = c.map(Double.init), hs = [[Double]]()
                for i in 0..<D {
                    let h = a.map(sigmoid)
                    hs.append(h)
                    logits[n * D + i] = Double(b[i]) + (0..<H).reduce(0.0) { $0 + Double(V[i * H + $1]) * h[$1] }
                    for k in 0..<H { a[k] += Double(x[n * D + i]) * Double(W[i * H + k]) }
                }
                var later = [Double](repeating: 0, count: H)  // Σ_{k>i} δ_k
                for i in stride(from: D - 1, through: 0, by: -1) {
                    let gi = Double(g[n * D + i]), h = hs[i]
                    for k in 0..<H {
                        dW[i * H + k] += Double(x[n * D + i]) * later[k]
                        dx[n * D + i] += Double(W[i * H + k]) * later[k]
                        dV[i * H + k] += gi * h[k]
                    }
                    db[i] += gi
                    for k in 0..<H { later[k] += gi * Double(V[i * H + k]) * h[k] * (1 - h[k]) }
                }
                for k in 0..<H { dc[k] += later[k] }
            }

            let what = "B=\(B) D=\(D) H=\(H)"
            var scratch = [Float](repeating: 0, count: (2 * B + 1) * H)
            let got = output(B * D, "ar_nade_forward") { out in
                ar_nade_forward(x, W, V, b, c, out, &scratch, B, D, H)
            }
            assertClose(got, logits, rel: 1e-5, abs: 1e-5, "ar_nade_forward \(what)")

            // The gradients are added to what is there.
            let dW0 = random(D * H, -1, 1), dV0 = random(D * H, -1, 1), db0 = random(D, -1, 1)
            let dc0 = random(H, -1, 1), dx0 = random(B * D, -1, 1)
            var gW = dW0, gV = dV0, gb = db0, gc = dc0
            let gx = output(B * D, initial: dx0, "ar_nade_backward dx") { dxp in
                gW = output(D * H, initial: dW0, "dW") { dWp in
                    gV = output(D * H, initial: dV0, "dV") { dVp in
                        gb = output(D, initial: db0, "db") { dbp in
                            gc = output(H, initial: dc0, "dc") { dcp in
                                ar_nade_backward(x, W, V, c, g, dxp, dWp, dVp, dbp, dcp, &scratch, B, D, H)
                            }
                        }
                    }
                }
            }
            func added(_ start: [Float], _ delta: [Double]) -> [Double] { zip(start, delta).map { Double($0) + $1 } }
            assertClose(gx, added(dx0, dx), rel: 1e-5, abs: 1e-5, "ar_nade_backward dx \(what)")
            assertClose(gW, added(dW0, dW), rel: 1e-5, abs: 1e-5, "ar_nade_backward dW \(what)")
            assertClose(gV, added(dV0, dV), rel: 1e-5, abs: 1e-5, "ar_nade_backward dV \(what)")
            assertClose(gb, added(db0, db), rel: 1e-5, abs: 1e-5, "ar_nade_backward db \(what)")
            assertClose(gc, added(dc0, dc), rel: 1e-5, abs: 1e-5, "ar_nade_backward dc \(what)")
        }
    }
}
