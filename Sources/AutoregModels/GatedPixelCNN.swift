import AutoregNN
import AutoregTensor

/// Gated PixelCNN (van den Oord et al. 2016, "Conditional Image Generation with PixelCNN
/// Decoders"), laid out as in the UvA deep-learning tutorial (64 channels, 7 blocks with
/// dilations 1,2,1,4,1,2,1 and a 256-way head: 852 160 parameters for one channel):
///
///     v ← k×k vertical conv (C → n) without the centre row: row i sees rows < i only
///     h ← 1×k horizontal conv (C → n), mask A: pixel j sees pixels < j of its row
///     per block (dilation d):
///         v_f = k×k vertical conv (n → 2n, dilation d, centre row kept) (v) [+ V_v·onehot(y)]
///         h_f = 1×k horizontal conv (n → 2n, dilation d, mask B) (h) + 1×1 (2n → 2n) (v_f) [+ V_h·onehot(y)]
///         v ← tanh(v_f[:n]) ⊙ σ(v_f[n:])
///         h ← h + 1×1 mask B (n → n) (tanh(h_f[:n]) ⊙ σ(h_f[n:]))
///     logits = 1×1 mask B (n → C·L) (ELU(h))        L = 1 (Bernoulli) or levels
///
/// Since the first vertical layer drops the current row and later ones only look up, the
/// vertical features at row i depend on rows < i alone: the 1×1 link may add them to the
/// horizontal stack of row i unshifted (equivalent to a down-shifted link after a vertical
/// stack that includes the current row). Vertical and horizontal stacks together see every
/// pixel above and to the left: there is no blind spot. For colour images the horizontal
/// stack's channels are split into C groups as in `PixelCNN` (the vertical stack never sees
/// the current row, so needs none). With `classes` > 0 every gated layer adds a learned
/// per-class bias to both stacks' pre-activations (the paper's V·h with a one-hot h). In
/// training steps run inside `withDropout`, both stacks' gated outputs are dropped out.
public final class GatedPixelCNN: ConditionalModel {
    public let config: ModelConfig
    public let ordering: [Int]
    public var classes: Int { config.classes }
    let verticalInput: MaskedConv2D
    let horizontalInput: MaskedConv2D
    let blocks: [Block]
    let head: MaskedConv2D

    /// One gated layer: both stacks, the vertical-to-horizontal link and the horizontal 1×1.
    struct Block {
        let vertical: MaskedConv2D
        let horizontal: MaskedConv2D
        let link: MaskedConv2D
        let horizontalOut: MaskedConv2D
        /// [classes, 2n] per stack, when class-conditional.
        let verticalLabel: Tensor?
        let horizontalLabel: Tensor?
        let name: String

        var parameters: [(name: String, tensor: Tensor)] {
            vertical.parameters + horizontal.parameters + link.parameters + horizontalOut.parameters
                + (verticalLabel.map { [("\(name).vertical.label", $0)] } ?? [])
                + (horizontalLabel.map { [("\(name).horizontal.label", $0)] } ?? [])
        }
    }

    public init(config: ModelConfig) throws {
        try config.validate()
        guard config.kind == .gatedPixelCNN else {
            throw ModelError(description: "config is for \(config.kind), not gated-pixelcnn")
        }
        self.config = config
        ordering = Array(0..<config.dimension)
        var rng = RandomGenerator(seed: config.seed)
        let c = config.channels, n = config.hiddenChannels, k = config.kernelSize
        let levelsOut = config.levels == 2 ? 1 : config.levels
        // Channel groups: image channel c is group c; hidden channel j of n is group j·C/n;
        // a 2n-wide pre-activation holds values then gates, each grouped like the n channels.
        let hidden: (Int) -> Int = { CausalMask.group($0, of: n, groups: c) }
        let doubled: (Int) -> Int = { CausalMask.group($0 % n, of: n, groups: c) }
        let image: (Int) -> Int = { $0 }

        verticalInput = MaskedConv2D(
            inChannels: c, outChannels: n, kernel: (k, k),
            mask: CausalMask.vertical(outChannels: n, inChannels: c, kernel: k, excludeCentreRow: true),
            name: "input.vertical", rng: &rng)
        horizontalInput = MaskedConv2D(
            inChannels: c, outChannels: n, kernel: (1, k),
            mask: CausalMask.horizontal(outChannels: n, inChannels: c, kernel: k, kind: .a, outGroup: hidden, inGroup: image),
            name: "input.horizontal", rng: &rng)
        var blocks: [Block] = []
        for (l, d) in config.dilations.enumerated() {
            let name = "block\(l)"
            let vertical = MaskedConv2D(
                inChannels: n, outChannels: 2 * n, kernel: (k, k),
                mask: CausalMask.vertical(outChannels: 2 * n, inChannels: n, kernel: k, excludeCentreRow: false),
                dilation: (d, d), name: "\(name).vertical", rng: &rng)
            let horizontal = MaskedConv2D(
                inChannels: n, outChannels: 2 * n, kernel: (1, k),
                mask: CausalMask.horizontal(outChannels: 2 * n, inChannels: n, kernel: k, kind: .b,
                                            outGroup: doubled, inGroup: hidden),
                dilation: (1, d), name: "\(name).horizontal", rng: &rng)
            let link = MaskedConv2D(inChannels: 2 * n, outChannels: 2 * n, kernel: (1, 1), name: "\(name).link", rng: &rng)
            let horizontalOut = MaskedConv2D(
                inChannels: n, outChannels: n, kernel: (1, 1),
                mask: c == 1 ? nil : CausalMask.horizontal(outChannels: n, inChannels: n, kernel: 1, kind: .b,
                                                           outGroup: hidden, inGroup: hidden),
                name: "\(name).horizontal.out", rng: &rng)
            var labelV: Tensor?, labelH: Tensor?
            if config.classes > 0 {
                let bound = 1 / Float(config.classes).squareRoot()
                labelV = Tensor.uniform([config.classes, 2 * n], low: -bound, high: bound, rng: &rng, requiresGrad: true)
                labelH = Tensor.uniform([config.classes, 2 * n], low: -bound, high: bound, rng: &rng, requiresGrad: true)
            }
            blocks.append(Block(vertical: vertical, horizontal: horizontal, link: link, horizontalOut: horizontalOut,
                                verticalLabel: labelV, horizontalLabel: labelH, name: name))
        }
        self.blocks = blocks
        head = MaskedConv2D(
            inChannels: n, outChannels: c * levelsOut, kernel: (1, 1),
            mask: c == 1 ? nil : CausalMask.horizontal(outChannels: c * levelsOut, inChannels: n, kernel: 1, kind: .b,
                                                       outGroup: { $0 / levelsOut }, inGroup: hidden),
            name: "output.head", rng: &rng)
    }

    public var parameters: [(name: String, tensor: Tensor)] {
        verticalInput.parameters + horizontalInput.parameters + blocks.flatMap(\.parameters) + head.parameters
    }

    public func logits(_ pixels: Tensor) -> Tensor { logits(pixels, labels: nil) }

    public func logits(_ pixels: Tensor, labels: [Int]?) -> Tensor {
        let x = ImageLayout.input(pixels, config)
        let batch = x.shape[0], n = config.hiddenChannels
        let y = labels.map { labels -> Tensor in
            checkLabels(labels, batch: batch)
            return oneHot(labels, classes: classes)
        }
        /// Adds the label bias [B, 2n] → [B, 2n, 1, 1] to `f`.
        func conditioned(_ f: Tensor, _ table: Tensor?) -> Tensor {
            guard let y, let table else { return f }
            return f + y.matmul(table).reshaped([batch, 2 * n, 1, 1])
        }
        var v = verticalInput(x), h = horizontalInput(x)
        for b in blocks {
            let vf = conditioned(b.vertical(v), b.verticalLabel)
            let hf = conditioned(b.horizontal(h, plus: (b.link, vf)), b.horizontalLabel)
            // tanh(values) ⊙ σ(gates) over the 2n channels; dropout only in training steps.
            v = vf.gated().dropout()
            h = b.horizontalOut(hf.gated().dropout(), residual: h)
        }
        return ImageLayout.logits(head(h.elu()), config)
    }
}
