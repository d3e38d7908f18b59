"""Workloads shared by the benchmarks and the figures: problems, learning rates and schedules.

The full-scale workload (docs/math.md#iterate-averaging) is batch-1 SGD with uniform iterate
averaging on the power laws ``λ_i = i^-a``, ``λ_i s_i(0) = i^-b`` for the exponent pairs
:data:`FULL_SCALE_EXPONENTS` (``σ² = 0.01``, :func:`full_scale_problem`), with the two learning-rate
families ``η = m / tr H`` and ``η_t = m / (tr H √t)`` (:func:`full_scale_schedules`), ``m`` a fraction
of the largest stable one (:func:`full_scale_m`, docs/math.md#stability). ``ramplab bench --suite
exact`` times it (:mod:`ramplab.benchmarks.exact_solver`) and the ``full_scale_curves`` figure draws
its problems with ``‖w*‖ = 1`` (:mod:`ramplab.figures.full_scale_curves`, through
:func:`~ramplab.theory.lr_multiplier_sweep`); both build the problems from here.

The benchmark's constant-rate workloads (:func:`workload_problem`, :func:`workload_lrs`) and two
readers of a solved trajectory (:func:`averaged_risk_at`, :func:`compression_estimates`) live here
for the same reason.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .theory import Problem, Schedule, expected_risk, is_stable  # noqa: F401  (expected_risk: the doctests)

__all__ = [
    "FULL_SCALE_EXPONENTS",
    "FULL_SCALE_NOISE_VARIANCE",
    "averaged_risk_at",
    "compression_estimates",
    "full_scale_m",
    "full_scale_problem",
    "full_scale_schedules",
    "largest_stable_lr",
    "workload_lrs",
    "workload_problem",
]

#: The exponents of the full-scale run: ``λ_i = i^-a`` and ``λ_i s_i(0) = i^-b`` for ``b ∈ {a, 2a}``.
FULL_SCALE_EXPONENTS = tuple((a, b) for a in (1.1, 1.5, 1.9) for b in (a, 2 * a))

#: Label-noise variance ``σ²`` of the full-scale problems.
FULL_SCALE_NOISE_VARIANCE = 0.01


def full_scale_problem(d: int, a: float, b: float, noise_variance: float = FULL_SCALE_NOISE_VARIANCE, *,
                       target_norm: float | None = None) -> Problem:
    """The full-scale problem of one exponent pair: ``λ_i = i^-a``, ``λ_i s_i(0) = i^-b``.

    Parameters
    ----------
    d : int
        Dimension (coordinates).
    a, b : float
        Power-law exponents, one pair of :data:`FULL_SCALE_EXPONENTS` in the full-scale run.
    noise_variance : float, default 0.01
        Label-noise variance ``σ²`` (:data:`FULL_SCALE_NOISE_VARIANCE`).
    target_norm : float, optional
        Scale ``s(0)`` so that ``‖w*‖ = target_norm`` (docs/math.md#normalised-target; the published
        exact-recursion figure uses 1, the ``full_scale_curves`` figure too); ``None``: unnormalised.

    Returns
    -------
    Problem
        :meth:`Problem.power_law` with these arguments (docs/math.md#noisy-linear-regression).

    Examples
    --------
    >>> p = full_scale_problem(100, 1.5, 3.0)
    >>> p.dimension, p.noise_variance, round(p.trace, 3)
    (100, 0.01, 2.413)
    """
    return Problem.power_law(d, a=a, b=b, noise_variance=noise_variance, target_norm=target_norm)


def largest_stable_lr(problem: Problem, batch: float = 1.0, *, rtol: float = 1e-10) -> float:
    """Largest constant learning rate at which SGD is stable (docs/math.md#stability), by bisection.

    Stability at constant ``(η, B)`` is monotone in ``η`` (both conditions of
    :func:`~ramplab.theory.is_stable` only get harder as ``η`` grows), so bisection on
    ``is_stable`` between 0 and ``2/(c λ_max)`` finds the threshold to relative accuracy ``rtol``.

    Parameters
    ----------
    problem : Problem
        The problem (its eigenvalues and kurtosis set the edge).
    batch : float, default 1.0
        Batch size ``B`` (samples per step).
    rtol : float, default 1e-10
        Relative accuracy of the bisection.

    Returns
    -------
    float
        The largest stable constant ``η`` (from below, within ``rtol``).

    Examples
    --------
    One direction, ``B = 1``, Gaussian: the step multiplies ``s`` by ``1 − 2ηλ + 3η²λ²``, which is
    below 1 iff ``η < 2/(3λ)``:

    >>> round(largest_stable_lr(Problem([2.0], [1.0])), 8)
    0.33333333
    """
    c = 1.0 + (problem.kurtosis - 2.0) / batch
    hi = 2.0 / (c * problem.largest_eigenvalue) if c > 0 else 1.0
    while is_stable(problem, hi, batch):  # only for κ < 2, where condition (i) does not bound η
        hi *= 2.0
    lo = 0.0
    while hi - lo > rtol * hi:
        mid = 0.5 * (lo + hi)
        if is_stable(problem, mid, batch):
            lo = mid
        else:
            hi = mid
    return lo


def full_scale_m(problem: Problem, fraction: float) -> tuple[float, float]:
    """``(m, m_max)`` with ``m_max = tr H · η_max`` (largest stable constant rate) and ``m = fraction · m_max``.

    Parameters
    ----------
    problem : Problem
        Sets ``tr H`` and ``η_max`` at batch 1 (docs/math.md#stability).
    fraction : float
        ``m / m_max``.

    Returns
    -------
    (float, float)
        ``m`` and ``m_max``.

    Examples
    --------
    >>> [round(v, 6) for v in full_scale_m(Problem.isotropic(2), 0.5)]
    [0.5, 1.0]
    """
    m_max = problem.trace * largest_stable_lr(problem, 1.0)
    return fraction * m_max, m_max


def full_scale_schedules(problem: Problem, steps: int, m: float) -> tuple[Schedule, Schedule]:
    """``η = m / tr H`` constant and ``η_t = m / (tr H √t)`` (``t = 1 … steps``), batch 1.

    Parameters
    ----------
    problem : Problem
        Sets ``tr H``.
    steps : int
        Steps of each schedule.
    m : float
        Rate in units of ``1/tr H``.

    Returns
    -------
    (Schedule, Schedule)
        The constant and the ``1/√t`` schedule, labelled with ``m``.

    Examples
    --------
    >>> const, decay = full_scale_schedules(Problem.isotropic(2), 4, 0.5)
    >>> const.lr.tolist(), decay.lr.round(4).tolist()
    ([0.25, 0.25, 0.25, 0.25], [0.25, 0.1768, 0.1443, 0.125])
    """
    eta0 = m / problem.trace
    t = np.arange(1, steps + 1, dtype=np.float64)
    return (Schedule.constant(eta0, 1, steps=steps, label=f"m/trH, m={m:.4g}"),
            Schedule(eta0 / np.sqrt(t), 1, label=f"m/(trH sqrt t), m={m:.4g}"))


def averaged_risk_at(trajectory: Any, steps: Sequence[int]) -> np.ndarray:
    """The averaged risk of ``trajectory`` at the given steps.

    Works both for a full trajectory (``steps`` ``0 … T``) and for one computed with
    ``checkpoints=`` (``trajectory.steps`` holding only the recorded steps).

    Parameters
    ----------
    trajectory : RiskTrajectory
        Computed with ``average=...`` (docs/math.md#iterate-averaging).
    steps : sequence of int
        Steps at which to read the averaged risk; each must be recorded in ``trajectory.steps``.

    Returns
    -------
    ndarray of float64, shape (len(steps),)
        Excess risk of the iterate average at ``steps``.

    Raises
    ------
    ValueError
        If a step was not recorded.

    Examples
    --------
    >>> p = Problem.isotropic(2, noise_variance=0.1)
    >>> r = expected_risk(p, Schedule.constant(0.1, 1, steps=4), average="uniform", checkpoints=[0, 2, 4])
    >>> averaged_risk_at(r, [2, 4]).round(4).tolist()
    [0.7656, 0.6399]
    """
    recorded = np.asarray(trajectory.steps)
    wanted = np.asarray(steps, dtype=np.int64)
    pos = np.searchsorted(recorded, wanted)
    pos = np.minimum(pos, recorded.size - 1)
    if not np.array_equal(recorded[pos], wanted):
        missing = wanted[recorded[pos] != wanted]
        raise ValueError(f"steps {missing[:5].tolist()} were not recorded in the trajectory")
    return np.asarray(trajectory.averaged_risk, dtype=np.float64)[pos]


def compression_estimates(trajectory: Any) -> dict[str, float]:
    """The compression error estimate a trajectory reports (``{}`` without ``compress=``).

    Parameters
    ----------
    trajectory : RiskTrajectory
        A solver result (docs/math.md#spectral-compression).

    Returns
    -------
    dict of str to float
        ``{"compression_error": e}`` when the run was compressed, else ``{}``.

    Examples
    --------
    >>> p = Problem.isotropic(2, noise_variance=0.0)
    >>> compression_estimates(expected_risk(p, Schedule.constant(0.1, 1, steps=2)))
    {}
    """
    value = getattr(trajectory, "compression_error", None)
    return {} if value is None else {"compression_error": float(value)}


def workload_problem(d: int) -> Problem:
    """The workloads' problem: ``λ_i = i^-1.5``, ``λ_i s_i(0) = i^-3``, ``σ² = 0.01``.

    Parameters
    ----------
    d : int
        Dimension (coordinates).

    Returns
    -------
    Problem
        The power law of docs/math.md#noisy-linear-regression with those exponents.

    Examples
    --------
    >>> round(workload_problem(100).trace, 3)
    2.413
    """
    return Problem.power_law(d, a=1.5, b=3.0, noise_variance=0.01)


def workload_lrs(problem: Problem, n: int) -> np.ndarray:
    """``n`` constant rates, geometric from 0.95 of the largest stable one down to 1/1000 of it.

    Parameters
    ----------
    problem : Problem
        Sets the largest stable rate at batch 1 (docs/math.md#stability).
    n : int
        Number of rates.

    Returns
    -------
    ndarray of float64, shape (n,)
        Learning rates, decreasing.

    Examples
    --------
    >>> workload_lrs(Problem.isotropic(2), 3).round(4).tolist()
    [0.475, 0.0154, 0.0005]
    """
    top = largest_stable_lr(problem, 1.0)
    return np.geomspace(0.95 * top, 1e-3 * top, n)
