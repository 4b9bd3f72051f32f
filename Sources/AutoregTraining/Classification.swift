import AutoregData
import AutoregModels
import AutoregTensor
import Foundation

/// Classifies images by Bayes' rule with a generative model of each class: the score of
/// class y is log p(x | y) + log p(y), and the prediction is the class with the best score.
///
/// p(x | y) comes from one class-conditional model (`ConditionalModel` with `classes` > 0)
/// or from one unconditional model per class.
public struct LikelihoodClassifier {
    /// Where the class likelihoods come from.
    public enum Source {
        case conditional(any ConditionalModel)
        case perClass([any AutoregressiveModel])
    }

    public let source: Source
    /// Number of classes.
    public let classes: Int

    /// A classifier from a class-conditional model; throws if it has no classes.
    public init(conditional model: any ConditionalModel) throws {
        guard model.classes > 0 else {
            throw ClassificationError(description: "the \(model.config.kind) model is not class-conditional (classes 0)")
        }
        source = .conditional(model)
        classes = model.classes
    }

    /// A classifier from one model per class (model y gives p(x | y)); at least two, all for
    /// images of the same size and levels.
    public init(perClass models: [any AutoregressiveModel]) throws {
        guard models.count >= 2 else {
            throw ClassificationError(description: "need one model per class, at least two; got \(models.count)")
        }
        let first = models[0].config
        for (y, m) in models.enumerated() {
            let c = m.config
            guard c.height == first.height, c.width == first.width, c.channels == first.channels, c.levels == first.levels else {
                throw ClassificationError(description: "model \(y) is for \(c.height)x\(c.width)x\(c.channels) images with "
                    + "\(c.levels) levels, model 0 for \(first.height)x\(first.width)x\(first.channels) with \(first.levels)")
            }
        }
        source = .perClass(models)
        classes = models.count
    }

    /// The configuration of the (first) model: image shape and levels.
    public var config: ModelConfig {
        switch source {
        case let .conditional(m): return m.config
        case let .perClass(ms): return ms[0].config
        }
    }

    /// log p(x | y) in nats for every image and class: `count` rows of `classes` values.
    /// Mask ensembles (MADE) average all their masks, as `Evaluator` does.
    public func logLikelihoods(_ data: ImageDataset, batchSize: Int? = nil) throws -> [[Float]] {
        let c = config
        guard data.dimension == c.dimension else {
            throw ClassificationError(description: "\(data.name) images have \(data.dimension) pixels "
                + "(\(data.height)x\(data.width)x\(data.channels)), the model \(c.dimension)")
        }
        guard data.levels == c.levels else {
            throw ClassificationError(description: "\(data.name) has \(data.levels) levels per pixel, the model \(c.levels)")
        }
        if let b = batchSize, b < 1 { throw ClassificationError(description: "batch size must be at least 1") }
        var rows = [[Float]](repeating: [Float](repeating: 0, count: classes), count: data.count)
        switch source {
        case let .conditional(model):
            let batchSize = batchSize ?? Evaluator.defaultBatchSize(for: model)
            for batch in data.batches(of: batchSize) {
                try StopRequest.check(during: "classification of \(data.name) (image \(batch.start) of \(data.count))")
                let x = batch.tensor
                for y in 0..<classes {
                    let nll = model.nllPerImage(x, labels: [Int](repeating: y, count: batch.count))
                    for (n, i) in batch.indices.enumerated() { rows[i][y] = -nll[n] }
                }
            }
        case let .perClass(models):
            var unlabelled = data
            unlabelled.labels = nil  // each model is p(x | its class): no label term
            for (y, model) in models.enumerated() {
                let masks = model is any MaskEnsemble ? model.config.maskCount : nil
                let nll = try Evaluator.perImageNLL(model, unlabelled, batchSize: batchSize, masks: masks)
                for i in 0..<data.count { rows[i][y] = -nll[i] }
            }
        }
        return rows
    }

    /// Scores, predictions and margins for every image of `data`, with log p(y) = `logPrior`.
    public func classify(_ data: ImageDataset, logPrior: [Float], batchSize: Int? = nil) throws -> Classification {
        guard logPrior.count == classes else {
            throw ClassificationError(description: "prior has \(logPrior.count) classes, the classifier \(classes)")
        }
        let scores = try logLikelihoods(data, batchSize: batchSize).map { row in zip(row, logPrior).map { $0 + $1 } }
        return Classification(scores: scores)
    }
}

/// Log prior probabilities of the classes.
public enum ClassPrior {
    /// log(1/classes) for every class.
    public static func uniform(classes: Int) -> [Float] {
        [Float](repeating: -Foundation.log(Float(classes)), count: classes)
    }

    /// Class frequencies in `labels`, with one extra count per class (so that no class gets
    /// probability zero).
    public static func frequencies(of labels: [Int], classes: Int) -> [Float] {
        var counts = [Double](repeating: 1, count: classes)
        for y in labels where y >= 0 && y < classes { counts[y] += 1 }
        let total = counts.reduce(0, +)
        return counts.map { Float(Foundation.log($0 / total)) }
    }
}

/// The scores s_y = log p(x | y) + log p(y) of a set of images, and what follows from them.
public struct Classification: Sendable {
    /// One row of `classes` scores per image.
    public let scores: [[Float]]
    /// The best-scoring class of each image (the lowest index on ties).
    public let predictions: [Int]
    /// Best minus second-best score of each image, in nats: the log posterior odds between
    /// the two likeliest classes; small means unsure.
    public let margins: [Float]

    public init(scores: [[Float]]) {
        self.scores = scores
        var predictions: [Int] = [], margins: [Float] = []
        for row in scores {
            var best = 0
            for y in row.indices where row[y] > row[best] { best = y }
            let second = row.indices.filter { $0 != best }.map { row[$0] }.max() ?? -Float.infinity
            predictions.append(best)
            margins.append(row[best] - second)
        }
        self.predictions = predictions
        self.margins = margins
    }

    /// p(y | x) for image `index`: the softmax of its scores.
    public func posterior(_ index: Int) -> [Float] {
        let row = scores[index]
        let top = row.max() ?? 0
        let e = row.map { Foundation.exp(Double($0 - top)) }
        let total = e.reduce(0, +)
        return e.map { Float($0 / total) }
    }

    /// Entropy of p(y | x) for image `index`, in nats.
    public func entropy(_ index: Int) -> Float {
        -posterior(index).reduce(Float(0)) { $0 + ($1 > 0 ? $1 * Foundation.log($1) : 0) }
    }

    /// Indices of the `count` images with the smallest margins, least sure first.
    public func leastSure(_ count: Int) -> [Int] {
        Array(margins.indices.sorted { (margins[$0], $0) < (margins[$1], $1) }.prefix(max(count, 0)))
    }
}

/// Counts of (true class, predicted class) pairs: rows are true classes, columns predictions.
public struct ConfusionMatrix: Equatable, Sendable {
    public let classes: Int
    public private(set) var counts: [[Int]]

    /// An empty matrix.
    public init(classes: Int) {
        precondition(classes >= 1, "a confusion matrix needs at least one class")
        self.classes = classes
        counts = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
    }

    /// The matrix of `truth` against `predictions` (equally many, each in 0..<classes).
    public init(truth: [Int], predictions: [Int], classes: Int) throws {
        guard classes >= 1 else { throw ClassificationError(description: "need at least one class, got \(classes)") }
        guard truth.count == predictions.count else {
            throw ClassificationError(description: "\(truth.count) true labels but \(predictions.count) predictions")
        }
        self.init(classes: classes)
        for (t, p) in zip(truth, predictions) {
            guard (0..<classes).contains(t), (0..<classes).contains(p) else {
                throw ClassificationError(description: "label pair (\(t), \(p)) outside 0..<\(classes)")
            }
            counts[t][p] += 1
        }
    }

    /// Counts one image of class `truth` predicted as `predicted`.
    public mutating func add(truth: Int, predicted: Int) {
        precondition((0..<classes).contains(truth) && (0..<classes).contains(predicted), "class outside 0..<\(classes)")
        counts[truth][predicted] += 1
    }

    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }
    /// Images on the diagonal.
    public var correct: Int { (0..<classes).reduce(0) { $0 + counts[$1][$1] } }
    /// Fraction classified correctly (0 when empty).
    public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }

    /// The matrix as aligned text, one row per true class, with row totals.
    public var table: String {
        let cell = max(6, String(counts.flatMap { $0 }.max() ?? 0).count + 1)
        func pad(_ s: String) -> String { String(repeating: " ", count: max(cell - s.count, 0)) + s }
        var lines = ["true\\pred" + (0..<classes).map { pad(String($0)) }.joined() + pad("total")]
        for t in 0..<classes {
            let name = String(t)
            lines.append(name + String(repeating: " ", count: max(9 - name.count, 0))
                + counts[t].map { pad(String($0)) }.joined() + pad(String(counts[t].reduce(0, +))))
        }
        return lines.joined(separator: "\n")
    }
}

/// Inputs a classification cannot use.
public struct ClassificationError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}
