import AutoregNN
import AutoregTensor

/// The models Autoreg implements: the registry. Adding a model is one case here, one line in
/// `type`, and the model's own file (see DEVELOPERS.md, "Adding a model"). The command line,
/// checkpoints, help texts and the tests that run over every model read this list.
public enum ModelKind: String, Codable, CaseIterable, Sendable {
    case fvsbn, nade, made
    /// PixelCNN (van den Oord et al. 2016, "Pixel Recurrent Neural Networks").
    case pixelcnn
    /// Gated PixelCNN ("Conditional Image Generation with PixelCNN Decoders").
    case gatedPixelCNN = "gated-pixelcnn"
    /// PixelRNN's Row LSTM ("Pixel Recurrent Neural Networks").
    case rowLSTM = "row-lstm"
    /// PixelRNN's Diagonal BiLSTM.
    case diagonalBiLSTM = "diagonal-bilstm"
    /// PixelCNN++ ("PixelCNN++: Improving the PixelCNN with Discretized Logistic Mixture Likelihood ...").
    case pixelCNNPlusPlus = "pixelcnn++"

    /// The model's type: one registry line per model.
    public var type: any RegisteredModel.Type {
        switch self {
        case .fvsbn: return FVSBN.self
        case .nade: return NADE.self
        case .made: return MADE.self
        case .pixelcnn: return PixelCNN.self
        case .gatedPixelCNN: return GatedPixelCNN.self
        case .rowLSTM: return RowLSTM.self
        case .diagonalBiLSTM: return DiagonalBiLSTM.self
        case .pixelCNNPlusPlus: return PixelCNNPlusPlus.self
        }
    }

    /// The type of the model's own options.
    public var optionsType: any ModelOptions.Type { type.optionsType }

    /// One line for help texts.
    public var summary: String { type.summary }

    /// Whether the model's outputs can be categorical over 8-bit pixels (not only Bernoulli).
    public var supportsCategorical: Bool { type.supportsCategorical }

    /// The output distribution for `levels`-level pixels when none is given (pixelcnn++: a
    /// 10-component logistic mixture on 8-bit pixels).
    public func defaultOutput(levels: Int) -> PixelDistribution { type.defaultOutput(levels: levels) }

    /// Whether training steps apply dropout (the model conforms to `DropoutModel`).
    public var hasDropout: Bool { type is any DropoutModel.Type }

    /// Whether the model can be conditioned on a class label (`ConditionalModel`).
    public var isConditional: Bool { type is any ConditionalModel.Type }

    /// Whether the model has a cached incremental sampler (`CachedSampling`).
    public var hasCachedSampler: Bool { type is any CachedSampling.Type }

    /// Whether the model averages over connectivity masks (`MaskEnsemble`).
    public var hasMaskEnsembles: Bool { type is any MaskEnsemble.Type }

    /// Images per evaluation batch unless the user says otherwise.
    public var evaluationBatchSize: Int { type.evaluationBatchSize }

    /// Names of the models for which `has` holds, for messages: "pixelcnn and gated-pixelcnn".
    public static func names(where has: (ModelKind) -> Bool) -> String {
        let names = allCases.filter(has).map(\.rawValue)
        return names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " and " + names.last!
    }

    /// The names of the models with dropout, for messages.
    public static var withDropout: String { names(where: \.hasDropout) }
}

extension ModelKind: CustomStringConvertible {
    /// The raw value ("gated-pixelcnn"), as the command line spells it.
    public var description: String { rawValue }
}

/// Builds the model a configuration describes.
public func makeModel(_ config: ModelConfig) throws -> any AutoregressiveModel {
    try config.kind.type.init(config: config)
}
