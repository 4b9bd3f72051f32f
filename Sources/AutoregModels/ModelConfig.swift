import AutoregTensor

/// The architectures Autoreg implements.
public enum ModelKind: String, Codable, CaseIterable, Sendable {
    case fvsbn, nade, made
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

    public init(kind: ModelKind, height: Int, width: Int, channels: Int = 1, levels: Int = 2,
                hidden: [Int]? = nil, masks: Int = 1, ordering: PixelOrdering = .natural,
                directConnections: Bool = false, seed: UInt64 = 0) {
        self.kind = kind
        self.height = height; self.width = width; self.channels = channels
        self.levels = levels
        self.hidden = hidden ?? ModelConfig.defaultHidden(kind)
        self.masks = masks
        self.ordering = ordering
        self.directConnections = directConnections
        self.seed = seed
    }

    /// Number of sub-pixels per image.
    public var dimension: Int { height * width * channels }

    public static func defaultHidden(_ kind: ModelKind) -> [Int] {
        switch kind {
        case .fvsbn: return []
        case .nade, .made: return [500]
        }
    }

    /// Checks that the combination is one the models support; throws a readable reason.
    public func validate() throws {
        func fail(_ s: String) throws -> Never { throw ModelError(description: s) }
        if height < 1 || width < 1 || channels < 1 { try fail("image size \(height)x\(width)x\(channels) is empty") }
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
        }
        if kind != .made && masks != 1 { try fail("\(kind) has one fixed ordering: masks must be 1, got \(masks)") }
        if kind != .made && directConnections { try fail("direct connections are a made option, not \(kind)") }
    }
}

/// A configuration or input a model cannot accept.
public struct ModelError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}
