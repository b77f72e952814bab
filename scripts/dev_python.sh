#!/usr/bin/env bash
# Development loop for the Python package without pip: builds libmxnext and mxnext._core in
# BUILD_DIR and assembles an importable package under BUILD_DIR/python. Then:
#   PYTHONPATH=BUILD_DIR/python .venv/bin/python -m pytest tests/python
# Usage: scripts/dev_python.sh [BUILD_DIR]   (default build/devpy)
# MXN_USE_MPI=ON in the environment also builds the dist kvstore backend libmxnext_mpi.so.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build/devpy}"
PY="${PYTHON:-$PWD/.venv/bin/python}"
cmake -S . -B "$BUILD" -G Ninja -DMXN_BUILD_PYTHON=ON -DMXN_BUILD_TESTS=OFF \
  -DPython_EXECUTABLE="$PY" -DMXN_USE_MPI="${MXN_USE_MPI:-OFF}" >/dev/null
TARGETS="_core mxnext"
if [ "${MXN_USE_MPI:-OFF}" = "ON" ]; then TARGETS="$TARGETS mxnext_mpi"; fi
ninja -C "$BUILD" -j "${NINJA_JOBS:-2}" $TARGETS
OUT="$BUILD/python"
rm -rf "$OUT/mxnext"
mkdir -p "$OUT"
cp -r bindings/python/mxnext "$OUT/mxnext"
find "$OUT/mxnext" -name '*.so' -delete
cp "$BUILD"/bindings/python/_core*.so "$OUT/mxnext/"
cp "$BUILD"/capi/libmxnext.so "$OUT/mxnext/"
if [ "${MXN_USE_MPI:-OFF}" = "ON" ]; then cp "$BUILD"/capi/libmxnext_mpi.so "$OUT/mxnext/"; fi
echo "PYTHONPATH=$OUT"
