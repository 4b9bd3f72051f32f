import CDNNL
import Foundation

/// oneDNN's matmul primitive on one product, in single precision or with bfloat16 inputs
/// (f32 accumulation and output): what `autoreg bench gemm --onednn` sets beside
/// `dnnl_sgemm`, to tell whether either would be a faster engine for the models' products.
enum OneDNNMatmul {
    typealias Memory = OneDNNConvolution.Memory

    /// Best GFLOP/s of C = op(A) · op(B) over `repeats` runs, with the implementation oneDNN
    /// chose (e.g. "brg:avx512_core_bf16"). Inputs hold 0.5 in the chosen type; every entry of
    /// the product is checked.
    static func measure(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, bfloat16: Bool,
                        repeats: Int) -> (gflops: Double, implementation: String) {
        let check = OneDNNConvolution.check
        let type = bfloat16 ? dnnl_bf16 : dnnl_f32
        // op(A) is logically [M, K]; a transposed A is stored [K, M], which is layout "ba".
        var a = OneDNNConvolution.descriptor([m, k], transA ? dnnl_ba : dnnl_ab, type)
        var b = OneDNNConvolution.descriptor([k, n], transB ? dnnl_ba : dnnl_ab, type)
        var c = OneDNNConvolution.descriptor([m, n], dnnl_ab)
        var desc = dnnl_matmul_desc_t()
        check(dnnl_matmul_desc_init(&desc, &a, &b, nil, &c), "matmul_desc_init")
        var pd: dnnl_primitive_desc_t?
        check(dnnl_primitive_desc_create(&pd, &desc, nil, OneDNNConvolution.engine, nil), "primitive_desc_create")
        let matmul = OneDNNConvolution.Primitive(pd!)
        let memA = Memory(a), memB = Memory(b), memC = Memory(c)
        for mem in [memA, memB] {
            let bytes = dnnl_memory_desc_get_size(&mem.desc)
            if bfloat16 {
                mem.buffer.initializeMemory(as: UInt16.self, repeating: 0x3F00, count: bytes / 2)  // 0.5
            } else {
                mem.buffer.initializeMemory(as: Float.self, repeating: 0.5, count: bytes / 4)
            }
        }
        var stream: dnnl_stream_t?
        check(dnnl_stream_create(&stream, OneDNNConvolution.engine, dnnl_stream_default_flags.rawValue), "stream_create")
        defer { dnnl_stream_destroy(stream) }
        let args = [(OneDNNConvolution.argSrc, memA), (OneDNNConvolution.argWeights, memB), (OneDNNConvolution.argDst, memC)]
        matmul.execute(stream!, args)  // warm-up: oneDNN's JIT compiles its kernel here
        var best = 0.0
        for _ in 0..<repeats {
            let t0 = DispatchTime.now().uptimeNanoseconds
            matmul.execute(stream!, args)
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
            best = max(best, 2 * Double(m * n * k) / dt / 1e9)
        }
        // Every entry of 0.5-filled factors is 0.25·k, exactly in either type: a check that the
        // inputs were read as the type they were written in and the whole product was computed
        // (constant factors cannot tell a transpose, which the engine's own tests cover).
        let expected = 0.25 * Float(k)
        for i in 0..<(m * n) where memC.floats[i] != expected {
            fatalError("oneDNN matmul gave \(memC.floats[i]) at entry \(i), expected \(expected)")
        }
        return (best, matmul.implementation)
    }
}
