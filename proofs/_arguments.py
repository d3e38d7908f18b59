"""Argument checks of the proofs package: expressions, texts and real numbers, refused with a
``TypeError``/``ValueError`` that names the argument (the package does not import :mod:`theory`).

Strings are never turned into expressions: :func:`sympy.sympify` evaluates them as Python code.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import sympy as sp

__all__ = ["expression", "positive_number", "text"]

_NUMBER_TYPES: tuple[type, ...] = (int, float)
try:  # NumPy scalars are numbers too, when NumPy is there (it always is with ramplab).
    import numpy as _np

    _NUMBER_TYPES += (_np.integer, _np.floating)
    BOOL_TYPES: tuple[type, ...] = (bool, _np.bool_)
except ImportError:  # pragma: no cover
    BOOL_TYPES = (bool,)


def _describe(value: Any) -> str:
    try:
        out = repr(value)
    except Exception:  # noqa: BLE001 - a repr that fails is no reason to hide the real error
        out = f"<{type(value).__name__}>"
    return out if len(out) <= 80 else out[:77] + "..."


def text(value: Any, name: str) -> str:
    """``value`` if it is a string.

    Examples
    --------
    >>> text(3, "description")
    Traceback (most recent call last):
    ...
    TypeError: description must be a string; got 3
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string; got {_describe(value)}")
    return value


def expression(value: Any, name: str) -> sp.Basic:
    """``value`` as a sympy object: sympy objects as they are, real numbers through ``sympify``.

    Examples
    --------
    >>> expression(2, "expr")
    2
    >>> expression("x + 1", "expr")
    Traceback (most recent call last):
    ...
    TypeError: expr must be a sympy expression or a real number; got 'x + 1'
    """
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, _NUMBER_TYPES) and not isinstance(value, BOOL_TYPES):
        plain = value.item() if hasattr(value, "item") else value  # NumPy scalars as Python numbers
        return sp.sympify(plain, strict=True)
    raise TypeError(f"{name} must be a sympy expression or a real number; got {_describe(value)}")


def simplifier(value: Any, name: str = "simplify") -> Callable[[Any], Any] | None:
    """``value`` if it is ``None`` or callable (and not a sympy object)."""
    if value is None or (callable(value) and not isinstance(value, sp.Basic)):
        return value
    raise TypeError(f"{name} must be a callable or None; got {_describe(value)}")


def positive_number(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """``value`` as a positive (or, with ``allow_zero``, non-negative) finite float (no bools,
    strings, complex numbers or arrays).

    Examples
    --------
    >>> positive_number(2, "gamma")
    2.0
    >>> positive_number(float("nan"), "gamma")
    Traceback (most recent call last):
    ...
    ValueError: gamma must be positive and finite; got nan
    """
    if isinstance(value, BOOL_TYPES) or not isinstance(value, _NUMBER_TYPES + (sp.Number,)):
        raise TypeError(f"{name} must be a real number or a sympy expression; got {_describe(value)}")
    try:
        out = float(value)
    except (OverflowError, TypeError, ValueError):
        out = math.inf if value > 0 else math.nan
    if not (math.isfinite(out) and (out > 0 or (allow_zero and out == 0))):
        need = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be {need} and finite; got {_describe(value)}")
    return out
