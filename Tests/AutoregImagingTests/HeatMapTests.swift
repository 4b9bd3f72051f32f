import AutoregImaging
import XCTest

final class HeatMapTests: XCTestCase {
    private func luminance(_ c: RGB) -> Double { 0.2126 * Double(c.r) + 0.7152 * Double(c.g) + 0.0722 * Double(c.b) }

    func testColormapsAreMonotoneInLuminance() throws {
        for map in [Colormap.viridis, .inferno, .greyscale] {
            let values = (0...100).map { luminance(map.color(at: Float($0) / 100)) }
            XCTAssertTrue(zip(values, values.dropFirst()).allSatisfy { $0 <= $1 + 0.5 }, "\(map.anchors.first!)")
            XCTAssertEqual(map.color(at: 0), map.anchors.first)
            XCTAssertEqual(map.color(at: 1), map.anchors.last)
            XCTAssertEqual(map.color(at: -3), map.anchors.first, "clamped")
            XCTAssertEqual(map.color(at: 7), map.anchors.last, "clamped")
        }
        XCTAssertEqual(Colormap.greyscale.color(at: 0.5), RGB(128, 128, 128))
    }

    func testRenderNormalisesMarksAndMasks() throws {
        let field: [Float] = [2, 4, 6, 8]
        let plain = HeatMap.render(field, height: 2, width: 2)
        XCTAssertEqual(Array(plain[0, 0]), rgb(Colormap.viridis.color(at: 0)))
        XCTAssertEqual(Array(plain[1, 1]), rgb(Colormap.viridis.color(at: 1)))
        let ranged = HeatMap.render(field, height: 2, width: 2, range: 0...8, colormap: .greyscale)
        XCTAssertEqual(Array(ranged[0, 0]), [64, 64, 64])

        let marked = HeatMap.render(field, height: 2, width: 2, marked: (row: 0, column: 1), masked: [false, false, false, true])
        XCTAssertEqual(Array(marked[0, 1]), rgb(.red))
        XCTAssertEqual(Array(marked[1, 1]), rgb(.grey))
        XCTAssertEqual(Array(marked[1, 0]), Array(plain[1, 0]))
    }

    func testScaledMarkerIsAnOutline() throws {
        let image = HeatMap.render([0, 1], height: 1, width: 2, scale: 4, marked: (row: 0, column: 1))
        XCTAssertEqual([image.width, image.height], [8, 4])
        XCTAssertEqual(Array(image[0, 4]), rgb(.red))
        XCTAssertEqual(Array(image[3, 7]), rgb(.red))
        XCTAssertEqual(Array(image[1, 5]), rgb(Colormap.viridis.color(at: 1)), "inside the box keeps its colour")
        XCTAssertEqual(Array(image[1, 1]), rgb(Colormap.viridis.color(at: 0)))
    }

    func testHatchedMaskUsesBothColours() throws {
        let image = HeatMap.render([0.5], height: 1, width: 1, scale: 8, masked: [true],
                                   maskStyle: .hatched(.black, .white))
        let colours = Set(stride(from: 0, to: image.pixels.count, by: 3).map { image.pixels[$0] })
        XCTAssertEqual(colours, [0, 255])
    }

    func testNonFiniteValuesArePaintedAsMasked() throws {
        let image = HeatMap.render([0, .nan, 1], height: 1, width: 3, maskStyle: .solid(.white))
        XCTAssertEqual(Array(image[0, 1]), [255, 255, 255])
        XCTAssertEqual(Array(image[0, 2]), rgb(Colormap.viridis.color(at: 1)))
    }

    func testProbabilityImage() throws {
        XCTAssertEqual(probabilityImage([0, 0.5, 1, -1, 2, .nan]), [0, 128, 255, 0, 255, 0])
        let image = probabilityImage([0.25, 0.75], height: 1, width: 2)
        XCTAssertEqual([image.width, image.channels], [2, 1])
    }

    private func rgb(_ c: RGB) -> [UInt8] { [c.r, c.g, c.b] }
}
