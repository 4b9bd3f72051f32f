// Display transforms of RasterImage (scaling, channel and level conversion); the PNG codec uses none of them.

extension RasterImage {
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
