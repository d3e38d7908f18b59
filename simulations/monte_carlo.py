"""Monte Carlo SGD and normalized SGD on noisy linear regression, many runs advancing together.

The simulation works in the eigenbasis of ``H`` on the error ``e = w − w*`` of every run, a
``(runs, d)`` array advanced step by step through the array namespace that
:func:`theory.backend.resolve_backend` returns (NumPy, CuPy, or ``array_api_strict`` in the tests).

Initial error: ``e_0 = sqrt(s(0))`` deterministically, the same for every run. Its second moments
are ``s(0)`` exactly, as in the exact solver. Flipping the sign of an eigen-coordinate of ``e`` and
of the matching input coordinate ``z_i`` leaves the update unchanged, and every data distribution
offered here is symmetric, so the law of the risk does not depend on the signs of ``e_0``: random
signs would change nothing but spend random numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .progress import ProgressBar
from .samplers import DATA_KURTOSIS, SAMPLERS, direct_gradient, gaussian_exact_gradient
from .streams import block_streams, default_block, root_seed_sequence
from ..theory._validate import positive_int
from ..theory.backend import backend_name, resolve_backend, to_numpy
from ..theory.dynamics.problem import Problem
from ..theory.dynamics.recursion import DivergenceError, expected_risk
from ..theory.schedules.schedule import Schedule

__all__ = ["SimulationDivergenceError", "SimulationResult", "simulate"]

OPTIMIZERS = ("sgd", "nsgd")
NORMALIZATIONS = ("expected", "conditional")
# Per-run risks are collected on the device and brought to the host every this many steps, which is
# also when divergence is checked (one device synchronisation per block of steps).
_FLUSH_EVERY = 256
# Default chunk: as many runs as keep one (runs, d) state array at about 2^21 elements (16 MiB).
_CHUNK_ELEMENTS = 2**21


class SimulationDivergenceError(DivergenceError):
    """A Monte Carlo run stopped being finite.

    Attributes
    ----------
    step : int
        First step after which that run's excess risk was not finite.
    run : int
        Index of the run. Divergence is checked every 256 steps and at the end, chunk by chunk; the
        error names the earliest diverging run of the first chunk that has one (``on_divergence=
        "flag"`` gives the global ``diverged_at``).
    schedule_index : int
        Always 0 (one schedule per simulation).
    label : str
        The schedule's label.
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
class SimulationResult:
    """Monte Carlo estimate of the expected excess risk along one schedule (NumPy arrays).

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
        ``normalization`` is ``None`` for SGD.
    runs_per_stream : int
        Block size of the random streams (part of what reproduces the numbers).
    effective_lr : ndarray, shape (T,), or None
        The deterministic rates applied (SGD: the schedule's; NSGD with the expected denominator:
        ``η/sqrt(G_t)`` from :func:`theory.expected_risk`); ``None`` for the conditional NSGD, whose
        rate ``η/‖g_t‖`` differs per run.
    diverged_at : int or None
        First step after which some run's risk was not finite.
    diverged_runs : int
        Number of runs that diverged.
    problem, schedule
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

    @property
    def std(self) -> np.ndarray:
        """Standard deviation of the risk across runs at each recorded point."""
        return self.stderr * math.sqrt(self.runs)

    def z_score(self, reference: Any) -> np.ndarray:
        """``(mean_risk − reference) / stderr`` at each recorded point.

        Examples
        --------
        >>> p = Problem.isotropic(4, noise_variance=0.5)
        >>> s = Schedule.constant(0.1, 4, steps=20)
        >>> mc = simulate(p, s, runs=512, seed=1, backend="numpy")
        >>> exact = expected_risk(p, s)
        >>> bool(np.max(np.abs(mc.z_score(exact.risk))[1:]) < 5)
        True
        """
        ref = np.asarray(reference, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (self.mean_risk - ref) / self.stderr


def _data_for(problem: Problem, data: str | None) -> str:
    if data is None:
        for name, kappa in DATA_KURTOSIS.items():
            if problem.kurtosis == kappa:
                return name
        raise ValueError(
            f"problem.kurtosis={problem.kurtosis!r} matches no data distribution "
            f"({', '.join(f'{k}: {v:g}' for k, v in DATA_KURTOSIS.items())}); pass data= and a problem "
            f"with that kurtosis"
        )
    if data not in DATA_KURTOSIS:
        raise ValueError(f"data must be one of {tuple(DATA_KURTOSIS)}; got {data!r}")
    if problem.kurtosis != DATA_KURTOSIS[data]:
        raise ValueError(
            f"data={data!r} has kurtosis {DATA_KURTOSIS[data]:g} but problem.kurtosis={problem.kurtosis!r}; "
            f"use problem.replace(kurtosis={DATA_KURTOSIS[data]!r}) so that the exact solver and the "
            f"simulation describe the same data"
        )
    return data


def _integer_batches(schedule: Schedule) -> list[int]:
    batch = np.asarray(schedule.batch)
    frac = batch != np.round(batch)
    if frac.any():
        i = int(np.argmax(frac))
        raise ValueError(
            f"batch must be integer-valued for Monte Carlo; schedule has batch {float(batch[i])!r} "
            f"at step {i + 1}"
        )
    return [int(b) for b in np.round(batch)]


def _checkpoint_plan(schedule: Schedule, checkpoints: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where each checkpoint falls: step ``k`` with ``cum[k] ≤ c``, step ``k1`` and weight ``w``."""
    cum = np.concatenate([[0.0], np.asarray(schedule.samples, dtype=np.float64)])
    try:
        c = np.array(checkpoints, dtype=np.float64, copy=True).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"checkpoints must be an array of sample counts; got {checkpoints!r}") from exc
    if c.size == 0:
        raise ValueError("checkpoints must hold at least one sample count; got an empty array")
    total = cum[-1]
    bad = ~np.isfinite(c) | (c < 0) | (c > total)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"checkpoints must lie in [0, {total:g}] samples; got {float(c[i]):g} at index {i}")
    k = np.clip(np.searchsorted(cum, c, side="right") - 1, 0, cum.size - 1)
    k1 = np.minimum(k + 1, cum.size - 1)
    width = cum[k1] - cum[k]
    w = np.where(width > 0, (c - cum[k]) / np.where(width > 0, width, 1.0), 0.0)
    return c, k, k1, w


class _Moments:
    """Mean and centred sum of squares per column, merged over blocks of runs (Chan et al.'s update).

    Each call adds the values of some runs at some columns; every column ends up with all runs.
    """

    def __init__(self, columns: int) -> None:
        self.n = np.zeros(columns)
        self.mean = np.zeros(columns)
        self.m2 = np.zeros(columns)
        self.infinite = np.zeros(columns, dtype=bool)

    def add(self, values: np.ndarray, cols: Any = slice(None)) -> None:
        finite = np.isfinite(values)
        self.infinite[cols] |= ~finite.all(axis=0)
        v = np.where(finite, values, 0.0)
        n_b = v.shape[0]
        # Finite risks near the overflow threshold can still overflow these sums; such a column's
        # mean (of non-negative values) is +inf, and its spread is reported as +inf, never NaN.
        mean_b = v.mean(axis=0)
        m2_b = ((v - mean_b) ** 2).sum(axis=0)
        n_a, mean_a, m2_a = self.n[cols], self.mean[cols], self.m2[cols]
        n = n_a + n_b
        delta = mean_b - mean_a
        first = n_a == 0  # no earlier runs: avoids 0 · inf when the first block overflowed
        mean = np.where(first, mean_b, mean_a + delta * (n_b / n))
        m2 = np.where(first, m2_b, m2_a + m2_b + delta**2 * (n_a * n_b / n))
        self.n[cols] = n
        self.mean[cols] = mean
        self.m2[cols] = np.where(np.isfinite(m2), m2, np.inf)
        self.infinite[cols] |= ~np.isfinite(mean)

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        mean = np.where(self.infinite, np.inf, self.mean)
        n = self.n
        stderr = np.where(n > 1, np.sqrt(self.m2 / np.maximum(n - 1, 1) / np.maximum(n, 1)), np.inf)
        return mean, np.where(self.infinite, np.inf, stderr)


def simulate(
    problem: Problem,
    schedule: Schedule,
    optimizer: str = "sgd",
    *,
    normalization: str = "expected",
    runs: int = 1000,
    seed: Any = 0,
    backend: Any = "auto",
    sampler: str = "auto",
    data: str | None = None,
    checkpoints: Any = None,
    keep_runs: bool = False,
    on_divergence: str = "raise",
    progress: bool | None = None,
    dtype: Any = None,
    chunk_size: int | None = None,
    runs_per_stream: int | None = None,
) -> SimulationResult:
    """Monte Carlo mean excess risk of SGD or NSGD along a schedule, with its standard error.

    Parameters
    ----------
    problem : Problem
    schedule : Schedule
        Batch sizes must be integer-valued.
    optimizer : {"sgd", "nsgd"}
    normalization : {"expected", "conditional"}
        NSGD only. ``"expected"`` divides by ``sqrt(E‖g_t‖²)``: the deterministic rates
        ``η/sqrt(G_t)`` are taken from :func:`theory.expected_risk` (its ``effective_lr``), so the
        simulation estimates exactly what the exact solver computes. ``"conditional"`` divides each
        run's step by the realised ``‖g_t‖`` of its batch; when ``g_t = 0`` the step is zero.
    runs : int
        Independent runs, ≥ 1.
    seed : int, sequence of int, SeedSequence or None
        Root seed (see :mod:`simulations.streams`). Same seed, same backend, same
        ``runs_per_stream``: same numbers; more runs extend the earlier ones.
    backend : {"auto", "numpy", "cupy", "array_api_strict"} or namespace
        Resolved by :func:`theory.backend.resolve_backend`; results come back as NumPy arrays.
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
    dtype : dtype, optional
        Floating dtype of the state (the backend's float64 by default).
    chunk_size : int, optional
        Runs advanced together, rounded up to a multiple of ``runs_per_stream``. Default: enough to
        make the ``(chunk, d)`` state about 2^21 elements (at least one block). It changes memory
        and speed, not the numbers of any run.
    runs_per_stream : int, optional
        Runs per random stream (block size): 64 on host backends, 1024 on CuPy by default.

    Returns
    -------
    SimulationResult

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
    ``runs × K`` and checkpoints ``chunk × 2·len(checkpoints)``.

    Examples
    --------
    >>> p = Problem.power_law(20, a=1.5, b=1.0, noise_variance=0.5)
    >>> s = Schedule.from_phases([(0.5, 4, 400), (0.25, 8, 400)])
    >>> mc = simulate(p, s, runs=256, seed=0, backend="numpy")
    >>> exact = expected_risk(p, s)
    >>> mc.sampler, mc.mean_risk.shape == exact.risk.shape
    ('gaussian-exact', True)
    >>> bool(np.all(np.abs(mc.z_score(exact.risk)[1:]) < 5))
    True
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {type(problem).__name__}")
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a Schedule; got {type(schedule).__name__}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {optimizer!r}")
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}; got {normalization!r}")
    if on_divergence not in ("raise", "flag"):
        raise ValueError(f"on_divergence must be 'raise' or 'flag'; got {on_divergence!r}")
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}; got {sampler!r}")
    if progress not in (None, True, False):
        raise TypeError(f"progress must be True, False or None; got {progress!r}")
    # A coordinate of multiplicity m stands for m coordinates (docs/math.md#multiplicity): simulate them all.
    problem = problem.expanded()
    data = _data_for(problem, data)
    if sampler == "auto":
        sampler = "gaussian-exact" if data == "gaussian" else "direct"
    elif sampler == "gaussian-exact" and data != "gaussian":
        raise ValueError(
            f"sampler='gaussian-exact' draws Gaussian batches only; got data={data!r} (use sampler='direct')"
        )
    runs = positive_int(runs, "runs")
    batches = _integer_batches(schedule)
    root = root_seed_sequence(seed)
    xp = resolve_backend(backend)
    dt = xp.float64 if dtype is None else dtype
    block = default_block(xp) if runs_per_stream is None else positive_int(runs_per_stream, "runs_per_stream")
    d, horizon = problem.dimension, len(schedule)
    if chunk_size is None:
        chunk = max(block, (_CHUNK_ELEMENTS // d) // block * block)
    else:
        chunk = math.ceil(positive_int(chunk_size, "chunk_size") / block) * block
    chunk = min(chunk, math.ceil(runs / block) * block)

    if optimizer == "nsgd" and normalization == "expected":
        rates = np.asarray(expected_risk(problem, schedule, "nsgd").effective_lr, dtype=np.float64)
    else:
        rates = np.asarray(schedule.lr, dtype=np.float64)
    rate_list = [float(r) for r in rates]  # Python floats: NumPy scalars do not mix with every namespace
    conditional = optimizer == "nsgd" and normalization == "conditional"

    # What to record: every step, or the steps on either side of each checkpoint.
    cum = np.concatenate([np.zeros(1, dtype=schedule.samples.dtype), schedule.samples])
    if checkpoints is None:
        record = np.arange(horizon + 1)
        out_steps, out_samples = record.copy(), cum
        plan = None
    else:
        c, k, k1, w = _checkpoint_plan(schedule, checkpoints)
        record = np.unique(np.concatenate([k, k1[w > 0]]))
        out_steps, out_samples = k, c
        plan = (np.searchsorted(record, k), np.searchsorted(record, np.where(w > 0, k1, k)), w, k, k1)
    column = np.full(horizon + 1, -1)
    column[record] = np.arange(record.size)
    n_out = out_steps.size

    sqrt_lam = xp.asarray(np.sqrt(problem.eigenvalues), dtype=dt)
    e0 = np.sqrt(problem.initial_second_moment)
    sigma = math.sqrt(problem.noise_variance)
    moments = _Moments(n_out)
    run_risk = np.empty((runs, n_out)) if keep_runs else None
    first_bad_all = np.full(runs, np.inf)
    bar = ProgressBar(runs * horizon, progress, label=f"simulate {sampler} {optimizer}")

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for start in range(0, runs, chunk):
            n = min(chunk, runs - start)
            streams = block_streams(root, start, n, block, xp, dt)
            e = xp.asarray(np.broadcast_to(e0, (n, d)).copy(), dtype=dt)
            first_bad = xp.full((n,), math.inf, dtype=dt)
            # Checkpoints need both neighbouring steps of a run: keep those (chunk × ≤ 2·checkpoints).
            recorded = np.full((n, record.size), np.inf) if plan is not None else None
            pending: list[Any] = []
            pending_cols: list[int] = []

            def deliver(values: np.ndarray, cols: np.ndarray, bad: np.ndarray) -> None:
                # Every-step mode: masked values go straight into the statistics (memory O(K)).
                values = np.where(record[cols][None, :] >= bad[:, None], np.inf, values)
                moments.add(values, cols)
                if run_risk is not None:
                    run_risk[start : start + n, cols] = values

            def flush() -> bool:
                """Bring pending risks to the host; return True when every run of the chunk diverged."""
                bad = to_numpy(first_bad).astype(np.float64)
                if on_divergence == "raise" and np.isfinite(bad).any():
                    step = int(np.min(bad))
                    raise SimulationDivergenceError(step, start + int(np.argmin(bad)), schedule.label)
                if pending:
                    values = to_numpy(xp.stack(pending, axis=1)).astype(np.float64)
                    cols = np.asarray(pending_cols)
                    if recorded is None:
                        deliver(values, cols, bad)
                    else:
                        recorded[:, cols] = values
                    pending.clear()
                    pending_cols.clear()
                return bool(np.isfinite(bad).all())

            def track(t: int, q: Any) -> None:
                nonlocal first_bad
                risk = 0.5 * q
                fresh = ~xp.isfinite(risk) & (first_bad == math.inf)
                first_bad = xp.where(fresh, float(t), first_bad)
                if column[t] >= 0:
                    pending.append(risk)
                    pending_cols.append(int(column[t]))

            stopped_after = None
            for t in range(horizon):
                a = sqrt_lam * e
                q = xp.sum(a * a, axis=1)
                track(t, q)
                batch = batches[t]
                if sampler == "gaussian-exact":
                    g = gaussian_exact_gradient(xp, streams, a, q, sqrt_lam, batch, sigma)
                else:
                    g = direct_gradient(xp, streams, a, sqrt_lam, batch, sigma, data)
                if conditional:
                    norm = xp.sqrt(xp.sum(g * g, axis=1))
                    scale = xp.where(norm > 0, rate_list[t] / xp.where(norm > 0, norm, 1.0), 0.0)
                    e = e - scale[:, None] * g
                else:
                    e = e - rate_list[t] * g
                bar.update(n)
                if (t + 1) % _FLUSH_EVERY == 0 and flush():
                    stopped_after = t  # every run diverged: the rest of the curve is +inf
                    bar.update(n * (horizon - t - 1))
                    break
            if stopped_after is None:
                a = sqrt_lam * e
                track(horizon, xp.sum(a * a, axis=1))
            flush()

            bad = to_numpy(first_bad).astype(np.float64)
            first_bad_all[start : start + n] = bad
            if recorded is None:
                if stopped_after is not None:
                    cols = column[stopped_after + 1 :]
                    deliver(np.full((n, cols.size), np.inf), cols, bad)
            else:
                col_k, col_k1, w, k, k1 = plan
                values = (1.0 - w) * recorded[:, col_k] + w * recorded[:, col_k1]
                last = np.where(w > 0, k1, k)
                values = np.where(last[None, :] >= bad[:, None], np.inf, values)
                moments.add(values)
                if run_risk is not None:
                    run_risk[start : start + n] = values
    bar.close()

    mean, stderr = moments.result()
    diverged = np.isfinite(first_bad_all)
    return SimulationResult(
        problem=problem,
        schedule=schedule,
        optimizer=optimizer,
        normalization=normalization if optimizer == "nsgd" else None,
        sampler=sampler,
        data=data,
        backend=backend_name(xp),
        seed=root.entropy if not root.spawn_key else root,
        runs=runs,
        runs_per_stream=block,
        steps=np.asarray(out_steps),
        samples=np.asarray(out_samples),
        mean_risk=mean,
        stderr=stderr,
        run_risk=run_risk,
        effective_lr=None if conditional else rates,
        diverged_at=int(np.min(first_bad_all)) if diverged.any() else None,
        diverged_runs=int(diverged.sum()),
    )
