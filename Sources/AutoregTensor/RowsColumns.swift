import CKernels

// One row or column of a feature map, and rows or columns stacked back into one: the steps
// of PixelRNN's recurrences (van den Oord et al. 2016). A Row LSTM over an H × W image reads
// `row(i)` of its input-to-state map at each of H steps and ends with one `stack` of the H
// hidden rows; the Diagonal BiLSTM does the same with `column(j)` over the skewed map. Each
// op is one tape node holding only its own output, so a loop of T steps costs the tape
// O(T) nodes and the size of one map, not T maps: nothing is gathered step by step.

extension Tensor {
    /// Row `i` of every image: [..., H, W] → [..., W] (the H axis is dropped; `reshaped`
    /// brings it back as [..., 1, W] for a convolution, without copying). Differentiable.
    public func row(_ i: Int) -> Tensor {
        precondition(rank >= 2, "row(_:) needs a tensor of rank ≥ 2, got \(shape)")
        let h = shape[rank - 2], w = shape[rank - 1]
        precondition(i >= 0 && i < h, "row \(i) out of range 0..<\(h) for shape \(shape)")
        var outShape = shape
        outShape.remove(at: rank - 2)
        return picking(outShape: outShape, blocks: count == 0 ? 0 : count / (h * w), inner: w,
                       stride: h * w, offset: i * w)
    }

    /// Column `j` of every image: [..., H, W] → [..., H] (the W axis is dropped; `reshaped`
    /// brings it back as [..., H, 1]). Differentiable.
    public func column(_ j: Int) -> Tensor {
        precondition(rank >= 2, "column(_:) needs a tensor of rank ≥ 2, got \(shape)")
        let w = shape[rank - 1]
        precondition(j >= 0 && j < w, "column \(j) out of range 0..<\(w) for shape \(shape)")
        return picking(outShape: Array(shape.dropLast()), blocks: count == 0 ? 0 : count / w, inner: 1,
                       stride: w, offset: j)
    }

    /// Block b of the result is `inner` values of self from b·stride + offset.
    private func picking(outShape: [Int], blocks: Int, inner: Int, stride: Int, offset: Int) -> Tensor {
        let out = data.withUnsafeBufferPointer { px in
            makeArray(blocks * inner) { y in
                copyBlocks(px.baseAddress! + offset, srcStride: stride, y, dstStride: inner, blocks: blocks,
                           length: inner, accumulate: false)
            }
        }
        return Tensor(shape: outShape, data: out, inputs: [self]) { result in
            result.grad!.withUnsafeBufferPointer { pg in
                self.accumulateGrad { gx, initialized in
                    if !initialized { gx.initialize(repeating: 0, count: self.count) }
                    copyBlocks(pg.baseAddress!, srcStride: inner, gx + offset, dstStride: stride, blocks: blocks,
                               length: inner, accumulate: initialized)
                }
            }
        }
    }

    /// Stacks tensors of one shape S along a new axis: n tensors of rank k give one of rank
    /// k + 1 with n at `axis` (0 ... k; negative counts from the end of the result). Rows
    /// [B, C, W] stacked at axis 2 give [B, C, H, W]; columns [B, C, H] at axis 3 (or −1)
    /// give [B, C, H, W]. One copy forwards and one backwards: each part receives its slice of
    /// the gradient. Differentiable in every part.
    public static func stack(_ parts: [Tensor], axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "stack needs at least one tensor")
        let partShape = parts[0].shape
        for p in parts {
            precondition(p.shape == partShape, "stack: shapes \(parts.map(\.shape)) differ")
        }
        let ax = axis < 0 ? axis + partShape.count + 1 : axis
        precondition(ax >= 0 && ax <= partShape.count,
                     "stack: axis \(axis) out of range for parts of shape \(partShape)")
        let n = parts.count
        let outer = partShape[..<ax].reduce(1, *), inner = partShape[ax...].reduce(1, *)
        var outShape = partShape
        outShape.insert(n, at: ax)
        let out = makeArray(n * outer * inner) { y in
            for (k, p) in parts.enumerated() {
                p.data.withUnsafeBufferPointer { px in
                    copyBlocks(px.baseAddress!, srcStride: inner, y + k * inner, dstStride: n * inner,
                               blocks: outer, length: inner, accumulate: false)
                }
            }
        }
        return Tensor(shape: outShape, data: out, inputs: parts) { result in
            result.grad!.withUnsafeBufferPointer { pg in
                for (k, p) in parts.enumerated() {
                    p.accumulateGrad { gp, initialized in
                        copyBlocks(pg.baseAddress! + k * inner, srcStride: n * inner, gp, dstStride: inner,
                                   blocks: outer, length: inner, accumulate: initialized)
                    }
                }
            }
        }
    }
}

/// Copies (or adds, with `accumulate`) `blocks` runs of `length` floats from src + b·srcStride
/// to dst + b·dstStride. The runs must not overlap between src and dst.
@inline(__always)
func copyBlocks(_ src: UnsafePointer<Float>, srcStride: Int, _ dst: UnsafeMutablePointer<Float>, dstStride: Int,
                blocks: Int, length: Int, accumulate: Bool) {
    guard length > 0 else { return }
    if length == 1 {  // a column: one strided element per block
        if accumulate {
            for b in 0..<blocks { dst[b * dstStride] += src[b * srcStride] }
        } else {
            for b in 0..<blocks { dst[b * dstStride] = src[b * srcStride] }
        }
        return
    }
    for b in 0..<blocks {
        if accumulate {
            ar_accumulate(src + b * srcStride, dst + b * dstStride, length)
        } else {
            (dst + b * dstStride).update(from: src + b * srcStride, count: length)
        }
    }
}
