# cython: language_level=3, boundscheck=False, wraparound=False, embedsignature=True
# distutils: language = c++
"""The binding's only compiled part: handles, errors, typed values and operator calls over the
C ABI. Everything a user sees is built on it in plain Python (ndarray.py, generated _ops.py).
It is Cython rather than cffi because every operator call passes through here: one Python ->
C transition per call, no per-call allocation in Python (DESIGN §11)."""

from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_C_CONTIGUOUS, PyBUF_FORMAT
from cpython.pycapsule cimport (PyCapsule_New, PyCapsule_GetPointer, PyCapsule_IsValid,
                                PyCapsule_SetName, PyCapsule_GetName)
from libc.stdint cimport int32_t, int64_t, uint64_t, INT64_MIN
from libc.stdlib cimport malloc, free
from libc.string cimport strcmp

from mxnext._c_api cimport *

# ---- errors -------------------------------------------------------------------------------

_error_classes = {}  # code -> exception class, filled by mxnext.base


def _register_errors(mapping):
    _error_classes.update(mapping)


cdef int _raise(int rc) except -1:
    """Raise the Python exception for the last C error on this thread."""
    cdef mxn_error_info info
    info.struct_size = sizeof(mxn_error_info)
    mxn_last_error(&info)
    cls = _error_classes.get(info.code, _error_classes.get(-1, RuntimeError))
    msg = info.message.decode('utf-8', 'replace') if info.message != NULL else ''
    exc = cls(msg)
    try:
        exc.code = info.code
        exc.kind = info.kind.decode() if info.kind != NULL else ''
        exc.op_name = info.op_name.decode() if info.op_name != NULL else ''
        exc.arg_index = None if info.arg_index == MXN_NO_FIELD else info.arg_index
        exc.axis = None if info.axis == MXN_NO_FIELD else info.axis
    except AttributeError:
        pass
    raise exc


cdef inline int check(int rc) except -1:
    if rc != 0:
        _raise(rc)
    return 0


def abi_version():
    return mxn_abi_version()


def version_string():
    return mxn_version_string().decode()


def compiled_abi_version():
    return MXN_ABI_VERSION


# ---- operators ----------------------------------------------------------------------------

def op_handle(name):
    """Address of the operator named `name` (valid for the life of the process)."""
    cdef const mxn_op* op = NULL
    cdef bytes b = name.encode() if isinstance(name, str) else name
    check(mxn_op_find(b, &op))
    return <size_t>op


def schema_json():
    return mxn_op_schema_json().decode('utf-8')


cdef const mxn_op* _find(const char* name) except NULL:
    cdef const mxn_op* op = NULL
    check(mxn_op_find(name, &op))
    return op


# ---- NDArray handles ----------------------------------------------------------------------

cdef object _ndarray_cls = None


def _set_ndarray_class(cls):
    global _ndarray_cls
    _ndarray_cls = cls


cdef class NDArrayBase:
    """Owns one mxn_ndarray handle. mxnext.ndarray.NDArray derives from it."""
    cdef mxn_ndarray* handle
    cdef object __weakref__

    def __dealloc__(self):
        if self.handle != NULL:
            mxn_ndarray_free(self.handle)
            self.handle = NULL

    @property
    def handle_address(self):
        return <size_t>self.handle

    @property
    def shape(self):
        cdef int32_t nd = 0
        cdef const int64_t* dims = NULL
        check(mxn_ndarray_shape(self.handle, &nd, &dims))
        return tuple([dims[i] for i in range(nd)])

    @property
    def ndim(self):
        cdef int32_t nd = 0
        cdef const int64_t* dims = NULL
        check(mxn_ndarray_shape(self.handle, &nd, &dims))
        return nd

    @property
    def size(self):
        cdef int64_t n = 0
        check(mxn_ndarray_size(self.handle, &n))
        return n

    @property
    def _dtype_code(self):
        cdef int32_t t = 0
        check(mxn_ndarray_dtype(self.handle, &t))
        return t

    @property
    def _device(self):
        cdef int32_t dt = 0, di = 0
        check(mxn_ndarray_device(self.handle, &dt, &di))
        return (dt, di)

    def wait_to_read(self):
        """Block until pending writes to this array finished; raises their error, if any."""
        cdef int rc
        with nogil:
            rc = mxn_ndarray_wait_to_read(self.handle)
        check(rc)

    def wait_to_write(self):
        cdef int rc
        with nogil:
            rc = mxn_ndarray_wait_to_write(self.handle)
        check(rc)

    # Arithmetic goes straight to the registry's operators: one C call per expression.
    def __add__(self, other):
        return _binary(self, other, OP_ADD, OP_PLUS_SCALAR)

    def __radd__(self, other):
        return _binary(self, other, OP_ADD, OP_PLUS_SCALAR)

    def __sub__(self, other):
        return _binary(self, other, OP_SUB, OP_MINUS_SCALAR)

    def __rsub__(self, other):
        return _rbinary(self, other, OP_SUB, OP_RMINUS_SCALAR)

    def __mul__(self, other):
        return _binary(self, other, OP_MUL, OP_MUL_SCALAR)

    def __rmul__(self, other):
        return _binary(self, other, OP_MUL, OP_MUL_SCALAR)

    def __truediv__(self, other):
        return _binary(self, other, OP_DIV, OP_DIV_SCALAR)

    def __rtruediv__(self, other):
        return _rbinary(self, other, OP_DIV, OP_RDIV_SCALAR)

    def __mod__(self, other):
        return _binary(self, other, OP_MOD, OP_MOD_SCALAR)

    def __rmod__(self, other):
        return _rbinary(self, other, OP_MOD, OP_RMOD_SCALAR)

    def __pow__(self, other, modulo):
        return _binary(self, other, OP_POW, OP_POW_SCALAR)

    def __rpow__(self, other, modulo):
        return _rbinary(self, other, OP_POW, OP_RPOW_SCALAR)

    def __eq__(self, other):
        return _binary(self, other, OP_EQ, OP_EQ_SCALAR)

    def __ne__(self, other):
        return _binary(self, other, OP_NE, OP_NE_SCALAR)

    def __gt__(self, other):
        return _binary(self, other, OP_GT, OP_GT_SCALAR)

    def __ge__(self, other):
        return _binary(self, other, OP_GE, OP_GE_SCALAR)

    def __lt__(self, other):
        return _binary(self, other, OP_LT, OP_LT_SCALAR)

    def __le__(self, other):
        return _binary(self, other, OP_LE, OP_LE_SCALAR)

    def __neg__(self):
        return _invoke_scalar(OP_MUL_SCALAR, self, -1.0)

    def __iadd__(self, other):
        return _binary_into(self, other, OP_ADD, OP_PLUS_SCALAR)

    def __isub__(self, other):
        return _binary_into(self, other, OP_SUB, OP_MINUS_SCALAR)

    def __imul__(self, other):
        return _binary_into(self, other, OP_MUL, OP_MUL_SCALAR)

    def __itruediv__(self, other):
        return _binary_into(self, other, OP_DIV, OP_DIV_SCALAR)

    def __hash__(self):
        return id(self) // 16


cdef inline NDArrayBase _wrap(mxn_ndarray* h):
    cdef NDArrayBase obj = NDArrayBase.__new__(_ndarray_cls)
    obj.handle = h
    return obj


def _wrap_address(size_t address):
    """Takes ownership of a handle produced elsewhere in the binding."""
    return _wrap(<mxn_ndarray*>address)


cdef const mxn_op* OP_ADD = _find(b"broadcast_add")
cdef const mxn_op* OP_SUB = _find(b"broadcast_sub")
cdef const mxn_op* OP_MUL = _find(b"broadcast_mul")
cdef const mxn_op* OP_DIV = _find(b"broadcast_div")
cdef const mxn_op* OP_MOD = _find(b"broadcast_mod")
cdef const mxn_op* OP_POW = _find(b"broadcast_power")
cdef const mxn_op* OP_EQ = _find(b"broadcast_equal")
cdef const mxn_op* OP_NE = _find(b"broadcast_not_equal")
cdef const mxn_op* OP_GT = _find(b"broadcast_greater")
cdef const mxn_op* OP_GE = _find(b"broadcast_greater_equal")
cdef const mxn_op* OP_LT = _find(b"broadcast_lesser")
cdef const mxn_op* OP_LE = _find(b"broadcast_lesser_equal")
cdef const mxn_op* OP_PLUS_SCALAR = _find(b"_plus_scalar")
cdef const mxn_op* OP_MINUS_SCALAR = _find(b"_minus_scalar")
cdef const mxn_op* OP_RMINUS_SCALAR = _find(b"_rminus_scalar")
cdef const mxn_op* OP_MUL_SCALAR = _find(b"_mul_scalar")
cdef const mxn_op* OP_DIV_SCALAR = _find(b"_div_scalar")
cdef const mxn_op* OP_RDIV_SCALAR = _find(b"_rdiv_scalar")
cdef const mxn_op* OP_MOD_SCALAR = _find(b"_mod_scalar")
cdef const mxn_op* OP_RMOD_SCALAR = _find(b"_rmod_scalar")
cdef const mxn_op* OP_POW_SCALAR = _find(b"_power_scalar")
cdef const mxn_op* OP_RPOW_SCALAR = _find(b"_rpower_scalar")
cdef const mxn_op* OP_EQ_SCALAR = _find(b"_equal_scalar")
cdef const mxn_op* OP_NE_SCALAR = _find(b"_not_equal_scalar")
cdef const mxn_op* OP_GT_SCALAR = _find(b"_greater_scalar")
cdef const mxn_op* OP_GE_SCALAR = _find(b"_greater_equal_scalar")
cdef const mxn_op* OP_LT_SCALAR = _find(b"_lesser_scalar")
cdef const mxn_op* OP_LE_SCALAR = _find(b"_lesser_equal_scalar")

cdef const char* SCALAR_KEY[1]
SCALAR_KEY[0] = b"scalar"

_as_ndarray = None  # set by mxnext.ndarray: converts array-likes (NumPy) to NDArray


def _set_converter(fn):
    global _as_ndarray
    _as_ndarray = fn


cdef inline bint _is_scalar(object x):
    return isinstance(x, (float, int))


cdef object _invoke2(const mxn_op* op, NDArrayBase a, NDArrayBase b):
    cdef mxn_ndarray* ins[2]
    cdef mxn_ndarray* out = NULL
    cdef int32_t n_out = 0
    ins[0] = a.handle
    ins[1] = b.handle
    check(mxn_op_invoke(op, 2, ins, 0, NULL, NULL, 1, &out, &n_out))
    return _wrap(out)


cdef object _invoke_scalar(const mxn_op* op, NDArrayBase a, double scalar):
    cdef mxn_ndarray* out = NULL
    cdef int32_t n_out = 0
    cdef mxn_value v
    v.type = MXN_VALUE_FLOAT
    v.len = 0
    v.u.f = scalar
    check(mxn_op_invoke(op, 1, &a.handle, 1, SCALAR_KEY, &v, 1, &out, &n_out))
    return _wrap(out)


cdef object _binary(NDArrayBase self, object other, const mxn_op* op, const mxn_op* op_scalar):
    if isinstance(other, NDArrayBase):
        return _invoke2(op, self, <NDArrayBase>other)
    if _is_scalar(other):
        return _invoke_scalar(op_scalar, self, <double>other)
    if hasattr(other, '__array__') or isinstance(other, (list, tuple)):
        return _invoke2(op, self, _as_ndarray(other, self))
    return NotImplemented


cdef object _rbinary(NDArrayBase self, object other, const mxn_op* op, const mxn_op* op_rscalar):
    # other (op) self, where other is not an NDArray
    if _is_scalar(other):
        return _invoke_scalar(op_rscalar, self, <double>other)
    if hasattr(other, '__array__') or isinstance(other, (list, tuple)):
        return _invoke2(op, _as_ndarray(other, self), self)
    return NotImplemented


cdef object _binary_into(NDArrayBase self, object other, const mxn_op* op, const mxn_op* op_scalar):
    cdef mxn_ndarray* ins[2]
    cdef mxn_value v
    cdef NDArrayBase rhs
    if _is_scalar(other):
        v.type = MXN_VALUE_FLOAT
        v.len = 0
        v.u.f = <double>other
        check(mxn_op_invoke_into(op_scalar, 1, &self.handle, 1, SCALAR_KEY, &v, 1, &self.handle))
        return self
    if isinstance(other, NDArrayBase):
        rhs = <NDArrayBase>other
    elif hasattr(other, '__array__') or isinstance(other, (list, tuple)):
        rhs = _as_ndarray(other, self)
    else:
        return NotImplemented
    ins[0] = self.handle
    ins[1] = rhs.handle
    check(mxn_op_invoke_into(op, 2, ins, 0, NULL, NULL, 1, &self.handle))
    return self


# ---- generic invocation with typed parameters ------------------------------------------------

# Parameter type codes, as in the schema (and mxn_value_type).
T_INT = MXN_VALUE_INT
T_FLOAT = MXN_VALUE_FLOAT
T_BOOL = MXN_VALUE_BOOL
T_STRING = MXN_VALUE_STRING
T_SHAPE = MXN_VALUE_SHAPE
T_DTYPE = MXN_VALUE_DTYPE
T_DEVICE = MXN_VALUE_DEVICE
# A None inside a tuple parameter (slice begin/end) crosses as this value.
NONE_INDEX = INT64_MIN

_dtype_code = None  # set by mxnext.ndarray: dtype-like -> MXNet type flag


def _set_dtype_converter(fn):
    global _dtype_code
    _dtype_code = fn


cdef enum:
    MAX_PARAMS = 32
    MAX_DIMS = 16
    STACK_INPUTS = 16


cdef int _to_value(mxn_value* v, int64_t* dims, int type_code, object value, list keep,
                   bytes key) except -1:
    v.len = 0
    if value is None:
        v.type = MXN_VALUE_NONE
        v.u.i = 0
        return 0
    v.type = type_code
    if type_code == MXN_VALUE_INT or type_code == MXN_VALUE_BOOL:
        v.u.i = int(value)
    elif type_code == MXN_VALUE_FLOAT:
        v.u.f = float(value)
    elif type_code == MXN_VALUE_STRING:
        b = value.encode() if isinstance(value, str) else bytes(value)
        keep.append(b)
        v.u.s = <const char*>(<bytes>b)
    elif type_code == MXN_VALUE_SHAPE:
        if isinstance(value, int):
            value = (value,)
        n = len(value)
        if n > MAX_DIMS:
            raise ValueError(f"parameter '{key.decode()}': at most {MAX_DIMS} entries, got {n}")
        for j in range(n):
            item = value[j]
            dims[j] = INT64_MIN if item is None else int(item)
        v.len = n
        v.u.dims = dims
    elif type_code == MXN_VALUE_DTYPE:
        v.u.i = _dtype_code(value)
    elif type_code == MXN_VALUE_DEVICE:
        v.u.i = value.device_typeid
        v.len = value.device_id
    else:
        raise TypeError(f"unknown parameter type code {type_code}")
    return 0


def invoke(size_t op_address, inputs, tuple keys, tuple types, tuple values, out=None):
    """Run operator `op_address` on `inputs` (NDArrays) with typed parameters.

    keys: parameter names as bytes; types: T_* codes; values: Python values (None = default).
    Returns one NDArray, or a list when the operator has several outputs; with `out`, writes
    into it (an NDArray or a list of them) and returns it."""
    cdef const mxn_op* op = <const mxn_op*>op_address
    cdef Py_ssize_t n_in = len(inputs), n_params = len(keys), i
    cdef mxn_ndarray* in_stack[STACK_INPUTS]
    cdef mxn_ndarray** ins = in_stack
    cdef const char* key_ptrs[MAX_PARAMS]
    cdef mxn_value vals[MAX_PARAMS]
    cdef int64_t dims[MAX_PARAMS][MAX_DIMS]
    cdef mxn_ndarray* outs[16]
    cdef int32_t n_out = 0
    cdef list keep = []
    cdef int rc
    if n_params > MAX_PARAMS:
        raise ValueError(f"at most {MAX_PARAMS} parameters")
    for i in range(n_params):
        key_ptrs[i] = <const char*>(<bytes>keys[i])
        _to_value(&vals[i], dims[i], types[i], values[i], keep, keys[i])
    if n_in > STACK_INPUTS:
        ins = <mxn_ndarray**>malloc(n_in * sizeof(mxn_ndarray*))
        if ins == NULL:
            raise MemoryError()
    try:
        for i in range(n_in):
            x = inputs[i]
            if not isinstance(x, NDArrayBase):
                raise TypeError(f"input {i} must be an NDArray, got {type(x).__name__}")
            ins[i] = (<NDArrayBase>x).handle
        if out is None:
            check(mxn_op_invoke(op, <int32_t>n_in, ins, <int32_t>n_params, key_ptrs, vals,
                                16, outs, &n_out))
            if n_out == 1:
                return _wrap(outs[0])
            return [_wrap(outs[i]) for i in range(n_out)]
        out_list = [out] if isinstance(out, NDArrayBase) else list(out)
        if len(out_list) > 16:
            raise ValueError("at most 16 outputs")
        for i in range(len(out_list)):
            if not isinstance(out_list[i], NDArrayBase):
                raise TypeError(f"out must be an NDArray, got {type(out_list[i]).__name__}")
            outs[i] = (<NDArrayBase>out_list[i]).handle
        check(mxn_op_invoke_into(op, <int32_t>n_in, ins, <int32_t>n_params, key_ptrs, vals,
                                 <int32_t>len(out_list), outs))
        return out
    finally:
        if ins != in_stack:
            free(ins)


# ---- creation, transfers, views ---------------------------------------------------------------

cdef int32_t _fill_dims(int64_t* dims, shape) except -1:
    """Copies a shape tuple into dims[MAX_DIMS]; returns its length."""
    n = len(shape)
    if n > MAX_DIMS:
        raise ValueError(f"at most {MAX_DIMS} dimensions, got {n}")
    for i in range(n):
        dims[i] = shape[i]
    return <int32_t>n


def empty(shape, int dtype_code, int device_type, int device_id):
    cdef int64_t dims[MAX_DIMS]
    cdef mxn_ndarray* h = NULL
    cdef int32_t n = _fill_dims(dims, shape)
    check(mxn_ndarray_create(dims, n, dtype_code, device_type, device_id, &h))
    return _wrap(h)


def from_buffer(object array, int dtype_code, int device_type, int device_id):
    """New array holding a copy of a C-contiguous buffer (a NumPy array)."""
    cdef Py_buffer buf
    cdef int64_t dims[MAX_DIMS]
    cdef mxn_ndarray* h = NULL
    cdef int32_t n = _fill_dims(dims, array.shape)
    PyObject_GetBuffer(array, &buf, PyBUF_C_CONTIGUOUS)
    try:
        check(mxn_ndarray_from_data(dims, n, dtype_code, device_type, device_id,
                                    buf.buf, <size_t>buf.len, &h))
    finally:
        PyBuffer_Release(&buf)
    return _wrap(h)


def copy_to_buffer(NDArrayBase src, object array):
    """Copies src into a writable C-contiguous buffer of the same byte size (waits first)."""
    cdef Py_buffer buf
    cdef int rc
    PyObject_GetBuffer(array, &buf, PyBUF_C_CONTIGUOUS | 0x0001)  # PyBUF_WRITABLE
    try:
        with nogil:
            rc = mxn_ndarray_copy_to_host(src.handle, buf.buf, <size_t>buf.len)
        check(rc)
    finally:
        PyBuffer_Release(&buf)


def copy_from_buffer(NDArrayBase dst, object array):
    cdef Py_buffer buf
    cdef int rc
    PyObject_GetBuffer(array, &buf, PyBUF_C_CONTIGUOUS)
    try:
        with nogil:
            rc = mxn_ndarray_copy_from_host(dst.handle, buf.buf, <size_t>buf.len)
        check(rc)
    finally:
        PyBuffer_Release(&buf)


def copy_to(NDArrayBase src, NDArrayBase dst):
    check(mxn_ndarray_copy_to(src.handle, dst.handle))


def slice_view(NDArrayBase a, int64_t begin, int64_t end):
    cdef mxn_ndarray* h = NULL
    check(mxn_ndarray_slice(a.handle, begin, end, &h))
    return _wrap(h)


def at_view(NDArrayBase a, int64_t index):
    cdef mxn_ndarray* h = NULL
    check(mxn_ndarray_at(a.handle, index, &h))
    return _wrap(h)


def reshape_view(NDArrayBase a, shape, bint reverse=False):
    cdef int64_t dims[MAX_DIMS]
    cdef mxn_ndarray* h = NULL
    cdef int32_t n = _fill_dims(dims, shape)
    check(mxn_ndarray_reshape(a.handle, dims, n, reverse, &h))
    return _wrap(h)


def wait_all():
    cdef int rc
    with nogil:
        rc = mxn_wait_all()
    check(rc)


# ---- DLPack ------------------------------------------------------------------------------------

cdef void _versioned_capsule_destructor(object capsule) noexcept:
    # Runs when the capsule dies unconsumed: the producer (us) must release the tensor.
    cdef DLManagedTensorVersioned* m
    if PyCapsule_IsValid(capsule, b"dltensor_versioned"):
        m = <DLManagedTensorVersioned*>PyCapsule_GetPointer(capsule, b"dltensor_versioned")
        if m != NULL and m.deleter != NULL:
            m.deleter(m)


cdef void _legacy_capsule_destructor(object capsule) noexcept:
    cdef DLManagedTensor* m
    if PyCapsule_IsValid(capsule, b"dltensor"):
        m = <DLManagedTensor*>PyCapsule_GetPointer(capsule, b"dltensor")
        if m != NULL and m.deleter != NULL:
            m.deleter(m)


def to_dlpack(NDArrayBase a, bint versioned=True):
    """A DLPack capsule sharing a's memory (waits for pending writes first)."""
    cdef DLManagedTensorVersioned* mv = NULL
    cdef DLManagedTensor* ml = NULL
    cdef int rc
    if versioned:
        with nogil:
            rc = mxn_ndarray_to_dlpack(a.handle, &mv)
        check(rc)
        return PyCapsule_New(mv, b"dltensor_versioned", _versioned_capsule_destructor)
    with nogil:
        rc = mxn_ndarray_to_dlpack_legacy(a.handle, &ml)
    check(rc)
    return PyCapsule_New(ml, b"dltensor", _legacy_capsule_destructor)


def from_dlpack_capsule(object capsule):
    """Consumes a DLPack capsule (versioned or legacy) into a new array."""
    cdef mxn_ndarray* h = NULL
    cdef DLManagedTensorVersioned* mv
    cdef DLManagedTensor* ml
    if PyCapsule_IsValid(capsule, b"dltensor_versioned"):
        mv = <DLManagedTensorVersioned*>PyCapsule_GetPointer(capsule, b"dltensor_versioned")
        check(mxn_ndarray_from_dlpack(mv, &h))
        PyCapsule_SetName(capsule, b"used_dltensor_versioned")
        return _wrap(h)
    if PyCapsule_IsValid(capsule, b"dltensor"):
        ml = <DLManagedTensor*>PyCapsule_GetPointer(capsule, b"dltensor")
        check(mxn_ndarray_from_dlpack_legacy(ml, &h))
        PyCapsule_SetName(capsule, b"used_dltensor")
        return _wrap(h)
    raise ValueError("not a DLPack capsule, or one that was already consumed")


# ---- runtime ---------------------------------------------------------------------------------

def random_seed(uint64_t seed):
    check(mxn_random_seed(seed))


def engine_info():
    cdef const char* name = NULL
    cdef int32_t workers = 0
    check(mxn_engine_info(&name, &workers))
    return name.decode(), workers


def memory_stats(int device_type=1, int device_id=0):
    cdef mxn_memory_stats s
    s.struct_size = sizeof(mxn_memory_stats)
    check(mxn_memory_stats_get(device_type, device_id, &s))
    return {'live_bytes': s.live_bytes, 'peak_bytes': s.peak_bytes,
            'cached_bytes': s.cached_bytes, 'alloc_count': s.alloc_count,
            'limit_bytes': s.limit_bytes}


def memory_release_cached(int device_type=1, int device_id=0):
    check(mxn_memory_release_cached(device_type, device_id))


def memory_set_limit(int64_t limit_bytes, int device_type=1, int device_id=0):
    check(mxn_memory_set_limit(device_type, device_id, limit_bytes))


def device_count(int device_type):
    cdef int32_t n = 0
    check(mxn_device_count(device_type, &n))
    return n


# ---- autograd -----------------------------------------------------------------------------------

def autograd_set_recording(bint on):
    cdef int32_t prev = 0
    check(mxn_autograd_set_recording(on, &prev))
    return bool(prev)


def autograd_set_training(bint on):
    cdef int32_t prev = 0
    check(mxn_autograd_set_training(on, &prev))
    return bool(prev)


def autograd_is_recording():
    cdef int32_t v = 0
    check(mxn_autograd_is_recording(&v))
    return bool(v)


def autograd_is_training():
    cdef int32_t v = 0
    check(mxn_autograd_is_training(&v))
    return bool(v)


cdef mxn_ndarray** _handle_array(list arrays, bint allow_none) except NULL:
    """A malloc'ed array of the arrays' handles (NULL for None when allowed); caller frees."""
    cdef Py_ssize_t n = len(arrays), i
    cdef mxn_ndarray** hs = <mxn_ndarray**>malloc((n if n > 0 else 1) * sizeof(mxn_ndarray*))
    if hs == NULL:
        raise MemoryError()
    for i in range(n):
        x = arrays[i]
        if x is None and allow_none:
            hs[i] = NULL
        elif isinstance(x, NDArrayBase):
            hs[i] = (<NDArrayBase>x).handle
        else:
            free(hs)
            raise TypeError(f"expected an NDArray, got {type(x).__name__}")
    return hs


def autograd_mark_variables(list variables, list grad_reqs, list grads):
    cdef Py_ssize_t n = len(variables), i
    cdef mxn_ndarray** vs = _handle_array(variables, False)
    cdef mxn_ndarray** gs = NULL
    cdef int32_t* reqs = <int32_t*>malloc((n if n > 0 else 1) * sizeof(int32_t))
    try:
        gs = _handle_array(grads, False)
        for i in range(n):
            reqs[i] = grad_reqs[i]
        check(mxn_autograd_mark_variables(<int32_t>n, vs, reqs, gs))
    finally:
        free(vs)
        free(gs)
        free(reqs)


def ndarray_grad(NDArrayBase a):
    cdef mxn_ndarray* h = NULL
    check(mxn_ndarray_get_grad(a.handle, &h))
    return None if h == NULL else _wrap(h)


def ndarray_detach(NDArrayBase a):
    cdef mxn_ndarray* h = NULL
    check(mxn_ndarray_detach(a.handle, &h))
    return _wrap(h)


def autograd_backward(list heads, head_grads, list variables, bint retain_graph, bint train_mode):
    """Returns the gradients of `variables` (a list), or None when variables is empty."""
    cdef Py_ssize_t nh = len(heads), nv = len(variables), i
    cdef mxn_ndarray** hs = _handle_array(heads, False)
    cdef mxn_ndarray** hg = NULL
    cdef mxn_ndarray** vs = NULL
    cdef mxn_ndarray** out = NULL
    cdef int rc
    try:
        if head_grads is not None:
            if len(head_grads) != nh:
                raise ValueError(f"{nh} heads but {len(head_grads)} head gradients")
            hg = _handle_array(list(head_grads), True)
        vs = _handle_array(variables, False)
        out = <mxn_ndarray**>malloc((nv if nv > 0 else 1) * sizeof(mxn_ndarray*))
        with nogil:
            rc = mxn_autograd_backward(<int32_t>nh, hs, hg, <int32_t>nv, vs, retain_graph,
                                       train_mode, out)
        check(rc)
        if nv == 0:
            return None
        return [_wrap(out[i]) for i in range(nv)]
    finally:
        free(hs)
        free(hg)
        free(vs)
        free(out)


# ---- data IO: RecordIO, image codecs, data iterators (mxnext.recordio, mxnext.io) ----------

cdef class RecordIOHandle:
    """Owns one mxn_recordio handle."""
    cdef mxn_recordio* h

    def __dealloc__(self):
        mxn_recordio_free(self.h)
        self.h = NULL


def recordio_open(path, mode):
    cdef RecordIOHandle r = RecordIOHandle.__new__(RecordIOHandle)
    cdef bytes p = path.encode() if isinstance(path, str) else bytes(path)
    cdef bytes m = mode.encode()
    check(mxn_recordio_open(p, m, &r.h))
    return r


def recordio_open_part(path, int num_parts, int part_index):
    cdef RecordIOHandle r = RecordIOHandle.__new__(RecordIOHandle)
    cdef bytes p = path.encode() if isinstance(path, str) else bytes(path)
    check(mxn_recordio_open_part(p, num_parts, part_index, &r.h))
    return r


def recordio_close(RecordIOHandle r):
    check(mxn_recordio_close(r.h))


def recordio_write(RecordIOHandle r, buf):
    cdef const unsigned char[::1] view = memoryview(buf).cast('B') if not isinstance(buf, bytes) else buf
    cdef const void* p = &view[0] if view.shape[0] > 0 else <const void*>b""
    check(mxn_recordio_write(r.h, p, <size_t>view.shape[0]))


def recordio_read(RecordIOHandle r):
    """The next record as bytes, or None at the end."""
    cdef const void* data = NULL
    cdef size_t size = 0
    cdef int32_t has = 0
    cdef int rc
    with nogil:
        rc = mxn_recordio_read(r.h, &data, &size, &has)
    check(rc)
    if not has:
        return None
    return (<const char*>data)[:size]


def recordio_tell(RecordIOHandle r):
    cdef int64_t pos = 0
    check(mxn_recordio_tell(r.h, &pos))
    return pos


def recordio_seek(RecordIOHandle r, int64_t pos):
    check(mxn_recordio_seek(r.h, pos))


def recordio_reset(RecordIOHandle r):
    check(mxn_recordio_reset(r.h))


def image_decode(buf, int channels):
    """Decodes JPEG/PNG bytes into a uint8 (h, w, c) RGB NDArray."""
    cdef const unsigned char[::1] view = memoryview(buf).cast('B') if not isinstance(buf, bytes) else buf
    cdef const void* p = &view[0] if view.shape[0] > 0 else <const void*>b""
    cdef mxn_ndarray* h = NULL
    cdef int rc
    cdef size_t n = <size_t>view.shape[0]
    with nogil:
        rc = mxn_image_decode(p, n, channels, &h)
    check(rc)
    return _wrap(h)


def image_encode(NDArrayBase img, fmt, int quality):
    """Encodes a uint8 (h, w[, c]) RGB NDArray; returns a 1-d uint8 NDArray of the bytes."""
    cdef mxn_ndarray* h = NULL
    cdef bytes f = fmt.encode()
    check(mxn_image_encode(img.handle, f, quality, &h))
    return _wrap(h)


def dataiter_schema_json():
    return mxn_dataiter_schema_json().decode('utf-8')


cdef class DataIterHandle:
    """Owns one mxn_dataiter handle."""
    cdef mxn_dataiter* h

    def __dealloc__(self):
        cdef mxn_dataiter* h = self.h
        self.h = NULL
        with nogil:
            mxn_dataiter_free(h)


def dataiter_create(name, tuple keys, tuple types, tuple values):
    """Creates a core iterator by name; keys as bytes, types as T_* codes, None = default."""
    cdef DataIterHandle it = DataIterHandle.__new__(DataIterHandle)
    cdef bytes n = name.encode()
    cdef const char* name_ptr = n
    cdef Py_ssize_t n_params = 0, i
    cdef const char* key_ptrs[MAX_PARAMS * 2]
    cdef mxn_value vals[MAX_PARAMS * 2]
    cdef int64_t dims[MAX_PARAMS * 2][MAX_DIMS]
    cdef list keep = []
    cdef int rc
    if len(keys) > MAX_PARAMS * 2:
        raise ValueError(f"at most {MAX_PARAMS * 2} parameters")
    for i in range(len(keys)):
        if values[i] is None:
            continue  # the core's default
        key_ptrs[n_params] = <const char*>(<bytes>keys[i])
        _to_value(&vals[n_params], dims[n_params], types[i], values[i], keep, keys[i])
        n_params += 1
    with nogil:
        rc = mxn_dataiter_create(name_ptr, <int32_t>n_params, key_ptrs, vals, &it.h)
    check(rc)
    return it


def dataiter_next(DataIterHandle it):
    cdef int32_t has = 0
    cdef int rc
    with nogil:
        rc = mxn_dataiter_next(it.h, &has)
    check(rc)
    return bool(has)


def dataiter_reset(DataIterHandle it):
    cdef int rc
    with nogil:
        rc = mxn_dataiter_reset(it.h)
    check(rc)


def dataiter_batch(DataIterHandle it):
    """(data, label, index, pad) of the current batch."""
    cdef mxn_ndarray* d = NULL
    cdef mxn_ndarray* l = NULL
    cdef mxn_ndarray* x = NULL
    cdef int32_t pad = 0
    check(mxn_dataiter_pad(it.h, &pad))
    check(mxn_dataiter_data(it.h, &d))
    data = _wrap(d)
    check(mxn_dataiter_label(it.h, &l))
    label = _wrap(l)
    check(mxn_dataiter_index(it.h, &x))
    return data, label, _wrap(x), pad


def dataiter_batch_shape(DataIterHandle it, int which):
    """(shape tuple, dtype code) of the data (0) or label (1) of every batch."""
    cdef int32_t nd = 0, dt = 0
    cdef const int64_t* dims = NULL
    check(mxn_dataiter_batch_shape(it.h, which, &nd, &dims, &dt))
    return tuple([dims[i] for i in range(nd)]), dt


# ---- NDArray files: mx.nd.save / mx.nd.load / load_frombuffer, .params (mxnext.ndarray.utils)

import os as _os


cdef const char** _name_array(list names, list keep) except NULL:
    """A malloc'ed array of UTF-8 names (bytes kept alive in `keep`); caller frees."""
    cdef Py_ssize_t n = len(names), i
    cdef const char** out = <const char**>malloc((n if n > 0 else 1) * sizeof(const char*))
    if out == NULL:
        raise MemoryError()
    try:
        for i in range(n):
            b = names[i].encode("utf-8")
            if b"\0" in b:
                raise ValueError(f"name {names[i]!r} holds a NUL character")
            keep.append(b)
            out[i] = <const char*>(<bytes>b)
    except BaseException:
        free(out)
        raise
    return out


def ndarray_save(path, list arrays, names):
    """Writes arrays (and names: None for a list, else one str per array) to path."""
    cdef bytes p = _os.fsencode(path)
    cdef Py_ssize_t n = len(arrays)
    cdef list keep = []
    cdef mxn_ndarray** hs = _handle_array(arrays, False)
    cdef const char** cn = NULL
    cdef const char* cp = p
    cdef int rc
    try:
        if names is not None:
            cn = _name_array(list(names), keep)
        with nogil:
            rc = mxn_ndarray_save(cp, <int32_t>n, hs, cn)
        check(rc)
    finally:
        free(hs)
        free(cn)


def ndarray_save_to_buffer(list arrays, names):
    """The bytes ndarray_save would write, as bytes."""
    cdef Py_ssize_t n = len(arrays)
    cdef list keep = []
    cdef mxn_ndarray** hs = _handle_array(arrays, False)
    cdef const char** cn = NULL
    cdef mxn_ndarray* out = NULL
    try:
        if names is not None:
            cn = _name_array(list(names), keep)
        check(mxn_ndarray_save_to_buffer(<int32_t>n, hs, cn, &out))
    finally:
        free(hs)
        free(cn)
    buf = _wrap(out)
    return bytes(buf.asnumpy().tobytes())


cdef object _take_list(mxn_ndarray_list* lst):
    """Converts (and frees) a loaded list: a list of NDArrays, or a dict when it has names."""
    cdef int32_t na = 0, nn = 0, i
    cdef mxn_ndarray* h = NULL
    cdef const char* name = NULL
    cdef size_t length = 0
    try:
        check(mxn_ndarray_list_size(lst, &na, &nn))
        arrays = []
        for i in range(na):
            check(mxn_ndarray_list_get(lst, i, &h))
            arrays.append(_wrap(h))
        if nn == 0:
            return arrays
        result = {}
        for i in range(nn):
            check(mxn_ndarray_list_name(lst, i, &name, &length))
            raw = name[:length]
            try:
                key = raw.decode("utf-8")
            except UnicodeDecodeError:
                err = _error_classes.get(6, ValueError)(
                    f"name {i} ({raw[:40]!r}) is not valid UTF-8")
                err.code = 6
                err.kind = "FormatError"
                raise err from None
            result[key] = arrays[i]
        return result
    finally:
        mxn_ndarray_list_free(lst)


def ndarray_load(path):
    cdef bytes p = _os.fsencode(path)
    cdef const char* cp = p
    cdef mxn_ndarray_list* lst = NULL
    cdef int rc
    with nogil:
        rc = mxn_ndarray_load(cp, &lst)
    check(rc)
    return _take_list(lst)


def ndarray_load_from_buffer(buf):
    cdef const unsigned char[::1] view = memoryview(buf).cast('B') if not isinstance(buf, bytes) else buf
    cdef const void* p = &view[0] if view.shape[0] > 0 else <const void*>b""
    cdef size_t n = <size_t>view.shape[0]
    cdef mxn_ndarray_list* lst = NULL
    cdef int rc
    with nogil:
        rc = mxn_ndarray_load_from_buffer(p, n, &lst)
    check(rc)
    return _take_list(lst)


# ---- symbols ------------------------------------------------------------------------------------

cdef list _take_strings(mxn_strings* lst):
    """Copies a library string list into Python str and frees it."""
    cdef int32_t n = 0, i
    cdef const char* p = NULL
    try:
        check(mxn_strings_size(lst, &n))
        out = []
        for i in range(n):
            check(mxn_strings_get(lst, i, &p))
            out.append(p.decode("utf-8"))
        return out
    finally:
        mxn_strings_free(lst)


cdef list _take_shapes(mxn_shapes* lst):
    """Copies a shape list into tuples (None for unknown) and frees it."""
    cdef int32_t n = 0, i, nd = 0
    cdef const int64_t* dims = NULL
    try:
        check(mxn_shapes_size(lst, &n))
        out = []
        for i in range(n):
            check(mxn_shapes_get(lst, i, &nd, &dims))
            out.append(None if nd < 0 else tuple([dims[j] for j in range(nd)]))
        return out
    finally:
        mxn_shapes_free(lst)


cdef object _symbol_cls = None


def _set_symbol_class(cls):
    global _symbol_cls
    _symbol_cls = cls


cdef class SymbolBase:
    """Owns one mxn_symbol handle. mxnext.symbol.Symbol derives from it."""
    cdef mxn_symbol* handle
    cdef object __weakref__

    def __dealloc__(self):
        if self.handle != NULL:
            mxn_symbol_free(self.handle)
            self.handle = NULL

    @property
    def name(self):
        cdef const char* p = NULL
        check(mxn_symbol_name(self.handle, &p))
        s = p.decode("utf-8")
        return s if s else None

    def _list(self, int kind):
        cdef mxn_strings* lst = NULL
        check(mxn_symbol_list(self.handle, kind, &lst))
        return _take_strings(lst)

    def _num_outputs(self):
        cdef int32_t n = 0
        check(mxn_symbol_num_outputs(self.handle, &n))
        return n

    def _output(self, int index):
        cdef mxn_symbol* h = NULL
        check(mxn_symbol_output(self.handle, index, &h))
        return _wrap_symbol(h)

    def _internals(self):
        cdef mxn_symbol* h = NULL
        check(mxn_symbol_internals(self.handle, &h))
        return _wrap_symbol(h)

    def _children(self):
        cdef mxn_symbol* h = NULL
        check(mxn_symbol_children(self.handle, &h))
        return None if h == NULL else _wrap_symbol(h)

    def _get_attr(self, key):
        cdef mxn_strings* lst = NULL
        cdef int32_t found = 0
        check(mxn_symbol_get_attr(self.handle, key.encode(), &found, &lst))
        return _take_strings(lst)[0] if found else None

    def _set_attr(self, key, value):
        check(mxn_symbol_set_attr(self.handle, str(key).encode(), str(value).encode()))

    def _list_attr(self, bint recursive):
        cdef mxn_strings* lst = NULL
        check(mxn_symbol_list_attr(self.handle, recursive, &lst))
        flat = _take_strings(lst)
        return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]

    def _to_json(self):
        cdef mxn_strings* lst = NULL
        check(mxn_symbol_to_json(self.handle, &lst))
        return _take_strings(lst)[0]

    def _infer_shape(self, dict known, bint partial):
        cdef list names = [k.encode() for k in known]
        cdef Py_ssize_t n = len(names), i, total = 0
        cdef const char** cnames = <const char**>malloc((n + 1) * sizeof(char*))
        cdef int32_t* ndims = <int32_t*>malloc((n + 1) * sizeof(int32_t))
        cdef int64_t* dims = NULL
        cdef mxn_shapes* a = NULL
        cdef mxn_shapes* o = NULL
        cdef mxn_shapes* x = NULL
        shapes = [tuple(int(d) for d in v) for v in known.values()]
        for s in shapes:
            total += len(s)
        dims = <int64_t*>malloc((total + 1) * sizeof(int64_t))
        try:
            total = 0
            for i in range(n):
                cnames[i] = <const char*>(<bytes>names[i])
                ndims[i] = len(shapes[i])
                for d in shapes[i]:
                    dims[total] = d
                    total += 1
            check(mxn_symbol_infer_shape(self.handle, <int32_t>n, cnames, ndims, dims, partial,
                                         &a, &o, &x))
            return _take_shapes(a), _take_shapes(o), _take_shapes(x)
        finally:
            free(cnames)
            free(ndims)
            free(dims)

    def _infer_type(self, dict known):
        cdef list names = [k.encode() for k in known]
        cdef Py_ssize_t n = len(names), i
        cdef const char** cnames = <const char**>malloc((n + 1) * sizeof(char*))
        cdef int32_t* codes = <int32_t*>malloc((n + 1) * sizeof(int32_t))
        cdef int32_t cap = len(self._list(3)) + self._num_outputs() + 1
        cdef int32_t* a = <int32_t*>malloc(cap * sizeof(int32_t))
        cdef int32_t* o = <int32_t*>malloc(cap * sizeof(int32_t))
        cdef int32_t* x = <int32_t*>malloc(cap * sizeof(int32_t))
        cdef int32_t na = 0, no = 0, nx = 0
        try:
            vals = list(known.values())
            for i in range(n):
                cnames[i] = <const char*>(<bytes>names[i])
                codes[i] = _dtype_code(vals[i])
            check(mxn_symbol_infer_type(self.handle, <int32_t>n, cnames, codes, cap, a, &na, o,
                                        &no, x, &nx))
            return ([a[i] for i in range(na)], [o[i] for i in range(no)],
                    [x[i] for i in range(nx)])
        finally:
            free(cnames)
            free(codes)
            free(a)
            free(o)
            free(x)


cdef SymbolBase _wrap_symbol(mxn_symbol* h):
    cdef SymbolBase obj = SymbolBase.__new__(_symbol_cls)
    obj.handle = h
    return obj


def symbol_variable(name):
    cdef mxn_symbol* h = NULL
    check(mxn_symbol_variable(name.encode(), &h))
    return _wrap_symbol(h)


def symbol_from_json(text):
    cdef mxn_symbol* h = NULL
    cdef bytes b = text.encode("utf-8")
    check(mxn_symbol_from_json(b, &h))
    return _wrap_symbol(h)


def symbol_group(list symbols):
    cdef Py_ssize_t n = len(symbols), i
    cdef mxn_symbol** hs = <mxn_symbol**>malloc((n + 1) * sizeof(mxn_symbol*))
    cdef mxn_symbol* out = NULL
    try:
        for i in range(n):
            if not isinstance(symbols[i], SymbolBase):
                raise TypeError(f"Group takes symbols, got {type(symbols[i]).__name__}")
            hs[i] = (<SymbolBase>symbols[i]).handle
        check(mxn_symbol_group(<int32_t>n, hs, &out))
        return _wrap_symbol(out)
    finally:
        free(hs)


def symbol_compose(size_t op_address, tuple keys, tuple types, tuple values, name, list args,
                   list arg_names, dict attrs):
    """Composes an operator over symbols with typed parameters (see invoke)."""
    cdef const mxn_op* op = <const mxn_op*>op_address
    cdef Py_ssize_t n_params = len(keys), n_args = len(args), n_attrs = len(attrs), i
    cdef const char* key_ptrs[MAX_PARAMS]
    cdef mxn_value vals[MAX_PARAMS]
    cdef int64_t dims[MAX_PARAMS][MAX_DIMS]
    cdef list keep = []
    cdef mxn_symbol** hs = <mxn_symbol**>malloc((n_args + 1) * sizeof(mxn_symbol*))
    cdef const char** anames = <const char**>malloc((n_args + 1) * sizeof(char*))
    cdef const char** akeys = <const char**>malloc((n_attrs + 1) * sizeof(char*))
    cdef const char** avals = <const char**>malloc((n_attrs + 1) * sizeof(char*))
    cdef mxn_symbol* out = NULL
    cdef bytes bname
    try:
        if n_params > MAX_PARAMS:
            raise ValueError(f"at most {MAX_PARAMS} parameters")
        for i in range(n_params):
            key_ptrs[i] = <const char*>(<bytes>keys[i])
            _to_value(&vals[i], dims[i], types[i], values[i], keep, keys[i])
        for i in range(n_args):
            x = args[i]
            if not isinstance(x, SymbolBase):
                raise TypeError(f"symbol inputs must be Symbols, got {type(x).__name__}")
            hs[i] = (<SymbolBase>x).handle
            b = (arg_names[i] or "").encode()
            keep.append(b)
            anames[i] = <const char*>(<bytes>b)
        i = 0
        for k, v in attrs.items():
            bk, bv = str(k).encode(), str(v).encode()
            keep.append(bk)
            keep.append(bv)
            akeys[i] = <const char*>(<bytes>bk)
            avals[i] = <const char*>(<bytes>bv)
            i += 1
        bname = (name or "").encode()
        check(mxn_symbol_compose(op, <int32_t>n_params, key_ptrs, vals, bname, <int32_t>n_args,
                                 hs, anames, <int32_t>n_attrs, akeys, avals, &out))
        return _wrap_symbol(out)
    finally:
        free(hs)
        free(anames)
        free(akeys)
        free(avals)


# ---- executors ----------------------------------------------------------------------------------

cdef class ExecutorHandle:
    """Owns one mxn_executor handle."""
    cdef mxn_executor* handle

    def __dealloc__(self):
        if self.handle != NULL:
            mxn_executor_free(self.handle)
            self.handle = NULL

    def forward(self, bint is_train):
        cdef int rc
        with nogil:
            rc = mxn_executor_forward(self.handle, is_train)
        check(rc)

    def backward(self, list head_grads):
        cdef Py_ssize_t n = len(head_grads)
        cdef mxn_ndarray** hs = _handle_array(head_grads, True)
        cdef int rc
        try:
            with nogil:
                rc = mxn_executor_backward(self.handle, <int32_t>n, hs)
            check(rc)
        finally:
            free(hs)

    def memory_report(self):
        cdef mxn_strings* lst = NULL
        check(mxn_executor_memory_report(self.handle, &lst))
        return _take_strings(lst)[0]

    def outputs(self):
        cdef int32_t n = 0, i
        cdef mxn_ndarray* h = NULL
        check(mxn_executor_num_outputs(self.handle, &n))
        out = []
        for i in range(n):
            check(mxn_executor_output(self.handle, i, &h))
            out.append(_wrap(h))
        return out


def executor_bind(SymbolBase symbol, list args, list grads, list grad_reqs, list aux):
    cdef Py_ssize_t n = len(args), nx = len(aux), i
    cdef mxn_ndarray** a = _handle_array(args, False)
    cdef mxn_ndarray** g = NULL
    cdef mxn_ndarray** x = NULL
    cdef int32_t* reqs = <int32_t*>malloc((n + 1) * sizeof(int32_t))
    cdef ExecutorHandle e = ExecutorHandle.__new__(ExecutorHandle)
    try:
        g = _handle_array(grads, True)
        x = _handle_array(aux, False)
        for i in range(n):
            reqs[i] = grad_reqs[i]
        check(mxn_executor_bind(symbol.handle, <int32_t>n, a, g, reqs, <int32_t>nx, x, &e.handle))
        return e
    finally:
        free(a)
        free(g)
        free(x)
        free(reqs)


# ---- training: optimizers, schedulers, initializers, metrics, kvstore ------------------------

def train_schema_json():
    return mxn_train_schema_json().decode('utf-8')


cdef class _Params:
    """Typed parameters for one C call (keys, values and the storage they point into)."""
    cdef const char* keys[MAX_PARAMS]
    cdef mxn_value vals[MAX_PARAMS]
    cdef int64_t dims[MAX_PARAMS][MAX_DIMS]
    cdef list keep
    cdef int32_t n

    def __cinit__(self, tuple keys, tuple types, tuple values):
        self.keep = []
        self.n = 0
        if len(keys) > MAX_PARAMS:
            raise ValueError(f"at most {MAX_PARAMS} parameters")
        for i in range(len(keys)):
            if values[i] is None:
                continue  # the core's default
            k = keys[i].encode() if isinstance(keys[i], str) else keys[i]
            self.keep.append(k)
            self.keys[self.n] = <const char*>(<bytes>k)
            _to_value(&self.vals[self.n], self.dims[self.n], types[i], values[i], self.keep, k)
            self.n += 1


cdef bytes _opt_name(object key):
    return None if isinstance(key, int) else (key.encode() if isinstance(key, str) else bytes(key))


cdef const char* _np(bytes n):
    if n is None:
        return <const char*>NULL
    return <const char*>n


cdef bytes _array_bytes(mxn_ndarray* h):
    cdef int64_t n = 0
    try:
        check(mxn_ndarray_size(h, &n))
        out = bytearray(n)
        if n:
            _copy_handle_to(h, out)
        return bytes(out)
    finally:
        mxn_ndarray_free(h)


cdef _copy_handle_to(mxn_ndarray* h, bytearray out):
    cdef char* p = out
    check(mxn_ndarray_copy_to_host(h, p, len(out)))


cdef class SchedulerHandle:
    cdef mxn_lr_scheduler* h

    def __dealloc__(self):
        mxn_lr_scheduler_free(self.h)
        self.h = NULL

    def get(self, int64_t num_update):
        cdef double v = 0
        check(mxn_lr_scheduler_get(self.h, num_update, &v))
        return v

    @property
    def base_lr(self):
        cdef double v = 0
        check(mxn_lr_scheduler_base_lr(self.h, &v))
        return v

    @base_lr.setter
    def base_lr(self, double v):
        check(mxn_lr_scheduler_set_base_lr(self.h, v))


def lr_scheduler_create(name, tuple keys, tuple types, tuple values):
    cdef _Params p = _Params(keys, types, values)
    cdef SchedulerHandle s = SchedulerHandle.__new__(SchedulerHandle)
    cdef bytes n = name.encode()
    check(mxn_lr_scheduler_create(n, p.n, p.keys, p.vals, &s.h))
    return s


cdef class OptimizerHandle:
    cdef mxn_optimizer* h

    def __dealloc__(self):
        mxn_optimizer_free(self.h)
        self.h = NULL

    def set_param(self, key, int type_code, value):
        cdef _Params p = _Params((key,), (type_code,), (value,))
        cdef mxn_value none
        none.type = MXN_VALUE_NONE
        none.len = 0
        none.u.i = 0
        cdef bytes k = key.encode()
        check(mxn_optimizer_set_param(self.h, k, &p.vals[0] if p.n else &none))

    def get_param(self, key):
        cdef mxn_value v
        cdef bytes k = key.encode()
        check(mxn_optimizer_get_param(self.h, k, &v))
        if v.type == MXN_VALUE_FLOAT:
            return v.u.f
        if v.type == MXN_VALUE_INT:
            return v.u.i
        if v.type == MXN_VALUE_BOOL:
            return bool(v.u.i)
        if v.type == MXN_VALUE_STRING:
            return v.u.s.decode()
        return None

    def set_scheduler(self, SchedulerHandle s):
        check(mxn_optimizer_set_lr_scheduler(self.h, s.h if s is not None else NULL))

    def set_param_name(self, int64_t index, name):
        cdef bytes n = name.encode()
        check(mxn_optimizer_set_param_name(self.h, index, n))

    def set_mult(self, int which, key, double value):
        cdef bytes n = _opt_name(key)
        check(mxn_optimizer_set_mult(self.h, which, key if n is None else 0,
                                     _np(n), value))

    def clear_mults(self, int which):
        check(mxn_optimizer_clear_mults(self.h, which))

    def update(self, key, NDArrayBase weight, NDArrayBase grad):
        cdef bytes n = _opt_name(key)
        cdef int64_t idx = key if n is None else 0
        cdef const char* np = _np(n)
        cdef int rc
        with nogil:
            rc = mxn_optimizer_update(self.h, idx, np, weight.handle, grad.handle)
        check(rc)

    def rates(self, key):
        cdef bytes n = _opt_name(key)
        cdef double lr = 0, wd = 0
        check(mxn_optimizer_rates(self.h, key if n is None else 0,
                                  _np(n), &lr, &wd))
        return lr, wd

    def num_update(self):
        cdef int64_t v = 0
        check(mxn_optimizer_num_update(self.h, &v))
        return v

    def update_count(self, key):
        cdef bytes n = _opt_name(key)
        cdef int64_t v = 0
        check(mxn_optimizer_update_count(self.h, key if n is None else 0,
                                         _np(n), &v))
        return v

    def states(self, key):
        cdef bytes n = _opt_name(key)
        cdef int64_t idx = key if n is None else 0
        cdef const char* np = _np(n)
        cdef int32_t num = 0, k
        cdef mxn_ndarray* out = NULL
        check(mxn_optimizer_num_states(self.h, idx, np, &num))
        res = []
        for k in range(num):
            check(mxn_optimizer_state(self.h, idx, np, k, &out))
            res.append(_wrap(out))
        return res

    def save_states(self):
        cdef mxn_ndarray* out = NULL
        check(mxn_optimizer_save_states(self.h, &out))
        return _array_bytes(out)

    def load_states(self, data):
        cdef bytes b = bytes(data)
        cdef const char* p = b
        check(mxn_optimizer_load_states(self.h, p, len(b)))


def optimizer_create(name, tuple keys, tuple types, tuple values):
    cdef _Params p = _Params(keys, types, values)
    cdef OptimizerHandle o = OptimizerHandle.__new__(OptimizerHandle)
    cdef bytes n = name.encode()
    check(mxn_optimizer_create(n, p.n, p.keys, p.vals, &o.h))
    return o


cdef class InitializerHandle:
    cdef mxn_initializer* h

    def __dealloc__(self):
        mxn_initializer_free(self.h)
        self.h = NULL

    def apply(self, name, attr, NDArrayBase arr):
        cdef bytes n = name.encode()
        cdef bytes a = (attr or "").encode()
        check(mxn_initializer_apply(self.h, n, a, arr.handle))

    def init_weight(self, name, NDArrayBase arr):
        cdef bytes n = name.encode()
        check(mxn_initializer_init_weight(self.h, n, arr.handle))


def initializer_create(name, tuple keys, tuple types, tuple values):
    cdef _Params p = _Params(keys, types, values)
    cdef InitializerHandle i = InitializerHandle.__new__(InitializerHandle)
    cdef bytes n = name.encode()
    check(mxn_initializer_create(n, p.n, p.keys, p.vals, &i.h))
    return i


def initializer_from_json(text):
    cdef InitializerHandle i = InitializerHandle.__new__(InitializerHandle)
    cdef bytes t = text.encode()
    check(mxn_initializer_from_json(t, &i.h))
    return i


def initializer_mixed(list patterns, list inits):
    cdef Py_ssize_t n = len(patterns), k
    cdef InitializerHandle i = InitializerHandle.__new__(InitializerHandle)
    cdef list keep = []
    cdef const char** ps = <const char**>malloc((n + 1) * sizeof(char*))
    cdef mxn_initializer** hs = <mxn_initializer**>malloc((n + 1) * sizeof(void*))
    try:
        if len(inits) != n:
            raise ValueError("Mixed: as many patterns as initializers are needed")
        for k in range(n):
            b = patterns[k].encode()
            keep.append(b)
            ps[k] = <const char*>(<bytes>b)
            hs[k] = (<InitializerHandle>inits[k]).h
        check(mxn_initializer_mixed(<int32_t>n, ps, hs, &i.h))
        return i
    finally:
        free(ps)
        free(hs)


def initializer_load(list names, list arrays, InitializerHandle default_init):
    cdef InitializerHandle i = InitializerHandle.__new__(InitializerHandle)
    cdef list keep = []
    cdef const char** ns = _name_array(names, keep)
    cdef mxn_ndarray** hs = _handle_array(arrays, False)
    try:
        check(mxn_initializer_load(<int32_t>len(names), ns, hs,
                                   default_init.h if default_init is not None else NULL, &i.h))
        return i
    finally:
        free(ns)
        free(hs)


cdef class MetricHandle:
    cdef mxn_metric* h
    cdef list children  # keeps Python wrappers of children alive (the core shares them anyway)

    def __dealloc__(self):
        mxn_metric_free(self.h)
        self.h = NULL

    def add_child(self, MetricHandle child):
        check(mxn_metric_add_child(self.h, child.h))

    def update(self, list labels, list preds):
        cdef mxn_ndarray** ls = _handle_array(labels, False)
        cdef mxn_ndarray** ps = NULL
        cdef int rc
        cdef int32_t nl = len(labels), np_ = len(preds)
        try:
            ps = _handle_array(preds, False)
            with nogil:
                rc = mxn_metric_update(self.h, nl, ls, np_, ps)
            check(rc)
        finally:
            free(ls)
            free(ps)

    def reset(self, bint local_only=False):
        check(mxn_metric_reset(self.h, local_only))

    def get(self, bint is_global=False):
        cdef int32_t num = 0, k
        cdef double vals[256]
        cdef const char* name = NULL
        check(mxn_metric_get(self.h, is_global, 256, vals, &num))
        out = []
        for k in range(num):
            check(mxn_metric_name(self.h, k, &name))
            out.append((name.decode(), vals[k]))
        return out


def metric_create(name, tuple keys, tuple types, tuple values):
    cdef _Params p = _Params(keys, types, values)
    cdef MetricHandle m = MetricHandle.__new__(MetricHandle)
    cdef bytes n = name.encode()
    check(mxn_metric_create(n, p.n, p.keys, p.vals, &m.h))
    return m


cdef int _fill_keys(mxn_value* out, list keys, list keep) except -1:
    for i in range(len(keys)):
        k = keys[i]
        out[i].len = 0
        if isinstance(k, int):
            out[i].type = MXN_VALUE_INT
            out[i].u.i = k
        elif isinstance(k, str):
            b = k.encode()
            keep.append(b)
            out[i].type = MXN_VALUE_STRING
            out[i].u.s = <const char*>(<bytes>b)
        else:
            raise TypeError(f"kvstore keys are int or str, got {type(k).__name__}")
    return 0


cdef int _kv_updater(const mxn_value* key, mxn_ndarray* grad, mxn_ndarray* weight,
                     void* user_data) noexcept with gil:
    cdef KVStoreHandle kv = <KVStoreHandle>user_data
    cdef mxn_ndarray* g = NULL
    cdef mxn_ndarray* w = NULL
    cdef int32_t nd = 0
    cdef const int64_t* dims = NULL
    try:
        k = key.u.i if key.type == MXN_VALUE_INT else key.u.s.decode()
        check(mxn_ndarray_shape(grad, &nd, &dims))
        check(mxn_ndarray_reshape(grad, dims, nd, 0, &g))
        ga = _wrap(g)
        check(mxn_ndarray_shape(weight, &nd, &dims))
        check(mxn_ndarray_reshape(weight, dims, nd, 0, &w))
        wa = _wrap(w)
        kv.updater(k, ga, wa)
        return 0
    except BaseException as e:
        kv.error = e
        return 1


cdef class KVStoreHandle:
    cdef mxn_kvstore* h
    cdef public object updater
    cdef public object error
    cdef object optimizer  # keeps the optimizer handle alive

    def __dealloc__(self):
        mxn_kvstore_free(self.h)
        self.h = NULL

    cdef int _check(self, int rc) except -1:
        if rc != 0:
            err = self.error
            self.error = None
            if err is not None:
                raise err
            _raise(rc)
        return 0

    def info(self):
        cdef const char* t = NULL
        cdef int32_t rank = 0, nw = 0
        check(mxn_kvstore_info(self.h, &t, &rank, &nw))
        return t.decode(), rank, nw

    def init(self, list keys, list values):
        cdef list keep = []
        cdef mxn_value* ks = <mxn_value*>malloc((len(keys) + 1) * sizeof(mxn_value))
        cdef mxn_ndarray** vs = NULL
        try:
            _fill_keys(ks, keys, keep)
            vs = _handle_array(values, False)
            check(mxn_kvstore_init(self.h, <int32_t>len(keys), ks, vs))
        finally:
            free(ks)
            free(vs)

    def _call(self, int which, list keys, list groups, list out_groups, int priority):
        """which: 0 push, 1 pull, 2 pushpull, 3 broadcast (groups: one array per key)."""
        cdef list keep = []
        cdef Py_ssize_t n = len(keys), i
        cdef mxn_value* ks = <mxn_value*>malloc((n + 1) * sizeof(mxn_value))
        cdef int32_t* counts = <int32_t*>malloc((n + 1) * sizeof(int32_t))
        cdef int32_t* ocounts = <int32_t*>malloc((n + 1) * sizeof(int32_t))
        cdef mxn_ndarray** vs = NULL
        cdef mxn_ndarray** os = NULL
        cdef int rc
        try:
            _fill_keys(ks, keys, keep)
            flat = []
            for i in range(n):
                g = groups[i]
                if which == 3:
                    flat.append(g)
                else:
                    counts[i] = len(g)
                    flat.extend(g)
            vs = _handle_array(flat, False)
            if out_groups is not None:
                oflat = []
                for i in range(n):
                    ocounts[i] = len(out_groups[i])
                    oflat.extend(out_groups[i])
                os = _handle_array(oflat, False)
            if which == 0:
                rc = mxn_kvstore_push(self.h, <int32_t>n, ks, counts, vs, priority)
            elif which == 1:
                rc = mxn_kvstore_pull(self.h, <int32_t>n, ks, counts, vs, priority)
            elif which == 2:
                rc = mxn_kvstore_pushpull(self.h, <int32_t>n, ks, counts, vs,
                                          ocounts if os != NULL else NULL, os, priority)
            else:
                rc = mxn_kvstore_broadcast(self.h, <int32_t>n, ks, vs, ocounts, os, priority)
            self._check(rc)
        finally:
            free(ks)
            free(counts)
            free(ocounts)
            free(vs)
            free(os)

    def set_updater(self, fn):
        self.updater = fn
        self.optimizer = None
        if fn is None:
            check(mxn_kvstore_set_updater(self.h, NULL, NULL))
        else:
            check(mxn_kvstore_set_updater(self.h, _kv_updater, <void*>self))

    def set_optimizer(self, OptimizerHandle opt):
        check(mxn_kvstore_set_optimizer(self.h, opt.h))
        self.optimizer = opt
        self.updater = None

    def save_optimizer_states(self):
        cdef mxn_ndarray* out = NULL
        check(mxn_kvstore_save_optimizer_states(self.h, &out))
        return _array_bytes(out)

    def load_optimizer_states(self, data):
        cdef bytes b = bytes(data)
        cdef const char* p = b
        check(mxn_kvstore_load_optimizer_states(self.h, p, len(b)))

    def barrier(self):
        cdef int rc
        with nogil:
            rc = mxn_kvstore_barrier(self.h)
        check(rc)

    def allreduce_int64(self, values, int op=0):
        """Sum (0), min (1) or max (2) of a list of ints across workers."""
        cdef int32_t n = len(values)
        cdef int64_t* buf = <int64_t*>malloc((n + 1) * sizeof(int64_t))
        cdef int rc
        try:
            for i in range(n):
                buf[i] = int(values[i])
            with nogil:
                rc = mxn_kvstore_allreduce_int64(self.h, buf, n, op)
            check(rc)
            return [buf[i] for i in range(n)]
        finally:
            free(buf)

    def bench_transport(self, int64_t count, int32_t iters):
        cdef double s = 0
        cdef int rc
        with nogil:
            rc = mxn_kvstore_bench_transport(self.h, count, iters, &s)
        check(rc)
        return s


def kvstore_create(kind):
    cdef KVStoreHandle kv = KVStoreHandle.__new__(KVStoreHandle)
    cdef bytes t = kind.encode()
    check(mxn_kvstore_create(t, &kv.h))
    return kv
