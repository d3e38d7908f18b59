"""Three more batch sizes called "critical", measured exactly (docs/math.md#critical-batch-definitions).

Beside the SFO minimiser ``b*`` (:func:`critical_batch`, the Iiduka line), the literature calls three other
quantities the critical batch size. On noisy linear regression each is exact:

- :func:`pareto_critical_batch` — McCandlish et al. (2018, arXiv 1812.06162): with the learning rate tuned per
  batch, the steps ``S(B)`` to a target follow ``S = S_min (1 + B_crit/B)`` (equivalently
  ``(S/S_min − 1)(E/E_min − 1) = 1`` with ``E = BS``); ``B_crit = E_min/S_min``, fitted by least squares;
- :func:`linear_scaling_critical_batch` — Zhang et al. (2024, arXiv 2410.21676): the batch at which the tuned
  steps exceed perfect linear scaling from the smallest batch, ``S(B_0) B_0 / B``, by 20 %;
- :func:`local_critical_batch` — Merrill et al. (2025, arXiv 2505.23971): at step ``t`` of a run, branch its exact
  state into batches ``kB`` (learning rate kept, scaled by ``k`` or by ``√k``) and find the largest ``k`` whose
  branch recovers the base run's risk after ``Δ`` samples within ``(1 + tolerance) Δ`` samples.

The target of the first two is the gradient norm ``E‖∇f‖² ≤ τ`` (as for ``b*``); the local one compares risks.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._limits import MAX_STEP_ARRAY
from .._frozen import FrozenRecord
from .._validate import choice, describe, finite_real, nonnegative_int, positive_real, strict_real_array
from ..dynamics import Problem, UnstableScheduleWarning, expected_risk
from ..schedules._schedule import Schedule
from ._bounds import check_problem
from ._hitting import steps_to_target

__all__ = [
    "LocalCriticalBatch",
    "ParetoCriticalBatch",
    "linear_scaling_critical_batch",
    "local_critical_batch",
    "pareto_critical_batch",
    "tuned_steps",
]

LR_RULES = ("keep", "linear", "sqrt")


@dataclass(frozen=True, eq=False)
class ParetoCriticalBatch(FrozenRecord):
    """Steps to a target with the learning rate tuned per batch, and McCandlish et al.'s fit.

    Attributes
    ----------
    batches : ndarray, shape (n,)
        The batch grid (samples).
    steps : ndarray, shape (n,)
        ``S(B)``: the fewest (fractional) steps to the target over the learning-rate grid; ``inf``
        where no rate reached it.
    best_lr : ndarray, shape (n,)
        The rate that gave ``S(B)`` (NaN where none reached).
    samples : ndarray, shape (n,)
        ``E(B) = B S(B)``.
    steps_min, samples_min : float
        ``S_min`` and ``E_min`` of the fit ``S = S_min (1 + B_crit/B)``.
    critical_batch : float
        ``B_crit = E_min / S_min`` (samples).
    fit_residual : float
        Largest relative deviation of the fit from the measured ``S(B)`` over the reached batches.

    Examples
    --------
    >>> p = Problem.power_law(30, a=1.5, b=1.0, noise_variance=0.5)
    >>> fit = pareto_critical_batch(p, np.geomspace(1, 256, 9), 3e-2, lrs=np.geomspace(1e-2, 2, 48))
    >>> bool(fit.steps_min < fit.steps[-1] < fit.steps[0]), bool(fit.critical_batch > 1)
    (True, True)
    """

    batches: np.ndarray
    steps: np.ndarray
    best_lr: np.ndarray
    samples: np.ndarray
    steps_min: float
    samples_min: float
    critical_batch: float
    fit_residual: float


def tuned_steps(problem: Problem, batches: Any, target: float, *, lrs: Any = None,
                max_steps: int = 100_000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fewest steps to ``E‖∇f‖² ≤ target`` per batch, the learning rate tuned over a grid.

    Parameters
    ----------
    problem : Problem
    batches : array_like, shape (n,)
        Batch sizes ``≥ 1`` (samples).
    target : float
        Level of ``E‖∇f‖² = Σλ²s`` (``τ``).
    lrs : array_like, optional
        Learning-rate grid; by default 48 geometric points from ``10⁻²`` to ``2`` over ``λ₁``.
    max_steps : int, default 100000

    Returns
    -------
    batches, steps, best_lr : ndarray, shape (n,)
        The batches, the fractional steps (:class:`TargetHitting`'s ``fractional_steps``; ``inf``
        where no rate reached the target) and the best rate (NaN there).

    Raises
    ------
    ValueError
        For batches below 1, non-positive rates or target.

    Examples
    --------
    >>> p = Problem.power_law(30, a=1.5, b=1.0, noise_variance=0.1)
    >>> b, s, lr = tuned_steps(p, [1, 4, 16], 1e-2, lrs=np.geomspace(1e-2, 2, 48))
    >>> bool(np.all(np.diff(s) < 0)), bool(np.all(np.diff(lr) > 0))     # fewer steps, larger rates
    (True, True)
    """
    problem = check_problem(problem)
    b = strict_real_array(batches, "batches").ravel().astype(np.float64)
    if b.size == 0 or np.any(~np.isfinite(b) | (b < 1)):
        raise ValueError(f"batches must be a non-empty array of batch sizes ≥ 1; got {describe(batches)}")
    if lrs is None:
        grid = np.geomspace(1e-2, 2.0, 48) / problem.largest_eigenvalue
    else:
        grid = strict_real_array(lrs, "lrs").ravel().astype(np.float64)
        if grid.size == 0 or np.any(~np.isfinite(grid) | (grid <= 0)):
            raise ValueError(f"lrs must be a non-empty array of positive rates; got {describe(lrs)}")
    tau = positive_real(target, "target")
    try:
        hit = steps_to_target(problem, grid[None, :], b[:, None], tau, max_steps=max_steps)
    except ValueError as exc:  # name this function's arguments (steps_to_target says lr, batch)
        raise ValueError(f"{exc} — from batches={describe(batches)}, lrs={describe(lrs)}") from None
    steps = np.where(hit.status == "reached", hit.fractional_steps, np.inf).reshape(b.size, grid.size)
    if np.any(steps == 0):
        raise ValueError(f"target={target!r} is met at step 0 on problem={problem!r} (its initial E‖∇f‖² is "
                         f"not above the target): choose a smaller target")
    best = np.argmin(steps, axis=1)
    out = steps[np.arange(b.size), best]
    best_lr = np.where(np.isfinite(out), grid[best], np.nan)
    return b, out, best_lr


def pareto_critical_batch(problem: Problem, batches: Any, target: float, *, lrs: Any = None,
                          max_steps: int = 100_000) -> ParetoCriticalBatch:
    """McCandlish et al.'s critical batch ``B_crit = E_min/S_min`` from the tuned steps-versus-samples front.

    Fits ``S(B) = S_min + S_min B_crit / B`` by least squares of the relative error over the batches
    that reach the target (docs/math.md#critical-batch-definitions; arXiv 1812.06162, eq. 2.11).

    Parameters
    ----------
    problem : Problem
    batches : array_like, shape (n,)
        At least two batch sizes ``≥ 1`` (samples); a geometric grid spanning ``B_crit`` fits best.
    target : float
        Level of ``E‖∇f‖²``.
    lrs : array_like, optional
        Learning-rate grid (see :func:`tuned_steps`).
    max_steps : int, default 100000

    Returns
    -------
    ParetoCriticalBatch

    Raises
    ------
    ValueError
        For bad arguments, or fewer than two batches that reach the target.

    Examples
    --------
    >>> p = Problem.power_law(30, a=1.5, b=1.0, noise_variance=0.1)
    >>> fit = pareto_critical_batch(p, np.geomspace(1, 256, 9), 1e-2, lrs=np.geomspace(1e-2, 2, 48))
    >>> bool(1 < fit.critical_batch < 256), round(fit.fit_residual, 2)
    (True, 0.09)
    """
    b, steps, best_lr = tuned_steps(problem, batches, target, lrs=lrs, max_steps=max_steps)
    where = (f"target={target!r} within max_steps={max_steps} at any of lrs={describe(lrs)} "
             f"(batches={describe(batches)}) on problem={problem!r}")
    return pareto_fit(b, steps, best_lr, where)


def pareto_fit(b: np.ndarray, steps: np.ndarray, best_lr: np.ndarray, where: str = "") -> ParetoCriticalBatch:
    """McCandlish et al.'s fit of tuned steps ``S(B)`` (:func:`tuned_steps`'s output); see :func:`pareto_critical_batch`."""
    ok = np.isfinite(steps)
    if ok.sum() < 2:
        raise ValueError(f"fewer than two batches reach {where}: raise the target or "
                         f"max_steps, or widen lrs")
    # Relative least squares: minimise Σ ((S_min + S_min B_crit / B − S) / S)², every batch weighted alike.
    design = np.stack([np.ones(ok.sum()), 1.0 / b[ok]], axis=1) / steps[ok][:, None]
    (a, c), *_ = np.linalg.lstsq(design, np.ones(ok.sum()), rcond=None)
    if not (a > 0 and c > 0):
        raise ValueError(f"the steps do not follow S_min (1 + B_crit/B) ({where}; fit S_min={float(a)!r}, "
                         f"S_min·B_crit={float(c)!r}): widen the batch grid or refine lrs")
    fitted = a + c / b[ok]
    residual = float(np.max(np.abs(fitted - steps[ok]) / steps[ok]))
    b, steps, best_lr = (np.array(x, dtype=np.float64) for x in (b, steps, best_lr))
    for arr in (b, steps, best_lr):
        arr.flags.writeable = False
    samples = b * steps
    samples.flags.writeable = False
    return ParetoCriticalBatch(b, steps, best_lr, samples, float(a), float(c), float(c / a), residual)


def linear_scaling_critical_batch(problem: Problem, batches: Any, target: float, *, overhead: float = 0.2,
                                  lrs: Any = None, max_steps: int = 100_000) -> float:
    """Zhang et al.'s critical batch: where tuned steps exceed linear scaling by ``overhead`` (20 %).

    With ``B_0`` the smallest batch and ``S(B)`` the tuned steps (:func:`tuned_steps`), the first
    batch where ``S(B) · B / (S(B_0) B_0) ≥ 1 + overhead``, interpolated linearly in
    ``log B`` between grid points (docs/math.md#critical-batch-definitions; arXiv 2410.21676).

    Parameters
    ----------
    problem : Problem
    batches : array_like, shape (n,)
        Increasing batch sizes ``≥ 1``; the first is ``B_0``.
    target : float
        Level of ``E‖∇f‖²``.
    overhead : float, default 0.2
        Allowed excess over perfect linear scaling.
    lrs : array_like, optional
    max_steps : int, default 100000

    Returns
    -------
    float
        The batch (samples); ``inf`` when every batch of the grid stays within the overhead.

    Raises
    ------
    ValueError
        For batches that are not increasing, ``B_0`` that does not reach the target, or a
        non-positive ``overhead``.

    Examples
    --------
    >>> p = Problem.power_law(30, a=1.5, b=1.0, noise_variance=0.1)
    >>> round(linear_scaling_critical_batch(p, np.geomspace(1, 256, 9), 1e-2, lrs=np.geomspace(1e-2, 2, 48)), 1)
    8.4
    """
    over = positive_real(overhead, "overhead")
    b, steps, _ = tuned_steps(problem, batches, target, lrs=lrs, max_steps=max_steps)
    if np.any(np.diff(b) <= 0):
        raise ValueError(f"batches must be increasing; got {describe(batches)}")
    if not np.isfinite(steps[0]):
        raise ValueError(f"the smallest of batches ({float(b[0])!r}) does not reach target={target!r} within "
                         f"max_steps={max_steps} at any of lrs={describe(lrs)} on problem={problem!r}")
    return linear_scaling_fit(b, steps, over)


def linear_scaling_fit(b: np.ndarray, steps: np.ndarray, overhead: float = 0.2) -> float:
    """Zhang et al.'s batch from tuned steps ``S(B)`` on increasing batches; see :func:`linear_scaling_critical_batch`."""
    ratio = steps * b / (steps[0] * b[0])             # 1 at B_0; inf where the target is not reached
    above = np.nonzero(ratio >= 1.0 + overhead)[0]
    if above.size == 0:
        return math.inf
    i = int(above[0])
    lo, hi = ratio[i - 1], ratio[i]
    if not math.isfinite(hi):
        return float(b[i])
    frac = (1.0 + overhead - lo) / (hi - lo)
    return float(math.exp(math.log(b[i - 1]) + frac * (math.log(b[i]) - math.log(b[i - 1]))))


@dataclass(frozen=True, eq=False)
class LocalCriticalBatch(FrozenRecord):
    """The local critical batch at one step of a run (Merrill et al. 2025).

    Attributes
    ----------
    step : int
        The branching step ``t``.
    base_batch, base_lr : float
        The run's batch and rate at step ``t + 1``.
    multipliers : ndarray of float, shape (K,)
        The ``k`` tried.
    samples_needed : ndarray, shape (K,)
        Samples each branch ``(k B, η_k)`` needs to reach the base run's risk after ``Δ`` samples
        (fractional, interpolated in ``log`` risk; ``inf`` if not within the budget).
    target_risk : float
        The base run's risk after ``Δ`` samples at ``(B, η)``.
    critical_batch : float
        ``k B`` for the largest ``k`` of an unbroken run from the first multiplier whose branch
        needs at most ``(1 + tolerance) Δ`` samples (``0`` if none).

    Examples
    --------
    >>> p = Problem.power_law(100, a=1.5, b=1.0, noise_variance=0.1)
    >>> local = local_critical_batch(p, Schedule.constant(0.2, 4, steps=2000), 1900, 400.0)
    >>> local.base_batch, float(local.samples_needed[0]), local.critical_batch
    (4.0, 400.0, 32.0)
    """

    step: int
    base_batch: float
    base_lr: float
    multipliers: np.ndarray
    samples_needed: np.ndarray
    target_risk: float
    critical_batch: float


def _samples_to_risk(risk: np.ndarray, samples: np.ndarray, level: float) -> float:
    """First crossing of ``risk ≤ level``, interpolated linearly in ``log risk`` inside the step."""
    below = np.nonzero(risk <= level)[0]
    if below.size == 0:
        return math.inf
    i = int(below[0])
    if i == 0:
        return float(samples[0])
    r0, r1 = math.log(risk[i - 1]), math.log(max(risk[i], 1e-300))
    theta = (r0 - math.log(level)) / (r0 - r1) if r0 > r1 else 1.0
    return float(samples[i - 1] + theta * (samples[i] - samples[i - 1]))


def local_critical_batch(problem: Problem, schedule: Schedule, step: int, samples: float, *,
                         multipliers: Any = (1, 2, 4, 8, 16, 32, 64), lr_rule: str = "sqrt",
                         tolerance: float = 0.1, optimizer: Any = "sgd") -> LocalCriticalBatch:
    """Merrill et al.'s local critical batch: branch the exact state at ``step`` into larger batches.

    The run ``schedule`` is solved up to ``step``; from its state the base continues at its batch
    ``B`` and rate ``η`` of step ``step + 1`` for ``Δ = samples`` samples, reaching risk ``R*``.
    Each branch continues instead at ``k B`` with rate ``η`` (``lr_rule="keep"``), ``kη``
    (``"linear"``) or ``√k η`` (``"sqrt"``); the samples it needs to reach ``R*`` are measured.
    The local critical batch is ``k B`` for the largest ``k`` (of an unbroken run from the
    first multiplier) that needs at most ``(1 + tolerance) Δ`` samples
    (docs/math.md#critical-batch-definitions; arXiv 2505.23971).

    Parameters
    ----------
    problem : Problem
    schedule : Schedule
        The run; ``step`` must be below its length.
    step : int
        Branching step ``t ≥ 0``.
    samples : float
        ``Δ > 0``, the base's continuation in samples.
    multipliers : array_like of float, default (1, 2, …, 64)
        Increasing ``k ≥ 1``.
    lr_rule : {"keep", "linear", "sqrt"}, default "sqrt"
    tolerance : float, default 0.1
    optimizer : {"sgd", "nsgd"} or an optimizer spec, default "sgd"

    Returns
    -------
    LocalCriticalBatch

    Raises
    ------
    ValueError
        For a step past the schedule, non-increasing multipliers or multipliers below 1, a
        non-positive ``samples`` or ``tolerance``, or a base that diverges.

    Examples
    --------
    >>> p = Problem.power_law(100, a=1.5, b=1.0, noise_variance=0.1)
    >>> run = Schedule.constant(0.2, 4, steps=2000)
    >>> early, late = (local_critical_batch(p, run, t, 400.0) for t in (10, 1900))
    >>> early.multipliers[0], bool(late.critical_batch >= early.critical_batch)
    (np.float64(1.0), True)
    """
    problem = check_problem(problem)
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a Schedule; got {type(schedule).__name__}")
    t = nonnegative_int(step, "step")
    if t >= schedule.serial_steps:
        raise ValueError(f"step must be below the schedule's {schedule.serial_steps} steps; got step={t}")
    delta = positive_real(samples, "samples")
    ks = strict_real_array(multipliers, "multipliers").ravel().astype(np.float64)
    if ks.size == 0 or np.any(~np.isfinite(ks) | (ks < 1)) or np.any(np.diff(ks) <= 0):
        raise ValueError(f"multipliers must be increasing numbers ≥ 1; got {describe(multipliers)}")
    rule = choice(lr_rule, "lr_rule", LR_RULES)
    tol = finite_real(tolerance, "tolerance")
    if not 0 < tol <= 10:
        raise ValueError(f"tolerance must lie in (0, 10]; got {tol!r}")
    state = None
    if t > 0:
        lrs_head, batches_head = schedule.step_arrays(0, t)
        head = Schedule(lrs_head, batches_head, integer_batch=schedule.integer_batch)
        state = expected_risk(problem, head, optimizer=optimizer).state_at(t)
    lr_t, batch_t = schedule.step_arrays(t, t + 1)
    eta, b = float(lr_t[0]), float(batch_t[0])
    if (1.0 + tol) * delta / b + 2 > MAX_STEP_ARRAY:
        raise ValueError(f"samples={samples!r} at the run's batch {b!r} needs more than MAX_STEP_ARRAY = "
                         f"{MAX_STEP_ARRAY} steps")
    factor = {"keep": np.ones_like(ks), "linear": ks, "sqrt": np.sqrt(ks)}[rule]
    with np.errstate(over="ignore"):
        too_big = not (np.all(np.isfinite(ks * b)) and np.all(np.isfinite(factor * eta)))
    if too_big:
        raise ValueError(f"multipliers={describe(multipliers)} put k·batch or the rate beyond float64 (batch {b!r}, "
                         f"lr {eta!r})")

    def continue_at(lr: float, batch: float, budget: float) -> Any:
        n = max(1, math.ceil(budget / batch))
        rest = Schedule.constant(lr, batch, steps=n, integer_batch=False)
        return expected_risk(problem, rest, optimizer=optimizer, initial_state=state, on_divergence="flag")

    base = continue_at(eta, b, delta)
    if base.diverged_at is not None:
        raise ValueError(f"the base run diverges after step {t} at lr={eta!r}, batch={b!r}")
    # The base's risk after exactly Δ samples (interpolated inside the last step in log risk).
    rel = base.samples - base.samples[0]
    target = float(np.exp(np.interp(delta, rel, np.log(np.maximum(base.risk, 1e-300)))))
    needed = np.empty(ks.size)
    for j, k in enumerate(ks):
        lr_k = eta * float(factor[j])
        with warnings.catch_warnings():  # a branch beyond the stability edge is a probe: flagged, never reached
            warnings.simplefilter("ignore", UnstableScheduleWarning)
            branch = continue_at(lr_k, k * b, (1.0 + tol) * delta + k * b)
        rel_k = branch.samples - branch.samples[0]
        risk = np.where(np.isfinite(branch.risk), branch.risk, np.inf)
        needed[j] = _samples_to_risk(risk, rel_k.astype(np.float64), target)
    ok = needed <= (1.0 + tol) * delta * (1.0 + 1e-12)
    run = 0
    while run < ok.size and ok[run]:
        run += 1
    critical = float(ks[run - 1] * b) if run else 0.0
    needed.flags.writeable = False
    ks.flags.writeable = False
    return LocalCriticalBatch(t, b, eta, ks, needed, target, critical)
