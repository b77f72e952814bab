"""FullyConnected on one row (batch 1) through oneDNN's sgemm (core/ops/nn_onednn.cc,
fc_row_forward) against a float64 NumPy reference, in each MXNEXT_ONEDNN mode: unset/1 takes
oneDNN from kMinRowWeights (2^20) weights, 0 never (OpenBLAS's sgemv), 2 always. The cases
straddle the threshold, with and without bias, flattened and not, and with an output that
holds NaNs before the call (a no-bias layer must overwrite it, not scale it). Skipped when
libmxnext was built without oneDNN."""
import os

import numpy as np
import pytest

import mxnext as mx

ONEDNN = any("libdnnl" in line for line in open("/proc/self/maps"))
pytestmark = pytest.mark.skipif(not ONEDNN, reason="libmxnext built without oneDNN")

# (data shape, num_hidden, no_bias, flatten): weights num_hidden x prod(data.shape[1:]) or,
# unflattened, num_hidden x data.shape[-1].
CASES = [
    ((1, 2048), 1024, False, True),       # 2^21 weights
    ((1, 2048), 1024, True, True),
    ((1, 1000), 1100, False, True),       # just above the threshold
    ((1, 1000), 1000, True, True),        # just below it
    ((1, 300), 200, False, True),         # far below
    ((1, 8, 16, 16), 600, False, True),   # flattened to 2048
    ((1, 1, 4096), 300, True, False),     # one row on the last axis
    ((1, 3000), 1, False, True),          # one output
]


def _case_id(c):
    shape, nh, no_bias, flatten = c
    return "x".join(map(str, shape)) + f"-h{nh}" + ("-nobias" if no_bias else "") + \
        ("" if flatten else "-noflat")


def _forward(mode, x, w, b, nh, no_bias, flatten, out_fill=None):
    mx.nd.waitall()
    if mode is None:
        os.environ.pop("MXNEXT_ONEDNN", None)
    else:
        os.environ["MXNEXT_ONEDNN"] = mode
    try:
        args = [mx.nd.array(x), mx.nd.array(w)] + ([] if no_bias else [mx.nd.array(b)])
        kw = dict(num_hidden=nh, no_bias=no_bias, flatten=flatten)
        if out_fill is None:
            return mx.nd.FullyConnected(*args, **kw).asnumpy()
        shape = (x.shape[0], nh) if flatten else x.shape[:-1] + (nh,)
        out = mx.nd.array(np.full(shape, out_fill, np.float32))
        mx.nd.FullyConnected(*args, out=out, **kw)
        return out.asnumpy()
    finally:
        os.environ.pop("MXNEXT_ONEDNN", None)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
@pytest.mark.parametrize("mode", [None, "0", "2"], ids=["default", "off", "forced"])
def test_one_row_matches_numpy(case, mode):
    shape, nh, no_bias, flatten = case
    rng = np.random.default_rng(len(CASES) + nh)
    x = rng.standard_normal(shape).astype(np.float32)
    k = int(np.prod(shape[1:])) if flatten else shape[-1]
    w = rng.standard_normal((nh, k)).astype(np.float32)
    b = rng.standard_normal(nh).astype(np.float32)
    rows = x.reshape(-1, k).astype(np.float64)
    ref = rows @ w.T.astype(np.float64) + (0 if no_bias else b.astype(np.float64))
    bound = np.abs(rows) @ np.abs(w.T.astype(np.float64)) + (0 if no_bias else np.abs(b))
    for fill in (None, np.nan):
        got = _forward(mode, x, w, b, nh, no_bias, flatten, out_fill=fill).reshape(ref.shape)
        assert np.isfinite(got).all(), f"out_fill={fill}: the output kept NaNs"
        err = np.abs(got - ref)
        assert (err <= 2e-6 * bound + 1e-6).all(), \
            f"out_fill={fill}: worst error {err.max():.3g} against bound {bound.max():.3g}"


def test_one_row_agrees_with_the_blas_path_and_is_deterministic():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((1, 4096)).astype(np.float32)
    w = rng.standard_normal((2000, 4096)).astype(np.float32)
    b = rng.standard_normal(2000).astype(np.float32)
    on = _forward(None, x, w, b, 2000, False, True)
    again = _forward(None, x, w, b, 2000, False, True)
    off = _forward("0", x, w, b, 2000, False, True)
    assert on.tobytes() == again.tobytes()
    np.testing.assert_allclose(on, off, rtol=1e-4, atol=1e-3)
