import CKernels
import Foundation

extension Tensor {
    /// Builds an elementwise op: `forward(x, y, n)` writes y = f(x); `derivative(x, y, g, gx, n)`
    /// adds g · f'(x) into gx.
    func unary(
        _ forward: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void,
        derivative: @escaping (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>,
                               UnsafeMutablePointer<Float>, Int) -> Void
    ) -> Tensor {
        let n = count
        let out = data.withUnsafeBufferPointer { x in makeArray(n) { forward(x.baseAddress!, $0, n) } }
        return Tensor(shape: shape, data: out, inputs: [self]) { result in
            self.data.withUnsafeBufferPointer { x in
                result.data.withUnsafeBufferPointer { y in
                    result.grad!.withUnsafeBufferPointer { g in
                        self.accumulateGrad { gx in
                            derivative(x.baseAddress!, y.baseAddress!, g.baseAddress!, gx, n)
                        }
                    }
                }
            }
        }
    }

    /// Logistic sigmoid 1 / (1 + e^-x).
    public func sigmoid() -> Tensor {
        unary({ ar_sigmoid($0, $1, $2) }) { _, y, g, gx, n in
            for i in 0..<n { gx[i] += g[i] * y[i] * (1 - y[i]) }
        }
    }

    /// Hyperbolic tangent.
    public func tanh() -> Tensor {
        unary({ ar_tanh($0, $1, $2) }) { _, y, g, gx, n in
            for i in 0..<n { gx[i] += g[i] * (1 - y[i] * y[i]) }
        }
    }

    /// max(x, 0).
    public func relu() -> Tensor {
        let x = self
        let out = data.withUnsafeBufferPointer { px in makeArray(count) { ar_relu(px.baseAddress!, $0, count) } }
        return Tensor(shape: shape, data: out, inputs: [x]) { result in
            x.data.withUnsafeBufferPointer { px in
                result.grad!.withUnsafeBufferPointer { g in
                    x.accumulateGrad { gx, initialized in
                        ar_relu_backward(px.baseAddress!, g.baseAddress!, gx, x.count, initialized ? 1 : 0)
                    }
                }
            }
        }
    }

    /// x for x > 0, alpha·(e^x − 1) otherwise.
    public func elu(alpha: Float = 1) -> Tensor {
        unary({ x, y, n in
            ar_exp(x, y, n)
            for i in 0..<n { y[i] = x[i] > 0 ? x[i] : alpha * (y[i] - 1) }
        }) { x, y, g, gx, n in ar_elu_backward(x, y, g, gx, alpha, n, 1) }
    }

    /// log(1 + e^x), stable for large |x|.
    public func softplus() -> Tensor {
        unary({ ar_softplus($0, $1, $2) }) { x, _, g, gx, n in
            let s = makeArray(n) { ar_sigmoid(x, $0, n) }
            for i in 0..<n { gx[i] += g[i] * s[i] }
        }
    }

    /// e^x.
    public func exp() -> Tensor {
        unary({ ar_exp($0, $1, $2) }) { _, y, g, gx, n in
            for i in 0..<n { gx[i] += g[i] * y[i] }
        }
    }

    /// Natural logarithm (inputs must be positive).
    public func log() -> Tensor {
        unary({ x, y, n in for i in 0..<n { y[i] = Foundation.log(x[i]) } }) { x, _, g, gx, n in
            for i in 0..<n { gx[i] += g[i] / x[i] }
        }
    }

    /// x · s for a constant s.
    public func scaled(by s: Float) -> Tensor {
        unary({ x, y, n in for i in 0..<n { y[i] = x[i] * s } }) { _, _, g, gx, n in
            for i in 0..<n { gx[i] += g[i] * s }
        }
    }

    /// x + s for a constant s.
    public func shifted(by s: Float) -> Tensor {
        unary({ x, y, n in for i in 0..<n { y[i] = x[i] + s } }) { _, _, g, gx, n in
            for i in 0..<n { gx[i] += g[i] }
        }
    }

    public static prefix func - (x: Tensor) -> Tensor { x.scaled(by: -1) }
    public static func * (x: Tensor, s: Float) -> Tensor { x.scaled(by: s) }
    public static func * (s: Float, x: Tensor) -> Tensor { x.scaled(by: s) }
    public static func + (x: Tensor, s: Float) -> Tensor { x.shifted(by: s) }
}
