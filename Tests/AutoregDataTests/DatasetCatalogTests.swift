import AutoregData
import Foundation
import XCTest

/// Catalog behaviour on small fixture directories.
final class DatasetCatalogTests: XCTestCase {
    func testLoadsIDXTestSplitFromExplicitDirectory() throws {
        let dir = try makeTemporaryDirectory(self)
        let pixels = sampleMNISTPixels(count: 3)
        try writeFixture(idxImages(count: 3, rows: 28, columns: 28, pixels: pixels), to: "\(dir)/t10k-images-idx3-ubyte.gz", gzip: true)
        try writeFixture(idxLabels([4, 0, 9]), to: "\(dir)/t10k-labels-idx1-ubyte")
        let test = try DatasetCatalog.load(name: .mnist, split: .test, dataDirectory: dir)
        XCTAssertEqual(test.count, 3)
        XCTAssertEqual(test.height, 28)
        XCTAssertEqual(test.levels, 256)
        XCTAssertEqual(test.pixels, pixels)
        XCTAssertEqual(test.labels, [4, 0, 9])
        XCTAssertEqual(DatasetCatalog.locate(name: .mnist, split: .test, dataDirectory: dir), dir)
        XCTAssertNil(DatasetCatalog.locate(name: .mnist, dataDirectory: dir), "train files are absent")
    }

    func testExplicitDirectoryMayBeTheRootOfPerDatasetFolders() throws {
        let root = try makeTemporaryDirectory(self)
        try FileManager.default.createDirectory(atPath: "\(root)/binarized-mnist", withIntermediateDirectories: true)
        let line = (0..<784).map { String($0 % 3 == 0 ? 1 : 0) }.joined(separator: " ")
        try writeFixture(Array((line + "\n" + line + "\n").utf8), to: "\(root)/binarized-mnist/binarized_mnist_valid.amat")
        let valid = try DatasetCatalog.load(name: "binarized-mnist", split: .valid, dataDirectory: root)
        XCTAssertEqual(valid.count, 2)
        XCTAssertEqual(valid.levels, 2)
        XCTAssertEqual(valid.height * valid.width, 784)
        XCTAssertEqual(valid.pixels.reduce(0) { $0 + Int($1) }, 2 * 262)
        XCTAssertNil(valid.labels)
    }

    func testTrainAndValidSplitsOfIDXTrainFile() throws {
        let dir = try makeTemporaryDirectory(self)
        let count = DatasetCatalog.idxValidationCount + 5
        let labels = (0..<count).map { UInt8($0 % 10) }
        try writeFixture(idxImages(count: count, rows: 28, columns: 28, pixels: sampleMNISTPixels(count: count)),
                         to: "\(dir)/train-images-idx3-ubyte.gz", gzip: true)
        try writeFixture(idxLabels(labels), to: "\(dir)/train-labels-idx1-ubyte.gz", gzip: true)
        let train = try DatasetCatalog.load(name: .fashionMNIST, split: .train, dataDirectory: dir)
        let valid = try DatasetCatalog.load(name: .fashionMNIST, split: .valid, dataDirectory: dir)
        XCTAssertEqual(train.count, 5)
        XCTAssertEqual(valid.count, DatasetCatalog.idxValidationCount)
        XCTAssertEqual(train.labels, [0, 1, 2, 3, 4])
        XCTAssertEqual(valid.labels?.first, 5)
        XCTAssertEqual(Array(valid.image(0)), Array(sampleMNISTPixels(count: 6)[5 * 784..<6 * 784]))
    }

    func testMismatchedCountsNameBothFiles() throws {
        let dir = try makeTemporaryDirectory(self)
        try writeFixture(idxImages(count: 2, rows: 28, columns: 28, pixels: sampleMNISTPixels(count: 2)), to: "\(dir)/t10k-images-idx3-ubyte")
        try writeFixture(idxLabels([1, 2, 3]), to: "\(dir)/t10k-labels-idx1-ubyte")
        let error = expectDataError(mentioning: "t10k-images-idx3-ubyte") { try DatasetCatalog.load(name: .mnist, split: .test, dataDirectory: dir) }
        guard case .countMismatch(_, 2, _, 3)? = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertEqual(error?.description.contains("t10k-labels-idx1-ubyte"), true)
    }

    func testWrongImageSizeIsRejected() throws {
        let dir = try makeTemporaryDirectory(self)
        try writeFixture(idxImages(count: 1, rows: 27, columns: 28, pixels: Array(repeating: 0, count: 27 * 28)), to: "\(dir)/t10k-images-idx3-ubyte")
        try writeFixture(idxLabels([1]), to: "\(dir)/t10k-labels-idx1-ubyte")
        guard case .wrongDimensions? = expectDataError(mentioning: "t10k-images-idx3-ubyte", { try DatasetCatalog.load(name: .mnist, split: .test, dataDirectory: dir) }) else {
            return XCTFail("expected wrongDimensions")
        }
        try writeFixture(Array("0 1 0\n".utf8), to: "\(dir)/binarized_mnist_test.amat")
        guard case .wrongDimensions? = expectDataError(mentioning: "binarized_mnist_test.amat", { try DatasetCatalog.load(name: .binarizedMNIST, split: .test, dataDirectory: dir) }) else {
            return XCTFail("expected wrongDimensions")
        }
    }

    func testExplicitDirectoryWithoutFilesNamesDirectoryAndFiles() throws {
        let dir = try makeTemporaryDirectory(self)
        let error = expectDataError(mentioning: dir) { try DatasetCatalog.load(name: .mnist, split: .train, dataDirectory: dir) }
        XCTAssertEqual(error?.description.contains("train-images-idx3-ubyte"), true)
        XCTAssertEqual(error?.description.contains("train-labels-idx1-ubyte"), true)
    }

    func testUnknownName() throws {
        XCTAssertThrowsError(try DatasetCatalog.load(name: "cifar", split: .train)) { error in
            XCTAssertTrue(String(describing: error).contains("binarized-mnist"))
        }
    }

    func testEnvironmentRootIsSearchedFirst() throws {
        let root = try makeTemporaryDirectory(self)
        try FileManager.default.createDirectory(atPath: "\(root)/mnist", withIntermediateDirectories: true)
        try writeFixture(idxImages(count: 1, rows: 28, columns: 28, pixels: sampleMNISTPixels(count: 1)), to: "\(root)/mnist/t10k-images-idx3-ubyte")
        try writeFixture(idxLabels([6]), to: "\(root)/mnist/t10k-labels-idx1-ubyte")
        try withEnvironment("AUTOREG_DATA", root) {
            XCTAssertEqual(DatasetCatalog.searchDirectories(name: .mnist).first, "\(root)/mnist")
            XCTAssertEqual(try DatasetCatalog.load(name: .mnist, split: .test).labels, [6])
        }
    }

    func testNotFoundErrorListsPlacesAndHowToGetData() throws {
        let empty = try makeTemporaryDirectory(self)
        let cwd = FileManager.default.currentDirectoryPath
        defer { _ = FileManager.default.changeCurrentDirectoryPath(cwd) }
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(empty))
        try withEnvironment("AUTOREG_DATA", nil) {
            XCTAssertThrowsError(try DatasetCatalog.load(name: .binarizedMNIST, split: .test)) { error in
                let text = String(describing: error)
                XCTAssertTrue(text.contains("data/binarized-mnist"), text)
                XCTAssertTrue(text.contains("http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/binarized_mnist_test.amat"), text)
            }
            XCTAssertNil(DatasetCatalog.locate(name: .binarizedMNIST))
        }
    }

    /// Runs `body` with environment variable `name` set to `value` (unset when nil), then restores it.
    private func withEnvironment(_ name: String, _ value: String?, _ body: () throws -> Void) rethrows {
        let saved = ProcessInfo.processInfo.environment[name]
        defer { if let saved { setenv(name, saved, 1) } else { unsetenv(name) } }
        if let value { setenv(name, value, 1) } else { unsetenv(name) }
        try body()
    }
}
