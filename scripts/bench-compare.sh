#!/usr/bin/env bash
# Runs the same `autoreg bench` lines with two builds, interleaved (A, B, A, B, ...), and
# prints a table of median images/s with the ratio B/A per round. For before/after
# comparisons of a change: run it with nothing else on the machine and say what else ran.
#
#   scripts/bench-compare.sh OLD/autoreg NEW/autoreg [rounds]
set -euo pipefail
a=$1; b=$2; rounds=${3:-2}
lines=(
  "train --model made --hidden 500 --batch 100 --steps 20 --threads 1"
  "train --model nade --batch 100 --steps 10 --threads 1"
  "train --model pixelcnn --batch 32 --steps 8 --threads 1"
  "train --model gated-pixelcnn --batch 32 --steps 8 --threads 1"
  "train --model gated-pixelcnn --levels 256 --batch 32 --steps 6 --threads 1"
  "eval --model gated-pixelcnn --levels 256 --batch 50 --steps 8 --threads 1"
  "sample --model gated-pixelcnn --levels 256 --count 16 --sampler cached --threads 1"
  "sample --model pixelcnn --count 16 --sampler cached --threads 1"
)
out=$(mktemp)
for ((r = 1; r <= rounds; r++)); do
  for line in "${lines[@]}"; do
    for side in A B; do
      bin=$a; [ "$side" = B ] && bin=$b
      # shellcheck disable=SC2086
      json=$("$bin" bench $line --json | tail -1)
      printf '%s\t%s\t%s\t%s\n' "$r" "$line" "$side" "$json" >> "$out"
    done
  done
done
python3 - "$out" "$rounds" <<'PY'
import json, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
rounds = int(sys.argv[2])
def rate(j):
    d = json.loads(j)
    for k in ("images_per_s_median", "images_per_s", "imagesPerSecond"):
        if k in d: return float(d[k])
    return float("nan")
table = {}
for r, line, side, j in rows:
    table.setdefault(line, {})[(int(r), side)] = rate(j)
head = "| bench line | " + " | ".join(f"A r{r} | B r{r}" for r in range(1, rounds + 1)) + " | B / A per round |"
print(head); print("|---|" + "---:|" * (2 * rounds + 1))
for line, v in table.items():
    vals = " | ".join(f"{v[(r,'A')]:.1f} | {v[(r,'B')]:.1f}" for r in range(1, rounds + 1))
    ratios = ", ".join(f"{v[(r,'B')] / v[(r,'A')]:.2f}" for r in range(1, rounds + 1))
    print(f"| `{line}` | {vals} | {ratios} |")
PY
rm -f "$out"
