import ArgumentParser
import AutoregModels

/// The options that choose a model's size and shape, shared by the commands that build a
/// model from scratch (`bench`, and `train` through its own copies for the help text).
struct ArchitectureOptions: ParsableArguments {
    @Option(help: "Model: \(ModelKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: ModelKind = .made
    @Option(help: "Pixel levels: 2 (Bernoulli) or 256 (categorical; made, pixelcnn, gated-pixelcnn).")
    var levels: Int = 2
    @Option(help: "Hidden layer sizes, comma-separated (nade: one; made: one or two).")
    var hidden: String?
    @Option(help: "pixelcnn, gated-pixelcnn: feature maps per layer. Default 64.")
    var channels: Int?
    @Option(help: "pixelcnn: residual blocks (default 15); gated-pixelcnn: gated blocks (default 7).")
    var layers: Int?
    @Option(help: "pixelcnn, gated-pixelcnn: odd kernel size k. Default 3.")
    var kernel: Int?
    @Option(help: "pixelcnn: odd size of the first, mask-A kernel. Default 7.")
    var firstKernel: Int?
    @Option(help: "pixelcnn, gated-pixelcnn: one dilation per block, comma-separated.")
    var dilations: String?

    func validate() throws {
        if levels != 2 && levels != 256 { throw ValidationError("--levels must be 2 or 256, got \(levels)") }
    }

    /// The configuration for `height`×`width`×`channels` images.
    func config(height: Int = 28, width: Int = 28, channels: Int = 1, classes: Int = 0) throws -> ModelConfig {
        let dilationList = try dilations.map { try parseSizes($0, option: "--dilations") }
        let config = ModelConfig(kind: model, height: height, width: width, channels: channels, levels: levels,
                                 hidden: try hidden.map { try parseSizes($0, option: "--hidden") },
                                 hiddenChannels: self.channels, layers: layers ?? dilationList?.count,
                                 kernelSize: kernel, firstKernelSize: firstKernel, dilations: dilationList,
                                 classes: classes)
        try config.validate()
        return config
    }
}
