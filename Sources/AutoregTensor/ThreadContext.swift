#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The engine's per-thread settings: whether ops record a tape, the dropout in force, and,
/// inside a `parallelBatch` worker, where its images sit in the batch and where its
/// parameters' gradients go. Each thread has its own, so that several threads can run
/// forward and backward passes over shares of one batch at the same time.
final class ThreadContext {
    /// `withoutGrad` nesting depth: no tape while above 0.
    var gradDisabledDepth = 0
    /// Dropout rate set by `withDropout` (0: off).
    var dropoutRate: Float = 0
    /// Draws one key per dropout call; every worker of a batch starts from the same state.
    var dropoutKeys = RandomGenerator(seed: 0)
    /// Index of this thread's first image in the whole batch (0 outside `parallelBatch`).
    var imageOffset = 0
    /// Where leaf tensors' gradients go instead of their `grad` (a `parallelBatch` worker's
    /// private copy); nil: into `grad`.
    var gradientSink: GradientSink?
    /// True inside a `parallelBatch` or `parallelChunks` worker: nested parallel loops run
    /// on the calling thread.
    var isWorker = false

    /// The calling thread's context, created on first use.
    static var current: ThreadContext {
        if let raw = pthread_getspecific(key) {
            return Unmanaged<ThreadContext>.fromOpaque(raw).takeUnretainedValue()
        }
        let context = ThreadContext()
        pthread_setspecific(key, Unmanaged.passRetained(context).toOpaque())
        return context
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        // The destructor releases the context when its thread ends.
        let status = pthread_key_create(&key) { raw in
            #if canImport(Darwin)
            Unmanaged<ThreadContext>.fromOpaque(raw).release()
            #else
            if let raw { Unmanaged<ThreadContext>.fromOpaque(raw).release() }
            #endif
        }
        precondition(status == 0, "pthread_key_create failed with \(status)")
        return key
    }()

    /// The settings a worker inherits from the thread that started it.
    struct Inherited {
        var gradDisabledDepth: Int, dropoutRate: Float, dropoutKeys: RandomGenerator, imageOffset: Int
    }

    var inherited: Inherited {
        Inherited(gradDisabledDepth: gradDisabledDepth, dropoutRate: dropoutRate,
                  dropoutKeys: dropoutKeys, imageOffset: imageOffset)
    }

    /// Runs `body` as a worker with `settings` and `sink`, then restores this thread's own.
    func runAsWorker<T>(_ settings: Inherited, sink: GradientSink?, _ body: () throws -> T) rethrows -> T {
        let saved = (inherited, gradientSink, isWorker)
        adopt(settings)
        (gradientSink, isWorker) = (sink, true)
        defer {
            adopt(saved.0)
            (gradientSink, isWorker) = (saved.1, saved.2)
        }
        return try body()
    }

    private func adopt(_ s: Inherited) {
        (gradDisabledDepth, dropoutRate, dropoutKeys, imageOffset) = (s.gradDisabledDepth, s.dropoutRate, s.dropoutKeys, s.imageOffset)
    }
}

/// A `parallelBatch` worker's gradients for the leaf tensors (parameters) it reached, kept
/// apart from their `grad` until the workers have finished and they are added in.
final class GradientSink {
    private(set) var gradients: [ObjectIdentifier: (tensor: Tensor, grad: [Float])] = [:]

    /// `Tensor.accumulateGrad` for a leaf: the buffer is uninitialised on first use.
    func accumulate(_ tensor: Tensor, _ body: (UnsafeMutablePointer<Float>, Bool) -> Void) {
        let id = ObjectIdentifier(tensor)
        if gradients[id] == nil {
            gradients[id] = (tensor, makeArray(tensor.count) { body($0, false) })
            return
        }
        gradients[id]!.grad.withUnsafeMutableBufferPointer { body($0.baseAddress!, true) }
    }
}
