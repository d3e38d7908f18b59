"""SGD on a power-law problem: halve the learning rate, double the batch, or go halfway on both.

Three members of the αβ = 2 family (docs/math.md#equivalence) with phase boundaries fixed in samples:
(α, β) = (2, 1) learning-rate halving, (1, 2) batch doubling and (√2, √2) the middle way (exact
real batch sizes). At matched samples their risks nearly coincide; in serial steps the ramps are
much shorter.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ._layout import finish
from ._table import FigureTable, with_claim
from .registry import FigureContext, register
from ..theory import Problem, Schedule, expected_risk

#: The paper figure this figure redraws and what differs (its JSON's ``paper_counterpart``; "none" if none).
PAPER_COUNTERPART = {
    "paper": "Smith, Kindermans, Ying & Le, Don't Decay the Learning Rate, Increase the Batch Size, arXiv 1711.00489",
    "figure": ("Figure 2: decaying the rate, increasing the batch and the hybrid give the same training curve "
               "against epochs and fewer parameter updates"),
    "differs": ("model: noisy linear regression with exact SGD, not a wide ResNet on CIFAR-10 with momentum; "
                "factor 2 per phase (αβ = 2, Seesaw's Theorem 1) instead of 5; the hybrid is (√2, √2)"),
}


MEMBERS = (("lr halving (α=2, β=1)", 2.0, 1.0), ("middle (α=√2, β=√2)", math.sqrt(2), math.sqrt(2)),
           ("batch doubling (α=1, β=2)", 1.0, 2.0))


def phase_schedule(lr0: float, batch0: float, alpha: float, beta: float, phase_samples: list[float],
                   label: str) -> Schedule:
    """``(η_0 α^{−k}, B_0 β^k)`` on phases of the given sample counts (real batch sizes)."""
    phases = [(lr0 * alpha**-k, batch0 * beta**k, d) for k, d in enumerate(phase_samples)]
    return Schedule.from_phases(phases, label=label, integer_batch=False,
                                metadata={"alpha": alpha, "beta": beta})


def data(ctx: FigureContext) -> FigureTable:
    """The three members on the exact solver; one row per step of each.

    Parameters
    ----------
    ctx : FigureContext
        ``quick`` sets the problem size and the phases.

    Returns
    -------
    FigureTable
        Rows ``series, alpha, beta, step, samples, risk``; the summary holds the problem, the
        phases, serial steps, final risks and the worst risk ratio to lr halving at matched samples.
    """
    d, n_phases, phase = (200, 5, 2**12) if ctx.quick else (1000, 6, 2**16)
    problem = Problem.power_law(d, a=1.5, b=1.0, noise_variance=0.5)
    lr0, batch0 = 1.0, 8.0
    phase_samples = [float(phase)] * n_phases
    schedules = [phase_schedule(lr0, batch0, a, b, phase_samples, label) for label, a, b in MEMBERS]
    trajectories = expected_risk(problem, schedules)

    grid = np.linspace(0.0, sum(phase_samples), 801)
    reference = trajectories[0].at_samples(grid)
    max_ratio = {}
    rows = []
    for traj, (label, alpha, beta) in zip(trajectories, MEMBERS):
        ratio = traj.at_samples(grid) / reference
        max_ratio[label] = float(np.max(np.maximum(ratio, 1 / ratio)))
        for k in range(1, len(traj.risk)):
            rows.append({"series": label, "alpha": alpha, "beta": beta, "step": int(traj.steps[k]),
                         "samples": float(traj.samples[k]), "risk": float(traj.risk[k])})
    steps = {label: t.schedule.serial_steps for t, (label, _, _) in zip(trajectories, MEMBERS)}
    return with_claim(FigureTable(rows, {
        "problem": {"d": d, "a": 1.5, "b": 1.0, "noise_variance": 0.5},
        "lr0": lr0, "batch0": batch0, "phase_samples": phase_samples,
        "serial_steps": steps,
        "final_risk": {label: t.final_risk for t, (label, _, _) in zip(trajectories, MEMBERS)},
        "max_risk_ratio_vs_lr_halving_at_matched_samples": max_ratio,
    }), _claim, PAPER_COUNTERPART)


def _claim(summary: dict) -> dict:
    """The figure's claim in words, with the numbers that support it (from the summary)."""
    ratios = summary["max_risk_ratio_vs_lr_halving_at_matched_samples"]
    steps = summary["serial_steps"]
    worst = max(ratios.values())
    first, last = list(steps.values())[0], list(steps.values())[-1]
    return {"statement": (f"at matched samples the αβ = 2 members stay within ×{worst:.3g} of LR halving, while batch "
                          f"doubling takes {last} serial steps instead of {first} ({100 * (1 - last / first):.0f} % fewer)"),
            "worst_ratio": worst, "serial_steps_lr_halving": first, "serial_steps_batch_doubling": last}


def draw(table: FigureTable) -> Figure:
    """Risk against samples (left: nearly one curve) and against serial steps (right).

    Parameters
    ----------
    table : FigureTable
        As :func:`data` returns it.

    Returns
    -------
    matplotlib.figure.Figure
    """
    legends = []
    summary = table.summary
    fig, (ax_s, ax_t) = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for label, _, _ in MEMBERS:
        curve = table.select(series=label)
        ax_s.semilogy(curve.column("samples"), curve.column("risk"), label=label)
        ax_t.semilogy(curve.column("step"), curve.column("risk"),
                      label=f"{label}: {summary['serial_steps'][label]} steps")
    for x in np.cumsum(summary["phase_samples"])[:-1]:
        ax_s.axvline(x, color="0.85", lw=0.8, zorder=0)
    ax_s.set(xlabel="samples", ylabel="excess risk", title="at matched samples: nearly one curve")
    ax_t.set(xlabel="serial steps", title="in serial steps: the ramps finish sooner")
    legends.append((ax_s, dict(fontsize=8)))
    legends.append((ax_t, dict(fontsize=8)))
    fig.suptitle(f"SGD, power law d={summary['problem']['d']}, a=1.5, b=1, σ²=0.5, η₀={summary['lr0']}, "
                 f"B₀={summary['batch0']:g}")
    finish(fig, *legends, claim=table.summary["claim"]["statement"])
    return fig


register("lr_decay_vs_batch_ramp", "SGD: lr halving vs batch doubling vs (√2, √2), vs samples and steps",
         data, draw)
