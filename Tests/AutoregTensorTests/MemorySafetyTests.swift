import AutoregTensor
import XCTest

/// Ops must not write outside the buffers they own.
final class MemorySafetyTests: XCTestCase {
    /// Runs `body` and reports whether it wrote through the element address of the runtime's
    /// shared empty-array storage — the non-nil pointer every empty `[Float]` hands out from
    /// `withUnsafe(Mutable)BufferPointer`. What lies there belongs to someone else (on Linux,
    /// libswiftCore's empty-dictionary singleton), so a write corrupts memory and crashes
    /// later code. The bytes are restored before returning so a failure here stays local.
    private func writesThroughEmptyArray(words: Int, _ body: () -> Void) -> Bool {
        let empty: [Float] = []
        guard let probe = empty.withUnsafeBufferPointer({ $0.baseAddress }) else { return false }
        let raw = UnsafeMutableRawPointer(mutating: probe)
        let saved = (0..<words).map { raw.load(fromByteOffset: 4 * $0, as: UInt32.self) }
        body()
        let after = (0..<words).map { raw.load(fromByteOffset: 4 * $0, as: UInt32.self) }
        for (k, w) in saved.enumerated() { raw.storeBytes(of: w, toByteOffset: 4 * k, as: UInt32.self) }
        return after != saved
    }

    func testCategoricalNLLWithoutTapeWritesNoProbabilities() throws {
        // Constant logits: no gradient is wanted, so no softmax buffer may be written.
        let constant = Tensor(shape: [1, 4], data: [0.1, 0.7, -0.3, 0.4])
        XCTAssertFalse(writesThroughEmptyArray(words: 4) { _ = constant.categoricalNLL(targets: [1]) },
                       "categoricalNLL on constant logits wrote softmax values into shared empty-array storage")
        // Logits that require gradients, evaluated inside withoutGrad.
        let tracked = Tensor(shape: [1, 4], data: [0.1, 0.7, -0.3, 0.4], requiresGrad: true)
        XCTAssertFalse(writesThroughEmptyArray(words: 4) { _ = withoutGrad { tracked.categoricalNLL(targets: [1]) } },
                       "categoricalNLL inside withoutGrad wrote softmax values into shared empty-array storage")
    }

    func testCategoricalNLLValuesWithAndWithoutTapeAgree() throws {
        let data: [Float] = [0.5, -1, 2, 0, 3, -2, 1, 1]
        let tracked = Tensor(shape: [2, 4], data: data, requiresGrad: true)
        var a: [Float] = []
        XCTAssertFalse(writesThroughEmptyArray(words: 8) { a = withoutGrad { tracked.categoricalNLL(targets: [2, 0]) }.data })
        let b = tracked.categoricalNLL(targets: [2, 0]).data
        XCTAssertEqual(a, b)
    }
}
