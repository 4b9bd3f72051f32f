import AutoregNN
import AutoregTensor

/// Row LSTM (van den Oord et al. 2016, section 3.1): each layer processes the image one row
/// at a time, top to bottom; the state of a whole row is computed at once.
///
///     gates_r = K_is ⊛ s_r + K_ss ⊛ h_{r−1}        1×k convolutions: input-to-state with
///                                                  mask B over the row, state-to-state over
///                                                  the row above
///     c_r = σ(f) ⊙ c_{r−1} + σ(i) ⊙ tanh(g),   h_r = σ(o) ⊙ tanh(c_r)
///
/// Position (r, c) sees the row above at columns c − k/2 … c + k/2, which saw its own row
/// above, and so on: a triangular receptive field that misses part of the context the chain
/// rule allows (see `autoreg receptive-field`). Layers are stacked with residual connections
/// (`PixelRNNStack`).
public final class RowLSTM: RegisteredModel {
    public typealias Options = PixelRNNOptions
    public static var optionsType: any ModelOptions.Type { Options.self }
    public static var summary: String { "Row LSTM (PixelRNN): an LSTM over rows, 1×k state-to-state, triangular context" }
    public static var evaluationBatchSize: Int { 50 }

    public let config: ModelConfig
    public let options: Options
    public let ordering: [Int]
    let stack: PixelRNNStack
    let layers: [Layer]

    /// One Row LSTM layer with its residual output.
    struct Layer {
        /// 1×k mask B: 2h → 4h; 1×k: h → 4h; 1×1 mask B: h → 2h.
        let inputToState: MaskedConv2D, stateToState: MaskedConv2D, output: MaskedConv2D

        var parameters: [(name: String, tensor: Tensor)] {
            inputToState.parameters + stateToState.parameters + output.parameters
        }

        /// s [B, 2h, H, W] → s + output(LSTM over the rows of s).
        func callAsFunction(_ s: Tensor) -> Tensor {
            let (b, height, width) = (s.shape[0], s.shape[2], s.shape[3])
            let units = output.weight.shape[1]
            let gatesIn = inputToState(s)
            // The state of the row above, [B, h, 1, W]: zero above the image.
            var hidden = Tensor(shape: [b, units, 1, width], data: [Float](repeating: 0, count: b * units * width))
            var cell: Tensor? = nil
            var rows: [Tensor] = []
            rows.reserveCapacity(height)
            for r in 0..<height {
                let gates = stateToState(hidden, residual: gatesIn.row(r).reshaped([b, 4 * units, 1, width]))
                (hidden, cell) = Tensor.lstmCell(gates: gates, previousCell: cell)
                rows.append(hidden.reshaped([b, units, width]))
            }
            return output(Tensor.stack(rows, axis: 2), residual: s)
        }
    }

    public init(config: ModelConfig) throws {
        guard config.kind == .rowLSTM else { throw ModelError(description: "config is for \(config.kind), not row-lstm") }
        try config.validate()
        self.config = config
        let options = try config.options(as: Options.self)
        self.options = options
        ordering = Array(0..<config.dimension)
        var rng = RandomGenerator(seed: config.seed)
        let stack = PixelRNNStack(config: config, options: options, rng: &rng)
        self.stack = stack
        let h = options.hiddenUnits, k = options.kernelSize
        layers = (0..<options.layers).map { l in
            let inputToState = MaskedConv2D(
                inChannels: 2 * h, outChannels: 4 * h, kernel: (1, k),
                mask: CausalMask.horizontal(outChannels: 4 * h, inChannels: 2 * h, kernel: k, kind: .b,
                                            outGroup: stack.gateGroup, inGroup: { stack.group($0, of: 2 * h) }),
                name: "layer\(l).input", rng: &rng)
            let stateToState = MaskedConv2D(inChannels: h, outChannels: 4 * h, kernel: (1, k), name: "layer\(l).state", rng: &rng)
            return Layer(inputToState: inputToState, stateToState: stateToState,
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
