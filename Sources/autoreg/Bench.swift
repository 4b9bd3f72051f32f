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
        784 pixels): forward, weight gradient and input gradient. Each line gives the best of \
        --repeats runs (five times as many for the model shapes, 3 for 2048³). With --onednn \
        each product also runs on oneDNN's matmul primitive, in single precision and with \
        bfloat16 inputs (f32 accumulation); the three take turns \
        within every repetition, and the line gives each one's median, so that a change in \
        the machine's speed during the run falls on all three alike.
        """)
    @Option(parsing: .unconditional, help: "Repetitions per shape (the best is reported; with --onednn, at least 20 and the median).")
    var repeats: Int = 10
    @Flag(help: "Compare with oneDNN's matmul primitive, f32 and bf16 inputs (medians of interleaved runs).")
    var onednn = false
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        print("threads \(compute.threads)")
        if onednn { print("median GFLOP/s of interleaved runs: dnnl_sgemm, oneDNN matmul f32, oneDNN matmul with bf16 inputs") }
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
            if onednn {
                print(compareWithMatmul(s.label, transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k,
                                        repeats: max(s.repeats, 20)))
            } else {
                print(String(format: "%@   %7.1f GFLOP/s", s.label,
                             measureSgemm(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, repeats: s.repeats)))
            }
        }
    }

    /// One line: the medians of dnnl_sgemm and oneDNN's matmul (f32, bf16 inputs) on one
    /// product, timed in turn within each repetition.
    func compareWithMatmul(_ label: String, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, repeats: Int) -> String {
        let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.5, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        let f32 = OneDNNMatmul(transA: transA, transB: transB, m: m, n: n, k: k, bfloat16: false)
        let bf16 = OneDNNMatmul(transA: transA, transB: transB, m: m, n: n, k: k, bfloat16: true)
        let runs: [() -> Void] = [
            { c.withUnsafeMutableBufferPointer {
                Gemm.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, b: b, c: $0.baseAddress!)
            } },
            f32.run, bf16.run,
        ]
        for run in runs { run() }  // warm-up: oneDNN compiles its kernels here
        f32.verify()
        bf16.verify()
        var rates = [[Double]](repeating: [], count: runs.count)
        for _ in 0..<repeats {
            for (i, run) in runs.enumerated() {
                let t0 = DispatchTime.now().uptimeNanoseconds
                run()
                rates[i].append(2 * Double(m * n * k) / (Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9) / 1e9)
            }
        }
        let med = rates.map { summarize($0).median }
        return String(format: "%@   sgemm %6.1f   matmul f32 %6.1f (%@)   bf16 %6.1f (%@)", label, med[0], med[1],
                      f32.implementation, med[2], bf16.implementation)
    }
}
