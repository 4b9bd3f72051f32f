import CDNNL
import CKernels

/// Single-precision matrix products on oneDNN's `dnnl_sgemm` (row-major).
///
/// oneDNN picks its kernel from the CPU's features at run time; Debian's OpenBLAS
/// misdetects some CPUs and runs a generic kernel several times slower.
public enum Gemm {
    /// Floating-point operations issued so far (2·m·n·k per product), for benchmarks.
    public static var flops: Int { Int(ar_flops()) }

    /// C = alpha · op(A) · op(B) + beta · C, with op(X) = Xᵀ when the flag is set.
    /// op(A) is M×K, op(B) is K×N, C is M×N; all row-major, with tight leading dimensions
    /// unless `lda`, `ldb` or `ldc` give a longer row stride (a block of a larger matrix).
    @inlinable
    public static func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
                             b: UnsafePointer<Float>, ldb: Int? = nil,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil) {
        if m == 0 || n == 0 { return }
        ar_add_flops(Int64(2 * m * n * k))
        let tightA = transA ? m : k, tightB = transB ? k : n
        let lda = lda ?? tightA, ldb = ldb ?? tightB, ldc = ldc ?? n
        precondition(lda >= tightA && ldb >= tightB && ldc >= n, "sgemm: a leading dimension below its row length")
        let status = dnnl_sgemm(transA ? 84 : 78, transB ? 84 : 78, Int64(m), Int64(n), Int64(k),
                                alpha, a, Int64(max(lda, 1)), b, Int64(max(ldb, 1)),
                                beta, c, Int64(max(ldc, 1)))
        precondition(status == dnnl_success, "dnnl_sgemm failed with status \(status.rawValue)")
    }

    /// Runs `body` with the calling thread's products single-threaded (as inside
    /// `parallelChunks`): for work made of many small products, where a team of threads
    /// would meet at a barrier after each.
    public static func serially<T>(_ body: () throws -> T) rethrows -> T {
        let previous = ar_serial_begin()
        defer { ar_serial_end(previous) }
        return try body()
    }

    /// Threads the engine uses: inside each oneDNN product (OpenMP), or across images in
    /// the convolutions, which run one single-threaded product per image on each thread.
    nonisolated(unsafe) public private(set) static var threads = 1

    /// Limits the threads oneDNN uses (OpenMP) and the engine's own parallel loops; returns
    /// false if the OpenMP runtime is absent.
    @discardableResult
    public static func setThreads(_ n: Int) -> Bool {
        threads = max(1, n)
        return ar_set_threads(Int32(threads)) != 0
    }
}
