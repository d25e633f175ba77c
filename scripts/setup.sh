#!/usr/bin/env bash
# Installs everything iclit needs on Debian 12 + Node 20 (apt packages, npm packages, the libtorch binding) and builds it.
set -euo pipefail
cd "$(dirname "$0")/.."

# libtorch + OpenBLAS for tensors (without libopenblas0-pthread Debian's reference BLAS is ~30x slower),
# Chromium for the report's browser test, fonts so figures render text, python3-torch for `npm run bench`.
packages=(libtorch-dev libopenblas0-pthread chromium fonts-dejavu-core python3-torch)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# npm ci runs the package's install script, which builds the native binding against the libtorch found above.
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
npm run build
