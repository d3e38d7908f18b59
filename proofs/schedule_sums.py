"""Closed forms of ``Σ η_t`` and ``Σ η_t²`` for the usual learning-rate schedules (docs/math.md#sfo-complexity).

Steps are ``t = 0 … T−1`` at a constant batch ``b``; the master bound's two terms are

    bias = A / Σ η_t,        variance = B Σ η_t² / (b Σ η_t).

Which sums are finite closed forms and which are only asymptotic:

- constant, cosine, linear and step decay: closed-form finite sums (geometric or polynomial);
- polynomial ``(1 − t/T)^p`` and diminishing ``η_0/sqrt(t+1)``: exact in generalized harmonic
  numbers ``H_T^{(s)} = Σ_{k=1}^{T} k^{−s}`` (a polynomial in ``T`` only for integer ``p``); their
  ``T → ∞`` behaviour is proved by the integral test (monotone summand, integral bounds on both
  sides), not by sympy's limit of ``harmonic`` — which returns 0 for ``H_T^{(1/2)}/√T`` (it is 2).

The learning-rate shapes of :mod:`theory` sample the rate at the samples consumed before each step,
so at constant batch their per-step rates are exactly the ``η_t`` below (``u = t/T``).
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .derivation import (
    Check,
    Derivation,
    check_equal,
    check_limit,
    check_negative,
    check_zero,
    equation,
)
from .symbols import A, B, M, b, eta0

__all__ = ["BIAS", "BIAS_LIMIT", "SCHEDULES", "SUM1", "SUM2", "SUM_KIND", "VARIANCE", "VARIANCE_LIMIT",
           "schedule_sums"]

T = sp.Symbol("T", positive=True, integer=True)
t = sp.Symbol("t", integer=True, nonnegative=True)
k = sp.Symbol("k", integer=True, positive=True)
x = sp.Symbol("x", positive=True)
eta_max = sp.Symbol("eta_max", positive=True)
eta_min = sp.Symbol("eta_min", positive=True)
p = sp.Symbol("p", positive=True)
rho = sp.Symbol("rho", positive=True)  # step-decay factor, in (0, 1)
S = sp.Symbol("S", positive=True, integer=True)  # steps per step-decay stage

SCHEDULES = ("constant", "cosine", "linear", "polynomial", "diminishing", "step_decay")

#: How each schedule's sums are known: a closed-form finite sum, or exact in generalized harmonic
#: numbers with the T → ∞ behaviour asymptotic.
SUM_KIND = {
    "constant": "closed-form finite sum",
    "cosine": "closed-form finite sum (T ≥ 2)",
    "linear": "closed-form finite sum",
    "polynomial": "generalized harmonic (exact); asymptotic in T",
    "diminishing": "generalized harmonic (exact); asymptotic in T",
    "step_decay": "closed-form finite sum (geometric over stages)",
}

#: Left-hand sides of the results (sympy objects, so that their LaTeX is sympy's); look results up
#: with them, e.g. ``schedule_sums("cosine").result(SUM1)``. Step decay has ``T = MS``.
RATE = sp.Indexed(sp.IndexedBase("eta"), t)
SUM1 = sp.Sum(RATE, (t, 0, T - 1))
SUM2 = sp.Sum(RATE**2, (t, 0, T - 1))
BIAS = sp.Function("bias")(T)
VARIANCE = sp.Function("variance")(T)
BIAS_LIMIT = sp.Limit(BIAS, T, sp.oo)
VARIANCE_LIMIT = sp.Limit(VARIANCE, T, sp.oo)


def _terms(s1: sp.Basic, s2: sp.Basic) -> tuple[sp.Basic, sp.Basic]:
    return A / s1, B * s2 / (b * s1)


def _results(rate: sp.Basic, s1: sp.Basic, s2: sp.Basic,
             limits: list[tuple[sp.Basic, sp.Basic]]) -> tuple[sp.Eq, ...]:
    bias, variance = _terms(s1, s2)
    out = [equation(RATE, rate), equation(SUM1, s1), equation(SUM2, s2),
           equation(BIAS, bias), equation(VARIANCE, variance)]
    out += [equation(lhs, value) for lhs, value in limits]
    return tuple(out)


def _geometric_induction(ratio: sp.Basic, n: sp.Symbol) -> Check:
    """Σ_{m<n} r^m = (1 − r^n)/(1 − r): base case n = 0 and the step n → n + 1."""
    closed = (1 - ratio**n) / (1 - ratio)
    step = sp.simplify(closed.subs(n, n + 1) - closed - ratio**n)
    base = sp.simplify(closed.subs(n, 0))
    return check_zero(f"geometric sum Σ_(m<n) r^m = (1 − r^n)/(1 − r) by induction (r = {ratio})",
                      step + base)


def _constant() -> Derivation:
    eta = eta_max
    s1, s2 = T * eta, T * eta**2
    bias, variance = _terms(s1, s2)
    checks = (
        check_equal("Σ η = Tη", sp.Sum(eta, (t, 0, T - 1)).doit(), s1),
        check_equal("Σ η² = Tη²", sp.Sum(eta**2, (t, 0, T - 1)).doit(), s2),
        check_limit("bias → 0 as T → ∞", bias, T, sp.oo, 0),
        check_limit("variance term → Bη/b: constant steps stall at the noise level", variance, T, sp.oo,
                    B * eta / b),
    )
    return Derivation(
        "sums_constant", "Schedule sums: constant rate",
        f"η_t = η: Σ η_t = Tη, Σ η_t² = Tη² ({SUM_KIND['constant']}); the bias term vanishes like 1/T, "
        "the variance term stays Bη/b.",
        ("t = 0 … T−1, constant batch b",),
        _results(eta, s1, s2, [(BIAS_LIMIT, 0), (VARIANCE_LIMIT, B * eta / b)]), checks,
        "docs/math.md#sfo-complexity")


def _cosine() -> Derivation:
    a, c = (eta_max + eta_min) / 2, (eta_max - eta_min) / 2
    rate = eta_min + (eta_max - eta_min) * (1 + sp.cos(sp.pi * t / T)) / 2
    theta = sp.Symbol("theta", positive=True)
    # Σ_{t<T} e^{iπt/T} = (1 − e^{iπ})/(1 − e^{iπ/T}) = 2/(1 − e^{iθ}), θ = π/T; its real part is Σ cos.
    sum_cos = sp.re(2 / (1 - sp.exp(sp.I * theta)))
    # Σ cos²(πt/T) = T/2 + ½ Σ cos(2πt/T), and Σ_{t<T} e^{2iπt/T} = (1 − e^{2iπ})/(1 − e^{2iπ/T}) = 0, T ≥ 2.
    sum_cos2_numerator = 1 - sp.exp(2 * sp.I * sp.pi)
    s1 = T * a + c
    s2 = T * a**2 + 2 * a * c + T * c**2 / 2
    bias, variance = _terms(s1, s2)
    g = sp.Symbol("g", positive=True)  # r = e^{iθ} as an abstract ratio for the induction
    sc, sc2 = sp.symbols("Sigma_cos Sigma_cos2")  # Σ cos(πt/T), Σ cos²(πt/T)
    var_limit = B * (a**2 + c**2 / 2) / (a * b)
    checks = (
        _geometric_induction(g, T),
        check_equal("Σ_t cos(πt/T) = Re 2/(1 − e^{iπ/T}) = 1", sum_cos, 1),
        check_zero("Σ_t e^{2iπt/T} has numerator 1 − e^{2iπ} = 0 (T ≥ 2): Σ cos(2πt/T) = 0",
                   sum_cos2_numerator),
        check_equal("η_t = a + c cos(πt/T), a = (η_max + η_min)/2, c = (η_max − η_min)/2",
                    rate, a + c * sp.cos(sp.pi * t / T)),
        check_equal("Σ η_t = Ta + c Σcos with Σcos = 1", (T * a + c * sc).subs(sc, 1), s1),
        check_equal("Σ η_t² = Ta² + 2ac Σcos + c² Σcos² with Σcos = 1, Σcos² = T/2",
                    (T * a**2 + 2 * a * c * sc + c**2 * sc2).subs({sc: 1, sc2: T / 2}), s2),
        check_limit("bias → 0 as T → ∞", bias, T, sp.oo, 0),
        check_limit("variance term → B(a² + c²/2)/(ab)", variance, T, sp.oo, var_limit),
    )
    return Derivation(
        "sums_cosine", "Schedule sums: cosine decay",
        "η_t = η_min + (η_max − η_min)(1 + cos(πt/T))/2: Σ η_t = T(η_max + η_min)/2 + (η_max − η_min)/2, "
        f"Σ η_t² = Ta² + 2ac + Tc²/2 ({SUM_KIND['cosine']}).",
        ("t = 0 … T−1, T ≥ 2, constant batch b",),
        _results(rate, s1, s2, [(BIAS_LIMIT, 0), (VARIANCE_LIMIT, var_limit)]), checks, "docs/math.md#sfo-complexity")


def _linear() -> Derivation:
    rate = eta_max - (eta_max - eta_min) * t / T
    s1 = T * eta_max - (eta_max - eta_min) * (T - 1) / 2
    s2 = sp.factor(sp.Sum(rate**2, (t, 0, T - 1)).doit())
    bias, variance = _terms(s1, s2)
    var_limit = B * (eta_max**2 + eta_max * eta_min + eta_min**2) / (3 * b * (eta_max + eta_min) / 2)
    checks = (
        check_equal("Σ η_t = Tη_max − (η_max − η_min)(T − 1)/2 (Faulhaber)",
                    sp.Sum(rate, (t, 0, T - 1)).doit(), s1),
        check_zero("Σ η_t² telescopes: F(T+1) − F(T) is the next term (T = 1 base case checked too)",
                   _linear_square_recurrence()),
        check_limit("bias → 0 as T → ∞", bias, T, sp.oo, 0),
        check_limit("variance term → B(η_max² + η_max η_min + η_min²)/(3b (η_max + η_min)/2)",
                    variance, T, sp.oo, var_limit),
    )
    return Derivation(
        "sums_linear", "Schedule sums: linear decay",
        f"η_t = η_max − (η_max − η_min)t/T: closed forms by Faulhaber ({SUM_KIND['linear']}).",
        ("t = 0 … T−1, constant batch b",),
        _results(rate, s1, s2, [(BIAS_LIMIT, 0), (VARIANCE_LIMIT, var_limit)]), checks, "docs/math.md#sfo-complexity")


def _linear_square_recurrence() -> sp.Basic:
    # Σ_{t<T} (η_max − Δ t/T)² with T fixed inside the summand is not a prefix sum in T, so verify the
    # closed form as a polynomial identity in an independent upper limit n: F(n) = Σ_{t<n} (…)².
    n = sp.Symbol("n", positive=True, integer=True)
    rate = eta_max - (eta_max - eta_min) * t / T
    closed = sp.Sum(rate**2, (t, 0, n - 1)).doit()
    step = sp.simplify(closed.subs(n, n + 1) - closed - rate.subs(t, n) ** 2)
    base = sp.simplify(closed.subs(n, 1) - rate.subs(t, 0) ** 2)
    return step + base


def _integral_test(expo: sp.Basic) -> tuple[sp.Basic, sp.Basic, Check]:
    """Bounds on Σ_{k=1}^{T} k^expo from the integral test, and the monotonicity that licenses them."""
    f = x**expo
    if expo.is_negative:  # decreasing: ∫_1^{T+1} f ≤ Σ ≤ f(1) + ∫_1^T f
        lower = sp.integrate(f, (x, 1, T + 1))
        upper = 1 + sp.integrate(f, (x, 1, T))
        mono = check_negative(f"x^({expo}) is decreasing on x > 0 (licenses the integral test)",
                              sp.diff(f, x))
    else:  # increasing: ∫_0^T f ≤ Σ ≤ ∫_1^{T+1} f
        lower = sp.integrate(f, (x, 0, T))
        upper = sp.integrate(f, (x, 1, T + 1))
        mono = check_negative(f"−x^({expo}) is decreasing on x > 0 (licenses the integral test)",
                              -sp.diff(f, x))
    return sp.simplify(lower), sp.simplify(upper), mono


def _polynomial() -> Derivation:
    rate = eta_min + (eta_max - eta_min) * (1 - t / T) ** p
    d = eta_max - eta_min
    # Reindex k = T − t: Σ_{t<T} (1 − t/T)^p = T^{−p} Σ_{k=1}^{T} k^p = T^{−p} H_T^{(−p)}.
    h1, h2 = sp.harmonic(T, -p) / T**p, sp.harmonic(T, -2 * p) / T ** (2 * p)
    s1 = T * eta_min + d * h1
    s2 = T * eta_min**2 + 2 * eta_min * d * h1 + d**2 * h2
    lead1 = eta_min + d / (p + 1)
    lead2 = eta_min**2 + 2 * eta_min * d / (p + 1) + d**2 / (2 * p + 1)
    lower, upper, mono = _integral_test(p)
    checks = [mono]
    checks.append(check_limit("∫_0^T x^p dx / T^{p+1} → 1/(p+1) (lower integral bound)",
                              lower / T ** (p + 1), T, sp.oo, 1 / (p + 1)))
    checks.append(check_limit("∫_1^{T+1} x^p dx / T^{p+1} → 1/(p+1) (upper integral bound)",
                              upper / T ** (p + 1), T, sp.oo, 1 / (p + 1)))
    for power in (1, 2, 3):
        direct = sp.Sum((1 - t / T) ** power, (t, 0, T - 1)).doit()
        checks.append(check_equal(f"reindexing k = T − t: Σ (1 − t/T)^{power} = T^-{power} H_T^(-{power}) "
                                  "(Faulhaber, integer p spot check)",
                                  direct, sp.expand_func(sp.harmonic(T, -power)) / T**power))
    bias_lead = A / (T * lead1)
    checks.append(check_limit("bias ≈ A/(T(η_min + (η_max − η_min)/(p+1))) → 0", bias_lead, T, sp.oo, 0))
    var_limit = B * lead2 / (b * lead1)
    return Derivation(
        "sums_polynomial", "Schedule sums: polynomial decay (1 − t/T)^p",
        "η_t = η_min + (η_max − η_min)(1 − t/T)^p: Σ η_t = Tη_min + (η_max − η_min) T^{−p} H_T^{(−p)} and "
        "Σ η_t² likewise with H_T^{(−2p)} — exact in generalized harmonic numbers, a polynomial in T for "
        "integer p; asymptotically Σ η_t ~ T(η_min + (η_max − η_min)/(p+1)) and "
        "Σ η_t² ~ T(η_min² + 2η_min(η_max − η_min)/(p+1) + (η_max − η_min)²/(2p+1)) by the integral test.",
        ("t = 0 … T−1, p > 0, constant batch b",),
        _results(rate, s1, s2, [(sp.Limit(SUM1 / T, T, sp.oo), lead1), (sp.Limit(SUM2 / T, T, sp.oo), lead2),
                                (BIAS_LIMIT, 0), (VARIANCE_LIMIT, var_limit)]),
        tuple(checks), "docs/math.md#sfo-complexity")


def _diminishing() -> Derivation:
    rate = eta0 / sp.sqrt(t + 1)
    s1 = eta0 * sp.harmonic(T, sp.Rational(1, 2))
    s2 = eta0**2 * sp.harmonic(T)
    lo1, hi1, mono1 = _integral_test(sp.Rational(-1, 2))
    lo2, hi2, mono2 = _integral_test(sp.Integer(-1))
    # Squeeze: bias ≤ A/(η₀ lo1), variance ≤ B η₀ hi2/(b lo1); both bounds → 0.
    checks = [
        mono1, mono2,
        check_limit("(2√(T+1) − 2)/√T → 2 (lower bound on H_T^{(1/2)})", lo1 / sp.sqrt(T), T, sp.oo, 2),
        check_limit("(2√T − 1)/√T → 2 (upper bound on H_T^{(1/2)}): Σ η_t ~ 2η₀√T", hi1 / sp.sqrt(T),
                    T, sp.oo, 2),
        check_limit("ln(T+1)/ln T → 1 (lower bound on H_T)", lo2 / sp.log(T), T, sp.oo, 1),
        check_limit("(1 + ln T)/ln T → 1 (upper bound on H_T): Σ η_t² ~ η₀² ln T", hi2 / sp.log(T), T,
                    sp.oo, 1),
        check_limit("bias ≤ A/(η₀(2√(T+1) − 2)) → 0", A / (eta0 * lo1), T, sp.oo, 0),
        check_limit("variance term ≤ Bη₀(1 + ln T)/(b(2√(T+1) − 2)) → 0 (like ln T/√T)",
                    B * eta0 * hi2 / (b * lo1), T, sp.oo, 0),
    ]
    for n in (1, 2, 7):
        direct = sum(eta0 / sp.sqrt(j + 1) for j in range(n))
        checks.append(check_equal(f"Σ_(t<{n}) η₀/√(t+1) = η₀ H_{n}^(1/2) (exact spot check)",
                                  sp.expand_func(s1.subs(T, n)), direct))
    return Derivation(
        "sums_diminishing", "Schedule sums: diminishing η₀/√(t+1)",
        "η_t = η₀/√(t+1): Σ η_t = η₀ H_T^{(1/2)} ~ 2η₀√T and Σ η_t² = η₀² H_T ~ η₀² ln T (harmonic-type: "
        "exact in generalized harmonic numbers, asymptotic by the integral test); bias and variance terms "
        "both vanish, the slower like ln T/√T.",
        ("t = 0 … T−1, constant batch b",),
        _results(rate, s1, s2, [(sp.Limit(SUM1 / sp.sqrt(T), T, sp.oo), 2 * eta0),
                                (sp.Limit(SUM2 / sp.log(T), T, sp.oo), eta0**2), (BIAS_LIMIT, 0),
                                (VARIANCE_LIMIT, 0)]),
        tuple(checks), "docs/math.md#sfo-complexity")


def _step_decay() -> Derivation:
    rate = eta0 * rho ** sp.floor(t / S)
    s1 = S * eta0 * (1 - rho**M) / (1 - rho)
    s2 = S * eta0**2 * (1 - rho ** (2 * M)) / (1 - rho**2)
    bias, variance = _terms(s1, s2)
    # ρ ∈ (0, 1) as ρ = 1/(1 + r), r > 0, so that ρ^M → 0 is decidable.
    r = sp.Symbol("r", positive=True)
    in_range = {rho: 1 / (1 + r)}
    bias_limit = A * (1 - rho) / (S * eta0)
    var_limit = B * eta0 / ((1 + rho) * b)
    checks = (
        _geometric_induction(rho, M),
        _geometric_induction(rho**2, M),
        check_limit("Σ η_t → Sη₀/(1 − ρ) as M → ∞: bounded", s1.subs(in_range), M, sp.oo,
                    (S * eta0 / (1 - rho)).subs(in_range)),
        check_limit("bias → A(1 − ρ)/(Sη₀) > 0: the bias term does not vanish", bias.subs(in_range), M,
                    sp.oo, bias_limit.subs(in_range)),
        check_limit("variance term → Bη₀/((1 + ρ)b)", variance.subs(in_range), M, sp.oo,
                    var_limit.subs(in_range)),
    )
    return Derivation(
        "sums_step_decay", "Schedule sums: step decay η₀ρ^⌊t/S⌋",
        "M stages of S steps at η₀ρ^m: Σ η_t = Sη₀(1 − ρ^M)/(1 − ρ), Σ η_t² = Sη₀²(1 − ρ^{2M})/(1 − ρ²) "
        f"({SUM_KIND['step_decay']}); as M → ∞ Σ η_t stays bounded by Sη₀/(1 − ρ), so the bias term "
        "tends to A(1 − ρ)/(Sη₀) > 0 and does not vanish.",
        ("T = MS steps, 0 < ρ < 1, constant batch b",),
        _results(rate, s1, s2, [(BIAS_LIMIT, bias_limit), (VARIANCE_LIMIT, var_limit)]), checks, "docs/math.md#sfo-complexity")


_BUILDERS = {
    "constant": _constant,
    "cosine": _cosine,
    "linear": _linear,
    "polynomial": _polynomial,
    "diminishing": _diminishing,
    "step_decay": _step_decay,
}


def schedule_sums(schedule: str) -> Derivation:
    """Closed forms of ``Σ η_t``, ``Σ η_t²``, the bound's bias and variance terms, and ``T → ∞`` limits.

    Parameters
    ----------
    schedule : {"constant", "cosine", "linear", "polynomial", "diminishing", "step_decay"}
        The learning-rate schedule of ``T`` steps (docs/math.md#schedule-sums).

    Returns
    -------
    Derivation
        Results keyed by :data:`SUM1`, :data:`SUM2`, :data:`BIAS`, … with their checks (cached).

    Raises
    ------
    ValueError
        For an unknown schedule.

    Examples
    --------
    >>> d = schedule_sums("cosine")
    >>> d.verified
    True
    >>> d.result(SUM1)
    T*(eta_max/2 + eta_min/2) + eta_max/2 - eta_min/2
    >>> schedule_sums("warmup")
    Traceback (most recent call last):
    ...
    ValueError: schedule must be one of (...); got 'warmup'
    """
    if not isinstance(schedule, str) or schedule not in _BUILDERS:
        raise ValueError(f"schedule must be one of {SCHEDULES}; got {schedule!r}")
    return _built(schedule)


@lru_cache(maxsize=None)
def _built(schedule: str) -> Derivation:
    return _BUILDERS[schedule]()
