import ArgumentParser
import AutoregImaging
import AutoregModels
import AutoregTraining
import Foundation

extension ReceptiveFieldInput: ExpressibleByArgument {}

struct ReceptiveFieldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receptive-field",
        abstract: "Draw which input pixels one output position of a model depends on.",
        discussion: """
        Back-propagates a random combination of the logits at --pixel to every input pixel and \
        writes |gradient| as a heat map (log-scaled; viridis). Red: the chosen pixel; white: \
        earlier pixels the ordering allows but whose gradient is exactly zero (the blind spot, \
        or out of reach of a shallow network); grey: later pixels. The receptive field is a \
        property of the architecture, so an untrained --model shows it as well as a checkpoint. Example:
          autoreg receptive-field --model pixelcnn --layers 8 --pixel 14,14 --out pixelcnn.png
        """)

    @Option(help: "Checkpoint file (its trained weights), or use --model.") var checkpoint: String?
    @Option(help: "A freshly initialised model instead of a checkpoint, shaped by --height, --width, --levels, --hidden, --channels, --layers, --kernel, --first-kernel, --dilations and --ordering.")
    var model: ModelKind?
    @Option(parsing: .unconditional, help: "--model: image height.") var height: Int = 28
    @Option(parsing: .unconditional, help: "--model: image width.") var width: Int = 28
    @OptionGroup var shape: ModelShapeOptions
    @Option(help: "--model: pixel ordering, natural or random (\(ModelFlag.ordering.readers)).") var ordering: PixelOrdering = .natural
    @Option(help: "Output position as ROW,COL (0-based).") var pixel: String
    @Option(help: "Input image: random (several seeded random images), zeros (black) or grey (mid-range).")
    var input: ReceptiveFieldInput = .random
    @Option(parsing: .unconditional, help: "--input random: number of random images whose dependences are combined.") var samples: Int = 4
    @Option(parsing: .unconditional, help: "Random seed (the --model's weights, the random input, the logits' weights).") var seed: UInt64 = 0
    @Option(help: "Output PNG.") var out: String = "receptive-field.png"
    @Option(parsing: .unconditional, help: "Enlarge each pixel this many times.") var scale: Int = 8
    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        if (checkpoint == nil) == (model == nil) {
            throw ValidationError("give either --checkpoint PATH or --model NAME (one of them)")
        }
        if checkpoint != nil {
            let used = try shape.flags().given.map(\.rawValue)
            if !used.isEmpty {
                throw ValidationError("\(used.joined(separator: ", ")) describe a --model; a --checkpoint brings its own")
            }
        }
        if height < 1 || width < 1 { throw ValidationError("--height and --width must be at least 1") }
        _ = try parsePixel()
        if samples < 1 { throw ValidationError("--samples must be at least 1, got \(samples)") }
        if scale < 1 { throw ValidationError("--scale must be at least 1, got \(scale)") }
        if !out.hasSuffix(".png") { throw ValidationError("--out must name a .png file, got '\(out)'") }
    }

    func parsePixel() throws -> (row: Int, column: Int) {
        let parts = pixel.split(separator: ",", omittingEmptySubsequences: false)
            .map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let row = parts[0], let column = parts[1], row >= 0, column >= 0 else {
            throw ValidationError("--pixel expects ROW,COL (two non-negative integers), got '\(pixel)'")
        }
        return (row, column)
    }

    func makeNetwork() throws -> any AutoregressiveModel {
        if let checkpoint { return try loadModel(checkpoint).0 }
        let config = try shape.config(model!, height: height, width: width, levels: shape.levels ?? shape.givenOutput?.levels ?? 2,
                                      ordering: ordering == .natural ? nil : ordering, seed: seed)
        return try makeModel(config)
    }

    func run() throws {
        try compute.apply()
        let network = try makeNetwork()
        let c = network.config
        try checkPictureSize(c, scale: scale, options: "--scale \(scale)")
        let (row, column) = try parsePixel()
        guard row < c.height && column < c.width else {
            throw ModelError(description: "--pixel \(row),\(column) is outside the \(c.height)x\(c.width) image "
                + "(rows 0...\(c.height - 1), columns 0...\(c.width - 1))")
        }
        let field = try receptiveField(of: network, row: row, column: column, input: input,
                                       samples: samples, seed: seed)
        let image = ReceptiveFieldImage.render(field.pixelGradient, height: c.height, width: c.width,
                                               row: row, column: column, allowed: field.allowed, scale: scale)
        let folder = URL(fileURLWithPath: out).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try PNG.write(image, to: out)

        let allowed = field.allowed.filter { $0 }.count
        let images = input == .random ? "\(samples) random images" : "a \(input.rawValue) image"
        print("\(describe(c)) on \(c.height)x\(c.width), pixel (\(row),\(column)), gradient at \(images)")
        let blind = field.blindSpot.count, holes = field.blindSpotWithinExtent.count
        print("depends on \(field.dependences.count) of \(allowed) earlier pixels")
        print("blind spot: \(blind) earlier pixels with zero gradient "
            + "(\(holes) inside the field's extent, \(blind - holes) beyond its reach)")
        if !field.leaks.isEmpty {
            print("warning: \(field.leaks.count) later pixels have a non-zero gradient: the model is not causal")
        }
        if field.dependences.isEmpty && allowed > 0 {
            note("note: no gradient reached any input; try --input random")
        }
        print("wrote \(out)")
    }

    /// "pixelcnn (channels 64, layers 8, kernel 3, ...)", "made (hidden 500, masks 1, ordering natural)".
    func describe(_ c: ModelConfig) -> String { "\(c.kind) (\(c.options))" }
}
