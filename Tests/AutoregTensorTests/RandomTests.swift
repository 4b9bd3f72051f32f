import AutoregTensor
import Foundation
import XCTest

final class RandomGeneratorTests: XCTestCase {
    func testSameSeedSameStream() throws {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42)
        for _ in 0..<1000 { XCTAssertEqual(a.next(), b.next()) }
        XCTAssertEqual((0..<50).map { _ in a.uniform() }, (0..<50).map { _ in b.uniform() })
        XCTAssertEqual((0..<50).map { _ in a.normal() }, (0..<50).map { _ in b.normal() })
        XCTAssertEqual(a.permutation(30), b.permutation(30))
    }

    func testDifferentSeedsDiffer() throws {
        var streams: [[UInt64]] = []
        for seed: UInt64 in [0, 1, 2, 42, 43, .max] {
            var g = RandomGenerator(seed: seed)
            streams.append((0..<8).map { _ in g.next() })
        }
        XCTAssertEqual(Set(streams.map { $0.description }).count, streams.count)
        // No shared values at all between two neighbouring seeds.
        XCTAssertTrue(Set(streams[1]).isDisjoint(with: Set(streams[2])))
    }

    func testUniformRangeAndMoments() throws {
        var g = RandomGenerator(seed: 7)
        let xs = (0..<20_000).map { _ in g.uniform() }
        XCTAssertTrue(xs.allSatisfy { $0 >= 0 && $0 < 1 })
        let mean = xs.reduce(0.0) { $0 + Double($1) } / Double(xs.count)
        XCTAssertEqual(mean, 0.5, accuracy: 0.01)
    }

    func testNormalMoments() throws {
        var g = RandomGenerator(seed: 8)
        let xs = (0..<20_000).map { _ in Double(g.normal()) }
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count)
        XCTAssertEqual(mean, 0, accuracy: 0.03)
        XCTAssertEqual(variance, 1, accuracy: 0.05)
        XCTAssertTrue(xs.allSatisfy(\.isFinite))
    }

    func testIntBelowCoversRangeUniformly() throws {
        var g = RandomGenerator(seed: 9)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<14_000 { counts[g.int(below: 7)] += 1 }
        for c in counts { XCTAssertEqual(Double(c), 2000, accuracy: 200) }
        XCTAssertEqual(g.int(below: 1), 0)
    }

    func testPermutationIsAPermutation() throws {
        var g = RandomGenerator(seed: 10)
        for n in [0, 1, 2, 5, 16, 100, 784] {
            let p = g.permutation(n)
            XCTAssertEqual(p.count, n)
            XCTAssertEqual(p.sorted(), Array(0..<n), "permutation of \(n)")
        }
        let p = g.permutation(100)
        XCTAssertNotEqual(p, Array(0..<100), "a random permutation of 100 is not the identity")
        var h = RandomGenerator(seed: 11)
        XCTAssertNotEqual(h.permutation(100), RandomGenerator(seed: 10).permutationAfter(0, 100))
    }

    func testCodableRoundTripResumesStream() throws {
        var g = RandomGenerator(seed: 12)
        for _ in 0..<17 { _ = g.next() }
        let data = try JSONEncoder().encode(g)
        var restored = try JSONDecoder().decode(RandomGenerator.self, from: data)
        for _ in 0..<100 { XCTAssertEqual(g.next(), restored.next()) }
        XCTAssertThrowsError(try JSONDecoder().decode(RandomGenerator.self, from: Data("{\"state\":[1,2]}".utf8)))
    }

    func testSeededTensorFactories() throws {
        var a = RandomGenerator(seed: 13), b = RandomGenerator(seed: 13)
        XCTAssertEqual(Tensor.randn([4, 5], std: 2, rng: &a).data, Tensor.randn([4, 5], std: 2, rng: &b).data)
        let u = Tensor.uniform([1000], low: -3, high: -1, rng: &a, requiresGrad: true)
        XCTAssertTrue(u.requiresGrad)
        XCTAssertTrue(u.data.allSatisfy { $0 >= -3 && $0 < -1 })
        XCTAssertEqual(Tensor.uniform([1000], low: -3, high: -1, rng: &b).data, u.data)
    }
}

private extension RandomGenerator {
    /// The first permutation of `n` drawn after skipping `skip` outputs.
    func permutationAfter(_ skip: Int, _ n: Int) -> [Int] {
        var g = self
        for _ in 0..<skip { _ = g.next() }
        return g.permutation(n)
    }
}
