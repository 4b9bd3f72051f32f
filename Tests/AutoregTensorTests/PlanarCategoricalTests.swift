import AutoregTensor
import AutoregTestSupport
import XCTest

/// `planarCategoricalNLL`: the softmax NLL read from a head's class planes equals
/// `categoricalNLL` of the channels-last transpose, values and gradients, and its gradient
/// passes a finite-difference check.
final class PlanarCategoricalTests: XCTestCase {
    /// Head [B, C·L, H, W] → [B, H·W·C, L] (sub-pixel p·C + c, as the models order them).
    func channelsLast(_ head: Tensor, channels c: Int, classes l: Int) -> Tensor {
        let (b, n) = (head.shape[0], head.count / (head.shape[0] * c * l))
        return head.reshaped([b, c * l, n]).transposedInner().reshaped([b, n * c, l])
    }

    func testMatchesTheTransposedSoftmax() throws {
        for (b, c, l, h, w) in [(2, 3, 5, 2, 3), (3, 1, 256, 2, 2), (1, 2, 2, 1, 5), (2, 1, 1, 2, 2)] {
            var head = uniformTensor([b, c * l, h, w], -6, 6, seed: UInt64(l * 10 + c), requiresGrad: true)
            if l > 1 {
                // Ties: one position whose classes are all equal, one with two equal tops.
                var data = head.data
                for k in 0..<l { data[k * h * w] = 1.5 }
                data[1] = 9; data[h * w + 1] = 9
                head = Tensor(shape: head.shape, data: data, requiresGrad: true)
            }
            var rng = RandomGenerator(seed: 3)
            let targets = (0..<(b * h * w * c)).map { _ in Int32(rng.int(below: l)) }
            let label = "B \(b) C \(c) L \(l) \(h)x\(w)"
            let planar = head.planarCategoricalNLL(targets: targets, channels: c, classes: l)
            XCTAssertEqual(planar.shape, [b, h * w * c], label)
            let seed = (0..<planar.count).map { _ in rng.normal() }
            planar.backward(seed: seed)
            let planarGrad = try XCTUnwrap(head.grad, label)
            head.grad = nil
            let reference = channelsLast(head, channels: c, classes: l).categoricalNLL(targets: targets)
            reference.backward(seed: seed)
            for (i, (a, r)) in zip(planar.data, reference.data).enumerated() {
                XCTAssertEqual(a, r, accuracy: 1e-5 * max(1, abs(r)), "\(label): term \(i)")
            }
            for (i, (a, r)) in zip(planarGrad, head.grad!).enumerated() {
                XCTAssertEqual(a, r, accuracy: 1e-6, "\(label): gradient \(i)")
            }
            let noTape = withoutGrad { head.planarCategoricalNLL(targets: targets, channels: c, classes: l) }
            XCTAssertFalse(noTape.requiresGrad)
            XCTAssertEqual(noTape.data, planar.data, "\(label): the same without a tape")
        }
    }

    func testGradientByFiniteDifferences() {
        let head = uniformTensor([2, 2 * 4, 2, 3], -2, 2, seed: 17, requiresGrad: true)
        var rng = RandomGenerator(seed: 5)
        let targets = (0..<(2 * 6 * 2)).map { _ in Int32(rng.int(below: 4)) }
        assertGradients(wrt: [head], eps: 1e-2, tolerance: 1e-2) {
            head.planarCategoricalNLL(targets: targets, channels: 2, classes: 4).sum(axis: 1)
        }
    }
}
