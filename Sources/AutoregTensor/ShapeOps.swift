import CKernels

extension Tensor {
    /// Joins tensors along `axis`; all other dimensions must agree.
    public static func concat(_ parts: [Tensor], axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "concat needs at least one tensor")
        let first = parts[0]
        let ax = first.normalizedAxis(axis)
        for p in parts {
            precondition(p.rank == first.rank
                && (0..<p.rank).allSatisfy { $0 == ax || p.shape[$0] == first.shape[$0] },
                "concat along \(axis): shapes \(parts.map(\.shape)) disagree")
        }
        let outer = first.shape[..<ax].reduce(1, *)
        let inner = first.shape[(ax + 1)...].reduce(1, *)
        let widths = parts.map { $0.shape[ax] * inner }
        let total = widths.reduce(0, +)
        var outShape = first.shape
        outShape[ax] = parts.map { $0.shape[ax] }.reduce(0, +)
        var out = [Float](repeating: 0, count: outer * total)
        var offset = 0
        for (p, w) in zip(parts, widths) {
            for o in 0..<outer {
                out.replaceSubrange(o * total + offset ..< o * total + offset + w,
                                    with: p.data[o * w ..< (o + 1) * w])
            }
            offset += w
        }
        return Tensor(shape: outShape, data: out, inputs: parts) { result in
            let g = result.grad!
            var offset = 0
            for (p, w) in zip(parts, widths) {
                p.accumulateGrad { gp in
                    for o in 0..<outer {
                        for k in 0..<w { gp[o * w + k] += g[o * total + offset + k] }
                    }
                }
                offset += w
            }
        }
    }

    /// The last two axes swapped: [..., R, C] → [..., C, R], each trailing R×C matrix
    /// transposed (a copy, not a view). Converts channels-first feature maps [B, C, H·W] to
    /// channels-last [B, H·W, C] and back.
    public func transposedInner() -> Tensor {
        precondition(rank >= 2, "transposedInner needs at least two axes, got shape \(shape)")
        let rows = shape[rank - 2], cols = shape[rank - 1], plane = rows * cols
        let matrices = plane == 0 ? 0 : count / plane
        var outShape = shape
        outShape.swapAt(rank - 2, rank - 1)
        let out = data.withUnsafeBufferPointer { px in
            makeArray(count) { y in
                for n in 0..<matrices { ar_transpose(px.baseAddress! + n * plane, y + n * plane, rows, cols, 0) }
            }
        }
        return Tensor(shape: outShape, data: out, inputs: [self]) { result in
            result.grad!.withUnsafeBufferPointer { pg in
                self.accumulateGrad { gx in
                    for n in 0..<matrices { ar_transpose(pg.baseAddress! + n * plane, gx + n * plane, cols, rows, 1) }
                }
            }
        }
    }

    /// The sub-tensor `start ..< start + length` along `axis`.
    public func slice(axis: Int, start: Int, length: Int) -> Tensor {
        let (outer, n, inner, ax) = split3(axis)
        precondition(start >= 0 && length >= 0 && start + length <= n,
                     "slice \(start)..<\(start + length) out of range 0..<\(n) on axis \(axis)")
        var outShape = shape
        outShape[ax] = length
        let w = length * inner
        let out = data.withUnsafeBufferPointer { px in
            makeArray(outer * w) { y in
                for o in 0..<outer {
                    (y + o * w).update(from: px.baseAddress! + o * n * inner + start * inner, count: w)
                }
            }
        }
        return Tensor(shape: outShape, data: out, inputs: [self]) { result in
            let g = result.grad!
            self.accumulateGrad { gx in
                for o in 0..<outer {
                    for k in 0..<w { gx[o * n * inner + start * inner + k] += g[o * w + k] }
                }
            }
        }
    }

    /// Splits along `axis` into consecutive pieces of the given sizes.
    public func split(sizes: [Int], axis: Int) -> [Tensor] {
        precondition(sizes.reduce(0, +) == shape[normalizedAxis(axis)],
                     "split sizes \(sizes) do not add up to \(shape[normalizedAxis(axis)])")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(axis: axis, start: start, length: size)
        }
    }

    /// Cumulative sum along `axis`. With `exclusive`, element i holds the sum of elements
    /// before i (so the first is 0): the running sums an autoregressive layer needs.
    public func cumsum(axis: Int, exclusive: Bool = false) -> Tensor {
        let (outer, n, inner, _) = split3(axis)
        let out = data.withUnsafeBufferPointer { px in
            makeArray(count) { y in
                let x = px.baseAddress!
                for o in 0..<outer {
                    let base = o * n * inner
                    var acc = [Float](repeating: 0, count: inner)
                    for j in 0..<n {
                        let row = base + j * inner
                        for k in 0..<inner {
                            if exclusive { y[row + k] = acc[k]; acc[k] += x[row + k] }
                            else { acc[k] += x[row + k]; y[row + k] = acc[k] }
                        }
                    }
                }
            }
        }
        return Tensor(shape: shape, data: out, inputs: [self]) { result in
            // The adjoint of a cumulative sum is the reversed cumulative sum.
            let g = result.grad!
            self.accumulateGrad { gx in
                for o in 0..<outer {
                    let base = o * n * inner
                    var acc = [Float](repeating: 0, count: inner)
                    for j in stride(from: n - 1, through: 0, by: -1) {
                        let row = base + j * inner
                        for k in 0..<inner {
                            if exclusive { gx[row + k] += acc[k]; acc[k] += g[row + k] }
                            else { acc[k] += g[row + k]; gx[row + k] += acc[k] }
                        }
                    }
                }
            }
        }
    }
}
