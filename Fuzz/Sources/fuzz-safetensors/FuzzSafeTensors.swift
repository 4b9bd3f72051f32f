// safetensors decoding (header length, JSON header, dtypes, offsets) and the checks of
// `autoreg import` (format, configuration, parameters against the model, buffers) from
// arbitrary bytes; a thrown error is a correct answer.
//
// Run with AUTOREG_FUZZ_WRITE_SEEDS=FOLDER, it writes small valid exports there and exits
// instead of fuzzing (scripts/fuzz.sh makes its seed corpus so).
import AutoregModels
import AutoregTraining
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    if let file = try? SafeTensorsFile.decode(bytes: bytes, path: "fuzz"),
       let checkpoint = try? Checkpoint(safeTensors: file, path: "fuzz") {
        _ = try? checkpoint.makeModel(path: "fuzz")
    }
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutableRawPointer) -> CInt {
    guard let folder = ProcessInfo.processInfo.environment["AUTOREG_FUZZ_WRITE_SEEDS"] else { return 0 }
    do {
        try writeSeeds(to: folder)
    } catch {
        FileHandle.standardError.write(Data("cannot write safetensors seeds: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}

func writeSeeds(to folder: String) throws {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let configs: [(String, ModelConfig)] = [
        ("fvsbn", ModelConfig(kind: .fvsbn, height: 2, width: 2, options: FVSBN.Options(ordering: .random))),
        ("nade", ModelConfig(kind: .nade, height: 3, width: 3, options: NADE.Options(hidden: 4))),
        ("made", ModelConfig(kind: .made, height: 2, width: 3, seed: 3,
                             options: MADE.Options(hidden: [5, 4], masks: 2, ordering: .random, directConnections: true))),
        ("pixelcnn", ModelConfig(kind: .pixelcnn, height: 4, width: 4,
                                 options: PixelCNN.Options(hiddenChannels: 2, layers: 1, firstKernelSize: 3))),
    ]
    for (name, config) in configs {
        let file = try Checkpoint(model: try makeModel(config)).safeTensors(path: name)
        try file.write(to: "\(folder)/\(name).safetensors")
    }
}
