"""Base learning-rate shapes, defined as functions of the number of samples seen.

A shape is a pure, immutable description of ``η(τ)`` for ``τ ∈ [0, total_samples]``. Defining the
rate in *samples* (not steps) is what lets a batch ramp change the step count without silently
shifting the decay: :meth:`theory.Schedule.from_shape` evaluates the shape at the samples consumed
before each step (the left end of the step's sample interval).

All shapes expose ``peak`` (``η_0``), ``total_samples`` and ``warmup_samples`` (0 when there is no
warmup). Fractions (``warmup_fraction``, ``decay_fraction``, ``floor``) are relative to
``total_samples`` and ``peak``. Sample positions must be finite and ``≥ 0`` (a NaN, an infinity, a
negative count, a bool or a string raises, naming ``samples``); positions past the horizon read
the rate at its end. Rates may be 0 (a warmup from ``warmup_start=0``, a decay to ``final=0``).
"""

from __future__ import annotations

import bisect
import math
import numbers
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .._validate import as_numpy, choice, finite_real, positive_real

__all__ = ["Constant", "Cosine", "InverseSqrt", "LRShape", "Linear", "PowerDecay", "StepDecay", "WarmupCosine", "WSD"]


@dataclass(frozen=True)
class LRShape:
    """Base class: ``peak`` rate ``η_0`` over a horizon of ``total_samples`` samples.

    A shape is a function of **samples**, not steps (docs/math.md#lr-shapes), so a batch ramp never
    shifts a decay by accident; subclasses define the rate on the horizon fraction ``u = τ/D``.

    Parameters
    ----------
    peak : float
        ``η_0 > 0``, the largest learning rate.
    total_samples : float
        The horizon in samples (``> 0``); rates past it read the rate at the horizon.

    Raises
    ------
    ValueError
        For a non-positive or non-finite ``peak`` or ``total_samples``.

    Examples
    --------
    >>> shape = Linear(1.0, 100)            # any subclass: LRShape itself defines no rate
    >>> isinstance(shape, LRShape), shape.peak, shape.total_samples
    (True, 1.0, 100.0)
    """

    peak: float
    total_samples: float

    def __post_init__(self) -> None:
        peak = positive_real(self.peak, "peak")
        total = positive_real(self.total_samples, "total_samples")
        object.__setattr__(self, "peak", peak)
        object.__setattr__(self, "total_samples", total)

    @property
    def warmup_samples(self) -> float:
        """Samples spent in warmup (0 for shapes without one)."""
        return 0.0

    def __call__(self, samples: Any) -> np.ndarray:
        """Return ``η(τ)`` at ``samples`` (docs/math.md#lr-shapes).

        Parameters
        ----------
        samples : array_like of float, any shape
            Sample counts ``τ ≥ 0``; counts past ``total_samples`` read the rate at the horizon.

        Returns
        -------
        numpy.ndarray
            Rates, float64, the shape of ``samples``.

        Raises
        ------
        ValueError
            For a NaN, infinite or negative sample count.
        TypeError
            For bools, strings, complex numbers or other non-real input.

        Examples
        --------
        >>> Linear(1.0, 10)([0, 5, 20]).tolist()
        [1.0, 0.5, 0.0]
        >>> Linear(1.0, 10)(float("nan"))
        Traceback (most recent call last):
        ...
        ValueError: samples must be finite and ≥ 0; got nan
        """
        tau = _sample_positions(samples)
        return self._rate(np.minimum(tau, self.total_samples) / self.total_samples)

    def _rate(self, u: np.ndarray) -> np.ndarray:  # u = τ / total in [0, 1]
        raise NotImplementedError

    def _rate1(self, u: float) -> float:
        """The rate at one horizon fraction ``u ∈ [0, 1]`` (pure-Python fast path of :meth:`_rate`).

        The built-in shapes override it with the same formulas in ``math``; the fallback goes
        through :meth:`_rate`.
        """
        return float(self._rate(np.array([u], dtype=np.float64))[0])

    def _flat_end(self, u: float) -> float:
        """End (a horizon fraction ``> u``) of a stretch ``[u, end)`` on which the rate is constant.

        Returns ``u`` itself where the shape does not know of such a stretch (the generic answer).
        Builders that emit one step per rate use it to emit a constant stretch as one segment.
        """
        return u

    # ------------------------------------------------------------ crossings and integrals
    def crossing(self, level: float) -> float:
        """First sample count, at or after the warmup, where the rate is at most ``level``.

        Seesaw's milestones are ``crossing(η_0 f^{−k})`` (docs/math.md#seesaw-rule). The built-in shapes
        answer in closed form; any other shape falls back to a scan of the post-warmup horizon
        followed by bisection (exact for shapes that do not increase after their warmup). A rate
        within a relative ``1e-12`` of ``level`` counts as having reached it, so that a step
        decay by ``1/f`` meets the level ``f^{−k}`` despite rounding.

        Parameters
        ----------
        level : float
            Positive learning-rate level.

        Returns
        -------
        float
            The sample count, or ``math.inf`` when the rate never falls to ``level``.

        Examples
        --------
        >>> Linear(1.0, 100, final=0.0).crossing(0.25)
        75.0
        >>> Cosine(1.0, 100, final=0.5).crossing(0.25)
        inf
        >>> WarmupCosine(1.0, 100).crossing(2.0)   # at or above the peak: the end of the warmup
        10.0
        """
        level = positive_real(level, "level")
        return self._crossing_rel(level / self.peak)

    def _crossing_rel(self, ell: float) -> float:
        """:meth:`crossing` of the relative level ``ell = level / η_0 ≥ 0`` (no argument checks)."""
        u = self._crossing_fraction(ell)
        if not math.isfinite(u):
            return math.inf
        total = self.total_samples
        tau = u * total
        target = ell * self.peak * (1.0 + _LEVEL_RTOL)
        # u · total can land an ulp before a jump (a step decay's boundary): move onto it.
        for _ in range(8):
            if tau >= total or self._rate1(tau / total) <= target:
                break
            tau = math.nextafter(tau, math.inf)
        return tau

    def integral(self, start: float = 0.0, stop: float | None = None) -> float:
        """``∫ η(τ) dτ`` from ``start`` to ``stop`` samples (default: the whole horizon).

        ``integral() / (peak · total_samples)`` is the continuous-limit serial-step fraction of a
        Seesaw ramp without warmup (docs/math.md#seesaw-rule). Closed form for the built-in shapes, adaptive
        quadrature otherwise.

        Parameters
        ----------
        start : float, default 0.0
            Lower limit in samples (``≥ 0``; clipped to the horizon).
        stop : float, optional
            Upper limit in samples (``≥ start``); the horizon by default.

        Returns
        -------
        float
            The integral, in learning rate × samples.

        Examples
        --------
        >>> Linear(1.0, 10, final=0.0).integral()
        5.0
        >>> round(Cosine(2.0, 1.0, quarter=True).integral(), 12)   # 2 · 2/π
        1.273239544735
        """
        total = self.total_samples
        a = finite_real(start, "start")
        b = total if stop is None else finite_real(stop, "stop")
        for name, v in (("start", a), ("stop", b)):
            if v < 0:
                raise ValueError(f"{name} must be a sample count ≥ 0; got {v!r}")
        if b < a:
            raise ValueError(f"stop must be ≥ start; got start={a!r}, stop={b!r}")
        a, b = min(a, total), min(b, total)
        if a == b:
            return 0.0
        return self.peak * total * (self._primitive(b / total) - self._primitive(a / total))

    def _crossing_fraction(self, ell: float) -> float:
        """Fraction of the horizon where ``η/η_0`` first falls to ``ell`` (generic fallback)."""
        w = self.warmup_samples / self.total_samples
        target = ell * (1.0 + _LEVEL_RTOL) * self.peak
        grid = np.linspace(w, 1.0, 4097)
        below = self._rate(grid) <= target
        if not below.any():
            return math.inf
        i = int(np.argmax(below))
        if i == 0:
            return w
        lo, hi = float(grid[i - 1]), float(grid[i])
        while True:
            mid = 0.5 * (lo + hi)
            if not lo < mid < hi:
                return hi
            if self._rate(np.array([mid]))[0] <= target:
                hi = mid
            else:
                lo = mid

    def _primitive(self, u: float) -> float:
        """``∫_0^u η(vT)/η_0 dv`` (generic fallback: adaptive quadrature)."""
        from scipy.integrate import quad

        if u <= 0.0:
            return 0.0
        points = [k for k in self._kinks() if 0.0 < k < u] or None
        value, _ = quad(lambda v: float(self._rate(np.array([v]))[0]) / self.peak, 0.0, u,
                        points=points, limit=200, epsabs=1e-13, epsrel=1e-11)
        return float(value)

    def _kinks(self) -> tuple[float, ...]:
        """Fractions of the horizon where the rate may jump or bend (helps quadrature)."""
        return (self.warmup_samples / self.total_samples,)


def _ramp(u: np.ndarray, start: float, length: float) -> np.ndarray:
    """``clip((u − start)/length, 0, 1)``, dividing only where ``start < u < start + length``.

    Tiny (even subnormal) lengths are valid fractions; dividing everywhere would overflow.
    """
    inside = (u > start) & (u < start + length)
    out = np.where(u >= start + length, 1.0, 0.0)
    return np.divide(u - start, length, out=out, where=inside)


def _ramp1(u: float, start: float, length: float) -> float:
    """Scalar :func:`_ramp` (the same cases, the same arithmetic)."""
    if u >= start + length:
        return 1.0
    if u > start:
        return (u - start) / length
    return 0.0


def _sample_positions(samples: Any) -> np.ndarray:
    """``samples`` as a float64 array of finite counts ``≥ 0``; raise naming ``samples`` otherwise."""
    if samples is None or isinstance(samples, (bool, np.bool_, str, bytes)):
        raise TypeError(f"samples must be real sample counts; got {samples!r}")
    arr = as_numpy(samples, "samples")  # ragged nesting, foreign arrays and masks: a TypeError naming it
    if arr.dtype.kind == "O":
        flat = arr.ravel()
        if not all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in flat):
            raise TypeError(f"samples must be real sample counts; got {samples!r}")
    elif arr.dtype.kind not in "iuf":
        raise TypeError(f"samples must be real sample counts; got {samples!r}")
    try:
        arr = arr.astype(np.float64)
    except OverflowError as exc:
        raise ValueError(f"samples must be finite and ≥ 0; got {samples!r}") from exc
    bad = ~(np.isfinite(arr) & (arr >= 0))
    if bad.any():
        if arr.ndim == 0:
            raise ValueError(f"samples must be finite and ≥ 0; got {float(arr)!r}")
        i = np.unravel_index(int(np.argmax(bad)), arr.shape)
        where = i[0] if len(i) == 1 else tuple(int(x) for x in i)
        raise ValueError(f"samples must be finite and ≥ 0; got {float(arr[i])!r} at index {where}")
    return arr


def _fraction(value: Any, name: str, *, closed_right: bool = True) -> float:
    v = finite_real(value, name)
    if not (0.0 <= v <= 1.0) or (not closed_right and v == 1.0):
        raise ValueError(f"{name} must lie in [0, 1{']' if closed_right else ')'}; got {v!r}")
    return v


# A rate within this relative distance of a level counts as having reached it (see LRShape.crossing).
_LEVEL_RTOL = 1e-12


def _decay_inverse(x: float, kind: str) -> float:
    """``v ∈ [0, 1]`` with ``h(v) = x`` for the decreasing decay profiles ``h(0) = 1``, ``h(1) = 0``."""
    if kind == "linear":
        return 1.0 - x
    if kind == "cosine":  # h = (1 + cos πv)/2
        return math.acos(2.0 * x - 1.0) / math.pi
    if kind == "quarter":  # h = cos(πv/2)
        return 2.0 * math.acos(x) / math.pi
    return (1.0 - x) ** 2  # "sqrt": h = 1 − sqrt(v)


def _decay_primitive(v: float, kind: str) -> float:
    """``∫_0^v h`` for the same profiles."""
    if kind == "linear":
        return v - 0.5 * v * v
    if kind == "cosine":
        return 0.5 * v + math.sin(math.pi * v) / (2.0 * math.pi)
    if kind == "quarter":
        return 2.0 * math.sin(0.5 * math.pi * v) / math.pi
    return v - (2.0 / 3.0) * v**1.5


def _decay_crossing(ell: float, floor: float, kind: str) -> float:
    """Where ``floor + (1 − floor) h(v)`` first falls to ``ell`` (0 if ``ell ≥ 1``; inf below floor)."""
    if ell * (1.0 + _LEVEL_RTOL) >= 1.0:
        return 0.0
    if ell * (1.0 + _LEVEL_RTOL) < floor:
        return math.inf
    x = (ell - floor) / (1.0 - floor)  # floor ≤ ell < 1 here
    return _decay_inverse(min(max(x, 0.0), 1.0), kind)


def _floored_primitive(v: float, floor: float, kind: str) -> float:
    """``∫_0^v [floor + (1 − floor) h]``."""
    return floor * v + (1.0 - floor) * _decay_primitive(v, kind)


def _warmup_primitive(u: float, w: float, start: float) -> float:
    """``∫_0^u`` of the linear warmup from ``start`` to 1 over ``[0, w]`` (``u ≤ w``)."""
    return start * u + (1.0 - start) * u * u / (2.0 * w) if w > 0 else 0.0


@dataclass(frozen=True)
class Constant(LRShape):
    """``η(τ) = η_0``.

    Parameters
    ----------
    peak : float
        ``η_0 > 0``, the largest learning rate.
    total_samples : float
        The horizon in samples (``> 0``); rates past it read the rate at the horizon.

    Examples
    --------
    >>> Constant(0.1, 100)([0, 50, 100]).tolist()
    [0.1, 0.1, 0.1]
    """

    def _rate(self, u: np.ndarray) -> np.ndarray:
        return np.full_like(u, self.peak)

    def _rate1(self, u: float) -> float:
        return self.peak

    def _flat_end(self, u: float) -> float:
        return 1.0

    def _crossing_fraction(self, ell: float) -> float:
        return 0.0 if ell * (1.0 + _LEVEL_RTOL) >= 1.0 else math.inf

    def _primitive(self, u: float) -> float:
        return u


@dataclass(frozen=True)
class StepDecay(LRShape):
    """Piecewise constant: multiply by ``factor`` at each boundary (fractions of the horizon).

    A boundary belongs to the new phase (optax convention).

    Parameters
    ----------
    peak : float
        ``η_0 > 0``, the largest learning rate.
    total_samples : float
        The horizon in samples (``> 0``); rates past it read the rate at the horizon.
    boundaries : sequence of float, default (0.5,)
        Increasing fractions of the horizon in ``[0, 1]`` where the rate changes.
    factor : float, default 0.5
        Multiplier applied at each boundary, in ``(0, 1]``.

    Examples
    --------
    >>> StepDecay(1.0, 100, boundaries=(0.5, 0.75), factor=0.1)([0, 49, 50, 75]).round(12).tolist()
    [1.0, 1.0, 0.1, 0.01]
    """

    boundaries: Sequence[float] = (0.5,)
    factor: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        given = self.boundaries
        if (isinstance(given, (str, bytes, dict)) or not hasattr(given, "__iter__")
                or isinstance(given, np.ndarray) and given.ndim != 1):
            raise TypeError(f"boundaries must be a sequence of fractions in [0, 1]; got {given!r}")
        try:
            b = tuple(_fraction(x, "boundaries") for x in given)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"boundaries must be fractions in [0, 1]; got {given!r}") from exc
        if any(y <= x for x, y in zip(b, b[1:])):
            raise ValueError(f"boundaries must be strictly increasing; got {given!r}")
        f = finite_real(self.factor, "factor")
        if not 0 < f:
            raise ValueError(f"factor must be positive; got {f!r}")
        try:
            last = self.peak * f ** len(b)
        except OverflowError:
            last = math.inf
        if not math.isfinite(last):
            raise ValueError(
                f"factor={f!r} overflows float64 after {len(b)} boundaries (peak {self.peak!r})"
            )
        object.__setattr__(self, "boundaries", b)
        object.__setattr__(self, "factor", f)

    def _rate(self, u: np.ndarray) -> np.ndarray:
        k = np.searchsorted(np.asarray(self.boundaries), u, side="right")
        return self.peak * self.factor**k

    def _rate1(self, u: float) -> float:
        return self.peak * self.factor ** bisect.bisect_right(self.boundaries, u)

    def _flat_end(self, u: float) -> float:
        k = bisect.bisect_right(self.boundaries, u)
        return self.boundaries[k] if k < len(self.boundaries) else 1.0

    def _kinks(self) -> tuple[float, ...]:
        return self.boundaries

    def _crossing_fraction(self, ell: float) -> float:
        starts = (0.0,) + self.boundaries
        for k, u in enumerate(starts):
            if self.factor**k <= ell * (1.0 + _LEVEL_RTOL):
                return u
        return math.inf

    def _primitive(self, u: float) -> float:
        edges = (0.0,) + self.boundaries + (1.0,)
        return sum(self.factor**k * max(0.0, min(u, hi) - lo)
                   for k, (lo, hi) in enumerate(zip(edges, edges[1:])))


@dataclass(frozen=True)
class Linear(LRShape):
    """Linear from ``η_0`` to ``final · η_0`` over the horizon.

    Parameters
    ----------
    peak : float
        ``η_0 > 0``, the largest learning rate.
    total_samples : float
        The horizon in samples (``> 0``); rates past it read the rate at the horizon.
    final : float, default 0.0
        Final rate as a fraction of the peak, in ``[0, 1]``.

    Examples
    --------
    >>> Linear(1.0, 10, final=0.0)([0, 5, 10]).tolist()
    [1.0, 0.5, 0.0]
    """

    final: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "final", _fraction(self.final, "final"))

    def _rate(self, u: np.ndarray) -> np.ndarray:
        return self.peak * (1.0 - (1.0 - self.final) * u)

    def _rate1(self, u: float) -> float:
        return self.peak * (1.0 - (1.0 - self.final) * u)

    def _flat_end(self, u: float) -> float:
        return 1.0 if self.final == 1.0 else u

    def _crossing_fraction(self, ell: float) -> float:
        return _decay_crossing(ell, self.final, "linear")

    def _primitive(self, u: float) -> float:
        return _floored_primitive(u, self.final, "linear")


@dataclass(frozen=True)
class Cosine(LRShape):
    """Cosine decay from ``η_0`` to ``final · η_0``: half cosine, or quarter cosine ``η_0 cos(πu/2)``.

    Parameters
    ----------
    peak : float
        ``η_0 > 0``, the largest learning rate.
    total_samples : float
        The horizon in samples (``> 0``); rates past it read the rate at the horizon.
    final : float, default 0.0
        Final rate as a fraction of the peak, in ``[0, 1]``.
    quarter : bool, default False
        ``True`` for the quarter cosine instead of the half cosine.

    Examples
    --------
    >>> Cosine(1.0, 2.0)([0, 1, 2]).round(12).tolist()
    [1.0, 0.5, 0.0]
    >>> Cosine(1.0, 2.0, quarter=True)([1]).round(12).tolist()
    [0.707106781187]
    """

    final: float = 0.0
    quarter: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "final", _fraction(self.final, "final"))
        if not isinstance(self.quarter, (bool, np.bool_)):
            raise TypeError(f"quarter must be a bool; got {self.quarter!r}")
        object.__setattr__(self, "quarter", bool(self.quarter))

    def _rate(self, u: np.ndarray) -> np.ndarray:
        g = np.cos(0.5 * math.pi * u) if self.quarter else 0.5 * (1.0 + np.cos(math.pi * u))
        return self.peak * (self.final + (1.0 - self.final) * g)

    def _rate1(self, u: float) -> float:
        g = math.cos(0.5 * math.pi * u) if self.quarter else 0.5 * (1.0 + math.cos(math.pi * u))
        return self.peak * (self.final + (1.0 - self.final) * g)

    def _flat_end(self, u: float) -> float:
        return 1.0 if self.final == 1.0 else u

    def _crossing_fraction(self, ell: float) -> float:
        return _decay_crossing(ell, self.final, "quarter" if self.quarter else "cosine")

    def _primitive(self, u: float) -> float:
        return _floored_primitive(u, self.final, "quarter" if self.quarter else "cosine")


@dataclass(frozen=True)
class WarmupCosine(LRShape):
    """Linear warmup from ``warmup_start · η_0`` to ``η_0``, then half cosine to ``floor · η_0``.

    The defaults are the released Seesaw setting (docs/math.md#serial-step-reduction): 10 % warmup from 0.1 η_0, floor 0.1.

    Parameters
    ----------
    peak : float
        ``η_0 > 0``, the largest learning rate.
    total_samples : float
        The horizon in samples (``> 0``); rates past it read the rate at the horizon.
    warmup_fraction : float, default 0.1
        Fraction of the horizon spent in the warmup, in ``[0, 1)``.
    warmup_start : float, default 0.1
        The warmup starts at ``warmup_start · η_0``.
    floor : float, default 0.1
        Final rate as a fraction of the peak.

    Examples
    --------
    >>> s = WarmupCosine(1.0, 100)
    >>> s([0, 10, 100]).round(12).tolist()
    [0.1, 1.0, 0.1]
    """

    warmup_fraction: float = 0.1
    warmup_start: float = 0.1
    floor: float = 0.1

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(
            self, "warmup_fraction", _fraction(self.warmup_fraction, "warmup_fraction", closed_right=False)
        )
        object.__setattr__(self, "warmup_start", _fraction(self.warmup_start, "warmup_start"))
        object.__setattr__(self, "floor", _fraction(self.floor, "floor"))

    @property
    def warmup_samples(self) -> float:
        return self.warmup_fraction * self.total_samples

    def _rate(self, u: np.ndarray) -> np.ndarray:
        w = self.warmup_fraction
        warm = self.warmup_start + (1.0 - self.warmup_start) * _ramp(u, 0.0, w)
        v = _ramp(u, w, 1.0 - w)
        decay = self.floor + (1.0 - self.floor) * 0.5 * (1.0 + np.cos(math.pi * v))
        return self.peak * np.where(u < w, warm, decay)

    def _rate1(self, u: float) -> float:
        w = self.warmup_fraction
        if u < w:
            return self.peak * (self.warmup_start + (1.0 - self.warmup_start) * _ramp1(u, 0.0, w))
        v = _ramp1(u, w, 1.0 - w)
        return self.peak * (self.floor + (1.0 - self.floor) * 0.5 * (1.0 + math.cos(math.pi * v)))

    def _flat_end(self, u: float) -> float:
        w = self.warmup_fraction
        if u < w:
            return w if self.warmup_start == 1.0 else u
        return 1.0 if self.floor == 1.0 else u

    def _crossing_fraction(self, ell: float) -> float:
        w = self.warmup_fraction
        return w + (1.0 - w) * _decay_crossing(ell, self.floor, "cosine")

    def _primitive(self, u: float) -> float:
        w = self.warmup_fraction
        if u <= w:
            return _warmup_primitive(u, w, self.warmup_start)
        return _warmup_primitive(w, w, self.warmup_start) + (1.0 - w) * _floored_primitive(
            (u - w) / (1.0 - w), self.floor, "cosine")


@dataclass(frozen=True)
class WSD(LRShape):
    """Warmup–stable–decay: linear warmup, constant ``η_0``, then a decay to ``floor · η_0``.

    Parameters
    ----------
    peak : float
        ``η_0 > 0``, the largest learning rate.
    total_samples : float
        The horizon in samples (``> 0``); rates past it read the rate at the horizon.
    warmup_fraction, decay_fraction : float
        Fractions of the horizon spent in warmup and in the final decay.
    floor : float
        Final rate as a fraction of the peak.
    decay : {"linear", "cosine", "sqrt"}
        Shape of the final decay (``"sqrt"``: ``1 − sqrt(v)``).
    warmup_start : float
        Warmup starts at ``warmup_start · η_0``.

    Examples
    --------
    >>> s = WSD(1.0, 100, warmup_fraction=0.1, decay_fraction=0.2, floor=0.0)
    >>> s([0, 10, 50, 80, 90, 100]).round(12).tolist()
    [0.1, 1.0, 1.0, 1.0, 0.5, 0.0]
    """

    warmup_fraction: float = 0.0
    decay_fraction: float = 0.2
    floor: float = 0.0
    decay: str = "linear"
    warmup_start: float = 0.1

    def __post_init__(self) -> None:
        super().__post_init__()
        w = _fraction(self.warmup_fraction, "warmup_fraction", closed_right=False)
        dfrac = _fraction(self.decay_fraction, "decay_fraction")
        if w + dfrac > 1.0:
            raise ValueError(
                f"warmup_fraction + decay_fraction must be ≤ 1; got {w!r} + {dfrac!r}"
            )
        choice(self.decay, "decay", ("linear", "cosine", "sqrt"))
        object.__setattr__(self, "warmup_fraction", w)
        object.__setattr__(self, "decay_fraction", dfrac)
        object.__setattr__(self, "floor", _fraction(self.floor, "floor"))
        object.__setattr__(self, "warmup_start", _fraction(self.warmup_start, "warmup_start"))

    @property
    def warmup_samples(self) -> float:
        return self.warmup_fraction * self.total_samples

    def _rate(self, u: np.ndarray) -> np.ndarray:
        w, dfrac = self.warmup_fraction, self.decay_fraction
        warm = self.warmup_start + (1.0 - self.warmup_start) * _ramp(u, 0.0, w)
        v = _ramp(u, 1.0 - dfrac, dfrac)
        if self.decay == "linear":
            g = 1.0 - v
        elif self.decay == "cosine":
            g = 0.5 * (1.0 + np.cos(math.pi * v))
        else:
            g = 1.0 - np.sqrt(v)
        decay = self.floor + (1.0 - self.floor) * g
        return self.peak * np.where(u < w, warm, decay)

    def _rate1(self, u: float) -> float:
        w, dfrac = self.warmup_fraction, self.decay_fraction
        if u < w:
            return self.peak * (self.warmup_start + (1.0 - self.warmup_start) * _ramp1(u, 0.0, w))
        v = _ramp1(u, 1.0 - dfrac, dfrac)
        if self.decay == "linear":
            g = 1.0 - v
        elif self.decay == "cosine":
            g = 0.5 * (1.0 + math.cos(math.pi * v))
        else:
            g = 1.0 - math.sqrt(v)
        return self.peak * (self.floor + (1.0 - self.floor) * g)

    def _flat_end(self, u: float) -> float:
        w, stable_end = self.warmup_fraction, 1.0 - self.decay_fraction
        if u < w:
            return w if self.warmup_start == 1.0 else u
        if self.floor == 1.0:
            return 1.0
        return stable_end if u < stable_end else u

    def _kinks(self) -> tuple[float, ...]:
        return (self.warmup_fraction, 1.0 - self.decay_fraction)

    def _crossing_fraction(self, ell: float) -> float:
        v = _decay_crossing(ell, self.floor, self.decay)
        if v == 0.0:
            return self.warmup_fraction
        return (1.0 - self.decay_fraction) + self.decay_fraction * v

    def _primitive(self, u: float) -> float:
        w, dfrac = self.warmup_fraction, self.decay_fraction
        if u <= w:
            return _warmup_primitive(u, w, self.warmup_start)
        stable_end = 1.0 - dfrac
        out = _warmup_primitive(w, w, self.warmup_start) + (min(u, stable_end) - w)
        if u > stable_end and dfrac > 0:
            out += dfrac * _floored_primitive((u - stable_end) / dfrac, self.floor, self.decay)
        return out



@dataclass(frozen=True)
class InverseSqrt(LRShape):
    """Linear warmup, an optional constant stretch, then ``η_0 sqrt(τ_s/τ)``: the inverse-square-root schedule.

    With ``s = warmup_fraction + constant_fraction`` and ``u = τ/D``: the warmup rises linearly from
    ``warmup_start · η_0`` to ``η_0`` over ``[0, w]``, the rate stays ``η_0`` on ``[w, s]`` and is
    ``η_0 sqrt(s/u)`` after. ``constant_fraction = 0`` is the Transformer's rsqrt schedule with
    warmup (Vaswani et al. 2017); ``warmup_fraction = 0`` is constant-then-``1/√t``
    (docs/math.md#lr-shapes).

    Parameters
    ----------
    peak : float
        ``η_0 > 0``, the largest learning rate.
    total_samples : float
        The horizon in samples (``> 0``).
    warmup_fraction, constant_fraction : float, default 0.0 and 0.0
        Fractions of the horizon in warmup and at the constant peak; their sum ``s`` must lie in
        ``(0, 1]`` (the decay ``sqrt(s/u)`` needs ``s > 0``).
    warmup_start : float, default 0.1
        The warmup starts at ``warmup_start · η_0``.

    Raises
    ------
    ValueError
        For fractions outside ``[0, 1]`` or with ``s = 0`` or ``s > 1``.

    Examples
    --------
    >>> s = InverseSqrt(1.0, 100, warmup_fraction=0.04)
    >>> s([0, 2, 4, 16, 100]).round(6).tolist()
    [0.1, 0.55, 1.0, 0.5, 0.2]
    >>> s.crossing(0.5), InverseSqrt(1.0, 100, constant_fraction=0.25).crossing(0.5)
    (16.0, 100.0)
    """

    warmup_fraction: float = 0.0
    constant_fraction: float = 0.0
    warmup_start: float = 0.1

    def __post_init__(self) -> None:
        super().__post_init__()
        w = _fraction(self.warmup_fraction, "warmup_fraction")
        c = _fraction(self.constant_fraction, "constant_fraction")
        if not 0.0 < w + c <= 1.0:
            raise ValueError(f"warmup_fraction + constant_fraction must lie in (0, 1] (the decay sqrt(s/u) starts at "
                             f"s = their sum); got {w!r} + {c!r}")
        object.__setattr__(self, "warmup_fraction", w)
        object.__setattr__(self, "constant_fraction", c)
        object.__setattr__(self, "warmup_start", _fraction(self.warmup_start, "warmup_start"))

    @property
    def warmup_samples(self) -> float:
        return self.warmup_fraction * self.total_samples

    @property
    def _start(self) -> float:
        return self.warmup_fraction + self.constant_fraction

    def _rate(self, u: np.ndarray) -> np.ndarray:
        w, s = self.warmup_fraction, self._start
        warm = self.warmup_start + (1.0 - self.warmup_start) * _ramp(u, 0.0, w)
        decay = np.sqrt(s / np.maximum(u, s))
        return self.peak * np.where(u < w, warm, decay)

    def _rate1(self, u: float) -> float:
        w, s = self.warmup_fraction, self._start
        if u < w:
            return self.peak * (self.warmup_start + (1.0 - self.warmup_start) * _ramp1(u, 0.0, w))
        return self.peak * math.sqrt(s / max(u, s))

    def _flat_end(self, u: float) -> float:
        w, s = self.warmup_fraction, self._start
        if u < w:
            return w if self.warmup_start == 1.0 else u
        return s if u < s else u

    def _kinks(self) -> tuple[float, ...]:
        return (self.warmup_fraction, self._start)

    def _crossing_fraction(self, ell: float) -> float:
        if ell * (1.0 + _LEVEL_RTOL) >= 1.0:
            return self.warmup_fraction
        u = self._start / (ell * ell)
        # Within the level's relative slack of the horizon counts as reached there.
        return u if u <= 1.0 else (1.0 if self._rate1(1.0) <= ell * (1.0 + _LEVEL_RTOL) * self.peak else math.inf)

    def _primitive(self, u: float) -> float:
        w, s = self.warmup_fraction, self._start
        if u <= w:
            return _warmup_primitive(u, w, self.warmup_start)
        out = _warmup_primitive(w, w, self.warmup_start) + (min(u, s) - w)
        if u > s:
            out += 2.0 * math.sqrt(s) * (math.sqrt(u) - math.sqrt(s))
        return out


@dataclass(frozen=True)
class PowerDecay(LRShape):
    """Polynomial decay ``η_0 (final + (1 − final)(1 − τ/D)^p)``.

    ``power = 1`` is :class:`Linear`; ``power = 2`` the quadratic decay of many trainers
    (docs/math.md#lr-shapes).

    Parameters
    ----------
    peak : float
        ``η_0 > 0``, the largest learning rate.
    total_samples : float
        The horizon in samples (``> 0``).
    power : float, default 1.0
        ``p > 0``.
    final : float, default 0.0
        Final rate as a fraction of the peak, in ``[0, 1]``.

    Raises
    ------
    ValueError
        For ``power ≤ 0`` or not finite, or ``final`` outside ``[0, 1]``.

    Examples
    --------
    >>> s = PowerDecay(1.0, 100, power=2.0)
    >>> s([0, 50, 100]).tolist(), s.crossing(0.25), round(s.integral(), 12)   # ∫(1 − u)² = 1/3
    ([1.0, 0.25, 0.0], 50.0, 33.333333333333)
    """

    power: float = 1.0
    final: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        p = positive_real(self.power, "power")
        object.__setattr__(self, "power", p)
        object.__setattr__(self, "final", _fraction(self.final, "final"))

    def _rate(self, u: np.ndarray) -> np.ndarray:
        return self.peak * (self.final + (1.0 - self.final) * (1.0 - u) ** self.power)

    def _rate1(self, u: float) -> float:
        return self.peak * (self.final + (1.0 - self.final) * (1.0 - u) ** self.power)

    def _flat_end(self, u: float) -> float:
        return 1.0 if self.final == 1.0 else u

    def _crossing_fraction(self, ell: float) -> float:
        if ell * (1.0 + _LEVEL_RTOL) >= 1.0:
            return 0.0
        if ell * (1.0 + _LEVEL_RTOL) < self.final:
            return math.inf
        x = min(max((ell - self.final) / (1.0 - self.final), 0.0), 1.0)
        return 1.0 - x ** (1.0 / self.power)

    def _primitive(self, u: float) -> float:
        p = self.power
        return self.final * u + (1.0 - self.final) * (1.0 - (1.0 - u) ** (p + 1.0)) / (p + 1.0)
