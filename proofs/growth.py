"""Growth schedules: batch size and learning rate growing together, and the ε-exponent of SFO (docs/math.md#sfo-complexity).

**Exponential stages.** Stage ``m = 0 … M−1`` runs ``K`` steps at ``b_m = b₀δ^m``, ``η_m = η₀γ^m``;
``q = γ²/δ``. Then

    Σ η = Kη₀(γ^M − 1)/(γ − 1),   Σ η²/b = K(η₀²/b₀)(q^M − 1)/(q − 1),   N = Kb₀(δ^M − 1)/(δ − 1),

and the master bound ``U(M) = A/Σ η + B Σ(η²/b)/Σ η`` behaves, for ``γ > 1``, like ``γ^{−M}`` when
``δ > γ²``, ``Mγ^{−M}`` when ``δ = γ²``, ``(γ/δ)^M`` when ``γ < δ < γ²``, and does not vanish when
``δ ≤ γ``. Asking ``U ≤ ε²`` (the norm convention) gives the SFO complexity ``N_ε = Θ(ε^{−e})`` with

    e(γ, δ) = 2 ln δ / (ln δ − ln γ)   (γ < δ < γ²),      e(γ, δ) = 2 ln δ / ln γ   (δ ≥ γ²),

and ``e = 4`` (times ``ln²(1/ε)``) on the ridge ``δ = γ²``, which minimises ``e`` for every ``γ > 1``.
A constant learning rate (``γ = 1``) with ``δ > 1`` gives ``U = O(1/M)`` and ``N_ε`` exponential in
``1/ε²`` — no finite exponent.

**Polynomial stages.** ``b_m = b₀(m+1)^p``, ``η_m = η₀(m+1)^q``: ``U = Θ(M^{−min(q+1, p−q)})`` (a
``ln M`` factor at ``p = 2q + 1``), ``N = Θ(M^{p+1})``, so ``e(p, q) = 2(p+1)/min(q+1, p−q)``, minimal
(= 4) at ``p = 2q + 1``.

The constants ``A``, ``B`` are those of the master bound with ``η_max`` the largest rate used; a
growing rate must be capped below ``2/L`` in practice (:mod:`theory.growth` exposes the caps), which
the asymptotic statements here leave aside, as the source does.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import sympy as sp

from ._arguments import positive_number
from .derivation import (
    Derivation,
    check_equal,
    check_limit,
    check_negative,
    check_positive,
    check_true,
    check_zero,
    equation,
)
from .symbols import A, B, K, M, b0, delta, epsilon, eta0, gamma

__all__ = ["SFO", "SUM_RATE", "SUM_RATE2_BATCH", "growth_exponent", "growth_exponential", "growth_polynomial",
           "polynomial_growth_exponent"]

x = sp.Symbol("x", positive=True)  # ln δ / ln γ
p = sp.Symbol("p", positive=True)  # batch growth power
qq = sp.Symbol("q", nonnegative=True)  # learning-rate growth power
m = sp.Symbol("m", integer=True, nonnegative=True)

#: Left-hand sides of the stage sums (K steps per stage): look results up with them.
STAGE_RATE, STAGE_BATCH = sp.IndexedBase("eta")[m], sp.IndexedBase("b")[m]
SUM_RATE = K * sp.Sum(STAGE_RATE, (m, 0, M - 1))
SUM_RATE2_BATCH = K * sp.Sum(STAGE_RATE**2 / STAGE_BATCH, (m, 0, M - 1))
SFO = K * sp.Sum(STAGE_BATCH, (m, 0, M - 1))


def _real(value: Any, name: str) -> float:
    return positive_number(value, name)


def growth_exponent(gamma: Any, delta: Any) -> Any:
    """ε-exponent ``e`` of the SFO complexity ``N_ε = Θ(ε^{−e})`` of exponential growth (norm convention).

    ``2 ln δ/(ln δ − ln γ)`` for ``γ < δ < γ²``, ``2 ln δ/ln γ`` for ``δ ≥ γ²`` (both 4 at ``δ = γ²``,
    with a ``ln²(1/ε)`` factor there), ``inf`` when the bound does not vanish polynomially fast
    (``γ ≤ 1`` or ``δ ≤ γ``). For the squared convention (``E‖∇f‖² ≤ ε``) halve it.

    Parameters
    ----------
    gamma, delta
        Learning-rate and batch growth factors per stage. Numbers give a float; sympy objects a
        :class:`sympy.Piecewise`.

    Examples
    --------
    >>> round(growth_exponent(1.4, 2), 3)
    4.12
    >>> growth_exponent(1.5, 2.25), growth_exponent(1.0, 2.0)
    (4.0, inf)
    >>> g = sp.Symbol("gamma", positive=True)
    >>> sp.simplify(growth_exponent(g, g**2).subs(g, 3))
    4
    """
    if isinstance(gamma, sp.Basic) or isinstance(delta, sp.Basic):
        g, d = sp.sympify(gamma), sp.sympify(delta)
        return sp.Piecewise(
            (sp.oo, sp.Or(g <= 1, d <= g)),
            (2 * sp.log(d) / (sp.log(d) - sp.log(g)), d < g**2),
            (2 * sp.log(d) / sp.log(g), True),
        )
    g, d = _real(gamma, "gamma"), _real(delta, "delta")
    if g <= 1.0 or d <= g:
        return math.inf
    ratio = math.log(d) / math.log(g)
    # The ridge δ = γ² computed in floating point may land an ulp on either side; both branches
    # agree there, so the choice does not matter.
    return 2.0 * ratio / (ratio - 1.0) if ratio < 2.0 else 2.0 * ratio


def polynomial_growth_exponent(p: Any, q: Any) -> Any:
    """ε-exponent ``2(p+1)/min(q+1, p−q)`` of polynomial growth ``b ∝ (m+1)^p``, ``η ∝ (m+1)^q``.

    ``inf`` when ``p ≤ q`` (the bound does not vanish). Minimal, 4, at ``p = 2q + 1``.

    Examples
    --------
    >>> polynomial_growth_exponent(1, 0), polynomial_growth_exponent(3, 1), polynomial_growth_exponent(2, 0)
    (4.0, 4.0, 6.0)
    >>> polynomial_growth_exponent(1, 1)
    inf
    """
    if isinstance(p, sp.Basic) or isinstance(q, sp.Basic):
        pp, q_ = sp.sympify(p), sp.sympify(q)
        return sp.Piecewise((sp.oo, pp <= q_), (2 * (pp + 1) / sp.Min(q_ + 1, pp - q_), True))
    pp = _real(p, "p")
    q_ = positive_number(q, "q", allow_zero=True)
    if pp <= q_:
        return math.inf
    return 2.0 * (pp + 1.0) / min(q_ + 1.0, pp - q_)


def _stage_induction(term: sp.Basic, closed: sp.Basic, description: str) -> Any:
    step = closed.subs(M, M + 1) - closed - term.subs(m, M)
    return check_zero(f"{description}: base case M = 0 and step M → M + 1", step + closed.subs(M, 0))


@lru_cache(maxsize=None)
def growth_exponential() -> Derivation:
    """Exponential stage growth: sums, ``N(M)``, ``U(M)``, rates per regime, exponent, optimum ``δ = γ²``.

    Examples
    --------
    >>> d = growth_exponential()
    >>> d.verified
    True
    """
    q = gamma**2 / delta
    s1 = K * eta0 * (gamma**M - 1) / (gamma - 1)
    s2 = K * eta0**2 / b0 * (q**M - 1) / (q - 1)
    sfo = K * b0 * (delta**M - 1) / (delta - 1)
    bound = A / s1 + B * s2 / s1
    checks = [
        _stage_induction(K * eta0 * gamma**m, s1, "Σ_m Kη₀γ^m"),
        _stage_induction(K * (eta0 * gamma**m) ** 2 / (b0 * delta**m), s2, "Σ_m Kη_m²/b_m = K(η₀²/b₀)Σ q^m"),
        _stage_induction(K * b0 * delta**m, sfo, "Σ_m Kb₀δ^m"),
    ]

    def bound_with(g: sp.Basic, qv: sp.Basic, gm: sp.Basic, qm: sp.Basic) -> sp.Basic:
        # U(M) with γ^M and q^M given as explicit powers (so that sympy can see their growth).
        sum1 = K * eta0 * (gm - 1) / (g - 1)
        sum2 = K * eta0**2 / b0 * (qm - 1) / (qv - 1)
        return A / sum1 + B * sum2 / sum1

    g_, h_, k_ = sp.symbols("g h k", positive=True)
    # δ > γ²: γ = 1 + g, q = 1/(1 + h).
    gam, qv = 1 + g_, 1 / (1 + h_)
    c_fast = (gam - 1) * (A / (K * eta0) + B * eta0 / (b0 * (1 - qv)))
    checks.append(check_limit("δ > γ²: U(M)γ^M → (γ−1)(A/(Kη₀) + Bη₀/(b₀(1−q))) > 0, U = Θ(γ^{−M})",
                              bound_with(gam, qv, gam**M, qv**M) * gam**M, M, sp.oo, c_fast))
    # δ = γ²: q = 1, Σ η²/b = K(η₀²/b₀)M.
    ridge = A / s1.subs(gamma, gam) + B * K * eta0**2 / b0 * M / s1.subs(gamma, gam)
    checks.append(check_limit("δ = γ²: U(M)γ^M/M → Bη₀(γ−1)/b₀, U = Θ(Mγ^{−M})", ridge * gam**M / M, M,
                              sp.oo, B * eta0 * (gam - 1) / b0))
    # γ < δ < γ²: q = 1 + h > 1 and γ/q = δ/γ = 1 + k > 1.
    gam3, q3 = (1 + h_) * (1 + k_), 1 + h_
    checks.append(check_limit("γ < δ < γ²: U(M)(δ/γ)^M → Bη₀(γ−1)/(b₀(q−1)), U = Θ((γ/δ)^M)",
                              bound_with(gam3, q3, (1 + h_) ** M * (1 + k_) ** M, (1 + h_) ** M) * (1 + k_) ** M,
                              M, sp.oo, B * eta0 * (gam3 - 1) / (b0 * (q3 - 1))))
    # δ = γ: q = γ, the variance term tends to Bη₀/b₀ > 0.
    checks.append(check_limit("δ = γ: U(M) → Bη₀/b₀ > 0, the bound does not vanish",
                              bound_with(gam, gam, gam**M, gam**M), M, sp.oo, B * eta0 / b0))
    # γ = 1, δ > 1: Σ η = Kη₀M, U = O(1/M).
    d1 = 1 + g_
    const_lr = A / (K * eta0 * M) + B * (eta0 / b0) * (1 - d1**-M) / (M * (1 - 1 / d1))
    checks.append(check_limit("γ = 1 < δ: U(M)·M → A/(Kη₀) + Bη₀δ/(b₀(δ−1)), U = Θ(1/M)", const_lr * M, M,
                              sp.oo, A / (K * eta0) + B * eta0 * d1 / (b0 * (d1 - 1))))

    # ε-exponents: solve rate·c = ε² for M and take ln N / ln(1/ε) as ε → 0, with ln γ, ln δ positive.
    lg, lk, c = sp.symbols("l_gamma l_k c", positive=True)
    m_fast = (sp.log(c) + 2 * sp.log(1 / epsilon)) / lg  # c γ^{−M} = ε²
    ld_fast = sp.Symbol("l_delta", positive=True)
    n_fast = K * b0 * (sp.exp(ld_fast * m_fast) - 1) / (sp.exp(ld_fast) - 1)
    checks.append(check_limit("δ ≥ γ²: ln N_ε / ln(1/ε) → 2 ln δ / ln γ", sp.log(n_fast) / sp.log(1 / epsilon),
                              epsilon, 0, 2 * ld_fast / lg))
    m_mid = (sp.log(c) + 2 * sp.log(1 / epsilon)) / lk  # c (γ/δ)^M = ε², ln δ − ln γ = l_k
    n_mid = K * b0 * (sp.exp((lg + lk) * m_mid) - 1) / (sp.exp(lg + lk) - 1)
    checks.append(check_limit("γ < δ < γ²: ln N_ε / ln(1/ε) → 2 ln δ/(ln δ − ln γ)",
                              sp.log(n_mid) / sp.log(1 / epsilon), epsilon, 0, 2 * (lg + lk) / lk))
    checks.append(check_limit("δ = γ²: ln(cM)/M → 0, so cMγ^{−M} = ε² gives M_ε ~ 2 ln(1/ε)/ln γ and "
                              "N_ε ~ δ^{M_ε} = (cM_ε/ε²)² = Θ(ε^{−4} ln²(1/ε))", sp.log(c * M) / M, M, sp.oo, 0))
    checks.append(check_equal("δ = γ²: δ^M = (γ^M)² = (cM/ε²)² when cMγ^{−M} = ε²",
                              (delta**M).subs(delta, gamma**2), (gamma**M) ** 2,
                              simplify=lambda e: sp.powsimp(sp.powdenest(e, force=True), force=True)))

    # The exponent as a function of x = ln δ / ln γ: 2x/(x−1) on (1, 2), 2x on [2, ∞).
    e_mid, e_fast = 2 * x / (x - 1), 2 * x
    y = sp.Symbol("y", positive=True)
    checks += [
        check_equal("2 ln δ/(ln δ − ln γ) = 2x/(x − 1) with δ = γ^x",
                    (2 * sp.log(delta) / (sp.log(delta) - sp.log(gamma))).subs(delta, gamma**x), e_mid,
                    simplify=lambda e: sp.simplify(sp.expand_log(e, force=True))),
        check_equal("2 ln δ/ln γ = 2x with δ = γ^x", (2 * sp.log(delta) / sp.log(gamma)).subs(delta, gamma**x),
                    e_fast, simplify=lambda e: sp.simplify(sp.expand_log(e, force=True))),
        check_negative("d/dx [2x/(x−1)] = −2/(x−1)² < 0: decreasing on γ < δ < γ²",
                       sp.diff(e_mid, x).subs(x, 1 + y)),
        check_positive("d/dx [2x] = 2 > 0: increasing on δ > γ²", sp.diff(e_fast, x)),
        check_zero("both branches equal 4 at x = 2 (δ = γ²): continuous, minimum 4",
                   sp.Abs(e_mid.subs(x, 2) - 4) + sp.Abs(e_fast.subs(x, 2) - 4)),
        check_positive("2x/(x−1) − 4 = 2(2 − x)/(x − 1) > 0 on 1 < x < 2",
                       (e_mid - 4).subs(x, 1 + 1 / (1 + y)), simplify=sp.factor),
        check_positive("2x − 4 > 0 on x > 2", (e_fast - 4).subs(x, 2 + y)),
        check_true("e(1.4, 2) = 2 ln 2 / ln 1.4 ≈ 4.120 (docs/math.md#sfo-complexity)",
                   sp.Abs(2 * sp.log(2) / sp.log(sp.Rational(14, 10)) - sp.Rational(4120, 1000))
                   < sp.Rational(5, 10000)),
    ]
    results = (
        equation("q", q),
        equation(SUM_RATE, s1),
        equation(SUM_RATE2_BATCH, s2),
        equation(SFO, sfo),
        equation("U(M)", bound),
        equation("e_{\\gamma<\\delta<\\gamma^2}", 2 * sp.log(delta) / (sp.log(delta) - sp.log(gamma))),
        equation("e_{\\delta \\ge \\gamma^2}", 2 * sp.log(delta) / sp.log(gamma)),
        equation("e(x)", sp.Piecewise((e_mid, x < 2), (e_fast, True))),
        equation("e_{min}", 4),
    )
    return Derivation(
        "growth_exponential", "Exponential growth of batch and learning rate: SFO exponent and δ = γ²",
        "With b_m = b₀δ^m, η_m = η₀γ^m over stages of K steps, the bound decays like γ^{−M} (δ > γ²), "
        "Mγ^{−M} (δ = γ²), (γ/δ)^M (γ < δ < γ²) and not at all for δ ≤ γ; N_ε = Θ(ε^{−e}) with "
        "e = 2 ln δ/(ln δ − ln γ) or 2 ln δ/ln γ, minimised (e = 4, up to ln²(1/ε)) on the ridge δ = γ² "
        "for every γ > 1.",
        ("γ > 1 unless stated, δ > 1; K steps per stage", "master-bound constants A, B fixed (η capped)",
         "norm convention: U ≤ ε²"),
        results, tuple(checks), "docs/math.md#sfo-complexity (Umeda & Iiduka, arXiv 2508.05297)")


@lru_cache(maxsize=None)
def growth_polynomial() -> Derivation:
    """Polynomial stage growth ``b ∝ (m+1)^p``, ``η ∝ (m+1)^q``: exponent and the optimum ``p = 2q + 1``.

    Examples
    --------
    >>> growth_polynomial().verified
    True
    """
    y, w = sp.symbols("y w", positive=True)
    t_ = M
    # Σ_{m<M} (m+1)^a ~ M^{a+1}/(a+1) for a > −1 (integral test, proofs.schedule_sums):
    # Σ η ~ Kη₀ M^{q+1}/(q+1), Σ η²/b ~ K(η₀²/b₀) M^{2q−p+1}/(2q−p+1), N ~ Kb₀ M^{p+1}/(p+1).
    s1 = K * eta0 * t_ ** (qq + 1) / (qq + 1)
    s2 = K * eta0**2 / b0 * t_ ** (2 * qq - p + 1) / (2 * qq - p + 1)
    bias_rate, var_rate = A / s1, B * s2 / s1
    e_var = 2 * (p + 1) / (p - qq)  # variance-limited: U ~ M^{−(p−q)}
    e_bias = 2 * (p + 1) / (qq + 1)  # bias-limited: U ~ M^{−(q+1)}
    crossing = sp.solve(sp.Eq(p - qq, qq + 1), p)
    checks = [
        check_equal("p < 2q + 1: variance term ∝ M^{2q−p+1}/M^{q+1} = M^{q−p}",
                    sp.powsimp(var_rate * t_ ** (p - qq)), B * eta0 * (qq + 1) / (b0 * (2 * qq - p + 1)),
                    simplify=lambda e: sp.simplify(sp.powsimp(e, force=True))),
        check_equal("bias term ∝ M^{−(q+1)}", sp.powsimp(bias_rate * t_ ** (qq + 1)), A * (qq + 1) / (K * eta0)),
        check_true("the two rates cross where p − q = q + 1, i.e. p = 2q + 1",
                   sp.Eq(sp.Tuple(*crossing), sp.Tuple(2 * qq + 1))),
        check_negative("∂/∂p of 2(p+1)/(p−q) = −2(q+1)/(p−q)² < 0: decreasing for q < p < 2q + 1",
                       sp.diff(e_var, p).subs(p, qq + y)),
        check_positive("∂/∂p of 2(p+1)/(q+1) = 2/(q+1) > 0: increasing for p > 2q + 1", sp.diff(e_bias, p)),
        check_zero("both branches equal 4 at p = 2q + 1", sp.simplify(e_var.subs(p, 2 * qq + 1) - 4)
                   + sp.simplify(e_bias.subs(p, 2 * qq + 1) - 4)),
        check_positive("2(p+1)/(p−q) − 4 > 0 for q < p < 2q + 1",
                       (e_var - 4).subs(p, qq + (qq + 1) / (1 + w)), simplify=sp.factor),
        check_positive("2(p+1)/(q+1) − 4 > 0 for p > 2q + 1", (e_bias - 4).subs(p, 2 * qq + 1 + y)),
        check_equal("p > 2q + 1: Σ (m+1)^{2q−p} ≤ 1 + ∫_1^∞ x^{−1−y} dx = 1 + 1/y (y = p − 2q − 1) is "
                    "bounded, so both terms are Θ(M^{−(q+1)})",
                    sp.integrate(x ** (-1 - y), (x, 1, sp.oo)), 1 / y),
        check_limit("Σ_{m<M} (m+1)^{-1}/ln M → 1: at p = 2q + 1 the variance sum is harmonic (ln M factor)",
                    (1 + sp.log(t_)) / sp.log(t_), t_, sp.oo, 1),
    ]
    results = (
        equation(sp.Limit(SUM_RATE / s1, M, sp.oo), 1),
        equation(sp.Limit(SUM_RATE2_BATCH / s2, M, sp.oo), 1),
        equation(sp.Limit(SFO / (K * b0 * t_ ** (p + 1) / (p + 1)), M, sp.oo), 1),
        equation("e(p, q)", 2 * (p + 1) / sp.Min(qq + 1, p - qq)),
        equation("p^*", 2 * qq + 1),
        equation("e_{min}", 4),
    )
    return Derivation(
        "growth_polynomial", "Polynomial growth: SFO exponent and the optimum p = 2q + 1",
        "With b_m = b₀(m+1)^p and η_m = η₀(m+1)^q, U = Θ(M^{−min(q+1, p−q)}) (ln M factor at p = 2q + 1) "
        "and N = Θ(M^{p+1}), so N_ε = Θ(ε^{−e}) with e = 2(p+1)/min(q+1, p−q), minimised (e = 4) at "
        "p = 2q + 1.",
        ("p > q ≥ 0; leading-order sums (integral test)", "norm convention: U ≤ ε²"),
        results, tuple(checks), "docs/math.md#sfo-complexity (Umeda & Iiduka, arXiv 2508.05297)")
