import AutoregNN
import AutoregTensor
import CKernels

extension PixelCNN {
    /// One residual block, s ← s + expand(ReLU(conv(ReLU(reduce(ReLU(s)))))), with the
    /// paper's bottleneck (2h → h, k×k h → h, h → 2h), in both passes: over whole images
    /// (`callAsFunction`) and at one position over a cache (`Cached`), from the same layers.
    struct ResidualBlock {
        let reduce: MaskedConv2D, conv: MaskedConv2D, expand: MaskedConv2D

        var layers: [MaskedConv2D] { [reduce, conv, expand] }

        /// The full pass. Each ReLU is applied inside the convolution that follows it, and the
        /// residual sum is written by the last one. Dropout (training only) on the middle
        /// activation, as in PixelCNN++; it commutes with the ReLU `expand` applies.
        func callAsFunction(_ s: Tensor) -> Tensor {
            let reduced = reduce(s, reluInput: true)
            return expand(conv(reduced, reluInput: true).dropout(), reluInput: true, residual: s)
        }

        /// The block's weights packed for a cached pass over `batch` images `width` wide.
        func cached(batch: Int, width: Int) -> Cached { Cached(self, batch: batch, width: width) }

        /// The block evaluated one position at a time. Only the k×k convolution reads other
        /// positions, so only its input, the bottleneck ReLU(reduce(ReLU(s))), is cached, over
        /// the rows the kernel reaches; everything else lives at the current position.
        final class Cached {
            let reduce: PackedConv, conv: PackedConv, expand: PackedConv
            let bottleneck: Plane

            init(_ block: ResidualBlock, batch: Int, width: Int) {
                reduce = block.reduce.packed()
                conv = block.conv.packed()
                expand = block.expand.packed()
                let rows = 1 - (conv.taps.map(\.dy).min() ?? 0)
                bottleneck = Plane(rows: rows, width: width, batch: batch, channels: reduce.outChannels)
                conv.checkCausal(rows: rows, perPixel: true, name: "block conv")
                for one in [reduce, expand] { precondition(one.taps.count == 1 && one.taps[0].dy == 0 && one.taps[0].dx == 0) }
            }

            /// Floats of gather scratch a step needs per image.
            var scratchDepth: Int { conv.depth }

            /// stream [N, 2h] ← stream + block(stream) at (r, c); `work` holds two [N, 2h]
            /// buffers and the gather scratch.
            func step(_ stream: UnsafeMutablePointer<Float>, at r: Int, _ c: Int, work: Workspace) {
                let m = bottleneck.batch, n = expand.outChannels
                let activated = work.activated, hidden = work.hidden
                activated.update(from: stream, count: m * n)
                ar_relu_inplace(activated, m * n)
                let b = bottleneck.at(r, c)
                reduce.fillBias(b, rows: m)
                reduce.multiply(activated, rows: m, into: b)
                ar_relu_inplace(b, m * reduce.outChannels)
                conv.fillBias(hidden, rows: m)
                conv.accumulate(bottleneck, row: r, columns: c..<c + 1, scratch: work.scratch, into: hidden)
                ar_relu_inplace(hidden, m * conv.outChannels)
                expand.fillBias(activated, rows: m)
                expand.multiply(hidden, rows: m, into: activated)
                ar_add(stream, activated, stream, m * n)
            }

            func release() { bottleneck.deallocate() }
        }

        /// Position buffers the cached blocks share: two [N, 2h] and the gather scratch.
        struct Workspace {
            let activated: UnsafeMutablePointer<Float>, hidden: UnsafeMutablePointer<Float>
            let scratch: UnsafeMutablePointer<Float>
        }
    }
}
