import ArgumentParser
import AutoregModels

/// `--output bernoulli|categorical|logistic-mixture:K`.
extension PixelDistribution: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public static var allValueStrings: [String] { ["bernoulli", "categorical", "logistic-mixture:K"] }
}
