import AutoregData
import AutoregModels
import AutoregNN
import AutoregTensor
import AutoregTraining
import Foundation
import XCTest

// MARK: - Temporary directories

/// A fresh, empty directory under the system temporary directory, removed when the test ends.
func makeTemporaryDirectory(_ test: XCTestCase, _ label: String = "autoreg-training-tests") throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("\(label)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

// MARK: - Synthetic data sets

/// `count` binary images made from two random prototypes, each pixel flipped with probability `noise`.
/// With noise 0 every image is one of the two prototypes (entropy ln 2 nats).
func prototypeDataset(count: Int, height: Int = 4, width: Int = 4, noise: Float = 0.05,
                      seed: UInt64, prototypeSeed: UInt64 = 99) -> ImageDataset {
    let d = height * width
    var protoRNG = RandomGenerator(seed: prototypeSeed)
    var prototypes = (0..<2).map { _ in (0..<d).map { _ in UInt8(protoRNG.int(below: 2)) } }
    // Make the two prototypes complementary so the first pixel tells them apart.
    prototypes[1] = prototypes[0].map { 1 - $0 }
    var rng = RandomGenerator(seed: seed)
    var pixels: [UInt8] = []
    pixels.reserveCapacity(count * d)
    for _ in 0..<count {
        let p = prototypes[rng.int(below: 2)]
        for i in 0..<d { pixels.append(rng.uniform() < noise ? 1 - p[i] : p[i]) }
    }
    return ImageDataset(name: "synthetic-binary", pixels: pixels, count: count, height: height, width: width, levels: 2)
}

/// `count` 8-bit images: a smooth random intensity per image and pixel, spread over 0...255.
func eightBitDataset(count: Int, height: Int = 4, width: Int = 4, seed: UInt64) -> ImageDataset {
    let d = height * width
    var rng = RandomGenerator(seed: seed)
    var pixels: [UInt8] = []
    pixels.reserveCapacity(count * d)
    for _ in 0..<count {
        let bright = rng.int(below: 2) == 1
        for _ in 0..<d {
            let base = bright ? 200 : 40
            pixels.append(UInt8(max(0, min(255, base + rng.int(below: 111) - 55))))
        }
    }
    return ImageDataset(name: "synthetic-8bit", pixels: pixels, count: count, height: height, width: width, levels: 256)
}

/// Seeded random pixels as a [batch, d] tensor: 0/1 for binary models, 0...levels−1 otherwise.
func randomBatch(batch: Int, dimension d: Int, levels: Int = 2, seed: UInt64) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor(shape: [batch, d], data: (0..<(batch * d)).map { _ in Float(rng.int(below: levels)) })
}

/// The whole data set as a [count, d] tensor of raw pixel values.
func tensor(of data: ImageDataset) -> Tensor {
    Tensor(shape: [data.count, data.dimension], data: data.floatBatch(indices: Array(0..<data.count)))
}

// MARK: - Models and bit-level comparison

func config(_ kind: ModelKind, height: Int = 4, width: Int = 4, levels: Int = 2, hidden: [Int]? = nil,
            masks: Int = 1, ordering: PixelOrdering = .natural, direct: Bool = false, seed: UInt64 = 7) throws -> ModelConfig {
    try ModelConfig(kind: kind, height: height, width: width, levels: levels,
                hidden: hidden ?? (kind == .fvsbn ? [] : [12]), masks: masks, ordering: ordering,
                directConnections: direct, seed: seed)
}

func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

/// Every parameter's values as bit patterns, in the model's order.
func parameterBits(_ model: any AutoregressiveModel) -> [[UInt32]] {
    model.parameters.map { bits($0.tensor.data) }
}

/// Adds seeded N(0, std²) noise to every parameter so zero-initialised tensors take part.
func perturb(_ model: any AutoregressiveModel, std: Float = 0.3, seed: UInt64) {
    var rng = RandomGenerator(seed: seed)
    for p in model.parameters { p.tensor.data = p.tensor.data.map { $0 + rng.normal() * std } }
}

func logitBits(_ model: any AutoregressiveModel, _ x: Tensor) -> [UInt32] {
    bits(withoutGrad { model.logits(x) }.data)
}

// MARK: - Training runs

/// Options for a run on in-memory data, writing to `directory`.
func trainingOptions(_ directory: URL, epochs: Int = 2, batchSize: Int = 25, learningRate: Float = 0.01,
                     optimizer: String = "adam", seed: UInt64 = 3,
                     binarization: Binarization = .none) -> TrainingOptions {
    var o = TrainingOptions()
    o.dataset = "synthetic"
    o.outputDirectory = directory.path
    o.epochs = epochs
    o.batchSize = batchSize
    o.learningRate = learningRate
    o.optimizer = OptimizerKind(rawValue: optimizer)!
    o.seed = seed
    o.binarization = binarization
    o.checkpointMinutes = 1e6  // only the explicit checkpoints (epoch ends, time budget)
    return o
}

/// A quiet trainer (no epoch lines on stdout).
func makeTrainer(_ model: any AutoregressiveModel, _ options: TrainingOptions, train: ImageDataset,
                 valid: ImageDataset, resume: Checkpoint? = nil) throws -> Trainer {
    let t = try Trainer(model: model, options: options, train: train, valid: valid, resume: resume)
    t.log = { _ in }
    t.progress = ProgressLine(interval: 1e9)
    return t
}

/// One epoch row of metrics.jsonl (`readMetrics` leaves out the per-step rows).
struct MetricsRow {
    var epoch: Int
    var step: Int
    var trainNLL: Double
    var validNLL: Double
    var validBPD: Double
}

func readMetrics(_ directory: URL, file: StaticString = #filePath, line: UInt = #line) throws -> [MetricsRow] {
    let text = try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
    return try text.split(separator: "\n").compactMap { line in
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        guard let row = object as? [String: Any] else { throw TrainingError(description: "metrics row is not an object: \(line)") }
        if row["kind"] as? String == "step" { return nil }
        func number(_ key: String) throws -> NSNumber {
            guard let n = row[key] as? NSNumber else { throw TrainingError(description: "metrics row lacks \(key): \(line)") }
            return n
        }
        return MetricsRow(epoch: try number("epoch").intValue, step: try number("step").intValue,
                          trainNLL: try number("train_nll").doubleValue, validNLL: try number("valid_nll").doubleValue,
                          validBPD: try number("valid_bpd").doubleValue)
    }
}

extension Checkpoint {
    static func read(_ url: URL) throws -> Checkpoint { try Checkpoint.read(from: url.path) }
}

/// Asserts that two sets of tensors (as bit patterns) are identical, reporting where they differ
/// rather than printing every value.
func assertSameBits(_ actual: [[UInt32]], _ expected: [[UInt32]], _ message: @autoclosure () -> String = "",
                    file: StaticString = #filePath, line: UInt = #line) {
    guard actual != expected else { return }
    guard actual.count == expected.count else {
        return XCTFail("\(message()): \(actual.count) tensors vs \(expected.count)", file: file, line: line)
    }
    var report: [String] = []
    for (t, (a, e)) in zip(actual, expected).enumerated() where a != e {
        guard a.count == e.count else { report.append("tensor \(t): \(a.count) values vs \(e.count)"); continue }
        let diff = zip(a, e).enumerated().filter { $0.element.0 != $0.element.1 }
        let (i, (x, y)) = diff[0]
        report.append("tensor \(t): \(diff.count)/\(a.count) values differ, first [\(i)] \(Float(bitPattern: x)) vs \(Float(bitPattern: y))")
    }
    XCTFail("\(message()): not bit-identical; " + report.joined(separator: "; "), file: file, line: line)
}

/// Writes an MNIST-format folder (IDX files) of 28x28 8-bit images with uniformly random grey
/// levels: `trainCount` images beyond the 10 000 the catalog keeps for validation, and
/// `testCount` test images. Returns the folder.
func writeTinyIDXMNIST(in parent: URL, trainCount: Int, testCount: Int, seed: UInt64) throws -> String {
    let dir = parent.appendingPathComponent("tiny-mnist")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    var rng = RandomGenerator(seed: seed)
    func bigEndian(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } }
    for (prefix, n) in [("train", trainCount + DatasetCatalog.idxValidationCount), ("t10k", testCount)] {
        var images = [0, 0, 8, 3] + bigEndian(n) + bigEndian(28) + bigEndian(28)
        images += (0..<(n * 784)).map { _ in UInt8(rng.int(below: 256)) }
        let labels = [0, 0, 8, 1] + bigEndian(n) + (0..<n).map { _ in UInt8(rng.int(below: 10)) }
        try Data(images).write(to: dir.appendingPathComponent("\(prefix)-images-idx3-ubyte"))
        try Data(labels).write(to: dir.appendingPathComponent("\(prefix)-labels-idx1-ubyte"))
    }
    return dir.path
}
