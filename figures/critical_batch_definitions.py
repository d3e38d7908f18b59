"""Four quantities called "critical batch size", side by side on one problem (issue #23 items 3–5).

Left: against the gradient-norm target ``τ`` (``E‖∇f‖² ≤ τ``), the SFO-minimising batch ``b*`` at a fixed learning
rate, the Pareto critical batch ``B_crit`` of McCandlish et al. (fitted ``S = S_min(1 + B_crit/B)`` with the rate
tuned per batch), the linear-scaling critical batch of Zhang et al. (tuned steps 20 % above linear scaling), and the
gradient noise scales ``B_noise``, ``B_simple`` at the state where the tuned smallest-batch run reaches ``τ``.
Middle: along a step-decay run, the local critical batch of Merrill et al. against training time (samples), with
``B_noise(t)``, ``B_simple(t)`` and the batch of the warmup that follows the local critical batch. Right: the base
run, its two Seesaw variants and that warmup at equal samples: risk against serial steps.

Every number is exact (the expected-risk solver); the sweep runs one task per target and per branching step.
"""

from __future__ import annotations

import math
import textwrap
import warnings

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ._layout import finish
from ._table import FigureTable
from .registry import FigureContext, register
from ..theory import (
    Problem,
    Schedule,
    StepDecay,
    UnstableScheduleWarning,
    critical_batch,
    expected_risk,
    gradient_noise_scale,
    local_critical_batch,
    local_critical_batch_warmup,
    seesaw_schedule,
    tuned_steps,
)
from ..theory.complexity._batch_definitions import linear_scaling_fit, pareto_fit

PROBLEM = {"a": 1.5, "b": 1.0, "noise_variance": 0.5}
NAMES = {  # one public name per quantity (docs/math.md#critical-batch-definitions)
    "sfo": "SFO-minimising batch b*",
    "pareto": "Pareto critical batch (McCandlish)",
    "linear_scaling": "linear-scaling critical batch (Zhang, 20 %)",
    "local": "local critical batch (Merrill)",
}


def _problem(spec: dict) -> Problem:
    return Problem.power_law(spec["d"], a=spec["a"], b=spec["b"], noise_variance=spec["noise_variance"])


def target_row(spec: dict) -> dict:
    """One target ``τ`` (a sweep task): tuned steps per batch, the three target-based batches, the noise scale.

    ``spec``: the problem (``d, a, b, noise_variance``), ``target``, ``batch_grid`` and ``lr_grid``
    (``[first, last, points]``, geometric), ``eta`` (the fixed rate of ``b*``), ``sfo_grid`` and ``max_steps``.
    """
    p = _problem(spec)
    batches = np.geomspace(*spec["batch_grid"][:2], int(spec["batch_grid"][2]))
    lrs = np.geomspace(*spec["lr_grid"][:2], int(spec["lr_grid"][2]))
    tau = spec["target"]
    b, steps, best_lr = tuned_steps(p, batches, tau, lrs=lrs, max_steps=spec["max_steps"])
    fit = pareto_fit(b, steps, best_lr, f"target={tau!r}")
    ok = np.isfinite(steps)
    first = int(np.argmax(ok))
    zhang = linear_scaling_fit(b[first:], steps[first:]) if np.all(ok[first:]) else math.nan
    sfo = critical_batch(p, spec["eta"], math.sqrt(tau), np.geomspace(*spec["sfo_grid"][:2], int(spec["sfo_grid"][2])),
                         max_steps=spec["max_steps"])
    # The noise scale where the tuned run of the smallest reaching batch first meets the target.
    n = int(math.ceil(steps[first]))
    run = expected_risk(p, Schedule.constant(float(best_lr[first]), float(b[first]), steps=n), keep_states=True)
    noise = gradient_noise_scale(p, run.state_at(n))
    return {"pareto": fit.critical_batch, "pareto_residual": fit.fit_residual, "steps_min": fit.steps_min,
            "samples_min": fit.samples_min, "linear_scaling": zhang, "sfo": sfo.critical_batch,
            "b_noise": float(noise.b_noise[0]), "b_simple": float(noise.b_simple[0]), "first_batch": float(b[first]),
            "steps": steps, "samples": b * steps, "best_lr": best_lr}


def _base_schedule(spec: dict) -> tuple:
    shape = StepDecay(spec["eta"], spec["total"], boundaries=tuple(spec["boundaries"]), factor=0.5)
    return shape, Schedule.from_shape(shape, spec["batch"])


def local_row(spec: dict) -> dict:
    """The local critical batch at one step of the base run (a sweep task): ``spec`` as in :func:`data`'s run."""
    p = _problem(spec)
    _, base = _base_schedule(spec)
    with warnings.catch_warnings():  # branches at large k and a linearly scaled rate diverge: flagged, not reached
        warnings.simplefilter("ignore", UnstableScheduleWarning)
        local = local_critical_batch(p, base, spec["step"], spec["window"], multipliers=tuple(spec["multipliers"]),
                                     lr_rule=spec["lr_rule"], tolerance=spec["tolerance"])
    return {"local": local.critical_batch, "samples": float(base.samples_at(spec["step"])),
            "samples_needed": local.samples_needed}


def run_row(spec: dict) -> dict:
    """The base run's noise scale along it, its warmup and Seesaw schedules at equal samples (a sweep task)."""
    p = _problem(spec)
    shape, base = _base_schedule(spec)
    checkpoints = np.unique(np.geomspace(1, base.serial_steps, spec["points"]).astype(np.int64))
    run = expected_risk(p, base, checkpoints=checkpoints, keep_states=True)
    noise = gradient_noise_scale(p, run)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnstableScheduleWarning)
        warm = local_critical_batch_warmup(p, base, check_every=spec["check_every"], window=spec["window"],
                                           lr_rule=spec["lr_rule"], tolerance=spec["tolerance"])
    schedules = {"base": base, "Seesaw (η/√2, 2B)": seesaw_schedule(shape, spec["batch"], 2.0, rounding="floor"),
                 "Seesaw fixed-rate arm (η, 2B)": seesaw_schedule(shape, spec["batch"], 2.0, lr_power=0.0,
                                                                  rounding="floor"),
                 "local-critical-batch warmup": warm}
    out = {"noise_steps": noise.steps, "noise_samples": base.samples_at(noise.steps).astype(np.float64),
           "b_noise": noise.b_noise, "b_simple": noise.b_simple,
           "warmup_samples": warm.samples_before.astype(np.float64), "warmup_batch": warm.batch.astype(np.float64),
           "growth_samples": np.asarray(warm.metadata["growth_samples"], dtype=np.float64)}
    for k, (name, s) in enumerate(schedules.items()):
        r = expected_risk(p, s)
        idx = np.unique(np.geomspace(1, s.serial_steps + 1, 200).astype(np.int64) - 1)
        out[f"s{k}_steps"], out[f"s{k}_risk"] = idx.astype(np.float64), r.risk[idx]
        out[f"s{k}_serial"], out[f"s{k}_final"] = float(s.serial_steps), float(r.risk[-1])
        out[f"s{k}_samples"] = float(s.total_samples)
    return out


SCHEDULE_NAMES = ("base", "Seesaw (η/√2, 2B)", "Seesaw fixed-rate arm (η, 2B)", "local-critical-batch warmup")


def data(ctx: FigureContext) -> FigureTable:
    """The four critical batch sizes and the noise scale on one problem, and the warmup comparison.

    Parameters
    ----------
    ctx : FigureContext
        ``quick`` sets the dimension and grids; one sweep task per target, per branching step, and one for the run.

    Returns
    -------
    FigureTable
        Rows ``series, target, batch`` (left panel), ``series, samples, batch`` (middle) and
        ``series, step, risk`` (right); the summary holds every number, the names and the claims.
    """
    if ctx.quick:
        d, targets, n_batch, lr_grid, total, n_local, max_steps = 30, (3e-2, 1e-2), 8, [1e-2, 2.0, 12], 4000, 4, 5000
    else:
        d, targets, n_batch, lr_grid, total, n_local, max_steps = (1000, (3e-2, 1.5e-2, 7e-3), 11, [3e-3, 2.0, 24],
                                                                   40000, 8, 100_000)
    prob = {"d": d, **PROBLEM}
    eta, batch0 = 0.2, 4
    batch_grid, sfo_grid = [1.0, 2.0 ** (n_batch - 1), n_batch], [1.0, 4096.0, 25]
    swept = ctx.sweep(target_row, [{**prob, "target": t, "batch_grid": batch_grid, "lr_grid": lr_grid, "eta": eta,
                                    "sfo_grid": sfo_grid, "max_steps": max_steps} for t in targets])
    run_spec = {**prob, "eta": 0.3, "batch": batch0, "total": total, "boundaries": [0.25, 0.5, 0.75],
                "window": total / 40, "check_every": total / 40, "lr_rule": "linear", "tolerance": 0.1,
                "points": 40}
    base_steps = total // batch0
    branch_steps = np.unique(np.geomspace(1, base_steps - run_spec["window"] / batch0, n_local).astype(int))
    multipliers = [1, 2, 4, 8, 16, 32, 64, 128]
    rules = ("linear", "sqrt")
    local = ctx.sweep(local_row, [{**run_spec, "step": int(t), "multipliers": multipliers, "lr_rule": rule}
                                  for rule in rules for t in branch_steps])
    run_result = ctx.sweep(run_row, [run_spec])
    run = {**run_result.curves[0], **next(run_result.table.itertuples())._asdict()}

    rows, per_target = [], {}
    for t, row in zip(targets, swept.table.itertuples()):
        entry = {key: float(getattr(row, key)) for key in ("sfo", "pareto", "linear_scaling", "b_noise", "b_simple",
                                                            "pareto_residual", "steps_min", "samples_min",
                                                            "first_batch")}
        per_target[f"{t:g}"] = entry
        for key in ("sfo", "pareto", "linear_scaling", "b_noise", "b_simple"):
            rows.append({"series": key, "target": t, "batch": entry[key]})
    by_rule = {rule: [] for rule in rules}
    for r in local.table.itertuples():
        by_rule[r.lr_rule].append({"samples": float(r.samples), "local": float(r.local)})
    locals_ = by_rule["linear"]
    for rule, series in (("linear", "local"), ("sqrt", "local sqrt rule")):
        for entry in by_rule[rule]:
            rows.append({"series": series, "samples": entry["samples"], "batch": entry["local"]})
    for s, bn, bs in zip(run["noise_samples"], run["b_noise"], run["b_simple"]):
        rows.append({"series": "b_noise along run", "samples": float(s), "batch": float(bn)})
        rows.append({"series": "b_simple along run", "samples": float(s), "batch": float(bs)})
    for s, b in zip(run["warmup_samples"], run["warmup_batch"]):
        rows.append({"series": "warmup batch", "samples": float(s), "batch": float(b)})
    comparison = {}
    for k, name in enumerate(SCHEDULE_NAMES):
        comparison[name] = {"serial_steps": run[f"s{k}_serial"], "final_risk": run[f"s{k}_final"],
                            "samples": run[f"s{k}_samples"]}
        for step, risk in zip(run[f"s{k}_steps"], run[f"s{k}_risk"]):
            rows.append({"series": name, "step": float(step), "risk": float(risk)})

    first, last = per_target[f"{targets[0]:g}"], per_target[f"{targets[-1]:g}"]
    warm, base = comparison["local-critical-batch warmup"], comparison["base"]
    see = comparison["Seesaw fixed-rate arm (η, 2B)"]
    claims = [
        f"at τ = {targets[-1]:g} the four definitions differ: b* = {last['sfo']:.3g} (η = {eta}), Pareto "
        f"{last['pareto']:.3g}, linear-scaling {last['linear_scaling']:.3g}, B_noise = {last['b_noise']:.3g} at the "
        f"tuned run's state",
        "b*, the Pareto and the linear-scaling critical batch all grow as the target decreases"
        if all(last[k] > first[k] for k in ("sfo", "pareto", "linear_scaling"))
        else "NOT every target-based critical batch grows as the target decreases (see per_target)",
        "the local critical batch along the run (samples: batch), rate scaled linearly: "
        + ", ".join(f"{e['samples']:.0f}: {e['local']:.3g}" for e in locals_) + "; rate scaled by √k: "
        + ", ".join(f"{e['samples']:.0f}: {e['local']:.3g}" for e in by_rule["sqrt"]),
        f"the local-critical-batch warmup takes {warm['serial_steps']:.0f} serial steps against the base's "
        f"{base['serial_steps']:.0f} and the fixed-rate Seesaw's {see['serial_steps']:.0f} at equal samples; final "
        f"risk {warm['final_risk']:.4g} against {base['final_risk']:.4g} and {see['final_risk']:.4g}",
    ]
    summary = {
        "problem": {"family": "power_law", **prob},
        "names": NAMES,
        "targets": list(targets),
        "target_definition": "E‖∇f‖² = Σλ²s ≤ τ",
        "sfo_eta": eta,
        "batch_grid": batch_grid, "lr_grid": lr_grid, "sfo_grid": sfo_grid,
        "per_target": per_target,
        "local": {"lr_rule": "linear", "tolerance": 0.1, "window_samples": run_spec["window"],
                  "multipliers": multipliers, "points": locals_, "points_sqrt_rule": by_rule["sqrt"]},
        "base_run": {"shape": "StepDecay", "eta": run_spec["eta"], "batch": batch0, "total_samples": total,
                     "boundaries": run_spec["boundaries"], "decay": 0.5},
        "warmup": {"check_every": run_spec["check_every"], "growth_samples": list(map(float, run["growth_samples"]))},
        "equal_samples_comparison": comparison,
        "claims": claims,
        "paper_counterpart": {
            "paper": ("McCandlish et al. 2018, arXiv 1812.06162; Zhang et al. 2024, arXiv 2410.21676; "
                      "Merrill et al. 2025, arXiv 2505.23971"),
            "figure": ("McCandlish et al. Fig. 4 (Pareto fronts of steps against examples), Zhang et al. Fig. 1 "
                       "(critical batch against data), Merrill et al. Fig. 2 (local critical batch over training)"),
            "differs": ("one exactly solvable problem (noisy linear regression, exact expected risk) instead of "
                        "trained networks, the four definitions side by side, and the SFO-minimising batch b* beside them"),
        },
    }
    summary["claim"] = {"statement": claims[0], "b_star": last["sfo"], "pareto": last["pareto"],
                        "linear_scaling": last["linear_scaling"], "b_noise": last["b_noise"]}
    return FigureTable(rows, summary)


def draw(table: FigureTable) -> Figure:
    """Three panels: the batches against the target, the local critical batch along the run, the comparison.

    Parameters
    ----------
    table : FigureTable
        As :func:`data` returns it.

    Returns
    -------
    matplotlib.figure.Figure
    """
    summary = table.summary
    fig, axes = plt.subplots(1, 3, figsize=(17, 5))
    ax = axes[0]
    labels = {**{k: NAMES[k] for k in ("sfo", "pareto", "linear_scaling")},
              "b_noise": "B_noise at the tuned run's state", "b_simple": "B_simple at the tuned run's state"}
    styles = {"sfo": "o-", "pareto": "s-", "linear_scaling": "^-", "b_noise": "x--", "b_simple": "+--"}
    for key, label in labels.items():
        part = table.select(series=key)
        ax.loglog(part.column("target"), part.column("batch"), styles[key], label=label)
    ax.invert_xaxis()
    ax.set(xlabel="target τ on E‖∇f‖² (smaller: more data)", ylabel="batch size (samples)",
           title=f"target-based definitions\n(b* at η = {summary['sfo_eta']}; others with η tuned per batch)")
    ax = axes[1]
    part = table.select(series="local")
    ax.loglog(part.column("samples"), part.column("batch"), "D-", label=NAMES["local"] + ", η × k")
    part = table.select(series="local sqrt rule")
    ax.loglog(part.column("samples"), part.column("batch"), "v-", label=NAMES["local"] + ", η × √k")
    for key, style in (("b_noise along run", "--"), ("b_simple along run", ":")):
        part = table.select(series=key)
        ax.loglog(part.column("samples"), part.column("batch"), style, label=key.replace(" along run", "(t)"))
    part = table.select(series="warmup batch")
    ax.step(part.column("samples"), part.column("batch"), where="post", color="0.3", label="warmup's batch")
    ax.set(xlabel="training time (samples)", ylabel="batch size (samples)",
           title=f"along the step-decay run (B = {summary['base_run']['batch']})\n"
                 f"local: tolerance {summary['local']['tolerance']:.0%}; warmup: η scaled linearly")
    ax = axes[2]
    for name in SCHEDULE_NAMES:
        part = table.select(series=name)
        info = summary["equal_samples_comparison"][name]
        ax.loglog(np.asarray(part.column("step")) + 1, part.column("risk"),
                  label=f"{name}: {info['serial_steps']:.0f} steps, R = {info['final_risk']:.3g}")
    ax.set(xlabel="serial steps + 1", ylabel="expected excess risk",
           title=f"equal samples ({summary['base_run']['total_samples']}): serial steps and final risk")
    p = summary["problem"]
    fig.suptitle(f"Four critical batch sizes on power law d={p['d']}, a={p['a']}, b={p['b']}, "
                 f"σ²={p['noise_variance']} (SGD, exact)", fontsize=11)
    finish(fig, *((a, dict(fontsize=7)) for a in axes), claim=summary["claim"]["statement"], rect=(0, 0.06, 1, 1))
    fig.text(0.5, 0.01, textwrap.fill("; ".join(summary["claims"][1:]), 230), ha="center", va="bottom", fontsize=8)
    return fig


register("critical_batch_definitions",
         "b*, the Pareto, linear-scaling and local critical batch, and the noise scale on one problem", data, draw)
