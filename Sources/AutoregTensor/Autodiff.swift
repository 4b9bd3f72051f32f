/// Whether new ops record a tape, on the calling thread (and the workers it starts). Turn
/// off for evaluation and sampling with `withoutGrad`.
public enum GradMode {
    /// True unless inside `withoutGrad`.
    public static var isEnabled: Bool { ThreadContext.current.gradDisabledDepth == 0 }
}

/// Runs `body` without recording any tape: results do not require gradients.
public func withoutGrad<R>(_ body: () throws -> R) rethrows -> R {
    let context = ThreadContext.current
    context.gradDisabledDepth += 1
    defer { context.gradDisabledDepth -= 1 }
    return try body()
}

extension Tensor {
    /// Back-propagates from this scalar: every tensor it depends on that requires gradients
    /// receives dself/dtensor, added to its `grad`.
    public func backward() {
        precondition(count == 1, "backward() needs a scalar; shape is \(shape)")
        guard requiresGrad else { return }
        backward(seed: [1])
    }

    /// Back-propagates a given output gradient `seed` (same shape as `self`).
    public func backward(seed: [Float]) {
        precondition(seed.count == count, "seed has \(seed.count) values, tensor has \(count)")
        guard requiresGrad else { return }
        // Topological order by iterative depth-first search.
        var order: [Tensor] = []
        var seen = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, expanded) = stack.popLast() {
            if expanded { order.append(t); continue }
            if !seen.insert(ObjectIdentifier(t)).inserted { continue }
            stack.append((t, true))
            for input in t.inputs where input.requiresGrad && !seen.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        accumulateGrad(seed)
        for t in order.reversed() {
            guard let pullback = t.pullback, t.grad != nil else { continue }
            pullback(t)
            // Intermediate gradients are no longer needed once passed on.
            if !t.inputs.isEmpty { t.grad = nil }
        }
    }

    /// Adds `g` (same element count) into `grad`, allocating it on first use. Inside a
    /// `parallelBatch` worker a leaf's gradient goes to the worker's own copy instead, added
    /// into `grad` when the workers have finished (so do the two forms below).
    public func accumulateGrad(_ g: [Float]) {
        guard requiresGrad else { return }
        // First use outside a worker's sink: keep the array itself (no copy).
        if grad == nil, !(inputs.isEmpty && ThreadContext.current.gradientSink != nil) { grad = g; return }
        accumulateGrad { dst, initialized in
            g.withUnsafeBufferPointer { src in
                if initialized {
                    for i in 0..<src.count { dst[i] += src[i] }
                } else {
                    dst.initialize(from: src.baseAddress!, count: src.count)
                }
            }
        }
    }

    /// Gives `body` the gradient buffer (zero-filled on first use) to add into.
    public func accumulateGrad(_ body: (UnsafeMutablePointer<Float>) -> Void) {
        guard requiresGrad else { return }
        if inputs.isEmpty, let sink = ThreadContext.current.gradientSink {
            return sink.accumulate(self) { dst, initialized in
                if !initialized { dst.initialize(repeating: 0, count: count) }
                body(dst)
            }
        }
        if grad == nil { grad = [Float](repeating: 0, count: count) }
        grad!.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }

    /// Gives `body` the gradient buffer and whether it already holds values. When it does
    /// not (first use), the buffer is uninitialised and `body` must write every element —
    /// which saves zero-filling it and then reading the zeros back.
    public func accumulateGrad(_ body: (_ grad: UnsafeMutablePointer<Float>, _ initialized: Bool) -> Void) {
        guard requiresGrad else { return }
        if inputs.isEmpty, let sink = ThreadContext.current.gradientSink { return sink.accumulate(self, body) }
        if grad == nil {
            grad = makeArray(count) { body($0, false) }
            return
        }
        grad!.withUnsafeMutableBufferPointer { body($0.baseAddress!, true) }
    }
}
