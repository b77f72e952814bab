"""mx.nd: the imperative NDArray API. Operator functions are generated from the core's
operator registry (see _ops.py, made by tools/codegen/generate.py)."""
from . import _ops
from . import ndarray as _ndarray_module
from .ndarray import (NDArray, array, empty, zeros, ones, full, arange, waitall, from_dlpack,
                      to_dlpack_for_read, to_dlpack_for_write, concatenate)

_ndarray_module._ops = _ops

# Public operators: every generated function whose name has no leading underscore.
for _name in _ops.__all__:
    if not _name.startswith("_"):
        globals()[_name] = getattr(_ops, _name)


class _Internal:
    """mx.nd._internal: the registry's underscore operators (_plus_scalar, _zeros, ...)."""

    def __getattr__(self, name):
        try:
            return getattr(_ops, name)
        except AttributeError:
            raise AttributeError(f"no internal operator {name!r}") from None


_internal = _Internal()

# Fluent methods: x.sum(axis=1) is sum(x, axis=1).
_FLUENT = ["sum", "mean", "max", "min", "prod", "nansum", "exp", "log", "sqrt", "abs",
           "square", "sigmoid", "tanh", "relu", "negative", "transpose", "flatten",
           "expand_dims", "slice_axis", "slice", "clip", "sign", "floor", "ceil", "round",
           "reciprocal", "rsqrt", "softmax", "log_softmax", "argmax", "argmin", "dot", "tile",
           "repeat", "squeeze", "swapaxes", "flip", "one_hot", "zeros_like", "ones_like"]


def _fluent(fn):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


for _name in _FLUENT:
    if hasattr(_ops, _name) and not hasattr(NDArray, _name):
        setattr(NDArray, _name, _fluent(getattr(_ops, _name)))

del _name

# MXNet's NDArray files (.params): mx.nd.save / mx.nd.load / mx.nd.load_frombuffer.
from .utils import save, load, load_frombuffer  # noqa: E402
