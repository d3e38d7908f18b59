"""Serial steps against risk at fixed samples: the optimal frontier and the named schedules.

For one power-law problem and one sample budget ``N``, every point of the frontier is the exact optimum
of :func:`ramplab.theory.optimal_schedule` (``K`` segments of free learning rate and batch size, exactly
``N`` samples in exactly ``S`` serial steps; docs/math.md#optimal-schedules), one sweep task per budget
(``ramplab figures --executor dask`` runs them on Dask). The named schedules of
:func:`ramplab.theory.named_schedules` — constant, step decay, cosine, WSD, Seesaw of the cosine for
several ``f``, αβ / α√β family members, the ``δ = γ²`` growth schedule, a linear-scaling ramp — run at the
same ``N`` with their peak learning rate tuned on a grid, and each is compared with the optimum at its own
serial steps. The second and third panels show the optimal schedules' ``η`` and ``B`` against samples.

No paper figure corresponds; Seesaw (arXiv 2510.14717) argues its ramp approaches the serial-step limit its
analysis implies — this figure measures how far each schedule is from the best ramp with its serial steps.
"""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ._layout import finish
from ._table import FigureTable
from .registry import FigureContext, register
from ..theory import Problem, UnstableScheduleWarning, expected_risk, max_stable_lr, named_schedules, optimal_schedule

PROBLEM = {"a": 1.5, "b": 1.0, "noise_variance": 0.5}


def frontier_point(spec: dict) -> dict:
    """One budget of the frontier (a sweep task): :func:`optimal_schedule` on the spec's problem.

    Parameters
    ----------
    spec : dict
        ``eigenvalues``, ``initial_second_moment`` (arrays), ``noise_variance``, ``samples``,
        ``serial_steps``, ``segments``.

    Returns
    -------
    dict
        ``objective`` (continuous), ``rounded_objective``, ``converged``, ``nit``, and the arrays ``lr``,
        ``batch``, ``steps`` of the continuous optimum's segments.
    """
    problem = Problem(spec["eigenvalues"], spec["initial_second_moment"], noise_variance=spec["noise_variance"])
    opt = optimal_schedule(problem, spec["samples"], spec["serial_steps"], segments=spec["segments"])
    return {"objective": opt.continuous_objective, "rounded_objective": opt.objective,
            "converged": opt.converged, "nit": opt.nit,
            "lr": np.array(opt.lr), "batch": np.array(opt.batch), "steps": np.array(opt.steps)}


def data(ctx: FigureContext) -> FigureTable:
    """The frontier at a grid of budgets and at every named schedule's serial steps, and the named schedules.

    Parameters
    ----------
    ctx : FigureContext
        ``quick`` sets the dimension, samples, segments and grids; its sweep executor and cache run one task
        per budget.

    Returns
    -------
    FigureTable
        Rows ``kind`` = ``"frontier"`` (``serial_steps, objective, rounded_objective, converged``),
        ``"named"`` (``series, serial_steps, objective, peak_lr, frontier_objective, relative``) and
        ``"segment"`` (``serial_steps, segment, samples_start, samples_end, lr, batch``: every optimal
        schedule's segments). The summary holds the setting, each named schedule's serial steps and objective
        relative to the frontier at those steps, and the claim.
    """
    d, samples, batch0, segments, n_peaks = (24, 1024, 8.0, 8, 7) if ctx.quick else (400, 2**16, 32.0, 32, 17)
    problem = Problem.power_law(d, **PROBLEM)
    edge = max_stable_lr(problem, batch0)
    peaks = np.geomspace(edge / 32, edge, n_peaks)

    # The named schedules, each at its best peak on the grid (all at exactly `samples` samples).
    named: dict[str, tuple[float, float, int]] = {}
    for peak in peaks:
        schedules = named_schedules(samples, batch0, float(peak))
        with warnings.catch_warnings():  # the peak grid crosses the stability edge on purpose
            warnings.simplefilter("ignore", UnstableScheduleWarning)
            risks = expected_risk(problem, list(schedules.values()), on_divergence="flag", progress=False)
        for (label, sched), traj in zip(schedules.items(), risks):
            risk = float(traj.risk[-1])
            if np.isfinite(risk) and (label not in named or risk < named[label][0]):
                named[label] = (risk, float(peak), sched.serial_steps)

    grid = np.unique(np.geomspace(1, samples / batch0, 6 if ctx.quick else 13).round().astype(int))
    budgets = sorted(set(grid.tolist()) | {s for _, _, s in named.values()})
    base = {"eigenvalues": problem.eigenvalues, "initial_second_moment": problem.initial_second_moment,
            "noise_variance": float(problem.noise_variance), "samples": float(samples), "segments": segments}
    swept = ctx.sweep(frontier_point, [dict(base, serial_steps=int(s)) for s in budgets])
    best = dict(zip(budgets, swept.table["objective"].tolist()))

    rows = []
    for s, row, curves in zip(budgets, swept.table.itertuples(index=False), swept.curves):
        rows.append({"kind": "frontier", "series": "optimal frontier", "serial_steps": int(s),
                     "objective": float(row.objective), "rounded_objective": float(row.rounded_objective),
                     "converged": bool(row.converged)})
        edges = np.concatenate([[0.0], np.cumsum(curves["steps"] * curves["batch"])])
        for k, (lr, b) in enumerate(zip(curves["lr"], curves["batch"])):
            rows.append({"kind": "segment", "series": f"optimal S={s}", "serial_steps": int(s), "segment": k,
                         "samples_start": float(edges[k]), "samples_end": float(edges[k + 1]),
                         "lr": float(lr), "batch": float(b)})
    relative = {}
    for label, (risk, peak, steps) in named.items():
        rel = risk / best[steps]
        relative[label] = {"serial_steps": int(steps), "objective": risk, "frontier_objective": best[steps],
                           "relative_to_frontier": rel, "peak_lr": peak}
        rows.append({"kind": "named", "series": label, "serial_steps": int(steps), "objective": risk,
                     "peak_lr": peak, "frontier_objective": best[steps], "relative": rel})
    summary = {
        "problem": {"d": d, **PROBLEM}, "samples": samples, "initial_batch": batch0, "segments": segments,
        "peak_grid": [float(p) for p in peaks],
        "frontier": {"serial_steps": [int(s) for s in budgets], "objective": [best[s] for s in budgets]},
        "named": relative,
        "all_converged": bool(all(r["converged"] for r in rows if r["kind"] == "frontier")),
        "paper_counterpart": "none",
        "related_paper": "Seesaw (arXiv 2510.14717): this figure measures its distance to the best ramp at its serial steps",
    }
    summary["claim"] = _claim(summary)
    return FigureTable(rows, summary)


def _claim(summary: dict) -> dict:
    """The figure's claim in words, with the numbers that support it (from the summary)."""
    named = summary["named"]
    seesaw = {k: v["relative_to_frontier"] for k, v in named.items() if k.startswith("Seesaw")}
    best_label = min(seesaw, key=seesaw.get)
    worst = max(v["relative_to_frontier"] for v in named.values())
    return {"statement": (f"every named schedule lies above the optimal frontier: {best_label} is ×{seesaw[best_label]:.3g} "
                          f"the best risk with its {named[best_label]['serial_steps']} serial steps, the worst ×{worst:.3g}"),
            "seesaw_best_relative": seesaw[best_label], "worst_relative": worst,
            "min_relative": min(v["relative_to_frontier"] for v in named.values())}


def draw(table: FigureTable) -> Figure:
    """Risk against serial steps (frontier and named schedules), and the optimal ``η`` and ``B`` against samples.

    Parameters
    ----------
    table : FigureTable
        As :func:`data` returns it.

    Returns
    -------
    matplotlib.figure.Figure
    """
    summary = table.summary
    fig, (ax_f, ax_lr, ax_b) = plt.subplots(1, 3, figsize=(15, 4.6))
    front = table.select(kind="frontier")
    ax_f.loglog(front.column("serial_steps"), front.column("objective"), "k-o", ms=3, label="optimal frontier")
    markers = "osD^v<>ph*XP"
    named = table.select(kind="named")
    for i, label in enumerate(named.column("series")):
        row = named.select(series=label)
        ax_f.loglog(row.column("serial_steps"), row.column("objective"), markers[i % len(markers)], ms=6,
                    color=plt.cm.tab20(i / 12), label=label)
    ax_f.set(xlabel="serial steps", ylabel="final excess risk", title=f"at N = {summary['samples']} samples")
    seg = table.select(kind="segment")
    budgets = sorted(set(seg.column("serial_steps").tolist()))
    shown = [budgets[i] for i in np.unique(np.linspace(min(2, len(budgets) - 1), len(budgets) - 1, 4).round().astype(int))]
    for j, s in enumerate(shown):
        rows = seg.select(serial_steps=s)
        x = np.concatenate([rows.column("samples_start"), rows.column("samples_end")[-1:]])
        color = plt.cm.viridis(j / max(1, len(shown) - 1))
        ax_lr.stairs(rows.column("lr"), x, baseline=None, color=color, label=f"S = {s}")
        ax_b.stairs(rows.column("batch"), x, baseline=None, color=color, label=f"S = {s}")
    ax_lr.set(xlabel="samples", ylabel="learning rate η", yscale="log", title="optimal learning rate")
    ax_b.set(xlabel="samples", ylabel="batch size B", yscale="log", title="optimal batch size")
    fig.suptitle(f"SGD, power law d={summary['problem']['d']}, a=1.5, b=1, σ²=0.5, {summary['segments']} segments, "
                 f"B₀={summary['initial_batch']:g}")
    finish(fig, (ax_f, dict(fontsize=7)), (ax_lr, dict(fontsize=8)), (ax_b, dict(fontsize=8)),
           claim=summary["claim"]["statement"])
    return fig


register("optimal_frontier", "serial steps vs risk at fixed samples: the optimal frontier and the named schedules",
         data, draw)
