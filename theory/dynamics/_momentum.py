"""Exact heavy-ball momentum: the moment recursion, its stability, and torch's convention.

Heavy ball with per-step momentum ``μ_t`` (docs/math.md#heavy-ball-momentum), steps ``t = 0 … T−1``
in the solver's 0-based per-step indexing:

    w_{t+1} = w_t − η_t g_t + μ_t (w_t − w_{t−1}),      w_{−1} = w_0,

so step 0 has no momentum term (``μ_0`` is never used). Per eigen-coordinate the three moments
``S = E e_t²``, ``C = E e_t e_{t−1}``, ``P = E e_{t−1}²`` close exactly; with ``x = ηλ``,
``a = 1 + μ − x``, ``k = (κ − 2)/B`` and ``q = Σ m λ S``, all from the old moments,

    S ← (a² + k x²) S − 2aμ C + μ² P + (η²/B) λ (q + σ²),     C ← a S − μ C,     P ← S.

The gradient noise is the one of plain SGD (docs/math.md#sgd-second-moment-recursion) and NSGD
divides the step by ``sqrt(E‖g_t‖²)``, a function of ``S`` only (docs/math.md#normalized-sgd).
An iterate average ``ē_t = (1 − ρ_t) ē_{t−1} + ρ_t e_t`` adds ``A = E ē_t²``, ``X = E ē_t e_t`` and
``Y = E ē_t e_{t−1}`` (docs/math.md#heavy-ball-averaging).

The step itself (and :func:`~ramplab.theory.momentum_moment_step`) lives with every other update in
:mod:`._step`, and the solver runs it in the one loop of :mod:`._loop`. Public here:

- :func:`heavy_ball_momentum_of_torch_sgd` — the per-step ``μ_t`` of ``torch.optim.SGD(momentum=μ)``;
- :func:`is_stable_with_momentum`, :func:`momentum_stability_limit` — stability of a constant
  ``(η, μ, B)`` (docs/math.md#heavy-ball-stability).

:func:`~ramplab.theory.expected_risk` runs heavy ball given ``optimizer=HeavyBall(μ)``
(:class:`~ramplab.theory.HeavyBall`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._optimizers import checked_momentum
from .._validate import finite_real, positive_real, strict_real_array
from ..schedules._schedule import Schedule
from ._problem import Problem

__all__ = [
    "heavy_ball_momentum_of_torch_sgd",
    "is_stable_with_momentum",
    "momentum_stability_limit",
]


# ------------------------------------------------------------------------------ the argument
def resolve_momentum(momentum: Any, horizon: int, offset: int = 0) -> float | np.ndarray | None:
    """The ``momentum`` of a :class:`~ramplab.theory.HeavyBall` given to :func:`expected_risk`, checked: ``None`` when it is zero at every step, else a
    float in ``(0, 1)`` or a read-only float64 array of length ``horizon`` (the longest schedule).

    A number must lie in ``[0, 1)`` (a constant ``μ ≥ 1`` never contracts: the product of the two
    roots of ``z² − (1 + μ − ηλ) z + μ`` is ``μ``). Entries of an array must be finite and ``≥ 0``;
    single entries ``≥ 1`` are allowed, since torch's convention gives ``μ_t = μ η_t/η_{t−1} > 1``
    during a warmup (:func:`heavy_ball_momentum_of_torch_sgd`). ``offset``: the step the run continues
    from (``initial_state``); from a step ``> 0`` the array's first entry is used too.
    """
    mu = checked_momentum(momentum)  # HeavyBall's own checks (errors name ``momentum``)
    if not isinstance(mu, np.ndarray):
        return None if mu == 0.0 else mu
    if mu.shape[0] != horizon:
        raise ValueError(f"momentum must have one entry per step of the longest schedule ({horizon}); "
                         f"got {mu.shape[0]}")
    if not np.any(mu[(1 if offset == 0 else 0):] != 0.0):  # μ_0 of a fresh run is never used
        return None
    return mu


# ------------------------------------------------------------------------------ torch's convention
def heavy_ball_momentum_of_torch_sgd(lrs: Any, momentum: float) -> np.ndarray:
    """Per-step heavy-ball ``μ_t`` equivalent to ``torch.optim.SGD(momentum=μ, dampening=0)``.

    torch keeps a buffer ``b_t = μ b_{t−1} + g_t`` (``b_0 = g_0``) and steps ``w_{t+1} = w_t − η_t b_t``.
    Since ``w_t − w_{t−1} = −η_{t−1} b_{t−1}``, this is heavy ball with ``μ_t = μ η_t/η_{t−1}``
    (docs/math.md#heavy-ball-momentum): the two agree exactly when the rate is constant and differ
    whenever it changes. Pass the result as ``expected_risk(..., HeavyBall(μ_t))``.

    Parameters
    ----------
    lrs : Schedule or array_like of shape (T,)
        Per-step learning rates ``η_0 … η_{T−1}`` (finite, ≥ 0), or a schedule (its per-step rates).
    momentum : float
        torch's ``momentum`` argument, ``μ ∈ [0, 1)``.

    Returns
    -------
    ndarray, shape (T,)
        ``μ_t = μ η_t/η_{t−1}`` for ``t ≥ 1``; ``μ_0 = μ`` (step 0 has no momentum term, so it is
        never used). ``μ_t = 0`` where ``η_t = η_{t−1} = 0``. A warmup gives ``μ_t > μ``, possibly > 1.

    Raises
    ------
    TypeError
        If ``lrs`` is not a schedule or real numbers, or ``momentum`` is not a real number.
    ValueError
        If ``momentum`` is outside ``[0, 1)``, ``lrs`` is not a non-empty 1-D array of finite values
        ``≥ 0``, or a positive rate follows a zero rate with ``μ > 0``: torch's buffer keeps the
        gradients of the steps it did not apply, which no heavy-ball ``μ_t`` represents.

    See Also
    --------
    ramplab.theory.expected_risk

    Examples
    --------
    >>> heavy_ball_momentum_of_torch_sgd([0.4, 0.4, 0.2, 0.1], 0.9).round(3).tolist()
    [0.9, 0.9, 0.45, 0.45]
    """
    mu = finite_real(momentum, "momentum")
    if not 0.0 <= mu < 1.0:
        raise ValueError(f"momentum must lie in [0, 1); got {momentum!r:.80}")
    if isinstance(lrs, Schedule):
        eta = lrs.step_arrays()[0]
    else:
        eta = strict_real_array(lrs, "lrs")
        if eta.ndim != 1 or eta.size == 0:
            raise ValueError(f"lrs must be a Schedule or a non-empty 1-D array of rates; got shape {eta.shape}")
        if not np.all(np.isfinite(eta) & (eta >= 0)):
            raise ValueError(f"lrs must hold finite rates ≥ 0; got {lrs!r:.80}")
    out = np.empty(eta.shape[0])
    out[0] = mu
    prev, cur = eta[:-1], eta[1:]
    stuck = (prev == 0.0) & (cur > 0.0)
    if mu > 0.0 and stuck.any():
        t = int(np.argmax(stuck)) + 1
        raise ValueError(f"lrs is 0 at step {t - 1} and positive at step {t} (0-based): torch's momentum buffer holds "
                         f"gradients that were never applied, which heavy ball cannot represent")
    with np.errstate(over="ignore"):
        ratio = np.where(prev > 0.0, cur / np.where(prev > 0.0, prev, 1.0), 0.0)
    out[1:] = mu * ratio
    if not np.all(np.isfinite(out)):
        raise ValueError(f"lrs changes by more than float64 can hold between two steps; got {lrs!r:.80}")
    return out


# ------------------------------------------------------------------------------ stability
def _stability_parts(problem: Any, momentum: Any, batch: Any) -> tuple[np.ndarray, np.ndarray, float, float, float]:
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {problem!r:.80}")
    mu = finite_real(momentum, "momentum")
    if not 0.0 <= mu < 1.0:
        raise ValueError(f"momentum must lie in [0, 1); got {momentum!r:.80}")
    batch = finite_real(batch, "batch", minimum=1.0)
    return problem.eigenvalues, problem.multiplicity, mu, batch, (problem.kurtosis - 2.0) / batch


def _stable(lam: np.ndarray, m: np.ndarray, lr: float, mu: float, batch: float, kb: float) -> bool:
    """``(I − M)^{-1} b`` in the interior of the cone for ``b`` = identity covariances (docs/math.md#heavy-ball-stability)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        x = lr * lam
        a = (1.0 + mu) - x
        den = x * ((1.0 - mu) * (2.0 * (1.0 + mu) - x) - (1.0 + mu) * kb * x)  # det(I − T_i)
        if not np.all(np.isfinite(den)) or np.any(den == 0.0):
            return False
        sy = (1.0 + mu) * (1.0 + mu * mu) / den  # S of (I − T_i)^{-1} (1, 0, 1)
        sz = (1.0 + mu) * x * x / (batch * den)  # S of (I − T_i)^{-1} (η²λ_i/B, 0, 0), times m_i λ_i / λ_i
        loop = 1.0 - float(np.sum(m * sz))
        if not (math.isfinite(loop) and loop != 0.0):
            return False
        total = float(np.sum(m * lam * sy)) / loop
        s = sy + total * sz / lam
        if not np.all(np.isfinite(s)):
            return False
        ratio = (a / (1.0 + mu)) ** 2
        # v_i = (S, aS/(1+μ), S + 1): interior iff S > 0 and S (S + 1) > a² S²/(1 + μ)².
        return bool(np.all(s > 0.0) and np.all(1.0 > s * (ratio - 1.0)))


def is_stable_with_momentum(problem: Problem, lr: float, momentum: float, batch: float) -> bool:
    """Whether constant-(η, μ, B) heavy ball has bounded second moments (docs/math.md#heavy-ball-stability).

    Exactly ``ρ(M) < 1`` for the coupled moment map ``M`` of all coordinates: ``M`` maps the cone of
    per-coordinate 2×2 covariances of ``(e_t, e_{t−1})`` into itself, so ``ρ(M) < 1`` iff
    ``v = (I − M)^{-1} b`` lies inside the cone for ``b`` = identity covariances; ``v`` is O(d) because
    the coordinates couple through one rank-one term.

    Parameters
    ----------
    problem : Problem
        The regression problem (its multiplicities, if any, weight the coupling).
    lr : float
        Learning rate ``η > 0`` (per step).
    momentum : float
        ``μ ∈ [0, 1)``.
    batch : float
        Batch size ``B ≥ 1`` (samples per step).

    Returns
    -------
    bool

    Raises
    ------
    TypeError, ValueError
        For a bad argument (named).

    See Also
    --------
    momentum_stability_limit
    ramplab.theory.is_stable : the same question without momentum.

    Examples
    --------
    One coordinate, Gaussian data, ``B = 1``: the limit is ``3/7`` at ``μ = 1/2`` (2/3 without momentum).

    >>> p = Problem([1.0], [1.0])
    >>> is_stable_with_momentum(p, 0.42, 0.5, 1), is_stable_with_momentum(p, 0.43, 0.5, 1)
    (True, False)
    """
    lam, m, mu, batch, kb = _stability_parts(problem, momentum, batch)
    lr = positive_real(lr, "lr")
    return _stable(lam, m, lr, mu, batch, kb)


def momentum_stability_limit(problem: Problem, momentum: float, batch: float) -> float:
    """Largest stable constant learning rate of heavy ball at momentum ``μ`` and batch ``B``.

    Stability is :func:`is_stable_with_momentum` (exact, docs/math.md#heavy-ball-stability). The
    stable rates form an interval ``(0, η*)`` below the noiseless limit ``2(1 + μ)/λ_max`` (the tests
    check the interval shape on grids); ``η*`` is found by bisection to the last few bits, and the
    value returned is stable.

    Parameters
    ----------
    problem : Problem
        The regression problem.
    momentum : float
        ``μ ∈ [0, 1)``.
    batch : float
        Batch size ``B ≥ 1`` (samples per step).

    Returns
    -------
    float
        ``η*`` (per step): stable at it, unstable at ``η*(1 + 1e-12)``.

    Raises
    ------
    TypeError, ValueError
        For a bad argument (named).

    See Also
    --------
    is_stable_with_momentum

    Examples
    --------
    Without noise coupling the limit is ``2(1 + μ)/λ``; the noise lowers it:

    >>> p = Problem([1.0], [1.0])
    >>> round(momentum_stability_limit(p, 0.5, 1e12), 6)
    3.0
    >>> round(momentum_stability_limit(p, 0.0, 1), 6)   # SGD, Gaussian, B = 1: 2/(c + 1) = 2/3
    0.666667
    """
    lam, m, mu, batch, kb = _stability_parts(problem, momentum, batch)
    top = float(np.max(lam))
    hi = 2.0 * (1.0 + mu) / top
    while _stable(lam, m, hi, mu, batch, kb):  # not expected (the mean dynamics diverge there): guard
        hi *= 2.0
        if not math.isfinite(hi):
            raise ValueError("no unstable learning rate found for this problem, momentum and batch")
    lo = hi
    for _ in range(2100):
        lo *= 0.5
        if lo == 0.0:
            raise ValueError("no stable learning rate found for this problem, momentum and batch (the "
                             "eigenvalues span more than float64 resolves)")
        if _stable(lam, m, lo, mu, batch, kb):
            break
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi:
            break
        if _stable(lam, m, mid, mu, batch, kb):
            lo = mid
        else:
            hi = mid
    return lo
