import ArgumentParser
import AutoregBenchSupport
import AutoregModels
import AutoregNN
import AutoregTensor
import Foundation

/// Options shared by the model benchmarks.
struct ModelBenchOptions: ParsableArguments {
    @OptionGroup var architecture: ArchitectureOptions
    @Option(parsing: .unconditional, help: "Minibatch size.") var batch: Int = 100
    @Option(parsing: .unconditional, help: "Timed steps after warm-up.") var steps: Int = 20
    @Option(parsing: .unconditional, help: "Warm-up steps.") var warmup: Int = 3
    @Flag(help: "Print one JSON line instead of text.") var json = false
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if steps < 1 { throw ValidationError("--steps must be at least 1") }
        if warmup < 0 { throw ValidationError("--warmup must not be negative") }
    }
}

/// The JSON line of `bench train` and `bench eval` (benchmarks/compare.py reads it; the
/// field names are snake_case: `images_per_s_median`, `peak_rss_mib`, ...).
struct ThroughputRecord: Codable {
    var framework = "autoreg"
    var task: String
    var model: String
    var levels: Int
    var batch: Int
    var threads: Int
    var parameters: Int
    var imagesPerSMedian: Double
    var imagesPerSMin: Double
    var imagesPerSMax: Double
    var peakRssMib: Double
    var gflops: Double
    var sgemmPeakGflops: Double
    /// `Machine.summary`: the CPU, its vector extension, oneDNN's ISA and the C kernels' clone.
    var machine = Machine.summary
}

/// A model and a random batch of 28×28 images to time it on.
struct BenchSetup {
    let model: any AutoregressiveModel
    let images: Tensor
    let options: ModelBenchOptions

    init(_ options: ModelBenchOptions) throws {
        try options.compute.apply()
        self.options = options
        model = try makeModel(try options.architecture.config())
        let levels = options.architecture.levels, n = options.batch * model.dimension
        var rng = RandomGenerator(seed: 1)
        images = Tensor(shape: [options.batch, model.dimension], data: (0..<n).map { _ in
            levels == 2 ? (rng.uniform() < 0.2 ? 1 : 0) : Float(rng.int(below: levels)) })
    }

    /// Runs `step` for the warm-up and timed steps; returns seconds and GEMM flops per timed step.
    func time(_ step: () -> Void) -> [(seconds: Double, flops: Int)] {
        var flops: [Int] = []
        let seconds = Timing.steps(warmup: options.warmup, repeats: options.steps) {
            let f0 = Gemm.flops
            step()
            flops.append(Gemm.flops - f0)
        }
        return Array(zip(seconds, flops.suffix(seconds.count)))
    }

    /// Prints the figures of `task` as text or as one JSON line.
    func report(_ task: String, _ runs: [(seconds: Double, flops: Int)], peak: Double) throws {
        let a = options.architecture, batch = options.batch
        let rates = Summary(runs.map { Double(batch) / $0.seconds })
        let secs = runs.map(\.seconds).reduce(0, +), flops = runs.map(\.flops).reduce(0, +)
        let gflops = Double(flops) / secs / 1e9, memory = Timing.peakResidentMiB()
        if options.json {
            try printJSONLine(ThroughputRecord(
                task: task, model: a.model.rawValue, levels: a.levels, batch: batch, threads: options.compute.threads,
                parameters: model.parameterCount, imagesPerSMedian: rounded(rates.median, 2),
                imagesPerSMin: rounded(rates.min, 2), imagesPerSMax: rounded(rates.max, 2),
                peakRssMib: rounded(memory, 1), gflops: rounded(gflops, 2), sgemmPeakGflops: rounded(peak, 2)))
        } else {
            print("\(a.model.rawValue) levels \(a.levels), batch \(batch), threads \(options.compute.threads), "
                + "\(model.parameterCount) parameters")
            print(String(format: "%@  %8.1f img/s (min %.1f, max %.1f)  gemm %.1f GFLOP/s = %.0f%% of sgemm peak %.1f",
                         task, rates.median, rates.min, rates.max, gflops, 100 * gflops / peak, peak))
            print(String(format: "peak resident memory %.0f MiB", memory))
        }
    }

    /// One training step as `autoreg train` runs it: loss and backward pass (the batch split
    /// over the threads), Adam, zeroed gradients.
    func trainStep(_ adam: Adam) {
        _ = model.lossAndGradient(images)
        adam.step(model.parameters.map(\.tensor))
        model.zeroGrad()
    }

    /// One evaluation pass as `autoreg eval` runs it: per-image NLL without a tape.
    func evalStep() { _ = model.nllPerImage(images) }
}

struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Training images/s (forward, backward, Adam step) on random 28x28 images.")
    @OptionGroup var options: ModelBenchOptions

    func run() throws {
        let setup = try BenchSetup(options)
        let adam = Adam()
        let runs = setup.time { setup.trainStep(adam) }
        try setup.report("train", runs, peak: measureSgemmPeak())
    }
}

struct EvalBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluation images/s (per-image NLL, no tape) on random 28x28 images.")
    @OptionGroup var options: ModelBenchOptions

    func run() throws {
        let setup = try BenchSetup(options)
        let runs = setup.time(setup.evalStep)
        try setup.report("eval", runs, peak: measureSgemmPeak())
    }
}

struct ModelBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Training, then evaluation, images/s in one process (see train and eval).")
    @OptionGroup var options: ModelBenchOptions

    func run() throws {
        let setup = try BenchSetup(options)
        let adam = Adam()
        let train = setup.time { setup.trainStep(adam) }
        let eval = setup.time(setup.evalStep)
        let peak = measureSgemmPeak()
        try setup.report("train", train, peak: peak)
        try setup.report("eval", eval, peak: peak)
    }
}
