#!/usr/bin/env bash
# Set up and run the main job on a fresh machine: install what is missing, build,
# train a MADE on binarised Fashion-MNIST (Debian's dataset-fashion-mnist) for a few
# epochs, print its test NLL and write samples with their probability maps.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release
bin=.build/release/autoreg
out=runs/demo-made-fashion
rm -rf "$out"
$bin train --model made --data fashion-mnist --binarize fixed --epochs ${EPOCHS:-3} --out "$out" --test
$bin sample --checkpoint "$out/best.ckpt" -n 64 --out "$out/samples.png"
echo "samples: $out/samples.png, probability maps: $out/samples-probabilities.png"
