import AutoregData
import AutoregModels
import AutoregTensor
import AutoregTraining
import Foundation
import XCTest

/// Classification by likelihood on data whose answer is known, and its bookkeeping.
final class ClassificationTests: XCTestCase {
    /// 8×8 binary images of two classes: the top three rows are mostly on (p 0.85) for class 0
    /// and mostly off (p 0.15) for class 1; every other pixel is on with probability 0.3.
    func twoClassDataset(count: Int, seed: UInt64) -> ImageDataset {
        var rng = RandomGenerator(seed: seed)
        var pixels: [UInt8] = [], labels: [Int] = []
        for _ in 0..<count {
            let y = rng.int(below: 2)
            labels.append(y)
            for i in 0..<64 {
                let p: Float = i < 24 ? (y == 0 ? 0.85 : 0.15) : 0.3
                pixels.append(rng.uniform() < p ? 1 : 0)
            }
        }
        return ImageDataset(name: "two-class", pixels: pixels, count: count, height: 8, width: 8, levels: 2, labels: labels)
    }

    func train(_ model: any AutoregressiveModel, on data: ImageDataset, epochs: Int, learningRate: Float) throws {
        let dir = try makeTemporaryDirectory(self)
        try makeTrainer(model, trainingOptions(dir, epochs: epochs, batchSize: 20, learningRate: learningRate),
                        train: data, valid: data.prefix(20)).run()
    }

    func testOneFVSBNPerClassClassifiesHeldOutImages() throws {
        let train = twoClassDataset(count: 400, seed: 1), test = twoClassDataset(count: 200, seed: 2)
        var models: [any AutoregressiveModel] = []
        for y in 0..<2 {
            let model = try makeModel(try ModelConfig(kind: .fvsbn, height: 8, width: 8, seed: UInt64(y)))
            let own = train.subset(train.labels!.indices.filter { train.labels![$0] == y })
            try self.train(model, on: own, epochs: 4, learningRate: 0.05)
            models.append(model)
        }
        let classifier = try LikelihoodClassifier(perClass: models)
        let result = try classifier.classify(test, logPrior: ClassPrior.uniform(classes: 2), batchSize: 64)
        let confusion = try ConfusionMatrix(truth: test.labels!, predictions: result.predictions, classes: 2)
        XCTAssertEqual(confusion.total, 200)
        XCTAssertGreaterThan(confusion.accuracy, 0.95, "\n\(confusion.table)")
        // The scores are the models' own log-likelihoods plus the prior.
        let nll0 = try Evaluator.perImageNLL(models[0], test.prefix(3))
        for i in 0..<3 { XCTAssertEqual(result.scores[i][0], -nll0[i] - Float(M_LN2), accuracy: 1e-3) }
    }

    func testConditionalGatedPixelCNNClassifiesHeldOutImages() throws {
        let trainSet = twoClassDataset(count: 300, seed: 3), test = twoClassDataset(count: 200, seed: 4)
        let model = try makeModel(try ModelConfig(kind: .gatedPixelCNN, height: 8, width: 8, seed: 1, hiddenChannels: 4,
                                              layers: 2, classes: 2))
        try train(model, on: trainSet, epochs: 3, learningRate: 0.02)
        let classifier = try LikelihoodClassifier(conditional: try XCTUnwrap(model as? any ConditionalModel))
        XCTAssertEqual(classifier.classes, 2)
        let scores = try classifier.logLikelihoods(test.prefix(5), batchSize: 2)
        let conditional = model as! any ConditionalModel
        for y in 0..<2 {
            let nll = withoutGrad { conditional.nll(tensor(of: test.prefix(5)), labels: [Int](repeating: y, count: 5)) }.data
            for i in 0..<5 { XCTAssertEqual(scores[i][y], -nll[i], accuracy: 1e-3 * max(1, abs(nll[i])), "log p(x | \(y))") }
        }
        let result = try classifier.classify(test, logPrior: ClassPrior.uniform(classes: 2))
        let confusion = try ConfusionMatrix(truth: test.labels!, predictions: result.predictions, classes: 2)
        XCTAssertGreaterThan(confusion.accuracy, 0.95, "\n\(confusion.table)")
    }

    func testConfusionMatrixAndAccuracy() throws {
        let m = try ConfusionMatrix(truth: [0, 0, 1, 2, 2, 2], predictions: [0, 1, 1, 2, 0, 2], classes: 3)
        XCTAssertEqual(m.counts, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
        XCTAssertEqual(m.total, 6)
        XCTAssertEqual(m.correct, 4)
        XCTAssertEqual(m.accuracy, 4.0 / 6.0, accuracy: 1e-12)
        var n = ConfusionMatrix(classes: 3)
        XCTAssertEqual(n.accuracy, 0, "empty")
        for (t, p) in zip([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2]) { n.add(truth: t, predicted: p) }
        XCTAssertEqual(n, m)
        let lines = m.table.split(separator: "\n")
        XCTAssertEqual(lines.count, 4, m.table)
        XCTAssertEqual(lines[3].split(separator: " ").map(String.init), ["2", "1", "0", "2", "3"], "row of true class 2, then its total")
    }

    func testConfusionMatrixRejectsBadInput() throws {
        XCTAssertThrowsError(try ConfusionMatrix(truth: [0, 1], predictions: [0], classes: 2)) {
            XCTAssertTrue("\($0)".contains("2 true labels but 1 predictions"), "\($0)")
        }
        XCTAssertThrowsError(try ConfusionMatrix(truth: [0, 3], predictions: [0, 1], classes: 2)) {
            XCTAssertTrue("\($0)".contains("outside 0..<2"), "\($0)")
        }
        XCTAssertThrowsError(try ConfusionMatrix(truth: [], predictions: [], classes: 0))
    }

    func testPredictionsMarginsAndLeastSure() throws {
        let r = Classification(scores: [[-10, -12, -30], [-5, -5, -9], [-40, -20, -20.5], [-1, -50, -60]])
        XCTAssertEqual(r.predictions, [0, 0, 1, 0], "ties go to the lower class")
        XCTAssertEqual(r.margins, [2, 0, 0.5, 49])
        XCTAssertEqual(r.leastSure(2), [1, 2])
        XCTAssertEqual(r.leastSure(10), [1, 2, 0, 3])
        XCTAssertEqual(r.posterior(1).reduce(0, +), 1, accuracy: 1e-6)
        XCTAssertEqual(r.posterior(1)[0], r.posterior(1)[1], accuracy: 1e-7)
        XCTAssertGreaterThan(r.entropy(1), r.entropy(0))
        XCTAssertLessThan(r.entropy(3), 1e-6)
    }

    func testPriors() throws {
        let uniform = ClassPrior.uniform(classes: 4)
        XCTAssertEqual(uniform.map { exp($0) }.reduce(0, +), 1, accuracy: 1e-6)
        let freq = ClassPrior.frequencies(of: [0, 0, 0, 1, 1, 2], classes: 4)
        assertClose(freq.map { exp($0) }, [0.4, 0.3, 0.2, 0.1], accuracy: 1e-6)
        // The prior shifts a tie: equal likelihoods go to the more frequent class.
        let r = Classification(scores: [zip([Float(-3), -3], ClassPrior.frequencies(of: [1, 1, 1], classes: 2)).map { $0 + $1 }])
        XCTAssertEqual(r.predictions, [1])
    }

    func testClassifierRejectsMismatches() throws {
        let unconditional = try makeModel(try ModelConfig(kind: .gatedPixelCNN, height: 8, width: 8, hiddenChannels: 4, layers: 1))
        XCTAssertThrowsError(try LikelihoodClassifier(conditional: unconditional as! any ConditionalModel)) {
            XCTAssertTrue("\($0)".contains("not class-conditional"), "\($0)")
        }
        let small = try makeModel(try ModelConfig(kind: .fvsbn, height: 8, width: 8))
        XCTAssertThrowsError(try LikelihoodClassifier(perClass: [small])) { XCTAssertTrue("\($0)".contains("at least two"), "\($0)") }
        let other = try makeModel(try ModelConfig(kind: .fvsbn, height: 4, width: 4))
        XCTAssertThrowsError(try LikelihoodClassifier(perClass: [small, other])) { XCTAssertTrue("\($0)".contains("model 1"), "\($0)") }

        let classifier = try LikelihoodClassifier(perClass: [small, try makeModel(try ModelConfig(kind: .fvsbn, height: 8, width: 8))])
        let wrongSize = prototypeDataset(count: 3, seed: 1)  // 4×4
        XCTAssertThrowsError(try classifier.logLikelihoods(wrongSize)) { XCTAssertTrue("\($0)".contains("16 pixels"), "\($0)") }
        let eight = eightBitDataset(count: 2, height: 8, width: 8, seed: 1)
        XCTAssertThrowsError(try classifier.logLikelihoods(eight)) { XCTAssertTrue("\($0)".contains("256 levels"), "\($0)") }
        let data = twoClassDataset(count: 4, seed: 9)
        XCTAssertThrowsError(try classifier.classify(data, logPrior: ClassPrior.uniform(classes: 3))) {
            XCTAssertTrue("\($0)".contains("3 classes"), "\($0)")
        }
        // Untrained FVSBNs are uniform: every score ties at −64 ln 2 + log 1/2.
        let r = try classifier.classify(data, logPrior: ClassPrior.uniform(classes: 2))
        for row in r.scores { for s in row { XCTAssertEqual(s, -65 * Float(M_LN2), accuracy: 1e-3) } }
        XCTAssertEqual(r.margins, [0, 0, 0, 0])
    }
}

private func assertClose(_ a: [Float], _ b: [Float], accuracy: Float, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
