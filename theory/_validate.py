"""The one validation layer every public entry point goes through.

Every error names the argument and the value the user gave (not a derived one): ``TypeError`` for a
value of the wrong kind (a bool, a string, a complex number, an object), ``ValueError`` for a value
of the right kind outside its domain (NaN, ±inf, out of range, wrong shape).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ._limits import MAX_INT64

__all__ = ["as_numpy", "check_range", "choice", "describe", "finite_real", "flag", "optional_positive_real", "positive_real",
           "nonnegative_int", "positive_int", "real_array", "real_vector", "strict_real_array"]


def _describe(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a foreign object whose repr fails is no reason to hide the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


def _has_mask(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is, or (in lists and tuples) holds, a NumPy masked array or ``np.ma.masked``."""
    if isinstance(value, np.ma.MaskedArray):
        return True
    if isinstance(value, (list, tuple)) and depth < 32:
        return any(_has_mask(v, depth + 1) for v in value if not isinstance(v, (int, float)))
    return False


def as_numpy(value: Any, name: str) -> np.ndarray:
    """``np.asarray(value)``, every way it can fail ending in a ``TypeError`` that names ``name``.

    The one conversion of an array argument (#19 kinds 7 and 10): a masked array is refused (NumPy
    would drop its mask and use the hidden values), and a foreign array whose conversion raises its
    own exception (a torch tensor that requires grad, an object whose ``__array__`` raises, a ragged
    nesting) is refused naming the argument.

    Examples
    --------
    >>> as_numpy([1, 2], "batch").tolist()
    [1, 2]
    >>> as_numpy(np.ma.masked_array([1.0, 2.0], mask=[False, True]), "batch")
    Traceback (most recent call last):
    ...
    TypeError: batch must be a plain array, not a masked array (its mask would be ignored): fill or compress it first
    """
    if _has_mask(value):
        raise TypeError(f"{name} must be a plain array, not a masked array (its mask would be ignored): "
                        "fill or compress it first")
    if isinstance(value, np.ndarray):
        return np.asarray(value)
    try:
        out = np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - a foreign array's own error (torch RuntimeError, …), told by name
        raise TypeError(f"{name} could not be read as a NumPy array ({type(exc).__name__}: {str(exc)[:120]}); "
                        f"pass a NumPy array or a list of numbers (a torch tensor: .detach().cpu().numpy()); "
                        f"got {_describe(value)}") from exc
    if isinstance(out, np.ma.MaskedArray):  # an __array__ that answered a masked array
        raise TypeError(f"{name} must be a plain array, not a masked array (its mask would be ignored): "
                        "fill or compress it first")
    return out


def finite_real(value: Any, name: str, *, minimum: float | None = None) -> float:
    """Return ``value`` as a finite float, optionally ``≥ minimum``; raise naming ``name`` otherwise.

    Examples
    --------
    >>> finite_real(2, "lr")
    2.0
    >>> finite_real(True, "lr")
    Traceback (most recent call last):
    ...
    TypeError: lr must be a real number; got True
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        if not (isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"):
            raise TypeError(f"{name} must be a real number; got {_describe(value)}")
    try:
        out = float(value)
    except OverflowError as exc:  # a Python int beyond float range
        raise ValueError(f"{name} must be finite; got {_describe(value)}") from exc
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite; got {_describe(value)}")
    if minimum is not None and out < minimum:
        raise ValueError(f"{name} must be ≥ {minimum}; got {_describe(value)}")
    return out


def positive_real(value: Any, name: str) -> float:
    """Return ``value`` as a finite float ``> 0``; raise naming ``name`` otherwise.

    Examples
    --------
    >>> positive_real(2, "gamma")
    2.0
    >>> positive_real(0.0, "gamma")
    Traceback (most recent call last):
    ...
    ValueError: gamma must be positive; got 0.0
    """
    v = finite_real(value, name)
    if v <= 0:
        raise ValueError(f"{name} must be positive; got {v!r}")
    return v


def optional_positive_real(value: Any, name: str) -> float | None:
    """``None`` for ``None``, else :func:`positive_real` (an optional cap)."""
    return None if value is None else positive_real(value, name)


def positive_int(value: Any, name: str, *, maximum: int = MAX_INT64) -> int:
    """Return ``value`` as an int in ``[1, maximum]`` (integral floats accepted); raise naming ``name``.

    Examples
    --------
    >>> positive_int(3.0, "steps")
    3
    >>> positive_int(0, "steps")
    Traceback (most recent call last):
    ...
    ValueError: steps must be ≥ 1; got 0
    """
    out = nonnegative_int(value, name, maximum=maximum)
    if out < 1:
        raise ValueError(f"{name} must be ≥ 1; got {_describe(value)}")
    return out


def nonnegative_int(value: Any, name: str, *, maximum: int = MAX_INT64) -> int:
    """Return ``value`` as an int in ``[0, maximum]`` (integral floats accepted); raise naming ``name``."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer; got {_describe(value)}")
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value) or not float(value).is_integer():
            raise TypeError(f"{name} must be an integer; got {_describe(value)}")
        out = int(value)
    elif isinstance(value, (int, np.integer)):
        out = int(value)
    else:
        raise TypeError(f"{name} must be an integer; got {_describe(value)}")
    if out < 0:
        raise ValueError(f"{name} must be ≥ 0; got {_describe(value)}")
    if out > maximum:
        raise ValueError(f"{name} must be ≤ {maximum}; got {_describe(value)}")
    return out


def real_array(value: Any, name: str) -> np.ndarray:
    """``value`` as a new float64 array, refusing bools, strings, complex numbers and objects.

    Only the kind is checked here; callers check shape and range with :func:`check_range`.

    Examples
    --------
    >>> real_array([1, 2.5], "batch").tolist()
    [1.0, 2.5]
    >>> real_array(["8"], "batch")
    Traceback (most recent call last):
    ...
    TypeError: batch must hold real numbers; got ['8']
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must hold real numbers; got {_describe(value)}")
    raw = as_numpy(value, name)
    kind = raw.dtype.kind
    if kind == "O":
        # Python ints beyond int64, or mixed objects: accept numbers only, as floats.
        flat = raw.ravel().tolist()
        if not all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                   for v in flat):
            raise TypeError(f"{name} must hold real numbers; got {_describe(value)}")
        try:
            return np.array([float(v) for v in flat], dtype=np.float64).reshape(raw.shape)
        except OverflowError as exc:
            raise ValueError(f"{name} must be finite; got {_describe(value)}") from exc
    if kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers; got {_describe(value)}")
    return np.array(raw, dtype=np.float64, copy=True)


def check_range(arr: np.ndarray, name: str, *, lower: float | None = None, strict: bool = False,
                upper: float | None = None, integer: bool = False, original: Any = None) -> np.ndarray:
    """Raise naming ``name`` and the first bad entry unless ``arr`` is finite, in range (and integral)."""
    bad = ~np.isfinite(arr)
    need = "finite"
    if lower is not None:
        bad |= ~(arr > lower) if strict else ~(arr >= lower)
        need = f"{'>' if strict else '≥'} {lower:g} and finite"
    if upper is not None:
        bad |= ~(arr <= upper)
        need += f" and ≤ {upper:g}"
    if integer:
        bad |= np.isfinite(arr) & (arr != np.round(arr))
        need = "integer-valued, " + need
    if bad.any():
        flat = bad.ravel()
        i = int(np.argmax(flat))
        source = np.asarray(original).ravel() if original is not None and np.ndim(original) else None
        shown = source[i] if source is not None and source.size == flat.size else arr.ravel()[i]
        where = f" at index {i}" if arr.ndim else ""
        raise ValueError(f"{name} must be {need}; got {_describe(shown.item() if hasattr(shown, 'item') else shown)}"
                         f"{where}")
    return arr


def real_vector(
    value: Any, name: str, *, positive: bool = False, nonnegative: bool = False
) -> np.ndarray:
    """Return ``value`` as a read-only 1-D float64 array, checked finite (and > 0 or ≥ 0).

    Examples
    --------
    >>> real_vector([True], "eigenvalues")
    Traceback (most recent call last):
    ...
    TypeError: eigenvalues must hold real numbers; got [True]
    """
    arr = real_array(value, name)
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


def choice(value: Any, name: str, options: Sequence[str]) -> str:
    """Return ``value`` if it is one of the strings ``options``; raise naming ``name`` otherwise.

    A value that is not a string (an array, a list, a number) is a ``TypeError``, never compared
    element by element.

    Examples
    --------
    >>> choice("sgd", "optimizer", ("sgd", "nsgd"))
    'sgd'
    >>> choice(["sgd"], "optimizer", ("sgd", "nsgd"))
    Traceback (most recent call last):
    ...
    TypeError: optimizer must be one of ('sgd', 'nsgd'); got ['sgd']
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {tuple(options)}; got {_describe(value)}")
    if value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}; got {_describe(value)}")
    return value


def flag(value: Any, name: str) -> bool:
    """Return ``value`` as a bool, accepting only ``True``/``False`` (and NumPy's bools).

    Examples
    --------
    >>> flag(False, "integer_batch")
    False
    >>> flag("no", "integer_batch")
    Traceback (most recent call last):
    ...
    TypeError: integer_batch must be True or False; got 'no'
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {_describe(value)}")
    return bool(value)


def describe(value: Any) -> str:
    """A short ``repr`` of a user's value for error messages (at most 80 characters)."""
    return _describe(value)


def _has_bool(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_bool(v) for v in value)
    if isinstance(value, np.ndarray) and value.dtype.kind == "O":
        return any(_has_bool(v) for v in value.ravel().tolist())
    return False


def strict_real_array(value: Any, name: str) -> np.ndarray:
    """:func:`real_array`, also refusing bools *inside* lists and tuples.

    ``np.asarray([1.0, True])`` is a float array, so :func:`real_array` cannot see the ``True``; this
    helper looks at the Python containers first.

    Examples
    --------
    >>> strict_real_array([1.0, True], "batches")
    Traceback (most recent call last):
    ...
    TypeError: batches must hold real numbers; got [1.0, True]
    """
    if _has_bool(value):
        raise TypeError(f"{name} must hold real numbers; got {_describe(value)}")
    return real_array(value, name)
