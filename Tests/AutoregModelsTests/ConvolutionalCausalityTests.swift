import AutoregTestSupport
import AutoregModels
import AutoregNN
import AutoregTensor
import Foundation
import XCTest

/// PixelCNN and Gated PixelCNN, exhaustively: no output depends on its own or a later
/// sub-pixel (raster order, channels R, G, B within a pixel), the gated model sees every
/// earlier sub-pixel, and the plain PixelCNN sees exactly its receptive field: everything
/// before it except the blind spot above and to the right.
final class ConvolutionalCausalityTests: XCTestCase {
    // Thousands of tiny per-image GEMMs: a second OpenMP thread only spins (10x slower here).
    override func setUp() { Gemm.setThreads(1) }
    override func tearDown() { Gemm.setThreads(ProcessInfo.processInfo.activeProcessorCount) }

    /// The configurations every architecture is checked in: 7×7 grey and 4×4 colour,
    /// binary and 8-bit.
    private func shapes() -> [(h: Int, w: Int, c: Int, levels: Int)] {
        [(7, 7, 1, 2), (7, 7, 1, 256), (4, 4, 3, 2), (4, 4, 3, 256)]
    }

    /// Sub-pixel j (input) lies in the receptive field of PixelCNN output i: same pixel and an
    /// earlier channel, or pixel (r − a, c + b) with a = 0, b < 0 (left, same row) or a ≥ 1,
    /// b ≤ min(a − 1, L) + k₀/2 (the k₀×k₀ mask-A layer reaches k₀/2 right of a row above, and
    /// each of the L 3×3 mask-B layers one more, but only by also moving one row up). The
    /// rest of the earlier pixels — up and to the right — is the blind spot. Assumes L is at
    /// least the image size (so the left and upward reach cover the image).
    private func pixelCNNSees(_ i: Int, _ j: Int, _ config: ModelConfig) -> Bool {
        let c = config.channels, w = config.width
        let (pi, ci) = (i / c, i % c), (pj, cj) = (j / c, j % c)
        if pi == pj { return cj < ci }
        let a = pi / w - pj / w, b = pj % w - pi % w
        if a == 0 { return b < 0 }
        return a > 0 && b <= min(a - 1, config.layers) + config.firstKernelSize / 2
    }

    func testPixelCNNIsCausalAndSeesExactlyItsReceptiveField() throws {
        for s in shapes() {
            // 8 residual blocks ≥ the image size; 12 hidden channels keep every colour group
            // populated (6 bottleneck channels: 2 per group) and ReLU paths alive.
            let config = try convConfig(.pixelcnn, s.h, s.w, channels: s.c, levels: s.levels,
                                    hiddenChannels: 12, layers: 8, seed: 3)
            let model = buildModel(config)
            perturbParameters(model, std: 0.05, seed: 4)
            let label = "PixelCNN \(s.h)x\(s.w)x\(s.c) levels \(s.levels)"
            XCTAssertEqual(model.ordering, Array(0..<config.dimension), label)
            let (rows, leaked) = dependencyMatrix(config, seed: 5) { model.logits($0) }
            XCTAssertFalse(leaked, "\(label): an unseeded image got a gradient")
            let violations = causalityViolations(rows, config)
            XCTAssertTrue(violations.isEmpty, "\(label):\n" + violations.prefix(10).joined(separator: "\n"))
            var wrong: [String] = []
            for i in rows.indices {
                for j in 0..<i where (rows[i][j] != 0) != pixelCNNSees(i, j, config) {
                    wrong.append("output \(describe(i, config)) input \(describe(j, config)): gradient \(rows[i][j]), "
                        + "expected \(pixelCNNSees(i, j, config) ? "non-zero" : "zero (blind spot)")")
                }
            }
            XCTAssertTrue(wrong.isEmpty, "\(label): \(wrong.count) pairs differ from the receptive field:\n"
                + wrong.prefix(10).joined(separator: "\n"))
        }
    }

    /// The blind spot, named: on 7×7 the last pixel of row 6's first column, (6, 0), cannot
    /// see (5, 4), up one row and four columns right, however deep the network, while it does
    /// see (5, 3) and (4, 4).
    func testPixelCNNMissesItsBlindSpot() throws {
        for layers in [8, 20] {
            let config = try convConfig(.pixelcnn, 7, 7, hiddenChannels: 8, layers: layers, seed: 6)
            let model = buildModel(config)
            let (rows, _) = dependencyMatrix(config, seed: 7) { model.logits($0) }
            let out = subpixel(6, 0, 0, config)
            XCTAssertEqual(rows[out][subpixel(5, 4, 0, config)], 0, "\(layers) blocks: (5, 4) is in the blind spot")
            XCTAssertEqual(rows[out][subpixel(3, 6, 0, config)], 0, "\(layers) blocks: (3, 6) is in the blind spot")
            XCTAssertNotEqual(rows[out][subpixel(0, 6, 0, config)], 0, "\(layers) blocks: (0, 6) is visible")
            XCTAssertNotEqual(rows[out][subpixel(5, 3, 0, config)], 0, "\(layers) blocks: (5, 3) is visible")
            XCTAssertNotEqual(rows[out][subpixel(4, 4, 0, config)], 0, "\(layers) blocks: (4, 4) is visible")
            // The last pixel of the image is blind to nothing (there is nothing to its right).
            let last = config.dimension - 1
            XCTAssertTrue((0..<last).allSatisfy { rows[last][$0] != 0 }, "\(layers) blocks: the last pixel sees all")
        }
    }

    func testGatedPixelCNNIsCausalAndHasNoBlindSpot() throws {
        for s in shapes() {
            for classes in [0, 3] {
                let config = try convConfig(.gatedPixelCNN, s.h, s.w, channels: s.c, levels: s.levels,
                                        hiddenChannels: 6, layers: 7, classes: classes, seed: 8)
                XCTAssertEqual(config.dilations, [1, 2, 1, 4, 1, 2, 1])
                let model = try! GatedPixelCNN(config: config)
                perturbParameters(model, std: 0.05, seed: 9)
                let label = "gated \(s.h)x\(s.w)x\(s.c) levels \(s.levels) classes \(classes)"
                XCTAssertEqual(model.ordering, Array(0..<config.dimension), label)
                let d = config.dimension
                let labels = classes == 0 ? nil : (0...d).map { $0 % classes }
                let (rows, leaked) = dependencyMatrix(config, seed: 10) { model.logits($0, labels: labels) }
                XCTAssertFalse(leaked, "\(label): an unseeded image got a gradient")
                let violations = causalityViolations(rows, config)
                XCTAssertTrue(violations.isEmpty, "\(label):\n" + violations.prefix(10).joined(separator: "\n"))
                // No over-masking: every output depends on every earlier sub-pixel.
                var missing: [String] = []
                for i in 0..<d { for j in 0..<i where rows[i][j] == 0 { missing.append("\(describe(i, config)) ← \(describe(j, config))") } }
                XCTAssertTrue(missing.isEmpty, "\(label): \(missing.count) earlier sub-pixels unseen: "
                    + missing.prefix(10).joined(separator: ", "))
            }
        }
    }

    /// With too few blocks the gated model's last pixel cannot reach the far corner: the
    /// converse check above is not vacuous.
    func testShallowGatedPixelCNNDoesNotSeeEverything() throws {
        let config = try convConfig(.gatedPixelCNN, 7, 7, hiddenChannels: 4, layers: 1, dilations: [1], seed: 11)
        let model = buildModel(config)
        let (rows, _) = dependencyMatrix(config, seed: 12) { model.logits($0) }
        let last = config.dimension - 1
        XCTAssertEqual(rows[last][0], 0, "one block cannot see (0, 0) from (6, 6)")
        XCTAssertNotEqual(rows[last][last - 1], 0, "but sees its left neighbour")
        XCTAssertNotEqual(rows[last][subpixel(5, 6, 0, config)], 0, "and the pixel above")
        XCTAssertTrue(causalityViolations(rows, config).isEmpty)
    }
}
