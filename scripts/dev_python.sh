#!/usr/bin/env bash
# Development loop for the Python package without pip: builds libmxnext and mxnext._core in
# BUILD_DIR and assembles an importable package under BUILD_DIR/python. Then:
#   PYTHONPATH=BUILD_DIR/python .venv/bin/python -m pytest tests/python
# Usage: scripts/dev_python.sh [BUILD_DIR]   (default build/devpy)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build/devpy}"
PY="${PYTHON:-$PWD/.venv/bin/python}"
cmake -S . -B "$BUILD" -G Ninja -DMXN_BUILD_PYTHON=ON -DMXN_BUILD_TESTS=OFF \
  -DPython_EXECUTABLE="$PY" >/dev/null
ninja -C "$BUILD" _core mxnext
OUT="$BUILD/python"
rm -rf "$OUT/mxnext"
mkdir -p "$OUT"
cp -r bindings/python/mxnext "$OUT/mxnext"
find "$OUT/mxnext" -name '*.so' -delete
cp "$BUILD"/bindings/python/_core*.so "$OUT/mxnext/"
cp "$BUILD"/capi/libmxnext.so "$OUT/mxnext/"
echo "PYTHONPATH=$OUT"
