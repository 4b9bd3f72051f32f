@testable import AutoregTensor
import AutoregTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// PixelRNN's two recurrences written with the engine's ops, as small as they come (a 1×1
/// input-to-state convolution, no masks, one layer): enough to check that `row`, `column`,
/// `stack`, `skewed`, `unskewed`, `flippedHorizontally`, `shifted` and `lstmCell` fit
/// together the way the paper draws them, and that a loop over H rows or H + W − 1
/// diagonals grows the tape linearly in the number of pixels.
private struct RecurrentLayer {
    let inputToState: Tensor      // [4n, C, 1, 1]
    let bias: Tensor              // [4n]
    let rowStateToState: Tensor   // [4n, n, 1, 3]: the Row LSTM's 1 × 3 on the row above
    let columnStateToState: Tensor  // [4n, n, 2, 1]: the Diagonal BiLSTM's 2 × 1 on the column to the left

    init(channels c: Int, hidden n: Int, seed: UInt64) {
        inputToState = uniformTensor([4 * n, c, 1, 1], -0.8, 0.8, seed: seed)
        bias = uniformTensor([4 * n], -0.3, 0.3, seed: seed + 1)
        rowStateToState = uniformTensor([4 * n, n, 1, 3], -0.6, 0.6, seed: seed + 2)
        columnStateToState = uniformTensor([4 * n, n, 2, 1], -0.6, 0.6, seed: seed + 3)
    }

    var hidden: Int { bias.count / 4 }

    /// Row LSTM (section 3.1): one step per row, h_i and c_i from row i of the input-to-state
    /// map plus the 1 × 3 convolution of h_{i−1}. [B, C, H, W] → [B, n, H, W].
    func rowLSTM(_ x: Tensor) -> Tensor {
        let (b, h, w, n) = (x.shape[0], x.shape[2], x.shape[3], hidden)
        let gatesFromInput = x.conv2d(weight: inputToState, bias: bias)  // [B, 4n, H, W]
        var state: (h: Tensor, c: Tensor)?
        var rows: [Tensor] = []
        for i in 0..<h {
            var gates = gatesFromInput.row(i)  // [B, 4n, W]
            if let state {
                gates = gates + state.h.reshaped([b, n, 1, w]).conv2d(weight: rowStateToState, bias: nil)
                    .reshaped([b, 4 * n, w])
            }
            state = Tensor.lstmCell(gates: gates, previousCell: state?.c)
            rows.append(state!.h)
        }
        return Tensor.stack(rows, axis: 2)
    }

    /// One direction of the Diagonal BiLSTM (section 3.2): skew, one step per column of the
    /// skewed map (a diagonal of the image) with the 2 × 1 convolution of the column to the
    /// left, unskew. [B, C, H, W] → [B, n, H, W].
    func diagonalLSTM(_ x: Tensor) -> Tensor {
        let skewed = x.skewed()  // [B, C, H, W + H − 1]
        let (b, h, wide, n) = (x.shape[0], x.shape[2], skewed.shape[3], hidden)
        let gatesFromInput = skewed.conv2d(weight: inputToState, bias: bias)
        var state: (h: Tensor, c: Tensor)?
        var columns: [Tensor] = []
        for j in 0..<wide {
            var gates = gatesFromInput.column(j)  // [B, 4n, H]
            if let state {
                gates = gates + state.h.reshaped([b, n, h, 1])
                    .conv2d(weight: columnStateToState, bias: nil,
                            padding: .explicit(top: 1, bottom: 0, left: 0, right: 0))
                    .reshaped([b, 4 * n, h])
            }
            state = Tensor.lstmCell(gates: gates, previousCell: state?.c)
            columns.append(state!.h)
        }
        return Tensor.stack(columns, axis: 3).unskewed()
    }

    /// Both directions: the right-to-left one runs on the mirrored map, is mirrored back and
    /// shifted down one row so that no pixel sees the row it is on from the right.
    func diagonalBiLSTM(_ x: Tensor, rightToLeft: RecurrentLayer) -> Tensor {
        diagonalLSTM(x) + rightToLeft.diagonalLSTM(x.flippedHorizontally()).flippedHorizontally()
            .shifted(down: 1, right: 0)
    }
}

/// The nodes and the distinct float buffers reachable from `outputs` on the tape.
private func tapeSize(_ outputs: [Tensor]) -> (nodes: Int, floats: Int) {
    var seen = Set<ObjectIdentifier>(), buffers = Set<UnsafeRawPointer>()
    var stack = outputs, floats = 0
    while let t = stack.popLast() {
        guard seen.insert(ObjectIdentifier(t)).inserted else { continue }
        // Arrays that share storage (a reshape shares its input's) are counted once.
        t.data.withUnsafeBufferPointer { p in
            if let base = p.baseAddress, buffers.insert(UnsafeRawPointer(base)).inserted { floats += p.count }
        }
        stack += t.inputs
    }
    return (seen.count, floats)
}

/// Bytes the C heap has handed out and not taken back, over every arena and mmap'd block:
/// what glibc's `mallinfo2` reports as uordblks + hblkhd, read from `malloc_info`'s totals
/// (Swift's Glibc module has neither; `malloc_info` is found with `dlsym`). Nil elsewhere.
private func heapBytesInUse() -> Int? {
    #if canImport(Glibc)
    typealias MallocInfo = @convention(c) (Int32, UnsafeMutablePointer<FILE>?) -> Int32
    guard let library = dlopen(nil, RTLD_NOW), let symbol = dlsym(library, "malloc_info") else { return nil }
    let mallocInfo = unsafeBitCast(symbol, to: MallocInfo.self)
    var buffer: UnsafeMutablePointer<CChar>?
    var size = 0
    guard let stream = open_memstream(&buffer, &size) else { return nil }
    let status = mallocInfo(0, stream)
    fclose(stream)
    guard let buffer else { return nil }
    defer { free(buffer) }
    guard status == 0 else { return nil }
    let xml = String(cString: buffer)
    // The totals over all arenas follow the last </heap>: free bytes in fast bins and in the
    // other bins (the top chunk included), mmap'd bytes, and the arenas' size.
    guard let end = xml.range(of: "</heap>", options: .backwards) else { return nil }
    let totals = xml[end.upperBound...]
    func value(_ tag: String) -> Int? {
        guard let at = totals.range(of: tag), let size = totals[at.upperBound...].range(of: "size=\"") else { return nil }
        return Int(totals[size.upperBound...].prefix { $0.isNumber })
    }
    guard let fast = value("<total type=\"fast\""), let rest = value("<total type=\"rest\""),
          let mmapped = value("<total type=\"mmap\""), let arenas = value("<system type=\"current\"") else { return nil }
    return arenas - fast - rest + mmapped
    #else
    return nil
    #endif
}

/// Builds a graph at each side length and reports what it holds while it is alive.
private func measureGraphs(sides: [Int], _ build: (Int) -> Tensor) -> [(side: Int, nodes: Int, floats: Int, heap: Int?)] {
    sides.map { side in
        let before = heapBytesInUse()
        let out = build(side)
        let after = heapBytesInUse()
        let (nodes, floats) = tapeSize([out])
        let heap = before.flatMap { b in after.map { $0 - b } }
        withExtendedLifetime(out) {}
        return (side, nodes, floats, heap)
    }
}

final class RecurrenceTapeTests: XCTestCase {
    private let layer = RecurrentLayer(channels: 3, hidden: 4, seed: 100)
    private let rightToLeft = RecurrentLayer(channels: 3, hidden: 4, seed: 200)

    private func image(_ side: Int, seed: UInt64 = 1) -> Tensor {
        uniformTensor([2, 3, side, side], seed: seed)
    }

    /// Nodes per step must be the same at every size (the tape grows by a constant per row or
    /// diagonal), and what the tape holds per pixel must stay flat: doubling the side may
    /// multiply it by about 4 (the pixels), not 8 (the pixels times the steps).
    private func assertLinear(_ name: String, steps: (Int) -> Int,
                              _ rows: [(side: Int, nodes: Int, floats: Int, heap: Int?)],
                              file: StaticString = #filePath, line: UInt = #line) {
        #if canImport(Glibc)
        XCTAssertTrue(rows.allSatisfy { $0.heap != nil }, "\(name): heap not measured (malloc_info missing or changed?)",
                      file: file, line: line)
        #endif
        if rows.allSatisfy({ $0.heap == 0 }) {
            print("\(name): the heap grew by 0 at every size (malloc_info sees no arena: a sanitizer's allocator?); heap check left out")
        }
        for r in rows {
            print("\(name) \(r.side)x\(r.side): \(steps(r.side)) steps, \(r.nodes) tape nodes, "
                  + "\(r.floats) floats (\(r.floats * 4 / 1024) KiB) in tape tensors, heap +\(r.heap.map { "\($0 / 1024) KiB" } ?? "n/a")")
        }
        var perStep: [Int] = []
        for (a, b) in zip(rows, rows.dropFirst()) {
            let (nodes, extraSteps) = (b.nodes - a.nodes, steps(b.side) - steps(a.side))
            XCTAssertEqual(nodes % extraSteps, 0, "\(name): nodes grow by a whole number per step", file: file, line: line)
            perStep.append(nodes / extraSteps)
            let growth = Double(b.floats) / Double(a.floats)
            let pixels = Double(b.side * b.side) / Double(a.side * a.side)
            XCTAssertLessThanOrEqual(growth, pixels * 1.1,
                                     "\(name): tape floats ×\(growth) from \(a.side) to \(b.side), pixels ×\(pixels)",
                                     file: file, line: line)
            // A sanitizer's allocator leaves glibc's arenas empty (malloc_info reports 0): no heap figure then.
            if let ha = a.heap, let hb = b.heap, ha > 0 {
                let heapGrowth = Double(hb) / Double(ha)
                XCTAssertLessThanOrEqual(heapGrowth, pixels * 1.25,
                                         "\(name): heap ×\(heapGrowth) from \(a.side) to \(b.side), pixels ×\(pixels)",
                                         file: file, line: line)
            }
        }
        XCTAssertEqual(Set(perStep).count, 1, "\(name): nodes per step \(perStep) differ between sizes", file: file, line: line)
    }

    func testRowLSTMTapeGrowsLinearly() throws {
        let rows = measureGraphs(sides: [8, 16, 32]) { layer.rowLSTM(image($0)) }
        assertLinear("Row LSTM", steps: { $0 }, rows)
    }

    func testDiagonalBiLSTMTapeGrowsLinearly() throws {
        let rows = measureGraphs(sides: [8, 16, 32]) { layer.diagonalBiLSTM(image($0), rightToLeft: rightToLeft) }
        assertLinear("Diagonal BiLSTM", steps: { 2 * (2 * $0 - 1) }, rows)
    }

    func testTheMeasureSeesQuadraticGrowth() throws {
        // Control: gathering the rows step by step (concat onto what was gathered so far)
        // keeps every partial result on the tape, H²·W floats in all. The measure must see it.
        let rows = measureGraphs(sides: [8, 16, 32]) { side in
            let x = self.image(side)
            var gathered = x.row(0).reshaped([2, 3, 1, side])
            for i in 1..<side { gathered = Tensor.concat([gathered, x.row(i).reshaped([2, 3, 1, side])], axis: 2) }
            return gathered
        }
        for (a, b) in zip(rows, rows.dropFirst()) {
            let growth = Double(b.floats) / Double(a.floats)
            print("Control, step-by-step concat: tape floats ×\(growth) from \(a.side)x\(a.side) to \(b.side)x\(b.side)")
            // The linear tests allow ×4.4 per doubling; this must be far beyond.
            XCTAssertGreaterThan(growth, 6, "quadratic gathering should multiply the tape by nearly 8")
        }
    }

    func testBackwardReachesEveryWeightAndPixel() throws {
        let x = image(6)
        for (name, out) in [("Row LSTM", layer.rowLSTM(x)), ("Diagonal BiLSTM", layer.diagonalBiLSTM(x, rightToLeft: rightToLeft))] {
            for t in [x, layer.inputToState, layer.bias, layer.rowStateToState, layer.columnStateToState,
                      rightToLeft.inputToState, rightToLeft.columnStateToState] { t.grad = nil }
            XCTAssertEqual(out.shape, [2, 4, 6, 6], name)
            out.sum().backward()
            XCTAssertTrue(x.grad!.allSatisfy { $0 != 0 }, "\(name): every pixel gets a gradient")
            XCTAssertTrue(layer.inputToState.grad!.allSatisfy { $0 != 0 }, name)
            let stateWeights = name == "Row LSTM" ? [layer.rowStateToState]
                : [layer.columnStateToState, rightToLeft.inputToState, rightToLeft.columnStateToState]
            for w in stateWeights { XCTAssertTrue(w.grad!.allSatisfy { $0 != 0 }, "\(name): weights \(w.shape)") }
        }
    }

    func testSmallRecurrencesPassGradientChecks() throws {
        let x = uniformTensor([1, 2, 3, 4], seed: 3)
        let small = RecurrentLayer(channels: 2, hidden: 2, seed: 300), other = RecurrentLayer(channels: 2, hidden: 2, seed: 400)
        assertGradients(wrt: [x, small.inputToState, small.rowStateToState], "Row LSTM") { small.rowLSTM(x) }
        assertGradients(wrt: [x, small.inputToState, small.columnStateToState, other.columnStateToState],
                        "Diagonal BiLSTM") { small.diagonalBiLSTM(x, rightToLeft: other) }
    }

    /// Which pixels each output position depends on: ∂ Σ_channels h[r, j] / ∂ x[r′, j′] ≠ 0.
    private func dependencies(_ side: Int, _ f: (Tensor) -> Tensor) -> [[Set<[Int]>]] {
        let x = uniformTensor([1, 3, side, side], seed: 4)
        let out = f(x)
        let n = out.shape[1]
        return (0..<side).map { r in
            (0..<side).map { j in
                x.grad = nil
                var seed = [Float](repeating: 0, count: out.count)
                for k in 0..<n { seed[(k * side + r) * side + j] = 1 }
                out.backward(seed: seed)
                var set = Set<[Int]>()
                for c in 0..<3 { for i in 0..<side { for jj in 0..<side where x.grad![(c * side + i) * side + jj] != 0 {
                    set.insert([i, jj])
                } } }
                return set
            }
        }
    }

    func testRowLSTMSeesTheTriangleAbove() throws {
        // With a 1 × 1 input-to-state and a 1 × 3 state-to-state convolution, h[r, j] depends
        // on x[r′, j′] exactly when r′ ≤ r and |j′ − j| ≤ r − r′ (figure 2's triangle).
        let side = 5
        let deps = dependencies(side) { layer.rowLSTM($0) }
        for r in 0..<side { for j in 0..<side {
            let want = Set((0..<side).flatMap { i in (0..<side).map { [i, $0] } }.filter { p in
                p[0] <= r && abs(p[1] - j) <= r - p[0]
            })
            XCTAssertEqual(deps[r][j], want, "Row LSTM h[\(r), \(j)]")
        } }
    }

    func testDiagonalLSTMSeesTheRectangleAboveLeft() throws {
        // Left to right: h[r, j] depends on x[r′, j′] exactly when r′ ≤ r and j′ ≤ j. With
        // the right-to-left direction (mirrored, shifted down one row) added: also r′ < r, j′ ≥ j.
        let side = 5
        let one = dependencies(side) { layer.diagonalLSTM($0) }
        let both = dependencies(side) { layer.diagonalBiLSTM($0, rightToLeft: rightToLeft) }
        let all = (0..<side).flatMap { i in (0..<side).map { [i, $0] } }
        for r in 0..<side { for j in 0..<side {
            XCTAssertEqual(one[r][j], Set(all.filter { $0[0] <= r && $0[1] <= j }), "left to right h[\(r), \(j)]")
            XCTAssertEqual(both[r][j], Set(all.filter { ($0[0] <= r && $0[1] <= j) || ($0[0] < r && $0[1] >= j) }),
                           "both directions h[\(r), \(j)]")
        } }
    }
}
