"""Independent NumPy references of operators, shared by the op test harnesses
(test_ops_forward.py keeps the references of the families it introduced; new ones live here).
Each reference takes NumPy inputs (float inputs as float64) and returns what MXNet 1.x's
operator returns, quirks included (full reductions have shape (1,), ...)."""
import math

import numpy as np


def f64(x):
    return x.astype(np.float64) if x.dtype.kind == "f" else x


# ---- tensor manipulation ----------------------------------------------------------------------
def squeeze(axis=None):
    def ref(x):
        r = np.squeeze(x, axis=axis)
        return r.reshape(1) if r.ndim == 0 and x.ndim > 0 else r
    return ref


def swapaxes(dim1=0, dim2=0):
    return lambda x: np.swapaxes(x, dim1, dim2)


def flip(axis):
    return lambda x: np.flip(x, axis=axis)


def stack(axis=0):
    return lambda *xs: np.stack(xs, axis=axis)


def split(num_outputs, axis=1, squeeze_axis=False):
    def ref(x):
        parts = np.split(x, num_outputs, axis=axis)
        if squeeze_axis:
            parts = [np.squeeze(p, axis=axis) for p in parts]
        return parts
    return ref


def slice_like(axes=()):
    def ref(x, like):
        idx = [slice(None)] * x.ndim
        for a in (axes or range(x.ndim)):
            idx[a] = slice(0, like.shape[a])
        return x[tuple(idx)]
    return ref


def reshape_like(x, like):
    return x.reshape(like.shape)


def broadcast_to(shape):
    return lambda x: np.broadcast_to(x, tuple(s if s else d for s, d in zip(shape, x.shape)))


def broadcast_like(x, like):
    return np.broadcast_to(x, like.shape)


def broadcast_axis(axis, size):
    def ref(x):
        shape = list(x.shape)
        for a, s in zip(axis, size):
            shape[a] = s
        return np.broadcast_to(x, shape)
    return ref


def tile(reps):
    return lambda x: np.tile(x, reps)


def repeat(repeats, axis=None):
    return lambda x: np.repeat(x, repeats, axis=axis)


def pad(mode, pad_width, constant_value=0.0):
    pw = [(pad_width[2 * i], pad_width[2 * i + 1]) for i in range(len(pad_width) // 2)]
    if mode == "constant":
        return lambda x: np.pad(x, pw, mode="constant", constant_values=constant_value)
    return lambda x: np.pad(x, pw, mode=mode)


def shape_array(x):
    return np.array(x.shape, dtype=np.int64)


def size_array(x):
    return np.array([x.size], dtype=np.int64)


# ---- indexing ---------------------------------------------------------------------------------
def _resolve(idx, n, mode):
    idx = np.trunc(idx).astype(np.int64)
    if mode == "wrap":
        return np.mod(idx, n)
    return np.clip(idx, 0, n - 1)


def take(axis=0, mode="clip"):
    def ref(a, idx):
        return np.take(a, _resolve(idx, a.shape[axis], mode), axis=axis)
    return ref


def pick(axis=-1, keepdims=False, mode="clip"):
    def ref(x, idx):
        ax = axis % x.ndim
        i = _resolve(idx, x.shape[ax], mode)
        i = np.expand_dims(i.reshape([s for d, s in enumerate(x.shape) if d != ax]), ax)
        r = np.take_along_axis(x, i, axis=ax)
        return r if keepdims else np.squeeze(r, axis=ax)
    return ref


def gather_nd(x, idx):
    idx = np.trunc(idx).astype(np.int64)
    return x[tuple(idx[i] for i in range(idx.shape[0]))]


def one_hot(depth, on_value=1.0, off_value=0.0):
    def ref(idx):
        i = np.trunc(idx).astype(np.int64)
        r = np.full(i.shape + (depth,), off_value)
        hit = (i[..., None] == np.arange(depth))
        r[hit] = on_value
        return r
    return ref


def where(cond, x, y):
    c = cond != 0
    if c.shape != x.shape:
        c = c.reshape((-1,) + (1,) * (x.ndim - 1))
    return np.where(c, x, y)


def clip(a_min, a_max):
    return lambda x: np.clip(x, a_min, a_max)


def arg(fn, axis=None, keepdims=False):
    def ref(x):
        if axis is None:
            r = np.array([fn(x.reshape(-1))])
            return r.reshape((1,) * x.ndim) if keepdims and x.ndim else r
        r = fn(x, axis=axis)
        if keepdims:
            r = np.expand_dims(r, axis)
        return r.reshape(1) if r.ndim == 0 else r
    return ref


# ---- sorting ----------------------------------------------------------------------------------
def _stable_order(x, axis, ascend):
    # Stable in both directions (equal values keep index order): sort the negated values.
    return np.argsort(x if ascend else -x, axis=axis, kind="stable")


def topk(axis=-1, k=1, ret_typ="indices", is_ascend=False):
    def ref(x):
        xx, ax = (x.reshape(-1), 0) if axis is None else (x, axis)
        n = xx.shape[ax]
        kk = n if k < 1 else k
        order = np.take(_stable_order(xx, ax, is_ascend), np.arange(kk), axis=ax)
        vals = np.take_along_axis(xx, order, axis=ax)
        if ret_typ == "value":
            return vals
        if ret_typ == "indices":
            return order.astype(np.float64)
        if ret_typ == "both":
            return [vals, order.astype(np.float64)]
        mask = np.zeros_like(xx)
        np.put_along_axis(mask, order, 1, axis=ax)
        return mask.reshape(x.shape)
    return ref


def sort(axis=-1, is_ascend=True):
    return lambda x: np.take_along_axis(x, _stable_order(x, axis, is_ascend), axis=axis)


def argsort(axis=-1, is_ascend=True):
    return lambda x: _stable_order(x, axis, is_ascend).astype(np.float64)


# ---- math -------------------------------------------------------------------------------------
gamma = np.vectorize(math.gamma, otypes=[np.float64])
gammaln = np.vectorize(math.lgamma, otypes=[np.float64])


def add_n(*xs):
    return sum(f64(x) for x in xs)


def norm(ord=2, axis=None, keepdims=False):
    def ref(x):
        ax = tuple(range(x.ndim)) if axis is None else axis
        r = (np.sum(np.abs(x), axis=ax, keepdims=keepdims) if ord == 1
             else np.sqrt(np.sum(x * x, axis=ax, keepdims=keepdims)))
        return np.asarray(r).reshape(1) if np.ndim(r) == 0 else r
    return ref


def smooth_l1(scalar=1.0):
    s2 = scalar * scalar
    return lambda x: np.where(np.abs(x) < 1 / s2, 0.5 * s2 * x * x, np.abs(x) - 0.5 / s2)


def linalg_gemm2(transpose_a=False, transpose_b=False, alpha=1.0):
    def ref(a, b):
        a = np.swapaxes(a, -1, -2) if transpose_a else a
        b = np.swapaxes(b, -1, -2) if transpose_b else b
        return alpha * np.matmul(a, b)
    return ref


# ---- optimizer updates (MXNet's optimizer_op-inl.h, written from its formulas) ------------------
def _clip(g, c):
    return np.clip(g, -c, c) if c >= 0 else g


def sgd_update(w, g, lr, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0):
    return {"weight": (1 - lr * wd) * w - lr * _clip(rescale_grad * g, clip_gradient)}


def sgd_mom_update(w, g, mom, lr, momentum=0.0, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0):
    mom = momentum * mom - lr * wd * w - lr * _clip(rescale_grad * g, clip_gradient)
    return {"weight": w + mom, "mom": mom}


def nag_mom_update(w, g, mom, lr, momentum=0.0, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0):
    gg = _clip(rescale_grad * g, clip_gradient) + wd * w
    m1 = momentum * mom
    return {"weight": w - m1 + (momentum + 1) * (m1 - lr * gg), "mom": m1 - lr * gg}


def adam_update(w, g, mean, var, lr, beta1=0.9, beta2=0.999, epsilon=1e-8, wd=0.0,
                rescale_grad=1.0, clip_gradient=-1.0):
    gg = _clip(rescale_grad * g + wd * w, clip_gradient)
    mean = beta1 * mean + (1 - beta1) * gg
    var = beta2 * var + (1 - beta2) * gg * gg
    return {"weight": w - lr * mean / (np.sqrt(var) + epsilon), "mean": mean, "var": var}


def rmsprop_update(w, g, n, lr, gamma1=0.95, epsilon=1e-8, wd=0.0, rescale_grad=1.0,
                   clip_gradient=-1.0, clip_weights=-1.0):
    gg = _clip(rescale_grad * g + wd * w, clip_gradient)
    n = (1 - gamma1) * gg * gg + gamma1 * n
    return {"weight": _clip(w - lr * gg / np.sqrt(n + epsilon), clip_weights), "n": n}


def rmspropalex_update(w, g, n, gavg, delta, lr, gamma1=0.95, gamma2=0.9, epsilon=1e-8, wd=0.0,
                       rescale_grad=1.0, clip_gradient=-1.0, clip_weights=-1.0):
    gg = _clip(rescale_grad * g + wd * w, clip_gradient)
    n = (1 - gamma1) * gg * gg + gamma1 * n
    gavg = (1 - gamma1) * gg + gamma1 * gavg
    delta = gamma2 * delta - lr * gg / np.sqrt(n - gavg * gavg + epsilon)
    return {"weight": _clip(w + delta, clip_weights), "n": n, "g": gavg, "delta": delta}


def adagrad_update(w, g, history, lr, epsilon=1e-7, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0):
    gg = _clip(rescale_grad * g, clip_gradient)
    history = history + gg * gg
    return {"weight": w - lr * (gg / np.sqrt(history + epsilon) + wd * w), "history": history}


def ftrl_update(w, g, z, n, lr, lamda1=0.01, beta=1.0, wd=0.0, rescale_grad=1.0,
                clip_gradient=-1.0):
    gg = _clip(rescale_grad * g, clip_gradient)
    z = z + gg - (np.sqrt(n + gg * gg) - np.sqrt(n)) * w / lr
    n = n + gg * gg
    w = np.where(np.abs(z) > lamda1, (np.sign(z) * lamda1 - z) / ((beta + np.sqrt(n)) / lr + wd), 0)
    return {"weight": w, "z": z, "n": n}


def signsgd_update(w, g, lr, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0):
    return {"weight": (1 - lr * wd) * w - lr * np.sign(g)}


def signum_update(w, g, mom, lr, momentum=0.0, wd=0.0, rescale_grad=1.0, clip_gradient=-1.0,
                  wd_lh=0.0):
    mom = momentum * mom - (1 - momentum) * wd * w - (1 - momentum) * _clip(rescale_grad * g,
                                                                             clip_gradient)
    return {"weight": (1 - lr * wd_lh) * w + lr * np.sign(mom), "mom": mom}


def mp_sgd_update(w, g, w32, **kw):
    r = sgd_update(w32, g.astype(np.float64), **kw)
    return {"weight": r["weight"], "weight32": r["weight"]}


def mp_sgd_mom_update(w, g, mom, w32, **kw):
    r = sgd_mom_update(w32, g.astype(np.float64), mom, **kw)
    return {"weight": r["weight"], "mom": r["mom"], "weight32": r["weight"]}


def mp_nag_mom_update(w, g, mom, w32, **kw):
    r = nag_mom_update(w32, g.astype(np.float64), mom, **kw)
    return {"weight": r["weight"], "mom": r["mom"], "weight32": r["weight"]}
