@testable import AutoregPNG
import CZlib
import Foundation
import XCTest

/// The PNG reader checks the declared size against its caps before inflating anything, and
/// reads only regular files.
final class PNGLimitTests: XCTestCase {
    /// Signature and IHDR only: whatever follows is up to the caller.
    private func signatureAndHeader(width: Int, height: Int, bitDepth: UInt8 = 8, colorType: UInt8 = 0) -> [UInt8] {
        [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            + chunk("IHDR", be32(width) + be32(height) + [bitDepth, colorType, 0, 0, 0])
    }

    private func withPixelCap<T>(_ cap: Int, _ body: () throws -> T) rethrows -> T {
        let saved = PNG.maxPixels
        defer { PNG.maxPixels = saved }
        PNG.maxPixels = cap
        return try body()
    }

    func testDefaultCaps() throws {
        if ProcessInfo.processInfo.environment["AUTOREG_MAX_IMAGE_PIXELS"] == nil {
            XCTAssertEqual(PNG.maxPixels, 4096 * 4096)
        }
        XCTAssertEqual(PNG.maxSide, 65536)
    }

    /// 16384x16384 declared with a tiny IDAT: refused with the declared size and the cap, and
    /// before decoding, since the IDAT that follows is not even valid zlib data.
    func testHugeDeclaredSizeIsRefusedBeforeDecoding() throws {
        let path = try temporaryDirectory(self) + "/huge.png"
        let png = signatureAndHeader(width: 16384, height: 16384) + chunk("IDAT", [1, 2, 3, 4]) + chunk("IEND", [])
        try Data(png).write(to: URL(fileURLWithPath: path))
        try withPixelCap(4096 * 4096) {
            XCTAssertThrowsError(try PNG.read(path: path)) { error in
                guard case ImagingError.tooLarge = error else { return XCTFail("got \(error)") }
                let text = "\(error)"
                XCTAssertTrue(text.contains(path) && text.contains("16384x16384") && text.contains("16777216"), text)
                XCTAssertTrue(text.contains("AUTOREG_MAX_IMAGE_PIXELS"), text)
            }
            // Even a file that ends right after IHDR is judged on its header.
            XCTAssertThrowsError(try PNG.decode(signatureAndHeader(width: 16384, height: 16384))) { error in
                guard case ImagingError.tooLarge = error else { return XCTFail("got \(error)") }
            }
        }
        // With a large enough cap the same file gets as far as its (broken) image data.
        try withPixelCap(16384 * 16384) {
            XCTAssertThrowsError(try PNG.decode(png)) { error in
                guard case ImagingError.malformed(_, "corrupt compressed image data") = error else { return XCTFail("got \(error)") }
            }
        }
    }

    func testSideCap() throws {
        XCTAssertThrowsError(try PNG.decode(signatureAndHeader(width: 70000, height: 1), path: "wide.png")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("70000x1") && text.contains("PNG.maxSide"), text)
        }
    }

    /// 4097x4096 is just over the default cap; raising the cap lets the valid image through.
    func testRaisingTheCapAdmitsALargeValidImage() throws {
        let (width, height) = (4097, 4096)
        var scanlines = [UInt8](repeating: 0, count: height * (width + 1))
        scanlines[scanlines.count - 1] = 200  // last pixel of the last row
        scanlines[1] = 9  // first pixel
        let png = handBuiltPNG(width: width, height: height, bitDepth: 8, colorType: 0, scanlines: scanlines)
        try withPixelCap(4096 * 4096) {
            XCTAssertThrowsError(try PNG.decode(png)) { error in
                guard case ImagingError.tooLarge = error else { return XCTFail("got \(error)") }
            }
        }
        let image = try withPixelCap(width * height) { try PNG.decode(png) }
        XCTAssertEqual([image.width, image.height, image.channels], [width, height, 1])
        XCTAssertEqual(image.pixels.first, 9)
        XCTAssertEqual(image.pixels.last, 200)
        XCTAssertEqual(image.pixels.count, width * height)
    }

    /// An IDAT stream inflating far beyond the declared size stops one byte past it.
    func testImageDataBeyondTheHeaderIsRefused() throws {
        let png = handBuiltPNG(width: 2, height: 2, bitDepth: 8, colorType: 0,
                               scanlines: [UInt8](repeating: 0, count: 16 << 20))
        XCTAssertThrowsError(try PNG.decode(png)) { error in
            XCTAssertEqual(error as? ImagingError, .malformed(path: "<memory>", detail: "image data is larger than the header announces"))
        }
    }

    func testFIFOAndDevicesAreRefused() throws {
        let fifo = try temporaryDirectory(self) + "/pipe.png"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        for (path, kind) in [(fifo, "a FIFO"), ("/dev/zero", "a character device")] {
            let done = DispatchSemaphore(value: 0)
            final class Box: @unchecked Sendable { var error: Error? }
            let box = Box()
            Thread.detachNewThread {
                do { _ = try PNG.read(path: path) } catch { box.error = error }
                done.signal()
            }
            if done.wait(timeout: .now() + 10) == .timedOut {
                XCTFail("reading \(path) did not return within 10 s")
                let fd = open(fifo, O_WRONLY | O_NONBLOCK)
                if fd >= 0 { close(fd) }
                continue
            }
            XCTAssertEqual(box.error as? ImagingError, .io(path: path, reason: "is not a regular file (\(kind))"))
        }
    }

    func testEnvironmentLimitParsing() throws {
        let name = "AUTOREG_TEST_LIMIT_\(UUID().uuidString.prefix(8))"
        XCTAssertNil(environmentLimit(name))
        for (text, expected) in [("1234", 1234 as Int?), ("0", nil), ("-5", nil), ("lots", nil)] {
            setenv(name, text, 1)
            XCTAssertEqual(environmentLimit(name), expected, text)
        }
        unsetenv(name)
    }
}
