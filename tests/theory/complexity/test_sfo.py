"""SFO bound and exact measurement on noisy linear regression (theory/sfo.py).

Reference values: an independent NumPy loop of docs/math.md#sgd-second-moment-recursion written here; exact enumeration over
Rademacher inputs for the one-sample gradient variance; the master bound's proof (a theorem the
measurement must satisfy when σ² is the trajectory's own variance).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import example, assume, given, settings
from hypothesis import strategies as st

from ramplab.theory import (
    BoundConstants,
    Problem,
    Schedule,
    bound_critical_batch,
    bound_sfo,
    bound_steps,
    critical_batch,
    gradient_target,
    gradient_variance,
    schedule_to_target,
    sfo_bound,
    steps_to_target,
)
from ramplab.theory.dynamics import gradient_second_moment

from oracles import sgd_moments


def reference_gradient_norms(problem: Problem, lr: float, batch: float, steps: int) -> np.ndarray:
    """Σλ²s(t), t = 0 … steps, by the plain loop of tests/oracles.py (independent of the exact solver); an
    unstable run stops at its first non-finite risk (+inf), so nothing after it can count as a hit."""
    return sgd_moments(problem, [lr] * steps, [batch] * steps)["gradient_norm"]


problems = st.builds(
    lambda d, a, b, s2, kappa: Problem.power_law(d, a=a, b=b, noise_variance=s2, kurtosis=kappa),
    st.integers(2, 12), st.floats(1.0, 2.5), st.floats(0.0, 2.0), st.floats(0.0, 1.5),
    st.sampled_from([2.0, 3.0, 4.5]),
)


# ------------------------------------------------------------------------------ constants
def test_gradient_variance_by_exact_enumeration():
    # Rademacher inputs (κ = 1), deterministic error e: enumerate all 2^d sign patterns exactly.
    lam = np.array([1.0, 0.5, 0.25])
    e = np.array([0.3, -1.2, 0.7])
    sigma2 = 0.4
    problem = Problem(lam, e**2, noise_variance=sigma2, kurtosis=1.0)
    grad = lam * e  # ∇f = H e
    total = 0.0
    for z in itertools.product((-1.0, 1.0), repeat=3):
        x = np.sqrt(lam) * np.array(z)
        g = x * (x @ e)  # noise ε enters as −xε: E‖xε‖² = σ² tr H, cross term has mean 0
        total += np.sum((g - grad) ** 2) / 8
    total += sigma2 * lam.sum()
    assert float(gradient_variance(problem, e**2)) == pytest.approx(total, rel=1e-13)


@settings(max_examples=30)
@given(problem=problems, batch=st.floats(1.0, 100.0), scale=st.floats(0.0, 3.0))
def test_gradient_variance_is_b_times_the_batch_variance(problem, batch, scale):
    s = scale * problem.initial_second_moment
    total = gradient_second_moment(problem, s, batch)  # E‖g_B‖² from the exact solver's module
    mean = float(problem.eigenvalues**2 @ s)
    assert float(gradient_variance(problem, s)) == pytest.approx(batch * (total - mean), rel=1e-10, abs=1e-12)


def test_bound_constants():
    p = Problem([2.0, 1.0], [1.0, 3.0], noise_variance=0.5)
    c = BoundConstants.from_problem(p)
    assert (c.smoothness, c.initial_gap) == (2.0, 2.5)
    assert c.gradient_variance == pytest.approx(0.5 * 3.0)
    assert BoundConstants.from_problem(p, variance=7.0).gradient_variance == 7.0
    assert BoundConstants.from_problem(p, "initial").gradient_variance == pytest.approx(
        float(gradient_variance(p, p.initial_second_moment)))
    with pytest.raises(ValueError, match="variance must be one of"):
        BoundConstants.from_problem(p, "sup")
    with pytest.raises(ValueError, match="smoothness must be positive"):
        BoundConstants(0.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="gradient_variance must be ≥ 0"):
        BoundConstants(1.0, -1.0, 1.0)
    with pytest.raises(ValueError, match="0 < L\\*lr < 2"):
        c.coefficients(1.0)
    with pytest.raises(ValueError, match="0 < L\\*lr ≤ 1"):
        c.coefficients(0.6, "small_step")


def test_gradient_target():
    assert gradient_target(0.2) == pytest.approx(0.04)
    assert gradient_target(0.2, "squared") == 0.2
    with pytest.raises(ValueError, match="stationarity must be one of"):
        gradient_target(0.2, "l1")
    with pytest.raises(ValueError, match="epsilon must be positive"):
        gradient_target(0.0)


# ---------------------------------------------------------------------------------- bound
@settings(max_examples=30)
@given(lrs=st.lists(st.floats(0.01, 1.9), min_size=1, max_size=30), seed=st.integers(0, 1000),
       L=st.floats(0.5, 1.0), s2=st.floats(0.0, 3.0), delta=st.floats(0.0, 3.0))
def test_sfo_bound_is_the_master_bound_formula(lrs, seed, L, s2, delta):
    rng = np.random.default_rng(seed)
    batch = rng.integers(1, 64, size=len(lrs)).astype(float)
    sched = Schedule(lrs, batch, integer_batch=False)
    c = BoundConstants(L, s2, delta)
    got = sfo_bound(sched, c)
    for k in range(1, len(lrs) + 1):
        eta, b = np.array(lrs[:k]), batch[:k]
        margin = 2 - L * eta.max()
        want = 2 * delta / (margin * eta.sum()) + L * s2 * np.sum(eta**2 / b) / (margin * eta.sum())
        assert got[k - 1] == pytest.approx(want, rel=1e-12, abs=1e-300)


def test_sfo_bound_rejects_steps_outside_the_convention():
    sched = Schedule([0.5, 1.5, 2.5], [1, 1, 1])
    with pytest.raises(ValueError, match="general convention at step 3"):
        sfo_bound(sched, BoundConstants(1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="small_step convention at step 2"):
        sfo_bound(sched, BoundConstants(1.0, 1.0, 1.0), "small_step")


@settings(max_examples=30)
@given(L=st.floats(0.5, 2.0), s2=st.floats(0.01, 3.0), delta=st.floats(0.01, 3.0), h=st.floats(0.05, 1.9),
       eps=st.floats(0.05, 1.0), factor=st.floats(1.05, 30.0))
def test_bound_steps_is_where_the_bound_reaches_the_target(L, s2, delta, h, eps, factor):
    lr = h / L
    c = BoundConstants(L, s2, delta)
    tau = eps * eps
    batch = factor * bound_critical_batch(c, lr, eps) / 2  # feasible
    assume(batch >= 1)
    k = float(bound_steps(c, lr, batch, eps))
    assume(2 <= k < 3000)
    u = sfo_bound(Schedule.constant(lr, batch, steps=math.ceil(k) + 1, integer_batch=False), c)
    assert u[math.ceil(k) - 1] <= tau * (1 + 1e-9)
    if math.ceil(k) - 2 >= 0 and math.ceil(k) - 1 < k - 1e-9:
        assert u[math.ceil(k) - 2] > tau * (1 - 1e-9)
    assert float(bound_sfo(c, lr, batch, eps)) == pytest.approx(batch * k)


# ---------------------------------------------------------------------------- measurement
@settings(max_examples=30)
@given(problem=problems, frac=st.floats(0.05, 0.9), batch=st.floats(1.0, 64.0), level=st.floats(0.02, 0.8))
# κ = 4.5 at B = 1 is past the stability edge at this rate: the row diverges by the solver's rule (found by
# hypothesis once the hitting loop ran through the solver's loop).
@example(problem=Problem.power_law(2, a=1.0, b=0.0, noise_variance=0.0, kurtosis=4.5), frac=0.5, batch=1.0, level=0.5)
def test_steps_to_target_matches_an_independent_loop(problem, frac, batch, level):
    lr = frac / problem.largest_eigenvalue
    g = reference_gradient_norms(problem, lr, batch, 3000)
    tau = level * g[0]
    assume(tau > 0)
    hit = steps_to_target(problem, lr, batch, tau, max_steps=3000)
    below = np.flatnonzero(g <= tau)
    if below.size:
        t = int(below[0])
        assert hit.status[0] == "reached" and hit.steps[0] == t
        assert hit.samples[0] == pytest.approx(t * batch)
        assert t - 1 < hit.fractional_steps[0] <= t or t == 0
        assert hit.final_gradient_norm2[0] == pytest.approx(g[t], rel=1e-9)
    else:
        # Not reached; a row whose risk passes the solver's divergence bound is "diverged" (docs/math.md#divergence).
        assert hit.status[0] in ("unreachable", "horizon", "diverged") and math.isinf(hit.steps[0])


@settings(max_examples=30)
@given(problem=problems, frac=st.floats(0.05, 1.5), batch=st.floats(1.0, 16.0), level=st.floats(1e-4, 0.5))
def test_unreachable_certificates_are_sound(problem, frac, batch, level):
    lr = frac / problem.largest_eigenvalue
    g0 = float(problem.eigenvalues**2 @ problem.initial_second_moment)
    assume(g0 > 0)
    hit = steps_to_target(problem, lr, batch, level * g0, max_steps=20_000)
    if hit.status[0] == "unreachable":
        g = reference_gradient_norms(problem, lr, batch, 20_000)
        assert not np.any(g <= level * g0)


@settings(max_examples=20)
@given(problem=problems, frac=st.floats(0.05, 0.9), level=st.floats(0.01, 0.5))
def test_steps_do_not_increase_with_the_batch(problem, frac, level):
    # For κ ≥ 2 every coefficient of the recursion decreases with b, so s_t(b) and the hitting time do.
    lr = frac / problem.largest_eigenvalue
    g0 = float(problem.eigenvalues**2 @ problem.initial_second_moment)
    assume(g0 > 0)
    batches = np.geomspace(1, 4096, 13)
    hit = steps_to_target(problem, lr, batches, level * g0, max_steps=20_000)
    steps, frac = hit.steps, hit.fractional_steps
    assert np.all(steps[:-1] >= steps[1:])  # inf (never reached) only at the small-batch end
    assert np.all(frac[:-1] >= frac[1:] - 1e-9)


def test_schedule_to_target_agrees_with_constant_runs_and_takes_several_targets():
    p = Problem.power_law(20, a=1.5, b=1.0, noise_variance=0.3)
    sched = Schedule.constant(0.4, 8, steps=5000)
    targets = [0.1, 0.03, 0.01]
    h = schedule_to_target(p, [sched] * 3, targets)
    ref = [steps_to_target(p, 0.4, 8, t) for t in targets]
    assert h.steps.tolist() == [r.steps[0] for r in ref]
    np.testing.assert_allclose(h.fractional_samples, [r.fractional_samples[0] for r in ref], rtol=1e-12)
    np.testing.assert_allclose(h.target, targets)
    short = schedule_to_target(p, Schedule.constant(0.4, 8, steps=3), 1e-6)
    assert short.status.tolist() == ["horizon"] and math.isinf(short.steps[0])
    with pytest.raises(ValueError, match="one entry per row"):
        schedule_to_target(p, [sched, sched], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="target must be positive"):
        steps_to_target(p, 0.4, 8, 0.0)
    with pytest.raises(ValueError, match="lr must be positive"):
        steps_to_target(p, -0.4, 8, 0.1)
    with pytest.raises(TypeError, match="schedules must be"):
        schedule_to_target(p, [], 0.1)


# ----------------------------------------------------- theory meets measurement (drawn problems)
measured_problems = st.builds(
    lambda d, a, b, s2: Problem.power_law(d, a=a, b=b, noise_variance=s2),
    st.integers(10, 40), st.floats(1.1, 2.2), st.floats(0.3, 1.6), st.floats(0.1, 2.0),
)


@settings(max_examples=12)
@given(problem=measured_problems, rel_eps=st.floats(0.03, 0.2), eta=st.floats(0.05, 0.45))
def test_theory_meets_measurement(problem, rel_eps, eta):
    """What holds on every drawn power-law problem where batch 1 cannot reach the target.

    - The measured SFO-to-ε has an interior minimum: an empirical critical batch exists.
    - It grows with η, and b*(2η)/b*(η) matches the bound's 2(2 − Lη)/(2 − 2Lη) within 10 % (191
      draws offline: −7 % … +2 %), although the level of b* does not match the bound's (measured/bound
      0.26–4 in the same draws) — reported in the figure, not asserted.
    - The master bound with the trajectory's own one-sample variance holds at every batch (theorem).
    Convexity and unimodality of the measured N(b) do not always hold: see the next two tests.
    """
    g0 = float(problem.eigenvalues**2 @ problem.initial_second_moment)
    eps = math.sqrt(g0) * rel_eps
    grid = np.geomspace(1, 2**14, 29)
    one = critical_batch(problem, eta, eps, grid, max_steps=50_000)
    # The question is posed where the noise matters. (If batch 1 reaches the target, the SFO-optimal
    # batch may be the smallest one and there is no critical batch ≥ 1 to find.)
    assume(not one.hitting.reached[0])
    two = critical_batch(problem, 2 * eta, eps, grid, max_steps=50_000)
    for cb in (one, two):
        assert cb.interior
        assert "horizon" not in set(cb.hitting.status)
        r = cb.hitting.reached
        assert np.all(cb.hitting.steps[r] <= cb.trajectory_bound_steps[r])
    L = problem.largest_eigenvalue
    predicted = 2 * (2 - L * eta) / (2 - 2 * L * eta)
    assert two.critical_batch / one.critical_batch == pytest.approx(predicted, rel=0.10)


def test_measured_sfo_is_mostly_but_not_always_convex():
    """The bound's N(b) is convex; the measured one is convex and unimodal in most cases only.

    Fixed-seed sample of 16 drawn problems at η and 2η: at least 90 % convex (relative slack 1e-3 on
    second differences: the crossing inside a step is interpolated log-linearly) and unimodal. Offline,
    382 such measurements gave 4 non-convex and 2 non-unimodal curves; two of them are pinned below.
    """
    rng = np.random.default_rng(20251122)
    convex, unimodal, total = 0, 0, 0
    while total < 32:
        d, a, b = int(rng.integers(10, 40)), rng.uniform(1.1, 2.2), rng.uniform(0.3, 1.6)
        p = Problem.power_law(d, a=a, b=b, noise_variance=rng.uniform(0.1, 2.0))
        eps = math.sqrt(float(p.eigenvalues**2 @ p.initial_second_moment)) * rng.uniform(0.03, 0.2)
        eta = rng.uniform(0.05, 0.45)
        grid = np.geomspace(1, 2**14, 29)
        first = critical_batch(p, eta, eps, grid, max_steps=50_000, convex_slack=1e-3, refine=0)
        if first.hitting.reached[0]:
            continue
        for cb in (first, critical_batch(p, 2 * eta, eps, grid, max_steps=50_000, convex_slack=1e-3, refine=0)):
            convex += cb.convex
            unimodal += cb.unimodal
            total += 1
    assert convex >= 0.9 * total and unimodal >= 0.9 * total


def test_measured_sfo_counterexamples():
    grid = np.geomspace(1, 2**14, 29)
    # A genuine inflection after the minimum (smooth on a 60-point zoom, not interpolation noise).
    p = Problem.power_law(14, a=2.0, b=0.375, noise_variance=0.25)
    eps = math.sqrt(float(p.eigenvalues**2 @ p.initial_second_moment)) * 0.125
    cb = critical_batch(p, 0.25, eps, grid, convex_slack=1e-3)
    assert cb.interior and cb.unimodal and not cb.convex
    # Two local minima: noise from the top directions dominates up to b ≈ 6, then K drops 75-fold.
    p = Problem.power_law(55, a=2.118560584165671, b=0.3026738959840058, noise_variance=0.4083459353644078)
    cb = critical_batch(p, 0.2275099382410231, 0.2694241833332324, grid, max_steps=50_000)
    assert cb.interior and not cb.unimodal


def test_critical_batch_validation():
    p = Problem.isotropic(2, noise_variance=1.0)
    with pytest.raises(ValueError, match="increasing 1-D grid"):
        critical_batch(p, 0.1, 0.1, [4, 2, 8])
    with pytest.raises(ValueError, match="refine must be ≥ 0"):
        critical_batch(p, 0.1, 0.1, [1, 2, 4], refine=-1)


def test_bound_with_optimum_variance_can_fail():
    """σ² at the optimum underestimates the early gradient noise: the bound built on it is violated
    here (a = 2, σ_y² = 0.05: the risk term dominates the one-sample variance at the start)."""
    p = Problem.power_law(40, a=2.0, b=1.0, noise_variance=0.05)
    cb = critical_batch(p, 0.1, 0.1, np.geomspace(1, 2**14, 25), max_steps=100_000, refine=0)
    r = cb.hitting.reached
    assert not cb.bound_holds[r].all()
    assert np.all(cb.hitting.steps[r] <= cb.trajectory_bound_steps[r])


# ------------------------------------------------------------------ hostile-input regressions
def test_sfo_bound_refuses_wrong_constants_and_handles_zero_rate_warmup():
    s = Schedule.constant(0.5, 4, steps=3)
    with pytest.raises(TypeError, match="constants must be a BoundConstants"):
        sfo_bound(s, 3)                                          # formerly AttributeError
    # Zero-LR steps are legal: the bound is +inf until Σ η > 0, then the plain formula (A/Ση + BΣ(η²/b)/Ση
    # with A = 2Δ/(2 − Lη_max) = 4/3, B = Lσ²/(2 − Lη_max) = 2/3 at η = 0.5, L = σ² = Δ = 1).
    warm = Schedule([0.0, 0.5], [4, 4])
    out = sfo_bound(warm, BoundConstants(1.0, 1.0, 1.0))
    assert out[0] == np.inf and out[1] == pytest.approx(4 / 3 / 0.5 + 2 / 3 * (0.25 / 4) / 0.5, rel=1e-14)


def test_gradient_variance_refuses_nan_negative_and_wrong_shapes():
    p = Problem([1.0, 0.5], [1.0, 0.0], noise_variance=0.5)
    for bad, message in [([np.nan, 0.0], "second_moment must be .*finite"), ([-1.0, 0.0], "second_moment must be ≥ 0"),
                         ([1.0, 2.0, 3.0], r"second_moment must have shape \(\.\.\., d\)")]:
        with pytest.raises(ValueError, match=message):
            gradient_variance(p, bad)
    with pytest.raises(TypeError, match="second_moment must hold real numbers"):
        gradient_variance(p, ["1", "2"])
    with pytest.raises(ValueError, match="overflows float64"):
        gradient_variance(p, [1e308, 1e308])


def test_bound_steps_is_finite_for_huge_batches_and_names_underflow():
    c = BoundConstants(1.0, 1.0, 1.0)
    # K(b) = C₁/(τ − C₂/b) → C₁/τ = (8/3)/0.01 as b → ∞ (formerly C₁b/(τb − C₂) overflowed to inf).
    assert bound_steps(c, 0.5, 1e308, 0.1) == pytest.approx(800 / 3, rel=1e-14)
    with pytest.raises(ValueError, match=r"N\(b\) = b·K\(b\) exceeds float64 at batch=1e\+308"):
        bound_sfo(c, 0.5, 1e308, 0.1)
    with pytest.raises(ValueError, match=r"epsilon\*\*2 .*epsilon=1e-200"):
        gradient_target(1e-200)
    with pytest.raises(TypeError, match="batch must hold real numbers"):
        bound_steps(c, 0.5, ["100"], 0.1)                       # formerly accepted as 100.0


def test_schedule_to_target_reads_long_segment_schedules_in_chunks():
    # 2^40 steps of (0.5, 1) on λ = 1, no noise: s ← 0.75 s, so 0.75^t ≤ 1e-4 at t = 33 (as in the
    # steps_to_target doctest); formerly an 8 TiB allocation.
    p = Problem([1.0], [1.0], noise_variance=0.0)
    h = schedule_to_target(p, Schedule.from_segments([0.5], [1], [2**40]), 1e-4)
    assert h.steps.tolist() == [33.0] and h.samples.tolist() == [33.0]
    with pytest.raises(ValueError, match=r"refine must be ≤ 64"):
        critical_batch(p, 0.5, 0.1, [1.0, 2.0, 4.0], refine=2**40)   # formerly 2^40 zoom rounds
