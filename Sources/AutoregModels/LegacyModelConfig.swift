/// The flat model configuration of Autoreg's first checkpoints (formats 1 and 2): one struct
/// with every model's fields, "0 for the models that do not use it". Kept to read those files
/// (each model's `ModelOptions.init(legacy:)` picks its fields) and as a compact initializer
/// for tests; new code builds `ModelConfig(kind:…, options:)`. Frozen: new models add nothing here.
public struct LegacyModelConfig: Decodable, Sendable {
    public var kind: ModelKind
    public var height: Int, width: Int, channels: Int
    public var levels: Int
    /// Nil fields take the model's defaults.
    public var hidden: [Int]?
    public var masks: Int
    public var ordering: PixelOrdering
    public var directConnections: Bool
    public var seed: UInt64
    public var hiddenChannels: Int?
    public var layers: Int?
    public var kernelSize: Int?
    public var firstKernelSize: Int?
    public var dilations: [Int]?
    public var classes: Int

    public init(kind: ModelKind, height: Int, width: Int, channels: Int = 1, levels: Int = 2,
                hidden: [Int]? = nil, masks: Int = 1, ordering: PixelOrdering = .natural,
                directConnections: Bool = false, seed: UInt64 = 0,
                hiddenChannels: Int? = nil, layers: Int? = nil, kernelSize: Int? = nil,
                firstKernelSize: Int? = nil, dilations: [Int]? = nil, classes: Int = 0) {
        self.kind = kind
        (self.height, self.width, self.channels, self.levels) = (height, width, channels, levels)
        (self.hidden, self.masks, self.ordering, self.directConnections) = (hidden, masks, ordering, directConnections)
        self.seed = seed
        (self.hiddenChannels, self.layers, self.kernelSize) = (hiddenChannels, layers, kernelSize)
        (self.firstKernelSize, self.dilations, self.classes) = (firstKernelSize, dilations, classes)
    }

    private enum CodingKeys: String, CodingKey {
        case kind, height, width, channels, levels, hidden, masks, ordering, directConnections, seed
        case hiddenChannels, layers, kernelSize, firstKernelSize, dilations, classes
    }

    /// Absent fields take the defaults the first versions used, as they did.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(kind: try c.decode(ModelKind.self, forKey: .kind), height: try c.decode(Int.self, forKey: .height),
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
}

extension LegacyModelConfig {
    /// The flat fields a model may read from.
    public enum Field: String, CaseIterable, Sendable {
        case hidden, masks, ordering, directConnections, hiddenChannels, layers, kernelSize, firstKernelSize, dilations
    }

    /// Throws, naming the field, when a field outside `used` holds anything but what the
    /// first versions wrote for models without it (nil, [], 0, 1 mask, natural, false).
    public func requireUnset(except used: Set<Field>) throws {
        for field in Field.allCases where !used.contains(field) {
            let value: String?
            switch field {
            case .hidden: value = (hidden ?? []).isEmpty ? nil : "\(hidden!)"
            case .masks: value = masks == 1 ? nil : "\(masks)"
            case .ordering: value = ordering == .natural ? nil : ordering.rawValue
            case .directConnections: value = directConnections ? "true" : nil
            case .hiddenChannels: value = (hiddenChannels ?? 0) == 0 ? nil : "\(hiddenChannels!)"
            case .layers: value = (layers ?? 0) == 0 ? nil : "\(layers!)"
            case .kernelSize: value = (kernelSize ?? 0) == 0 ? nil : "\(kernelSize!)"
            case .firstKernelSize: value = (firstKernelSize ?? 0) == 0 ? nil : "\(firstKernelSize!)"
            case .dilations: value = (dilations ?? []).isEmpty ? nil : "\(dilations!)"
            }
            if let value {
                throw ModelError(description: "\(kind): \(field.rawValue) \(value) is not a \(kind) option")
            }
        }
    }
}

extension ModelConfig {
    /// The configuration a flat, legacy one describes; throws when it sets a field the model
    /// does not have.
    public init(legacy l: LegacyModelConfig) throws {
        self.init(kind: l.kind, height: l.height, width: l.width, channels: l.channels,
                  output: .forLevels(l.levels), classes: l.classes, seed: l.seed,
                  options: try l.kind.optionsType.init(legacy: l))
    }

    /// A configuration from the flat fields of `LegacyModelConfig` (nil: the model's default);
    /// throws when it sets a field the model does not have.
    public init(kind: ModelKind, height: Int, width: Int, channels: Int = 1, levels: Int = 2,
                hidden: [Int]? = nil, masks: Int = 1, ordering: PixelOrdering = .natural,
                directConnections: Bool = false, seed: UInt64 = 0,
                hiddenChannels: Int? = nil, layers: Int? = nil, kernelSize: Int? = nil,
                firstKernelSize: Int? = nil, dilations: [Int]? = nil, classes: Int = 0) throws {
        try self.init(legacy: LegacyModelConfig(
            kind: kind, height: height, width: width, channels: channels, levels: levels, hidden: hidden,
            masks: masks, ordering: ordering, directConnections: directConnections, seed: seed,
            hiddenChannels: hiddenChannels, layers: layers, kernelSize: kernelSize,
            firstKernelSize: firstKernelSize, dilations: dilations, classes: classes))
    }
}
