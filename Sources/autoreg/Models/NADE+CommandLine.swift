import ArgumentParser
import AutoregModels

/// `autoreg` flags → `NADE.Options`.
extension NADE.Options: CommandLineOptions {
    static var flags: Set<ModelFlag> { [.hidden, .ordering] }
    init(flags f: ModelFlags, base: Self) throws {
        let hidden = f.hidden ?? [base.hidden]
        guard hidden.count == 1 else {
            throw ValidationError("--hidden: nade has exactly one hidden layer, got \(hidden.count) sizes")
        }
        self.init(hidden: hidden[0], ordering: f.ordering ?? base.ordering)
    }
}
