"""A checked request for the exact solver and its solution through the one loop.

:func:`~ramplab.theory.expected_risk` checks its arguments into a :class:`SolveRequest`;
:func:`solve` runs it on a problem through :func:`._loop.run` and packages the trajectories.
Spectral compression (:mod:`._compression`) solves the same request on grouped problems, so it
never goes back through the front door.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .._progress import ProgressBar
from .._limits import MAX_STEP_ARRAY
from .._validate import strict_real_array
from ..schedules._schedule import Schedule
from . import _kernels, _loop
from ._averaging import Averaging
from ._problem import Problem
from ._state import SolverState
from ._trajectory import RiskTrajectory, package

__all__: list[str] = []


@dataclass(frozen=True)
class SolveRequest:
    """Everything but the problem, checked (see ``expected_risk`` for the meaning of each field)."""

    schedules: tuple[Schedule, ...]
    optimizer: str  # "sgd" or "nsgd"
    averaging: Averaging | None
    split: bool
    raise_on_divergence: bool
    xp: Any
    dtype: Any
    fused: bool  # the compiled kernels (else the array API reference loop)
    threshold: float
    checkpoints: np.ndarray | None  # relative to the start, checked
    momentum: float | np.ndarray | None
    start: tuple[SolverState, ...] | None = None
    keep_states: bool = False
    progress: bool | None = False  # a ProgressBar's ``enabled`` (None: once the run takes over 2 s)
    weight_decay: float | np.ndarray | None = None  # None: no decay (the plain path); docs/math.md#weight-decay

    @property
    def horizon(self) -> int:
        return max(len(s) for s in self.schedules)

    @property
    def offset(self) -> int:
        return 0 if self.start is None else int(self.start[0].step)


def divergence_limit(problem: Problem, threshold: float) -> float:
    """The blow-up bound in units of ``q = Σ mλs = 2 × risk`` (docs/math.md#divergence).

    Capped at the largest float so that inf (and NaN) always fail ``q <= limit``; with
    ``R(0) = σ² = 0`` only a non-finite state diverges.
    """
    scale = problem.initial_risk + problem.noise_variance
    biggest = float(np.finfo(np.float64).max)
    with np.errstate(over="ignore"):
        return float(min(2.0 * threshold * scale, biggest)) if scale > 0 else biggest


def backends(setting: _loop.Setting, xp: Any, dtype: Any, fused: bool) -> Any:
    """``backend_of(arrays, noise)`` for :func:`._loop.run`: the compiled kernels (``fused``) or the reference."""
    if fused:
        dt = np.float32 if dtype == xp.float32 else np.float64
        return lambda arrays, noise: _loop.FusedBackend(setting, arrays, noise, dt)
    return lambda arrays, noise: _loop.ReferenceBackend(setting, arrays, noise, xp, dtype)


def solve(request: SolveRequest, problem: Problem) -> list[RiskTrajectory]:
    """Run ``request`` on ``problem`` through the loop; one trajectory per schedule."""
    setting = _loop.Setting(problem=problem, n_sched=len(request.schedules), split=request.split,
                            nsgd=request.optimizer == "nsgd", averaging=request.averaging is not None,
                            momentum=request.momentum is not None,
                            limit=divergence_limit(problem, request.threshold),
                            decay=request.weight_decay is not None)
    horizon = request.horizon
    recorder = _loop.Recorder(horizon, request.checkpoints)
    weights_of = None
    if request.averaging is not None:
        averaging = request.averaging

        def weights_of(start: int, stop: int) -> np.ndarray:
            return np.ascontiguousarray(averaging.weights(np.arange(start + 1, stop + 1)), dtype=np.float64)

    backend_of = backends(setting, request.xp, request.dtype, request.fused)

    keep: Sequence[int] = ()
    if request.keep_states and request.checkpoints is not None:
        keep = [int(c) + request.offset for c in request.checkpoints]
    bar = ProgressBar(horizon, request.progress, label="expected_risk", unit="step") \
        if request.progress is not False else None
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            run = _loop.run(setting, request.schedules, backend_of, recorder=recorder,
                            raise_on_divergence=request.raise_on_divergence, weights_of=weights_of,
                            momentum=request.momentum, start=request.start, keep_states=keep,
                            progress=None if bar is None else bar.update, weight_decay=request.weight_decay)
    finally:
        if bar is not None:
            bar.close()
    return package(run, setting, request.schedules, request.optimizer, recorder, request.raise_on_divergence,
                   request.start)


def fused_supported(xp: Any, dtype: Any) -> bool:
    """Whether the compiled kernels can run: numba importable, NumPy, float64 or float32."""
    from array_api_compat import is_numpy_namespace

    if not (_kernels.AVAILABLE and is_numpy_namespace(xp)):
        return False
    if dtype is None:
        return True
    try:
        return np.dtype(dtype) in (np.dtype(np.float64), np.dtype(np.float32))
    except TypeError:
        return False


def controlled_risk(problem: Problem, steps: int, controller: _loop.Controller, optimizer: str = "sgd", *,
                    label: str = "controlled", integer_batch: bool = False,
                    divergence_threshold: float = 1e12, on_divergence: str = "raise") -> RiskTrajectory:
    """Exact risk of SGD or NSGD whose ``(η, B)`` a controller chooses as the run goes.

    The controller hook of the one loop (docs/math.md#exact-solver-layout): at the end of every chunk
    the loop shows ``controller.observe`` the state (:class:`~ramplab.theory.dynamics.LoopView`: risk,
    ``E‖∇f‖²``), asks ``controller.next_stop(step)`` where the next chunk ends and
    ``controller.tables(start, stop)`` for its per-step ``(η, B)`` (arrays of shape ``(1, stop − start)``).
    The divergence rule is the solver's (docs/math.md#divergence): a diverging run raises
    :class:`~ramplab.theory.DivergenceError`.

    Parameters
    ----------
    problem : Problem
    steps : int
        Steps to run, ≥ 1.
    controller : Controller
        See :class:`~ramplab.theory.dynamics.Controller`.
    optimizer : {"sgd", "nsgd"} or SGD, NSGD
        The update rule (a spec or its shorthand).
    label : str
        Label of the realised schedule.
    integer_batch : bool
        Whether the realised batches are integers (they must be, when true).
    divergence_threshold : float
        As for :func:`~ramplab.theory.expected_risk`.
    on_divergence : {"raise", "flag"}
        As for :func:`~ramplab.theory.expected_risk`; with ``"flag"`` the realised schedule keeps the
        last ``(η, B)`` after the run stopped.

    Returns
    -------
    RiskTrajectory
        Every step; its ``schedule`` is the realised one (``expected_risk`` on it reproduces the run).

    Raises
    ------
    DivergenceError
        When the risk diverges (docs/math.md#divergence) and ``on_divergence="raise"``.
    TypeError, ValueError
        For a bad argument (named), a ``controller`` without the three methods, or one whose
        ``next_stop`` or ``tables`` answers out of range.

    Examples
    --------
    Halve the rate once the risk is below 0.3:

    >>> import numpy as np
    >>> from ramplab.theory import Problem
    >>> class Halve:
    ...     lr = 0.4
    ...     def next_stop(self, step): return step + 10
    ...     def tables(self, start, stop): return np.full((1, stop - start), self.lr), np.full((1, stop - start), 4.0)
    ...     def observe(self, view):
    ...         if view.risk[0] < 0.3: self.lr = 0.2
    >>> r = controlled_risk(Problem.power_law(20, 1.5, 1.0, 0.1), 100, Halve())
    >>> sorted(set(r.schedule.lr.tolist()))
    [0.2, 0.4]
    """
    from .._validate import choice, finite_real, flag, positive_int

    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {type(problem).__name__}")
    steps = positive_int(steps, "steps", maximum=MAX_STEP_ARRAY)
    from .._optimizers import NSGD, SGD, resolve_optimizer

    spec = resolve_optimizer(optimizer, where="exact")
    if not isinstance(spec, (SGD, NSGD)):
        raise ValueError(f"optimizer must be SGD or NSGD (a controlled run has no momentum); got {spec!r:.80}")
    if spec.decays:
        raise ValueError(f"optimizer: a controlled run has no weight decay; got {spec!r:.80}")
    optimizer = spec.name
    raise_on_divergence = choice(on_divergence, "on_divergence", ("raise", "flag")) == "raise"
    integer_batch = flag(integer_batch, "integer_batch")
    if not isinstance(label, str):
        raise TypeError(f"label must be a str; got {type(label).__name__}")
    divergence_threshold = finite_real(divergence_threshold, "divergence_threshold")
    if not divergence_threshold > 1.0:
        raise ValueError(f"divergence_threshold must be > 1; got {divergence_threshold!r}")
    missing = [m for m in ("next_stop", "tables", "observe") if not callable(getattr(controller, m, None))]
    if missing:
        raise TypeError(f"controller must have the methods next_stop, tables and observe (a Controller); "
                        f"{type(controller).__name__} lacks {', '.join(missing)}")
    setting = _loop.Setting(problem=problem, n_sched=1, split=False, nsgd=optimizer == "nsgd", averaging=False,
                            momentum=False, limit=divergence_limit(problem, divergence_threshold))
    lrs: list[np.ndarray] = []
    batches: list[np.ndarray] = []

    class Recording:
        def next_stop(self, step: int) -> int:
            stop = controller.next_stop(step)
            if isinstance(stop, (bool, np.bool_)) or not isinstance(stop, (int, np.integer)):
                raise TypeError(f"controller.next_stop({step}) must return an int step; got {stop!r:.80}")
            if stop <= step:
                raise ValueError(f"controller.next_stop({step}) must return a step > {step}; got {stop!r:.80}")
            return int(stop)

        def tables(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
            got = controller.tables(start, stop)
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                raise TypeError(f"controller.tables({start}, {stop}) must return a pair (lr, batch); got "
                                f"{type(got).__name__}")
            arrays = [strict_real_array(v, "controller.tables") for v in got]  # TypeError for non-real values
            try:
                lr, batch = (np.ascontiguousarray(np.broadcast_to(v, (1, stop - start)), dtype=np.float64)
                             for v in arrays)
            except ValueError:
                raise ValueError(f"controller.tables({start}, {stop}) must return (lr, batch), each of shape "
                                 f"(1, {stop - start}) or broadcasting to it; got shapes "
                                 f"{[a.shape for a in arrays]}") from None
            if not (np.all(np.isfinite(lr)) and np.all(lr >= 0) and np.all(np.isfinite(batch))
                    and np.all(batch >= 1)):
                raise ValueError(f"controller.tables({start}, {stop}) must give finite rates ≥ 0 and batches ≥ 1")
            if integer_batch and np.any(batch != np.round(batch)):
                raise ValueError(f"controller.tables({start}, {stop}) gave non-integer batches with integer_batch=True")
            lrs.append(lr[0])
            batches.append(batch[0])
            return lr, batch

        def observe(self, view: _loop.LoopView) -> None:
            controller.observe(view)

    placeholder = Schedule.constant(1.0, 1, steps=steps)  # the loop reads only its length
    backend_of = backends(setting, np, np.float64, fused_supported(np, None))

    recorder = _loop.Recorder(steps, None)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        run = _loop.run(setting, [placeholder], backend_of, recorder=recorder,
                        raise_on_divergence=raise_on_divergence, controller=Recording())
    lr, batch = np.concatenate(lrs), np.concatenate(batches)
    if lr.size < steps:  # the loop stopped early (a diverged run): the last rates stay
        lr = np.concatenate([lr, np.full(steps - lr.size, lr[-1])])
        batch = np.concatenate([batch, np.full(steps - batch.size, batch[-1])])
    realised = Schedule(lr, batch, label=label, integer_batch=integer_batch)
    return package(run, setting, [realised], optimizer, recorder, raise_on_divergence)[0]


def advance_rows(problem: Problem, second_moment: np.ndarray, step: int, lr: np.ndarray, batch: np.ndarray, *,
                 divergence_threshold: float = 1e12) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Advance independent SGD rows through one chunk of the loop, from their second moments.

    For clients that look at every step of a chunk and then decide which rows go on (hitting
    times): the rows run through :func:`._loop.run` with the per-step ``(η, B)`` given, starting
    after ``step`` steps (the divergence checks count from there), and the state comes back to be
    passed in again (a continuation, bitwise the uninterrupted run).

    Parameters
    ----------
    problem : Problem
    second_moment : ndarray, shape (R, d)
        The rows' ``s`` before the chunk.
    step : int
        Steps the rows have taken before the chunk.
    lr, batch : ndarray, shape (R, L)
        Per-step rates and batches of each row.
    divergence_threshold : float
        As for :func:`~ramplab.theory.expected_risk`.

    Returns
    -------
    second_moment : ndarray, shape (R, d)
        After the chunk.
    q, gradient_norm2 : ndarray, shape (R, L + 1)
        ``Σ m λ s`` and ``Σ m λ² s`` after ``0 … L`` steps of the chunk.
    first_bad : ndarray of int64, shape (R,)
        The first step (counted like ``step``) at which a row diverged (docs/math.md#divergence),
        ``iinfo(int64).max`` for none.

    Examples
    --------
    Two rows, one step each, from the initial state: the first row's rate is zero, so it stays.

    >>> from ramplab.theory import Problem
    >>> p = Problem([1.0], [1.0], noise_variance=0.0)
    >>> s, q, g, bad = advance_rows(p, np.ones((2, 1)), 0, np.array([[0.0], [0.5]]), np.ones((2, 1)))
    >>> s.ravel().tolist(), g[:, -1].tolist()
    ([1.0, 0.75], [1.0, 0.75])
    """
    rows, length = lr.shape
    setting = _loop.Setting(problem=problem, n_sched=rows, split=False, nsgd=False, averaging=False, momentum=False,
                            limit=divergence_limit(problem, divergence_threshold))

    class Given:
        def next_stop(self, at: int) -> int:
            return step + length

        def tables(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
            return (np.ascontiguousarray(lr[:, start - step: stop - step]),
                    np.ascontiguousarray(batch[:, start - step: stop - step]))

        def observe(self, view: _loop.LoopView) -> None:
            pass

    backend_of = backends(setting, np, np.float64, fused_supported(np, None))

    placeholder = Schedule.constant(1.0, 1, steps=length)
    recorder = _loop.Recorder(length, None)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        run = _loop.run(setting, [placeholder] * rows, backend_of, recorder=recorder, raise_on_divergence=False,
                        controller=Given(), resume=(step, {"second_moment": second_moment}))
        s = run.final["second_moment"]
        lam, w = problem.eigenvalues, problem.multiplicity * problem.eigenvalues
        g = np.empty((rows, length + 1))
        g[:, :length] = run.out.mean[:, 1:]  # Σ m λ² s before step k + 1 is the value after k steps
        g[:, length] = s @ (w * lam)
    return s, run.out.q, g, run.books.first_bad
