// Finite-difference gradient checker shared by the tensor and model test suites.
import AutoregTensor
import Foundation
import XCTest

/// Outcome of comparing reverse-mode gradients with central differences.
public struct GradientCheckReport {
    /// Number of scalar partial derivatives compared.
    public var checked = 0
    /// One line per element that broke the tolerance (or a structural problem).
    public var failures: [String] = []
    /// ‖autodiff − numeric‖ / max(‖numeric‖, 1e-2) over every checked element.
    public var relativeNormError: Double = 0
    public var passed: Bool { failures.isEmpty }
}

/// Compares the gradients autodiff gives for every element of every tensor in `inputs`
/// (they must have `requiresGrad: true`) with central differences.
///
/// The scalar loss is L = Σ_k w_k · f()_k with fixed standard-normal weights w (one weight
/// when f returns a scalar), so every output element matters and no two get the same
/// weight. Autodiff runs `backward(seed: w)`; the numeric side evaluates f with each input
/// element moved to x ± eps (under `withoutGrad`), sums in Double and divides by the exact
/// float step. `f` closes over the inputs: they are mutated in place and restored.
///
/// An element passes when |a − n| ≤ tolerance · max(1, |a|, |n|); in addition the whole
/// gradient must satisfy ‖a − n‖ ≤ tolerance · max(‖n‖, 1e-2), so that a gradient that is
/// wrong by a constant factor fails even where its entries are small.
public func checkGradients(wrt inputs: [Tensor], eps: Float = 1e-2, tolerance: Double = 2e-2,
                    seed: UInt64 = 0x5EED, _ f: () -> Tensor) -> GradientCheckReport {
    var report = GradientCheckReport()
    for t in inputs where !t.requiresGrad {
        report.failures.append("an input of shape \(t.shape) does not require gradients")
    }
    guard report.passed else { return report }
    for t in inputs { t.grad = nil }

    let output = f()
    var rng = RandomGenerator(seed: seed)
    let weights = (0..<output.count).map { _ in rng.normal() }
    guard output.requiresGrad else {
        report.failures.append("the output does not require gradients (no tape was recorded)")
        return report
    }
    output.backward(seed: weights)
    let analytic = inputs.map { $0.grad ?? [Float](repeating: 0, count: $0.count) }

    func loss() -> Double {
        let out = withoutGrad { f() }
        precondition(out.count == weights.count, "f changed its output size")
        var s = 0.0
        for k in 0..<out.count { s += Double(out.data[k]) * Double(weights[k]) }
        return s
    }

    var diff2 = 0.0, norm2 = 0.0
    for (index, t) in inputs.enumerated() {
        for e in 0..<t.count {
            let original = t.data[e]
            let plus = original + eps, minus = original - eps
            t.data[e] = plus
            let lp = loss()
            t.data[e] = minus
            let lm = loss()
            t.data[e] = original
            let numeric = (lp - lm) / (Double(plus) - Double(minus))
            let a = Double(analytic[index][e])
            report.checked += 1
            diff2 += (a - numeric) * (a - numeric)
            norm2 += numeric * numeric
            if !(abs(a - numeric) <= tolerance * max(1, abs(a), abs(numeric))) {
                report.failures.append(String(format: "input %d %@ element %d: autodiff %.6g, numeric %.6g",
                                              index, "\(t.shape)", e, a, numeric))
            }
        }
    }
    report.relativeNormError = diff2.squareRoot() / max(norm2.squareRoot(), 1e-2)
    if !(report.relativeNormError <= tolerance) {
        report.failures.append(String(format: "relative norm error %.4g exceeds %.3g", report.relativeNormError, tolerance))
    }
    for t in inputs { t.grad = nil }
    return report
}

/// XCTest wrapper around `checkGradients`.
public func assertGradients(wrt inputs: [Tensor], eps: Float = 1e-2, tolerance: Double = 2e-2,
                     _ message: @autoclosure () -> String = "",
                     file: StaticString = #filePath, line: UInt = #line, _ f: () -> Tensor) {
    let report = checkGradients(wrt: inputs, eps: eps, tolerance: tolerance, f)
    XCTAssertGreaterThan(report.checked, 0, "nothing was checked \(message())", file: file, line: line)
    XCTAssertTrue(report.passed,
                  "gradient check failed \(message()) (\(report.failures.count) problems of \(report.checked) partials):\n"
                      + report.failures.prefix(8).joined(separator: "\n"),
                  file: file, line: line)
}

// MARK: - Random test data

/// Seeded uniform values in [low, high).
public func uniformTensor(_ shape: [Int], _ low: Float = -1, _ high: Float = 1, seed: UInt64,
                   requiresGrad: Bool = true) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, low: low, high: high, rng: &rng, requiresGrad: requiresGrad)
}

/// Seeded values with magnitude in [low, high] and random sign: away from kinks at 0.
public func awayFromZero(_ shape: [Int], _ low: Float = 0.2, _ high: Float = 2, seed: UInt64,
                  requiresGrad: Bool = true) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    let n = shape.reduce(1, *)
    let data = (0..<n).map { _ -> Float in
        let m = low + (high - low) * rng.uniform()
        return rng.uniform() < 0.5 ? -m : m
    }
    return Tensor(shape: shape, data: data, requiresGrad: requiresGrad)
}
