/// The images of one batch: which they are, their pixels as Float, and their labels.
public struct Batch: Sendable {
    /// The images' indices in the data set, in batch order.
    public let indices: [Int]
    /// How many images of the sequence come before this batch.
    public let start: Int
    /// Values per image.
    public let dimension: Int
    /// `count * dimension` values, image after image: as stored (0/1 for binary data,
    /// 0...255 for 8-bit data) or a binary draw (`Batches.dynamicallyBinarized`).
    public let pixels: [Float]
    /// The images' labels, when the data set has labels.
    public let labels: [Int]?

    public var count: Int { indices.count }
}

/// A data set cut into batches of `size` images (the last one shorter), taking the images in
/// `order` (all of them in their own order when nil): the one way training, evaluation and
/// classification step through data.
public struct Batches: RandomAccessCollection, Sendable {
    public let data: ImageDataset
    public let size: Int
    let order: [Int]?

    public init(_ data: ImageDataset, size: Int, order: [Int]? = nil) {
        precondition(size >= 1, "batch size must be at least 1, got \(size)")
        self.data = data
        self.size = size
        self.order = order
    }

    /// Images in the sequence.
    public var images: Int { order?.count ?? data.count }
    public var startIndex: Int { 0 }
    public var endIndex: Int { (images + size - 1) / size }

    /// The data set's indices of the images in batch `k`.
    public func indices(_ k: Int) -> [Int] {
        precondition(k >= 0 && k < endIndex, "batch \(k) out of range 0..<\(endIndex)")
        let range = k * size..<Swift.min((k + 1) * size, images)
        return order.map { Array($0[range]) } ?? Array(range)
    }

    /// Batch `k`, its pixels as stored.
    public subscript(k: Int) -> Batch {
        let idx = indices(k)
        return data.batch(idx, start: k * size, pixels: data.floatBatch(indices: idx))
    }

    /// Batch `k` dynamically binarised: each pixel 1 with probability value / (levels − 1),
    /// drawn from `rng` image after image, pixel after pixel.
    public func dynamicallyBinarized(_ k: Int, using rng: inout some RandomNumberGenerator) -> Batch {
        let idx = indices(k)
        let pixels = [Float](unsafeUninitializedCapacity: idx.count * data.dimension) { buffer, initialized in
            if let base = buffer.baseAddress { data.dynamicallyBinarizedBatch(indices: idx, using: &rng, into: base) }
            initialized = idx.count * data.dimension
        }
        return data.batch(idx, start: k * size, pixels: pixels)
    }
}

extension ImageDataset {
    /// This data set in batches of `size` images, in `order` (see `Batches`).
    public func batches(of size: Int, order: [Int]? = nil) -> Batches {
        Batches(self, size: size, order: order)
    }

    /// The images at `indices` as one batch, their pixels as stored.
    public func batch(indices: [Int]) -> Batch {
        batch(indices, start: 0, pixels: floatBatch(indices: indices))
    }

    func batch(_ indices: [Int], start: Int, pixels: [Float]) -> Batch {
        Batch(indices: indices, start: start, dimension: dimension, pixels: pixels,
              labels: labels.map { labels in indices.map { labels[$0] } })
    }

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
