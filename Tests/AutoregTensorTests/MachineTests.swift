import AutoregTensor
import XCTest

/// The machine report agrees with itself: the CPU's widest vector extension, the clone of the
/// C loops that glibc's resolver picked and oneDNN's ISA name the same level.
final class MachineTests: XCTestCase {
    func testKernelCloneAndOneDNNMatchTheCPUFlags() throws {
        #if arch(x86_64) && os(Linux)
        switch Machine.vectorExtension {
        case "AVX-512":
            XCTAssertEqual(Machine.kernelLevel, "x86-64-v4", Machine.summary)
            XCTAssertTrue(Machine.oneDNNISA.hasPrefix("avx512"), Machine.summary)
        case "AVX2":
            XCTAssertEqual(Machine.kernelLevel, "x86-64-v3", Machine.summary)
            XCTAssertTrue(Machine.oneDNNISA.hasPrefix("avx2"), Machine.summary)
        default:
            XCTAssertEqual(Machine.kernelLevel, "x86-64", Machine.summary)
        }
        XCTAssertFalse(Machine.cpu.hasPrefix("unknown"), Machine.summary)
        XCTAssertTrue(Machine.cpu.contains("family"), "x86 /proc/cpuinfo has family and model: \(Machine.cpu)")
        #else
        throw XCTSkip("the machine report's checks are for x86-64 Linux (here: \(Machine.summary))")
        #endif
    }
}
