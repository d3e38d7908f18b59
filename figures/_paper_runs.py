"""Set-up shared by the figures that redraw the Iiduka-line papers' figures on noisy linear regression.

The papers (Umeda & Iiduka, arXiv 2409.08770, 2508.05297, 2508.05302) plot the full-gradient norm of the
empirical loss along a training run. On noisy linear regression its expectation is exact at the solver's
second moments: ``∇f(w) = H(w − w*)``, so ``E‖∇f(w_t)‖² = Σ_i m_i λ_i² s_i(t)`` (docs/math.md#sfo-on-linear-regression).
:func:`gradient_norm_curves` reads it off every step of an exact run: the trajectory records, before each
step, ``G_t = E‖g_t‖² = E‖∇f‖² + V(s)/b_t`` and ``r_t = E‖∇f‖²/(G_t − E‖∇f‖²)``, so
``E‖∇f‖² = G_t r_t/(1 + r_t)``; the last state's value is summed from ``s(T)`` directly (SGD only).

An *epoch* is ``n`` samples (``dataset_size``): the papers' stages last a number of epochs of a finite data
set; here every step draws fresh samples from the population (online SGD), so an epoch is a unit of samples.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..theory import Problem, Schedule, expected_risk

#: What every paper figure of this kind differs in, said once (each figure adds its own sizes).
MODEL_DIFFERENCE = ("model: noisy linear regression on a power-law spectrum with exact expected dynamics (the "
                    "expected full-gradient norm E‖∇f‖² = Σλ²s, exact at the second moments), not a ResNet or DenseNet on "
                    "CIFAR-100 with one noisy run; an epoch is n fresh samples (online SGD), not a pass over a "
                    "finite data set")


#: The power-law problem every paper figure runs SGD on, as :meth:`Problem.power_law`'s keyword arguments.
POWER_LAW = {"a": 1.5, "b": 1.0, "noise_variance": 1.0, "scale": 0.5}


def paper_problem(d: int) -> tuple[Problem, dict[str, Any]]:
    """The power-law problem of dimension ``d`` (:data:`POWER_LAW`, ``λ₁ = ½``) and its entry ``problem`` of a
    figure's summary (``family, d``, the keyword arguments, ``largest_eigenvalue``)."""
    problem = Problem.power_law(d, **POWER_LAW)
    return problem, {"family": "power_law", "d": d, **POWER_LAW, "largest_eigenvalue": problem.largest_eigenvalue}


def paper_setting(summary: dict[str, Any], *, epochs: bool = False) -> str:
    """The start of a paper figure's title from its table's summary: the optimizer and the problem, and with
    ``epochs`` the epoch's samples and the stages (``epoch_samples``, ``stages``, ``stage_epochs``)."""
    p = summary["problem"]
    setting = f"SGD, power law d={p['d']}, a=1.5, σ²=1, λ₁=0.5"
    if epochs:
        setting += (f"; epoch = {summary['epoch_samples']} samples, {summary['stages']} stages of "
                    f"{summary['stage_epochs']} epochs")
    return setting


def weights(problem: Problem) -> np.ndarray:
    """The multiplicities ``m_i`` of ``problem`` (ones when it has none)."""
    return np.ones(problem.dimension) if problem.multiplicity is None else np.asarray(problem.multiplicity, float)


def gradient_norm_curves(problem: Problem, schedules: Sequence[Schedule]) -> list[dict[str, np.ndarray]]:
    """Exact SGD runs of ``schedules``; per run, arrays over steps ``0 … T``.

    Returns one dict per schedule with ``steps``, ``samples``, ``risk`` and ``grad_sq`` (``E‖∇f‖²`` after
    each step, ``[0]`` the start), each of length ``T + 1``, and ``lr``, ``batch`` (length ``T``: step
    ``t + 1``'s values) and ``gradient_variance`` (length ``T``: the one-sample variance ``V(s)`` before step
    ``t + 1``, from ``G_t − E‖∇f‖² = V/b_t``).
    """
    runs = expected_risk(problem, list(schedules), "sgd")
    lam2 = weights(problem) * problem.eigenvalues ** 2
    out = []
    for schedule, run in zip(schedules, runs):
        g, r = run.gradient_second_moment, run.mean_variance_ratio
        before = g * r / (1.0 + r)
        final = float(lam2 @ np.asarray(run.final_second_moment, float))
        lr, batch = schedule.step_arrays()
        out.append({"steps": np.asarray(run.steps), "samples": np.asarray(run.samples, float),
                    "risk": np.asarray(run.risk), "grad_sq": np.concatenate([before, [final]]),
                    "lr": lr, "batch": np.asarray(batch, float),
                    "gradient_variance": (g - before) * np.asarray(batch, float)})
    return out


def first_reach(samples: np.ndarray, grad_sq: np.ndarray, target: float) -> tuple[int | None, float | None]:
    """``(step, samples)`` at the first state with ``E‖∇f‖² ≤ target``, or ``(None, None)``."""
    hit = np.flatnonzero(grad_sq <= target)
    if hit.size == 0:
        return None, None
    return int(hit[0]), float(samples[hit[0]])
