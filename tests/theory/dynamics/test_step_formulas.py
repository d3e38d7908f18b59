"""The one step (theory/dynamics/_step.py) is the mathematics, symbol for symbol: each formula function, fed sympy
symbols instead of arrays, equals the update derived in ramplab.proofs (docs/math.md#sgd-second-moment-recursion,
#iterate-averaging, #heavy-ball-momentum, #heavy-ball-averaging). The reference loop calls these functions and
the compiled kernels inline them, so a changed coefficient anywhere in the step fails here."""

from __future__ import annotations

import sympy as sp

from ramplab.proofs.equivalence import kappa, lam, q, recursion_step, s
from ramplab.proofs.momentum import C, C_NEXT, P, S_NEXT, mu
from ramplab.proofs.symbols import b, eta, sigma2
from ramplab.theory.dynamics import _step as step

rho = sp.Symbol("rho", positive=True)
A, X, Y = sp.symbols("A X Y", real=True)


def _zero(expr) -> bool:
    return sp.simplify(sp.expand(expr)) == 0


def test_sgd_step_is_the_derived_recursion():
    x = eta * lam
    c = step.batch_factor(kappa - 2, b)
    k = step.noise_coefficient(eta, b, q, sigma2)
    assert _zero(step.sgd_second_moment(s, x, c, k, lam) - recursion_step(s, lam, q))
    assert _zero(step.contraction(x, c) - (1 - (1 - x) ** 2 - (kappa - 2) / b * x**2))
    assert _zero(step.noise_gain(eta, b) * (q + sigma2) - k)


def test_gradient_second_moment_and_nsgd_rate():
    mean, trace = sp.symbols("M T", positive=True)  # Σ mλ²s, tr H
    g = step.gradient_norm2(step.batch_factor(kappa - 2, b), mean, trace, b, q, sigma2)
    assert _zero(g - ((1 + (kappa - 2) / b) * mean + trace / b * (q + sigma2)))
    assert step.nsgd_rate(1.0, 4.0) == 0.5 and step.nsgd_rate(1.0, 0.0) == 0.0


def test_heavy_ball_step_is_the_derived_moment_update():
    x = eta * lam
    a = (1 + mu) - x
    k = step.noise_coefficient(eta, b, q, sigma2)
    got = step.heavy_ball_second_moment(s, C, P, x, a, (kappa - 2) / b, mu, k, lam)
    assert _zero(got - S_NEXT)
    assert _zero(step.heavy_ball_cross(s, C, a, mu) - C_NEXT)


def test_averaging_moments_are_the_covariance_of_the_average():
    # ē_{t+1} = (1 − ρ) ē_t + ρ e_{t+1}: with Z = E ē_t e_{t+1},
    # E ē_{t+1}² = (1−ρ)² A + ρ² s' + 2ρ(1−ρ) Z and E ē_{t+1} e_{t+1} = (1−ρ) Z + ρ s'.
    s_new, z = sp.symbols("s' Z", real=True)
    keep, alpha, beta, gamma = step.average_weights(rho)
    assert _zero(step.averaged_second_moment(A, s_new, z, alpha, beta, gamma)
                 - ((1 - rho) ** 2 * A + rho**2 * s_new + 2 * rho * (1 - rho) * z))
    assert _zero(step.averaged_cross(z, s_new, keep, rho) - ((1 - rho) * z + rho * s_new))
    # Z for SGD: e_{t+1} = (1 − ηλ) e_t + noise independent of ē_t; for heavy ball e_{t+1} = a e_t − μ e_{t−1} + noise.
    assert _zero(step.sgd_moved_cross(X, eta * lam) - (1 - eta * lam) * X)
    a = 1 + mu - eta * lam
    assert _zero(step.heavy_ball_moved_cross(X, Y, a, mu) - (a * X - mu * Y))
