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
                throw ValidationError("bench conv: \(s.model) layer \(s.layer) is \(expected) here but "
                    + "\(shapes["\(s.layer).weight"].map { "\($0)" } ?? "absent") in the model: update BenchConv.swift")
            }
        }
        let convWeights = model.parameters.filter { $0.name.hasSuffix(".weight") && $0.tensor.rank == 4 }.count
        guard convWeights == layers.count else {
            throw ValidationError("bench conv: \(layers.count) convolutions listed for \(config.kind) but the model "
                + "has \(convWeights): update BenchConv.swift")
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

/// Seconds of `repeats` timed calls of `body` after `warmup` untimed ones; `prepare` runs
/// before every call, untimed.
func timeCalls(warmup: Int, repeats: Int, prepare: () -> Void = {}, _ body: () -> Void) -> [Double] {
    for _ in 0..<warmup { prepare(); body() }
    return (0..<repeats).map { _ in
        prepare()
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
    }
}

struct ConvBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "Time each convolution shape of Gated PixelCNN and PixelCNN: forward, and forward + backward.",
        discussion: """
        Shapes: the default Gated PixelCNN (64 channels, dilations 1,2,1,4,1,2,1; heads for 256 \
        levels and Bernoulli) and PixelCNN --channels 128 --layers 12 (Bernoulli and 256-level \
        heads), 28x28 images, with the models' own masks (CausalMask) and "same" padding. Each \
        distinct shape is listed once, with how many layers of the model have it. Our \
        convolution multiplies only over the taps the mask keeps (one sgemm per image); \
        "useful" GFLOP/s count those taps, "dense" GFLOP/s all KHxKW taps, as a dense \
        convolution computes them. Forward + backward is forward, weight and bias gradients \
        and, except for the first layers (whose input is the image), the input gradient. \
        --onednn also times oneDNN's own convolution primitive (the system libdnnl, C API) on \
        the dense masked weight. --json prints one JSON line (benchmarks/compare_conv.py \
        reads it); --list --json prints the shapes without timing anything \
        (benchmarks/conv_shapes.py reads that).
        """)

    @Option(parsing: .unconditional, help: "Images per batch.") var batch: Int = 64
    @Option(parsing: .unconditional, help: "Timed calls per shape and pass (the median is reported).") var repeats: Int = 10
    @Option(parsing: .unconditional, help: "Untimed calls first.") var warmup: Int = 2
    @Option(help: "Models, comma-separated: gated-pixelcnn, pixelcnn.") var models: String = "gated-pixelcnn,pixelcnn"
    @Option(help: "Only the shapes whose id contains one of these comma-separated strings.") var only: String?
    @Flag(help: "Also time oneDNN's convolution primitive through its C API (forward, backward data and weights).")
    var onednn = false
    @Flag(help: "List the shapes without timing (with --json: one JSON line of shapes).") var list = false
    @Flag(help: "Print one JSON line instead of a table.") var json = false
    @OptionGroup var compute: ComputeOptions

    static let height = 28, width = 28

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if repeats < 1 { throw ValidationError("--repeats must be at least 1") }
        if warmup < 0 { throw ValidationError("--warmup must not be negative") }
        for m in modelList where m != "gated-pixelcnn" && m != "pixelcnn" {
            throw ValidationError("--models: unknown model '\(m)' (gated-pixelcnn, pixelcnn)")
        }
    }

    var modelList: [String] { models.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    func run() throws {
        try compute.apply()
        var shapes = try ModelConvShapes.all(models: modelList)
        if let only {
            let keys = only.split(separator: ",").map(String.init)
            shapes = shapes.filter { s in keys.contains { s.id.contains($0) } }
            if shapes.isEmpty { throw ValidationError("--only \(only) matches no shape") }
        }
        if list {
            if json { print(jsonLine(shapes.map { (shape: $0, timing: nil) })) } else { printList(shapes) }
            return
        }
        if !json {
            print("bench conv: batch \(batch), \(Self.height)x\(Self.width), threads \(compute.threads), "
                + "median of \(repeats) after \(warmup) warm-up")
        }
        var rows: [(shape: ConvShape, timing: ConvTiming?)] = []
        for s in shapes {
            let t = measure(s)
            rows.append((s, t))
            if !json { printRow(s, t) }
        }
        if json { print(jsonLine(rows)) }
    }

    // MARK: measuring

    /// Medians (and ranges) in seconds of our convolution, and optionally of oneDNN's.
    struct ConvTiming {
        var forward: (median: Double, min: Double, max: Double)
        var forwardBackward: (median: Double, min: Double, max: Double)
        var onednn: OneDNNConvTiming?
    }

    func measure(_ s: ConvShape) -> ConvTiming {
        var rng = RandomGenerator(seed: 1)
        let h = Self.height, w = Self.width
        let x = Tensor.uniform([batch, s.inChannels, h, w], low: -1, high: 1, rng: &rng, requiresGrad: s.inputGrad)
        let bound = 1 / Float(s.inChannels * s.kernelTaps).squareRoot()
        let weight = Tensor.uniform([s.outChannels, s.inChannels, s.kernelHeight, s.kernelWidth],
                                    low: -bound, high: bound, rng: &rng, requiresGrad: true)
        let bias = Tensor.uniform([s.outChannels], low: -bound, high: bound, rng: &rng, requiresGrad: true)
        let gy = (0..<(batch * s.outChannels * h * w)).map { _ in rng.uniform() - 0.5 }
        func conv() -> Tensor { x.conv2d(weight: weight, bias: bias, mask: s.mask, dilation: s.dilation) }

        let forward = timeCalls(warmup: warmup, repeats: repeats) { _ = withoutGrad { conv() } }
        // The parameters' and the input's gradients start absent, as after zeroGrad(setToNone)
        // in PyTorch; the input's is then allocated by the convolution, as an activation's is.
        let both = timeCalls(warmup: warmup, repeats: repeats, prepare: {
            x.grad = nil; weight.grad = nil; bias.grad = nil
        }) {
            conv().backward(seed: gy)
        }
        var timing = ConvTiming(forward: summarize(forward), forwardBackward: summarize(both))
        if onednn {
            let reference = withoutGrad { conv() }
            timing.onednn = OneDNNConvolution.measure(s, batch: batch, height: h, width: w, x: x.data,
                                                      weight: weight.data, bias: bias.data, gy: gy,
                                                      expected: reference.data, warmup: warmup, repeats: repeats)
        }
        return timing
    }

    // MARK: output

    func shapeText(_ s: ConvShape) -> String {
        let d = s.dilation == (1, 1) ? "" : " d\(s.dilation.0 == s.dilation.1 ? "\(s.dilation.0)" : "\(s.dilation.0),\(s.dilation.1)")"
        return "\(s.kernelHeight)x\(s.kernelWidth) \(s.inChannels)->\(s.outChannels)\(d)"
    }

    func printList(_ shapes: [ConvShape]) {
        for s in shapes {
            let taps = "\(s.keptTaps.count)/\(s.kernelTaps)"
            print("\(s.id.padding(toLength: 32, withPad: " ", startingAt: 0)) "
                + "\(shapeText(s).padding(toLength: 22, withPad: " ", startingAt: 0)) taps \(taps)  x\(s.uses)  "
                + "\(s.model) \(s.layer)\(s.inputGrad ? "" : " (no input gradient)")")
        }
    }

    func printRow(_ s: ConvShape, _ t: ConvTiming) {
        let (kept, dense) = (s.keptTaps.count, s.kernelTaps)
        let fu = s.forwardFlops(batch: batch, height: Self.height, width: Self.width, taps: kept)
        let fd = s.forwardFlops(batch: batch, height: Self.height, width: Self.width, taps: dense)
        let bu = s.forwardBackwardFlops(batch: batch, height: Self.height, width: Self.width, taps: kept)
        let bd = s.forwardBackwardFlops(batch: batch, height: Self.height, width: Self.width, taps: dense)
        let f = t.forward.median, b = t.forwardBackward.median
        var line = String(format: "%@ %@ taps %2d/%-2d x%-2d  fwd %8.2f ms %6.1f/%6.1f GF/s   fwd+bwd %8.2f ms %6.1f/%6.1f GF/s",
                          s.id.padding(toLength: 30, withPad: " ", startingAt: 0),
                          shapeText(s).padding(toLength: 18, withPad: " ", startingAt: 0), kept, dense, s.uses,
                          f * 1e3, fu / f / 1e9, fd / f / 1e9, b * 1e3, bu / b / 1e9, bd / b / 1e9)
        if let o = t.onednn {
            line += String(format: "   onednn fwd %8.2f ms (conv %7.2f) fwd+bwd %8.2f ms (conv %7.2f)",
                           o.forward.median * 1e3, o.forwardPrimitive.median * 1e3,
                           o.forwardBackward.median * 1e3, o.forwardBackwardPrimitive.median * 1e3)
        }
        print(line)
    }

    func jsonLine(_ rows: [(shape: ConvShape, timing: ConvTiming?)]) -> String {
        func num(_ x: Double, _ digits: Int = 4) -> String { x.isFinite ? String(format: "%.\(digits)f", x) : "null" }
        func str(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        func object(_ fields: [(String, String)]) -> String {
            "{" + fields.map { "\(str($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
        }
        let h = Self.height, w = Self.width
        let items = rows.map { row -> String in
            let s = row.shape, (kept, dense) = (s.keptTaps.count, s.kernelTaps)
            let pad = s.padding
            var f: [(String, String)] = [
                ("id", str(s.id)), ("model", str(s.model)), ("layer", str(s.layer)), ("uses", "\(s.uses)"),
                ("batch", "\(batch)"), ("in_channels", "\(s.inChannels)"), ("out_channels", "\(s.outChannels)"),
                ("height", "\(h)"), ("width", "\(w)"),
                ("kernel", "[\(s.kernelHeight), \(s.kernelWidth)]"), ("dilation", "[\(s.dilation.0), \(s.dilation.1)]"),
                ("padding", "[\(pad.0), \(pad.1), \(pad.2), \(pad.3)]"),
                ("taps_kept", "\(kept)"), ("taps_total", "\(dense)"),
                ("input_grad", s.inputGrad ? "true" : "false"),
            ]
            if let pattern = s.tapPattern {
                f.append(("mask", "[" + pattern.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }
                    .joined(separator: ", ") + "]"))
            } else {
                f.append(("mask_flat", "[" + s.mask!.data.map { $0 != 0 ? "1" : "0" }.joined(separator: ",") + "]"))
            }
            let flops = [
                ("fwd_useful", s.forwardFlops(batch: batch, height: h, width: w, taps: kept)),
                ("fwd_dense", s.forwardFlops(batch: batch, height: h, width: w, taps: dense)),
                ("fwdbwd_useful", s.forwardBackwardFlops(batch: batch, height: h, width: w, taps: kept)),
                ("fwdbwd_dense", s.forwardBackwardFlops(batch: batch, height: h, width: w, taps: dense)),
            ]
            for (name, v) in flops { f.append(("flops_\(name)", String(format: "%.0f", v))) }
            if let t = row.timing {
                for (name, r) in [("fwd", t.forward), ("fwdbwd", t.forwardBackward)] {
                    f.append(("\(name)_ms", num(r.median * 1e3)))
                    f.append(("\(name)_ms_min", num(r.min * 1e3)))
                    f.append(("\(name)_ms_max", num(r.max * 1e3)))
                }
                for (name, v) in flops {
                    let secs = name.hasPrefix("fwdbwd") ? t.forwardBackward.median : t.forward.median
                    f.append(("gflops_\(name)", num(v / secs / 1e9, 2)))
                }
                if let o = t.onednn {
                    f.append(("onednn_c", object([
                        ("library", str(o.library)),
                        ("impl_fwd", str(o.implementations.forward)), ("impl_bwd_data", str(o.implementations.backwardData)),
                        ("impl_bwd_weights", str(o.implementations.backwardWeights)),
                        ("fwd_ms", num(o.forward.median * 1e3)), ("fwd_conv_ms", num(o.forwardPrimitive.median * 1e3)),
                        ("fwdbwd_ms", num(o.forwardBackward.median * 1e3)),
                        ("fwdbwd_conv_ms", num(o.forwardBackwardPrimitive.median * 1e3)),
                        ("max_abs_diff", num(Double(o.maxAbsDiff), 7)),
                    ])))
                }
            }
            return object(f)
        }
        let header: [(String, String)] = [
            ("framework", str("autoreg")), ("task", str("conv")), ("batch", "\(batch)"),
            ("threads", "\(compute.threads)"), ("repeats", "\(repeats)"), ("warmup", "\(warmup)"),
        ]
        return object(header + [("rows", "[" + items.joined(separator: ", ") + "]")])
    }
}
