import ArgumentParser
import AutoregModels
import AutoregTraining
import Foundation

/// File formats `autoreg export` writes.
enum ExportFormat: String, CaseIterable, ExpressibleByArgument {
    case safetensors
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a checkpoint's model as a safetensors file for PyTorch, NumPy and other tools.",
        discussion: """
        The file is the standard safetensors layout: every parameter under its Autoreg name \
        (F32, shapes as in Swift), the buffers a model derives from its seed (orderings, MADE's \
        degrees; I64) as buffers.NAME, and in __metadata__ the format \
        (autoreg-safetensors/1), the model configuration as JSON (autoreg.config) and the \
        parameter order. Training and optimiser state stay behind. python/ builds the same \
        networks in PyTorch from such a file; `autoreg import` turns it back into a checkpoint. Example:
          autoreg export --checkpoint runs/x/best.ckpt --format safetensors --out model.safetensors
        """)

    @Option(help: "Checkpoint to export.") var checkpoint: String
    @Flag(help: "Export the Polyak average of the weights saved in a run's last.ckpt (train --ema).")
    var average = false
    @Option(help: "Output format: \(ExportFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: ExportFormat = .safetensors
    @Option(help: ArgumentHelp("Output file.", valueName: "file.safetensors")) var out: String

    func validate() throws {
        if out.isEmpty { throw ValidationError("--out must name a file") }
        if URL(fileURLWithPath: out).standardizedFileURL == URL(fileURLWithPath: checkpoint).standardizedFileURL {
            throw ValidationError("--out must differ from --checkpoint")
        }
    }

    func run() throws {
        var ck = try Checkpoint.read(from: checkpoint)
        for n in ck.notes { note("note: \(checkpoint): \(n)") }
        if average { ck = try ck.withAveragedWeights(path: checkpoint) }
        let file = try ck.safeTensors(path: checkpoint)
        try file.write(to: out)
        let weights = ck.parameters.reduce(0) { $0 + $1.values.count }
        print("wrote \(out): \(ck.model.kind), \(ck.parameters.count) parameter tensors (\(weights) weights)"
            + (file.tensors.count > ck.parameters.count ? ", \(file.tensors.count - ck.parameters.count) buffers" : ""))
    }
}
