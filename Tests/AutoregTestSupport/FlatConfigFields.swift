import AutoregModels

/// The flat fields of the first `ModelConfig` (see `LegacyModelConfig`), read from a
/// configuration's options, so that tests written against them still say what they check.
/// Test code only: the library asks capabilities (`maskCount`) or the model's own options.
extension ModelConfig {
    public var hidden: [Int] {
        if let o = options as? MADE.Options { return o.hidden }
        if let o = options as? NADE.Options { return [o.hidden] }
        return []
    }
    public var masks: Int { maskCount }
    public var ordering: PixelOrdering {
        (options as? MADE.Options)?.ordering ?? (options as? NADE.Options)?.ordering
            ?? (options as? FVSBN.Options)?.ordering ?? .natural
    }
    public var directConnections: Bool { (options as? MADE.Options)?.directConnections ?? false }
    public var hiddenChannels: Int {
        (options as? PixelCNN.Options)?.hiddenChannels ?? (options as? GatedPixelCNN.Options)?.hiddenChannels ?? 0
    }
    public var layers: Int { (options as? PixelCNN.Options)?.layers ?? (options as? GatedPixelCNN.Options)?.layers ?? 0 }
    public var kernelSize: Int {
        (options as? PixelCNN.Options)?.kernelSize ?? (options as? GatedPixelCNN.Options)?.kernelSize ?? 0
    }
    public var firstKernelSize: Int { (options as? PixelCNN.Options)?.firstKernelSize ?? 0 }
    public var dilations: [Int] {
        (options as? PixelCNN.Options)?.dilations ?? (options as? GatedPixelCNN.Options)?.dilations ?? []
    }
}
