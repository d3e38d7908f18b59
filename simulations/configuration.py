"""What a Monte Carlo simulation runs: validated arguments and the per-step tables (docs/math.md#monte-carlo).

:func:`configure_simulation` checks every argument of :func:`simulations.simulate` and resolves the
defaults (data law, sampler, backend, dtype, block and chunk sizes) into one
:class:`SimulationConfig`. The per-step quantities are read block by block through
:meth:`SimulationConfig.step_block`: the rate ``η_t`` actually applied (the schedule's, or under
NSGD with the expected denominator ``η_t/sqrt(G_t)`` from the exact solver), the integer batch
``B_t`` and, with an iterate average, its weight ``ρ_t`` (docs/math.md#iterate-averaging).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from .samplers import DATA_KURTOSIS, SAMPLERS
from .streams import default_block, root_seed_sequence
from ..theory._validate import flag, positive_int
from ..theory.backend import resolve_backend
from ..theory.dynamics.averaging import Averaging, resolve_average
from ..theory.dynamics.problem import Problem
from ..theory.dynamics.recursion import _resolve_dtype, expected_risk
from ..theory.schedules.schedule import Schedule

__all__ = [
    "NORMALIZATIONS",
    "OPTIMIZERS",
    "SimulationConfig",
    "StepBlock",
    "configure_simulation",
    "integer_batches",
    "resolve_data",
    "simulated_problem",
]

OPTIMIZERS = ("sgd", "nsgd")
#: Most runs of one simulation (the host keeps a few floats per run): more is refused naming ``runs``.
MAX_RUNS = 2**31
#: Most runs per random stream (each stream draws ``runs_per_stream × (d + 3)`` numbers per step).
MAX_RUNS_PER_STREAM = 2**20
NORMALIZATIONS = ("expected", "conditional")
# Default chunk: as many runs as keep one (runs, d) state array at about 2^21 elements (16 MiB).
_CHUNK_ELEMENTS = 2**21


def resolve_data(problem: Problem, data: str | None) -> str:
    """The data law of the simulation: ``data``, or the one whose kurtosis is ``problem.kurtosis``.

    Raises
    ------
    ValueError
        For an unknown ``data``, a ``data`` whose kurtosis contradicts ``problem.kurtosis``, or
        (``data=None``) a kurtosis that no offered law has.

    Examples
    --------
    >>> resolve_data(Problem([1.0], [1.0], kurtosis=1.0), None)
    'rademacher'
    """
    if data is None:
        for name, kappa in DATA_KURTOSIS.items():
            if problem.kurtosis == kappa:
                return name
        raise ValueError(
            f"problem.kurtosis={problem.kurtosis!r} matches no data distribution "
            f"({', '.join(f'{k}: {v:g}' for k, v in DATA_KURTOSIS.items())}); pass data= and a problem "
            f"with that kurtosis"
        )
    if not isinstance(data, str) or data not in DATA_KURTOSIS:
        raise ValueError(f"data must be one of {tuple(DATA_KURTOSIS)}; got {data!r}")
    if problem.kurtosis != DATA_KURTOSIS[data]:
        raise ValueError(
            f"data={data!r} has kurtosis {DATA_KURTOSIS[data]:g} but problem.kurtosis={problem.kurtosis!r}; "
            f"use problem.replace(kurtosis={DATA_KURTOSIS[data]!r}) so that the exact solver and the "
            f"simulation describe the same data"
        )
    return data


def integer_batches(schedule: Schedule) -> np.ndarray:
    """The schedule's batch sizes as int64, shape (T,); a fractional batch raises ValueError.

    Examples
    --------
    >>> integer_batches(Schedule([0.1, 0.1], [2.0, 3.0], integer_batch=False)).tolist()
    [2, 3]
    """
    batch = np.asarray(schedule.batch)
    frac = batch != np.round(batch)
    if frac.any():
        i = int(np.argmax(frac))
        raise ValueError(
            f"batch must be integer-valued for Monte Carlo; schedule has batch {float(batch[i])!r} "
            f"at step {i + 1}"
        )
    return np.round(batch).astype(np.int64)


def simulated_problem(problem: Problem) -> Problem:
    """The problem the runs simulate: ``problem`` itself, or its coordinates repeated by multiplicity.

    A problem may carry per-coordinate multiplicities ``m_i`` (attribute ``multiplicity``):
    coordinate ``i`` stands for ``m_i`` identical coordinates. The exact solver weighs it by
    ``m_i``; a simulation has to draw every one of those coordinates, so integer multiplicities
    are expanded (``np.repeat``: ``Σ m_i`` coordinates) and anything else raises. Absent or unit
    multiplicities return ``problem`` unchanged.

    Raises
    ------
    ValueError
        For multiplicities that are not positive integers, one per coordinate.

    Examples
    --------
    >>> p = Problem([1.0, 0.5], [1.0, 2.0])
    >>> simulated_problem(p) is p
    True
    """
    m = getattr(problem, "multiplicity", None)
    if m is None:
        return problem
    try:
        mult = np.array(m, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"problem.multiplicity must be an array of positive integers; got {m!r}") from exc
    coordinates = problem.eigenvalues.shape[0]
    if np.ndim(m) == 0:
        mult = np.full(coordinates, mult[0])
    if mult.shape != (coordinates,):
        raise ValueError(
            f"problem.multiplicity must hold one count per coordinate ({coordinates}); got {mult.size}"
        )
    bad = ~(np.isfinite(mult) & (mult >= 1) & (mult == np.round(mult)))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"problem.multiplicity must be positive integers for Monte Carlo (coordinate i is simulated as "
            f"m_i identical coordinates); got {float(mult[i])!r} at index {i}"
        )
    if np.all(mult == 1):
        return problem
    counts = mult.astype(np.int64)
    return Problem(
        np.repeat(problem.eigenvalues, counts),
        np.repeat(problem.initial_second_moment, counts),
        noise_variance=problem.noise_variance,
        kurtosis=problem.kurtosis,
    )


@dataclass(frozen=True)
class StepBlock:
    """Per-step values of the 0-based steps ``start … stop − 1`` as Python numbers.

    Python floats and ints, not NumPy scalars: they mix with the arrays of every namespace.
    ``weights`` is ``None`` without an iterate average.
    """

    start: int
    stop: int
    rates: list[float]
    batches: list[int]
    weights: list[float] | None


@dataclass(frozen=True, eq=False)
class SimulationConfig:
    """Validated arguments of :func:`simulations.simulate` (see there for their meaning).

    Attributes
    ----------
    problem : Problem
        The problem as given (reported in the result).
    simulated : Problem
        The problem the runs advance: ``problem`` with multiplicities expanded
        (:func:`simulated_problem`).
    rates : ndarray, shape (T,)
        Deterministic rates applied at each step: the schedule's for SGD and conditional NSGD (whose
        step is then divided by ``‖g_t‖``), ``η_t/sqrt(G_t)`` for NSGD with the expected denominator.
    conditional : bool
        NSGD with the conditional denominator ``‖g_t‖``.
    averaging : Averaging or None
        The iterate average, if any.
    xp, dtype, block, chunk
        Namespace, state dtype, runs per random stream, runs advanced together.
    """

    problem: Problem
    simulated: Problem
    schedule: Schedule
    optimizer: str
    normalization: str
    sampler: str
    data: str
    runs: int
    root: np.random.SeedSequence
    xp: ModuleType
    dtype: Any
    block: int
    chunk: int
    rates: np.ndarray
    batches: np.ndarray
    conditional: bool
    averaging: Averaging | None
    checkpoints: Any
    keep_runs: bool
    on_divergence: str
    progress: bool | None

    @property
    def horizon(self) -> int:
        """Number of steps ``T``."""
        return len(self.schedule)

    def step_block(self, start: int, stop: int) -> StepBlock:
        """Rates, batches and averaging weights of the 0-based steps ``start … stop − 1``.

        The averaging weights are read here, one block at a time (``ρ`` of the 1-based steps
        ``start + 1 … stop``), never all ``T`` at once.
        """
        weights = None
        if self.averaging is not None:
            rho = np.asarray(self.averaging.weights(np.arange(start + 1, stop + 1)), dtype=np.float64)
            if rho.shape != (stop - start,):
                raise ValueError(f"average must give one weight per step; got shape {rho.shape} for "
                                 f"{stop - start} steps")
            bad = ~(np.isfinite(rho) & (rho > 0) & (rho <= 1))
            if bad.any():
                i = int(np.argmax(bad))
                raise ValueError(f"average must give weights in (0, 1]; got {float(rho[i])!r} at step {start + i + 1}")
            weights = [float(r) for r in rho]
        return StepBlock(
            start=start,
            stop=stop,
            rates=[float(r) for r in self.rates[start:stop]],
            batches=[int(b) for b in self.batches[start:stop]],
            weights=weights,
        )


def _checked_averaging(average: Any, horizon: int) -> Averaging | None:
    averaging = resolve_average(average)
    if averaging is None:
        return None
    # Read the first and the last weight now, so that a too-short weight array or a weight
    # outside (0, 1] fails before any run starts rather than part-way through.
    try:
        probe = np.asarray(averaging.weights(np.array([1, horizon])), dtype=np.float64)
    except ValueError as exc:
        raise ValueError(f"average: {exc}") from exc
    bad = ~(np.isfinite(probe) & (probe > 0) & (probe <= 1))
    if bad.any():
        raise ValueError(f"average must give weights in (0, 1]; got {float(probe[bad][0])!r}")
    return averaging


def configure_simulation(
    problem: Problem,
    schedule: Schedule,
    optimizer: str,
    *,
    normalization: str,
    runs: int,
    seed: Any,
    backend: Any,
    sampler: str,
    data: str | None,
    checkpoints: Any,
    keep_runs: bool,
    on_divergence: str,
    progress: bool | None,
    dtype: Any,
    chunk_size: int | None,
    runs_per_stream: int | None,
    average: Any,
) -> SimulationConfig:
    """Check the arguments of :func:`simulations.simulate` and resolve their defaults.

    Raises
    ------
    TypeError, ValueError
        Naming the offending argument (see :func:`simulations.simulate`).
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {type(problem).__name__}")
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a Schedule; got {type(schedule).__name__}")
    if not isinstance(optimizer, str) or optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {optimizer!r:.80}")
    if not isinstance(normalization, str) or normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}; got {normalization!r:.80}")
    if not isinstance(on_divergence, str) or on_divergence not in ("raise", "flag"):
        raise ValueError(f"on_divergence must be 'raise' or 'flag'; got {on_divergence!r:.80}")
    if not isinstance(sampler, str) or sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}; got {sampler!r:.80}")
    keep_runs = flag(keep_runs, "keep_runs")
    if not (progress is None or isinstance(progress, (bool, np.bool_))):
        raise TypeError(f"progress must be True, False or None; got {progress!r}")
    averaging = _checked_averaging(average, len(schedule))
    data = resolve_data(problem, data)
    if sampler == "auto":
        sampler = "gaussian-exact" if data == "gaussian" else "direct"
    elif sampler == "gaussian-exact" and data != "gaussian":
        raise ValueError(
            f"sampler='gaussian-exact' draws Gaussian batches only; got data={data!r} (use sampler='direct')"
        )
    runs = positive_int(runs, "runs", maximum=MAX_RUNS)
    batches = integer_batches(schedule)
    simulated = simulated_problem(problem)
    root = root_seed_sequence(seed)
    xp = resolve_backend(backend)
    dt = _resolve_dtype(xp, dtype)
    block = (default_block(xp) if runs_per_stream is None
             else positive_int(runs_per_stream, "runs_per_stream", maximum=MAX_RUNS_PER_STREAM))
    d = simulated.eigenvalues.shape[0]
    if chunk_size is None:
        chunk = max(block, (_CHUNK_ELEMENTS // d) // block * block)
    else:
        chunk = math.ceil(positive_int(chunk_size, "chunk_size") / block) * block
    chunk = min(chunk, math.ceil(runs / block) * block)

    if optimizer == "nsgd" and normalization == "expected":
        rates = np.asarray(expected_risk(simulated, schedule, "nsgd").effective_lr, dtype=np.float64)
    else:
        rates = np.asarray(schedule.lr, dtype=np.float64)
    return SimulationConfig(
        problem=problem,
        simulated=simulated,
        schedule=schedule,
        optimizer=optimizer,
        normalization=normalization,
        sampler=sampler,
        data=data,
        runs=runs,
        root=root,
        xp=xp,
        dtype=dt,
        block=block,
        chunk=chunk,
        rates=rates,
        batches=batches,
        conditional=optimizer == "nsgd" and normalization == "conditional",
        averaging=averaging,
        checkpoints=checkpoints,
        keep_runs=keep_runs,
        on_divergence=on_divergence,
        progress=progress,
    )
