@testable import AutoregTensor
import XCTest

// Convolutions over at least `ShiftedTaps.minimumChannels` input channels read each kept tap
// straight from the shifted input planes and take the wrapped edge pixels back out. Here
// their output, weight gradient and input gradient are checked exactly (small integers, so
// every sum is exact in Float) against the convolution's formula, on the geometries of
// `Im2ColTests`: shifted kernels, taps wholly in the padding, dilations, and the strided or
// resized ones that keep the column matrix. Winograd's rows (`WinogradRowsTests`), which would
// take some of these geometries, are switched off here.
final class ShiftedTapsTests: XCTestCase {
    override func setUp() { WinogradRows.enabled = false }
    override func tearDown() { WinogradRows.enabled = true }

    func testOutputAndGradientsMatchTheFormulaExactly() throws {
        var ints = SmallIntegers(seed: 5)
        for (i, c) in Im2ColTests.cases.enumerated() {
            for relu in [false, true] {
                let (n, cin, cout) = (2, ShiftedTaps.minimumChannels, 3)
                let x = ints.tensor([n, cin, c.h, c.w], -3...3), w = ints.tensor([cout, cin, c.kh, c.kw], -2...2)
                let mask = Tensor(shape: w.shape, data: (0..<w.count).map { $0 % 7 == 3 ? 0 : 1 })
                let term = ConvolutionTerm(input: x, weight: w, bias: nil, mask: mask, dilation: c.dilation,
                                           stride: c.stride, padding: c.padding, reluInput: relu)
                let flat = c.stride == (1, 1) && LoweredConvolution(term).geometry.outWidth == c.w
                XCTAssertEqual(LoweredConvolution(term).shifted != nil, flat, "case \(i): shifted planes only where flat")
                try assertMatchesTheFormulaExactly(term, &ints, "case \(i), relu \(relu)")
            }
        }
    }

    /// Below `minimumChannels` input channels the column matrix stays: per-tap products would be too thin.
    func testShiftedPlanesFromTheChannelThreshold() {
        let c = ShiftedTaps.minimumChannels
        for (cin, shifted) in [(c - 1, false), (c, true)] {
            let x = Tensor(shape: [1, cin, 5, 5], data: [Float](repeating: 1, count: cin * 25))
            let w = Tensor(shape: [2, cin, 3, 3], data: [Float](repeating: 1, count: 2 * cin * 9))
            XCTAssertEqual(LoweredConvolution(ConvolutionTerm(input: x, weight: w, bias: nil)).shifted != nil, shifted, "\(cin) channels")
        }
    }
}
