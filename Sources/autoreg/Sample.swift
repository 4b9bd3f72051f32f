import ArgumentParser
import AutoregImaging
import AutoregModels
import AutoregTensor
import AutoregTraining
import Foundation

struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Draw images from a checkpoint, pixel by pixel.",
        discussion: """
        Writes OUT (the samples) and OUT with -probabilities before .png: for binary models the \
        map of p(x_i = 1 | x_<i) along each sampled path, and a side-by-side of the two.
        """)

    @Option(help: "Checkpoint file.") var checkpoint: String
    @Option(name: .shortAndLong, help: "Number of images.") var n: Int = 64
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Softmax temperature (1 = the model's distribution).") var temperature: Float = 1
    @Option(help: "Output PNG.") var out: String = "samples.png"
    @Option(help: "Enlarge each pixel this many times.") var scale: Int = 3
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        if n < 1 { throw ValidationError("-n must be at least 1") }
        if !(temperature > 0) { throw ValidationError("--temperature must be positive") }
        if scale < 1 { throw ValidationError("--scale must be at least 1") }
        if !out.hasSuffix(".png") { throw ValidationError("--out must name a .png file, got '\(out)'") }
    }

    func run() throws {
        try compute.apply()
        let (model, _) = try loadModel(checkpoint)
        var rng = RandomGenerator(seed: seed)
        let progress = ProgressLine(interval: 5)
        let t0 = Date()
        let s = model.sample(count: n, rng: &rng, temperature: temperature) { step, total in
            progress.update("sampling: pixel \(step)/\(total)")
        }
        progress.finish()
        let c = model.config
        let levels = c.levels
        let pixels = expandLevels(s.pixels.map { UInt8($0) }, levels: levels)
        let grid = ImageGrid.tile(pixels: pixels, count: n, height: c.height, width: c.width, channels: c.channels,
                                  padding: 1, paddingValue: 128, scale: scale)
        let folder = URL(fileURLWithPath: out).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try PNG.write(grid, to: out)
        let probs = probabilityImage(s.probabilities)
        let pgrid = ImageGrid.tile(pixels: probs, count: n, height: c.height, width: c.width, channels: c.channels,
                                   padding: 1, paddingValue: 128, scale: scale)
        let base = String(out.dropLast(4))
        try PNG.write(pgrid, to: base + "-probabilities.png")
        try PNG.write(grid.beside(pgrid, gap: 6 * scale), to: base + "-side-by-side.png")
        print(String(format: "wrote %d samples to %@ (probabilities: %@-probabilities.png) in %.1f s",
                     n, out, base, Date().timeIntervalSince(t0)))
    }
}
