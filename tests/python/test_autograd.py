"""mx.autograd: recording, variables, backward, grad, training mode; gradients of composed
expressions against NumPy formulas and central finite differences."""
import numpy as np
import pytest

import mxnext as mx


def fd_grad(f, x, eps=1e-6):
    """Central finite differences of a scalar function of a float64 array."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        g[i] = (f(xp) - f(xm)) / (2 * eps)
    return g


def test_mxnet_quick_example():
    x = mx.nd.array([1.0, 2.0, 3.0])
    x.attach_grad()
    with mx.autograd.record():
        y = x * x * 2 + 1
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), 4 * np.array([1.0, 2.0, 3.0]))


BINARY_CASES = [
    ("broadcast_add", lambda a, b: a + b), ("broadcast_sub", lambda a, b: a - b),
    ("broadcast_mul", lambda a, b: a * b), ("broadcast_div", lambda a, b: a / b),
    ("broadcast_power", lambda a, b: a ** b), ("broadcast_maximum", np.maximum),
    ("broadcast_minimum", np.minimum), ("broadcast_hypot", np.hypot),
    ("elemwise_add", lambda a, b: a + b), ("elemwise_sub", lambda a, b: a - b),
    ("elemwise_mul", lambda a, b: a * b), ("elemwise_div", lambda a, b: a / b),
    ("_power", lambda a, b: a ** b), ("_maximum", np.maximum), ("_minimum", np.minimum),
    ("broadcast_mod", np.mod), ("_mod", np.mod), ("_hypot", np.hypot),
]


SAME_SHAPES = [((2, 3), (2, 3)), ((1,), (1,))]
BROADCAST_SHAPES = SAME_SHAPES + [((2, 3), (3,)), ((4, 1, 3), (2, 1))]


@pytest.mark.parametrize("name,ref,shapes", [
    (name, ref, shapes) for name, ref in BINARY_CASES
    for shapes in (BROADCAST_SHAPES if name.startswith("broadcast") else SAME_SHAPES)])
def test_binary_gradients_against_finite_differences(name, ref, shapes):
    rng = np.random.default_rng(1)
    a = rng.uniform(0.5, 2.0, shapes[0])
    b = rng.uniform(0.5, 2.0, shapes[1])
    head = rng.uniform(-1, 1, np.broadcast_shapes(shapes[0], shapes[1]))
    xa, xb = mx.nd.array(a, dtype="float64"), mx.nd.array(b, dtype="float64")
    xa.attach_grad()
    xb.attach_grad()
    op = getattr(mx.nd, name, None) or getattr(mx.nd._internal, name)
    with mx.autograd.record():
        y = op(xa, xb)
    y.backward(mx.nd.array(head, dtype="float64"))
    np.testing.assert_allclose(xa.grad.asnumpy(), fd_grad(lambda v: (ref(v, b) * head).sum(), a),
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(xb.grad.asnumpy(), fd_grad(lambda v: (ref(a, v) * head).sum(), b),
                               rtol=1e-4, atol=1e-6)


SCALAR_CASES = {
    "_plus_scalar": lambda x: x + 3, "_minus_scalar": lambda x: x - 3,
    "_rminus_scalar": lambda x: 3 - x, "_mul_scalar": lambda x: x * 3,
    "_div_scalar": lambda x: x / 3, "_rdiv_scalar": lambda x: 3 / x,
    "_power_scalar": lambda x: x ** 3, "_rpower_scalar": lambda x: 2 ** x,
    "_mod_scalar": lambda x: x % 0.33, "_rmod_scalar": lambda x: 2.5 % x,
    "_maximum_scalar": lambda x: (mx.nd._internal._maximum_scalar(x, scalar=1.0)
                                  if isinstance(x, mx.nd.NDArray) else np.maximum(x, 1.0)),
    "_minimum_scalar": lambda x: (mx.nd._internal._minimum_scalar(x, scalar=1.0)
                                  if isinstance(x, mx.nd.NDArray) else np.minimum(x, 1.0)),
}
# The operators whose gradients the tests of this file check against finite differences (the
# coverage test of test_ops_grad.py counts them).
COVERED = sorted({name for name, _ in BINARY_CASES} | set(SCALAR_CASES))


@pytest.mark.parametrize("fn", list(SCALAR_CASES.values()) + [
    lambda x: 3 + x, lambda x: -x, lambda x: (x * x) / (x + 1) - x ** 2.5,
])
def test_scalar_and_composed_gradients(fn):
    v = np.array([[0.7, 1.3, 2.0], [1.1, 0.9, 1.6]])
    x = mx.nd.array(v, dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = fn(x)
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), fd_grad(lambda t: fn(t).sum(), v), rtol=1e-5)


def test_fan_out_accumulates_and_grad_req_add():
    x = mx.nd.array([1.0, 2.0], dtype="float64")
    x.attach_grad(grad_req="add")
    for _ in range(2):
        with mx.autograd.record():
            y = x * x + x * 3  # x used by three nodes
        y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), 2 * (2 * np.array([1.0, 2.0]) + 3))


def test_grad_returns_without_touching_dot_grad():
    x = mx.nd.array([1.0, 2.0])
    x.attach_grad()
    with mx.autograd.record():
        y = x * x
    g = mx.autograd.grad(y, x)
    np.testing.assert_allclose(g.asnumpy(), [2.0, 4.0])
    np.testing.assert_allclose(x.grad.asnumpy(), [0.0, 0.0])


def test_retain_graph():
    x = mx.nd.array([3.0])
    x.attach_grad()
    with mx.autograd.record():
        y = x * x
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [6.0])
    with pytest.raises(mx.MXNetError, match="retain_graph"):
        y.backward()


def test_unrecorded_head_is_a_clear_error():
    x = mx.nd.array([1.0])
    x.attach_grad()
    y = x * 2  # not recorded
    with pytest.raises(mx.InvalidArgumentError, match="record"):
        y.backward()


def test_pause_and_detach_stop_gradients():
    x = mx.nd.array([2.0])
    x.attach_grad()
    with mx.autograd.record():
        with mx.autograd.pause():
            c = x * 10  # constant
        y = x * c + x.detach() * 5
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [20.0])


def test_recording_state_and_training_mode():
    assert not mx.autograd.is_recording() and not mx.autograd.is_training()
    with mx.autograd.record():
        assert mx.autograd.is_recording() and mx.autograd.is_training()
        with mx.autograd.pause():
            assert not mx.autograd.is_recording() and not mx.autograd.is_training()
        with mx.autograd.predict_mode():
            assert not mx.autograd.is_training()
    with mx.autograd.record(train_mode=False):
        assert mx.autograd.is_recording() and not mx.autograd.is_training()
    assert not mx.autograd.is_recording()


def test_views_while_recording_stay_differentiable():
    v = np.arange(6, dtype=np.float64).reshape(2, 3)
    x = mx.nd.array(v, dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = x.reshape(3, 2)[1] * 2
    y.backward()
    expect = np.zeros(6)
    expect[2:4] = 2
    np.testing.assert_allclose(x.grad.asnumpy(), expect.reshape(2, 3))


def test_zero_gradient_ops_and_unused_variables():
    x = mx.nd.array([1.0, 2.0])
    z = mx.nd.array([5.0, 5.0])
    x.attach_grad()
    z.attach_grad()
    with mx.autograd.record():
        y = (x > 1.5) + x
    y.backward()
    np.testing.assert_allclose(x.grad.asnumpy(), [1.0, 1.0])
    np.testing.assert_allclose(z.grad.asnumpy(), [0.0, 0.0])
