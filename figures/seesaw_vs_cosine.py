"""Seesaw against cosine for NSGD at several initial batch sizes (docs/math.md#seesaw).

The base is the released shape (10 % linear warmup from ``0.1 η_0``, half cosine to ``0.1 η_0``);
Seesaw discretises it at ``f = 1.1`` (learning rate × ``1.1^{−1/2}`` and batch × 1.1 at each of the
24 milestones; exact real batches). NSGD uses the expected denominator. Left: risk at matched
samples; middle: the same runs against serial steps, with the step reduction in the legend; right:
the batch sizes. The JSON holds the reductions and the worst risk ratio at matched samples.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ._seesaw_setup import nsgd_peak_lr, plot_indices
from .registry import FigureContext, register
from ..theory import (
    Problem,
    Schedule,
    WarmupCosine,
    equivalence_report,
    seesaw_schedule,
    seesaw_step_reduction,
    step_reduction,
)

FACTOR = 1.1
#: WarmupCosine's default warmup: the first 10 % of the samples, from 0.1 η₀ to η₀.
WARMUP_FRACTION = 0.1


@register("seesaw_vs_cosine",
          "NSGD: Seesaw (f = 1.1) vs warmup + cosine at several B₀, vs samples and steps")
def build(ctx: FigureContext) -> None:
    d, total, batches = (100, 2.0e4, (2, 8)) if ctx.quick else (1000, 1.0e5, (2, 8, 32))
    a, b, sigma2, margin = 1.5, 2.0, 1.0, 0.5
    problem = Problem.power_law(d, a, b, sigma2)
    max_points = 400 if ctx.quick else 1500

    fig, (ax_s, ax_t, ax_b) = plt.subplots(1, 3, figsize=(16, 4.6))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    rows, per_batch = [], {}
    first_cosine = None
    for colour, b0 in zip(colours, batches):
        lr0 = nsgd_peak_lr(problem, b0, margin)
        base = WarmupCosine(lr0, total)
        cosine = Schedule.from_shape(base, b0, label=f"cosine B₀={b0}", integer_batch=False)
        seesaw = seesaw_schedule(base, b0, FACTOR, label=f"Seesaw B₀={b0}")
        report = equivalence_report(problem, [cosine, seesaw], "nsgd")
        if first_cosine is None:  # the annotation points at the first cosine curve's warmup bump
            first_cosine = report.trajectories[0]
        reduction = step_reduction(cosine, seesaw)
        per_batch[str(b0)] = {
            "lr0": lr0, "cosine_steps": cosine.serial_steps, "seesaw_steps": seesaw.serial_steps,
            "step_reduction": reduction, "worst_ratio": report.worst_ratio,
            "final_ratio_seesaw_over_cosine": float(report.final_ratio[1, 0]),
            "max_mean_variance_ratio": report.max_mean_variance_ratio.tolist(),
            "largest_batch": float(seesaw.batch.max()),
        }
        for traj, style in zip(report.trajectories, ("-", "--")):
            sched = traj.schedule
            n = len(traj.risk)
            idx = plot_indices(n, max_points)[1:]
            ax_s.semilogy(traj.samples[idx], traj.risk[idx], style, color=colour, lw=1.2, label=sched.label)
            steps_label = f"{sched.label}: {sched.serial_steps} steps"
            if style == "--":
                steps_label += f" (−{100 * reduction:.1f} %)"
            ax_t.semilogy(traj.steps[idx], traj.risk[idx], style, color=colour, lw=1.2, label=steps_label)
            ax_b.semilogy(traj.samples[idx], np.append(sched.batch, sched.batch[-1])[idx - 1], style,
                          color=colour, lw=1.2)
            for i in idx:
                rows.append({"series": sched.label, "initial_batch": b0, "step": int(traj.steps[i]),
                             "samples": float(traj.samples[i]), "risk": float(traj.risk[i]),
                             "lr": float(sched.lr[i - 1]), "batch": float(sched.batch[i - 1])})
    # The risk rises during the warmup, in every curve: the large-eigenvalue directions, which hold
    # most of the initial risk (b = 2), are fitted within the first few hundred samples, and from
    # then on the risk tracks the noise floor, which grows with the effective learning rate while
    # the warmup raises it tenfold. Say so on the figure, where the reader sees the bump.
    warmup_end = WARMUP_FRACTION * total
    ax_s.axvspan(0.0, warmup_end, color="0.92", zorder=0, lw=0)
    ax_s.annotate("warmup: η rises 10× from 0.1 η₀,\nso the noise floor rises with it\n"
                  "(the top directions are already fitted)",
                  xy=(0.8 * warmup_end, float(first_cosine.at_samples([0.8 * warmup_end])[0])),
                  ha="left", va="top",
                  fontsize=8, xytext=(0.28, 0.97), textcoords="axes fraction",
                  arrowprops={"arrowstyle": "->", "color": "0.4", "lw": 0.8})
    ax_s.set(xlabel="samples", ylabel="excess risk", title="at matched samples (grey: warmup)")
    ax_t.set(xlabel="serial steps", title="in serial steps")
    ax_b.set(xlabel="samples", ylabel="batch size", title="batch size (Seesaw dashed)")
    ax_s.legend(fontsize=9, loc="lower left")
    ax_t.legend(fontsize=9, loc="lower left")
    fig.suptitle(f"NSGD, power law d={d}, a={a}, b={b}, σ²={sigma2}; warmup + cosine to 0.1η₀ over "
                 f"{total:g} samples; Seesaw f={FACTOR}")
    fig.tight_layout()
    shape = WarmupCosine(1.0, 1.0)
    ctx.save(fig, rows, {
        "problem": {"d": d, "a": a, "b": b, "noise_variance": sigma2},
        "total_samples": total, "factor": FACTOR, "lr_margin": margin,
        "per_initial_batch": per_batch,
        "ideal_step_reduction_f": seesaw_step_reduction(shape, FACTOR),
        "continuous_step_reduction": seesaw_step_reduction(shape),
    })
