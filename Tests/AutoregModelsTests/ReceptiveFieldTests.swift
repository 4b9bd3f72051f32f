import AutoregTestSupport
import AutoregModels
import AutoregTensor
import XCTest

/// `receptiveField` against what the architectures allow: exact zeros after the chosen pixel,
/// PixelCNN's blind spot where its geometry predicts it, none for the gated PixelCNN.
final class ReceptiveFieldTests: XCTestCase {
    func pixelCNN(height: Int = 8, width: Int = 8, channels: Int = 1, hidden: Int = 16, layers: Int,
                  levels: Int = 2) throws -> any AutoregressiveModel {
        try makeModel(try ModelConfig(kind: .pixelcnn, height: height, width: width, channels: channels, levels: levels,
                                  seed: 3, hiddenChannels: hidden, layers: layers))
    }

    /// The input pixels a raster-order PixelCNN's output at `p` can reach: residual blocks move
    /// through 3×3 mask-B offsets, then the 7×7 mask-A input layer; paths stay inside the image.
    func reachable(row: Int, column: Int, height: Int, width: Int, layers: Int, firstKernel: Int = 7) -> Set<Int> {
        let maskB = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 0)]
        let r = firstKernel / 2
        var maskA: [(Int, Int)] = []
        for dy in -r...0 { for dx in -r...r where dy < 0 || dx < 0 { maskA.append((dy, dx)) } }
        func inside(_ y: Int, _ x: Int) -> Bool { y >= 0 && y < height && x >= 0 && x < width }
        var frontier: Set<Int> = [row * width + column]
        for _ in 0..<layers {
            var next = frontier
            for q in frontier {
                for (dy, dx) in maskB where inside(q / width + dy, q % width + dx) { next.insert((q / width + dy) * width + q % width + dx) }
            }
            frontier = next
        }
        var inputs = Set<Int>()
        for q in frontier {
            for (dy, dx) in maskA where inside(q / width + dy, q % width + dx) { inputs.insert((q / width + dy) * width + q % width + dx) }
        }
        return inputs
    }

    func nonZero(_ field: ReceptiveField) -> Set<Int> {
        Set(field.pixelGradient.indices.filter { field.pixelGradient[$0] != 0 })
    }

    func testPixelCNNFieldIsExactlyItsGeometry() throws {
        for layers in [1, 3, 6] {
            let model = try pixelCNN(layers: layers)
            for (row, column) in [(0, 0), (0, 5), (3, 3), (5, 1), (7, 7)] {
                let field = try receptiveField(of: model, row: row, column: column)
                XCTAssertEqual(nonZero(field), reachable(row: row, column: column, height: 8, width: 8, layers: layers),
                               "pixelcnn \(layers) layers, pixel (\(row),\(column))")
                XCTAssertEqual(field.leaks, [], "nothing at or after the pixel")
                for q in (row * 8 + column)..<64 { XCTAssertEqual(field.pixelGradient[q], 0, "pixel \(q) is not before (\(row),\(column))") }
            }
        }
    }

    /// However deep, PixelCNN never sees the wedge above and to the right: (5, 2) cannot
    /// reach (4, 6) or (4, 7), which raster order allows.
    func testPixelCNNBlindSpotPersistsWithDepth() throws {
        let field = try receptiveField(of: try pixelCNN(layers: 10), row: 5, column: 2)
        XCTAssertGreaterThan(field.blindSpot.count, 0)
        XCTAssertTrue(field.blindSpot.contains(4 * 8 + 6) && field.blindSpot.contains(4 * 8 + 7), "\(field.blindSpot)")
        XCTAssertTrue(field.allowed[4 * 8 + 7])
        XCTAssertTrue(field.blindSpotWithinExtent.contains(4 * 8 + 7), "a hole inside the field, not out of reach")
        XCTAssertEqual(field.dependences.count + field.blindSpot.count, 5 * 8 + 2)
        // The pixel at the left edge of the same row is seen: the field is not simply empty.
        XCTAssertGreaterThan(field.pixelGradient[5 * 8], 0)
    }

    /// The gated PixelCNN's vertical and horizontal stacks cover everything before the pixel:
    /// with enough layers, every allowed pixel has a non-zero gradient and nothing else does.
    func testGatedPixelCNNHasNoBlindSpot() throws {
        let model = try makeModel(try ModelConfig(kind: .gatedPixelCNN, height: 8, width: 8, seed: 5, hiddenChannels: 8, layers: 7))
        for p in 0..<64 {
            let field = try receptiveField(of: model, row: p / 8, column: p % 8, samples: 2, seed: UInt64(p))
            XCTAssertEqual(field.blindSpot, [], "pixel \(p)")
            XCTAssertEqual(field.dependences.count, p, "pixel \(p) sees every earlier pixel")
            XCTAssertEqual(field.leaks, [], "pixel \(p)")
            XCTAssertTrue(field.pixelGradient[p...].allSatisfy { $0 == 0 }, "pixel \(p): zero at and after it")
        }
        // Two blocks are too shallow to see far: pixels out of reach count as zero-gradient too.
        // They are out of reach, not holes: none lies inside the rows and columns the field spans.
        let shallow = try makeModel(try ModelConfig(kind: .gatedPixelCNN, height: 8, width: 8, seed: 5, hiddenChannels: 8, layers: 2))
        let near = try receptiveField(of: shallow, row: 7, column: 4)
        XCTAssertGreaterThan(near.blindSpot.count, 0)
        XCTAssertEqual(near.blindSpotWithinExtent, [])
    }

    /// Colour: the outputs at a pixel depend on its R and G (B's conditional) but not on its B.
    func testColourChannelsOfTheChosenPixel() throws {
        let model = try pixelCNN(height: 5, width: 5, channels: 3, hidden: 12, layers: 2, levels: 256)
        let field = try receptiveField(of: model, row: 2, column: 2)
        let p = 2 * 5 + 2
        XCTAssertEqual(field.gradient.count, 75)
        XCTAssertGreaterThan(field.gradient[p * 3], 0, "R of the pixel feeds G's and B's outputs")
        XCTAssertGreaterThan(field.gradient[p * 3 + 1], 0, "G of the pixel feeds B's output")
        XCTAssertEqual(field.gradient[p * 3 + 2], 0, "B of the pixel feeds nothing at that pixel")
        XCTAssertEqual(field.leaks, [])
        XCTAssertTrue(field.gradient[((p + 1) * 3)...].allSatisfy { $0 == 0 })
    }

    /// Dense models: the field follows the ordering (random for MADE), with no blind spot.
    func testDenseModelsFollowTheirOrdering() throws {
        let fvsbn = try makeModel(try ModelConfig(kind: .fvsbn, height: 4, width: 4, seed: 1))
        for p in fvsbn.parameters { p.tensor.data = p.tensor.data.indices.map { Float($0 % 7) * 0.1 - 0.35 } }  // never 0
        let f = try receptiveField(of: fvsbn, row: 2, column: 1)
        XCTAssertEqual(f.dependences.count, 9)
        XCTAssertEqual(f.blindSpot, [])
        XCTAssertEqual(f.leaks, [])

        let made = try makeModel(try ModelConfig(kind: .made, height: 4, width: 4, hidden: [64], ordering: .random, seed: 2))
        let rank = Dictionary(uniqueKeysWithValues: made.ordering.enumerated().map { ($1, $0) })
        let g = try receptiveField(of: made, row: 1, column: 3)
        XCTAssertEqual(g.allowed, (0..<16).map { rank[$0]! < rank[7]! }, "allowed = earlier in MADE's ordering")
        XCTAssertEqual(g.leaks, [])
        XCTAssertTrue(nonZero(g).isSubset(of: Set((0..<16).filter { g.allowed[$0] })))
    }

    func testInputsAndErrors() throws {
        let model = try pixelCNN(layers: 2)
        for input in ReceptiveFieldInput.allCases {
            let field = try receptiveField(of: model, row: 4, column: 4, input: input)
            XCTAssertEqual(field.leaks, [], "\(input)")
            XCTAssertTrue(field.gradient.allSatisfy { $0.isFinite && $0 >= 0 })
        }
        XCTAssertEqual(try receptiveField(of: model, row: 3, column: 3, seed: 9).gradient,
                       try receptiveField(of: model, row: 3, column: 3, seed: 9).gradient, "seeded: reproducible")
        XCTAssertThrowsError(try receptiveField(of: model, row: 8, column: 0)) { error in
            XCTAssertTrue("\(error)".contains("8x8"), "\(error)")
        }
        XCTAssertThrowsError(try receptiveField(of: model, row: 0, column: -1))
        XCTAssertThrowsError(try receptiveField(of: model, row: 0, column: 0, samples: 0))
    }

    /// Measuring does not disturb training state: parameter gradients are left as they were.
    func testParameterGradientsAreRestored() throws {
        let model = try pixelCNN(layers: 1)
        let before = model.parameters.map(\.tensor.grad)
        XCTAssertTrue(before.allSatisfy { $0 == nil })
        _ = try receptiveField(of: model, row: 5, column: 5)
        XCTAssertTrue(model.parameters.allSatisfy { $0.tensor.grad == nil })
    }
}
