/// Zero padding of a 2-D convolution (`Tensor.conv2d`).
public enum Conv2DPadding: Equatable, Sendable {
    /// Output as large as the input: dilation·(K − 1)/2 zeros on each side of each axis.
    /// Needs odd kernel sizes.
    case same
    /// The given number of zeros (each ≥ 0) above, below, left and right of every image.
    /// Output height = (H + top + bottom − dilationY·(KH − 1) − 1) / strideY + 1,
    /// output width  = (W + left + right − dilationX·(KW − 1) − 1) / strideX + 1 (rounded
    /// down: rows and columns of the padded input a stride steps over at the end are unused);
    /// the padded input must hold one dilated kernel.
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
/// Output element (n, co, oy, ox) reads input (n, ci, strideY·oy − padTop + dilationY·ky,
/// strideX·ox − padLeft + dilationX·kx) for every kernel tap (ky, kx), zero outside the image.
/// The same geometry describes the transposed convolution (`Tensor.transposedConv2d`), which
/// maps the output's shape back to the input's.
public struct Conv2DGeometry: Equatable, Sendable {
    public var batch, inChannels, height, width: Int
    public var outChannels, kernelHeight, kernelWidth: Int
    public var dilationY, dilationX: Int
    public var strideY = 1, strideX = 1
    public var padTop, padBottom, padLeft, padRight: Int

    /// (H + padTop + padBottom − dilationY·(KH − 1) − 1) / strideY + 1.
    public var outHeight: Int { Self.outSize(height + padTop + padBottom, dilationY * (kernelHeight - 1), strideY) }
    /// (W + padLeft + padRight − dilationX·(KW − 1) − 1) / strideX + 1.
    public var outWidth: Int { Self.outSize(width + padLeft + padRight, dilationX * (kernelWidth - 1), strideX) }

    /// Outputs along an axis of `padded` values for a kernel spanning `span + 1` of them,
    /// moved by `stride`: 0 when the kernel does not fit.
    static func outSize(_ padded: Int, _ span: Int, _ stride: Int) -> Int {
        padded - span < 1 ? padded - span : (padded - span - 1) / stride + 1
    }
    /// [N, Cout, outHeight, outWidth].
    public var outputShape: [Int] { [batch, outChannels, outHeight, outWidth] }

    /// Checks the shapes (bias [Cout] and mask [Cout, Cin, KH, KW] when given), the dilation
    /// and stride (≥ 1) and the padding, and throws a `Conv2DError` naming the first problem.
    /// `.same` padding needs stride 1.
    public init(input: [Int], weight: [Int], bias: [Int]? = nil, mask: [Int]? = nil,
                dilation: (Int, Int) = (1, 1), stride: (Int, Int) = (1, 1), padding: Conv2DPadding = .same) throws {
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
        guard stride.0 >= 1, stride.1 >= 1 else {
            throw fail("stride must be at least 1, got (\(stride.0), \(stride.1))")
        }
        (batch, inChannels, height, width) = (input[0], input[1], input[2], input[3])
        (outChannels, kernelHeight, kernelWidth) = (weight[0], weight[2], weight[3])
        (dilationY, dilationX) = dilation
        (strideY, strideX) = stride
        switch padding {
        case .same:
            guard stride == (1, 1) else {
                throw fail(".same padding needs stride 1, got (\(stride.0), \(stride.1)); use .explicit(top:bottom:left:right:)")
            }
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

extension Conv2DGeometry {
    /// The geometry of the convolution whose adjoint is a transposed convolution of `input`
    /// [N, Cin, h, w] with `weight` [Cin, Cout, KH, KW] (PyTorch's layout: the convolution's
    /// [Cout, Cin] read the other way round) and `bias` [Cout] when given: a convolution of an
    /// [N, Cout, H, W] image with that weight, stride, dilation and padding, whose output is
    /// [N, Cin, h, w]. (H, W) is `outputSize`, or when nil the smallest size that gives h × w,
    /// (h − 1)·stride − top − bottom + dilation·(K − 1) + 1 (PyTorch's default). Throws a
    /// `Conv2DError` naming the first problem.
    public static func transposed(input: [Int], weight: [Int], bias: [Int]? = nil, dilation: (Int, Int) = (1, 1),
                                  stride: (Int, Int) = (1, 1), padding: Conv2DPadding = .valid,
                                  outputSize: (height: Int, width: Int)? = nil) throws -> Conv2DGeometry {
        func fail(_ s: String) -> Conv2DError { Conv2DError(message: "transposedConv2d: " + s) }
        guard input.count == 4 else { throw fail("input must be [N, Cin, H, W], got \(input)") }
        guard weight.count == 4 else { throw fail("weight must be [Cin, Cout, KH, KW], got \(weight)") }
        guard input[0] >= 0, input[1...].allSatisfy({ $0 >= 1 }) else {
            throw fail("input \(input) needs at least one channel, row and column")
        }
        guard weight.allSatisfy({ $0 >= 1 }) else { throw fail("weight \(weight) has an empty dimension") }
        guard input[1] == weight[0] else {
            throw fail("input has \(input[1]) channels but weight \(weight) (Cin, Cout, KH, KW) expects \(weight[0])")
        }
        if let bias, bias != [weight[1]] {
            throw fail("bias must be [\(weight[1])] (one per output channel), got \(bias)")
        }
        guard stride.0 >= 1, stride.1 >= 1, dilation.0 >= 1, dilation.1 >= 1 else {
            throw fail("stride and dilation must be at least 1, got (\(stride.0), \(stride.1)) and (\(dilation.0), \(dilation.1))")
        }
        let pads: (Int, Int, Int, Int)
        switch padding {
        case .same:
            guard stride == (1, 1), weight[2] % 2 == 1, weight[3] % 2 == 1 else {
                throw fail(".same padding needs an odd kernel and stride 1; use .explicit(top:bottom:left:right:)")
            }
            pads = (dilation.0 * (weight[2] - 1) / 2, dilation.0 * (weight[2] - 1) / 2,
                    dilation.1 * (weight[3] - 1) / 2, dilation.1 * (weight[3] - 1) / 2)
        case let .explicit(top, bottom, left, right): pads = (top, bottom, left, right)
        }
        let size = outputSize ?? ((input[2] - 1) * stride.0 - pads.0 - pads.1 + dilation.0 * (weight[2] - 1) + 1,
                                  (input[3] - 1) * stride.1 - pads.2 - pads.3 + dilation.1 * (weight[3] - 1) + 1)
        guard size.height >= 1, size.width >= 1 else {
            throw fail("output would be \(size.height)×\(size.width) for the \(input[2])×\(input[3]) input")
        }
        let g: Conv2DGeometry
        do {
            g = try Conv2DGeometry(input: [input[0], weight[1], size.height, size.width], weight: weight,
                                   dilation: dilation, stride: stride, padding: padding)
        } catch let e as Conv2DError {
            throw fail("the \(size.height)×\(size.width) output does not fit: \(e.message)")
        }
        guard g.outHeight == input[2], g.outWidth == input[3] else {
            throw fail("a \(size.height)×\(size.width) output is not the adjoint of a \(input[2])×\(input[3]) input: "
                + "the strided convolution of \(size.height)×\(size.width) gives \(g.outHeight)×\(g.outWidth)")
        }
        return g
    }
}
