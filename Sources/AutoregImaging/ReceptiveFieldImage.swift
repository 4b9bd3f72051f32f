import Foundation

/// Draws a receptive field: the gradient magnitude of one output position with respect to
/// every input pixel, with the pixels the ordering allows but the model cannot see (the
/// blind spot) and the pixels it must not see painted apart.
public enum ReceptiveFieldImage {
    /// The chosen output position.
    public static let chosenColor = RGB(230, 20, 20)
    /// Allowed (earlier) pixels with a gradient of exactly zero: the blind spot.
    public static let blindSpotColor = RGB(255, 255, 255)
    /// Pixels the ordering does not allow (later ones), whatever their gradient.
    public static let laterColor = RGB(128, 128, 128)

    /// Renders `magnitudes` (`height * width` values ≥ 0) as an RGB image.
    ///
    /// Non-zero magnitudes are log-scaled over at most `decades` powers of ten below the
    /// largest (smaller ones are clamped to the low end) and coloured with `colormap`, so
    /// that small but non-zero gradients stay visible and distinct from exact zeros.
    ///
    /// - Parameters:
    ///   - allowed: `height * width` flags: pixels the chosen position may depend on. Zero
    ///     magnitudes there are painted `blindSpotColor`; unflagged pixels other than the
    ///     chosen one are painted `laterColor` unless their magnitude is non-zero (a leak,
    ///     shown in the heat colours so that it cannot hide).
    ///   - scale: integer enlargement (nearest neighbour).
    public static func render(_ magnitudes: [Float], height: Int, width: Int, row: Int, column: Int,
                              allowed: [Bool], scale: Int = 8, decades: Float = 6,
                              colormap: Colormap = .viridis) -> RasterImage {
        precondition(magnitudes.count == height * width, "\(magnitudes.count) magnitudes for a \(height)x\(width) image")
        precondition(allowed.count == height * width, "\(allowed.count) allowed flags for a \(height)x\(width) image")
        precondition(row >= 0 && row < height && column >= 0 && column < width, "chosen pixel outside the image")
        precondition(scale >= 1 && decades > 0, "scale must be at least 1 and decades positive")
        let logs = magnitudes.map { $0 > 0 && $0.isFinite ? log10($0) : -Float.infinity }
        let high = logs.max() ?? 0
        let low = max(logs.filter(\.isFinite).min() ?? high, high - decades)
        var pixels = [UInt8]()
        pixels.reserveCapacity(height * width * 3)
        for index in 0..<height * width {
            let color: RGB
            if index == row * width + column {
                color = chosenColor
            } else if logs[index].isFinite {
                color = colormap.color(at: high > low ? (logs[index] - low) / (high - low) : 1)
            } else {
                color = allowed[index] ? blindSpotColor : laterColor
            }
            pixels += [color.r, color.g, color.b]
        }
        return RasterImage(width: width, height: height, channels: 3, pixels: pixels).upscaled(by: scale)
    }
}
