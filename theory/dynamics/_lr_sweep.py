"""The learning-rate multiplier sweep of the published exact-recursion figures (docs/math.md#lr-multiplier-sweep).

Two learning-rate families in units of ``1/tr H``, batch 1: the constant ``η = m / tr H`` and the
decaying ``η_t = m / (tr H √t)`` (``t = 1 … T``). For every multiplier ``m`` of a grid, the averaged
risk (an iterate average, uniform by default) is read at a few checkpoints; the *score* of ``m`` is the
mean of those values, and the selected multiplier of a family is the one with the least score. All
``families × multipliers`` schedules of one problem go to :func:`~ramplab.theory.expected_risk` in one
vectorised call, so a large problem is quadrature-reduced once for the whole grid
(docs/math.md#quadrature-reduction) — except the constant rates beyond the edge of stability, which
get a second call of their own so that they do not set the reduction of the rest. A multiplier whose
run diverges scores ``+inf``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .._frozen import FrozenRecord
from .._limits import MAX_STEP_ARRAY
from .._validate import check_range, choice, positive_int, real_vector, strict_real_array
from ..schedules._schedule import Schedule
from ._problem import Problem
from ._risk import expected_risk
from ._stability import UnstableScheduleWarning, is_stable

__all__ = ["LR_FAMILIES", "LR_MULTIPLIERS", "LRMultiplierSweep", "lr_multiplier_sweep", "sweep_checkpoints"]

#: The two learning-rate families: ``"constant"`` ``η = m/tr H``; ``"inverse_sqrt"`` ``η_t = m/(tr H √t)``.
LR_FAMILIES = ("constant", "inverse_sqrt")

#: The default grid: 22 multipliers ``m = 2^{k/2}``, ``k = −16 … 5`` (``2^-8 ≈ 0.0039`` to ``2^{5/2} ≈ 5.66``).
LR_MULTIPLIERS = 2.0 ** (np.arange(-16, 6) / 2.0)
LR_MULTIPLIERS.flags.writeable = False


def sweep_checkpoints(steps: int, count: int = 8) -> np.ndarray:
    """The default checkpoints of the sweep: ``count`` steps doubling up to ``steps``.

    ``t_k = round(steps · 2^{k − count + 1})`` for ``k = 0 … count − 1`` (duplicates and steps below 1
    dropped), so the last checkpoint is the horizon and each earlier one halves it
    (docs/math.md#lr-multiplier-sweep).

    Parameters
    ----------
    steps : int
        Horizon ``T`` (steps), ≥ 1.
    count : int, default 8
        Number of checkpoints before duplicates are dropped.

    Returns
    -------
    ndarray of int64, shape (≤ count,)
        Sorted distinct steps in ``[1, steps]``.

    Raises
    ------
    ValueError, TypeError
        For a ``steps`` or ``count`` that is not a positive integer.

    Examples
    --------
    >>> sweep_checkpoints(50_000).tolist()
    [391, 781, 1562, 3125, 6250, 12500, 25000, 50000]
    >>> sweep_checkpoints(10).tolist()
    [1, 2, 5, 10]
    """
    steps = positive_int(steps, "steps", maximum=MAX_STEP_ARRAY)
    count = positive_int(count, "count", maximum=62)
    t = np.round(steps * 2.0 ** (np.arange(count) - count + 1.0)).astype(np.int64)
    return np.unique(t[t >= 1])


@dataclass(frozen=True, eq=False)
class LRMultiplierSweep(FrozenRecord):
    """The result of :func:`lr_multiplier_sweep`: every curve of the grid, the scores and the selection.

    Attributes
    ----------
    families : tuple of str
        The families swept, in order (``F`` of them; names of :data:`LR_FAMILIES`).
    multipliers : ndarray, shape (M,)
        The multipliers ``m`` (rates in units of ``1/tr H``).
    checkpoints : ndarray of int64, shape (C,)
        The steps whose averaged risks are averaged into the score.
    steps : ndarray of int64, shape (S,)
        The steps at which :attr:`averaged_risk` is recorded (the requested ones and the checkpoints).
    averaged_risk : ndarray, shape (F, M, S)
        Averaged excess risk of family ``f``, multiplier ``m`` at :attr:`steps` (``+inf`` from the
        step a run diverged).
    scores : ndarray, shape (F, M)
        Mean of the averaged risk over :attr:`checkpoints` (``+inf`` for a diverged run).
    diverged_at : ndarray of int64, shape (F, M)
        Step at which the run diverged (docs/math.md#divergence), ``-1`` where it did not.
    trace : float
        ``tr H`` of the problem (``η = m / tr H`` at step 1 in both families).
    reduction_error : float or None
        Largest ``reduction_error`` of the runs when the solver reduced the problem
        (docs/math.md#quadrature-reduction), else ``None``.
    reduced_dimension : int or None
        Dimension of the reduced problem of the stable runs' call (the one the unstable constant
        rates do not set), else ``None``.

    Examples
    --------
    >>> p = Problem.power_law(30, a=1.5, b=3.0, noise_variance=0.01, target_norm=1.0)
    >>> sweep = lr_multiplier_sweep(p, 100, multipliers=[0.5, 1.0], families="inverse_sqrt")
    >>> sweep.averaged_risk.shape, sweep.scores.shape, sweep.selected_multiplier
    ((1, 2, 8), (1, 2), {'inverse_sqrt': 1.0})
    """

    families: tuple[str, ...]
    multipliers: np.ndarray
    checkpoints: np.ndarray
    steps: np.ndarray
    averaged_risk: np.ndarray
    scores: np.ndarray
    diverged_at: np.ndarray
    trace: float
    reduction_error: float | None = None
    reduced_dimension: int | None = None

    @property
    def selected_index(self) -> np.ndarray:
        """Per family, the index of the multiplier with the least score (the first on ties; ``-1`` if
        every run diverged), shape ``(F,)``."""
        out = np.argmin(self.scores, axis=1).astype(np.int64)
        out[~np.isfinite(self.scores).any(axis=1)] = -1
        return out

    @property
    def selected_multiplier(self) -> dict[str, float]:
        """Per family name, the selected multiplier (NaN if every run diverged)."""
        return {f: (float(self.multipliers[k]) if k >= 0 else float("nan"))
                for f, k in zip(self.families, self.selected_index)}

    @property
    def selected_at_edge(self) -> dict[str, bool]:
        """Per family name, whether the selection is the grid's smallest or largest multiplier (the
        optimum may then lie outside the grid)."""
        lo, hi = float(np.min(self.multipliers)), float(np.max(self.multipliers))
        return {f: m in (lo, hi) for f, m in self.selected_multiplier.items()}

    def selected_curve(self, family: str) -> np.ndarray:
        """The averaged risk of ``family``'s selected multiplier at :attr:`steps`, shape ``(S,)``.

        Parameters
        ----------
        family : str
            One of :attr:`families`.

        Returns
        -------
        ndarray of float64, shape (S,)

        Raises
        ------
        ValueError
            For a family that was not swept, or one whose every run diverged.
        """
        f = self.families.index(choice(family, "family", self.families))
        k = int(self.selected_index[f])
        if k < 0:
            raise ValueError(f"every run of family {family!r} diverged: no multiplier is selected")
        return self.averaged_risk[f, k]


def _steps_array(value: Any, name: str, lowest: int, steps: int) -> np.ndarray:
    arr = strict_real_array(value, name)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of steps; got shape {arr.shape}")
    check_range(arr, name, lower=lowest, upper=steps, integer=True, original=value)
    out = arr.astype(np.int64)
    if np.any(np.diff(out) <= 0):
        raise ValueError(f"{name} must be strictly increasing; got {np.asarray(value).tolist()[:10]}")
    return out


def lr_multiplier_sweep(
    problem: Problem,
    steps: int,
    *,
    multipliers: Any = None,
    families: Sequence[str] = LR_FAMILIES,
    checkpoints: Any = None,
    record: Any = None,
    average: Any = "uniform",
    reduce: bool | str = "auto",
    numerics: Any = None,
    progress: bool | None = None,
) -> LRMultiplierSweep:
    """Sweep the learning-rate multiplier of batch-1 SGD and select, per family, the best one.

    The protocol of the published exact-recursion figures (docs/math.md#lr-multiplier-sweep): for each
    family (``"constant"``: ``η = m / tr H``; ``"inverse_sqrt"``: ``η_t = m / (tr H √t)``,
    ``t = 1 … steps``) and each multiplier ``m``, SGD with batch 1 and an iterate average runs for
    ``steps`` steps; the score of ``m`` is the mean averaged excess risk over ``checkpoints``, and the
    selected ``m`` has the least score. The schedules are solved in one
    :func:`~ramplab.theory.expected_risk` call (with ``on_divergence="flag"``: a diverging run scores
    ``+inf``; the :class:`~ramplab.theory.UnstableScheduleWarning` of the grid's unstable constant
    rates is silenced, as those are expected in a sweep), and the constant rates that are unstable
    (:func:`~ramplab.theory.is_stable` false) in a second one: on a large problem they would otherwise
    set the quadrature reduction for all (docs/math.md#lr-multiplier-sweep). Every curve is exact
    either way.

    Parameters
    ----------
    problem : Problem
        The problem (e.g. ``Problem.power_law(d, a, b, σ², target_norm=1.0)``, the published
        setting with ``‖w*‖ = 1``, docs/math.md#normalised-target).
    steps : int
        Horizon ``T`` (steps; batch 1, so also samples).
    multipliers : array_like, shape (M,), optional
        Positive multipliers ``m`` (rates in units of ``1/tr H``). Default :data:`LR_MULTIPLIERS`,
        the 22 powers ``2^{k/2}``, ``k = −16 … 5``.
    families : sequence of str, default ``("constant", "inverse_sqrt")``
        Distinct names from :data:`LR_FAMILIES`.
    checkpoints : array_like of int, optional
        Strictly increasing steps in ``[1, steps]`` whose averaged risks make the score. Default
        :func:`sweep_checkpoints` ``(steps)``: 8 steps doubling up to ``steps``.
    record : array_like of int, optional
        Strictly increasing steps in ``[0, steps]`` at which to return every curve as well (e.g. a
        plotting grid); :attr:`LRMultiplierSweep.steps` is their union with ``checkpoints``. Default:
        the checkpoints only.
    average : "uniform" or Averaging, default "uniform"
        The iterate average whose risk is scored (docs/math.md#iterate-averaging); required.
    reduce : {"auto", True, False}, default "auto"
        Passed to :func:`~ramplab.theory.expected_risk` (quadrature reduction of large spectra).
    numerics : Numerics or dict, optional
        Passed to :func:`~ramplab.theory.expected_risk`.
    progress : bool or None, default None
        Passed to :func:`~ramplab.theory.expected_risk`.

    Returns
    -------
    LRMultiplierSweep
        Every curve (``averaged_risk``, shape ``(F, M, S)``), the scores ``(F, M)``, the divergence
        steps, and the selection (:attr:`~LRMultiplierSweep.selected_multiplier`,
        :meth:`~LRMultiplierSweep.selected_curve`).

    Raises
    ------
    TypeError
        For a ``problem`` that is not a :class:`Problem`, non-numeric multipliers or steps, or a
        family that is not a string.
    ValueError
        For a non-positive ``steps``, multipliers that are empty, not 1-D, or not positive and
        finite, an unknown or repeated family, checkpoints or record steps that are not strictly
        increasing integers in range, or ``average=None``.

    Examples
    --------
    A small power law with ``‖w*‖ = 1``, three multipliers, 200 steps:

    >>> p = Problem.power_law(50, a=1.5, b=3.0, noise_variance=0.01, target_norm=1.0)
    >>> sweep = lr_multiplier_sweep(p, 200, multipliers=[0.25, 1.0, 4.0])
    >>> sweep.checkpoints.tolist()
    [2, 3, 6, 12, 25, 50, 100, 200]
    >>> sweep.scores.round(4).tolist()       # m = 4 diverges at a constant rate
    [[0.0886, 0.0552, inf], [0.1198, 0.0665, 2.6334]]
    >>> sweep.selected_multiplier, sweep.selected_at_edge
    ({'constant': 1.0, 'inverse_sqrt': 1.0}, {'constant': False, 'inverse_sqrt': False})
    >>> sweep.diverged_at.tolist(), round(float(sweep.selected_curve("constant")[-1]), 4)
    ([[-1, -1, 15], [-1, -1, -1]], 0.0024)
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {type(problem).__name__}")
    steps = positive_int(steps, "steps", maximum=MAX_STEP_ARRAY)
    ms = LR_MULTIPLIERS if multipliers is None else real_vector(multipliers, "multipliers", positive=True)
    if isinstance(families, str):
        families = (families,)
    fams = tuple(choice(f, "families", LR_FAMILIES) for f in families)
    if not fams or len(set(fams)) != len(fams):
        raise ValueError(f"families must be distinct names from {LR_FAMILIES}; got {fams!r}")
    if average is None:
        raise ValueError("average must be 'uniform' or an Averaging: the sweep scores the averaged risk")
    checks = sweep_checkpoints(steps) if checkpoints is None else _steps_array(checkpoints, "checkpoints", 1, steps)
    kept = checks if record is None else np.union1d(_steps_array(record, "record", 0, steps), checks)

    trace = problem.trace
    t = np.arange(1, steps + 1, dtype=np.float64)
    schedules = [Schedule.constant(m / trace, 1, steps=steps, label=f"{f}, m={m:.6g}") if f == "constant"
                 else Schedule((m / trace) / np.sqrt(t), 1, label=f"{f}, m={m:.6g}")
                 for f in fams for m in ms]
    # Constant rates beyond the edge of stability (docs/math.md#stability) diverge; solved with the rest they
    # would set the quadrature reduction's split for every schedule (the largest contraction wins), keeping
    # up to 3× more coordinates. They go to a second call, with a reduction of their own.
    unstable = [f == "constant" and not is_stable(problem, m / trace, 1) for f in fams for m in ms]
    groups = [[j for j, u in enumerate(unstable) if u == flagged] for flagged in (False, True)]
    runs: list[Any] = [None] * len(schedules)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnstableScheduleWarning)
        for group in groups:
            if group:
                solved = expected_risk(problem, [schedules[j] for j in group], average=average,
                                       on_divergence="flag", checkpoints=kept, reduce=reduce, numerics=numerics,
                                       progress=progress)
                for j, run in zip(group, solved):
                    runs[j] = run
    shape = (len(fams), ms.size)
    curves = np.array([run.averaged_risk for run in runs], dtype=np.float64).reshape(shape + (kept.size,))
    at = np.searchsorted(kept, checks)
    scored = curves[..., at]
    finite = np.isfinite(scored).all(axis=-1)
    scores = np.where(finite, np.mean(np.where(finite[..., None], scored, 0.0), axis=-1), np.inf)
    diverged = np.array([-1 if run.diverged_at is None else run.diverged_at for run in runs],
                        dtype=np.int64).reshape(shape)
    errors = [run.reduction_error for run in runs if run.reduction_error is not None]
    first = runs[groups[0][0]] if groups[0] else runs[0]
    ms = np.array(ms)
    for arr in (curves, scores, diverged, kept, checks, ms):
        arr.flags.writeable = False
    return LRMultiplierSweep(families=fams, multipliers=ms, checkpoints=checks, steps=kept,
                             averaged_risk=curves, scores=scores, diverged_at=diverged, trace=float(trace),
                             reduction_error=max(errors) if errors else None,
                             reduced_dimension=first.reduced_dimension)
