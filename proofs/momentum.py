"""Heavy-ball momentum: the moment recursion, its averaging moments and its stability test, derived
from covariance matrices and checked against the numbers the solver computes
(docs/math.md#heavy-ball-momentum, #heavy-ball-averaging, #heavy-ball-stability).

In one eigen-coordinate, ``e_{t+1} = a e_t − μ e_{t−1} − η ξ_t`` with ``a = 1 + μ − ηλ`` and gradient
noise ``ξ_t`` of mean zero given the past and variance ``[(κ−2)λ²S + λ(q + σ²)]/b``. The derivations
propagate the full covariance of ``(e_t, e_{t−1})`` (and of ``(ē_t, e_t, e_{t−1})`` for averaging)
as matrices, read the update off their entries, and compare it with

- plain SGD's recursion (``μ = 0``, and the first step, where ``e_{−1} = e_0``);
- :func:`ramplab.theory.momentum_moment_step`, the step the solver runs, and
  ``expected_risk(…, HeavyBall(μ))`` itself (reference loop and fused kernel) against exact rational
  iteration, so that a wrong coefficient in the numeric code fails ``ramplab proofs``.

The batch size is the symbol ``b``, as in :mod:`proofs.equivalence`.
"""

from __future__ import annotations

import importlib.util
import random
from fractions import Fraction
from functools import lru_cache

import numpy as np
import sympy as sp

from .derivation import Derivation, check_equal, check_true, check_zero, equation
from .equivalence import kappa, lam, q, recursion_step, s
from .symbols import b, eta, sigma2

__all__ = ["heavy_ball_averaging", "heavy_ball_moments", "heavy_ball_stability", "torch_momentum_mapping"]

mu = sp.Symbol("mu", nonnegative=True)
C, P = sp.symbols("C P", real=True)
A_, X_, Y_ = sp.symbols("A X Y", real=True)  # E ē², E ē e_t, E ē e_{t−1}
rho = sp.Symbol("rho", positive=True)
x = sp.Symbol("x", positive=True)  # ηλ

#: The closed-form update as the solver writes it (docs/math.md#heavy-ball-momentum).
_a = 1 + mu - eta * lam
S_NEXT = (_a**2 + (kappa - 2) / b * (eta * lam) ** 2) * s - 2 * _a * mu * C + mu**2 * P + eta**2 / b * lam * (q + sigma2)
C_NEXT = _a * s - mu * C
P_NEXT = s


def _noise() -> sp.Basic:
    """``η² E ξ²``: the injected variance of §1.1 at second moment ``S = s``."""
    return eta**2 / b * ((kappa - 2) * lam**2 * s + lam * (q + sigma2))


def _propagated() -> sp.Matrix:
    """Covariance of ``(e_{t+1}, e_t)`` from that of ``(e_t, e_{t−1})``: ``A Σ Aᵀ + η²E ξ² e₁e₁ᵀ``."""
    sigma = sp.Matrix([[s, C], [C, P]])
    a_mat = sp.Matrix([[_a, -mu], [1, 0]])
    return sp.expand(a_mat * sigma * a_mat.T + sp.Matrix([[_noise(), 0], [0, 0]]))


def _rationals(rng: random.Random, n: int) -> list[Fraction]:
    return [Fraction(rng.randint(1, 97), rng.randint(1, 97)) for _ in range(n)]


def _numeric_step_error() -> float:
    """Largest relative gap between ``momentum_moment_step`` and the exact symbolic update at random rationals."""
    from ..theory.dynamics import momentum_moment_step

    rng = random.Random(20261130)
    worst = 0.0
    for _ in range(20):
        d = rng.randint(1, 4)
        lams, ss = _rationals(rng, d), _rationals(rng, d)
        # A valid covariance: C² ≤ S P.
        ps = _rationals(rng, d)
        cs = [Fraction(rng.randint(-9, 9), 10) * min(si, pi) for si, pi in zip(ss, ps)]
        eta_v, mu_v, s2 = Fraction(rng.randint(1, 60), 100), Fraction(rng.randint(0, 99), 100), _rationals(rng, 1)[0]
        b_v, k_v = rng.choice([1, 2, 3, 8]), rng.choice([Fraction(1), Fraction(9, 5), Fraction(3), Fraction(5)])
        ms = [Fraction(rng.choice([1, 1, 2, 3])) for _ in range(d)]
        q_v = sum(m * li * si for m, li, si in zip(ms, lams, ss))
        got = momentum_moment_step([float(v) for v in ss], [float(v) for v in cs], [float(v) for v in ps],
                                   [float(v) for v in lams], float(eta_v), float(mu_v), b_v, float(s2),
                                   float(k_v), [float(v) for v in ms])
        for i in range(d):
            subs = {s: ss[i], C: cs[i], P: ps[i], lam: lams[i], eta: eta_v, mu: mu_v, b: b_v, kappa: k_v,
                    sigma2: s2, q: q_v}
            for expr, value in zip((S_NEXT, C_NEXT, P_NEXT), got):
                exact = sp.Rational(expr.subs(subs))
                # Relative to the sum of the terms' sizes: a float result is good to that scale.
                scale = sum(abs(float(term.subs(subs))) for term in sp.Add.make_args(sp.expand(expr)))
                worst = max(worst, abs(float(value[i]) - float(exact)) / max(scale, 1e-300))
    return worst


@lru_cache(maxsize=None)
def heavy_ball_moments() -> Derivation:
    """The moment update of heavy ball from the 2×2 covariance of ``(e_t, e_{t−1})`` (docs/math.md#heavy-ball-momentum).

    Examples
    --------
    >>> heavy_ball_moments().verified
    True
    """
    new = _propagated()
    checks = (
        check_zero("E e_{t+1}² from A Σ Aᵀ + noise equals the solver's S update", new[0, 0] - S_NEXT),
        check_zero("E e_{t+1} e_t equals the solver's C update", new[0, 1] - C_NEXT),
        check_zero("the propagated covariance is symmetric", new[0, 1] - new[1, 0]),
        check_zero("E e_t² (the new P) is the old S", new[1, 1] - P_NEXT),
        check_zero("μ = 0 recovers the SGD recursion of docs/math.md#sgd-second-moment-recursion",
                   S_NEXT.subs(mu, 0) - recursion_step(s, lam, q)),
        check_zero("from e_{−1} = e_0 (S = C = P) the first step is plain SGD for every μ",
                   S_NEXT.subs({C: s, P: s}) - recursion_step(s, lam, q)),
        check_zero("… and its cross moment is (1 − ηλ) S", C_NEXT.subs({C: s}) - (1 - eta * lam) * s),
        check_true("momentum_moment_step (the solver's step) equals the exact update at 20 random rational "
                   "points to 1e-12 relative", sp.Float(_numeric_step_error()) < sp.Float(1e-12)),
    )
    return Derivation(
        "heavy_ball_moments", "Heavy-ball momentum: the exact moment recursion",
        "With e_{t+1} = a e_t − μ e_{t−1} − ηξ_t, a = 1 + μ − ηλ, the per-coordinate moments S = E e_t², "
        "C = E e_t e_{t−1}, P = E e_{t−1}² close: S ← (a² + (κ−2)η²λ²/b) S − 2aμ C + μ² P + (η²/b) λ (q + σ²), "
        "C ← a S − μ C, P ← S.",
        ("ξ_t has mean zero given (e_t, e_{t−1}) and the variance of docs/math.md#sgd-second-moment-recursion",
         "inputs x = H^{1/2} z, z i.i.d. with fourth moment κ"),
        (equation("S'", S_NEXT), equation("C'", C_NEXT), equation("P'", P_NEXT)),
        checks, "docs/math.md#heavy-ball-momentum")


def _averaged_updates() -> tuple[sp.Basic, sp.Basic, sp.Basic]:
    """``A', X', Y'`` as the solver writes them (docs/math.md#heavy-ball-averaging)."""
    z = _a * X_ - mu * Y_
    return ((1 - rho) ** 2 * A_ + rho**2 * S_NEXT + 2 * rho * (1 - rho) * z,
            (1 - rho) * z + rho * S_NEXT,
            (1 - rho) * X_ + rho * C_NEXT)


def _exact_solver_gap(kernel: str) -> float:
    """Largest relative gap between ``expected_risk(…, HeavyBall(μ), average="uniform", split=True)`` and an exact
    rational iteration of the symbolic updates (d = 2, four steps, per-step μ)."""
    from ..theory import HeavyBall, Numerics, Problem, Schedule, expected_risk

    lams, s0 = [Fraction(1), Fraction(1, 3)], [Fraction(2), Fraction(5, 4)]
    noise, kurt = Fraction(1, 2), Fraction(3)
    lrs, batches = [Fraction(1, 2), Fraction(1, 2), Fraction(1, 4), Fraction(1, 5)], [2, 2, 4, 4]
    mus = [Fraction(0), Fraction(9, 10), Fraction(1, 2), Fraction(3, 4)]
    new_s, new_c, _ = (sp.lambdify((s, C, P, lam, eta, mu, b, kappa, sigma2, q), e, "sympy")
                       for e in (S_NEXT, C_NEXT, P_NEXT))
    upd = [sp.lambdify((A_, X_, Y_, s, C, P, lam, eta, mu, b, kappa, sigma2, q, rho), e, "sympy")
           for e in _averaged_updates()]
    state = [[v, v, v, v, v, v] for v in s0]  # S, C, P, A, X, Y
    risks, averaged = [sum(li * st[0] for li, st in zip(lams, state)) / 2], [None]
    averaged[0] = risks[0]
    for t, (e_v, b_v, m_v) in enumerate(zip(lrs, batches, mus)):
        q_v = sum(li * st[0] for li, st in zip(lams, state))
        r_v = Fraction(1, t + 1)
        nxt = []
        for li, (S0, C0, P0, A0, X0, Y0) in zip(lams, state):
            args = (S0, C0, P0, li, e_v, m_v, b_v, kurt, noise, q_v)
            nxt.append([new_s(*args), new_c(*args), S0] + [f(A0, X0, Y0, *args, r_v) for f in upd])
        state = nxt
        risks.append(sum(li * st[0] for li, st in zip(lams, state)) / 2)
        averaged.append(sum(li * st[3] for li, st in zip(lams, state)) / 2)
    problem = Problem(np.array([float(v) for v in lams]), np.array([float(v) for v in s0]),
                      noise_variance=float(noise), kurtosis=float(kurt))
    sched = Schedule([float(v) for v in lrs], batches)
    run = expected_risk(problem, sched, HeavyBall(np.array([float(v) for v in mus])), average="uniform",
                        split=True, numerics=Numerics(kernel=kernel))
    got = np.concatenate([run.risk, run.averaged_risk, run.bias + run.variance])
    want = np.array([float(v) for v in risks + averaged + risks])
    return float(np.max(np.abs(got / want - 1.0)))


@lru_cache(maxsize=None)
def heavy_ball_averaging() -> Derivation:
    """Iterate averaging with momentum: cross moments of ``ē_t`` with ``e_t`` and ``e_{t−1}`` (docs/math.md#heavy-ball-averaging).

    Examples
    --------
    >>> heavy_ball_averaging().verified
    True
    """
    sigma = sp.Matrix([[A_, X_, Y_], [X_, s, C], [Y_, C, P]])  # covariance of (ē_t, e_t, e_{t−1})
    step = sp.Matrix([[1 - rho, rho * _a, -rho * mu], [0, _a, -mu], [0, 1, 0]])
    inject = sp.Matrix([rho, 1, 0])
    new = sp.expand(step * sigma * step.T + _noise() * inject * inject.T)
    a_next, x_next, y_next = _averaged_updates()
    c_old = sp.Symbol("c")  # §1.4's c = E ē_t e_t
    checks = [
        check_zero("E ē_{t+1}² from the 3×3 covariance equals the solver's A update", new[0, 0] - a_next),
        check_zero("E ē_{t+1} e_{t+1} equals the solver's X update", new[0, 1] - x_next),
        check_zero("E ē_{t+1} e_t equals the solver's Y update", new[0, 2] - y_next),
        check_zero("the (e_{t+1}, e_t) block is the moment update", new[1, 1] - S_NEXT),
        check_zero("μ = 0: A is docs/math.md#iterate-averaging's a update",
                   a_next.subs(mu, 0).subs(X_, c_old) - ((1 - rho) ** 2 * A_ + rho**2 * recursion_step(s, lam, q)
                                                         + 2 * rho * (1 - rho) * (1 - eta * lam) * c_old)),
        check_zero("μ = 0: X is docs/math.md#iterate-averaging's c update",
                   x_next.subs(mu, 0).subs(X_, c_old) - ((1 - rho) * (1 - eta * lam) * c_old
                                                         + rho * recursion_step(s, lam, q))),
        check_true("expected_risk(…, HeavyBall(μ_t), average='uniform', split=True), reference loop, equals exact "
                   "rational iteration to 1e-12", sp.Float(_exact_solver_gap("reference")) < sp.Float(1e-12)),
    ]
    if importlib.util.find_spec("numba") is not None:  # the fused kernel needs numba (the `fast` extra)
        checks.append(check_true("… and so does the fused kernel",
                                 sp.Float(_exact_solver_gap("fused")) < sp.Float(1e-12)))
    return Derivation(
        "heavy_ball_averaging", "Heavy-ball momentum: iterate-average moments",
        "With ē_{t+1} = (1 − ρ)ē_t + ρ e_{t+1} and Z = E ē_t e_{t+1} = aX − μY: "
        "A ← (1−ρ)²A + ρ²S' + 2ρ(1−ρ)Z, X ← (1−ρ)Z + ρS', Y ← (1−ρ)X + ρC'.",
        ("ē_t is a function of the past, so uncorrelated with ξ_t",),
        (equation("A'", a_next), equation("X'", x_next), equation("Y'", y_next)),
        tuple(checks), "docs/math.md#heavy-ball-averaging")


@lru_cache(maxsize=None)
def heavy_ball_stability() -> Derivation:
    """The O(d) stability test of constant-(η, μ, b) heavy ball (docs/math.md#heavy-ball-stability).

    Examples
    --------
    >>> heavy_ball_stability().verified
    True
    """
    from ..theory import Problem, is_stable_with_momentum, momentum_stability_limit

    a = 1 + mu - x
    block = sp.Matrix([[a**2 + (kappa - 2) / b * x**2, -2 * a * mu, mu**2], [a, -mu, 0], [1, 0, 0]])
    delta = x * ((1 - mu) * (2 * (1 + mu) - x) - (1 + mu) * (kappa - 2) / b * x)
    r1, r2, r3 = sp.symbols("r_1 r_2 r_3", real=True)
    s_sol = ((1 + mu) * r1 - 2 * a * mu * r2 + mu**2 * (1 + mu) * r3) / delta
    v = sp.Matrix([s_sol, (r2 + a * s_sol) / (1 + mu), s_sol + r3])
    residual = sp.simplify((sp.eye(3) - block) * v - sp.Matrix([r1, r2, r3]))
    c_gauss = 1 + (kappa - 2) / b

    # Numbers: the test against dense eigenvalues of the coupled 3d × 3d map, just below and above the limit.
    problem = Problem(np.array([1.0, 0.4, 0.1]), np.array([1.0, 1.0, 1.0]), noise_variance=0.1, kurtosis=3.0)
    lr_v, mu_v, b_v = 0.6, 0.8, 2.0

    def radius(eta_v: float) -> float:
        lam_v = problem.eigenvalues
        m = np.zeros((9, 9))
        for i, li in enumerate(lam_v):
            xi, ai = eta_v * li, 1 + mu_v - eta_v * li
            m[3 * i, 3 * i:3 * i + 3] = [ai * ai + (problem.kurtosis - 2) / b_v * xi * xi, -2 * ai * mu_v, mu_v**2]
            m[3 * i + 1, 3 * i:3 * i + 2] = [ai, -mu_v]
            m[3 * i + 2, 3 * i] = 1.0
            m[3 * i, 0::3] += eta_v**2 * li / b_v * lam_v
        return float(np.max(np.abs(np.linalg.eigvals(m))))

    limit = momentum_stability_limit(problem, mu_v, b_v)
    agree = all(is_stable_with_momentum(problem, e, mu_v, b_v) == (radius(e) < 1.0)
                for e in (lr_v * f for f in (0.1, 0.5, 1.0, 1.5, 2.0)))
    checks = (
        check_zero("Δ = det(I − T) for the per-coordinate block T", (sp.eye(3) - block).det() - delta),
        check_true("the block solve (S, C, P) satisfies (I − T) v = r", residual == sp.zeros(3, 1)),
        check_zero("μ = 0: Δ = x(2 − c x), §1.2's contraction", delta.subs(mu, 0) - x * (2 - c_gauss * x)),
        check_zero("μ = 0: ζ = (1 + μ)x²/(bΔ) is §1.2's term ηλ/(b(2 − cηλ)) (x = ηλ)",
                   ((1 + mu) * x**2 / (b * delta)).subs(mu, 0) - x / (b * (2 - c_gauss * x))),
        check_zero("b → ∞: Δ = x(1 − μ)(2(1 + μ) − x), the classical heavy-ball condition 0 < ηλ < 2(1 + μ)",
                   sp.limit(delta, b, sp.oo) - x * (1 - mu) * (2 * (1 + mu) - x)),
        check_true("is_stable_with_momentum agrees with dense eigenvalues of the coupled map at five rates",
                   sp.true if agree else sp.false),
        check_true("dense spectral radius < 1 just below momentum_stability_limit",
                   sp.Float(radius(limit * (1 - 1e-7))) < 1),
        check_true("dense spectral radius > 1 just above it", sp.Float(radius(limit * (1 + 1e-7))) > 1),
    )
    return Derivation(
        "heavy_ball_stability", "Heavy-ball momentum: stability at constant (η, μ, b)",
        "The coupled moment map M preserves the cone of per-coordinate PSD covariances, so ρ(M) < 1 iff "
        "(I − M)^{-1} b lies inside the cone for b = identity blocks; per block (I − T)(S, C, P) = r solves with "
        "Δ = det(I − T) = x[(1−μ)(2(1+μ) − x) − (1+μ)(κ−2)x/b].",
        ("κ ≥ 1 and multiplicities ≥ 1 (the injected noise is ≥ 0 on the cone)",),
        (equation("\\Delta", delta), equation("S", s_sol)),
        checks, "docs/math.md#heavy-ball-stability")


@lru_cache(maxsize=None)
def torch_momentum_mapping() -> Derivation:
    """``torch.optim.SGD(momentum=μ)`` is heavy ball with ``μ_t = μ η_t/η_{t−1}`` (docs/math.md#heavy-ball-momentum).

    Examples
    --------
    >>> torch_momentum_mapping().verified
    True
    """
    from ..theory import heavy_ball_momentum_of_torch_sgd

    g, buf_prev, w_t, w_prev = sp.symbols("g_t b_{t-1} w_t w_{t-1}", real=True)
    eta_t, eta_p = sp.symbols("eta_t eta_{t-1}", positive=True)
    # torch: b_t = μ b_{t−1} + g_t, w_{t+1} = w_t − η_t b_t; and w_t − w_{t−1} = −η_{t−1} b_{t−1}.
    torch_step = w_t - eta_t * (mu * buf_prev + g)
    heavy_ball = w_t - eta_t * g + mu * eta_t / eta_p * (w_t - w_prev)
    on_path = heavy_ball.subs(w_prev, w_t + eta_p * buf_prev)

    # Numbers: a plain torch-convention loop on a scalar quadratic, against heavy ball with the mapped μ_t.
    lrs = [0.1, 0.2, 0.3, 0.3, 0.15, 0.05, 0.01]
    mus = heavy_ball_momentum_of_torch_sgd(lrs, 0.9)
    grads = [0.7, -1.3, 0.2, 2.0, -0.5, 0.9, 0.4]  # any gradient sequence: the identity is pathwise
    w_torch, buf = 1.0, 0.0
    w_hb, w_hb_prev = 1.0, 1.0
    gap = 0.0
    for t, (lr_v, g_v) in enumerate(zip(lrs, grads)):
        buf = g_v if t == 0 else 0.9 * buf + g_v
        w_torch -= lr_v * buf
        w_hb, w_hb_prev = w_hb - lr_v * g_v + (mus[t] if t else 0.0) * (w_hb - w_hb_prev), w_hb
        gap = max(gap, abs(w_torch - w_hb))
    checks = (
        check_zero("w_{t+1} of torch's buffer equals heavy ball with μ_t = μ η_t/η_{t−1}", torch_step - on_path),
        check_true("heavy_ball_momentum_of_torch_sgd reproduces a torch-convention loop to 1e-14 along a "
                   "warmup and decay", sp.Float(gap) < sp.Float(1e-14)),
    )
    return Derivation(
        "torch_momentum_mapping", "torch.optim.SGD momentum as heavy ball",
        "torch's b_t = μ b_{t−1} + g_t, w_{t+1} = w_t − η_t b_t is heavy ball with μ_t = μ η_t/η_{t−1}.",
        ("dampening = 0, nesterov = False; η_{t−1} > 0",),
        (equation("\\mu_t", mu * eta_t / eta_p),),
        checks, "docs/math.md#heavy-ball-momentum")
