"""Beyond the Seesaw breakdown batch size a batch ramp cannot replace learning-rate decay (docs/math.md#equivalence).

NSGD (expected denominator) on one power-law problem, three schedules on the same samples: the
warmup + cosine base, Seesaw (``p = 1``: rate × ``f^{−1/2}``, batch × ``f`` at the milestones) and the
fixed-rate ramp (``p = 2``: rate held, batch × ``f²``), ``f = 1.1``. Left, ``B_0 = 4``: the gradient
is variance-dominated and Seesaw tracks cosine at matched samples. Right, ``B_0 = 4096``: the mean
gradient dominates ``E‖g‖²`` by orders of magnitude, NSGD is normalized GD whose iterate stalls in
an ``O(η)`` neighbourhood, and only a falling rate shrinks it: Seesaw lags cosine, and the
fixed-rate ramp never gets below its first plateau. Bottom row: the measured mean/variance ratio
along each run (the operational check of Seesaw's hypothesis).

Learning rates: at ``B_0 = 4`` the peak rate keeps the effective rate below half the stability edge
using the variance floor ``E‖g‖² ≥ tr H σ²/B``; at ``B_0 = 4096`` that floor is negligible (it would
give a rate at which nothing moves), so the peak rate puts the *initial* effective rate at half the
edge, as one would tune normalized GD.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from ._seesaw_setup import max_stable_lr, nsgd_peak_lr, plot_indices
from .registry import FigureContext, register
from ..theory import Problem, Schedule, WarmupCosine, equivalence_report, seesaw_schedule
from ..theory.dynamics.recursion import gradient_second_moment

FACTOR = 1.1
STEPS = 2000  # serial steps of the cosine base in both panels


@register("beyond_critical_batch",
          "NSGD: cosine vs Seesaw vs fixed-LR ramp, small vs large B₀ (equivalence fails)")
def build(ctx: FigureContext) -> None:
    d, steps = (100, 400) if ctx.quick else (500, STEPS)
    a, b, sigma2, margin = 1.5, 2.0, 1.0, 0.5
    problem = Problem.power_law(d, a, b, sigma2)
    panels = (("small batch", 4), ("large batch", 4096))
    max_points = 400 if ctx.quick else 1500

    fig, axes = plt.subplots(2, 2, figsize=(12, 8), sharex="col")
    rows, summary_panels = [], {}
    for col, (name, b0) in enumerate(panels):
        if name == "small batch":
            lr0 = nsgd_peak_lr(problem, b0, margin)
        else:
            g0 = gradient_second_moment(problem, problem.initial_second_moment, b0)
            lr0 = margin * max_stable_lr(problem, b0) * math.sqrt(g0)
        base = WarmupCosine(lr0, float(b0 * steps))
        schedules = [
            Schedule.from_shape(base, b0, label="cosine", integer_batch=False),
            seesaw_schedule(base, b0, FACTOR, label="Seesaw (p = 1)"),
            seesaw_schedule(base, b0, FACTOR, p=2.0, label="fixed-LR ramp (p = 2)"),
        ]
        report = equivalence_report(problem, schedules, "nsgd")
        ax_r, ax_m = axes[0, col], axes[1, col]
        for traj in report.trajectories:
            sched = traj.schedule
            idx = plot_indices(len(traj.risk), max_points)[1:]
            ax_r.semilogy(traj.samples[idx], traj.risk[idx], lw=1.2,
                          label=f"{sched.label}: {sched.serial_steps} steps")
            ax_m.semilogy(traj.samples[idx - 1], traj.mean_variance_ratio[idx - 1], lw=1.2)
            for i in idx:
                rows.append({"panel": name, "initial_batch": b0, "series": sched.label,
                             "step": int(traj.steps[i]), "samples": float(traj.samples[i]),
                             "risk": float(traj.risk[i]),
                             "mean_variance_ratio_before_step": float(traj.mean_variance_ratio[i - 1])})
        ax_r.set(ylabel="excess risk",
                 title=f"{name}: B₀={b0}, η₀={lr0:.3g}; worst ratio to cosine "
                       f"{report.max_ratio[0, 1]:.2f} (Seesaw), {report.max_ratio[0, 2]:.2f} (p=2)")
        ax_r.legend(fontsize=8)
        ax_m.axhline(1.0, color="0.6", lw=0.8, ls=":")
        ax_m.set(xlabel="samples", ylabel="‖E g‖² / gradient variance",
                 title="mean/variance ratio (≪ 1: variance-dominated)")
        summary_panels[name] = {
            "initial_batch": b0, "lr0": lr0, "total_samples": base.total_samples,
            "serial_steps": dict(zip(report.labels, report.serial_steps)),
            "worst_ratio_to_cosine": dict(zip(report.labels[1:], report.max_ratio[0, 1:].tolist())),
            "final_ratio_to_cosine": dict(zip(report.labels[1:], report.final_ratio[1:, 0].tolist())),
            "final_risk": dict(zip(report.labels, [t.final_risk for t in report.trajectories])),
            "median_mean_variance_ratio": dict(zip(
                report.labels, [float(np.median(t.mean_variance_ratio)) for t in report.trajectories])),
        }
    axes[0, 0].title.set_fontsize(9)
    axes[0, 1].title.set_fontsize(9)
    fig.suptitle(f"NSGD, power law d={d}, a={a}, b={b}, σ²={sigma2}; warmup + cosine to 0.1η₀ over "
                 f"{steps}·B₀ samples; f={FACTOR}")
    fig.tight_layout()
    ctx.save(fig, rows, {
        "problem": {"d": d, "a": a, "b": b, "noise_variance": sigma2},
        "factor": FACTOR, "cosine_steps": steps, "lr_margin": margin, "panels": summary_panels,
    })
