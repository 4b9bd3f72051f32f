import ArgumentParser
import AutoregBenchSupport
import AutoregTensor
import Foundation

struct MatmulLab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matmul",
        abstract: "dnnl_sgemm beside oneDNN's matmul primitive, f32 and bf16 inputs, on `autoreg bench gemm`'s products.",
        discussion: """
        The products of `autoreg bench gemm` (squares; a MADE 784-500-784 step at batch 100; \
        per image, the Gated PixelCNN's vertical 3x3 convolution). Each also runs on oneDNN's \
        matmul primitive, in single precision and with bfloat16 inputs (f32 accumulation); \
        the three take turns within every repetition, and the line gives each one's median, \
        so that a change in the machine's speed during the run falls on all three alike. \
        (This was `autoreg bench gemm --onednn`.)
        """)
    @Option(parsing: .unconditional, help: "Repetitions per shape (at least 20 are run; five times as many for the model shapes).")
    var repeats: Int = 10
    @OptionGroup var compute: ThreadOptions

    func run() throws {
        try compute.apply()
        print("threads \(compute.threads)")
        print("median GFLOP/s of interleaved runs: dnnl_sgemm, oneDNN matmul f32, oneDNN matmul with bf16 inputs")
        for s in GemmShape.all(repeats: repeats) {
            print(compare(s, repeats: max(s.repeats, 20)))
        }
    }

    /// One line: the medians of dnnl_sgemm and oneDNN's matmul (f32, bf16 inputs) on one
    /// product, timed in turn within each repetition.
    func compare(_ s: GemmShape, repeats: Int) -> String {
        let (m, n, k) = (s.m, s.n, s.k)
        let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.5, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        let matmuls = [false, true].map {
            OneDNNMatmul(transA: s.transA, transB: s.transB, m: m, n: n, k: k, bfloat16: $0)
        }
        let runs: [() -> Void] = [
            { c.withUnsafeMutableBufferPointer {
                Gemm.sgemm(transA: s.transA, transB: s.transB, m: m, n: n, k: k, a: a, b: b, c: $0.baseAddress!)
            } },
        ] + matmuls.compactMap { $0?.run }
        for run in runs { run() }  // warm-up: oneDNN compiles its kernels here
        for matmul in matmuls { matmul?.verify() }
        var rates = [[Double]](repeating: [], count: runs.count)
        _ = Timing.steps(warmup: 0, repeats: repeats) {
            for (i, run) in runs.enumerated() {
                rates[i].append(2 * Double(m * n * k) / Timing.seconds(run) / 1e9)
            }
        }
        var medians = rates.map { Summary($0).median }.makeIterator()
        let sgemm = String(format: "%@   sgemm %6.1f", s.label, medians.next()!)
        let others = zip(["matmul f32", "bf16"], matmuls).map { name, matmul in
            guard let matmul, let median = medians.next() else { return "\(name)      - (not implemented here)" }
            return String(format: "%@ %6.1f (%@)", name, median, matmul.implementation)
        }
        return ([sgemm] + others).joined(separator: "   ")
    }
}
