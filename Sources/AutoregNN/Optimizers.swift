import AutoregTensor
import CKernels
import Foundation

/// Updates parameters from their accumulated gradients.
public protocol Optimizer: AnyObject {
    /// Learning rate used by the next `step`.
    var learningRate: Float { get set }
    /// L2 penalty coefficient λ: each step uses the gradient g + λ·w (PyTorch's coupled weight decay).
    var weightDecay: Float { get set }
    /// Applies one update to each parameter that has a gradient.
    func step(_ params: [Tensor])
    /// Internal state (moments, step count) for checkpoints.
    var state: OptimizerState { get }
    /// Restores state saved by `state`; throws if it does not match these parameters.
    func restore(_ state: OptimizerState, for params: [Tensor]) throws
}

/// Serializable optimiser state: a step count and named per-parameter buffers.
public struct OptimizerState: Codable {
    public var kind: String
    public var step: Int
    /// Buffers per slot ("m", "v", "velocity"), one array per parameter in order.
    public var slots: [String: [[Float]]]
    public init(kind: String, step: Int, slots: [String: [[Float]]]) {
        self.kind = kind; self.step = step; self.slots = slots
    }
}

public struct OptimizerError: Error, CustomStringConvertible {
    public let description: String
}

/// Adam (Kingma & Ba 2015) with bias correction.
public final class Adam: Optimizer {
    public var learningRate: Float
    public var weightDecay: Float = 0
    public let beta1: Float, beta2: Float, epsilon: Float
    private var m: [[Float]] = [], v: [[Float]] = []
    private var t = 0

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon
    }

    public func step(_ params: [Tensor]) {
        if m.isEmpty {
            m = params.map { [Float](repeating: 0, count: $0.count) }
            v = m
        }
        t += 1
        let c1 = 1 - Float(Foundation.pow(Double(beta1), Double(t)))
        let c2 = 1 - Float(Foundation.pow(Double(beta2), Double(t)))
        let stepSize = learningRate / c1
        let (b1, b2, eps, wd) = (beta1, beta2, epsilon, weightDecay)
        for (i, p) in params.enumerated() {
            guard let g = p.grad else { continue }
            m[i].withUnsafeMutableBufferPointer { mm in
                v[i].withUnsafeMutableBufferPointer { vv in
                    p.data.withUnsafeMutableBufferPointer { w in
                        ar_adam(w.baseAddress!, g, mm.baseAddress!, vv.baseAddress!, g.count,
                                stepSize, b1, b2, eps, wd, c2)
                    }
                }
            }
        }
    }

    public var state: OptimizerState { OptimizerState(kind: "adam", step: t, slots: ["m": m, "v": v]) }

    public func restore(_ state: OptimizerState, for params: [Tensor]) throws {
        guard state.kind == "adam", let m = state.slots["m"], let v = state.slots["v"] else {
            throw OptimizerError(description: "checkpoint holds \(state.kind) state, not adam")
        }
        if state.step > 0 {
            guard m.count == params.count, v.count == params.count,
                  zip(m, params).allSatisfy({ $0.count == $1.count }) else {
                throw OptimizerError(description: "adam state does not match the model's parameters")
            }
        }
        self.m = m; self.v = v; t = state.step
    }
}

/// Stochastic gradient descent with (optionally Nesterov-free) classical momentum.
public final class SGD: Optimizer {
    public var learningRate: Float
    public var weightDecay: Float = 0
    public let momentum: Float
    private var velocity: [[Float]] = []
    private var t = 0

    public init(learningRate: Float = 0.01, momentum: Float = 0.9) {
        self.learningRate = learningRate; self.momentum = momentum
    }

    public func step(_ params: [Tensor]) {
        if velocity.isEmpty { velocity = params.map { [Float](repeating: 0, count: $0.count) } }
        t += 1
        let (lr, mu, wd) = (learningRate, momentum, weightDecay)
        for (i, p) in params.enumerated() {
            guard let g = p.grad else { continue }
            velocity[i].withUnsafeMutableBufferPointer { vel in
                p.data.withUnsafeMutableBufferPointer { w in
                    for j in 0..<g.count {
                        vel[j] = mu * vel[j] + g[j] + wd * w[j]
                        w[j] -= lr * vel[j]
                    }
                }
            }
        }
    }

    public var state: OptimizerState { OptimizerState(kind: "sgd", step: t, slots: ["velocity": velocity]) }

    public func restore(_ state: OptimizerState, for params: [Tensor]) throws {
        guard state.kind == "sgd", let vel = state.slots["velocity"] else {
            throw OptimizerError(description: "checkpoint holds \(state.kind) state, not sgd")
        }
        if state.step > 0, vel.count != params.count {
            throw OptimizerError(description: "sgd state does not match the model's parameters")
        }
        velocity = vel; t = state.step
    }
}

/// Learning rate as a function of the epoch (0-based).
public enum LearningRateSchedule: Codable, Equatable, Sendable {
    case constant
    /// Multiply by `gamma` every `every` epochs.
    case step(every: Int, gamma: Float)
    /// Multiply by `gamma` every epoch.
    case exponential(gamma: Float)

    public func rate(base: Float, epoch: Int) -> Float {
        switch self {
        case .constant: return base
        case let .step(every, gamma): return base * Float(Foundation.pow(Double(gamma), Double(epoch / max(every, 1))))
        case let .exponential(gamma): return base * Float(Foundation.pow(Double(gamma), Double(epoch)))
        }
    }
}
