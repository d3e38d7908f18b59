"""Exact expected dynamics of mini-batch SGD and normalized SGD on noisy linear regression.

The state is the diagonal of the error second moment in the eigenbasis, ``s_i = E[(w_t − w*)_i²]``.
For inputs ``x = H^{1/2} z`` with i.i.d. standardised coordinates of fourth moment ``κ`` it obeys the
closed recursion (docs/math.md#sgd-second-moment-recursion)

    s_i ← (1 − ηλ_i)² s_i + (η²/B) [ (κ − 2) λ_i² s_i + λ_i (q + σ²) ],   q = Σ_j m_j λ_j s_j,

which is exact: off-diagonal moments never enter the diagonal (``m_j`` is the multiplicity of
coordinate ``j``, 1 unless the problem says otherwise). Normalized SGD with the *expected*
denominator is SGD with the deterministic rate ``η / sqrt(G_t)``, where

    G_t = E‖g_t‖² = (1 + (κ − 2)/B) Σ m λ² s + (tr H / B)(q + σ²)        (docs/math.md#normalized-sgd),

so it stays exact too. Several schedules run as one computation over a ``(rows, d)`` state; shorter
schedules are padded with zero learning rate, which leaves their state unchanged.

The solver is split along the mathematics (docs/math.md#exact-solver-layout):

- :func:`step_tables` — per-step ``(η, B)`` of several schedules, read in chunks and padded;
- :func:`initial_state` — the rows (full problem; with ``split`` the bias and variance rows);
- :func:`second_moment_step` — one step (the reference, for any array API backend); the fused
  compiled kernel in :mod:`~ramplab.theory.dynamics.kernels` does the same step, the averaging
  moments and the sums in one pass;
- packaging into :class:`RiskTrajectory`, at every step or at ``checkpoints``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence, overload

import numpy as np
from array_api_compat import is_cupy_namespace, is_numpy_namespace

from .._backend import resolve_backend, to_numpy
from . import cupy_kernels, kernels
from .._limits import MAX_TABLE_ENTRIES
from .._validate import choice, finite_real, flag, nonnegative_int, positive_int, real_array, real_vector, strict_real_array
from .averaging import Averaging, resolve_average
from .problem import Problem
from ..schedules._schedule import Schedule, schedule_list

__all__ = [
    "DivergenceError",
    "KERNELS",
    "RiskTrajectory",
    "expected_risk",
    "gradient_second_moment",
    "initial_state",
    "second_moment_step",
    "step_tables",
]

OPTIMIZERS = ("sgd", "nsgd")
KERNELS = ("auto", "fused", "reference")
# How often (in steps) the loop looks for a non-finite state, so that a diverged run stops early
# without a reduction on every step.
_DIVERGENCE_CHECK_EVERY = 256
# Steps per chunk of the step tables (a multiple of the check period): memory is O(rows · chunk).
_CHUNK = 16 * _DIVERGENCE_CHECK_EVERY
# One schedule with at least this many state entries runs its tiles in parallel at every step.
_WIDE_MIN_ENTRIES = 16 * kernels.TILE


class DivergenceError(ArithmeticError):
    """A trajectory stopped being finite.

    Attributes
    ----------
    step : int
        First step (1-based) after which the second moments were not finite.
    schedule_index : int
        Position of the schedule in the call.
    label : str
        The schedule's label.

    Examples
    --------
    SGD at ``η = 5`` on ``λ = 1`` is far past the stability edge (docs/math.md#divergence):

    >>> from ramplab.theory import Problem, Schedule, expected_risk
    >>> try:
    ...     expected_risk(Problem.isotropic(2), Schedule.constant(5.0, 1, steps=100))
    ... except DivergenceError as error:
    ...     print(error.step, error.schedule_index)
    7 0
    """

    def __init__(self, step: int, schedule_index: int, label: str) -> None:
        self.step, self.schedule_index, self.label = step, schedule_index, label
        name = f" {label!r}" if label else ""
        super().__init__(
            f"schedule {schedule_index}{name} diverged at step {step}: its excess risk is not finite or exceeds "
            f"divergence_threshold × (R(0) + σ²) (docs/math.md#divergence) "
            f"(pass on_divergence='flag' to get the trajectory up to that step)"
        )


@dataclass(frozen=True, eq=False)
class RiskTrajectory:
    """Exact excess risk along one schedule. Arrays are NumPy.

    By default every curve is indexed by step ``0 … T``. With ``checkpoints=`` every curve,
    including the per-step diagnostics, holds only the checkpoint steps ``steps``
    (docs/math.md#exact-solver-layout).

    Attributes
    ----------
    schedule : Schedule
    optimizer : str
    steps : ndarray, shape (T+1,) or (K,)
        ``0 … T``, or the checkpoint steps that do not exceed ``T``.
    samples : ndarray, same shape as ``steps``
        Cumulative samples after each of ``steps`` (0 at step 0).
    risk : ndarray, shape (T+1,) or (K,)
        ``E R(w_t)``; ``risk[0]`` is the initial risk. ``+inf`` from ``diverged_at`` on.
    bias, variance : ndarray or None
        The split ``risk = bias + variance`` (``split=True``): the same recursion from ``s(0)``
        with ``σ² = 0`` and from ``s(0) = 0``. For NSGD both use the realised effective rates.
    averaged_risk : ndarray or None
        Excess risk of the iterate average (``average=...``), docs/math.md#iterate-averaging.
    effective_lr : ndarray, shape (T,) or (K,)
        Rate applied at each step (the schedule's for SGD, ``η/sqrt(G_t)`` for NSGD). Full curves
        have one entry per step ``1 … T``; at checkpoints, the entry for checkpoint ``t`` is step
        ``t``'s value (NaN at ``t = 0``, where no step was taken).
    gradient_second_moment : ndarray, shape (T,) or (K,)
        ``G_t = E‖g_t‖²`` at the state before step ``t`` (same indexing as ``effective_lr``).
    mean_variance_ratio : ndarray, shape (T,) or (K,)
        ``Σ λ² s / (G_t − Σ λ² s)``: squared norm of the mean gradient over the total gradient
        variance, before step ``t``. Small values are Seesaw's variance-dominated regime.
    diverged_at : int or None
        First step after which the state was not finite (only with ``on_divergence="flag"``).
        From there on the risk curves hold ``+inf`` and the per-step arrays ``NaN`` (undefined).
    final_second_moment : ndarray, shape (d,)
        ``s(T)`` (a diverged run keeps the non-finite state where it stopped).
    compression_error : float or None
        With ``compress=rtol``: the largest relative gap between this run and one at half the
        resolution, an estimate of the compression error (docs/math.md#spectral-compression).
    compressed_dimension : int or None
        With ``compress=rtol``: number of groups the spectrum was compressed to.

    Examples
    --------
    >>> from ramplab.theory import Problem, Schedule, expected_risk
    >>> r = expected_risk(Problem.isotropic(2), Schedule.constant(0.1, 2, steps=4))
    >>> r.steps.tolist(), r.samples.tolist(), r.risk.round(4).tolist()
    ([0, 1, 2, 3, 4], [0, 2, 4, 6, 8], [1.0, 0.825, 0.6806, 0.5615, 0.4633])
    """

    schedule: Schedule
    optimizer: str
    steps: np.ndarray
    samples: np.ndarray
    risk: np.ndarray
    effective_lr: np.ndarray
    gradient_second_moment: np.ndarray
    mean_variance_ratio: np.ndarray
    final_second_moment: np.ndarray
    bias: np.ndarray | None = None
    variance: np.ndarray | None = None
    averaged_risk: np.ndarray | None = None
    diverged_at: int | None = None
    compression_error: float | None = None
    compressed_dimension: int | None = None

    @property
    def final_risk(self) -> float:
        """Excess risk at the last recorded step (the last step, or the last checkpoint)."""
        return float(self.risk[-1])

    def at_samples(self, grid: Any, *, averaged: bool = False) -> np.ndarray:
        """Risk at sample counts ``grid``, linear between the recorded steps' sample counts.

        Parameters
        ----------
        grid : array_like
            Sample counts in ``[0, samples[-1]]``.
        averaged : bool
            Interpolate :attr:`averaged_risk` instead of :attr:`risk`.

        Returns
        -------
        ndarray, shape like ``grid``
            Expected excess risk at each sample count (piecewise linear in samples).

        Raises
        ------
        ValueError
            If ``grid`` is not finite or leaves ``[0, samples[-1]]``, or ``averaged=True`` on a
            trajectory computed without averaging.

        Examples
        --------
        >>> p = Problem.isotropic(2, noise_variance=0.0)
        >>> r = expected_risk(p, Schedule.constant(0.1, 2, steps=4))
        >>> bool(np.isclose(r.at_samples([4])[0], r.risk[2]))
        True
        """
        g = real_array(grid, "grid")
        if not np.all(np.isfinite(g)):
            raise ValueError(f"grid must be finite sample counts; got {grid!r}")
        total = float(self.samples[-1])
        # Tolerance: cumulative sums of real batch sizes carry rounding of ~1e-12 relative per step.
        if g.size and (np.min(g) < 0 or np.max(g) > total * (1 + 1e-9)):
            raise ValueError(f"grid must lie in [0, {total:g}] samples; got [{np.min(g):g}, {np.max(g):g}]")
        curve = self.averaged_risk if flag(averaged, "averaged") else self.risk
        if curve is None:
            raise ValueError("averaged=True needs a trajectory computed with average=...")
        return np.interp(g, self.samples.astype(np.float64), curve)


def _multiplicity(problem: Problem) -> np.ndarray:
    """Per-coordinate weights ``m_i`` (a coordinate stands for ``m_i`` identical ones); ones by default."""
    m = getattr(problem, "multiplicity", None)
    if m is None:
        return np.ones(problem.dimension)
    return np.asarray(m, dtype=np.float64)


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
    w1 = _multiplicity(problem) * lam
    m, q = float((w1 * lam) @ s), float(w1 @ s)
    trace = float(np.sum(w1))
    out = (1 + (problem.kurtosis - 2) / batch) * m + trace / batch * (q + problem.noise_variance)
    if not math.isfinite(out):
        raise ValueError(f"second_moment is too large for this problem: E‖g‖² overflows float64; got {s!r:.80}")
    return out


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
    rounding could otherwise leave −1e-17 when κ < 2). This is the reference implementation of the step;
    the fused kernel (docs/math.md#exact-solver-layout) performs the same operations.

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
        NumPy, CuPy or another array API namespace; default: that of ``s``.

    Returns
    -------
    array, shape (..., d)
        The second moments after the step, clamped at 0, in the namespace of ``s``.

    Examples
    --------
    With ``B = 1``, Gaussian data: ``(1 − 2ηλ + 2η²λ²) s + η²λ(q + σ²)`` = 0.5 + 0.25:

    >>> second_moment_step(np.array([1.0]), np.array([1.0]), 0.5, 1, 0.0).tolist()
    [0.75]
    """
    if xp is None or is_numpy_namespace(xp):
        # Called from outside the solver (which calls _second_moment_step on checked arrays): check.
        s = strict_real_array(s, "s")
        eigenvalues = strict_real_array(eigenvalues, "eigenvalues")
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
            return _second_moment_step(s, eigenvalues, lr, batch, noise_variance, kurtosis, q=q, xp=xp)
    return _second_moment_step(s, eigenvalues, lr, batch, noise_variance, kurtosis, q=q, xp=xp)


def _second_moment_step(s: Any, eigenvalues: Any, lr: Any, batch: Any, noise_variance: Any, kurtosis: float,
                        *, q: Any = None, xp: Any = None) -> Any:
    """:func:`second_moment_step` without the argument checks (the solver's arrays are checked)."""
    if q is None:
        if xp is None:
            from .._backend import array_namespace

            xp = array_namespace(s)
        q = xp.sum(s * eigenvalues, axis=-1, keepdims=True)
    x = lr * eigenvalues
    # (1 − x)² + (κ − 2) x²/B written as 1 − x (2 − c x) with c = 1 + (κ − 2)/B: fewer array passes.
    c = 1.0 + (kurtosis - 2.0) / batch
    out = (1.0 - x * (2.0 - c * x)) * s + (lr * lr / batch) * (q + noise_variance) * eigenvalues
    # The new state is ≥ 0 exactly for κ ≥ 1 (docs/math.md#sgd-second-moment-recursion), but with κ < 2 the
    # two terms can cancel and rounding leave −1e-17; clamp at 0 (NaN and inf pass unchanged).
    if xp is None:
        from .._backend import array_namespace
        xp = array_namespace(out)
    return xp.where(out < 0.0, 0.0, out)


# --------------------------------------------------------------------------------- the parts

def step_tables(schedules: Sequence[Schedule], start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-step ``(η, B)`` of several schedules for the 0-based steps ``start … stop − 1``.

    A schedule shorter than ``stop`` is padded with ``η = 0``, ``B = 1``, which leaves its state
    unchanged (docs/math.md#sgd-second-moment-recursion). Only ``schedule.step_arrays`` is read, so
    memory is ``O(len(schedules) · (stop − start))`` whatever the horizon.

    Parameters
    ----------
    schedules : sequence of Schedule
    start, stop : int
        Step range, ``0 ≤ start ≤ stop``.

    Returns
    -------
    lr, batch : ndarray, shape (len(schedules), stop − start)
        float64; row ``j`` is schedule ``j``.

    Examples
    --------
    >>> lr, batch = step_tables([Schedule.constant(0.1, 2, steps=3), Schedule.constant(0.2, 4, steps=1)], 0, 3)
    >>> lr.tolist(), batch.tolist()
    ([[0.1, 0.1, 0.1], [0.2, 0.0, 0.0]], [[2.0, 2.0, 2.0], [4.0, 1.0, 1.0]])
    """
    if isinstance(schedules, (Schedule, str, bytes, dict)) or not hasattr(schedules, "__iter__"):
        raise TypeError(f"schedules must be a sequence of Schedule; got {type(schedules).__name__}")
    try:
        schedules = list(schedules)
    except TypeError as exc:  # a 0-d array has __iter__ but does not iterate
        raise TypeError(f"schedules must be a sequence of Schedule; got {schedules!r:.80}") from exc
    if not all(isinstance(s, Schedule) for s in schedules):
        raise TypeError("schedules must be a sequence of Schedule")
    start, stop = nonnegative_int(start, "start"), nonnegative_int(stop, "stop")
    if not 0 <= start <= stop:
        raise ValueError(f"need 0 ≤ start ≤ stop; got start={start}, stop={stop}")
    if len(schedules) * (stop - start) > MAX_TABLE_ENTRIES:
        raise ValueError(f"stop − start = {stop - start} steps of {len(schedules)} schedules exceed "
                         f"MAX_TABLE_ENTRIES = {MAX_TABLE_ENTRIES}; read the steps in chunks")
    lr = np.zeros((len(schedules), stop - start))
    batch = np.ones((len(schedules), stop - start))
    for j, sched in enumerate(schedules):
        end = min(stop, len(sched))
        if end > start:
            lr[j, : end - start], batch[j, : end - start] = sched.step_arrays(start, end)
    return lr, batch


def initial_state(problem: Problem, n_schedules: int, split: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Initial rows of the solver state and their noise variances.

    Rows ``0 … S−1`` are the full problem for each of the ``S`` schedules. With ``split``, rows
    ``S … 2S−1`` are the bias runs (``s(0)``, ``σ² = 0``) and rows ``2S … 3S−1`` the variance runs
    (``s(0) = 0``, the problem's ``σ²``); they reuse the full rows' effective rates
    (docs/math.md#sgd-second-moment-recursion).

    Parameters
    ----------
    problem : Problem
    n_schedules : int
    split : bool

    Returns
    -------
    state : ndarray, shape (rows, d)
        ``rows = S`` or ``3S``, float64.
    noise : ndarray, shape (rows,)

    Examples
    --------
    >>> s, noise = initial_state(Problem([1.0, 0.5], [2.0, 3.0], 0.1), 1, split=True)
    >>> s.tolist(), noise.tolist()
    ([[2.0, 3.0], [2.0, 3.0], [0.0, 0.0]], [0.1, 0.0, 0.1])
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {type(problem).__name__}")
    n_schedules = positive_int(n_schedules, "n_schedules",
                               maximum=max(1, MAX_TABLE_ENTRIES // (3 * problem.dimension)))
    split = flag(split, "split")
    s0 = np.broadcast_to(problem.initial_second_moment, (n_schedules, problem.dimension))
    rows = [s0] + ([s0, np.zeros_like(s0)] if split else [])
    noise = [problem.noise_variance] + ([0.0, problem.noise_variance] if split else [])
    return np.concatenate(rows, axis=0).astype(np.float64), np.repeat(np.asarray(noise, dtype=np.float64), n_schedules)


def _checkpoint_steps(checkpoints: Any, horizon: int) -> np.ndarray | None:
    if checkpoints is None:
        return None
    arr = np.asarray(checkpoints)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"checkpoints must be a non-empty 1-D sequence of steps; got shape {arr.shape}")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        if not (np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))):
            raise TypeError(f"checkpoints must be integer steps; got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.floating) and arr.size and np.max(np.abs(arr)) >= 2.0**63:
        raise ValueError(f"checkpoints must lie in [0, {horizon}] (the longest schedule); got {checkpoints!r:.80}")
    arr = arr.astype(np.int64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"checkpoints must be a non-empty 1-D sequence of steps; got shape {arr.shape}")
    if np.any(np.diff(arr) <= 0):
        raise ValueError("checkpoints must be sorted and unique")
    if arr[0] < 0 or arr[-1] > horizon:
        raise ValueError(f"checkpoints must lie in [0, {horizon}] (the longest schedule); got [{arr[0]}, {arr[-1]}]")
    return arr


class _Recorder:
    """Where each step lands in the output tables: every step, or only the checkpoints."""

    def __init__(self, horizon: int, checkpoints: np.ndarray | None) -> None:
        self.checkpoints = checkpoints
        self.columns = horizon + 1 if checkpoints is None else checkpoints.size

    def column_of_zero(self) -> int:
        if self.checkpoints is None:
            return 0
        return 0 if self.checkpoints[0] == 0 else -1

    def columns_for(self, start: int, stop: int) -> np.ndarray:
        """Column of the state after each step ``start … stop − 1`` (0-based), −1 when not recorded."""
        after = np.arange(start + 1, stop + 1, dtype=np.int64)
        if self.checkpoints is None:
            return after
        pos = np.searchsorted(self.checkpoints, after)
        pos_c = np.minimum(pos, self.checkpoints.size - 1)
        return np.where(self.checkpoints[pos_c] == after, pos_c, -1).astype(np.int64)


@dataclass
class _Run:
    """What the step loop hands to packaging (NumPy, float64)."""

    q: np.ndarray  # (rows, K): Σ m λ s at the recorded steps
    avg: np.ndarray | None  # (S, K): Σ m λ a
    eff: np.ndarray  # (S, K): the step's rate; column of step 0 NaN
    g2: np.ndarray  # (S, K)
    mean: np.ndarray  # (S, K): Σ m λ² s before the step
    first_bad: np.ndarray  # (S,): first step with a non-finite risk or averaged risk
    stopped_at: int  # steps computed for everyone (horizon unless a divergence stopped the loop)
    final: np.ndarray  # (S, d)


def _new_outputs(rows: int, n_sched: int, columns: int, averaging: bool) -> tuple[np.ndarray, ...]:
    nan = np.nan
    return (np.full((rows, columns), nan), np.full((n_sched, columns), nan) if averaging else None,
            np.full((n_sched, columns), nan), np.full((n_sched, columns), nan), np.full((n_sched, columns), nan))


def _run_fused(problem, sched_list, optimizer, weights_of, split, raise_on_divergence, dtype, recorder, horizon,
               limit):
    n_sched = len(sched_list)
    blocks = 3 if split else 1
    s64, noise = initial_state(problem, n_sched, split)
    lam64 = problem.eigenvalues
    w164 = _multiplicity(problem) * lam64
    dt = np.dtype(dtype)
    s = np.ascontiguousarray(s64, dtype=dt)
    lam = np.ascontiguousarray(lam64, dtype=dt)
    # Without multiplicities m λ is λ itself: the kernel then streams one weight array, not two.
    w1 = lam if np.all(w164 == lam64) else np.ascontiguousarray(w164, dtype=dt)
    sums = kernels.weighted_sums(s, lam, w1)
    averaging = weights_of is not None
    if averaging:
        a = s[:n_sched].copy()
        c = s[:n_sched].copy()
        sums[:n_sched, 2] = sums[:n_sched, 0]
    else:
        a = c = np.zeros((0, s.shape[1]), dtype=dt)
    out_q, out_avg, out_eff, out_g2, out_mean = _new_outputs(s.shape[0], n_sched, recorder.columns, averaging)
    k0 = recorder.column_of_zero()
    if k0 >= 0:
        out_q[:, k0] = sums[:, 0]
        if averaging:
            out_avg[:, k0] = sums[:n_sched, 2]
    lengths = np.array([len(x) for x in sched_list], dtype=np.int64)
    first_bad = np.full(n_sched, kernels.NEVER, dtype=np.int64)
    bad_check = np.full(n_sched, kernels.NEVER, dtype=np.int64)
    active = np.ones(n_sched, dtype=np.bool_)
    threads = kernels.thread_count()
    wide = n_sched == 1 and threads > 1 and blocks * s.shape[1] >= _WIDE_MIN_ENTRIES
    workers = min(threads, n_sched)
    stopped_at = horizon
    empty_rho = np.zeros(0)
    for t0 in range(0, horizon, _CHUNK):
        t1 = min(t0 + _CHUNK, horizon)
        lr, batch = step_tables(sched_list, t0, t1)
        rho = weights_of(t0, t1) if averaging else empty_rho
        args = (s, a, c, lam, w1, noise, sums, lr, batch, rho, recorder.columns_for(t0, t1), t0, lengths, horizon,
                out_q, out_avg if averaging else out_eff[:0], out_eff, out_g2, out_mean, first_bad, bad_check,
                active, optimizer == "nsgd", blocks, problem.kurtosis - 2.0, float(np.sum(w164)),
                _DIVERGENCE_CHECK_EVERY, limit)
        if wide:
            kernels.advance_wide(*args)
        else:
            kernels.advance_groups(workers, *args)
        if raise_on_divergence and bad_check.min() <= t1:
            stopped_at = int(bad_check.min())
            break
        if not active.any():
            break
    return _Run(out_q, out_avg, out_eff, out_g2, out_mean, first_bad, stopped_at,
                np.array(s[:n_sched], dtype=np.float64))


def _loop_must_stop(xp: Any, s: Any, t: int, raise_on_divergence: bool) -> bool:
    """Whether a reference loop (with or without momentum) stops after step ``t``: every
    ``_DIVERGENCE_CHECK_EVERY`` steps, once a second moment is not finite, if divergence raises
    or no row is finite any more (docs/math.md#divergence)."""
    if (t + 1) % _DIVERGENCE_CHECK_EVERY or bool(xp.all(xp.isfinite(s))):
        return False
    return raise_on_divergence or not bool(xp.any(xp.all(xp.isfinite(s), axis=1)))


def _record_chunk(hist: dict, xp: Any, recorder: "_Recorder", t0: int, t1: int, outs: tuple, limit: float,
                  blocks: int, n_sched: int, lengths: np.ndarray, first_bad: np.ndarray) -> None:
    """Store one chunk of the reference loops (with or without momentum) and note the first blow-up.

    ``hist`` holds the chunk's per-step sums (lists of ``(rows,)`` or ``(n_sched,)`` arrays, keys
    ``q, avg, eff, g2, mean``); they cross to NumPy in one transfer, only the recorded columns are
    kept in ``outs = (q, avg, eff, g2, mean)`` (``None`` where not tracked), and ``first_bad[j]``
    gets schedule ``j``'s first step in ``(t0, t1]`` whose risk (or averaged risk) exceeds ``limit``
    (docs/math.md#divergence).
    """
    table = {k: to_numpy(xp.stack(v, axis=1)) for k, v in hist.items() if v}
    cols = recorder.columns_for(t0, t1)
    keep = cols >= 0
    for name, out in zip(("q", "avg", "eff", "g2", "mean"), outs):
        if out is not None:
            out[:, cols[keep]] = table[name][:, keep]
    bad = ~(table["q"] <= limit).reshape(blocks, n_sched, -1).all(axis=0)
    if "avg" in table:
        bad |= ~(table["avg"] <= limit)
    steps_after = np.arange(t0 + 1, t1 + 1)
    for j in range(n_sched):
        hits = np.flatnonzero(bad[j] & (steps_after <= lengths[j]))
        if hits.size and first_bad[j] == kernels.NEVER:
            first_bad[j] = steps_after[hits[0]]


def _run_reference(problem, sched_list, optimizer, weights_of, split, raise_on_divergence, xp, dt, recorder, horizon,
                   limit):
    n_sched = len(sched_list)
    blocks = 3 if split else 1
    s_np, noise_np = initial_state(problem, n_sched, split)
    s = xp.asarray(s_np, dtype=dt)
    noise = xp.asarray(noise_np[:, None], dtype=dt)
    lam = xp.asarray(problem.eigenvalues, dtype=dt)
    w1_np = _multiplicity(problem) * problem.eigenvalues
    w1 = xp.asarray(w1_np, dtype=dt)
    # One matmul per step gives q = Σ mλs (all rows) and Σ mλ²s: the previous step's risk and this
    # step's gradient moments. The loop is overhead-bound, so passes over (rows, d) are kept few.
    moments = xp.stack([w1, w1 * lam], axis=1)
    kappa_excess, trace = problem.kurtosis - 2.0, float(np.sum(w1_np))
    noise_full = noise[:n_sched, 0]
    averaging = weights_of is not None
    out_q, out_avg, out_eff, out_g2, out_mean = _new_outputs(s.shape[0], n_sched, recorder.columns, averaging)
    k0 = recorder.column_of_zero()
    # On CuPy the step and the averaging update run as fused element-wise kernels, in place.
    gpu = is_cupy_namespace(xp)
    if gpu:
        import cupy

        step_kernel, average_kernel = cupy_kernels.second_moment_kernel(cupy), cupy_kernels.averaging_kernel(cupy)
    if averaging:
        avg, cross = s[:n_sched, :], s[:n_sched, :]  # ē_0 = e_0: a(0) = c(0) = s(0)
        if gpu:  # in-place updates: the three states must not share memory
            avg, cross = xp.asarray(avg, copy=True), xp.asarray(cross, copy=True)
    if k0 >= 0:
        out_q[:, k0] = to_numpy(s @ w1)
        if averaging:
            out_avg[:, k0] = to_numpy(xp.sum(avg * w1, axis=1))
    lengths = np.array([len(x) for x in sched_list])
    first_bad = np.full(n_sched, kernels.NEVER, dtype=np.int64)
    stopped_at = horizon
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for t0 in range(0, horizon, _CHUNK):
            t1 = min(t0 + _CHUNK, horizon)
            lr_tab, batch_tab = step_tables(sched_list, t0, t1)
            lr_rows, batch_rows = xp.asarray(lr_tab.T, dtype=dt), xp.asarray(batch_tab.T, dtype=dt)
            rho = weights_of(t0, t1) if averaging else None
            hist: dict[str, list[Any]] = {"q": [], "avg": [], "eff": [], "g2": [], "mean": []}
            stop = False
            for t in range(t0, t1):
                eta, batch = lr_rows[t - t0, :], batch_rows[t - t0, :]
                qm = s @ moments
                q, mean_part = qm[:, 0], qm[:n_sched, 1]
                g2 = (1.0 + kappa_excess / batch) * mean_part + (trace / batch) * (q[:n_sched] + noise_full)
                if optimizer == "nsgd":
                    # Zero gradient almost surely (s = 0, σ² = 0): the update is zero, whatever the rate.
                    positive = g2 > 0
                    eff = xp.where(positive, eta / xp.sqrt(xp.where(positive, g2, 1.0)), 0.0)
                else:
                    eff = eta
                if blocks > 1:
                    eff_col = xp.concat([eff] * blocks)[:, None]
                    batch_col = xp.concat([batch] * blocks)[:, None]
                else:
                    eff_col, batch_col = eff[:, None], batch[:, None]
                if gpu:
                    step_kernel(lam, eff_col, batch_col, noise, problem.kurtosis, q[:, None], s)
                    if averaging:
                        average_kernel(lam, eff_col[:n_sched, :], float(rho[t - t0]), s[:n_sched, :], avg, cross)
                        hist["avg"].append(avg @ w1)
                else:
                    if averaging:
                        cross = (1.0 - eff_col[:n_sched, :] * lam) * cross  # E[ē_{t-1} e_t]
                    s = _second_moment_step(s, lam, eff_col, batch_col, noise, problem.kurtosis, q=q[:, None])
                    if averaging:
                        r = float(rho[t - t0])
                        avg = (1.0 - r) ** 2 * avg + r**2 * s[:n_sched, :] + 2.0 * r * (1.0 - r) * cross
                        cross = (1.0 - r) * cross + r * s[:n_sched, :]
                        hist["avg"].append(xp.sum(avg * w1, axis=1))
                hist["eff"].append(eff)
                hist["g2"].append(g2)
                hist["mean"].append(mean_part)
                if _loop_must_stop(xp, s, t, raise_on_divergence):
                    stopped_at = t1 = t + 1
                    stop = True
                hist["q"].append(s @ w1)
                if stop:
                    break
            _record_chunk(hist, xp, recorder, t0, t1, (out_q, out_avg, out_eff, out_g2, out_mean), limit,
                          blocks, n_sched, lengths, first_bad)
            if stop:
                break
    return _Run(out_q, out_avg, out_eff, out_g2, out_mean, first_bad, stopped_at,
                to_numpy(s[:n_sched, :]).astype(np.float64))


def _mean_variance_ratio(g2: np.ndarray, mean: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        variance_part = g2 - mean
        return np.where(variance_part > 0, mean / np.where(variance_part > 0, variance_part, 1.0),
                        np.where(mean > 0, np.inf, np.where(np.isnan(mean), np.nan, 0.0)))


def _package(run: _Run, sched_list, optimizer, split, recorder, raise_on_divergence) -> list[RiskTrajectory]:
    n_sched = len(sched_list)
    results = []
    for j, sched in enumerate(sched_list):
        n = len(sched)
        if recorder.checkpoints is None:
            steps = np.arange(n + 1)
            cols = steps
        else:
            steps = recorder.checkpoints[recorder.checkpoints <= n]
            cols = np.arange(steps.size)
        limit = min(n, run.stopped_at)  # steps actually computed for this schedule
        diverged_at = int(run.first_bad[j]) if run.first_bad[j] <= limit else None
        if diverged_at is not None and raise_on_divergence:
            raise DivergenceError(diverged_at, j, sched.label)
        # Risks: +inf from the divergence step on; per-step values: NaN after it (the step that
        # diverged was taken from a finite state). Steps past a stopped loop are undefined too.
        risk_bad = steps > limit
        step_bad = (steps > limit) | (steps == 0)
        if diverged_at is not None:
            risk_bad |= steps >= diverged_at
            step_bad |= steps > diverged_at

        def risk_curve(table: np.ndarray | None, row: int) -> np.ndarray | None:
            if table is None:
                return None
            return np.where(risk_bad, np.inf, 0.5 * table[row, cols])

        def step_curve(table: np.ndarray) -> np.ndarray:
            out = np.where(step_bad, np.nan, table[j, cols])
            return out[1:] if recorder.checkpoints is None else out

        g2, mean = step_curve(run.g2), step_curve(run.mean)
        samples = sched.samples_at(steps)
        results.append(
            RiskTrajectory(
                schedule=sched,
                optimizer=optimizer,
                steps=steps,
                samples=samples,
                risk=risk_curve(run.q, j),
                effective_lr=step_curve(run.eff),
                gradient_second_moment=g2,
                mean_variance_ratio=_mean_variance_ratio(g2, mean),
                final_second_moment=np.array(run.final[j], dtype=np.float64),
                bias=risk_curve(run.q, j + n_sched) if split else None,
                variance=risk_curve(run.q, j + 2 * n_sched) if split else None,
                averaged_risk=risk_curve(run.avg, j),
                diverged_at=diverged_at,
            )
        )
    return results


def _resolve_dtype(xp: Any, dtype: Any) -> Any:
    """The backend's float64 or float32 for ``dtype`` (None → float64); anything else is a TypeError."""
    if dtype is None:
        return xp.float64
    if isinstance(dtype, (np.generic, np.ndarray)):  # np.dtype() would read a value's own dtype
        raise TypeError(f"dtype must be float64 or float32 (or None); got the value {dtype!r}")
    for candidate in (xp.float64, xp.float32):
        try:
            if dtype == candidate:
                return candidate
        except (TypeError, ValueError):
            pass
    try:
        as_numpy = np.dtype(dtype)
    except TypeError:
        as_numpy = None
    if as_numpy is not None and as_numpy.kind == "f" and as_numpy.itemsize in (4, 8):
        return xp.float32 if as_numpy.itemsize == 4 else xp.float64
    raise TypeError(f"dtype must be float64 or float32 (or None); got {dtype!r}")


def _fused_supported(xp: Any, dtype: Any) -> bool:
    if not (kernels.AVAILABLE and is_numpy_namespace(xp)):
        return False
    if dtype is None:
        return True
    try:
        return np.dtype(dtype) in (np.dtype(np.float64), np.dtype(np.float32))
    except TypeError:
        return False


@overload
def expected_risk(problem: Problem, schedules: Schedule, optimizer: str = ..., **kw: Any) -> RiskTrajectory: ...
@overload
def expected_risk(
    problem: Problem, schedules: Sequence[Schedule], optimizer: str = ..., **kw: Any
) -> tuple[RiskTrajectory, ...]: ...


def expected_risk(
    problem: Problem,
    schedules: Schedule | Sequence[Schedule],
    optimizer: str = "sgd",
    *,
    average: str | Averaging | None = None,
    split: bool = False,
    on_divergence: str = "raise",
    backend: Any = "numpy",
    dtype: Any = None,
    checkpoints: Any = None,
    kernel: str = "auto",
    divergence_threshold: float = 1e12,
    compress: float | None = None,
    momentum: Any = 0.0,
) -> RiskTrajectory | tuple[RiskTrajectory, ...]:
    """Exact expected excess risk of SGD or NSGD along one or several schedules.

    Parameters
    ----------
    problem : Problem
        Its multiplicities ``m_i``, if any, weight every sum over coordinates.
    schedules : Schedule or sequence of Schedule
        One schedule returns one :class:`RiskTrajectory`; a sequence (lengths may differ) runs as
        one vectorised computation and returns a tuple in the same order.
    optimizer : {"sgd", "nsgd"}
        ``"nsgd"`` divides the step by ``sqrt(E‖g_t‖²)``, the expected denominator of docs/math.md#normalized-sgd.
    average : None, "uniform" or Averaging
        Also track an iterate average (docs/math.md#iterate-averaging): ``"uniform"``
        (:class:`~ramplab.theory.dynamics.averaging.UniformAverage`),
        :class:`~ramplab.theory.dynamics.averaging.TailAverage` or
        :class:`~ramplab.theory.dynamics.averaging.ExponentialAverage`.
    split : bool
        Also return the bias/variance split.
    on_divergence : {"raise", "flag"}
        A diverging trajectory raises :class:`DivergenceError` naming the step, or (``"flag"``)
        sets ``diverged_at`` and ``+inf`` risk from that step on. A trajectory diverges at the first
        step whose risk (or averaged risk) is not finite or exceeds ``divergence_threshold`` times
        the problem's scale ``R(0) + σ²`` (docs/math.md#divergence).
    divergence_threshold : float, default 1e12
        The blow-up bound above, > 1. A stable run's excess risk stays within a moderate multiple
        of ``R(0) + σ²`` (the noise floor of a stable SGD run is ``O(σ² η tr H / B)`` with
        ``η tr H / B < 2``); 1e12 is far above anything a stable schedule reaches — warmup rises
        and NSGD's period-2 oscillation at its edge of stability stay many orders below it.
    backend : {"numpy", "array_api_strict", "cupy", "auto"} or namespace
        Where the recursion runs; results come back as NumPy arrays.
    dtype : {None, float64, float32}, optional
        Floating dtype of the state (the backend's float64 by default). Curves come back as
        float64 NumPy arrays either way. With float32 the fused kernel keeps the state in float32
        but does its arithmetic in float64; the reference path computes in float32. The relative
        deviation from float64 grows with the steps: about 1e-5 to 1e-4 over 1e5 steps (measured in
        docs/math.md#exact-solver-layout). Any other dtype (integer, complex, …) raises TypeError.
    checkpoints : array_like of int, optional
        Sorted unique steps in ``[0, T_max]`` (``T_max`` the longest schedule). Every curve is then
        returned only at these steps (``steps``, ``samples`` the checkpoints and their cumulative
        samples), and memory is ``O(rows · d + len(checkpoints))`` instead of ``O(rows · T)``.
        Checkpoints beyond a shorter schedule's length are dropped from that schedule's
        trajectory. Per-step diagnostics at checkpoint ``t`` are step ``t``'s values (NaN at
        ``t = 0``). ``None`` (default): every step.
    kernel : {"auto", "fused", "reference"}
        ``"fused"``: the compiled one-pass kernel (needs numba — the ``fast`` extra —, the NumPy
        backend and float64 or float32); ``"reference"``: the array API loop over
        :func:`second_moment_step`, for any backend; ``"auto"``: fused when supported. Both agree
        to rounding (docs/math.md#exact-solver-layout).

    compress : float, optional
        Relative tolerance ``rtol``: solve a spectrally compressed problem chosen for these schedules
        instead (groups of nearly equal eigenvalues, docs/math.md#spectral-compression), keeping the
        curves within ``rtol`` relative of the full problem; sets ``compression_error`` (an
        estimate from two resolutions) and ``compressed_dimension``. ``final_second_moment`` then
        holds each coordinate's group value. Not available with momentum (NotImplementedError).
    momentum : float or array_like of shape (T_max,), default 0.0
        Heavy-ball momentum ``μ`` (docs/math.md#heavy-ball-momentum): ``w_{t+1} = w_t − η_t g_t +
        μ_t (w_t − w_{t−1})`` with ``w_{−1} = w_0``, in the 0-based per-step indexing of the rates and
        batches (so ``μ_0`` is never used), for SGD and NSGD (whose step ``η_t g_t`` is divided by
        ``sqrt(E‖g_t‖²)`` as without momentum). A number in ``[0, 1)``, or one finite ``μ_t ≥ 0`` per
        step of the longest schedule ``T_max``; a shorter schedule uses the array's first ``T`` entries.
        ``torch.optim.SGD``'s momentum is heavy ball with changing ``μ_t``:
        :func:`~ramplab.theory.dynamics.momentum.heavy_ball_momentum_of_torch_sgd`. Zero (the default,
        or an array that is zero after its unused first entry) runs the plain solver unchanged. Averaging, ``split``,
        ``checkpoints`` and ``on_divergence`` work as without momentum; the fused kernel runs one
        schedule per thread; the CuPy backend and ``compress`` raise NotImplementedError.

    Returns
    -------
    RiskTrajectory or tuple of RiskTrajectory

    Raises
    ------
    DivergenceError
        With ``on_divergence="raise"``, for the first schedule (in call order) whose risk stops
        being finite.
    ValueError, TypeError
        For bad arguments (named in the message).
    NotImplementedError
        For ``momentum`` with ``compress`` or on the CuPy backend.

    Examples
    --------
    Halving the learning rate and doubling the batch agree to first order (the η/B temperature):

    >>> p = Problem.power_law(50, a=1.5, b=1.0, noise_variance=0.5)
    >>> halve = Schedule.from_phases([(0.4, 8, 4096), (0.2, 8, 4096)])
    >>> ramp = Schedule.from_phases([(0.4, 8, 4096), (0.4, 16, 4096)])
    >>> a, b = expected_risk(p, [halve, ramp])
    >>> a.samples[-1] == b.samples[-1], b.steps[-1] < a.steps[-1]
    (np.True_, np.True_)
    >>> bool(abs(a.final_risk / b.final_risk - 1) < 0.2)
    True

    Only a few steps of a long run:

    >>> r = expected_risk(p, Schedule.constant(0.4, 8, steps=100_000), checkpoints=[0, 10, 100_000])
    >>> r.steps.tolist(), r.samples.tolist(), r.risk.shape
    ([0, 10, 100000], [0, 80, 800000], (3,))

    Heavy-ball momentum 0.9 at a tenth of the rate moves about as fast as plain SGD early on:

    >>> plain, heavy = (expected_risk(p, Schedule.constant(r, 8, steps=200), momentum=mu, checkpoints=[200])
    ...                 for r, mu in ((0.4, 0.0), (0.04, 0.9)))
    >>> bool(abs(heavy.final_risk / plain.final_risk - 1) < 0.2)
    True
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {type(problem).__name__}")
    single = isinstance(schedules, Schedule)
    sched_list = schedule_list(schedules)
    split = flag(split, "split")
    if not isinstance(optimizer, str) or optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {optimizer!r:.80}")
    if not isinstance(on_divergence, str) or on_divergence not in ("raise", "flag"):
        raise ValueError(f"on_divergence must be 'raise' or 'flag'; got {on_divergence!r:.80}")
    if not isinstance(kernel, str) or kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}; got {kernel!r:.80}")
    horizon = max(len(s) for s in sched_list)
    from .momentum import resolve_momentum

    mom = resolve_momentum(momentum, horizon)
    if mom is not None and compress is not None:
        raise NotImplementedError("compress is not available with momentum (the grouping rule is derived for "
                                  "plain SGD/NSGD); pass compress=None")
    if compress is not None:
        from .compression import compressed_expected_risk

        return compressed_expected_risk(problem, schedules, optimizer, rtol=compress, average=average, split=split,
                                        on_divergence=on_divergence, backend=backend, dtype=dtype,
                                        checkpoints=checkpoints, kernel=kernel,
                                        divergence_threshold=divergence_threshold)
    threshold = finite_real(divergence_threshold, "divergence_threshold")
    if not threshold > 1.0:
        raise ValueError(f"divergence_threshold must be > 1; got {divergence_threshold!r}")
    xp = resolve_backend(backend)
    dtype = _resolve_dtype(xp, dtype)
    # In units of q = Σ mλs = 2 × risk, capped at the largest float so that inf (and NaN) always fail
    # ``q <= limit``; with R(0) = σ² = 0 only a non-finite state diverges.
    scale = problem.initial_risk + problem.noise_variance
    with np.errstate(over="ignore"):
        limit = float(min(2.0 * threshold * scale, np.finfo(np.float64).max)) if scale > 0 else float(np.finfo(np.float64).max)
    recorder = _Recorder(horizon, _checkpoint_steps(checkpoints, horizon))
    averaging = resolve_average(average)
    weights_of = None
    if averaging is not None:
        averaging.weights(np.array([horizon]))  # fails now, not mid-run, for a too short weight array

        def weights_of(start: int, stop: int) -> np.ndarray:
            return np.ascontiguousarray(averaging.weights(np.arange(start + 1, stop + 1)), dtype=np.float64)

    fused = _fused_supported(xp, dtype)
    if kernel == "fused" and not fused:
        raise ValueError(
            "kernel='fused' needs numba (the 'fast' extra), the NumPy backend and dtype float64 or float32"
            + ("" if kernels.AVAILABLE else "; numba is not importable")
        )
    raise_on_divergence = on_divergence == "raise"
    if mom is not None:
        from . import momentum as heavy_ball

        if is_cupy_namespace(xp):
            raise NotImplementedError("momentum is not available on the CuPy backend; use backend='numpy'")
        if fused and kernel != "reference":
            dt = np.float32 if dtype == xp.float32 else np.float64
            run = heavy_ball.run_fused(problem, sched_list, optimizer, weights_of, split, raise_on_divergence, dt,
                                       recorder, horizon, limit, mom)
        else:
            run = heavy_ball.run_reference(problem, sched_list, optimizer, weights_of, split, raise_on_divergence,
                                           xp, dtype, recorder, horizon, limit, mom)
    elif fused and kernel != "reference":
        dt = np.float32 if dtype == xp.float32 else np.float64
        run = _run_fused(problem, sched_list, optimizer, weights_of, split, raise_on_divergence, dt, recorder,
                         horizon, limit)
    else:
        run = _run_reference(problem, sched_list, optimizer, weights_of, split, raise_on_divergence, xp, dtype,
                             recorder, horizon, limit)
    results = _package(run, sched_list, optimizer, split, recorder, raise_on_divergence)
    return results[0] if single else tuple(results)
