"""Optimizers (core state, fused update operators) against NumPy implementations of Apache
MXNet 1.9.1's formulas, several steps each; learning-rate schedulers; lr/wd multipliers;
multi-precision; state save/load."""
import math

import numpy as np
import pytest

import mxnext as mx

SHAPE = (4, 5)


def _data(seed, steps):
    rng = np.random.RandomState(seed)
    w = rng.randn(*SHAPE).astype(np.float32)
    grads = [rng.randn(*SHAPE).astype(np.float32) * 3 for _ in range(steps)]
    return w, grads


def _clip(g, c):
    return g if c is None else np.clip(g, -c, c)


def ref_sgd(w, grads, lr, wd, rescale, clip, momentum):
    w = w.astype(np.float32).copy()
    mom = np.zeros_like(w)
    for g in grads:
        g = _clip(rescale * g, clip)
        if momentum:
            mom = momentum * mom - lr * wd * w - lr * g
            w = w + mom
        else:
            w = (1 - lr * wd) * w - lr * g
    return w


def ref_nag(w, grads, lr, wd, rescale, clip, momentum):
    w = w.copy()
    mom = np.zeros_like(w)
    for g in grads:
        g = _clip(rescale * g, clip) + wd * w
        m1 = momentum * mom
        w = w - m1 + (momentum + 1) * (m1 - lr * g)
        mom = m1 - lr * g
    return w


def ref_adam(w, grads, lr, wd, rescale, clip, b1=0.9, b2=0.999, eps=1e-8):
    w = w.copy()
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t, g in enumerate(grads, 1):
        lr_t = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        g = _clip(rescale * g + wd * w, clip)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr_t * m / (np.sqrt(v) + eps)
    return w


def ref_rmsprop(w, grads, lr, wd, rescale, clip, gamma1=0.9, eps=1e-8):
    w = w.copy()
    n = np.zeros_like(w)
    for g in grads:
        g = _clip(rescale * g + wd * w, clip)
        n = (1 - gamma1) * g * g + gamma1 * n
        w = w - lr * g / np.sqrt(n + eps)
    return w


def ref_rmsprop_centered(w, grads, lr, wd, rescale, clip, gamma1=0.9, gamma2=0.9, eps=1e-8):
    w = w.copy()
    n = np.zeros_like(w)
    gm = np.zeros_like(w)
    d = np.zeros_like(w)
    for g in grads:
        g = _clip(rescale * g + wd * w, clip)
        n = (1 - gamma1) * g * g + gamma1 * n
        gm = (1 - gamma1) * g + gamma1 * gm
        d = gamma2 * d - lr * g / np.sqrt(n - gm * gm + eps)
        w = w + d
    return w


def ref_adagrad(w, grads, lr, wd, rescale, clip, eps=1e-7):
    w = w.copy()
    h = np.zeros_like(w)
    for g in grads:
        g = _clip(rescale * g, clip)
        h = h + g * g
        w = w - lr * (g / np.sqrt(h + eps) + wd * w)
    return w


def ref_adadelta(w, grads, lr, wd, rescale, clip, rho=0.9, eps=1e-5):
    w = w.copy()
    acc_g = np.zeros_like(w)
    acc_d = np.zeros_like(w)
    for g in grads:
        g = _clip(rescale * g, clip)
        acc_g = rho * acc_g + (1 - rho) * g * g
        delta = np.sqrt(acc_d + eps) / np.sqrt(acc_g + eps) * g
        acc_d = rho * acc_d + (1 - rho) * delta * delta
        w = w - (delta + wd * w)
    return w


def ref_ftrl(w, grads, lr, wd, rescale, clip, lamda1=0.01, beta=1.0):
    w = w.copy()
    z = np.zeros_like(w)
    n = np.zeros_like(w)
    for g in grads:
        g = _clip(rescale * g, clip)
        z = z + g - (np.sqrt(n + g * g) - np.sqrt(n)) * w / lr
        n = n + g * g
        w = (np.sign(z) * lamda1 - z) / ((beta + np.sqrt(n)) / lr + wd) * (np.abs(z) > lamda1)
    return w


def ref_signum(w, grads, lr, wd, rescale, clip, momentum=0.9, wd_lh=0.0):
    w = w.copy()
    m = np.zeros_like(w)
    for g in grads:
        m = momentum * m - (1 - momentum) * wd * w - (1 - momentum) * _clip(rescale * g, clip)
        w = (1 - lr * wd_lh) * w + lr * np.sign(m)
    return w


CASES = [
    ("sgd", dict(momentum=0.0), ref_sgd, dict(momentum=0.0)),
    ("sgd", dict(momentum=0.9), ref_sgd, dict(momentum=0.9)),
    ("nag", dict(momentum=0.9), ref_nag, dict(momentum=0.9)),
    ("adam", {}, ref_adam, {}),
    ("rmsprop", {}, ref_rmsprop, {}),
    ("rmsprop", dict(centered=True), ref_rmsprop_centered, {}),
    ("adagrad", {}, ref_adagrad, {}),
    ("adadelta", {}, ref_adadelta, {}),
    ("ftrl", {}, ref_ftrl, {}),
    ("signum", dict(wd_lh=0.01), ref_signum, dict(wd_lh=0.01)),
]


@pytest.mark.parametrize("name,extra,ref,ref_extra", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
@pytest.mark.parametrize("clip", [None, 0.5])
def test_update_matches_mxnet_formula(name, extra, ref, ref_extra, clip):
    w0, grads = _data(3, 6)
    lr, wd, rescale = 0.05, 0.01, 0.5
    opt = mx.optimizer.create(name, learning_rate=lr, wd=wd, rescale_grad=rescale,
                              clip_gradient=clip, **extra)
    w = mx.nd.array(w0)
    for g in grads:
        opt.update(0, w, mx.nd.array(g), None)
    expected = ref(w0, grads, lr, wd, rescale, clip, **ref_extra)
    np.testing.assert_allclose(w.asnumpy(), expected, rtol=2e-5, atol=2e-6)
    assert opt.num_update == len(grads)


def test_classes_and_registry():
    assert isinstance(mx.optimizer.create("SGD"), mx.optimizer.SGD)
    for n in ("sgd", "nag", "adam", "rmsprop", "adagrad", "adadelta", "ftrl", "signum"):
        assert mx.optimizer.create(n).__class__.__name__.lower() == n
    assert mx.optimizer.Adam().learning_rate == pytest.approx(0.001)
    assert mx.optimizer.SGD().learning_rate == pytest.approx(0.01)
    opt = mx.optimizer.SGD(momentum=0.9, learning_rate=0.1)
    assert opt.momentum == pytest.approx(0.9)
    opt.rescale_grad = 0.25
    assert opt.rescale_grad == pytest.approx(0.25)
    opt.set_learning_rate(0.2)
    assert opt.lr == pytest.approx(0.2)
    with pytest.raises(ValueError):
        mx.optimizer.create("nope")
    with pytest.raises(TypeError):
        mx.optimizer.SGD(bogus=1)


def test_lr_wd_mult_and_idx2name():
    # MXNet: a named parameter not ending in _weight/_gamma gets wd_mult 0.
    opt = mx.optimizer.SGD(learning_rate=0.1, wd=0.5,
                           param_idx2name={0: "fc_weight", 1: "fc_bias", 2: "bn_gamma"})
    assert opt._get_wd(0) == pytest.approx(0.5)
    assert opt._get_wd(1) == pytest.approx(0.0)
    assert opt._get_wd(2) == pytest.approx(0.5)
    assert opt._get_wd(7) == pytest.approx(0.5)  # unnamed index
    opt.set_lr_mult({"fc_weight": 0.1, 1: 3.0})
    assert opt._get_lr(0) == pytest.approx(0.01)
    assert opt._get_lr(1) == pytest.approx(0.3)
    opt.set_wd_mult({"fc_bias": 2.0})
    assert opt._get_wd(1) == pytest.approx(1.0)
    # symbol attributes __lr_mult__ / __wd_mult__
    data = mx.sym.Variable("data")
    w = mx.sym.Variable("fc_weight", lr_mult=0.5, wd_mult=3.0)
    net = mx.sym.FullyConnected(data, weight=w, num_hidden=2, name="fc")
    opt = mx.optimizer.SGD(learning_rate=1.0, wd=0.1, sym=net,
                           param_idx2name={0: "fc_weight", 1: "fc_bias"})
    assert opt._get_lr(0) == pytest.approx(0.5)
    assert opt._get_wd(0) == pytest.approx(0.3)
    # string indices (KVStore string keys) look the multipliers up by name
    assert opt._get_lr("fc_weight") == pytest.approx(0.5)
    w0 = mx.nd.ones((2,))
    opt.update("fc_bias", w0, mx.nd.ones((2,)))
    np.testing.assert_allclose(w0.asnumpy(), [0.0, 0.0], atol=1e-7)




def test_lr_schedulers():
    f = mx.lr_scheduler.FactorScheduler(step=2, factor=0.5, base_lr=1.0)
    assert [f(i) for i in range(1, 8)] == pytest.approx([1, 1, 0.5, 0.5, 0.25, 0.25, 0.125])
    f = mx.lr_scheduler.FactorScheduler(step=1, factor=0.1, stop_factor_lr=1e-3, base_lr=1.0)
    assert f(10) == pytest.approx(1e-3)
    m = mx.lr_scheduler.MultiFactorScheduler(step=[2, 5], factor=0.1, base_lr=1.0)
    assert [m(i) for i in (1, 2, 3, 5, 6)] == pytest.approx([1, 1, 0.1, 0.1, 0.01])
    p = mx.lr_scheduler.PolyScheduler(max_update=10, base_lr=1.0, pwr=2, final_lr=0.0)
    assert p(5) == pytest.approx(0.25)
    assert p(10) == pytest.approx(0.0)
    c = mx.lr_scheduler.CosineScheduler(max_update=10, base_lr=1.0, final_lr=0.0)
    assert c(5) == pytest.approx(0.5)
    w = mx.lr_scheduler.CosineScheduler(max_update=20, base_lr=1.0, warmup_steps=10,
                                        warmup_begin_lr=0.0)
    assert w(5) == pytest.approx(0.5)
    assert w(10) == pytest.approx(1.0)
    assert w(15) == pytest.approx(0.5)
    wc = mx.lr_scheduler.FactorScheduler(step=100, base_lr=1.0, warmup_steps=4,
                                         warmup_begin_lr=0.2, warmup_mode="constant")
    assert wc(2) == pytest.approx(0.2)
    with pytest.raises(ValueError):
        mx.lr_scheduler.FactorScheduler(step=0)


def test_optimizer_with_scheduler_uses_num_update():
    sched = mx.lr_scheduler.FactorScheduler(step=1, factor=0.5)
    opt = mx.optimizer.SGD(learning_rate=1.0, lr_scheduler=sched)
    assert sched.base_lr == pytest.approx(1.0)
    w = mx.nd.zeros((1,))
    g = mx.nd.ones((1,))
    lrs = []
    for _ in range(3):
        before = w.asnumpy()[0]
        opt.update(0, w, g)
        lrs.append(before - w.asnumpy()[0])
    # num_update 1, 2, 3 -> lr 1, 0.5, 0.25 (MXNet's FactorScheduler: decay when n > count+step)
    assert lrs == pytest.approx([1.0, 0.5, 0.25])

    class Halving(mx.lr_scheduler.LRScheduler):
        def __call__(self, num_update):
            return self.base_lr / (2 ** (num_update - 1))

    opt = mx.optimizer.SGD(learning_rate=1.0, lr_scheduler=Halving())
    w = mx.nd.zeros((1,))
    lrs = []
    for _ in range(3):
        before = w.asnumpy()[0]
        opt.update(0, w, g)
        lrs.append(before - w.asnumpy()[0])
    assert lrs == pytest.approx([1.0, 0.5, 0.25])


def test_multi_precision_float16():
    w0, grads = _data(5, 4)
    for name in ("sgd", "adam"):
        opt = mx.optimizer.create(name, learning_rate=0.01, momentum=0.9,
                                  multi_precision=True) if name == "sgd" else \
            mx.optimizer.create(name, learning_rate=0.01, multi_precision=True)
        w = mx.nd.array(w0).astype("float16")
        for g in grads:
            opt.update(0, w, mx.nd.array(g).astype("float16"))
        states = opt.states(0)
        master = states[-1]
        assert master.dtype == np.float32
        g16 = [g.astype(np.float16).astype(np.float32) for g in grads]
        w16 = w0.astype(np.float16).astype(np.float32)
        if name == "sgd":
            expected = ref_sgd(w16, g16, 0.01, 0.0, 1.0, None, 0.9)
        else:
            expected = ref_adam(w16, g16, 0.01, 0.0, 1.0, None)
        np.testing.assert_allclose(master.asnumpy(), expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(w.asnumpy().astype(np.float32),
                                   expected.astype(np.float16).astype(np.float32))


def test_states_save_load_round_trip():
    w0, grads = _data(7, 6)
    a = mx.optimizer.Adam(learning_rate=0.01)
    wa = mx.nd.array(w0)
    for g in grads[:3]:
        a.update(1, wa, mx.nd.array(g))
        a.update("named", wa, mx.nd.array(g))
    blob = mx.optimizer.get_updater(a).get_states()
    assert blob[:8] == b"MXNOPTS1"
    b = mx.optimizer.Adam(learning_rate=0.01)
    mx.optimizer.get_updater(b).set_states(blob)
    assert b.num_update == a.num_update
    wb = wa.copy()
    for g in grads[3:]:
        a.update(1, wa, mx.nd.array(g))
        b.update(1, wb, mx.nd.array(g))
    np.testing.assert_array_equal(wa.asnumpy(), wb.asnumpy())
    with pytest.raises(mx.InvalidArgumentError):
        mx.optimizer.SGD().set_states(blob)  # another optimizer's states
    with pytest.raises(mx.FormatError):
        b.set_states(blob[:-5])
    with pytest.raises(mx.FormatError):
        b.set_states(b"garbage-garbage-garbage")
    with pytest.raises(TypeError):
        import pickle
        pickle.dumps(a)


def test_updater_calls():
    opt = mx.optimizer.SGD(learning_rate=0.5)
    upd = mx.optimizer.get_updater(opt)
    w = mx.nd.ones((3,))
    upd(0, mx.nd.ones((3,)), w)
    np.testing.assert_allclose(w.asnumpy(), 0.5)
    ws = [mx.nd.ones((2,)), mx.nd.ones((2,))]
    upd([1, 2], [mx.nd.ones((2,)), mx.nd.ones((2,)) * 2], ws)
    np.testing.assert_allclose(ws[0].asnumpy(), 0.5)
    np.testing.assert_allclose(ws[1].asnumpy(), 0.0)
    with pytest.raises(mx.ShapeError):
        upd(3, mx.nd.ones((4,)), mx.nd.ones((3,)))
