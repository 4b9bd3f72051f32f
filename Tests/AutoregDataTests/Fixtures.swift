import AutoregData
import CZlib
import Foundation
import XCTest

/// A small deterministic generator for tests (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A fresh temporary directory, removed when the test ends.
func makeTemporaryDirectory(_ test: XCTestCase) throws -> String {
    let path = NSTemporaryDirectory() + "autoreg-data-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// Writes `bytes` to `path`, gzip-compressed when `gzip` is true.
func writeFixture(_ bytes: [UInt8], to path: String, gzip: Bool = false) throws {
    if gzip {
        guard let file = gzopen(path, "wb") else { throw CocoaError(.fileWriteUnknown) }
        let written = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
        XCTAssertEqual(Int(written), bytes.count)
        XCTAssertEqual(gzclose(file), Z_OK)
    } else {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}

func bigEndian(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
}

/// The bytes of an IDX image file with the given header fields and payload.
func idxImages(count: Int, rows: Int, columns: Int, pixels: [UInt8], magic: UInt32 = 0x0000_0803) -> [UInt8] {
    bigEndian(magic) + bigEndian(UInt32(count)) + bigEndian(UInt32(rows)) + bigEndian(UInt32(columns)) + pixels
}

/// The bytes of an IDX label file.
func idxLabels(_ labels: [UInt8], magic: UInt32 = 0x0000_0801) -> [UInt8] {
    bigEndian(magic) + bigEndian(UInt32(labels.count)) + labels
}

/// `count` deterministic 28x28 8-bit images.
func sampleMNISTPixels(count: Int) -> [UInt8] {
    (0..<count * 784).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ $0 / 784) }
}

/// Runs `body`, which must throw a ``DataError`` whose description mentions `fileName`; returns it.
@discardableResult
func expectDataError<T>(mentioning fileName: String, file: StaticString = #filePath, line: UInt = #line,
                        _ body: () throws -> T) -> DataError? {
    do {
        _ = try body()
        XCTFail("expected an error mentioning \(fileName)", file: file, line: line)
    } catch let error as DataError {
        XCTAssertTrue(error.description.contains(fileName), "\"\(error)\" does not mention \(fileName)", file: file, line: line)
        return error
    } catch {
        XCTFail("expected a DataError, got \(error)", file: file, line: line)
    }
    return nil
}
