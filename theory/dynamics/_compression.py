"""Spectral compression: evolve one aggregated moment per group of nearly equal eigenvalues.

The exact recursion couples coordinates only through ``q = Σ m λ s`` and ``Σ m λ² s``
(docs/math.md#multiplicity), so coordinates with nearly equal ``λ`` evolve almost identically.
:func:`spectral_groups` partitions the spectrum *for given schedules*, using the log-contraction
``A(λ) = −Σ_t log D_t(λ)`` each coordinate undergoes over the horizon, and builds a
:class:`SpectralGrouping`: one coordinate per group with the group's mean eigenvalue, its size as
multiplicity, and an initial moment that keeps ``q(0)``. ``expected_risk(..., compress=rtol)`` solves the compressed problem at two resolutions
and reports their gap as ``RiskTrajectory.compression_error``
(docs/math.md#spectral-compression).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .._frozen import FrozenRecord
from .._validate import as_numpy, finite_real, strict_real_array
from ..schedules._schedule import Schedule, schedule_list
from . import _step as step
from ._problem import Problem
from ._solver import SolveRequest, solve

__all__ = [
    "SpectralGrouping",
    "contraction_exponent",
    "resolution_for",
    "spectral_groups",
]

# A-priori resolution δ = _RESOLUTION_PER_SQRT_RTOL · sqrt(rtol): the grouping error is second order in
# the within-group spread δ (docs/math.md#spectral-compression); the constant was calibrated on
# power-law spectra so that the first try usually meets rtol, and the a-posteriori check refines.
_RESOLUTION_PER_SQRT_RTOL = 1.5
# Below this x = ηλ the per-step log-contraction is summed as a cubic series (relative error ~x³).
_SERIES_BELOW = 0.02
# contraction_exponent evaluates every (rate, point) pair at once up to this many terms, else point by point.
_VECTOR_TERMS = 200_000
# Nodes per unit of log λ on which the contraction profile is evaluated (then interpolated).
_NODES_PER_E_FOLD = 8
_MAX_REFINEMENTS = 8
# Grouping density used where the contraction profile is not finite: large enough to separate eigenvalues.
_UNRESOLVED = 1e12
_CURVES = ("risk", "bias", "variance", "averaged_risk", "effective_lr", "gradient_second_moment",
           "mean_variance_ratio")


@dataclass(frozen=True, eq=False)
class SpectralGrouping(FrozenRecord):
    """A partition of a problem's coordinates into groups and the compressed problem it defines.

    Attributes
    ----------
    source : Problem
        The problem that was grouped (``d`` stored coordinates).
    group_index : ndarray of int64, shape (d,)
        Group of every coordinate, ``0 … G − 1``; groups are ordered by decreasing eigenvalue.
    problem : Problem
        The compressed problem (``G`` coordinates): ``λ̄_G = Σ m λ / Σ m`` over the group,
        ``m_G = Σ m`` (the group size for unit multiplicity) and ``s̄_G(0) = Σ m λ s(0) / (m_G λ̄_G)``,
        so ``tr H``, ``q(0)`` and the initial risk are those of :attr:`source`.
    resolution : float
        Largest within-group spread ``δ`` of the grouping variable (0: one group per distinct λ).

    Examples
    --------
    >>> p = Problem([1.0, 1.0, 0.5], [1.0, 3.0, 2.0])
    >>> g = spectral_groups(p, Schedule.constant(0.1, 1, steps=10), rtol=0.0)
    >>> g.group_index.tolist(), g.problem.multiplicity.tolist(), g.problem.initial_second_moment.tolist()
    ([0, 0, 1], [2.0, 1.0], [2.0, 2.0])
    >>> g.expand(np.array([5.0, 7.0])).tolist()
    [5.0, 5.0, 7.0]
    """

    source: Problem
    group_index: np.ndarray
    problem: Problem
    resolution: float

    @property
    def groups(self) -> int:
        """Number of groups ``G``."""
        return self.problem.dimension

    @property
    def exact(self) -> bool:
        """Whether every group holds a single distinct eigenvalue (compression loses nothing)."""
        return self.groups == np.unique(self.source.eigenvalues).size

    def expand(self, values: Any) -> np.ndarray:
        """Map per-group values, shape ``(..., G)``, to coordinates, shape ``(..., d)``.

        Every coordinate gets its group's value. For second moments this keeps ``Σ m λ s`` per group,
        since ``λ̄_G`` is the group's multiplicity-weighted mean eigenvalue
        (docs/math.md#spectral-compression).

        Parameters
        ----------
        values : array_like, shape (..., G)
            One value per group along the last axis (``G = groups``).

        Returns
        -------
        ndarray, shape (..., d)
            ``values[..., group_index]``: each coordinate's group value.

        Raises
        ------
        ValueError
            If the last axis of ``values`` is not of length ``groups``.
        """
        arr = as_numpy(values, "values")
        if arr.ndim == 0 or arr.shape[-1] != self.groups:
            raise ValueError(f"values must have last axis of length {self.groups} (groups); got shape {arr.shape}")
        return arr[..., self.group_index]


def resolution_for(rtol: float) -> float:
    """A-priori grouping resolution ``δ`` for a relative tolerance (docs/math.md#spectral-compression).

    Parameters
    ----------
    rtol : float
        Target relative error of the risk, ``≥ 0``.

    Returns
    -------
    float
        ``δ ∝ √rtol`` (``0`` for ``rtol = 0``: one group per distinct eigenvalue).

    Raises
    ------
    ValueError
        If ``rtol`` is negative or not finite.

    Examples
    --------
    >>> round(resolution_for(1e-4), 6)
    0.02
    """
    rtol = finite_real(rtol, "rtol", minimum=0.0)
    return _RESOLUTION_PER_SQRT_RTOL * math.sqrt(rtol)


def contraction_exponent(eigenvalues: Any, lr: Any, batch: Any, kurtosis: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """Log-contraction ``A(λ) = −Σ_t log D_t(λ)`` over a rate sequence and its variation in ``log λ``.

    ``D_t(λ) = 1 − 2η_tλ + c_t η_t²λ²`` with ``c_t = 1 + (κ − 2)/B_t`` is the factor by which step
    ``t`` multiplies a second moment without noise injection (docs/math.md#spectral-compression).

    Parameters
    ----------
    eigenvalues : array_like, shape (K,)
        Where to evaluate.
    lr, batch : array_like, shape (T,)
        Rates actually applied (for NSGD the effective ones) and batch sizes.
    kurtosis : float

    Returns
    -------
    A, V : ndarray, shape (K,)
        ``A(λ)`` and ``V(λ) = Σ_t |∂ log D_t / ∂ log λ|``, which bounds the change of every partial
        sum ``A_t`` per unit of ``log λ``.

    Examples
    --------
    >>> A, V = contraction_exponent([1.0], [0.5, 0.5], [1, 1])   # D = 1 − 1 + 0.5 each step
    >>> round(float(A[0]), 6), float(V[0])
    (1.386294, 0.0)
    """
    lam = strict_real_array(eigenvalues, "eigenvalues")
    if lam.ndim != 1 or not np.all(np.isfinite(lam) & (lam > 0)):
        raise ValueError(f"eigenvalues must be a 1-D array of positive finite numbers; got {eigenvalues!r:.80}")
    eta = strict_real_array(lr, "lr")
    batch = strict_real_array(batch, "batch")
    if eta.ndim != 1 or batch.shape != eta.shape:
        raise ValueError(f"lr and batch must be 1-D of one length; got shapes {eta.shape} and {batch.shape}")
    if not np.all(np.isfinite(eta) & (eta >= 0)):
        raise ValueError(f"lr must be finite and ≥ 0; got {lr!r:.80}")
    if not np.all(np.isfinite(batch) & (batch >= 1)):
        raise ValueError(f"batch must be finite and ≥ 1; got {batch!r:.80}")
    kurtosis = finite_real(kurtosis, "kurtosis", minimum=1.0)
    if eta.size and (eta.max() > 1e100 or lam.size and eta.max() * lam.max() > 1e100):
        # The power sums below take η³ and (ηλ)²: keep them inside float64.
        raise ValueError(f"lr and lr × eigenvalues must be ≤ 1e100; got max lr {eta.max():g}, "
                         f"max eigenvalue {lam.max():g}")
    c = step.batch_factor(kurtosis - 2.0, batch)
    keep = eta > 0
    eta, c = eta[keep], c[keep]
    A, V = np.zeros(lam.shape), np.zeros(lam.shape)
    if eta.size == 0:
        return A, V
    # Distinct (η, c) pairs with their counts; constant schedules collapse to one pair.
    # (np.unique(axis=0) sorts a structured view: ~0.4 s at 50 000 steps; a lexsort gives the same pairs.)
    by = np.lexsort((c, eta))
    eta, c = eta[by], c[by]
    first = np.flatnonzero(np.concatenate([[True], (np.diff(eta) != 0) | (np.diff(c) != 0)]))
    counts = np.diff(np.append(first, eta.size))
    order = np.argsort(-eta[first], kind="stable")
    eta, c, n = eta[first][order], c[first][order], counts[order].astype(np.float64)
    # Suffix power sums for the cubic series −log D = 2x + (2 − c)x² + (8/3 − 2c)x³ + O(x⁴).
    p1 = np.concatenate([np.cumsum((n * eta)[::-1])[::-1], [0.0]])
    p2 = np.concatenate([np.cumsum((n * (2.0 - c) * eta**2)[::-1])[::-1], [0.0]])
    p3 = np.concatenate([np.cumsum((n * (8.0 / 3.0 - 2.0 * c) * eta**3)[::-1])[::-1], [0.0]])
    # Steps with η λ ≥ _SERIES_BELOW are summed exactly, the rest by the series.
    splits = np.searchsorted(-eta, -_SERIES_BELOW / lam, side="right")
    if eta.size * lam.size <= _VECTOR_TERMS:
        # Few distinct rates (constant and piecewise schedules): every point at once; the terms beyond a
        # point's split are masked to 0 (the same sums as the loop below, in another order).
        exact = np.arange(eta.size)[:, None] < splits[None, :]
        x = np.where(exact, eta[:, None] * lam[None, :], 0.0)
        cx = c[:, None] * x
        d = np.maximum(1.0 - x * (2.0 - cx), 1e-300)
        A = n @ -np.log(d)
        V = n @ np.abs(x * (2.0 - 2.0 * cx) / d)
        poly = 2.0 * lam * p1[splits] + lam**2 * p2[splits] + lam**3 * p3[splits]
        A += poly
        V += np.abs(2.0 * lam * p1[splits] + 2.0 * lam**2 * p2[splits] + 3.0 * lam**3 * p3[splits])
        return A, V
    for k, x_scale in enumerate(lam):
        split = int(splits[k])
        if split:
            x = eta[:split] * x_scale
            d = np.maximum(1.0 - x * (2.0 - c[:split] * x), 1e-300)
            A[k] = float(n[:split] @ -np.log(d))
            V[k] = float(n[:split] @ np.abs(x * (2.0 - 2.0 * c[:split] * x) / d))
        A[k] += 2.0 * x_scale * p1[split] + x_scale**2 * p2[split] + x_scale**3 * p3[split]
        V[k] += abs(2.0 * x_scale * p1[split] + 2.0 * x_scale**2 * p2[split] + 3.0 * x_scale**3 * p3[split])
    return A, V


def _group_variable(eigenvalues: np.ndarray, rates: Sequence[tuple[np.ndarray, np.ndarray]],
                    kurtosis: float) -> np.ndarray:
    """``v(λ) = ∫ max_s V_s / sqrt(A_s (1 + A_s)) d log λ`` at the sorted distinct ``eigenvalues``."""
    log_lam = np.log(eigenvalues)
    lo, hi = float(log_lam[0]), float(log_lam[-1])
    if hi == lo:
        return np.zeros(eigenvalues.shape)
    nodes = np.linspace(lo, hi, max(3, int(math.ceil((hi - lo) * _NODES_PER_E_FOLD)) + 1))
    density = np.zeros(nodes.shape)
    for lr, batch in rates:
        A, V = contraction_exponent(np.exp(nodes), lr, batch, kurtosis)
        size = np.abs(A)  # a step beyond the stability edge expands (A < 0): its size still counts
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            rho = np.where(V > 0, V / np.sqrt(np.maximum(size, 1e-300) * (1.0 + size)), 0.0)
        # Where the profile is not finite, fall back to separating every eigenvalue there.
        density = np.maximum(density, np.nan_to_num(rho, nan=_UNRESOLVED, posinf=_UNRESOLVED))
    at = np.interp(log_lam, nodes, density)
    steps = 0.5 * (at[1:] + at[:-1]) * np.diff(log_lam)
    return np.concatenate([[0.0], np.cumsum(steps)])


def _grouping(problem: Problem, rates: Sequence[tuple[np.ndarray, np.ndarray]], resolution: float) -> SpectralGrouping:
    lam = problem.eigenvalues
    distinct, inverse = np.unique(lam, return_inverse=True)  # ascending
    if resolution > 0:
        v = _group_variable(distinct, rates, problem.kurtosis)
        with np.errstate(over="ignore"):
            cell = np.floor(v / resolution)
        # A new group starts where v enters a new cell of width δ (the second test keeps distinct
        # eigenvalues apart when v / δ overflows for a tiny δ).
        starts = (cell[1:] > cell[:-1]) | (np.diff(v) > resolution)
    else:
        starts = np.ones(distinct.size - 1, dtype=bool)
    bin_rank = np.concatenate([[0], np.cumsum(starts)])  # 0 … G−1, ascending λ
    groups = int(bin_rank[-1]) + 1
    group_index = (groups - 1 - bin_rank)[inverse].astype(np.int64)  # decreasing λ, as in power_law
    group_index.flags.writeable = False
    m = problem.multiplicity
    mult = np.bincount(group_index, weights=m, minlength=groups)
    mean_lam = np.bincount(group_index, weights=m * lam, minlength=groups) / mult
    risk0 = np.bincount(group_index, weights=m * lam * problem.initial_second_moment, minlength=groups)
    # Rounding can put the mean a hair outside the group's range; clip into it.
    lo = np.full(groups, np.inf)
    hi = np.zeros(groups)
    np.minimum.at(lo, group_index, lam)
    np.maximum.at(hi, group_index, lam)
    mean_lam = np.clip(mean_lam, lo, hi)
    compressed = Problem(mean_lam, risk0 / (mult * mean_lam), problem.noise_variance, problem.kurtosis,
                         metadata={**problem.metadata, "compressed_from": problem.dimension,
                                   "resolution": float(resolution)},
                         multiplicity=mult)
    return SpectralGrouping(problem, group_index, compressed, float(resolution))


def _rates(schedules: list[Schedule]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.asarray(s.lr, dtype=np.float64), np.asarray(s.batch, dtype=np.float64)) for s in schedules]


def spectral_groups(problem: Problem, schedules: Schedule | Sequence[Schedule], rtol: float | None = None, *,
                    resolution: float | None = None) -> SpectralGrouping:
    """Group a problem's coordinates for the given schedules (docs/math.md#spectral-compression).

    Coordinates are sorted by ``λ`` and cut where the grouping variable
    ``v(λ) = ∫ max_s V_s(λ) / sqrt(A_s(λ)(1 + A_s(λ))) d log λ`` crosses a multiple of the
    resolution ``δ``, with ``A_s`` and ``V_s`` from :func:`contraction_exponent` over each
    schedule's rates. Coordinates that barely move (``A ≪ 1``) are grouped coarsely in ``λ``, the
    ones that contract (``A ≫ 1``) in relative steps ``δ`` of ``λ``. Dyadic resolutions nest: the
    groups at ``δ/2`` refine those at ``δ``.

    Parameters
    ----------
    problem : Problem
    schedules : Schedule or sequence of Schedule
        The rates the grouping is for. For NSGD pass schedules of the *effective* rates.
    rtol : float, optional
        Target relative error; sets ``δ = resolution_for(rtol)``. ``0`` gives one group per
        distinct eigenvalue (exact).
    resolution : float, optional
        ``δ`` directly (exactly one of ``rtol`` and ``resolution``).

    Returns
    -------
    SpectralGrouping

    Raises
    ------
    ValueError
        If both or neither of ``rtol`` and ``resolution`` are given, or either is negative.

    Examples
    --------
    >>> p = Problem.power_law(100_000, a=1.5, b=3.0, noise_variance=0.01)
    >>> g = spectral_groups(p, Schedule.constant(0.5 / p.trace, 1, steps=10_000), rtol=1e-3)
    >>> g.groups < 400, round(g.problem.trace / p.trace, 12), round(g.problem.initial_risk / p.initial_risk, 12)
    (True, 1.0, 1.0)
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {type(problem).__name__}")
    if (rtol is None) == (resolution is None):
        raise ValueError("give exactly one of rtol= and resolution=")
    delta = resolution_for(rtol) if rtol is not None else finite_real(resolution, "resolution", minimum=0.0)
    return _grouping(problem, _rates(schedule_list(schedules)), delta)


def _relative_gap(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Largest ``|a − b| / max(|a|, |b|)``; entries equal in both (zeros, infinities, NaNs) count 0."""
    if a is None or b is None:
        return 0.0
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.abs(a - b) / np.maximum(np.abs(a), np.abs(b))
    gap = np.where(same, 0.0, np.where(np.isnan(gap), np.inf, gap))
    return float(np.max(gap)) if gap.size else 0.0


def _initial_effective_rates(problem: Problem, schedules: list[Schedule]) -> list[tuple[np.ndarray, np.ndarray]]:
    """NSGD's rates ``η_t / sqrt(G)`` with ``G`` at the initial state (docs/math.md#normalized-sgd): the
    pilot run's grouping variable, before any effective rate is known."""
    lam, w = problem.eigenvalues, problem.multiplicity * problem.eigenvalues
    s0 = problem.initial_second_moment
    mean, q = float((w * lam) @ s0), float(w @ s0)
    out = []
    for s in schedules:
        batch = np.asarray(s.batch, dtype=np.float64)
        g = step.gradient_norm2(step.batch_factor(problem.kurtosis - 2.0, batch), mean, problem.trace, batch, q,
                                problem.noise_variance)
        out.append((step.nsgd_rates(np, np.asarray(s.lr, dtype=np.float64), g), batch))
    return out


def _applied_rates(trajectories: Sequence[Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.nan_to_num(np.asarray(t.effective_lr, dtype=np.float64), nan=0.0, posinf=0.0),
             np.asarray(t.schedule.batch, dtype=np.float64)) for t in trajectories]


def compressed_expected_risk(request: SolveRequest, problem: Problem, rtol: Any) -> list[Any]:
    """The checked ``request`` of ``expected_risk(..., compress=rtol)`` solved on compressed problems.

    Solves at resolution ``δ = resolution_for(rtol)`` and at ``2δ``; while the two runs differ by
    more than ``rtol`` (largest relative gap over every curve and step: risk, bias, variance,
    averaged risk, effective rate, ``E‖g‖²``, mean/variance ratio), halves ``δ`` (the finer run
    becomes the coarse one). The returned curves are the finer run's; each trajectory's
    ``compression_error`` is its gap, an estimate of its error that is conservative by about a
    factor 3 when the error is second order in ``δ`` (docs/math.md#spectral-compression).
    ``final_second_moment`` is expanded to coordinates with :meth:`SpectralGrouping.expand` (and no
    solver state is kept: it would hold groups, not coordinates). For NSGD a pilot run at ``2δ``,
    grouped for the rates at the initial state, gives effective rates; every grouping after it uses
    those, so that the resolutions compared are nested partitions of one grouping variable. Every
    run goes through :func:`._solver.solve`, the loop ``expected_risk`` uses.

    Parameters
    ----------
    request : SolveRequest
        The checked arguments of ``expected_risk``.
    problem : Problem
    rtol : float
        Relative tolerance, ≥ 0; ``0`` groups only equal eigenvalues (exact).

    Returns
    -------
    list of RiskTrajectory
        With ``compression_error`` (float) and ``compressed_dimension`` (groups) set.

    Examples
    --------
    >>> from ramplab.theory import expected_risk
    >>> p = Problem.power_law(20_000, a=1.5, b=1.5, noise_variance=0.01)
    >>> s = Schedule.constant(0.5 / p.trace, 1, steps=2000)
    >>> r = expected_risk(p, s, compress=1e-3, average="uniform")
    >>> r.compressed_dimension < 500, r.compression_error <= 1e-3
    (True, True)
    """
    sched_list = list(request.schedules)
    rtol = finite_real(rtol, "compress=rtol", minimum=0.0)

    def solve_on(grouping: SpectralGrouping) -> tuple[Any, ...]:
        return tuple(solve(request, grouping.problem))

    def finish(grouping: SpectralGrouping, runs: tuple[Any, ...], gaps: list[float]) -> list[Any]:
        return [dataclasses.replace(run, final_second_moment=grouping.expand(run.final_second_moment),
                                    compression_error=gap, compressed_dimension=grouping.groups, states={})
                for run, gap in zip(runs, gaps)]

    if rtol == 0.0:
        exact = _grouping(problem, [], 0.0)
        return finish(exact, solve_on(exact), [0.0] * len(sched_list))

    nsgd = request.optimizer == "nsgd"
    delta = resolution_for(rtol)
    if nsgd:
        # Pilot for the effective rates, which are unknown before a run.
        pilot_grouping = _grouping(problem, _initial_effective_rates(problem, sched_list), 2.0 * delta)
        pilot = solve_on(pilot_grouping)
        rates = _applied_rates(pilot)
    else:
        rates = _rates(sched_list)
    # One grouping variable for every resolution, so the partitions compared are nested and their gap
    # measures the resolution's error.
    coarse_grouping = _grouping(problem, rates, 2.0 * delta)
    if nsgd and np.array_equal(coarse_grouping.group_index, pilot_grouping.group_index):
        coarse = pilot
    else:
        coarse = solve_on(coarse_grouping)
    for _ in range(_MAX_REFINEMENTS):
        grouping = _grouping(problem, rates, delta)
        runs = solve_on(grouping)
        if grouping.exact:
            return finish(grouping, runs, [0.0] * len(runs))
        gaps = [max(_relative_gap(getattr(f, name), getattr(c, name)) for name in _CURVES)
                for f, c in zip(runs, coarse)]
        if max(gaps) <= rtol:
            return finish(grouping, runs, gaps)
        coarse, delta = runs, 0.5 * delta
    warnings.warn(f"spectral compression did not reach rtol={rtol:g} after {_MAX_REFINEMENTS} refinements "
                  f"({grouping.groups} groups); compression_error says how far it got", RuntimeWarning, stacklevel=3)
    return finish(grouping, runs, gaps)


# Shared with the quadrature reduction (docs/math.md#quadrature-reduction), which checks and splits the same way.
CURVES = _CURVES
relative_gap = _relative_gap
initial_effective_rates = _initial_effective_rates
applied_rates = _applied_rates
schedule_rates = _rates
