"""Optimizer classes over the core's optimizers (mxn_optimizer_*)."""
import numpy as np

from .. import _core, _train
from ..lr_scheduler import LRScheduler

__all__ = ["Optimizer", "SGD", "NAG", "Adam", "RMSProp", "AdaGrad", "AdaDelta", "Ftrl", "Signum",
           "Updater", "create", "get_updater", "register"]

_INTERNAL = ("_handle", "_core_name", "_lr_scheduler", "idx2name", "lr_mult", "wd_mult", "sym_info",
             "param_dict", "_py_sched")


class Optimizer:
    """Base class: MXNet's Optimizer(rescale_grad=1., param_idx2name=None, wd=0.,
    clip_gradient=None, learning_rate=None, lr_scheduler=None, sym=None, begin_num_update=0,
    multi_precision=False, param_dict=None)."""
    opt_registry = {}
    _core_name = None

    def __init__(self, rescale_grad=1., param_idx2name=None, wd=0., clip_gradient=None,
                 learning_rate=None, lr_scheduler=None, sym=None, begin_num_update=0,
                 multi_precision=False, param_dict=None, **kwargs):
        if self._core_name is None:
            raise NotImplementedError(
                "Optimizer is abstract here: use a registered optimizer (mx.optimizer.create)")
        kwargs.pop("aggregate_num", None)
        kwargs.pop("use_fused_step", None)
        params = dict(kwargs, rescale_grad=rescale_grad, wd=wd, clip_gradient=clip_gradient,
                      begin_num_update=begin_num_update, multi_precision=multi_precision)
        if learning_rate is not None:
            params["learning_rate"] = learning_rate
        keys, types, values, rest = _train.typed("optimizer", self._core_name, params)
        if rest:
            raise TypeError(f"{type(self).__name__} got unexpected arguments {sorted(rest)}")
        object.__setattr__(self, "_handle",
                           _core.optimizer_create(self._core_name, keys, types, values))
        object.__setattr__(self, "_lr_scheduler", None)
        object.__setattr__(self, "_py_sched", False)
        object.__setattr__(self, "param_dict", param_dict or {})
        if lr_scheduler is not None:
            self.lr_scheduler = lr_scheduler
        idx2name = dict(param_idx2name or {})
        object.__setattr__(self, "idx2name", idx2name)
        for i, n in idx2name.items():
            self._handle.set_param_name(int(i), n)
        object.__setattr__(self, "sym_info",
                           (sym.attr_dict(), sym.list_arguments()) if sym is not None else ())
        object.__setattr__(self, "lr_mult", {})
        object.__setattr__(self, "wd_mult", {})
        self.set_lr_mult({})
        self.set_wd_mult({})

    # ---- registry ---------------------------------------------------------------------------
    @staticmethod
    def register(klass):
        name = klass.__name__.lower()
        Optimizer.opt_registry[name] = klass
        return klass

    @staticmethod
    def create_optimizer(name, **kwargs):
        if name.lower() in Optimizer.opt_registry:
            return Optimizer.opt_registry[name.lower()](**kwargs)
        raise ValueError(f"Cannot find optimizer {name} (registered: "
                         f"{sorted(Optimizer.opt_registry)})")

    # ---- hyper-parameters (read from and written to the core) --------------------------------
    def __getattr__(self, name):
        if name.startswith("_") or name in _INTERNAL:
            raise AttributeError(name)
        code = _train.type_code("optimizer", self._core_name, name)
        if code is None:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        return self._handle.get_param(name)

    def __setattr__(self, name, value):
        if not name.startswith("_") and name not in _INTERNAL:
            code = _train.type_code("optimizer", self._core_name, name)
            if code is not None:
                self._handle.set_param(name, code, value)
                return
        object.__setattr__(self, name, value)

    @property
    def lr(self):
        return self._handle.get_param("learning_rate") if not self._py_sched else \
            self._lr_scheduler(self.num_update)

    @property
    def learning_rate(self):
        return self.lr

    def set_learning_rate(self, lr):
        if self._lr_scheduler is not None:
            raise UserWarning("LRScheduler of the optimizer has already been defined. Note that "
                              "set_learning_rate can mutate the value of the learning rate of "
                              "the optimizer only when the LRScheduler of the optimizer is "
                              "undefined.")
        self._handle.set_param("learning_rate", _core.T_FLOAT, float(lr))

    @property
    def lr_scheduler(self):
        return self._lr_scheduler

    @lr_scheduler.setter
    def lr_scheduler(self, sched):
        object.__setattr__(self, "_lr_scheduler", sched)
        if sched is None:
            self._handle.set_scheduler(None)
            object.__setattr__(self, "_py_sched", False)
        elif isinstance(sched, LRScheduler) and sched._handle is not None:
            self._handle.set_scheduler(sched._handle)
            object.__setattr__(self, "_py_sched", False)
        else:  # a Python schedule: the learning rate is set before every update
            sched.base_lr = self._handle.get_param("learning_rate")
            object.__setattr__(self, "_py_sched", True)

    @property
    def num_update(self):
        return self._handle.num_update()

    @property
    def begin_num_update(self):
        return self._handle.get_param("begin_num_update")

    def set_lr_mult(self, args_lr_mult):
        self._set_mult(0, "__lr_mult__", args_lr_mult)

    def set_wd_mult(self, args_wd_mult):
        self._set_mult(1, "__wd_mult__", args_wd_mult)

    def _set_mult(self, which, attr, args):
        h = self._handle
        h.clear_mults(which)
        mult = {}
        if self.sym_info:
            attrs, arg_names = self.sym_info
            for name in arg_names:
                if name in attrs and attr in attrs[name]:
                    mult[name] = float(attrs[name][attr])
        mult.update(args)
        for k, v in mult.items():
            h.set_mult(which, k, float(v))
        object.__setattr__(self, "lr_mult" if which == 0 else "wd_mult", mult)

    def _get_lr(self, index):
        return self._handle.rates(index)[0]

    def _get_wd(self, index):
        return self._handle.rates(index)[1]

    # ---- updates ----------------------------------------------------------------------------
    def create_state(self, index, weight):
        """The state lives in the core (created at the first update); returns None."""
        return None

    def create_state_multi_precision(self, index, weight):
        return None

    def update(self, index, weight, grad, state=None):
        """Updates weight in place from grad (lists of them update each pair)."""
        if isinstance(index, (list, tuple)):
            for i, w, g in zip(index, weight, grad):
                self._update_one(i, w, g)
        else:
            self._update_one(index, weight, grad)

    update_multi_precision = update

    def _update_one(self, index, weight, grad):
        if isinstance(index, np.integer):
            index = int(index)
        if self._py_sched:
            count = self._handle.update_count(index) or self.begin_num_update
            num_update = max(self._handle.num_update(), count + 1)
            self._handle.set_param("learning_rate", _core.T_FLOAT,
                                   float(self._lr_scheduler(num_update)))
        self._handle.update(index, weight, grad)

    def states(self, index):
        """The core's state arrays of a parameter (after its first update)."""
        return self._handle.states(index)

    def get_states(self):
        return self._handle.save_states()

    def set_states(self, data):
        self._handle.load_states(data)

    def __getstate__(self):
        raise TypeError("mxnext optimizers are not pickled: their state is saved with "
                        "get_states() (a documented binary format)")


register = Optimizer.register


def _make(core_name, cls_name, params, doc):
    sig = ", ".join(f"{p}={d!r}" for p, d in params)
    names = ", ".join(f"{p}={p}" for p, _ in params)
    src = (f"def __init__(self, {sig}{', ' if sig else ''}**kwargs):\n"
           f"    Optimizer.__init__(self, {names}{', ' if names else ''}**kwargs)\n")
    ns = {"Optimizer": Optimizer}
    exec(src, ns)  # a real signature (MXNet's) for help() and IDEs
    cls = type(cls_name, (Optimizer,), {"__init__": ns["__init__"], "_core_name": core_name,
                                         "__doc__": doc})
    return register(cls)


SGD = _make("sgd", "SGD", [("momentum", 0.0), ("lazy_update", True)],
            "SGD with momentum: state = momentum*state - lr*(rescale_grad*grad + wd*weight); "
            "weight += state (sgd_mom_update).")
NAG = _make("nag", "NAG", [("momentum", 0.0)], "Nesterov accelerated SGD (nag_mom_update).")
Adam = _make("adam", "Adam", [("learning_rate", 0.001), ("beta1", 0.9), ("beta2", 0.999),
                              ("epsilon", 1e-8), ("lazy_update", True)],
             "Adam with MXNet's bias correction lr*sqrt(1-beta2^t)/(1-beta1^t) (adam_update).")
RMSProp = _make("rmsprop", "RMSProp", [("learning_rate", 0.001), ("gamma1", 0.9),
                                       ("gamma2", 0.9), ("epsilon", 1e-8), ("centered", False),
                                       ("clip_weights", None)],
                "RMSProp (rmsprop_update / rmspropalex_update).")
AdaGrad = _make("adagrad", "AdaGrad", [("eps", 1e-7)], "AdaGrad (_sparse_adagrad_update).")
AdaDelta = _make("adadelta", "AdaDelta", [("rho", 0.90), ("epsilon", 1e-5)],
                 "AdaDelta (no learning rate, as in MXNet).")
Ftrl = _make("ftrl", "Ftrl", [("lamda1", 0.01), ("learning_rate", 0.1), ("beta", 1)],
             "FTRL-Proximal (ftrl_update).")
Signum = _make("signum", "Signum", [("learning_rate", 0.01), ("momentum", 0.9), ("wd_lh", 0.0)],
               "Signum / signSGD (signum_update, signsgd_update).")
Optimizer.opt_registry["sgd"] = SGD


def create(name, **kwargs):
    """An optimizer by name ('sgd', 'adam', ...), or `name` itself if it is one."""
    if isinstance(name, Optimizer):
        return name
    return Optimizer.create_optimizer(name, **kwargs)


class Updater:
    """MXNet's updater: updater(index, grad, weight) updates weight in place; the states are
    the core optimizer's (get_states / set_states give its bytes)."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.states = {}

    def __call__(self, index, grad, weight):
        if isinstance(index, (list, tuple)):
            for i, g, w in zip(index, grad, weight):
                self.optimizer.update(i, w, g)
        else:
            self.optimizer.update(index, weight, grad)

    def get_states(self, dump_optimizer=False):
        return self.optimizer.get_states()

    def set_states(self, states):
        self.optimizer.set_states(states)

    def sync_state_context(self, state, context):
        return state


def get_updater(optimizer):
    return Updater(optimizer)
