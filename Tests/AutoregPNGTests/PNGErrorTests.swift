import AutoregPNG
import Foundation
import XCTest

final class PNGErrorTests: XCTestCase {
    private func assertRejected(_ bytes: [UInt8], name: String, containing detail: String,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let path = try temporaryDirectory(self) + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try PNG.read(path: path), file: file, line: line) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains(path), "\"\(text)\" lacks the path", file: file, line: line)
            XCTAssertTrue(text.contains(detail), "\"\(text)\" lacks \"\(detail)\"", file: file, line: line)
        }
    }

    private func sample() throws -> [UInt8] {
        try PNG.encode(RasterImage(width: 20, height: 20, channels: 3, pixels: noiseBytes(1200, seed: 1)))
    }

    func testCorruptedCRC() throws {
        var bytes = try sample()
        let idat = bytes.indices.first { Array(bytes[$0..<$0 + 4]) == Array("IDAT".utf8) }!
        bytes[idat + 10] ^= 0x01
        try assertRejected(bytes, name: "damaged.png", containing: "bad CRC in IDAT")
    }

    func testTruncated() throws {
        let bytes = try sample()
        try assertRejected(Array(bytes.prefix(bytes.count / 2)), name: "half.png", containing: "truncated")
        try assertRejected(Array(bytes.dropLast(12)), name: "no-iend.png", containing: "truncated")
        try assertRejected(Array(bytes.prefix(5)), name: "tiny.png", containing: "truncated")
    }

    func testNotAPNG() throws {
        try assertRejected(Array("hello, world".utf8), name: "text.png", containing: "not a PNG")
    }

    func testInterlacedIsUnsupported() throws {
        let png = handBuiltPNG(width: 1, height: 1, bitDepth: 8, colorType: 0, interlace: 1, scanlines: [0, 0])
        try assertRejected(png, name: "interlaced.png", containing: "interlaced")
    }

    func testInvalidFilterType() throws {
        let png = handBuiltPNG(width: 2, height: 1, bitDepth: 8, colorType: 0, scanlines: [7, 1, 2])
        try assertRejected(png, name: "filter7.png", containing: "invalid filter type 7")
    }

    func testImageDataOfWrongSize() throws {
        let short = handBuiltPNG(width: 4, height: 2, bitDepth: 8, colorType: 0, scanlines: [0, 1, 2, 3, 4])
        try assertRejected(short, name: "short-data.png", containing: "expected 10")
        let long = handBuiltPNG(width: 1, height: 1, bitDepth: 8, colorType: 0, scanlines: [0, 1, 0, 2])
        try assertRejected(long, name: "long-data.png", containing: "larger")
    }

    func testMissingFile() throws {
        let path = "/nonexistent-autoreg/missing.png"
        XCTAssertThrowsError(try PNG.read(path: path)) { error in
            XCTAssertTrue(String(describing: error).contains(path))
        }
    }
}
