@testable import AutoregModels
import AutoregNN
import AutoregTensor
import AutoregTestSupport
import Foundation
import XCTest

/// PixelRNN's Row LSTM and Diagonal BiLSTM: causality exhaustively (grey and colour, both
/// heads), the receptive fields the paper describes, exact normalisation and gradients.
final class PixelRNNTests: XCTestCase {
    // Thousands of tiny GEMMs: a second OpenMP thread only spins.
    override func setUp() { Gemm.setThreads(1) }
    override func tearDown() { Gemm.setThreads(ProcessInfo.processInfo.activeProcessorCount) }

    static let kinds: [ModelKind] = ModelKind.allCases.filter { $0.optionsType == PixelRNNOptions.self }

    func config(_ kind: ModelKind, _ h: Int, _ w: Int, channels: Int = 1, levels: Int = 2,
                options: PixelRNNOptions = PixelRNNOptions(hiddenUnits: 6, layers: 2, outputChannels: 6),
                seed: UInt64 = 3) -> ModelConfig {
        ModelConfig(kind: kind, height: h, width: w, channels: channels, output: .forLevels(levels), seed: seed,
                    options: options)
    }

    func testBothModelsAreRegistered() {
        XCTAssertEqual(Set(Self.kinds.map(\.rawValue)), ["row-lstm", "diagonal-bilstm"])
    }

    /// No output depends on its own or a later sub-pixel; the unseeded image gets no gradient.
    func testCausalExhaustively() throws {
        for kind in Self.kinds {
            for (h, w, c, levels) in [(5, 5, 1, 2), (4, 5, 1, 256), (3, 3, 3, 2), (3, 3, 3, 256)] {
                // 8 units per colour group in the stream and the output layer keep ReLU paths alive.
                let cfg = config(kind, h, w, channels: c, levels: levels,
                                 options: PixelRNNOptions(hiddenUnits: 12, layers: 2, outputChannels: 24))
                let model = try makeModel(cfg)
                perturbParameters(model, std: 0.05, seed: 4)
                let label = "\(kind) \(h)x\(w)x\(c) levels \(levels)"
                let (rows, leaked) = dependencyMatrix(cfg, seed: 5) { model.logits($0) }
                XCTAssertFalse(leaked, "\(label): an unseeded image got a gradient")
                let violations = causalityViolations(rows, cfg)
                XCTAssertTrue(violations.isEmpty, "\(label):\n" + violations.prefix(10).joined(separator: "\n"))
                // Every output sees something before it (except the very first sub-pixel).
                for i in 1..<rows.count {
                    XCTAssertTrue(rows[i][0..<i].contains { $0 != 0 }, "\(label): output \(describe(i, cfg)) sees nothing")
                }
            }
        }
    }

    /// Row LSTM's field is a triangle above the pixel: with one layer and a 3×3 first kernel,
    /// nothing of row r − a beyond column c + a reaches pixel (r, c) (the state of the row above
    /// at c + 1 per row up), so earlier pixels up and to the right are missed. The Diagonal
    /// BiLSTM sees every earlier pixel but one: the last of the row above reaches the pixels of
    /// the next row beyond the first kernel's reach not at all (no feature at a position holds
    /// its own pixel, after the mask-A layer, so the right-to-left pass of the row above, shifted
    /// down, covers it up to the second last pixel only).
    func testReceptiveFields() throws {
        let small = PixelRNNOptions(hiddenUnits: 6, layers: 1, outputChannels: 6, firstKernelSize: 3)
        for kind in Self.kinds {
            let cfg = config(kind, 7, 7, options: small)
            let model = try makeModel(cfg)
            perturbParameters(model, std: 0.1, seed: 4)
            let (rows, _) = dependencyMatrix(cfg, seed: 6) { model.logits($0) }
            var unseen: [String] = [], beyond: [String] = []
            for i in rows.indices {
                let (ri, ci) = (i / 7, i % 7)
                for j in 0..<i {
                    let (rj, cj) = (j / 7, j % 7), a = ri - rj
                    if rows[i][j] == 0 { unseen.append("(\(ri),\(ci)) ← (\(rj),\(cj))") }
                    if rows[i][j] != 0 && a >= 1 && cj - ci > a { beyond.append("(\(ri),\(ci)) ← (\(rj),\(cj))") }
                }
            }
            if kind == .rowLSTM {
                XCTAssertTrue(beyond.isEmpty, "row-lstm sees beyond its triangle: \(beyond.prefix(8))")
                XCTAssertTrue(unseen.contains("(6,3) ← (4,6)"), "row-lstm should miss the pixels up and to the right")
            } else {
                let expected = (1..<7).flatMap { r in (0..<7).filter { 6 - $0 > 1 }.map { "(\(r),\($0)) ← (\(r - 1),6)" } }
                XCTAssertEqual(unseen, expected, "\(kind): the pixels it misses")
            }
        }
    }

    /// Σ p(x) = 1 over all 512 binary 3×3 images, and over all 65 536 values of two 8-bit sub-pixels.
    func testExactNormalisation() throws {
        for kind in Self.kinds {
            let binary = try makeModel(config(kind, 3, 3))
            perturbParameters(binary, std: 0.3, seed: 7)
            XCTAssertEqual(totalProbability(binary, images: allBinaryImages(9)), 1, accuracy: 1e-4, "\(kind) binary 3x3")
            let categorical = try makeModel(config(kind, 1, 2, levels: 256))
            perturbParameters(categorical, std: 0.3, seed: 8)
            XCTAssertEqual(totalProbabilityTwoSubpixels { categorical.nll($0) }, 1, accuracy: 1e-3, "\(kind) 8-bit 1x2")
            let colour = try makeModel(config(kind, 1, 1, channels: 2, levels: 256))
            perturbParameters(colour, std: 0.3, seed: 9)
            XCTAssertEqual(totalProbabilityTwoSubpixels { colour.nll($0) }, 1, accuracy: 1e-3, "\(kind) 8-bit 1x1x2")
        }
    }

    /// Finite differences of the logits with respect to the pixels and the recurrent layers'
    /// parameters, and of the loss with respect to everything. The output layers' ReLUs have
    /// kinks where finite differences disagree with the derivative: the weights are drawn
    /// (seed by seed) until no ReLU input lies within 0.004 of zero (beyond the steps taken) for the test images.
    func testGradients() throws {
        for kind in Self.kinds {
            var rng = RandomGenerator(seed: 11)
            let x = Tensor(shape: [2, 12], data: (0..<24).map { _ in Float(rng.int(below: 2)) }, requiresGrad: true)
            let pixels = Tensor(shape: [2, 12], data: x.data)
            let cfg = config(kind, 3, 4, options: PixelRNNOptions(hiddenUnits: 3, layers: 2, outputChannels: 4))
            var found: (any AutoregressiveModel)?
            for seed in UInt64(10)..<UInt64(60) {
                let model = try makeModel(cfg)
                perturbParameters(model, std: 0.2, seed: seed)
                if reluMargin(model, pixels) > 0.004 { found = model; break }
            }
            let model = try XCTUnwrap(found, "\(kind): no seed keeps the ReLU inputs away from zero")
            let recurrent = model.parameters.filter { $0.name.hasPrefix("layer") }.map(\.tensor)
            XCTAssertFalse(recurrent.isEmpty)
            assertGradients(wrt: [x] + recurrent, eps: 1e-3, "\(kind) logits") { model.logits(x) }
            assertGradients(wrt: model.parameters.map(\.tensor), eps: 1e-3, tolerance: 2e-2, "\(kind) loss") { model.loss(pixels) }
        }
    }

    /// The smallest |value| that meets a ReLU in the output layers of a PixelRNN model.
    private func reluMargin(_ model: any AutoregressiveModel, _ pixels: Tensor) -> Float {
        let (stack, run): (PixelRNNStack, (Tensor) -> Tensor)
        if let m = model as? RowLSTM { (stack, run) = (m.stack, { var s = $0; for l in m.layers { s = l(s) }; return s }) }
        else if let m = model as? DiagonalBiLSTM { (stack, run) = (m.stack, { var s = $0; for l in m.layers { s = l(s) }; return s }) }
        else { return 0 }
        return withoutGrad {
            let s = run(stack.begin(pixels))
            let hidden = stack.outputHidden(s, reluInput: true)
            return (s.data + hidden.data).map { abs($0) }.min() ?? 0
        }
    }

    /// Invalid sizes are refused readably.
    func testValidation() {
        let bad: [(PixelRNNOptions, String)] = [
            (PixelRNNOptions(hiddenUnits: 0), "hidden"), (PixelRNNOptions(layers: 0), "layer"),
            (PixelRNNOptions(firstKernelSize: 4), "kernel"), (PixelRNNOptions(kernelSize: 1), "kernel"),
            (PixelRNNOptions(outputChannels: 0), "output"),
        ]
        for kind in Self.kinds {
            for (options, word) in bad {
                XCTAssertThrowsError(try makeModel(config(kind, 4, 4, options: options))) {
                    XCTAssertTrue("\($0)".contains(word), "\($0)")
                }
            }
        }
    }
}
