#!/usr/bin/env bash
# The one command for the Autoreg-vs-PyTorch comparison: sets up benchmarks/.venv (CPU-only
# torch) if needed, then runs compare.py with the given options, e.g.
#
#   benchmarks/run.sh --quick                      # smoke test, a few minutes
#   benchmarks/run.sh --out benchmarks/results.md  # the full table
#   AUTOREG_BIN=.build-bench/release/autoreg benchmarks/run.sh --models gated-pixelcnn
#
# Build our binary first: swift build -c release (compare.py reports a missing one per row).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh" >&2
exec "$here/.venv/bin/python" "$here/compare.py" "$@"
