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
exactly the base's samples: the last step takes what remains, and when that is less than the batch
of the step before, it is merged into that step (whose batch then lies below twice its phase's
batch), so batches never decrease.

Batch rounding (``rounding=``):

- ``"exact"``: real batches ``B_0 f^{pk}`` (``Schedule(..., integer_batch=False)``) for theory;
- ``"floor"``: ``⌊B_0 f^{pk}⌋``; ``"nearest"``: ``⌊B_0 f^{pk} + ½⌋``;
- ``"released"``: the reference code's rule: ``⌊B⌋``, except ``⌈B⌉`` when ``⌊B⌋ mod 32 = 1``.

In the integer modes a real batch within a relative ``1e-12`` of an integer is that integer (so
``100 · 1.1²`` is 121, not 120), and the base's horizon must be a whole number of samples.

The continuous limit (:func:`continuous_seesaw`) uses ``B(τ) = B_0 (η_0/η_base(τ))^p`` and
``η(τ) = η_0 (η_base(τ)/η_0)^{1 − p/2}`` at the first sample of every step.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validate import finite_real
from .lr_shapes import LRShape
from .schedule import Schedule

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

# Relative slack for "this real batch is really an integer" and for a step that starts on a
# milestone up to rounding of the cumulative sample count.
_INTEGER_RTOL = 1e-12
_BOUNDARY_RTOL = 1e-12


def _check_base(base: Any) -> LRShape:
    if not isinstance(base, LRShape):
        raise TypeError(f"base must be an LRShape; got {type(base).__name__}")
    return base


def _check_factor(factor: Any) -> float:
    f = finite_real(factor, "factor")
    if not f > 1.0:
        raise ValueError(f"factor must be > 1; got {f!r}")
    return f


def _check_p(p: Any) -> float:
    p = finite_real(p, "p")
    if not 0.0 <= p <= 2.0:
        raise ValueError(f"p must lie in [0, 2] (p = 1 is Seesaw); got {p!r}")
    return p


def _check_cap(batch_cap: Any, initial_batch: float) -> float | None:
    if batch_cap is None:
        return None
    cap = finite_real(batch_cap, "batch_cap")
    if cap < initial_batch:
        raise ValueError(f"batch_cap must be ≥ initial_batch ({initial_batch!r}); got {cap!r}")
    return cap


def _check_rounding(rounding: Any) -> str:
    if rounding not in ROUNDINGS:
        raise ValueError(f"rounding must be one of {ROUNDINGS}; got {rounding!r}")
    return rounding


def round_batch(batch: float, rounding: str = "exact") -> float | int:
    """Apply a batch rounding policy (see the module docstring) to one real batch size ``≥ 1``.

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
    rounding = _check_rounding(rounding)
    if rounding == "exact":
        return b
    if rounding == "nearest":
        return int(math.floor(b + 0.5))
    low = int(math.floor(b * (1.0 + _INTEGER_RTOL)))
    if rounding == "released" and low % 32 == 1 and low < b:
        return low + 1
    return low


def milestones(base: LRShape, factor: float, *, min_level: float = 1e-12) -> np.ndarray:
    """Sample counts ``τ_k`` where the base first falls to ``η_0 f^{−k}``, ``k = 1, 2, …``.

    Only milestones strictly inside the horizon are returned (a milestone at the very end changes
    no step). A base that decays to 0 crosses infinitely many levels; levels below
    ``min_level · η_0`` are dropped (their phases hold under ``min_level`` of the horizon's serial
    steps and, in a schedule, fit in the last step).

    Parameters
    ----------
    base : LRShape
    factor : float
        ``f > 1``.
    min_level : float, default 1e-12
        Smallest relative level ``f^{−k}`` considered.

    Examples
    --------
    Linear decay to zero, halvings: ``1 − τ/100 = 2^{−k}``.

    >>> from ramplab.theory.schedules.lr_shapes import Linear, WarmupCosine
    >>> milestones(Linear(1.0, 100), 2.0, min_level=0.1).tolist()
    [50.0, 75.0, 87.5]
    >>> len(milestones(WarmupCosine(1.0, 1000), 1.1))   # floor 0.1: 1.1^{−24} > 0.1 > 1.1^{−25}
    24
    """
    base = _check_base(base)
    f = _check_factor(factor)
    min_level = finite_real(min_level, "min_level")
    if not 0.0 < min_level < 1.0:
        raise ValueError(f"min_level must lie in (0, 1); got {min_level!r}")
    out: list[float] = []
    k = 1
    while f**-k >= min_level:
        tau = base.crossing(base.peak * f**-k)
        if not tau < base.total_samples:
            break
        out.append(tau)
        k += 1
    return np.array(out, dtype=np.float64)


def phase_batches(
    initial_batch: float, factor: float, phases: int, *, p: float = 1.0, batch_cap: float | None = None
) -> np.ndarray:
    """Real batch ``B_k = B_0 f^{p j_k}`` of phases ``k = 0 … phases−1``; ``j_k = k`` until the cap.

    With ``batch_cap`` the batch grows only while ``B_0 f^{pk} ≤ batch_cap`` (whole factors only);
    later milestones are taken by the learning rate (:func:`phase_learning_rates`).

    Examples
    --------
    >>> phase_batches(4, 2.0, 5).tolist(), phase_batches(4, 2.0, 5, batch_cap=20).tolist()
    ([4.0, 8.0, 16.0, 32.0, 64.0], [4.0, 8.0, 16.0, 16.0, 16.0])
    """
    b0 = finite_real(initial_batch, "initial_batch", minimum=1.0)
    return b0 * _check_factor(factor) ** (_check_p(p) * _growth_count(b0, factor, phases, p, batch_cap))


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
    ``η_k / sqrt(B_k) = (η_0 / sqrt(B_0)) f^{−k}`` always.

    Examples
    --------
    >>> phase_learning_rates(1.0, 4.0, 3).tolist()
    [1.0, 0.5, 0.25]
    >>> phase_learning_rates(1.0, 4.0, 3, initial_batch=4, batch_cap=16).tolist()
    [1.0, 0.5, 0.125]
    """
    peak = finite_real(peak, "peak")
    if peak <= 0:
        raise ValueError(f"peak must be positive; got {peak!r}")
    f, p = _check_factor(factor), _check_p(p)
    b0 = finite_real(initial_batch, "initial_batch", minimum=1.0)
    j = _growth_count(b0, f, phases, p, batch_cap)
    k = np.arange(j.shape[0], dtype=np.float64)
    return peak * f ** (-(1.0 - 0.5 * p) * j - (k - j))


def _growth_count(b0: float, factor: float, phases: Any, p: float, batch_cap: Any) -> np.ndarray:
    """``j_k = min(k, j_cap)``: how many milestones the batch has grown by in phase ``k``."""
    if isinstance(phases, bool) or not isinstance(phases, (int, np.integer)) or phases < 1:
        raise ValueError(f"phases must be a positive integer; got {phases!r}")
    f, p = _check_factor(factor), _check_p(p)
    cap = _check_cap(batch_cap, b0)
    k = np.arange(int(phases), dtype=np.float64)
    if cap is None or p == 0.0:
        return k
    growth = p * math.log(f)
    room = math.log(cap / b0)
    if room >= growth * k[-1]:  # the cap is never reached (also for a vanishing p)
        return k
    j_cap = math.floor(room / growth * (1.0 + _INTEGER_RTOL) + _INTEGER_RTOL)
    return np.minimum(k, float(j_cap))


def _total_samples(base: LRShape, rounding: str) -> float:
    total = base.total_samples
    if rounding != "exact":
        if not float(total).is_integer():
            raise ValueError(
                f"an integer batch rounding needs a whole number of samples; base.total_samples is {total!r}"
            )
    return total


def _finish(
    lr: np.ndarray, batch: np.ndarray, starts: np.ndarray, total: float, rounding: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """End exactly at ``total`` samples; a last step smaller than the one before joins that step.

    Merging (rather than keeping a short last step) keeps the batch sequence non-decreasing to the
    end and avoids one small, noisy step at the end of the run.
    """
    batch = batch.copy()
    # Measured against the same cumulative sum Schedule.samples uses, so the total comes out exact.
    batch[-1] = total - (np.cumsum(batch[:-1])[-1] if batch.shape[0] > 1 else 0.0)
    full = batch[-2] if batch.shape[0] > 1 else math.inf
    if batch.shape[0] > 1 and batch[-1] < full * (1.0 - _BOUNDARY_RTOL):
        batch[-2] += batch[-1]
        lr, batch, starts = lr[:-1], batch[:-1], starts[:-1]
    if rounding != "exact":
        batch = np.round(batch)
    return lr, batch, starts


def seesaw_schedule(
    base: LRShape,
    initial_batch: float,
    factor: float,
    *,
    p: float = 1.0,
    batch_cap: float | None = None,
    rounding: str = "exact",
    label: str = "",
) -> Schedule:
    """The Seesaw (or ``p``-family) transform of ``base`` at discretisation factor ``factor``.

    Parameters
    ----------
    base : LRShape
        Base learning-rate shape in samples; its horizon is the transformed schedule's.
    initial_batch : float
        ``B_0`` (used throughout the warmup).
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
    label : str

    Returns
    -------
    Schedule
        With metadata ``kind="seesaw"``, ``base``, ``factor``, ``p``, ``batch_cap``, ``rounding``,
        ``milestones`` (sample counts) and ``phase_of_step`` (phase index of every step).

    Examples
    --------
    Linear decay to zero over 64 samples, halvings, ``B_0 = 4``. The step that starts at the
    milestone 48 takes the last 16 samples, crossing (and consuming) the milestones 56, 60, 62, …:

    >>> from ramplab.theory.schedules.lr_shapes import Linear
    >>> s = seesaw_schedule(Linear(1.0, 64), 4, 2.0, rounding="floor")
    >>> s.metadata["milestones"][:4]
    (32.0, 48.0, 56.0, 60.0)
    >>> s.batch.tolist(), s.total_samples
    ([4, 4, 4, 4, 4, 4, 4, 4, 8, 8, 16], 64)
    >>> s.lr[7:].round(4).tolist()
    [1.0, 0.7071, 0.7071, 0.5]
    """
    base = _check_base(base)
    f, p = _check_factor(factor), _check_p(p)
    rounding = _check_rounding(rounding)
    b0 = finite_real(initial_batch, "initial_batch", minimum=1.0)
    total = _total_samples(base, rounding)
    taus = milestones(base, f)
    n_phases = taus.shape[0] + 1
    real_batch = phase_batches(b0, f, n_phases, p=p, batch_cap=batch_cap)
    lr_k = phase_learning_rates(base.peak, f, n_phases, p=p, initial_batch=b0, batch_cap=batch_cap)
    batch_k = np.array([round_batch(b, rounding) for b in real_batch], dtype=np.float64)

    ends = np.append(taus, total)
    pos = 0.0
    lr_parts, batch_parts, start_parts, phase_parts = [], [], [], []
    for k in range(n_phases):
        end = ends[k]
        if pos >= end * (1.0 - _BOUNDARY_RTOL) and k < n_phases - 1:
            continue  # a step crossed this phase entirely: its milestone is consumed too
        b = batch_k[k]
        n = max(1, math.ceil((end - pos) / b - _BOUNDARY_RTOL * max(1.0, end / b)))
        starts = pos + b * np.arange(n, dtype=np.float64)
        start_parts.append(starts)
        batch_parts.append(np.full(n, b))
        lr_parts.append(np.full(n, lr_k[k]))
        phase_parts.append(np.full(n, k, dtype=np.int64))
        pos = pos + n * b
        if pos >= total:
            break
    starts = np.concatenate(start_parts)
    lr = np.concatenate(lr_parts)
    phase = np.concatenate(phase_parts)
    warm = starts < base.warmup_samples
    lr[warm] = base(starts[warm])
    lr, batch, starts = _finish(lr, np.concatenate(batch_parts), starts, total, rounding)
    phase = phase[: lr.shape[0]]
    phase.flags.writeable = False
    meta = {"kind": "seesaw", "base": base, "factor": f, "p": p, "batch_cap": batch_cap,
            "rounding": rounding, "initial_batch": b0, "milestones": tuple(taus.tolist()),
            "phase_of_step": phase}
    return Schedule(lr, batch, label=label, metadata=meta, integer_batch=rounding != "exact")


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
    The construction is sequential (a step's batch decides where the next one starts).

    Examples
    --------
    >>> from ramplab.theory.schedules.lr_shapes import Linear
    >>> s = continuous_seesaw(Linear(1.0, 100), 10)
    >>> s.batch.round(4).tolist()    # 10 / (1 − τ/100) at τ = 0, 10, 21.11, …
    [10.0, 11.1111, 12.6761, 15.1028, 19.5656, 31.5444]
    >>> s.lr.round(4).tolist()       # sqrt(1 − τ/100)
    [1.0, 0.9487, 0.8882, 0.8137, 0.7149, 0.5616]
    """
    base = _check_base(base)
    p = _check_p(p)
    rounding = _check_rounding(rounding)
    b0 = finite_real(initial_batch, "initial_batch", minimum=1.0)
    cap = _check_cap(batch_cap, b0)
    total = _total_samples(base, rounding)
    peak, warm_end = base.peak, base.warmup_samples
    starts, lrs, batches = [], [], []
    pos = 0.0
    while pos < total:
        rate = float(base(pos))
        if not rate > 0.0:
            raise ValueError(
                f"the base rate is {rate!r} at {pos!r} samples, before the horizon ends; the "
                f"continuous limit needs a positive base rate there"
            )
        if pos < warm_end:
            b, lr = b0, rate
        else:
            g = rate / peak
            with np.errstate(over="ignore"):
                b = b0 * g**-p
            if cap is not None and b > cap:
                b, lr = cap, rate * math.sqrt(cap / b0)  # keeps η/√B = η_base/√B_0
            else:
                lr = peak * g ** (1.0 - 0.5 * p)
            b = min(b, total - pos)  # never past the horizon (the remainder is merged by _finish)
        b = round_batch(max(b, 1.0), rounding)
        starts.append(pos)
        lrs.append(lr)
        batches.append(b)
        pos += b
    lr_arr, batch_arr, _ = _finish(np.array(lrs), np.array(batches, dtype=np.float64),
                                   np.array(starts), total, rounding)
    meta = {"kind": "continuous_seesaw", "base": base, "p": p, "batch_cap": batch_cap,
            "rounding": rounding, "initial_batch": b0}
    return Schedule(lr_arr, batch_arr, label=label, metadata=meta, integer_batch=rounding != "exact")
