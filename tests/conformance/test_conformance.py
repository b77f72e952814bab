"""pytest wrapper of the conformance suite: the case files are what the NumPy reference
generator writes, the Python runner passes every case, and its results file is byte-identical
to the R runner's (when that file exists: scripts/test.sh runs the R runner first and sets
MXNEXT_CONFORMANCE_R_RESULTS, which makes a missing file a failure) and to the JavaScript
(WebAssembly) runner's (MXNEXT_CONFORMANCE_JS_RESULTS, from tests/conformance/run_js.mjs). The
functions where C libraries disagree in the last bits (tanh, log10, acos, cbrt, erf, gamma) come
from core/base/portable_math, so every target computes the same bytes."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RESULTS_DIR = os.path.join(ROOT, "build", "conformance")
PY_RESULTS = os.path.join(RESULTS_DIR, "results-python.txt")


def _cases():
    out = []
    for name in sorted(os.listdir(os.path.join(HERE, "cases"))):
        with open(os.path.join(HERE, "cases", name), encoding="utf-8") as f:
            out.extend(json.load(f)["cases"])
    return out


def test_case_files_match_the_numpy_generator():
    r = subprocess.run([sys.executable, os.path.join(HERE, "generate_cases.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_suite_size_and_coverage():
    cases = _cases()
    assert len(cases) >= 300
    families = {c["family"] for c in cases}
    assert {"broadcast", "unary", "reduce", "shape", "nn", "linalg", "symbol", "params",
            "errors", "cast", "kvstore"} <= families
    dtypes = {s["dtype"] for c in cases for s in c["steps"] if s["do"] == "array"}
    assert dtypes == {"float32", "float64", "float16", "uint8", "int32", "int8", "int64", "bool"}
    shapes = [s["shape"] for c in cases for s in c["steps"] if s["do"] == "array"]
    assert [] in shapes and any(0 in s for s in shapes)


def test_python_runner_passes_every_case():
    os.makedirs(RESULTS_DIR, exist_ok=True)
    r = subprocess.run([sys.executable, os.path.join(HERE, "run_python.py"), "--results",
                        PY_RESULTS], capture_output=True, text=True)
    last = r.stdout.strip().splitlines()[-1]
    assert r.returncode == 0 and last.endswith(" 0 failed"), r.stdout[-4000:] + r.stderr[-2000:]


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def test_r_results_are_byte_identical_to_python():
    r_results = os.environ.get("MXNEXT_CONFORMANCE_R_RESULTS",
                               os.path.join(RESULTS_DIR, "results-r.txt"))
    if not os.path.exists(r_results):
        raise AssertionError(f"no R results at {r_results}: run tests/conformance/run_r.R "
                             "first (scripts/test.sh does)")
    if not os.path.exists(PY_RESULTS):
        test_python_runner_passes_every_case()
    py = _read(PY_RESULTS)
    rr = _read(r_results)
    if py != rr:
        pl, rl = py.splitlines(), rr.splitlines()
        for i, (a, b) in enumerate(zip(pl, rl)):
            if a != b:
                raise AssertionError(f"line {i + 1} differs:\n python: {a[:300]!r}\n r:      "
                                     f"{b[:300]!r}")
        raise AssertionError(f"python has {len(pl)} lines, R {len(rl)}")


def test_js_results_are_byte_identical_to_python():
    js_results = os.environ.get("MXNEXT_CONFORMANCE_JS_RESULTS",
                                os.path.join(RESULTS_DIR, "results-js.txt"))
    if not os.path.exists(js_results):
        raise AssertionError(f"no JavaScript results at {js_results}: run node "
                             "tests/conformance/run_js.mjs --results ... first (scripts/test.sh "
                             "does)")
    if not os.path.exists(PY_RESULTS):
        test_python_runner_passes_every_case()
    pl = _read(PY_RESULTS).decode("utf-8").splitlines()
    jl = _read(js_results).decode("utf-8").splitlines()
    assert len(pl) == len(jl), f"python has {len(pl)} lines, JavaScript {len(jl)}"
    for i, (a, b) in enumerate(zip(pl, jl)):
        if a != b:
            raise AssertionError(f"line {i + 1} differs:\n python: {a[:300]!r}\n js:     "
                                 f"{b[:300]!r}")
