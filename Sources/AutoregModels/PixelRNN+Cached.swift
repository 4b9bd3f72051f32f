import AutoregNN
import AutoregTensor
import CKernels

// The PixelRNN models evaluated one position at a time (see `CachedSampler.swift`): the same
// layers as `RowLSTM.logits` and `DiagonalBiLSTM.logits`, the recurrent ones carrying their
// state from position to position instead of being rerun over the whole image per sub-pixel.
//
// Every activation at (r, c) depends on the image at sub-pixels before (r, c, ch) in raster
// order only (`PixelRNNTests.testCausalExhaustively`), and the recurrences are ordered so that
// what a position reads is final when it is evaluated:
//
// - Row LSTM: the state of row r reads the whole of row r − 1's state (1×k state-to-state)
//   and the input stream of row r at columns ≤ c (1×k mask B): the state-to-state term of a
//   row is computed when the row begins, the rest per position.
// - Diagonal BiLSTM, left to right: the state at (r, c) reads (r, c − 1) and (r − 1, c) and
//   the input at (r, c): per position. Right to left, shifted down one row: position (r, c)
//   adds the state at (r − 1, c), which reads row r − 1 right of c and the rows above: the
//   whole row r − 1 is run, right to left, when row r begins.
//
// What is kept per layer is a few rows of [W, N, channels] planes (`Plane` rings), never the
// whole image: see `PixelRNNIncremental.cachedFloats`.

extension PixelRNNStack {
    /// The stack's own layers packed for a cached pass over `batch` images.
    func cached(batch: Int) -> Cached { Cached(self, batch: batch) }

    /// The layers around the recurrent ones, one position at a time: the mask-A input
    /// convolution over a cache of the scaled image (the k/2 rows above and the current row),
    /// and the output layers at the position.
    final class Cached {
        let config: ModelConfig
        let batch: Int
        let input: PackedConv, outputHidden: PackedConv
        /// The head's output columns of each image channel: [N, logitWidth] each.
        let heads: [PackedConv]
        let logitWidth: Int
        /// The scaled image.
        let image: Plane
        /// ReLU(stream) [N, 2h]; the head's input ReLU(outputHidden(·)) [N, m]; gather scratch.
        let activated: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>
        let scratch: UnsafeMutablePointer<Float>

        init(_ stack: PixelRNNStack, batch: Int) {
            config = stack.config
            self.batch = batch
            let c = config.channels, lw = config.output.width
            logitWidth = lw
            input = stack.input.packed()
            outputHidden = stack.outputHidden.packed()
            heads = (0..<c).map { stack.head.packed(outputs: $0 * lw ..< ($0 + 1) * lw) }
            for one in [outputHidden] + heads { precondition(one.taps.count == 1 && one.taps[0].dy == 0 && one.taps[0].dx == 0) }
            image = Plane(rows: 1 - (input.taps.map(\.dy).min() ?? 0), width: config.width, batch: batch, channels: c)
            input.checkCausal(rows: image.rows, perPixel: true, name: "input")
            activated = .allocate(capacity: batch * input.outChannels)
            hidden = .allocate(capacity: batch * outputHidden.outChannels)
            scratch = .allocate(capacity: max(batch * input.depth, 1))
        }

        /// Floats held over rows (the image cache).
        var cachedFloats: Int { image.rows * image.width * image.batch * image.channels }

        func release() {
            image.deallocate()
            for p in [activated, hidden, scratch] { p.deallocate() }
        }

        func beginRow(_ r: Int, pixels x: UnsafePointer<Float>) { loadInputRow(image, row: r, pixels: x, config: config) }

        func setInput(_ r: Int, _ c: Int, _ ch: Int, image n: Int, value: Float) {
            image.at(r, c)[n * config.channels + ch] = scaledInput(value, levels: config.levels)
        }

        /// The stream [N, 2h] at (r, c): the mask-A convolution of the image.
        func begin(_ r: Int, _ c: Int, into stream: UnsafeMutablePointer<Float>) {
            input.fillBias(stream, rows: batch)
            input.accumulate(image, row: r, columns: c..<c + 1, scratch: scratch, into: stream)
        }

        /// The head's input ReLU(outputHidden(ReLU(s))) from the last stream [N, 2h] at a position.
        func end(_ stream: UnsafePointer<Float>) {
            let m = batch, n = outputHidden.inChannels
            activated.update(from: stream, count: m * n)
            ar_relu_inplace(activated, m * n)
            outputHidden.fillBias(hidden, rows: m)
            outputHidden.multiply(activated, rows: m, into: hidden)
            ar_relu_inplace(hidden, m * outputHidden.outChannels)
        }

        /// The logits of image channel `ch` at the last position `end` saw: [N, logitWidth].
        func logits(channel ch: Int, into out: UnsafeMutablePointer<Float>) {
            heads[ch].fillBias(out, rows: batch)
            heads[ch].multiply(hidden, rows: batch, into: out)
        }
    }
}

/// A residual recurrent layer of a PixelRNN over cached state: s_{l+1} = s_l + f(s_l), in
/// raster order. Its input and output streams are planes of the current row [W, N, 2h]
/// (column c of the input holds s_l(r, c) when `step(r, c)` runs; at `beginRow(r)` the
/// input plane still holds row r − 1, complete).
protocol PixelRNNCachedLayer: AnyObject {
    /// Starts image row `r`: what depends on rows < r only.
    func beginRow(_ r: Int, input: Plane)
    /// output(r, c) ← input(r, c) + f(input)(r, c), from the input at positions ≤ (r, c).
    /// Called again at the same position for each image channel: it rewrites what it stores
    /// at (r, c) and reads earlier positions only.
    func step(_ r: Int, _ c: Int, input: Plane, output: Plane)
    /// Floats held over positions (rows of state and their row terms).
    var cachedFloats: Int { get }
    func release()
}

/// Row LSTM or Diagonal BiLSTM evaluated one position at a time: `PixelRNNStack.Cached`
/// around the models' cached layers (`RowLSTM.Layer.Cached`, `DiagonalBiLSTM.Layer.Cached`).
final class PixelRNNIncremental: IncrementalNetwork {
    let stack: PixelRNNStack.Cached
    let layers: [any PixelRNNCachedLayer]
    /// The residual stream s₀ … s_L over the current row, [W, N, 2h] each: s₀ the mask-A
    /// layer's output, s_{l+1} layer l's.
    let streams: [Plane]

    init(stack: PixelRNNStack.Cached, layers: [any PixelRNNCachedLayer]) {
        self.stack = stack
        self.layers = layers
        streams = (0...layers.count).map { _ in
            Plane(rows: 1, width: stack.config.width, batch: stack.batch, channels: stack.input.outChannels)
        }
    }

    var logitWidth: Int { stack.logitWidth }

    /// Floats the caches hold (image, streams, layer states): a few rows of W positions per
    /// layer, plus the Diagonal BiLSTM's state at the image's left (or right) edge per row.
    var cachedFloats: Int {
        stack.cachedFloats + streams.reduce(0) { $0 + $1.rows * $1.width * $1.batch * $1.channels }
            + layers.reduce(0) { $0 + $1.cachedFloats }
    }

    func release() {
        stack.release()
        streams.forEach { $0.deallocate() }
        layers.forEach { $0.release() }
    }

    func beginRow(_ r: Int, pixels x: UnsafePointer<Float>) {
        stack.beginRow(r, pixels: x)
        // Each layer's input plane still holds row r − 1 here.
        for (l, layer) in layers.enumerated() { layer.beginRow(r, input: streams[l]) }
    }

    func setInput(_ r: Int, _ c: Int, _ ch: Int, image n: Int, value: Float) {
        stack.setInput(r, c, ch, image: n, value: value)
    }

    func evaluate(_ r: Int, _ c: Int) {
        stack.begin(r, c, into: streams[0].at(r, c))
        for (l, layer) in layers.enumerated() { layer.step(r, c, input: streams[l], output: streams[l + 1]) }
        stack.end(streams[layers.count].at(r, c))
    }

    func logits(channel ch: Int, into out: UnsafeMutablePointer<Float>) { stack.logits(channel: ch, into: out) }
}

/// out [m, n] ← a [m, n] + b [n] per row (`out` must not overlap `a`).
@inline(__always) func addRowBias(_ a: UnsafePointer<Float>, _ b: [Float], into out: UnsafeMutablePointer<Float>,
                                  rows m: Int) {
    let n = b.count
    b.withUnsafeBufferPointer { bias in
        for i in 0..<m { ar_add(a + i * n, bias.baseAddress!, out + i * n, n) }
    }
}

/// out [m, n] ← `row` [n] in every row.
@inline(__always) func fillRows(_ out: UnsafeMutablePointer<Float>, with row: [Float], rows m: Int) {
    let n = row.count
    row.withUnsafeBufferPointer { v in
        for i in 0..<m { (out + i * n).update(from: v.baseAddress!, count: n) }
    }
}
