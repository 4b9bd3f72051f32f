import AutoregModels
import AutoregNN
import AutoregTensor
import XCTest

/// Sampling asks models for one pixel's logits at a time; the shortcut must agree with the
/// full forward pass for every pixel.
final class SinglePixelLogitsTests: XCTestCase {
    func assertMatchesFullLogits(_ config: ModelConfig, file: StaticString = #filePath, line: UInt = #line) {
        let model = buildModel(config)
        randomizeParameters(model, std: 0.3, seed: 5)
        let d = config.dimension, width = config.levels == 2 ? 1 : config.levels
        let x = randomPixels(batch: 3, dimension: d, levels: config.levels, seed: 9)
        let full = withoutGrad { model.logits(x) }.data
        for i in 0..<d {
            let one = model.logits(x, pixel: i)
            XCTAssertEqual(one.count, 3 * width, file: file, line: line)
            for n in 0..<3 {
                for k in 0..<width {
                    XCTAssertEqual(one[n * width + k], full[(n * d + i) * width + k], accuracy: 1e-4,
                                   "\(config.kind) pixel \(i) image \(n) level \(k)", file: file, line: line)
                }
            }
        }
    }

    func testFVSBN() throws { assertMatchesFullLogits(try makeConfig(.fvsbn, 3, 3)) }
    func testNADE() throws { assertMatchesFullLogits(try makeConfig(.nade, 3, 3, hidden: [7])) }
    func testMADEBinaryTwoLayersDirect() throws {
        assertMatchesFullLogits(try makeConfig(.made, 3, 3, hidden: [12, 10], direct: true))
    }
    func testMADECategorical() throws { assertMatchesFullLogits(try makeConfig(.made, 1, 3, levels: 256, hidden: [9])) }
}
