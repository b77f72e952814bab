"""The dependency engine and the host memory pool, as seen from Python."""
from . import _core

__all__ = ["info", "memory_stats", "release_cached_memory", "set_memory_limit"]


def info():
    """(engine name, worker count): ('threaded', n) or ('naive', 0); set by MXNEXT_ENGINE and
    MXNEXT_CPU_WORKERS before import."""
    return _core.engine_info()


def memory_stats(ctx=None):
    """Pool statistics of a device: live, peak and cached bytes, allocations, limit."""
    t, i = (1, 0) if ctx is None else (ctx.device_typeid, ctx.device_id)
    return _core.memory_stats(t, i)


def release_cached_memory(ctx=None):
    t, i = (1, 0) if ctx is None else (ctx.device_typeid, ctx.device_id)
    _core.memory_release_cached(t, i)


def set_memory_limit(limit_bytes, ctx=None):
    """Caps the pool of a device (0 = no cap): beyond it, allocation raises OutOfMemoryError."""
    t, i = (1, 0) if ctx is None else (ctx.device_typeid, ctx.device_id)
    _core.memory_set_limit(int(limit_bytes), t, i)
