#!/usr/bin/env bash
# Sets mxnext up on a fresh Debian 12 machine: system packages, a virtual environment in .venv,
# and the Python package (which builds libmxnext). Safe to run again: it skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="build-essential cmake ninja-build ccache pkg-config libgtest-dev libopenblas-dev libopenblas-openmp-dev libturbojpeg0-dev libpng-dev python3 python3-venv python3-dev r-base-dev r-cran-testthat r-cran-jsonlite emscripten chromium libopenmpi-dev openmpi-bin libdnnl-dev ocl-icd-opencl-dev"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if ! dpkg -s $APT_PACKAGES >/dev/null 2>&1; then
  echo "== installing Debian packages: $APT_PACKAGES"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $APT_PACKAGES
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "== installing node and npm (Debian) for the Julia syntax check"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
if [ ! -d bindings/js/node_modules/playwright-core ]; then
  echo "== npm ci in bindings/js (playwright-core, for the headless Chromium page test)"
  (cd bindings/js && npm ci --no-audit --no-fund --silent)
fi
if [ ! -d tools/julia-syntax/node_modules/tree-sitter-julia ]; then
  echo "== npm ci in tools/julia-syntax (tree-sitter + tree-sitter-julia)"
  (cd tools/julia-syntax && npm ci --no-audit --no-fund --silent)
fi

if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt

echo "== building and installing the Python package (libmxnext + mxnext._core)"
.venv/bin/python -m pip install -q --disable-pip-version-check --no-build-isolation ./bindings/python
.venv/bin/python -c "import mxnext; print('mxnext', mxnext.__version__, 'ready')"
