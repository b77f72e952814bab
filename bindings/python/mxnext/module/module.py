"""Module: a Symbol bound on one or several contexts (data parallelism: the batch is sliced
across the contexts, gradients are reduced through a KVStore, weights are kept identical)."""
import logging
import os
import warnings

import numpy as np

from .. import ndarray as nd
from .. import optimizer as opt
from ..context import Context, cpu
from ..initializer import InitDesc, Uniform
from ..io import DataDesc
from ..model import load_checkpoint
from .. import kvstore as kvs
from .base_module import BaseModule


def _split_input_slice(batch_size, work_load_list):
    total = sum(work_load_list)
    nums = [round(w * batch_size / total) for w in work_load_list]
    if sum(nums) < batch_size:
        nums[-1] += batch_size - sum(nums)
    slices, end = [], 0
    for n in nums:
        begin = int(min(end, batch_size))
        end = int(min(begin + n, batch_size))
        if begin >= end:
            raise ValueError("Too many slices. Some splits are empty.")
        slices.append(slice(begin, end))
    return slices


def _create_kvstore(kvstore, num_device, arg_params):
    update_on_kvstore = bool(int(os.getenv("MXNET_UPDATE_ON_KVSTORE", "1")))
    if kvstore is None:
        kv = None
    elif isinstance(kvstore, kvs.KVStore):
        kv = kvstore
    elif isinstance(kvstore, str):
        if num_device == 1 and "dist" not in kvstore:
            kv = None
        else:
            kv = kvs.create(kvstore)
            if kvstore == "local":
                max_size = max(int(np.prod(p.shape)) for p in arg_params) \
                    if arg_params else 0
                if max_size > 1024 * 1024 * 16:
                    update_on_kvstore = False
    else:
        raise TypeError("kvstore must be KVStore, str or None")
    if kv is None:
        update_on_kvstore = False
    else:
        update_on_kvstore &= kv.is_capable("optimizer")
    return kv, update_on_kvstore


def _desc(x):
    if isinstance(x, DataDesc):
        return x
    return DataDesc(x[0], tuple(x[1]))


class Module(BaseModule):
    """MXNet's Module(symbol, data_names, label_names, logger, context, work_load_list,
    fixed_param_names, state_names)."""

    def __init__(self, symbol, data_names=("data",), label_names=("softmax_label",),
                 logger=logging, context=None, work_load_list=None, fixed_param_names=None,
                 state_names=None, group2ctxs=None, compression_params=None):
        super().__init__(logger=logger)
        if context is None:
            context = cpu()
        if isinstance(context, Context):
            context = [context]
        self._context = list(context)
        if work_load_list is None:
            work_load_list = [1] * len(self._context)
        assert len(work_load_list) == len(self._context)
        self._work_load_list = work_load_list
        self._symbol = symbol
        data_names = list(data_names) if data_names is not None else []
        label_names = list(label_names) if label_names is not None else []
        state_names = list(state_names) if state_names is not None else []
        fixed_param_names = list(fixed_param_names) if fixed_param_names is not None else []
        arg_names = symbol.list_arguments()
        for n in data_names:
            if n not in arg_names:
                raise ValueError(f"You created Module with Module(..., data_names={data_names}) "
                                 f"but input with name '{n}' is not found in "
                                 f"symbol.list_arguments(). Did you mean one of:\n\t"
                                 + "\n\t".join(arg_names))
        for n in label_names:
            if n not in arg_names:
                warnings.warn(f"label name '{n}' is not an argument of the symbol")
        input_names = data_names + label_names + state_names
        self._param_names = [x for x in arg_names if x not in input_names]
        self._fixed_param_names = fixed_param_names
        self._aux_names = symbol.list_auxiliary_states()
        self._data_names = data_names
        self._label_names = label_names
        self._state_names = state_names
        self._output_names = symbol.list_outputs()
        self._arg_params = None
        self._aux_params = None
        self._params_dirty = False
        self._optimizer = None
        self._kvstore = None
        self._update_on_kvstore = None
        self._updater = None
        self._preload_opt_states = None
        self._grad_req = None
        self._execs = []
        self._bound_lists = None
        self._slices = []
        self._data_shapes = None
        self._label_shapes = None

    # ---- checkpoints ------------------------------------------------------------------------
    @staticmethod
    def load(prefix, epoch, load_optimizer_states=False, **kwargs):
        sym, args, auxs = load_checkpoint(prefix, epoch)
        mod = Module(symbol=sym, **kwargs)
        mod._arg_params = args
        mod._aux_params = auxs
        mod.params_initialized = True
        if load_optimizer_states:
            mod._preload_opt_states = "%s-%04d.states" % (prefix, epoch)
        return mod

    def save_checkpoint(self, prefix, epoch, save_optimizer_states=False, remove_amp_cast=True):
        self._symbol.save("%s-symbol.json" % prefix)
        param_name = "%s-%04d.params" % (prefix, epoch)
        self.save_params(param_name)
        logging.info('Saved checkpoint to "%s"', param_name)
        if save_optimizer_states:
            state_name = "%s-%04d.states" % (prefix, epoch)
            self.save_optimizer_states(state_name)
            logging.info('Saved optimizer state to "%s"', state_name)

    def save_params(self, fname):
        arg_params, aux_params = self.get_params()
        save_dict = {("arg:%s" % k): v.as_in_context(cpu()) for k, v in arg_params.items()}
        save_dict.update({("aux:%s" % k): v.as_in_context(cpu()) for k, v in aux_params.items()})
        nd.save(fname, save_dict)

    def load_params(self, fname):
        save_dict = nd.load(fname)
        arg_params, aux_params = {}, {}
        for k, value in save_dict.items():
            arg_type, name = k.split(":", 1)
            if arg_type == "arg":
                arg_params[name] = value
            elif arg_type == "aux":
                aux_params[name] = value
            else:
                raise ValueError("Invalid param file " + fname)
        self.set_params(arg_params, aux_params)

    # ---- properties -------------------------------------------------------------------------
    @property
    def data_names(self):
        return self._data_names

    @property
    def label_names(self):
        return self._label_names

    @property
    def output_names(self):
        return self._output_names

    @property
    def data_shapes(self):
        assert self.binded
        return self._data_shapes

    @property
    def label_shapes(self):
        assert self.binded
        return self._label_shapes

    @property
    def output_shapes(self):
        assert self.binded
        shapes = [o.shape for o in self._execs[0].outputs]
        bs = self._batch_size
        return [(n, (bs,) + tuple(s[1:])) for n, s in zip(self._output_names, shapes)]

    # Per parameter, its array in every context (lists made once per bind: update reads them
    # every step).
    def _bound(self):
        if self._bound_lists is None or self._bound_lists[0] != tuple(self._execs):
            self._bound_lists = (tuple(self._execs),
                                 [[e.arg_dict[n] for e in self._execs] for n in self._param_names],
                                 [[e.grad_dict.get(n) for e in self._execs]
                                  for n in self._param_names])
        return self._bound_lists

    @property
    def _param_arrays(self):
        return self._bound()[1]

    @property
    def _grad_arrays(self):
        return self._bound()[2]

    @property
    def _aux_arrays(self):
        return [[e.aux_dict[n] for e in self._execs] for n in self._aux_names]

    # ---- parameters -------------------------------------------------------------------------
    # Once bound, the parameters live only in the executors: unlike MXNet's Module, no host
    # copy of every weight is kept beside them (it costs the model's size again at peak).
    # get_params returns fresh snapshots (averaged over the contexts, as MXNet's are), which
    # later training does not change. Before bind (Module.load), _arg_params/_aux_params hold
    # the loaded values until bind hands them to the executors.
    def get_params(self):
        assert self.binded and self.params_initialized
        if self._arg_params is not None:  # pending values: the executors were not bound yet
            return (self._arg_params, self._aux_params)

        def avg(block):
            if len(block) == 1:
                return block[0].copy()
            acc = block[0].as_in_context(cpu())
            for w in block[1:]:
                acc = acc + w.as_in_context(cpu())
            return (acc / len(block)).astype(block[0].dtype)
        return ({n: avg(b) for n, b in zip(self._param_names, self._param_arrays)},
                {n: avg(b) for n, b in zip(self._aux_names, self._aux_arrays)})

    def _set_exec_params(self, arg_params, aux_params, allow_extra=False):
        for e in self._execs:
            e.copy_params_from(arg_params, aux_params, allow_extra_params=allow_extra)

    def init_params(self, initializer=Uniform(0.01), arg_params=None, aux_params=None,
                    allow_missing=False, force_init=False, allow_extra=False):
        if self.params_initialized and not force_init:
            warnings.warn("Parameters already initialized and force_init=False. "
                          "init_params call ignored.", stacklevel=2)
            return
        assert self.binded, "call bind before initializing the parameters"

        def _impl(name, arr, cache):
            if cache is not None:
                if name in cache:
                    cache_arr = cache[name]
                    if cache_arr is not arr:
                        cache_arr.copyto(arr)
                else:
                    if not allow_missing:
                        raise RuntimeError("%s is not presented" % name)
                    if initializer is not None:
                        initializer(name, arr)
            else:
                initializer(name, arr)

        # Initialise straight into the first context's arrays, in MXNet's (sorted) order so
        # random initialisers draw the same numbers, then copy to the other contexts.
        attrs = self._symbol.attr_dict()
        for names, blocks, given in ((self._param_names, self._param_arrays, arg_params),
                                     (self._aux_names, self._aux_arrays, aux_params)):
            for name, block in sorted(zip(names, blocks), key=lambda nb: nb[0]):
                _impl(InitDesc(name, attrs.get(name, None)), block[0], given)
                for other in block[1:]:
                    block[0].copyto(other)
        self.params_initialized = True
        self._params_dirty = False

    def set_params(self, arg_params, aux_params, allow_missing=False, force_init=True,
                   allow_extra=False):
        if not allow_missing:
            self.init_params(initializer=None, arg_params=arg_params, aux_params=aux_params,
                             allow_missing=allow_missing, force_init=force_init,
                             allow_extra=allow_extra)
            return
        if self.params_initialized and not force_init:
            warnings.warn("Parameters already initialized and force_init=False. "
                          "set_params call ignored.", stacklevel=2)
            return
        self._set_exec_params(arg_params, aux_params, allow_extra=allow_extra)
        self._params_dirty = True
        self.params_initialized = True

    # ---- binding ----------------------------------------------------------------------------
    def bind(self, data_shapes, label_shapes=None, for_training=True, inputs_need_grad=False,
             force_rebind=False, shared_module=None, grad_req="write"):
        if force_rebind:
            self.binded = False
            self._execs = []
        if self.binded:
            self.logger.warning("Already bound, ignoring bind()")
            return
        self.for_training = for_training
        self.inputs_need_grad = inputs_need_grad
        self._grad_req = grad_req
        data_shapes = [_desc(x) for x in data_shapes]
        arg_names = self._symbol.list_arguments()
        label_shapes = [_desc(x) for x in (label_shapes or []) if _desc(x).name in arg_names]
        self._data_shapes, self._label_shapes = data_shapes, label_shapes
        self._bind_execs(data_shapes, label_shapes)
        self.binded = True
        if shared_module is not None and shared_module.params_initialized:
            self._arg_params, self._aux_params = shared_module.get_params()
            self.params_initialized = True
        if self.params_initialized:
            self._set_exec_params(self._arg_params, self._aux_params)
            self._arg_params = self._aux_params = None  # the executors hold them now
        if shared_module is not None and shared_module.optimizer_initialized:
            self.borrow_optimizer(shared_module)

    def _bind_execs(self, data_shapes, label_shapes):
        self._batch_size = data_shapes[0].shape[0]
        self._slices = _split_input_slice(self._batch_size, self._work_load_list)
        reqs = {}
        for name in self._symbol.list_arguments():
            if name in self._param_names:
                reqs[name] = "null" if (not self.for_training or
                                        name in self._fixed_param_names) else self._grad_req
            elif name in self._data_names:
                reqs[name] = self._grad_req if self.inputs_need_grad else "null"
            else:
                reqs[name] = "null"
        type_dict = {d.name: d.dtype for d in data_shapes + label_shapes}
        old = self._execs
        self._execs = []
        for i, (ctx, sl) in enumerate(zip(self._context, self._slices)):
            n = sl.stop - sl.start
            shapes = {d.name: (n,) + tuple(d.shape[1:]) for d in data_shapes + label_shapes}
            exe = self._symbol.simple_bind(ctx, grad_req=reqs, type_dict=type_dict, **shapes)
            if old:  # keep the parameters of a reshape
                for name in self._param_names:
                    old[i].arg_dict[name].copyto(exe.arg_dict[name])
                for name in self._aux_names:
                    old[i].aux_dict[name].copyto(exe.aux_dict[name])
            self._execs.append(exe)

    def reshape(self, data_shapes, label_shapes=None):
        assert self.binded
        data_shapes = [_desc(x) for x in data_shapes]
        arg_names = self._symbol.list_arguments()
        label_shapes = [_desc(x) for x in (label_shapes or []) if _desc(x).name in arg_names]
        self._data_shapes, self._label_shapes = data_shapes, label_shapes
        self._bind_execs(data_shapes, label_shapes)
        if self._kvstore is None and self._updater is None:
            return

    # ---- optimizer --------------------------------------------------------------------------
    def init_optimizer(self, kvstore="local", optimizer="sgd",
                       optimizer_params=(("learning_rate", 0.01),), force_init=False):
        assert self.binded and self.params_initialized
        if self.optimizer_initialized and not force_init:
            self.logger.warning("optimizer already initialized, ignoring...")
            return
        kvstore, update_on_kvstore = _create_kvstore(
            kvstore, len(self._context), [block[0] for block in self._param_arrays])
        batch_size = self._batch_size
        if kvstore and "dist" in kvstore.type and "_sync" in kvstore.type:
            batch_size *= kvstore.num_workers
        rescale_grad = 1.0 / batch_size
        idx2name = {}
        if update_on_kvstore:
            idx2name.update(enumerate(self._param_names))
        else:
            for k in range(len(self._context)):
                idx2name.update({i * len(self._context) + k: n
                                 for i, n in enumerate(self._param_names)})
        if isinstance(optimizer, str):
            optimizer_params = dict(optimizer_params)
            if "rescale_grad" not in optimizer_params:
                optimizer_params["rescale_grad"] = rescale_grad
            optimizer = opt.create(optimizer, sym=self.symbol, param_idx2name=idx2name,
                                   **optimizer_params)
        else:
            assert isinstance(optimizer, opt.Optimizer)
            if optimizer.rescale_grad != rescale_grad:
                warnings.warn(
                    "Optimizer created manually outside Module but rescale_grad is not "
                    "normalized to 1.0/batch_size/num_workers (%s vs. %s). Is this intended?"
                    % (optimizer.rescale_grad, rescale_grad), stacklevel=2)
            if not optimizer.idx2name:
                for i, n in idx2name.items():
                    optimizer._handle.set_param_name(i, n)
                optimizer.idx2name.update(idx2name)
                optimizer.set_wd_mult(optimizer.wd_mult)
        self._optimizer = optimizer
        self._kvstore = kvstore
        self._update_on_kvstore = update_on_kvstore
        self._updater = None
        if kvstore:
            if update_on_kvstore:
                kvstore.set_optimizer(self._optimizer)
            for idx, name in enumerate(self._param_names):
                first = self._param_arrays[idx][0]  # the contexts hold equal values
                if not update_on_kvstore:
                    kvstore.init(name, first)
                else:
                    kvstore.broadcast(name, first, out=self._param_arrays[idx], priority=-idx)
        if not update_on_kvstore:
            self._updater = opt.get_updater(optimizer)
        self.optimizer_initialized = True
        if self._preload_opt_states is not None:
            self.load_optimizer_states(self._preload_opt_states)
            self._preload_opt_states = None

    def borrow_optimizer(self, shared_module):
        assert shared_module.optimizer_initialized
        self._optimizer = shared_module._optimizer
        self._kvstore = shared_module._kvstore
        self._update_on_kvstore = shared_module._update_on_kvstore
        self._updater = shared_module._updater
        self.optimizer_initialized = True

    # ---- computation ------------------------------------------------------------------------
    def _load(self, arrays, names, exe_dicts):
        for name, arr in zip(names, arrays):
            for exe, sl in zip(self._execs, self._slices):
                target = exe.arg_dict.get(name)
                if target is None:
                    continue
                if not isinstance(arr, nd.NDArray):
                    arr = nd.array(arr)
                src = arr if (sl.start == 0 and sl.stop == arr.shape[0]) else \
                    arr[sl.start:sl.stop]
                src.copyto(target)

    def forward(self, data_batch, is_train=None):
        assert self.binded and self.params_initialized
        if is_train is None:
            is_train = self.for_training
        data = list(data_batch.data)
        shapes = [tuple(d.shape) for d in data]
        if shapes[0][0] != self._batch_size or any(
                tuple(s) != tuple(d.shape) for s, d in zip(shapes, self._data_shapes)):
            new_data = [DataDesc(d.name, s, d.dtype, d.layout)
                        for d, s in zip(self._data_shapes, shapes)]
            new_label = None
            if data_batch.label and self._label_shapes:
                new_label = [DataDesc(d.name, tuple(l.shape), d.dtype, d.layout)
                             for d, l in zip(self._label_shapes, data_batch.label)]
            self.reshape(new_data, new_label)
        self._load(data, self._data_names, None)
        if data_batch.label is not None and self._label_shapes:
            self._load(list(data_batch.label)[:len(self._label_names)], self._label_names, None)
        for exe in self._execs:
            exe.forward(is_train=is_train)

    def backward(self, out_grads=None):
        assert self.binded and self.params_initialized
        for i, (exe, sl) in enumerate(zip(self._execs, self._slices)):
            if out_grads is None:
                exe.backward()
            else:
                grads = [g[sl.start:sl.stop].as_in_context(self._context[i]) for g in out_grads]
                exe.backward(out_grads=grads)

    def update(self):
        assert self.binded and self.params_initialized and self.optimizer_initialized
        self._params_dirty = True
        params, grads = self._param_arrays, self._grad_arrays
        if self._update_on_kvstore:
            for index, (arg_list, grad_list) in enumerate(zip(params, grads)):
                if grad_list[0] is None:
                    continue
                name = self._param_names[index]
                self._kvstore.pushpull(name, grad_list, out=arg_list, priority=-index)
            return
        num_device = len(self._context)
        for index, (arg_list, grad_list) in enumerate(zip(params, grads)):
            if grad_list[0] is None:
                continue
            if self._kvstore:
                name = self._param_names[index]
                self._kvstore.pushpull(name, grad_list, out=grad_list, priority=-index)
            for k, (w, g) in enumerate(zip(arg_list, grad_list)):
                self._updater(index * num_device + k, g, w)

    def _join_step(self):
        """A step with zero gradients: a dist_sync worker without a batch takes part in the
        others' allreduce (base_module.fit), so the sums and the updates stay identical."""
        for grad_list in self._grad_arrays:
            for g in grad_list:
                if g is not None:
                    g[:] = 0
        self.update()

    def get_outputs(self, merge_multi_context=True):
        assert self.binded and self.params_initialized
        outs = [exe.outputs for exe in self._execs]
        if len(outs) == 1:
            return list(outs[0]) if merge_multi_context else [[o] for o in outs[0]]
        per_output = [[o[i] for o in outs] for i in range(len(outs[0]))]
        if not merge_multi_context:
            return per_output
        return [nd.concatenate([x.as_in_context(self._context[0]) for x in group])
                for group in per_output]

    def get_input_grads(self, merge_multi_context=True):
        assert self.inputs_need_grad
        grads = [[exe.grad_dict[n] for exe in self._execs] for n in self._data_names]
        if not merge_multi_context:
            return grads
        return [g[0] if len(g) == 1 else nd.concatenate(g) for g in grads]

    def update_metric(self, eval_metric, labels, pre_sliced=False):
        for i, (exe, sl) in enumerate(zip(self._execs, self._slices)):
            if pre_sliced:
                labels_slice = labels[i]
            elif len(self._execs) == 1:
                labels_slice = list(labels or [])
            else:
                labels_slice = [l[sl.start:sl.stop] for l in (labels or [])]
            label_dict = dict(zip(self._label_names, labels_slice))
            preds = dict(zip(self._output_names, exe.outputs))
            eval_metric.update_dict(label_dict, preds)

    def install_monitor(self, mon):
        raise NotImplementedError("Monitor is not available in mxnext yet")

    # ---- optimizer states -------------------------------------------------------------------
    def save_optimizer_states(self, fname):
        assert self.optimizer_initialized
        if self._update_on_kvstore:
            self._kvstore.save_optimizer_states(fname)
        else:
            with open(fname, "wb") as fout:
                fout.write(self._updater.get_states())

    def load_optimizer_states(self, fname):
        assert self.optimizer_initialized
        if self._update_on_kvstore:
            self._kvstore.load_optimizer_states(fname)
        else:
            with open(fname, "rb") as f:
                self._updater.set_states(f.read())
