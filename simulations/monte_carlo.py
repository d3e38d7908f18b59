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
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .configuration import NORMALIZATIONS, OPTIMIZERS, SimulationConfig, refuse_removed_keywords, configure_simulation
from .progress import ProgressBar
from .recording import ChunkRecorder, CurveStatistics, RecordPlan, record_plan
from .streams import block_streams
from .updates import OptimizerStep, averaged_update, draw_gradient
from ..theory._frozen import FrozenRecord
from ..theory._memory import check_simulation_memory
from ..theory._numerics import Numerics
from ..theory._optimizers import OptimizerSpec
from ..theory import backend_name
from ..theory.dynamics import Averaging, DivergenceError, Problem, expected_risk
from ..theory.schedules import Schedule

__all__ = ["NORMALIZATIONS", "OPTIMIZERS", "SimulationDivergenceError", "SimulationResult", "simulate"]

# Per-run risks are collected on the device and brought to the host every this many steps, which is
# also when divergence is checked (one device synchronisation per block of steps) and how many
# averaging weights are read at a time.
_FLUSH_EVERY = 256


class SimulationDivergenceError(DivergenceError):
    """A Monte Carlo run stopped being finite.

    Attributes
    ----------
    step : int
        First step after which that run's excess risk (or, with ``average=``, the excess risk of
        its averaged iterate) was not finite.
    run : int
        Index of the run. Divergence is checked every 256 steps and at the end, chunk by chunk; the
        error names the earliest diverging run of the first chunk that has one (``on_divergence=
        "flag"`` gives the global ``diverged_at``).
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
    """

    def __init__(self, step: int, run: int, label: str) -> None:
        self.step, self.run, self.schedule_index, self.label = step, run, 0, label
        name = f" of schedule {label!r}" if label else ""
        ArithmeticError.__init__(
            self,
            f"Monte Carlo run {run}{name} diverged: its excess risk is not finite after step {step} "
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
        Mean over runs of the excess risk ``½ Σ λ_i e_i²`` at each recorded point; ``+inf`` from the
        first point where some run had diverged (``on_divergence="flag"``).
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
        empty for SGD and NSGD.
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
        First step after which some run's risk (or averaged risk) was not finite.
    diverged_runs : int
        Number of runs that diverged.
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
            Standard errors between the Monte Carlo mean and ``reference`` (``nan`` or ``±inf``
            where ``stderr`` is 0 or ``inf``); docs/math.md#monte-carlo.

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
        >>> bool(np.max(np.abs(mc.z_score(exact.risk))[1:]) < 5)
        True
        >>> bool(np.max(np.abs(mc.z_score(exact.averaged_risk, averaged=True))[1:]) < 5)
        True
        """
        if averaged:
            if self.mean_averaged_risk is None:
                raise ValueError("averaged=True needs a simulation run with average=...")
            mean, stderr = self.mean_averaged_risk, self.averaged_stderr
        else:
            mean, stderr = self.mean_risk, self.stderr
        ref = np.asarray(reference, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (mean - ref) / stderr


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
        A run whose risk stops being finite raises :class:`SimulationDivergenceError` (naming the
        step and the run), or (``"flag"``) is counted in ``diverged_runs`` and makes the mean
        ``+inf`` from ``diverged_at`` on. Never a silent NaN.
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
        When a run stops being finite and ``on_divergence="raise"``.

    Notes
    -----
    Every run starts from ``e_0 = sqrt(s(0))`` (module docstring: by symmetry of the data the signs
    do not matter), so ``risk[0]`` is exact and has zero spread.

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
    config = configure_simulation(
        problem, schedule, optimizer, runs=runs, seed=seed, sampler=sampler, data=data,
        checkpoints=checkpoints, keep_runs=keep_runs, on_divergence=on_divergence, progress=progress,
        numerics=numerics, runs_per_stream=runs_per_stream, average=average,
    )
    plan = record_plan(config.schedule, config.checkpoints)
    n_curves = 1 if config.averaging is None else 2
    check_simulation_memory(config, plan.points, n_curves)
    curves = [CurveStatistics(config.runs, plan.points, config.keep_runs) for _ in range(n_curves)]
    first_bad = np.full(config.runs, np.inf)
    bar = ProgressBar(config.runs * config.horizon, config.progress,
                      label=f"simulate {config.sampler} {config.optimizer}")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for start in range(0, config.runs, config.chunk):
            n = min(config.chunk, config.runs - start)
            first_bad[start : start + n] = _simulate_chunk(config, plan, curves, start, n, bar)
    bar.close()
    return _result(config, plan, curves, first_bad)


def _simulate_chunk(config: SimulationConfig, plan: RecordPlan, curves: list[CurveStatistics], start: int,
                    n: int, bar: ProgressBar) -> np.ndarray:
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
    recorder = ChunkRecorder(xp, plan, curves, start, n, dt)

    def risks(a: Any, q: Any) -> tuple[Any, ...]:
        """Excess risk ``½‖a‖²`` of the iterate (``q = ‖a‖²`` given) and of the averaged iterate."""
        if e_bar is None:
            return (0.5 * q,)
        a_bar = sqrt_lam * e_bar
        return 0.5 * q, 0.5 * xp.sum(a_bar * a_bar, axis=1)

    def flush() -> bool:
        """Bring pending risks to the host; return True when every run of the chunk diverged."""
        bad = recorder.bad_steps()
        if config.on_divergence == "raise" and np.isfinite(bad).any():
            step = int(np.min(bad))
            raise SimulationDivergenceError(step, start + int(np.argmin(bad)), config.schedule.label)
        recorder.flush(bad)
        return bool(np.isfinite(bad).all())

    stopped_after = None
    for block_start in range(0, horizon, _FLUSH_EVERY):
        block = config.step_block(block_start, min(block_start + _FLUSH_EVERY, horizon))
        for i, t in enumerate(range(block.start, block.stop)):
            a = sqrt_lam * e
            q = xp.sum(a * a, axis=1)
            recorder.observe(t, *risks(a, q))
            g = draw_gradient(xp, config.sampler, streams, a, q, sqrt_lam, block.batches[i], sigma, config.data)
            e = optimizer_step(e, g, block.rates[i], None if block.momenta is None else block.momenta[i])
            if e_bar is not None:
                e_bar = averaged_update(e_bar, e, block.weights[i])
            bar.update(n)
        if block.stop % _FLUSH_EVERY == 0 and flush():
            stopped_after = block.stop - 1  # every run diverged: the rest of the curve is +inf
            bar.update(n * (horizon - block.stop))
            break
    if stopped_after is None:
        a = sqrt_lam * e
        recorder.observe(horizon, *risks(a, xp.sum(a * a, axis=1)))
    flush()
    bad = recorder.bad_steps()
    recorder.finish(bad, stopped_after)
    return bad


def _result(config: SimulationConfig, plan: RecordPlan, curves: list[CurveStatistics],
            first_bad: np.ndarray) -> SimulationResult:
    """Package the statistics of the curves into a :class:`SimulationResult`."""
    mean, stderr, run_risk = curves[0].result()
    avg_mean = avg_stderr = run_avg = None
    if len(curves) > 1:
        avg_mean, avg_stderr, run_avg = curves[1].result()
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
        diverged_at=int(np.min(first_bad)) if diverged.any() else None,
        diverged_runs=int(diverged.sum()),
        average=config.averaging,
        mean_averaged_risk=avg_mean,
        averaged_stderr=avg_stderr,
        run_averaged_risk=run_avg,
        hyperparameters=config.hyperparameters,
        rotation=config.rotation,
        optimizer_spec=config.spec,
    )
