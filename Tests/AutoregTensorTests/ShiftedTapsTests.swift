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
        var rng = RandomGenerator(seed: 5)
        func small(_ range: ClosedRange<Int>) -> Float { Float(range.lowerBound + Int(rng.next() % UInt64(range.count))) }
        for (i, c) in Im2ColTests.cases.enumerated() {
            for relu in [false, true] {
                let (n, cin, cout) = (2, ShiftedTaps.minimumChannels, 3)
                let x = Tensor(shape: [n, cin, c.h, c.w], data: (0..<(n * cin * c.h * c.w)).map { _ in small(-3...3) },
                               requiresGrad: true)
                let w = Tensor(shape: [cout, cin, c.kh, c.kw], data: (0..<(cout * cin * c.kh * c.kw)).map { _ in small(-2...2) },
                               requiresGrad: true)
                let mask = Tensor(shape: w.shape, data: (0..<w.count).map { $0 % 7 == 3 ? 0 : 1 })
                let term = ConvolutionTerm(input: x, weight: w, bias: nil, mask: mask, dilation: c.dilation,
                                           stride: c.stride, padding: c.padding, reluInput: relu)
                let flat = c.stride == (1, 1) && LoweredConvolution(term).geometry.outWidth == c.w
                XCTAssertEqual(LoweredConvolution(term).shifted != nil, flat, "case \(i): shifted planes only where flat")
                let y = Tensor.sumOfConvolutions([term])
                let seed = (0..<y.count).map { _ in small(-2...2) }
                y.backward(seed: seed)

                let (wantY, wantDW, wantDX) = try referenceConvolution(term, seed: seed)
                XCTAssertEqual(y.data, wantY, "case \(i), relu \(relu): output")
                XCTAssertEqual(w.grad!, wantDW, "case \(i), relu \(relu): weight gradient")
                XCTAssertEqual(x.grad!, wantDX, "case \(i), relu \(relu): input gradient")
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
