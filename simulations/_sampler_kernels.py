"""A fused kernel for the ``gaussian-exact`` sampler on NumPy (optional numba, docs/math.md#gaussian-sampler).

:func:`gaussian_exact_rows` computes, for one block of runs, the batch gradient

    g = (1/B) Λ^{1/2} [ â c_1 u + (u² + σ²c_2²)^{1/2} P⊥ ξ ],   u = ‖a‖c_1 − σn,

from the block's draws (``ξ`` and ``n`` in one ``(rows, d + 1)`` normal draw, ``c_1²/2`` and ``c_2²/2``
in one gamma draw), in two passes over each run's ``d`` coordinates (``âᵀξ``, then the gradient) instead
of the array version's ten. The draws come from the same streams in the same order, so the runs see the
same numbers; the arithmetic per coordinate is the array version's (``â = a · (1/‖a‖)``), and ``âᵀξ`` and
``‖Λ^{1/2} e‖²`` are summed in a fixed lane order (:data:`LANES`: deterministic and vectorised; they differ
from the array version's pairwise sums by rounding). :func:`row_norms` is that same sum for any state, so
the Monte Carlo loop records one function of ``e`` whichever kernel produced it.

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

__all__ = ["AVAILABLE", "LANES", "gaussian_exact_rows", "row_norms", "sgd_gaussian_exact_rows"]


@njit(cache=True, fastmath=False, nogil=True, inline="always")
def _row_coefficients(q: float, half_c1sq: float, half_c2sq: float, n: float, sigma: float) -> tuple:  # pragma: no cover
    """One run's ``(‖a‖, c_1 u, (u² + σ²c_2²)^{1/2})`` with ``u = ‖a‖c_1 − σn``: what both kernels need per row."""
    norm = math.sqrt(q)
    c1 = math.sqrt(2.0 * half_c1sq)
    u = norm * c1 - sigma * n
    return norm, c1 * u, math.sqrt(u * u + (sigma * sigma) * (2.0 * half_c2sq))


#: Lanes of the fixed-order sums: coordinate ``i`` is added into lane ``i mod LANES``, the lanes are then
#: added pairwise (``((l0 + l1) + (l2 + l3)) + …``). Each lane's additions keep their order, so the loop
#: vectorises without any reassociation and the result does not depend on the machine.
LANES = 8


@njit(cache=True, fastmath=False, nogil=True, inline="always")
def _lane_total(acc: np.ndarray) -> float:  # pragma: no cover - compiled
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))


@njit(cache=True, fastmath=False, nogil=True, inline="always")
def _hat_dot(a_row: np.ndarray, inv: float, normal_row: np.ndarray, d: int, acc: np.ndarray) -> float:  # pragma: no cover
    """``Σ_i (a_i · inv) ξ_i`` in the fixed lane order (``acc``: scratch of :data:`LANES` entries)."""
    for k in range(LANES):
        acc[k] = 0.0
    full = d - d % LANES
    for base in range(0, full, LANES):
        for k in range(LANES):
            acc[k] += (a_row[base + k] * inv) * normal_row[base + k]
    for i in range(full, d):
        acc[i - full] += (a_row[i] * inv) * normal_row[i]
    return _lane_total(acc)


@njit(cache=True, fastmath=False, nogil=True)
def _rows(a: np.ndarray, q: np.ndarray, normal: np.ndarray, gamma: np.ndarray, scale: np.ndarray, sigma: float,
          two_gammas: bool, out: np.ndarray) -> None:  # pragma: no cover - compiled
    n, d = a.shape
    acc = np.zeros(LANES)
    for r in range(n):
        norm, along, perp = _row_coefficients(q[r], gamma[r, 0], gamma[r, 1] if two_gammas else 0.0, normal[r, d], sigma)
        ar = a[r]
        xr = normal[r]
        orow = out[r]
        if norm > 0:
            inv = 1.0 / norm
            coef = along - perp * _hat_dot(ar, inv, xr, d, acc)
            for i in range(d):
                orow[i] = ((ar[i] * inv) * coef + perp * xr[i]) * scale[i]
        else:  # every unit vector serves as â: the first basis vector
            coef = along - perp * xr[0]
            for i in range(d):
                hat = 1.0 if i == 0 else 0.0
                orow[i] = (hat * coef + perp * xr[i]) * scale[i]


@njit(cache=True, fastmath=False, nogil=True)
def _norms(e: np.ndarray, sqrt_lam: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    n, d = e.shape
    acc = np.zeros(LANES)
    full = d - d % LANES
    for r in range(n):
        er = e[r]
        for k in range(LANES):
            acc[k] = 0.0
        for base in range(0, full, LANES):
            for k in range(LANES):
                b = sqrt_lam[base + k] * er[base + k]
                acc[k] += b * b
        for i in range(full, d):
            b = sqrt_lam[i] * er[i]
            acc[i - full] += b * b
        out[r] = _lane_total(acc)


def row_norms(e: np.ndarray, sqrt_lam: np.ndarray) -> np.ndarray:
    """``‖Λ^{1/2} e‖²`` of every row, summed in the fixed lane order (:data:`LANES`), in ``e``'s dtype.

    The one function of ``e`` the Monte Carlo loop records as twice the risk on NumPy with numba: the
    fused step's ``q_out`` is this function of the errors it wrote, so every optimizer's risk is the
    same function of its iterate (heavy ball with ``μ = 0`` is SGD bit for bit).

    Parameters
    ----------
    e : numpy.ndarray, shape (n, d)
        Errors, C-contiguous, float64 or float32.
    sqrt_lam : numpy.ndarray, shape (d,)
        ``Λ^{1/2}``, same dtype.

    Returns
    -------
    numpy.ndarray, shape (n,)

    Examples
    --------
    >>> row_norms(np.array([[3.0, 4.0], [0.0, 1.0]]), np.array([1.0, 0.5])).tolist()
    [13.0, 0.25]
    """
    out = np.empty(e.shape[0], dtype=e.dtype)
    _norms(e, sqrt_lam, out)
    return out


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
    acc = np.zeros(LANES)
    a = np.empty(d)  # Λ^{1/2} e of the row, formed once (the products the array version forms)
    full = d - d % LANES
    for r in range(n):
        norm, along, perp = _row_coefficients(q[r], gamma[r, 0], gamma[r, 1] if two_gammas else 0.0, normal[r, d], sigma)
        er = e[r]
        xr = normal[r]
        out = e_out[r]
        for i in range(d):
            a[i] = sqrt_lam[i] * er[i]
        if norm > 0:
            inv = 1.0 / norm
            coef = along - perp * _hat_dot(a, inv, xr, d, acc)
            for i in range(d):
                out[i] = er[i] - rate * (((a[i] * inv) * coef + perp * xr[i]) * scale[i])
        else:  # every unit vector serves as â: the first basis vector
            coef = along - perp * xr[0]
            for i in range(d):
                hat = 1.0 if i == 0 else 0.0
                out[i] = er[i] - rate * ((hat * coef + perp * xr[i]) * scale[i])
        # ‖Λ^{1/2} e‖² of the stored values, as row_norms sums it (the same products, the same lanes)
        for k in range(LANES):
            acc[k] = 0.0
        for base in range(0, full, LANES):
            for k in range(LANES):
                b = sqrt_lam[base + k] * out[base + k]
                acc[k] += b * b
        for i in range(full, d):
            b = sqrt_lam[i] * out[i]
            acc[i - full] += b * b
        q_out[r] = _lane_total(acc)


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
