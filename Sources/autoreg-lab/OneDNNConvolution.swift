import AutoregBenchSupport
import CDNNL
import Foundation

/// Timings of oneDNN's own convolution primitive on one shape (`autoreg-lab conv --onednn`).
struct OneDNNConvTiming {
    /// "oneDNN 2.6.3", the system library the engine links.
    var library: String
    /// The implementations oneDNN chose (e.g. "jit:avx2", "gemm:jit").
    var implementations: (forward: String, backwardData: String, backwardWeights: String)
    /// Whole steps with NCHW / OIHW tensors in and out, as a framework on plain layouts pays:
    /// weight ⊙ mask, reorders into and out of the primitives' preferred layouts, convolutions.
    var forward, forwardBackward: Summary
    /// The convolution primitives alone (reorders and masking left out).
    var forwardPrimitive, forwardBackwardPrimitive: Summary
    /// Largest |oneDNN forward − our forward| over the output: the two compute the same thing.
    var maxAbsDiff: Float
}

/// oneDNN's convolution primitives through the C API (oneDNN 2.x: operation descriptors),
/// dense over all KH×KW taps, on the weight with the mask applied.
enum OneDNNConvolution {
    static func check(_ status: dnnl_status_t, _ what: String) {
        precondition(status == dnnl_success, "oneDNN \(what) failed with status \(status.rawValue)")
    }

    nonisolated(unsafe) static let engine: dnnl_engine_t = {
        var e: dnnl_engine_t?
        check(dnnl_engine_create(&e, dnnl_cpu, 0), "engine_create")
        return e!
    }()

    static var library: String {
        let v = dnnl_version()!.pointee
        return "oneDNN \(v.major).\(v.minor).\(v.patch)"
    }

    /// A memory object over a zeroed, 64-byte-aligned buffer of ours.
    final class Memory {
        var desc: dnnl_memory_desc_t
        let handle: dnnl_memory_t
        let buffer: UnsafeMutableRawPointer

        init(_ md: dnnl_memory_desc_t) {
            desc = md
            let size = max(dnnl_memory_desc_get_size(&desc), 64)
            buffer = .allocate(byteCount: size, alignment: 64)
            buffer.initializeMemory(as: UInt8.self, repeating: 0, count: size)
            var m: dnnl_memory_t?
            check(dnnl_memory_create(&m, &desc, OneDNNConvolution.engine, buffer), "memory_create")
            handle = m!
        }

        /// A plain (row-major) f32 tensor of the given dimensions.
        convenience init(plain dims: [Int], tag: dnnl_format_tag_t) {
            self.init(OneDNNConvolution.descriptor(dims, tag))
        }

        deinit {
            dnnl_memory_destroy(handle)
            buffer.deallocate()
        }

        var floats: UnsafeMutablePointer<Float> { buffer.assumingMemoryBound(to: Float.self) }

        func sameLayout(_ md: UnsafePointer<dnnl_memory_desc_t>) -> Bool { dnnl_memory_desc_equal(&desc, md) != 0 }
    }

    /// A primitive and its descriptor.
    final class Primitive {
        let pd: dnnl_primitive_desc_t
        let primitive: dnnl_primitive_t

        init(_ pd: dnnl_primitive_desc_t) {
            self.pd = pd
            var p: dnnl_primitive_t?
            check(dnnl_primitive_create(&p, pd), "primitive_create")
            primitive = p!
        }

        deinit {
            dnnl_primitive_destroy(primitive)
            dnnl_primitive_desc_destroy(pd)
        }

        var implementation: String {
            var name: UnsafePointer<CChar>?
            guard dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) == dnnl_success, let name else {
                return "?"
            }
            return String(cString: name)
        }

        func md(_ what: dnnl_query_t) -> UnsafePointer<dnnl_memory_desc_t> {
            dnnl_primitive_desc_query_md(pd, what, 0)!
        }

        func execute(_ stream: dnnl_stream_t, _ args: [(Int32, Memory)]) {
            var a = args.map { dnnl_exec_arg_t(arg: $0.0, memory: $0.1.handle) }
            check(dnnl_primitive_execute(primitive, stream, Int32(a.count), &a), "primitive_execute")
            check(dnnl_stream_wait(stream), "stream_wait")
        }
    }

    static func descriptor(_ dims: [Int], _ tag: dnnl_format_tag_t,
                           _ type: dnnl_data_type_t = dnnl_f32) -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let d = dims.map(Int64.init)
        check(dnnl_memory_desc_init_by_tag(&md, Int32(d.count), d, type, tag), "memory_desc_init_by_tag")
        return md
    }

    /// `user` itself when it already has the layout `md`, else a new memory in that layout
    /// and the reorder between them (user → new when `into`, new → user otherwise).
    static func layout(_ user: Memory, _ md: UnsafePointer<dnnl_memory_desc_t>, into: Bool) -> (Memory, Primitive?) {
        if user.sameLayout(md) { return (user, nil) }
        let other = Memory(md.pointee)
        let (from, to) = into ? (user, other) : (other, user)
        var pd: dnnl_primitive_desc_t?
        check(dnnl_reorder_primitive_desc_create(&pd, &from.desc, engine, &to.desc, engine, nil), "reorder_primitive_desc_create")
        return (other, Primitive(pd!))
    }

    // oneDNN's argument indices (macros in dnnl_types.h that Swift does not import).
    static let argSrc: Int32 = 1, argDst: Int32 = 17, argWeights: Int32 = 33, argBias: Int32 = 41
    static let argDiffSrc: Int32 = 129, argDiffDst: Int32 = 145, argDiffWeights: Int32 = 161, argDiffBias: Int32 = 169

    /// Builds the forward, backward-data and backward-weights primitives for `s` with NCHW
    /// input and output and OIHW weights, runs them on the given values and times them.
    static func measure(_ s: ConvShape, batch: Int, height: Int, width: Int, x: [Float], weight: [Float],
                        bias: [Float], gy: [Float], expected: [Float], warmup: Int, repeats: Int) -> OneDNNConvTiming {
        let (cin, cout, kh, kw) = (s.inChannels, s.outChannels, s.kernelHeight, s.kernelWidth)
        let pad = s.padding
        let outH = height + pad.0 + pad.1 - s.dilation.0 * (kh - 1), outW = width + pad.2 + pad.3 - s.dilation.1 * (kw - 1)
        let srcDims = [batch, cin, height, width], weiDims = [cout, cin, kh, kw], dstDims = [batch, cout, outH, outW]
        let strides: [Int64] = [1, 1], dilates = [Int64(s.dilation.0 - 1), Int64(s.dilation.1 - 1)]
        let padL = [Int64(pad.0), Int64(pad.2)], padR = [Int64(pad.1), Int64(pad.3)]

        var srcAny = descriptor(srcDims, dnnl_format_tag_any), weiAny = descriptor(weiDims, dnnl_format_tag_any)
        var dstAny = descriptor(dstDims, dnnl_format_tag_any), biasMD = descriptor([cout], dnnl_a)

        var fwdDesc = dnnl_convolution_desc_t()
        check(dnnl_dilated_convolution_forward_desc_init(&fwdDesc, dnnl_forward_training, dnnl_convolution_direct,
                                                        &srcAny, &weiAny, &biasMD, &dstAny, strides, dilates, padL, padR),
              "convolution_forward_desc_init")
        var fwdPD: dnnl_primitive_desc_t?
        check(dnnl_primitive_desc_create(&fwdPD, &fwdDesc, nil, engine, nil), "forward primitive_desc_create")
        let fwd = Primitive(fwdPD!)

        var bdDesc = dnnl_convolution_desc_t()
        check(dnnl_dilated_convolution_backward_data_desc_init(&bdDesc, dnnl_convolution_direct, &srcAny, &weiAny, &dstAny,
                                                              strides, dilates, padL, padR),
              "convolution_backward_data_desc_init")
        var bdPD: dnnl_primitive_desc_t?
        check(dnnl_primitive_desc_create(&bdPD, &bdDesc, nil, engine, fwd.pd), "backward data primitive_desc_create")
        let bwdData = Primitive(bdPD!)

        var bwDesc = dnnl_convolution_desc_t()
        check(dnnl_dilated_convolution_backward_weights_desc_init(&bwDesc, dnnl_convolution_direct, &srcAny, &weiAny,
                                                                 &biasMD, &dstAny, strides, dilates, padL, padR),
              "convolution_backward_weights_desc_init")
        var bwPD: dnnl_primitive_desc_t?
        check(dnnl_primitive_desc_create(&bwPD, &bwDesc, nil, engine, fwd.pd), "backward weights primitive_desc_create")
        let bwdWeights = Primitive(bwPD!)

        var stream: dnnl_stream_t?
        check(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue), "stream_create")
        defer { dnnl_stream_destroy(stream) }

        // The framework's tensors: NCHW input, output and their gradients, OIHW weights.
        let userSrc = Memory(plain: srcDims, tag: dnnl_nchw), userDst = Memory(plain: dstDims, tag: dnnl_nchw)
        let userWei = Memory(plain: weiDims, tag: dnnl_oihw), userBias = Memory(plain: [cout], tag: dnnl_a)
        let userDiffDst = Memory(plain: dstDims, tag: dnnl_nchw), userDiffSrc = Memory(plain: srcDims, tag: dnnl_nchw)
        let userDiffWei = Memory(plain: weiDims, tag: dnnl_oihw), diffBias = Memory(plain: [cout], tag: dnnl_a)
        x.withUnsafeBufferPointer { userSrc.floats.update(from: $0.baseAddress!, count: x.count) }
        bias.withUnsafeBufferPointer { userBias.floats.update(from: $0.baseAddress!, count: bias.count) }
        gy.withUnsafeBufferPointer { userDiffDst.floats.update(from: $0.baseAddress!, count: gy.count) }
        let mask = s.mask?.data ?? [Float](repeating: 1, count: weight.count)

        // The primitives' layouts, shared where two of them want the same one.
        let (fSrc, fSrcR) = layout(userSrc, fwd.md(dnnl_query_src_md), into: true)
        let (fWei, fWeiR) = layout(userWei, fwd.md(dnnl_query_weights_md), into: true)
        let (fDst, fDstR) = layout(userDst, fwd.md(dnnl_query_dst_md), into: false)
        let bdWeiMD = bwdData.md(dnnl_query_weights_md), bdDiffDstMD = bwdData.md(dnnl_query_diff_dst_md)
        let (bdWei, bdWeiR) = fWei.sameLayout(bdWeiMD) ? (fWei, nil) : layout(userWei, bdWeiMD, into: true)
        let (bdDiffDst, bdDiffDstR) = layout(userDiffDst, bdDiffDstMD, into: true)
        let (bdDiffSrc, bdDiffSrcR) = layout(userDiffSrc, bwdData.md(dnnl_query_diff_src_md), into: false)
        let bwSrcMD = bwdWeights.md(dnnl_query_src_md), bwDiffDstMD = bwdWeights.md(dnnl_query_diff_dst_md)
        let (bwSrc, bwSrcR) = fSrc.sameLayout(bwSrcMD) ? (fSrc, nil) : layout(userSrc, bwSrcMD, into: true)
        let (bwDiffDst, bwDiffDstR) = bdDiffDst.sameLayout(bwDiffDstMD) ? (bdDiffDst, nil)
            : layout(userDiffDst, bwDiffDstMD, into: true)
        let (bwDiffWei, bwDiffWeiR) = layout(userDiffWei, bwdWeights.md(dnnl_query_diff_weights_md), into: false)

        /// Runs a reorder between the two memories, if there is one.
        func reorder(_ r: Primitive?, _ from: Memory, _ to: Memory) {
            r?.execute(stream!, [(argSrc, from), (argDst, to)])
        }
        /// One timed piece of a step: (is it a convolution primitive, what it does).
        typealias Op = (conv: Bool, run: () -> Void)
        let maskWeights: Op = (false, {
            weight.withUnsafeBufferPointer { w in for i in 0..<w.count { userWei.floats[i] = w[i] * mask[i] } }
        })
        let forwardOps: [Op] = [
            maskWeights,
            (false, { reorder(fSrcR, userSrc, fSrc); reorder(fWeiR, userWei, fWei) }),
            (true, { fwd.execute(stream!, [(argSrc, fSrc), (argWeights, fWei), (argBias, userBias), (argDst, fDst)]) }),
            (false, { reorder(fDstR, fDst, userDst) }),
        ]
        var backwardOps: [Op] = []
        if s.inputGrad {
            backwardOps += [
                (false, { reorder(bdDiffDstR, userDiffDst, bdDiffDst); if bdWei !== fWei { reorder(bdWeiR, userWei, bdWei) } }),
                (true, { bwdData.execute(stream!, [(argDiffDst, bdDiffDst), (argWeights, bdWei), (argDiffSrc, bdDiffSrc)]) }),
                (false, { reorder(bdDiffSrcR, bdDiffSrc, userDiffSrc) }),
            ]
        }
        backwardOps += [
            (false, {
                if bwSrc !== fSrc { reorder(bwSrcR, userSrc, bwSrc) }
                if bwDiffDst !== bdDiffDst {
                    reorder(bwDiffDstR, userDiffDst, bwDiffDst)
                } else if !s.inputGrad {  // shared with backward data, which did not run
                    reorder(bdDiffDstR, userDiffDst, bdDiffDst)
                }
            }),
            (true, {
                bwdWeights.execute(stream!, [(argSrc, bwSrc), (argDiffDst, bwDiffDst), (argDiffWeights, bwDiffWei),
                                             (argDiffBias, diffBias)])
            }),
            (false, {  // back to OIHW, masked: masked weights get no gradient
                reorder(bwDiffWeiR, bwDiffWei, userDiffWei)
                for i in 0..<mask.count { userDiffWei.floats[i] *= mask[i] }
            }),
        ]

        /// Seconds of each timed step: whole, and convolution primitives only.
        func time(_ ops: [Op]) -> (all: [Double], conv: [Double]) {
            var conv: [Double] = []
            let all = Timing.steps(warmup: warmup, repeats: repeats) {
                conv.append(ops.reduce(0.0) { sum, op in
                    let dt = Timing.seconds(op.run)
                    return op.conv ? sum + dt : sum
                })
            }
            return (all, Array(conv.suffix(all.count)))
        }

        for op in forwardOps { op.run() }
        var maxDiff: Float = 0
        for i in 0..<expected.count { maxDiff = max(maxDiff, abs(userDst.floats[i] - expected[i])) }

        let f = time(forwardOps), fb = time(forwardOps + backwardOps)
        return OneDNNConvTiming(
            library: library,
            implementations: (fwd.implementation, s.inputGrad ? bwdData.implementation : "-", bwdWeights.implementation),
            forward: Summary(f.all), forwardBackward: Summary(fb.all),
            forwardPrimitive: Summary(f.conv), forwardBackwardPrimitive: Summary(fb.conv),
            maxAbsDiff: maxDiff)
    }
}
