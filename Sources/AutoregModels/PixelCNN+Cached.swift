import AutoregNN
import AutoregTensor

/// PixelCNN evaluated one position at a time (see `CachedSampler.swift`).
///
/// Every layer's output at (r, c) reads its input at positions ≤ (r, c) in raster order
/// (mask A/B taps: rows above, columns left in the current row, the position itself). Only
/// the inputs of the k×k convolutions are read at other positions, so only they are cached:
/// the scaled image (for the first, mask-A convolution) and each block's bottleneck
/// ReLU(reduce(ReLU(s))); the residual stream and the 1×1 layers live at the current
/// position alone.
final class PixelCNNIncremental: IncrementalNetwork {
    let config: ModelConfig
    /// The residual stream's width.
    let channels: Int
    let batch: Int
    let input: PackedConv
    let blocks: [(reduce: PackedConv, conv: PackedConv, expand: PackedConv)]
    let outputHidden: PackedConv
    /// The head's output columns of each image channel: [n, logitWidth] each.
    let heads: [PackedConv]
    let logitWidth: Int
    /// The scaled image, and per block the k×k convolution's input.
    let image: Plane
    let bottlenecks: [Plane]
    /// Current-position buffers, [N, width] each.
    let stream: UnsafeMutablePointer<Float>, activated: UnsafeMutablePointer<Float>
    let hidden: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>

    init(_ model: PixelCNN, count: Int) {
        config = model.config
        batch = count
        channels = model.options.hiddenChannels
        let c = config.channels, n = channels, half = n / 2
        logitWidth = config.output.width
        let input = PackedConv(model.input)
        let blocks = model.blocks.map { (reduce: PackedConv($0.reduce), conv: PackedConv($0.conv), expand: PackedConv($0.expand)) }
        self.input = input
        self.blocks = blocks
        outputHidden = PackedConv(model.outputHidden)
        let lw = logitWidth
        heads = (0..<c).map { PackedConv(model.head, outputs: $0 * lw ..< ($0 + 1) * lw) }

        let rowsFor: (PackedConv) -> Int = { 1 - ($0.taps.map(\.dy).min() ?? 0) }
        let image = Plane(rows: rowsFor(input), width: model.config.width, batch: count, channels: c)
        let bottlenecks = blocks.map { Plane(rows: rowsFor($0.conv), width: model.config.width, batch: count, channels: half) }
        self.image = image
        self.bottlenecks = bottlenecks
        input.checkCausal(rows: image.rows, perPixel: true, name: "input")
        for (b, plane) in zip(blocks, bottlenecks) {
            b.conv.checkCausal(rows: plane.rows, perPixel: true, name: "block conv")
            for one in [b.reduce, b.expand] { precondition(one.taps.count == 1 && one.taps[0].dy == 0 && one.taps[0].dx == 0) }
        }
        let depth = ([input.depth] + blocks.map(\.conv.depth)).max()!
        stream = .allocate(capacity: count * n)
        activated = .allocate(capacity: count * n)
        hidden = .allocate(capacity: count * n)
        scratch = .allocate(capacity: max(count * depth, count * n, 1))
    }

    func release() {
        image.deallocate()
        bottlenecks.forEach { $0.deallocate() }
        for p in [stream, activated, hidden, scratch] { p.deallocate() }
    }

    func beginRow(_ r: Int, pixels x: UnsafePointer<Float>) {
        loadInputRow(image, row: r, pixels: x, config: config)
    }

    func setInput(_ r: Int, _ c: Int, _ ch: Int, image n: Int, value: Float) {
        image.at(r, c)[n * config.channels + ch] = scaledInput(value, levels: config.levels)
    }

    func evaluate(_ r: Int, _ c: Int) {
        let m = batch, n = channels
        // s = mask-A conv(x)
        input.fillBias(stream, rows: m)
        input.accumulate(image, row: r, columns: c..<c + 1, scratch: scratch, into: stream)
        for (b, plane) in zip(blocks, bottlenecks) {
            // s ← s + expand(ReLU(conv(ReLU(reduce(ReLU(s))))))
            activated.update(from: stream, count: m * n)
            reluInPlace(activated, m * n)
            let bottleneck = plane.at(r, c)
            b.reduce.fillBias(bottleneck, rows: m)
            b.reduce.multiply(activated, rows: m, into: bottleneck)
            reluInPlace(bottleneck, m * b.reduce.outChannels)
            b.conv.fillBias(hidden, rows: m)
            b.conv.accumulate(plane, row: r, columns: c..<c + 1, scratch: scratch, into: hidden)
            reluInPlace(hidden, m * b.conv.outChannels)
            b.expand.fillBias(activated, rows: m)
            b.expand.multiply(hidden, rows: m, into: activated)
            for i in 0..<(m * n) { stream[i] += activated[i] }
        }
        // ReLU(outputHidden(ReLU(s))), the head's input.
        activated.update(from: stream, count: m * n)
        reluInPlace(activated, m * n)
        outputHidden.fillBias(hidden, rows: m)
        outputHidden.multiply(activated, rows: m, into: hidden)
        reluInPlace(hidden, m * n)
    }

    func logits(channel ch: Int, into out: UnsafeMutablePointer<Float>) {
        heads[ch].fillBias(out, rows: batch)
        heads[ch].multiply(hidden, rows: batch, into: out)
    }
}
