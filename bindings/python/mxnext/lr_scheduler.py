"""mx.lr_scheduler: Apache MXNet's learning-rate schedules, computed in the core."""
from . import _core, _train

__all__ = ["LRScheduler", "FactorScheduler", "MultiFactorScheduler", "PolyScheduler",
           "CosineScheduler"]


class LRScheduler:
    """Base class. Core-backed subclasses compute in the core; a Python subclass may override
    __call__(num_update) (the optimizer then asks it for every update)."""
    _core_name = None

    def __init__(self, base_lr=0.01, warmup_steps=0, warmup_begin_lr=0, warmup_mode="linear",
                 **kwargs):
        self._handle = None
        if self._core_name is None:
            self._base_lr = base_lr
            self.warmup_steps = warmup_steps
            self.warmup_begin_lr = warmup_begin_lr
            self.warmup_final_lr = base_lr
            self.warmup_mode = warmup_mode
            return
        params = dict(kwargs, base_lr=base_lr, warmup_steps=warmup_steps,
                      warmup_begin_lr=warmup_begin_lr, warmup_mode=warmup_mode)
        keys, types, values, rest = _train.typed("lr_scheduler", self._core_name, params)
        if rest:
            raise TypeError(f"{type(self).__name__} got unexpected arguments {sorted(rest)}")
        self._handle = _core.lr_scheduler_create(self._core_name, keys, types, values)
        self.warmup_steps = warmup_steps
        self.warmup_begin_lr = warmup_begin_lr
        self.warmup_mode = warmup_mode

    @property
    def base_lr(self):
        return self._handle.base_lr if self._handle is not None else self._base_lr

    @base_lr.setter
    def base_lr(self, value):
        if self._handle is not None:
            self._handle.base_lr = float(value)
        else:
            self._base_lr = value

    def get_warmup_lr(self, num_update):
        assert num_update < self.warmup_steps
        if self.warmup_mode == "linear":
            final = getattr(self, "warmup_final_lr", self.base_lr)
            return self.warmup_begin_lr + (final - self.warmup_begin_lr) * float(num_update) / \
                float(self.warmup_steps)
        return self.warmup_begin_lr

    def __call__(self, num_update):
        if self._handle is None:
            raise NotImplementedError("must override this")
        return self._handle.get(int(num_update))


class FactorScheduler(LRScheduler):
    """lr = base_lr * factor^(num_update // step), not below stop_factor_lr."""
    _core_name = "factor"

    def __init__(self, step, factor=1, stop_factor_lr=1e-8, base_lr=0.01, warmup_steps=0,
                 warmup_begin_lr=0, warmup_mode="linear"):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode, step=step,
                         factor=factor, stop_factor_lr=stop_factor_lr)
        self.step, self.factor, self.stop_factor_lr = step, factor, stop_factor_lr


class MultiFactorScheduler(LRScheduler):
    """lr = base_lr * factor^(number of steps in `step` passed)."""
    _core_name = "multifactor"

    def __init__(self, step, factor=1, base_lr=0.01, warmup_steps=0, warmup_begin_lr=0,
                 warmup_mode="linear"):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode,
                         step=tuple(step), factor=factor)
        self.step, self.factor = list(step), factor


class PolyScheduler(LRScheduler):
    """Polynomial decay from base_lr to final_lr over max_update updates."""
    _core_name = "poly"

    def __init__(self, max_update, base_lr=0.01, pwr=2, final_lr=0, warmup_steps=0,
                 warmup_begin_lr=0, warmup_mode="linear"):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode,
                         max_update=max_update, pwr=pwr, final_lr=final_lr)
        self.max_update, self.power, self.final_lr = max_update, pwr, final_lr


class CosineScheduler(LRScheduler):
    """Cosine decay from base_lr to final_lr over max_update updates."""
    _core_name = "cosine"

    def __init__(self, max_update, base_lr=0.01, final_lr=0, warmup_steps=0,
                 warmup_begin_lr=0, warmup_mode="linear"):
        super().__init__(base_lr, warmup_steps, warmup_begin_lr, warmup_mode,
                         max_update=max_update, final_lr=final_lr)
        self.max_update, self.final_lr = max_update, final_lr
