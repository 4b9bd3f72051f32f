import AutoregNN
import AutoregTensor
import CKernels

// Cached incremental sampling for the convolutional models (Ramachandran et al. 2017, "Fast
// Generation for Convolutional Autoregressive Models").
//
// Every layer of PixelCNN and Gated PixelCNN computes its output at image position (r, c)
// from its input at positions up to (r, c) in raster order (Gated PixelCNN's vertical stack:
// from rows < r). Sampling in raster order can therefore keep each layer's activations at
// the positions already generated and compute, per step, only what the new position needs:
// a whole sample costs about one forward pass instead of H·W·C of them. The PixelRNN models
// carry their LSTM states through the same raster loop (`PixelRNN+Cached.swift`).
//
// Activations live in `Plane`s laid out [row][column][image][channel] (channels last, the
// images of the batch side by side), so that one position of all N images is a contiguous
// [N, C] matrix and one row is a contiguous [W·N, C] one: a convolution at a position (or
// over a row) is a gather of its kept taps into an [M, taps·Cin] matrix and one GEMM with the
// masked weights packed [taps·Cin, Cout], M = N (or W·N).

/// A network evaluated one image position at a time over cached activations (see
/// `CachedSampling`). The sampling loop calls, in raster order: `beginRow` once per row, then
/// per position and image channel `evaluate`, `logits` and `setInput` with the drawn value.
public protocol IncrementalNetwork: AnyObject {
    /// Logits per image and image channel: 1 (Bernoulli) or `levels`.
    var logitWidth: Int { get }
    /// Copies image row `r` of the raw pixels x [N × D] into the input cache (scaled) and
    /// computes whatever depends on rows < r only. Called for r = 0, 1, … in order.
    func beginRow(_ r: Int, pixels x: UnsafePointer<Float>)
    /// Sets the raw value of channel `ch` of image `n` at (r, c) in the input cache.
    func setInput(_ r: Int, _ c: Int, _ ch: Int, image n: Int, value: Float)
    /// Evaluates every layer at (r, c) from the cache and stores the activations there.
    func evaluate(_ r: Int, _ c: Int)
    /// The logits of image channel `ch` at the last evaluated position: [N, logitWidth].
    func logits(channel ch: Int, into out: UnsafeMutablePointer<Float>)
    /// Frees the caches.
    func release()
}

/// Scaled input value of a raw pixel: as `ImageLayout.input` computes it.
@inline(__always) func scaledInput(_ v: Float, levels: Int) -> Float { v * (2 / Float(levels - 1)) + -1 }

/// Copies raw row `r` of x [N × D] into the input plane (scaled to [−1, 1]).
func loadInputRow(_ plane: Plane, row r: Int, pixels x: UnsafePointer<Float>, config: ModelConfig) {
    let (w, ch, n, d) = (config.width, config.channels, plane.batch, config.dimension)
    for c in 0..<w {
        let dst = plane.at(r, c)
        for i in 0..<n {
            let src = x + i * d + (r * w + c) * ch
            for k in 0..<ch { dst[i * ch + k] = scaledInput(src[k], levels: config.levels) }
        }
    }
}

extension CachedSampling {
    /// Draws `count` images with the cached incremental sampler: the same images, for the same
    /// generator state, as `sampleByRerunning` (it consumes the generator in the same order
    /// through the same per-pixel draw; logits differ from the full pass only by float
    /// rounding), in about one forward pass instead of one per sub-pixel.
    ///
    /// - Parameters:
    ///   - labels: one class per image for a class-conditional model (nil: no label term).
    ///   - fixed, observed: as in `sampleByRerunning`: with both given, the sub-pixels with
    ///     `observed[i]` keep `fixed[n·D + i]`, consume no random numbers and condition every
    ///     later sub-pixel; the others are drawn.
    ///   - logits: called with (sub-pixel i, its logits [count × width]) before each draw
    ///     (width: `config.output.width`).
    public func sampleCached(count: Int, labels: [Int]? = nil, rng: inout RandomGenerator, temperature: Float = 1,
                             fixed: [Float]? = nil, observed: [Bool]? = nil,
                             progress: ((Int, Int) -> Void)? = nil,
                             logits: ((Int, UnsafeBufferPointer<Float>) -> Void)? = nil) -> Sample {
        let net = incrementalNetwork(count: count, labels: labels)
        defer { net.release() }
        return runIncremental(net, config: config, count: count, rng: &rng, temperature: temperature,
                              fixed: fixed, observed: observed, progress: progress, logits: logits)
    }
}

/// The raster-order sampling loop over an incremental network. Mirrors `sampleByRerunning`
/// step for step: per sub-pixel i (order (r·W + c)·C + ch), per image n, one draw.
func runIncremental(_ net: IncrementalNetwork, config: ModelConfig, count: Int, rng: inout RandomGenerator,
                    temperature: Float, fixed: [Float]?, observed: [Bool]?,
                    progress: ((Int, Int) -> Void)?,
                    logits sink: ((Int, UnsafeBufferPointer<Float>) -> Void)?) -> Sample {
    let (h, w, ch, d, output) = (config.height, config.width, config.channels, config.dimension, config.output)
    if let fixed { precondition(fixed.count == count * d, "fixed holds \(fixed.count) values, expected \(count) × \(d)") }
    if let observed, fixed != nil { precondition(observed.count == d, "observed holds \(observed.count) flags, expected \(d)") }
    var x = fixed ?? [Float](repeating: 0, count: count * d)
    var probability = [Float](repeating: 0, count: count * d)
    let kept: [Bool]? = fixed == nil ? nil : observed
    let lw = net.logitWidth
    let out = UnsafeMutablePointer<Float>.allocate(capacity: max(count * lw, 1))
    defer { out.deallocate() }
    for r in 0..<h {
        x.withUnsafeBufferPointer { net.beginRow(r, pixels: $0.baseAddress!) }
        for c in 0..<w {
            // Activations at (r, c) depend on channels < C − 1 of the pixel: they are final
            // once evaluated at the last channel's step, or after all channels are set.
            var lastEvaluated = -1
            for k in 0..<ch {
                let i = (r * w + c) * ch + k
                if let kept, kept[i] {
                    progress?(i + 1, d)
                    continue
                }
                net.evaluate(r, c)
                lastEvaluated = k
                net.logits(channel: k, into: out)
                sink?(i, UnsafeBufferPointer(start: out, count: count * lw))
                for n in 0..<count {
                    let (v, p) = output.draw(UnsafeBufferPointer(start: out + n * lw, count: lw),
                                             temperature: temperature, rng: &rng)
                    x[n * d + i] = v
                    probability[n * d + i] = p
                    net.setInput(r, c, k, image: n, value: v)
                }
                progress?(i + 1, d)
            }
            if lastEvaluated != ch - 1 { net.evaluate(r, c) }
        }
    }
    return Sample(pixels: x, probabilities: probability, count: count, dimension: d)
}

/// In-place ReLU.
@inline(__always) func reluInPlace(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { p[i] = max(p[i], 0) }
}
