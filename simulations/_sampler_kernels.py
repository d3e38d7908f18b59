"""A fused kernel for the ``gaussian-exact`` sampler on NumPy (optional numba, docs/math.md#gaussian-sampler).

:func:`gaussian_exact_rows` computes, for one block of runs, the batch gradient

    g = (1/B) Λ^{1/2} [ â c_1 u + (u² + σ²c_2²)^{1/2} P⊥ ξ ],   u = ‖a‖c_1 − σn,

from the block's draws (``ξ`` and ``n`` in one ``(rows, d + 1)`` normal draw, ``c_1²/2`` and ``c_2²/2``
in one gamma draw), in two passes over each run's ``d`` coordinates (``âᵀξ``, then the gradient) instead
of the array version's ten. The draws come from the same streams in the same order, so the runs see the
same numbers; the arithmetic per coordinate is the array version's, and ``âᵀξ`` is summed in index
order (fixed, so results are deterministic; they differ from the array version's pairwise sum by rounding).

Without numba this module imports and ``AVAILABLE`` is False; the sampler then uses the array version.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

try:  # numba is the optional extra `fast`
    from numba import njit

    AVAILABLE = True
except ImportError:  # pragma: no cover - exercised where numba is absent
    AVAILABLE = False

    def njit(*args: Any, **kwargs: Any) -> Any:
        def wrap(fn: Any) -> Any:
            return fn

        return wrap

__all__ = ["AVAILABLE", "gaussian_exact_rows", "sgd_gaussian_exact_rows"]


@njit(cache=True, fastmath=False, nogil=True, inline="always")
def _row_coefficients(q: float, half_c1sq: float, half_c2sq: float, n: float, sigma: float) -> tuple:  # pragma: no cover
    """One run's ``(‖a‖, c_1 u, (u² + σ²c_2²)^{1/2})`` with ``u = ‖a‖c_1 − σn``: what both kernels need per row."""
    norm = math.sqrt(q)
    c1 = math.sqrt(2.0 * half_c1sq)
    u = norm * c1 - sigma * n
    return norm, c1 * u, math.sqrt(u * u + (sigma * sigma) * (2.0 * half_c2sq))


@njit(cache=True, fastmath=False, nogil=True)
def _rows(a: np.ndarray, q: np.ndarray, normal: np.ndarray, gamma: np.ndarray, scale: np.ndarray, sigma: float,
          two_gammas: bool, out: np.ndarray) -> None:  # pragma: no cover - compiled
    n, d = a.shape
    for r in range(n):
        norm, along, perp = _row_coefficients(q[r], gamma[r, 0], gamma[r, 1] if two_gammas else 0.0, normal[r, d], sigma)
        if norm > 0:
            proj = 0.0
            for i in range(d):
                proj += (a[r, i] / norm) * normal[r, i]
            coef = along - perp * proj
            for i in range(d):
                out[r, i] = ((a[r, i] / norm) * coef + perp * normal[r, i]) * scale[i]
        else:  # every unit vector serves as â: the first basis vector
            coef = along - perp * normal[r, 0]
            for i in range(d):
                hat = 1.0 if i == 0 else 0.0
                out[r, i] = (hat * coef + perp * normal[r, i]) * scale[i]


def gaussian_exact_rows(a: np.ndarray, q: np.ndarray, normal: np.ndarray, gamma: np.ndarray, scale: np.ndarray,
                        sigma: float, out: np.ndarray) -> None:
    """Write the batch gradients of one block of runs into ``out`` (NumPy, C-contiguous, one dtype).

    Parameters
    ----------
    a : numpy.ndarray, shape (n, d)
        ``Λ^{1/2} e`` of the block's runs.
    q : numpy.ndarray, shape (n,)
        ``‖a‖²`` per run.
    normal : numpy.ndarray, shape (n, d + 1)
        ``ξ`` (first ``d`` columns) and ``n`` (last column).
    gamma : numpy.ndarray, shape (n, 1) or (n, 2)
        ``c_1²/2`` and, for ``B > 1``, ``c_2²/2``.
    scale : numpy.ndarray, shape (d,)
        ``Λ^{1/2} / B``.
    sigma : float
        ``σ``.
    out : numpy.ndarray, shape (n, d)
        Written in place.

    Examples
    --------
    >>> a = np.array([[3.0, 4.0]]); normal = np.array([[0.5, -1.0, 0.2]]); gamma = np.array([[0.5]])
    >>> out = np.empty_like(a)
    >>> gaussian_exact_rows(a, np.array([25.0]), normal, gamma, np.array([1.0, 1.0]), 0.0, out)
    >>> out.round(3).tolist()
    [[7.0, 1.0]]
    """
    _rows(a, q, normal, gamma, scale, float(sigma), gamma.shape[1] > 1, out)


@njit(cache=True, fastmath=False, nogil=True)
def _sgd_rows(e: np.ndarray, sqrt_lam: np.ndarray, q: np.ndarray, normal: np.ndarray, gamma: np.ndarray,
              scale: np.ndarray, sigma: float, two_gammas: bool, rate: float, e_out: np.ndarray,
              q_out: np.ndarray) -> None:  # pragma: no cover - compiled
    n, d = e.shape
    for r in range(n):
        norm, along, perp = _row_coefficients(q[r], gamma[r, 0], gamma[r, 1] if two_gammas else 0.0, normal[r, d], sigma)
        safe = norm if norm > 0 else 1.0
        proj = 0.0
        if norm > 0:
            for i in range(d):
                proj += ((sqrt_lam[i] * e[r, i]) / safe) * normal[r, i]
        else:
            proj = normal[r, 0]
        coef = along - perp * proj
        total = 0.0
        for i in range(d):
            if norm > 0:
                hat = (sqrt_lam[i] * e[r, i]) / safe
            else:
                hat = 1.0 if i == 0 else 0.0
            new = e[r, i] - rate * ((hat * coef + perp * normal[r, i]) * scale[i])
            e_out[r, i] = new
            b = sqrt_lam[i] * new
            total += b * b
        q_out[r] = total


def sgd_gaussian_exact_rows(e: np.ndarray, sqrt_lam: np.ndarray, q: np.ndarray, normal: np.ndarray,
                            gamma: np.ndarray, scale: np.ndarray, sigma: float, rate: float, e_out: np.ndarray,
                            q_out: np.ndarray) -> None:
    """One SGD step of a block of runs with the ``gaussian-exact`` gradient, fused: ``e − η g`` and its ``‖Λ^½ e‖²``.

    The gradient is :func:`gaussian_exact_rows`'s at ``a = Λ^{1/2} e`` (formed on the fly); the new
    errors go to ``e_out`` and their ``‖Λ^{1/2} e‖²`` (summed in index order) to ``q_out``: one read of
    the state and the draws and one write per step, where the array version makes a dozen passes.

    Parameters
    ----------
    e : numpy.ndarray, shape (n, d)
        Errors ``e = w − w*`` of the block's runs.
    sqrt_lam : numpy.ndarray, shape (d,)
        ``Λ^{1/2}``.
    q : numpy.ndarray, shape (n,)
        ``‖Λ^{1/2} e‖²`` per run.
    normal, gamma, scale, sigma
        As for :func:`gaussian_exact_rows`.
    rate : float
        The step's deterministic rate ``η_t`` (SGD) or ``η_t/sqrt(G_t)`` (expected NSGD).
    e_out : numpy.ndarray, shape (n, d)
        Written: the errors after the step.
    q_out : numpy.ndarray, shape (n,)
        Written: their ``‖Λ^{1/2} e‖²``.

    Examples
    --------
    >>> e = np.array([[3.0, 4.0]]); normal = np.array([[0.5, -1.0, 0.2]]); gamma = np.array([[0.5]])
    >>> e_out, q_out = np.empty_like(e), np.empty(1)
    >>> sgd_gaussian_exact_rows(e, np.ones(2), np.array([25.0]), normal, gamma, np.ones(2), 0.0, 0.1, e_out, q_out)
    >>> e_out.round(3).tolist(), round(float(q_out[0]), 3)
    ([[2.3, 3.9]], 20.5)
    """
    _sgd_rows(e, sqrt_lam, q, normal, gamma, scale, float(sigma), gamma.shape[1] > 1, float(rate), e_out, q_out)
