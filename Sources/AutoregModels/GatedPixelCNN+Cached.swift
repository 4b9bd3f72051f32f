import AutoregNN
import AutoregTensor
import CKernels

/// Gated PixelCNN evaluated one row, then one position, at a time (see `CachedSampler.swift`):
/// the same layers as `GatedPixelCNN.logits`, block by block (`Block.Cached`).
///
/// When a row starts, the vertical stack is computed over the whole row, layer by layer
/// (it depends on rows above only); then per position the horizontal stack and the head.
/// Cached: the scaled image (the k/2 rows above for the vertical input and the current row
/// for the horizontal one), each vertical layer over the rows the next one reads, and each
/// horizontal layer over the current row.
final class GatedPixelCNNIncremental: IncrementalNetwork {
    let config: ModelConfig
    let batch: Int
    let verticalInput: PackedConv, horizontalInput: PackedConv
    let blocks: [GatedPixelCNN.Block.Cached]
    let heads: [PackedConv]
    let logitWidth: Int
    /// The scaled image; the vertical layers v₀ … v_{L−1} (v_l is block l's input); the
    /// horizontal layers h₀ … h_L over the current row.
    let image: Plane
    let verticals: [Plane]
    let horizontals: [Plane]
    let work: GatedPixelCNN.Block.Workspace
    /// ELU(h_L) [N, n], the head's input.
    let headInput: UnsafeMutablePointer<Float>

    init(_ model: GatedPixelCNN, count: Int, labels: [Int]?) {
        config = model.config
        batch = count
        let c = config.channels, n = model.options.hiddenChannels, w = config.width
        logitWidth = config.output.width
        verticalInput = model.verticalInput.packed()
        horizontalInput = model.horizontalInput.packed()
        blocks = model.blocks.map { $0.cached(labels: labels, batch: count, width: w) }
        heads = (0..<c).map { [lw = logitWidth] in model.head.packed(outputs: $0 * lw ..< ($0 + 1) * lw) }
        for h in heads { precondition(h.taps.count == 1 && h.taps[0].dy == 0 && h.taps[0].dx == 0) }

        let inputRows = max(1 - (verticalInput.taps.map(\.dy).min() ?? 0), 1 - (horizontalInput.taps.map(\.dy).min() ?? 0))
        image = Plane(rows: inputRows, width: w, batch: count, channels: c)
        verticals = blocks.map { Plane(rows: $0.verticalRows, width: w, batch: count, channels: n) }
        horizontals = (0...blocks.count).map { _ in Plane(rows: 1, width: w, batch: count, channels: n) }
        // The vertical input reads completed rows only; block verticals read the layer below
        // at rows ≤ r (computed first); horizontal layers the current row up to the position.
        precondition(verticalInput.taps.allSatisfy { $0.dy < 0 }, "vertical input reads the current row")
        verticalInput.checkCausal(rows: image.rows, perPixel: false, name: "input.vertical")
        horizontalInput.checkCausal(rows: 1, perPixel: true, name: "input.horizontal")
        for (b, plane) in zip(blocks, verticals) { b.vertical.checkCausal(rows: plane.rows, perPixel: false, name: "vertical") }

        // Gathers happen at single positions only (rows use one product per tap).
        let depth = ([horizontalInput.depth] + blocks.map(\.horizontal.depth)).max()!
        work = .init(verticalPre: .allocate(capacity: w * count * 2 * n), horizontalPre: .allocate(capacity: count * 2 * n),
                     gated: .allocate(capacity: count * n), scratch: .allocate(capacity: max(count * depth, 1)))
        headInput = .allocate(capacity: count * n)
    }

    func release() {
        image.deallocate()
        (verticals + horizontals).forEach { $0.deallocate() }
        blocks.forEach { $0.release() }
        for p in [work.verticalPre, work.horizontalPre, work.gated, work.scratch, headInput] { p.deallocate() }
    }

    func beginRow(_ r: Int, pixels x: UnsafePointer<Float>) {
        loadInputRow(image, row: r, pixels: x, config: config)
        let w = config.width
        // v₀ over the row: the k×k vertical input conv without the centre row.
        if let v0 = verticals.first {
            verticalInput.fillBias(v0.at(r, 0), rows: w * batch)
            verticalInput.accumulate(image, row: r, columns: 0..<w, scratch: work.scratch, into: v0.at(r, 0))
        }
        for (l, block) in blocks.enumerated() {
            block.beginRow(r, input: verticals[l], output: l + 1 < verticals.count ? verticals[l + 1] : nil, work: work)
        }
    }

    func setInput(_ r: Int, _ c: Int, _ ch: Int, image n: Int, value: Float) {
        image.at(r, c)[n * config.channels + ch] = scaledInput(value, levels: config.levels)
    }

    func evaluate(_ r: Int, _ c: Int) {
        let h0 = horizontals[0].at(r, c)
        horizontalInput.fillBias(h0, rows: batch)
        horizontalInput.accumulate(image, row: r, columns: c..<c + 1, scratch: work.scratch, into: h0)
        for (l, block) in blocks.enumerated() {
            block.step(r, c, input: horizontals[l], output: horizontals[l + 1], work: work)
        }
        // ELU(h_L), the head's input.
        let h = horizontals[blocks.count].at(r, c), count = batch * heads[0].inChannels
        ar_exp(h, headInput, count)
        for i in 0..<count { headInput[i] = h[i] > 0 ? h[i] : headInput[i] - 1 }
    }

    func logits(channel ch: Int, into out: UnsafeMutablePointer<Float>) {
        heads[ch].fillBias(out, rows: batch)
        heads[ch].multiply(headInput, rows: batch, into: out)
    }
}
