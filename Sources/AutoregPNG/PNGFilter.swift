/// The five PNG scanline filter types (PNG specification, section 9).
public enum PNGFilter: UInt8, CaseIterable, Sendable {
    case none = 0, sub = 1, up = 2, average = 3, paeth = 4

    /// The value this filter predicts for a byte from its left (`a`), upper (`b`) and
    /// upper-left (`c`) neighbours, all taken from unfiltered data.
    @inline(__always)
    func predict(a: UInt8, b: UInt8, c: UInt8) -> UInt8 {
        switch self {
        case .none: return 0
        case .sub: return a
        case .up: return b
        case .average: return UInt8((UInt16(a) + UInt16(b)) / 2)
        case .paeth: return paethPredictor(a: a, b: b, c: c)
        }
    }
}

/// Whichever of `a`, `b`, `c` is closest to `a + b - c` (ties prefer `a`, then `b`).
@inline(__always)
func paethPredictor(a: UInt8, b: UInt8, c: UInt8) -> UInt8 {
    let estimate = Int(a) + Int(b) - Int(c)
    let da = abs(estimate - Int(a)), db = abs(estimate - Int(b)), dc = abs(estimate - Int(c))
    if da <= db && da <= dc { return a }
    return db <= dc ? b : c
}

/// Applies `filter` to scanline `row` (unfiltered bytes) given the unfiltered `previous` row
/// (all zeros for the first row) and `stride` bytes per complete pixel; writes to `out`.
func filterRow(_ filter: PNGFilter, row: UnsafeBufferPointer<UInt8>, previous: UnsafeBufferPointer<UInt8>,
               stride: Int, into out: UnsafeMutableBufferPointer<UInt8>) {
    for x in 0..<row.count {
        let a = x >= stride ? row[x - stride] : 0
        let c = x >= stride ? previous[x - stride] : 0
        out[x] = row[x] &- filter.predict(a: a, b: previous[x], c: c)
    }
}

/// Reverses `filter` in place on scanline `row`, given the already unfiltered `previous` row.
func unfilterRow(_ filter: PNGFilter, row: UnsafeMutableBufferPointer<UInt8>, previous: UnsafeBufferPointer<UInt8>,
                 stride: Int) {
    switch filter {
    case .none:
        return
    case .up:
        for x in 0..<row.count { row[x] = row[x] &+ previous[x] }
    default:
        for x in 0..<row.count {
            let a = x >= stride ? row[x - stride] : 0
            let c = x >= stride ? previous[x - stride] : 0
            row[x] = row[x] &+ filter.predict(a: a, b: previous[x], c: c)
        }
    }
}
