import CKernels
import Foundation

/// Process-wide memory settings for the engine.
public enum Allocator {
    /// Makes glibc keep freed blocks for reuse instead of handing them back to the system.
    ///
    /// Every training step allocates and frees the same large activation and gradient
    /// buffers; by default glibc serves blocks above 128 KiB with fresh `mmap` pages, which the
    /// kernel zeroes on first touch — a third of the Gated PixelCNN's training time went there.
    /// Call once at start-up; a no-op on other C libraries.
    public static func keepFreedMemory() { ar_tune_allocator() }
}

extension Allocator {
    /// The machine's physical memory in bytes.
    public static var physicalMemory: Double { Double(ProcessInfo.processInfo.physicalMemory) }

    /// Throws a `MemoryRequestError` naming `what` and the size when `bytes` exceeds the
    /// machine's physical memory: a size option or file header that asks for more than can be
    /// allocated gets an error instead of an abort in the allocator (or hours of swapping).
    public static func require(bytes: Double, for what: String) throws {
        guard bytes.isFinite, bytes <= physicalMemory else {
            throw MemoryRequestError(what: what, bytes: bytes, available: physicalMemory)
        }
    }
}

/// A request for more memory than the machine has.
public struct MemoryRequestError: Error, CustomStringConvertible {
    public let what: String
    public let bytes: Double
    public let available: Double
    public var description: String {
        "\(what) needs about \(formatBytes(bytes)), more than this machine's \(formatBytes(available)) of memory"
    }
}

/// "3.2 GiB", "850 MiB", "1.2e+04 TiB".
public func formatBytes(_ bytes: Double) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
    var value = bytes, unit = 0
    while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
    if !value.isFinite { return "an unbounded amount" }
    return value >= 1e4 ? String(format: "%.1e %@", value, units[unit]) : String(format: "%.1f %@", value, units[unit])
}
