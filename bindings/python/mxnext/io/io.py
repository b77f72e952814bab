"""mx.io's Python part: the data descriptors, the DataIter protocol, NDArrayIter and
PrefetchingIter (pure Python, MXNet's semantics), and MXDataIter, which wraps an iterator of
the core (created by the generated functions in _iters.py)."""
import threading
from collections import OrderedDict, namedtuple

import numpy as np

from .. import _core
from ..base import MXNetError  # noqa: F401  (re-exported for MXNet compatibility)
from ..ndarray import NDArray
from ..ndarray import array as _nd_array

_DTYPE_NAMES = {0: np.float32, 1: np.float64, 2: np.float16, 3: np.uint8, 4: np.int32,
                5: np.int8, 6: np.int64, 7: np.bool_}


class DataDesc(namedtuple("DataDesc", ["name", "shape"])):
    """Name, shape, dtype and layout of one input of a batch."""

    def __new__(cls, name, shape, dtype=np.float32, layout="NCHW"):
        ret = super(cls, DataDesc).__new__(cls, name, shape)
        ret.dtype = dtype
        ret.layout = layout
        return ret

    def __repr__(self):
        return "DataDesc[%s,%s,%s,%s]" % (self.name, self.shape, self.dtype, self.layout)

    @staticmethod
    def get_batch_axis(layout):
        if layout is None:
            return 0
        return layout.find("N")

    @staticmethod
    def get_list(shapes, types):
        if types is not None:
            type_dict = dict(types)
            return [DataDesc(x[0], x[1], type_dict[x[0]]) for x in shapes]
        return [DataDesc(x[0], x[1]) for x in shapes]


class DataBatch(object):
    """A batch: lists of data and label arrays, the padding count and the sample indices."""

    def __init__(self, data, label=None, pad=None, index=None, bucket_key=None,
                 provide_data=None, provide_label=None):
        if data is not None:
            assert isinstance(data, (list, tuple)), "Data must be list of NDArrays"
        if label is not None:
            assert isinstance(label, (list, tuple)), "Label must be list of NDArrays"
        self.data = data
        self.label = label
        self.pad = pad
        self.index = index
        self.bucket_key = bucket_key
        self.provide_data = provide_data
        self.provide_label = provide_label

    def __str__(self):
        data_shapes = [d.shape for d in self.data]
        label_shapes = [l.shape for l in self.label] if self.label else None
        return "{}: data shapes: {} label shapes: {}".format(
            self.__class__.__name__, data_shapes, label_shapes)


class DataIter(object):
    """The iterator protocol of MXNet: reset, next (or iter_next + getdata/getlabel/...)."""

    def __init__(self, batch_size=0):
        self.batch_size = batch_size

    def __iter__(self):
        return self

    def reset(self):
        pass

    def next(self):
        if self.iter_next():
            return DataBatch(data=self.getdata(), label=self.getlabel(), pad=self.getpad(),
                             index=self.getindex())
        raise StopIteration

    def __next__(self):
        return self.next()

    def iter_next(self):
        pass

    def getdata(self):
        pass

    def getlabel(self):
        pass

    def getindex(self):
        return None

    def getpad(self):
        pass


class ResizeIter(DataIter):
    """Makes an iterator yield exactly `size` batches per epoch (resetting it as needed)."""

    def __init__(self, data_iter, size, reset_internal=True):
        super(ResizeIter, self).__init__()
        self.data_iter = data_iter
        self.size = size
        self.reset_internal = reset_internal
        self.cur = 0
        self.current_batch = None
        self.provide_data = data_iter.provide_data
        self.provide_label = data_iter.provide_label
        self.batch_size = data_iter.batch_size
        if hasattr(data_iter, "default_bucket_key"):
            self.default_bucket_key = data_iter.default_bucket_key

    def reset(self):
        self.cur = 0
        if self.reset_internal:
            self.data_iter.reset()

    def iter_next(self):
        if self.cur == self.size:
            return False
        try:
            self.current_batch = self.data_iter.next()
        except StopIteration:
            self.data_iter.reset()
            self.current_batch = self.data_iter.next()
        self.cur += 1
        return True

    def getdata(self):
        return self.current_batch.data

    def getlabel(self):
        return self.current_batch.label

    def getindex(self):
        return self.current_batch.index

    def getpad(self):
        return self.current_batch.pad


def _init_data(data, allow_empty, default_name):
    """Normalises data/label arguments to a sorted list of (name, numpy array)."""
    assert (data is not None) or allow_empty
    if data is None:
        data = []
    if isinstance(data, (np.ndarray, NDArray)):
        data = [data]
    if isinstance(data, list):
        if not allow_empty:
            assert len(data) > 0
        if len(data) == 1:
            data = OrderedDict([(default_name, data[0])])
        else:
            data = OrderedDict([("_%d_%s" % (i, default_name), d) for i, d in enumerate(data)])
    if not isinstance(data, dict):
        raise TypeError("Input must be NDArray, numpy.ndarray, a list of them or dict with "
                        "them as values")
    out = []
    for k, v in data.items():
        if isinstance(v, NDArray):
            out.append((k, v.asnumpy()))
        else:
            try:
                out.append((k, np.asarray(v, dtype=np.float32)))
            except Exception:
                raise TypeError(("Invalid type '%s' for %s, should be NDArray or numpy.ndarray")
                                % (type(v), k)) from None
    return list(sorted(out, key=lambda kv: kv[0]))


class NDArrayIter(DataIter):
    """Batches of in-memory arrays (NumPy or NDArray), as MXNet's NDArrayIter.

    last_batch_handle: 'pad' fills the last batch from the start (pad says how many),
    'discard' drops it, 'roll_over' keeps it for the first batch of the next epoch."""

    def __init__(self, data, label=None, batch_size=1, shuffle=False, last_batch_handle="pad",
                 data_name="data", label_name="softmax_label"):
        super(NDArrayIter, self).__init__(batch_size)
        self.data = _init_data(data, allow_empty=False, default_name=data_name)
        self.label = _init_data(label, allow_empty=True, default_name=label_name)
        if last_batch_handle not in ("pad", "discard", "roll_over"):
            raise ValueError("last_batch_handle must be 'pad', 'discard' or 'roll_over', got %r"
                             % (last_batch_handle,))
        self.idx = np.arange(self.data[0][1].shape[0])
        for k, v in self.data + self.label:
            if v.shape[0] != self.idx.shape[0]:
                raise ValueError("%s has %d samples, %s has %d" % (
                    self.data[0][0], self.idx.shape[0], k, v.shape[0]))
        self.shuffle = shuffle
        self.last_batch_handle = last_batch_handle
        self.batch_size = batch_size
        self.cursor = -self.batch_size
        self.num_data = self.idx.shape[0]
        self.reset()
        self.data_list = [x[1] for x in self.data] + [x[1] for x in self.label]
        self.num_source = len(self.data_list)
        self._cache_data = None
        self._cache_label = None

    @property
    def provide_data(self):
        return [DataDesc(k, tuple([self.batch_size] + list(v.shape[1:])), v.dtype)
                for k, v in self.data]

    @property
    def provide_label(self):
        return [DataDesc(k, tuple([self.batch_size] + list(v.shape[1:])), v.dtype)
                for k, v in self.label]

    def hard_reset(self):
        if self.shuffle:
            self._shuffle_data()
        self.cursor = -self.batch_size
        self._cache_data = None
        self._cache_label = None

    def reset(self):
        if self.shuffle:
            self._shuffle_data()
        if (self.last_batch_handle == "roll_over"
                and self.num_data - self.batch_size < self.cursor < self.num_data):
            self.cursor = self.cursor - self.num_data - self.batch_size
        else:
            self.cursor = -self.batch_size

    def iter_next(self):
        self.cursor += self.batch_size
        return self.cursor < self.num_data

    def next(self):
        if not self.iter_next():
            raise StopIteration
        data = self.getdata()
        label = self.getlabel()
        if data[0].shape[0] != self.batch_size:
            self._cache_data = data
            self._cache_label = label
            raise StopIteration
        return DataBatch(data=data, label=label, pad=self.getpad(), index=None)

    def _getdata(self, data_source, start=None, end=None):
        assert start is not None or end is not None, "should at least specify start or end"
        start = start if start is not None else 0
        if end is None:
            end = data_source[0][1].shape[0] if data_source else 0
        return [x[1][start:end] for x in data_source]

    def _batchify(self, data_source):
        assert self.cursor < self.num_data, "DataIter needs reset."
        if self.last_batch_handle == "roll_over" and -self.batch_size < self.cursor < 0:
            assert self._cache_data is not None or self._cache_label is not None, \
                "next epoch should have cached data"
            cache = self._cache_data if self._cache_data is not None else self._cache_label
            second = self._getdata(data_source, end=self.cursor + self.batch_size)
            if self._cache_data is not None:
                self._cache_data = None
            else:
                self._cache_label = None
            return [np.concatenate([c, s], axis=0) for c, s in zip(cache, second)]
        if self.last_batch_handle == "pad" and self.cursor + self.batch_size > self.num_data:
            pad = self.batch_size - self.num_data + self.cursor
            first = self._getdata(data_source, start=self.cursor)
            second = self._getdata(data_source, end=pad)
            return [np.concatenate([f, s], axis=0) for f, s in zip(first, second)]
        end_idx = min(self.cursor + self.batch_size, self.num_data)
        return self._getdata(data_source, self.cursor, end_idx)

    def getdata(self):
        return [_nd_array(x, dtype=x.dtype) for x in self._batchify(self.data)]

    def getlabel(self):
        return [_nd_array(x, dtype=x.dtype) for x in self._batchify(self.label)]

    def getpad(self):
        if self.last_batch_handle == "pad" and self.cursor + self.batch_size > self.num_data:
            return self.cursor + self.batch_size - self.num_data
        if self.last_batch_handle == "roll_over" and -self.batch_size < self.cursor < 0:
            return -self.cursor
        return 0

    def _shuffle_data(self):
        np.random.shuffle(self.idx)
        self.data = [(k, v[self.idx]) for k, v in self.data]
        self.label = [(k, v[self.idx]) for k, v in self.label]


class PrefetchingIter(DataIter):
    """Runs one or more iterators on background threads, one batch ahead; their batches are
    joined (data lists and label lists concatenated). An error in an iterator is raised by
    the next call to next()."""

    def __init__(self, iters, rename_data=None, rename_label=None):
        super(PrefetchingIter, self).__init__()
        if not isinstance(iters, list):
            iters = [iters]
        self.n_iter = len(iters)
        assert self.n_iter > 0
        self.iters = iters
        self.rename_data = rename_data
        self.rename_label = rename_label
        self.batch_size = self.provide_data[0][1][0]
        self.data_ready = [threading.Event() for _ in range(self.n_iter)]
        self.data_taken = [threading.Event() for _ in range(self.n_iter)]
        for e in self.data_taken:
            e.set()
        self.started = True
        self.current_batch = None
        self.next_batch = [None for _ in range(self.n_iter)]
        self.next_error = [None for _ in range(self.n_iter)]

        def prefetch_func(self, i):
            while True:
                self.data_taken[i].wait()
                if not self.started:
                    break
                try:
                    self.next_batch[i] = self.iters[i].next()
                    self.next_error[i] = None
                except StopIteration:
                    self.next_batch[i] = None
                    self.next_error[i] = None
                except Exception as e:  # noqa: BLE001 - handed to the consumer
                    self.next_batch[i] = None
                    self.next_error[i] = e
                self.data_taken[i].clear()
                self.data_ready[i].set()

        self.prefetch_threads = [threading.Thread(target=prefetch_func, args=[self, i],
                                                  daemon=True) for i in range(self.n_iter)]
        for t in self.prefetch_threads:
            t.start()

    def close(self):
        if not getattr(self, "started", False):
            return
        self.started = False
        for e in self.data_taken:
            e.set()
        for t in self.prefetch_threads:
            t.join()

    def __del__(self):
        self.close()

    def _renamed(self, which, renames):
        descs = [getattr(i, which) for i in self.iters]
        if renames is None:
            return sum(descs, [])
        return sum([[DataDesc(r[x.name], x.shape, x.dtype) if isinstance(x, DataDesc)
                     else DataDesc(*x) for x in d] for r, d in zip(renames, descs)], [])

    @property
    def provide_data(self):
        return self._renamed("provide_data", self.rename_data)

    @property
    def provide_label(self):
        return self._renamed("provide_label", self.rename_label)

    def reset(self):
        for e in self.data_ready:
            e.wait()
        for i in self.iters:
            i.reset()
        for e in self.data_ready:
            e.clear()
        for e in self.data_taken:
            e.set()

    def iter_next(self):
        for e in self.data_ready:
            e.wait()
        for k, err in enumerate(self.next_error):
            if err is not None:
                self.next_error[k] = None
                self.data_ready[k].clear()
                self.data_taken[k].set()  # the iterator stays usable, as the core's are
                raise err
        if self.next_batch[0] is None:
            for b in self.next_batch:
                assert b is None, "Number of entry mismatches between iterators"
            return False
        for b in self.next_batch:
            assert b.pad == self.next_batch[0].pad, \
                "Number of entry mismatches between iterators"
        self.current_batch = DataBatch(
            sum([b.data for b in self.next_batch], []),
            sum([b.label for b in self.next_batch], []),
            self.next_batch[0].pad, self.next_batch[0].index,
            provide_data=self.provide_data, provide_label=self.provide_label)
        for e in self.data_ready:
            e.clear()
        for e in self.data_taken:
            e.set()
        return True

    def next(self):
        if self.iter_next():
            return self.current_batch
        raise StopIteration

    def getdata(self):
        return self.current_batch.data

    def getlabel(self):
        return self.current_batch.label

    def getindex(self):
        return self.current_batch.index

    def getpad(self):
        return self.current_batch.pad


class MXDataIter(DataIter):
    """An iterator of the core (ImageRecordIter, MNISTIter, ...), made by the generated
    functions of mx.io. Decoding and prefetching run on the core's threads."""

    def __init__(self, handle, data_name="data", label_name="softmax_label"):
        super(MXDataIter, self).__init__()
        self.handle = handle
        self.data_name = data_name
        self.label_name = label_name
        dshape, dtype = _core.dataiter_batch_shape(handle, 0)
        lshape, ltype = _core.dataiter_batch_shape(handle, 1)
        self.provide_data = [DataDesc(data_name, dshape, _DTYPE_NAMES[dtype])]
        self.provide_label = [DataDesc(label_name, lshape, _DTYPE_NAMES[ltype])]
        self.batch_size = dshape[0]
        self._batch = None

    def reset(self):
        self._batch = None
        _core.dataiter_reset(self.handle)

    def iter_next(self):
        self._batch = None
        if not _core.dataiter_next(self.handle):
            return False
        self._batch = _core.dataiter_batch(self.handle)
        return True

    def next(self):
        if self.iter_next():
            data, label, index, pad = self._batch
            return DataBatch(data=[data], label=[label], pad=pad,
                             index=index.asnumpy().astype(np.uint64),
                             provide_data=self.provide_data, provide_label=self.provide_label)
        raise StopIteration

    def getdata(self):
        return [self._batch[0]]

    def getlabel(self):
        return [self._batch[1]]

    def getindex(self):
        return self._batch[2].asnumpy().astype(np.uint64)

    def getpad(self):
        return self._batch[3]


def _create(name, keys, types, values, data_name, label_name):
    """Creates a core iterator (the generated functions of _iters.py call this)."""
    return MXDataIter(_core.dataiter_create(name, keys, types, tuple(values)),
                      data_name=data_name, label_name=label_name)
