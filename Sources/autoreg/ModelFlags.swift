import ArgumentParser
import AutoregModels

/// A command-line flag that sets one of a model's own options.
enum ModelFlag: String, CaseIterable {
    case hidden = "--hidden", channels = "--channels", layers = "--layers", kernel = "--kernel"
    case firstKernel = "--first-kernel", dilations = "--dilations", outputChannels = "--output-channels"
    case masks = "--masks", ordering = "--ordering", direct = "--direct"
}

extension ModelFlag {
    /// The models that read this flag, for help texts: "pixelcnn, gated-pixelcnn".
    var readers: String {
        ModelKind.allCases.filter { $0.commandLine.flags.contains(self) }.map(\.rawValue).joined(separator: ", ")
    }
}

/// The model flags as parsed, nil where not given: what a model's `CommandLineOptions` reads.
struct ModelFlags {
    var hidden: [Int]?
    var channels: Int?
    var layers: Int?
    var kernel: Int?
    var firstKernel: Int?
    var dilations: [Int]?
    var outputChannels: Int?
    var masks: Int?
    var ordering: PixelOrdering?
    var direct: Bool?

    /// The flags given, in `ModelFlag` order.
    var given: [ModelFlag] {
        let set: [ModelFlag: Bool] = [.hidden: hidden != nil, .channels: channels != nil, .layers: layers != nil,
                                      .kernel: kernel != nil, .firstKernel: firstKernel != nil,
                                      .dilations: dilations != nil, .outputChannels: outputChannels != nil,
                                      .masks: masks != nil, .ordering: ordering != nil,
                                      .direct: direct != nil]
        return ModelFlag.allCases.filter { set[$0] ?? false }
    }

    /// Throws, naming the models that read them, for flags given that `kind` does not read.
    func check(for kind: ModelKind) throws {
        let unread = given.filter { !kind.commandLine.flags.contains($0) }
        guard let first = unread.first else { return }
        let readers = ModelKind.names(where: { $0.commandLine.flags.contains(first) })
        let names = unread.map(\.rawValue).joined(separator: ", ")
        throw ValidationError("\(names) appl\(unread.count == 1 ? "ies" : "y") to \(readers), not \(kind.rawValue)")
    }

    /// The options of a `kind` model from these flags, `base` (default: the model's defaults)
    /// where not given.
    func options(for kind: ModelKind, base: (any ModelOptions)? = nil) throws -> any ModelOptions {
        try check(for: kind)
        func make<T: CommandLineOptions>(_ type: T.Type) throws -> T {
            try T(flags: self, base: (base as? T) ?? T())
        }
        return try make(kind.commandLine)
    }
}

/// How the command line builds a model's options: each model's file in `Sources/autoreg/Models`.
protocol CommandLineOptions: ModelOptions {
    /// The flags this model reads; any other model flag given is an error.
    static var flags: Set<ModelFlag> { get }
    /// The options from the flags, `base`'s values where they are nil; throws a
    /// `ValidationError` naming the flag for values the model cannot take.
    init(flags: ModelFlags, base: Self) throws
}

extension ModelKind {
    /// The model's command-line options type (every model's options conform; a test checks).
    var commandLine: any CommandLineOptions.Type { optionsType as! any CommandLineOptions.Type }
}
