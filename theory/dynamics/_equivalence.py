"""Measuring the equivalence of schedules: excess risk at matched sample counts (docs/math.md#equivalence).

Seesaw's Theorem 1 (SGD, equal ``αβ``) and Corollary 1 (NSGD, equal ``α√β``, variance-dominated)
promise risks "within a constant factor" at matched samples, with constants the library cannot rely
on. So it measures: :func:`equivalence_report` runs the exact solver once over all schedules (one
vectorised call) and compares the curves on a common sample grid.

Comparing on a grid. Each trajectory's risk is linear between the sample counts of its steps
(:meth:`theory.RiskTrajectory.at_samples`). On the default grid, the union of every schedule's
step boundaries, two such curves are both linear between consecutive grid points, and a ratio of
two positive linear functions is monotone on an interval, so the maximum ratio over the grid *is*
the maximum over the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .._validate import choice, describe, finite_real, nonnegative_int, positive_int, strict_real_array
from .._limits import MAX_STEP_ARRAY
from ..schedules._schedule import Schedule, schedule_list
from ._problem import Problem
from ._risk import OPTIMIZERS, expected_risk
from ._trajectory import RiskTrajectory

__all__ = ["EquivalenceReport", "equivalence_report", "risk_ratio"]


def risk_ratio(numerator: Any, denominator: Any) -> np.ndarray:
    """Elementwise ``numerator / denominator`` of risks, with ``0/0 = 1`` and ``x/0 = inf``.

    Risks are non-negative; ``+inf`` (a diverged run) is allowed, NaN is not. A ratio beyond the
    float64 range is ``inf``.

    Parameters
    ----------
    numerator, denominator : array_like
        Excess risks (non-negative, ``+inf`` allowed); shapes must broadcast.

    Returns
    -------
    ndarray of float64
        The ratios, of the broadcast shape (docs/math.md#equivalence).

    Raises
    ------
    ValueError
        For a negative or NaN risk, or shapes that do not broadcast.
    TypeError
        For entries that are not real numbers.

    Examples
    --------
    >>> risk_ratio([1.0, 0.0, 2.0], [2.0, 0.0, 0.0]).tolist()
    [0.5, 1.0, inf]
    """
    a, b = _risks(numerator, "numerator"), _risks(denominator, "denominator")
    try:
        a, b = np.broadcast_arrays(a, b)
    except ValueError as exc:
        raise ValueError(f"numerator and denominator must broadcast together; got shapes {a.shape} and "
                         f"{b.shape}") from exc
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = a / b
    out = np.where((a == 0) & (b == 0), 1.0, out)
    # inf/inf (two diverged runs) is not evidence of agreement: report it as an infinite ratio.
    return np.where(np.isnan(out), np.inf, out)


def _risks(value: Any, name: str) -> np.ndarray:
    arr = strict_real_array(value, name)
    bad = np.isnan(arr) | (arr < 0)
    if bad.any():
        i = int(np.argmax(bad.ravel()))
        raise ValueError(f"{name} must hold non-negative risks (+inf allowed, NaN not); got "
                         f"{float(arr.ravel()[i])!r}" + (f" at index {i}" if arr.ndim else ""))
    return arr + 0.0  # −0.0 → +0.0, so that x/0 is +inf


@dataclass(frozen=True, eq=False)
class EquivalenceReport:
    """Risks of several schedules at matched sample counts, and how far apart they are.

    A report compares and hashes by identity on purpose (compare its arrays); it pickles and copies
    to an object with the same fields.

    Attributes
    ----------
    optimizer : str
    labels : tuple of str
    trajectories : tuple of RiskTrajectory
        The full per-step results of the solver.
    grid : ndarray, shape (G,)
        Common sample counts.
    risk : ndarray, shape (S, G)
        Excess risk of each schedule at the grid's sample counts.
    max_ratio : ndarray, shape (S, S)
        ``max over the grid of max(r_i/r_j, r_j/r_i)``: the factor within which schedules ``i`` and
        ``j`` agree over the whole run (symmetric, 1 on the diagonal).
    final_ratio : ndarray, shape (S, S)
        ``r_i / r_j`` at the last grid point.
    serial_steps : tuple of int
    mean_variance_ratio : tuple of ndarray
        Per-step ``‖E g‖² / (E‖g‖² − ‖E g‖²)`` along each trajectory (docs/math.md#normalized-sgd).

    Examples
    --------
    SGD at the same ``η/B`` (docs/math.md#equivalence): the batch-2 run takes half the steps and
    ends within a few percent of the batch-1 run at the same samples.

    >>> from ramplab.theory import Problem, Schedule, equivalence_report
    >>> p = Problem.isotropic(2, noise_variance=0.1)
    >>> r = equivalence_report(p, [Schedule.constant(0.1, 1, steps=20), Schedule.constant(0.2, 2, steps=10)])
    >>> r.serial_steps, round(r.worst_ratio, 3), float(r.ratio(0, 1)[-1].round(3))
    ((20, 10), 1.055, 1.055)
    """

    optimizer: str
    labels: tuple[str, ...]
    trajectories: tuple[RiskTrajectory, ...]
    grid: np.ndarray
    risk: np.ndarray
    max_ratio: np.ndarray
    final_ratio: np.ndarray
    serial_steps: tuple[int, ...]
    mean_variance_ratio: tuple[np.ndarray, ...]

    def ratio(self, i: int, j: int) -> np.ndarray:
        """``r_i / r_j`` along the grid.

        Parameters
        ----------
        i, j : int
            Indices of the numerator and denominator schedules, in ``[0, S)``.

        Returns
        -------
        ndarray, shape (G,)
            :func:`risk_ratio` of their risks at the grid's sample counts.
        """
        n = self.risk.shape[0]
        i = nonnegative_int(i, "i", maximum=n - 1)
        j = nonnegative_int(j, "j", maximum=n - 1)
        return risk_ratio(self.risk[i], self.risk[j])

    @property
    def worst_ratio(self) -> float:
        """The largest pairwise :attr:`max_ratio`: every pair agrees within this factor."""
        return float(np.max(self.max_ratio))

    @property
    def max_mean_variance_ratio(self) -> np.ndarray:
        """Largest mean/variance ratio along each trajectory, shape (S,)."""
        return np.array([float(np.max(r)) if r.size else 0.0 for r in self.mean_variance_ratio])

    def variance_dominated(self, threshold: float = 0.1) -> np.ndarray:
        """Whether each trajectory stays in the variance-dominated regime: mean/variance ``≤ threshold``
        at every step (Seesaw's hypothesis for NSGD, checked rather than assumed).

        Parameters
        ----------
        threshold : float, default 0.1
            Largest mean/variance ratio ``‖E g‖² / (E‖g‖² − ‖E g‖²)`` still counted as
            variance-dominated (docs/math.md#normalized-sgd), ``≥ 0``.

        Returns
        -------
        ndarray of bool, shape (S,)
            One flag per schedule.
        """
        threshold = finite_real(threshold, "threshold", minimum=0.0)
        return self.max_mean_variance_ratio <= threshold


def _grid(grid: Any, trajectories: Sequence[RiskTrajectory], start: float, stop: float) -> np.ndarray:
    if grid is None:
        knots = np.concatenate([t.samples.astype(np.float64) for t in trajectories])
        knots = knots[(knots >= start) & (knots <= stop)]
        return np.unique(np.concatenate([knots, [start, stop]]))
    if isinstance(grid, (int, np.integer)) and not isinstance(grid, (bool, np.bool_)):
        if grid < 2:
            raise ValueError(f"grid must be at least 2 points; got {grid!r}")
        return np.linspace(start, stop, positive_int(grid, "grid", maximum=MAX_STEP_ARRAY))
    g = strict_real_array(grid, "grid")
    if g.ndim != 1 or g.size == 0 or not np.all(np.isfinite(g)):
        raise ValueError(f"grid must be a non-empty 1-D array of finite sample counts; got {describe(grid)}")
    if g.min() < 0 or g.max() > stop * (1 + 1e-9):
        raise ValueError(
            f"grid must lie in [0, {stop:g}] (the shortest schedule); got [{g.min():g}, {g.max():g}]"
        )
    return g


def equivalence_report(
    problem: Problem,
    schedules: Sequence[Schedule],
    optimizer: str = "sgd",
    *,
    grid: Any = None,
    start: float = 0.0,
    **solver_options: Any,
) -> EquivalenceReport:
    """Run the exact solver on ``schedules`` and compare their risks at matched sample counts.

    Parameters
    ----------
    problem : Problem
    schedules : sequence of Schedule
        At least one; they should consume the same samples (otherwise the comparison stops at the
        shortest total).
    optimizer : {"sgd", "nsgd"}
    grid : None, int or array_like
        ``None``: the union of all step boundaries (exact maximum ratio, see the module docstring);
        an int ``n``: ``n`` equally spaced sample counts from ``start`` to the end; or explicit
        sample counts.
    start : float, default 0
        Ignore sample counts below ``start`` (for the automatic grids).
    **solver_options
        Passed to :func:`theory.expected_risk` (``on_divergence``, ``numerics``, ``average``, …).
        With ``on_divergence="flag"``, a diverged curve is ``+inf`` and so are its ratios.

    Returns
    -------
    EquivalenceReport

    Examples
    --------
    Learning-rate halving versus batch doubling (``αβ = 2`` both) under SGD:

    >>> from ramplab.theory.schedules import phase_schedule
    >>> p = Problem.power_law(100, a=1.5, b=1.0, noise_variance=0.5)
    >>> halve = phase_schedule(0.5, 4, 2.0, 1.0, [2048] * 4, label="halve")
    >>> double = phase_schedule(0.5, 4, 1.0, 2.0, [2048] * 4, label="double")
    >>> rep = equivalence_report(p, [halve, double])
    >>> rep.serial_steps
    (2048, 960)
    >>> bool(1.0 < rep.worst_ratio < 1.25), rep.risk.shape[0]
    (True, 2)
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {describe(problem)}")
    sched_list = schedule_list(schedules)
    choice(optimizer, "optimizer", OPTIMIZERS)
    start = finite_real(start, "start", minimum=0.0)
    if grid is None:
        longest = max(len(s) for s in sched_list)
        if longest > MAX_STEP_ARRAY:
            raise ValueError(f"schedules: the default grid is every step boundary, and a schedule has {longest} "
                             f"steps, more than MAX_STEP_ARRAY = {MAX_STEP_ARRAY}; pass grid= (an int or sample "
                             f"counts)")
    trajectories = tuple(expected_risk(problem, sched_list, optimizer, **solver_options))
    stop = min(float(t.samples[-1]) for t in trajectories)
    if start >= stop:
        raise ValueError(f"start must be below the shortest schedule's samples ({stop:g}); got {start!r}")
    g = _grid(grid, trajectories, start, stop)
    risk = np.stack([t.at_samples(g) for t in trajectories])
    n = len(trajectories)
    max_ratio = np.ones((n, n))
    final_ratio = np.ones((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            r = risk_ratio(risk[i], risk[j])
            with np.errstate(divide="ignore", over="ignore"):  # a ratio beyond 1e308 is inf
                spread = np.maximum(r, 1.0 / r)
            max_ratio[i, j] = max_ratio[j, i] = float(np.max(spread))
            final_ratio[i, j] = float(r[-1])
            final_ratio[j, i] = float(risk_ratio(risk[j, -1], risk[i, -1]))
    return EquivalenceReport(
        optimizer=optimizer,
        labels=tuple(s.label for s in sched_list),
        trajectories=trajectories,
        grid=g,
        risk=risk,
        max_ratio=max_ratio,
        final_ratio=final_ratio,
        serial_steps=tuple(s.serial_steps for s in sched_list),
        mean_variance_ratio=tuple(t.mean_variance_ratio for t in trajectories),
    )
