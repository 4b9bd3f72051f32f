import AutoregNN
import AutoregTensor

extension PixelCNNPlusPlus {
    /// Which way a convolution is shifted so that it sees no later pixel (the paper's code
    /// pads before a VALID convolution; here the padding is the convolution's own).
    enum Shift {
        /// `down_shifted_conv2d`: a KH×KW kernel over the KH − 1 rows above and the current
        /// row, centred on the column (KW odd). Padding top KH − 1, left and right (KW − 1)/2.
        case down
        /// `down_right_shifted_conv2d`: a KH×KW kernel over the KH − 1 rows above and the KW − 1
        /// columns to the left, and the pixel. Padding top KH − 1, left KW − 1.
        case downRight

        func padding(_ kernel: (Int, Int)) -> Conv2DPadding {
            switch self {
            case .down: return .explicit(top: kernel.0 - 1, bottom: 0, left: (kernel.1 - 1) / 2, right: (kernel.1 - 1) / 2)
            case .downRight: return .explicit(top: kernel.0 - 1, bottom: 0, left: kernel.1 - 1, right: 0)
            }
        }

        /// The stride-2 up-sampling's padding (`down_shifted_deconv2d`, `down_right_shifted_deconv2d`):
        /// a transposed convolution places coarse (i, j) at fine rows 2i … 2i + KH − 1, and the
        /// paper keeps the first of them (cuts KH − 1 rows at the bottom), with the columns
        /// centred (down) or starting at 2j (down-right).
        func upPadding(_ kernel: (Int, Int)) -> Conv2DPadding {
            switch self {
            case .down: return .explicit(top: 0, bottom: kernel.0 - 1, left: (kernel.1 - 1) / 2, right: (kernel.1 - 1) / 2)
            case .downRight: return .explicit(top: 0, bottom: kernel.0 - 1, left: 0, right: kernel.1 - 1)
            }
        }

        /// The blocks' kernel: 2×3 for u, 2×2 for ul.
        var blockKernel: (Int, Int) { self == .down ? (2, 3) : (2, 2) }
    }

    /// A shifted convolution: output (i, j) reads rows i − KH + 1 … i (stride 1), or rows
    /// 2i − KH + 1 … 2i of the finer image (stride 2).
    struct ShiftedConv {
        let layer: MaskedConv2D

        init(_ shift: Shift, kernel: (Int, Int)? = nil, inChannels: Int, outChannels: Int, stride: Int = 1,
             initScale: Float = 1, name: String, rng: inout RandomGenerator) {
            let k = kernel ?? shift.blockKernel
            layer = MaskedConv2D(inChannels: inChannels, outChannels: outChannels, kernel: k, stride: (stride, stride),
                                 padding: shift.padding(k), initScale: initScale, name: name, rng: &rng)
        }

        var parameters: [(name: String, tensor: Tensor)] { layer.parameters }
        func callAsFunction(_ x: Tensor) -> Tensor { layer(x) }
        func term(_ x: Tensor) -> ConvolutionTerm { layer.term(x) }
    }

    /// A stride-2 transposed shifted convolution (the block kernel), F → F: the coarse
    /// stream back at the finer size it came from.
    struct ShiftedDeconv {
        let layer: TransposedConv2D

        init(_ shift: Shift, channels: Int, name: String, rng: inout RandomGenerator) {
            let k = shift.blockKernel
            layer = TransposedConv2D(inChannels: channels, outChannels: channels, kernel: k, stride: (2, 2),
                                     padding: shift.upPadding(k), name: name, rng: &rng)
        }

        var parameters: [(name: String, tensor: Tensor)] { layer.parameters }
        func callAsFunction(_ x: Tensor, outputSize: (Int, Int)) -> Tensor { layer(x, outputSize: outputSize) }
    }

    /// `gated_resnet`: x + a ⊙ σ(b) with [a, b] = conv′(dropout(concat_elu(conv(concat_elu(x))
    /// + Σ_k nin_k(concat_elu(aux_k))))), conv and conv′ shifted like the stream. Each
    /// auxiliary input (a shortcut, or u for ul) has its own 1×1 `link`, summed with conv in
    /// one buffer.
    struct GatedResnet {
        /// 2F → F, the stream's shifted kernel.
        let conv: ShiftedConv
        /// 2F → F, 1×1: one per auxiliary input.
        let links: [MaskedConv2D]
        /// 2F → 2F, the stream's shifted kernel, initialised at 0.1 of the usual scale.
        let gateConv: ShiftedConv

        init(_ shift: Shift, filters f: Int, links: Int, name: String, rng: inout RandomGenerator) {
            conv = ShiftedConv(shift, inChannels: 2 * f, outChannels: f, name: "\(name).conv", rng: &rng)
            self.links = (0..<links).map {
                MaskedConv2D(inChannels: 2 * f, outChannels: f, kernel: (1, 1), name: "\(name).link\($0)", rng: &rng)
            }
            gateConv = ShiftedConv(shift, inChannels: 2 * f, outChannels: 2 * f, initScale: 0.1, name: "\(name).gate", rng: &rng)
        }

        var parameters: [(name: String, tensor: Tensor)] {
            conv.parameters + links.flatMap(\.parameters) + gateConv.parameters
        }

        func callAsFunction(_ x: Tensor, _ aux: [Tensor], elu: ConcatELUs) -> Tensor {
            precondition(aux.count == links.count, "gated_resnet: \(aux.count) auxiliary inputs for \(links.count) links")
            let terms = [conv.term(elu(x))] + zip(links, aux).map { $0.term(elu($1)) }
            let hidden = Tensor.sumOfConvolutions(terms).concatELU().dropout()
            return x + gateConv(hidden).gatedLinear()
        }
    }

    /// concat_elu of the stream values of one pass, each computed once. Most values enter
    /// three blocks: u after an up-pass block is ul's link input and the next u block's
    /// input, and every kept value returns as a shortcut in the down pass.
    final class ConcatELUs {
        /// Per value: the value itself (so that its identifier is not reused) and its concat_elu.
        private var computed: [ObjectIdentifier: (source: Tensor, elu: Tensor)] = [:]

        func callAsFunction(_ x: Tensor) -> Tensor {
            if let known = computed[ObjectIdentifier(x)] { return known.elu }
            forgetUnreachable()
            let y = x.concatELU()
            computed[ObjectIdentifier(x)] = (x, y)
            return y
        }

        /// Drops the values no one else holds: no later call can pass them, and without a
        /// tape (evaluation, sampling) their concat_elu would otherwise stay alive to the end.
        private func forgetUnreachable() {
            for key in Array(computed.keys) where isKnownUniquelyReferenced(&computed[key]!.source) {
                computed[key] = nil
            }
        }
    }

    /// One block of each stream at one position of a pass: u's (down-shifted) and ul's
    /// (down-right-shifted; its first link reads u).
    struct BlockPair {
        let u: GatedResnet
        let ul: GatedResnet

        init(filters: Int, uLinks: Int, ulLinks: Int, name: String, rng: inout RandomGenerator) {
            u = GatedResnet(.down, filters: filters, links: uLinks, name: "\(name).u", rng: &rng)
            ul = GatedResnet(.downRight, filters: filters, links: ulLinks, name: "\(name).ul", rng: &rng)
        }

        var parameters: [(name: String, tensor: Tensor)] { u.parameters + ul.parameters }
    }
}
