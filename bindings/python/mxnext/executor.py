"""mx.executor.Executor: a Symbol bound to arrays (MXNet's Executor API)."""
import json

import numpy as np

from . import _core

__all__ = ["Executor"]

_REQS = {"null": 0, "write": 1, "inplace": 1, "add": 3}


def _req_code(req):
    try:
        return _REQS[req]
    except KeyError:
        raise ValueError(f"grad_req must be 'write', 'add' or 'null', got {req!r}") from None


class Executor:
    """Made by Symbol.bind / Symbol.simple_bind."""

    def __init__(self, symbol, ctx, args, args_grad, grad_req, aux_states):
        self._symbol = symbol
        self._ctx = ctx
        self.arg_arrays = list(args)
        self.grad_arrays = list(args_grad)
        self.aux_arrays = list(aux_states)
        self._grad_req = list(grad_req)
        self._handle = _core.executor_bind(symbol, self.arg_arrays, self.grad_arrays,
                                           [_req_code(r) for r in self._grad_req],
                                           self.aux_arrays)
        self.outputs = self._handle.outputs()
        self._arg_dict = self._grad_dict = self._aux_dict = None

    # The bound arrays never change after bind, so the dicts are made once (as MXNet's are):
    # Module.update reads them for every parameter of every step.
    @property
    def arg_dict(self):
        if self._arg_dict is None:
            self._arg_dict = dict(zip(self._symbol.list_arguments(), self.arg_arrays))
        return self._arg_dict

    @property
    def grad_dict(self):
        if self._grad_dict is None:
            self._grad_dict = {n: g for n, g in zip(self._symbol.list_arguments(),
                                                    self.grad_arrays) if g is not None}
        return self._grad_dict

    @property
    def aux_dict(self):
        if self._aux_dict is None:
            self._aux_dict = dict(zip(self._symbol.list_auxiliary_states(), self.aux_arrays))
        return self._aux_dict

    @property
    def output_dict(self):
        return dict(zip(self._symbol.list_outputs(), self.outputs))

    def forward(self, is_train=False, **kwargs):
        """Runs the graph; keyword arrays are copied into the named arguments first."""
        arg_dict = self.arg_dict
        for name, value in kwargs.items():
            if name not in arg_dict:
                raise ValueError(f"{name!r} is not an argument of the symbol "
                                 f"(arguments: {list(arg_dict)})")
            target = arg_dict[name]
            if hasattr(value, "copyto"):
                value.copyto(target)
            else:
                target[:] = np.asarray(value)
        self._handle.forward(bool(is_train))
        return self.outputs

    def backward(self, out_grads=None, is_train=True):
        """Gradients into grad_arrays; out_grads (one per output) default to ones."""
        from .ndarray import NDArray
        if out_grads is None:
            out_grads = []
        elif isinstance(out_grads, NDArray):
            out_grads = [out_grads]
        self._handle.backward(list(out_grads))

    def memory_report(self, format="json"):
        """The memory plan: JSON (format='json') or a readable table (format='table')."""
        text = self._handle.memory_report()
        if format == "json":
            return text
        if format != "table":
            raise ValueError("format must be 'json' or 'table'")
        rep = json.loads(text)
        mib = (lambda b: f"{b / 2**20:10.2f} MiB")
        lines = [f"{'block':>5}  {'size':>14}  values (* = in place)"]
        for blk in rep["blocks"]:
            names = ", ".join(v["name"] + ("*" if v["in_place"] else "") for v in blk["values"])
            lines.append(f"{blk['id']:>5}  {mib(blk['bytes'])}  {names}")
        lines += ["",
                  f"values without planning  {mib(rep['unplanned_bytes'])}",
                  f"values with planning     {mib(rep['planned_bytes'])}",
                  f"  saved in place         {mib(rep['inplace_saved_bytes'])}",
                  f"  saved by co-sharing    {mib(rep['coshare_saved_bytes'])}",
                  f"arguments                {mib(rep['arguments_bytes'])}",
                  f"gradients                {mib(rep['gradients_bytes'])}",
                  f"auxiliary states         {mib(rep['aux_bytes'])}",
                  f"outputs                  {mib(rep['outputs_bytes'])}",
                  f"peak                     {mib(rep['peak_bytes'])}",
                  f"kernel workspace (peak held at once in this process) "
                  f"{mib(rep['workspace_peak_bytes'])}"]
        return "\n".join(lines)

    def copy_params_from(self, arg_params, aux_params=None, allow_extra_params=False):
        """Copies values into the bound arrays by name."""
        arg_dict, aux_dict = self.arg_dict, self.aux_dict
        for name, value in arg_params.items():
            if name in arg_dict:
                value.copyto(arg_dict[name])
            elif not allow_extra_params:
                raise ValueError(f"{name!r} is not an argument of the symbol")
        for name, value in (aux_params or {}).items():
            if name in aux_dict:
                value.copyto(aux_dict[name])
            elif not allow_extra_params:
                raise ValueError(f"{name!r} is not an auxiliary state of the symbol")

    def reshape(self, partial_shaping=False, allow_up_sizing=False, **kwargs):
        """A new executor for new input shapes, sharing the arrays whose shapes stay."""
        known = {n: a.shape for n, a in zip(self._symbol.list_arguments(), self.arg_arrays)
                 if n not in kwargs and not partial_shaping}
        known.update({k: tuple(v) for k, v in kwargs.items()})
        arg_shapes, _, aux_shapes = self._symbol._infer_shape(known, True)
        if any(s is None for s in arg_shapes + aux_shapes):
            raise ValueError("reshape: the given shapes do not determine every argument")
        from .ndarray import zeros
        names = self._symbol.list_arguments()
        args, grads = [], []
        for name, old, grad, shape in zip(names, self.arg_arrays, self.grad_arrays, arg_shapes):
            if old.shape == tuple(shape):
                args.append(old)
                grads.append(grad)
                continue
            if name not in kwargs and not partial_shaping:
                raise ValueError(f"reshape changes the shape of {name!r}; pass "
                                 "partial_shaping=True to allow it")
            args.append(zeros(shape, ctx=self._ctx, dtype=old.dtype))
            grads.append(None if grad is None else zeros(shape, ctx=self._ctx, dtype=grad.dtype))
        aux = [a if a.shape == tuple(s) else zeros(s, ctx=self._ctx, dtype=a.dtype)
               for a, s in zip(self.aux_arrays, aux_shapes)]
        return Executor(self._symbol, self._ctx, args, grads, self._grad_req, aux)
