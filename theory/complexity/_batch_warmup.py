"""A batch warmup that grows the batch as the local critical batch grows (docs/math.md#local-critical-batch-warmup).

Merrill et al. (2025, arXiv 2505.23971) observe that the local critical batch is small early in training and grows,
and propose to warm the batch up with it. On noisy linear regression the local critical batch is exact
(:func:`~ramplab.theory.local_critical_batch`), so the rule runs on the exact solver: every ``check_every`` samples
the run branches its exact state into the batch ``factor × B``; when that branch recovers the base's risk within the
tolerance, the batch is multiplied by ``factor`` for the rest of the run.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._limits import MAX_STEP_ARRAY
from .._validate import choice, finite_real, positive_real
from ..dynamics import Problem
from ..schedules._schedule import Schedule
from ._batch_definitions import LR_RULES, local_critical_batch
from ._bounds import check_problem

__all__ = ["local_critical_batch_warmup"]


def local_critical_batch_warmup(problem: Problem, base: Schedule, *, check_every: float, window: float,
                                factor: float = 2.0, lr_rule: str = "linear", tolerance: float = 0.1,
                                max_batch: float = math.inf, optimizer: Any = "sgd", label: str = "") -> Schedule:
    """The base schedule with its batch multiplied by ``factor`` whenever the local critical batch allows it.

    The warmup reads the base as functions of the samples consumed, ``η(n)`` and ``B(n)``, and runs at batch
    ``m B(n)`` and rate ``r(m) η(n)`` with ``r`` the ``lr_rule`` (``1``, ``m`` or ``√m``), starting at ``m = 1``.
    At the first step boundary past every multiple of ``check_every`` samples it computes the local critical
    batch of the run so far (:func:`local_critical_batch` with multipliers ``(1, factor)``, the window ``window``
    samples and the same rule); if the branch at ``factor × m B`` needs at most ``(1 + tolerance) window`` samples,
    ``m`` is multiplied by ``factor``. The last step takes the samples that remain, so the warmup consumes exactly
    the base's samples (docs/math.md#local-critical-batch-warmup).

    Parameters
    ----------
    problem : Problem
    base : Schedule
        The base run (its rates and batches as functions of samples).
    check_every : float
        Samples between two checks (``> 0``).
    window : float
        ``Δ``, the local critical batch's continuation in samples (``> 0``).
    factor : float, default 2.0
        Batch multiplier per growth (``> 1``); an integer keeps integer batches.
    lr_rule : {"keep", "linear", "sqrt"}, default "linear"
        How the rate follows the batch multiplier (linear scaling suits SGD, whose small-rate dynamics depend
        on ``η/B`` per sample; a branch that diverges never grows the batch).
    tolerance : float, default 0.1
    max_batch : float, default inf
        The batch never grows beyond this.
    optimizer : {"sgd", "nsgd"} or an optimizer spec, default "sgd"
    label : str

    Returns
    -------
    Schedule
        The same total samples as ``base``; metadata ``kind="local_critical_batch_warmup"``, ``growth_samples``
        (samples consumed at each growth), ``factor``, ``lr_rule``, ``check_every``, ``window``, ``tolerance``.

    Raises
    ------
    TypeError
        For a ``base`` that is not a :class:`Schedule`.
    ValueError
        For a non-positive ``check_every`` or ``window``, ``factor ≤ 1``, an unknown ``lr_rule``, a base longer
        than ``MAX_STEP_ARRAY`` (2**27) steps (the warmup is built step by step), a ``window`` beyond the base's
        samples, more than 2**53 checks, or ``factor`` times the base's largest batch beyond 2**53.
    DivergenceError
        When a run the local critical batch measures diverges (from :func:`local_critical_batch`).

    Examples
    --------
    >>> from ramplab.theory import Problem, Schedule
    >>> p = Problem.power_law(50, a=1.5, b=1.0, noise_variance=0.1)
    >>> warm = local_critical_batch_warmup(p, Schedule.constant(0.2, 2, steps=2000), check_every=400, window=200)
    >>> warm.total_samples, bool(warm.serial_steps < 2000), warm.batch[0], bool(warm.batch[-2] > 2)
    (4000, True, np.int64(2), True)
    """
    problem = check_problem(problem)
    if not isinstance(base, Schedule):
        raise TypeError(f"base must be a Schedule; got {type(base).__name__}")
    every = positive_real(check_every, "check_every")
    delta = positive_real(window, "window")
    f = finite_real(factor, "factor")
    if f <= 1:
        raise ValueError(f"factor must exceed 1; got {f!r}")
    rule = choice(lr_rule, "lr_rule", LR_RULES)
    cap = float(max_batch)
    if not cap >= 1:
        raise ValueError(f"max_batch must be ≥ 1; got {max_batch!r}")
    integer = bool(base.integer_batch) and f == round(f)
    scale = {"keep": lambda m: 1.0, "linear": lambda m: m, "sqrt": math.sqrt}[rule]

    if base.serial_steps > MAX_STEP_ARRAY:
        raise ValueError(f"base has {base.serial_steps} steps; local_critical_batch_warmup builds its schedule step "
                         f"by step and takes at most MAX_STEP_ARRAY = 2**27 steps")
    base_lr, base_batch = base.step_arrays()
    ends = np.cumsum(base_batch)                      # samples consumed after each base step
    total = float(ends[-1])
    if every * 2.0**53 < total:
        raise ValueError(f"check_every={every!r} is too small for the base's {total:.6g} samples (more than 2**53 "
                         f"checks)")
    if delta > total:
        raise ValueError(f"window={delta!r} exceeds the base's {total:.6g} samples (the loss to recover is the "
                         f"base's after window samples)")
    if f * float(np.max(base_batch)) > 2.0**53:
        raise ValueError(f"factor={f!r} times the base's largest batch {float(np.max(base_batch)):.6g} exceeds "
                         f"2**53 samples (the largest batch a schedule holds)")
    lrs: list[float] = []
    batches: list[float] = []
    growth: list[float] = []
    m, n, next_check = 1.0, 0.0, every
    while n < total:
        i = min(int(np.searchsorted(ends, n, side="right")), ends.size - 1)
        batch, lr = m * base_batch[i], scale(m) * base_lr[i]
        if n >= next_check:
            next_check = (math.floor(n / every) + 1) * every  # the first multiple of check_every past n
            if f * batch <= cap:
                head = Schedule(np.array(lrs + [lr]), np.array(batches + [batch]), integer_batch=False)
                local = local_critical_batch(problem, head, len(lrs), delta, multipliers=(1.0, f), lr_rule=rule,
                                             tolerance=tolerance, optimizer=optimizer)
                if local.critical_batch >= f * batch * (1 - 1e-12):
                    m *= f
                    growth.append(n)
                    batch, lr = m * base_batch[i], scale(m) * base_lr[i]
        batch = min(batch, total - n)
        lrs.append(float(lr))
        batches.append(float(batch))
        n += batch
    meta = {"kind": "local_critical_batch_warmup", "growth_samples": tuple(growth), "factor": f,
            "lr_rule": rule, "check_every": every, "window": delta, "tolerance": float(tolerance)}
    return Schedule.from_segments(np.array(lrs), np.array(batches), np.ones(len(lrs), dtype=np.int64),
                                  integer_batch=integer, label=label or "local critical batch warmup",
                                  metadata=meta)
