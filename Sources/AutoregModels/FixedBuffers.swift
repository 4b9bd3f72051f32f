import AutoregTensor

/// A fixed tensor a model derives from its configuration's seed with Autoreg's random
/// generator (a random pixel ordering, MADE's hidden-unit degrees): not trained, but needed to
/// rebuild the same network elsewhere. `autoreg export` writes each as `buffers.NAME`.
public struct FixedBuffer: Equatable, Sendable {
    /// Integer values (orderings, degrees; exported as I64) or real ones (F32).
    public enum Values: Equatable, Sendable {
        case integers([Int])
        case reals([Float])

        public var count: Int {
            switch self {
            case let .integers(v): return v.count
            case let .reals(v): return v.count
            }
        }
    }

    public var name: String
    public var shape: [Int]
    public var values: Values

    public init(name: String, shape: [Int], values: Values) {
        precondition(shape.reduce(1, *) == values.count, "buffer \(name): \(values.count) values for shape \(shape)")
        (self.name, self.shape, self.values) = (name, shape, values)
    }

    /// A 1-D integer buffer.
    public static func integers(_ name: String, _ values: [Int]) -> FixedBuffer {
        FixedBuffer(name: name, shape: [values.count], values: .integers(values))
    }
}

/// A model with fixed buffers drawn from its seed (see `FixedBuffer`): FVSBN's and NADE's
/// ordering, MADE's orderings and degrees per mask set. Models without any need not adopt it.
public protocol FixedBuffers: AutoregressiveModel {
    /// The buffers, in a stable order under stable names.
    var fixedBuffers: [FixedBuffer] { get }
}
