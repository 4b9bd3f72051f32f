import AutoregNN
import AutoregTensor
import CKernels

/// Gated PixelCNN evaluated one row, then one position, at a time (see `CachedSampler.swift`).
///
/// The vertical stack at row r depends on image rows < r only, but its value at (r, c) reads
/// the layer below at (r − d, c + d): later in raster order. So it is computed for a whole row
/// at once when the row starts (one GEMM per layer with M = W·N), together with each block's
/// 1×1 link from the vertical pre-activations (plus the biases and the label terms): what the
/// horizontal stack adds at each position of the row. The horizontal stack, its gate and
/// residual, and the head are computed per position. Cached: the scaled image (the k/2 rows
/// above for the vertical input and the current row for the horizontal one), each vertical
/// layer over the rows the next one reads, and each horizontal layer over the current row.
final class GatedPixelCNNIncremental: IncrementalNetwork {
    struct Block {
        let vertical: PackedConv, horizontal: PackedConv, link: PackedConv, horizontalOut: PackedConv
        /// Per image, [N, 2n]: the label rows of the vertical and horizontal tables, or nil.
        let verticalLabel: [Float]?, horizontalLabel: [Float]?
    }

    let config: ModelConfig
    /// Feature maps of each stack.
    let channels: Int
    let batch: Int
    let verticalInput: PackedConv, horizontalInput: PackedConv
    let blocks: [Block]
    let heads: [PackedConv]
    let logitWidth: Int
    /// The scaled image; the vertical layers v₀ … v_{L−1} (v_l is block l's input); the
    /// horizontal layers h₀ … h_L over the current row.
    let image: Plane
    let verticals: [Plane]
    let horizontals: [Plane]
    /// Per block, the row's [W, N, 2n] horizontal pre-activation terms that come from the
    /// vertical stack: link(v_f) + biases + label term.
    let linked: [UnsafeMutablePointer<Float>]
    /// Row buffer [W, N, 2n] for the vertical pre-activation v_f.
    let verticalPre: UnsafeMutablePointer<Float>
    /// Position buffers: h_f [N, 2n], gate [N, n], ELU(h) [N, n], tanh/σ temporaries.
    let horizontalPre: UnsafeMutablePointer<Float>, gated: UnsafeMutablePointer<Float>
    let headInput: UnsafeMutablePointer<Float>, temp: UnsafeMutablePointer<Float>
    let scratch: UnsafeMutablePointer<Float>

    init(_ model: GatedPixelCNN, count: Int, labels: [Int]?) {
        config = model.config
        batch = count
        channels = model.options.hiddenChannels
        let c = config.channels, n = channels, w = config.width
        logitWidth = config.output.width
        let verticalInput = PackedConv(model.verticalInput), horizontalInput = PackedConv(model.horizontalInput)
        self.verticalInput = verticalInput
        self.horizontalInput = horizontalInput
        /// The rows of a [classes, 2n] table picked by the labels: [N, 2n].
        func picked(_ table: Tensor?) -> [Float]? {
            guard let table, let labels else { return nil }
            return labels.flatMap { table.data[$0 * 2 * n ..< ($0 + 1) * 2 * n] }
        }
        let blocks = model.blocks.map {
            Block(vertical: PackedConv($0.vertical), horizontal: PackedConv($0.horizontal), link: PackedConv($0.link),
                  horizontalOut: PackedConv($0.horizontalOut),
                  verticalLabel: picked($0.verticalLabel), horizontalLabel: picked($0.horizontalLabel))
        }
        self.blocks = blocks
        let lw = logitWidth
        let heads = (0..<c).map { PackedConv(model.head, outputs: $0 * lw ..< ($0 + 1) * lw) }
        self.heads = heads

        let rowsFor: (PackedConv) -> Int = { 1 - ($0.taps.map(\.dy).min() ?? 0) }
        let image = Plane(rows: max(rowsFor(verticalInput), rowsFor(horizontalInput)), width: w, batch: count, channels: c)
        let verticals = blocks.map { Plane(rows: rowsFor($0.vertical), width: w, batch: count, channels: n) }
        self.image = image
        self.verticals = verticals
        horizontals = (0...blocks.count).map { _ in Plane(rows: 1, width: w, batch: count, channels: n) }
        // The vertical input reads completed rows only; block verticals read the row below
        // it in the stack at rows ≤ r (computed first); horizontal layers the current row up
        // to the current position.
        precondition(verticalInput.taps.allSatisfy { $0.dy < 0 }, "vertical input reads the current row")
        verticalInput.checkCausal(rows: image.rows, perPixel: false, name: "input.vertical")
        horizontalInput.checkCausal(rows: 1, perPixel: true, name: "input.horizontal")
        for (b, plane) in zip(blocks, verticals) {
            b.vertical.checkCausal(rows: plane.rows, perPixel: false, name: "vertical")
            b.horizontal.checkCausal(rows: 1, perPixel: true, name: "horizontal")
            for one in [b.link, b.horizontalOut] {
                precondition(one.taps.count == 1 && one.taps[0].dy == 0 && one.taps[0].dx == 0)
            }
        }
        for h in heads { precondition(h.taps.count == 1 && h.taps[0].dy == 0 && h.taps[0].dx == 0) }

        let rowSize = w * count * 2 * n
        linked = blocks.map { _ in .allocate(capacity: rowSize) }
        verticalPre = .allocate(capacity: rowSize)
        horizontalPre = .allocate(capacity: count * 2 * n)
        gated = .allocate(capacity: count * n)
        headInput = .allocate(capacity: count * n)
        temp = .allocate(capacity: 2 * n)
        // Gathers happen at single positions only (rows use one product per tap).
        let depth = ([horizontalInput.depth] + blocks.map(\.horizontal.depth)).max()!
        scratch = .allocate(capacity: max(count * depth, 1))
    }

    func release() {
        image.deallocate()
        (verticals + horizontals).forEach { $0.deallocate() }
        linked.forEach { $0.deallocate() }
        for p in [verticalPre, horizontalPre, gated, headInput, temp, scratch] { p.deallocate() }
    }

    /// out[k] = tanh(pre[k]) · σ(pre[n + k]) for each of `rows` rows [2n] → [n].
    func gate(_ pre: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        let n = channels
        for i in 0..<rows {
            let src = pre + i * 2 * n, dst = out + i * n
            ar_tanh(src, temp, n)
            ar_sigmoid(src + n, temp + n, n)
            for k in 0..<n { dst[k] = temp[k] * temp[n + k] }
        }
    }

    /// Adds the per-image rows `label` [N, width] to every column of a row buffer [W, N, width].
    func addLabels(_ label: [Float]?, to buffer: UnsafeMutablePointer<Float>, width: Int) {
        guard let label else { return }
        let per = batch * width
        label.withUnsafeBufferPointer { l in
            for c in 0..<config.width {
                let dst = buffer + c * per
                for k in 0..<per { dst[k] += l[k] }
            }
        }
    }

    func beginRow(_ r: Int, pixels x: UnsafePointer<Float>) {
        loadInputRow(image, row: r, pixels: x, config: config)
        let w = config.width, m = w * batch, n = channels
        // v₀ over the row: the k×k vertical input conv without the centre row.
        let v0 = verticals.isEmpty ? nil : verticals[0].at(r, 0)
        if let v0 {
            verticalInput.fillBias(v0, rows: m)
            verticalInput.accumulate(image, row: r, columns: 0..<w, scratch: scratch, into: v0)
        }
        for (l, b) in blocks.enumerated() {
            // v_f = vertical(v_l) [+ V_v·y]
            b.vertical.fillBias(verticalPre, rows: m)
            addLabels(b.verticalLabel, to: verticalPre, width: 2 * n)
            b.vertical.accumulate(verticals[l], row: r, columns: 0..<w, scratch: scratch, into: verticalPre)
            // The horizontal pre-activation's terms from the vertical stack.
            let base = linked[l]
            b.link.fillBias(base, rows: m)
            for i in 0..<m { for k in 0..<(2 * n) { base[i * 2 * n + k] += b.horizontal.bias[k] } }
            addLabels(b.horizontalLabel, to: base, width: 2 * n)
            b.link.multiply(verticalPre, rows: m, into: base)
            // v_{l+1} = gate(v_f); the last block's vertical output is not used.
            if l + 1 < verticals.count { gate(verticalPre, rows: m, into: verticals[l + 1].at(r, 0)) }
        }
    }

    func setInput(_ r: Int, _ c: Int, _ ch: Int, image n: Int, value: Float) {
        image.at(r, c)[n * config.channels + ch] = scaledInput(value, levels: config.levels)
    }

    func evaluate(_ r: Int, _ c: Int) {
        let m = batch, n = channels
        let h0 = horizontals[0].at(r, c)
        horizontalInput.fillBias(h0, rows: m)
        horizontalInput.accumulate(image, row: r, columns: c..<c + 1, scratch: scratch, into: h0)
        for (l, b) in blocks.enumerated() {
            // h_f = horizontal(h) + [link(v_f) + biases + V_h·y], then the gate.
            horizontalPre.update(from: linked[l] + c * m * 2 * n, count: m * 2 * n)
            b.horizontal.accumulate(horizontals[l], row: r, columns: c..<c + 1, scratch: scratch, into: horizontalPre)
            gate(horizontalPre, rows: m, into: gated)
            // h ← h + horizontalOut(gate)
            let h = horizontals[l].at(r, c), next = horizontals[l + 1].at(r, c)
            b.horizontalOut.bias.withUnsafeBufferPointer { bias in
                for i in 0..<m { for k in 0..<n { next[i * n + k] = h[i * n + k] + bias[k] } }
            }
            b.horizontalOut.multiply(gated, rows: m, into: next)
        }
        // ELU(h_L), the head's input.
        let h = horizontals[blocks.count].at(r, c)
        ar_exp(h, headInput, m * n)
        for i in 0..<(m * n) { headInput[i] = h[i] > 0 ? h[i] : headInput[i] - 1 }
    }

    func logits(channel ch: Int, into out: UnsafeMutablePointer<Float>) {
        heads[ch].fillBias(out, rows: batch)
        heads[ch].multiply(headInput, rows: batch, into: out)
    }
}
