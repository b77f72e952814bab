"""Bulked inference forwards (Executor::forward, Engine::begin_bulk / push_replay): an
inference forward runs as one engine operation, and later ones replay it. Checked against the
same graph bound with MXNEXT_EXEC_BULK_INFERENCE=0 (every step its own operation): outputs bit
for bit over new data and new weights, re-recording when the fused chains change, no replay
where a forward draws random numbers, run-time failures, and training forwards in between."""
import json
import os
import sys

import numpy as np
import pytest

import mxnext as mx

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))
from symbols import inception_bn, resnet  # noqa: E402
from test_conv_chains import ONEDNN, fill_params  # noqa: E402


def _report(ex):
    mx.nd.waitall()
    return json.loads(ex.memory_report())


def _small_cnn():
    d = mx.sym.Variable("data")
    y = mx.sym.Convolution(d, kernel=(3, 3), pad=(1, 1), num_filter=16, name="c1")
    y = mx.sym.Activation(mx.sym.BatchNorm(y, name="bn1"), act_type="relu")
    y = mx.sym.Pooling(y, kernel=(2, 2), stride=(2, 2), pool_type="max")
    y = mx.sym.Dropout(y, p=0.5)  # mode 'training': no random numbers in inference
    y = mx.sym.FullyConnected(mx.sym.Flatten(y), num_hidden=10, name="fc")
    return mx.sym.softmax(y)


def _residual():
    y = resnet.basic(mx.sym.Variable("data"), 16, (1, 1), True, "u1")
    return resnet.bottleneck(y, 32, (2, 2), False, "u2")


def _inception():
    x = inception_bn.inception_a(mx.sym.Variable("data"), 16, 16, 32, 16, 32, "avg", 16, "3a")
    return inception_bn.inception_b(x, 32, 48, 16, 32, "3c")


def _mlp():
    y = mx.sym.FullyConnected(mx.sym.Variable("data"), num_hidden=32, name="f1")
    y = mx.sym.relu(mx.sym.tanh(y) * 2 + 0.5)
    return mx.sym.FullyConnected(y, num_hidden=4, name="f2")


NETS = [
    ("small-cnn", _small_cnn, (2, 3, 12, 12)),
    ("residual", _residual, (2, 16, 12, 12)),
    ("inception", _inception, (1, 16, 14, 14)),
    ("mlp", _mlp, (3, 20)),
]


def _bind(sym, shape, bulk, monkeypatch, for_training=False):
    monkeypatch.setenv("MXNEXT_EXEC_BULK_INFERENCE", "1" if bulk else "0")  # read at bind
    ex = sym.simple_bind(mx.cpu(), grad_req="write" if for_training else "null", data=shape)
    monkeypatch.delenv("MXNEXT_EXEC_BULK_INFERENCE")
    return ex


def _pair(make, shape, monkeypatch, for_training=False):
    sym = make()
    bulked = _bind(sym, shape, True, monkeypatch, for_training)
    plain = _bind(sym, shape, False, monkeypatch, for_training)
    fill_params(bulked, 1)
    fill_params(plain, 1)
    return bulked, plain


def _same_outputs(a, b):
    for x, y in zip(a.outputs, b.outputs):
        np.testing.assert_array_equal(x.asnumpy(), y.asnumpy())


@pytest.mark.parametrize("name,make,shape", NETS, ids=[n[0] for n in NETS])
def test_replayed_forwards_match_the_unbulked_executor(name, make, shape, monkeypatch):
    bulked, plain = _pair(make, shape, monkeypatch)
    rng = np.random.RandomState(7)
    for i in range(4):
        data = rng.uniform(-1, 1, shape)
        if i == 2:  # new weights too: kernels that keep prepared weights must see them
            fill_params(bulked, 3)
            fill_params(plain, 3)
        bulked.forward(is_train=False, data=data)
        plain.forward(is_train=False, data=data)
        _same_outputs(bulked, plain)
    assert _report(bulked)["replayed_forwards"] == 3
    assert _report(plain)["replayed_forwards"] == 0


@pytest.mark.skipif(not ONEDNN, reason="conv chains fuse on oneDNN only")
def test_a_forward_with_other_fused_chains_is_recorded_again(monkeypatch):
    bulked, plain = _pair(_residual, (2, 16, 12, 12), monkeypatch)
    data = np.random.RandomState(2).uniform(-1, 1, (2, 16, 12, 12))
    replays = []
    for mode in ("2", "0", "0", "2"):  # oneDNN off: no chain fuses, another set of operations
        monkeypatch.setenv("MXNEXT_ONEDNN", mode)
        bulked.forward(is_train=False, data=data)
        plain.forward(is_train=False, data=data)
        _same_outputs(bulked, plain)
        replays.append(_report(bulked)["replayed_forwards"])
    assert replays == [0, 0, 1, 1]


def test_forwards_that_draw_random_numbers_are_not_replayed(monkeypatch):
    d = mx.sym.Variable("data")
    sym = mx.sym.Dropout(d * 1.0, p=0.5, mode="always")
    ex = _bind(sym, (64,), True, monkeypatch)
    outs = []
    for _ in range(3):
        ex.forward(is_train=False, data=np.ones(64))
        outs.append(ex.outputs[0].asnumpy())
    assert _report(ex)["replayed_forwards"] == 0
    assert not np.array_equal(outs[0], outs[1])  # new masks every time
    assert set(np.unique(outs[2])) <= {0.0, 2.0}


def test_inference_dropout_leaves_the_random_stream_alone(monkeypatch):
    ex = _bind(mx.sym.Dropout(mx.sym.Variable("data"), p=0.5), (8,), True, monkeypatch)
    mx.random.seed(11)
    expect = mx.random.uniform(shape=(5,)).asnumpy()
    mx.random.seed(11)
    ex.forward(is_train=False, data=np.ones(8))
    ex.forward(is_train=False, data=np.ones(8))
    np.testing.assert_array_equal(ex.outputs[0].asnumpy(), np.ones(8))
    np.testing.assert_array_equal(mx.random.uniform(shape=(5,)).asnumpy(), expect)


def test_a_failure_inside_a_replay_is_reported_and_the_next_forward_recovers(monkeypatch):
    idx = mx.sym.Variable("idx")
    table = mx.sym.Variable("table")
    sym = mx.sym.take(table, idx, mode="raise") * 2
    monkeypatch.setenv("MXNEXT_EXEC_BULK_INFERENCE", "1")
    ex = sym.simple_bind(mx.cpu(), grad_req="null", table=(4, 3), idx=(2,))
    t = np.arange(12.0).reshape(4, 3)
    ex.forward(is_train=False, table=t, idx=np.array([0, 3]))
    np.testing.assert_array_equal(ex.outputs[0].asnumpy(), t[[0, 3]] * 2)
    ex.forward(is_train=False, table=t, idx=np.array([1, 9]))  # replayed; fails when it runs
    with pytest.raises(mx.MXNetError, match="out of range"):
        ex.outputs[0].asnumpy()
    ex.forward(is_train=False, table=t, idx=np.array([2, 1]))
    np.testing.assert_array_equal(ex.outputs[0].asnumpy(), t[[2, 1]] * 2)
    assert _report(ex)["replayed_forwards"] == 2


def test_training_forwards_in_between_are_not_bulked_and_stay_right(monkeypatch):
    bulked, plain = _pair(_small_cnn, (2, 3, 12, 12), monkeypatch, for_training=True)
    rng = np.random.RandomState(3)
    for train in (False, True, False, False, True, False):
        data = rng.uniform(-1, 1, (2, 3, 12, 12))
        mx.random.seed(5)  # the same dropout masks in training
        bulked.forward(is_train=train, data=data)
        mx.random.seed(5)
        plain.forward(is_train=train, data=data)
        _same_outputs(bulked, plain)
        if train:
            bulked.backward()
            plain.backward()
            for k in bulked.grad_dict:
                np.testing.assert_array_equal(bulked.grad_dict[k].asnumpy(),
                                              plain.grad_dict[k].asnumpy())
    for k in bulked.aux_dict:  # moving statistics updated by the training forwards alike
        np.testing.assert_array_equal(bulked.aux_dict[k].asnumpy(), plain.aux_dict[k].asnumpy())
    assert _report(bulked)["replayed_forwards"] == 3  # training forwards keep the recording
