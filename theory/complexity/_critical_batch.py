"""The critical batch size measured on the exact dynamics, beside the bound's (docs/math.md#critical-batch-size).

"Critical batch size" means only the SFO minimiser ``b*`` (docs/math.md#attribution).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._limits import MAX_REFINE
from .._validate import check_range, choice, describe, finite_real, nonnegative_int, positive_int, strict_real_array
from ..dynamics import Problem
from ._bounds import (
    CONVENTIONS,
    BoundConstants,
    bound_critical_batch,
    bound_sfo,
    bound_steps,
    check_problem,
    gradient_target,
)
from ._hitting import TargetHitting, steps_to_target

__all__ = ["CriticalBatch", "critical_batch"]


@dataclass(frozen=True, eq=False)
class CriticalBatch:
    """Measured steps and SFO to a target over a batch grid at fixed ``η``, beside the bound.

    Attributes
    ----------
    lr, epsilon, target : float
    batches : ndarray
    steps, sfo : ndarray
        Measured, with the crossing located inside its step (``hitting.fractional_steps``,
        ``hitting.fractional_samples``); ``inf`` where the target is not reached (``hitting.status``
        says why). Integer counts are in ``hitting.steps`` and ``hitting.samples``.
    hitting : TargetHitting
    critical_batch : float
        ``argmin_b`` of the measured SFO, on the grid refined around the minimum (``nan`` if no
        batch reaches the target).
    interior : bool
        Whether that minimum lies strictly inside the (refined) grid with reached neighbours on both
        sides — a minimum at the first reachable batch is not interior.
    convex : bool
        Whether the measured SFO is convex in ``b`` on the reached part of the grid (divided second
        differences ``≥ −slack·N/h²``). The bound's ``N(b)`` is convex; the measured one need not be
        (several eigen-directions superpose), and :attr:`unimodal` is the weaker property.
    unimodal : bool
        Whether the measured SFO decreases up to its grid minimum and increases after it.
    constants : BoundConstants
        With ``σ²`` chosen by ``variance``.
    bound_steps, bound_sfo : ndarray
        The bound's ``K(b)``, ``N(b)`` on the grid with those constants.
    bound_critical_batch : float
        ``b* = 2C₂/τ`` with those constants.
    bound_holds : ndarray of bool
        Per reached batch, whether the measured integer steps are ``≤ K(b)``.
    trajectory_bound_steps : ndarray
        ``K(b)`` with ``σ²`` replaced by that trajectory's ``sup_t V(s_t)`` — the constant the master
        bound's proof needs, so this bound must hold (a theorem on noisy linear regression).
    settings : dict

    Examples
    --------
    >>> p = Problem.isotropic(4, 1.0, 1.0, noise_variance=1.0)
    >>> cb = critical_batch(p, 0.1, 0.1, np.geomspace(1, 1024, 11))
    >>> cb.sfo.shape, bool(np.all(cb.bound_holds))
    ((11,), True)
    """

    lr: float
    epsilon: float
    target: float
    batches: np.ndarray
    steps: np.ndarray
    sfo: np.ndarray
    hitting: TargetHitting
    critical_batch: float
    interior: bool
    convex: bool
    unimodal: bool
    constants: BoundConstants
    bound_steps: np.ndarray
    bound_sfo: np.ndarray
    bound_critical_batch: float
    bound_holds: np.ndarray
    trajectory_bound_steps: np.ndarray
    settings: dict = field(default_factory=dict)


def _unimodal(y: np.ndarray) -> bool:
    """Non-increasing up to the argmin, non-decreasing after it (up to rounding)."""
    if y.size < 2:
        return True
    i = int(np.argmin(y))
    slack = 1e-12 * np.abs(y).max()
    return bool(np.all(np.diff(y[: i + 1]) <= slack) and np.all(np.diff(y[i:]) >= -slack))


def _convex_on_grid(x: np.ndarray, y: np.ndarray, slack: float) -> bool:
    """Discrete convexity of ``y(x)`` on a non-uniform grid."""
    if x.size < 3:
        return True
    with np.errstate(over="ignore", invalid="ignore"):
        d1 = np.diff(y) / np.diff(x)
        h = 0.5 * (x[2:] - x[:-2])
        d2 = np.diff(d1) / h
        return bool(np.all(d2 >= -slack * np.abs(y[1:-1]) / h**2))


def _trajectory_bound(constants: BoundConstants, variance: float, lr: float, batch: float, epsilon: float,
                      kw: dict) -> float:
    """``K(b)`` with ``σ²`` = a trajectory's own sup of ``V``; ``inf`` when that is not finite (a diverged
    row) or when ``K`` exceeds float64 (the bound then says nothing either)."""
    if not math.isfinite(variance):
        return math.inf
    try:
        return float(bound_steps(BoundConstants(constants.smoothness, variance, constants.initial_gap), lr, batch,
                                 epsilon, **kw))
    except ValueError:
        return math.inf


def critical_batch(problem: Problem, lr: float, epsilon: float, batches: Any, *,
                   stationarity: str = "norm", convention: str = "general",
                   variance: str | float = "optimum", max_steps: int = 200_000,
                   convex_slack: float = 0.0, refine: int = 2) -> CriticalBatch:
    """Empirical critical batch size (argmin of measured SFO-to-ε over ``batches``) beside the bound's.

    Parameters
    ----------
    problem : Problem
    lr : float
        Constant learning rate ``η`` (``Lη < 2`` for the general convention).
    epsilon : float
        Tolerance; the target is :func:`gradient_target` ``(epsilon, stationarity)``.
    batches : array_like
        Increasing grid of (real) batch sizes, at least 3.
    stationarity, convention, variance
        See :func:`gradient_target`, :meth:`BoundConstants.coefficients`,
        :meth:`BoundConstants.from_problem`.
    max_steps : int
    convex_slack : float
        Relative slack of the convexity test.
    refine : int
        Rounds of zooming (17 geometric points between the argmin's neighbours) that locate the
        critical batch more finely than the grid. Zoom points enter ``critical_batch`` and
        ``interior`` only; the arrays stay on ``batches``.

    Returns
    -------
    CriticalBatch
        Measured and bound quantities on ``batches`` (docs/math.md#sfo-complexity).

    Raises
    ------
    ValueError
        For a non-positive ``lr`` or ``epsilon``, a grid that is not increasing, has fewer than 3
        points or a batch below 1, or an unknown option name.
    TypeError
        For a ``problem`` that is not a :class:`Problem` or numbers that are not real.

    Examples
    --------
    >>> p = Problem.isotropic(4, 1.0, 1.0, noise_variance=1.0)
    >>> cb = critical_batch(p, 0.1, 0.1, np.geomspace(1, 1024, 31))
    >>> cb.interior, cb.convex, round(cb.critical_batch / cb.bound_critical_batch, 2)
    (True, True, 0.57)
    """
    problem = check_problem(problem)
    lr_in = lr
    lr = finite_real(lr, "lr")
    if lr <= 0:
        raise ValueError(f"lr must be positive; got {describe(lr_in)}")
    b = strict_real_array(batches, "batches")
    if b.ndim != 1 or b.size < 3:
        raise ValueError(f"batches must be an increasing 1-D grid of at least 3 sizes; got {describe(batches)}")
    check_range(b, "batches", lower=1.0, original=batches)
    if np.any(np.diff(b) <= 0):
        raise ValueError(f"batches must be an increasing 1-D grid of at least 3 sizes; got {describe(batches)}")
    refine = nonnegative_int(refine, "refine", maximum=MAX_REFINE)
    convex_slack = finite_real(convex_slack, "convex_slack", minimum=0.0)
    max_steps = positive_int(max_steps, "max_steps")
    choice(convention, "convention", CONVENTIONS)
    target = gradient_target(epsilon, stationarity)
    # The bound's side first: its argument errors come before any measurement.
    constants = BoundConstants.from_problem(problem, variance)
    kw = dict(convention=convention, stationarity=stationarity)
    try:
        k_bound = bound_steps(constants, lr, b, epsilon, **kw)
        n_bound = bound_sfo(constants, lr, b, epsilon, **kw)
        b_star = bound_critical_batch(constants, lr, epsilon, **kw)
    except ValueError as exc:
        raise ValueError(f"{exc}; the constants come from problem and variance={describe(variance)}") from exc
    hit = steps_to_target(problem, lr, b, target, max_steps=max_steps)
    sfo = hit.fractional_samples
    reached = hit.reached
    if reached.any():
        i = int(np.argmin(np.where(reached, sfo, np.inf)))
        crit, best = float(b[i]), float(sfo[i])
        interior = bool(0 < i < b.size - 1 and reached[i - 1] and reached[i + 1])
        convex = _convex_on_grid(b[reached], sfo[reached], convex_slack)
        unimodal = _unimodal(sfo[reached])
        lo, hi = b[max(i - 1, 0)], b[min(i + 1, b.size - 1)]
        at_threshold = bool(i > 0 and not reached[i - 1])
        rounds = 0
        # Zoom between the argmin's neighbours. Next to the feasibility threshold N blows up only
        # logarithmically (linear convergence to a stationary level just below the target), so a
        # minimum there may need extra rounds (up to 8 more) before it shows as interior.
        while rounds < refine or (refine and at_threshold and not interior and rounds < refine + 8):
            rounds += 1
            zoom = np.geomspace(lo, hi, 17)
            z = steps_to_target(problem, lr, zoom, target, max_steps=max_steps)
            zs = np.where(z.reached, z.fractional_samples, np.inf)
            j = int(np.argmin(zs))
            if zs[j] <= best:
                crit, best = float(zoom[j]), float(zs[j])
                interior = bool(0 < j < zoom.size - 1 and z.reached[j - 1] and z.reached[j + 1])
                at_threshold = bool(j > 0 and not z.reached[j - 1])
            lo, hi = zoom[max(j - 1, 0)], zoom[min(j + 1, zoom.size - 1)]
    else:
        crit, interior, convex, unimodal = math.nan, False, False, False
    per_row = np.array([_trajectory_bound(constants, float(v), lr, float(bi), epsilon, kw)
                        for v, bi in zip(hit.max_gradient_variance, b)])
    return CriticalBatch(
        lr=lr, epsilon=float(epsilon), target=target, batches=b, steps=hit.fractional_steps, sfo=sfo,
        hitting=hit, critical_batch=crit, interior=interior, convex=convex, unimodal=unimodal,
        constants=constants,
        bound_steps=k_bound, bound_sfo=n_bound,
        bound_critical_batch=b_star,
        bound_holds=np.where(reached, hit.steps <= k_bound, True),
        trajectory_bound_steps=per_row,
        settings={"stationarity": stationarity, "convention": convention, "variance": variance,
                  "max_steps": max_steps, "convex_slack": convex_slack, "refine": refine},
    )
