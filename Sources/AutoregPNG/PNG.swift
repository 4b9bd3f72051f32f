import CZlib

/// PNG encoding and decoding over zlib. See `PNG.encode`/`PNG.write` and `PNG.decode`/`PNG.read`.
public enum PNG {
    /// The eight bytes every PNG file starts with.
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// PNG colour type for a channel count: grey, grey+alpha, RGB, RGBA.
    static func colorType(channels: Int) -> UInt8 {
        [0, 4, 2, 6][channels - 1]
    }

    /// CRC-32 of a chunk's type and data, as stored after the chunk.
    static func chunkCRC(type: [UInt8], data: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var crc = type.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) }
        crc = crc32(crc, data.baseAddress, UInt32(data.count))
        return UInt32(truncatingIfNeeded: crc)
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
    }

    func bigEndianUInt32(at offset: Int) -> UInt32 {
        self[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }
}
