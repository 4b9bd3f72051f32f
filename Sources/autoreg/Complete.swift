import ArgumentParser
import AutoregData
import AutoregImaging
import AutoregModels
import AutoregTensor
import AutoregTraining
import Foundation

struct Complete: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Complete a partly observed image: keep the observed pixels, sample the rest.",
        discussion: """
        The image comes from a PNG (--image) or a data set (--index, from --data and --split). \
        --observe top-half keeps the top half (a prefix of the raster order: the completions are \
        exact draws from p(rest | top)); --observe MASK.png keeps the pixels that are white in a \
        mask of the image's size. Writes one row: the original, the observed part (unobserved \
        pixels in magenta), then the K completions. Example:
          autoreg complete --checkpoint runs/gated/best.ckpt --index 7 --observe top-half -k 8
        """)

    @OptionGroup var options: SamplingOptions
    @OptionGroup var imageLimit: ImageLimitOptions
    @Option(help: "The image to complete (PNG of the model's size; grey or colour).") var image: String?
    @Option(parsing: .unconditional, help: "Take the image with this index from a data set instead.") var index: Int?
    @Option(name: .customLong("data"), help: "Data set for --index (default: the one the checkpoint was trained on).") var dataGiven: DatasetName?
    var data: String? { dataGiven?.rawValue }
    @Option(help: "Split for --index: \(Split.allCases.map(\.rawValue).joined(separator: ", ")).") var split: Split = .test
    @Option(help: "Folder holding the data set's files.") var dataDir: String?
    @Option(help: "Observed pixels: top-half, or a mask PNG of the image's size (white = observed).")
    var observe: String = "top-half"
    @Option(name: .customShort("k"), parsing: .unconditional, help: "Number of completions.") var k: Int = 8
    @Option(help: "Output PNG.") var out: String = "completions.png"

    func validate() throws {
        if (image == nil) == (index == nil) { throw ValidationError("give exactly one of --image FILE.png and --index N") }
        if let index, index < 0 { throw ValidationError("--index must not be negative, got \(index)") }
        if k < 1 { throw ValidationError("-k must be at least 1") }
        if !out.hasSuffix(".png") { throw ValidationError("--out must name a .png file, got '\(out)'") }
    }

    func run() throws {
        imageLimit.apply()
        let (model, ck) = try loadModel(options.checkpoint)
        let c = model.config
        try checkBatchSize(c, images: k, option: "-k")
        try checkPictureSize(c, images: k + 2, scale: options.scale, copies: 1, options: "-k \(k) with --scale \(options.scale)")
        let d = c.dimension
        // The original image as raw values 0..<levels, and its label when a data set has one.
        var original: [Float]
        var datasetLabel: Int?
        if let image {
            original = try readImage(image, config: c, what: "--image")
        } else {
            let name = data ?? ck.training?.options.dataset ?? "binarized-mnist"
            let dir = dataDir ?? ck.training?.options.dataDirectory
            let set = try loadSplit(name, split: split, dataDirectory: dir, for: model)
            guard index! < set.count else {
                throw SamplingError("--index \(index!) is out of range: \(name) \(split) has \(set.count) images")
            }
            original = set.image(index!).map { Float($0) }
            datasetLabel = set.labels?[index!]
        }
        let observed = try observedMask(config: c)
        let observedCount = observed.filter { $0 }.count
        // A prefix of the generation order: the exact conditional. Otherwise say what it is.
        let inOrder = model.ordering.map { observed[$0] }
        let isPrefix = !zip(inOrder, inOrder.dropFirst()).contains { !$0 && $1 }
        if !isPrefix {
            let raster = model.ordering == Array(0..<c.dimension)
            note("note: the observed pixels are not a prefix of the model's \(raster ? "raster" : "generation")"
                + " order: each missing pixel is drawn given the pixels before it only, so observed pixels that come"
                + " later cannot inform earlier sampled ones (the completion is not the exact conditional"
                + " p(missing | observed))")
        }
        let labels = try options.labels(for: model, count: k, fallback: datasetLabel)
        let method = try options.method(for: model, observing: observedCount > 0)
        options.applyThreads(for: method, model: model)
        var rng = RandomGenerator(seed: options.seed)
        let fixed = (0..<k).flatMap { _ in original }
        let (s, seconds) = withSamplingProgress("completing (\(method.rawValue))") { progress in
            model.generate(count: k, labels: labels, rng: &rng, temperature: options.temperature,
                           fixed: fixed, observed: observed, sampler: options.sampler, progress: progress)
        }
        // Tiles in RGB: original, observed part (missing pixels in magenta), completions.
        func tile(_ values: [Float], missing: [Bool]? = nil) -> RasterImage {
            let bytes = expandLevels(values.map { UInt8($0) }, levels: c.levels)
            var rgb = RasterImage(width: c.width, height: c.height, channels: c.channels, pixels: bytes).rgb()
            if let missing {
                for p in 0..<(c.height * c.width) where (0..<c.channels).contains(where: { missing[p * c.channels + $0] }) {
                    rgb.pixels.replaceSubrange(p * 3..<p * 3 + 3, with: [255, 0, 255])
                }
            }
            return rgb
        }
        let tiles = [tile(original), tile(original, missing: observed.map { !$0 })]
            + (0..<k).map { tile(Array(s.pixels[$0 * d..<($0 + 1) * d])) }
        let grid = ImageGrid.tile(tiles, columns: tiles.count, padding: 1, paddingValue: 128, scale: options.scale)
        try writePNG(grid, to: out)
        print(String(format: "wrote the original, the observed part (%d of %d sub-pixels) and %d completions to %@; "
                     + "sampling took %.2f s (%@ sampler)", observedCount, d, k, out, seconds, method.rawValue))
    }

    /// The observed flags per sub-pixel.
    func observedMask(config c: ModelConfig) throws -> [Bool] {
        if observe == "top-half" {
            return (0..<c.dimension).map { ($0 / c.channels) / c.width < c.height / 2 }
        }
        guard FileManager.default.fileExists(atPath: observe) else {
            throw SamplingError("--observe expects top-half or a mask PNG (white = observed); \(observe): no such file")
        }
        let mask = try PNG.read(path: observe)
        guard mask.width == c.width, mask.height == c.height else {
            throw SamplingError("--observe: mask \(observe) is \(mask.width)x\(mask.height) pixels (width x height); "
                + "the model's images are \(c.width)x\(c.height)")
        }
        let grey = greyLevels(mask)
        return (0..<c.dimension).map { grey[$0 / c.channels] >= 128 }
    }

    /// Reads a PNG of the model's size as raw values 0..<levels in the model's channels.
    func readImage(_ path: String, config c: ModelConfig, what: String) throws -> [Float] {
        let png = try PNG.read(path: path)
        guard png.width == c.width, png.height == c.height else {
            throw SamplingError("\(what): \(path) is \(png.width)x\(png.height) pixels (width x height); "
                + "the model's images are \(c.width)x\(c.height)")
        }
        let bytes: [UInt8]
        if c.channels == 1 {
            bytes = greyLevels(png)
        } else if c.channels == 3 {
            bytes = png.rgb().pixels
        } else {
            throw SamplingError("\(what): models with \(c.channels) channels take no PNG input")
        }
        return bytes.map { c.levels == 2 ? ($0 >= 128 ? 1 : 0) : Float($0) }
    }

    /// One grey level per pixel: the mean of the colour channels (alpha ignored).
    func greyLevels(_ png: RasterImage) -> [UInt8] {
        let colours = png.channels >= 3 ? 3 : 1
        return (0..<(png.width * png.height)).map { p in
            let px = png.pixels[p * png.channels..<p * png.channels + colours]
            return UInt8(px.reduce(0) { $0 + Int($1) } / colours)
        }
    }
}
