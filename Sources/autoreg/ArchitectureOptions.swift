import ArgumentParser
import AutoregModels

/// The options that choose a model's size and shape, shared by the commands that build a
/// model from scratch (`train`, `bench`).
struct ArchitectureOptions: ParsableArguments {
    @Option(name: .customLong("model"), help: "Model: \(ModelKind.allCases.map(\.rawValue).joined(separator: ", ")) (default: made).")
    var modelGiven: ModelKind?
    /// `--model`, made when not given.
    var model: ModelKind { modelGiven ?? .made }
    @OptionGroup var shape: ModelShapeOptions

    /// `--levels`, else 2 (the default where there is no data set to go by, as in `bench`).
    var levels: Int { shape.levels ?? 2 }

    /// `--levels`, else 256 for a model that can output categorical pixels (made, pixelcnn,
    /// gated-pixelcnn) on 8-bit data that is not binarised, and 2 otherwise (`train`).
    func levels(dataLevels: Int, binarized: Bool) -> Int {
        let categorical = model == .made || model.isConvolutional
        return shape.levels ?? (categorical && dataLevels == 256 && !binarized ? 256 : 2)
    }

    /// The configuration for `height`×`width`×`channels` images with `levels` (bench's default 2 when nil).
    func config(height: Int = 28, width: Int = 28, channels: Int = 1, levels: Int? = nil, masks: Int = 1,
                ordering: PixelOrdering = .natural, directConnections: Bool = false, seed: UInt64 = 0,
                classes: Int = 0) throws -> ModelConfig {
        try shape.config(model, height: height, width: width, channels: channels, levels: levels ?? self.levels,
                         masks: masks, ordering: ordering, directConnections: directConnections, seed: seed,
                         classes: classes)
    }
}

/// The size and shape of a model, whatever its kind: shared by `ArchitectureOptions` and by
/// `receptive-field` (whose `--model` is optional, as a checkpoint can stand in for it).
struct ModelShapeOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Pixel levels the model outputs: 2 (Bernoulli) or 256 (categorical; made, pixelcnn, gated-pixelcnn). Default: 2 (train: 256 for those on 8-bit data).")
    var levels: Int?
    @Option(help: "Hidden layer sizes, comma-separated (nade: one; made: one or two).")
    var hidden: String?
    @Option(parsing: .unconditional, help: "pixelcnn, gated-pixelcnn: feature maps per layer (pixelcnn: the residual stream, 2h). Default 64.")
    var channels: Int?
    @Option(parsing: .unconditional, help: "pixelcnn: residual blocks (default 15); gated-pixelcnn: gated blocks (default 7).")
    var layers: Int?
    @Option(parsing: .unconditional, help: "pixelcnn, gated-pixelcnn: odd size k of the k x k mask-B / vertical and 1 x k horizontal kernels. Default 3.")
    var kernel: Int?
    @Option(parsing: .unconditional, help: "pixelcnn: odd size of the first, mask-A kernel. Default 7.")
    var firstKernel: Int?
    @Option(help: "pixelcnn, gated-pixelcnn: one dilation per block, comma-separated, e.g. 1,2,1,4,1,2,1 (gated default; pixelcnn: all 1).")
    var dilations: String?

    func validate() throws {
        if let l = levels, l != 2 && l != 256 { throw ValidationError("--levels must be 2 or 256, got \(l)") }
    }

    /// The pixelcnn / gated-pixelcnn options given on the command line, by name.
    var convolutionalOptionsGiven: [String] {
        [("--channels", channels != nil), ("--layers", layers != nil), ("--kernel", kernel != nil),
         ("--first-kernel", firstKernel != nil), ("--dilations", dilations != nil)].filter(\.1).map(\.0)
    }

    /// A validated configuration of a `kind` model with these options.
    func config(_ kind: ModelKind, height: Int, width: Int, channels imageChannels: Int = 1, levels: Int,
                masks: Int = 1, ordering: PixelOrdering = .natural, directConnections: Bool = false,
                seed: UInt64 = 0, classes: Int = 0) throws -> ModelConfig {
        let dilationList = try dilations.map { try parseSizes($0, option: "--dilations") }
        let config = ModelConfig(kind: kind, height: height, width: width, channels: imageChannels, levels: levels,
                                 hidden: try hidden.map { try parseSizes($0, option: "--hidden") },
                                 masks: masks, ordering: ordering, directConnections: directConnections, seed: seed,
                                 hiddenChannels: channels, layers: layers ?? dilationList?.count,
                                 kernelSize: kernel, firstKernelSize: firstKernel, dilations: dilationList,
                                 classes: classes)
        try config.validate()
        return config
    }
}
