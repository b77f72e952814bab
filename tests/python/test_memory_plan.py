"""The memory planner on the classic networks (examples/symbols): internal memory (all
values but parameters, inputs and outputs) with planning against without, for training and
inference, as DESIGN §5 and issue 4 ask; and planned results equal unplanned ones."""
import json
import os
import sys

import numpy as np
import pytest

import mxnext as mx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "examples"))
from symbols import NETWORKS  # noqa: E402
from plan_check import check_plan_is_valid  # noqa: E402

# Inference bounds: a quarter (AlexNet reaches 0.248 only because LRN's hidden normaliser, which
# no backward pass reads in an inference bind, gets no storage; see docs/architecture.md).
INFERENCE_BOUND = {"alexnet": 0.25, "vgg16": 0.25, "inception-bn": 0.25, "resnet50": 0.25}


def plan(sym, train):
    req = {n: ("write" if train and n not in ("data", "softmax_label") else "null")
           for n in sym.list_arguments()}
    exe = sym.simple_bind(mx.cpu(), grad_req=req, data=(1, 3, 224, 224))
    return json.loads(exe.memory_report())


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_planning_at_least_halves_training_and_quarters_inference(name):
    sym = NETWORKS[name](num_classes=10)
    train = plan(sym, True)
    assert train["planned_bytes"] <= 0.5 * train["unplanned_bytes"], train["planned_bytes"]
    assert train["inplace_saved_bytes"] > 0
    infer = plan(sym, False)
    assert infer["planned_bytes"] <= INFERENCE_BOUND[name] * infer["unplanned_bytes"]
    check_plan_is_valid(train)
    check_plan_is_valid(infer)
    assert infer["gradients_bytes"] == 0


def test_planned_training_step_equals_unplanned_on_a_small_resnet(monkeypatch):
    from symbols import resnet
    sym = resnet.get_symbol(num_classes=4, units=(1, 1), filters=(16, 32))
    rng = np.random.default_rng(0)
    values = None
    results = []
    for flag in ("1", "0"):
        monkeypatch.setenv("MXNEXT_MEMORY_PLAN", flag)
        exe = sym.simple_bind(mx.cpu(), data=(2, 3, 32, 32))
        if values is None:
            values = {n: rng.normal(0, 0.3, a.shape).astype(np.float32)
                      for n, a in exe.arg_dict.items()}
            values["softmax_label"] = np.array([1, 3], np.float32)
        for n, a in exe.arg_dict.items():
            a[:] = values[n]
        for a in exe.aux_dict.values():
            a[:] = 1.0
        exe.forward(is_train=True)
        exe.backward()
        results.append((exe.outputs[0].asnumpy(),
                        {n: g.asnumpy() for n, g in exe.grad_dict.items()},
                        {n: a.asnumpy() for n, a in exe.aux_dict.items()}))
    (o1, g1, a1), (o2, g2, a2) = results
    np.testing.assert_array_equal(o1, o2)
    for n in g1:
        np.testing.assert_array_equal(g1[n], g2[n], err_msg=n)
    for n in a1:
        np.testing.assert_array_equal(a1[n], a2[n], err_msg=n)


def branchy_net():
    """Three stages of three parallel conv branches: the threaded engine runs branches at
    once, so blocks that share memory at different steps must still be ordered."""
    x = mx.sym.Variable("data")
    for i in range(3):
        branches = []
        for j in range(3):
            b = mx.sym.Convolution(x, num_filter=8, kernel=(3, 3), pad=(1, 1), name=f"c{i}{j}")
            b = mx.sym.Activation(b, act_type="relu")
            b = mx.sym.Convolution(b, num_filter=8, kernel=(1, 1), name=f"d{i}{j}")
            branches.append(mx.sym.Activation(b, act_type="tanh"))
        shortcut = mx.sym.Convolution(x, num_filter=24, kernel=(1, 1), name=f"s{i}")
        x = mx.sym.Concat(*branches) + shortcut
    x = mx.sym.Pooling(x, kernel=(2, 2), stride=(2, 2), pool_type="max")
    return mx.sym.SoftmaxOutput(mx.sym.FullyConnected(x, num_hidden=5), name="softmax")


def test_shared_memory_is_ordered_across_parallel_branches_and_passes(monkeypatch):
    # Without the plan's ordering of blocks that share memory this differs in ~1,000 arrays.
    results = []
    for flag in ("1", "0"):
        monkeypatch.setenv("MXNEXT_MEMORY_PLAN", flag)
        exe = branchy_net().simple_bind(mx.cpu(), data=(4, 3, 24, 24))
        check_plan_is_valid(json.loads(exe.memory_report()))
        rng = np.random.default_rng(0)
        for n, a in exe.arg_dict.items():
            a[:] = rng.integers(0, 5, a.shape) if n == "softmax_label" else rng.normal(0, .3, a.shape)
        passes = []
        for _ in range(30):  # no waits between passes: pass k+1 overlaps pass k's tail
            exe.arg_dict["data"][:] = rng.normal(0, 1, (4, 3, 24, 24))
            exe.forward(is_train=True)
            exe.backward()
            passes.append([exe.outputs[0].asnumpy()] +
                          [g.asnumpy() for g in exe.grad_arrays if g is not None])
        results.append(passes)
    for planned, unplanned in zip(*results):
        for a, b in zip(planned, unplanned):
            np.testing.assert_array_equal(a, b)
