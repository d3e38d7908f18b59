"""The ε-exponent of SFO under exponential growth of batch (δ) and learning rate (γ): bound vs exact (docs/math.md#growth-exponent-measurement).

Left column: the master bound's exponent ``e(γ, δ)`` of ``N_ε = Θ(ε^{−e})`` (top) and, at ``γ = 1.2``,
every measured exponent with its standard error beside the bound and the two term formulas (bottom).
Middle and right columns: the exponent measured with the exact solver (:func:`measure_growth_exponent`:
slope of ``ln N`` against ``ln(1/ε)`` over 1.5 decades of ε, at the stage ends) in a
**variance-dominated** setting (large label noise, long stages) and a **bias-dominated** one (almost
no label noise), for the gradient-norm target of the papers (top) and the excess risk (bottom).
Each cell is labelled by the term of the exact bias/variance split that held the larger share of the
target throughout its fitted window (V, B, or M for mixed); × marks cells where the learning-rate
cap ``1/λ_1`` was reached inside the window (η no longer grows there: not a measurement of exponential
growth), – cells without 1.5 decades of ε within ``max_stages`` (or ``δ ≤ γ``).

The problem is a power law ``λ_i = i^{−a}`` in ``D = 10⁶`` dimensions, grouped into blocks of equal
eigenvalue (multiplicities, docs/math.md#multiplicity). Its initial condition is chosen per target
so that the bias part decays like ``1/Σ η`` — the bound's own bias rate: ``λ_i s_i(0) = i^{−1}`` for
the gradient norm, ``i^{−(1+a)}`` for the excess risk.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ._layout import finish
from ._table import FigureTable, with_claim
from .registry import FigureContext, register
from ..theory import GrowthCell, Problem, measure_growth_exponent, sfo_exponent, term_exponent

#: The paper figure this figure redraws and what differs (its JSON's ``paper_counterpart``; "none" if none).
PAPER_COUNTERPART = "none"


A = 1.5
#: Initial-condition exponent per target: the bias part then decays like (Σ η)^{-1}.
B_FOR_TARGET = {"gradient_norm": 1.0, "excess_risk": 1.0 + A}
SETTINGS = {
    "variance-dominated": {"noise_variance": 1e7, "lr0": 1e-8, "stage_steps": 10**12, "eps": (0.1, 0.1 / 10**1.5)},
    "bias-dominated": {"noise_variance": 1e-4, "lr0": 1e-8, "stage_steps": 10**6, "eps": (0.03, 0.03 / 10**1.5)},
}
MODERATE = {"noise_variance": 1e3, "lr0": 1e-4, "stage_steps": 30_000, "gamma": 1.2, "deltas": (1.3, 1.44, 1.7, 2.0),
            "eps": (0.2, 0.2 / 10**1.5)}
TARGET_LABEL = {"gradient_norm": r"gradient norm $\mathbb{E}\|\nabla f\|^2\leq\varepsilon^2$",
                "excess_risk": r"excess risk $R\leq\varepsilon^2$"}
MARK = {"variance": "V", "bias": "B", "mixed": "M", "none": "–", "diverged": "D"}
#: Stands in for the result of a cell with δ ≤ γ, where no exponent exists to measure.
NOT_MEASURED = SimpleNamespace(exponent=math.nan, stderr=math.nan, dominant="none", capped=False, decades=0.0)
#: The scalar columns :func:`growth_cell_row` returns.
ROW_COLUMNS = ("exponent", "stderr", "dominant", "capped", "bound_exponent", "decades",
               "fitted_points", "bias_share_min", "bias_share_max", "bias_share_first", "bias_share_last",
               "sfo_first", "sfo_last")


def power_law_groups(dimension: int, a: float, b: float, noise_variance: float, *, exact: int = 16,
                     per_decade: int = 12) -> Problem:
    """Power law ``λ_i = i^{−a}``, ``λ_i s_i(0) = i^{−b}`` in ``dimension`` coordinates, grouped.

    Coordinates ``1 … exact`` are kept; the rest fall into ``per_decade`` geometric blocks per decade
    of the index, each one coordinate with the block's mean ``λ`` and mean ``λ s(0)`` and the block's
    size as multiplicity (docs/math.md#multiplicity).

    Parameters
    ----------
    dimension : int
        Coordinates the problem stands for.
    a, b : float
        Power-law exponents of ``λ_i`` and ``λ_i s_i(0)``.
    noise_variance : float
        Label-noise variance ``σ²``.
    exact, per_decade : int
        Leading coordinates kept one by one; blocks per decade of the index after them.

    Returns
    -------
    Problem
        About ``exact + per_decade · log10(dimension/exact)`` stored coordinates.

    Examples
    --------
    >>> p = power_law_groups(10**6, 1.5, 1.0, 1.0)
    >>> p.dimension, round(p.effective_dimension)
    (73, 1000000)
    """
    edges = np.unique(np.concatenate([
        np.arange(1, exact + 1),
        np.round(np.geomspace(exact + 1, dimension + 1, int(per_decade * math.log10(dimension / exact)) + 1)),
    ])).astype(np.int64)
    lam, s0, mult = [], [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        i = np.arange(lo, hi, dtype=float)
        lam.append(np.mean(i**-a))
        s0.append(np.mean(i**-b) / lam[-1])
        mult.append(float(i.size))
    return Problem(np.array(lam), np.array(s0), noise_variance, multiplicity=np.array(mult),
                   metadata={"family": "power_law_groups", "dimension": dimension, "a": a, "b": b})


def cell_spec(dimension: int, target: str, gamma: float, delta: float, points: int, max_stages: int, *,
              noise_variance: float, lr0: float, stage_steps: int, eps: tuple[float, float]) -> dict:
    """The JSON-able spec of one measured cell, the argument of :func:`growth_cell_row`.

    Parameters
    ----------
    dimension : int
        Coordinates of the power law (:func:`power_law_groups`, ``a = A``).
    target : {"gradient_norm", "excess_risk"}
        What the cell drives below ``ε²``; fixes the initial condition (:data:`B_FOR_TARGET`).
    gamma, delta : float
        Learning-rate and batch growth factors per stage.
    points : int
        Tolerances on the geometric grid from ``eps[0]`` down to ``eps[1]``.
    max_stages : int
        Stages run at most.
    noise_variance : float
        Label-noise variance ``σ²``.
    lr0 : float
        Learning rate of stage 0.
    stage_steps : int
        Steps per stage.
    eps : tuple of float
        Largest and smallest tolerance.

    Returns
    -------
    dict
        Plain numbers and strings only (the sweep hashes it for its cache key).

    Examples
    --------
    >>> spec = cell_spec(1000, "excess_risk", 1.2, 1.44, 5, 50, noise_variance=1.0, lr0=1e-3,
    ...                  stage_steps=100, eps=(0.1, 0.01))
    >>> spec["b"], spec["eps"]
    (2.5, [0.1, 0.01, 5])
    """
    return {"dimension": int(dimension), "a": A, "b": B_FOR_TARGET[target], "noise_variance": float(noise_variance),
            "target": target, "gamma": float(gamma), "delta": float(delta), "lr0": float(lr0),
            "stage_steps": int(stage_steps), "max_stages": int(max_stages),
            "eps": [float(eps[0]), float(eps[1]), int(points)]}


def growth_cell_row(spec: dict) -> dict:
    """One cell of the map (a sweep task): :func:`measure_growth_exponent` on the spec's problem.

    Parameters
    ----------
    spec : dict
        As :func:`cell_spec` makes it: ``dimension``, ``a``, ``b``, ``noise_variance`` (the grouped
        power law), ``target``, ``gamma``, ``delta``, ``lr0``, ``stage_steps``, ``max_stages`` and
        ``eps = [largest, smallest, points]`` (a geometric grid of tolerances). No randomness: the
        measurement is deterministic.

    Returns
    -------
    dict
        Scalars only (:data:`ROW_COLUMNS`): the fitted exponent and its standard
        error, the dominant term, whether the learning-rate cap was reached, the bound's exponent,
        the decades of ε and the stage ends fitted, the bias share's range (and first and last value)
        over the fitted stage ends (``nan`` without any), and the samples to the largest and the
        smallest tolerance (``inf`` where not reached). docs/math.md#growth-exponent-measurement.

    Raises
    ------
    KeyError
        For a spec without one of the keys above.
    ValueError
        For a value :class:`GrowthCell` rejects.

    Examples
    --------
    >>> spec = cell_spec(1000, "gradient_norm", 1.2, 1.44, 5, 200, noise_variance=1.0, lr0=1e-2,
    ...                  stage_steps=100, eps=(0.3, 0.03))
    >>> row = growth_cell_row(spec)
    >>> row["dominant"], round(row["bound_exponent"], 2)
    ('bias', 4.0)
    """
    problem = power_law_groups(spec["dimension"], spec["a"], spec["b"], spec["noise_variance"])
    hi, lo, n = spec["eps"]
    r = measure_growth_exponent(GrowthCell(problem, spec["gamma"], spec["delta"], np.geomspace(hi, lo, n),
                                           target=spec["target"], lr0=spec["lr0"], stage_steps=spec["stage_steps"],
                                           max_stages=spec["max_stages"]))
    share = r.stage_bias_share[r.fitted]
    some = share.size > 0
    return {
        "exponent": float(r.exponent), "stderr": float(r.stderr),
        "dominant": r.dominant, "capped": bool(r.capped), "bound_exponent": float(r.bound_exponent),
        "decades": r.decades, "fitted_points": int(r.fitted.sum()),
        "bias_share_min": float(share.min()) if some else math.nan,
        "bias_share_max": float(share.max()) if some else math.nan,
        "bias_share_first": float(share[0]) if some else math.nan,
        "bias_share_last": float(share[-1]) if some else math.nan,
        "sfo_first": float(r.sfo[0]), "sfo_last": float(r.sfo[-1]),
    }


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges (geometric midpoints) for a pcolormesh over increasing positive values."""
    logs = np.log(values)
    mids = 0.5 * (logs[1:] + logs[:-1])
    first, last = 2 * logs[0] - mids[0], 2 * logs[-1] - mids[-1]
    return np.exp(np.concatenate([[first], mids, [last]]))


def _decorate(ax, gammas, deltas, ge, de) -> None:
    gg = np.linspace(ge[0], ge[-1], 100)
    ax.plot(gg, gg**2, color="k", ls="--", lw=1.4, label=r"ridge $\delta=\gamma^2$")
    ax.plot(gg, gg, color="tab:red", ls=":", lw=1.4, label=r"$\delta=\gamma$ (no rate below)")
    ax.set(xscale="log", yscale="log", xlabel=r"learning-rate growth $\gamma$", ylim=(de[0], de[-1]),
           xlim=(ge[0], ge[-1]))
    ax.set_xticks(gammas, [f"{g:g}" for g in gammas])
    ax.set_xticks([], minor=True)
    ax.set_yticks(deltas, [f"{dl:.3g}" for dl in deltas])
    ax.set_yticks([], minor=True)


def data(ctx: FigureContext) -> FigureTable:
    """Measure every cell through the sweep; one row per measured cell, then the γ = 1.2 reference curves.

    Parameters
    ----------
    ctx : FigureContext
        ``quick`` sets the dimension, the (γ, δ) grid and the tolerances; its sweep executor and
        cache run one task per measured cell.

    Returns
    -------
    FigureTable
        One row per measured ``(target, setting, γ, δ)`` cell (bound and term exponents, measured
        exponent and standard error, dominant term, cap, fitted points, decades, bias shares, samples
        to the largest and smallest ε), then rows ``curve, gamma, delta, exponent`` of the master bound
        and the two term formulas at the γ nearest 1.2 (the lower-left panel's lines). The summary
        holds the settings, the grids, the bound and every (γ, δ) cell's measurement as arrays
        (``usable``: drawn in colour), the colour range, the agreement with the term formulas, the
        ridge values, the moderate-noise cells and the caption.
    """
    if ctx.quick:
        dimension, gammas, deltas, points = 10**5, np.array([1.1, 1.2]), np.array([1.21, 1.44, 2.0, 3.0]), 7
    else:
        dimension, gammas, points = 10**6, np.array([1.1, 1.15, 1.2, 1.3, 1.4]), 13
        # The ridge δ = γ² of every γ, and points between and above.
        deltas = np.array([1.15, 1.21, 1.3225, 1.44, 1.55, 1.69, 1.96, 2.3, 2.6, 3.0])
    max_stages = 400
    # Every measured cell is one sweep task (ramplab figures --executor/--cache-dir reach it).
    cells = [(target, setting, float(g), float(dl))
             for target in B_FOR_TARGET for setting in SETTINGS for g in gammas for dl in deltas if dl > g]
    specs = [cell_spec(dimension, target, g, dl, points, max_stages, **SETTINGS[setting])
             for target, setting, g, dl in cells]
    specs += [cell_spec(dimension, "gradient_norm", MODERATE["gamma"], dl, points, max_stages,
                        **{k: MODERATE[k] for k in ("noise_variance", "lr0", "stage_steps", "eps")})
              for dl in MODERATE["deltas"]]
    swept = ctx.sweep(growth_cell_row, specs)
    measured = [SimpleNamespace(**row._asdict()) for row in swept.table.itertuples(index=False)]
    by_cell = dict(zip(cells, measured))

    results = {}
    rows = []
    for target in B_FOR_TARGET:
        for setting, cfg in SETTINGS.items():
            eps = np.geomspace(*cfg["eps"], points)
            grid = np.empty((gammas.size, deltas.size), dtype=object)
            for i, g in enumerate(gammas):
                for j, dl in enumerate(deltas):
                    if dl <= g:  # no polynomial rate (the bound does not vanish): not measured
                        grid[i, j] = NOT_MEASURED
                        continue
                    r = grid[i, j] = by_cell[target, setting, float(g), float(dl)]
                    rows.append({
                        "target": target, "setting": setting, "gamma": float(g), "delta": float(dl),
                        "bound_exponent": r.bound_exponent,
                        "variance_term_exponent": term_exponent("variance", g, dl),
                        "bias_term_exponent": term_exponent("bias", g, dl),
                        "measured_exponent": r.exponent, "stderr": r.stderr, "dominant": r.dominant,
                        "lr_capped": r.capped, "fitted_points": r.fitted_points, "decades": r.decades,
                        "bias_share_min": r.bias_share_min, "bias_share_max": r.bias_share_max,
                        f"sfo_eps_{eps[0]:.4g}": r.sfo_first, f"sfo_eps_{eps[-1]:.4g}": r.sfo_last,
                    })
            results[target, setting] = (grid, eps)

    # The moderate-noise setting of the issue that prompted this figure (gradient norm, γ = 1.2): mixed.
    moderate = {}
    for dl, r in zip(MODERATE["deltas"], measured[len(cells):]):
        moderate[f"{dl:g}"] = {"exponent": r.exponent, "stderr": r.stderr, "dominant": r.dominant,
                               "lr_capped": r.capped, "bound_exponent": r.bound_exponent,
                               "bias_share_first_last": ([r.bias_share_first, r.bias_share_last]
                                                         if r.fitted_points else [])}
    bound = np.array([[sfo_exponent(g, dl) for dl in deltas] for g in gammas])
    usable = {key: np.array([[r.decades >= 1.5 and math.isfinite(r.exponent) and not r.capped for r in row]
                             for row in grid]) for key, (grid, _) in results.items()}
    finite_bound = bound[np.isfinite(bound)]
    # Exponents blow up as δ → γ; beyond 14 the colour saturates (the numbers are in the cells and the CSV).
    vmin, vmax = 2.0, min(14.0, float(np.nanpercentile(finite_bound, 95)))

    # The lower-left panel's lines: the bound and the two term formulas along δ at the γ nearest 1.2.
    g0 = float(gammas[int(np.argmin(np.abs(gammas - 1.2)))])
    dd = np.geomspace(deltas[0], deltas[-1], 200)
    for curve, value in (("master bound", lambda x: sfo_exponent(g0, x)),
                         ("variance term", lambda x: term_exponent("variance", g0, x)),
                         ("bias term", lambda x: term_exponent("bias", g0, x))):
        rows.extend({"curve": curve, "gamma": g0, "delta": float(x), "exponent": float(value(x))} for x in dd)

    def median_gap(target, setting, term):
        grid, _ = results[target, setting]
        gaps = [abs(r.exponent / term_exponent(term, r.gamma, r.delta) - 1)
                for row, ok_row in zip(grid, usable[target, setting]) for r, ok in zip(row, ok_row)
                if ok and r.dominant == term and not r.capped]
        return (float(np.median(gaps)) if gaps else math.nan), len(gaps)

    agreement = {}
    for target in B_FOR_TARGET:
        for setting, term in (("variance-dominated", "variance"), ("bias-dominated", "bias")):
            gap, cells_used = median_gap(target, setting, term)
            agreement[f"{target}/{setting}"] = {"term": term, "cells": cells_used, "median_relative_gap": gap}
    ridge = {}
    for key, (grid, _) in results.items():
        for i, g in enumerate(gammas):
            j = int(np.argmin(np.abs(deltas - g * g)))
            if abs(deltas[j] / (g * g) - 1) < 1e-3 and usable[key][i, j]:
                ridge[f"{key[0]}/{key[1]}/gamma={g:g}"] = grid[i, j].exponent
    caption = (
        "What was measured: N_ε, the samples exponential growth needs to bring the target to ε², on the exact "
        "expected dynamics; the exponent is the least-squares slope of ln N against ln(1/ε) over 1.5 decades of ε "
        "(stage ends inside the window), with its standard error. Each window is labelled by the term of the exact "
        "bias/variance split that held the larger share throughout (V/B/M). Where variance decides, the exponent "
        "follows 2 ln δ/(ln δ − ln γ) and keeps falling as δ grows; where bias decides it follows 2 ln δ/ln γ and "
        "is smallest at the smallest δ. The bound's exponent is the larger of the two, so its minimum δ = γ² (4) is "
        "where the terms trade places; both settings measure ≈ 4 there.")
    return with_claim(FigureTable(rows, {
        "problem": {"family": "power_law_groups", "dimension": dimension, "a": A,
                    "b_per_target": B_FOR_TARGET, "grouping": "16 exact coordinates, then 12 blocks per decade"},
        "settings": {k: {**v, "eps": list(v["eps"]), "points": points, "batch0": 1.0, "max_stages": max_stages,
                         "lr_cap": "1/λ_1"} for k, v in SETTINGS.items()},
        "gammas": gammas, "deltas": deltas,
        "bound_exponent": np.where(np.isfinite(bound), bound, -1.0),
        "bound_exponent_note": "-1 marks δ ≤ γ (no polynomial rate)",
        "measured": {f"{t}/{s}": {"exponent": np.array([[r.exponent for r in row] for row in grid]),
                                  "stderr": np.array([[r.stderr for r in row] for row in grid]),
                                  "dominant": [[r.dominant for r in row] for row in grid],
                                  "lr_capped": [[r.capped for r in row] for row in grid],
                                  "usable": usable[t, s]}
                     for (t, s), (grid, _) in results.items()},
        "colour_range": [vmin, vmax],
        "agreement_with_dominant_term_formula": agreement,
        "exponent_at_ridge": ridge,
        "moderate_noise_setting": {"settings": {k: v for k, v in MODERATE.items() if k != "deltas"},
                                   "target": "gradient_norm", "cells": moderate,
                                   "note": ("variance decides the early part of the window below the ridge, bias "
                                            "takes over above it; the minimum is near δ = γ², and the values depend "
                                            "on the window (they are not a single term's exponent)")},
        "explanation": caption,
        "caption": caption,
    }), _claim, PAPER_COUNTERPART)


def _claim(summary: dict) -> dict:
    """The figure's claim in words, with the numbers that support it (from the summary)."""
    agreement = summary["agreement_with_dominant_term_formula"]
    gap = max(v["median_relative_gap"] for v in agreement.values())
    ridge = summary["exponent_at_ridge"]
    return {"statement": (f"the measured ε-exponent follows the dominant term's formula (median relative gap ≤ "
                          f"{100 * gap:.2g} % in every setting and target) and is ≈ 4 on the ridge δ = γ² "
                          f"({min(ridge.values()):.3f}–{max(ridge.values()):.3f})"),
            "max_median_relative_gap": gap, "ridge_exponent_range": [min(ridge.values()), max(ridge.values())]}


def draw(table: FigureTable) -> Figure:
    """The bound's map, the measured maps per setting and target, and the measurements at γ = 1.2.

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
    gammas, deltas = np.asarray(summary["gammas"]), np.asarray(summary["deltas"])
    bound = np.asarray(summary["bound_exponent"], dtype=float)
    bound = np.where(bound < 0, np.nan, bound)  # -1 marks δ ≤ γ
    vmin, vmax = summary["colour_range"]
    fig, axes = plt.subplots(2, 3, figsize=(17, 11))
    ge, de = _edges(gammas), _edges(deltas)

    ax = axes[0, 0]
    mesh = ax.pcolormesh(ge, de, bound.T, cmap="viridis", vmin=vmin, vmax=vmax, shading="flat")
    fig.colorbar(mesh, ax=ax, label="exponent e")
    ax.set_title(r"master bound: $2\ln\delta/(\ln\delta-\ln\gamma)$ below the ridge, $2\ln\delta/\ln\gamma$ above",
                 fontsize=9)
    _decorate(ax, gammas, deltas, ge, de)
    ax.set_ylabel(r"batch growth $\delta$")
    legends.append((ax, dict(fontsize=7, facecolor="0.85", framealpha=1.0)))

    for col, setting in ((1, "variance-dominated"), (2, "bias-dominated")):
        for row_i, target in ((0, "gradient_norm"), (1, "excess_risk")):
            cell = summary["measured"][f"{target}/{setting}"]
            exponent, usable = np.asarray(cell["exponent"], dtype=float), np.asarray(cell["usable"], dtype=bool)
            ax = axes[row_i, col]
            values = np.where(usable, exponent, np.nan)
            mesh = ax.pcolormesh(ge, de, values.T, cmap="viridis", vmin=vmin, vmax=vmax, shading="flat")
            fig.colorbar(mesh, ax=ax, label="measured exponent")
            for i, g in enumerate(gammas):
                for j, dl in enumerate(deltas):
                    if cell["lr_capped"][i][j]:
                        text = "×"
                    elif usable[i, j]:
                        text = f"{MARK[cell['dominant'][i][j]]}\n{exponent[i, j]:.2f}"
                    else:
                        text = "–"
                    # White on the dark end of viridis, black on the bright (yellow-green) end.
                    dark = usable[i, j] and (exponent[i, j] - vmin) / (vmax - vmin) < 0.6
                    ax.text(g, dl, text, ha="center", va="center", fontsize=6, color="w" if dark else "k")
            cfg = summary["settings"][setting]
            ax.set_title(f"{setting}: {TARGET_LABEL[target]}\n"
                         rf"$\sigma^2$={cfg['noise_variance']:g}, $\eta_0$={cfg['lr0']:g}, "
                         rf"K={cfg['stage_steps']:.0e} steps/stage, "
                         rf"$\varepsilon$ {cfg['eps'][0]:.3g}→{cfg['eps'][-1]:.2g}",
                         fontsize=9)
            _decorate(ax, gammas, deltas, ge, de)

    ax = axes[1, 0]
    curves = table.where(lambda row: "curve" in row)
    g0 = curves.rows[0]["gamma"]
    i0 = int(np.argmin(np.abs(gammas - g0)))
    for curve, style in (("master bound", {"color": "k", "ls": "-", "lw": 2, "label": "master bound"}),
                         ("variance term", {"color": "tab:blue", "ls": "--", "lw": 1,
                                            "label": r"variance term $2\ln\delta/(\ln\delta-\ln\gamma)$"}),
                         ("bias term", {"color": "tab:orange", "ls": "--", "lw": 1,
                                        "label": r"bias term $2\ln\delta/\ln\gamma$"})):
        line = curves.select(curve=curve)
        ax.plot(line.column("delta"), line.column("exponent"), **style)
    styles = {("gradient_norm", "variance-dominated"): ("tab:blue", "o"),
              ("excess_risk", "variance-dominated"): ("tab:cyan", "s"),
              ("gradient_norm", "bias-dominated"): ("tab:orange", "o"),
              ("excess_risk", "bias-dominated"): ("tab:brown", "s")}
    for (target, setting), (color, marker) in styles.items():
        cell = summary["measured"][f"{target}/{setting}"]
        ok = np.asarray(cell["usable"], dtype=bool)[i0]
        ex = np.asarray(cell["exponent"], dtype=float)[i0]
        se = np.asarray(cell["stderr"], dtype=float)[i0]
        ax.errorbar(deltas[ok], ex[ok], yerr=se[ok], color=color, marker=marker, ls="none", ms=4, capsize=2,
                    label=f"{setting}, {target.replace('_', ' ')}")
    ax.axvline(g0 * g0, color="0.5", lw=0.8)
    ax.set_xscale("log")
    ax.set_xticks(deltas, [f"{x:.3g}" for x in deltas], fontsize=7, rotation=60)
    ax.set_xticks([], minor=True)
    ax.set(xlabel=r"batch growth $\delta$", ylabel="exponent e", ylim=(0, vmax * 1.1),
           title=rf"$\gamma$ = {g0:g}: measured ± standard error", )
    legends.append((ax, dict(fontsize=6)))

    fig.suptitle(r"Exponential growth $b_m=b_0\delta^m$, $\eta_m=\eta_0\gamma^m$ on a power law "
                 rf"($a$={summary['problem']['a']}, $D$={summary['problem']['dimension']:.0e}, grouped): "
                 r"$N_\varepsilon=\Theta(\varepsilon^{-e})$",
                 fontsize=11)
    # The caption sits on the canvas, in a strip kept free below the panels.
    fig.text(0.5, 0.008, summary["caption"], ha="center", va="bottom", fontsize=8, wrap=True)
    finish(fig, *legends, claim=table.summary["claim"]["statement"], rect=(0, 0.085, 1, 1))
    return fig


register("growth_exponent_map",
         "ε-exponent of SFO for (γ, δ) growth: bound vs exact, variance- and bias-dominated, two targets",
         data, draw)
