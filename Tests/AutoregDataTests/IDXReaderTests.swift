import AutoregData
import Foundation
import XCTest

final class IDXReaderTests: XCTestCase {
    func testReadsPlainAndGzipImagesAndLabels() throws {
        let dir = try makeTemporaryDirectory(self)
        let pixels: [UInt8] = (0..<2 * 3 * 4).map { UInt8($0 * 10) }
        for gzip in [false, true] {
            let suffix = gzip ? ".gz" : ""
            try writeFixture(idxImages(count: 2, rows: 3, columns: 4, pixels: pixels), to: "\(dir)/img\(suffix)", gzip: gzip)
            try writeFixture(idxLabels([7, 2]), to: "\(dir)/lab\(suffix)", gzip: gzip)
            let images = try IDX.readImages(path: "\(dir)/img\(suffix)")
            XCTAssertEqual(images.count, 2)
            XCTAssertEqual(images.rows, 3)
            XCTAssertEqual(images.columns, 4)
            XCTAssertEqual(images.pixels, pixels)
            XCTAssertEqual(try IDX.readLabels(path: "\(dir)/lab\(suffix)"), [7, 2])
        }
    }

    func testMissingFile() throws {
        let dir = try makeTemporaryDirectory(self)
        let error = expectDataError(mentioning: "nothing-here-idx3-ubyte") { try IDX.readImages(path: "\(dir)/nothing-here-idx3-ubyte") }
        guard case .missingFile? = error else { return XCTFail("got \(String(describing: error))") }
    }

    func testWrongMagicNamesBothNumbers() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = "\(dir)/t10k-images-idx3-ubyte.gz"
        try writeFixture(idxLabels([1, 2, 3]), to: path, gzip: true)
        let error = expectDataError(mentioning: "t10k-images-idx3-ubyte.gz") { try IDX.readImages(path: path) }
        XCTAssertEqual(error?.description.contains("wrong magic number 0x00000801, expected 0x00000803"), true)
    }

    func testImplausibleDimensions() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = "\(dir)/zero-rows-idx3-ubyte"
        try writeFixture(idxImages(count: 1, rows: 0, columns: 28, pixels: []), to: path)
        guard case .wrongDimensions? = expectDataError(mentioning: "zero-rows-idx3-ubyte", { try IDX.readImages(path: path) }) else {
            return XCTFail("expected wrongDimensions")
        }
    }

    func testTruncatedPayloadAndTrailingData() throws {
        let dir = try makeTemporaryDirectory(self)
        let full = idxImages(count: 2, rows: 2, columns: 2, pixels: Array(repeating: 5, count: 8))
        try writeFixture(Array(full.dropLast(3)), to: "\(dir)/short-idx3-ubyte")
        guard case .truncated(_, 24, 21)? = expectDataError(mentioning: "short-idx3-ubyte", { try IDX.readImages(path: "\(dir)/short-idx3-ubyte") }) else {
            return XCTFail("expected truncated 24/21")
        }
        try writeFixture(full + [0], to: "\(dir)/long-idx3-ubyte")
        guard case .trailingData(_, 24, 25)? = expectDataError(mentioning: "long-idx3-ubyte", { try IDX.readImages(path: "\(dir)/long-idx3-ubyte") }) else {
            return XCTFail("expected trailing data 24/25")
        }
        try writeFixture(Array(full.prefix(10)), to: "\(dir)/header-idx3-ubyte")
        guard case .truncated? = expectDataError(mentioning: "header-idx3-ubyte", { try IDX.readImages(path: "\(dir)/header-idx3-ubyte") }) else {
            return XCTFail("expected truncated header")
        }
    }

    func testTruncatedGzipStreamIsReported() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = "\(dir)/cut-labels-idx1-ubyte.gz"
        let labels = (0..<5000).map { UInt8($0 * 7 % 251) }
        try writeFixture(idxLabels(labels), to: path, gzip: true)
        let compressed = try Data(contentsOf: URL(fileURLWithPath: path))
        try writeFixture([UInt8](compressed.prefix(compressed.count / 2)), to: path)
        guard case .corruptCompression? = expectDataError(mentioning: "cut-labels-idx1-ubyte.gz", { try IDX.readLabels(path: path) }) else {
            return XCTFail("expected corruptCompression")
        }
    }

    func testDamagedGzipChecksumIsReported() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = "\(dir)/bad-crc-labels-idx1-ubyte.gz"
        try writeFixture(idxLabels(Array(repeating: 3, count: 100)), to: path, gzip: true)
        var compressed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        compressed[compressed.count - 6] ^= 0xFF  // inside the CRC-32 trailer
        try writeFixture(compressed, to: path)
        XCTAssertNotNil(expectDataError(mentioning: "bad-crc-labels-idx1-ubyte.gz") { try IDX.readLabels(path: path) })
    }
}
