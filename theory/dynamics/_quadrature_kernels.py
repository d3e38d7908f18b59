"""Compiled passes over the slow coordinates for the quadrature reduction (docs/math.md#quadrature-reduction).

:func:`chebyshev_moments_into` forms the modified moments ``∫ p_k dμ_r`` of several measures on one set of
points by the monic Chebyshev three-term recurrence, in blocks of points so that the recurrence stays in
cache, and :func:`power_moments_into` the power moments ``Σ w (x/top)^j``, ``j = 1, 2, 3``, that check the
rules. Sums run in a fixed order (within a block, then block by block), so results are deterministic; they
differ from NumPy's ``einsum`` by rounding.

Without numba this module imports and ``AVAILABLE`` is False; :mod:`._quadrature` then uses NumPy.
"""

from __future__ import annotations

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

__all__ = ["AVAILABLE", "chebyshev_moments_into", "power_moments_into"]

_BLOCK = 512


@njit(cache=True, fastmath=False, nogil=True)
def _dot(w: np.ndarray, p: np.ndarray, size: int) -> float:  # pragma: no cover - compiled
    # Four interleaved partial sums (fixed order), so that the adds do not wait on each other.
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    i = 0
    while i + 4 <= size:
        s0 += w[i] * p[i]
        s1 += w[i + 1] * p[i + 1]
        s2 += w[i + 2] * p[i + 2]
        s3 += w[i + 3] * p[i + 3]
        i += 4
    while i < size:
        s0 += w[i] * p[i]
        i += 1
    return (s0 + s1) + (s2 + s3)


@njit(cache=True, fastmath=False, nogil=True)
def chebyshev_moments_into(t: np.ndarray, w: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``out[r, k] = Σ_i w[r, i] p_k(t_i)`` for the monic Chebyshev polynomials of ``[−1, 1]``
    (``p_0 = 1``, ``p_1 = t``, ``p_2 = t p_1 − ½``, ``p_{k+1} = t p_k − ¼ p_{k−1}``)."""
    rows, n = w.shape
    count = out.shape[1]
    out[:, :] = 0.0
    prev = np.empty(_BLOCK)
    cur = np.empty(_BLOCK)
    for lo in range(0, n, _BLOCK):
        size = min(_BLOCK, n - lo)
        tb = t[lo:lo + size]
        for i in range(size):
            prev[i] = 0.0
            cur[i] = 1.0
        for k in range(count):
            for r in range(rows):
                out[r, k] += _dot(w[r, lo:lo + size], cur, size)
            b = 0.0 if k == 0 else (0.5 if k == 1 else 0.25)
            for i in range(size):
                nxt = tb[i] * cur[i] - b * prev[i]
                prev[i] = cur[i]
                cur[i] = nxt


@njit(cache=True, fastmath=False, nogil=True)
def power_moments_into(x: np.ndarray, w: np.ndarray, top: float, out: np.ndarray) -> None:  # pragma: no cover
    """``out[r, j − 1] = Σ_i w[r, i] (x_i / top)^j`` for ``j = 1, 2, 3``."""
    rows, n = w.shape
    out[:, :] = 0.0
    for lo in range(0, n, _BLOCK):
        hi = min(n, lo + _BLOCK)
        for r in range(rows):
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            for i in range(lo, hi):
                u = x[i] / top
                v = w[r, i] * u
                s1 += v
                v *= u
                s2 += v
                s3 += v * u
            out[r, 0] += s1
            out[r, 1] += s2
            out[r, 2] += s3
