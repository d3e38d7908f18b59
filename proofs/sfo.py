"""SFO complexity of constant-(η, b) SGD and the critical batch size (docs/math.md#sfo-complexity).

Setting: ``f`` is ``L``-smooth, ``Δ = f(x_0) − f*``, a one-sample stochastic gradient is unbiased with
variance at most ``σ²``, so a batch of ``b`` has variance at most ``σ²/b``. The master bound

    min_t E‖∇f(x_t)‖² ≤ A / Σ_t η_t + B Σ_t (η_t²/b_t) / Σ_t η_t

holds with ``A = 2Δ/(2 − Lη_max)``, ``B = Lσ²/(2 − Lη_max)`` (``Lη_max < 2``, the *general*
convention) or with ``A = 2Δ``, ``B = Lσ²`` (``η_max ≤ 1/L``, the *small-step* convention).

Two ways to read "ε-stationary" (``stationarity``): ``"norm"`` asks ``min_t E‖∇f‖ ≤ ε`` and is met
through the bound on ``E‖∇f‖²`` with target ``τ = ε²`` (Jensen); ``"squared"`` asks
``min_t E‖∇f‖² ≤ ε``, target ``τ = ε``. Every formula below is written with ``τ`` and then
specialised.
"""

from __future__ import annotations

import math
import re
import warnings
from functools import lru_cache
from typing import Any

import sympy as sp

from ._arguments import expression, positive_number
from .derivation import (
    Derivation,
    check_equal,
    check_limit,
    check_negative,
    check_nonnegative,
    check_positive,
    check_true,
    check_zero,
    equation,
)
from .symbols import C1, C2, K, L, Delta, b, epsilon, eta, sigma2, tau

__all__ = [
    "CONVENTIONS",
    "STATIONARITY",
    "bound_constants",
    "bound_critical_batch",
    "master_bound",
    "sfo_constant",
    "sfo_expressions",
    "target",
]

CONVENTIONS = ("general", "small_step")
STATIONARITY = ("norm", "squared")


def _convention(convention: Any) -> str:
    if not isinstance(convention, str) or convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}; got {convention!r}")
    return convention


def _stationarity(stationarity: Any) -> str:
    if not isinstance(stationarity, str) or stationarity not in STATIONARITY:
        raise ValueError(f"stationarity must be one of {STATIONARITY}; got {stationarity!r}")
    return stationarity


def bound_constants(convention: str = "general", eta_max: sp.Basic = eta) -> tuple[sp.Basic, sp.Basic]:
    """``(A, B)`` of the master bound in terms of ``L, σ², Δ, η_max`` (docs/math.md#sfo-complexity).

    Parameters
    ----------
    convention : {"general", "small_step"}, default "general"
        ``A = 2Δ/(2 − Lη)``, ``B = Lσ²/(2 − Lη)`` or the small-step ``A = 2Δ``, ``B = Lσ²``.
    eta_max : sympy.Basic or float, default the symbol ``eta``
        Largest learning rate (positive).

    Returns
    -------
    tuple of sympy.Basic
        ``(A, B)``.

    Raises
    ------
    ValueError
        For an unknown convention or a non-positive ``eta_max``.

    Examples
    --------
    >>> bound_constants("general")
    (2*Delta/(-L*eta + 2), L*sigma^2/(-L*eta + 2))
    >>> bound_constants("small_step")
    (2*Delta, L*sigma^2)
    """
    eta_max = _rate(eta_max, "eta_max")
    if _convention(convention) == "general":
        return 2 * Delta / (2 - L * eta_max), L * sigma2 / (2 - L * eta_max)
    return 2 * Delta, L * sigma2


def target(stationarity: str = "norm", eps: sp.Basic = epsilon) -> sp.Basic:
    """The level ``τ`` that ``min_t E‖∇f‖²`` must reach: ``ε²`` (``"norm"``) or ``ε`` (``"squared"``).

    Parameters
    ----------
    stationarity : {"norm", "squared"}, default "norm"
        docs/math.md#sfo-complexity.
    eps : sympy.Basic or float, default the symbol ``epsilon``
        Tolerance (positive).

    Returns
    -------
    sympy.Basic
        ``τ``.

    Raises
    ------
    ValueError
        For an unknown ``stationarity`` or a non-positive ``eps``.

    Examples
    --------
    >>> target("norm"), target("squared")
    (epsilon**2, epsilon)
    """
    eps = _rate(eps, "eps")
    return eps**2 if _stationarity(stationarity) == "norm" else eps


def _rate(value: Any, name: str) -> sp.Basic:
    """A positive quantity as a sympy object: a symbolic expression, or a positive finite number."""
    out = expression(value, name)
    if out.is_number and not (out.is_extended_real and out.is_finite and out.is_positive):
        raise ValueError(f"{name} must be positive and finite (or symbolic); got {value!r}")
    if out.has(sp.nan, sp.zoo):
        raise ValueError(f"{name} must not contain nan or zoo; got {value!r}")
    return out


@lru_cache(maxsize=None)
def sfo_expressions() -> dict[str, sp.Basic]:
    """Constant-schedule formulas in ``C₁ = A/η``, ``C₂ = Bη``, target ``τ`` and batch ``b``.

    Keys: ``U`` (bound after ``K`` steps), ``K`` (steps to reach ``τ``), ``N`` (SFO ``= K b``), their
    first and second derivatives in ``b`` (``dK``, ``d2K``, ``dN``, ``d2N``), the feasibility
    threshold ``b_min = C₂/τ``, ``b*``, ``K*``, ``N*``.

    Examples
    --------
    >>> e = sfo_expressions()
    >>> e["b*"], e["N*"]
    (2*C_2/tau, 4*C_1*C_2/tau**2)
    """
    U = C1 / K + C2 / b
    Kb = C1 * b / (tau * b - C2)
    Nb = sp.factor(Kb * b)
    dN = sp.factor(sp.diff(Nb, b))
    # N'(b) = C₁ b (τb − 2C₂)/(τb − C₂)²: the only positive root is b* = 2C₂/τ.
    roots = [r for r in sp.solve(sp.numer(dN), b) if r != 0]
    if len(roots) != 1:
        raise ArithmeticError(f"expected one non-zero root of N'(b); got {roots}")
    b_star = roots[0]
    return {
        "U": U,
        "K": Kb,
        "N": Nb,
        "dK": sp.factor(sp.diff(Kb, b)),
        "d2K": sp.factor(sp.diff(Kb, b, 2)),
        "dN": dN,
        "d2N": sp.factor(sp.diff(Nb, b, 2)),
        "b_min": C2 / tau,
        "b*": b_star,
        "K*": sp.simplify(Kb.subs(b, b_star)),
        "N*": sp.simplify(Nb.subs(b, b_star)),
    }


#: Sample point at which the public numerics of ramplab.theory.complexity are checked against the derivations:
#: L = 2, σ² = 3, Δ = 5, η = 1/10 (Lη = 1/5, inside both conventions), ε = 1/10, K = 7 steps.
SAMPLE = {L: sp.Integer(2), sigma2: sp.Integer(3), Delta: sp.Integer(5), eta: sp.Rational(1, 10),
          epsilon: sp.Rational(1, 10)}
SAMPLE_STEPS = 7


def _close(value: float, exact: sp.Basic) -> Any:
    """``True`` (as sympy) when a float equals an exact value to 1e-12 relative."""
    ref = float(exact)
    return sp.true if math.isfinite(value) and abs(value - ref) <= 1e-12 * max(1.0, abs(ref)) else sp.false


def _numeric_bound_checks() -> list[Any]:
    """The public ``BoundConstants.coefficients`` and ``sfo_bound`` against the derived constants and bound."""
    from ..theory import BoundConstants, Schedule, sfo_bound as numeric_bound  # cross-check only

    consts = BoundConstants(float(SAMPLE[L]), float(SAMPLE[sigma2]), float(SAMPLE[Delta]))
    lr, batch = float(SAMPLE[eta]), 4.0
    out = []
    for convention in CONVENTIONS:
        a_c, b_c = bound_constants(convention)
        got = consts.coefficients(lr, convention)
        out.append(check_true(f"theory BoundConstants.coefficients ({convention}) = derived (A, B) at the sample point",
                              sp.And(_close(got[0], a_c.subs(SAMPLE)), _close(got[1], b_c.subs(SAMPLE)))))
        s1_, s2_ = SAMPLE_STEPS * SAMPLE[eta], SAMPLE_STEPS * SAMPLE[eta] ** 2 / sp.Integer(4)
        u = (a_c / sp.Symbol("S_1", positive=True) + b_c * sp.Symbol("S_2", positive=True)
             / sp.Symbol("S_1", positive=True)).subs(SAMPLE).subs(
            {sp.Symbol("S_1", positive=True): s1_, sp.Symbol("S_2", positive=True): s2_})
        value = float(numeric_bound(Schedule.constant(lr, batch, steps=SAMPLE_STEPS), consts, convention)[-1])
        out.append(check_true(f"theory sfo_bound ({convention}) after {SAMPLE_STEPS} steps at constant (η, b = 4) "
                              f"= A/S₁ + B S₂/S₁ derived", _close(value, u)))
    return out


def _numeric_sfo_checks(convention: str, stationarity: str, k_expr: sp.Basic, n_expr: sp.Basic,
                        b_star: sp.Basic) -> list[Any]:
    """theory's ``bound_steps``, ``bound_sfo``, ``bound_critical_batch``, ``gradient_target`` and this
    module's ``bound_critical_batch`` against the derived ``K(b)``, ``N(b)``, ``b*`` and ``τ`` at the sample point."""
    from ..theory import BoundConstants, bound_sfo, bound_steps, gradient_target
    from ..theory import bound_critical_batch as theory_bound_critical_batch

    consts = BoundConstants(float(SAMPLE[L]), float(SAMPLE[sigma2]), float(SAMPLE[Delta]))
    lr, eps = float(SAMPLE[eta]), float(SAMPLE[epsilon])
    kw = {"convention": convention, "stationarity": stationarity}
    star = b_star.subs(SAMPLE)
    batch = 3 * star  # feasible: above b_min = b*/2
    out = [
        check_true(f"theory gradient_target({stationarity}) = derived τ",
                   _close(gradient_target(eps, stationarity), target(stationarity).subs(SAMPLE))),
        check_true("theory bound_critical_batch = derived b* at the sample point",
                   _close(theory_bound_critical_batch(consts, lr, eps, **kw), star)),
        check_true("proofs.bound_critical_batch (numeric) = derived b* at the sample point",
                   _close(bound_critical_batch(float(SAMPLE[L]), float(SAMPLE[sigma2]), lr, eps, **kw), star)),
        check_true("theory bound_steps at b = 3b* = derived K(b)",
                   _close(float(bound_steps(consts, lr, float(batch), eps, **kw)), k_expr.subs(SAMPLE).subs(b, batch))),
        check_true("theory bound_sfo at b = 3b* = derived N(b)",
                   _close(float(bound_sfo(consts, lr, float(batch), eps, **kw)), n_expr.subs(SAMPLE).subs(b, batch))),
        check_true("theory bound_sfo at b* = derived N(b*)",
                   _close(float(bound_sfo(consts, lr, float(star), eps, **kw)), n_expr.subs(SAMPLE).subs(b, star))),
    ]
    return out



@lru_cache(maxsize=None)
def master_bound() -> Derivation:
    """The master bound from the descent lemma, in both conventions (docs/math.md#sfo-complexity).

    Examples
    --------
    >>> d = master_bound()
    >>> d.verified
    True
    """
    grad2, var_b, f_t = sp.symbols("G_t V_b f_t", positive=True)
    eta_t = sp.Symbol("eta_t", positive=True)
    # One step: E f(x+) ≤ E f − η E‖∇f‖² + (Lη²/2) E‖g‖², with E‖g‖² ≤ E‖∇f‖² + σ²/b.
    descent = f_t - eta_t * grad2 + L * eta_t**2 / 2 * (grad2 + var_b)
    collected = f_t - eta_t * (1 - L * eta_t / 2) * grad2 + L * eta_t**2 * var_b / 2
    # Summing the one-step inequality over t < K: the f terms telescope (computed by sympy), and
    # f_0 − f_K ≤ f_0 − f* = Δ.
    t = sp.Symbol("t", integer=True, nonnegative=True)
    f_seq = sp.IndexedBase("f")
    telescoped = sp.Sum(f_seq[t] - f_seq[t + 1], (t, 0, K - 1)).doit()
    s1, s2 = sp.symbols("S_1 S_2", positive=True)  # Σ η_t, Σ η_t²/b_t
    # With 1 − Lη_t/2 ≥ 1 − Lη_max/2 the sum gives (1 − Lη_max/2)W ≤ Δ + (Lσ²/2)S₂, and min_t G_t ≤ W/S₁;
    # the bound X on min_t G_t solves (1 − Lη_max/2) S₁ X = Δ + (Lσ²/2) S₂.
    x_bound = sp.Symbol("X", positive=True)
    (solved,) = sp.solve(sp.Eq((1 - L * eta / 2) * s1 * x_bound, Delta + L * sigma2 * s2 / 2), x_bound)
    a_gen, b_gen = bound_constants("general")
    a_small, b_small = bound_constants("small_step")
    u_gen = a_gen / s1 + b_gen * s2 / s1
    u_small = a_small / s1 + b_small * s2 / s1
    h = sp.Symbol("v", nonnegative=True)  # Lη_max = 1 − v ∈ (0, 1]
    on_small = {eta: (1 - h) / L}
    u_ = sp.Symbol("u", positive=True)  # η_t = η_max − u·(…) ≤ η_max
    checks = [
        check_equal("one descent step collects to −η(1 − Lη/2)E‖∇f‖² + Lη²σ²/(2b)", descent, collected),
        check_equal("Σ_{t<K} (f_t − f_{t+1}) telescopes to f_0 − f_K (sympy's sum)", telescoped,
                    f_seq[0] - f_seq[K]),
        check_nonnegative("1 − Lη_t/2 ≥ 1 − Lη_max/2 for η_t = η_max − u ≤ η_max",
                          ((1 - L * (eta - u_) / 2) - (1 - L * eta / 2))),
        check_equal("W ≥ S₁ min_t G_t: Σ η_t (G_t − min G) ≥ 0, so min G ≤ W/S₁; solving "
                    "(1 − Lη_max/2)S₁X = Δ + (Lσ²/2)S₂ gives A/S₁ + B S₂/S₁ with the general constants",
                    solved, u_gen),
        check_nonnegative("for Lη_max ≤ 1 the small-step constants dominate the general ones (A)",
                          (a_small - a_gen).subs(on_small)),
        check_nonnegative("for Lη_max ≤ 1 the small-step constants dominate the general ones (B)",
                          (b_small - b_gen).subs(on_small)),
    ]
    checks += _numeric_bound_checks()
    checks = tuple(checks)
    return Derivation(
        name="master_bound",
        title="Master bound for SGD with any (η_t, b_t)",
        statement=("min_t E‖∇f(x_t)‖² ≤ A/Σ η_t + B Σ(η_t²/b_t)/Σ η_t, with A = 2Δ/(2 − Lη_max), "
                   "B = Lσ²/(2 − Lη_max) when Lη_max < 2, and A = 2Δ, B = Lσ² when η_max ≤ 1/L."),
        assumptions=("f is L-smooth and bounded below; Δ = f(x_0) − f*",
                     "unbiased stochastic gradient with one-sample variance ≤ σ²; fresh samples",
                     "η_t ≤ η_max with Lη_max < 2"),
        results=(equation(sp.Sum(f_seq[t] - f_seq[t + 1], (t, 0, K - 1)), telescoped),
                 equation("X", solved),
                 equation("U_{general}", u_gen), equation("U_{small}", u_small)),
        checks=checks,
        source="docs/math.md#master-bound (form: Umeda & Iiduka, arXiv 2508.05297; constants reconstructed, "
               "docs/math.md#attribution)",
    )


def sfo_constant(convention: str = "general", stationarity: str = "norm") -> Derivation:
    """Steps, SFO complexity and critical batch size of constant-(η, b) SGD from the master bound
    (docs/math.md#sfo-complexity), in the chosen convention and stationarity measure (cached).

    Parameters
    ----------
    convention : {"general", "small_step"}, default "general"
        Constants of the master bound (module docstring).
    stationarity : {"norm", "squared"}, default "norm"
        Meaning of ε: target ``τ = ε²`` or ``τ = ε`` on ``min_t E‖∇f‖²``.

    Returns
    -------
    Derivation
        The checked steps; ``verified`` is true when every one holds.

    Raises
    ------
    ValueError
        For an unknown ``convention`` or ``stationarity``.

    Examples
    --------
    >>> sfo_constant("general", "norm").verified
    True
    """
    return _sfo_constant(_convention(convention), _stationarity(stationarity))


@lru_cache(maxsize=None)
def _sfo_constant(convention: str = "general", stationarity: str = "norm") -> Derivation:
    """``K(b)``, ``N(b)``, their monotonicity and convexity, and the critical batch size ``b*``.

    Parameters
    ----------
    convention : {"general", "small_step"}
        Constants of the master bound (module docstring).
    stationarity : {"norm", "squared"}
        Meaning of ε: target ``τ = ε²`` or ``τ = ε`` on ``min_t E‖∇f‖²``.

    Examples
    --------
    >>> d = sfo_constant("general")
    >>> d.verified, d.result("b^*")
    (True, 2*L*eta*sigma^2/(epsilon**2*(-L*eta + 2)))
    """
    _convention(convention)
    _stationarity(stationarity)
    e = sfo_expressions()
    u = sp.Symbol("u", positive=True)  # b = (C₂ + u)/τ: the feasible region b > C₂/τ
    feasible = {b: (C2 + u) / tau}
    b_star = e["b*"]

    a_c, b_c = bound_constants(convention)
    on_problem = {C1: a_c / eta, C2: b_c * eta, tau: target(stationarity)}
    b_star_p = _critical_batch_expression(convention, stationarity)
    # Substituted, not simplified: simplify writes 2 − Lη as −(Lη − 2), a sign-flipped denominator.
    k_star_p = e["K*"].subs(on_problem)
    n_star_p = e["N*"].subs(on_problem)
    t = target(stationarity)
    if convention == "general":
        n_star_paper = 8 * L * Delta * sigma2 / ((2 - L * eta) ** 2 * t**2)
        # The convention's hypothesis 0 < Lη < 2, as Lη = 2/(1 + w) with w > 0.
        w = sp.Symbol("w", positive=True)
        in_range = {eta: 2 / (L * (1 + w))}
        slope = L * sigma2 / t
    else:
        n_star_paper = 8 * L * Delta * sigma2 / t**2
        in_range = {}
        slope = 2 * L * sigma2 / t

    checks = (
        check_zero("K(b) solves U(K, b) = τ", e["U"].subs(K, e["K"]) - tau),
        check_negative("K'(b) < 0 for b > C₂/τ: fewer steps with a larger batch", e["dK"].subs(feasible)),
        check_positive("K''(b) > 0 for b > C₂/τ: K is convex", e["d2K"].subs(feasible)),
        check_positive("N''(b) > 0 for b > C₂/τ: N is convex", e["d2N"].subs(feasible)),
        check_zero("N'(b*) = 0", e["dN"].subs(b, b_star)),
        check_positive("N''(b*) > 0: b* is a minimum", e["d2N"].subs(b, b_star)),
        check_positive("b* = 2C₂/τ lies in the feasible region b > C₂/τ", b_star - e["b_min"]),
        check_nonnegative("N(b) − N(b*) = C₁(τb − 2C₂)²/(τ²(τb − C₂)) ≥ 0: b* is the global minimum",
                          (e["N"] - e["N*"]).subs(feasible)),
        check_equal("K(b*) = 2C₁/τ", e["K*"], 2 * C1 / tau),
        check_equal("N(b*) = 4C₁C₂/τ²", e["N*"], 4 * C1 * C2 / tau**2),
        check_equal(f"N(b*) matches docs/math.md#sfo-complexity ({convention} constants)", n_star_p, n_star_paper),
        check_positive("b* > 0 under the convention's step-size hypothesis", b_star_p.subs(in_range)),
        check_zero("b* ε^{2} (resp. ε) does not depend on ε: b* = O(ε^{-2}) in the norm convention",
                   sp.diff(b_star_p * t, epsilon)),
        check_limit("b*/η tends to a constant as η → 0 (Lσ²/τ general, 2Lσ²/τ small-step): "
                    "b* ∝ η for small steps", b_star_p / eta, eta, 0, slope),
        *_numeric_sfo_checks(convention, stationarity, e["K"].subs(on_problem), e["N"].subs(on_problem), b_star_p),
    )
    k_of, n_of, star = sp.Function("K"), sp.Function("N"), sp.Symbol("b^*")
    results = (
        equation("U", e["U"]),
        equation("C_1", a_c / eta),
        equation("C_2", b_c * eta),
        equation(k_of(b), e["K"]),
        equation(n_of(b), e["N"]),
        equation(sp.Derivative(k_of(b), b), e["dK"]),
        equation(sp.Derivative(k_of(b), (b, 2)), e["d2K"]),
        equation(sp.Derivative(n_of(b), b), e["dN"]),
        equation(sp.Derivative(n_of(b), (b, 2)), e["d2N"]),
        equation("b_{min}", e["b_min"]),
        equation(star, b_star_p),
        equation(k_of(star), k_star_p),
        equation(n_of(star), n_star_p),
    )
    eps_text = "min E‖∇f‖ ≤ ε (τ = ε²)" if stationarity == "norm" else "min E‖∇f‖² ≤ ε (τ = ε)"
    return Derivation(
        name=f"sfo_constant_{convention}_{stationarity}",
        title=f"SFO complexity at constant (η, b): critical batch size ({convention} constants, {eps_text})",
        statement=("With U = C₁/K + C₂/b, the steps to reach τ are K(b) = C₁b/(τb − C₂) (b > C₂/τ), "
                   "decreasing and convex; the SFO complexity N(b) = bK(b) is convex with its unique "
                   "minimum at the critical batch size b* = 2C₂/τ, where K = 2C₁/τ and N = 4C₁C₂/τ²."),
        assumptions=("constant η and b over K steps", "C₁ = A/η, C₂ = Bη with the master bound's A, B",
                     "Lη < 2" if convention == "general" else "η ≤ 1/L"),
        results=results,
        checks=checks,
        source="docs/math.md#sfo-complexity (Umeda & Iiduka, arXiv 2508.05297; 2409.08770)",
    )


def bound_critical_batch(smoothness: Any, gradient_variance: Any, lr: Any, epsilon: Any, *,
                         convention: str = "general", stationarity: str = "norm") -> Any:
    """Critical batch size of the bound, ``b* = 2C₂/τ``, of constant-(η, b) SGD (docs/math.md#sfo-complexity).

    ``2Lσ²η / ((2 − Lη) ε²)`` in the general convention with the norm target; ``2Lσ²η/ε²`` in the
    small-step convention. The same quantity, under the same name and argument names, as
    :func:`ramplab.theory.bound_critical_batch` (which takes the constants as a ``BoundConstants``);
    this one also accepts sympy objects. Umeda & Iiduka, arXiv 2508.05297; 2409.08770.

    Parameters
    ----------
    smoothness, gradient_variance, lr, epsilon
        ``L``, the one-sample gradient variance ``σ²``, the learning rate ``η`` and the tolerance
        ``ε`` (the symbols :data:`symbols.L`, :data:`symbols.sigma2`, :data:`symbols.eta`,
        :data:`symbols.epsilon`). Sympy objects give a sympy expression; numbers give a float.
        Strings are refused (never parsed).
    convention : {"general", "small_step"}
    stationarity : {"norm", "squared"}

    Returns
    -------
    float or sympy.Basic
        ``b*`` in samples per step: a float for numbers, an expression for sympy objects.

    Raises
    ------
    ValueError
        For a rate outside the convention (``Lη < 2``, ``Lη ≤ 1``) or a non-positive quantity.
    TypeError
        For an argument that is neither a real number nor a sympy object.

    Examples
    --------
    >>> bound_critical_batch(1.0, 2.0, 0.5, 0.1)     # 2·1·2·0.5 / (1.5 · 0.01)
    133.333
    >>> bound_critical_batch(1.0, 2.0, 0.5, 0.1, convention="small_step")
    200.0
    >>> x = sp.Symbol("x", positive=True)
    >>> bound_critical_batch(1, 1, x, 1)
    2*x/(2 - x)
    >>> bound_critical_batch(1.0, 1.0, 2.5, 0.1)
    Traceback (most recent call last):
    ...
    ValueError: lr must satisfy smoothness*lr < 2 in the general convention; got smoothness*lr = 2.5
    """
    convention = _convention(convention)
    stationarity = _stationarity(stationarity)
    values = {"smoothness": smoothness, "gradient_variance": gradient_variance, "lr": lr, "epsilon": epsilon}
    symbolic = any(isinstance(v, sp.Basic) for v in values.values())
    if symbolic:
        for name, v in values.items():
            values[name] = _rate(v, name)
    else:
        for name, v in values.items():
            values[name] = positive_number(v, name)
        product = values["smoothness"] * values["lr"]
        if convention == "general" and not product < 2:
            raise ValueError(f"lr must satisfy smoothness*lr < 2 in the general convention; "
                             f"got smoothness*lr = {product!r}")
        if convention == "small_step" and not product <= 1:
            raise ValueError(f"lr must satisfy smoothness*lr ≤ 1 in the small-step convention; "
                             f"got smoothness*lr = {product!r}")
    expr = _critical_batch_expression(convention, stationarity)
    args = tuple(values.values())
    if symbolic:
        return expr.subs(dict(zip(_ARGS, args)), simultaneous=True)
    try:
        out = float(_critical_batch_numeric(convention, stationarity)(*args))
    except (ZeroDivisionError, OverflowError):
        out = math.inf
    if not (math.isfinite(out) and out > 0):
        raise ValueError(f"the critical batch size is not a positive finite float64 for smoothness={smoothness!r}, "
                         f"gradient_variance={gradient_variance!r}, lr={lr!r}, epsilon={epsilon!r} (got {out!r})")
    return out


def critical_batch_size(L: Any, sigma2: Any, eta: Any, epsilon: Any, **options: Any) -> Any:
    """Deprecated name of :func:`bound_critical_batch` (one name per quantity across proofs and theory).

    Warns ``DeprecationWarning`` and returns ``bound_critical_batch(L, sigma2, eta, epsilon, **options)``.
    """
    warnings.warn("ramplab.proofs.critical_batch_size is deprecated: use ramplab.proofs.bound_critical_batch "
                  "(the same name as ramplab.theory.bound_critical_batch)", DeprecationWarning, stacklevel=2)
    try:
        return bound_critical_batch(L, sigma2, eta, epsilon, **options)
    except (TypeError, ValueError) as exc:  # name the arguments as this (old) signature calls them
        message = str(exc)
        for new_name, old_name in (("gradient_variance", "sigma2"), ("smoothness", "L"), ("lr", "eta")):
            message = re.sub(rf"\b{new_name}\b", old_name, message)
        raise type(exc)(message) from None


_ARGS = (L, sigma2, eta, epsilon)


@lru_cache(maxsize=None)
def _critical_batch_expression(convention: str, stationarity: str) -> sp.Basic:
    # The formula the derivation verifies, built without re-running its checks.
    a_c, b_c = bound_constants(convention)
    on_problem = {C1: a_c / eta, C2: b_c * eta, tau: target(stationarity)}
    return sfo_expressions()["b*"].subs(on_problem)


@lru_cache(maxsize=None)
def _critical_batch_numeric(convention: str, stationarity: str) -> Any:
    return sp.lambdify(_ARGS, _critical_batch_expression(convention, stationarity), "math")
