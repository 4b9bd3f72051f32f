import AutoregPNG
import Foundation
import XCTest

final class PNGRoundTripTests: XCTestCase {
    func testWriteThenReadGivesIdenticalBytes() throws {
        let dir = try temporaryDirectory(self)
        let shapes: [(width: Int, height: Int, channels: Int)] = [(7, 5, 1), (13, 3, 3), (3, 9, 2), (5, 2, 4), (1, 1, 1), (28, 28, 1)]
        for (index, shape) in shapes.enumerated() {
            let pixels = noiseBytes(shape.width * shape.height * shape.channels, seed: UInt32(index))
            let image = RasterImage(width: shape.width, height: shape.height, channels: shape.channels, pixels: pixels)
            for filter in [nil] + PNGFilter.allCases.map(Optional.some) {
                let path = "\(dir)/image-\(index)-\(String(describing: filter)).png"
                try PNG.write(image, to: path, filter: filter)
                XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp"), "temporary file left behind")
                XCTAssertEqual(try PNG.read(path: path), image, "shape \(shape), filter \(String(describing: filter))")
            }
        }
    }

    func testSmoothImageCompresses() throws {
        let gradient = RasterImage(width: 64, height: 64, channels: 1, pixels: (0..<4096).map { UInt8(($0 % 64 + $0 / 64) % 256) })
        let bytes = try PNG.encode(gradient)
        XCTAssertLessThan(bytes.count, 4096 / 4)
        XCTAssertEqual(try PNG.decode(bytes), gradient)
    }

    func testOverwriteExistingFile() throws {
        let dir = try temporaryDirectory(self)
        let path = "\(dir)/same.png"
        try PNG.write(RasterImage(width: 2, height: 2, fill: [1]), to: path)
        let second = RasterImage(width: 3, height: 1, fill: [9, 8, 7])
        try PNG.write(second, to: path)
        XCTAssertEqual(try PNG.read(path: path), second)
    }

    func testWriteIntoMissingDirectoryNamesPath() throws {
        let path = "/nonexistent-autoreg-dir/out.png"
        XCTAssertThrowsError(try PNG.write(RasterImage(width: 1, height: 1, fill: [0]), to: path)) { error in
            XCTAssertTrue(String(describing: error).contains(path), "\(error)")
        }
    }

    func testFileStartsWithPNGSignatureAndIHDR() throws {
        let bytes = try PNG.encode(RasterImage(width: 3, height: 2, fill: [10, 20, 30]))
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertEqual(Array(bytes[12..<16]), Array("IHDR".utf8))
        XCTAssertEqual(Array(bytes[16..<26]), [0, 0, 0, 3, 0, 0, 0, 2, 8, 2], "width 3, height 2, 8-bit RGB")
        XCTAssertEqual(Array(bytes.suffix(12)), [0, 0, 0, 0] + Array("IEND".utf8) + [0xAE, 0x42, 0x60, 0x82])
    }
}
