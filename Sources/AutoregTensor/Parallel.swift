import CKernels
import Dispatch

/// Splits 0..<count into `Gemm.threads` contiguous chunks and runs `body(chunkIndex, range)`
/// for each on its own thread. Inside `body`, oneDNN products run single-threaded (each
/// thread sets its own OpenMP team size), so the threads never oversubscribe the cores.
/// With one thread, or one item, it simply calls `body(0, 0..<count)`; so it does when the
/// whole call does less than `parallelGrain` units of `work` (elements of an elementwise op),
/// where waking a second thread costs about as much as the work it would take.
public func parallelChunks(_ count: Int, work: Int = .max, _ body: (Int, Range<Int>) -> Void) {
    let workers = work < parallelGrain ? 1 : min(Gemm.threads, count)
    guard workers > 1 else {
        body(0, 0..<count)
        return
    }
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        Gemm.serially { body(w, (count * w / workers)..<(count * (w + 1) / workers)) }
    }
}

/// Elements below which an elementwise op runs on one thread (see `parallelChunks`): 2¹⁵,
/// some 10–30 µs of work, about what handing a chunk to a second thread and waiting for it
/// costs. The Diagonal BiLSTM's LSTM cell on one diagonal of 16 images (7 168 states) stays on
/// one thread; a Gated PixelCNN gate over a batch (millions) splits.
public let parallelGrain = 1 << 15
