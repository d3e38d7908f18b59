"""The adaptive batch-size and learning-rate rule at its batch cap: released rule vs never freezing (docs/math.md#adaptive-rule).

:class:`AdaptiveRule` with the released defaults (``δ = 2``, ``γ = 1.4``, ``b₀ = 8``, ``η₀ = 0.1``,
``b_max = 4096``, integer batches ``⌈b₀δ^m⌉``) on the exact expected dynamics of a power law whose
largest eigenvalue is ½, checks every ``check_every`` steps. The released rule stops triggering
once the batch is at ``b_max`` (stage 9, ``η = 0.1·1.4⁹ ≈ 2.07``); the variant that keeps
triggering (``freeze_at_cap=False``, *not* the released rule) keeps multiplying ``η`` by 1.4 at the
capped batch until ``η λ_1`` passes the stability edge and the risk explodes.
Left: the gradient norm at the checks and the thresholds ``ε_m = ε₀ sqrt(b₀/b_m)``. Middle: ``η`` and
``b`` per step. Right: the excess risk against samples.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ._layout import panel_row
from ._paper_runs import paper_problem
from ._table import FigureTable
from .registry import FigureContext, register
from ..theory import AdaptiveRule

#: The paper figure this figure redraws and what differs (its JSON's ``paper_counterpart``; "none" if none).
PAPER_COUNTERPART = {
    "paper": ("Umeda & Iiduka, Adaptive Batch Size and Learning Rate Scheduler for SGD Based on Minimization of SFO "
              "Complexity, arXiv 2508.05302"),
    "figure": ("the adaptive scheduler's batch size and learning rate against steps, with the full-gradient norm at "
               "the checks"),
    "differs": ("model: noisy linear regression with exact expected dynamics (the norm is the exact root-mean-square "
                "sqrt(Σλ²s)), not a DenseNet/ResNet on CIFAR-100 with one noisy run; checks every 50 (quick) or 500 "
                "steps, not the release's 1800 (hikarumeda1030/adaptive_scheduler @1fd0b7b, src/json/free.json); the "
                "released constants otherwise (δ 2, γ 1.4, ε₀ 0.5, b₀ 8, η₀ 0.1, b_max 4096); the never-freezing "
                "variant is not in the paper"),
}


VARIANTS = (("released: freeze at the cap", True, "C0", "-"), ("never freeze (not released)", False, "C3", "--"))


def data(ctx: FigureContext) -> FigureTable:
    """Run both variants of the rule; one row per check and, after them, one row per step.

    Parameters
    ----------
    ctx : FigureContext
        ``quick`` sets the problem size, the steps and the check interval.

    Returns
    -------
    FigureTable
        Check rows (``variant, freeze_at_cap, check_step, samples, gradient_norm, threshold,
        stage_after, lr, batch, risk``), then per-step rows (``variant, curve = "per step", step,
        samples, lr, batch, risk``: the learning rate and batch of step ``t`` and the risk after it);
        the summary holds the problem, the rule and each variant's stages and final values.
    """
    d, steps, check = (60, 1500, 50) if ctx.quick else (500, 10000, 500)
    problem, problem_summary = paper_problem(d)
    epsilon0 = 0.5
    rows, per_step, summary = [], [], {}
    for label, freeze, _, _ in VARIANTS:
        rule = AdaptiveRule(check_every=check, epsilon0=epsilon0, integer_batch=True, freeze_at_cap=freeze)
        # The never-freezing variant diverges: flagged, so its curves stop where the solver's rule says.
        run = rule.run(problem, steps, on_divergence="flag")
        lr, batch = run.schedule.step_arrays()
        samples = np.concatenate([[0.0], np.cumsum(batch)])
        for k, (s, g, e, m) in enumerate(zip(run.check_steps, run.gradient_norms, run.thresholds, run.stages)):
            lr_k, b_k = lr[s - 1], batch[s - 1]
            rows.append({"variant": label, "freeze_at_cap": freeze, "check_step": int(s), "samples": float(samples[s]),
                         "gradient_norm": float(g), "threshold": float(e), "stage_after": int(m), "lr": float(lr_k),
                         "batch": float(b_k), "risk": float(run.risk[s])})
        per_step.extend({"variant": label, "curve": "per step", "step": t, "samples": float(samples[t]),
                         "lr": float(lr[t - 1]), "batch": float(batch[t - 1]), "risk": float(run.risk[t])}
                        for t in range(1, steps + 1))
        summary[label] = {
            "freeze_at_cap": freeze, "switch_steps": run.switch_steps, "final_stage": int(run.stages[-1]),
            "diverged_at": run.diverged_at,
            "final_lr": float(lr[-1]), "final_batch": float(batch[-1]), "final_risk": float(run.risk[-1]),
            "stage_batches": sorted({float(b) for b in batch}),
        }
    return FigureTable(rows + per_step, {
        "problem": problem_summary,
        "rule": {"lr0": 0.1, "batch0": 8, "gamma": 1.4, "delta": 2.0, "epsilon0": epsilon0, "check_every": check,
                 "batch_cap": 4096, "integer_batch": "ceil(b0 δ^m)"},
        "steps": steps,
        "variants": summary,
        "claim": {
            "statement": (f"the released rule triggers at {len(summary[VARIANTS[0][0]]['switch_steps'])} checks, "
                          f"growing b to b_max = 4096 and η to {summary[VARIANTS[0][0]]['final_lr']:.3g}, then "
                          f"freezes and converges (final risk {summary[VARIANTS[0][0]]['final_risk']:.3g}); "
                          f"without the freeze η reaches {summary[VARIANTS[1][0]]['final_lr']:.3g} > 2/λ₁ = "
                          f"{2.0 / problem.largest_eigenvalue:.3g} and the risk diverges at step "
                          f"{summary[VARIANTS[1][0]]['diverged_at']}"),
            "released_switches": len(summary[VARIANTS[0][0]]["switch_steps"]),
            "released_final_risk": summary[VARIANTS[0][0]]["final_risk"],
            "never_freeze_diverged_at": summary[VARIANTS[1][0]]["diverged_at"],
        },
        "paper_counterpart": PAPER_COUNTERPART,
        "explanation": ("Gradient norm measured as sqrt(Σλ²s) on the exact expected dynamics at every check; the "
                        "released rule advances a stage only while the batch is below b_max, so η stops at "
                        "0.1·1.4^9 ≈ 2.07 once b = 4096; the never-freezing variant keeps growing η at the capped "
                        "batch and the risk explodes once η passes the stability edge ≈ 2/λ₁."),
    })


def draw(table: FigureTable) -> Figure:
    """Checks and thresholds, ``η`` and batch per step, and the risk against samples, per variant.

    Parameters
    ----------
    table : FigureTable
        As :func:`data` returns it.

    Returns
    -------
    matplotlib.figure.Figure
    """
    p, rule = table.summary["problem"], table.summary["rule"]
    return panel_row(table, _panels, rf"Released defaults ($\delta$=2, $\gamma$=1.4, $b_0$=8, $\eta_0$=0.1, "
                     rf"$b_{{\max}}$=4096, $\varepsilon_0$={rule['epsilon0']}), check every {rule['check_every']} "
                     rf"steps; power law d={p['d']}, a=1.5, b=1, $\sigma^2$=1, $\lambda_1$=0.5", figsize=(16, 4.6))


def _panels(table: FigureTable, axes: np.ndarray) -> None:
    """:func:`draw`'s panels: checks and thresholds, ``η`` and batch per step, risk against samples."""
    for label, _, color, ls in VARIANTS:
        checks = table.select(variant=label).where(lambda row: "check_step" in row)
        curve = table.select(variant=label, curve="per step")
        check_steps = checks.column("check_step")
        axes[0].semilogy(check_steps, checks.column("gradient_norm"), color=color, ls="none", marker="o", ms=3,
                         label=f"{label}: gradient norm")
        axes[0].step(check_steps, checks.column("threshold"), where="post", color=color, ls=ls, lw=1,
                     label=rf"{label}: $\varepsilon_m$")
        t, lr, batch = curve.column("step"), curve.column("lr"), curve.column("batch")
        axes[1].semilogy(t, lr, color=color, ls=ls, label=rf"{label}: $\eta$")
        axes[1].semilogy(t, batch, color=color, ls=ls, lw=2.5, alpha=0.4, label=f"{label}: batch")
        axes[2].loglog(curve.column("samples"), np.maximum(curve.column("risk"), 1e-300), color=color, ls=ls,
                       label=label)
    # Log axes clipped to what matters: the released run's range (with room above); the
    # never-freezing variant leaves through the top on its way to divergence, which is said in text.
    released = table.select(variant=VARIANTS[0][0])
    released_steps = released.select(curve="per step")
    risk = released_steps.column("risk")
    risk = risk[np.isfinite(risk) & (risk > 0)]
    norms = released.where(lambda row: "check_step" in row)
    grad = np.concatenate([norms.column("gradient_norm"), norms.column("threshold")])
    axes[2].set_ylim(risk.min() / 2, risk.max() * 30)
    axes[0].set_ylim(grad.min() / 2, grad.max() * 30)
    edge = 2.0 / table.summary["problem"]["largest_eigenvalue"]
    axes[0].set(xlabel="step", ylabel="gradient norm at the checks", title="checks and thresholds")
    axes[1].set(xlabel="step", ylabel=r"$\eta$ (thin) and batch (thick)",
                title=r"$\eta$ and batch per step: the released rule freezes at $b_{\max}$")
    axes[1].axhline(edge, color="0.4", lw=0.8, ls=":")
    axes[1].text(1, edge * 1.15, r"$2/\lambda_1$", fontsize=8, color="0.3")
    diverged = table.summary["variants"][VARIANTS[1][0]]["diverged_at"]
    axes[2].set(xlabel="samples", ylabel="excess risk",
                title="excess risk" + (f" (never freezing: diverges at step {diverged})" if diverged else ""))


register("adaptive_growth", "adaptive rule (gradient-norm triggered growth): released freeze at the batch cap "
                            "vs never freezing", data, draw)
