"""Optimal joint learning-rate / batch-size schedules at exact budgets, and the serial-step frontier.

docs/math.md#optimal-schedules. For a problem, a sample budget ``N`` and a serial-step budget ``S``,
:func:`optimal_schedule` minimises the exact objective (final, averaged or checkpoint-mean excess risk,
:func:`~ramplab.theory.expected_risk`) over ``K`` constant segments ``(η_k, B_k)`` of fixed step counts
``n_k`` (``Σ n_k = S``), subject to the exact sample budget ``Σ n_k B_k = N``. The variables are
``log η_k`` and ``log B_k``; the optimiser is SciPy's SLSQP with the exact gradient of the objective
(:func:`~ramplab.theory.risk_gradient`, the adjoint pass of docs/math.md#risk-gradient) and the exact
Jacobian of the budget; for large ``d`` the search runs first on a quadrature-reduced problem valid for
every schedule inside the bounds and is finished on the full one. Batches are real during the optimisation; the integer schedule is a documented
rounding of the continuous optimum (docs/math.md#optimal-schedule-rounding), and its objective is
reported beside the continuous one.

:func:`serial_step_frontier` maps :func:`optimal_schedule` over serial-step budgets at fixed samples
(on any :class:`concurrent.futures.Executor`, e.g. a Dask client's ``get_executor()``, or through
:func:`ramplab.sweeps.sweep` as the figure does), and :func:`named_schedules` builds the named schedules
the frontier is compared with, all at the same total samples.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import math
import warnings
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from .._frozen import FrozenRecord
from .._limits import MAX_EXACT_INTEGER, MAX_STEP_ARRAY
from .._validate import as_numpy, choice, describe, finite_real, flag, positive_int, positive_real
from .._optimizers import HeavyBall, resolve_optimizer
from ..dynamics import DivergenceError, Problem, UnstableScheduleWarning, expected_risk, max_stable_lr, risk_gradient
from ..schedules import WSD, Cosine, StepDecay, Constant, phase_schedule, seesaw_schedule
from ..schedules._schedule import Schedule
from ..dynamics._adjoint import GradientOverflowError, checkpoint_list, refuse_weight_decay

__all__ = ["OptimalSchedule", "SerialStepFrontier", "named_schedules", "optimal_schedule",
           "serial_step_frontier", "stretched_schedule"]

#: The objectives :func:`optimal_schedule` minimises (docs/math.md#optimal-schedules).
OBJECTIVES = ("final", "averaged", "mean_over_checkpoints")


@dataclass(frozen=True, eq=False)
class OptimalSchedule(FrozenRecord):
    """The optimum of :func:`optimal_schedule` (docs/math.md#optimal-schedules).

    Attributes
    ----------
    schedule : Schedule
        The schedule to run: the rounded integer-batch optimum (``integer_batch=True``, the default)
        or the continuous one. Its total samples equal the budget exactly and its serial steps are
        the budget.
    objective : float
        The objective of ``schedule`` (after rounding, when rounded).
    continuous_schedule : Schedule
        The continuous optimum (real batches, ``K`` segments of ``steps`` steps).
    continuous_objective : float
        Its objective; ``objective − continuous_objective`` is the price of rounding.
    lr, batch : ndarray, shape (K,)
        The continuous optimum's segment learning rates and (real) batch sizes (samples per step).
    steps : ndarray of int, shape (K,)
        Steps of each segment (fixed during the optimisation).
    samples, serial_steps : float, int
        The budgets.
    optimizer : str
        The update rule's name.
    objective_kind : str
        ``"final"``, ``"averaged"`` or ``"mean_over_checkpoints"``.
    message : str
        SciPy's message and ``success`` flag (of the last SLSQP run on the full problem); ``nit`` the SLSQP
        iterations on the full problem, restarts included.
    nit : int
    success : bool
    converged : bool
        ``success``, the sample budget met to 1e-9 relative (of the run on the full problem) and a finite
        ``continuous_objective`` (a box in which every schedule diverges ends with ``inf`` and ``converged=False``).
    reduced_dimension : int
        Coordinates of the quadrature-reduced problem the search ran on (``reduce``), 0 when it ran on the
        full problem only.
    reduced_nit : int
        SLSQP iterations on the reduced problem, restarts included.
    reduction_gap : float
        ``|J_full / J_reduced − 1|`` at the reduced problem's optimum: the error of the reduction on the
        objective (0 without reduction).
    lr_at_upper_bound : int
        Segments whose rate ends within 1e-6 (relative) of the upper ``lr_bounds``: where the box is active,
        and a wider ``lr_bounds`` may lower the objective (for SGD and heavy ball over few serial steps the
        best rates can exceed the largest stable constant rate for a step or two; docs/math.md#optimal-schedules).

    Examples
    --------
    >>> from ramplab.theory import Problem, optimal_schedule
    >>> opt = optimal_schedule(Problem([1.0, 0.3], [1.0, 1.0], noise_variance=0.2), 64, 8, segments=2)
    >>> opt.steps.tolist(), opt.schedule.total_samples, opt.objective_kind
    ([4, 4], 64, 'final')
    """

    schedule: Schedule
    objective: float
    continuous_schedule: Schedule
    continuous_objective: float
    lr: np.ndarray
    batch: np.ndarray
    steps: np.ndarray
    samples: float
    serial_steps: int
    optimizer: str
    objective_kind: str
    message: str
    nit: int
    success: bool
    converged: bool
    reduced_dimension: int = 0
    reduced_nit: int = 0
    reduction_gap: float = 0.0
    lr_at_upper_bound: int = 0


@dataclass(frozen=True, eq=False)
class SerialStepFrontier(FrozenRecord):
    """The best objective for each serial-step budget at fixed samples (:func:`serial_step_frontier`).

    Attributes
    ----------
    serial_steps : ndarray of int, shape (n,)
        The budgets, increasing.
    objective : ndarray, shape (n,)
        The optimum's objective at each budget (continuous batches).
    rounded_objective : ndarray, shape (n,)
        The objective of the rounded integer-batch optimum.
    results : tuple of OptimalSchedule
        One per budget.
    samples : float
        The sample budget.
    restarted : tuple of int
        The budgets whose first search ended above a smaller budget's optimum (a local optimum: a schedule with
        fewer steps stretched to more steps does as well) and were searched again from that stretched schedule;
        the better of the two searches is kept, in rounds until no budget lies above a smaller one
        (docs/math.md#serial-step-frontier).

    Examples
    --------
    >>> from ramplab.theory import Problem, serial_step_frontier
    >>> f = serial_step_frontier(Problem([1.0, 0.3], [1.0, 1.0], noise_variance=0.2), 64, [2, 8], segments=2)
    >>> f.serial_steps.tolist(), len(f.results), f.samples
    ([2, 8], 2, 64.0)
    """

    serial_steps: np.ndarray
    objective: np.ndarray
    rounded_objective: np.ndarray
    results: tuple
    samples: float
    restarted: tuple = ()


# ---------------------------------------------------------------------------------------------- objective


def _segment_schedule(lr: np.ndarray, batch: np.ndarray, steps: np.ndarray) -> Schedule:
    return Schedule.from_segments(lr, batch, steps, integer_batch=False)


def _objective_value(traj: Any, kind: str, checkpoints: np.ndarray | None) -> float:
    if kind == "final":
        return float(traj.risk[-1])
    if kind == "averaged":
        return float(traj.averaged_risk[-1])
    return float(np.mean(traj.risk))


def _evaluate(problem: Problem, schedule: Schedule, optimizer: Any, kind: str,
              checkpoints: np.ndarray | None, average: Any) -> float:
    with warnings.catch_warnings():  # an optimum may cross the constant-schedule edge for a few steps
        warnings.simplefilter("ignore", UnstableScheduleWarning)
        traj = expected_risk(problem, schedule, optimizer, average=average if kind == "averaged" else None,
                             checkpoints=checkpoints if kind == "mean_over_checkpoints" else None,
                             on_divergence="flag", progress=False)
    return _objective_value(traj, kind, checkpoints)


def _objective_and_gradient(problem: Problem, lr: np.ndarray, batch: np.ndarray, steps: np.ndarray,
                            optimizer: Any, kind: str, checkpoints: np.ndarray | None,
                            average: Any) -> tuple[float, np.ndarray, np.ndarray]:
    """``J`` and its exact derivatives in ``log η_k`` and ``log B_k`` at fixed step counts ``n_k``
    (:func:`~ramplab.theory.risk_gradient`, docs/math.md#risk-gradient); a diverging trial point gives
    ``J = inf``. ``segment_steps`` keeps one entry per segment even where neighbouring segments are
    equal (and the schedule merges them)."""
    schedule = _segment_schedule(lr, batch, steps)
    try:
        result = risk_gradient(problem, schedule, optimizer, objective=kind,
                               checkpoints=checkpoints if kind == "mean_over_checkpoints" else None,
                               average=average if kind == "averaged" else None, segment_steps=steps)
    except (DivergenceError, GradientOverflowError):  # a trial point of the search, not the user's rates
        return math.inf, np.zeros(steps.shape[0]), np.zeros(steps.shape[0])
    return float(result.value), np.asarray(result.d_log_lr, dtype=np.float64), \
        np.asarray(result.d_log_batch, dtype=np.float64)


# ---------------------------------------------------------------------------------------------- budgets


def _bounds(value: Any, name: str, default: tuple[float, float]) -> tuple[float, float]:
    if value is None:
        return default
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise TypeError(f"{name} must be a pair (low, high); got {describe(value)}")
    lo = positive_real(value[0], f"{name}[0]")
    hi = positive_real(value[1], f"{name}[1]")
    if not lo <= hi:
        raise ValueError(f"{name} must have low ≤ high; got {describe(value)}")
    return lo, hi


def segment_steps(serial_steps: int, segments: int) -> np.ndarray:
    """Equal segments: ``K`` step counts adding up to ``S``, the first ``S mod K`` one step longer."""
    base, extra = divmod(serial_steps, segments)
    return np.array([base + 1] * extra + [base] * (segments - extra), dtype=np.int64)


def _start_point(problem: Problem, start: Schedule | None, steps: np.ndarray, samples: float,
                 lr_bounds: tuple[float, float], batch_bounds: tuple[float, float],
                 optimizer: Any) -> tuple[np.ndarray, np.ndarray]:
    K = steps.shape[0]
    S = int(steps.sum())
    if start is not None:
        if not isinstance(start, Schedule):
            raise TypeError(f"start must be a Schedule; got {type(start).__name__}")
        if start.serial_steps != S:
            raise ValueError(f"start must have serial_steps={S} steps; got {start.serial_steps}")
        edges = np.concatenate([[0], np.cumsum(steps)])
        lr = np.empty(K)
        batch = np.empty(K)
        for k in range(K):
            lr_k, b_k = start.step_arrays(int(edges[k]), int(edges[k + 1]))
            with np.errstate(divide="ignore"):  # a zero rate gives 0 here, then the lower rate bound (clip below)
                lr[k] = float(np.exp(np.mean(np.log(lr_k))))
            batch[k] = float(np.mean(b_k))
    else:
        mean_batch = samples / S
        try:
            edge = max_stable_lr(problem, max(mean_batch, 1.0), optimizer)
        except (ValueError, NotImplementedError):
            edge = lr_bounds[1]
        peak = min(0.5 * edge, lr_bounds[1])
        lr = peak * (1.0 - 0.5 * np.arange(K) / K)
        batch = np.full(K, mean_batch)
    batch = batch * (samples / float(np.dot(steps, batch)))
    lr = np.clip(lr, *lr_bounds)
    batch = np.clip(batch, *batch_bounds)
    return lr, batch


def _meet_budget(batch: np.ndarray, steps: np.ndarray, samples: float, b_lo: float, b_hi: float) -> np.ndarray:
    """The optimiser meets ``Σ n_k B_k = N`` to its tolerance; spread the (tiny) residual over the segments
    inside the bounds so that the budget holds to rounding and no batch leaves its bounds."""
    batch = np.clip(np.array(batch, dtype=np.float64), b_lo, b_hi)
    for _ in range(3):
        residual = samples - float(np.dot(steps, batch))
        free = (batch > b_lo) & (batch < b_hi) if residual else np.zeros(batch.shape, bool)
        if not free.any():
            break
        batch[free] *= 1.0 + residual / float(np.dot(steps[free], batch[free]))
        batch = np.clip(batch, b_lo, b_hi)
    return batch


# ---------------------------------------------------------------------------------------------- rounding


def round_segments(lr: np.ndarray, batch: np.ndarray, steps: np.ndarray, samples: int) -> Schedule:
    """Integer batches with exactly ``samples`` samples (docs/math.md#optimal-schedule-rounding).

    Segment ``k`` should take ``T_k = n_k B_k`` samples (``Σ T_k = N``); the integers ``P_k`` are the
    largest-remainder rounding of the ``T_k`` (each ``⌊T_k⌋`` or ``⌈T_k⌉``, ``Σ P_k = N``), and the
    segment's ``n_k`` steps take ``⌊P_k/n_k⌋`` samples, its last ``P_k mod n_k`` steps one more. The
    learning rates are kept."""
    target = np.asarray(steps, dtype=np.float64) * np.asarray(batch, dtype=np.float64)
    target = target * (samples / target.sum())
    floors = np.floor(target).astype(np.int64)
    order = np.argsort(-(target - floors), kind="stable")
    missing = int(samples) - int(floors.sum())  # |missing| ≤ K up to the rounding of the targets
    k = 0
    while missing:
        j = order[k % order.shape[0]] if missing > 0 else order[::-1][k % order.shape[0]]
        if missing > 0 or floors[j] > steps[j]:
            floors[j] += 1 if missing > 0 else -1
            missing += -1 if missing > 0 else 1
        k += 1
    seg_lr, seg_b, seg_n = [], [], []
    for k in range(steps.shape[0]):
        n = int(steps[k])
        base, extra = divmod(int(floors[k]), n)
        if n - extra:
            seg_lr.append(lr[k]); seg_b.append(base); seg_n.append(n - extra)
        if extra:
            seg_lr.append(lr[k]); seg_b.append(base + 1); seg_n.append(extra)
    return Schedule.from_segments(seg_lr, seg_b, seg_n, integer_batch=True)


def _default_lr_bounds(problem: Problem, optimizer: Any, b_lo: float, b_hi: float) -> tuple[float, float]:
    """``(1e-6 η_s, η_s)``: SGD and heavy ball, ``η_s`` = the largest stable constant rate at ``B_max``; NSGD
    (plain or with heavy ball), ``η_s`` = that SGD edge times ``sqrt(G_0)``, the expected gradient norm at the
    start and ``B_min`` (the NSGD rate whose first effective step is at the SGD edge; the bound of
    :func:`~ramplab.theory.max_stable_lr` for NSGD holds at every state and is far tighter than an optimum needs)."""
    try:
        spec = resolve_optimizer(optimizer)
        normalized = spec.name == "nsgd" or getattr(spec, "optimizer", None) == "nsgd"
        if normalized:
            base = spec.momentum if spec.name == "momentum" else "sgd"
            edge = max_stable_lr(problem, b_hi, HeavyBall(base) if not isinstance(base, str) else base)
            lam, s0, m = problem.eigenvalues, problem.initial_second_moment, problem.multiplicity
            q0 = float(np.sum(m * lam * s0))
            g0 = (1 + (problem.kurtosis - 2) / b_lo) * float(np.sum(m * lam**2 * s0)) \
                + float(np.sum(m * lam)) * (q0 + problem.noise_variance) / b_lo
            edge *= math.sqrt(g0)
        else:
            edge = max_stable_lr(problem, b_hi, optimizer)
    except (ValueError, NotImplementedError, TypeError) as exc:
        raise ValueError(f"lr_bounds must be given for optimizer={optimizer!r} ({exc})") from None
    if not (math.isfinite(edge) and edge > 0):
        raise ValueError(f"lr_bounds must be given for optimizer={optimizer!r} (no finite default rate bound)")
    return 1e-6 * edge, edge


def _one_blas_thread() -> contextlib.AbstractContextManager:
    """SLSQP's small dense solves gain nothing from BLAS threads and, on a busy machine, lose a lot to them
    (15 ms instead of 1 ms per iteration at K = 10 on two shared cores): one thread while it runs, through
    threadpoolctl when it is installed (the ``sweeps``/``figures`` extras), else unchanged."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is optional
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


#: ``reduce="auto"`` searches on a quadrature-reduced problem only from this many coordinates ...
REDUCE_MIN_DIMENSION = 1000
#: ... and only when the reduced problem keeps at most this fraction of them.
REDUCE_MAX_FRACTION = 0.25
#: SLSQP stops when one iteration changes ``log J`` by less than ``ftol``, which a short line-search step can
#: do far from the optimum: it is restarted from its result (a fresh quasi-Newton model) up to this many times,
#: while a run still lowers ``log J`` by more than RESTART_GAIN.
RESTARTS = 4
RESTART_GAIN = 1e-9


def _search_reduction(problem: Problem, reduce: Any, optimizer: Any, serial_steps: int, lr_hi: float,
                      b_lo: float, b_hi: float) -> Any:
    """The quadrature reduction the search runs on (docs/math.md#optimal-schedules), or ``None``.

    One split valid for every schedule inside the bounds: a coordinate is slow when even ``S`` steps
    at the largest rate, with the largest or the smallest batch, contract it by at most ``e^30`` (the
    contraction ``1 − 2ηλ + c η²λ²`` of a slow coordinate, ``ηλ ≪ 1``, grows with the rate; the batch
    moves it only through ``c = 1 + (κ − 2)/B``, monotone in ``B``). NSGD's effective rate is at most
    ``η_max / sqrt(tr H σ² / B_max)`` (``G_t ≥ tr H σ²/B_t``); without noise it has no bound and
    nothing is reduced. Heavy ball splits with ``η/(1 − μ)`` (:func:`~ramplab.theory.reduce_problem`).
    """
    if reduce is False:
        return None
    if reduce == "auto" and problem.dimension < REDUCE_MIN_DIMENSION:
        return None
    from ..dynamics._quadrature import reduce_problem

    try:
        spec = resolve_optimizer(optimizer)
        heavy = isinstance(spec, HeavyBall)
        inner = spec.optimizer if heavy else spec.name
        rate = lr_hi
        if inner == "nsgd":
            floor = problem.trace * float(problem.noise_variance) / b_hi
            if not floor > 0:
                return None
            rate = lr_hi / math.sqrt(floor)
        momentum = None
        if heavy:
            from ..dynamics._momentum import resolve_momentum

            momentum = resolve_momentum(spec.momentum, serial_steps)
        top = np.full(serial_steps, rate)
        red = reduce_problem(problem, [], rates=[(top, np.full(serial_steps, b_hi)), (top, np.full(serial_steps, b_lo))],
                             momentum=momentum)
    except (ValueError, TypeError, NotImplementedError, OverflowError):
        return None
    if red.problem is problem or red.dimension >= problem.dimension:
        return None
    if reduce == "auto" and red.dimension > REDUCE_MAX_FRACTION * problem.dimension:
        return None
    return red


# ---------------------------------------------------------------------------------------------- optimum


def optimal_schedule(
    problem: Problem,
    samples: float,
    serial_steps: int | None = None,
    *,
    optimizer: Any = "sgd",
    segments: int = 16,
    objective: str = "final",
    lr_bounds: tuple[float, float] | None = None,
    batch_bounds: tuple[float, float] | None = None,
    start: Schedule | None = None,
    checkpoints: Any = None,
    average: Any = "uniform",
    integer_batch: bool = True,
    tolerance: float = 1e-12,
    max_iterations: int = 500,
    reduce: bool | str = "auto",
) -> OptimalSchedule:
    """The best ``K``-segment schedule ``(η_k, B_k)`` for exactly ``N`` samples in ``S`` serial steps.

    Minimises the exact objective ``J`` over ``x = (log η_1 … log η_K, log B_1 … log B_K)`` with
    SciPy's SLSQP (``scipy.optimize.minimize``), the exact gradient of ``log J``
    (:func:`~ramplab.theory.risk_gradient`: an adjoint pass, docs/math.md#risk-gradient) and the
    equality constraint ``Σ n_k B_k = N`` with its exact Jacobian (docs/math.md#optimal-schedules).
    The segments are equal: ``n_k = ⌊S/K⌋`` steps, the first ``S mod K`` one step longer, so the
    serial steps are exactly ``S`` (more steps never hurt at fixed samples in this model; the
    frontier shows it, :func:`serial_step_frontier`). Batches are real during the optimisation; with
    ``integer_batch`` the returned schedule is the rounding of docs/math.md#optimal-schedule-rounding
    (exactly ``N`` samples, every batch within one of the continuous ``B_k``), and ``objective`` is
    measured after rounding.

    Parameters
    ----------
    problem : Problem
        The regression problem.
    samples : float
        ``N``, the total samples (an integer when ``integer_batch``).
    serial_steps : int, optional
        ``S``, the serial steps (≥ 1). ``None``: the most the batch bounds allow, ``⌊N / B_min⌋``.
    optimizer : str or OptimizerSpec, default "sgd"
        As in :func:`~ramplab.theory.expected_risk` (``"sgd"``, ``"nsgd"``, ``HeavyBall``, …).
    segments : int, default 16
        ``K``; at most ``S`` (a larger ``K`` is lowered to ``S``: one segment per step).
    objective : {"final", "averaged", "mean_over_checkpoints"}
        The excess risk after the last step, the averaged iterate's (``average``), or the mean
        excess risk over ``checkpoints`` (steps in ``[0, S]``).
    lr_bounds : (float, float), optional
        Bounds on every ``η_k``. Default ``(1e-6 η_s, η_s)`` with ``η_s`` the largest stable
        constant rate at the largest allowed batch (:func:`~ramplab.theory.max_stable_lr`); for NSGD
        that SGD edge times ``sqrt(E‖g_0‖²)`` at the smallest batch (the first effective step at the
        edge); a rate
        that is unstable at a segment's batch only raises the objective (a diverged run counts as
        ``J = 10^300``), so the optimum stays stable. The optimum is the best schedule inside this box:
        over few serial steps the best SGD rates can exceed the constant-schedule edge for a step or two
        (Chebyshev-like steps aimed at the small eigenvalues), so where ``lr_at_upper_bound`` is not 0 a
        wider upper bound may do better.
    batch_bounds : (float, float), optional
        Bounds on every ``B_k`` (samples per step). Default ``(1, N)``. Equal bounds fix the batch:
        only the rates are optimised and ``N`` must be ``S`` times it. A budget that leaves the batch no
        freedom fixes it too: one segment (``B = N/S``), or ``N = S·B_min`` or ``N = S·B_max``.
    start : Schedule, optional
        A starting schedule with ``S`` steps (its segment means, rescaled to ``N`` samples).
        Default: batch ``N/S`` and rates falling linearly from half the stable rate to a quarter.
    checkpoints : array_like of int, optional
        The steps averaged by ``"mean_over_checkpoints"`` (required for it).
    average : str or Averaging, default "uniform"
        The iterate average of ``"averaged"``.
    integer_batch : bool, default True
        Round to integer batches (``samples`` must then be an integer).
    tolerance : float, default 1e-12
        SLSQP's ``ftol`` on ``log J`` (finite, > 0). SLSQP stops when one iteration changes ``log J`` by less, which a
        short line-search step can do far from the optimum: each search is restarted from its result
        (a fresh quasi-Newton model) up to 4 times while a run still lowers ``log J`` by more than 1e-9.
    max_iterations : int, default 500
        SLSQP's ``maxiter`` (of each run).
    reduce : bool or "auto", default "auto"
        Search on the quadrature-reduced problem first (docs/math.md#optimal-schedules): the slow
        coordinates of the spectrum replaced by Gauss rules (:func:`~ramplab.theory.reduce_problem`)
        with one split valid for every schedule inside the bounds, then SLSQP again on the full
        problem from that optimum (one or two iterations where the reduction is exact to rounding).
        ``"auto"``: from ``d ≥ 1000`` when the reduced problem keeps at most a quarter of the coordinates.

    Returns
    -------
    OptimalSchedule
        ``schedule``, ``objective``, the continuous optimum and SciPy's record (``message``, ``nit``,
        ``success``) with ``converged``.

    Raises
    ------
    ValueError
        For infeasible budgets, named: ``samples < serial_steps · batch_bounds[0]``,
        ``samples > serial_steps · batch_bounds[1]``, a fixed batch that does not divide ``samples``
        into ``serial_steps`` steps; for a bad ``objective``, ``segments`` or bounds; for
        ``"mean_over_checkpoints"`` without ``checkpoints``.
    TypeError
        For arguments of the wrong type.

    Notes
    -----
    The optimum may hold a rate beyond the constant-schedule stability edge at its batch for a few steps
    (a finite stretch only grows the second moments by a bounded factor); no
    :class:`~ramplab.theory.UnstableScheduleWarning` is issued for the trial points or the optimum.

    Source: the optimal-control question of issue 22 on the exact recursion of Seesaw (arXiv
    2510.14717) §1; the budgets follow the SFO accounting of Umeda & Iiduka (arXiv 2508.05297).

    Examples
    --------
    >>> from ramplab.theory import Problem
    >>> p = Problem.power_law(8, a=1.5, b=1.0, noise_variance=0.5)
    >>> opt = optimal_schedule(p, 256, 32, segments=4)
    >>> opt.schedule.total_samples, opt.schedule.serial_steps, opt.converged
    (256, 32, True)
    >>> from ramplab.theory import expected_risk, named_schedules
    >>> cosine = named_schedules(256, 8, 0.5)["cosine"]          # 32 steps of batch 8
    >>> bool(opt.objective < expected_risk(p, cosine).risk[-1])
    True
    """
    from scipy.optimize import minimize

    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {type(problem).__name__}")
    integer_batch = flag(integer_batch, "integer_batch")
    samples = positive_real(samples, "samples")
    if integer_batch and (samples != math.floor(samples) or samples > MAX_EXACT_INTEGER):
        raise ValueError(f"samples must be an integer of at most 2**53 with integer_batch=True; got {samples!r}")
    kind = choice(objective, "objective", OBJECTIVES)
    if not (isinstance(reduce, str) and reduce == "auto"):
        if not isinstance(reduce, (bool, np.bool_)):
            raise TypeError(f"reduce must be True, False or 'auto'; got {describe(reduce)}")
        reduce = bool(reduce)
    b_lo, b_hi = _bounds(batch_bounds, "batch_bounds", (1.0, samples))
    if b_lo < 1.0:
        raise ValueError(f"batch_bounds[0] must be ≥ 1; got {b_lo!r}")
    if serial_steps is None:
        serial_steps = int(math.floor(samples / b_lo))
        if serial_steps < 1:
            raise ValueError(f"samples={samples!r} is below one batch of batch_bounds[0]={b_lo!r}")
    S = positive_int(serial_steps, "serial_steps")
    fixed_batch = b_lo == b_hi
    if fixed_batch and abs(S * b_lo - samples) > 1e-9 * samples:
        raise ValueError(f"a fixed batch (batch_bounds={describe(batch_bounds)}) needs samples = serial_steps · batch; "
                         f"got samples={samples!r}, serial_steps={S}")
    if samples < S * b_lo * (1 - 1e-12):
        raise ValueError(f"samples={samples!r} cannot fill serial_steps={S} steps at batch_bounds[0]={b_lo!r} "
                         f"(needs samples ≥ serial_steps · batch_bounds[0] = {S * b_lo!r})")
    if samples > S * b_hi * (1 + 1e-12):
        raise ValueError(f"samples={samples!r} exceeds serial_steps={S} steps at batch_bounds[1]={b_hi!r} "
                         f"(needs samples ≤ serial_steps · batch_bounds[1] = {S * b_hi!r})")
    K = min(positive_int(segments, "segments"), S)
    # The budget fixes the batch when it leaves it no freedom: one segment (B = N/S), or N at either end of
    # [S·B_min, S·B_max] (every batch at that bound). SLSQP on an equality constraint that pins every batch
    # variable at a bound can fail to converge (at S = N/B_min with one segment per step it ran into the iteration
    # limit, 12 s); the rates are then optimised alone, as with equal batch bounds.
    if not fixed_batch and (K == 1 or samples <= S * b_lo * (1 + 1e-12) or samples >= S * b_hi * (1 - 1e-12)):
        fixed_batch = True
    forced_batch = b_lo if b_lo == b_hi else min(max(samples / S, b_lo), b_hi)
    # the optimizer first (named in its own error), so an unsupported one is never blamed on lr_bounds
    refuse_weight_decay(resolve_optimizer(optimizer, where="exact"))
    if lr_bounds is None:
        lr_bounds = _default_lr_bounds(problem, optimizer, b_lo, b_hi)
    lr_lo, lr_hi = _bounds(lr_bounds, "lr_bounds", lr_bounds)
    cps = None
    if kind == "mean_over_checkpoints":
        if checkpoints is None:
            raise ValueError('objective="mean_over_checkpoints" needs checkpoints (steps in [0, serial_steps])')
        given = as_numpy(checkpoints, "checkpoints") if not isinstance(checkpoints, (str, bytes)) else checkpoints
        # sorted and unique here (as documented), then checked as risk_gradient checks them: integer steps in [0, S]
        cps = checkpoint_list(np.unique(given) if isinstance(given, np.ndarray) and given.ndim == 1 else given, S)
    name = getattr(optimizer, "name", optimizer)
    steps = segment_steps(S, K)
    lr0, b0 = _start_point(problem, start, steps, samples, (lr_lo, lr_hi), (b_lo, b_hi), optimizer)
    log_n = np.log(steps.astype(np.float64))
    maxiter = positive_int(max_iterations, "max_iterations")
    ftol = positive_real(tolerance, "tolerance")
    reduction = _search_reduction(problem, reduce, optimizer, S, lr_hi, b_lo, b_hi)

    def unpack(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lr = np.exp(x[:K])
        batch = np.full(K, forced_batch) if fixed_batch else np.clip(np.exp(x[K:]), b_lo, b_hi)
        return lr, batch

    def log_objective(on: Problem) -> Any:
        """``x ↦ (log J, ∇ log J)`` on ``on``, one adjoint pass per point (SLSQP asks for both together; the
        cache answers a point asked for again)."""
        cache: dict[bytes, tuple[float, np.ndarray]] = {}

        def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
            key = x.tobytes()
            if key not in cache:
                lr, batch = unpack(x)
                with warnings.catch_warnings():  # trial points past the stability edge are part of the search
                    warnings.simplefilter("ignore", UnstableScheduleWarning)
                    value, d_lr, d_b = _objective_and_gradient(on, lr, batch, steps, optimizer, kind, cps, average)
                if not (math.isfinite(value) and value > 0):
                    cache[key] = (math.log(1e300), np.zeros_like(x))
                else:
                    grad = d_lr / value if fixed_batch else np.concatenate([d_lr, d_b]) / value
                    cache[key] = (math.log(value), grad)
            return cache[key]

        return fun

    x0 = np.log(lr0) if fixed_batch else np.concatenate([np.log(lr0), np.log(b0)])
    bounds = [(math.log(lr_lo), math.log(lr_hi))] * K
    constraints: list[dict[str, Any]] = []
    if not fixed_batch:
        bounds += [(math.log(b_lo), math.log(b_hi))] * K
        log_N = math.log(samples)

        def budget(x: np.ndarray) -> float:
            return float(np.sum(np.exp(log_n + x[K:] - log_N))) - 1.0

        def budget_jac(x: np.ndarray) -> np.ndarray:
            return np.concatenate([np.zeros(K), np.exp(log_n + x[K:] - log_N)])

        constraints.append({"type": "eq", "fun": budget, "jac": budget_jac})
    def search(fun: Any, x: np.ndarray) -> tuple[Any, int]:
        """SLSQP from ``x``, restarted from its result (a fresh quasi-Newton model) while that lowers ``log J``
        by more than RESTART_GAIN, at most RESTARTS times; the last result that was no worse, and the
        iterations of all runs."""
        before, best, nit = fun(x)[0], None, 0
        for _ in range(1 + RESTARTS):
            run = minimize(fun, x, jac=True, method="SLSQP", bounds=bounds, constraints=constraints,
                           options={"ftol": ftol, "maxiter": maxiter})
            nit += int(run.nit)
            if best is not None and not float(run.fun) <= float(best.fun):
                break
            gain = before - float(run.fun)
            best, before, x = run, float(run.fun), np.array(run.x, dtype=np.float64)
            if not gain > RESTART_GAIN:
                break
        return best, nit

    reduced_nit, gap = 0, 0.0
    full = log_objective(problem)
    with _one_blas_thread():
        if reduction is not None:
            # The search on the reduced problem, then on the full one from its optimum: the full run's first
            # point is that optimum (so the gap costs nothing) and it stops after an iteration or two where the
            # reduction is exact to rounding.
            res, reduced_nit = search(log_objective(reduction.problem), x0)
            x0 = np.array(res.x, dtype=np.float64)
            gap = abs(math.expm1(full(x0)[0] - float(res.fun))) if math.isfinite(float(res.fun)) else math.inf
        res, nit = search(full, x0)
    lr, batch = unpack(res.x)
    batch = _meet_budget(batch, steps, samples, b_lo, b_hi)
    cont = _segment_schedule(lr, batch, steps)
    cont_value = _evaluate(problem, cont, optimizer, kind, cps, average)
    met = abs(float(np.dot(steps, unpack(res.x)[1])) / samples - 1.0) <= 1e-9
    if integer_batch:
        rounded = round_segments(lr, batch, steps, int(samples))
        value = _evaluate(problem, rounded, optimizer, kind, cps, average)
    else:
        rounded, value = cont, cont_value
    lr.flags.writeable = batch.flags.writeable = steps.flags.writeable = False
    return OptimalSchedule(
        schedule=rounded, objective=value, continuous_schedule=cont, continuous_objective=cont_value,
        lr=lr, batch=batch, steps=steps, samples=samples, serial_steps=S, optimizer=str(name),
        objective_kind=kind, message=str(res.message), nit=nit, success=bool(res.success),
        converged=bool(res.success) and met and math.isfinite(cont_value),
        reduced_dimension=0 if reduction is None else int(reduction.dimension), reduced_nit=reduced_nit,
        reduction_gap=float(gap), lr_at_upper_bound=int(np.count_nonzero(lr >= lr_hi * (1 - 1e-6))),
    )


# ---------------------------------------------------------------------------------------------- frontier


def _frontier_point(job: tuple[Problem, float, int, Mapping[str, Any]]) -> OptimalSchedule:
    problem, samples, steps, kw = job
    return optimal_schedule(problem, samples, steps, **kw)


def serial_step_frontier(
    problem: Problem,
    samples: float,
    serial_steps: Any,
    *,
    optimizer: Any = "sgd",
    executor: cf.Executor | None = None,
    **kw: Any,
) -> SerialStepFrontier:
    """The best objective for each serial-step budget at fixed samples (docs/math.md#serial-step-frontier).

    One :func:`optimal_schedule` per budget, mapped over ``executor`` (any
    :class:`concurrent.futures.Executor`: a process pool, a Dask client's ``get_executor()``,
    :func:`ramplab.sweeps.open_executor`; default: in this process).

    Parameters
    ----------
    problem : Problem
        The regression problem.
    samples : float
        ``N``, the total samples of every point.
    serial_steps : sequence of int
        The budgets ``S`` (each ≥ 1 and ≤ ``N / B_min``); sorted and made unique.
    optimizer : str or OptimizerSpec, default "sgd"
        As in :func:`optimal_schedule`.
    executor : concurrent.futures.Executor, optional
        Where the budgets run.
    **kw
        Passed to :func:`optimal_schedule` (``segments``, ``objective``, ``lr_bounds``, …).

    Returns
    -------
    SerialStepFrontier
        ``serial_steps``, ``objective`` (continuous), ``rounded_objective`` and the
        :class:`OptimalSchedule` of every budget.

    Raises
    ------
    ValueError, TypeError
        For an empty or non-integer ``serial_steps``, or as :func:`optimal_schedule` (naming the
        budget's argument).

    Examples
    --------
    >>> from ramplab.theory import Problem
    >>> p = Problem.power_law(8, a=1.5, b=1.0, noise_variance=0.5)
    >>> f = serial_step_frontier(p, 256, [8, 32], segments=4)
    >>> f.serial_steps.tolist(), bool(f.objective[1] < f.objective[0])
    ([8, 32], True)
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {type(problem).__name__}")
    try:
        given = np.asarray(serial_steps, dtype=object) if not isinstance(serial_steps, (str, bytes)) else None
    except Exception as exc:  # noqa: BLE001 - a foreign array whose conversion raises
        raise TypeError(f"serial_steps must be a sequence of integers; reading it raised {type(exc).__name__}: {exc}") \
            from None
    if given is None or given.ndim != 1:
        raise TypeError(f"serial_steps must be a sequence of integers; got {describe(serial_steps)}")
    budgets = sorted({positive_int(s, "serial_steps") for s in given})
    if not budgets:
        raise ValueError("serial_steps must hold at least one budget; got none")
    if executor is not None and not callable(getattr(executor, "map", None)):
        raise TypeError(f"executor must be a concurrent.futures.Executor (with a map method) or None; got "
                        f"{describe(executor)}")

    def run(jobs: list) -> list:
        return [_frontier_point(job) for job in jobs] if executor is None else list(executor.map(_frontier_point, jobs))

    results = run([(problem, samples, s, dict(kw, optimizer=optimizer)) for s in budgets])
    # More serial steps never hurt: a budget whose optimum lies above a smaller budget's stopped in a local
    # optimum. Search it again from the best smaller budget's schedule stretched to its steps; keep the better.
    # Rounds until no budget rises (an improved budget can leave a larger one above it); each pair is tried once
    # per objective of its source, and at most one round per budget.
    restarted, tried = [], set()
    for _ in budgets:
        pairs = [(i, j) for i, j in restart_sources([r.continuous_objective for r in results])
                 if (i, j, results[j].continuous_objective) not in tried]
        if not pairs:
            break
        tried.update((i, j, results[j].continuous_objective) for i, j in pairs)
        jobs = [(problem, samples, budgets[i], dict(kw, optimizer=optimizer, start=stretched_schedule(
            results[j].continuous_schedule, budgets[i], optimizer))) for i, j in pairs]
        for (i, _), again in zip(pairs, run(jobs)):
            restarted.append(budgets[i])
            if again.continuous_objective < results[i].continuous_objective:
                results[i] = again
    restarted = sorted(set(restarted))
    cont = np.array([r.continuous_objective for r in results])
    rounded = np.array([r.objective for r in results])
    steps = np.array(budgets, dtype=np.int64)
    for a in (cont, rounded, steps):
        a.flags.writeable = False
    return SerialStepFrontier(serial_steps=steps, objective=cont, rounded_objective=rounded,
                              results=tuple(results), samples=float(samples), restarted=tuple(restarted))


def restart_sources(objectives: Any, groups: Any = None) -> list[tuple[int, int]]:
    """``(i, j)`` for each budget ``i`` whose objective lies above that of the best earlier budget ``j`` of its group
    (budgets in increasing order within a group): where a frontier search stopped in a local optimum and is searched
    again from ``j``'s optimum stretched to ``i``'s steps (docs/math.md#serial-step-frontier). One group without
    ``groups``."""
    objectives = [float(v) for v in objectives]
    groups = [None] * len(objectives) if groups is None else list(groups)
    pairs = []
    for i in range(len(objectives)):
        earlier = [k for k in range(i) if groups[k] == groups[i]]
        if earlier:
            j = min(earlier, key=lambda k: objectives[k])
            if objectives[i] > objectives[j] * (1 + 1e-9):
                pairs.append((i, j))
    return pairs


def stretched_schedule(schedule: Schedule, serial_steps: int, optimizer: Any = "sgd") -> Schedule:
    """``schedule`` stretched to more serial steps at the same samples, keeping the noise temperature.

    Step ``t`` of the result takes the rate and batch of step ``i = ⌊t S'/S⌋`` of ``schedule`` (``S'`` steps); step
    ``i`` so becomes ``m_i`` steps (``⌊S/S'⌋`` or ``⌈S/S'⌉``; ``S/S'`` when ``S'`` divides ``S``), its batch divided
    by ``m_i`` (at least 1), so that its samples are kept, and its rate by ``m_i`` (SGD and heavy ball: ``η/B`` kept)
    or ``sqrt(m_i)`` (NSGD: ``η/√B`` kept). In the variance-dominated regime the stretched schedule behaves like the original
    (docs/math.md#serial-step-frontier); :func:`serial_step_frontier` starts a second search from it where a budget
    ended above a smaller budget's optimum.

    Parameters
    ----------
    schedule : Schedule
        ``S'`` steps, any batches.
    serial_steps : int
        ``S ≥ S'``, the steps of the result.
    optimizer : str or OptimizerSpec, default "sgd"
        Which temperature is kept (``"nsgd"`` and heavy ball on NSGD: ``η/√B``; the rest: ``η/B``).

    Returns
    -------
    Schedule
        ``S`` steps, real batches (``integer_batch=False``), the same samples as ``schedule`` unless a batch was
        raised to 1.

    Raises
    ------
    TypeError
        If ``schedule`` is not a :class:`~ramplab.theory.Schedule` or ``serial_steps`` not an integer.
    ValueError
        If ``serial_steps`` is below ``schedule.serial_steps`` or above ``2**24``, or ``optimizer`` is unknown.

    Examples
    --------
    >>> from ramplab.theory import Schedule, stretched_schedule
    >>> s = stretched_schedule(Schedule([0.4, 0.2], [8, 16]), 4)
    >>> s.lr.tolist(), s.batch.tolist(), float(s.total_samples)
    ([0.2, 0.2, 0.1, 0.1], [4.0, 4.0, 8.0, 8.0], 24.0)
    """
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a Schedule; got {type(schedule).__name__}")
    steps = positive_int(serial_steps, "serial_steps")
    if steps < schedule.serial_steps or steps > 2**24:
        raise ValueError(f"serial_steps must be between the schedule's {schedule.serial_steps} steps and 2**24; "
                         f"got {steps}")
    spec = resolve_optimizer(optimizer)
    lr, batch = schedule.step_arrays(0, schedule.serial_steps)
    index = (np.arange(steps) * schedule.serial_steps) // steps
    # m_i: how many steps of the result read step i (S/S' when S' divides S; else ⌊S/S'⌋ or ⌈S/S'⌉): dividing the
    # batch by m_i (not by S/S') keeps every step's samples, and so the total, also when S' does not divide S.
    ratio = 1.0 / np.bincount(index, minlength=schedule.serial_steps)[index]
    normalized = spec.name == "nsgd" or getattr(spec, "optimizer", None) == "nsgd"
    return Schedule(lr[index] * (np.sqrt(ratio) if normalized else ratio), np.maximum(batch[index] * ratio, 1.0),
                    integer_batch=False)
# ---------------------------------------------------------------------------------------------- named


def named_schedules(samples: float, batch: float, peak: float, *, floor: float = 0.0) -> dict[str, Schedule]:
    """The named schedules placed on the frontier, all with exactly ``samples`` samples (real batches).

    Constant learning rate; step decay (× 0.1 at 50 % and 75 %); cosine to ``floor · peak``; WSD
    (10 % warmup, 20 % linear decay); Seesaw of that cosine for ``f`` = 1.5, 2 and 4
    (docs/math.md#seesaw-rule); the αβ family (SGD, ``αβ = 2``) members ``p`` = 0.5 and 1 and the
    α√β family (NSGD, ``α√β = 2``) member ``p`` = 1 with ``√2``, on 4 equal phases of samples; the
    ``δ = γ²`` growth schedule (``γ = √2``, ``δ = 2``, 4 phases); a linear-scaling ramp (``η ∝ B``,
    ``B`` doubling over 4 phases). All start at ``(peak, batch)``.

    Parameters
    ----------
    samples : float
        ``N``, the total samples of every schedule.
    batch : float
        ``B_0 ≥ 1``, the initial (constant-schedule) batch.
    peak : float
        ``η_0 > 0``, the initial learning rate.
    floor : float, default 0.0
        The cosine's final rate as a fraction of ``peak``.

    Returns
    -------
    dict of str to Schedule
        Label → schedule, in the order above.

    Raises
    ------
    ValueError, TypeError
        For a non-positive ``samples`` or ``peak``, a ``batch`` below 1, ``samples`` below ``4 · batch`` or
        above ``MAX_STEP_ARRAY`` batches.

    Examples
    --------
    >>> s = named_schedules(4096, 8, 0.1)
    >>> {k: v.serial_steps for k, v in list(s.items())[:2]}
    {'constant': 512, 'step decay': 512}
    >>> all(abs(v.total_samples - 4096) < 1e-6 for v in s.values())
    True
    """
    samples = positive_real(samples, "samples")
    batch = finite_real(batch, "batch", minimum=1.0)
    peak = positive_real(peak, "peak")
    if peak > 1e300:
        raise ValueError(f"peak must be at most 1e300 (the growth ramps raise it 8-fold); got {peak!r}")
    floor = finite_real(floor, "floor")
    if not 0.0 <= floor <= 1.0:
        raise ValueError(f"floor must lie in [0, 1] (a fraction of the peak); got {floor!r}")
    if samples < 4 * batch:
        raise ValueError(f"samples must be at least 4 batches (one per phase of the ramps); got samples={samples!r}, "
                         f"batch={batch!r}")
    if samples / batch > MAX_STEP_ARRAY:
        raise ValueError(f"samples={samples!r} at batch={batch!r} is more than MAX_STEP_ARRAY = {MAX_STEP_ARRAY} steps "
                         "(the shaped schedules hold one rate per step)")
    out: dict[str, Schedule] = {}

    def shaped(shape: Any, label: str) -> None:
        out[label] = Schedule.from_shape(shape, batch, label=label, integer_batch=False)

    shaped(Constant(peak, samples), "constant")
    shaped(StepDecay(peak, samples, boundaries=(0.5, 0.75), factor=0.1), "step decay")
    cosine = Cosine(peak, samples, final=floor)
    shaped(cosine, "cosine")
    shaped(WSD(peak, samples, warmup_fraction=0.1, decay_fraction=0.2, floor=floor, decay="linear",
               warmup_start=0.1), "WSD")
    for f in (1.5, 2.0, 4.0):
        out[f"Seesaw f={f:g}"] = seesaw_schedule(cosine, batch, f, label=f"Seesaw f={f:g}")
    phases = [samples / 4] * 4
    members = {"αβ=2 p=0.5": (math.sqrt(2.0), math.sqrt(2.0)), "αβ=2 p=1": (1.0, 2.0),
               "α√β=2 p=1": (math.sqrt(2.0), 2.0), "δ=γ² growth": (1 / math.sqrt(2.0), 2.0),
               "linear scaling": (0.5, 2.0)}
    for label, (alpha, beta) in members.items():
        out[label] = phase_schedule(peak, batch, alpha, beta, phases, label=label)
    return out
