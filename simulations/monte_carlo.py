"""Monte Carlo SGD, NSGD, heavy-ball momentum, Adam and SignSGD on noisy linear regression.

Many runs advance together (docs/math.md#monte-carlo, docs/math.md#monte-carlo-optimizers).

The simulation works in the eigenbasis of ``H`` on the error ``e = w − w*`` of every run, a
``(runs, d)`` array advanced step by step through the array namespace that
:func:`ramplab.theory.resolve_backend` returns (NumPy, CuPy, or ``array_api_strict`` in the tests).

Initial error: ``e_0 = sqrt(s(0))`` deterministically, the same for every run. Its second moments
are ``s(0)`` exactly, as in the exact solver. Flipping the sign of an eigen-coordinate of ``e`` and
of the matching input coordinate ``z_i`` leaves the update unchanged, and every data distribution
offered here is symmetric, so the law of the risk does not depend on the signs of ``e_0``: random
signs would change nothing but spend random numbers.

With ``average=`` every run also carries its averaged iterate ``ē``, updated after each step as
``ē_t = (1 − ρ_t) ē_{t−1} + ρ_t e_t`` from ``ē_0 = e_0`` (docs/math.md#iterate-averaging).

:func:`simulate` follows the mathematics in separate parts: :mod:`simulations.configuration`
validates the arguments and builds the per-step tables (rates, batches, averaging weights),
:mod:`simulations.updates` advances the runs one step (gradient draw, SGD/NSGD update, averaging
update), :mod:`simulations.recording` turns per-run curves into means and standard errors, and this
module runs chunks of runs through the steps and packages the :class:`SimulationResult`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .configuration import NORMALIZATIONS, OPTIMIZERS, SimulationConfig, refuse_removed_keywords, configure_simulation
from . import _sampler_kernels
from .progress import ProgressBar
from .recording import ChunkRecorder, CurveStatistics, RecordPlan, record_plan
from .streams import block_streams
from .samplers import fused_sgd_step
from .updates import OptimizerStep, averaged_update, draw_gradient
from ..theory._frozen import FrozenRecord
from ..theory._memory import check_simulation_memory
from ..theory._numerics import Numerics
from ..theory._optimizers import NSGD, SGD, HeavyBall, OptimizerSpec
from ..theory._validate import finite_real
from ..theory import backend_name
from ..theory.dynamics import Averaging, DivergenceError, Problem, UnstableScheduleWarning, expected_risk
from ..theory.dynamics._stability import warn_unstable_segments
from ..theory.schedules import Schedule

__all__ = ["NORMALIZATIONS", "OPTIMIZERS", "SimulationDivergenceError", "SimulationResult", "simulate"]

# Per-run risks are collected on the device and brought to the host every this many steps, which is
# also when divergence is checked (one device synchronisation per block of steps) and how many
# averaging weights are read at a time.
_FLUSH_EVERY = 256


class SimulationDivergenceError(DivergenceError):
    """A Monte Carlo simulation diverged by the rule of docs/math.md#divergence.

    Attributes
    ----------
    step : int
        First step after which the expected excess risk the runs estimate (or, with ``average=``,
        that of the averaged iterate) is not finite or exceeds ``divergence_threshold × (R(0) + σ²)``:
        the mean over runs, or the exact expected risk of the same optimizer where one exists
        (:func:`simulate`, *Divergence*).
    run : int or None
        A run whose own excess risk stopped being finite at ``step``, or ``None`` when the mean
        passed the bound with every run finite (or the exact expected risk did). Divergence is
        checked every 256 steps and at the end, chunk by chunk: the mean over the runs simulated
        so far already passes the bound at ``step`` (``on_divergence="flag"`` gives the global
        ``diverged_at``).
    schedule_index : int
        Always 0 (one schedule per simulation).
    label : str
        The schedule's label.

    See Also
    --------
    simulate : raises it unless ``on_divergence="flag"`` (docs/math.md#monte-carlo).

    Examples
    --------
    >>> err = SimulationDivergenceError(256, 3, "cosine")
    >>> err.step, err.run, isinstance(err, ArithmeticError)
    (256, 3, True)
    >>> SimulationDivergenceError(100, None, "").run is None
    True
    """

    def __init__(self, step: int, run: int | None, label: str) -> None:
        self.step, self.run, self.schedule_index, self.label = step, run, 0, label
        name = f" of schedule {label!r}" if label else ""
        what = (f"run {run}'s excess risk is not finite" if run is not None else
                "the expected excess risk (mean over runs, or the exact one of the same optimizer) is not finite "
                "or exceeds divergence_threshold × (R(0) + σ²)")
        ArithmeticError.__init__(
            self,
            f"Monte Carlo simulation{name} diverged at step {step}: {what} (docs/math.md#divergence) "
            f"(pass on_divergence='flag' to get the curves, +inf from that step on)",
        )


@dataclass(frozen=True, eq=False)
class SimulationResult(FrozenRecord):
    """Monte Carlo estimate of the expected excess risk along one schedule (NumPy arrays).

    A result compares and hashes by identity on purpose (compare its arrays); it pickles and copies
    to an object with the same fields.

    Attributes
    ----------
    mean_risk : ndarray, shape (K,)
        Mean over runs of the excess risk ``½ Σ λ_i e_i²`` at each recorded point; ``+inf`` from
        ``diverged_at`` on (``on_divergence="flag"``). Step 0 is the exact initial risk ``R(0)`` with
        zero spread (every run starts at ``e_0``).
    stderr : ndarray, shape (K,)
        Standard error of ``mean_risk``: sample standard deviation over runs / sqrt(runs). ``+inf``
        where ``mean_risk`` is, where it is undefined (``runs = 1``) and where the spread of
        finite but huge risks overflows.
    steps : ndarray, shape (K,)
        Without checkpoints ``0 … T``. With checkpoints, the steps completed at each checkpoint.
    samples : ndarray, shape (K,)
        Cumulative samples of each recorded point (the checkpoints themselves, if given).
    run_risk : ndarray, shape (runs, K), or None
        Per-run curves (``keep_runs=True``).
    runs, seed, backend, sampler, data, optimizer, normalization
        What was run: ``seed`` reproduces it (the root seed's entropy, or the ``SeedSequence``
        given), ``backend`` is the namespace's name, ``sampler`` the resolved sampler,
        ``optimizer`` the spec's shorthand (``"momentum"`` for heavy ball), ``normalization`` is
        ``None`` except for NSGD (and ``"expected"`` for heavy ball on NSGD).
    hyperparameters : dict
        The optimizer's hyper-parameters (``momentum``; ``betas``, ``eps``, ``weight_decay``);
        empty for SGD and NSGD without weight decay. With decay on SGD, NSGD or heavy ball:
        ``weight_decay`` (the per-step ``ω_t``) and ``decay_per_step`` (``u_t = η_t ω_t``, the
        schedule's ``η_t``; docs/math.md#weight-decay).
    rotation : ndarray, shape (d, d), or None
        The orthogonal ``Q`` of the optimizer's coordinates ``θ = Qᵀ e`` (the spec's ``rotation``,
        ``"random"`` drawn).
    optimizer_spec : OptimizerSpec or None
        The spec that ran (passing it back as ``optimizer=`` runs the same rule).
    runs_per_stream : int
        Block size of the random streams (part of what reproduces the numbers).
    effective_lr : ndarray, shape (T,), or None
        The deterministic rates applied (the schedule's; NSGD with the expected denominator:
        ``η/sqrt(G_t)`` from :func:`theory.expected_risk`); ``None`` for the conditional NSGD, whose
        rate ``η/‖g_t‖`` differs per run. For Adam and SignSGD it is the ``η_t`` that multiplies
        the normalised direction.
    diverged_at : int or None
        First step at which the simulation is diverged by the rule of docs/math.md#divergence (the
        exact solver's): the mean over runs of the risk (or averaged risk) is not finite or exceeds
        ``divergence_threshold × (R(0) + σ²)``, or, for SGD, expected NSGD and heavy ball, the exact
        expected risk does. Every mean and standard error is ``+inf`` from there on.
    diverged_runs : int
        Number of runs whose own risk (or averaged risk) stopped being finite.
    average : Averaging or None
        The iterate average simulated (``average=``), docs/math.md#iterate-averaging.
    mean_averaged_risk : ndarray, shape (K,), or None
        Mean over runs of the excess risk ``½ Σ λ_i ē_i²`` of each run's averaged iterate, at the
        same points as ``mean_risk`` (interpolated at checkpoints in the same way); ``None``
        without averaging. It estimates :attr:`theory.RiskTrajectory.averaged_risk`.
    averaged_stderr : ndarray, shape (K,), or None
        Its standard error, as for ``stderr``.
    run_averaged_risk : ndarray, shape (runs, K), or None
        Per-run averaged curves (``keep_runs=True`` with averaging).
    problem, schedule

    Examples
    --------
    Four isotropic directions, 256 runs of 20 steps (docs/math.md#monte-carlo):

    >>> r = simulate(Problem.isotropic(4, noise_variance=0.5), Schedule.constant(0.1, 4, steps=20),
    ...              runs=256, seed=1, numerics=Numerics(backend="numpy"))
    >>> r.mean_risk.shape, r.steps[:3].tolist(), bool(r.stderr[-1] < 0.01)
    ((21,), [0, 1, 2], True)
    """

    problem: Problem
    schedule: Schedule
    optimizer: str
    normalization: str | None
    sampler: str
    data: str
    backend: str
    seed: Any
    runs: int
    runs_per_stream: int
    steps: np.ndarray
    samples: np.ndarray
    mean_risk: np.ndarray
    stderr: np.ndarray
    run_risk: np.ndarray | None = None
    effective_lr: np.ndarray | None = None
    diverged_at: int | None = None
    diverged_runs: int = 0
    average: Averaging | None = None
    mean_averaged_risk: np.ndarray | None = None
    averaged_stderr: np.ndarray | None = None
    run_averaged_risk: np.ndarray | None = None
    hyperparameters: dict = field(default_factory=dict)
    rotation: np.ndarray | None = None
    optimizer_spec: OptimizerSpec | None = None

    @property
    def std(self) -> np.ndarray:
        """Standard deviation of the risk across runs at each recorded point."""
        return self.stderr * math.sqrt(self.runs)

    def z_score(self, reference: Any, *, averaged: bool = False) -> np.ndarray:
        """``(mean_risk − reference) / stderr`` at each recorded point.

        Parameters
        ----------
        reference : array_like, shape (K,)
            Expected values at the recorded points (e.g. from :func:`theory.expected_risk`).
        averaged : bool
            Score ``mean_averaged_risk`` with ``averaged_stderr`` instead.

        Returns
        -------
        ndarray, shape (K,)
            Standard errors between the Monte Carlo mean and ``reference``; docs/math.md#monte-carlo.
            Where ``stderr`` is 0 (step 0, whose risk is exact) it is 0 if the mean equals
            ``reference`` to 1e-12 relative and ``±inf`` otherwise; ``nan`` where both are ``+inf``.

        Raises
        ------
        ValueError
            ``averaged=True`` for a simulation without averaging.

        Examples
        --------
        >>> p = Problem.isotropic(4, noise_variance=0.5)
        >>> s = Schedule.constant(0.1, 4, steps=20)
        >>> mc = simulate(p, s, runs=512, seed=1, numerics=Numerics(backend="numpy"), average="uniform")
        >>> exact = expected_risk(p, s, average="uniform")
        >>> bool(np.max(np.abs(mc.z_score(exact.risk))) < 5)
        True
        >>> bool(np.max(np.abs(mc.z_score(exact.averaged_risk, averaged=True))) < 5)
        True
        """
        if averaged:
            if self.mean_averaged_risk is None:
                raise ValueError("averaged=True needs a simulation run with average=...")
            mean, stderr = self.mean_averaged_risk, self.averaged_stderr
        else:
            mean, stderr = self.mean_risk, self.stderr
        ref = np.asarray(reference, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            z = (mean - ref) / stderr
            # A deterministic point (stderr 0: step 0) scores 0 when it equals the reference to rounding.
            exact = (stderr == 0) & np.isfinite(mean) & (np.abs(mean - ref) <= 1e-12 * np.abs(ref))
        return np.where(exact, 0.0, z)


def simulate(
    problem: Problem,
    schedule: Schedule,
    optimizer: str | OptimizerSpec = "sgd",
    *,
    runs: int = 1000,
    seed: Any = 0,
    sampler: str = "auto",
    data: str | None = None,
    checkpoints: Any = None,
    keep_runs: bool = False,
    on_divergence: str = "raise",
    divergence_threshold: float = 1e12,
    progress: bool | None = None,
    numerics: Numerics | dict | None = None,
    runs_per_stream: int | None = None,
    average: str | Averaging | None = None,
    **removed: Any,
) -> SimulationResult:
    """Monte Carlo mean excess risk of SGD, NSGD, momentum, Adam or SignSGD along a schedule, with its SE.

    Optionally also the mean excess risk of an iterate average (``average=``), the Monte Carlo
    counterpart of ``expected_risk(..., average=...).averaged_risk``.

    Parameters
    ----------
    problem : Problem
    schedule : Schedule
        Batch sizes must be integer-valued.
    optimizer : OptimizerSpec or {"sgd", "nsgd", "momentum", "adam", "signsgd"}
        The update rule and its hyper-parameters (docs/math.md#monte-carlo-optimizers), a spec of
        :mod:`ramplab.theory` or its shorthand (the spec with its defaults,
        :func:`~ramplab.theory.resolve_optimizer`); the schedule's ``lr`` is the ``η_t`` of each rule.

        - :class:`~ramplab.theory.SGD` (``"sgd"``): plain SGD.
        - :class:`~ramplab.theory.NSGD` (``"nsgd"``): normalized SGD. ``normalization="expected"``
          (default) divides by ``sqrt(E‖g_t‖²)``: the deterministic rates ``η/sqrt(G_t)`` are taken
          from :func:`theory.expected_risk` (its ``effective_lr``), so the simulation estimates
          exactly what the exact solver computes. ``"conditional"`` divides each run's step by the
          realised ``‖g_t‖`` of its batch; when ``g_t = 0`` the step is zero.
        - :class:`~ramplab.theory.HeavyBall` (``"momentum"``: ``μ = 0.9``): heavy-ball momentum
          ``w_{t+1} = w_t − η_t g_t + μ_t (w_t − w_{t−1})`` with ``w_{−1} = w_0`` (the convention of
          the exact momentum solver), ``μ`` one number or one ``μ_t`` per step (e.g.
          :func:`ramplab.interop.torch_momentum` for what ``torch.optim.SGD(momentum=μ)`` does); on
          NSGD (``HeavyBall(μ, optimizer="nsgd")``) with the exact momentum solver's ``η/sqrt(G_t)``.
        - :class:`~ramplab.theory.Adam` (``"adam"``): Adam with AdamW's decoupled weight decay
          ``λ`` (``w ← w − η_t λ w`` besides the Adam step, with ``w = e − e_0`` the iterate from
          ``w_0 = 0``).
        - :class:`~ramplab.theory.SignSGD` (``"signsgd"``): SignSGD, Signum with ``momentum > 0``.

        Adam and SignSGD take ``rotation``: the coordinates they see. ``None`` (default): the
        eigenbasis of ``H``, in which the data covariance is diagonal. An orthogonal ``Q``: the
        optimizer sees ``θ = Qᵀ e`` and the covariance ``Qᵀ Λ Q``. ``"random"``: a Haar rotation
        drawn from ``seed`` (a stream no run uses). It costs two ``(n, d) × (d, d)`` products per
        step, ``O(d²)`` per run and step on top of the ``O(d)`` sampler (the gradient is still
        drawn in the eigenbasis, exactly, and then rotated). SGD, NSGD and heavy ball are
        rotation-equivariant and take none.
    runs : int
        Independent runs, ≥ 1.
    seed : int, sequence of int, SeedSequence or None
        Root seed (see :mod:`simulations.streams`). Same seed, same backend, same
        ``runs_per_stream``: same numbers; more runs extend the earlier ones.
    sampler : {"auto", "gaussian-exact", "direct"}
        ``"auto"`` is ``"gaussian-exact"`` for Gaussian data and ``"direct"`` otherwise (see
        :mod:`simulations.samplers`). ``"gaussian-exact"`` with other data raises.
    data : {"gaussian", "rademacher", "uniform"} or None
        Distribution of the standardised input coordinates. ``None`` picks the one whose kurtosis
        is ``problem.kurtosis`` (3, 1 and 9/5); a ``data`` that contradicts ``problem.kurtosis``
        raises, so that one problem describes both the exact solver's data and the simulation's.
    checkpoints : array_like, optional
        Sample counts in ``[0, total_samples]`` at which to report the risk; each run's risk is
        interpolated linearly between the steps around a checkpoint (as
        :meth:`theory.RiskTrajectory.at_samples` does), then averaged. Default: every step.
    keep_runs : bool
        Also return the per-run curves (``runs × K`` floats on the host).
    on_divergence : {"raise", "flag"}
        What the divergence rule does (see *Divergence* below; the rule of
        :func:`theory.expected_risk`): raise :class:`SimulationDivergenceError` naming the step, or
        (``"flag"``) set ``diverged_at`` and make every mean ``+inf`` from there on. Never a silent
        NaN, never a tiny mean of an exploding expectation.
    divergence_threshold : float, default 1e12
        ``θ > 1`` of the bound ``θ (R(0) + σ²)`` on the expected risk, as for
        :func:`theory.expected_risk`.
    progress : bool or None
        Progress bar on stderr: ``True`` always, ``False`` never, ``None`` (default) only once the
        simulation has run for more than 2 seconds.
    numerics : Numerics or dict, optional
        How the runs are computed (:class:`~ramplab.theory.Numerics`, or a dict of its fields): its
        ``backend`` (``None``: ``"auto"``, CuPy when a device is usable, else NumPy, resolved by
        :func:`ramplab.theory.resolve_backend`; results come back as NumPy arrays), the state's
        ``dtype`` (the backend's float64 by default) and ``chunk_size``, the runs advanced together,
        rounded up to a multiple of ``runs_per_stream`` (default: enough to make the ``(chunk, d)``
        state about 2^21 elements, at least one block; it changes memory and speed, not the numbers
        of any run). A ``kernel`` other than ``"auto"`` is refused (ValueError): it is the exact
        solver's.
    runs_per_stream : int, optional
        Runs per random stream (block size): 64 on host backends, 1024 on CuPy by default.
    average : None, "uniform" or Averaging
        Also follow an iterate average of every run (docs/math.md#iterate-averaging): after step
        ``t`` (1-based) the run's averaged iterate becomes ``ē_t = (1 − ρ_t) ē_{t−1} + ρ_t e_t``,
        from ``ē_0 = e_0``, with the weights ``ρ_t`` of ``"uniform"``
        (:class:`~ramplab.theory.UniformAverage`, ``ρ_t = 1/t``),
        :class:`~ramplab.theory.TailAverage` or
        :class:`~ramplab.theory.ExponentialAverage` (one weight or one per
        step). The weights are read 256 steps at a time. The averaged iterate has the backend and
        dtype of the iterate and uses no random numbers, so every other output is unchanged by it.
        A run whose averaged risk stops being finite counts as diverged, as for the iterate.
        Adds ``mean_averaged_risk``, ``averaged_stderr`` (and ``run_averaged_risk``) to the result.
    **removed
        The per-optimizer keywords of earlier versions (``normalization``, ``momentum``,
        ``betas``, ``eps``, ``weight_decay``, ``rotation``), the numerical ones (``backend``,
        ``dtype``, ``chunk_size``) and any other unknown keyword: a TypeError that names where it
        moved, e.g. ``betas= moved: pass optimizer=Adam(betas=...)``, ``backend= moved: pass
        numerics=Numerics(backend=...)``.

    Returns
    -------
    SimulationResult

    Raises
    ------
    TypeError, ValueError
        For an argument of the wrong kind or range, naming it (a spec's hyper-parameters are
        checked when the spec is built; a per-step momentum's length and a rotation's shape here).
    SimulationDivergenceError
        When the simulation diverges and ``on_divergence="raise"``.

    Warns
    -----
    UnstableScheduleWarning
        For SGD, when the schedule holds a constant ``(η, B)`` outside the stability region for
        two or more steps (before any step runs; as :func:`theory.expected_risk`).

    Notes
    -----
    *Divergence* (docs/math.md#divergence). One rule for exact and Monte Carlo: the trajectory is
    diverged at the first step at which the expected excess risk (or averaged risk) is not finite
    or exceeds ``R_max = θ (R(0) + σ²)``. Monte Carlo applies it to the expectation it estimates, the
    mean over runs, every step (checked every 256 steps), and, for the optimizers with an exact
    recursion (SGD, expected NSGD, heavy ball), to the exact expected risk as well, whichever passes
    first; with ``"raise"`` an exact divergence raises before any step is simulated. The second
    part is needed because a finite sample cannot see an unstable expectation: each run's risk is a
    product of random per-step factors whose mean exceeds 1 while the mean of their logarithm is
    negative (at ``η = 0.8``, ``B = 1``, ``λ = 1``: ``E(1 − ηz²)² = 1.32`` but
    ``E log|1 − ηz²| = −0.47``), so almost every run contracts (and underflows to 0) while
    ``E R_t`` grows like ``1.32^t``, carried by ever rarer runs; the sample mean then follows the
    typical run (``7e-82`` after 400 steps) instead of the expectation. Adam, SignSGD and the
    conditional NSGD have no exact recursion: for them the mean over runs decides.

    Every run starts from ``e_0 = sqrt(s(0))`` (module docstring: by symmetry of the data the signs
    do not matter), so step 0 is deterministic: it is recorded as the problem's exact
    ``initial_risk`` for every run (not re-summed from ``e_0``, which would round differently), with
    a standard error of exactly 0.

    Memory is bounded per chunk, whatever ``runs`` and ``T``: about ten ``(chunk, d)`` arrays
    (state, scaled state, draws, gradient, temporaries: ``chunk·d ≈ 2^21`` elements each by
    default, ~170 MB in float64), per-run risks for at most 256 steps (``chunk × 256``, moved to
    the host every 256 steps and folded into the statistics), and for
    the ``direct`` sampler one batch piece of ``runs_per_stream × min(B, max(1, 65536 // d)) × d``
    coordinates (≤ ``runs_per_stream × max(d, 65536)`` elements) plus a temporary of that size.
    The ``gaussian-exact`` sampler draws ``d + 3`` numbers per run and step whatever ``B``; the
    ``direct`` one ``B·(d + 1)``. On the host the statistics take ``O(K)``, ``keep_runs`` adds
    ``runs × K`` and checkpoints ``chunk × 2·len(checkpoints)``. An iterate average adds one
    ``(chunk, d)`` state array and a few temporaries, and doubles the host statistics.

    A problem with per-coordinate multiplicities ``m_i`` (attribute ``multiplicity``) is simulated
    with coordinate ``i`` repeated ``m_i`` times (``Σ m_i`` coordinates per run); multiplicities
    that are not positive integers raise ValueError.

    Examples
    --------
    >>> p = Problem.power_law(20, a=1.5, b=1.0, noise_variance=0.5)
    >>> s = Schedule.from_phases([(0.5, 4, 400), (0.25, 8, 400)])
    >>> cpu = Numerics(backend="numpy")
    >>> mc = simulate(p, s, runs=256, seed=0, numerics=cpu)
    >>> exact = expected_risk(p, s)
    >>> mc.sampler, mc.mean_risk.shape == exact.risk.shape
    ('gaussian-exact', True)
    >>> bool(np.all(np.abs(mc.z_score(exact.risk)[1:]) < 5))
    True

    Tail averaging over the second phase (from step 201):

    >>> from ramplab.theory.dynamics import TailAverage
    >>> mc = simulate(p, s, runs=256, seed=0, numerics=cpu, average=TailAverage(201))
    >>> exact = expected_risk(p, s, average=TailAverage(201))
    >>> bool(np.all(np.abs(mc.z_score(exact.averaged_risk, averaged=True)[1:]) < 5))
    True

    Adam and SignSGD, in the eigenbasis and in randomly rotated coordinates:

    >>> from ramplab.theory import Adam, SignSGD
    >>> adam = simulate(p, s, Adam(betas=(0.9, 0.99)), runs=64, seed=0, numerics=cpu)
    >>> sign = simulate(p, s, SignSGD(rotation="random"), runs=64, seed=0, numerics=cpu)
    >>> bool(adam.mean_risk[-1] < adam.mean_risk[0]), sign.rotation.shape
    (True, (20, 20))
    """
    refuse_removed_keywords(removed, "simulate")
    threshold = finite_real(divergence_threshold, "divergence_threshold")
    if not threshold > 1.0:
        raise ValueError(f"divergence_threshold must be > 1; got {divergence_threshold!r}")
    config = configure_simulation(
        problem, schedule, optimizer, runs=runs, seed=seed, sampler=sampler, data=data,
        checkpoints=checkpoints, keep_runs=keep_runs, on_divergence=on_divergence, progress=progress,
        numerics=numerics, runs_per_stream=runs_per_stream, average=average,
    )
    plan = record_plan(config.schedule, config.checkpoints)
    n_curves = 1 if config.averaging is None else 2
    check_simulation_memory(config, plan.points, n_curves)  # before the exact check, which allocates too
    if isinstance(config.spec, SGD):
        warn_unstable_segments(config.problem, config.rates, config.batches, config.schedule.label)
    expected_at = _expected_divergence(config, threshold)
    if expected_at is not None and config.on_divergence == "raise":
        raise SimulationDivergenceError(expected_at, None, config.schedule.label)
    curves = [CurveStatistics(config.runs, plan.points, config.keep_runs) for _ in range(n_curves)]
    first_bad = np.full(config.runs, np.inf)
    divergence = _MeanRule(config, threshold, n_curves)
    bar = ProgressBar(config.runs * config.horizon, config.progress,
                      label=f"simulate {config.sampler} {config.optimizer}")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for start in range(0, config.runs, config.chunk):
            n = min(config.chunk, config.runs - start)
            first_bad[start : start + n] = _simulate_chunk(config, plan, curves, start, n, bar, divergence)
    bar.close()
    steps_bad = [t for t in (expected_at, divergence.first_step(config.horizon)) if t is not None]
    return _result(config, plan, curves, first_bad, min(steps_bad) if steps_bad else None)


def _expected_divergence(config: SimulationConfig, threshold: float) -> int | None:
    """The exact solver's divergence step for the simulated optimizer, or None (stable, or no exact recursion)."""
    spec = config.spec
    if config.conditional or not isinstance(spec, (SGD, NSGD, HeavyBall)):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnstableScheduleWarning)  # simulate has warned already
        # Without the average: an averaged iterate is a convex combination of iterates, so its expected
        # risk stays below the largest expected risk of the iterates so far and never passes R_max first.
        exact = expected_risk(config.problem, config.schedule, spec, on_divergence="flag",
                              divergence_threshold=threshold, progress=False)
    return exact.diverged_at


class _MeanRule:
    """The divergence rule on the mean over runs: per-step sums of every curve over all runs so far."""

    def __init__(self, config: SimulationConfig, threshold: float, n_curves: int) -> None:
        problem = config.problem
        scale = problem.initial_risk + problem.noise_variance
        with np.errstate(over="ignore"):
            self.bound = float(threshold * scale) if scale > 0 else float(np.finfo(np.float64).max)
        self.runs = config.runs
        self.totals = np.zeros((n_curves, config.horizon + 1))

    def first_step(self, upto: int) -> int | None:
        """First step ``≤ upto`` whose mean (sums so far / all runs) of some curve is not ``≤ bound``."""
        with np.errstate(over="ignore", invalid="ignore"):
            mean = self.totals[:, : upto + 1] / self.runs
        bad = ~np.all(mean <= self.bound, axis=0)
        return int(np.argmax(bad)) if bad.any() else None


def _simulate_chunk(config: SimulationConfig, plan: RecordPlan, curves: list[CurveStatistics], start: int,
                    n: int, bar: ProgressBar, divergence: _MeanRule) -> np.ndarray:
    """Advance runs ``start … start + n − 1`` through every step; fold their curves into ``curves``.

    Returns each run's first non-finite step (``inf`` if none), float64 of shape (n,).
    """
    xp, dt, horizon = config.xp, config.dtype, config.horizon
    simulated = config.simulated
    sqrt_lam = xp.asarray(np.sqrt(simulated.eigenvalues), dtype=dt)
    sigma = math.sqrt(simulated.noise_variance)
    streams = block_streams(config.root, start, n, config.block, xp, dt)
    e0 = np.sqrt(simulated.initial_second_moment)
    e = xp.asarray(np.broadcast_to(e0, (n, e0.shape[0])).copy(), dtype=dt)
    e_bar = e if config.averaging is not None else None  # ē_0 = e_0 (arrays are never modified in place)
    rotation = None if config.rotation is None else xp.asarray(config.rotation, dtype=dt)
    optimizer_step = OptimizerStep(xp, config.optimizer, config.hyperparameters, config.conditional, e, rotation)
    recorder = ChunkRecorder(xp, plan, curves, start, n, dt, divergence.totals)
    initial = xp.full((n,), float(simulated.initial_risk), dtype=dt)  # step 0: exact, no spread

    def risks(a: Any, q: Any) -> tuple[Any, ...]:
        """Excess risk ``½‖a‖²`` of the iterate (``q = ‖a‖²`` given) and of the averaged iterate."""
        if e_bar is None:
            return (0.5 * q,)
        a_bar = sqrt_lam * e_bar
        return 0.5 * q, 0.5 * xp.sum(a_bar * a_bar, axis=1)

    observed = [-1]

    def flush() -> bool:
        """Bring pending risks to the host; return True when every run of the chunk diverged."""
        bad = recorder.bad_steps()
        recorder.flush(bad)
        if config.on_divergence == "raise":
            # The mean over all runs is at least the sum so far over all runs (risks are ≥ 0).
            step = divergence.first_step(observed[0])
            if step is not None:
                run = start + int(np.argmin(bad)) if np.min(bad) == step else None
                raise SimulationDivergenceError(step, run, config.schedule.label)
        return bool(np.isfinite(bad).all())

    stopped_after = None
    # The fused step draws exactly what draw_gradient draws, in the same order (same numbers per run).
    fast = (config.sampler == "gaussian-exact" and config.optimizer in ("sgd", "nsgd") and not config.conditional
            and "decay_per_step" not in config.hyperparameters)
    # ‖Λ^{1/2} e‖² (twice the risk): one function of e in every path (on NumPy with numba the compiled
    # row_norms, which is also what the fused step returns), so momentum 0 is SGD bit for bit.
    compiled_norms = _sampler_kernels.AVAILABLE and backend_name(xp) == "numpy" and isinstance(e, np.ndarray)

    def norm2(err: Any) -> Any:
        if compiled_norms:
            return _sampler_kernels.row_norms(np.ascontiguousarray(err), sqrt_lam)
        a = sqrt_lam * err
        return xp.sum(a * a, axis=1)

    # The fused step writes into two buffers in turn (a fresh (n, d) array every step costs page faults);
    # neither is ever the initial e, which ē_0 may still be.
    buffers = ([np.empty_like(e), np.empty_like(e)], [np.empty((n,), dtype=e.dtype), np.empty((n,), dtype=e.dtype)]) \
        if fast and compiled_norms else None
    q = None
    for block_start in range(0, horizon, _FLUSH_EVERY):
        block = config.step_block(block_start, min(block_start + _FLUSH_EVERY, horizon))
        for i, t in enumerate(range(block.start, block.stop)):
            if q is None:
                q = norm2(e)
            recorder.observe(t, *((initial,) * _n_curves(config) if t == 0 else risks(None, q)))
            observed[0] = t
            out = None if buffers is None else (buffers[0][t % 2], buffers[1][t % 2])
            stepped = fast and fused_sgd_step(xp, streams, e, sqrt_lam, q, int(block.batches[i]), sigma,
                                              float(block.rates[i]), out)
            if stepped:  # SGD / expected NSGD with the gaussian-exact sampler in one compiled pass (NumPy, numba)
                # the kernel's q_out is norm2 of the errors it wrote (same products, same summation order)
                e, q = stepped if compiled_norms else (stepped[0], None)
            else:
                a = sqrt_lam * e
                g = draw_gradient(xp, config.sampler, streams, a, q, sqrt_lam, block.batches[i], sigma, config.data)
                e = optimizer_step(e, g, block.rates[i], None if block.momenta is None else block.momenta[i])
                q = None
            if e_bar is not None:
                e_bar = averaged_update(e_bar, e, block.weights[i])
            bar.update(n)
        if block.stop % _FLUSH_EVERY == 0 and flush():
            stopped_after = block.stop - 1  # every run diverged: the rest of the curve is +inf
            bar.update(n * (horizon - block.stop))
            break
    if stopped_after is None:
        recorder.observe(horizon, *risks(None, norm2(e)))
        observed[0] = horizon
    flush()
    bad = recorder.bad_steps()
    recorder.finish(bad, stopped_after)
    return bad


def _n_curves(config: SimulationConfig) -> int:
    """Curves per run: the iterate's risk, and the averaged iterate's with ``average=``."""
    return 1 if config.averaging is None else 2


def _result(config: SimulationConfig, plan: RecordPlan, curves: list[CurveStatistics],
            first_bad: np.ndarray, diverged_at: int | None) -> SimulationResult:
    """Package the statistics of the curves into a :class:`SimulationResult`."""
    mean, stderr, run_risk = curves[0].result()
    avg_mean = avg_stderr = run_avg = None
    if len(curves) > 1:
        avg_mean, avg_stderr, run_avg = curves[1].result()
    if diverged_at is not None:
        # Every mean is +inf from the divergence step on (docs/math.md#divergence), as in the exact solver.
        depends = plan.steps if plan.interpolation is None else plan.interpolation[3]
        late = np.asarray(depends) >= diverged_at
        for arr in (mean, stderr, avg_mean, avg_stderr):
            if arr is not None:
                arr[late] = np.inf
    diverged = np.isfinite(first_bad)
    root = config.root
    return SimulationResult(
        problem=config.problem,
        schedule=config.schedule,
        optimizer=config.optimizer,
        normalization=config.normalization,
        sampler=config.sampler,
        data=config.data,
        backend=backend_name(config.xp),
        seed=root.entropy if not root.spawn_key else root,
        runs=config.runs,
        runs_per_stream=config.block,
        steps=np.asarray(plan.steps),
        samples=np.asarray(plan.samples),
        mean_risk=mean,
        stderr=stderr,
        run_risk=run_risk,
        effective_lr=None if config.conditional else config.rates,
        diverged_at=diverged_at,
        diverged_runs=int(diverged.sum()),
        average=config.averaging,
        mean_averaged_risk=avg_mean,
        averaged_stderr=avg_stderr,
        run_averaged_risk=run_avg,
        hyperparameters=config.hyperparameters,
        rotation=config.rotation,
        optimizer_spec=config.spec,
    )
