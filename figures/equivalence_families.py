"""Seesaw's equivalence families on a power-law problem: SGD ``αβ = 2`` and NSGD ``α√β = 2``.

Top row: SGD, five members of ``αβ = 2`` (from learning-rate halving ``(2, 1)`` to batch doubling
``(1, 2)``). Bottom row: NSGD with the expected denominator, the five released ``(α, β)`` pairs of
``α√β = 2`` (docs/math.md#equivalence); the last two violate ``α ≥ √β``. Phases of equal samples; risk against
samples (left: the members should coincide) and against serial steps (right: the ramps finish
sooner). The JSON records the worst pairwise ratio at matched samples within each family and the
largest mean/variance gradient ratio (the variance-dominated check for NSGD).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ._seesaw_setup import max_stable_lr, nsgd_peak_lr, plot_indices
from ._layout import finish
from ._table import FigureTable, with_claim
from .registry import FigureContext, register
from ..theory import (
    RELEASED_ALPHA_BETA,
    Problem,
    equivalence_report,
    family_member,
    phase_schedule,
    satisfies_ramp_bound,
)

#: The paper figure this figure redraws and what differs (its JSON's ``paper_counterpart``; "none" if none).
PAPER_COUNTERPART = {
    "paper": "Meterez et al., Seesaw, arXiv 2510.14717",
    "figure": ("Figure 2: the released (α, β) runs of the family α√β = 2 (NSGD's invariant, Corollary 1), loss against "
               "tokens and against steps"),
    "differs": ("model: noisy linear regression with exact NSGD (expected denominator), not language models with "
                "AdamW; the SGD family αβ = 2 (Theorem 1) is added as a top row; phases of equal samples"),
}


SGD_PS = (0.0, 0.25, 0.5, 0.75, 1.0)  # αβ = 2: β = 2^p, α = 2^{1−p}


def _pair_label(alpha: float, beta: float) -> str:
    return f"(α, β) = ({alpha:.3g}, {beta:.3g})"


def data(ctx: FigureContext) -> FigureTable:
    """Both families on the exact solver; one row per plotted point of every member.

    Parameters
    ----------
    ctx : FigureContext
        ``quick`` sets the problem size, the phase length and the points drawn per curve.

    Returns
    -------
    FigureTable
        Rows ``optimizer, series, alpha, beta, step, samples, risk``; the summary holds the
        problem, the phases, and per family its pairs, serial steps, ratios and final risks.
    """
    d, phase, n_phases = (100, 2000.0, 5) if ctx.quick else (1000, 20000.0, 5)
    a, b, sigma2, batch0 = 1.5, 2.0, 1.0, 4
    problem = Problem.power_law(d, a, b, sigma2)
    phases = [phase] * n_phases
    sgd_lr0 = 0.5 * max_stable_lr(problem, batch0)
    nsgd_lr0 = nsgd_peak_lr(problem, batch0, 0.5)

    sgd_pairs = [family_member(2.0, p=p, optimizer="sgd") for p in SGD_PS]
    sgd = [phase_schedule(sgd_lr0, batch0, al, be, phases, label=_pair_label(al, be)) for al, be in sgd_pairs]
    nsgd = [phase_schedule(nsgd_lr0, batch0, al, be, phases, label=_pair_label(al, be))
            for al, be in RELEASED_ALPHA_BETA]
    sgd_rep = equivalence_report(problem, sgd, "sgd")
    nsgd_rep = equivalence_report(problem, nsgd, "nsgd", on_divergence="flag")

    rows = []
    for name, rep, pairs in (("SGD", sgd_rep, sgd_pairs), ("NSGD", nsgd_rep, list(RELEASED_ALPHA_BETA))):
        for traj, (alpha, beta) in zip(rep.trajectories, pairs):
            n = len(traj.risk)
            idx = plot_indices(n, 400 if ctx.quick else 1500)[1:]
            finite = np.isfinite(traj.risk[idx])
            idx = idx[finite]
            for i in idx:
                rows.append({"optimizer": name.lower(), "series": traj.schedule.label, "alpha": alpha,
                             "beta": beta, "step": int(traj.steps[i]), "samples": float(traj.samples[i]),
                             "risk": float(traj.risk[i])})

    stable = [i for i, ab in enumerate(RELEASED_ALPHA_BETA) if satisfies_ramp_bound(*ab)]
    nsgd_stable_worst = float(np.max(nsgd_rep.max_ratio[np.ix_(stable, stable)]))
    return with_claim(FigureTable(rows, {
        "problem": {"d": d, "a": a, "b": b, "noise_variance": sigma2},
        "batch0": batch0, "phase_samples": phases,
        "sgd": {"lr0": sgd_lr0, "pairs": sgd_pairs, "serial_steps": list(sgd_rep.serial_steps),
                "worst_ratio": sgd_rep.worst_ratio,
                "final_risk": [t.final_risk for t in sgd_rep.trajectories],
                "labels": [t.schedule.label for t in sgd_rep.trajectories]},
        "nsgd": {"lr0": nsgd_lr0, "pairs": list(RELEASED_ALPHA_BETA),
                 "serial_steps": list(nsgd_rep.serial_steps),
                 "worst_ratio_within_alpha_ge_sqrt_beta": nsgd_stable_worst,
                 "ratio_to_lr_halving": nsgd_rep.max_ratio[0].tolist(),
                 "max_mean_variance_ratio": nsgd_rep.max_mean_variance_ratio.tolist(),
                 "diverged_at": [t.diverged_at for t in nsgd_rep.trajectories],
                 "final_risk": [t.final_risk for t in nsgd_rep.trajectories],
                 "labels": [t.schedule.label for t in nsgd_rep.trajectories],
                 "alpha_ge_sqrt_beta": [satisfies_ramp_bound(*ab) for ab in RELEASED_ALPHA_BETA]},
    }), _claim, PAPER_COUNTERPART)


def _claim(summary: dict) -> dict:
    """The figure's claim in words, with the numbers that support it (from the summary)."""
    sgd, nsgd = summary["sgd"], summary["nsgd"]
    return {"statement": (f"at matched samples the SGD αβ = 2 family stays within ×{sgd['worst_ratio']:.3g} of the "
                          f"LR-halving member and the NSGD α√β = 2 family (α ≥ √β) within "
                          f"×{nsgd['worst_ratio_within_alpha_ge_sqrt_beta']:.3g}, while serial steps fall from "
                          f"{sgd['serial_steps'][0]} to {sgd['serial_steps'][-1]} (SGD)"),
            "sgd_worst_ratio": sgd["worst_ratio"],
            "nsgd_worst_ratio_alpha_ge_sqrt_beta": nsgd["worst_ratio_within_alpha_ge_sqrt_beta"]}


def draw(table: FigureTable) -> Figure:
    """Risk against samples (left) and serial steps (right); SGD on top, NSGD below.

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
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5), sharey="row")
    boundaries = np.cumsum(summary["phase_samples"])[:-1]
    for r, name in enumerate(("SGD", "NSGD")):
        ax_s, ax_t = axes[r]
        info = summary[name.lower()]
        solid = info.get("alpha_ge_sqrt_beta", [True] * len(info["labels"]))
        for label, steps, ok in zip(info["labels"], info["serial_steps"], solid):
            curve = table.select(optimizer=name.lower(), series=label)
            style = "-" if ok else "--"
            ax_s.semilogy(curve.column("samples"), curve.column("risk"), style,
                          label=label + ("" if ok else " (α < √β)"), lw=1.2)
            ax_t.semilogy(curve.column("step"), curve.column("risk"), style, lw=1.2, label=f"{steps} steps")
        for x in boundaries:
            ax_s.axvline(x, color="0.85", lw=0.8, zorder=0)
        ax_s.set(xlabel="samples", ylabel="excess risk",
                 title=f"{name}: {'αβ' if name == 'SGD' else 'α√β'} = 2 at matched samples")
        ax_t.set(xlabel="serial steps", title=f"{name}: in serial steps")
        legends.append((ax_s, dict(fontsize=7)))
        legends.append((ax_t, dict(fontsize=7)))
    p = summary["problem"]
    phases = summary["phase_samples"]
    fig.suptitle(f"power law d={p['d']}, a={p['a']}, b={p['b']}, σ²={p['noise_variance']}, B₀={summary['batch0']}, "
                 f"{len(phases)} phases of {phases[0]:g} samples")
    finish(fig, *legends, claim=table.summary["claim"]["statement"])
    return fig


register("equivalence_families", "SGD αβ = 2 and NSGD α√β = 2 families (released pairs), vs samples and steps",
         data, draw)
