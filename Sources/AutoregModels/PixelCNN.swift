import AutoregNN
import AutoregTensor

/// PixelCNN (van den Oord, Kalchbrenner & Kavukcuoglu 2016, "Pixel Recurrent Neural
/// Networks", section 3.5 and figure 5), in raster order with the colour channels of a pixel
/// in order R, G, B:
///
///     k₀×k₀ conv, mask A (C → 2h)                               k₀ = firstKernelSize (7)
///     `layers` residual blocks, each  s ← s + B(s)  with the paper's bottleneck
///         B = ReLU, 1×1 mask B (2h → h), ReLU, k×k mask B (h → h, dilated), ReLU, 1×1 mask B (h → 2h)
///     ReLU, 1×1 mask B (2h → 2h), ReLU, 1×1 mask B (2h → C·L)   L = 1 (Bernoulli) or levels
///
/// with 2h = `hiddenChannels`. Feature maps are split into C channel groups (see
/// `CausalMask`) so that, for colour images, the logits of channel c of a pixel see the
/// pixels above and to the left and channels < c of that pixel. A stack of masked k×k
/// convolutions cannot see the pixels above and to the right beyond a diagonal: the
/// "blind spot" that the gated PixelCNN removes. In training steps run inside `withDropout`,
/// each block's k×k output is dropped out before its expanding 1×1.
public final class PixelCNN: RegisteredModel, ConvolutionalModel, DropoutModel, CachedSampling {
    /// PixelCNN's options (defaults: the PixelRNN paper's PixelCNN with a 64-wide stream).
    public struct Options: ModelOptions {
        /// Feature maps of the residual stream, 2h (the bottlenecks have h).
        public var hiddenChannels: Int
        /// Residual blocks.
        public var layers: Int
        /// The k of the blocks' k×k mask-B convolutions; odd.
        public var kernelSize: Int
        /// The first, mask-A convolution's kernel; odd.
        public var firstKernelSize: Int
        /// One dilation per block.
        public var dilations: [Int]

        /// `dilations` nil: all 1.
        public init(hiddenChannels: Int = 64, layers: Int = 15, kernelSize: Int = 3, firstKernelSize: Int = 7,
                    dilations: [Int]? = nil) {
            (self.hiddenChannels, self.layers, self.kernelSize) = (hiddenChannels, layers, kernelSize)
            self.firstKernelSize = firstKernelSize
            self.dilations = dilations ?? ConvolutionalStack.dilations([1], layers: layers)
        }
        public init() { self.init(hiddenChannels: 64) }
        public init(legacy l: LegacyModelConfig) throws {
            try l.requireUnset(except: [.hiddenChannels, .layers, .kernelSize, .firstKernelSize, .dilations])
            self.init(hiddenChannels: l.hiddenChannels ?? 64, layers: l.layers ?? 15, kernelSize: l.kernelSize ?? 3,
                      firstKernelSize: l.firstKernelSize ?? 7, dilations: l.dilations)
        }

        public func validate(for config: ModelConfig) throws {
            try ConvolutionalStack.validate(.pixelcnn, channels: hiddenChannels, layers: layers, minimumLayers: 0,
                                            kernelSize: kernelSize, dilations: dilations)
            func fail(_ s: String) throws -> Never { throw ModelError(description: "pixelcnn: " + s) }
            if firstKernelSize < 3 || firstKernelSize % 2 == 0 {
                try fail("first (mask A) kernel size must be odd and at least 3, got \(firstKernelSize)")
            }
            if hiddenChannels % 2 != 0 || hiddenChannels / 2 < config.channels {
                try fail("hidden channels must be even and at least \(2 * config.channels) for \(config.channels) image channel(s) "
                    + "(the residual blocks' bottleneck has half as many, split into one group per colour), got \(hiddenChannels)")
            }
        }
        public var sizes: [(name: String, value: Int)] {
            [("hiddenChannels", hiddenChannels), ("layers", layers), ("kernelSize", kernelSize),
             ("firstKernelSize", firstKernelSize), ("dilations", dilations.count)]
                + dilations.enumerated().map { ("dilations[\($0.offset)]", $0.element) }
        }
        public func estimatedParameterCount(for config: ModelConfig) -> Double {
            ConvolutionalStack.parameters(config, channels: hiddenChannels, layers: layers, kernelSize: kernelSize,
                                          firstKernelSize: firstKernelSize)
        }
        public func estimatedActivations(for config: ModelConfig, training: Bool) -> Double {
            ConvolutionalStack.activations(config, channels: hiddenChannels, layers: layers, training: training)
        }
        public var description: String {
            "channels \(hiddenChannels), layers \(layers), kernel \(kernelSize), first kernel \(firstKernelSize), "
                + "dilations \(dilations.map(String.init).joined(separator: ","))"
        }
    }

    public static var optionsType: any ModelOptions.Type { Options.self }
    public static var summary: String { "PixelCNN: masked convolutions (mask A, then B) in residual blocks" }
    public static var evaluationBatchSize: Int { 50 }

    public let config: ModelConfig
    public let options: Options
    public let ordering: [Int]
    let input: MaskedConv2D
    /// The residual blocks (`PixelCNN+Block.swift`: both passes of a block).
    let blocks: [ResidualBlock]
    let outputHidden: MaskedConv2D
    let head: MaskedConv2D

    public init(config: ModelConfig) throws {
        guard config.kind == .pixelcnn else { throw ModelError(description: "config is for \(config.kind), not pixelcnn") }
        try config.validate()
        self.config = config
        let options = try config.options(as: Options.self)
        self.options = options
        ordering = Array(0..<config.dimension)
        var rng = RandomGenerator(seed: config.seed)
        let c = config.channels, n = options.hiddenChannels, half = n / 2
        let outWidth = c * config.output.width
        /// A masked k×k (or 1×1) convolution between grouped channel sets.
        func conv(_ cin: Int, _ cout: Int, _ k: Int, _ kind: CausalMask.Kind, dilation: Int = 1,
                  _ name: String) -> MaskedConv2D {
            MaskedConv2D(inChannels: cin, outChannels: cout, kernel: (k, k),
                         mask: CausalMask.pixelCNN(outChannels: cout, inChannels: cin, kernel: k, kind: kind, groups: c),
                         dilation: (dilation, dilation), name: name, rng: &rng)
        }
        input = conv(c, n, options.firstKernelSize, .a, "input")
        blocks = options.dilations.enumerated().map { l, d in
            ResidualBlock(reduce: conv(n, half, 1, .b, "block\(l).reduce"),
                          conv: conv(half, half, options.kernelSize, .b, dilation: d, "block\(l).conv"),
                          expand: conv(half, n, 1, .b, "block\(l).expand"))
        }
        outputHidden = conv(n, n, 1, .b, "output.hidden")
        head = conv(n, outWidth, 1, .b, "output.head")
    }

    public var parameters: [(name: String, tensor: Tensor)] {
        input.parameters + blocks.flatMap { $0.layers.flatMap(\.parameters) }
            + outputHidden.parameters + head.parameters
    }

    public func logits(_ pixels: Tensor) -> Tensor { ImageLayout.logits(headOutput(pixels), config) }

    public func nll(_ pixels: Tensor) -> Tensor { ImageLayout.nll(headOutput(pixels), pixels, config) }

    /// The head's output [B, C·L', H, W] (see `ImageLayout.logits`).
    func headOutput(_ pixels: Tensor) -> Tensor {
        // Each ReLU is applied inside the convolution that follows it (never stored).
        var s = input(ImageLayout.input(pixels, config))
        for block in blocks { s = block(s) }
        return head(outputHidden(s, reluInput: true), reluInput: true)
    }

    public var convolutions: [(layer: MaskedConv2D, readsImage: Bool)] {
        [(input, true)] + blocks.flatMap { $0.layers.map { ($0, false) } }
            + [(outputHidden, false), (head, false)]
    }

    public func incrementalNetwork(count: Int, labels: [Int]?) -> any IncrementalNetwork {
        precondition(labels == nil, "pixelcnn is not class-conditional but was given labels")
        return PixelCNNIncremental(self, count: count)
    }
}
