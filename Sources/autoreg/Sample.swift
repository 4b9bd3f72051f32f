import ArgumentParser
import AutoregImaging
import AutoregModels
import AutoregTensor
import AutoregTraining
import Foundation

extension Sampler: ExpressibleByArgument {}

/// Options `sample` and `complete` share.
struct SamplingOptions: ParsableArguments {
    @Option(help: "Checkpoint file.") var checkpoint: String
    @Option(parsing: .unconditional, help: "Random seed.") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Softmax temperature (1 = the model's distribution).") var temperature: Float = 1
    @Option(help: "Sampler: cached (\(ModelKind.names(where: \.hasCachedSampler)): about one forward pass in all), naive (one full pass per sub-pixel; the same images), auto (the fastest exact one).")
    var sampler: Sampler = .automatic
    @Option(parsing: .unconditional, help: "Class label to condition on (class-conditional checkpoints only).") var label: Int?
    @Option(parsing: .unconditional, help: "Enlarge each pixel this many times.") var scale: Int = 3
    @Option(parsing: .unconditional, help: "Threads (default: all cores for pixelcnn and gated-pixelcnn, whose samplers give each thread a share of the images; 1 otherwise, where the per-pixel products are too small for a split to pay).")
    var threads: Int?

    func validate() throws {
        if !(temperature > 0 && temperature.isFinite) { throw ValidationError("--temperature must be a positive number, got \(temperature)") }
        if scale < 1 { throw ValidationError("--scale must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// Sets the matrix-product threads for sampling `model` with `method`.
    func applyThreads(for method: SamplingMethod, model: any AutoregressiveModel) {
        // Cached: each thread samples its share of the images (measured 1.7-1.8x on two idle
        // cores for the Gated PixelCNN; PixelRNN's tiny products lose more than they gain).
        let split = (method == .cached || method == .naive) && model is any ConvolutionalModel
        Gemm.setThreads(threads ?? (split ? ProcessInfo.processInfo.activeProcessorCount : 1))
    }

    /// The sampler to use for `model`, or an error naming why `--sampler cached` cannot be.
    func method(for model: any AutoregressiveModel, observing: Bool) throws -> SamplingMethod {
        guard let m = model.samplingMethod(sampler, observing: observing) else {
            throw SamplingError("--sampler cached: \(model.config.kind) has no cached sampler "
                + "(\(ModelKind.names(where: \.hasCachedSampler)) have); use --sampler naive or auto")
        }
        return m
    }

    /// Labels for `count` images: `--label` for each, or for a conditional model without one,
    /// `fallback` (or the classes in turn), with a note saying which; nil for unconditional models.
    func labels(for model: any AutoregressiveModel, count: Int, fallback: Int? = nil) throws -> [Int]? {
        let classes = model.config.classes
        if let label {
            guard classes > 0 else {
                throw SamplingError("--label: \(checkpoint) holds an unconditional \(model.config.kind) model "
                    + "(trained without class labels); leave --label out")
            }
            guard label >= 0 && label < classes else {
                throw SamplingError("--label must lie in 0..<\(classes) for this model, got \(label)")
            }
            return [Int](repeating: label, count: count)
        }
        guard classes > 0 else { return nil }
        if let fallback, fallback >= 0 && fallback < classes {
            note("note: class-conditional model and no --label: using the image's label \(fallback)")
            return [Int](repeating: fallback, count: count)
        }
        note("note: class-conditional model and no --label: image k uses class k mod \(classes) "
            + "(classes 0...\(classes - 1) in turn; pass --label to choose one)")
        return (0..<count).map { $0 % classes }
    }
}

/// Writes `image` to `path`, creating its folder.
func writePNG(_ image: RasterImage, to path: String) throws {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try PNG.write(image, to: path)
}

/// Runs `body` with a progress callback that redraws "label: pixel i/D  Ns elapsed" on the
/// terminal; returns its result and the seconds it took.
func withSamplingProgress<T>(_ label: String, _ body: (@escaping (Int, Int) -> Void) -> T) -> (T, Double) {
    let progress = ProgressLine(interval: 5)
    let start = Date()
    let result = body { step, total in
        StopRequest.exitIfRequested(during: "\(label) (pixel \(step) of \(total)); nothing was written")
        progress.update(String(format: "%@: pixel %d/%d  %.1f s elapsed", label, step, total,
                               Date().timeIntervalSince(start)), force: step == total)
    }
    progress.finish()
    return (result, Date().timeIntervalSince(start))
}

struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Draw images from a checkpoint, pixel by pixel.",
        discussion: """
        Writes OUT (the samples in a grid). For binary models also OUT with -probabilities \
        before .png (the map of p(x_i = 1 | x_<i) along each sampled path) and with \
        -side-by-side (both). pixelcnn and gated-pixelcnn use the cached sampler by default \
        (the same images as --sampler naive for the same seed, in about one forward pass).
        """)

    @OptionGroup var options: SamplingOptions
    @Option(name: .shortAndLong, parsing: .unconditional, help: "Number of images.") var n: Int = 64
    @Option(help: "Output PNG.") var out: String = "samples.png"

    func validate() throws {
        if n < 1 { throw ValidationError("-n must be at least 1") }
        if !out.hasSuffix(".png") { throw ValidationError("--out must name a .png file, got '\(out)'") }
    }

    func run() throws {
        let (model, _) = try loadModel(options.checkpoint)
        try checkBatchSize(model.config, images: n, option: "-n")
        try checkPictureSize(model.config, images: n, scale: options.scale, options: "-n \(n) with --scale \(options.scale)")
        let labels = try options.labels(for: model, count: n)
        let method = try options.method(for: model, observing: false)
        options.applyThreads(for: method, model: model)
        let c = model.config
        var rng = RandomGenerator(seed: options.seed)
        let (s, seconds) = withSamplingProgress("sampling (\(method.rawValue))") { progress in
            model.generate(count: n, labels: labels, rng: &rng, temperature: options.temperature,
                           sampler: options.sampler, progress: progress)
        }
        let pixels = expandLevels(s.pixels.map { UInt8($0) }, levels: c.levels)
        let grid = ImageGrid.tile(pixels: pixels, count: n, height: c.height, width: c.width, channels: c.channels,
                                  padding: 1, paddingValue: 128, scale: options.scale)
        try writePNG(grid, to: out)
        var extra = ""
        if c.levels == 2 {
            let pgrid = ImageGrid.tile(pixels: probabilityImage(s.probabilities), count: n, height: c.height,
                                       width: c.width, channels: c.channels, padding: 1, paddingValue: 128,
                                       scale: options.scale)
            let base = String(out.dropLast(4))
            try PNG.write(pgrid, to: base + "-probabilities.png")
            try PNG.write(grid.beside(pgrid, gap: 6 * options.scale), to: base + "-side-by-side.png")
            extra = " (probabilities: \(base)-probabilities.png, side by side: \(base)-side-by-side.png)"
        }
        print(String(format: "wrote %d samples to %@%@; sampling took %.2f s (%@ sampler, %.1f ms per image)",
                     n, out, extra, seconds, method.rawValue, 1000 * seconds / Double(n)))
    }
}

/// A problem with the inputs `sample` or `complete` found after parsing (printed as "Error: …").
struct SamplingError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
