// PNG decoding from arbitrary bytes; a thrown ImagingError is a correct answer. The pixel
// cap is left at its default, so the caps themselves are under test.
//
// Mutated bytes rarely keep a chunk's CRC or the zlib stream's checksum right, so each input
// is decoded three ways: as it is; with every chunk CRC recomputed; and as the recipe for a
// well-formed file (IHDR fields, palette and transparency from the first bytes, the rest as
// filtered scanlines stored in an uncompressed zlib stream), which reaches the unfiltering
// and sample conversion with any header and any amount of data.
import AutoregPNG

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    check(bytes)
    let fixed = withCorrectCRCs(bytes)
    if fixed != bytes { check(fixed) }
    if let built = wellFormedPNG(from: bytes) { check(built) }
    return 0
}

private func check(_ bytes: [UInt8]) {
    guard let image = try? PNG.decode(bytes, path: "fuzz") else { return }
    precondition(image.width * image.height <= PNG.maxPixels)
    precondition(image.pixels.count == image.width * image.height * image.channels)
}

/// `bytes` with the CRC of every complete chunk after the signature recomputed.
private func withCorrectCRCs(_ bytes: [UInt8]) -> [UInt8] {
    var out = bytes
    var offset = 8
    while offset + 12 <= out.count {
        let length = Int(out[offset]) << 24 | Int(out[offset + 1]) << 16 | Int(out[offset + 2]) << 8 | Int(out[offset + 3])
        let end = offset + 8 + length
        guard length <= out.count, end + 4 <= out.count else { break }
        out.replaceSubrange(end..<end + 4, with: bigEndian(crc32(out[(offset + 4)..<end])))
        offset = end + 4
    }
    return out
}

/// A PNG with valid structure built from the input: byte 0 and 1 give width and height
/// (1...64), byte 2 picks colour type and bit depth (any pair, valid or not), byte 3 the
/// number of palette entries, byte 4 the tRNS length; palette and tRNS bytes follow, and
/// everything after them is the scanline data.
private func wellFormedPNG(from input: [UInt8]) -> [UInt8]? {
    guard input.count >= 5 else { return nil }
    let width = 1 + Int(input[0] % 64), height = 1 + Int(input[1] % 64)
    let types: [UInt8] = [0, 2, 3, 4, 6], depths: [UInt8] = [1, 2, 4, 8, 16]
    let colourType = types[Int(input[2] % 5)], bitDepth = depths[Int(input[2] / 5 % 5)]
    var rest = input[5...]
    let paletteBytes = min(3 * Int(input[3]), rest.count)
    let palette = Array(rest.prefix(paletteBytes)); rest = rest.dropFirst(paletteBytes)
    let transparencyBytes = min(Int(input[4]), rest.count)
    let transparency = Array(rest.prefix(transparencyBytes)); rest = rest.dropFirst(transparencyBytes)

    var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    file += chunk("IHDR", bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [bitDepth, colourType, 0, 0, 0])
    if !palette.isEmpty { file += chunk("PLTE", palette) }
    if input[4] != 0 { file += chunk("tRNS", transparency) }
    file += chunk("IDAT", storedZlib(Array(rest)))
    file += chunk("IEND", [])
    return file
}

/// A zlib stream holding `data` in stored (uncompressed) deflate blocks.
private func storedZlib(_ data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x78, 0x01]
    var offset = 0
    repeat {
        let n = min(65535, data.count - offset)
        let last: UInt8 = offset + n == data.count ? 1 : 0
        out += [last, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
        out += data[offset..<offset + n]
        offset += n
    } while offset < data.count
    var a: UInt32 = 1, b: UInt32 = 0
    for byte in data { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
    return out + bigEndian(b << 16 | a)
}

private func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let body = Array(type.utf8) + data
    return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body[...]))
}

private func bigEndian(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
}

private let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
    var c = UInt32(n)
    for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
}

/// CRC-32 as PNG (and zlib) computes it.
private func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for byte in bytes { c = crcTable[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
    return c ^ 0xFFFF_FFFF
}
