"""Beyond the Seesaw breakdown batch size a batch ramp cannot replace learning-rate decay (docs/math.md#equivalence).

NSGD (expected denominator) on one power-law problem, three schedules on the same samples: the
warmup + cosine base, Seesaw (``p = 1``: rate × ``f^{−1/2}``, batch × ``f`` at the milestones) and the
fixed-rate ramp of Seesaw's Figure 3 (``(α, β) = (1, f)``: rate held, batch × ``f``, the same batches
and serial steps as Seesaw; ``seesaw_schedule(p=1, lr_power=0)``), ``f = 1.1``. Left, ``B_0 = 4``: the gradient
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
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ._seesaw_setup import max_stable_lr, nsgd_peak_lr, plot_indices
from ._layout import finish
from ._table import FigureTable, with_claim
from .registry import FigureContext, register
from ..theory import Problem, Schedule, WarmupCosine, equivalence_report, seesaw_schedule
from ..theory.dynamics import gradient_second_moment

#: The paper figure this figure redraws and what differs (its JSON's ``paper_counterpart``; "none" if none).
PAPER_COUNTERPART = {
    "paper": "Meterez et al., Seesaw, arXiv 2510.14717",
    "figure": "Figure 3: cosine, Seesaw and the fixed-LR arm (α, β) = (1, f) at a small and a large initial batch",
    "differs": ("model: noisy linear regression with exact NSGD (expected denominator), not language models trained "
                "with AdamW; loss is the excess risk against samples; sizes and rates in the JSON's panels"),
}


FACTOR = 1.1
STEPS = 2000  # serial steps of the cosine base in both panels

#: Why the large-batch risk curves zigzag (drawn under the figure and written into its JSON).
OSCILLATION_NOTE = (
    "Zigzag at B₀ = 4096: NSGD at its edge of stability. With the mean gradient dominating, the effective "
    "rate η/√E‖g‖² grows as the gradient shrinks until it passes 2/λ₁, the stability edge of the top "
    "eigendirection; that direction then overshoots the minimum, E‖g‖² jumps back up, the effective rate "
    "falls below the edge, and the excess risk alternates up and down from step to step. The iterate stays "
    "in an O(η) neighbourhood of the minimum: only a falling η shrinks it, which a batch ramp does not do."
)


def _edge_statistics(effective_lr: np.ndarray, risk: np.ndarray, edge: float) -> dict[str, float]:
    """Share of steps whose effective rate exceeds ``edge``, and share of steps where the risk alternates
    (its change flips sign from one step to the next)."""
    change = np.diff(risk)
    flips = np.sign(change[1:]) * np.sign(change[:-1]) < 0
    return {"steps_above_edge_fraction": float(np.mean(effective_lr > edge)),
            "alternating_risk_fraction": float(np.mean(flips)) if flips.size else 0.0}


SERIES = ("cosine", "Seesaw (p = 1)", "fixed-LR ramp (1, f)")


def equivalence_panel(spec: dict) -> dict:
    """One panel of the figure (a sweep task): NSGD on cosine, Seesaw and the fixed-rate ramp.

    ``spec``: ``d``, ``a``, ``b``, ``noise_variance`` (the power-law problem), ``initial_batch``
    ``B_0``, ``rate_rule`` (``"variance floor"`` or ``"initial gradient"``, module docstring),
    ``margin``, ``steps`` (serial steps of the cosine base) and ``factor``. Returns the peak rate and
    the equivalence report as scalars, and per schedule ``SERIES[k]`` the curves ``k/risk``,
    ``k/samples``, ``k/steps``, ``k/mean_variance_ratio``, ``k/effective_lr`` and the report's ratio
    matrices.
    """
    problem = Problem.power_law(spec["d"], spec["a"], spec["b"], spec["noise_variance"])
    b0, margin, steps = spec["initial_batch"], spec["margin"], spec["steps"]
    if spec["rate_rule"] == "variance floor":
        lr0 = nsgd_peak_lr(problem, b0, margin)
    else:
        g0 = gradient_second_moment(problem, problem.initial_second_moment, b0)
        lr0 = margin * max_stable_lr(problem, b0) * math.sqrt(g0)
    base = WarmupCosine(lr0, float(b0 * steps))
    schedules = [
        Schedule.from_shape(base, b0, label=SERIES[0], integer_batch=False),
        seesaw_schedule(base, b0, spec["factor"], label=SERIES[1]),
        seesaw_schedule(base, b0, spec["factor"], lr_power=0.0, label=SERIES[2]),
    ]
    report = equivalence_report(problem, schedules, "nsgd")
    out: dict = {"lr0": lr0, "total_samples": base.total_samples,
                 "max_ratio": report.max_ratio, "final_ratio": report.final_ratio,
                 "serial_steps": np.asarray(report.serial_steps)}
    for k, traj in enumerate(report.trajectories):
        out.update({f"{k}/risk": traj.risk, f"{k}/samples": traj.samples, f"{k}/steps": traj.steps,
                    f"{k}/mean_variance_ratio": traj.mean_variance_ratio, f"{k}/effective_lr": traj.effective_lr})
    return out


def data(ctx: FigureContext) -> FigureTable:
    """Both panels through the sweep; one row per plotted point of every run.

    Parameters
    ----------
    ctx : FigureContext
        ``quick`` sets the problem size, the steps and the points per curve; its sweep executor
        and cache run the two panels.

    Returns
    -------
    FigureTable
        Rows ``panel, initial_batch, series, step, samples, risk, mean_variance_ratio_before_step,
        samples_before_step`` (the ratio is measured at the start of the step that ends at
        ``samples``, where ``samples_before_step`` samples have been seen); the summary holds each
        panel's rates, steps and ratios, and the edge-of-stability statistics.
    """
    d, steps = (100, 400) if ctx.quick else (500, STEPS)
    a, b, sigma2, margin = 1.5, 2.0, 1.0, 0.5
    panels = (("small batch", 4), ("large batch", 4096))
    max_points = 400 if ctx.quick else 1500
    swept = ctx.sweep(equivalence_panel, [
        {"d": d, "a": a, "b": b, "noise_variance": sigma2, "initial_batch": b0,
         "rate_rule": "variance floor" if name == "small batch" else "initial gradient",
         "margin": margin, "steps": steps, "factor": FACTOR} for name, b0 in panels])

    edge = 2.0 / Problem.power_law(d, a, b, sigma2).largest_eigenvalue  # GD's edge, the limit B → ∞

    rows, summary_panels, oscillation = [], {}, {}
    for (name, b0), row, curves in zip(panels, swept.table.itertuples(), swept.curves):
        lr0, max_ratio, final_ratio = row.lr0, curves["max_ratio"], curves["final_ratio"]
        serial_steps = curves["serial_steps"].tolist()
        for k, label in enumerate(SERIES):
            risk, samples = curves[f"{k}/risk"], curves[f"{k}/samples"]
            traj_steps, ratio = curves[f"{k}/steps"], curves[f"{k}/mean_variance_ratio"]
            idx = plot_indices(len(risk), max_points)[1:]
            for i in idx:
                rows.append({"panel": name, "initial_batch": b0, "series": label,
                             "step": int(traj_steps[i]), "samples": float(samples[i]),
                             "risk": float(risk[i]),
                             "mean_variance_ratio_before_step": float(ratio[i - 1]),
                             "samples_before_step": float(samples[i - 1])})
        summary_panels[name] = {
            "initial_batch": b0, "lr0": lr0, "total_samples": row.total_samples,
            "serial_steps": dict(zip(SERIES, serial_steps)),
            "worst_ratio_to_cosine": dict(zip(SERIES[1:], max_ratio[0, 1:].tolist())),
            "final_ratio_to_cosine": dict(zip(SERIES[1:], final_ratio[1:, 0].tolist())),
            "final_risk": {label: float(curves[f"{k}/risk"][-1]) for k, label in enumerate(SERIES)},
            "median_mean_variance_ratio": {label: float(np.median(curves[f"{k}/mean_variance_ratio"]))
                                           for k, label in enumerate(SERIES)},
        }
        oscillation[name] = {label: _edge_statistics(curves[f"{k}/effective_lr"], curves[f"{k}/risk"], edge)
                             for k, label in enumerate(SERIES)}
    return with_claim(FigureTable(rows, {
        "problem": {"d": d, "a": a, "b": b, "noise_variance": sigma2},
        "factor": FACTOR, "cosine_steps": steps, "lr_margin": margin, "panels": summary_panels,
        "edge_of_stability": {"explanation": OSCILLATION_NOTE, "edge_2_over_lambda1": edge,
                              "per_panel": oscillation},
    }), _claim, PAPER_COUNTERPART)


def _claim(summary: dict) -> dict:
    """The figure's claim in words, with the numbers that support it (from the summary)."""
    small, large = summary["panels"]["small batch"], summary["panels"]["large batch"]
    s_ratio = small["final_ratio_to_cosine"]["Seesaw (p = 1)"]
    l_ratio = large["final_ratio_to_cosine"]["Seesaw (p = 1)"]
    return {"statement": (f"Seesaw (p = 1) ends at {s_ratio:.3g}× cosine's final risk below the Seesaw breakdown batch size "
                          f"(B0 = {small['initial_batch']}) but {l_ratio:.3g}× far above it (B0 = {large['initial_batch']}): "
                          "the equivalence needs variance-dominated noise"),
            "final_ratio_small_batch": s_ratio, "final_ratio_large_batch": l_ratio,
            "paper": ("Seesaw (Meterez et al., arXiv 2510.14717), Figure 3: cosine, Seesaw and the fixed-LR arm "
                      "(α, β) = (1, f) on language models; here on noisy linear regression with exact NSGD, the same "
                      "three schedules on the same samples (the fixed-LR arm has Seesaw's batches)")}


def draw(table: FigureTable) -> Figure:
    """Risk (top) and mean/variance ratio (bottom) against samples; small ``B_0`` left, large right.

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
    fig, axes = plt.subplots(2, 2, figsize=(12, 8), sharex="col")
    for col, (name, info) in enumerate(summary["panels"].items()):
        ax_r, ax_m = axes[0, col], axes[1, col]
        for label in SERIES:
            curve = table.select(panel=name, series=label)
            ax_r.semilogy(curve.column("samples"), curve.column("risk"), lw=1.2,
                          label=f"{label}: {info['serial_steps'][label]} steps")
            ax_m.semilogy(curve.column("samples_before_step"), curve.column("mean_variance_ratio_before_step"),
                          lw=1.2)
        worst = info["worst_ratio_to_cosine"]
        ax_r.set(ylabel="excess risk",
                 title=f"{name}: B₀={info['initial_batch']}, η₀={info['lr0']:.3g}\nworst ratio to cosine "
                       f"{worst[SERIES[1]]:.2f} (Seesaw), {worst[SERIES[2]]:.2f} (fixed LR)")
        legends.append((ax_r, dict(fontsize=8)))
        ax_m.axhline(1.0, color="0.6", lw=0.8, ls=":")
        ax_m.set(xlabel="samples", ylabel="‖E g‖² / gradient variance",
                 title=f"{name}: mean/variance ratio (≪ 1: variance-dominated)")
    seesaw_large = summary["edge_of_stability"]["per_panel"]["large batch"][SERIES[1]]
    axes[0, 1].annotate(
        f"zigzag: effective rate above the edge 2/λ₁\non {100 * seesaw_large['steps_above_edge_fraction']:.0f}% "
        f"of Seesaw's steps (see caption)", xy=(0.35, 0.42), xycoords="axes fraction", fontsize=8,
        ha="left", va="top", bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})
    axes[0, 0].title.set_fontsize(9)
    axes[0, 1].title.set_fontsize(9)
    p = summary["problem"]
    fig.suptitle(f"NSGD, power law d={p['d']}, a={p['a']}, b={p['b']}, σ²={p['noise_variance']}; warmup + cosine "
                 f"to 0.1η₀ over {summary['cosine_steps']}·B₀ samples; f={summary['factor']}")
    # The caption sits in a strip kept free at the bottom of the canvas, wrapped by hand so that its
    # height is known before the layout (the checklist asks for every label inside the canvas).
    finish(fig, *legends, claim=table.summary["claim"]["statement"], rect=(0, 0.075, 1, 1))
    fig.text(0.5, 0.012, textwrap.fill(summary["edge_of_stability"]["explanation"], 170), ha="center",
             va="bottom", fontsize=8)
    return fig


register("beyond_critical_batch", "NSGD: cosine vs Seesaw vs fixed-LR ramp, small vs large B₀ (equivalence fails)",
         data, draw)
