@testable import AutoregData
import CZlib
import Foundation
import XCTest

/// Readers stop at the size a header (or a cap) allows, refuse paths that are not regular
/// files before reading them, and decode the same bytes from memory as from files.
final class BoundedReadingTests: XCTestCase {
    /// Writes `prefix` followed by `zeroMegabytes` MiB of zeros as one gzip stream, then cuts
    /// the last `cut` bytes off the compressed file: the deflate data ends early (zlib's gzread
    /// does not complain about a missing trailer alone).
    private func writeGzipBomb(prefix: [UInt8], zeroMegabytes: Int, to path: String, cut: Int = 0) throws {
        guard let file = gzopen(path, "wb1") else { throw CocoaError(.fileWriteUnknown) }
        XCTAssertEqual(Int(prefix.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }), prefix.count)
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        for _ in 0..<zeroMegabytes {
            XCTAssertEqual(Int(zeros.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }), zeros.count)
        }
        XCTAssertEqual(gzclose(file), Z_OK)
        if cut > 0 {
            let whole = try Data(contentsOf: URL(fileURLWithPath: path))
            try whole.prefix(whole.count - cut).write(to: URL(fileURLWithPath: path))
        }
    }

    /// 200 MiB of zeros behind a header announcing 10 images of 28x28: the reader stops after
    /// the header's size plus the slack. The stream's end is cut off, so a reader that inflated
    /// everything would report the damaged end instead of the size.
    func testGzipBombBehindIDXHeaderStopsAfterTheAnnouncedSize() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = "\(dir)/bomb-images-idx3-ubyte.gz"
        try writeGzipBomb(prefix: idxImages(count: 10, rows: 28, columns: 28, pixels: []), zeroMegabytes: 200, to: path, cut: 64)
        let compressedSize = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        XCTAssertLessThan(compressedSize, 1 << 20, "the fixture is a small file")
        let expected = 16 + 10 * 784
        let error = expectDataError(mentioning: "bomb-images-idx3-ubyte.gz") { try IDX.readImages(path: path) }
        guard case let .tooLarge(_, limit, detail)? = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertEqual(limit, expected + IDX.trailingSlack)
        XCTAssertTrue(detail.contains("10 images of 28x28") && detail.contains("\(expected) bytes"), detail)

        // The same bytes from memory take the same path.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertThrowsError(try IDX.decodeImages(bytes, path: "mem")) { error in
            guard case DataError.tooLarge(_, expected + IDX.trailingSlack, _) = error else { return XCTFail("got \(error)") }
        }
        // The fixture itself: inflating it all does reach the damaged end, after 200 MiB.
        guard let file = gzopen(path, "rb") else { return XCTFail("cannot open \(path)") }
        defer { gzclose(file) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total = 0
        while case let got = buffer.withUnsafeMutableBytes({ gzread(file, $0.baseAddress, UInt32($0.count)) }), got > 0 {
            total += Int(got)
        }
        var code: Int32 = Z_OK
        _ = gzerror(file, &code)
        XCTAssertNotEqual(code, Z_OK, "the stream's end is damaged")
        XCTAssertGreaterThanOrEqual(total, 200 << 20 - (1 << 20))
    }

    func testLabelFileWithTooMuchDataIsCutShort() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = "\(dir)/bomb-labels-idx1-ubyte.gz"
        try writeGzipBomb(prefix: idxLabels([1, 2, 3]), zeroMegabytes: 8, to: path, cut: 64)
        guard case .tooLarge(_, 11 + IDX.trailingSlack, _)? = expectDataError(mentioning: "bomb-labels", { try IDX.readLabels(path: path) }) else {
            return XCTFail("expected tooLarge")
        }
    }

    /// A header announcing 2 GB over a few bytes of data is reported as truncated without
    /// reserving the announced size.
    func testHugeAnnouncedSizeOverLittleDataIsTruncated() throws {
        let bytes = idxImages(count: 2_000_000, rows: 32, columns: 32, pixels: [1, 2, 3])
        XCTAssertThrowsError(try IDX.decodeImages(bytes, path: "huge")) { error in
            XCTAssertEqual(error as? DataError, .truncated(path: "huge", expectedBytes: 16 + 2_048_000_000, actualBytes: 19))
        }
    }

    func testAmatCapIsNamedInTheError() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = "\(dir)/big.amat"
        try writeFixture(Array(String(repeating: "0 1 1 0\n", count: 250).utf8), to: path)  // 2000 bytes
        let saved = Amat.maxBytes
        defer { Amat.maxBytes = saved }
        Amat.maxBytes = 1024
        let error = expectDataError(mentioning: "big.amat") { try Amat.readBinary(path: path) }
        guard case .tooLarge(_, 1024, _)? = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertTrue(error!.description.contains("at most 1 KiB") && error!.description.contains("Amat.maxBytes"), error!.description)
        Amat.maxBytes = 2000
        XCTAssertEqual(try Amat.readBinary(path: path).rows, 250, "a file of exactly the cap is read")
        XCTAssertEqual(saved, 1 << 30)
    }

    func testCIFARBatchOfMoreThanTenThousandRecordsIsRefused() throws {
        let dir = try makeTemporaryDirectory(self)
        let path = "\(dir)/data_batch_9.bin.gz"
        // 10 001 records with label 0 and black pixels, followed by a damaged end.
        let records = (CIFAR10.maxRecords + 1) * CIFAR10.recordSize
        try writeGzipBomb(prefix: [], zeroMegabytes: records / (1 << 20) + 1, to: path, cut: 64)
        let error = expectDataError(mentioning: "data_batch_9.bin.gz") { try CIFAR10.readBatch(path: path, name: "cifar10") }
        guard case .tooLarge(_, 30_730_000, let detail)? = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertTrue(detail.contains("10000 records"), detail)
    }

    /// Runs `body` on another thread and fails (instead of hanging) if it takes over 10 s.
    private func withoutHanging(_ what: String, file: StaticString = #filePath, line: UInt = #line,
                                unblock: @escaping () -> Void = {}, _ body: @escaping @Sendable () -> Error?) -> Error? {
        let done = DispatchSemaphore(value: 0)
        final class Box: @unchecked Sendable { var error: Error? }
        let box = Box()
        Thread.detachNewThread {
            box.error = body()
            done.signal()
        }
        if done.wait(timeout: .now() + 10) == .timedOut {
            XCTFail("\(what) did not return within 10 s", file: file, line: line)
            unblock()
            return nil
        }
        return box.error
    }

    func testFIFOIsRefusedAtOnce() throws {
        let dir = try makeTemporaryDirectory(self)
        let fifo = "\(dir)/train-images-idx3-ubyte"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        // Should a reader block in open(), opening the write end lets it go.
        let unblock = { let fd = open(fifo, O_WRONLY | O_NONBLOCK); if fd >= 0 { close(fd) } }
        let readers: [(String, @Sendable () throws -> Void)] = [
            ("IDX images", { _ = try IDX.readImages(path: fifo) }),
            ("IDX labels", { _ = try IDX.readLabels(path: fifo) }),
            ("amat", { _ = try Amat.readBinary(path: fifo) }),
            ("CIFAR-10", { _ = try CIFAR10.readBatch(path: fifo, name: "cifar10") }),
            ("whole file", { _ = try readPossiblyCompressedFile(fifo) }),
        ]
        for (name, read) in readers {
            let error = withoutHanging(name, unblock: unblock) {
                do { try read(); return nil } catch { return error }
            }
            XCTAssertEqual(error as? DataError, .unusable(path: fifo, reason: "is not a regular file (a FIFO)"), name)
            XCTAssertEqual(error.map { "\($0)" }, "\(fifo): is not a regular file (a FIFO)", name)
        }
    }

    func testDevicesAreRefused() throws {
        for device in ["/dev/urandom", "/dev/zero"] where FileManager.default.fileExists(atPath: device) {
            let error = withoutHanging(device) {
                do { _ = try Amat.readBinary(path: device); return nil } catch { return error }
            }
            XCTAssertEqual(error as? DataError, .unusable(path: device, reason: "is not a regular file (a character device)"))
            let idxError = withoutHanging(device) {
                do { _ = try IDX.readImages(path: device); return nil } catch { return error }
            }
            XCTAssertEqual(idxError as? DataError, .unusable(path: device, reason: "is not a regular file (a character device)"))
        }
    }

    func testSymbolicLinkToARegularFileIsRead() throws {
        let dir = try makeTemporaryDirectory(self)
        try writeFixture(idxLabels([4, 5]), to: "\(dir)/labels.gz", gzip: true)
        try FileManager.default.createSymbolicLink(atPath: "\(dir)/link", withDestinationPath: "\(dir)/labels.gz")
        XCTAssertEqual(try IDX.readLabels(path: "\(dir)/link"), [4, 5])
        XCTAssertEqual(mkdir("\(dir)/folder", 0o700), 0)
        XCTAssertEqual(expectDataError(mentioning: "folder") { try IDX.readLabels(path: "\(dir)/folder") },
                       .missingFile(path: "\(dir)/folder"))
    }

    /// Memory and file entry points agree on valid, concatenated, damaged and plain inputs.
    func testMemoryAndFileReadersAgree() throws {
        let dir = try makeTemporaryDirectory(self)
        let pixels = sampleMNISTPixels(count: 3)
        let image = idxImages(count: 3, rows: 28, columns: 28, pixels: pixels)
        try writeFixture(image, to: "\(dir)/a.gz", gzip: true)
        let gzipped = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(dir)/a.gz")))
        XCTAssertEqual(try IDX.decodeImages(gzipped).pixels, pixels)
        XCTAssertEqual(try IDX.decodeImages(image).pixels, pixels)
        XCTAssertEqual(try IDX.decodeLabels(idxLabels([9, 8, 7])), [9, 8, 7])

        // Two gzip members one after the other read as their concatenation, from memory and from a file.
        try writeFixture(Array(image.prefix(100)), to: "\(dir)/b.gz", gzip: true)
        try writeFixture(Array(image.dropFirst(100)), to: "\(dir)/c.gz", gzip: true)
        let two = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(dir)/b.gz")))
            + [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(dir)/c.gz")))
        try writeFixture(two, to: "\(dir)/two.gz")
        XCTAssertEqual(try decompressPossiblyCompressed(two, maxBytes: 1 << 20), image)
        XCTAssertEqual(try readPossiblyCompressedFile("\(dir)/two.gz"), image)

        // A cut stream is corrupt either way.
        let cut = Array(gzipped.prefix(gzipped.count / 2))
        try writeFixture(cut, to: "\(dir)/cut.gz")
        XCTAssertThrowsError(try decompressPossiblyCompressed(cut, maxBytes: 1 << 20)) { error in
            guard case DataError.corruptCompression = error else { return XCTFail("got \(error)") }
        }
        XCTAssertThrowsError(try readPossiblyCompressedFile("\(dir)/cut.gz")) { error in
            guard case DataError.corruptCompression = error else { return XCTFail("got \(error)") }
        }

        // The cap counts decompressed bytes; exactly the cap is fine, one more is not.
        XCTAssertEqual(try decompressPossiblyCompressed(gzipped, maxBytes: image.count), image)
        XCTAssertEqual(try readPossiblyCompressedFile("\(dir)/a.gz", maxBytes: image.count), image)
        XCTAssertThrowsError(try decompressPossiblyCompressed(gzipped, maxBytes: image.count - 1, path: "m")) { error in
            XCTAssertEqual(error as? DataError, .tooLarge(path: "m", limitBytes: image.count - 1, detail: "the most the caller accepts"))
        }
        XCTAssertThrowsError(try readPossiblyCompressedFile("\(dir)/a.gz", maxBytes: image.count - 1)) { error in
            guard case DataError.tooLarge(_, image.count - 1, _) = error else { return XCTFail("got \(error)") }
        }
        XCTAssertEqual(try decompressPossiblyCompressed([], maxBytes: 0), [])
        XCTAssertEqual(try decompressPossiblyCompressed([0x1F], maxBytes: 10), [0x1F])
    }

    func testCIFARAndAmatFromMemory() throws {
        var record = [UInt8](repeating: 7, count: CIFAR10.recordSize)
        record[0] = 2
        let batch = try CIFAR10.decodeBatch(record + record, name: "cifar10")
        XCTAssertEqual(batch.labels, [2, 2])
        XCTAssertEqual(batch.count, 2)
        let matrix = try Amat.decodeBinary(Array("0 1\n1 1\n".utf8))
        XCTAssertEqual([matrix.rows, matrix.columns], [2, 2])
        XCTAssertEqual(matrix.values, [0, 1, 1, 1])
    }

    func testReadableByteCount() throws {
        XCTAssertEqual(readableByteCount(1 << 30), "1 GiB")
        XCTAssertEqual(readableByteCount(3 << 20), "3 MiB")
        XCTAssertEqual(readableByteCount(1000), "1000 bytes")
    }
}
