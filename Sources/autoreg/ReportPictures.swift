import AutoregData
import AutoregImaging
import AutoregModels
import AutoregReport
import AutoregTensor
import AutoregTraining
import Foundation

/// The picture panels of one run in a report: samples, completions, per-pixel surprise and
/// the receptive field. A panel that cannot be drawn (no test data, say) becomes a note.
struct ReportPictures {
    let run: ReportRun
    let samples: Int
    let images: Int
    let dataDirectory: String?
    let seed: UInt64
    let scale: Int
    /// The run's place in the report (keeps SVG ids apart).
    let index: Int
    /// Seconds a panel's naive sampling (one full pass per sub-pixel) may be expected to take.
    var samplingBudget = 60.0
    /// Draw samples and completions whatever the naive sampler is expected to take.
    var slowSampling = false

    var model: any AutoregressiveModel { run.model }
    var c: ModelConfig { model.config }

    func html() -> String {
        var html = ""
        func panel(_ heading: String, _ body: () throws -> String) {
            html += "<h3>\(escapeHTML(heading))</h3>"
            do { html += try body() } catch { html += ReportPage.paragraph("Skipped: \(error)", className: "note") }
        }
        if samples > 0 { panel("Samples") { try checkSamplingCost(images: samples, observing: false); return try samplesPanel() } }
        if images > 0 {
            let test = Result { try testImages() }
            panel("Completions") {
                let data = try test.get()
                try checkSamplingCost(images: 2 * min(images, data.count), observing: true)
                return try completionsPanel(data)
            }
            panel("Per-pixel surprise") { try surprisePanel(try test.get()) }
        }
        panel("Receptive field", receptiveFieldPanel)
        return html
    }

    /// Where `images` images would be drawn by the naive sampler (one full pass of the model per
    /// sub-pixel: no cached or direct sampler), times one pass and refuses, unless
    /// `slowSampling`, when the D passes would take more than `samplingBudget` seconds.
    func checkSamplingCost(images: Int, observing: Bool) throws {
        guard !slowSampling, model.samplingMethod(.automatic, observing: observing) == .naive else { return }
        let x = Tensor(shape: [images, c.dimension], data: [Float](repeating: 0, count: images * c.dimension))
        let start = Date()
        _ = withoutGrad { model.logits(x) }
        let expected = Date().timeIntervalSince(start) * Double(c.dimension)
        guard expected > samplingBudget else { return }
        throw ReportError(String(format: "%@ draws these %d images with the naive sampler (no cached one), %d full passes "
            + "expected to take about %.0f s, more than --sampling-budget %g s; pass --slow-sampling to draw them anyway",
            c.kind.rawValue, images, c.dimension, expected, samplingBudget))
    }

    /// Class labels for `count` images of a class-conditional model: the classes in turn.
    func labels(_ count: Int) -> [Int]? {
        c.classes > 0 ? (0..<count).map { $0 % c.classes } : nil
    }

    /// A tile of raw values 0..<levels (one image) in RGB.
    func tile(_ values: ArraySlice<Float>) -> RasterImage {
        RasterImage(width: c.width, height: c.height, channels: c.channels,
                    pixels: expandLevels(values.map { UInt8($0) }, levels: c.levels)).rgb()
    }

    func samplesPanel() throws -> String {
        var rng = RandomGenerator(seed: seed)
        let start = Date()
        let s = model.generate(count: samples, labels: labels(samples), rng: &rng)
        let seconds = Date().timeIntervalSince(start)
        let method = model.samplingMethod(.automatic)?.rawValue ?? "naive"
        let d = c.dimension
        let tiles = (0..<samples).map { tile(s.pixels[$0 * d..<($0 + 1) * d]) }
        var html = ReportPage.figure(try imageElement(ImageGrid.tile(tiles, padding: 1, paddingValue: 128, scale: scale),
                                                      alt: "samples of \(run.name)"),
                                     caption: String(format: "%d samples (%@ sampler, %.2f s, seed %llu)%@.", samples, method,
                                                     seconds, seed, c.classes > 0 ? ", classes in turn" : ""))
        if c.levels == 2 {
            let p = ImageGrid.tile(pixels: probabilityImage(s.probabilities), count: samples, height: c.height, width: c.width,
                                   channels: c.channels, padding: 1, paddingValue: 128, scale: scale)
            html += ReportPage.figure(try imageElement(p, alt: "probability maps of the samples of \(run.name)"),
                                      caption: "p(x_i = 1 | x_<i) along each sampled path (black 0, white 1).")
        }
        return html
    }

    /// The first `images` test images the run's data set has, as the model sees them.
    func testImages() throws -> ImageDataset {
        guard let o = run.checkpoint.training?.options else {
            throw ReportError("\(run.checkpointPath) records no data set (no training state)")
        }
        do {
            return try loadSplit(o.dataset, split: .test, dataDirectory: dataDirectory ?? o.dataDirectory, for: model,
                                 limit: images, binarization: o.binarization)
        } catch {
            throw ReportError("the test split of \(o.dataset) is not available (\(error)); pass --data-dir to use it")
        }
    }

    func completionsPanel(_ data: ImageDataset) throws -> String {
        let k = 2, d = c.dimension, n = min(images, data.count)
        let observed = (0..<d).map { ($0 / c.channels) / c.width < c.height / 2 }
        let originals = (0..<n).map { data.image($0).map { Float($0) } }
        let fixed = originals.flatMap { image in (0..<k).flatMap { _ in image } }
        let labels: [Int]? = c.classes > 0 ? (0..<n).flatMap { i in [Int](repeating: data.labels?[i] ?? i % c.classes, count: k) } : nil
        var rng = RandomGenerator(seed: seed &+ 1)
        let start = Date()
        let s = model.generate(count: n * k, labels: labels, rng: &rng, fixed: fixed, observed: observed)
        let seconds = Date().timeIntervalSince(start)
        var tiles: [RasterImage] = []
        for i in 0..<n {
            var hidden = tile(originals[i][...])
            for p in 0..<(c.height * c.width) where !observed[p * c.channels] {
                hidden.pixels.replaceSubrange(p * 3..<p * 3 + 3, with: [255, 0, 255])
            }
            tiles += [tile(originals[i][...]), hidden] + (0..<k).map { j in tile(s.pixels[(i * k + j) * d..<(i * k + j + 1) * d]) }
        }
        let grid = ImageGrid.tile(tiles, columns: k + 2, padding: 1, paddingValue: 128, scale: scale)
        return ReportPage.figure(try imageElement(grid, alt: "completions of test images by \(run.name)"),
                                 caption: String(format: "Each row: a test image, its top half (the rest in magenta), and %d completions "
                                                 + "drawn from p(bottom | top) (%.2f s).", k, seconds))
    }

    func surprisePanel(_ data: ImageDataset) throws -> String {
        let n = min(images, data.count)
        let fields: [[Float]] = try (0..<n).map { i in
            let terms = try perPixelNLL(model, data, index: i)
            var field = [Float](repeating: 0, count: c.height * c.width)
            for (j, v) in terms.enumerated() { field[j / c.channels] += v }
            return field
        }
        let top = max(fields.flatMap { $0 }.max() ?? 1, 1e-6)
        var tiles: [RasterImage] = []
        for (i, field) in fields.enumerated() {
            tiles.append(tile(data.image(i).map { Float($0) }[...]))
            tiles.append(HeatMap.render(field, height: c.height, width: c.width, range: 0...top, colormap: .inferno))
        }
        let grid = ImageGrid.tile(tiles, columns: 2, padding: 1, paddingValue: 128, scale: scale)
        let totals = fields.map { String(format: "%.1f", $0.reduce(0, +)) }.joined(separator: ", ")
        return ReportPage.figure(try imageElement(grid, alt: "per-pixel surprise of test images under \(run.name)")
                                 + colorBar(top: Double(top)),
                                 caption: "Each row: a test image and -log p(x_i | x_<i) per pixel on one scale for all rows, "
                                 + String(format: "inferno from 0 to %.2f nats; the images' NLLs: %@ nats.", top, totals))
    }

    /// The inferno scale from 0 to `top` nats as an SVG bar with its ends labelled.
    func colorBar(top: Double) -> String {
        let id = "inferno-\(index)"
        let stops = (0...10).map { k -> String in
            let rgb = Colormap.inferno.color(at: Float(k) / 10)
            return "<stop offset=\"\(k * 10)%\" stop-color=\"rgb(\(rgb.r),\(rgb.g),\(rgb.b))\"/>"
        }.joined()
        return "<br><svg xmlns=\"http://www.w3.org/2000/svg\" class=\"colorbar\" width=\"260\" height=\"34\">"
            + "<defs><linearGradient id=\"\(id)\">\(stops)</linearGradient></defs>"
            + "<rect x=\"10\" y=\"2\" width=\"240\" height=\"12\" fill=\"url(#\(id))\" stroke=\"#999\"/>"
            + "<text x=\"10\" y=\"28\" font-size=\"11\">0</text>"
            + "<text x=\"250\" y=\"28\" font-size=\"11\" text-anchor=\"end\">\(String(format: "%.2f", top)) nats</text></svg>"
    }

    func receptiveFieldPanel() throws -> String {
        let (row, column) = (c.height / 2, c.width / 2)
        let field = try receptiveField(of: model, row: row, column: column, samples: 2, seed: seed)
        let image = ReceptiveFieldImage.render(field.pixelGradient, height: c.height, width: c.width, row: row, column: column,
                                               allowed: field.allowed, scale: scale)
        let allowed = field.allowed.filter { $0 }.count
        return ReportPage.figure(try imageElement(image, alt: "receptive field of \(run.name)"),
                                 caption: "|gradient| of the logits at pixel (\(row),\(column)) (red) with respect to every input "
                                 + "pixel (log scale, viridis): it depends on \(field.dependences.count) of the \(allowed) earlier "
                                 + "pixels; white: blind spot, grey: later pixels.")
    }
}

