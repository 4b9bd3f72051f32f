#!/usr/bin/env bash
# Installs the Debian packages Autoreg needs, if any is missing:
#   libdnnl-dev            oneDNN, for matrix products (C API dnnl.h)
#   zlib1g-dev             gzip data sets and PNG compression
#   dataset-fashion-mnist  a real data set for the demo, without the web
#   chromium               headless browser for the test that opens `autoreg report`'s page (skipped without it)
set -euo pipefail
packages=(libdnnl-dev zlib1g-dev dataset-fashion-mnist chromium)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
