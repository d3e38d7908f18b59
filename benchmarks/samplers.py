"""Per-step cost of the Monte Carlo samplers, measured side by side in one process.

Two ratios (targets from issue 3):

- ``gaussian-exact`` at ``B = 1024`` over ``B = 1``: the sampler draws ``d + 3`` numbers per run
  and step whatever ``B``, so the ratio should be close to 1 (target ≤ 1.5);
- ``direct`` over ``gaussian-exact`` at ``B = 1024``: drawing the ``B × d`` batch costs about
  ``B`` times more (target ≥ 50).

Each configuration runs :func:`simulations.simulate` on a constant schedule; the time per step is
the best of ``repeat`` interleaved repetitions divided by the number of steps (results are brought
back to the host at the end of each call, so device work is included on CuPy).

:func:`against_plain_direct` (issue #20 item 5) puts ``simulate``'s exact sampler at ``B = 1`` (and
at a large ``B``, to show it stays flat) beside a plain NumPy loop of the direct sampler at ``B = 1``
(one ``(runs, d)`` normal draw per step, ``zᵀa``, ``e ← e − η Λ^{1/2} z (zᵀa − σν)``), measured side
by side, interleaved, best of ``repeat``; target: the exact sampler at least as fast (ratio ≤ 1).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..simulations import simulate
from ..theory import Numerics, Problem, Schedule

__all__ = ["Measurement", "against_plain_direct", "measure", "report", "report_against_plain"]


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


def _time_once(problem: Problem, sampler: str, batch: int, steps: int, runs: int, backend: str,
               clock: Callable[[], float] = time.perf_counter) -> float:
    schedule = Schedule.constant(0.5 / problem.trace, batch, steps=steps)
    start = clock()
    simulate(problem, schedule, runs=runs, seed=0, numerics=Numerics(backend=backend), sampler=sampler, progress=False,
             checkpoints=[0, schedule.total_samples])
    return (clock() - start) / steps


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


def _time_plain_direct(problem: Problem, steps: int, runs: int, clock: Callable[[], float] = time.perf_counter) -> float:
    """Seconds per step of a plain NumPy loop of the direct sampler at ``B = 1`` (SGD, one generator)."""
    rng = np.random.default_rng(0)
    d = problem.dimension
    root = np.sqrt(problem.eigenvalues)
    e = np.broadcast_to(np.sqrt(problem.initial_second_moment), (runs, d)).copy()
    lr, sigma = 0.5 / problem.trace, problem.noise_variance**0.5
    start = clock()
    for _ in range(steps):
        a = root * e
        q = np.einsum("ij,ij->i", a, a)  # the risk a simulation records every step
        z = rng.standard_normal((runs, d))
        resid = np.einsum("ij,ij->i", z, a) - sigma * rng.standard_normal(runs)
        e = e - lr * (root * z) * resid[:, None]
    q.sum()
    return (clock() - start) / steps


def against_plain_direct(*, d: int = 1000, runs: int = 256, batch: int = 64, steps: int = 100,
                         repeat: int = 3) -> list[dict]:
    """``simulate``'s exact sampler beside a plain NumPy direct sampler at ``B = 1``: rows for a table.

    Parameters
    ----------
    d : int, default 1000
        Dimension of the power-law problem.
    runs : int, default 256
        Monte Carlo runs.
    batch : int, default 64
        A large batch for the exact sampler (flat in ``B``).
    steps : int, default 100
        Steps per timed run.
    repeat : int, default 3
        Interleaved repetitions; the best of each is kept.

    Returns
    -------
    list of dict
        One row per configuration: ``what``, ``batch``, ``ms_per_step``, ``ns_per_coordinate_step`` and
        ``ratio`` (wall time over the plain direct loop's at ``B = 1``; target ≤ 1 for the exact sampler),
        and ``cpu_ms_per_step``, ``cpu_ratio``: the same in CPU time of the process (both run on one thread;
        on a busy machine CPU time is what other work inflates least), with ``load``, the load average.

    Examples
    --------
    >>> rows = against_plain_direct(d=8, runs=4, batch=4, steps=2, repeat=1)
    >>> [r["what"] for r in rows]
    ['plain NumPy direct loop', 'simulate gaussian-exact', 'simulate gaussian-exact']
    """
    problem = Problem.power_law(d, a=1.5, b=1.0, noise_variance=0.5)

    def both(fn: Callable[..., float]) -> Callable[[], tuple[float, float]]:
        def run() -> tuple[float, float]:
            w, c = time.perf_counter(), time.process_time()
            fn()
            return time.perf_counter() - w, time.process_time() - c
        return run

    timed = {
        ("plain NumPy direct loop", 1): both(lambda: _time_plain_direct(problem, steps, runs)),
        ("simulate gaussian-exact", 1): both(lambda: _time_once(problem, "gaussian-exact", 1, steps, runs, "numpy")),
        ("simulate gaussian-exact", batch): both(lambda: _time_once(problem, "gaussian-exact", batch, steps, runs,
                                                                    "numpy")),
    }
    _time_once(problem, "gaussian-exact", 1, 1, runs, "numpy")  # compile and warm up
    best = {key: [float("inf"), float("inf")] for key in timed}
    for _ in range(repeat):
        for key, fn in timed.items():
            w, c = fn()
            best[key] = [min(best[key][0], w / steps), min(best[key][1], c / steps)]
    plain, plain_cpu = best[("plain NumPy direct loop", 1)]
    load = _load()
    return [{"what": what, "batch": b, "ms_per_step": 1e3 * t, "ns_per_coordinate_step": t / (runs * d) * 1e9,
             "ratio": t / plain, "cpu_ms_per_step": 1e3 * c, "cpu_ratio": c / plain_cpu, "load": load}
            for (what, b), (t, c) in best.items()]


def _load() -> str:
    import os

    try:
        return "load avg {:.1f}/{:.1f}/{:.1f} on {} cores".format(*os.getloadavg(), os.cpu_count())
    except OSError:  # pragma: no cover - no getloadavg here
        return f"{os.cpu_count()} cores"


def report_against_plain(rows: list[dict], *, d: int, runs: int) -> str:
    """A plain-text table of :func:`against_plain_direct`'s rows, with the target verdict.

    Parameters
    ----------
    rows : list of dict
        The rows of :func:`against_plain_direct`.
    d, runs : int
        What they were measured at.

    Returns
    -------
    str
        The table; its last line says whether the exact sampler at ``B = 1`` is at least as fast as the
        plain direct loop (OK) or not (MISSED).

    Examples
    --------
    >>> rows = [{"what": "plain NumPy direct loop", "batch": 1, "ms_per_step": 2.0, "ns_per_coordinate_step": 1.0,
    ...          "ratio": 1.0},
    ...         {"what": "simulate gaussian-exact", "batch": 1, "ms_per_step": 1.5, "ns_per_coordinate_step": 0.75,
    ...          "ratio": 0.75}]
    >>> print(report_against_plain(rows, d=4, runs=2).splitlines()[-1])
    gaussian-exact B=1 / plain direct B=1:     0.75x   (target <= 1x)   OK
    """
    cpu = all("cpu_ratio" in r for r in rows)
    lines = [f"Monte Carlo sampler vs a plain NumPy direct loop: d={d}, runs={runs}, float64, numpy", "",
             f"{'what':<26}{'B':>6}{'ms / step':>12}{'ns / (run·step·coord)':>24}{'vs plain':>10}"
             + (f"{'CPU ms':>10}{'CPU vs plain':>14}" if cpu else ""), "-" * (102 if cpu else 78)]
    for r in rows:
        lines.append(f"{r['what']:<26}{r['batch']:>6}{r['ms_per_step']:>12.3f}{r['ns_per_coordinate_step']:>24.2f}"
                     f"{r['ratio']:>9.2f}x" + (f"{r['cpu_ms_per_step']:>10.3f}{r['cpu_ratio']:>13.2f}x" if cpu else ""))
    exact = next(r for r in rows if r["what"].startswith("simulate") and r["batch"] == 1)
    if cpu:
        lines += ["", f"({rows[0].get('load', '')}; best of the interleaved repetitions, each clock on its own)"]
    lines += ["", f"gaussian-exact B=1 / plain direct B=1: {exact['ratio']:8.2f}x   (target <= 1x)   "
              f"{'OK' if exact['ratio'] <= 1.0 else 'MISSED'}"]
    return "\n".join(lines)
