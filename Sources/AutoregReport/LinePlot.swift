import Foundation

/// A line chart drawn as inline SVG: linear axes with ticks, labels and grid lines, one
/// polyline per series (with dots when a series has few points), and a legend below the
/// chart, in two columns, where it hides no line.
public struct LinePlot {
    /// One line of the chart.
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// CSS colour of the line, e.g. "#1f77b4".
        public var color: String
        public var dashed: Bool

        public init(name: String, points: [(x: Double, y: Double)], color: String, dashed: Bool = false) {
            self.name = name
            self.points = points.filter { $0.x.isFinite && $0.y.isFinite }
            self.color = color
            self.dashed = dashed
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var width = 560
    /// The height of the chart without its legend (which adds 16 px per row of two entries).
    public var height = 320
    /// Series with at most this many points get a dot at each point.
    public var dotsUpTo = 40

    /// Space around the plotting area: left (tick labels and the y label), right, top (title), bottom.
    let margin = (left: 70.0, right: 16.0, top: 30.0, bottom: 46.0)

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    /// Whether any series has a point to draw.
    public var hasData: Bool { series.contains { !$0.points.isEmpty } }

    /// The ranges the axes span: the data's extremes, widened to the outer ticks.
    public var ranges: (x: ClosedRange<Double>, y: ClosedRange<Double>) {
        let points = series.flatMap(\.points)
        func span(_ values: [Double]) -> ClosedRange<Double> {
            guard var low = values.min(), var high = values.max() else { return 0...1 }
            if low == high { low -= max(abs(low) * 0.05, 0.5); high += max(abs(high) * 0.05, 0.5) }
            let ticks = niceTicks(low: low, high: high)
            return ticks.first!...ticks.last!
        }
        return (span(points.map(\.x)), span(points.map(\.y)))
    }

    /// The SVG pixel position of the data point (`x`, `y`).
    public func position(x: Double, y: Double) -> (x: Double, y: Double) {
        let (rx, ry) = ranges
        let plotWidth = Double(width) - margin.left - margin.right, plotHeight = Double(height) - margin.top - margin.bottom
        let px = margin.left + (x - rx.lowerBound) / (rx.upperBound - rx.lowerBound) * plotWidth
        let py = margin.top + plotHeight - (y - ry.lowerBound) / (ry.upperBound - ry.lowerBound) * plotHeight
        return (px, py)
    }

    /// The chart as an `<svg>` element; every text in it is escaped.
    public func svg() -> String {
        let (rx, ry) = ranges
        let left = margin.left, top = margin.top
        let right = Double(width) - margin.right, bottom = Double(height) - margin.bottom
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        let named = series.filter { !$0.points.isEmpty }
        let total = height + 16 * ((named.count + 1) / 2) + (named.isEmpty ? 0 : 6)
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"\(width)\" height=\"\(total)\" "
            + "viewBox=\"0 0 \(width) \(total)\" role=\"img\" aria-label=\"\(escapeHTML(title))\">\n"
        s += "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(total)\" fill=\"#ffffff\"/>\n"
        s += "<text x=\"\(f(Double(width) / 2))\" y=\"18\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">"
            + "\(escapeHTML(title))</text>\n"
        // Grid, ticks and their labels.
        let xStep = niceStep(low: rx.lowerBound, high: rx.upperBound), yStep = niceStep(low: ry.lowerBound, high: ry.upperBound)
        for t in niceTicks(low: rx.lowerBound, high: rx.upperBound) where t >= rx.lowerBound - 1e-9 && t <= rx.upperBound + 1e-9 {
            let x = position(x: t, y: ry.lowerBound).x
            s += "<line class=\"grid\" x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(bottom))\" stroke=\"#e4e4e4\"/>"
            s += "<line x1=\"\(f(x))\" y1=\"\(f(bottom))\" x2=\"\(f(x))\" y2=\"\(f(bottom + 5))\" stroke=\"#333\"/>"
            s += "<text class=\"tick\" x=\"\(f(x))\" y=\"\(f(bottom + 18))\" text-anchor=\"middle\" font-size=\"11\">"
                + "\(tickLabel(t, step: xStep))</text>\n"
        }
        for t in niceTicks(low: ry.lowerBound, high: ry.upperBound) where t >= ry.lowerBound - 1e-9 && t <= ry.upperBound + 1e-9 {
            let y = position(x: rx.lowerBound, y: t).y
            s += "<line class=\"grid\" x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(right))\" y2=\"\(f(y))\" stroke=\"#e4e4e4\"/>"
            s += "<line x1=\"\(f(left - 5))\" y1=\"\(f(y))\" x2=\"\(f(left))\" y2=\"\(f(y))\" stroke=\"#333\"/>"
            s += "<text class=\"tick\" x=\"\(f(left - 8))\" y=\"\(f(y + 4))\" text-anchor=\"end\" font-size=\"11\">"
                + "\(tickLabel(t, step: yStep))</text>\n"
        }
        // Axes and their labels.
        s += "<line x1=\"\(f(left))\" y1=\"\(f(bottom))\" x2=\"\(f(right))\" y2=\"\(f(bottom))\" stroke=\"#333\"/>"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(bottom))\" stroke=\"#333\"/>\n"
        s += "<text x=\"\(f((left + right) / 2))\" y=\"\(f(Double(height) - 8))\" text-anchor=\"middle\" font-size=\"12\">"
            + "\(escapeHTML(xLabel))</text>\n"
        s += "<text x=\"14\" y=\"\(f((top + bottom) / 2))\" text-anchor=\"middle\" font-size=\"12\" "
            + "transform=\"rotate(-90 14 \(f((top + bottom) / 2)))\">\(escapeHTML(yLabel))</text>\n"
        // The lines.
        for line in series where !line.points.isEmpty {
            let points = line.points.map { position(x: $0.x, y: $0.y) }
            let dash = line.dashed ? " stroke-dasharray=\"6 4\"" : ""
            s += "<polyline class=\"series\" data-name=\"\(escapeHTML(line.name))\" fill=\"none\" stroke=\"\(escapeHTML(line.color))\" "
                + "stroke-width=\"2\"\(dash) points=\"" + points.map { "\(f($0.x)),\(f($0.y))" }.joined(separator: " ") + "\"/>\n"
            if line.points.count <= dotsUpTo {
                for p in points {
                    s += "<circle cx=\"\(f(p.x))\" cy=\"\(f(p.y))\" r=\"3\" fill=\"\(escapeHTML(line.color))\"/>"
                }
                s += "\n"
            }
        }
        // The legend, below the x axis's label: two entries a row.
        if !named.isEmpty {
            s += "<g class=\"legend\">"
            let column = (right - left) / 2
            for (k, line) in named.enumerated() {
                let x0 = left + Double(k % 2) * column, y = Double(height) + 10 + Double(k / 2) * 16
                let dash = line.dashed ? " stroke-dasharray=\"6 4\"" : ""
                s += "<line x1=\"\(f(x0))\" y1=\"\(f(y - 4))\" x2=\"\(f(x0 + 24))\" y2=\"\(f(y - 4))\" "
                    + "stroke=\"\(escapeHTML(line.color))\" stroke-width=\"2\"\(dash)/>"
                s += "<text x=\"\(f(x0 + 30))\" y=\"\(f(y))\" font-size=\"11\">\(escapeHTML(line.name))</text>"
            }
            s += "</g>\n"
        }
        return s + "</svg>"
    }
}

/// Line colours for runs and series, distinct in print and for common colour blindness.
public let plotColors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
