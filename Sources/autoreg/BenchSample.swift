import ArgumentParser
import AutoregBenchSupport
import AutoregModels
import AutoregTensor
import Foundation

struct SampleBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Seconds to sample --count images from a freshly initialised model.",
        discussion: """
        --sampler cached (\(ModelKind.names(where: \.hasCachedSampler))) times whole samples: the median and range \
        over --steps runs after --warmup. --sampler naive reruns the network once per \
        sub-pixel; every pass costs the same, so it times the first --pixels passes (the rest \
        observed, hence skipped) and scales to all H·W·C, as benchmarks/pytorch_bench.py does. \
        Both samplers draw the same images for the same seed. --batch is not used.
        """)
    @OptionGroup var options: ModelBenchOptions
    @Option(parsing: .unconditional, help: "Images per sample.") var count: Int = 16
    @Option(help: "Sampler: cached or naive.") var sampler: Sampler = .cached
    @Option(parsing: .unconditional, help: "naive: sub-pixels timed (then extrapolated; 0 or ≥ H·W·C times them all).") var pixels: Int = 56
    @Option(parsing: .unconditional, help: "Image height and width.") var size: Int = 28
    @Option(parsing: .unconditional, help: "Image channels: 1 or 3.") var imageChannels: Int = 1

    func validate() throws {
        if count < 1 { throw ValidationError("--count must be at least 1") }
        if pixels < 0 { throw ValidationError("--pixels must not be negative") }
        if sampler == .cached && !options.architecture.model.hasCachedSampler {
            throw ValidationError("--sampler cached needs \(ModelKind.names(where: \.hasCachedSampler)), not \(options.architecture.model.rawValue)")
        }
        if imageChannels != 1 && imageChannels != 3 { throw ValidationError("--image-channels must be 1 or 3") }
    }

    func run() throws {
        try options.compute.apply()
        let m = try makeModel(try options.architecture.config(height: size, width: size, channels: imageChannels))
        let d = m.dimension
        var runs: [Double] = [], flops = 0, cpu = Double.infinity
        var timedPixels: Int? = nil
        if sampler == .naive {
            let p = pixels == 0 ? d : min(pixels, d)
            let observed = (0..<d).map { $0 >= p }
            var rng = RandomGenerator(seed: 1)
            let t = Timing.seconds {
                _ = m.generate(count: count, rng: &rng, fixed: [Float](repeating: 0, count: count * d),
                               observed: observed, sampler: .naive)
            }
            runs = [t / Double(p) * Double(d)]
            if p < d { timedPixels = p }
        } else {
            var rng = RandomGenerator(seed: 1), step = 0
            runs = Timing.steps(warmup: options.warmup, repeats: options.steps, prepare: { rng = RandomGenerator(seed: 1) }) {
                let f0 = Gemm.flops, c0 = Timing.processCPUSeconds()
                _ = m.generate(count: count, rng: &rng, sampler: .cached)
                if step >= options.warmup {
                    cpu = min(cpu, Timing.processCPUSeconds() - c0)
                    flops = Gemm.flops - f0
                }
                step += 1
            }
        }
        let s = Summary(runs), memory = Timing.peakResidentMiB(), a = options.architecture
        if options.json {
            try printJSONLine(SampleRecord(
                model: a.model.rawValue, levels: a.levels, count: count, threads: options.compute.threads,
                parameters: m.parameterCount, sampler: sampler.rawValue, seconds: rounded(s.median, 4),
                secondsMin: rounded(s.min, 4), secondsMax: rounded(s.max, 4),
                imagesPerSMedian: rounded(Double(count) / s.median, 3), peakRssMib: rounded(memory, 1),
                extrapolatedFromPixels: timedPixels))
            return
        }
        print("\(a.model.rawValue) \(size)x\(size)x\(imageChannels), levels \(a.levels), \(m.parameterCount) parameters, "
            + "\(count) images, threads \(options.compute.threads)")
        if let p = timedPixels {
            print(String(format: "naive: %.1f s for all %d sub-pixels (extrapolated from the first %d)", s.median, d, p))
        } else if sampler == .naive {
            print(String(format: "naive: %.1f s for all %d sub-pixels", s.median, d))
        } else {
            print(String(format: "cached: %.3f s (min %.3f, max %.3f over %d runs); %.1f ms per image; "
                         + "CPU %.3f s; GEMM %.1f GFLOP at %.1f GFLOP/s",
                         s.median, s.min, s.max, runs.count, 1000 * s.median / Double(count), cpu,
                         Double(flops) / 1e9, Double(flops) / s.median / 1e9))
        }
        print(String(format: "peak resident memory %.0f MiB", memory))
    }
}

/// The JSON line of `bench sample` (benchmarks/compare.py reads `seconds`,
/// `extrapolated_from_pixels` and `peak_rss_mib`).
struct SampleRecord: Codable {
    var framework = "autoreg"
    var task = "sample"
    var model: String
    var levels: Int
    var count: Int
    var threads: Int
    var parameters: Int
    var sampler: String
    var seconds: Double
    var secondsMin: Double
    var secondsMax: Double
    var imagesPerSMedian: Double
    var peakRssMib: Double
    /// Naive sampler only: the sub-pixels timed before scaling to the whole image (absent
    /// when all were timed).
    var extrapolatedFromPixels: Int?
    /// `Machine.summary`: the CPU, its vector extension, oneDNN's ISA and the C kernels' clone.
    var machine = Machine.summary
}
