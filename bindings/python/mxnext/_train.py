"""Typed parameters for the core's training objects (optimizers, learning-rate schedulers,
initializers, metrics), read from the core's registry (mxn_train_schema_json): the Python
classes only forward their arguments; the rules live in the core."""
import json

from . import _core

_SCHEMA = None


def schema():
    global _SCHEMA
    if _SCHEMA is None:
        raw = json.loads(_core.train_schema_json())
        _SCHEMA = {kind: {d["name"]: d for d in raw[kind]}
                   for kind in ("optimizer", "lr_scheduler", "initializer", "metric")}
    return _SCHEMA


def find(kind, name):
    """The registry entry of `name` (case-insensitive, aliases too) or None."""
    n = name.lower()
    for d in schema()[kind].values():
        if d["name"].lower() == n or n in (a.lower() for a in d["aliases"]):
            return d
    return None


def names(kind):
    return sorted(schema()[kind])


def typed(kind, name, kwargs):
    """(keys, types, values) for the parameters of `name` that are in kwargs; the rest of
    kwargs is returned as a dict."""
    d = find(kind, name)
    if d is None:
        raise ValueError(f"unknown {kind} {name!r} (registered: {names(kind)})")
    types = {p["name"]: p["type_code"] for p in d["params"]}
    keys, codes, values, rest = [], [], [], {}
    for k, v in kwargs.items():
        if k in types:
            if types[k] == _core.T_SHAPE and isinstance(v, (list, tuple)):
                v = tuple(int(x) for x in v)
            keys.append(k.encode())
            codes.append(types[k])
            values.append(v)
        else:
            rest[k] = v
    return tuple(keys), tuple(codes), tuple(values), rest


def type_code(kind, name, param):
    d = find(kind, name)
    for p in d["params"]:
        if p["name"] == param:
            return p["type_code"]
    return None
