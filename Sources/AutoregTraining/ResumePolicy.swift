/// What a resumed run may change: one list, for `Trainer` and `autoreg train --resume`.
extension TrainingOptions {
    /// The settings a resumed run may change. Every other one belongs to the run (data set,
    /// binarisation, batch size, optimizer, momentum, weight decay, seed, limits on the
    /// training data, ...): the data order, the model and the optimizer state depend on them,
    /// so `--resume` refuses another value.
    public enum ResumeSetting: CaseIterable, Sendable {
        case epochs, maxMinutes, learningRate, schedule, clipNorm, emaDecay, dropout, validLimit, dataDirectory

        /// How far and how long to train belong to the invocation, not the run: a resumed run
        /// always takes them from the options it is given, the others only when asked to.
        public var perInvocation: Bool { self == .epochs || self == .maxMinutes }
    }

    /// Continues a run whose options these are under `given`: the per-invocation settings
    /// and the output folder (where the run is now) come from `given`, and so do the settings
    /// in `changing`; everything else stays the run's own. Returns the settings of `changing`
    /// whose value this changed, in `ResumeSetting.allCases` order.
    @discardableResult
    public mutating func resume(with given: TrainingOptions, changing: Set<ResumeSetting> = []) -> [ResumeSetting] {
        outputDirectory = given.outputDirectory
        var changed: [ResumeSetting] = []
        for setting in ResumeSetting.allCases where setting.perInvocation || changing.contains(setting) {
            if take(setting, from: given) && changing.contains(setting) { changed.append(setting) }
        }
        return changed
    }

    /// Copies `setting` from `other`; true when the value differed.
    mutating func take(_ setting: ResumeSetting, from other: TrainingOptions) -> Bool {
        func copy<T: Equatable>(_ path: WritableKeyPath<TrainingOptions, T>) -> Bool {
            guard self[keyPath: path] != other[keyPath: path] else { return false }
            self[keyPath: path] = other[keyPath: path]
            return true
        }
        switch setting {
        case .epochs: return copy(\.epochs)
        case .maxMinutes: return copy(\.maxMinutes)
        case .learningRate: return copy(\.learningRate)
        case .schedule: return copy(\.schedule)
        case .clipNorm: return copy(\.clipNorm)
        case .emaDecay: return copy(\.emaDecay)
        case .dropout: return copy(\.dropout)
        case .validLimit: return copy(\.validLimit)
        case .dataDirectory: return copy(\.dataDirectory)
        }
    }
}
