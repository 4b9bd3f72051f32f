import AutoregData
import XCTest

final class ShufflingTests: XCTestCase {
    func testIsAPermutation() throws {
        for count in [0, 1, 2, 17, 1000] {
            var rng = SplitMix64(seed: 42)
            let order = shuffledIndices(count: count, using: &rng)
            XCTAssertEqual(order.sorted(), Array(0..<count))
        }
    }

    func testSameSeedSameOrderDifferentSeedDifferentOrder() throws {
        var a = SplitMix64(seed: 7), b = SplitMix64(seed: 7), c = SplitMix64(seed: 8)
        let first = shuffledIndices(count: 500, using: &a)
        XCTAssertEqual(first, shuffledIndices(count: 500, using: &b))
        XCTAssertNotEqual(first, shuffledIndices(count: 500, using: &c))
        XCTAssertNotEqual(first, Array(0..<500))
    }

    func testBoundedRandomIsUniform() throws {
        var rng = SplitMix64(seed: 1)
        var counts = [Int](repeating: 0, count: 7)
        let draws = 70_000
        for _ in 0..<draws { counts[Int(boundedRandom(below: 7, using: &rng))] += 1 }
        // Each bucket expects 10 000 with standard deviation about 93.
        for count in counts { XCTAssertEqual(Double(count), 10_000, accuracy: 500) }
    }

    func testEveryPositionIsReachable() throws {
        // Over many shuffles of 4 items, each item lands in each position about 1/4 of the time.
        var rng = SplitMix64(seed: 3)
        var seen = [[Int]](repeating: [Int](repeating: 0, count: 4), count: 4)
        for _ in 0..<8000 {
            for (position, item) in shuffledIndices(count: 4, using: &rng).enumerated() { seen[item][position] += 1 }
        }
        for row in seen { for count in row { XCTAssertEqual(Double(count), 2000, accuracy: 200) } }
    }
}
