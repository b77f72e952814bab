"""Metrics computed in the core against NumPy formulas (MXNet 1.9.1's definitions)."""
import math

import numpy as np
import pytest

import mxnext as mx

RNG = np.random.RandomState(0)


def _probs(n, c):
    x = RNG.rand(n, c).astype(np.float32) + 0.01
    return x / x.sum(axis=1, keepdims=True)


def nd(x):
    return mx.nd.array(np.asarray(x, dtype=np.float32))


def test_accuracy_and_topk():
    p1, p2 = _probs(10, 4), _probs(6, 4)
    l1, l2 = RNG.randint(0, 4, 10), RNG.randint(0, 4, 6)
    m = mx.metric.create("acc")
    m.update([nd(l1)], [nd(p1)])
    m.update([nd(l2)], [nd(p2)])
    correct = (p1.argmax(1) == l1).sum() + (p2.argmax(1) == l2).sum()
    assert m.get() == ("accuracy", pytest.approx(correct / 16))
    # same shape: compared directly
    m2 = mx.metric.Accuracy()
    m2.update([nd([1, 2, 3])], [nd([1, 2, 0])])
    assert m2.get()[1] == pytest.approx(2 / 3)
    t = mx.metric.TopKAccuracy(top_k=2)
    t.update([nd(l1)], [nd(p1)])
    top2 = np.argsort(-p1, axis=1)[:, :2]
    assert t.get() == ("top_k_accuracy_2",
                       pytest.approx(np.mean([l in r for l, r in zip(l1, top2)])))
    assert math.isnan(mx.metric.Accuracy().get()[1])
    with pytest.raises(ValueError):
        m.update([nd(l1)], [nd(p1), nd(p1)])


def _binary_stats(label, pred):
    pl = pred.argmax(1)
    tp = ((pl == 1) & (label == 1)).sum()
    fp = ((pl == 1) & (label == 0)).sum()
    fn = ((pl == 0) & (label == 1)).sum()
    tn = ((pl == 0) & (label == 0)).sum()
    return tp, fp, fn, tn


def _f1(tp, fp, fn, tn):
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def _mcc(tp, fp, fn, tn):
    terms = [tp + fp, tp + fn, tn + fp, tn + fn]
    denom = 1.0
    for t in terms:
        if t:
            denom *= t
    return (tp * tn - fp * fn) / math.sqrt(denom)


@pytest.mark.parametrize("average", ["macro", "micro"])
def test_f1_mcc(average):
    batches = [(RNG.randint(0, 2, 20), _probs(20, 2)) for _ in range(3)]
    f1 = mx.metric.F1(average=average)
    mcc = mx.metric.MCC(average=average)
    for l, p in batches:
        f1.update([nd(l)], [nd(p)])
        mcc.update([nd(l)], [nd(p)])
    stats = [_binary_stats(l, p) for l, p in batches]
    if average == "macro":
        ef1 = np.mean([_f1(*s) for s in stats])
        emcc = np.mean([_mcc(*s) for s in stats])
    else:
        tot = np.sum(stats, axis=0)
        ef1, emcc = _f1(*tot), _mcc(*tot)
    assert f1.get()[1] == pytest.approx(ef1)
    assert mcc.get()[1] == pytest.approx(emcc)
    with pytest.raises(ValueError, match="binary"):
        f1.update([nd([0, 1, 2])], [nd(_probs(3, 3))])


def test_perplexity_ce_nll():
    p, l = _probs(12, 5), RNG.randint(0, 5, 12)
    pick = p[np.arange(12), l]
    px = mx.metric.Perplexity(ignore_label=None)
    px.update([nd(l)], [nd(p)])
    assert px.get()[1] == pytest.approx(math.exp(-np.log(np.maximum(1e-10, pick)).mean()),
                                        rel=1e-5)
    px = mx.metric.Perplexity(ignore_label=2)
    px.update([nd(l)], [nd(p)])
    keep = l != 2
    assert px.get()[1] == pytest.approx(math.exp(-np.log(pick[keep]).sum() / keep.sum()),
                                        rel=1e-5)
    ce = mx.metric.create("ce")
    ce.update([nd(l)], [nd(p)])
    assert ce.get() == ("cross-entropy", pytest.approx((-np.log(pick + 1e-12)).mean(), rel=1e-5))
    nll = mx.metric.NegativeLogLikelihood()
    nll.update([nd(l)], [nd(p)])
    assert nll.get() == ("nll-loss", pytest.approx((-np.log(pick + 1e-12)).mean(), rel=1e-5))


def test_regression_metrics():
    batches = [(RNG.randn(8), RNG.randn(8, 1)), (RNG.randn(5, 1), RNG.randn(5))]
    mae, mse, rmse = mx.metric.MAE(), mx.metric.MSE(), mx.metric.RMSE()
    e = {"mae": [], "mse": [], "rmse": []}
    for l, p in batches:
        for m in (mae, mse, rmse):
            m.update([nd(l)], [nd(p)])
        d = l.reshape(-1, 1) - p.reshape(-1, 1)
        e["mae"].append(np.abs(d).mean())
        e["mse"].append((d ** 2).mean())
        e["rmse"].append(np.sqrt((d ** 2).mean()))
    assert mae.get()[1] == pytest.approx(np.mean(e["mae"]), rel=1e-5)
    assert mse.get()[1] == pytest.approx(np.mean(e["mse"]), rel=1e-5)
    assert rmse.get()[1] == pytest.approx(np.mean(e["rmse"]), rel=1e-5)


def test_pearson_and_loss():
    a, b = RNG.randn(30), RNG.randn(30)
    p = mx.metric.PearsonCorrelation()
    p.update([nd(a)], [nd(b + a)])
    assert p.get()[1] == pytest.approx(np.corrcoef(b + a, a)[0, 1], rel=1e-5)
    pm = mx.metric.PearsonCorrelation(average="micro")
    pm.update([nd(a[:10])], [nd(b[:10])])
    pm.update([nd(a[10:])], [nd(b[10:])])
    assert pm.get()[1] == pytest.approx(np.corrcoef(b, a)[0, 1], rel=1e-5)
    loss = mx.metric.Loss()
    loss.update(None, [nd([1.0, 2.0]), nd([3.0])])
    assert loss.get() == ("loss", pytest.approx(2.0))


def test_reset_local_global_and_composite():
    m = mx.metric.Accuracy()
    m.update([nd([0, 1])], [nd([0, 0])])
    m.reset_local()
    m.update([nd([1, 1])], [nd([1, 1])])
    assert m.get()[1] == pytest.approx(1.0)
    assert m.get_global()[1] == pytest.approx(0.75)
    m.reset()
    assert math.isnan(m.get_global()[1])
    c = mx.metric.create(["acc", "mse"])
    assert isinstance(c, mx.metric.CompositeEvalMetric)
    c.update([nd([1, 0])], [nd([1, 1])])
    names, values = c.get()
    assert names == ["accuracy", "mse"]
    assert values == pytest.approx([0.5, 0.5])
    assert dict(c.get_name_value()) == {"accuracy": 0.5, "mse": 0.5}


def test_custom_metric_and_update_dict():
    def mine(label, pred):
        return float(np.abs(label - pred.ravel()).sum()), label.size

    m = mx.metric.create(mine)
    assert m.name == "mine"
    m.update([nd([1, 2])], [nd([1, 4])])
    assert m.get() == ("mine", pytest.approx(1.0))
    npm = mx.metric.np(lambda l, p: 3.0)
    npm.update([nd([1])], [nd([1])])
    assert npm.get()[1] == pytest.approx(3.0)
    acc = mx.metric.Accuracy(output_names=["out"], label_names=["lab"])
    acc.update_dict({"lab": nd([1, 0]), "x": nd([5])}, {"out": nd([1, 0]), "y": nd([1])})
    assert acc.get()[1] == pytest.approx(1.0)
    with pytest.raises(ValueError):
        mx.metric.create("nope")
