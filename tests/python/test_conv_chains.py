"""Inference fusion of Convolution -> BatchNorm -> add -> ReLU (core/graph/conv_chains.cc,
core/ops/nn_conv_chain.cc): which chains the executor finds, fused results against a NumPy
reference and against the operators run one by one, reuse and rebuilding of the folded weights
when inputs change, and the paths that must not fuse."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import mxnext as mx
from test_ops_nn import bn_ref, conv_ref

ONEDNN = any("libdnnl" in line for line in open("/proc/self/maps"))
pytestmark = pytest.mark.skipif(not ONEDNN, reason="conv chains fuse on oneDNN only")


@pytest.fixture(autouse=True)
def _every_conv_on_onednn(monkeypatch):
    # The cases are small: mode 2 sends every convolution oneDNN can run to it. The direct
    # algorithm: the layouts and bytes checked here are its (test_winograd_chains_* below
    # compare the Winograd kernels with it).
    monkeypatch.setenv("MXNEXT_ONEDNN", "2")
    monkeypatch.setenv("MXNEXT_CONV_WINOGRAD", "0")
    monkeypatch.delenv("MXNEXT_FUSE", raising=False)


def _relu(x):
    return np.maximum(x, 0)


# Each case: name, data shape, conv params, and which of bn / add / relu follow; `add_first`
# puts the addend first in the sum; `n_chains` is what the executor must find.
CASES = [
    ("conv-bn", (2, 8, 9, 9), dict(kernel=(3, 3), pad=(1, 1), num_filter=8), "bn"),
    ("conv-relu", (2, 8, 9, 9), dict(kernel=(3, 3), pad=(1, 1), num_filter=8), "relu"),
    ("conv-bias-relu", (2, 8, 9, 9), dict(kernel=(3, 3), num_filter=6, no_bias=False), "relu"),
    ("conv-bn-relu", (2, 8, 9, 9), dict(kernel=(3, 3), pad=(1, 1), num_filter=8), "bn,relu"),
    ("conv-bn-add", (2, 8, 9, 9), dict(kernel=(3, 3), pad=(1, 1), num_filter=8), "bn,add"),
    ("conv-bn-add-relu", (2, 8, 9, 9), dict(kernel=(3, 3), pad=(1, 1), num_filter=8),
     "bn,add,relu"),
    ("addend-first", (2, 8, 9, 9), dict(kernel=(3, 3), pad=(1, 1), num_filter=8),
     "bn,add_first,relu"),
    ("conv-add-relu", (1, 16, 7, 7), dict(kernel=(1, 1), num_filter=16), "add,relu"),
    # 1x1 on a map of 14x14 or more: oneDNN's NCHW path, where the add and ReLU run after it
    ("1x1-large-map", (2, 16, 16, 16), dict(kernel=(1, 1), num_filter=16), "bn,add,relu"),
    ("1x1-large-relu", (2, 16, 16, 16), dict(kernel=(1, 1), num_filter=24), "bn,relu"),
    ("strided", (2, 8, 11, 11), dict(kernel=(3, 3), stride=(2, 2), pad=(1, 1), num_filter=8),
     "bn,relu"),
    ("dilated", (1, 4, 12, 12), dict(kernel=(3, 3), dilate=(2, 2), pad=(2, 2), num_filter=4),
     "bn,add,relu"),
    ("grouped", (2, 8, 9, 9), dict(kernel=(3, 3), pad=(1, 1), num_filter=8, num_group=4),
     "bn,relu"),
    ("bias-and-bn", (2, 8, 9, 9), dict(kernel=(3, 3), pad=(1, 1), num_filter=8, no_bias=False),
     "bn,add,relu"),
]


def _build(shape, conv, follow, fix_gamma=False):
    follow = follow.split(",")
    d = mx.sym.Variable("data")
    params = dict(conv)
    params.setdefault("no_bias", True)
    y = mx.sym.Convolution(d, name="c", **params)
    if "bn" in follow:
        y = mx.sym.BatchNorm(y, fix_gamma=fix_gamma, eps=1e-3, name="bn")
    if "add" in follow or "add_first" in follow:
        other = mx.sym.Variable("other")
        y = (other + y) if "add_first" in follow else (y + other)
    if "relu" in follow:
        y = mx.sym.Activation(y, act_type="relu")
    return y, params, follow


def fill_params(ex, seed):
    """Uniform arguments and auxiliary states, gammas and variances positive."""
    rng = np.random.RandomState(seed)
    for k, a in sorted(ex.arg_dict.items()):
        a[:] = rng.uniform(0.5, 1.5, a.shape) if k.endswith("gamma") else \
            rng.uniform(-1, 1, a.shape)
    for k, a in sorted(ex.aux_dict.items()):
        a[:] = rng.uniform(0.5, 2, a.shape) if k.endswith("var") else \
            rng.uniform(-0.5, 0.5, a.shape)


def _bind(sym, shapes, seed=0):
    ex = sym.simple_bind(mx.cpu(), grad_req="null", **shapes)
    fill_params(ex, seed)
    return ex


def _reference(ex, params, follow, fix_gamma=False):
    v = {k: a.asnumpy().astype(np.float64) for k, a in ex.arg_dict.items()}
    aux = {k: a.asnumpy().astype(np.float64) for k, a in ex.aux_dict.items()}
    y = conv_ref(params, v["data"], v["c_weight"], v.get("c_bias"))
    if "bn" in follow:
        y = bn_ref(dict(fix_gamma=False, eps=1e-3), y, v["bn_gamma"], v["bn_beta"],
                   aux["bn_moving_mean"], aux["bn_moving_var"])
    if "add" in follow or "add_first" in follow:
        y = y + v["other"]
    if "relu" in follow:
        y = _relu(y)
    return y


def _report(ex):
    mx.nd.waitall()
    return json.loads(ex.memory_report())


def _shapes(sym, shape):
    shapes = {"data": shape}
    if "other" in sym.list_arguments():
        shapes["other"] = sym.get_internals()["c_output"].infer_shape(data=shape)[1][0]
    return shapes


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_fused_chain_matches_numpy_and_the_operators_one_by_one(case, monkeypatch):
    name, shape, conv, follow = case
    sym, params, parts = _build(shape, conv, follow)
    shapes = _shapes(sym, shape)
    ex = _bind(sym, shapes)
    ex.forward(is_train=False)
    fused = ex.outputs[0].asnumpy()
    assert _report(ex)["conv_chains"] == 1
    ref = _reference(ex, params, parts)
    np.testing.assert_allclose(fused, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    monkeypatch.setenv("MXNEXT_FUSE", "0")
    plain = _bind(sym, shapes)
    assert _report(plain)["conv_chains"] == 0
    plain.forward(is_train=False)
    np.testing.assert_allclose(fused, plain.outputs[0].asnumpy(), rtol=1e-4,
                               atol=1e-5 * np.abs(ref).max())


def test_fix_gamma_ignores_gamma():
    sym, params, parts = _build((2, 8, 9, 9), CASES[3][2], "bn,relu", fix_gamma=True)
    ex = _bind(sym, {"data": (2, 8, 9, 9)})
    ex.forward(is_train=False)
    v = {k: a.asnumpy().astype(np.float64) for k, a in ex.arg_dict.items()}
    aux = {k: a.asnumpy().astype(np.float64) for k, a in ex.aux_dict.items()}
    y = bn_ref(dict(fix_gamma=True, eps=1e-3), conv_ref(params, v["data"], v["c_weight"]),
               v["bn_gamma"], v["bn_beta"], aux["bn_moving_mean"], aux["bn_moving_var"])
    np.testing.assert_allclose(ex.outputs[0].asnumpy(), _relu(y), rtol=1e-4, atol=1e-4)


def test_weights_are_reused_until_an_input_changes():
    sym, params, parts = _build((2, 8, 9, 9), CASES[5][2], "bn,add,relu")
    shapes = _shapes(sym, (2, 8, 9, 9))
    ex = _bind(sym, shapes)
    for _ in range(3):
        ex.forward(is_train=False)
    assert _report(ex)["conv_chain_builds"] == 1
    # New data and a new addend: same weights.
    ex.arg_dict["data"][:] = np.random.RandomState(5).uniform(-1, 1, shapes["data"])
    ex.arg_dict["other"][:] = np.random.RandomState(6).uniform(-1, 1, shapes["other"])
    ex.forward(is_train=False)
    assert _report(ex)["conv_chain_builds"] == 1
    np.testing.assert_allclose(ex.outputs[0].asnumpy(), _reference(ex, params, parts),
                               rtol=1e-4, atol=1e-4)
    # Each input the folded weights come from, changed in turn, is picked up.
    builds = 1
    for name, in_aux in [("c_weight", False), ("bn_gamma", False), ("bn_beta", False),
                         ("bn_moving_mean", True), ("bn_moving_var", True)]:
        arr = (ex.aux_dict if in_aux else ex.arg_dict)[name]
        arr[:] = arr.asnumpy() * 1.5 + 0.25
        ex.forward(is_train=False)
        builds += 1
        assert _report(ex)["conv_chain_builds"] == builds, name
        np.testing.assert_allclose(ex.outputs[0].asnumpy(), _reference(ex, params, parts),
                                   rtol=1e-4, atol=1e-4, err_msg=name)


def _write_by_operator(ex):
    w = ex.arg_dict["c_weight"]
    return lambda: mx.nd.elemwise_mul(w, w, out=w)  # an engine operation writes the weight


def _write_through_dlpack(ex):
    view = np.from_dlpack(ex.arg_dict["c_weight"])  # writable, behind the engine's back

    def write():
        np.negative(view, out=view)
    return write


@pytest.mark.parametrize("writer", [_write_by_operator, _write_through_dlpack])
def test_weights_written_between_forwards_are_picked_up(writer):
    """Written by an engine operation (its version changes), or through memory shared by
    DLPack (never trusted: folded again at every call)."""
    sym, params, parts = _build((2, 8, 9, 9), CASES[3][2], "bn,relu")
    ex = _bind(sym, {"data": (2, 8, 9, 9)})
    write = writer(ex)
    ex.forward(is_train=False)
    write()
    ex.forward(is_train=False)
    assert _report(ex)["conv_chain_builds"] == 2
    np.testing.assert_allclose(ex.outputs[0].asnumpy(), _reference(ex, params, parts),
                               rtol=1e-4, atol=1e-4)


def test_training_forward_runs_the_operators_one_by_one():
    sym, params, parts = _build((4, 8, 9, 9), CASES[3][2], "bn,relu")
    ex = _bind(sym, {"data": (4, 8, 9, 9)})
    mean0 = ex.aux_dict["bn_moving_mean"].asnumpy()
    ex.forward(is_train=True)  # batch statistics, and the moving ones updated
    v = {k: a.asnumpy().astype(np.float64) for k, a in ex.arg_dict.items()}
    y = conv_ref(params, v["data"], v["c_weight"])
    ref = _relu(bn_ref(dict(fix_gamma=False, eps=1e-3, _train=True), y, v["bn_gamma"],
                       v["bn_beta"], mean0, ex.aux_dict["bn_moving_var"].asnumpy()))
    np.testing.assert_allclose(ex.outputs[0].asnumpy(), ref, rtol=1e-4, atol=1e-4)
    assert not np.allclose(ex.aux_dict["bn_moving_mean"].asnumpy(), mean0)
    # And an inference forward after it uses the updated moving statistics.
    ex.forward(is_train=False)
    np.testing.assert_allclose(ex.outputs[0].asnumpy(), _reference(ex, params, parts),
                               rtol=1e-4, atol=1e-4)


def test_a_training_executor_fuses_its_inference_forwards():
    sym, params, parts = _build((2, 8, 9, 9), CASES[5][2], "bn,add,relu")
    shapes = _shapes(sym, (2, 8, 9, 9))
    ex = sym.simple_bind(mx.cpu(), grad_req="write", **shapes)
    ref_ex = _bind(sym, shapes)
    for k in ex.arg_dict:
        ex.arg_dict[k][:] = ref_ex.arg_dict[k]
    for k in ex.aux_dict:
        ex.aux_dict[k][:] = ref_ex.aux_dict[k]
    ex.forward(is_train=False)
    assert _report(ex)["conv_chain_builds"] == 1
    np.testing.assert_allclose(ex.outputs[0].asnumpy(), _reference(ex, params, parts),
                               rtol=1e-4, atol=1e-4)
    with pytest.raises(mx.base.MXNetError, match="forward"):
        ex.backward()  # an inference forward leaves nothing to differentiate


def test_onednn_off_at_run_time_runs_the_operators():
    sym, params, parts = _build((2, 8, 9, 9), CASES[5][2], "bn,add,relu")
    shapes = _shapes(sym, (2, 8, 9, 9))
    ex = _bind(sym, shapes)
    os.environ["MXNEXT_ONEDNN"] = "0"
    try:
        ex.forward(is_train=False)
        got = ex.outputs[0].asnumpy()
    finally:
        os.environ["MXNEXT_ONEDNN"] = "2"
    assert _report(ex)["conv_chain_builds"] == 0
    np.testing.assert_allclose(got, _reference(ex, params, parts), rtol=1e-5, atol=1e-5)


def test_values_read_elsewhere_end_the_chain():
    d = mx.sym.Variable("data")
    c = mx.sym.Convolution(d, kernel=(3, 3), pad=(1, 1), num_filter=8, no_bias=True, name="c")
    bn = mx.sym.BatchNorm(c, fix_gamma=False, name="bn")
    relu = mx.sym.Activation(bn, act_type="relu")
    cases = [
        # the convolution's output is read twice: no chain at all
        (mx.sym.Group([mx.sym.BatchNorm(c, name="bn2"), mx.sym.sum(c)]), 0),
        # the BatchNorm's output is a graph output: conv -> bn only
        (mx.sym.Group([bn, relu]), 1),
        # the BatchNorm's output also feeds a sum: conv -> bn only, ReLU separate
        (relu + bn, 1),
        (bn + bn, 1),  # x + x is not a chain's add
    ]
    for sym, n in cases:
        ex = _bind(sym, {"data": (2, 8, 9, 9)})
        assert _report(ex)["conv_chains"] == n, sym.tojson()[:200]
        ex.forward(is_train=False)
        got = [o.asnumpy() for o in ex.outputs]
        os.environ["MXNEXT_FUSE"] = "0"
        try:
            plain = _bind(sym, {"data": (2, 8, 9, 9)})
            plain.forward(is_train=False)
        finally:
            del os.environ["MXNEXT_FUSE"]
        for g, p in zip(got, plain.outputs):
            np.testing.assert_allclose(g, p.asnumpy(), rtol=1e-4, atol=1e-4)


def test_chained_residual_units_match_the_operators(monkeypatch):
    """Two ResNet units with a projection shortcut: chains whose sums read other chains'
    outputs, and memory the planner shares between them."""
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))
    from symbols import resnet
    x = mx.sym.Variable("data")
    y = resnet.basic(x, 16, (1, 1), True, "u1")
    y = resnet.bottleneck(y, 32, (2, 2), False, "u2")
    y = resnet.bottleneck(y, 32, (1, 1), True, "u3")
    ex = _bind(y, {"data": (2, 16, 12, 12)})
    assert _report(ex)["conv_chains"] == 2 + 4 + 3
    ex.forward(is_train=False)
    fused = ex.outputs[0].asnumpy()
    monkeypatch.setenv("MXNEXT_FUSE", "0")
    plain = _bind(y, {"data": (2, 16, 12, 12)})
    plain.forward(is_train=False)
    ref = plain.outputs[0].asnumpy()
    np.testing.assert_allclose(fused, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())


def test_batches_in_chunks(monkeypatch):
    # Chunks of about 1.5 images: the prepared weights serve both chunk sizes.
    sym, params, parts = _build((5, 8, 16, 16), dict(kernel=(3, 3), pad=(1, 1), num_filter=8),
                                "bn,add,relu")
    monkeypatch.setenv("MXNEXT_ONEDNN_CHUNK_BYTES", str(int(1.5 * 8 * 16 * 16 * 4)))
    shapes = _shapes(sym, (5, 8, 16, 16))
    ex = _bind(sym, shapes)
    ex.forward(is_train=False)
    np.testing.assert_allclose(ex.outputs[0].asnumpy(), _reference(ex, params, parts),
                               rtol=1e-4, atol=1e-4)


def test_the_chain_inputs_outlive_the_steps_in_between(monkeypatch):
    """The chain runs at its last step; values computed between its convolution and that step
    must not take over the memory of its data (the planner would let them: here the sigmoid's
    output, of the data's size, would take the relu's block, dead after the convolution)."""
    d, d2 = mx.sym.Variable("data"), mx.sym.Variable("data2")
    x = mx.sym.relu(d)
    c = mx.sym.Convolution(x, kernel=(3, 3), stride=(2, 2), pad=(1, 1), num_filter=8,
                           no_bias=True, name="c")
    other = mx.sym.Pooling(mx.sym.sigmoid(d2), kernel=(2, 2), stride=(2, 2), pool_type="max")
    sym = mx.sym.Activation(c + other, act_type="relu")
    shapes = {"data": (2, 8, 18, 18), "data2": (2, 8, 18, 18)}
    ex = _bind(sym, shapes)
    assert _report(ex)["conv_chains"] == 1
    ex.forward(is_train=False)
    monkeypatch.setenv("MXNEXT_FUSE", "0")
    plain = _bind(sym, shapes)
    plain.forward(is_train=False)
    np.testing.assert_allclose(ex.outputs[0].asnumpy(), plain.outputs[0].asnumpy(), rtol=1e-4,
                               atol=1e-4)


def test_a_sum_with_the_convolution_own_data(monkeypatch):
    """x + conv(x): the addend is the chain's data; the output must not be planned over it."""
    d = mx.sym.Variable("data")
    x = mx.sym.relu(d)
    c = mx.sym.Convolution(x, kernel=(3, 3), pad=(1, 1), num_filter=8, no_bias=True, name="c")
    syms = [x + c, c + x, mx.sym.relu(x + c), mx.sym.BatchNorm(c, fix_gamma=False, name="bn") + x]
    for sym in syms:
        ex = _bind(sym, {"data": (2, 8, 9, 9)})
        assert _report(ex)["conv_chains"] == 1
        ex.forward(is_train=False)
        got = ex.outputs[0].asnumpy()
        monkeypatch.setenv("MXNEXT_FUSE", "0")
        plain = _bind(sym, {"data": (2, 8, 9, 9)})
        plain.forward(is_train=False)
        monkeypatch.delenv("MXNEXT_FUSE")
        np.testing.assert_allclose(got, plain.outputs[0].asnumpy(), rtol=1e-4, atol=1e-4)


# ---- hand-offs in oneDNN's layout between fused chains (Executor::kept_layouts) ----------
def _chain(x, f, name, kernel=(3, 3), addend=None, bn=True):
    pad = (kernel[0] // 2, kernel[1] // 2)
    y = mx.sym.Convolution(x, kernel=kernel, pad=pad, num_filter=f, no_bias=True, name=name)
    if bn:
        y = mx.sym.BatchNorm(y, fix_gamma=False, name=name + "_bn")
    if addend is not None:
        y = y + addend
    return mx.sym.relu(y)


def _two_chains(f=16):
    return _chain(_chain(mx.sym.Variable("data"), f, "c1"), f, "c2")


def _read_by_pooling_too():
    c1 = _chain(mx.sym.Variable("data"), 16, "c1")
    return mx.sym.Group([_chain(c1, 16, "c2"), mx.sym.Pooling(c1, kernel=(2, 2), pool_type="max")])


def _an_output_too():
    c1 = _chain(mx.sym.Variable("data"), 16, "c1")
    return mx.sym.Group([_chain(c1, 16, "c2"), c1])


def _data_and_addend():
    c1 = _chain(mx.sym.Variable("data"), 16, "c1")
    return _chain(c1, 16, "c2", addend=c1)  # relu(bn(conv(c1)) + c1)


def _addend_of_a_later_chain():
    c1 = _chain(mx.sym.Variable("data"), 16, "c1")
    c2 = _chain(c1, 16, "c2", bn=False)
    return _chain(c2, 16, "c3", addend=c1)  # c1 waits in oneDNN's layout for c3


def _into_a_1x1_chain():
    # a 1x1 convolution on a 16x16 map, which training runs on oneDNN's NCHW GEMM path
    c1 = _chain(mx.sym.Variable("data"), 16, "c1")
    return _chain(c1, 16, "c2", kernel=(1, 1), addend=c1)


def _pooling_between_chains(pool_type="max", **kw):
    def make():
        c1 = _chain(mx.sym.Variable("data"), 16, "c1")
        p = mx.sym.Pooling(c1, kernel=(3, 3), stride=(2, 2), pool_type=pool_type, **kw)
        return _chain(p, 16, "c2")
    return make


def _lrn_between_chains():
    c1 = _chain(mx.sym.Variable("data"), 16, "c1")
    return _chain(mx.sym.LRN(c1, nsize=5, alpha=1e-4, beta=0.75, knorm=2.0), 16, "c2")


def _global_pooling_into_fc():
    c1 = _chain(mx.sym.Variable("data"), 16, "c1")
    p = mx.sym.Pooling(c1, kernel=(1, 1), global_pool=True, pool_type="avg")
    return mx.sym.FullyConnected(mx.sym.Flatten(p), num_hidden=5, name="fc")


def _concat_of_chains(other_from_a_chain=True):
    def make():
        d = mx.sym.Variable("data")
        a = _chain(d, 16, "a")
        b = _chain(d, 32, "b", kernel=(1, 1)) if other_from_a_chain else mx.sym.relu(d * 2)
        return _chain(mx.sym.Concat(a, b, dim=1), 16, "c")
    return make


def _residual_units():
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))
    from symbols import resnet
    y = resnet.basic(mx.sym.Variable("data"), 16, (1, 1), True, "u1")
    y = resnet.basic(y, 32, (2, 2), False, "u2")
    return resnet.bottleneck(y, 32, (1, 1), True, "u3")


def _inception_module():
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))
    from symbols import inception_bn
    x = mx.sym.Variable("data")
    x = inception_bn.inception_a(x, 16, 16, 32, 16, 32, "avg", 16, "3a")
    return inception_bn.inception_b(x, 32, 48, 16, 32, "3c")


# name, symbol, data shape, values kept (None: at least one)
HANDOFFS = [
    ("two-chains", _two_chains, (2, 16, 10, 10), 1),
    ("8-channels-padded-blocks", lambda: _two_chains(8), (2, 8, 10, 10), 0),
    ("read-by-pooling-too", _read_by_pooling_too, (2, 16, 10, 10), 1),  # pooled into NCHW
    ("an-output-too", _an_output_too, (2, 16, 10, 10), 0),
    ("data-and-addend", _data_and_addend, (2, 16, 10, 10), 1),
    ("addend-of-a-later-chain", _addend_of_a_later_chain, (2, 16, 10, 10), 2),
    ("into-a-1x1-chain", _into_a_1x1_chain, (2, 16, 16, 16), 1),
    ("residual-units", _residual_units, (2, 16, 12, 12), None),
    ("max-pooling-between-chains", _pooling_between_chains(), (2, 16, 13, 13), 2),
    ("average-pooling-between-chains",
     _pooling_between_chains("avg", pad=(1, 1), pooling_convention="full"), (2, 16, 13, 13), 2),
    # windows past the padding: oneDNN would divide differently, the pooling stays NCHW
    ("average-pooling-past-the-padding",
     _pooling_between_chains("avg", pooling_convention="full"), (2, 16, 14, 14), 0),
    ("global-pooling-into-fc", _global_pooling_into_fc, (2, 16, 7, 7), 1),
    ("lrn-between-chains", _lrn_between_chains, (2, 16, 10, 10), 2),
    ("concat-of-chains", _concat_of_chains(), (2, 16, 9, 9), 3),
    ("concat-with-an-nchw-input", _concat_of_chains(False), (2, 16, 9, 9), 0),
    ("inception-module", _inception_module, (2, 32, 14, 14), None),
    # one image: brgconv kernels on channels-last (nhwc) values; Concat copies pixel by pixel
    ("one-image-concat-of-chains", _concat_of_chains(), (1, 16, 9, 9), 3),
    # enough pixels for the copy to split over the cores
    ("one-image-large-concat-of-chains", _concat_of_chains(), (1, 16, 67, 67), 3),
    ("one-image-max-pooling", _pooling_between_chains(), (1, 16, 13, 13), 2),
    ("one-image-lrn", _lrn_between_chains, (1, 16, 10, 10), 2),
    ("one-image-residual-units", _residual_units, (1, 16, 12, 12), None),
    ("one-image-inception-module", _inception_module, (1, 32, 14, 14), None),
]


# oneDNN's LRN kernel for blocked and channels-last values (AVX-512) rounds differently from
# its kernel for NCHW (AVX2) in the last bit, which the next convolution carries: those graphs
# agree to float32 rounding.
ROUNDED = {"lrn-between-chains", "one-image-lrn"}


@pytest.mark.parametrize("case", HANDOFFS, ids=[c[0] for c in HANDOFFS])
def test_handoffs_in_onednn_layout_give_the_same_bytes(case, monkeypatch):
    """Fused chains, Pooling and Concat hand values on in oneDNN's layout, only where nothing
    else reads them (another operator, the graph's outputs) and the readers take that layout.
    The results are the same bytes as with every hand-off through NCHW
    (MXNEXT_CHAIN_LAYOUTS=0; ROUNDED: to float32 rounding), and within float32 rounding of the
    operators run one by one."""
    name, make, shape, want_kept = case
    sym = make()
    ex = _bind(sym, {"data": shape})
    ex.forward(is_train=False)
    got = [o.asnumpy() for o in ex.outputs]
    kept = _report(ex)["kept_layouts"]
    assert kept == want_kept if want_kept is not None else kept > 0
    monkeypatch.setenv("MXNEXT_CHAIN_LAYOUTS", "0")
    through_nchw = _bind(sym, {"data": shape})
    through_nchw.forward(is_train=False)
    assert _report(through_nchw)["kept_layouts"] == 0
    for g, r in zip(got, through_nchw.outputs):
        if name in ROUNDED:
            np.testing.assert_allclose(g, r.asnumpy(), rtol=1e-5, atol=1e-6)
        else:
            assert g.tobytes() == r.asnumpy().tobytes()
    monkeypatch.setenv("MXNEXT_FUSE", "0")
    plain = _bind(sym, {"data": shape})
    plain.forward(is_train=False)
    for g, p in zip(got, plain.outputs):
        p = p.asnumpy()
        np.testing.assert_allclose(g, p, rtol=1e-4, atol=1e-4 * np.abs(p).max())


def test_no_handoff_for_a_batch_in_several_calls(monkeypatch):
    monkeypatch.setenv("MXNEXT_ONEDNN_CHUNK_BYTES", str(16 * 10 * 10 * 4))  # one image a call
    ex = _bind(_two_chains(), {"data": (3, 16, 10, 10)})
    ex.forward(is_train=False)
    assert _report(ex)["kept_layouts"] == 0
    got = ex.outputs[0].asnumpy()
    monkeypatch.delenv("MXNEXT_ONEDNN_CHUNK_BYTES")
    whole = _bind(_two_chains(), {"data": (3, 16, 10, 10)})
    whole.forward(is_train=False)
    assert _report(whole)["kept_layouts"] == 1
    np.testing.assert_allclose(got, whole.outputs[0].asnumpy(), rtol=1e-5, atol=1e-5)


def test_a_training_forward_after_a_handoff_reads_nchw():
    """Hand-offs are decided per forward: a training forward after an inference one runs the
    operators one by one on NCHW values and gives their results."""
    sym = _data_and_addend()
    ex = sym.simple_bind(mx.cpu(), grad_req="write", data=(2, 16, 10, 10))
    rng = np.random.RandomState(0)
    for k, a in sorted(ex.arg_dict.items()):
        a[:] = rng.uniform(-1, 1, a.shape)
    ex.forward(is_train=False)
    assert _report(ex)["kept_layouts"] == 1
    ex.forward(is_train=True)
    assert _report(ex)["kept_layouts"] == 0
    train_out = ex.outputs[0].asnumpy()
    ex.backward([mx.nd.ones(ex.outputs[0].shape)])
    os.environ["MXNEXT_FUSE"] = "0"
    try:
        plain = sym.simple_bind(mx.cpu(), grad_req="write", data=(2, 16, 10, 10))
    finally:
        del os.environ["MXNEXT_FUSE"]
    for k, a in ex.arg_dict.items():
        plain.arg_dict[k][:] = a
    plain.forward(is_train=True)
    assert plain.outputs[0].asnumpy().tobytes() == train_out.tobytes()


def test_handoffs_between_fused_and_unfused_chains(monkeypatch):
    """At the default threshold a small convolution's chain runs unfused, one operator after
    another on NCHW: a fused chain next to it hands its output over in NCHW, while two fused
    chains in a row keep theirs."""
    monkeypatch.setenv("MXNEXT_ONEDNN", "1")
    d = mx.sym.Variable("data")
    big1 = _chain(d, 16, "big1")                        # 7.2M multiply-adds: fused
    small = _chain(big1, 16, "small", kernel=(1, 1))    # 0.8M: below 2^22, unfused
    big2 = _chain(small, 16, "big2")
    sym = _chain(big2, 16, "big3")                      # big2 -> big3: kept
    shape = {"data": (1, 16, 56, 56)}
    ex = _bind(sym, shape)
    ex.forward(is_train=False)
    assert _report(ex)["kept_layouts"] == 1
    got = ex.outputs[0].asnumpy()
    monkeypatch.setenv("MXNEXT_CHAIN_LAYOUTS", "0")
    ref = _bind(sym, shape)
    ref.forward(is_train=False)
    assert got.tobytes() == ref.outputs[0].asnumpy().tobytes()


def test_kept_layouts_follow_the_chains_fused_at_each_forward(monkeypatch):
    """The layouts are decided again when the set of fused chains changes between forwards of
    one executor (oneDNN off and on again): the same results each time."""
    sym = _concat_of_chains()()
    ex = _bind(sym, {"data": (2, 16, 9, 9)})
    results, kept = [], []
    for mode in ("2", "0", "2"):
        monkeypatch.setenv("MXNEXT_ONEDNN", mode)
        ex.forward(is_train=False)
        results.append(ex.outputs[0].asnumpy())
        kept.append(_report(ex)["kept_layouts"])
    assert kept == [3, 0, 3]
    assert results[0].tobytes() == results[2].tobytes()
    np.testing.assert_allclose(results[1], results[0], rtol=1e-4,
                               atol=1e-4 * np.abs(results[1]).max())


# ---- Winograd (nn_onednn.cc, winograd_for): 3x3 stride-1 chains ask oneDNN for it ----------

WINOGRAD_CASES = [c for c in HANDOFFS if c[0] in (
    "two-chains", "residual-units", "inception-module", "one-image-residual-units",
    "one-image-inception-module", "concat-of-chains", "max-pooling-between-chains")]


def _forward_with_winograd(monkeypatch, sym, shape, on):
    monkeypatch.setenv("MXNEXT_CONV_WINOGRAD", "1" if on else "0")
    ex = _bind(sym, {"data": shape})
    ex.forward(is_train=False)
    return ex, [o.asnumpy() for o in ex.outputs]


@pytest.mark.parametrize("case", WINOGRAD_CASES, ids=[c[0] for c in WINOGRAD_CASES])
def test_winograd_chains_match_the_direct_ones_and_the_operators(case, monkeypatch):
    name, make, shape, _ = case
    sym = make()
    _, wino = _forward_with_winograd(monkeypatch, sym, shape, True)
    _, direct = _forward_with_winograd(monkeypatch, sym, shape, False)
    monkeypatch.setenv("MXNEXT_FUSE", "0")
    _, plain = _forward_with_winograd(monkeypatch, sym, shape, False)
    for w, d, p in zip(wino, direct, plain):
        # float32 rounding of a different summation order: relative to the largest value
        np.testing.assert_allclose(w, d, rtol=0, atol=2e-5 * np.abs(d).max())
        np.testing.assert_allclose(w, p, rtol=0, atol=1e-4 * np.abs(p).max())


def _kernels_used(env, code):
    out = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, DNNL_VERBOSE="1", **env),
                         capture_output=True, text=True, check=True).stdout
    return {line.split(",")[4] for line in out.splitlines()  # the implementation's name
            if "_verbose,exec,cpu,convolution," in line}


def test_winograd_kernels_run_for_3x3_chains_only_when_asked():
    code = """
import numpy as np, mxnext as mx
d = mx.sym.Variable("data")
y = mx.sym.Convolution(d, kernel=(3, 3), pad=(1, 1), num_filter=32, no_bias=True, name="a")
y = mx.sym.Activation(mx.sym.BatchNorm(y, name="bn"), act_type="relu")
y = mx.sym.Convolution(y, kernel=(1, 1), num_filter=32, no_bias=True, name="b")
ex = y.simple_bind(mx.cpu(), grad_req="null", data=(2, 32, 20, 20))
ex.forward(is_train=False)
ex.outputs[0].asnumpy()
"""
    env = {"MXNEXT_ONEDNN": "2", "PYTHONPATH": os.pathsep.join(sys.path)}
    on = _kernels_used(dict(env, MXNEXT_CONV_WINOGRAD="1"), code)
    off = _kernels_used(dict(env, MXNEXT_CONV_WINOGRAD="0"), code)
    assert any("wino" in k for k in on), on
    assert not any("wino" in k for k in off), off
    assert any("wino" not in k for k in on), on  # the 1x1 convolution stays direct


def test_switching_winograd_between_forwards_rebuilds_the_weights(monkeypatch):
    sym = _residual_units()
    shape = (2, 16, 12, 12)
    monkeypatch.setenv("MXNEXT_CONV_WINOGRAD", "1")
    ex = _bind(sym, {"data": shape})
    ex.forward(is_train=False)
    builds = _report(ex)["conv_chain_builds"]
    wino = ex.outputs[0].asnumpy()
    monkeypatch.setenv("MXNEXT_CONV_WINOGRAD", "0")
    ex.forward(is_train=False)
    _, direct = _forward_with_winograd(monkeypatch, sym, shape, False)
    assert ex.outputs[0].asnumpy().tobytes() == direct[0].tobytes()
    assert _report(ex)["conv_chain_builds"] > builds
    monkeypatch.setenv("MXNEXT_CONV_WINOGRAD", "1")
    ex.forward(is_train=False)
    assert ex.outputs[0].asnumpy().tobytes() == wino.tobytes()
