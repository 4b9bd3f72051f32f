import AutoregNN
import AutoregTensor
import CKernels

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
            // The input-to-state terms, skewed and transposed in one copy: row j holds diagonal
            // j of the image, contiguous, and each step adds it in place.
            let gatesIn = inputToState(s).skewedColumns()
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
                    plusRow: j, of: gatesIn)
                (hidden, cell) = Tensor.lstmCell(gates: gates, previousCell: cell)
                columns.append(hidden.reshaped([b, units, height]))
            }
            return Tensor.stack(columns, axis: 2).unskewedColumns()
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

extension DiagonalBiLSTM.Direction {
    /// The direction's weights packed for a cached pass over `batch` images of `height` ×
    /// `width`, running along each row left to right, or right to left when `reversed` (the
    /// right-to-left direction, which the full pass runs on the mirrored map).
    func cached(batch: Int, height: Int, width: Int, reversed: Bool) -> Cached {
        Cached(self, batch: batch, height: height, width: width, reversed: reversed)
    }

    /// One direction over cached state, in image coordinates. Unskewed, the full pass's step
    /// over skewed column j = r + c computes the state at (r, c) from the previous column's
    /// states at (r, c − 1) (the 2×1 kernel's tap ky = 1, `below` in `callAsFunction`, with
    /// that state's cell) and at (r − 1, c) (tap ky = 0, `above`), plus the 1×1 input-to-state
    /// term of the input at (r, c). Reversed, "previous" is c + 1 (the mirrored map's c − 1).
    ///
    /// Left of column 0 (in the direction's order) lies the skewed map's zero padding, where
    /// the state is not zero: the state-to-state bias drives it along the diagonals, from the
    /// image's top. Those states depend on the weights alone, and the image only reads the one
    /// just before its first column, so that one is computed once per row (`edgeHidden`,
    /// `edgeCell`) by the same recurrence with zero input.
    ///
    /// Kept: h of rows r − 1 and r ([2 rows, W, N, h] ring), c of row r, the row's terms from
    /// the row above [W, N, 4h], and the edge states [H, h]: O(W) per direction plus O(H)
    /// floats independent of the batch.
    final class Cached {
        let inputToState: PackedConv
        /// The 2×1 kernel's taps as [h, 4h] matrices: on the row above, and on the same row.
        let above: [Float], same: [Float]
        /// Both convolutions' biases summed: [4h].
        let gateBias: [Float]
        /// The state (h and c) just before the first column of each row: [H, h] each.
        let edgeHidden: [Float], edgeCell: [Float]
        let reversed: Bool
        let batch: Int, width: Int, units: Int
        let hidden: Plane, cell: Plane
        /// Row r's gate terms from the row above and the biases, [W, N, 4h] (a whole row run
        /// at once adds its input-to-state terms here too).
        let fromAbove: UnsafeMutablePointer<Float>
        /// The edge state of the current row for every image, [N, h] each.
        let rowEdgeHidden: UnsafeMutablePointer<Float>, rowEdgeCell: UnsafeMutablePointer<Float>
        /// One position's gates [N, 4h].
        let gates: UnsafeMutablePointer<Float>

        init(_ direction: DiagonalBiLSTM.Direction, batch: Int, height: Int, width: Int, reversed: Bool) {
            inputToState = direction.inputToState.packed()
            let state = direction.stateToState.packed()
            let h = state.inChannels, g = state.outChannels
            precondition(g == 4 * h && inputToState.outChannels == g)
            precondition(inputToState.taps.count == 1 && inputToState.taps[0].dy == 0 && inputToState.taps[0].dx == 0)
            /// The [h, 4h] block of the tap reading `dy` rows away (padding top 1: ky = 0 is −1).
            func tap(_ dy: Int) -> [Float] {
                let t = state.taps.firstIndex { $0.dy == dy && $0.dx == 0 }!
                return Array(state.weight[t * h * g ..< (t + 1) * h * g])
            }
            precondition(state.taps.count == 2, "the 2×1 state-to-state kernel has two taps")
            above = tap(-1)
            same = tap(0)
            gateBias = zip(inputToState.bias, state.bias).map { $0 + $1 }
            (edgeHidden, edgeCell) = Cached.edgeStates(above: above, same: same, bias: state.bias, units: h, height: height)
            self.reversed = reversed
            (self.batch, self.width, units) = (batch, width, h)
            hidden = Plane(rows: 2, width: width, batch: batch, channels: h)
            cell = Plane(rows: 1, width: width, batch: batch, channels: h)
            fromAbove = .allocate(capacity: width * batch * g)
            rowEdgeHidden = .allocate(capacity: batch * h)
            rowEdgeCell = .allocate(capacity: batch * h)
            gates = .allocate(capacity: batch * g)
        }

        /// The states just before the first column of each row, [H, h] each: the full pass's
        /// recurrence over skewed columns j = 0 … H − 2 with zero input (the padding left of
        /// the image) and the state-to-state bias only, all H rows at once. Skewed row i at
        /// column j is image column j − i, so row j + 1 at column j is the state before column
        /// 0; rows ≤ j stand for image positions (without their input) and are never read by
        /// rows below j.
        static func edgeStates(above: [Float], same: [Float], bias: [Float], units h: Int, height: Int)
            -> (hidden: [Float], cell: [Float]) {
            var tableHidden = [Float](repeating: 0, count: height * h), tableCell = tableHidden
            guard height > 1 else { return (tableHidden, tableCell) }
            var hid = [Float](repeating: 0, count: height * h), cel = hid
            var newHid = hid, newCel = hid
            var gates = [Float](repeating: 0, count: height * 4 * h)
            for j in 0..<(height - 1) {
                gates.withUnsafeMutableBufferPointer { pg in
                    let pg = pg.baseAddress!
                    fillRows(pg, with: bias, rows: height)
                    Gemm.sgemm(m: height, n: 4 * h, k: h, a: hid, b: same, beta: 1, c: pg)
                    // Row i reads row i − 1 of the previous column; row 0 reads the zero padding above.
                    Gemm.sgemm(m: height - 1, n: 4 * h, k: h, a: hid, b: above, beta: 1, c: pg + 4 * h)
                    cel.withUnsafeBufferPointer { pc in
                        ar_lstm_forward(pg, j == 0 ? nil : pc.baseAddress!, &newHid, &newCel, height, h)
                    }
                }
                swap(&hid, &newHid)
                swap(&cel, &newCel)
                let row = (j + 1) * h
                tableHidden[row ..< row + h] = hid[row ..< row + h]
                tableCell[row ..< row + h] = cel[row ..< row + h]
            }
            return (tableHidden, tableCell)
        }

        /// Floats held over positions: the state rows, the row terms, the edge states.
        var cachedFloats: Int {
            (hidden.rows + cell.rows + 4) * width * batch * units + edgeHidden.count + edgeCell.count + 2 * batch * units
        }

        func release() {
            hidden.deallocate()
            cell.deallocate()
            for p in [fromAbove, rowEdgeHidden, rowEdgeCell, gates] { p.deallocate() }
        }

        /// Starts the direction's row `r`: the biases and the upper tap on the states of row
        /// r − 1 for every column (one product), and the row's edge state for every image.
        func beginRow(_ r: Int) {
            let m = width * batch, h = units
            fillRows(fromAbove, with: gateBias, rows: m)
            if r > 0 {
                above.withUnsafeBufferPointer { a in
                    Gemm.sgemm(m: m, n: 4 * h, k: h, a: hidden.at(r - 1, 0), b: a.baseAddress!, beta: 1, c: fromAbove)
                }
            }
            for (table, row) in [(edgeHidden, rowEdgeHidden), (edgeCell, rowEdgeCell)] {
                fillRows(row, with: Array(table[r * h ..< (r + 1) * h]), rows: batch)
            }
        }

        /// The state at (r, c) from `gates` [N, 4h] (all terms but the previous column's): adds
        /// the lower tap on the previous column's state and runs the cell on its cell state.
        func advance(_ r: Int, _ c: Int, gates: UnsafeMutablePointer<Float>) {
            let m = batch, h = units
            let first = reversed ? c == width - 1 : c == 0
            let previousHidden = first ? rowEdgeHidden : hidden.at(r, reversed ? c + 1 : c - 1)
            let previousCell = first ? rowEdgeCell : cell.at(r, reversed ? c + 1 : c - 1)
            same.withUnsafeBufferPointer { s in
                Gemm.sgemm(m: m, n: 4 * h, k: h, a: previousHidden, b: s.baseAddress!, beta: 1, c: gates)
            }
            ar_lstm_forward(gates, previousCell, hidden.at(r, c), cell.at(r, c), m, h)
        }

        /// The state at (r, c) after `beginRow(r)`, from the input [N, 2h] at (r, c): rerun
        /// at the same position, it reads the same previous states again.
        func step(_ r: Int, _ c: Int, input: UnsafePointer<Float>) {
            let m = batch, g = 4 * units
            gates.update(from: fromAbove + c * m * g, count: m * g)
            inputToState.multiply(input, rows: m, into: gates)
            advance(r, c, gates: gates)
        }

        /// The whole of row `r` from its input [W, N, 2h], in the direction's order (the
        /// input-to-state terms of the row in one product).
        func run(row r: Int, input: UnsafePointer<Float>) {
            let m = batch, g = 4 * units
            beginRow(r)
            inputToState.multiply(input, rows: width * m, into: fromAbove)
            for i in 0..<width {
                let c = reversed ? width - 1 - i : i
                advance(r, c, gates: fromAbove + c * m * g)
            }
        }
    }
}

extension DiagonalBiLSTM.Layer {
    /// The layer's weights packed for a cached pass over `batch` images of `height` × `width`.
    func cached(batch: Int, height: Int, width: Int) -> Cached {
        Cached(self, batch: batch, height: height, width: width)
    }

    /// The layer one position at a time (see `PixelRNN+Cached.swift`): s + output(L + R) at
    /// (r, c), with L the left-to-right state at (r, c) (`step`, per position) and R the
    /// right-to-left state at (r − 1, c) (the output's shift down one row), which reads row
    /// r − 1 right of c and the rows above: when row r begins, the layer's input stream of
    /// row r − 1 is complete, and the whole right-to-left row r − 1 is run from it.
    final class Cached: PixelRNNCachedLayer {
        let left: DiagonalBiLSTM.Direction.Cached, right: DiagonalBiLSTM.Direction.Cached
        let output: PackedConv
        /// L + R at the position, [N, h].
        let sum: UnsafeMutablePointer<Float>

        init(_ layer: DiagonalBiLSTM.Layer, batch: Int, height: Int, width: Int) {
            left = layer.left.cached(batch: batch, height: height, width: width, reversed: false)
            right = layer.right.cached(batch: batch, height: height, width: width, reversed: true)
            output = layer.output.packed()
            precondition(output.taps.count == 1 && output.taps[0].dy == 0 && output.taps[0].dx == 0)
            sum = .allocate(capacity: batch * left.units)
        }

        var cachedFloats: Int { left.cachedFloats + right.cachedFloats }

        func release() {
            left.release()
            right.release()
            sum.deallocate()
        }

        func beginRow(_ r: Int, input: Plane) {
            left.beginRow(r)
            // The input plane still holds row r − 1.
            if r > 0 { right.run(row: r - 1, input: input.at(r - 1, 0)) }
        }

        func step(_ r: Int, _ c: Int, input: Plane, output next: Plane) {
            let m = left.batch
            left.step(r, c, input: input.at(r, c))
            // Row 0: the shifted right-to-left map is zero there.
            var states = UnsafePointer(left.hidden.at(r, c))
            if r > 0 {
                ar_add(states, right.hidden.at(r - 1, c), sum, m * left.units)
                states = UnsafePointer(sum)
            }
            let out = next.at(r, c)
            addRowBias(input.at(r, c), output.bias, into: out, rows: m)
            output.multiply(states, rows: m, into: out)
        }
    }
}

extension DiagonalBiLSTM: CachedSampling {
    public func incrementalNetwork(count: Int, labels: [Int]?) -> any IncrementalNetwork {
        precondition(labels == nil, "diagonal-bilstm is not class-conditional but was given labels")
        return PixelRNNIncremental(stack: stack.cached(batch: count),
                                   layers: layers.map { $0.cached(batch: count, height: config.height, width: config.width) })
    }
}
