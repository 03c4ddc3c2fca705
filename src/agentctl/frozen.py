"""A frozen value class without :mod:`dataclasses`: building a dataclass costs ~0.5 ms at
every start, and the classes read commands build (the workspace layout, the actor, an index
problem, an acceptance criterion) are made at every start."""

from __future__ import annotations

from typing import ClassVar


class Frozen:
    """What ``@dataclass(frozen=True)`` gives, written out once: a subclass names its fields in
    ``_fields`` and sets them in ``__init__`` with ``object.__setattr__``; it is then
    immutable, compared and hashed by those fields (only with its own class), and shown as
    ``Name(field=value, ...)``."""

    _fields: ClassVar[tuple[str, ...]] = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Frozen)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__qualname__}({shown})"
