#!/usr/bin/env bash
# The README's second command (and CI's): set everything up, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== C/C++ build and tests (core, C ABI contract, ABI layout, C example)"
cmake -S . -B build/dev -G Ninja -DMXN_BUILD_TESTS=ON >/dev/null
ninja -C build/dev
ctest --test-dir build/dev --output-on-failure -j 2

echo "== sanitizer builds of the core tests (ASan, TSan)"
bash scripts/sanitize.sh

echo "== generated bindings are up to date"
.venv/bin/python tools/codegen/generate.py --check --lib build/dev/capi/libmxnext.so

echo "== Python tests"
.venv/bin/python -m pytest tests/python -q -p no:cacheprovider

echo "== distributed kvstore: the MPI backend alone (build/mpi), then 2-4 rank jobs on loopback"
cmake -S . -B build/mpi -G Ninja -DMXN_USE_MPI=ON -DMXN_BUILD_TESTS=OFF >/dev/null
ninja -C build/mpi mxnext_mpi
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
  MXNEXT_MPI_LIBRARY="$PWD/build/mpi/capi/libmxnext_mpi.so" \
  timeout 900 .venv/bin/python -m pytest tests/dist -q -p no:cacheprovider

echo "== R package against build/dev: install, testthat, R CMD check --no-manual"
export MXNEXT_LIB_DIR="$PWD/build/dev/capi" MXNEXT_INCLUDE_DIR="$PWD/capi/include"
R_LIB="$PWD/build/r-lib"
rm -rf "$R_LIB" build/r-check && mkdir -p "$R_LIB" build/r-check
R CMD INSTALL --preclean --no-multiarch -l "$R_LIB" bindings/r
(cd bindings/r/tests && R_LIBS="$R_LIB" Rscript testthat.R)
(cd build/r-check && R CMD build --no-manual ../../bindings/r >/dev/null &&
  R_LIBS="$R_LIB" R CMD check --no-manual mxnext_*.tar.gz | tee check.log &&
  ! grep -E "^\* .*(WARNING|ERROR)$" check.log)

echo "== JavaScript: WebAssembly build (emscripten, ccache), node tests, headless Chromium page"
bash bindings/js/build.sh
# api, models vs MXNet, leaks, wasm32 ABI layout, conformance (writes results-js.txt)
(cd bindings/js && MXNEXT_CONFORMANCE_JS_RESULTS="$PWD/../../build/conformance/results-js.txt" \
  node --test test/*.test.mjs)
node --test examples/browser/browser.test.mjs

echo "== conformance: R, Python and JS runners, results compared byte for byte"
R_LIBS="$R_LIB" Rscript tests/conformance/run_r.R --results build/conformance/results-r.txt
MXNEXT_CONFORMANCE_R_RESULTS=build/conformance/results-r.txt \
  MXNEXT_CONFORMANCE_JS_RESULTS=build/conformance/results-js.txt \
  .venv/bin/python -m pytest tests/conformance -q -p no:cacheprovider

echo "== Julia package: every file parses (tree-sitter-julia; Julia itself is not run here)"
(cd tools/julia-syntax && node check.js)
