import CKernels
import Dispatch
import Foundation

/// Splits 0..<count into `Gemm.threads` (at most `maxWorkers`) contiguous chunks and runs
/// `body(chunkIndex, range)` for each on its own thread. Inside `body`, oneDNN products run single-threaded (each
/// thread sets its own OpenMP team size), so the threads never oversubscribe the cores.
/// With one thread, or one item, it simply calls `body(0, 0..<count)`; so it does when the
/// whole call does less than `parallelGrain` units of `work` (elements of an elementwise op),
/// where waking a second thread costs about as much as the work it would take, and inside a
/// `parallelBatch` worker, whose thread already has its share of the cores.
public func parallelChunks(_ count: Int, work: Int = .max, maxWorkers: Int = .max, _ body: (Int, Range<Int>) -> Void) {
    let context = ThreadContext.current
    let workers = work < parallelGrain || context.isWorker ? 1 : min(Gemm.threads, count, max(maxWorkers, 1))
    guard workers > 1 else {
        body(0, 0..<count)
        return
    }
    let settings = context.inherited
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        ThreadContext.current.runAsWorker(settings, sink: nil) {
            Gemm.serially { body(w, (count * w / workers)..<(count * (w + 1) / workers)) }
        }
    }
}

/// Data parallelism inside the process: splits `count` images (a batch) into `Gemm.threads`
/// contiguous shares and runs `body(share)` for each on its own thread, every op inside it on
/// that thread alone. Each worker can run a whole forward and backward pass over its
/// images, so the threads meet once per batch instead of after every op.
///
/// The workers inherit the caller's tape mode and dropout (masks drawn as for the whole
/// batch, see `Tensor.dropout()`). The gradients their backward passes give the leaf tensors
/// (parameters) are kept apart per worker and added into `grad` when all have finished, in
/// worker order, so the result does not depend on which thread finished first. With one
/// thread, fewer than two images, or inside another worker, it calls `body(0..<count)`.
public func parallelBatch(_ count: Int, _ body: (Range<Int>) -> Void) {
    let context = ThreadContext.current
    let workers = context.isWorker ? 1 : min(Gemm.threads, count)
    guard workers > 1 else {
        body(0..<count)
        return
    }
    let settings = context.inherited
    // Worker 0 adds into `grad` directly: nothing else writes there until all have finished.
    let sinks = (0..<workers).map { $0 == 0 ? nil : GradientSink() }
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        let share = (count * w / workers)..<(count * (w + 1) / workers)
        var own = settings
        own.imageOffset += share.lowerBound
        ThreadContext.current.runAsWorker(own, sink: sinks[w]) {
            Gemm.serially { body(share) }
        }
    }
    // Here, outside any worker, `accumulateGrad` adds into `grad` itself.
    for sink in sinks.dropFirst() {
        for (tensor, g) in sink!.gradients.values { tensor.accumulateGrad(g) }
    }
}

/// Elements below which an elementwise op runs on one thread (see `parallelChunks`): 2¹⁵,
/// some 10–30 µs of work, about what handing a chunk to a second thread and waiting for it
/// costs. The Diagonal BiLSTM's LSTM cell on one diagonal of 16 images (7 168 states) stays on
/// one thread; a Gated PixelCNN gate over a batch (millions) splits.
public let parallelGrain = 1 << 15

/// Cores that other processes leave free right now: the online cores less the runnable tasks
/// of others (Linux: the fourth field of /proc/loadavg, whose count includes the calling
/// thread; the most free of three readings 1 ms apart, so a passing command does not count).
/// Under the kernel's autogroup scheduling a process shares a core that another session keeps
/// busy half and half, whatever its thread count, so a second thread there only adds
/// overhead. Elsewhere it returns all cores.
public func coresLeftFree() -> Int {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    #if os(Linux)
    var free = 0
    for attempt in 0..<3 {
        if attempt > 0 { usleep(1000) }
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let f = coresLeftFree(loadavg: text, cores: cores) else { return cores }
        free = max(free, f)
    }
    return free
    #else
    return cores
    #endif
}

/// `coresLeftFree` from one /proc/loadavg line ("0.52 0.58 0.59 2/345 12345": 2 tasks
/// runnable, the caller among them); nil when the line is not of that form.
public func coresLeftFree(loadavg: String, cores: Int) -> Int? {
    let fields = loadavg.split(separator: " ")
    guard fields.count >= 4 else { return nil }
    let parts = fields[3].split(separator: "/")
    guard parts.count == 2, let running = Int(parts[0]), running >= 1 else { return nil }
    return max(1, min(cores, cores - (running - 1)))
}
