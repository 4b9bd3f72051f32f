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
    let a = [Float](repeating: 0.5, count: size * size), b = a
    var c = [Float](repeating: 0, count: size * size)
    var best = 0.0
    for _ in 0..<repeats {
        let t0 = DispatchTime.now().uptimeNanoseconds
        c.withUnsafeMutableBufferPointer { Gemm.sgemm(m: size, n: size, k: size, a: a, b: b, c: $0.baseAddress!) }
        let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
        best = max(best, 2 * Double(size * size * size) / dt / 1e9)
    }
    return best
}

struct GemmBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm", abstract: "GFLOP/s of dnnl_sgemm on square and model-shaped products.")
    @Option(help: "Repetitions per shape (the best is reported).") var repeats: Int = 10
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        print("threads \(compute.threads)")
        for size in [256, 512, 1024, 2048] {
            print(String(format: "sgemm %4d x %4d x %4d   %7.1f GFLOP/s", size, size, size,
                         measureSgemmPeak(size: size, repeats: size >= 2048 ? 3 : repeats)))
        }
        // Shapes of a MADE 784-500-784 step at batch 100: forward and the two backward products.
        let shapes: [(String, Bool, Bool, Int, Int, Int)] = [
            ("made fwd   100x784 . 784x500", false, false, 100, 500, 784),
            ("made dX    100x500 . 500x784'", false, true, 100, 784, 500),
            ("made dW    784x100' . 100x500", true, false, 784, 500, 100),
        ]
        for (label, ta, tb, m, n, k) in shapes {
            let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.5, count: k * n)
            var c = [Float](repeating: 0, count: m * n)
            var best = 0.0
            for _ in 0..<(repeats * 5) {
                let t0 = DispatchTime.now().uptimeNanoseconds
                c.withUnsafeMutableBufferPointer {
                    Gemm.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, a: a, b: b, c: $0.baseAddress!)
                }
                let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
                best = max(best, 2 * Double(m * n * k) / dt / 1e9)
            }
            print(String(format: "%@   %7.1f GFLOP/s", label, best))
        }
    }
}

