import AutoregData
import AutoregTensor

extension Batch {
    /// The pixels as a [count, dimension] tensor, the input every model takes.
    var tensor: Tensor { Tensor(shape: [count, dimension], data: pixels) }
}
