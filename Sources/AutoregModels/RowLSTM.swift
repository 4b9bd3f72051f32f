import AutoregNN
import AutoregTensor
import CKernels

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
                let gates = stateToState(hidden, plusRow: r, of: gatesIn)  // row r of the input terms, in place
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

extension RowLSTM.Layer {
    /// The layer's weights packed for a cached pass over `batch` images `width` wide.
    func cached(batch: Int, width: Int) -> Cached { Cached(self, batch: batch, width: width) }

    /// The layer one position at a time (see `PixelRNN+Cached.swift`). The gates of row r are
    /// K_ss ⊛ h_{r−1} (every column of the row above: complete when row r begins, so
    /// `beginRow` computes that term for the whole row, one product per tap, with both
    /// biases) plus K_is ⊛ s_r at columns c − k/2 … c (mask B: `step`, per position); the
    /// cell then reads c_{r−1} at c.
    ///
    /// Kept: h and c of rows r − 1 and r (`Plane` rings of 2 rows, [W, N, h]) and the row's
    /// state-to-state term [W, N, 4h]: O(W) per layer, whatever the height.
    final class Cached: PixelRNNCachedLayer {
        let inputToState: PackedConv, stateToState: PackedConv, output: PackedConv
        let batch: Int, width: Int, units: Int
        let hidden: Plane, cell: Plane
        /// Row r's K_ss ⊛ h_{r−1} + both biases, [W, N, 4h].
        let fromAbove: UnsafeMutablePointer<Float>
        /// The biases of both convolutions, summed: [4h].
        let gateBias: [Float]
        /// The position's gates [N, 4h] and the gather scratch.
        let gates: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>

        init(_ layer: RowLSTM.Layer, batch: Int, width: Int) {
            inputToState = layer.inputToState.packed()
            stateToState = layer.stateToState.packed()
            output = layer.output.packed()
            (self.batch, self.width) = (batch, width)
            units = output.inChannels
            precondition(inputToState.outChannels == 4 * units && stateToState.outChannels == 4 * units)
            inputToState.checkCausal(rows: 1, perPixel: true, name: "row lstm input-to-state")
            // Applied to the row above as a whole (`row: r − 1`): it must read that row only.
            precondition(stateToState.taps.allSatisfy { $0.dy == 0 }, "row lstm state-to-state reads one row")
            precondition(output.taps.count == 1 && output.taps[0].dy == 0 && output.taps[0].dx == 0)
            hidden = Plane(rows: 2, width: width, batch: batch, channels: units)
            cell = Plane(rows: 2, width: width, batch: batch, channels: units)
            fromAbove = .allocate(capacity: width * batch * 4 * units)
            gateBias = zip(inputToState.bias, stateToState.bias).map { $0 + $1 }
            gates = .allocate(capacity: batch * 4 * units)
            scratch = .allocate(capacity: max(batch * max(inputToState.depth, stateToState.depth), 1))
        }

        var cachedFloats: Int { (hidden.rows + cell.rows + 4) * width * batch * units }

        func release() {
            hidden.deallocate()
            cell.deallocate()
            for p in [fromAbove, gates, scratch] { p.deallocate() }
        }

        func beginRow(_ r: Int, input: Plane) {
            fillRows(fromAbove, with: gateBias, rows: width * batch)
            // Row 0: the state above the image is zero.
            if r > 0 { stateToState.accumulate(hidden, row: r - 1, columns: 0..<width, scratch: scratch, into: fromAbove) }
        }

        func step(_ r: Int, _ c: Int, input: Plane, output next: Plane) {
            let m = batch, g = 4 * units
            gates.update(from: fromAbove + c * m * g, count: m * g)
            inputToState.accumulate(input, row: r, columns: c..<c + 1, scratch: scratch, into: gates)
            // Groups of one image's [o | f | i | g] blocks of h units: `Tensor.lstmCell`'s layout.
            ar_lstm_forward(gates, r > 0 ? UnsafePointer(cell.at(r - 1, c)) : nil, hidden.at(r, c), cell.at(r, c), m, units)
            let out = next.at(r, c)
            addRowBias(input.at(r, c), output.bias, into: out, rows: m)
            output.multiply(hidden.at(r, c), rows: m, into: out)
        }
    }
}

extension RowLSTM: CachedSampling {
    public func incrementalNetwork(count: Int, labels: [Int]?) -> any IncrementalNetwork {
        precondition(labels == nil, "row-lstm is not class-conditional but was given labels")
        return PixelRNNIncremental(stack: stack.cached(batch: count),
                                   layers: layers.map { $0.cached(batch: count, width: config.width) })
    }
}
