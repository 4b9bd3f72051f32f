import Foundation

/// A model's own options (hidden sizes, layers, kernels, ...): a small `Codable` struct next
/// to the model's code, stored in `ModelConfig.options` and in checkpoints.
///
/// The shared parts of a configuration (image size, output distribution, classes, seed) are
/// in `ModelConfig`; these are what only this model reads. `init()` gives the model's defaults.
public protocol ModelOptions: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The model's defaults.
    init()
    /// The options of a configuration in the flat form of Autoreg's first checkpoints
    /// (format 1 and 2 files); throws when it sets a field this model does not have.
    init(legacy: LegacyModelConfig) throws
    /// Throws a `ModelError` with a readable reason when these options do not fit `config`
    /// (its image size, output and classes). Sizes are already known to be in bounds.
    func validate(for config: ModelConfig) throws
    /// The size fields by name, bounded by `ModelConfig.maxSizeField` before anything else is
    /// checked, so that no product of them can overflow.
    var sizes: [(name: String, value: Int)] { get }
    /// An upper estimate of the parameter count for `config`, in floating point so that absurd
    /// sizes cannot overflow.
    func estimatedParameterCount(for config: ModelConfig) -> Double
    /// An upper estimate of the floats one image keeps alive in a forward pass (`training`: and
    /// the tape's copies for the backward pass).
    func estimatedActivations(for config: ModelConfig, training: Bool) -> Double
    /// Float copies per parameter that training keeps beyond weights, gradients, two Adam
    /// moments and a weight average (MADE: one 0/1 mask per weight and mask set).
    var extraCopiesPerParameter: Double { get }
}

extension ModelOptions {
    /// A model without options of its own accepts no flat field.
    public init(legacy: LegacyModelConfig) throws {
        try legacy.requireUnset(except: [])
        self.init()
    }
    public var extraCopiesPerParameter: Double { 0 }

    /// A dense model's activations: its logits, the hidden layers (and their tape copies).
    public func estimatedActivations(for config: ModelConfig, training: Bool) -> Double {
        let d = Double(config.dimension), out = Double(config.output.width)
        let hidden = sizes.filter { $0.name.hasPrefix("hidden") }.reduce(0.0) { $0 + Double($1.value) }
        return d * out * 2 + hidden * (training ? 4 : 2) + d
    }

    /// Whether `other` holds the same options of the same type.
    public func isEqual(to other: any ModelOptions) -> Bool { (other as? Self) == self }

    /// "name value" pairs of `sizes`, for descriptions.
    func describeSizes(_ sizes: [(name: String, value: Int)]) -> String {
        sizes.map { "\($0.name) \($0.value)" }.joined(separator: ", ")
    }
}

/// Options of a model that has none of its own.
public struct NoOptions: ModelOptions {
    public init() {}
    public func validate(for config: ModelConfig) throws {}
    public var sizes: [(name: String, value: Int)] { [] }
    public func estimatedParameterCount(for config: ModelConfig) -> Double { 0 }
    public var description: String { "no options" }
}
