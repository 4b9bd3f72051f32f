// The Diagonal BiLSTM's change of coordinates (van den Oord et al. 2016, section 3.2 and
// figure 3): skewing offsets row r by r positions, so that each diagonal of the image becomes
// a column that a 2 × 1 convolution can step along; unskewing reads the image back.

/// Where the images [H, W] of a tensor lie in their skewed planes: element (r, j) of image p
/// is image[(p·H + r)·W + j] and band[p·plane + r·rowStep + j·colStep]. `skewed()` keeps rows
/// (rowStep W′ + 1, colStep 1 in planes [H, W′]); `skewedColumns()` makes diagonals rows
/// (rowStep H + 1, colStep H in planes [S, H]). Both directions of both ops are these copies.
private struct SkewBand {
    let planes: Int, h: Int, w: Int, plane: Int, rowStep: Int, colStep: Int

    /// band ← image, or band += image when `accumulate`; entries off the band are untouched.
    func scatter(_ image: UnsafePointer<Float>, into band: UnsafeMutablePointer<Float>, accumulate: Bool) {
        for p in 0..<planes {
            for r in 0..<h {
                copyBlocks(image + (p * h + r) * w, srcStride: 1, band + p * plane + r * rowStep, dstStride: colStep,
                           blocks: w, length: 1, accumulate: accumulate)
            }
        }
    }

    /// image ← band, or image += band when `accumulate`; entries off the band are not read.
    func gather(_ band: UnsafePointer<Float>, into image: UnsafeMutablePointer<Float>, accumulate: Bool) {
        for p in 0..<planes {
            for r in 0..<h {
                copyBlocks(band + p * plane + r * rowStep, srcStride: colStep, image + (p * h + r) * w, dstStride: 1,
                           blocks: w, length: 1, accumulate: accumulate)
            }
        }
    }
}

extension Tensor {
    /// Row r of every image moved right by r positions: [..., H, W] → [..., H, W + H − 1],
    /// out[..., r, r + j] = in[..., r, j], zero elsewhere. Diagonal d of the image (the pixels
    /// with r + j = d, from its top-right end) becomes column d of the result. Differentiable.
    public func skewed() -> Tensor {
        precondition(rank >= 2, "skewed() needs a tensor of rank ≥ 2, got \(shape)")
        let h = shape[rank - 2], w = shape[rank - 1]
        let wide = h == 0 ? w : w + h - 1
        var outShape = shape
        outShape[rank - 1] = wide
        let planes = h * w == 0 ? 0 : count / (h * w)
        return skewing(into: outShape, SkewBand(planes: planes, h: h, w: w, plane: h * wide, rowStep: wide + 1, colStep: 1))
    }

    /// The inverse of `skewed()`: [..., H, W′] → [..., H, W′ − H + 1], out[..., r, j] =
    /// in[..., r, r + j] (needs W′ ≥ H − 1). What lies outside that band is not read and gets
    /// zero gradient. `x.skewed().unskewed()` is x. Differentiable.
    public func unskewed() -> Tensor {
        precondition(rank >= 2, "unskewed() needs a tensor of rank ≥ 2, got \(shape)")
        let h = shape[rank - 2], wide = shape[rank - 1]
        let w = h == 0 ? wide : wide - h + 1
        precondition(w >= 0, "unskewed(): a skewed map of height \(h) is at least \(h - 1) wide, got \(shape)")
        var outShape = shape
        outShape[rank - 1] = w
        let planes = h * wide == 0 ? 0 : count / (h * wide)
        return unskewing(into: outShape, SkewBand(planes: planes, h: h, w: w, plane: h * wide, rowStep: wide + 1, colStep: 1))
    }

    /// `skewed().transposedInner()` in one copy: [..., H, W] → [..., W + H − 1, H],
    /// out[..., d, r] = in[..., r, d − r] (zero where d − r is outside the row): diagonal d of
    /// the image as row d, contiguous, the order in which the Diagonal BiLSTM steps through
    /// them. One map on the tape where the two ops keep two. Differentiable.
    public func skewedColumns() -> Tensor {
        precondition(rank >= 2, "skewedColumns() needs a tensor of rank ≥ 2, got \(shape)")
        let h = shape[rank - 2], w = shape[rank - 1]
        let steps = h == 0 ? w : w + h - 1
        var outShape = shape
        (outShape[rank - 2], outShape[rank - 1]) = (steps, h)
        let planes = h * w == 0 ? 0 : count / (h * w)
        return skewing(into: outShape, SkewBand(planes: planes, h: h, w: w, plane: steps * h, rowStep: h + 1, colStep: h))
    }

    /// The inverse of `skewedColumns()`, `transposedInner().unskewed()` in one copy:
    /// [..., S, H] → [..., H, S − H + 1], out[..., r, j] = in[..., r + j, r] (needs S ≥ H − 1).
    /// What lies outside that band is not read and gets zero gradient. Differentiable.
    public func unskewedColumns() -> Tensor {
        precondition(rank >= 2, "unskewedColumns() needs a tensor of rank ≥ 2, got \(shape)")
        let steps = shape[rank - 2], h = shape[rank - 1]
        let w = h == 0 ? steps : steps - h + 1
        precondition(w >= 0, "unskewedColumns(): \(h) columns need at least \(h - 1) rows, got \(shape)")
        var outShape = shape
        (outShape[rank - 2], outShape[rank - 1]) = (h, w)
        let planes = steps * h == 0 ? 0 : count / (steps * h)
        return unskewing(into: outShape, SkewBand(planes: planes, h: h, w: w, plane: steps * h, rowStep: h + 1, colStep: h))
    }

    /// The images of self placed on `band` in zeroed planes of `outShape`; the gradient is
    /// gathered back.
    private func skewing(into outShape: [Int], _ band: SkewBand) -> Tensor {
        let outCount = outShape.reduce(1, *)
        let out = data.withUnsafeBufferPointer { px in
            makeArray(outCount) { y in
                y.initialize(repeating: 0, count: outCount)
                band.scatter(px.baseAddress!, into: y, accumulate: false)
            }
        }
        return Tensor(shape: outShape, data: out, inputs: [self]) { result in
            result.grad!.withUnsafeBufferPointer { pg in
                self.accumulateGrad { gx, initialized in band.gather(pg.baseAddress!, into: gx, accumulate: initialized) }
            }
        }
    }

    /// The images read off `band` in the planes of self, as a tensor of `outShape`; the
    /// gradient is scattered back onto the band (zero off it).
    private func unskewing(into outShape: [Int], _ band: SkewBand) -> Tensor {
        let out = data.withUnsafeBufferPointer { px in
            makeArray(outShape.reduce(1, *)) { y in band.gather(px.baseAddress!, into: y, accumulate: false) }
        }
        return Tensor(shape: outShape, data: out, inputs: [self]) { result in
            result.grad!.withUnsafeBufferPointer { pg in
                self.accumulateGrad { gx, initialized in
                    if !initialized { gx.initialize(repeating: 0, count: self.count) }
                    band.scatter(pg.baseAddress!, into: gx, accumulate: initialized)
                }
            }
        }
    }

    /// The tensor mirrored along `axis` (negative counts from the end): element k of that
    /// axis becomes element n − 1 − k. Its own inverse. Differentiable.
    public func flipped(axis: Int) -> Tensor {
        let (outer, n, inner, _) = split3(axis)
        /// dst[o, n − 1 − k] (+)= src[o, k] for every block.
        func mirror(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, accumulate: Bool) {
            for o in 0..<outer {
                for k in 0..<n {
                    copyBlocks(src + (o * n + k) * inner, srcStride: 0, dst + (o * n + n - 1 - k) * inner, dstStride: 0,
                               blocks: 1, length: inner, accumulate: accumulate)
                }
            }
        }
        let out = data.withUnsafeBufferPointer { px in
            makeArray(count) { y in mirror(px.baseAddress!, y, accumulate: false) }
        }
        return Tensor(shape: shape, data: out, inputs: [self]) { result in
            result.grad!.withUnsafeBufferPointer { pg in
                self.accumulateGrad { gx, initialized in mirror(pg.baseAddress!, gx, accumulate: initialized) }
            }
        }
    }

    /// Every image mirrored left to right (the last axis, W, reversed): the Diagonal
    /// BiLSTM runs its right-to-left direction as the left-to-right one on flipped maps.
    public func flippedHorizontally() -> Tensor {
        precondition(rank >= 1, "flippedHorizontally() needs a tensor of rank ≥ 1")
        return flipped(axis: rank - 1)
    }
}
