"""The per-step (learning rate, batch size) schedule and its explicit step ↔ sample mapping.

A :class:`Schedule` is two aligned arrays, ``lr[t]`` and ``batch[t]`` for steps ``t = 1 … T``.
Everything else is derived: cumulative ``samples`` after each step, the serial step count, the
samples consumed before each step. Schedules are immutable and validated at construction (optax
style), and every constructor conserves the samples it is asked for (see :meth:`from_phases` for
the rule when a phase's samples are not a multiple of its batch).

Batch sizes are integers by default. Theory sometimes wants exact real batch sizes (a continuous
Seesaw ramp, ``B_0 β^k`` with irrational ``β``): pass ``integer_batch=False`` to allow real
``batch ≥ 1``. The exact solver accepts both; Monte Carlo needs integers.

Mathematics: ``docs/math.md#schedules`` (steps, samples and serial steps) and
``docs/math.md#lr-shapes`` (shapes defined in samples).
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

import numpy as np

from .._frozen import array_key, freeze, readonly, same_value, thaw
from .._limits import MAX_EXACT_INTEGER, MAX_INT64, MAX_STEP_ARRAY
from .._validate import (as_numpy, describe, finite_real, flag, nonnegative_int, positive_int,
                         real_array, strict_real_array)
from ._lr_shapes import LRShape

__all__ = ["Schedule", "Segments", "schedule_list"]


def _lr_array(lr: Any, name: str = "lr", unit: str = "step") -> np.ndarray:
    arr = real_array(lr, name)
    bad = ~(np.isfinite(arr) & (arr >= 0))
    if bad.any():
        i = int(np.argmax(bad.ravel()))
        where = f" at {unit} {i + 1}" if arr.ndim else ""
        raise ValueError(f"{name} must be ≥ 0 and finite; got {float(arr.ravel()[i])!r}{where}")
    return arr


def _batch_array(batch: Any, integer: bool, name: str = "batch", unit: str = "step") -> np.ndarray:
    arr = real_array(batch, name)
    bad = ~(np.isfinite(arr) & (arr >= 1))
    if bad.any():
        i = int(np.argmax(bad.ravel()))
        where = f" at {unit} {i + 1}" if arr.ndim else ""
        raise ValueError(f"{name} must be ≥ 1 and finite; got {float(arr.ravel()[i])!r}{where}")
    if integer:
        big = arr > MAX_EXACT_INTEGER
        if big.any():
            i = int(np.argmax(big.ravel()))
            where = f" at {unit} {i + 1}" if arr.ndim else ""
            raise ValueError(f"{name} must be ≤ 2**53 for integer batches (pass integer_batch=False for "
                             f"larger, real batch sizes); got {float(arr.ravel()[i])!r}{where}")
        frac = arr != np.round(arr)
        if frac.any():
            i = int(np.argmax(frac.ravel()))
            where = f" at {unit} {i + 1}" if arr.ndim else ""
            raise ValueError(
                f"{name} must be integer-valued (pass integer_batch=False for real batch sizes); "
                f"got {float(arr.ravel()[i])!r}{where}"
            )
        return arr.astype(np.int64)
    return arr


def _metadata(metadata: Any) -> dict[str, Any]:
    """``metadata`` (a mapping or None) as a new dict; anything else is refused naming it."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a mapping or None; got {describe(metadata)}")
    return dict(metadata)


def _step_counts(steps: Any) -> np.ndarray:
    """``steps`` (array_like of whole numbers in [0, 2**63 − 1]) as int64, refused naming ``steps``."""
    arr = strict_real_array(steps, "steps")
    bad = ~np.isfinite(arr) | (arr != np.floor(arr)) | (arr < 0) | (arr >= 2.0**63)
    if bad.any():
        i = int(np.argmax(bad.ravel()))
        raise ValueError(f"steps must be whole numbers in [0, 2**63 − 1]; got {float(arr.ravel()[i])!r}")
    return np.array(steps, dtype=object).astype(np.int64) if arr.size and arr.max() >= 2.0**53 else arr.astype(np.int64)


def _phase_runs(lr: Any, batch: Any, samples: Any, integer_batch: bool,
                prefix: str) -> list[tuple[float, float, int]]:
    """Segments ``(lr, batch, steps)`` of one constant phase of ``samples`` samples (rule of
    :meth:`Schedule.from_phases`); errors name ``prefix + "lr"`` and so on."""
    lr = finite_real(lr, f"{prefix}lr")
    if lr < 0:
        raise ValueError(f"{prefix}lr must be ≥ 0; got {lr!r}")
    batch = finite_real(batch, f"{prefix}batch", minimum=1.0)
    given = samples
    # An integer count stays an exact Python int (2**53 + 1 samples are not 2**53 in float64).
    exact = int(given) if isinstance(given, (int, np.integer)) and not isinstance(given, (bool, np.bool_)) else None
    samples = finite_real(samples, f"{prefix}samples")
    if samples <= 0:
        raise ValueError(f"{prefix}samples must be positive; got {given!r}")
    if (exact // int(batch) if exact is not None and batch.is_integer() else samples / batch) > MAX_INT64:
        raise ValueError(f"{prefix}samples / {prefix}batch must be at most 2**63 − 1 steps; got "
                         f"{given!r} / {batch!r}")
    if integer_batch:
        if not batch.is_integer() or batch > MAX_EXACT_INTEGER:
            raise ValueError(f"{prefix}batch must be an integer ≤ 2**53; got {batch!r}")
        if not samples.is_integer():
            raise ValueError(f"{prefix}samples must be a whole number; got {given!r}")
        full, rest = divmod(exact if exact is not None else int(samples), int(batch))
        runs = [(lr, batch, full)] if full else []
        if rest:
            runs.append((lr, float(rest), 1))
        return runs
    if samples < 1:
        raise ValueError(f"{prefix}samples must be ≥ 1; got {given!r}")
    if exact is not None and exact != samples:
        raise ValueError(f"{prefix}samples must be exact in float64 with real batches (integer_batch=False); "
                         f"got {given!r}, which would be {int(samples)}: pass integer_batch=True")
    # Round to the nearest step count, but never so many that a batch falls below 1.
    n = max(1, min(round(samples / batch), math.floor(samples)))
    return [(lr, samples / n, n)]


class Segments(NamedTuple):
    """A schedule as ``K`` constant runs: ``lr[k]`` and ``batch[k]`` for ``steps[k]`` consecutive steps.

    Parameters
    ----------
    lr : numpy.ndarray
        float64, shape ``(K,)``: the learning rate of each run.
    batch : numpy.ndarray
        shape ``(K,)``: the batch size (samples per step) of each run.
    steps : numpy.ndarray
        int64, shape ``(K,)``: the number of steps of each run (≥ 1).

    Examples
    --------
    >>> seg = Schedule.from_phases([(0.1, 2, 6), (0.05, 4, 8)]).segments
    >>> seg.lr.tolist(), seg.batch.tolist(), seg.steps.tolist()
    ([0.1, 0.05], [2, 4], [3, 2])
    """

    lr: np.ndarray
    batch: np.ndarray
    steps: np.ndarray

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Segments):
            return NotImplemented
        return all(same_value(a, b) for a, b in zip(self, other))

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(tuple(array_key(np.asarray(a)) for a in self))

    def __reduce__(self) -> tuple:
        return (_frozen_segments, tuple(self))


def _rebuild_schedule(lr: np.ndarray, batch: np.ndarray, steps: np.ndarray, label: str,
                      metadata: Mapping[str, Any], integer_batch: bool) -> "Schedule":
    """The schedule that :meth:`Schedule.__reduce__` packed (pickle, copy, deepcopy)."""
    return Schedule.from_segments(lr, batch, steps, label=label, metadata=metadata, integer_batch=integer_batch)


def _frozen_segments(lr: np.ndarray, batch: np.ndarray, steps: np.ndarray) -> "Segments":
    """The read-only :class:`Segments` that :meth:`Segments.__reduce__` packed."""
    return Segments(readonly(lr), readonly(batch), readonly(steps))


def _run_starts(lr: np.ndarray, batch: np.ndarray) -> np.ndarray:
    """Indices where a new constant run of ``(lr, batch)`` starts (0 included)."""
    change = (lr[1:] != lr[:-1]) | (batch[1:] != batch[:-1])
    return np.concatenate([[0], np.flatnonzero(change) + 1])


class Schedule:
    """Per-step learning rates and batch sizes, stored as constant segments.

    A schedule of ``K`` constant ``(lr, batch)`` segments costs O(K) memory and time to build and
    validate, whatever its number of steps ``T``; per-step arrays are produced on demand
    (``docs/math.md#schedules``). Schedules are immutable values: two schedules with the same
    segments, batch kind, label and metadata are equal (``==``) and hash alike, and pickle,
    :func:`copy.copy` and :func:`copy.deepcopy` give an equal, read-only schedule.

    Parameters
    ----------
    lr : array_like, shape (T,)
        Learning rate of each step; ≥ 0 and finite (a zero-LR step leaves the iterate unchanged, as
        in the usual trainers' warmup from 0). A scalar is broadcast to ``batch``'s length.
    batch : array_like, shape (T,)
        Batch size of each step (samples); ≥ 1, integer-valued and ≤ 2**53 unless
        ``integer_batch=False``. A scalar is broadcast to ``lr``'s length.
    label : str, optional
        Name used in legends and tables.
    metadata : mapping, optional
        Free-form description (family parameters, milestones, …); stored as a read-only deep copy
        (mappings become read-only mappings, lists tuples, arrays read-only copies), so changing
        the caller's objects later does not change the schedule.
    integer_batch : bool, default True
        Require integer batch sizes (stored as int64). ``False`` allows real ``batch ≥ 1``.

    Raises
    ------
    ValueError
        For a negative or non-finite rate, a batch below 1 or above 2**53 (or not an integer when
        ``integer_batch``), more than 2**63 − 1 samples in all, mismatched lengths or an empty
        schedule.
    TypeError
        For arrays that do not hold real numbers (bools, strings, complex) or a label that is not a
        string.

    See Also
    --------
    Schedule.from_segments : build from ``K`` segments in O(K).

    Examples
    --------
    >>> s = Schedule([0.1, 0.1, 0.05], [2, 2, 4], label="demo")
    >>> s.serial_steps, s.samples.tolist(), s.total_samples
    (3, [2, 4, 8], 8)
    >>> s.segments.steps.tolist()
    [2, 1]
    >>> Schedule([0.1, 0.1], [2, 2.5])
    Traceback (most recent call last):
    ...
    ValueError: batch must be integer-valued (pass integer_batch=False for real batch sizes); got 2.5 at step 2
    """

    def __init__(
        self,
        lr: Any,
        batch: Any,
        label: str = "",
        metadata: Mapping[str, Any] | None = None,
        integer_batch: bool = True,
    ) -> None:
        integer_batch = flag(integer_batch, "integer_batch")
        lr_arr = _lr_array(lr)
        batch_arr = _batch_array(batch, integer_batch)
        if lr_arr.ndim == 0 and batch_arr.ndim == 1:
            lr_arr = np.full(batch_arr.shape, float(lr_arr))
        elif batch_arr.ndim == 0 and lr_arr.ndim == 1:
            batch_arr = np.full(lr_arr.shape, batch_arr[()], dtype=batch_arr.dtype)
        if lr_arr.ndim != 1 or batch_arr.ndim != 1:
            raise ValueError(
                f"lr and batch must be 1-D (one may be a scalar); got shapes {lr_arr.shape} and {batch_arr.shape}"
            )
        if lr_arr.shape != batch_arr.shape:
            raise ValueError(
                f"lr and batch must have the same length; got {lr_arr.shape[0]} and {batch_arr.shape[0]}"
            )
        if lr_arr.shape[0] == 0:
            raise ValueError("a schedule needs at least one step; got lr and batch of length 0")
        starts = _run_starts(lr_arr, batch_arr)
        lengths = np.diff(np.concatenate([starts, [lr_arr.shape[0]]]))
        self._init(lr_arr[starts], batch_arr[starts], lengths, label, metadata, integer_batch)

    def _init(self, lr: np.ndarray, batch: np.ndarray, lengths: np.ndarray, label: Any,
              metadata: Mapping[str, Any] | None, integer_batch: bool) -> None:
        if not isinstance(label, str):
            raise TypeError(f"label must be a string; got {label!r}")
        # Exact Python-int sum only when a float estimate comes near 2**63 (O(segments) Python work otherwise).
        if integer_batch and float(np.dot(batch.astype(np.float64), lengths.astype(np.float64))) > 2.0**62 \
                and sum(int(b) * int(n) for b, n in zip(batch, lengths)) > MAX_INT64:
            raise ValueError(
                f"batch × steps must add up to at most 2**63 − 1 samples; got "
                f"{sum(int(b) * int(n) for b, n in zip(batch, lengths))} samples"
            )
        for arr in (lr, batch, lengths):
            arr.flags.writeable = False
        object.__setattr__(self, "_segments", Segments(lr, batch, lengths))
        object.__setattr__(self, "_ends", np.cumsum(lengths))
        object.__setattr__(self, "label", label)
        object.__setattr__(self, "metadata", freeze(_metadata(metadata)))
        object.__setattr__(self, "integer_batch", integer_batch)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Schedule is immutable; cannot set {name!r}")

    # ------------------------------------------------------------- value semantics, pickling
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schedule):
            return NotImplemented
        mine, theirs = self._segments, other._segments
        return (self.integer_batch == other.integer_batch and self.label == other.label
                and same_value(mine, theirs) and same_value(self.metadata, other.metadata))

    def __hash__(self) -> int:
        seg = self._segments
        return hash((self.integer_batch, self.label, array_key(seg.lr), array_key(seg.batch), array_key(seg.steps)))

    def __reduce__(self) -> tuple:
        # Through from_segments: a copy or an unpickled schedule is checked, read-only and frozen again.
        seg = self._segments
        return (_rebuild_schedule, (seg.lr, seg.batch, seg.steps, self.label, thaw(self.metadata), self.integer_batch))

    @classmethod
    def from_segments(
        cls,
        lr: Any,
        batch: Any,
        steps: Any,
        *,
        label: str = "",
        metadata: Mapping[str, Any] | None = None,
        integer_batch: bool = True,
    ) -> "Schedule":
        """Build from ``K`` constant segments in O(K) time and memory, whatever the step count.

        Parameters
        ----------
        lr, batch : array_like, shape (K,)
            Learning rate and batch size (samples) of each segment, validated as in :class:`Schedule`.
        steps : array_like of int, shape (K,)
            Number of steps (≥ 1) of each segment.
        label, metadata, integer_batch
            As in :class:`Schedule`.

        Raises
        ------
        ValueError
            As :class:`Schedule`, and for segment lengths that are not positive integers.

        Examples
        --------
        >>> s = Schedule.from_segments([0.1, 0.01], [1, 4], [10**12, 10**12])
        >>> s.serial_steps, s.total_samples
        (2000000000000, 5000000000000)
        >>> s.step_arrays(10**12 - 1, 10**12 + 1)[0].tolist()
        [0.1, 0.01]
        """
        integer_batch = flag(integer_batch, "integer_batch")
        _metadata(metadata)
        lr_arr = np.atleast_1d(_lr_array(lr, unit="segment"))
        batch_arr = np.atleast_1d(_batch_array(batch, integer_batch, unit="segment"))
        if isinstance(steps, (str, bytes)) or as_numpy(steps, "steps").dtype.kind in "bUSc":
            raise TypeError(f"steps must hold positive integers; got {steps!r}")
        try:
            raw = np.array(steps, dtype=object).ravel()
            counts = [int(v) for v in raw]
            if any(int(v) != v or isinstance(v, (bool, np.bool_)) for v in raw) or np.ndim(steps) > 1:
                raise ValueError
        except (TypeError, ValueError, OverflowError) as exc:
            raise ValueError(f"steps must be positive integers; got {steps!r}") from exc
        if any(c < 1 for c in counts):
            k = next(i for i, c in enumerate(counts) if c < 1)
            raise ValueError(f"steps must be positive integers; got {counts[k]} for segment {k}")
        if any(c > MAX_INT64 for c in counts) or sum(counts) > MAX_INT64:
            raise ValueError(f"steps must add up to at most 2**63 − 1 steps; got {sum(counts)} in all")
        counts = np.array(counts, dtype=np.int64)
        if not (lr_arr.ndim == batch_arr.ndim == 1 and lr_arr.shape == batch_arr.shape == counts.shape):
            raise ValueError(
                f"lr, batch and steps must be 1-D of one length; got shapes {lr_arr.shape}, "
                f"{batch_arr.shape} and {counts.shape}"
            )
        if counts.shape[0] == 0:
            raise ValueError("a schedule needs at least one segment; got none")
        if (counts < 1).any():
            k = int(np.argmax(counts < 1))
            raise ValueError(f"steps must be positive integers; got {int(counts[k])} for segment {k}")
        # Merge neighbouring segments with equal (lr, batch), so every schedule has one normal form.
        starts = _run_starts(lr_arr, batch_arr)
        merged = np.add.reduceat(counts, starts)
        out = cls.__new__(cls)
        out._init(lr_arr[starts], batch_arr[starts], merged, label, metadata, integer_batch)
        return out

    # ------------------------------------------------------------------ segments and step arrays
    @property
    def segments(self) -> Segments:
        """The ``K`` constant segments ``(lr, batch, steps)``, read-only arrays of shape (K,)."""
        return self._segments

    def _check_materialisable(self, what: str) -> None:
        if len(self) > MAX_STEP_ARRAY:
            raise ValueError(
                f"{what} would materialise {len(self)} steps, more than MAX_STEP_ARRAY = {MAX_STEP_ARRAY}; "
                f"read long schedules with .segments or .step_arrays(start, stop)"
            )

    @cached_property
    def lr(self) -> np.ndarray:
        """Learning rate of each step, shape (T,), float64 (materialised on first use)."""
        self._check_materialisable("Schedule.lr")
        out = np.repeat(self._segments.lr, self._segments.steps)
        out.flags.writeable = False
        return out

    @cached_property
    def batch(self) -> np.ndarray:
        """Batch size (samples) of each step, shape (T,), int64 (float64 for real batches)."""
        self._check_materialisable("Schedule.batch")
        out = np.repeat(self._segments.batch, self._segments.steps)
        out.flags.writeable = False
        return out

    def step_arrays(self, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per-step ``(lr, batch)`` as float64 arrays for the 0-based steps ``start … stop − 1``.

        Costs O(K + stop − start) whatever the schedule's length, so solvers read long schedules in
        chunks through this method.

        Parameters
        ----------
        start : int, default 0
            First step (0-based).
        stop : int, optional
            One past the last step; the schedule's length ``T`` by default.

        Returns
        -------
        lr, batch : tuple of numpy.ndarray
            float64, shape ``(stop − start,)`` each.

        Raises
        ------
        ValueError
            Unless ``0 ≤ start ≤ stop ≤ T``.

        Examples
        --------
        >>> Schedule([0.1, 0.1, 0.05], [2, 2, 4]).step_arrays(1, 3)[1].tolist()
        [2.0, 4.0]
        """
        n = len(self)
        start = nonnegative_int(start, "start")
        stop = n if stop is None else nonnegative_int(stop, "stop")
        if not 0 <= start <= stop <= n:
            raise ValueError(f"need 0 ≤ start ≤ stop ≤ {n}; got start={start}, stop={stop}")
        ends = self._ends
        first = int(np.searchsorted(ends, start, side="right"))
        last = int(np.searchsorted(ends, stop, side="left")) + 1 if stop > start else first
        seg_starts = ends[first:last] - self._segments.steps[first:last]
        lengths = np.minimum(ends[first:last], stop) - np.maximum(seg_starts, start)
        lr = np.repeat(self._segments.lr[first:last].astype(np.float64), lengths)
        batch = np.repeat(self._segments.batch[first:last].astype(np.float64), lengths)
        return lr, batch

    # ------------------------------------------------------------------ step ↔ sample mapping
    def __len__(self) -> int:
        return int(self._ends[-1])

    @property
    def serial_steps(self) -> int:
        """Number of optimizer steps ``T`` (the serial cost of the schedule)."""
        return len(self)

    @property
    def steps(self) -> np.ndarray:
        """Step indices ``1 … T``, aligned with :attr:`lr`, :attr:`batch` and :attr:`samples`."""
        self._check_materialisable("Schedule.steps")
        return np.arange(1, len(self) + 1)

    @cached_property
    def samples(self) -> np.ndarray:
        """Cumulative samples consumed after each step, shape (T,) (int64, or float64 for real batches)."""
        self._check_materialisable("Schedule.samples")
        out = np.cumsum(self.batch)
        out.flags.writeable = False
        return out

    @cached_property
    def _samples_before_segment(self) -> np.ndarray:
        seg = self._segments
        if self.integer_batch:  # exact: the total was checked to fit in int64 at construction
            return np.concatenate([[0], np.cumsum(seg.batch * seg.steps)[:-1]]).astype(np.int64)
        return np.concatenate([[0.0], np.cumsum(seg.batch * seg.steps.astype(np.float64))[:-1]])

    def samples_at(self, steps: Any) -> np.ndarray:
        """Cumulative samples consumed after each of ``steps`` (0-based count of steps taken).

        ``samples_at(0)`` is 0 and ``samples_at(T)`` is :attr:`total_samples`. For integer batches
        it costs O(K + len(steps)) (exact integer arithmetic on the segments), so it serves
        checkpoints of schedules too long to materialise. Real batches are summed step by step as
        :attr:`samples` is (their rounding is part of the step ↔ sample mapping that shapes are
        evaluated on), using the segments only beyond ``MAX_STEP_ARRAY`` steps.

        Parameters
        ----------
        steps : array_like of int
            Step counts in ``[0, T]``.

        Returns
        -------
        ndarray
            Same shape as ``steps``; int64 for integer batches, float64 otherwise.

        Raises
        ------
        ValueError
            For steps outside ``[0, T]``.

        Examples
        --------
        >>> Schedule.from_segments([0.1, 0.1], [2, 5], [3, 10**9]).samples_at([0, 3, 4, 10**9 + 3]).tolist()
        [0, 6, 11, 5000000006]
        """
        t = _step_counts(steps)
        if t.size and (t.min() < 0 or t.max() > len(self)):
            raise ValueError(f"steps must lie in [0, {len(self)}]; got [{t.min()}, {t.max()}]")
        if not self.integer_batch and len(self) <= MAX_STEP_ARRAY:
            cumulative = np.concatenate([[0.0], self.samples])
            return cumulative[t]
        seg = self._segments
        k = np.minimum(np.searchsorted(self._ends, t, side="left"), len(self._ends) - 1)
        into = t - (self._ends[k] - seg.steps[k])
        out = self._samples_before_segment[k] + seg.batch[k] * into
        return out.astype(np.int64 if self.integer_batch else np.float64)

    @property
    def samples_before(self) -> np.ndarray:
        """Samples consumed before each step (the left end of each step's sample interval)."""
        return np.concatenate([np.zeros(1, dtype=self.batch.dtype), self.samples[:-1]])

    @property
    def total_samples(self) -> int | float:
        """All samples consumed by the schedule (an int for integer batches)."""
        seg = self._segments
        if self.integer_batch:
            return sum(int(b) * int(n) for b, n in zip(seg.batch, seg.steps))
        return float(self.samples_at(len(self)))

    # ----------------------------------------------------------------------------- builders
    @classmethod
    def constant(
        cls,
        lr: float,
        batch: float,
        *,
        steps: int | None = None,
        samples: float | None = None,
        label: str = "",
        integer_batch: bool = True,
    ) -> "Schedule":
        """Constant ``(lr, batch)`` for ``steps`` steps or for ``samples`` samples (exactly one).

        Given ``samples``, the split into steps follows :meth:`from_phases`.

        Parameters
        ----------
        lr : float
            The learning rate (``≥ 0``).
        batch : float
            The batch size in samples per step (``≥ 1``).
        steps : int, optional
            Number of steps.
        samples : float, optional
            Number of samples instead (a last partial batch takes any remainder).
        label : str, optional
            Name carried by the schedule (legends, tables).
        integer_batch : bool, default True
            Require integer batch sizes; ``False`` allows real ``batch ≥ 1``.

        Returns
        -------
        Schedule
            ``steps`` steps, or as many as ``samples`` needs.

        Examples
        --------
        >>> Schedule.constant(0.1, 4, steps=3).samples.tolist()
        [4, 8, 12]
        >>> Schedule.constant(0.1, 4, samples=10).batch.tolist()
        [4, 4, 2]
        """
        if (steps is None) == (samples is None):
            raise ValueError("give exactly one of steps= or samples=")
        # Scalars are checked as the user gave them, so an error quotes their value.
        integer_batch = flag(integer_batch, "integer_batch")
        _lr_array(finite_real(lr, "lr"))
        _batch_array(finite_real(batch, "batch"), integer_batch)
        if steps is not None:
            n = positive_int(steps, "steps")
            return cls.from_segments([lr], [batch], [n], label=label, integer_batch=integer_batch)
        runs = _phase_runs(lr, batch, samples, integer_batch, "")
        return cls.from_segments(*zip(*runs), label=label, integer_batch=integer_batch)

    @classmethod
    def from_phases(
        cls,
        phases: Iterable[Sequence[float]],
        *,
        label: str = "",
        metadata: Mapping[str, Any] | None = None,
        integer_batch: bool = True,
    ) -> "Schedule":
        """Concatenate constant phases ``(lr, batch, samples)``; phase lengths are given in samples.

        Samples are conserved exactly. With integer batches a phase of ``D`` samples at batch ``B``
        is ``⌊D/B⌋`` steps of ``B`` plus, when ``D mod B > 0``, one final step with the remainder
        as its batch (so ``D`` must be a whole number). With real batches (``integer_batch=False``)
        the phase gets ``n = max(1, min(round(D/B), ⌊D⌋))`` steps of batch ``D/n`` (``D ≥ 1``).

        Parameters
        ----------
        phases : iterable of (float, float, float)
            ``(lr, batch, samples)`` per phase, in order.
        label : str, optional
            Name carried by the schedule (legends, tables).
        metadata : mapping, optional
            Free-form description, stored read-only.
        integer_batch : bool, default True
            Require integer batch sizes; ``False`` allows real ``batch ≥ 1``.

        Returns
        -------
        Schedule
            The phases one after another.

        Examples
        --------
        >>> s = Schedule.from_phases([(0.1, 2, 6), (0.05, 4, 8)])
        >>> s.lr.tolist(), s.batch.tolist()
        ([0.1, 0.1, 0.1, 0.05, 0.05], [2, 2, 2, 4, 4])
        >>> Schedule.from_phases([(0.1, 2.5, 10)], integer_batch=False).batch.tolist()
        [2.5, 2.5, 2.5, 2.5]
        """
        integer_batch = flag(integer_batch, "integer_batch")
        metadata = _metadata(metadata)
        if isinstance(phases, (str, bytes, Mapping)):
            raise TypeError(f"phases must be a sequence of (lr, batch, samples) triples; got {describe(phases)}")
        try:
            phases = list(phases)
        except TypeError as exc:
            raise TypeError(f"phases must be a sequence of (lr, batch, samples) triples; got {describe(phases)}") from exc
        lrs: list[float] = []
        batches: list[float] = []
        counts: list[int] = []
        for k, phase in enumerate(phases):
            try:
                lr, batch, samples = phase
            except (TypeError, ValueError) as exc:
                raise TypeError(f"phases[{k}] must be a (lr, batch, samples) triple; got {phase!r}") from exc
            runs = _phase_runs(lr, batch, samples, integer_batch, f"phases[{k}].")
            for lr_k, b, n in runs:
                lrs.append(lr_k)
                batches.append(b)
                counts.append(n)
        if not lrs:
            raise ValueError("phases must contain at least one (lr, batch, samples) triple")
        return cls.from_segments(lrs, batches, counts, label=label, metadata=metadata,
                                 integer_batch=integer_batch)

    @classmethod
    def from_shape(
        cls,
        shape: LRShape,
        batch: float,
        *,
        label: str = "",
        integer_batch: bool = True,
    ) -> "Schedule":
        """Sample a base learning-rate shape at constant ``batch`` over its ``total_samples``.

        Step ``t`` uses the rate at the samples consumed before it; the steps partition the horizon as
        in :meth:`from_phases` (a last partial batch takes any remainder).

        Parameters
        ----------
        shape : LRShape
            The learning rate as a function of samples.
        batch : float
            Constant batch size (samples per step).
        label : str, optional
            Name carried by the schedule (legends, tables).
        integer_batch : bool, default True
            Require integer batch sizes; ``False`` allows real ``batch ≥ 1``.

        Returns
        -------
        Schedule
            The sampled rates, with ``metadata["shape"]``.

        Examples
        --------
        >>> from ramplab.theory.schedules import Linear
        >>> s = Schedule.from_shape(Linear(1.0, 8, final=0.0), 2)
        >>> s.lr.tolist(), s.total_samples
        ([1.0, 0.75, 0.5, 0.25], 8)
        """
        if not isinstance(shape, LRShape):
            raise TypeError(f"shape must be an LRShape; got {type(shape).__name__}")
        integer_batch = flag(integer_batch, "integer_batch")
        _batch_array(finite_real(batch, "batch"), integer_batch)
        runs = _phase_runs(1.0, batch, shape.total_samples, integer_batch, "")
        skeleton = cls.from_segments(*zip(*runs), integer_batch=integer_batch)
        meta = {"shape": shape}
        return cls(shape(skeleton.samples_before), skeleton.batch, label=label, metadata=meta,
                   integer_batch=integer_batch)

    @classmethod
    def concatenate(cls, schedules: Sequence["Schedule"], *, label: str = "") -> "Schedule":
        """Run ``schedules`` one after another.

        Parameters
        ----------
        schedules : sequence of Schedule
            Non-empty; batches stay integer only if all of them are.
        label : str, optional
            Name carried by the schedule (legends, tables).

        Returns
        -------
        Schedule
            The concatenation.

        Examples
        --------
        >>> a = Schedule.constant(0.1, 2, steps=2)
        >>> Schedule.concatenate([a, a]).total_samples
        8
        """
        if isinstance(schedules, Schedule):
            raise TypeError("schedules must be a non-empty sequence of Schedule; got one Schedule")
        try:
            schedules = list(schedules)
        except TypeError as exc:
            raise TypeError(f"schedules must be a non-empty sequence of Schedule; got {describe(schedules)}") from exc
        if not schedules or not all(isinstance(s, Schedule) for s in schedules):
            raise TypeError("schedules must be a non-empty sequence of Schedule")
        integer = all(s.integer_batch for s in schedules)
        segs = [s.segments for s in schedules]
        return cls.from_segments(np.concatenate([g.lr for g in segs]),
                                 np.concatenate([g.batch.astype(np.float64) for g in segs]),
                                 np.concatenate([g.steps for g in segs]),
                                 label=label, integer_batch=integer)

    def __add__(self, other: "Schedule") -> "Schedule":
        if not isinstance(other, Schedule):
            return NotImplemented
        return Schedule.concatenate([self, other], label=self.label)

    def with_label(self, label: str) -> "Schedule":
        """Return the same schedule under another label.

        Parameters
        ----------
        label : str
            The new label.

        Returns
        -------
        Schedule
            Same steps, metadata and batch kind.

        Examples
        --------
        >>> Schedule.constant(0.1, 2, steps=2).with_label("warm").label
        'warm'
        """
        seg = self._segments
        return Schedule.from_segments(seg.lr, seg.batch, seg.steps, label=label, metadata=self.metadata,
                                      integer_batch=self.integer_batch)

    def __repr__(self) -> str:
        name = f"{self.label!r}, " if self.label else ""
        seg = self._segments
        return (
            f"Schedule({name}steps={self.serial_steps}, samples={self.total_samples}, "
            f"lr=[{seg.lr[0]:.4g} … {seg.lr[-1]:.4g}], batch=[{seg.batch[0]:.4g} … {seg.batch[-1]:.4g}])"
        )


def schedule_list(schedules: Any, name: str = "schedules") -> list[Schedule]:
    """``schedules`` — one :class:`Schedule` or a non-empty iterable of them — as a list.

    The one check every entry point that takes "a schedule or several" goes through.

    Parameters
    ----------
    schedules : Schedule or iterable of Schedule
        What the caller was given.
    name : str, default "schedules"
        The argument's name, quoted in errors.

    Returns
    -------
    list of Schedule
        At least one.

    Raises
    ------
    TypeError
        For anything else (a string, a non-iterable, a 0-d array, an empty sequence, a sequence
        holding something that is not a Schedule), naming ``name`` and the value given.

    Examples
    --------
    >>> s = Schedule.constant(0.1, 1, steps=2)
    >>> len(schedule_list(s)), len(schedule_list((s, s)))
    (1, 2)
    >>> schedule_list(3.0)
    Traceback (most recent call last):
    ...
    TypeError: schedules must be a Schedule or a non-empty sequence of Schedule; got 3.0
    """
    if isinstance(schedules, Schedule):
        return [schedules]

    def problem() -> str:  # only on failure: a Schedule's repr sums its segments (O(segments))
        return f"{name} must be a Schedule or a non-empty sequence of Schedule; got {describe(schedules)}"

    if isinstance(schedules, (str, bytes)) or not hasattr(schedules, "__iter__"):
        raise TypeError(problem())
    try:
        out = list(schedules)
    except TypeError as exc:  # a 0-d array has __iter__ but does not iterate
        raise TypeError(problem()) from exc
    if not out or not all(isinstance(s, Schedule) for s in out):
        raise TypeError(problem())
    return out

