"""Constant vs exponential-b vs linear-b vs exponential b-and-η growth (arXiv 2508.05297) on exact dynamics (docs/math.md#paper-figures).

SGD on a power-law problem with the released configurations of arXiv 2508.05297 (``hikarumeda1030/optimal-schedule``
@409abf6, ``src/json/{const,exp,linear}.json``, ``src/cifar100.py``; docs/math.md#sources): 8 stages of ``E`` epochs
(the release: growth at epochs 25, 50, …, 175 of 200), batches ``⌈b₀λ_m⌉`` capped at 2048, an epoch of ``n`` samples
taken as ``⌊n/b⌋`` full batches with the rest dropped (the release's sampler, ``epoch_remainder="drop_last"``;
docs/math.md#growth-schedules), from ``(η₀, b₀) = (0.1, 16)``:

- *constant*: ``(η₀, b₀)`` throughout;
- *exponential b*: ``b_m = b₀δ^m`` (``δ = 2``), ``η₀`` held;
- *linear b*: ``b_m = b₀ + 8m`` (the release's ``coefficient = 8``), ``η₀`` held;
- *exponential b and η*: ``b_m = b₀δ^m``, ``η_m = η₀γ^m`` with ``γ = 1.4`` (the release's ``lr_exp_rate`` example;
  ``γ² ≈ δ``, the papers' guideline).

Left: ``b`` (thick) and ``η`` (thin) per epoch. Middle: ``sqrt(E‖∇f‖²)`` against epochs. Right: the SFO (samples)
each needs to first reach ``sqrt(E‖∇f‖²) ≤ ε``, against ``ε`` — under the per-epoch count every scheduler consumes the
same ``b⌊n/b⌋ ≈ n`` samples per epoch, so SFO against epochs is nearly one line for all; what differs is the SFO to
a target, and the serial steps (in the legend).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ._layout import epoch_steps, panel_row
from ._paper_runs import MODEL_DIFFERENCE, first_reach, gradient_norm_curves, paper_problem, paper_setting
from ._seesaw_setup import plot_indices
from ._table import FigureTable
from .registry import FigureContext, register
from ..theory import exponential_growth, stage_schedule

SCHEDULERS = ("constant", "exponential b", "linear b", "exponential b and η")
STYLE = {SCHEDULERS[0]: ("C2", ":"), SCHEDULERS[1]: ("C0", "--"), SCHEDULERS[2]: ("C1", "-."),
         SCHEDULERS[3]: ("C3", "-")}
LR0, BATCH0, DELTA, GAMMA, COEFFICIENT, BATCH_MAX, STAGES = 0.1, 16, 2.0, 1.4, 8, 2048, 8


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
    d, n, stage_epochs = (60, 4096, 5) if ctx.quick else (400, 50000, 10)
    stages = STAGES
    problem, problem_summary = paper_problem(d)
    common = dict(stage_epochs=stage_epochs, dataset_size=n, integer_batch=True, epoch_remainder="drop_last",
                  batch_cap=BATCH_MAX)
    schedules = [
        stage_schedule([LR0] * stages, [BATCH0] * stages, label=SCHEDULERS[0], **common),
        exponential_growth(LR0, BATCH0, 1.0, DELTA, stages, label=SCHEDULERS[1], **common),
        stage_schedule([LR0] * stages, [BATCH0 + COEFFICIENT * m for m in range(stages)], label=SCHEDULERS[2],
                       **common),
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
        "statement": (f"every growth schedule needs fewer samples than the constant one to reach ‖∇f‖ ≤ {target:.3g} "
                      f"({sfo[1]:.3g} exponential b, {sfo[2]:.3g} linear b, {sfo[3]:.3g} exponential b and η, "
                      f"against {sfo[0]:.3g}) and fewer steps over the run ({steps[1]}, {steps[2]}, {steps[3]} against "
                      f"{steps[0]}); {lowest} ends lowest (‖∇f‖ = {summary[lowest]['final_gradient_norm']:.3g})"),
        "lowest_final": lowest,
        "target_gradient_norm": target,
        "sfo_to_target": sfo,
        "steps": steps,
        "final_gradient_norm": [summary[s]["final_gradient_norm"] for s in SCHEDULERS],
    }
    return FigureTable(rows, {
        "problem": problem_summary,
        "epoch_samples": n, "stages": stages, "stage_epochs": stage_epochs,
        "schedules": {"lr0": LR0, "batch0": BATCH0, "delta": DELTA, "gamma": GAMMA, "linear": "b0 + 8 m",
                      "batch_max": BATCH_MAX, "epoch_remainder": "drop_last",
                      "source": "hikarumeda1030/optimal-schedule @409abf6 (src/json, src/cifar100.py)"},
        "runs": summary,
        "claim": claim,
        "paper_counterpart": {
            "paper": ("Umeda & Iiduka, Optimal Growth Schedules for Batch Size and Learning Rate in SGD that Reduce "
                      "SFO Complexity, arXiv 2508.05297"),
            "figure": ("the experiments comparing constant batch size, exponentially and linearly growing batch size "
                       "and exponentially growing batch size and learning rate: full-gradient norm and SFO against "
                       "epochs"),
            "differs": (MODEL_DIFFERENCE + f"; sizes: d = {d}, n = {n} samples per epoch (the paper: 50 000), "
                        f"{stages} stages of {stage_epochs} epochs (the paper: 25, 200 epochs); the release's constants "
                        "otherwise (b₀ = 16, η₀ = 0.1, δ = 2, linear +8 per stage, γ = 1.4, batches ≤ 2048, the last "
                        "partial batch of each epoch dropped); every scheduler consumes about n samples per epoch, so "
                        "SFO against epochs is nearly one line and the right panel plots the SFO to reach each "
                        "target instead"),
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
    return panel_row(table, _panels, f"{paper_setting(table.summary, epochs=True)}; b₀=16, η₀=0.1, δ=2, +8, "
                     "γ=1.4, b≤2048 (arXiv 2508.05297)")


def _panels(table: FigureTable, axes: np.ndarray) -> None:
    """:func:`draw`'s panels: ``(η, b)`` per epoch, the norm against epochs, the SFO to each target."""
    runs = table.summary["runs"]
    for name, (color, ls) in STYLE.items():
        per_epoch = table.select(scheduler=name, curve="per epoch")
        for col, lw, alpha, what in (("batch", 2.5, 0.45, "b"), ("lr", 1.0, 1.0, "η")):
            epoch_steps(axes[0], per_epoch, col, color=color, ls=ls, lw=lw, alpha=alpha, label=f"{name}: {what}")
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


register("growth_schedules_sfo", "arXiv 2508.05297: constant vs exponential-b vs linear-b vs exponential b-and-η "
                                 "growth (norm against epochs, SFO to each target)", data, draw)
