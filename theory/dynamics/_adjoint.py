"""Exact gradients (and Hessians) of the expected risk with respect to the schedule: the adjoint method.

:func:`risk_gradient` differentiates an objective of the exact second-moment trajectory
(docs/math.md#risk-gradient) with respect to each segment's log learning rate and log batch size,
at fixed segment step counts, by one forward sweep and one reverse (adjoint) sweep over the same
step as :func:`~ramplab.theory.expected_risk` (:mod:`._step`), compiled in :mod:`._adjoint_kernels`.
Memory is bounded by checkpointing: the state is stored every ``L ≈ sqrt(T)`` steps and each chunk
is recomputed before it is swept backward (in cache-sized sub-chunks for large ``d``).

:func:`risk_hessian` differentiates that gradient once more (central differences of the exact
gradient, docs/math.md#risk-hessian) and :func:`flat_direction` reads off the Hessian's flattest
direction and how close it is to the equivalence families ``η/B`` (SGD) and ``η/√B`` (NSGD).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._frozen import FrozenRecord, readonly
from .._limits import MAX_STEP_ARRAY
from .._memory import check_memory
from .._optimizers import HeavyBall, OptimizerSpec, resolve_optimizer
from .._validate import as_numpy, finite_real
from ..schedules._schedule import Schedule
from . import _adjoint_kernels as kern
from ._averaging import Averaging, resolve_average
from ._momentum import resolve_momentum
from ._problem import Problem
from ._solver import divergence_limit
from ._trajectory import DivergenceError

__all__ = ["OBJECTIVES", "FlatDirection", "RiskGradient", "RiskHessian", "flat_direction", "risk_gradient",
           "risk_hessian"]

#: The objectives :func:`risk_gradient` differentiates (docs/math.md#risk-gradient).
OBJECTIVES = ("final", "averaged", "mean_over_checkpoints")


class GradientOverflowError(ValueError):
    """The adjoint pass overflowed float64 where the forward trajectory did not (private: ``optimal_schedule``
    treats such a trial point as a diverged one; callers of :func:`risk_gradient` see a ValueError)."""


@dataclass(frozen=True, eq=False)
class RiskGradient(FrozenRecord):
    """An objective of the exact risk trajectory and its gradient in the schedule (docs/math.md#risk-gradient).

    Attributes
    ----------
    value : float
        The objective ``J`` (an excess risk, in the units of ``½ (w − w*)ᵀH(w − w*)``).
    d_log_lr, d_log_batch : ndarray, shape (K,)
        ``∂J/∂log η_k`` and ``∂J/∂log B_k`` for the ``K`` segments (the schedule's segments, or the
        blocks of ``segment_steps``): the derivative of ``J`` when every step of segment ``k`` has its
        rate (batch) multiplied by ``1 + ε``, per unit ``ε``, at fixed step counts and real batches.
    step_d_log_lr, step_d_log_batch : ndarray, shape (T,)
        The same per step (one segment per step).
    segment_steps : ndarray of int64, shape (K,)
        Steps of each segment.
    objective : str
        ``"final"``, ``"averaged"`` or ``"mean_over_checkpoints"``.
    checkpoints : ndarray of int64 or None
        The steps averaged by ``"mean_over_checkpoints"``.
    optimizer : OptimizerSpec
        The update rule.
    average : Averaging or None
        The iterate average the objective reads (``None``: the last iterate).
    chunk : int
        Steps between stored states (the checkpointing interval ``L``).
    sub_chunk : int
        Steps per recomputed sub-chunk inside a chunk (``chunk`` with heavy ball).
    memory_bytes : int
        Bytes of the stored states, the chunk buffer and the per-step records.

    Examples
    --------
    >>> from ramplab.theory import Problem, Schedule, risk_gradient
    >>> g = risk_gradient(Problem.isotropic(4, noise_variance=0.1), Schedule.from_segments([0.2, 0.1], [4, 8], [50, 50]))
    >>> g.d_log_lr.shape, bool(g.d_log_batch[-1] < 0)
    ((2,), True)
    """

    value: float
    d_log_lr: np.ndarray
    d_log_batch: np.ndarray
    step_d_log_lr: np.ndarray
    step_d_log_batch: np.ndarray
    segment_steps: np.ndarray
    objective: str
    checkpoints: np.ndarray | None
    optimizer: OptimizerSpec
    average: Averaging | None
    chunk: int
    memory_bytes: int
    sub_chunk: int = 0

    @property
    def gradient(self) -> np.ndarray:
        """``(∂J/∂log η_1 … ∂J/∂log η_K, ∂J/∂log B_1 … ∂J/∂log B_K)``, shape ``(2K,)``."""
        return np.concatenate([self.d_log_lr, self.d_log_batch])


def _objective_weights(objective: str, checkpoints: Any, steps: int, average: Averaging | None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Per-step weights ``wS, wA`` (shape ``(T + 1,)``) of ``J = Σ_t ½ (wS_t q_t + wA_t Σ m λ A_t)``."""
    ws = np.zeros(steps + 1)
    wa = np.zeros(steps + 1)
    checks = None
    if objective == "final":
        if checkpoints is not None:
            raise ValueError("checkpoints are used only with objective='mean_over_checkpoints'; pass checkpoints=None")
        (wa if average is not None else ws)[steps] = 1.0
    elif objective == "averaged":
        if checkpoints is not None:
            raise ValueError("checkpoints are used only with objective='mean_over_checkpoints'; pass checkpoints=None")
        wa[steps] = 1.0
    else:
        if checkpoints is None:
            raise ValueError("objective='mean_over_checkpoints' needs checkpoints= (steps in [0, T])")
        checks = checkpoint_list(checkpoints, steps)
        (wa if average is not None else ws)[checks] = 1.0 / checks.size
    return ws, wa, checks


def checkpoint_list(checkpoints: Any, steps: int) -> np.ndarray:
    """``checkpoints`` checked: a non-empty sorted unique 1-D sequence of integer steps in ``[0, T]``."""
    if isinstance(checkpoints, (str, bytes)):
        raise TypeError(f"checkpoints must be integer steps; got {checkpoints!r:.80}")
    arr = as_numpy(checkpoints, "checkpoints")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"checkpoints must be a non-empty 1-D sequence of steps; got shape {arr.shape}")
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or (
            np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)))):
        raise TypeError(f"checkpoints must be integer steps; got {checkpoints!r:.80}")
    if np.any(arr < 0) or np.any(arr > steps):
        raise ValueError(f"checkpoints must lie in [0, {steps}] (the schedule's steps); got {checkpoints!r:.80}")
    arr = arr.astype(np.int64)
    if np.any(np.diff(arr) <= 0):
        raise ValueError("checkpoints must be sorted and unique")
    return arr


def _segment_steps(schedule: Schedule, segment_steps: Any) -> np.ndarray:
    """``segment_steps`` checked (positive integers adding up to ``T``), or the schedule's segments."""
    if segment_steps is None:
        return np.asarray(schedule.segments.steps, dtype=np.int64)
    if isinstance(segment_steps, (str, bytes)):
        raise ValueError(f"segment_steps must be a non-empty 1-D array of positive integers; got {segment_steps!r:.80}")
    arr = as_numpy(segment_steps, "segment_steps")
    if arr.ndim != 1 or arr.size == 0 or arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer) \
            or np.any(arr < 1):
        raise ValueError(f"segment_steps must be a non-empty 1-D array of positive integers; got {segment_steps!r:.80}")
    total = sum(int(v) for v in arr)  # Python integers: no int64 wrap-around
    if total != len(schedule):
        raise ValueError(f"segment_steps must add up to the schedule's {len(schedule)} steps; got {total}")
    return arr.astype(np.int64)


#: Bytes of the reverse sweep's innermost buffer (recomputed states of a sub-chunk): kept within cache.
SUB_CHUNK_BYTES = 4 << 20
#: Up to this many bytes of stored states the SGD/NSGD sweep keeps two levels (``sub = L = ceil(sqrt(T))``);
#: beyond, three (one more element-wise recomputation, about half the memory). 500 MB keeps d = 10⁵, T = 10⁴ on two
#: levels (160 MB; 480 MB with uniform averaging), where the third level's extra pass cost 5 % (SGD, 4.18× → 3.94× a
#: forward solve) to 25 % (averaged, 4.55× → 3.64×) of the time (CPU time, 2026-12-08), and d = T = 10⁵ on three
#: (about 250 MB instead of 507 for SGD).
TWO_LEVEL_BYTES = 500 * 10**6


def _positive_steps(value: Any) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"chunk must be a positive integer (steps) or a pair of them; got {value!r:.80}")
    return int(value)


def _chunk_length(steps: int, stored: int, buffered: int, chunk: Any) -> int:
    """Steps between stored states: ``chunk`` (checked), or ``ceil(sqrt(T · stored/buffered))``."""
    if chunk is not None:
        if isinstance(chunk, tuple):
            raise ValueError(f"chunk must be a positive integer (steps) with heavy ball; got {chunk!r:.80}")
        return min(_positive_steps(chunk), steps)
    return max(1, min(steps, math.ceil(math.sqrt(steps * stored / buffered))))


def _chunk_levels(steps: int, rows: int, d: int, chunk: Any) -> tuple[int, int]:
    """``(L, sub)``: steps between stored states and steps per recomputed sub-chunk (SGD/NSGD sweep).

    Two levels (``L = sub = ceil(sqrt(T))``) while they hold at most :data:`TWO_LEVEL_BYTES`; else
    ``sub`` keeps ``sub · rows · d`` floats within :data:`SUB_CHUNK_BYTES` and ``L = ceil(sqrt(T · sub))``
    minimises the stored rows ``T/L + L/sub``. ``chunk`` gives ``L`` (then ``sub = min(L, auto)``) or
    the pair ``(L, sub)``.
    """
    auto_sub = max(1, min(steps, SUB_CHUNK_BYTES // (8 * rows * d)))
    if chunk is None:
        two = max(1, min(steps, math.ceil(math.sqrt(steps))))
        if 2 * two * rows * d * 8 <= TWO_LEVEL_BYTES:  # small enough: no extra recomputation
            return two, two
        return max(auto_sub, min(steps, math.ceil(math.sqrt(steps * auto_sub)))), auto_sub
    if isinstance(chunk, tuple):
        if len(chunk) != 2:
            raise ValueError(f"chunk must be a positive integer (steps) or a pair of them; got {chunk!r:.80}")
        every = min(_positive_steps(chunk[0]), steps)
        return every, min(_positive_steps(chunk[1]), every)
    every = min(_positive_steps(chunk), steps)
    return every, min(every, auto_sub)


def _check_memory(d: int, steps: int, vectors: int) -> None:
    """Refuse (naming ``d`` and the steps) a gradient whose stored states exceed the memory limit."""
    check_memory(8.0 * (vectors * d + 10 * steps + 8 * d), "risk_gradient", {"d": d, "steps": steps})


def refuse_weight_decay(spec: Any) -> None:
    """ValueError for an optimizer spec that carries a non-zero ``weight_decay`` (not differentiated here)."""
    for holder, name in ((spec, "optimizer"), (getattr(spec, "optimizer", None), "optimizer")):
        wd = getattr(holder, "weight_decay", 0.0)
        if wd is not None and not isinstance(wd, str) and np.any(np.asarray(wd) != 0):
            raise ValueError(f"{name} has weight_decay={wd!r}: risk_gradient does not support weight decay "
                             f"(docs/math.md#risk-gradient); pass weight_decay=0")


def risk_gradient(
    problem: Problem,
    schedule: Schedule,
    optimizer: str | OptimizerSpec = "sgd",
    objective: str = "final",
    checkpoints: Any = None,
    average: str | Averaging | None = None,
    *,
    segment_steps: Any = None,
    divergence_threshold: float = 1e12,
    chunk: int | tuple[int, int] | None = None,
) -> RiskGradient:
    """Exact gradient of the expected risk in the schedule's log learning rates and log batch sizes.

    A forward sweep of the exact recursion (docs/math.md#sgd-second-moment-recursion; the step of
    :func:`~ramplab.theory.expected_risk`) and one reverse sweep of its adjoint (docs/math.md#risk-gradient):
    the derivatives are exact to rounding, not finite differences. The state is stored every
    ``chunk ≈ sqrt(T)`` steps and each chunk recomputed before it is swept backward, so memory is
    ``O(sqrt(T) · d)``: about 240 MB at ``d = T = 10⁵`` for SGD (``memory_bytes``).

    Parameters
    ----------
    problem : Problem
        Multiplicities, if any, weight every sum.
    schedule : Schedule
        The ``T``-step schedule; batches are treated as real numbers (as with ``integer_batch=False``).
    optimizer : {"sgd", "nsgd", "momentum"} or SGD, NSGD, HeavyBall
        As in :func:`~ramplab.theory.expected_risk`. NSGD uses the expected denominator
        ``G_t = E‖g_t‖²``, which depends on the state; the gradient goes through it. Heavy ball's
        ``μ_t`` are held fixed (they are not schedule parameters here).
    objective : {"final", "averaged", "mean_over_checkpoints"}, default "final"
        ``"final"``: the excess risk after the last step, ``½ Σ m λ s_T`` (with ``average``: of the
        averaged iterate). ``"averaged"``: the excess risk of the averaged iterate after the last step,
        ``½ Σ m λ A_T`` (``average`` defaults to ``"uniform"``). ``"mean_over_checkpoints"``:
        ``(1/n) Σ_c R(t_c)`` over the ``n`` steps of ``checkpoints``, of the last iterate, or of the
        averaged iterate when ``average`` is given.
    checkpoints : array_like of int, optional
        Sorted unique steps in ``[0, T]`` for ``"mean_over_checkpoints"`` (only there).
    average : None, "uniform" or Averaging
        The iterate average (docs/math.md#iterate-averaging): uniform, tail or EMA.
    segment_steps : array_like of int, optional
        Steps of the blocks to differentiate over (adding up to ``T``); default the schedule's
        segments. ``∂J/∂log η_k`` is then the derivative for a common factor on block ``k``'s rates.
    divergence_threshold : float, default 1e12
        As in :func:`~ramplab.theory.expected_risk` (docs/math.md#divergence).
    chunk : int or (int, int), optional
        Steps between stored states ``L``, or ``(L, sub)`` with ``sub`` the steps per recomputed
        sub-chunk (SGD/NSGD). Default (SGD/NSGD): ``L = sub = ceil(sqrt(T))`` while that stores at
        most 500 MB, else ``sub`` keeps a sub-chunk's states within 4 MB and ``L = ceil(sqrt(T · sub))``
        (one more recomputation, about half the memory); heavy ball: ``ceil(sqrt(T · stored/buffered))``.

    Returns
    -------
    RiskGradient
        ``value``, ``d_log_lr``, ``d_log_batch`` (shape ``(K,)``) and the per-step derivatives.

    Raises
    ------
    TypeError, ValueError
        For bad arguments (named), weight decay, or an optimizer without an exact solver.
    DivergenceError
        When the trajectory diverges (docs/math.md#divergence).

    Examples
    --------
    A constant schedule read as two blocks of 400 steps (``segment_steps``: the schedule itself is one
    segment). A larger batch helps more late than early, a larger rate more early than late:

    >>> from ramplab.theory import Problem, Schedule
    >>> p = Problem.power_law(50, a=1.5, b=1.0, noise_variance=0.5)
    >>> g = risk_gradient(p, Schedule.constant(0.4, 8, steps=800), segment_steps=[400, 400])
    >>> round(g.value, 6), g.d_log_lr.round(5).tolist(), g.d_log_batch.round(5).tolist()
    (0.041689, [-0.02986, -0.00611], [-0.00033, -0.02111])
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {type(problem).__name__}")
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a Schedule; got {type(schedule).__name__}")
    spec = resolve_optimizer(optimizer, where="exact")
    refuse_weight_decay(spec)
    if not isinstance(objective, str) or objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}; got {objective!r:.80}")
    averaging = resolve_average(average)
    if objective == "averaged" and averaging is None:
        averaging = resolve_average("uniform")
    steps = len(schedule)
    if steps > MAX_STEP_ARRAY:
        raise ValueError(f"schedule has {steps} steps, more than MAX_STEP_ARRAY = {MAX_STEP_ARRAY}: risk_gradient keeps "
                         f"O(T) per-step records (docs/math.md#risk-gradient)")
    blocks = _segment_steps(schedule, segment_steps)
    threshold = finite_real(divergence_threshold, "divergence_threshold")
    if not threshold > 1.0:
        raise ValueError(f"divergence_threshold must be > 1; got {divergence_threshold!r}")
    ws, wa, checks = _objective_weights(objective, checkpoints, steps, averaging)
    if isinstance(spec, HeavyBall):
        name, mom = spec.optimizer, resolve_momentum(spec.momentum, steps)
    else:
        name, mom = spec.name, None
    nsgd = name == "nsgd"
    lr, batch = schedule.step_arrays(0, steps)
    lr, batch = np.ascontiguousarray(lr, dtype=np.float64), np.ascontiguousarray(batch, dtype=np.float64)
    rho = (np.ascontiguousarray(averaging.weights(np.arange(1, steps + 1)), dtype=np.float64)
           if averaging is not None else np.zeros(0))
    lam = np.array(problem.eigenvalues, dtype=np.float64)
    # Without multiplicities m λ is λ itself: one array streamed instead of two.
    w1 = lam if problem.has_unit_multiplicity else np.array(problem.multiplicity * problem.eigenvalues,
                                                            dtype=np.float64)
    s0 = np.array(problem.initial_second_moment, dtype=np.float64)
    d = lam.shape[0]
    kex, trace, noise = problem.kurtosis - 2.0, float(np.sum(w1)), float(problem.noise_variance)
    limit = divergence_limit(problem, threshold)
    record = [np.empty(steps) for _ in range(4)]
    avg = averaging is not None
    empty = np.zeros(0)
    if mom is None:
        stored = 2 if avg else 1
        L, sub = _chunk_levels(steps, stored, d, chunk)
        n_chunks = -(-steps // L)
        _check_memory(d, steps, (n_chunks + -(-L // sub) + sub + 2) * stored)
        bounds = np.empty((n_chunks, stored, d))
        s, xa, aa = s0.copy(), (s0.copy() if avg else empty), (s0.copy() if avg else empty)
        value, diverged = kern.forward_sgd(lam, w1, s, xa, aa, lr, batch, rho, nsgd, kex, trace, noise, L, bounds,
                                           ws, wa, *record, limit)
    else:
        momentum = np.zeros(steps) + mom
        momentum[0] = 0.0  # w_{−1} = w_0: step 0 has no momentum term (docs/math.md#heavy-ball-momentum)
        stored, buffered = (5, 3) if avg else (3, 2)
        L = _chunk_length(steps, stored, buffered, chunk)
        n_chunks = -(-steps // L)
        sub = L
        _check_memory(d, steps, n_chunks * stored + L * buffered)
        bounds = np.empty((n_chunks, stored, d))
        s, c, p = s0.copy(), s0.copy(), s0.copy()
        xa, ya, aa = ((s0.copy(), s0.copy(), s0.copy()) if avg else (empty, empty, empty))
        value, diverged = kern.forward_momentum(lam, w1, s, c, p, xa, ya, aa, lr, batch, momentum, rho, nsgd, kex,
                                                trace, noise, L, bounds, ws, wa, *record, limit)
    if diverged >= 0:
        raise DivergenceError(int(diverged), 0, schedule.label)
    step_lr, step_batch = np.zeros(steps), np.zeros(steps)
    if mom is None:
        marks, pair, buf = np.empty((-(-L // sub), stored, d)), np.empty((2, stored, d)), np.empty((sub, stored, d))
        kern.backward_sgd(lam, w1, bounds, L, sub, lr, batch, rho, nsgd, kex, trace, noise, ws, wa, *record, marks,
                          pair, buf, step_lr, step_batch)
    else:
        buf = np.empty((L, buffered, d))
        marks = pair = np.zeros(0)
        kern.backward_momentum(lam, w1, bounds, L, lr, batch, momentum, rho, nsgd, kex, trace, noise, ws, wa,
                               *record, buf, np.empty((2, d)), step_lr, step_batch)
    if not (np.all(np.isfinite(step_lr)) and np.all(np.isfinite(step_batch)) and math.isfinite(value)):
        raise GradientOverflowError("the gradient overflows float64 for this problem and schedule (the trajectory "
                                    "stays below the divergence bound but its adjoint does not): lower the learning "
                                    "rates")
    starts = np.concatenate([[0], np.cumsum(blocks)[:-1]])
    memory = (bounds.nbytes + buf.nbytes + marks.nbytes + pair.nbytes + 10 * steps * 8 + 8 * d * 8)
    return RiskGradient(
        value=float(value),
        d_log_lr=readonly(np.add.reduceat(step_lr, starts)),
        d_log_batch=readonly(np.add.reduceat(step_batch, starts)),
        step_d_log_lr=readonly(step_lr), step_d_log_batch=readonly(step_batch),
        segment_steps=readonly(blocks.copy()), objective=objective,
        checkpoints=None if checks is None else readonly(checks.astype(np.int64)),
        optimizer=spec, average=averaging, chunk=int(L), memory_bytes=int(memory),
        sub_chunk=int(sub),
    )


# ============================================================================ the Hessian
@dataclass(frozen=True, eq=False)
class RiskHessian(FrozenRecord):
    """The Hessian of an objective in ``θ = (log η_1 … log η_K, log B_1 … log B_K)`` (docs/math.md#risk-hessian).

    Attributes
    ----------
    value : float
        The objective at the schedule.
    gradient : ndarray, shape (2K,)
        ``∂J/∂θ`` (exact, :func:`risk_gradient`).
    hessian : ndarray, shape (2K, 2K)
        ``∂²J/∂θ²``, symmetrised: ``(H + Hᵀ)/2`` of the central differences of the exact gradient.
    eigenvalues : ndarray, shape (2K,)
        Of ``hessian``, ascending.
    eigenvectors : ndarray, shape (2K, 2K)
        Column ``j`` belongs to ``eigenvalues[j]`` (unit norm). A parameter without effect (an exactly zero
        row and column of ``hessian``, e.g. the rate of a segment whose rates are 0) has its unit vector and
        eigenvalue 0; the rest is ``numpy.linalg.eigh`` of the other rows and columns.
    asymmetry : float
        ``max |H − Hᵀ| / max |H|`` before symmetrising: an estimate of the difference error.
    step : float
        The difference step in ``θ``.
    optimizer : OptimizerSpec

    Examples
    --------
    >>> from ramplab.theory import Problem, Schedule, risk_hessian
    >>> h = risk_hessian(Problem.isotropic(3, noise_variance=0.1), Schedule.from_segments([0.1, 0.2], [2, 4], [20, 20]))
    >>> h.hessian.shape, bool(h.asymmetry < 1e-5)
    ((4, 4), True)
    """

    value: float
    gradient: np.ndarray
    hessian: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    asymmetry: float
    step: float
    optimizer: OptimizerSpec


def _theta_schedule(schedule: Schedule, blocks: np.ndarray, log_lr: np.ndarray, log_batch: np.ndarray) -> Schedule:
    """The schedule with block ``k``'s rates and batches multiplied by ``exp(log_lr[k])``, ``exp(log_batch[k])``."""
    lr, batch = schedule.step_arrays(0, len(schedule))
    lr = lr * np.repeat(np.exp(log_lr), blocks)
    batch = np.maximum(batch * np.repeat(np.exp(log_batch), blocks), 1.0)
    return Schedule(lr, batch, integer_batch=False, label=schedule.label)


def _eigh_active(H: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``eigh`` of the rows and columns of ``H`` that are not exactly zero (parameters with an effect); each zero
    row adds its unit vector with eigenvalue 0, so ``V diag(w) Vᵀ`` keeps those zeros exactly. Ascending."""
    n = H.shape[0]
    active = np.flatnonzero(np.any(H != 0.0, axis=0))
    vals = np.zeros(n)
    vecs = np.zeros((n, n))
    idle = np.setdiff1d(np.arange(n), active)
    vecs[idle, active.size + np.arange(idle.size)] = 1.0
    if active.size:
        w, v = np.linalg.eigh(H[np.ix_(active, active)])
        vals[:active.size] = w
        vecs[np.ix_(active, np.arange(active.size))] = v
    order = np.argsort(vals, kind="stable")
    return vals[order], vecs[:, order]


def risk_hessian(
    problem: Problem,
    schedule: Schedule,
    optimizer: str | OptimizerSpec = "sgd",
    objective: str = "final",
    checkpoints: Any = None,
    average: str | Averaging | None = None,
    *,
    segment_steps: Any = None,
    step: float = 1e-4,
) -> RiskHessian:
    """Hessian of the objective in the segments' log learning rates and log batch sizes, with its eigen-decomposition.

    Column ``j`` is the central difference ``(g(θ + h e_j) − g(θ − h e_j)) / 2h`` of the exact
    gradient :func:`risk_gradient` (docs/math.md#risk-hessian); its error is ``O(h²)`` from the third
    derivative plus ``O(ε‖g‖/h)`` from rounding, about 1e-8 relative at the default ``h = 1e-4``,
    and :attr:`RiskHessian.asymmetry` estimates it. The result is symmetrised. Costs ``4K`` gradients.
    Batches are real numbers here and at least 1: the column of a segment whose batch ``B < e^h`` would fall
    below 1 is the one-sided ``(−3 g(θ) + 4 g(θ + h e_j) − g(θ + 2h e_j)) / 2h`` instead (also ``O(h²)``).

    Parameters
    ----------
    problem, schedule, optimizer, objective, checkpoints, average, segment_steps
        As in :func:`risk_gradient`.
    step : float, default 1e-4
        The difference step ``h`` in ``log η`` and ``log B``.

    Returns
    -------
    RiskHessian

    Raises
    ------
    TypeError, ValueError, DivergenceError
        As :func:`risk_gradient`; ``step`` not in ``[1e-8, 0.1]``.

    Examples
    --------
    >>> from ramplab.theory import Problem, Schedule
    >>> h = risk_hessian(Problem.isotropic(2, noise_variance=0.5), Schedule.from_segments([0.1], [4], [200]))
    >>> h.eigenvalues.shape
    (2,)
    """
    h = finite_real(step, "step")
    if not 1e-8 <= h <= 0.1:
        raise ValueError(f"step must lie in [1e-8, 0.1] (a smaller step loses the difference to rounding); got "
                         f"{step!r}")
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a Schedule; got {type(schedule).__name__}")
    blocks = _segment_steps(schedule, segment_steps)
    kw = dict(optimizer=optimizer, objective=objective, checkpoints=checkpoints, average=average)
    base = risk_gradient(problem, schedule, segment_steps=blocks, **kw)
    K = blocks.size
    H = np.empty((2 * K, 2 * K))
    zero = np.zeros(K)
    _, batch = schedule.step_arrays(0, len(schedule))
    lowest = np.minimum.reduceat(batch, np.concatenate([[0], np.cumsum(blocks)[:-1]]))
    for j in range(2 * K):
        # at batch 1 the step below would be held at 1 (half a forward difference): one-sided there
        one_sided = j >= K and lowest[j - K] * math.exp(-h) < 1.0
        cols = []
        for sign in ((1.0, 2.0) if one_sided else (1.0, -1.0)):
            dl, db = zero.copy(), zero.copy()
            (dl if j < K else db)[j % K] = sign * h
            cols.append(risk_gradient(problem, _theta_schedule(schedule, blocks, dl, db), segment_steps=blocks,
                                      **kw).gradient)
        H[:, j] = ((4.0 * cols[0] - cols[1] - 3.0 * base.gradient) if one_sided else (cols[0] - cols[1])) / (2.0 * h)
    scale = float(np.max(np.abs(H))) or 1.0
    asym = float(np.max(np.abs(H - H.T))) / scale
    H = 0.5 * (H + H.T)
    vals, vecs = _eigh_active(H)
    return RiskHessian(value=base.value, gradient=readonly(base.gradient), hessian=readonly(H),
                       eigenvalues=readonly(vals), eigenvectors=readonly(vecs), asymmetry=asym, step=h,
                       optimizer=base.optimizer)


@dataclass(frozen=True, eq=False)
class FlatDirection(FrozenRecord):
    """The flattest direction of a :class:`RiskHessian` beside the equivalence family (docs/math.md#risk-hessian).

    Attributes
    ----------
    direction : ndarray, shape (2K,)
        The unit eigenvector of the eigenvalue of smallest magnitude, ``(δ log η, δ log B)``.
    eigenvalue : float
        Its eigenvalue.
    relative_eigenvalue : float
        ``|eigenvalue| / max |eigenvalues|``: how flat it is compared with the stiffest direction.
    family_exponent : float
        ``p`` of the family ``η/B^p = const`` compared with: 1 for SGD, ½ for NSGD.
    global_alignment : float
        ``|cos|`` of the angle between ``direction`` and the global family move
        ``(p·1_K, 1_K)/‖·‖`` (every batch × ``c``, every rate × ``c^p``).
    family_alignment : float
        Norm of the projection of ``direction`` on the ``K``-dimensional family subspace
        ``{(p u, u)}`` (each segment moved along its own family): 1 when the flat direction keeps
        every ``η_k/B_k^p``.
    family_curvature : float
        Rayleigh quotient ``vᵀHv`` of the global family move ``v`` over ``max |eigenvalues|``.

    Examples
    --------
    >>> from ramplab.theory import Problem, Schedule, risk_hessian, flat_direction
    >>> h = risk_hessian(Problem.isotropic(2, 1.0, 0.0, noise_variance=1.0),
    ...                  Schedule.from_segments([0.01], [4], [3000]))
    >>> bool(flat_direction(h).global_alignment > 0.99)
    True
    """

    direction: np.ndarray
    eigenvalue: float
    relative_eigenvalue: float
    family_exponent: float
    global_alignment: float
    family_alignment: float
    family_curvature: float


def flat_direction(hessian: RiskHessian, exponent: float | None = None) -> FlatDirection:
    """The flattest direction of the Hessian and how close it is to ``η/B = const`` (SGD) or ``η/√B`` (NSGD).

    In the variance-dominated regime the stationary risk depends on ``η/B`` (SGD, docs/math.md#stability)
    or ``η/√B`` (NSGD with the expected denominator, docs/math.md#normalized-sgd), so moving along
    that family barely changes the objective: the Hessian's smallest-magnitude eigenvector should lie
    along it. The alignments say how far that holds at a given schedule (docs/math.md#risk-hessian).
    A segment whose parameters no longer matter (its effect forgotten by the end) adds exactly flat
    directions of its own, and the smallest eigenvalue is then degenerate: read one segment at a
    time, or :attr:`FlatDirection.family_curvature`.

    Parameters
    ----------
    hessian : RiskHessian
        From :func:`risk_hessian`.
    exponent : float, optional
        ``p`` of ``η/B^p``; default 1 for SGD, ½ for NSGD (heavy ball: that of the inner rule).

    Returns
    -------
    FlatDirection

    Raises
    ------
    TypeError
        For a ``hessian`` that is not a :class:`RiskHessian`.

    Examples
    --------
    >>> from ramplab.theory import Problem, Schedule, risk_hessian
    >>> h = risk_hessian(Problem.isotropic(2, 1.0, 0.0, noise_variance=1.0),
    ...                  Schedule.from_segments([0.01], [4], [3000]))
    >>> f = flat_direction(h)
    >>> f.family_exponent, bool(f.relative_eigenvalue < 0.05)
    (1.0, True)
    """
    if not isinstance(hessian, RiskHessian):
        raise TypeError(f"hessian must be a RiskHessian; got {type(hessian).__name__}")
    spec = hessian.optimizer
    inner = spec.optimizer if isinstance(spec, HeavyBall) else spec.name
    p = (0.5 if inner == "nsgd" else 1.0) if exponent is None else finite_real(exponent, "exponent")
    vals, vecs = hessian.eigenvalues, hessian.eigenvectors
    k = int(np.argmin(np.abs(vals)))
    v = vecs[:, k]
    K = v.size // 2
    scale = float(np.max(np.abs(vals))) or 1.0
    h = math.hypot(p, 1.0)  # (p, 1)/h is a unit vector for any finite p
    fam = np.concatenate([np.full(K, p / h), np.full(K, 1.0 / h)]) / math.sqrt(K)
    # projection on {(p u, u)}: per segment onto (p, 1)/h
    per = (p / h) * v[:K] + v[K:] / h
    return FlatDirection(direction=readonly(v.copy()), eigenvalue=float(vals[k]),
                         relative_eigenvalue=abs(float(vals[k])) / scale, family_exponent=float(p),
                         global_alignment=abs(float(fam @ v)), family_alignment=float(np.linalg.norm(per)),
                         family_curvature=float(fam @ hessian.hessian @ fam) / scale)
