import ArgumentParser
import AutoregModels
import AutoregNN
import AutoregTensor
import AutoregTraining
import Foundation

extension ModelKind: ExpressibleByArgument {}
extension PixelOrdering: ExpressibleByArgument {}
extension Binarization: ExpressibleByArgument {}

/// Options every compute-heavy command takes.
struct ComputeOptions: ParsableArguments {
    @Option(help: "Threads for matrix products (oneDNN/OpenMP).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func apply() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        Gemm.setThreads(threads)
    }
}

/// Parses "500" or "500,500".
func parseSizes(_ text: String, option: String) throws -> [Int] {
    let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) > 0 }) else {
        throw ValidationError("\(option) expects positive integers separated by commas, got '\(text)'")
    }
    return parts.map { $0! }
}

/// Parses "none", "exp:0.99" or "step:10:0.5".
func parseSchedule(_ text: String) throws -> LearningRateSchedule {
    let p = text.split(separator: ":").map(String.init)
    switch (p.first, p.count) {
    case ("none", 1), ("constant", 1): return .constant
    case ("exp", 2): if let g = Float(p[1]), g > 0 { return .exponential(gamma: g) }
    case ("step", 3): if let e = Int(p[1]), let g = Float(p[2]), e > 0, g > 0 { return .step(every: e, gamma: g) }
    default: break
    }
    throw ValidationError("--lr-decay expects none, exp:GAMMA or step:EPOCHS:GAMMA, got '\(text)'")
}

/// Prints to standard error.
func note(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

/// Loads a checkpoint and rebuilds its model (with the saved Polyak average as its weights
/// when `averaged`).
func loadModel(_ path: String, averaged: Bool = false) throws -> (any AutoregressiveModel, Checkpoint) {
    var ck = try Checkpoint.read(from: path)
    if averaged { ck = try ck.withAveragedWeights(path: path) }
    return (try ck.makeModel(path: path), ck)
}
