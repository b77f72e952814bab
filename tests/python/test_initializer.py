"""Initializers: MXNet's name-suffix rules, the __init__ attribute, statistics of each
distribution, determinism by seed, Mixed, Load, Orthogonal, Bilinear."""
import json

import numpy as np
import pytest

import mxnext as mx


def _init(initializer, name, shape, attrs=None):
    arr = mx.nd.zeros(shape)
    initializer(mx.init.InitDesc(name, attrs), arr)
    return arr.asnumpy()


def test_suffix_rules():
    init = mx.init.Uniform(0.1)
    w = _init(init, "fc1_weight", (50, 40))
    assert np.abs(w).max() <= 0.1 and w.std() > 0.04
    assert (_init(init, "fc1_bias", (5,)) == 0).all()
    assert (_init(init, "bn_gamma", (5,)) == 1).all()
    assert (_init(init, "bn_beta", (5,)) == 0).all()
    assert (_init(init, "bn_moving_mean", (5,)) == 0).all()
    assert (_init(init, "bn_moving_var", (5,)) == 1).all()
    with pytest.raises(ValueError, match="Unknown initialization pattern for foo"):
        _init(init, "foo", (3,))


def test_init_attribute_wins():
    init = mx.init.Uniform(0.1)
    out = _init(init, "fc1_bias", (4, 6), {"__init__": '["constant", {"value": 3.5}]'})
    assert (out == 3.5).all()
    out = _init(init, "anything", (3,), {"__init__": mx.init.One().dumps()})
    assert (out == 1).all()
    x = mx.init.Xavier(rnd_type="gaussian", magnitude=2)
    assert json.loads(x.dumps()) == ["xavier", {"rnd_type": "gaussian", "factor_type": "avg",
                                                "magnitude": 2}]
    # Variable(init=...) stores the attribute; the module's initializer honours it
    v = mx.sym.Variable("v", init=mx.init.Constant(2.0))
    assert v.attr("__init__") == mx.init.Constant(2.0).dumps()


@pytest.mark.parametrize("rnd_type,factor_type,magnitude", [
    ("uniform", "avg", 3), ("gaussian", "in", 2), ("uniform", "out", 2.34)])
def test_xavier_statistics(rnd_type, factor_type, magnitude):
    shape = (64, 32, 3, 3)
    fan_in, fan_out = 32 * 9, 64 * 9
    factor = {"avg": (fan_in + fan_out) / 2, "in": fan_in, "out": fan_out}[factor_type]
    scale = np.sqrt(magnitude / factor)
    w = _init(mx.init.Xavier(rnd_type, factor_type, magnitude), "c_weight", shape)
    std = scale / np.sqrt(3) if rnd_type == "uniform" else scale
    assert w.std() == pytest.approx(std, rel=0.05)
    assert abs(w.mean()) < 0.05 * scale
    if rnd_type == "uniform":
        assert np.abs(w).max() <= scale
    with pytest.raises(ValueError, match="at least 2D"):
        _init(mx.init.Xavier(), "v_weight", (5,))


def test_normal_msra_constant_zero_one():
    w = _init(mx.init.Normal(0.5), "a_weight", (200, 100))
    assert w.std() == pytest.approx(0.5, rel=0.03)
    w = _init(mx.init.MSRAPrelu(slope=0.0), "a_weight", (100, 200))
    assert w.std() == pytest.approx(np.sqrt(2.0 / 150), rel=0.05)
    assert (_init(mx.init.Constant(0.25), "a_weight", (3, 3)) == 0.25).all()
    assert (_init(mx.init.Zero(), "a_weight", (3, 3)) == 0).all()
    assert (_init(mx.init.One(), "a_weight", (3, 3)) == 1).all()


def test_deterministic_by_seed():
    mx.random.seed(7)
    a = _init(mx.init.Xavier(), "x_weight", (10, 10))
    mx.random.seed(7)
    b = _init(mx.init.Xavier(), "x_weight", (10, 10))
    c = _init(mx.init.Xavier(), "x_weight", (10, 10))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


def test_orthogonal_and_bilinear():
    w = _init(mx.init.Orthogonal(scale=1.0), "o_weight", (8, 20))
    np.testing.assert_allclose(w @ w.T, np.eye(8), atol=1e-5)
    w = _init(mx.init.Orthogonal(scale=2.0, rand_type="normal"), "o_weight", (20, 2, 2, 2))
    m = w.reshape(20, 8)
    np.testing.assert_allclose(m.T @ m, 4 * np.eye(8), atol=1e-4)
    b = _init(mx.init.Bilinear(), "up_weight", (1, 1, 4, 4))
    shape = (1, 1, 4, 4)
    ref = np.zeros(16, np.float32)
    f = np.ceil(shape[3] / 2.0)
    c = (2 * f - 1 - f % 2) / (2.0 * f)
    for i in range(16):
        x, y = i % 4, (i // 4) % 4
        ref[i] = (1 - abs(x / f - c)) * (1 - abs(y / f - c))
    np.testing.assert_allclose(b.ravel(), ref, rtol=1e-6)


def test_mixed_and_load(tmp_path):
    mixed = mx.init.Mixed(["fc1.*", ".*"], [mx.init.Constant(5.0), mx.init.Zero()])
    assert (_init(mixed, "fc1_weight", (2, 2)) == 5).all()
    assert (_init(mixed, "fc2_weight", (2, 2)) == 0).all()
    strict = mx.init.Mixed(["fc1.*"], [mx.init.One()])
    with pytest.raises(ValueError, match="did not match any pattern"):
        _init(strict, "fc2_weight", (2, 2))
    fname = str(tmp_path / "p.params")
    mx.nd.save(fname, {"arg:fc_weight": mx.nd.ones((2, 3)) * 4})
    load = mx.init.Load(fname, default_init=mx.init.Constant(9.0))
    assert (_init(load, "fc_weight", (2, 3)) == 4).all()
    assert (_init(load, "other_weight", (2,)) == 9).all()
    with pytest.raises(mx.ShapeError):
        _init(load, "fc_weight", (3, 3))
    with pytest.raises(ValueError, match="Cannot Initialize"):
        _init(mx.init.Load({"a": mx.nd.ones((1,))}), "b_weight", (1,))


def test_create():
    assert isinstance(mx.init.create("xavier"), mx.init.Xavier)
    x = mx.init.create('["xavier", {"magnitude": 2}]')
    assert isinstance(x, mx.init.Xavier) and x._kwargs["magnitude"] == 2
    assert isinstance(mx.init.create("zeros"), mx.init.Zero)
    with pytest.raises(ValueError):
        mx.init.create("nope")
