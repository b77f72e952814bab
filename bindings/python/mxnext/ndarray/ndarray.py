"""mx.nd.NDArray: MXNet's imperative array on the mxnext core.

Operations return at once (the engine runs them); reading values (asnumpy, asscalar,
np.asarray) waits. Arithmetic operators call the registry's broadcast_* and *_scalar
operators directly from the compiled core."""
import numpy as np

from .. import _core
from ..base import dtype_code, dtype_from_code
from ..context import Context, current_context

__all__ = ["NDArray", "array", "empty", "zeros", "ones", "full", "arange", "waitall",
           "from_dlpack", "to_dlpack_for_read", "concatenate"]

_ops = None  # the generated operator module, bound by mxnext.ndarray


class NDArray(_core.NDArrayBase):
    """An n-dimensional array on a device, with MXNet 1.x semantics."""

    # NumPy defers to our reflected operators (np_array + nd -> nd.__radd__).
    __array_priority__ = 1000.0
    __array_ufunc__ = None

    # ---- metadata --------------------------------------------------------------------------
    @property
    def dtype(self):
        """The element type as a NumPy dtype."""
        return dtype_from_code(self._dtype_code)

    @property
    def context(self):
        t, i = self._device
        return Context(Context.devtype2str[t], i)

    ctx = context

    @property
    def T(self):
        """The transpose (axes reversed)."""
        return _ops.transpose(self)

    def __len__(self):
        shape = self.shape
        if not shape:
            raise TypeError("len() of a 0-d array")
        return shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self):
        shape = "x".join(str(d) for d in self.shape)
        return f"\n{self.asnumpy()}\n<{type(self).__name__} {shape} @{self.context}>"

    def __str__(self):
        return str(self.asnumpy())

    def __bool__(self):
        n = self.size
        if n == 0:
            return False
        if n == 1:
            return bool(self.asscalar())
        raise ValueError("the truth value of an NDArray with more than one element is ambiguous")

    def __float__(self):
        return float(self.asscalar())

    def __int__(self):
        return int(self.asscalar())

    def __index__(self):
        if self.dtype.kind not in "iub":
            raise TypeError("only integer arrays can be used as an index")
        return int(self.asscalar())

    def __abs__(self):
        return _ops.abs(self)

    def __pos__(self):
        return self

    # ---- reading values --------------------------------------------------------------------
    def asnumpy(self):
        """A NumPy copy of the values (waits for pending writes)."""
        out = np.empty(self.shape, dtype=self.dtype)
        _core.copy_to_buffer(self, out)
        return out

    def asscalar(self):
        """The single value of a size-1 array, as a NumPy scalar."""
        if self.size != 1:
            raise ValueError(f"asscalar needs an array of size 1, got shape {self.shape}")
        return self.asnumpy().reshape(-1)[0]

    def item(self):
        return self.asscalar().item()

    def tolist(self):
        return self.asnumpy().tolist()

    def __array__(self, dtype=None, copy=None):
        """NumPy 2 protocol: zero-copy view unless a dtype change or copy=True asks otherwise."""
        arr = np.from_dlpack(self)
        if dtype is not None and np.dtype(dtype) != arr.dtype:
            if copy is False:
                raise ValueError(f"converting {arr.dtype} to {np.dtype(dtype)} needs a copy")
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """Export for np.from_dlpack, torch.from_dlpack, ... (shares memory unless copy)."""
        if stream is not None and stream != -1:
            raise BufferError("a CPU array takes no stream")
        if dl_device is not None and tuple(dl_device) != self.__dlpack_device__():
            raise BufferError(f"cannot export to device {dl_device}: the array is on {self.context}")
        src = self.copy() if copy else self
        versioned = max_version is not None and tuple(max_version)[0] >= 1
        return _core.to_dlpack(src, versioned)

    def __dlpack_device__(self):
        t, i = self._device
        return (1, i)  # kDLCPU: this build has host memory only

    # ---- autograd ----------------------------------------------------------------------------
    def attach_grad(self, grad_req="write", stype=None):
        """Makes this array a variable: backward writes its gradient into self.grad."""
        from .. import autograd
        autograd.mark_variables([self], [zeros(self.shape, ctx=self.context, dtype=self.dtype)],
                                grad_req)

    @property
    def grad(self):
        """The gradient buffer of a variable (None if attach_grad was not called)."""
        return _core.ndarray_grad(self)

    def backward(self, out_grad=None, retain_graph=False, train_mode=True):
        """Differentiates this (recorded) array into the variables it depends on."""
        from .. import autograd
        autograd.backward([self], None if out_grad is None else [out_grad], retain_graph,
                          train_mode)

    def detach(self):
        """The same values, not tracked by autograd."""
        return _core.ndarray_detach(self)

    # ---- conversion and copies --------------------------------------------------------------
    def astype(self, dtype, copy=True):
        """This array in another dtype (a new array unless copy=False and nothing changes)."""
        if not copy and np.dtype(dtype) == self.dtype:
            return self
        return _ops.cast(self, dtype=dtype)

    def copyto(self, other):
        """Copies into `other` (an NDArray: converts dtype; a Context: a new array there)."""
        if isinstance(other, NDArray):
            if other.handle_address == self.handle_address:
                return other
            _core.copy_to(self, other)
            return other
        if isinstance(other, Context):
            out = empty(self.shape, ctx=other, dtype=self.dtype)
            _core.copy_to(self, out)
            return out
        raise TypeError(f"copyto does not take {type(other).__name__}")

    def copy(self):
        return self.copyto(self.context)

    def as_in_context(self, context):
        return self if self.context == context else self.copyto(context)

    as_in_ctx = as_in_context

    # ---- views ------------------------------------------------------------------------------
    def reshape(self, *shape, **kwargs):
        """A view with a new shape; MXNet's codes 0, -1, -2, -3, -4 and reverse= work."""
        if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
            shape = tuple(shape[0])
        if "shape" in kwargs:
            shape = tuple(kwargs.pop("shape"))
        reverse = bool(kwargs.pop("reverse", False))
        if kwargs:
            raise TypeError(f"reshape got unexpected arguments {sorted(kwargs)}")
        if _core.autograd_is_recording():
            # A view is not an operation autograd could differentiate through.
            return _ops.reshape(self, shape=shape, reverse=reverse)
        return _core.reshape_view(self, shape, reverse)

    def reshape_like(self, other):
        return self.reshape(other.shape)

    def _axis0_view(self, key):
        """A view for an int or a step-1 slice on the first axis, else None (also while
        autograd records: then indexing goes through differentiable operators)."""
        if _core.autograd_is_recording():
            return None
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            return _core.at_view(self, int(key))
        if isinstance(key, slice) and key.step in (None, 1):
            shape = self.shape
            if not shape:
                raise IndexError("cannot slice a 0-d array")
            start, stop, _ = key.indices(shape[0])
            return _core.slice_view(self, start, max(start, stop))
        return None

    def __getitem__(self, key):
        """Basic indexing: ints and slices. On the first axis the result shares memory
        (MXNet's semantics); other axes and steps give a copy."""
        view = self._axis0_view(key)
        if view is not None:
            return view
        if isinstance(key, NDArray) or isinstance(key, (list, np.ndarray)):
            raise IndexError("advanced (array) indexing is not supported yet; use take/pick")
        if not isinstance(key, tuple):
            key = (key,)
        return self._basic_index(key)

    def _expand_key(self, key):
        ndim = self.ndim
        if any(k is Ellipsis for k in key):
            i = next(j for j, k in enumerate(key) if k is Ellipsis)
            fill = ndim - (len(key) - 1)
            key = key[:i] + (slice(None),) * fill + key[i + 1:]
        if len(key) > ndim:
            raise IndexError(f"too many indices ({len(key)}) for an array of {ndim} dimensions")
        for k in key:
            if k is None or k is Ellipsis:
                raise IndexError("np.newaxis and nested ... are not supported in indexing")
            if not isinstance(k, (int, np.integer, slice)) or isinstance(k, bool):
                raise IndexError(f"only integers and slices are valid indices, got {k!r}")
        return key + (slice(None),) * (ndim - len(key))

    def _basic_index(self, key):
        key = self._expand_key(key)
        shape = self.shape
        begin, end, step, drop = [], [], [], []
        for axis, k in enumerate(key):
            if isinstance(k, slice):
                b, e, s = k.indices(shape[axis])
                begin.append(b)
                end.append(e if (e >= 0 or s > 0) else None)
                step.append(s)
            else:
                i = int(k)
                if i < -shape[axis] or i >= shape[axis]:
                    raise IndexError(f"index {i} is out of bounds for axis {axis} "
                                     f"with size {shape[axis]}")
                i %= shape[axis]
                begin.append(i)
                end.append(i + 1)
                step.append(1)
                drop.append(axis)
        out = _ops.slice(self, begin=tuple(begin), end=tuple(end), step=tuple(step))
        if drop:
            out = out.reshape(tuple(d for a, d in enumerate(out.shape) if a not in drop))
        return out

    def __setitem__(self, key, value):
        """Writes through a view for the whole array, an int or a step-1 slice on the first
        axis; other keys go through a host round trip."""
        if isinstance(key, slice) and key == slice(None):
            target = self
        else:
            target = self._axis0_view(key)
        if target is None:
            host = self.asnumpy()
            host[key] = value.asnumpy() if isinstance(value, NDArray) else value
            _core.copy_from_buffer(self, np.asarray(host, order="C"))
            return
        if isinstance(value, (int, float, bool, np.generic)):
            _ops._full(shape=target.shape, value=float(value), dtype=target.dtype,
                       ctx=target.context, out=target)
        elif isinstance(value, NDArray) and value.shape == target.shape:
            _core.copy_to(value, target)
        else:
            src = value.asnumpy() if isinstance(value, NDArray) else value
            host = np.array(np.broadcast_to(np.asarray(src, dtype=target.dtype),
                                             target.shape), order="C")
            _core.copy_from_buffer(target, host)


_core._set_ndarray_class(NDArray)


def _as_ndarray(value, like):
    """Operand conversion for arithmetic with array-likes: same dtype and device as `like`."""
    return array(value, ctx=like.context, dtype=like.dtype)


_core._set_converter(_as_ndarray)


def _shape_tuple(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(d) for d in shape)


def empty(shape, ctx=None, dtype="float32"):
    """An array with unspecified contents."""
    ctx = current_context() if ctx is None else Context(ctx)
    return _core.empty(_shape_tuple(shape), dtype_code(dtype), ctx.device_typeid, ctx.device_id)


def array(source_array, ctx=None, dtype=None):
    """A new array holding a copy of `source_array` (NDArray, NumPy array, nested lists).

    As in MXNet, dtype defaults to the source's dtype for an NDArray and to float32 otherwise."""
    ctx = current_context() if ctx is None else Context(ctx)
    if isinstance(source_array, NDArray):
        dtype = source_array.dtype if dtype is None else dtype
        out = empty(source_array.shape, ctx=ctx, dtype=dtype)
        _core.copy_to(source_array, out)
        return out
    dtype = np.float32 if dtype is None else dtype
    try:
        host = np.asarray(source_array, dtype=dtype, order="C")
    except (TypeError, ValueError) as e:
        raise TypeError(f"source_array must be array-like: {e}") from None
    return _core.from_buffer(host, dtype_code(host.dtype), ctx.device_typeid, ctx.device_id)


def zeros(shape, ctx=None, dtype="float32", **kwargs):
    ctx = current_context() if ctx is None else ctx
    return _ops._zeros(shape=_shape_tuple(shape), ctx=ctx, dtype=dtype, **kwargs)


def ones(shape, ctx=None, dtype="float32", **kwargs):
    ctx = current_context() if ctx is None else ctx
    return _ops._ones(shape=_shape_tuple(shape), ctx=ctx, dtype=dtype, **kwargs)


def full(shape, val, ctx=None, dtype="float32", out=None):
    ctx = current_context() if ctx is None else ctx
    return _ops._full(shape=_shape_tuple(shape), value=float(val), ctx=ctx, dtype=dtype, out=out)


def arange(start, stop=None, step=1.0, repeat=1, infer_range=False, ctx=None, dtype="float32"):
    ctx = current_context() if ctx is None else ctx
    return _ops._arange(start=start, stop=stop, step=step, repeat=repeat,
                        infer_range=infer_range, ctx=ctx, dtype=dtype)


def concatenate(arrays, axis=0, always_copy=True):
    return _ops.concat(*arrays, dim=axis)


def waitall():
    """Waits for all pending work; raises the first failure not yet reported."""
    _core.wait_all()


def from_dlpack(obj):
    """An NDArray sharing memory with a DLPack producer (NumPy, PyTorch, ...) or capsule.

    Compact row-major tensors are shared; strided or read-only ones are copied."""
    if hasattr(obj, "__dlpack__"):
        try:
            capsule = obj.__dlpack__(max_version=(1, 1))
        except TypeError:
            capsule = obj.__dlpack__()
    else:
        capsule = obj
    return _core.from_dlpack_capsule(capsule)


def to_dlpack_for_read(data):
    """A DLPack capsule of `data` (waits for pending writes first)."""
    return _core.to_dlpack(data, True)


to_dlpack_for_write = to_dlpack_for_read
