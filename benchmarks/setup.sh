#!/usr/bin/env bash
# Creates benchmarks/.venv with a CPU-only PyTorch, numpy and safetensors (python/'s loaders
# read exported models with it), unless it already works.
#
# Choice of torch (first that applies):
#   1. $TORCH_SPEC, if set (e.g. TORCH_SPEC='torch==2.15.0' accepts the CUDA wheels);
#   2. the newest `torch` if pip would install it without nvidia-* / triton / cuda-*
#      packages (on Linux x86_64 PyPI's plain torch wheels pull several GB of CUDA wheels);
#   3. the newest `+cpu` build that pip can see (`pip index versions torch`, which also
#      reads any find-links directory configured for pip).
# Otherwise it stops with an explanation instead of downloading the CUDA stack.
#
# Usage: benchmarks/setup.sh        (prints the torch version on success)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
py="$venv/bin/python"
python="${PYTHON:-python3}"

# A venv whose torch (and numpy) imports and runs a convolution needs nothing more than
# safetensors, added if missing.
if [[ -x "$py" ]] && "$py" - <<'EOF' 2>/dev/null
import numpy, torch
torch.nn.functional.conv2d(torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 3, 3))
EOF
then
    if ! "$py" -c 'import safetensors' 2>/dev/null; then
        echo "benchmarks/setup.sh: installing safetensors into $venv" >&2
        nice -n 10 "$py" -m pip --disable-pip-version-check install -q safetensors
    fi
    "$py" -c 'import torch, safetensors; print(f"benchmarks/.venv: torch {torch.__version__}, safetensors {safetensors.__version__} (already set up)")'
    exit 0
fi

echo "benchmarks/setup.sh: creating $venv" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
pip=("$py" -m pip --disable-pip-version-check)
quiet=(-q)

# True when installing the given requirement would pull no CUDA wheel.
cpu_only() {
    local report
    report="$(mktemp)"
    if ! nice -n 10 "${pip[@]}" install "${quiet[@]}" --dry-run --ignore-installed --report "$report" "$1" >/dev/null 2>&1; then
        rm -f "$report"
        return 1
    fi
    "$py" - "$report" <<'EOF'
import json, sys
names = [i["metadata"]["name"].lower() for i in json.load(open(sys.argv[1]))["install"]]
heavy = [n for n in names if n.startswith(("nvidia-", "triton", "cuda-"))]
sys.exit(1 if heavy else 0)
EOF
    local status=$?
    rm -f "$report"
    return $status
}

spec=""
if [[ -n "${TORCH_SPEC:-}" ]]; then
    spec="$TORCH_SPEC"
elif cpu_only torch; then
    spec="torch"
else
    cpu_version="$("${pip[@]}" index versions torch 2>/dev/null \
        | sed -n 's/^Available versions: //p' | tr ',' '\n' | tr -d ' ' | grep '+cpu$' | head -n 1 || true)"
    if [[ -n "$cpu_version" ]] && cpu_only "torch==$cpu_version"; then
        spec="torch==$cpu_version"
    fi
fi

if [[ -z "$spec" ]]; then
    cat >&2 <<'EOF'
benchmarks/setup.sh: no CPU-only torch found. PyPI's Linux torch wheels depend on the
CUDA wheels (nvidia-*, several GB), and no `+cpu` build is visible to pip here.
Either give pip a directory holding a torch-*+cpu wheel (PIP_FIND_LINKS=/path), or accept
the CUDA wheels explicitly:  TORCH_SPEC='torch' benchmarks/setup.sh
EOF
    rm -rf "$venv"
    exit 1
fi

# numpy silences torch's "Failed to initialize NumPy" warning at import; safetensors reads
# the files `autoreg export` writes (python/).
echo "benchmarks/setup.sh: installing $spec numpy safetensors" >&2
nice -n 10 "${pip[@]}" install "${quiet[@]}" "$spec" numpy safetensors
"$py" -c 'import torch; print(f"benchmarks/.venv: torch {torch.__version__} installed")'
