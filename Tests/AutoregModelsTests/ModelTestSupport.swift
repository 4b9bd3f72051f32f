import AutoregModels
import AutoregNN
import AutoregTensor
import Foundation
import XCTest

/// A model configuration with test-friendly defaults.
func makeConfig(_ kind: ModelKind, _ height: Int, _ width: Int, levels: Int = 2, hidden: [Int]? = nil,
                masks: Int = 1, ordering: PixelOrdering = .natural, direct: Bool = false,
                seed: UInt64 = 1) throws -> ModelConfig {
    try ModelConfig(kind: kind, height: height, width: width, levels: levels,
                hidden: hidden ?? (kind == .fvsbn ? [] : [8]), masks: masks, ordering: ordering,
                directConnections: direct, seed: seed)
}

func buildModel(_ config: ModelConfig) -> any AutoregressiveModel {
    do { return try makeModel(config) } catch { fatalError("cannot build \(config): \(error)") }
}

/// Overwrites every parameter with seeded N(0, std²) values, so that zero-initialised
/// weights (FVSBN) and biases take part in the tests.
func randomizeParameters(_ model: any AutoregressiveModel, std: Float = 0.5, seed: UInt64) {
    var rng = RandomGenerator(seed: seed)
    for p in model.parameters { p.tensor.data = p.tensor.data.map { _ in rng.normal() * std } }
}

/// Adds seeded N(0, std²) noise to every parameter (keeps the initialiser's scale).
func perturbParameters(_ model: any AutoregressiveModel, std: Float, seed: UInt64) {
    var rng = RandomGenerator(seed: seed)
    for p in model.parameters { p.tensor.data = p.tensor.data.map { $0 + rng.normal() * std } }
}

/// Every binary image of `d` pixels as a [2^d, d] batch: image k has pixel i = bit i of k.
func allBinaryImages(_ d: Int) -> Tensor {
    let n = 1 << d
    var data = [Float](repeating: 0, count: n * d)
    for k in 0..<n { for i in 0..<d where (k >> i) & 1 == 1 { data[k * d + i] = 1 } }
    return Tensor(shape: [n, d], data: data)
}

/// Seeded random pixels: 0/1 for binary models, 0...levels−1 otherwise.
func randomPixels(batch: Int, dimension d: Int, levels: Int, seed: UInt64, requiresGrad: Bool = false) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    let data = (0..<(batch * d)).map { _ in Float(rng.int(below: levels)) }
    return Tensor(shape: [batch, d], data: data, requiresGrad: requiresGrad)
}

/// Σ_x p(x) = Σ exp(−nll(x)) over a batch, summed in Double.
func totalProbability(nll: [Float]) -> Double {
    nll.reduce(0.0) { $0 + Foundation.exp(-Double($1)) }
}

func totalProbability(_ model: any AutoregressiveModel, images: Tensor) -> Double {
    totalProbability(nll: withoutGrad { model.nll(images) }.data)
}

/// A few Adam steps on `data` (MADE moves to its next mask each step); returns the losses.
@discardableResult
func train(_ model: any AutoregressiveModel, on data: Tensor, steps: Int, learningRate: Float = 0.05) -> [Float] {
    let params = model.parameters.map(\.tensor)
    let adam = Adam(learningRate: learningRate)
    var losses: [Float] = []
    for _ in 0..<steps {
        model.zeroGrad()
        let loss = model.loss(data)
        losses.append(loss.item)
        loss.backward()
        adam.step(params)
        (model as? MADE)?.nextMask()
    }
    return losses
}

/// rank[i] = the step at which pixel i is generated.
func ranks(_ ordering: [Int]) -> [Int] {
    var r = [Int](repeating: -1, count: ordering.count)
    for (t, i) in ordering.enumerated() { r[i] = t }
    return r
}
