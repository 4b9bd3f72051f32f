import AutoregModels

/// `autoreg` flags → `PixelCNN.Options`.
extension PixelCNN.Options: CommandLineOptions {
    static var flags: Set<ModelFlag> { [.channels, .layers, .kernel, .firstKernel, .dilations] }
    init(flags f: ModelFlags, base: Self) throws {
        let layers = f.layers ?? f.dilations?.count ?? base.layers
        self.init(hiddenChannels: f.channels ?? base.hiddenChannels, layers: layers,
                  kernelSize: f.kernel ?? base.kernelSize, firstKernelSize: f.firstKernel ?? base.firstKernelSize,
                  dilations: f.dilations ?? (layers == base.layers ? base.dilations : nil))
    }
}
