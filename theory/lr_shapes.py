"""Base learning-rate shapes, defined as functions of the number of samples seen.

A shape is a pure, immutable description of ``η(τ)`` for ``τ ∈ [0, total_samples]``. Defining the
rate in *samples* (not steps) is what lets a batch ramp change the step count without silently
shifting the decay: :meth:`theory.Schedule.from_shape` evaluates the shape at the samples consumed
before each step (the left end of the step's sample interval).

All shapes expose ``peak`` (``η_0``), ``total_samples`` and ``warmup_samples`` (0 when there is no
warmup). Fractions (``warmup_fraction``, ``decay_fraction``, ``floor``) are relative to
``total_samples`` and ``peak``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from theory._validate import finite_real

__all__ = ["Constant", "Cosine", "LRShape", "Linear", "StepDecay", "WarmupCosine", "WSD"]


@dataclass(frozen=True)
class LRShape:
    """Base class: ``peak`` rate ``η_0`` over a horizon of ``total_samples`` samples."""

    peak: float
    total_samples: float

    def __post_init__(self) -> None:
        peak = finite_real(self.peak, "peak")
        if peak <= 0:
            raise ValueError(f"peak must be positive; got {peak!r}")
        total = finite_real(self.total_samples, "total_samples")
        if total <= 0:
            raise ValueError(f"total_samples must be positive; got {total!r}")
        object.__setattr__(self, "peak", peak)
        object.__setattr__(self, "total_samples", total)

    @property
    def warmup_samples(self) -> float:
        """Samples spent in warmup (0 for shapes without one)."""
        return 0.0

    def __call__(self, samples: Any) -> np.ndarray:
        """Return ``η(τ)`` at ``samples`` (array_like, clipped to ``[0, total_samples]``)."""
        tau = np.clip(np.asarray(samples, dtype=np.float64), 0.0, self.total_samples)
        return self._rate(tau / self.total_samples)

    def _rate(self, u: np.ndarray) -> np.ndarray:  # u = τ / total in [0, 1]
        raise NotImplementedError


def _ramp(u: np.ndarray, start: float, length: float) -> np.ndarray:
    """``clip((u − start)/length, 0, 1)``, dividing only where ``start < u < start + length``.

    Tiny (even subnormal) lengths are valid fractions; dividing everywhere would overflow.
    """
    inside = (u > start) & (u < start + length)
    out = np.where(u >= start + length, 1.0, 0.0)
    return np.divide(u - start, length, out=out, where=inside)


def _fraction(value: Any, name: str, *, closed_right: bool = True) -> float:
    v = finite_real(value, name)
    if not (0.0 <= v <= 1.0) or (not closed_right and v == 1.0):
        raise ValueError(f"{name} must lie in [0, 1{']' if closed_right else ')'}; got {v!r}")
    return v


@dataclass(frozen=True)
class Constant(LRShape):
    """``η(τ) = η_0``.

    Examples
    --------
    >>> Constant(0.1, 100)([0, 50, 100]).tolist()
    [0.1, 0.1, 0.1]
    """

    def _rate(self, u: np.ndarray) -> np.ndarray:
        return np.full_like(u, self.peak)


@dataclass(frozen=True)
class StepDecay(LRShape):
    """Piecewise constant: multiply by ``factor`` at each boundary (fractions of the horizon).

    A boundary belongs to the new phase (optax convention).

    Examples
    --------
    >>> StepDecay(1.0, 100, boundaries=(0.5, 0.75), factor=0.1)([0, 49, 50, 75]).tolist()
    [1.0, 1.0, 0.1, 0.010000000000000002]
    """

    boundaries: Sequence[float] = (0.5,)
    factor: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        b = tuple(_fraction(x, "boundaries") for x in self.boundaries)
        if any(y <= x for x, y in zip(b, b[1:])):
            raise ValueError(f"boundaries must be strictly increasing; got {b!r}")
        f = finite_real(self.factor, "factor")
        if not 0 < f:
            raise ValueError(f"factor must be positive; got {f!r}")
        object.__setattr__(self, "boundaries", b)
        object.__setattr__(self, "factor", f)

    def _rate(self, u: np.ndarray) -> np.ndarray:
        k = np.searchsorted(np.asarray(self.boundaries), u, side="right")
        return self.peak * self.factor**k


@dataclass(frozen=True)
class Linear(LRShape):
    """Linear from ``η_0`` to ``final · η_0`` over the horizon.

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


@dataclass(frozen=True)
class Cosine(LRShape):
    """Cosine decay from ``η_0`` to ``final · η_0``: half cosine, or quarter cosine ``η_0 cos(πu/2)``.

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
        object.__setattr__(self, "quarter", bool(self.quarter))

    def _rate(self, u: np.ndarray) -> np.ndarray:
        g = np.cos(0.5 * math.pi * u) if self.quarter else 0.5 * (1.0 + np.cos(math.pi * u))
        return self.peak * (self.final + (1.0 - self.final) * g)


@dataclass(frozen=True)
class WarmupCosine(LRShape):
    """Linear warmup from ``warmup_start · η_0`` to ``η_0``, then half cosine to ``floor · η_0``.

    The defaults are the released Seesaw setting (MATH.md §3.2): 10 % warmup from 0.1 η_0, floor 0.1.

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


@dataclass(frozen=True)
class WSD(LRShape):
    """Warmup–stable–decay: linear warmup, constant ``η_0``, then a decay to ``floor · η_0``.

    Parameters
    ----------
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
        if self.decay not in ("linear", "cosine", "sqrt"):
            raise ValueError(f"decay must be 'linear', 'cosine' or 'sqrt'; got {self.decay!r}")
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

