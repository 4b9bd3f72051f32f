import Foundation

/// The one timing helper of `autoreg bench` and `autoreg-lab`: wall-clock seconds of a call,
/// and of a run of timed calls after untimed warm-up ones.
public enum Timing {
    /// Wall-clock seconds `body` takes.
    public static func seconds(_ body: () -> Void) -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
    }

    /// Seconds of each of `repeats` timed calls of `body` after `warmup` untimed ones;
    /// `prepare` runs before every call (warm-up included), untimed.
    public static func steps(warmup: Int, repeats: Int, prepare: () -> Void = {}, _ body: () -> Void) -> [Double] {
        for _ in 0..<max(warmup, 0) { prepare(); body() }
        return (0..<max(repeats, 0)).map { _ in
            prepare()
            return seconds(body)
        }
    }

    /// CPU time this process has used (all threads), in seconds: steadier than wall time on a
    /// shared machine.
    public static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// Peak resident memory of this process so far, in MiB.
    public static func peakResidentMiB() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Double(usage.ru_maxrss) / 1024 / 1024  // bytes on macOS
        #endif
    }
}

/// The median and the range of a list of measurements (seconds or rates).
public struct Summary: Equatable, Sendable {
    public var median: Double
    public var min: Double
    public var max: Double

    /// All zero for an empty list.
    public init(_ xs: [Double]) {
        let s = xs.sorted()
        guard let first = s.first, let last = s.last else {
            (median, min, max) = (0, 0, 0)
            return
        }
        let mid = s.count / 2
        median = s.count % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
        (min, max) = (first, last)
    }

    /// Every figure mapped through an increasing `f` (e.g. seconds to milliseconds).
    public func map(_ f: (Double) -> Double) -> Summary {
        var s = self
        (s.median, s.min, s.max) = (f(median), f(min), f(max))
        return s
    }
}

/// `x` rounded to `digits` decimals, for JSON that prints as short as the text output.
public func rounded(_ x: Double, _ digits: Int) -> Double {
    let scale = pow(10, Double(digits))
    return (x * scale).rounded() / scale
}

/// One JSON line on standard output: `value` encoded with its property names in snake_case
/// (`imagesPerSMedian` → `images_per_s_median`), keys sorted. benchmarks/*.py read these lines.
public func printJSONLine<T: Encodable>(_ value: T) throws {
    print(try jsonLine(value))
}

/// The line `printJSONLine` prints.
public func jsonLine<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf",
                                                                  nan: "nan")
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
