import AutoregTensor

/// The image(s) at which a receptive field is measured.
public enum ReceptiveFieldInput: String, CaseIterable, Sendable {
    /// Seeded uniformly random pixel values, several images at once (the union of their
    /// dependences is taken, so that a connection that happens to be inactive for one image,
    /// e.g. behind a ReLU that is off, still shows).
    case random
    /// Every pixel 0 (black; −1 after the models' scaling to [−1, 1]).
    case zeros
    /// Every pixel at mid-range, (levels − 1)/2 (0 after the scaling). With zero biases a
    /// network sees all-zero activations here, so ReLU models may show no gradient at all.
    case grey
}

/// Which input pixels the outputs at one pixel position depend on, measured by
/// back-propagation: the gradient of s = Σ_k w_k · logit_k over that position's outputs
/// (all channels, all levels) with respect to every input sub-pixel.
///
/// The weights w_k are seeded standard normal draws rather than all ones or signs, so that
/// the contributions of different outputs cannot cancel: the gradient at an input is non-zero
/// (with probability one) exactly where some output of the position depends on it. Masked
/// weights are exact zeros, so inputs the architecture cannot reach get a gradient of
/// exactly 0.
public struct ReceptiveField: Sendable {
    public let height: Int
    public let width: Int
    public let channels: Int
    /// The chosen position.
    public let row: Int
    public let column: Int
    /// |∂s/∂x_j| for every sub-pixel j ([H·W·C], channels last), summed over the input images.
    public let gradient: [Float]
    /// `gradient` summed over each pixel's channels: [H·W].
    public let pixelGradient: [Float]
    /// [H·W]: pixels other than the chosen one that the model's ordering lets the chosen
    /// position's outputs depend on (for raster order: the pixels before it).
    public let allowed: [Bool]

    /// Index of the chosen pixel in [H·W].
    public var pixel: Int { row * width + column }
    /// Allowed pixels whose gradient is exactly zero: out of reach of the architecture (the
    /// blind spot, or outside a shallow network's field of view).
    public var blindSpot: [Int] { (0..<height * width).filter { allowed[$0] && pixelGradient[$0] == 0 } }
    /// The part of `blindSpot` inside the rows and columns that the dependences span (their
    /// bounding box): holes in the field, like PixelCNN's wedge above and to the right, as
    /// opposed to pixels merely beyond the reach of a shallow network.
    public var blindSpotWithinExtent: [Int] {
        let seen = dependences
        guard let top = seen.map({ $0 / width }).min(), let left = seen.map({ $0 % width }).min(),
              let right = seen.map({ $0 % width }).max() else { return [] }
        return blindSpot.filter { $0 / width >= top && (left...right).contains($0 % width) }
    }
    /// Allowed pixels with a non-zero gradient.
    public var dependences: [Int] { (0..<height * width).filter { allowed[$0] && pixelGradient[$0] != 0 } }
    /// Pixels the ordering forbids (other than the chosen one) with a non-zero gradient; empty
    /// for a causal model.
    public var leaks: [Int] { (0..<height * width).filter { $0 != pixel && !allowed[$0] && pixelGradient[$0] != 0 } }
}

/// Measures the receptive field of `model`'s outputs at pixel (`row`, `column`).
///
/// - Parameters:
///   - input: the image the gradient is taken at; `.random` uses `samples` seeded images.
///   - seed: seeds the random images and the output weights w_k.
/// The model's parameter gradients are left as they were.
public func receptiveField(of model: any AutoregressiveModel, row: Int, column: Int,
                           input: ReceptiveFieldInput = .random, samples: Int = 4,
                           seed: UInt64 = 0) throws -> ReceptiveField {
    let c = model.config
    let (h, w, channels, d) = (c.height, c.width, c.channels, c.dimension)
    guard row >= 0 && row < h && column >= 0 && column < w else {
        throw ModelError(description: "pixel (\(row),\(column)) is outside the \(h)x\(w) image "
            + "(rows 0...\(h - 1), columns 0...\(w - 1))")
    }
    guard samples >= 1 else { throw ModelError(description: "samples must be at least 1, got \(samples)") }
    let batch = input == .random ? samples : 1
    var rng = RandomGenerator(seed: seed)
    let values: [Float]
    switch input {
    case .random: values = (0..<batch * d).map { _ in Float(rng.int(below: c.levels)) }
    case .zeros: values = [Float](repeating: 0, count: d)
    case .grey: values = [Float](repeating: Float(c.levels - 1) / 2, count: d)
    }
    let pixels = Tensor(shape: [batch, d], data: values, requiresGrad: true)
    let saved = model.parameters.map { $0.tensor.grad }
    defer { for (p, g) in zip(model.parameters, saved) { p.tensor.grad = g } }

    let out = model.logits(pixels)
    let perSubPixel = c.output.width
    precondition(out.count == batch * d * perSubPixel, "logits have shape \(out.shape)")
    let p = row * w + column
    var outputSeed = [Float](repeating: 0, count: out.count)
    for n in 0..<batch {
        for ch in 0..<channels {
            let i = p * channels + ch
            for k in 0..<perSubPixel { outputSeed[(n * d + i) * perSubPixel + k] = rng.normal() }
        }
    }
    out.backward(seed: outputSeed)
    let grad = pixels.grad ?? [Float](repeating: 0, count: batch * d)
    var gradient = [Float](repeating: 0, count: d)
    for n in 0..<batch { for j in 0..<d { gradient[j] += abs(grad[n * d + j]) } }

    var pixelGradient = [Float](repeating: 0, count: h * w)
    for j in 0..<d { pixelGradient[j / channels] += gradient[j] }
    // The position's outputs may depend on every sub-pixel generated before its last one.
    var rank = [Int](repeating: 0, count: d)
    for (t, i) in model.ordering.enumerated() { rank[i] = t }
    let last = (0..<channels).map { rank[p * channels + $0] }.max()!
    let allowed = (0..<h * w).map { q in q != p && (0..<channels).contains { rank[q * channels + $0] < last } }
    return ReceptiveField(height: h, width: w, channels: channels, row: row, column: column,
                          gradient: gradient, pixelGradient: pixelGradient, allowed: allowed)
}
