import AutoregModels

/// `autoreg` flags → `GatedPixelCNN.Options`.
extension GatedPixelCNN.Options: CommandLineOptions {
    static var flags: Set<ModelFlag> { [.channels, .layers, .kernel, .dilations] }
    init(flags f: ModelFlags, base: Self) throws {
        let layers = f.layers ?? f.dilations?.count ?? base.layers
        self.init(hiddenChannels: f.channels ?? base.hiddenChannels, layers: layers, kernelSize: f.kernel ?? base.kernelSize,
                  dilations: f.dilations ?? (layers == base.layers ? base.dilations : nil))
    }
}
