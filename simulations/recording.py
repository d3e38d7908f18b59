"""Statistics of Monte Carlo curves: which steps to record, interpolation at checkpoints, mean and SE.

(docs/math.md#monte-carlo, *Statistics*.) A simulation reports one or two curves per run — the
excess risk of the iterate and, with an iterate average, that of the averaged iterate — either at
every step ``0 … T`` or at sample checkpoints, where each run's curve is interpolated linearly
between the steps on either side before averaging over runs.

- :func:`record_plan` decides which steps are kept and how checkpoints are interpolated
  (:class:`RecordPlan`).
- :class:`RunningMoments` merges the mean and the centred sum of squares over blocks of runs.
- :class:`CurveStatistics` holds one curve's statistics over all runs (and the per-run values
  with ``keep_runs``).
- :class:`ChunkRecorder` follows one chunk of runs on the device: it notes the first step at which
  each run stopped being finite, keeps the recorded steps and moves them to the host in blocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Sequence

import numpy as np

from ..theory._validate import strict_real_array
from ..theory import to_numpy
from ..theory.schedules import Schedule

__all__ = ["ChunkRecorder", "CurveStatistics", "RecordPlan", "RunningMoments", "record_plan"]


@dataclass(frozen=True)
class RecordPlan:
    """Which steps a simulation keeps per run, and how they become the reported points.

    Attributes
    ----------
    record : ndarray of int, shape (R,)
        Sorted steps whose per-run values are kept.
    column : ndarray of int, shape (T + 1,)
        Index of each step in ``record``, ``-1`` for steps not kept.
    steps, samples : ndarray, shape (K,)
        The reported points: every step and its cumulative samples, or for checkpoints the step
        completed at each checkpoint and the checkpoint itself.
    interpolation : tuple or None
        ``None`` when every step is reported (then ``record = 0 … T``). Otherwise
        ``(col_k, col_k1, weight, last)``: checkpoint ``j`` is ``(1 − w_j)·kept[col_k[j]] +
        w_j·kept[col_k1[j]]``, and ``last[j]`` is the latest step it depends on.

    Examples
    --------
    >>> plan = record_plan(Schedule.constant(0.1, 4, steps=5))   # every step reported
    >>> plan.points, plan.interpolation is None
    (6, True)
    """

    record: np.ndarray
    column: np.ndarray
    steps: np.ndarray
    samples: np.ndarray
    interpolation: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None

    @property
    def points(self) -> int:
        """Number ``K`` of reported points."""
        return int(self.steps.size)

    def at_checkpoints(self, kept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Interpolate kept per-run values ``(n, R)`` to the checkpoints: ``(n, K)`` and ``last``.

        Parameters
        ----------
        kept : numpy.ndarray
            Shape ``(n, R)``: the runs' values at the steps of :attr:`record`.

        Returns
        -------
        values, last : tuple of numpy.ndarray
            Shape ``(n, K)`` and ``(K,)``: the values at the checkpoints, and the latest step each
            checkpoint depends on.
        """
        col_k, col_k1, w, last = self.interpolation
        return (1.0 - w) * kept[:, col_k] + w * kept[:, col_k1], last


def _checkpoint_positions(schedule: Schedule, checkpoints: Any) -> tuple[np.ndarray, ...]:
    """Where each checkpoint falls: step ``k`` with ``cum[k] ≤ c``, step ``k1`` and weight ``w``."""
    cum = np.concatenate([[0.0], np.asarray(schedule.samples, dtype=np.float64)])
    try:
        c = strict_real_array(checkpoints, "checkpoints").reshape(-1)
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


def record_plan(schedule: Schedule, checkpoints: Any = None) -> RecordPlan:
    """The steps to keep for reporting at every step (``checkpoints=None``) or at sample checkpoints.

    Parameters
    ----------
    schedule : Schedule
        The simulated schedule.
    checkpoints : array_like or None
        Sample counts in ``[0, total_samples]``.

    Returns
    -------
    RecordPlan
        The steps to keep and how they map to the reported points.
    checkpoints : array_like or None
        Sample counts in ``[0, total_samples]``.

    Raises
    ------
    TypeError, ValueError
        For checkpoints that are not numbers, none at all, or outside ``[0, total_samples]``.

    Examples
    --------
    >>> plan = record_plan(Schedule.constant(0.1, 4, steps=5), [0, 6, 20])
    >>> plan.record.tolist(), plan.steps.tolist()
    ([0, 1, 2, 5], [0, 1, 5])
    """
    horizon = len(schedule)
    cum = np.concatenate([np.zeros(1, dtype=schedule.samples.dtype), schedule.samples])
    if checkpoints is None:
        record = np.arange(horizon + 1)
        steps, samples, interpolation = record.copy(), cum, None
    else:
        c, k, k1, w = _checkpoint_positions(schedule, checkpoints)
        record = np.unique(np.concatenate([k, k1[w > 0]]))
        last = np.where(w > 0, k1, k)
        interpolation = (np.searchsorted(record, k), np.searchsorted(record, last), w, last)
        steps, samples = k, c
    column = np.full(horizon + 1, -1)
    column[record] = np.arange(record.size)
    return RecordPlan(record=record, column=column, steps=np.asarray(steps), samples=np.asarray(samples),
                      interpolation=interpolation)


class RunningMoments:
    """Mean and centred sum of squares per column, merged over blocks of runs (Chan et al.'s update).

    Each call adds the values of some runs at some columns; every column ends up with all runs.
    Non-finite values make their column's mean and spread ``+inf`` (never NaN).

    Parameters
    ----------
    columns : int
        Number of columns (reported points).

    Examples
    --------
    >>> m = RunningMoments(1)
    >>> m.add(np.array([[1.0], [2.0]])); m.add(np.array([[3.0], [6.0]]))
    >>> mean, stderr = m.result()
    >>> float(mean[0]), round(float(stderr[0]), 6)
    (3.0, 1.080123)
    """

    def __init__(self, columns: int) -> None:
        self.n = np.zeros(columns)
        self.mean = np.zeros(columns)
        self.m2 = np.zeros(columns)
        self.infinite = np.zeros(columns, dtype=bool)

    def add(self, values: np.ndarray, cols: Any = slice(None)) -> None:
        """Fold in ``values`` of shape ``(runs, columns)`` at the columns ``cols``.

        Parameters
        ----------
        values : numpy.ndarray
            Shape ``(runs, len(cols))``.
        cols : slice or array of int, default all
            The columns the values belong to.
        """
        finite = np.isfinite(values)
        self.infinite[cols] |= ~finite.all(axis=0)
        v = np.where(finite, values, 0.0)
        n_b = v.shape[0]
        # Finite risks near the overflow threshold can still overflow these sums; such a column's
        # mean (of non-negative values) is +inf, and its spread is reported as +inf, never NaN.
        mean_b = v.mean(axis=0)
        m2_b = ((v - mean_b) ** 2).sum(axis=0)
        if n_b:
            # A column whose values are all equal (step 0: every run starts at e_0) has that value as
            # its mean and no spread, exactly (a float sum of equal values / n is not always the value).
            same = np.all(v == v[:1], axis=0)
            mean_b = np.where(same, v[0], mean_b)
            m2_b = np.where(same, 0.0, m2_b)
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
        """``(mean, stderr)`` per column; ``stderr`` is ``+inf`` for fewer than two runs.

        Returns
        -------
        mean, stderr : tuple of numpy.ndarray
            float64, shape ``(columns,)`` each.
        """
        mean = np.where(self.infinite, np.inf, self.mean)
        n = self.n
        stderr = np.where(n > 1, np.sqrt(self.m2 / np.maximum(n - 1, 1) / np.maximum(n, 1)), np.inf)
        return mean, np.where(self.infinite, np.inf, stderr)


class CurveStatistics:
    """One reported curve over all runs: running moments, and the per-run values if kept.

    Parameters
    ----------
    runs : int
        Number of runs.
    points : int
        Number of reported points.
    keep_runs : bool
        Keep every run's values (``keep_runs=True`` of :func:`~ramplab.simulations.simulate`).

    Examples
    --------
    >>> curve = CurveStatistics(runs=2, points=1, keep_runs=True)
    >>> curve.add(np.array([[1.0], [3.0]]), first_run=0)
    >>> mean, stderr, per_run = curve.result()
    >>> float(mean[0]), float(stderr[0]), per_run.tolist()
    (2.0, 1.0, [[1.0], [3.0]])
    """

    def __init__(self, runs: int, points: int, keep_runs: bool) -> None:
        self.moments = RunningMoments(points)
        self.run_values = np.empty((runs, points)) if keep_runs else None

    def add(self, values: np.ndarray, first_run: int, cols: Any = slice(None)) -> None:
        """Fold in the values ``(n, len(cols))`` of runs ``first_run … first_run + n − 1``.

        Parameters
        ----------
        values : numpy.ndarray
            Shape ``(n, len(cols))``.
        first_run : int
            Index of the first of the ``n`` runs.
        cols : slice or array of int, default all
            The columns the values belong to.
        """
        self.moments.add(values, cols)
        if self.run_values is not None:
            self.run_values[first_run : first_run + values.shape[0], cols] = values

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(mean, stderr, run_values)``.

        Returns
        -------
        mean, stderr : numpy.ndarray
            Shape ``(points,)``.
        run_values : numpy.ndarray or None
            Shape ``(runs, points)`` when kept.
        """
        mean, stderr = self.moments.result()
        return mean, stderr, self.run_values


class ChunkRecorder:
    """Per-run curves of one chunk of runs, from the device to the statistics.

    :meth:`observe` is called at every step ``t = 0 … T`` (until the chunk stops) with one device
    array of shape ``(n,)`` per curve. It updates ``first_bad`` (the first step at which any of a
    run's curves was not finite) and keeps the recorded steps; :meth:`flush` moves them to the
    host. Values at and after a run's ``first_bad`` are reported as ``+inf``.

    Parameters
    ----------
    xp : namespace
    plan : RecordPlan
    curves : sequence of CurveStatistics
        One per curve passed to :meth:`observe`, in that order.
    first_run, n : int
        The chunk's runs.
    dtype
        Floating dtype of the device arrays.
    totals : numpy.ndarray or None
        Host array ``(curves, T + 1)``: the per-step sums over the chunk's runs of every curve are
        added into it at each :meth:`flush` (the mean over all runs that the divergence rule reads).

    Examples
    --------
    >>> plan = record_plan(Schedule.constant(0.1, 1, steps=1))
    >>> curve = CurveStatistics(runs=2, points=plan.points, keep_runs=False)
    >>> rec = ChunkRecorder(np, plan, [curve], first_run=0, n=2, dtype=np.float64)
    >>> for t in (0, 1):
    ...     rec.observe(t, np.array([1.0, 3.0]))
    >>> rec.flush(rec.bad_steps()); rec.finish(rec.bad_steps(), None)
    >>> curve.result()[0].tolist()
    [2.0, 2.0]
    """

    def __init__(self, xp: ModuleType, plan: RecordPlan, curves: Sequence[CurveStatistics], first_run: int,
                 n: int, dtype: Any, totals: np.ndarray | None = None) -> None:
        self.xp, self.plan, self.curves = xp, plan, list(curves)
        self.first_run, self.n = first_run, n
        # Per-step sums over the chunk's runs of every curve, added into the host array ``totals``
        # (curves × (T + 1)) at each flush: the mean over all runs that the divergence rule reads.
        self.totals = totals
        self._sums: list[Any] = []
        self._sum_steps: list[int] = []
        self.first_bad = xp.full((n,), math.inf, dtype=dtype)
        self._pending: list[list[Any]] = [[] for _ in self.curves]
        self._pending_cols: list[int] = []
        # Checkpoints need both neighbouring steps of a run: keep those (chunk × ≤ 2·checkpoints).
        self._kept = (
            None if plan.interpolation is None
            else [np.full((n, plan.record.size), np.inf) for _ in self.curves]
        )

    def observe(self, t: int, *risks: Any) -> None:
        """Note the curves' values ``(n,)`` at step ``t``.

        Parameters
        ----------
        t : int
            The step (``0 … T``).
        *risks : array
            One ``(n,)`` device array per curve, in the order of ``curves``.
        """
        xp = self.xp
        finite = xp.isfinite(risks[0])
        for risk in risks[1:]:
            finite = finite & xp.isfinite(risk)
        fresh = ~finite & (self.first_bad == math.inf)
        self.first_bad = xp.where(fresh, float(t), self.first_bad)
        if self.totals is not None:
            self._sums.append(xp.stack([xp.sum(risk) for risk in risks]))
            self._sum_steps.append(t)
        col = int(self.plan.column[t])
        if col >= 0:
            for pending, risk in zip(self._pending, risks):
                pending.append(risk)
            self._pending_cols.append(col)

    def bad_steps(self) -> np.ndarray:
        """``first_bad`` on the host (float64; ``inf`` for runs still finite).

        Returns
        -------
        numpy.ndarray
            float64, shape ``(n,)``.
        """
        return to_numpy(self.first_bad).astype(np.float64)

    def flush(self, bad: np.ndarray) -> None:
        """Move the pending values to the host: into the statistics, or kept for the checkpoints.

        Parameters
        ----------
        bad : numpy.ndarray
            float64, shape ``(n,)``: each run's first non-finite step (:meth:`bad_steps`).
        """
        if self._sum_steps:
            sums = to_numpy(self.xp.stack(self._sums, axis=1)).astype(np.float64)
            with np.errstate(over="ignore", invalid="ignore"):
                self.totals[:, np.asarray(self._sum_steps)] += sums
            self._sums.clear()
            self._sum_steps.clear()
        if not self._pending_cols:
            return
        cols = np.asarray(self._pending_cols)
        for j, pending in enumerate(self._pending):
            values = to_numpy(self.xp.stack(pending, axis=1)).astype(np.float64)
            if self._kept is None:
                self._deliver(j, values, cols, bad)
            else:
                self._kept[j][:, cols] = values
            pending.clear()
        self._pending_cols.clear()

    def finish(self, bad: np.ndarray, stopped_after: int | None) -> None:
        """Complete the chunk's curves once every step is observed or the chunk stopped early.

        ``stopped_after`` is the last step advanced when every run had diverged before the end:
        the later steps are ``+inf``.

        Parameters
        ----------
        bad : numpy.ndarray
            float64, shape ``(n,)``: each run's first non-finite step (:meth:`bad_steps`).
        stopped_after : int or None
            The last step advanced, or ``None`` when every step was.
        """
        if self._kept is None:
            if stopped_after is not None:
                cols = self.plan.column[stopped_after + 1 :]
                for j in range(len(self.curves)):
                    self._deliver(j, np.full((self.n, cols.size), np.inf), cols, bad)
            return
        for curve, kept in zip(self.curves, self._kept):
            values, last = self.plan.at_checkpoints(kept)
            values = np.where(last[None, :] >= bad[:, None], np.inf, values)
            curve.add(values, self.first_run)

    def _deliver(self, j: int, values: np.ndarray, cols: np.ndarray, bad: np.ndarray) -> None:
        # Every-step mode: masked values go straight into the statistics (memory O(K)).
        values = np.where(self.plan.record[cols][None, :] >= bad[:, None], np.inf, values)
        self.curves[j].add(values, self.first_run, cols)
