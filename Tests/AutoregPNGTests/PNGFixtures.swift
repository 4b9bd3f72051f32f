import CZlib
import Foundation
import XCTest

/// Builds a PNG file by hand from already filtered scanlines (each row prefixed by its filter type).
func handBuiltPNG(width: Int, height: Int, bitDepth: UInt8, colorType: UInt8, interlace: UInt8 = 0,
                  scanlines: [UInt8], chunksBeforeData: [(String, [UInt8])] = []) -> [UInt8] {
    var compressed = [UInt8](repeating: 0, count: Int(compressBound(UInt(scanlines.count))))
    var size = UInt(compressed.count)
    precondition(compress2(&compressed, &size, scanlines, UInt(scanlines.count), 6) == Z_OK)
    let header = be32(width) + be32(height) + [bitDepth, colorType, 0, 0, interlace]
    var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    file += chunk("IHDR", header)
    for (type, data) in chunksBeforeData { file += chunk(type, data) }
    file += chunk("IDAT", Array(compressed.prefix(Int(size))))
    file += chunk("IEND", [])
    return file
}

func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let body = Array(type.utf8) + data
    let crc = body.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) }
    return be32(data.count) + body + be32(Int(crc))
}

func be32(_ value: Int) -> [UInt8] {
    [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
}

/// A fresh temporary directory, removed when the test ends.
func temporaryDirectory(_ test: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "autoreg-png-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// Deterministic pseudo-random bytes.
func noiseBytes(_ count: Int, seed: UInt32) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 1_664_525 &+ 1_013_904_223
        return UInt8(state >> 24)
    }
}
