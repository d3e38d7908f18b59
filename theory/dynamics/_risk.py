"""The front door of the exact solver: :func:`expected_risk`.

The state is the diagonal of the error second moment in the eigenbasis, ``s_i = E[(w_t − w*)_i²]``.
For inputs ``x = H^{1/2} z`` with i.i.d. standardised coordinates of fourth moment ``κ`` it obeys the
closed recursion (docs/math.md#sgd-second-moment-recursion)

    s_i ← (1 − ηλ_i)² s_i + (η²/B) [ (κ − 2) λ_i² s_i + λ_i (q + σ²) ],   q = Σ_j m_j λ_j s_j,

which is exact: off-diagonal moments never enter the diagonal. Normalized SGD with the *expected*
denominator is SGD with the deterministic rate ``η / sqrt(G_t)`` (docs/math.md#normalized-sgd), so
it stays exact too. Here the arguments are checked and the computation handed to the one loop
(:mod:`._loop`, over the step of :mod:`._step`), or to spectral compression (:mod:`._compression`),
which calls the same loop.
"""

from __future__ import annotations

from typing import Any, Sequence, overload

import numpy as np
from array_api_compat import is_cupy_namespace, is_numpy_namespace

from .._validate import as_numpy, finite_real, flag
from .._backend import resolve_backend, resolve_dtype
from .._numerics import KERNELS, Numerics, resolve_numerics
from ..schedules._schedule import Schedule, schedule_list
from . import _kernels
from .._optimizers import HeavyBall, OptimizerSpec, resolve_optimizer
from ._averaging import Averaging, resolve_average
from ._momentum import resolve_momentum
from ._problem import Problem
from ._state import SolverState
from ._compression import compressed_expected_risk
from .._memory import check_memory, exact_bytes, itemsize_of
from ._quadrature import reduced_expected_risk
from ._solver import SolveRequest, fused_supported, solve
from ._stability import warn_unstable_segments
from ._trajectory import RiskTrajectory

__all__ = ["KERNELS", "OPTIMIZERS", "expected_risk"]

OPTIMIZERS = ("sgd", "nsgd")


#: The keywords ``expected_risk`` took before, each with where it moved.
MOVED_KEYWORDS = {
    "momentum": ("optimizer=HeavyBall(momentum, optimizer=...)", "docs/math.md#heavy-ball-momentum"),
    "backend": ("numerics=Numerics(backend=...)", "ramplab.theory.Numerics"),
    "dtype": ("numerics=Numerics(dtype=...)", "ramplab.theory.Numerics"),
    "kernel": ("numerics=Numerics(kernel=...)", "ramplab.theory.Numerics"),
    "weight_decay": ("optimizer=SGD(weight_decay=...) (or NSGD(weight_decay=...), HeavyBall(μ, weight_decay=...))",
                     "docs/math.md#weight-decay"),
}


def refuse_moved_keywords(removed: dict, function: str) -> None:
    """TypeError for a keyword ``function`` no longer takes, saying where it moved (or that it is unknown)."""
    for name in removed:
        if name in MOVED_KEYWORDS:
            where, anchor = MOVED_KEYWORDS[name]
            raise TypeError(f"{name}= moved: pass {where} to {function} ({anchor})")
    if removed:
        raise TypeError(f"{function}() got an unexpected keyword argument {next(iter(removed))!r}")


def _checkpoint_steps(checkpoints: Any, horizon: int, offset: int = 0) -> np.ndarray | None:
    """``checkpoints=`` checked (absolute steps in ``[offset, offset + horizon]``), relative to ``offset``."""
    if checkpoints is None:
        return None
    arr = as_numpy(checkpoints, "checkpoints")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"checkpoints must be a non-empty 1-D sequence of steps; got shape {arr.shape}")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        if not (np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))):
            raise TypeError(f"checkpoints must be integer steps; got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.floating) and arr.size and np.max(np.abs(arr)) >= 2.0**63:
        raise ValueError(f"checkpoints must lie in [{offset}, {offset + horizon}] (the longest schedule); got "
                         f"{checkpoints!r:.80}")
    arr = arr.astype(np.int64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"checkpoints must be a non-empty 1-D sequence of steps; got shape {arr.shape}")
    if np.any(np.diff(arr) <= 0):
        raise ValueError("checkpoints must be sorted and unique")
    if arr[0] < offset or arr[-1] > offset + horizon:
        raise ValueError(f"checkpoints must lie in [{offset}, {offset + horizon}] (the longest schedule"
                         f"{', continued from step ' + str(offset) if offset else ''}); got [{arr[0]}, {arr[-1]}]")
    return arr - offset



@overload
def expected_risk(problem: Problem, schedules: Schedule, optimizer: str = ..., **kw: Any) -> RiskTrajectory: ...
@overload
def expected_risk(
    problem: Problem, schedules: Sequence[Schedule], optimizer: str = ..., **kw: Any
) -> tuple[RiskTrajectory, ...]: ...


def expected_risk(
    problem: Problem,
    schedules: Schedule | Sequence[Schedule],
    optimizer: str | OptimizerSpec = "sgd",
    *,
    average: str | Averaging | None = None,
    split: bool = False,
    on_divergence: str = "raise",
    checkpoints: Any = None,
    numerics: Numerics | dict | None = None,
    divergence_threshold: float = 1e12,
    compress: float | None = None,
    reduce: bool | str = "auto",
    initial_state: SolverState | Sequence[SolverState] | None = None,
    keep_states: bool = False,
    progress: bool | None = None,
    **removed: Any,
) -> RiskTrajectory | tuple[RiskTrajectory, ...]:
    """Exact expected excess risk of SGD or NSGD along one or several schedules.

    Parameters
    ----------
    problem : Problem
        Its multiplicities ``m_i``, if any, weight every sum over coordinates.
    schedules : Schedule or sequence of Schedule
        One schedule returns one :class:`RiskTrajectory`; a sequence (lengths may differ) runs as
        one vectorised computation and returns a tuple in the same order.
    optimizer : {"sgd", "nsgd", "momentum"} or SGD, NSGD, HeavyBall
        The update rule, as a spec shared with :func:`~ramplab.simulations.simulate`
        (:class:`~ramplab.theory.SGD`, :class:`~ramplab.theory.NSGD` with the expected denominator,
        :class:`~ramplab.theory.HeavyBall`) or its shorthand; ``"momentum"`` is ``HeavyBall(0.9)``.
        Adam, SignSGD and the conditional NSGD have no exact solver (ValueError).
        ``"nsgd"`` divides the step by ``sqrt(E‖g_t‖²)``, the expected denominator of docs/math.md#normalized-sgd.
        A spec's ``weight_decay=ω`` (a number or one ``ω_t`` per step of the longest schedule) adds
        AdamW's decoupled decay ``w ← (1 − η_t ω_t) w − (step)`` with the schedule's ``η_t``, also for
        NSGD (docs/math.md#weight-decay); the solver then tracks ``E e w*`` too and assumes
        ``w_0 = 0`` (``E w*² = s(0)``). ``weight_decay=0`` runs the plain solver, bit for bit.

        ``HeavyBall(μ)`` (on NSGD: ``HeavyBall(μ, optimizer="nsgd")``) runs heavy-ball momentum
        (docs/math.md#heavy-ball-momentum): ``w_{t+1} = w_t − η_t g_t + μ_t (w_t − w_{t−1})`` with
        ``w_{−1} = w_0``, in the 0-based per-step indexing of the rates and batches (so ``μ_0`` is
        never used); on NSGD the step ``η_t g_t`` is divided by ``sqrt(E‖g_t‖²)`` as without
        momentum. ``μ`` is a number in ``[0, 1)``, or one finite ``μ_t ≥ 0`` per step of the longest
        schedule ``T_max`` (a shorter schedule uses the array's first ``T`` entries).
        ``torch.optim.SGD``'s momentum is heavy ball with changing ``μ_t``:
        :func:`~ramplab.theory.heavy_ball_momentum_of_torch_sgd`. ``HeavyBall(0.0)`` (or an array
        that is zero after its unused first entry) runs the plain solver unchanged. Averaging,
        ``split``, ``checkpoints`` and ``on_divergence`` work as without momentum; the fused kernel
        runs one schedule per thread; the CuPy backend and ``compress`` raise NotImplementedError.
    average : None, "uniform" or Averaging
        Also track an iterate average (docs/math.md#iterate-averaging): ``"uniform"``
        (:class:`~ramplab.theory.UniformAverage`),
        :class:`~ramplab.theory.TailAverage` or
        :class:`~ramplab.theory.ExponentialAverage`.
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
    checkpoints : array_like of int, optional
        Sorted unique steps in ``[0, T_max]`` (``T_max`` the longest schedule). Every curve is then
        returned only at these steps (``steps``, ``samples`` the checkpoints and their cumulative
        samples), and memory is ``O(rows · d + len(checkpoints))`` instead of ``O(rows · T)``.
        Checkpoints beyond a shorter schedule's length are dropped from that schedule's
        trajectory. Per-step diagnostics at checkpoint ``t`` are step ``t``'s values (NaN at
        ``t = 0``). ``None`` (default): every step.
    numerics : Numerics or dict, optional
        How the recursion runs (:class:`~ramplab.theory.Numerics`, or a dict of its fields): its
        ``backend`` (``None``: ``"numpy"``; results come back as NumPy arrays), the state's
        ``dtype`` (float64 or float32; curves come back as float64 either way) and the ``kernel``
        (``"auto"``: the fused numba kernel when supported, else the array API reference loop). A
        ``chunk_size`` is refused (ValueError): it is the Monte Carlo's.
    compress : float, optional
        Relative tolerance ``rtol``: solve a spectrally compressed problem chosen for these schedules
        instead (groups of nearly equal eigenvalues, docs/math.md#spectral-compression), keeping the
        curves within ``rtol`` relative of the full problem; sets ``compression_error`` (an
        estimate from two resolutions) and ``compressed_dimension``. ``final_second_moment`` then
        holds each coordinate's group value. Not available with heavy ball or weight decay
        (NotImplementedError).
    reduce : {"auto", True, False}, default "auto"
        Quadrature reduction (docs/math.md#quadrature-reduction): the coordinates that barely contract
        over these schedules are replaced by Gauss rules of their two weight measures and the small
        problem is solved instead, for SGD, NSGD, heavy ball and every averaging; the result agrees
        with the full computation to about rounding, and ``reduction_error`` (an estimate from two
        numbers of nodes) and ``reduced_dimension`` are set. ``"auto"`` reduces problems with
        1 000 steps and at least 20 000 stored coordinates (or at least 2 000 and 10⁸ coordinate-steps
        over all schedules) when the reduced problem is at most 10 % of the full one,
        and never with ``compress``, ``initial_state``, ``keep_states``, weight decay or the CuPy
        backend (so small problems run exactly as before); ``True`` reduces whenever some coordinates are slow;
        ``False`` never. ``final_second_moment`` of a reduced run interpolates the slow coordinates
        (computed when first read: ``O(d K)``) and no solver state is kept (:meth:`RiskTrajectory.state_at`
        says so).
    initial_state : SolverState or sequence of SolverState, optional
        Continue from a state returned by :meth:`RiskTrajectory.state_at` (one for every schedule,
        or one per schedule, all at the same step ``t``): the schedules are then the *rest* of the
        run (their step 0 is step ``t``), the trajectory's ``steps`` and ``samples`` continue from
        the state's, and averaging weights, momentum's first step and the divergence checks count
        from the start of the original run, so the continuation equals the uninterrupted run bit
        for bit (docs/math.md#solver-state). ``split``, ``average`` and heavy ball (or not) must be
        as when the state was computed; ``checkpoints`` are then steps in ``[t, t + T_max]``.
    keep_states : bool, default False
        Also keep the solver state at every checkpoint (``checkpoints=`` required for more than the
        last step), for :meth:`RiskTrajectory.state_at`: ``O(len(checkpoints) · d)`` memory. The
        state after the last step is always kept.
    progress : bool or None, default None
        Progress in steps on stderr (:class:`ramplab.simulations.progress.ProgressBar`): ``None``
        reports once the run has taken 2 s (a bar on a terminal, a plain line every 30 s in a log;
        ``RAMPLAB_PROGRESS=off`` silences it), ``True`` from the start, ``False`` never.
    **removed
        Keywords of earlier versions raise a TypeError saying where they moved: ``momentum=`` to
        ``optimizer=HeavyBall(momentum, optimizer=...)``, ``backend=``, ``dtype=`` and ``kernel=``
        to the fields of ``numerics=Numerics(...)``; any other unknown keyword a TypeError too.

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
        For heavy ball with ``compress`` or on the CuPy backend, ``compress`` with ``initial_state``, and
        weight decay with ``compress`` or ``reduce=True``.

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

    >>> from ramplab.theory import HeavyBall
    >>> plain, heavy = (expected_risk(p, Schedule.constant(r, 8, steps=200), HeavyBall(mu), checkpoints=[200])
    ...                 for r, mu in ((0.4, 0.0), (0.04, 0.9)))
    >>> bool(abs(heavy.final_risk / plain.final_risk - 1) < 0.2)
    True

    Weight decay pulls the stationary mean to the ridge solution ``λ/(λ + ω) w*`` (docs/math.md#weight-decay):

    >>> from ramplab.theory import SGD
    >>> q1 = Problem([1.0], [1.0], noise_variance=0.0)
    >>> r = expected_risk(q1, Schedule.constant(0.5, 1, steps=200), SGD(weight_decay=1.0))
    >>> round(float(r.state_at(200).target_moment[0, 0]), 6)   # E e w* = −ω/(λ + ω) E w*²
    -0.5
    """
    refuse_moved_keywords(removed, "expected_risk")
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {type(problem).__name__}")
    single = isinstance(schedules, Schedule)
    sched_list = schedule_list(schedules)
    split = flag(split, "split")
    keep_states = flag(keep_states, "keep_states")
    spec = resolve_optimizer(optimizer, where="exact")
    if isinstance(spec, HeavyBall):
        optimizer, momentum = spec.optimizer, spec.momentum
    else:
        optimizer, momentum = spec.name, 0.0
    if not isinstance(on_divergence, str) or on_divergence not in ("raise", "flag"):
        raise ValueError(f"on_divergence must be 'raise' or 'flag'; got {on_divergence!r:.80}")
    numerics = resolve_numerics(numerics, where="exact")
    kernel = numerics.kernel
    horizon = max(len(s) for s in sched_list)
    start_step = _start_step(initial_state)
    mom = resolve_momentum(momentum, horizon, start_step)
    if mom is None and _holds_momentum(initial_state):
        # A state with heavy-ball moments continues on the heavy-ball path (μ = 0 here): the moments go on.
        mom = np.zeros(horizon)
        mom.flags.writeable = False
    if mom is not None and compress is not None:
        raise NotImplementedError("compress is not available with heavy-ball momentum (the grouping rule is derived for "
                                  "plain SGD/NSGD); pass compress=None")
    decay = resolve_weight_decay(spec, horizon)
    if decay is None and _holds_decay(initial_state):
        # A state with the target moments continues on the decay path (ω = 0 here): the moments go on.
        decay = 0.0
    if decay is not None and compress is not None:
        raise NotImplementedError("compress is not available with weight decay (optimizer=...(weight_decay=...); the "
                                  "grouping rule is derived without it, docs/math.md#weight-decay); pass compress=None")
    threshold = finite_real(divergence_threshold, "divergence_threshold")
    if not threshold > 1.0:
        raise ValueError(f"divergence_threshold must be > 1; got {divergence_threshold!r}")
    if optimizer == "sgd" and mom is None and decay is None:  # UnstableScheduleWarning for a long unstable (η, B) (docs/math.md#divergence)
        for sched in sched_list:
            seg = sched.segments  # O(segments), never the per-step arrays
            warn_unstable_segments(problem, seg.lr, seg.batch, sched.label, steps=seg.steps)
    xp = resolve_backend("numpy" if numerics.backend is None else numerics.backend)
    dtype = resolve_dtype(xp, numerics.dtype)
    averaging = resolve_average(average)
    start = _start_states(initial_state, problem, len(sched_list), split, mom is not None, averaging is not None,
                          decay is not None)
    offset = 0 if start is None else start[0].step
    if averaging is not None:
        averaging.weights(np.array([offset + horizon]))  # fails now, not mid-run, for a too short weight array
    checks = _checkpoint_steps(checkpoints, horizon, offset)
    fused = fused_supported(xp, dtype)
    if kernel == "fused" and not fused:
        raise ValueError(
            "numerics.kernel='fused' needs numba (the 'fast' extra), the NumPy backend and dtype float64 or float32"
            + ("" if _kernels.AVAILABLE else "; numba is not importable")
        )
    if mom is not None and is_cupy_namespace(xp):
        raise NotImplementedError("heavy-ball momentum is not available on the CuPy backend; use "
                                  "numerics=Numerics(backend='numpy')")
    if compress is None:  # the compressed run holds groups, not coordinates: far less
        _check_exact_memory(problem, len(sched_list), split, mom is not None, averaging is not None, horizon, checks,
                            keep_states, itemsize_of(dtype), decay is not None)
    request = SolveRequest(schedules=tuple(sched_list), optimizer=optimizer, averaging=averaging, split=split,
                           raise_on_divergence=on_divergence == "raise", xp=xp, dtype=dtype,
                           fused=fused and kernel != "reference", threshold=threshold, checkpoints=checks,
                           momentum=mom, start=start, keep_states=keep_states,
                           progress=flag(progress, "progress") if progress is not None else None,
                           weight_decay=decay)
    want_reduced = _reduce_wanted(reduce, compress, start, keep_states, xp, decay is not None)
    if compress is not None:
        if keep_states:
            raise NotImplementedError("keep_states is not available with compress (a compressed state holds groups, "
                                      "not coordinates); pass compress=None")
        if start is not None:
            raise NotImplementedError("compress is not available with initial_state (a compressed state holds "
                                      "groups, not coordinates); pass compress=None")
        results = compressed_expected_risk(request, problem, compress)
    else:
        results = None
        if want_reduced:
            results = reduced_expected_risk(request, problem, auto=reduce == "auto")
        if results is None:
            results = solve(request, problem)
    return results[0] if single else tuple(results)


def _check_exact_memory(problem: Problem, n_sched: int, split: bool, momentum: bool, average: bool, horizon: int,
                        checks: np.ndarray | None, keep_states: bool, itemsize: int, decay: bool = False) -> None:
    """Refuse (naming the sizes and the estimate) a run whose state and curves exceed the memory limit."""
    points = horizon + 1 if checks is None else len(checks)
    kept = (len(checks) if checks is not None else 1) if keep_states else 0
    estimate = exact_bytes(problem.dimension, rows=n_sched * (3 if split else 1),
                           moments=((3 if momentum else 1) + (2 if average else 0)
                                    + ((2 if momentum else 1) + (1 if average else 0) if decay else 0)), points=points,
                           kept_states=kept, itemsize=itemsize)
    sizes = {"d": problem.dimension, "schedules": n_sched, "points": points}
    if keep_states:
        sizes["keep_states"] = True
    check_memory(estimate, "expected_risk", sizes)


def _reduce_wanted(reduce: Any, compress: Any, start: Any, keep_states: bool, xp: Any, decay: bool = False) -> bool:
    """Whether to try the quadrature reduction (``reduce=`` checked against the other arguments).

    With weight decay ``"auto"`` does not reduce and ``True`` raises (the rules are built for §1.1's
    state alone, docs/math.md#weight-decay).
    """
    if isinstance(reduce, str):
        if reduce != "auto":
            raise ValueError(f"reduce must be 'auto', True or False; got {reduce!r:.80}")
        return compress is None and start is None and not keep_states and not is_cupy_namespace(xp) and not decay
    if not isinstance(reduce, (bool, np.bool_)):
        raise TypeError(f"reduce must be 'auto', True or False; got {type(reduce).__name__}")
    if not reduce:
        return False
    if decay:
        raise NotImplementedError("reduce=True is not available with weight decay (the quadrature rules are built "
                                  "without the target moments, docs/math.md#weight-decay); pass reduce=False")
    if compress is not None:
        raise ValueError("reduce=True and compress= exclude each other; pass reduce=False with compress=")
    if keep_states:
        raise NotImplementedError("keep_states is not available with reduce=True (a reduced state holds Gauss "
                                  "nodes, not coordinates); pass reduce=False")
    if start is not None:
        raise NotImplementedError("reduce=True is not available with initial_state (the state holds coordinates "
                                  "the reduction would replace); pass reduce=False")
    return True


def _start_step(initial_state: Any) -> int:
    """The step a run continues from (0 without ``initial_state``); the full check is :func:`_start_states`."""
    if isinstance(initial_state, SolverState):
        return initial_state.step
    if isinstance(initial_state, (list, tuple)) and initial_state and isinstance(initial_state[0], SolverState):
        return initial_state[0].step
    return 0


def resolve_weight_decay(spec: Any, horizon: int) -> float | np.ndarray | None:
    """The spec's ``weight_decay`` for a run of ``horizon`` steps: ``None`` when it is 0 at every step (the
    plain path, bit for bit), else a float ``ω > 0`` or a read-only float64 array of one ``ω_t`` per step
    of the longest schedule (docs/math.md#weight-decay)."""
    wd = getattr(spec, "weight_decay", 0.0)
    if isinstance(wd, np.ndarray):
        if wd.shape != (horizon,):
            raise ValueError(f"weight_decay must be a number or one value per step of the longest schedule "
                             f"({horizon}); got {wd.shape[0]} values")
        return wd if np.any(wd != 0.0) else None
    return float(wd) if wd != 0.0 else None


def _holds_decay(initial_state: Any) -> bool:
    states = [initial_state] if isinstance(initial_state, SolverState) else (
        list(initial_state) if isinstance(initial_state, (list, tuple)) else [])
    return any(isinstance(s, SolverState) and s.decay for s in states)


def _holds_momentum(initial_state: Any) -> bool:
    states = [initial_state] if isinstance(initial_state, SolverState) else (
        list(initial_state) if isinstance(initial_state, (list, tuple)) else [])
    return any(isinstance(s, SolverState) and s.momentum for s in states)


def _start_states(initial_state: Any, problem: Problem, n_sched: int, split: bool, momentum: bool,
                  averaging: bool, decay: bool = False) -> tuple[SolverState, ...] | None:
    """``initial_state=`` checked: one state per schedule (a single state is shared by all), or None."""
    if initial_state is None:
        return None
    states = (initial_state,) * n_sched if isinstance(initial_state, SolverState) else initial_state
    if isinstance(states, (str, bytes, dict, np.ndarray)) or not hasattr(states, "__iter__"):
        raise TypeError(f"initial_state must be a SolverState or a sequence of them (one per schedule); got "
                        f"{type(initial_state).__name__}")
    states = tuple(states)
    if len(states) != n_sched or not all(isinstance(s, SolverState) for s in states):
        raise ValueError(f"initial_state must be a SolverState or one SolverState per schedule ({n_sched}); got "
                         f"{len(states)} item(s)")
    for s in states:
        if s.dimension != problem.dimension:
            raise ValueError(f"initial_state has {s.dimension} coordinates; the problem has {problem.dimension}")
        if s.split != split:
            raise ValueError(f"initial_state was computed with split={s.split}; pass split={s.split}")
        if momentum and not s.momentum:
            raise ValueError("initial_state holds no heavy-ball moments (its run had no momentum at any step it "
                             "used): E e_t e_{t−1} and E e_{t−1}² cannot be recovered from s alone; compute the first "
                             "part with optimizer=HeavyBall(...) (μ > 0 somewhere), or continue without momentum")
        if decay and not s.decay:
            raise ValueError("initial_state holds no weight-decay moments (its run had no weight decay): E e_t w* "
                             "cannot be recovered from s alone; compute the first part with "
                             "optimizer=...(weight_decay=...) (ω > 0 somewhere), or continue without weight decay")
        if s.averaging != averaging:
            raise ValueError("initial_state " + ("holds" if s.averaging else "lacks") + " iterate-average moments; "
                             "continue with the same average= it was computed with")
    if len({s.step for s in states}) != 1:
        raise ValueError(f"initial_state: every state must be at one step; got steps {sorted({s.step for s in states})}")
    if states[0].step > 2**62 - 2**40:
        raise ValueError(f"initial_state is at step {states[0].step}: beyond what a run can count on from "
                         f"(at most 2**62 − 2**40)")
    return states


def warm_up() -> list[str]:
    """Compile the fused kernel's common paths (:mod:`._kernels`) into the on-disk cache (``make install``).

    The paths: SGD and NSGD on several schedules, with and without uniform averaging and ``split``, one
    schedule, a float32 state, heavy ball, and the quadrature reduction's moment passes (each on a tiny
    problem, so the cost is compilation: tens of CPU-seconds once; a later first call in a fresh
    interpreter loads the cache in about a second).

    Returns
    -------
    list of str
        The paths compiled (empty without numba).

    Examples
    --------
    >>> warm_up()[:2]  # doctest: +SKIP
    ['sgd', 'sgd averaged']
    """
    if not _kernels.AVAILABLE:
        return []
    from .._numerics import Numerics
    from .._optimizers import HeavyBall

    p = Problem([1.0, 0.5, 0.25], [1.0, 1.0, 1.0], noise_variance=0.1)
    scheds = [Schedule.constant(0.1, 1, steps=3), Schedule.constant(0.2, 2, steps=3)]
    paths = {"sgd": dict(), "sgd averaged": dict(average="uniform"),
             "nsgd split averaged": dict(optimizer="nsgd", average="uniform", split=True),
             "nsgd split": dict(optimizer="nsgd", split=True), "float32": dict(numerics=Numerics(dtype=np.float32)),
             "float32 averaged": dict(numerics=Numerics(dtype=np.float32), average="uniform"),
             "heavy ball": dict(optimizer=HeavyBall(0.5)), "heavy ball averaged": dict(optimizer=HeavyBall(0.5),
                                                                                     average="uniform")}
    for kw in paths.values():
        kw = dict(kw)
        optimizer = kw.pop("optimizer", "sgd")
        expected_risk(p, scheds, optimizer, progress=False, **kw)
        expected_risk(p, scheds[0], optimizer, progress=False, **kw)
    from ._quadrature import compile_kernels  # the reduce path's moment passes (docs/math.md#quadrature-reduction)

    return list(paths) + (["quadrature reduction"] if compile_kernels() else [])
