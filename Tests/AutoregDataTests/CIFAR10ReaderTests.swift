import AutoregData
import Foundation
import XCTest

/// CIFAR-10's binary batches: planar records become channels-last images; bad files are named.
final class CIFAR10ReaderTests: XCTestCase {
    /// A record whose pixel values encode their position: value = (channel * 7 + row * 3 + column) % 256.
    func record(label: UInt8, offset: Int = 0) -> [UInt8] {
        var bytes = [label]
        for channel in 0..<3 {
            for row in 0..<32 { for column in 0..<32 { bytes.append(UInt8((channel * 7 + row * 3 + column + offset) % 256)) } }
        }
        return bytes
    }

    func testPlanarRecordsBecomeChannelsLastImages() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = "\(dir)/data_batch_1.bin"
        try writeFixture(record(label: 3) + record(label: 9, offset: 1), to: path)
        let d = try CIFAR10.readBatch(path: path, name: "cifar10")
        XCTAssertEqual(d.count, 2)
        XCTAssertEqual([d.height, d.width, d.channels, d.levels], [32, 32, 3, 256])
        XCTAssertEqual(d.labels, [3, 9])
        for (image, offset) in [(0, 0), (1, 1)] {
            let pixels = Array(d.image(image))
            for (row, column, channel) in [(0, 0, 0), (0, 0, 2), (5, 17, 1), (31, 31, 2), (31, 0, 0)] {
                XCTAssertEqual(Int(pixels[(row * 32 + column) * 3 + channel]), (channel * 7 + row * 3 + column + offset) % 256,
                               "image \(image) row \(row) column \(column) channel \(channel)")
            }
        }
    }

    func testBadFilesAreNamed() throws {
        let dir = try makeTemporaryDirectory(self)
        let short = "\(dir)/short.bin"
        try writeFixture(record(label: 1) + [1, 2, 3], to: short)
        XCTAssertThrowsError(try CIFAR10.readBatch(path: short, name: "cifar10")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(short) && text.contains("3076 bytes") && text.contains("3073"), text)
        }
        let badLabel = "\(dir)/label.bin"
        try writeFixture(record(label: 1) + record(label: 10), to: badLabel)
        XCTAssertThrowsError(try CIFAR10.readBatch(path: badLabel, name: "cifar10")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(badLabel) && text.contains("\"10\"") && text.contains("record 2"), text)
        }
        XCTAssertThrowsError(try CIFAR10.readBatch(path: "\(dir)/absent.bin", name: "cifar10")) { error in
            XCTAssertTrue("\(error)".contains("\(dir)/absent.bin"))
        }
    }

    /// The catalog finds the batches inside the folder the download unpacks to, reads gzip as
    /// well as plain files, and splits the five training batches into train and validation.
    func testCatalogSplitsAndFindsTheArchiveFolder() throws {
        let root = try makeTemporaryDirectory(self)
        let dir = "\(root)/cifar10/cifar-10-batches-bin"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let perBatch = DatasetCatalog.cifarValidationCount / 5 + 1  // 5 more than the validation split
        for b in 1...5 {
            let bytes = (0..<perBatch).flatMap { record(label: UInt8(($0 + b) % 10), offset: b * perBatch + $0) }
            try writeFixture(bytes, to: "\(dir)/data_batch_\(b).bin", gzip: b % 2 == 0)
        }
        try writeFixture(record(label: 4, offset: 99), to: "\(dir)/test_batch.bin")
        let train = try DatasetCatalog.load(name: "cifar10", split: .train, dataDirectory: root)
        let valid = try DatasetCatalog.load(name: .cifar10, split: .valid, dataDirectory: root)
        let test = try DatasetCatalog.load(name: .cifar10, split: .test, dataDirectory: root)
        XCTAssertEqual(train.count, 5)
        XCTAssertEqual(valid.count, DatasetCatalog.cifarValidationCount)
        XCTAssertEqual(test.count, 1)
        XCTAssertEqual(train.labels, (0..<5).map { ($0 + 1) % 10 })
        XCTAssertEqual(valid.labels?.last, (perBatch - 1 + 5) % 10, "the last record of batch 5 ends the validation split")
        XCTAssertEqual(test.labels, [4])
        XCTAssertEqual(Int(train.image(4).first!), (1 * perBatch + 4) % 256, "batch 1, record 5, red at (0, 0)")
        XCTAssertEqual(Int(valid.image(0).first!), (1 * perBatch + 5) % 256, "validation starts after the training images")
        XCTAssertEqual(DatasetCatalog.locate(name: .cifar10, dataDirectory: root), dir)
    }
}
