import AutoregTensor

/// Polyak averaging of the weights, as PixelCNN++ uses: after every step
/// `average ← β·average + (1 − β)·weights` with `β = min(decay, (1 + n) / (10 + n))` after n
/// earlier updates, so that the first updates do not lean on the starting weights. The
/// average is evaluated in place of the weights, which keep training unchanged.
public struct WeightAverage {
    /// The optimiser-state slot of `last.ckpt` that holds the average.
    public static let checkpointSlot = "weight-average"

    public let decay: Float
    /// The averaged values, one array per parameter tensor.
    public private(set) var values: [[Float]]

    /// Starts the average at the current weights.
    public init(decay: Float, startingAt params: [Tensor]) {
        self.decay = decay
        values = params.map(\.data)
    }

    /// Continues a saved average; throws if it does not fit the parameters.
    public init(decay: Float, values: [[Float]], for params: [Tensor]) throws {
        guard values.count == params.count, zip(values, params).allSatisfy({ $0.count == $1.count }) else {
            throw TrainingError(description: "the saved weight average does not match the model's parameters")
        }
        self.decay = decay
        self.values = values
    }

    /// The factor β for the update after `n` earlier ones.
    public func beta(after n: Int) -> Float { min(decay, Float(1 + n) / Float(10 + n)) }

    /// Folds the current weights into the average (`n`: updates made before this one).
    public mutating func update(_ params: [Tensor], after n: Int) {
        let b = beta(after: n), a = 1 - b
        for (i, p) in params.enumerated() {
            p.data.withUnsafeBufferPointer { w in
                values[i].withUnsafeMutableBufferPointer { avg in
                    for j in 0..<avg.count { avg[j] = b * avg[j] + a * w[j] }
                }
            }
        }
    }

    /// Runs `body` with the averaged values in `params`, then puts the trained weights back.
    public func withAveragedWeights<T>(_ params: [Tensor], _ body: () throws -> T) rethrows -> T {
        let trained = params.map(\.data)
        for (p, v) in zip(params, values) { p.data = v }
        defer { for (p, w) in zip(params, trained) { p.data = w } }
        return try body()
    }
}

extension Checkpoint {
    /// The Polyak average saved with a run's `last.ckpt` (`train --ema`), if any.
    public var weightAverage: [[Float]]? { optimizer?.slots[WeightAverage.checkpointSlot] }

    /// This checkpoint with the saved weight average as its parameters; throws if it has none.
    public func withAveragedWeights(path: String) throws -> Checkpoint {
        guard let average = weightAverage else {
            throw CheckpointError(path: path, reason: "holds no weight average (only last.ckpt of a run trained with --ema does)")
        }
        guard average.count == parameters.count, zip(average, parameters).allSatisfy({ $0.count == $1.values.count }) else {
            throw CheckpointError(path: path, reason: "its weight average does not match its parameters")
        }
        var copy = self
        for i in copy.parameters.indices { copy.parameters[i].values = average[i] }
        return copy
    }
}
