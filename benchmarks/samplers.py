"""Per-step cost of the Monte Carlo samplers, measured side by side in one process.

Two ratios (targets from issue 3):

- ``gaussian-exact`` at ``B = 1024`` over ``B = 1``: the sampler draws ``d + 3`` numbers per run
  and step whatever ``B``, so the ratio should be close to 1 (target ≤ 1.5);
- ``direct`` over ``gaussian-exact`` at ``B = 1024``: drawing the ``B × d`` batch costs about
  ``B`` times more (target ≥ 50).

Each configuration runs :func:`simulations.simulate` on a constant schedule; the time per step is
the best of ``repeat`` interleaved repetitions divided by the number of steps (results are brought
back to the host at the end of each call, so device work is included on CuPy).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..simulations import simulate
from ..theory import Numerics, Problem, Schedule

__all__ = ["Measurement", "measure", "report"]


@dataclass(frozen=True)
class Measurement:
    """Best wall time per step of one sampler configuration.

    Parameters
    ----------
    sampler : str
        The ``simulate(sampler=...)`` timed: ``"gaussian-exact"`` or ``"direct"``.
    batch : int
        Batch size ``B`` (samples per step).
    steps : int
        Steps per timed run.
    seconds_per_step : float
        Best wall time of one step over all runs, in seconds.

    Examples
    --------
    >>> Measurement("direct", 8, 2, 0.004).seconds_per_step * 1e3
    4.0
    """

    sampler: str
    batch: int
    steps: int
    seconds_per_step: float


def _time_once(problem: Problem, sampler: str, batch: int, steps: int, runs: int, backend: str) -> float:
    schedule = Schedule.constant(0.5 / problem.trace, batch, steps=steps)
    start = time.perf_counter()
    simulate(problem, schedule, runs=runs, seed=0, numerics=Numerics(backend=backend), sampler=sampler, progress=False,
             checkpoints=[0, schedule.total_samples])
    return (time.perf_counter() - start) / steps


def measure(
    *,
    d: int = 1000,
    runs: int = 256,
    batch: int = 1024,
    steps: int = 100,
    direct_steps: int = 3,
    repeat: int = 3,
    backend: str = "numpy",
) -> list[Measurement]:
    """Time ``gaussian-exact`` at ``B = 1`` and ``B = batch`` and ``direct`` at ``B = batch``.

    Parameters
    ----------
    d : int, default 1000
        Dimension of the power-law problem (coordinates).
    runs : int, default 256
        Monte Carlo runs simulated side by side.
    batch : int, default 1024
        The large batch size (samples per step).
    steps : int, default 100
        Steps per timed ``gaussian-exact`` run.
    direct_steps : int, default 3
        Steps per timed ``direct`` run (it draws every sample, so it is far slower per step).
    repeat : int, default 3
        Timed repetitions, interleaved across configurations; the best is kept.
    backend : str, default "numpy"
        Array backend of :func:`~ramplab.simulations.simulate`.

    Returns
    -------
    list of Measurement
        ``gaussian-exact`` at ``B = 1``, ``gaussian-exact`` at ``B = batch``, ``direct`` at ``B = batch``.

    Examples
    --------
    >>> [m.sampler for m in measure(d=4, runs=2, batch=8, steps=2, direct_steps=1, repeat=1)]
    ['gaussian-exact', 'gaussian-exact', 'direct']
    """
    problem = Problem.power_law(d, a=1.5, b=1.0, noise_variance=0.5)
    configs = [("gaussian-exact", 1, steps), ("gaussian-exact", batch, steps), ("direct", batch, direct_steps)]
    # One untimed warm-up step each (imports, allocator, CuPy kernel compilation).
    for sampler, b, _ in configs:
        _time_once(problem, sampler, b, 1, runs, backend)
    best = {c: float("inf") for c in configs}
    for _ in range(repeat):
        for c in configs:
            best[c] = min(best[c], _time_once(problem, c[0], c[1], c[2], runs, backend))
    return [Measurement(s, b, n, best[(s, b, n)]) for s, b, n in configs]


def report(measurements: list[Measurement], *, d: int, runs: int, backend: str) -> str:
    """A plain-text table of the measurements and the two ratios against their targets.

    Parameters
    ----------
    measurements : list of Measurement
        The three measurements of :func:`measure`, in its order.
    d : int
        Dimension the measurements used (coordinates), for the per-coordinate cost.
    runs : int
        Monte Carlo runs the measurements used.
    backend : str
        Array backend, for the header.

    Returns
    -------
    str
        The table, then ``B = batch`` over ``B = 1`` cost (target ≤ 1.5×) and ``direct`` over
        ``gaussian-exact`` cost (target ≥ 50×), each marked OK or MISSED.

    Examples
    --------
    >>> rows = [Measurement("gaussian-exact", 1, 2, 1e-3), Measurement("gaussian-exact", 8, 2, 1.2e-3),
    ...         Measurement("direct", 8, 1, 0.12)]
    >>> print(report(rows, d=4, runs=2, backend="numpy").splitlines()[-1])
    direct / gaussian-exact, B=8:      100x   (target >= 50x)    OK
    """
    exact_1, exact_b, direct_b = measurements
    flat = exact_b.seconds_per_step / exact_1.seconds_per_step
    speedup = direct_b.seconds_per_step / exact_b.seconds_per_step
    lines = [
        f"Monte Carlo sampler cost: backend={backend}, d={d}, runs={runs}, float64",
        "",
        f"{'sampler':<16}{'B':>6}{'steps':>7}{'ms / step':>12}{'ns / (run·step·coord)':>24}",
        "-" * 65,
    ]
    for m in measurements:
        per = m.seconds_per_step / (runs * d) * 1e9
        lines.append(f"{m.sampler:<16}{m.batch:>6}{m.steps:>7}{1e3 * m.seconds_per_step:>12.3f}{per:>24.2f}")
    lines += [
        "",
        f"gaussian-exact, B={exact_b.batch} / B=1 : {flat:8.2f}x   (target <= 1.5x)   "
        f"{'OK' if flat <= 1.5 else 'MISSED'}",
        f"direct / gaussian-exact, B={exact_b.batch}: {speedup:8.0f}x   (target >= 50x)    "
        f"{'OK' if speedup >= 50 else 'MISSED'}",
    ]
    return "\n".join(lines)
