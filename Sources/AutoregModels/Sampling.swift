import AutoregNN
import AutoregTensor

/// How `generate` draws images.
public enum Sampler: String, CaseIterable, Sendable {
    /// One full pass of the model per sub-pixel (`sampleByRerunning`): any model.
    case naive
    /// Cached incremental sampling (`sampleCached`): models that are `CachedSampling`.
    case cached
    /// The fastest exact method the model has: cached where the model has a cached sampler,
    /// the model's own sampler (`DirectSampling`, NADE's O(H·D) running sums) when nothing is
    /// observed, naive otherwise.
    case automatic = "auto"
}

/// The method `generate` ends up using.
public enum SamplingMethod: String, Sendable {
    case naive, cached
    /// The model's own sampler (`DirectSampling`; NADE's running sums).
    case direct
}

extension AutoregressiveModel {
    /// The method `generate(…, sampler:)` uses for this model, with or without observed pixels.
    /// Nil when `sampler` is `.cached` and the model has no cached sampler.
    public func samplingMethod(_ sampler: Sampler, observing: Bool = false) -> SamplingMethod? {
        switch sampler {
        case .naive: return .naive
        case .cached: return self is any CachedSampling ? .cached : nil
        case .automatic:
            if self is any CachedSampling { return .cached }
            if self is any DirectSampling && !observing { return .direct }
            return .naive
        }
    }

    /// Draws `count` images: the one public sampling entry point.
    ///
    /// - Parameters:
    ///   - labels: one class per image for a class-conditional model (nil: no label term).
    ///   - fixed, observed: inpainting: with both given (`fixed` [count × D] raw values,
    ///     `observed` [D]), observed sub-pixels keep their values, consume no random numbers and
    ///     condition every later one; the others are drawn from the model's conditional.
    ///   - sampler: `.naive` and `.cached` give the same images for the same generator;
    ///     `.automatic` picks the fastest (see `Sampler`). `.cached` needs a `CachedSampling` model.
    ///   - progress: (sub-pixels done, D) after each step (once at the end for a `DirectSampling` model).
    public func generate(count: Int, labels: [Int]? = nil, rng: inout RandomGenerator, temperature: Float = 1,
                         fixed: [Float]? = nil, observed: [Bool]? = nil, sampler: Sampler = .automatic,
                         progress: ((Int, Int) -> Void)? = nil) -> Sample {
        let observing = fixed != nil && (observed?.contains(true) ?? false)
        guard let method = samplingMethod(sampler, observing: observing) else {
            preconditionFailure("\(config.kind) has no cached sampler (\(ModelKind.names(where: \.hasCachedSampler)) have)")
        }
        if let labels {
            precondition(labels.count == count, "\(labels.count) labels for \(count) images")
            precondition(self is any ConditionalModel, "\(config.kind) is not class-conditional but was given labels")
        }
        switch method {
        case .cached:
            return (self as! any CachedSampling).sampleCached(count: count, labels: labels, rng: &rng, temperature: temperature,
                                                              fixed: fixed, observed: observed, progress: progress)
        case .direct:
            let s = (self as! any DirectSampling).sampleDirect(count: count, rng: &rng, temperature: temperature)
            progress?(dimension, dimension)
            return s
        case .naive:
            if let labels, let conditional = self as? any ConditionalModel {
                return conditional.labelledView(labels)
                    .sampleByRerunning(count: count, rng: &rng, temperature: temperature, fixed: fixed,
                                       observed: observed, progress: progress)
            }
            return sampleByRerunning(count: count, rng: &rng, temperature: temperature, fixed: fixed,
                                     observed: observed, progress: progress)
        }
    }
}

extension ConditionalModel {
    /// This model with one fixed label per image, as an unconditional model.
    func labelledView(_ labels: [Int]) -> any AutoregressiveModel { FixedLabels(base: self, labels: labels) }
}

/// A conditional model with fixed labels, seen as an unconditional one (for the naive sampler).
private final class FixedLabels<Base: ConditionalModel>: AutoregressiveModel {
    let base: Base
    let labels: [Int]
    init(base: Base, labels: [Int]) { self.base = base; self.labels = labels }
    var config: ModelConfig { base.config }
    var ordering: [Int] { base.ordering }
    var parameters: [(name: String, tensor: Tensor)] { base.parameters }
    func logits(_ pixels: Tensor) -> Tensor { base.logits(pixels, labels: labels) }
}

extension AutoregressiveModel {
    /// Samples with the fastest exact method the model has (see `generate`).
    public func sample(count: Int, rng: inout RandomGenerator, temperature: Float = 1,
                       progress: ((Int, Int) -> Void)? = nil) -> Sample {
        generate(count: count, rng: &rng, temperature: temperature, progress: progress)
    }
}
