"""Data iterators, as Apache MXNet's mx.io: DataDesc, DataBatch, DataIter, NDArrayIter,
PrefetchingIter (Python), and the core's iterators (ImageRecordIter, ImageRecordUInt8Iter,
MNISTIter, CSVIter: generated from the iterator registry)."""
from .io import (DataDesc, DataBatch, DataIter, NDArrayIter, PrefetchingIter, MXDataIter,
                 ResizeIter)
from ._iters import *  # noqa: F401,F403  generated: one function per core iterator
from ._iters import __all__ as _iter_names

__all__ = ["DataDesc", "DataBatch", "DataIter", "NDArrayIter", "PrefetchingIter", "MXDataIter",
           "ResizeIter"] + list(_iter_names)
