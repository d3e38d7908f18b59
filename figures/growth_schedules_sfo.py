"""Constant vs exponential-b vs linear-b vs exponential b-and-η growth (arXiv 2508.05297) on exact dynamics (docs/math.md#paper-figures).

SGD on a power-law problem, stages of ``E`` epochs (an epoch is ``n`` samples, ``⌈n/b⌉`` steps with a partial last
batch, exactly ``E n`` samples per stage: ``epoch_remainder="partial"``, the released trainer's count;
docs/math.md#growth-schedules), from ``(η₀, b₀) = (0.1, 8)``:

- *constant*: ``(η₀, b₀)`` throughout;
- *exponential b*: ``b_m = b₀δ^m`` (``δ = 2``), ``η₀`` held;
- *linear b*: ``b_m = b₀(m + 1)``, ``η₀`` held (:func:`polynomial_growth` with ``p = 1``);
- *exponential b and η*: ``b_m = b₀δ^m``, ``η_m = η₀γ^m`` with ``γ = 1.4`` (``γ² ≈ δ``, the papers' guideline).

Left: ``b`` (thick) and ``η`` (thin) per epoch. Middle: ``sqrt(E‖∇f‖²)`` against epochs. Right: the SFO (samples)
each needs to first reach ``sqrt(E‖∇f‖²) ≤ ε``, against ``ε`` — under the per-epoch count every scheduler consumes the
same ``n`` samples per epoch, so SFO against epochs is one line ``n·epochs`` for all; what differs is the SFO to a
target, and the serial steps (in the legend).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ._layout import finish
from ._paper_runs import MODEL_DIFFERENCE, first_reach, gradient_norm_curves
from ._seesaw_setup import plot_indices
from ._table import FigureTable
from .registry import FigureContext, register
from ..theory import Problem, exponential_growth, polynomial_growth, stage_schedule

SCHEDULERS = ("constant", "exponential b", "linear b", "exponential b and η")
STYLE = {SCHEDULERS[0]: ("C2", ":"), SCHEDULERS[1]: ("C0", "--"), SCHEDULERS[2]: ("C1", "-."),
         SCHEDULERS[3]: ("C3", "-")}
LR0, BATCH0, DELTA, GAMMA = 0.1, 8, 2.0, 1.4


def data(ctx: FigureContext) -> FigureTable:
    """The four growth schedules' exact runs; one row per epoch, per plotted step, and per target.

    Parameters
    ----------
    ctx : FigureContext
        ``quick`` sets the dimension, the epoch size, the stages and their length.

    Returns
    -------
    FigureTable
        Rows ``scheduler, curve = "per epoch", epoch, lr, batch``; ``curve = "per step", step, epoch, samples,
        gradient_norm`` (after that step); ``curve = "to target", epsilon, steps, sfo`` (the first state with
        ``sqrt(E‖∇f‖²) ≤ ε``; absent where not reached). The summary holds the problem, the schedules, per scheduler
        its steps and final norm, and the targets.
    """
    d, n, stage_epochs, stages = (60, 1000, 3, 6) if ctx.quick else (400, 10000, 6, 8)
    problem = Problem.power_law(d, a=1.5, b=1.0, noise_variance=1.0, scale=0.5)
    common = dict(stage_epochs=stage_epochs, dataset_size=n, integer_batch=True, epoch_remainder="partial")
    schedules = [
        stage_schedule([LR0] * stages, [BATCH0] * stages, label=SCHEDULERS[0], **common),
        exponential_growth(LR0, BATCH0, 1.0, DELTA, stages, label=SCHEDULERS[1], **common),
        polynomial_growth(LR0, BATCH0, 1.0, 0.0, stages, label=SCHEDULERS[2], **common),
        exponential_growth(LR0, BATCH0, GAMMA, DELTA, stages, label=SCHEDULERS[3], **common),
    ]
    curves = gradient_norm_curves(problem, schedules)
    norms = [np.sqrt(c["grad_sq"]) for c in curves]
    floor = max(float(v.min()) for v in norms)
    eps = np.geomspace(float(norms[0][0]) / 2, floor * 1.02, 10)
    best = min(float(v.min()) for v in norms)
    eps = np.unique(np.concatenate([eps, np.geomspace(floor * 1.02, best * 1.02, 6)]))[::-1]
    rows, summary = [], {}
    for name, schedule, c, norm in zip(SCHEDULERS, schedules, curves, norms):
        meta = schedule.metadata
        rows.extend({"scheduler": name, "curve": "per epoch", "epoch": e, "lr": float(meta["stage_lr"][e // stage_epochs]),
                     "batch": float(meta["stage_batch"][e // stage_epochs])} for e in range(stages * stage_epochs))
        epochs = c["samples"] / n
        rows.extend({"scheduler": name, "curve": "per step", "step": int(c["steps"][t]), "epoch": float(epochs[t]),
                     "samples": float(c["samples"][t]), "gradient_norm": float(norm[t])}
                    for t in plot_indices(len(norm), 300, always=np.array([len(norm) - 1])))
        reached = {}
        for e in eps:
            step, sfo = first_reach(c["samples"], c["grad_sq"], float(e) ** 2)
            if step is not None:
                rows.append({"scheduler": name, "curve": "to target", "epsilon": float(e), "steps": step, "sfo": sfo})
                reached[float(e)] = sfo
        summary[name] = {"steps": len(schedule), "samples": int(schedule.total_samples),
                         "stage_steps": list(meta["stage_steps"]), "final_gradient_norm": float(norm[-1]),
                         "sfo_at_common_floor": reached.get(float(eps[np.argmin(np.abs(eps - floor * 1.02))]))}
    target = float(eps[np.argmin(np.abs(eps - floor * 1.02))])
    sfo = [summary[s]["sfo_at_common_floor"] for s in SCHEDULERS]
    steps = [summary[s]["steps"] for s in SCHEDULERS]
    lowest = min(SCHEDULERS, key=lambda k: summary[k]["final_gradient_norm"])
    claim = {
        "statement": (f"growing b and η together reaches ‖∇f‖ ≤ {target:.3g} with {sfo[3]:.3g} samples, against "
                      f"{sfo[0]:.3g} (constant), {sfo[1]:.3g} (exponential b) and {sfo[2]:.3g} (linear b); it ends at "
                      f"‖∇f‖ = {summary[SCHEDULERS[3]]['final_gradient_norm']:.3g} in {steps[3]} steps against "
                      f"{steps[0]} at constant b; the lowest final norm is {lowest}'s "
                      f"({summary[lowest]['final_gradient_norm']:.3g})"),
        "lowest_final": lowest,
        "target_gradient_norm": target,
        "sfo_to_target": sfo,
        "steps": steps,
        "final_gradient_norm": [summary[s]["final_gradient_norm"] for s in SCHEDULERS],
    }
    return FigureTable(rows, {
        "problem": {"family": "power_law", "d": d, "a": 1.5, "b": 1.0, "noise_variance": 1.0, "scale": 0.5,
                    "largest_eigenvalue": problem.largest_eigenvalue},
        "epoch_samples": n, "stages": stages, "stage_epochs": stage_epochs,
        "schedules": {"lr0": LR0, "batch0": BATCH0, "delta": DELTA, "gamma": GAMMA, "linear": "b0 (m + 1)",
                      "epoch_remainder": "partial"},
        "runs": summary,
        "claim": claim,
        "paper_counterpart": {
            "paper": ("Umeda & Iiduka, Optimal Growth Schedules for Batch Size and Learning Rate in SGD that Reduce "
                      "SFO Complexity, arXiv 2508.05297"),
            "figure": ("the experiments comparing constant batch size, exponentially and linearly growing batch size "
                       "and exponentially growing batch size and learning rate: full-gradient norm and SFO against "
                       "epochs"),
            "differs": (MODEL_DIFFERENCE + f"; sizes: d = {d}, n = {n} samples per epoch, {stages} stages of "
                        f"{stage_epochs} epochs (the paper: CIFAR-100, 50 000 images); constants ours in the paper's "
                        "pattern (b₀ = 8, η₀ = 0.1, δ = 2, γ = 1.4); the epoch count is the released trainer's "
                        "(partial last batch, exactly n samples per epoch), so SFO against epochs is n·epochs for "
                        "every scheduler and the right panel plots the SFO to reach each target instead; the spikes are the "
                        "partial last batches of each epoch (a few samples at the stage's large η)"),
        },
    })


def draw(table: FigureTable) -> Figure:
    """``(η, b)`` per epoch, the norm against epochs, and the SFO to each target, per scheduler.

    Parameters
    ----------
    table : FigureTable
        As :func:`data` returns it.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    runs = table.summary["runs"]
    for name in SCHEDULERS:
        color, ls = STYLE[name]
        per_epoch = table.select(scheduler=name, curve="per epoch")
        ep = np.append(per_epoch.column("epoch"), len(per_epoch))
        for col, lw, alpha, what in (("batch", 2.5, 0.45, "b"), ("lr", 1.0, 1.0, "η")):
            v = per_epoch.column(col)
            axes[0].step(ep, np.append(v, v[-1]), where="post", color=color, ls=ls, lw=lw, alpha=alpha,
                         label=f"{name}: {what}")
        curve = table.select(scheduler=name, curve="per step")
        axes[1].semilogy(curve.column("epoch"), curve.column("gradient_norm"), color=color, ls=ls,
                         label=f"{name}: {runs[name]['steps']} steps")
        hits = table.select(scheduler=name, curve="to target")
        if len(hits):
            axes[2].loglog(hits.column("epsilon"), hits.column("sfo"), color=color, ls=ls, marker="o", ms=3,
                           label=name)
    axes[0].set_yscale("log")
    axes[0].set(xlabel="epoch", ylabel="b (thick), η (thin)", title="batch size and learning rate per epoch")
    axes[1].set(xlabel="epoch", ylabel=r"$\sqrt{E\|\nabla f\|^2}$", title="full-gradient norm")
    axes[2].set(xlabel=r"target $\varepsilon$", ylabel=r"SFO to reach $\sqrt{E\|\nabla f\|^2}\leq\varepsilon$",
                title="SFO complexity to each target")
    axes[2].invert_xaxis()
    p, s = table.summary["problem"], table.summary
    fig.suptitle(f"SGD, power law d={p['d']}, a=1.5, σ²=1, λ₁=0.5; epoch = {s['epoch_samples']} samples, "
                 f"{s['stages']} stages of {s['stage_epochs']} epochs; b₀=8, η₀=0.1, δ=2, γ=1.4 (arXiv 2508.05297)",
                 fontsize=10)
    finish(fig, *[(ax, dict(fontsize=7)) for ax in axes], claim=table.summary["claim"]["statement"])
    return fig


register("growth_schedules_sfo", "arXiv 2508.05297: constant vs exponential-b vs linear-b vs exponential b-and-η "
                                 "growth (norm against epochs, SFO to each target)", data, draw)
