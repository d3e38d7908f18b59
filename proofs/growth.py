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
growing rate must be capped below ``2/L`` in practice (:func:`ramplab.theory.exponential_growth` takes the caps), which
the asymptotic statements here leave aside, as the source does.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import sympy as sp

from ._arguments import expression, positive_number
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

    Returns
    -------
    float or sympy.Piecewise
        The exponent ``e`` (docs/math.md#growth-schedules).

    Raises
    ------
    ValueError
        For a number that is not positive and finite.
    TypeError
        For an argument that is neither a real number nor a sympy expression.

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
        g, d = expression(gamma, "gamma"), expression(delta, "delta")
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

    ``inf`` when ``p ≤ q`` (the bound does not vanish). Minimal, 4, at ``p = 2q + 1``
    (docs/math.md#attribution).

    Parameters
    ----------
    p, q : float or sympy.Basic
        Degrees of the batch and the learning rate in the stage index (``q ≥ 0``). Numbers give a
        float; sympy objects a :class:`sympy.Piecewise`.

    Returns
    -------
    float or sympy.Piecewise
        The exponent ``e`` of ``N_ε = Θ(ε^{−e})``.

    Raises
    ------
    ValueError
        For a negative ``q`` or a number that is not finite.
    TypeError
        For an argument that is neither a real number nor a sympy expression.

    Examples
    --------
    >>> polynomial_growth_exponent(1, 0), polynomial_growth_exponent(3, 1), polynomial_growth_exponent(2, 0)
    (4.0, 4.0, 6.0)
    >>> polynomial_growth_exponent(1, 1)
    inf
    """
    if isinstance(p, sp.Basic) or isinstance(q, sp.Basic):
        pp, q_ = expression(p, "p"), expression(q, "q")
        return sp.Piecewise((sp.oo, pp <= q_), (2 * (pp + 1) / sp.Min(q_ + 1, pp - q_), True))
    pp = _real(p, "p")
    q_ = positive_number(q, "q", allow_zero=True)
    if pp <= q_:
        return math.inf
    return 2.0 * (pp + 1.0) / min(q_ + 1.0, pp - q_)


def _stage_induction(term: sp.Basic, closed: sp.Basic, description: str) -> Any:
    step = closed.subs(M, M + 1) - closed - term.subs(m, M)
    return check_zero(f"{description}: base case M = 0 and step M → M + 1", step + closed.subs(M, 0))


def _general_branch(expr: sp.Basic) -> sp.Basic:
    """``expr`` with every :class:`sympy.Piecewise` replaced by its last (general) branch.

    ``sympy.summation`` of a geometric series answers ``Piecewise((M, Eq(r, 1)), ((1 − r^M)/(1 − r), True))``;
    the derivations treat ``r = 1`` separately, so they keep the general branch.
    """
    return expr.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[-1][0])


#: (γ, δ) at which the bound's exponent is derived from scratch and the public functions are checked:
#: one point in each regime (γ < δ < γ², δ = γ², δ > γ², δ = γ, δ < γ, γ = 1) and the docs' example.
EXPONENTIAL_SAMPLES = (
    (sp.Rational(6, 5), sp.Rational(13, 10)),
    (sp.Rational(6, 5), sp.Rational(36, 25)),
    (sp.Rational(6, 5), sp.Integer(2)),
    (sp.Rational(7, 5), sp.Integer(2)),
    (sp.Rational(6, 5), sp.Rational(6, 5)),
    (sp.Rational(6, 5), sp.Rational(11, 10)),
    (sp.Integer(1), sp.Integer(2)),
)


def _exponent_from_growth(n_ratio: sp.Basic, u_ratio: sp.Basic) -> sp.Basic:
    """``2 ln(lim N(M+1)/N(M)) / ln(lim U(M)/U(M+1))``: the ε-exponent when ``N`` grows and ``U`` decays
    geometrically (the lemma checked in :func:`growth_exponential`); ``oo`` when ``U`` does not decay."""
    if not (u_ratio < 1) is sp.true:
        return sp.oo
    return sp.simplify(sp.expand_log(2 * sp.log(n_ratio) / sp.log(1 / u_ratio), force=True))


@lru_cache(maxsize=None)
def derived_exponential_exponent(g: sp.Basic, d: sp.Basic) -> sp.Basic:
    """The ε-exponent of exponential growth at rational ``(γ, δ)``, derived without the closed formula.

    The stage sums are computed by :func:`sympy.summation`, the bound ``U(M) = A/Ση + BΣ(η²/b)/Ση``
    is formed from them, and the per-stage factors ``lim U(M+1)/U(M)`` and ``lim N(M+1)/N(M)`` are
    computed as limits; the exponent is then ``2 ln(N factor)/ln(1/U factor)``.

    Examples
    --------
    >>> derived_exponential_exponent(sp.Rational(6, 5), sp.Rational(36, 25))
    4
    """
    g, d = sp.nsimplify(expression(g, "g")), sp.nsimplify(expression(d, "d"))
    s1 = _general_branch(sp.summation(K * eta0 * g**m, (m, 0, M - 1)))
    s2 = _general_branch(sp.summation(K * (eta0 * g**m) ** 2 / (b0 * d**m), (m, 0, M - 1)))
    n = _general_branch(sp.summation(K * b0 * d**m, (m, 0, M - 1)))
    u = A / s1 + B * s2 / s1
    u_ratio = sp.simplify(sp.limit(u.subs(M, M + 1) / u, M, sp.oo))
    n_ratio = sp.simplify(sp.limit(n.subs(M, M + 1) / n, M, sp.oo))
    return _exponent_from_growth(n_ratio, u_ratio)


def _agrees(value: float, exact: sp.Basic) -> bool:
    """A float against an exact value: both infinite, or equal to 1e-12 relative."""
    if not isinstance(value, (int, float)):
        return False
    if exact == sp.oo:
        return value == math.inf
    ref = float(exact)
    return math.isfinite(value) and abs(value - ref) <= 1e-12 * max(1.0, abs(ref))


def _public_exponent_checks(samples: Any, derive: Any, proofs_fn: Any, theory_fn: Any, names: tuple[str, str],
                            what: str) -> list[Any]:
    """At each sample: the derivation's exponent against the public numeric functions (and the symbolic one)."""
    def value_of(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception:  # a public function that raises where the derivation has a value fails the check
            return math.nan

    checks = []
    for args in samples:
        exact = derive(*args)
        floats = tuple(float(a) for a in args)
        label = f"{what}{tuple(str(a) for a in args)}".replace("'", "")
        shown = "oo" if exact == sp.oo else f"{float(exact):.6f}"
        checks.append(check_true(f"{label}: derived {shown}; {names[0]} agrees",
                                 sp.true if _agrees(value_of(proofs_fn, *floats), exact) else sp.false))
        checks.append(check_true(f"{label}: derived {shown}; {names[1]} agrees",
                                 sp.true if _agrees(value_of(theory_fn, *floats), exact) else sp.false))
        symbolic = proofs_fn(*(sp.Dummy("s", positive=True) for _ in args))
        if isinstance(symbolic, sp.Basic):
            dummies = sorted(symbolic.free_symbols, key=lambda s: s.dummy_index)
            value = symbolic.subs(dict(zip(dummies, args)))
            same = value == exact if exact == sp.oo else bool(abs(sp.N(value - exact, 40)) < sp.Float("1e-30"))
            checks.append(check_true(f"{label}: the symbolic {names[0]} gives the derived value",
                                     sp.true if same else sp.false))
    return checks


@lru_cache(maxsize=None)
def growth_exponential() -> Derivation:
    """Exponential stage growth: sums, ``N(M)``, ``U(M)``, rates per regime, exponent, optimum ``δ = γ²``.

    Examples
    --------
    >>> d = growth_exponential()
    >>> d.verified
    True
    """
    from ..theory import sfo_exponent  # the public numeric twin, cross-checked below

    q = gamma**2 / delta
    # The stage sums, computed (not typed in): K steps per stage at η₀γ^m, b₀δ^m.
    s1 = sp.factor(_general_branch(sp.summation(K * eta0 * gamma**m, (m, 0, M - 1))))
    s2 = sp.factor(_general_branch(sp.summation(K * (eta0 * gamma**m) ** 2 / (b0 * delta**m), (m, 0, M - 1))))
    sfo = sp.factor(_general_branch(sp.summation(K * b0 * delta**m, (m, 0, M - 1))))
    bound = A / s1 + B * s2 / s1
    checks = [
        _stage_induction(K * eta0 * gamma**m, s1, "Σ_m Kη₀γ^m (sympy's sum)"),
        _stage_induction(K * (eta0 * gamma**m) ** 2 / (b0 * delta**m), s2, "Σ_m Kη_m²/b_m (sympy's sum)"),
        _stage_induction(K * b0 * delta**m, sfo, "Σ_m Kb₀δ^m (sympy's sum)"),
        check_equal("Σ_m Kη_m²/b_m = K(η₀²/b₀)(q^M − 1)/(q − 1) with q = γ²/δ", s2,
                    K * eta0**2 / b0 * (q**M - 1) / (q - 1),
                    simplify=lambda e: sp.simplify(sp.powsimp(sp.expand_power_base(e, force=True), force=True))),
    ]

    g_, h_, k_ = sp.symbols("g h k", positive=True)
    # δ > γ²: γ = 1 + g, q = 1/(1 + h).
    gam, qv = 1 + g_, 1 / (1 + h_)
    sum1 = lambda gg, gm: K * eta0 * (gm - 1) / (gg - 1)  # noqa: E731 - the computed Σ η, checked equal below
    checks.append(check_equal("the computed Σ η is Kη₀(γ^M − 1)/(γ − 1)", s1, sum1(gamma, gamma**M)))
    sum2 = lambda qq_, qm: K * eta0**2 / b0 * (qm - 1) / (qq_ - 1)  # noqa: E731
    u_of = lambda gg, qq_, gm, qm: A / sum1(gg, gm) + B * sum2(qq_, qm) / sum1(gg, gm)  # noqa: E731
    c_fast = (gam - 1) * (A / (K * eta0) + B * eta0 / (b0 * (1 - qv)))
    checks.append(check_limit("δ > γ²: U(M)γ^M → (γ−1)(A/(Kη₀) + Bη₀/(b₀(1−q))) > 0, U = Θ(γ^{−M})",
                              u_of(gam, qv, gam**M, qv**M) * gam**M, M, sp.oo, c_fast))
    s2_ridge = sp.summation(K * (eta0 * gamma**m) ** 2 / (b0 * (gamma**2) ** m), (m, 0, M - 1))
    ridge = (A / sum1(gamma, gamma**M) + B * s2_ridge / sum1(gamma, gamma**M)).subs(gamma, gam)
    checks.append(check_limit("δ = γ² (q = 1, Σ η²/b computed: K(η₀²/b₀)M): U(M)γ^M/M → Bη₀(γ−1)/b₀, U = Θ(Mγ^{−M})",
                              ridge * gam**M / M, M, sp.oo, B * eta0 * (gam - 1) / b0))
    gam3, q3 = (1 + h_) * (1 + k_), 1 + h_
    checks.append(check_limit("γ < δ < γ²: U(M)(δ/γ)^M → Bη₀(γ−1)/(b₀(q−1)), U = Θ((γ/δ)^M)",
                              u_of(gam3, q3, (1 + h_) ** M * (1 + k_) ** M, (1 + h_) ** M) * (1 + k_) ** M,
                              M, sp.oo, B * eta0 * (gam3 - 1) / (b0 * (q3 - 1))))
    checks.append(check_limit("δ = γ: U(M) → Bη₀/b₀ > 0, the bound does not vanish",
                              u_of(gam, gam, gam**M, gam**M), M, sp.oo, B * eta0 / b0))
    d1 = 1 + g_
    const_lr = A / (K * eta0 * M) + B * (eta0 / b0) * (1 - d1**-M) / (M * (1 - 1 / d1))
    checks.append(check_limit("γ = 1 < δ: U(M)·M → A/(Kη₀) + Bη₀δ/(b₀(δ−1)), U = Θ(1/M)", const_lr * M, M,
                              sp.oo, A / (K * eta0) + B * eta0 * d1 / (b0 * (d1 - 1))))

    # The ε-exponent lemma: U = cρ^{−M} (ρ = e^{l_ρ} > 1) and N = Kb₀(δ^M − 1)/(δ − 1) give
    # ln N_ε/ln(1/ε) → 2 ln δ/ln ρ, with M_ε solved from U = ε² (not typed in).
    l_rho, l_delta, c = sp.symbols("l_rho l_delta c", positive=True)
    (m_eps,) = sp.solve(sp.Eq(c * sp.exp(-l_rho * M), epsilon**2), M)
    n_eps = sfo.subs(delta, sp.exp(l_delta)).subs(M, m_eps)
    checks.append(check_limit("U = cρ^{−M} = ε² solved for M: ln N_ε/ln(1/ε) → 2 ln δ/ln ρ",
                              sp.log(n_eps) / sp.log(1 / epsilon), epsilon, 0, 2 * l_delta / l_rho))
    checks.append(check_limit("δ = γ²: ln(cM)/M → 0, so cMγ^{−M} = ε² gives M_ε ~ 2 ln(1/ε)/ln γ and "
                              "N_ε ~ δ^{M_ε} = (cM_ε/ε²)² = Θ(ε^{−4} ln²(1/ε))", sp.log(c * M) / M, M, sp.oo, 0))
    # The rates per regime (ρ = γ above the ridge, δ/γ below it) in x = ln δ/ln γ.
    e_fast = sp.simplify((2 * l_delta / l_rho).subs({l_delta: x * sp.log(gamma), l_rho: sp.log(gamma)}))
    e_mid = sp.simplify((2 * l_delta / l_rho).subs({l_delta: x * sp.log(gamma),
                                                    l_rho: x * sp.log(gamma) - sp.log(gamma)}))
    y = sp.Symbol("y", positive=True)
    crossing = [r for r in sp.solve(sp.Eq(e_mid, e_fast), x) if r.is_positive and r > 1]
    x_star = crossing[0] if len(crossing) == 1 else sp.nan
    e_min = sp.simplify(e_fast.subs(x, x_star))
    checks += [
        check_equal("below the ridge (ρ = δ/γ): e = 2 ln δ/(ln δ − ln γ) = 2x/(x − 1)",
                    (2 * sp.log(delta) / (sp.log(delta) - sp.log(gamma))).subs(delta, gamma**x), e_mid,
                    simplify=lambda e: sp.simplify(sp.expand_log(e, force=True))),
        check_equal("above the ridge (ρ = γ): e = 2 ln δ/ln γ = 2x", (2 * sp.log(delta) / sp.log(gamma)).subs(
            delta, gamma**x), e_fast, simplify=lambda e: sp.simplify(sp.expand_log(e, force=True))),
        check_negative("d/dx [2x/(x−1)] < 0: decreasing below the ridge", sp.diff(e_mid, x).subs(x, 1 + y)),
        check_positive("d/dx [2x] > 0: increasing above the ridge", sp.diff(e_fast, x)),
        check_true(f"the branches meet at one x > 1, x* = {x_star} (δ = γ^x*): the minimiser",
                   sp.Eq(x_star, 2)),
        check_true(f"the minimum e(x*) = {e_min}, computed", sp.Eq(e_min, 4)),
        check_positive("2x/(x−1) − e_min > 0 on 1 < x < x*", (e_mid - e_min).subs(x, 1 + 1 / (1 + y)),
                       simplify=sp.factor),
        check_positive("2x − e_min > 0 on x > x*", (e_fast - e_min).subs(x, x_star + y)),
    ]
    # From scratch at sample points (sympy sums and limits, no closed formula), against the public functions.
    checks += _public_exponent_checks(EXPONENTIAL_SAMPLES, derived_exponential_exponent, growth_exponent,
                                      sfo_exponent, ("proofs.growth_exponent", "theory.sfo_exponent"), "e")
    checks.append(check_true("e(6/5, 36/25) derived from scratch on the ridge δ = γ² equals e_min",
                             sp.Eq(derived_exponential_exponent(sp.Rational(6, 5), sp.Rational(36, 25)), e_min)))
    checks.append(check_true("e(1.4, 2) = 2 ln 2 / ln 1.4 ≈ 4.120 (docs/math.md#growth-schedules)",
                             sp.Abs(derived_exponential_exponent(sp.Rational(7, 5), 2) - sp.Rational(4120, 1000))
                             < sp.Rational(5, 10000)))
    results = (
        equation("q", q),
        equation(SUM_RATE, s1),
        equation(SUM_RATE2_BATCH, s2),
        equation(SFO, sfo),
        equation("U(M)", bound),
        equation("e_{\\gamma<\\delta<\\gamma^2}", 2 * sp.log(delta) / (sp.log(delta) - sp.log(gamma))),
        equation("e_{\\delta \\ge \\gamma^2}", 2 * sp.log(delta) / sp.log(gamma)),
        equation("e(x)", sp.Piecewise((e_mid, x < x_star), (e_fast, True))),
        equation("x^*", x_star),
        equation("e_{min}", e_min),
    )
    return Derivation(
        "growth_exponential", "Exponential growth of batch and learning rate: SFO exponent and δ = γ²",
        "With b_m = b₀δ^m, η_m = η₀γ^m over stages of K steps, the bound decays like γ^{−M} (δ > γ²), "
        "Mγ^{−M} (δ = γ²), (γ/δ)^M (γ < δ < γ²) and not at all for δ ≤ γ; N_ε = Θ(ε^{−e}) with "
        "e = 2 ln δ/(ln δ − ln γ) or 2 ln δ/ln γ, minimised (e = 4, up to ln²(1/ε)) on the ridge δ = γ² "
        "for every γ > 1. Within this bound; the papers print the guideline δ ≈ γ², the exponents are this "
        "library's reconstruction (docs/math.md#attribution).",
        ("γ > 1 unless stated, δ > 1; K steps per stage", "master-bound constants A, B fixed (η capped)",
         "norm convention: U ≤ ε²"),
        results, tuple(checks), "docs/math.md#growth-schedules (Umeda & Iiduka, arXiv 2508.05297)")


#: (p, q) at which the polynomial exponent is derived from scratch: p = 2q + 1 (the optimum, a ln M factor),
#: p > 2q + 1 (bias-limited), p < 2q + 1 (variance-limited) and p ≤ q (no rate).
POLYNOMIAL_SAMPLES = ((sp.Integer(1), sp.Integer(0)), (sp.Integer(2), sp.Integer(0)), (sp.Integer(2), sp.Integer(1)),
                      (sp.Integer(1), sp.Integer(1)))


@lru_cache(maxsize=None)
def derived_polynomial_exponent(pv: sp.Basic, qv: sp.Basic) -> sp.Basic:
    """The ε-exponent of polynomial growth at integer ``(p, q)``, derived without the closed formula.

    The stage sums ``Σ_{j≤M} j^q`` etc. are computed by :func:`sympy.summation` (harmonic numbers where
    the power is negative), ``U(M)`` is formed from them, and the polynomial orders
    ``r_U = −lim M(U(M+1)/U(M) − 1)`` and ``r_N = lim M(N(M+1)/N(M) − 1)`` are computed as limits
    (a ``ln M`` factor does not change them); the exponent is ``2r_N/r_U`` (``oo`` for ``r_U = 0``).

    Examples
    --------
    >>> derived_polynomial_exponent(sp.Integer(2), sp.Integer(0))
    6
    """
    j = sp.Symbol("j", integer=True, positive=True)
    pv, qv = sp.nsimplify(expression(pv, "pv")), sp.nsimplify(expression(qv, "qv"))
    s1 = sp.summation(K * eta0 * j**qv, (j, 1, M))
    s2 = sp.summation(K * eta0**2 / b0 * j ** (2 * qv - pv), (j, 1, M))
    n = sp.summation(K * b0 * j**pv, (j, 1, M))
    u = A / s1 + B * s2 / s1
    r_u = sp.simplify(sp.limit(-M * (u.subs(M, M + 1) / u - 1), M, sp.oo))
    r_n = sp.simplify(sp.limit(M * (n.subs(M, M + 1) / n - 1), M, sp.oo))
    return sp.oo if not (r_u > 0) is sp.true else sp.simplify(2 * r_n / r_u)


@lru_cache(maxsize=None)
def growth_polynomial() -> Derivation:
    """Polynomial stage growth ``b ∝ (m+1)^p``, ``η ∝ (m+1)^q``: exponent and the optimum ``p = 2q + 1``.

    Examples
    --------
    >>> growth_polynomial().verified
    True
    """
    from ..theory import polynomial_sfo_exponent  # the public numeric twin, cross-checked below

    y, w, a_ = sp.symbols("y w a", positive=True)
    t_ = M
    # Σ_{j≤M} j^a for a ≥ 0 lies between ∫_0^M x^a dx and ∫_1^{M+1} x^a dx; both are M^{a+1}/(a+1) to leading order.
    lower, upper = sp.integrate(x**a_, (x, 0, M)), sp.integrate(x**a_, (x, 1, M + 1))
    lead = lambda power: t_ ** (power + 1) / (power + 1)  # noqa: E731 - the leading order just bounded
    s1 = K * eta0 * lead(qq)
    s2 = K * eta0**2 / b0 * lead(2 * qq - p)
    bias_rate, var_rate = A / s1, B * s2 / s1
    # The orders of the two terms in M, read off the logarithms (not typed in).
    order = lambda term: -sp.expand_log(sp.log(term), force=True).coeff(sp.log(t_))  # noqa: E731
    r_bias, r_var, r_n = sp.simplify(order(bias_rate)), sp.simplify(order(var_rate)), -sp.simplify(order(lead(p)))
    e_var = 2 * r_n / r_var  # variance-limited
    e_bias = 2 * r_n / r_bias  # bias-limited
    crossing = sp.solve(sp.Eq(r_var, r_bias), p)
    p_star = crossing[0] if len(crossing) == 1 else sp.nan
    e_min = sp.simplify(e_var.subs(p, p_star))
    checks = [
        check_limit("Σ_{j≤M} j^a: ∫_1^{M+1} x^a dx / ∫_0^M x^a dx → 1 (a > 0), so Σ ~ M^{a+1}/(a+1)",
                    upper / lower, M, sp.oo, 1),
        check_true(f"bias term A/Σ η ∝ M^(−({r_bias}))", sp.Eq(r_bias, qq + 1)),
        check_true(f"variance term BΣ(η²/b)/Σ η ∝ M^(−({r_var})) (2q − p > −1)", sp.Eq(r_var, p - qq)),
        check_true(f"N ∝ M^({r_n})", sp.Eq(r_n, p + 1)),
        check_true(f"the two orders cross at p* = {p_star}", sp.Eq(p_star, 2 * qq + 1)),
        check_negative("∂/∂p of 2(p+1)/(p−q) < 0: decreasing for q < p < p*", sp.diff(e_var, p).subs(p, qq + y)),
        check_positive("∂/∂p of 2(p+1)/(q+1) > 0: increasing for p > p*", sp.diff(e_bias, p)),
        check_zero("both branches agree at p*", sp.simplify(e_var.subs(p, p_star) - e_bias.subs(p, p_star))),
        check_true(f"the minimum e(p*) = {e_min}, computed", sp.Eq(e_min, 4)),
        check_positive("2(p+1)/(p−q) − e_min > 0 for q < p < p*",
                       (e_var - e_min).subs(p, qq + (qq + 1) / (1 + w)), simplify=sp.factor),
        check_positive("2(p+1)/(q+1) − e_min > 0 for p > p*", (e_bias - e_min).subs(p, p_star + y)),
        check_equal("p > 2q + 1: Σ (m+1)^{2q−p} ≤ 1 + ∫_1^∞ x^{−1−y} dx = 1 + 1/y (y = p − 2q − 1) is "
                    "bounded, so both terms are Θ(M^{−(q+1)})",
                    sp.integrate(x ** (-1 - y), (x, 1, sp.oo)), 1 / y),
        check_limit("Σ_{m<M} (m+1)^{-1}/ln M → 1: at p = 2q + 1 the variance sum is harmonic (ln M factor)",
                    sp.summation(1 / sp.Symbol("j", integer=True, positive=True),
                                 (sp.Symbol("j", integer=True, positive=True), 1, t_)) / sp.log(t_), t_, sp.oo, 1),
    ]
    checks += _public_exponent_checks(POLYNOMIAL_SAMPLES, derived_polynomial_exponent, polynomial_growth_exponent,
                                      polynomial_sfo_exponent,
                                      ("proofs.polynomial_growth_exponent", "theory.polynomial_sfo_exponent"),
                                      "e_poly")
    checks.append(check_true("e_poly(1, 0) derived from scratch at p = 2q + 1 equals e_min",
                             sp.Eq(derived_polynomial_exponent(sp.Integer(1), sp.Integer(0)), e_min)))
    results = (
        equation(sp.Limit(SUM_RATE / s1, M, sp.oo), 1),
        equation(sp.Limit(SUM_RATE2_BATCH / s2, M, sp.oo), 1),
        equation(sp.Limit(SFO / (K * b0 * lead(p)), M, sp.oo), 1),
        equation("e(p, q)", 2 * r_n / sp.Min(r_bias, r_var)),
        equation("p^*", p_star),
        equation("e_{min}", e_min),
    )
    return Derivation(
        "growth_polynomial", "Polynomial growth: SFO exponent and the optimum p = 2q + 1",
        "With b_m = b₀(m+1)^p and η_m = η₀(m+1)^q, U = Θ(M^{−min(q+1, p−q)}) (ln M factor at p = 2q + 1) "
        "and N = Θ(M^{p+1}), so N_ε = Θ(ε^{−e}) with e = 2(p+1)/min(q+1, p−q), minimised (e = 4) at "
        "p = 2q + 1. The papers print the optimum's guideline; p = 2q + 1 and the exponents here are this "
        "library's reconstruction within the bound (docs/math.md#attribution).",
        ("p > q ≥ 0; leading-order sums (integral test)", "norm convention: U ≤ ε²"),
        results, tuple(checks), "docs/math.md#growth-schedules (Umeda & Iiduka, arXiv 2508.05297)")
