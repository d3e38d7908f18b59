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
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .._validate import finite_real, positive_int
from .lr_shapes import LRShape

__all__ = ["Schedule"]


def _lr_array(lr: Any) -> np.ndarray:
    try:
        arr = np.array(lr, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"lr must be an array of real numbers; got {lr!r}") from exc
    bad = ~(np.isfinite(arr) & (arr > 0))
    if bad.any():
        i = int(np.argmax(bad.ravel()))
        raise ValueError(f"lr must be positive and finite; got {float(arr.ravel()[i])!r} at step {i + 1}")
    return arr


def _batch_array(batch: Any, integer: bool) -> np.ndarray:
    try:
        arr = np.array(batch, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"batch must be an array of numbers; got {batch!r}") from exc
    bad = ~(np.isfinite(arr) & (arr >= 1))
    if bad.any():
        i = int(np.argmax(bad.ravel()))
        raise ValueError(f"batch must be ≥ 1 and finite; got {float(arr.ravel()[i])!r} at step {i + 1}")
    if integer:
        frac = arr != np.round(arr)
        if frac.any():
            i = int(np.argmax(frac.ravel()))
            raise ValueError(
                f"batch must be integer-valued (pass integer_batch=False for real batch sizes); "
                f"got {float(arr.ravel()[i])!r} at step {i + 1}"
            )
        return arr.astype(np.int64)
    return arr


@dataclass(frozen=True, eq=False)
class Schedule:
    """Per-step learning rates and batch sizes.

    Parameters
    ----------
    lr : array_like, shape (T,)
        Learning rate of each step; positive and finite. A scalar is broadcast to ``batch``'s length.
    batch : array_like, shape (T,)
        Batch size of each step; ≥ 1, integer-valued unless ``integer_batch=False``. A scalar is
        broadcast to ``lr``'s length.
    label : str, optional
        Name used in legends and tables.
    metadata : mapping, optional
        Free-form description (family parameters, milestones, …); stored read-only.
    integer_batch : bool, default True
        Require integer batch sizes (stored as int64). ``False`` allows real ``batch ≥ 1``.

    Examples
    --------
    >>> s = Schedule([0.1, 0.1, 0.05], [2, 2, 4], label="demo")
    >>> s.serial_steps, s.samples.tolist(), s.total_samples
    (3, [2, 4, 8], 8)
    >>> Schedule([0.1, 0.1], [2, 2.5])
    Traceback (most recent call last):
    ...
    ValueError: batch must be integer-valued (pass integer_batch=False for real batch sizes); got 2.5 at step 2
    """

    lr: np.ndarray
    batch: np.ndarray
    label: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    integer_batch: bool = True

    def __post_init__(self) -> None:
        lr = _lr_array(self.lr)
        batch = _batch_array(self.batch, bool(self.integer_batch))
        if lr.ndim == 0 and batch.ndim == 1:
            lr = np.full(batch.shape, float(lr))
        elif batch.ndim == 0 and lr.ndim == 1:
            batch = np.full(lr.shape, batch[()], dtype=batch.dtype)
        if lr.ndim != 1 or batch.ndim != 1:
            raise ValueError(
                f"lr and batch must be 1-D (one may be a scalar); got shapes {lr.shape} and {batch.shape}"
            )
        if lr.shape != batch.shape:
            raise ValueError(
                f"lr and batch must have the same length; got {lr.shape[0]} and {batch.shape[0]}"
            )
        if lr.shape[0] == 0:
            raise ValueError("a schedule needs at least one step; got lr and batch of length 0")
        if not isinstance(self.label, str):
            raise TypeError(f"label must be a string; got {self.label!r}")
        lr.flags.writeable = False
        batch.flags.writeable = False
        object.__setattr__(self, "lr", lr)
        object.__setattr__(self, "batch", batch)
        object.__setattr__(self, "integer_batch", bool(self.integer_batch))
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    # ------------------------------------------------------------------ step ↔ sample mapping
    def __len__(self) -> int:
        return int(self.lr.shape[0])

    @property
    def serial_steps(self) -> int:
        """Number of optimizer steps ``T`` (the serial cost of the schedule)."""
        return len(self)

    @property
    def steps(self) -> np.ndarray:
        """Step indices ``1 … T``, aligned with :attr:`lr`, :attr:`batch` and :attr:`samples`."""
        return np.arange(1, len(self) + 1)

    def step_arrays(self, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per-step ``(lr, batch)`` as float64 arrays for the 0-based steps ``start … stop − 1``.

        The solvers read schedules in chunks through this method, so their memory does not grow
        with the number of steps.

        Examples
        --------
        >>> Schedule([0.1, 0.1, 0.05], [2, 2, 4]).step_arrays(1, 3)[1].tolist()
        [2.0, 4.0]
        """
        n = len(self)
        stop = n if stop is None else stop
        if not 0 <= start <= stop <= n:
            raise ValueError(f"need 0 ≤ start ≤ stop ≤ {n}; got start={start}, stop={stop}")
        return (np.array(self.lr[start:stop], dtype=np.float64),
                np.array(self.batch[start:stop], dtype=np.float64))

    @property
    def samples(self) -> np.ndarray:
        """Cumulative samples consumed after each step (int64, or float64 for real batches)."""
        out = np.cumsum(self.batch)
        out.flags.writeable = False
        return out

    @property
    def samples_before(self) -> np.ndarray:
        """Samples consumed before each step (the left end of each step's sample interval)."""
        return np.concatenate([np.zeros(1, dtype=self.batch.dtype), self.samples[:-1]])

    @property
    def total_samples(self) -> int | float:
        """All samples consumed by the schedule (an int for integer batches)."""
        total = self.samples[-1]
        return int(total) if self.integer_batch else float(total)

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

        Examples
        --------
        >>> Schedule.constant(0.1, 4, steps=3).samples.tolist()
        [4, 8, 12]
        >>> Schedule.constant(0.1, 4, samples=10).batch.tolist()
        [4, 4, 2]
        """
        if (steps is None) == (samples is None):
            raise ValueError("give exactly one of steps= or samples=")
        if steps is not None:
            n = positive_int(steps, "steps")
            return cls(np.full(n, lr, dtype=np.float64), np.full(n, batch, dtype=np.float64),
                       label=label, integer_batch=integer_batch)
        return cls.from_phases([(lr, batch, samples)], label=label, integer_batch=integer_batch)

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

        Examples
        --------
        >>> s = Schedule.from_phases([(0.1, 2, 6), (0.05, 4, 8)])
        >>> s.lr.tolist(), s.batch.tolist()
        ([0.1, 0.1, 0.1, 0.05, 0.05], [2, 2, 2, 4, 4])
        >>> Schedule.from_phases([(0.1, 2.5, 10)], integer_batch=False).batch.tolist()
        [2.5, 2.5, 2.5, 2.5]
        """
        lrs: list[np.ndarray] = []
        batches: list[np.ndarray] = []
        for k, phase in enumerate(phases):
            try:
                lr, batch, samples = phase
            except (TypeError, ValueError) as exc:
                raise TypeError(f"phases[{k}] must be a (lr, batch, samples) triple; got {phase!r}") from exc
            lr = finite_real(lr, f"phases[{k}].lr")
            if lr <= 0:
                raise ValueError(f"phases[{k}].lr must be positive; got {lr!r}")
            batch = finite_real(batch, f"phases[{k}].batch", minimum=1.0)
            samples = finite_real(samples, f"phases[{k}].samples")
            if samples <= 0:
                raise ValueError(f"phases[{k}].samples must be positive; got {samples!r}")
            if integer_batch:
                if not batch.is_integer():
                    raise ValueError(f"phases[{k}].batch must be an integer; got {batch!r}")
                if not samples.is_integer():
                    raise ValueError(f"phases[{k}].samples must be a whole number; got {samples!r}")
                full, rest = divmod(int(samples), int(batch))
                b = np.full(full + (rest > 0), batch)
                if rest:
                    b[-1] = rest
            else:
                if samples < 1:
                    raise ValueError(f"phases[{k}].samples must be ≥ 1; got {samples!r}")
                # Round to the nearest step count, but never so many that a batch falls below 1.
                n = max(1, min(round(samples / batch), math.floor(samples)))
                b = np.full(n, samples / n)
            lrs.append(np.full(b.shape[0], lr))
            batches.append(b)
        if not lrs:
            raise ValueError("phases must contain at least one (lr, batch, samples) triple")
        return cls(np.concatenate(lrs), np.concatenate(batches), label=label,
                   metadata=metadata or {}, integer_batch=integer_batch)

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

        Examples
        --------
        >>> from ramplab.theory.schedules.lr_shapes import Linear
        >>> s = Schedule.from_shape(Linear(1.0, 8, final=0.0), 2)
        >>> s.lr.tolist(), s.total_samples
        ([1.0, 0.75, 0.5, 0.25], 8)
        """
        if not isinstance(shape, LRShape):
            raise TypeError(f"shape must be an LRShape; got {type(shape).__name__}")
        skeleton = cls.from_phases([(1.0, batch, shape.total_samples)], integer_batch=integer_batch)
        meta = {"shape": shape}
        return cls(shape(skeleton.samples_before), skeleton.batch, label=label, metadata=meta,
                   integer_batch=integer_batch)

    @classmethod
    def concatenate(cls, schedules: Sequence["Schedule"], *, label: str = "") -> "Schedule":
        """Run ``schedules`` one after another.

        Examples
        --------
        >>> a = Schedule.constant(0.1, 2, steps=2)
        >>> Schedule.concatenate([a, a]).total_samples
        8
        """
        schedules = list(schedules)
        if not schedules or not all(isinstance(s, Schedule) for s in schedules):
            raise TypeError("schedules must be a non-empty sequence of Schedule")
        integer = all(s.integer_batch for s in schedules)
        return cls(np.concatenate([s.lr for s in schedules]),
                   np.concatenate([s.batch.astype(np.float64) for s in schedules]),
                   label=label, integer_batch=integer)

    def __add__(self, other: "Schedule") -> "Schedule":
        if not isinstance(other, Schedule):
            return NotImplemented
        return Schedule.concatenate([self, other], label=self.label)

    def with_label(self, label: str) -> "Schedule":
        """Return the same schedule under another label."""
        return Schedule(self.lr, self.batch, label=label, metadata=self.metadata,
                        integer_batch=self.integer_batch)

    def __repr__(self) -> str:
        name = f"{self.label!r}, " if self.label else ""
        return (
            f"Schedule({name}steps={self.serial_steps}, samples={self.total_samples}, "
            f"lr=[{self.lr[0]:.4g} … {self.lr[-1]:.4g}], batch=[{self.batch[0]:.4g} … {self.batch[-1]:.4g}])"
        )

