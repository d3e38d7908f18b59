"""Milestone geometry shared by the Seesaw builders and serial-step accounting (docs/math.md#seesaw-rule).

The milestones ``τ_j = base.crossing(η_0 f^{−j})`` of a base learning-rate shape, evaluated on demand
(:class:`Milestones`), the per-phase batch and rate of the transformed schedule
(:class:`PhaseValues`), and the argument checks both ``_seesaw`` and ``_serial_steps`` apply.
Package-internal: nothing here is re-exported.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .._validate import finite_real
from ._lr_shapes import LRShape

# Relative slack for "this real batch is really an integer".
INTEGER_RTOL = 1e-12
# Levels f^{-k} below this fraction of the peak are not milestones (docs/math.md#seesaw-rule).
MIN_LEVEL = 1e-12


def check_base(base: Any) -> LRShape:
    if not isinstance(base, LRShape):
        raise TypeError(f"base must be an LRShape; got {type(base).__name__}")
    return base


def check_factor(factor: Any) -> float:
    f = finite_real(factor, "factor")
    if not f > 1.0:
        raise ValueError(f"factor must be > 1; got {f!r}")
    return f


def check_p(p: Any) -> float:
    p = finite_real(p, "p")
    if not 0.0 <= p <= 2.0:
        raise ValueError(f"p must lie in [0, 2] (p = 1 is Seesaw); got {p!r}")
    return p


def check_cap(batch_cap: Any, initial_batch: float) -> float | None:
    if batch_cap is None:
        return None
    cap = finite_real(batch_cap, "batch_cap")
    if cap < initial_batch:
        raise ValueError(f"batch_cap must be ≥ initial_batch ({initial_batch!r}); got {cap!r}")
    return cap


def first_true(pred: Callable[[int], bool], lo: int, hi: int, guess: int) -> int:
    """Smallest ``j ∈ [lo, hi)`` with ``pred(j)``, or ``hi``; ``pred`` is false … false, true … true.

    A galloping search from ``guess``: ``O(log |answer − guess|)`` calls of ``pred``.
    """
    def test(j: int) -> bool:
        return j >= hi or pred(j)

    g = min(max(guess, lo), hi)
    if test(g):  # answer ≤ g: gallop down
        b, step = g, 1
        a = lo
        while b - step >= lo:
            if test(b - step):
                b -= step
                step *= 2
            else:
                a = b - step + 1
                break
    else:  # answer > g: gallop up
        a, step = g + 1, 1
        b = hi
        while a + step - 1 < hi:
            c = a + step - 1
            if test(c):
                b = c
                break
            a = c + 1
            step *= 2
    while a < b:  # answer in [a, b], test(b) true
        m = (a + b) // 2
        if test(m):
            b = m
        else:
            a = m + 1
    return a


def level_count(f: float, min_level: float) -> int:
    """Largest ``j ≥ 0`` with ``f^{−j} ≥ min_level`` (``O(1)``: a logarithm, then ulp-level repair)."""
    j = max(0, math.floor(-math.log(min_level) / math.log(f)))
    for _ in range(64):
        if j > 0 and f**-j < min_level:
            j -= 1
        elif f ** -(j + 1) >= min_level:
            j += 1
        else:
            break
    return j


class Milestones:
    """``τ_j = base.crossing(η_0 f^{−j})`` for ``j = 1 … count``, evaluated on demand.

    ``count`` (the milestones strictly inside the horizon, levels down to ``min_level``) is found by
    a galloping search over ``j``: ``O(log count)`` crossings, whatever the factor.
    """

    def __init__(self, base: LRShape, f: float, min_level: float) -> None:
        self.base, self.f = base, f
        self.log_f = math.log(f)
        self.total = base.total_samples
        self._cache: dict[int, float] = {}
        self.levels = level_count(f, min_level)
        g_end = base._rate1(1.0) / base.peak
        guess = self._levels_above(g_end) if g_end > 0 else self.levels
        self.count = first_true(lambda j: not self.tau(j) < self.total, 1, self.levels + 1, guess) - 1

    def _levels_above(self, g: float) -> int:
        """``⌊log_f(1/g)⌋``: how many levels ``f^{−j}`` lie at or above the relative rate ``g > 0``."""
        x = -math.log(g) / self.log_f
        return max(0, math.floor(x)) if math.isfinite(x) else self.levels

    def tau(self, j: int) -> float:
        """Milestone ``j ≥ 1`` (may be ``≥ total`` or inf beyond ``count``)."""
        out = self._cache.get(j)
        if out is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            out = self._cache[j] = self.base._crossing_rel(self.f**-j)
        return out

    def phase_guess(self, pos: float) -> int:
        """``#{j : τ_j ≤ pos}`` estimated from the base rate at ``pos`` (exact up to rounding)."""
        if pos < self.base.warmup_samples:
            return 0
        g = self.base._rate1(min(pos / self.total, 1.0)) / self.base.peak
        return self._levels_above(g) if g > 0 else self.count

    def listed(self) -> np.ndarray:
        return np.array([self.tau(j) for j in range(1, self.count + 1)], dtype=np.float64)


def cap_count(b0: float, f: float, p: float, cap: float | None) -> float:
    """``j_cap``: how many milestones the batch grows by before the cap (``inf`` without one)."""
    if cap is None or p == 0.0:
        return math.inf
    growth = p * math.log(f)
    if not growth > 0.0:
        return math.inf
    x = math.log(cap / b0) / growth * (1.0 + INTEGER_RTOL) + INTEGER_RTOL
    return float(math.floor(x)) if math.isfinite(x) else math.inf


class PhaseValues:
    """Real batch ``B_k = B_0 f^{p j_k}`` and rate ``η_k = η_0 f^{−q j_k − (k − j_k)}``, ``q = 1 − p/2`` by default."""

    def __init__(self, peak: float, b0: float, f: float, p: float, cap: float | None,
                 q: float | None = None) -> None:
        self.peak, self.b0, self.f, self.p = peak, b0, f, p
        self.q = 1.0 - 0.5 * p if q is None else q
        self.j_cap = cap_count(b0, f, p, cap)

    def batch(self, k: int) -> float:
        j = min(float(k), self.j_cap)
        try:
            return self.b0 * self.f ** (self.p * j)
        except OverflowError:
            return math.inf

    def lr(self, k: int) -> float:
        k = float(k)
        j = min(k, self.j_cap)
        return self.peak * self.f ** (-self.q * j - (k - j))
