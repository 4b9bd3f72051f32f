extension ImageDataset {
    /// Fixed binarization: a pixel becomes 1 when its value is above `threshold`, else 0.
    ///
    /// The default threshold 127 matches `value / 255 > 0.5`, i.e. `value >= 128`.
    /// A data set that is already binary is returned unchanged.
    public func binarizedFixed(threshold: UInt8 = 127) -> ImageDataset {
        guard levels != 2 else { return self }
        var result = self
        result.pixels = pixels.map { $0 > threshold ? 1 : 0 }
        result.levels = 2
        return result
    }

    /// Dynamic binarization: each pixel becomes 1 with probability `value / (levels - 1)`
    /// (`value / 255` for 8-bit data), drawn from `rng`, so a fresh call gives a fresh sample.
    public func dynamicallyBinarized(using rng: inout some RandomNumberGenerator) -> ImageDataset {
        var result = self
        let bound = UInt64(levels - 1)
        result.pixels = pixels.map { boundedRandom(below: bound, using: &rng) < UInt64($0) ? 1 : 0 }
        result.levels = 2
        return result
    }

    /// Writes a dynamically binarized sample (0 or 1 as Float) of the images at `indices` to
    /// `buffer`, which must hold `indices.count * dimension` floats.
    public func dynamicallyBinarizedBatch(indices: [Int], using rng: inout some RandomNumberGenerator,
                                          into buffer: UnsafeMutablePointer<Float>) {
        let d = dimension
        let bound = UInt64(levels - 1)
        pixels.withUnsafeBufferPointer { source in
            for (row, index) in indices.enumerated() {
                precondition(index >= 0 && index < count, "image index \(index) out of range 0..<\(count)")
                let from = source.baseAddress! + index * d
                let to = buffer + row * d
                for k in 0..<d {
                    to[k] = boundedRandom(below: bound, using: &rng) < UInt64(from[k]) ? 1 : 0
                }
            }
        }
    }
}

/// Dynamic binarization of a whole data set; see ``ImageDataset/dynamicallyBinarized(using:)``.
public func dynamicBinarization(of images: ImageDataset, using rng: inout some RandomNumberGenerator) -> ImageDataset {
    images.dynamicallyBinarized(using: &rng)
}
