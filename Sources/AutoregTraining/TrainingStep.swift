import AutoregData
import AutoregModels
import AutoregNN
import AutoregTensor

extension Trainer {
    /// Batch `k` of the epoch as a step sees it: binarised afresh from the run's noise
    /// generator under dynamic binarisation, as stored otherwise.
    func trainingBatch(_ k: Int, of batches: Batches) -> Batch {
        state.options.binarization == .dynamic ? batches.dynamicallyBinarized(k, using: &state.noiseRNG) : batches[k]
    }

    /// One training step on `batch`: loss, backward pass, gradient clipping, optimizer step,
    /// weight average; then the step is counted. Returns the batch's mean loss. A loss that
    /// shows divergence throws before any weight is updated.
    func step(_ batch: Batch, _ params: [Tensor]) throws -> Float {
        let o = state.options
        // Dropout masks depend on the run's seed and the step alone (not on the thread count),
        // so a resumed run draws the same ones. With several threads each takes a share of the
        // batch through the whole forward and backward pass (`lossAndGradient`).
        var labels: [Int]? = nil
        if let conditional = model as? any ConditionalModel, conditional.classes > 0 { labels = batch.labels }
        let loss = withDropout(rate: o.dropout, seed: o.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(state.step)) {
            model.lossAndGradient(batch.tensor, labels: labels)
        }
        do {
            try guardAgainstDivergence("training loss", Double(loss),
                                       at: "epoch \(state.epoch + 1) step \(state.stepInEpoch + 1)")
        } catch {
            model.zeroGrad()
            throw error
        }
        if let c = o.clipNorm { clipGradientNorm(params, maxNorm: c) }
        optimizer.step(params)
        if average != nil {
            average!.update(params, after: state.emaUpdates)
            state.emaUpdates += 1
        }
        model.zeroGrad()
        (model as? any MaskEnsemble)?.nextMask()

        state.stepInEpoch += 1
        state.step += 1
        state.epochLossSum += Double(loss) * Double(batch.count)
        state.epochImages += batch.count
        return loss
    }
}
