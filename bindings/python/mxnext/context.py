"""Devices (MXNet's Context): mx.cpu(i), mx.gpu(i), and a default set with `with`."""
import threading

from . import _core

__all__ = ["Context", "cpu", "gpu", "cpu_pinned", "current_context", "num_gpus"]


class Context:
    """A device: `Context('cpu', 0)`, `Context('gpu', 1)`, or an existing Context.

    Used as a context manager it becomes the default device of array creation."""
    devtype2str = {1: "cpu", 2: "gpu", 3: "cpu_pinned"}
    devstr2type = {"cpu": 1, "gpu": 2, "cpu_pinned": 3}
    _default = threading.local()

    def __init__(self, device_type, device_id=0):
        if isinstance(device_type, Context):
            self.device_typeid = device_type.device_typeid
            self.device_id = device_type.device_id
            return
        if device_type not in self.devstr2type:
            raise ValueError(f"unknown device type {device_type!r} (cpu, gpu, cpu_pinned)")
        if int(device_id) < 0:
            raise ValueError(f"device id must be >= 0, got {device_id}")
        self.device_typeid = self.devstr2type[device_type]
        self.device_id = int(device_id)

    @property
    def device_type(self):
        return self.devtype2str[self.device_typeid]

    def __eq__(self, other):
        return (isinstance(other, Context) and self.device_typeid == other.device_typeid
                and self.device_id == other.device_id)

    def __hash__(self):
        return hash((self.device_typeid, self.device_id))

    def __repr__(self):
        return f"{self.device_type}({self.device_id})"

    __str__ = __repr__

    def __enter__(self):
        stack = getattr(Context._default, "stack", None)
        if stack is None:
            stack = Context._default.stack = []
        stack.append(self)
        return self

    def __exit__(self, *exc):
        Context._default.stack.pop()


def cpu(device_id=0):
    return Context("cpu", device_id)


def gpu(device_id=0):
    """A GPU context. Arrays on it fail with DeviceError in a build without CUDA."""
    return Context("gpu", device_id)


def cpu_pinned(device_id=0):
    return Context("cpu_pinned", device_id)


def current_context():
    stack = getattr(Context._default, "stack", None)
    return stack[-1] if stack else Context("cpu", 0)


def num_gpus():
    return _core.device_count(2)
