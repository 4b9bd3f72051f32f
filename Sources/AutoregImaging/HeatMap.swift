/// Renders scalar fields (e.g. per-pixel probabilities or log-likelihoods) as colour images.
public enum HeatMap {
    /// A `width` x `height` RGB strip running through `colormap` from its start (left column)
    /// to its end (right column): the key to a heat map's colours.
    public static func colorBar(width: Int, height: Int, colormap: Colormap = .viridis) -> RasterImage {
        precondition(width >= 2 && height >= 1, "a colour bar needs at least 2 x 1 pixels")
        let row = (0..<width).flatMap { x -> [UInt8] in
            let c = colormap.color(at: Float(x) / Float(width - 1))
            return [c.r, c.g, c.b]
        }
        return RasterImage(width: width, height: height, channels: 3, pixels: Array((0..<height).map { _ in row }.joined()))
    }

    /// How masked pixels are painted.
    public enum MaskStyle: Sendable {
        /// One flat colour.
        case solid(RGB)
        /// Diagonal lines of the first colour over the second (visible when `scale >= 3`).
        case hatched(RGB, RGB)
    }

    /// Maps a `height x width` field to RGB through `colormap`.
    ///
    /// - Parameters:
    ///   - range: values mapped to the colormap's ends; nil uses the field's finite minimum and maximum.
    ///   - scale: integer enlargement (nearest neighbour); markers are drawn at this scale.
    ///   - marked: a pixel (row, column) outlined in `markColor` (filled when `scale < 3`).
    ///   - masked: `height * width` flags; flagged pixels (and non-finite values) get `maskStyle`.
    public static func render(_ field: [Float], height: Int, width: Int, range: ClosedRange<Float>? = nil,
                              colormap: Colormap = .viridis, scale: Int = 1,
                              marked: (row: Int, column: Int)? = nil, markColor: RGB = .red,
                              masked: [Bool]? = nil, maskStyle: MaskStyle = .solid(.grey)) -> RasterImage {
        precondition(field.count == height * width, "field has \(field.count) values, expected \(height * width)")
        precondition(masked.map { $0.count == field.count } ?? true, "mask size does not match the field")
        precondition(scale >= 1, "scale must be at least 1")
        let (low, high) = range.map { ($0.lowerBound, $0.upperBound) } ?? finiteExtremes(field)
        let span = high > low ? high - low : 1
        let outWidth = width * scale
        var pixels = [UInt8](repeating: 0, count: height * scale * outWidth * 3)

        func paint(_ y: Int, _ x: Int, _ color: RGB) {
            let at = (y * outWidth + x) * 3
            (pixels[at], pixels[at + 1], pixels[at + 2]) = (color.r, color.g, color.b)
        }

        for row in 0..<height {
            for column in 0..<width {
                let index = row * width + column
                let value = field[index]
                let isMasked = (masked?[index] ?? false) || !value.isFinite
                let color = colormap.color(at: (value - low) / span)
                for y in row * scale..<(row + 1) * scale {
                    for x in column * scale..<(column + 1) * scale {
                        switch (isMasked, maskStyle) {
                        case (false, _): paint(y, x, color)
                        case let (true, .solid(fill)): paint(y, x, fill)
                        case let (true, .hatched(line, background)): paint(y, x, (x + y) % 4 == 0 ? line : background)
                        }
                    }
                }
            }
        }
        if let (row, column) = marked {
            precondition(row >= 0 && row < height && column >= 0 && column < width, "marked pixel outside the field")
            for y in row * scale..<(row + 1) * scale {
                for x in column * scale..<(column + 1) * scale {
                    let onEdge = y == row * scale || y == (row + 1) * scale - 1 || x == column * scale || x == (column + 1) * scale - 1
                    if scale < 3 || onEdge { paint(y, x, markColor) }
                }
            }
        }
        return RasterImage(width: outWidth, height: height * scale, channels: 3, pixels: pixels)
    }

    private static func finiteExtremes(_ field: [Float]) -> (Float, Float) {
        let finite = field.filter(\.isFinite)
        return (finite.min() ?? 0, finite.max() ?? 1)
    }
}

/// Probabilities in 0...1 as grey levels 0...255 (clamped, rounded; NaN becomes 0).
public func probabilityImage(_ p: [Float]) -> [UInt8] {
    p.map { $0.isNaN ? 0 : UInt8((min(max($0, 0), 1) * 255).rounded()) }
}

/// A `height x width` grey image of probabilities; see ``probabilityImage(_:)``.
public func probabilityImage(_ p: [Float], height: Int, width: Int) -> RasterImage {
    RasterImage(width: width, height: height, channels: 1, pixels: probabilityImage(p))
}
