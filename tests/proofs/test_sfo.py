"""SFO complexity at constant (η, b): b* is the zero of N', N'' > 0 there, and the sympy formulas agree
with the numeric functions of :mod:`ramplab.theory.complexity` on drawn inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from ramplab.proofs import bound_critical_batch as proofs_bound_critical_batch
from ramplab.proofs import sfo_constant, substitute
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
    assert proofs_bound_critical_batch(2.0, 3.0, 0.1, 0.1) == pytest.approx(1.2 / 0.018, rel=1e-14)
    assert proofs_bound_critical_batch(2.0, 3.0, 0.1, 0.1, convention="small_step") == pytest.approx(120.0, rel=1e-14)
    assert proofs_bound_critical_batch(2.0, 3.0, 0.1, 0.01, stationarity="squared") == pytest.approx(
        proofs_bound_critical_batch(2.0, 3.0, 0.1, 0.1), rel=1e-14)
    assert isinstance(proofs_bound_critical_batch(1, 1, 0.5, 0.1), float)
    expr = proofs_bound_critical_batch(L, sigma2, eta, epsilon)
    assert isinstance(expr, sp.Basic)
    assert sp.simplify(expr - 2 * L * sigma2 * eta / ((2 - L * eta) * epsilon**2)) == 0
    half = proofs_bound_critical_batch(1, sigma2, sp.Rational(1, 2), sp.Rational(1, 10))
    assert sp.simplify(half - sp.Rational(400, 3) * sigma2 / 2) == 0


@pytest.mark.parametrize("args, match", [
    ((0.0, 1.0, 0.1, 0.1), "smoothness must be positive"),
    ((1.0, -1.0, 0.1, 0.1), "gradient_variance must be positive"),
    ((1.0, 1.0, 0.1, math.inf), "epsilon must be positive and finite"),
    ((1.0, 1.0, 2.0, 0.1), "smoothness\\*lr < 2"),
])
def test_critical_batch_size_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        proofs_bound_critical_batch(*args)


def test_critical_batch_size_rejects_bad_convention():
    with pytest.raises(ValueError, match="smoothness\\*lr ≤ 1"):
        proofs_bound_critical_batch(1.0, 1.0, 1.5, 0.1, convention="small_step")
    with pytest.raises(ValueError, match="convention must be one of"):
        proofs_bound_critical_batch(1.0, 1.0, 0.5, 0.1, convention="loose")
    with pytest.raises(TypeError, match="lr must be a real number"):
        proofs_bound_critical_batch(1.0, 1.0, "fast", 0.1)


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
    assert b_star == pytest.approx(proofs_bound_critical_batch(L_, s2, lr, eps, **kw), rel=1e-12)
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
    from ramplab.proofs import schedule_sums, sfo_constant

    with pytest.raises(ValueError, match="epsilon=1e-200"):
        proofs_bound_critical_batch(1.0, 1.0, 0.5, 1e-200)               # ε² underflows: formerly ZeroDivisionError
    with pytest.raises(ValueError, match="schedule must be one of"):
        schedule_sums(["constant"])                              # formerly "unhashable type: 'list'"
    with pytest.raises(ValueError, match="convention must be one of"):
        sfo_constant(["general"])
    with pytest.raises(TypeError, match="epsilon must be a real number"):
        proofs_bound_critical_batch(1.0, 1.0, 0.5, 0.1 + 0j)


# ------------------------------------------------------------------ names (issue #21 item 7)
def test_one_name_for_the_critical_batch_size_across_proofs_and_theory():
    # proofs and theory call b* = 2C₂/τ by one name with one set of argument names.
    import inspect
    import warnings

    import ramplab.proofs as proofs
    import ramplab.theory as theory

    assert "bound_critical_batch" in proofs.__all__ and "critical_batch_size" not in proofs.__all__
    names = list(inspect.signature(proofs.bound_critical_batch).parameters)
    assert names[2:] == ["lr", "epsilon", "convention", "stationarity"]
    assert names[:2] == ["smoothness", "gradient_variance"]  # BoundConstants' fields
    assert [f for f in ("smoothness", "gradient_variance") if f in BoundConstants.__dataclass_fields__] == names[:2]
    assert list(inspect.signature(theory.bound_critical_batch).parameters)[1:] == names[2:]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = proofs.critical_batch_size(1.0, 2.0, 0.5, 0.1)
    assert old == proofs.bound_critical_batch(1.0, 2.0, 0.5, 0.1)
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)


@settings(max_examples=30)
@given(L_=st.fractions(1, 5), s2=st.fractions(1, 5), h=st.fractions(1, 19).map(lambda x: x / 10),
       eps=st.fractions(1, 10).map(lambda x: x / 10))
def test_symbols_substitute_by_plain_names(L_, s2, h, eps):
    # The derivation's b* with σ² substituted by the plain names theory uses, exactly.
    lr = h / L_
    expr = sfo_constant("general").result("b^*")
    want = 2 * L_ * s2 * lr / ((2 - L_ * lr) * eps**2)
    values = [sp.Rational(x.numerator, x.denominator) for x in (L_, s2, lr, eps)]
    got = substitute(expr, smoothness=values[0], gradient_variance=values[1], lr=values[2], epsilon=values[3])
    assert got == sp.Rational(want.numerator, want.denominator)
    assert substitute(expr, L=values[0], sigma2=values[1], eta=values[2], epsilon=values[3]) == got


def test_substitute_refuses_strings_unknown_names_and_duplicates():
    expr = sfo_constant("general").result("b^*")
    with pytest.raises(TypeError, match="sigma2 must be a sympy expression or a real number"):
        substitute(expr, sigma2="__import__('os')")
    with pytest.raises(TypeError, match="unknown symbol name"):
        substitute(expr, sigma=2)
    with pytest.raises(TypeError, match="two names for the symbol"):
        substitute(expr, L=1, smoothness=1)


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_steps_and_sfo_at_the_critical_batch_print_without_a_flipped_sign(convention):
    # K(b*) and N(b*) were printed as −4Δ/(ε²η(Lη − 2)) and …/(Lη − 2)²: the margin 2 − Lη must
    # appear as it is (positive), and no result may carry a leading minus sign.
    d = sfo_constant(convention)
    for name in ("b^*", "K(b^*)", "N(b^*)"):
        text = str(d.result(name))
        assert "L*eta - 2" not in text and not text.startswith("-"), (name, text)
