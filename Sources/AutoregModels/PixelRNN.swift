import AutoregNN
import AutoregTensor

/// What the two PixelRNN models (van den Oord, Kalchbrenner & Kavukcuoglu 2016, "Pixel
/// Recurrent Neural Networks", section 3 and table 2) share: their options, the mask-A input
/// layer, the residual LSTM layers' shape and the output layers.
///
///     7×7 conv, mask A (C → 2h)
///     `layers` recurrent layers, each  s ← s + 1×1 mask B (h → 2h) (LSTM(s))   (section 3.4)
///     ReLU, 1×1 mask B (2h → m), ReLU, 1×1 mask B (m → C·L)      m = `outputChannels`
///
/// Feature maps are split into C channel groups as in `PixelCNN` (`CausalMask`), so that for
/// colour images channel c of a pixel sees channels < c of that pixel; each LSTM gate block
/// of h units is grouped like the h state units it updates.
public struct PixelRNNOptions: ModelOptions {
    /// h: units of each LSTM layer's state (the residual stream has 2h).
    public var hiddenUnits: Int
    /// Recurrent layers.
    public var layers: Int
    /// Maps of the output 1×1 layer (32 for MNIST in the paper, 1024 for CIFAR-10).
    public var outputChannels: Int
    /// The first, mask-A convolution's kernel; odd.
    public var firstKernelSize: Int
    /// Row LSTM: the k of its 1×k input-to-state and state-to-state convolutions; odd.
    public var kernelSize: Int

    /// The paper's MNIST model: 7 layers, h = 16, 32 output maps.
    public init(hiddenUnits: Int = 16, layers: Int = 7, outputChannels: Int = 32, firstKernelSize: Int = 7,
                kernelSize: Int = 3) {
        (self.hiddenUnits, self.layers, self.outputChannels) = (hiddenUnits, layers, outputChannels)
        (self.firstKernelSize, self.kernelSize) = (firstKernelSize, kernelSize)
    }
    public init() { self.init(hiddenUnits: 16) }

    public func validate(for config: ModelConfig) throws {
        func fail(_ s: String) throws -> Never { throw ModelError(description: "\(config.kind): " + s) }
        if hiddenUnits < config.channels {
            try fail("hidden units h must be at least \(config.channels), one group per image channel, got \(hiddenUnits)")
        }
        if layers < 1 { try fail("needs at least 1 recurrent layer, got \(layers)") }
        if outputChannels < config.channels {
            try fail("output channels must be at least \(config.channels), got \(outputChannels)")
        }
        for (name, k) in [("first (mask A) kernel", firstKernelSize), ("kernel", kernelSize)] where k < 3 || k % 2 == 0 {
            try fail("\(name) size must be odd and at least 3, got \(k)")
        }
    }
    public var sizes: [(name: String, value: Int)] {
        [("hiddenUnits", hiddenUnits), ("layers", layers), ("outputChannels", outputChannels),
         ("firstKernelSize", firstKernelSize), ("kernelSize", kernelSize)]
    }
    public func estimatedParameterCount(for config: ModelConfig) -> Double {
        let c = Double(config.channels), h = Double(hiddenUnits), m = Double(outputChannels)
        let k = Double(max(kernelSize, 2)), f = Double(firstKernelSize), out = c * Double(config.output.width)
        // Per layer, for two directions at most: input-to-state 2h → 4h over k taps, state-to-state
        // h → 4h over k taps, the 1×1 h → 2h.
        let perLayer = 2 * (2 * h * 4 * h * k + h * 4 * h * k + 8 * h) + h * 2 * h + 2 * h
        return c * 2 * h * f * f + 2 * h + Double(layers) * perLayer + 2 * h * m + m + m * out + out
    }
    public func estimatedActivations(for config: ModelConfig, training: Bool) -> Double {
        // Per layer: gates 4h and states h, c over (skewed) positions, both directions.
        let positions = Double(config.height * (config.width + config.height))
        let perLayer = positions * Double(hiddenUnits) * 2 * 8
        return Double(config.dimension * config.output.width)
            + (Double(layers) * perLayer + Double(config.height * config.width) * Double(2 * hiddenUnits + outputChannels))
            * (training ? 3 : 1)
    }
    public var description: String {
        "h \(hiddenUnits), layers \(layers), output channels \(outputChannels), first kernel \(firstKernelSize), kernel \(kernelSize)"
    }
}

/// The layers around the recurrent ones, shared by `RowLSTM` and `DiagonalBiLSTM`.
struct PixelRNNStack {
    let config: ModelConfig
    let options: PixelRNNOptions
    /// 7×7 mask A: C → 2h.
    let input: MaskedConv2D
    /// 1×1 mask B: 2h → m, then m → C·L.
    let outputHidden: MaskedConv2D
    let head: MaskedConv2D

    init(config: ModelConfig, options: PixelRNNOptions, rng: inout RandomGenerator) {
        self.config = config
        self.options = options
        let c = config.channels, h2 = 2 * options.hiddenUnits, m = options.outputChannels
        func conv(_ cin: Int, _ cout: Int, _ k: Int, _ kind: CausalMask.Kind, _ name: String) -> MaskedConv2D {
            MaskedConv2D(inChannels: cin, outChannels: cout, kernel: (k, k),
                         mask: CausalMask.pixelCNN(outChannels: cout, inChannels: cin, kernel: k, kind: kind, groups: c),
                         name: name, rng: &rng)
        }
        input = conv(c, h2, options.firstKernelSize, .a, "input")
        outputHidden = conv(h2, m, 1, .b, "output.hidden")
        // Head channel j·… belongs to image channel j / L: group it like that.
        let width = config.output.width
        head = MaskedConv2D(inChannels: m, outChannels: c * width, kernel: (1, 1),
                            mask: CausalMask.pixelCNN(outChannels: c * width, inChannels: m, kernel: 1, kind: .b, groups: c,
                                                      outGroup: { $0 / width }),
                            name: "output.head", rng: &rng)
    }

    /// The group of unit `j` of a layer of `units` units (one group per image channel).
    func group(_ j: Int, of units: Int) -> Int { CausalMask.group(j, of: units, groups: config.channels) }

    /// The group of gate unit `j` of 4h: gate blocks [o | f | i | g] of h units (the order of
    /// `Tensor.lstmCell`), each grouped like the state units it updates.
    func gateGroup(_ j: Int) -> Int { group(j % options.hiddenUnits, of: options.hiddenUnits) }

    /// The 1×1 mask-B layer that brings a layer's h state maps back to the 2h stream.
    func residualOutput(_ name: String, rng: inout RandomGenerator) -> MaskedConv2D {
        let h = options.hiddenUnits
        return MaskedConv2D(inChannels: h, outChannels: 2 * h, kernel: (1, 1),
                            mask: config.channels == 1 ? nil
                                : CausalMask.pixelCNN(outChannels: 2 * h, inChannels: h, kernel: 1, kind: .b,
                                                      groups: config.channels),
                            name: name, rng: &rng)
    }

    /// Pixels [B, D] → the stream after the mask-A layer, [B, 2h, H, W].
    func begin(_ pixels: Tensor) -> Tensor { input(ImageLayout.input(pixels, config)) }

    /// The stream → logits of `config.output.logitShape`.
    func end(_ s: Tensor) -> Tensor {
        ImageLayout.logits(head(outputHidden(s, reluInput: true), reluInput: true), config)
    }

    var parameters: [(name: String, tensor: Tensor)] { input.parameters }
    var outputParameters: [(name: String, tensor: Tensor)] { outputHidden.parameters + head.parameters }
}
