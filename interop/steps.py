"""What a trainer needs from a :class:`~ramplab.theory.Schedule`, step by step, without any framework.

(docs/math.md#torch-interop.) Step ``k`` (0-based) of a schedule is the ``k + 1``-th call of the
trainer's ``optimizer.step()``: it uses the rate ``lr[k]`` and draws ``batch[k]`` samples.

- :func:`learning_rate_at` — ``lr[k]`` for any step count ``k ≥ 0`` (the last rate beyond the
  horizon), read from the schedule's constant segments in ``O(log K)``: a schedule of ``2**40``
  steps is never materialised.
- :func:`batch_sizes` — the integer batch of every step, for a data sampler.
- :func:`torch_momentum` — the heavy-ball ``μ_t`` that ``torch.optim.SGD(momentum=μ)`` applies
  along a schedule, ``μ_t = μ η_t/η_{t−1}``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..theory._limits import MAX_STEP_ARRAY
from ..theory._validate import describe, finite_real, nonnegative_int
from ..theory.schedules import Schedule

__all__ = ["batch_sizes", "learning_rate_at", "torch_momentum"]


def as_schedule(schedule: Any, per_step: bool = False) -> Schedule:
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a Schedule; got {describe(schedule)}")
    if per_step and len(schedule) > MAX_STEP_ARRAY:
        raise ValueError(f"schedule has {len(schedule)} steps, more than MAX_STEP_ARRAY = {MAX_STEP_ARRAY} per-step "
                         f"values to return")
    return schedule


def learning_rate_at(schedule: Schedule, step: int) -> float:
    """The learning rate of 0-based step ``step``: ``schedule.lr[step]``, or the last rate beyond the horizon.

    Parameters
    ----------
    schedule : Schedule
    step : int
        Steps already taken (``≥ 0``); torch's scheduler epoch and optax's step count.

    Returns
    -------
    float
        The rate, bit for bit the schedule's; ``lr[T − 1]`` for ``step ≥ T`` (a trainer's
        scheduler is usually advanced once more after the last step).

    Raises
    ------
    TypeError, ValueError
        For a ``schedule`` that is not a Schedule, or a ``step`` that is not a non-negative integer.

    See Also
    --------
    ramplab.interop.torch_scheduler, ramplab.interop.optax_schedule

    Examples
    --------
    >>> s = Schedule([0.1, 0.1, 0.05], [2, 2, 4])
    >>> [learning_rate_at(s, k) for k in range(5)]
    [0.1, 0.1, 0.05, 0.05, 0.05]
    """
    schedule = as_schedule(schedule)
    step = nonnegative_int(step, "step")
    segments = schedule.segments
    ends = np.cumsum(segments.steps)
    index = min(int(np.searchsorted(ends, step, side="right")), ends.size - 1)
    return float(segments.lr[index])


def batch_sizes(schedule: Schedule) -> np.ndarray:
    """The batch of every step as int64, shape (T,), in samples: what a data sampler draws at each step.

    Parameters
    ----------
    schedule : Schedule
        Its batches must be whole numbers (a real-batch family member or Seesaw with
        ``rounding="exact"`` is refused: round it first, e.g. ``rounding="floor"``).

    Returns
    -------
    ndarray of int64, shape (T,)
        The batches as the schedule holds them. A Seesaw schedule's last step is its remainder:
        by default (``seesaw_schedule(..., remainder="merge")``) a remainder smaller than the batch
        before it is merged into that step, so the last batch can be up to twice its phase's batch
        (e.g. 315 → 590); ``remainder="separate"`` keeps it a smaller step of its own instead.

    Raises
    ------
    TypeError
        For a ``schedule`` that is not a Schedule.
    ValueError
        For a fractional batch (naming the step), or a schedule longer than ``MAX_STEP_ARRAY``
        steps (from :attr:`Schedule.batch`).

    Examples
    --------
    >>> batch_sizes(Schedule([0.1, 0.1, 0.05], [2, 2, 4])).tolist()
    [2, 2, 4]
    """
    schedule = as_schedule(schedule, per_step=True)
    batch = np.asarray(schedule.batch, dtype=np.float64)
    frac = batch != np.round(batch)
    if frac.any():
        i = int(np.argmax(frac))
        raise ValueError(f"schedule must have whole-number batches for a data sampler; batch is {float(batch[i])!r} "
                         f"at step {i + 1} (round the schedule, e.g. seesaw_schedule(..., rounding='floor'))")
    return np.round(batch).astype(np.int64)


def torch_momentum(schedule: Schedule, momentum: float) -> np.ndarray:
    """The heavy-ball ``μ_t`` that ``torch.optim.SGD(momentum=μ)`` applies along ``schedule``, shape (T,).

    torch keeps ``b_t = μ b_{t−1} + g_t`` and steps ``w_t = w_{t−1} − η_t b_t``; while the rate is
    positive this is heavy ball ``w_t = w_{t−1} − η_t g_t + μ_t (w_{t−1} − w_{t−2})`` with
    ``μ_t = μ η_t/η_{t−1}`` (docs/math.md#torch-interop). Entry ``k`` belongs to 0-based step ``k``
    (indexed like ``schedule.lr``), the convention of ``simulate(..., HeavyBall(μ_t))`` and of the
    exact momentum solver. Entry 0 multiplies ``w_0 − w_{−1} = 0`` and is set to ``μ``; a zero-rate
    step gets 0.

    Parameters
    ----------
    schedule : Schedule
    momentum : float
        torch's ``momentum`` ``μ`` in ``[0, 1)`` (with ``dampening=0``, ``nesterov=False``).

    Returns
    -------
    ndarray of float64, shape (T,)
        ``μ_t``; above ``μ`` where the rate grows (a warmup: it may exceed 1), below after a decay.

    Raises
    ------
    TypeError, ValueError
        For a ``schedule`` that is not a Schedule or a ``momentum`` outside ``[0, 1)``; and,
        naming ``schedule.lr``, for a positive rate after a zero one with ``μ > 0``: torch's buffer then
        still holds gradients that the zero-rate steps never applied, which no heavy ball
        reproduces.

    Examples
    --------
    >>> s = Schedule([0.1, 0.1, 0.05, 0.1], [1, 1, 1, 1])
    >>> torch_momentum(s, 0.9).round(12).tolist()
    [0.9, 0.9, 0.45, 1.8]
    """
    schedule = as_schedule(schedule, per_step=True)
    mu = finite_real(momentum, "momentum", minimum=0.0)
    if mu >= 1.0:
        raise ValueError(f"momentum must lie in [0, 1); got {describe(momentum)}")
    lr = np.asarray(schedule.lr, dtype=np.float64)
    out = np.empty_like(lr)
    out[0] = mu
    if lr.size > 1:
        prev, cur = lr[:-1], lr[1:]
        if mu > 0:
            bad = (prev == 0) & (cur > 0)
            if bad.any():
                k = int(np.argmax(bad))  # 0-based step of the zero rate
                raise ValueError(f"schedule.lr is 0 at step {k} and positive at step {k + 1} (0-based): "
                                 f"torch's momentum "
                                 f"buffer keeps the gradients of zero-rate steps, which no heavy-ball momentum "
                                 f"reproduces")
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ratio = np.where(cur > 0, mu * cur / np.where(prev > 0, prev, 1.0), 0.0)
        if not np.all(np.isfinite(ratio)):
            k = int(np.argmax(~np.isfinite(ratio))) + 1
            raise ValueError(f"schedule.lr grows too fast for float64 between steps {k} and {k + 1}: "
                             f"μ η_t/η_(t−1) overflows")
        out[1:] = ratio
    return out
