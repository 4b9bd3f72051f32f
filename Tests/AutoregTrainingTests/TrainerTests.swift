import AutoregData
import AutoregModels
import AutoregNN
import AutoregTensor
import AutoregTraining
import Foundation
import XCTest

final class ReproducibilityTests: XCTestCase {
    let train = prototypeDataset(count: 100, noise: 0.1, seed: 1)
    let valid = prototypeDataset(count: 40, noise: 0.1, seed: 2)

    func run(_ cfg: ModelConfig, seed: UInt64, optimizer: String = "adam") throws -> (weights: [[UInt32]], metrics: [MetricsRow], state: TrainingState) {
        let dir = try makeTemporaryDirectory(self)
        let model = try makeModel(cfg)
        let options = trainingOptions(dir, epochs: 2, batchSize: 16, learningRate: 0.02, optimizer: optimizer, seed: seed)
        let state = try makeTrainer(model, options, train: train, valid: valid).run()
        return (parameterBits(model), try readMetrics(dir), state)
    }

    func assertReproducible(_ cfg: ModelConfig, optimizer: String = "adam",
                            file: StaticString = #filePath, line: UInt = #line) throws {
        let a = try run(cfg, seed: 5, optimizer: optimizer)
        let b = try run(cfg, seed: 5, optimizer: optimizer)
        let c = try run(cfg, seed: 6, optimizer: optimizer)
        XCTAssertEqual(a.metrics.count, 2, file: file, line: line)
        XCTAssertEqual(a.metrics.map(\.trainNLL.bitPattern), b.metrics.map(\.trainNLL.bitPattern), "train NLL", file: file, line: line)
        XCTAssertEqual(a.metrics.map(\.validNLL.bitPattern), b.metrics.map(\.validNLL.bitPattern), "valid NLL", file: file, line: line)
        assertSameBits(b.weights, a.weights, "final weights bit-identical", file: file, line: line)
        XCTAssertEqual(a.state.bestValidNLL?.bitPattern, b.state.bestValidNLL?.bitPattern, file: file, line: line)
        XCTAssertEqual(a.state.step, b.state.step, file: file, line: line)

        XCTAssertFalse(a.weights == c.weights, "another seed gives other weights", file: file, line: line)
        XCTAssertNotEqual(a.metrics.map(\.trainNLL), c.metrics.map(\.trainNLL), "another seed, other train NLL", file: file, line: line)
        XCTAssertNotEqual(a.metrics.map(\.validNLL), c.metrics.map(\.validNLL), "another seed, other valid NLL", file: file, line: line)
    }

    func testMADEWithMasksIsReproducible() throws {
        try assertReproducible(try config(.made, hidden: [12], masks: 3, ordering: .random))
    }

    func testNADEIsReproducible() throws { try assertReproducible(try config(.nade, hidden: [8])) }

    func testFVSBNWithSGDIsReproducible() throws { try assertReproducible(try config(.fvsbn), optimizer: "sgd") }
}

final class ResumeTests: XCTestCase {
    /// Runs `options.epochs` epochs without a break; returns the final weights and metrics.
    func uninterrupted(_ cfg: ModelConfig, _ options: (URL) -> TrainingOptions, train: ImageDataset,
                       valid: ImageDataset) throws -> (weights: [[UInt32]], metrics: [MetricsRow], state: TrainingState) {
        let dir = try makeTemporaryDirectory(self)
        let model = try makeModel(cfg)
        let state = try makeTrainer(model, options(dir), train: train, valid: valid).run()
        return (parameterBits(model), try readMetrics(dir), state)
    }

    /// Starts a run, stops it after `firstSteps` single-step invocations (each with a tiny time budget),
    /// then resumes it from last.ckpt, each time with a fresh model rebuilt from the checkpoint.
    /// `stopsPerResume`: how many further one-step interruptions to make before finishing (nil: stop at every step).
    func interrupted(_ cfg: ModelConfig, _ options: (URL) -> TrainingOptions, train: ImageDataset, valid: ImageDataset,
                     interruptions: Int?) throws -> (weights: [[UInt32]], metrics: [MetricsRow], state: TrainingState, resumes: Int) {
        let dir = try makeTemporaryDirectory(self)
        let last = dir.appendingPathComponent("last.ckpt")
        var budgeted = options(dir)
        budgeted.maxMinutes = 1e-9  // stops right after the first step
        var state = try makeTrainer(try makeModel(cfg), budgeted, train: train, valid: valid).run()
        XCTAssertEqual(state.step, 1, "a tiny time budget stops after one step")
        XCTAssertEqual(state.epoch, 0)
        XCTAssertEqual(state.stepInEpoch, 1)
        var resumes = 0
        var stopsLeft = (interruptions ?? Int.max) - 1
        while state.epoch < budgeted.epochs {
            let ck = try Checkpoint.read(last)
            XCTAssertEqual(ck.training?.step, state.step, "last.ckpt holds the state at the stop")
            var o = options(dir)
            if stopsLeft > 0 { o.maxMinutes = 1e-9; stopsLeft -= 1 }
            let trainer = try makeTrainer(try ck.makeModel(path: last.path), o, train: train, valid: valid, resume: ck)
            if let made = trainer.model as? MADE {
                XCTAssertEqual(made.activeMask, ck.training?.activeMask, "resume applies the saved mask")
            }
            state = try trainer.run()
            resumes += 1
            if resumes > 1000 { XCTFail("resume loop does not finish"); break }
        }
        let final = try Checkpoint.read(last).makeModel(path: last.path)
        return (parameterBits(final), try readMetrics(dir), state, resumes)
    }

    func assertResumeExact(_ cfg: ModelConfig, _ options: @escaping (URL) -> TrainingOptions,
                           train: ImageDataset, valid: ImageDataset, interruptions: Int?,
                           file: StaticString = #filePath, line: UInt = #line) throws {
        let a = try uninterrupted(cfg, options, train: train, valid: valid)
        let b = try interrupted(cfg, options, train: train, valid: valid, interruptions: interruptions)
        XCTAssertEqual(b.state.step, a.state.step, "same number of steps", file: file, line: line)
        XCTAssertEqual(b.state.epoch, a.state.epoch, file: file, line: line)
        assertSameBits(b.weights, a.weights, "final weights bit-identical after \(b.resumes) resumes", file: file, line: line)
        XCTAssertEqual(b.metrics.map(\.epoch), a.metrics.map(\.epoch), file: file, line: line)
        XCTAssertEqual(b.metrics.map(\.validNLL.bitPattern), a.metrics.map(\.validNLL.bitPattern),
                       "valid NLL per epoch identical", file: file, line: line)
        XCTAssertEqual(b.state.bestEpoch, a.state.bestEpoch, file: file, line: line)
        XCTAssertEqual(b.state.bestValidNLL?.bitPattern, a.state.bestValidNLL?.bitPattern, file: file, line: line)
        XCTAssertEqual(b.state.shuffleRNG.nextValues(4), a.state.shuffleRNG.nextValues(4), file: file, line: line)
        XCTAssertEqual(b.state.noiseRNG.nextValues(4), a.state.noiseRNG.nextValues(4), file: file, line: line)
    }

    let binaryTrain = prototypeDataset(count: 90, noise: 0.1, seed: 1)  // 4 batches of 25 (the last one short)
    let binaryValid = prototypeDataset(count: 30, noise: 0.1, seed: 2)

    func testNADEAdamResumesMidEpoch() throws {
        try assertResumeExact(try config(.nade, hidden: [8], ordering: .random),
                              { trainingOptions($0, epochs: 2, learningRate: 0.02) },
                              train: binaryTrain, valid: binaryValid, interruptions: 1)
    }

    func testWeightAveragingResumesExactly() throws {
        try assertResumeExact(try config(.nade, hidden: [8]), { dir in
            var o = trainingOptions(dir, epochs: 2, learningRate: 0.05)
            o.emaDecay = 0.95
            return o
        }, train: binaryTrain, valid: binaryValid, interruptions: nil)
    }

    /// Dropout masks come from the run's seed and the step: an interrupted run draws the
    /// same ones. (And they matter: the weights differ from a run without dropout.)
    func testDropoutResumesExactly() throws {
        let gated = try ModelConfig(kind: .gatedPixelCNN, height: 4, width: 4, seed: 3, hiddenChannels: 4, layers: 2)
        let withDropout = { (dir: URL) -> TrainingOptions in
            var o = trainingOptions(dir, epochs: 1, learningRate: 0.02)
            o.dropout = 0.3
            return o
        }
        try assertResumeExact(gated, withDropout, train: binaryTrain, valid: binaryValid, interruptions: nil)
        let plain = try uninterrupted(gated, { trainingOptions($0, epochs: 1, learningRate: 0.02) }, train: binaryTrain, valid: binaryValid)
        let dropped = try uninterrupted(gated, withDropout, train: binaryTrain, valid: binaryValid)
        XCTAssertNotEqual(plain.weights, dropped.weights, "dropout changes the training steps")
    }

    func testFVSBNSGDWithScheduleAndClippingResumesMidEpoch() throws {
        try assertResumeExact(try config(.fvsbn), { dir in
            var o = trainingOptions(dir, epochs: 2, learningRate: 0.05, optimizer: "sgd")
            o.schedule = .exponential(gamma: 0.5)
            o.clipNorm = 1
            return o
        }, train: binaryTrain, valid: binaryValid, interruptions: 1)
    }

    /// The active mask must resume: after one step MADE is on mask 1 of 3.
    func testMADEWithSeveralMasksResumesMidEpoch() throws {
        try assertResumeExact(try config(.made, hidden: [12, 10], masks: 3, ordering: .random, direct: true),
                              { trainingOptions($0, epochs: 2, learningRate: 0.02) },
                              train: binaryTrain, valid: binaryValid, interruptions: 1)
    }

    /// Dynamic binarisation draws noise every batch; its generator must resume where it stopped.
    func testDynamicBinarizationResumesMidEpoch() throws {
        let train8 = eightBitDataset(count: 90, seed: 3)
        let valid = eightBitDataset(count: 30, seed: 4).binarizedFixed()
        try assertResumeExact(try config(.nade, hidden: [8]),
                              { trainingOptions($0, epochs: 2, learningRate: 0.02, binarization: .dynamic) },
                              train: train8, valid: valid, interruptions: 1)
    }

    /// Stop after every single step (including right after an epoch's last step), with MADE masks
    /// and dynamic binarisation together.
    func testStoppingAfterEveryStepResumesExactly() throws {
        let train8 = eightBitDataset(count: 60, seed: 5)
        let valid = eightBitDataset(count: 20, seed: 6).binarizedFixed()
        try assertResumeExact(try config(.made, hidden: [10], masks: 2, ordering: .random),
                              { trainingOptions($0, epochs: 2, batchSize: 25, learningRate: 0.02, binarization: .dynamic) },
                              train: train8, valid: valid, interruptions: nil)
    }

    /// The train NLL an epoch reports must not depend on whether the epoch was interrupted.
    func testResumedEpochReportsTheSameTrainNLL() throws {
        let options = { (dir: URL) in trainingOptions(dir, epochs: 2, learningRate: 0.02) }
        let cfg = try config(.nade, hidden: [8])
        let a = try uninterrupted(cfg, options, train: binaryTrain, valid: binaryValid)
        let b = try interrupted(cfg, options, train: binaryTrain, valid: binaryValid, interruptions: 1)
        XCTAssertEqual(b.metrics.count, 2)
        for (x, y) in zip(a.metrics, b.metrics) {
            XCTAssertEqual(y.trainNLL, x.trainNLL, accuracy: 1e-9 * max(1, abs(x.trainNLL)),
                           "epoch \(x.epoch): train NLL after resume (\(y.trainNLL)) vs uninterrupted (\(x.trainNLL))")
        }
        // Stopping exactly at an epoch's end must not record a train NLL of 0 for that epoch.
        let c = try interrupted(cfg, options, train: binaryTrain, valid: binaryValid, interruptions: nil)
        XCTAssertEqual(c.metrics.count, 2)
        for row in c.metrics { XCTAssertGreaterThan(row.trainNLL, 1, "epoch \(row.epoch) train NLL \(row.trainNLL)") }
    }

    /// `autoreg train --resume` passes options built from its command line, where the optimiser
    /// settings are back at their defaults. Settings that shape training (optimiser, momentum,
    /// weight decay, learning rate) must come from the checkpoint, not from the options passed.
    func testResumeUsesTheCheckpointsOptimizerSettings() throws {
        let original = { (dir: URL) -> TrainingOptions in
            var o = trainingOptions(dir, epochs: 2, learningRate: 0.05, optimizer: "sgd")
            o.momentum = 0.5
            o.weightDecay = 0.01
            return o
        }
        let cfg = try config(.made, hidden: [10], masks: 2)
        let a = try uninterrupted(cfg, original, train: binaryTrain, valid: binaryValid)

        let dir = try makeTemporaryDirectory(self)
        let last = dir.appendingPathComponent("last.ckpt")
        var first = original(dir)
        first.maxMinutes = 1e-9
        try makeTrainer(try makeModel(cfg), first, train: binaryTrain, valid: binaryValid).run()
        let ck = try Checkpoint.read(last)
        var commandLine = trainingOptions(dir, epochs: 2)  // defaults: adam, lr 0.01, momentum 0.9, no decay
        commandLine.dataset = ck.training!.options.dataset
        let trainer = try makeTrainer(try ck.makeModel(path: last.path), commandLine,
                                      train: binaryTrain, valid: binaryValid, resume: ck)
        try trainer.run()
        assertSameBits(parameterBits(trainer.model), a.weights, "resumed with default options on the command line")
    }

    /// SIGTERM (or Ctrl-C) ends the run after the minibatch in progress, with last.ckpt holding
    /// exactly that state: resuming from it ends where an uninterrupted run ends.
    func testSignalStopsAfterTheStepAndCheckpoints() throws {
        let cfg = try config(.nade, hidden: [8])
        let options = { (dir: URL) in trainingOptions(dir, epochs: 2, learningRate: 0.02) }
        let a = try uninterrupted(cfg, options, train: binaryTrain, valid: binaryValid)

        let dir = try makeTemporaryDirectory(self)
        let last = dir.appendingPathComponent("last.ckpt")
        StopRequest.catchSignals()
        defer { StopRequest.clear(); signal(SIGINT, SIG_DFL); signal(SIGTERM, SIG_DFL) }
        XCTAssertNil(StopRequest.signal)
        // The signal arrives during the first step's forward pass.
        let model = SignalingModel(try makeModel(cfg), during: .training)
        let first = try makeTrainer(model, options(dir), train: binaryTrain, valid: binaryValid)
        let stopped = try first.run()
        XCTAssertTrue(model.raised)
        XCTAssertEqual(first.stoppedBySignal, SIGTERM, "the handler records the signal; the process lives on")
        XCTAssertEqual(stopped.step, 1, "stops after the step in progress")
        XCTAssertEqual(try Checkpoint.read(last).training?.step, 1, "last.ckpt written at the stop")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("best.ckpt").path),
                       "no epoch finished, so no best checkpoint")

        StopRequest.clear()
        let ck = try Checkpoint.read(last)
        let second = try makeTrainer(try ck.makeModel(path: last.path), options(dir), train: binaryTrain,
                                     valid: binaryValid, resume: ck)
        let state = try second.run()
        XCTAssertNil(second.stoppedBySignal)
        XCTAssertEqual(state.step, a.state.step)
        assertSameBits(parameterBits(second.model), a.weights, "resumed run ends where the uninterrupted one does")
    }

    /// Resuming a finished run with more epochs continues it like a longer run.
    func testExtendingAFinishedRun() throws {
        let cfg = try config(.made, hidden: [10], masks: 2)
        let a = try uninterrupted(cfg, { trainingOptions($0, epochs: 3, learningRate: 0.02) }, train: binaryTrain, valid: binaryValid)
        let dir = try makeTemporaryDirectory(self)
        try makeTrainer(try makeModel(cfg), trainingOptions(dir, epochs: 1, learningRate: 0.02),
                        train: binaryTrain, valid: binaryValid).run()
        let last = dir.appendingPathComponent("last.ckpt")
        let ck = try Checkpoint.read(last)
        XCTAssertEqual(ck.training?.epoch, 1)
        let t = try makeTrainer(try ck.makeModel(path: last.path), trainingOptions(dir, epochs: 3, learningRate: 0.02),
                                train: binaryTrain, valid: binaryValid, resume: ck)
        let state = try t.run()
        XCTAssertEqual(state.epoch, 3)
        assertSameBits(parameterBits(t.model), a.weights)
        XCTAssertEqual(try readMetrics(dir).map(\.validNLL.bitPattern), a.metrics.map(\.validNLL.bitPattern))
    }
}

extension RandomGenerator {
    func nextValues(_ n: Int) -> [UInt64] {
        var copy = self
        return (0..<n).map { _ in copy.next() }
    }
}

final class LearningTests: XCTestCase {
    let train = prototypeDataset(count: 320, noise: 0.05, seed: 11)
    let valid = prototypeDataset(count: 100, noise: 0.05, seed: 12)
    /// Uniform model: D ln 2 nats per image.
    var uniform: Double { Double(train.dimension) * M_LN2 }
    /// The data's true entropy: ln 2 (which prototype) + D·H(0.05).
    var entropy: Double {
        let q = 0.05
        return M_LN2 + Double(train.dimension) * -(q * log(q) + (1 - q) * log(1 - q))
    }

    func assertLearns(_ cfg: ModelConfig, epochs: Int = 8, learningRate: Float = 0.03,
                      file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = try makeTemporaryDirectory(self)
        let model = try makeModel(cfg)
        let before = try Evaluator.evaluate(model, valid, masks: cfg.kind == .made ? cfg.maskCount : nil).natsPerImage
        let state = try makeTrainer(model, trainingOptions(dir, epochs: epochs, batchSize: 32, learningRate: learningRate),
                                    train: train, valid: valid).run()
        let rows = try readMetrics(dir)
        XCTAssertEqual(rows.map(\.epoch), Array(1...epochs), file: file, line: line)
        XCTAssertEqual(rows.map(\.step), (1...epochs).map { $0 * 10 }, file: file, line: line)
        let bestRow = rows.min { $0.validNLL < $1.validNLL }!
        XCTAssertLessThan(bestRow.validNLL, 0.5 * uniform,
                          "valid NLL \(bestRow.validNLL) vs uniform \(uniform) (before training \(before), entropy \(entropy))",
                          file: file, line: line)
        XCTAssertLessThan(bestRow.validNLL, entropy + 1,
                          "valid NLL \(bestRow.validNLL) near the entropy \(entropy)", file: file, line: line)
        XCTAssertGreaterThan(bestRow.validNLL, entropy - 1.5, "cannot beat the data's entropy by much", file: file, line: line)
        XCTAssertLessThan(rows.last!.trainNLL, rows.first!.trainNLL, "train NLL falls", file: file, line: line)
        for r in rows {
            XCTAssertEqual(r.validBPD, r.validNLL / (Double(cfg.dimension) * M_LN2), accuracy: 1e-9, file: file, line: line)
        }

        // best.ckpt holds the epoch with the lowest validation NLL.
        let best = try Checkpoint.read(dir.appendingPathComponent("best.ckpt"))
        XCTAssertEqual(best.training?.bestEpoch, bestRow.epoch, file: file, line: line)
        XCTAssertEqual(state.bestEpoch, bestRow.epoch, file: file, line: line)
        XCTAssertEqual(Double(try XCTUnwrap(best.training?.bestValidNLL)), bestRow.validNLL,
                       accuracy: 1e-5 * bestRow.validNLL, file: file, line: line)
        let bestModel = try best.makeModel()
        let again = try Evaluator.evaluate(bestModel, valid, masks: cfg.kind == .made ? cfg.maskCount : nil)
        XCTAssertEqual(again.natsPerImage, bestRow.validNLL, accuracy: 1e-9 * bestRow.validNLL,
                       "best.ckpt re-evaluates to the best row", file: file, line: line)
        // last.ckpt holds the final weights.
        let last = try Checkpoint.read(dir.appendingPathComponent("last.ckpt"))
        assertSameBits(parameterBits(try last.makeModel()), parameterBits(model), file: file, line: line)
        XCTAssertEqual(last.training?.epoch, epochs, file: file, line: line)
        XCTAssertNotNil(last.optimizer, file: file, line: line)
    }

    func testMADELearns() throws { try assertLearns(try config(.made, hidden: [16])) }

    func testMADEWithMasksLearns() throws { try assertLearns(try config(.made, hidden: [16], masks: 2, ordering: .random)) }

    func testNADELearns() throws { try assertLearns(try config(.nade, hidden: [12])) }

    func testFVSBNLearns() throws { try assertLearns(try config(.fvsbn)) }

    /// With a learning rate that is too high the validation NLL goes up and down; best.ckpt
    /// must still be the lowest epoch, not the last.
    func testBestCheckpointIsTheMinimumNotTheLast() throws {
        let dir = try makeTemporaryDirectory(self)
        let small = prototypeDataset(count: 24, noise: 0.2, seed: 21)
        let model = try makeModel(try config(.made, hidden: [32]))
        try makeTrainer(model, trainingOptions(dir, epochs: 8, batchSize: 8, learningRate: 0.2),
                        train: small, valid: valid).run()
        let rows = try readMetrics(dir)
        let bestRow = rows.min { $0.validNLL < $1.validNLL }!
        let best = try Checkpoint.read(dir.appendingPathComponent("best.ckpt"))
        XCTAssertEqual(best.training?.bestEpoch, bestRow.epoch, "rows: \(rows.map(\.validNLL))")
        let again = try Evaluator.evaluate(try best.makeModel(), valid, masks: 1).natsPerImage
        XCTAssertEqual(again, bestRow.validNLL, accuracy: 1e-9 * bestRow.validNLL)
        for r in rows where r.epoch != bestRow.epoch { XCTAssertGreaterThanOrEqual(r.validNLL, bestRow.validNLL) }
    }

    /// A final model trained with the validation images has no held-out data to pick an
    /// epoch with: best.ckpt must be the last epoch even when an earlier one scored better.
    func testIncludingValidationKeepsTheLastEpoch() throws {
        let dir = try makeTemporaryDirectory(self)
        let small = prototypeDataset(count: 24, noise: 0.2, seed: 21)
        var options = trainingOptions(dir, epochs: 8, batchSize: 8, learningRate: 0.2)
        options.includeValidation = true
        try makeTrainer(try makeModel(try config(.made, hidden: [32])), options, train: small, valid: valid).run()
        let rows = try readMetrics(dir)
        let best = try Checkpoint.read(dir.appendingPathComponent("best.ckpt"))
        XCTAssertEqual(best.training?.bestEpoch, 8)
        let last = try Checkpoint.read(dir.appendingPathComponent("last.ckpt"))
        XCTAssertEqual(best.parameters.map(\.values), last.parameters.map(\.values))
        XCTAssertEqual(rows.count, 8)
    }
}

final class ValidationTests: XCTestCase {
    let binary = prototypeDataset(count: 20, seed: 1)

    func assertRejects(_ options: TrainingOptions, _ fragments: [String],
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try options.validate(), file: file, line: line) { error in
            XCTAssertTrue(error is TrainingError, "\(type(of: error))", file: file, line: line)
            for f in fragments {
                XCTAssertTrue("\(error)".contains(f), "'\(error)' mentions '\(f)'", file: file, line: line)
            }
        }
        XCTAssertThrowsError(try Trainer(model: try makeModel(try config(.fvsbn)), options: options,
                                         train: binary, valid: binary), file: file, line: line) { error in
            for f in fragments {
                XCTAssertTrue("\(error)".contains(f), "Trainer: '\(error)' mentions '\(f)'", file: file, line: line)
            }
        }
    }

    func options(_ change: (inout TrainingOptions) -> Void) -> TrainingOptions {
        var o = trainingOptions(FileManager.default.temporaryDirectory.appendingPathComponent("never-written"))
        change(&o)
        return o
    }

    func testDefaultsAreValid() throws {
        try TrainingOptions().validate()
        try options { _ in }.validate()
    }

    func testBatchSizeZero() throws { assertRejects(options { $0.batchSize = 0 }, ["batch size", "0"]) }

    func testNegativeLearningRate() throws { assertRejects(options { $0.learningRate = -0.001 }, ["learning rate", "-0.001"]) }

    func testZeroAndNaNLearningRate() throws {
        assertRejects(options { $0.learningRate = 0 }, ["learning rate"])
        assertRejects(options { $0.learningRate = .nan }, ["learning rate"])
    }

    /// An optimizer the code does not know cannot even be represented; saved options naming one
    /// (a hand-edited checkpoint) are refused when decoded, with the known ones listed.
    func testUnknownOptimizer() throws {
        var json = String(decoding: try JSONEncoder().encode(options { _ in }), as: UTF8.self)
        json = json.replacingOccurrences(of: "\"adam\"", with: "\"rmsprop\"")
        XCTAssertThrowsError(try JSONDecoder().decode(TrainingOptions.self, from: Data(json.utf8))) { error in
            for f in ["optimizer", "rmsprop", "adam", "sgd"] { XCTAssertTrue("\(error)".contains(f), "'\(error)' mentions '\(f)'") }
        }
    }

    func testNegativeEpochs() throws { assertRejects(options { $0.epochs = -1 }, ["epochs", "-1"]) }

    func testDropoutRateOutOfRange() throws {
        assertRejects(options { $0.dropout = 1 }, ["dropout", "1"])
        assertRejects(options { $0.dropout = -0.1 }, ["dropout", "-0.1"])
    }

    /// Only the convolutional models have dropout layers: asking a dense one for dropout is
    /// an error, not a silent no-op.
    func testDropoutForADenseModel() throws {
        assertTrainerRejects(try config(.nade), options { $0.dropout = 0.2 }, train: binary, valid: binary, ["dropout", "nade"])
    }

    func testBadClipAndTimeBudget() throws {
        assertRejects(options { $0.clipNorm = 0 }, ["clip"])
        assertRejects(options { $0.maxMinutes = -1 }, ["minutes"])
        assertRejects(options { $0.evalBatchSize = 0 }, ["eval batch size"])
    }

    /// Negative limits would reach ImageDataset.prefix(_:) and trap; they must be rejected up front.
    func testNegativeLimits() throws {
        assertRejects(options { $0.trainLimit = -5 }, ["-5"])
        assertRejects(options { $0.validLimit = -1 }, ["-1"])
    }

    func assertTrainerRejects(_ cfg: ModelConfig, _ options: TrainingOptions, train: ImageDataset, valid: ImageDataset,
                              _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Trainer(model: try makeModel(cfg), options: options, train: train, valid: valid),
                             file: file, line: line) { error in
            XCTAssertTrue(error is TrainingError, "\(type(of: error)): \(error)", file: file, line: line)
            for f in fragments {
                XCTAssertTrue("\(error)".contains(f), "'\(error)' mentions '\(f)'", file: file, line: line)
            }
        }
    }

    func testEightBitDataForBinaryModelWithoutDynamicBinarization() throws {
        let eight = eightBitDataset(count: 20, seed: 1)
        assertTrainerRejects(try config(.nade), options { _ in }, train: eight, valid: binary, ["256", "2"])
        assertTrainerRejects(try config(.nade), options { $0.binarization = .fixed }, train: eight, valid: binary, ["256", "2"])
    }

    func testBinaryDataForCategoricalModel() throws {
        let eight = eightBitDataset(count: 20, seed: 1)
        assertTrainerRejects(try config(.made, levels: 256), options { _ in }, train: binary, valid: eight, ["2", "256"])
    }

    func testDynamicBinarizationNeedsBinaryModel() throws {
        let eight = eightBitDataset(count: 20, seed: 1)
        assertTrainerRejects(try config(.made, levels: 256), options { $0.binarization = .dynamic }, train: eight, valid: eight,
                             ["dynamic", "binary"])
    }

    /// The validation data must match the model's levels too (8-bit pixels fed to a Bernoulli
    /// model give meaningless NLLs).
    func testEightBitValidationDataForBinaryModel() throws {
        let eight = eightBitDataset(count: 20, seed: 1)
        assertTrainerRejects(try config(.nade), options { _ in }, train: binary, valid: eight, ["256"])
        assertTrainerRejects(try config(.nade), options { $0.binarization = .dynamic }, train: eight, valid: eight, ["256"])
    }

    func testTrainingDimensionMismatch() throws {
        let wide = prototypeDataset(count: 20, height: 4, width: 5, seed: 1)
        assertTrainerRejects(try config(.fvsbn), options { _ in }, train: wide, valid: binary, ["20", "16"])
    }

    /// A validation set of the wrong size must be reported with its own size.
    func testValidationDimensionMismatch() throws {
        let wide = prototypeDataset(count: 20, height: 3, width: 3, seed: 1)
        assertTrainerRejects(try config(.fvsbn), options { _ in }, train: binary, valid: wide, ["9", "16"])
    }

    /// Resuming from a checkpoint of another model is refused, naming the checkpoint.
    func testResumeIntoWrongModel() throws {
        let dir = try makeTemporaryDirectory(self)
        let o = trainingOptions(dir, epochs: 1)
        try makeTrainer(try makeModel(try config(.nade, hidden: [6])), o, train: binary, valid: binary).run()
        let ck = try Checkpoint.read(dir.appendingPathComponent("last.ckpt"))
        XCTAssertThrowsError(try Trainer(model: try makeModel(try config(.nade, hidden: [7])), options: o,
                                         train: binary, valid: binary, resume: ck)) { error in
            XCTAssertTrue("\(error)".contains("last.ckpt"), "\(error)")
        }
    }

    /// A run that stops because the loss is not finite says so and suggests a remedy.
    func testNonFiniteLossIsReported() throws {
        let dir = try makeTemporaryDirectory(self)
        let model = try makeModel(try config(.fvsbn))
        model.parameters[1].tensor.data[0] = .nan
        let t = try makeTrainer(model, trainingOptions(dir, epochs: 1), train: binary, valid: binary)
        XCTAssertThrowsError(try t.run()) { error in
            XCTAssertTrue(error is TrainingError, "\(error)")
            XCTAssertTrue("\(error)".contains("nan"), "\(error)")
            XCTAssertTrue("\(error)".contains("learning rate"), "\(error)")
        }
    }
}
