import CDNNL
import Foundation

/// oneDNN's matmul primitive on one product, in single precision or with bfloat16 inputs
/// (f32 accumulation and output): what `autoreg-lab matmul` times beside
/// `dnnl_sgemm`, to tell whether either would be a faster engine for the models' products.
final class OneDNNMatmul {
    typealias Memory = OneDNNConvolution.Memory
    let m: Int, n: Int, k: Int
    private let matmul: OneDNNConvolution.Primitive
    private let a: Memory, b: Memory, c: Memory
    private let stream: dnnl_stream_t

    /// C = op(A) · op(B) with op(A) [M, K] and op(B) [K, N]; the factors hold 0.5 in the
    /// chosen type. Nil where oneDNN has no implementation (bf16 on a CPU without AVX-512).
    init?(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, bfloat16: Bool) {
        let check = OneDNNConvolution.check
        (self.m, self.n, self.k) = (m, n, k)
        let type = bfloat16 ? dnnl_bf16 : dnnl_f32
        // A transposed factor is stored [K, M] (row-major), which is the logical [M, K] in layout "ba".
        var aDesc = OneDNNConvolution.descriptor([m, k], transA ? dnnl_ba : dnnl_ab, type)
        var bDesc = OneDNNConvolution.descriptor([k, n], transB ? dnnl_ba : dnnl_ab, type)
        var cDesc = OneDNNConvolution.descriptor([m, n], dnnl_ab)
        var desc = dnnl_matmul_desc_t()
        check(dnnl_matmul_desc_init(&desc, &aDesc, &bDesc, nil, &cDesc), "matmul_desc_init")
        var pd: dnnl_primitive_desc_t?
        let status = dnnl_primitive_desc_create(&pd, &desc, nil, OneDNNConvolution.engine, nil)
        if status == dnnl_unimplemented { return nil }
        check(status, "primitive_desc_create")
        matmul = OneDNNConvolution.Primitive(pd!)
        (a, b, c) = (Memory(aDesc), Memory(bDesc), Memory(cDesc))
        for factor in [a, b] {
            let bytes = dnnl_memory_desc_get_size(&factor.desc)
            if bfloat16 {
                factor.buffer.initializeMemory(as: UInt16.self, repeating: 0x3F00, count: bytes / 2)  // 0.5
            } else {
                factor.buffer.initializeMemory(as: Float.self, repeating: 0.5, count: bytes / 4)
            }
        }
        var s: dnnl_stream_t?
        check(dnnl_stream_create(&s, OneDNNConvolution.engine, dnnl_stream_default_flags.rawValue), "stream_create")
        stream = s!
    }

    deinit { dnnl_stream_destroy(stream) }

    /// The implementation oneDNN chose, e.g. "brg:avx512_core_bf16".
    var implementation: String { matmul.implementation }

    /// Runs the product once (and waits for it).
    func run() {
        matmul.execute(stream, [(OneDNNConvolution.argSrc, a), (OneDNNConvolution.argWeights, b),
                                (OneDNNConvolution.argDst, c)])
    }

    /// Traps unless every entry of the last product is 0.25·k (exact in either type): the
    /// inputs were read as the type they were written in and the whole product was computed.
    /// (Constant factors cannot tell a transpose; the engine's own tests cover those.)
    func verify() {
        let expected = 0.25 * Float(k)
        for i in 0..<(m * n) where c.floats[i] != expected {
            fatalError("oneDNN matmul gave \(c.floats[i]) at entry \(i), expected \(expected)")
        }
    }
}
