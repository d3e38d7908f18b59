"""What a Monte Carlo simulation runs: validated arguments and the per-step tables (docs/math.md#monte-carlo).

:func:`configure_simulation` checks every argument of :func:`simulations.simulate` and resolves the
defaults (data law, sampler, backend, dtype, block and chunk sizes, the optimizer spec —
:func:`theory.resolve_optimizer` — and its rotation) into one :class:`SimulationConfig`. The per-step quantities are read
block by block through :meth:`SimulationConfig.step_block`: the rate ``η_t`` actually applied (the
schedule's, or under NSGD with the expected denominator ``η_t/sqrt(G_t)`` from the exact solver),
the integer batch ``B_t``, the heavy-ball momentum ``μ_t`` (docs/math.md#monte-carlo-optimizers)
and, with an iterate average, its weight ``ρ_t`` (docs/math.md#iterate-averaging).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from .samplers import DATA_KURTOSIS, SAMPLERS
from .streams import default_block, root_seed_sequence
from ..theory._memory import check_memory, problem_bytes
from ..theory._optimizers import (
    NORMALIZATIONS,
    OPTIMIZER_NAMES,
    ROTATION_ATOL,
    NSGD,
    Adam,
    HeavyBall,
    OptimizerSpec,
    SignSGD,
    resolve_optimizer,
)
from ..theory._validate import describe, flag, positive_int, strict_real_array
from ..theory import resolve_backend
from ..theory._backend import resolve_dtype
from ..theory._numerics import NUMERICS_FIELDS, Numerics, resolve_numerics
from ..theory.dynamics import Averaging, Problem, expected_risk, resolve_average
from ..theory.schedules import Schedule

__all__ = [
    "NORMALIZATIONS",
    "OPTIMIZERS",
    "SimulationConfig",
    "StepBlock",
    "configure_simulation",
    "integer_batches",
    "optimizer_hyperparameters",
    "resolve_data",
    "rotation_matrix",
    "simulated_problem",
]

OPTIMIZERS = OPTIMIZER_NAMES
#: The keywords ``simulate`` took before the optimizer specs and Numerics, each with where it moved.
REMOVED_KEYWORDS = {
    "normalization": "optimizer=NSGD(normalization=...)",
    "momentum": "optimizer=HeavyBall(momentum=...) or optimizer=SignSGD(momentum=...)",
    "betas": "optimizer=Adam(betas=...)",
    "eps": "optimizer=Adam(eps=...)",
    "weight_decay": "optimizer=Adam(weight_decay=...)",
    "rotation": "optimizer=Adam(rotation=...) or optimizer=SignSGD(rotation=...)",
    "backend": "numerics=Numerics(backend=...)",
    "dtype": "numerics=Numerics(dtype=...)",
    "chunk_size": "numerics=Numerics(chunk_size=...)",
}
#: Largest dimension for which ``rotation="random"`` draws a dense Haar rotation (d² floats, O(d³) work).
MAX_RANDOM_ROTATION = 8192
#: Most runs of one simulation (the host keeps a few floats per run): more is refused naming ``runs``.
MAX_RUNS = 2**31
#: Most runs per random stream (each stream draws ``runs_per_stream × (d + 3)`` numbers per step).
MAX_RUNS_PER_STREAM = 2**20
# Default chunk: as many runs as keep one (runs, d) state array at about 2^21 elements (16 MiB).
_CHUNK_ELEMENTS = 2**21


def resolve_data(problem: Problem, data: str | None) -> str:
    """The data law of the simulation: ``data``, or the one whose kurtosis is ``problem.kurtosis``.

    Parameters
    ----------
    problem : Problem
        Its ``kurtosis`` must be the law's (docs/math.md#monte-carlo).
    data : {"gaussian", "rademacher", ...} or None
        A name of :data:`DATA_KURTOSIS`, or ``None`` to pick the law by kurtosis.

    Returns
    -------
    str
        The law's name.

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

    Parameters
    ----------
    schedule : Schedule
        ``T`` steps; a Monte Carlo step draws ``B_t`` whole samples (docs/math.md#monte-carlo).

    Returns
    -------
    ndarray of int64, shape (T,)
        Samples per step.

    Raises
    ------
    ValueError
        For a batch that is not a whole number, naming its (1-based) step.

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
            f"at step {i + 1} (round the schedule: e.g. seesaw_schedule(..., rounding='floor'), or "
            f"Schedule.from_segments(..., integer_batch=True) with whole-number batches)"
        )
    return np.round(batch).astype(np.int64)


def simulated_problem(problem: Problem) -> Problem:
    """The problem the runs simulate: ``problem`` itself, or its coordinates repeated by multiplicity.

    A problem may carry per-coordinate multiplicities ``m_i`` (attribute ``multiplicity``):
    coordinate ``i`` stands for ``m_i`` identical coordinates. The exact solver weighs it by
    ``m_i``; a simulation has to draw every one of those coordinates, so integer multiplicities
    are expanded (``np.repeat``: ``Σ m_i`` coordinates) and anything else raises. Absent or unit
    multiplicities return ``problem`` unchanged (docs/math.md#multiplicity).

    Parameters
    ----------
    problem : Problem

    Returns
    -------
    Problem
        With ``Σ m_i`` coordinates and unit multiplicities.

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
    check_memory(problem_bytes(int(counts.sum())), "simulate", {"d": int(counts.sum()), "multiplicity": "Σ m_i"})
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
    ``weights`` is ``None`` without an iterate average; ``momenta`` (the heavy-ball ``μ_t``) is
    ``None`` unless the optimizer is heavy ball (:class:`~ramplab.theory.HeavyBall`).

    Attributes
    ----------
    start, stop : int
        First step and one past the last (0-based).
    rates : list of float
        ``η_t`` of each step (docs/math.md#monte-carlo).
    batches : list of int
        ``B_t``, samples per step.
    weights : list of float or None
        Iterate-average weights ``ρ`` of the 1-based steps ``start + 1 … stop``
        (docs/math.md#iterate-averaging).
    momenta : list of float or None
        Heavy-ball ``μ_t`` (docs/math.md#monte-carlo-optimizers).

    Examples
    --------
    >>> p = Problem([1.0, 0.5], [1.0, 1.0], noise_variance=0.1)
    >>> config = configure_simulation(
    ...     p, Schedule.constant(0.1, 4, steps=5), HeavyBall(0.9), runs=8, seed=0,
    ...     sampler="auto", data=None, checkpoints=None, keep_runs=False, on_divergence="raise",
    ...     progress=False, numerics=Numerics(backend="numpy"), runs_per_stream=None, average="uniform")
    >>> config.step_block(1, 3)
    StepBlock(start=1, stop=3, rates=[0.1, 0.1], batches=[4, 4], weights=[0.5, 0.333...], momenta=[0.9, 0.9])
    """

    start: int
    stop: int
    rates: list[float]
    batches: list[int]
    weights: list[float] | None
    momenta: list[float] | None = None


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
        step is then divided by ``‖g_t‖``), ``η_t/sqrt(G_t)`` for NSGD with the expected denominator
        (with heavy ball on NSGD, those of the exact momentum solver).
    conditional : bool
        NSGD with the conditional denominator ``‖g_t‖``.
    averaging : Averaging or None
        The iterate average, if any.
    hyperparameters : dict
        The spec's hyper-parameters (:func:`optimizer_hyperparameters`); empty for SGD and NSGD
        without weight decay (with it, also ``decay_per_step``, ``u_t = η_t ω_t``).
    momenta : ndarray, shape (T,), or None
        The heavy-ball ``μ_t`` of every step (:class:`~ramplab.theory.HeavyBall`).
    rotation : ndarray, shape (d, d), or None
        The orthogonal ``Q`` whose columns are the optimizer's coordinate axes in the eigenbasis
        (:func:`rotation_matrix`); ``None``: the optimizer sees the eigenbasis.
    xp, dtype, block, chunk
        Namespace, state dtype, runs per random stream, runs advanced together.
    schedule : Schedule
        ``T`` steps.
    optimizer, sampler, data : str
        Resolved names (``optimizer`` the spec's shorthand, ``sampler="auto"`` and ``data=None``
        replaced by what runs).
    normalization : str or None
        NSGD's denominator (``"expected"`` for heavy ball on NSGD); ``None`` for the other rules.
    spec : OptimizerSpec
        The optimizer spec that runs (:func:`theory.resolve_optimizer` of ``optimizer``).
    runs : int
        Independent runs.
    root : numpy.random.SeedSequence
        Root of every run's random stream (docs/math.md#monte-carlo).
    batches : ndarray of int64, shape (T,)
        Samples per step.
    checkpoints, keep_runs, on_divergence, progress
        As given to :func:`simulations.simulate`.

    Examples
    --------
    >>> p = Problem([1.0, 0.5], [1.0, 1.0], noise_variance=0.1)
    >>> config = configure_simulation(
    ...     p, Schedule.constant(0.1, 4, steps=5), HeavyBall(0.9), runs=8, seed=0,
    ...     sampler="auto", data=None, checkpoints=None, keep_runs=False, on_divergence="raise",
    ...     progress=False, numerics=Numerics(backend="numpy"), runs_per_stream=None, average="uniform")
    >>> config.horizon, config.sampler, config.data, config.batches.tolist()
    (5, 'gaussian-exact', 'gaussian', [4, 4, 4, 4, 4])
    """

    problem: Problem
    simulated: Problem
    schedule: Schedule
    optimizer: str
    normalization: str | None
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
    hyperparameters: dict = field(default_factory=dict)
    momenta: np.ndarray | None = None
    rotation: np.ndarray | None = None
    spec: OptimizerSpec | None = None

    @property
    def horizon(self) -> int:
        """Number of steps ``T``."""
        return len(self.schedule)

    def step_block(self, start: int, stop: int) -> StepBlock:
        """Rates, batches and averaging weights of the 0-based steps ``start … stop − 1``.

        The averaging weights are read here, one block at a time (``ρ`` of the 1-based steps
        ``start + 1 … stop``, docs/math.md#iterate-averaging), never all ``T`` at once.

        Parameters
        ----------
        start, stop : int
            First step and one past the last (0-based, ``0 ≤ start < stop ≤ T``).

        Returns
        -------
        StepBlock

        Raises
        ------
        ValueError
            If the average gives the wrong number of weights or one outside ``(0, 1]``.
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
            momenta=None if self.momenta is None else [float(m) for m in self.momenta[start:stop]],
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


def refuse_removed_keywords(removed: dict, function: str) -> None:
    """TypeError for a keyword ``function`` no longer takes, saying which optimizer spec or Numerics field holds it."""
    for name in removed:
        if name in REMOVED_KEYWORDS:
            where = "ramplab.theory.Numerics" if name in NUMERICS_FIELDS else "docs/math.md#monte-carlo-optimizers"
            raise TypeError(f"{name}= moved: pass {REMOVED_KEYWORDS[name]} to {function} ({where})")
    if removed:
        raise TypeError(f"{function}() got an unexpected keyword argument {next(iter(removed))!r}")


def optimizer_hyperparameters(optimizer: str | OptimizerSpec, steps: int) -> tuple[dict, np.ndarray | None]:
    """The optimizer's hyper-parameters as a dict, and its per-step heavy-ball ``μ_t`` (docs/math.md#monte-carlo-optimizers).

    Parameters
    ----------
    optimizer : OptimizerSpec or {"sgd", "nsgd", "momentum", "adam", "signsgd"}
        A spec, or a shorthand for the spec with its defaults (:func:`theory.resolve_optimizer`).
    steps : int
        Steps ``T`` of the schedule (the length a per-step heavy-ball ``momentum`` must have).

    Returns
    -------
    hyperparameters : dict
        ``{"momentum": μ}`` for :class:`~ramplab.theory.HeavyBall` and
        :class:`~ramplab.theory.SignSGD`; ``{"betas", "eps", "weight_decay"}`` for
        :class:`~ramplab.theory.Adam`; empty for SGD and NSGD. SGD, NSGD and heavy ball with weight
        decay add ``"weight_decay"``: the per-step ``ω_t``, shape ``(T,)``.
    momenta : ndarray, shape (T,), or None
        Per-step ``μ_t`` for heavy ball, else ``None``.

    Raises
    ------
    ValueError
        For an unknown ``optimizer``, or a per-step ``momentum`` whose length is not ``steps``
        (named).

    Examples
    --------
    >>> optimizer_hyperparameters("adam", 3)
    ({'betas': (0.9, 0.999), 'eps': 1e-08, 'weight_decay': 0.0}, None)
    >>> optimizer_hyperparameters(HeavyBall(0.5), 2)[1].tolist()
    [0.5, 0.5]
    """
    spec = resolve_optimizer(optimizer, where="monte_carlo")
    # SGD, NSGD and heavy ball with decoupled weight decay: the per-step ω_t (docs/math.md#weight-decay).
    decay = {"weight_decay": spec.weight_decays(steps)} if getattr(spec, "decays", False) else {}
    if isinstance(spec, HeavyBall):
        return {"momentum": spec.momentum, **decay}, spec.momenta(steps)
    if isinstance(spec, SignSGD):
        return {"momentum": spec.momentum}, None
    if isinstance(spec, Adam):
        return {"betas": spec.betas, "eps": spec.eps, "weight_decay": spec.weight_decay}, None
    return decay, None


def rotation_matrix(rotation: Any, dimension: int, seed: Any = 0) -> np.ndarray | None:
    """The orthogonal matrix ``Q`` whose columns are the optimizer's axes in the eigenbasis of ``H``.

    The optimizer sees the coordinates ``θ = Qᵀ e`` (docs/math.md#monte-carlo-optimizers), in which
    the data covariance is ``Qᵀ Λ Q``: diagonal for ``Q = I`` (the default, ``rotation=None``),
    dense otherwise.

    Parameters
    ----------
    rotation : None, "random" or array_like of shape (d, d)
        ``None``: no rotation (returns ``None``). ``"random"``: a Haar-distributed rotation drawn
        from a stream of its own, the child ``SeedSequence(entropy, spawn_key=(*spawn_key, 2**32))``
        of ``seed`` (no block of runs uses that key). A matrix: used as given; it must be
        orthogonal, ``max |QᵀQ − I| ≤ 1e-8``.
    dimension : int
        ``d``, the simulated coordinates.
    seed : int, sequence of int, SeedSequence or None
        The simulation's seed (see :func:`simulations.streams.root_seed_sequence`).

    Returns
    -------
    ndarray, shape (d, d), or None

    Raises
    ------
    ValueError, TypeError
        Naming ``rotation``: an unknown string, a matrix of the wrong shape, not finite or not
        orthogonal, or ``"random"`` beyond ``d = 8192``.

    Examples
    --------
    >>> q = rotation_matrix("random", 3, seed=1)
    >>> bool(np.allclose(q.T @ q, np.eye(3)))
    True
    >>> rotation_matrix(None, 3) is None
    True
    """
    if rotation is None:
        return None
    if isinstance(rotation, str):
        if rotation != "random":
            raise ValueError(f"rotation must be None, 'random' or an orthogonal (d, d) matrix; got {rotation!r:.80}")
        if dimension > MAX_RANDOM_ROTATION:
            raise ValueError(f"rotation='random' draws a dense d × d matrix; d = {dimension} exceeds "
                             f"{MAX_RANDOM_ROTATION}")
        root = root_seed_sequence(seed)
        rng = np.random.default_rng(np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, 2**32)))
        a = rng.standard_normal((dimension, dimension))
        q, r = np.linalg.qr(a)
        return q * np.where(np.diag(r) < 0, -1.0, 1.0)[None, :]
    try:
        q = strict_real_array(rotation, "rotation")
    except (TypeError, ValueError) as exc:
        raise TypeError(f"rotation must be None, 'random' or an orthogonal (d, d) matrix; got "
                        f"{describe(rotation)}") from exc
    if q.shape != (dimension, dimension):
        raise ValueError(f"rotation must have shape ({dimension}, {dimension}) (d = the simulated coordinates); "
                         f"got shape {q.shape}")
    q = q.astype(np.float64)
    if not np.all(np.isfinite(q)):
        raise ValueError("rotation must be finite")
    with np.errstate(over="ignore", invalid="ignore"):
        defect = np.max(np.abs(q.T @ q - np.eye(dimension)))
    if not defect <= ROTATION_ATOL:
        raise ValueError(f"rotation must be orthogonal: max |QᵀQ − I| = {defect:.3g} > {ROTATION_ATOL:g}")
    return q


def configure_simulation(
    problem: Problem,
    schedule: Schedule,
    optimizer: str | OptimizerSpec,
    *,
    runs: int,
    seed: Any,
    sampler: str,
    data: str | None,
    checkpoints: Any,
    keep_runs: bool,
    on_divergence: str,
    progress: bool | None,
    numerics: Numerics | dict | None,
    runs_per_stream: int | None,
    average: Any,
    **removed: Any,
) -> SimulationConfig:
    """Check the arguments of :func:`simulations.simulate` and resolve their defaults.

    Parameters
    ----------
    problem : Problem
    schedule : Schedule
        ``T`` steps with whole batch sizes.
    optimizer : OptimizerSpec or {"sgd", "nsgd", "momentum", "adam", "signsgd"}
        The update rule and its hyper-parameters (docs/math.md#monte-carlo-optimizers), as in
        :func:`simulations.simulate`.
    runs, seed, sampler, data, checkpoints, keep_runs, on_divergence, progress
        As in :func:`simulations.simulate`.
    numerics, runs_per_stream, average
        As in :func:`simulations.simulate`.
    **removed
        The per-optimizer keywords of earlier versions (``normalization``, ``momentum``,
        ``betas``, ``eps``, ``weight_decay``, ``rotation``) and the numerical ones (``backend``,
        ``dtype``, ``chunk_size``): each raises TypeError naming the spec or the
        :class:`~ramplab.theory.Numerics` field that now takes it.

    Returns
    -------
    SimulationConfig
        Every argument checked, defaults resolved, per-step rates and batches tabulated.

    Raises
    ------
    TypeError, ValueError
        Naming the offending argument (see :func:`simulations.simulate`).

    Examples
    --------
    >>> p = Problem([1.0, 0.5], [1.0, 1.0], noise_variance=0.1)
    >>> config = configure_simulation(
    ...     p, Schedule.constant(0.1, 4, steps=5), HeavyBall(0.9), runs=8, seed=0,
    ...     sampler="auto", data=None, checkpoints=None, keep_runs=False, on_divergence="raise",
    ...     progress=False, numerics=Numerics(backend="numpy"), runs_per_stream=None, average="uniform")
    >>> config.runs, config.hyperparameters["momentum"], config.averaging is not None
    (8, 0.9, True)
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {type(problem).__name__}")
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a Schedule; got {type(schedule).__name__}")
    refuse_removed_keywords(removed, "configure_simulation")
    spec = resolve_optimizer(optimizer, where="monte_carlo")
    numerics = resolve_numerics(numerics, where="monte_carlo")
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
    hyper, momenta = optimizer_hyperparameters(spec, len(schedule))
    runs = positive_int(runs, "runs", maximum=MAX_RUNS)
    batches = integer_batches(schedule)
    simulated = simulated_problem(problem)
    root = root_seed_sequence(seed)
    rotation = rotation_matrix(getattr(spec, "rotation", None), simulated.eigenvalues.shape[0], root)
    xp = resolve_backend("auto" if numerics.backend is None else numerics.backend)
    dt = resolve_dtype(xp, numerics.dtype)
    block = (default_block(xp) if runs_per_stream is None
             else positive_int(runs_per_stream, "runs_per_stream", maximum=MAX_RUNS_PER_STREAM))
    d = simulated.eigenvalues.shape[0]
    if numerics.chunk_size is None:
        chunk = max(block, (_CHUNK_ELEMENTS // d) // block * block)
    else:
        chunk = math.ceil(numerics.chunk_size / block) * block
    chunk = min(chunk, math.ceil(runs / block) * block)

    conditional = isinstance(spec, NSGD) and spec.normalization == "conditional"
    normalization = None
    if isinstance(spec, NSGD):
        normalization = spec.normalization
    elif isinstance(spec, HeavyBall) and spec.optimizer == "nsgd":
        normalization = "expected"
    # Past the exact solver's divergence step the rates are NaN: simulate applies the divergence rule
    # (docs/math.md#divergence) itself, so it is not raised here.
    if isinstance(spec, NSGD) and not conditional:
        exact = expected_risk(simulated, schedule, spec, on_divergence="flag", progress=False)
        rates = np.asarray(exact.effective_lr, dtype=np.float64)
    elif normalization == "expected":  # heavy ball on NSGD: the exact momentum solver's η_t/sqrt(G_t)
        exact = expected_risk(simulated, schedule, spec, on_divergence="flag", progress=False)
        rates = np.asarray(exact.effective_lr, dtype=np.float64)
    else:
        rates = np.asarray(schedule.lr, dtype=np.float64)
    if isinstance(hyper.get("weight_decay"), np.ndarray):
        # Decoupled decay u_t = η_t ω_t with the schedule's η_t, also on NSGD (AdamW's convention,
        # docs/math.md#weight-decay): e ← e − (step) − u_t (e − e_0).
        hyper["decay_per_step"] = np.asarray(schedule.lr, dtype=np.float64) * hyper["weight_decay"]
    return SimulationConfig(
        problem=problem,
        simulated=simulated,
        schedule=schedule,
        optimizer=spec.name,
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
        conditional=conditional,
        averaging=averaging,
        checkpoints=checkpoints,
        keep_runs=keep_runs,
        on_divergence=on_divergence,
        progress=progress,
        hyperparameters=hyper,
        momenta=momenta,
        rotation=rotation,
        spec=spec,
    )
