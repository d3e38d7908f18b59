"""Phase families: members, invariants, the α ≥ √β bound, and phase schedules in samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramplab.theory.schedules import (
    RELEASED_ALPHA_BETA,
    family_invariant,
    family_member,
    family_members,
    phase_schedule,
    satisfies_ramp_bound,
)


@settings(max_examples=40)
@given(c=st.floats(1.01, 10.0), p=st.floats(0.0, 2.0), optimizer=st.sampled_from(["sgd", "nsgd"]))
def test_members_hold_the_invariant(c, p, optimizer):
    alpha, beta = family_member(c, p=p, optimizer=optimizer)
    assert family_invariant(alpha, beta, optimizer) == pytest.approx(c, rel=1e-12)
    assert beta == pytest.approx(c**p)
    a2, b2 = family_member(c, beta=beta, optimizer=optimizer)
    assert (a2, b2) == pytest.approx((alpha, beta), rel=1e-12)


@settings(max_examples=40)
@given(c=st.floats(1.01, 10.0), p=st.floats(0.0, 2.0))
def test_nsgd_p_family_meets_the_ramp_bound_exactly_for_p_at_most_one(c, p):
    # α = c^{1−p/2} ≥ √β = c^{p/2}  ⇔  p ≤ 1 (docs/math.md#seesaw-rule: p ∈ [0, 1] stable).
    alpha, beta = family_member(c, p=p, optimizer="nsgd")
    if p <= 1.0 - 1e-9:
        assert satisfies_ramp_bound(alpha, beta)
    elif p >= 1.0 + 1e-9:
        assert not satisfies_ramp_bound(alpha, beta)


def test_released_pairs():
    # docs/math.md#equivalence: the five released pairs lie on α√β = 2 and the last two violate α ≥ √β.
    for alpha, beta in RELEASED_ALPHA_BETA:
        assert family_invariant(alpha, beta, "nsgd") == pytest.approx(2.0, rel=1e-15)
    assert [satisfies_ramp_bound(a, b) for a, b in RELEASED_ALPHA_BETA] == [True, True, True, False, False]
    got = family_members(2.0, ps=[0.0, 0.5, 1.0, 1.5, 2.0], optimizer="nsgd")
    assert np.allclose(got, RELEASED_ALPHA_BETA, rtol=1e-15)
    # Seesaw sits exactly on the bound.
    assert satisfies_ramp_bound(math.sqrt(2.0), 2.0)
    assert not satisfies_ramp_bound(math.sqrt(2.0) * (1 - 1e-9), 2.0)


@settings(max_examples=40)
@given(
    lr0=st.floats(1e-3, 1.0),
    batch0=st.floats(1.0, 8.0),
    alpha=st.floats(0.5, 4.0),
    beta=st.floats(1.0, 2.0),
    # Every phase holds at least two batches (B_k ≤ 8 · 2^4), so each gets round(D_k/B_k) ≥ 1 steps.
    phases=st.lists(st.floats(256.0, 4096.0), min_size=1, max_size=5),
)
def test_phase_schedule_conserves_samples_and_follows_the_phases(lr0, batch0, alpha, beta, phases):
    s = phase_schedule(lr0, batch0, alpha, beta, phases)
    assert s.total_samples == pytest.approx(sum(phases), rel=1e-12)
    edges = np.concatenate([[0.0], np.cumsum(phases)])
    before = s.samples_before
    for k in range(len(phases)):
        inside = (before >= edges[k] * (1 - 1e-12)) & (before < edges[k + 1] * (1 - 1e-12))
        assert np.allclose(s.lr[inside], lr0 * alpha**-k, rtol=1e-12)
        # Real batches: D_k split into n_k ≈ D_k/B_k equal steps (rounded, and never so many that a
        # batch falls below 1, Schedule.from_phases), so the batch is within 1/n_k of B_k.
        n_k = inside.sum()
        assert np.allclose(s.batch[inside], batch0 * beta**k, rtol=1.0 / n_k + 1e-12)


def test_integer_phase_schedule_and_errors():
    s = phase_schedule(0.5, 4, 2.0, 2.0, [16, 16, 16], integer_batch=True)
    assert s.batch.tolist() == [4, 4, 4, 4, 8, 8, 16]
    assert s.lr.tolist() == [0.5] * 4 + [0.25] * 2 + [0.125]
    with pytest.raises(ValueError, match="give exactly one of beta= or p="):
        family_member(2.0)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        family_member(2.0, p=1.0, optimizer="adam")
    with pytest.raises(ValueError, match="alpha must be positive; got -1.0"):
        phase_schedule(0.5, 4, -1.0, 2.0, [16])
    with pytest.raises(ValueError, match="phase_samples must not be empty"):
        phase_schedule(0.5, 4, 2.0, 2.0, [])


# ------------------------------------------------------------------ hostile-input regressions
def test_phase_schedule_overflow_names_beta_not_errno_34():
    # 1e10^k passes 1.8e308 at k = 31: formerly OverflowError(34, 'Numerical result out of range').
    with pytest.raises(ValueError, match=r"batch0 \* beta\*\*k overflows float64 at phase k = 31.*beta=10000000000.0"):
        phase_schedule(0.1, 4, 0.5, 1e10, [100] * 40)
    with pytest.raises(TypeError, match="phase_samples must hold real numbers"):
        phase_schedule(0.1, 4, 0.5, 2.0, [100, True])
    with pytest.raises(ValueError, match=r"not an integer at phase k = 1.*integer_batch=False"):
        phase_schedule(0.1, 3, 1.0, 1.5, [12, 12], integer_batch=True)     # B_1 = 3·1.5 = 4.5


def test_family_member_overflow_and_invariant_overflow_are_named():
    with pytest.raises(ValueError, match=r"beta = c\*\*p.*c=2.0, p=100000.0"):
        family_member(2.0, p=1e5)                        # 2^100000: formerly OverflowError(34)
    with pytest.raises(ValueError, match=r"the invariant = inf.*alpha=1e\+308, beta=10.0"):
        family_invariant(1e308, 10.0)
    with pytest.raises(TypeError, match="optimizer must be one of"):
        family_invariant(2.0, 1.0, ["sgd"])
    assert family_members(4.0, betas=[1, 2, 4]) == [(4.0, 1.0), (2.0, 2.0), (1.0, 4.0)]
    with pytest.raises(ValueError, match=r"betas\[1\]: beta must be positive"):
        family_members(4.0, betas=[1.0, -2.0])
