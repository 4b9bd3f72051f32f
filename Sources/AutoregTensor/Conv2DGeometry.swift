/// Zero padding of a 2-D convolution (`Tensor.conv2d`).
public enum Conv2DPadding: Equatable, Sendable {
    /// Output as large as the input: dilation·(K − 1)/2 zeros on each side of each axis.
    /// Needs odd kernel sizes.
    case same
    /// The given number of zeros (each ≥ 0) above, below, left and right of every image.
    /// Output height = H + top + bottom − dilationY·(KH − 1),
    /// output width  = W + left + right − dilationX·(KW − 1); both must be ≥ 1.
    ///
    /// Causal stacks use it asymmetrically: a (k/2 + 1) × k vertical kernel with
    /// `top: k/2, bottom: 0, left: k/2, right: k/2` sees the current row and the k/2 rows
    /// above it, and keeps the size H × W.
    case explicit(top: Int, bottom: Int, left: Int, right: Int)

    /// No padding at all: output (H − dilationY·(KH − 1)) × (W − dilationX·(KW − 1)).
    public static var valid: Conv2DPadding { .explicit(top: 0, bottom: 0, left: 0, right: 0) }
}

/// Why a convolution's arguments do not fit together; `message` is what `conv2d` traps with.
public struct Conv2DError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// The sizes of one 2-D convolution, validated: input [N, Cin, H, W], weight
/// [Cout, Cin, KH, KW], output [N, Cout, outHeight, outWidth].
///
/// Output element (n, co, oy, ox) reads input (n, ci, oy − padTop + dilationY·ky,
/// ox − padLeft + dilationX·kx) for every kernel tap (ky, kx), zero outside the image.
public struct Conv2DGeometry: Equatable, Sendable {
    public var batch, inChannels, height, width: Int
    public var outChannels, kernelHeight, kernelWidth: Int
    public var dilationY, dilationX: Int
    public var padTop, padBottom, padLeft, padRight: Int

    /// H + padTop + padBottom − dilationY·(KH − 1).
    public var outHeight: Int { height + padTop + padBottom - dilationY * (kernelHeight - 1) }
    /// W + padLeft + padRight − dilationX·(KW − 1).
    public var outWidth: Int { width + padLeft + padRight - dilationX * (kernelWidth - 1) }
    /// [N, Cout, outHeight, outWidth].
    public var outputShape: [Int] { [batch, outChannels, outHeight, outWidth] }

    /// Checks the shapes (bias [Cout] and mask [Cout, Cin, KH, KW] when given), the dilation
    /// (≥ 1) and the padding, and throws a `Conv2DError` naming the first problem.
    public init(input: [Int], weight: [Int], bias: [Int]? = nil, mask: [Int]? = nil,
                dilation: (Int, Int) = (1, 1), padding: Conv2DPadding = .same) throws {
        func fail(_ s: String) -> Conv2DError { Conv2DError(message: "conv2d: " + s) }
        guard input.count == 4 else { throw fail("input must be [N, Cin, H, W], got \(input)") }
        guard weight.count == 4 else { throw fail("weight must be [Cout, Cin, KH, KW], got \(weight)") }
        guard input[0] >= 0, input[1...].allSatisfy({ $0 >= 1 }) else {
            throw fail("input \(input) needs at least one channel, row and column")
        }
        guard weight.allSatisfy({ $0 >= 1 }) else { throw fail("weight \(weight) has an empty dimension") }
        guard input[1] == weight[1] else {
            throw fail("input has \(input[1]) channels but weight \(weight) expects \(weight[1])")
        }
        if let bias, bias != [weight[0]] {
            throw fail("bias must be [\(weight[0])] (one per output channel), got \(bias)")
        }
        if let mask, mask != weight { throw fail("mask \(mask) differs from weight \(weight)") }
        guard dilation.0 >= 1, dilation.1 >= 1 else {
            throw fail("dilation must be at least 1, got (\(dilation.0), \(dilation.1))")
        }
        (batch, inChannels, height, width) = (input[0], input[1], input[2], input[3])
        (outChannels, kernelHeight, kernelWidth) = (weight[0], weight[2], weight[3])
        (dilationY, dilationX) = dilation
        switch padding {
        case .same:
            guard kernelHeight % 2 == 1, kernelWidth % 2 == 1 else {
                throw fail(".same padding needs an odd kernel, got \(kernelHeight)×\(kernelWidth); "
                    + "use .explicit(top:bottom:left:right:)")
            }
            padTop = dilationY * (kernelHeight - 1) / 2
            padBottom = padTop
            padLeft = dilationX * (kernelWidth - 1) / 2
            padRight = padLeft
        case let .explicit(top, bottom, left, right):
            guard top >= 0, bottom >= 0, left >= 0, right >= 0 else {
                throw fail("padding must be ≥ 0, got top \(top), bottom \(bottom), left \(left), right \(right)")
            }
            (padTop, padBottom, padLeft, padRight) = (top, bottom, left, right)
        }
        guard outHeight >= 1, outWidth >= 1 else {
            throw fail("output would be \(outHeight)×\(outWidth): the \(height)×\(width) input padded by "
                + "(\(padTop), \(padBottom), \(padLeft), \(padRight)) is smaller than the "
                + "\(dilationY * (kernelHeight - 1) + 1)×\(dilationX * (kernelWidth - 1) + 1) dilated kernel")
        }
    }
}
