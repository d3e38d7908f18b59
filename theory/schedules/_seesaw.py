"""The Seesaw transform: turn a learning-rate decay into a batch ramp (docs/math.md#seesaw-rule).

Given a base learning-rate shape ``η_base(τ)`` in samples and a factor ``f > 1``, the milestones are
the sample counts ``τ_k`` where the base first falls to ``η_0 f^{−k}`` (``k = 1, 2, …``, after the
warmup). Between milestones the transformed schedule is constant; at each milestone

- Seesaw (``p = 1``): learning rate × ``f^{−1/2}``, batch × ``f``;
- the general family: learning rate × ``f^{−(1 − p/2)}``, batch × ``f^p`` (``p = 0`` is the
  base's own staircase, ``p ∈ (1, 2]`` ramps faster than ``α ≥ √β`` allows).

Every member keeps the NSGD temperature ``η/√B`` equal to ``(η_0/√B_0) f^{−k}``, the staircase of
the base. The warmup runs unchanged at ``B_0`` with the base's own rate.

Construction ("ideal mode"). The schedule is built step by step: a step whose first sample lies at
``τ`` is in phase ``k(τ) = #{j : τ_j ≤ τ}``. So a milestone on a step boundary belongs to the new
phase, and a step that crosses several milestones consumes all of them at once (contrast
:func:`theory.released_seesaw_run`, which consumes at most one per batch). The schedule consumes
exactly the base's samples: the last step takes what remains. With ``remainder="merge"`` (the
default) a remainder smaller than the batch of the step before is merged into that step (whose batch
then lies below twice its phase's batch — e.g. 315 → 590 on a long Seesaw run), so batches never
decrease and no small, noisy step ends the run; with ``remainder="separate"`` it stays a step of its
own, so no batch exceeds its phase's batch (a remainder above the phase's batch, or one below one
sample together with the step before, is split into two steps of at least one sample each; only a
last step under two samples can exceed its phase's batch, by less than one sample).

Batch rounding (``rounding=``):

- ``"exact"``: real batches ``B_0 f^{pk}`` (``Schedule(..., integer_batch=False)``) for theory;
- ``"floor"``: ``⌊B_0 f^{pk}⌋``; ``"nearest"``: ``⌊B_0 f^{pk} + ½⌋``;
- ``"released"``: the reference code's rule: ``⌊B⌋``, except ``⌈B⌉`` when ``⌊B⌋ mod 32 = 1``.

In the integer modes a real batch within a relative ``1e-12`` of an integer is that integer (so
``100 · 1.1²`` is 121, not 120), and the base's horizon must be a whole number of samples.

Bounded work. Milestones are level crossings in closed form (:meth:`theory.LRShape.crossing`),
evaluated on demand: the schedule is built phase by phase as constant segments, and a step that
crosses many milestones jumps straight to the phase of its end (a search started from the base
rate there), so the work grows with the number of segments of the output, never with the number
of levels or of steps. A factor so close to 1 that every step crosses milestones gives one segment
per step (the continuous limit); a build that would need more than :data:`MAX_SEGMENTS` segments,
or a warmup of more than :data:`MAX_WARMUP_STEPS` steps (each at its own rate), raises a
``ValueError`` naming the argument instead. A base that decays to 0 crosses infinitely many
levels: levels below ``1e-12 η_0`` are not milestones (docs/math.md#seesaw-rule).

The continuous limit (:func:`continuous_seesaw`) uses ``B(τ) = B_0 (η_0/η_base(τ))^p`` and
``η(τ) = η_0 (η_base(τ)/η_0)^{1 − p/2}`` at the first sample of every step.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .._limits import MAX_MILESTONES, MAX_SEESAW_STEPS, MAX_SEGMENTS, MAX_WARMUP_STEPS
from .._validate import choice, finite_real, positive_real
from ._lr_shapes import LRShape
from ._milestones import (
    INTEGER_RTOL,
    MIN_LEVEL,
    Milestones,
    PhaseValues,
    check_base,
    check_cap,
    check_factor,
    check_p,
    first_true,
)
from ._schedule import Schedule

__all__ = [
    "ROUNDINGS",
    "continuous_seesaw",
    "milestones",
    "phase_batches",
    "phase_learning_rates",
    "round_batch",
    "seesaw_schedule",
]

ROUNDINGS = ("exact", "floor", "nearest", "released")
REMAINDERS = ("merge", "separate")  # what seesaw_schedule does with the last, smaller step


# Relative slack for a step that starts on a milestone up to rounding of the cumulative sample count.
_BOUNDARY_RTOL = 1e-12
# Schedule metadata lists the milestones (a tuple) up to this many, and the phase of every step up
# to this many steps.
_LISTED_MILESTONES = 2**16
_LISTED_STEPS = 2**22


def _check_phases(phases: Any) -> int:
    if isinstance(phases, bool) or not isinstance(phases, (int, np.integer)) or phases < 1:
        raise ValueError(f"phases must be a positive integer; got {phases!r}")
    if phases > MAX_MILESTONES:
        raise ValueError(f"phases must be at most MAX_MILESTONES = {MAX_MILESTONES}; got {phases!r}")
    return int(phases)


def round_batch(batch: float, rounding: str = "exact") -> float | int:
    """Apply a batch rounding policy (see the module docstring) to one real batch size ``≥ 1``.

    Parameters
    ----------
    batch : float
        Real batch size (samples), finite and ``≥ 1``.
    rounding : {"exact", "floor", "nearest", "released"}

    Returns
    -------
    float or int
        ``batch`` itself for ``"exact"``, else an int (docs/math.md#seesaw-rule).

    Examples
    --------
    >>> [round_batch(b, "floor") for b in (121.00000000000001, 120.99999999999999, 33.7)]
    [121, 121, 33]
    >>> round_batch(33.7, "released"), round_batch(34.2, "released"), round_batch(2.5, "nearest")
    (34, 34, 3)
    >>> round_batch(2.5)
    2.5
    """
    b = finite_real(batch, "batch", minimum=1.0)
    rounding = choice(rounding, "rounding", ROUNDINGS)
    if rounding == "exact":
        return b
    if rounding == "nearest":
        return int(math.floor(b + 0.5))
    if b >= 2.0**52:  # every float this large is a whole number
        return int(b)
    low = int(math.floor(b * (1.0 + INTEGER_RTOL)))
    if rounding == "released" and low % 32 == 1 and low < b:
        return low + 1
    return low


def milestones(
    base: LRShape, factor: float, *, min_level: float = MIN_LEVEL, max_count: int = MAX_MILESTONES
) -> np.ndarray:
    """Sample counts ``τ_k`` where the base first falls to ``η_0 f^{−k}``, ``k = 1, 2, …``.

    Only milestones strictly inside the horizon are returned (a milestone at the very end changes
    no step). A base that decays to 0 crosses infinitely many levels; levels below
    ``min_level · η_0`` are dropped (their phases hold under ``min_level`` of the horizon's serial
    steps and, in a schedule, fit in the last step). Counting them costs ``O(log count)`` crossings
    (docs/math.md#seesaw-rule); listing them costs one crossing each.

    Parameters
    ----------
    base : LRShape
    factor : float
        ``f > 1``.
    min_level : float, default 1e-12
        Smallest relative level ``f^{−k}`` considered, in ``(0, 1)``.
    max_count : int, default MAX_MILESTONES
        Most milestones listed; more raise a ``ValueError``.

    Returns
    -------
    numpy.ndarray, shape (count,)
        Increasing sample counts.

    Raises
    ------
    ValueError
        For ``factor ≤ 1``, ``min_level`` outside ``(0, 1)``, or more than ``max_count`` milestones
        (a factor very close to 1).

    Examples
    --------
    Linear decay to zero, halvings: ``1 − τ/100 = 2^{−k}``.

    >>> from ramplab.theory.schedules import Linear, WarmupCosine
    >>> milestones(Linear(1.0, 100), 2.0, min_level=0.1).tolist()
    [50.0, 75.0, 87.5]
    >>> len(milestones(WarmupCosine(1.0, 1000), 1.1))   # floor 0.1: 1.1^{−24} > 0.1 > 1.1^{−25}
    24
    """
    base = check_base(base)
    f = check_factor(factor)
    min_level = finite_real(min_level, "min_level")
    if not 0.0 < min_level < 1.0:
        raise ValueError(f"min_level must lie in (0, 1); got {min_level!r}")
    if isinstance(max_count, bool) or not isinstance(max_count, (int, np.integer)) or max_count < 0:
        raise ValueError(f"max_count must be a non-negative integer; got {max_count!r}")
    ms = Milestones(base, f, min_level)
    if ms.count > max_count:
        raise ValueError(
            f"factor={factor!r} gives {ms.count} milestones above min_level={min_level!r} inside the "
            f"horizon, more than max_count={max_count}; use a larger factor or min_level"
        )
    return ms.listed()


def phase_batches(
    initial_batch: float, factor: float, phases: int, *, p: float = 1.0, batch_cap: float | None = None
) -> np.ndarray:
    """Real batch ``B_k = B_0 f^{p j_k}`` of phases ``k = 0 … phases−1``; ``j_k = k`` until the cap.

    With ``batch_cap`` the batch grows only while ``B_0 f^{pk} ≤ batch_cap`` (whole factors only);
    later milestones are taken by the learning rate (:func:`phase_learning_rates`,
    docs/math.md#seesaw-rule).

    Parameters
    ----------
    initial_batch : float
        ``B_0 ≥ 1`` (samples).
    factor : float
        ``f > 1``.
    phases : int
        Number of phases, ``1 … MAX_MILESTONES``.
    p : float, default 1.0
    batch_cap : float, optional

    Returns
    -------
    numpy.ndarray, shape (phases,)

    Raises
    ------
    ValueError
        For bad arguments, or a batch that overflows float64 (``factor`` too large for ``phases``).

    Examples
    --------
    >>> phase_batches(4, 2.0, 5).tolist(), phase_batches(4, 2.0, 5, batch_cap=20).tolist()
    ([4.0, 8.0, 16.0, 32.0, 64.0], [4.0, 8.0, 16.0, 16.0, 16.0])
    """
    b0 = finite_real(initial_batch, "initial_batch", minimum=1.0)
    f, p = check_factor(factor), check_p(p)
    n = _check_phases(phases)
    values = PhaseValues(1.0, b0, f, p, check_cap(batch_cap, b0))
    out = np.array([values.batch(k) for k in range(n)], dtype=np.float64)
    if not math.isfinite(out[-1]):
        k = int(np.argmax(~np.isfinite(out)))
        raise ValueError(
            f"factor={factor!r} makes the batch of phase {k} overflow float64 (initial_batch={b0!r}, p={p!r})"
        )
    return out


def phase_learning_rates(
    peak: float,
    factor: float,
    phases: int,
    *,
    p: float = 1.0,
    initial_batch: float = 1.0,
    batch_cap: float | None = None,
) -> np.ndarray:
    """Learning rate of phases ``k = 0 … phases−1``: ``η_0 f^{−(1 − p/2) j_k − (k − j_k)}``.

    ``j_k`` counts the milestones taken by the batch (all of them without a cap), so that
    ``η_k / sqrt(B_k) = (η_0 / sqrt(B_0)) f^{−k}`` always (docs/math.md#seesaw-rule). Rates too
    small for float64 are 0.

    Parameters
    ----------
    peak : float
        ``η_0 > 0``, the rate of phase 0.
    factor : float
        ``f > 1``, the base's decay between milestones.
    phases : int
        Number of phases (``≥ 1``).
    p : float, default 1.0
        Batch exponent (the batch grows by ``f^p`` per milestone).
    initial_batch : float, default 1.0
        ``B_0 ≥ 1`` (matters only with a cap).
    batch_cap : float, optional
        Largest batch; past it the milestones cut the rate by ``f`` instead.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(phases,)``.

    Examples
    --------
    >>> phase_learning_rates(1.0, 4.0, 3).tolist()
    [1.0, 0.5, 0.25]
    >>> phase_learning_rates(1.0, 4.0, 3, initial_batch=4, batch_cap=16).tolist()
    [1.0, 0.5, 0.125]
    """
    peak = positive_real(peak, "peak")
    f, p = check_factor(factor), check_p(p)
    b0 = finite_real(initial_batch, "initial_batch", minimum=1.0)
    n = _check_phases(phases)
    values = PhaseValues(peak, b0, f, p, check_cap(batch_cap, b0))
    return np.array([values.lr(k) for k in range(n)], dtype=np.float64)


# ---------------------------------------------------------------------------- construction
def _total_samples(base: LRShape, rounding: str) -> float:
    total = base.total_samples
    if total < 1.0:
        raise ValueError(
            f"base.total_samples must be ≥ 1 (a schedule takes at least one batch ≥ 1); got {total!r}"
        )
    if rounding != "exact" and not float(total).is_integer():
        raise ValueError(
            f"an integer batch rounding needs a whole number of samples; base.total_samples is {total!r}"
        )
    return total


def _check_step_count(total: float, b0: float) -> None:
    if total / b0 >= MAX_SEESAW_STEPS:
        raise ValueError(
            f"the schedule would take about {total / b0:.3g} steps, more than 2**62; use a larger "
            f"initial_batch (got {b0!r}) or fewer base.total_samples (got {total!r})"
        )


def _too_many_segments(what: str, b0: float, factor: float | None) -> ValueError:
    hint = f"a larger factor (got {factor!r}), " if factor is not None else ""
    return ValueError(
        f"{what} would need more than MAX_SEGMENTS = {MAX_SEGMENTS} constant segments; use {hint}"
        f"a larger initial_batch (got {b0!r}) or fewer base.total_samples"
    )


def _warmup_steps(pos: float, b: float, n: int, warm_end: float) -> int:
    """How many of the ``n`` steps at ``pos + i·b`` start before ``warm_end``."""
    if not pos < warm_end:
        return 0
    m = min(n, math.ceil((warm_end - pos) / b))
    while m > 0 and pos + b * (m - 1) >= warm_end:
        m -= 1
    while m < n and pos + b * m < warm_end:
        m += 1
    return m


def _sequential_starts(pos: float, b: float, n: int, end: float) -> tuple[int, float, np.ndarray | None]:
    """Steps of batch ``b`` from ``pos`` that start before ``end`` (``n`` estimates their number).

    Returns ``(count, position after them, their starts)``. Up to ``2**22`` steps the starts are the
    running float sum, exactly as :attr:`Schedule.samples_before` will compute them, so a step's
    value belongs to its recorded start even next to a jump of the base; beyond, ``pos + i·b``
    (starts ``None``).
    """
    if n > _LISTED_STEPS:
        return n, pos + n * b, None
    run = np.cumsum(np.concatenate(([pos], np.full(n + 2, b))))
    count = int(np.searchsorted(run, end, side="left"))  # starts run[0 … count−1] lie before end
    count = min(count, n + 2)
    return count, float(run[count]), run[:count]


def _schedule_sum(batch: np.ndarray, steps: np.ndarray, integer: bool) -> float:
    """The samples of the steps ``(batch, steps)`` summed as :attr:`Schedule.total_samples` sums them."""
    if batch.shape[0] == 0:
        return 0.0
    if integer:
        return float(sum(int(b) * int(n) for b, n in zip(batch, steps)))
    count = int(steps.sum())
    if count > _LISTED_STEPS:  # per-step sums would cost O(steps): an accurate sum instead
        return math.fsum(float(b) * int(n) for b, n in zip(batch, steps))
    return float(np.cumsum(np.repeat(batch, steps))[-1])


class _Runs:
    """Constant runs ``(lr, batch, steps, phase)`` collected in order; O(1) per run appended."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []
        self.lr: list[float] = []
        self.batch: list[float] = []
        self.steps: list[int] = []
        self.phase: list[int] = []

    def add(self, lr: float, batch: float, steps: int, phase: int) -> None:
        self.lr.append(lr)
        self.batch.append(batch)
        self.steps.append(steps)
        self.phase.append(phase)

    def add_single_steps(self, lr: np.ndarray, batch: float, phase: int) -> None:
        """One step per entry of ``lr`` (warmup steps, each at its own rate)."""
        self._flush()
        n = lr.shape[0]
        self.parts.append((lr.astype(np.float64), np.full(n, batch), np.ones(n, dtype=np.int64),
                           np.full(n, phase, dtype=np.int64)))

    def _flush(self) -> None:
        if self.lr:
            self.parts.append((np.array(self.lr, dtype=np.float64), np.array(self.batch, dtype=np.float64),
                               np.array(self.steps, dtype=np.int64), np.array(self.phase, dtype=np.int64)))
            self.lr, self.batch, self.steps, self.phase = [], [], [], []

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        self._flush()
        lr, batch, steps, phase = (np.concatenate(x) for x in zip(*self.parts))
        return lr, batch, steps, phase


def _finish(runs: _Runs, total: float, integer: bool,
            merge: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """End exactly at ``total`` samples; a last step smaller than the one before joins that step.

    Works on segments (``lr``, ``batch``, ``steps``, ``phase`` per constant run). The last step
    takes what the others leave, measured the way :attr:`Schedule.total_samples` sums. With
    ``merge`` it joins the step before when it is smaller than that step's batch (beyond rounding);
    it always joins when below 1 sample. Merging keeps the batch sequence non-decreasing to the end
    and avoids one small, noisy step.
    """
    lr_a, batch_a, steps_a, phase_a = runs.arrays()
    # Split the last step off its segment: segments (..., last).
    if steps_a[-1] > 1:
        steps_a[-1] -= 1
        lr_a, batch_a = np.append(lr_a, lr_a[-1]), np.append(batch_a, batch_a[-1])
        steps_a, phase_a = np.append(steps_a, 1), np.append(phase_a, phase_a[-1])
    rest = total - _schedule_sum(batch_a[:-1], steps_a[:-1], integer)
    if batch_a.shape[0] > 1 and ((merge and rest < batch_a[-2] * (1.0 - _BOUNDARY_RTOL)) or rest < 1.0):
        # Merge into the step before: split it off its segment too, then give it the remainder. The
        # true remainder is positive, so a merged batch below the step's own is rounding: clamp.
        lr_a, batch_a, steps_a, phase_a = lr_a[:-1], batch_a[:-1], steps_a[:-1], phase_a[:-1]
        if steps_a[-1] > 1:
            steps_a[-1] -= 1
            lr_a, batch_a = np.append(lr_a, lr_a[-1]), np.append(batch_a, batch_a[-1])
            steps_a, phase_a = np.append(steps_a, 1), np.append(phase_a, phase_a[-1])
        batch_a[-1] = max(batch_a[-1] + rest, batch_a[-1])
        if not merge and rest > 0.0 and batch_a[-1] >= 2.0 and not integer:
            # remainder="separate" with under a sample left: the step and the rest as two equal halves,
            # each at most the phase's batch (and at least one sample).
            half = batch_a[-1] / 2.0
            batch_a[-1] = half
            lr_a, batch_a = np.append(lr_a, lr_a[-1]), np.append(batch_a, half)
            steps_a, phase_a = np.append(steps_a, 1), np.append(phase_a, phase_a[-1])
    elif not merge and rest > batch_a[-1] * (1.0 + _BOUNDARY_RTOL) and rest >= 2.0:
        # The last phase's step count leaves up to half a step of slack, so the remainder can exceed the
        # phase's batch: a full step of that batch and the rest, or, when the rest would be below one
        # sample, two halves (each at most the batch, since the remainder is under the batch + 1).
        b = batch_a[-1]
        first, second = (b, rest - b) if rest - b >= 1.0 else (rest / 2.0, rest / 2.0)
        if integer:
            first, second = float(math.ceil(first)), float(rest - math.ceil(first))
        batch_a[-1] = first
        lr_a, batch_a = np.append(lr_a, lr_a[-1]), np.append(batch_a, second)
        steps_a, phase_a = np.append(steps_a, 1), np.append(phase_a, phase_a[-1])
    else:
        batch_a[-1] = rest
    if integer:
        batch_a = np.round(batch_a)
    return lr_a, batch_a, steps_a, phase_a


def seesaw_schedule(
    base: LRShape,
    initial_batch: float,
    factor: float,
    *,
    p: float = 1.0,
    batch_cap: float | None = None,
    rounding: str = "exact",
    remainder: str = "merge",
    lr_power: float | None = None,
    label: str = "",
) -> Schedule:
    """The Seesaw (or ``p``-family) transform of ``base`` at discretisation factor ``factor``.

    Built as constant segments (:meth:`theory.Schedule.from_segments`): the work grows with the
    number of phases the steps visit (at most the number of steps), not with the number of
    milestones or steps (docs/math.md#seesaw-rule).

    Parameters
    ----------
    base : LRShape
        Base learning-rate shape in samples; its horizon (``≥ 1`` sample) is the transformed
        schedule's.
    initial_batch : float
        ``B_0 ≥ 1`` (used throughout the warmup).
    factor : float
        ``f > 1``: milestones where the base crosses ``η_0 f^{−k}``.
    p : float, default 1.0
        Family position: learning rate × ``f^{−(1−p/2)}`` and batch × ``f^p`` per milestone.
        ``1`` is Seesaw, ``0`` the base's staircase, ``(1, 2]`` beyond the ``α ≥ √β`` bound.
    batch_cap : float, optional
        The batch grows (by whole factors ``f^p``) only up to this size; later milestones divide the
        learning rate by the full ``f``.
    rounding : {"exact", "floor", "nearest", "released"}
        Batch rounding policy (module docstring). ``"exact"`` returns real batches.
    lr_power : float, optional
        ``q``: the rate is multiplied by ``f^{−q}`` at each milestone the batch takes, so one
        milestone is the ``(α, β) = (f^q, f^p)`` step of docs/math.md#equivalence. The default
        ``1 − p/2`` keeps the NSGD temperature ``η/√B`` on the base's staircase (Seesaw for
        ``p = 1``); ``p=1, lr_power=0`` is Seesaw's "fixed LR" arm ``(1, f)`` (the rate held, the
        batch × ``f``), which leaves that staircase.
    remainder : {"merge", "separate"}, default "merge"
        The last step takes the samples that remain. ``"merge"``: when they are fewer than the
        previous step's batch, they join that step, whose batch then lies between one and two times
        its phase's batch (e.g. 315 → 590), so batches never decrease. ``"separate"``: the remainder
        is a last step of its own, so no step's batch exceeds its phase's batch (what a data
        loader without ``drop_last`` does). A remainder below one sample always merges. Either way the schedule
        consumes exactly the base's samples.
    label : str

    Returns
    -------
    Schedule
        With metadata ``kind="seesaw"``, ``base``, ``factor``, ``p``, ``lr_power`` (the ``q`` used),
        ``batch_cap``, ``rounding``, ``remainder``,
        ``initial_batch``, ``milestone_count``, ``milestones`` (a tuple of sample counts; ``None``
        beyond 65536 milestones), ``phase_runs`` (``(phase, steps)`` int64 arrays: the phase index
        of each run of steps) and ``phase_of_step`` (phase index of every step; ``None`` beyond
        2**22 steps).

    Raises
    ------
    ValueError
        For bad arguments, or an output of more than :data:`MAX_SEGMENTS` segments (a factor so
        close to 1, and a horizon so long, that over a million steps each start a new phase) or of
        more than :data:`MAX_WARMUP_STEPS` warmup steps.

    Examples
    --------
    Linear decay to zero over 64 samples, halvings, ``B_0 = 4``. The step that starts at the
    milestone 48 takes the last 16 samples, crossing (and consuming) the milestones 56, 60, 62, …:

    >>> from ramplab.theory.schedules import Linear
    >>> s = seesaw_schedule(Linear(1.0, 64), 4, 2.0, rounding="floor")
    >>> s.metadata["milestones"][:4]
    (32.0, 48.0, 56.0, 60.0)
    >>> s.batch.tolist(), s.total_samples
    ([4, 4, 4, 4, 4, 4, 4, 4, 8, 8, 16], 64)
    >>> s.lr[7:].round(4).tolist()
    [1.0, 0.7071, 0.7071, 0.5]

    The remainder: over 100 samples a step of 16 leaves 8, merged into it by default, a step of
    its own with ``remainder="separate"``:

    >>> seesaw_schedule(Linear(1.0, 100), 4, 2.0, rounding="floor").batch.tolist()[-3:]
    [8, 8, 24]
    >>> seesaw_schedule(Linear(1.0, 100), 4, 2.0, rounding="floor", remainder="separate").batch.tolist()[-3:]
    [8, 16, 8]
    """
    base = check_base(base)
    f, p = check_factor(factor), check_p(p)
    rounding = choice(rounding, "rounding", ROUNDINGS)
    remainder = choice(remainder, "remainder", REMAINDERS)
    q = None if lr_power is None else finite_real(lr_power, "lr_power")
    b0 = finite_real(initial_batch, "initial_batch", minimum=1.0)
    cap = check_cap(batch_cap, b0)
    if not isinstance(label, str):
        raise TypeError(f"label must be a string; got {label!r}")
    total = _total_samples(base, rounding)
    _check_step_count(total, b0)
    ms = Milestones(base, f, MIN_LEVEL)
    last = ms.count  # phases 0 … last; phase k ends at τ_{k+1} (the last at the horizon)
    values = PhaseValues(base.peak, b0, f, p, cap, q)
    warm_end = base.warmup_samples

    def phase_end(k: int) -> float:
        return total if k >= last else ms.tau(k + 1)

    def still_ahead(pos: float) -> Callable[[int], bool]:
        # Phase k is skipped when a step crossed it entirely (its milestone consumed too).
        return lambda k: pos < phase_end(k) * (1.0 - _BOUNDARY_RTOL)

    runs = _Runs()
    exact = rounding == "exact"
    pos, k, n_runs, warm_steps = 0.0, 0, 0, 0
    while True:
        # The phase of pos, counting the milestones within the rounding slack before it as crossed.
        guess = ms.phase_guess(min(pos / (1.0 - _BOUNDARY_RTOL), total))
        k = first_true(still_ahead(pos), k, last, max(k, guess))
        end = phase_end(k)
        b_real = values.batch(k)
        if b_real >= total - pos:
            b, n = total - pos, 1  # the last step (_finish gives it the exact remainder)
        else:
            b = b_real if exact else float(round_batch(b_real, rounding))
            # A step ending on the milestone up to rounding does not start another one (slack at
            # most half a step: only beyond 5·10^11 steps per phase does the cap act).
            slack = min(0.5, _BOUNDARY_RTOL * max(1.0, end / b))
            n = max(1, math.ceil((end - pos) / b - slack))
        lr_k = values.lr(k)
        nw = _warmup_steps(pos, b, n, warm_end) if pos < warm_end else 0
        if nw:  # steps that start inside the warmup run at the base rate
            warm_steps += nw
            if warm_steps > MAX_WARMUP_STEPS:
                raise ValueError(
                    f"the warmup ({warm_end!r} samples) would take more than MAX_WARMUP_STEPS = "
                    f"{MAX_WARMUP_STEPS} steps, each with its own rate; use a larger initial_batch "
                    f"(got {b0!r})"
                )
            runs.add_single_steps(base(pos + b * np.arange(nw, dtype=np.float64)), b, k)
        if n > nw:
            runs.add(lr_k, b, n - nw, k)
        n_runs += 1
        if n_runs > MAX_SEGMENTS:
            raise _too_many_segments("seesaw_schedule", b0, f)
        pos = pos + n * b
        if pos >= total or k >= last:  # past the last phase, _finish hands the rest to the last step
            break
        k += 1
    lr, batch, steps, phase = _finish(runs, total, rounding != "exact", merge=remainder == "merge")
    n_steps = int(steps.sum())
    phase_of_step = np.repeat(phase, steps) if n_steps <= _LISTED_STEPS else None
    for arr in (phase, steps) + ((phase_of_step,) if phase_of_step is not None else ()):
        arr.flags.writeable = False
    meta = {"kind": "seesaw", "base": base, "factor": f, "p": p, "lr_power": values.q, "batch_cap": batch_cap,
            "rounding": rounding, "remainder": remainder, "initial_batch": b0, "milestone_count": ms.count,
            "milestones": tuple(ms.listed().tolist()) if ms.count <= _LISTED_MILESTONES else None,
            "phase_runs": (phase, steps), "phase_of_step": phase_of_step}
    return Schedule.from_segments(lr, batch, steps, label=label, metadata=meta,
                                  integer_batch=rounding != "exact")


def _continuous_values(g: float, rate: float, peak: float, b0: float, p: float,
                       cap: float | None) -> tuple[float, float]:
    """Batch and rate of the continuous limit at the relative base rate ``g = η_base/η_0 ≥ 0``."""
    if p == 0.0:
        b = b0
    elif g > 0.0:
        try:
            b = b0 * g**-p
        except OverflowError:
            b = math.inf
    else:  # the base has decayed to 0 (possibly by rounding before the horizon): unbounded batch
        b = math.inf
    if cap is not None and b > cap:
        return cap, rate * math.sqrt(cap / b0)  # keeps η/√B = η_base/√B_0
    return b, peak * g ** (1.0 - 0.5 * p)


def continuous_seesaw(
    base: LRShape,
    initial_batch: float,
    *,
    p: float = 1.0,
    batch_cap: float | None = None,
    rounding: str = "exact",
    label: str = "",
) -> Schedule:
    """The continuous-limit transform: batch ``B_0 (η_0/η_base)^p``, rate ``η_0 (η_base/η_0)^{1−p/2}``.

    Each step uses the values at its first sample; the warmup is unchanged (``B_0``, base rate).
    With ``batch_cap`` the batch stops at the cap and the rate keeps ``η/√B = η_base/√B_0``.
    The construction is sequential (a step's batch decides where the next one starts): one
    iteration per step, except on stretches where the base is constant (a stable phase, a step
    decay's plateau), which become one segment (docs/math.md#seesaw-rule). Where the base rate has
    reached 0 before the horizon the batch is unbounded: the step takes the remaining samples.

    Parameters
    ----------
    base : LRShape
        Base learning-rate shape in samples (horizon ``≥ 1`` sample).
    initial_batch : float
        ``B_0 ≥ 1`` (samples), used throughout the warmup.
    p : float, default 1.0
        Family position in ``[0, 2]`` (as in :func:`seesaw_schedule`).
    batch_cap : float, optional
        Largest batch (samples), ``≥ initial_batch``.
    rounding : {"exact", "floor", "nearest", "released"}
    label : str

    Returns
    -------
    Schedule
        With metadata ``kind="continuous_seesaw"``, ``base``, ``p``, ``batch_cap``, ``rounding``,
        ``initial_batch``.

    Raises
    ------
    ValueError
        For bad arguments, or more than :data:`MAX_SEGMENTS` steps of distinct values (raise
        ``initial_batch``, or use :func:`seesaw_schedule` with a factor) or more than
        :data:`MAX_WARMUP_STEPS` warmup steps.

    Examples
    --------
    >>> from ramplab.theory.schedules import Linear
    >>> s = continuous_seesaw(Linear(1.0, 100), 10)
    >>> s.batch.round(4).tolist()    # 10 / (1 − τ/100) at τ = 0, 10, 21.11, …
    [10.0, 11.1111, 12.6761, 15.1028, 19.5656, 31.5444]
    >>> s.lr.round(4).tolist()       # sqrt(1 − τ/100)
    [1.0, 0.9487, 0.8882, 0.8137, 0.7149, 0.5616]
    """
    base = check_base(base)
    p = check_p(p)
    rounding = choice(rounding, "rounding", ROUNDINGS)
    b0 = finite_real(initial_batch, "initial_batch", minimum=1.0)
    cap = check_cap(batch_cap, b0)
    if not isinstance(label, str):
        raise TypeError(f"label must be a string; got {label!r}")
    total = _total_samples(base, rounding)
    _check_step_count(total, b0)
    peak, warm_end = base.peak, min(base.warmup_samples, total)
    runs = _Runs()
    pos = 0.0
    if warm_end > 0.0:  # the warmup: B_0 and the base rate, one array
        bw = float(round_batch(b0, rounding))
        nw = _warmup_steps(0.0, bw, math.ceil(warm_end / bw) + 1, warm_end)
        if nw > MAX_WARMUP_STEPS:
            raise ValueError(
                f"the warmup ({warm_end!r} samples) would take {nw} steps, more than MAX_WARMUP_STEPS = "
                f"{MAX_WARMUP_STEPS}, each with its own rate; use a larger initial_batch (got {b0!r})"
            )
        nw, pos, starts = _sequential_starts(0.0, bw, nw, warm_end)
        runs.add_single_steps(base(bw * np.arange(nw, dtype=np.float64) if starts is None else starts), bw, 0)
    n_runs = 0
    while pos < total:
        u = pos / total
        rate = base._rate1(u)
        b, lr = _continuous_values(rate / peak, rate, peak, b0, p, cap)
        left = total - pos
        b = float(round_batch(max(min(b, left), 1.0), rounding))  # never past the horizon
        n, after = 1, pos + b
        flat = base._flat_end(u) * total
        if flat > pos and b < left:  # a constant stretch: every step starting there has these values
            end = min(flat, total)
            n, after, _ = _sequential_starts(pos, b, max(1, math.ceil((end - pos) / b)), end)
            n = max(n, 1)
        runs.add(lr, b, n, 0)
        n_runs += 1
        if n_runs > MAX_SEGMENTS:
            raise _too_many_segments("continuous_seesaw", b0, None)
        pos = after
    lr_a, batch_a, steps_a, _ = _finish(runs, total, rounding != "exact")
    meta = {"kind": "continuous_seesaw", "base": base, "p": p, "batch_cap": batch_cap,
            "rounding": rounding, "initial_batch": b0}
    return Schedule.from_segments(lr_a, batch_a, steps_a, label=label, metadata=meta,
                                  integer_batch=rounding != "exact")
