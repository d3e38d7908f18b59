"""Exact expected dynamics of mini-batch SGD and normalized SGD on noisy linear regression.

The state is the diagonal of the error second moment in the eigenbasis, ``s_i = E[(w_t − w*)_i²]``.
For inputs ``x = H^{1/2} z`` with i.i.d. standardised coordinates of fourth moment ``κ`` it obeys the
closed recursion (docs/math.md#sgd-second-moment-recursion)

    s_i ← (1 − ηλ_i)² s_i + (η²/B) [ (κ − 2) λ_i² s_i + λ_i (q + σ²) ],   q = Σ_j λ_j s_j,

which is exact: off-diagonal moments never enter the diagonal. Normalized SGD with the *expected*
denominator is SGD with the deterministic rate ``η / sqrt(G_t)``, where

    G_t = E‖g_t‖² = (1 + (κ − 2)/B) Σ λ_i² s_i + (tr H / B)(q + σ²)        (docs/math.md#normalized-sgd),

so it stays exact too. Several schedules run as one computation over a ``(rows, d)`` state; shorter
schedules are padded with zero learning rate, which leaves their state unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence, overload

import numpy as np

from ..backend import resolve_backend, to_numpy
from .averaging import Averaging, resolve_average
from .problem import Problem
from ..schedules.schedule import Schedule

__all__ = [
    "DivergenceError",
    "RiskTrajectory",
    "expected_risk",
    "gradient_second_moment",
    "second_moment_step",
]

OPTIMIZERS = ("sgd", "nsgd")
# How often (in steps) the loop looks for a non-finite state, so that a diverged run stops early
# without a reduction on every step.
_DIVERGENCE_CHECK_EVERY = 256


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
    """

    def __init__(self, step: int, schedule_index: int, label: str) -> None:
        self.step, self.schedule_index, self.label = step, schedule_index, label
        name = f" {label!r}" if label else ""
        super().__init__(
            f"schedule {schedule_index}{name} diverged: the excess risk is not finite after step {step} "
            f"(pass on_divergence='flag' to get the trajectory up to that step)"
        )


@dataclass(frozen=True, eq=False)
class RiskTrajectory:
    """Exact excess risk along one schedule. Arrays are NumPy, indexed by step ``0 … T``.

    Attributes
    ----------
    schedule : Schedule
    optimizer : str
    steps : ndarray, shape (T+1,)
        ``0 … T``.
    samples : ndarray, shape (T+1,)
        Cumulative samples after each step, 0 first.
    risk : ndarray, shape (T+1,)
        ``E R(w_t)``; ``risk[0]`` is the initial risk. ``+inf`` from ``diverged_at`` on.
    bias, variance : ndarray or None
        The split ``risk = bias + variance`` (``split=True``): the same recursion from ``s(0)``
        with ``σ² = 0`` and from ``s(0) = 0``. For NSGD both use the realised effective rates.
    averaged_risk : ndarray or None
        Excess risk of the iterate average (``average=...``), docs/math.md#iterate-averaging.
    effective_lr : ndarray, shape (T,)
        Rate applied at each step (the schedule's for SGD, ``η/sqrt(G_t)`` for NSGD).
    gradient_second_moment : ndarray, shape (T,)
        ``G_t = E‖g_t‖²`` at the state before step ``t``.
    mean_variance_ratio : ndarray, shape (T,)
        ``Σ λ² s / (G_t − Σ λ² s)``: squared norm of the mean gradient over the total gradient
        variance, before step ``t``. Small values are Seesaw's variance-dominated regime.
    diverged_at : int or None
        First step after which the state was not finite (only with ``on_divergence="flag"``).
        From there on the risk curves hold ``+inf`` and the per-step arrays ``NaN`` (undefined).
    final_second_moment : ndarray, shape (d,)
        ``s(T)`` (the last finite state is not kept for a diverged run). For a compressed run, each
        coordinate holds its group's value (docs/math.md#spectral-compression).
    compression_error : float or None
        With ``compress=rtol``: the largest relative gap between this run and one at half the
        resolution, an estimate of the compression error (docs/math.md#spectral-compression).
    compressed_dimension : int or None
        With ``compress=rtol``: number of groups the spectrum was compressed to.
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
        """Excess risk after the last step."""
        return float(self.risk[-1])

    def at_samples(self, grid: Any, *, averaged: bool = False) -> np.ndarray:
        """Risk at sample counts ``grid``, linear between the steps' sample counts.

        Parameters
        ----------
        grid : array_like
            Sample counts in ``[0, total_samples]``.
        averaged : bool
            Interpolate :attr:`averaged_risk` instead of :attr:`risk`.

        Examples
        --------
        >>> p = Problem.isotropic(2, noise_variance=0.0)
        >>> r = expected_risk(p, Schedule.constant(0.1, 2, steps=4))
        >>> bool(np.isclose(r.at_samples([4])[0], r.risk[2]))
        True
        """
        g = np.asarray(grid, dtype=np.float64)
        total = float(self.samples[-1])
        # Tolerance: cumulative sums of real batch sizes carry rounding of ~1e-12 relative per step.
        if g.size and (np.min(g) < 0 or np.max(g) > total * (1 + 1e-9)):
            raise ValueError(f"grid must lie in [0, {total:g}] samples; got [{np.min(g):g}, {np.max(g):g}]")
        curve = self.averaged_risk if averaged else self.risk
        if curve is None:
            raise ValueError("averaged=True needs a trajectory computed with average=...")
        return np.interp(g, self.samples.astype(np.float64), curve)


def gradient_second_moment(problem: Problem, second_moment: Any, batch: float) -> float:
    """``E‖g‖²`` of a batch-``B`` gradient at error second moments ``s`` (docs/math.md#normalized-sgd, any κ).

    Examples
    --------
    >>> p = Problem([1.0], [0.0], noise_variance=2.0)
    >>> gradient_second_moment(p, [0.0], batch=4)   # pure noise: tr H σ² / B
    0.5
    """
    s = np.asarray(second_moment, dtype=np.float64)
    lam, weight = problem.eigenvalues, problem.multiplicity * problem.eigenvalues
    m, q = float((weight * lam) @ s), float(weight @ s)
    return (1 + (problem.kurtosis - 2) / batch) * m + problem.trace / batch * (q + problem.noise_variance)


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
    arrays of shape ``(rows, 1)`` for one value per row). ``q = Σ λ s`` (shape ``(..., 1)``) may be
    passed when the caller already has it. Pure: returns the new state.

    Examples
    --------
    With ``B = 1``, Gaussian data: ``(1 − 2ηλ + 2η²λ²) s + η²λ(q + σ²)`` = 0.5 + 0.25:

    >>> second_moment_step(np.array([1.0]), np.array([1.0]), 0.5, 1, 0.0).tolist()
    [0.75]
    """
    if q is None:
        if xp is None:
            from ..backend import array_namespace

            xp = array_namespace(s)
        q = xp.sum(s * eigenvalues, axis=-1, keepdims=True)
    x = lr * eigenvalues
    # (1 − x)² + (κ − 2) x²/B written as 1 − x (2 − c x) with c = 1 + (κ − 2)/B: fewer array passes.
    c = 1.0 + (kurtosis - 2.0) / batch
    return (1.0 - x * (2.0 - c * x)) * s + (lr * lr / batch) * (q + noise_variance) * eigenvalues


def _averaging_weights(average: Any, steps: int) -> np.ndarray | None:
    averaging = resolve_average(average)
    if averaging is None:
        return None
    return averaging.weights(np.arange(1, steps + 1))


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
    compress: float | None = None,
) -> RiskTrajectory | tuple[RiskTrajectory, ...]:
    """Exact expected excess risk of SGD or NSGD along one or several schedules.

    Parameters
    ----------
    problem : Problem
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
        A trajectory whose state stops being finite raises :class:`DivergenceError` naming the step,
        or (``"flag"``) sets ``diverged_at`` and ``+inf`` risk from that step on.
    backend : {"numpy", "array_api_strict", "cupy", "auto"} or namespace
        Where the recursion runs; results come back as NumPy arrays.
    dtype : dtype, optional
        Floating dtype of the computation (the backend's float64 by default; float32 gives about
        1e-6 relative accuracy).
    compress : float, optional
        Relative tolerance ``rtol``: solve a spectrally compressed problem instead (groups of nearly
        equal eigenvalues, docs/math.md#spectral-compression) and set ``compression_error``.

    Returns
    -------
    RiskTrajectory or tuple of RiskTrajectory

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
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {type(problem).__name__}")
    if compress is not None:
        from .compression import compressed_expected_risk

        return compressed_expected_risk(problem, schedules, optimizer, rtol=compress, average=average, split=split,
                                        on_divergence=on_divergence, backend=backend, dtype=dtype)
    single = isinstance(schedules, Schedule)
    sched_list = [schedules] if single else list(schedules)
    if not sched_list or not all(isinstance(s, Schedule) for s in sched_list):
        raise TypeError("schedules must be a Schedule or a non-empty sequence of Schedule")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {optimizer!r}")
    if on_divergence not in ("raise", "flag"):
        raise ValueError(f"on_divergence must be 'raise' or 'flag'; got {on_divergence!r}")
    xp = resolve_backend(backend)
    dt = xp.float64 if dtype is None else dtype

    n_sched = len(sched_list)
    horizon = max(len(s) for s in sched_list)
    weights = _averaging_weights(average, horizon)

    # (horizon, S) step-major tables: row t holds every schedule's step t; zero lr pads the short ones.
    lr_tab = np.zeros((horizon, n_sched))
    batch_tab = np.ones((horizon, n_sched))
    for j, sched in enumerate(sched_list):
        lr_tab[: len(sched), j] = sched.lr
        batch_tab[: len(sched), j] = sched.batch

    # Rows of the state: block 0 is the full problem; with split, block 1 is the bias (σ² = 0) and
    # block 2 the variance (s(0) = 0). All blocks share block 0's effective rates.
    blocks = 3 if split else 1
    s0 = np.broadcast_to(problem.initial_second_moment, (n_sched, problem.dimension))
    init_rows = [s0] + ([s0, np.zeros_like(s0)] if split else [])
    noise_rows = [problem.noise_variance] + ([0.0, problem.noise_variance] if split else [])
    s = xp.asarray(np.concatenate(init_rows, axis=0), dtype=dt)
    noise = xp.asarray(np.repeat(noise_rows, n_sched)[:, None], dtype=dt)
    lam = xp.asarray(problem.eigenvalues, dtype=dt)
    # Reductions weight coordinate i by its multiplicity m_i (docs/math.md#multiplicity).
    mlam = xp.asarray(problem.multiplicity * problem.eigenvalues, dtype=dt)
    # One matmul per step gives q = Σmλs (all rows) and Σmλ²s: the previous step's risk and this
    # step's gradient moments. The loop is overhead-bound, so passes over (rows, d) are kept few.
    moments = xp.stack([mlam, mlam * lam], axis=1)
    kappa_excess, trace = problem.kurtosis - 2.0, problem.trace
    lr_rows = xp.asarray(lr_tab, dtype=dt)
    batch_rows = xp.asarray(batch_tab, dtype=dt)
    noise_full = noise[:n_sched, 0]

    if weights is not None:
        avg, cross = s, s  # ē_0 = e_0: a(0) = c(0) = s(0)
    q_hist: list[Any] = []
    avg_hist: list[Any] = [xp.sum(s * mlam, axis=1)] if weights is not None else []
    eff_hist, g_hist, mean_hist = [], [], []
    stopped_at = horizon
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for t in range(horizon):
            eta, batch = lr_rows[t, :], batch_rows[t, :]
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
            if weights is not None:
                cross = (1.0 - eff_col * lam) * cross  # E[ē_{t-1} e_t]
            s = second_moment_step(s, lam, eff_col, batch_col, noise, problem.kurtosis, q=q[:, None])
            if weights is not None:
                rho = float(weights[t])
                avg = (1.0 - rho) ** 2 * avg + rho**2 * s + 2.0 * rho * (1.0 - rho) * cross
                cross = (1.0 - rho) * cross + rho * s
                avg_hist.append(xp.sum(avg * mlam, axis=1))
            q_hist.append(q)
            eff_hist.append(eff)
            g_hist.append(g2)
            mean_hist.append(mean_part)
            if (t + 1) % _DIVERGENCE_CHECK_EVERY == 0 and not bool(xp.all(xp.isfinite(s))):
                if on_divergence == "raise" or bool(xp.all(~xp.isfinite(s))):
                    stopped_at = t + 1
                    break
        q_hist.append(s @ mlam)

        risk_all = 0.5 * to_numpy(xp.stack(q_hist, axis=1))  # (rows, steps+1)
        eff_all = to_numpy(xp.stack(eff_hist, axis=1))
        g_all = to_numpy(xp.stack(g_hist, axis=1))
        mean_all = to_numpy(xp.stack(mean_hist, axis=1))
        avg_all = 0.5 * to_numpy(xp.stack(avg_hist, axis=1)) if weights is not None else None
        s_final = to_numpy(s)
        variance_part = g_all - mean_all
        ratio = np.where(variance_part > 0, mean_all / np.where(variance_part > 0, variance_part, 1.0),
                         np.where(mean_all > 0, np.inf, 0.0))

    results = []
    for j, sched in enumerate(sched_list):
        n = len(sched)
        recorded = min(n, stopped_at)  # steps actually computed for this schedule
        rows = [j + b * n_sched for b in range(blocks)]
        finite = np.all(np.isfinite(risk_all[rows, : recorded + 1]), axis=0)
        if avg_all is not None:
            finite &= np.isfinite(avg_all[j, : recorded + 1])
        diverged_at = None if finite.all() else int(np.argmin(finite))
        if diverged_at is not None and on_divergence == "raise":
            raise DivergenceError(diverged_at, j, sched.label)

        def curve(table: np.ndarray | None, row: int, length: int, fill: float) -> np.ndarray | None:
            # Pads a run stopped early and masks everything from the divergence step on.
            if table is None:
                return None
            out = np.full(length, fill)
            out[: min(length, table.shape[1])] = table[row, :length]
            if diverged_at is not None:
                out[diverged_at:] = fill
            return out

        results.append(
            RiskTrajectory(
                schedule=sched,
                optimizer=optimizer,
                steps=np.arange(n + 1),
                samples=np.concatenate([np.zeros(1, dtype=sched.samples.dtype), sched.samples]),
                risk=curve(risk_all, j, n + 1, np.inf),
                effective_lr=curve(eff_all, j, n, np.nan),
                gradient_second_moment=curve(g_all, j, n, np.nan),
                mean_variance_ratio=curve(ratio, j, n, np.nan),
                final_second_moment=np.array(s_final[j], dtype=np.float64),
                bias=curve(risk_all, j + n_sched, n + 1, np.inf) if split else None,
                variance=curve(risk_all, j + 2 * n_sched, n + 1, np.inf) if split else None,
                averaged_risk=curve(avg_all, j, n + 1, np.inf),
                diverged_at=diverged_at,
            )
        )
    return results[0] if single else tuple(results)
