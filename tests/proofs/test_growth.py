"""Growth exponents: spot values, the δ = γ² optimum, the polynomial optimum p = 2q + 1, and the stage
sums against the growth schedules of :mod:`ramplab.theory.schedules`."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from ramplab.proofs import growth_exponent, growth_exponential, polynomial_growth_exponent
from ramplab.proofs.growth import SFO, SUM_RATE, SUM_RATE2_BATCH
from ramplab.proofs.symbols import K, M, b0, delta, eta0, gamma
from ramplab.theory import exponential_growth, polynomial_sfo_exponent, sfo_exponent


def test_spot_values():
    # docs/math.md#sfo-complexity: (γ, δ) = (1.4, 2) gives 4.12 (2 ln 2 / ln 1.4 = 4.1200854…).
    assert growth_exponent(1.4, 2) == pytest.approx(4.120, abs=5e-4)
    assert growth_exponent(1.4, 2) == pytest.approx(2 * math.log(2) / math.log(1.4), rel=1e-15)
    assert growth_exponent(1.5, 2.25) == pytest.approx(4.0, rel=1e-12)
    # γ < δ < γ²: 2 ln δ/(ln δ − ln γ)
    assert growth_exponent(2.0, 3.0) == pytest.approx(2 * math.log(3) / math.log(1.5), rel=1e-15)
    assert growth_exponent(1.0, 2.0) == math.inf and growth_exponent(2.0, 2.0) == math.inf
    assert growth_exponent(0.9, 4.0) == math.inf


@settings(max_examples=50)
@given(g=st.floats(1.01, 4.0))
def test_ridge_is_four(g):
    assert growth_exponent(g, g * g) == pytest.approx(4.0, rel=1e-9)


@settings(max_examples=60)
@given(g=st.floats(1.01, 4.0), x=st.floats(1.001, 6.0))
def test_ridge_minimises_the_exponent_and_theory_agrees(g, x):
    d = g**x  # x = ln δ / ln γ
    e = growth_exponent(g, d)
    assert e >= 4.0 - 1e-9
    assert e == pytest.approx(sfo_exponent(g, d), rel=1e-12)
    if x != pytest.approx(2.0, abs=1e-6):
        assert e > 4.0


def test_symbolic_exponent():
    g = sp.Symbol("g", positive=True)
    e = growth_exponent(g, g**2)
    assert isinstance(e, sp.Piecewise)
    for value in (sp.Rational(3, 2), sp.Integer(3)):
        assert sp.simplify(e.subs(g, value)) == 4
    assert growth_exponent(sp.Integer(1), sp.Integer(2)) == sp.oo
    exact = growth_exponent(sp.Rational(14, 10), sp.Integer(2))
    assert sp.simplify(exact - 2 * sp.log(2) / sp.log(sp.Rational(7, 5))) == 0


def test_polynomial_optimum():
    assert polynomial_growth_exponent(1, 0) == pytest.approx(4.0, rel=1e-14)
    assert polynomial_growth_exponent(5, 2) == pytest.approx(4.0, rel=1e-14)
    assert polynomial_growth_exponent(1, 1) == math.inf
    pp, qq = sp.Rational(3), sp.Rational(1)
    assert sp.simplify(polynomial_growth_exponent(pp, qq)) == 4
    with pytest.raises(ValueError, match="q must be non-negative"):
        polynomial_growth_exponent(1.0, -1.0)


@settings(max_examples=50)
@given(q=st.floats(0.0, 3.0), gap=st.floats(0.01, 8.0))
def test_polynomial_exponent_minimal_at_2q_plus_1(q, gap):
    p = q + gap
    e = polynomial_growth_exponent(p, q)
    assert e >= 4.0 - 1e-9
    assert e == pytest.approx(polynomial_sfo_exponent(p, q), rel=1e-12)
    assert polynomial_growth_exponent(2 * q + 1, q) == pytest.approx(4.0, rel=1e-12)


def test_bad_arguments():
    with pytest.raises(ValueError, match="gamma must be positive"):
        growth_exponent(0.0, 2.0)
    with pytest.raises(TypeError, match="delta must be a real number"):
        growth_exponent(1.4, "two")


@settings(max_examples=25)
@given(g=st.floats(1.05, 1.6), d=st.floats(1.05, 3.0), lr0=st.floats(1e-3, 0.1), batch0=st.floats(1.0, 16.0),
       stages=st.integers(1, 12), k=st.integers(1, 5))
def test_stage_sums_match_the_schedule(g, d, lr0, batch0, stages, k):
    deriv = growth_exponential()
    subs = {gamma: g, delta: d, eta0: lr0, b0: batch0, K: k, M: stages}
    sched = exponential_growth(lr0, batch0, g, d, stages, stage_steps=k)
    assert float(deriv.result(SUM_RATE).subs(subs)) == pytest.approx(sched.lr.sum(), rel=1e-9)
    if abs(g * g / d - 1) > 1e-6:  # the closed form of Σ η²/b divides by q − 1
        assert float(deriv.result(SUM_RATE2_BATCH).subs(subs)) == pytest.approx(
            np.sum(sched.lr**2 / sched.batch), rel=1e-8)
    assert float(deriv.result(SFO).subs(subs)) == pytest.approx(float(sched.total_samples), rel=1e-9)
