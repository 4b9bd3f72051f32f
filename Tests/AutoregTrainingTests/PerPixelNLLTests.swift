import AutoregData
import AutoregModels
import AutoregTensor
import AutoregTraining
import Foundation
import XCTest

/// −log p(x_i | x_<i) per pixel: the terms add up to the image's NLL, for Bernoulli and
/// 256-way heads, with and without class labels.
final class PerPixelNLLTests: XCTestCase {
    func assertTermsSumToNLL(_ model: any AutoregressiveModel, _ data: ImageDataset, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let whole = try Evaluator.perImageNLL(model, data)
        for i in 0..<data.count {
            let terms = try perPixelNLL(model, data, index: i)
            XCTAssertEqual(terms.count, data.dimension, what, file: file, line: line)
            XCTAssertTrue(terms.allSatisfy { $0.isFinite && $0 >= 0 }, "\(what): terms are non-negative", file: file, line: line)
            let total = terms.reduce(0.0) { $0 + Double($1) }
            XCTAssertEqual(total, Double(whole[i]), accuracy: 1e-4 * max(1, Double(whole[i])),
                           "\(what) image \(i): sum of per-pixel terms is the image's NLL", file: file, line: line)
        }
    }

    func testBernoulliModels() throws {
        let data = prototypeDataset(count: 6, noise: 0.2, seed: 11)
        for cfg in [try config(.fvsbn), try config(.nade, hidden: [9]), try config(.made, hidden: [10])] {
            let model = try makeModel(cfg)
            perturb(model, seed: 4)
            try assertTermsSumToNLL(model, data, "\(cfg.kind)")
        }
    }

    /// An untrained FVSBN gives every pixel probability 1/2: each term is ln 2.
    func testUniformModelGivesLn2PerPixel() throws {
        let data = prototypeDataset(count: 2, seed: 1)
        let terms = try perPixelNLL(try makeModel(try config(.fvsbn)), data, index: 1)
        for t in terms { XCTAssertEqual(t, Float(M_LN2), accuracy: 1e-6) }
    }

    func testCategoricalModels() throws {
        let data = eightBitDataset(count: 4, height: 3, width: 3, seed: 5)
        let made = try makeModel(try config(.made, height: 3, width: 3, levels: 256, hidden: [8]))
        perturb(made, std: 0.05, seed: 6)
        try assertTermsSumToNLL(made, data, "made 256")
        let pixelcnn = try makeModel(try ModelConfig(kind: .pixelcnn, height: 3, width: 3, levels: 256, seed: 2,
                                                 hiddenChannels: 4, layers: 1, firstKernelSize: 3))
        try assertTermsSumToNLL(pixelcnn, data, "pixelcnn 256")

        // Term i is −log softmax(logits_i)[x_i], checked by hand for one pixel.
        let x = data.floatBatch(indices: [2])
        let logits = withoutGrad { made.logits(Tensor(shape: [1, 9], data: x)) }.data
        let i = 4, row = Array(logits[i * 256..<(i + 1) * 256])
        let top = row.max()!
        let logZ = Double(top) + log(row.reduce(0.0) { $0 + exp(Double($1 - top)) })
        let expected = logZ - Double(row[Int(x[i])])
        XCTAssertEqual(Double(try perPixelNLL(made, data, index: 2)[i]), expected, accuracy: 1e-4)
    }

    /// A class-conditional model uses the image's label, as `Evaluator` does.
    func testConditionalModelUsesTheLabel() throws {
        var data = prototypeDataset(count: 4, noise: 0.1, seed: 3)
        data.labels = [0, 1, 1, 0]
        let model = try makeModel(try ModelConfig(kind: .gatedPixelCNN, height: 4, width: 4, seed: 1, hiddenChannels: 4,
                                              layers: 2, classes: 2))
        perturb(model, std: 0.2, seed: 9)
        try assertTermsSumToNLL(model, data, "conditional gated-pixelcnn")
        let x = data.floatBatch(indices: [1])
        let with1 = try perPixelNLL(model, pixels: x, label: 1), with0 = try perPixelNLL(model, pixels: x, label: 0)
        XCTAssertEqual(try perPixelNLL(model, data, index: 1), with1)
        XCTAssertNotEqual(with0, with1, "the label changes the terms")
    }

    func testBadInputs() throws {
        let data = prototypeDataset(count: 2, seed: 1)
        let model = try makeModel(try config(.fvsbn))
        XCTAssertThrowsError(try perPixelNLL(model, data, index: 2)) { XCTAssertTrue("\($0)".contains("index 2"), "\($0)") }
        XCTAssertThrowsError(try perPixelNLL(model, data, index: -1))
        XCTAssertThrowsError(try perPixelNLL(model, pixels: [0, 1, 0])) { XCTAssertTrue("\($0)".contains("16"), "\($0)") }
        XCTAssertThrowsError(try perPixelNLL(model, pixels: [Float](repeating: 2, count: 16)), "value 2 in a binary image")
        XCTAssertThrowsError(try perPixelNLL(model, pixels: [Float](repeating: 0, count: 16), label: 0)) {
            XCTAssertTrue("\($0)".contains("not class-conditional"), "\($0)")
        }
    }
}
