import Foundation

/// The rows of a run's `metrics.jsonl`: one per epoch (validation), and the per-step rows
/// (`"kind": "step"`) that newer runs also write.
public struct RunMetrics {
    /// An epoch row.
    public struct Epoch {
        public var epoch: Int
        public var step: Int?
        public var trainNLL: Double?
        public var validNLL: Double?
        public var learningRate: Double?
        public var imagesPerSecond: Double?
    }

    /// A per-step row: the mean training loss since the previous one.
    public struct Step {
        public var step: Int
        public var epochs: Double?
        public var trainLoss: Double?
        public var learningRate: Double?
        public var imagesPerSecond: Double?
    }

    public var epochs: [Epoch] = []
    public var steps: [Step] = []

    public init() {}

    /// Reads `path`; a line that is not a JSON object, or an epoch row without an integer
    /// `epoch`, is an error naming the file and the line.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReportError("\(path): cannot be read (no such file, or not readable)")
        }
        try self.init(data: data, path: path)
    }

    /// Parses the bytes of a `metrics.jsonl` file called `path` (for messages).
    public init(data: Data, path: String) throws {
        for (k, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            if line.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) { continue }
            guard let row = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
                throw ReportError("\(path): line \(k + 1) is not a JSON object")
            }
            func number(_ key: String) -> Double? { (row[key] as? NSNumber)?.doubleValue }
            if row["kind"] as? String == "step" {
                guard let step = row["step"] as? Int else { throw ReportError("\(path): line \(k + 1) is a step row without an integer \"step\"") }
                steps.append(Step(step: step, epochs: number("epochs"), trainLoss: number("train_loss"),
                                  learningRate: number("learning_rate"), imagesPerSecond: number("train_images_per_s")))
            } else {
                guard let epoch = row["epoch"] as? Int else { throw ReportError("\(path): line \(k + 1) has no integer \"epoch\"") }
                epochs.append(Epoch(epoch: epoch, step: row["step"] as? Int, trainNLL: number("train_nll"),
                                    validNLL: number("valid_nll"), learningRate: number("learning_rate"),
                                    imagesPerSecond: number("train_images_per_s")))
            }
        }
    }
}

/// A problem that stops a report, with the file it concerns in its text.
public struct ReportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
