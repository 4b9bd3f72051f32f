import AutoregNN
import AutoregTensor
import CKernels

/// PixelCNN evaluated one position at a time (see `CachedSampler.swift`): the same layers as
/// `PixelCNN.logits`, block by block (`ResidualBlock.Cached`).
///
/// Every layer's output at (r, c) reads its input at positions ≤ (r, c) in raster order
/// (mask A/B taps: rows above, columns left in the current row, the position itself). Only
/// the inputs of the k×k convolutions are read at other positions, so only they are cached:
/// the scaled image (for the first, mask-A convolution) and each block's bottleneck; the
/// residual stream and the 1×1 layers live at the current position alone.
final class PixelCNNIncremental: IncrementalNetwork {
    let config: ModelConfig
    let batch: Int
    let input: PackedConv
    let blocks: [PixelCNN.ResidualBlock.Cached]
    let outputHidden: PackedConv
    /// The head's output columns of each image channel: [n, logitWidth] each.
    let heads: [PackedConv]
    let logitWidth: Int
    /// The scaled image.
    let image: Plane
    /// The residual stream [N, 2h] and the head's input at the current position.
    let stream: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>
    let work: PixelCNN.ResidualBlock.Workspace

    init(_ model: PixelCNN, count: Int) {
        config = model.config
        batch = count
        let c = config.channels, n = model.options.hiddenChannels, w = config.width
        logitWidth = config.output.width
        input = model.input.packed()
        blocks = model.blocks.map { $0.cached(batch: count, width: w) }
        outputHidden = model.outputHidden.packed()
        heads = (0..<c).map { [lw = logitWidth] in model.head.packed(outputs: $0 * lw ..< ($0 + 1) * lw) }
        image = Plane(rows: 1 - (input.taps.map(\.dy).min() ?? 0), width: w, batch: count, channels: c)
        input.checkCausal(rows: image.rows, perPixel: true, name: "input")
        let depth = ([input.depth] + blocks.map(\.scratchDepth)).max()!
        stream = .allocate(capacity: count * n)
        hidden = .allocate(capacity: count * n)
        work = .init(activated: .allocate(capacity: count * n), hidden: .allocate(capacity: count * n),
                     scratch: .allocate(capacity: max(count * depth, count * n, 1)))
    }

    func release() {
        image.deallocate()
        blocks.forEach { $0.release() }
        for p in [stream, hidden, work.activated, work.hidden, work.scratch] { p.deallocate() }
    }

    func beginRow(_ r: Int, pixels x: UnsafePointer<Float>) {
        loadInputRow(image, row: r, pixels: x, config: config)
    }

    func setInput(_ r: Int, _ c: Int, _ ch: Int, image n: Int, value: Float) {
        image.at(r, c)[n * config.channels + ch] = scaledInput(value, levels: config.levels)
    }

    func evaluate(_ r: Int, _ c: Int) {
        let m = batch, n = outputHidden.inChannels
        // s = mask-A conv(x), then the blocks.
        input.fillBias(stream, rows: m)
        input.accumulate(image, row: r, columns: c..<c + 1, scratch: work.scratch, into: stream)
        for block in blocks { block.step(stream, at: r, c, work: work) }
        // ReLU(outputHidden(ReLU(s))), the head's input.
        let activated = work.activated
        activated.update(from: stream, count: m * n)
        ar_relu_inplace(activated, m * n)
        outputHidden.fillBias(hidden, rows: m)
        outputHidden.multiply(activated, rows: m, into: hidden)
        ar_relu_inplace(hidden, m * n)
    }

    func logits(channel ch: Int, into out: UnsafeMutablePointer<Float>) {
        heads[ch].fillBias(out, rows: batch)
        heads[ch].multiply(hidden, rows: batch, into: out)
    }
}
