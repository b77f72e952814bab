#!/usr/bin/env python3
"""Writes the conformance cases (tests/conformance/cases/*.json) from an independent NumPy
reference. This file imports NumPy and the standard library only, never mxnext: the expected
values are what NumPy (or a formula written here) computes, following Apache MXNet 1.x's
documented semantics.

    python3 tests/conformance/generate_cases.py          # rewrite the case files
    python3 tests/conformance/generate_cases.py --check  # exit 1 if they are stale

Case format (language-neutral; every runner interprets the same steps): see README.md here.
Arrays are given in C order with C-order shapes; a runner for a column-major language builds
the same bytes with reversed dims. Expected results carry `hex` (the exact little-endian bytes)
where the operation is exact on the chosen inputs, else `values` with `rtol`/`atol`."""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CASES_DIR = os.path.join(HERE, "cases")

FLOATS = ["float32", "float64", "float16"]
INTS = ["uint8", "int32", "int8", "int64"]
ALL = FLOATS + INTS + ["bool"]
DTYPE_FLAG = {"float32": 0, "float64": 1, "float16": 2, "uint8": 3, "int32": 4, "int8": 5,
              "int64": 6, "bool": 7}
TOL = {"float32": (1e-5, 1e-6), "float64": (1e-12, 1e-14), "float16": (2e-3, 2e-3)}
# Error codes of the C ABI (mxn_status).
E_ARG, E_SHAPE, E_DTYPE, E_NOT_IMPLEMENTED = 1, 2, 3, 8


class Gen:
    def __init__(self):
        self.cases = {}
        self.rng = np.random.default_rng(20240601)

    # ---- values ---------------------------------------------------------------------------
    def values(self, shape, dtype, lo=-4.0, hi=4.0, step=0.25, distinct=False):
        """Deterministic inputs that are exact in every dtype involved (dyadic, small)."""
        n = int(np.prod(shape)) if len(shape) else 1
        if dtype == "bool":
            v = self.rng.integers(0, 2, n)
        elif dtype in INTS:
            lo_i = max(int(lo), 0) if dtype == "uint8" else int(lo)
            lo_i = max(lo_i, -100)
            hi_i = min(int(hi), 100)
            if distinct:
                v = self.rng.permutation(np.arange(lo_i, lo_i + n))
            else:
                v = self.rng.integers(lo_i, hi_i + 1, n)
        else:
            k_lo, k_hi = int(round(lo / step)), int(round(hi / step))
            if distinct:
                v = self.rng.permutation(np.arange(k_lo, k_lo + n)) * step
            else:
                v = self.rng.integers(k_lo, k_hi + 1, n) * step
        return np.asarray(v).astype(dtype).reshape(shape)

    def add(self, family, cid, steps):
        cid = f"{family}/{cid}"
        assert cid not in self.cases, cid
        self.cases[cid] = {"id": cid, "family": family, "steps": steps}


def jnum(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == int(x) and abs(x) < 2 ** 53:
        return int(x)
    return x


def arr_step(slot, a):
    a = np.asarray(a)
    return {"do": "array", "slot": slot, "dtype": str(a.dtype), "shape": list(a.shape),
            "values": [jnum(v) for v in a.reshape(-1)]}


def check_step(slot, expected, exact=True, rtol=None, atol=None):
    e = np.asarray(expected)
    step = {"do": "check", "slot": slot, "dtype": str(e.dtype), "shape": list(e.shape),
            "values": [jnum(v) for v in e.reshape(-1)]}
    if exact:
        step["hex"] = e.astype(e.dtype.newbyteorder("<")).tobytes().hex()
    else:
        d_rtol, d_atol = TOL.get(str(e.dtype), (0, 0))
        step["rtol"] = d_rtol if rtol is None else rtol
        step["atol"] = d_atol if atol is None else atol
    return step


def invoke(fn, inputs, params=None, outputs=("out",), error=None):
    s = {"do": "invoke", "fn": fn, "inputs": list(inputs), "params": params or {},
         "outputs": list(outputs)}
    if error is not None:
        s["error"] = error
    return s


def err(code, arg_index=None, axis=None):
    return {"code": code, "arg_index": arg_index, "axis": axis}


def op_case(g, family, cid, fn, arrays, params, expected, exact=True, rtol=None, atol=None):
    """arrays: list of numpy inputs (slots x0, x1, ...); expected: one array or a list."""
    slots = [f"x{i}" for i in range(len(arrays))]
    steps = [arr_step(s, a) for s, a in zip(slots, arrays)]
    exps = expected if isinstance(expected, list) else [expected]
    outs = [f"y{i}" for i in range(len(exps))]
    steps.append(invoke(fn, slots, params, outs))
    for o, e in zip(outs, exps):
        steps.append(check_step(o, e, exact, rtol, atol))
    g.add(family, cid, steps)


def error_case(g, family, cid, fn, arrays, params, error):
    slots = [f"x{i}" for i in range(len(arrays))]
    steps = [arr_step(s, a) for s, a in zip(slots, arrays)]
    steps.append(invoke(fn, slots, params, ["y0"], error=error))
    g.add(family, cid, steps)


# ---- families ------------------------------------------------------------------------------

def creation(g):
    for dt in ALL:
        a = g.values((2, 3), dt)
        g.add("creation", f"array_roundtrip/{dt}", [arr_step("a", a), check_step("a", a)])
    for dt in ALL:
        a = g.values((), dt)
        g.add("creation", f"array_0d/{dt}", [arr_step("a", a), check_step("a", a)])
    for dt in ["float32", "int32", "bool"]:
        for shape in [(0,), (2, 0), (0, 3, 1)]:
            a = np.zeros(shape, dt)
            g.add("creation", f"array_0size/{dt}/{'x'.join(map(str, shape))}",
                  [arr_step("a", a), check_step("a", a)])
    a = g.values((2, 1, 3, 1, 2), "float32")
    g.add("creation", "array_5d", [arr_step("a", a), check_step("a", a)])
    for dt in ["float32", "float64", "int32", "int64", "uint8"]:
        op_case(g, "creation", f"zeros/{dt}", "_zeros", [], {"shape": [2, 3], "dtype": dt},
                np.zeros((2, 3), dt))
        op_case(g, "creation", f"ones/{dt}", "_ones", [], {"shape": [3, 1, 2], "dtype": dt},
                np.ones((3, 1, 2), dt))
        op_case(g, "creation", f"full/{dt}", "_full", [],
                {"shape": [2, 2], "dtype": dt, "value": 7}, np.full((2, 2), 7, dt))
    op_case(g, "creation", "zeros/0size", "_zeros", [], {"shape": [0, 4]}, np.zeros((0, 4), "float32"))
    op_case(g, "creation", "full/0d", "_full", [], {"shape": [], "value": -2.5},
            np.full((), -2.5, "float32"))
    for dt in ["float32", "float64", "int32", "int64"]:
        op_case(g, "creation", f"arange/{dt}", "_arange", [],
                {"start": 1, "stop": 11, "step": 2, "dtype": dt}, np.arange(1, 11, 2).astype(dt))
    op_case(g, "creation", "arange/repeat", "_arange", [],
            {"start": 0, "stop": 3, "repeat": 2}, np.repeat(np.arange(3), 2).astype("float32"))
    op_case(g, "creation", "arange/frac", "_arange", [],
            {"start": -1, "stop": 1, "step": 0.25}, np.arange(-1, 1, 0.25).astype("float32"))
    for fn, f in [("zeros_like", np.zeros_like), ("ones_like", np.ones_like)]:
        for dt in ["float32", "int8", "float16"]:
            a = g.values((3, 2), dt)
            op_case(g, "creation", f"{fn}/{dt}", fn, [a], {}, f(a))


BINARY = {
    "broadcast_add": (np.add, True), "broadcast_sub": (np.subtract, True),
    "broadcast_mul": (np.multiply, True), "broadcast_div": (np.divide, True),
    "broadcast_maximum": (np.maximum, True), "broadcast_minimum": (np.minimum, True),
    "broadcast_power": (np.power, False), "broadcast_hypot": (np.hypot, False),
    "broadcast_mod": (np.mod, True),
}
COMPARE = {
    "broadcast_equal": np.equal, "broadcast_not_equal": np.not_equal,
    "broadcast_greater": np.greater, "broadcast_greater_equal": np.greater_equal,
    "broadcast_lesser": np.less, "broadcast_lesser_equal": np.less_equal,
    "broadcast_logical_and": np.logical_and, "broadcast_logical_or": np.logical_or,
    "broadcast_logical_xor": np.logical_xor,
}
ELEMWISE = {"elemwise_add": np.add, "elemwise_sub": np.subtract, "elemwise_mul": np.multiply,
            "elemwise_div": np.divide}


def binary(g):
    shapes = [((2, 3), (2, 3), "same"), ((2, 3), (1, 3), "row"), ((4, 1), (1, 3), "outer"),
              ((2, 1, 3), (4, 1), "rank"), ((), (2, 2), "scalar0d"), ((0, 3), (1, 3), "zero")]
    for fn, (f, exact) in BINARY.items():
        for dt in ["float32", "float64"]:
            for sa, sb, tag in shapes[:4] if dt == "float32" else shapes[:2]:
                lo = 0.25 if fn in ("broadcast_div", "broadcast_mod", "broadcast_power") else -4
                a = g.values(sa, dt, lo=lo, hi=4)
                b = g.values(sb, dt, lo=0.25 if fn != "broadcast_power" else -2,
                             hi=4 if fn != "broadcast_power" else 2)
                if fn in ("broadcast_add", "broadcast_sub", "broadcast_mul", "broadcast_maximum",
                          "broadcast_minimum"):
                    b = g.values(sb, dt)
                with np.errstate(all="ignore"):
                    e = f(a, b).astype(dt)
                op_case(g, "broadcast", f"{fn}/{dt}/{tag}", fn, [a, b], {}, e, exact)
    for sa, sb, tag in shapes[4:]:
        a, b = g.values(sa, "float32"), g.values(sb, "float32")
        op_case(g, "broadcast", f"broadcast_add/float32/{tag}", "broadcast_add", [a, b], {}, a + b)
        op_case(g, "broadcast", f"broadcast_mul/float32/{tag}", "broadcast_mul", [a, b], {}, a * b)
    # every dtype through the exact ops
    for dt in ["float16"] + INTS + ["bool"]:
        for fn in ["broadcast_add", "broadcast_mul", "broadcast_maximum", "broadcast_minimum"]:
            if dt == "bool" and fn in ("broadcast_add", "broadcast_mul"):
                continue
            lo, hi = (0, 10) if dt in ("uint8", "int8") else (-10, 10)
            a, b = g.values((2, 3), dt, lo, hi), g.values((1, 3), dt, lo, hi)
            op_case(g, "broadcast", f"{fn}/{dt}/row", fn, [a, b], {},
                    BINARY[fn][0](a, b).astype(dt))
        if dt in INTS:
            a = g.values((2, 3), dt, 0, 10)
            b = g.values((2, 3), dt, 1, 5)
            op_case(g, "broadcast", f"broadcast_sub/{dt}", "broadcast_sub", [a, b], {},
                    (a.astype(np.int64) - b).astype(dt))
            op_case(g, "broadcast", f"broadcast_div/{dt}/exactquot", "broadcast_div",
                    [a * b, b], {}, a)
            op_case(g, "broadcast", f"broadcast_mod/{dt}", "broadcast_mod", [a, b], {}, np.mod(a, b))
    for fn, f in COMPARE.items():
        for dt in ["float32", "int32", "float64"]:
            a = g.values((2, 3), dt, -2, 2)
            b = g.values((1, 3), dt, -2, 2)
            op_case(g, "compare", f"{fn}/{dt}", fn, [a, b], {}, f(a, b).astype(dt))
    for fn in ["broadcast_equal", "broadcast_logical_and"]:
        a, b = g.values((2, 2), "bool"), g.values((2, 2), "bool")
        op_case(g, "compare", f"{fn}/bool", fn, [a, b], {}, COMPARE[fn](a, b))
    for fn, f in ELEMWISE.items():
        for dt in ["float32", "float64", "float16"]:
            a = g.values((3, 2), dt, 0.25, 4)
            b = g.values((3, 2), dt, 0.25, 4)
            op_case(g, "elemwise", f"{fn}/{dt}", fn, [a, b], {}, f(a, b).astype(dt))
    a, b = g.values((2, 2), "float32"), g.values((2, 2), "float32")
    for fn, f in [("_maximum", np.maximum), ("_minimum", np.minimum), ("_equal", np.equal),
                  ("_greater", np.greater), ("_lesser_equal", np.less_equal)]:
        op_case(g, "elemwise", f"{fn}/float32", fn, [a, b], {}, f(a, b).astype("float32"))
    p = g.values((2, 2), "float32", 0.25, 2)
    op_case(g, "elemwise", "_power/float32", "_power", [p, b], {}, np.power(p, b), False)
    op_case(g, "elemwise", "_hypot/float32", "_hypot", [a, b], {}, np.hypot(a, b), False)
    xs = [g.values((2, 3), "float32") for _ in range(4)]
    op_case(g, "elemwise", "add_n/4", "add_n", xs, {}, xs[0] + xs[1] + xs[2] + xs[3])
    op_case(g, "elemwise", "add_n/1", "add_n", xs[:1], {}, xs[0])


SCALAR = {
    "_plus_scalar": lambda x, s: x + s, "_minus_scalar": lambda x, s: x - s,
    "_rminus_scalar": lambda x, s: s - x, "_mul_scalar": lambda x, s: x * s,
    "_div_scalar": lambda x, s: x / s, "_rdiv_scalar": lambda x, s: s / x,
    "_maximum_scalar": np.maximum, "_minimum_scalar": np.minimum,
    "_equal_scalar": lambda x, s: x == s, "_not_equal_scalar": lambda x, s: x != s,
    "_greater_scalar": lambda x, s: x > s, "_greater_equal_scalar": lambda x, s: x >= s,
    "_lesser_scalar": lambda x, s: x < s, "_lesser_equal_scalar": lambda x, s: x <= s,
    "_mod_scalar": lambda x, s: np.mod(x, s), "_rmod_scalar": lambda x, s: np.mod(s, x),
    "_power_scalar": lambda x, s: np.power(x, s), "_rpower_scalar": lambda x, s: np.power(s, x),
}


def scalar(g):
    for fn, f in SCALAR.items():
        dts = ["float32", "float64"] if fn not in ("_power_scalar", "_rpower_scalar") else ["float32"]
        for dt in dts:
            positive = fn in ("_rdiv_scalar", "_mod_scalar", "_rmod_scalar", "_power_scalar",
                              "_rpower_scalar")
            x = g.values((2, 3), dt, 0.25 if positive else -4, 4)
            s = 1.5 if fn not in ("_power_scalar", "_rpower_scalar") else 2.0
            if fn == "_div_scalar":
                s = 0.5
            dtyp = np.dtype(dt).type
            with np.errstate(all="ignore"):
                e = np.asarray(f(x, dtyp(s))).astype(dt)
            exact = fn not in ("_rpower_scalar",)
            op_case(g, "scalar", f"{fn}/{dt}", fn, [x], {"scalar": s}, e, exact)
    for dt in INTS + ["float16"]:
        x = g.values((2, 3), dt, 0, 20)
        dtyp = np.dtype(dt).type
        op_case(g, "scalar", f"_plus_scalar/{dt}", "_plus_scalar", [x], {"scalar": 3},
                (x + dtyp(3)).astype(dt))
        op_case(g, "scalar", f"_mul_scalar/{dt}", "_mul_scalar", [x], {"scalar": 2},
                (x * dtyp(2)).astype(dt))
        op_case(g, "scalar", f"_greater_scalar/{dt}", "_greater_scalar", [x], {"scalar": 10},
                (x > dtyp(10)).astype(dt))
    x = g.values((), "float32")
    op_case(g, "scalar", "_plus_scalar/0d", "_plus_scalar", [x], {"scalar": 0.5}, x + np.float32(0.5))
    x = np.zeros((0, 2), "float32")
    op_case(g, "scalar", "_mul_scalar/0size", "_mul_scalar", [x], {"scalar": 2}, x)
    v = g.values((6,), "float32", -3, 3)
    sig = 1.0
    e = np.where(np.abs(v) < 1 / sig ** 2, 0.5 * (sig * v) ** 2, np.abs(v) - 0.5 / sig ** 2)
    op_case(g, "scalar", "smooth_l1/float32", "smooth_l1", [v], {"scalar": sig},
            e.astype("float32"))
    v = g.values((2, 3), "float32", -4, 4)
    op_case(g, "scalar", "clip/float32", "clip", [v], {"a_min": -1.5, "a_max": 2},
            np.clip(v, -1.5, 2).astype("float32"))
    vi = g.values((2, 3), "int32", -10, 10)
    op_case(g, "scalar", "clip/int32", "clip", [vi], {"a_min": -3, "a_max": 4}, np.clip(vi, -3, 4))


def _mx_round(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


UNARY_EXACT = {
    "abs": np.abs, "negative": np.negative, "floor": np.floor, "ceil": np.ceil,
    "trunc": np.trunc, "fix": np.trunc, "rint": np.rint, "round": _mx_round, "sign": np.sign,
    "square": np.square, "sqrt": np.sqrt, "relu": lambda x: np.maximum(x, 0),
    "reciprocal": lambda x: 1 / x, "_copy": lambda x: x, "BlockGrad": lambda x: x,
    "make_loss": lambda x: x,
}
UNARY_TOL = {
    "exp": (np.exp, -2, 2), "expm1": (np.expm1, -2, 2), "log": (np.log, 0.25, 8),
    "log10": (np.log10, 0.25, 8), "log2": (np.log2, 0.25, 8), "log1p": (np.log1p, -0.5, 4),
    "sin": (np.sin, -3, 3), "cos": (np.cos, -3, 3), "tan": (np.tan, -1, 1),
    "arcsin": (np.arcsin, -0.75, 0.75), "arccos": (np.arccos, -0.75, 0.75),
    "arctan": (np.arctan, -4, 4), "sinh": (np.sinh, -2, 2), "cosh": (np.cosh, -2, 2),
    "tanh": (np.tanh, -3, 3), "arcsinh": (np.arcsinh, -4, 4), "arccosh": (np.arccosh, 1, 4),
    "arctanh": (np.arctanh, -0.75, 0.75), "sigmoid": (_sigmoid, -4, 4),
    "softsign": (lambda x: x / (1 + np.abs(x)), -4, 4), "cbrt": (np.cbrt, -4, 4),
    "rsqrt": (lambda x: 1 / np.sqrt(x), 0.25, 4),
    "erf": (np.vectorize(math.erf), -2, 2), "gamma": (np.vectorize(math.gamma), 0.25, 4),
    "gammaln": (np.vectorize(math.lgamma), 0.25, 4),
}


def unary(g):
    for fn, f in UNARY_EXACT.items():
        for dt in FLOATS:
            lo = 0.25 if fn in ("sqrt", "reciprocal") else -4
            step = 0.125 if fn in ("floor", "ceil", "trunc", "fix", "rint", "round") else 0.25
            x = g.values((2, 3), dt, lo, 4, step)
            if fn == "sqrt":
                x = (g.values((2, 3), dt, 0, 4, 0.5) ** 2).astype(dt)
            op_case(g, "unary", f"{fn}/{dt}", fn, [x], {}, np.asarray(f(x)).astype(dt))
    for fn in ["abs", "sign", "square", "relu", "negative"]:
        for dt in ["int32", "int8", "int64"]:
            x = g.values((2, 3), dt, -9, 9)
            op_case(g, "unary", f"{fn}/{dt}", fn, [x], {}, np.asarray(UNARY_EXACT[fn](x)).astype(dt))
    x = g.values((), "float32")
    op_case(g, "unary", "abs/0d", "abs", [x], {}, np.abs(x))
    x = np.zeros((3, 0), "float32")
    op_case(g, "unary", "exp/0size", "exp", [x], {}, np.exp(x))
    for fn, (f, lo, hi) in UNARY_TOL.items():
        for dt in (["float32", "float64"] if fn not in ("exp", "log", "tanh", "sigmoid")
                   else FLOATS):
            x = g.values((2, 3), dt, lo, hi, 0.125)
            e = f(x.astype("float64")).astype(dt)
            op_case(g, "unary", f"{fn}/{dt}", fn, [x], {}, e, exact=False)


def _mx_reduce_shape(shape, axis, keepdims, exclude):
    nd = len(shape)
    if axis is None:
        axes = list(range(nd))
    else:
        axes = [a % nd for a in (axis if isinstance(axis, list) else [axis])]
    if exclude:
        axes = [a for a in range(nd) if a not in axes]
    return tuple(axes)


def reduce(g):
    fns = {"sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min, "mean": np.mean,
           "nansum": np.nansum}
    configs = [("all", {}, None, False, False), ("axis1", {"axis": [1]}, 1, False, False),
               ("axis0_keep", {"axis": [0], "keepdims": True}, 0, True, False),
               ("axes02", {"axis": [0, 2]}, [0, 2], False, False),
               ("neg", {"axis": [-1]}, -1, False, False),
               ("exclude", {"axis": [1], "exclude": True}, [1], False, True)]
    for fn, f in fns.items():
        for dt in ["float32", "float64"]:
            for tag, params, axis, keep, excl in configs:
                x = g.values((2, 3, 2), dt, -2, 2, 0.5 if fn == "prod" else 0.25)
                axes = _mx_reduce_shape(x.shape, axis, keep, excl)
                e = f(x, axis=axes, keepdims=keep).astype(dt)
                if e.ndim == 0:
                    e = e.reshape(1)   # MXNet 1.x: a full reduction gives shape (1,)
                op_case(g, "reduce", f"{fn}/{dt}/{tag}", fn, [x], params, e,
                        exact=fn not in ("mean",))
        for dt in ["int32", "int64", "float16"]:
            if fn in ("mean", "nansum") and dt != "float16":
                continue
            x = g.values((3, 4), dt, -3, 3)
            e = f(x, axis=1).astype(dt)
            op_case(g, "reduce", f"{fn}/{dt}/axis1", fn, [x], {"axis": [1]}, e,
                    exact=fn != "mean")
    x = g.values((), "float32")
    op_case(g, "reduce", "sum/0d", "sum", [x], {}, x.reshape(1))
    x = np.zeros((2, 0), "float32")
    op_case(g, "reduce", "sum/0size_axis1", "sum", [x], {"axis": [1]}, np.zeros((2,), "float32"))
    op_case(g, "reduce", "sum/0size_axis0", "sum", [x], {"axis": [0]}, np.zeros((0,), "float32"))
    op_case(g, "reduce", "prod/0size_axis1", "prod", [x], {"axis": [1]}, np.ones((2,), "float32"))
    xn = g.values((2, 3), "float32").astype("float32")
    xn[0, 1] = np.nan
    op_case(g, "reduce", "nansum/with_nan", "nansum", [xn], {"axis": [1]},
            np.nansum(xn, axis=1).astype("float32"))
    for ordv in [1, 2]:
        x = g.values((3, 4), "float32", -2, 2)
        e = np.linalg.norm(x.astype("float64"), ord=ordv, axis=1).astype("float32")
        op_case(g, "reduce", f"norm/ord{ordv}/axis1", "norm", [x], {"ord": ordv, "axis": [1]}, e,
                exact=ordv == 1)
    x = g.values((2, 3), "float32", -2, 2)
    op_case(g, "reduce", "norm/all", "norm", [x], {},
            np.asarray([np.sqrt(np.sum(x.astype('float64') ** 2))]).astype("float32"), exact=False)
    for fn, f in [("argmax", np.argmax), ("argmin", np.argmin)]:
        for dt in ["float32", "float64", "int32"]:
            x = g.values((3, 4), dt, -6, 6, distinct=True)
            # indices as floats: the input's dtype for float inputs, float32 otherwise
            odt = dt if dt in FLOATS else "float32"
            op_case(g, "reduce", f"{fn}/{dt}/axis1", fn, [x], {"axis": 1},
                    f(x, axis=1).astype(odt))
            op_case(g, "reduce", f"{fn}/{dt}/axis0_keep", fn, [x], {"axis": 0, "keepdims": True},
                    f(x, axis=0).reshape(1, 4).astype(odt))
    x = g.values((2, 5), "float32", distinct=True)
    op_case(g, "reduce", "argmax_channel", "argmax_channel", [x], {},
            np.argmax(x, axis=1).astype("float32"))


def shape_ops(g):
    x = g.values((2, 3, 4), "float32")
    for tag, shp, ref in [("plain", [4, 6], (4, 6)), ("infer", [-1, 4], (6, 4)),
                          ("copy0", [0, -1], (2, 12)), ("rest", [-2], (2, 3, 4)),
                          ("merge", [-3, 4], (6, 4)), ("split", [-4, 1, 2, -2], (1, 2, 3, 4))]:
        op_case(g, "shape", f"reshape/{tag}", "Reshape", [x], {"shape": shp}, x.reshape(ref))
    for dt in ALL:
        xd = g.values((2, 3), dt)
        op_case(g, "shape", f"transpose/{dt}", "transpose", [xd], {}, xd.T)
    op_case(g, "shape", "transpose/axes", "transpose", [x], {"axes": [1, 0, 2]},
            x.transpose(1, 0, 2))
    op_case(g, "shape", "transpose/0size", "transpose", [np.zeros((0, 2), "float32")], {},
            np.zeros((2, 0), "float32"))
    for ax in [0, 1, 3, -1]:
        op_case(g, "shape", f"expand_dims/{ax}", "expand_dims", [x], {"axis": ax},
                np.expand_dims(x, ax))
    op_case(g, "shape", "Flatten", "Flatten", [x], {}, x.reshape(2, 12))
    y = g.values((1, 3, 1), "float32")
    op_case(g, "shape", "squeeze/all", "squeeze", [y], {}, y.reshape(3))
    op_case(g, "shape", "squeeze/axis", "squeeze", [y], {"axis": [2]}, y.reshape(1, 3))
    op_case(g, "shape", "slice/basic", "slice", [x], {"begin": [0, 1], "end": [2, 3]},
            x[0:2, 1:3])
    op_case(g, "shape", "slice/none_step", "slice", [x],
            {"begin": [None, None, 3], "end": [None, None, 0], "step": [1, 2, -1]},
            x[:, ::2, 3:0:-1])
    op_case(g, "shape", "slice/neg", "slice", [x], {"begin": [-1], "end": [None]}, x[-1:])
    for ax, b, e in [(0, 0, 1), (1, 1, 3), (2, -2, None), (-1, 0, 2)]:
        op_case(g, "shape", f"slice_axis/{ax}_{b}_{e}", "slice_axis", [x],
                {"axis": ax, "begin": b, "end": e},
                x[tuple([slice(None)] * (ax % 3) + [slice(b, e)])])
    a, b = g.values((2, 3), "float32"), g.values((2, 2), "float32")
    op_case(g, "shape", "Concat/dim1", "Concat", [a, b], {"dim": 1}, np.concatenate([a, b], 1))
    c = g.values((1, 3), "float32")
    op_case(g, "shape", "Concat/dim0_3", "Concat", [a, c, a], {"dim": 0},
            np.concatenate([a, c, a], 0))
    for dt in ["int32", "float64", "uint8"]:
        p, q = g.values((2, 2), dt), g.values((2, 2), dt)
        op_case(g, "shape", f"Concat/{dt}", "Concat", [p, q], {"dim": 0}, np.concatenate([p, q]))
    op_case(g, "shape", "Concat/0size", "Concat", [a, np.zeros((0, 3), "float32")], {"dim": 0}, a)
    for ax in [0, 1, 2, -1]:
        op_case(g, "shape", f"stack/{ax}", "stack", [a, a * 2], {"axis": ax},
                np.stack([a, a * 2], ax))
    op_case(g, "shape", "tile", "tile", [a], {"reps": [2, 1, 2]}, np.tile(a, (2, 1, 2)))
    op_case(g, "shape", "repeat/axis1", "repeat", [a], {"repeats": 2, "axis": 1},
            np.repeat(a, 2, 1))
    op_case(g, "shape", "repeat/flat", "repeat", [a], {"repeats": 3}, np.repeat(a, 3))
    op_case(g, "shape", "reverse/0", "reverse", [x], {"axis": [0]}, x[::-1])
    op_case(g, "shape", "reverse/12", "reverse", [x], {"axis": [1, 2]}, x[:, ::-1, ::-1])
    op_case(g, "shape", "SwapAxis", "SwapAxis", [x], {"dim1": 0, "dim2": 2}, x.swapaxes(0, 2))
    r = g.values((1, 3), "float32")
    op_case(g, "shape", "broadcast_to", "broadcast_to", [r], {"shape": [4, 3]},
            np.broadcast_to(r, (4, 3)))
    op_case(g, "shape", "broadcast_to/keep0", "broadcast_to", [r], {"shape": [0, 3]}, r)
    r2 = g.values((1, 3, 1), "float32")
    op_case(g, "shape", "broadcast_axis", "broadcast_axis", [r2], {"axis": [0, 2], "size": [2, 4]},
            np.broadcast_to(r2, (2, 3, 4)))
    op_case(g, "shape", "broadcast_like", "broadcast_like", [r, a], {}, np.broadcast_to(r, a.shape))
    op_case(g, "shape", "reshape_like", "reshape_like", [x, np.zeros((6, 4), "float32")], {},
            x.reshape(6, 4))
    op_case(g, "shape", "slice_like", "slice_like", [x, np.zeros((1, 2, 3), "float32")], {},
            x[:1, :2, :3])
    op_case(g, "shape", "shape_array", "shape_array", [x], {}, np.array([2, 3, 4], "int64"))
    op_case(g, "shape", "size_array", "size_array", [x], {}, np.array([24], "int64"))
    sp = g.values((2, 6), "float32")
    op_case(g, "shape", "SliceChannel/3", "SliceChannel", [sp], {"num_outputs": 3},
            [sp[:, 0:2], sp[:, 2:4], sp[:, 4:6]])
    op_case(g, "shape", "SliceChannel/squeeze", "SliceChannel", [sp],
            {"num_outputs": 2, "axis": 0, "squeeze_axis": True}, [sp[0], sp[1]])
    pd = g.values((1, 1, 2, 3), "float32")
    op_case(g, "shape", "Pad/constant", "Pad", [pd],
            {"mode": "constant", "pad_width": [0, 0, 0, 0, 1, 1, 2, 0], "constant_value": 1.5},
            np.pad(pd, ((0, 0), (0, 0), (1, 1), (2, 0)), constant_values=1.5))
    op_case(g, "shape", "Pad/edge", "Pad", [pd],
            {"mode": "edge", "pad_width": [0, 0, 0, 0, 1, 0, 0, 1]},
            np.pad(pd, ((0, 0), (0, 0), (1, 0), (0, 1)), mode="edge"))


def cast(g):
    for src in ALL:
        for dst in ALL:
            if src == dst:
                continue
            lo, hi = (0, 100) if "uint8" in (src, dst) else (-100, 100)
            if "int8" in (src, dst):
                hi = min(hi, 100)
            if "bool" in (src, dst):
                lo, hi = 0, 1
            x = g.values((2, 3), src, lo, hi, 1.0)
            op_case(g, "cast", f"{src}_to_{dst}", "Cast", [x], {"dtype": dst}, x.astype(dst))
    x = g.values((4,), "float32", -2, 2, 0.25)
    op_case(g, "cast", "float32_to_int32_trunc", "Cast", [x], {"dtype": "int32"},
            np.trunc(x).astype("int32"))


def index_ops(g):
    d = g.values((4, 3), "float32")
    for mode in ["clip", "wrap"]:
        idx = np.array([0, 3, 5, -1], "float32")
        ii = np.clip(idx, 0, 3) if mode == "clip" else np.mod(idx, 4)
        op_case(g, "index", f"take/{mode}", "take", [d, idx], {"mode": mode}, d[ii.astype(int)])
    idx2 = np.array([[0, 1], [2, 0]], "int32")
    op_case(g, "index", "take/axis1_int32", "take", [d, idx2], {"axis": 1}, np.take(d, idx2, 1))
    pidx = np.array([2, 0, 1, 1], "float32")
    op_case(g, "index", "pick/axis1", "pick", [d, pidx], {"axis": 1},
            d[np.arange(4), pidx.astype(int)])
    op_case(g, "index", "pick/keepdims", "pick", [d, pidx], {"axis": 1, "keepdims": True},
            d[np.arange(4), pidx.astype(int)].reshape(4, 1))
    oi = np.array([1, 0, 3], "float32")
    for dt in ["float32", "int32"]:
        op_case(g, "index", f"one_hot/{dt}", "one_hot", [oi], {"depth": 4, "dtype": dt},
                np.eye(4, dtype=dt)[oi.astype(int)])
    op_case(g, "index", "one_hot/on_off", "one_hot", [oi],
            {"depth": 3, "on_value": 2, "off_value": -1},
            np.array([[-1, 2, -1], [2, -1, -1], [-1, -1, -1]], "float32"))
    gi = np.array([[0, 3, 1], [2, 0, 1]], "int32")
    op_case(g, "index", "gather_nd", "gather_nd", [d, gi], {}, d[gi[0], gi[1]])
    cond = g.values((4, 3), "float32", 0, 1, 1.0)
    e = g.values((4, 3), "float32")
    op_case(g, "index", "where", "where", [cond, d, e], {}, np.where(cond != 0, d, e))


def linalg(g):
    for dt in ["float32", "float64"]:
        a, b = g.values((2, 3), dt), g.values((3, 4), dt)
        op_case(g, "linalg", f"dot/{dt}", "dot", [a, b], {}, a @ b)
        op_case(g, "linalg", f"dot/{dt}/ta", "dot", [a.T.copy(), b], {"transpose_a": True}, a @ b)
        op_case(g, "linalg", f"dot/{dt}/tb", "dot", [a, b.T.copy()], {"transpose_b": True}, a @ b)
        ba, bb = g.values((3, 2, 4), dt), g.values((3, 4, 2), dt)
        op_case(g, "linalg", f"batch_dot/{dt}", "batch_dot", [ba, bb], {}, ba @ bb)
        op_case(g, "linalg", f"batch_dot/{dt}/tb", "batch_dot", [ba, ba], {"transpose_b": True},
                ba @ ba.transpose(0, 2, 1))
    v, w = g.values((5,), "float32"), g.values((5,), "float32")
    op_case(g, "linalg", "dot/1d", "dot", [v, w], {}, np.asarray([v @ w], "float32"))
    m = g.values((5, 2), "float32")
    op_case(g, "linalg", "dot/1d2d", "dot", [v, m], {}, v @ m)
    a3, b3 = g.values((2, 2, 3), "float32"), g.values((3, 2), "float32")
    op_case(g, "linalg", "dot/3d2d", "dot", [a3, b3], {}, np.tensordot(a3, b3, 1))
    op_case(g, "linalg", "dot/0size", "dot", [np.zeros((2, 0), "float32"),
                                              np.zeros((0, 3), "float32")], {},
            np.zeros((2, 3), "float32"))
    ga, gb = g.values((2, 2, 3), "float32"), g.values((2, 3, 2), "float32")
    op_case(g, "linalg", "linalg_gemm2/alpha", "_linalg_gemm2", [ga, gb], {"alpha": 0.5},
            0.5 * (ga @ gb))


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def nn(g):
    x = g.values((2, 4), "float32", -2, 2)
    w = g.values((3, 4), "float32", -1, 1)
    b = g.values((3,), "float32", -1, 1)
    op_case(g, "nn", "FullyConnected/bias", "FullyConnected", [x, w, b], {"num_hidden": 3},
            x @ w.T + b)
    op_case(g, "nn", "FullyConnected/no_bias", "FullyConnected", [x, w],
            {"num_hidden": 3, "no_bias": True}, x @ w.T)
    x4 = g.values((2, 2, 2), "float32", -2, 2)
    op_case(g, "nn", "FullyConnected/flatten", "FullyConnected", [x4, w, b], {"num_hidden": 3},
            x4.reshape(2, 4) @ w.T + b)
    w2 = g.values((3, 2), "float32", -1, 1)
    op_case(g, "nn", "FullyConnected/no_flatten", "FullyConnected", [x4, w2, b],
            {"num_hidden": 3, "flatten": False}, x4 @ w2.T + b)
    xd = g.values((2, 4), "float64", -2, 2)
    wd = g.values((3, 4), "float64", -1, 1)
    bd = g.values((3,), "float64", -1, 1)
    op_case(g, "nn", "FullyConnected/float64", "FullyConnected", [xd, wd, bd], {"num_hidden": 3},
            xd @ wd.T + bd)
    acts = {"relu": (lambda v: np.maximum(v, 0), True), "sigmoid": (_sigmoid, False),
            "tanh": (np.tanh, False), "softrelu": (lambda v: np.log1p(np.exp(v)), False),
            "softsign": (lambda v: v / (1 + np.abs(v)), False)}
    for act, (f, exact) in acts.items():
        for dt in ["float32", "float64"]:
            xa = g.values((2, 3), dt, -3, 3)
            op_case(g, "nn", f"Activation/{act}/{dt}", "Activation", [xa], {"act_type": act},
                    f(xa.astype("float64")).astype(dt), exact)
    xl = g.values((2, 3), "float32", -3, 3)
    op_case(g, "nn", "LeakyReLU/leaky", "LeakyReLU", [xl], {"act_type": "leaky", "slope": 0.25},
            np.where(xl > 0, xl, 0.25 * xl).astype("float32"))
    op_case(g, "nn", "LeakyReLU/elu", "LeakyReLU", [xl], {"act_type": "elu", "slope": 0.5},
            np.where(xl > 0, xl, 0.5 * np.expm1(xl.astype("float64"))).astype("float32"), False)
    for ax in [-1, 0]:
        for dt in ["float32", "float64"]:
            xs = g.values((3, 4), dt, -2, 2)
            op_case(g, "nn", f"softmax/{dt}/axis{ax}", "softmax", [xs], {"axis": ax},
                    _softmax(xs.astype("float64"), ax).astype(dt), False)
            op_case(g, "nn", f"log_softmax/{dt}/axis{ax}", "log_softmax", [xs], {"axis": ax},
                    np.log(_softmax(xs.astype("float64"), ax)).astype(dt), False)
    xs = g.values((2, 5), "float32", -2, 2)
    op_case(g, "nn", "softmax/temperature", "softmax", [xs], {"temperature": 2.0},
            _softmax(xs.astype("float64") / 2, -1).astype("float32"), False)
    op_case(g, "nn", "SoftmaxActivation", "SoftmaxActivation", [xs], {},
            _softmax(xs.astype("float64"), 1).astype("float32"), False)
    # convolution, NCHW
    data = g.values((1, 2, 4, 4), "float32", -2, 2, 0.5)
    wt = g.values((3, 2, 3, 3), "float32", -1, 1, 0.5)
    bias = g.values((3,), "float32", -1, 1, 0.5)
    for tag, stride, pad in [("s1p0", 1, 0), ("s1p1", 1, 1), ("s2p1", 2, 1)]:
        e = _conv2d(data, wt, bias, stride, pad)
        op_case(g, "nn", f"Convolution/{tag}", "Convolution", [data, wt, bias],
                {"kernel": [3, 3], "stride": [stride, stride], "pad": [pad, pad],
                 "num_filter": 3}, e)
    e = _conv2d(data, wt, None, 1, 0)
    op_case(g, "nn", "Convolution/no_bias", "Convolution", [data, wt],
            {"kernel": [3, 3], "num_filter": 3, "no_bias": True}, e)
    d1 = g.values((2, 2, 5), "float32", -2, 2, 0.5)
    w1 = g.values((2, 2, 3), "float32", -1, 1, 0.5)
    b1 = np.zeros((2,), "float32")
    e1 = _conv2d(d1[:, :, None, :], w1[:, :, None, :], b1, 1, 0)[:, :, 0, :]
    op_case(g, "nn", "Convolution/1d", "Convolution", [d1, w1, b1],
            {"kernel": [3], "num_filter": 2}, e1)
    pdat = g.values((1, 2, 4, 4), "float32", -4, 4)
    op_case(g, "nn", "Pooling/max2x2", "Pooling", [pdat],
            {"kernel": [2, 2], "stride": [2, 2], "pool_type": "max"},
            pdat.reshape(1, 2, 2, 2, 2, 2).max(axis=(3, 5)))
    op_case(g, "nn", "Pooling/avg2x2", "Pooling", [pdat],
            {"kernel": [2, 2], "stride": [2, 2], "pool_type": "avg"},
            pdat.reshape(1, 2, 2, 2, 2, 2).mean(axis=(3, 5)).astype("float32"))
    op_case(g, "nn", "Pooling/global_max", "Pooling", [pdat],
            {"kernel": [1, 1], "global_pool": True, "pool_type": "max"},
            pdat.max(axis=(2, 3), keepdims=True))
    op_case(g, "nn", "Pooling/sum", "Pooling", [pdat],
            {"kernel": [2, 2], "stride": [1, 1], "pool_type": "sum"},
            np.lib.stride_tricks.sliding_window_view(pdat, (2, 2), axis=(2, 3)).sum(axis=(4, 5)))
    # BatchNorm in inference mode with global statistics
    bx = g.values((2, 3, 2), "float32", -2, 2)
    gamma = g.values((3,), "float32", 0.5, 2)
    beta = g.values((3,), "float32", -1, 1)
    mm = g.values((3,), "float32", -1, 1)
    mv = g.values((3,), "float32", 0.5, 2)
    eps = 1e-3
    e = ((bx - mm[None, :, None]) / np.sqrt(mv[None, :, None].astype("float64") + eps)
         * gamma[None, :, None] + beta[None, :, None]).astype("float32")
    op_case(g, "nn", "BatchNorm/global_stats", "BatchNorm", [bx, gamma, beta, mm, mv],
            {"eps": eps, "use_global_stats": True, "fix_gamma": False}, e, False)
    ln_x = g.values((2, 4), "float32", -2, 2)
    lg, lb = g.values((4,), "float32", 0.5, 2), g.values((4,), "float32", -1, 1)
    mu = ln_x.astype("float64").mean(1, keepdims=True)
    var = ln_x.astype("float64").var(1, keepdims=True)
    op_case(g, "nn", "LayerNorm", "LayerNorm", [ln_x, lg, lb], {"eps": 1e-5},
            ((ln_x - mu) / np.sqrt(var + 1e-5) * lg + lb).astype("float32"), False)
    inx = g.values((2, 2, 3), "float32", -2, 2)
    ig, ib = g.values((2,), "float32", 0.5, 2), g.values((2,), "float32", -1, 1)
    mu = inx.astype("float64").mean(2, keepdims=True)
    var = inx.astype("float64").var(2, keepdims=True)
    op_case(g, "nn", "InstanceNorm", "InstanceNorm", [inx, ig, ib], {"eps": 1e-3},
            ((inx - mu) / np.sqrt(var + 1e-3) * ig[None, :, None] + ib[None, :, None])
            .astype("float32"), False)
    l2 = g.values((2, 3), "float32", 0.25, 2)
    op_case(g, "nn", "L2Normalization/instance", "L2Normalization", [l2], {"eps": 1e-10},
            (l2 / np.sqrt((l2.astype("float64") ** 2).sum(1, keepdims=True) + 1e-10))
            .astype("float32"), False)
    emb_w = g.values((5, 3), "float32")
    emb_i = np.array([[0, 4], [2, 2]], "float32")
    op_case(g, "nn", "Embedding", "Embedding", [emb_i, emb_w], {"input_dim": 5, "output_dim": 3},
            emb_w[emb_i.astype(int)])
    dx = g.values((2, 3), "float32")
    op_case(g, "nn", "Dropout/inference", "Dropout", [dx], {"p": 0.5}, dx)
    ux = g.values((1, 1, 2, 2), "float32")
    op_case(g, "nn", "UpSampling/nearest", "UpSampling", [ux],
            {"scale": 2, "sample_type": "nearest", "num_args": 1},
            ux.repeat(2, axis=2).repeat(2, axis=3))
    so = g.values((2, 3), "float32", -2, 2)
    op_case(g, "nn", "SoftmaxOutput/forward", "SoftmaxOutput", [so, np.array([0, 2], "float32")],
            {}, _softmax(so.astype("float64"), 1).astype("float32"), False)
    op_case(g, "nn", "LinearRegressionOutput/forward", "LinearRegressionOutput",
            [so, np.zeros((2, 3), "float32")], {}, so)


def _conv2d(x, w, b, stride, pad):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, wd = xp.shape
    f, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, f, oh, ow), "float64")
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    if b is not None:
        out += b[None, :, None, None]
    return out.astype("float32")


def sorting(g):
    for dt in ["float32", "float64", "int32"]:
        x = g.values((3, 4), dt, -6, 6, distinct=True)
        op_case(g, "sort", f"sort/{dt}", "sort", [x], {}, np.sort(x, axis=-1))
        op_case(g, "sort", f"sort/{dt}/desc_axis0", "sort", [x], {"axis": 0, "is_ascend": False},
                -np.sort(-x, axis=0))
        op_case(g, "sort", f"argsort/{dt}", "argsort", [x], {},
                np.argsort(x, axis=-1).astype("float32"))
    x = g.values((2, 5), "float32", -6, 6, distinct=True)
    order = np.argsort(-x, axis=1)
    op_case(g, "sort", "topk/indices", "topk", [x], {"k": 2}, order[:, :2].astype("float32"))
    op_case(g, "sort", "topk/value", "topk", [x], {"k": 3, "ret_typ": "value"},
            np.take_along_axis(x, order[:, :3], 1))
    op_case(g, "sort", "topk/both", "topk", [x], {"k": 2, "ret_typ": "both"},
            [np.take_along_axis(x, order[:, :2], 1), order[:, :2].astype("float32")])
    op_case(g, "sort", "topk/ascend_int64", "topk", [x], {"k": 2, "is_ascend": True,
                                                          "dtype": "int64"},
            np.argsort(x, axis=1)[:, :2].astype("int64"))
    op_case(g, "sort", "argsort/int32_out", "argsort", [x], {"dtype": "int32"},
            np.argsort(x, axis=-1).astype("int32"))


def optimizer_ops(g):
    w = g.values((2, 3), "float32", -2, 2)
    gr = g.values((2, 3), "float32", -2, 2)
    lr, wd, rs = 0.5, 0.25, 0.5
    op_case(g, "optimizer", "sgd_update", "sgd_update", [w, gr],
            {"lr": lr, "wd": wd, "rescale_grad": rs},
            (w - lr * (rs * gr + wd * w)).astype("float32"))
    op_case(g, "optimizer", "sgd_update/clip", "sgd_update", [w, gr],
            {"lr": lr, "clip_gradient": 0.5},
            (w - lr * np.clip(gr, -0.5, 0.5)).astype("float32"))
    mom = g.values((2, 3), "float32", -1, 1)
    m2 = (0.5 * mom - lr * (gr + wd * w)).astype("float32")
    steps = [arr_step("w", w), arr_step("g", gr), arr_step("m", mom),
             invoke("sgd_mom_update", ["w", "g", "m"], {"lr": lr, "momentum": 0.5, "wd": wd},
                    ["w2"]),
             check_step("w2", (w + m2).astype("float32")), check_step("m", m2)]
    g.add("optimizer", "sgd_mom_update/mutates_mom", steps)
    mean, var = np.zeros((2, 3), "float32"), np.zeros((2, 3), "float32")
    b1, b2, epsv = 0.5, 0.75, 1e-8
    mn = (b1 * mean + (1 - b1) * gr).astype("float32")
    vn = (b2 * var + (1 - b2) * gr.astype("float64") ** 2).astype("float32")
    wn = (w - lr * mn / (np.sqrt(vn.astype("float64")) + epsv)).astype("float32")
    steps = [arr_step("w", w), arr_step("g", gr), arr_step("m", mean), arr_step("v", var),
             invoke("adam_update", ["w", "g", "m", "v"],
                    {"lr": lr, "beta1": b1, "beta2": b2, "epsilon": epsv}, ["w2"]),
             check_step("w2", wn, False), check_step("m", mn, False), check_step("v", vn, False)]
    g.add("optimizer", "adam_update", steps)
    op_case(g, "optimizer", "signsgd_update", "signsgd_update", [w, gr], {"lr": lr},
            (w - lr * np.sign(gr)).astype("float32"))
    n = np.ones((2, 3), "float32")
    nn_ = (0.5 * gr.astype("float64") ** 2 + 0.5 * n).astype("float32")
    steps = [arr_step("w", w), arr_step("g", gr), arr_step("n", n),
             invoke("rmsprop_update", ["w", "g", "n"], {"lr": lr, "gamma1": 0.5, "epsilon": 1e-8},
                    ["w2"]),
             check_step("w2", (w - lr * gr / np.sqrt(nn_.astype("float64") + 1e-8))
                        .astype("float32"), False),
             check_step("n", nn_, False)]
    g.add("optimizer", "rmsprop_update", steps)


def random_ops(g):
    for fn, params, lo, hi in [("_random_uniform", {"low": -1, "high": 1, "shape": [3, 4]}, -1, 1),
                               ("_random_normal", {"loc": 0, "scale": 1, "shape": [3, 4]}, -10, 10),
                               ("_random_randint", {"low": 0, "high": 5, "shape": [3, 4],
                                                    "dtype": "int32"}, 0, 4)]:
        dt = params.get("dtype", "float32")
        g.add("random", fn, [
            {"do": "seed", "value": 42}, invoke(fn, [], params, ["r"]),
            {"do": "check_range", "slot": "r", "dtype": dt, "shape": params["shape"],
             "min": lo, "max": hi},
            {"do": "seed", "value": 42}, invoke(fn, [], params, ["r2"]),
            {"do": "check_same", "slot": "r2", "like": "r"}])
    x = g.values((6,), "float32", distinct=True)
    g.add("random", "shuffle", [
        {"do": "seed", "value": 7}, arr_step("x", x), invoke("_shuffle", ["x"], {}, ["y"]),
        {"do": "check_sorted_equal", "slot": "y", "values": sorted(jnum(v) for v in x)}])


def errors(g):
    f = np.ones((2, 3), "float32")
    error_case(g, "errors", "broadcast_shape", "broadcast_add", [f, np.ones((4, 3), "float32")],
               {}, err(E_SHAPE, None, 0))
    error_case(g, "errors", "broadcast_shape_axis1", "broadcast_mul",
               [np.ones((2, 3), "float32"), np.ones((2, 4), "float32")], {}, err(E_SHAPE, None, 1))
    error_case(g, "errors", "dtype_mismatch", "broadcast_add", [f, np.ones((2, 3), "float64")],
               {}, err(E_DTYPE, 1, None))
    error_case(g, "errors", "elemwise_dtype_mismatch", "elemwise_mul",
               [f, np.ones((2, 3), "int32")], {}, err(E_DTYPE, 1, None))
    error_case(g, "errors", "dot_misaligned", "dot", [f, f], {}, err(E_SHAPE, 1, None))
    error_case(g, "errors", "sum_axis_range", "sum", [f], {"axis": [5]}, err(E_ARG, None, 5))
    error_case(g, "errors", "sum_axis_neg_range", "sum", [f], {"axis": [-3]}, err(E_ARG, None, -3))
    for dt in ["int32", "uint8"]:
        error_case(g, "errors", f"exp_{dt}", "exp", [np.ones((2,), dt)], {},
                   err(E_DTYPE, 0, None))
    error_case(g, "errors", "bad_act_type", "Activation", [f], {"act_type": "nope"},
               err(E_ARG, None, None))
    error_case(g, "errors", "concat_shape", "Concat", [f, np.ones((3, 2), "float32")],
               {"dim": 1}, err(E_SHAPE, 1, None))
    error_case(g, "errors", "reshape_size", "Reshape", [f], {"shape": [4, 2]},
               err(E_SHAPE, None, None))
    error_case(g, "errors", "transpose_axes", "transpose", [f], {"axes": [0, 0]},
               err(E_ARG, None, None))
    error_case(g, "errors", "expand_dims_axis", "expand_dims", [f], {"axis": 4},
               err(E_ARG, None, 4))
    error_case(g, "errors", "slice_axis_axis", "slice_axis", [f], {"axis": 2, "begin": 0, "end": 1},
               err(E_ARG, None, 2))
    error_case(g, "errors", "fc_weight_shape", "FullyConnected",
               [np.ones((2, 4), "float32"), np.ones((3, 5), "float32"), np.ones((3,), "float32")],
               {"num_hidden": 3}, err(E_SHAPE, 1, None))
    error_case(g, "errors", "batch_dot_batch", "batch_dot",
               [np.ones((2, 2, 3), "float32"), np.ones((3, 3, 2), "float32")], {},
               err(E_SHAPE, 1, None))
    error_case(g, "errors", "where_shape", "where",
               [np.ones((2, 3), "float32"), f, np.ones((3, 2), "float32")], {},
               err(E_SHAPE, 2, None))
    error_case(g, "errors", "stack_shape", "stack", [f, np.ones((3, 2), "float32")], {},
               err(E_SHAPE, 1, None))
    error_case(g, "errors", "bad_take_mode", "take", [f, np.zeros((2,), "float32")],
               {"mode": "nope"}, err(E_ARG, None, None))
    error_case(g, "errors", "bad_pool_type", "Pooling", [np.ones((1, 1, 2, 2), "float32")],
               {"kernel": [2, 2], "pool_type": "nope"}, err(E_ARG, None, None))
    error_case(g, "errors", "one_hot_depth", "one_hot", [np.ones((2,), "float32")], {"depth": -1},
               err(E_ARG, None, None))
    error_case(g, "errors", "broadcast_to_shape", "broadcast_to", [f], {"shape": [3, 3]},
               err(E_SHAPE, None, 0))
    error_case(g, "errors", "softmax_axis", "softmax", [f], {"axis": 2}, err(E_ARG, None, 2))
    error_case(g, "errors", "argmax_axis", "argmax", [f], {"axis": -3}, err(E_ARG, None, -3))
    error_case(g, "errors", "elemwise_shape", "elemwise_add", [f, np.ones((3, 2), "float32")], {},
               err(E_SHAPE, 1, None))
    error_case(g, "errors", "conv_channels", "Convolution",
               [np.ones((1, 2, 4, 4), "float32"), np.ones((3, 3, 3, 3), "float32"),
                np.ones((3,), "float32")], {"kernel": [3, 3], "num_filter": 3},
               err(E_SHAPE, 1, None))


def _params_file(named):
    """Apache MXNet's .params bytes for [(name, array)], written from the format alone."""
    v3 = any(a.ndim == 0 for _, a in named)
    out = [struct.pack("<QQQ", 0x112, 0, len(named))]
    for _, a in named:
        out.append(struct.pack("<I", 0xF993FACA if v3 else 0xF993FAC9))
        out.append(struct.pack("<i", 0))
        out.append(struct.pack("<i", a.ndim) + b"".join(struct.pack("<q", d) for d in a.shape))
        out.append(struct.pack("<iii", 1, 0, DTYPE_FLAG[str(a.dtype)]))
        out.append(np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes())
    names = [n for n, _ in named]
    if names and names[0] is not None:
        out.append(struct.pack("<Q", len(names)))
        for n in names:
            b = n.encode()
            out.append(struct.pack("<Q", len(b)) + b)
    else:
        out.append(struct.pack("<Q", 0))
    return b"".join(out).hex()


def params_io(g):
    sets = {
        "named_f32": [("arg:w", g.values((2, 3), "float32")), ("arg:b", g.values((3,), "float32"))],
        "every_dtype": [(f"arg:{dt}", g.values((2, 2), dt)) for dt in ALL],
        "zero_size": [("arg:e", np.zeros((2, 0), "float32")), ("aux:m", g.values((2,), "float64"))],
        "zero_d": [("arg:s", g.values((), "float32")), ("arg:v", g.values((3,), "int32"))],
        "list": [(None, g.values((4,), "float32")), (None, g.values((1, 2), "int64"))],
        "nd4": [("arg:k", g.values((2, 1, 3, 2), "float16"))],
    }
    for tag, named in sets.items():
        slots = [f"a{i}" for i in range(len(named))]
        steps = [arr_step(s, a) for s, (_, a) in zip(slots, named)]
        names = None if named[0][0] is None else [n for n, _ in named]
        steps.append({"do": "save_params", "file": f"{tag}.params", "arrays": slots,
                      "names": names, "hex": _params_file(named)})
        outs = [f"b{i}" for i in range(len(named))]
        steps.append({"do": "load_params", "file": f"{tag}.params", "outputs": outs,
                      "names": names})
        for o, (_, a) in zip(outs, named):
            steps.append(check_step(o, a))
        g.add("params", tag, steps)
    bad = _params_file(sets["named_f32"])[:-20]
    g.add("params", "truncated_file", [
        {"do": "write_file", "file": "bad.params", "hex": bad},
        {"do": "load_params", "file": "bad.params", "outputs": [], "names": None,
         "error": err(6)}])
    g.add("params", "missing_file", [
        {"do": "load_params", "file": "does_not_exist.params", "outputs": [], "names": None,
         "error": err(5)}])


def symbols(g):
    rng_x = g.values((2, 4), "float32", -2, 2)
    w1 = g.values((3, 4), "float32", -1, 1)
    b1 = g.values((3,), "float32", -1, 1)
    label = g.values((2, 3), "float32", -1, 1)
    out = rng_x @ w1.T + b1
    num_output = 3
    dout = (out - label) / num_output
    steps = [
        {"do": "variable", "slot": "data", "name": "data"},
        {"do": "compose", "fn": "FullyConnected", "args": ["data"], "params": {"num_hidden": 3},
         "name": "fc1", "out": "fc1"},
        {"do": "compose", "fn": "LinearRegressionOutput", "args": ["fc1"], "params": {},
         "name": "lro", "out": "net"},
        {"do": "list", "sym": "net", "kind": "arguments",
         "expect": ["data", "fc1_weight", "fc1_bias", "lro_label"]},
        {"do": "list", "sym": "net", "kind": "outputs", "expect": ["lro_output"]},
        {"do": "infer_shape", "sym": "net", "shapes": {"data": [2, 4]},
         "expect": {"arguments": [[2, 4], [3, 4], [3], [2, 3]], "outputs": [[2, 3]],
                    "aux_states": []}},
        arr_step("x", rng_x), arr_step("w", w1), arr_step("b", b1), arr_step("l", label),
        {"do": "simple_bind", "sym": "net", "exec": "e", "shapes": {"data": [2, 4]},
         "grad_req": "write",
         "args": {"data": "x", "fc1_weight": "w", "fc1_bias": "b", "lro_label": "l"}},
        {"do": "forward", "exec": "e", "is_train": True, "outputs": ["y"]},
        check_step("y", out.astype("float32")),
        {"do": "backward", "exec": "e", "head_grads": []},
        {"do": "grad", "exec": "e", "name": "fc1_weight", "out": "gw"},
        {"do": "grad", "exec": "e", "name": "fc1_bias", "out": "gb"},
        {"do": "grad", "exec": "e", "name": "data", "out": "gx"},
        check_step("gw", (dout.T @ rng_x).astype("float32"), False),
        check_step("gb", dout.sum(0).astype("float32"), False),
        check_step("gx", (dout @ w1).astype("float32"), False),
    ]
    g.add("symbol", "fc_regression_train", steps)

    a, b = g.values((2, 3), "float32"), g.values((2, 3), "float32")
    hg = g.values((2, 3), "float32")
    steps = [
        {"do": "variable", "slot": "x", "name": "x"}, {"do": "variable", "slot": "y", "name": "y"},
        {"do": "compose", "fn": "broadcast_mul", "args": ["x", "y"], "params": {}, "name": "m",
         "out": "m"},
        {"do": "compose", "fn": "elemwise_add", "args": ["m", "x"], "params": {}, "name": "s",
         "out": "s"},
        {"do": "list", "sym": "s", "kind": "arguments", "expect": ["x", "y"]},
        arr_step("a", a), arr_step("b", b), arr_step("hg", hg),
        {"do": "simple_bind", "sym": "s", "exec": "e", "shapes": {"x": [2, 3], "y": [2, 3]},
         "grad_req": "write", "args": {"x": "a", "y": "b"}},
        {"do": "forward", "exec": "e", "is_train": True, "outputs": ["o"]},
        check_step("o", a * b + a),
        {"do": "backward", "exec": "e", "head_grads": ["hg"]},
        {"do": "grad", "exec": "e", "name": "x", "out": "gx"},
        {"do": "grad", "exec": "e", "name": "y", "out": "gy"},
        check_step("gx", hg * b + hg), check_step("gy", hg * a)]
    g.add("symbol", "elemwise_head_grads", steps)

    # convolution + pooling + flatten + fc + softmax: shape inference in C order
    steps = [
        {"do": "variable", "slot": "data", "name": "data"},
        {"do": "compose", "fn": "Convolution", "args": ["data"],
         "params": {"kernel": [3, 3], "num_filter": 4, "pad": [1, 1]}, "name": "conv",
         "out": "c"},
        {"do": "compose", "fn": "Activation", "args": ["c"], "params": {"act_type": "relu"},
         "name": "act", "out": "r"},
        {"do": "compose", "fn": "Pooling", "args": ["r"],
         "params": {"kernel": [2, 2], "stride": [2, 2], "pool_type": "max"}, "name": "pool",
         "out": "p"},
        {"do": "compose", "fn": "Flatten", "args": ["p"], "params": {}, "name": "flat",
         "out": "f"},
        {"do": "compose", "fn": "FullyConnected", "args": ["f"], "params": {"num_hidden": 5},
         "name": "fc", "out": "fc"},
        {"do": "compose", "fn": "SoftmaxOutput", "args": ["fc"], "params": {}, "name": "softmax",
         "out": "net"},
        {"do": "list", "sym": "net", "kind": "arguments",
         "expect": ["data", "conv_weight", "conv_bias", "fc_weight", "fc_bias", "softmax_label"]},
        {"do": "infer_shape", "sym": "net", "shapes": {"data": [2, 3, 6, 8]},
         "expect": {"arguments": [[2, 3, 6, 8], [4, 3, 3, 3], [4], [5, 48], [5], [2]],
                    "outputs": [[2, 5]], "aux_states": []}},
        ]
    g.add("symbol", "convnet_infer_shape", steps)
    json_steps = steps + [
        {"do": "symbol_json", "sym": "net", "out": "net2"},
        {"do": "list", "sym": "net2", "kind": "arguments",
         "expect": ["data", "conv_weight", "conv_bias", "fc_weight", "fc_bias", "softmax_label"]},
        {"do": "infer_shape", "sym": "net2", "shapes": {"data": [1, 3, 4, 4]},
         "expect": {"arguments": [[1, 3, 4, 4], [4, 3, 3, 3], [4], [5, 16], [5], [1]],
                    "outputs": [[1, 5]], "aux_states": []}}]
    g.add("symbol", "convnet_json_roundtrip", json_steps)
    steps = [
        {"do": "variable", "slot": "data", "name": "data"},
        {"do": "compose", "fn": "FullyConnected", "args": ["data"], "params": {"num_hidden": 4},
         "name": "fc1", "out": "f1"},
        {"do": "compose", "fn": "Activation", "args": ["f1"], "params": {"act_type": "tanh"},
         "name": "act", "out": "a"},
        {"do": "compose", "fn": "FullyConnected", "args": ["a"], "params": {"num_hidden": 2},
         "name": "fc2", "out": "net"},
        {"do": "symbol_json", "sym": "net", "out": "net2"},
        {"do": "list", "sym": "net2", "kind": "arguments",
         "expect": ["data", "fc1_weight", "fc1_bias", "fc2_weight", "fc2_bias"]},
        {"do": "infer_shape", "sym": "net2", "shapes": {"data": [3, 7]},
         "expect": {"arguments": [[3, 7], [4, 7], [4], [2, 4], [2]], "outputs": [[3, 2]],
                    "aux_states": []}}]
    g.add("symbol", "mlp_json_roundtrip", steps)

    steps = [
        {"do": "variable", "slot": "data", "name": "data"},
        {"do": "compose", "fn": "BatchNorm", "args": ["data"], "params": {"fix_gamma": False},
         "name": "bn", "out": "bn"},
        {"do": "list", "sym": "bn", "kind": "arguments", "expect": ["data", "bn_gamma", "bn_beta"]},
        {"do": "list", "sym": "bn", "kind": "aux_states",
         "expect": ["bn_moving_mean", "bn_moving_var"]},
        {"do": "infer_shape", "sym": "bn", "shapes": {"data": [4, 3, 2]},
         "expect": {"arguments": [[4, 3, 2], [3], [3]], "outputs": [[4, 3, 2]],
                    "aux_states": [[3], [3]]}}]
    g.add("symbol", "batchnorm_aux", steps)

    steps = [
        {"do": "variable", "slot": "a", "name": "a"}, {"do": "variable", "slot": "b", "name": "b"},
        {"do": "compose", "fn": "broadcast_add", "args": ["a", "b"], "params": {}, "name": "add",
         "out": "s"},
        {"do": "infer_shape", "sym": "s", "shapes": {"a": [2, 3], "b": [4, 3]},
         "error": err(E_SHAPE)}]
    g.add("symbol", "infer_shape_error", steps)

    steps = [
        {"do": "variable", "slot": "data", "name": "data"},
        {"do": "compose", "fn": "FullyConnected", "args": ["data"], "params": {"num_hidden": 2},
         "name": "fc", "out": "fc"},
        {"do": "infer_shape", "sym": "fc", "shapes": {"data": [3, 5], "fc_weight": [2, 4]},
         "error": err(E_SHAPE)}]
    g.add("symbol", "infer_shape_weight_error", steps)

    x = g.values((2, 3, 4), "float32")
    steps = [
        {"do": "variable", "slot": "v", "name": "v"},
        {"do": "compose", "fn": "sum", "args": ["v"], "params": {"axis": [1]}, "name": "red",
         "out": "r"},
        {"do": "compose", "fn": "transpose", "args": ["r"], "params": {}, "name": "t", "out": "t"},
        {"do": "infer_shape", "sym": "t", "shapes": {"v": [2, 3, 4]},
         "expect": {"arguments": [[2, 3, 4]], "outputs": [[4, 2]], "aux_states": []}},
        arr_step("x", x),
        {"do": "simple_bind", "sym": "t", "exec": "e", "shapes": {"v": [2, 3, 4]},
         "grad_req": "write", "args": {"v": "x"}},
        {"do": "forward", "exec": "e", "is_train": True, "outputs": ["o"]},
        check_step("o", x.sum(1).T.copy()),
        {"do": "backward", "exec": "e", "head_grads": ["hg"], "_hg": True},
        {"do": "grad", "exec": "e", "name": "v", "out": "gv"}]
    hgv = g.values((4, 2), "float32")
    steps.insert(-2, arr_step("hg", hgv))
    steps[-2].pop("_hg")
    steps.append(check_step("gv", np.broadcast_to(hgv.T[:, None, :], (2, 3, 4)).copy()))
    g.add("symbol", "axis_params_same_in_every_language", steps)

    # a checkpoint written in pieces, loaded with the checkpoint loader
    wv, bv = g.values((2, 3), "float32"), g.values((2,), "float32")
    steps = [
        {"do": "variable", "slot": "data", "name": "data"},
        {"do": "compose", "fn": "FullyConnected", "args": ["data"], "params": {"num_hidden": 2},
         "name": "fc", "out": "net"},
        arr_step("w", wv), arr_step("b", bv),
        {"do": "save_checkpoint", "prefix": "ckpt", "epoch": 3, "sym": "net",
         "arg_params": {"fc_weight": "w", "fc_bias": "b"}, "aux_params": {}},
        {"do": "load_checkpoint", "prefix": "ckpt", "epoch": 3, "sym": "net2",
         "arg_params": {"fc_weight": "w2", "fc_bias": "b2"}, "aux_params": {}},
        {"do": "list", "sym": "net2", "kind": "arguments",
         "expect": ["data", "fc_weight", "fc_bias"]},
        check_step("w2", wv), check_step("b2", bv)]
    g.add("symbol", "checkpoint_roundtrip", steps)


# ---- KVStore: push/pull and optimizer steps (MXNet's KVStore and Optimizer semantics) ------

def kv(do, kv_="kv", **fields):
    s = {"do": do, "kv": kv_}
    s.update({k: v for k, v in fields.items() if v is not None})
    return s


def kv_err(step, error):
    step["error"] = error
    return step


def _kv_sum(vals, dt):
    """The store's reduction: float32 values summed in float32 in turn, every other dtype
    through float64, then cast to the key's dtype (values here are small: no overflow)."""
    if dt == "float32":
        out = vals[0].copy()
        for v in vals[1:]:
            out = (out + v).astype("float32")
        return out
    return np.sum([v.astype("float64") for v in vals], axis=0).astype(dt)


def ft_(ft, x):
    """x as a scalar of float type ft (keeps NumPy's arithmetic in that type)."""
    return np.dtype(ft).type(x)


def _sgd_steps(w, grads, dt, lr, momentum=0.0, wd=0.0, rescale=1.0, clip=None, ftype=None):
    """MXNet 1.x SGD through a KVStore: each push sums its gradients (_kv_sum), then
    sgd_update (weight = (1 - lr*wd)*weight - lr*clip(rescale*grad)) or sgd_mom_update
    (mom = momentum*mom - lr*wd*weight - lr*clip(rescale*grad); weight += mom), with the
    arithmetic in `ftype` (float64: the reference; the weight's float type: to tell whether
    the reference is exact). Returns the weight after every push."""
    ft = ftype or "float64"
    wcur = w.astype(ft)
    mom = np.zeros_like(wcur)
    out = []
    for gs in grads:
        gsum = _kv_sum(gs, dt).astype(ft)
        gg = (gsum * ft_(ft, rescale)).astype(ft)
        if clip is not None:
            gg = np.clip(gg, -clip, clip).astype(ft)
        if momentum:
            mom = (ft_(ft, momentum) * mom - ft_(ft, lr) * ft_(ft, wd) * wcur
                   - ft_(ft, lr) * gg).astype(ft)
            if ftype is not None:
                mom = mom.astype(dt).astype(ft)  # the state is kept in the weight's dtype
            wcur = (wcur + mom).astype(ft)
        else:
            wcur = ((ft_(ft, 1.0) - ft_(ft, lr) * ft_(ft, wd)) * wcur - ft_(ft, lr) * gg).astype(ft)
        if ftype is not None:
            wcur = wcur.astype(dt).astype(ft)
        out.append(wcur.astype(dt))
    return out


def _adam_steps(w, grads, dt, lr, beta1=0.9, beta2=0.999, eps=1e-8, wd=0.0, rescale=1.0,
                t0=0):
    """MXNet 1.x Adam through a KVStore, in float64: t counts the key's updates; the bias
    correction is folded into the rate, lr_t = lr*sqrt(1 - beta2^t)/(1 - beta1^t); then
    adam_update: g = rescale*grad + wd*weight; m = beta1*m + (1-beta1)*g;
    v = beta2*v + (1-beta2)*g^2; weight -= lr_t*m/(sqrt(v) + epsilon)."""
    wcur = w.astype("float64")
    m = np.zeros_like(wcur)
    v = np.zeros_like(wcur)
    out = []
    for t, gs in enumerate(grads, start=t0 + 1):
        g = _kv_sum(gs, dt).astype("float64") * rescale + wd * wcur
        lr_t = lr * math.sqrt(1.0 - beta2 ** t) / (1.0 - beta1 ** t)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        wcur = wcur - lr_t * m / (np.sqrt(v) + eps)
        out.append(wcur.astype(dt))
    return out


def _sgd_checks(slots, w, grads, dt, **hp):
    """check steps for the weights after each push: exact bytes when the float64 reference
    equals the same steps done in the weight's own arithmetic (no rounding anywhere)."""
    ref = _sgd_steps(w, grads, dt, **hp)
    ftype = "float32" if dt == "float16" else dt
    own = _sgd_steps(w, grads, dt, ftype=ftype, **hp)
    exact = all(a.tobytes() == b.tobytes() for a, b in zip(ref, own))
    return [check_step(s, r, exact) for s, r in zip(slots, ref)]


def kvstore(g):
    fam = "kvstore"

    # push of several values for one key sums them (every dtype the store holds); pull copies
    for dt in ALL:
        lo, hi = (0, 1) if dt == "bool" else (-4, 4)
        a = g.values((2, 3), dt, lo, hi)
        gs = [g.values((2, 3), dt, lo, hi) for _ in range(3)]
        steps = [kv("kv_create", type="local"), arr_step("a", a),
                 *[arr_step(f"g{i}", x) for i, x in enumerate(gs)],
                 arr_step("o", np.zeros((2, 3), dt)),
                 kv("kv_init", keys=[3], values=["a"]),
                 kv("kv_pull", keys=[3], outputs=[["o"]]), check_step("o", a),
                 kv("kv_push", keys=[3], values=[["g0", "g1", "g2"]]),
                 kv("kv_pull", keys=[3], outputs=[["o"]]), check_step("o", _kv_sum(gs, dt))]
        g.add(fam, f"push_sum_pull/{dt}", steps)

    # a str key, pulled into several outputs
    a = g.values((3, 2), "float64")
    g0, g1 = g.values((3, 2), "float64"), g.values((3, 2), "float64")
    g.add(fam, "str_key/pull_into_several_outputs", [
        kv("kv_create", type="local"), arr_step("a", a), arr_step("g0", g0), arr_step("g1", g1),
        arr_step("o0", np.zeros((3, 2))), arr_step("o1", np.ones((3, 2))),
        arr_step("o2", np.full((3, 2), 7.0)),
        kv("kv_init", keys=["weight"], values=["a"]),
        kv("kv_pull", keys=["weight"], outputs=[["o0", "o1", "o2"]]),
        check_step("o0", a), check_step("o1", a), check_step("o2", a),
        kv("kv_push", keys=["weight"], values=[["g0", "g1"]]),
        kv("kv_pull", keys=["weight"], outputs=[["o1", "o2"]]),
        check_step("o0", a), check_step("o1", g0 + g1), check_step("o2", g0 + g1)])

    # lists of keys (int, then str), each key with its own number of values and outputs
    for tag, keys, dt in [("int", [5, 9], "float32"), ("str", ["fc_weight", "fc_bias"], "float64")]:
        a, b = g.values((2, 2), dt), g.values((3,), dt)
        ga = [g.values((2, 2), dt) for _ in range(2)]
        gb = [g.values((3,), dt)]
        g.add(fam, f"list_keys/{tag}", [
            kv("kv_create", type="local"), arr_step("a", a), arr_step("b", b),
            arr_step("ga0", ga[0]), arr_step("ga1", ga[1]), arr_step("gb0", gb[0]),
            arr_step("oa", np.zeros((2, 2), dt)), arr_step("ob0", np.zeros((3,), dt)),
            arr_step("ob1", np.zeros((3,), dt)),
            kv("kv_init", keys=keys, values=["a", "b"]),
            kv("kv_pull", keys=keys, outputs=[["oa"], ["ob0", "ob1"]]),
            check_step("oa", a), check_step("ob0", b), check_step("ob1", b),
            kv("kv_push", keys=keys, values=[["ga0", "ga1"], ["gb0"]]),
            kv("kv_pull", keys=keys, outputs=[["oa"], ["ob0", "ob1"]]),
            check_step("oa", _kv_sum(ga, dt)), check_step("ob0", gb[0]),
            check_step("ob1", gb[0])])

    # without an optimizer a push replaces the stored value (it does not accumulate)
    a = g.values((4,), "float32")
    gs = [g.values((4,), "float32") for _ in range(3)]
    g.add(fam, "push_replaces_without_optimizer", [
        kv("kv_create", type="local"), arr_step("a", a),
        *[arr_step(f"g{i}", x) for i, x in enumerate(gs)], arr_step("o", np.zeros((4,), "float32")),
        kv("kv_init", keys=[0], values=["a"]),
        kv("kv_push", keys=[0], values=[["g0"]]),
        kv("kv_pull", keys=[0], outputs=[["o"]]), check_step("o", gs[0]),
        kv("kv_push", keys=[0], values=[["g1", "g2"]]),
        kv("kv_pull", keys=[0], outputs=[["o"]]), check_step("o", _kv_sum(gs[1:], "float32")),
        check_step("g0", gs[0]), check_step("g1", gs[1])])

    # pushpull: into outputs, and in place (no outputs: the pushed arrays receive the value)
    a = g.values((2, 3), "float32")
    v0, v1 = g.values((2, 3), "float32"), g.values((2, 3), "float32")
    s = _kv_sum([v0, v1], "float32")
    g.add(fam, "pushpull/into_outputs", [
        kv("kv_create", type="local"), arr_step("a", a), arr_step("v0", v0), arr_step("v1", v1),
        arr_step("o0", np.zeros((2, 3), "float32")), arr_step("o1", np.zeros((2, 3), "float32")),
        kv("kv_init", keys=[7], values=["a"]),
        kv("kv_pushpull", keys=[7], values=[["v0", "v1"]], outputs=[["o0", "o1"]]),
        check_step("o0", s), check_step("o1", s), check_step("v0", v0),
        arr_step("o2", np.zeros((2, 3), "float32")),
        kv("kv_pull", keys=[7], outputs=[["o2"]]), check_step("o2", s)])
    g.add(fam, "pushpull/in_place", [
        kv("kv_create", type="local"), arr_step("a", a), arr_step("v0", v0), arr_step("v1", v1),
        kv("kv_init", keys=["k"], values=["a"]),
        dict(kv("kv_pushpull", keys=["k"], values=[["v0", "v1"]]), outputs=None),
        check_step("v0", s), check_step("v1", s)])
    a2, b2 = g.values((2,), "float64"), g.values((2, 2), "float64")
    va, vb0, vb1 = g.values((2,), "float64"), g.values((2, 2), "float64"), g.values((2, 2), "float64")
    g.add(fam, "pushpull/list_keys_priority", [
        kv("kv_create", type="local"), arr_step("a", a2), arr_step("b", b2),
        arr_step("va", va), arr_step("vb0", vb0), arr_step("vb1", vb1),
        arr_step("oa", np.zeros((2,))), arr_step("ob", np.zeros((2, 2))),
        kv("kv_init", keys=["a", "b"], values=["a", "b"]),
        kv("kv_pushpull", keys=["a", "b"], values=[["va"], ["vb0", "vb1"]],
           outputs=[["oa"], ["ob"]], priority=-3),
        check_step("oa", va), check_step("ob", vb0 + vb1)])

    # priorities order the engine's work; they never change the values
    a, b = g.values((3,), "float32"), g.values((3,), "float32")
    ga, gb = g.values((3,), "float32"), g.values((3,), "float32")
    g.add(fam, "priority", [
        kv("kv_create", type="local"), arr_step("a", a), arr_step("b", b), arr_step("ga", ga),
        arr_step("gb", gb), arr_step("oa", np.zeros((3,), "float32")),
        arr_step("ob", np.zeros((3,), "float32")),
        kv("kv_init", keys=[1, 2], values=["a", "b"]),
        kv("kv_push", keys=[1, 2], values=[["ga"], ["gb"]], priority=-2),
        kv("kv_pull", keys=[2], outputs=[["ob"]], priority=5),
        kv("kv_pull", keys=[1], outputs=[["oa"]], priority=-7),
        check_step("oa", ga), check_step("ob", gb)])

    # 0-size and 0-d values
    z = np.zeros((0, 3), "float32")
    g.add(fam, "zero_size", [
        kv("kv_create", type="local"), arr_step("z", z), arr_step("g0", z), arr_step("g1", z),
        arr_step("o", z), kv("kv_init", keys=[0], values=["z"]),
        kv("kv_push", keys=[0], values=[["g0", "g1"]]),
        kv("kv_pull", keys=[0], outputs=[["o"]]), check_step("o", z)])
    a = g.values((), "float64")
    g0, g1 = g.values((), "float64"), g.values((), "float64")
    g.add(fam, "zero_d", [
        kv("kv_create", type="local"), arr_step("a", a), arr_step("g0", g0), arr_step("g1", g1),
        arr_step("o", np.zeros((), "float64")), kv("kv_init", keys=["s"], values=["a"]),
        kv("kv_pull", keys=["s"], outputs=[["o"]]), check_step("o", a),
        kv("kv_push", keys=["s"], values=[["g0", "g1"]]),
        kv("kv_pull", keys=["s"], outputs=[["o"]]), check_step("o", g0 + g1)])

    # the "device" store (keys live on the device of their init value: cpu here)
    a = g.values((2, 2), "float32")
    gs = [g.values((2, 2), "float32") for _ in range(2)]
    g.add(fam, "device_store", [
        kv("kv_create", type="device"), arr_step("a", a), arr_step("g0", gs[0]),
        arr_step("g1", gs[1]), arr_step("o", np.zeros((2, 2), "float32")),
        kv("kv_init", keys=[4], values=["a"]),
        kv("kv_push", keys=[4], values=[["g0", "g1"]]),
        kv("kv_pull", keys=[4], outputs=[["o"]]), check_step("o", _kv_sum(gs, "float32"))])

    # pull copies into the output's dtype (MXNet's CopyFromTo casts)
    a = g.values((2, 3), "float32")
    g.add(fam, "pull_casts_to_output_dtype", [
        kv("kv_create", type="local"), arr_step("a", a),
        arr_step("o64", np.zeros((2, 3), "float64")), arr_step("o16", np.zeros((2, 3), "float16")),
        kv("kv_init", keys=[0], values=["a"]),
        kv("kv_pull", keys=[0], outputs=[["o64", "o16"]]),
        check_step("o64", a.astype("float64")), check_step("o16", a.astype("float16"))])

    # ---- optimizers on the store: push applies the update, pull returns the weight -----------
    def opt_case(cid, dt, keys, opt, params, steps_grads, checks_fn, shape=(2, 3), pushpull=False):
        """One weight per key; steps_grads[t][k] = list of gradients of key k at push t;
        after every push each key is pulled into w<k>_<t> and checked with checks_fn."""
        ws = [g.values(shape, dt, -2, 2) for _ in keys]
        steps = [kv("kv_create", type="local"),
                 kv("kv_set_optimizer", optimizer=opt, params=params)]
        steps += [arr_step(f"w{k}", w) for k, w in enumerate(ws)]
        steps.append(kv("kv_init", keys=keys, values=[f"w{k}" for k in range(len(keys))]))
        for t, per_key in enumerate(steps_grads):
            names = []
            for k, gl in enumerate(per_key):
                names.append([f"g{k}_{t}_{j}" for j in range(len(gl))])
                steps += [arr_step(n, x) for n, x in zip(names[-1], gl)]
            outs = [[f"w{k}_{t}"] for k in range(len(keys))]
            steps += [arr_step(o[0], np.zeros(shape, dt)) for o in outs]
            if pushpull:
                steps.append(kv("kv_pushpull", keys=keys, values=names, outputs=outs))
            else:
                steps.append(kv("kv_push", keys=keys, values=names))
                steps.append(kv("kv_pull", keys=keys, outputs=outs))
        for k in range(len(keys)):
            grads = [per_key[k] for per_key in steps_grads]
            steps += checks_fn([f"w{k}_{t}" for t in range(len(steps_grads))], ws[k], grads)
        g.add(fam, cid, steps)

    def grads(dt, n_steps, n_vals, n_keys=1, shape=(2, 3)):
        return [[[g.values(shape, dt, -2, 2) for _ in range(n_vals)] for _ in range(n_keys)]
                for _ in range(n_steps)]

    sgd_hp = {"lr": 0.5, "momentum": 0.5, "wd": 0.25, "rescale": 0.5}
    sgd_params = {"learning_rate": 0.5, "momentum": 0.5, "wd": 0.25, "rescale_grad": 0.5}
    for dt, keys in [("float32", [0]), ("float64", ["fc_weight"])]:
        opt_case(f"sgd/momentum_wd_rescale/{dt}", dt, keys, "sgd", sgd_params, grads(dt, 3, 2),
                 lambda s, w, gr, dt=dt: _sgd_checks(s, w, gr, dt, **sgd_hp))
    opt_case("sgd/clip_no_momentum", "float32", [2], "sgd",
             {"learning_rate": 0.5, "clip_gradient": 0.75}, grads("float32", 2, 2),
             lambda s, w, gr: _sgd_checks(s, w, gr, "float32", lr=0.5, clip=0.75))
    opt_case("sgd/two_keys_own_momentum", "float32", [1, 2], "sgd",
             {"learning_rate": 0.25, "momentum": 0.75}, grads("float32", 3, 1, 2),
             lambda s, w, gr: _sgd_checks(s, w, gr, "float32", lr=0.25, momentum=0.75))
    # a str key not ending in _weight/_gamma still gets wd: MXNet zeroes wd_mult only for
    # the names of param_idx2name, which a KVStore's optimizer does not have
    opt_case("sgd/str_key_bias_gets_wd", "float32", ["fc_bias"], "sgd",
             {"learning_rate": 0.5, "wd": 0.5}, grads("float32", 2, 1),
             lambda s, w, gr: _sgd_checks(s, w, gr, "float32", lr=0.5, wd=0.5))
    opt_case("sgd/pushpull_module_style", "float32", [0, 1], "sgd", sgd_params,
             grads("float32", 2, 2, 2), lambda s, w, gr: _sgd_checks(s, w, gr, "float32", **sgd_hp),
             pushpull=True)
    opt_case("sgd/float16", "float16", [0], "sgd", {"learning_rate": 0.5, "momentum": 0.5},
             grads("float16", 2, 2),
             lambda s, w, gr: _sgd_checks(s, w, gr, "float16", lr=0.5, momentum=0.5))
    opt_case("sgd/float16_multi_precision", "float16", [0], "sgd",
             {"learning_rate": 0.5, "momentum": 0.5, "multi_precision": True},
             grads("float16", 2, 2),
             lambda s, w, gr: _sgd_checks(s, w, gr, "float16", lr=0.5, momentum=0.5))
    opt_case("sgd/zero_size", "float32", [0], "sgd", sgd_params, grads("float32", 1, 2, 1, (0, 2)),
             lambda s, w, gr: _sgd_checks(s, w, gr, "float32", **sgd_hp), shape=(0, 2))

    def adam_checks(dt, **hp):
        def f(slots, w, gr):
            return [check_step(s, r, False) for s, r in zip(slots, _adam_steps(w, gr, dt, **hp))]
        return f
    opt_case("adam/one_step", "float32", [0], "adam", {"learning_rate": 0.01},
             grads("float32", 1, 1), adam_checks("float32", lr=0.01))
    adam_hp = {"lr": 0.1, "beta1": 0.5, "beta2": 0.75, "eps": 1e-6, "wd": 0.1, "rescale": 0.5}
    adam_params = {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.75, "epsilon": 1e-6, "wd": 0.1,
                   "rescale_grad": 0.5}
    opt_case("adam/two_steps_bias_correction", "float32", [3], "adam", adam_params,
             grads("float32", 2, 2), adam_checks("float32", **adam_hp))
    opt_case("adam/float64_str_key", "float64", ["w"], "adam", adam_params,
             grads("float64", 3, 1), adam_checks("float64", **adam_hp))
    # each key counts its own updates (t), so a key pushed later starts its correction at t=1
    w0, w1 = g.values((4,), "float32", -2, 2), g.values((4,), "float32", -2, 2)
    ga = [g.values((4,), "float32", -2, 2) for _ in range(3)]
    gb = g.values((4,), "float32", -2, 2)
    ra = _adam_steps(w0, [[x] for x in ga], "float32", **adam_hp)
    rb = _adam_steps(w1, [[gb]], "float32", **adam_hp)
    steps = [kv("kv_create", type="local"), kv("kv_set_optimizer", optimizer="adam",
                                                params=adam_params),
             arr_step("w0", w0), arr_step("w1", w1), arr_step("ga0", ga[0]), arr_step("ga1", ga[1]),
             arr_step("ga2", ga[2]), arr_step("gb", gb), arr_step("o0", np.zeros((4,), "float32")),
             arr_step("o1", np.zeros((4,), "float32")),
             kv("kv_init", keys=[0, 1], values=["w0", "w1"]),
             kv("kv_push", keys=[0], values=[["ga0"]]), kv("kv_push", keys=[0], values=[["ga1"]]),
             kv("kv_push", keys=[0, 1], values=[["ga2"], ["gb"]]),
             kv("kv_pull", keys=[0, 1], outputs=[["o0"], ["o1"]]),
             check_step("o0", ra[-1], False), check_step("o1", rb[-1], False)]
    g.add(fam, "adam/update_count_per_key", steps)

    # ---- errors: the C error's code and fields ---------------------------------------------
    f = np.ones((2, 3), "float32")
    base = [kv("kv_create", type="local"), arr_step("a", f), arr_step("o", np.zeros((2, 3), "float32"))]
    g.add(fam, "error/pull_uninitialised", base + [
        kv_err(kv("kv_pull", keys=[3], outputs=[["o"]]), err(E_ARG))])
    g.add(fam, "error/push_uninitialised", base + [
        kv_err(kv("kv_push", keys=["w"], values=[["a"]]), err(E_ARG))])
    g.add(fam, "error/init_twice", base + [
        kv("kv_init", keys=[3], values=["a"]), arr_step("b", np.zeros((2, 3), "float32")),
        kv_err(kv("kv_init", keys=[3], values=["b"]), err(E_ARG)),
        kv("kv_pull", keys=[3], outputs=[["o"]]), check_step("o", f)])
    bad = np.zeros((3, 2), "float32")
    g.add(fam, "error/push_shape", base + [
        arr_step("bad", bad), kv("kv_init", keys=[3], values=["a"]),
        kv_err(kv("kv_push", keys=[3], values=[["a", "bad"]]), err(E_SHAPE, 1, None)),
        kv("kv_pull", keys=[3], outputs=[["o"]]), check_step("o", f)])
    g.add(fam, "error/pull_shape", base + [
        arr_step("bad", bad), kv("kv_init", keys=["w"], values=["a"]),
        kv_err(kv("kv_pull", keys=["w"], outputs=[["bad"]]), err(E_SHAPE, 0, None))])
    # the optimizers update floating-point weights only: the fused operator refuses int32
    wi = np.ones((2, 3), "int32")
    g.add(fam, "error/optimizer_int32_weight", [
        kv("kv_create", type="local"), kv("kv_set_optimizer", optimizer="sgd",
                                           params={"learning_rate": 0.5, "momentum": 0.5}),
        arr_step("w", wi), arr_step("g", wi), kv("kv_init", keys=[0], values=["w"]),
        kv_err(kv("kv_push", keys=[0], values=[["g"]]), err(E_DTYPE, 0, None))])
    g.add(fam, "error/create_unknown_type", [
        kv_err(kv("kv_create", type="nope"), err(E_NOT_IMPLEMENTED))])
    g.add(fam, "error/create_dist_async", [
        kv_err(kv("kv_create", type="dist_async"), err(E_NOT_IMPLEMENTED))])


def build():
    g = Gen()
    for fam in [creation, binary, scalar, unary, reduce, shape_ops, cast, index_ops, linalg, nn,
                sorting, optimizer_ops, random_ops, errors, params_io, symbols, kvstore]:
        fam(g)
    files = {}
    by_file = {}
    for c in g.cases.values():
        by_file.setdefault(c["family"], []).append(c)
    for fam, cases in sorted(by_file.items()):
        doc = {"format": "mxnext-conformance/1", "family": fam,
               "generated_by": "tests/conformance/generate_cases.py (NumPy reference)",
               "cases": cases}
        files[os.path.join(CASES_DIR, f"{fam}.json")] = json.dumps(doc, indent=None,
                                                                   separators=(",", ":")) + "\n"
    return files


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    files = build()
    stale = []
    for path, text in files.items():
        old = open(path).read() if os.path.exists(path) else None
        if old != text:
            if args.check:
                stale.append(path)
            else:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    f.write(text)
    n = sum(len(json.loads(t)["cases"]) for t in files.values())
    if stale:
        print("stale case files: " + ", ".join(stale), file=sys.stderr)
        return 1
    print(f"{n} cases in {len(files)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
