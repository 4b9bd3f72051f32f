import AutoregData
import AutoregModels
import AutoregTensor
import AutoregTraining
import Foundation
import XCTest

/// Polyak averaging: the update rule, what is evaluated and saved, and exact resumption.
final class WeightAverageTests: XCTestCase {
    let train = prototypeDataset(count: 90, noise: 0.1, seed: 1)
    let valid = prototypeDataset(count: 30, noise: 0.1, seed: 2)

    func testUpdateRuleAndWarmUp() throws {
        let w = Tensor(shape: [3], data: [1, 2, 3])
        var average = WeightAverage(decay: 0.99, startingAt: [w])
        XCTAssertEqual(average.beta(after: 0), 0.1, accuracy: 1e-7, "(1 + 0) / (10 + 0) while below the decay")
        XCTAssertEqual(average.beta(after: 10_000), 0.99, "the decay once the warm-up is over")
        w.data = [11, 12, 13]
        average.update([w], after: 0)
        for (got, want) in zip(average.values[0], [Float(10), 11, 12]) { XCTAssertEqual(got, want, accuracy: 1e-5) }
        w.data = [0, 0, 0]
        average.update([w], after: 1)  // β = 2/11
        for (got, want) in zip(average.values[0], [Float(10), 11, 12].map { $0 * 2 / 11 }) { XCTAssertEqual(got, want, accuracy: 1e-5) }
        XCTAssertThrowsError(try WeightAverage(decay: 0.9, values: [[1, 2]], for: [w]), "a saved average of another shape")
    }

    /// After one step, last.ckpt holds the trained weights w1 and the average 0.1·w0 + 0.9·w1.
    func testOneStepAverageInLastCheckpoint() throws {
        let dir = try makeTemporaryDirectory(self)
        let cfg = try config(.nade, hidden: [8])
        let w0 = try makeModel(cfg).parameters.map(\.tensor.data)
        var o = trainingOptions(dir, epochs: 1, learningRate: 0.05)
        o.emaDecay = 0.999
        o.maxMinutes = 1e-9
        let state = try makeTrainer(try makeModel(cfg), o, train: train, valid: valid).run()
        XCTAssertEqual(state.step, 1)
        XCTAssertEqual(state.emaUpdates, 1)
        let ck = try Checkpoint.read(dir.appendingPathComponent("last.ckpt"))
        let w1 = ck.parameters.map(\.values)
        let average = try XCTUnwrap(ck.optimizer?.slots["weight-average"], "the average travels in last.ckpt")
        XCTAssertNotEqual(w1, w0, "the step changed the weights")
        for (a, (x0, x1)) in zip(average, zip(w0, w1)) {
            for j in a.indices { XCTAssertEqual(a[j], 0.1 * x0[j] + 0.9 * x1[j], accuracy: 1e-6) }
        }
    }

    func testCheckpointWithAveragedWeights() throws {
        let dir = try makeTemporaryDirectory(self)
        var o = trainingOptions(dir, epochs: 1, learningRate: 0.05)
        o.emaDecay = 0.9
        try makeTrainer(try makeModel(try config(.nade, hidden: [8])), o, train: train, valid: valid).run()
        let last = try Checkpoint.read(dir.appendingPathComponent("last.ckpt"))
        let averaged = try last.withAveragedWeights(path: "last.ckpt")
        XCTAssertEqual(averaged.parameters.map(\.values), last.weightAverage)
        XCTAssertEqual(averaged.parameters.map(\.name), last.parameters.map(\.name))
        XCTAssertNotEqual(averaged.parameters.map(\.values), last.parameters.map(\.values))
        let best = try Checkpoint.read(dir.appendingPathComponent("best.ckpt"))
        XCTAssertEqual(best.parameters.map(\.values), last.weightAverage, "one epoch: best.ckpt holds the same average")
        XCTAssertThrowsError(try best.withAveragedWeights(path: "best.ckpt")) { error in
            XCTAssertTrue("\(error)".contains("best.ckpt") && "\(error)".contains("no weight average"), "\(error)")
        }
    }

    /// The validation NLL written to metrics.jsonl is that of the averaged weights, which
    /// best.ckpt holds; last.ckpt keeps the trained weights.
    func testValidationAndBestCheckpointUseTheAverage() throws {
        let dir = try makeTemporaryDirectory(self)
        var o = trainingOptions(dir, epochs: 3, learningRate: 0.05)
        o.emaDecay = 0.9
        try makeTrainer(try makeModel(try config(.nade, hidden: [8])), o, train: train, valid: valid).run()
        let metrics = try readMetrics(dir)
        let best = try Checkpoint.read(dir.appendingPathComponent("best.ckpt"))
        let last = try Checkpoint.read(dir.appendingPathComponent("last.ckpt"))
        XCTAssertEqual(best.training?.epoch, metrics.min { $0.validNLL < $1.validNLL }?.epoch)
        let bestNLL = try Evaluator.evaluate(try best.makeModel(), valid).natsPerImage
        XCTAssertEqual(bestNLL, metrics.map(\.validNLL).min()!, accuracy: 1e-9, "reported valid NLL is best.ckpt's")
        if best.training?.epoch == 3 {
            XCTAssertEqual(best.parameters.map(\.values), last.optimizer?.slots["weight-average"])
            XCTAssertNotEqual(best.parameters.map(\.values), last.parameters.map(\.values))
        }
        let trainedNLL = try Evaluator.evaluate(try last.makeModel(), valid).natsPerImage
        XCTAssertNotEqual(trainedNLL, metrics.last!.validNLL, "the trained weights are not what was validated")
    }

    /// Averaging switched on when a run resumes starts from the weights at that point.
    func testSwitchedOnAtResume() throws {
        let dir = try makeTemporaryDirectory(self)
        let cfg = try config(.nade, hidden: [8])
        try makeTrainer(try makeModel(cfg), trainingOptions(dir, epochs: 1, learningRate: 0.05), train: train, valid: valid).run()
        let path = dir.appendingPathComponent("last.ckpt")
        var ck = try Checkpoint.read(path)
        XCTAssertNil(ck.optimizer?.slots["weight-average"])
        ck.training!.options.emaDecay = 0.5
        let t = try makeTrainer(try ck.makeModel(), trainingOptions(dir, epochs: 2, learningRate: 0.05), train: train,
                                valid: valid, resume: ck)
        XCTAssertEqual(t.average?.values, ck.parameters.map(\.values), "starts at the resumed weights")
        let state = try t.run()
        XCTAssertEqual(state.emaUpdates, state.step - ck.training!.step)
    }
}

/// The run folder's lock: one training process per folder.
final class RunLockTests: XCTestCase {
    func testSecondLockOnTheSameFolderFailsAndTheFirstReleases() throws {
        let dir = try makeTemporaryDirectory(self).appendingPathComponent("run").path
        var first: RunLock? = try RunLock(directory: dir)
        XCTAssertNotNil(first)
        // flock locks belong to the open file description, so a second open in this process conflicts too.
        XCTAssertThrowsError(try RunLock(directory: dir)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(dir) && text.contains("in use") && text.contains("pid \(getpid())"), text)
        }
        first = nil
        XCTAssertNoThrow(try RunLock(directory: dir), "released when the holder goes")
    }
}
