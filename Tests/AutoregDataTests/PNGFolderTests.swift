import AutoregData
import AutoregPNG
import Foundation
import XCTest

/// Folders of the user's PNG files as a data set: splits, labels from class folders, hold-out,
/// and errors that name the file or folder.
final class PNGFolderTests: XCTestCase {
    /// Writes a width x height image whose every sample is `value` (+ channel index).
    func writePNG(_ path: String, width: Int = 4, height: Int = 3, channels: Int = 1, value: UInt8) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let pixels = (0..<width * height).flatMap { _ in (0..<channels).map { value &+ UInt8($0) } }
        try PNG.write(RasterImage(width: width, height: height, channels: channels, pixels: pixels), to: path)
    }

    func testClassFoldersGiveLabelsInSortedOrder() throws {
        let root = try makeTemporaryDirectory(self)
        try writePNG("\(root)/train/cat/b.png", channels: 3, value: 10)
        try writePNG("\(root)/train/cat/a.png", channels: 3, value: 20)
        try writePNG("\(root)/train/ant/x.png", channels: 3, value: 30)
        try writePNG("\(root)/valid/cat/v.png", channels: 3, value: 40)
        try writePNG("\(root)/test/ant/t.png", channels: 3, value: 50)
        let train = try DatasetCatalog.load(name: .png, split: .train, dataDirectory: root)
        XCTAssertEqual([train.count, train.height, train.width, train.channels, train.levels], [3, 3, 4, 3, 256])
        XCTAssertEqual(train.labels, [0, 1, 1], "ant = 0, cat = 1")
        XCTAssertEqual(train.pixels[0..<3], [30, 31, 32], "ant/x.png first, RGB channels last")
        XCTAssertEqual(train.image(1).first, 20, "cat/a.png before cat/b.png")
        let valid = try DatasetCatalog.load(name: "png", split: .valid, dataDirectory: root)
        XCTAssertEqual(valid.labels, [1])
        XCTAssertEqual(valid.pixels.first, 40)
        XCTAssertEqual(try DatasetCatalog.load(name: .png, split: .test, dataDirectory: root).labels, [0])
    }

    func testATestFolderAloneServesForEvaluation() throws {
        let root = try makeTemporaryDirectory(self)
        try writePNG("\(root)/test/b/1.png", value: 7)
        try writePNG("\(root)/test/a/1.png", value: 8)
        let test = try DatasetCatalog.load(name: .png, split: .test, dataDirectory: root)
        XCTAssertEqual(test.labels, [0, 1])
        XCTAssertEqual(test.pixels.first, 8)
    }

    func testWithoutValidFolderEveryTenthTrainingImageIsHeldOut() throws {
        let root = try makeTemporaryDirectory(self)
        for i in 0..<25 { try writePNG(String(format: "\(root)/train/img%02d.png", i), value: UInt8(i)) }
        let train = try DatasetCatalog.load(name: .png, split: .train, dataDirectory: root)
        let valid = try DatasetCatalog.load(name: .png, split: .valid, dataDirectory: root)
        XCTAssertNil(train.labels)
        XCTAssertEqual((0..<valid.count).map { valid.image($0).first! }, [9, 19])
        XCTAssertEqual(train.count, 23)
        XCTAssertEqual((0..<train.count).map { Int(train.image($0).first!) }, (0..<25).filter { $0 % 10 != 9 })
        XCTAssertThrowsError(try DatasetCatalog.load(name: .png, split: .test, dataDirectory: root)) { error in
            XCTAssertTrue("\(error)".contains(root) && "\(error)".contains("test/"), "\(error)")
        }
    }

    func testBadFoldersAndFilesAreNamed() throws {
        func assertFails(_ root: String, _ split: Split = .train, mentioning parts: [String], line: UInt = #line) {
            XCTAssertThrowsError(try DatasetCatalog.load(name: .png, split: split, dataDirectory: root), line: line) { error in
                for p in parts { XCTAssertTrue("\(error)".contains(p), "\(error) mentions \(p)", line: line) }
            }
        }
        let sizes = try makeTemporaryDirectory(self)
        try writePNG("\(sizes)/train/a.png", value: 1)
        try writePNG("\(sizes)/train/b.png", width: 5, value: 1)
        assertFails(sizes, mentioning: ["\(sizes)/train/b.png", "5x3", "4x3", "\(sizes)/train/a.png"])

        let colour = try makeTemporaryDirectory(self)
        try writePNG("\(colour)/train/a.png", value: 1)
        try writePNG("\(colour)/train/b.png", channels: 3, value: 1)
        assertFails(colour, mentioning: ["\(colour)/train/b.png", "3 channel"])

        let alpha = try makeTemporaryDirectory(self)
        try writePNG("\(alpha)/train/a.png", channels: 4, value: 1)
        assertFails(alpha, mentioning: ["\(alpha)/train/a.png", "alpha"])

        let corrupt = try makeTemporaryDirectory(self)
        try writePNG("\(corrupt)/train/a.png", value: 1)
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: "\(corrupt)/train/b.png"))
        assertFails(corrupt, mentioning: ["\(corrupt)/train/b.png"])

        let unknownClass = try makeTemporaryDirectory(self)
        try writePNG("\(unknownClass)/train/one/a.png", value: 1)
        try writePNG("\(unknownClass)/valid/two/a.png", value: 1)
        assertFails(unknownClass, .valid, mentioning: ["\(unknownClass)/valid/two", "\"two\"", "one"])

        let empty = try makeTemporaryDirectory(self)
        try FileManager.default.createDirectory(atPath: "\(empty)/train", withIntermediateDirectories: true)
        assertFails(empty, mentioning: ["\(empty)/train", "no .png files"])

        let none = try makeTemporaryDirectory(self)
        assertFails(none, mentioning: [none, "train/"])
    }
}
