import ArgumentParser
import AutoregModels
import AutoregTraining
import Foundation

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn a safetensors file written by `autoreg export` back into a checkpoint.",
        discussion: """
        Checks the file completely (header length against the file size, the JSON header, \
        dtypes, offsets, the configuration in __metadata__, every parameter's name and shape \
        against the configured model, finite values, and the buffers against those the \
        configuration's seed gives) and writes a checkpoint without training or optimiser state, \
        atomically, that eval, sample, complete and classify take. The weights may have been \
        changed elsewhere (PyTorch, NumPy) as long as names, shapes and metadata stay. \
        eval needs --data for it (the data set of the training run is not exported). Example:
          autoreg import --safetensors model.safetensors --out model.ckpt
        """)

    @Option(help: ArgumentHelp("The safetensors file.", valueName: "file.safetensors")) var safetensors: String
    @Option(help: ArgumentHelp("Checkpoint to write.", valueName: "file.ckpt")) var out: String

    func validate() throws {
        if out.isEmpty { throw ValidationError("--out must name a file") }
        if URL(fileURLWithPath: out).standardizedFileURL == URL(fileURLWithPath: safetensors).standardizedFileURL {
            throw ValidationError("--out must differ from --safetensors")
        }
    }

    func run() throws {
        let file = try SafeTensorsFile.read(from: safetensors)
        let ck = try Checkpoint(safeTensors: file, path: safetensors)
        try ck.write(to: out)
        print("wrote \(out): \(ck.model)")
    }
}
