"""Argument checks shared by the constructors: every error names the argument and the bad value."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["finite_real", "positive_int", "real_vector"]


def finite_real(value: Any, name: str, *, minimum: float | None = None) -> float:
    """Return ``value`` as a finite float, optionally ``≥ minimum``; raise naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        if not (isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"):
            raise TypeError(f"{name} must be a real number; got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite; got {out!r}")
    if minimum is not None and out < minimum:
        raise ValueError(f"{name} must be ≥ {minimum}; got {out!r}")
    return out


def positive_int(value: Any, name: str) -> int:
    """Return ``value`` as an int ≥ 1 (integral floats accepted); raise naming ``name`` otherwise."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        value = int(value)
    if not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be ≥ 1; got {value!r}")
    return int(value)


def real_vector(
    value: Any, name: str, *, positive: bool = False, nonnegative: bool = False
) -> np.ndarray:
    """Return ``value`` as a read-only 1-D float64 array, checked finite (and > 0 or ≥ 0)."""
    try:
        arr = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a 1-D array of real numbers; got {value!r}") from exc
    if arr.ndim != 1 or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array; got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if positive:
        bad |= ~(arr > 0)
        requirement = "positive and finite"
    elif nonnegative:
        bad |= ~(arr >= 0)
        requirement = "non-negative and finite"
    else:
        requirement = "finite"
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name} must be {requirement}; got {float(arr[i])!r} at index {i}")
    arr.flags.writeable = False
    return arr
