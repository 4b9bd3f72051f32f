import AutoregTensor

/// Convolution weight masks that keep PixelCNN-style models autoregressive in raster order
/// over pixels, with the colour channels of a pixel in order (R, then G, then B).
///
/// Feature maps are split into `groups` channel groups, one per image channel: group g of a
/// hidden layer may carry information about image channels < g of the current pixel
/// (after a mask-A layer) or ≤ g (mask B). A tap that reads the current pixel connects input
/// group gi to output group go only if go > gi (mask A) or go ≥ gi (mask B); taps that read
/// earlier pixels connect every channel pair, later pixels none. With one image channel
/// there is a single group: mask A drops the centre tap, mask B keeps it.
public enum CausalMask {
    /// Mask A excludes the current pixel's own channel group; mask B includes it.
    public enum Kind: Sendable { case a, b }

    /// What a kernel tap reads, relative to the output pixel.
    enum Tap { case open, closed, center }

    /// Group of channel `k` of `n` split into `groups` nearly equal contiguous groups.
    public static func group(_ k: Int, of n: Int, groups: Int) -> Int { k * groups / n }

    /// [Cout, Cin, KH, KW] mask; `tap(ky, kx)` classifies each kernel position and the group
    /// functions give each output and input channel's group.
    static func make(outChannels: Int, inChannels: Int, kernel: (Int, Int), kind: Kind,
                     outGroup: (Int) -> Int, inGroup: (Int) -> Int, tap: (Int, Int) -> Tap) -> Tensor {
        let (kh, kw) = kernel
        var m = [Float](repeating: 0, count: outChannels * inChannels * kh * kw)
        for co in 0..<outChannels {
            let go = outGroup(co)
            for ci in 0..<inChannels {
                let gi = inGroup(ci)
                let centreOpen = kind == .a ? go > gi : go >= gi
                for ky in 0..<kh {
                    for kx in 0..<kw {
                        let open: Bool
                        switch tap(ky, kx) {
                        case .open: open = true
                        case .closed: open = false
                        case .center: open = centreOpen
                        }
                        if open { m[((co * inChannels + ci) * kh + ky) * kw + kx] = 1 }
                    }
                }
            }
        }
        return Tensor(shape: [outChannels, inChannels, kh, kw], data: m)
    }

    /// PixelCNN's k×k mask (odd k, centred): rows above the centre and taps left of it in the
    /// centre row are open, the centre follows the group rule, the rest is closed. Channels
    /// are grouped by `group(_:of:groups:)` unless group functions are given.
    public static func pixelCNN(outChannels: Int, inChannels: Int, kernel: Int, kind: Kind, groups: Int,
                                outGroup: ((Int) -> Int)? = nil, inGroup: ((Int) -> Int)? = nil) -> Tensor {
        let c = kernel / 2
        return make(outChannels: outChannels, inChannels: inChannels, kernel: (kernel, kernel), kind: kind,
                    outGroup: outGroup ?? { group($0, of: outChannels, groups: groups) },
                    inGroup: inGroup ?? { group($0, of: inChannels, groups: groups) }) { ky, kx in
            ky < c || (ky == c && kx < c) ? .open : (ky == c && kx == c ? .center : .closed)
        }
    }

    /// The gated PixelCNN's vertical k×k mask: rows above the centre are open; the centre row
    /// too unless `excludeCentreRow` (the first layer, which must not see the current row).
    /// No channel groups: the vertical stack never sees the current row of the image.
    public static func vertical(outChannels: Int, inChannels: Int, kernel: Int, excludeCentreRow: Bool) -> Tensor {
        let c = kernel / 2
        return make(outChannels: outChannels, inChannels: inChannels, kernel: (kernel, kernel), kind: .b,
                    outGroup: { _ in 0 }, inGroup: { _ in 0 }) { ky, _ in
            ky < c || (ky == c && !excludeCentreRow) ? .open : .closed
        }
    }

    /// The gated PixelCNN's horizontal 1×k mask: taps left of the centre are open, the centre
    /// follows the group rule (mask A in the first layer: the pixel itself is not seen).
    public static func horizontal(outChannels: Int, inChannels: Int, kernel: Int, kind: Kind,
                                  outGroup: @escaping (Int) -> Int, inGroup: @escaping (Int) -> Int) -> Tensor {
        let c = kernel / 2
        return make(outChannels: outChannels, inChannels: inChannels, kernel: (1, kernel), kind: kind,
                    outGroup: outGroup, inGroup: inGroup) { _, kx in
            kx < c ? .open : (kx == c ? .center : .closed)
        }
    }
}

/// Moving between the repository's pixel layout ([B, D] with D = H·W·C, channels last) and
/// the NCHW tensors convolutions take.
enum ImageLayout {
    /// [B, H·W·C] (channels last) → [B, C, H, W].
    static func toNCHW(_ pixels: Tensor, height: Int, width: Int, channels: Int) -> Tensor {
        let b = pixels.count / (height * width * channels)
        if channels == 1 { return pixels.reshaped([b, 1, height, width]) }
        return pixels.reshaped([b, height * width, channels]).transposedInner()
            .reshaped([b, channels, height, width])
    }

    /// [B, K, H, W] → [B, H·W, K] (channels last; K = C for binary heads, C·levels for
    /// categorical heads whose channel c·levels + l is level l of image channel c).
    static func toChannelsLast(_ x: Tensor) -> Tensor {
        let (b, k, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        if k == 1 { return x.reshaped([b, h * w, 1]) }
        return x.reshaped([b, k, h * w]).transposedInner()
    }

    /// The model input: pixels [B, D] (0..<levels, channels last) scaled to [−1, 1] and laid out
    /// NCHW, so that the convolutions' zero padding reads as "unknown", between black and white.
    static func input(_ pixels: Tensor, _ config: ModelConfig) -> Tensor {
        let x = pixels.scaled(by: 2 / Float(config.levels - 1)).shifted(by: -1)
        return toNCHW(x, height: config.height, width: config.width, channels: config.channels)
    }

    /// Head output [B, C·L', H, W] (L' = 1 for binary pixels, `levels` otherwise; channel
    /// c·L' + l is level l of image channel c) → the protocol's [B, D] or [B, D, levels].
    static func logits(_ head: Tensor, _ config: ModelConfig) -> Tensor {
        let b = head.shape[0], d = config.dimension
        let last = toChannelsLast(head)
        return last.reshaped(config.output.logitShape(batch: b, dimension: d))
    }

    /// −log p(x) per image in nats, [B], from the head output [B, C·L', H, W]: a softmax head
    /// is read in place (`planarCategoricalNLL`), the others through `logits`.
    static func nll(_ head: Tensor, _ pixels: Tensor, _ config: ModelConfig) -> Tensor {
        guard case let .categorical(levels) = config.output else {
            return config.output.nll(logits: logits(head, config), pixels: pixels)
        }
        return head.planarCategoricalNLL(targets: pixels.data.map { Int32($0) }, channels: config.channels,
                                         classes: levels).sum(axis: 1)
    }

}
