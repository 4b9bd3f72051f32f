import ArgumentParser
import AutoregModels
import AutoregTensor

/// The options that choose a model's size and shape, shared by the commands that build a
/// model from scratch (`train`, `bench`).
struct ArchitectureOptions: ParsableArguments {
    @Option(name: .customLong("model"), help: "Model: \(ModelKind.allCases.map(\.rawValue).joined(separator: ", ")) (default: made).")
    var modelGiven: ModelKind?
    /// `--model`, made when not given.
    var model: ModelKind { modelGiven ?? .made }
    @OptionGroup var shape: ModelShapeOptions

    /// `--levels` (or the depth `--output` models), else 2 (the default where there is no data
    /// set to go by, as in `bench`).
    var levels: Int { shape.levels ?? shape.givenOutput?.levels ?? 2 }

    /// `--levels`, else 256 for a model that can output categorical pixels on 8-bit data
    /// that is not binarised, and 2 otherwise (`train`).
    func levels(dataLevels: Int, binarized: Bool) -> Int {
        shape.levels ?? shape.givenOutput?.levels ?? (model.supportsCategorical && dataLevels == 256 && !binarized ? 256 : 2)
    }

    /// The configuration for `height`×`width`×`channels` images with `levels` (bench's default 2 when nil).
    func config(height: Int = 28, width: Int = 28, channels: Int = 1, levels: Int? = nil, masks: Int? = nil,
                ordering: PixelOrdering? = nil, directConnections: Bool? = nil, seed: UInt64 = 0,
                classes: Int = 0) throws -> ModelConfig {
        try shape.config(model, height: height, width: width, channels: channels, levels: levels ?? self.levels,
                         masks: masks, ordering: ordering, directConnections: directConnections, seed: seed,
                         classes: classes)
    }
}

/// The size and shape of a model, whatever its kind: shared by `ArchitectureOptions` and by
/// `receptive-field` (whose `--model` is optional, as a checkpoint can stand in for it).
struct ModelShapeOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Pixel levels the model outputs: 2 (Bernoulli) or 256 (categorical; \(ModelKind.names(where: \.supportsCategorical))). Default: 2 (train: 256 for those on 8-bit data).")
    var levels: Int?
    @Option(help: ArgumentHelp("Output distribution per sub-pixel: bernoulli (binary pixels), categorical (a 256-way softmax) or logistic-mixture:K (PixelCNN++'s discretised mixture of K logistics; K defaults to 10; for grey images 5 is plenty). Default: bernoulli for --levels 2, categorical for 256 (pixelcnn++: logistic-mixture:10).", valueName: "distribution"))
    var output: PixelDistribution?
    @Option(parsing: .unconditional, help: ArgumentHelp("Mixture components K: the same as --output logistic-mixture:K.", valueName: "K"))
    var mixtures: Int?

    /// `--output`, or the mixture `--mixtures` names.
    var givenOutput: PixelDistribution? { output ?? mixtures.map { .logisticMixture(components: $0) } }
    @Option(help: "\(ModelFlag.hidden.readers): hidden layer sizes, comma-separated (nade: one; made: one or two; row-lstm, diagonal-bilstm: the state size h). Default 500 (PixelRNN: 16).")
    var hidden: String?
    @Option(parsing: .unconditional, help: "\(ModelFlag.channels.readers): feature maps per layer (pixelcnn: the residual stream, 2h; pixelcnn++: nr_filters of both streams, 160 in the paper's CIFAR-10 model). Default 64 (pixelcnn++: 32).")
    var channels: Int?
    @Option(parsing: .unconditional, help: "pixelcnn: residual blocks (default 15); gated-pixelcnn: gated blocks (default 7); row-lstm, diagonal-bilstm: recurrent layers (default 7); pixelcnn++: gated ResNet blocks per resolution (default 2; the paper's 5).")
    var layers: Int?
    @Option(parsing: .unconditional, help: "\(ModelFlag.kernel.readers): odd size k of the k x k mask-B / vertical and 1 x k horizontal kernels. Default 3.")
    var kernel: Int?
    @Option(parsing: .unconditional, help: "\(ModelFlag.firstKernel.readers): odd size of the first, mask-A kernel. Default 7.")
    var firstKernel: Int?
    @Option(help: "\(ModelFlag.dilations.readers): one dilation per block, comma-separated, e.g. 1,2,1,4,1,2,1 (gated default; pixelcnn: all 1).")
    var dilations: String?
    @Option(parsing: .unconditional, help: "\(ModelFlag.outputChannels.readers): maps of the output 1 x 1 layer (32 for MNIST in the PixelRNN paper, 1024 for CIFAR-10). Default 32.")
    var outputChannels: Int?

    func validate() throws {
        if let l = levels, l != 2 && l != 256 { throw ValidationError("--levels must be 2 or 256, got \(l)") }
        if let k = mixtures {
            guard k >= 1 && k <= LogisticMixture.maxComponents else {
                throw ValidationError("--mixtures must be 1...\(LogisticMixture.maxComponents), got \(k)")
            }
            if let output, output != .logisticMixture(components: k) {
                throw ValidationError("--mixtures \(k) means --output logistic-mixture:\(k), not --output \(output)")
            }
        }
        if let l = levels, let output = givenOutput, output.levels != l {
            throw ValidationError("--output \(output) models \(output.levels)-level pixels, not --levels \(l)")
        }
    }

    /// `--output` (or `--mixtures`), else `kind`'s default for `levels`-level pixels; throws
    /// when they disagree.
    func outputDistribution(_ kind: ModelKind, levels: Int) throws -> PixelDistribution {
        guard let output = givenOutput else { return kind.defaultOutput(levels: levels) }
        guard output.levels == levels else {
            throw ValidationError("--output \(output) models \(output.levels)-level pixels; the model here has \(levels) levels "
                + "(binary data, or --binarize: give --levels 256 and 8-bit data)")
        }
        return output
    }

    /// The model flags of this group, with the ones a command keeps elsewhere (`train`'s
    /// --masks, --ordering and --direct), each nil when not given.
    func flags(masks: Int? = nil, ordering: PixelOrdering? = nil, direct: Bool? = nil) throws -> ModelFlags {
        ModelFlags(hidden: try hidden.map { try parseSizes($0, option: "--hidden") }, channels: channels,
                   layers: layers, kernel: kernel, firstKernel: firstKernel,
                   dilations: try dilations.map { try parseSizes($0, option: "--dilations") },
                   outputChannels: outputChannels, masks: masks, ordering: ordering, direct: direct)
    }

    /// A validated configuration of a `kind` model with these options.
    func config(_ kind: ModelKind, height: Int, width: Int, channels imageChannels: Int = 1, levels: Int,
                masks: Int? = nil, ordering: PixelOrdering? = nil, directConnections: Bool? = nil,
                seed: UInt64 = 0, classes: Int = 0) throws -> ModelConfig {
        let flags = try flags(masks: masks, ordering: ordering, direct: directConnections)
        let config = ModelConfig(kind: kind, height: height, width: width, channels: imageChannels,
                                 output: try outputDistribution(kind, levels: levels), classes: classes, seed: seed,
                                 options: try flags.options(for: kind))
        try config.validate()
        return config
    }
}
