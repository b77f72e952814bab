"""The shared operator harness: one table of cases, each naming the op, its parameters, the input
shapes, the inputs' value domains, which inputs are differentiable and a tolerance. Every case
runs on several shapes (size-1 and 0-size dimensions included) and checks

  (a) forward, against an independent NumPy reference (op_refs.py, or test_ops_forward.py's
      references for the families it introduced), in float32 and float64;
  (b) gradients, computed through mx.autograd (attach_grad / record / backward with a random
      head gradient), against float64 central finite differences of sum(op(x) * head)
      (eps 1e-6, rtol 1e-3, atol 1e-5).

test_every_op_is_covered lists the registry (mx._core.schema_json()) and fails when an operator
is neither in the table nor in the commented exclusion lists. The optimizer updates have their
own table at the end (forward and in-place state updates; they have no gradient)."""
import json
import math
import zlib

import numpy as np
import pytest

import mxnext as mx
import mxnext.autograd  # noqa: F401  (mx.autograd)

import op_refs as R
from test_ops_forward import (_batch_dot_ref, _dot_ref, _reduce_ref, _slice_axis_ref, _slice_ref,
                              gen, op_fn)

FD_EPS, FD_RTOL, FD_ATOL = 1e-6, 1e-3, 1e-5
FWD_TOL = {"float32": (2e-5, 1e-6), "float64": (1e-12, 1e-12)}


class Case:
    """op: registry name or alias; shapes: list of input-shape lists (each one test);
    ref: NumPy reference (None: forward checked elsewhere); kinds: value domain per input (see
    test_ops_forward.gen); fixed: {input position: fn(shape, rng) -> array} for index/condition
    inputs (not differentiable, passed with their own dtype); diff: positions to differentiate
    (default: every non-fixed input); outputs: which outputs enter the loss (default all);
    grad: False for an op whose gradient check does not apply to this case."""

    def __init__(self, op, shapes, params=None, ref=None, kinds=("any",), fixed=None, diff=None,
                 outputs=None, tol=None, grad=True, name=None, fwd_dtypes=("float32", "float64")):
        self.op, self.shapes, self.params, self.ref = op, shapes, params or {}, ref
        self.kinds, self.fixed, self.diff, self.outputs = kinds, fixed or {}, diff, outputs
        self.tol, self.grad, self.fwd_dtypes = tol, grad, fwd_dtypes
        self.name = name or f"{op}-{self.params}" if self.params else (name or op)


CASES = []


def add(*args, **kwargs):
    CASES.append(Case(*args, **kwargs))


def ints(lo, hi):
    """A fixed integer input (indices) drawn from [lo, hi), passed as int32."""
    return lambda shape, rng: rng.integers(lo, hi, shape).astype(np.int32)


# ---- unary (test_ops_forward covers their forward on every dtype) ---------------------------------
S1 = [[(2, 3)], [(1,)], [(0, 4)], [(3, 1, 2)], [()]]
for _op, _kind in [("exp", "any"), ("log", "pos"), ("sqrt", "pos"), ("rsqrt", "pos"),
                   ("reciprocal", "nz"), ("sigmoid", "any"), ("tanh", "any"), ("expm1", "unit"),
                   ("log1p", "unit"), ("log2", "pos"), ("log10", "pos"), ("sin", "any"),
                   ("cos", "any"), ("tan", "unit"), ("arcsin", "unit"), ("arccos", "unit"),
                   ("arctan", "any"), ("sinh", "unit"), ("cosh", "unit"), ("arcsinh", "any"),
                   ("arccosh", "ge1"), ("arctanh", "unit"), ("softsign", "any"), ("cbrt", "nz"),
                   ("erf", "any"), ("abs", "nz"), ("negative", "any"), ("relu", "nz"),
                   ("square", "any"), ("_copy", "any"), ("identity", "any"),
                   # piecewise constant: the gradient is zero (FD agrees away from the jumps)
                   ("sign", "nz"), ("floor", "half"), ("ceil", "half"), ("round", "nz"),
                   ("rint", "nz"), ("trunc", "half"), ("fix", "half")]:
    add(_op, S1, kinds=(_kind,))
add("gamma", S1, ref=R.gamma, kinds=("pos",))
add("gamma", [[(5,)]], ref=R.gamma, kinds=("unit",), name="gamma-negative-args")
add("gammaln", S1, ref=R.gammaln, kinds=("pos",))
add("Cast", [[(2, 3)], [(0,)]], params={"dtype": "float64"}, fwd_dtypes=())
add("cast", [[(2, 3)]], params={"dtype": "float64"}, fwd_dtypes=())
add("zeros_like", S1, fwd_dtypes=())
add("ones_like", S1, fwd_dtypes=())

# ---- reductions ---------------------------------------------------------------------------------
for _op in ["sum", "mean", "prod", "max", "min", "nansum"]:
    _kind = "nz" if _op == "prod" else "any"
    for _axis, _kd, _ex, _shapes in [
            (None, False, False, [[(2, 3)], [(1,)], [()], [(0, 3)] if _op not in ("max", "min") else [(3, 1)]]),
            (1, False, False, [[(2, 3, 4)], [(2, 1, 3)], [(0, 2)]]),
            ((0, 2), True, False, [[(2, 3, 4)]]),
            (1, True, True, [[(2, 3, 4)]]),
            (-1, False, False, [[(3, 0)] if _op not in ("max", "min") else [(3, 1)]])]:
        _p = {"keepdims": _kd, "exclude": _ex}
        if _axis is not None:
            _p["axis"] = _axis
        add(_op, _shapes, params=_p, ref=_reduce_ref(_op, _axis, _kd, _ex), kinds=(_kind,))
add("sum_axis", [[(2, 3)]], params={"axis": 1})
add("prod", [[(4,)]], ref=lambda x: np.prod(x, keepdims=True).reshape(1),
    fixed={0: lambda s, rng: np.array([0.0, 2.0, 3.0, -1.5])}, grad=False,
    name="prod-one-zero-fwd")
add("norm", [[(2, 3)], [(1,)], [(3, 1, 2)]], ref=R.norm(), kinds=("nz",))
add("norm", [[(2, 3, 4)]], params={"ord": 1, "axis": (0, 2)}, ref=R.norm(1, (0, 2)), kinds=("nz",))
add("norm", [[(2, 3)]], params={"ord": 2, "axis": 1, "keepdims": True},
    ref=R.norm(2, 1, True), kinds=("nz",))
add("norm", [[(0, 3)]], params={"axis": 1}, ref=R.norm(2, 1))

# ---- dot family ----------------------------------------------------------------------------------
for _ta, _tb, _shapes in [
        (False, False, [[(3,), (3,)], [(2, 3), (3, 4)], [(2, 3, 4), (4, 2)], [(1, 1), (1, 1)],
                        [(0, 3), (3, 2)], [(2, 0), (0, 3)]]),
        (True, False, [[(3, 2), (3, 4)], [(2, 3, 2), (2, 5)]]),
        (False, True, [[(2, 3), (4, 3)], [(2, 3), (4, 2, 3)]]),
        (True, True, [[(3, 2), (4, 3)]])]:
    add("dot", _shapes, params={"transpose_a": _ta, "transpose_b": _tb}, ref=_dot_ref(_ta, _tb))
for _ta, _tb in [(False, False), (True, False), (False, True), (True, True)]:
    _a = (2, 4, 3) if _ta else (2, 3, 4)
    _b = (2, 5, 4) if _tb else (2, 4, 5)
    add("batch_dot", [[_a, _b]], params={"transpose_a": _ta, "transpose_b": _tb},
        ref=_batch_dot_ref(_ta, _tb))
    add("linalg_gemm2", [[(2,) + _a[1:], (2,) + _b[1:]], [_a[1:], _b[1:]]],
        params={"transpose_a": _ta, "transpose_b": _tb, "alpha": 1.5},
        ref=R.linalg_gemm2(_ta, _tb, 1.5))
add("batch_dot", [[(0, 2, 3), (0, 3, 2)], [(2, 3, 0), (2, 0, 2)]], ref=_batch_dot_ref(False, False))
add("_linalg_gemm2", [[(1, 2, 3), (1, 3, 1)]], ref=R.linalg_gemm2())

# ---- shape manipulation -----------------------------------------------------------------------------
add("Reshape", [[(2, 3, 4)]], params={"shape": (4, -1)}, ref=lambda x: x.reshape(4, 6))
add("reshape", [[(2, 3)], [(0, 3)]], params={"shape": (-1,)}, ref=lambda x: x.reshape(-1))
add("transpose", [[(2, 3, 4)], [(1, 3)], [(0, 2)]], ref=lambda x: x.T)
add("transpose", [[(2, 3, 4)]], params={"axes": (1, -1, 0)}, ref=lambda x: x.transpose(1, 2, 0))
add("slice_axis", [[(2, 5, 3)], [(1, 4, 1)]], params={"axis": 1, "begin": 1, "end": -1},
    ref=_slice_axis_ref(1, 1, -1))
add("slice", [[(3, 4, 5)]], params={"begin": (0, None, 4), "end": (3, None, 0),
                                     "step": (2, 1, -2)},
    ref=_slice_ref((0, None, 4), (3, None, 0), (2, 1, -2)))
add("slice", [[(2, 0)]], params={"begin": (1,), "end": (2,)}, ref=_slice_ref((1,), (2,), ()))
add("Concat", [[(2, 3), (2, 1), (2, 2)], [(1, 0), (1, 2)]], params={"dim": 1},
    ref=lambda *xs: np.concatenate(xs, 1))
add("concat", [[(2, 3)], [(0, 3), (2, 3)]], params={"dim": 0}, ref=lambda *xs: np.concatenate(xs, 0))
add("expand_dims", [[(2, 3)], [()]], params={"axis": 0}, ref=lambda x: x[None])
add("Flatten", [[(2, 3, 4)], [(1,)], [(0, 2, 2)]],
    ref=lambda x: x.reshape(x.shape[0], int(np.prod(x.shape[1:]))))
add("flatten", [[(2, 3)]], ref=lambda x: x.reshape(2, 3))
add("reshape_like", [[(2, 3), (3, 2)], [(0, 4), (4, 0)]], ref=R.reshape_like, diff=[0])
add("reshape_like", [[(2, 3, 4), (6, 1)]], params={"lhs_begin": 0, "lhs_end": 2, "rhs_begin": 0},
    ref=lambda x, y: x.reshape(6, 1, 4), diff=[0], name="reshape_like-ranges")
add("squeeze", [[(2, 1, 3)], [(1, 1)], [(1, 0, 1)]], ref=R.squeeze())
add("squeeze", [[(2, 1, 1)]], params={"axis": (1,)}, ref=R.squeeze((1,)))
add("SwapAxis", [[(2, 3, 4)], [(1, 0, 2)]], params={"dim1": 0, "dim2": 2}, ref=R.swapaxes(0, 2))
add("swapaxes", [[(2, 3)]], params={"dim1": 1, "dim2": -2}, ref=R.swapaxes(1, -2))
add("reverse", [[(2, 3, 4)], [(1, 3, 0)]], params={"axis": (0, 2)}, ref=R.flip((0, 2)))
add("flip", [[(4,)]], params={"axis": 0}, ref=R.flip(0))
add("stack", [[(2, 3), (2, 3), (2, 3)], [(0, 2), (0, 2)], [(), ()]], params={"axis": 0},
    ref=R.stack(0))
add("stack", [[(2, 3), (2, 3)]], params={"axis": -1}, ref=R.stack(-1))
add("SliceChannel", [[(2, 6)], [(1, 3)]], params={"num_outputs": 3}, ref=R.split(3))
add("split", [[(3, 2, 2)]], params={"num_outputs": 3, "axis": 0, "squeeze_axis": True},
    ref=R.split(3, 0, True))
add("split", [[(4, 2)]], params={"num_outputs": 2, "axis": 0}, ref=R.split(2, 0), outputs=[1],
    name="split-one-output-used")
add("slice_like", [[(3, 4), (2, 3)], [(2, 3), (0, 3)]], ref=R.slice_like(), diff=[0])
add("slice_like", [[(3, 4, 2), (1, 2, 5)]], params={"axes": (0, 1)}, ref=R.slice_like((0, 1)),
    diff=[0])
add("broadcast_to", [[(1, 3)], [(2, 1)], [(1, 0)]], params={"shape": (2, 0)},
    ref=R.broadcast_to((2, 0)))
add("broadcast_to", [[(1, 1, 2)]], params={"shape": (3, 2, 2)}, ref=R.broadcast_to((3, 2, 2)))
add("broadcast_like", [[(1, 3), (2, 3)], [(2, 1, 1), (2, 3, 4)]], ref=R.broadcast_like, diff=[0])
add("broadcast_axis", [[(1, 3, 1)]], params={"axis": (0, 2), "size": (2, 3)},
    ref=R.broadcast_axis((0, 2), (2, 3)))
add("broadcast_axes", [[(2, 1)]], params={"axis": 1, "size": 0}, ref=R.broadcast_axis((1,), (0,)))
add("tile", [[(2, 3)], [(1,)], [(0, 2)]], params={"reps": (2, 2)}, ref=R.tile((2, 2)))
add("tile", [[(2, 3)]], params={"reps": (3,)}, ref=R.tile((3,)))
add("tile", [[(3,)]], params={"reps": (2, 1, 2)}, ref=R.tile((2, 1, 2)))
add("repeat", [[(2, 3)], [(1,)]], params={"repeats": 2}, ref=R.repeat(2))
add("repeat", [[(2, 3)], [(0, 3)]], params={"repeats": 3, "axis": 1}, ref=R.repeat(3, 1))
for _mode in ["constant", "edge", "reflect"]:
    add("Pad", [[(1, 2, 3, 4)]], params={"mode": _mode, "pad_width": (0, 0, 0, 0, 1, 2, 2, 1)},
        ref=R.pad(_mode, (0, 0, 0, 0, 1, 2, 2, 1)))
    add("pad", [[(3, 4)]], params={"mode": _mode, "pad_width": (2, 1, 0, 2)},
        ref=R.pad(_mode, (2, 1, 0, 2)))
add("pad", [[(2, 3)]], params={"mode": "constant", "pad_width": (1, 1, 1, 0),
                               "constant_value": 2.5},
    ref=R.pad("constant", (1, 1, 1, 0), 2.5), name="pad-constant-value")
add("pad", [[(2, 0)]], params={"mode": "constant", "pad_width": (1, 0, 1, 1)},
    ref=R.pad("constant", (1, 0, 1, 1)), name="pad-empty")
add("shape_array", [[(2, 3)], [()], [(0, 4)]], ref=R.shape_array, grad=False)
add("size_array", [[(2, 3)], [(0, 4)]], ref=R.size_array, grad=False)

# ---- indexing ---------------------------------------------------------------------------------------
add("take", [[(4, 3), (2, 2)], [(4,), (5,)], [(4, 3), (0,)]], ref=R.take(),
    fixed={1: ints(-2, 6)})
add("take", [[(2, 5, 3), (4,)]], params={"axis": 1, "mode": "wrap"}, ref=R.take(1, "wrap"),
    fixed={1: ints(-7, 12)})
add("take", [[(3, 2), (6,)]], params={"axis": 0}, ref=R.take(),
    fixed={1: lambda s, rng: np.array([0.0, 1.7, 2.0, 2.0, 0.0, 1.0], np.float32)},
    name="take-float-repeated-indices")
add("pick", [[(3, 4), (3,)]], ref=R.pick(), fixed={1: ints(0, 4)})
add("pick", [[(3, 4, 2), (3, 1, 2)]], params={"axis": 1, "keepdims": True, "mode": "wrap"},
    ref=R.pick(1, True, "wrap"), fixed={1: ints(-5, 9)})
add("pick", [[(0, 3), (0,)]], ref=R.pick(), fixed={1: ints(0, 3)})
add("gather_nd", [[(3, 4), (2, 5)], [(3, 4, 2), (1, 3)], [(2, 3), (2, 0)]], ref=R.gather_nd,
    fixed={1: ints(0, 2)})
add("one_hot", [[(2, 3)], [(0,)]], params={"depth": 4}, ref=R.one_hot(4), fixed={0: ints(-1, 5)},
    grad=False)
add("one_hot", [[(3,)]], params={"depth": 3, "on_value": 2.0, "off_value": -1.0},
    ref=R.one_hot(3, 2.0, -1.0), fixed={0: ints(0, 3)}, grad=False)
add("where", [[(2, 3), (2, 3), (2, 3)], [(3,), (3, 2), (3, 2)], [(0, 2), (0, 2), (0, 2)]],
    ref=R.where, fixed={0: ints(0, 2)})
add("clip", [[(3, 4)], [(1,)], [(0,)]], params={"a_min": -1.0, "a_max": 2.0}, ref=R.clip(-1, 2))
add("argmax", [[(3, 4)], [(1, 1)]], params={"axis": 1}, ref=R.arg(np.argmax, 1))
add("argmax", [[(3, 4)]], ref=R.arg(np.argmax))
add("argmin", [[(3, 4, 2)]], params={"axis": 0, "keepdims": True},
    ref=R.arg(np.argmin, 0, True))
add("argmin", [[(3, 4)]], params={"keepdims": True}, ref=R.arg(np.argmin, None, True))
add("argmax_channel", [[(3, 4)], [(5,)]], ref=lambda x: R.arg(np.argmax, -1)(x))

# ---- sorting -----------------------------------------------------------------------------------------
add("topk", [[(3, 5)], [(1, 4)]], params={"k": 2, "ret_typ": "value"},
    ref=R.topk(-1, 2, "value"))
add("topk", [[(4, 3)]], params={"k": 3, "axis": 0, "ret_typ": "value", "is_ascend": True},
    ref=R.topk(0, 3, "value", True))
add("topk", [[(3, 4)]], params={"k": 2, "ret_typ": "both"}, ref=R.topk(-1, 2, "both"),
    outputs=[0])
add("topk", [[(3, 4)]], params={"k": 2}, ref=R.topk(-1, 2))
add("topk", [[(3, 4)]], params={"k": 0, "axis": None, "ret_typ": "mask"},
    ref=R.topk(None, 0, "mask"))
add("topk", [[(2, 3)]], params={"k": 1, "axis": None, "ret_typ": "value"},
    ref=R.topk(None, 1, "value"))
add("sort", [[(3, 4)], [(1,)], [(0, 3)]], ref=R.sort())
add("sort", [[(3, 4)]], params={"axis": 0, "is_ascend": False}, ref=R.sort(0, False))
add("argsort", [[(3, 4)], [(0, 2)]], ref=R.argsort())
add("argsort", [[(3, 4)]], params={"axis": 0, "is_ascend": False}, ref=R.argsort(0, False))

# ---- math ------------------------------------------------------------------------------------------
add("add_n", [[(2, 3), (2, 3), (2, 3)], [(0,), (0,)], [()]], ref=R.add_n)
add("ElementWiseSum", [[(3,), (3,)]], ref=R.add_n)
add("smooth_l1", [[(3, 4)], [(0,)]], ref=R.smooth_l1())
add("smooth_l1", [[(3, 4)]], params={"scalar": 2.0}, ref=R.smooth_l1(2.0))


# ---- the checks -------------------------------------------------------------------------------------
def _rng(case, shapes, tag):
    return np.random.default_rng(zlib.crc32(f"{case.name}{shapes}{tag}".encode()))


def _inputs(case, shapes, dtype, rng):
    kinds = list(case.kinds) + [case.kinds[-1]] * len(shapes)
    out = []
    for i, (s, k) in enumerate(zip(shapes, kinds)):
        if i in case.fixed:
            out.append(np.asarray(case.fixed[i](s, rng)).reshape(s))
        else:
            x = gen(s, "float64", k, rng)
            if k in ("nz", "any") and case.op in ("argmax", "argmin", "argmax_channel", "topk",
                                                  "sort", "argsort", "max", "min"):
                x = x + np.arange(x.size).reshape(s) * 1e-3  # no ties
            out.append(np.asarray(x).astype(dtype))
    return out


def _call(case, arrays):
    return op_fn(case.op)(*arrays, **case.params)


def _as_list(y):
    return list(y) if isinstance(y, (list, tuple)) else [y]


def _expand(fwd):
    for case in CASES:
        if fwd and (case.ref is None or not case.fwd_dtypes):
            continue
        if not fwd and not case.grad:
            continue
        for shapes in case.shapes:
            sid = "x".join(str(s) for s in shapes)
            if fwd:
                for dt in case.fwd_dtypes:
                    yield pytest.param(case, shapes, dt, id=f"{case.name}-{sid}-{dt}")
            else:
                yield pytest.param(case, shapes, id=f"{case.name}-{sid}")


@pytest.mark.parametrize("case,shapes,dtype", list(_expand(True)))
def test_forward(case, shapes, dtype):
    xs = _inputs(case, shapes, dtype, _rng(case, shapes, "fwd"))
    got = [g.asnumpy() for g in _as_list(_call(case, [mx.nd.array(x, dtype=x.dtype) for x in xs]))]
    refs = case.ref(*[x.astype(np.float64) if x.dtype.kind == "f" else x for x in xs])
    refs = _as_list(refs) if isinstance(refs, (list, tuple)) else [refs]
    assert len(got) == len(refs)
    rtol, atol = case.tol or FWD_TOL[dtype]
    for g, r in zip(got, refs):
        r = np.asarray(r)
        assert g.shape == r.shape, f"shape {g.shape} != {r.shape}"
        np.testing.assert_allclose(g.astype(np.float64), r.astype(np.float64), rtol=rtol,
                                   atol=atol)


@pytest.mark.parametrize("case,shapes", list(_expand(False)))
def test_gradient(case, shapes):
    rng = _rng(case, shapes, "grad")
    xs = _inputs(case, shapes, "float64", rng)
    diff = case.diff if case.diff is not None else [i for i in range(len(xs)) if i not in case.fixed]
    arrays = [mx.nd.array(x, dtype=x.dtype) for x in xs]
    for i in diff:
        arrays[i].attach_grad()
    with mx.autograd.record():
        ys = _as_list(_call(case, arrays))
    sel = case.outputs if case.outputs is not None else list(range(len(ys)))
    heads = [rng.standard_normal(ys[k].shape) for k in sel]
    mx.autograd.backward([ys[k] for k in sel], [mx.nd.array(h, dtype="float64") for h in heads])

    def loss(vals):
        out = _as_list(_call(case, [mx.nd.array(v, dtype=v.dtype) for v in vals]))
        return sum(float(np.sum(out[k].asnumpy().astype(np.float64) * h))
                   for k, h in zip(sel, heads))

    for i in diff:
        got = arrays[i].grad.asnumpy()
        assert got.shape == xs[i].shape
        fd = np.zeros(xs[i].shape)
        flat = fd.reshape(-1)
        for j in range(xs[i].size):
            plus = [x.copy() for x in xs]
            minus = [x.copy() for x in xs]
            plus[i].reshape(-1)[j] += FD_EPS
            minus[i].reshape(-1)[j] -= FD_EPS
            flat[j] = (loss(plus) - loss(minus)) / (2 * FD_EPS)
        np.testing.assert_allclose(got, fd, rtol=FD_RTOL, atol=FD_ATOL,
                                   err_msg=f"gradient of input {i}")


def test_cast_gradient_takes_the_input_dtype():
    x = mx.nd.array([1.5, -2.25], dtype="float64")
    x.attach_grad()
    with mx.autograd.record():
        y = mx.nd.Cast(x, dtype="float32")
    y.backward(mx.nd.array([2.0, 3.0], dtype="float32"))
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.asnumpy(), [2.0, 3.0])


def test_prod_gradient_with_zeros():
    """d prod / dx_i is the product of the others, exact when elements are zero."""
    for vals, expect in [([0.0, 2.0, 3.0], [6.0, 0.0, 0.0]), ([0.0, 2.0, 0.0], [0.0, 0.0, 0.0])]:
        x = mx.nd.array(vals, dtype="float64")
        x.attach_grad()
        with mx.autograd.record():
            y = mx.nd.prod(x)
        y.backward()
        np.testing.assert_array_equal(x.grad.asnumpy(), expect)


# ---- registry coverage ------------------------------------------------------------------------------
# Operators without a gradient by nature (no differentiable input, or their output is not a
# function of an input in the differentiable sense): creation, random, optimizer updates.
NO_GRADIENT = {
    "_zeros", "_ones", "_full", "_arange",                      # no inputs
    "_random_uniform", "_random_normal", "_random_randint",     # random draws, no inputs
    "_shuffle",                                                  # a random permutation
    "_sample_multinomial",                                       # draws (get_prob grad: below)
    "one_hot", "shape_array", "size_array",                      # index/integer outputs
    "sgd_update", "sgd_mom_update", "nag_mom_update", "adam_update", "rmsprop_update",
    "rmspropalex_update", "_sparse_adagrad_update", "ftrl_update", "signsgd_update",
    "signum_update", "mp_sgd_update", "mp_sgd_mom_update", "mp_nag_mom_update",  # updates
    # comparisons and logic: outputs are 0/1 (MXNet gives zero gradients)
    "broadcast_equal", "broadcast_not_equal", "broadcast_greater", "broadcast_greater_equal",
    "broadcast_lesser", "broadcast_lesser_equal", "broadcast_logical_and", "broadcast_logical_or",
    "broadcast_logical_xor", "_equal", "_not_equal", "_greater", "_greater_equal", "_lesser",
    "_lesser_equal", "_equal_scalar", "_not_equal_scalar", "_greater_scalar",
    "_greater_equal_scalar", "_lesser_scalar", "_lesser_equal_scalar",
    "_sum_to_like",  # the gradient of broadcasting itself; no second-order gradients yet
}
# Operators whose finite-difference gradient cases live in the other harnesses.
def _covered_elsewhere():
    import test_autograd
    import test_ops_nn
    return set(test_autograd.COVERED) | set(test_ops_nn.COVERED)


def _registry():
    return json.loads(mx._core.schema_json())["ops"]


def test_every_op_is_covered():
    ops = _registry()
    covered = set()
    by_alias = {}
    for o in ops:
        for n in [o["name"]] + o["aliases"]:
            by_alias[n] = o["name"]
    for c in CASES:
        if c.grad:
            covered.add(by_alias.get(c.op, c.op))
    covered |= {by_alias.get(n, n) for n in _covered_elsewhere()}
    names = {o["name"] for o in ops}
    missing = sorted(n for n in names if n not in covered and n not in NO_GRADIENT)
    assert not missing, f"operators without a gradient case (or an exclusion): {missing}"
    stale = sorted(NO_GRADIENT - names)
    assert not stale, f"exclusions naming no registered operator: {stale}"
    wrong = sorted(n for n in NO_GRADIENT if n in covered)
    assert not wrong, f"operators both excluded and covered: {wrong}"
    # The registry says which operators have no gradient at all; each must be excluded here.
    differentiable = {o["name"] for o in ops if o["differentiable"]}
    unlisted = sorted((names - differentiable) - NO_GRADIENT)
    assert not unlisted, f"operators without a gradient missing from NO_GRADIENT: {unlisted}"


def test_sample_multinomial_log_prob_gradient():
    """d log p[k] / d p = 1/p[k] at the drawn k (MXNet's get_prob gradient)."""
    p = mx.nd.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]], dtype="float64")
    p.attach_grad()
    mx.random.seed(3)
    with mx.autograd.record():
        s, logp = mx.nd.sample_multinomial(p, shape=(4,), get_prob=True)
    head = np.arange(8, dtype=np.float64).reshape(2, 4) + 1
    logp.backward(mx.nd.array(head, dtype="float64"))
    pn, sn = p.asnumpy(), s.asnumpy()
    expect = np.zeros((2, 3))
    for r in range(2):
        for j in range(4):
            expect[r, sn[r, j]] += head[r, j] / pn[r, sn[r, j]]
    np.testing.assert_allclose(p.grad.asnumpy(), expect, rtol=1e-12)
    np.testing.assert_allclose(logp.asnumpy(), np.log(np.take_along_axis(pn, sn, 1)), rtol=1e-12)


# ---- random ---------------------------------------------------------------------------------------
_M0, _M1, _W0, _W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85


def _philox(seed, index):
    c = [index & 0xFFFFFFFF, (index >> 32) & 0xFFFFFFFF, 0, 0]
    k = [seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF]
    for r in range(10):
        if r:
            k = [(k[0] + _W0) & 0xFFFFFFFF, (k[1] + _W1) & 0xFFFFFFFF]
        p0, p1 = _M0 * c[0], _M1 * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k[0], p1 & 0xFFFFFFFF, (p0 >> 32) ^ c[3] ^ k[1], p0 & 0xFFFFFFFF]
    return c


def _u64(seed, i):
    w = _philox(seed, i)
    return (w[0] << 32) | w[1]


def test_randint_is_philox_of_seed_and_counter():
    seed = 987654321
    mx.random.seed(seed)
    got = mx.nd.random_randint(low=-3, high=7, shape=(2, 3), dtype="int64").asnumpy()
    np.testing.assert_array_equal(got.reshape(-1), [-3 + _u64(seed, i) % 10 for i in range(6)])
    assert mx.nd.random_randint(low=0, high=5, shape=(4,)).asnumpy().dtype == np.int32


def test_randint_distribution():
    mx.random.seed(1)
    v = mx.nd.random_randint(low=2, high=6, shape=(40000,)).asnumpy()
    assert v.min() == 2 and v.max() == 5
    np.testing.assert_allclose(np.bincount(v)[2:] / v.size, 0.25, atol=0.01)


def test_shuffle_is_philox_fisher_yates():
    seed = 11
    mx.random.seed(seed)
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    got = mx.nd.shuffle(mx.nd.array(x)).asnumpy()
    perm = list(range(6))
    for i in range(5, 0, -1):
        j = _u64(seed, i) % (i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    np.testing.assert_array_equal(got, x[perm])
    for shape in [(), (0, 3), (1,)]:
        a = np.ones(shape, np.float32)
        assert mx.nd.shuffle(mx.nd.array(a)).asnumpy().shape == shape


def test_sample_multinomial_is_philox_and_distributed():
    seed = 5
    mx.random.seed(seed)
    p = np.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]])
    got = mx.nd.sample_multinomial(mx.nd.array(p), shape=(3,)).asnumpy()
    u = [(((w[0] << 21) ^ (w[1] >> 11)) & ((1 << 53) - 1)) / 2.0 ** 53
         for w in (_philox(seed, i) for i in range(6))]
    expect = [int(np.argmax(np.cumsum(p[i // 3]) > u[i])) for i in range(6)]
    np.testing.assert_array_equal(got.reshape(-1), expect)
    mx.random.seed(2)
    big = mx.nd.sample_multinomial(mx.nd.array([0.1, 0.2, 0.7]), shape=(30000,)).asnumpy()
    np.testing.assert_allclose(np.bincount(big, minlength=3) / big.size, [0.1, 0.2, 0.7], atol=0.01)
    assert mx.nd.sample_multinomial(mx.nd.array([0.5, 0.5])).asnumpy().shape == (1,)


# ---- optimizer updates ------------------------------------------------------------------------------
# (op, reference, state names, params). Inputs: weight, grad, then the states, in MXNet's order.
UPDATES = [
    ("sgd_update", R.sgd_update, [], {"lr": 0.1, "wd": 0.01}),
    ("sgd_update", R.sgd_update, [], {"lr": 0.1, "rescale_grad": 0.5, "clip_gradient": 0.3}),
    ("sgd_mom_update", R.sgd_mom_update, ["mom"], {"lr": 0.1, "momentum": 0.9, "wd": 0.01}),
    ("sgd_mom_update", R.sgd_mom_update, ["mom"],
     {"lr": 0.05, "momentum": 0.5, "rescale_grad": 2.0, "clip_gradient": 0.5}),
    ("nag_mom_update", R.nag_mom_update, ["mom"], {"lr": 0.1, "momentum": 0.9, "wd": 0.02}),
    ("adam_update", R.adam_update, ["mean", "var"],
     {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6, "wd": 0.1, "clip_gradient": 1.0}),
    ("rmsprop_update", R.rmsprop_update, ["n"],
     {"lr": 0.01, "gamma1": 0.9, "wd": 0.01, "clip_weights": 0.95}),
    ("rmspropalex_update", R.rmspropalex_update, ["n", "g", "delta"],
     {"lr": 0.01, "gamma1": 0.9, "gamma2": 0.8, "rescale_grad": 0.5}),
    ("_sparse_adagrad_update", R.adagrad_update, ["history"], {"lr": 0.1, "wd": 0.01}),
    ("adagrad_update", R.adagrad_update, ["history"], {"lr": 0.1, "clip_gradient": 0.5}),
    ("ftrl_update", R.ftrl_update, ["z", "n"], {"lr": 0.1, "lamda1": 0.1, "beta": 0.5, "wd": 0.1}),
    ("signsgd_update", R.signsgd_update, [], {"lr": 0.1, "wd": 0.1}),
    ("signum_update", R.signum_update, ["mom"],
     {"lr": 0.1, "momentum": 0.9, "wd": 0.1, "wd_lh": 0.01}),
]


def _state(name, shape, rng):
    if name in ("n", "var", "history"):
        return rng.uniform(0.1, 1.0, shape)
    return rng.standard_normal(shape) * 0.5


@pytest.mark.parametrize("op,ref,states,params", UPDATES,
                         ids=[f"{u[0]}-{i}" for i, u in enumerate(UPDATES)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(3, 4), (1,), (0, 2)])
def test_update(op, ref, states, params, dtype, shape):
    rng = np.random.default_rng(zlib.crc32(f"{op}{params}{shape}".encode()))
    w = rng.standard_normal(shape)
    g = rng.standard_normal(shape)
    st = [_state(s, shape, rng) for s in states]
    wa = mx.nd.array(w, dtype=dtype)
    arrays = [mx.nd.array(s, dtype=dtype) for s in st]
    out = op_fn(op)(wa, mx.nd.array(g, dtype=dtype), *arrays, out=wa, **params)
    cast = [x.astype(dtype).astype(np.float64) for x in [w, g] + st]
    expect = ref(*cast, **params)
    rtol, atol = (1e-5, 1e-6) if dtype == "float32" else (1e-12, 1e-12)
    np.testing.assert_allclose(wa.asnumpy(), expect["weight"], rtol=rtol, atol=atol)
    np.testing.assert_allclose(out.asnumpy(), expect["weight"], rtol=rtol, atol=atol)
    for name, a in zip(states, arrays):
        np.testing.assert_allclose(a.asnumpy(), expect[name], rtol=rtol, atol=atol,
                                   err_msg=f"state {name}")


@pytest.mark.parametrize("op,states,params", [
    ("mp_sgd_update", ["weight32"], {"lr": 0.1, "wd": 0.01, "clip_gradient": 0.5}),
    ("mp_sgd_mom_update", ["mom", "weight32"], {"lr": 0.1, "momentum": 0.9, "wd": 0.01}),
    ("mp_nag_mom_update", ["mom", "weight32"], {"lr": 0.1, "momentum": 0.9, "wd": 0.01}),
])
def test_mp_update(op, states, params):
    rng = np.random.default_rng(zlib.crc32(op.encode()))
    shape = (5, 3)
    w32 = rng.standard_normal(shape).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float16)
    mom = (rng.standard_normal(shape) * 0.1).astype(np.float32)
    wa = mx.nd.array(w32.astype(np.float16), dtype="float16")
    st = {"mom": mx.nd.array(mom, dtype="float32"), "weight32": mx.nd.array(w32, dtype="float32")}
    op_fn(op)(wa, mx.nd.array(g, dtype="float16"), *[st[s] for s in states], out=wa, **params)
    ref = {"mp_sgd_update": R.mp_sgd_update, "mp_sgd_mom_update": R.mp_sgd_mom_update,
           "mp_nag_mom_update": R.mp_nag_mom_update}[op]
    args = [w32.astype(np.float64), g.astype(np.float64)] + \
        [(mom if s == "mom" else w32).astype(np.float64) for s in states]
    expect = ref(*args, **params)
    np.testing.assert_allclose(st["weight32"].asnumpy(), expect["weight32"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(wa.asnumpy().astype(np.float64), expect["weight"], rtol=1e-3,
                               atol=1e-3)
    if "mom" in states:
        np.testing.assert_allclose(st["mom"].asnumpy(), expect["mom"], rtol=1e-5, atol=1e-6)


def test_update_orders_state_writes():
    """Repeated in-place updates see each other's state writes (aux inputs are engine writes)."""
    w = mx.nd.ones((1000,))
    mom = mx.nd.zeros((1000,))
    g = mx.nd.ones((1000,))
    for _ in range(5):
        mx.nd.sgd_mom_update(w, g, mom, out=w, lr=0.1, momentum=0.5)
    m, wv = 0.0, 1.0
    for _ in range(5):
        m = 0.5 * m - 0.1
        wv += m
    np.testing.assert_allclose(w.asnumpy(), wv, rtol=1e-6)
    np.testing.assert_allclose(mom.asnumpy(), m, rtol=1e-6)


def test_case_counts():
    """Guards the table against silent shrinkage."""
    assert len(list(_expand(False))) >= 250 and len(list(_expand(True))) >= 250
    assert math.isfinite(FD_EPS)
