"""How a computation runs, apart from what it computes: the :class:`Numerics` record.

The exact solver (:func:`ramplab.theory.expected_risk`) and the Monte Carlo
(:func:`ramplab.simulations.simulate`) take the same ``numerics=`` argument: where the arrays live
(``backend``), the floating dtype of the state (``dtype``), the exact solver's implementation
(``kernel``) and the Monte Carlo's runs advanced together (``chunk_size``). None of these changes
the mathematics; ``dtype`` and ``kernel`` change the rounding (docs/math.md#exact-solver-layout),
``chunk_size`` only memory and speed. A plain dict of the same fields is a shorthand
(:func:`resolve_numerics`).
"""

from __future__ import annotations

import importlib
import numbers
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from ._backend import BACKENDS, resolve_dtype
from ._validate import describe, positive_int

__all__ = ["KERNELS", "NUMERICS_FIELDS", "Numerics", "resolve_numerics"]

#: Values of :attr:`Numerics.kernel`.
KERNELS = ("auto", "fused", "reference")
#: The fields of :class:`Numerics`, in order.
NUMERICS_FIELDS = ("backend", "dtype", "kernel", "chunk_size")
#: Values of ``where`` in :func:`resolve_numerics`.
_WHERE = (None, "exact", "monte_carlo")


def _backend(value: Any) -> Any:
    """``backend`` checked: None, a name of :data:`BACKENDS` or an array namespace (a module)."""
    if value is None:
        return None
    if isinstance(value, str):
        if value not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, a namespace or None; got {value!r:.80}")
        return value
    if isinstance(value, ModuleType):
        if not (hasattr(value, "asarray") and hasattr(value, "float64")):
            raise TypeError(f"backend module {value.__name__!r} is not an array API namespace (no asarray/float64)")
        return value
    raise TypeError(f"backend must be one of {BACKENDS}, a namespace or None; got {describe(value)}")


def _dtype(value: Any) -> Any:
    """``dtype`` checked: None, float64 or float32 as NumPy names them, or another library's dtype object.

    NumPy's spellings (``np.float32``, ``np.dtype("float64")``, ``"float32"``) are checked here; a
    dtype object of another namespace (``array_api_strict.float32``) when the backend resolves it.
    """
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_, numbers.Number, np.generic, np.ndarray, bytes, list, tuple, dict, set)):
        raise TypeError(f"dtype must be float64 or float32 (or None); got {describe(value)}")
    if isinstance(value, (str, type, np.dtype)):
        try:
            resolve_dtype(np, value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"dtype must be float64 or float32 (or None); got {value!r:.80}") from exc
    return value


def _rebuild(backend: Any, dtype: Any, kernel: str, chunk_size: int | None, module: bool) -> Numerics:
    """Unpickle a :class:`Numerics` (a namespace travels by its module name)."""
    return Numerics(importlib.import_module(backend) if module else backend, dtype, kernel, chunk_size)


@dataclass(frozen=True)
class Numerics:
    """How :func:`~ramplab.theory.expected_risk` and :func:`~ramplab.simulations.simulate` compute.

    One immutable record of the numerical settings, validated when built (errors name the field),
    with value equality, a hash, and a pickle/copy round trip. None of its fields changes what is
    computed; ``dtype`` and ``kernel`` change the rounding, ``chunk_size`` memory and speed only.

    Parameters
    ----------
    backend : {None, "numpy", "array_api_strict", "cupy", "auto"} or namespace, default None
        Where the arrays live, resolved by :func:`~ramplab.theory.resolve_backend`; results come
        back as NumPy arrays. ``None``: the function's own default, ``"numpy"`` for
        ``expected_risk`` and ``"auto"`` (CuPy when a device is usable, else NumPy) for
        ``simulate``.
    dtype : {None, float64, float32}, default None
        Floating dtype of the state (``None``: the backend's float64); NumPy's spellings are checked
        here, another namespace's dtype objects when the backend resolves them. For the exact solver
        with float32 the fused kernel keeps the state in float32 but does its arithmetic in float64,
        the reference path computes in float32; the relative deviation from float64 grows with the
        steps, about 1e-5 to 1e-4 over 1e5 steps (docs/math.md#exact-solver-layout).
    kernel : {"auto", "fused", "reference"}, default "auto"
        The exact solver's implementation: ``"fused"`` the compiled one-pass kernel (needs numba —
        the ``fast`` extra —, the NumPy backend and float64 or float32), ``"reference"`` the array
        API loop (any backend), ``"auto"`` fused when supported. Both agree to rounding
        (docs/math.md#exact-solver-layout). ``simulate`` has a single implementation and refuses
        any other value than ``"auto"``.
    chunk_size : int, optional
        Monte Carlo runs advanced together (rounded up to a multiple of ``runs_per_stream``); the
        default keeps the ``(chunk, d)`` state at about 2^21 elements. It changes memory and speed,
        not the numbers of any run. ``expected_risk`` has no runs and refuses a value.

    Attributes
    ----------
    backend, dtype, kernel, chunk_size
        As given (``chunk_size`` as an int).

    Raises
    ------
    TypeError, ValueError
        Naming the field: an unknown backend name or a module that is no array namespace, a dtype
        other than float64/float32, an unknown kernel, a chunk size that is not a positive integer.

    See Also
    --------
    resolve_numerics : a record, a dict of its fields or None to a record.

    Examples
    --------
    >>> import pickle
    >>> import numpy as np
    >>> n = Numerics(dtype=np.float32, kernel="reference")
    >>> n
    Numerics(backend=None, dtype=<class 'numpy.float32'>, kernel='reference', chunk_size=None)
    >>> pickle.loads(pickle.dumps(n)) == n, Numerics(chunk_size=4096.0).chunk_size
    (True, 4096)
    >>> Numerics(kernel="fast")
    Traceback (most recent call last):
    ...
    ValueError: kernel must be one of ('auto', 'fused', 'reference'); got 'fast'
    """

    backend: Any = None
    dtype: Any = None
    kernel: str = "auto"
    chunk_size: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "backend", _backend(self.backend))
        object.__setattr__(self, "dtype", _dtype(self.dtype))
        if not isinstance(self.kernel, str) or self.kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {KERNELS}; got {self.kernel!r:.80}")
        if self.chunk_size is not None:
            object.__setattr__(self, "chunk_size", positive_int(self.chunk_size, "chunk_size"))

    def __reduce__(self) -> tuple:
        module = isinstance(self.backend, ModuleType)
        backend = self.backend.__name__ if module else self.backend
        return (_rebuild, (backend, self.dtype, self.kernel, self.chunk_size, module))


def resolve_numerics(numerics: Any, *, where: str | None = None) -> Numerics:
    """The :class:`Numerics` of ``numerics``: a record as given, a dict of its fields, or the defaults.

    Parameters
    ----------
    numerics : Numerics, dict or None
        ``None`` is ``Numerics()``; a dict ``{"backend": ..., "dtype": ..., "kernel": ...,
        "chunk_size": ...}`` (any subset) is ``Numerics(**numerics)``.
    where : {None, "exact", "monte_carlo"}, default None
        Who will use it: ``"exact"`` (``expected_risk``) refuses a ``chunk_size``,
        ``"monte_carlo"`` (``simulate``) a ``kernel`` other than ``"auto"``.

    Returns
    -------
    Numerics

    Raises
    ------
    TypeError
        For a ``numerics`` of another type, or a dict key that is no field (named).
    ValueError
        For a field the user ``where`` does not take (named), and an unknown ``where``; the
        fields' own errors as in :class:`Numerics`.

    Examples
    --------
    >>> resolve_numerics({"kernel": "reference"}) == Numerics(kernel="reference")
    True
    >>> resolve_numerics(None, where="exact")
    Numerics(backend=None, dtype=None, kernel='auto', chunk_size=None)
    >>> resolve_numerics(Numerics(chunk_size=64), where="exact")
    Traceback (most recent call last):
    ...
    ValueError: numerics.chunk_size applies to simulate (runs advanced together); expected_risk takes none, got 64
    """
    if where not in _WHERE:
        raise ValueError(f"where must be one of {_WHERE}; got {where!r:.80}")
    if numerics is None:
        out = Numerics()
    elif isinstance(numerics, Numerics):
        out = numerics
    elif isinstance(numerics, dict):
        unknown = [k for k in numerics if k not in NUMERICS_FIELDS]
        if unknown:
            raise TypeError(f"numerics has no field {unknown[0]!r:.80}; its fields are {NUMERICS_FIELDS}")
        out = Numerics(**numerics)
    else:
        raise TypeError(f"numerics must be a Numerics, a dict of its fields {NUMERICS_FIELDS} or None; got "
                        f"{describe(numerics)}")
    if where == "exact" and out.chunk_size is not None:
        raise ValueError(f"numerics.chunk_size applies to simulate (runs advanced together); expected_risk takes "
                         f"none, got {out.chunk_size!r}")
    if where == "monte_carlo" and out.kernel != "auto":
        raise ValueError(f"numerics.kernel applies to the exact solver (expected_risk); simulate has one "
                         f"implementation and takes kernel='auto', got {out.kernel!r}")
    return out
