#!/usr/bin/env bash
# Builds and runs the core unit tests under AddressSanitizer, UndefinedBehaviorSanitizer and
# ThreadSanitizer.
#
#   scripts/sanitize.sh              # all three
#   scripts/sanitize.sh asan         # or: ubsan, tsan
#   scripts/sanitize.sh asan-python  # not in the default set (about 10 minutes more)
#
# build/asan: -DMXN_SANITIZE=address, runs engine_test, runtime_test (storage + base), io_test
#             and recordio_fuzz (3000 mutated .rec files; FUZZ_ITERATIONS to change).
#             and params_fuzz (10000 mutated .params files through the C ABI loader;
#             PARAMS_FUZZ_ITERATIONS to change).
# build/ubsan: -DMXN_SANITIZE=undefined (no recovery: the first report aborts), runs
#             engine_test and runtime_test.
# build/tsan: -DMXN_SANITIZE=thread,  runs engine_test and runtime_test with a smaller random
#             DAG (MXNEXT_TEST_DAG_OPS, default 20000 here).
# Only those targets are built (they link mxn_runtime and mxn_io_base: no operators, no BLAS).
# build/py-asan (asan-python): the library with its operators and oneDNN, and the Python
#             extension, under -DMXN_SANITIZE=address; runs the Python tests of the executor,
#             the memory plan, the nn operators, oneDNN and the fused chains with the values
#             they keep in oneDNN's layouts (libasan and libstdc++ preloaded into Python).
# Exits non-zero on a build failure, a test failure or any sanitizer report.
# Environment: JOBS (ninja -j, default 2), TSAN_DAG_OPS; GTEST_FILTER etc. pass through.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JOBS="${JOBS:-2}"
WHICH=("$@")
[ ${#WHICH[@]} -eq 0 ] && WHICH=(asan ubsan tsan)

LOGDIR="$(mktemp -d)"
trap 'rm -rf "$LOGDIR"' EXIT
status=0

configure_and_build() {  # dir sanitizer targets...
  local dir="$1" san="$2"
  shift 2
  cmake -S "$ROOT" -B "$ROOT/build/$dir" -G Ninja -DMXN_SANITIZE="$san" -DMXN_BUILD_TESTS=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C "$ROOT/build/$dir" -j "$JOBS" "$@"
}

# Runs one test command; fails on a non-zero exit or a sanitizer report in its output.
run_test() {  # label command...
  local label="$1"
  shift
  local log="$LOGDIR/${label//\//_}.log"
  local start end rc=0
  start=$(date +%s%N)
  "$@" --gtest_color=no >"$log" 2>&1 || rc=$?
  end=$(date +%s%N)
  local ms=$(((end - start) / 1000000))
  local summary
  summary=$(grep -E '^\[  (PASSED|FAILED|SKIPPED) +\] [0-9]|tests? from .* ran' "$log" | tr '\n' ' ' || true)
  printf '%-20s rc=%-3d %6d ms  %s\n' "$label" "$rc" "$ms" "$summary"
  # Reports, not notes: "WARNING: AddressSanitizer failed to allocate" (the pool's refused
  # petabyte under allocator_may_return_null) has no colon after the tool name.
  local pattern='ERROR: (Address|Leak|Thread|UndefinedBehavior)Sanitizer|(WARNING|FATAL): ThreadSanitizer:|runtime error:'
  if grep -qE "$pattern" "$log"; then
    echo "---- sanitizer report in $label:"
    grep -nE -A60 "$pattern" "$log" | head -150
    [ "$rc" -eq 0 ] && rc=1
  elif [ "$rc" -ne 0 ]; then
    echo "---- $label failed:"
    grep -E -B2 -A12 'Failure|FAILED|terminate' "$log" | head -120 || true
    tail -20 "$log"
  fi
  [ "$rc" -eq 0 ] || status=1
}

# TSan of GCC 12 cannot map its shadow with the kernel's high ASLR entropy (vm.mmap_rnd_bits
# > 28): run without ASLR where setarch can do that.
tsan_prefix=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
  tsan_prefix=(setarch "$(uname -m)" -R)
fi

for which in "${WHICH[@]}"; do
  case "$which" in
    asan)
      echo "== AddressSanitizer (build/asan)"
      configure_and_build asan address engine_test runtime_test io_test recordio_fuzz params_fuzz
      export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_init_order=1:check_initialization_order=1"
      for t in engine_test runtime_test io_test; do
        run_test "asan/$t" "$ROOT/build/asan/tests/cpp/$t"
      done
      # Byte-level mutations of small .rec files through the reader, header parser, decoders
      # and augmentation (core/io); FUZZ_ITERATIONS for a longer run (README).
      run_test "asan/recordio_fuzz" "$ROOT/build/asan/tests/fuzz/recordio_fuzz" \
        --iterations "${FUZZ_ITERATIONS:-3000}"
      # The .params loader through the C ABI: mutated MXNet fixtures (tests/data/params).
      run_test "asan/params_fuzz" "$ROOT/build/asan/tests/fuzz/params_fuzz" \
        --iterations "${PARAMS_FUZZ_ITERATIONS:-10000}"
      ;;
    ubsan)
      echo "== UndefinedBehaviorSanitizer (build/ubsan)"
      configure_and_build ubsan undefined engine_test runtime_test
      export UBSAN_OPTIONS="print_stacktrace=1"
      for t in engine_test runtime_test; do
        run_test "ubsan/$t" "$ROOT/build/ubsan/tests/cpp/$t"
      done
      ;;
    tsan)
      echo "== ThreadSanitizer (build/tsan)"
      configure_and_build tsan thread engine_test runtime_test
      export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:exitcode=66:suppressions=$ROOT/scripts/tsan.supp"
      for t in engine_test runtime_test; do
        run_test "tsan/$t" env MXNEXT_TEST_DAG_OPS="${TSAN_DAG_OPS:-20000}" \
          "${tsan_prefix[@]}" "$ROOT/build/tsan/tests/cpp/$t"
      done
      ;;
    asan-python)
      echo "== AddressSanitizer under Python (build/py-asan)"
      cmake -S "$ROOT" -B "$ROOT/build/py-asan" -G Ninja -DMXN_SANITIZE=address \
        -DMXN_BUILD_TESTS=OFF -DMXN_BUILD_PYTHON=ON -DPython_EXECUTABLE="$ROOT/.venv/bin/python" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
      ninja -C "$ROOT/build/py-asan" -j "$JOBS"
      pkg="$ROOT/build/py-asan/pkg"  # the package's Python files beside the ASan extension
      rm -rf "$pkg" && mkdir -p "$pkg"
      cp -r "$ROOT/bindings/python/mxnext" "$pkg/"
      cp "$ROOT"/build/py-asan/bindings/python/_core*.so "$pkg/mxnext/"
      log="$LOGDIR/asan_python.log"
      rc=0
      (cd "$ROOT" && LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so)" \
        ASAN_OPTIONS=detect_leaks=0 PYTHONPATH="$pkg" .venv/bin/python -m pytest -q \
        -p no:cacheprovider tests/python/test_conv_chains.py tests/python/test_conv_onednn.py \
        tests/python/test_train_layouts.py tests/python/test_memory_plan.py \
        tests/python/test_executor.py tests/python/test_ops_nn.py) \
        >"$log" 2>&1 || rc=$?
      printf '%-20s rc=%-3d %s\n' "asan/python" "$rc" "$(tail -1 "$log")"
      if grep -qE 'ERROR: AddressSanitizer|runtime error:' "$log" || [ "$rc" -ne 0 ]; then
        grep -nE -A60 'ERROR: AddressSanitizer|runtime error:' "$log" | head -150 || tail -30 "$log"
        status=1
      fi
      ;;
    *)
      echo "unknown sanitizer '$which' (use asan, ubsan, tsan or asan-python)" >&2
      exit 2
      ;;
  esac
done

if [ "$status" -ne 0 ]; then
  echo "sanitize.sh: FAILED"
else
  echo "sanitize.sh: all clean"
fi
exit "$status"
