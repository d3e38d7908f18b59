"""One call: a schedule against others (its Seesaw ramp, say) on the exact solver — a table and a figure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Comparison", "compare"]


@dataclass(frozen=True, eq=False)
class Comparison:
    """What :func:`compare` returns: one row per schedule, the exact trajectories and the figure.

    Attributes
    ----------
    rows : tuple of dict
        One dict per schedule, the compared schedule first: ``label``, ``samples`` (total),
        ``serial_steps``, ``final_risk`` (excess risk after the last step) and ``ratio``
        (``final_risk`` over the compared schedule's; 1 for the first row).
    trajectories : tuple of RiskTrajectory
        The exact trajectories, in the rows' order.
    figure : matplotlib.figure.Figure or None
        Risk against samples and against serial steps (``None`` with ``plot=False``).

    Examples
    --------
    >>> from ramplab.theory import Problem, Schedule
    >>> problem = Problem.isotropic(4, noise_variance=0.5)
    >>> slow, fast = Schedule.constant(0.1, 4, steps=20, label="η=0.1"), Schedule.constant(0.2, 4, steps=20, label="η=0.2")
    >>> print(compare(problem, slow, fast, plot=False))  # doctest: +NORMALIZE_WHITESPACE
    schedule       samples  serial steps   final risk   ratio
    η=0.1               80            20      0.05396   1.000
    η=0.2               80            20      0.03344   0.620
    """

    rows: tuple[dict[str, Any], ...]
    trajectories: tuple[Any, ...]
    figure: Any

    def __str__(self) -> str:
        width = max(len("schedule"), *(len(r["label"]) for r in self.rows))
        lines = [f"{'schedule':<{width}}  {'samples':>12}  {'serial steps':>12}  {'final risk':>11}  {'ratio':>6}"]
        for r in self.rows:
            lines.append(f"{r['label']:<{width}}  {r['samples']:>12.6g}  {r['serial_steps']:>12d}  "
                         f"{r['final_risk']:>11.4g}  {r['ratio']:>6.3f}")
        return "\n".join(lines)


def compare(problem: Any, schedule: Any, against: Any, optimizer: Any = "sgd", *, plot: bool = True,
            **risk_kwargs: Any) -> Comparison:
    """Compare a schedule with others on the exact expected dynamics: samples, serial steps, final risk.

    Runs :func:`~ramplab.theory.expected_risk` on ``schedule`` and every schedule of ``against``
    (for example its Seesaw ramp, :func:`~ramplab.theory.seesaw_schedule`) and tabulates each
    one's total samples, serial steps, final excess risk and the ratio of that risk to
    ``schedule``'s; with ``plot=True`` it also draws risk against samples and against serial steps
    (:func:`plot_risk`).

    Parameters
    ----------
    problem : Problem
        The regression problem.
    schedule : Schedule
        The schedule compared (the ratios' denominator).
    against : Schedule or sequence of Schedule
        What it is compared with.
    optimizer : str or OptimizerSpec, default "sgd"
        Any optimizer the exact solver runs (``"sgd"``, ``"nsgd"``, ``"momentum"``, a spec).
    plot : bool, default True
        Draw the figure (two panels).
    **risk_kwargs
        Passed to :func:`~ramplab.theory.expected_risk` (``on_divergence``, ``numerics``, …).

    Returns
    -------
    Comparison
        ``rows``, ``trajectories`` and ``figure``; ``print(comparison)`` shows the table.

    Raises
    ------
    TypeError, ValueError
        As :func:`~ramplab.theory.expected_risk` for a bad problem, schedule or optimizer, and for
        an ``against`` holding something other than schedules (named).

    Examples
    --------
    NSGD on a power law: a cosine decay against its Seesaw ramp (``f = 2``), which takes fewer
    serial steps for the same samples (here it also ends at a slightly lower risk).

    >>> from ramplab.theory import Cosine, Problem, Schedule, seesaw_schedule
    >>> problem = Problem.power_law(50, 1.5, 2.0, noise_variance=1.0)
    >>> base = Cosine(0.2, 4000)
    >>> cosine = Schedule.from_shape(base, 8, label="cosine", integer_batch=False)
    >>> ramp = seesaw_schedule(base, 8, 2.0, label="Seesaw f=2")
    >>> result = compare(problem, cosine, against=ramp, optimizer="nsgd", plot=False)
    >>> [(r["label"], r["samples"], r["serial_steps"]) for r in result.rows]
    [('cosine', 4000.0, 500), ('Seesaw f=2', 4000.0, 313)]
    >>> round(result.rows[1]["ratio"], 2)
    0.92
    """
    from ..theory import Schedule, expected_risk
    from ._curves import plot_risk

    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a Schedule; got {type(schedule).__name__}")
    others = list(against) if isinstance(against, (list, tuple)) else [against]
    if not others:
        raise ValueError("against must hold at least one schedule; got an empty sequence")
    for i, other in enumerate(others):
        if not isinstance(other, Schedule):
            raise TypeError(f"against[{i}] must be a Schedule; got {type(other).__name__}")
    schedules = [schedule, *others]
    trajectories = tuple(expected_risk(problem, schedules, optimizer, **risk_kwargs))
    reference = float(trajectories[0].risk[-1])
    rows = []
    for sched, traj in zip(schedules, trajectories):
        final = float(traj.risk[-1])
        rows.append({"label": sched.label or f"schedule {len(rows)}", "samples": float(sched.total_samples),
                     "serial_steps": int(sched.serial_steps), "final_risk": final,
                     "ratio": final / reference if reference > 0 else float("nan")})
    figure = None
    if not isinstance(plot, (bool, np.bool_)):
        raise TypeError(f"plot must be True or False; got {plot!r:.80}")
    if plot:
        import matplotlib.pyplot as plt

        figure, (ax_s, ax_t) = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
        plot_risk(trajectories, x="samples", ax=ax_s, lw=1.2)
        plot_risk(trajectories, x="steps", ax=ax_t, lw=1.2, legend=False)
        ax_s.set_title("at matched samples")
        ax_t.set_title("in serial steps: " + ", ".join(f"{r['label']} {r['serial_steps']}" for r in rows))
        figure.tight_layout()
    return Comparison(tuple(rows), trajectories, figure)
