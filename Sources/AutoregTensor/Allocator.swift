import CKernels

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
