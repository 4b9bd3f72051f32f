import ArgumentParser
import AutoregData
import AutoregImaging
import AutoregModels
import AutoregNN
import AutoregTensor
import AutoregTraining
import Foundation

extension ModelKind: ExpressibleByArgument {}
extension PixelOrdering: ExpressibleByArgument {}
extension Binarization: ExpressibleByArgument {}
extension Split: ExpressibleByArgument {}
extension DatasetName: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}

/// Options every compute-heavy command takes.
struct ComputeOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Threads: training and evaluation give each thread a share of every batch; other work splits its matrix products.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func apply() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        Gemm.setThreads(threads)
    }
}

/// The cap on PNG images read as data (a PNG data set, `complete --image`): a file declaring
/// more pixels is refused before it is decoded.
struct ImageLimitOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Largest PNG read as data, in pixels (default \(PNG.maxPixels), or $AUTOREG_MAX_IMAGE_PIXELS).",
        valueName: "pixels"))
    var maxImagePixels: Int?

    func validate() throws {
        if let n = maxImagePixels, n < 1 { throw ValidationError("--max-image-pixels must be at least 1, got \(n)") }
    }

    func apply() {
        PNG.raiseLimitHint = "pass --max-image-pixels N (or set AUTOREG_MAX_IMAGE_PIXELS) to read it"
        if let n = maxImagePixels { PNG.maxPixels = n }
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
    try explainMissingBest(path)
    var ck = try Checkpoint.read(from: path)
    for n in ck.notes { note("note: \(path): \(n)") }
    if averaged { ck = try ck.withAveragedWeights(path: path) }
    return (try ck.makeModel(path: path), ck)
}

/// Checks that `images` pictures of the model's size, each pixel enlarged `scale` times and
/// drawn `copies` times (say, the samples and their probability map), fit in memory; the
/// error names the options that asked for them.
func checkPictureSize(_ c: ModelConfig, images: Int = 1, scale: Int, copies: Int = 3, options: String) throws {
    let side = Double(scale)
    let bytes = Double(images) * (Double(c.height) * side + 2) * (Double(c.width) * side + 2) * 3 * Double(copies)
    try Allocator.require(bytes: bytes, for: "\(options): pictures of \(Int(min(Double(c.height) * side, 1e15)))"
                          + "x\(Int(min(Double(c.width) * side, 1e15))) pixels")
}

/// Checks that one pass of the model over `images` images fits in memory.
func checkBatchSize(_ c: ModelConfig, images: Int, training: Bool = false, option: String) throws {
    try Allocator.require(bytes: c.estimatedActivationBytes(images: images, training: training),
                          for: "\(option) \(images) (\(c.kind), \(c.height)x\(c.width)x\(c.channels) images)")
}

/// "runs/x/afile/run: cannot create or write it (Not a directory)" for the errors Foundation's
/// file APIs throw (NSCocoaErrorDomain, whose own text is a raw dump of the error); nil for
/// any other error.
func fileErrorMessage(_ error: Error) -> String? {
    let e = error as NSError
    guard e.domain == NSCocoaErrorDomain else { return nil }
    let path = (e.userInfo[NSFilePathErrorKey] as? String) ?? (e.userInfo[NSURLErrorKey] as? URL)?.path ?? "a file"
    let why: String
    if let underlying = (e.userInfo[NSUnderlyingErrorKey] as? Error).map({ $0 as NSError }),
       underlying.domain == NSPOSIXErrorDomain {
        why = String(cString: strerror(Int32(underlying.code)))
    } else {
        switch CocoaError.Code(rawValue: e.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: why = "No such file or directory"
        case .fileWriteNoPermission, .fileReadNoPermission: why = "Permission denied"
        case .fileWriteOutOfSpace: why = "No space left on device"
        case .fileWriteFileExists: why = "a file of that name is in the way of a folder"
        case .fileWriteVolumeReadOnly: why = "Read-only file system"
        default: why = "error \(e.code)"
        }
    }
    let reading = (CocoaError.Code.fileReadUnknown.rawValue..<CocoaError.Code.fileWriteUnknown.rawValue).contains(e.code)
    return "\(path): cannot \(reading ? "read" : "create or write") it (\(why))"
}

/// A run's best.ckpt appears when its first epoch ends; before that, asking for it gets an
/// error that says so and what to use instead (the run's last.ckpt, or --resume).
func explainMissingBest(_ path: String) throws {
    let url = URL(fileURLWithPath: path)
    guard url.lastPathComponent == "best.ckpt", !FileManager.default.fileExists(atPath: path) else { return }
    let folder = url.deletingLastPathComponent().path
    let last = (path as NSString).deletingLastPathComponent.isEmpty ? "last.ckpt" : (path as NSString).deletingLastPathComponent + "/last.ckpt"
    guard FileManager.default.fileExists(atPath: folder + "/last.ckpt") else { return }
    throw TrainingError(description: "\(path): no best.ckpt exists yet: the run has not finished an epoch (best.ckpt is written "
        + "when validation ends one); use \(last), or continue the run with autoreg train --resume --out \(folder)")
}
