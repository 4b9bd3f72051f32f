import AutoregNN
import AutoregTensor
import CKernels

/// Neural autoregressive distribution estimator (Larochelle & Murray 2011): one hidden
/// layer shared by all conditionals, h_i = σ(c + W_<i x_<i), logit_i = b_i + V_i · h_i.
/// The hidden pre-activations are running sums, so all D conditionals cost O(H·D).
public final class NADE: RegisteredModel, DirectSampling {
    /// NADE's options: the hidden layer's size and the pixel ordering.
    public struct Options: ModelOptions {
        public var hidden: Int
        public var ordering: PixelOrdering
        public init(hidden: Int = 500, ordering: PixelOrdering = .natural) { (self.hidden, self.ordering) = (hidden, ordering) }
        public init() { self.init(hidden: 500) }
        public init(legacy l: LegacyModelConfig) throws {
            try l.requireUnset(except: [.hidden, .ordering])
            let hidden = l.hidden ?? [500]
            guard hidden.count == 1 else {
                throw ModelError(description: "nade has exactly one hidden layer, got hidden \(hidden)")
            }
            self.init(hidden: hidden[0], ordering: l.ordering)
        }
        public func validate(for config: ModelConfig) throws {
            if hidden < 1 { throw ModelError(description: "nade: hidden size must be positive, got \(hidden)") }
        }
        public var sizes: [(name: String, value: Int)] { [("hidden", hidden)] }
        public func estimatedParameterCount(for config: ModelConfig) -> Double {
            let d = Double(config.dimension), h = Double(hidden)
            return 2 * h * d + h + d
        }
        public var description: String { "hidden \(hidden), ordering \(ordering)" }
    }

    public static var optionsType: any ModelOptions.Type { Options.self }
    public static var summary: String { "neural autoregressive density estimator: one hidden layer shared by all pixels" }
    public static var supportsCategorical: Bool { false }

    public let config: ModelConfig
    public let options: Options
    public let ordering: [Int]
    /// W: [D, H], input weights (row i: pixel i's contribution to later hidden states).
    public let inputWeight: Tensor
    /// c: [H].
    public let hiddenBias: Tensor
    /// V: [D, H], output weights.
    public let outputWeight: Tensor
    /// b: [D].
    public let outputBias: Tensor

    public init(config: ModelConfig) throws {
        guard config.kind == .nade else { throw ModelError(description: "config is for \(config.kind), not nade") }
        try config.validate()
        self.config = config
        options = try config.options(as: Options.self)
        var rng = RandomGenerator(seed: config.seed)
        let d = config.dimension, h = options.hidden
        ordering = makeOrdering(options.ordering, dimension: d, rng: &rng)
        inputWeight = Initializer.glorotUniform([d, h], fanIn: d, fanOut: h, rng: &rng)
        outputWeight = Initializer.glorotUniform([d, h], fanIn: h, fanOut: 1, rng: &rng)
        hiddenBias = Initializer.zeros([h])
        outputBias = Initializer.zeros([d])
    }

    public var parameters: [(name: String, tensor: Tensor)] {
        [("W", inputWeight), ("c", hiddenBias), ("V", outputWeight), ("b", outputBias)]
    }

    var isNatural: Bool { ordering == Array(0..<config.dimension) }

    public func logits(_ pixels: Tensor) -> Tensor {
        if isNatural { return nadeLogits(pixels) }
        // Permute into generation order, run, permute back.
        let d = config.dimension, b = pixels.count / d
        let permuted = Permutation(ordering)
        return permuted.inverse(nadeLogits(permuted.apply(pixels, batch: b)), batch: b)
    }

    /// The fused NADE op on pixels already in generation order.
    func nadeLogits(_ x: Tensor) -> Tensor {
        let d = config.dimension, h = options.hidden, batch = x.count / d
        let (W, V, b, c) = (inputWeight, outputWeight, outputBias, hiddenBias)
        var scratch = [Float](repeating: 0, count: (batch + 1) * h)
        let out = makeArray(batch * d) { y in
            ar_nade_forward(x.data, W.data, V.data, b.data, c.data, y, &scratch, batch, d, h)
        }
        return Tensor(shape: [batch, d], data: out, inputs: [x, W, V, b, c]) { result in
            var scratch = [Float](repeating: 0, count: (2 * batch + 1) * h)
            func grad(_ t: Tensor, _ body: (UnsafeMutablePointer<Float>?) -> Void) {
                if t.requiresGrad { t.accumulateGrad { body($0) } } else { body(nil) }
            }
            grad(x) { dx in grad(W) { dW in grad(V) { dV in grad(b) { db in grad(c) { dc in
                ar_nade_backward(x.data, W.data, V.data, c.data, result.grad!, dx, dW, dV, db, dc,
                                 &scratch, batch, d, h)
            } } } } }
        }
    }

    /// Samples in O(H·D) per image by carrying the running hidden pre-activation.
    public func sampleDirect(count: Int, rng: inout RandomGenerator, temperature: Float = 1) -> Sample {
        let d = config.dimension, hsz = options.hidden
        var pixels = [Float](repeating: 0, count: count * d)
        var probs = pixels
        var a = [Float](repeating: 0, count: hsz), hid = a
        let (W, V, b, c) = (inputWeight.data, outputWeight.data, outputBias.data, hiddenBias.data)
        for n in 0..<count {
            a = c
            for (t, i) in ordering.enumerated() {
                ar_sigmoid(a, &hid, hsz)
                var s = b[t]
                for k in 0..<hsz { s += V[t * hsz + k] * hid[k] }
                let p = logistic(s / temperature)
                let v: Float = rng.uniform() < p ? 1 : 0
                pixels[n * d + i] = v
                probs[n * d + i] = p
                if v != 0 { for k in 0..<hsz { a[k] += W[t * hsz + k] } }
            }
        }
        return Sample(pixels: pixels, probabilities: probs, count: count, dimension: d)
    }
}

/// Reorders the pixel axis of [B, D] (or [B, D, L]) tensors, differentiably.
struct Permutation {
    let order: [Int]
    init(_ order: [Int]) { self.order = order }

    /// y[:, t] = x[:, order[t]].
    func apply(_ x: Tensor, batch: Int) -> Tensor { gather(x, batch: batch, from: order) }
    /// y[:, order[t]] = x[:, t].
    func inverse(_ x: Tensor, batch: Int) -> Tensor {
        var inv = [Int](repeating: 0, count: order.count)
        for (t, i) in order.enumerated() { inv[i] = t }
        return gather(x, batch: batch, from: inv)
    }

    private func gather(_ x: Tensor, batch: Int, from src: [Int]) -> Tensor {
        let d = src.count, inner = x.count / (batch * d)
        let out = makeArray(x.count) { y in
            for n in 0..<batch { for t in 0..<d { for k in 0..<inner {
                y[(n * d + t) * inner + k] = x.data[(n * d + src[t]) * inner + k]
            } } }
        }
        return Tensor(shape: x.shape, data: out, inputs: [x]) { result in
            let g = result.grad!
            x.accumulateGrad { gx in
                for n in 0..<batch { for t in 0..<d { for k in 0..<inner {
                    gx[(n * d + src[t]) * inner + k] += g[(n * d + t) * inner + k]
                } } }
            }
        }
    }
}

extension NADE: FixedBuffers {
    /// `ordering` [D]: pixel generated at each step. Row t of W, V and b belongs to step t, so
    /// pixel ordering[t].
    public var fixedBuffers: [FixedBuffer] { [.integers("ordering", ordering)] }
}
