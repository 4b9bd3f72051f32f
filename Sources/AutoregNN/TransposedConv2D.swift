import AutoregTensor

/// A transposed 2-D convolution layer on NCHW tensors (`Tensor.transposedConv2d`): with stride
/// (2, 2), the upsampling that reverses a strided `MaskedConv2D` of the same kernel and
/// padding. Weight [Cin, Cout, KH, KW] (PyTorch's layout), bias [Cout].
public final class TransposedConv2D: ParameterContainer {
    /// [Cin, Cout, KH, KW].
    public let weight: Tensor
    /// [Cout].
    public let bias: Tensor
    public let stride: (Int, Int)
    /// The padding of the convolution this layer reverses: what it crops from its output.
    public let padding: Conv2DPadding
    let prefix: String
    /// The layer's parameter prefix, e.g. "up0.u".
    public var name: String { prefix }

    /// Weight and bias uniform in ±1/√(Cin·KH·KW / (stride·stride)): each output receives about
    /// Cin·KH·KW / (sy·sx) products, as a convolution's does from its fan-in.
    public init(inChannels: Int, outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: Conv2DPadding = .valid, name: String, rng: inout RandomGenerator) {
        let fanIn = max(1, inChannels * kernel.0 * kernel.1 / max(1, stride.0 * stride.1))
        let bound = 1 / Float(fanIn).squareRoot()
        weight = Tensor.uniform([inChannels, outChannels, kernel.0, kernel.1], low: -bound, high: bound,
                                rng: &rng, requiresGrad: true)
        bias = Tensor.uniform([outChannels], low: -bound, high: bound, rng: &rng, requiresGrad: true)
        self.stride = stride
        self.padding = padding
        prefix = name
    }

    public var parameters: [(name: String, tensor: Tensor)] {
        [("\(prefix).weight", weight), ("\(prefix).bias", bias)]
    }

    /// x [N, Cin, h, w] → [N, Cout, H, W], (H, W) = `outputSize` (any size whose strided
    /// convolution gives h × w), or the smallest such size when nil.
    public func callAsFunction(_ x: Tensor, outputSize: (height: Int, width: Int)? = nil) -> Tensor {
        x.transposedConv2d(weight: weight, bias: bias, stride: stride, padding: padding, outputSize: outputSize)
    }
}
