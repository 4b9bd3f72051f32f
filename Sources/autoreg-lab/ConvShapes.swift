import ArgumentParser
import AutoregModels
import AutoregNN
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

    /// Taps that some (cout, cin) pair of the mask uses: what our lowering keeps (the layer's own selection).
    var keptTaps: [(ky: Int, kx: Int)] {
        MaskedConv2D.keptTaps(mask: mask, shape: [outChannels, inChannels, kernelHeight, kernelWidth])
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
/// benchmarks/compare.py runs it; the 256-level head too). The layers are the model's own
/// (`ConvolutionalModel.convolutions`), so the list cannot drift from the models.
enum ModelConvShapes {
    static func gatedConfig(levels: Int) throws -> ModelConfig {
        try ModelConfig(kind: .gatedPixelCNN, height: 28, width: 28, levels: levels)
    }

    static func pixelCNNConfig(levels: Int) throws -> ModelConfig {
        try ModelConfig(kind: .pixelcnn, height: 28, width: 28, levels: levels, hiddenChannels: 128, layers: 12)
    }

    /// Every convolution layer of the model `config` describes, in the model's order.
    static func shapes(_ config: ModelConfig) throws -> [ConvShape] {
        guard let model = try makeModel(config) as? any ConvolutionalModel else {
            throw ValidationError("autoreg-lab conv: \(config.kind) is not built from convolutions")
        }
        return model.convolutions.map { conv, readsImage in
            let s = conv.weight.shape
            return ConvShape(id: "", model: config.kind.rawValue, layer: conv.name, uses: 1, inChannels: s[1],
                             outChannels: s[0], kernelHeight: s[2], kernelWidth: s[3], dilation: conv.dilation,
                             mask: conv.mask, inputGrad: !readsImage)
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
        func append(_ config: ModelConfig, prefix: String) throws {
            for s in distinct(try shapes(config), prefix: prefix, levels: config.levels)
            where !out.contains(where: { $0.id == s.id || ($0.model == s.model && $0.layer.roleName == s.layer.roleName
                                                            && $0.sameConvolution(as: s)) }) {
                out.append(s)
            }
        }
        if models.contains("gated-pixelcnn") {
            for levels in [256, 2] { try append(try gatedConfig(levels: levels), prefix: "gated") }
        }
        if models.contains("pixelcnn") {
            for levels in [2, 256] { try append(try pixelCNNConfig(levels: levels), prefix: "pixelcnn") }
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
