"""mx.sym: the declarative Symbol API. Operator functions are generated from the core's
registry (see _ops.py, made by tools/codegen/generate.py)."""
from . import symbol as _symbol_module
from .symbol import Symbol, Variable, var, Group, load, load_json, fromjson
from . import _ops

_symbol_module._ops = _ops

for _name in _ops.__all__:
    if not _name.startswith("_"):
        globals()[_name] = getattr(_ops, _name)


class _Internal:
    """mx.sym._internal: the registry's underscore operators."""

    def __getattr__(self, name):
        try:
            return getattr(_ops, name)
        except AttributeError:
            raise AttributeError(f"no internal operator {name!r}") from None


_internal = _Internal()
del _name
