import ArgumentParser
import AutoregBenchSupport
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
        (benchmarks/compare.py reads it). Experiments on oneDNN's own primitives (convolution \
        shapes, matmul) are in the separate autoreg-lab tool.
        """,
        subcommands: [TrainBench.self, EvalBench.self, SampleBench.self, ModelBench.self, GemmBench.self])
}

/// Best single-precision GEMM rate on a large square product: the machine's practical peak.
func measureSgemmPeak(size: Int = 1024, repeats: Int = 10) -> Double {
    measureSgemm(m: size, n: size, k: size, repeats: repeats)
}

/// Best GFLOP/s of `Gemm.sgemm` on one product over `repeats` runs.
func measureSgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, repeats: Int) -> Double {
    let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.5, count: k * n)
    var c = [Float](repeating: 0, count: m * n)
    let times = Timing.steps(warmup: 0, repeats: repeats) {
        c.withUnsafeMutableBufferPointer {
            Gemm.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, b: b, c: $0.baseAddress!)
        }
    }
    return 2 * Double(m * n * k) / (times.min() ?? .infinity) / 1e9
}

struct GemmBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm", abstract: "GFLOP/s of dnnl_sgemm on square and model-shaped products.",
        discussion: """
        The model shapes are a MADE 784-500-784 step at batch 100 and, per image, the Gated \
        PixelCNN's vertical 3x3 convolution (64 -> 128 channels over the 6 taps it keeps, \
        784 pixels): forward, weight gradient and input gradient, as one product over the \
        column matrix and as the Winograd rows run it (per point and tap row, 392 tiles). Each line gives the best of \
        --repeats runs (five times as many for the model shapes, 3 for 2048³). \
        `autoreg-lab matmul` runs the same products beside oneDNN's matmul primitive. The \
        first line names the CPU, its widest vector extension (AVX2 or AVX-512), the \
        instruction set oneDNN's kernels use and the clone of Autoreg's C loops that runs.
        """)
    @Option(parsing: .unconditional, help: "Repetitions per shape (the best is reported).")
    var repeats: Int = 10
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        print("cpu \(Machine.summary)")
        print("threads \(compute.threads)")
        for s in GemmShape.all(repeats: repeats) {
            print(String(format: "%@   %7.1f GFLOP/s", s.label,
                         measureSgemm(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, repeats: s.repeats)))
        }
    }
}
