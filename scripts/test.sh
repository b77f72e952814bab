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
