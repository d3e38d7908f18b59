"""The one place that resolves the array backend.

Array code in :mod:`theory` and :mod:`simulations` is written against the array API standard. It
asks this module for a namespace (``xp``) and never imports NumPy-only functions for array work.
CuPy is imported lazily and only used when it reports a usable device, so nothing here needs a GPU.

Backends are named ``"numpy"``, ``"cupy"``, ``"array_api_strict"`` (the strict stand-in used by
the tests to catch NumPy-only calls) or ``"auto"`` (CuPy when usable, else NumPy); an already
imported namespace is accepted too.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import numpy as np
from array_api_compat import array_namespace, is_cupy_namespace, is_numpy_namespace

__all__ = [
    "BACKENDS",
    "array_namespace",
    "backend_name",
    "cupy_available",
    "resolve_backend",
    "resolve_dtype",
    "to_numpy",
]

BACKENDS = ("auto", "numpy", "cupy", "array_api_strict")


def cupy_available() -> bool:
    """Return whether CuPy imports and sees at least one usable CUDA device.

    Returns
    -------
    bool
        ``False`` on a machine without CuPy or without a CUDA device (never raises).

    Examples
    --------
    >>> isinstance(cupy_available(), bool)
    True
    """
    try:
        cupy = importlib.import_module("cupy")
    except Exception:  # ImportError, or a CUDA library that fails to load
        return False
    try:
        return bool(cupy.is_available())
    except Exception:
        return False


def _compat(name: str) -> ModuleType:
    # array_api_compat wraps NumPy and CuPy so that they follow the standard exactly.
    return importlib.import_module(f"array_api_compat.{name}")


def resolve_backend(backend: str | ModuleType | None = "auto") -> ModuleType:
    """Return the array namespace for ``backend``.

    Parameters
    ----------
    backend : {"auto", "numpy", "cupy", "array_api_strict"}, module or None
        ``"auto"`` (and ``None``) picks CuPy when :func:`cupy_available`, else NumPy. A module is
        taken as an array API namespace and returned through ``array_api_compat`` when it wraps one.

    Returns
    -------
    module
        An array API compatible namespace.

    Raises
    ------
    ValueError
        For an unknown name, or ``"cupy"`` without a usable CUDA device.

    Examples
    --------
    >>> backend_name(resolve_backend("numpy"))
    'numpy'
    >>> resolve_backend("fortran")
    Traceback (most recent call last):
    ...
    ValueError: backend must be one of ('auto', 'numpy', 'cupy', 'array_api_strict') or a namespace, got 'fortran'
    """
    if not (backend is None or isinstance(backend, (str, ModuleType))):
        raise TypeError(f"backend must be one of {BACKENDS}, a namespace or None; got {type(backend).__name__}")
    if backend is None or backend == "auto":
        return _compat("cupy") if cupy_available() else _compat("numpy")
    if isinstance(backend, ModuleType):
        if backend is np or is_numpy_namespace(backend):
            return _compat("numpy")
        if is_cupy_namespace(backend):
            return _compat("cupy")
        if not (hasattr(backend, "asarray") and hasattr(backend, "float64")):
            raise TypeError(f"backend module {backend.__name__!r} is not an array API namespace (no asarray/float64)")
        return backend
    if backend == "numpy":
        return _compat("numpy")
    if backend == "cupy":
        if not cupy_available():
            raise ValueError("backend='cupy' needs CuPy and a usable CUDA device; none was found")
        return _compat("cupy")
    if backend == "array_api_strict":
        return importlib.import_module("array_api_strict")
    raise ValueError(f"backend must be one of {BACKENDS} or a namespace, got {backend!r}")


def backend_name(xp: ModuleType) -> str:
    """Return a short name for the namespace ``xp`` (``"numpy"``, ``"cupy"``, or its module name).

    Parameters
    ----------
    xp : module
        An array namespace (a module with ``asarray``).

    Returns
    -------
    str
        The short name.

    Raises
    ------
    TypeError
        If ``xp`` is not an array namespace.

    Examples
    --------
    >>> import array_api_strict
    >>> backend_name(array_api_strict)
    'array_api_strict'
    """
    if not (isinstance(xp, ModuleType) and hasattr(xp, "asarray")):
        raise TypeError(f"xp must be an array namespace (a module with asarray); got {xp!r:.80}")
    if is_numpy_namespace(xp):
        return "numpy"
    if is_cupy_namespace(xp):
        return "cupy"
    return xp.__name__.split(".")[0]


def to_numpy(x: Any) -> np.ndarray:
    """Return ``x`` as a NumPy array on the host (the one exit point for device arrays).

    Parameters
    ----------
    x : array_like
        A NumPy, CuPy or array-API array (or anything ``numpy.asarray`` takes).

    Returns
    -------
    numpy.ndarray
        On the host; ``x`` itself when it already is one.

    Examples
    --------
    >>> import array_api_strict as xps
    >>> to_numpy(xps.asarray([1.0, 2.0]))
    array([1., 2.])
    """
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "get") and type(x).__module__.startswith("cupy"):
        return x.get()
    try:
        return np.from_dlpack(x)
    except (TypeError, RuntimeError, AttributeError, BufferError):
        return np.asarray(x)


def resolve_dtype(xp: Any, dtype: Any) -> Any:
    """The backend's float64 or float32 for ``dtype`` (None → float64); anything else is a TypeError."""
    if dtype is None:
        return xp.float64
    if isinstance(dtype, (np.generic, np.ndarray)):  # np.dtype() would read a value's own dtype
        raise TypeError(f"dtype must be float64 or float32 (or None); got the value {dtype!r}")
    for candidate in (xp.float64, xp.float32):
        try:
            if dtype == candidate:
                return candidate
        except (TypeError, ValueError):
            pass
    try:
        as_numpy = np.dtype(dtype)
    except TypeError:
        as_numpy = None
    if as_numpy is not None and as_numpy.kind == "f" and as_numpy.itemsize in (4, 8):
        return xp.float32 if as_numpy.itemsize == 4 else xp.float64
    raise TypeError(f"dtype must be float64 or float32 (or None); got {dtype!r}")
