import AutoregNN
import AutoregTensor

/// How 8-bit data becomes binary for Bernoulli models.
public enum Binarization: String, Codable, CaseIterable, Sendable {
    /// Keep the data as it is (binary data for binary models, 8-bit for categorical ones).
    case none
    /// Threshold at 0.5 once.
    case fixed
    /// Draw each pixel ~ Bernoulli(value/255) afresh for every minibatch; evaluation uses one
    /// such draw per split with a fixed seed (see `loadSplit`).
    case dynamic
}

/// The optimisers a run can use.
public enum OptimizerKind: String, Codable, CaseIterable, Sendable, CustomStringConvertible {
    /// Adam (Kingma & Ba 2015) with the usual β₁ = 0.9, β₂ = 0.999.
    case adam
    /// Stochastic gradient descent with momentum.
    case sgd

    public var description: String { rawValue }

    /// Decodes the raw value; an unknown one is an error that lists the known ones.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let kind = OptimizerKind(rawValue: raw) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "optimizer must be "
                + OptimizerKind.allCases.map(\.rawValue).joined(separator: " or ") + ", got \(raw)")
        }
        self = kind
    }
}

/// Settings of a training run (saved in checkpoints so a run can resume).
public struct TrainingOptions: Codable, Sendable {
    public var dataset: String = "binarized-mnist"
    public var dataDirectory: String?
    public var binarization: Binarization = .none
    public var batchSize: Int = 100
    public var epochs: Int = 10
    public var learningRate: Float = 1e-3
    public var optimizer: OptimizerKind = .adam
    public var momentum: Float = 0.9
    /// L2 penalty on all parameters (0: none).
    public var weightDecay: Float = 0
    public var schedule: LearningRateSchedule = .constant
    /// Rescale gradients whose global norm exceeds this (nil: no clipping).
    public var clipNorm: Float?
    public var seed: UInt64 = 0
    /// Stop (after checkpointing) once this much wall time has been spent in this invocation.
    public var maxMinutes: Double?
    /// Use only the first N training images (nil: all).
    public var trainLimit: Int?
    /// Use only the first N validation images (nil: all).
    public var validLimit: Int?
    /// Train on the training and validation splits together (for a final model whose
    /// settings were chosen on validation); the validation NLL is then no longer held out.
    public var includeValidation: Bool = false
    /// MADE: masks averaged when evaluating (nil: all of the model's masks).
    public var evalMasks: Int?
    /// Minutes between mid-epoch checkpoints.
    public var checkpointMinutes: Double = 5
    /// Polyak averaging: keep an exponential moving average of the weights with this decay
    /// (e.g. 0.999); validation, `best.ckpt` and testing then use the average (nil: off).
    public var emaDecay: Float?
    /// Dropout rate in training steps (0: none). Only the convolutional models have dropout
    /// layers; evaluation never drops anything.
    public var dropout: Float = 0
    /// The checkpoint whose weights the run started from (train --init-from), for the record.
    public var initializedFrom: String?
    public var evalBatchSize: Int = 500
    /// Folder for checkpoints (`last.ckpt`, `best.ckpt`) and `metrics.jsonl`.
    public var outputDirectory: String = "runs/default"

    public init() {}

    /// Rejects settings that cannot work, with a readable reason.
    public func validate() throws {
        func fail(_ s: String) throws -> Never { throw TrainingError(description: s) }
        if batchSize < 1 { try fail("batch size must be at least 1, got \(batchSize)") }
        if epochs < 0 { try fail("epochs must not be negative, got \(epochs)") }
        if !(learningRate > 0 && learningRate.isFinite) { try fail("learning rate must be a positive number, got \(learningRate)") }
        if !(momentum >= 0 && momentum.isFinite) { try fail("momentum must be a number of at least 0, got \(momentum)") }
        if let c = clipNorm, !(c > 0 && c.isFinite) { try fail("clip norm must be a positive number, got \(c)") }
        if let m = maxMinutes, !(m > 0 && m.isFinite) { try fail("max minutes must be a positive number, got \(m)") }
        if !(checkpointMinutes > 0 && checkpointMinutes.isFinite) { try fail("checkpoint interval must be a positive number of minutes, got \(checkpointMinutes)") }
        if let n = evalMasks, n < 1 { try fail("eval masks must be at least 1, got \(n)") }
        if let n = trainLimit, n < 1 { try fail("train limit must be at least 1, got \(n)") }
        if let n = validLimit, n < 1 { try fail("valid limit must be at least 1, got \(n)") }
        if evalBatchSize < 1 { try fail("eval batch size must be at least 1") }
        if let d = emaDecay, !(d > 0 && d < 1) { try fail("weight-averaging decay must lie strictly between 0 and 1, got \(d)") }
        if !(weightDecay >= 0 && weightDecay.isFinite) { try fail("weight decay must be a number of at least 0, got \(weightDecay)") }
        if !(dropout >= 0 && dropout < 1) { try fail("dropout rate must lie in [0, 1), got \(dropout)") }
    }

    public func makeOptimizer() -> any Optimizer {
        let opt: any Optimizer = optimizer == .sgd ? SGD(learningRate: learningRate, momentum: momentum)
                                                    : Adam(learningRate: learningRate)
        opt.weightDecay = weightDecay
        return opt
    }
}

/// Where a run stands: enough to resume it exactly.
public struct TrainingState: Codable, Sendable {
    public var options: TrainingOptions
    /// Epochs fully completed.
    public var epoch: Int = 0
    /// Minibatches done in the current epoch.
    public var stepInEpoch: Int = 0
    /// Minibatches done in all.
    public var step: Int = 0
    /// Generator state at the start of the current epoch (it draws the epoch's order).
    public var shuffleRNG: RandomGenerator
    /// Generator for dynamic binarisation, as of the checkpoint.
    public var noiseRNG: RandomGenerator
    public var bestValidNLL: Float?
    public var bestEpoch: Int?
    /// Wall time spent training so far, over all invocations.
    public var elapsedSeconds: Double = 0
    /// MADE: the active mask at the checkpoint.
    public var activeMask: Int = 0
    /// Sum of per-image training losses and images seen so far in the current epoch.
    public var epochLossSum: Double = 0
    public var epochImages: Int = 0
    /// Updates made to the weight average so far (its warm-up depends on it).
    public var emaUpdates: Int = 0

    public init(options: TrainingOptions) {
        self.options = options
        shuffleRNG = RandomGenerator(seed: options.seed &+ 0x5348_5546)
        noiseRNG = RandomGenerator(seed: options.seed &+ 0x4E4F_4953)
    }
}

/// Settings or data that a run cannot use.
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

extension TrainingOptions {
    /// Missing keys (options added after a checkpoint was written) take their defaults.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func get<T: Decodable>(_ k: CodingKeys, _ v: inout T) throws { if let x = try c.decodeIfPresent(T.self, forKey: k) { v = x } }
        try get(.dataset, &dataset); try get(.dataDirectory, &dataDirectory); try get(.binarization, &binarization)
        try get(.batchSize, &batchSize); try get(.epochs, &epochs); try get(.learningRate, &learningRate)
        try get(.optimizer, &optimizer); try get(.momentum, &momentum); try get(.weightDecay, &weightDecay)
        try get(.schedule, &schedule); try get(.clipNorm, &clipNorm); try get(.seed, &seed)
        try get(.maxMinutes, &maxMinutes); try get(.trainLimit, &trainLimit); try get(.validLimit, &validLimit)
        try get(.evalMasks, &evalMasks); try get(.includeValidation, &includeValidation); try get(.checkpointMinutes, &checkpointMinutes)
        try get(.evalBatchSize, &evalBatchSize); try get(.outputDirectory, &outputDirectory); try get(.emaDecay, &emaDecay)
        try get(.dropout, &dropout); try get(.initializedFrom, &initializedFrom)
    }
}

extension TrainingState {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(options: try c.decode(TrainingOptions.self, forKey: .options))
        func get<T: Decodable>(_ k: CodingKeys, _ v: inout T) throws { if let x = try c.decodeIfPresent(T.self, forKey: k) { v = x } }
        try get(.epoch, &epoch); try get(.stepInEpoch, &stepInEpoch); try get(.step, &step)
        try get(.shuffleRNG, &shuffleRNG); try get(.noiseRNG, &noiseRNG); try get(.bestValidNLL, &bestValidNLL)
        try get(.bestEpoch, &bestEpoch); try get(.elapsedSeconds, &elapsedSeconds); try get(.activeMask, &activeMask)
        try get(.epochLossSum, &epochLossSum); try get(.epochImages, &epochImages); try get(.emaUpdates, &emaUpdates)
    }
}
