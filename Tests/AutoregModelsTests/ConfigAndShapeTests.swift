import AutoregTestSupport
import AutoregModels
import AutoregNN
import AutoregTensor
import Foundation
import XCTest

final class ConfigValidationTests: XCTestCase {
    /// (label, config, a word the error must mention)
    private var badConfigs: [(String, () throws -> ModelConfig, String)] {
        [
            ("nade with 256 levels", { try makeConfig(.nade, 4, 4, levels: 256) }, "levels"),
            ("fvsbn with 256 levels", { try makeConfig(.fvsbn, 4, 4, levels: 256) }, "levels"),
            ("made with 3 levels", { try makeConfig(.made, 4, 4, levels: 3) }, "levels"),
            ("levels 1", { try makeConfig(.made, 4, 4, levels: 1) }, "levels"),
            ("made with 3 hidden layers", { try makeConfig(.made, 4, 4, hidden: [8, 8, 8]) }, "hidden"),
            ("made without hidden layers", { try makeConfig(.made, 4, 4, hidden: []) }, "hidden"),
            ("masks 0", { try makeConfig(.made, 4, 4, masks: 0) }, "masks"),
            ("masks -2", { try makeConfig(.made, 4, 4, masks: -2) }, "masks"),
            ("hidden size 0", { try makeConfig(.made, 4, 4, hidden: [0]) }, "hidden"),
            ("negative hidden size", { try makeConfig(.nade, 4, 4, hidden: [-5]) }, "hidden"),
            ("nade with two hidden layers", { try makeConfig(.nade, 4, 4, hidden: [4, 4]) }, "hidden"),
            ("nade without hidden layer", { try makeConfig(.nade, 4, 4, hidden: []) }, "hidden"),
            ("fvsbn with a hidden layer", { try makeConfig(.fvsbn, 4, 4, hidden: [10]) }, "hidden"),
            ("zero height", { try makeConfig(.made, 0, 4) }, "size"),
            ("zero width", { try makeConfig(.fvsbn, 4, 0) }, "size"),
            ("zero channels", { try ModelConfig(kind: .nade, height: 2, width: 2, channels: 0, hidden: [3]) }, "size"),
        ]
    }

    func testValidateRejectsBadConfigsReadably() throws {
        for (label, config, word) in badConfigs {
            XCTAssertThrowsError(try config().validate(), label) { error in
                let text = String(describing: error)
                XCTAssertTrue(error is ModelError, "\(label): \(type(of: error))")
                XCTAssertTrue(text.lowercased().contains(word), "\(label): '\(text)' should mention \(word)")
                XCTAssertGreaterThan(text.count, 15, "\(label): '\(text)' is not a readable reason")
                XCTAssertFalse(text.contains("ModelError("), "\(label): '\(text)' is a debug dump, not a sentence")
            }
        }
    }

    func testMakeModelThrowsForBadConfigs() throws {
        for (label, config, _) in badConfigs {
            XCTAssertThrowsError(try makeModel(try config()), label)
        }
    }

    func testModelInitialisersRejectConfigsOfAnotherKind() throws {
        XCTAssertThrowsError(try FVSBN(config: try makeConfig(.nade, 2, 2)))
        XCTAssertThrowsError(try NADE(config: try makeConfig(.made, 2, 2)))
        XCTAssertThrowsError(try MADE(config: try makeConfig(.fvsbn, 2, 2)))
        XCTAssertThrowsError(try MADE(config: try makeConfig(.made, 2, 2, hidden: [4, 4, 4])))
    }

    func testValidConfigsAreAccepted() throws {
        let good = [
            try ModelConfig(kind: .fvsbn, height: 28, width: 28),
            try ModelConfig(kind: .nade, height: 28, width: 28),
            try ModelConfig(kind: .made, height: 28, width: 28),
            try makeConfig(.made, 28, 28, levels: 256, hidden: [10, 10], masks: 8, ordering: .random, direct: true),
            try ModelConfig(kind: .made, height: 2, width: 3, channels: 3, levels: 256, hidden: [4]),
        ]
        for config in good { XCTAssertNoThrow(try config.validate(), "\(config)") }
        XCTAssertEqual(try ModelConfig(kind: .nade, height: 28, width: 28).hidden, [500])
        XCTAssertEqual(try ModelConfig(kind: .fvsbn, height: 28, width: 28).hidden, [])
        XCTAssertEqual(try ModelConfig(kind: .made, height: 2, width: 3, channels: 3).dimension, 18)
    }

    func testMakeModelBuildsTheRequestedKind() throws {
        XCTAssertTrue(buildModel(try makeConfig(.fvsbn, 2, 2)) is FVSBN)
        XCTAssertTrue(buildModel(try makeConfig(.nade, 2, 2)) is NADE)
        XCTAssertTrue(buildModel(try makeConfig(.made, 2, 2)) is MADE)
    }

    func testConfigCodableRoundTrip() throws {
        let config = try makeConfig(.made, 5, 7, levels: 256, hidden: [9, 4], masks: 3, ordering: .random, direct: true, seed: 99)
        let decoded = try JSONDecoder().decode(ModelConfig.self, from: JSONEncoder().encode(config))
        XCTAssertEqual(decoded, config)
    }
}

final class ShapeTests: XCTestCase {
    func testLogitsAndNLLShapes() throws {
        let configs = [
            try makeConfig(.fvsbn, 3, 4), try makeConfig(.fvsbn, 3, 4, ordering: .random),
            try makeConfig(.nade, 3, 4, hidden: [5]), try makeConfig(.nade, 3, 4, hidden: [5], ordering: .random),
            try makeConfig(.made, 3, 4, hidden: [6]), try makeConfig(.made, 3, 4, hidden: [6, 5], masks: 2, direct: true),
            try makeConfig(.made, 3, 4, levels: 256, hidden: [6]),
            try makeConfig(.made, 3, 4, levels: 256, hidden: [6, 4], ordering: .random, direct: true),
            try ModelConfig(kind: .made, height: 2, width: 2, channels: 3, levels: 256, hidden: [5]),
        ]
        for config in configs {
            let model = buildModel(config)
            let d = config.dimension
            for batch in [1, 5] {
                let x = randomPixels(batch: batch, dimension: d, levels: config.levels, seed: 1)
                let logits = model.logits(x)
                let expected = config.levels == 2 ? [batch, d] : [batch, d, config.levels]
                XCTAssertEqual(logits.shape, expected, "\(config.kind) \(config)")
                XCTAssertTrue(logits.data.allSatisfy(\.isFinite))
                let nll = model.nll(x)
                XCTAssertEqual(nll.shape, [batch], "\(config)")
                XCTAssertTrue(nll.data.allSatisfy { $0.isFinite && $0 > 0 })
                XCTAssertEqual(model.loss(x).shape, [])
                XCTAssertEqual(model.loss(x).item, nll.data.reduce(0, +) / Float(batch), accuracy: 1e-3)
            }
        }
    }

    func testNLLIsSumOfConditionalNLLs() throws {
        for config in [try makeConfig(.nade, 2, 3, hidden: [4], ordering: .random), try makeConfig(.made, 2, 3, levels: 256, hidden: [5])] {
            let model = buildModel(config)
            perturbParameters(model, std: 0.3, seed: 2)
            let x = randomPixels(batch: 3, dimension: 6, levels: config.levels, seed: 3)
            let logits = model.logits(x).data, nll = model.nll(x).data
            for n in 0..<3 {
                var expected = 0.0
                for i in 0..<6 {
                    let v = Double(x.data[n * 6 + i])
                    if config.levels == 2 {
                        let l = Double(logits[n * 6 + i])
                        expected += -(v * l - Foundation.log1p(Foundation.exp(l)))
                    } else {
                        let row = (0..<256).map { Double(logits[(n * 6 + i) * 256 + $0]) }
                        let m = row.max()!
                        expected += m + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) }) - row[Int(v)]
                    }
                }
                XCTAssertEqual(Double(nll[n]), expected, accuracy: 1e-4 * max(1, expected), "\(config.kind) image \(n)")
            }
        }
    }

    func testImagesInABatchAreIndependent() throws {
        for config in [try makeConfig(.fvsbn, 3, 3), try makeConfig(.nade, 3, 3, hidden: [4], ordering: .random),
                       try makeConfig(.made, 3, 3, hidden: [7], direct: true), try makeConfig(.made, 3, 3, levels: 256, hidden: [7])] {
            let model = buildModel(config)
            perturbParameters(model, std: 0.3, seed: 4)
            let x = randomPixels(batch: 4, dimension: 9, levels: config.levels, seed: 5)
            let together = model.nll(x).data
            for n in 0..<4 {
                let alone = model.nll(Tensor(shape: [1, 9], data: Array(x.data[(n * 9)..<((n + 1) * 9)]))).data[0]
                XCTAssertEqual(alone, together[n], accuracy: 1e-5, "\(config.kind) image \(n)")
            }
        }
    }

    func testParameterNamesAndCounts() throws {
        let nade = buildModel(try makeConfig(.nade, 2, 3, hidden: [4]))
        XCTAssertEqual(nade.parameters.map(\.name), ["W", "c", "V", "b"])
        XCTAssertEqual(nade.parameterCount, 6 * 4 + 4 + 6 * 4 + 6)
        let fvsbn = buildModel(try makeConfig(.fvsbn, 2, 3))
        XCTAssertEqual(fvsbn.parameterCount, 36 + 6)
        let made = buildModel(try makeConfig(.made, 2, 3, levels: 256, hidden: [5, 4], direct: true))
        XCTAssertEqual(made.parameterCount, (6 * 5 + 5) + (5 * 4 + 4) + (4 * 1536 + 1536) + (6 * 1536 + 1536))
        XCTAssertEqual(Set(made.parameters.map(\.name)).count, made.parameters.count, "parameter names are unique")
    }
}
