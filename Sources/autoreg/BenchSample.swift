import ArgumentParser
import AutoregModels
import AutoregTensor
import Foundation

struct SampleBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Seconds to sample --count images from a freshly initialised model.",
        discussion: """
        --sampler cached (pixelcnn, gated-pixelcnn) times whole samples: the median and range \
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
        if sampler == .cached && !options.architecture.model.isConvolutional {
            throw ValidationError("--sampler cached needs pixelcnn or gated-pixelcnn, not \(options.architecture.model.rawValue)")
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
            let t = seconds {
                _ = m.generate(count: count, rng: &rng, fixed: [Float](repeating: 0, count: count * d),
                               observed: observed, sampler: .naive)
            }
            runs = [t / Double(p) * Double(d)]
            if p < d { timedPixels = p }
        } else {
            for step in 0..<(options.warmup + options.steps) {
                var rng = RandomGenerator(seed: 1)
                let f0 = Gemm.flops, c0 = processCPUSeconds()
                let t = seconds { _ = m.generate(count: count, rng: &rng, sampler: .cached) }
                if step >= options.warmup {
                    runs.append(t)
                    cpu = min(cpu, processCPUSeconds() - c0)
                    flops = Gemm.flops - f0
                }
            }
        }
        let s = summarize(runs), memory = peakResidentMiB(), a = options.architecture
        if options.json {
            var fields: [(String, String)] = [
                ("framework", "\"autoreg\""), ("task", "\"sample\""), ("model", "\"\(a.model.rawValue)\""),
                ("levels", "\(a.levels)"), ("count", "\(count)"), ("threads", "\(options.compute.threads)"),
                ("parameters", "\(m.parameterCount)"), ("sampler", "\"\(sampler.rawValue)\""),
                ("seconds", String(format: "%.4f", s.median)), ("seconds_min", String(format: "%.4f", s.min)),
                ("seconds_max", String(format: "%.4f", s.max)),
                ("images_per_s_median", String(format: "%.3f", Double(count) / s.median)),
                ("peak_rss_mib", String(format: "%.1f", memory)),
            ]
            if let p = timedPixels { fields.append(("extrapolated_from_pixels", "\(p)")) }
            print("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
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

/// Wall-clock seconds `body` takes.
func seconds(_ body: () -> Void) -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
}

/// CPU time this process has used (all threads), in seconds: steadier than wall time on a
/// shared machine.
func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}
