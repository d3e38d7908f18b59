"""Serial-step reduction of Seesaw against the discretisation factor ``f`` (docs/math.md#serial-step-reduction).

For each base shape, the reduction ``1 − Σ_k D_k/B_k / (D/B_0)`` of the ramp discretised at factor
``f`` (milestones where the base crosses ``η_0 f^{−k}``, batch × ``f`` at each), against ``f``. As
``f → 1`` it rises to the continuous limit ``1 − ∫ η_base/η_0 / D`` (dotted, per base). The two
limits of the paper are drawn as horizontal lines: ``1 − 2/π`` (quarter cosine) and 50 % (half
cosine and linear decay to 0). Markers: the released token-mode replay (integer batches, one
milestone per batch, stop rule) of the released base at ``f = 1.1, √2, 2``.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ._layout import finish
from ._table import FigureTable, with_claim
from .registry import FigureContext, register
from ..theory import WSD, Cosine, Linear, WarmupCosine, released_seesaw_run, seesaw_step_reduction

#: The paper figure this figure redraws and what differs (its JSON's ``paper_counterpart``; "none" if none).
PAPER_COUNTERPART = {
    "paper": "Meterez et al., Seesaw, arXiv 2510.14717",
    "figure": ("the serial-step reductions the paper states: the limits 1 − 2/π (quarter cosine) and 50 % (half "
               "cosine, linear decay) as f → 1, and the released runs' reductions"),
    "differs": ("the paper states the limits in its text; here the discretised reduction is computed at every f "
                "for each base shape, and the markers replay the released token-mode runs"),
}


BASES = (
    ("half cosine to 0", Cosine(1.0, 1.0)),
    ("quarter cosine", Cosine(1.0, 1.0, quarter=True)),
    ("linear to 0", Linear(1.0, 1.0)),
    ("WSD (20 % linear decay to 0)", WSD(1.0, 1.0, decay_fraction=0.2)),
    ("released: 10 % warmup, cosine to 0.1", WarmupCosine(1.0, 1.0)),
)
MARKED = (1.1, math.sqrt(2.0), 2.0)


def data(ctx: FigureContext) -> FigureTable:
    """The reduction curves, their continuous limits and the released replay (one row per point).

    Parameters
    ----------
    ctx : FigureContext
        ``quick`` sets the number of factors and the replayed token count.

    Returns
    -------
    FigureTable
        Rows ``series, factor, reduction, kind`` (``kind``: phase count, continuous limit or
        released replay); the summary holds the limits, the values at :data:`MARKED` and the replay.
    """
    n = 25 if ctx.quick else 80
    factors = np.unique(np.concatenate([np.geomspace(1.01, 4.0, n), MARKED]))
    rows, limits, at_marked = [], {}, {}
    for name, base in BASES:
        values = np.array([seesaw_step_reduction(base, float(f)) for f in factors])
        limit = seesaw_step_reduction(base)
        limits[name] = limit
        at_marked[name] = {f"{f:.4f}": float(values[np.argmin(np.abs(factors - f))]) for f in MARKED}
        rows.extend({"series": name, "factor": float(f), "reduction": float(v), "kind": "phase count"}
                    for f, v in zip(factors, values))
        rows.append({"series": name, "factor": 1.0, "reduction": limit, "kind": "continuous limit"})

    # The released runs' bookkeeping at the same factors (D = 3.3e9 tokens, L = 1024, B_0 = 256).
    replay = {}
    D, L, B0 = (3.3e8, 1024, 256) if ctx.quick else (3.3e9, 1024, 256)
    cosine = released_seesaw_run(D, L, B0, batch_factor=1.0, lr_factor=1.0)
    for f in MARKED:
        run = released_seesaw_run(D, L, B0, milestone_factor=1 / f, batch_factor=f, lr_factor=f**-0.5)
        replay[f"{f:.4f}"] = run.reduction_vs(cosine)
        rows.append({"series": "released token-mode replay", "factor": f, "reduction": replay[f"{f:.4f}"],
                     "kind": "released replay"})
    return with_claim(FigureTable(rows, {
        "factors": factors, "continuous_limit": limits, "at_factor": at_marked,
        "released_replay": {"total_tokens": D, "seq_len": L, "initial_batch": B0, "reduction": replay},
        "one_minus_two_over_pi": 1 - 2 / math.pi,
    }), _claim, PAPER_COUNTERPART)


def _claim(summary: dict) -> dict:
    """The figure's claim in words, with the numbers that support it (from the summary)."""
    at = summary["at_factor"]["released: 10 % warmup, cosine to 0.1"]
    limit = summary["continuous_limit"]["released: 10 % warmup, cosine to 0.1"]
    return {"statement": (f"for the released shape the Seesaw step reduction is {100 * at['1.1000']:.1f} % at f = 1.1 "
                          f"and approaches the continuous limit {100 * limit:.1f} % as f → 1"),
            "reduction_at_f_1_1": at["1.1000"], "continuous_limit": limit}


def draw(table: FigureTable) -> Figure:
    """The reduction against ``f`` per base (log ``f``), limits dotted, the replay as crosses.

    Parameters
    ----------
    table : FigureTable
        As :func:`data` returns it.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=(11.5, 5.5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for colour, (name, _) in zip(colours, BASES):
        curve = table.select(series=name, kind="phase count")
        limit = table.select(series=name, kind="continuous limit").column("reduction")[0]
        ax.semilogx(curve.column("factor"), 100 * curve.column("reduction"), color=colour, lw=1.4,
                    label=f"{name} (limit {100 * limit:.1f} %)")
        ax.axhline(100 * limit, color=colour, lw=0.8, ls=":")
    ax.axhline(100 * table.summary["one_minus_two_over_pi"], color="k", lw=1.0, ls="--")
    ax.axhline(50.0, color="k", lw=1.0, ls="--")
    ax.text(3.9, 100 * table.summary["one_minus_two_over_pi"] + 0.6, "1 − 2/π", ha="right", fontsize=8)
    ax.text(3.9, 50.6, "50 %", ha="right", fontsize=8)
    replay = table.select(kind="released replay")
    info = table.summary["released_replay"]
    ax.plot(list(replay.column("factor")), [100 * v for v in replay.column("reduction")], "kx", ms=8,
            label=f"released replay (D={info['total_tokens']:.2g} tokens, B₀={info['initial_batch']})")
    ax.set(xlabel=r"discretisation factor $f$ (batch $\times f$, lr $\times f^{-1/2}$ per milestone)",
           ylabel="serial-step reduction vs constant batch (%)", ylim=(0, 55),
           title="Seesaw step reduction: discretised ramps approach the continuous limit as f → 1")
    ticks = [1.01, 1.1, 1.25, 1.5, 2.0, 3.0, 4.0]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    finish(fig, claim=table.summary["claim"]["statement"])
    return fig


register("step_reduction", "Seesaw serial-step reduction vs discretisation factor f, cosine/linear/WSD bases",
         data, draw)
