"""mx.model: Apache MXNet's checkpoint files.

A checkpoint is `prefix-symbol.json` (the network, MXNet's symbol JSON) plus
`prefix-%04d.params` (an NDArray file whose names are `arg:<name>` for arguments and
`aux:<name>` for auxiliary states), exactly as Apache MXNet 1.x and Gluon's `export()` write
them, so checkpoints move between the two in both directions."""
import logging

from . import ndarray as nd
from .base import FormatError
from .context import cpu

__all__ = ["save_checkpoint", "load_checkpoint", "load_params"]


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
