"""Symbol.bind / simple_bind and the Executor: forward against NumPy, backward against
finite differences and against autograd (the same gradient definitions), grad_req, aux
states, reshape, errors."""
import json

import numpy as np
import pytest

import mxnext as mx
from plan_check import check_plan_is_valid


def fd_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        g[i] = (f(xp) - f(xm)) / (2 * eps)
    return g


def composed():
    a = mx.sym.Variable("a")
    b = mx.sym.Variable("b")
    h = mx.sym.broadcast_mul(a, b, name="m") + mx.sym.exp(a / 3)
    return mx.sym.sum(mx.sym.tanh(h), axis=1, name="s"), \
        (lambda x, y: np.tanh(x * y + np.exp(x / 3)).sum(axis=1))


def test_forward_matches_numpy_and_backward_matches_finite_differences():
    net, ref = composed()
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, (1, 4))
    exe = net.simple_bind(mx.cpu(), a=(3, 4), b=(1, 4), type_dict={"a": "float64", "b": "float64"})
    outs = exe.forward(is_train=True, a=x, b=y)
    np.testing.assert_allclose(outs[0].asnumpy(), ref(x, y), rtol=1e-12)
    head = rng.uniform(-1, 1, (3,))
    exe.backward(mx.nd.array(head, dtype="float64"))
    np.testing.assert_allclose(exe.grad_dict["a"].asnumpy(),
                               fd_grad(lambda v: (ref(v, y) * head).sum(), x), rtol=1e-6)
    np.testing.assert_allclose(exe.grad_dict["b"].asnumpy(),
                               fd_grad(lambda v: (ref(x, v) * head).sum(), y), rtol=1e-6)


def test_executor_and_autograd_give_the_same_gradients():
    net, _ = composed()
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-1, 1, (2, 5)), rng.uniform(-1, 1, (1, 5))
    exe = net.simple_bind(mx.cpu(), a=(2, 5), b=(1, 5), type_dict={"a": "float64", "b": "float64"})
    exe.forward(is_train=True, a=x, b=y)
    exe.backward(mx.nd.ones((2,), dtype="float64"))
    xa, xb = mx.nd.array(x, dtype="float64"), mx.nd.array(y, dtype="float64")
    xa.attach_grad()
    xb.attach_grad()
    with mx.autograd.record():
        out = mx.nd.sum(mx.nd.tanh(mx.nd.broadcast_mul(xa, xb) + mx.nd.exp(xa / 3)), axis=1)
    out.backward()
    np.testing.assert_array_equal(exe.grad_dict["a"].asnumpy(), xa.grad.asnumpy())
    np.testing.assert_array_equal(exe.grad_dict["b"].asnumpy(), xb.grad.asnumpy())


def test_grad_req_null_write_add():
    a = mx.sym.Variable("a")
    b = mx.sym.Variable("b")
    net = a * b
    exe = net.simple_bind(mx.cpu(), grad_req={"a": "add", "b": "null"}, a=(2,), b=(2,))
    assert set(exe.grad_dict) == {"a"}
    for _ in range(3):
        exe.forward(is_train=True, a=np.array([1, 2]), b=np.array([5, 7]))
        exe.backward()
    np.testing.assert_array_equal(exe.grad_dict["a"].asnumpy(), [15, 21])


def test_bind_with_lists_and_dicts_and_dicts_of_outputs():
    a = mx.sym.Variable("a")
    b = mx.sym.Variable("b")
    net = mx.sym.Group([a + b, a * b])
    va, vb = mx.nd.array([1, 2]), mx.nd.array([3, 4])
    ga = mx.nd.zeros(2)
    exe = net.bind(mx.cpu(), {"a": va, "b": vb}, args_grad={"a": ga})
    exe.forward(is_train=True)
    assert list(exe.output_dict) == net.list_outputs()
    np.testing.assert_array_equal(exe.outputs[0].asnumpy(), [4, 6])
    np.testing.assert_array_equal(exe.outputs[1].asnumpy(), [3, 8])
    exe.backward([mx.nd.ones(2), mx.nd.ones(2)])
    np.testing.assert_array_equal(ga.asnumpy(), [1 + 3, 1 + 4])
    # The output arrays are the same storage after every forward.
    first = exe.outputs[0]
    exe.forward(a=np.array([10, 10]))
    np.testing.assert_array_equal(first.asnumpy(), [13, 14])


def test_copy_params_from_and_reshape():
    a = mx.sym.Variable("a")
    w = mx.sym.Variable("w")
    net = mx.sym.broadcast_mul(a, w)
    exe = net.simple_bind(mx.cpu(), a=(2, 3), w=(1, 3))
    exe.copy_params_from({"w": mx.nd.array([[1, 2, 3]])})
    exe.forward(a=np.ones((2, 3)))
    np.testing.assert_array_equal(exe.outputs[0].asnumpy(), [[1, 2, 3]] * 2)
    with pytest.raises(ValueError):
        exe.copy_params_from({"nope": mx.nd.ones(1)})
    big = exe.reshape(a=(4, 3))
    assert big.arg_dict["w"] is exe.arg_dict["w"]  # shared: same shape
    big.forward(a=np.ones((4, 3)))
    assert big.outputs[0].shape == (4, 3)


def test_bind_errors_are_clear():
    a = mx.sym.Variable("a")
    net = mx.sym.exp(a)
    with pytest.raises(ValueError, match="no array"):
        net.bind(mx.cpu(), {})
    with pytest.raises(ValueError, match=r"do not determine the shapes of \[.b.\]"):
        (a + mx.sym.Variable("b")).simple_bind(mx.cpu(), a=(2,))
    exe = net.simple_bind(mx.cpu(), a=(2,))
    with pytest.raises(mx.InvalidArgumentError, match="forward"):
        exe.backward()
    with pytest.raises(ValueError, match="not an argument"):
        exe.forward(zzz=np.ones(2))


def mlp():
    data = mx.sym.Variable("data")
    net = mx.sym.FullyConnected(data, num_hidden=16, name="fc1")
    net = mx.sym.Activation(net, act_type="relu", name="relu1")
    net = mx.sym.FullyConnected(net, num_hidden=10, name="fc2")
    return mx.sym.SoftmaxOutput(net, name="softmax")


def run_mlp(monkeypatch, plan):
    monkeypatch.setenv("MXNEXT_MEMORY_PLAN", "1" if plan else "0")
    net = mlp()
    exe = net.simple_bind(mx.cpu(), data=(8, 20), grad_req="write")
    rng = np.random.default_rng(3)
    for name, arr in exe.arg_dict.items():
        if name == "softmax_label":
            arr[:] = rng.integers(0, 10, arr.shape)
        else:
            arr[:] = rng.normal(0, 0.5, arr.shape)
    exe.forward(is_train=True)
    exe.backward()
    return exe


def test_issue_mlp_example_and_planned_equals_unplanned(monkeypatch):
    planned = run_mlp(monkeypatch, True)
    unplanned = run_mlp(monkeypatch, False)
    np.testing.assert_array_equal(planned.outputs[0].asnumpy(), unplanned.outputs[0].asnumpy())
    for name in ["fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias"]:
        g = planned.grad_dict[name].asnumpy()
        np.testing.assert_array_equal(g, unplanned.grad_dict[name].asnumpy())
        assert np.abs(g).sum() > 0, name
    rep = json.loads(planned.memory_report())
    unrep = json.loads(unplanned.memory_report())
    assert rep["unplanned_bytes"] == unrep["unplanned_bytes"]
    assert unrep["planned_bytes"] >= unrep["unplanned_bytes"]  # + alignment padding only
    assert unrep["planned_bytes"] <= unrep["unplanned_bytes"] + 64 * len(unrep["blocks"])
    assert rep["planned_bytes"] < rep["unplanned_bytes"]
    check_plan_is_valid(rep)
    check_plan_is_valid(unrep)
    assert rep["peak_bytes"] == (rep["planned_bytes"] + rep["arguments_bytes"]
                                 + rep["gradients_bytes"] + rep["aux_bytes"]
                                 + rep["outputs_bytes"])
    assert "peak" in planned.memory_report(format="table")


def test_executor_gradients_equal_autograd_on_the_mlp(monkeypatch):
    exe = run_mlp(monkeypatch, True)
    args = {n: a.copy() for n, a in exe.arg_dict.items()}
    for n in ["fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias"]:
        args[n].attach_grad()
    with mx.autograd.record():
        h = mx.nd.FullyConnected(args["data"], args["fc1_weight"], args["fc1_bias"], num_hidden=16)
        h = mx.nd.Activation(h, act_type="relu")
        h = mx.nd.FullyConnected(h, args["fc2_weight"], args["fc2_bias"], num_hidden=10)
        out = mx.nd.SoftmaxOutput(h, args["softmax_label"])
    out.backward()
    for n in ["fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias"]:
        np.testing.assert_allclose(exe.grad_dict[n].asnumpy(), args[n].grad.asnumpy(),
                                   rtol=1e-5, atol=1e-7)


def test_inference_plan_shares_more_than_training(monkeypatch):
    monkeypatch.setenv("MXNEXT_MEMORY_PLAN", "1")
    x = mx.sym.Variable("x")
    y = x
    for i in range(8):
        y = mx.sym.exp(mx.sym.sin(y)) * 2  # element-wise chain: in place
    f64 = {"x": "float64"}
    infer = y.simple_bind(mx.cpu(), grad_req="null", type_dict=f64, x=(64, 64))
    rep = json.loads(infer.memory_report())
    assert rep["inplace_saved_bytes"] > 0
    assert rep["planned_bytes"] <= rep["unplanned_bytes"] // 4
    train = y.simple_bind(mx.cpu(), grad_req="write", type_dict=f64, x=(64, 64))
    trep = json.loads(train.memory_report())
    assert trep["planned_bytes"] > rep["planned_bytes"]  # forward values kept for backward
    v = np.random.default_rng(0).uniform(-1, 1, (64, 64))
    infer.forward(x=v)
    train.forward(is_train=True, x=v)
    np.testing.assert_array_equal(infer.outputs[0].asnumpy(), train.outputs[0].asnumpy())
    expect = v
    for i in range(8):
        expect = np.exp(np.sin(expect)) * 2
    np.testing.assert_allclose(infer.outputs[0].asnumpy(), expect, rtol=1e-12)


@pytest.mark.parametrize("train", [False, True])
def test_fused_elementwise_runs_equal_unfused(monkeypatch, train):
    x = mx.sym.Variable("x")
    w = mx.sym.Variable("w")
    y = mx.sym.FullyConnected(x, w, num_hidden=8, no_bias=True, name="fc")
    for _ in range(4):
        y = mx.sym.relu(mx.sym.tanh(y * 1.5 + 0.25) * 2 - 0.1)
    y = mx.sym.sum(y, axis=1)
    rng = np.random.default_rng(4)
    xv, wv = rng.normal(size=(5, 6)), rng.normal(size=(8, 6))
    results = []
    for flag in ("1", "0"):
        monkeypatch.setenv("MXNEXT_FUSE", flag)
        exe = y.simple_bind(mx.cpu(), grad_req="write" if train else "null",
                            type_dict={"x": "float64", "w": "float64"}, x=(5, 6), w=(8, 6))
        rep = json.loads(exe.memory_report())
        if flag == "1" and not train:
            assert rep["fused_runs"] >= 1
        if flag == "0":
            assert rep["fused_runs"] == 0
        exe.forward(is_train=train, x=xv, w=wv)
        grads = None
        if train:
            exe.backward(mx.nd.ones(5, dtype="float64"))
            grads = exe.grad_dict["w"].asnumpy()
        results.append((exe.outputs[0].asnumpy(), grads))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    if train:
        np.testing.assert_array_equal(results[0][1], results[1][1])
    h = xv @ wv.T
    for _ in range(4):
        h = np.maximum(np.tanh(h * 1.5 + 0.25) * 2 - 0.1, 0)
    np.testing.assert_allclose(results[0][0], h.sum(axis=1), rtol=1e-12)
