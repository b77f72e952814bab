"""mx.metric: Apache MXNet's evaluation metrics. The arithmetic runs in the core
(mxn_metric_*), so every front end reports the same numbers; CustomMetric runs a Python
function."""
import math

import numpy as np

from . import _core, _train

__all__ = ["EvalMetric", "CompositeEvalMetric", "Accuracy", "TopKAccuracy", "F1", "MCC",
           "Perplexity", "MAE", "MSE", "RMSE", "CrossEntropy", "NegativeLogLikelihood",
           "PearsonCorrelation", "Loss", "CustomMetric", "create", "register", "np",
           "check_label_shapes"]

_numpy = np


def check_label_shapes(labels, preds, wrap=False, shape=False):
    if not shape:
        label_shape, pred_shape = len(labels), len(preds)
    else:
        label_shape, pred_shape = labels.shape, preds.shape
    if label_shape != pred_shape:
        raise ValueError(f"Shape of labels {label_shape} does not match shape of "
                         f"predictions {pred_shape}")
    if wrap:
        from .ndarray import NDArray
        if isinstance(labels, (NDArray, _numpy.ndarray)):
            labels = [labels]
        if isinstance(preds, (NDArray, _numpy.ndarray)):
            preds = [preds]
    return labels, preds


def _as_nd(x):
    from .ndarray import NDArray, array
    if isinstance(x, NDArray):
        return x
    return array(_numpy.asarray(x, dtype=_numpy.float32))


def _as_list(x):
    from .ndarray import NDArray
    if x is None:
        return []
    if isinstance(x, (NDArray, _numpy.ndarray)):
        return [x]
    return list(x)


_registry = {}


def register(klass, *aliases):
    for n in (klass.__name__.lower(),) + aliases:
        _registry[n] = klass
    return klass


def alias(*names):
    def deco(klass):
        return register(klass, *names)
    return deco


class EvalMetric:
    """Base class: name, output_names, label_names; update(labels, preds), reset(),
    reset_local(), get(), get_global(), get_name_value()."""
    _core_name = None

    def __init__(self, name, output_names=None, label_names=None, **kwargs):
        self.name = str(name)
        self.output_names = output_names
        self.label_names = label_names
        self._has_global_stats = kwargs.pop("has_global_stats", False)
        self._kwargs = kwargs
        self._handle = None
        if self._core_name is not None:
            params = dict(kwargs, name=self.name)
            keys, types, values, rest = _train.typed("metric", self._core_name, params)
            if rest:
                raise TypeError(f"{type(self).__name__} got unexpected arguments {sorted(rest)}")
            self._handle = _core.metric_create(self._core_name, keys, types, values)
        self.reset()

    def __str__(self):
        return "EvalMetric: {}".format(dict(self.get_name_value()))

    def get_config(self):
        config = self._kwargs.copy()
        config.update({"metric": type(self).__name__, "name": self.name,
                       "output_names": self.output_names, "label_names": self.label_names})
        return config

    def update_dict(self, label, pred):
        if self.output_names is not None:
            pred = [pred[name] for name in self.output_names]
        else:
            pred = list(pred.values())
        if self.label_names is not None:
            label = [label[name] for name in self.label_names]
        else:
            label = list(label.values())
        self.update(label, pred)

    def update(self, labels, preds):
        if self._handle is None:
            raise NotImplementedError()
        self._handle.update([_as_nd(x) for x in _as_list(labels)],
                            [_as_nd(x) for x in _as_list(preds)])

    def reset(self):
        self.num_inst = 0
        self.sum_metric = 0.0
        self.global_num_inst = 0
        self.global_sum_metric = 0.0
        if self._handle is not None:
            self._handle.reset(False)

    def reset_local(self):
        self.num_inst = 0
        self.sum_metric = 0.0
        if self._handle is not None:
            self._handle.reset(True)

    def _get(self, is_global):
        if self._handle is not None:
            pairs = self._handle.get(is_global)
            return pairs[0]
        num, s = (self.global_num_inst, self.global_sum_metric) if is_global else \
            (self.num_inst, self.sum_metric)
        return (self.name, float("nan") if num == 0 else s / num)

    def get(self):
        return self._get(False)

    def get_global(self):
        return self._get(True) if self._has_global_stats or self._handle is not None else \
            self.get()

    def get_name_value(self):
        name, value = self.get()
        if not isinstance(name, list):
            name, value = [name], [value]
        return list(zip(name, value))

    def get_global_name_value(self):
        name, value = self.get_global()
        if not isinstance(name, list):
            name, value = [name], [value]
        return list(zip(name, value))


def _make(core_name, cls_name, default_name, params, aliases=()):
    sig = ", ".join(f"{p}={d!r}" for p, d in params)
    names = ", ".join(f"{p}={p}" for p, _ in params)
    src = (f"def __init__(self, {sig}{', ' if sig else ''}name={default_name!r}, "
           "output_names=None, label_names=None):\n"
           f"    EvalMetric.__init__(self, name, output_names=output_names, "
           f"label_names=label_names{', ' if names else ''}{names})\n")
    ns = {"EvalMetric": EvalMetric}
    exec(src, ns)
    cls = type(cls_name, (EvalMetric,), {"__init__": ns["__init__"], "_core_name": core_name})
    return register(cls, *aliases)


Accuracy = _make("accuracy", "Accuracy", "accuracy", [("axis", 1)], ("acc",))
F1 = _make("f1", "F1", "f1", [("average", "macro")])
MCC = _make("mcc", "MCC", "mcc", [("average", "macro")])
Perplexity = _make("perplexity", "Perplexity", "perplexity", [("ignore_label", None),
                                                               ("axis", -1)])
MAE = _make("mae", "MAE", "mae", [])
MSE = _make("mse", "MSE", "mse", [])
RMSE = _make("rmse", "RMSE", "rmse", [])
CrossEntropy = _make("ce", "CrossEntropy", "cross-entropy", [("eps", 1e-12)], ("ce",))
NegativeLogLikelihood = _make("nll_loss", "NegativeLogLikelihood", "nll-loss", [("eps", 1e-12)],
                              ("nll_loss",))
PearsonCorrelation = _make("pearsonr", "PearsonCorrelation", "pearsonr",
                           [("average", "macro")], ("pearsonr",))
Loss = _make("loss", "Loss", "loss", [], ("loss",))


@alias("top_k_accuracy", "top_k_acc")
class TopKAccuracy(EvalMetric):
    """Fraction of samples whose label is among the top_k scores."""
    _core_name = "top_k_accuracy"

    def __init__(self, top_k=1, name="top_k_accuracy", output_names=None, label_names=None):
        self.top_k = top_k
        assert top_k > 1, "Please use Accuracy if top_k is no more than 1"
        super().__init__(f"{name}_{top_k}", output_names=output_names,
                         label_names=label_names, top_k=top_k)


@alias("composite")
class CompositeEvalMetric(EvalMetric):
    """Several metrics updated together; get() returns lists of names and values."""

    def __init__(self, metrics=None, name="composite", output_names=None, label_names=None):
        self.metrics = [create(m) for m in (metrics or [])]
        super().__init__(name, output_names=output_names, label_names=label_names)

    def add(self, metric):
        self.metrics.append(create(metric))

    def get_metric(self, index):
        try:
            return self.metrics[index]
        except IndexError:
            return ValueError(f"Metric index {index} is out of range 0 and {len(self.metrics)}")

    def update_dict(self, labels, preds):
        if self.label_names is not None:
            labels = {name: label for name, label in labels.items() if name in self.label_names}
        if self.output_names is not None:
            preds = {name: pred for name, pred in preds.items() if name in self.output_names}
        for metric in self.metrics:
            metric.update_dict(labels, preds)

    def update(self, labels, preds):
        for metric in self.metrics:
            metric.update(labels, preds)

    def reset(self):
        for metric in getattr(self, "metrics", []):
            metric.reset()

    def reset_local(self):
        for metric in self.metrics:
            metric.reset_local()

    def _collect(self, is_global):
        names, values = [], []
        for metric in self.metrics:
            name, value = metric.get_global() if is_global else metric.get()
            if isinstance(name, str):
                name, value = [name], [value]
            names.extend(name)
            values.extend(value)
        return names, values

    def get(self):
        return self._collect(False)

    def get_global(self):
        return self._collect(True)


@register
class CustomMetric(EvalMetric):
    """A metric from feval(label, pred) -> value or (sum, count), on NumPy arrays."""

    def __init__(self, feval, name=None, allow_extra_outputs=False, output_names=None,
                 label_names=None):
        if name is None:
            name = feval.__name__
            if name.find("<") != -1:
                name = "custom(%s)" % name
        super().__init__(name, output_names=output_names, label_names=label_names,
                         has_global_stats=True)
        self._feval = feval
        self._allow_extra_outputs = allow_extra_outputs

    def update(self, labels, preds):
        labels, preds = _as_list(labels), _as_list(preds)
        if not self._allow_extra_outputs:
            labels, preds = check_label_shapes(labels, preds, True)
        for pred, label in zip(preds, labels):
            label = label.asnumpy() if hasattr(label, "asnumpy") else _numpy.asarray(label)
            pred = pred.asnumpy() if hasattr(pred, "asnumpy") else _numpy.asarray(pred)
            reval = self._feval(label, pred)
            if isinstance(reval, tuple):
                s, n = reval
            else:
                s, n = reval, 1
            self.sum_metric += s
            self.global_sum_metric += s
            self.num_inst += n
            self.global_num_inst += n

    def get_config(self):
        raise NotImplementedError("CustomMetric cannot be serialized")


def np(numpy_feval, name=None, allow_extra_outputs=False):
    """A CustomMetric from a NumPy function feval(label, pred)."""
    def feval(label, pred):
        return numpy_feval(label, pred)
    feval.__name__ = numpy_feval.__name__
    return CustomMetric(feval, name, allow_extra_outputs)


def create(metric, *args, **kwargs):
    """A metric from an instance, a callable (CustomMetric), a name ('acc', 'ce', ...) or a
    list of those (CompositeEvalMetric)."""
    if callable(metric) and not isinstance(metric, EvalMetric):
        return CustomMetric(metric, *args, **kwargs)
    if isinstance(metric, EvalMetric):
        return metric
    if isinstance(metric, list):
        composite = CompositeEvalMetric()
        for child in metric:
            composite.add(create(child, *args, **kwargs))
        return composite
    if isinstance(metric, str):
        try:
            return _registry[metric.lower()](*args, **kwargs)
        except KeyError:
            raise ValueError(f"Metric must be either callable or in {sorted(_registry)}") \
                from None
    raise TypeError(f"cannot make a metric from {metric!r}")
