"""``Value``: equality, hashing and ``repr`` for our frozen attrs classes, read from their fields.

attrs writes ``__eq__``, ``__hash__`` and ``__repr__`` for each class as source code and
compiles it while the module imports: about 0.15 ms a class here, and a command imports
dozens of classes to use a few (see docs/performance.md). A class declared

    @attrs.frozen(eq=False, repr=False)
    class KeySource(Value):

still gets a compiled ``__init__`` and frozen attributes from attrs, and these three
methods from :class:`Value`, which read the class's attrs fields when they are called:

- ``==``: the same class and equal fields, as attrs compares (another class gives
  ``NotImplemented``; fields declared ``eq=False`` do not count); ``!=`` is its negation;
- ``hash()``: of the class and the same fields, so equal values hash equal (a field
  declared ``hash=False`` is left out);
- ``repr()``: ``Name(field=value, ...)`` like attrs, without the fields declared
  ``repr=False``; each field shows its own ``repr``, so a ``Secret`` shows its mask only.
"""

from __future__ import annotations

from typing import Any

# Per class: the names of the fields that take part, computed once.
_EQ: dict[type, tuple[str, ...]] = {}
_HASH: dict[type, tuple[str, ...]] = {}
_REPR: dict[type, tuple[tuple[str, Any], ...]] = {}


def _fields(cls: type) -> tuple[Any, ...]:
    found: tuple[Any, ...] = cls.__attrs_attrs__  # type: ignore[attr-defined]
    return found


def _eq_names(cls: type) -> tuple[str, ...]:
    names = _EQ.get(cls)
    if names is None:
        names = _EQ[cls] = tuple(a.name for a in _fields(cls) if a.eq)
    return names


def _hash_names(cls: type) -> tuple[str, ...]:
    names = _HASH.get(cls)
    if names is None:
        names = _HASH[cls] = tuple(
            a.name for a in _fields(cls) if (a.eq if a.hash is None else a.hash)
        )
    return names


def _repr_fields(cls: type) -> tuple[tuple[str, Any], ...]:
    shown = _REPR.get(cls)
    if shown is None:
        shown = _REPR[cls] = tuple((a.name, a.repr) for a in _fields(cls) if a.repr)
    return shown


class Value:
    """Base of a frozen attrs value: ``==``, ``hash()`` and ``repr()`` from its fields."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _eq_names(type(self)))

    def __hash__(self) -> int:
        cls = type(self)
        return hash((cls, *(getattr(self, name) for name in _hash_names(cls))))

    def __repr__(self) -> str:
        cls = type(self)
        parts = []
        for name, how in _repr_fields(cls):
            value = getattr(self, name)
            parts.append(f"{name}={how(value) if callable(how) else repr(value)}")
        return f"{cls.__qualname__.rsplit('>.', 1)[-1]}({', '.join(parts)})"
