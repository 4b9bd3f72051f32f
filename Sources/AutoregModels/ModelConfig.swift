import AutoregTensor
import Foundation

/// The architectures Autoreg implements.
public enum ModelKind: String, Codable, CaseIterable, Sendable {
    case fvsbn, nade, made
    /// PixelCNN (van den Oord et al. 2016, "Pixel Recurrent Neural Networks").
    case pixelcnn
    /// Gated PixelCNN ("Conditional Image Generation with PixelCNN Decoders").
    case gatedPixelCNN = "gated-pixelcnn"

    /// Convolutional models (PixelCNN, Gated PixelCNN): they use the `hiddenChannels`,
    /// `layers`, `kernelSize`, `firstKernelSize` and `dilations` fields.
    public var isConvolutional: Bool { self == .pixelcnn || self == .gatedPixelCNN }

    /// Models whose training steps apply dropout (`Tensor.dropout()` in their forward pass).
    public var hasDropout: Bool { isConvolutional }

    /// The names of the models with dropout, for messages: "pixelcnn and gated-pixelcnn".
    public static var withDropout: String {
        let names = allCases.filter(\.hasDropout).map(\.rawValue)
        return names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " and " + names.last!
    }
}

/// How the pixels are ordered for the chain rule.
public enum PixelOrdering: String, Codable, CaseIterable, Sendable {
    /// Raster order: row by row, left to right.
    case natural
    /// A random permutation drawn from the model's seed (per mask for MADE).
    case random
}

/// Everything needed to rebuild a model (weights come from a checkpoint).
public struct ModelConfig: Codable, Equatable, Sendable {
    public var kind: ModelKind
    public var height: Int
    public var width: Int
    public var channels: Int
    /// 2 for binary pixels (Bernoulli outputs), 256 for 8-bit pixels (categorical outputs).
    public var levels: Int
    /// Hidden layer sizes (NADE: one; MADE: one or two; FVSBN: none).
    public var hidden: [Int]
    /// MADE: number of connectivity masks trained over (1 = a single fixed mask).
    public var masks: Int
    public var ordering: PixelOrdering
    /// MADE: add direct input→output autoregressive connections.
    public var directConnections: Bool
    /// Seeds the initial weights, orderings and masks.
    public var seed: UInt64
    /// Convolutional models: feature maps per layer (PixelCNN: the residual stream, 2h in
    /// the PixelRNN paper; Gated PixelCNN: each stack). 0 for the dense models.
    public var hiddenChannels: Int
    /// PixelCNN: residual blocks; Gated PixelCNN: gated blocks. 0 for the dense models.
    public var layers: Int
    /// Convolutional models: the k of the k×k mask-B (PixelCNN) or k×k vertical and 1×k
    /// horizontal (Gated PixelCNN) kernels; odd. 0 for the dense models.
    public var kernelSize: Int
    /// PixelCNN: the first, mask-A kernel (7 in the paper); odd. 0 for the other models.
    public var firstKernelSize: Int
    /// Convolutional models: one dilation per block (Gated PixelCNN default 1,2,1,4,1,2,1;
    /// PixelCNN default all 1). Empty for the dense models.
    public var dilations: [Int]
    /// Gated PixelCNN: number of classes for the class-conditional bias (0 = unconditional).
    public var classes: Int

    /// Fields left nil take the kind's defaults (`defaultHidden`, `defaultHiddenChannels`, ...);
    /// `dilations` defaults to the kind's pattern cut or repeated to `layers` entries.
    public init(kind: ModelKind, height: Int, width: Int, channels: Int = 1, levels: Int = 2,
                hidden: [Int]? = nil, masks: Int = 1, ordering: PixelOrdering = .natural,
                directConnections: Bool = false, seed: UInt64 = 0,
                hiddenChannels: Int? = nil, layers: Int? = nil, kernelSize: Int? = nil,
                firstKernelSize: Int? = nil, dilations: [Int]? = nil, classes: Int = 0) {
        self.kind = kind
        self.height = height; self.width = width; self.channels = channels
        self.levels = levels
        self.hidden = hidden ?? ModelConfig.defaultHidden(kind)
        self.masks = masks
        self.ordering = ordering
        self.directConnections = directConnections
        self.seed = seed
        self.hiddenChannels = hiddenChannels ?? ModelConfig.defaultHiddenChannels(kind)
        let layers = layers ?? ModelConfig.defaultLayers(kind)
        self.layers = layers
        self.kernelSize = kernelSize ?? ModelConfig.defaultKernelSize(kind)
        self.firstKernelSize = firstKernelSize ?? ModelConfig.defaultFirstKernelSize(kind)
        self.dilations = dilations ?? ModelConfig.defaultDilations(kind, layers: layers)
        self.classes = classes
    }

    private enum CodingKeys: String, CodingKey {
        case kind, height, width, channels, levels, hidden, masks, ordering, directConnections, seed
        case hiddenChannels, layers, kernelSize, firstKernelSize, dilations, classes
    }

    /// Decodes configurations written before the convolutional fields existed: absent
    /// fields take the kind's defaults, so older checkpoints still load.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try c.decode(ModelKind.self, forKey: .kind)
        self.init(kind: kind, height: try c.decode(Int.self, forKey: .height),
                  width: try c.decode(Int.self, forKey: .width),
                  channels: try c.decodeIfPresent(Int.self, forKey: .channels) ?? 1,
                  levels: try c.decodeIfPresent(Int.self, forKey: .levels) ?? 2,
                  hidden: try c.decodeIfPresent([Int].self, forKey: .hidden),
                  masks: try c.decodeIfPresent(Int.self, forKey: .masks) ?? 1,
                  ordering: try c.decodeIfPresent(PixelOrdering.self, forKey: .ordering) ?? .natural,
                  directConnections: try c.decodeIfPresent(Bool.self, forKey: .directConnections) ?? false,
                  seed: try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 0,
                  hiddenChannels: try c.decodeIfPresent(Int.self, forKey: .hiddenChannels),
                  layers: try c.decodeIfPresent(Int.self, forKey: .layers),
                  kernelSize: try c.decodeIfPresent(Int.self, forKey: .kernelSize),
                  firstKernelSize: try c.decodeIfPresent(Int.self, forKey: .firstKernelSize),
                  dilations: try c.decodeIfPresent([Int].self, forKey: .dilations),
                  classes: try c.decodeIfPresent(Int.self, forKey: .classes) ?? 0)
    }

    /// Largest image side a model accepts (an image of 4096x4096 sub-pixels already needs
    /// gigabytes per layer).
    public static let maxSide = 4096

    /// Number of sub-pixels per image.
    public var dimension: Int { height * width * channels }

    public static func defaultHidden(_ kind: ModelKind) -> [Int] {
        switch kind {
        case .fvsbn: return []
        case .nade, .made: return [500]
        case .pixelcnn, .gatedPixelCNN: return []
        }
    }

    /// PixelCNN: 64 (a 64-wide residual stream with 32-wide bottlenecks); Gated PixelCNN: 64
    /// (the UvA deep-learning tutorial's size); 0 for the dense models.
    public static func defaultHiddenChannels(_ kind: ModelKind) -> Int { kind.isConvolutional ? 64 : 0 }

    /// PixelCNN: 15 residual blocks (as the PixelRNN paper's PixelCNN); Gated PixelCNN: 7.
    public static func defaultLayers(_ kind: ModelKind) -> Int {
        switch kind {
        case .pixelcnn: return 15
        case .gatedPixelCNN: return 7
        default: return 0
        }
    }

    /// 3 for the convolutional models, 0 otherwise.
    public static func defaultKernelSize(_ kind: ModelKind) -> Int { kind.isConvolutional ? 3 : 0 }

    /// PixelCNN's first (mask-A) kernel: 7. 0 for the other models.
    public static func defaultFirstKernelSize(_ kind: ModelKind) -> Int { kind == .pixelcnn ? 7 : 0 }

    /// The Gated PixelCNN's 1,2,1,4,1,2,1, repeated or cut to `layers` entries; all 1 for
    /// PixelCNN; empty for the dense models.
    public static func defaultDilations(_ kind: ModelKind, layers: Int) -> [Int] {
        let n = max(layers, 0)
        switch kind {
        case .gatedPixelCNN:
            let pattern = [1, 2, 1, 4, 1, 2, 1]
            return (0..<n).map { pattern[$0 % pattern.count] }
        case .pixelcnn: return [Int](repeating: 1, count: n)
        default: return []
        }
    }

    /// Checks that the combination is one the models support; throws a readable reason.
    public func validate() throws {
        func fail(_ s: String) throws -> Never { throw ModelError(description: s) }
        if height < 1 || width < 1 || channels < 1 { try fail("image size \(height)x\(width)x\(channels) is empty") }
        // Bounds first, so that the products below cannot overflow.
        if height > ModelConfig.maxSide || width > ModelConfig.maxSide || channels > 4 {
            try fail("image size \(height)x\(width)x\(channels) is beyond what Autoreg models "
                + "(sides up to \(ModelConfig.maxSide), 1 to 4 channels)")
        }
        if [hiddenChannels, layers, kernelSize, firstKernelSize, classes, masks].contains(where: { $0 > 1 << 24 })
            || (hidden + dilations).contains(where: { $0 > 1 << 40 }) {
            try fail("a size is implausibly large: hidden \(hidden), channels \(hiddenChannels), layers \(layers), "
                + "kernel \(kernelSize), first kernel \(firstKernelSize), dilations \(dilations), classes \(classes), masks \(masks)")
        }
        if levels != 2 && levels != 256 { try fail("levels must be 2 (binary) or 256 (8-bit), got \(levels)") }
        if hidden.contains(where: { $0 < 1 }) { try fail("hidden sizes must be positive, got \(hidden)") }
        if masks < 1 { try fail("masks must be at least 1, got \(masks)") }
        switch kind {
        case .fvsbn:
            if !hidden.isEmpty { try fail("fvsbn has no hidden layer") }
            if levels != 2 { try fail("fvsbn models binary pixels only (levels 2)") }
        case .nade:
            if hidden.count != 1 { try fail("nade has exactly one hidden layer") }
            if levels != 2 { try fail("nade models binary pixels only (levels 2)") }
        case .made:
            if hidden.isEmpty || hidden.count > 2 { try fail("made takes one or two hidden layers, got \(hidden.count)") }
        case .pixelcnn, .gatedPixelCNN:
            try validateConvolutional()
        }
        if !kind.isConvolutional {
            if classes != 0 { try fail("class conditioning (classes \(classes)) is a gated-pixelcnn option, not \(kind)") }
        }
        if kind != .made && masks != 1 { try fail("\(kind) has one fixed ordering: masks must be 1, got \(masks)") }
        if kind != .made && directConnections { try fail("direct connections are a made option, not \(kind)") }
        do {
            try Allocator.require(bytes: estimatedTrainingBytes,
                                  for: "a \(kind) with these sizes (about \(String(format: "%.3g", estimatedParameterCount)) parameters)")
        } catch { try fail("\(error)") }
    }

    /// An upper estimate of the number of parameters, from the configuration alone (no
    /// allocation; in floating point, so that absurd sizes cannot overflow).
    public var estimatedParameterCount: Double {
        let d = Double(dimension), c = Double(channels), n = Double(hiddenChannels), k = Double(kernelSize)
        let out = levels == 2 ? 1.0 : Double(levels)
        switch kind {
        case .fvsbn:
            return d * d + d
        case .nade:
            let h = Double(hidden.first ?? 0)
            return 2 * h * d + h + d
        case .made:
            let sizes = [d] + hidden.map(Double.init) + [d * out]
            let layers = zip(sizes, sizes.dropFirst()).reduce(0.0) { $0 + $1.0 * $1.1 + $1.1 }
            return layers + (directConnections ? (d + 1) * d * out : 0)
        case .pixelcnn, .gatedPixelCNN:
            let first = Double(max(firstKernelSize, kernelSize))
            let perBlock = n * n * (2 * k * k + 2 * k + 8) + 4 * n * Double(max(classes, 0))
            return c * n * first * first * 2 + Double(max(layers, 0)) * perBlock + n * n + n * c * out + n * (2 + c * out)
        }
    }

    /// An upper estimate of the activation memory for `images` images in one pass: logits
    /// and hidden layers, and in `training` the tape's copies of them for the backward pass.
    public func estimatedActivationBytes(images: Int, training: Bool) -> Double {
        let d = Double(dimension), out = levels == 2 ? 1.0 : Double(levels)
        let perImage: Double
        if kind.isConvolutional {
            let maps = Double(height * width) * Double(hiddenChannels) * 2 * Double(layers + 2)
            perImage = d * out + maps * (training ? 4 : 1)
        } else {
            perImage = d * out * 2 + hidden.reduce(0.0) { $0 + Double($1) } * (training ? 4 : 2) + d
        }
        return 4 * perImage * Double(images) * (training ? 2 : 1)
    }

    /// About the bytes training needs for the parameters alone: weights, gradients, two Adam
    /// moments and a weight average (MADE also keeps one 0/1 mask per weight and mask set).
    public var estimatedTrainingBytes: Double {
        estimatedParameterCount * 4 * (5 + (kind == .made ? Double(max(masks, 1)) : 0))
    }
}

extension ModelConfig {
    /// The checks `validate` makes for PixelCNN and Gated PixelCNN.
    func validateConvolutional() throws {
        func fail(_ s: String) throws -> Never { throw ModelError(description: "\(kind.rawValue): " + s) }
        if !hidden.isEmpty { try fail("has no dense hidden layers (got hidden \(hidden)); set the hidden channels instead") }
        if ordering != .natural { try fail("generates in raster order only: ordering must be natural, got \(ordering)") }
        if hiddenChannels < 1 { try fail("hidden channels must be positive, got \(hiddenChannels)") }
        if layers < 0 || (kind == .gatedPixelCNN && layers < 1) {
            try fail("needs at least \(kind == .gatedPixelCNN ? 1 : 0) layers (blocks), got \(layers)")
        }
        if kernelSize < 3 || kernelSize % 2 == 0 { try fail("kernel size must be odd and at least 3, got \(kernelSize)") }
        if dilations.count != layers {
            try fail("needs one dilation per block: \(layers) layers but \(dilations.count) dilations \(dilations)")
        }
        if dilations.contains(where: { $0 < 1 }) { try fail("dilations must be at least 1, got \(dilations)") }
        if classes < 0 { try fail("classes must not be negative, got \(classes)") }
        switch kind {
        case .pixelcnn:
            if firstKernelSize < 3 || firstKernelSize % 2 == 0 {
                try fail("first (mask A) kernel size must be odd and at least 3, got \(firstKernelSize)")
            }
            if hiddenChannels % 2 != 0 || hiddenChannels / 2 < channels {
                try fail("hidden channels must be even and at least \(2 * channels) for \(channels) image channel(s) "
                    + "(the residual blocks' bottleneck has half as many, split into one group per colour), got \(hiddenChannels)")
            }
            if classes != 0 { try fail("class conditioning is a gated-pixelcnn option; classes must be 0, got \(classes)") }
        default:
            if hiddenChannels < channels {
                try fail("hidden channels must be at least \(channels), one group per image channel, got \(hiddenChannels)")
            }
        }
    }
}

/// A configuration or input a model cannot accept.
public struct ModelError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

extension ModelKind: CustomStringConvertible {
    /// The raw value ("gated-pixelcnn"), as the command line spells it.
    public var description: String { rawValue }
}
