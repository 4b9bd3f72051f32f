import AutoregModels
import AutoregTensor
import AutoregTraining
import Foundation
import XCTest

/// Checkpoints written before models had their own options (format 2, the flat
/// `LegacyModelConfig`) still load, build the same model and give the NLL that the commit
/// which wrote them computed (recorded below).
final class LegacyCheckpointTests: XCTestCase {
    struct Case {
        let file: String
        let kind: ModelKind
        let pixels: [Float]
        let nll: [Float]
        var labelled: [Float]? = nil
    }

    static let cases: [Case] = [
        Case(file: "fvsbn", kind: .fvsbn, pixels: [1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1],
             nll: [6.276401, 6.347643]),
        Case(file: "nade", kind: .nade, pixels: [1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0, 1, 1, 1],
             nll: [6.650095, 6.234233]),
        Case(file: "made", kind: .made, pixels: [0, 0, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1],
             nll: [7.159278, 6.560957]),
        Case(file: "made256", kind: .made, pixels: [141, 145, 65, 209, 115, 133, 214, 4], nll: [22.224777, 22.177784]),
        Case(file: "pixelcnn", kind: .pixelcnn,
             pixels: [1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1],
             nll: [11.192462, 11.083574]),
        Case(file: "gated", kind: .gatedPixelCNN,
             pixels: [118, 153, 239, 234, 9, 130, 99, 17, 220, 241, 109, 238, 19, 159, 133, 168, 75, 9, 141, 122, 227,
                      226, 17, 184, 48, 196, 247, 117, 238, 200, 2, 2, 199, 92, 44, 167, 115, 21, 16, 124, 206, 24, 175,
                      51, 49, 2, 207, 174, 25, 35, 207, 140, 205, 188],
             nll: [155.833130, 155.172440], labelled: [156.271301, 155.113556]),
    ]

    static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/legacy")
    }

    func testFormatTwoCheckpointsLoadAndGiveTheirNLL() throws {
        for c in Self.cases {
            let path = Self.directory.appendingPathComponent(c.file + ".ckpt").path
            let ck = try Checkpoint.read(from: path)
            XCTAssertEqual(ck.model.kind, c.kind, c.file)
            let model = try ck.makeModel(path: path)
            let x = Tensor(shape: [2, model.dimension], data: c.pixels)
            let nll = withoutGrad { model.nll(x).data }
            for (got, want) in zip(nll, c.nll) { XCTAssertEqual(got, want, accuracy: 2e-4, "\(c.file)") }
            if let labelled = c.labelled {
                let conditional = try XCTUnwrap(model as? any ConditionalModel, c.file)
                let got = withoutGrad { conditional.nll(x, labels: [0, 2]).data }
                for (g, w) in zip(got, labelled) { XCTAssertEqual(g, w, accuracy: 2e-4, "\(c.file) labelled") }
            }
            // Written again, it is the current format and reads back to the same configuration.
            let again = FileManager.default.temporaryDirectory.appendingPathComponent("legacy-\(c.file)-\(UUID()).ckpt").path
            defer { try? FileManager.default.removeItem(atPath: again) }
            try Checkpoint(model: model).write(to: again)
            XCTAssertEqual(try Checkpoint.read(from: again).model, model.config, c.file)
        }
    }

    /// The legacy fields that each model read came through: sizes, masks, ordering, classes.
    func testLegacyFieldsMapToEachModelsOptions() throws {
        func config(_ file: String) throws -> ModelConfig { try Checkpoint.read(from: Self.directory.appendingPathComponent(file + ".ckpt").path).model }
        let made = try config("made")
        XCTAssertEqual(made.options as? MADE.Options,
                       MADE.Options(hidden: [8, 6], masks: 3, ordering: .random, directConnections: true))
        XCTAssertEqual(made.output, .bernoulli)
        XCTAssertEqual(try config("made256").output, .categorical(levels: 256))
        XCTAssertEqual(try config("nade").options as? NADE.Options, NADE.Options(hidden: 5))
        XCTAssertEqual(try config("pixelcnn").options as? PixelCNN.Options,
                       PixelCNN.Options(hiddenChannels: 4, layers: 2, kernelSize: 3, firstKernelSize: 5, dilations: [1, 2]))
        let gated = try config("gated")
        XCTAssertEqual(gated.options as? GatedPixelCNN.Options, GatedPixelCNN.Options(hiddenChannels: 3, layers: 2))
        XCTAssertEqual([gated.classes, gated.channels], [3, 3])
    }

    /// A flat configuration that sets a field its model does not have is refused, naming it.
    func testFlatFieldsAModelDoesNotHaveAreRefused() {
        let bad = [
            #"{"kind":"fvsbn","height":2,"width":2,"hidden":[5]}"#: "hidden",
            #"{"kind":"pixelcnn","height":4,"width":4,"ordering":"random"}"#: "ordering",
            #"{"kind":"nade","height":2,"width":2,"hiddenChannels":8}"#: "hiddenChannels",
            #"{"kind":"gated-pixelcnn","height":4,"width":4,"masks":2}"#: "masks",
        ]
        for (json, field) in bad {
            XCTAssertThrowsError(try JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8)), json) { error in
                XCTAssertTrue("\(error)".contains(field), "\(error)")
            }
        }
    }
}
