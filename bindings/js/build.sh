#!/usr/bin/env bash
# Builds the core + C ABI for WebAssembly (Debian's emscripten) into bindings/js/dist:
#   dist/mxnext_wasm.mjs + dist/mxnext_wasm.wasm   (ES module + WASM SIMD binary)
#   build/wasm/bindings/js/abi_layout_test.cjs     (tests/abi/abi_layout_test.c for wasm32)
# From a clean checkout: bash bindings/js/build.sh   (MXN_JOBS=2 by default; ccache when present)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
BUILD="${MXN_WASM_BUILD_DIR:-$ROOT/build/wasm}"
DIST="$ROOT/bindings/js/dist"
JOBS="${MXN_JOBS:-2}"

command -v emcmake >/dev/null || { echo "emscripten not found: apt-get install emscripten" >&2; exit 1; }
# Debian's emscripten runs its JS optimiser with the system node and needs acorn from there.
export NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"
# (Debian's emscripten ships its system libraries prebuilt in a frozen cache: leave EM_CACHE
# alone.)

LAUNCHER=()
if command -v ccache >/dev/null; then
  LAUNCHER=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
GEN=()
if command -v ninja >/dev/null; then GEN=(-G Ninja); fi

start=$(date +%s)
emcmake cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" -DMXN_BUILD_WASM=ON -DMXN_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=Release "${LAUNCHER[@]}" >/dev/null
cmake --build "$BUILD" -j "$JOBS"
mkdir -p "$DIST"
cp "$BUILD/bindings/js/mxnext_wasm.mjs" "$BUILD/bindings/js/mxnext_wasm.wasm" "$DIST/"
end=$(date +%s)
wasm=$(stat -c %s "$DIST/mxnext_wasm.wasm")
gz=$(cat "$DIST/mxnext_wasm.mjs" "$DIST/mxnext_wasm.wasm" | gzip -9 | wc -c)
echo "mxnext wasm: $DIST ($wasm bytes .wasm; .wasm + .mjs $gz bytes gzipped; $((end - start)) s)"
