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
public final class PixelCNN: AutoregressiveModel {
    public let config: ModelConfig
    public let ordering: [Int]
    let input: MaskedConv2D
    /// Per residual block: 1×1 reduce, k×k, 1×1 expand.
    let blocks: [(reduce: MaskedConv2D, conv: MaskedConv2D, expand: MaskedConv2D)]
    let outputHidden: MaskedConv2D
    let head: MaskedConv2D

    public init(config: ModelConfig) throws {
        try config.validate()
        guard config.kind == .pixelcnn else { throw ModelError(description: "config is for \(config.kind), not pixelcnn") }
        self.config = config
        ordering = Array(0..<config.dimension)
        var rng = RandomGenerator(seed: config.seed)
        let c = config.channels, n = config.hiddenChannels, half = n / 2
        let outWidth = c * (config.levels == 2 ? 1 : config.levels)
        /// A masked k×k (or 1×1) convolution between grouped channel sets.
        func conv(_ cin: Int, _ cout: Int, _ k: Int, _ kind: CausalMask.Kind, dilation: Int = 1,
                  _ name: String) -> MaskedConv2D {
            MaskedConv2D(inChannels: cin, outChannels: cout, kernel: (k, k),
                         mask: CausalMask.pixelCNN(outChannels: cout, inChannels: cin, kernel: k, kind: kind, groups: c),
                         dilation: (dilation, dilation), name: name, rng: &rng)
        }
        input = conv(c, n, config.firstKernelSize, .a, "input")
        blocks = config.dilations.enumerated().map { l, d in
            (conv(n, half, 1, .b, "block\(l).reduce"),
             conv(half, half, config.kernelSize, .b, dilation: d, "block\(l).conv"),
             conv(half, n, 1, .b, "block\(l).expand"))
        }
        outputHidden = conv(n, n, 1, .b, "output.hidden")
        head = conv(n, outWidth, 1, .b, "output.head")
    }

    public var parameters: [(name: String, tensor: Tensor)] {
        input.parameters + blocks.flatMap { $0.reduce.parameters + $0.conv.parameters + $0.expand.parameters }
            + outputHidden.parameters + head.parameters
    }

    public func logits(_ pixels: Tensor) -> Tensor {
        // Each ReLU is applied inside the convolution that follows it (never stored), and the
        // residual sum is written by the block's last convolution.
        var s = input(ImageLayout.input(pixels, config))
        for b in blocks {
            let reduced = b.reduce(s, reluInput: true)
            // Dropout (training only) on the block's middle activation, as in PixelCNN++; it
            // commutes with the ReLU that `expand` applies (its scale is never negative).
            s = b.expand(b.conv(reduced, reluInput: true).dropout(), reluInput: true, residual: s)
        }
        let out = head(outputHidden(s, reluInput: true), reluInput: true)
        return ImageLayout.logits(out, config)
    }
}
