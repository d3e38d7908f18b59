"""Stability and the stationary second moments of constant-(η, B) SGD (docs/math.md#stability).

At constant ``(η, B)`` the recursion is affine, ``s ← M s + v`` with
``M = diag(D) + u λᵀ``, ``D_i = 1 − 2ηλ_i + c η²λ_i²``, ``c = 1 + (κ − 2)/B``, ``u = η²λ/B`` and
``v = η²σ²λ/B``. It is stable iff the spectral radius of ``M`` is below 1. When every ``D_i ≥ 0``
(always for κ ≥ 2, e.g. Gaussian) ``M`` is non-negative and Perron–Frobenius turns this into the
two closed conditions of docs/math.md#stability (with ``1 + 1/B`` read as ``c``):

    (i)  ``c ηλ_i < 2`` for all i,        (ii) ``(η/B) Σ_i λ_i / (2 − c ηλ_i) < 1``.

Otherwise (κ < 2 with a large step) the spectral radius is computed directly.
"""

from __future__ import annotations

import numpy as np

from .._validate import finite_real
from .problem import Problem

__all__ = ["is_stable", "spectral_radius", "stationary_risk", "stationary_second_moment"]


def _coefficients(problem: Problem, lr: float, batch: float) -> tuple[np.ndarray, np.ndarray, float]:
    lr = finite_real(lr, "lr")
    if lr <= 0:
        raise ValueError(f"lr must be positive; got {lr!r}")
    batch = finite_real(batch, "batch", minimum=1.0)
    lam = problem.eigenvalues
    c = 1.0 + (problem.kurtosis - 2.0) / batch
    diag = 1.0 - 2.0 * lr * lam + c * lr**2 * lam**2
    return lam, diag, c


def spectral_radius(problem: Problem, lr: float, batch: float) -> float:
    """Spectral radius of the constant-(η, B) recursion matrix ``diag(D) + (η²/B) λ λᵀ``.

    Examples
    --------
    >>> p = Problem([1.0], [1.0])
    >>> spectral_radius(p, 0.5, 1)   # B = 1 contraction 1 − 2ηλ + 2η²λ² plus η²λ²
    0.75
    """
    lam, diag, _ = _coefficients(problem, lr, batch)
    # With multiplicities the coupling is λ (mλ)ᵀ; a coordinate standing for m > 1 copies also has the
    # within-copies difference modes, which the coupling does not see: eigenvalue D_i (docs/math.md#multiplicity).
    matrix = np.diag(diag) + (lr**2 / batch) * np.outer(lam, problem.multiplicity * lam)
    copies = np.abs(diag[problem.multiplicity > 1])
    return float(max(np.max(np.abs(np.linalg.eigvals(matrix))), np.max(copies, initial=0.0)))


def is_stable(problem: Problem, lr: float, batch: float) -> bool:
    """Whether constant-(η, B) SGD has bounded second moments (converges to a fixed point).

    Examples
    --------
    >>> p = Problem.power_law(100, a=1.5, b=1.0)
    >>> is_stable(p, 0.5, 1), is_stable(p, 1.9, 64), is_stable(p, 2.1, 64)
    (True, True, False)
    """
    lam, diag, c = _coefficients(problem, lr, batch)
    if np.all(diag >= 0):
        if not np.all(c * lr * lam < 2.0):
            return False
        return bool((lr / batch) * np.sum(problem.multiplicity * lam / (2.0 - c * lr * lam)) < 1.0)
    return spectral_radius(problem, lr, batch) < 1.0


def stationary_second_moment(problem: Problem, lr: float, batch: float) -> np.ndarray:
    """Exact fixed point ``s^∞ = η (q^∞ + σ²) / (B (2 − c ηλ))`` of constant-(η, B) SGD.

    ``q^∞ = Σ λ s^∞`` solves the scalar equation ``q = (q + σ²) S`` with
    ``S = (η/B) Σ λ_i/(2 − c ηλ_i)``, so ``q^∞ = σ² S / (1 − S)``.

    Raises
    ------
    ValueError
        If the recursion is not stable at ``(lr, batch)``.

    Examples
    --------
    >>> p = Problem([1.0], [1.0], noise_variance=1.0)
    >>> stationary_second_moment(p, 0.5, 1).tolist()   # s = 0.5 s + 0.25 (s + 1)
    [1.0]
    """
    if not is_stable(problem, lr, batch):
        raise ValueError(f"SGD is not stable at lr={lr!r}, batch={batch!r}; there is no stationary point")
    lam, _, c = _coefficients(problem, lr, batch)
    per_dir = lr / (batch * (2.0 - c * lr * lam))
    total = float(np.sum(problem.multiplicity * lam * per_dir))
    q = problem.noise_variance * total / (1.0 - total)
    return per_dir * (q + problem.noise_variance)


def stationary_risk(problem: Problem, lr: float, batch: float) -> float:
    """Stationary excess risk ``½ Σ λ_i s_i^∞``; ≈ ``(σ²/4) η tr H / B`` for small ηλ.

    Examples
    --------
    >>> p = Problem.power_law(200, a=1.5, b=1.0, noise_variance=1.0)
    >>> r = stationary_risk(p, 1e-3, 4)
    >>> bool(abs(r / (0.25 * 1e-3 * p.trace / 4) - 1) < 1e-2)
    True
    """
    return 0.5 * float((problem.multiplicity * problem.eigenvalues) @ stationary_second_moment(problem, lr, batch))
