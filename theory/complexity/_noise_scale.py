"""The gradient noise scale at exact second moments (docs/math.md#gradient-noise-scale).

On noisy linear regression with diagonal ``H = diag(λ)`` the per-sample gradient at ``w`` is
``g = x(xᵀe − ξ)`` with ``e = w − w*``. Its mean is ``G = He`` and, given ``e``, its covariance has trace
``tr H (eᵀHe + σ²) + (κ−2) Σ λ_i² e_i²``. Over the iterate's randomness only the second moments
``s_i = E e_i²`` enter, so every term of McCandlish et al. (2018)'s noise scale is a sum over the exact
solver's state:

- ``|G|²   = Σ λ_i² s_i``,             ``tr Σ   = (κ−2) Σ λ_i² s_i + tr H (q + σ²)``,
- ``GᵀHG   = Σ λ_i³ s_i``,             ``tr(HΣ) = (κ−2) Σ λ_i³ s_i + (Σ λ_i²)(q + σ²)``,

with ``q = Σ λ_i s_i`` (twice the excess risk), each term an expectation over the iterate.
``B_simple = tr Σ / |G|²`` and ``B_noise = tr(HΣ) / GᵀHG`` are ratios of expectations; a Monte Carlo
that averages per-run ratios measures ``E[ratio]``, which differs (Jensen).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._frozen import FrozenRecord
from .._validate import check_range, describe, finite_real, strict_real_array
from ..dynamics import Problem, RiskTrajectory, SolverState
from ._bounds import check_problem

__all__ = ["GradientNoiseScale", "gradient_noise_scale"]


@dataclass(frozen=True, eq=False)
class GradientNoiseScale(FrozenRecord):
    """The gradient noise scale and its four terms at one or more exact states.

    Every array has shape ``(K,)``: one entry per state (a trajectory's kept states in step order,
    or ``(1,)`` for one state). Per-sample quantities: a batch of ``B`` samples has covariance
    ``Σ/B`` (docs/math.md#gradient-noise-scale; McCandlish et al. 2018, arXiv 1812.06162).

    Attributes
    ----------
    steps : ndarray of int64, shape (K,)
        The step of each state (``-1`` for second moments given as an array).
    grad_norm_sq : ndarray, shape (K,)
        ``|G|² = E|He|² = Σ λ_i² s_i``.
    trace_cov : ndarray, shape (K,)
        ``tr Σ = (κ−2) Σ λ_i² s_i + tr H (q + σ²)``, the one-sample gradient's total variance.
    grad_hessian_grad : ndarray, shape (K,)
        ``GᵀHG = Σ λ_i³ s_i``.
    trace_hessian_cov : ndarray, shape (K,)
        ``tr(HΣ) = (κ−2) Σ λ_i³ s_i + (Σ λ_i²)(q + σ²)``.
    b_simple, b_noise : ndarray, shape (K,)
        ``tr Σ / |G|²`` and ``tr(HΣ) / GᵀHG`` in samples (``inf`` where the denominator is 0, at the
        optimum).

    Examples
    --------
    The noise scale grows as a run approaches the optimum (the gradient's mean shrinks, its noise
    does not):

    >>> from ramplab.theory import Problem, Schedule, expected_risk
    >>> p = Problem.power_law(d=100, a=1.5, b=1.0, noise_variance=0.1)
    >>> run = expected_risk(p, Schedule.constant(0.5, 8, steps=1000), checkpoints=[0, 100, 1000], keep_states=True)
    >>> gradient_noise_scale(p, run).b_noise.round(1).tolist()
    [6.9, 27.3, 27.5]
    """

    steps: np.ndarray
    grad_norm_sq: np.ndarray
    trace_cov: np.ndarray
    grad_hessian_grad: np.ndarray
    trace_hessian_cov: np.ndarray

    @property
    def b_simple(self) -> np.ndarray:
        """``B_simple = tr Σ / |G|²`` (samples), shape (K,)."""
        return _ratio(self.trace_cov, self.grad_norm_sq)

    @property
    def b_noise(self) -> np.ndarray:
        """``B_noise = tr(HΣ) / GᵀHG`` (samples), shape (K,)."""
        return _ratio(self.trace_hessian_cov, self.grad_hessian_grad)

    def optimal_lr(self, batch: Any) -> np.ndarray:
        """The learning rate that minimises the expected loss after one SGD step of batch ``batch``.

        ``ε*(B) = |G|² / (GᵀHG + tr(HΣ)/B)`` (McCandlish et al. 2018, eq. 2.6 on a quadratic).

        Parameters
        ----------
        batch : float
            Batch size ``B ≥ 1`` (samples).

        Returns
        -------
        ndarray, shape (K,)

        Raises
        ------
        ValueError
            For a batch below 1 or not finite.
        """
        b = finite_real(batch, "batch", minimum=1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.grad_norm_sq / (self.grad_hessian_grad + self.trace_hessian_cov / b)

    def loss_decrease(self, batch: Any) -> np.ndarray:
        """The expected excess-risk decrease of one SGD step of batch ``batch`` at :meth:`optimal_lr`.

        ``ΔL_max / (1 + B_noise/B)`` with ``ΔL_max = |G|⁴ / (2 GᵀHG)`` (McCandlish et al. 2018).

        Parameters
        ----------
        batch : float
            Batch size ``B ≥ 1`` (samples).

        Returns
        -------
        ndarray, shape (K,)
            Non-negative; the risk after the step is the risk before minus this.

        Raises
        ------
        ValueError
            For a batch below 1 or not finite.
        """
        b = finite_real(batch, "batch", minimum=1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            best = self.grad_norm_sq**2 / (2.0 * self.grad_hessian_grad)
            return np.where(self.grad_hessian_grad > 0, best / (1.0 + self.b_noise / b), 0.0)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.inf)


def _second_moments(problem: Problem, at: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, s)`` with ``s`` of shape (K, d) from a trajectory, a state or an array."""
    if isinstance(at, RiskTrajectory):
        if not at.states:
            raise ValueError("at has no kept states (the run diverged before its first kept state)")
        steps = sorted(at.states)
        s = np.stack([at.states[t].second_moment[0] for t in steps])
        return np.asarray(steps, dtype=np.int64), s
    if isinstance(at, SolverState):
        return np.asarray([at.step], dtype=np.int64), np.asarray(at.second_moment[:1], dtype=np.float64)
    s = strict_real_array(at, "at")
    if s.ndim not in (1, 2) or s.shape[-1] != problem.dimension:
        raise ValueError(f"at must be a RiskTrajectory, a SolverState or second moments of shape (d,) or (K, d) "
                         f"with d = problem.dimension = {problem.dimension}; got shape {s.shape}")
    check_range(s, "at", lower=0.0, original=at)
    s = np.atleast_2d(s)
    return np.full(s.shape[0], -1, dtype=np.int64), s


def gradient_noise_scale(problem: Problem, at: Any) -> GradientNoiseScale:
    """The gradient noise scale ``B_simple``, ``B_noise`` and their terms at exact second moments.

    Parameters
    ----------
    problem : Problem
        The problem the states belong to (its multiplicities weight the sums).
    at : RiskTrajectory, SolverState or array_like
        A trajectory (every state it kept: the last step always, every checkpoint with
        ``expected_risk(..., checkpoints=..., keep_states=True)``), one
        :class:`~ramplab.theory.SolverState` (its full run's second moments), or second moments
        ``E(w − w*)_i²`` of shape ``(d,)`` or ``(K, d)``.

    Returns
    -------
    GradientNoiseScale
        Arrays of shape ``(K,)``: ``grad_norm_sq``, ``trace_cov``, ``grad_hessian_grad``,
        ``trace_hessian_cov``, ``b_simple``, ``b_noise``.

    Raises
    ------
    TypeError
        For a ``problem`` that is not a :class:`Problem`, or ``at`` of another type or with
        non-real entries.
    ValueError
        For second moments of the wrong shape, negative or not finite, a state of another dimension,
        or terms beyond float64.

    Notes
    -----
    docs/math.md#gradient-noise-scale derives each term (any kurtosis ``κ``); McCandlish et al.,
    *An Empirical Model of Large-Batch Training*, arXiv 1812.06162.

    Examples
    --------
    At ``w₀ = 0`` on ``λ = (1, 1/2)``, ``s(0) = (1, 2)``, ``σ² = 1/2``, Gaussian data:
    ``|G|² = 1 + 1/2``, ``tr Σ = |G|² + tr H (q + σ²) = 1.5 + 1.5 · 2.5``:

    >>> from ramplab.theory import Problem
    >>> g = gradient_noise_scale(Problem([1.0, 0.5], [1.0, 2.0], noise_variance=0.5), [1.0, 2.0])
    >>> float(g.grad_norm_sq[0]), float(g.trace_cov[0]), float(g.b_simple[0])
    (1.5, 5.25, 3.5)
    >>> float(g.b_noise[0]), round(float(g.optimal_lr(8)[0]), 4)    # 4.375 / 1.25;  1.5 / (1.25 + 4.375/8)
    (3.5, 0.8348)
    """
    problem = check_problem(problem)
    steps, s = _second_moments(problem, at)
    if s.shape[-1] != problem.dimension:
        raise ValueError(f"at has states of dimension {s.shape[-1]}; problem.dimension is {problem.dimension}")
    lam, m = problem.eigenvalues, problem.multiplicity
    w1, w2, w3 = m * lam, m * lam**2, m * lam**3
    kappa, sigma2 = problem.kurtosis, problem.noise_variance
    with np.errstate(over="ignore", invalid="ignore"):
        q = s @ w1
        g2, ghg = s @ w2, s @ w3
        trace_cov = (kappa - 2.0) * g2 + float(np.sum(w1)) * (q + sigma2)
        trace_hcov = (kappa - 2.0) * ghg + float(np.sum(w2)) * (q + sigma2)
    terms = (g2, np.maximum(trace_cov, 0.0), ghg, np.maximum(trace_hcov, 0.0))
    if not all(np.all(np.isfinite(t)) for t in terms):
        raise ValueError(f"the gradient noise scale's terms overflow float64 at={describe(at)} on problem={problem!r}")
    arrays = []
    for t in (steps,) + terms:
        t = np.array(t)
        t.flags.writeable = False
        arrays.append(t)
    return GradientNoiseScale(*arrays)
