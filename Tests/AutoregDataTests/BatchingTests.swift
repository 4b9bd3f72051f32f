import AutoregData
import XCTest

final class BatchingTests: XCTestCase {
    /// Seven 1×2 8-bit images, image i holding (10i, 10i + 1), labelled 100 + i.
    let data = ImageDataset(name: "t", pixels: (0..<7).flatMap { [UInt8(10 * $0), UInt8(10 * $0 + 1)] }, count: 7,
                            height: 1, width: 2, levels: 256, labels: (0..<7).map { 100 + $0 }, classes: 107)

    func testBatchesCoverEveryImageOnceInOrderWithAShortLastBatch() {
        let batches = data.batches(of: 3)
        XCTAssertEqual(batches.count, 3)
        XCTAssertEqual(batches.map(\.indices), [[0, 1, 2], [3, 4, 5], [6]])
        XCTAssertEqual(batches.map(\.start), [0, 3, 6])
        XCTAssertEqual(batches.flatMap(\.pixels), data.pixels.map(Float.init), "pixels as stored, image after image")
        XCTAssertEqual(batches.flatMap { $0.labels ?? [] }, data.labels)
        XCTAssertEqual(batches[2].pixels, [60, 61])
        XCTAssertEqual(data.batches(of: 7).count, 1)
        XCTAssertEqual(data.batches(of: 100).map(\.count), [7])
        XCTAssertEqual(data.prefix(0).batches(of: 3).count, 0, "no images, no batches")
    }

    func testBatchesFollowAGivenOrder() {
        let order = [5, 0, 6, 2, 2]
        let batches = data.batches(of: 2, order: order)
        XCTAssertEqual(batches.count, 3)
        XCTAssertEqual(batches.map(\.indices), [[5, 0], [6, 2], [2]])
        XCTAssertEqual(batches[0].pixels, [50, 51, 0, 1])
        XCTAssertEqual(batches[1].labels, [106, 102])
        XCTAssertEqual(batches.map(\.start), [0, 2, 4])
        let one = data.batch(indices: [4, 1])
        XCTAssertEqual(one.pixels, data.floatBatch(indices: [4, 1]))
        XCTAssertEqual(one.labels, [104, 101])
        XCTAssertEqual(one.dimension, 2)
    }

    func testUnlabelledDataGivesNoLabels() {
        var unlabelled = data
        unlabelled.labels = nil
        XCTAssertTrue(unlabelled.batches(of: 4).allSatisfy { $0.labels == nil })
    }

    /// Batch after batch from one generator draws what one pass over the whole order draws,
    /// and leaves the generator where that pass leaves it.
    func testDynamicBinarizationDrawsImageAfterImageFromTheGenerator() {
        let order = [3, 1, 4, 1, 5, 0, 6]
        let batches = data.batches(of: 3, order: order)
        var rng = SplitMix64(seed: 11), whole = SplitMix64(seed: 11)
        let drawn = batches.indices.flatMap { batches.dynamicallyBinarized($0, using: &rng).pixels }
        var expected = [Float](repeating: -1, count: order.count * data.dimension)
        expected.withUnsafeMutableBufferPointer { data.dynamicallyBinarizedBatch(indices: order, using: &whole, into: $0.baseAddress!) }
        XCTAssertEqual(drawn, expected)
        XCTAssertTrue(drawn.allSatisfy { $0 == 0 || $0 == 1 })
        XCTAssertEqual(rng.next(), whole.next())
        XCTAssertEqual(batches.dynamicallyBinarized(1, using: &rng).labels, [101, 105, 100])
    }
}
