"""Neural-network layers (core/ops/nn_*.cc) against independent NumPy references.

A small table-driven harness: each Case names the op, its parameters, its inputs (shape and value
domain, or a fixed generator for labels/indices/aux states), a NumPy reference and which inputs
to differentiate. Every case checks

  (a) forward against the reference in float32 and float64 (float16 where listed);
  (b) gradients through mx.autograd (attach_grad / record / backward with a random head
      gradient) against float64 central finite differences of sum(out * head).

Loss layers (SoftmaxOutput, *RegressionOutput, MakeLoss, make_loss), whose gradients ignore the
head gradient by definition, Dropout (random) and BatchNorm's moving statistics have their own
tests below. COVERED lists the operators with a gradient check here (for the shared harness's
coverage test)."""
import math

import numpy as np
import pytest

import mxnext as mx
import mxnext.autograd  # noqa: F401
from mxnext.ndarray import _ops as _O

FD_EPS = 1e-6
FWD_TOL = {"float16": (2e-2, 2e-2), "float32": (1e-4, 1e-5), "float64": (1e-10, 1e-12)}


# ---- input generation ------------------------------------------------------------------------
def gen(shape, kind, rng):
    if kind == "any":
        return rng.standard_normal(shape)
    if kind == "nz":  # away from 0 (kinks of relu & co.)
        return rng.uniform(0.2, 2, shape) * rng.choice([-1, 1], shape)
    if kind == "pos":
        return rng.uniform(0.5, 2, shape)
    if kind == "ones":
        return np.ones(shape)
    if kind == "zeros":
        return np.zeros(shape)
    if kind == "distinct":  # distinct values (no ties for max pooling)
        n = int(np.prod(shape))
        return (rng.permutation(n).reshape(shape) + rng.uniform(0.1, 0.4, shape)) / max(n, 1) * 4 - 2
    raise ValueError(kind)


class Case:
    """inputs: list of (shape, kind) or callables rng -> np.ndarray (fixed: not differentiated,
    keep their own dtype); diff: positions to differentiate (default: every generated input);
    ref(params, *inputs) -> array or list of arrays (the visible outputs); train: run in
    training mode; grad: run the gradient check; dtypes: forward dtypes."""

    def __init__(self, op, inputs, params=None, ref=None, diff=None, train=False, grad=True,
                 dtypes=("float32", "float64"), name=None, grad_tol=(1e-4, 1e-6), keep32=(),
                 grad_outputs=None):
        self.op, self.inputs, self.params, self.ref = op, inputs, params or {}, ref
        gen_pos = [i for i, s in enumerate(inputs) if not callable(s)]
        self.diff = gen_pos if diff is None else diff
        self.train, self.grad, self.dtypes, self.grad_tol = train, grad, dtypes, grad_tol
        self.grad_outputs = grad_outputs  # leading outputs in the loss (MXNet blocks the rest)
        self.keep32 = keep32  # inputs kept in float32 for float16 data (BatchNorm's parameters)
        shapes = [s[0] if not callable(s) else "fixed" for s in inputs]
        self.id = name or f"{op}-{self.params}-{shapes}"

    def make(self, dtype, seed=0):
        rng = np.random.default_rng(seed)
        vals = []
        for i, s in enumerate(self.inputs):
            dt = "float32" if dtype == "float16" and i in self.keep32 else dtype
            if callable(s):
                v = s(rng)
                vals.append(v if v.dtype.kind in "iu" else v.astype(dt))
            else:
                vals.append(gen(s[0], s[1], rng).astype(dt))
        return vals


CASES = []


def add(*args, **kwargs):
    CASES.append(Case(*args, **kwargs))


def nd(a):
    return mx.nd.array(a, dtype=a.dtype)


def invoke(op, inputs, **params):
    """Calls an operator with exactly `inputs` (the generated functions do not yet let optional
    inputs such as bias with no_bias=True, or gamma without prelu, be left out)."""
    if op not in _O._KEYS:  # an alias: its generated function has the same inputs
        return getattr(mx.nd, op)(*inputs, **params)
    keys = _O._KEYS[op]
    unknown = set(params) - {k.decode() for k in keys}
    assert not unknown, f"unknown parameters {unknown}"
    vals = tuple(params.get(k.decode()) for k in keys)
    return _O._invoke(_O._OP[op], tuple(inputs), keys, _O._TYPES[op], vals, None)


# ---- references ------------------------------------------------------------------------------
def fc_ref(p, x, w, b=None):
    x2 = x.reshape(x.shape[0], int(np.prod(x.shape[1:]))) if p.get("flatten", True) else x
    y = x2 @ w.T
    if b is not None and not p.get("no_bias", False):
        y = y + b
    return y


def _tuple(p, key, n, fill):
    v = p.get(key, ())
    return tuple(v) if len(v) else (fill,) * n


def conv_ref(p, x, w, b=None):
    one_d = x.ndim == 3
    if one_d:
        x, w = x[:, :, None, :], w[:, :, None, :]
        p = dict(p, kernel=(1,) + tuple(p["kernel"]), stride=(1,) + _tuple(p, "stride", 1, 1),
                 dilate=(1,) + _tuple(p, "dilate", 1, 1), pad=(0,) + _tuple(p, "pad", 1, 0))
    (sh, sw), (dh, dw), (ph, pw) = (_tuple(p, "stride", 2, 1), _tuple(p, "dilate", 2, 1),
                                    _tuple(p, "pad", 2, 0))
    G = p.get("num_group", 1)
    N, C, H, W = x.shape
    F, Cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    OH = (H + 2 * ph - (dh * (kh - 1) + 1)) // sh + 1
    OW = (W + 2 * pw - (dw * (kw - 1) + 1)) // sw + 1
    out = np.zeros((N, F, OH, OW), dtype=np.float64)
    Fg = F // G
    for g in range(G):
        xs = xp[:, g * Cg:(g + 1) * Cg].astype(np.float64)
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dh:i * dh + sh * (OH - 1) + 1:sh,
                           j * dw:j * dw + sw * (OW - 1) + 1:sw]
                out[:, g * Fg:(g + 1) * Fg] += np.einsum("nchw,fc->nfhw", patch,
                                                         w[g * Fg:(g + 1) * Fg, :, i, j])
    if b is not None and not p.get("no_bias", False):
        out += b[None, :, None, None]
    return out[:, :, 0, :] if one_d else out


def deconv_ref(p, x, w, b=None):
    one_d = x.ndim == 3
    if one_d:
        x, w = x[:, :, None, :], w[:, :, None, :]

    def t(key, fill):
        v = _tuple(p, key, 1 if one_d else 2, fill)
        return ((fill,) + v) if one_d else v
    (sh, sw), (dh, dw), (ph, pw), (ah, aw) = t("stride", 1), t("dilate", 1), t("pad", 0), t("adj", 0)
    G = p.get("num_group", 1)
    N, C, H, W = x.shape
    _, Fg, kh, kw = w.shape
    F, Cg = Fg * G, C // G
    dkh, dkw = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    ts = tuple(p.get("target_shape", ()))
    if ts and any(ts):
        ts = ((1,) + ts) if one_d else ts
        tot_h, tot_w = sh * (H - 1) + dkh - ts[0], sw * (W - 1) + dkw - ts[1]
        ah, aw, ph, pw = tot_h % 2, tot_w % 2, (tot_h + 1) // 2, (tot_w + 1) // 2
    full = np.zeros((N, F, sh * (H - 1) + dkh + ah, sw * (W - 1) + dkw + aw))
    for g in range(G):
        xs = x[:, g * Cg:(g + 1) * Cg].astype(np.float64)
        for i in range(kh):
            for j in range(kw):
                full[:, g * Fg:(g + 1) * Fg, i * dh:i * dh + sh * (H - 1) + 1:sh,
                     j * dw:j * dw + sw * (W - 1) + 1:sw] += np.einsum(
                         "nchw,cf->nfhw", xs, w[g * Cg:(g + 1) * Cg, :, i, j])
    OH = sh * (H - 1) + dkh - 2 * ph + ah
    OW = sw * (W - 1) + dkw - 2 * pw + aw
    out = full[:, :, ph:ph + OH, pw:pw + OW]
    if b is not None and not p.get("no_bias", True):
        out = out + b[None, :, None, None]
    return out[:, :, 0, :] if one_d else out


def pool_ref(p, x):
    nsp = x.ndim - 2
    xs = x.reshape(x.shape[:2] + (1,) * (3 - nsp) + x.shape[2:]).astype(np.float64)
    ins = xs.shape[2:]
    if p.get("global_pool", False):
        k, s, pd = ins, (1, 1, 1), (0, 0, 0)
    else:
        pad3 = lambda v, f: (f,) * (3 - nsp) + tuple(v)  # noqa: E731
        k = pad3(p["kernel"], 1)
        s = pad3(_tuple(p, "stride", nsp, 1), 1)
        pd = pad3(_tuple(p, "pad", nsp, 0), 0)
    conv = p.get("pooling_convention", "valid")
    outs = []
    for a in range(3):
        if p.get("global_pool", False):
            outs.append(1)
        elif conv == "valid":
            outs.append((ins[a] + 2 * pd[a] - k[a]) // s[a] + 1)
        elif conv == "full":
            outs.append(int(math.ceil((ins[a] + 2 * pd[a] - k[a]) / s[a])) + 1)
        else:
            outs.append(int(math.ceil((ins[a] + 2 * pd[a]) / s[a])))
    t = p.get("pool_type", "max")
    pv = p.get("p_value", 2)
    inc = p.get("count_include_pad", True)
    out = np.zeros(xs.shape[:2] + tuple(outs))
    for o in np.ndindex(*outs):
        b = [o[a] * s[a] - pd[a] for a in range(3)]
        e = [min(b[a] + k[a], ins[a] + pd[a]) for a in range(3)]
        size = np.prod([e[a] - b[a] for a in range(3)])
        b = [max(v, 0) for v in b]
        e = [min(e[a], ins[a]) for a in range(3)]
        win = xs[:, :, b[0]:e[0], b[1]:e[1], b[2]:e[2]]
        win = win.reshape(xs.shape[:2] + (int(np.prod(win.shape[2:])),))
        if not inc:
            size = win.shape[-1]
        if t == "max":
            v = win.max(-1)
        elif t == "avg":
            v = win.sum(-1) / size
        elif t == "sum":
            v = win.sum(-1)
        else:
            v = (win ** pv).sum(-1) ** (1.0 / pv)
        out[(slice(None), slice(None)) + o] = v
    return out.reshape(x.shape[:2] + tuple(outs)[3 - nsp:])


def bn_ref(p, x, gamma, beta, mm, mv):
    axis = p.get("axis", 1) % x.ndim
    red = tuple(a for a in range(x.ndim) if a != axis)
    shp = [1] * x.ndim
    shp[axis] = x.shape[axis]
    train = p.get("_train", False) and not p.get("use_global_stats", False)
    x64 = x.astype(np.float64)
    if train:
        mean, var = x64.mean(red), x64.var(red)
    else:
        mean, var = mm.astype(np.float64), mv.astype(np.float64)
    eps = p.get("eps", 1e-3)
    g = np.ones_like(gamma) if p.get("fix_gamma", True) else gamma
    y = (x64 - mean.reshape(shp)) / np.sqrt(var.reshape(shp) + eps) * g.reshape(shp) + \
        beta.reshape(shp)
    if p.get("output_mean_var", False):
        return [y, mean, 1.0 / np.sqrt(var + eps)]
    return y


def ln_ref(p, x, g, b):
    axis = p.get("axis", -1) % x.ndim
    shp = [1] * x.ndim
    shp[axis] = x.shape[axis]
    x64 = x.astype(np.float64)
    m = x64.mean(axis, keepdims=True)
    sd = np.sqrt(x64.var(axis, keepdims=True) + p.get("eps", 1e-5))
    y = (x64 - m) / sd * g.reshape(shp) + b.reshape(shp)
    return [y, m, sd] if p.get("output_mean_var", False) else y


def in_ref(p, x, g, b):
    red = tuple(range(2, x.ndim))
    shp = (1, -1) + (1,) * (x.ndim - 2)
    x64 = x.astype(np.float64)
    m = x64.mean(red, keepdims=True)
    v = x64.var(red, keepdims=True)
    return (x64 - m) / np.sqrt(v + p.get("eps", 1e-3)) * g.reshape(shp) + b.reshape(shp)


def l2_ref(p, x):
    mode = p.get("mode", "instance")
    x64 = x.astype(np.float64)
    eps = p.get("eps", 1e-10)
    if mode == "instance":
        n = np.sqrt((x64.reshape(x.shape[0], -1) ** 2).sum(1) + eps)
        return x64 / n.reshape((-1,) + (1,) * (x.ndim - 1))
    if mode == "channel":
        return x64 / np.sqrt((x64 ** 2).sum(1, keepdims=True) + eps)
    return x64 / np.sqrt((x64 ** 2).sum(tuple(range(2, x.ndim)), keepdims=True) + eps)


def lrn_ref(p, x):
    n = p["nsize"]
    a, b, k = p.get("alpha", 1e-4), p.get("beta", 0.75), p.get("knorm", 2.0)
    x64 = x.astype(np.float64)
    sq = x64 ** 2
    s = np.zeros_like(x64)
    C = x.shape[1]
    for c in range(C):
        lo, hi = max(0, c - n // 2), min(C, c + n // 2 + 1)
        s[:, c] = sq[:, lo:hi].sum(1)
    return x64 * (k + a / n * s) ** (-b)


def lrn_vjp_ref(p, x, dy):
    """dx of LRN for the head gradient dy: dy n^-b - 2 b a/n x sum over windows of
    dy x n^(-b-1)."""
    n = p["nsize"]
    a, b, k = p.get("alpha", 1e-4), p.get("beta", 0.75), p.get("knorm", 2.0)
    x64, dy64 = x.astype(np.float64), dy.astype(np.float64)
    C = x.shape[1]

    def windows(v):
        out = np.zeros_like(v)
        for c in range(C):
            lo, hi = max(0, c - n // 2), min(C, c + n // 2 + 1)
            out[:, c] = v[:, lo:hi].sum(1)
        return out
    norm = k + a / n * windows(x64 ** 2)
    return dy64 * norm ** (-b) - 2 * b * a / n * x64 * windows(dy64 * x64 * norm ** (-b - 1))


def act_ref(p, x):
    t = p["act_type"]
    x = x.astype(np.float64)
    sp = np.where(x > 20, x, np.log1p(np.exp(np.minimum(x, 20))))
    return {"relu": lambda: np.maximum(x, 0), "sigmoid": lambda: 1 / (1 + np.exp(-x)),
            "tanh": lambda: np.tanh(x), "softrelu": lambda: sp,
            "softsign": lambda: x / (1 + np.abs(x)),
            "log_sigmoid": lambda: -np.log1p(np.exp(-x)),
            "mish": lambda: x * np.tanh(sp)}[t]()


def leaky_ref(p, x, gamma=None):
    t = p.get("act_type", "leaky")
    s = p.get("slope", 0.25)
    x = x.astype(np.float64)
    if t == "leaky":
        return np.where(x > 0, x, s * x)
    if t == "elu":
        return np.where(x > 0, x, s * np.expm1(x))
    if t == "selu":
        al, la = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
        return la * np.where(x > 0, x, al * np.expm1(x))
    if t == "gelu":
        return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
    if t == "rrelu":  # predict mode
        sl = (p.get("lower_bound", 0.125) + p.get("upper_bound", 0.334)) / 2
        return np.where(x > 0, x, sl * x)
    raise ValueError(t)


def softmax_ref(p, x, log=False):
    axis = p.get("axis", -1)
    t = p.get("temperature", None) or 1.0
    z = x.astype(np.float64) / t
    z = z - z.max(axis, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis, keepdims=True)
    return z - np.log(s) if log else e / s


def softmax_act_ref(p, x):
    if p.get("mode", "instance") == "channel":
        return softmax_ref({"axis": 1}, x)
    return softmax_ref({"axis": -1}, x.reshape(x.shape[0], -1)).reshape(x.shape)


def upsample_ref(p, *xs):
    s = p["scale"]
    oh, ow = xs[0].shape[2] * s, xs[0].shape[3] * s
    ups = [np.repeat(np.repeat(x.astype(np.float64), oh // x.shape[2], 2), ow // x.shape[3], 3)
           for x in xs]
    return sum(ups) if p.get("multi_input_mode", "concat") == "sum" else np.concatenate(ups, 1)


def embedding_ref(p, idx, w):
    return w[np.clip(idx.astype(np.int64), 0, p["input_dim"] - 1)]


# ---- the table ------------------------------------------------------------------------------
F16 = ("float16", "float32", "float64")

# FullyConnected
add("FullyConnected", [((3, 4), "any"), ((5, 4), "any"), ((5,), "any")], {"num_hidden": 5},
    fc_ref, dtypes=F16)
add("FullyConnected", [((2, 3, 2), "any"), ((4, 6), "any"), ((4,), "any")], {"num_hidden": 4},
    fc_ref)
add("FullyConnected", [((2, 3, 4), "any"), ((5, 4), "any"), ((5,), "any")],
    {"num_hidden": 5, "flatten": False}, fc_ref)
add("FullyConnected", [((1, 4), "any"), ((2, 4), "any"), ((2,), "any")], {"num_hidden": 2},
    fc_ref)
add("FullyConnected", [((0, 4), "any"), ((3, 4), "any"), ((3,), "any")], {"num_hidden": 3},
    fc_ref)
add("FullyConnected", [((3, 2, 2), "any"), ((2, 4), "any")], {"num_hidden": 2, "no_bias": True},
    fc_ref, dtypes=F16)

# Convolution
add("Convolution", [((2, 3, 5, 5), "any"), ((4, 3, 3, 3), "any"), ((4,), "any")],
    {"kernel": (3, 3), "num_filter": 4, "pad": (1, 1)}, conv_ref, dtypes=F16)
add("Convolution", [((1, 2, 7, 6), "any"), ((3, 2, 3, 2), "any"), ((3,), "any")],
    {"kernel": (3, 2), "num_filter": 3, "stride": (2, 1), "dilate": (2, 2), "pad": (1, 0)},
    conv_ref)
add("Convolution", [((2, 4, 5, 5), "any"), ((6, 2, 3, 3), "any"), ((6,), "any")],
    {"kernel": (3, 3), "num_filter": 6, "num_group": 2, "stride": (2, 2), "pad": (1, 1)},
    conv_ref)
add("Convolution", [((2, 3, 4, 4), "any"), ((5, 3, 1, 1), "any"), ((5,), "any")],
    {"kernel": (1, 1), "num_filter": 5}, conv_ref, name="Convolution-1x1")
add("Convolution", [((2, 4, 4, 4), "any"), ((4, 1, 3, 3), "any"), ((4,), "any")],
    {"kernel": (3, 3), "num_filter": 4, "num_group": 4, "pad": (1, 1)}, conv_ref,
    name="Convolution-depthwise")
# depthwise (num_group == channels == num_filter): builds without BLAS (WebAssembly) run these
# forward in float32 (and float16) on the direct kernel, not im2col + GEMM
add("Convolution", [((2, 3, 9, 8), "any"), ((3, 1, 3, 3), "any"), ((3,), "any")],
    {"kernel": (3, 3), "num_filter": 3, "num_group": 3, "stride": (2, 2), "pad": (1, 1)},
    conv_ref, dtypes=F16, name="Convolution-depthwise-s2")
add("Convolution", [((1, 4, 9, 11), "any"), ((4, 1, 3, 3), "any")],
    {"kernel": (3, 3), "num_filter": 4, "num_group": 4, "stride": (2, 3), "dilate": (2, 2),
     "pad": (2, 1), "no_bias": True}, conv_ref, dtypes=F16, name="Convolution-depthwise-dilate")
add("Convolution", [((2, 2, 8, 7), "any"), ((2, 1, 5, 2), "any"), ((2,), "any")],
    {"kernel": (5, 2), "num_filter": 2, "num_group": 2, "stride": (1, 2), "dilate": (1, 3),
     "pad": (0, 2)}, conv_ref, dtypes=F16, name="Convolution-depthwise-5x2")
add("Convolution", [((1, 5, 6, 6), "any"), ((5, 1, 3, 3), "any"), ((5,), "any")],
    {"kernel": (3, 3), "num_filter": 5, "num_group": 5}, conv_ref, dtypes=F16,
    name="Convolution-depthwise-nopad")
add("Convolution", [((2, 3, 9), "any"), ((4, 3, 3), "any"), ((4,), "any")],
    {"kernel": (3,), "num_filter": 4, "stride": (2,), "pad": (1,), "layout": "NCW"}, conv_ref)
add("Convolution", [((2, 3, 5, 4), "any"), ((4, 3, 2, 3), "any")],
    {"kernel": (2, 3), "num_filter": 4, "no_bias": True}, conv_ref, dtypes=F16)
# feature maps of >= 2048 positions: one image per GEMM (smaller maps batch images)
add("Convolution", [((2, 1, 46, 46), "any"), ((2, 1, 3, 3), "any"), ((2,), "any")],
    {"kernel": (3, 3), "num_filter": 2, "pad": (1, 1)}, conv_ref, name="Convolution-large-map")
add("Convolution", [((2, 2, 46, 46), "any"), ((3, 2, 1, 1), "any"), ((3,), "any")],
    {"kernel": (1, 1), "num_filter": 3}, conv_ref, name="Convolution-large-map-1x1", diff=[1, 2])
add("Deconvolution", [((2, 1, 46, 46), "any"), ((1, 2, 2, 2), "any")],
    {"kernel": (2, 2), "num_filter": 2, "stride": (2, 2)}, deconv_ref, diff=[1],
    name="Deconvolution-large-map")
add("Convolution", [((0, 3, 5, 5), "any"), ((2, 3, 3, 3), "any"), ((2,), "any")],
    {"kernel": (3, 3), "num_filter": 2}, conv_ref, name="Convolution-empty-batch")

# Deconvolution (bias input present: no_bias=False)
add("Deconvolution", [((2, 3, 3, 3), "any"), ((3, 2, 3, 3), "any"), ((2,), "any")],
    {"kernel": (3, 3), "num_filter": 2, "stride": (2, 2), "pad": (1, 1), "adj": (1, 1),
     "no_bias": False}, deconv_ref, dtypes=F16)
add("Deconvolution", [((1, 4, 3, 4), "any"), ((4, 3, 2, 3), "any"), ((6,), "any")],
    {"kernel": (2, 3), "num_filter": 6, "num_group": 2, "stride": (1, 2), "dilate": (2, 1),
     "no_bias": False}, deconv_ref)
add("Deconvolution", [((2, 2, 3, 3), "any"), ((2, 3, 4, 4), "any"), ((3,), "any")],
    {"kernel": (4, 4), "num_filter": 3, "stride": (2, 2), "target_shape": (7, 6),
     "no_bias": False}, deconv_ref, name="Deconvolution-target_shape")
add("Deconvolution", [((2, 3, 5), "any"), ((3, 2, 3), "any"), ((2,), "any")],
    {"kernel": (3,), "num_filter": 2, "stride": (2,), "pad": (1,), "no_bias": False},
    deconv_ref)
add("Deconvolution", [((2, 3, 3, 3), "any"), ((3, 4, 1, 1), "any"), ((4,), "any")],
    {"kernel": (1, 1), "num_filter": 4, "no_bias": False}, deconv_ref, name="Deconvolution-1x1")

add("Deconvolution", [((2, 3, 3, 2), "any"), ((3, 2, 3, 3), "any")],
    {"kernel": (3, 3), "num_filter": 2, "stride": (2, 2)}, deconv_ref, dtypes=F16,
    name="Deconvolution-default-no-bias")

# Pooling
P4 = [((2, 3, 6, 5), "distinct")]
add("Pooling", P4, {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1)}, pool_ref, dtypes=F16)
add("Pooling", P4, {"kernel": (2, 2), "stride": (2, 2), "pool_type": "avg"}, pool_ref)
add("Pooling", P4, {"kernel": (3, 2), "stride": (2, 2), "pad": (1, 1), "pool_type": "avg"},
    pool_ref)
add("Pooling", P4, {"kernel": (3, 3), "stride": (2, 2), "pad": (1, 1), "pool_type": "avg",
                    "count_include_pad": False}, pool_ref)
add("Pooling", P4, {"kernel": (3, 3), "stride": (2, 2), "pool_type": "max",
                    "pooling_convention": "full"}, pool_ref)
add("Pooling", P4, {"kernel": (3, 3), "stride": (2, 2), "pool_type": "avg",
                    "pooling_convention": "full"}, pool_ref)
add("Pooling", P4, {"kernel": (2, 2), "pool_type": "sum", "pad": (1, 0)}, pool_ref)
add("Pooling", [((2, 2, 4, 4), "pos")], {"kernel": (2, 2), "stride": (2, 2), "pool_type": "lp",
                                         "p_value": 2}, pool_ref)
add("Pooling", [((2, 2, 4, 4), "pos")], {"kernel": (2, 2), "pool_type": "lp", "p_value": 3},
    pool_ref)
add("Pooling", P4, {"global_pool": True, "pool_type": "avg"}, pool_ref)
add("Pooling", P4, {"global_pool": True, "kernel": (1, 1)}, pool_ref, name="Pooling-global-max")
add("Pooling", [((2, 3, 7), "distinct")], {"kernel": (3,), "stride": (2,), "pad": (1,)},
    pool_ref)
add("Pooling", [((2, 3, 7), "distinct")], {"kernel": (2,), "stride": (3,),
                                           "pooling_convention": "same"}, pool_ref)
add("Pooling", [((1, 2, 4, 3, 4), "distinct")], {"kernel": (2, 2, 2), "stride": (2, 1, 2),
                                                 "pool_type": "avg"}, pool_ref)
add("Pooling", [((0, 2, 4, 4), "any")], {"kernel": (2, 2)}, pool_ref, name="Pooling-empty")
# wider rows: the row-wise kernel's interior columns (and its edges) at several strides
PW = [((2, 3, 9, 17), "distinct")]
for _pt in ["max", "avg", "sum"]:
    add("Pooling", PW, {"kernel": (3, 3), "stride": (1, 1), "pad": (1, 1), "pool_type": _pt},
        pool_ref, name=f"Pooling-wide-3x3s1p1-{_pt}")
    add("Pooling", PW, {"kernel": (2, 3), "stride": (1, 2), "pad": (0, 1), "pool_type": _pt,
                        "pooling_convention": "full"}, pool_ref, name=f"Pooling-wide-full-{_pt}")
add("Pooling", PW, {"kernel": (3, 3), "stride": (2, 3), "pad": (1, 2), "pool_type": "avg",
                    "count_include_pad": False}, pool_ref, name="Pooling-wide-avg-exclude-pad")

# BatchNorm: inference (moving statistics) and training (batch statistics)
C3 = [((4, 3, 2, 2), "any"), ((3,), "pos"), ((3,), "any"),
      lambda rng: rng.standard_normal(3), lambda rng: rng.uniform(0.5, 2, 3)]
for _fg in (True, False):
    add("BatchNorm", C3, {"fix_gamma": _fg}, bn_ref, diff=[0, 1, 2], dtypes=F16,
        keep32=(1, 2, 3, 4))
    add("BatchNorm", C3, {"fix_gamma": _fg, "_train": True}, bn_ref, diff=[0, 1, 2], train=True,
        dtypes=F16, keep32=(1, 2, 3, 4))
add("BatchNorm", [((3, 4, 2), "any"), ((2,), "pos"), ((2,), "any"),
                  lambda rng: rng.standard_normal(2), lambda rng: rng.uniform(0.5, 2, 2)],
    {"axis": -1, "fix_gamma": False, "_train": True, "eps": 1e-5}, bn_ref, diff=[0, 1, 2],
    train=True)
add("BatchNorm", C3, {"fix_gamma": False, "use_global_stats": True}, bn_ref, diff=[0, 1, 2],
    train=True)
add("BatchNorm", [((1, 3), "any"), ((3,), "pos"), ((3,), "any"),
                  lambda rng: rng.standard_normal(3), lambda rng: rng.uniform(0.5, 2, 3)],
    {"fix_gamma": False}, bn_ref, diff=[0, 1, 2], name="BatchNorm-batch1-inference")
add("BatchNorm", C3, {"fix_gamma": False, "output_mean_var": True, "_train": True}, bn_ref,
    diff=[0, 1, 2], train=True, grad=False)

# LayerNorm / InstanceNorm / L2Normalization / LRN
add("LayerNorm", [((3, 5), "any"), ((5,), "pos"), ((5,), "any")], {}, ln_ref, dtypes=F16)
add("LayerNorm", [((2, 3, 4), "any"), ((3,), "pos"), ((3,), "any")], {"axis": 1, "eps": 1e-3},
    ln_ref)
add("LayerNorm", [((2, 4), "any"), ((4,), "pos"), ((4,), "any")], {"output_mean_var": True},
    ln_ref, grad_outputs=1)
add("InstanceNorm", [((2, 3, 4, 2), "any"), ((3,), "pos"), ((3,), "any")], {}, in_ref,
    dtypes=F16)
add("InstanceNorm", [((1, 2, 5), "any"), ((2,), "pos"), ((2,), "any")], {"eps": 1e-5}, in_ref)
for _m in ("instance", "channel", "spatial"):
    add("L2Normalization", [((2, 3, 2, 2), "any")], {"mode": _m}, l2_ref)
add("L2Normalization", [((3, 4), "any")], {}, l2_ref, dtypes=F16)
add("LRN", [((2, 5, 2, 3), "any")], {"nsize": 3, "alpha": 0.1, "beta": 0.75, "knorm": 2.0},
    lrn_ref, dtypes=F16)
add("LRN", [((1, 4, 2, 2), "any")], {"nsize": 5, "alpha": 0.5}, lrn_ref)
add("LRN", [((2, 6, 3, 3), "any")], {"nsize": 3, "alpha": 0.3, "beta": 0.5}, lrn_ref)  # pow path
# Enough planes and work for the kernel to split them over threads (its gradient:
# test_lrn_gradient_of_a_large_input, against the analytic one).
add("LRN", [((2, 16, 32, 32), "any")], {"nsize": 5, "alpha": 0.02, "knorm": 1.0}, lrn_ref,
    grad=False)

# Activation / LeakyReLU / softmax family
for _t in ("relu", "sigmoid", "tanh", "softrelu", "softsign", "log_sigmoid", "mish"):
    add("Activation", [((3, 4), "nz")], {"act_type": _t}, act_ref, dtypes=F16)
add("Activation", [((0, 4), "nz")], {"act_type": "relu"}, act_ref, name="Activation-empty")
for _t, _s in (("leaky", 0.1), ("elu", 0.7), ("selu", 0.25), ("gelu", 0.25), ("rrelu", 0.25)):
    add("LeakyReLU", [((3, 4), "nz")], {"act_type": _t, "slope": _s}, leaky_ref, dtypes=F16)
add("LeakyReLU", [((2, 3, 4), "nz"), ((3,), "pos")], {"act_type": "prelu"},
    lambda p, x, g: np.where(x > 0, x, g.reshape(1, 3, 1) * x), dtypes=F16)
add("LeakyReLU", [((2, 3), "nz"), ((1,), "pos")], {"act_type": "prelu"},
    lambda p, x, g: np.where(x > 0, x, g * x))
add("softmax", [((3, 5), "any")], {}, softmax_ref, dtypes=F16)
add("softmax", [((2, 3, 4), "any")], {"axis": 1, "temperature": 2.0}, softmax_ref)
add("softmax", [((2, 3), "any")], {"axis": 0}, softmax_ref)
add("log_softmax", [((3, 5), "any")], {}, lambda p, x: softmax_ref(p, x, True), dtypes=F16)
add("log_softmax", [((2, 3, 4), "any")], {"axis": 1, "temperature": 0.5},
    lambda p, x: softmax_ref(p, x, True))
add("SoftmaxActivation", [((2, 3, 2), "any")], {}, softmax_act_ref)
add("SoftmaxActivation", [((2, 3, 2, 2), "any")], {"mode": "channel"}, softmax_act_ref)

# Embedding (indices fixed, weight differentiated), UpSampling, BlockGrad
add("Embedding", [lambda rng: rng.integers(-1, 6, (2, 3)).astype(np.float64), ((5, 4), "any")],
    {"input_dim": 5, "output_dim": 4}, embedding_ref, diff=[1], dtypes=("float32",), grad=False)
add("Embedding", [lambda rng: rng.integers(0, 5, (4,)).astype(np.int32), ((5, 3), "any")],
    {"input_dim": 5, "output_dim": 3, "dtype": "float64"}, embedding_ref, diff=[1],
    dtypes=("float64",))
add("UpSampling", [((2, 2, 2, 3), "any")], {"scale": 2, "sample_type": "nearest"}, upsample_ref,
    dtypes=F16)
add("UpSampling", [((1, 2, 2, 2), "any"), ((1, 3, 3, 3), "any")],
    {"scale": 3, "sample_type": "nearest"}, upsample_ref)
add("UpSampling", [((1, 2, 2, 2), "any"), ((1, 2, 1, 1), "any")],
    {"scale": 2, "sample_type": "nearest", "multi_input_mode": "sum"}, upsample_ref)


def _blockgrad_ref(p, x):
    return x


add("BlockGrad", [((2, 3), "any")], {}, _blockgrad_ref, grad=False)
add("stop_gradient", [((2, 3), "any")], {}, _blockgrad_ref, grad=False)


# ---- the checks --------------------------------------------------------------------------------
def _params(case):
    return {k: v for k, v in case.params.items() if not k.startswith("_")}


def _run(case, vals, params):
    with (mx.autograd.train_mode() if case.train else mx.autograd.predict_mode()):
        out = invoke(case.op, [nd(v) for v in vals], **params)
    return out if isinstance(out, (list, tuple)) else [out]


FWD = [(c, d) for c in CASES for d in c.dtypes]


@pytest.mark.parametrize("case,dtype", FWD, ids=[f"{c.id}-{d}" for c, d in FWD])
def test_forward(case, dtype):
    vals = case.make(dtype)
    outs = _run(case, vals, _params(case))
    ref = case.ref(case.params, *[v.astype(np.float64) if v.dtype.kind == "f" else v
                                  for v in vals])
    refs = ref if isinstance(ref, list) else [ref]
    assert len(outs) == len(refs), f"{len(outs)} outputs, reference has {len(refs)}"
    rtol, atol = FWD_TOL[dtype]
    for o, r in zip(outs, refs):
        assert o.shape == r.shape, f"shape {o.shape} vs reference {r.shape}"
        np.testing.assert_allclose(o.asnumpy().astype(np.float64), r, rtol=rtol, atol=atol)


GRAD = [c for c in CASES if c.grad]


@pytest.mark.parametrize("case", GRAD, ids=[c.id for c in GRAD])
def test_gradient(case):
    vals = case.make("float64", seed=1)
    params = _params(case)
    arrs = [nd(v) for v in vals]
    for i in case.diff:
        arrs[i].attach_grad()
    with mx.autograd.record(train_mode=case.train):
        out = invoke(case.op, arrs, **params)
    outs = out if isinstance(out, (list, tuple)) else [out]
    outs = outs[:case.grad_outputs]
    rng = np.random.default_rng(7)
    heads = [rng.standard_normal(o.shape) for o in outs]
    # backward runs in the forward's mode (MXNet: backward(train_mode=...) decides, e.g. whether
    # BatchNorm differentiates through the batch statistics)
    mx.autograd.backward(outs, [nd(h) for h in heads], train_mode=case.train)
    grads = {i: arrs[i].grad.asnumpy() for i in case.diff}

    def loss(vs):
        os_ = _run(case, vs, params)[:case.grad_outputs]
        return sum(float((o.asnumpy() * h).sum()) for o, h in zip(os_, heads))

    rtol, atol = case.grad_tol
    for i in case.diff:
        fd = np.zeros(vals[i].shape)
        for j in np.ndindex(*vals[i].shape):
            vs = list(vals)
            v = vals[i].copy()
            v[j] += FD_EPS
            vs[i] = v
            lp = loss(vs)
            v = vals[i].copy()
            v[j] -= FD_EPS
            vs[i] = v
            lm = loss(vs)
            fd[j] = (lp - lm) / (2 * FD_EPS)
        np.testing.assert_allclose(grads[i], fd, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i}")


COVERED = sorted({c.op for c in GRAD} | {
    "SoftmaxOutput", "LinearRegressionOutput", "LogisticRegressionOutput", "MAERegressionOutput",
    "MakeLoss", "make_loss", "BlockGrad", "Dropout"})


# ---- special gradients: loss layers -------------------------------------------------------------
def _grad_of(op, vals, params, diff=0, head=None, train=True):
    arrs = [nd(v) for v in vals]
    arrs[diff].attach_grad()
    with mx.autograd.record(train_mode=train):
        out = invoke(op, arrs, **params)
    if head is None:
        out.backward()
    else:
        out.backward(nd(head))
    return out.asnumpy(), arrs[diff].grad.asnumpy()


def _onehot(lab, k):
    return np.eye(k)[lab.astype(np.int64)]


@pytest.mark.parametrize("norm", ["null", "batch", "valid"])
@pytest.mark.parametrize("use_ignore", [False, True])
def test_softmax_output_gradient(norm, use_ignore):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 4))
    lab = np.array([0, 3, 1, 1, 2], dtype=np.float64)
    params = {"normalization": norm, "use_ignore": use_ignore, "ignore_label": 1,
              "grad_scale": 0.5}
    # the head gradient is ignored
    out, g = _grad_of("SoftmaxOutput", [x, lab], params, head=rng.standard_normal((5, 4)))
    sm = softmax_ref({}, x)
    np.testing.assert_allclose(out, sm, rtol=1e-12)
    expect = (sm - _onehot(lab, 4)) * 0.5
    if use_ignore:
        expect[lab == 1] = 0
    valid = {"null": 1, "batch": 5, "valid": 5 - (lab == 1).sum()}[norm]
    np.testing.assert_allclose(g, expect / valid, rtol=1e-12, atol=1e-15)


def test_softmax_output_multi_output_and_smoothing():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 4))
    lab = rng.integers(0, 3, (2, 4)).astype(np.float64)
    out, g = _grad_of("SoftmaxOutput", [x, lab], {"multi_output": True, "normalization": "batch"})
    sm = softmax_ref({"axis": 1}, x)
    np.testing.assert_allclose(out, sm, rtol=1e-12)
    oh = np.moveaxis(_onehot(lab, 3), -1, 1)
    np.testing.assert_allclose(g, (sm - oh) / 4 / 2, rtol=1e-12)  # / spatial / batch
    # label of shape (2, 1, 4) is accepted too; null normalization still divides by spatial
    _, g2 = _grad_of("SoftmaxOutput", [x, lab.reshape(2, 1, 4)], {"multi_output": True})
    np.testing.assert_allclose(g2, (sm - oh) / 4, rtol=1e-12)
    # smoothing: target 1 - alpha at the label, alpha / (k - 1) elsewhere
    x2 = rng.standard_normal((3, 4))
    lab2 = np.array([1, 0, 3], dtype=np.float64)
    _, g3 = _grad_of("SoftmaxOutput", [x2, lab2], {"smooth_alpha": 0.3})
    target = _onehot(lab2, 4) * (1 - 0.3) + (1 - _onehot(lab2, 4)) * 0.1
    np.testing.assert_allclose(g3, softmax_ref({}, x2) - target, rtol=1e-12)
    # probabilities as labels; out_grad multiplies by the head gradient
    p = softmax_ref({}, rng.standard_normal((3, 4)))
    head = rng.standard_normal((3, 4))
    _, g4 = _grad_of("SoftmaxOutput", [x2, p], {"out_grad": True}, head=head)
    np.testing.assert_allclose(g4, (softmax_ref({}, x2) - p) * head, rtol=1e-12)


def test_softmax_output_alias_and_label_errors():
    x = mx.nd.zeros((2, 3))
    assert invoke("Softmax", [x, mx.nd.zeros((2,))]).shape == (2, 3)
    with pytest.raises(ValueError) as e:
        invoke("SoftmaxOutput", [x, mx.nd.zeros((3,))])
    assert "label" in str(e.value)


@pytest.mark.parametrize("op", ["LinearRegressionOutput", "LogisticRegressionOutput",
                                "MAERegressionOutput"])
def test_regression_outputs(op):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 3))
    lab = rng.standard_normal((4, 3))
    out, g = _grad_of(op, [x, lab], {"grad_scale": 2.0}, head=rng.standard_normal((4, 3)))
    y = 1 / (1 + np.exp(-x)) if op.startswith("Logistic") else x
    np.testing.assert_allclose(out, y, rtol=1e-12)
    d = np.sign(y - lab) if op.startswith("MAE") else y - lab
    np.testing.assert_allclose(g, d * 2.0 / 3, rtol=1e-12)
    # (N, 1) data with (N,) labels
    out, g = _grad_of(op, [x[:, :1], lab[:, 0]], {})
    assert out.shape == (4, 1)


@pytest.mark.parametrize("norm,expect", [("null", 1.5), ("batch", 1.5 / 4),
                                         ("valid", 1.5 / 3)])
def test_make_loss(norm, expect):
    x = np.array([[1.0, -1.0], [2.0, 0.0], [0.5, -3.0], [-1.0, -2.0]])
    out, g = _grad_of("MakeLoss", [x], {"grad_scale": 1.5, "normalization": norm},
                      head=np.full((4, 2), 7.0))
    np.testing.assert_allclose(out, x)
    np.testing.assert_allclose(g, np.full((4, 2), expect))


def test_make_loss_lowercase_and_blockgrad():
    x = np.arange(6.0).reshape(2, 3)
    out, g = _grad_of("make_loss", [x], {}, head=np.full((2, 3), 5.0))
    np.testing.assert_allclose(g, np.ones((2, 3)))
    a = nd(x)
    a.attach_grad()
    with mx.autograd.record():
        y = invoke("BlockGrad", [a]) * 2 + invoke("stop_gradient", [a])
    y.backward()
    np.testing.assert_allclose(a.grad.asnumpy(), np.zeros((2, 3)))


# ---- BatchNorm statistics -------------------------------------------------------------------------
def test_batchnorm_moving_statistics():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((8, 3, 2, 2)) * 2 + 1
    gamma, beta = np.ones(3), np.zeros(3)
    mm, mv = mx.nd.array(np.zeros(3), dtype="float64"), mx.nd.array(np.ones(3), dtype="float64")
    args = [nd(x), nd(gamma), nd(beta), mm, mv]
    mx.nd.BatchNorm(*args, momentum=0.8).wait_to_read()  # predict mode: untouched
    np.testing.assert_allclose(mm.asnumpy(), 0)
    with mx.autograd.train_mode():
        out, mean, invstd = mx.nd.BatchNorm(*args, momentum=0.8, output_mean_var=True)
    bm, bv = x.mean((0, 2, 3)), x.var((0, 2, 3))
    np.testing.assert_allclose(mean.asnumpy(), bm, rtol=1e-12)
    np.testing.assert_allclose(invstd.asnumpy(), 1 / np.sqrt(bv + 1e-3), rtol=1e-12)
    np.testing.assert_allclose(mm.asnumpy(), 0.2 * bm, rtol=1e-12)
    np.testing.assert_allclose(mv.asnumpy(), 0.8 + 0.2 * bv, rtol=1e-12)
    with mx.autograd.train_mode():  # use_global_stats: no update
        mx.nd.BatchNorm(*args, use_global_stats=True).wait_to_read()
    np.testing.assert_allclose(mm.asnumpy(), 0.2 * bm, rtol=1e-12)


def test_batchnorm_float16_keeps_float32_parameters():
    x = mx.nd.array(np.random.default_rng(0).standard_normal((2, 3, 2)), dtype="float16")
    p = [mx.nd.ones((3,)), mx.nd.zeros((3,)), mx.nd.zeros((3,)), mx.nd.ones((3,))]
    assert mx.nd.BatchNorm(x, *p).dtype == np.float16
    with pytest.raises(TypeError):
        mx.nd.BatchNorm(x, *[a.astype("float16") for a in p])


def test_batchnorm_fix_gamma_gradient_is_zero():
    rng = np.random.default_rng(2)
    vals = [rng.standard_normal((4, 2)), rng.uniform(0.5, 2, 2), rng.standard_normal(2),
            np.zeros(2), np.ones(2)]
    arrs = [nd(v) for v in vals]
    arrs[1].attach_grad()
    with mx.autograd.record():
        y = mx.nd.BatchNorm(*arrs)
    y.backward(nd(rng.standard_normal((4, 2))))
    np.testing.assert_allclose(arrs[1].grad.asnumpy(), 0)


# ---- Dropout ----------------------------------------------------------------------------------------
def test_dropout_train_predict_and_gradient():
    x = np.ones((200, 50))
    a = nd(x)
    np.testing.assert_allclose(mx.nd.Dropout(a, p=0.3).asnumpy(), x)  # predict: identity
    a.attach_grad()
    mx.random.seed(11)
    with mx.autograd.record():
        y = mx.nd.Dropout(a, p=0.3)
    yv = y.asnumpy()
    assert set(np.unique(yv).round(6)) <= {0.0, round(1 / 0.7, 6)}
    assert abs((yv == 0).mean() - 0.3) < 0.02
    head = np.random.default_rng(0).standard_normal(x.shape)
    y.backward(nd(head))
    np.testing.assert_allclose(a.grad.asnumpy(), head * yv, rtol=1e-12)
    # same seed, same mask
    mx.random.seed(11)
    with mx.autograd.train_mode():
        y2 = mx.nd.Dropout(a, p=0.3)
    np.testing.assert_array_equal(y2.asnumpy(), yv)
    # mode='always' drops in predict mode too; p=0 and p=1
    assert (mx.nd.Dropout(a, p=0.5, mode="always").asnumpy() == 0).any()
    with mx.autograd.train_mode():
        np.testing.assert_allclose(mx.nd.Dropout(a, p=0.0).asnumpy(), x)
        np.testing.assert_allclose(mx.nd.Dropout(a, p=1.0).asnumpy(), 0)


def test_dropout_axes_share_the_mask():
    a = mx.nd.ones((4, 6, 5))
    with mx.autograd.train_mode():
        y = mx.nd.Dropout(a, p=0.5, axes=(1,)).asnumpy()
    assert (y == y[:, :1, :]).all()
    assert (y == 0).any() and (y == 2).any()


def test_dropout_float16_and_empty():
    with mx.autograd.train_mode():
        y = mx.nd.Dropout(mx.nd.ones((10, 10), dtype="float16"), p=0.5)
        assert y.dtype == np.float16
        assert mx.nd.Dropout(mx.nd.ones((0, 3)), p=0.5).shape == (0, 3)


def test_leaky_rrelu_training_mask():
    a = mx.nd.array(-np.ones((50, 40)))
    with mx.autograd.train_mode():
        y = invoke("LeakyReLU", [a], act_type="rrelu", lower_bound=0.1, upper_bound=0.3).asnumpy()
    assert (y <= -0.1 + 1e-6).all() and (y >= -0.3 - 1e-6).all() and y.std() > 0.03


# ---- errors ---------------------------------------------------------------------------------------
def _err(fn):
    with pytest.raises(mx.base.MXNetError) as e:
        fn()
    return e.value


def test_shape_errors_name_the_input():
    x = mx.nd.zeros((2, 3, 5, 5))
    e = _err(lambda: mx.nd.Convolution(x, mx.nd.zeros((4, 2, 3, 3)), mx.nd.zeros((4,)),
                                       kernel=(3, 3), num_filter=4))
    assert "weight" in str(e) and "(4,3,3,3)" in str(e)
    assert getattr(e, "arg_index", 1) == 1
    e = _err(lambda: mx.nd.FullyConnected(mx.nd.zeros((2, 3)), mx.nd.zeros((4, 3)),
                                          mx.nd.zeros((5,)), num_hidden=4))
    assert "bias" in str(e)
    e = _err(lambda: mx.nd.Pooling(x, kernel=(7, 7)))
    assert "exceeds" in str(e)
    e = _err(lambda: mx.nd.BatchNorm(x, mx.nd.ones((2,)), mx.nd.zeros((3,)), mx.nd.zeros((3,)),
                                     mx.nd.ones((3,))))
    assert "gamma" in str(e)
    e = _err(lambda: mx.nd.Convolution(x, mx.nd.zeros((4, 3, 3, 3)), mx.nd.zeros((4,)),
                                       kernel=(3, 3), num_filter=4, layout="NHWC"))
    assert "NHWC" in str(e)
    e = _err(lambda: mx.nd.Activation(mx.nd.zeros((2,), dtype="int32"), act_type="relu"))
    assert "int32" in str(e)


# ---- empty batches: forward and backward run and give empty (or zero) results ----------------------
EMPTY = [
    ("BatchNorm", [(0, 3, 2, 2), (3,), (3,), (3,), (3,)], {"fix_gamma": False}, [0, 1, 2]),
    ("LayerNorm", [(0, 4), (4,), (4,)], {}, [0, 1, 2]),
    ("InstanceNorm", [(0, 2, 3), (2,), (2,)], {}, [0, 1, 2]),
    ("L2Normalization", [(0, 3)], {}, [0]),
    ("LRN", [(0, 3, 2, 2)], {"nsize": 3}, [0]),
    ("softmax", [(0, 3)], {}, [0]),
    ("log_softmax", [(2, 0)], {"axis": 0}, [0]),
    ("SoftmaxActivation", [(0, 3)], {}, [0]),
    ("Activation", [(0, 3)], {"act_type": "tanh"}, [0]),
    ("LeakyReLU", [(0, 3)], {"act_type": "elu"}, [0]),
    ("Pooling", [(0, 2, 4, 4)], {"kernel": (2, 2), "pool_type": "avg"}, [0]),
    ("Dropout", [(0, 3)], {"p": 0.5}, [0]),
    ("UpSampling", [(0, 2, 2, 2)], {"scale": 2, "sample_type": "nearest"}, [0]),
    ("FullyConnected", [(0, 3), (2, 3), (2,)], {"num_hidden": 2}, [0, 1, 2]),
    ("Convolution", [(0, 2, 3, 3), (2, 2, 3, 3)], {"kernel": (3, 3), "num_filter": 2,
                                                   "no_bias": True}, [0, 1]),
    ("Deconvolution", [(0, 2, 3, 3), (2, 2, 3, 3)], {"kernel": (3, 3), "num_filter": 2}, [0, 1]),
]


@pytest.mark.parametrize("op,shapes,params,diff", EMPTY, ids=[e[0] for e in EMPTY])
def test_empty_batch(op, shapes, params, diff):
    rng = np.random.default_rng(0)
    arrs = [nd(rng.uniform(0.5, 1.5, s)) for s in shapes]
    for i in diff:
        arrs[i].attach_grad()
    with mx.autograd.record():
        out = invoke(op, arrs, **params)
    out = out[0] if isinstance(out, (list, tuple)) else out
    assert out.size == 0
    out.backward(nd(np.zeros(out.shape)))
    for i in diff:
        g = arrs[i].grad.asnumpy()
        assert g.shape == shapes[i]
        np.testing.assert_array_equal(g, 0)


def test_embedding_empty_indices():
    w = nd(np.ones((4, 3)))
    w.attach_grad()
    with mx.autograd.record():
        y = invoke("Embedding", [nd(np.zeros((0, 2))), w], input_dim=4, output_dim=3,
                   dtype="float64")
    assert y.shape == (0, 2, 3)
    y.backward(nd(np.zeros((0, 2, 3))))
    np.testing.assert_array_equal(w.grad.asnumpy(), 0)


@pytest.mark.parametrize("beta", [0.75, 0.6])
def test_lrn_gradient_of_a_large_input(beta):
    """The backward kernel on enough planes to run in parallel, against the analytic VJP."""
    rng = np.random.RandomState(7)
    p = {"nsize": 5, "alpha": 0.02, "beta": beta, "knorm": 1.0}
    x = rng.uniform(-2, 2, (2, 16, 32, 32)).astype(np.float32)
    dy = rng.uniform(-1, 1, x.shape).astype(np.float32)
    xa = mx.nd.array(x)
    xa.attach_grad()
    with mx.autograd.record():
        y = mx.nd.LRN(xa, **p)
    y.backward(mx.nd.array(dy))
    np.testing.assert_allclose(xa.grad.asnumpy(), lrn_vjp_ref(p, x, dy), rtol=1e-4, atol=1e-5)


def _max_pool_grad_ref(x, dy, kernel, stride, pad, full):
    """Each output's gradient to the first maximum of its window (row-major), as MXNet."""
    N, C, H, W = x.shape
    OH, OW = dy.shape[2:]
    dx = np.zeros_like(x, dtype=np.float64)
    for n in range(N):
        for c in range(C):
            for oh in range(OH):
                for ow in range(OW):
                    hb, wb = oh * stride[0] - pad[0], ow * stride[1] - pad[1]
                    cells = [(h, w) for h in range(max(hb, 0), min(hb + kernel[0], H))
                             for w in range(max(wb, 0), min(wb + kernel[1], W))]
                    if not cells:
                        continue
                    best = max(x[n, c, h, w] for h, w in cells)
                    h, w = next(hw for hw in cells if x[n, c, hw[0], hw[1]] == best)
                    dx[n, c, h, w] += dy[n, c, oh, ow]
    return dx


@pytest.mark.parametrize("kernel,stride,pad,full", [
    ((3, 3), (1, 1), (1, 1), False), ((3, 3), (2, 2), (0, 0), True), ((2, 3), (1, 2), (1, 1), False),
    ((3, 3), (2, 2), (1, 1), True), ((2, 2), (2, 2), (0, 0), False)])
def test_max_pooling_gradient_goes_to_the_first_maximum(kernel, stride, pad, full):
    """Inputs with many ties (small integers, and -FLT_MAX next to the padding): the gradient of
    each output goes to the first maximum of its window only."""
    rng = np.random.RandomState(3)
    x = rng.randint(-2, 3, (2, 3, 9, 8)).astype(np.float32)
    x[0, 0, 0, :3] = np.finfo(np.float32).min
    x[1, 2, :, :] = np.finfo(np.float32).min  # a plane of lowest(): the padding holds it too
    xa = mx.nd.array(x)
    xa.attach_grad()
    params = dict(kernel=kernel, stride=stride, pad=pad, pool_type="max",
                  pooling_convention="full" if full else "valid")
    with mx.autograd.record():
        y = mx.nd.Pooling(xa, **params)
    dy = rng.uniform(0.5, 1.5, y.shape).astype(np.float32)
    y.backward(mx.nd.array(dy))
    np.testing.assert_allclose(xa.grad.asnumpy(), _max_pool_grad_ref(x, dy, kernel, stride, pad, full),
                               rtol=1e-6, atol=1e-6)
