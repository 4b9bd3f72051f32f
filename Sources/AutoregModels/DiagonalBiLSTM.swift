import AutoregNN
import AutoregTensor

/// Diagonal BiLSTM (van den Oord et al. 2016, section 3.2): each layer runs two LSTMs along
/// the diagonals of the image, one from the left and one from the right, so that every pixel
/// sees every earlier one.
///
///     skew the input map: row r shifted right by r, so the diagonals become columns
///     gates_j = K_is ⊛ s_j + K_ss ⊛ h_{j−1}      1×1 input-to-state with mask B; 2×1
///                                                state-to-state over the previous column:
///                                                the neighbours to the left and above
///     c_j = σ(f) ⊙ c_{j−1} + σ(i) ⊙ tanh(g),   h_j = σ(o) ⊙ tanh(c_j),   then unskew
///
/// The right-to-left direction runs on the mirrored map with its own weights; its output is
/// mirrored back and shifted down one row, so that it never sees the current row (which would
/// hold later pixels to the right), and added to the left-to-right one. Layers are stacked
/// with residual connections (`PixelRNNStack`).
public final class DiagonalBiLSTM: RegisteredModel {
    public typealias Options = PixelRNNOptions
    public static var optionsType: any ModelOptions.Type { Options.self }
    public static var summary: String { "Diagonal BiLSTM (PixelRNN): LSTMs along both diagonals, the whole context" }
    public static var evaluationBatchSize: Int { 50 }

    public let config: ModelConfig
    public let options: Options
    public let ordering: [Int]
    let stack: PixelRNNStack
    let layers: [Layer]

    /// One direction of a layer: the LSTM along the diagonals from the left.
    struct Direction {
        /// 1×1 mask B: 2h → 4h; 2×1 over the previous column: h → 4h.
        let inputToState: MaskedConv2D, stateToState: MaskedConv2D

        var parameters: [(name: String, tensor: Tensor)] { inputToState.parameters + stateToState.parameters }

        /// s [B, 2h, H, W] → the states [B, h, H, W].
        func callAsFunction(_ s: Tensor) -> Tensor {
            let (b, height, width) = (s.shape[0], s.shape[2], s.shape[3])
            let units = stateToState.weight.shape[1]
            // The input-to-state terms, skewed (column j holds diagonal j of the image) and
            // transposed once, so that each step reads a contiguous row instead of a column.
            let gatesIn = inputToState(s).skewed().transposedInner()
            // The state of the previous column, [B, h, H, 1]: zero left of the image.
            var hidden = Tensor(shape: [b, units, height, 1], data: [Float](repeating: 0, count: b * units * height))
            var cell: Tensor? = nil
            var columns: [Tensor] = []
            columns.reserveCapacity(width + height - 1)
            // The 2×1 state-to-state kernel as two 1×1 products, on the previous column and
            // on it shifted down one row (the neighbour above): no im2col per step.
            let below = stateToState.weight.slice(axis: 2, start: 1, length: 1)
            let above = stateToState.weight.slice(axis: 2, start: 0, length: 1)
            for j in 0..<(width + height - 1) {
                let gates = Tensor.sumOfConvolutions(
                    [ConvolutionTerm(input: hidden, weight: below, bias: stateToState.bias, padding: .same),
                     ConvolutionTerm(input: hidden.shifted(down: 1, right: 0), weight: above, bias: nil, padding: .same)],
                    plus: gatesIn.row(j).reshaped([b, 4 * units, height, 1]))
                (hidden, cell) = Tensor.lstmCell(gates: gates, previousCell: cell)
                columns.append(hidden.reshaped([b, units, height]))
            }
            return Tensor.stack(columns, axis: 2).transposedInner().unskewed()
        }
    }

    /// One layer: both directions and the residual 1×1.
    struct Layer {
        let left: Direction, right: Direction
        let output: MaskedConv2D

        var parameters: [(name: String, tensor: Tensor)] { left.parameters + right.parameters + output.parameters }

        /// s [B, 2h, H, W] → s + output(left(s) + right(s) shifted down one row).
        func callAsFunction(_ s: Tensor) -> Tensor {
            let fromRight = right(s.flippedHorizontally()).flippedHorizontally().shifted(down: 1, right: 0)
            return output(left(s) + fromRight, residual: s)
        }
    }

    public init(config: ModelConfig) throws {
        guard config.kind == .diagonalBiLSTM else {
            throw ModelError(description: "config is for \(config.kind), not diagonal-bilstm")
        }
        try config.validate()
        self.config = config
        let options = try config.options(as: Options.self)
        self.options = options
        ordering = Array(0..<config.dimension)
        var rng = RandomGenerator(seed: config.seed)
        let stack = PixelRNNStack(config: config, options: options, rng: &rng)
        self.stack = stack
        let h = options.hiddenUnits
        func direction(_ name: String) -> Direction {
            let inputToState = MaskedConv2D(
                inChannels: 2 * h, outChannels: 4 * h, kernel: (1, 1),
                mask: config.channels == 1 ? nil
                    : CausalMask.pixelCNN(outChannels: 4 * h, inChannels: 2 * h, kernel: 1, kind: .b, groups: config.channels,
                                          outGroup: stack.gateGroup),
                name: "\(name).input", rng: &rng)
            // Row i of the output reads rows i − 1 and i of the previous column.
            let stateToState = MaskedConv2D(inChannels: h, outChannels: 4 * h, kernel: (2, 1),
                                            padding: .explicit(top: 1, bottom: 0, left: 0, right: 0),
                                            name: "\(name).state", rng: &rng)
            return Direction(inputToState: inputToState, stateToState: stateToState)
        }
        layers = (0..<options.layers).map { l in
            Layer(left: direction("layer\(l).left"), right: direction("layer\(l).right"),
                  output: stack.residualOutput("layer\(l).output", rng: &rng))
        }
    }

    public var parameters: [(name: String, tensor: Tensor)] {
        stack.parameters + layers.flatMap(\.parameters) + stack.outputParameters
    }

    public func logits(_ pixels: Tensor) -> Tensor {
        var s = stack.begin(pixels)
        for layer in layers { s = layer(s) }
        return stack.end(s)
    }
}
