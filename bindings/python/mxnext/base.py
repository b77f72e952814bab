"""Errors and dtypes shared by the whole package.

C errors become Python exceptions: every one is an MXNetError carrying the structured fields of
the C error (code, kind, op_name, arg_index, axis), and each kind also derives from the built-in
exception a Python user would catch (ValueError, TypeError, MemoryError, ...)."""
import numpy as np

from . import _core

__all__ = ["MXNetError", "InvalidArgumentError", "ShapeError", "DTypeError",
           "OutOfMemoryError", "MXNetIOError", "FormatError", "DeviceError",
           "NotImplementedMXNetError", "PeerLostError", "MXNetTimeoutError",
           "MXNetInterruptedError", "InternalError", "dtype_code", "dtype_from_code"]


class MXNetError(Exception):
    """An error reported by the mxnext core."""
    code = None
    kind = ""
    op_name = ""
    arg_index = None  # 0-based index of the offending input, when known
    axis = None       # the offending axis, when known


class InvalidArgumentError(MXNetError, ValueError):
    pass


class ShapeError(MXNetError, ValueError):
    pass


class DTypeError(MXNetError, TypeError):
    pass


class OutOfMemoryError(MXNetError, MemoryError):
    pass


class MXNetIOError(MXNetError, OSError):
    pass


class FormatError(MXNetError, ValueError):
    pass


class DeviceError(MXNetError, RuntimeError):
    pass


class NotImplementedMXNetError(MXNetError, NotImplementedError):
    pass


class PeerLostError(MXNetError, ConnectionError):
    pass


class MXNetTimeoutError(MXNetError, TimeoutError):
    pass


class MXNetInterruptedError(MXNetError, InterruptedError):
    pass


class InternalError(MXNetError, RuntimeError):
    pass


# MXN_ERR_* codes of c_api.h
_core._register_errors({
    -1: MXNetError,
    1: InvalidArgumentError,
    2: ShapeError,
    3: DTypeError,
    4: OutOfMemoryError,
    5: MXNetIOError,
    6: FormatError,
    7: DeviceError,
    8: NotImplementedMXNetError,
    9: PeerLostError,
    10: MXNetTimeoutError,
    11: MXNetInterruptedError,
    12: InternalError,
})

# MXNet's type flags, in the order of its numbering.
_DTYPES = [np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.float16),
           np.dtype(np.uint8), np.dtype(np.int32), np.dtype(np.int8),
           np.dtype(np.int64), np.dtype(np.bool_)]
_CODE_OF = {dt: i for i, dt in enumerate(_DTYPES)}


def dtype_code(dtype):
    """MXNet's type flag for a dtype-like ('float32', np.float32, np.dtype, ...)."""
    try:
        return _CODE_OF[np.dtype(dtype)]
    except (KeyError, TypeError):
        supported = ", ".join(str(d) for d in _DTYPES)
        err = DTypeError(f"dtype {dtype!r} is not supported (supported: {supported})")
        err.code = 3
        err.kind = "DTypeError"
        raise err from None


def dtype_from_code(code):
    return _DTYPES[code]


_core._set_dtype_converter(dtype_code)
