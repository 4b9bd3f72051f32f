import AutoregModels
import AutoregNN
import AutoregTensor
import Foundation
import XCTest

/// The batch split over threads (`lossAndGradient`, `nllPerImage`, `parallelBatch`): on any
/// number of threads, every model gives the whole batch's loss, gradient and per-image NLL,
/// dropout masks included; the workers see the caller's tape mode and their own shares.
final class BatchParallelTests: XCTestCase {
    override func tearDown() { Gemm.setThreads(ProcessInfo.processInfo.activeProcessorCount) }

    /// Models of every family, small, with seeded non-trivial weights; the conditional one
    /// with labels, the ones with dropout at a rate that drops many units.
    func cases() throws -> [(label: String, model: any AutoregressiveModel, levels: Int, classes: Int, dropout: Float)] {
        var out: [(String, any AutoregressiveModel, Int, Int, Float)] = []
        func add(_ label: String, _ config: ModelConfig, dropout: Float = 0) {
            let model = buildModel(config)
            perturbParameters(model, std: 0.05, seed: 31)
            out.append((label, model, config.levels, config.classes, dropout))
        }
        add("gated-pixelcnn, 256 levels, 3 classes, dropout 0.3",
            try convConfig(.gatedPixelCNN, 4, 5, levels: 256, hiddenChannels: 6, layers: 2, classes: 3), dropout: 0.3)
        add("pixelcnn, binary, dropout 0.5", try convConfig(.pixelcnn, 5, 5, hiddenChannels: 6, layers: 2), dropout: 0.5)
        add("pixelcnn++, 2 logistics, dropout 0.5",
            ModelConfig(kind: .pixelCNNPlusPlus, height: 4, width: 4, output: .logisticMixture(components: 2), seed: 3,
                        options: PixelCNNPlusPlus.Options(filters: 6, resnetBlocks: 1)), dropout: 0.5)
        let rnn = PixelRNNOptions(hiddenUnits: 6, layers: 2, outputChannels: 6)
        add("row-lstm", ModelConfig(kind: .rowLSTM, height: 4, width: 5, output: .bernoulli, seed: 4, options: rnn))
        add("diagonal-bilstm, 256 levels",
            ModelConfig(kind: .diagonalBiLSTM, height: 4, width: 5, output: .forLevels(256), seed: 5, options: rnn))
        add("made", try makeConfig(.made, 3, 4, hidden: [10]))
        add("nade", try makeConfig(.nade, 3, 4))
        add("fvsbn", try makeConfig(.fvsbn, 3, 4))
        return out.map { (label: $0.0, model: $0.1, levels: $0.2, classes: $0.3, dropout: $0.4) }
    }

    /// The loss and each parameter's gradient from one `lossAndGradient` on `threads` threads.
    func lossAndGradients(_ model: any AutoregressiveModel, _ x: Tensor, labels: [Int]?, dropout: Float,
                          threads: Int) -> (loss: Float, grads: [[Float]]) {
        Gemm.setThreads(threads)
        for p in model.parameters { p.tensor.grad = nil }
        let loss = withDropout(rate: dropout, seed: 77) { model.lossAndGradient(x, labels: labels) }
        defer { for p in model.parameters { p.tensor.grad = nil } }
        return (loss, model.parameters.map { $0.tensor.grad ?? [] })
    }

    func testSplitBatchGivesTheWholeBatchsLossAndGradient() throws {
        for c in try cases() {
            // Five images: two threads take 2 and 3, three threads 1, 2 and 2.
            let x = randomPixels(batch: 5, dimension: c.model.dimension, levels: c.levels, seed: 41)
            let labels = c.classes > 0 ? [2, 0, 1, 1, 2] : nil
            let whole = lossAndGradients(c.model, x, labels: labels, dropout: c.dropout, threads: 1)
            XCTAssertTrue(whole.grads.contains { $0.contains { $0 != 0 } }, "\(c.label): some gradient")
            for threads in [2, 3] {
                let split = lossAndGradients(c.model, x, labels: labels, dropout: c.dropout, threads: threads)
                XCTAssertEqual(split.loss, whole.loss, accuracy: 1e-5 * max(1, abs(whole.loss)),
                               "\(c.label), \(threads) threads: loss")
                for (n, (a, b)) in zip(whole.grads, split.grads).enumerated() {
                    XCTAssertEqual(a.count, b.count, "\(c.label), \(threads) threads: parameter \(n) has a gradient on both")
                    let scale = max(a.map(abs).max() ?? 0, 1e-3)
                    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
                    XCTAssertLessThanOrEqual(worst, 1e-4 * scale, "\(c.label), \(threads) threads: parameter \(n)")
                }
            }
        }
    }

    func testSplitEvaluationGivesEveryImagesNLL() throws {
        for c in try cases() {
            let x = randomPixels(batch: 5, dimension: c.model.dimension, levels: c.levels, seed: 42)
            let labels = c.classes > 0 ? [1, 1, 0, 2, 0] : nil
            Gemm.setThreads(1)
            let whole = c.model.nllPerImage(x, labels: labels)
            XCTAssertEqual(whole.count, 5)
            for threads in [2, 3] {
                Gemm.setThreads(threads)
                let split = c.model.nllPerImage(x, labels: labels)
                for (a, b) in zip(whole, split) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(a)), "\(c.label), \(threads) threads") }
            }
            XCTAssertTrue(c.model.parameters.allSatisfy { $0.tensor.grad == nil }, "\(c.label): evaluation leaves no gradient")
        }
    }

    func testWorkersTakeContiguousSharesAndTheCallersTapeMode() {
        Gemm.setThreads(2)
        let lock = NSLock()
        var seen: [(share: Range<Int>, tape: Bool, nested: [Range<Int>])] = []
        func run() {
            parallelBatch(5) { share in
                var nested: [Range<Int>] = []
                parallelBatch(share.count) { nested.append($0) }  // a worker does not split again
                lock.lock(); seen.append((share, GradMode.isEnabled, nested)); lock.unlock()
            }
        }
        run()
        XCTAssertEqual(seen.map(\.share).sorted { $0.lowerBound < $1.lowerBound }, [0..<2, 2..<5])
        XCTAssertTrue(seen.allSatisfy(\.tape), "workers record a tape outside withoutGrad")
        XCTAssertTrue(seen.allSatisfy { $0.nested == [0..<$0.share.count] }, "nested parallelBatch runs inline")
        seen = []
        withoutGrad { run() }
        XCTAssertEqual(seen.count, 2)
        XCTAssertTrue(seen.allSatisfy { !$0.tape }, "workers inherit withoutGrad")
        XCTAssertTrue(GradMode.isEnabled, "the caller's mode is restored")
    }
}
