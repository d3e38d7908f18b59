"""The one loop of the exact solver: chunks of steps, stop rules and a controller hook.

Every exact computation of ramplab that advances the second moments step by step runs here:
:func:`~ramplab.theory.expected_risk` (and through it compression), hitting times and the adaptive
growth rule. The loop is the same whatever advances the state (docs/math.md#exact-solver-layout):

1. **Backends** advance a chunk of steps of every schedule's rows: :class:`ReferenceBackend`, the
   array API loop over the functions of :mod:`._step` (NumPy, ``array_api_strict``, CuPy with two
   fused element-wise kernels), and :class:`FusedBackend`, the compiled numba kernels of
   :mod:`._kernels` (the same functions, compiled). Both keep the same books: per schedule the first
   step whose risk (or averaged risk) is not ``≤ limit`` (``first_bad``) and, at the check steps
   (multiples of :data:`~._step.DIVERGENCE_CHECK_EVERY`), whether the state itself stopped being
   finite (``bad_check``; the schedule stops there).
2. **The loop** (:func:`run`) reads the schedules' ``(η, B)`` in chunks (or asks a *controller* for
   them), hands them to the backend, keeps states where asked, and applies the **stop rules** at the
   end of each chunk: the divergence rule (docs/math.md#divergence: stop at the first check step
   that found a non-finite state when divergence raises, or once nothing finite is left; with a
   controller, also a schedule past the divergence bound, before the controller reads it) and the
   end of every schedule.
3. A **controller** (:class:`Controller`) may decide where chunks end and rewrite the next chunk's
   ``(η, B)`` from what it observes at the end of the previous one (:class:`LoopView`): the adaptive
   growth rule is one. A client's own stop rule — a target reached — stops rows between chunks of a
   continued run (:func:`._solver.advance_rows`, what the hitting times use), so no undefined steps are
   recorded.

Steps are counted from the start of the trajectory (``offset`` when a run continues from a
:class:`~._state.SolverState`), so averaging weights, momentum's step 0 and the check steps are the
same for a continued run as for the uninterrupted one, and the continuation is bitwise identical.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
from array_api_compat import is_cupy_namespace

from .._limits import MAX_TABLE_ENTRIES
from .._validate import flag, nonnegative_int, positive_int
from .._backend import to_numpy
from ..schedules._schedule import Schedule
from . import _cupy_kernels, _kernels
from . import _step as step
from ._problem import Problem
from ._state import SolverState

__all__ = ["initial_state", "step_tables"]

#: Steps per chunk of the step tables (a multiple of the check period): memory is O(rows · chunk).
CHUNK = 16 * step.DIVERGENCE_CHECK_EVERY
#: Retired (#20): one schedule used to run its tiles in parallel, meeting at a barrier every step, from
#: this many state entries on; it was slower than one thread at every size measured, and a single
#: schedule now always runs on one thread. Kept so that code which set it keeps working.
WIDE_MIN_ENTRIES = 16 * _kernels.TILE
#: A step that never happens ("not yet" in ``first_bad`` / ``bad_check``).
NEVER = _kernels.NEVER


# ------------------------------------------------------------------------------------ tables
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

    Raises
    ------
    TypeError
        For ``schedules`` that is not a sequence of Schedule.
    ValueError
        For a bad step range, or more than ``MAX_TABLE_ENTRIES`` entries.

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


def momentum_tables(momentum: float | np.ndarray, lengths: np.ndarray, start: int, stop: int,
                    offset: int = 0) -> np.ndarray:
    """Per-step ``μ`` of each schedule for its 0-based steps ``start … stop − 1``, shape ``(S, stop − start)``.

    A schedule of length ``T_j`` uses ``μ_t`` for ``t < T_j`` (a prefix of an array) and 0 on its
    padding, where the rate is 0 too, so its iterate stays put. The trajectory's step 0 (``offset +
    t = 0``) always gets 0 (``w_{−1} = w_0``, docs/math.md#heavy-ball-momentum).
    """
    steps = np.arange(start, stop)
    row = np.full(stop - start, float(momentum)) if np.ndim(momentum) == 0 else np.array(momentum[start:stop])
    row[steps + offset == 0] = 0.0
    out = np.where(steps[None, :] < np.asarray(lengths)[:, None], row[None, :], 0.0)
    return np.ascontiguousarray(out, dtype=np.float64)


def decay_tables(weight_decay: float | np.ndarray, lr: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Per-step decay ``u = η_t ω_t`` of each schedule for its 0-based steps ``start … stop − 1``, shape ``(S, L)``.

    ``lr`` is the chunk's table of the schedules' own rates (for NSGD the rate before normalization:
    AdamW's convention, docs/math.md#weight-decay); a schedule's padding has ``η = 0``, so no decay.
    """
    omega = float(weight_decay) if np.ndim(weight_decay) == 0 else np.asarray(weight_decay)[start:stop][None, :]
    return np.ascontiguousarray(lr * omega, dtype=np.float64)


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

    Raises
    ------
    TypeError
        For a ``problem`` that is not a :class:`Problem`.
    ValueError
        For a non-positive ``n_schedules`` or a state of more than ``MAX_TABLE_ENTRIES`` entries.

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


# ------------------------------------------------------------------------------------ records
class Recorder:
    """Where each step lands in the output tables: every step, or only the checkpoints.

    Steps here are relative to the start of the run (``0 … horizon``).
    """

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
class Outputs:
    """The recorded columns (NumPy, float64; NaN where not recorded).

    ``q (R, K)``: ``Σ m λ s`` after the step (twice the risk); ``avg (S, K)``: ``Σ m λ A``;
    ``eff, g2, mean (S, K)``: the step's rate, ``E‖g‖²`` and ``Σ m λ² s`` before it.
    """

    q: np.ndarray
    avg: np.ndarray | None
    eff: np.ndarray
    g2: np.ndarray
    mean: np.ndarray

    @classmethod
    def empty(cls, rows: int, n_sched: int, columns: int, averaging: bool) -> "Outputs":
        nan = np.nan
        return cls(np.full((rows, columns), nan), np.full((n_sched, columns), nan) if averaging else None,
                   np.full((n_sched, columns), nan), np.full((n_sched, columns), nan),
                   np.full((n_sched, columns), nan))


@dataclass
class Books:
    """Divergence bookkeeping shared by every backend (docs/math.md#divergence), per schedule."""

    first_bad: np.ndarray  # first step whose risk (or averaged risk) is not ≤ limit
    bad_check: np.ndarray  # check step at which the state was found non-finite (the schedule stopped)
    active: np.ndarray  # still advancing

    @classmethod
    def new(cls, n_sched: int) -> "Books":
        return cls(np.full(n_sched, NEVER, dtype=np.int64), np.full(n_sched, NEVER, dtype=np.int64),
                   np.ones(n_sched, dtype=np.bool_))


# ------------------------------------------------------------------------------------ the setting
@dataclass
class Setting:
    """What every backend needs to know about one computation (checked by the caller)."""

    problem: Problem
    n_sched: int
    split: bool
    nsgd: bool
    averaging: bool
    momentum: bool
    limit: float
    decay: bool = False  # weight decay: the cross moments with the target come along (docs/math.md#weight-decay)

    @property
    def blocks(self) -> int:
        return 3 if self.split else 1

    @property
    def rows(self) -> int:
        return self.blocks * self.n_sched

    @property
    def weights(self) -> np.ndarray:
        """``m λ``: the weights of ``q = Σ m λ s``."""
        return self.problem.multiplicity * self.problem.eigenvalues

    @property
    def trace(self) -> float:
        return float(np.sum(self.weights))

    def state_names(self) -> tuple[tuple[str, bool], ...]:
        """``(name, per-row)`` of the arrays the state holds; per-row arrays have ``R`` rows, the others ``S``."""
        names = [("second_moment", True)]
        if self.momentum:
            names += [("cross_moment", True), ("previous_moment", True)]
        if self.averaging:
            names += [("average_second_moment", False), ("average_cross_moment", False)]
            if self.momentum:
                names.append(("average_previous_moment", False))
        if self.decay:
            names.append(("target_moment", True))
            if self.momentum:
                names.append(("previous_target_moment", True))
            if self.averaging:
                names.append(("average_target_moment", False))
        return tuple(names)

    def target_rows(self) -> np.ndarray:
        """Per row, the factor of ``W = E w*² = s(0)`` (``w_0 = 0``): 1 on the full and bias rows, 0 on the
        variance rows (their target is 0), float64 of shape ``(R,)`` (docs/math.md#weight-decay)."""
        factors = np.ones(self.rows)
        if self.split:
            factors[2 * self.n_sched:] = 0.0
        return factors


def start_arrays(setting: Setting, start: Sequence[SolverState] | None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The state arrays at the start (fresh, or stacked from one state per schedule) and the row noises."""
    s0, noise = initial_state(setting.problem, setting.n_sched, setting.split)
    if start is None:
        arrays = {}
        target0 = -(setting.problem.initial_second_moment[None, :] * setting.target_rows()[:, None])
        for name, per_row in setting.state_names():
            init = target0 if name.endswith("target_moment") else s0
            arrays[name] = init.copy() if per_row else init[: setting.n_sched].copy()
        return arrays, noise
    S, B = setting.n_sched, setting.blocks
    arrays = {}
    for name, per_row in setting.state_names():
        if per_row:
            stacked = np.empty((setting.rows, setting.problem.dimension))
            for j, state in enumerate(start):
                for b in range(B):
                    stacked[j + b * S] = getattr(state, name)[b]
        else:
            stacked = np.stack([getattr(state, name) for state in start])
        arrays[name] = stacked
    return arrays, noise


# ------------------------------------------------------------------------------------ backends
class FusedBackend:
    """The compiled kernels of :mod:`._kernels` (NumPy, numba; float64 or float32 state)."""

    def __init__(self, setting: Setting, arrays: dict[str, np.ndarray], noise: np.ndarray, dtype: Any) -> None:
        self.setting = setting
        dt = np.dtype(dtype)
        lam64, w164 = setting.problem.eigenvalues, setting.weights
        # Fresh (writable) copies: every call then has the kernels' one signature per dtype, whatever
        # flags the problem's arrays carry (a read-only λ would compile a second specialisation).
        self.lam = np.array(lam64, dtype=dt, order="C")
        # Without multiplicities m λ is λ itself: the kernel then streams one weight array, not two.
        self.w1 = self.lam if np.all(w164 == lam64) else np.array(w164, dtype=dt, order="C")
        self.noise = noise
        self.arrays = {k: np.ascontiguousarray(v, dtype=dt) for k, v in arrays.items()}
        d = self.lam.shape[0]
        empty = np.zeros((0, d), dtype=dt)
        self.s = self.arrays["second_moment"]
        self.sums = _kernels.weighted_sums(self.s, self.lam, self.w1)
        if setting.averaging:
            # Σ m λ A in the kernels' summation order, so that a continued run reads the same sums.
            self.sums[: setting.n_sched, 2] = _kernels.weighted_sums(self.arrays["average_second_moment"], self.lam,
                                                                     self.w1)[:, 2]
        self.a = self.arrays.get("average_second_moment", empty)
        self.x = self.arrays.get("average_cross_moment", empty)
        self.y = self.arrays.get("average_previous_moment", empty)
        # Weight decay (docs/math.md#weight-decay): T, F, G, W = s(0) and its per-row factor; empty without.
        self.tg = self.arrays.get("target_moment", empty)
        self.fg = self.arrays.get("previous_target_moment", empty)
        self.gv = self.arrays.get("average_target_moment", empty)
        self.wt = np.array(setting.problem.initial_second_moment if setting.decay else np.zeros(d), dtype=dt)
        self.wrow = np.array(setting.target_rows(), dtype=dt)
        self.no_decay = np.zeros((0, 0))
        # Schedules are shared out between the threads (_kernels.run_workers); one schedule runs on one.
        self.workers = min(_kernels.thread_count(), setting.n_sched)

    def current_sums(self) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        st = self.setting
        return (self.sums[:, 0].copy(), self.sums[: st.n_sched, 2].copy() if st.averaging else None,
                self.sums[: st.n_sched, 1].copy())

    def advance(self, t0: int, lr: np.ndarray, batch: np.ndarray, mu: np.ndarray | None, rho: np.ndarray,
                rec: np.ndarray, lengths: np.ndarray, horizon: int, out: Outputs, books: Books,
                u: np.ndarray | None = None) -> None:
        st = self.setting
        tail = (out.q, out.avg if st.averaging else out.eff[:0], out.eff, out.g2, out.mean, books.first_bad,
                books.bad_check, books.active, st.nsgd, st.blocks, st.problem.kurtosis - 2.0, st.trace,
                step.DIVERGENCE_CHECK_EVERY, st.limit)
        udec = self.no_decay if u is None else np.ascontiguousarray(u, dtype=np.float64)
        if st.momentum:
            _kernels.advance_momentum_groups(
                self.workers, self.s, self.arrays["cross_moment"], self.arrays["previous_moment"], self.a, self.x,
                self.y, self.lam, self.w1, self.noise, self.sums, lr, batch, mu, rho, rec, t0, lengths, horizon,
                *tail, self.tg, self.fg, self.gv, self.wt, self.wrow, udec)
            return
        args = (self.s, self.a, self.x, self.lam, self.w1, self.noise, self.sums, lr, batch, rho, rec, t0, lengths,
                horizon, *tail, self.tg, self.gv, self.wt, self.wrow, udec)
        _kernels.advance_groups(self.workers, *args)

    def export(self) -> dict[str, np.ndarray]:
        return {k: np.array(v, dtype=np.float64) for k, v in self.arrays.items()}


def _average(arr: dict[str, Any], s_new: Any, moved: Any, r: float, *, previous: Any = None,
             target: Any = None) -> None:
    """Fold one step into the iterate average's moments in ``arr`` with weight ``ρ_t = r``
    (docs/math.md#iterate-averaging): the second and cross moments from the new second moment ``s_new`` and
    the moved cross moment ``moved``; with heavy ball (``previous``, the new ``C``) also the average's
    previous-step cross moment (docs/math.md#heavy-ball-averaging), with weight decay (``target``, the new
    target moment) also the average's target moment (docs/math.md#weight-decay)."""
    keep, alpha, beta, gamma = step.average_weights(r)
    if previous is not None:
        arr["average_previous_moment"] = step.averaged_cross(arr["average_cross_moment"], previous, keep, r)
    arr["average_cross_moment"] = step.averaged_cross(moved, s_new, keep, r)
    arr["average_second_moment"] = step.averaged_second_moment(arr["average_second_moment"], s_new, moved, alpha,
                                                               beta, gamma)
    if target is not None:
        arr["average_target_moment"] = step.averaged_cross(arr["average_target_moment"], target, keep, r)


class ReferenceBackend:
    """The array API loop over :mod:`._step` (any backend; on CuPy two fused element-wise kernels)."""

    def __init__(self, setting: Setting, arrays: dict[str, np.ndarray], noise: np.ndarray, xp: Any,
                 dtype: Any) -> None:
        self.setting, self.xp, self.dt = setting, xp, dtype
        self.arrays = {k: xp.asarray(v, dtype=dtype) for k, v in arrays.items()}
        if is_cupy_namespace(xp):  # in-place kernels: no two arrays may share memory
            self.arrays = {k: xp.asarray(v, copy=True) for k, v in self.arrays.items()}
        self.noise = xp.asarray(noise[:, None], dtype=dtype)
        self.lam = xp.asarray(setting.problem.eigenvalues, dtype=dtype)
        self.w1 = xp.asarray(setting.weights, dtype=dtype)
        # q = Σ mλs (all rows) and Σ mλ²s: the previous step's risk and this step's gradient moments, as
        # row-wise sums (each row reduced alone), never a matrix product: BLAS picks another kernel for
        # one row than for several, so a schedule's bits would depend on the others in the call.
        self.w2 = self.w1 * self.lam
        if setting.decay:  # W = E w*² = s(0) per row (0 on the variance rows), docs/math.md#weight-decay
            self.target_weight = xp.asarray(setting.problem.initial_second_moment[None, :]
                                            * setting.target_rows()[:, None], dtype=dtype)
        self.gpu = is_cupy_namespace(xp)
        if self.gpu:
            import cupy

            self.step_kernel = _cupy_kernels.second_moment_kernel(cupy)
            self.average_kernel = _cupy_kernels.averaging_kernel(cupy)

    def current_sums(self) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        xp, st = self.xp, self.setting
        s = self.arrays["second_moment"]
        # q as the loop computes it in a step (row-wise sums), so that a continued run's first entry is
        # the uninterrupted run's, bit for bit.
        q = to_numpy(xp.sum(s * self.w1, axis=1))
        mean = to_numpy(xp.sum(s[: st.n_sched, :] * self.w2, axis=1))
        avg = to_numpy(xp.sum(self.arrays["average_second_moment"] * self.w1, axis=1)) if st.averaging else None
        return q, avg, mean

    def _columns(self, values: Any) -> Any:
        """A per-schedule vector as a per-row column (repeated over the split blocks)."""
        if self.setting.blocks > 1:
            values = self.xp.concat([values] * self.setting.blocks)
        return values[:, None]

    def advance(self, t0: int, lr: np.ndarray, batch: np.ndarray, mu: np.ndarray | None, rho: np.ndarray,
                rec: np.ndarray, lengths: np.ndarray, horizon: int, out: Outputs, books: Books,
                u: np.ndarray | None = None) -> None:
        xp, st, dt = self.xp, self.setting, self.dt
        S, B = st.n_sched, st.blocks
        arr = self.arrays
        s = arr["second_moment"]
        lr_rows, batch_rows = xp.asarray(lr.T, dtype=dt), xp.asarray(batch.T, dtype=dt)
        mu_rows = xp.asarray(mu.T, dtype=dt) if st.momentum else None
        u_rows = xp.asarray(u.T, dtype=dt) if st.decay else None
        noise_full = self.noise[:S, 0]
        kex, trace = st.problem.kurtosis - 2.0, st.trace
        steps = lr.shape[1]
        hist: dict[str, list[Any]] = {"q": [], "avg": [], "eff": [], "g2": [], "mean": []}
        frozen = ~books.active  # schedules that stopped before this chunk keep their state
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for col in range(steps):
                eta, b_t = lr_rows[col, :], batch_rows[col, :]
                q, mean_part = xp.sum(s * self.w1, axis=1), xp.sum(s[:S, :] * self.w2, axis=1)
                g2 = step.gradient_norm2(step.batch_factor(kex, b_t), mean_part, trace, b_t, q[:S], noise_full)
                eff = step.nsgd_rates(xp, eta, g2) if st.nsgd else eta
                eff_col, batch_col = self._columns(eff), self._columns(b_t)
                # A schedule that stopped (divergence) or ended (its zero-rate padding would still move the
                # heavy-ball and averaging moments) keeps its state, as in the compiled kernels.
                hold = frozen | (t0 + col >= lengths)
                old = None
                if hold.any():  # the CuPy kernels update in place: keep copies there, references suffice elsewhere
                    old = {k: xp.asarray(v, copy=True) for k, v in arr.items()} if self.gpu else dict(arr)
                if st.decay:
                    s = self._decay_step(arr, s, eff_col, batch_col, mu_rows, u_rows, col, rho, kex, q)
                elif st.momentum:
                    mu_col = self._columns(mu_rows[col, :])
                    s_new, c_new, p_new = step.heavy_ball_step(xp, s, arr["cross_moment"], arr["previous_moment"],
                                                               self.lam, eff_col, mu_col, batch_col, self.noise,
                                                               kex, q[:, None])
                    if st.averaging:
                        a_t = (1.0 + mu_col[:S, :]) - eff_col[:S, :] * self.lam
                        z = step.heavy_ball_moved_cross(arr["average_cross_moment"], arr["average_previous_moment"],
                                                        a_t, mu_col[:S, :])
                        _average(arr, s_new[:S, :], z, float(rho[col]), previous=c_new[:S, :])
                    arr["cross_moment"], arr["previous_moment"] = c_new, p_new
                    s = s_new
                elif self.gpu:
                    self.step_kernel(self.lam, eff_col, batch_col, self.noise, st.problem.kurtosis, q[:, None], s)
                    if st.averaging:
                        self.average_kernel(self.lam, eff_col[:S, :], float(rho[col]), s[:S, :],
                                            arr["average_second_moment"], arr["average_cross_moment"])
                else:
                    if st.averaging:
                        moved = step.sgd_moved_cross(arr["average_cross_moment"], eff_col[:S, :] * self.lam)
                    s = step.sgd_step(xp, s, self.lam, eff_col, batch_col, self.noise, kex, q[:, None])
                    if st.averaging:
                        _average(arr, s[:S, :], moved, float(rho[col]))
                arr["second_moment"] = s
                if old is not None:
                    self._restore(old, hold)
                    s = arr["second_moment"]
                hist["eff"].append(eff)
                hist["g2"].append(g2)
                hist["mean"].append(mean_part)
                hist["q"].append(xp.sum(s * self.w1, axis=1))
                if st.averaging:
                    hist["avg"].append(xp.sum(arr["average_second_moment"] * self.w1, axis=1))
                t = t0 + col + 1  # the step just taken
                if t % step.DIVERGENCE_CHECK_EVERY == 0 or col == steps - 1:
                    newly = self._book_chunk(hist, t0, t, rec, lengths, horizon, out, books)
                    hist = {k: [] for k in hist}
                    if newly.any():
                        frozen = frozen | newly

    def _decay_step(self, arr: dict[str, Any], s: Any, eff_col: Any, batch_col: Any, mu_rows: Any, u_rows: Any,
                    col: int, rho: np.ndarray, kex: float, q: Any) -> Any:
        """One step with weight decay (SGD/NSGD or heavy ball, with or without averaging): ``arr`` updated,
        the new second moment returned (docs/math.md#weight-decay)."""
        xp, st = self.xp, self.setting
        S = st.n_sched
        u_col = self._columns(u_rows[col, :])
        w = self.target_weight
        tgt = arr["target_moment"]
        if st.momentum:
            mu_col = self._columns(mu_rows[col, :])
            s_new, c_new, p_new, t_new, f_new = step.heavy_ball_decay_step(
                xp, s, arr["cross_moment"], arr["previous_moment"], tgt, arr["previous_target_moment"], w, self.lam,
                eff_col, mu_col, u_col, batch_col, self.noise, kex, q[:, None])
            if st.averaging:
                m = ((1.0 + mu_col[:S, :]) - u_col[:S, :]) - eff_col[:S, :] * self.lam
                z = step.heavy_ball_decay_moved_cross(arr["average_cross_moment"], arr["average_previous_moment"],
                                                      arr["average_target_moment"], m, mu_col[:S, :], u_col[:S, :])
                _average(arr, s_new[:S, :], z, float(rho[col]), previous=c_new[:S, :], target=t_new[:S, :])
            arr["cross_moment"], arr["previous_moment"] = c_new, p_new
            arr["previous_target_moment"] = f_new
        else:
            if st.averaging:
                m = (1.0 - u_col[:S, :]) - eff_col[:S, :] * self.lam
                moved = step.decay_moved_cross(arr["average_cross_moment"], arr["average_target_moment"], m,
                                               u_col[:S, :])
            s_new, t_new = step.decay_step(xp, s, tgt, w, self.lam, eff_col, u_col, batch_col, self.noise, kex,
                                           q[:, None])
            if st.averaging:
                _average(arr, s_new[:S, :], moved, float(rho[col]), target=t_new[:S, :])
        arr["target_moment"] = t_new
        return s_new

    def _restore(self, old: dict[str, Any], frozen: np.ndarray) -> None:
        xp, st = self.xp, self.setting
        keep_s = xp.asarray(np.tile(frozen, st.blocks)[:, None])
        keep_a = xp.asarray(frozen[:, None])
        for name, per_row in st.state_names():
            self.arrays[name] = xp.where(keep_s if per_row else keep_a, old[name], self.arrays[name])

    def _book_chunk(self, hist: dict, t0: int, t: int, rec: np.ndarray, lengths: np.ndarray, horizon: int,
                    out: Outputs, books: Books) -> np.ndarray:
        """Record the steps held in ``hist`` (the last of them is step ``t``; the chunk began after step
        ``t0``) and keep the divergence books as the kernels do.

        Returns the schedules that stopped at this check (their state is no longer finite).
        """
        st = self.setting
        S, B = st.n_sched, st.blocks
        table = {k: to_numpy(self.xp.stack(v, axis=1)) for k, v in hist.items() if v}
        n = table["q"].shape[1]
        steps_after = np.arange(t - n + 1, t + 1)
        in_schedule = (steps_after[None, :] <= lengths[:, None]) & books.active[:, None]
        cols = rec[steps_after - t0 - 1]
        recorded = cols >= 0
        for name in ("q", "avg", "eff", "g2", "mean"):
            target = getattr(out, name)
            if target is None or name not in table:
                continue
            mask = np.tile(in_schedule, (B, 1)) if name == "q" else in_schedule
            values = table[name]
            for r in range(values.shape[0]):
                sel = recorded & mask[r]
                target[r, cols[sel]] = values[r, sel]
        bad = ~(table["q"] <= st.limit).reshape(B, S, -1).all(axis=0)
        if "avg" in table:
            bad |= ~(table["avg"] <= st.limit)
        bad &= in_schedule
        for j in range(S):
            hits = np.flatnonzero(bad[j])
            if hits.size and books.first_bad[j] == NEVER:
                books.first_bad[j] = steps_after[hits[0]]
        newly = np.zeros(S, dtype=bool)
        if t % step.DIVERGENCE_CHECK_EVERY == 0 and t <= horizon:
            finite_rows = to_numpy(self.xp.all(self.xp.isfinite(self.arrays["second_moment"]), axis=1))
            finite = finite_rows.reshape(B, S).all(axis=0)
            for j in range(S):
                if books.active[j] and books.first_bad[j] <= t and not finite[j]:
                    books.bad_check[j] = t
                    books.active[j] = False
                    newly[j] = True
        return newly

    def export(self) -> dict[str, np.ndarray]:
        return {k: to_numpy(v).astype(np.float64) for k, v in self.arrays.items()}


# ------------------------------------------------------------------------------------ the loop
@dataclass
class LoopView:
    """What stop rules and controllers see at the end of a chunk (NumPy, per schedule).

    Parameters
    ----------
    step : int
        The step just completed, counted from the trajectory's start.
    risk : ndarray, shape (S,)
        Excess risk of each schedule's full row.
    gradient_norm2 : ndarray, shape (S,)
        ``E‖∇f‖² = Σ m λ² s`` of each schedule (docs/math.md#normalized-sgd).
    active : ndarray of bool, shape (S,)
        Which schedules still advance.
    state : callable
        ``state()`` exports the state arrays (``R`` or ``S`` rows each), for a rule that needs them.

    Examples
    --------
    >>> view = LoopView(10, np.array([0.5]), np.array([0.2]), np.array([True]), dict)
    >>> view.step, float(view.risk[0])
    (10, 0.5)
    """

    step: int
    risk: np.ndarray
    gradient_norm2: np.ndarray
    active: np.ndarray
    state: Callable[[], dict[str, np.ndarray]]


class Controller:
    """The controller hook of the loop: where chunks end and the ``(η, B)`` of the next chunk.

    Subclass it, or give any object these three methods (docs/math.md#exact-solver-layout); the
    adaptive growth rule is one (:meth:`ramplab.theory.AdaptiveRule.run`).

    Examples
    --------
    A controller that halves the rate every 100 steps (see :func:`~ramplab.theory.dynamics.controlled_risk`):

    >>> class Halving(Controller):
    ...     lr = 0.4
    ...     def next_stop(self, step): return (step // 100 + 1) * 100
    ...     def tables(self, start, stop): return np.full((1, stop - start), self.lr), np.ones((1, stop - start))
    ...     def observe(self, view): self.lr /= 2 if view.step % 100 == 0 else 1
    >>> Halving().next_stop(150)
    200
    """

    def next_stop(self, step: int) -> int:
        """The step at which to look next.

        Parameters
        ----------
        step : int
            The current step, counted from the trajectory's start.

        Returns
        -------
        int
            A step ``> step``; the current chunk ends there at the latest.
        """
        raise NotImplementedError

    def tables(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-step ``(η, B)`` of every schedule for the steps ``start … stop − 1``.

        Parameters
        ----------
        start, stop : int
            The chunk's steps, counted from the trajectory's start.

        Returns
        -------
        lr, batch : ndarray, shape (S, stop − start)
            Learning rates and batch sizes (samples).
        """
        raise NotImplementedError

    def observe(self, view: LoopView) -> None:
        """See the state at the end of a chunk; may change what :meth:`tables` returns next.

        Parameters
        ----------
        view : LoopView
            The step just completed and the schedules' risk and ``E‖∇f‖²``.
        """
        raise NotImplementedError


@dataclass
class Run:
    """What the loop hands to packaging (NumPy, float64); steps are absolute."""

    out: Outputs
    books: Books
    offset: int
    stopped_at: int  # absolute step computed for everyone (the horizon unless the divergence rule ended the loop)
    final: dict[str, np.ndarray]  # the state arrays where the loop ended
    kept: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)  # absolute step → state arrays


def run(setting: Setting, schedules: Sequence[Schedule], backend_of: Callable[[dict, np.ndarray], Any], *,
        recorder: Recorder, raise_on_divergence: bool, weights_of: Callable[[int, int], np.ndarray] | None = None,
        momentum: float | np.ndarray | None = None, start: Sequence[SolverState] | None = None,
        keep_states: Sequence[int] = (), controller: Controller | None = None,
        resume: tuple[int, dict[str, np.ndarray]] | None = None,
        progress: Callable[[int], None] | None = None, weight_decay: float | np.ndarray | None = None) -> Run:
    """Advance every schedule through its steps; see the module docstring.

    ``backend_of(arrays, noise)`` builds the backend from the start arrays. ``keep_states`` are
    absolute steps after which the state is copied out (chunks end there). ``resume = (step, arrays)``
    starts from stacked state arrays after ``step`` steps (as :func:`start_arrays` makes them) instead of
    ``start``. ``progress(steps)`` is called after every chunk with the steps it advanced. ``weight_decay``
    (with ``setting.decay``): ``ω`` or one ``ω_t`` per step of the longest schedule; each step decays by
    ``u = η_t ω_t`` with the schedule's (or controller's) ``η_t`` (docs/math.md#weight-decay).
    """
    S = setting.n_sched
    offset = 0 if start is None else int(start[0].step)
    if resume is not None:
        offset = int(resume[0])
    lengths_rel = np.array([len(x) for x in schedules], dtype=np.int64)
    horizon_rel = int(lengths_rel.max())
    lengths, horizon = lengths_rel + offset, horizon_rel + offset
    arrays, noise = start_arrays(setting, start)
    if resume is not None:
        arrays = {name: np.array(resume[1][name], dtype=np.float64) for name, _ in setting.state_names()}
    backend = backend_of(arrays, noise)
    out = Outputs.empty(setting.rows, S, recorder.columns, setting.averaging)
    books = Books.new(S)
    k0 = recorder.column_of_zero()
    q0, avg0, _ = backend.current_sums()
    if k0 >= 0:
        out.q[:, k0] = q0
        if setting.averaging:
            out.avg[:, k0] = avg0
    kept: dict[int, dict[str, np.ndarray]] = {}
    pending = sorted(k for k in keep_states if offset < k <= horizon)
    if offset in keep_states:
        kept[offset] = backend.export()
    empty_rho = np.zeros(0)
    stopped_at = horizon
    t0 = offset
    while t0 < horizon:
        # Chunks are aligned to absolute multiples of CHUNK, so the kernels see the same chunking whether
        # or not the run was continued.
        t1 = min((t0 // CHUNK + 1) * CHUNK, horizon)
        if pending and pending[0] < t1:
            t1 = pending[0]
        if controller is not None:
            t1 = min(t1, max(t0 + 1, controller.next_stop(t0)))
            lr, batch = controller.tables(t0, t1)
        else:
            lr, batch = step_tables(schedules, t0 - offset, t1 - offset)
        mu = momentum_tables(momentum, lengths_rel, t0 - offset, t1 - offset, offset) if setting.momentum else None
        u = decay_tables(weight_decay, lr, t0 - offset, t1 - offset) if setting.decay else None
        rho = weights_of(t0, t1) if setting.averaging else empty_rho
        rec = recorder.columns_for(t0 - offset, t1 - offset)
        backend.advance(t0, lr, batch, mu, rho, rec, lengths, horizon, out, books, u)
        if progress is not None:
            progress(t1 - t0)
        if pending and pending[0] == t1:
            kept[t1] = backend.export()
            pending.pop(0)
        # The divergence rule (docs/math.md#divergence): stop at the first check step that found a
        # non-finite state when divergence raises, or once no schedule is left to advance.
        if raise_on_divergence and books.bad_check.min() <= t1:
            stopped_at = int(books.bad_check.min())
            break
        if not books.active.any():
            break
        if controller is not None:
            # A controller reads the state: a schedule past the divergence bound has nothing left to
            # read (its risk is recorded as diverged); with "raise" the run is over.
            past = books.first_bad <= t1
            if past.any():
                books.active &= ~past
                if raise_on_divergence or not books.active.any():
                    stopped_at = t1
                    break
            q, _, mean = backend.current_sums()
            controller.observe(LoopView(t1, 0.5 * q[:S], mean, books.active.copy(), backend.export))
        t0 = t1
    return Run(out, books, offset, stopped_at, backend.export(), kept)
