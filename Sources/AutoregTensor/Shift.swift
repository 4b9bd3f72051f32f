extension Tensor {
    /// Moves every image (the last two dimensions, H × W) `down` rows and `right` columns:
    /// out[..., i, j] = in[..., i − down, j − right], zero where that lies outside the image.
    /// What moves past the bottom or right edge is dropped; negative amounts move up or left.
    /// The shape is unchanged. Differentiable.
    ///
    /// The gated PixelCNN uses it to make a stack causal, e.g. `shifted(down: 1, right: 0)` on
    /// the vertical stack before it feeds the horizontal one, so that row i sees rows < i only.
    public func shifted(down: Int, right: Int) -> Tensor {
        precondition(rank >= 2, "shifted(down:right:) needs a tensor of rank ≥ 2, got \(shape)")
        let h = shape[rank - 2], w = shape[rank - 1]
        let planes = h * w == 0 ? 0 : count / (h * w)
        // Output rows down..<h+down and columns right..<w+right, clipped to the image.
        let rowLo = max(0, down), rowHi = min(h, h + down)
        let colLo = max(0, right), colHi = min(w, w + right)
        /// Adds or copies the moved window of `src` into `dst`; `forward` maps in → out.
        func move(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, forward: Bool) {
            guard rowHi > rowLo, colHi > colLo else { return }
            for p in 0..<planes {
                for i in rowLo..<rowHi {
                    let o = p * h * w + i * w, s = p * h * w + (i - down) * w - right
                    if forward {
                        (dst + o + colLo).update(from: src + s + colLo, count: colHi - colLo)
                    } else {
                        for j in colLo..<colHi { dst[s + j] += src[o + j] }
                    }
                }
            }
        }
        let out = data.withUnsafeBufferPointer { px in
            makeArray(count) { y in
                y.update(repeating: 0, count: count)
                move(px.baseAddress!, y, forward: true)
            }
        }
        return Tensor(shape: shape, data: out, inputs: [self]) { result in
            result.grad!.withUnsafeBufferPointer { pg in
                self.accumulateGrad { gx in move(pg.baseAddress!, gx, forward: false) }
            }
        }
    }
}
