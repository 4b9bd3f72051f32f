/// A dense, row-major float32 tensor that records how it was computed, so that
/// `backward()` can propagate gradients to every tensor it depends on.
///
/// Leaves created with `requiresGrad: true` (parameters, or inputs whose gradient is
/// wanted) accumulate into `grad`; intermediate results free their tape when released.
public final class Tensor {
    /// Sizes of each dimension, outermost first.
    public let shape: [Int]
    /// Values in row-major order; `data.count == shape.reduce(1, *)`.
    public var data: [Float]
    /// Accumulated dL/dself after `backward()`, or nil if nothing reached this tensor.
    public var grad: [Float]?
    /// True when gradients flow into or through this tensor.
    public let requiresGrad: Bool
    /// Optional label used in checkpoints and error messages.
    public var name: String?

    let inputs: [Tensor]
    /// Reads `self.grad` and accumulates each input's gradient (the op's vector-Jacobian product).
    let pullback: ((Tensor) -> Void)?

    /// A leaf tensor holding `data` with the given `shape`.
    public init(shape: [Int], data: [Float], requiresGrad: Bool = false, name: String? = nil) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        precondition(shape.reduce(1, *) == data.count,
                     "shape \(shape) needs \(shape.reduce(1, *)) values, got \(data.count)")
        self.shape = shape
        self.data = data
        self.requiresGrad = requiresGrad
        self.name = name
        self.inputs = []
        self.pullback = nil
    }

    /// An op result: the way to define a new differentiable op. `pullback` receives the
    /// result (whose `grad` is set) and must add each input's vector-Jacobian product with
    /// `accumulateGrad`. It is kept only if some input takes part in differentiation.
    public init(shape: [Int], data: [Float], inputs: [Tensor], pullback: @escaping (Tensor) -> Void) {
        self.shape = shape
        self.data = data
        let tracked = GradMode.isEnabled && inputs.contains { $0.requiresGrad }
        self.requiresGrad = tracked
        self.inputs = tracked ? inputs : []
        self.pullback = tracked ? pullback : nil
        self.name = nil
    }

    /// Number of elements.
    public var count: Int { data.count }
    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// The single value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item needs a one-element tensor, shape is \(shape)")
        return data[0]
    }

    /// A constant tensor filled with `value`.
    public convenience init(repeating value: Float, shape: [Int], requiresGrad: Bool = false) {
        self.init(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)),
                  requiresGrad: requiresGrad)
    }

    /// A constant scalar (shape `[]`).
    public convenience init(_ value: Float) {
        self.init(shape: [], data: [value])
    }

    /// Zeros the accumulated gradient (keeps the buffer).
    public func zeroGrad() {
        if grad != nil { grad!.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
    }

    /// The same values with a new shape of equal element count (differentiable).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var newShape = newShape
        if let hole = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != hole }.map(\.element).reduce(1, *)
            newShape[hole] = known == 0 ? 0 : count / known
        }
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(shape: newShape, data: data, inputs: [self]) { out in
            self.accumulateGrad(out.grad!)
        }
    }

    /// A copy that does not take part in differentiation.
    public func detached() -> Tensor { Tensor(shape: shape, data: data) }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = data.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(head)\(count > 8 ? ", ..." : "")])"
    }
}

/// Allocates an array of `count` floats and lets `body` fill every element.
@inline(__always)
public func makeArray(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buf, n in
        if count > 0 { body(buf.baseAddress!) }
        n = count
    }
}
