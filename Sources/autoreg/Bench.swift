import ArgumentParser
import AutoregModels
import AutoregNN
import AutoregTensor
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput: matrix products, training and evaluation.",
        subcommands: [GemmBench.self, ModelBench.self])
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

struct ModelBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Training and evaluation images/s of a model on random binary 28x28 images.",
        discussion: "Reports the median and range over the timed steps, the GEMM GFLOP/s achieved inside them, the machine's sgemm peak measured in the same run, and peak resident memory.")
    @Option(help: "Model: \(ModelKind.allCases.map(\.rawValue).joined(separator: ", ")).") var model: ModelKind = .made
    @Option(help: "Hidden sizes, comma-separated.") var hidden: String?
    @Option(help: "Minibatch size.") var batch: Int = 100
    @Option(help: "Timed steps after warm-up.") var steps: Int = 20
    @Option(help: "Warm-up steps.") var warmup: Int = 3
    @Option(help: "Pixel levels: 2 or 256 (made).") var levels: Int = 2
    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try compute.apply()
        let config = ModelConfig(kind: model, height: 28, width: 28, levels: levels,
                                 hidden: try hidden.map { try parseSizes($0, option: "--hidden") })
        let m = try makeModel(config)
        var rng = RandomGenerator(seed: 1)
        let d = config.dimension
        let x = Tensor(shape: [batch, d], data: (0..<(batch * d)).map { _ in
            levels == 2 ? (rng.uniform() < 0.2 ? 1 : 0) : Float(rng.int(below: levels)) })
        let params = m.parameters.map(\.tensor)
        let adam = Adam()
        func timed(_ body: () -> Void) -> (seconds: Double, flops: Int) {
            let f0 = Gemm.flops
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            return (Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9, Gemm.flops - f0)
        }
        func trainStep() {
            let loss = m.loss(x)
            loss.backward()
            adam.step(params)
            m.zeroGrad()
        }
        for _ in 0..<warmup { trainStep() }
        let train = (0..<steps).map { _ in timed(trainStep) }
        for _ in 0..<warmup { _ = withoutGrad { m.nll(x) } }
        let eval = (0..<steps).map { _ in timed { _ = withoutGrad { m.nll(x) } } }
        let peak = measureSgemmPeak()
        print("\(model) \(config.hidden) levels \(levels), batch \(batch), threads \(compute.threads), \(m.parameterCount) parameters")
        for (label, runs) in [("train", train), ("eval", eval)] {
            let rates = summarize(runs.map { Double(batch) / $0.seconds })
            let secs = runs.map(\.seconds).reduce(0, +), flops = runs.map(\.flops).reduce(0, +)
            let gflops = Double(flops) / secs / 1e9
            print(String(format: "%@  %8.0f img/s (min %.0f, max %.0f)  gemm %.1f GFLOP/s = %.0f%% of sgemm peak %.1f",
                         label, rates.median, rates.min, rates.max, gflops, 100 * gflops / peak, peak))
        }
        print(String(format: "peak resident memory %.0f MiB", peakResidentMiB()))
    }
}
