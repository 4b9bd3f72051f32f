import AutoregTestSupport
import AutoregModels
import AutoregNN
import AutoregTensor
import Foundation
import AutoregTestSupport
import XCTest

/// Finite-difference checks of the models' logits (the fused NADE op included) with respect
/// to the input pixels and to every parameter.
final class ModelGradientTests: XCTestCase {
    /// Inputs in [0, 1] with some exact zeros and ones (the NADE kernel skips x = 0).
    private func inputs(batch: Int, d: Int, seed: UInt64) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        let data = (0..<(batch * d)).map { k -> Float in
            k % 3 == 0 ? Float(rng.int(below: 2)) : rng.uniform()
        }
        return Tensor(shape: [batch, d], data: data, requiresGrad: true)
    }

    private func checkNADE(_ ordering: PixelOrdering) throws {
        let nade = try NADE(config: try makeConfig(.nade, 3, 3, hidden: [5], ordering: ordering, seed: 3))
        perturbParameters(nade, std: 0.3, seed: 4)  // non-zero biases
        let x = inputs(batch: 3, d: 9, seed: 5)
        assertGradients(wrt: [x], "NADE \(ordering) w.r.t. x") { nade.logits(x) }
        assertGradients(wrt: [nade.inputWeight], "NADE \(ordering) w.r.t. W") { nade.logits(x) }
        assertGradients(wrt: [nade.hiddenBias], "NADE \(ordering) w.r.t. c") { nade.logits(x) }
        assertGradients(wrt: [nade.outputWeight], "NADE \(ordering) w.r.t. V") { nade.logits(x) }
        assertGradients(wrt: [nade.outputBias], "NADE \(ordering) w.r.t. b") { nade.logits(x) }
        let all = [x] + nade.parameters.map(\.tensor)
        assertGradients(wrt: all, "NADE \(ordering) w.r.t. everything at once") { nade.logits(x) }
        let binary = randomPixels(batch: 4, dimension: 9, levels: 2, seed: 6)
        assertGradients(wrt: nade.parameters.map(\.tensor), "NADE \(ordering) loss") { nade.loss(binary) }
    }

    func testNADENaturalOrdering() throws { try checkNADE(.natural) }
    func testNADERandomOrdering() throws { try checkNADE(.random) }

    func testNADEForwardMatchesReference() throws {
        // logit_i = b_t + V_t · σ(c + Σ_{s<t} W_s x_{o(s)}) with t = rank(i), in Double.
        for ordering in PixelOrdering.allCases {
            let nade = try NADE(config: try makeConfig(.nade, 2, 3, hidden: [4], ordering: ordering, seed: 7))
            perturbParameters(nade, std: 0.5, seed: 8)
            let x = inputs(batch: 2, d: 6, seed: 9)
            let out = nade.logits(x)
            XCTAssertEqual(out.shape, [2, 6])
            let (W, V, b, c) = (nade.inputWeight.data, nade.outputWeight.data, nade.outputBias.data, nade.hiddenBias.data)
            for n in 0..<2 {
                var a = c.map(Double.init)
                for (t, i) in nade.ordering.enumerated() {
                    var logit = Double(b[t])
                    for k in 0..<4 { logit += Double(V[t * 4 + k]) / (1 + Foundation.exp(-a[k])) }
                    XCTAssertEqual(Double(out.data[n * 6 + i]), logit, accuracy: 1e-5, "\(ordering) image \(n) pixel \(i)")
                    for k in 0..<4 { a[k] += Double(W[t * 4 + k]) * Double(x.data[n * 6 + i]) }
                }
            }
        }
    }

    func testMADEOneHiddenLayer() throws {
        let made = try MADE(config: try makeConfig(.made, 3, 3, hidden: [7], ordering: .random, seed: 11))
        perturbParameters(made, std: 0.2, seed: 12)
        let x = inputs(batch: 3, d: 9, seed: 13)
        assertGradients(wrt: [x], eps: 1e-3, "MADE w.r.t. x") { made.logits(x) }
        assertGradients(wrt: made.parameters.map(\.tensor), eps: 1e-3, "MADE w.r.t. parameters") { made.logits(x) }
    }

    func testMADETwoHiddenLayersWithDirectConnections() throws {
        let made = try MADE(config: try makeConfig(.made, 3, 3, hidden: [6, 5], masks: 2, direct: true, seed: 14))
        perturbParameters(made, std: 0.2, seed: 15)
        let x = inputs(batch: 2, d: 9, seed: 16)
        for mask in 0..<2 {
            made.applyMask(mask)
            assertGradients(wrt: [x], eps: 1e-3, "MADE mask \(mask) w.r.t. x") { made.logits(x) }
            assertGradients(wrt: made.parameters.map(\.tensor), eps: 1e-3, "MADE mask \(mask) w.r.t. parameters") {
                made.logits(x)
            }
        }
        let binary = randomPixels(batch: 4, dimension: 9, levels: 2, seed: 17)
        assertGradients(wrt: made.parameters.map(\.tensor), eps: 1e-3, "MADE loss") { made.loss(binary) }
    }

    func testMADECategorical() throws {
        let made = try MADE(config: try makeConfig(.made, 1, 2, levels: 256, hidden: [3], direct: true, seed: 18))
        perturbParameters(made, std: 0.2, seed: 19)
        let pixels = randomPixels(batch: 2, dimension: 2, levels: 256, seed: 20, requiresGrad: true)
        assertGradients(wrt: [pixels], eps: 1e-1, "categorical MADE w.r.t. x") { made.logits(pixels) }
        assertGradients(wrt: made.parameters.map(\.tensor), eps: 1e-3, "categorical MADE w.r.t. parameters") {
            made.logits(pixels)
        }
        let constant = pixels.detached()
        assertGradients(wrt: made.parameters.map(\.tensor), eps: 1e-3, "categorical MADE loss") { made.loss(constant) }
    }

    func testFVSBN() throws {
        for ordering in PixelOrdering.allCases {
            let model = try FVSBN(config: try makeConfig(.fvsbn, 2, 3, ordering: ordering, seed: 21))
            randomizeParameters(model, seed: 22)
            let x = inputs(batch: 3, d: 6, seed: 23)
            assertGradients(wrt: [x], "FVSBN \(ordering) w.r.t. x") { model.logits(x) }
            assertGradients(wrt: model.parameters.map(\.tensor), "FVSBN \(ordering) w.r.t. parameters") { model.logits(x) }
        }
    }
}
