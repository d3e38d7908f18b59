"""The exact step: every per-coordinate update of the solver state, written once.

The state of the exact solver is, per eigen-coordinate ``i``, the error second moment
``s_i = E e_i²`` (``e = w − w*``) and, with heavy-ball momentum or iterate averaging, its companions.
One step at rate ``η`` (for NSGD the effective rate, docs/math.md#normalized-sgd) and batch ``B``
reads, from the state *before* the step, ``q = Σ m λ s`` and ``x_i = ηλ_i`` and writes
(docs/math.md#sgd-second-moment-recursion, #iterate-averaging, #heavy-ball-momentum,
#heavy-ball-averaging). Each formula function calls no other (numba compiles them one by one):

==========================  =========================================================================
SGD / NSGD                  ``s ← (1 − x(2 − c x)) s + k λ``,  ``c = 1 + (κ − 2)/B``,  ``k = η²/B (q + σ²)``
averaging (SGD)             ``X ← (1 − x) X``, then ``A ← (1−ρ)² A + ρ² s + 2ρ(1−ρ) X``, ``X ← (1−ρ) X + ρ s``
heavy ball                  ``a = 1 + μ − x``: ``s ← (a² + (κ−2)/B x²) s − 2μ a C + μ² P + k λ``,
                            ``C ← a s − μ C``, ``P ← s`` (all from the old moments)
averaging (heavy ball)      ``Z = a X − μ Y``: ``Y ← (1−ρ) X + ρ C``, ``X ← (1−ρ) Z + ρ s``,
                            ``A ← (1−ρ)² A + ρ² s + 2ρ(1−ρ) Z``
weight decay (SGD / NSGD)   ``u = η_sched ω``, ``m = 1 − u − x``: ``s ← (m² + (κ−2)/B x²) s + k λ + u(u W − 2 m T)``,
                            ``T ← m T − u W``
weight decay, averaging     ``Z = m X − u G``, then the averaging rows above, and ``G ← (1−ρ) G + ρ T``
weight decay (heavy ball)   ``m = 1 + μ − u − x``: ``s ← (m² + (κ−2)/B x²) s − 2μ m C + μ² P + k λ
                            + u(u W − 2(m T − μ F))``, ``C ← m s − μ C − u T``, ``T ← m T − μ F − u W``,
                            ``F ← T``, ``P ← s``; averaging: ``Z = m X − μ Y − u G``
==========================  =========================================================================

with ``A = E ē²``, ``X = E ē e`` and ``Y = E ē_t e_{t−1}`` for the average ``ē``, and
``C = E e_t e_{t−1}``, ``P = E e_{t−1}²`` for heavy ball; with weight decay
(docs/math.md#weight-decay) ``W = E w*²`` (``= s(0)`` for ``w_0 = 0``), ``T = E e_t w*``,
``F = E e_{t−1} w*`` and ``G = E ē_t w*``. The functions below are those formulas
and nothing else: pure arithmetic, so the same function advances a whole ``(rows, d)`` array of any
array API backend (the reference loop of :mod:`._loop`) and one float inside the compiled kernels
(:mod:`._kernels` compiles these very functions with numba and inlines them). The CuPy element-wise
kernels (:mod:`._cupy_kernels`) spell the same operations in CUDA C, in the same order.

Public here: :func:`second_moment_step` and :func:`momentum_moment_step` (one step with every
argument checked), :func:`gradient_second_moment` (``E‖g‖²`` at a state).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from array_api_compat import is_numpy_namespace

from .._validate import check_range, finite_real, real_vector, strict_real_array
from ._problem import Problem

__all__ = ["gradient_second_moment", "momentum_moment_step", "second_moment_step"]

#: How often (in steps, counted from step 0 of the run that started the trajectory) every loop
#: looks for a non-finite state (docs/math.md#divergence): the one divergence check interval.
DIVERGENCE_CHECK_EVERY = 256


# ----------------------------------------------------------------------------- the formulas
def batch_factor(kappa_excess: Any, batch: Any) -> Any:
    """``c = 1 + (κ − 2)/B``, the fourth-moment factor of the step's contraction."""
    return 1.0 + kappa_excess / batch


def noise_gain(lr: Any, batch: Any) -> Any:
    """``η²/B``: how much of ``λ_i (q + σ²)`` one step adds to ``s_i`` (the rank-one coupling of the step)."""
    return lr * lr / batch


def noise_coefficient(lr: Any, batch: Any, q: Any, noise_variance: Any) -> Any:
    """``k = (η²/B)(q + σ²)``: the step's additive term is ``k λ_i``.

    Written out (not through :func:`noise_gain`): the kernels compile this function alone. Ordered as
    ``η (η ((q + σ²)/B))`` so that no intermediate underflows needlessly: ``η²`` alone is subnormal
    from ``η ≈ 1.5e-154`` on (and lost from 1e-162), while the product with ``q + σ²`` may be a normal
    number (``B ≥ 1`` makes ``(q + σ²)/B`` no smaller than it must be).
    """
    return lr * (lr * ((q + noise_variance) / batch))


def gradient_norm2(c: Any, mean: Any, trace: Any, batch: Any, q: Any, noise_variance: Any) -> Any:
    """``G = E‖g‖² = c Σ m λ² s + (tr H / B)(q + σ²)`` (docs/math.md#normalized-sgd)."""
    return c * mean + (trace / batch) * (q + noise_variance)


def sgd_second_moment(s: Any, x: Any, c: Any, k: Any, lam: Any) -> Any:
    """``(1 − x(2 − c x)) s + k λ``, i.e. ``(1 − x)² s + (κ − 2)x²/B s + η²λ/B (q + σ²)`` with fewer passes."""
    return (1.0 - x * (2.0 - c * x)) * s + k * lam


def contraction(x: Any, c: Any) -> Any:
    """``1 − D = x(2 − c x)``: one minus the diagonal of the step's linear part (docs/math.md#stability)."""
    return x * (2.0 - c * x)


def average_weights(rho: float) -> tuple[float, float, float, float]:
    """``(1 − ρ, (1 − ρ)², ρ², 2ρ(1 − ρ))`` for an averaging step of weight ``ρ``."""
    keep = 1.0 - rho
    return keep, keep * keep, rho * rho, 2.0 * rho * keep


def sgd_moved_cross(cross: Any, x: Any) -> Any:
    """``E ē_{t} e_{t+1}`` from ``X = E ē_t e_t``: ``(1 − x) X`` (the noise is independent of ``ē_t``)."""
    return (1.0 - x) * cross


def averaged_second_moment(a: Any, s: Any, moved: Any, alpha: float, beta: float, gamma: float) -> Any:
    """``A ← (1−ρ)² A + ρ² s + 2ρ(1−ρ) Z`` with ``Z = E ē_t e_{t+1}`` and the new ``s``."""
    return alpha * a + beta * s + gamma * moved


def averaged_cross(moved: Any, s: Any, keep: float, rho: float) -> Any:
    """``X ← (1 − ρ) Z + ρ s``: ``E ē_{t+1} e_{t+1}``."""
    return keep * moved + rho * s


def heavy_ball_second_moment(s: Any, c: Any, p: Any, x: Any, a: Any, kb: Any, mu: Any, k: Any, lam: Any) -> Any:
    """``(a² + kb x²) s − 2μ a C + μ² P + k λ`` with ``a = 1 + μ − x`` and ``kb = (κ − 2)/B``."""
    return (a * a + kb * (x * x)) * s - (2.0 * mu) * (a * c) + (mu * mu) * p + k * lam


def heavy_ball_cross(s: Any, c: Any, a: Any, mu: Any) -> Any:
    """``C ← a s − μ C``: ``E e_{t+1} e_t`` from the old ``s = E e_t²`` and ``C = E e_t e_{t−1}``."""
    return a * s - mu * c


def heavy_ball_moved_cross(x_avg: Any, y_avg: Any, a: Any, mu: Any) -> Any:
    """``Z = E ē_t e_{t+1} = a X − μ Y`` (the noise is independent of the past)."""
    return a * x_avg - mu * y_avg


def decay_second_moment(s: Any, t: Any, w: Any, x: Any, m: Any, kb: Any, u: Any, k: Any, lam: Any) -> Any:
    """``(m² + kb x²) s + k λ + u (u W − 2 m T)`` with ``m = 1 − u − x``: SGD/NSGD with weight decay ``u = ηω``."""
    return (m * m + kb * (x * x)) * s + k * lam + u * (u * w - 2.0 * (m * t))


def decay_target_moment(t: Any, w: Any, m: Any, u: Any) -> Any:
    """``T ← m T − u W``: ``E e_{t+1} w*`` from ``T = E e_t w*`` and ``W = E w*²`` (SGD/NSGD with decay)."""
    return m * t - u * w


def decay_moved_cross(x_avg: Any, g_avg: Any, m: Any, u: Any) -> Any:
    """``Z = E ē_t e_{t+1} = m X − u G`` (SGD/NSGD with decay; ``G = E ē_t w*``)."""
    return m * x_avg - u * g_avg


def heavy_ball_decay_second_moment(s: Any, c: Any, p: Any, t: Any, f: Any, w: Any, x: Any, m: Any, kb: Any,
                                   mu: Any, u: Any, k: Any, lam: Any) -> Any:
    """``(m² + kb x²) s − 2μ m C + μ² P + k λ + u (u W − 2 (m T − μ F))`` with ``m = 1 + μ − u − x``."""
    return ((m * m + kb * (x * x)) * s - (2.0 * mu) * (m * c) + (mu * mu) * p + k * lam
            + u * (u * w - 2.0 * (m * t - mu * f)))


def heavy_ball_decay_cross(s: Any, c: Any, t: Any, m: Any, mu: Any, u: Any) -> Any:
    """``C ← m s − μ C − u T``: ``E e_{t+1} e_t`` with weight decay."""
    return m * s - mu * c - u * t


def heavy_ball_decay_target(t: Any, f: Any, w: Any, m: Any, mu: Any, u: Any) -> Any:
    """``T ← m T − μ F − u W``: ``E e_{t+1} w*`` from ``T = E e_t w*`` and ``F = E e_{t−1} w*``."""
    return m * t - mu * f - u * w


def heavy_ball_decay_moved_cross(x_avg: Any, y_avg: Any, g_avg: Any, m: Any, mu: Any, u: Any) -> Any:
    """``Z = E ē_t e_{t+1} = m X − μ Y − u G`` (heavy ball with decay)."""
    return m * x_avg - mu * y_avg - u * g_avg


def nsgd_rate(lr: float, g2: float) -> float:
    """``η / sqrt(G)``, and 0 when ``G`` is not positive (zero gradient almost surely: no step)."""
    return lr / math.sqrt(g2) if g2 > 0.0 else 0.0


def nsgd_rates(xp: Any, lr: Any, g2: Any) -> Any:
    """:func:`nsgd_rate` on arrays of namespace ``xp``."""
    positive = g2 > 0
    return xp.where(positive, lr / xp.sqrt(xp.where(positive, g2, 1.0)), 0.0)


def clamp_sgd(xp: Any, v: Any) -> Any:
    """The SGD moment is ≥ 0 exactly for κ ≥ 1; rounding with κ < 2 can leave −1e-17: clamp (NaN stays)."""
    return xp.where(v < 0.0, 0.0, v)


def clamp_heavy_ball(xp: Any, v: Any) -> Any:
    """A heavy-ball variance: −1e-17 from rounding becomes (−)0, and −inf NaN, never a finite 0."""
    return xp.where(v < 0.0, 0.0 * v, v)


# ----------------------------------------------------------------------------- one step, on arrays
def sgd_step(xp: Any, s: Any, lam: Any, lr: Any, batch: Any, noise: Any, kappa_excess: float, q: Any) -> Any:
    """The SGD/NSGD step on a ``(rows, d)`` state with per-row columns ``lr, batch, noise, q`` (no checks)."""
    x = lr * lam
    c = batch_factor(kappa_excess, batch)
    return clamp_sgd(xp, sgd_second_moment(s, x, c, noise_coefficient(lr, batch, q, noise), lam))


def heavy_ball_step(xp: Any, s: Any, c: Any, p: Any, lam: Any, lr: Any, mu: Any, batch: Any, noise: Any,
                    kappa_excess: float, q: Any) -> tuple[Any, Any, Any]:
    """The heavy-ball step on ``(rows, d)`` moments ``S, C, P`` with per-row columns (no checks)."""
    x = lr * lam
    a = (1.0 + mu) - x
    new = heavy_ball_second_moment(s, c, p, x, a, kappa_excess / batch, mu, noise_coefficient(lr, batch, q, noise),
                                   lam)
    return clamp_heavy_ball(xp, new), heavy_ball_cross(s, c, a, mu), s


def decay_step(xp: Any, s: Any, t: Any, w: Any, lam: Any, lr: Any, u: Any, batch: Any, noise: Any,
               kappa_excess: float, q: Any) -> tuple[Any, Any]:
    """The SGD/NSGD step with weight decay ``u = η_sched ω`` (per-row column) on ``(rows, d)`` ``s, T``; ``w`` is
    ``W`` per row (no checks). Returns the new ``(s, T)``."""
    x = lr * lam
    m = (1.0 - u) - x
    new = decay_second_moment(s, t, w, x, m, kappa_excess / batch, u, noise_coefficient(lr, batch, q, noise), lam)
    return clamp_heavy_ball(xp, new), decay_target_moment(t, w, m, u)


def heavy_ball_decay_step(xp: Any, s: Any, c: Any, p: Any, t: Any, f: Any, w: Any, lam: Any, lr: Any, mu: Any,
                          u: Any, batch: Any, noise: Any, kappa_excess: float,
                          q: Any) -> tuple[Any, Any, Any, Any, Any]:
    """Heavy ball with weight decay on ``(rows, d)`` moments ``S, C, P, T, F`` (no checks): the new five."""
    x = lr * lam
    m = ((1.0 + mu) - u) - x
    new = heavy_ball_decay_second_moment(s, c, p, t, f, w, x, m, kappa_excess / batch, mu, u,
                                         noise_coefficient(lr, batch, q, noise), lam)
    return (clamp_heavy_ball(xp, new), heavy_ball_decay_cross(s, c, t, m, mu, u), s,
            heavy_ball_decay_target(t, f, w, m, mu, u), t)


# ----------------------------------------------------------------------------- public, checked
def second_moment_step(
    s: Any,
    eigenvalues: Any,
    lr: Any,
    batch: Any,
    noise_variance: Any,
    kurtosis: float = 3.0,
    *,
    q: Any = None,
    xp: Any = None,
) -> Any:
    """One step of the exact recursion (docs/math.md#sgd-second-moment-recursion) for states ``s`` of shape ``(..., d)``.

    ``lr``, ``batch`` and ``noise_variance`` broadcast against the leading axes of ``s`` (pass
    arrays of shape ``(rows, 1)`` for one value per row). ``q = Σ m λ s`` (shape ``(..., 1)``) may be
    passed when the caller already has it (it must be, for a problem with multiplicities; without
    it ``q = Σ λ s``). Pure: returns the new state, clamped at 0 (it is ≥ 0 exactly for κ ≥ 1;
    rounding could otherwise leave −1e-17 when κ < 2). The solver's loops run these same operations
    (module docstring).

    Parameters
    ----------
    s : array, shape (..., d)
        Error second moments ``s_i = E (w − w*)_i²`` before the step, in the eigenbasis.
    eigenvalues : array, shape (d,)
        Eigenvalues ``λ_i`` of the input covariance.
    lr : float or array broadcasting against ``s[..., :1]``
        Learning rate ``η`` of this step.
    batch : float or array broadcasting against ``s[..., :1]``
        Batch size ``B`` of this step (samples).
    noise_variance : float or array broadcasting against ``s[..., :1]``
        Label-noise variance ``σ²``.
    kurtosis : float, default 3.0
        Fourth moment ``κ`` of the standardised inputs (Gaussian 3).
    q : array, shape (..., 1), optional
        ``Σ m λ s`` when the caller has it (required with multiplicities); default ``Σ λ s``.
    xp : array namespace, optional
        NumPy, CuPy or another array API namespace; default: that of ``s`` (arguments are then
        checked only on NumPy).

    Returns
    -------
    array, shape (..., d)
        The second moments after the step, clamped at 0, in the namespace of ``s``.

    Raises
    ------
    TypeError, ValueError
        On NumPy, for arguments that are not real arrays or do not broadcast (named).

    Examples
    --------
    With ``B = 1``, Gaussian data: ``(1 − 2ηλ + 2η²λ²) s + η²λ(q + σ²)`` = 0.5 + 0.25:

    >>> second_moment_step(np.array([1.0]), np.array([1.0]), 0.5, 1, 0.0).tolist()
    [0.75]
    """
    if xp is None or is_numpy_namespace(xp):  # called from outside the solver: check
        s_in, eig_in = s, eigenvalues
        s = check_range(strict_real_array(s, "s"), "s", lower=0.0, original=s_in)  # NaN (a pandas <NA>) too
        eigenvalues = check_range(strict_real_array(eigenvalues, "eigenvalues"), "eigenvalues", lower=0.0,
                                  strict=True, original=eig_in)
        if eigenvalues.ndim != 1 or s.ndim < 1 or s.shape[-1] != eigenvalues.shape[0]:
            raise ValueError(f"s must have shape (..., d) and eigenvalues shape (d,); got {s.shape} and "
                             f"{eigenvalues.shape}")
        lr, batch, noise_variance = (strict_real_array(v, n) for v, n in
                                     ((lr, "lr"), (batch, "batch"), (noise_variance, "noise_variance")))
        if np.any(batch <= 0):
            raise ValueError(f"batch must be positive; got {batch!r:.80}")
        kurtosis = finite_real(kurtosis, "kurtosis", minimum=1.0)
        for v, n in ((lr, "lr"), (batch, "batch"), (noise_variance, "noise_variance")):
            try:
                fits = np.broadcast_shapes(v.shape, s.shape[:-1] + (1,)) == s.shape[:-1] + (1,)
            except ValueError:
                fits = False
            if not fits:
                raise ValueError(f"{n} must broadcast against the leading axes of s {s.shape[:-1]}; got shape "
                                 f"{v.shape}")
        if q is not None:
            q = strict_real_array(q, "q")
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # non-finite values propagate
            if q is None:
                q = np.sum(s * eigenvalues, axis=-1, keepdims=True)
            return sgd_step(np, s, eigenvalues, lr, batch, noise_variance, kurtosis - 2.0, q)
    if q is None:
        q = xp.sum(s * eigenvalues, axis=-1, keepdims=True)
    return sgd_step(xp, s, eigenvalues, lr, batch, noise_variance, kurtosis - 2.0, q)


def gradient_second_moment(problem: Problem, second_moment: Any, batch: float) -> float:
    """``E‖g‖²`` of a batch-``B`` gradient at error second moments ``s`` (docs/math.md#normalized-sgd, any κ).

    Parameters
    ----------
    problem : Problem
        Its multiplicities, if any, weight the sums.
    second_moment : array_like, shape (d,)
    batch : float
        Samples per step.

    Returns
    -------
    float
        ``E‖g‖²``, the expected squared norm of the batch-``B`` stochastic gradient (mean part
        plus variance part, the latter shrinking as ``1/B``), docs/math.md#normalized-sgd.

    Raises
    ------
    TypeError
        For a ``problem`` that is not a :class:`Problem`.
    ValueError
        For a ``second_moment`` of the wrong shape or negative, a ``batch`` below 1, or an overflow.

    Examples
    --------
    >>> p = Problem([1.0], [0.0], noise_variance=2.0)
    >>> gradient_second_moment(p, [0.0], batch=4)   # pure noise: tr H σ² / B
    0.5
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {type(problem).__name__}")
    s = real_vector(second_moment, "second_moment", nonnegative=True)
    if s.shape != problem.eigenvalues.shape:
        raise ValueError(f"second_moment must have shape ({problem.dimension},) for this problem; got {s.shape}")
    batch = finite_real(batch, "batch", minimum=1.0)
    lam = problem.eigenvalues
    w1 = problem.multiplicity * lam
    mean, q = float((w1 * lam) @ s), float(w1 @ s)
    out = gradient_norm2(batch_factor(problem.kurtosis - 2.0, batch), mean, float(np.sum(w1)), batch, q,
                         problem.noise_variance)
    if not math.isfinite(out):
        raise ValueError(f"second_moment is too large for this problem: E‖g‖² overflows float64; got {s!r:.80}")
    return out


def momentum_moment_step(
    second_moment: Any,
    cross_moment: Any,
    previous_moment: Any,
    eigenvalues: Any,
    lr: float,
    momentum: float,
    batch: float,
    noise_variance: float,
    kurtosis: float = 3.0,
    multiplicity: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One step of the heavy-ball moment recursion (docs/math.md#heavy-ball-momentum), per coordinate.

    Parameters
    ----------
    second_moment, cross_moment, previous_moment : array_like, shape (d,)
        ``S = E e_t²``, ``C = E e_t e_{t−1}`` and ``P = E e_{t−1}²`` per eigen-coordinate (squared
        parameter units).
    eigenvalues : array_like, shape (d,)
        ``λ_i > 0``.
    lr : float
        The rate applied at this step (for NSGD the effective rate ``η/sqrt(G_t)``), per step.
    momentum : float
        ``μ_t ≥ 0`` of this step.
    batch : float
        Samples per step, ``B ≥ 1``.
    noise_variance : float
        Label-noise variance ``σ² ≥ 0``.
    kurtosis : float, default 3.0
        ``κ = E z⁴ ≥ 1`` of the standardised inputs.
    multiplicity : array_like of shape (d,), optional
        Weights ``m_i ≥ 1`` of ``q = Σ m λ S`` (ones by default).

    Returns
    -------
    S, C, P : ndarray, shape (d,)
        The new moments ``E e_{t+1}²``, ``E e_{t+1} e_t``, ``E e_t²``, all computed from the old
        ones. A negative ``S`` left by rounding (it is a variance) is set to 0.

    Raises
    ------
    TypeError
        For arguments that are not real numbers (named).
    ValueError
        For arguments of the wrong shape or out of range (named), and when the new moments overflow
        float64.

    See Also
    --------
    ramplab.theory.expected_risk : runs this step with ``optimizer=HeavyBall(μ)``.

    Examples
    --------
    With ``S = C = P`` (no motion yet) momentum has no effect: ``(1 − ηλ)² S`` plus the noise.

    >>> S, C, P = momentum_moment_step([1.0], [1.0], [1.0], [1.0], 0.5, 0.9, 1, 0.0, kurtosis=2.0)
    >>> round(float(S[0]), 12), round(float(C[0]), 12), float(P[0])
    (0.5, 0.5, 1.0)
    """
    arrays = []
    for value, name in ((second_moment, "second_moment"), (cross_moment, "cross_moment"),
                        (previous_moment, "previous_moment"), (eigenvalues, "eigenvalues")):
        arr = strict_real_array(value, name)
        if arr.ndim != 1 or not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be a finite 1-D array; got {value!r:.80}")
        arrays.append(arr)
    s, c, p, lam = arrays
    if not s.shape == c.shape == p.shape == lam.shape:
        raise ValueError(f"second_moment, cross_moment, previous_moment and eigenvalues must have one shape; got "
                         f"{s.shape}, {c.shape}, {p.shape}, {lam.shape}")
    if np.any(lam <= 0):
        raise ValueError("eigenvalues must be positive")
    if np.any(s < 0) or np.any(p < 0):
        raise ValueError("second_moment and previous_moment must be ≥ 0")
    lr = finite_real(lr, "lr", minimum=0.0)
    momentum = finite_real(momentum, "momentum", minimum=0.0)
    batch = finite_real(batch, "batch", minimum=1.0)
    noise_variance = finite_real(noise_variance, "noise_variance", minimum=0.0)
    kurtosis = finite_real(kurtosis, "kurtosis", minimum=1.0)
    if multiplicity is None:
        m = np.ones_like(lam)
    else:
        m = strict_real_array(multiplicity, "multiplicity")
        if m.shape != lam.shape or not np.all(np.isfinite(m) & (m >= 1)):
            raise ValueError(f"multiplicity must be finite, ≥ 1 and of shape {lam.shape}; got {multiplicity!r:.80}")
    with np.errstate(over="ignore", invalid="ignore"):
        q = np.array([[float((m * lam) @ s)]])
        out = heavy_ball_step(np, s[None, :], c[None, :], p[None, :], lam, np.array([[lr]]),
                              np.array([[momentum]]), np.array([[batch]]), np.array([[noise_variance]]),
                              kurtosis - 2.0, q)
    if not all(np.all(np.isfinite(v)) for v in out):
        raise ValueError("the step overflows float64: second_moment, cross_moment, previous_moment, eigenvalues, "
                         "lr, momentum, batch, noise_variance, kurtosis or multiplicity is too large")
    return out[0][0], out[1][0], out[2][0]
