"""Set-up shared by the Seesaw figures: stable learning rates and which points of a curve to plot."""

from __future__ import annotations

import math

import numpy as np

from ..theory import is_stable, Problem


def max_stable_lr(problem: Problem, batch: float) -> float:
    """Edge of the constant-(η, B) SGD stability region (bisection on ``is_stable``)."""
    lo, hi = 0.0, 4.0 / problem.largest_eigenvalue
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if is_stable(problem, mid, batch) else (lo, mid)
    return lo


def nsgd_peak_lr(problem: Problem, batch: float, margin: float) -> float:
    """An NSGD peak rate whose effective rate ``η/sqrt(E‖g‖²)`` stays below ``margin · η_max(B)``.

    ``E‖g‖² ≥ tr H σ²/B`` bounds the effective rate by ``η sqrt(B/(tr H σ²))`` whatever the state.
    """
    if problem.noise_variance <= 0:
        raise ValueError("nsgd_peak_lr needs label noise (σ² > 0) to bound the effective rate")
    return margin * max_stable_lr(problem, batch) * math.sqrt(problem.trace * problem.noise_variance / batch)


def plot_indices(n: int, max_points: int = 1500, always: np.ndarray | None = None) -> np.ndarray:
    """Indices ``0 … n−1`` to draw: all if few, else log-spaced (dense early) plus ``always``."""
    if n <= max_points:
        idx = np.arange(n)
    else:
        idx = np.unique(np.concatenate([
            np.geomspace(1, n, max_points // 2).astype(int) - 1,
            np.linspace(0, n - 1, max_points // 2).astype(int),
        ]))
    if always is not None:
        idx = np.unique(np.concatenate([idx, np.asarray(always, dtype=int)]))
    return idx[(idx >= 0) & (idx < n)]
