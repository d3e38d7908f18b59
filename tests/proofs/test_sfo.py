"""SFO complexity at constant (η, b): b* is the zero of N', N'' > 0 there, and the sympy formulas agree
with the numeric functions of :mod:`ramplab.theory.complexity` on drawn inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from ramplab.proofs import critical_batch_size, sfo_constant
from ramplab.proofs.sfo import sfo_expressions
from ramplab.proofs.symbols import C1, C2, Delta, L, b, epsilon, eta, sigma2, tau
from ramplab.theory import BoundConstants, Schedule, bound_critical_batch, bound_sfo, bound_steps, sfo_bound

CONVENTIONS = ("general", "small_step")


def test_critical_batch_is_the_zero_of_the_derivative_of_n():
    # Rebuilt here from U = C₁/K + C₂/b, independently of proofs.sfo.
    k_of_b = sp.solve(sp.Eq(C1 / sp.Symbol("K") + C2 / b, tau), sp.Symbol("K"))[0]
    n_of_b = k_of_b * b
    b_star = sfo_expressions()["b*"]
    assert sp.simplify(sp.diff(n_of_b, b).subs(b, b_star)) == 0
    assert sp.simplify(sp.diff(n_of_b, b, 2).subs(b, b_star)).is_positive
    # A perturbed candidate is not a zero: the check can fail.
    assert sp.simplify(sp.diff(n_of_b, b).subs(b, 1.1 * b_star)) != 0


@pytest.mark.parametrize("convention", CONVENTIONS)
@pytest.mark.parametrize("stationarity", ("norm", "squared"))
def test_derivation_results(convention, stationarity):
    d = sfo_constant(convention, stationarity)
    assert d.verified
    t = epsilon**2 if stationarity == "norm" else epsilon
    margin = 2 - L * eta if convention == "general" else 1
    assert sp.simplify(d.result("b^*") - 2 * L * sigma2 * eta / (margin * t)) == 0
    n_star = d.results[-1].rhs
    assert sp.simplify(n_star - 8 * L * Delta * sigma2 / (margin**2 * t**2)) == 0


def test_critical_batch_size_numbers_and_symbols():
    # 2Lσ²η/((2 − Lη)ε²) = 2·2·3·0.1/(1.8·0.01)
    assert critical_batch_size(2.0, 3.0, 0.1, 0.1) == pytest.approx(1.2 / 0.018, rel=1e-14)
    assert critical_batch_size(2.0, 3.0, 0.1, 0.1, convention="small_step") == pytest.approx(120.0, rel=1e-14)
    assert critical_batch_size(2.0, 3.0, 0.1, 0.01, stationarity="squared") == pytest.approx(
        critical_batch_size(2.0, 3.0, 0.1, 0.1), rel=1e-14)
    assert isinstance(critical_batch_size(1, 1, 0.5, 0.1), float)
    expr = critical_batch_size(L, sigma2, eta, epsilon)
    assert isinstance(expr, sp.Basic)
    assert sp.simplify(expr - 2 * L * sigma2 * eta / ((2 - L * eta) * epsilon**2)) == 0
    half = critical_batch_size(1, sigma2, sp.Rational(1, 2), sp.Rational(1, 10))
    assert sp.simplify(half - sp.Rational(400, 3) * sigma2 / 2) == 0


@pytest.mark.parametrize("args, match", [
    ((0.0, 1.0, 0.1, 0.1), "L must be positive"),
    ((1.0, -1.0, 0.1, 0.1), "sigma2 must be positive"),
    ((1.0, 1.0, 0.1, math.inf), "epsilon must be positive and finite"),
    ((1.0, 1.0, 2.0, 0.1), "L\\*eta < 2"),
])
def test_critical_batch_size_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        critical_batch_size(*args)


def test_critical_batch_size_rejects_bad_convention():
    with pytest.raises(ValueError, match="L\\*eta ≤ 1"):
        critical_batch_size(1.0, 1.0, 1.5, 0.1, convention="small_step")
    with pytest.raises(ValueError, match="convention must be one of"):
        critical_batch_size(1.0, 1.0, 0.5, 0.1, convention="loose")
    with pytest.raises(TypeError, match="eta must be a real number"):
        critical_batch_size(1.0, 1.0, "fast", 0.1)


positive = st.floats(0.05, 5.0)


@settings(max_examples=40)
@given(L_=positive, s2=positive, delta=positive, h=st.floats(0.05, 0.95), eps=st.floats(0.01, 1.0),
       factor=st.floats(1.01, 20.0), convention=st.sampled_from(CONVENTIONS),
       stationarity=st.sampled_from(("norm", "squared")))
def test_lambdified_formulas_match_theory(L_, s2, delta, h, eps, factor, convention, stationarity):
    lr = h / L_  # Lη = h < 1 satisfies both conventions
    d = sfo_constant(convention, stationarity)
    c1, c2 = d.result("C_1"), d.result("C_2")
    t = epsilon**2 if stationarity == "norm" else epsilon
    k_expr = d.results[3].rhs.subs({C1: c1, C2: c2, tau: t})
    n_expr = d.results[4].rhs.subs({C1: c1, C2: c2, tau: t})
    args = (L, sigma2, Delta, eta, epsilon, b)
    k_num, n_num = sp.lambdify(args, k_expr), sp.lambdify(args, n_expr)
    consts = BoundConstants(L_, s2, delta)
    kw = dict(convention=convention, stationarity=stationarity)
    b_star = bound_critical_batch(consts, lr, eps, **kw)
    assert b_star == pytest.approx(critical_batch_size(L_, s2, lr, eps, **kw), rel=1e-12)
    batch = factor * b_star / 2  # above the feasibility threshold b* / 2
    assert float(bound_steps(consts, lr, batch, eps, **kw)) == pytest.approx(
        k_num(L_, s2, delta, lr, eps, batch), rel=1e-10)
    assert float(bound_sfo(consts, lr, batch, eps, **kw)) == pytest.approx(
        n_num(L_, s2, delta, lr, eps, batch), rel=1e-10)
    # N is minimal at b*: the numeric N agrees.
    n_star = float(bound_sfo(consts, lr, b_star, eps, **kw))
    assert n_star <= float(bound_sfo(consts, lr, batch, eps, **kw)) * (1 + 1e-12)
    # Below the threshold the bound never reaches the target.
    assert math.isinf(float(bound_steps(consts, lr, 0.99 * b_star / 2, eps, **kw)))


@settings(max_examples=25)
@given(L_=positive, s2=positive, delta=positive, h=st.floats(0.05, 1.9), batch=st.floats(1.0, 500.0),
       steps=st.integers(1, 40))
def test_sfo_bound_of_a_constant_schedule_is_c1_over_k_plus_c2_over_b(L_, s2, delta, h, batch, steps):
    lr = h / L_
    u = sfo_constant("general").results[0].rhs  # C₁/K + C₂/b
    d = sfo_constant("general")
    u_num = sp.lambdify((L, sigma2, Delta, eta, b, sp.Symbol("K", positive=True)),
                        u.subs({C1: d.result("C_1"), C2: d.result("C_2")}))
    sched = Schedule.constant(lr, batch, steps=steps, integer_batch=False)
    got = sfo_bound(sched, BoundConstants(L_, s2, delta))
    want = np.array([u_num(L_, s2, delta, lr, batch, k) for k in range(1, steps + 1)])
    np.testing.assert_allclose(got, want, rtol=1e-12)


# ------------------------------------------------------------------ hostile-input regressions
def test_numeric_proofs_name_their_arguments():
    from ramplab.proofs import critical_batch_size, schedule_sums, sfo_constant

    with pytest.raises(ValueError, match="epsilon=1e-200"):
        critical_batch_size(1.0, 1.0, 0.5, 1e-200)               # ε² underflows: formerly ZeroDivisionError
    with pytest.raises(ValueError, match="schedule must be one of"):
        schedule_sums(["constant"])                              # formerly "unhashable type: 'list'"
    with pytest.raises(ValueError, match="convention must be one of"):
        sfo_constant(["general"])
    with pytest.raises(TypeError, match="epsilon must be a real number"):
        critical_batch_size(1.0, 1.0, 0.5, 0.1 + 0j)
