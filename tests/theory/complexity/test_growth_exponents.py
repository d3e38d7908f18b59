"""measure_growth_exponent: the stage-wise closed form against the plain step loop, and property tests
that a window decided by one term of the bias/variance split measures that term's exponent
(docs/math.md#growth-exponent-measurement)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramplab.figures.growth_exponent_map import power_law_groups
from ramplab.theory import Problem, exponential_growth, schedule_to_target
from ramplab.theory.complexity import (
    GrowthCell,
    measure_growth_exponent,
    term_exponent,
)

from oracles import sgd_moments

# The stated uncertainty of a fitted exponent: 3 standard errors of the slope, plus 1 % for the terms the
# asymptotic formulas drop and a straight-line fit cannot show: the −1 in δ^M − 1 and γ^M − 1 (relative size
# δ^{−M}, γ^{−M} at the window's start) and the O(ηλ₁) correction of the quasi-stationary variance
# (s^∞ ∝ η/(2 − cηλ), which matters once η has grown to a few tenths of 1/λ₁ by the window's end). Measured
# on these settings they stay below 0.4 %.
SYSTEMATIC = 1e-2


def within_uncertainty(result, formula):
    return abs(result.exponent - formula) <= 3 * result.stderr + SYSTEMATIC * formula


def test_crossings_match_the_plain_solver():
    # The closed form per stage against schedule_to_target, which steps the recursion one step at a time.
    p = Problem.power_law(30, 1.5, 1.0, noise_variance=1.0)
    eps = np.geomspace(0.3, 0.05, 6)
    r = measure_growth_exponent(GrowthCell(p, 1.2, 1.5, eps, lr0=0.01, stage_steps=50, max_stages=60))
    sched = exponential_growth(0.01, 1.0, 1.2, 1.5, 60, stage_steps=50, lr_cap=1.0)
    hit = schedule_to_target(p, [sched] * eps.size, eps**2)
    np.testing.assert_allclose(r.sfo, hit.fractional_samples, rtol=1e-9)
    np.testing.assert_allclose(r.steps, hit.fractional_steps, rtol=1e-9)
    # The stage-end levels are the plain recursion's gradient norm after each full stage.
    lrs = [0.01 * 1.2**m for m in range(3) for _ in range(50)]
    batches = [1.5**m for m in range(3) for _ in range(50)]
    norms = sgd_moments(p, lrs, batches)["gradient_norm"]  # tests/oracles.py
    for m in range(3):
        assert r.stage_level[m] == pytest.approx(math.sqrt(norms[50 * (m + 1)]), rel=1e-10)
        assert r.stage_sfo[m] == pytest.approx(50 * sum(1.5**k for k in range(m + 1)), rel=1e-12)


def test_excess_risk_target_and_split():
    p = Problem.power_law(20, 1.5, 2.5, noise_variance=0.0)
    r = measure_growth_exponent(GrowthCell(p, 1.2, 2.0, [0.3, 0.2, 0.1], target="excess_risk", lr0=0.01,
                                           stage_steps=20, max_stages=80))
    assert np.all(r.stage_bias_share == 1.0)  # no label noise: the variance part is exactly zero
    hit = schedule_to_target(p, exponential_growth(0.01, 1.0, 1.2, 2.0, 80, stage_steps=20, lr_cap=1.0), 1e-30)
    assert hit.status.tolist() == ["horizon"]  # (the schedule is long enough; the target above is unreachable)


@settings(max_examples=12, deadline=None)
@given(gamma=st.floats(1.1, 1.6), ratio=st.floats(1.15, 3.0))
def test_variance_decided_window_follows_the_variance_formula(gamma, ratio):
    # Label noise only (s(0) = 0): the variance part is the whole target. Long stages (Kη₀ = 1000) and a
    # window two decades below the first stage's level.
    delta = gamma * ratio
    p = Problem([1.0, 0.5, 0.25], [0.0, 0.0, 0.0], noise_variance=1.0)
    r = measure_growth_exponent(GrowthCell(p, gamma, delta, np.geomspace(1e-4, 1e-4 / 10**1.5, 7), lr0=1e-6,
                                           stage_steps=10**9, max_stages=400))
    if r.capped:
        return  # η reached its cap inside the window: not exponential growth any more
    assert r.dominant == "variance" and r.decades >= 1.5
    assert within_uncertainty(r, term_exponent("variance", gamma, delta))


@settings(max_examples=10, deadline=None)
@given(gamma=st.floats(1.1, 1.6), ratio=st.floats(1.05, 2.0))
def test_bias_decided_window_follows_the_bias_formula(gamma, ratio):
    # No label noise on a power law whose gradient norm decays like (Σ η)^{-1} (p = (a + b − 1)/a = 1).
    delta = gamma * ratio
    p = power_law_groups(10**6, 1.5, 1.0, 0.0)
    r = measure_growth_exponent(GrowthCell(p, gamma, delta, np.geomspace(0.03, 0.03 / 10**1.5, 7), lr0=1e-8,
                                           stage_steps=10**6, max_stages=600))
    assert not r.capped and r.dominant == "bias" and r.decades >= 1.5
    assert within_uncertainty(r, term_exponent("bias", gamma, delta))


def test_mixed_setting_reports_both_terms():
    # The setting: variance decides below the ridge, bias above; δ = γ² measures ≈ 4.
    p = power_law_groups(10**5, 1.5, 1.0, 1e3)
    eps = np.geomspace(0.1, 0.1 / 10**1.5, 7)
    res = {d: measure_growth_exponent(GrowthCell(p, 1.2, d, eps, lr0=1e-4, stage_steps=30_000, max_stages=400))
           for d in (1.44, 2.0, 3.0)}
    assert abs(res[1.44].exponent - 4.0) < 0.3
    assert res[3.0].stage_bias_share[res[3.0].fitted].max() > 0.5


def test_term_exponents():
    assert term_exponent("variance", 1.2, 1.3) == pytest.approx(2 * math.log(1.3) / math.log(1.3 / 1.2))
    assert term_exponent("bias", 1.2, 2.0, bias_decay=2.0) == pytest.approx(math.log(2.0) / math.log(1.2))
    assert term_exponent("variance", 1.2, 1.2) == math.inf and term_exponent("bias", 1.0, 2.0) == math.inf
    # The bound's exponent is the larger of the two terms (p = 1).
    from ramplab.theory import sfo_exponent
    for g, d in ((1.2, 1.3), (1.2, 1.44), (1.4, 3.0)):
        assert sfo_exponent(g, d) == pytest.approx(max(term_exponent("bias", g, d), term_exponent("variance", g, d)))
    with pytest.raises(ValueError, match="term"):
        term_exponent("noise", 1.2, 1.3)


def test_cell_validation():
    p = Problem([1.0], [1.0], 1.0)
    with pytest.raises(ValueError, match="epsilons"):
        GrowthCell(p, 1.2, 1.5, [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="epsilons"):
        GrowthCell(p, 1.2, 1.5, [0.2, 0.1])
    with pytest.raises(ValueError, match="target"):
        GrowthCell(p, 1.2, 1.5, [0.3, 0.2, 0.1], target="risk")
    with pytest.raises(TypeError, match="problem"):
        GrowthCell("p", 1.2, 1.5, [0.3, 0.2, 0.1])
    with pytest.raises(TypeError, match="cell"):
        measure_growth_exponent({"gamma": 1.2})


def _step_radius(problem, lr, batch):
    """Spectral radius of one step's linear map ``M = diag(D) + (η²/b) λ (mλ)ᵀ`` (docs/math.md#stability),
    from the dense matrix, for any batch (also b < 1)."""
    lam, m = problem.eigenvalues, problem.multiplicity
    x = lr * lam
    c = 1.0 + (problem.kurtosis - 2.0) / batch
    M = np.diag(1.0 - x * (2.0 - c * x)) + (lr * lr / batch) * np.outer(lam, m * lam)
    return float(np.max(np.abs(np.linalg.eigvals(M))))


@pytest.mark.parametrize("gamma, delta, lr_cap", [(1.5, 1.0, 100.0), (1.0, 0.5, None)])
def test_a_run_past_the_stability_edge_stops_and_has_no_exponent(gamma, delta, lr_cap):
    # A growing η (capped only far beyond 2/λ₁) or a shrinking batch passes the stability edge before the
    # smallest tolerance: the run stops before the first stage whose step map has ρ(M) ≥ 1, the tolerances
    # not reached by then stay inf, and there is no fit (not one through the stage ends of a run that is on
    # its way back up).
    p = Problem([1.0, 0.1], [1.0, 1.0], noise_variance=1.0)
    cell = GrowthCell(p, gamma, delta, [0.3, 0.2, 0.1], lr_cap=lr_cap)
    r = measure_growth_exponent(cell)
    m = r.diverged_at_stage
    assert m is not None and r.stages == m == r.stage_level.size
    schedule = [(min(cell.lr0 * gamma**k, cell.lr_cap), cell.batch0 * delta**k) for k in range(m + 1)]
    assert all(_step_radius(p, lr, b) < 1.0 for lr, b in schedule[:m])
    assert _step_radius(p, *schedule[m]) >= 1.0
    assert np.all(np.isfinite(r.stage_level)) and r.stage_level.max() < 10.0
    assert math.isinf(r.sfo[-1])
    assert math.isnan(r.exponent) and math.isnan(r.stderr) and r.dominant == "diverged"
    assert not r.fitted.any() and r.decades == 0.0


def test_a_stable_run_has_no_divergence_stage():
    p = Problem.power_law(30, a=1.5, b=1.0, noise_variance=1e-4)
    r = measure_growth_exponent(GrowthCell(p, 1.2, 1.44, np.geomspace(0.3, 0.03, 5), lr0=0.01, stage_steps=100))
    assert r.diverged_at_stage is None and r.dominant == "bias" and math.isfinite(r.exponent)
