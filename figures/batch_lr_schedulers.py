"""Umeda & Iiduka's four schedulers (arXiv 2409.08770) as the master bound and as exact dynamics (docs/math.md#paper-figures).

SGD on a power-law problem with the released configurations of arXiv 2409.08770 (``hikarumeda1030/incr_both_bs_lr``,
``cifar100.py`` and ``json/``, docs/math.md#sources), in 10 stages of ``I`` epochs (the release: ``I = 30``, 300 epochs);
an epoch is ``n`` samples, ``⌈n/b⌉`` steps with a partial last batch (the release's plain DataLoader,
``epoch_remainder="partial"``); the learning rate is set per epoch:

- (i) constant batch 128, cosine annealing ``0.1 → 0`` over the run (``CosineAnnealingLR``, stepped per epoch);
- (ii) batch ``8 → 1024`` by the release's affine-exponential growth ``min(⌈a·2^m + 8 − a⌉, 1024)``,
  ``a = (1024 − 8)/(2⁹ − 1)``, stage ``m = ⌊e/I⌋``; the same cosine;
- (iii) the same batches, rate ``0.1·min(γ^m, 2)`` with ``γ = 2^{1/9}`` (``0.1 → η_max = 0.2`` at the last stage);
- (iv) the same batches, rate warmed up over the first ``I`` epochs (``×2^{1/9}`` every ``I/10`` epochs, to 0.2),
  then cosine from 0.2 to 0.

Left: ``η`` per epoch; middle: ``b`` per epoch; right: the exact ``E‖∇f‖² = Σλ²s`` (its running minimum, the
quantity the bound controls, solid) and the master bound ``A/Ση + BΣ(η²/b)/Ση`` (dotted; docs/math.md#master-bound)
with ``σ²`` the largest one-sample gradient variance met along the four runs, so the bound must hold.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from ._layout import epoch_steps, panel_row
from ._paper_runs import MODEL_DIFFERENCE, gradient_norm_curves, paper_problem, paper_setting
from ._seesaw_setup import plot_indices
from ._table import FigureTable
from .registry import FigureContext, register
from ..theory import BoundConstants, gradient_variance, sfo_bound, stage_schedule

SCHEDULERS = ("(i) constant b, cosine η", "(ii) growing b, cosine η", "(iii) growing b and η",
              "(iv) growing b, warm-up + cosine η")
STYLE = {SCHEDULERS[0]: ("C0", "-"), SCHEDULERS[1]: ("C1", "--"), SCHEDULERS[2]: ("C2", "-"),
         SCHEDULERS[3]: ("C3", "-.")}
#: The released configurations (json/const_bs_decay_lr/cosine.json, json/incr_bs_decay_lr/cosine.json,
#: json/incr_bs_incr_lr/doubly_incr_lr_max0.2.json, json/incr_bs_warmup_lr/warmup_cosine_lr_max0.2.json).
LR0, LR_MAX, CONSTANT_BATCH, BATCH0, BATCH_MAX, DELTA, STAGES = 0.1, 0.2, 128, 8, 1024, 2.0, 10


def _cosine(lr_max: float, epochs: int) -> list[float]:
    """``CosineAnnealingLR(T_max=epochs)`` to 0, stepped once per epoch (epoch ``e`` of ``epochs``)."""
    return [lr_max * (1 + math.cos(math.pi * e / epochs)) / 2 for e in range(epochs)]


def released_batch(epoch: int, interval: int, epochs: int) -> int:
    """The release's affine-exponential batch of ``epoch``: ``min(⌈a δ^⌊e/I⌋ + b₀ − a⌉, b_max)``."""
    a = (BATCH_MAX - BATCH0) / (DELTA ** ((epochs - interval) / interval) - 1)
    return min(math.ceil(a * DELTA ** (epoch // interval) + BATCH0 - a), BATCH_MAX)


def scheduler_values(stage_epochs: int) -> dict[str, tuple[list[float], list[int]]]:
    """Per-epoch ``(η, b)`` of the four schedulers: :data:`STAGES` stages of ``stage_epochs`` epochs."""
    epochs, interval = STAGES * stage_epochs, stage_epochs
    grown = [released_batch(e, interval, epochs) for e in range(epochs)]
    gamma = (LR_MAX / LR0) ** (interval / (epochs - interval))
    growing = [LR0 * min(gamma ** (e // interval), LR_MAX / LR0) for e in range(epochs)]
    warmup, step = interval, interval // 10                     # the release: 30 epochs, every 3
    gamma_w = (LR_MAX / LR0) ** (step / (warmup - step))
    warm = [LR0 * min(gamma_w ** (e // step), LR_MAX / LR0) for e in range(warmup)] + _cosine(LR_MAX, epochs - warmup)
    return {
        SCHEDULERS[0]: (_cosine(LR0, epochs), [CONSTANT_BATCH] * epochs),
        SCHEDULERS[1]: (_cosine(LR0, epochs), grown),
        SCHEDULERS[2]: (growing, grown),
        SCHEDULERS[3]: (warm, grown),
    }


def data(ctx: FigureContext) -> FigureTable:
    """The four schedulers' exact runs and bounds; one row per plotted step.

    Parameters
    ----------
    ctx : FigureContext
        ``quick`` sets the dimension, the epoch size and the stage length.

    Returns
    -------
    FigureTable
        Per-epoch rows ``scheduler, curve = "per epoch", epoch, lr, batch`` (the values set for epoch ``e``), then
        per-step rows ``scheduler, curve = "per step", step, epoch, samples, grad_sq, running_min, bound`` (after
        that step; ``bound`` is ``inf`` at step 0); the summary holds the
        problem, the schedulers, each one's final and best ``E‖∇f‖²``, steps and the bound's constants.
    """
    d, n, stage_epochs = (60, 2000, 10) if ctx.quick else (400, 50000, 10)
    stages = STAGES
    problem, problem_summary = paper_problem(d)
    values = scheduler_values(stage_epochs)
    schedules = [stage_schedule(lr, b, stage_epochs=1, dataset_size=n, integer_batch=True, epoch_remainder="partial",
                                label=name) for name, (lr, b) in values.items()]
    curves = gradient_norm_curves(problem, schedules)
    # σ² of the bound: the largest one-sample gradient variance V(s) met along the runs (V at every step from
    # G_t − E‖∇f‖² = V/b_t), so that E V ≤ σ² holds along every run and the bound's proof applies.
    sigma2 = max(float(gradient_variance(problem, problem.initial_second_moment)),
                 *(float(np.max(c["gradient_variance"])) for c in curves))
    constants = BoundConstants(problem.largest_eigenvalue, sigma2, problem.initial_risk)
    rows, summary = [], {}
    for name, schedule, c in zip(values, schedules, curves):
        bound = np.concatenate([[np.inf], sfo_bound(schedule, constants)])
        running = np.minimum.accumulate(c["grad_sq"])
        epochs = c["samples"] / n
        rows.extend({"scheduler": name, "curve": "per epoch", "epoch": e, "lr": lr_e, "batch": b_e}
                    for e, (lr_e, b_e) in enumerate(zip(*values[name])))
        for t in plot_indices(len(c["steps"]), 300, always=np.array([len(c["steps"]) - 1])):
            rows.append({"scheduler": name, "curve": "per step", "step": int(c["steps"][t]), "epoch": float(epochs[t]),
                         "samples": float(c["samples"][t]), "grad_sq": float(c["grad_sq"][t]),
                         "running_min": float(running[t]), "bound": float(bound[t])})
        finite = np.isfinite(bound)
        summary[name] = {"steps": len(schedule), "samples": int(schedule.total_samples),
                         "final_grad_sq": float(c["grad_sq"][-1]), "best_grad_sq": float(running[-1]),
                         "final_bound": float(bound[-1]),
                         "bound_over_exact_min": float(np.min(bound[finite] / running[finite])),
                         "max_lr": float(np.max(c["lr"])), "max_batch": float(np.max(c["batch"]))}
    order = sorted(values, key=lambda k: summary[k]["final_grad_sq"])
    growing_both = summary[SCHEDULERS[2]]["final_grad_sq"], summary[SCHEDULERS[3]]["final_grad_sq"]
    constant_b = summary[SCHEDULERS[0]]["final_grad_sq"], summary[SCHEDULERS[1]]["final_grad_sq"]
    holds = min(v["bound_over_exact_min"] for v in summary.values())
    claim = {
        "statement": (f"growing the batch and the learning rate ((iii), (iv)) ends at E‖∇f‖² = "
                      f"{growing_both[0]:.3g} and {growing_both[1]:.3g}, against {constant_b[0]:.3g} (i) and "
                      f"{constant_b[1]:.3g} (ii) after {stages * stage_epochs} epochs, in "
                      f"{summary[SCHEDULERS[2]]['steps']} steps against (i)'s {summary[SCHEDULERS[0]]['steps']}; "
                      f"the master bound holds (≥ {holds:.3g}× the exact minimum)"),
        "steps": [summary[k]["steps"] for k in SCHEDULERS],
        "final_grad_sq": [summary[k]["final_grad_sq"] for k in SCHEDULERS],
        "bound_over_exact_min": holds,
        "ranking": order,
    }
    return FigureTable(rows, {
        "problem": problem_summary,
        "epoch_samples": n, "stages": stages, "stage_epochs": stage_epochs,
        "schedulers": {"lr0": LR0, "lr_max": LR_MAX, "constant_batch": CONSTANT_BATCH, "batch0": BATCH0,
                       "batch_max": BATCH_MAX, "delta": DELTA, "lr_per": "epoch", "epoch_remainder": "partial",
                       "warmup_epochs": stage_epochs, "warmup_interval": stage_epochs // 10,
                       "source": "hikarumeda1030/incr_both_bs_lr @1f17699 (cifar100.py, json/)"},
        "bound": {"convention": "general", "smoothness": constants.smoothness,
                  "gradient_variance": constants.gradient_variance, "initial_gap": constants.initial_gap},
        "runs": summary,
        "claim": claim,
        "paper_counterpart": {
            "paper": "Umeda & Iiduka, Increasing Both Batch Size and Learning Rate Accelerates SGD, arXiv 2409.08770",
            "figure": ("the numerical-results figures: learning rate and batch size against epochs for schedulers "
                       "(i)–(iv) and the full-gradient norm of the empirical loss against epochs"),
            "differs": (MODEL_DIFFERENCE + f"; sizes: d = {d}, n = {n} samples per epoch (the paper: 50 000), "
                        f"{stages} stages of {stage_epochs} epochs (the paper: 30, 300 epochs); the release's constants "
                        "otherwise (constant batch 128; batches 8 → 1024 by its affine-exponential growth; η 0.1, "
                        "η_max 0.2; cosine to 0; warm-up over the first stage every tenth of it); the bound is drawn "
                        "with computed constants (L = λ₁, Δ = R(w₀), σ² = the largest one-sample variance along the "
                        "runs), which the paper does not plot"),
        },
    })


def draw(table: FigureTable) -> Figure:
    """``η`` and ``b`` against epochs, and ``E‖∇f‖²`` with the bound against epochs, per scheduler.

    Parameters
    ----------
    table : FigureTable
        As :func:`data` returns it.

    Returns
    -------
    matplotlib.figure.Figure
    """
    return panel_row(table, _panels, f"{paper_setting(table.summary, epochs=True)} (arXiv 2409.08770's four "
                     "schedulers)")


def _panels(table: FigureTable, axes: np.ndarray) -> None:
    """:func:`draw`'s panels: ``η``, ``b`` and ``E‖∇f‖²`` with the bound against epochs, per scheduler."""
    for name, (color, ls) in STYLE.items():
        per_epoch = table.select(scheduler=name, curve="per epoch")
        curve = table.select(scheduler=name, curve="per step")
        for ax, col in ((axes[0], "lr"), (axes[1], "batch")):
            epoch_steps(ax, per_epoch, col, color=color, ls=ls, label=name)
            ax.set_yscale("log")
        e = curve.column("epoch")
        axes[2].semilogy(e, curve.column("running_min"), color=color, ls=ls, label=f"{name}: exact")
        bound = curve.column("bound")
        ok = np.isfinite(bound)
        axes[2].semilogy(e[ok], bound[ok], color=color, ls=":", lw=1, label=f"{name}: bound")
    steps = table.select(curve="per step")
    bound = steps.column("bound")
    axes[2].set_ylim(steps.column("running_min").min() / 3, bound[np.isfinite(bound)].max() * 2)
    axes[0].set(xlabel="epoch", ylabel="learning rate η", title="learning rate (set per epoch)")
    axes[1].set_ylim(top=table.column("batch", 1.0).max() * 4)
    axes[1].set(xlabel="epoch", ylabel="batch size b", title="batch size")
    axes[2].set(xlabel="epoch", ylabel=r"$\min_{t'\leq t}\,E\|\nabla f\|^2$",
                title="full-gradient norm: exact (solid), master bound (dotted)")


register("batch_lr_schedulers", "arXiv 2409.08770's four schedulers (constant/growing batch, decaying/growing "
                                "rate): exact full-gradient norm beside the master bound", data, draw)
