"""Does a batch ramp track learning-rate decay beyond SGD? Momentum, NSGD, SignSGD, Adam, around the gradient noise scale.

docs/math.md#equivalence, docs/math.md#monte-carlo-optimizers. One power-law problem (``d = 200`` in
full mode), five phases; in every pair the *decay* member halves the rate each phase at constant
batch, ``(α, β) = (2, 1)``, and the *ramp* member doubles the batch, with the rate the rule says:

- ``αβ`` rule (SGD's invariant ``η/B``): ``(α, β) = (1, 2)``, rate held;
- ``α√β`` rule (NSGD's invariant in the variance-dominated regime): ``(√2, 2)``, Seesaw's step.

Both members see the same samples in every phase (the decay takes ``N`` steps per phase, the ramp
``N/2^k``). Measured: the ratio of final excess risks, ramp / decay, with its standard error (Monte
Carlo, independent seeds: ``SE(r) = r·sqrt((SE_ramp/R_ramp)² + (SE_decay/R_decay)²)``). SGD and
NSGD (expected denominator) come from the exact solver (SE 0); heavy-ball momentum (μ = 0.9),
SignSGD and Adam: ``η_0 = 0.08`` at every ``B_0`` (per-coordinate step length; the best of the
grid 0.005·4^k for the decay member at ``B_0 ≥ 64`` in a scan of this problem, larger rates do better
at the smallest batches), so that across ``B_0`` only the batch changes. Adam runs twice: with the
default ``betas = (0.9, 0.999)``, whose second moment averages ``g²`` over about 1000 steps (longer
than a phase, so it lags every batch change), and with ``β₂ = 0.95`` (about 20 steps).
"""

from __future__ import annotations

import math
import time

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ._seesaw_setup import max_stable_lr, nsgd_peak_lr
from ._layout import finish
from ._table import FigureTable
from .registry import FigureContext, register
from ..simulations import resolve_optimizer, simulate
from ..theory import Numerics, Problem, expected_risk, phase_schedule
from ..theory.dynamics import gradient_second_moment

#: The paper figure this figure redraws and what differs (its JSON's ``paper_counterpart``; "none" if none).
PAPER_COUNTERPART = "none"


RULES = {"αβ": (1.0, 2.0), "α√β": (math.sqrt(2.0), 2.0)}
DECAY = (2.0, 1.0)
#: (series, rule) pairs measured; "sgd" and "nsgd" are exact.
PAIRS = (("sgd", "αβ"), ("momentum", "αβ"), ("nsgd", "α√β"), ("signsgd", "α√β"), ("signsgd", "αβ"),
         ("adam", "α√β"), ("adam", "αβ"), ("adam β₂=0.95", "α√β"), ("adam β₂=0.95", "αβ"))
MOMENTUM = 0.9
#: Series → (optimizer of simulate, its hyper-parameters).
SERIES = {"sgd": ("sgd", {}), "nsgd": ("nsgd", {}), "momentum": ("momentum", {"momentum": MOMENTUM}),
          "signsgd": ("signsgd", {}), "adam": ("adam", {}), "adam β₂=0.95": ("adam", {"betas": (0.9, 0.95)})}
#: A ramp "tracks" the decay when its final risk is within this factor of the decay's.
TRACKING_FACTOR = 1.25
#: η_0 of SignSGD and Adam (per-coordinate step length), at every B_0.
SIGN_ADAM_LR = 0.08


def setup(quick: bool) -> dict:
    """Problem, batch grid, phase length, runs (also used by the figure's test).

    Parameters
    ----------
    quick : bool
        CI size (``d = 40``, two initial batches, 64 runs) instead of the full one.

    Returns
    -------
    dict
        ``problem`` (a power law, docs/math.md#monte-carlo-optimizers), ``batches`` (the initial
        batch sizes ``B_0``), ``steps_per_phase``, ``phases`` and ``runs`` (Monte Carlo runs).

    Examples
    --------
    >>> cfg = setup(True)
    >>> cfg["problem"].dimension, cfg["batches"], cfg["phases"], cfg["runs"]
    (40, (2, 64), 3, 64)
    """
    if quick:
        return {"problem": Problem.power_law(40, a=1.5, b=1.0, noise_variance=0.5), "batches": (2, 64),
                "steps_per_phase": 32, "phases": 3, "runs": 64}
    return {"problem": Problem.power_law(200, a=1.5, b=1.0, noise_variance=0.5),
            "batches": (1, 4, 16, 64, 256, 1024), "steps_per_phase": 128, "phases": 5, "runs": 200}


def noise_scale(problem: Problem, second_moment: np.ndarray) -> float:
    """``B_noise = C/‖E g‖²`` at second moments ``s`` (docs/math.md#normalized-sgd).

    ``C = (κ − 2) Σλ²s + tr H (Σλs + σ²)`` is the variance of one sample's gradient and
    ``‖E g‖² = Σλ²s``.

    Parameters
    ----------
    problem : Problem
    second_moment : ndarray, shape (d,)
        Per-direction second moments ``s`` of the error.

    Returns
    -------
    float
        The noise scale in samples (``inf`` at the optimum, where ``‖E g‖ = 0``).

    Examples
    --------
    ``λ = (1, ½)``, ``s = (1, 1)``, ``σ² = ½``, ``κ = 3``: ``C = 1.25 + 1.5 · 2 = 4.25``, ``‖E g‖² = 1.25``:

    >>> p = Problem([1.0, 0.5], [1.0, 1.0], noise_variance=0.5)
    >>> round(noise_scale(p, np.ones(2)), 6), noise_scale(p, np.zeros(2))
    (3.4, inf)
    """
    lam = problem.eigenvalues
    mean2 = float(np.sum(lam * lam * second_moment))
    noise = float((problem.kurtosis - 2.0) * mean2
                  + np.sum(lam) * (np.sum(lam * second_moment) + problem.noise_variance))
    return noise / mean2 if mean2 > 0 else math.inf


def _ratio(ramp: float, se_ramp: float, decay: float, se_decay: float) -> tuple[float, float]:
    r = ramp / decay
    return r, r * math.hypot(se_ramp / ramp, se_decay / decay)


def data(ctx: FigureContext) -> FigureTable:
    """Every (optimizer, rule) pair at every ``B_0``: one row each, with the ratio and whether it tracks.

    Parameters
    ----------
    ctx : FigureContext
        ``quick`` (sizes of :func:`setup`), ``seed`` (root of the Monte Carlo seeds) and ``backend``.

    Returns
    -------
    FigureTable
        Rows ``rule, optimizer, hyperparameters, batch, lr0, risk_ratio_ramp_over_decay, se,
        decay_risk, decay_se, ramp_risk, ramp_se, decay_steps, ramp_steps, exact, tracks``; the
        summary holds the problem, the gradient noise scale, the failures and the statements they support.
    """
    cfg = setup(ctx.quick)
    problem, n, phases = cfg["problem"], cfg["steps_per_phase"], cfg["phases"]
    b_init = noise_scale(problem, problem.initial_second_moment)
    rows, table, timings = [], [], {}
    decay_risk: dict[tuple[str, int], tuple[float, float]] = {}
    mean_variance = {}
    seed_index = 0

    def schedules(lr0: float, b0: int, alpha: float, beta: float):
        samples = [float(n * b0)] * phases
        return phase_schedule(lr0, b0, alpha, beta, samples, integer_batch=True)

    def mc(optimizer: str, lr0: float, b0: int, member: tuple[float, float], runs: int, **kw):
        nonlocal seed_index
        seed_index += 1
        s = schedules(lr0, b0, *member)
        spec = type(resolve_optimizer(optimizer))(**kw)  # the shorthand's spec with these hyper-parameters
        r = simulate(problem, s, spec, runs=runs, seed=[ctx.seed, seed_index], numerics=Numerics(backend=ctx.backend),
                     checkpoints=[s.total_samples])
        return float(r.mean_risk[-1]), float(r.stderr[-1])

    for b0 in cfg["batches"]:
        start = time.perf_counter()
        lr_sgd = 0.5 * max_stable_lr(problem, b0)
        if b0 <= b_init:
            lr_nsgd = nsgd_peak_lr(problem, b0, 0.5)
        else:
            lr_nsgd = 0.5 * max_stable_lr(problem, b0) * math.sqrt(
                gradient_second_moment(problem, problem.initial_second_moment, b0))
        # Exact members: SGD and NSGD.
        for optimizer, lr0 in (("sgd", lr_sgd), ("nsgd", lr_nsgd)):
            rule = "αβ" if optimizer == "sgd" else "α√β"
            dec, ramp = expected_risk(problem, [schedules(lr0, b0, *DECAY), schedules(lr0, b0, *RULES[rule])],
                                      optimizer)
            decay_risk[(optimizer, b0)] = (dec.final_risk, 0.0)
            table.append((rule, optimizer, b0, lr0, dec.final_risk, 0.0, ramp.final_risk, 0.0,
                          len(dec.schedule), len(ramp.schedule)))
            if optimizer == "nsgd":
                mv = dec.mean_variance_ratio
                mean_variance[b0] = (float(mv[0]), float(mv[-1]))
        # Monte Carlo members.
        for series, rule in PAIRS:
            optimizer, kw = SERIES[series]
            if optimizer in ("sgd", "nsgd"):
                continue
            lr0 = (1.0 - MOMENTUM) * lr_sgd if optimizer == "momentum" else SIGN_ADAM_LR
            if (series, b0) not in decay_risk:
                decay_risk[(series, b0)] = mc(optimizer, lr0, b0, DECAY, cfg["runs"], **kw)
            dec, se_dec = decay_risk[(series, b0)]
            ramp, se_ramp = mc(optimizer, lr0, b0, RULES[rule], cfg["runs"], **kw)
            table.append((rule, series, b0, lr0, dec, se_dec, ramp, se_ramp, n * phases,
                          sum(n // 2**k for k in range(phases))))
        timings[b0] = time.perf_counter() - start

    # The gradient noise scale (where B_0 equals it), at the start and at the end of the
    # NSGD decay runs (μ = B_0/B_noise, so B_noise = B_0/μ).
    b_end = {b0: b0 / mv[1] if mv[1] > 0 else math.inf for b0, mv in mean_variance.items()}

    failures: dict[str, list[int]] = {}
    max_rel_se = 0.0
    for optimizer, rule in PAIRS:
        mine = [t for t in table if t[0] == rule and t[1] == optimizer]
        for (_, _, b0, lr0, dec, se_dec, ramp, se_ramp, steps_dec, steps_ramp) in mine:
            r, se = _ratio(ramp, se_ramp, dec, se_dec)
            max_rel_se = max(max_rel_se, se_dec / dec, se_ramp / ramp)
            fails = (r - 2 * se > TRACKING_FACTOR) or (r + 2 * se < 1 / TRACKING_FACTOR)
            if fails:
                failures.setdefault(f"{optimizer} ({rule})", []).append(b0)
            rows.append({"rule": rule, "optimizer": optimizer, "hyperparameters": repr(SERIES[optimizer][1]),
                         "batch": b0, "lr0": lr0,
                         "risk_ratio_ramp_over_decay": r, "se": se, "decay_risk": dec, "decay_se": se_dec,
                         "ramp_risk": ramp, "ramp_se": se_ramp, "decay_steps": steps_dec,
                         "ramp_steps": steps_ramp, "exact": optimizer in ("sgd", "nsgd"),
                         "tracks": not fails})

    statements = []
    for optimizer, rule in PAIRS:
        key = f"{optimizer} ({rule})"
        if key in failures:
            statements.append(f"{key}: the ramp does NOT track the decay (final risk ratio outside "
                              f"[1/{TRACKING_FACTOR:g}, {TRACKING_FACTOR:g}] by more than 2 SE) at B0 = "
                              f"{failures[key]}")
        else:
            statements.append(f"{key}: the ramp tracks the decay within ×{TRACKING_FACTOR:g} at every B0 measured")
    return FigureTable(rows, {
        "problem": {"d": problem.dimension, "a": 1.5, "b": 1.0, "noise_variance": 0.5},
        "phases": phases, "decay_steps_per_phase": n, "batches": list(cfg["batches"]), "runs": cfg["runs"],
        "momentum": MOMENTUM, "decay_member": DECAY, "ramp_members": RULES,
        "gradient_noise_scale": {
            "definition": ("gradient noise scale C/||E g||^2 (batch at which mean/variance ratio = 1; not the "
                           "critical batch size b*, docs/math.md#attribution)"),
            "at_initialisation": b_init,
            "at_end_of_nsgd_decay_by_B0": b_end,
            "nsgd_mean_variance_ratio_start_end_by_B0": mean_variance,
        },
        "sign_adam_lr0": SIGN_ADAM_LR,
        "tracking_factor": TRACKING_FACTOR,
        "failures": failures,
        "statements": statements,
        "claim": {"statement": f"the batch ramp ends within ×{TRACKING_FACTOR:g} of the LR decay's final risk "
                               f"(± 2 SE) at every B0 measured for {len(PAIRS) - len(failures)} of the "
                               f"{len(PAIRS)} optimizer–rule pairs; it fails for: "
                               + (", ".join(failures) or "none"),
                  "pairs_tracking": len(PAIRS) - len(failures), "pairs": len(PAIRS)},
        "max_relative_se": max_rel_se,
        "se_within_2_percent": bool(max_rel_se <= 0.02),
        "seconds_by_B0": timings,
        "paper_counterpart": PAPER_COUNTERPART,
    })


def draw(table: FigureTable) -> Figure:
    """The ratio ramp / decay against ``B_0`` per (optimizer, rule) (± 2 SE), and the decay's final risk.

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
    b_init = summary["gradient_noise_scale"]["at_initialisation"]
    fig, (ax_r, ax_k) = plt.subplots(1, 2, figsize=(13, 4.8))
    colours = {"sgd": "k", "momentum": "tab:purple", "nsgd": "tab:blue", "signsgd": "tab:orange",
               "adam": "tab:green", "adam β₂=0.95": "tab:olive"}
    # The two ramp rules differ in line style AND marker (filled circle, open square), and each
    # label names its rule in words, so the legend tells them apart at a glance.
    styles = {"αβ": ("-", "o", None), "α√β": ("--", "s", "white")}
    rule_words = {"αβ": "αβ rule: η held, B×2", "α√β": "α√β rule: η/√2, B×2"}
    plotted: set[str] = set()
    for optimizer, rule in PAIRS:
        mine = table.select(optimizer=optimizer, rule=rule)
        bs = list(mine.column("batch"))
        ls, marker, face = styles[rule]
        ax_r.errorbar(bs, list(mine.column("risk_ratio_ramp_over_decay")), yerr=2 * mine.column("se"),
                      color=colours[optimizer], ls=ls, marker=marker, ms=4, mfc=face, capsize=2,
                      label=f"{optimizer} — {rule_words[rule]}")
        if optimizer not in plotted:
            plotted.add(optimizer)
            ax_k.errorbar(bs, list(mine.column("decay_risk")), yerr=list(2 * mine.column("decay_se")),
                          color=colours[optimizer], marker="o", ms=3, capsize=2, label=f"{optimizer}: decay")
    for ax in (ax_r, ax_k):
        ax.axvline(b_init, color="0.5", lw=0.8, ls=":")
        ax.set_xscale("log", base=2)
    factor = summary["tracking_factor"]
    claim = summary.get("claim") or {"pairs_tracking": len(PAIRS) - len(summary["failures"]), "pairs": len(PAIRS)}
    ax_r.axhspan(1 / factor, factor, color="0.9", zorder=0)
    ax_r.axhline(1.0, color="0.5", lw=0.8)
    ax_r.set(yscale="log", xlabel="initial batch B₀", ylabel="final risk: ramp / decay (± 2 SE)",
             title=f"ramp / decay final risk: {claim['pairs_tracking']} of {claim['pairs']} pairs stay inside "
                   f"the grey band (×{factor:g})\nat every B₀")
    ax_k.set(yscale="log", xlabel="initial batch B₀", ylabel="final excess risk of the LR decay",
             title="where each optimizer ends (decay member)")
    legends.append((ax_r, dict(fontsize=7, title="optimizer — ramp rule (decay: η/2 each phase)", title_fontsize=7)))
    legends.append((ax_k, dict(fontsize=7)))
    fig.suptitle(f"power law d={summary['problem']['d']}, a=1.5, b=1, σ²=0.5; {summary['phases']} phases, "
                 f"{summary['decay_steps_per_phase']} decay steps per phase; "
                 f"dotted: gradient-noise scale at init B={b_init:.3g}")
    finish(fig, *legends, claim=summary["claim"]["statement"])
    return fig


register("ramp_vs_decay_by_optimizer",
         "Batch ramp vs LR decay for SGD, momentum, NSGD, SignSGD, Adam (αβ and α√β rules) across B₀",
         data, draw)
