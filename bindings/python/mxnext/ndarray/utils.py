"""mx.nd.save / mx.nd.load / mx.nd.load_frombuffer: Apache MXNet's NDArray files (`.params`).

Files are byte-compatible with Apache MXNet 1.x in both directions. Saving is atomic (a failed
save leaves an existing file untouched); loading validates every length before allocating, so
a corrupt or truncated file raises mx.FormatError (a missing one mx.MXNetIOError), never a
crash or a huge allocation. Nothing here runs code found in a file."""
import os

from .. import _core
from .ndarray import NDArray

__all__ = ["save", "load", "load_frombuffer"]


def _split(data):
    """(arrays, names or None) of what mx.nd.save accepts."""
    if isinstance(data, NDArray):
        return [data], None
    if isinstance(data, dict):
        keys = list(data.keys())
        vals = list(data.values())
        if any(not isinstance(k, str) for k in keys) or \
                any(not isinstance(v, NDArray) for v in vals):
            raise TypeError("save only accept dict str->NDArray or list of NDArray")
        return vals, keys
    if isinstance(data, (list, tuple)):
        if any(not isinstance(v, NDArray) for v in data):
            raise TypeError("save only accept dict str->NDArray or list of NDArray")
        return list(data), None
    raise ValueError("data needs to either be a NDArray, dict of str, NDArray pairs "
                     "or a list of NDarrays.")


def _check_fname(fname):
    if not isinstance(fname, (str, bytes, os.PathLike)):
        raise TypeError("fname required to be a string")
    return fname


def save(fname, data):
    """Saves an NDArray, a list of NDArrays or a dict of str -> NDArray to `fname`, in Apache
    MXNet's format (mx.nd.load, and Apache MXNet's mx.nd.load, read it back).

    The file is replaced atomically: the bytes go to a temporary file in the same directory,
    which is synced and renamed over `fname`; if anything fails, an existing file is untouched.
    """
    arrays, names = _split(data)
    _core.ndarray_save(_check_fname(fname), arrays, names)


def load(fname):
    """Loads a file written by mx.nd.save (of mxnext or Apache MXNet 1.x, any record version).

    Returns a list of NDArrays, or a dict of str -> NDArray when the file has names.
    A corrupt file raises mx.FormatError, a missing one mx.MXNetIOError."""
    return _core.ndarray_load(_check_fname(fname))


def load_frombuffer(buf):
    """Like load, from the file's bytes (bytes, bytearray or any buffer)."""
    if isinstance(buf, str):
        raise TypeError("buf required to be bytes (or another buffer), not str")
    try:
        memoryview(buf)
    except TypeError:
        raise TypeError("buf required to be a string or bytes") from None
    return _core.ndarray_load_from_buffer(buf)


def _save_to_bytes(data):
    """The bytes save() would write (used by tests and the JS bridge's Python twin)."""
    arrays, names = _split(data)
    return _core.ndarray_save_to_buffer(arrays, names)
