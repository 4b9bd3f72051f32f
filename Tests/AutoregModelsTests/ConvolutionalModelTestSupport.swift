import AutoregModels
import AutoregNN
import AutoregTensor
import XCTest

/// A small PixelCNN or Gated PixelCNN configuration for tests.
func convConfig(_ kind: ModelKind, _ height: Int, _ width: Int, channels: Int = 1, levels: Int = 2,
                hiddenChannels: Int = 8, layers: Int = 2, kernel: Int = 3, firstKernel: Int? = nil,
                dilations: [Int]? = nil, classes: Int = 0, seed: UInt64 = 1) throws -> ModelConfig {
    try ModelConfig(kind: kind, height: height, width: width, channels: channels, levels: levels, seed: seed,
                hiddenChannels: hiddenChannels, layers: layers, kernelSize: kernel,
                firstKernelSize: kind == .pixelcnn ? (firstKernel ?? 7) : nil, dilations: dilations, classes: classes)
}

/// ∂ logits / ∂ pixels, exhaustively: row i holds the gradient of output i (all its levels,
/// with seeded random weights, for categorical heads) with respect to every input pixel.
///
/// One forward and one backward pass: image r of a batch of D + 1 random images is seeded at
/// output r only, so its input gradient is row r (images of a batch are independent; the
/// extra, unseeded image must get no gradient at all, which `leaked` reports).
func dependencyMatrix(_ config: ModelConfig, seed: UInt64,
                      _ logits: (Tensor) -> Tensor) -> (rows: [[Float]], leaked: Bool) {
    let d = config.dimension, levels = config.levels
    let x = randomPixels(batch: d + 1, dimension: d, levels: levels, seed: seed, requiresGrad: true)
    let out = logits(x)
    var rng = RandomGenerator(seed: seed ^ 0xC0FFEE)
    var seedGrad = [Float](repeating: 0, count: out.count)
    for i in 0..<d {
        if levels == 2 { seedGrad[i * d + i] = 1 } else {
            for l in 0..<levels { seedGrad[(i * d + i) * levels + l] = rng.normal() }
        }
    }
    out.backward(seed: seedGrad)
    let g = x.grad ?? [Float](repeating: 0, count: x.count)
    let rows = (0..<d).map { i in Array(g[(i * d)..<((i + 1) * d)]) }
    let leaked = g[(d * d)...].contains { $0 != 0 }
    return (rows, leaked)
}

/// Sub-pixel index of (row, column, channel) in the [B, H·W·C] layout.
func subpixel(_ r: Int, _ c: Int, _ ch: Int, _ config: ModelConfig) -> Int {
    (r * config.width + c) * config.channels + ch
}

/// Every pair (output i, input j) with j at or after i (in raster order, channels R, G, B
/// within a pixel) whose gradient is non-zero, as readable lines.
func causalityViolations(_ rows: [[Float]], _ config: ModelConfig) -> [String] {
    var out: [String] = []
    for i in rows.indices {
        for j in i..<rows.count where rows[i][j] != 0 {
            out.append("output \(describe(i, config)) depends on input \(describe(j, config)): \(rows[i][j])")
        }
    }
    return out
}

/// "(row, column, channel)".
func describe(_ index: Int, _ config: ModelConfig) -> String {
    let ch = index % config.channels, p = index / config.channels
    return "(\(p / config.width), \(p % config.width), \(ch))"
}

/// Every 8-bit image of two sub-pixels ([65 536, 2]) in chunks: Σ exp(−nll).
func totalProbabilityTwoSubpixels(_ nll: (Tensor) -> Tensor) -> Double {
    var sum = 0.0
    let chunk = 16_384
    for start in stride(from: 0, to: 65_536, by: chunk) {
        var data = [Float](repeating: 0, count: chunk * 2)
        for k in 0..<chunk { data[2 * k] = Float((start + k) & 255); data[2 * k + 1] = Float((start + k) >> 8) }
        sum += totalProbability(nll: withoutGrad { nll(Tensor(shape: [chunk, 2], data: data)) }.data)
    }
    return sum
}

/// A model of 1×1 RGB 8-bit images: every conditional it outputs, p(r), p(g | r) for all 256
/// values of r, and p(b | r, g) for every r and g on a grid with the edge values, each summed
/// over its 256 values (`worst` = the largest |sum − 1|); and whether any sub-pixel's outputs
/// changed with its own or a later sub-pixel's value on those images (`leaks`, readable).
/// With both, Σ over the colours of p(r) p(g | r) p(b | r, g) is 1.
func colourConditionalTotals(_ model: any AutoregressiveModel) -> (worst: Double, leaks: [String]) {
    let d = model.config.output, width = d.width
    precondition(model.config.dimension == 3, "a model of 1×1 RGB images")
    let grid = [0, 1] + Array(stride(from: 17, to: 255, by: 17)) + [254, 255]
    let images = (0..<256).flatMap { r in grid.map { g in (r, g) } }
    func logits(b: Float) -> [Float] {
        let x = images.flatMap { [Float($0.0), Float($0.1), b] }
        return withoutGrad { model.logits(Tensor(shape: [images.count, 3], data: x)) }.data
    }
    let zero = logits(b: 0), full = logits(b: 255)
    func slot(_ all: [Float], _ image: Int, channel c: Int) -> [Float] {
        Array(all[((image * 3 + c) * width)..<((image * 3 + c + 1) * width)])
    }
    var leaks: [String] = []
    if zero != full { leaks.append("an output changed with b") }
    for (i, (r, g)) in images.enumerated() {
        if slot(zero, i, channel: 0) != slot(zero, 0, channel: 0) { leaks.append("R's outputs at r \(r) g \(g)") }
        if slot(zero, i, channel: 1) != slot(zero, i - i % grid.count, channel: 1) { leaks.append("G's outputs at r \(r) g \(g)") }
    }
    func total(_ s: [Float]) -> Double {
        let l = Tensor(shape: d.logitShape(batch: 256, dimension: 1), data: Array(repeating: s, count: 256).flatMap { $0 })
        let v = Tensor(shape: [256, 1], data: (0..<256).map(Float.init))
        return withoutGrad { d.nll(logits: l, pixels: v) }.data.reduce(0.0) { $0 + exp(-Double($1)) }
    }
    var worst = abs(total(slot(zero, 0, channel: 0)) - 1)
    for (i, (_, g)) in images.enumerated() {
        if g == 0 { worst = max(worst, abs(total(slot(zero, i, channel: 1)) - 1)) }
        worst = max(worst, abs(total(slot(zero, i, channel: 2)) - 1))
    }
    return (worst, Array(leaks.prefix(5)))
}
