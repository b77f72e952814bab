"""mx.AttrScope: attributes given to every symbol created inside a `with` block."""
import threading

__all__ = ["AttrScope", "current"]


class AttrScope:
    """with mx.AttrScope(ctx_group='dev1'): ... — nested scopes merge, inner keys win."""
    _local = threading.local()

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            if not isinstance(v, str):
                raise ValueError(f"attribute {k!r} must be a string, got {type(v).__name__}")
        self._attr = kwargs
        self._old = None

    def get(self, attr):
        """The scope's attributes merged with `attr` (which wins)."""
        merged = dict(self._attr)
        if attr:
            merged.update(attr)
        return merged

    def __enter__(self):
        self._old = current()
        merged = AttrScope(**self._old.get(self._attr))
        AttrScope._local.current = merged
        return self

    def __exit__(self, *exc):
        AttrScope._local.current = self._old


def current():
    scope = getattr(AttrScope._local, "current", None)
    if scope is None:
        scope = AttrScope._local.current = AttrScope()
    return scope
