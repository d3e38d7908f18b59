"""Steps K(b) and SFO N(b) to ε at constant (η, b): the worst-case bound beside the exact solver.

Noisy linear regression makes every constant of the Iiduka-line bound computable (``L = λ_1``,
``Δ = R(w_0)``, ``σ²`` the variance of a one-sample gradient), so the bound's ``K(b)``, ``N(b)`` and
critical batch size ``b* = 2C₂/ε²`` sit beside the measured steps and samples until
``E‖∇f‖² = Σλ²s ≤ ε²`` (norm convention). ``σ²`` is shown two ways: at the optimum (``σ_y² tr H``,
the noise near the target; not a bound along the whole run) and at the start (``V(s(0))``, the sup
along these trajectories). What agrees and what does not is written into the JSON and the caption.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from ._layout import finish
from ._table import FigureTable, with_claim
from .registry import FigureContext, register
from ..theory import BoundConstants, Problem, bound_critical_batch, bound_steps, critical_batch

#: The paper figure this figure redraws and what differs (its JSON's ``paper_counterpart``; "none" if none).
PAPER_COUNTERPART = {
    "paper": ("Umeda & Iiduka, arXiv 2409.08770 and 2508.05297 (the Iiduka line's constant-(η, b) analysis of the "
              "critical batch size)"),
    "figure": ("the steps K(b) and SFO N(b) to reach ε against the batch size, with the critical batch size at the "
               "SFO minimum"),
    "differs": ("model: noisy linear regression, where the bound's constants (L, Δ, σ²) are computed and the steps "
                "and SFO are measured exactly, not estimated from training runs of a network; constants as named "
                "conventions (docs/math.md#master-bound)"),
}


PROBLEM = {"a": 1.5, "b": 1.0, "noise_variance": 0.5}


def _slope(x: list[float], y: list[float]) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def critical_batch_row(spec: dict) -> dict:
    """One η of the figure (a sweep task): measured K(b), N(b) on the batch grid and the bound's.

    ``spec``: ``d``, ``a``, ``b``, ``noise_variance`` (the power-law problem), ``eta``, ``epsilon``
    and ``batch_grid = [first, last, points]`` (geometric). Scalars go to the sweep's table, arrays
    (one entry per batch of the grid) to its curves.
    """
    problem = Problem.power_law(spec["d"], a=spec["a"], b=spec["b"], noise_variance=spec["noise_variance"])
    lo, hi, n = spec["batch_grid"]
    cb = critical_batch(problem, spec["eta"], spec["epsilon"], np.geomspace(lo, hi, n), variance="optimum")
    return {
        "critical_batch": cb.critical_batch, "bound_critical_batch": cb.bound_critical_batch,
        "interior": bool(cb.interior), "convex": bool(cb.convex),
        "smoothness": cb.constants.smoothness, "initial_gap": cb.constants.initial_gap,
        "gradient_variance": cb.constants.gradient_variance,
        "steps": cb.steps, "sfo": cb.sfo, "status": cb.hitting.status.astype(str),
        "reached": cb.hitting.reached, "hitting_steps": cb.hitting.steps, "bound_steps": cb.bound_steps,
        "bound_sfo": cb.bound_sfo, "bound_holds": cb.bound_holds,
        "trajectory_bound_steps": cb.trajectory_bound_steps,
    }


def data(ctx: FigureContext) -> FigureTable:
    """Measured and bound ``K(b)``, ``N(b)`` at every η of the sweep, and the critical batches against η.

    Parameters
    ----------
    ctx : FigureContext
        ``quick`` sets the problem size, the batch grid, the rates and ε; its sweep executor and
        cache run one task per η.

    Returns
    -------
    FigureTable
        Rows ``eta, batch, series, steps, sfo[, status]`` for the series ``measured``, ``bound σ² at
        optimum`` and ``bound σ² initial``, then rows ``series = "critical batch vs eta", eta,
        measured, bound_sigma2_optimum, bound_sigma2_initial``; the summary holds the constants, the
        per-η comparisons, the agreements and disagreements and the caption.
    """
    if ctx.quick:
        d, n_grid, etas, eps, main_eta = 50, 25, (0.1, 0.2, 0.4), 0.05, 0.2
    else:
        d, n_grid, etas, eps, main_eta = 200, 49, (0.05, 0.1, 0.2, 0.4, 0.8), 0.03, 0.2
    problem = Problem.power_law(d, **PROBLEM)
    grid = np.geomspace(1.0, 2.0**15, n_grid)
    initial = BoundConstants.from_problem(problem, "initial")
    swept = ctx.sweep(critical_batch_row, [{"d": d, **PROBLEM, "eta": eta, "epsilon": eps,
                                            "batch_grid": [1.0, 2.0**15, n_grid]} for eta in etas])

    per_eta, rows = {}, []
    results = {}
    for eta, row, cb in zip(etas, swept.table.itertuples(), swept.curves):
        constants = BoundConstants(row.smoothness, row.gradient_variance, row.initial_gap)
        results[eta] = (row, cb, constants)
        reached = cb["reached"]
        k_init = bound_steps(initial, eta, grid, eps)
        traj_ok = bool(np.all(cb["hitting_steps"][reached] <= cb["trajectory_bound_steps"][reached]))
        i = int(np.argmin(np.where(reached, cb["sfo"], np.inf)))
        per_eta[f"{eta:g}"] = {
            "critical_batch_measured": row.critical_batch,
            "critical_batch_bound_sigma2_optimum": row.bound_critical_batch,
            "critical_batch_bound_sigma2_initial": bound_critical_batch(initial, eta, eps),
            "ratio_measured_over_bound_optimum": row.critical_batch / row.bound_critical_batch,
            "measured_minimum_interior": row.interior,
            "measured_sfo_convex_on_grid": row.convex,
            "measured_min_sfo": float(cb["sfo"][i]),
            "bound_min_sfo_sigma2_optimum": float(np.min(cb["bound_sfo"])),
            "measured_steps_at_measured_critical": float(cb["steps"][i]),
            "bound_steps_at_bound_critical_sigma2_optimum": float(
                bound_steps(constants, eta, row.bound_critical_batch, eps)),
            "bound_sigma2_optimum_holds_fraction": float(np.mean(cb["bound_holds"][reached])),
            "bound_with_trajectory_sigma2_holds": traj_ok,
            "bound_sigma2_initial_holds": bool(np.all(cb["hitting_steps"][reached] <= k_init[reached])),
            "first_reachable_batch": float(grid[reached][0]),
        }
        for j, b in enumerate(grid):
            base = {"eta": eta, "batch": float(b)}
            rows.append({**base, "series": "measured", "steps": float(cb["steps"][j]), "sfo": float(cb["sfo"][j]),
                         "status": str(cb["status"][j])})
            rows.append({**base, "series": "bound σ² at optimum", "steps": float(cb["bound_steps"][j]),
                         "sfo": float(cb["bound_sfo"][j])})
            rows.append({**base, "series": "bound σ² initial", "steps": float(k_init[j]),
                         "sfo": float(b * k_init[j])})

    crit_meas = [per_eta[f"{e:g}"]["critical_batch_measured"] for e in etas]
    crit_opt = [per_eta[f"{e:g}"]["critical_batch_bound_sigma2_optimum"] for e in etas]
    crit_init = [per_eta[f"{e:g}"]["critical_batch_bound_sigma2_initial"] for e in etas]
    for e, m, o, n in zip(etas, crit_meas, crit_opt, crit_init):
        rows.append({"series": "critical batch vs eta", "eta": e, "measured": m, "bound_sigma2_optimum": o,
                     "bound_sigma2_initial": n})

    main_constants = results[main_eta][2]
    slope_meas, slope_bound = _slope(list(etas), crit_meas), _slope(list(etas), crit_opt)
    ratios = [m / o for m, o in zip(crit_meas, crit_opt)]
    k_gap = [per_eta[f"{e:g}"]["bound_steps_at_bound_critical_sigma2_optimum"]
             / per_eta[f"{e:g}"]["measured_steps_at_measured_critical"] for e in etas]
    n_gap = [per_eta[f"{e:g}"]["bound_min_sfo_sigma2_optimum"] / per_eta[f"{e:g}"]["measured_min_sfo"]
             for e in etas]
    disagreements = [
        f"the measured critical batch is {min(ratios):.2f}–{max(ratios):.2f} × the bound's 2C₂/ε² "
        "(σ² at the optimum); with σ² at the start the bound's is far larger",
        f"steps at the critical batch: the bound asks {min(k_gap):.0f}–{max(k_gap):.0f} × more than measured "
        "(worst-case non-convex rate against a quadratic)",
        f"minimum SFO: the bound's is {min(n_gap):.0f}–{max(n_gap):.0f} × the measured one",
    ]
    if not all(per_eta[f"{e:g}"]["bound_sigma2_optimum_holds_fraction"] == 1.0 for e in etas):
        disagreements.append("with σ² at the optimum the bound is violated at some batches: that σ² "
                             "underestimates the gradient noise early in the run")
    caption = (f"Agree: measured N(b) is convex with an interior minimum; both critical batches grow ≈ ∝ η "
               f"(log-log slopes {slope_meas:.2f} measured, {slope_bound:.2f} bound). "
               f"Disagree: {disagreements[0]}; {disagreements[1]}.")
    return with_claim(FigureTable(rows, {
        "problem": {"family": "power_law", "d": d, **PROBLEM},
        "epsilon": eps,
        "stationarity": "norm: E‖∇f‖² = Σλ²s ≤ ε² (sufficient for min E‖∇f‖ ≤ ε)",
        "convention": "general: A = 2Δ/(2 − Lη), B = Lσ²/(2 − Lη)",
        "constants": {"L": main_constants.smoothness, "Delta": main_constants.initial_gap,
                      "sigma2_optimum": main_constants.gradient_variance,
                      "sigma2_initial": initial.gradient_variance},
        "etas": list(etas),
        "main_eta": main_eta,
        "batch_grid": [float(grid[0]), float(grid[-1]), n_grid],
        "per_eta": per_eta,
        "loglog_slope_critical_batch_vs_eta": {"measured": slope_meas, "bound_sigma2_optimum": slope_bound},
        "agreements": [
            "measured N(b) convex on the grid with an interior minimum at every η"
            if all(v["measured_minimum_interior"] and v["measured_sfo_convex_on_grid"] for v in per_eta.values())
            else "measured N(b) NOT convex/interior at some η (see per_eta)",
            "the master bound with the trajectory's own σ² (sup of the one-sample variance) holds at every batch"
            if all(v["bound_with_trajectory_sigma2_holds"] for v in per_eta.values())
            else "the master bound with the trajectory's σ² FAILS somewhere (see per_eta)",
            f"critical batch grows with η: log-log slope {slope_meas:.2f} measured vs {slope_bound:.2f} bound",
        ],
        "disagreements": disagreements,
        "caption": caption,
    }), _claim, PAPER_COUNTERPART)


def _claim(summary: dict) -> dict:
    """The figure's claim in words, with the numbers that support it (from the summary)."""
    info = summary["per_eta"][f"{summary['main_eta']:g}"]
    return {"statement": (f"at η = {summary['main_eta']} the measured critical batch ({info['critical_batch_measured']:.3g}) "
                          f"is {info['ratio_measured_over_bound_optimum']:.2f}× the bound's (σ² at the optimum: "
                          f"{info['critical_batch_bound_sigma2_optimum']:.3g}); the measured SFO's minimum is "
                          + ("interior to" if info["measured_minimum_interior"] else "at the edge of")
                          + " the batch grid"),
            "critical_batch_measured": info["critical_batch_measured"],
            "ratio_measured_over_bound": info["ratio_measured_over_bound_optimum"]}


def draw(table: FigureTable) -> Figure:
    """``K(b)`` and ``N(b)`` at the main η with the three critical batches, and the critical batches against η.

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
    main_eta, eps = summary["main_eta"], summary["epsilon"]
    info = summary["per_eta"][f"{main_eta:g}"]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    marks = ((info["critical_batch_measured"], "C0", "b* measured"),
             (info["critical_batch_bound_sigma2_optimum"], "C1", "b* bound (σ² opt.)"),
             (info["critical_batch_bound_sigma2_initial"], "C2", "b* bound (σ² init.)"))
    at_main = table.select(eta=main_eta)
    measured = at_main.select(series="measured")
    optimum = at_main.select(series="bound σ² at optimum")
    initial = at_main.select(series="bound σ² initial")
    panels = ((axes[0], "steps", "steps K(b) to ε", "serial steps K(b) to reach ε, per batch size"),
              (axes[1], "sfo", "SFO N(b) = samples to ε", "samples N(b) = b·K(b) to reach ε (SFO), per batch size"))
    for ax, key, label, what in panels:
        ax.loglog(measured.column("batch"), measured.column(key), "o-", ms=3, color="C0",
                  label="measured (exact solver)")
        ax.loglog(optimum.column("batch"), optimum.column(key), "-", color="C1", label="bound, σ² at optimum")
        ax.loglog(initial.column("batch"), initial.column(key), "--", color="C2", label="bound, σ² at start (sup)")
        for x, color, text in marks:
            ax.axvline(x, color=color, ls=":", lw=1.2, label=f"{text} = {x:.3g}")
        ax.set(xlabel="batch size b", ylabel=label, title=f"{what}\n(η = {main_eta}, ε = {eps})")
        legends.append((ax, dict(fontsize=7)))
    crit = table.select(series="critical batch vs eta")
    etas, crit_meas = list(crit.column("eta")), crit.column("measured")
    ax = axes[2]
    ax.loglog(etas, list(crit_meas), "o-", color="C0", label="measured")
    ax.loglog(etas, list(crit.column("bound_sigma2_optimum")), "s-", color="C1", label="bound, σ² at optimum")
    ax.loglog(etas, list(crit.column("bound_sigma2_initial")), "^--", color="C2", label="bound, σ² at start")
    ax.loglog(etas, crit_meas[0] * np.array(etas) / etas[0], ":", color="0.5", label="∝ η")
    ax.set(xlabel="learning rate η", ylabel="critical batch size", title="critical batch size vs η")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(etas, [f"{e:g}" for e in etas])
    legends.append((ax, dict(fontsize=7)))
    p = summary["problem"]
    fig.suptitle(f"SGD on power law d={p['d']}, a={p['a']}, b={p['b']}, σ²={p['noise_variance']}: "
                 "SFO to E‖∇f‖² ≤ ε²", fontsize=11)
    # The footnote sits in a strip kept free at the bottom of the canvas (wrapped by hand, so its
    # height is known before the layout).
    finish(fig, *legends, claim=table.summary["claim"]["statement"], rect=(0, 0.09, 1, 1))
    fig.text(0.5, 0.012, textwrap.fill(summary["caption"], 230), ha="center", va="bottom", fontsize=8)
    return fig


register("sfo_critical_batch", "K(b), N(b) to ε: worst-case bound vs exact measurement; both critical batches",
         data, draw)
