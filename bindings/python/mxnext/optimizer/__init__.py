"""mx.optimizer: Apache MXNet's optimizers. Hyper-parameters, per-parameter state and the
update arithmetic (the fused update operators) live in the core; these classes forward."""
from .optimizer import (Optimizer, SGD, NAG, Adam, RMSProp, AdaGrad, AdaDelta, Ftrl, Signum,
                        Updater, create, get_updater, register)

__all__ = ["Optimizer", "SGD", "NAG", "Adam", "RMSProp", "AdaGrad", "AdaDelta", "Ftrl", "Signum",
           "Updater", "create", "get_updater", "register"]
