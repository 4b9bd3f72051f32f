import AutoregData
import AutoregModels
import AutoregTensor
@testable import AutoregTraining
import XCTest

/// A run trained on fresh binarisations (`--binarize dynamic`) is validated and tested on one
/// stochastic draw per split, made with a fixed seed, rather than on thresholded images.
final class EvaluationBinarizationTests: XCTestCase {
    func testDynamicRunsEvaluateOnOneFixedStochasticDraw() throws {
        let dir = try writeTinyIDXMNIST(in: makeTemporaryDirectory(self), trainCount: 4, testCount: 20, seed: 7)
        func load(_ split: Split, limit: Int? = nil, _ b: Binarization) throws -> ImageDataset {
            try loadSplit("mnist", split: split, dataDirectory: dir, levels: 2, limit: limit, binarization: b)
        }
        let grey = try DatasetCatalog.load(name: "mnist", split: .valid, dataDirectory: dir)
        let drawn = try load(.valid, .dynamic)
        XCTAssertEqual(drawn.levels, 2)
        XCTAssertTrue(drawn.pixels.allSatisfy { $0 <= 1 })
        XCTAssertEqual(try load(.valid, .dynamic).pixels, drawn.pixels, "the same draw every time")
        XCTAssertEqual(try load(.valid, limit: 3, .dynamic).pixels, Array(drawn.pixels.prefix(3 * 784)),
                       "a --valid-limit prefix holds the same images as the whole split")
        XCTAssertNotEqual(try load(.valid, .fixed).pixels, drawn.pixels, "not the thresholded images")
        // Each pixel is 1 with probability value/255: compare the counts of ones (7.84M draws).
        let ones = drawn.pixels.reduce(0) { $0 + Int($1) }
        let expected = grey.pixels.reduce(0.0) { $0 + Double($1) / 255 }
        XCTAssertEqual(Double(ones), expected, accuracy: 5 * expected.squareRoot(), "about value/255 ones")
        // The test split has its own draw, and the trainer validates on the drawn split.
        XCTAssertEqual(try load(.test, .dynamic).pixels, try load(.test, .dynamic).pixels)
        var options = TrainingOptions()
        options.dataset = "mnist"; options.dataDirectory = dir; options.binarization = .dynamic
        options.validLimit = 50; options.outputDirectory = try makeTemporaryDirectory(self).path
        let model = try makeModel(try ModelConfig(kind: .fvsbn, height: 28, width: 28, levels: 2))
        let trainer = try Trainer(model: model, options: options)
        XCTAssertEqual(trainer.valid.pixels, Array(drawn.pixels.prefix(50 * 784)))
        XCTAssertEqual(trainer.train.levels, 256, "training batches are drawn afresh from the grey levels")
    }
}
