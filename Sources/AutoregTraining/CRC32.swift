import CZlib

/// CRC-32 (the zlib / PNG polynomial) of `bytes`, continuing from `crc` (0 to start).
/// zlib takes at most `UInt32.max` bytes a call, so long buffers go in chunks.
func crc32Checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
    guard var base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return crc }
    var remaining = bytes.count
    var value = UInt(crc)
    while remaining > 0 {
        let n = min(remaining, 1 << 30)
        value = crc32(value, base, UInt32(n))
        base += n
        remaining -= n
    }
    return UInt32(truncatingIfNeeded: value)
}
