import ArgumentParser
import AutoregTensor
import Foundation

/// Experiments behind the engine's design choices, kept out of the `autoreg` tool: our
/// convolutions against oneDNN's convolution primitive shape by shape, and `dnnl_sgemm`
/// against oneDNN's matmul primitive. docs/BENCHMARKS.md records what they found.
@main
struct Lab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "autoreg-lab",
        abstract: "Experiments on the engine's convolutions and matrix products against oneDNN's own primitives.",
        discussion: """
        User benchmarks (training, evaluation, sampling, sgemm) are `autoreg bench`; these \
        commands answered design questions and are kept to reproduce the figures in \
        docs/BENCHMARKS.md.
        """,
        subcommands: [ConvLab.self, MatmulLab.self])

    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)
        Allocator.keepFreedMemory()  // as `autoreg` does, so the figures compare
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}

/// --threads, as `autoreg`'s commands take it.
struct ThreadOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Threads for matrix products (oneDNN/OpenMP).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func apply() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        Gemm.setThreads(threads)
    }
}
