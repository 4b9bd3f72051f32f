import AutoregTensor

/// Anything with trainable tensors, listed in a stable order under stable names
/// (the order optimisers and checkpoints rely on).
public protocol ParameterContainer: AnyObject {
    /// Named trainable tensors, always in the same order.
    var parameters: [(name: String, tensor: Tensor)] { get }
}

extension ParameterContainer {
    /// Total number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.tensor.count } }

    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in parameters { p.tensor.zeroGrad() } }
}

/// Weight initialisers.
public enum Initializer {
    /// Uniform(−b, b) with b = sqrt(6 / (fanIn + fanOut)) (Glorot & Bengio 2010).
    public static func glorotUniform(_ shape: [Int], fanIn: Int, fanOut: Int,
                                     rng: inout RandomGenerator) -> Tensor {
        let bound = (6 / Float(max(fanIn + fanOut, 1))).squareRoot()
        return Tensor.uniform(shape, low: -bound, high: bound, rng: &rng, requiresGrad: true)
    }

    /// Zeros, trainable.
    public static func zeros(_ shape: [Int]) -> Tensor {
        Tensor(repeating: 0, shape: shape, requiresGrad: true)
    }
}

/// Global L2 norm of all gradients, and rescaling so that it is at most `maxNorm`.
/// Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ params: [Tensor], maxNorm: Float) -> Float {
    var total: Double = 0
    for p in params { if let g = p.grad { for v in g { total += Double(v) * Double(v) } } }
    let norm = Float(total.squareRoot())
    if norm > maxNorm, norm.isFinite {
        let scale = maxNorm / norm
        for p in params where p.grad != nil {
            p.grad!.withUnsafeMutableBufferPointer { g in for i in 0..<g.count { g[i] *= scale } }
        }
    }
    return norm
}
