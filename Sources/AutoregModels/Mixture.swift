import Foundation

/// Per-image NLL of the equal-weight mixture p(x) = (1/K) Σₖ pₖ(x) of K models, from each
/// model's per-image NLL: −log (1/K) Σₖ exp(−nllₖ), by log-sum-exp in double precision.
///
/// A mixture of normalised models is normalised, so this is an exact likelihood too, and by
/// Jensen's inequality never above the mean of the members' NLLs. MADE's mask ensembles
/// and `autoreg eval` with several checkpoints use it.
public func mixtureNLL(_ perModel: [[Float]]) -> [Float] {
    precondition(!perModel.isEmpty, "a mixture needs at least one model")
    let count = perModel[0].count
    precondition(perModel.allSatisfy { $0.count == count }, "every model must score the same images")
    let logK = Foundation.log(Double(perModel.count))
    return (0..<count).map { n in
        let logs = perModel.map { -Double($0[n]) }
        let m = logs.max()!
        guard m.isFinite else { return Float(-m) }  // every member gives the image probability 0
        let lse = m + Foundation.log(logs.reduce(0) { $0 + Foundation.exp($1 - m) })
        return Float(-(lse - logK))
    }
}
