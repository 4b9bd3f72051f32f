import CKernels

/// The layout of a binary elementwise op under NumPy broadcasting: the output shape and,
/// for each operand, its stride in every output dimension (0 where it is broadcast).
struct BroadcastPlan {
    /// The output shape.
    let shape: [Int]
    /// The output shape with mergeable dimensions merged; the strides refer to it.
    let runShape: [Int]
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
        // Merge neighbouring dimensions that both operands step through contiguously (or
        // both broadcast), so that equal shapes make one long run the compiler vectorises.
        var (dims, sa, sb) = ([Int](), [Int](), [Int]())
        for (d, (x, y)) in zip(out, zip(strides(pa), strides(pb))) {
            if let last = dims.last, sa.last! == x * d, sb.last! == y * d {
                dims[dims.count - 1] = last * d
                sa[sa.count - 1] = x
                sb[sb.count - 1] = y
            } else {
                dims.append(d); sa.append(x); sb.append(y)
            }
        }
        shape = out
        runShape = dims
        stridesA = sa
        stridesB = sb
    }

    /// Whether operand A (or B) has the output's shape, so its gradient is the output's.
    var aIsWhole: Bool { runShape.count <= 1 && stridesA.allSatisfy { $0 == 1 } }
    var bIsWhole: Bool { runShape.count <= 1 && stridesB.allSatisfy { $0 == 1 } }

    var count: Int { shape.reduce(1, *) }

    /// Calls `run(outOffset, aOffset, bOffset, aStep, bStep, length)` for each contiguous run
    /// along the innermost dimension.
    func forEachRun(_ run: (Int, Int, Int, Int, Int, Int) -> Void) {
        let shape = runShape, rank = shape.count
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
                        if sa == 1 && sb == 1 {  // contiguous operands: vectorised kernels
                            switch op {
                            case .add: ar_add(x1 + ia, x2 + ib, y + o, n)
                            case .sub: ar_sub(x1 + ia, x2 + ib, y + o, n)
                            case .mul: ar_mul(x1 + ia, x2 + ib, y + o, n)
                            }
                            return
                        }
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
                if a.requiresGrad, op != .mul, plan.aIsWhole {
                    a.accumulateGrad(result.grad!)  // shares the buffer when a has none yet
                } else if a.requiresGrad {
                    b.data.withUnsafeBufferPointer { pb in
                        a.accumulateGrad { ga in
                            let x2 = pb.baseAddress!
                            plan.forEachRun { o, ia, ib, sa, sb, n in
                                if sa == 1 && sb == 1 {
                                    if op == .mul {
                                        ar_accumulate_product(g + o, x2 + ib, ga + ia, n)
                                    } else {
                                        ar_accumulate(g + o, ga + ia, n)
                                    }
                                } else if op == .mul {
                                    for k in 0..<n { ga[ia + k * sa] += g[o + k] * x2[ib + k * sb] }
                                } else {
                                    for k in 0..<n { ga[ia + k * sa] += g[o + k] }
                                }
                            }
                        }
                    }
                }
                if b.requiresGrad, op == .add, plan.bIsWhole {
                    b.accumulateGrad(result.grad!)
                } else if b.requiresGrad {
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
