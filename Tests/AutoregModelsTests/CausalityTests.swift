import AutoregTestSupport
import AutoregModels
import AutoregNN
import AutoregTensor
import XCTest

/// The autoregressive property, checked through gradients: ∂ logit_i / ∂ x_j must be exactly
/// zero unless pixel j comes strictly before pixel i in the model's `ordering`.
final class CausalityTests: XCTestCase {
    struct Report {
        /// Descriptions of forbidden non-zero gradients (future, self, or another image).
        var violations: [String] = []
        /// For each checked pixel i: how many earlier pixels j have ∂ logit_i / ∂ x_j ≠ 0.
        var dependencies: [Int: Int] = [:]
        /// For each checked pixel i: how many pixels come before it.
        var earlier: [Int: Int] = [:]
    }

    /// One forward and one backward pass for all `positions` at once: row r of the batch is a
    /// random image whose logit `positions[r]` is seeded (all levels of that pixel, with
    /// random weights, for categorical models); one extra, unseeded image must get no
    /// gradient at all. Images in a batch are independent (checked in ShapeTests and by the
    /// extra image), so row r of the input gradient is ∂ logit_{positions[r]} / ∂ x.
    func causality(_ model: any AutoregressiveModel, positions: [Int], seed: UInt64) -> Report {
        let d = model.dimension, levels = model.config.levels
        let ordering = model.ordering
        var report = Report()
        guard ordering.sorted() == Array(0..<d) else {
            report.violations.append("ordering is not a permutation of 0..<\(d)")
            return report
        }
        let rank = ranks(ordering)
        let rows = positions.count
        let x = randomPixels(batch: rows + 1, dimension: d, levels: levels, seed: seed, requiresGrad: true)
        let out = model.logits(x)
        var rng = RandomGenerator(seed: seed ^ 0xC0FFEE)
        var seedGrad = [Float](repeating: 0, count: out.count)
        for (r, i) in positions.enumerated() {
            if levels == 2 { seedGrad[r * d + i] = 1 } else {
                for l in 0..<levels { seedGrad[(r * d + i) * levels + l] = rng.normal() }
            }
        }
        out.backward(seed: seedGrad)
        let g = x.grad ?? [Float](repeating: 0, count: x.count)
        for (r, i) in positions.enumerated() {
            var deps = 0
            for j in 0..<d where g[r * d + j] != 0 {
                if rank[j] < rank[i] { deps += 1 } else if report.violations.count < 20 {
                    report.violations.append("logit \(i) (step \(rank[i])) depends on pixel \(j) (step \(rank[j])): \(g[r * d + j])")
                }
            }
            report.dependencies[i] = deps
            report.earlier[i] = rank[i]
        }
        for j in 0..<d where g[rows * d + j] != 0 && report.violations.count < 20 {
            report.violations.append("pixel \(j) of an image whose logits were not seeded got a gradient")
        }
        return report
    }

    enum Converse {
        /// Every earlier pixel must have a non-zero gradient.
        case allEarlier
        /// Connectivity is sparse (MADE without direct connections, where masks and dead ReLUs
        /// cut paths): at least `fraction` of all (i, earlier j) pairs, and at least one earlier
        /// pixel for the last pixel of the ordering.
        case atLeast(fraction: Double)
    }

    func assertCausal(_ model: any AutoregressiveModel, positions: [Int]? = nil, converse: Converse,
                      seed: UInt64 = 1, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        let d = model.dimension
        let report = causality(model, positions: positions ?? Array(0..<d), seed: seed)
        XCTAssertTrue(report.violations.isEmpty, "\(label): " + report.violations.joined(separator: "\n"), file: file, line: line)
        switch converse {
        case .allEarlier:
            for (i, deps) in report.dependencies where deps != report.earlier[i]! {
                XCTFail("\(label): logit \(i) depends on \(deps) of its \(report.earlier[i]!) earlier pixels", file: file, line: line)
            }
        case let .atLeast(fraction):
            let pairs = report.earlier.values.reduce(0, +), deps = report.dependencies.values.reduce(0, +)
            XCTAssertGreaterThanOrEqual(Double(deps), fraction * Double(pairs),
                                        "\(label): only \(deps) of \(pairs) allowed dependencies are present", file: file, line: line)
            // The pixel generated last can see the most; it must see something.
            let last = model.ordering[d - 1]
            if let n = report.dependencies[last], n == 0 {
                XCTFail("\(label): the last pixel, \(last), depends on no pixel at all", file: file, line: line)
            }
        }
    }

    /// ~20 output positions of a 28×28 image: the first three and the last in the
    /// ordering, plus seeded random ones.
    func samplePositions(_ model: any AutoregressiveModel, seed: UInt64) -> [Int] {
        var rng = RandomGenerator(seed: seed)
        let o = model.ordering
        var p = [o[0], o[1], o[2], o[o.count - 1]]
        while p.count < 20 { let k = rng.int(below: o.count); if !p.contains(k) { p.append(k) } }
        return p
    }

    // MARK: - FVSBN

    func testFVSBNExhaustive4x4() throws {
        for ordering in PixelOrdering.allCases {
            let model = buildModel(try makeConfig(.fvsbn, 4, 4, ordering: ordering, seed: 2))
            randomizeParameters(model, seed: 3)  // FVSBN starts at zero weights
            assertCausal(model, converse: .allEarlier, "FVSBN \(ordering)")
        }
    }

    func testFVSBNSampled28x28() throws {
        for ordering in PixelOrdering.allCases {
            let model = buildModel(try makeConfig(.fvsbn, 28, 28, ordering: ordering, seed: 4))
            randomizeParameters(model, seed: 5)
            assertCausal(model, positions: samplePositions(model, seed: 6), converse: .allEarlier, "FVSBN 28x28 \(ordering)")
        }
    }

    func testFVSBNOrderings() throws {
        let natural = buildModel(try makeConfig(.fvsbn, 4, 4, ordering: .natural))
        XCTAssertEqual(natural.ordering, Array(0..<16))
        let random = buildModel(try makeConfig(.fvsbn, 4, 4, ordering: .random))
        XCTAssertNotEqual(random.ordering, Array(0..<16))
    }

    // MARK: - NADE

    func testNADEExhaustive4x4() throws {
        for ordering in PixelOrdering.allCases {
            let model = buildModel(try makeConfig(.nade, 4, 4, hidden: [8], ordering: ordering, seed: 7))
            perturbParameters(model, std: 0.3, seed: 8)
            assertCausal(model, converse: .allEarlier, "NADE \(ordering)")
            // Untrained, as constructed.
            assertCausal(buildModel(try makeConfig(.nade, 4, 4, hidden: [8], ordering: ordering, seed: 9)),
                         converse: .allEarlier, "NADE \(ordering) untrained")
        }
        XCTAssertNotEqual(buildModel(try makeConfig(.nade, 4, 4, ordering: .random)).ordering, Array(0..<16))
    }

    func testNADESampled28x28() throws {
        for ordering in PixelOrdering.allCases {
            let model = buildModel(try makeConfig(.nade, 28, 28, hidden: [4], ordering: ordering, seed: 10))
            assertCausal(model, positions: samplePositions(model, seed: 11), converse: .allEarlier, "NADE 28x28 \(ordering)")
        }
    }

    // MARK: - MADE

    func testMADEExhaustive4x4() throws {
        for levels in [2, 256] {
            for hidden in [[12], [12, 10]] {
                for ordering in PixelOrdering.allCases {
                    for direct in [false, true] {
                        let config = try makeConfig(.made, 4, 4, levels: levels, hidden: hidden, masks: 3,
                                                ordering: ordering, direct: direct, seed: 12)
                        let made = try! MADE(config: config)
                        perturbParameters(made, std: 0.1, seed: 13)
                        var orderings: [[Int]] = []
                        for mask in 0..<3 {
                            made.applyMask(mask)
                            orderings.append(made.ordering)
                            assertCausal(made, converse: direct ? .allEarlier : .atLeast(fraction: 0.25), seed: UInt64(mask),
                                         "MADE levels \(levels) hidden \(hidden) \(ordering) direct \(direct) mask \(mask)")
                        }
                        if ordering == .random {
                            XCTAssertGreaterThan(Set(orderings.map { $0.description }).count, 1,
                                                 "the random masks should use different orderings")
                        } else {
                            XCTAssertTrue(orderings.allSatisfy { $0 == Array(0..<16) })
                        }
                    }
                }
            }
        }
    }

    /// With hidden layers wide enough to hold every degree 1...D−1 and every ReLU alive
    /// (small weights, positive hidden biases), a correct MADE lets pixel i see every earlier
    /// pixel: masks that are too strict fail here even though they stay autoregressive.
    func testWideMADESeesEveryEarlierPixel() throws {
        for levels in [2, 256] {
            for hidden in [[96], [96, 96]] {
                for ordering in PixelOrdering.allCases {
                    let config = try makeConfig(.made, 4, 4, levels: levels, hidden: hidden, masks: 2, ordering: ordering, seed: 30)
                    let made = try! MADE(config: config)
                    for p in made.parameters {
                        if p.name.hasSuffix(".weight") { p.tensor.data = p.tensor.data.map { $0 * 0.1 } }
                        if p.name.hasPrefix("hidden") && p.name.hasSuffix(".bias") { p.tensor.data = p.tensor.data.map { _ in 1 } }
                    }
                    for mask in 0..<2 {
                        made.applyMask(mask)
                        assertCausal(made, converse: .allEarlier, seed: 31,
                                     "wide MADE levels \(levels) hidden \(hidden) \(ordering) mask \(mask)")
                    }
                }
            }
        }
    }

    func testMADESampled28x28() throws {
        let configs = [
            try makeConfig(.made, 28, 28, hidden: [16], ordering: .natural, seed: 14),
            try makeConfig(.made, 28, 28, hidden: [16, 16], masks: 2, ordering: .random, direct: true, seed: 15),
            try makeConfig(.made, 28, 28, levels: 256, hidden: [8], ordering: .random, seed: 16),
            try makeConfig(.made, 28, 28, levels: 256, hidden: [8, 8], masks: 2, ordering: .natural, seed: 17),
        ]
        for config in configs {
            let made = try! MADE(config: config)
            // With so few hidden units and zero biases whole ReLU layers can be dead for an
            // image; positive hidden biases keep paths open so the converse check means something.
            for p in made.parameters where p.name.hasPrefix("hidden") && p.name.hasSuffix(".bias") {
                p.tensor.data = p.tensor.data.map { _ in 0.5 }
            }
            for mask in 0..<config.masks {
                made.applyMask(mask)
                assertCausal(made, positions: samplePositions(made, seed: 18 + UInt64(mask)),
                             converse: config.directConnections ? .allEarlier : .atLeast(fraction: 0.05),
                             "MADE 28x28 levels \(config.levels) hidden \(config.hidden) \(config.ordering) mask \(mask)")
            }
        }
    }

    /// The checker itself must notice a model that peeks at the pixel it predicts.
    func testCheckerDetectsLeakyModel() throws {
        let model = buildModel(try makeConfig(.fvsbn, 2, 2, seed: 19))
        let leaky = LeakyModel(base: model)
        let report = causality(leaky, positions: Array(0..<4), seed: 20)
        XCTAssertFalse(report.violations.isEmpty)
        // And a model that mixes images of a batch (logit i sees pixel i of the other images).
        let mixing = MixingModel(base: model)
        XCTAssertTrue(causality(model, positions: Array(0..<4), seed: 21).violations.isEmpty)
        XCTAssertFalse(causality(mixing, positions: Array(0..<4), seed: 21).violations.isEmpty)
    }
}

/// An FVSBN whose logit i also sees pixel i of every other image in the batch.
private final class MixingModel: AutoregressiveModel {
    let base: any AutoregressiveModel
    init(base: any AutoregressiveModel) { self.base = base }
    var config: ModelConfig { base.config }
    var ordering: [Int] { base.ordering }
    var parameters: [(name: String, tensor: Tensor)] { base.parameters }
    func logits(_ pixels: Tensor) -> Tensor { base.logits(pixels) + pixels.sum(axis: 0) - pixels }
}

/// An FVSBN whose logits also see the predicted pixel itself (x_i added to logit i).
private final class LeakyModel: AutoregressiveModel {
    let base: any AutoregressiveModel
    init(base: any AutoregressiveModel) { self.base = base }
    var config: ModelConfig { base.config }
    var ordering: [Int] { base.ordering }
    var parameters: [(name: String, tensor: Tensor)] { base.parameters }
    func logits(_ pixels: Tensor) -> Tensor { base.logits(pixels) + pixels }
}
