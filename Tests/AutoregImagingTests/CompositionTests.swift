import AutoregImaging
import XCTest

final class CompositionTests: XCTestCase {
    func testGridLayoutAndPadding() throws {
        // Three 2x2 grey images -> 2 columns, 2 rows, padding 1 of value 9.
        let pixels: [UInt8] = [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]
        let grid = ImageGrid.tile(pixels: pixels, count: 3, height: 2, width: 2, padding: 1, paddingValue: 9)
        XCTAssertEqual(grid.width, 7)
        XCTAssertEqual(grid.height, 7)
        let expected: [UInt8] = [
            9, 9, 9, 9, 9, 9, 9,
            9, 1, 1, 9, 2, 2, 9,
            9, 1, 1, 9, 2, 2, 9,
            9, 9, 9, 9, 9, 9, 9,
            9, 3, 3, 9, 9, 9, 9,
            9, 3, 3, 9, 9, 9, 9,
            9, 9, 9, 9, 9, 9, 9,
        ]
        XCTAssertEqual(grid.pixels, expected)
        let wide = ImageGrid.tile(pixels: pixels, count: 3, height: 2, width: 2, columns: 3, padding: 0)
        XCTAssertEqual([wide.width, wide.height], [6, 2])
        XCTAssertEqual(Array(wide.pixels.prefix(6)), [1, 1, 2, 2, 3, 3])
    }

    func testGridOfRGBImagesWithScale() throws {
        let red = RasterImage(width: 1, height: 1, fill: [255, 0, 0])
        let blue = RasterImage(width: 1, height: 1, fill: [0, 0, 255])
        let grid = ImageGrid.tile([red, blue], padding: 0, scale: 2)
        XCTAssertEqual([grid.width, grid.height, grid.channels], [4, 2, 3])
        XCTAssertEqual(Array(grid[1, 1]), [255, 0, 0])
        XCTAssertEqual(Array(grid[0, 2]), [0, 0, 255])
    }

    func testUpscaleRepeatsPixels() throws {
        let image = RasterImage(width: 2, height: 1, channels: 1, pixels: [5, 7])
        XCTAssertEqual(image.upscaled(by: 3).pixels, [5, 5, 5, 7, 7, 7, 5, 5, 5, 7, 7, 7, 5, 5, 5, 7, 7, 7])
    }

    func testExpandLevels() throws {
        XCTAssertEqual(expandLevels([0, 1, 1, 0], levels: 2), [0, 255, 255, 0])
        XCTAssertEqual(expandLevels([0, 1, 2, 3], levels: 4), [0, 85, 170, 255])
    }

    func testSideBySidePromotesToRGBAndPads() throws {
        let grey = RasterImage(width: 2, height: 2, channels: 1, pixels: [1, 2, 3, 4])
        let color = RasterImage(width: 1, height: 1, fill: [10, 20, 30])
        let both = grey.beside(color, gap: 1, gapValue: 255)
        XCTAssertEqual([both.width, both.height, both.channels], [4, 2, 3])
        XCTAssertEqual(Array(both[0, 0]), [1, 1, 1])
        XCTAssertEqual(Array(both[1, 1]), [4, 4, 4])
        XCTAssertEqual(Array(both[0, 2]), [255, 255, 255], "gap")
        XCTAssertEqual(Array(both[0, 3]), [10, 20, 30])
        XCTAssertEqual(Array(both[1, 3]), [255, 255, 255], "padding below the shorter image")
        let greyPair = RasterImage.sideBySide([grey, grey], gap: 0)
        XCTAssertEqual(greyPair.channels, 1)
        XCTAssertEqual(greyPair.pixels, [1, 2, 1, 2, 3, 4, 3, 4])
    }
}
