import Foundation

/// Where the samplers' draws take their uniform numbers from: a generator, or numbers drawn
/// from one beforehand (`ReplayedUniforms`), so that several threads can draw the images of
/// one sample and still use the generator's stream in its sequential order.
public protocol UniformSource {
    /// Uniform in [0, 1).
    mutating func uniform() -> Float
}

/// Uniform numbers drawn beforehand, handed out in order from `start`; reading past the end
/// traps.
public struct ReplayedUniforms: UniformSource {
    public let values: [Float]
    public private(set) var position: Int

    public init(_ values: [Float], from start: Int = 0) {
        precondition(start >= 0 && start <= values.count, "start \(start) outside 0...\(values.count)")
        (self.values, position) = (values, start)
    }

    public mutating func uniform() -> Float {
        precondition(position < values.count, "replayed uniforms exhausted after \(values.count)")
        defer { position += 1 }
        return values[position]
    }
}

/// A small, fast, seedable generator (xoshiro256**, seeded through SplitMix64).
/// The same seed gives the same stream on every platform, which makes runs reproducible.
public struct RandomGenerator: RandomNumberGenerator, UniformSource, Codable, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var z = seed
        func splitmix() -> UInt64 {
            z &+= 0x9E37_79B9_7F4A_7C15
            var x = z
            x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
            x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
            return x ^ (x >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = (s.3 << 45) | (s.3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform integer in 0..<n, without modulo bias.
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        let limit = UInt64.max - UInt64.max % bound
        while true {
            let v = next()
            if v < limit { return Int(v % bound) }
        }
    }

    /// Standard normal by the Box–Muller transform.
    public mutating func normal() -> Float {
        let u1 = max(Double(next() >> 11) * 0x1p-53, Double.leastNonzeroMagnitude)
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }

    /// A permutation of 0..<n (Fisher–Yates), independent of the standard library's shuffle.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, int(below: i + 1)) } }
        return p
    }

    // Codable: the four state words, so a checkpoint can resume the exact stream.
    enum CodingKeys: CodingKey { case state }
    public init(from decoder: Decoder) throws {
        let w = try decoder.container(keyedBy: CodingKeys.self).decode([UInt64].self, forKey: .state)
        guard w.count == 4 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "generator state needs 4 words"))
        }
        s = (w[0], w[1], w[2], w[3])
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode([s.0, s.1, s.2, s.3], forKey: .state)
    }
}

extension Tensor {
    /// Normal(0, std²) values.
    public static func randn(_ shape: [Int], std: Float = 1, rng: inout RandomGenerator,
                             requiresGrad: Bool = false) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, data: (0..<n).map { _ in rng.normal() * std }, requiresGrad: requiresGrad)
    }

    /// Uniform(low, high) values.
    public static func uniform(_ shape: [Int], low: Float, high: Float, rng: inout RandomGenerator,
                               requiresGrad: Bool = false) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, data: (0..<n).map { _ in low + (high - low) * rng.uniform() },
                      requiresGrad: requiresGrad)
    }
}
