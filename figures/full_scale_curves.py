"""Averaged risk against steps at full scale: d = 5·10⁵, 50 000 steps, one panel per (a, b).

Batch-1 SGD on ``λ_i = i^-a``, ``λ_i s_i(0) = i^-b`` (``a ∈ {1.1, 1.5, 1.9}``, ``b ∈ {a, 2a}``),
``σ² = 0.01``, uniform iterate averaging (docs/math.md#iterate-averaging), with the two learning-rate
families ``η = m / tr H`` and ``η_t = m / (tr H √t)``. ``m`` runs over the stable range: fractions
:data:`M_FRACTIONS` of ``m_max = tr H · η_max``, ``η_max`` the largest stable constant rate
(docs/math.md#stability). The full-size run uses the solver's ``compress=`` (spectral compression,
docs/math.md#spectral-compression) and records its error estimate in the JSON. Curves are evaluated
with ``checkpoints=`` on a log-spaced grid of steps, and the CSV holds exactly the plotted points.
"""

from __future__ import annotations

import time

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ._layout import finish
from ._table import FigureTable
from .registry import FigureContext, register
from ..theory import Numerics, expected_risk
from ..workloads import (
    FULL_SCALE_EXPONENTS,
    FULL_SCALE_NOISE_VARIANCE,
    averaged_risk_at,
    compression_estimates,
    full_scale_m,
    full_scale_problem,
    full_scale_schedules,
)

#: ``m`` as fractions of the largest stable ``m``: near the edge of stability down to 1/1000 of it.
M_FRACTIONS = (0.9, 0.03, 0.001)
FULL_D, FULL_STEPS = 500_000, 50_000
QUICK_D, QUICK_STEPS = 200, 1_000
NOISE_VARIANCE = FULL_SCALE_NOISE_VARIANCE
COMPRESS_RTOL = 1e-3
FAMILIES = ("m/trH", "m/(trH sqrt t)")


def step_grid(steps: int, points: int = 200) -> np.ndarray:
    """Log-spaced distinct steps ``1 … steps`` (the plotted points).

    Examples
    --------
    >>> step_grid(10, 5).tolist()
    [1, 2, 3, 6, 10]
    """
    return np.unique(np.geomspace(1, steps, points).round().astype(np.int64))


def exponent_pair_curves(spec: dict) -> dict:
    """One ``(a, b)`` panel of the figure (a sweep task): the averaged risk of every (m, family) curve.

    ``spec``: ``d``, ``a``, ``b``, ``noise_variance``, ``steps``, ``m_fractions``, ``compress``
    (``compress=`` of the solver) and ``points`` (of :func:`step_grid`). The six schedules of a
    panel are solved together, as the compressed spectrum is chosen for all of them. Returns
    ``m_max``, ``trace``, ``m/<k>`` (``m`` of fraction ``k``) and, per curve ``j`` (fraction
    ``j // 2``, family ``FAMILIES[j % 2]``), the curve ``j/averaged_risk`` on the step grid and the
    scalar ``j/compression_error`` when the solver reports one.
    """
    problem = full_scale_problem(spec["d"], spec["a"], spec["b"], noise_variance=spec["noise_variance"])
    grid = step_grid(spec["steps"], spec["points"])
    ms = [full_scale_m(problem, f) for f in spec["m_fractions"]]
    schedules = [s for m, _ in ms for s in full_scale_schedules(problem, spec["steps"], m)]
    trajectories = expected_risk(problem, schedules, average="uniform", compress=spec["compress"],
                                 checkpoints=grid, numerics=Numerics(kernel="auto"))
    out: dict = {"m_max": ms[0][1], "trace": problem.trace}
    out.update({f"m/{k}": m for k, (m, _) in enumerate(ms)})
    for j, traj in enumerate(trajectories):
        out[f"{j}/averaged_risk"] = averaged_risk_at(traj, grid)
        for name, value in compression_estimates(traj).items():
            out[f"{j}/{name}"] = value
    return out


def data(ctx: FigureContext) -> FigureTable:
    """Every ``(a, b)`` panel through the sweep; one row per plotted step of each curve.

    Parameters
    ----------
    ctx : FigureContext
        ``quick``: a small ``d`` and few steps; its sweep executor and cache run the six panels.

    Returns
    -------
    FigureTable
        Rows ``a, b, family, m_fraction, m, step, averaged_risk``; the summary holds the problem,
        the chosen ``m`` per exponent, the solver's keywords and compression estimates, and the final
        averaged risks.
    """
    compress = COMPRESS_RTOL
    if ctx.quick:
        d, steps = QUICK_D, QUICK_STEPS
        d_note = "quick: small d"
    else:
        d, steps = FULL_D, FULL_STEPS
        d_note = f"full scale with compress={COMPRESS_RTOL:g}"
    points = 200
    grid = step_grid(steps, points)
    kw = {"average": "uniform", "compress": compress, "checkpoints": grid, "numerics": {"kernel": "auto"}}

    rows, m_info, final, estimates = [], {}, {}, {}
    start = time.perf_counter()
    swept = ctx.sweep(exponent_pair_curves, [
        {"d": d, "a": a, "b": b, "noise_variance": NOISE_VARIANCE, "steps": steps,
         "m_fractions": list(M_FRACTIONS), "compress": compress, "points": points}
        for a, b in FULL_SCALE_EXPONENTS])
    for (a, b), result, curves in zip(FULL_SCALE_EXPONENTS, swept.table.to_dict("records"), swept.curves):
        ms = [result[f"m/{k}"] for k in range(len(M_FRACTIONS))]
        m_info[f"a={a:g}"] = {"m_max": result["m_max"], "trace": result["trace"],
                              "m": {f"{f:g}": m for f, m in zip(M_FRACTIONS, ms)}}
        for k in range(2 * len(M_FRACTIONS)):
            frac, family = M_FRACTIONS[k // 2], FAMILIES[k % 2]
            m = ms[k // 2]
            curve = curves[f"{k}/averaged_risk"]
            label = f"a={a:g}, b={b:g}, {family}, m={frac:g} m_max"
            final[label] = float(curve[-1])
            est = {name.split("/", 1)[1]: value for name, value in result.items()
                   if name.startswith(f"{k}/") and value is not None and value == value}
            if est:
                estimates[label] = est
            rows += [{"a": a, "b": b, "family": family, "m_fraction": frac, "m": m, "step": int(t),
                      "averaged_risk": float(r)} for t, r in zip(grid, curve)]
    took = time.perf_counter() - start
    return _claimed(FigureTable(rows, {
        "problem": {"d": d, "a_values": [1.1, 1.5, 1.9], "b": "a and 2a", "noise_variance": NOISE_VARIANCE,
                    "batch": 1, "average": "uniform"},
        "steps": steps,
        "d_note": d_note,
        "m_fractions": list(M_FRACTIONS),
        "m_chosen": m_info,
        "lr_families": {"m/trH": "eta = m / tr H", "m/(trH sqrt t)": "eta_t = m / (tr H sqrt(t)), t = 1 … steps"},
        "solver_keywords": {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in kw.items()
                            if k != "checkpoints"},
        "checkpoints": True,
        "compress_rtol": compress,
        "compression_estimate": estimates or None,
        "plotted_steps": int(grid.size),
        "solver_seconds": took,
        "solver_seconds_note": "wall time of the sweep, including rows served from the cache",
        "final_averaged_risk": final,
    }))


def _claimed(table: FigureTable) -> FigureTable:
    """``table`` with the figure's claim and the number supporting it added to its JSON summary."""
    table.summary["claim"] = _claim(table.summary)
    return table


def _claim(summary: dict) -> dict:
    """The figure's claim in words, with the numbers that support it (from the summary)."""
    final = summary["final_averaged_risk"]
    panels: dict[str, dict[str, float]] = {}
    for key, value in final.items():  # "a=1.1, b=1.1, m/trH, m=0.9 m_max"
        a, b, family, m = key.split(", ")
        panels.setdefault(f"{a}, {b}", {})[f"{family}, {m}"] = value
    largest = f"m={summary['m_fractions'][0]:g} m_max"
    best = {panel: min(curves, key=curves.get) for panel, curves in panels.items()}
    wins = sum(name.endswith(largest) for name in best.values())
    return {"statement": (f"with uniform averaging the largest m ({largest}) gives the lowest final averaged risk "
                          f"in {wins} of {len(panels)} (a, b) panels"),
            "panels_where_largest_m_is_best": wins, "panels": len(panels), "best_curve_by_panel": best}


def draw(table: FigureTable) -> Figure:
    """One log-log panel per ``(a, b)``: ``b = a`` on top, ``b = 2a`` below; colour by ``m``, dashes for ``1/√t``.

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
    fractions = summary["m_fractions"]
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(fractions)))
    fig, axes = plt.subplots(2, 3, figsize=(14, 8), sharex=True)
    for a, b in FULL_SCALE_EXPONENTS:
        ax = axes[0 if b == a else 1, [1.1, 1.5, 1.9].index(a)]
        for k in range(2 * len(fractions)):
            frac, family = fractions[k // 2], FAMILIES[k % 2]
            curve = table.select(a=a, b=b, family=family, m_fraction=frac)
            ax.loglog(curve.column("step"), curve.column("averaged_risk"), color=colors[k // 2],
                      ls="-" if k % 2 == 0 else "--",
                      label=f"{family}, m={frac:g}·m_max" if (a, b) == FULL_SCALE_EXPONENTS[0] else None)
        ax.set_title(f"a={a:g}, b={b:g}" + (" (b = a)" if b == a else " (b = 2a)"))
        ax.grid(True, which="major", color="0.9")
    for ax in axes[1]:
        ax.set_xlabel("steps")
    for ax in axes[:, 0]:
        ax.set_ylabel("averaged excess risk")
    legends.append((axes[0, 0], dict(fontsize=7)))
    fig.suptitle(f"SGD, B=1, uniform averaging, σ²={summary['problem']['noise_variance']}, "
                 f"d={summary['problem']['d']}, {summary['steps']} steps "
                 f"(solid m/trH, dashed m/(trH√t)); {summary['d_note']}", fontsize=10)
    finish(fig, *legends, claim=table.summary["claim"]["statement"])
    return fig


register("full_scale_curves",
         "SGD, uniform averaging, d=5e5, 50k steps: averaged risk vs steps for m/trH and m/(trH√t), per (a, b)",
         data, draw)
