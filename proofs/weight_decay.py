"""Decoupled weight decay: the moment recursions and the stationary point, derived from covariance matrices
and checked against the very functions the solver runs (docs/math.md#weight-decay,
#weight-decay-fixed-point).

In one eigen-coordinate, with ``u = ηω`` the decay per step, ``x = η'λ`` (``η'`` the rate applied to the
gradient) and gradient noise ``ξ_t`` of mean zero given the past and variance ``[(κ−2)λ²S + λ(q + σ²)]/b``,

    e_{t+1} = m e_t − μ e_{t−1} − u w* − η' ξ_t,      m = 1 + μ − u − x

(``μ = 0``: SGD/NSGD). The covariance of ``(ē_t, e_t, e_{t−1}, w*)`` propagates linearly; the derivation
reads the updates off its entries and compares them with the formula functions of
``ramplab.theory.dynamics._step`` evaluated on sympy symbols (they are pure arithmetic, so the code itself
is what is checked), then solves the stationary point in closed form.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .derivation import Derivation, check_zero, equation
from .equivalence import kappa, lam, q, recursion_step, s
from .symbols import b, eta, sigma2

__all__ = ["weight_decay_moments"]

u = sp.Symbol("u", nonnegative=True)  # η ω
mu = sp.Symbol("mu", nonnegative=True)
rho = sp.Symbol("rho", positive=True)
W = sp.Symbol("W", positive=True)  # E w*²
C, P, T, F = sp.symbols("C P T F", real=True)  # E e_t e_{t−1}, E e_{t−1}², E e_t w*, E e_{t−1} w*
A_, X_, Y_, G_ = sp.symbols("A X Y G", real=True)  # E ē², E ē e_t, E ē e_{t−1}, E ē w*
omega = sp.Symbol("omega", positive=True)


def _exact(expr: object) -> sp.Basic:
    """The code's floats (``2.0``) as rationals, so that residuals simplify to an exact 0."""
    return sp.nsimplify(sp.expand(expr), rational=True)


@lru_cache(maxsize=None)
def weight_decay_moments() -> Derivation:
    """The moment updates with decoupled weight decay and their stationary point (docs/math.md#weight-decay).

    Examples
    --------
    >>> weight_decay_moments().verified
    True
    """
    from ..theory.dynamics import _step

    x = eta * lam
    kb = (kappa - 2) / b
    k = eta**2 / b * (q + sigma2)
    noise = eta**2 / b * ((kappa - 2) * lam**2 * s + lam * (q + sigma2))  # η'² E ξ²
    m = 1 + mu - u - x
    # Covariance of (ē_t, e_t, e_{t−1}, w*) and the linear step to (ē_{t+1}, e_{t+1}, e_t, w*).
    sigma = sp.Matrix([[A_, X_, Y_, G_], [X_, s, C, T], [Y_, C, P, F], [G_, T, F, W]])
    step = sp.Matrix([[1 - rho, rho * m, -rho * mu, -rho * u], [0, m, -mu, -u], [0, 1, 0, 0], [0, 0, 0, 1]])
    inject = sp.Matrix([rho, 1, 0, 0])
    new = sp.expand(step * sigma * step.T + noise * inject * inject.T)

    s_hb = _exact(_step.heavy_ball_decay_second_moment(s, C, P, T, F, W, x, m, kb, mu, u, k, lam))
    c_hb = _exact(_step.heavy_ball_decay_cross(s, C, T, m, mu, u))
    t_hb = _exact(_step.heavy_ball_decay_target(T, F, W, m, mu, u))
    z_hb = _exact(_step.heavy_ball_decay_moved_cross(X_, Y_, G_, m, mu, u))
    keep, alpha, beta, gamma = (1 - rho, (1 - rho) ** 2, rho**2, 2 * rho * (1 - rho))
    a_next = _exact(_step.averaged_second_moment(A_, s_hb, z_hb, alpha, beta, gamma))
    x_next = _exact(_step.averaged_cross(z_hb, s_hb, keep, rho))
    y_next = _exact(_step.averaged_cross(X_, c_hb, keep, rho))
    g_next = _exact(_step.averaged_cross(G_, t_hb, keep, rho))
    m0 = 1 - u - x
    s_sgd = _exact(_step.decay_second_moment(s, T, W, x, m0, kb, u, k, lam))
    t_sgd = _exact(_step.decay_target_moment(T, W, m0, u))
    z_sgd = _exact(_step.decay_moved_cross(X_, G_, m0, u))

    # The stationary point of SGD (μ = 0) at constant (η, b, ω): T∞ and s∞ given q∞ (x, u as symbols).
    x_, u_ = sp.symbols("x u_", positive=True)
    t_inf = -u_ * W / (u_ + x_)
    one_minus_d = (u_ + x_) * (2 - u_ - x_) - kb * x_**2
    s_inf = (k * lam + u_**2 * W * (2 - u_ - x_) / (u_ + x_)) / one_minus_d
    s_fix = _exact(_step.decay_second_moment(s_inf, t_inf, W, x_, 1 - u_ - x_, kb, u_, k, lam))
    t_fix = _exact(_step.decay_target_moment(t_inf, W, 1 - u_ - x_, u_))
    checks = (
        check_zero("E e_{t+1}² from the covariance propagation equals the solver's heavy-ball S update", new[1, 1] - s_hb),
        check_zero("E e_{t+1} e_t equals the solver's C update", new[1, 2] - c_hb),
        check_zero("E e_{t+1} w* equals the solver's T update", new[1, 3] - t_hb),
        check_zero("E e_t w* (the new F) is the old T", new[2, 3] - T),
        check_zero("E ē_{t+1}² equals the solver's A update with Z = mX − μY − uG", new[0, 0] - a_next),
        check_zero("E ē_{t+1} e_{t+1} equals the solver's X update", new[0, 1] - x_next),
        check_zero("E ē_{t+1} e_t equals the solver's Y update", new[0, 2] - y_next),
        check_zero("E ē_{t+1} w* equals the solver's G update", new[0, 3] - g_next),
        check_zero("μ = 0: the SGD/NSGD S update is heavy ball's", s_sgd - s_hb.subs(mu, 0)),
        check_zero("μ = 0: the SGD/NSGD T update is heavy ball's", t_sgd - t_hb.subs(mu, 0)),
        check_zero("μ = 0: the SGD/NSGD Z = mX − uG is heavy ball's", z_sgd - z_hb.subs(mu, 0)),
        check_zero("u = 0: the S update is docs/math.md#sgd-second-moment-recursion", s_sgd.subs(u, 0)
                   - _exact(recursion_step(s, lam, q))),
        check_zero("u = 0 (w_0 = 0: S = C = P = W, T = F = −W): the first heavy-ball step is plain SGD",
                   s_hb.subs(u, 0).subs({C: s, P: s}) - _exact(recursion_step(s, lam, q))),
        check_zero("the closed-form T∞ = −uW/(u + x) is a fixed point", t_fix - t_inf),
        check_zero("the closed-form s∞ (given q∞) is a fixed point", s_fix - s_inf),
        check_zero("T∞ = −ωW/(ω + λ) for SGD (u = ηω, x = ηλ): the ridge solution, free of η and b",
                   sp.simplify(t_inf.subs({u_: eta * omega, x_: eta * lam}) + omega * W / (omega + lam))),
    )
    return Derivation(
        "weight_decay_moments", "Decoupled weight decay: exact moment recursions and stationary point",
        "With w_{t+1} = (1 − u)w_t − η'g_t + μ(w_t − w_{t−1}), u = ηω, m = 1 + μ − u − η'λ: "
        "S ← (m² + (κ−2)x²/b)S − 2μmC + μ²P + (η'²/b)λ(q + σ²) + u(uW − 2(mT − μF)), C ← mS − μC − uT, "
        "T ← mT − μF − uW, F ← T, P ← S; averaging with Z = mX − μY − uG and G ← (1−ρ)G + ρT'. "
        "At constant (η, b, ω), SGD's T∞ = −ωW/(ω + λ).",
        ("ξ_t has mean zero given the past and the variance of docs/math.md#sgd-second-moment-recursion",
         "w* is fixed or random independent of the data, W = E w*², w_0 = 0"),
        (equation("S'", s_hb), equation("T'", t_hb), equation("T_inf", t_inf), equation("s_inf", s_inf)),
        checks, "docs/math.md#weight-decay")
