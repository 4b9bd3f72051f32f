import AutoregModels

/// `autoreg` flags → `FVSBN.Options`.
extension FVSBN.Options: CommandLineOptions {
    static var flags: Set<ModelFlag> { [.ordering] }
    init(flags f: ModelFlags, base: Self) throws { self.init(ordering: f.ordering ?? base.ordering) }
}
