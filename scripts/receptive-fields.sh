#!/usr/bin/env bash
# Draws the receptive field of the centre pixel of a 28x28 image for PixelCNN, Gated
# PixelCNN, Row LSTM and Diagonal BiLSTM at depths 1, 2, 4 and 8 into docs/images/ (untrained models: the receptive field
# is a property of the architecture), and prints each one's blind-spot size.
# AUTOREG=path/to/autoreg uses that binary instead of building a release one.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${AUTOREG:-}" ]; then
    swift build -c release --product autoreg
    AUTOREG=.build/release/autoreg
fi
out=${OUT:-docs/images}
pixel=${PIXEL:-14,14}
mkdir -p "$out"
for model in pixelcnn gated-pixelcnn row-lstm diagonal-bilstm; do
    for layers in 1 2 4 8; do
        file="$out/receptive-field-$model-$layers.png"
        echo "== $model, $layers layers: $file"
        "$AUTOREG" receptive-field --model "$model" --layers "$layers" --pixel "$pixel" \
            --scale "${SCALE:-6}" --out "$file" --threads 1 | grep -v '^wrote'
    done
done
