/// An 8-bit image: `height` rows of `width` pixels of `channels` bytes each, row-major,
/// channels last. Channels: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA.
public struct RasterImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]

    /// Creates an image; `pixels.count` must equal `width * height * channels`.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && (1...4).contains(channels), "invalid image dimensions")
        precondition(pixels.count == width * height * channels, "pixel count does not match dimensions")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// An image filled with one colour (`fill.count == channels`).
    public init(width: Int, height: Int, fill: [UInt8]) {
        var pixels = [UInt8]()
        pixels.reserveCapacity(width * height * fill.count)
        for _ in 0..<width * height { pixels.append(contentsOf: fill) }
        self.init(width: width, height: height, channels: fill.count, pixels: pixels)
    }

    /// The bytes of pixel (`row`, `column`).
    public subscript(row: Int, column: Int) -> ArraySlice<UInt8> {
        let start = (row * width + column) * channels
        return pixels[start..<start + channels]
    }
}
