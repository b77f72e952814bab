"""mx.model: Apache MXNet's checkpoint files.

A checkpoint is `prefix-symbol.json` (the network, MXNet's symbol JSON) plus
`prefix-%04d.params` (an NDArray file whose names are `arg:<name>` for arguments and
`aux:<name>` for auxiliary states), exactly as Apache MXNet 1.x and Gluon's `export()` write
them, so checkpoints move between the two in both directions."""
import logging

from . import ndarray as nd
from .base import FormatError
from .context import cpu

__all__ = ["save_checkpoint", "load_checkpoint", "load_params", "FeedForward", "BatchEndParam"]


def _params_name(prefix, epoch):
    return "%s-%04d.params" % (prefix, epoch)


def _format_error(message):
    err = FormatError(message)
    err.code = 6
    err.kind = "FormatError"
    return err


def save_checkpoint(prefix, epoch, symbol, arg_params, aux_params, remove_amp_cast=True):
    """Saves a checkpoint: `symbol.save(prefix-symbol.json)` (skipped when symbol is None) and
    the parameters to `prefix-%04d.params` (epoch with four digits) as `arg:`/`aux:` names.

    Each file is written atomically (a failure leaves an existing file untouched).
    remove_amp_cast is accepted for Apache MXNet compatibility (mxnext inserts no AMP casts).
    """
    del remove_amp_cast
    if symbol is not None:
        symbol.save("%s-symbol.json" % prefix)
    save_dict = {("arg:%s" % k): v.as_in_context(cpu()) for k, v in arg_params.items()}
    save_dict.update({("aux:%s" % k): v.as_in_context(cpu()) for k, v in aux_params.items()})
    param_name = _params_name(prefix, epoch)
    nd.save(param_name, save_dict)
    logging.info('Saved checkpoint to "%s"', param_name)


def load_params(prefix, epoch):
    """Loads `prefix-%04d.params`; returns (arg_params, aux_params), dicts of name -> NDArray.

    Names with another prefix than `arg:`/`aux:` are skipped, as Apache MXNet does. A file
    without names, or a name without a `type:` prefix, is not a checkpoint: mx.FormatError."""
    fname = _params_name(prefix, epoch)
    save_dict = nd.load(fname)
    arg_params = {}
    aux_params = {}
    if not save_dict:
        logging.warning("Params file '%s' is empty", fname)
        return (arg_params, aux_params)
    if not isinstance(save_dict, dict):
        raise _format_error(
            f"'{fname}' holds an unnamed list of {len(save_dict)} arrays, not checkpoint "
            "parameters (names 'arg:<name>' / 'aux:<name>')")
    for k, v in save_dict.items():
        tp, sep, name = k.partition(":")
        if not sep:
            raise _format_error(
                f"'{fname}': parameter name {k!r} has no 'arg:' or 'aux:' prefix (is it a "
                "Gluon save_parameters file? load those with mx.nd.load)")
        if tp == "arg":
            arg_params[name] = v
        elif tp == "aux":
            aux_params[name] = v
    return (arg_params, aux_params)


def load_checkpoint(prefix, epoch):
    """Loads a checkpoint: (symbol, arg_params, aux_params), the symbol through
    `mx.sym.load(prefix-symbol.json)`, the parameters through load_params."""
    from . import symbol as sym  # the symbol package imports the operators: load it lazily
    symbol = sym.load("%s-symbol.json" % prefix)
    arg_params, aux_params = load_params(prefix, epoch)
    return (symbol, arg_params, aux_params)


# ---- FeedForward (MXNet's mx.model.FeedForward, run by a Module) ---------------------------------
from collections import namedtuple as _namedtuple  # noqa: E402

BatchEndParam = _namedtuple("BatchEndParams", ["epoch", "nbatch", "eval_metric", "locals"])


def _init_iter(X, y, batch_size, shuffle):
    import numpy as np
    from .io import DataIter, NDArrayIter
    if isinstance(X, DataIter):
        return X
    if isinstance(X, (np.ndarray, nd.NDArray)):
        if y is None:
            y = np.zeros(X.shape[0], dtype=np.float32)
        return NDArrayIter(X, y, min(X.shape[0], batch_size), shuffle=shuffle,
                           last_batch_handle="roll_over" if shuffle else "pad")
    raise TypeError("X must be a DataIter, a NumPy array or an NDArray")


class FeedForward:
    """MXNet's FeedForward(symbol, ctx, num_epoch, epoch_size, optimizer, initializer,
    numpy_batch_size, arg_params, aux_params, allow_extra_params, begin_epoch, **kwargs);
    kwargs are the optimizer's parameters (learning_rate, momentum, wd, ...)."""

    def __init__(self, symbol, ctx=None, num_epoch=None, epoch_size=None, optimizer="sgd",
                 initializer=None, numpy_batch_size=128, arg_params=None, aux_params=None,
                 allow_extra_params=False, begin_epoch=0, **kwargs):
        from .initializer import Uniform
        from .context import Context
        self.symbol = symbol
        if ctx is None:
            ctx = [cpu()]
        elif isinstance(ctx, Context):
            ctx = [ctx]
        self.ctx = list(ctx)
        self.num_epoch = num_epoch
        self.epoch_size = epoch_size
        self.optimizer = optimizer
        self.initializer = initializer if initializer is not None else Uniform(0.01)
        self.numpy_batch_size = numpy_batch_size
        self.arg_params = arg_params
        self.aux_params = aux_params
        self.allow_extra_params = allow_extra_params
        self.begin_epoch = begin_epoch
        self.kwargs = kwargs.copy()
        self._module = None

    def _make_module(self, data_iter, for_training, logger=None, work_load_list=None):
        from .module import Module
        data_names = [d[0] for d in data_iter.provide_data]
        label_names = [l[0] for l in (data_iter.provide_label or [])
                       if l[0] in self.symbol.list_arguments()]
        return Module(self.symbol, data_names=data_names, label_names=label_names,
                      context=self.ctx, logger=logger or logging,
                      work_load_list=work_load_list)

    def fit(self, X, y=None, eval_data=None, eval_metric="acc", epoch_end_callback=None,
            batch_end_callback=None, kvstore="local", logger=None, work_load_list=None,
            monitor=None, eval_end_callback=None, eval_batch_end_callback=None):
        data = _init_iter(X, y, self.numpy_batch_size, shuffle=True)
        if isinstance(eval_data, tuple) and len(eval_data) == 2:
            eval_data = _init_iter(eval_data[0], eval_data[1], self.numpy_batch_size, False)
        mod = self._make_module(data, True, logger, work_load_list)
        self._module = mod
        optimizer_params = dict(self.kwargs)
        mod.fit(data, eval_data=eval_data, eval_metric=eval_metric,
                epoch_end_callback=epoch_end_callback, batch_end_callback=batch_end_callback,
                kvstore=kvstore, optimizer=self.optimizer, optimizer_params=optimizer_params,
                initializer=self.initializer, arg_params=self.arg_params,
                aux_params=self.aux_params, allow_missing=True, begin_epoch=self.begin_epoch,
                num_epoch=self.num_epoch, eval_end_callback=eval_end_callback,
                eval_batch_end_callback=eval_batch_end_callback, force_init=True)
        self.arg_params, self.aux_params = mod.get_params()

    def _predict_module(self, data):
        from .module import Module
        mod = self._module
        if mod is None or not mod.binded or mod.for_training or \
                [tuple(d[1]) for d in data.provide_data] != [tuple(d.shape) for d in mod.data_shapes]:
            data_names = [d[0] for d in data.provide_data]
            label_names = [n for n in self.symbol.list_arguments()
                           if n.endswith("label") and n not in data_names]
            mod = Module(self.symbol, data_names=data_names, label_names=label_names,
                         context=self.ctx)
            mod.bind(data_shapes=data.provide_data, for_training=False)
            mod.set_params(self.arg_params, self.aux_params or {},
                           allow_extra=self.allow_extra_params or True)
        return mod

    def predict(self, X, num_batch=None, return_data=False, reset=True):
        """The outputs (NumPy) for X (a DataIter or an array), padding removed."""
        import numpy as np
        data = _init_iter(X, None, self.numpy_batch_size, shuffle=False)
        mod = self._predict_module(data)
        outputs, datas, labels = [], [], []
        for outs, _, batch in mod.iter_predict(data, num_batch=num_batch, reset=reset):
            outputs.append([o.asnumpy() for o in outs])
            if return_data:
                pad = batch.pad or 0
                datas.append([d.asnumpy()[:d.shape[0] - pad] for d in batch.data])
                labels.append([l.asnumpy()[:l.shape[0] - pad] for l in (batch.label or [])])
        if not outputs:
            return []
        merged = [np.concatenate([o[i] for o in outputs]) for i in range(len(outputs[0]))]
        result = merged[0] if len(merged) == 1 else merged
        if return_data:
            d = [np.concatenate([x[i] for x in datas]) for i in range(len(datas[0]))]
            l = [np.concatenate([x[i] for x in labels]) for i in range(len(labels[0]))] \
                if labels and labels[0] else []
            return result, (d[0] if len(d) == 1 else d), (l[0] if len(l) == 1 else l)
        return result

    def score(self, X, eval_metric="acc", num_batch=None, batch_end_callback=None, reset=True):
        from .module import Module
        data = _init_iter(X, None, self.numpy_batch_size, shuffle=False)
        label_names = [l[0] for l in (data.provide_label or [])
                       if l[0] in self.symbol.list_arguments()]
        mod = Module(self.symbol, data_names=[d[0] for d in data.provide_data],
                     label_names=label_names, context=self.ctx)
        mod.bind(data_shapes=data.provide_data, label_shapes=data.provide_label,
                 for_training=False)
        mod.set_params(self.arg_params, self.aux_params or {}, allow_extra=True)
        res = mod.score(data, eval_metric, num_batch=num_batch,
                        batch_end_callback=batch_end_callback, reset=reset)
        return res[0][1]

    def save(self, prefix, epoch=None):
        if epoch is None:
            epoch = self.num_epoch
        assert epoch is not None
        save_checkpoint(prefix, epoch, self.symbol, self.arg_params, self.aux_params or {})

    @staticmethod
    def load(prefix, epoch, ctx=None, **kwargs):
        symbol, arg_params, aux_params = load_checkpoint(prefix, epoch)
        return FeedForward(symbol, ctx=ctx, arg_params=arg_params, aux_params=aux_params,
                           begin_epoch=epoch, **kwargs)

    @staticmethod
    def create(symbol, X, y=None, ctx=None, num_epoch=None, epoch_size=None, optimizer="sgd",
               initializer=None, eval_data=None, eval_metric="acc", epoch_end_callback=None,
               batch_end_callback=None, kvstore="local", logger=None, work_load_list=None,
               eval_end_callback=None, eval_batch_end_callback=None, **kwargs):
        model = FeedForward(symbol, ctx=ctx, num_epoch=num_epoch, epoch_size=epoch_size,
                            optimizer=optimizer, initializer=initializer, **kwargs)
        model.fit(X, y, eval_data=eval_data, eval_metric=eval_metric,
                  epoch_end_callback=epoch_end_callback, batch_end_callback=batch_end_callback,
                  kvstore=kvstore, logger=logger, work_load_list=work_load_list,
                  eval_end_callback=eval_end_callback,
                  eval_batch_end_callback=eval_batch_end_callback)
        return model
