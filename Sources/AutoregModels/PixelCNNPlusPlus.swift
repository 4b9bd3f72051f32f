import AutoregNN
import AutoregTensor

/// PixelCNN++ (Salimans, Karpathy, Chen & Kingma 2017, "PixelCNN++: Improving the PixelCNN
/// with Discretized Logistic Mixture Likelihood and Other Modifications"), as its reference
/// code `pixel_cnn_pp/model.py` builds it (grey images, and RGB ones with the coupled mixture):
///
///     x' = [x, 1]                                        a channel of ones marks the image inside the padding
///     u  = down_shift(down_shifted_conv 2×3 (x'))        the stream of the rows above
///     ul = down_shift(down_shifted_conv 1×3 (x')) + right_shift(down_right_shifted_conv 2×1 (x'))
///                                                        the stream of the rows above and the pixels to the left
///     up pass (fine → coarse), three resolutions H×W, ⌈H/2⌉×⌈W/2⌉, ⌈H/4⌉×⌈W/4⌉:
///         `resnetBlocks` times:  u ← gated_resnet(u),  ul ← gated_resnet(ul, u)      every u and ul kept
///         between resolutions:   u ← down_shifted_conv 2×3 stride 2 (u),  ul ← down_right_shifted_conv 2×2 stride 2 (ul)
///     down pass (coarse → fine), taking the kept streams back in reverse order as shortcuts:
///         `resnetBlocks` (then `resnetBlocks` + 1 at the two finer resolutions) times:
///                                u ← gated_resnet(u, u_kept),  ul ← gated_resnet(ul, [u, ul_kept])
///         between resolutions:   u ← down_shifted_deconv 2×3 stride 2 (u),  ul ← down_right_shifted_deconv 2×2 stride 2 (ul)
///     outputs = nin(concat_elu(ul))                       1×1 to the output width: 3K for K logistics
///
///     gated_resnet(x, a…) = x + a₁ ⊙ σ(a₂),  [a₁, a₂] = conv′(dropout(concat_elu(conv(concat_elu(x)) + Σ nin(concat_elu(a)))))
///
/// with concat_elu(v) = [elu(v), elu(−v)] and conv, conv′ the stream's shifted convolution:
/// down-shifted (2×3, the row above and the current row) for u, down-right-shifted (2×2, the
/// pixel, the one to its left and the two above) for ul. The first layers shift their outputs
/// so that u at row i sees rows < i only, and ul at (i, j) the pixels before it in raster
/// order; every later layer keeps that. The down-sampling convolutions read rows 2i − 1 and 2i
/// of a stream whose row 2i sees rows < 2i, and the up-sampling ones give coarse row i to rows
/// 2i and 2i + 1 (and coarse (i, j) of ul to (2i…2i+1, 2j…2j+1)), so causality holds at every
/// resolution without masks, and the image has no blind spot. Odd sizes work: a stride-2
/// convolution gives ⌈n/2⌉, and its transpose is cut back to the finer size.
///
/// Not from the paper: no weight normalisation or data-dependent initialisation (PyTorch's
/// default initialisation, the second convolution of each block scaled by the paper's 0.1);
/// the head reads concat_elu(ul) where the reference code reads elu(ul); a shortcut's `nin`
/// over [u, ul_kept] is two 1×1 convolutions summed (the same function).
///
/// **Colour.** The shifted convolutions give every sub-pixel of a pixel the same context, so
/// the chain rule over R, G, B comes from the output, as in the paper: for RGB images the head
/// gives each pixel the 10K parameters of a colour `LogisticMixture` (means of G and B moved by
/// α·r, β·r + γ·g of the pixel's own earlier values), which `logisticMixtureConditionals` turns
/// into the exact per-sub-pixel conditionals p(r), p(g | r), p(b | r, g). Colour therefore needs
/// the mixture output; Bernoulli and categorical heads would need channel-group masks this
/// architecture does not have, and are refused for more than one channel. Its cached sampler
/// evaluates every activation lazily, position by position (`PixelCNNPlusPlus+Cached.swift`).
/// It is not a `ConvolutionalModel` (that list is of `MaskedConv2D`s and has no place for the
/// transposed convolutions).
public final class PixelCNNPlusPlus: RegisteredModel, DropoutModel {
    /// PixelCNN++'s options (defaults: a small model for 28×28 grey images on a 2-CPU machine,
    /// 968 239 parameters with a 5-component mixture, about the Gated PixelCNN's training speed;
    /// the paper's CIFAR-10 model has 160 filters and 5 blocks per resolution).
    public struct Options: ModelOptions {
        /// Feature maps of both streams (nr_filters).
        public var filters: Int
        /// Gated residual blocks per resolution in the up pass (nr_resnet); the down pass has
        /// as many at the coarsest resolution and one more at the two finer ones.
        public var resnetBlocks: Int

        public init(filters: Int = 32, resnetBlocks: Int = 2) {
            (self.filters, self.resnetBlocks) = (filters, resnetBlocks)
        }
        public init() { self.init(filters: 32) }

        public func validate(for config: ModelConfig) throws {
            func fail(_ s: String) throws -> Never { throw ModelError(description: "pixelcnn++: " + s) }
            if filters < 1 { try fail("filters must be positive, got \(filters)") }
            if resnetBlocks < 0 { try fail("resnet blocks per resolution must be 0 or more, got \(resnetBlocks)") }
            if config.channels != 1 {
                guard config.channels == 3, case .logisticMixture = config.output else {
                    try fail("models grey images, or RGB images with logistic-mixture outputs, not \(config.channels) "
                        + "channels with \(config.output) outputs: its shifted convolutions give every channel of a "
                        + "pixel the same context, so G can see R (and B both) only through the colour mixture's "
                        + "coupling; use --output logistic-mixture:K, or gated-pixelcnn or pixelcnn")
                }
            }
        }
        public var sizes: [(name: String, value: Int)] { [("filters", filters), ("resnetBlocks", resnetBlocks)] }

        /// Gated residual block pairs (one u and one ul block each): 3R up, 3R + 2 down.
        var blockPairs: Double { Double(6 * max(resnetBlocks, 0) + 2) }

        public func estimatedParameterCount(for config: ModelConfig) -> Double {
            let f = Double(filters), c = Double(config.channels + 1), out = Double(PixelCNNPlusPlus.headWidth(config))
            // Per pair: u's 2×3 convolutions 2F → F and 2F → 2F, ul's 2×2 ones, up to three 1×1 links 2F → F.
            let perPair = f * f * (12 + 24 + 8 + 16 + 6) + 10 * f
            // Two down- and two up-samplings, each a 2×3 (u) and a 2×2 (ul) F → F.
            return c * f * 11 + 3 * f + blockPairs * perPair + 4 * (f * f * 10 + 2 * f) + 2 * f * out + out
        }

        public func estimatedActivations(for config: ModelConfig, training: Bool) -> Double {
            // Every block keeps about 16F floats per position on the tape (two concat_elu's of
            // 2F, their convolutions, the dropout, the gate and the sum; `estimatedActivationBytes`
            // doubles training's figure), 4F without; the kept streams are 2F per position.
            // Coarser resolutions have a quarter of the positions. (Default model, 28×28,
            // batch 100: 2.2 GB estimated, 1.76 GiB peak resident measured.)
            let pixels = Double(config.height * config.width), f = Double(filters), r = Double(max(resnetBlocks, 0))
            let weighted = (2 * r + 1) * (1 + 0.25) + 2 * r / 16
            let blocks = 2 * weighted * f * pixels * (training ? 8 : 4)
            let kept = 2 * f * pixels * (r + 1) * (1 + 0.25 + 1.0 / 16)
            return blocks + kept + Double(config.dimension * config.output.width) * 2
        }

        public var description: String { "filters \(filters), resnet blocks \(resnetBlocks) per resolution" }
    }

    public static var optionsType: any ModelOptions.Type { Options.self }
    public static var summary: String {
        "PixelCNN++: down- and down-right-shifted streams, gated ResNet blocks over three resolutions, logistic mixtures (coupled over R, G, B for colour)"
    }
    public static var evaluationBatchSize: Int { 50 }
    /// The paper's output: 10 logistics per pixel on 8-bit pixels (Bernoulli on binary ones).
    public static func defaultOutput(levels: Int) -> PixelDistribution {
        levels == 256 ? .logisticMixture(components: 10) : .forLevels(levels)
    }

    /// Resolutions the network works at: full, half, quarter.
    static let resolutions = 3

    public let config: ModelConfig
    public let options: Options
    public let ordering: [Int]
    /// u's first layer: 2×3 down-shifted over [x, 1], then shifted down a row.
    let inputU: ShiftedConv
    /// ul's first layers: 1×3 over the row (shifted down a row) and 2×1 over the column
    /// (shifted right a column).
    let inputULAbove: ShiftedConv, inputULLeft: ShiftedConv
    /// The up pass's blocks, per resolution (fine first), `resnetBlocks` each.
    let upBlocks: [[BlockPair]]
    /// Stride-2 shifted convolutions from resolution k to k + 1.
    let downsampling: [(u: ShiftedConv, ul: ShiftedConv)]
    /// The down pass's blocks, per resolution (fine first): R + 1, R + 1, R.
    let downBlocks: [[BlockPair]]
    /// Stride-2 transposed shifted convolutions from resolution k + 1 to k.
    let upsampling: [(u: ShiftedDeconv, ul: ShiftedDeconv)]
    /// nin: concat_elu(ul) (2F) → the output width.
    let head: MaskedConv2D

    public init(config: ModelConfig) throws {
        guard config.kind == .pixelCNNPlusPlus else {
            throw ModelError(description: "config is for \(config.kind), not pixelcnn++")
        }
        try config.validate()
        self.config = config
        let options = try config.options(as: Options.self)
        self.options = options
        ordering = Array(0..<config.dimension)
        var rng = RandomGenerator(seed: config.seed)
        let f = options.filters, r = options.resnetBlocks, input = config.channels + 1

        inputU = ShiftedConv(.down, kernel: (2, 3), inChannels: input, outChannels: f, name: "input.u", rng: &rng)
        inputULAbove = ShiftedConv(.down, kernel: (1, 3), inChannels: input, outChannels: f, name: "input.ul.above", rng: &rng)
        inputULLeft = ShiftedConv(.downRight, kernel: (2, 1), inChannels: input, outChannels: f, name: "input.ul.left", rng: &rng)
        var up: [[BlockPair]] = [], down: [(u: ShiftedConv, ul: ShiftedConv)] = []
        for level in 0..<Self.resolutions {
            if level > 0 {
                down.append((ShiftedConv(.down, inChannels: f, outChannels: f, stride: 2, name: "downsample\(level).u", rng: &rng),
                             ShiftedConv(.downRight, inChannels: f, outChannels: f, stride: 2, name: "downsample\(level).ul", rng: &rng)))
            }
            up.append((0..<r).map { BlockPair(filters: f, uLinks: 0, ulLinks: 1, name: "up\(level).block\($0)", rng: &rng) })
        }
        var downBlocks = [[BlockPair]](repeating: [], count: Self.resolutions)
        var upsampling: [(u: ShiftedDeconv, ul: ShiftedDeconv)] = []
        for level in (0..<Self.resolutions).reversed() {
            if level < Self.resolutions - 1 {
                upsampling.insert((ShiftedDeconv(.down, channels: f, name: "upsample\(level).u", rng: &rng),
                                   ShiftedDeconv(.downRight, channels: f, name: "upsample\(level).ul", rng: &rng)), at: 0)
            }
            let count = level == Self.resolutions - 1 ? r : r + 1
            downBlocks[level] = (0..<count).map { BlockPair(filters: f, uLinks: 1, ulLinks: 2, name: "down\(level).block\($0)", rng: &rng) }
        }
        (self.upBlocks, self.downsampling, self.downBlocks, self.upsampling) = (up, down, downBlocks, upsampling)
        head = MaskedConv2D(inChannels: 2 * f, outChannels: Self.headWidth(config), kernel: (1, 1),
                            name: "output.head", rng: &rng)
    }

    public var parameters: [(name: String, tensor: Tensor)] {
        var p = inputU.parameters + inputULAbove.parameters + inputULLeft.parameters
        for level in 0..<Self.resolutions {
            if level > 0 { p += downsampling[level - 1].u.parameters + downsampling[level - 1].ul.parameters }
            p += upBlocks[level].flatMap(\.parameters)
        }
        for level in (0..<Self.resolutions).reversed() {
            if level < Self.resolutions - 1 { p += upsampling[level].u.parameters + upsampling[level].ul.parameters }
            p += downBlocks[level].flatMap(\.parameters)
        }
        return p + head.parameters
    }

    public func logits(_ pixels: Tensor) -> Tensor {
        let x = ImageLayout.input(pixels, config)
        let (batch, height, width) = (x.shape[0], x.shape[2], x.shape[3])
        let padded = Tensor.concat([x, Tensor(repeating: 1, shape: [batch, 1, height, width])], axis: 1)

        // Up pass: every stream value is kept for the down pass.
        var u = inputU(padded).shifted(down: 1, right: 0)
        var ul = inputULAbove(padded).shifted(down: 1, right: 0) + inputULLeft(padded).shifted(down: 0, right: 1)
        var uKept = [u], ulKept = [ul]
        let elu = ConcatELUs()
        for level in 0..<Self.resolutions {
            if level > 0 {
                u = downsampling[level - 1].u(u)
                ul = downsampling[level - 1].ul(ul)
                uKept.append(u)
                ulKept.append(ul)
            }
            for pair in upBlocks[level] {
                u = pair.u(u, [], elu: elu)
                ul = pair.ul(ul, [u], elu: elu)
                uKept.append(u)
                ulKept.append(ul)
            }
        }

        // Down pass: the kept values come back in reverse order, one per block.
        u = uKept.removeLast()
        ul = ulKept.removeLast()
        for level in (0..<Self.resolutions).reversed() {
            if level < Self.resolutions - 1 {
                let size = (uKept.last!.shape[2], uKept.last!.shape[3])
                u = upsampling[level].u(u, outputSize: size)
                ul = upsampling[level].ul(ul, outputSize: size)
            }
            for pair in downBlocks[level] {
                u = pair.u(u, [uKept.removeLast()], elu: elu)
                ul = pair.ul(ul, [u, ulKept.removeLast()], elu: elu)
            }
        }
        precondition(uKept.isEmpty && ulKept.isEmpty, "pixelcnn++: \(uKept.count) kept values were not used")
        return outputs(head(elu(ul)), pixels: pixels)
    }

    /// The colour mixture a colour model's head parameterises.
    static func colourMixture(_ config: ModelConfig) -> LogisticMixture? {
        guard config.channels == 3, case let .logisticMixture(k) = config.output else { return nil }
        return LogisticMixture(components: k, channels: 3)
    }

    /// Outputs of the head per pixel: the output width per sub-pixel, or for colour the 10K
    /// parameters of one colour mixture per pixel.
    static func headWidth(_ config: ModelConfig) -> Int {
        colourMixture(config)?.parameterCount ?? config.channels * config.output.width
    }

    /// Head [B, P, H, W] → logits of `config.output.logitShape`; for colour, the pixel's colour
    /// mixture split into its per-sub-pixel conditionals, given the pixel's own values.
    func outputs(_ head: Tensor, pixels: Tensor) -> Tensor {
        guard let mixture = Self.colourMixture(config) else { return ImageLayout.logits(head, config) }
        let b = head.shape[0], n = b * config.height * config.width
        let perPixel = ImageLayout.toChannelsLast(head).reshaped([n, mixture.parameterCount])
        return perPixel.logisticMixtureConditionals(values: pixels.reshaped([n, 3]), mixture: mixture)
            .reshaped(config.output.logitShape(batch: b, dimension: config.dimension))
    }
}
