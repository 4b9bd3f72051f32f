import AutoregTensor

/// Training and evaluation passes with the batch split over the threads (`parallelBatch`):
/// each thread runs the whole network over its share of the images, on one core, and the
/// threads meet once per batch.
extension AutoregressiveModel {
    /// The batch's mean loss, −log p(x | y) averaged over its images, with its gradient
    /// added into every parameter's `grad`. `labels` (one per image) are for a
    /// class-conditional model; nil leaves the label term out. With `Gemm.threads` > 1 each
    /// thread takes a share of the images and scales its backward pass by its share's
    /// size, so the gradient is the whole batch's mean.
    public func lossAndGradient(_ pixels: Tensor, labels: [Int]? = nil) -> Float {
        let (batch, d) = batchShape(pixels, labels)
        var losses = [Float](repeating: 0, count: batch)  // one slot per worker's first image
        losses.withUnsafeMutableBufferPointer { slots in
            parallelBatch(batch) { share in
                let loss = self.shareNLL(Self.rows(pixels, share, d), labels: labels.map { Array($0[share]) }).mean()
                let weight = Float(share.count) / Float(batch)
                loss.backward(seed: [weight])
                slots[share.lowerBound] = loss.item * weight
            }
        }
        return losses.reduce(0, +)
    }

    /// −log p(x | y) of each image in nats, without a tape, the images split over the threads
    /// as in `lossAndGradient`.
    public func nllPerImage(_ pixels: Tensor, labels: [Int]? = nil) -> [Float] {
        let (batch, d) = batchShape(pixels, labels)
        var out = [Float](repeating: 0, count: batch)
        out.withUnsafeMutableBufferPointer { out in
            withoutGrad {
                parallelBatch(batch) { share in
                    let nll = self.shareNLL(Self.rows(pixels, share, d), labels: labels.map { Array($0[share]) })
                    for (i, v) in zip(share, nll.data) { out[i] = v }
                }
            }
        }
        return out
    }

    private func batchShape(_ pixels: Tensor, _ labels: [Int]?) -> (batch: Int, dimension: Int) {
        precondition(pixels.rank == 2 && pixels.shape[1] == dimension,
                     "pixels must be [batch, \(dimension)], got \(pixels.shape)")
        precondition(labels == nil || labels!.count == pixels.shape[0],
                     "\(labels?.count ?? 0) labels for a batch of \(pixels.shape[0])")
        return (pixels.shape[0], dimension)
    }

    /// Images `share` of a [batch, d] tensor, as a new leaf (a copy when it is not all of it).
    private static func rows(_ pixels: Tensor, _ share: Range<Int>, _ d: Int) -> Tensor {
        if share.count == pixels.shape[0] { return pixels }
        return Tensor(shape: [share.count, d], data: Array(pixels.data[(share.lowerBound * d)..<(share.upperBound * d)]))
    }

    /// −log p(x | y) per image: the label term for a class-conditional model given labels.
    private func shareNLL(_ pixels: Tensor, labels: [Int]?) -> Tensor {
        if let labels, let conditional = self as? any ConditionalModel {
            return conditional.nll(pixels, labels: labels)
        }
        precondition(labels == nil, "labels given to a model that is not class-conditional")
        return nll(pixels)
    }
}
