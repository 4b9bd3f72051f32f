@testable import AutoregTensor
import XCTest

// Convolutions whose kept taps form rows of three (dx = −d, 0, d) or two (dx = −d, 0) take
// Winograd's F(2,3) or F(2,2) along the rows. Its transforms only add, subtract and halve, so
// on small integers the output and both gradients must equal the convolution's formula
// exactly: checked on the Gated PixelCNN's vertical and horizontal masks, PixelCNN's mask B
// (rows of both kinds), full 3×3 and PixelCNN++'s shifted kernels, every dilation the models use, odd widths (a last tile with
// one output), rows of whole tile blocks and of part blocks, and images narrower than the
// dilation.
final class WinogradRowsTests: XCTestCase {
    struct Case {
        var h: Int, w: Int, kh: Int, kw: Int
        var dilation = (1, 1)
        var padding: Conv2DPadding = .same
        /// Kernel taps (ky, kx) the mask keeps for every channel pair; nil: all.
        var kept: [(Int, Int)]? = nil
    }

    static let vertical = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    static let cases: [Case] = [
        Case(h: 5, w: 6, kh: 3, kw: 3, kept: vertical),                             // Gated PixelCNN, vertical
        Case(h: 5, w: 7, kh: 3, kw: 3, dilation: (2, 2), kept: vertical),
        Case(h: 6, w: 9, kh: 3, kw: 3, dilation: (4, 4), kept: vertical),
        Case(h: 4, w: 8, kh: 3, kw: 3, dilation: (4, 4), kept: vertical),           // rows of whole blocks
        Case(h: 3, w: 3, kh: 3, kw: 3, dilation: (4, 4), kept: vertical),           // narrower than d
        Case(h: 4, w: 12, kh: 3, kw: 3, dilation: (3, 3), kept: vertical),          // a dilation the models do not use
        Case(h: 4, w: 10, kh: 3, kw: 3, dilation: (3, 3), kept: vertical),
        Case(h: 4, w: 5, kh: 1, kw: 3, kept: [(0, 0), (0, 1)]),                     // horizontal, mask B
        Case(h: 4, w: 8, kh: 1, kw: 3, dilation: (1, 2), kept: [(0, 0), (0, 1)]),
        Case(h: 3, w: 7, kh: 1, kw: 3, dilation: (1, 4), kept: [(0, 0), (0, 1)]),
        Case(h: 5, w: 5, kh: 3, kw: 3),                                             // full 3×3
        Case(h: 5, w: 6, kh: 3, kw: 3, kept: [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]),  // PixelCNN's mask B: two parts
        Case(h: 5, w: 7, kh: 3, kw: 3, dilation: (2, 2), kept: [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]),
        Case(h: 6, w: 5, kh: 2, kw: 3, padding: .explicit(top: 1, bottom: 0, left: 1, right: 1)),   // down-shifted
        Case(h: 6, w: 5, kh: 2, kw: 2, padding: .explicit(top: 1, bottom: 0, left: 1, right: 0)),   // down-right
    ]

    override func tearDown() { WinogradRows.enabled = true }

    func testOutputAndGradientsMatchTheFormulaExactly() throws {
        var ints = SmallIntegers(seed: 19)
        for (i, c) in Self.cases.enumerated() {
            for relu in [false, true] {
                let (n, cin, cout) = (2, ShiftedTaps.minimumChannels, 3)
                let x = ints.tensor([n, cin, c.h, c.w], -3...3), w = ints.tensor([cout, cin, c.kh, c.kw], -2...2)
                // The tap pattern, with a few single channel pairs masked inside it (a colour mask's kind).
                let mask = Tensor(shape: w.shape, data: (0..<w.count).map { k in
                    let tap = (k % (c.kh * c.kw) / c.kw, k % c.kw)
                    let keptTap = c.kept.map { $0.contains { $0 == tap } } ?? true
                    return keptTap && k % 11 != 4 ? 1 : 0
                })
                let term = ConvolutionTerm(input: x, weight: w, bias: nil, mask: mask, dilation: c.dilation,
                                           padding: c.padding, reluInput: relu)
                XCTAssertFalse(LoweredConvolution(term).winograd.isEmpty, "case \(i): rows of taps")
                try assertMatchesTheFormulaExactly(term, &ints, "case \(i), relu \(relu)")
            }
        }
    }

    /// The path is taken only where every tap row is whole, reading dx = −d, 0 (, d), at stride
    /// 1 with an output of the input's size, over at least `ShiftedTaps.minimumChannels` channels.
    func testOnlyRowsOfTapsTakeThePath() {
        let c = ShiftedTaps.minimumChannels
        func lowered(cin: Int = c, _ kh: Int, _ kw: Int, kept: [(Int, Int)]? = nil, stride: (Int, Int) = (1, 1),
                     padding: Conv2DPadding = .same) -> LoweredConvolution {
            let x = Tensor(shape: [1, cin, 6, 6], data: [Float](repeating: 1, count: cin * 36))
            let w = Tensor(shape: [2, cin, kh, kw], data: [Float](repeating: 1, count: 2 * cin * kh * kw))
            let mask = kept.map { kept in
                Tensor(shape: w.shape, data: (0..<w.count).map { k in
                    kept.contains { $0 == (k % (kh * kw) / kw, k % kw) } ? 1 : 0
                })
            }
            return LoweredConvolution(ConvolutionTerm(input: x, weight: w, bias: nil, mask: mask, stride: stride, padding: padding))
        }
        /// Taps per row of each part: [3] for rows of three only, [3, 2] for both kinds, [] for none.
        func parts(_ l: LoweredConvolution) -> [Int] { l.winograd.map(\.taps) }
        XCTAssertEqual(parts(lowered(3, 3, kept: Self.vertical)), [3])
        XCTAssertEqual(parts(lowered(1, 3, kept: [(0, 0), (0, 1)])), [2])
        XCTAssertEqual(parts(lowered(3, 3, kept: [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)])), [3, 2], "PixelCNN's mask B")
        XCTAssertEqual(parts(lowered(cin: c - 1, 3, 3, kept: Self.vertical)), [], "too few channels")
        XCTAssertEqual(parts(lowered(3, 3, kept: [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2)])), [], "a row at dx = 0, 1")
        XCTAssertEqual(parts(lowered(1, 3, kept: [(0, 0), (0, 2)])), [], "a gap in the row")
        XCTAssertEqual(parts(lowered(3, 3, kept: [(0, 0), (0, 1), (0, 2), (1, 0)])), [], "a row of one")
        XCTAssertEqual(parts(lowered(5, 5)), [], "rows of five")
        XCTAssertEqual(parts(lowered(1, 1)), [], "a 1×1 convolution")
        XCTAssertEqual(parts(lowered(2, 3, stride: (2, 2), padding: .explicit(top: 1, bottom: 0, left: 1, right: 1))), [],
                       "strided")
        XCTAssertEqual(parts(lowered(3, 3, padding: .explicit(top: 1, bottom: 1, left: 1, right: 2))), [], "a wider output")
        WinogradRows.enabled = false
        XCTAssertEqual(parts(lowered(3, 3, kept: Self.vertical)), [], "switched off")
    }

    /// On real-valued data the result differs from the per-tap products by rounding only.
    func testRealValuedDataAgreesWithThePerTapProducts() {
        var rng = RandomGenerator(seed: 7)
        let (n, cin, cout, h, w) = (2, ShiftedTaps.minimumChannels, 8, 7, 10)
        let xData = (0..<(n * cin * h * w)).map { _ in rng.normal() }
        let wData = (0..<(cout * cin * 9)).map { _ in 0.1 * rng.normal() }
        let seed = (0..<(n * cout * h * w)).map { _ in rng.normal() }
        let mask = Tensor(shape: [cout, cin, 3, 3], data: (0..<(cout * cin * 9)).map { $0 % 9 < 6 ? 1 : 0 })
        func run(_ winograd: Bool) -> (y: [Float], dw: [Float], dx: [Float]) {
            WinogradRows.enabled = winograd
            let x = Tensor(shape: [n, cin, h, w], data: xData, requiresGrad: true)
            let wt = Tensor(shape: [cout, cin, 3, 3], data: wData, requiresGrad: true)
            let term = ConvolutionTerm(input: x, weight: wt, bias: nil, mask: mask, dilation: (2, 2))
            XCTAssertEqual(LoweredConvolution(term).winograd.isEmpty, !winograd)
            let y = Tensor.sumOfConvolutions([term])
            y.backward(seed: seed)
            return (y.data, wt.grad!, x.grad!)
        }
        let fast = run(true), plain = run(false)
        func worst(_ a: [Float], _ b: [Float]) -> Float {
            zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max()!
        }
        XCTAssertLessThan(worst(fast.y, plain.y), 1e-5)
        XCTAssertLessThan(worst(fast.dw, plain.dw), 1e-5)
        XCTAssertLessThan(worst(fast.dx, plain.dx), 1e-5)
        XCTAssertNotEqual(fast.y, plain.y, "the two paths round differently: both ran")
    }
}
