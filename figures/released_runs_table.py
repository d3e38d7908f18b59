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

from .registry import FigureContext, register
from ..theory.schedules.released import RELEASED_MODELS, format_released_table, released_grid


@register("released_runs_table",
          "Released Seesaw grid replayed in token mode: steps and reductions (table + CSV)")
def build(ctx: FigureContext) -> None:
    models = RELEASED_MODELS[:1] if ctx.quick else RELEASED_MODELS
    rows = released_grid(models=models)
    print(format_released_table(rows), flush=True)

    fig, (ax_main, ax_ab) = plt.subplots(1, 2, figsize=(12, 4.5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for colour, (model, _) in zip(colours, models):
        for group, marker in (("main", "o-"), ("large_batch", "s--")):
            mine = [r for r in rows if r["model"] == model and r["group"] == group]
            ax_main.semilogx([r["initial_batch"] for r in mine], [100 * r["reduction"] for r in mine],
                             marker, base=2, color=colour, label=f"{model} {group.replace('_', ' ')}")
        ab = [r for r in rows if r["model"] == model and r["group"] == "alpha_beta"]
        betas = sorted({r["beta"] for r in ab})
        # The four B_0 agree to ~0.05 %: draw their range as an error bar around the mean.
        values = [[100 * r["reduction"] for r in ab if r["beta"] == beta] for beta in betas]
        mean = np.array([np.mean(v) for v in values])
        spread = np.array([[m - min(v), max(v) - m] for m, v in zip(mean, values)]).T
        ax_ab.errorbar(betas, mean, yerr=spread, fmt="o-", color=colour, ms=4, lw=1, capsize=3,
                       label=f"{model} (B₀ = 128 … 1024)")
    for beta, alpha in ((r["beta"], r["alpha"]) for r in rows if r["group"] == "alpha_beta"
                        and r["model"] == models[0][0] and r["initial_batch"] == 128):
        value = next(100 * r["reduction"] for r in rows if r["group"] == "alpha_beta"
                     and r["model"] == models[0][0] and r["initial_batch"] == 128 and r["beta"] == beta)
        ax_ab.annotate(f"({alpha:.3g}, {beta:.3g})", (beta, value), textcoords="offset points",
                       xytext=(4, -12), fontsize=7)
    ax_main.axhline(38.4, color="0.5", ls=":", lw=1)
    ax_main.set(xlabel="initial batch B₀ (sequences)", ylabel="step reduction vs cosine (%)",
                title="Seesaw f = 1.1 (main and large-batch runs)")
    ax_main.legend(fontsize=7)
    ax_ab.set(xlabel="β (batch factor per halving milestone); α = 2/√β", ylabel="step reduction (%)",
              title="(α, β) runs on α√β = 2, milestone factor 1/2")
    ax_ab.set_xscale("log", base=2)
    ax_ab.legend(fontsize=7)
    fig.tight_layout()

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
    }
    ctx.save(fig, rows, summary)
