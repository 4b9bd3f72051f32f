import ArgumentParser
import AutoregBenchSupport
import AutoregModels
import AutoregTensor
import Foundation

struct ConvLab: ParsableCommand {
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
    @OptionGroup var compute: ThreadOptions

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
            if json { try printJSONLine(record(shapes.map { (shape: $0, timing: nil) })) } else { printList(shapes) }
            return
        }
        if !json {
            print("autoreg-lab conv: batch \(batch), \(Self.height)x\(Self.width), threads \(compute.threads), "
                + "median of \(repeats) after \(warmup) warm-up")
        }
        var rows: [(shape: ConvShape, timing: ConvTiming?)] = []
        for s in shapes {
            let t = measure(s)
            rows.append((s, t))
            if !json { printRow(s, t) }
        }
        if json { try printJSONLine(record(rows)) }
    }

    // MARK: measuring

    /// Medians (and ranges) in seconds of our convolution, and optionally of oneDNN's.
    struct ConvTiming {
        var forward: Summary
        var forwardBackward: Summary
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

        let forward = Timing.steps(warmup: warmup, repeats: repeats) { _ = withoutGrad { conv() } }
        // The parameters' and the input's gradients start absent, as after zeroGrad(setToNone)
        // in PyTorch; the input's is then allocated by the convolution, as an activation's is.
        let both = Timing.steps(warmup: warmup, repeats: repeats, prepare: {
            x.grad = nil; weight.grad = nil; bias.grad = nil
        }) {
            conv().backward(seed: gy)
        }
        var timing = ConvTiming(forward: Summary(forward), forwardBackward: Summary(both))
        if onednn {
            let reference = withoutGrad { conv() }
            timing.onednn = OneDNNConvolution.measure(s, batch: batch, height: h, width: w, x: x.data,
                                                      weight: weight.data, bias: bias.data, gy: gy,
                                                      expected: reference.data, warmup: warmup, repeats: repeats)
        }
        return timing
    }

    // MARK: text output

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

    // MARK: JSON output (benchmarks/compare_conv.py and conv_shapes.py read these names)

    struct Record: Codable {
        var framework = "autoreg"
        var task = "conv"
        var batch, threads, repeats, warmup: Int
        var rows: [Row]
    }

    /// One shape; the timings are absent with --list, `onednnC` without --onednn.
    struct Row: Codable {
        var id, model, layer: String
        var uses, batch, inChannels, outChannels, height, width: Int
        var kernel, dilation, padding: [Int]
        var tapsKept, tapsTotal: Int
        var inputGrad: Bool
        /// The KH×KW pattern when every channel pair has the same one, else `maskFlat`
        /// ([Cout, Cin, KH, KW] flattened, 0 or 1).
        var mask: [[Int]]?
        var maskFlat: [Int]?
        var flopsFwdUseful, flopsFwdDense, flopsFwdbwdUseful, flopsFwdbwdDense: Int
        var fwdMs, fwdMsMin, fwdMsMax, fwdbwdMs, fwdbwdMsMin, fwdbwdMsMax: Double?
        var gflopsFwdUseful, gflopsFwdDense, gflopsFwdbwdUseful, gflopsFwdbwdDense: Double?
        var onednnC: OneDNNRecord?
    }

    struct OneDNNRecord: Codable {
        var library, implFwd, implBwdData, implBwdWeights: String
        var fwdMs, fwdConvMs, fwdbwdMs, fwdbwdConvMs, maxAbsDiff: Double
    }

    func record(_ rows: [(shape: ConvShape, timing: ConvTiming?)]) -> Record {
        let h = Self.height, w = Self.width
        return Record(batch: batch, threads: compute.threads, repeats: repeats, warmup: warmup, rows: rows.map { row in
            let s = row.shape, (kept, dense) = (s.keptTaps.count, s.kernelTaps), pad = s.padding
            let flops = (fwdUseful: s.forwardFlops(batch: batch, height: h, width: w, taps: kept),
                         fwdDense: s.forwardFlops(batch: batch, height: h, width: w, taps: dense),
                         fwdbwdUseful: s.forwardBackwardFlops(batch: batch, height: h, width: w, taps: kept),
                         fwdbwdDense: s.forwardBackwardFlops(batch: batch, height: h, width: w, taps: dense))
            var r = Row(id: s.id, model: s.model, layer: s.layer, uses: s.uses, batch: batch,
                        inChannels: s.inChannels, outChannels: s.outChannels, height: h, width: w,
                        kernel: [s.kernelHeight, s.kernelWidth], dilation: [s.dilation.0, s.dilation.1],
                        padding: [pad.0, pad.1, pad.2, pad.3], tapsKept: kept, tapsTotal: dense,
                        inputGrad: s.inputGrad, flopsFwdUseful: Int(flops.fwdUseful),
                        flopsFwdDense: Int(flops.fwdDense), flopsFwdbwdUseful: Int(flops.fwdbwdUseful),
                        flopsFwdbwdDense: Int(flops.fwdbwdDense))
            if let pattern = s.tapPattern { r.mask = pattern } else { r.maskFlat = s.mask!.data.map { $0 != 0 ? 1 : 0 } }
            guard let t = row.timing else { return r }
            let ms = { (x: Double) in rounded(x * 1e3, 4) }
            (r.fwdMs, r.fwdMsMin, r.fwdMsMax) = (ms(t.forward.median), ms(t.forward.min), ms(t.forward.max))
            (r.fwdbwdMs, r.fwdbwdMsMin, r.fwdbwdMsMax) =
                (ms(t.forwardBackward.median), ms(t.forwardBackward.min), ms(t.forwardBackward.max))
            let f = t.forward.median, b = t.forwardBackward.median
            r.gflopsFwdUseful = rounded(flops.fwdUseful / f / 1e9, 2)
            r.gflopsFwdDense = rounded(flops.fwdDense / f / 1e9, 2)
            r.gflopsFwdbwdUseful = rounded(flops.fwdbwdUseful / b / 1e9, 2)
            r.gflopsFwdbwdDense = rounded(flops.fwdbwdDense / b / 1e9, 2)
            if let o = t.onednn {
                r.onednnC = OneDNNRecord(
                    library: o.library, implFwd: o.implementations.forward,
                    implBwdData: o.implementations.backwardData, implBwdWeights: o.implementations.backwardWeights,
                    fwdMs: ms(o.forward.median), fwdConvMs: ms(o.forwardPrimitive.median),
                    fwdbwdMs: ms(o.forwardBackward.median), fwdbwdConvMs: ms(o.forwardBackwardPrimitive.median),
                    maxAbsDiff: rounded(Double(o.maxAbsDiff), 7))
            }
            return r
        })
    }
}
