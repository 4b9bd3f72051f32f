import AutoregNN
import AutoregTensor

// What some models can do beyond `AutoregressiveModel`, as protocols: training, evaluation,
// sampling and the command line ask `model as? MaskEnsemble` (or `kind.hasMaskEnsembles`
// before a model exists), never for a concrete model.

/// A model whose training steps apply dropout (`Tensor.dropout()` inside `withDropout`).
public protocol DropoutModel: AutoregressiveModel {}

/// A model that trains over several connectivity masks (orderings) and can average them:
/// MADE's connectivity-agnostic training and mask ensembles.
public protocol MaskEnsemble: AutoregressiveModel {
    /// Number of mask sets (1: a single fixed mask).
    var maskCount: Int { get }
    /// Index of the mask set `logits` uses.
    var activeMask: Int { get }
    /// Switches to mask set `index` (0..<maskCount).
    func applyMask(_ index: Int)
    /// Moves to the next mask set (once per training minibatch).
    func nextMask()
    /// −log of the ensemble likelihood (1/K) Σ_k p_k(x) over the first `count` mask sets
    /// (all when nil), per image.
    func ensembleNLL(_ pixels: Tensor, count: Int?) -> [Float]
}

/// Options of a `MaskEnsemble` model: how many mask sets it has, known before it is built.
public protocol MaskEnsembleOptions: ModelOptions {
    var masks: Int { get }
}

extension ModelConfig {
    /// Mask sets of a `MaskEnsemble` model; 1 for every other model.
    public var maskCount: Int { (options as? any MaskEnsembleOptions)?.masks ?? 1 }
}

/// A model with a cached incremental sampler (Ramachandran et al. 2017): `sampleCached`
/// draws the same images as the naive sampler in about one forward pass.
public protocol CachedSampling: AutoregressiveModel {
    /// The network evaluated position by position over caches, for `count` images (labels:
    /// one class per image for a class-conditional model).
    func incrementalNetwork(count: Int, labels: [Int]?) -> any IncrementalNetwork
}

/// A model built from masked convolutions.
public protocol ConvolutionalModel: AutoregressiveModel {
    /// Every convolution in forward order, with whether it reads the image itself (training
    /// never needs the gradient of that input): what benchmarks and tools list.
    var convolutions: [(layer: MaskedConv2D, readsImage: Bool)] { get }
}

/// A model with its own exact sampler for unconditioned draws (NADE's running sums).
public protocol DirectSampling: AutoregressiveModel {
    /// Draws `count` images in the model's ordering, as `sampleByRerunning` would.
    func sampleDirect(count: Int, rng: inout RandomGenerator, temperature: Float) -> Sample
}
