import ArgumentParser
import AutoregModels
import AutoregNN
import AutoregTensor
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput: training, evaluation, sampling and matrix products.",
        discussion: """
        Every figure is measured on random images after warm-up steps; rates are the median \
        and range over the timed steps, with the matrix products' GFLOP/s as a fraction of the \
        machine's sgemm peak measured in the same run. --json prints one JSON line instead \
        (benchmarks/compare.py reads it).
        """,
        subcommands: [TrainBench.self, EvalBench.self, SampleBench.self, ModelBench.self, GemmBench.self, ConvBench.self])
}

/// Peak resident memory of this process so far, in MiB.
func peakResidentMiB() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
    #else
    getrusage(RUSAGE_SELF, &usage)
    return Double(usage.ru_maxrss) / 1024 / 1024  // bytes on macOS
    #endif
}

/// Median and the spread (min...max) of a list of rates.
func summarize(_ xs: [Double]) -> (median: Double, min: Double, max: Double) {
    let s = xs.sorted()
    guard !s.isEmpty else { return (0, 0, 0) }
    let mid = s.count / 2
    return (s.count % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2, s.first!, s.last!)
}

/// Best single-precision GEMM rate on a large square product: the machine's practical peak.
func measureSgemmPeak(size: Int = 1024, repeats: Int = 10) -> Double {
    measureSgemm(m: size, n: size, k: size, repeats: repeats)
}

/// Best GFLOP/s of `Gemm.sgemm` on one product over `repeats` runs.
func measureSgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, repeats: Int) -> Double {
    let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.5, count: k * n)
    var c = [Float](repeating: 0, count: m * n)
    var best = 0.0
    for _ in 0..<repeats {
        let t0 = DispatchTime.now().uptimeNanoseconds
        c.withUnsafeMutableBufferPointer {
            Gemm.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, b: b, c: $0.baseAddress!)
        }
        let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
        best = max(best, 2 * Double(m * n * k) / dt / 1e9)
    }
    return best
}

struct GemmBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm", abstract: "GFLOP/s of dnnl_sgemm on square and model-shaped products.",
        discussion: """
        The model shapes are a MADE 784-500-784 step at batch 100 and, per image, the Gated \
        PixelCNN's vertical 3x3 convolution (64 -> 128 channels over the 6 taps it keeps, \
        784 pixels): forward, weight gradient and input gradient. With --onednn each line \
        also times oneDNN's matmul primitive on the same product, in single precision and \
        with bfloat16 inputs (f32 accumulation), and names the implementation it chose.
        """)
    @Option(help: "Repetitions per shape (the best is reported).") var repeats: Int = 10
    @Flag(help: "Also time oneDNN's matmul primitive, f32 and bf16 inputs, on each product.") var onednn = false
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        print("threads \(compute.threads)")
        if onednn { print("GFLOP/s: dnnl_sgemm, then oneDNN matmul f32 and bf16 (bf16 inputs, f32 output)") }
        var shapes: [(label: String, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, repeats: Int)] =
            [256, 512, 1024, 2048].map { size in
                (String(format: "sgemm %4d x %4d x %4d", size, size, size), false, false, size, size, size,
                 size >= 2048 ? 3 : repeats)
            }
        shapes += [
            ("made fwd   100x784 . 784x500", false, false, 100, 500, 784, repeats * 5),
            ("made dX    100x500 . 500x784'", false, true, 100, 784, 500, repeats * 5),
            ("made dW    784x100' . 100x500", true, false, 784, 500, 100, repeats * 5),
            ("gated fwd  128x384 . 384x784", false, false, 128, 784, 384, repeats * 5),
            ("gated dW   128x784 . 384x784'", false, true, 128, 384, 784, repeats * 5),
            ("gated dX   128x384' . 128x784", true, false, 384, 784, 128, repeats * 5),
        ]
        for s in shapes {
            var line = String(format: "%@   %7.1f GFLOP/s", s.label,
                              measureSgemm(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, repeats: s.repeats))
            if onednn {
                let f32 = OneDNNMatmul.measure(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k,
                                               bfloat16: false, repeats: s.repeats)
                let bf16 = OneDNNMatmul.measure(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k,
                                                bfloat16: true, repeats: s.repeats)
                line += String(format: "   matmul f32 %7.1f (%@)   bf16 %7.1f (%@)", f32.gflops, f32.implementation,
                               bf16.gflops, bf16.implementation)
            }
            print(line)
        }
    }
}
