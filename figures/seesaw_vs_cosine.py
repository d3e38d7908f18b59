"""Seesaw against cosine for NSGD at several initial batch sizes (docs/math.md#seesaw).

The base is the released shape (10 % linear warmup from ``0.1 η_0``, half cosine to ``0.1 η_0``);
Seesaw discretises it at ``f = 1.1`` (learning rate × ``1.1^{−1/2}`` and batch × 1.1 at each of the
24 milestones; exact real batches). NSGD uses the expected denominator. Left: risk at matched
samples; middle: the same runs against serial steps, with the step reduction in the legend; right:
the batch sizes. The JSON holds the reductions and the worst risk ratio at matched samples.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ._seesaw_setup import nsgd_peak_lr, plot_indices
from ._layout import finish
from ._table import FigureTable, with_claim
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

#: The paper figure this figure redraws and what differs (its JSON's ``paper_counterpart``; "none" if none).
PAPER_COUNTERPART = {
    "paper": "Meterez et al., Seesaw, arXiv 2510.14717",
    "figure": "Figure 1: Seesaw against its cosine base at several initial batch sizes, against tokens and against steps",
    "differs": ("model: noisy linear regression with exact NSGD (expected denominator) and real batches, not "
                "language models with AdamW and integer batches; loss is the excess risk against samples"),
}


FACTOR = 1.1
#: WarmupCosine's default warmup: the first 10 % of the samples, from 0.1 η₀ to η₀.
WARMUP_FRACTION = 0.1


def data(ctx: FigureContext) -> FigureTable:
    """Cosine and Seesaw under NSGD at each ``B_0``; one row per plotted point of each run.

    Parameters
    ----------
    ctx : FigureContext
        ``quick`` sets the problem size, the samples, the initial batches and the points per curve.

    Returns
    -------
    FigureTable
        Rows ``series, initial_batch, step, samples, risk, lr, batch`` (the rate and batch of the
        step that ends at ``samples``); the summary holds the per-``B_0`` reductions and ratios, the
        ideal reductions and the point the warmup annotation points at.
    """
    d, total, batches = (100, 2.0e4, (2, 8)) if ctx.quick else (1000, 1.0e5, (2, 8, 32))
    a, b, sigma2, margin = 1.5, 2.0, 1.0, 0.5
    problem = Problem.power_law(d, a, b, sigma2)
    max_points = 400 if ctx.quick else 1500

    rows, per_batch = [], {}
    first_cosine = None
    for b0 in batches:
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
        for traj in report.trajectories:
            sched = traj.schedule
            n = len(traj.risk)
            idx = plot_indices(n, max_points)[1:]
            for i in idx:
                rows.append({"series": sched.label, "initial_batch": b0, "step": int(traj.steps[i]),
                             "samples": float(traj.samples[i]), "risk": float(traj.risk[i]),
                             "lr": float(sched.lr[i - 1]), "batch": float(sched.batch[i - 1])})
    warmup_end = WARMUP_FRACTION * total
    shape = WarmupCosine(1.0, 1.0)
    return with_claim(FigureTable(rows, {
        "problem": {"d": d, "a": a, "b": b, "noise_variance": sigma2},
        "total_samples": total, "factor": FACTOR, "lr_margin": margin,
        "per_initial_batch": per_batch,
        "ideal_step_reduction_f": seesaw_step_reduction(shape, FACTOR),
        "continuous_step_reduction": seesaw_step_reduction(shape),
        "warmup_samples": warmup_end,
        "warmup_annotation_point": {"samples": 0.8 * warmup_end,
                                    "risk": float(first_cosine.at_samples([0.8 * warmup_end])[0])},
    }), _claim, PAPER_COUNTERPART)


def _claim(summary: dict) -> dict:
    """The figure's claim in words, with the numbers that support it (from the summary)."""
    per = summary["per_initial_batch"]
    worst = max(v["final_ratio_seesaw_over_cosine"] for v in per.values())
    reduction = min(v["step_reduction"] for v in per.values())
    return {"statement": (f"Seesaw (f = {summary['factor']}) takes ≥ {100 * reduction:.1f} % fewer serial steps than "
                          f"cosine and ends within ×{worst:.3g} of its final risk at every B0 = "
                          f"{', '.join(per)}"),
            "min_step_reduction": reduction, "worst_final_ratio": worst}


def draw(table: FigureTable) -> Figure:
    """Risk against samples (warmup shaded) and serial steps, and the batch sizes, per ``B_0``.

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
    fig, (ax_s, ax_t, ax_b) = plt.subplots(1, 3, figsize=(16, 4.6))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for colour, (b0, info) in zip(colours, summary["per_initial_batch"].items()):
        runs = ((f"cosine B₀={b0}", "-", info["cosine_steps"], ""),
                (f"Seesaw B₀={b0}", "--", info["seesaw_steps"], f" (−{100 * info['step_reduction']:.1f} %)"))
        for label, style, steps, note in runs:
            curve = table.select(series=label)
            samples, risk = curve.column("samples"), curve.column("risk")
            ax_s.semilogy(samples, risk, style, color=colour, lw=1.2, label=label)
            ax_t.semilogy(curve.column("step"), risk, style, color=colour, lw=1.2,
                          label=f"{label}: {steps} steps{note}")
            ax_b.semilogy(samples, curve.column("batch"), style, color=colour, lw=1.2)
    # The risk rises during the warmup, in every curve: the large-eigenvalue directions, which hold
    # most of the initial risk (b = 2), are fitted within the first few hundred samples, and from
    # then on the risk tracks the noise floor, which grows with the effective learning rate while
    # the warmup raises it tenfold. Say so on the figure, where the reader sees the bump.
    point = summary["warmup_annotation_point"]
    ax_s.axvspan(0.0, summary["warmup_samples"], color="0.92", zorder=0, lw=0)
    ax_s.annotate("warmup: η rises 10× from 0.1 η₀,\nso the noise floor rises with it\n"
                  "(the top directions are already fitted)",
                  xy=(point["samples"], point["risk"]),
                  ha="left", va="top",
                  fontsize=8, xytext=(0.28, 0.97), textcoords="axes fraction",
                  arrowprops={"arrowstyle": "->", "color": "0.4", "lw": 0.8})
    ax_s.set(xlabel="samples", ylabel="excess risk", title="at matched samples (grey: warmup)")
    ax_t.set(xlabel="serial steps", title="in serial steps")
    ax_b.set(xlabel="samples", ylabel="batch size", title="batch size (Seesaw dashed)")
    legends.append((ax_s, dict(fontsize=9)))
    legends.append((ax_t, dict(fontsize=9)))
    p = summary["problem"]
    fig.suptitle(f"NSGD, power law d={p['d']}, a={p['a']}, b={p['b']}, σ²={p['noise_variance']}; warmup + cosine "
                 f"to 0.1η₀ over {summary['total_samples']:g} samples; Seesaw f={summary['factor']}")
    finish(fig, *legends, claim=table.summary["claim"]["statement"])
    return fig


register("seesaw_vs_cosine", "NSGD: Seesaw (f = 1.1) vs warmup + cosine at several B₀, vs samples and steps",
         data, draw)
