"""The algebra behind the learning-rate-decay / batch-ramp equivalence (docs/math.md#stability, §2, §3).

- the stationary point of the exact second-moment recursion at constant ``(η, B)``;
- the per-sample expansion showing that SGD depends on ``η/B`` to first order;
- NSGD in the variance-dominated regime: effective rate ``η√B/√C``, invariant ``α√β``;
- ``α ≥ √β`` as "the effective NSGD rate does not increase", with ``(√2, 2)`` the extreme point of
  ``α√β = 2``;
- the continuous Seesaw ramp and its serial-step integrals (``1 − 2/π``, ``1/2``, warmup + floor).

The batch size is the symbol ``b`` here (docs/math.md writes ``B``; ``B`` is the master bound's constant in
:mod:`proofs.sfo`).
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .derivation import (
    Derivation,
    check_equal,
    check_limit,
    check_negative,
    check_true,
    check_zero,
    equation,
)
from .symbols import b, eta, sigma2

__all__ = ["nsgd_invariant", "ramp_bound", "serial_step_integrals", "stationary_point", "temperature"]

kappa = sp.Symbol("kappa", positive=True)
lam = sp.Symbol("lambda", positive=True)
q = sp.Symbol("q", nonnegative=True)  # Σ_j λ_j s_j
s = sp.Symbol("s", nonnegative=True)
alpha, beta = sp.symbols("alpha beta", positive=True)
k = sp.Symbol("k", integer=True, nonnegative=True)
eta0 = sp.Symbol("eta_0", positive=True)
b0 = sp.Symbol("b_0", positive=True)
C = sp.Symbol("C", positive=True)  # b·E‖g‖² in the variance-dominated regime
u = sp.Symbol("u", positive=True)


def _c(batch: sp.Basic = b) -> sp.Basic:
    return 1 + (kappa - 2) / batch


def recursion_step(s_i: sp.Basic, lam_i: sp.Basic, q_: sp.Basic) -> sp.Basic:
    """One step of docs/math.md#sgd-second-moment-recursion for coordinate ``i``: ``(1 − ηλ)² s + (η²/b)[(κ−2)λ²s + λ(q + σ²)]``.

    Examples
    --------
    >>> sp.expand(recursion_step(s, lam, q).subs({kappa: 3, b: 1}) - (1 - 2*eta*lam + 2*eta**2*lam**2)*s
    ...           - eta**2*lam*(q + sigma2))
    0
    """
    return (1 - eta * lam_i) ** 2 * s_i + eta**2 / b * ((kappa - 2) * lam_i**2 * s_i + lam_i * (q_ + sigma2))


@lru_cache(maxsize=None)
def stationary_point() -> Derivation:
    """Fixed point ``s_i^∞ = η(q^∞ + σ²)/(b(2 − cηλ_i))``, ``q^∞ = σ²S/(1 − S)`` (docs/math.md#stability).

    Examples
    --------
    >>> stationary_point().verified
    True
    """
    c = _c()
    s_star = eta * (q + sigma2) / (b * (2 - c * eta * lam))
    S_sym = sp.Symbol("S", positive=True)
    q_star = sigma2 * S_sym / (1 - S_sym)
    lams = sp.symbols("lambda_1:4", positive=True)
    S = (eta / b) * sum(li / (2 - c * eta * li) for li in lams)
    weighted = sum(li * s_star.subs(lam, li) for li in lams)
    trace = sum(lams)
    q_of_eta = (sigma2 * S / (1 - S))
    checks = (
        check_zero("s_i^∞ is a fixed point of the recursion (any q, any κ)",
                   recursion_step(s_star, lam, q) - s_star),
        check_equal("c = 1 + (κ−2)/b is 1 + 1/b for Gaussian data (κ = 3)", c.subs(kappa, 3), 1 + 1 / b),
        check_zero("Σ_i λ_i s_i^∞(q) = (q + σ²) S (d = 3, symbolic spectrum)",
                   weighted - (q + sigma2) * S, simplify=lambda e: sp.cancel(sp.together(e))),
        check_zero("q^∞ = σ²S/(1 − S) solves the scalar equation q = (q + σ²) S",
                   (q_star + sigma2) * S_sym - q_star),
        check_limit("S/η → tr H/(2b) as η → 0 (d = 3)", S / eta, eta, 0, trace / (2 * b)),
        check_limit("stationary excess risk q^∞/2 over η → σ² tr H/(4b) as η → 0: the temperature η/b "
                    "sets it (d = 3)", q_of_eta / (2 * eta), eta, 0, sigma2 * trace / (4 * b)),
    )
    return Derivation(
        "stationary_point", "Stationary second moments of constant-(η, b) SGD",
        "At constant (η, b) the recursion has the fixed point s_i = η(q + σ²)/(b(2 − cηλ_i)) with "
        "c = 1 + (κ−2)/b, and q = Σλ_i s_i = σ²S/(1−S), S = (η/b)Σ λ_i/(2 − cηλ_i); the stationary excess "
        "risk is ≈ (σ²/4) η tr H / b for small ηλ.",
        ("stable: cηλ_i < 2 for all i and S < 1", "inputs x = H^{1/2} z, z i.i.d. with fourth moment κ"),
        (equation("s_i^\\infty", s_star), equation("S", (eta / b) * sp.Sum(
            sp.Indexed("lambda", k) / (2 - c * eta * sp.Indexed("lambda", k)), (k, 1, sp.Symbol("d")))),
         equation("q^\\infty", q_star),
         equation("R^\\infty", sp.Symbol("q^\\infty") / 2),
         equation("R^\\infty_{\\eta \\to 0}", sigma2 * eta * sp.Symbol("tr H") / (4 * b))),
        checks, "docs/math.md#stability")


@lru_cache(maxsize=None)
def temperature() -> Derivation:
    """Per-sample expansion: SGD's dynamics depend on ``r = η/b`` to first order in ``ηλ`` (docs/math.md#equivalence).

    Examples
    --------
    >>> temperature().verified
    True
    """
    r = sp.Symbol("r", positive=True)  # temperature η/b
    increment = recursion_step(s, lam, q) - s  # change over one step of b samples
    per_sample = sp.expand(increment / b)
    in_r = sp.expand(per_sample.subs(eta, r * b))
    first_order = -2 * r * lam * s
    second_order = r**2 * ((kappa - 2) * lam**2 * s + lam * (q + sigma2))
    b_dependent = r**2 * b * lam**2 * s  # = (ηλ) · rλs
    checks = (
        check_equal("per-sample increment = −2rλs + r²[(κ−2)λ²s + λ(q+σ²)] + r²bλ²s, r = η/b",
                    in_r, first_order + second_order + b_dependent),
        check_equal("per sample, the contraction is 2ηλ/b to first order in η",
                    eta * sp.diff(per_sample, s, eta).subs(eta, 0), -2 * eta * lam / b),
        check_equal("per sample, the injected variance is η²λ(q+σ²)/b²", per_sample.subs(s, 0),
                    eta**2 * lam * (q + sigma2) / b**2),
        check_equal("∂/∂r at r = 0 is −2λs: the first-order dynamics depend on r alone",
                    sp.diff(in_r, r).subs(r, 0), -2 * lam * s),
        check_equal("at fixed r, ∂/∂b of the increment is r²λ²s (the only b-dependence)",
                    sp.diff(in_r, b), r**2 * lam**2 * s),
        check_equal("that b-dependent term over the first-order drift is ηλ/2",
                    sp.simplify(-b_dependent / first_order).subs(r, eta / b), eta * lam / 2),
    )
    return Derivation(
        "temperature", "SGD depends on η/b to first order (per-sample expansion)",
        "Per sample, the second-moment increment is −2(η/b)λs + (η/b)²[(κ−2)λ²s + λ(q+σ²)] + (ηλ)(η/b)λs: "
        "at fixed temperature r = η/b the batch enters only through a term ηλ/2 times the drift, so "
        "schedules with equal η/b agree to first order in ηλ (Seesaw Theorem 1's mechanism).",
        ("exact recursion of docs/math.md#sgd-second-moment-recursion", "small ηλ"),
        (equation("\\Delta s / b", in_r), equation("r", eta / b)), checks, "docs/math.md#equivalence (Seesaw)")


@lru_cache(maxsize=None)
def nsgd_invariant() -> Derivation:
    """NSGD in the variance-dominated regime: rate ``η√b/√C`` and the invariant ``α√β`` (docs/math.md#normalized-sgd, §2).

    Examples
    --------
    >>> nsgd_invariant().verified
    True
    """
    mean = sp.Symbol("m", nonnegative=True)  # Σ λ_i² s_i = ‖E g‖²
    trace = sp.Symbol("tr H", positive=True)
    g2 = (1 + (kappa - 2) / b) * mean + trace / b * (q + sigma2)
    c_value = (kappa - 2) * mean + trace * (q + sigma2)
    eff = eta / sp.sqrt(C / b)
    eta_k, b_k = eta0 * alpha**-k, b0 * beta**k
    temp_nsgd = (eta_k / sp.sqrt(C / b_k)) / b_k
    temp_sgd = eta_k / b_k
    checks = (
        check_equal("E‖g‖² = ‖E g‖² + C/b with C = (κ−2)Σλ²s + tr H (q + σ²)", g2, mean + c_value / b),
        check_limit("variance-dominated (‖E g‖² → 0): η/√(E‖g‖²) → η√b/√C",
                    (eta / sp.sqrt(mean + C / b)) / (eta * sp.sqrt(b) / sp.sqrt(C)), mean, 0, 1),
        check_equal("the effective rate is η√b/√C", eff, eta * sp.sqrt(b) / sp.sqrt(C)),
        check_equal("SGD temperature falls by αβ per phase", temp_sgd.subs(k, k + 1) / temp_sgd,
                    1 / (alpha * beta), simplify=lambda e: sp.simplify(sp.powsimp(e, force=True))),
        check_equal("NSGD temperature η_eff/b falls by α√β per phase",
                    temp_nsgd.subs(k, k + 1) / temp_nsgd, 1 / (alpha * sp.sqrt(beta)),
                    simplify=lambda e: sp.simplify(sp.powsimp(sp.powdenest(e, force=True), force=True))),
        check_equal("halving η (α, β) = (2, 1) and Seesaw (√2, 2) share α√β = 2",
                    2 * sp.sqrt(1), sp.sqrt(2) * sp.sqrt(2)),
    )
    return Derivation(
        "nsgd_invariant", "NSGD: effective rate η√b/√C and the α√β invariant",
        "With E‖g‖² = ‖E g‖² + C/b, in the variance-dominated regime NSGD is SGD at rate η√b/√C, so its "
        "temperature η_eff/b = η/√(Cb) falls by α√β per phase of (η₀α^{−k}, b₀β^k); SGD's falls by αβ.",
        ("expected denominator G = E‖g‖² (docs/math.md#normalized-sgd)", "variance-dominated: ‖E g‖² ≪ C/b"),
        (equation("G", g2), equation("C", c_value), equation("\\eta_{eff}", eta * sp.sqrt(b) / sp.sqrt(C)),
         equation("invariant_{SGD}", alpha * beta), equation("invariant_{NSGD}", alpha * sp.sqrt(beta))),
        checks, "docs/math.md#equivalence (Seesaw Corollary 1)")


RELEASED = (
    (sp.Integer(2), sp.Integer(1), True),
    (2 ** sp.Rational(3, 4), sp.sqrt(2), True),
    (sp.sqrt(2), sp.Integer(2), True),
    (2 ** sp.Rational(1, 4), 2 ** sp.Rational(3, 2), False),
    (sp.Integer(1), sp.Integer(4), False),
)


@lru_cache(maxsize=None)
def ramp_bound() -> Derivation:
    """``α ≥ √β`` ⇔ the effective NSGD rate does not increase; ``(√2, 2)`` is extreme on ``α√β = 2``.

    Examples
    --------
    >>> ramp_bound().verified
    True
    """
    eff_k = eta0 * alpha**-k * sp.sqrt(b0 * beta**k) / sp.sqrt(C)
    ratio = sp.simplify(sp.powsimp(sp.powdenest(eff_k.subs(k, k + 1) / eff_k, force=True), force=True))
    on_family = sp.solve(sp.Eq(2 / sp.sqrt(beta), sp.sqrt(beta)), beta)
    p = sp.Symbol("p", positive=True)
    c = sp.Symbol("c", positive=True)

    def powers(e: sp.Basic) -> sp.Basic:
        return sp.powsimp(sp.powdenest(e, force=True), force=True)

    checks = [
        check_equal("η_eff,k+1/η_eff,k = √β/α", ratio, sp.sqrt(beta) / alpha),
        check_true("on α√β = 2 (α = 2/√β) the bound α = √β holds with equality only at β = 2",
                   sp.Eq(sp.Tuple(*on_family), sp.Tuple(2))),
        check_equal("… where α = √2", (2 / sp.sqrt(beta)).subs(beta, 2), sp.sqrt(2)),
        check_negative("on α√β = 2 the ratio √β/α = β/2 increases with β: β ≤ 2 ⇔ non-increasing rate",
                       -sp.diff((sp.sqrt(beta) / (2 / sp.sqrt(beta))), beta)),
        check_equal("p-family α = c^{1−p/2}, β = c^p keeps α√β = c",
                    c ** (1 - p / 2) * sp.sqrt(c**p), c, simplify=powers),
        check_equal("… and √β/α = c^{p−1}: α ≥ √β ⇔ p ≤ 1 (for c > 1)",
                    sp.sqrt(c**p) / c ** (1 - p / 2), c ** (p - 1), simplify=powers),
    ]
    for a_, b_, ok in RELEASED:
        checks.append(check_equal(f"released (α, β) = ({a_}, {b_}) lies on α√β = 2", a_ * sp.sqrt(b_), 2))
        relation = a_ >= sp.sqrt(b_)
        checks.append(check_true(f"released (α, β) = ({a_}, {b_}) {'satisfies' if ok else 'violates'} α ≥ √β",
                                 relation if ok else sp.Not(relation)))
    return Derivation(
        "ramp_bound", "Most aggressive stable ramp: α ≥ √β",
        "The effective NSGD rate η_k√b_k/√C changes by √β/α per phase, so it is non-increasing iff α ≥ √β; "
        "on α√β = 2 this allows β ≤ 2, with (√2, 2) — Seesaw — the extreme point. Of the released pairs, "
        "(2^{1/4}, 2^{3/2}) and (1, 4) violate it.",
        ("variance-dominated NSGD (C constant across phases)",),
        (equation("\\eta_{eff,k+1}/\\eta_{eff,k}", sp.sqrt(beta) / alpha), equation("\\beta_{max}", 2),
         equation("\\alpha_{min}", sp.sqrt(2))),
        tuple(checks), "docs/math.md#equivalence")


@lru_cache(maxsize=None)
def serial_step_integrals() -> Derivation:
    """Continuous Seesaw: ``B(τ) = B₀η₀/η_base``, ``η = √(η₀η_base)``; serial-step reductions (docs/math.md#seesaw).

    Examples
    --------
    >>> d = serial_step_integrals()
    >>> d.verified, d.result("reduction_{released}")
    (True, 81/200)
    """
    v = sp.Symbol("v", nonnegative=True)  # fraction of the decay phase
    base = sp.Symbol("g", positive=True)  # η_base(τ)/η₀ at one τ
    batch = b0 / base
    rate = sp.sqrt(eta0 * eta0 * base)
    w, phi = sp.symbols("w phi", positive=True)  # warmup fraction, floor
    quarter = 1 - sp.integrate(sp.cos(sp.pi * v / 2), (v, 0, 1))
    half = 1 - sp.integrate((1 + sp.cos(sp.pi * v)) / 2, (v, 0, 1))
    floored = phi + (1 - phi) * (1 + sp.cos(sp.pi * v)) / 2
    # Warmup runs unchanged at B₀ (w of the samples, all counted); the decay phase costs ∫ g dv.
    steps_fraction = w + (1 - w) * sp.integrate(floored, (v, 0, 1))
    general = sp.factor(1 - steps_fraction)
    released = general.subs({w: sp.Rational(1, 10), phi: sp.Rational(1, 10)})
    checks = (
        check_equal("the ramp keeps NSGD's temperature: η/√B = η_base/√B₀", rate / sp.sqrt(batch),
                    eta0 * base / sp.sqrt(b0), simplify=lambda e: sp.simplify(sp.powsimp(e, force=True))),
        check_equal("serial steps per sample 1/B(τ) = (η_base/η₀)/B₀", 1 / batch, base / b0),
        check_equal("quarter cosine: reduction 1 − ∫₀¹ cos(πv/2) dv = 1 − 2/π", quarter, 1 - 2 / sp.pi),
        check_equal("half cosine to 0: reduction 1/2", half, sp.Rational(1, 2)),
        check_equal("warmup w + half cosine to floor φ: reduction (1 − w)(1 − φ)/2", general,
                    (1 - w) * (1 - phi) / 2),
        check_equal("released setting (w = φ = 1/10): reduction 81/200 = 40.5 %", released,
                    sp.Rational(81, 200)),
        check_true("1 − 2/π ≈ 36.3 %", sp.Abs(1 - 2 / sp.pi - sp.Rational(363, 1000)) < sp.Rational(5, 10000)),
    )
    return Derivation(
        "serial_step_integrals", "Serial-step reduction of the continuous Seesaw ramp",
        "The continuous ramp B(τ) = B₀η₀/η_base(τ), η(τ) = √(η₀η_base(τ)) keeps the NSGD temperature of "
        "the base schedule and takes ∫ η_base/η₀ dτ / B₀ serial steps: reductions 1 − 2/π (quarter "
        "cosine), 1/2 (half cosine to 0), (1 − w)(1 − φ)/2 with warmup w and floor φ — 40.5 % in the "
        "released setting.",
        ("continuous limit f → 1 of the milestone factor", "warmup runs at B₀ unchanged"),
        (equation("B(\\tau)", batch), equation("\\eta(\\tau)", rate),
         equation("reduction_{quarter}", 1 - 2 / sp.pi), equation("reduction_{half}", sp.Rational(1, 2)),
         equation("reduction_{w,\\phi}", (1 - w) * (1 - phi) / 2), equation("reduction_{released}", released)),
        checks, "docs/math.md#seesaw-rule")
