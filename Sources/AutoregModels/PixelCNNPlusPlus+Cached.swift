import AutoregNN
import AutoregTensor
import CKernels

// PixelCNN++'s cached sampler. Its network is not a stack of same-size layers: the streams go
// down two resolutions and back up, so the row caches of the other convolutional models do
// not fit. Instead every activation of `logits` becomes a `LazyPlane`: a full-size buffer
// whose value at a position is computed the first time something reads it, from the
// positions of its inputs that the layer reads, and then kept. Asking for the head at (r, c)
// computes exactly the activations that output needs and that no earlier step computed.
// The network is causal (every output depends only on earlier pixels, tested in
// PixelCNNPlusPlusTests), so everything it reaches depends only on pixels already drawn and
// stays valid; the input plane traps if it is read at the current or a later position. A
// whole sample computes each activation once: about one forward pass.

extension PixelCNNPlusPlus: CachedSampling {
    public func incrementalNetwork(count: Int, labels: [Int]?) -> any IncrementalNetwork {
        PixelCNNPlusPlusIncremental(self, count: count)
    }
}

/// One activation [H, W, N, C] (positions, then images, then channels) computed position by
/// position on demand (`at`) and kept.
final class LazyPlane {
    let height: Int, width: Int, batch: Int, channels: Int
    let data: UnsafeMutablePointer<Float>
    private var ready: [Bool]
    /// Writes the [N, C] block of a position.
    var compute: (Int, Int, UnsafeMutablePointer<Float>) -> Void = { _, _, _ in fatalError("plane without a definition") }

    init(height: Int, width: Int, batch: Int, channels: Int) {
        (self.height, self.width, self.batch, self.channels) = (height, width, batch, channels)
        let n = max(height * width * batch * channels, 1)
        data = .allocate(capacity: n)
        data.initialize(repeating: 0, count: n)
        ready = [Bool](repeating: false, count: height * width)
    }

    /// The [N, C] block at (i, j), computed first if it is not yet.
    func at(_ i: Int, _ j: Int) -> UnsafeMutablePointer<Float> {
        precondition(i >= 0 && i < height && j >= 0 && j < width, "position (\(i), \(j)) outside \(height)x\(width)")
        let k = i * width + j
        let p = data + k * batch * channels
        if !ready[k] {
            compute(i, j, p)
            ready[k] = true
        }
        return p
    }

    func deallocate() { data.deallocate() }
}

/// A convolution or transposed convolution evaluated at single output positions: its weights
/// packed [KH·KW·Cin, Cout] (row t·Cin + ci for tap t = ky·KW + kx), and where each tap reads.
struct PointConvolution {
    enum Geometry {
        /// Output (i, j) reads input (s·i + ky − top, s·j + kx − left).
        case convolution(stride: Int, top: Int, left: Int)
        /// Output (i, j) reads input ((i + top − ky)/s, (j + left − kx)/s) where both divide.
        case transposed(stride: Int, top: Int, left: Int)
    }

    let inChannels: Int, outChannels: Int, kernel: (Int, Int)
    let geometry: Geometry
    let weight: [Float]
    let bias: [Float]

    init(_ layer: MaskedConv2D) {
        let s = layer.weight.shape
        let (cout, cin, kh, kw) = (s[0], s[1], s[2], s[3])
        precondition(layer.dilation == (1, 1) && layer.stride.0 == layer.stride.1, "\(layer.name): unsupported geometry")
        let (top, left) = Self.leading(layer.padding, kernel: (kh, kw))
        let w = layer.weight.data, m = layer.mask?.data
        var packed = [Float](repeating: 0, count: kh * kw * cin * cout)
        for co in 0..<cout { for ci in 0..<cin { for ky in 0..<kh { for kx in 0..<kw {
            let i = ((co * cin + ci) * kh + ky) * kw + kx
            packed[((ky * kw + kx) * cin + ci) * cout + co] = w[i] * (m?[i] ?? 1)
        } } } }
        (inChannels, outChannels, kernel) = (cin, cout, (kh, kw))
        geometry = .convolution(stride: layer.stride.0, top: top, left: left)
        weight = packed
        bias = layer.bias.data
    }

    init(_ layer: TransposedConv2D) {
        let s = layer.weight.shape
        let (cin, cout, kh, kw) = (s[0], s[1], s[2], s[3])
        precondition(layer.stride.0 == layer.stride.1, "\(layer.name): unsupported geometry")
        let (top, left) = Self.leading(layer.padding, kernel: (kh, kw))
        let w = layer.weight.data
        var packed = [Float](repeating: 0, count: kh * kw * cin * cout)
        for ci in 0..<cin { for co in 0..<cout { for ky in 0..<kh { for kx in 0..<kw {
            packed[((ky * kw + kx) * cin + ci) * cout + co] = w[((ci * cout + co) * kh + ky) * kw + kx]
        } } } }
        (inChannels, outChannels, kernel) = (cin, cout, (kh, kw))
        geometry = .transposed(stride: layer.stride.0, top: top, left: left)
        weight = packed
        bias = layer.bias.data
    }

    var depth: Int { kernel.0 * kernel.1 * inChannels }

    /// The zeros a padding puts above and left of the image.
    static func leading(_ padding: Conv2DPadding, kernel: (Int, Int)) -> (top: Int, left: Int) {
        switch padding {
        case .same: return ((kernel.0 - 1) / 2, (kernel.1 - 1) / 2)
        case let .explicit(top, _, left, _): return (top, left)
        }
    }

    /// The input position tap (ky, kx) reads for output (i, j), or nil (zero padding, or a
    /// transposed tap that does not land here).
    @inline(__always)
    func source(_ i: Int, _ j: Int, _ ky: Int, _ kx: Int, in input: LazyPlane) -> (Int, Int)? {
        let (y, x): (Int, Int)
        switch geometry {
        case let .convolution(s, top, left):
            (y, x) = (s * i + ky - top, s * j + kx - left)
        case let .transposed(s, top, left):
            let (ny, nx) = (i + top - ky, j + left - kx)
            guard ny >= 0, nx >= 0, ny % s == 0, nx % s == 0 else { return nil }
            (y, x) = (ny / s, nx / s)
        }
        guard y >= 0, y < input.height, x >= 0, x < input.width else { return nil }
        return (y, x)
    }

    /// out [N, Cout] += bias + this convolution of `input` at output (i, j). `scratch` holds
    /// N · depth floats; every convolution shares it, so the inputs are computed (which may
    /// run other convolutions) before anything is gathered into it.
    func accumulate(at i: Int, _ j: Int, from input: LazyPlane, scratch: UnsafeMutablePointer<Float>,
                    into out: UnsafeMutablePointer<Float>) {
        precondition(input.channels == inChannels, "a convolution of \(inChannels) channels reads \(input.channels)")
        let n = input.batch, cin = inChannels, k = depth
        var sources = [UnsafeMutablePointer<Float>?](repeating: nil, count: kernel.0 * kernel.1)
        for ky in 0..<kernel.0 {
            for kx in 0..<kernel.1 {
                if let (y, x) = source(i, j, ky, kx, in: input) { sources[ky * kernel.1 + kx] = input.at(y, x) }
            }
        }
        for (t, src) in sources.enumerated() {
            let dst = scratch + t * cin
            if let src {
                for b in 0..<n { (dst + b * k).update(from: src + b * cin, count: cin) }
            } else {
                for b in 0..<n { (dst + b * k).update(repeating: 0, count: cin) }
            }
        }
        for b in 0..<n { for co in 0..<outChannels { out[b * outChannels + co] += bias[co] } }
        weight.withUnsafeBufferPointer { w in
            Gemm.sgemm(m: n, n: outChannels, k: k, a: scratch, b: w.baseAddress!, beta: 1, c: out)
        }
    }
}

/// `PixelCNNPlusPlus.logits` as lazy planes over the images being drawn.
final class PixelCNNPlusPlusIncremental: IncrementalNetwork {
    let model: PixelCNNPlusPlus
    let count: Int
    let logitWidth: Int
    /// The raw pixels drawn so far, [N, D].
    private var pixels: [Float]
    /// The position being drawn: the input may be read only before it.
    private var current = (row: 0, column: 0)
    private var planes: [LazyPlane] = []
    private var scratch: UnsafeMutablePointer<Float>
    private var head: LazyPlane!

    init(_ model: PixelCNNPlusPlus, count: Int) {
        self.model = model
        self.count = count
        logitWidth = model.config.output.width
        pixels = [Float](repeating: 0, count: count * model.config.dimension)
        let f = model.options.filters, c = model.config.channels
        scratch = .allocate(capacity: count * max(6 * 2 * f, 6 * (c + 1), 2 * f) + 1)
        head = build()
    }

    func release() {
        for p in planes { p.deallocate() }
        planes = []
        scratch.deallocate()
    }

    // MARK: Building the planes

    private func plane(_ h: Int, _ w: Int, channels: Int, _ compute: @escaping (Int, Int, UnsafeMutablePointer<Float>) -> Void) -> LazyPlane {
        let p = LazyPlane(height: h, width: w, batch: count, channels: channels)
        p.compute = compute
        planes.append(p)
        return p
    }

    /// Σ of convolutions at the same output position (each with its bias), at size h × w.
    private func convolutions(_ terms: [(PointConvolution, LazyPlane)], _ h: Int, _ w: Int) -> LazyPlane {
        let scratch = self.scratch
        return plane(h, w, channels: terms[0].0.outChannels) { i, j, out in
            out.update(repeating: 0, count: self.count * terms[0].0.outChannels)
            for (conv, input) in terms { conv.accumulate(at: i, j, from: input, scratch: scratch, into: out) }
        }
    }

    private func conv(_ layer: MaskedConv2D, _ input: LazyPlane, _ h: Int, _ w: Int) -> LazyPlane {
        convolutions([(PointConvolution(layer), input)], h, w)
    }

    /// x moved down `down` rows and right `right` columns, zeros where it enters.
    private func shifted(_ x: LazyPlane, down: Int, right: Int) -> LazyPlane {
        let n = count * x.channels
        return plane(x.height, x.width, channels: x.channels) { i, j, out in
            if i - down < 0 || j - right < 0 { out.update(repeating: 0, count: n) } else { out.update(from: x.at(i - down, j - right), count: n) }
        }
    }

    private func sum(_ a: LazyPlane, _ b: LazyPlane) -> LazyPlane {
        let n = count * a.channels
        return plane(a.height, a.width, channels: a.channels) { i, j, out in
            let (pa, pb) = (a.at(i, j), b.at(i, j))
            for k in 0..<n { out[k] = pa[k] + pb[k] }
        }
    }

    /// [elu(x), elu(−x)] along the channels.
    private func concatELU(_ x: LazyPlane) -> LazyPlane {
        let c = x.channels
        return plane(x.height, x.width, channels: 2 * c) { i, j, out in
            ar_concat_elu_forward(x.at(i, j), out, self.count, c)  // the full pass's kernel
        }
    }

    /// `gated_resnet`: x + a ⊙ σ(b), [a, b] = gate(concat_elu(conv(concat_elu(x)) + Σ link(concat_elu(aux)))).
    private func block(_ r: PixelCNNPlusPlus.GatedResnet, _ x: LazyPlane, _ aux: [LazyPlane]) -> LazyPlane {
        let (h, w) = (x.height, x.width)
        let terms = [(PointConvolution(r.conv.layer), concatELU(x))]
            + zip(r.links, aux).map { (PointConvolution($0), concatELU($1)) }
        let gate = conv(r.gateConv.layer, concatELU(convolutions(terms, h, w)), h, w)
        let f = x.channels
        return plane(h, w, channels: f) { i, j, out in
            ar_glu_forward(gate.at(i, j), out, self.count, f)  // a ⊙ σ(b), the full pass's kernel
            let px = x.at(i, j)
            for k in 0..<(self.count * f) { out[k] = px[k] + out[k] }
        }
    }

    /// The planes of `logits`, in its order; returns the head's.
    private func build() -> LazyPlane {
        let config = model.config
        let (h, w, c, d) = (config.height, config.width, config.channels, config.dimension)
        // [x, 1]: the scaled pixels and a channel of ones, readable only before the current position.
        let input = plane(h, w, channels: c + 1) { i, j, out in
            precondition(i < self.current.row || (i == self.current.row && j < self.current.column),
                          "pixelcnn++ cached sampler: the input at (\(i), \(j)) was read while drawing \(self.current)")
            for b in 0..<self.count {
                for k in 0..<c {
                    out[b * (c + 1) + k] = scaledInput(self.pixels[b * d + (i * w + j) * c + k], levels: config.levels)
                }
                out[b * (c + 1) + c] = 1
            }
        }
        var u = shifted(conv(model.inputU.layer, input, h, w), down: 1, right: 0)
        var ul = sum(shifted(conv(model.inputULAbove.layer, input, h, w), down: 1, right: 0),
                     shifted(conv(model.inputULLeft.layer, input, h, w), down: 0, right: 1))
        var uKept = [u], ulKept = [ul]
        var size = (h, w)
        for level in 0..<PixelCNNPlusPlus.resolutions {
            if level > 0 {
                size = ((size.0 + 1) / 2, (size.1 + 1) / 2)
                u = conv(model.downsampling[level - 1].u.layer, u, size.0, size.1)
                ul = conv(model.downsampling[level - 1].ul.layer, ul, size.0, size.1)
                uKept.append(u)
                ulKept.append(ul)
            }
            for pair in model.upBlocks[level] {
                u = block(pair.u, u, [])
                ul = block(pair.ul, ul, [u])
                uKept.append(u)
                ulKept.append(ul)
            }
        }
        u = uKept.removeLast()
        ul = ulKept.removeLast()
        for level in (0..<PixelCNNPlusPlus.resolutions).reversed() {
            if level < PixelCNNPlusPlus.resolutions - 1 {
                let (fh, fw) = (uKept.last!.height, uKept.last!.width)
                u = convolutions([(PointConvolution(model.upsampling[level].u.layer), u)], fh, fw)
                ul = convolutions([(PointConvolution(model.upsampling[level].ul.layer), ul)], fh, fw)
            }
            for pair in model.downBlocks[level] {
                u = block(pair.u, u, [uKept.removeLast()])
                ul = block(pair.ul, ul, [u, ulKept.removeLast()])
            }
        }
        precondition(uKept.isEmpty && ulKept.isEmpty, "pixelcnn++ cached sampler: kept values left over")
        return conv(model.head, concatELU(ul), h, w)
    }

    // MARK: IncrementalNetwork

    func beginRow(_ r: Int, pixels x: UnsafePointer<Float>) {
        let (w, c, d) = (model.config.width, model.config.channels, model.config.dimension)
        for b in 0..<count {
            for k in (r * w * c)..<((r + 1) * w * c) { pixels[b * d + k] = x[b * d + k] }
        }
    }

    func setInput(_ r: Int, _ c: Int, _ ch: Int, image n: Int, value: Float) {
        let config = model.config
        pixels[n * config.dimension + (r * config.width + c) * config.channels + ch] = value
    }

    func evaluate(_ r: Int, _ c: Int) {
        current = (r, c)
        _ = head.at(r, c)
    }

    func logits(channel ch: Int, into out: UnsafeMutablePointer<Float>) {
        let config = model.config
        let p = head.at(current.row, current.column)
        guard let mixture = PixelCNNPlusPlus.colourMixture(config) else {
            precondition(ch == 0 && head.channels == logitWidth, "pixelcnn++: grey outputs have one channel")
            out.update(from: p, count: count * logitWidth)
            return
        }
        // The pixel's colour mixture, split given its channels before `ch` (the later ones are
        // not read), exactly as `logits` does for the whole image.
        let (d, w, pc) = (config.dimension, config.width, mixture.parameterCount)
        var values = [Float](repeating: 0, count: count * 3)
        for b in 0..<count {
            for k in 0..<ch { values[b * 3 + k] = pixels[b * d + (current.row * w + current.column) * 3 + k] }
        }
        let split = withoutGrad {
            Tensor(shape: [count, pc], data: Array(UnsafeBufferPointer(start: p, count: count * pc)))
                .logisticMixtureConditionals(values: Tensor(shape: [count, 3], data: values), mixture: mixture)
        }.data
        for b in 0..<count {
            for l in 0..<logitWidth { out[b * logitWidth + l] = split[(b * 3 + ch) * logitWidth + l] }
        }
    }
}
