import AutoregImaging
import XCTest

final class StackAndColorBarTests: XCTestCase {
    /// A 2x1 grey image over a 1x2 colour one, 1 row apart: RGB, 2 wide, 1 + 1 + 2 high,
    /// the narrow one padded on the right and the gap in the gap value.
    func testStackedPlacesImagesTopToBottom() {
        let grey = RasterImage(width: 2, height: 1, channels: 1, pixels: [10, 20])
        let colour = RasterImage(width: 1, height: 2, channels: 3, pixels: [1, 2, 3, 4, 5, 6])
        let s = RasterImage.stacked([grey, colour], gap: 1, gapValue: 255)
        XCTAssertEqual([s.width, s.height, s.channels], [2, 4, 3])
        XCTAssertEqual(s.pixels, [10, 10, 10, 20, 20, 20,
                                  255, 255, 255, 255, 255, 255,
                                  1, 2, 3, 255, 255, 255,
                                  4, 5, 6, 255, 255, 255])
    }

    /// The bar's ends are the colour map's ends, its middle column the middle colour, and
    /// every row is the same.
    func testColorBarRunsThroughTheColormap() {
        let bar = HeatMap.colorBar(width: 5, height: 3, colormap: .inferno)
        XCTAssertEqual([bar.width, bar.height, bar.channels], [5, 3, 3])
        func at(_ x: Int, _ y: Int) -> RGB { RGB(bar.pixels[(y * 5 + x) * 3], bar.pixels[(y * 5 + x) * 3 + 1], bar.pixels[(y * 5 + x) * 3 + 2]) }
        XCTAssertEqual(at(0, 0), Colormap.inferno.color(at: 0))
        XCTAssertEqual(at(2, 1), Colormap.inferno.color(at: 0.5))
        XCTAssertEqual(at(4, 2), Colormap.inferno.color(at: 1))
        XCTAssertEqual(Array(bar.pixels[0..<15]), Array(bar.pixels[30..<45]))
    }
}
