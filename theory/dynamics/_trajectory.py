"""What the exact solver returns: :class:`RiskTrajectory`, :class:`DivergenceError`, and the packaging
of the loop's records (docs/math.md#exact-solver-layout, docs/math.md#divergence)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .._validate import flag, nonnegative_int, real_array
from ..schedules._schedule import Schedule
from ._loop import Recorder, Run, Setting
from ._state import SolverState, solver_made

__all__ = ["DivergenceError", "RiskTrajectory"]


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

    Notes
    -----
    Pickles and copies with its message and attributes (subclasses included), so a divergence in a
    process-pool worker is re-raised in the parent as itself.

    Examples
    --------
    SGD at ``η = 5`` on ``λ = 1`` is far past the stability edge (docs/math.md#divergence):

    >>> from ramplab.theory import Problem, Schedule, expected_risk
    >>> try:
    ...     expected_risk(Problem.isotropic(2), Schedule.constant(5.0, 1, steps=100))
    ... except DivergenceError as error:
    ...     print(error.step, error.schedule_index)
    7 0
    """

    def __init__(self, step: int, schedule_index: int, label: str) -> None:
        self.step, self.schedule_index, self.label = step, schedule_index, label
        name = f" {label!r}" if label else ""
        super().__init__(
            f"schedule {schedule_index}{name} diverged at step {step}: its excess risk is not finite or exceeds "
            f"divergence_threshold × (R(0) + σ²) (docs/math.md#divergence) "
            f"(pass on_divergence='flag' to get the trajectory up to that step)"
        )

    def __reduce__(self) -> tuple:
        # Not through __init__ (subclasses take other arguments): the message and every attribute
        # come back as they were, so an error raised in a worker process reaches the parent intact.
        return (_rebuild_error, (type(self), self.args, dict(vars(self))))


def _rebuild_error(cls: type, args: tuple, attributes: dict) -> BaseException:
    """The exception that :meth:`DivergenceError.__reduce__` packed (pickle, copy, deepcopy)."""
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(attributes)
    return error


@dataclass(frozen=True, eq=False)
class RiskTrajectory:
    """Exact excess risk along one schedule. Arrays are NumPy.

    A trajectory compares and hashes by identity on purpose (compare its arrays); it pickles and copies
    to an object with the same fields.

    By default every curve is indexed by step ``0 … T``. With ``checkpoints=`` every curve,
    including the per-step diagnostics, holds only the checkpoint steps ``steps``
    (docs/math.md#exact-solver-layout).

    Attributes
    ----------
    schedule : Schedule
    optimizer : str
    steps : ndarray, shape (T+1,) or (K,)
        ``0 … T``, or the checkpoint steps that do not exceed ``T``.
    samples : ndarray, same shape as ``steps``
        Cumulative samples after each of ``steps`` (0 at step 0).
    risk : ndarray, shape (T+1,) or (K,)
        ``E R(w_t)``; ``risk[0]`` is the initial risk. ``+inf`` from ``diverged_at`` on.
    bias, variance : ndarray or None
        The split ``risk = bias + variance`` (``split=True``): the same recursion from ``s(0)``
        with ``σ² = 0`` and from ``s(0) = 0``. For NSGD both use the realised effective rates.
    averaged_risk : ndarray or None
        Excess risk of the iterate average (``average=...``), docs/math.md#iterate-averaging.
    effective_lr : ndarray, shape (T,) or (K,)
        Rate applied at each step (the schedule's for SGD, ``η/sqrt(G_t)`` for NSGD). Full curves
        have one entry per step ``1 … T``; at checkpoints, the entry for checkpoint ``t`` is step
        ``t``'s value (NaN at ``t = 0``, where no step was taken).
    gradient_second_moment : ndarray, shape (T,) or (K,)
        ``G_t = E‖g_t‖²`` at the state before step ``t`` (same indexing as ``effective_lr``).
    mean_variance_ratio : ndarray, shape (T,) or (K,)
        ``Σ λ² s / (G_t − Σ λ² s)``: squared norm of the mean gradient over the total gradient
        variance, before step ``t``. Small values are Seesaw's variance-dominated regime.
    diverged_at : int or None
        First step after which the state was not finite (only with ``on_divergence="flag"``).
        From there on the risk curves hold ``+inf`` and the per-step arrays ``NaN`` (undefined).
    final_second_moment : ndarray, shape (d,)
        ``s(T)`` (a diverged run keeps the non-finite state where it stopped).
    compression_error : float or None
        With ``compress=rtol``: the largest relative gap between this run and one at half the
        resolution, an estimate of the compression error (docs/math.md#spectral-compression).
    compressed_dimension : int or None
        With ``compress=rtol``: number of groups the spectrum was compressed to.
    reduction_error : float or None
        On a quadrature-reduced run (``reduce=``): the largest relative gap over every curve and step
        between this run and one with fewer Gauss nodes, an estimate (an upper bound in practice) of
        its error against the full problem (docs/math.md#quadrature-reduction). ``None``: not reduced.
    reduced_dimension : int or None
        On a quadrature-reduced run: stored coordinates of the reduced problem (kept coordinates plus
        Gauss nodes).
    states : dict of int to SolverState
        The solver states kept (read them with :meth:`state_at`): the last step always, and every
        checkpoint with ``expected_risk(..., keep_states=True)``.

    Examples
    --------
    >>> from ramplab.theory import Problem, Schedule, expected_risk
    >>> r = expected_risk(Problem.isotropic(2), Schedule.constant(0.1, 2, steps=4))
    >>> r.steps.tolist(), r.samples.tolist(), r.risk.round(4).tolist()
    ([0, 1, 2, 3, 4], [0, 2, 4, 6, 8], [1.0, 0.825, 0.6806, 0.5615, 0.4633])
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
    reduction_error: float | None = None
    reduced_dimension: int | None = None
    states: dict = field(default_factory=dict, repr=False)

    def state_at(self, step: int) -> SolverState:
        """The exact solver state after ``step`` steps, to continue or branch the run from.

        ``expected_risk(problem, rest, initial_state=trajectory.state_at(t))`` continues with the
        schedule ``rest`` (its step 0 is step ``t`` of this trajectory) and equals the uninterrupted
        run bit for bit (docs/math.md#solver-state).

        Parameters
        ----------
        step : int
            A step whose state was kept: the last step of the run (always), or a checkpoint when
            ``expected_risk`` ran with ``checkpoints=`` and ``keep_states=True``.

        Returns
        -------
        SolverState

        Raises
        ------
        ValueError
            If the state of ``step`` was not kept (the message lists the steps that were), or the
            run diverged before ``step``.

        Examples
        --------
        >>> from ramplab.theory import Problem, Schedule, expected_risk
        >>> p, full = Problem.isotropic(3), Schedule.constant(0.1, 2, steps=10)
        >>> head = expected_risk(p, Schedule.constant(0.1, 2, steps=4))
        >>> tail = expected_risk(p, Schedule.constant(0.1, 2, steps=6), initial_state=head.state_at(4))
        >>> bool((tail.risk == expected_risk(p, full).risk[4:]).all()), tail.steps[0], tail.samples[-1]
        (True, np.int64(4), np.int64(20))
        """
        t = nonnegative_int(step, "step")
        if self.reduced_dimension is not None and not self.states:
            raise ValueError("this run was quadrature-reduced (docs/math.md#quadrature-reduction): its state holds "
                             "Gauss nodes, not the problem's coordinates, and is not kept; pass reduce=False to "
                             "expected_risk to get states")
        if t not in self.states and self.diverged_at is not None and t >= self.diverged_at:
            raise ValueError(f"the run diverged at step {self.diverged_at} (docs/math.md#divergence): there is no "
                             f"state after it; got step={t}")
        if t not in self.states:
            kept = sorted(self.states)
            raise ValueError(f"the state of step {t} was not kept; kept: {kept[:10]}{' …' if len(kept) > 10 else ''} "
                             f"(pass checkpoints=[..., {t}, ...] and keep_states=True to expected_risk)")
        return self.states[t]

    @property
    def final_risk(self) -> float:
        """Excess risk at the last recorded step (the last step, or the last checkpoint)."""
        return float(self.risk[-1])

    def at_samples(self, grid: Any, *, averaged: bool = False) -> np.ndarray:
        """Risk at sample counts ``grid``, linear between the recorded steps' sample counts.

        Parameters
        ----------
        grid : array_like
            Sample counts in ``[0, samples[-1]]``.
        averaged : bool
            Interpolate :attr:`averaged_risk` instead of :attr:`risk`.

        Returns
        -------
        ndarray, shape like ``grid``
            Expected excess risk at each sample count (piecewise linear in samples).

        Raises
        ------
        ValueError
            If ``grid`` is not finite or leaves ``[0, samples[-1]]``, or ``averaged=True`` on a
            trajectory computed without averaging.

        Examples
        --------
        >>> from ramplab.theory import Problem, Schedule, expected_risk
        >>> p = Problem.isotropic(2, noise_variance=0.0)
        >>> r = expected_risk(p, Schedule.constant(0.1, 2, steps=4))
        >>> bool(np.isclose(r.at_samples([4])[0], r.risk[2]))
        True
        """
        g = real_array(grid, "grid")
        if not np.all(np.isfinite(g)):
            raise ValueError(f"grid must be finite sample counts; got {grid!r}")
        total = float(self.samples[-1])
        # Tolerance: cumulative sums of real batch sizes carry rounding of ~1e-12 relative per step.
        if g.size and (np.min(g) < 0 or np.max(g) > total * (1 + 1e-9)):
            raise ValueError(f"grid must lie in [0, {total:g}] samples; got [{np.min(g):g}, {np.max(g):g}]")
        curve = self.averaged_risk if flag(averaged, "averaged") else self.risk
        if curve is None:
            raise ValueError("averaged=True needs a trajectory computed with average=...")
        return np.interp(g, self.samples.astype(np.float64), curve)


def mean_variance_ratio(g2: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """``Σ m λ² s / (G − Σ m λ² s)``, with 0/0 → 0 and x/0 → inf."""
    with np.errstate(invalid="ignore", divide="ignore"):
        variance_part = g2 - mean
        return np.where(variance_part > 0, mean / np.where(variance_part > 0, variance_part, 1.0),
                        np.where(mean > 0, np.inf, np.where(np.isnan(mean), np.nan, 0.0)))


def schedule_state(setting: Setting, arrays: dict[str, np.ndarray], j: int, step: int, samples: Any) -> SolverState:
    """Schedule ``j``'s :class:`SolverState` out of the loop's stacked state arrays."""
    S, B = setting.n_sched, setting.blocks
    fields_ = {}
    for name, per_row in setting.state_names():
        fields_[name] = arrays[name][[j + b * S for b in range(B)]] if per_row else arrays[name][j]
    with solver_made():
        return SolverState(step=int(step), samples=samples.item() if hasattr(samples, "item") else samples, **fields_)


def package(run: Run, setting: Setting, sched_list: Sequence[Schedule], optimizer: str, recorder: Recorder,
            raise_on_divergence: bool, start: Sequence[SolverState] | None = None) -> list[RiskTrajectory]:
    """One :class:`RiskTrajectory` per schedule from the loop's records (steps made absolute)."""
    n_sched, offset = len(sched_list), run.offset
    split = setting.split
    results = []
    for j, sched in enumerate(sched_list):
        n = len(sched)
        if recorder.checkpoints is None:
            rel = np.arange(n + 1)
            cols = rel
        else:
            rel = recorder.checkpoints[recorder.checkpoints <= n]
            cols = np.arange(rel.size)
        steps = rel + offset
        limit = min(n + offset, run.stopped_at)  # steps actually computed for this schedule
        first_bad = run.books.first_bad[j]
        diverged_at = int(first_bad) if first_bad <= limit else None
        if diverged_at is not None and raise_on_divergence:
            raise DivergenceError(diverged_at, j, sched.label)
        # Risks: +inf from the divergence step on; per-step values: NaN after it (the step that
        # diverged was taken from a finite state). Steps past a stopped loop are undefined too.
        risk_bad = steps > limit
        step_bad = (steps > limit) | (rel == 0)
        if diverged_at is not None:
            risk_bad |= steps >= diverged_at
            step_bad |= steps > diverged_at

        def risk_curve(table: np.ndarray | None, row: int) -> np.ndarray | None:
            if table is None:
                return None
            return np.where(risk_bad, np.inf, 0.5 * table[row, cols])

        def step_curve(table: np.ndarray) -> np.ndarray:
            out = np.where(step_bad, np.nan, table[j, cols])
            return out[1:] if recorder.checkpoints is None else out

        g2, mean = step_curve(run.out.g2), step_curve(run.out.mean)
        base = 0 if start is None else start[j].samples
        samples = sched.samples_at(rel)
        if base:
            samples = samples + base
        states = {}
        if diverged_at is None and run.stopped_at >= n + offset:
            states[n + offset] = schedule_state(setting, run.final, j, n + offset, samples[-1] if rel[-1] == n
                                                else base + sched.total_samples)
        for t, arrays in run.kept.items():
            if t <= n + offset and (diverged_at is None or t < diverged_at):
                states[t] = schedule_state(setting, arrays, j, t, base + sched.samples_at([t - offset])[0])
        results.append(
            RiskTrajectory(
                schedule=sched,
                optimizer=optimizer,
                steps=steps,
                samples=samples,
                risk=risk_curve(run.out.q, j),
                effective_lr=step_curve(run.out.eff),
                gradient_second_moment=g2,
                mean_variance_ratio=mean_variance_ratio(g2, mean),
                final_second_moment=np.array(run.final["second_moment"][j], dtype=np.float64),
                bias=risk_curve(run.out.q, j + n_sched) if split else None,
                variance=risk_curve(run.out.q, j + 2 * n_sched) if split else None,
                averaged_risk=risk_curve(run.out.avg, j),
                diverged_at=diverged_at,
                states=states,
            )
        )
    return results
