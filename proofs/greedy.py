"""One eigenvalue (d = 1): the greedy per-step learning rate, and why it is optimal
(docs/math.md#greedy-one-dimension).

With a single coordinate, ``q = λ s`` and the exact recursion of docs/math.md#sgd-second-moment-recursion is
``s' = f(η, s) = (1 − ηλ)² s + (η²/b)[(κ − 2)λ² s + λ(λ s + σ²)]``. The derivation

- solves ``∂f/∂η = 0`` for the greedy rate ``η*(s) = λ s / (λ² s (1 + (κ−1)/b) + λ σ²/b)`` and shows the
  critical point is the minimum (``∂²f/∂η² > 0``);
- gives the greedy value ``g(s) = f(η*(s), s)`` in closed form;
- shows ``∂f/∂s = (1 − ηλ)² + (κ − 1) η²λ²/b ≥ 0`` for every ``η`` (κ ≥ 1), so ``g`` is non-decreasing; then,
  by induction on ``t``, the greedy sequence's ``s_t`` is ≤ that of every per-step schedule at the same
  batches: ``s_{t+1}^g = g(s_t^g) ≤ g(s_t) ≤ f(η_t, s_t) = s_{t+1}`` — the greedy schedule minimises the final
  risk ``λ s_T / 2`` over all per-step learning-rate schedules at fixed batches;
- checks :func:`greedy_learning_rates` (the numeric greedy schedule) against exact rational iteration and
  :func:`ramplab.theory.expected_risk` on it.

Source: the d = 1 argument of the issue on optimal ramps (ramplab issue 22), on the recursion of Seesaw
(arXiv 2510.14717) §1.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from .derivation import Derivation, check_equal, check_nonnegative, check_positive, check_true, check_zero, equation
from .equivalence import kappa, lam, recursion_step, s
from .symbols import b, eta, sigma2

__all__ = ["greedy_learning_rates", "greedy_one_dimension"]

#: ``s' = f(η, s)`` for one eigenvalue (q = λ s).
S_NEXT = recursion_step(s, lam, lam * s)
#: The greedy rate ``η*(s)``.
ETA_STAR = lam * s / (lam**2 * s * (1 + (kappa - 1) / b) + lam * sigma2 / b)


def greedy_learning_rates(eigenvalue: float, initial_second_moment: float, noise_variance: float,
                          batch: Any, kurtosis: float = 3.0) -> tuple[np.ndarray, float]:
    """The greedy per-step learning rates for one eigenvalue at the given batches, and the final ``s_T``.

    Parameters
    ----------
    eigenvalue : float
        ``λ > 0``.
    initial_second_moment : float
        ``s_0 > 0``.
    noise_variance : float
        ``σ² ≥ 0``.
    batch : array_like, shape (T,)
        The batch size (samples) of each step.
    kurtosis : float, default 3.0
        ``κ ≥ 1``.

    Returns
    -------
    lr : ndarray, shape (T,)
        ``η_t = η*(s_t)`` (docs/math.md#greedy-one-dimension).
    final : float
        ``s_T`` (the final excess risk is ``λ s_T / 2``).

    Raises
    ------
    ValueError
        For a non-positive ``eigenvalue`` or ``initial_second_moment``, a negative ``noise_variance``, a
        ``kurtosis`` below 1 or a batch below 1.

    Examples
    --------
    >>> lr, final = greedy_learning_rates(1.0, 1.0, 0.0, [1, 1])
    >>> lr.round(6).tolist(), round(final, 12)
    ([0.333333, 0.333333], 0.444444444444)
    """
    from ..theory import Problem, Schedule

    # The public constructors validate and name every argument (eigenvalues → eigenvalue, …).
    try:
        problem = Problem([eigenvalue], [initial_second_moment], noise_variance=noise_variance, kurtosis=kurtosis)
    except (TypeError, ValueError) as exc:  # the problem's names are plural (arrays); these arguments are scalars
        text = str(exc).replace("eigenvalues", "eigenvalue").replace(" at index 0", "")
        raise type(exc)(text) from None
    if not problem.initial_second_moment[0] > 0:
        raise ValueError(f"initial_second_moment must be positive; got {initial_second_moment!r}")
    try:
        size = len(batch)  # type: ignore[arg-type]
    except TypeError:
        size = 1
    schedule = Schedule.from_segments(np.ones(max(size, 1)), batch, np.ones(max(size, 1), dtype=np.int64),
                                      integer_batch=False)
    batches = schedule.batch
    lam_v, s_v = float(problem.eigenvalues[0]), float(problem.initial_second_moment[0])
    sig_v, k_v = float(problem.noise_variance), float(problem.kurtosis)
    out = np.empty(batches.shape[0])
    lam, s_t, sig, kap = (np.float64(v) for v in (lam_v, s_v, sig_v, k_v))
    with np.errstate(all="ignore"):  # overflow is reported below, by name
        for t, b_v in enumerate(batches):
            e = lam * s_t / (lam**2 * s_t * (1 + (kap - 1) / b_v) + lam * sig / b_v)
            out[t] = e
            s_t = (1 - e * lam) ** 2 * s_t + e**2 / b_v * ((kap - 2) * lam**2 * s_t + lam * (lam * s_t + sig))
    if not (np.all(np.isfinite(out)) and np.isfinite(s_t) and np.all(out > 0)):
        raise ValueError("eigenvalue, initial_second_moment and noise_variance are beyond float64 for the greedy "
                         f"recursion (λ = {lam_v!r}, s_0 = {s_v!r}, σ² = {sig_v!r})")
    return out, float(s_t)


def _exact_greedy(lam_v: Fraction, s_v: Fraction, sig_v: Fraction, b_v: Fraction, k_v: Fraction,
                  steps: int) -> tuple[list[Fraction], Fraction]:
    rates = []
    for _ in range(steps):
        e = lam_v * s_v / (lam_v**2 * s_v * (1 + (k_v - 1) / b_v) + lam_v * sig_v / b_v)
        rates.append(e)
        s_v = (1 - e * lam_v) ** 2 * s_v + e**2 / b_v * ((k_v - 2) * lam_v**2 * s_v + lam_v * (lam_v * s_v + sig_v))
    return rates, s_v


def _numeric_gap() -> float:
    """Largest relative gap of :func:`greedy_learning_rates` and of ``expected_risk`` on its schedule from exact
    rational iteration (three problems, 12 steps)."""
    from ..theory import Problem, Schedule, expected_risk

    worst = 0.0
    for lam_v, s_v, sig_v, b_v, k_v in ((Fraction(13, 10), Fraction(2), Fraction(7, 10), Fraction(2), Fraction(3)),
                                         (Fraction(1, 3), Fraction(5), Fraction(1, 10), Fraction(1), Fraction(1)),
                                         (Fraction(4), Fraction(1, 2), Fraction(3), Fraction(8), Fraction(9, 5))):
        rates, final = _exact_greedy(lam_v, s_v, sig_v, b_v, k_v, 12)
        lr, got = greedy_learning_rates(float(lam_v), float(s_v), float(sig_v), [float(b_v)] * 12, float(k_v))
        worst = max(worst, max(abs(float(r) - x) / float(r) for r, x in zip(rates, lr)), abs(got - float(final)) / float(final))
        problem = Problem([float(lam_v)], [float(s_v)], noise_variance=float(sig_v), kurtosis=float(k_v))
        risk = expected_risk(problem, Schedule.from_segments(lr, [float(b_v)] * 12, [1] * 12, integer_batch=False),
                             progress=False).risk[-1]
        exact = float(lam_v * final / 2)
        worst = max(worst, abs(float(risk) - exact) / exact)
    return worst


@lru_cache(maxsize=None)
def greedy_one_dimension() -> Derivation:
    """The greedy per-step learning rate for one eigenvalue is optimal at fixed batches (docs/math.md#greedy-one-dimension).

    Examples
    --------
    >>> greedy_one_dimension().verified
    True
    """
    d_eta = sp.diff(S_NEXT, eta)
    solutions = sp.solve(sp.Eq(d_eta, 0), eta)
    g = sp.simplify(S_NEXT.subs(eta, ETA_STAR))
    g_closed = s * (lam * s * (kappa - 1) + sigma2) / (lam * s * (b + kappa - 1) + sigma2)
    d_s = sp.expand(sp.diff(S_NEXT, s))
    checks = (
        check_true("∂f/∂η = 0 has exactly one solution", sp.Eq(len(solutions), 1)),
        check_equal("… and it is η*(s) = λs / (λ²s(1 + (κ−1)/b) + λσ²/b)", solutions[0], ETA_STAR),
        check_positive("∂²f/∂η² > 0 (f is a convex parabola in η): η* is the minimum",
                       sp.diff(S_NEXT, eta, 2).subs(kappa, 1 + sp.Symbol("k1", nonnegative=True))),
        check_equal("the greedy value g(s) = f(η*, s) = s (λs(κ−1) + σ²) / (λs(b + κ − 1) + σ²)", g, g_closed),
        check_zero("∂f/∂s = (1 − ηλ)² + (κ − 1)η²λ²/b (the coefficient of s)",
                   d_s - ((1 - eta * lam) ** 2 + (kappa - 1) * eta**2 * lam**2 / b)),
        check_nonnegative("… which is ≥ 0 for κ ≥ 1: s ↦ f(η, s) is non-decreasing for every η",
                          (1 - eta * lam) ** 2 + sp.Symbol("k1", nonnegative=True) * eta**2 * lam**2 / b,
                          simplify=lambda e: e),
        check_nonnegative("g is non-decreasing in s (the induction step of the greedy argument)",
                          sp.together(sp.diff(g_closed, s)).subs(kappa, 1 + sp.Symbol("k1", nonnegative=True))),
        check_true("greedy_learning_rates and expected_risk on its schedule equal exact rational iteration to 1e-12",
                   sp.Float(_numeric_gap()) < sp.Float(1e-12)),
    )
    return Derivation(
        "greedy_one_dimension", "One eigenvalue: the greedy per-step learning rate is optimal",
        "For d = 1 (q = λs), s' = f(η, s) is minimised at η*(s) = λs / (λ²s(1 + (κ−1)/b) + λσ²/b), with value "
        "g(s) = s(λs(κ−1) + σ²)/(λs(b + κ − 1) + σ²); since f is non-decreasing in s for every η, so is g, and "
        "by induction the greedy schedule minimises s_T (hence the final risk λ s_T / 2) over all per-step "
        "learning-rate schedules at the same batches.",
        ("one eigenvalue λ > 0, fourth moment κ ≥ 1, label noise σ² ≥ 0, batch b > 0 (real)",
         "the exact recursion of docs/math.md#sgd-second-moment-recursion"),
        (equation("eta^*", ETA_STAR), equation("g", g_closed)),
        checks, "docs/math.md#greedy-one-dimension")
