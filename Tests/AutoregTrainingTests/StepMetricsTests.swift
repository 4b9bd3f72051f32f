import AutoregData
import AutoregModels
import AutoregTraining
import Foundation
import XCTest

/// The per-step rows of metrics.jsonl (`"kind": "step"`): where they fall, what they hold,
/// and that a resumed run records each step once.
final class StepMetricsTests: XCTestCase {
    let train = prototypeDataset(count: 100, seed: 11)  // 10 batches of 10
    let valid = prototypeDataset(count: 20, seed: 12)

    func stepRows(_ dir: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: dir.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").compactMap { line in
            let row = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return row["kind"] as? String == "step" ? row : nil
        }
    }

    /// Every 5th step of two 10-step epochs has a row; the rows of an epoch average to its
    /// training NLL (equal batches), and they carry no `epoch` key for the epoch rows' readers.
    func testStepRowsFallEveryIntervalAndAverageToTheEpochsLoss() throws {
        let dir = try makeTemporaryDirectory(self)
        let t = try makeTrainer(try makeModel(try config(.nade, hidden: [8])), trainingOptions(dir, epochs: 2, batchSize: 10),
                                train: train, valid: valid)
        t.stepRowInterval = 5
        try t.run()
        let rows = try stepRows(dir)
        XCTAssertEqual(rows.compactMap { $0["step"] as? Int }, [5, 10, 15, 20])
        XCTAssertEqual(rows.compactMap { $0["epochs"] as? Double }, [0.5, 1, 1.5, 2])
        XCTAssertTrue(rows.allSatisfy { $0["epoch"] == nil && $0["learning_rate"] as? Double == Double(Float(0.01)) })
        let epochs = try readMetrics(dir)
        XCTAssertEqual(epochs.map(\.epoch), [1, 2], "the epoch rows are read as before")
        let losses = rows.compactMap { $0["train_loss"] as? Double }
        XCTAssertEqual(losses.count, 4)
        XCTAssertEqual((losses[0] + losses[1]) / 2, epochs[0].trainNLL, accuracy: 1e-9 * epochs[0].trainNLL)
        XCTAssertEqual((losses[2] + losses[3]) / 2, epochs[1].trainNLL, accuracy: 1e-9 * epochs[1].trainNLL)
    }

    /// A run stopped after its first step and resumed records steps 1...10 once each: a stale
    /// step row after the checkpoint's step (written by a process that died before its next
    /// checkpoint) is dropped.
    func testResumeDropsStepRowsAfterTheCheckpoint() throws {
        let dir = try makeTemporaryDirectory(self)
        var o = trainingOptions(dir, epochs: 1, batchSize: 10)
        o.maxMinutes = 1e-9  // stops right after the first step
        let first = try makeTrainer(try makeModel(try config(.nade, hidden: [8])), o, train: train, valid: valid)
        first.stepRowInterval = 1
        try first.run()
        XCTAssertEqual(try stepRows(dir).compactMap { $0["step"] as? Int }, [1])
        let h = try FileHandle(forWritingTo: dir.appendingPathComponent("metrics.jsonl"))
        try h.seekToEnd()
        try h.write(contentsOf: Data("{\"kind\":\"step\",\"step\":7,\"train_loss\":1}\n".utf8))
        try h.close()
        let ck = try Checkpoint.read(from: dir.appendingPathComponent("last.ckpt").path)
        let second = try makeTrainer(try ck.makeModel(), trainingOptions(dir, epochs: 1, batchSize: 10), train: train,
                                     valid: valid, resume: ck)
        second.stepRowInterval = 1
        try second.run()
        XCTAssertEqual(try stepRows(dir).compactMap { $0["step"] as? Int }, Array(1...10))
        XCTAssertEqual(try readMetrics(dir).map(\.epoch), [1])
    }
}
