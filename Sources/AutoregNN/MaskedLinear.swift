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

    /// Just the given output units for a batch x [B, inputs], without a tape: [B × columns.count].
    public func columns(_ columns: [Int], of x: Tensor) -> [Float] {
        let inputs = weight.shape[0], outputs = weight.shape[1], c = columns.count
        let batch = x.count / inputs
        var w = [Float](repeating: 0, count: inputs * c)
        for k in 0..<inputs {
            for (j, col) in columns.enumerated() {
                w[k * c + j] = weight.data[k * outputs + col] * (mask?.data[k * outputs + col] ?? 1)
            }
        }
        var y = [Float](repeating: 0, count: batch * c)
        for n in 0..<batch { for (j, col) in columns.enumerated() { y[n * c + j] = bias.data[col] } }
        x.data.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                Gemm.sgemm(m: batch, n: c, k: inputs, a: px.baseAddress!, b: w, beta: 1, c: py.baseAddress!)
            }
        }
        return y
    }
}
