"""mx.kv: Apache MXNet's KVStore over the core's store (mxn_kvstore_*): local and device, and
dist_sync / dist_device_sync / dist_async across the processes of a job started with
``python -m mxnext.launch`` (MPI). set_optimizer keeps the optimizer's state in the core;
set_updater calls a Python function. A lost peer raises PeerLostError.

dist_async: every process is a worker and also serves a shard of the keys (MXNet's
placement: arrays under MXNET_KVSTORE_BIGARRAY_BOUND elements whole on one server by key
hash, larger ones split over all). A push is applied on the servers as soon as it arrives,
by the optimizer given to set_optimizer (sent as its name and typed parameters, never
pickled); a pull returns the servers' current weights, including every push this worker made
before it. init, set_optimizer and barrier are collective; after barrier() every push made
before it by any worker is applied. A process that finishes keeps serving its shard until
every process has finished (at exit)."""
from . import _core
from .ndarray import NDArray

__all__ = ["KVStore", "create"]


def _ctype_key_value(keys, vals):
    """(list of keys, list of per-key array lists) from MXNet's accepted forms."""
    if isinstance(keys, (tuple, list)):
        assert len(keys) == len(vals), "keys and values must have the same length"
        out_keys, out_vals = [], []
        for k, v in zip(keys, vals):
            ks, vs = _ctype_key_value(k, v)
            out_keys.extend(ks)
            out_vals.extend(vs)
        return out_keys, out_vals
    if not isinstance(keys, (int, str)):
        raise TypeError(f"keys are int or str, got {type(keys).__name__}")
    if isinstance(vals, NDArray):
        return [keys], [[vals]]
    vals = list(vals)
    for v in vals:
        if not isinstance(v, NDArray):
            raise TypeError(f"values must be NDArrays, got {type(v).__name__}")
    return [keys], [vals]


class KVStore:
    """A key-value store for data-parallel training (MXNet's mx.kv.KVStore)."""

    def __init__(self, handle):
        self.handle = handle
        self._updater = None
        self._optimizer = None

    @property
    def type(self):
        return self.handle.info()[0]

    @property
    def rank(self):
        return self.handle.info()[1]

    @property
    def num_workers(self):
        return self.handle.info()[2]

    def init(self, key, value):
        keys, vals = _ctype_key_value(key, value)
        self.handle.init(keys, [v[0] for v in vals])

    def push(self, key, value, priority=0):
        """Values for one key (a list: one per device) are summed, then updated or stored."""
        keys, vals = _ctype_key_value(key, value)
        self.handle._call(0, keys, vals, None, int(priority))

    def pull(self, key, out=None, priority=0, ignore_sparse=True):
        assert out is not None
        keys, outs = _ctype_key_value(key, out)
        self.handle._call(1, keys, outs, None, int(priority))

    def pushpull(self, key, value, out=None, priority=0):
        keys, vals = _ctype_key_value(key, value)
        if out is None:
            self.handle._call(2, keys, vals, None, int(priority))
        else:
            _, outs = _ctype_key_value(key, out)
            self.handle._call(2, keys, vals, outs, int(priority))

    def broadcast(self, key, value, out, priority=0):
        keys, vals = _ctype_key_value(key, value)
        _, outs = _ctype_key_value(key, out)
        self.handle._call(3, keys, [v[0] for v in vals], outs, int(priority))

    def row_sparse_pull(self, key, out=None, priority=0, row_ids=None):
        raise NotImplementedError("sparse arrays are not supported by mxnext")

    def is_capable(self, capability):
        return capability.lower() == "optimizer"

    def set_gradient_compression(self, compression_params):
        raise NotImplementedError("gradient compression needs the dist kvstore")

    def set_optimizer(self, optimizer):
        """Updates run on the store with this optimizer; its state stays in the core. On
        dist_async, rank 0's optimizer configures every server (collective: every worker
        calls it); later changes to the optimizer object do not reach the servers."""
        self.handle.set_optimizer(optimizer._handle)
        self._optimizer = optimizer
        self._updater = None

    def _set_updater(self, updater):
        """updater(key, grad, weight), called for every pushed key (not on dist_async: its
        updates run on the servers, with the optimizer given to set_optimizer)."""
        self.handle.set_updater(updater)
        self._updater = updater
        self._optimizer = None

    set_updater = _set_updater

    def save_optimizer_states(self, fname, dump_optimizer=False):
        """Writes the optimizer's states (the core's documented bytes, not a pickle). On
        dist_sync every worker holds the same states; dist_async keeps them on the servers
        and refuses (as MXNet does)."""
        if self._optimizer is None:
            raise ValueError("there is no optimizer: call set_optimizer first")
        data = self.handle.save_optimizer_states()
        with open(fname, "wb") as f:
            f.write(data)

    def load_optimizer_states(self, fname):
        if self._optimizer is None:
            raise ValueError("there is no optimizer: call set_optimizer first")
        with open(fname, "rb") as f:
            self.handle.load_optimizer_states(f.read())

    def barrier(self):
        """Blocks until every worker has reached it (dist); a local store returns at once.
        On dist_async it first waits until this worker's pushes are acknowledged, so after
        it every push made before it by any worker is applied."""
        self.handle.barrier()

    _barrier = barrier

    def _allreduce_int(self, values, op=0):
        """Sum (op 0), min (1) or max (2) of a list of ints across the workers."""
        return self.handle.allreduce_int64(list(values), int(op))

    def _bench_transport(self, count, iters):
        """Mean seconds of the transport's raw allreduce of `count` float32 (bench/dist.py)."""
        return self.handle.bench_transport(int(count), int(iters))

    def _send_command_to_servers(self, head, body):
        pass


def create(name="local"):
    """'local' (reduce on the CPU), 'device' (reduce on the device of each key),
    'dist_sync' / 'dist_device_sync' (also summed across the workers of a job started with
    python -m mxnext.launch, every worker applying the same update), or 'dist_async' (pushes
    applied by the servers as they arrive; see the module's docstring). The dist types need
    the MPI build (libmxnext_mpi.so)."""
    if not isinstance(name, str):
        raise TypeError("name must be a string")
    return KVStore(_core.kvstore_create(name))
