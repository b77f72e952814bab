"""mx.init / mx.initializer: Apache MXNet's initializers. The rules (name suffixes, the
`__init__` attribute, every distribution) run in the core with its counter-based generator, so
a seed gives the same parameters in every language."""
import json

from . import _core, _train

__all__ = ["InitDesc", "Initializer", "Uniform", "Normal", "Constant", "Zero", "One", "Xavier",
           "MSRAPrelu", "Orthogonal", "Bilinear", "Mixed", "Load", "register", "create"]


class InitDesc(str):
    """A parameter name with its attributes (attrs['__init__'] chooses its initializer) and the
    global initializer."""

    def __new__(cls, name, attrs=None, global_init=None):
        ret = super().__new__(cls, name)
        ret.attrs = attrs or {}
        ret.global_init = global_init
        return ret


_registry = {}


def register(klass):
    _registry[klass.__name__.lower()] = klass
    return klass


class Initializer:
    """Base class. `init(desc, arr)` initialises arr in place by MXNet's rules."""
    _core_name = None

    def __init__(self, **kwargs):
        self._kwargs = kwargs
        self._verbose = False
        self._print_func = None
        self._handle = None
        if self._core_name is not None:
            keys, types, values, rest = _train.typed("initializer", self._core_name, kwargs)
            if rest:
                raise TypeError(f"{type(self).__name__} got unexpected arguments {sorted(rest)}")
            self._handle = _core.initializer_create(self._core_name, keys, types, values)

    def set_verbosity(self, verbose=False, print_func=None):
        self._verbose = verbose
        self._print_func = print_func
        return self

    def dumps(self):
        """'["name", {kwargs}]', the form MXNet stores in `__init__` attributes."""
        return json.dumps([type(self).__name__.lower(), self._kwargs])

    def _core_handle(self):
        if self._handle is None:
            raise NotImplementedError(f"{type(self).__name__} has no core rule; override "
                                      "_init_weight")
        return self._handle

    def __call__(self, desc, arr):
        name = str(desc)
        attrs = getattr(desc, "attrs", {}) or {}
        init = attrs.get("__init__", "")
        if self._handle is None:  # a Python subclass: MXNet's dispatch in Python
            if init:
                create(init)._init_weight(name, arr)
            elif name.endswith("weight"):
                self._init_weight(name, arr)
            elif name.endswith(("bias", "beta", "min", "moving_mean", "running_mean",
                                "moving_inv_var", "moving_avg")):
                arr[:] = 0.0
            elif name.endswith(("gamma", "max", "moving_var", "running_var")):
                arr[:] = 1.0
            else:
                self._init_default(name, arr)
            return
        self._handle.apply(name, init, arr)
        if self._verbose and self._print_func:
            print(f"Initialized {name} as {init or type(self).__name__}: "
                  f"{self._print_func(arr)}")

    def _init_weight(self, name, arr):
        self._core_handle().init_weight(str(name), arr)

    def _init_default(self, name, _):
        raise ValueError(
            f"Unknown initialization pattern for {name}. Default initialization is now limited "
            'to "weight", "bias", "gamma" (1.0), and "beta" (0.0). Please use '
            "mx.sym.Variable(init=mx.init.*) to set initialization pattern")

    def __eq__(self, other):
        return isinstance(other, Initializer) and self.dumps() == other.dumps()

    def __hash__(self):
        return hash(self.dumps())


def _make(core_name, cls_name, params, doc):
    sig = ", ".join(f"{p}={d!r}" if d is not _REQ else p for p, d in params)
    names = ", ".join(f"{p}={p}" for p, _ in params)
    src = (f"def __init__(self{', ' if sig else ''}{sig}):\n"
           f"    Initializer.__init__(self{', ' if names else ''}{names})\n")
    ns = {"Initializer": Initializer}
    exec(src, ns)
    cls = type(cls_name, (Initializer,), {"__init__": ns["__init__"], "_core_name": core_name,
                                          "__doc__": doc})
    return register(cls)


_REQ = object()
Uniform = _make("uniform", "Uniform", [("scale", 0.07)], "Weights from U(-scale, scale).")
Normal = _make("normal", "Normal", [("sigma", 0.01)], "Weights from N(0, sigma^2).")
Constant = _make("constant", "Constant", [("value", _REQ)], "Weights set to value.")
Zero = _make("zero", "Zero", [], "Weights set to 0.")
One = _make("one", "One", [], "Weights set to 1.")
Xavier = _make("xavier", "Xavier", [("rnd_type", "uniform"), ("factor_type", "avg"),
                                    ("magnitude", 3)],
               "Glorot & Bengio: scale sqrt(magnitude / fan), uniform or gaussian.")
MSRAPrelu = _make("msraprelu", "MSRAPrelu", [("factor_type", "avg"), ("slope", 0.25)],
                  "He et al. (Xavier gaussian with magnitude 2 / (1 + slope^2)).")
Orthogonal = _make("orthogonal", "Orthogonal", [("scale", 1.414), ("rand_type", "uniform")],
                   "Saxe et al.: scaled orthonormal rows or columns.")
Bilinear = _make("bilinear", "Bilinear", [], "Bilinear upsampling kernels.")
_registry["zeros"] = Zero
_registry["ones"] = One


@register
class Mixed(Initializer):
    """The first pattern (a regular expression matched at the start of the name) whose
    initializer applies."""

    def __init__(self, patterns, initializers):
        assert len(patterns) == len(initializers)
        super().__init__()
        self.map = list(zip(patterns, initializers))
        self._handle = _core.initializer_mixed(list(patterns),
                                               [i._core_handle() for i in initializers])

    def dumps(self):
        raise NotImplementedError("Mixed cannot be stored in an __init__ attribute")


@register
class Load(Initializer):
    """Values from a dict of arrays or an NDArray file ('arg:'/'aux:' prefixes dropped), else
    default_init."""

    def __init__(self, param, default_init=None, verbose=False):
        from .ndarray import load as nd_load
        if isinstance(param, str):
            param = nd_load(param)
        if not isinstance(param, dict):
            raise TypeError("Load needs a dict of arrays or the name of a file holding one")
        super().__init__()
        self.param = {(k[4:] if k.startswith(("arg:", "aux:")) else k): v
                      for k, v in param.items()}
        self.default_init = default_init
        self.verbose = verbose
        self._handle = _core.initializer_load(
            list(param), list(param.values()),
            default_init._core_handle() if default_init is not None else None)

    def __call__(self, name, arr):
        attrs = getattr(name, "attrs", {}) or {}
        self._handle.apply(str(name), attrs.get("__init__", ""), arr)

    def dumps(self):
        raise NotImplementedError("Load cannot be stored in an __init__ attribute")


def create(init, **kwargs):
    """An initializer from an instance, a name, or MXNet's JSON '["xavier", {...}]'."""
    if isinstance(init, Initializer):
        return init
    if isinstance(init, str):
        text = init.strip()
        if text.startswith("["):
            name, kw = json.loads(text)
            return _registry[name.lower()](**kw)
        if text.startswith('"'):
            text = json.loads(text)
        try:
            return _registry[text.lower()](**kwargs)
        except KeyError:
            raise ValueError(f"unknown initializer {init!r} (registered: "
                             f"{sorted(_registry)})") from None
    raise TypeError(f"cannot make an initializer from {init!r}")
