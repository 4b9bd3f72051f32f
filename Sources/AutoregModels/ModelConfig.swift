import AutoregTensor
import Foundation

/// How the pixels are ordered for the chain rule.
public enum PixelOrdering: String, Codable, CaseIterable, Sendable {
    /// Raster order: row by row, left to right.
    case natural
    /// A random permutation drawn from the model's seed (per mask for MADE).
    case random
}

/// Everything needed to rebuild a model (weights come from a checkpoint): the image it
/// models, the output distribution, the conditioning and seed every model shares, and the
/// model's own `options`.
public struct ModelConfig: Sendable {
    public var kind: ModelKind
    public var height: Int
    public var width: Int
    public var channels: Int
    /// The distribution of each sub-pixel (Bernoulli for binary pixels, categorical for 8-bit).
    public var output: PixelDistribution
    /// Number of classes the model is conditioned on (0: unconditional).
    public var classes: Int
    /// Seeds the initial weights, orderings and masks.
    public var seed: UInt64
    /// The model's own options: an instance of `kind.optionsType`.
    public var options: any ModelOptions

    /// A configuration of a `kind` model; `options` nil takes the model's defaults.
    public init(kind: ModelKind, height: Int, width: Int, channels: Int = 1, output: PixelDistribution = .bernoulli,
                classes: Int = 0, seed: UInt64 = 0, options: (any ModelOptions)?) {
        self.kind = kind
        (self.height, self.width, self.channels) = (height, width, channels)
        self.output = output
        self.classes = classes
        self.seed = seed
        self.options = options ?? kind.optionsType.init()
    }

    /// Pixel values the model covers: 2 (binary) or 256 (8-bit); the depth data must have.
    public var levels: Int { output.levels }

    /// Number of sub-pixels per image.
    public var dimension: Int { height * width * channels }

    /// The options as the model's own type; throws when they belong to another model.
    public func options<T: ModelOptions>(as type: T.Type) throws -> T {
        guard let o = options as? T else {
            throw ModelError(description: "\(kind) options expected, got \(Swift.type(of: options))")
        }
        return o
    }

    /// Largest image side a model accepts (an image of 4096x4096 sub-pixels already needs
    /// gigabytes per layer).
    public static let maxSide = 4096
    /// Bound on every size field (hidden units, channels, layers, kernels, dilations, classes),
    /// checked first; the memory estimate that follows (in floating point) refuses any model
    /// whose sizes could overflow an integer product.
    public static let maxSizeField = 1 << 40

    /// Checks that the combination is one the model supports; throws a readable reason.
    public func validate() throws {
        func fail(_ s: String) throws -> Never { throw ModelError(description: s) }
        guard type(of: options) == kind.optionsType else {
            try fail("\(kind) needs \(kind.optionsType) options, got \(type(of: options))")
        }
        if height < 1 || width < 1 || channels < 1 { try fail("image size \(height)x\(width)x\(channels) is empty") }
        // Bounds first, so that the products below cannot overflow.
        if height > ModelConfig.maxSide || width > ModelConfig.maxSide || channels > 4 {
            try fail("image size \(height)x\(width)x\(channels) (height x width x channels) is beyond what Autoreg models "
                + "(sides up to \(ModelConfig.maxSide), 1 to 4 channels)")
        }
        let sizes = [("classes", classes)] + options.sizes
        if let big = sizes.first(where: { $0.1 > ModelConfig.maxSizeField || $0.1 < -ModelConfig.maxSizeField }) {
            try fail("\(kind): \(big.0) \(big.1) is implausibly large (at most \(ModelConfig.maxSizeField))")
        }
        if sizes.count > 4096 { try fail("\(kind): \(sizes.count) size fields is implausibly many") }
        if levels != 2 && levels != 256 { try fail("levels must be 2 (binary) or 256 (8-bit), got \(levels)") }
        // A mixture head gives each sub-pixel its own mixture given everything before it (for
        // colour, the earlier channels of its pixel too), as a categorical head does.
        if output.mixture == nil && output != .forLevels(levels) {
            try fail("\(output) is not an output Autoreg models")
        }
        if levels != 2 && !kind.supportsCategorical {
            try fail("\(kind) models binary pixels only (levels 2); \(ModelKind.names(where: \.supportsCategorical)) "
                + "also model 8-bit pixels")
        }
        if classes < 0 { try fail("classes must not be negative, got \(classes)") }
        if classes != 0 && !kind.isConditional {
            try fail("class conditioning (classes \(classes)) is a \(ModelKind.names(where: \.isConditional)) option, not \(kind)")
        }
        try options.validate(for: self)
        do {
            try Allocator.require(bytes: estimatedTrainingBytes,
                                  for: "a \(kind) with these sizes (about \(String(format: "%.3g", estimatedParameterCount)) parameters)")
        } catch { try fail("\(error)") }
    }

    /// An upper estimate of the number of parameters, from the configuration alone (no
    /// allocation; in floating point, so that absurd sizes cannot overflow).
    public var estimatedParameterCount: Double { options.estimatedParameterCount(for: self) }

    /// An upper estimate of the activation memory for `images` images in one pass: logits
    /// and hidden layers, and in `training` the tape's copies of them for the backward pass.
    public func estimatedActivationBytes(images: Int, training: Bool) -> Double {
        4 * options.estimatedActivations(for: self, training: training) * Double(images) * (training ? 2 : 1)
    }

    /// About the bytes training needs for the parameters alone: weights, gradients, two Adam
    /// moments and a weight average, and what the model keeps per parameter besides.
    public var estimatedTrainingBytes: Double {
        estimatedParameterCount * 4 * (5 + options.extraCopiesPerParameter)
    }
}

extension ModelConfig: Equatable {
    public static func == (a: ModelConfig, b: ModelConfig) -> Bool {
        (a.kind, a.height, a.width, a.channels) == (b.kind, b.height, b.width, b.channels)
            && (a.output, a.classes, a.seed) == (b.output, b.classes, b.seed) && a.options.isEqual(to: b.options)
    }
}

extension ModelConfig: Codable {
    private enum CodingKeys: String, CodingKey {
        case kind, height, width, channels, output, classes, seed, options
    }

    /// Decodes the structured form, or the flat form of format 1 and 2 checkpoints (no
    /// `options` key; see `LegacyModelConfig`).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard c.contains(.options) else {
            try self.init(legacy: try LegacyModelConfig(from: decoder))
            return
        }
        let kind = try c.decode(ModelKind.self, forKey: .kind)
        self.init(kind: kind, height: try c.decode(Int.self, forKey: .height), width: try c.decode(Int.self, forKey: .width),
                  channels: try c.decode(Int.self, forKey: .channels),
                  output: try c.decode(PixelDistribution.self, forKey: .output),
                  classes: try c.decode(Int.self, forKey: .classes), seed: try c.decode(UInt64.self, forKey: .seed),
                  options: try kind.optionsType.init(from: c.superDecoder(forKey: .options)))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(height, forKey: .height)
        try c.encode(width, forKey: .width)
        try c.encode(channels, forKey: .channels)
        try c.encode(output, forKey: .output)
        try c.encode(classes, forKey: .classes)
        try c.encode(seed, forKey: .seed)
        try options.encode(to: c.superEncoder(forKey: .options))
    }
}

extension ModelConfig: CustomStringConvertible {
    /// "gated-pixelcnn 28x28x1, 256-way softmax outputs, channels 64, layers 7, ...".
    public var description: String {
        "\(kind) \(height)x\(width)x\(channels), \(output.summary)" + (classes > 0 ? ", \(classes) classes" : "")
            + ", \(options)"
    }
}

/// A configuration or input a model cannot accept.
public struct ModelError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}
