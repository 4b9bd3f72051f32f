/// Tiles equally sized images into one grid image, for viewing samples.
public enum ImageGrid {
    /// Tiles `count` images stored back to back in `pixels` (each `height x width x channels`,
    /// row-major, channels last) into `columns` columns (default `ceil(sqrt(count))`), with
    /// `padding` pixels of `paddingValue` between tiles and around the border, then enlarges
    /// the result `scale` times (nearest neighbour).
    public static func tile(pixels: [UInt8], count: Int, height: Int, width: Int, channels: Int = 1,
                            columns: Int? = nil, padding: Int = 2, paddingValue: UInt8 = 0,
                            scale: Int = 1) -> RasterImage {
        precondition(count > 0 && height > 0 && width > 0, "grid needs at least one non-empty image")
        precondition(pixels.count == count * height * width * channels, "pixel count does not match dimensions")
        precondition(padding >= 0, "padding must not be negative")
        let columns = columns ?? Int(Double(count).squareRoot().rounded(.up))
        precondition(columns > 0, "columns must be positive")
        let rows = (count + columns - 1) / columns
        let gridWidth = columns * width + (columns + 1) * padding
        let gridHeight = rows * height + (rows + 1) * padding
        var grid = [UInt8](repeating: paddingValue, count: gridWidth * gridHeight * channels)
        let tileRowBytes = width * channels
        for index in 0..<count {
            let left = padding + (index % columns) * (width + padding)
            let top = padding + (index / columns) * (height + padding)
            for y in 0..<height {
                let source = (index * height + y) * tileRowBytes
                let target = ((top + y) * gridWidth + left) * channels
                grid.replaceSubrange(target..<target + tileRowBytes, with: pixels[source..<source + tileRowBytes])
            }
        }
        return RasterImage(width: gridWidth, height: gridHeight, channels: channels, pixels: grid).upscaled(by: scale)
    }

    /// Tiles `images`, which must all have the same size and channel count; see
    /// ``tile(pixels:count:height:width:channels:columns:padding:paddingValue:scale:)``.
    public static func tile(_ images: [RasterImage], columns: Int? = nil, padding: Int = 2,
                            paddingValue: UInt8 = 0, scale: Int = 1) -> RasterImage {
        guard let first = images.first else { preconditionFailure("grid needs at least one image") }
        precondition(images.allSatisfy { $0.width == first.width && $0.height == first.height && $0.channels == first.channels },
                     "all grid images must have the same size and channels")
        return tile(pixels: images.flatMap(\.pixels), count: images.count, height: first.height, width: first.width,
                    channels: first.channels, columns: columns, padding: padding, paddingValue: paddingValue, scale: scale)
    }
}
