"""Monte Carlo against the exact solver: SGD and NSGD, both samplers, and the conditional NSGD.

One power-law problem and one schedule that decays the learning rate *and* ramps the batch
(three phases of equal samples). Panels, all against samples:

- top left / top middle: SGD and NSGD with the expected denominator (the exact solver's rates
  ``η/sqrt(G_t)``): exact ``E R`` (line) and Monte Carlo means ± 2 SE with the ``gaussian-exact``
  and the ``direct`` sampler (bands);
- bottom left / bottom middle: the same, relative to the exact curve, where the ± 2 SE bands are
  visible;
- top right: NSGD normalised by the realised ``‖g_t‖`` (conditional: Monte Carlo only) next to the
  expected one;
- bottom right: ``(MC − exact)/SE`` of the four Monte Carlo-vs-exact curves.
"""

from __future__ import annotations

import time

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ._layout import finish
from ._table import FigureTable, with_claim
from .registry import FigureContext, register
from ..simulations import NSGD, simulate
from ..theory import Numerics, Problem, Schedule, expected_risk

#: The paper figure this figure redraws and what differs (its JSON's ``paper_counterpart``; "none" if none).
PAPER_COUNTERPART = "none"


#: A standard error at or below this fraction of the mean risk counts as no spread (rounding only).
SPREAD_FLOOR = 1e-9

# (series, optimizer, normalization, sampler, seed index)
SERIES = (
    ("SGD, gaussian-exact", "sgd", "expected", "gaussian-exact", 1),
    ("SGD, direct", "sgd", "expected", "direct", 2),
    ("NSGD expected, gaussian-exact", "nsgd", "expected", "gaussian-exact", 3),
    ("NSGD expected, direct", "nsgd", "expected", "direct", 4),
    ("NSGD conditional, gaussian-exact", "nsgd", "conditional", "gaussian-exact", 5),
)


def setup(quick: bool) -> dict:
    """Problem, schedules, run counts and sample grid of the figure (also used by its test)."""
    d, phase, runs_exact, runs_direct = (20, 512, 400, 200) if quick else (100, 4096, 3000, 800)
    problem = Problem.power_law(d, a=1.5, b=1.0, noise_variance=0.5)
    sgd = Schedule.from_phases([(0.6, 4, phase), (0.6 / 2**0.5, 8, phase), (0.3, 16, phase)],
                               label="SGD: lr ÷√2 and batch ×2 per phase")
    nsgd = Schedule.from_phases([(0.3, 4, phase), (0.3 / 2**0.5, 8, phase), (0.15, 16, phase)],
                                label="NSGD: lr ÷√2 and batch ×2 per phase")
    grid = np.linspace(0.0, 3 * phase, 121 if quick else 193)
    return {"problem": problem, "sgd": sgd, "nsgd": nsgd, "grid": grid, "phase": phase,
            "runs": {"gaussian-exact": runs_exact, "direct": runs_direct}}


def data(ctx: FigureContext) -> FigureTable:
    """The exact curves and every Monte Carlo series on the grid; one row per series and grid point.

    Parameters
    ----------
    ctx : FigureContext
        ``quick`` (sizes of :func:`setup`), ``seed`` (root of each series' seed) and ``backend``.

    Returns
    -------
    FigureTable
        Rows ``series, optimizer, normalization, sampler, runs, samples, mc_mean_risk, mc_stderr,
        exact_risk, exact_is_reference, z_score, z_score_note``; the summary holds the problem, the
        schedules, each series' seed, timing and agreement, and the conditional-vs-expected gap.
    """
    cfg = setup(ctx.quick)
    problem, grid = cfg["problem"], cfg["grid"]
    exact = {
        "sgd": expected_risk(problem, cfg["sgd"]).at_samples(grid),
        "nsgd": expected_risk(problem, cfg["nsgd"], "nsgd").at_samples(grid),
    }
    results, timings = {}, {}
    for label, optimizer, normalization, sampler, k in SERIES:
        start = time.perf_counter()
        spec = NSGD(normalization) if optimizer == "nsgd" else optimizer
        results[label] = simulate(problem, cfg[optimizer], spec, sampler=sampler, runs=cfg["runs"][sampler],
                                  seed=[ctx.seed, k], numerics=Numerics(backend=ctx.backend), checkpoints=grid)
        timings[label] = time.perf_counter() - start

    rows: list[dict] = []
    summary_series = {}
    for label, optimizer, normalization, sampler, k in SERIES:
        r = results[label]
        if not np.array_equal(np.asarray(r.samples, dtype=float), grid):
            raise RuntimeError(f"{label}: simulate recorded samples other than the checkpoints grid")
        reference = exact[optimizer] if normalization == "expected" else None
        z = None
        # Where the runs have no spread (samples = 0: every run starts at the same w₀, so the
        # standard error is 0 up to rounding), the difference in standard errors is undefined:
        # NaN in the CSV, with the reason beside it, never a huge ratio of two rounding errors.
        no_spread = r.stderr <= SPREAD_FLOOR * np.abs(r.mean_risk)
        if reference is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                z = np.where(no_spread, np.nan, (r.mean_risk - reference) / np.where(no_spread, 1.0, r.stderr))
        for j in range(grid.size):
            rows.append({
                "series": label, "optimizer": optimizer, "normalization": normalization, "sampler": sampler,
                "runs": r.runs, "samples": float(grid[j]), "mc_mean_risk": float(r.mean_risk[j]),
                "mc_stderr": float(r.stderr[j]),
                "exact_risk": float(reference[j]) if reference is not None else float(exact["nsgd"][j]),
                "exact_is_reference": reference is not None,
                "z_score": float(z[j]) if z is not None else float("nan"),
                "z_score_note": ("no spread: every run starts at w0 (SE = 0)" if no_spread[j] and z is not None
                                 else "" if z is not None else "no exact reference (conditional NSGD)"),
            })
        summary_series[label] = {
            "optimizer": optimizer, "normalization": normalization, "sampler": sampler, "runs": r.runs,
            "seed": [ctx.seed, k], "seconds": timings[label],
            "final_mc_mean": float(r.mean_risk[-1]), "final_mc_stderr": float(r.stderr[-1]),
            "final_exact": float(exact[optimizer][-1]),
            "max_abs_z": float(np.nanmax(np.abs(z[1:]))) if z is not None else None,
            "fraction_within_2se": float(np.mean(np.abs(z[1:][np.isfinite(z[1:])]) <= 2)) if z is not None else None,
        }

    cond = results["NSGD conditional, gaussian-exact"]
    expected_mc = results["NSGD expected, gaussian-exact"]
    gap = cond.mean_risk[-1] - expected_mc.mean_risk[-1]
    return with_claim(FigureTable(rows, {
        "problem": {"d": problem.dimension, "a": 1.5, "b": 1.0, "noise_variance": 0.5},
        "schedules": {name: {"lr": [float(x) for x in np.unique(cfg[name].lr)[::-1]],
                             "batch": [int(x) for x in np.unique(cfg[name].batch)],
                             "serial_steps": cfg[name].serial_steps, "samples": cfg[name].total_samples}
                      for name in ("sgd", "nsgd")},
        "phase_samples": cfg["phase"],
        "grid_points": int(grid.size),
        "series": summary_series,
        "conditional_minus_expected_final": {
            "difference": float(gap),
            "in_standard_errors": float(gap / np.hypot(cond.stderr[-1], expected_mc.stderr[-1])),
        },
    }), _claim, PAPER_COUNTERPART)


def _claim(summary: dict) -> dict:
    """The figure's claim in words, with the numbers that support it (from the summary)."""
    series = summary["series"]
    within = min(v["fraction_within_2se"] for v in series.values() if v.get("fraction_within_2se") is not None)
    z = max(v["max_abs_z"] for v in series.values() if v.get("max_abs_z") is not None)
    return {"statement": (f"Monte Carlo matches the exact solver: in every series at least {100 * within:.0f} % of the "
                          f"grid points lie within 2 standard errors (largest |z| = {z:.2f})"),
            "min_fraction_within_2se": within, "max_abs_z": z}


def draw(table: FigureTable) -> Figure:
    """Exact curves with Monte Carlo ± 2 SE bands, the same relative to exact, the conditional NSGD, z-scores.

    Parameters
    ----------
    table : FigureTable
        As :func:`data` returns it.

    Returns
    -------
    matplotlib.figure.Figure
    """
    legends = []
    fig, axes = plt.subplots(2, 3, figsize=(17, 8.5))
    (ax_sgd, ax_nsgd, ax_cond), (rel_sgd, rel_nsgd, ax_z) = axes
    colours = {"gaussian-exact": "tab:blue", "direct": "tab:orange", "conditional": "tab:green"}

    def exact_curve(optimizer):
        rows = table.select(optimizer=optimizer, exact_is_reference=True)
        first = rows.unique("series")[0]
        rows = rows.select(series=first)
        return rows.column("samples"), rows.column("exact_risk")

    def band(ax, label, colour, relative=False):
        r = table.select(series=label)
        samples, mean, stderr = r.column("samples"), r.column("mc_mean_risk"), r.column("mc_stderr")
        scale = r.column("exact_risk") if relative else 1.0
        shift = 1.0 if relative else 0.0
        centre = mean / scale - shift
        half = 2 * stderr / scale
        ax.fill_between(samples, centre - half, centre + half, color=colour, alpha=0.3, lw=0,
                        label=f"MC {label.split(', ')[-1]} ± 2 SE ({r.rows[0]['runs']} runs)")
        ax.plot(samples, centre, color=colour, lw=0.8)

    for ax, rel, optimizer, title in ((ax_sgd, rel_sgd, "sgd", "SGD"),
                                      (ax_nsgd, rel_nsgd, "nsgd", "NSGD, expected denominator")):
        ax.plot(*exact_curve(optimizer), color="k", lw=1.2, label="exact (theory.expected_risk)")
        rel.axhline(0.0, color="k", lw=1.2, label="exact")
        for label, opt, norm, sampler, _ in SERIES:
            if opt == optimizer and norm == "expected":
                band(ax, label, colours[sampler])
                band(rel, label, colours[sampler], relative=True)
        ax.set(yscale="log", xlabel="samples", ylabel="excess risk", title=title)
        rel.set(xlabel="samples", ylabel="MC / exact − 1", title=f"{title}: relative to exact")
        legends.append((ax, dict(fontsize=8)))
        legends.append((rel, dict(fontsize=8)))

    ax_cond.plot(*exact_curve("nsgd"), color="k", lw=1.2, label="expected denominator: exact")
    band(ax_cond, "NSGD expected, gaussian-exact", colours["gaussian-exact"])
    cond = table.select(series="NSGD conditional, gaussian-exact")
    samples, mean, stderr = cond.column("samples"), cond.column("mc_mean_risk"), cond.column("mc_stderr")
    ax_cond.fill_between(samples, mean - 2 * stderr, mean + 2 * stderr,
                         color=colours["conditional"], alpha=0.3, lw=0,
                         label=f"conditional ‖g‖: MC ± 2 SE ({cond.rows[0]['runs']} runs)")
    ax_cond.plot(samples, mean, color=colours["conditional"], lw=0.8)
    ax_cond.set(yscale="log", xlabel="samples", ylabel="excess risk",
                title="NSGD: divide by the realised ‖g‖ vs by sqrt(E‖g‖²)")
    legends.append((ax_cond, dict(fontsize=8)))

    for label, _, normalization, _, _ in SERIES:
        if normalization == "expected":
            r = table.select(series=label)
            ax_z.plot(r.column("samples")[1:], r.column("z_score")[1:], lw=0.8, label=label)
    for level in (-4, -2, 2, 4):
        ax_z.axhline(level, color="0.6" if abs(level) == 2 else "0.3", lw=0.8, ls="--")
    ax_z.set(xlabel="samples", ylabel="(MC − exact) / SE", title="Monte Carlo minus exact, in standard errors")
    legends.append((ax_z, dict(fontsize=8)))
    fig.suptitle(f"Monte Carlo vs exact: power law d={table.summary['problem']['d']}, a=1.5, b=1, σ²=0.5; "
                 f"batch 4→8→16 over 3 phases of {table.summary['phase_samples']} samples")
    finish(fig, *legends, claim=table.summary["claim"]["statement"])
    return fig


register("monte_carlo", "Monte Carlo (both samplers, ±2 SE) vs exact for SGD and NSGD; conditional NSGD", data, draw)
