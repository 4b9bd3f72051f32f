import ArgumentParser
import AutoregModels

/// `autoreg` flags → `PixelRNNOptions` (Row LSTM and Diagonal BiLSTM): --hidden is h.
extension PixelRNNOptions: CommandLineOptions {
    static var flags: Set<ModelFlag> { [.hidden, .layers, .kernel, .firstKernel, .outputChannels] }
    init(flags f: ModelFlags, base: Self) throws {
        let hidden = f.hidden ?? [base.hiddenUnits]
        guard hidden.count == 1 else {
            throw ValidationError("--hidden: a PixelRNN layer has one state size h, got \(hidden.count) sizes")
        }
        self.init(hiddenUnits: hidden[0], layers: f.layers ?? base.layers, outputChannels: f.outputChannels ?? base.outputChannels,
                  firstKernelSize: f.firstKernel ?? base.firstKernelSize, kernelSize: f.kernel ?? base.kernelSize)
    }
}
