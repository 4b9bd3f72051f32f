/// Checks and estimates that PixelCNN and Gated PixelCNN share: a stack of `layers` blocks of
/// `channels` feature maps with k×k kernels and one dilation per block.
enum ConvolutionalStack {
    /// Throws a `ModelError` prefixed with the model's name for sizes no stack accepts.
    static func validate(_ kind: ModelKind, channels: Int, layers: Int, minimumLayers: Int, kernelSize: Int,
                         dilations: [Int]) throws {
        func fail(_ s: String) throws -> Never { throw ModelError(description: "\(kind.rawValue): " + s) }
        if channels < 1 { try fail("hidden channels must be positive, got \(channels)") }
        if layers < minimumLayers { try fail("needs at least \(minimumLayers) layers (blocks), got \(layers)") }
        if kernelSize < 3 || kernelSize % 2 == 0 { try fail("kernel size must be odd and at least 3, got \(kernelSize)") }
        if dilations.count != layers {
            try fail("needs one dilation per block: \(layers) layers but \(dilations.count) dilations \(dilations)")
        }
        if dilations.contains(where: { $0 < 1 }) { try fail("dilations must be at least 1, got \(dilations)") }
    }

    /// Floats one image keeps alive: the logits and every layer's feature maps (in training
    /// the tape's copies of them too).
    static func activations(_ config: ModelConfig, channels: Int, layers: Int, training: Bool) -> Double {
        let maps = Double(config.height * config.width) * Double(channels) * 2 * Double(layers + 2)
        return Double(config.dimension * config.output.width) + maps * (training ? 4 : 1)
    }

    /// An upper estimate of the parameters of a stack with both kinds' layers.
    static func parameters(_ config: ModelConfig, channels: Int, layers: Int, kernelSize: Int, firstKernelSize: Int) -> Double {
        let c = Double(config.channels), n = Double(channels), k = Double(kernelSize)
        let out = Double(config.output.width), first = Double(max(firstKernelSize, kernelSize))
        let perBlock = n * n * (2 * k * k + 2 * k + 8) + 4 * n * Double(max(config.classes, 0))
        return c * n * first * first * 2 + Double(max(layers, 0)) * perBlock + n * n + n * c * out + n * (2 + c * out)
    }

    /// `pattern` repeated or cut to `layers` entries.
    static func dilations(_ pattern: [Int], layers: Int) -> [Int] {
        (0..<max(layers, 0)).map { pattern[$0 % pattern.count] }
    }
}
