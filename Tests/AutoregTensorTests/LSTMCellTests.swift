import AutoregTensor
import AutoregTestSupport
import Foundation
import XCTest

/// `Tensor.lstmCell`: the PixelRNN cell c = σ(f)⊙c_prev + σ(i)⊙tanh(g), h = σ(o)⊙tanh(c)
/// with gates [B, 4n, …] in blocks o, f, i, g along axis 1.
final class LSTMCellTests: XCTestCase {
    override func tearDown() { _ = Gemm.setThreads(1) }

    /// The cell written out in Double, one element at a time, from the paper's equations.
    private func reference(gates: Tensor, previous: Tensor?) -> (h: [Double], c: [Double]) {
        let b = gates.shape[0], n = gates.shape[1] / 4
        let positions = gates.count / (b * 4 * n)
        func sigmoid(_ v: Float) -> Double { 1 / (1 + Foundation.exp(-Double(v))) }
        var h = [Double](), c = [Double]()
        for image in 0..<b {
            for channel in 0..<n {
                for p in 0..<positions {
                    func gate(_ block: Int) -> Float { gates.data[((image * 4 + block) * n + channel) * positions + p] }
                    let (o, f, i, g) = (sigmoid(gate(0)), sigmoid(gate(1)), sigmoid(gate(2)), Foundation.tanh(Double(gate(3))))
                    let cPrev = previous.map { Double($0.data[(image * n + channel) * positions + p]) } ?? 0
                    let cell = f * cPrev + i * g
                    c.append(cell)
                    h.append(o * Foundation.tanh(cell))
                }
            }
        }
        return (h, c)
    }

    /// The same cell from unfused engine ops: slices, σ, tanh, products and a sum.
    private func composed(gates: Tensor, previous: Tensor?) -> (h: Tensor, c: Tensor) {
        let n = gates.shape[1] / 4
        let block = { (k: Int) in gates.slice(axis: 1, start: k * n, length: n) }
        let (o, f, i, g) = (block(0).sigmoid(), block(1).sigmoid(), block(2).sigmoid(), block(3).tanh())
        let c = previous.map { f * $0 + i * g } ?? i * g
        return (o * c.tanh(), c)
    }

    func testForwardMatchesThePapersEquations() throws {
        for (shape, withPrevious) in [([2, 12, 5], true), ([3, 8, 2, 3], true), ([1, 4, 1], false), ([2, 4, 700], true)] {
            let gates = uniformTensor(shape, -4, 4, seed: 1)
            var stateShape = shape
            stateShape[1] /= 4
            let previous = withPrevious ? uniformTensor(stateShape, -2, 2, seed: 2) : nil
            let (h, c) = Tensor.lstmCell(gates: gates, previousCell: previous)
            XCTAssertEqual(h.shape, stateShape)
            XCTAssertEqual(c.shape, stateShape)
            let want = reference(gates: gates, previous: previous)
            for k in 0..<h.count {
                XCTAssertEqual(Double(h.data[k]), want.h[k], accuracy: 2e-6, "h[\(k)] for \(shape)")
                XCTAssertEqual(Double(c.data[k]), want.c[k], accuracy: 4e-6, "c[\(k)] for \(shape)")
            }
        }
    }

    func testEqualsTheUnfusedCompositionInValuesAndGradients() throws {
        let gates = uniformTensor([2, 12, 4], -3, 3, seed: 3), previous = uniformTensor([2, 3, 4], -2, 2, seed: 4)
        let seed = (0..<48).map { Float(($0 * 7) % 11) - 5 }
        var results: [([Float], [Float], [Float])] = []
        for fused in [true, false] {
            gates.grad = nil
            previous.grad = nil
            let (h, c) = fused ? Tensor.lstmCell(gates: gates, previousCell: previous)
                               : composed(gates: gates, previous: previous)
            let both = Tensor.concat([h, c], axis: 1)
            both.backward(seed: seed)
            results.append((both.data, gates.grad!, previous.grad!))
        }
        for (a, b) in zip(results[0].0, results[1].0) { XCTAssertEqual(a, b, accuracy: 3e-6, "values") }
        for (a, b) in zip(results[0].1, results[1].1) { XCTAssertEqual(a, b, accuracy: 2e-5, "d gates") }
        for (a, b) in zip(results[0].2, results[1].2) { XCTAssertEqual(a, b, accuracy: 2e-5, "d previous cell") }
    }

    func testGradientsOfBothOutputs() throws {
        for shape in [[2, 8, 3], [1, 12, 2, 2]] {
            let gates = uniformTensor(shape, -3, 3, seed: 5)
            var stateShape = shape
            stateShape[1] /= 4
            let previous = uniformTensor(stateShape, -2, 2, seed: 6)
            assertGradients(wrt: [gates, previous], "h and c, \(shape)") {
                let (h, c) = Tensor.lstmCell(gates: gates, previousCell: previous)
                return Tensor.concat([h, c], axis: 1)
            }
            assertGradients(wrt: [gates, previous], "h only, \(shape)") {
                Tensor.lstmCell(gates: gates, previousCell: previous).h
            }
            assertGradients(wrt: [gates, previous], "c only, \(shape)") {
                Tensor.lstmCell(gates: gates, previousCell: previous).c
            }
            assertGradients(wrt: [gates], "zero initial state, \(shape)") {
                let (h, c) = Tensor.lstmCell(gates: gates, previousCell: nil)
                return Tensor.concat([h, c], axis: 1)
            }
        }
    }

    func testGradientsThroughTheCellStateOfTheNextStep() throws {
        // Two steps, as in a row-by-row recurrence: c1 reaches the loss directly, through h1,
        // and through step 2's h2 and c2; h1 also feeds step 2's gates.
        let g1 = uniformTensor([2, 8, 3], -2, 2, seed: 7), g2 = uniformTensor([2, 8, 3], -2, 2, seed: 8)
        let c0 = uniformTensor([2, 2, 3], -1, 1, seed: 9)
        let w = uniformTensor([8], -1, 1, seed: 10)
        assertGradients(wrt: [g1, g2, c0, w], "two steps") {
            let (h1, c1) = Tensor.lstmCell(gates: g1, previousCell: c0)
            let recurrent = Tensor.concat([h1, h1, h1, h1], axis: 1) * w.reshaped([1, 8, 1])
            let (h2, c2) = Tensor.lstmCell(gates: g2 + recurrent, previousCell: c1)
            return Tensor.concat([h1, c1, h2, c2], axis: 1)
        }
        assertGradients(wrt: [g1, g2], "two steps, only the last h") {
            let (_, c1) = Tensor.lstmCell(gates: g1, previousCell: nil)
            return Tensor.lstmCell(gates: g2, previousCell: c1).h
        }
    }

    func testOneInputConstantAndOtherUsesOfTheInputs() throws {
        let gates = uniformTensor([2, 8, 3], -3, 3, seed: 11), previous = uniformTensor([2, 2, 3], -2, 2, seed: 12)
        let fixedGates = Tensor(shape: gates.shape, data: gates.data)
        let fixedPrevious = Tensor(shape: previous.shape, data: previous.data)
        assertGradients(wrt: [previous], "constant gates") {
            let (h, c) = Tensor.lstmCell(gates: fixedGates, previousCell: previous)
            return Tensor.concat([h, c], axis: 1)
        }
        assertGradients(wrt: [gates], "constant previous cell") {
            let (h, c) = Tensor.lstmCell(gates: gates, previousCell: fixedPrevious)
            return Tensor.concat([h, c], axis: 1)
        }
        // Both inputs feed other ops too: the cell's backward must add to what is there (or
        // be added to).
        assertGradients(wrt: [gates, previous], "inputs used elsewhere") {
            let (h, c) = Tensor.lstmCell(gates: gates, previousCell: previous)
            return Tensor.concat([h, c, previous.exp(), gates.slice(axis: 1, start: 2, length: 4).sigmoid()], axis: 1)
        }
    }

    func testSecondBackwardStartsFromAClearState() throws {
        // The outputs hand their gradients to the shared backward, which must not keep them:
        // a second backward of the same graph adds exactly the same gradient again.
        let gates = uniformTensor([1, 8, 5], -2, 2, seed: 13), previous = uniformTensor([1, 2, 5], -1, 1, seed: 14)
        let (h, c) = Tensor.lstmCell(gates: gates, previousCell: previous)
        let loss = (h * c + h).sum()
        loss.backward()
        let once = (gates.grad!, previous.grad!)
        loss.backward()
        for (a, b) in zip(gates.grad!, once.0) { XCTAssertEqual(a, 2 * b, accuracy: 1e-6) }
        for (a, b) in zip(previous.grad!, once.1) { XCTAssertEqual(a, 2 * b, accuracy: 1e-6) }
        // Only h used in a later backward: the stale c gradient of the first is not reused.
        gates.grad = nil
        previous.grad = nil
        h.sum().backward()
        let onlyH = (gates.grad!, previous.grad!)
        gates.grad = nil
        previous.grad = nil
        Tensor.lstmCell(gates: gates, previousCell: previous).h.sum().backward()
        XCTAssertEqual(onlyH.0, gates.grad!)
        XCTAssertEqual(onlyH.1, previous.grad!)
    }

    func testNoTapeWithoutGrad() throws {
        let gates = uniformTensor([1, 4, 3], seed: 15)
        let (h, c) = withoutGrad { Tensor.lstmCell(gates: gates, previousCell: nil) }
        XCTAssertFalse(h.requiresGrad)
        XCTAssertFalse(c.requiresGrad)
        let constant = Tensor(shape: [1, 4, 3], data: gates.data)
        XCTAssertFalse(Tensor.lstmCell(gates: constant, previousCell: nil).h.requiresGrad)
    }

    func testTwoThreadsGiveTheSameValuesAndGradients() throws {
        let gates = uniformTensor([5, 12, 7], -3, 3, seed: 16), previous = uniformTensor([5, 3, 7], -2, 2, seed: 17)
        var results: [[Float]] = []
        for threads in [1, 2] {
            _ = Gemm.setThreads(threads)
            gates.grad = nil
            previous.grad = nil
            let (h, c) = Tensor.lstmCell(gates: gates, previousCell: previous)
            let both = Tensor.concat([h, c], axis: 1)
            both.backward(seed: (0..<both.count).map { Float($0 % 7) - 3 })
            results.append(both.data + gates.grad! + previous.grad!)
        }
        XCTAssertEqual(results[0], results[1])
    }
}
