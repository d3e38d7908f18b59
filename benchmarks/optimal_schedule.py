"""The optimal schedule and the serial-step frontier, timed (``ramplab bench --suite optimal``).

Issue #22 items 2–3: :func:`ramplab.theory.optimal_schedule` at ``d = 10⁴``, ``10⁴`` steps, ``K = 32``
segments, joint learning rate and batch (target ≤ 60 s on 2 cores), and :func:`ramplab.theory.serial_step_frontier`
with 8 budgets on a two-process pool (target ≤ 5 min). Beside them, one forward solve of the same size
(:func:`ramplab.theory.expected_risk`, fused kernel) and one :func:`ramplab.theory.risk_gradient`, so the
report also gives the optimisation's cost in forward solves, which does not depend on the machine's load,
and its CPU time. ``optimal_schedule`` searches on a quadrature-reduced problem first (``reduce="auto"``,
docs/math.md#optimal-schedules); the ``unreduced`` part runs the same optimum with ``reduce=False`` in the same
process, for the side-by-side cost and the objectives of both. Nothing is asserted: the tests check the rows exist.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..theory import Problem, Schedule, expected_risk, optimal_schedule, risk_gradient, serial_step_frontier
from .exact_solver import Row

__all__ = ["FULL_OPTIMAL_SIZES", "OPTIMAL_PARTS", "OptimalSizes", "QUICK_OPTIMAL_SIZES", "measure"]

#: The parts, in the order they run.
OPTIMAL_PARTS = ("optimum", "unreduced", "frontier")


@dataclass(frozen=True)
class OptimalSizes:
    """Sizes of the optimal-schedule benchmark.

    Parameters
    ----------
    d, steps, segments : int
        Dimension, serial steps ``S`` and segments ``K`` of the single optimum.
    mean_batch : float
        ``N = mean_batch · S`` samples.
    budgets : int
        Serial-step budgets of the frontier (log-spaced from ``S/64`` to ``S``).
    workers : int
        Processes of the frontier's pool.

    Examples
    --------
    >>> FULL_OPTIMAL_SIZES.d, FULL_OPTIMAL_SIZES.steps, FULL_OPTIMAL_SIZES.segments, FULL_OPTIMAL_SIZES.budgets
    (10000, 10000, 32, 8)
    """

    d: int
    steps: int
    segments: int
    mean_batch: float
    budgets: int
    workers: int


FULL_OPTIMAL_SIZES = OptimalSizes(d=10_000, steps=10_000, segments=32, mean_batch=16.0, budgets=8, workers=2)
QUICK_OPTIMAL_SIZES = OptimalSizes(d=1_000, steps=500, segments=8, mean_batch=16.0, budgets=4, workers=2)


def measure(sizes: OptimalSizes = FULL_OPTIMAL_SIZES, parts: Sequence[str] = OPTIMAL_PARTS,
            progress: Callable[[str], None] | None = None) -> list[Row]:
    """Time ``optimal_schedule`` and ``serial_step_frontier`` beside one forward solve; see the module docstring.

    Parameters
    ----------
    sizes : OptimalSizes
    parts : sequence of str
        Any of :data:`OPTIMAL_PARTS`.
    progress : callable, optional
        Called with a line before each measurement.

    Returns
    -------
    list of Row
        The forward and gradient times; per optimum (reduced search, and ``reduce=False``) its wall and CPU
        time, iterations, cost in forward solves and objective, the reduction gap and the ratio of the two
        objectives; the frontier's wall time.

    Raises
    ------
    TypeError
        When ``sizes`` is not an :class:`OptimalSizes` or ``progress`` is not callable.
    ValueError
        For a part not in :data:`OPTIMAL_PARTS` (checked before anything is computed).

    Examples
    --------
    >>> rows = measure(OptimalSizes(d=10, steps=8, segments=2, mean_batch=4.0, budgets=2, workers=1),
    ...                parts=("optimum",))
    >>> [r.item for r in rows][:3]
    ['one forward solve', 'one gradient', 'optimal_schedule']
    """
    if not isinstance(sizes, OptimalSizes):
        raise TypeError(f"sizes must be an OptimalSizes; got {type(sizes).__name__}")
    if isinstance(parts, str) or not all(isinstance(p, str) and p in OPTIMAL_PARTS for p in parts):
        raise ValueError(f"parts must be a sequence of names among {OPTIMAL_PARTS}; got {parts!r}")
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a callable or None; got {type(progress).__name__}")
    rows: list[Row] = []
    say = progress or (lambda line: None)
    problem = Problem.power_law(sizes.d, a=1.5, b=1.0, noise_variance=0.1)
    samples = sizes.mean_batch * sizes.steps
    base, extra = divmod(sizes.steps, sizes.segments)
    counts = [base + 1] * extra + [base] * (sizes.segments - extra)
    sched = Schedule.from_segments(np.geomspace(1.0, 0.25, sizes.segments), [sizes.mean_batch] * sizes.segments,
                                   counts, integer_batch=False)
    part = f"optimal_schedule (d={sizes.d}, S={sizes.steps}, K={sizes.segments}, N={samples:g}, SGD, joint η and B)"
    say(f"optimal bench: warm-up at d={sizes.d}")
    expected_risk(problem, sched, checkpoints=[sizes.steps], reduce=False, progress=False)
    risk_gradient(problem, sched, segment_steps=counts)
    t = time.perf_counter()
    expected_risk(problem, sched, checkpoints=[sizes.steps], reduce=False, progress=False)
    t_fwd = time.perf_counter() - t
    t = time.perf_counter()
    risk_gradient(problem, sched, segment_steps=counts)
    t_grad = time.perf_counter() - t
    rows.append(Row(part, "one forward solve", t_fwd, "s", "expected_risk, fused kernel"))
    rows.append(Row(part, "one gradient", t_grad, "s", "risk_gradient"))
    optima = {}
    for which, reduce in (("optimum", "auto"), ("unreduced", False)):
        if which not in parts:
            continue
        label = "optimal_schedule" if which == "optimum" else "optimal_schedule, reduce=False"
        say(f"optimal bench: {label}")
        t, c = time.perf_counter(), time.process_time()
        opt = optimal_schedule(problem, samples, sizes.steps, segments=sizes.segments, reduce=reduce)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        optima[which] = opt
        how = (f"{opt.reduced_nit} SLSQP iterations on the reduced problem ({opt.reduced_dimension} coordinates), "
               f"then {opt.nit} on the full one" if opt.reduced_dimension else f"{opt.nit} SLSQP iterations")
        rows.append(Row(part, label, wall, "s", f"target ≤ 60 s on 2 cores; {how}, converged={opt.converged}"))
        rows.append(Row(part, f"{label}: CPU", cpu, "s", "process time"))
        rows.append(Row(part, f"{label} / forward", wall / t_fwd, "x", "cost in forward solves"))
        rows.append(Row(part, "objective (rounded)" if which == "optimum" else f"{label}: objective (rounded)",
                        opt.objective, "", f"continuous {opt.continuous_objective!r}"))
        if opt.reduced_dimension:
            rows.append(Row(part, "reduction gap", max(opt.reduction_gap, 1e-300), "",
                            "|J_full/J_reduced − 1| at the reduced optimum"))
    if len(optima) == 2:
        a, b = optima["optimum"].continuous_objective, optima["unreduced"].continuous_objective
        rows.append(Row(part, "objective, reduced search / full search", a / b, "",
                        f"continuous objectives {a!r} and {b!r}"))
    if "frontier" in parts:
        budgets = sorted({int(s) for s in np.geomspace(max(1, sizes.steps // 64), sizes.steps, sizes.budgets).round()})
        say(f"optimal bench: frontier over {len(budgets)} budgets on {sizes.workers} processes")
        fpart = f"serial_step_frontier ({len(budgets)} budgets {budgets[0]}…{budgets[-1]}, {sizes.workers} processes)"
        ctx = multiprocessing.get_context("spawn")
        t = time.perf_counter()
        with cf.ProcessPoolExecutor(sizes.workers, mp_context=ctx) as pool:
            front = serial_step_frontier(problem, samples, budgets, segments=sizes.segments, executor=pool)
        wall = time.perf_counter() - t
        rows.append(Row(fpart, "serial_step_frontier", wall, "s", "target ≤ 5 min on 2 cores (includes worker start "
                                                                   "and first compilation)"))
        rows.append(Row(fpart, "frontier / forward", wall / t_fwd, "x", "cost in forward solves of the S budget"))
        rows.append(Row(fpart, "converged", float(sum(r.converged for r in front.results)), "",
                        f"of {len(budgets)} budgets"))
    return rows
