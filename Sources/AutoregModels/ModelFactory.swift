import AutoregTensor

/// Builds the model a configuration describes.
public func makeModel(_ config: ModelConfig) throws -> any AutoregressiveModel {
    switch config.kind {
    case .fvsbn: return try FVSBN(config: config)
    case .nade: return try NADE(config: config)
    case .made: return try MADE(config: config)
    case .pixelcnn: return try PixelCNN(config: config)
    case .gatedPixelCNN: return try GatedPixelCNN(config: config)
    }
}

extension AutoregressiveModel {
    /// Samples with the fastest exact method the model has (see `generate`).
    public func sample(count: Int, rng: inout RandomGenerator, temperature: Float = 1,
                       progress: ((Int, Int) -> Void)? = nil) -> Sample {
        generate(count: count, rng: &rng, temperature: temperature, progress: progress)
    }
}
