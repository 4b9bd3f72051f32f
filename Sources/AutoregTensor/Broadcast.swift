/// The layout of a binary elementwise op under NumPy broadcasting: the output shape and,
/// for each operand, its stride in every output dimension (0 where it is broadcast).
struct BroadcastPlan {
    let shape: [Int]
    let stridesA: [Int]
    let stridesB: [Int]

    init(_ a: [Int], _ b: [Int]) {
        let rank = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: rank - a.count) + a
        let pb = [Int](repeating: 1, count: rank - b.count) + b
        var out = [Int](repeating: 1, count: rank)
        for d in 0..<rank {
            precondition(pa[d] == pb[d] || pa[d] == 1 || pb[d] == 1,
                         "shapes \(a) and \(b) cannot be broadcast together")
            out[d] = pa[d] == 1 ? pb[d] : pa[d]
        }
        func strides(_ s: [Int]) -> [Int] {
            var st = [Int](repeating: 0, count: rank), acc = 1
            for d in stride(from: rank - 1, through: 0, by: -1) {
                st[d] = s[d] == 1 ? 0 : acc
                acc *= s[d]
            }
            return st
        }
        shape = out
        stridesA = strides(pa)
        stridesB = strides(pb)
    }

    var count: Int { shape.reduce(1, *) }

    /// Calls `run(outOffset, aOffset, bOffset, aStep, bStep, length)` for each contiguous run
    /// along the innermost dimension.
    func forEachRun(_ run: (Int, Int, Int, Int, Int, Int) -> Void) {
        let rank = shape.count
        guard rank > 0 else { run(0, 0, 0, 0, 0, 1); return }
        guard count > 0 else { return }
        let inner = shape[rank - 1], sa = stridesA[rank - 1], sb = stridesB[rank - 1]
        var index = [Int](repeating: 0, count: rank)
        var out = 0, oa = 0, ob = 0
        while true {
            run(out, oa, ob, sa, sb, inner)
            out += inner
            var d = rank - 2
            while d >= 0 {
                index[d] += 1
                oa += stridesA[d]; ob += stridesB[d]
                if index[d] < shape[d] { break }
                oa -= stridesA[d] * shape[d]; ob -= stridesB[d] * shape[d]
                index[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }
}

extension Tensor {
    /// Elementwise a + b with broadcasting.
    public static func + (a: Tensor, b: Tensor) -> Tensor { a.binary(b, op: .add) }
    /// Elementwise a − b with broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor { a.binary(b, op: .sub) }
    /// Elementwise a · b with broadcasting.
    public static func * (a: Tensor, b: Tensor) -> Tensor { a.binary(b, op: .mul) }

    enum BinaryOp { case add, sub, mul }

    func binary(_ other: Tensor, op: BinaryOp) -> Tensor {
        let plan = BroadcastPlan(shape, other.shape)
        let a = self, b = other
        let out = a.data.withUnsafeBufferPointer { pa in
            b.data.withUnsafeBufferPointer { pb in
                makeArray(plan.count) { y in
                    let x1 = pa.baseAddress!, x2 = pb.baseAddress!
                    plan.forEachRun { o, ia, ib, sa, sb, n in
                        switch op {
                        case .add: for k in 0..<n { y[o + k] = x1[ia + k * sa] + x2[ib + k * sb] }
                        case .sub: for k in 0..<n { y[o + k] = x1[ia + k * sa] - x2[ib + k * sb] }
                        case .mul: for k in 0..<n { y[o + k] = x1[ia + k * sa] * x2[ib + k * sb] }
                        }
                    }
                }
            }
        }
        return Tensor(shape: plan.shape, data: out, inputs: [a, b]) { result in
            result.grad!.withUnsafeBufferPointer { pg in
                let g = pg.baseAddress!
                // d/da: g (add, sub) or g·b (mul), summed over a's broadcast dimensions.
                if a.requiresGrad {
                    b.data.withUnsafeBufferPointer { pb in
                        a.accumulateGrad { ga in
                            let x2 = pb.baseAddress!
                            plan.forEachRun { o, ia, ib, sa, sb, n in
                                if op == .mul {
                                    for k in 0..<n { ga[ia + k * sa] += g[o + k] * x2[ib + k * sb] }
                                } else {
                                    for k in 0..<n { ga[ia + k * sa] += g[o + k] }
                                }
                            }
                        }
                    }
                }
                if b.requiresGrad {
                    a.data.withUnsafeBufferPointer { pa in
                        b.accumulateGrad { gb in
                            let x1 = pa.baseAddress!
                            plan.forEachRun { o, ia, ib, sa, sb, n in
                                switch op {
                                case .add: for k in 0..<n { gb[ib + k * sb] += g[o + k] }
                                case .sub: for k in 0..<n { gb[ib + k * sb] -= g[o + k] }
                                case .mul: for k in 0..<n { gb[ib + k * sb] += g[o + k] * x1[ia + k * sa] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
