"""Reference recursions for the tests, each written once, plainly, from docs/math.md.

Every function here is an *independent* oracle: it is transcribed from the formulas of docs/math.md
(the anchor is in each docstring) and never imports ramplab's solver code, so a test that compares
the solver with it compares two separate implementations. A problem is read through its attributes
only (``eigenvalues``, ``initial_second_moment``, ``noise_variance``, ``kurtosis`` and, when present,
``multiplicity``): a :class:`ramplab.theory.Problem` or a :class:`Spectrum` of exact numbers.

- :func:`sgd_moments` — the SGD second-moment recursion (#sgd-second-moment-recursion) with
  multiplicities (#multiplicity), NSGD with the expected denominator (#normalized-sgd) and the
  iterate-average moments (#iterate-averaging); in float64, in exact rational arithmetic
  (:class:`fractions.Fraction`), or in high-precision floating point (mpmath) for NSGD, whose
  square root is irrational;
- :func:`heavy_ball_moments` — heavy-ball momentum (#heavy-ball-momentum, #heavy-ball-averaging)
  by propagating, per coordinate, the full covariance of ``(ē_t, e_t, e_{t−1})``;
- :func:`sgd_moment_matrix`, :func:`heavy_ball_moment_matrix` — the dense constant-step moment maps
  whose spectral radius decides stability (#stability, #heavy-ball-stability).

The tests import this module as ``oracles`` (tests/conftest.py puts tests/ on ``sys.path``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["Spectrum", "sgd_moments", "heavy_ball_moments", "sgd_moment_matrix", "heavy_ball_moment_matrix"]


@dataclass(frozen=True)
class Spectrum:
    """A problem as plain numbers (exact ones allowed), read like a ``Problem``.

    ``eigenvalues`` λ, ``initial_second_moment`` s(0), label noise σ², fourth moment κ and
    multiplicities m (all ones when ``None``), docs/math.md#noisy-linear-regression, #multiplicity.
    """

    eigenvalues: Sequence[Any]
    initial_second_moment: Sequence[Any] = ()
    noise_variance: Any = 0
    kurtosis: Any = 3
    multiplicity: Sequence[Any] | None = None


# ----------------------------------------------------------------------------- number systems
def _fraction(x: Any) -> Fraction:
    """``x`` as an exact rational (floats are read exactly; sympy ``Rational`` through ``p/q``)."""
    if hasattr(x, "p") and hasattr(x, "q"):  # sympy.Rational
        return Fraction(int(x.p), int(x.q))
    if isinstance(x, np.generic):
        x = x.item()
    return Fraction(x)


def _number_system(arithmetic: str, digits: int) -> tuple[Callable[[Any], Any], Callable[[Any], Any], Any]:
    """(convert one number, square root, array dtype) of an arithmetic."""
    if arithmetic == "float64":
        return float, math.sqrt, np.float64
    if arithmetic == "exact":
        def no_sqrt(x: Any) -> Any:
            raise ValueError("exact rational arithmetic has no square root: use arithmetic='mpmath' for NSGD")
        return _fraction, no_sqrt, object
    if arithmetic == "mpmath":
        import mpmath

        ctx = mpmath.mp.clone()
        ctx.dps = digits

        def to_mpf(x: Any) -> Any:
            f = _fraction(x)
            return ctx.mpf(f.numerator) / f.denominator

        return to_mpf, ctx.sqrt, object
    raise ValueError(f"arithmetic must be 'float64', 'exact' or 'mpmath'; got {arithmetic!r}")


def _read(problem: Any, num: Callable[[Any], Any], dtype: Any) -> tuple[np.ndarray, ...]:
    lam = np.array([num(x) for x in np.asarray(problem.eigenvalues, dtype=object).ravel()], dtype=dtype)
    s0 = np.array([num(x) for x in np.asarray(problem.initial_second_moment, dtype=object).ravel()], dtype=dtype)
    mult = getattr(problem, "multiplicity", None)
    m = (np.array([num(1)] * lam.size, dtype=dtype) if mult is None
         else np.array([num(x) for x in np.asarray(mult, dtype=object).ravel()], dtype=dtype))
    return lam, s0, m, num(problem.noise_variance), num(problem.kurtosis)


def _finite(x: Any) -> bool:
    return not isinstance(x, float) or math.isfinite(x)


# ----------------------------------------------------------------------------- SGD / NSGD
def sgd_moments(problem: Any, lrs: Sequence[Any], batches: Sequence[Any], *, optimizer: str = "sgd",
                rhos: Sequence[Any] | None = None, arithmetic: str = "float64",
                digits: int = 40) -> dict[str, np.ndarray]:
    """The diagonal second moments under SGD or NSGD, one step at a time.

    Provenance: docs/math.md#sgd-second-moment-recursion, per coordinate, every right-hand side
    from the old state,

        s_i ← (1 − ηλ_i)² s_i + (η²/B) [(κ − 2) λ_i² s_i + λ_i (q + σ²)],   q = Σ_j m_j λ_j s_j,

    with multiplicities m (docs/math.md#multiplicity; all ones by default). ``optimizer="nsgd"``
    uses the rate η/√G with the expected denominator of docs/math.md#normalized-sgd,
    G = (1 + (κ − 2)/B) Σ m λ² s + (Σ m λ / B)(q + σ²), and no step when G = 0. With ``rhos``
    (ρ_t of 1-based step t) the iterate-average moments of docs/math.md#iterate-averaging ride
    along: c ← (1 − ηλ)c, then s as above, a ← (1 − ρ)²a + ρ²s + 2ρ(1 − ρ)c, c ← (1 − ρ)c + ρs,
    from a(0) = c(0) = s(0).

    ``arithmetic``: ``"float64"``; ``"exact"`` — exact rational arithmetic (:class:`Fraction`, every
    input read exactly; SGD only); ``"mpmath"`` — ``digits`` significant digits (for NSGD).

    Returns arrays: ``risk`` (½ Σ m λ s, steps 0 … T), ``gradient_norm`` (Σ m λ² s, steps 0 … T),
    ``gradient_second_moment`` (G before each step, T values), ``effective_lr`` (the rate applied,
    T values), ``averaged_risk`` (½ Σ m λ a, with ``rhos``) and ``second_moment`` (the final s).
    In float64 the run stops after the first step whose risk is not finite; that risk (and any
    non-finite value of the step) is recorded as +inf, so a diverging run is a truncated array.
    """
    with np.errstate(all="ignore"):  # a diverging run overflows, as it should
        return _sgd_moments(problem, lrs, batches, optimizer, rhos, arithmetic, digits)


def _sgd_moments(problem, lrs, batches, optimizer, rhos, arithmetic, digits):
    num, sqrt, dtype = _number_system(arithmetic, digits)
    lam, s, m, sigma2, kappa = _read(problem, num, dtype)
    as_float = arithmetic == "float64"
    if optimizer not in ("sgd", "nsgd"):
        raise ValueError(f"optimizer must be 'sgd' or 'nsgd'; got {optimizer!r}")
    half = num(Fraction(1, 2))
    trace = np.sum(m * lam)
    out: dict[str, list[Any]] = {"risk": [half * np.sum(m * lam * s)], "gradient_norm": [np.sum(m * lam * lam * s)],
                                 "gradient_second_moment": [], "effective_lr": []}
    a = c = None
    if rhos is not None:
        a, c = s.copy(), s.copy()
        out["averaged_risk"] = [half * np.sum(m * lam * a)]
    for t, (lr, b) in enumerate(zip(lrs, batches)):
        eta, b = num(lr), num(b)
        q = np.sum(m * lam * s)
        mean = np.sum(m * lam * lam * s)
        g2 = (1 + (kappa - 2) / b) * mean + trace / b * (q + sigma2)
        if optimizer == "nsgd":
            eta = eta / sqrt(g2) if g2 > 0 else num(0)
        out["gradient_second_moment"].append(g2)
        out["effective_lr"].append(eta)
        x = eta * lam
        if a is not None:
            c = (1 - x) * c
        s = (1 - x) * (1 - x) * s + eta * eta / b * ((kappa - 2) * lam * lam * s + lam * (q + sigma2))
        if a is not None:
            rho = num(rhos[t])
            a = (1 - rho) * (1 - rho) * a + rho * rho * s + 2 * rho * (1 - rho) * c
            c = (1 - rho) * c + rho * s
            out["averaged_risk"].append(half * np.sum(m * lam * a))
        out["risk"].append(half * np.sum(m * lam * s))
        out["gradient_norm"].append(np.sum(m * lam * lam * s))
        if as_float and not math.isfinite(out["risk"][-1]):
            break
    result = {k: np.array(v, dtype=dtype) for k, v in out.items()}
    if as_float:
        for k, v in result.items():
            v[~np.isfinite(v)] = math.inf
    result["second_moment"] = s
    return result


# ----------------------------------------------------------------------------- heavy ball
def heavy_ball_moments(problem: Any, lrs: Sequence[float], batches: Sequence[float], mus: Sequence[float], *,
                       optimizer: str = "sgd", rhos: Sequence[float] | None = None,
                       split: bool = False) -> dict[str, np.ndarray]:
    """Heavy-ball risks by covariance propagation per coordinate, in float64.

    Provenance: docs/math.md#heavy-ball-momentum and #heavy-ball-averaging. Per coordinate, with
    x = ηλ and a = 1 + μ − x, e_{t+1} = a e_t − μ e_{t−1} − η ξ_t, where ξ_t has mean zero given the
    past and E ξ_t² = [(κ − 2) λ² E e_t² + λ (q_t + σ²)]/B (q_t = Σ m λ E e_t²), and
    ē_{t+1} = (1 − ρ) ē_t + ρ e_{t+1}. So the covariance Σ of (ē_t, e_t, e_{t−1}) evolves as
    Σ ← L Σ Lᵀ + η² E ξ² v vᵀ, L = [[1 − ρ, ρa, −ρμ], [0, a, −μ], [0, 1, 0]], v = (ρ, 1, 0),
    from Σ = s(0) everywhere (w_{−1} = w_0, ē_0 = e_0). ``mus[t]`` is the momentum of 0-based step
    t; ``mus[0]`` is never used (w_{−1} = w_0). ``rhos[t]`` is the averaging weight of 0-based step
    t (none: ρ = 0). ``optimizer="nsgd"`` divides η by √G of docs/math.md#normalized-sgd at the
    full run's state; ``split`` adds the bias run (from s(0), σ² = 0) and the variance run (from 0,
    with σ²), both at the full run's rates.

    Returns arrays over steps 0 … T: ``risk``, ``averaged_risk`` (½ Σ m λ E ē²), with ``split``
    ``bias`` and ``variance``, and ``effective_lr`` (T values). The run stops after the first step
    whose risk is not finite, recorded as +inf.
    """
    with np.errstate(all="ignore"):  # a diverging run overflows, as it should
        return _heavy_ball_moments(problem, lrs, batches, mus, optimizer, rhos, split)


def _heavy_ball_moments(problem, lrs, batches, mus, optimizer, rhos, split):
    lam = np.asarray(problem.eigenvalues, dtype=np.float64).ravel()
    m = getattr(problem, "multiplicity", None)
    m = np.ones_like(lam) if m is None else np.asarray(m, dtype=np.float64).ravel()
    kappa, sigma2 = float(problem.kurtosis), float(problem.noise_variance)
    trace = float(np.sum(m * lam))
    s0 = np.asarray(problem.initial_second_moment, dtype=np.float64).ravel()

    def start(s: np.ndarray) -> np.ndarray:
        return s[:, None, None] * np.ones((1, 3, 3))  # ē_0 = e_0 = e_{−1}

    runs = {"risk": (start(s0), sigma2)}
    if split:
        runs["bias"] = (start(s0), 0.0)
        runs["variance"] = (start(np.zeros_like(s0)), sigma2)

    def risk(cov: np.ndarray, k: int) -> float:
        return 0.5 * float(np.sum(m * lam * cov[:, k, k]))

    out: dict[str, list[float]] = {name: [risk(cov, 1)] for name, (cov, _) in runs.items()}
    out["averaged_risk"] = [risk(runs["risk"][0], 0)]
    out["effective_lr"] = []
    zero, one = np.zeros_like(lam), np.ones_like(lam)
    for t, (eta, b) in enumerate(zip(lrs, batches)):
        eta, b = float(eta), float(b)
        mu = float(mus[t]) if t > 0 else 0.0
        r = float(rhos[t]) if rhos is not None else 0.0
        s_full = runs["risk"][0][:, 1, 1]
        q = float(np.sum(m * lam * s_full))
        g2 = (1 + (kappa - 2) / b) * float(np.sum(m * lam * lam * s_full)) + trace / b * (q + sigma2)
        eff = (eta / math.sqrt(g2) if g2 > 0 else 0.0) if optimizer == "nsgd" else eta
        out["effective_lr"].append(eff)
        a = 1 + mu - eff * lam
        step = np.stack([np.stack([(1 - r) * one, r * a, -r * mu * one], axis=-1),
                         np.stack([zero, a, -mu * one], axis=-1),
                         np.stack([zero, one, zero], axis=-1)], axis=-2)  # (d, 3, 3)
        inject = np.array([r, 1.0, 0.0])
        for name, (cov, noise) in runs.items():
            s_run = cov[:, 1, 1]
            q_run = float(np.sum(m * lam * s_run))
            xi2 = ((kappa - 2) * lam * lam * s_run + lam * (q_run + noise)) / b
            new = np.einsum("dij,djk,dlk->dil", step, cov, step) \
                + (eff * eff * xi2)[:, None, None] * np.outer(inject, inject)
            runs[name] = (new, noise)
            out[name].append(risk(new, 1))
        out["averaged_risk"].append(risk(runs["risk"][0], 0))
        if not math.isfinite(out["risk"][-1]):
            break
    result = {k: np.array(v, dtype=np.float64) for k, v in out.items()}
    for v in result.values():
        v[~np.isfinite(v)] = math.inf
    return result


# ----------------------------------------------------------------------------- dense maps
def sgd_moment_matrix(problem: Any, lr: float, batch: float) -> np.ndarray:
    """The constant-(η, B) second-moment map ``s ↦ M s`` as a dense ``d × d`` matrix.

    Provenance: docs/math.md#stability, M = diag(D) + (η²/B) λ (m ∘ λ)ᵀ with
    D_i = (1 − ηλ_i)² + (η²/B)(κ − 2)λ_i², written out from the recursion of
    docs/math.md#sgd-second-moment-recursion (float64). Its spectral radius decides stability.
    """
    lam = np.asarray(problem.eigenvalues, dtype=np.float64).ravel()
    m = getattr(problem, "multiplicity", None)
    m = np.ones_like(lam) if m is None else np.asarray(m, dtype=np.float64).ravel()
    kappa = float(problem.kurtosis)
    diagonal = (1 - lr * lam) ** 2 + lr * lr / batch * (kappa - 2) * lam**2
    return np.diag(diagonal) + lr * lr / batch * np.outer(lam, m * lam)


def heavy_ball_moment_matrix(problem: Any, lr: float, mu: float, batch: float) -> np.ndarray:
    """The constant-(η, μ, B) map of ``(S_i, C_i, P_i)_i`` as a dense ``3d × 3d`` matrix.

    Provenance: docs/math.md#heavy-ball-momentum (the written-out update, every right-hand side
    from the old moments) and #heavy-ball-stability: per coordinate, with x = ηλ_i, a = 1 + μ − x,
    S ← (a² + (κ − 2)x²/B) S − 2aμ C + μ² P + (η²/B) λ_i Σ_j m_j λ_j S_j, C ← a S − μ C, P ← S.
    """
    lam = np.asarray(problem.eigenvalues, dtype=np.float64).ravel()
    m = getattr(problem, "multiplicity", None)
    m = np.ones_like(lam) if m is None else np.asarray(m, dtype=np.float64).ravel()
    kappa = float(problem.kurtosis)
    d = lam.size
    mat = np.zeros((3 * d, 3 * d))
    for i, li in enumerate(lam):
        x, a = lr * li, 1 + mu - lr * li
        mat[3 * i, 3 * i: 3 * i + 3] = [a * a + (kappa - 2) / batch * x * x, -2 * a * mu, mu * mu]
        mat[3 * i + 1, 3 * i: 3 * i + 2] = [a, -mu]
        mat[3 * i + 2, 3 * i] = 1.0
        mat[3 * i, 0::3] += lr * lr * li / batch * m * lam
    return mat
