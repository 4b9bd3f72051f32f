@testable import AutoregTensor
import XCTest

/// The convolution's formula summed term by term (`Tensor.conv2d`'s doc comment): the output
/// of `term` (bias left out) and, for the output gradient `seed`, the weight and input
/// gradients, with the mask applied and the input rectified where the term says so. On
/// small integers every sum is exact in Float, so the engine's paths can be compared exactly.
func referenceConvolution(_ term: ConvolutionTerm, seed: [Float]) throws -> (y: [Float], dw: [Float], dx: [Float]) {
    let x = term.input, w = term.weight
    let g = try Conv2DGeometry(input: x.shape, weight: w.shape, dilation: term.dilation, stride: term.stride,
                               padding: term.padding)
    let (n, cin, cout, h, wd, kh, kw) = (g.batch, g.inChannels, g.outChannels, g.height, g.width, g.kernelHeight, g.kernelWidth)
    let mask = term.mask?.data ?? [Float](repeating: 1, count: w.count)
    var y = [Float](repeating: 0, count: n * cout * g.outHeight * g.outWidth)
    var dw = [Float](repeating: 0, count: w.count), dx = [Float](repeating: 0, count: x.count)
    for b in 0..<n { for co in 0..<cout { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth {
        let o = ((b * cout + co) * g.outHeight + oy) * g.outWidth + ox
        for ci in 0..<cin { for ky in 0..<kh { for kx in 0..<kw {
            let iy = g.strideY * oy - g.padTop + g.dilationY * ky, ix = g.strideX * ox - g.padLeft + g.dilationX * kx
            guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
            let k = ((co * cin + ci) * kh + ky) * kw + kx, xi = ((b * cin + ci) * h + iy) * wd + ix
            let v = term.reluInput ? max(x.data[xi], 0) : x.data[xi]
            y[o] += w.data[k] * mask[k] * v
            dw[k] += mask[k] * seed[o] * v
            if !term.reluInput || x.data[xi] > 0 { dx[xi] += w.data[k] * mask[k] * seed[o] }
        } } }
    } } } }
    return (y, dw, dx)
}

/// Random small integers, as floats and as tensors of them: sums of their products are exact.
struct SmallIntegers {
    var rng: RandomGenerator

    init(seed: UInt64) { rng = RandomGenerator(seed: seed) }

    mutating func next(_ range: ClosedRange<Int>) -> Float {
        Float(range.lowerBound + Int(rng.next() % UInt64(range.count)))
    }

    mutating func tensor(_ shape: [Int], _ range: ClosedRange<Int>) -> Tensor {
        Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in next(range) }, requiresGrad: true)
    }
}

/// Runs `term` (input and weight of small integers) through `sumOfConvolutions` and its
/// backward pass from a seed of small integers, and checks the output and both gradients
/// against `referenceConvolution`: equal, not close.
func assertMatchesTheFormulaExactly(_ term: ConvolutionTerm, _ ints: inout SmallIntegers, _ label: String,
                                    file: StaticString = #filePath, line: UInt = #line) throws {
    let y = Tensor.sumOfConvolutions([term])
    let seed = (0..<y.count).map { _ in ints.next(-2...2) }
    y.backward(seed: seed)
    let (wantY, wantDW, wantDX) = try referenceConvolution(term, seed: seed)
    XCTAssertEqual(y.data, wantY, "\(label): output", file: file, line: line)
    XCTAssertEqual(term.weight.grad!, wantDW, "\(label): weight gradient", file: file, line: line)
    XCTAssertEqual(term.input.grad!, wantDX, "\(label): input gradient", file: file, line: line)
}
