"""Sketched linear regression and power-law random features as exact problems (docs/math.md#sketched-problems).

SGD on ``M`` sketched features ``z = Sᵀx`` of Gaussian data ``x ~ N(0, H)``, ``y = xᵀw* + ξ``, is itself noisy
linear regression: ``z ~ N(0, SᵀHS)``, the best weights are ``v* = (SᵀHS)⁻¹SᵀHw*``, and the residual
``y − zᵀv* = xᵀ(w* − Sv*) + ξ`` is uncorrelated with ``z`` and jointly Gaussian with it, hence independent: an
extra label noise of variance ``w*ᵀHw* − w*ᵀHS(SᵀHS)⁻¹SᵀHw*``. So the exact solver applies unchanged, with
``Problem.from_covariance``. Lin et al. (2024, arXiv 2406.08466) study the sketch; Paquette et al. (2024,
arXiv 2405.15074) the power-law random features (``λ_j = j^{−2α}``, ``w*_j = j^{−β}``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._limits import MAX_DIMENSION
from .._validate import finite_real, nonnegative_int, positive_int, positive_real, real_vector
from ._problem import Problem

__all__ = ["power_law_random_features", "sketched_problem"]

#: Largest sketch (features) the constructors build: the M × M feature covariance is dense.
MAX_FEATURES = 8192


def _gaussian_sketch(d: int, features: int, seed: int) -> np.ndarray:
    """``S`` of shape (d, M) with i.i.d. ``N(0, 1/M)`` entries from ``numpy.random.default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((d, features)) / np.sqrt(features)


def sketched_problem(eigenvalues: Any, target: Any, features: int, *, noise_variance: float = 0.0,
                     seed: int = 0) -> Problem:
    """The exact problem of SGD on ``M`` Gaussian-sketched features of Gaussian data, from ``w = 0``.

    Data ``x ~ N(0, diag(λ))`` in ``d`` dimensions, labels ``y = xᵀw* + ξ``; the model is
    ``f(x) = (Sᵀx)ᵀv`` with ``S`` of shape ``(d, M)``, entries i.i.d. ``N(0, 1/M)``
    (docs/math.md#sketched-problems; Lin et al. 2024, arXiv 2406.08466).

    Parameters
    ----------
    eigenvalues : array_like, shape (d,)
        ``λ > 0``, the data covariance's spectrum.
    target : array_like, shape (d,)
        ``w*`` in the same basis.
    features : int
        ``M``, the sketch size, ``1 ≤ M ≤ d`` (and at most ``MAX_FEATURES``).
    noise_variance : float, default 0.0
        ``σ²`` of the label noise ``ξ``.
    seed : int, default 0
        Seed of the sketch (``numpy.random.default_rng``).

    Returns
    -------
    Problem
        Dimension ``M``: the eigenvalues of ``SᵀHS``, ``s(0)`` from ``v₀ − v* = −v*``, label noise
        ``σ² + σ_r²`` with the approximation error ``σ_r²`` (``metadata["approximation_error"]``, so
        the population risk is the excess risk plus ``(σ² + σ_r²)/2``), Gaussian features
        (``κ = 3``). Its metadata also holds ``family="sketched"``, ``d``, ``features``, ``seed``.

    Raises
    ------
    ValueError
        For non-positive eigenvalues, lengths that differ, ``features`` outside ``[1, min(d,
        MAX_FEATURES)]``, or a sketched covariance that is numerically singular.
    TypeError
        For arguments of the wrong kind.

    Examples
    --------
    >>> p = sketched_problem([1.0, 0.5, 0.25, 0.125], [1.0, 1.0, 1.0, 1.0], 2, noise_variance=0.1)
    >>> p.dimension, round(p.metadata["approximation_error"], 4), round(p.noise_variance, 4)
    (2, 1.427, 1.527)
    """
    lam = real_vector(eigenvalues, "eigenvalues", positive=True)
    w_star = real_vector(target, "target")
    if w_star.shape != lam.shape:
        raise ValueError(f"target must have the length of eigenvalues ({lam.shape[0]}); got {w_star.shape[0]}")
    d = lam.shape[0]
    m = positive_int(features, "features", maximum=min(d, MAX_FEATURES))
    sigma2 = finite_real(noise_variance, "noise_variance", minimum=0.0)
    seed = nonnegative_int(seed, "seed")
    sketch = _gaussian_sketch(d, m, seed)
    hs = sketch * lam[:, None]                       # H S, shape (d, M)
    cov = sketch.T @ hs                              # Sᵀ H S
    cov = 0.5 * (cov + cov.T)
    rhs = hs.T @ w_star                              # Sᵀ H w*
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError(f"the sketched covariance SᵀHS is numerically singular (features={m}, seed={seed}): the "
                         f"eigenvalues span too many orders of magnitude for {m} features; use fewer features") from None
    v_star = np.linalg.solve(chol.T, np.linalg.solve(chol, rhs))
    with np.errstate(all="ignore"):
        explained = float(rhs @ v_star)
        total = float(w_star @ (lam * w_star))
    if not (np.all(np.isfinite(v_star)) and np.isfinite(explained) and np.isfinite(total)):
        raise ValueError(f"target is too large: w*ᵀHw* or the sketched optimum overflows float64 (|w*|_max = "
                         f"{float(np.abs(w_star).max())!r})")
    residual = max(total - explained, 0.0)
    problem = Problem.from_covariance(cov, -v_star, sigma2 + residual)
    meta = {"family": "sketched", "d": d, "features": m, "seed": seed, "approximation_error": residual,
            "label_noise": sigma2}
    return problem.replace(metadata=meta)


def power_law_random_features(d: int, features: int, alpha: float, beta: float, *, noise_variance: float = 0.0,
                              seed: int = 0) -> Problem:
    """Power-law random features: :func:`sketched_problem` with ``λ_j = j^{−2α}``, ``w*_j = j^{−β}``.

    The model of Paquette et al. (2024, arXiv 2405.15074): ``d`` data dimensions (their ``v``), ``M``
    random features (their ``d``), data exponent ``α`` and target exponent ``β``
    (docs/math.md#sketched-problems).

    Parameters
    ----------
    d : int
        Data dimension ``≥ features``.
    features : int
        ``M``, the number of random features.
    alpha, beta : float
        ``α > 0`` and ``β`` real.
    noise_variance : float, default 0.0
    seed : int, default 0

    Returns
    -------
    Problem
        As :func:`sketched_problem`, with ``metadata["family"] = "power_law_random_features"`` and
        ``alpha``, ``beta``.

    Raises
    ------
    ValueError
        For ``alpha ≤ 0``, a spectrum outside float64, or as :func:`sketched_problem`.

    Examples
    --------
    >>> p = power_law_random_features(200, 20, alpha=0.8, beta=0.9, seed=1)
    >>> p.dimension, p.metadata["family"], bool(p.noise_variance > 0)
    (20, 'power_law_random_features', True)
    """
    d = positive_int(d, "d", maximum=MAX_DIMENSION)
    alpha = positive_real(alpha, "alpha")
    beta = finite_real(beta, "beta")
    features = positive_int(features, "features")
    if features > d:
        raise ValueError(f"features must be ≤ d (a sketch of d data dimensions); got features={features}, d={d}")
    j = np.arange(1, d + 1, dtype=np.float64)
    with np.errstate(all="ignore"):
        lam, w_star = j ** (-2.0 * alpha), j ** (-beta)
    if not (np.all(lam > 0) and np.all(np.isfinite(w_star))):
        raise ValueError(f"alpha={alpha!r}, beta={beta!r} put j^(−2α) or j^(−β) outside float64 for j ≤ d = {d}")
    try:
        problem = sketched_problem(lam, w_star, features, noise_variance=noise_variance, seed=seed)
    except ValueError as exc:
        if "target is too large" in str(exc):
            raise ValueError(f"beta={beta!r} makes w*_j = j^(−β) overflow float64 in w*ᵀHw* for j ≤ d = {d}") from None
        if "singular" not in str(exc):
            raise
        raise ValueError(f"alpha={alpha!r} makes λ_j = j^(−2α) span too many orders of magnitude for features="
                         f"{features} (the sketched covariance is singular); use a smaller alpha or fewer "
                         f"features") from None
    meta = dict(problem.metadata, family="power_law_random_features", alpha=alpha, beta=beta)
    return problem.replace(metadata=meta)
