import AutoregModels
import AutoregNN
import AutoregTensor
import Foundation
import XCTest

/// Dropout in PixelCNN and Gated PixelCNN: it changes the outputs only in training steps
/// (inside `withDropout`), and it never opens a path from a pixel to an earlier output.
final class ConvolutionalDropoutTests: XCTestCase {
    override func setUp() { Gemm.setThreads(1) }
    override func tearDown() { Gemm.setThreads(ProcessInfo.processInfo.activeProcessorCount) }

    func testCausalWithDropoutActive() throws {
        for kind in [ModelKind.pixelcnn, .gatedPixelCNN] {
            for s in [(h: 7, w: 7, c: 1, levels: 2), (h: 4, w: 4, c: 3, levels: 256)] {
                let config = try convConfig(kind, s.h, s.w, channels: s.c, levels: s.levels, hiddenChannels: 12, layers: 3, seed: 8)
                let model = buildModel(config)
                perturbParameters(model, std: 0.05, seed: 9)
                let label = "\(kind) \(s.h)x\(s.w)x\(s.c) levels \(s.levels), dropout 0.5"
                let (rows, leaked) = dependencyMatrix(config, seed: 10) { x in
                    withDropout(rate: 0.5, seed: 11) { model.logits(x) }
                }
                XCTAssertFalse(leaked, "\(label): an unseeded image got a gradient")
                let violations = causalityViolations(rows, config)
                XCTAssertTrue(violations.isEmpty, "\(label):\n" + violations.prefix(10).joined(separator: "\n"))
                XCTAssertTrue(rows.joined().contains { $0 != 0 }, "\(label): some dependence survives the dropout")
            }
        }
    }

    func testDropoutActsOnlyInTrainingSteps() throws {
        for kind in [ModelKind.pixelcnn, .gatedPixelCNN] {
            let config = try convConfig(kind, 6, 6, hiddenChannels: 8, layers: 2, seed: 12)
            let model = buildModel(config)
            let x = randomPixels(batch: 3, dimension: config.dimension, levels: 2, seed: 13)
            let plain = model.logits(x).data
            XCTAssertEqual(model.logits(x).data, plain, "\(kind): evaluation is deterministic")
            let dropped = withDropout(rate: 0.3, seed: 14) { model.logits(x).data }
            XCTAssertNotEqual(dropped, plain, "\(kind): dropout changes the logits in a training step")
            XCTAssertEqual(withDropout(rate: 0.3, seed: 14) { model.logits(x).data }, dropped, "\(kind): same seed, same masks")
            XCTAssertEqual(model.logits(x).data, plain, "\(kind): evaluation after a training step is unchanged")
        }
    }
}
