import CKernels
import Dispatch

/// Splits 0..<count into `Gemm.threads` contiguous chunks and runs `body(chunkIndex, range)`
/// for each on its own thread. Inside `body`, oneDNN products run single-threaded (each
/// thread sets its own OpenMP team size), so the threads never oversubscribe the cores.
/// With one thread, or one item, it simply calls `body(0, 0..<count)`.
public func parallelChunks(_ count: Int, _ body: (Int, Range<Int>) -> Void) {
    let workers = min(Gemm.threads, count)
    guard workers > 1 else {
        body(0, 0..<count)
        return
    }
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        ar_set_threads(1)
        defer { ar_set_threads(Int32(Gemm.threads)) }
        body(w, (count * w / workers)..<(count * (w + 1) / workers))
    }
}
