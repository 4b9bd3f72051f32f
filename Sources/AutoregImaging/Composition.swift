extension RasterImage {
    /// Places `images` left to right with `gap` pixels of `gapValue` between them.
    ///
    /// Images are top-aligned; shorter ones are padded below with `gapValue`. If any image has
    /// colour, all are converted to RGB (grey replicated, alpha dropped), else the result is grey.
    public static func sideBySide(_ images: [RasterImage], gap: Int = 4, gapValue: UInt8 = 255) -> RasterImage {
        precondition(!images.isEmpty, "nothing to compose")
        precondition(gap >= 0, "gap must not be negative")
        let color = images.contains { $0.channels >= 3 }
        let parts = images.map { color ? $0.rgb() : ($0.channels == 2 ? $0.grey() : $0) }
        let channels = color ? 3 : 1
        let height = parts.map(\.height).max()!
        let width = parts.map(\.width).reduce(0, +) + gap * (parts.count - 1)
        var pixels = [UInt8](repeating: gapValue, count: width * height * channels)
        var left = 0
        for part in parts {
            let rowBytes = part.width * channels
            for y in 0..<part.height {
                let target = (y * width + left) * channels
                pixels.replaceSubrange(target..<target + rowBytes, with: part.pixels[y * rowBytes..<(y + 1) * rowBytes])
            }
            left += part.width + gap
        }
        return RasterImage(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// Places `images` top to bottom with `gap` rows of `gapValue` between them, left-aligned;
    /// narrower ones are padded on the right. Colour as in ``sideBySide(_:gap:gapValue:)``.
    public static func stacked(_ images: [RasterImage], gap: Int = 4, gapValue: UInt8 = 255) -> RasterImage {
        precondition(!images.isEmpty, "nothing to compose")
        precondition(gap >= 0, "gap must not be negative")
        let color = images.contains { $0.channels >= 3 }
        let parts = images.map { color ? $0.rgb() : ($0.channels == 2 ? $0.grey() : $0) }
        let channels = color ? 3 : 1
        let width = parts.map(\.width).max()!
        let height = parts.map(\.height).reduce(0, +) + gap * (parts.count - 1)
        var pixels = [UInt8](repeating: gapValue, count: width * height * channels)
        var top = 0
        for part in parts {
            let rowBytes = part.width * channels
            for y in 0..<part.height {
                let target = (top + y) * width * channels
                pixels.replaceSubrange(target..<target + rowBytes, with: part.pixels[y * rowBytes..<(y + 1) * rowBytes])
            }
            top += part.height + gap
        }
        return RasterImage(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// Two images side by side; see ``sideBySide(_:gap:gapValue:)``.
    public func beside(_ other: RasterImage, gap: Int = 4, gapValue: UInt8 = 255) -> RasterImage {
        RasterImage.sideBySide([self, other], gap: gap, gapValue: gapValue)
    }

    /// This grey (+alpha) image without its alpha channel.
    func grey() -> RasterImage {
        guard channels == 2 else { return self }
        let values = stride(from: 0, to: pixels.count, by: 2).map { pixels[$0] }
        return RasterImage(width: width, height: height, channels: 1, pixels: values)
    }
}
