import AutoregImaging
import AutoregModels
import AutoregNN
import AutoregTensor
import AutoregTraining
import Foundation
import XCTest

/// The same images scored in Swift (`autoreg eval --per-image`) and in PyTorch
/// (`python/check_nll.py` on the file `autoreg export` writes) must agree to 1e-4 nats per
/// image, for every model kind and output the Python loaders cover: an independent check of
/// every layer, mask and loss. Needs a Python with torch, numpy and safetensors:
/// `$AUTOREG_TORCH_PYTHON`, else `benchmarks/.venv/bin/python` (`benchmarks/setup.sh`); skips
/// visibly without one.
final class PyTorchAgreementTests: CLITestCase {
    override var workDirLabel: String { "autoreg-torch-agreement" }
    override var defaultTimeout: TimeInterval { 300 }

    /// One model to compare: small images, random weights moved by a few training steps.
    struct Case {
        var name: String
        var config: ModelConfig
    }

    /// Every case the loaders cover. To add a model: append its cases here (and its builder to
    /// python/autoreg_torch/models.py's BUILDERS).
    static func cases() throws -> [Case] {
        func make(_ name: String, _ kind: ModelKind, _ options: any ModelOptions, side: Int = 6, channels: Int = 1,
                  output: PixelDistribution = .bernoulli, classes: Int = 0) throws -> Case {
            Case(name: name, config: ModelConfig(kind: kind, height: side, width: side, channels: channels, output: output,
                                                 classes: classes, seed: 11, options: options))
        }
        let byte = PixelDistribution.categorical(levels: 256), mixture = PixelDistribution.logisticMixture(components: 3)
        return [
            try make("fvsbn", .fvsbn, FVSBN.Options(ordering: .natural), side: 8),
            try make("fvsbn-random", .fvsbn, FVSBN.Options(ordering: .random), side: 8),
            try make("nade", .nade, NADE.Options(hidden: 9, ordering: .natural), side: 8),
            try make("nade-random", .nade, NADE.Options(hidden: 9, ordering: .random), side: 8),
            try make("made", .made, MADE.Options(hidden: [16], masks: 1, ordering: .natural), side: 8),
            try make("made-ensemble", .made, MADE.Options(hidden: [12, 10], masks: 3, ordering: .random,
                                                          directConnections: true), side: 8),
            try make("made-categorical", .made, MADE.Options(hidden: [20], masks: 2, ordering: .random,
                                                             directConnections: true), side: 5, output: byte),
            try make("made-categorical-rgb", .made, MADE.Options(hidden: [20], masks: 1), side: 3, channels: 3, output: byte),
            try make("made-mixture", .made, MADE.Options(hidden: [14, 12], masks: 2, ordering: .random), side: 5,
                     output: mixture),
            try make("made-mixture-rgb", .made, MADE.Options(hidden: [24], masks: 1, directConnections: true), side: 3,
                     channels: 3, output: mixture),
            try make("pixelcnn", .pixelcnn, PixelCNN.Options(hiddenChannels: 8, layers: 2, kernelSize: 3, firstKernelSize: 5,
                                                             dilations: [1, 2]), side: 8),
            try make("pixelcnn-categorical", .pixelcnn, PixelCNN.Options(hiddenChannels: 8, layers: 2, kernelSize: 3,
                                                                         firstKernelSize: 3, dilations: [2, 1]),
                     side: 5, output: byte),
            try make("pixelcnn-categorical-rgb", .pixelcnn, PixelCNN.Options(hiddenChannels: 12, layers: 1, kernelSize: 3,
                                                                             firstKernelSize: 3, dilations: [1]),
                     side: 3, channels: 3, output: byte),
            try make("pixelcnn-mixture", .pixelcnn, PixelCNN.Options(hiddenChannels: 8, layers: 2, kernelSize: 3,
                                                                     firstKernelSize: 5, dilations: [1, 3]),
                     side: 5, output: mixture),
            try make("pixelcnn-mixture-rgb", .pixelcnn, PixelCNN.Options(hiddenChannels: 12, layers: 2, kernelSize: 3,
                                                                         firstKernelSize: 3, dilations: [1, 2]),
                     side: 3, channels: 3, output: mixture),
            try make("gated-pixelcnn", .gatedPixelCNN, GatedPixelCNN.Options(hiddenChannels: 6, layers: 3, kernelSize: 3,
                                                                             dilations: [1, 2, 1]), side: 8),
            try make("gated-pixelcnn-conditional", .gatedPixelCNN,
                     GatedPixelCNN.Options(hiddenChannels: 6, layers: 2, kernelSize: 5, dilations: [1, 2]),
                     side: 8, classes: 3),
            try make("gated-pixelcnn-categorical-conditional", .gatedPixelCNN,
                     GatedPixelCNN.Options(hiddenChannels: 6, layers: 2, kernelSize: 3, dilations: [2, 1]),
                     side: 5, output: byte, classes: 3),
            try make("gated-pixelcnn-categorical-rgb", .gatedPixelCNN,
                     GatedPixelCNN.Options(hiddenChannels: 6, layers: 2, kernelSize: 3, dilations: [1, 2]),
                     side: 3, channels: 3, output: byte),
            try make("gated-pixelcnn-mixture-conditional", .gatedPixelCNN,
                     GatedPixelCNN.Options(hiddenChannels: 6, layers: 2, kernelSize: 3, dilations: [1, 1]),
                     side: 5, output: mixture, classes: 3),
            try make("gated-pixelcnn-mixture-rgb", .gatedPixelCNN,
                     GatedPixelCNN.Options(hiddenChannels: 6, layers: 2, kernelSize: 3, dilations: [1, 2]),
                     side: 3, channels: 3, output: mixture),
            try make("row-lstm", .rowLSTM, PixelRNNOptions(hiddenUnits: 5, layers: 2, outputChannels: 6, firstKernelSize: 5,
                                                           kernelSize: 3), side: 7),
            try make("row-lstm-categorical", .rowLSTM, PixelRNNOptions(hiddenUnits: 4, layers: 2, outputChannels: 5,
                                                                       firstKernelSize: 3, kernelSize: 5),
                     side: 5, output: byte),
            try make("row-lstm-categorical-rgb", .rowLSTM, PixelRNNOptions(hiddenUnits: 6, layers: 2, outputChannels: 6,
                                                                           firstKernelSize: 3, kernelSize: 3),
                     side: 3, channels: 3, output: byte),
            try make("row-lstm-mixture", .rowLSTM, PixelRNNOptions(hiddenUnits: 4, layers: 2, outputChannels: 6,
                                                                   firstKernelSize: 3, kernelSize: 3),
                     side: 5, output: mixture),
            try make("diagonal-bilstm", .diagonalBiLSTM, PixelRNNOptions(hiddenUnits: 5, layers: 2, outputChannels: 6,
                                                                         firstKernelSize: 5), side: 7),
            try make("diagonal-bilstm-categorical", .diagonalBiLSTM, PixelRNNOptions(hiddenUnits: 4, layers: 2,
                                                                                     outputChannels: 5, firstKernelSize: 3),
                     side: 5, output: byte),
            try make("diagonal-bilstm-categorical-rgb", .diagonalBiLSTM,
                     PixelRNNOptions(hiddenUnits: 6, layers: 2, outputChannels: 6, firstKernelSize: 3),
                     side: 3, channels: 3, output: byte),
            try make("diagonal-bilstm-mixture", .diagonalBiLSTM, PixelRNNOptions(hiddenUnits: 4, layers: 2, outputChannels: 6,
                                                                                 firstKernelSize: 3),
                     side: 5, output: mixture),
            try make("pixelcnn++-mixture", .pixelCNNPlusPlus, PixelCNNPlusPlus.Options(filters: 4, resnetBlocks: 1),
                     side: 7, output: mixture),
            try make("pixelcnn++-mixture-even", .pixelCNNPlusPlus, PixelCNNPlusPlus.Options(filters: 3, resnetBlocks: 2),
                     side: 8, output: mixture),
            try make("pixelcnn++-categorical", .pixelCNNPlusPlus, PixelCNNPlusPlus.Options(filters: 3, resnetBlocks: 0),
                     side: 5, output: byte),
            try make("pixelcnn++", .pixelCNNPlusPlus, PixelCNNPlusPlus.Options(filters: 4, resnetBlocks: 1), side: 6),
            try make("row-lstm-mixture-rgb", .rowLSTM, PixelRNNOptions(hiddenUnits: 6, layers: 2, outputChannels: 6,
                                                                       firstKernelSize: 3, kernelSize: 3),
                     side: 3, channels: 3, output: mixture),
            try make("diagonal-bilstm-mixture-rgb", .diagonalBiLSTM,
                     PixelRNNOptions(hiddenUnits: 6, layers: 2, outputChannels: 6, firstKernelSize: 3),
                     side: 3, channels: 3, output: mixture),
            try make("pixelcnn++-mixture-rgb", .pixelCNNPlusPlus, PixelCNNPlusPlus.Options(filters: 4, resnetBlocks: 1),
                     side: 5, channels: 3, output: mixture),
        ]
    }

    static let tolerance = 1e-4
    static let imagesPerClass = 4
    static let classNames = ["a", "b", "c"]

    /// A Python that imports torch, numpy and safetensors, or why there is none.
    static func torchPython() -> (path: String?, why: String) {
        var root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while root.path != "/" && !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root = root.deletingLastPathComponent()
        }
        let given = ProcessInfo.processInfo.environment["AUTOREG_TORCH_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
        let candidates = [given, root.appendingPathComponent("benchmarks/.venv/bin/python").path].compactMap { $0 }
        var tried: [String] = []
        for python in candidates {
            guard FileManager.default.isExecutableFile(atPath: python) else { tried.append("\(python) (not found)"); continue }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: python)
            p.arguments = ["-c", "import torch, numpy, safetensors"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            do { try p.run() } catch { tried.append("\(python) (cannot run)"); continue }
            p.waitUntilExit()
            if p.terminationStatus == 0 { return (python, "") }
            tried.append("\(python) (cannot import torch, numpy and safetensors)")
        }
        return (nil, "no Python with torch, numpy and safetensors: tried \(tried.joined(separator: ", ")); "
            + "run benchmarks/setup.sh or set AUTOREG_TORCH_PYTHON")
    }

    static var checkScript: String {
        var root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while root.path != "/" && !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root = root.deletingLastPathComponent()
        }
        return root.appendingPathComponent("python/check_nll.py").path
    }

    /// Images of the case's size: per class folder, seeded random values, with the extreme
    /// values 0 and 255 planted (the logistic mixture's edge bins).
    func writeImages(_ c: ModelConfig, to root: URL, seed: UInt64) throws -> (pixels: [Float], labels: [Int]) {
        var rng = RandomGenerator(seed: seed)
        var pixels: [Float] = [], labels: [Int] = []
        let d = c.dimension
        for (label, name) in Self.classNames.enumerated() {
            let folder = root.appendingPathComponent("test/\(name)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for i in 0..<Self.imagesPerClass {
                var bytes = (0..<d).map { _ in UInt8(rng.int(below: 256)) }
                bytes[rng.int(below: d)] = 0
                bytes[rng.int(below: d)] = 255
                try PNG.write(RasterImage(width: c.width, height: c.height, channels: c.channels, pixels: bytes),
                              to: folder.appendingPathComponent("\(i).png").path)
                // What the model sees: binary models threshold at 0.5 (fixed binarisation).
                pixels += bytes.map { c.levels == 2 ? ($0 > 127 ? 1 : 0) : Float($0) }
                labels.append(label)
            }
        }
        return (pixels, labels)
    }

    /// A few Adam steps on the images, so that the weights are not at their initial values
    /// (FVSBN starts at zero, the biases of several models too).
    func train(_ model: any AutoregressiveModel, _ x: Tensor, labels: [Int], steps: Int = 3) {
        let adam = Adam(learningRate: 0.02)
        let params = model.parameters.map(\.tensor)
        let before = params.map(\.data)
        for _ in 0..<steps {
            let loss: Tensor
            if let conditional = model as? any ConditionalModel, conditional.classes > 0 {
                loss = conditional.loss(x, labels: labels)
            } else {
                loss = model.loss(x)
            }
            loss.backward()
            adam.step(params)
            model.zeroGrad()
            (model as? any MaskEnsemble)?.nextMask()
        }
        XCTAssertTrue(zip(before, params).allSatisfy { $0 != $1.data } || params.count == 0,
                      "\(model.config.kind): every parameter tensor moved from its initial values")
    }

    /// Writes the case's checkpoint, export, images and per-image scores; returns the
    /// check's three arguments.
    func prepare(_ c: Case, index: Int) throws -> [String] { try prepareWithPixels(c, index: index).files }

    func prepareWithPixels(_ c: Case, index: Int) throws -> (files: [String], pixels: [Float]) {
        let dir = workDir.appendingPathComponent(c.name)
        let data = dir.appendingPathComponent("data")
        let (pixels, labels) = try writeImages(c.config, to: data, seed: 100 + UInt64(index))
        let model = try makeModel(c.config)
        let count = labels.count
        train(model, Tensor(shape: [count, c.config.dimension], data: pixels), labels: labels)
        let ckpt = dir.appendingPathComponent("model.ckpt").path
        try Checkpoint(model: model).write(to: ckpt)
        let exported = dir.appendingPathComponent("model.safetensors").path
        let scores = dir.appendingPathComponent("scores.csv").path
        assertSucceeds(try run(["export", "--checkpoint", ckpt, "--format", "safetensors", "--out", exported]))
        assertSucceeds(try run(["eval", "--checkpoint", ckpt, "--data", "png", "--data-dir", data.path, "--split", "test",
                                "--per-image", scores, "--threads", "1"]))
        return ([exported, data.appendingPathComponent("test").path, scores], pixels)
    }

    /// A NumPy .npy file (format 1.0) of uint8 `values` with `shape`.
    func writeNPY(_ values: [Float], shape: [Int], to path: String) throws {
        var header = "{'descr': '|u1', 'fortran_order': False, 'shape': (\(shape.map(String.init).joined(separator: ", ")),), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let n = header.utf8.count
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8)
        bytes += values.map { UInt8($0) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    func runPython(_ python: String, _ arguments: [String]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = arguments
        p.currentDirectoryURL = workDir
        let out = workDir.appendingPathComponent("python-\(UUID().uuidString).out")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        let handle = try FileHandle(forWritingTo: out)
        defer { try? handle.close() }
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        p.waitUntilExit()
        let text = try String(contentsOf: out, encoding: .utf8)
        return Result(status: p.terminationStatus, signaled: p.terminationReason == .uncaughtSignal, stdout: text, stderr: "")
    }

    func testSwiftAndPyTorchAgreeOnEveryImage() throws {
        let (python, why) = Self.torchPython()
        guard let python else { throw XCTSkip(why) }
        let cases = try Self.cases()
        var arguments = [Self.checkScript]
        for (i, c) in cases.enumerated() { arguments += try prepare(c, index: i) }
        let report = workDir.appendingPathComponent("agreement.json").path
        let r = try runPython(python, arguments + ["--tolerance", String(Self.tolerance), "--json", report])
        print(r.stdout)
        XCTAssertEqual(r.status, 0, "check_nll.py: \(r.stdout)")
        let results = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report)))
            as? [[String: Any]])
        XCTAssertEqual(results.count, cases.count)
        for (c, result) in zip(cases, results) {
            let worst = try XCTUnwrap(result["max_abs_diff"] as? Double)
            let torch = try XCTUnwrap(result["torch"] as? [Double]), swift = try XCTUnwrap(result["swift"] as? [Double])
            XCTAssertEqual(torch.count, Self.classNames.count * Self.imagesPerClass, c.name)
            // Recomputed here from the two lists, not taken from the script's summary alone.
            let differences = zip(torch, swift).map { abs($0 - $1) }
            XCTAssertEqual(differences.max() ?? .infinity, worst, accuracy: 1e-12, c.name)
            XCTAssertLessThanOrEqual(differences.max() ?? .infinity, Self.tolerance, "\(c.name): max |ΔNLL| \(worst) nats")
            XCTAssertTrue(torch.allSatisfy(\.isFinite) && swift.allSatisfy(\.isFinite), c.name)
            // The comparison is of real, varied likelihoods, not of one constant.
            XCTAssertGreaterThan(Set(swift).count, 1, "\(c.name): the images get different NLLs")
            print(String(format: "agreement %@ (%@): max |ΔNLL| %.3g nats", c.name, "\(c.config.output)", worst))
        }
    }

    /// 28×28 binary images of a few random strokes (vertical, horizontal and diagonal segments,
    /// two pixels wide, on black), 4 per class folder: digit-like enough that the trained models
    /// give them a few hundred nats, where a float holds a per-image NLL to about 3e-5 (random
    /// noise costs them over 1000 nats, where the float's own step is 1.2e-4).
    func writeStrokeImages(to root: URL, seed: UInt64) throws {
        var rng = RandomGenerator(seed: seed)
        for name in Self.classNames {
            let folder = root.appendingPathComponent("test/\(name)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for i in 0..<Self.imagesPerClass {
                var bytes = [UInt8](repeating: 0, count: 28 * 28)
                for _ in 0..<3 {
                    var (r, c) = (6 + rng.int(below: 16), 6 + rng.int(below: 16))
                    let (dr, dc) = [(1, 0), (0, 1), (1, 1), (1, -1)][rng.int(below: 4)]
                    for _ in 0..<(4 + rng.int(below: 8)) where (0..<27).contains(r) && (1..<27).contains(c) {
                        bytes[r * 28 + c] = 255
                        bytes[r * 28 + c + 1] = 255
                        (r, c) = (r + dr, c + dc)
                    }
                }
                try PNG.write(RasterImage(width: 28, height: 28, channels: 1, pixels: bytes),
                              to: folder.appendingPathComponent("\(i).png").path)
            }
        }
    }

    /// The trained 28×28 PixelRNN checkpoints under models/ (7 layers, h = 16) agree too, on
    /// seeded stroke images: a sum of 784 terms per image, where a float accumulator alone was
    /// off by up to 2.3e-4 nats on MNIST test images.
    func testTrainedPixelRNNCheckpointsAgreeAtFullSize() throws {
        let (python, why) = Self.torchPython()
        guard let python else { throw XCTSkip(why) }
        let models = URL(fileURLWithPath: Self.checkScript).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("models")
        var arguments = [Self.checkScript]
        for (i, kind) in [ModelKind.rowLSTM, .diagonalBiLSTM].enumerated() {
            let ckpt = models.appendingPathComponent("\(kind.rawValue)-binarized-mnist/last.ckpt").path
            guard FileManager.default.fileExists(atPath: ckpt) else { throw XCTSkip("no trained checkpoint at \(ckpt)") }
            let dir = workDir.appendingPathComponent("trained-\(kind.rawValue)")
            let data = dir.appendingPathComponent("data")
            try writeStrokeImages(to: data, seed: 500 + UInt64(i))
            let exported = dir.appendingPathComponent("model.safetensors").path, scores = dir.appendingPathComponent("scores.csv").path
            assertSucceeds(try run(["export", "--checkpoint", ckpt, "--format", "safetensors", "--out", exported]))
            assertSucceeds(try run(["eval", "--checkpoint", ckpt, "--data", "png", "--data-dir", data.path, "--split", "test",
                                    "--per-image", scores, "--threads", "1"]))
            arguments += [exported, data.appendingPathComponent("test").path, scores]
        }
        let report = workDir.appendingPathComponent("trained.json").path
        let r = try runPython(python, arguments + ["--tolerance", String(Self.tolerance), "--json", report])
        print(r.stdout)
        XCTAssertEqual(r.status, 0, "check_nll.py: \(r.stdout)")
        let results = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report)))
            as? [[String: Any]])
        XCTAssertEqual(results.count, 2)
        for result in results {
            let torch = try XCTUnwrap(result["torch"] as? [Double]), swift = try XCTUnwrap(result["swift"] as? [Double])
            XCTAssertEqual(torch.count, Self.classNames.count * Self.imagesPerClass)
            let worst = zip(torch, swift).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(worst, Self.tolerance, "\(result["kind"] ?? "?"): max |ΔNLL| \(worst) nats")
            print(String(format: "agreement trained %@ 28x28: max |ΔNLL| %.3g nats", "\(result["kind"] ?? "?")", worst))
        }
    }

    /// The check fails when Swift's numbers are off: one score moved by 1e-3 nats is caught.
    func testTheCheckCatchesADifference() throws {
        let (python, why) = Self.torchPython()
        guard let python else { throw XCTSkip(why) }
        let c = try Self.cases().first { $0.name == "pixelcnn-mixture" }!
        var (files, pixels) = try prepareWithPixels(c, index: 0)
        // The same images as a .npy array [N, H, W] agree as the PNG folder does.
        let npy = workDir.appendingPathComponent("images.npy").path
        try writeNPY(pixels, shape: [pixels.count / c.config.dimension, c.config.height, c.config.width], to: npy)
        files[1] = npy
        let agreeing = try runPython(python, [Self.checkScript] + files)
        XCTAssertEqual(agreeing.status, 0, agreeing.stdout)
        var lines = try String(contentsOfFile: files[2], encoding: .utf8).split(separator: "\n").map(String.init)
        var fields = lines[3].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        fields[2] = String(Double(fields[2])! + 1e-3)
        lines[3] = fields.joined(separator: ",")
        try (lines.joined(separator: "\n") + "\n").write(toFile: files[2], atomically: true, encoding: .utf8)
        let r = try runPython(python, [Self.checkScript] + files)
        XCTAssertEqual(r.status, 1, r.stdout)
        XCTAssertTrue(r.stdout.contains("image 2") && r.stdout.contains("DISAGREE"), r.stdout)
    }
}
