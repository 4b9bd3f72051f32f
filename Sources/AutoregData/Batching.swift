extension ImageDataset {
    /// Writes the pixels of the images at `indices` as Float to `buffer`, which must hold
    /// `indices.count * dimension` floats. Values are unscaled: 0/1 for binary data,
    /// 0...255 for 8-bit data.
    public func floatBatch(indices: [Int], into buffer: UnsafeMutablePointer<Float>) {
        let d = dimension
        pixels.withUnsafeBufferPointer { source in
            for (row, index) in indices.enumerated() {
                precondition(index >= 0 && index < count, "image index \(index) out of range 0..<\(count)")
                let from = source.baseAddress! + index * d
                let to = buffer + row * d
                for k in 0..<d { to[k] = Float(from[k]) }
            }
        }
    }

    /// The pixels of the images at `indices` as Float, `indices.count * dimension` values.
    public func floatBatch(indices: [Int]) -> [Float] {
        [Float](unsafeUninitializedCapacity: indices.count * dimension) { buffer, initialized in
            if let base = buffer.baseAddress { floatBatch(indices: indices, into: base) }
            initialized = indices.count * dimension
        }
    }

    /// The labels of the images at `indices`; the data set must have labels.
    public func labelBatch(indices: [Int]) -> [Int] {
        guard let labels else { preconditionFailure("data set \(name) has no labels") }
        return indices.map { labels[$0] }
    }
}
