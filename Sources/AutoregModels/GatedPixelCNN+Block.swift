import AutoregNN
import AutoregTensor
import CKernels

extension GatedPixelCNN {
    /// One gated layer: both stacks, the vertical-to-horizontal link and the horizontal 1×1,
    /// in both passes: over whole images (`callAsFunction`) and over a row, then a position,
    /// of cached activations (`Cached`), from the same layers.
    struct Block {
        let vertical: MaskedConv2D
        let horizontal: MaskedConv2D
        let link: MaskedConv2D
        let horizontalOut: MaskedConv2D
        /// [classes, 2n] per stack, when class-conditional.
        let verticalLabel: Tensor?
        let horizontalLabel: Tensor?
        let name: String

        var layers: [MaskedConv2D] { [vertical, horizontal, link, horizontalOut] }

        var parameters: [(name: String, tensor: Tensor)] {
            layers.flatMap(\.parameters)
                + (verticalLabel.map { [("\(name).vertical.label", $0)] } ?? [])
                + (horizontalLabel.map { [("\(name).horizontal.label", $0)] } ?? [])
        }

        /// The full pass: (v, h) → (v', h') with `labels` one-hot [B, classes] (nil: no label term).
        ///
        ///     v_f = vertical(v) [+ V_v·y],  h_f = horizontal(h) + link(v_f) [+ V_h·y]
        ///     v' = tanh(v_f[:n]) ⊙ σ(v_f[n:]),  h' = h + horizontalOut(tanh(h_f[:n]) ⊙ σ(h_f[n:]))
        ///
        /// with dropout on both gated outputs in training steps.
        func callAsFunction(_ v: Tensor, _ h: Tensor, labels y: Tensor?) -> (Tensor, Tensor) {
            let batch = v.shape[0], twoN = vertical.weight.shape[0]
            /// Adds the label bias [B, 2n] → [B, 2n, 1, 1] to `f`.
            func conditioned(_ f: Tensor, _ table: Tensor?) -> Tensor {
                guard let y, let table else { return f }
                return f + y.matmul(table).reshaped([batch, twoN, 1, 1])
            }
            let vf = conditioned(vertical(v), verticalLabel)
            let hf = conditioned(horizontal(h, plus: (link, vf)), horizontalLabel)
            return (vf.gated().dropout(), horizontalOut(hf.gated().dropout(), residual: h))
        }

        /// The block's weights packed for a cached pass over `batch` images `width` wide, with
        /// one label per image (nil: no label term).
        func cached(labels: [Int]?, batch: Int, width: Int) -> Cached {
            Cached(self, labels: labels, batch: batch, width: width)
        }

        /// The block over cached activations. The vertical stack at row r depends on rows < r
        /// only, but its value at (r, c) reads the layer below at (r − d, c + d), later in
        /// raster order; so `beginRow` computes it for the whole row (one product per tap,
        /// M = W·N), with the link from the vertical pre-activation (plus the biases and label
        /// terms): what the horizontal stack adds at each position. `step` then computes the
        /// horizontal stack, its gate and residual at one position.
        final class Cached {
            let vertical: PackedConv, horizontal: PackedConv, link: PackedConv, horizontalOut: PackedConv
            /// Per image, [N, 2n]: the label rows of the vertical and horizontal tables, or nil.
            let verticalLabel: [Float]?, horizontalLabel: [Float]?
            let batch: Int, width: Int
            /// The row's [W, N, 2n] horizontal pre-activation terms from the vertical stack.
            let linked: UnsafeMutablePointer<Float>

            init(_ block: Block, labels: [Int]?, batch: Int, width: Int) {
                vertical = block.vertical.packed()
                horizontal = block.horizontal.packed()
                link = block.link.packed()
                horizontalOut = block.horizontalOut.packed()
                let twoN = vertical.outChannels
                /// The rows of a [classes, 2n] table picked by the labels: [N, 2n].
                func picked(_ table: Tensor?) -> [Float]? {
                    guard let table, let labels else { return nil }
                    return labels.flatMap { table.data[$0 * twoN ..< ($0 + 1) * twoN] }
                }
                verticalLabel = picked(block.verticalLabel)
                horizontalLabel = picked(block.horizontalLabel)
                (self.batch, self.width) = (batch, width)
                linked = .allocate(capacity: width * batch * twoN)
                horizontal.checkCausal(rows: 1, perPixel: true, name: "horizontal")
                for one in [link, horizontalOut] {
                    precondition(one.taps.count == 1 && one.taps[0].dy == 0 && one.taps[0].dx == 0)
                }
            }

            /// Rows of the vertical input this block's vertical convolution reads.
            var verticalRows: Int { 1 - (vertical.taps.map(\.dy).min() ?? 0) }

            func release() { linked.deallocate() }

            /// Adds the per-image rows `label` [N, width] to every column of a row buffer [W, N, width].
            func addLabels(_ label: [Float]?, to buffer: UnsafeMutablePointer<Float>, width channels: Int) {
                guard let label else { return }
                let per = batch * channels
                label.withUnsafeBufferPointer { l in
                    for c in 0..<width { ar_add(buffer + c * per, l.baseAddress!, buffer + c * per, per) }
                }
            }

            /// Row `r` of the vertical stack: v_f = vertical(`input`) [+ V_v·y] over the row into
            /// `work.verticalPre`, the link terms into `linked`, and gate(v_f) into `output`
            /// (the next block's vertical input; nil for the last block, whose is unused).
            func beginRow(_ r: Int, input: Plane, output: Plane?, work: Workspace) {
                let m = width * batch, twoN = vertical.outChannels
                let pre = work.verticalPre
                vertical.fillBias(pre, rows: m)
                addLabels(verticalLabel, to: pre, width: twoN)
                vertical.accumulate(input, row: r, columns: 0..<width, scratch: work.scratch, into: pre)
                link.fillBias(linked, rows: m)
                horizontal.bias.withUnsafeBufferPointer { b in
                    for i in 0..<m { ar_add(linked + i * twoN, b.baseAddress!, linked + i * twoN, twoN) }
                }
                addLabels(horizontalLabel, to: linked, width: twoN)
                link.multiply(pre, rows: m, into: linked)
                if let output { ar_gate_forward(pre, output.at(r, 0), m, twoN / 2) }
            }

            /// h' = h + horizontalOut(gate(horizontal(h) + linked)) at (r, c): reads `input`
            /// (this block's horizontal input over the current row), writes `output` there.
            func step(_ r: Int, _ c: Int, input: Plane, output: Plane, work: Workspace) {
                let m = batch, twoN = horizontal.outChannels, n = twoN / 2
                let pre = work.horizontalPre
                pre.update(from: linked + c * m * twoN, count: m * twoN)
                horizontal.accumulate(input, row: r, columns: c..<c + 1, scratch: work.scratch, into: pre)
                ar_gate_forward(pre, work.gated, m, n)
                let h = input.at(r, c), next = output.at(r, c)
                horizontalOut.bias.withUnsafeBufferPointer { b in
                    for i in 0..<m { ar_add(h + i * n, b.baseAddress!, next + i * n, n) }
                }
                horizontalOut.multiply(work.gated, rows: m, into: next)
            }
        }

        /// Buffers the cached blocks share: the row's vertical pre-activation [W, N, 2n], the
        /// position's horizontal one [N, 2n], the gate [N, n] and the gather scratch.
        struct Workspace {
            let verticalPre: UnsafeMutablePointer<Float>, horizontalPre: UnsafeMutablePointer<Float>
            let gated: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
        }
    }
}
