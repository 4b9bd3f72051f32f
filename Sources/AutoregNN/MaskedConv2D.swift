import AutoregTensor

/// A 2-D convolution layer on NCHW tensors, y = conv(x, W ⊙ M) + b, with an optional fixed
/// 0/1 mask M of the weight's shape [Cout, Cin, KH, KW] (PixelCNN's masks A and B, the
/// gated PixelCNN's vertical and horizontal stacks), a dilation, a stride and a padding.
///
/// Masked-out weights stay in `weight` (and in `parameterCount`, as in PyTorch
/// implementations) but never affect the output and never receive a gradient.
public final class MaskedConv2D: ParameterContainer {
    /// [Cout, Cin, KH, KW].
    public let weight: Tensor
    /// [Cout].
    public let bias: Tensor
    /// Fixed 0/1 mask of the weight's shape, or nil for a plain convolution.
    public let mask: Tensor?
    /// (rows, columns) between kernel taps.
    public let dilation: (Int, Int)
    /// (rows, columns) between output positions in the input: (1, 1), or (2, 2) to halve the image.
    public let stride: (Int, Int)
    public let padding: Conv2DPadding
    let prefix: String
    /// The layer's parameter prefix, e.g. "block1.vertical".
    public var name: String { prefix }

    /// PyTorch's default initialisation: weight and bias uniform in ±1/√(Cin·KH·KW).
    ///
    /// `initScale` multiplies the weights (PixelCNN++ starts the second convolution of each
    /// residual block at 0.1 so that the blocks begin near the identity).
    public init(inChannels: Int, outChannels: Int, kernel: (Int, Int), mask: Tensor? = nil,
                dilation: (Int, Int) = (1, 1), stride: (Int, Int) = (1, 1), padding: Conv2DPadding = .same,
                initScale: Float = 1, name: String, rng: inout RandomGenerator) {
        let fanIn = inChannels * kernel.0 * kernel.1
        let bound = 1 / Float(max(fanIn, 1)).squareRoot()
        weight = Tensor.uniform([outChannels, inChannels, kernel.0, kernel.1], low: -bound * initScale,
                                high: bound * initScale, rng: &rng, requiresGrad: true)
        bias = Tensor.uniform([outChannels], low: -bound, high: bound, rng: &rng, requiresGrad: true)
        if let mask {
            precondition(mask.shape == weight.shape, "mask \(mask.shape) differs from weight \(weight.shape)")
        }
        self.mask = mask
        self.dilation = dilation
        self.stride = stride
        self.padding = padding
        prefix = name
    }

    public var parameters: [(name: String, tensor: Tensor)] {
        [("\(prefix).weight", weight), ("\(prefix).bias", bias)]
    }

    /// x [N, Cin, H, W] → [N, Cout, H', W'] (H' = H, W' = W for `.same` padding).
    ///
    /// With `reluInput` the layer convolves max(x, 0) without storing it; with `residual`
    /// (of the output's shape) it returns residual + conv(x), in one buffer.
    public func callAsFunction(_ x: Tensor, reluInput: Bool = false, residual: Tensor? = nil) -> Tensor {
        Tensor.sumOfConvolutions([term(x, reluInput: reluInput)], plus: residual)
    }

    /// conv(x) plus row `row` of `map` [N, Cout, S, P] (P: the output's H'·W'), read in place
    /// (`Tensor.sumOfConvolutions(_:plusRow:of:)`): a recurrence's step adding its row of
    /// input-to-state terms without copying it out.
    public func callAsFunction(_ x: Tensor, plusRow row: Int, of map: Tensor) -> Tensor {
        Tensor.sumOfConvolutions([term(x)], plusRow: row, of: map)
    }

    /// This layer applied to `x` plus `other.layer` applied to `other.input`, summed in one
    /// output buffer (`Tensor.sumOfConvolutions`); both must give the same output shape.
    public func callAsFunction(_ x: Tensor, plus other: (layer: MaskedConv2D, input: Tensor)) -> Tensor {
        Tensor.sumOfConvolutions([term(x), other.layer.term(other.input)])
    }

    /// This layer's convolution of `x` (or of max(x, 0)) as a term of a sum.
    public func term(_ x: Tensor, reluInput: Bool = false) -> ConvolutionTerm {
        ConvolutionTerm(input: x, weight: weight, bias: bias, mask: mask, dilation: dilation, stride: stride, padding: padding,
                        reluInput: reluInput)
    }
}
