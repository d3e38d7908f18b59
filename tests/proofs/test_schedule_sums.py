"""Closed-form schedule sums against the per-step rates :mod:`theory` produces (and plain numpy sums)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from ramplab.proofs import schedule_sums
from ramplab.proofs.schedule_sums import (
    BIAS,
    BIAS_LIMIT,
    SCHEDULES,
    SUM1,
    SUM2,
    SUM_KIND,
    VARIANCE,
    VARIANCE_LIMIT,
    S,
    T,
    eta_max,
    eta_min,
    p,
    rho,
)
from ramplab.proofs.symbols import A, B, M, b, eta0
from ramplab.theory import BoundConstants, Constant, Cosine, Linear, Schedule, StepDecay, sfo_bound



def _sums(name, subs):
    d = schedule_sums(name)
    return (float(sp.N(d.result(SUM1).subs(subs), 20)), float(sp.N(d.result(SUM2).subs(subs), 20)))


def test_kinds_are_stated():
    assert set(SUM_KIND) == set(SCHEDULES)
    assert "asymptotic" in SUM_KIND["diminishing"] and "closed-form" in SUM_KIND["cosine"]


@settings(max_examples=30)
@given(steps=st.integers(2, 300), peak=st.floats(0.01, 2.0), floor=st.floats(0.0, 0.9), batch=st.integers(1, 8))
def test_cosine_and_linear_match_theory_shapes(steps, peak, floor, batch):
    subs = {T: steps, eta_max: peak, eta_min: peak * floor}
    for name, shape in (("cosine", Cosine(peak, steps * batch, final=floor)),
                        ("linear", Linear(peak, steps * batch, final=floor))):
        lr = Schedule.from_shape(shape, batch).lr
        s1, s2 = _sums(name, subs)
        assert s1 == pytest.approx(lr.sum(), rel=1e-10)
        assert s2 == pytest.approx(np.sum(lr**2), rel=1e-10)
    lr = Schedule.from_shape(Constant(peak, steps * batch), batch).lr
    assert _sums("constant", subs) == pytest.approx((lr.sum(), np.sum(lr**2)), rel=1e-12)


@settings(max_examples=20)
@given(stages=st.integers(1, 8), per_stage=st.integers(1, 20), factor=st.floats(0.05, 0.95),
       peak=st.floats(0.01, 2.0))
def test_step_decay_matches_theory_shape(stages, per_stage, factor, peak):
    total = stages * per_stage
    shape = StepDecay(peak, total, boundaries=tuple(k / stages for k in range(1, stages)), factor=factor)
    lr = Schedule.from_shape(shape, 1).lr
    s1, s2 = _sums("step_decay", {M: stages, S: per_stage, eta0: peak, rho: factor})
    assert s1 == pytest.approx(lr.sum(), rel=1e-9)
    assert s2 == pytest.approx(np.sum(lr**2), rel=1e-9)


@settings(max_examples=12)
@given(steps=st.integers(1, 200), power=st.floats(0.2, 4.0), peak=st.floats(0.01, 2.0), floor=st.floats(0.0, 0.9))
def test_polynomial_and_diminishing_match_direct_sums(steps, power, peak, floor):
    t = np.arange(steps)
    lr = peak * floor + (peak - peak * floor) * (1 - t / steps) ** power
    s1, s2 = _sums("polynomial", {T: steps, p: power, eta_max: peak, eta_min: peak * floor})
    assert s1 == pytest.approx(lr.sum(), rel=1e-9)
    assert s2 == pytest.approx(np.sum(lr**2), rel=1e-9)
    lr = peak / np.sqrt(t + 1)
    assert _sums("diminishing", {T: steps, eta0: peak}) == pytest.approx((lr.sum(), np.sum(lr**2)), rel=1e-10)


@settings(max_examples=20)
@given(steps=st.integers(2, 200), peak=st.floats(0.05, 1.0), floor=st.floats(0.0, 0.9), batch=st.integers(1, 64))
def test_bias_plus_variance_is_the_bound_of_theory(steps, peak, floor, batch):
    # The master bound after the last step of a cosine schedule, small-step constants A = 2Δ, B = Lσ².
    L_, s2, delta = 1.0, 0.7, 1.3
    d = schedule_sums("cosine")
    subs = {T: steps, eta_max: peak, eta_min: peak * floor, A: 2 * delta, B: L_ * s2, b: batch}
    u = float(sp.N((d.result(BIAS) + d.result(VARIANCE)).subs(subs), 30))
    lr = Schedule.from_shape(Cosine(peak, steps * batch, final=floor), batch)
    got = sfo_bound(lr, BoundConstants(L_, s2, delta), convention="small_step")[-1]
    assert got == pytest.approx(u, rel=1e-10)


def test_limits():
    assert schedule_sums("step_decay").result(BIAS_LIMIT) != 0  # bounded Σ η: the bias term stays
    for name in ("constant", "cosine", "linear", "polynomial", "diminishing"):
        assert schedule_sums(name).result(BIAS_LIMIT) == 0
    assert schedule_sums("diminishing").result(VARIANCE_LIMIT) == 0
    # Numerically: T = 10⁶ diminishing sums are close to their asymptotics 2η₀√T and η₀² ln T.
    n = 10**6
    k = np.arange(1, n + 1)
    assert np.sum(k**-0.5) / (2 * math.sqrt(n)) == pytest.approx(1.0, abs=1e-3)
    assert np.sum(1.0 / k) / math.log(n) == pytest.approx(1.0, abs=0.05)


def test_unknown_schedule():
    with pytest.raises(ValueError, match="schedule must be one of"):
        schedule_sums("warmup")
