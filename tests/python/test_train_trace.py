"""A training trace made with Apache MXNet 1.9.1 (tests/data/train/make_trace.py) reproduced
step by step by mxnext's Module: same network, initial parameters, data and SGD (momentum 0.9,
wd 0.01 with MXNet's wd_mult 0 for biases), on one context and on two (kvstore 'local')."""
import os

import numpy as np
import pytest

import mxnext as mx

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "train")
BATCH = 16


def net():
    data = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(data, num_hidden=16, name="fc1")
    act = mx.sym.Activation(fc1, act_type="relu", name="relu1")
    fc2 = mx.sym.FullyConnected(act, num_hidden=10, name="fc2")
    return mx.sym.SoftmaxOutput(fc2, name="softmax")


@pytest.mark.parametrize("tag,ctx", [("single", [mx.cpu(0)]),
                                     ("two_ctx", [mx.cpu(0), mx.cpu(1)])])
def test_module_reproduces_mxnet_trace(tag, ctx):
    trace = np.load(os.path.join(DATA, "trace_%s.npz" % tag))
    data, label = trace["data"], trace["label"]
    init = {k[5:]: trace[k] for k in trace.files if k.startswith("init:")}
    mod = mx.mod.Module(net(), data_names=["data"], label_names=["softmax_label"], context=ctx)
    mod.bind(data_shapes=[("data", (BATCH, 20))], label_shapes=[("softmax_label", (BATCH,))])
    mod.init_params(arg_params={k: mx.nd.array(v) for k, v in init.items()})
    mod.init_optimizer(kvstore="local", optimizer="sgd",
                       optimizer_params={"learning_rate": 0.1, "momentum": 0.9, "wd": 0.01})
    steps = len(data) // BATCH
    assert steps == 10
    worst = 0.0
    for step in range(steps):
        sl = slice(step * BATCH, (step + 1) * BATCH)
        batch = mx.io.DataBatch([mx.nd.array(data[sl])], [mx.nd.array(label[sl])])
        mod.forward_backward(batch)
        mod.update()
        args, _ = mod.get_params()
        for name in init:
            expected = trace["step%d:%s" % (step, name)]
            got = args[name].asnumpy()
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6,
                                       err_msg=f"{tag}: step {step}, {name}")
            worst = max(worst, float(np.max(np.abs(got - expected))))
    # The parameters did move (the trace is not trivially constant).
    assert not np.allclose(trace["step9:fc1_weight"], init["fc1_weight"])
    assert worst < 1e-5
