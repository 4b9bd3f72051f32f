// Checkpoint decoding (prefix, JSON header, layout, checksum, values) from arbitrary bytes;
// a thrown error is a correct answer.
//
// Run with AUTOREG_FUZZ_WRITE_SEEDS=FOLDER, it writes small valid checkpoints there and
// exits instead of fuzzing (scripts/fuzz.sh makes its seed corpus so): the files as written
// (format 2, CRC-32 trailer) and format 1 copies without the trailer, whose bytes can be
// mutated without breaking a checksum, so the fuzzer gets past it to the header checks.
import AutoregModels
import AutoregTraining
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    if let checkpoint = try? Checkpoint.decode(bytes: bytes, path: "fuzz") {
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
        FileHandle.standardError.write(Data("cannot write checkpoint seeds: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}

func writeSeeds(to folder: String) throws {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let configs: [(String, ModelConfig)] = [
        ("fvsbn", ModelConfig(kind: .fvsbn, height: 2, width: 2)),
        ("nade", ModelConfig(kind: .nade, height: 3, width: 3, hidden: [4])),
        ("made", ModelConfig(kind: .made, height: 2, width: 3, hidden: [5, 4], masks: 2, ordering: .random, seed: 3)),
        ("pixelcnn", ModelConfig(kind: .pixelcnn, height: 4, width: 4, hiddenChannels: 2, layers: 1)),
    ]
    for (name, config) in configs {
        let path = "\(folder)/\(name).ckpt"
        try Checkpoint(model: try makeModel(config)).write(to: path)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes.removeLast(4)
        let two = Array("\"format\":2".utf8), one = Array("\"format\":1".utf8)
        guard let at = (0...(bytes.count - two.count)).first(where: { Array(bytes[$0..<$0 + two.count]) == two }) else {
            throw CocoaError(.fileReadCorruptFile)
        }
        bytes.replaceSubrange(at..<at + two.count, with: one)
        try Data(bytes).write(to: URL(fileURLWithPath: "\(folder)/\(name)-format1.ckpt"))
    }
}
