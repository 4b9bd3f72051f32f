/// A uniformly distributed integer in `0..<bound`, without modulo bias.
///
/// Uses Lemire's multiply-and-reject method on `rng.next()`, so the sequence of results for a
/// given generator state is fixed by this code, not by the standard library.
public func boundedRandom(below bound: UInt64, using rng: inout some RandomNumberGenerator) -> UInt64 {
    precondition(bound > 0, "bound must be positive")
    var product = rng.next().multipliedFullWidth(by: bound)
    if product.low < bound {
        // Reject the few low parts that would make some results more likely than others.
        let threshold = (0 &- bound) % bound
        while product.low < threshold {
            product = rng.next().multipliedFullWidth(by: bound)
        }
    }
    return product.high
}

/// A random permutation of `0..<count`, by Fisher–Yates with ``boundedRandom(below:using:)``.
///
/// The order depends only on the generator's output, so a seeded generator gives the same
/// order on every toolchain.
public func shuffledIndices(count: Int, using rng: inout some RandomNumberGenerator) -> [Int] {
    precondition(count >= 0, "count must not be negative")
    var indices = Array(0..<count)
    var i = count - 1
    while i > 0 {
        let j = Int(boundedRandom(below: UInt64(i + 1), using: &rng))
        indices.swapAt(i, j)
        i -= 1
    }
    return indices
}
