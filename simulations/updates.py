"""One step of every run: the gradient draw, the iterate update and the averaged-iterate update.

All functions act on ``(n, d)`` arrays of errors ``e = w − w*`` in the eigenbasis, one row per run,
through the array namespace ``xp``, and never modify their arguments.

- :func:`draw_gradient` — a batch gradient per run from the chosen sampler
  (:mod:`simulations.samplers`).
- :func:`iterate_update` — ``e ← e − η_t g_t`` (SGD, and NSGD with the expected denominator, whose
  deterministic rate ``η_t/sqrt(G_t)`` the caller passes) or ``e ← e − η_t g_t/‖g_t‖`` (NSGD with
  the conditional denominator; no step when ``g_t = 0``), docs/math.md#monte-carlo.
- :func:`averaged_update` — ``ē_t = (1 − ρ_t) ē_{t−1} + ρ_t e_t``, docs/math.md#iterate-averaging.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Sequence

from .samplers import direct_gradient, gaussian_exact_gradient
from .streams import BlockStream

__all__ = ["averaged_update", "draw_gradient", "iterate_update"]


def draw_gradient(
    xp: ModuleType,
    sampler: str,
    streams: Sequence[BlockStream],
    scaled_error: Any,
    norm_squared: Any,
    sqrt_eigenvalues: Any,
    batch: int,
    noise_std: float,
    data: str,
) -> Any:
    """Batch gradients ``(n, d)`` of every run, from ``sampler`` (``"gaussian-exact"`` or ``"direct"``).

    Parameters
    ----------
    scaled_error : array, shape (n, d)
        ``a = Λ^{1/2} e``.
    norm_squared : array, shape (n,)
        ``‖a‖²`` (used by the ``gaussian-exact`` sampler).
    batch : int
        Samples in the step's batch.
    noise_std : float
        Label-noise standard deviation ``σ``.
    data : str
        Data law of the ``direct`` sampler.
    """
    if sampler == "gaussian-exact":
        return gaussian_exact_gradient(xp, streams, scaled_error, norm_squared, sqrt_eigenvalues, batch, noise_std)
    return direct_gradient(xp, streams, scaled_error, sqrt_eigenvalues, batch, noise_std, data)


def iterate_update(xp: ModuleType, error: Any, gradient: Any, rate: float, conditional: bool) -> Any:
    """The errors ``(n, d)`` after one SGD or NSGD step.

    Parameters
    ----------
    xp : namespace
    error, gradient : array, shape (n, d)
    rate : float
        The deterministic rate of the step: ``η_t`` (SGD, conditional NSGD) or ``η_t/sqrt(G_t)``
        (NSGD with the expected denominator).
    conditional : bool
        Divide each run's step by its own ``‖g_t‖`` (a zero gradient gives no step).

    Examples
    --------
    >>> import numpy as np
    >>> e, g = np.array([[1.0, 1.0]]), np.array([[3.0, 4.0]])
    >>> iterate_update(np, e, g, 0.5, False).tolist(), iterate_update(np, e, g, 0.5, True).tolist()
    ([[-0.5, -1.0]], [[0.7, 0.6]])
    """
    if conditional:
        norm = xp.sqrt(xp.sum(gradient * gradient, axis=1))
        scale = xp.where(norm > 0, rate / xp.where(norm > 0, norm, 1.0), 0.0)
        return error - scale[:, None] * gradient
    return error - rate * gradient


def averaged_update(averaged: Any, error: Any, weight: float) -> Any:
    """``(1 − ρ) ē + ρ e``: the averaged errors after a step with averaging weight ``ρ ∈ (0, 1]``.

    Written as the convex combination (not ``ē + ρ (e − ē)``), so that ``ρ = 1`` gives ``e``
    exactly: before a tail average starts, the "average" is bitwise the last iterate.

    Examples
    --------
    >>> import numpy as np
    >>> averaged_update(np.array([[2.0]]), np.array([[4.0]]), 0.25).tolist()
    [[2.5]]
    """
    return (1.0 - weight) * averaged + weight * error
