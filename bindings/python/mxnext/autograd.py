"""mx.autograd: record imperative computation and differentiate it (MXNet's API).

    x = mx.nd.array([1., 2.]); x.attach_grad()
    with mx.autograd.record():
        y = (x * x).sum()
    y.backward()
    x.grad            # [2. 4.]

Gradients come from the operators' registered gradient definitions, the same ones the
executor uses."""
from contextlib import contextmanager

from . import _core

__all__ = ["record", "pause", "train_mode", "predict_mode", "is_recording", "is_training",
           "set_recording", "set_training", "mark_variables", "backward", "grad"]

_REQS = {"null": 0, "write": 1, "inplace": 1, "add": 3}


def is_recording():
    return _core.autograd_is_recording()


def is_training():
    return _core.autograd_is_training()


def set_recording(is_recording):  # noqa: F811 (MXNet's signature)
    """Sets recording on this thread; returns the previous value."""
    return _core.autograd_set_recording(bool(is_recording))


def set_training(train_mode):
    """Sets training mode on this thread; returns the previous value."""
    return _core.autograd_set_training(bool(train_mode))


@contextmanager
def _scope(recording, training):
    prev_rec = set_recording(recording) if recording is not None else None
    prev_train = set_training(training) if training is not None else None
    try:
        yield
    finally:
        if prev_rec is not None:
            set_recording(prev_rec)
        if prev_train is not None:
            set_training(prev_train)


def record(train_mode=True):  # noqa: F811
    """Records operations for differentiation (in training mode unless train_mode=False)."""
    return _scope(True, train_mode)


def pause(train_mode=False):  # noqa: F811
    """Stops recording inside a record() block."""
    return _scope(False, train_mode)


def train_mode():
    return _scope(None, True)


def predict_mode():
    return _scope(None, False)


def mark_variables(variables, gradients, grad_reqs="write"):
    """Marks arrays as variables whose gradients go into `gradients`."""
    from .ndarray import NDArray
    if isinstance(variables, NDArray):
        variables, gradients = [variables], [gradients]
    if isinstance(grad_reqs, str):
        grad_reqs = [grad_reqs] * len(variables)
    try:
        reqs = [_REQS[r] for r in grad_reqs]
    except KeyError as e:
        raise ValueError(f"grad_req must be 'write', 'add' or 'null', got {e.args[0]!r}") from None
    _core.autograd_mark_variables(list(variables), reqs, list(gradients))


def _as_list(x):
    from .ndarray import NDArray
    return [x] if isinstance(x, NDArray) else list(x)


def backward(heads, head_grads=None, retain_graph=False, train_mode=True):  # noqa: F811
    """Computes gradients of heads into the .grad of every marked variable they depend on."""
    heads = _as_list(heads)
    if head_grads is not None:
        head_grads = _as_list(head_grads)
    _core.autograd_backward(heads, head_grads, [], retain_graph, train_mode)


def grad(heads, variables, head_grads=None, retain_graph=None, create_graph=False,
         train_mode=True):  # noqa: F811
    """Returns the gradients of heads with respect to variables (their .grad is untouched)."""
    if create_graph:
        raise NotImplementedError("create_graph=True (higher-order gradients) is not supported yet")
    heads = _as_list(heads)
    single = not isinstance(variables, (list, tuple))
    variables = _as_list(variables)
    if head_grads is not None:
        head_grads = _as_list(head_grads)
    if retain_graph is None:
        retain_graph = create_graph
    grads = _core.autograd_backward(heads, head_grads, variables, retain_graph, train_mode)
    return grads[0] if single else grads
