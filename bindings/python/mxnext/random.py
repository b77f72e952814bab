"""Random numbers on the counter-based (Philox) generator of the core: the same seed gives the
same numbers on any number of threads and in every language."""
from . import _core
from .ndarray import _ops

__all__ = ["seed", "uniform", "normal"]


def seed(seed_state):
    """Seeds the generator (an int >= 0)."""
    if int(seed_state) < 0:
        raise ValueError(f"seed must be >= 0, got {seed_state}")
    _core.random_seed(int(seed_state))


def uniform(low=0.0, high=1.0, shape=(1,), dtype="float32", ctx=None, out=None):
    return _ops._random_uniform(low=low, high=high, shape=shape, dtype=dtype, ctx=ctx, out=out)


def normal(loc=0.0, scale=1.0, shape=(1,), dtype="float32", ctx=None, out=None):
    return _ops._random_normal(loc=loc, scale=scale, shape=shape, dtype=dtype, ctx=ctx, out=out)
