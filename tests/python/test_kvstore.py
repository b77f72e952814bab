"""KVStore local and device: push sums lists, pull into several outputs, pushpull, broadcast,
int and str keys, set_updater with a Python function, set_optimizer with the state in the
core, optimizer state save/load round trip."""
import numpy as np
import pytest

import mxnext as mx


@pytest.fixture(params=["local", "device"])
def kv(request):
    return mx.kv.create(request.param)


def test_create_and_properties(kv):
    assert kv.type in ("local", "device")
    assert kv.rank == 0
    assert kv.num_workers == 1
    with pytest.raises(mx.NotImplementedMXNetError):
        mx.kv.create("dist_nonsense")  # the dist types need a job: tests/dist


def test_init_push_pull(kv):
    shape = (2, 3)
    kv.init(3, mx.nd.ones(shape))
    out = mx.nd.zeros(shape)
    kv.pull(3, out=out)
    np.testing.assert_array_equal(out.asnumpy(), np.ones(shape))
    # a list for one key (one value per device) is summed first, then stored
    vals = [mx.nd.ones(shape, ctx=mx.cpu(i)) * (i + 1) for i in range(3)]
    kv.push(3, vals)
    outs = [mx.nd.zeros(shape, ctx=mx.cpu(i)) for i in range(2)]
    kv.pull(3, out=outs)
    for o in outs:
        np.testing.assert_array_equal(o.asnumpy(), np.full(shape, 6.0))
    # lists of keys, str keys
    kv.init(["a", "b"], [mx.nd.zeros(shape), mx.nd.ones(shape)])
    kv.push(["a", "b"], [[mx.nd.ones(shape)] * 2, mx.nd.ones(shape) * 5])
    oa, ob = mx.nd.zeros(shape), mx.nd.zeros(shape)
    kv.pull(["a", "b"], out=[oa, ob])
    np.testing.assert_array_equal(oa.asnumpy(), np.full(shape, 2.0))
    np.testing.assert_array_equal(ob.asnumpy(), np.full(shape, 5.0))


def test_errors(kv):
    with pytest.raises(mx.InvalidArgumentError):
        kv.pull(99, out=mx.nd.zeros((1,)))
    kv.init(1, mx.nd.zeros((2,)))
    with pytest.raises(mx.InvalidArgumentError):
        kv.init(1, mx.nd.zeros((2,)))
    with pytest.raises(mx.ShapeError):
        kv.push(1, mx.nd.zeros((3,)))
    with pytest.raises(TypeError):
        kv.push(1.5, mx.nd.zeros((2,)))


def test_pushpull_and_broadcast(kv):
    kv.init("w", mx.nd.zeros((4,)))
    grads = [mx.nd.ones((4,)), mx.nd.ones((4,)) * 2]
    kv.pushpull("w", grads)  # out=None: results written back into the values
    for g in grads:
        np.testing.assert_array_equal(g.asnumpy(), np.full(4, 3.0))
    outs = [mx.nd.zeros((4,), ctx=mx.cpu(1)), mx.nd.zeros((4,))]
    kv.broadcast("x", mx.nd.ones((4,)) * 7, out=outs)
    for o in outs:
        np.testing.assert_array_equal(o.asnumpy(), np.full(4, 7.0))


def test_set_updater_python_function(kv):
    calls = []

    def updater(key, grad, weight):
        calls.append(key)
        weight[:] = weight.asnumpy() - 0.5 * grad.asnumpy()

    kv.set_updater(updater)
    kv.init([5, "k"], [mx.nd.ones((3,)), mx.nd.ones((3,))])
    kv.push(5, [mx.nd.ones((3,)), mx.nd.ones((3,))])
    kv.push("k", mx.nd.ones((3,)))
    o5, ok = mx.nd.zeros((3,)), mx.nd.zeros((3,))
    kv.pull([5, "k"], out=[o5, ok])
    np.testing.assert_allclose(o5.asnumpy(), 0.0)
    np.testing.assert_allclose(ok.asnumpy(), 0.5)
    assert calls == [5, "k"]

    def failing(key, grad, weight):
        raise RuntimeError("boom")

    kv.set_updater(failing)
    with pytest.raises(RuntimeError, match="boom"):
        kv.push(5, mx.nd.ones((3,)))


def test_set_optimizer_state_in_core_and_save_load(kv, tmp_path):
    opt = mx.optimizer.SGD(learning_rate=0.1, momentum=0.9)
    kv.set_optimizer(opt)
    kv.init(0, mx.nd.ones((3,)))
    w = mx.nd.zeros((3,))
    mom = np.zeros(3, np.float32)
    expected = np.ones(3, np.float32)
    for step in range(3):
        g = np.full(3, step + 1.0, np.float32)
        kv.push(0, [mx.nd.array(g / 2), mx.nd.array(g / 2)])
        mom = 0.9 * mom - 0.1 * g
        expected = expected + mom
    kv.pull(0, out=w)
    np.testing.assert_allclose(w.asnumpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(opt.states(0)[0].asnumpy(), mom, rtol=1e-6)
    fname = str(tmp_path / "kv.states")
    kv.save_optimizer_states(fname)
    with open(fname, "rb") as f:
        assert f.read(8) == b"MXNOPTS1"
    # a fresh store with a fresh optimizer continues identically after load
    kv2 = mx.kv.create(kv.type)
    kv2.set_optimizer(mx.optimizer.SGD(learning_rate=0.1, momentum=0.9))
    kv2.init(0, w)
    kv2.load_optimizer_states(fname)
    for store in (kv, kv2):
        store.push(0, mx.nd.ones((3,)))
    a, b = mx.nd.zeros((3,)), mx.nd.zeros((3,))
    kv.pull(0, out=a)
    kv2.pull(0, out=b)
    np.testing.assert_array_equal(a.asnumpy(), b.asnumpy())
    with pytest.raises(ValueError):
        mx.kv.create("local").save_optimizer_states(fname)


def test_priorities_accepted(kv):
    kv.init(list(range(4)), [mx.nd.ones((8,)) * i for i in range(4)])
    outs = [mx.nd.zeros((8,)) for _ in range(4)]
    for i in range(4):
        kv.push(i, [mx.nd.ones((8,))] * 2, priority=-i)
        kv.pull(i, out=outs[i], priority=-i)
    for o in outs:
        np.testing.assert_array_equal(o.asnumpy(), np.full(8, 2.0))
