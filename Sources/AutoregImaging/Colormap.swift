/// An 8-bit RGB colour.
public struct RGB: Sendable, Equatable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { (self.r, self.g, self.b) = (r, g, b) }

    public static let black = RGB(0, 0, 0)
    public static let white = RGB(255, 255, 255)
    public static let grey = RGB(128, 128, 128)
    public static let red = RGB(230, 20, 20)
}

/// A colour scale: evenly spaced anchor colours, linearly interpolated.
public struct Colormap: Sendable {
    public let anchors: [RGB]

    /// A colormap through `anchors` (at least two), the first for 0 and the last for 1.
    public init(anchors: [RGB]) {
        precondition(anchors.count >= 2, "a colormap needs at least two anchors")
        self.anchors = anchors
    }

    /// The colour for `t` in 0...1 (values outside are clamped; NaN gives the first anchor).
    public func color(at t: Float) -> RGB {
        let clamped = t.isNaN ? 0 : min(max(t, 0), 1)
        let position = clamped * Float(anchors.count - 1)
        let lower = min(Int(position), anchors.count - 2)
        let fraction = position - Float(lower)
        let (a, b) = (anchors[lower], anchors[lower + 1])
        func mix(_ x: UInt8, _ y: UInt8) -> UInt8 {
            UInt8((Float(x) + (Float(y) - Float(x)) * fraction).rounded())
        }
        return RGB(mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b))
    }

    /// Dark purple through blue and green to yellow; perceptually ordered, readable in grey.
    public static let viridis = Colormap(anchors: [
        RGB(68, 1, 84), RGB(71, 45, 123), RGB(59, 82, 139), RGB(44, 114, 142),
        RGB(33, 145, 140), RGB(40, 174, 128), RGB(94, 201, 98), RGB(253, 231, 37),
    ])

    /// Black through purple, red and orange to pale yellow.
    public static let inferno = Colormap(anchors: [
        RGB(0, 0, 4), RGB(40, 11, 84), RGB(101, 21, 110), RGB(159, 42, 99),
        RGB(212, 72, 66), RGB(245, 125, 21), RGB(250, 193, 39), RGB(252, 255, 164),
    ])

    /// Black to white.
    public static let greyscale = Colormap(anchors: [.black, .white])
}
