import CKernels
import Foundation

extension Tensor {
    /// Elementwise Bernoulli negative log-likelihood −log p(t | logit) of targets t ∈ [0, 1],
    /// computed as max(l, 0) − t·l + log(1 + e^−|l|): exact for logits of any size.
    public func bernoulliNLL(targets: Tensor) -> Tensor {
        precondition(targets.shape == shape, "targets \(targets.shape) differ from logits \(shape)")
        let logits = self, n = count
        let out = logits.data.withUnsafeBufferPointer { pl in
            targets.data.withUnsafeBufferPointer { pt in
                makeArray(n) { ar_bernoulli_nll(pl.baseAddress!, pt.baseAddress!, $0, n) }
            }
        }
        return Tensor(shape: shape, data: out, inputs: [logits, targets]) { result in
            let g = result.grad!
            if logits.requiresGrad {  // d/dl = sigmoid(l) − t
                let s = logits.data.withUnsafeBufferPointer { pl in makeArray(n) { ar_sigmoid(pl.baseAddress!, $0, n) } }
                logits.accumulateGrad { gl in
                    for i in 0..<n { gl[i] += g[i] * (s[i] - targets.data[i]) }
                }
            }
            if targets.requiresGrad {  // d/dt = −l
                targets.accumulateGrad { gt in for i in 0..<n { gt[i] -= g[i] * logits.data[i] } }
            }
        }
    }

    /// Categorical negative log-likelihood over the last axis: logits [..., C], one class
    /// index per row in `targets`; the result has the leading shape. Stable via log-sum-exp.
    public func categoricalNLL(targets: [Int32]) -> Tensor {
        let classes = shape[rank - 1]
        let rows = count / max(classes, 1)
        precondition(targets.count == rows, "need \(rows) targets, got \(targets.count)")
        precondition(targets.allSatisfy { $0 >= 0 && Int($0) < classes }, "target out of range 0..<\(classes)")
        let logits = self
        let wantsGrad = logits.requiresGrad && GradMode.isEnabled
        var probs: [Float] = wantsGrad ? [Float](repeating: 0, count: count) : []
        let out = logits.data.withUnsafeBufferPointer { pl in
            targets.withUnsafeBufferPointer { pt in
                probs.withUnsafeMutableBufferPointer { pp in
                    // An empty array still has a (shared, read-only) base address: pass nil explicitly.
                    makeArray(rows) { ar_categorical_nll(pl.baseAddress!, pt.baseAddress!, $0,
                                                         wantsGrad ? pp.baseAddress : nil, rows, classes) }
                }
            }
        }
        // Captured as a constant: a captured `var` is boxed and every read in the loop below
        // would be a dynamic exclusivity check (4 % of a Gated PixelCNN step once it was).
        let probabilities = probs
        return Tensor(shape: Array(shape.dropLast()), data: out, inputs: [logits]) { result in
            let g = result.grad!
            logits.accumulateGrad { gl in  // d/dl = softmax − onehot
                probabilities.withUnsafeBufferPointer { p in
                    for r in 0..<rows {
                        let base = r * classes, gr = g[r]
                        for c in 0..<classes { gl[base + c] += gr * p[base + c] }
                        gl[base + Int(targets[r])] -= gr
                    }
                }
            }
        }
    }

    /// Categorical NLL of sub-pixels whose classes lie in planes, as a convolutional head gives
    /// them: `self` is [B, C·classes, P] or [B, C·classes, H, W] (P = H·W; channel c·classes + k
    /// holds class k of image channel c), `targets` B·P·C class indices in channels-last order
    /// (sub-pixel p·C + c of each image). Returns [B, P·C]: `categoricalNLL` of the head's
    /// channels-last transpose, without making that transpose (at batch 64 and 256 classes, a
    /// 51 MB copy forward and another backward).
    public func planarCategoricalNLL(targets: [Int32], channels: Int, classes: Int) -> Tensor {
        precondition(rank >= 3 && channels > 0 && classes > 0 && shape[1] == channels * classes,
                     "planar categorical NLL needs [B, \(channels)·\(classes), ...], got \(shape)")
        let b = shape[0], c = channels, n = count / max(b * c * classes, 1), plane = classes * n
        precondition(targets.count == b * n * c, "need \(b * n * c) targets, got \(targets.count)")
        precondition(targets.allSatisfy { $0 >= 0 && Int($0) < classes }, "target out of range 0..<\(classes)")
        let wantsGrad = requiresGrad && GradMode.isEnabled
        var top = [Float](repeating: 0, count: n), rest = [Float](repeating: 0, count: n)
        var topClass = [Int32](repeating: 0, count: n)
        func nll(_ probs: UnsafeMutablePointer<Float>?) -> [Float] {
            data.withUnsafeBufferPointer { x in
                targets.withUnsafeBufferPointer { t in
                    makeArray(b * n * c) { out in
                        for image in 0..<b {
                            for channel in 0..<c {
                                let at = (image * c + channel) * plane, first = image * n * c + channel
                                ar_categorical_nll_planes(x.baseAddress! + at, t.baseAddress! + first, c, out + first, c,
                                                          probs.map { $0 + at }, classes, n, &top, &rest, &topClass)
                            }
                        }
                    }
                }
            }
        }
        var out: [Float] = []
        let probs = wantsGrad ? makeArray(count) { out = nll($0) } : []
        if !wantsGrad { out = nll(nil) }
        return Tensor(shape: [b, n * c], data: out, inputs: [self]) { result in
            self.accumulateGrad { grad, initialized in
                result.grad!.withUnsafeBufferPointer { g in
                    probs.withUnsafeBufferPointer { p in
                        targets.withUnsafeBufferPointer { t in
                            for image in 0..<b {
                                for channel in 0..<c {
                                    let at = (image * c + channel) * plane, first = image * n * c + channel
                                    ar_categorical_nll_planes_backward(p.baseAddress! + at, t.baseAddress! + first, c,
                                                                       g.baseAddress! + first, c, grad + at,
                                                                       initialized ? 1 : 0, classes, n)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// log softmax over the last axis (differentiable).
    public func logSoftmax() -> Tensor {
        let classes = shape[rank - 1], rows = count / max(classes, 1)
        var lse = [Float](repeating: 0, count: rows)
        let out = data.withUnsafeBufferPointer { px in
            makeArray(count) { y in
                for r in 0..<rows {
                    let row = px.baseAddress! + r * classes
                    var m = -Float.infinity
                    for c in 0..<classes { m = max(m, row[c]) }
                    var s: Float = 0
                    for c in 0..<classes { s += Foundation.exp(row[c] - m) }
                    lse[r] = m + Foundation.log(s)
                    for c in 0..<classes { y[r * classes + c] = row[c] - lse[r] }
                }
            }
        }
        return Tensor(shape: shape, data: out, inputs: [self]) { result in
            let g = result.grad!, y = result.data
            self.accumulateGrad { gx in
                for r in 0..<rows {
                    var gs: Float = 0
                    for c in 0..<classes { gs += g[r * classes + c] }
                    for c in 0..<classes {
                        let i = r * classes + c
                        gx[i] += g[i] - Foundation.exp(y[i]) * gs
                    }
                }
            }
        }
    }
}
