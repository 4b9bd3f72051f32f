import AutoregModels

/// `autoreg` flags → `MADE.Options`.
extension MADE.Options: CommandLineOptions {
    static var flags: Set<ModelFlag> { [.hidden, .masks, .ordering, .direct] }
    init(flags f: ModelFlags, base: Self) throws {
        self.init(hidden: f.hidden ?? base.hidden, masks: f.masks ?? base.masks, ordering: f.ordering ?? base.ordering,
                  directConnections: f.direct ?? base.directConnections)
    }
}
