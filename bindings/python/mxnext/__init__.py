"""mxnext: Apache MXNet 1.x's programming model on a modern core.

    import mxnext as mx
    a = mx.nd.ones((2, 3))
    print((a * 2).asnumpy())
"""
from . import _core

if _core.abi_version() // 10000 != _core.compiled_abi_version() // 10000:
    raise ImportError(
        f"libmxnext ABI {_core.abi_version()} does not match the binding's "
        f"{_core.compiled_abi_version()} (major versions differ)")

from .base import (MXNetError, InvalidArgumentError, ShapeError, DTypeError, OutOfMemoryError,
                   MXNetIOError, FormatError, DeviceError, NotImplementedMXNetError,
                   PeerLostError, MXNetTimeoutError, MXNetInterruptedError, InternalError)
from .context import Context, cpu, gpu, cpu_pinned, current_context, num_gpus
from . import context
from . import ndarray
from . import ndarray as nd
from . import random
from . import autograd
from . import attribute
from .attribute import AttrScope
from . import symbol
from . import symbol as sym
from . import executor
from . import visualization
from . import visualization as viz
from . import engine
from . import model
from . import recordio
from . import io
from . import lr_scheduler
from . import optimizer
from . import initializer
from . import initializer as init
from . import metric
from . import kvstore
from . import kvstore as kv
from . import callback
from . import module
from . import module as mod

__version__ = _core.version_string()
