import ArgumentParser
import AutoregData
import AutoregImaging
import AutoregModels
import AutoregTraining
import Foundation

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report a checkpoint's negative log-likelihood on a data split.",
        discussion: """
        Prints the mean NLL in nats per image and in bits per dimension. With --per-pixel, \
        writes the map of -log p(x_i | x_<i) for every pixel of one image, or of --count images \
        (where the model is surprised), beside each image, on one colour scale (--heat-scale) \
        with a colour bar below, and prints each total, the image's NLL; --terms FILE.csv or \
        FILE.npy also writes the terms as numbers. A binary model on \
        8-bit data sees it binarised as in its training run: thresholded at 0.5, or, after \
        train --binarize dynamic, one stochastic draw with a fixed seed per split.

        Given --checkpoint more than once, evaluates the equal-weight mixture \
        p(x) = (1/K) Σ p_k(x) of the models (an ensemble, itself an exact likelihood) and \
        prints each member's NLL above it. The models must model the same images.
        """)

    @Option(name: .customLong("checkpoint"),
            help: "Checkpoint file; repeat it to evaluate the mixture of several models.")
    var checkpoints: [String] = []
    @Flag(help: "Evaluate the Polyak average of the weights saved in a run's last.ckpt (train --ema).")
    var average = false
    @Option(help: "Split: \(Split.allCases.map(\.rawValue).joined(separator: ", ")).") var split: Split = .test
    @Option(name: .customLong("data"), help: "Data set (default: the one the checkpoint was trained on).") var dataGiven: DatasetName?
    var data: String? { dataGiven?.rawValue }
    @Option(help: "Folder holding the data set's files.") var dataDir: String?
    @Option(parsing: .unconditional, help: "made: average this many masks (default: all the model has).") var masks: Int?
    @Flag(help: "Also evaluate the training split and print the train/test gap.") var gap = false
    @Option(parsing: .unconditional, help: "Evaluate only the first N images.") var limit: Int?
    @Option(parsing: .unconditional, help: "Images per batch (default: 500, or 50 for pixelcnn and gated-pixelcnn).") var batchSize: Int?
    @Option(help: ArgumentHelp("Write every image's NLL to this CSV file: index, label, nats, bits/dim (full precision; with several --checkpoint, the mixture's, then each member's nats).",
                               valueName: "file.csv"))
    var perImage: String?
    @Flag(help: "Map -log p(x_i | x_<i) over the pixels of one image (--index), or --count images, into a PNG (--out).")
    var perPixel = false
    @Option(parsing: .unconditional, help: "--per-pixel: index of the (first) image in the split (default 0).") var index: Int?
    @Option(parsing: .unconditional, help: "--per-pixel: map this many images, from --index on (default 1).") var count: Int?
    @Option(help: "--per-pixel: output PNG (default per-pixel-nll.png).") var out: String?
    @Option(parsing: .unconditional, help: "--per-pixel: enlarge each pixel this many times.") var scale: Int = 8
    @Option(help: ArgumentHelp("--per-pixel: also write the terms as numbers, by the file's extension: a .csv (image, row, column, channel, nats) or a .npy (NumPy array [images, channels, height, width], see --terms-dtype).",
                               valueName: "file"))
    var terms: String?
    @Option(help: ArgumentHelp("--terms FILE.npy: float32 or float64.", valueName: "dtype")) var termsDtype: NPYType?
    @Option(help: ArgumentHelp("--per-pixel: the heat maps' colour scale: shared (0 to the largest pixel of all the images drawn; the default), image (each map 0 to its own largest) or LOW:HIGH in nats (e.g. 0:8, the same for every run).",
                               valueName: "scale"))
    var heatScale: HeatScale?
    @Option(parsing: .unconditional, help: ArgumentHelp("--per-pixel: top of the heat map's scale in nats: the same as --heat-scale 0:NATS.",
                                                        valueName: "nats"))
    var scaleMax: Float?
    @OptionGroup var compute: ComputeOptions
    @OptionGroup var imageLimit: ImageLimitOptions

    func validate() throws {
        if checkpoints.isEmpty { throw ValidationError("Missing expected argument '--checkpoint <checkpoint>'") }
        if perPixel && checkpoints.count > 1 { throw ValidationError("--per-pixel takes one --checkpoint") }
        if let m = masks, m < 1 { throw ValidationError("--masks must be at least 1") }
        if let b = batchSize, b < 1 { throw ValidationError("--batch-size must be at least 1, got \(b)") }
        if let l = limit, l < 1 { throw ValidationError("--limit must be at least 1, got \(l)") }
        if !perPixel && (index != nil || count != nil || out != nil || terms != nil || scaleMax != nil || heatScale != nil) {
            throw ValidationError("--index, --count, --out, --terms, --heat-scale and --scale-max go with --per-pixel")
        }
        if let n = count, n < 1 || n > 256 { throw ValidationError("--count must lie in 1...256, got \(n)") }
        if scaleMax != nil && heatScale != nil { throw ValidationError("give --heat-scale or --scale-max, not both") }
        if termsDtype != nil && !(terms ?? "").hasSuffix(".npy") { throw ValidationError("--terms-dtype goes with --terms FILE.npy") }
        if let t = terms, !(t.hasSuffix(".csv") || t.hasSuffix(".npy")) {
            throw ValidationError("--terms must name a .csv or .npy file, got '\(t)'")
        }
        if let m = scaleMax, !(m > 0 && m.isFinite) { throw ValidationError("--scale-max must be a positive number, got \(m)") }
        if perPixel && gap { throw ValidationError("--gap does not go with --per-pixel") }
        if perPixel && perImage != nil { throw ValidationError("--per-image does not go with --per-pixel") }
        if let i = index, i < 0 { throw ValidationError("--index must not be negative, got \(i)") }
        if let o = out, !o.hasSuffix(".png") { throw ValidationError("--out must name a .png file, got '\(o)'") }
        if scale < 1 { throw ValidationError("--scale must be at least 1, got \(scale)") }
    }

    func run() throws {
        try compute.apply()
        imageLimit.apply()
        let loaded = try checkpoints.map { try loadModel($0, averaged: average) }
        let (model, ck) = loaded[0]
        if perPixel { try checkPictureSize(model.config, images: 2 * (count ?? 1) + 1, scale: scale, options: "--scale \(scale)") }
        if let batchSize { try checkBatchSize(model.config, images: batchSize, option: "--batch-size") }
        if let masks {
            for (path, (m, _)) in zip(checkpoints, loaded) where !(m is any MaskEnsemble) || masks > m.config.maskCount {
                throw ValidationError(m is any MaskEnsemble
                    ? "--masks \(masks): \(path) has \(m.config.maskCount) mask(s); an ensemble can average at most that many"
                    : "--masks applies to \(ModelKind.names(where: \.hasMaskEnsembles)) models; \(path) holds a \(m.config.kind)")
            }
        }
        let name = data ?? ck.training?.options.dataset ?? "binarized-mnist"
        let dir = dataDir ?? ck.training?.options.dataDirectory
        let binarization = ck.training?.options.binarization ?? .fixed
        if perPixel {
            let d = try loadSplit(name, split: split, dataDirectory: dir, for: model,
                                  binarization: binarization)
            return try writePerPixelMap(model, d)
        }
        if loaded.count > 1 { try checkMixture(loaded, dataset: name, dataDirectory: dir) }
        func report(_ s: Split) throws -> EvaluationResult {
            let d = try loadSplit(name, split: s, dataDirectory: dir, for: model, limit: limit,
                                  binarization: binarization)
            for (path, (member, _)) in zip(checkpoints, loaded).dropFirst() {
                do { try checkCompatible(d, with: member) } catch { throw TrainingError(description: "\(path): \(error)") }
            }
            func line(_ r: EvaluationResult, _ what: String) -> String {
                String(format: "%@ NLL %.2f nats/image, %.4f bits/dim (%d images of %@, %.1f s, %.0f img/s)%@",
                       s.rawValue, r.natsPerImage, r.bitsPerDimension, r.images, name, r.seconds, r.imagesPerSecond, what)
            }
            // One model is a mixture of one: the same path, without the members' lines.
            var table: (mixture: [Float], members: [[Float]])?
            let (mixture, members) = try Evaluator.evaluateMixture(loaded.map(\.0), d, batchSize: batchSize, masks: masks,
                                                                   perImage: perImage == nil || s != split ? nil : { table = ($0, $1) })
            if let path = perImage, let table { try writePerImageCSV(table.mixture, members: table.members, data: d, to: path) }
            if loaded.count == 1 {
                let k = model is any MaskEnsemble ? masks ?? model.config.maskCount : 1
                print(line(mixture, k > 1 ? ", ensemble of \(k) masks" : ""))
            } else {
                for (path, r) in zip(checkpoints, members) { print("  " + line(r, ", \(path)")) }
                print(line(mixture, ", equal-weight mixture of \(loaded.count) checkpoints"))
            }
            return mixture
        }
        let main = try report(split)
        if gap && split != .train {
            let tr = try report(.train)
            print(String(format: "gap (%@ - train) %.2f nats/image", split.rawValue, main.natsPerImage - tr.natsPerImage))
        }
    }

    /// --per-image: one row per image, every figure at full precision (Swift's shortest
    /// round-trip text), so that a spreadsheet or NumPy gets the numbers `eval` averaged.
    func writePerImageCSV(_ nll: [Float], members: [[Float]], data: ImageDataset, to path: String) throws {
        let ln2D = Double(data.dimension) * M_LN2
        var header = "index,label,nll_nats,bits_per_dim"
        if members.count > 1 { header += members.indices.map { ",nll_nats_checkpoint\($0 + 1)" }.joined() }
        var lines = [header]
        lines.reserveCapacity(nll.count + 1)
        for (i, v) in nll.enumerated() {
            var row = "\(i),\(data.labels.map { String($0[i]) } ?? ""),\(v),\(Double(v) / ln2D)"
            if members.count > 1 { row += members.map { ",\($0[i])" }.joined() }
            lines.append(row)
        }
        try writeAtomically(Data((lines.joined(separator: "\n") + "\n").utf8), to: path)
        print("wrote \(nll.count) rows to \(path)")
    }

    /// --terms: the per-sub-pixel terms of `images` (split indices `first`, `first + 1`, ...) as a
    /// CSV table (image, row, column, channel, nats) or a NumPy array [N, C, H, W].
    func writeTerms(_ images: [[Float]], first: Int, _ c: ModelConfig, to path: String) throws {
        let data: Data
        if path.hasSuffix(".npy") {
            // Terms come pixel by pixel, channels innermost: [H, W, C] per image.
            var values: [Double] = []
            values.reserveCapacity(images.count * c.dimension)
            for terms in images {
                for ch in 0..<c.channels {
                    for p in 0..<(c.height * c.width) { values.append(Double(terms[p * c.channels + ch])) }
                }
            }
            data = npyArray(values, shape: [images.count, c.channels, c.height, c.width], type: termsDtype ?? .float32)
        } else {
            var lines = ["image,row,column,channel,nats"]
            lines.reserveCapacity(images.count * c.dimension + 1)
            for (n, terms) in images.enumerated() {
                for (j, v) in terms.enumerated() {
                    let pixel = j / c.channels
                    lines.append("\(first + n),\(pixel / c.width),\(pixel % c.width),\(j % c.channels),\(v)")
                }
            }
            data = Data((lines.joined(separator: "\n") + "\n").utf8)
        }
        try writeAtomically(data, to: path)
        print("wrote the \(images.count * c.dimension) terms of \(images.count) image\(images.count == 1 ? "" : "s") to \(path)")
    }

    /// The members of a mixture must model the same images, and see the same ones.
    func checkMixture(_ loaded: [(any AutoregressiveModel, Checkpoint)], dataset: String, dataDirectory: String?) throws {
        let (first, ck) = loaded[0], c = first.config
        let binarization = ck.training?.options.binarization ?? .fixed
        let dataLevels = try imageShape(of: dataset, dataDirectory: dataDirectory).levels
        for (path, (m, other)) in zip(checkpoints, loaded).dropFirst() {
            let o = m.config
            if (o.height, o.width, o.channels, o.levels) != (c.height, c.width, c.channels, c.levels) {
                throw ValidationError("\(path) models \(o.height)x\(o.width)x\(o.channels) images with \(o.levels) levels; "
                    + "\(checkpoints[0]) models \(c.height)x\(c.width)x\(c.channels) with \(c.levels): a mixture needs one kind of image")
            }
            if o.classes != c.classes {
                throw ValidationError("\(path) is conditioned on \(o.classes) classes, \(checkpoints[0]) on \(c.classes): "
                    + "a mixture needs the same conditioning")
            }
            if data == nil, let d = other.training?.options.dataset, d != dataset {
                throw ValidationError("\(path) was trained on \(d), \(checkpoints[0]) on \(dataset): choose the data with --data")
            }
            let dynamic = (other.training?.options.binarization ?? .fixed) == .dynamic
            if c.levels == 2 && dataLevels != 2 && dynamic != (binarization == .dynamic) {
                func how(_ d: Bool) -> String { d ? "by a seeded random draw" : "at 0.5" }
                throw ValidationError("\(path) binarises \(dataset) \(how(dynamic)), \(checkpoints[0]) "
                    + "\(how(!dynamic)): a mixture must score the same binary images; evaluate on a binary data set "
                    + "such as binarized-mnist")
            }
        }
    }

    /// --per-pixel: prints the NLL and largest terms of images `index`..<`index + count`,
    /// writes their maps (one row per image, a colour bar below) and, with --terms, the numbers.
    func writePerPixelMap(_ model: any AutoregressiveModel, _ data: ImageDataset) throws {
        let first = index ?? 0, n = count ?? 1, path = out ?? "per-pixel-nll.png", c = model.config
        guard first + n <= data.count else {
            throw TrainingError(description: n == 1
                ? "--index \(first) is outside the \(split) split of \(data.name) (\(data.count) images, 0...\(data.count - 1))"
                : "--index \(first) --count \(n) reaches past the \(split) split of \(data.name) (\(data.count) images, 0...\(data.count - 1))")
        }
        var allTerms: [[Float]] = [], fields: [[Float]] = []
        for i in first..<(first + n) {
            let terms = try perPixelNLL(model, data, index: i)
            let total = terms.reduce(0.0) { $0 + Double($1) }
            let single = try Evaluator.perImageNLL(model, data.subset([i]))[0]  // MADE: the active mask, as the terms
            let label = data.labels.map { " (label \($0[i]))" } ?? ""
            print(String(format: "%@ image %d of %@%@: NLL %.2f nats = sum of %d per-pixel terms (model NLL of the image %.2f nats)",
                         split.rawValue, i, data.name, label, total, terms.count, single))
            // One value per pixel (colour channels summed).
            var field = [Float](repeating: 0, count: c.height * c.width)
            for (j, v) in terms.enumerated() { field[j / c.channels] += v }
            let top = field.indices.sorted { field[$0] > field[$1] }.prefix(5)
            print("most surprising pixels: " + top.map { String(format: "(%d,%d) %.2f", $0 / c.width, $0 % c.width, field[$0]) }
                .joined(separator: ", ") + " nats")
            allTerms.append(terms)
            fields.append(field)
        }
        if let ensemble = model as? any MaskEnsemble, c.maskCount > 1 {
            let nll = try Evaluator.perImageNLL(model, data.subset([first]), masks: masks ?? c.maskCount)[0]
            print(String(format: "note: the terms are mask %d's; the %d-mask ensemble gives %.2f nats for image %d",
                         ensemble.activeMask, masks ?? c.maskCount, nll, first))
        }
        if let path = self.terms { try writeTerms(allTerms, first: first, c, to: path) }
        let scaleChoice = scaleMax.map { HeatScale.fixed(0, $0) } ?? heatScale ?? .shared
        let shared = max(fields.flatMap { $0 }.max() ?? 1, 1e-6)
        var rows: [RasterImage] = []
        var ranges: [ClosedRange<Float>] = []
        for (k, field) in fields.enumerated() {
            let range: ClosedRange<Float>
            switch scaleChoice {
            case .shared: range = 0...shared
            case .image: range = 0...max(field.max() ?? 1, 1e-6)
            case let .fixed(low, high): range = low...high
            }
            ranges.append(range)
            let heat = HeatMap.render(field, height: c.height, width: c.width, range: range, colormap: .inferno, scale: scale)
            let picture = RasterImage(width: c.width, height: c.height, channels: c.channels,
                                      pixels: expandLevels(Array(data.image(first + k)), levels: data.levels)).upscaled(by: scale)
            rows.append(picture.beside(heat, gap: 2 * scale))
        }
        let width = rows[0].width
        let bar = HeatMap.colorBar(width: max(width, 2), height: 2 * scale, colormap: .inferno)
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try PNG.write(RasterImage.stacked(rows + [bar], gap: 2 * scale), to: path)
        let what = n == 1 ? "left: the image; right" : "each row: an image and"
        let scaleText: String
        switch scaleChoice {
        case .image where n > 1: scaleText = "each map from 0 to its own largest term (" + ranges.map { String(format: "%.2f", $0.upperBound) }
            .joined(separator: ", ") + " nats); the colour bar below runs over each map's range"
        default:
            scaleText = String(format: "%.2f to %.2f nats", ranges[0].lowerBound, ranges[0].upperBound)
                + (n > 1 ? " for all \(n) maps" : "") + String(format: "; the colour bar below runs from %.2f (left) to %.2f nats (right)",
                                                                  ranges[0].lowerBound, ranges[0].upperBound)
        }
        print("wrote \(path) (\(what) -log p(x_i | x_<i) per pixel, inferno, \(scaleText))")
    }
}

/// The heat maps' colour scale of `eval --per-pixel`.
enum HeatScale: ExpressibleByArgument, Equatable {
    /// 0 to the largest pixel of all the images drawn.
    case shared
    /// Each map 0 to its own largest pixel.
    case image
    /// The same range for every map, in nats.
    case fixed(Float, Float)

    init?(argument: String) {
        switch argument {
        case "shared": self = .shared
        case "image": self = .image
        default:
            let parts = argument.split(separator: ":", omittingEmptySubsequences: false).map { Float($0) }
            guard parts.count == 2, let low = parts[0], let high = parts[1], low.isFinite, high.isFinite, low >= 0, high > low else {
                return nil
            }
            self = .fixed(low, high)
        }
    }

    static var defaultCompletionKind: CompletionKind { .list(["shared", "image"]) }
}

/// The element type of a NumPy array written by `eval --terms`.
enum NPYType: String, ExpressibleByArgument, CaseIterable {
    case float32, float64

    /// NumPy's type string: little-endian IEEE floats.
    var descr: String { self == .float32 ? "<f4" : "<f8" }
}

/// A NumPy `.npy` file (format 1.0) holding `values` in C order as `shape`, little-endian
/// float32 or float64; the header is padded so that the data starts at a multiple of 64 bytes.
func npyArray(_ values: [Double], shape: [Int], type: NPYType) -> Data {
    precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
    let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
    var header = "{'descr': '\(type.descr)', 'fortran_order': False, 'shape': (\(dims)), }"
    // Magic (6) + version (2) + length (2) + header + newline, padded to a multiple of 64.
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
    let length = UInt16(header.utf8.count)
    data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
    data.append(contentsOf: Array(header.utf8))
    data.reserveCapacity(data.count + values.count * (type == .float32 ? 4 : 8))
    for v in values {
        switch type {
        case .float32: withUnsafeBytes(of: Float(v).bitPattern.littleEndian) { data.append(contentsOf: $0) }
        case .float64: withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) }
        }
    }
    return data
}
