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
    /// With `Gemm.threads` > 1 the images are split between the threads, each sampling its
    /// share with its own network and single-threaded products: no thread waits for another
    /// until the end, so a busy core slows only its own share. The generator's numbers are
    /// drawn first, in the sequential order, so the images do not depend on the threads.
    /// It takes no more threads than other processes leave cores free (`coresLeftFree`): on
    /// a core another session keeps busy a second thread would only slow it down.
    ///
    /// - Parameters:
    ///   - labels: one class per image for a class-conditional model (nil: no label term).
    ///   - fixed, observed: as in `sampleByRerunning`: with both given, the sub-pixels with
    ///     `observed[i]` keep `fixed[n·D + i]`, consume no random numbers and condition every
    ///     later sub-pixel; the others are drawn.
    ///   - progress: (sub-pixels done, D), from the thread with the first images.
    ///   - logits: called with (sub-pixel i, its logits [count × width]) before each draw
    ///     (width: `config.output.width`); given, the images are sampled on one thread.
    public func sampleCached(count: Int, labels: [Int]? = nil, rng: inout RandomGenerator, temperature: Float = 1,
                             fixed: [Float]? = nil, observed: [Bool]? = nil,
                             progress: ((Int, Int) -> Void)? = nil,
                             logits: ((Int, UnsafeBufferPointer<Float>) -> Void)? = nil) -> Sample {
        let d = config.dimension
        if let fixed { precondition(fixed.count == count * d, "fixed holds \(fixed.count) values, expected \(count) × \(d)") }
        if let observed, fixed != nil { precondition(observed.count == d, "observed holds \(observed.count) flags, expected \(d)") }
        if let labels { precondition(labels.count == count, "\(labels.count) labels for \(count) images") }
        guard count > 0 else { return Sample(pixels: [], probabilities: [], count: 0, dimension: d) }
        let draws = SampleDraws(count: count, dimension: d, kept: fixed == nil ? nil : observed,
                                perDraw: config.output.uniformsPerDraw, rng: &rng)
        var x = fixed ?? [Float](repeating: 0, count: count * d)
        var probability = [Float](repeating: 0, count: count * d)
        x.withUnsafeMutableBufferPointer { px in
            probability.withUnsafeMutableBufferPointer { pp in
                let images = ImageSlices(pixels: px.baseAddress!, probabilities: pp.baseAddress!, dimension: d)
                // Each chunk of images writes only its own rows of x and the probabilities. A
                // logits sink sees all images at once, so then there is one chunk.
                let threads = Gemm.threads > 1 ? coresLeftFree() : 1
                parallelChunks(logits == nil ? count : 1, maxWorkers: threads) { chunk, range in
                    let part = logits == nil ? range : 0..<count
                    Gemm.serially {
                        let net = incrementalNetwork(count: part.count, labels: labels.map { Array($0[part]) })
                        defer { net.release() }
                        runIncremental(net, config: config, images: part, slices: images, draws: draws,
                                       temperature: temperature, progress: chunk == 0 ? progress : nil, logits: logits)
                    }
                }
            }
        }
        return Sample(pixels: x, probabilities: probability, count: count, dimension: d)
    }
}

/// The uniform numbers of one sample, drawn from the generator before sampling in the order
/// `sampleByRerunning` takes them: per drawn sub-pixel i, per image n, `perDraw` numbers.
struct SampleDraws {
    let uniforms: [Float]
    /// Per sub-pixel, its place among the drawn ones (nil: observed, nothing drawn).
    let drawIndex: [Int?]
    let count: Int, perDraw: Int

    init(count: Int, dimension d: Int, kept: [Bool]?, perDraw: Int, rng: inout RandomGenerator) {
        var next = 0
        drawIndex = (0..<d).map { i in
            if let kept, kept[i] { return nil }
            defer { next += 1 }
            return next
        }
        uniforms = (0..<(next * count * perDraw)).map { _ in rng.uniform() }
        (self.count, self.perDraw) = (count, perDraw)
    }

    /// Whether sub-pixel i is observed (kept from the fixed image, not drawn).
    func isKept(_ i: Int) -> Bool { drawIndex[i] == nil }

    /// The numbers of sub-pixel i's draw for image n (of all `count`).
    func source(subPixel i: Int, image n: Int) -> ReplayedUniforms {
        ReplayedUniforms(uniforms, from: (drawIndex[i]! * count + n) * perDraw)
    }
}

/// The sample's pixels and probabilities, [count × D] each, which the threads fill by images.
struct ImageSlices: @unchecked Sendable {
    let pixels: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>
    let dimension: Int
}

/// The raster-order sampling loop over an incremental network for `images` (its rows of
/// `slices`). Mirrors `sampleByRerunning` step for step: per sub-pixel i (order
/// (r·W + c)·C + ch), per image n, one draw from `draws`.
func runIncremental(_ net: IncrementalNetwork, config: ModelConfig, images: Range<Int>, slices: ImageSlices,
                    draws: SampleDraws, temperature: Float, progress: ((Int, Int) -> Void)?,
                    logits sink: ((Int, UnsafeBufferPointer<Float>) -> Void)?) {
    let (h, w, ch, d, output) = (config.height, config.width, config.channels, config.dimension, config.output)
    let count = images.count, x = slices.pixels + images.lowerBound * d
    let probability = slices.probabilities + images.lowerBound * d
    let lw = net.logitWidth
    let out = UnsafeMutablePointer<Float>.allocate(capacity: max(count * lw, 1))
    defer { out.deallocate() }
    for r in 0..<h {
        net.beginRow(r, pixels: x)
        for c in 0..<w {
            // Activations at (r, c) depend on channels < C − 1 of the pixel: they are final
            // once evaluated at the last channel's step, or after all channels are set.
            var lastEvaluated = -1
            for k in 0..<ch {
                let i = (r * w + c) * ch + k
                if draws.isKept(i) {
                    progress?(i + 1, d)
                    continue
                }
                net.evaluate(r, c)
                lastEvaluated = k
                net.logits(channel: k, into: out)
                sink?(i, UnsafeBufferPointer(start: out, count: count * lw))
                for n in 0..<count {
                    var uniforms = draws.source(subPixel: i, image: images.lowerBound + n)
                    let (v, p) = output.draw(UnsafeBufferPointer(start: out + n * lw, count: lw),
                                             temperature: temperature, rng: &uniforms)
                    x[n * d + i] = v
                    probability[n * d + i] = p
                    net.setInput(r, c, k, image: n, value: v)
                }
                progress?(i + 1, d)
            }
            if lastEvaluated != ch - 1 { net.evaluate(r, c) }
        }
    }
}

/// In-place ReLU.
@inline(__always) func reluInPlace(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { p[i] = max(p[i], 0) }
}
