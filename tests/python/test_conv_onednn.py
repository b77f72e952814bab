"""Convolution and Deconvolution, and Pooling, through oneDNN (core/ops/nn_onednn.cc)
against the reference kernels (im2col; nn_pooling.cc's), which stay the oracle.

MXNEXT_ONEDNN (read at every call): unset/1 = oneDNN above the size threshold (kMinMacs,
2^22 multiply-adds), 0 = reference kernels only, 2 = oneDNN for every float32 2-D convolution
it can run. Each case runs forward and backward (data, weight and bias gradients, float32)
under 0 and under 1 or 2 and compares within float32 tolerance; the shapes of the first table
are above the threshold, so the default mode takes oneDNN (checked through DNNL_VERBOSE).
Skipped when libmxnext was built without oneDNN (MXN_USE_ONEDNN=OFF, WebAssembly)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import mxnext as mx
from mxnext import autograd

import test_ops_nn

ONEDNN = any("libdnnl" in line for line in open("/proc/self/maps"))
pytestmark = pytest.mark.skipif(not ONEDNN, reason="libmxnext built without oneDNN")

MIN_MACS = 1 << 22  # nn_onednn.h kMinMacs


def _macs(op, shp, wshape, p):
    """Multiply-adds of the convolution (for a Deconvolution: the convolution it transposes,
    whose output is the Deconvolution's data)."""
    g = p.get("num_group", 1)
    if op == "Deconvolution":
        return shp[0] * shp[1] * wshape[1] * wshape[2] * wshape[3] * shp[2] * shp[3]

    def od(x, i):
        k, s = p["kernel"][i], p.get("stride", (1, 1))[i]
        d, pd = p.get("dilate", (1, 1))[i], p.get("pad", (0, 0))[i]
        return (x + 2 * pd - (d * (k - 1) + 1)) // s + 1
    return shp[0] * wshape[0] * (shp[1] // g) * wshape[2] * wshape[3] * od(shp[2], 0) * \
        od(shp[3], 1)


def _run(mode, op, vals, params, grad=True, seed=3):
    """Output and the gradients of every input under MXNEXT_ONEDNN=mode (float32)."""
    mx.nd.waitall()
    os.environ["MXNEXT_ONEDNN"] = mode
    try:
        arrs = [mx.nd.array(v, dtype=v.dtype) for v in vals]
        if not grad:
            out = getattr(mx.nd, op)(*arrs, **params)
            return [out.asnumpy()]
        for a in arrs:
            a.attach_grad()
        with autograd.record():
            out = getattr(mx.nd, op)(*arrs, **params)
        head = np.random.default_rng(seed).standard_normal(out.shape).astype(vals[0].dtype)
        out.backward(mx.nd.array(head, dtype=head.dtype))
        res = [out.asnumpy()] + [a.grad.asnumpy() for a in arrs]
        mx.nd.waitall()
        return res
    finally:
        os.environ.pop("MXNEXT_ONEDNN", None)


def _inputs(op, shp, wshape, params, seed=0):
    rng = np.random.default_rng(seed)
    vals = [rng.standard_normal(shp).astype(np.float32),
            rng.standard_normal(wshape).astype(np.float32)]
    nb = params.get("no_bias", op == "Deconvolution")
    if not nb:
        nbias = wshape[0] if op == "Convolution" else wshape[1] * params.get("num_group", 1)
        vals.append(rng.standard_normal(nbias).astype(np.float32))
    return vals


def _close(got, ref, what):
    # float32 sums of up to a few thousand products in another order: relative to the largest
    # value of the array
    scale = max(float(np.abs(ref).max(initial=0)), 1e-3)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5 * scale, err_msg=what)


# (op, data shape, weight shape, parameters): every case is above the threshold
BIG = [
    ("Convolution", (2, 16, 32, 32), (32, 16, 3, 3), {"kernel": (3, 3), "pad": (1, 1)}),
    ("Convolution", (4, 16, 45, 59), (48, 16, 3, 5),
     {"kernel": (3, 5), "stride": (2, 3), "pad": (2, 1)}),
    ("Convolution", (2, 16, 30, 28), (24, 16, 3, 3),
     {"kernel": (3, 3), "dilate": (2, 3), "pad": (2, 3)}),
    ("Convolution", (2, 32, 24, 24), (64, 8, 3, 3),
     {"kernel": (3, 3), "num_group": 4, "pad": (1, 1)}),
    ("Convolution", (4, 96, 84, 84), (96, 1, 3, 3),
     {"kernel": (3, 3), "num_group": 96, "pad": (1, 1), "stride": (2, 2)}),
    ("Convolution", (2, 16, 32, 32), (32, 16, 3, 3),
     {"kernel": (3, 3), "pad": (1, 1), "no_bias": True}),
    ("Convolution", (4, 64, 28, 28), (128, 64, 1, 1), {"kernel": (1, 1), "stride": (2, 2)}),
    ("Convolution", (2, 64, 20, 20), (96, 64, 1, 1), {"kernel": (1, 1), "no_bias": True}),
    ("Convolution", (2, 3, 64, 64), (16, 3, 7, 7), {"kernel": (7, 7), "stride": (2, 2),
                                                     "pad": (3, 3)}),
    ("Convolution", (4, 16, 50, 47), (16, 16, 4, 4), {"kernel": (4, 4), "stride": (3, 2)}),
    ("Convolution", (1, 32, 24, 24), (32, 32, 3, 3), {"kernel": (3, 3), "pad": (1, 1)}),
    ("Deconvolution", (3, 32, 16, 16), (32, 16, 4, 4),
     {"kernel": (4, 4), "stride": (2, 2), "pad": (1, 1), "no_bias": False}),
    ("Deconvolution", (4, 64, 20, 20), (64, 16, 3, 3),
     {"kernel": (3, 3), "stride": (2, 2), "num_group": 2, "adj": (1, 1)}),
    ("Deconvolution", (4, 32, 16, 16), (32, 32, 3, 3),
     {"kernel": (3, 3), "stride": (2, 2), "target_shape": (32, 32), "no_bias": False}),
]


def _case_id(c):
    return f"{c[0]}-{c[1]}-{c[3]}"


@pytest.mark.parametrize("case", BIG, ids=[_case_id(c) for c in BIG])
def test_default_mode_matches_reference_above_threshold(case):
    op, shp, wshape, params = case
    params = dict(params, num_filter=wshape[0] if op == "Convolution"
                  else wshape[1] * params.get("num_group", 1))
    assert _macs(op, shp, wshape, params) >= MIN_MACS
    vals = _inputs(op, shp, wshape, params)
    ref = _run("0", op, vals, params)
    got = _run("1", op, vals, params)
    for i, (g, r) in enumerate(zip(got, ref)):
        assert g.shape == r.shape
        _close(g, r, "output" if i == 0 else f"gradient of input {i - 1}")


SMALL = [c for c in test_ops_nn.CASES if c.op in ("Convolution", "Deconvolution", "Pooling")]


@pytest.mark.parametrize("case", SMALL, ids=[c.id for c in SMALL])
def test_forced_mode_matches_reference_on_the_op_table(case):
    """The small shapes of test_ops_nn (1x1, depthwise, target_shape, empty batch, 1-D; every
    pooling convention, type and padding count) forced through oneDNN (MXNEXT_ONEDNN=2): the
    same results as the reference kernels."""
    vals = [v.astype(np.float32) for v in case.make("float32")]
    params = dict(case.params)
    ref = _run("0", case.op, vals, params)
    got = _run("2", case.op, vals, params)
    for i, (g, r) in enumerate(zip(got, ref)):
        _close(g, r, "output" if i == 0 else f"gradient of input {i - 1}")


def test_float64_and_float16_stay_on_the_reference_kernels():
    op, shp, wshape, params = BIG[0]
    params = dict(params, num_filter=wshape[0])
    for dt in ("float64", "float16"):
        vals = [v.astype(dt) for v in _inputs(op, shp, wshape, params)]
        a = _run("0", op, vals, params)
        b = _run("2", op, vals, params)
        for x, y in zip(a, b):
            assert x.tobytes() == y.tobytes(), dt


def test_results_are_deterministic_and_independent_of_concurrency():
    """Repeated calls give identical bytes; so do several independent convolutions pushed at
    once (the engine's two workers call oneDNN concurrently) and the same ones run one by
    one."""
    op, shp, wshape, params = BIG[3]
    params = dict(params, num_filter=wshape[0])
    vals = _inputs(op, shp, wshape, params)
    first = _run("1", op, vals, params)
    for _ in range(2):
        again = _run("1", op, vals, params)
        for a, b in zip(first, again):
            assert a.tobytes() == b.tobytes()
    rng = np.random.default_rng(5)
    xs = [mx.nd.array(rng.standard_normal(shp).astype(np.float32)) for _ in range(6)]
    w, b = mx.nd.array(vals[1]), mx.nd.array(vals[2])
    mx.nd.waitall()
    outs = [mx.nd.Convolution(x, w, b, **params) for x in xs]  # queued together
    together = [o.asnumpy() for o in outs]
    for x, t in zip(xs, together):
        alone = mx.nd.Convolution(x, w, b, **params).asnumpy()
        assert alone.tobytes() == t.tobytes()


_PROBE = r"""
import numpy as np, mxnext as mx
shape, nf = {shape}, {nf}
x = mx.nd.array(np.ones(shape, np.float32))
w = mx.nd.array(np.ones((nf, shape[1], 3, 3), np.float32))
mx.nd.Convolution(x, w, kernel=(3, 3), pad=(1, 1), num_filter=nf, no_bias=True).asnumpy()
"""


def _verbose_convolutions(shape, nf, mode):
    env = dict(os.environ, DNNL_VERBOSE="1")
    env.pop("MXNEXT_ONEDNN", None)
    if mode is not None:
        env["MXNEXT_ONEDNN"] = mode
    out = subprocess.run([sys.executable, "-c", _PROBE.format(shape=shape, nf=nf)], env=env,
                         capture_output=True, text=True, check=True).stdout
    return sum(1 for line in out.splitlines()
               if "_verbose,exec," in line and ",convolution," in line)


def test_threshold_and_mode_select_the_path():
    big, small = (2, 16, 32, 32), (1, 2, 4, 4)  # 2^22.2 and 288 multiply-adds with nf=32/3
    assert _verbose_convolutions(big, 32, None) == 1
    assert _verbose_convolutions(big, 32, "0") == 0
    assert _verbose_convolutions(small, 3, None) == 0
    assert _verbose_convolutions(small, 3, "2") == 1


_POOL_PROBE = r"""
import numpy as np, mxnext as mx
x = mx.nd.array(np.full({shape}, {fill}, np.float32))
if {grad}:
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.Pooling(x, **{params})
    y.backward()
    x.grad.asnumpy()
else:
    mx.nd.Pooling(x, **{params}).asnumpy()
"""


def _verbose_poolings(shape, params, mode=None, grad=False, fill=1.0):
    """How many oneDNN pooling primitives one Pooling call (and its backward) executes."""
    env = dict(os.environ, DNNL_VERBOSE="1")
    env.pop("MXNEXT_ONEDNN", None)
    if mode is not None:
        env["MXNEXT_ONEDNN"] = mode
    code = _POOL_PROBE.format(shape=shape, params=params, grad=grad, fill=fill)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    return sum(1 for line in out.splitlines() if "_verbose,exec," in line and ",pooling" in line)


def test_pooling_backward_selects_the_path():
    """Max pooling's backward: the forward again (for the argmax) and the backward on oneDNN,
    unless a window's maximum is lowest() (then the portable search); average: the backward."""
    shape, same = (2, 64, 28, 28), {"kernel": (3, 3), "stride": (1, 1), "pad": (1, 1)}
    assert _verbose_poolings(shape, dict(same, pool_type="max"), grad=True) == 3
    assert _verbose_poolings(shape, dict(same, pool_type="avg"), grad=True) == 2
    assert _verbose_poolings(shape, dict(same, pool_type="max"), grad=True, fill="-np.inf") == 1
    assert _verbose_poolings(shape, dict(same, pool_type="max"), "0", grad=True) == 0


def test_pooling_threshold_mode_and_declined_cases_select_the_path():
    big, small = (2, 64, 28, 28), (2, 3, 5, 5)
    same = {"kernel": (3, 3), "stride": (1, 1), "pad": (1, 1), "pool_type": "avg"}
    assert _verbose_poolings(big, same) == 1
    assert _verbose_poolings(big, same, "0") == 0
    assert _verbose_poolings(small, same) == 0
    assert _verbose_poolings(small, same, "2") == 1
    past_padding = dict(BIG_POOL[5][1])
    assert _verbose_poolings(BIG_POOL[5][0], past_padding) == 0
    assert _verbose_poolings(BIG_POOL[5][0], dict(past_padding, pool_type="max")) == 1
    assert _verbose_poolings(big, dict(same, pool_type="sum")) == 0  # oneDNN has no sum
    # only oneDNN's jit kernels: its reference one (two planes here) is slower than ours
    assert _verbose_poolings((1, 2, 4, 4), same, "2") == 0


def test_bad_mode_is_an_error():
    op, shp, wshape, params = BIG[0]
    params = dict(params, num_filter=wshape[0])
    vals = _inputs(op, shp, wshape, params)
    mx.nd.waitall()
    os.environ["MXNEXT_ONEDNN"] = "yes"
    try:
        with pytest.raises(mx.base.MXNetError, match="MXNEXT_ONEDNN must be 0, 1 or 2"):
            mx.nd.Convolution(*[mx.nd.array(v) for v in vals], **params).asnumpy()
    finally:
        mx.nd.waitall()
        os.environ.pop("MXNEXT_ONEDNN", None)


@pytest.mark.parametrize("op", ["Convolution", "Deconvolution"])
def test_batches_in_chunks_match_the_reference(op, monkeypatch):
    """Large batches run in chunks of images (onednn::kChunkBytes, here lowered to 2.5 images so
    the chunks are 2, 2 and 1): outputs and every gradient, weight and bias gradients summed
    over the chunks, equal the reference kernels'."""
    shp, wshape = (5, 8, 20, 20), ((16, 8, 3, 3) if op == "Convolution" else (8, 16, 3, 3))
    params = {"kernel": (3, 3), "pad": (1, 1), "num_filter": 16}
    if op == "Deconvolution":
        params["no_bias"] = False
    vals = _inputs(op, shp, wshape, params)
    ref = _run("0", op, vals, params)
    per_image = 4 * max(8 * 20 * 20, 16 * 20 * 20)
    monkeypatch.setenv("MXNEXT_ONEDNN_CHUNK_BYTES", str(int(2.5 * per_image)))
    got = _run("2", op, vals, params)
    for i, (g, r) in enumerate(zip(got, ref)):
        _close(g, r, f"{op} result {i}")


# Pooling above kMinPoolWork: (data shape, parameters), Inception's and ResNet's among them.
BIG_POOL = [
    ((2, 64, 28, 28), {"kernel": (3, 3), "stride": (1, 1), "pad": (1, 1), "pool_type": "avg"}),
    ((2, 64, 28, 28), {"kernel": (3, 3), "stride": (1, 1), "pad": (1, 1), "pool_type": "max"}),
    ((2, 32, 57, 57), {"kernel": (3, 3), "stride": (2, 2), "pool_type": "max",
                       "pooling_convention": "full"}),
    ((2, 32, 56, 56), {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1), "pool_type": "max"}),
    ((2, 32, 30, 30), {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1), "pool_type": "avg",
                       "count_include_pad": False}),
    # full convention past the padding with include_pad: oneDNN would divide by 9, MXNet by the
    # window within the padded input; the glue declines, the portable kernel runs
    ((2, 32, 30, 30), {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1), "pool_type": "avg",
                       "pooling_convention": "full"}),
    ((2, 128, 7, 7), {"global_pool": True, "kernel": (1, 1), "pool_type": "avg"}),
]


@pytest.mark.parametrize("case", BIG_POOL, ids=[str(c[1]) for c in BIG_POOL])
def test_pooling_above_threshold_matches_the_portable_kernel(case):
    shp, params = case
    x = np.random.default_rng(1).standard_normal(shp).astype(np.float32)
    ref = _run("0", "Pooling", [x], params)
    got = _run("1", "Pooling", [x], params)
    for i, (g, r) in enumerate(zip(got, ref)):
        _close(g, r, "output" if i == 0 else "gradient")


MAX_POOL = [c for c in BIG_POOL if c[1]["pool_type"] == "max"]


@pytest.mark.parametrize("lowest_plane", [False, True])
@pytest.mark.parametrize("case", MAX_POOL, ids=[str(c[1]) for c in MAX_POOL])
def test_max_pooling_backward_with_ties_matches_the_portable_kernel(case, lowest_plane):
    """oneDNN's max-pooling backward (its argmax from a forward run again) gives each output's
    gradient to the same input as the portable search, the first maximum of the window, where
    most windows hold ties (small integers). With a plane of lowest(), whose windows oneDNN's
    argmax may point at the padding, the portable search runs: the same bytes."""
    shp, params = case
    x = np.random.default_rng(2).integers(-2, 3, shp).astype(np.float32)
    if lowest_plane:
        x[0, 0] = np.finfo(np.float32).min
    ref = _run("0", "Pooling", [x], params)
    got = _run("1", "Pooling", [x], params)
    assert got[0].tobytes() == ref[0].tobytes()
    if lowest_plane:
        assert got[1].tobytes() == ref[1].tobytes()
        return
    assert np.array_equal(got[1] != 0, ref[1] != 0)  # the same inputs receive gradients
    _close(got[1], ref[1], "gradient")  # summed in another order where windows overlap


LRN_CASES = [((2, 16, 9, 9), dict(nsize=5, alpha=1e-4, beta=0.75, knorm=2.0)),
             ((1, 40, 12, 11), dict(nsize=3, alpha=0.3, beta=0.5, knorm=1.0)),
             ((2, 24, 6, 6), dict(nsize=7, alpha=0.02, beta=0.9, knorm=1.5))]


def _lrn_inference(shape, params, mode, x):
    """LRN in an inference bind (its normaliser unused, so oneDNN may run it)."""
    os.environ["MXNEXT_ONEDNN"] = mode
    try:
        sym = mx.sym.LRN(mx.sym.Variable("data"), **params)
        ex = sym.simple_bind(mx.cpu(), grad_req="null", data=shape)
        ex.arg_dict["data"][:] = x
        ex.forward(is_train=False)
        return ex.outputs[0].asnumpy()
    finally:
        os.environ.pop("MXNEXT_ONEDNN", None)


@pytest.mark.parametrize("case", LRN_CASES, ids=[str(c[1]) for c in LRN_CASES])
def test_lrn_inference_on_onednn_matches_numpy(case):
    shape, params = case
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    ref = test_ops_nn.lrn_ref(params, x)
    for mode in ("0", "2"):
        _close(_lrn_inference(shape, params, mode, x), ref, f"MXNEXT_ONEDNN={mode}")


def test_lrn_inference_runs_on_onednn():
    code = ("import numpy as np, mxnext as mx\n"
            "s = mx.sym.LRN(mx.sym.Variable('data'), nsize=5)\n"
            "ex = s.simple_bind(mx.cpu(), grad_req='null', data=(1, 96, 27, 27))\n"
            "ex.forward(is_train=False); ex.outputs[0].asnumpy()\n"
            "ex = s.simple_bind(mx.cpu(), data=(1, 96, 27, 27))\n"
            "ex.forward(is_train=True); ex.outputs[0].asnumpy()\n")
    env = dict(os.environ, DNNL_VERBOSE="1")
    env.pop("MXNEXT_ONEDNN", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    # the inference bind only: training keeps the normaliser for its backward
    assert sum(1 for line in out.splitlines() if "_verbose,exec," in line and ",lrn," in line) == 1
