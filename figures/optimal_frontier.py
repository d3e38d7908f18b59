"""Serial steps against risk at fixed samples: the optimal frontier and the named schedules, for SGD, NSGD and
heavy ball.

For one power-law problem, one sample budget ``N`` and each optimizer (SGD; NSGD with the expected
denominator, docs/math.md#normalized-sgd; heavy-ball momentum ``μ = 0.9``, docs/math.md#heavy-ball-momentum), every
point of the frontier is the exact optimum
of :func:`ramplab.theory.optimal_schedule` (``K`` segments of free learning rate and batch size, exactly
``N`` samples in exactly ``S`` serial steps; docs/math.md#optimal-schedules), one sweep task per budget
(``ramplab figures --executor dask`` runs them on Dask). The named schedules of
:func:`ramplab.theory.named_schedules` — constant, step decay, cosine, WSD, Seesaw of the cosine for
several ``f``, αβ / α√β family members, the ``δ = γ²`` growth schedule, a linear-scaling ramp — run at the
same ``N`` with their peak learning rate tuned on a grid, and each is compared with the optimum at its own
serial steps. One row per optimizer: risk against serial steps, then the optimal schedules' ``η`` and ``B``
against samples. NSGD's peak-rate grid is SGD's scaled by ``sqrt(G₀)`` (``G₀ = E‖g₀‖²`` at the initial batch,
:func:`ramplab.theory.gradient_second_moment`): the same first effective step ``η/sqrt(G₀)``; heavy ball's
reaches its own stability edge at the initial batch (:func:`ramplab.theory.max_stable_lr`).

At small serial-step budgets the SGD and heavy-ball frontiers are held by :func:`optimal_schedule`'s default
rate bound (the constant-schedule stability edge at the largest batch), which the best short schedules exceed
for a few steps; NSGD's default bound is looser, so its frontier can lie below SGD's there although NSGD with
one segment per step is an SGD schedule (tests/theory/complexity/test_optimal_default_bounds.py).

No paper figure corresponds; Seesaw (arXiv 2510.14717) argues its ramp approaches the serial-step limit its
analysis implies — this figure measures how far each schedule is from the best ramp with its serial steps.
"""

from __future__ import annotations

import warnings
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ._layout import finish
from ._table import FigureTable
from .registry import FigureContext, register
from ..theory.complexity._optimal import restart_sources
from ..theory import (
    HeavyBall,
    Problem,
    UnstableScheduleWarning,
    expected_risk,
    gradient_second_moment,
    max_stable_lr,
    Schedule,
    named_schedules,
    optimal_schedule,
    stretched_schedule,
)

PROBLEM = {"a": 1.5, "b": 1.0, "noise_variance": 0.5}
#: The optimizers shown, one row each, and their names in the figure.
OPTIMIZERS = {"sgd": "SGD", "nsgd": "NSGD", "momentum": "heavy ball"}
#: Heavy ball's momentum μ (docs/math.md#heavy-ball-momentum).
MOMENTUM = 0.9


def optimizer_spec(name: str) -> Any:
    """The optimizer of a row: ``"sgd"``, ``"nsgd"``, or :class:`~ramplab.theory.HeavyBall` of :data:`MOMENTUM`."""
    return HeavyBall(MOMENTUM) if name == "momentum" else name


def frontier_point(spec: dict) -> dict:
    """One budget of the frontier (a sweep task): :func:`optimal_schedule` on the spec's problem.

    Parameters
    ----------
    spec : dict
        ``eigenvalues``, ``initial_second_moment`` (arrays), ``noise_variance``, ``samples``,
        ``serial_steps``, ``segments``, and ``optimizer`` (``"sgd"`` when absent, ``"nsgd"`` or ``"momentum"``:
        heavy ball with ``μ =`` :data:`MOMENTUM`). Optionally ``start_lr``, ``start_batch``, ``start_steps``: a
        smaller budget's segment optimum, stretched to ``serial_steps`` (:func:`~ramplab.theory.stretched_schedule`)
        as the search's start.

    Returns
    -------
    dict
        ``objective`` (continuous), ``rounded_objective``, ``converged``, ``nit``, and the arrays ``lr``,
        ``batch``, ``steps`` of the continuous optimum's segments.
    """
    problem = Problem(spec["eigenvalues"], spec["initial_second_moment"], noise_variance=spec["noise_variance"])
    optimizer = optimizer_spec(spec.get("optimizer", "sgd"))
    start = None
    if "start_lr" in spec:
        smaller = Schedule.from_segments(spec["start_lr"], spec["start_batch"], spec["start_steps"], integer_batch=False)
        start = stretched_schedule(smaller, spec["serial_steps"], optimizer)
    opt = optimal_schedule(problem, spec["samples"], spec["serial_steps"], segments=spec["segments"],
                           optimizer=optimizer, start=start)
    return {"objective": opt.continuous_objective, "rounded_objective": opt.objective,
            "converged": opt.converged, "nit": opt.nit,
            "lr": np.array(opt.lr), "batch": np.array(opt.batch), "steps": np.array(opt.steps)}


def _best_named(problem: Problem, optimizer: str, samples: float, batch0: float,
                peaks: np.ndarray) -> dict[str, tuple[float, float, int]]:
    """Each named schedule at its best peak of ``peaks``: label → (risk, peak, serial steps)."""
    named: dict[str, tuple[float, float, int]] = {}
    for peak in peaks:
        schedules = named_schedules(samples, batch0, float(peak))
        with warnings.catch_warnings():  # the peak grid crosses the stability edge on purpose
            warnings.simplefilter("ignore", UnstableScheduleWarning)
            risks = expected_risk(problem, list(schedules.values()), optimizer_spec(optimizer), on_divergence="flag",
                                  progress=False)
        for (label, sched), traj in zip(schedules.items(), risks):
            risk = float(traj.risk[-1])
            if np.isfinite(risk) and (label not in named or risk < named[label][0]):
                named[label] = (risk, float(peak), sched.serial_steps)
    return named


def data(ctx: FigureContext) -> FigureTable:
    """For SGD, NSGD and heavy ball: the frontier at a grid of budgets and at every named schedule's serial steps, and the
    named schedules.

    Parameters
    ----------
    ctx : FigureContext
        ``quick`` sets the dimension, samples, segments and grids; its sweep executor and cache run one task
        per budget and optimizer.

    Returns
    -------
    FigureTable
        Every row has ``optimizer`` (``"sgd"``, ``"nsgd"`` or ``"momentum"``) and ``kind``: ``"frontier"``
        (``serial_steps, objective, rounded_objective, converged``), ``"named"`` (``series, serial_steps,
        objective, peak_lr, frontier_objective, relative``) or ``"segment"`` (``serial_steps, segment,
        samples_start, samples_end, lr, batch``: every optimal schedule's segments). The summary holds the
        setting and, per optimizer, the frontier and each named schedule's serial steps and objective relative
        to the frontier at those steps, and the claim.
    """
    d, samples, batch0, segments, n_peaks = (24, 1024, 8.0, 8, 7) if ctx.quick else (400, 2**16, 32.0, 32, 17)
    problem = Problem.power_law(d, **PROBLEM)
    edge = max_stable_lr(problem, batch0)
    # NSGD: the rates whose first effective step η/sqrt(G₀) is SGD's grid (docs/math.md#normalized-sgd); heavy
    # ball: up to its own stability edge at the initial batch (docs/math.md#heavy-ball-stability)
    tops = {"sgd": edge,
            "nsgd": edge * float(np.sqrt(gradient_second_moment(problem, problem.initial_second_moment, batch0))),
            "momentum": max_stable_lr(problem, batch0, HeavyBall(MOMENTUM))}
    grid = np.unique(np.geomspace(1, samples / batch0, 6 if ctx.quick else 13).round().astype(int))
    base = {"eigenvalues": problem.eigenvalues, "initial_second_moment": problem.initial_second_moment,
            "noise_variance": float(problem.noise_variance), "samples": float(samples), "segments": segments}

    named: dict[str, dict[str, tuple[float, float, int]]] = {}
    budgets: dict[str, list[int]] = {}
    specs = []
    for opt in OPTIMIZERS:
        peaks = np.geomspace(tops[opt] / 32, tops[opt], n_peaks)
        named[opt] = _best_named(problem, opt, samples, batch0, peaks)
        budgets[opt] = sorted(set(grid.tolist()) | {s for _, _, s in named[opt].values()})
        specs += [dict(base, serial_steps=int(s), optimizer=opt) for s in budgets[opt]]
    # one sweep for both optimizers: every budget is one task
    swept = ctx.sweep(frontier_point, specs)
    results = [(float(row.objective), row, curves) for row, curves in zip(swept.table.itertuples(index=False),
                                                                           swept.curves)]
    # More serial steps never hurt (docs/math.md#serial-step-frontier): a budget whose optimum lies above a smaller
    # budget's stopped in a local optimum; search it again from that smaller optimum stretched, keep the better.
    # in rounds until no budget rises (serial_step_frontier's rule)
    restarted, tried = [], set()
    for _ in specs:
        pairs = [(i, j) for i, j in restart_sources([r[0] for r in results], [spec["optimizer"] for spec in specs])
                 if (i, j, results[j][0]) not in tried]
        if not pairs:
            break
        tried.update((i, j, results[j][0]) for i, j in pairs)
        starts = [dict(specs[i], start_lr=results[j][2]["lr"], start_batch=results[j][2]["batch"],
                       start_steps=results[j][2]["steps"]) for i, j in pairs]
        again = ctx.sweep(frontier_point, starts)
        for (i, _), row, curves in zip(pairs, again.table.itertuples(index=False), again.curves):
            restarted.append((specs[i]["optimizer"], int(specs[i]["serial_steps"])))
            if float(row.objective) < results[i][0]:
                results[i] = (float(row.objective), row, curves)
    restarted = [{"optimizer": o, "serial_steps": s} for o, s in sorted(set(restarted))]

    rows = []
    best: dict[str, dict[int, float]] = {opt: {} for opt in OPTIMIZERS}
    converged, not_converged = [], []
    for spec, (_, row, curves) in zip(specs, results):
        opt, s = spec["optimizer"], spec["serial_steps"]
        best[opt][s] = float(row.objective)
        converged.append(bool(row.converged))
        if not row.converged:
            not_converged.append({"optimizer": opt, "serial_steps": int(s), "iterations": int(row.nit)})
        rows.append({"optimizer": opt, "kind": "frontier", "series": "optimal frontier", "serial_steps": int(s),
                     "objective": float(row.objective), "rounded_objective": float(row.rounded_objective),
                     "converged": bool(row.converged)})
        edges = np.concatenate([[0.0], np.cumsum(curves["steps"] * curves["batch"])])
        for k, (lr, b) in enumerate(zip(curves["lr"], curves["batch"])):
            rows.append({"optimizer": opt, "kind": "segment", "series": f"optimal S={s}", "serial_steps": int(s),
                         "segment": k, "samples_start": float(edges[k]), "samples_end": float(edges[k + 1]),
                         "lr": float(lr), "batch": float(b)})
    relative: dict[str, dict[str, dict]] = {}
    for opt in OPTIMIZERS:
        relative[opt] = {}
        for label, (risk, peak, steps) in named[opt].items():
            rel = risk / best[opt][steps]
            relative[opt][label] = {"serial_steps": int(steps), "objective": risk,
                                    "frontier_objective": best[opt][steps], "relative_to_frontier": rel,
                                    "peak_lr": peak}
            rows.append({"optimizer": opt, "kind": "named", "series": label, "serial_steps": int(steps),
                         "objective": risk, "peak_lr": peak, "frontier_objective": best[opt][steps],
                         "relative": rel})
    summary = {
        "problem": {"d": d, **PROBLEM}, "samples": samples, "initial_batch": batch0, "segments": segments,
        "optimizers": list(OPTIMIZERS),
        "momentum": MOMENTUM,
        "peak_grid": {opt: [float(p) for p in np.geomspace(tops[opt] / 32, tops[opt], n_peaks)] for opt in OPTIMIZERS},
        "frontier": {opt: {"serial_steps": [int(s) for s in budgets[opt]],
                           "objective": [best[opt][s] for s in budgets[opt]]} for opt in OPTIMIZERS},
        "named": relative,
        "all_converged": bool(all(converged)),
        # budgets where SLSQP stopped short (its iteration limit): their point is an upper bound on the optimum
        "not_converged": not_converged,
        "restarted": restarted,
        "paper_counterpart": "none",
        "related_paper": ("Seesaw (arXiv 2510.14717): this figure measures its distance to the best ramp at its "
                          "serial steps, for SGD, for the NSGD its analysis is written for, and for heavy ball"),
    }
    summary["claim"] = _claim(summary)
    return FigureTable(rows, summary)


def _claim(summary: dict) -> dict:
    """The figure's claim in words, with the numbers that support it (from the summary)."""
    parts, claim = [], {}
    worst = []
    for opt, name in OPTIMIZERS.items():
        named = summary["named"][opt]
        seesaw = {k: v["relative_to_frontier"] for k, v in named.items() if k.startswith("Seesaw")}
        best_label = min(seesaw, key=seesaw.get)
        parts.append(f"{name} {best_label} ×{seesaw[best_label]:.3g} ({named[best_label]['serial_steps']} steps)")
        claim[f"{opt}_seesaw_best_relative"] = seesaw[best_label]
        claim[f"{opt}_min_relative"] = min(v["relative_to_frontier"] for v in named.values())
        worst.append(max(v["relative_to_frontier"] for v in named.values()))
    claim["worst_relative"] = max(worst)
    claim["min_relative"] = min(claim[f"{opt}_min_relative"] for opt in OPTIMIZERS)
    statement = (f"every named schedule lies above the optimal frontier for {', '.join(OPTIMIZERS.values())}; "
                 f"the best Seesaw, relative to the best risk with its serial steps: {', '.join(parts)}; "
                 f"the worst schedule ×{claim['worst_relative']:.3g}")
    return {"statement": statement, **claim}


def draw(table: FigureTable) -> Figure:
    """Per optimizer (one row each): risk against serial steps (frontier and named schedules), and the optimal
    ``η`` and ``B`` against samples.

    Parameters
    ----------
    table : FigureTable
        As :func:`data` returns it.

    Returns
    -------
    matplotlib.figure.Figure
    """
    summary = table.summary
    optimizers = summary["optimizers"]
    fig, axes = plt.subplots(len(optimizers), 3, figsize=(15, 4.4 * len(optimizers)), squeeze=False)
    legends = []
    markers = "osD^v<>ph*XP"
    for opt, (ax_f, ax_lr, ax_b) in zip(optimizers, axes):
        name = OPTIMIZERS.get(opt, opt)
        rows = table.select(optimizer=opt)
        front = rows.select(kind="frontier")
        ax_f.loglog(front.column("serial_steps"), front.column("objective"), "k-o", ms=3, label="optimal frontier")
        named = rows.select(kind="named")
        for i, label in enumerate(named.column("series")):
            row = named.select(series=label)
            ax_f.loglog(row.column("serial_steps"), row.column("objective"), markers[i % len(markers)], ms=6,
                        color=plt.cm.tab20(i / 12), label=label)
        ax_f.set(xlabel="serial steps", ylabel="final excess risk",
                 title=f"{name}: risk at N = {summary['samples']} samples")
        seg = rows.select(kind="segment")
        budgets = sorted(set(seg.column("serial_steps").tolist()))
        shown = [budgets[i] for i in
                 np.unique(np.linspace(min(2, len(budgets) - 1), len(budgets) - 1, 4).round().astype(int))]
        for j, s in enumerate(shown):
            srows = seg.select(serial_steps=s)
            x = np.concatenate([srows.column("samples_start"), srows.column("samples_end")[-1:]])
            color = plt.cm.viridis(j / max(1, len(shown) - 1))
            ax_lr.stairs(srows.column("lr"), x, baseline=None, color=color, label=f"S = {s}")
            ax_b.stairs(srows.column("batch"), x, baseline=None, color=color, label=f"S = {s}")
        ax_lr.set(xlabel="samples", ylabel="learning rate η", yscale="log", title=f"{name}: optimal learning rate")
        ax_b.set(xlabel="samples", ylabel="batch size B", yscale="log", title=f"{name}: optimal batch size")
        legends += [(ax_f, dict(fontsize=7)), (ax_lr, dict(fontsize=8)), (ax_b, dict(fontsize=8))]
    fig.suptitle(f"power law d={summary['problem']['d']}, a=1.5, b=1, σ²=0.5, {summary['segments']} segments, "
                 f"B₀={summary['initial_batch']:g}; NSGD with the expected denominator, heavy ball μ={summary['momentum']:g}")
    finish(fig, *legends, claim=summary["claim"]["statement"])
    return fig


register("optimal_frontier", "serial steps vs risk at fixed samples: the optimal frontier and the named schedules "
         "(SGD, NSGD, heavy ball)", data, draw)
