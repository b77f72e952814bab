"""mx.sym.Symbol: a declarative graph built by composing operators (MXNet's Symbol API)."""
import json
import warnings

from .. import _core
from .. import attribute
from ..base import dtype_code, dtype_from_code

__all__ = ["Symbol", "Variable", "var", "Group", "load", "load_json", "fromjson"]

_ops = None  # the generated operator module, bound by mxnext.symbol

_LIST_ARGUMENTS, _LIST_OUTPUTS, _LIST_AUX, _LIST_INPUTS = 0, 1, 2, 3


def _compose(op, keys, types, values, name, args, arg_names, attr):
    """Called by every generated symbol function."""
    given = [(a, n) for a, n in zip(args, arg_names) if a is not None]
    attrs = attribute.current().get(attr)
    return _core.symbol_compose(op, keys, types, values, name, [a for a, _ in given],
                                [n for _, n in given], attrs)


class Symbol(_core.SymbolBase):
    """A symbolic graph with one or more outputs."""

    # ---- structure -------------------------------------------------------------------------
    def list_arguments(self):
        return self._list(_LIST_ARGUMENTS)

    def list_outputs(self):
        return self._list(_LIST_OUTPUTS)

    def list_auxiliary_states(self):
        return self._list(_LIST_AUX)

    def list_inputs(self):
        return self._list(_LIST_INPUTS)

    def __len__(self):
        return self._num_outputs()

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getitem__(self, index):
        """An output by position or by name ('fc1_output')."""
        if isinstance(index, str):
            names = self.list_outputs()
            if index not in names:
                raise ValueError(f"no output named {index!r} (outputs: {names})")
            index = names.index(index)
        if not isinstance(index, int):
            raise TypeError("index a Symbol with an int or an output name")
        if index < 0:
            index += len(self)
        return self._output(index)

    def get_internals(self):
        return self._internals()

    def get_children(self):
        return self._children()

    def __repr__(self):
        name = self.name
        if name is None:
            return f"<Symbol group [{', '.join(o.name for o in self)}]>"
        return f"<Symbol {name}>"

    def __copy__(self):
        return load_json(self.tojson())

    def __deepcopy__(self, memo):
        return self.__copy__()

    # ---- attributes ------------------------------------------------------------------------
    def attr(self, key):
        return self._get_attr(key)

    def list_attr(self, recursive=False):
        if recursive:
            warnings.warn("list_attr(recursive=True) is attr_dict() in MXNet >= 0.9",
                          DeprecationWarning)
            return dict(self._list_attr(True))
        return dict(self._list_attr(False))

    def attr_dict(self):
        out = {}
        for key, value in self._list_attr(True):
            node, _, k = key.partition("$")
            out.setdefault(node, {})[k] = value
        return out

    def _set_attr(self, **kwargs):
        for k, v in kwargs.items():
            if not isinstance(v, str):
                raise ValueError(f"attribute {k!r} must be a string")
            super()._set_attr(k, v)

    # ---- serialisation ---------------------------------------------------------------------
    def tojson(self):
        return self._to_json()

    def save(self, fname):
        """Writes MXNet's symbol JSON (atomically: a temporary file renamed into place)."""
        import os
        import tempfile
        d = os.path.dirname(os.path.abspath(fname))
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(self.tojson())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, fname)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    # ---- inference -------------------------------------------------------------------------
    def _known_shapes(self, args, kwargs):
        known = {}
        if args:
            names = self.list_arguments()
            if len(args) > len(names):
                raise ValueError(f"{len(args)} shapes for {len(names)} arguments")
            for n, s in zip(names, args):
                if s is not None:
                    known[n] = tuple(s)
        for k, v in kwargs.items():
            if v is not None:
                known[k] = tuple(v) if not isinstance(v, int) else (v,)
        return known

    def infer_shape(self, *args, **kwargs):
        """(arg_shapes, out_shapes, aux_shapes) in list order; (None, None, None) with a warning
        when the given shapes do not determine them all (MXNet's behaviour)."""
        a, o, x = self._infer_shape(self._known_shapes(args, kwargs), True)
        if any(s is None for s in a + o + x):
            unknown = [n for n, s in zip(self.list_arguments(), a) if s is None]
            warnings.warn(f"cannot infer the shapes of {unknown}: give more input shapes")
            return None, None, None
        return a, o, x

    def infer_shape_partial(self, *args, **kwargs):
        """Like infer_shape; unknown shapes are ()."""
        a, o, x = self._infer_shape(self._known_shapes(args, kwargs), True)
        fix = (lambda lst: [s if s is not None else () for s in lst])
        return fix(a), fix(o), fix(x)

    def infer_type(self, *args, **kwargs):
        """(arg_types, out_types, aux_types) as NumPy dtypes."""
        known = {}
        if args:
            for n, t in zip(self.list_arguments(), args):
                if t is not None:
                    known[n] = t
        known.update({k: v for k, v in kwargs.items() if v is not None})
        a, o, x = self._infer_type(known)
        conv = (lambda lst: [dtype_from_code(c) for c in lst])
        return conv(a), conv(o), conv(x)

    # ---- binding ----------------------------------------------------------------------------
    def bind(self, ctx, args, args_grad=None, grad_req="write", aux_states=None,
             group2ctx=None, shared_exec=None):
        """An Executor over the given arrays (lists in list order, or dicts by name)."""
        from ..executor import Executor
        arg_names = self.list_arguments()
        aux_names = self.list_auxiliary_states()
        args = _by_name(args, arg_names, "args")
        if args_grad is None:
            grads = [None] * len(arg_names)
        else:
            grads = _by_name(args_grad, arg_names, "args_grad", allow_missing=True)
        if isinstance(grad_req, str):
            reqs = [grad_req if g is not None else "null" for g in grads]
        elif isinstance(grad_req, dict):
            reqs = [grad_req.get(n, "null") if g is not None else "null"
                    for n, g in zip(arg_names, grads)]
        else:
            reqs = list(grad_req)
        aux = _by_name(aux_states or [], aux_names, "aux_states")
        return Executor(self, ctx, args, grads, reqs, aux)

    def simple_bind(self, ctx, grad_req="write", type_dict=None, stype_dict=None,
                    group2ctx=None, shared_arg_names=None, shared_exec=None,
                    shared_buffer=None, **kwargs):
        """Allocates every argument (zeros), gradient and auxiliary state from input shapes,
        then binds."""
        from ..ndarray import zeros
        arg_shapes, _, aux_shapes = self._infer_shape(self._known_shapes((), kwargs), True)
        unknown = [n for n, s in zip(self.list_arguments(), arg_shapes) if s is None]
        if unknown or any(s is None for s in aux_shapes):
            raise ValueError(f"simple_bind: the shapes {kwargs} do not determine the shapes of "
                             f"{unknown or self.list_auxiliary_states()}")
        arg_types, _, aux_types = self.infer_type(**(type_dict or {}))
        names = self.list_arguments()
        args = [zeros(s, ctx=ctx, dtype=t) for s, t in zip(arg_shapes, arg_types)]
        if isinstance(grad_req, str):
            reqs = {n: grad_req for n in names}
        elif isinstance(grad_req, dict):
            reqs = {n: grad_req.get(n, "null") for n in names}
        else:
            reqs = dict(zip(names, grad_req))
        grads = [None if reqs[n] == "null" else zeros(s, ctx=ctx, dtype=t)
                 for n, s, t in zip(names, arg_shapes, arg_types)]
        aux = [zeros(s, ctx=ctx, dtype=t) for s, t in zip(aux_shapes, aux_types)]
        return self.bind(ctx, args, grads, [reqs[n] for n in names], aux)

    # ---- arithmetic (MXNet's symbol operators) ----------------------------------------------
    def _binary(self, other, op, scalar_op, reverse=False):
        if isinstance(other, Symbol):
            return op(other, self) if reverse else op(self, other)
        if isinstance(other, (int, float)):
            return scalar_op(self, scalar=float(other))
        return NotImplemented

    def __add__(self, o):
        return self._binary(o, _ops._plus, _ops._plus_scalar)

    __radd__ = __add__

    def __sub__(self, o):
        return self._binary(o, _ops._minus, _ops._minus_scalar)

    def __rsub__(self, o):
        return self._binary(o, _ops._minus, _ops._rminus_scalar, reverse=True)

    def __mul__(self, o):
        return self._binary(o, _ops._mul, _ops._mul_scalar)

    __rmul__ = __mul__

    def __truediv__(self, o):
        return self._binary(o, _ops._div, _ops._div_scalar)

    def __rtruediv__(self, o):
        return self._binary(o, _ops._div, _ops._rdiv_scalar, reverse=True)

    def __mod__(self, o):
        return self._binary(o, _ops._mod, _ops._mod_scalar)

    def __rmod__(self, o):
        return self._binary(o, _ops._mod, _ops._rmod_scalar, reverse=True)

    def __pow__(self, o):
        return self._binary(o, _ops._power, _ops._power_scalar)

    def __rpow__(self, o):
        return self._binary(o, _ops._power, _ops._rpower_scalar, reverse=True)

    def __neg__(self):
        return _ops._mul_scalar(self, scalar=-1.0)

    def __eq__(self, o):
        return self._binary(o, _ops._equal, _ops._equal_scalar)

    def __ne__(self, o):
        return self._binary(o, _ops._not_equal, _ops._not_equal_scalar)

    def __gt__(self, o):
        return self._binary(o, _ops._greater, _ops._greater_scalar)

    def __ge__(self, o):
        return self._binary(o, _ops._greater_equal, _ops._greater_equal_scalar)

    def __lt__(self, o):
        return self._binary(o, _ops._lesser, _ops._lesser_scalar)

    def __le__(self, o):
        return self._binary(o, _ops._lesser_equal, _ops._lesser_equal_scalar)

    def __hash__(self):
        return id(self) // 16


_core._set_symbol_class(Symbol)


def _by_name(arrays, names, what, allow_missing=False):
    """A list of arrays in `names` order from a list or a dict."""
    if isinstance(arrays, dict):
        unknown = set(arrays) - set(names)
        if unknown:
            raise ValueError(f"{what}: {sorted(unknown)} are not in {names}")
        if not allow_missing:
            missing = [n for n in names if n not in arrays]
            if missing:
                raise ValueError(f"{what}: no array for {missing}")
        return [arrays.get(n) for n in names]
    arrays = list(arrays)
    if len(arrays) != len(names):
        raise ValueError(f"{what}: {len(arrays)} arrays for {len(names)} names {names}")
    return arrays


def Variable(name, attr=None, shape=None, lr_mult=None, wd_mult=None, dtype=None, init=None,
             stype=None, **kwargs):
    """A placeholder (an argument of the graph)."""
    if not isinstance(name, str):
        raise TypeError("a variable's name must be a string")
    s = _core.symbol_variable(name)
    attrs = attribute.current().get(attr)
    if shape is not None:
        attrs["__shape__"] = str(tuple(shape))
    if lr_mult is not None:
        attrs["__lr_mult__"] = str(lr_mult)
    if wd_mult is not None:
        attrs["__wd_mult__"] = str(wd_mult)
    if dtype is not None:
        attrs["__dtype__"] = str(dtype_code(dtype))
    if init is not None:
        attrs["__init__"] = init if isinstance(init, str) else init.dumps()
    if stype is not None:
        attrs["__storage_type__"] = str(stype)
    for k, v in kwargs.items():
        if not (k.startswith("__") and k.endswith("__")):
            raise ValueError(f"attribute {k!r} must look like __name__")
        attrs[k] = str(v)
    for k, v in attrs.items():
        s._set_attr(**{k: v})
    return s


var = Variable


def Group(symbols):
    """One symbol whose outputs are those of `symbols`, in order."""
    if not symbols:
        raise ValueError("Group needs at least one symbol")
    return _core.symbol_group(list(symbols))


def load_json(json_str):
    """A symbol from MXNet's JSON (any 1.x version)."""
    if not isinstance(json_str, str):
        raise TypeError("load_json takes a str")
    return _core.symbol_from_json(json_str)


fromjson = load_json


def load(fname):
    """A symbol from a -symbol.json file."""
    with open(fname, encoding="utf-8") as f:
        return load_json(f.read())
