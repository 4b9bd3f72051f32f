import AutoregTensor
import AutoregTestSupport
import XCTest

/// The shape ops of PixelRNN's recurrences: `row`, `column`, `stack`, `skewed`, `unskewed`,
/// `flipped(axis:)` / `flippedHorizontally`, and `shifted(down:right:)` as the Diagonal
/// BiLSTM uses it. Values against index arithmetic written out here, finite differences.
final class RowColumnStackTests: XCTestCase {
    /// [B, C, H, W] with value 1000·b + 100·c + 10·i + j: every element names its position.
    private func labelled(_ b: Int, _ c: Int, _ h: Int, _ w: Int) -> Tensor {
        var data = [Float]()
        for n in 0..<b { for k in 0..<c { for i in 0..<h { for j in 0..<w {
            data.append(Float(1000 * n + 100 * k + 10 * i + j))
        } } } }
        return Tensor(shape: [b, c, h, w], data: data)
    }

    func testRowAndColumnValues() throws {
        let x = labelled(2, 3, 4, 5)
        for i in 0..<4 {
            let r = x.row(i)
            XCTAssertEqual(r.shape, [2, 3, 5])
            for n in 0..<2 { for k in 0..<3 { for j in 0..<5 {
                XCTAssertEqual(r.data[(n * 3 + k) * 5 + j], Float(1000 * n + 100 * k + 10 * i + j))
            } } }
        }
        for j in 0..<5 {
            let col = x.column(j)
            XCTAssertEqual(col.shape, [2, 3, 4])
            for n in 0..<2 { for k in 0..<3 { for i in 0..<4 {
                XCTAssertEqual(col.data[(n * 3 + k) * 4 + i], Float(1000 * n + 100 * k + 10 * i + j))
            } } }
        }
        // Rank 2 and 3 work on the last two axes too.
        XCTAssertEqual(Tensor(shape: [2, 3], data: [0, 1, 2, 3, 4, 5]).row(1).data, [3, 4, 5])
        XCTAssertEqual(Tensor(shape: [2, 3], data: [0, 1, 2, 3, 4, 5]).column(2).data, [2, 5])
    }

    func testStackingRowsOrColumnsGivesTheMapBack() throws {
        let x = labelled(2, 3, 4, 5)
        let rows = Tensor.stack((0..<4).map { x.row($0) }, axis: 2)
        XCTAssertEqual(rows.shape, x.shape)
        XCTAssertEqual(rows.data, x.data)
        let columns = Tensor.stack((0..<5).map { x.column($0) }, axis: 3)
        XCTAssertEqual(columns.shape, x.shape)
        XCTAssertEqual(columns.data, x.data)
        XCTAssertEqual(Tensor.stack((0..<5).map { x.column($0) }, axis: -1).data, x.data, "axis −1")
    }

    func testStackAlongEveryAxis() throws {
        let parts = (0..<3).map { p in Tensor(shape: [2, 2], data: (0..<4).map { Float(10 * p + $0) }) }
        XCTAssertEqual(Tensor.stack(parts, axis: 0).shape, [3, 2, 2])
        XCTAssertEqual(Tensor.stack(parts, axis: 0).data, [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23])
        XCTAssertEqual(Tensor.stack(parts, axis: 1).shape, [2, 3, 2])
        XCTAssertEqual(Tensor.stack(parts, axis: 1).data, [0, 1, 10, 11, 20, 21, 2, 3, 12, 13, 22, 23])
        XCTAssertEqual(Tensor.stack(parts, axis: 2).shape, [2, 2, 3])
        XCTAssertEqual(Tensor.stack(parts, axis: 2).data, [0, 10, 20, 1, 11, 21, 2, 12, 22, 3, 13, 23])
        XCTAssertEqual(Tensor.stack(parts, axis: -2).data, Tensor.stack(parts, axis: 1).data)
        XCTAssertEqual(Tensor.stack([parts[0]], axis: 0).shape, [1, 2, 2])
    }

    func testGradients() throws {
        let x = uniformTensor([2, 3, 4, 5], seed: 1)
        assertGradients(wrt: [x], "row 0") { x.row(0) }
        assertGradients(wrt: [x], "row 3") { x.row(3) }
        assertGradients(wrt: [x], "column 4") { x.column(4) }
        // Several rows and columns of one map, some twice: their pullbacks add up.
        assertGradients(wrt: [x], "rows and columns together") {
            Tensor.concat([x.row(1), x.row(2).exp(), x.row(1) * x.row(3)], axis: 1)
                + Tensor.concat([x.column(0), x.column(4), x.column(0)], axis: 1).slice(axis: 2, start: 0, length: 4).sum()
        }
        let parts = (0..<3).map { uniformTensor([2, 3, 4], seed: UInt64(10 + $0)) }
        for axis in [0, 1, 2, 3, -1] {
            assertGradients(wrt: parts, "stack axis \(axis)") { Tensor.stack(parts, axis: axis) }
        }
        // A part used twice and a constant part.
        let constant = uniformTensor([2, 3, 4], seed: 13, requiresGrad: false)
        assertGradients(wrt: [parts[0], parts[1]], "repeated and constant parts") {
            Tensor.stack([parts[0], constant, parts[0], parts[1]], axis: 2) * Tensor.stack([parts[1]], axis: 2)
        }
    }
}

final class SkewFlipTests: XCTestCase {
    func testSkewShiftsRowRByR() throws {
        let x = uniformTensor([2, 3, 4, 5], seed: 20, requiresGrad: false)
        let s = x.skewed()
        XCTAssertEqual(s.shape, [2, 3, 4, 8])
        for p in 0..<6 { for r in 0..<4 { for k in 0..<8 {
            let j = k - r  // the input column that lands at (r, k), if any
            let want: Float = (0..<5).contains(j) ? x.data[(p * 4 + r) * 5 + j] : 0
            XCTAssertEqual(s.data[(p * 4 + r) * 8 + k], want, "plane \(p) row \(r) column \(k)")
        } } }
        // Column d of the skewed map is diagonal d of the image: the pixels (r, d − r).
        let image = Tensor(shape: [1, 1, 3, 3], data: [0, 1, 2, 10, 11, 12, 20, 21, 22])
        XCTAssertEqual(image.skewed().data, [0, 1, 2, 0, 0,
                                             0, 10, 11, 12, 0,
                                             0, 0, 20, 21, 22])
        XCTAssertEqual(image.skewed().column(2).data, [2, 11, 20])
    }

    func testUnskewIsTheInverseOfSkew() throws {
        for shape in [[2, 3, 4, 5], [1, 2, 5, 3], [3, 1, 1, 4], [2, 6, 1], [4, 4]] {
            let x = uniformTensor(shape, seed: 21, requiresGrad: false)
            let s = x.skewed()
            XCTAssertEqual(s.shape.last, shape.last! + shape[shape.count - 2] - 1)
            let back = s.unskewed()
            XCTAssertEqual(back.shape, x.shape, "\(shape)")
            XCTAssertEqual(back.data, x.data, "unskew(skew(x)) = x for \(shape)")
            // And skew(unskew(y)) = y for every y that is zero off the band.
            XCTAssertEqual(back.skewed().data, s.data, "skew(unskew(y)) = y for \(shape)")
        }
        // Off the band unskew reads nothing: changing it changes nothing.
        let noisy = uniformTensor([2, 3, 4, 8], seed: 22, requiresGrad: false)
        var band = noisy.unskewed().skewed().data
        for k in band.indices where band[k] == 0 { band[k] = 99 }
        XCTAssertEqual(Tensor(shape: noisy.shape, data: band).unskewed().data, noisy.unskewed().data)
    }

    /// `skewedColumns` and `unskewedColumns` are the two-op chains they replace, exactly, and
    /// inverse to each other on the band.
    func testFusedSkewsAreTheChainsTheyReplace() throws {
        for shape in [[2, 3, 4, 5], [1, 2, 5, 3], [3, 1, 1, 4], [2, 6, 1], [4, 4]] {
            let x = uniformTensor(shape, seed: 31, requiresGrad: false)
            let s = x.skewedColumns(), chain = x.skewed().transposedInner()
            XCTAssertEqual(s.shape, chain.shape, "\(shape)")
            XCTAssertEqual(s.data, chain.data, "skewedColumns = skewed().transposedInner() for \(shape)")
            let back = s.unskewedColumns()
            XCTAssertEqual(back.shape, x.shape, "\(shape)")
            XCTAssertEqual(back.data, x.data, "unskewedColumns(skewedColumns(x)) = x for \(shape)")
            XCTAssertEqual(back.data, s.transposedInner().unskewed().data, "the chain it replaces, \(shape)")
        }
        // Row d of the result is diagonal d of the image: the pixels (r, d − r), r = 0, 1, 2.
        let image = Tensor(shape: [1, 1, 3, 3], data: [0, 1, 2, 10, 11, 12, 20, 21, 22])
        XCTAssertEqual(image.skewedColumns().row(2).data, [2, 11, 20])
        XCTAssertEqual(image.skewedColumns().row(0).data, [0, 0, 0])
    }

    func testFlipValues() throws {
        let x = Tensor(shape: [2, 1, 2, 3], data: (0..<12).map(Float.init))
        XCTAssertEqual(x.flippedHorizontally().data, [2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9])
        XCTAssertEqual(x.flipped(axis: 2).data, [3, 4, 5, 0, 1, 2, 9, 10, 11, 6, 7, 8])
        XCTAssertEqual(x.flipped(axis: 0).data, [6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5])
        XCTAssertEqual(x.flipped(axis: -1).data, x.flippedHorizontally().data)
        let y = uniformTensor([3, 2, 5, 7], seed: 23, requiresGrad: false)
        XCTAssertEqual(y.flippedHorizontally().flippedHorizontally().data, y.data, "a flip is its own inverse")
    }

    func testShiftedDownOneRowIsTheBiLSTMsShift() throws {
        // The right-to-left output is shifted down one row before it is added (section 3.2):
        // out[i, j] = in[i − 1, j], row 0 zero, the last row dropped.
        let x = uniformTensor([2, 3, 4, 5], seed: 24, requiresGrad: false)
        let s = x.shifted(down: 1, right: 0)
        XCTAssertEqual(s.shape, x.shape)
        for p in 0..<6 { for i in 0..<4 { for j in 0..<5 {
            XCTAssertEqual(s.data[(p * 4 + i) * 5 + j], i == 0 ? 0 : x.data[(p * 4 + i - 1) * 5 + j])
        } } }
        let g = uniformTensor([2, 3, 4, 5], seed: 25)
        assertGradients(wrt: [g], "shifted down one row") { g.shifted(down: 1, right: 0) }
    }

    func testGradients() throws {
        for shape in [[2, 3, 4, 5], [1, 2, 5, 2], [2, 1, 3]] {
            let x = uniformTensor(shape, seed: 26)
            assertGradients(wrt: [x], "skewed \(shape)") { x.skewed() }
            assertGradients(wrt: [x], "skewed twice-used \(shape)") { x.skewed() * x.skewed().tanh() }
            assertGradients(wrt: [x], "flippedHorizontally \(shape)") { x.flippedHorizontally() }
            for axis in 0..<shape.count {
                assertGradients(wrt: [x], "flipped axis \(axis) \(shape)") { x.flipped(axis: axis) * x }
            }
            var wide = shape
            wide[wide.count - 1] += wide[wide.count - 2] - 1
            let y = uniformTensor(wide, seed: 27)
            assertGradients(wrt: [y], "unskewed \(wide)") { y.unskewed() }
            assertGradients(wrt: [y], "unskewed with another use \(wide)") { y.unskewed().sigmoid().skewed() + y }
        }
        // The fused skew and transpose, and their inverse, on their own and used twice.
        for shape in [[2, 3, 4, 5], [1, 2, 5, 2], [2, 1, 3], [1, 1, 1, 4]] {
            let x = uniformTensor(shape, seed: 29)
            assertGradients(wrt: [x], "skewedColumns \(shape)") { x.skewedColumns() }
            assertGradients(wrt: [x], "skewedColumns twice-used \(shape)") { x.skewedColumns() * x.skewedColumns().tanh() }
            var tall = shape
            (tall[tall.count - 2], tall[tall.count - 1]) = (shape[shape.count - 1] + shape[shape.count - 2] - 1,
                                                            shape[shape.count - 2])
            let y = uniformTensor(tall, seed: 30)
            assertGradients(wrt: [y], "unskewedColumns \(tall)") { y.unskewedColumns() }
            assertGradients(wrt: [y], "unskewedColumns with another use \(tall)") {
                y.unskewedColumns().sigmoid().skewedColumns() + y
            }
        }
        // The whole Diagonal BiLSTM chain of shape ops.
        let x = uniformTensor([1, 2, 3, 4], seed: 28)
        assertGradients(wrt: [x], "flip, skew, columns, stack, unskew, flip, shift") {
            let s = x.flippedHorizontally().skewed()
            let columns = (0..<s.shape[3]).map { s.column($0).scaled(by: Float($0 + 1)) }
            return Tensor.stack(columns, axis: 3).unskewed().flippedHorizontally().shifted(down: 1, right: 0)
        }
    }
}
