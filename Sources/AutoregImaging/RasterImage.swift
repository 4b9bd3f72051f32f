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

    /// This image enlarged `factor` times in each direction by pixel repetition (nearest neighbour).
    public func upscaled(by factor: Int) -> RasterImage {
        precondition(factor >= 1, "upscaling factor must be at least 1")
        guard factor > 1 else { return self }
        var out = [UInt8]()
        out.reserveCapacity(pixels.count * factor * factor)
        let rowBytes = width * channels
        for row in 0..<height {
            var scaledRow = [UInt8]()
            scaledRow.reserveCapacity(rowBytes * factor)
            for column in 0..<width {
                let pixel = self[row, column]
                for _ in 0..<factor { scaledRow.append(contentsOf: pixel) }
            }
            for _ in 0..<factor { out.append(contentsOf: scaledRow) }
        }
        return RasterImage(width: width * factor, height: height * factor, channels: channels, pixels: out)
    }

    /// This image with RGB channels: grey is replicated, alpha is dropped.
    public func rgb() -> RasterImage {
        guard channels != 3 else { return self }
        var out = [UInt8]()
        out.reserveCapacity(width * height * 3)
        for start in stride(from: 0, to: pixels.count, by: channels) {
            if channels >= 3 {
                out.append(contentsOf: pixels[start..<start + 3])
            } else {
                out.append(contentsOf: [pixels[start], pixels[start], pixels[start]])
            }
        }
        return RasterImage(width: width, height: height, channels: 3, pixels: out)
    }
}

/// Maps pixel values `0..<levels` to the full 8-bit range (e.g. binary 0/1 to 0/255).
public func expandLevels(_ pixels: [UInt8], levels: Int) -> [UInt8] {
    precondition((2...256).contains(levels), "levels must be in 2...256")
    guard levels != 256 else { return pixels }
    let top = levels - 1
    return pixels.map { UInt8((min(Int($0), top) * 255 + top / 2) / top) }
}
