"""Stability and the stationary second moments of constant-(η, B) SGD (docs/math.md#stability).

At constant ``(η, B)`` the recursion is affine, ``s ← M s + v`` with
``M = diag(D) + u (mλ)ᵀ``, ``D_i = 1 − ηλ_i(2 − c ηλ_i)``, ``c = 1 + (κ − 2)/B``, ``u = η²λ/B``,
``v = η²σ²λ/B`` and ``m_i`` the multiplicity of coordinate i (all ones unless the problem carries a
``multiplicity`` attribute). For κ ≥ 1 (always: ``E z⁴ ≥ (E z²)²``) ``M`` is entrywise
non-negative even where ``D_i < 0`` — its diagonal is ``D_i + η²λ_i²/B ≥ (1 − ηλ_i)²`` — so by
Perron–Frobenius ``ρ(M)`` is its largest eigenvalue, and ``M`` is similar to the symmetric
``diag(D) + g gᵀ`` with ``g_i² = m_i η²λ_i²/B``. Everything here is O(d) (O(d log d) for
:func:`spectral_radius`), never a dense eigen-solve:

* :func:`is_stable` checks the two closed conditions of docs/math.md#stability,

      (i)  ``c ηλ_i < 2`` for all i,        (ii) ``S = (η/B) Σ_i m_i λ_i / (2 − c ηλ_i) < 1``;

* :func:`spectral_radius` finds the largest root of the secular equation ``1 = Σ_i g_i² / (z − D_i)``
  (equal ``D_i`` merged) by bisection.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validate import finite_real, positive_real
from . import _step as step
from ._problem import Problem

__all__ = ["UnstableScheduleWarning", "is_stable", "max_stable_lr", "spectral_radius", "stationary_risk",
           "stationary_second_moment"]


def _multiplicity(problem: Problem) -> np.ndarray | None:
    """``problem.multiplicity`` checked (shape (d,), finite, ≥ 1) as float64, or None when absent."""
    m = getattr(problem, "multiplicity", None)
    if m is None:
        return None
    try:
        arr = np.asarray(m, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"problem.multiplicity must be an array of counts; got {m!r}") from exc
    if arr.shape != problem.eigenvalues.shape:
        raise ValueError(
            f"problem.multiplicity must have shape {problem.eigenvalues.shape}; got shape {arr.shape}"
        )
    bad = ~(np.isfinite(arr) & (arr >= 1))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"problem.multiplicity must be finite and ≥ 1; got {float(arr[i])!r} at index {i}")
    return arr


class _Recursion:
    """The pieces of ``M = diag(D) + u (mλ)ᵀ`` for one ``(problem, lr, batch)``, checked."""

    def __init__(self, problem: Any, lr: Any, batch: Any) -> None:
        if not isinstance(problem, Problem):
            raise TypeError(f"problem must be a Problem; got {problem!r}")
        lr = positive_real(lr, "lr")
        batch = finite_real(batch, "batch", minimum=1.0)
        lam = problem.eigenvalues
        self.lr, self.batch, self.lam = lr, batch, lam
        self.multiplicity = _multiplicity(problem)
        self.c = step.batch_factor(problem.kurtosis - 2.0, batch)
        with np.errstate(over="ignore", invalid="ignore"):  # a huge ηλ overflows to ±inf: unstable
            x = lr * lam
            #: ``1 − D_i = ηλ_i (2 − c ηλ_i)``, computed without the cancellation of ``1 − D_i``
            self.contraction = step.contraction(x, self.c)
            self.diag = 1.0 - self.contraction
            #: ``g_i² = m_i u_i λ_i = m_i η² λ_i² / B``, the rank-one weights of the symmetric form
            weight = x * x / batch
        self.weight = weight if self.multiplicity is None else self.multiplicity * weight


def _largest_secular_root(poles: np.ndarray, weights: np.ndarray) -> float:
    """Largest root of ``1 = Σ_k w_k / (z − δ_k)`` (``w_k > 0``, ``δ`` ascending), by bisection.

    The root lies in ``(δ_max, δ_max + Σ w]``: the secular function increases there from −∞ and is
    ≥ 0 at the right end. The bisection runs on ``τ = z − δ_max`` with the poles taken relative to
    ``δ_max``, so ``τ`` keeps full relative precision when the root hugs the pole (tiny steps), and
    stops when ``z`` is pinned to the last bit (or ``τ`` to 2 ulp); the pole itself is never evaluated.
    """
    top = poles[-1]
    rel = poles - top
    lo, hi = 0.0, float(np.sum(weights))
    for _ in range(2200):  # 1075 halvings reach the smallest subnormal; the stops below come first
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi or top + lo == top + hi or hi - lo <= 4e-16 * hi:
            break
        if float(np.sum(weights / (mid - rel))) > 1.0:
            lo = mid
        else:
            hi = mid
    return float(top + 0.5 * (lo + hi))


def spectral_radius(problem: Problem, lr: float, batch: float) -> float:
    """Spectral radius of the constant-(η, B) recursion matrix ``diag(D) + (η²/B) λ (mλ)ᵀ``.

    O(d log d), no eigen-solve (docs/math.md#stability): ``M`` is entrywise non-negative for every
    kurtosis κ ≥ 1, so ``ρ(M)`` is its largest eigenvalue, and ``M`` is similar to the symmetric
    ``diag(D) + g gᵀ``, whose largest eigenvalue is the largest root of the secular equation
    ``1 = Σ_k G_k / (z − δ_k)`` over the distinct values ``δ_k`` of ``D`` with summed weights ``G_k``.

    Parameters
    ----------
    problem : Problem
        The regression problem; an optional ``multiplicity`` attribute (shape (d,)) makes coordinate i
        stand for ``m_i`` identical coordinates.
    lr : float
        Learning rate ``η > 0`` (per step).
    batch : float
        Batch size ``B ≥ 1`` (samples per step).

    Returns
    -------
    float
        ``ρ(M)``, the per-step growth factor of the slowest-decaying (or fastest-growing)
        second-moment mode; ``inf`` when ``(ηλ)²`` overflows.

    Raises
    ------
    TypeError
        If ``problem`` is not a :class:`Problem`, or ``lr``/``batch`` is not a real number.
    ValueError
        If ``lr`` is not finite and positive, or ``batch`` is not finite and ≥ 1.

    Examples
    --------
    >>> p = Problem([1.0], [1.0])
    >>> round(spectral_radius(p, 0.5, 1), 12)   # B = 1 contraction 1 − 2ηλ + 2η²λ² plus η²λ²
    0.75
    >>> q = Problem([1.0, 0.9], [1.0, 1.0], kurtosis=1.0)   # Rademacher: D = 1 − 2ηλ < −1 at η = 1.5
    >>> round(spectral_radius(q, 1.5, 1), 6)
    2.212253
    """
    rec = _Recursion(problem, lr, batch)
    if not (np.all(np.isfinite(rec.diag)) and np.all(np.isfinite(rec.weight))):
        return float("inf")  # (ηλ)² overflowed: the step explodes
    order = np.argsort(rec.diag, kind="stable")
    values, start = np.unique(rec.diag[order], return_index=True)
    group_weight = np.add.reduceat(rec.weight[order], start)
    # A value D shared by n coordinates (or copies) is an eigenvalue n − 1 times, and a coordinate
    # whose weight underflowed to 0 decouples with eigenvalue D_i; every other eigenvalue is a
    # secular root. Both kinds of D are ≤ the largest root, but a decoupled one may be the largest.
    live = group_weight > 0.0
    radius = float(np.max(np.abs(values[~live]))) if not live.all() else 0.0
    if live.any():
        radius = max(radius, abs(_largest_secular_root(values[live], group_weight[live])))
    return radius


def is_stable(problem: Problem, lr: float, batch: float) -> bool:
    """Whether constant-(η, B) SGD has bounded second moments (converges to a fixed point).

    Exactly ``spectral_radius(problem, lr, batch) < 1``, decided in O(d) by the two closed conditions
    of docs/math.md#stability, which hold for every kurtosis κ ≥ 1 (negative ``D_i`` included).

    Parameters
    ----------
    problem : Problem
        The regression problem (optional ``multiplicity`` attribute, as in :func:`spectral_radius`).
    lr : float
        Learning rate ``η > 0`` (per step).
    batch : float
        Batch size ``B ≥ 1`` (samples per step).

    Returns
    -------
    bool

    Raises
    ------
    TypeError, ValueError
        As :func:`spectral_radius`, naming the bad argument.

    Examples
    --------
    >>> p = Problem.power_law(100, a=1.5, b=1.0)
    >>> is_stable(p, 0.5, 1), is_stable(p, 1.9, 64), is_stable(p, 2.1, 64)
    (True, True, False)
    """
    return _stable(_Recursion(problem, lr, batch))


def _stable(rec: _Recursion) -> bool:
    # (i) every D_i < 1, and (ii) the secular function is positive at z = 1, i.e. the largest root,
    # which is the spectral radius, lies below 1.
    if not np.all(rec.contraction > 0.0):
        return False
    return bool(float(np.sum(rec.weight / rec.contraction)) < 1.0)


def _stationary(rec: _Recursion, noise_variance: float) -> np.ndarray:
    if not _stable(rec):
        raise ValueError(
            f"SGD is not stable at lr={rec.lr!r}, batch={rec.batch!r} for this problem; there is no stationary point"
        )
    per_dir = rec.lr / (rec.batch * (2.0 - rec.c * rec.lr * rec.lam))
    weighted = rec.lam if rec.multiplicity is None else rec.multiplicity * rec.lam
    total = float(np.sum(weighted * per_dir))  # S
    q = noise_variance * total / (1.0 - total)
    return per_dir * (q + noise_variance)


def stationary_second_moment(problem: Problem, lr: float, batch: float) -> np.ndarray:
    """Exact fixed point ``s^∞ = η (q^∞ + σ²) / (B (2 − c ηλ))`` of constant-(η, B) SGD.

    ``q^∞ = Σ m λ s^∞`` solves the scalar equation ``q = (q + σ²) S`` with
    ``S = (η/B) Σ m_i λ_i/(2 − c ηλ_i)``, so ``q^∞ = σ² S / (1 − S)`` (docs/math.md#stability).

    Parameters
    ----------
    problem : Problem
        The regression problem (optional ``multiplicity`` attribute, as in :func:`spectral_radius`).
    lr : float
        Learning rate ``η > 0`` (per step).
    batch : float
        Batch size ``B ≥ 1`` (samples per step).

    Returns
    -------
    numpy.ndarray, shape (d,)
        ``s_i^∞ = E[(w − w*)_i²]`` at stationarity, per coordinate (per copy when ``m_i > 1``).

    Raises
    ------
    TypeError, ValueError
        As :func:`spectral_radius`; ValueError also if the recursion is not stable at ``(lr, batch)``.

    Examples
    --------
    >>> p = Problem([1.0], [1.0], noise_variance=1.0)
    >>> stationary_second_moment(p, 0.5, 1).tolist()   # s = 0.5 s + 0.25 (s + 1)
    [1.0]
    """
    return _stationary(_Recursion(problem, lr, batch), problem.noise_variance)


def stationary_risk(problem: Problem, lr: float, batch: float) -> float:
    """Stationary excess risk ``½ Σ m_i λ_i s_i^∞``; ≈ ``(σ²/4) η tr H / B`` for small ηλ.

    Parameters
    ----------
    problem : Problem
        The regression problem (optional ``multiplicity`` attribute, as in :func:`spectral_radius`).
    lr : float
        Learning rate ``η > 0`` (per step).
    batch : float
        Batch size ``B ≥ 1`` (samples per step).

    Returns
    -------
    float
        ``R^∞ = ½ q^∞`` (docs/math.md#stability).

    Raises
    ------
    TypeError, ValueError
        As :func:`stationary_second_moment`.

    Examples
    --------
    >>> p = Problem.power_law(200, a=1.5, b=1.0, noise_variance=1.0)
    >>> r = stationary_risk(p, 1e-3, 4)
    >>> bool(abs(r / (0.25 * 1e-3 * p.trace / 4) - 1) < 1e-2)
    True
    """
    rec = _Recursion(problem, lr, batch)
    s = _stationary(rec, problem.noise_variance)
    weighted = rec.lam if rec.multiplicity is None else rec.multiplicity * rec.lam
    return 0.5 * float(weighted @ s)


class UnstableScheduleWarning(UserWarning):
    """A schedule holds a constant ``(η, B)`` outside SGD's stability region for several steps.

    Emitted (:func:`warnings.warn`, before any step is computed) by
    :func:`~ramplab.theory.expected_risk` and :func:`~ramplab.simulations.simulate` for SGD when a
    stretch of at least two consecutive steps with the same ``(η, B)`` is not :func:`is_stable`
    (docs/math.md#divergence). The second moments grow geometrically along that stretch; whether the
    run ends up past the divergence bound depends on how long it lasts. Filter it by category
    (``warnings.filterwarnings("ignore", category=UnstableScheduleWarning)``) or turn it into an
    error (``"error"``).

    Examples
    --------
    >>> import warnings
    >>> from ramplab.theory import Problem, Schedule, expected_risk
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     r = expected_risk(Problem.isotropic(1), Schedule.constant(0.8, 1, steps=20))
    >>> [w.category.__name__ for w in caught]
    ['UnstableScheduleWarning']
    """


#: At most this many distinct constant ``(η, B)`` stretches are checked (the longest first), O(d) each.
_MAX_SEGMENTS_CHECKED = 64


def unstable_segments(problem: Problem, lr: Any, batch: Any,
                      steps: Any = None) -> list[tuple[int, int, float, float]]:
    """``(first step, steps, η, B)`` of the unstable constant stretches of a schedule's SGD steps.

    ``lr`` and ``batch`` are per step, or per constant segment with ``steps`` its lengths (a
    schedule's :attr:`~ramplab.theory.Schedule.segments`: O(segments) memory, never O(steps)). A
    stretch is a maximal run of at least two consecutive steps with equal ``(η, B)`` and ``η > 0``;
    at most the 64 longest distinct ``(η, B)`` are checked (each O(d)).
    """
    lr = np.asarray(lr, dtype=np.float64).reshape(-1)
    batch = np.asarray(batch, dtype=np.float64).reshape(-1)
    counts = np.ones(lr.size, dtype=np.int64) if steps is None else np.asarray(steps, dtype=np.int64).reshape(-1)
    if counts.sum() < 2:
        return []
    change = np.flatnonzero((lr[1:] != lr[:-1]) | (batch[1:] != batch[:-1])) + 1
    runs = np.concatenate([[0], change])                        # first segment of each stretch
    first_step = np.concatenate([[0], np.cumsum(counts)])       # first step of each segment
    starts = first_step[runs]
    lengths = np.diff(np.concatenate([starts, [first_step[-1]]]))
    keep = (lengths >= 2) & (lr[runs] > 0) & np.isfinite(lr[runs]) & (batch[runs] >= 1)
    lr, batch = lr[runs], batch[runs]
    lr, batch = lr[keep], batch[keep]
    starts, lengths = starts[keep], lengths[keep]
    verdict: dict[tuple[float, float], bool] = {}
    found = []
    for i in np.argsort(-lengths, kind="stable"):
        key = (float(lr[i]), float(batch[i]))
        if key not in verdict:
            if len(verdict) >= _MAX_SEGMENTS_CHECKED:
                continue
            verdict[key] = _stable(_Recursion(problem, *key))
        if not verdict[key]:
            found.append((int(starts[i]), int(lengths[i]), *key))
    return sorted(found)


def warn_unstable_segments(problem: Problem, lr: Any, batch: Any, label: str = "", stacklevel: int = 3,
                           steps: Any = None) -> None:
    """Warn (:class:`UnstableScheduleWarning`) when SGD's ``(η_t, B_t)`` hold an unstable constant stretch
    (per step, or per segment with ``steps``, as :func:`unstable_segments`)."""
    found = unstable_segments(problem, lr, batch, steps)
    if not found:
        return
    first, steps, eta, b = found[0]
    name = f" {label!r}" if label else ""
    more = f" (and {len(found) - 1} more such stretches)" if len(found) > 1 else ""
    import warnings

    warnings.warn(
        f"schedule{name} holds lr={eta:g}, batch={b:g} for {steps} steps from step {first + 1}, outside SGD's "
        f"stability region for this problem (is_stable is False; docs/math.md#divergence): the second moments "
        f"grow geometrically there{more}",
        UnstableScheduleWarning, stacklevel=stacklevel,
    )


def max_stable_lr(problem: Problem, batch: float, optimizer: Any = "sgd") -> float:
    """The largest stable constant learning rate at batch ``batch`` (docs/math.md#stability).

    SGD and heavy ball: the edge of the exact stability region of the constant-``(η, B)``
    second-moment recursion (:func:`is_stable`; with momentum :func:`is_stable_with_momentum`),
    found by :func:`momentum_stability_limit`'s bisection to the last few bits; the value returned
    is stable. NSGD (expected denominator) has no constant edge, since its effective rate
    ``η/sqrt(E‖g‖²)`` depends on the state; since ``E‖g‖² ≥ σ² tr H / B`` at every state, the rate
    returned is the largest ``η`` whose effective rate can never pass SGD's edge,
    ``η_max,SGD(B) · sqrt(σ² tr H / B)`` (a sufficient bound, which needs label noise σ² > 0).

    Parameters
    ----------
    problem : Problem
        The regression problem.
    batch : float
        Batch size ``B ≥ 1`` (samples per step).
    optimizer : str or OptimizerSpec, default "sgd"
        ``"sgd"``, ``"nsgd"``, ``"momentum"`` or a spec (:class:`~ramplab.theory.SGD`,
        :class:`~ramplab.theory.NSGD` with the expected denominator, :class:`~ramplab.theory.HeavyBall`
        on SGD with one constant ``μ``).

    Returns
    -------
    float
        The rate ``η*`` (per step): stable at it, unstable just above it (SGD, heavy ball).

    Raises
    ------
    TypeError, ValueError
        For a bad ``problem`` or ``batch`` (named); for an ``optimizer`` without a stability edge
        here (Adam, SignSGD, the conditional NSGD denominator, per-step momentum, heavy ball on
        NSGD); for NSGD on a problem without label noise.

    See Also
    --------
    is_stable, momentum_stability_limit

    Examples
    --------
    One coordinate, Gaussian data: ``2/3`` at ``B = 1``, the noiseless ``2/λ`` as ``B → ∞``.

    >>> p = Problem([1.0], [1.0])
    >>> round(max_stable_lr(p, 1), 6), round(max_stable_lr(p, 1e12), 6)
    (0.666667, 2.0)
    >>> round(max_stable_lr(p, 1, "momentum"), 6)   # heavy ball, μ = 0.9
    0.097436
    >>> q = Problem.power_law(50, 1.5, 1.0, noise_variance=1.0)
    >>> bool(is_stable(q, max_stable_lr(q, 4), 4)), bool(is_stable(q, 1.001 * max_stable_lr(q, 4), 4))
    (True, False)
    """
    from .._optimizers import resolve_optimizer
    from ._momentum import momentum_stability_limit

    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {problem!r:.80}")
    batch = finite_real(batch, "batch", minimum=1.0)
    spec = resolve_optimizer(optimizer)
    if getattr(spec, "decays", False):
        raise ValueError(f"optimizer: max_stable_lr has no stability edge with weight decay; got {spec!r:.80}")
    name = spec.name
    momentum = 0.0
    if name == "momentum":
        momentum = getattr(spec, "momentum", 0.0)
        if np.ndim(momentum) != 0:
            raise ValueError("optimizer: max_stable_lr needs one constant momentum μ; got per-step values")
        if getattr(spec, "optimizer", "sgd") != "sgd":
            raise ValueError("optimizer: max_stable_lr has a stability edge for heavy ball on SGD only; "
                             f"got {spec!r:.80}")
        momentum = float(momentum)
    elif name == "nsgd":
        if getattr(spec, "normalization", "expected") != "expected":
            raise ValueError("optimizer: max_stable_lr bounds NSGD with the expected denominator only; "
                             f"got {spec!r:.80}")
        if problem.noise_variance <= 0:
            raise ValueError("optimizer: NSGD's stable-rate bound needs label noise (problem.noise_variance > 0)")
        edge = momentum_stability_limit(problem, 0.0, batch)
        return float(edge * np.sqrt(problem.noise_variance * problem.trace / batch))
    elif name != "sgd":
        raise ValueError(f"optimizer: max_stable_lr knows the stability edge of 'sgd', 'nsgd' and 'momentum' "
                         f"(heavy ball); got {spec!r:.80}")
    edge = float(momentum_stability_limit(problem, momentum, batch))
    if momentum == 0.0:
        # The bisection brackets the edge to a few bits; return its stable side (is_stable decides).
        for _ in range(64):
            if edge <= 0.0 or is_stable(problem, edge, batch):
                break
            edge *= 1.0 - 2.0**-40
    return edge
