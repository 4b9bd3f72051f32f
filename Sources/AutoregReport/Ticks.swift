import Foundation

/// Axis ticks at "nice" values (1, 2 or 5 times a power of ten) covering `low...high`, about
/// `target` of them; the first tick is at or below `low` and the last at or above `high`.
public func niceTicks(low: Double, high: Double, target: Int = 5) -> [Double] {
    precondition(low.isFinite && high.isFinite && low <= high && target >= 1, "bad tick range \(low)...\(high)")
    let step = niceStep(low: low, high: high, target: target)
    let first = (low / step).rounded(.down), last = (high / step).rounded(.up)
    return stride(from: first, through: last, by: 1).map { clean($0 * step, step) }
}

/// The distance between ticks `niceTicks` uses.
public func niceStep(low: Double, high: Double, target: Int = 5) -> Double {
    let span = high > low ? high - low : max(abs(low), 1)
    let raw = span / Double(max(target, 1))
    let magnitude = pow(10, (log10(raw)).rounded(.down))
    let fraction = raw / magnitude
    let tolerance = 1 + 1e-9  // 0.1 / 0.01 need not be exactly 10 in floating point
    let nice: Double = fraction <= tolerance ? 1 : fraction <= 2 * tolerance ? 2 : fraction <= 5 * tolerance ? 5 : 10
    return nice * magnitude
}

/// `value` rounded to the decimals `step` shows, so that 0.1 * 3 prints as 0.3.
private func clean(_ value: Double, _ step: Double) -> Double {
    let decimals = max(0, -Int((log10(step)).rounded(.down)))
    let factor = pow(10, Double(min(decimals, 15)))
    return (value * factor).rounded() / factor
}

/// A tick's label: as many decimals as the step between ticks needs, or exponent notation for
/// very large or small steps.
public func tickLabel(_ value: Double, step: Double) -> String {
    if step >= 1e6 || step < 1e-4 { return String(format: "%.3g", value) }
    let decimals = max(0, -Int((log10(step)).rounded(.down)))
    return String(format: "%.\(decimals)f", value == 0 ? 0 : value)
}
