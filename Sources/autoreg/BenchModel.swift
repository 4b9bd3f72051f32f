import ArgumentParser
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
        for _ in 0..<options.warmup { step() }
        return (0..<options.steps).map { _ in
            let f0 = Gemm.flops, t0 = DispatchTime.now().uptimeNanoseconds
            step()
            return (Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9, Gemm.flops - f0)
        }
    }

    /// Prints the figures of `task` as text or as one JSON line.
    func report(_ task: String, _ runs: [(seconds: Double, flops: Int)], peak: Double) {
        let a = options.architecture, batch = options.batch
        let rates = summarize(runs.map { Double(batch) / $0.seconds })
        let secs = runs.map(\.seconds).reduce(0, +), flops = runs.map(\.flops).reduce(0, +)
        let gflops = Double(flops) / secs / 1e9, memory = peakResidentMiB()
        if options.json {
            let fields: [(String, String)] = [
                ("framework", "\"autoreg\""), ("task", "\"\(task)\""), ("model", "\"\(a.model.rawValue)\""),
                ("levels", "\(a.levels)"), ("batch", "\(batch)"), ("threads", "\(options.compute.threads)"),
                ("parameters", "\(model.parameterCount)"),
                ("images_per_s_median", String(format: "%.2f", rates.median)),
                ("images_per_s_min", String(format: "%.2f", rates.min)),
                ("images_per_s_max", String(format: "%.2f", rates.max)),
                ("peak_rss_mib", String(format: "%.1f", memory)), ("gflops", String(format: "%.2f", gflops)),
                ("sgemm_peak_gflops", String(format: "%.2f", peak)),
            ]
            print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
        } else {
            print("\(a.model.rawValue) levels \(a.levels), batch \(batch), threads \(options.compute.threads), "
                + "\(model.parameterCount) parameters")
            print(String(format: "%@  %8.1f img/s (min %.1f, max %.1f)  gemm %.1f GFLOP/s = %.0f%% of sgemm peak %.1f",
                         task, rates.median, rates.min, rates.max, gflops, 100 * gflops / peak, peak))
            print(String(format: "peak resident memory %.0f MiB", memory))
        }
    }

    /// One training step: loss, backward, Adam, zeroed gradients.
    func trainStep(_ adam: Adam) {
        let loss = model.loss(images)
        loss.backward()
        adam.step(model.parameters.map(\.tensor))
        model.zeroGrad()
    }

    /// One evaluation pass: per-image NLL without a tape.
    func evalStep() { _ = withoutGrad { model.nll(images) } }
}

struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Training images/s (forward, backward, Adam step) on random 28x28 images.")
    @OptionGroup var options: ModelBenchOptions

    func run() throws {
        let setup = try BenchSetup(options)
        let adam = Adam()
        let runs = setup.time { setup.trainStep(adam) }
        setup.report("train", runs, peak: measureSgemmPeak())
    }
}

struct EvalBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Evaluation images/s (per-image NLL, no tape) on random 28x28 images.")
    @OptionGroup var options: ModelBenchOptions

    func run() throws {
        let setup = try BenchSetup(options)
        let runs = setup.time(setup.evalStep)
        setup.report("eval", runs, peak: measureSgemmPeak())
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
        setup.report("train", train, peak: peak)
        setup.report("eval", eval, peak: peak)
    }
}
