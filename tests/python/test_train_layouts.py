"""Values kept channel-blocked through training (core/graph/train_layouts.cc): which values the
executor keeps blocked (exact counts from the memory report), and that a training forward and
backward give the results of the same graph run in NCHW (MXNEXT_TRAIN_LAYOUTS=0): outputs,
every gradient and the moving statistics, over two steps with the parameters changed between
them. On oneDNN (mode 2: every call it can run; mode 1: small convolutions on copies) to float32
rounding; with oneDNN off, where every blocked call runs the NCHW kernels on copies, to the
bit."""
import json

import numpy as np
import pytest

import mxnext as mx

ONEDNN = any("libdnnl" in line for line in open("/proc/self/maps"))
pytestmark = pytest.mark.skipif(not ONEDNN, reason="training layouts need oneDNN's block")

S = mx.sym


def _conv(x, f, name, kernel=(3, 3), stride=(1, 1), bn=True, relu=True, **kw):
    pad = tuple(k // 2 for k in kernel)
    y = S.Convolution(x, kernel=kernel, stride=stride, pad=pad, num_filter=f, no_bias=True,
                      name=name, **kw)
    if bn:
        y = S.BatchNorm(y, fix_gamma=False, name=name + "_bn")
    return S.Activation(y, act_type="relu") if relu else y


def _head(x):
    g = S.Pooling(x, global_pool=True, kernel=(1, 1), pool_type="avg")
    return S.SoftmaxOutput(S.FullyConnected(S.Flatten(g), num_hidden=5, name="fc"),
                           name="softmax")


def _resnet_unit():
    x = _conv(S.Variable("data"), 16, "c0")
    y = _conv(_conv(x, 16, "c1"), 16, "c2", relu=False)
    return _head(S.Activation(y + x, act_type="relu"))


def _projection_unit():
    x = _conv(S.Variable("data"), 16, "c0")
    y = _conv(_conv(x, 32, "c1", stride=(2, 2)), 32, "c2", relu=False)
    short = _conv(x, 32, "proj", kernel=(1, 1), stride=(2, 2), relu=False)
    return _head(S.Activation(y + short, act_type="relu"))


def _bottleneck_large_map():  # 1x1 kernels on a 16x16 map: oneDNN's NCHW GEMM path otherwise
    x = _conv(S.Variable("data"), 32, "c0")
    y = _conv(_conv(_conv(x, 16, "a", kernel=(1, 1)), 16, "b"), 32, "c", kernel=(1, 1),
              relu=False)
    return _head(S.Activation(y + x, act_type="relu"))


def _max_pool_between():
    x = _conv(S.Variable("data"), 16, "c0")
    p = S.Pooling(x, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="max")
    return _head(_conv(p, 16, "c1"))


def _avg_pool_past_padding():  # "full" windows past the padding: oneDNN divides otherwise
    x = _conv(S.Variable("data"), 16, "c0")
    p = S.Pooling(x, kernel=(3, 3), stride=(2, 2), pad=(1, 1), pool_type="avg",
                  pooling_convention="full")
    return _head(_conv(p, 16, "c1"))


def _inception_module(odd_branch=False):
    x = _conv(S.Variable("data"), 16, "c0")
    a = _conv(x, 16, "a", kernel=(1, 1))
    b = _conv(_conv(x, 16, "b1", kernel=(1, 1)), 32, "b2")
    p = S.Pooling(x, kernel=(3, 3), stride=(1, 1), pad=(1, 1), pool_type="max")
    c = _conv(p, 8 if odd_branch else 16, "c", kernel=(1, 1))
    return _head(_conv(S.Concat(a, b, c, dim=1), 16, "after"))


def _channels_off_the_block():
    return _head(_conv(_conv(S.Variable("data"), 24, "c0"), 24, "c1"))


def _read_elsewhere():  # the first ReLU's output also feeds a second loss through Flatten
    x = _conv(S.Variable("data"), 16, "c0")
    y = _conv(x, 16, "c1")
    extra = S.MakeLoss(S.mean(S.Flatten(x)))
    return S.Group([_head(y), extra])


def _internal_output():
    x = _conv(S.Variable("data"), 16, "c0")
    y = _conv(x, 16, "c1")
    return S.Group([_head(y), S.BlockGrad(x)])


def _global_stats_batchnorm():
    x = _conv(S.Variable("data"), 16, "c0")
    y = S.Convolution(x, kernel=(3, 3), pad=(1, 1), num_filter=16, no_bias=True, name="c1")
    y = S.Activation(S.BatchNorm(y, use_global_stats=True, name="c1_bn"), act_type="relu")
    return _head(_conv(y, 16, "c2"))


def _grouped_dilated_biased():
    x = _conv(S.Variable("data"), 32, "c0")
    g = _conv(x, 32, "grouped", num_group=4)
    d = S.Convolution(g, kernel=(3, 3), pad=(2, 2), dilate=(2, 2), num_filter=32,
                      no_bias=False, name="dilated")
    d = S.Activation(S.BatchNorm(d, fix_gamma=True, name="dilated_bn"), act_type="relu")
    return _head(d)


def _depthwise():
    x = _conv(S.Variable("data"), 16, "c0")
    return _head(_conv(_conv(x, 16, "dw", num_group=16), 16, "pw", kernel=(1, 1)))


# name, network, data shape, values kept blocked (the memory report's train_blocked_values)
CASES = [
    ("resnet-unit", _resnet_unit, (2, 8, 10, 10), 20),
    ("projection-unit", _projection_unit, (2, 8, 10, 10), 24),
    ("bottleneck-1x1-large-map", _bottleneck_large_map, (2, 8, 16, 16), 26),
    ("max-pool-between", _max_pool_between, (2, 8, 12, 12), 14),
    ("avg-pool-past-padding", _avg_pool_past_padding, (2, 8, 12, 12), 14),
    ("inception-module", lambda: _inception_module(False), (2, 8, 10, 10), 44),
    ("concat-branch-off-the-block", lambda: _inception_module(True), (2, 8, 10, 10), 24),
    ("channels-off-the-block", _channels_off_the_block, (2, 8, 10, 10), 0),
    ("read-elsewhere", _read_elsewhere, (2, 8, 10, 10), 6),
    ("internal-output", _internal_output, (2, 8, 10, 10), 6),
    ("global-stats-batchnorm", _global_stats_batchnorm, (2, 8, 10, 10), 12),
    ("grouped-dilated-biased", _grouped_dilated_biased, (2, 8, 10, 10), 18),
    ("depthwise", _depthwise, (2, 8, 10, 10), 18),
]


def _init(ex):
    rng = np.random.RandomState(0)
    for name in sorted(ex.arg_dict):
        a = ex.arg_dict[name]
        if name == "softmax_label":
            a[:] = rng.randint(0, 5, a.shape)
        elif name.endswith("gamma"):
            a[:] = rng.uniform(0.5, 1.5, a.shape)
        else:
            a[:] = rng.randn(*a.shape) * (0.3 if name != "data" else 1.0)
    for name in sorted(ex.aux_dict):
        ex.aux_dict[name][:] = rng.uniform(0.5, 1.5, ex.aux_dict[name].shape)


def _train(sym, data_shape, monkeypatch, layouts, steps=2, grad_req="write", infer_after=False):
    monkeypatch.setenv("MXNEXT_TRAIN_LAYOUTS", "1" if layouts else "0")
    shapes = {"data": data_shape}
    if "softmax_label" in sym.list_arguments():
        shapes["softmax_label"] = (data_shape[0],)
    ex = sym.simple_bind(mx.cpu(), grad_req=grad_req, **shapes)
    _init(ex)
    out = {}
    for step in range(steps):
        ex.forward(is_train=True)
        ex.backward()
        for k, o in enumerate(ex.outputs):
            out["step%d_out%d" % (step, k)] = o.asnumpy()
        for name, g in ex.grad_dict.items():
            if g is not None:
                out["step%d_grad_%s" % (step, name)] = g.asnumpy()
        for name in sorted(ex.arg_dict):  # new parameters for the next step
            if name not in ("data", "softmax_label") and ex.grad_dict.get(name) is not None:
                ex.arg_dict[name][:] = ex.arg_dict[name].asnumpy() - 0.1 * out[
                    "step%d_grad_%s" % (step, name)]
    for name, a in ex.aux_dict.items():
        out["aux_" + name] = a.asnumpy()
    if infer_after:
        ex.forward(is_train=False)
        out["inference"] = ex.outputs[0].asnumpy()
    return out, json.loads(ex.memory_report())["train_blocked_values"]


def _assert_close(blocked, plain, exact):
    assert blocked.keys() == plain.keys()
    for k in plain:
        if exact:
            np.testing.assert_array_equal(blocked[k], plain[k], err_msg=k)
        else:
            # gradients of biases before a BatchNorm are float32 noise around 0: scale the
            # tolerance to each array's largest value
            scale = max(np.abs(plain[k]).max(), 1e-2)
            np.testing.assert_allclose(blocked[k], plain[k], rtol=0, atol=2e-4 * scale,
                                       err_msg=k)


# 2: every call oneDNN can run; 1 (the default): small convolutions decline it and run on
# copies, beside BatchNorm on oneDNN; 0: everything on copies.
@pytest.mark.parametrize("onednn", ["2", "1", "0"], ids=["onednn", "threshold", "onednn-off"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_blocked_training_gives_the_nchw_results(case, onednn, monkeypatch):
    _, build, shape, count = case
    monkeypatch.setenv("MXNEXT_ONEDNN", onednn)
    sym = build()
    plain, none = _train(sym, shape, monkeypatch, layouts=False)
    blocked, kept = _train(sym, shape, monkeypatch, layouts=True)
    assert none == 0
    assert kept == count
    _assert_close(blocked, plain, exact=onednn == "0")


def test_batch_in_chunks_of_one_image(monkeypatch):
    monkeypatch.setenv("MXNEXT_ONEDNN", "2")
    monkeypatch.setenv("MXNEXT_ONEDNN_CHUNK_BYTES", "1")
    sym = _projection_unit()
    plain, _ = _train(sym, (3, 8, 10, 10), monkeypatch, layouts=False)
    blocked, kept = _train(sym, (3, 8, 10, 10), monkeypatch, layouts=True)
    assert kept == 24
    _assert_close(blocked, plain, exact=False)


def test_data_gradient_and_grad_req_add(monkeypatch):
    monkeypatch.setenv("MXNEXT_ONEDNN", "2")
    sym = _inception_module()
    plain, _ = _train(sym, (2, 16, 10, 10), monkeypatch, layouts=False, grad_req="add")
    blocked, kept = _train(sym, (2, 16, 10, 10), monkeypatch, layouts=True, grad_req="add")
    assert "step1_grad_data" in plain and kept > 0
    _assert_close(blocked, plain, exact=False)


def test_inference_forward_after_training_reads_nchw(monkeypatch):
    monkeypatch.setenv("MXNEXT_ONEDNN", "2")
    sym = _resnet_unit()
    plain, _ = _train(sym, (2, 8, 10, 10), monkeypatch, layouts=False, infer_after=True)
    blocked, _ = _train(sym, (2, 8, 10, 10), monkeypatch, layouts=True, infer_after=True)
    _assert_close(blocked, plain, exact=False)


def test_onednn_switched_off_between_steps(monkeypatch):
    # The decision is made at bind; each call then runs oneDNN or the NCHW kernels on copies.
    sym = _resnet_unit()
    monkeypatch.setenv("MXNEXT_ONEDNN", "0")
    plain, _ = _train(sym, (2, 8, 10, 10), monkeypatch, layouts=False, steps=1)
    monkeypatch.setenv("MXNEXT_ONEDNN", "2")
    monkeypatch.setenv("MXNEXT_TRAIN_LAYOUTS", "1")
    ex = sym.simple_bind(mx.cpu(), data=(2, 8, 10, 10), softmax_label=(2,))
    monkeypatch.setenv("MXNEXT_ONEDNN", "0")
    _init(ex)
    ex.forward(is_train=True)
    ex.backward()
    for name, g in ex.grad_dict.items():
        if g is not None:
            np.testing.assert_array_equal(g.asnumpy(), plain["step0_grad_" + name], err_msg=name)


def test_blocked_steps_run_on_onednn_in_its_layout():
    # One training step of a ResNet unit, every call on oneDNN, logged by oneDNN itself:
    # BatchNorm (forward and backward) and the head's global pooling (its (N, C, 1, 1) output
    # is read by Flatten, so NCHW: run in the data's layout, then reordered) take the blocked
    # arrays as they are, and so do the convolutions after the first.
    import os
    import subprocess
    import sys
    code = ("import sys, numpy as np, mxnext as mx\n"
            f"sys.path.insert(0, {os.path.dirname(__file__)!r})\n"
            "from test_train_layouts import _resnet_unit, _init\n"
            "ex = _resnet_unit().simple_bind(mx.cpu(), data=(2, 8, 10, 10), softmax_label=(2,))\n"
            "_init(ex)\n"
            "ex.forward(is_train=True); ex.backward(); mx.nd.waitall()\n")
    env = dict(os.environ, DNNL_VERBOSE="1", MXNEXT_ONEDNN="2", MXNEXT_TRAIN_LAYOUTS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    lines = [line for line in out.splitlines() if "_verbose,exec," in line]
    blocked = "aBcd16b"

    def kind(name):
        return [line for line in lines if f",{name}," in line]
    bn = kind("batch_normalization")
    assert len(bn) == 6 and all(blocked in line for line in bn)  # 3 forward, 3 backward
    pool = kind("pooling_v2")
    assert len(pool) == 2 and all(f"src_f32::blocked:{blocked}" in line for line in pool)
    convs = kind("convolution")
    # c0 reads the NCHW data; c1 and c2 read and write blocked values, forward and backward
    inner = [line for line in convs if "ic16oc16" in line and "ic8" not in line]
    assert len(inner) >= 6 and all(line.count(blocked) >= 2 for line in inner)


def _fit_digits(monkeypatch, layouts, num_epoch=10, lr=0.05):
    # A small CNN (two blocks of 16 channels, BatchNorm, a residual add, pooling) trained with
    # Module.fit on scikit-learn's digits (8x8 images), evaluated between epochs.
    from sklearn.datasets import load_digits
    monkeypatch.setenv("MXNEXT_TRAIN_LAYOUTS", "1" if layouts else "0")
    digits = load_digits()
    x = (digits.images[:512] / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    y = digits.target[:512].astype(np.float32)
    train = mx.io.NDArrayIter(x[:384], y[:384], batch_size=64)
    val = mx.io.NDArrayIter(x[384:], y[384:], batch_size=64)
    d = _conv(S.Variable("data"), 16, "c0")
    r = _conv(_conv(d, 16, "c1"), 16, "c2", relu=False)
    p = S.Pooling(S.Activation(r + d, act_type="relu"), kernel=(2, 2), stride=(2, 2),
                  pool_type="max")
    net = S.SoftmaxOutput(S.FullyConnected(S.Flatten(p), num_hidden=10, name="fc"),
                          name="softmax")
    mx.random.seed(0)
    mod = mx.mod.Module(net, context=mx.cpu())
    mod.fit(train, eval_data=val, num_epoch=num_epoch, optimizer="sgd",
            optimizer_params={"learning_rate": lr, "momentum": 0.9},
            initializer=mx.init.Xavier(), eval_metric="acc")
    args, aux = mod.get_params()
    score = dict(mod.score(val, "acc"))["accuracy"]
    return {k: v.asnumpy() for k, v in {**args, **aux}.items()}, score


def test_module_fit_with_blocked_training(monkeypatch):
    monkeypatch.setenv("MXNEXT_ONEDNN", "2")
    plain, plain_acc = _fit_digits(monkeypatch, layouts=False)
    blocked, blocked_acc = _fit_digits(monkeypatch, layouts=True)
    assert plain_acc > 0.8 and abs(blocked_acc - plain_acc) <= 2 / 128
    # 60 SGD steps with momentum apart only by float32 rounding, which training amplifies (0.7%
    # of the largest weight here): close, not equal
    for k in plain:
        np.testing.assert_allclose(blocked[k], plain[k], rtol=0,
                                   atol=2e-2 * max(np.abs(plain[k]).max(), 1e-2), err_msg=k)
