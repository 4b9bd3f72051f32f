import CKernels
import Foundation

/// The discretised logistic mixture of PixelCNN++ (Salimans, Karpathy, Chen and Kingma 2017,
/// sections 2.1–2.2): the distribution of one 8-bit pixel with `channels` channels (1 or 3)
/// given `components` (K) parameter sets, as the reference implementation
/// (`discretized_mix_logistic_loss`) computes it.
///
/// **Values.** A value v in 0…255 is x = 2v/255 − 1 in [−1, 1]; its bin is
/// [x − 1/255, x + 1/255], except that bin 0 reaches down to −∞ and bin 255 up to +∞, so the
/// 256 bins cover the line and the probabilities add up to 1 for any parameters.
///
/// **Distribution.** One mixture indicator per pixel is shared by its channels:
/// p(r, g, b) = Σ_k π_k · p(r | k) · p(g | r, k) · p(b | r, g, k), with π = softmax(logits) and
/// each factor the probability of the value's bin under a logistic with mean m and scale e^s.
/// For colour, the means are coupled to the pixel's actual earlier channels (scaled to
/// [−1, 1]): m_R = μ_R, m_G = μ_G + α·r, m_B = μ_B + β·r + γ·g.
///
/// **Parameters of one pixel** (P = `parameterCount` values; the index helpers below give them):
///
/// | index | meaning |
/// |---|---|
/// | k, 0 ≤ k < K | mixture logit of component k |
/// | K + c·K + k | mean μ of channel c in component k, on the [−1, 1] scale |
/// | K + C·K + c·K + k | log-scale s of channel c in component k |
/// | K + 2·C·K + j·K + k | colour only: coefficient j of component k, j = 0 α (G on r), 1 β (B on r), 2 γ (B on g) |
///
/// So P = 3K for grey images and 10K for colour (the reference's sizes, though its order within
/// the colour block differs). A convolutional head with P output channels gives them as
/// [B, P, H, W] (`Layout.channelsFirst`, channel p of the head is parameter p); the same values
/// moved channels-last ([B, H·W, P], each pixel's P parameters together) are
/// `Layout.channelsLast`.
///
/// **Clamping.** Log-scales below `minLogScale` (−7, as the reference code: scale ≈ 9.1e-4,
/// a quarter of the bin half-width) are replaced by it, and such a parameter gets no gradient.
/// Coefficients are `tanh` of their parameters by default (`Coefficients.tanh`, as the reference
/// code does, so |α|, |β|, |γ| < 1), or the parameters themselves (`.identity`).
///
/// **Stability.** Each bin's log-probability is computed in log space for any scale and mean:
/// log(σ(a) − σ(b)) = −softplus(−a) − softplus(b) + log(1 − e^−(a−b)), with
/// log(a − b) = log(2/255) − s taken exactly; the mixture is a log-sum-exp. There is no mid-bin
/// density fallback (the reference code switches to log pdf(x) + log(2/255) when the CDF
/// difference is below 1e-5; that approximation differs from the exact value computed here).
public struct LogisticMixture: Hashable, Sendable {
    /// How coefficient parameters become α, β, γ.
    public enum Coefficients: Hashable, Sendable {
        /// α = tanh(parameter), as the reference implementation.
        case tanh
        /// α = parameter.
        case identity
    }

    /// The three colour coefficients of a component.
    public enum Coefficient: Int, CaseIterable, Sendable {
        /// G's mean on r.
        case alpha = 0
        /// B's mean on r.
        case beta = 1
        /// B's mean on g.
        case gamma = 2
    }

    /// Where a tensor keeps the parameters (and values) of a pixel.
    public enum Layout: Hashable, Sendable {
        /// Parameters [B, P, spatial…] (NCHW conv output, spatial = H, W), values and results
        /// [B, C, spatial…].
        case channelsFirst
        /// Parameters [..., P] (each pixel's P values together, e.g. [B, H·W, P]), values with
        /// each pixel's C channels together (e.g. the models' [B, H·W·C]); the result has the
        /// values' shape.
        case channelsLast
    }

    /// Number of mixture components K.
    public let components: Int
    /// Channels per pixel C: 1 (grey) or 3 (RGB, coupled in this order).
    public let channels: Int
    /// How coefficient parameters become α, β, γ (colour only).
    public let coefficients: Coefficients

    /// Log-scales are clamped from below to this (the paper's reference code: −7).
    public static let minLogScale: Float = -7
    /// The number of values a channel takes (8-bit pixels).
    public static let levels = 256
    /// Most components the kernels take (they keep per-pixel scratch on the stack).
    public static let maxComponents = 256

    public init(components: Int, channels: Int, coefficients: Coefficients = .tanh) {
        precondition(components >= 1 && components <= Self.maxComponents,
                     "a logistic mixture needs 1…\(Self.maxComponents) components, got \(components)")
        precondition(channels == 1 || channels == 3, "a logistic mixture models 1 or 3 channels, got \(channels)")
        self.components = components
        self.channels = channels
        self.coefficients = coefficients
    }

    /// Parameters per pixel: K logits, C·K means, C·K log-scales and, for colour, 3K coefficients.
    public var parameterCount: Int { components * (1 + 2 * channels + (channels == 3 ? 3 : 0)) }

    /// Index of component k's mixture logit.
    public func logitIndex(component k: Int) -> Int { k }
    /// Index of the mean μ of channel c in component k.
    public func meanIndex(channel c: Int, component k: Int) -> Int { components * (1 + c) + k }
    /// Index of the log-scale s of channel c in component k.
    public func logScaleIndex(channel c: Int, component k: Int) -> Int { components * (1 + channels + c) + k }
    /// Index of a colour coefficient of component k.
    public func coefficientIndex(_ j: Coefficient, component k: Int) -> Int {
        precondition(channels == 3, "only colour mixtures have coefficients")
        return components * (1 + 2 * channels + j.rawValue) + k
    }

    /// The [−1, 1] value of an 8-bit value v: 2v/255 − 1.
    @inline(__always)
    public static func scaled(_ v: Int) -> Float { Float(2 * v - 255) / 255 }
}

extension Tensor {
    /// −log p of 8-bit pixels under a discretised logistic mixture (`LogisticMixture`), split
    /// per sub-pixel: self holds the parameters, `pixels` the values 0…255 (integers as floats,
    /// no gradient). The result has one value per sub-pixel, laid out like `pixels`:
    /// −log p(r), −log p(g | r), −log p(b | r, g) for colour (the conditionals of the mixture,
    /// with the component posterior given the earlier channels), −log p(x) for grey. A pixel's
    /// terms add up to its −log p(r, g, b); their sum over everything but the batch axis is
    /// each image's NLL (for `.channelsFirst`, `.sum(axis: 1)` gives per-pixel NLL maps
    /// [B, H, W]).
    ///
    /// Shapes: `.channelsFirst`: self [B, P, spatial…], pixels [B, C, spatial…];
    /// `.channelsLast`: self [..., P] holding N pixels, pixels any shape with N·C values.
    /// Differentiable with respect to self (every parameter gets a gradient; clamped
    /// log-scales get zero).
    public func logisticMixtureNLL(pixels: Tensor, mixture: LogisticMixture,
                                   layout: LogisticMixture.Layout = .channelsFirst) -> Tensor {
        let params = self
        let P = mixture.parameterCount, C = mixture.channels
        var shape = ar_dlm_shape()
        shape.components = mixture.components
        shape.channels = C
        shape.min_log_scale = LogisticMixture.minLogScale
        shape.tanh_coefficients = mixture.coefficients == .tanh ? 1 : 0
        switch layout {
        case .channelsFirst:
            precondition(rank >= 2 && self.shape[1] == P,
                         "logistic mixture parameters need shape [B, \(P), ...], got \(self.shape)")
            let spatial = Array(self.shape.dropFirst(2))
            precondition(pixels.shape == [self.shape[0], C] + spatial,
                         "pixels \(pixels.shape) do not match parameters \(self.shape): need \([self.shape[0], C] + spatial)")
            let positions = spatial.reduce(1, *)
            shape.images = self.shape[0]
            shape.positions = positions
            shape.param_image_stride = P * positions
            shape.param_position_stride = 1
            shape.param_stride = positions
            shape.value_image_stride = C * positions
            shape.value_position_stride = 1
            shape.value_channel_stride = positions
        case .channelsLast:
            precondition(rank >= 1 && self.shape[rank - 1] == P && count % P == 0,
                         "logistic mixture parameters need shape [..., \(P)], got \(self.shape)")
            let n = count / P
            precondition(pixels.count == n * C,
                         "\(n) pixels of \(C) channels need \(n * C) values, got \(pixels.count)")
            shape.images = 1
            shape.positions = n
            shape.param_image_stride = 0
            shape.param_position_stride = P
            shape.param_stride = 1
            shape.value_image_stride = 0
            shape.value_position_stride = C
            shape.value_channel_stride = 1
        }
        precondition(pixels.data.allSatisfy { $0 >= 0 && $0 <= 255 && $0 == $0.rounded() },
                     "logistic mixture pixel values must be integers in 0…255")
        let n = pixels.count
        let kernelShape = shape
        let out = params.data.withUnsafeBufferPointer { pp in
            pixels.data.withUnsafeBufferPointer { px in
                makeArray(n) { y in
                    withUnsafePointer(to: kernelShape) { ar_dlm_forward($0, pp.baseAddress!, px.baseAddress!, y) }
                }
            }
        }
        return Tensor(shape: pixels.shape, data: out, inputs: [params]) { result in
            guard n > 0 else { params.accumulateGrad { _ in }; return }
            params.data.withUnsafeBufferPointer { pp in
                pixels.data.withUnsafeBufferPointer { px in
                    result.grad!.withUnsafeBufferPointer { g in
                        params.accumulateGrad { gp, initialized in
                            withUnsafePointer(to: kernelShape) {
                                ar_dlm_backward($0, pp.baseAddress!, px.baseAddress!, g.baseAddress!, gp,
                                                initialized ? 1 : 0)
                            }
                        }
                    }
                }
            }
        }
    }
}
