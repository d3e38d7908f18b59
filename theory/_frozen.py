"""Immutable records that stay immutable through pickling and copies (issue #19, kind 6).

The package's specs and results are frozen: their arrays are read-only NumPy arrays and their
``metadata`` is a read-only mapping. Pickle, :func:`copy.copy` and :func:`copy.deepcopy` would lose
both (an unpickled array is writeable; a :class:`types.MappingProxyType` cannot be pickled at all),
so every such class reduces through this module:

- :func:`freeze` copies caller-supplied metadata into read-only form (mappings → mapping proxies,
  lists and tuples → tuples, sets → frozensets, arrays → read-only copies), so a caller's list can
  no longer change a schedule after it was built;
- :class:`FrozenRecord` is a mixin for frozen dataclasses: ``__reduce__`` packs the fields, marking
  read-only arrays and frozen mappings, and the rebuild restores both (after pickle, copy or
  deepcopy alike);
- :func:`same_value` and :func:`array_key` are the value equality and hash of arrays and of the
  containers that hold them (NaN equals NaN, ``-0.0`` equals ``0.0``).

Equality policy (docs/design.md, "Records: pickling, copies and equality"): specs compare by value
(:class:`~ramplab.theory.Schedule`, :class:`~ramplab.theory.Problem`, the optimizer specs, shapes,
rules); computed results compare by identity on purpose (their curves are floating-point outputs:
compare their arrays).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

__all__ = ["FrozenRecord", "ValueRecord", "array_key", "freeze", "frozen_mapping", "readonly", "same_value", "thaw"]


def readonly(array: np.ndarray) -> np.ndarray:
    """``array`` with its ``writeable`` flag cleared (in place), returned for chaining."""
    array.flags.writeable = False
    return array


def freeze(value: Any) -> Any:
    """A read-only deep copy of ``value``'s containers: mappings become mapping proxies, lists and
    tuples tuples, sets frozensets, NumPy arrays read-only copies; other objects are kept."""
    if isinstance(value, np.ndarray):
        if not value.flags.writeable and value.base is None:
            return value  # read-only and owns its data: nobody can change it
        return readonly(value.copy())
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if type(value) in (list, tuple):
        return tuple(freeze(v) for v in value)
    if type(value) in (set, frozenset):
        return frozenset(value)
    return value


def thaw(value: Any) -> Any:
    """The inverse of :func:`freeze` for pickling: mapping proxies become dicts (recursively)."""
    if isinstance(value, MappingProxyType):
        return {k: thaw(v) for k, v in value.items()}
    if type(value) is tuple:
        return tuple(thaw(v) for v in value)
    return value


class _ReadOnlyArray:
    """A read-only array inside a record's packed state (rebuilt read-only by pickle and deepcopy)."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def __reduce__(self) -> tuple:
        return (readonly, (self.array,))


class _FrozenMapping:
    """A mapping proxy inside a record's packed state (rebuilt as a proxy by pickle and deepcopy)."""

    __slots__ = ("items",)

    def __init__(self, items: dict) -> None:
        self.items = items

    def __reduce__(self) -> tuple:
        return (frozen_mapping, (self.items,))


def frozen_mapping(items: dict) -> MappingProxyType:
    """A mapping proxy over ``items`` (the rebuild of a packed frozen mapping)."""
    return MappingProxyType(_unpack(items))


def _pack(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value if value.flags.writeable else _ReadOnlyArray(value)
    if isinstance(value, MappingProxyType):
        return _FrozenMapping({k: _pack(v) for k, v in value.items()})
    if type(value) in (tuple, list):
        return type(value)(_pack(v) for v in value)
    if type(value) is dict:
        return {k: _pack(v) for k, v in value.items()}
    return value


def _unpack(value: Any) -> Any:
    if isinstance(value, _ReadOnlyArray):
        return readonly(value.array)
    if isinstance(value, _FrozenMapping):
        return frozen_mapping(value.items)
    if type(value) in (tuple, list):
        return type(value)(_unpack(v) for v in value)
    if type(value) is dict:
        return {k: _unpack(v) for k, v in value.items()}
    return value


def _rebuild_record(cls: type, state: dict) -> Any:
    """A :class:`FrozenRecord` of class ``cls`` from its packed attributes (no ``__init__`` call)."""
    out = object.__new__(cls)
    for name, value in state.items():
        object.__setattr__(out, name, _unpack(value))
    return out


class FrozenRecord:
    """Mixin for frozen dataclasses: pickle, copy and deepcopy keep read-only arrays read-only and
    read-only mappings read-only (the copy is built without running ``__init__`` again)."""

    __slots__ = ()

    def __reduce__(self) -> tuple:
        return (_rebuild_record, (type(self), {k: _pack(v) for k, v in vars(self).items()}))


def _is_float_array(a: np.ndarray) -> bool:
    return a.dtype.kind in "fc"


def same_value(a: Any, b: Any) -> bool:
    """Value equality of records' parts: arrays by shape and entries (NaN equals NaN), mappings by
    keys and values, lists and tuples entry by entry, anything else by ``==``."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.shape != b.shape:
            return False
        if a.dtype.kind in "OUSV" or b.dtype.kind in "OUSV":
            return bool(np.array_equal(a, b))
        return bool(np.array_equal(a, b, equal_nan=_is_float_array(a) and _is_float_array(b)))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def array_key(a: np.ndarray) -> tuple:
    """A hashable key of an array's value: equal arrays (``-0.0`` and ``0.0`` included) give equal keys."""
    a = np.ascontiguousarray(a)
    if _is_float_array(a):
        a = a + 0.0  # −0.0 → 0.0, so equal values hash alike
    return (a.dtype.str, a.shape, a.tobytes())


def _hash_key(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return array_key(value)
    if isinstance(value, (list, tuple)):
        return tuple(_hash_key(v) for v in value)
    if isinstance(value, float):
        return value + 0.0
    return value


class ValueRecord(FrozenRecord):
    """Mixin for frozen dataclass *specs* (``eq=False`` in the decorator): value equality and hash
    over the fields declared with ``compare=True``, arrays by their entries (:func:`same_value`)."""

    __slots__ = ()

    def _compared(self) -> tuple:
        from dataclasses import fields

        return tuple(getattr(self, f.name) for f in fields(self) if f.compare)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self is other or same_value(self._compared(), other._compared())

    def __hash__(self) -> int:
        return hash((type(self).__qualname__, *(_hash_key(v) for v in self._compared())))
