import AutoregImaging
import XCTest

final class ReceptiveFieldImageTests: XCTestCase {
    func rgb(_ c: RGB) -> [UInt8] { [c.r, c.g, c.b] }

    /// A 2×4 field, chosen pixel (1, 1): before it indices 0...4, after it 6, 7.
    func testColoursByKind() throws {
        let magnitudes: [Float] = [1e-3, 0, 1, 1e-12,
                                   0, 0.5, 0, 2e-3]
        let allowed = (0..<8).map { $0 < 5 }
        let image = ReceptiveFieldImage.render(magnitudes, height: 2, width: 4, row: 1, column: 1,
                                               allowed: allowed, scale: 1, decades: 6)
        XCTAssertEqual(image.width, 4)
        XCTAssertEqual(image.height, 2)
        XCTAssertEqual(image.channels, 3)
        XCTAssertEqual(Array(image[1, 1]), rgb(ReceptiveFieldImage.chosenColor), "chosen pixel, whatever its value")
        XCTAssertEqual(Array(image[0, 1]), rgb(ReceptiveFieldImage.blindSpotColor), "allowed, exactly zero")
        XCTAssertEqual(Array(image[1, 0]), rgb(ReceptiveFieldImage.blindSpotColor), "allowed, exactly zero")
        XCTAssertEqual(Array(image[1, 2]), rgb(ReceptiveFieldImage.laterColor), "after the pixel")
        XCTAssertEqual(Array(image[0, 2]), rgb(Colormap.viridis.color(at: 1)), "largest magnitude")
        // Log scale over 6 decades below the largest (1): 1e-3 sits at half way.
        XCTAssertEqual(Array(image[0, 0]), rgb(Colormap.viridis.color(at: 0.5)))
        // Smaller than 6 decades: clamped to the bottom colour, still not the blind-spot colour.
        XCTAssertEqual(Array(image[0, 3]), rgb(Colormap.viridis.color(at: 0)))
        XCTAssertNotEqual(Array(image[0, 3]), rgb(ReceptiveFieldImage.blindSpotColor))
        // A non-zero value where none is allowed (a leak) is shown in heat colours, not hidden.
        XCTAssertNotEqual(Array(image[1, 3]), rgb(ReceptiveFieldImage.laterColor))
    }

    func testScaleAndDistinctColours() throws {
        let image = ReceptiveFieldImage.render([0, 1, 0], height: 1, width: 3, row: 0, column: 2,
                                               allowed: [true, true, false], scale: 4)
        XCTAssertEqual(image.width, 12)
        XCTAssertEqual(image.height, 4)
        XCTAssertEqual(Array(image[3, 3]), rgb(ReceptiveFieldImage.blindSpotColor))
        XCTAssertEqual(Array(image[3, 11]), rgb(ReceptiveFieldImage.chosenColor))
        let special = [ReceptiveFieldImage.chosenColor, ReceptiveFieldImage.blindSpotColor, ReceptiveFieldImage.laterColor]
        XCTAssertEqual(Set(special.map { "\($0)" }).count, 3)
        for t in stride(from: Float(0), through: 1, by: 0.05) {
            XCTAssertFalse(special.contains(Colormap.viridis.color(at: t)), "the heat colours avoid the special ones")
        }
    }
}
