"""Steps and serial-step reductions of the released Seesaw grid, replayed in token mode (docs/math.md#token-mode).

Every run of the released grid (150M/300M/600M models on D = 3.3e9/6.6e9/13.2e9 tokens, L = 1024):
the main runs (Seesaw at f = 1.1, B_0 ∈ {128, …, 1024}), the (α, β) runs (milestone factor 1/2, the
five released pairs of α√β = 2) and the large-batch runs (B_0 ∈ {1024, …, 8192}), each against the
constant-batch cosine baseline under the same stop rule. The CSV is the table (one row per run);
the table is also printed. The figure plots the reductions.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ._layout import finish
from ._table import FigureTable, with_claim
from .registry import FigureContext, register
from ..theory.schedules import RELEASED_MODELS, format_released_table, released_grid

#: The paper figure this figure redraws and what differs (its JSON's ``paper_counterpart``; "none" if none).
PAPER_COUNTERPART = {
    "paper": "Meterez et al., Seesaw, arXiv 2510.14717",
    "figure": ("the released runs of Figures 1–3 (main, (α, β) and large-batch grids): their logged serial steps and "
               "tokens"),
    "differs": ("replays the released batch rule in token mode (steps, tokens, reductions), no losses; the (α, β) rows "
                "use the manifest's factors and reproduce the logged counts (e.g. 150M, B₀ = 256, β = √2: 10245 "
                "steps, 3 300 396 032 tokens)"),
}



def data(ctx: FigureContext) -> FigureTable:
    """Replay the released grid (one row per run; the table is also printed).

    Parameters
    ----------
    ctx : FigureContext
        ``quick``: the smallest model only.

    Returns
    -------
    FigureTable
        The rows of :func:`~ramplab.theory.released_grid`; the summary holds the reduction ranges
        and, per ``(model, (α, β))`` pair, the mean and range of its runs' reductions.
    """
    models = RELEASED_MODELS[:1] if ctx.quick else RELEASED_MODELS
    rows = released_grid(models=models)
    print(format_released_table(rows), flush=True)

    # One entry per (model, (α, β)) pair, whose four B₀ runs agree to ~0.05 %: the table shows their
    # range next to the mean instead of drawing invisible error bars.
    by_pair = []
    for model, _ in models:
        ab = [r for r in rows if r["model"] == model and r["group"] == "alpha_beta"]
        for beta in sorted({r["beta"] for r in ab}):
            values = [100 * r["reduction"] for r in ab if r["beta"] == beta]
            alpha = next(r["alpha"] for r in ab if r["beta"] == beta)
            by_pair.append({"model": model, "alpha": alpha, "beta": beta, "mean_percent": float(np.mean(values)),
                            "min_percent": min(values), "max_percent": max(values), "runs": len(values)})
    main = [r["reduction"] for r in rows if r["group"] == "main"]
    summary = {
        "models": [m for m, _ in models], "seq_len": rows[0]["seq_len"],
        "main_reduction_range": [min(main), max(main)],
        "alpha_beta_reduction_by_beta": {
            f"{beta:.4f}": float(np.mean([r["reduction"] for r in rows
                                          if r["group"] == "alpha_beta" and r["beta"] == beta]))
            for beta in sorted({r["beta"] for r in rows if r["group"] == "alpha_beta"})},
        "large_batch_reduction": {str(r["initial_batch"]): r["reduction"] for r in rows
                                  if r["group"] == "large_batch" and r["model"] == models[0][0]},
        "runs": len(rows),
        "model_tokens": {m: d for m, d in models},
        "alpha_beta_by_model": by_pair,
    }
    return with_claim(FigureTable(rows, summary), _claim, PAPER_COUNTERPART)


def _claim(summary: dict) -> dict:
    """The figure's claim in words, with the numbers that support it (from the summary)."""
    low, high = summary["main_reduction_range"]
    return {"statement": (f"the released main Seesaw runs take {100 * low:.1f}–{100 * high:.1f} % fewer serial steps "
                          "than their cosine baselines"),
            "main_reduction_range": [low, high]}


def draw(table: FigureTable) -> Figure:
    """Two drawn tables: the Seesaw f = 1.1 runs, and the (α, β) pairs' mean reductions.

    Parameters
    ----------
    table : FigureTable
        As :func:`data` returns it.

    Returns
    -------
    matplotlib.figure.Figure
    """
    # A table, as the name says: one line per Seesaw f = 1.1 run (main and large-batch grids) on the
    # left; on the right one line per (model, (α, β)) pair, with the range of its runs beside the mean.
    main_lines = [[r["model"], r["group"].replace("_", "-"), f"{r['initial_batch']:,}", f"{r['baseline_steps']:,}",
                   f"{r['steps']:,}", f"{100 * r['reduction']:.2f} %", f"{r['final_batch']:,}"]
                  for r in table.rows if r["group"] in ("main", "large_batch")]
    ab_lines = [[p["model"], f"({p['alpha']:.3g}, {p['beta']:.3g})", f"{p['mean_percent']:.2f} %",
                 f"{p['min_percent']:.2f} – {p['max_percent']:.2f} %", str(p["runs"])]
                for p in table.summary["alpha_beta_by_model"]]
    height = 1.2 + 0.24 * max(len(main_lines), len(ab_lines))
    fig, (ax_main, ax_ab) = plt.subplots(1, 2, figsize=(15, height), width_ratios=(1.45, 1))
    for ax, lines, columns, title in (
            (ax_main, main_lines,
             ["model", "grid", "B₀ (seq.)", "cosine steps", "Seesaw steps", "reduction", "final batch"],
             "Seesaw f = 1.1 against its cosine baseline (main and large-batch runs)"),
            (ax_ab, ab_lines, ["model", "(α, β)", "mean reduction", "range over B₀", "runs"],
             "(α, β) runs on α√β = 2, milestone factor 1/2 (B₀ = 128 … 1024)")):
        ax.axis("off")
        drawn = ax.table(cellText=lines, colLabels=columns, loc="upper center", cellLoc="center",
                         bbox=[0.0, 0.0, 1.0, 1.0])
        drawn.auto_set_font_size(False)
        drawn.set_fontsize(9)
        for (row, _), cell in drawn.get_celld().items():
            cell.set_edgecolor("0.8")
            if row == 0:
                cell.set_facecolor("0.9")
                cell.get_text().set_fontweight("bold")
        ax.set_title(title, fontsize=10)
    tokens = table.summary["model_tokens"]
    fig.suptitle(f"Released Seesaw grid replayed in token mode (L = {table.summary['seq_len']} tokens per sequence; "
                 f"{', '.join(f'{m}: {d:.2g} tokens' for m, d in tokens.items())})", fontsize=11)
    finish(fig, claim=table.summary["claim"]["statement"])
    return fig


register("released_runs_table", "Released Seesaw grid replayed in token mode: steps and reductions (table + CSV)",
         data, draw)
