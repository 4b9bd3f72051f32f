import AutoregPNG
import Foundation
import XCTest

/// Decoding of hand-built PNGs, with filtered bytes worked out by hand.
final class PNGDecoderTests: XCTestCase {
    func testEachFilterTypeDecodes() throws {
        // 3x5 grey image; row r uses filter type r.
        let expected: [UInt8] = [
            10, 20, 30,
            15, 25, 40,
            20, 200, 50,
            30, 100, 255,
            0, 128, 60,
        ]
        let scanlines: [UInt8] = [
            0, 10, 20, 30,     // none
            1, 15, 10, 15,     // sub: 15, 25-15, 40-25
            2, 5, 175, 10,     // up: 20-15, 200-25, 50-40
            3, 20, 241, 180,   // average: 30-(0+20)/2, 100-(30+200)/2 = -15, 255-(100+50)/2
            4, 226, 28, 61,    // paeth: 0-30 = -30, 128-100, 60-255 = -195
        ]
        let png = handBuiltPNG(width: 3, height: 5, bitDepth: 8, colorType: 0, scanlines: scanlines)
        XCTAssertEqual(try PNG.decode(png), RasterImage(width: 3, height: 5, channels: 1, pixels: expected))
    }

    func testSubAverageAndPaethUsePixelStrideForRGB() throws {
        // 2x3 RGB: the left neighbour of a byte is 3 bytes back.
        let expected: [UInt8] = [
            10, 20, 30, 40, 50, 60,
            11, 22, 33, 44, 55, 66,
            12, 200, 0, 100, 100, 100,
        ]
        let scanlines: [UInt8] = [
            1, 10, 20, 30, 30, 30, 30,      // sub: 40-10, 50-20, 60-30
            3, 6, 12, 18, 19, 19, 20,       // average: 11-(0+10)/2, ..., 44-(11+40)/2, 55-(22+50)/2, 66-(33+60)/2
            4, 1, 178, 223, 56, 156, 67,    // paeth: picks up (11, 22, 33, 44), left (200) and upper-left (33)
        ]
        let png = handBuiltPNG(width: 2, height: 3, bitDepth: 8, colorType: 2, scanlines: scanlines)
        XCTAssertEqual(try PNG.decode(png), RasterImage(width: 2, height: 3, channels: 3, pixels: expected))
    }

    func testOneBitGrey() throws {
        let png = handBuiltPNG(width: 10, height: 2, bitDepth: 1, colorType: 0, scanlines: [0, 0xB3, 0x80, 0, 0x00, 0x40])
        let bits: [UInt8] = [1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
        XCTAssertEqual(try PNG.decode(png).pixels, bits.map { $0 * 255 })
    }

    func testTwoBitPaletteWithTransparency() throws {
        let palette: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255]
        let png = handBuiltPNG(width: 3, height: 1, bitDepth: 2, colorType: 3, scanlines: [0, 0b1000_0100],
                               chunksBeforeData: [("PLTE", palette), ("tRNS", [255, 128])])
        let image = try PNG.decode(png)
        XCTAssertEqual(image.channels, 4)
        XCTAssertEqual(image.pixels, [0, 0, 255, 255, 255, 0, 0, 255, 0, 255, 0, 128])
    }

    func testSixteenBitGreyIsRounded() throws {
        let png = handBuiltPNG(width: 3, height: 1, bitDepth: 16, colorType: 0, scanlines: [0, 0x00, 0x00, 0xFF, 0xFF, 0x12, 0x34])
        XCTAssertEqual(try PNG.decode(png).pixels, [0, 255, 18])
    }

    func testAncillaryChunksAreSkipped() throws {
        let png = handBuiltPNG(width: 1, height: 1, bitDepth: 8, colorType: 0, scanlines: [0, 77],
                               chunksBeforeData: [("tEXt", Array("Comment\0hi".utf8))])
        XCTAssertEqual(try PNG.decode(png).pixels, [77])
    }
}
