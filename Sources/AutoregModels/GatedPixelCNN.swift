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
public final class GatedPixelCNN: RegisteredModel, ConditionalModel, ConvolutionalModel, DropoutModel, CachedSampling {
    /// Gated PixelCNN's options (defaults: the UvA tutorial's model).
    public struct Options: ModelOptions {
        /// Feature maps of each stack.
        public var hiddenChannels: Int
        /// Gated blocks.
        public var layers: Int
        /// The k of the k×k vertical and 1×k horizontal kernels; odd.
        public var kernelSize: Int
        /// One dilation per block.
        public var dilations: [Int]

        /// `dilations` nil: 1,2,1,4,1,2,1 repeated or cut to `layers` entries.
        public init(hiddenChannels: Int = 64, layers: Int = 7, kernelSize: Int = 3, dilations: [Int]? = nil) {
            (self.hiddenChannels, self.layers, self.kernelSize) = (hiddenChannels, layers, kernelSize)
            self.dilations = dilations ?? ConvolutionalStack.dilations([1, 2, 1, 4, 1, 2, 1], layers: layers)
        }
        public init() { self.init(hiddenChannels: 64) }
        public init(legacy l: LegacyModelConfig) throws {
            try l.requireUnset(except: [.hiddenChannels, .layers, .kernelSize, .dilations])
            self.init(hiddenChannels: l.hiddenChannels ?? 64, layers: l.layers ?? 7, kernelSize: l.kernelSize ?? 3,
                      dilations: l.dilations)
        }

        public func validate(for config: ModelConfig) throws {
            try ConvolutionalStack.validate(.gatedPixelCNN, channels: hiddenChannels, layers: layers, minimumLayers: 1,
                                            kernelSize: kernelSize, dilations: dilations)
            if hiddenChannels < config.channels {
                throw ModelError(description: "gated-pixelcnn: hidden channels must be at least \(config.channels), "
                    + "one group per image channel, got \(hiddenChannels)")
            }
        }
        public var sizes: [(name: String, value: Int)] {
            [("hiddenChannels", hiddenChannels), ("layers", layers), ("kernelSize", kernelSize), ("dilations", dilations.count)]
                + dilations.enumerated().map { ("dilations[\($0.offset)]", $0.element) }
        }
        public func estimatedParameterCount(for config: ModelConfig) -> Double {
            ConvolutionalStack.parameters(config, channels: hiddenChannels, layers: layers, kernelSize: kernelSize,
                                          firstKernelSize: 0)
        }
        public func estimatedActivations(for config: ModelConfig, training: Bool) -> Double {
            ConvolutionalStack.activations(config, channels: hiddenChannels, layers: layers, training: training)
        }
        public var description: String {
            "channels \(hiddenChannels), layers \(layers), kernel \(kernelSize), "
                + "dilations \(dilations.map(String.init).joined(separator: ","))"
        }
    }

    public static var optionsType: any ModelOptions.Type { Options.self }
    public static var summary: String {
        "Gated PixelCNN: vertical and horizontal stacks without the blind spot, tanh·sigmoid gates, class-conditional"
    }
    public static var evaluationBatchSize: Int { 50 }

    public let config: ModelConfig
    public let options: Options
    public let ordering: [Int]
    public var classes: Int { config.classes }
    let verticalInput: MaskedConv2D
    let horizontalInput: MaskedConv2D
    /// The gated blocks (`GatedPixelCNN+Block.swift`: both passes of a block).
    let blocks: [Block]
    let head: MaskedConv2D

    public init(config: ModelConfig) throws {
        guard config.kind == .gatedPixelCNN else {
            throw ModelError(description: "config is for \(config.kind), not gated-pixelcnn")
        }
        try config.validate()
        self.config = config
        let options = try config.options(as: Options.self)
        self.options = options
        ordering = Array(0..<config.dimension)
        var rng = RandomGenerator(seed: config.seed)
        let c = config.channels, n = options.hiddenChannels, k = options.kernelSize
        let levelsOut = config.output.width
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
        for (l, d) in options.dilations.enumerated() {
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
        ImageLayout.logits(headOutput(pixels, labels: labels), config)
    }

    public func nll(_ pixels: Tensor) -> Tensor { nll(pixels, labels: nil) }

    public func nll(_ pixels: Tensor, labels: [Int]?) -> Tensor {
        ImageLayout.nll(headOutput(pixels, labels: labels), pixels, config)
    }

    /// The head's output [B, C·L', H, W] (see `ImageLayout.logits`).
    func headOutput(_ pixels: Tensor, labels: [Int]?) -> Tensor {
        let x = ImageLayout.input(pixels, config)
        let batch = x.shape[0]
        let y = labels.map { labels -> Tensor in
            checkLabels(labels, batch: batch)
            return oneHot(labels, classes: classes)
        }
        var v = verticalInput(x), h = horizontalInput(x)
        for block in blocks { (v, h) = block(v, h, labels: y) }
        return head(h.elu())
    }

    public var convolutions: [(layer: MaskedConv2D, readsImage: Bool)] {
        [(verticalInput, true), (horizontalInput, true)]
            + blocks.flatMap { [($0.vertical, false), ($0.horizontal, false), ($0.link, false), ($0.horizontalOut, false)] }
            + [(head, false)]
    }

    public func incrementalNetwork(count: Int, labels: [Int]?) -> any IncrementalNetwork {
        if let labels { checkLabels(labels, batch: count) }
        return GatedPixelCNNIncremental(self, count: count, labels: labels)
    }
}
