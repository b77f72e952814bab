"""mx.mod: Apache MXNet's Module API (bind, init_params, init_optimizer, forward, backward,
update, fit, score, predict, checkpoints) with data parallelism over a list of contexts."""
from .base_module import BaseModule, BatchEndParam
from .module import Module

__all__ = ["BaseModule", "Module", "BatchEndParam"]
