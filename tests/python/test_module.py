"""Module and FeedForward: bind / init_params / init_optimizer / forward / backward / update,
fit on a small problem to a stated accuracy, score, predict, iter_predict, data parallelism over
CPU contexts, checkpoints and optimizer states."""
import logging
import os

import numpy as np
import pytest

import mxnext as mx


def mlp(hidden=32, classes=3):
    data = mx.sym.Variable("data")
    fc1 = mx.sym.FullyConnected(data, num_hidden=hidden, name="fc1")
    act = mx.sym.Activation(fc1, act_type="relu", name="relu1")
    fc2 = mx.sym.FullyConnected(act, num_hidden=classes, name="fc2")
    return mx.sym.SoftmaxOutput(fc2, name="softmax")


def blobs(n=600, seed=0):
    rng = np.random.RandomState(seed)
    centers = np.array([[2, 0], [-2, 1], [0, -2.5]], np.float32)
    y = rng.randint(0, 3, n)
    x = centers[y] + rng.randn(n, 2).astype(np.float32) * 0.6
    return x.astype(np.float32), y.astype(np.float32)


@pytest.mark.parametrize("ctx", [[mx.cpu(0)], [mx.cpu(0), mx.cpu(1)]])
def test_fit_reaches_accuracy(ctx):
    mx.random.seed(1)
    x, y = blobs()
    train = mx.io.NDArrayIter(x[:500], y[:500], batch_size=20, shuffle=True)
    val = mx.io.NDArrayIter(x[500:], y[500:], batch_size=20)
    mod = mx.mod.Module(mlp(), context=ctx)
    seen = []
    mod.fit(train, eval_data=val, num_epoch=5, optimizer="sgd",
            optimizer_params={"learning_rate": 0.1, "momentum": 0.9},
            initializer=mx.init.Xavier(), batch_end_callback=lambda p: seen.append(p.nbatch))
    assert seen[:3] == [0, 1, 2]
    (name, acc), = mod.score(val, "acc")
    assert name == "accuracy" and acc >= 0.95
    probs = mod.predict(val)
    assert probs.shape == (100, 3)
    assert (probs.asnumpy().argmax(1) == y[500:]).mean() >= 0.95
    outs = list(mod.iter_predict(val))
    assert len(outs) == 5 and outs[0][0][0].shape == (20, 3)


def test_manual_loop_and_params():
    x, y = blobs(40)
    mod = mx.mod.Module(mlp(8), context=mx.cpu())
    mod.bind(data_shapes=[("data", (20, 2))], label_shapes=[("softmax_label", (20,))])
    assert mod.data_names == ["data"] and mod.output_names == ["softmax_output"]
    mod.init_params(mx.init.Uniform(0.1))
    mod.init_optimizer(optimizer="sgd", optimizer_params=(("learning_rate", 0.5),))
    assert mod._optimizer.rescale_grad == pytest.approx(1 / 20)
    before = mod.get_params()[0]["fc1_weight"].asnumpy().copy()
    batch = mx.io.DataBatch([mx.nd.array(x[:20])], [mx.nd.array(y[:20])])
    mod.forward(batch, is_train=True)
    mod.backward()
    mod.update()
    metric = mx.metric.Accuracy()
    mod.update_metric(metric, batch.label)
    assert 0 <= metric.get()[1] <= 1
    after = mod.get_params()[0]["fc1_weight"].asnumpy()
    assert not np.allclose(before, after)
    arg, aux = mod.get_params()
    mod2 = mx.mod.Module(mlp(8))
    mod2.bind(data_shapes=[("data", (20, 2))], label_shapes=[("softmax_label", (20,))],
              for_training=False)
    mod2.set_params(arg, aux)
    mod.forward(batch, is_train=False)
    mod2.forward(batch, is_train=False)
    np.testing.assert_allclose(mod.get_outputs()[0].asnumpy(), mod2.get_outputs()[0].asnumpy())
    with pytest.raises(RuntimeError, match="not presented"):
        mod2.set_params({}, {})


def test_params_live_only_in_the_executors():
    """No host copy of the weights beside the executors; get_params gives snapshots that
    later updates leave alone, and init_params draws what MXNet's order draws."""
    x, y = blobs(40)
    mods = []
    for ctx in ([mx.cpu(0)], [mx.cpu(0), mx.cpu(1)]):
        mx.random.seed(7)
        mod = mx.mod.Module(mlp(8), context=ctx)
        mod.bind(data_shapes=[("data", (20, 2))], label_shapes=[("softmax_label", (20,))])
        mod.init_params(mx.init.Xavier())
        assert mod._arg_params is None and mod._aux_params is None
        mods.append(mod)
    first, second = mods[0].get_params()[0], mods[1].get_params()[0]
    for name in first:
        assert np.array_equal(first[name].asnumpy(), second[name].asnumpy())
    mod = mods[0]
    mod.init_optimizer(optimizer="sgd", optimizer_params=(("learning_rate", 0.5),))
    snapshot = mod.get_params()[0]
    kept = {n: a.asnumpy().copy() for n, a in snapshot.items()}
    mod.forward_backward(mx.io.DataBatch([mx.nd.array(x[:20])], [mx.nd.array(y[:20])]))
    mod.update()
    for name, arr in snapshot.items():
        assert np.array_equal(arr.asnumpy(), kept[name])
    assert not np.array_equal(mod.get_params()[0]["fc1_weight"].asnumpy(), kept["fc1_weight"])
    snapshot["fc2_bias"][:] = 100  # writing into a snapshot does not touch the weights
    assert not np.any(mod.get_params()[0]["fc2_bias"].asnumpy() == 100)


def test_data_parallel_matches_single_device():
    """Two contexts with the batch split in half give the same updates as one context."""
    x, y = blobs(60, seed=3)
    init = {}
    results = []
    for ctx in ([mx.cpu(0)], [mx.cpu(0), mx.cpu(1)]):
        mod = mx.mod.Module(mlp(8), context=ctx)
        mod.bind(data_shapes=[("data", (20, 2))], label_shapes=[("softmax_label", (20,))])
        if not init:
            mod.init_params(mx.init.Xavier())
            init = {k: v.copy() for k, v in mod.get_params()[0].items()}
        else:
            mod.init_params(arg_params=init)
        mod.init_optimizer(kvstore="local", optimizer="sgd",
                           optimizer_params={"learning_rate": 0.2, "momentum": 0.9,
                                             "wd": 1e-3})
        for i in range(3):
            mod.forward_backward(mx.io.DataBatch([mx.nd.array(x[i * 20:(i + 1) * 20])],
                                                 [mx.nd.array(y[i * 20:(i + 1) * 20])]))
            mod.update()
        results.append({k: v.asnumpy() for k, v in mod.get_params()[0].items()})
    for k in results[0]:
        np.testing.assert_allclose(results[0][k], results[1][k], rtol=1e-5, atol=1e-6)


def test_checkpoint_and_optimizer_states_round_trip(tmp_path):
    x, y = blobs(80, seed=5)
    prefix = str(tmp_path / "mlp")
    it = mx.io.NDArrayIter(x, y, batch_size=20)
    mod = mx.mod.Module(mlp(8))
    mod.fit(it, num_epoch=2, optimizer="adam", optimizer_params={"learning_rate": 0.01},
            epoch_end_callback=mx.callback.module_checkpoint(mod, prefix,
                                                             save_optimizer_states=True))
    assert os.path.exists(prefix + "-symbol.json")
    assert os.path.exists(prefix + "-0002.params") and os.path.exists(prefix + "-0002.states")
    loaded = mx.mod.Module.load(prefix, 2, load_optimizer_states=True)
    loaded.bind(data_shapes=it.provide_data, label_shapes=it.provide_label)
    loaded.init_optimizer(optimizer="adam", optimizer_params={"learning_rate": 0.01})
    a, _ = mod.get_params()
    b, _ = loaded.get_params()
    for k in a:
        np.testing.assert_array_equal(a[k].asnumpy(), b[k].asnumpy())
    # both continue identically (Adam's moments and step counts were restored)
    batch = mx.io.DataBatch([mx.nd.array(x[:20])], [mx.nd.array(y[:20])])
    for m in (mod, loaded):
        m.forward_backward(batch)
        m.update()
    a, _ = mod.get_params()
    b, _ = loaded.get_params()
    for k in a:
        np.testing.assert_allclose(a[k].asnumpy(), b[k].asnumpy(), rtol=1e-6, atol=1e-7)
    sym, args, auxs = mx.model.load_checkpoint(prefix, 2)
    assert set(args) == {"fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias"}


def test_feedforward_fit_predict_save_load(tmp_path, caplog):
    mx.random.seed(2)
    x, y = blobs(400, seed=9)
    train = mx.io.NDArrayIter(x[:300], y[:300], batch_size=25, shuffle=True)
    val = mx.io.NDArrayIter(x[300:], y[300:], batch_size=25)
    prefix = str(tmp_path / "ff")
    model = mx.model.FeedForward(ctx=[mx.cpu(0), mx.cpu(1)], symbol=mlp(), num_epoch=4,
                                 learning_rate=0.1, momentum=0.9, wd=1e-5,
                                 initializer=mx.init.Xavier(factor_type="in", magnitude=2.34))
    with caplog.at_level(logging.INFO):
        model.fit(X=train, eval_data=val, kvstore="local",
                  epoch_end_callback=mx.callback.do_checkpoint(prefix),
                  batch_end_callback=mx.callback.Speedometer(25, 4))
    assert any("samples/sec" in r.getMessage() for r in caplog.records)
    assert any("Validation-accuracy" in r.getMessage() for r in caplog.records)
    probs = model.predict(val)
    assert probs.shape == (100, 3)
    assert (probs.argmax(1) == y[300:]).mean() >= 0.95
    assert model.score(val) >= 0.95
    preds, data, labels = model.predict(val, return_data=True)
    assert data.shape == (100, 2) and labels.shape == (100,)
    assert os.path.exists(prefix + "-0004.params")
    loaded = mx.model.FeedForward.load(prefix, 4)
    np.testing.assert_allclose(loaded.predict(x[300:]), probs, rtol=1e-5, atol=1e-6)
    model.save(str(tmp_path / "ff2"))
    assert os.path.exists(str(tmp_path / "ff2") + "-0004.params")
    # NumPy input
    m2 = mx.model.FeedForward(mlp(), num_epoch=2, numpy_batch_size=50, learning_rate=0.1)
    m2.fit(X=x[:300], y=y[:300])
    assert m2.predict(x[300:]).shape == (100, 3)


def test_callbacks(caplog):
    metric = mx.metric.Accuracy()
    metric.update([mx.nd.array([1, 0])], [mx.nd.array([1, 1])])
    from mxnext.module import BatchEndParam
    with caplog.at_level(logging.INFO):
        cb = mx.callback.log_train_metric(1, auto_reset=True)
        cb(BatchEndParam(epoch=0, nbatch=2, eval_metric=metric, locals=None))
    assert any("Train-accuracy=0.5" in r.getMessage() for r in caplog.records)
    bar = mx.callback.ProgressBar(total=2)
    for i in range(2):
        bar(BatchEndParam(epoch=0, nbatch=i, eval_metric=None, locals=None))
