"""The master bound's ε-exponents of growth schedules (docs/math.md#growth-schedules).

:func:`sfo_exponent` (exponential growth) and :func:`polynomial_sfo_exponent` are the numeric twins
of :func:`ramplab.proofs.growth_exponent` and :func:`ramplab.proofs.polynomial_growth_exponent`
(theory never imports proofs; the tests check that they agree).
"""

from __future__ import annotations

import math

from .._validate import finite_real, positive_real

__all__ = ["polynomial_sfo_exponent", "sfo_exponent"]


def sfo_exponent(gamma: float, delta: float) -> float:
    """The master bound's ε-exponent of the SFO complexity of exponential growth (norm convention).

    ``2 ln δ/(ln δ − ln γ)`` for ``γ < δ < γ²``, ``2 ln δ/ln γ`` for ``δ ≥ γ²`` (4 on the ridge
    ``δ = γ²``), ``inf`` when ``γ ≤ 1`` or ``δ ≤ γ`` (no polynomial rate). These exponents and the
    ridge as their minimum are this library's reconstruction from the bound (the papers print the
    guideline ``δ ≈ γ²``; docs/math.md#attribution); within the bound the ridge only matches the
    constant-critical-batch order ``ε^{−4}`` up to ``ln²(1/ε)``. ``ramplab proofs`` derives them
    and checks this function at sample points (docs/math.md#growth-schedules); what the exact
    dynamics measure is :func:`~theory.measure_growth_exponent`.

    Parameters
    ----------
    gamma, delta : float
        Learning-rate and batch growth factors per stage (positive).

    Returns
    -------
    float

    Raises
    ------
    ValueError, TypeError
        For a non-positive, non-finite or non-real factor, naming it.

    Examples
    --------
    >>> round(sfo_exponent(1.4, 2.0), 3), sfo_exponent(1.5, 2.25), sfo_exponent(1.2, 1.1)
    (4.12, 4.0, inf)
    """
    g, d = positive_real(gamma, "gamma"), positive_real(delta, "delta")
    if g <= 1.0 or d <= g:
        return math.inf
    x = math.log(d) / math.log(g)
    return 2.0 * x / (x - 1.0) if x < 2.0 else 2.0 * x


def polynomial_sfo_exponent(p: float, q: float) -> float:
    """The bound's ε-exponent ``2(p+1)/min(q+1, p−q)`` of polynomial growth (``inf`` for ``p ≤ q``).

    A reconstruction within the master bound, minimal (4) at ``p = 2q + 1`` (docs/math.md#attribution);
    ``ramplab proofs`` derives it and checks this function at sample points
    (docs/math.md#growth-schedules).

    Parameters
    ----------
    p, q : float
        Batch and learning-rate growth powers, ``p > 0``, ``q ≥ 0``.

    Returns
    -------
    float

    Raises
    ------
    ValueError, TypeError
        For an argument out of its domain or not a real number, naming it.

    Examples
    --------
    >>> polynomial_sfo_exponent(1.0, 0.0), polynomial_sfo_exponent(2.0, 0.0)
    (4.0, 6.0)
    """
    p = positive_real(p, "p")
    q = finite_real(q, "q", minimum=0.0)
    if p <= q:
        return math.inf
    return 2.0 * (p + 1.0) / min(q + 1.0, p - q)
