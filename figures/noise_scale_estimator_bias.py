"""How far practitioners' noise-scale estimators land from the exact noise scale along a run (issue #23 item 5).

One SGD run of noisy linear regression, many Monte Carlo replicas: at checkpoints, the two-batch estimator, its
moving averages and the per-example estimator of ``|G|²`` and ``tr Σ`` (docs/math.md#noise-scale-estimators), and
each one's ``B_simple = tr Σ / |G|²`` per replica, beside the exact values at the exact second moments
(docs/math.md#gradient-noise-scale).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ._layout import finish
from ._table import FigureTable
from .registry import FigureContext, register
from ..simulations import ESTIMATORS, noise_scale_estimators
from ..theory import Problem, Schedule

PROBLEM = {"a": 1.5, "b": 1.0, "noise_variance": 0.5}
LABELS = {"two_batch": "two batches (b, B)", "ema": "moving averages, then ratio", "per_example": "per-example"}


def estimator_row(spec: dict) -> dict:
    """The replay (a sweep task): ``spec`` holds the problem, ``lr``, ``batch``, ``steps``, ``small_batch``,
    ``runs``, ``ema``, ``points`` and ``seed``."""
    p = Problem.power_law(spec["d"], a=spec["a"], b=spec["b"], noise_variance=spec["noise_variance"])
    steps = spec["steps"]
    checkpoints = np.unique(np.geomspace(1, steps, spec["points"]).astype(np.int64) - 1)
    est = noise_scale_estimators(p, Schedule.constant(spec["lr"], spec["batch"], steps=steps),
                                 small_batch=spec["small_batch"], runs=spec["runs"], checkpoints=checkpoints,
                                 ema=spec["ema"], seed=spec["seed"])
    out = {"checkpoints": est.steps.astype(np.float64)}
    for q in ("grad_norm_sq", "trace_cov", "b_simple"):
        out[f"exact_{q}"] = getattr(est.exact, q)
        for i, name in enumerate(ESTIMATORS):
            out[f"{name}_{q}_mean"] = est.mean[q][i]
            out[f"{name}_{q}_se"] = est.stderr[q][i]
            out[f"{name}_{q}_spread"] = est.spread[q][i]
            out[f"{name}_{q}_q25"], out[f"{name}_{q}_median"], out[f"{name}_{q}_q75"] = est.quartiles[q][i]
    return out


def data(ctx: FigureContext) -> FigureTable:
    """Each estimator's mean, standard error and spread at checkpoints, beside the exact values.

    Parameters
    ----------
    ctx : FigureContext
        ``quick`` sets the dimension, the run's length and the replicas.

    Returns
    -------
    FigureTable
        Rows ``series, quantity, step, value, stderr, spread`` (``series`` an estimator or ``exact``); the summary
        holds the bias table at the last checkpoint and the claims.
    """
    if ctx.quick:
        spec = {"d": 20, "steps": 200, "runs": 300, "points": 8}
    else:
        spec = {"d": 100, "steps": 1000, "runs": 1000, "points": 12}
    spec.update(PROBLEM, lr=0.3, batch=16, small_batch=2, ema=0.95, seed=2312)
    curves = ctx.sweep(estimator_row, [spec]).curves[0]
    rows, table = [], {}
    steps = curves["checkpoints"]
    for q in ("grad_norm_sq", "trace_cov", "b_simple"):
        for k, s in enumerate(steps):
            rows.append({"series": "exact", "quantity": q, "step": float(s), "value": float(curves[f"exact_{q}"][k])})
        for name in ESTIMATORS:
            for k, s in enumerate(steps):
                rows.append({"series": name, "quantity": q, "step": float(s),
                             "value": float(curves[f"{name}_{q}_mean"][k]),
                             "stderr": float(curves[f"{name}_{q}_se"][k]),
                             "spread": float(curves[f"{name}_{q}_spread"][k]),
                             "q25": float(curves[f"{name}_{q}_q25"][k]),
                             "median": float(curves[f"{name}_{q}_median"][k]),
                             "q75": float(curves[f"{name}_{q}_q75"][k])})
            exact = float(curves[f"exact_{q}"][-1])
            mean, se = float(curves[f"{name}_{q}_mean"][-1]), float(curves[f"{name}_{q}_se"][-1])
            table.setdefault(name, {})[q] = {
                "exact": exact, "mean": mean, "relative_bias": (mean - exact) / exact, "z": (mean - exact) / se,
                "relative_spread": float(curves[f"{name}_{q}_spread"][-1]) / exact,
                "median": float(curves[f"{name}_{q}_median"][-1]),
                "relative_bias_of_median": float(curves[f"{name}_{q}_median"][-1]) / exact - 1}
        if q == "trace_cov":   # the ratio of the replica means of the two unbiased estimates
            for name in ESTIMATORS:
                rom = curves[f"{name}_trace_cov_mean"] / curves[f"{name}_grad_norm_sq_mean"]
                table[name]["ratio_of_means"] = float(rom[-1])
                for k, s in enumerate(steps):
                    rows.append({"series": name, "quantity": "ratio_of_means", "step": float(s), "value": float(rom[k])})
    unbiased = all(abs(table[n][q]["z"]) <= 4 for n in ("two_batch", "per_example") for q in ("grad_norm_sq", "trace_cov"))
    ratio = table["two_batch"]["b_simple"]
    claims = [
        "the two-batch and per-example estimates of |G|² and tr Σ are unbiased at the last checkpoint (|z| ≤ 4)"
        if unbiased else "an estimate of |G|² or tr Σ is biased beyond 4 SE at the last checkpoint (see bias_table)",
        f"the per-replica ratio B_simple of the two-batch estimates has median {ratio['median']:.3g} against the exact "
        f"{ratio['exact']:.3g} ({100 * ratio['relative_bias_of_median']:+.0f} %) and a mean of {ratio['mean']:.3g} "
        "(heavy tails: the |G|² estimate crosses 0) at the last checkpoint, while the ratio of the replicas' mean "
        f"estimates is {table['two_batch']['ratio_of_means']:.3g}",
        f"the moving averages' B_simple (β = {spec['ema']}) is off by "
        f"{100 * table['ema']['b_simple']['relative_bias']:+.0f} % at the last checkpoint: their |G|² average still "
        f"scatters by {100 * table['ema']['grad_norm_sq']['relative_spread']:.0f} % of |G|² there, far outside the "
        "first-order closed form's range; early in the run the averages also lag the falling |G|²",
    ]
    summary = {
        "problem": {"family": "power_law", "d": spec["d"], **PROBLEM},
        "run": {"lr": spec["lr"], "batch": spec["batch"], "steps": spec["steps"]},
        "estimators": {name: LABELS[name] for name in ESTIMATORS},
        "small_batch": spec["small_batch"], "ema": spec["ema"], "runs": spec["runs"], "seed": spec["seed"],
        "bias_table_last_checkpoint": table,
        "definition": ("exact: ratios of expectations at the exact second moments; estimators: the mean over replicas "
                       "of each replica's estimate (an expectation of a ratio for B_simple)"),
        "claims": claims,
        "estimator_bias_definition": ("relative_bias = (mean over replicas − exact)/exact; z = that difference in "
                                      "standard errors; ratio_of_means = mean tr Σ estimate / mean |G|² estimate"),
        "paper_counterpart": {
            "paper": "McCandlish et al. 2018, An Empirical Model of Large-Batch Training, arXiv 1812.06162",
            "figure": "App. A.1 (the two-batch and moving-average estimators of |G|² and tr Σ)",
            "differs": ("no figure of theirs shows the estimators' bias: here each estimator is replayed by Monte "
                        "Carlo along an exact run and compared with the exact noise scale at the second moments"),
        },
    }
    summary["claim"] = {"statement": claims[1], "median": ratio["median"], "exact": ratio["exact"],
                        "ratio_of_means": table["two_batch"]["ratio_of_means"]}
    return FigureTable(rows, summary)


def draw(table: FigureTable) -> Figure:
    """B_simple's estimates against the exact one, and the relative bias of |G|² and tr Σ.

    Parameters
    ----------
    table : FigureTable
        As :func:`data` returns it.

    Returns
    -------
    matplotlib.figure.Figure
    """
    summary = table.summary
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    for ax, q, title in ((axes[0], "b_simple", "B_simple per replica: median and quartiles;\nratio of replica means dashed"),
                         (axes[1], "grad_norm_sq", "|G|²: relative bias (± 4 SE)"),
                         (axes[2], "trace_cov", "tr Σ: relative bias (± 4 SE)")):
        exact = table.select(series="exact", quantity=q)
        x, ref = np.asarray(exact.column("step")) + 1, np.asarray(exact.column("value"))
        for i, name in enumerate(("two_batch", "ema", "per_example")):
            part = table.select(series=name, quantity=q)
            mean, se, spread = (np.asarray(part.column(c)) for c in ("value", "stderr", "spread"))
            if q == "b_simple":
                med, lo, hi = (np.asarray(part.column(c)) for c in ("median", "q25", "q75"))
                ax.plot(x, med, "o-", color=f"C{i}", ms=3, label=LABELS[name])
                ax.fill_between(x, lo, hi, color=f"C{i}", alpha=0.12)
                rom = table.select(series=name, quantity="ratio_of_means")
                ax.plot(x, rom.column("value"), "--", color=f"C{i}", lw=1)
            else:
                ax.errorbar(x * (1 + 0.04 * (i - 1)), (mean - ref) / ref, yerr=4 * se / ref, fmt="o-", ms=3,
                            color=f"C{i}", label=LABELS[name])
        if q == "b_simple":
            ax.plot(x, ref, "k-", lw=2, label="exact (ratio of expectations)")
            ax.set_ylim(0, 3 * float(np.max(ref)))
        else:
            ax.axhline(0.0, color="k", lw=1)
        ax.set_xscale("log")
        ax.set(xlabel="step + 1", title=title)
    axes[0].set_ylabel("samples")
    axes[1].set_ylabel("(mean − exact) / exact")
    p, r = summary["problem"], summary["run"]
    fig.suptitle(f"Noise-scale estimators on power law d={p['d']}, σ²={p['noise_variance']}; SGD η={r['lr']}, "
                 f"B={r['batch']}, b={summary['small_batch']}, EMA β={summary['ema']}, {summary['runs']} replicas",
                 fontsize=11)
    return finish(fig, *((a, dict(fontsize=7)) for a in axes), claim=summary["claim"]["statement"])


register("noise_scale_estimator_bias", "Two-batch, moving-average and per-example noise-scale estimators vs exact",
         data, draw)
