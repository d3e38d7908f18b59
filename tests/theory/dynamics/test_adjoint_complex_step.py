"""risk_gradient against the complex-step derivative of an independent complex128 forward recursion
(issue 22, "How it is verified": gradient vs complex-step where the step is analytic).

The reference below is written from docs/math.md alone, not from the solver or the adjoint kernels: the SGD
second-moment step (docs/math.md#sgd-second-moment-recursion), NSGD's expected denominator
(docs/math.md#normalized-sgd), heavy ball's (S, C, P) moments (docs/math.md#heavy-ball-momentum) and their averaged
companions (docs/math.md#iterate-averaging, docs/math.md#heavy-ball-averaging), and the three objectives of
docs/math.md#risk-gradient. Every operation is a polynomial, a quotient or NSGD's principal square root of a positive
number, so the recursion is analytic in (log η_k, log B_k) and ``Im J(x + i h e_k) / h`` with ``h = 1e-30`` is the
derivative to rounding (no difference is taken: no cancellation). The one non-analytic point of the solver is NSGD's
``G_t = 0 → rate 0`` (docs/math.md#normalized-sgd); every problem here has ``σ² > 0``, so ``G_t > 0`` at every step
and the reference never takes that branch (it does not implement it). No rate here is near the stability edge, and
nothing is clamped: batches are real numbers ≥ 1 and are never rounded.

First the reference's real part is checked against :func:`expected_risk` to ~1e-12 (an independence check of the
reference itself: it shares no code with the solver); then the complex-step gradient against :func:`risk_gradient`'s
``d_log_lr`` / ``d_log_batch`` at ≤ 1e-6 relative (measured over 384 random cases, every optimizer × average ×
objective: at most 1.1e-15 for SGD, 7.9e-16 for NSGD, 1.8e-14 for heavy ball; norm of the difference over the norm).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramplab.theory import (
    NSGD,
    ExponentialAverage,
    HeavyBall,
    Problem,
    Schedule,
    TailAverage,
    UniformAverage,
    expected_risk,
    risk_gradient,
)

H_STEP = 1e-30
TOL = 1e-6


# ------------------------------------------------------------------------------------------ the reference
def averaging_weights(average, steps: int) -> np.ndarray:
    """``ρ_t`` for ``t = 1 … T`` written from docs/math.md#iterate-averaging (not from Averaging.weights)."""
    t = np.arange(1, steps + 1, dtype=float)
    if isinstance(average, UniformAverage):
        return 1.0 / t
    if isinstance(average, TailAverage):
        return np.array([1.0 if k < average.start else 1.0 / (k - average.start + 1.0) for k in t])
    if isinstance(average, ExponentialAverage):
        return np.full(steps, float(average.weight))
    raise AssertionError(f"no reference for {average!r}")


def reference_objective(lam, mult, s0, sigma2, kappa, eta, batch, *, nsgd=False, momentum=0.0, rho=None,
                        objective="final", checkpoints=None):
    """The objective ``J`` of docs/math.md#risk-gradient by a plain complex128 loop over the exact recursion.

    Parameters: per-coordinate ``lam, mult, s0`` (real), per-step ``eta, batch`` (complex allowed), ``momentum`` the
    constant heavy-ball ``μ`` (0: plain SGD/NSGD; step 0 has no momentum term, ``w_{−1} = w_0``), ``rho`` the
    averaging weights ``ρ_1 … ρ_T`` or None (last iterate). Returns a complex number.
    """
    lam = np.asarray(lam, dtype=complex)
    ml = np.asarray(mult, dtype=float) * lam          # m λ: the weights of q and of the risk
    trace = np.sum(ml)                                 # tr H, counting multiplicities
    S = np.asarray(s0, dtype=complex).copy()
    C, P = S.copy(), S.copy()                          # heavy ball: E e_t e_{t−1}, E e_{t−1}²
    A, X, Y = S.copy(), S.copy(), S.copy()             # average: E ē², E ē e_t, E ē e_{t−1}
    T = len(eta)
    avg = rho is not None

    def risk():
        return 0.5 * np.sum(ml * (A if avg else S))

    if objective == "mean_over_checkpoints":
        wanted = set(int(c) for c in checkpoints)
        collected = [risk()] if 0 in wanted else []
    for t in range(T):
        B = batch[t]
        mu = momentum if t > 0 else 0.0
        q = np.sum(ml * S)
        cB = 1.0 + (kappa - 2.0) / B
        if nsgd:
            G = cB * np.sum(ml * lam * S) + trace / B * (q + sigma2)
            e = eta[t] / np.sqrt(G)                    # G > 0 here (σ² > 0): the analytic branch
        else:
            e = eta[t]
        x = e * lam
        a = 1.0 + mu - x
        noise = e * e / B * lam * (q + sigma2)
        S_new = (a * a + (kappa - 2.0) / B * x * x) * S - 2.0 * a * mu * C + mu * mu * P + noise
        C_new = a * S - mu * C
        if avg:
            r = rho[t]                                 # ρ_{t+1} in 1-based steps
            Z = a * X - mu * Y                         # E ē_t e_{t+1}
            A = (1 - r) ** 2 * A + r * r * S_new + 2 * r * (1 - r) * Z
            X, Y = (1 - r) * Z + r * S_new, (1 - r) * X + r * C_new
        P, S, C = S, S_new, C_new
        if objective == "mean_over_checkpoints" and (t + 1) in wanted:
            collected.append(risk())
    if objective == "mean_over_checkpoints":
        return sum(collected) / len(collected)
    return risk()


def solver_objective(problem, lr, batch, steps, optimizer, objective, checkpoints, average):
    """The same objective from :func:`expected_risk` (the solver's own loop and kernels)."""
    sched = Schedule.from_segments(lr, batch, steps, integer_batch=False)
    checks = [len(sched)] if checkpoints is None else checkpoints
    r = expected_risk(problem, sched, optimizer, average=average, checkpoints=checks, reduce=False, progress=False)
    curve = r.averaged_risk if average is not None else r.risk
    return float(np.mean(curve))


def complex_step_gradient(problem, lr, batch, steps, *, nsgd, momentum, rho, objective, checkpoints):
    """``(∂J/∂log η_k …, ∂J/∂log B_k …)`` by the complex step ``Im J(x + i h e_k) / h``, and the real ``J``."""
    K = len(lr)
    lam, mult, s0 = problem.eigenvalues, problem.multiplicity, problem.initial_second_moment
    kw = dict(nsgd=nsgd, momentum=momentum, rho=rho, objective=objective, checkpoints=checkpoints)
    base_eta = np.repeat(np.asarray(lr, dtype=complex), steps)
    base_b = np.repeat(np.asarray(batch, dtype=complex), steps)
    value = reference_objective(lam, mult, s0, problem.noise_variance, problem.kurtosis, base_eta, base_b, **kw)
    starts = np.concatenate([[0], np.cumsum(steps)])
    out = np.empty(2 * K)
    for j in range(2 * K):
        eta, b = base_eta.copy(), base_b.copy()
        k = j % K
        target = eta if j < K else b
        target[starts[k]:starts[k + 1]] *= np.exp(1j * H_STEP)   # log x → log x + i h on segment k
        out[j] = reference_objective(lam, mult, s0, problem.noise_variance, problem.kurtosis, eta, b, **kw).imag / H_STEP
    return value, out


# -------------------------------------------------------------------------------------------- the cases
OPTIMIZERS = {  # name → (spec for the library, nsgd, μ)
    "sgd": ("sgd", False, 0.0),
    "nsgd": (NSGD(), True, 0.0),
    "momentum": (HeavyBall(0.5), False, 0.5),
    "momentum-nsgd": (HeavyBall(0.6, optimizer="nsgd"), True, 0.6),
}
AVERAGES = {"none": None, "uniform": UniformAverage(), "tail": TailAverage(6), "ema": ExponentialAverage(0.2)}
OBJECTIVES = ("final", "averaged", "mean_over_checkpoints")


def random_case(rng, d, K, max_steps, opt, kurtosis):
    """A random stable problem and ``K``-segment schedule with real batches (rates well inside the stability edge)."""
    problem = Problem(np.sort(rng.uniform(0.05, 1.0, d))[::-1], rng.uniform(0.1, 1.0, d),
                      noise_variance=float(rng.uniform(0.05, 1.0)), multiplicity=rng.integers(1, 4, d).astype(float),
                      kurtosis=kurtosis)
    lam_max = float(problem.eigenvalues.max())
    trace = float(np.sum(problem.multiplicity * problem.eigenvalues))
    batch = rng.uniform(1.0, 8.0, K)
    # well inside ηλ(1 + (κ+1)/B) < 2 and (η/B) tr H < 1 (docs/math.md#stability), and heavy ball's 2(1+μ)/λ
    cap = min(1.0 / (lam_max * (1 + (kurtosis + 1) / batch.min())), batch.min() / (2 * trace))
    lr = rng.uniform(0.2, 1.0, K) * cap * (0.5 if opt.startswith("momentum") else 1.0)
    if OPTIMIZERS[opt][1]:  # NSGD: scale by about sqrt(G_0) so that the effective rate is of the same size
        lr = lr * math.sqrt(problem.initial_risk * 2 * lam_max + trace * problem.noise_variance / batch.min())
    steps = rng.integers(1, max_steps // K + 1, K)
    return problem, lr, batch, steps


def check_case(problem, lr, batch, steps, opt, avg_name, objective, checkpoints, errors=None):
    spec, nsgd, mu = OPTIMIZERS[opt]
    average = AVERAGES[avg_name]
    if objective == "averaged" and average is None:
        average = UniformAverage()   # risk_gradient's default average for "averaged"
    T = int(np.sum(steps))
    if checkpoints is not None:
        checkpoints = sorted({min(int(c), T) for c in checkpoints})
    rho = None if average is None else averaging_weights(average, T)
    # the reference's weights are those of the library's averages
    if average is not None:
        np.testing.assert_allclose(rho, average.weights(np.arange(1, T + 1)), rtol=1e-15)
    value, cs = complex_step_gradient(problem, lr, batch, steps, nsgd=nsgd, momentum=mu, rho=rho,
                                      objective=objective, checkpoints=checkpoints)
    # 1. the reference is the solver's recursion: its real part equals expected_risk to rounding
    solved = solver_objective(problem, lr, batch, steps, spec, objective, checkpoints, average)
    assert abs(value.imag) == 0.0
    assert value.real == pytest.approx(solved, rel=1e-12)
    # 2. the adjoint gradient equals the complex-step derivative
    sched = Schedule.from_segments(lr, batch, steps, integer_batch=False)
    g = risk_gradient(problem, sched, spec, objective, checkpoints if objective == "mean_over_checkpoints" else None,
                      average)
    assert g.value == pytest.approx(value.real, rel=1e-12)
    scale = float(np.linalg.norm(cs))
    assert scale > 0
    err = float(np.linalg.norm(g.gradient - cs)) / scale
    worst = float(np.max(np.abs(g.gradient - cs))) / scale
    if errors is not None:
        errors.append(err)
    assert err <= TOL, (opt, avg_name, objective, err)
    assert worst <= TOL
    return err


# ---------------------------------------------------------------------------------------------- the tests
def test_reference_has_no_shared_step_with_the_solver_d1_by_hand():
    """The reference itself against one SGD step written out by hand (docs/math.md#sgd-second-moment-recursion)."""
    lam, s, sigma2, eta, B, kappa = 0.7, 1.3, 0.4, 0.3, 2.5, 3.0
    c = 1 + (kappa - 2) / B
    s1 = (1 - 2 * eta * lam + c * eta**2 * lam**2) * s + eta**2 * lam * (lam * s + sigma2) / B
    got = reference_objective([lam], [1.0], [s], sigma2, kappa, np.array([eta], complex), np.array([B], complex))
    assert got.real == pytest.approx(0.5 * lam * s1, rel=1e-15)
    # ∂/∂log B by the complex step against the hand derivative
    d_b = -0.5 * lam * ((kappa - 2) * eta**2 * lam**2 * s + eta**2 * lam * (lam * s + sigma2)) / B
    step = reference_objective([lam], [1.0], [s], sigma2, kappa, np.array([eta], complex),
                               np.array([B * np.exp(1j * H_STEP)]))
    assert step.imag / H_STEP == pytest.approx(d_b, rel=1e-14)


@pytest.mark.parametrize("opt", list(OPTIMIZERS))
@pytest.mark.parametrize("avg_name, objective", [
    ("none", "final"), ("none", "mean_over_checkpoints"), ("uniform", "averaged"), ("tail", "final"),
    ("ema", "mean_over_checkpoints"), ("tail", "averaged"), ("ema", "averaged"),
])
def test_gradient_matches_complex_step_fixed(opt, avg_name, objective):
    rng = np.random.default_rng(2026)
    problem, lr, batch, steps = random_case(rng, 5, 3, 30, opt, 3.0)
    checkpoints = [0, 4, 11, int(np.sum(steps))] if objective == "mean_over_checkpoints" else None
    check_case(problem, lr, batch, steps, opt, avg_name, objective, checkpoints)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), opt=st.sampled_from(list(OPTIMIZERS)), K=st.integers(1, 6),
       d=st.integers(1, 8), T=st.integers(6, 60), kurtosis=st.floats(1.0, 5.0),
       avg_name=st.sampled_from(list(AVERAGES)), objective=st.sampled_from(OBJECTIVES))
def test_gradient_matches_complex_step_random(seed, opt, K, d, T, kurtosis, avg_name, objective):
    rng = np.random.default_rng(seed)
    problem, lr, batch, steps = random_case(rng, d, K, T, opt, kurtosis)
    total = int(np.sum(steps))
    checkpoints = (sorted(set(rng.integers(0, total + 1, 3).tolist()) | {total})
                   if objective == "mean_over_checkpoints" else None)
    check_case(problem, lr, batch, steps, opt, avg_name, objective, checkpoints)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), opt=st.sampled_from(list(OPTIMIZERS)), K=st.integers(1, 12),
       d=st.integers(1, 40), T=st.integers(12, 400), kurtosis=st.floats(1.0, 5.0),
       avg_name=st.sampled_from(list(AVERAGES)), objective=st.sampled_from(OBJECTIVES))
def test_gradient_matches_complex_step_random_larger(seed, opt, K, d, T, kurtosis, avg_name, objective):
    rng = np.random.default_rng(seed)
    problem, lr, batch, steps = random_case(rng, d, K, T, opt, kurtosis)
    total = int(np.sum(steps))
    checkpoints = (sorted(set(rng.integers(0, total + 1, 5).tolist()) | {total})
                   if objective == "mean_over_checkpoints" else None)
    check_case(problem, lr, batch, steps, opt, avg_name, objective, checkpoints)


def test_complex_step_is_sharper_than_central_differences():
    """Why the complex step: on the same case, central differences of the same reference at h = 1e-5 err by
    ~1e-10 (truncation h² and rounding ε/h), the complex step by rounding only — the comparison can tell them apart."""
    rng = np.random.default_rng(7)
    problem, lr, batch, steps = random_case(rng, 6, 3, 40, "nsgd", 3.0)
    _, cs = complex_step_gradient(problem, lr, batch, steps, nsgd=True, momentum=0.0, rho=None, objective="final",
                                  checkpoints=None)
    g = risk_gradient(problem, Schedule.from_segments(lr, batch, steps, integer_batch=False), NSGD())
    cs_err = float(np.linalg.norm(g.gradient - cs) / np.linalg.norm(cs))
    assert cs_err < 1e-11
    # a deliberately wrong gradient (one segment's batch derivative dropped) is caught
    wrong = g.gradient.copy()
    wrong[-1] = 0.0
    assert float(np.linalg.norm(wrong - cs) / np.linalg.norm(cs)) > TOL
