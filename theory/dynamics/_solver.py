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


def solve(request: SolveRequest, problem: Problem) -> list[RiskTrajectory]:
    """Run ``request`` on ``problem`` through the loop; one trajectory per schedule."""
    setting = _loop.Setting(problem=problem, n_sched=len(request.schedules), split=request.split,
                            nsgd=request.optimizer == "nsgd", averaging=request.averaging is not None,
                            momentum=request.momentum is not None,
                            limit=divergence_limit(problem, request.threshold))
    horizon = request.horizon
    recorder = _loop.Recorder(horizon, request.checkpoints)
    weights_of = None
    if request.averaging is not None:
        averaging = request.averaging

        def weights_of(start: int, stop: int) -> np.ndarray:
            return np.ascontiguousarray(averaging.weights(np.arange(start + 1, stop + 1)), dtype=np.float64)

    xp, dtype = request.xp, request.dtype
    if request.fused:
        dt = np.float32 if dtype == xp.float32 else np.float64

        def backend_of(arrays: dict, noise: np.ndarray) -> Any:
            return _loop.FusedBackend(setting, arrays, noise, dt)
    else:
        def backend_of(arrays: dict, noise: np.ndarray) -> Any:
            return _loop.ReferenceBackend(setting, arrays, noise, xp, dtype)

    keep: Sequence[int] = ()
    if request.keep_states and request.checkpoints is not None:
        keep = [int(c) + request.offset for c in request.checkpoints]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        run = _loop.run(setting, request.schedules, backend_of, recorder=recorder,
                        raise_on_divergence=request.raise_on_divergence, weights_of=weights_of,
                        momentum=request.momentum, start=request.start, keep_states=keep)
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
