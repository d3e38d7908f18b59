"""Measured SFO-to-ε of exponential growth over a ``(γ, δ)`` grid, beside the bound's exponent (docs/math.md#growth-schedules)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .._validate import check_range, describe, positive_real, strict_real_array
from ..dynamics import Problem
from ..schedules._growth import exponential_growth
from ._growth_bounds import sfo_exponent
from ._hitting import schedule_to_target

__all__ = ["GrowthGrid", "growth_grid"]


@dataclass(frozen=True, eq=False)
class GrowthGrid:
    """Measured SFO-to-ε of exponential growth over a ``(γ, δ)`` grid, beside the predicted exponent.

    Attributes
    ----------
    gammas, deltas, epsilons : ndarray
    sfo : ndarray, shape (len(gammas), len(deltas), len(epsilons))
        Samples until ``E‖∇f‖² ≤ ε²`` (crossing located inside its step; ``inf`` if not reached).
    steps : ndarray, same shape
    predicted : ndarray, shape (len(gammas), len(deltas))
        :func:`sfo_exponent`.
    measured : ndarray, same shape
        Least-squares slope of ``ln N`` against ``ln(1/ε)`` over the reached tolerances (``nan``
        with fewer than two).
    capped : ndarray of bool, same shape
        Whether the learning-rate cap was already in force when the smallest tolerance was reached
        (the schedule then no longer grows η, unlike the theory's).
    settings : dict

    Examples
    --------
    >>> p = Problem.power_law(30, a=1.5, b=1.0, noise_variance=1.0)
    >>> g = growth_grid(p, [1.2], [1.44], [0.3, 0.15], lr0=0.01, stage_steps=20, stages=40)
    >>> g.sfo.shape, g.measured.shape
    ((1, 1, 2), (1, 1))
    """

    gammas: np.ndarray
    deltas: np.ndarray
    epsilons: np.ndarray
    sfo: np.ndarray
    steps: np.ndarray
    predicted: np.ndarray
    measured: np.ndarray
    capped: np.ndarray
    settings: dict


def growth_grid(
    problem: Problem,
    gammas: Sequence[float],
    deltas: Sequence[float],
    epsilons: Sequence[float],
    *,
    lr0: float,
    batch0: float = 1.0,
    stage_steps: int,
    stages: int,
    lr_cap: float | None = None,
    batch_cap: float | None = None,
) -> GrowthGrid:
    """Run every exponential-growth schedule of the grid to every tolerance, in one exact computation.

    ``lr_cap`` defaults to ``1/λ_1`` (the small-step convention; the bound needs ``η < 2/L`` and
    the recursion diverges beyond about that). Tolerances use the norm convention (target ``ε²``).
    docs/math.md#growth-schedules.

    Parameters
    ----------
    problem : Problem
    gammas, deltas : sequence of float
        Learning-rate and batch growth factors per stage (positive); one schedule per pair.
    epsilons : sequence of float
        Tolerances (positive); the target is ``E‖∇f‖² ≤ ε²``.
    lr0 : float
        ``η₀ > 0`` of stage 0.
    batch0 : float, default 1.0
        ``b₀ ≥ 1`` (samples per step) of stage 0.
    stage_steps : int
        Steps per stage.
    stages : int
        Stages per schedule.
    lr_cap, batch_cap : float, optional
        Caps on every stage's rate and batch (``lr_cap`` defaults to ``1/λ_1``).

    Returns
    -------
    GrowthGrid
        Samples and steps to every tolerance, the measured and predicted exponents.

    Raises
    ------
    ValueError
        For a non-positive factor, rate or tolerance, a batch below 1, or a bad count.
    TypeError
        For a ``problem`` that is not a :class:`Problem` or numbers that are not real.

    Examples
    --------
    >>> p = Problem.power_law(30, a=1.5, b=1.0, noise_variance=1.0)
    >>> g = growth_grid(p, [1.2], [1.44, 2.0], [0.3, 0.15], lr0=0.01, stage_steps=20, stages=40)
    >>> g.sfo.shape, g.predicted.round(2).tolist()
    ((1, 2, 2), [[4.0, 7.6]])
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {type(problem).__name__}")
    grids = {}
    for name, values in (("gammas", gammas), ("deltas", deltas), ("epsilons", epsilons)):
        arr = strict_real_array(values, name)
        if arr.ndim != 1 or arr.shape[0] == 0:
            raise ValueError(f"{name} must be a non-empty 1-D sequence; got {describe(values)}")
        grids[name] = check_range(arr, name, lower=0.0, strict=True, original=values)
    gammas, deltas, eps = grids["gammas"], grids["deltas"], grids["epsilons"]
    with np.errstate(over="ignore", under="ignore"):
        targets_eps = eps * eps
    if not np.all((targets_eps > 0) & np.isfinite(targets_eps)):
        i = int(np.argmax(~((targets_eps > 0) & np.isfinite(targets_eps))))
        raise ValueError(f"epsilons[{i}]**2 must be a positive finite float64; got epsilons[{i}] = {eps[i]!r}")
    cap = 1.0 / problem.largest_eigenvalue if lr_cap is None else positive_real(lr_cap, "lr_cap")
    if not math.isfinite(cap):
        raise ValueError(f"the default lr_cap = 1/λ_1 overflows float64 for problem={problem!r}; pass lr_cap=")
    lr0 = positive_real(lr0, "lr0")
    schedules, targets = [], []
    for g in gammas:
        for d in deltas:
            try:
                sched = exponential_growth(lr0, batch0, g, d, stages, stage_steps=stage_steps, lr_cap=cap,
                                           batch_cap=batch_cap)
            except ValueError as exc:
                raise ValueError(f"{exc} [from gammas entry {g!r}, deltas entry {d!r}]") from exc
            schedules += [sched] * eps.size
            targets += list(targets_eps)
    hit = schedule_to_target(problem, schedules, targets)
    shape = (gammas.size, deltas.size, eps.size)
    sfo = np.where(hit.reached, hit.fractional_samples, np.inf).reshape(shape)
    steps = np.where(hit.reached, hit.fractional_steps, np.inf).reshape(shape)
    predicted = np.array([[sfo_exponent(g, d) for d in deltas] for g in gammas])
    measured = np.full(shape[:2], np.nan)
    capped = np.zeros(shape[:2], dtype=bool)
    x = -np.log(eps)
    for i, g in enumerate(gammas):
        # First stage (0-based) whose rate reaches the cap.
        ratio = cap / lr0
        if cap <= lr0:
            cap_stage = 0.0
        elif g > 1 and math.isfinite(ratio) and math.isfinite(math.log(ratio) / math.log(g)):
            cap_stage = float(math.ceil(math.log(ratio) / math.log(g)))
        else:
            cap_stage = math.inf
        for j in range(deltas.size):
            ok = np.isfinite(sfo[i, j]) & (sfo[i, j] > 0)  # 0 samples: the start already qualifies
            if np.unique(x[ok]).size >= 2:  # a slope needs two distinct tolerances
                measured[i, j] = np.polyfit(x[ok], np.log(sfo[i, j, ok]), 1)[0]
            last = steps[i, j, ok][-1] if ok.any() else np.inf
            capped[i, j] = bool(math.isfinite(cap_stage) and last > cap_stage * stage_steps)
    settings = {"lr0": lr0, "batch0": batch0, "stage_steps": stage_steps, "stages": stages,
                "lr_cap": cap, "batch_cap": batch_cap, "stationarity": "norm"}
    return GrowthGrid(gammas, deltas, eps, sfo, steps, predicted, measured, capped, settings)
