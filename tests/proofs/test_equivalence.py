"""Equivalence algebra against the numeric theory: stationary point, invariants, ramp bound, step reductions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ramplab.proofs import nsgd_invariant, ramp_bound, serial_step_integrals, stationary_point
from ramplab.proofs.equivalence import RELEASED, kappa, lam, q, recursion_step, s
from ramplab.proofs.symbols import b, eta, sigma2
from ramplab.theory import (is_stable, stationary_second_moment,
    RELEASED_ALPHA_BETA,
    Cosine,
    Problem,
    WarmupCosine,
    family_invariant,
    satisfies_ramp_bound,
    seesaw_step_reduction,
)
from ramplab.theory.dynamics import second_moment_step


@settings(max_examples=30)
@given(lams=st.lists(st.floats(0.05, 2.0), min_size=3, max_size=3), s2=st.floats(0.0, 2.0),
       batch=st.floats(1.0, 64.0), frac=st.floats(0.05, 0.9), kappa_=st.sampled_from([1.0, 3.0, 5.0]))
def test_stationary_point_matches_theory(lams, s2, batch, frac, kappa_):
    problem = Problem(lams, [1.0, 1.0, 1.0], noise_variance=s2, kurtosis=kappa_)
    lr = frac / max(lams)
    assume(is_stable(problem, lr, batch))
    d = stationary_point()
    lam_syms = sp.symbols("lambda_1:4", positive=True)
    c = 1 + (kappa - 2) / b
    S = (eta / b) * sum(li / (2 - c * eta * li) for li in lam_syms)
    q_inf = d.result("q^\\infty").subs(sp.Symbol("S", positive=True), S)
    per_dir = [d.result("s_i^\\infty").subs({q: q_inf, lam: li}) for li in lam_syms]
    f = sp.lambdify((*lam_syms, eta, b, sigma2, kappa), per_dir)
    got = np.array(f(*lams, lr, batch, s2, kappa_))
    want = stationary_second_moment(problem, lr, batch)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)
    # And it is a fixed point of the numeric recursion.
    step = second_moment_step(want, problem.eigenvalues, lr, batch, s2, kappa_)
    np.testing.assert_allclose(step, want, rtol=1e-10, atol=1e-14)


@settings(max_examples=30)
@given(s_=st.floats(0.0, 3.0), l_=st.floats(0.01, 3.0), rest=st.floats(0.0, 3.0), lr=st.floats(0.0, 1.0),
       batch=st.floats(1.0, 100.0), s2=st.floats(0.0, 2.0), kappa_=st.floats(1.0, 5.0))
def test_symbolic_recursion_step_is_the_numeric_one(s_, l_, rest, lr, batch, s2, kappa_):
    # q = Σ_j λ_j s_j includes this coordinate's λ s: q ≥ λ s (then the new state is ≥ 0 exactly, and
    # the solver's clamp of rounding-level negatives at 0 never acts on the comparison).
    q_ = l_ * s_ + rest
    f = sp.lambdify((s, lam, q, eta, b, sigma2, kappa), recursion_step(s, lam, q))
    got = f(s_, l_, q_, lr, batch, s2, kappa_)
    want = float(second_moment_step(np.array([s_]), np.array([l_]), lr, batch, s2, kappa_, q=np.array([q_]))[0])
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_invariants_match_theory_families():
    d = nsgd_invariant()
    alpha, beta = sp.symbols("alpha beta", positive=True)
    sgd, nsgd = d.result("invariant_{SGD}"), d.result("invariant_{NSGD}")
    for a_, b_ in RELEASED_ALPHA_BETA:
        assert float(sgd.subs({alpha: a_, beta: b_})) == pytest.approx(family_invariant(a_, b_, "sgd"))
        assert float(nsgd.subs({alpha: a_, beta: b_})) == pytest.approx(family_invariant(a_, b_, "nsgd"))


def test_ramp_bound_matches_theory_on_the_released_pairs():
    assert ramp_bound().verified
    for (a_sym, b_sym, ok), (a_num, b_num) in zip(RELEASED, RELEASED_ALPHA_BETA):
        assert float(a_sym) == pytest.approx(a_num, rel=1e-15) and float(b_sym) == pytest.approx(b_num, rel=1e-15)
        assert satisfies_ramp_bound(a_num, b_num) is ok
    assert ramp_bound().result("\\beta_{max}") == 2


def test_serial_step_reductions_match_theory():
    d = serial_step_integrals()
    assert float(d.result("reduction_{quarter}")) == pytest.approx(
        seesaw_step_reduction(Cosine(1.0, 1.0, quarter=True)), rel=1e-9)
    assert float(d.result("reduction_{half}")) == pytest.approx(seesaw_step_reduction(Cosine(1.0, 1.0)), rel=1e-9)
    assert d.result("reduction_{released}") == sp.Rational(81, 200)
    assert float(d.result("reduction_{released}")) == pytest.approx(seesaw_step_reduction(WarmupCosine(1.0, 1.0)),
                                                                   rel=1e-9)
    assert float(d.result("reduction_{quarter}")) == pytest.approx(1 - 2 / math.pi, rel=1e-15)
