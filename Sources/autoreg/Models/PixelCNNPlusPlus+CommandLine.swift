import AutoregModels

/// `autoreg` flags → `PixelCNNPlusPlus.Options`: --channels is nr_filters, --layers the gated
/// ResNet blocks per resolution (nr_resnet).
extension PixelCNNPlusPlus.Options: CommandLineOptions {
    static var flags: Set<ModelFlag> { [.channels, .layers] }
    init(flags f: ModelFlags, base: Self) throws {
        self.init(filters: f.channels ?? base.filters, resnetBlocks: f.layers ?? base.resnetBlocks)
    }
}
