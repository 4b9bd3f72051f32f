import ArgumentParser
import AutoregModels
import AutoregTensor
import Foundation

/// One convolution shape that a model uses: sizes, dilation, "same" padding and the exact
/// weight mask the model builds (from `CausalMask`), with how many of the model's layers
/// have this shape.
struct ConvShape {
    /// Short unique label, e.g. "gated.block.vertical.d2".
    var id: String
    /// "gated-pixelcnn" or "pixelcnn" and the configuration's description.
    var model: String
    /// The model's parameter prefix of the first layer with this shape, e.g. "block1.vertical".
    var layer: String
    /// Layers of the model with exactly this shape, mask and dilation.
    var uses: Int
    var inChannels, outChannels, kernelHeight, kernelWidth: Int
    var dilation: (Int, Int)
    /// [Cout, Cin, KH, KW], or nil for an unmasked convolution.
    var mask: Tensor?
    /// False for a model's first layers, whose input is the image: training never asks for
    /// their input gradient, so neither does the benchmark.
    var inputGrad: Bool

    var kernelTaps: Int { kernelHeight * kernelWidth }

    /// Taps that some (cout, cin) pair of the mask uses: what our lowering keeps.
    var keptTaps: [(ky: Int, kx: Int)] {
        let khw = kernelTaps, pairs = outChannels * inChannels
        return (0..<khw).compactMap { k in
            let used = mask.map { m in (0..<pairs).contains { m.data[$0 * khw + k] != 0 } } ?? true
            return used ? (k / kernelWidth, k % kernelWidth) : nil
        }
    }

    /// The mask as one KH×KW pattern when every channel pair has the same one (always so for
    /// one image channel), else nil.
    var tapPattern: [[Int]]? {
        let khw = kernelTaps
        guard let m = mask?.data else { return Array(repeating: Array(repeating: 1, count: kernelWidth), count: kernelHeight) }
        let first = Array(m[0..<khw])
        for p in 1..<(outChannels * inChannels) where Array(m[(p * khw)..<((p + 1) * khw)]) != first { return nil }
        return (0..<kernelHeight).map { ky in (0..<kernelWidth).map { kx in first[ky * kernelWidth + kx] != 0 ? 1 : 0 } }
    }

    /// "Same" padding: (top, bottom, left, right).
    var padding: (Int, Int, Int, Int) {
        let py = dilation.0 * (kernelHeight - 1) / 2, px = dilation.1 * (kernelWidth - 1) / 2
        return (py, py, px, px)
    }

    /// Multiply-adds ×2 of one forward pass over `taps` taps (bias not counted).
    func forwardFlops(batch: Int, height: Int, width: Int, taps: Int) -> Double {
        2 * Double(batch) * Double(outChannels * inChannels * taps) * Double(height * width)
    }

    /// Forward plus backward: the forward product, the weight gradient and (when asked for)
    /// the input gradient, each as many flops as the forward.
    func forwardBackwardFlops(batch: Int, height: Int, width: Int, taps: Int) -> Double {
        forwardFlops(batch: batch, height: height, width: width, taps: taps) * (inputGrad ? 3 : 2)
    }

    /// Same geometry and mask (the label aside).
    func sameConvolution(as o: ConvShape) -> Bool {
        inChannels == o.inChannels && outChannels == o.outChannels && kernelHeight == o.kernelHeight
            && kernelWidth == o.kernelWidth && dilation == o.dilation && inputGrad == o.inputGrad
            && mask?.data == o.mask?.data
    }
}

/// The convolution shapes of the benchmark configurations: the default Gated PixelCNN
/// (64 channels, 7 blocks, dilations 1,2,1,4,1,2,1) with its 256-level head and its
/// Bernoulli head, and PixelCNN with 128 channels and 12 blocks (Bernoulli, as
/// benchmarks/compare.py runs it; the 256-level head too). Layer for layer the lists follow
/// `GatedPixelCNN.init` and `PixelCNN.init`, and `checkAgainstModel` checks every weight
/// shape against the model the factory builds.
enum ModelConvShapes {
    static func gatedConfig(levels: Int) -> ModelConfig {
        ModelConfig(kind: .gatedPixelCNN, height: 28, width: 28, levels: levels)
    }

    static func pixelCNNConfig(levels: Int) -> ModelConfig {
        ModelConfig(kind: .pixelcnn, height: 28, width: 28, levels: levels, hiddenChannels: 128, layers: 12)
    }

    /// Every convolution layer of a Gated PixelCNN, in the model's order (one entry per layer).
    static func gated(_ config: ModelConfig) -> [ConvShape] {
        let c = config.channels, n = config.hiddenChannels, k = config.kernelSize
        let levelsOut = config.levels == 2 ? 1 : config.levels
        let hidden: (Int) -> Int = { CausalMask.group($0, of: n, groups: c) }
        let doubled: (Int) -> Int = { CausalMask.group($0 % n, of: n, groups: c) }
        let image: (Int) -> Int = { $0 }
        var out: [ConvShape] = []
        func add(_ layer: String, _ cin: Int, _ cout: Int, _ kernel: (Int, Int), dilation: (Int, Int) = (1, 1),
                 mask: Tensor?, inputGrad: Bool = true) {
            out.append(ConvShape(id: "", model: "gated-pixelcnn", layer: layer, uses: 1, inChannels: cin,
                                 outChannels: cout, kernelHeight: kernel.0, kernelWidth: kernel.1,
                                 dilation: dilation, mask: mask, inputGrad: inputGrad))
        }
        add("input.vertical", c, n, (k, k),
            mask: CausalMask.vertical(outChannels: n, inChannels: c, kernel: k, excludeCentreRow: true), inputGrad: false)
        add("input.horizontal", c, n, (1, k),
            mask: CausalMask.horizontal(outChannels: n, inChannels: c, kernel: k, kind: .a, outGroup: hidden, inGroup: image),
            inputGrad: false)
        for (l, d) in config.dilations.enumerated() {
            add("block\(l).vertical", n, 2 * n, (k, k), dilation: (d, d),
                mask: CausalMask.vertical(outChannels: 2 * n, inChannels: n, kernel: k, excludeCentreRow: false))
            add("block\(l).horizontal", n, 2 * n, (1, k), dilation: (1, d),
                mask: CausalMask.horizontal(outChannels: 2 * n, inChannels: n, kernel: k, kind: .b,
                                      outGroup: doubled, inGroup: hidden))
            add("block\(l).link", 2 * n, 2 * n, (1, 1), mask: nil)
            add("block\(l).horizontal.out", n, n, (1, 1),
                mask: c == 1 ? nil : CausalMask.horizontal(outChannels: n, inChannels: n, kernel: 1, kind: .b,
                                                     outGroup: hidden, inGroup: hidden))
        }
        add("output.head", n, c * levelsOut, (1, 1),
            mask: c == 1 ? nil : CausalMask.horizontal(outChannels: c * levelsOut, inChannels: n, kernel: 1, kind: .b,
                                                 outGroup: { $0 / levelsOut }, inGroup: hidden))
        return out
    }

    /// Every convolution layer of a PixelCNN, in the model's order.
    static func pixelCNN(_ config: ModelConfig) -> [ConvShape] {
        let c = config.channels, n = config.hiddenChannels, half = n / 2
        let outWidth = c * (config.levels == 2 ? 1 : config.levels)
        var out: [ConvShape] = []
        func conv(_ layer: String, _ cin: Int, _ cout: Int, _ k: Int, _ kind: CausalMask.Kind, dilation d: Int = 1,
                  inputGrad: Bool = true) {
            out.append(ConvShape(id: "", model: "pixelcnn", layer: layer, uses: 1, inChannels: cin, outChannels: cout,
                                 kernelHeight: k, kernelWidth: k, dilation: (d, d),
                                 mask: CausalMask.pixelCNN(outChannels: cout, inChannels: cin, kernel: k, kind: kind, groups: c),
                                 inputGrad: inputGrad))
        }
        conv("input", c, n, config.firstKernelSize, .a, inputGrad: false)
        for (l, d) in config.dilations.enumerated() {
            conv("block\(l).reduce", n, half, 1, .b)
            conv("block\(l).conv", half, half, config.kernelSize, .b, dilation: d)
            conv("block\(l).expand", half, n, 1, .b)
        }
        conv("output.hidden", n, n, 1, .b)
        conv("output.head", n, outWidth, 1, .b)
        return out
    }

    /// Traps unless every layer's weight shape is that of the model's parameter of that name.
    static func checkAgainstModel(_ layers: [ConvShape], _ config: ModelConfig) throws {
        let model = try makeModel(config)
        let shapes = Dictionary(model.parameters.map { ($0.name, $0.tensor.shape) }, uniquingKeysWith: { a, _ in a })
        for s in layers {
            let expected = [s.outChannels, s.inChannels, s.kernelHeight, s.kernelWidth]
            guard shapes["\(s.layer).weight"] == expected else {
                throw ValidationError("autoreg-lab conv: \(s.model) layer \(s.layer) is \(expected) here but "
                    + "\(shapes["\(s.layer).weight"].map { "\($0)" } ?? "absent") in the model: update ConvShapes.swift")
            }
        }
        let convWeights = model.parameters.filter { $0.name.hasSuffix(".weight") && $0.tensor.rank == 4 }.count
        guard convWeights == layers.count else {
            throw ValidationError("autoreg-lab conv: \(layers.count) convolutions listed for \(config.kind) but the model "
                + "has \(convWeights): update ConvShapes.swift")
        }
    }

    /// Distinct shapes, first occurrence first, each with its count; `id` set from the
    /// model prefix, the layer's role and its dilation (and the head's levels).
    static func distinct(_ layers: [ConvShape], prefix: String, levels: Int) -> [ConvShape] {
        var out: [ConvShape] = []
        for l in layers {
            if let i = out.firstIndex(where: { $0.layer.roleName == l.layer.roleName && $0.sameConvolution(as: l) }) {
                out[i].uses += 1
                continue
            }
            var s = l
            let d = max(l.dilation.0, l.dilation.1)
            s.id = "\(prefix).\(l.layer.roleName)" + (l.kernelTaps > 1 && l.layer.hasPrefix("block") ? ".d\(d)" : "")
                + (l.layer == "output.head" ? ".L\(levels)" : "")
            out.append(s)
        }
        return out
    }

    /// All benchmark shapes of the models named in `models`, each once.
    static func all(models: [String]) throws -> [ConvShape] {
        var out: [ConvShape] = []
        func append(_ layers: [ConvShape], _ config: ModelConfig, prefix: String) throws {
            try checkAgainstModel(layers, config)
            for s in distinct(layers, prefix: prefix, levels: config.levels)
            where !out.contains(where: { $0.id == s.id || ($0.model == s.model && $0.layer.roleName == s.layer.roleName
                                                            && $0.sameConvolution(as: s)) }) {
                out.append(s)
            }
        }
        if models.contains("gated-pixelcnn") {
            for levels in [256, 2] { let c = gatedConfig(levels: levels); try append(gated(c), c, prefix: "gated") }
        }
        if models.contains("pixelcnn") {
            for levels in [2, 256] { let c = pixelCNNConfig(levels: levels); try append(pixelCNN(c), c, prefix: "pixelcnn") }
        }
        return out
    }
}

extension String {
    /// "block3.vertical" → "block.vertical": the layer's role without its block index.
    var roleName: String {
        guard hasPrefix("block") else { return self }
        return "block" + drop(while: { $0 != "." })
    }
}
