import AutoregData
import Foundation
import XCTest

final class AmatReaderTests: XCTestCase {
    func testReadsPlainAndGzip() throws {
        let dir = try makeTemporaryDirectory(self)
        let text = "0 1 1 0\n1 1 1 1\n0 0 0 0\n"
        for gzip in [false, true] {
            let path = "\(dir)/small.amat" + (gzip ? ".gz" : "")
            try writeFixture(Array(text.utf8), to: path, gzip: gzip)
            let matrix = try Amat.readBinary(path: path)
            XCTAssertEqual(matrix.rows, 3)
            XCTAssertEqual(matrix.columns, 4)
            XCTAssertEqual(matrix.values, [0, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0])
        }
    }

    func testAcceptsDecimalTokensCRLFAndMissingFinalNewline() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = "\(dir)/decimal.amat"
        try writeFixture(Array("0.0 1.0  1\r\n1e0\t0 0.000".utf8), to: path)
        let matrix = try Amat.readBinary(path: path)
        XCTAssertEqual(matrix.rows, 2)
        XCTAssertEqual(matrix.values, [0, 1, 1, 1, 0, 0])
    }

    func testValueOutOfRangeGivesLineNumber() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = "\(dir)/bad-value.amat"
        try writeFixture(Array("0 1 0\n1 0 1\n0 2 0\n".utf8), to: path)
        let error = expectDataError(mentioning: "bad-value.amat") { try Amat.readBinary(path: path) }
        guard case .valueOutOfRange(_, 3, 2, "2", _)? = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertEqual(error?.description.contains("bad-value.amat:3"), true)

        try writeFixture(Array("0 1 0\n1 0.5 1\n".utf8), to: path)
        guard case .valueOutOfRange(_, 2, 2, "0.5", _)? = expectDataError(mentioning: "bad-value.amat", { try Amat.readBinary(path: path) }) else {
            return XCTFail("expected 0.5 to be rejected")
        }
    }

    func testInconsistentLineLength() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = "\(dir)/ragged.amat.gz"
        try writeFixture(Array("0 1 0\n1 0 1\n1 1\n0 0 0\n".utf8), to: path, gzip: true)
        guard case .inconsistentLineLength(_, 3, 3, 2)? = expectDataError(mentioning: "ragged.amat.gz", { try Amat.readBinary(path: path) }) else {
            return XCTFail("expected inconsistent line length at line 3")
        }
    }

    func testEmptyFileAndMissingFile() throws {
        let dir = try makeTemporaryDirectory(self)
        try writeFixture([], to: "\(dir)/empty.amat")
        expectDataError(mentioning: "empty.amat") { try Amat.readBinary(path: "\(dir)/empty.amat") }
        guard case .missingFile? = expectDataError(mentioning: "absent.amat", { try Amat.readBinary(path: "\(dir)/absent.amat") }) else {
            return XCTFail("expected missingFile")
        }
    }
}
