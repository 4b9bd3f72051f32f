import AutoregTensor

/// A fully connected layer y = x · (W ⊙ M) + b with an optional fixed connectivity mask M.
public final class MaskedLinear: ParameterContainer {
    public let weight: Tensor
    public let bias: Tensor
    /// 0/1 mask of the weight's shape [inputs, outputs], or nil for a dense layer.
    public var mask: Tensor?
    let prefix: String

    public init(inputs: Int, outputs: Int, mask: Tensor? = nil, name: String, rng: inout RandomGenerator) {
        weight = Initializer.glorotUniform([inputs, outputs], fanIn: inputs, fanOut: outputs, rng: &rng)
        bias = Initializer.zeros([outputs])
        self.mask = mask
        prefix = name
    }

    public var parameters: [(name: String, tensor: Tensor)] {
        [("\(prefix).weight", weight), ("\(prefix).bias", bias)]
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.matmul(weight, mask: mask) + bias
    }
}
