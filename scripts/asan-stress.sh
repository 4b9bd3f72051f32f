#!/usr/bin/env bash
# Trains under AddressSanitizer the way long runs are used, in small: PixelCNN and a
# class-conditional Gated PixelCNN on 8-bit data, batch 64 with a short last batch, weight
# averaging and dropout, one and two threads, stopped by SIGTERM at varied times (so that
# stops land in training steps, in validation and in train --test's final evaluation), and
# resumed each time. Any AddressSanitizer report fails the script. About 10 minutes.
#
#   scripts/asan-stress.sh                 # data: mnist if found, else fashion-mnist
#   DATA=fashion-mnist scripts/asan-stress.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build-asan
swift build -c release --scratch-path "$scratch" --sanitize=address -Xswiftc -enable-testing --product autoreg
A="$PWD/$scratch/release/autoreg"
export ASAN_OPTIONS=detect_leaks=0:halt_on_error=1
DATA=${DATA:-mnist}
work=$(mktemp -d /tmp/autoreg-asan-stress.XXXXXX)
echo "== runs in $work, data $DATA"
findings=0
n=0
check() {  # check LOG: count an AddressSanitizer report
    if grep -q AddressSanitizer "$1"; then cat "$1"; echo "ASAN FINDING in $1"; findings=$((findings + 1)); fi
}
run_and_stop() {  # run_and_stop SECONDS COMMAND...: SIGTERM after SECONDS (if still running)
    local t=$1; shift; n=$((n + 1))
    "$@" > "$work/out.$n" 2>&1 & local pid=$!
    sleep "$t"; kill -TERM "$pid" 2>/dev/null || true
    local rc=0; wait "$pid" || rc=$?
    echo "[$n] exit $rc: $(grep -E 'stopped by|Error|best valid' "$work/out.$n" | tail -1)"
    check "$work/out.$n"
}
for spec in "pixelcnn --channels 16 --layers 3 --threads 1" \
            "gated-pixelcnn --channels 16 --layers 3 --conditional --threads 2"; do
    set -- $spec; model=$1; shift
    out="$work/$model"
    common=(--data "$DATA" --batch-size 64 --train-limit 640 --valid-limit 2000 --ema 0.999 --epochs 8 --out "$out")
    run_and_stop 17 "$A" train --model "$model" "$@" --dropout 0.1 "${common[@]}"
    for t in 23 11 29 14 19 8 26; do run_and_stop "$t" "$A" train --resume "${common[@]}"; done
    # To the end, then a stop during --test's evaluation of the test split.
    n=$((n + 1))
    "$A" train --resume "${common[@]}" --test > "$work/out.$n" 2>&1 & pid=$!
    while kill -0 "$pid" 2>/dev/null && ! grep -q "best valid NLL" "$work/out.$n"; do sleep 0.2; done
    sleep 2; kill -TERM "$pid" 2>/dev/null || true
    rc=0; wait "$pid" || rc=$?
    echo "[$n] stop during --test: exit $rc: $(tail -1 "$work/out.$n")"
    check "$work/out.$n"
    echo "   metrics rows (epochs): $(grep -o '"epoch":[0-9]*' "$out/metrics.jsonl" | cut -d: -f2 | tr '\n' ' ')"
done
echo "== $findings AddressSanitizer finding(s)"
[ "$findings" -eq 0 ]
