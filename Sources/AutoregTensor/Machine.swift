import CDNNL
import CKernels
import Foundation

/// The CPU this process runs on and the instruction sets the engine uses on it, for
/// benchmark reports: the machines here differ from day to day (AMD EPYC with AVX2 or with
/// AVX-512, Intel Xeon with AVX-512), and a figure means little without knowing which.
public enum Machine {
    /// The CPU's model name with its family and model numbers ("AMD EPYC, family 25 model 17"),
    /// from /proc/cpuinfo; a virtual machine's model name alone may not tell Zen 3 from Zen 4.
    public static let cpu: String = {
        let fields = cpuinfoFields
        var name = fields["model name"] ?? fields["Hardware"] ?? "unknown CPU"
        if let family = fields["cpu family"], let model = fields["model"] {
            name += ", family \(family) model \(model)"
        }
        return name
    }()

    /// The widest SIMD extension the CPU reports: "AVX-512", "AVX2", "AVX", "SSE2", "NEON",
    /// or "unknown" where /proc/cpuinfo cannot be read.
    public static let vectorExtension: String = {
        guard let flags = (cpuinfoFields["flags"] ?? cpuinfoFields["Features"]).map({
            Set($0.split(separator: " ").map(String.init))
        }) else { return "unknown" }
        if flags.contains("avx512f") { return "AVX-512" }
        if flags.contains("avx2") { return "AVX2" }
        if flags.contains("avx") { return "AVX" }
        if flags.contains("asimd") { return "NEON" }
        if flags.contains("sse2") { return "SSE2" }
        return "unknown"
    }()

    /// The instruction set of oneDNN's GEMM kernels on this CPU (`dnnl_get_effective_cpu_isa`).
    public static var oneDNNISA: String {
        switch dnnl_get_effective_cpu_isa().rawValue {
        case 0x1: return "sse41"
        case 0x3: return "avx"
        case 0x7: return "avx2"
        case 0x407: return "avx2_vnni"
        case 0x27: return "avx512_core"
        case 0x67: return "avx512_core_vnni"
        case 0xe7: return "avx512_core_bf16"
        case 0x3e7: return "avx512_core_amx"
        case let raw: return "isa 0x" + String(raw, radix: 16)
        }
    }

    /// The clone of the C hot loops that runs here: "x86-64-v4" (AVX-512), "x86-64-v3" (AVX2
    /// and FMA), "x86-64" (baseline), or "compiled for the target" (no run-time dispatch).
    public static var kernelLevel: String {
        switch ar_kernel_level() {
        case 4: return "x86-64-v4"
        case 3: return "x86-64-v3"
        case 1: return "x86-64"
        default: return "compiled for the target"
        }
    }

    /// One line for a report: "AMD EPYC, family 25 model 17; AVX-512; oneDNN avx512_core_bf16;
    /// C kernels x86-64-v4".
    public static var summary: String {
        "\(cpu); \(vectorExtension); oneDNN \(oneDNNISA); C kernels \(kernelLevel)"
    }

    /// The first processor's "key: value" lines of /proc/cpuinfo (empty where it is absent).
    private static let cpuinfoFields: [String: String] = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [:] }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty, !fields.isEmpty { break }  // the end of the first processor's block
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if fields[key] == nil { fields[key] = value }
        }
        return fields
    }()
}
