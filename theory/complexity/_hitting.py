"""Exact steps and samples to a target of ``E‖∇f‖²`` under SGD (docs/math.md#sfo-on-linear-regression).

"Steps to ε" is the first ``t`` with ``Σ λ² s(t) ≤ τ`` (the iterate after ``t`` steps), and "SFO to
ε" the samples used by then (``τ`` from :func:`gradient_target`).

Measurements run the exact SGD recursion (docs/math.md#sgd-second-moment-recursion) and stop early: a row reaches the target,
or is *certified unreachable*, or runs out of ``max_steps``; each outcome is reported, never hidden
in an ``inf``. At constant ``(η, b)`` the recursion is affine, ``s ← Ms + v`` with ``M ≥ 0``
entrywise when κ ≥ 2, so two certificates hold: the stationary gradient norm is at least the target
and the state lies above the stationary one in every coordinate (``s_t − s^∞ = M^t(s_0 − s^∞) ≥ 0``);
or the state grew in every coordinate over one step (``s_{t+1} − s_t = M(s_t − s_{t−1}) ≥ 0``, so the
gradient norm never decreases again — unstable rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .._memory import check_memory, exact_bytes
from .._validate import describe, positive_int, strict_real_array
from ..dynamics import Problem
from ..dynamics._solver import advance_rows
from ..dynamics._step import DIVERGENCE_CHECK_EVERY
from ..schedules._schedule import Schedule, schedule_list
from ._bounds import check_problem

__all__ = ["TargetHitting", "schedule_to_target", "steps_to_target"]

STATUSES = ("reached", "unreachable", "diverged", "horizon")

# Steps of the schedules read at a time by schedule_to_target (never the whole per-step arrays).
_CHUNK = 4096


@dataclass(frozen=True, eq=False)
class TargetHitting:
    """When the exact expected dynamics first reach ``E‖∇f‖² ≤ target``, one entry per row.

    Attributes
    ----------
    target : ndarray
        The level of each row.
    steps : ndarray of float
        First step ``t`` with ``Σλ²s(t) ≤ target`` (0 if the start qualifies); ``inf`` where not
        reached — :attr:`status` says why.
    samples : ndarray of float
        Samples consumed by then; ``inf`` where not reached.
    status : ndarray of str
        ``"reached"``, ``"unreachable"`` (certified, see the module docstring), ``"diverged"`` or
        ``"horizon"`` (``max_steps`` or the schedule exhausted, undecided).
    final_gradient_norm2 : ndarray
        ``Σλ²s`` when the row stopped.
    fractional_steps, fractional_samples : ndarray
        The crossing located inside the hitting step by interpolating ``log Σλ²s`` linearly between
        steps ``t − 1`` and ``t``: continuous in the schedule's parameters, unlike :attr:`steps`, so
        argmins and convexity are not masked by integer rounding.
    max_gradient_variance : ndarray
        ``sup_t V(s(t))`` over the steps simulated (up to the hit): the smallest one-sample variance
        bound ``σ²`` valid along this trajectory for the master bound.

    Examples
    --------
    One direction, no noise, η = ½, b = 1: ``s`` shrinks by 0.75 per step, and 0.75^16 ≈ 0.01002
    is still above 0.01, so the first step at or below it is 17:

    >>> p = Problem([1.0], [1.0], noise_variance=0.0)
    >>> h = schedule_to_target(p, Schedule.constant(0.5, 1, steps=40), 0.01)
    >>> h.status.tolist(), h.steps.tolist(), bool(h.reached[0])
    (['reached'], [17.0], True)
    """

    target: np.ndarray
    steps: np.ndarray
    samples: np.ndarray
    status: np.ndarray
    final_gradient_norm2: np.ndarray
    fractional_steps: np.ndarray
    fractional_samples: np.ndarray
    max_gradient_variance: np.ndarray

    @property
    def reached(self) -> np.ndarray:
        """Boolean mask of the rows that reached the target."""
        return self.status == "reached"


def _crossing_fraction(before: np.ndarray, after: np.ndarray, tau: Any) -> np.ndarray:
    """Where ``log g`` crosses ``log τ`` inside a step, as a fraction in ``[0, 1]``."""
    before = np.maximum(before, tau)  # the start of the step is above the target by construction
    after = np.minimum(after, tau)
    with np.errstate(divide="ignore", invalid="ignore"):
        span = np.log(before) - np.log(after)
        frac = np.where(span > 0, (np.log(before) - np.log(tau)) / np.where(span > 0, span, 1.0), 1.0)
    return np.clip(frac, 0.0, 1.0)


def _positive_targets(target: Any, rows: int) -> np.ndarray:
    tau = strict_real_array(target, "target")
    if tau.ndim > 1 or (tau.ndim == 1 and tau.shape[0] != rows):
        raise ValueError(f"target must be a scalar or have one entry per row ({rows}); got shape {tau.shape}")
    if np.any(~np.isfinite(tau) | (tau <= 0)):
        raise ValueError(f"target must be positive and finite; got {describe(target)}")
    return np.broadcast_to(tau, (rows,)).copy()


def _hitting(*args: Any, **kwargs: Any) -> TargetHitting:
    """:func:`_hitting_loop` with float64 overflow allowed: overflowing rows are reported as diverged."""
    with np.errstate(over="ignore", invalid="ignore"):
        return _hitting_loop(*args, **kwargs)


def _hitting_loop(problem: Problem, lr_at: Any, batch_at: Any, samples_after: Any, rows: int, horizon: int,
                  tau: np.ndarray, *, ends: np.ndarray | None = None, s_inf: np.ndarray | None = None,
                  constant: bool = False) -> TargetHitting:
    """The shared loop, a client of the solver's loop. ``lr_at(t, idx)``, ``batch_at(t, idx)``: step
    ``t``'s (0-based) rate and batch for rows ``idx``; ``samples_after(t, idx)``: cumulative samples
    after step ``t``.

    The rows advance through ``advance_rows`` (package-internal, in ``dynamics._solver``) one divergence-check
    interval at a time (the solver's step, kernels and divergence rule, docs/math.md#divergence);
    between intervals the rows that reached the target, diverged, were certified unreachable or ran
    out of schedule leave. The certificates (constant ``(η, b)``, ``κ ≥ 2``, module docstring) compare
    the state across the whole interval: the step map is monotone and affine, so ``s(t + L) ≥ s(t)``
    makes every later ``s`` dominate one of ``s(t) … s(t + L − 1)``, none of which reached the target.
    """
    lam = problem.eigenvalues
    weights = problem.multiplicity * lam  # docs/math.md#multiplicity
    kappa_excess, trace, sigma2 = problem.kurtosis - 2.0, problem.trace, problem.noise_variance
    certify = constant and problem.kurtosis >= 2.0
    steps, samples = np.full(rows, np.inf), np.full(rows, np.inf)
    frac_steps, frac_samples = np.full(rows, np.inf), np.full(rows, np.inf)
    status = np.full(rows, "horizon", dtype=object)
    final = np.full(rows, np.nan)
    s = np.repeat(problem.initial_second_moment[None, :], rows, axis=0)
    q, g = s @ weights, s @ (weights * lam)
    vmax = kappa_excess * g + trace * (q + sigma2)
    hit = g <= tau
    steps[hit] = samples[hit] = frac_steps[hit] = frac_samples[hit] = 0.0
    status[hit], final[hit] = "reached", g[hit]
    active = np.flatnonzero(~hit)
    s = s[active]
    hopeless = None
    if certify and s_inf is not None:
        with np.errstate(invalid="ignore"):
            hopeless = np.isfinite(s_inf[:, 0]) & (s_inf @ (weights * lam) >= tau)
    t = 0
    with np.errstate(over="ignore", invalid="ignore"):
        while t < horizon and active.size:
            length = min(DIVERGENCE_CHECK_EVERY, horizon - t)
            lr = np.stack([lr_at(k, active) for k in range(t, t + length)], axis=1)
            batch = np.stack([batch_at(k, active) for k in range(t, t + length)], axis=1)
            s_before = s
            s, q_k, g_k, first_bad = advance_rows(problem, s, t, lr, batch)
            # The first step of the chunk at which each row is at or below its target.
            below = g_k[:, 1:] <= tau[active][:, None]
            reached = below.any(axis=1)
            k_hit = np.where(reached, np.argmax(below, axis=1) + 1, length)  # steps into the chunk
            upto = np.arange(1, length + 1)[None, :] <= k_hit[:, None]
            load = np.where(upto, kappa_excess * g_k[:, 1:] + trace * (q_k[:, 1:] + sigma2), np.nan)
            vmax[active] = np.fmax(vmax[active], np.nanmax(np.where(np.isnan(load), -np.inf, load), axis=1))
            diverged = ~reached & (first_bad <= t + length)
            if reached.any():
                idx, kk = active[reached], k_hit[reached]
                g_at, g_prev = g_k[reached, kk], g_k[reached, kk - 1]
                frac = _crossing_fraction(g_prev, g_at, tau[idx])
                after = np.array([samples_after(t + int(k) - 1, np.array([i]))[0] for k, i in zip(kk, idx)])
                b_at = batch[reached, kk - 1]
                steps[idx], samples[idx], status[idx], final[idx] = (t + kk).astype(float), after, "reached", g_at
                frac_steps[idx] = t + kk - 1 + frac
                frac_samples[idx] = after - b_at * (1.0 - frac)
            status[active[diverged]] = "diverged"
            stop = reached | diverged
            if certify:
                # Both certificates of the module docstring (constant (η, b), κ ≥ 2), over the interval.
                grew = np.all(s >= s_before, axis=1)
                if hopeless is not None:
                    grew |= hopeless[active] & np.all(s >= s_inf[active], axis=1)
                stuck = grew & ~stop
                status[active[stuck]] = "unreachable"
                stop = stop | stuck
            t += length
            if ends is not None:
                stop = stop | (ends[active] <= t)
            final[active[stop & ~reached]] = g_k[stop & ~reached, length]
            keep = ~stop
            if not keep.all():
                active, s = active[keep], s[keep]
            last = g_k[keep, length]
    if active.size:
        final[active] = last
    return TargetHitting(tau, steps, samples, status.astype(str), final, frac_steps, frac_samples, vmax)


def steps_to_target(problem: Problem, lr: Any, batch: Any, target: float, *,
                    max_steps: int = 100_000) -> TargetHitting:
    """Exact steps (and samples) for constant-``(η, b)`` SGD to reach ``E‖∇f‖² ≤ target``.

    Parameters
    ----------
    problem : Problem
    lr, batch : float or array_like
        Broadcast against each other; one row per pair. Real batch sizes are allowed.
    target : float or array_like
        Level of ``E‖∇f‖² = Σλ²s`` (see :func:`gradient_target`); one per row or shared.
    max_steps : int

    Returns
    -------
    TargetHitting
        Arrays of the broadcast shape, flattened to 1-D.

    Examples
    --------
    One direction, λ = 1, no noise, Gaussian: each step multiplies ``s`` by ``1/4 + 1/(2B)`` at η = ½:

    >>> p = Problem([1.0], [1.0], noise_variance=0.0)
    >>> h = steps_to_target(p, 0.5, [1, 1000], 1e-4)      # 0.75^t and 0.2505^t reach 1e-4
    >>> h.steps.tolist(), h.status.tolist()
    ([33.0, 7.0], ['reached', 'reached'])
    >>> steps_to_target(Problem([1.0], [1.0], noise_variance=1.0), 0.5, 1, 1e-4).status.tolist()
    ['unreachable']
    """
    problem = check_problem(problem)
    lr_in, batch_in = strict_real_array(lr, "lr"), strict_real_array(batch, "batch")
    if np.any(~np.isfinite(lr_in) | (lr_in <= 0)):
        raise ValueError(f"lr must be positive and finite; got {describe(lr)}")
    if np.any(~np.isfinite(batch_in) | (batch_in < 1)):
        raise ValueError(f"batch must be ≥ 1 and finite; got {describe(batch)}")
    try:
        lr_arr, batch_arr = np.broadcast_arrays(lr_in, batch_in)
    except ValueError as exc:
        raise ValueError(f"lr and batch must broadcast together; got shapes {lr_in.shape} and {batch_in.shape}") \
            from exc
    lr_arr, batch_arr = lr_arr.ravel().copy(), batch_arr.ravel().copy()
    if lr_arr.size == 0:
        raise ValueError(f"lr and batch must hold at least one pair; got lr={describe(lr)}, batch={describe(batch)}")
    max_steps = positive_int(max_steps, "max_steps")
    rows = lr_arr.shape[0]
    tau = _positive_targets(target, rows)
    s_inf = np.full((rows, problem.dimension), np.nan)
    if problem.kurtosis >= 2.0:
        from ..dynamics import is_stable, stationary_second_moment

        for i in range(rows):
            try:
                with np.errstate(over="ignore", invalid="ignore"):
                    if is_stable(problem, lr_arr[i], batch_arr[i]):
                        s_inf[i] = stationary_second_moment(problem, lr_arr[i], batch_arr[i])
            except (OverflowError, ZeroDivisionError):
                pass  # η² or η²λ² beyond float64: certainly not stable; no certificate for this row
    hit = _hitting(problem, lambda t, idx: lr_arr[idx], lambda t, idx: batch_arr[idx],
                   lambda t, idx: (t + 1) * batch_arr[idx], rows, max_steps, tau, s_inf=s_inf, constant=True)
    return _finite_samples(hit, "batch", batch)


def schedule_to_target(problem: Problem, schedules: Schedule | Sequence[Schedule],
                       target: float) -> TargetHitting:
    """Steps and samples for SGD along each schedule to reach ``E‖∇f‖² ≤ target`` (exact, early exit).

    A schedule that ends before reaching the target is ``"horizon"``. Schedules of different
    lengths run together, one row each; ``target`` is shared or one per schedule (pass the same
    schedule several times to get several targets along one trajectory).
    Exact SGD recursion, docs/math.md#sgd-second-moment-recursion.

    Parameters
    ----------
    problem : Problem
    schedules : Schedule or sequence of Schedule
        One row per schedule.
    target : float or array_like, shape (rows,)
        Level(s) of ``E‖∇f‖²``, positive.

    Returns
    -------
    TargetHitting
        One entry per schedule.

    Raises
    ------
    ValueError
        For a non-positive or non-finite target, a target array of the wrong length, or no schedule.
    TypeError
        For a ``problem`` that is not a :class:`Problem` or a schedule that is not a :class:`Schedule`.

    Examples
    --------
    Two steps at B = 1 (× 0.75 each), then B = 4 (× 0.375 each) until 0.5625 · 0.375^n ≤ 1e-4:

    >>> p = Problem([1.0], [1.0], noise_variance=0.0)
    >>> h = schedule_to_target(p, Schedule.from_phases([(0.5, 1, 2), (0.5, 4, 40)]), 1e-4)
    >>> h.steps.tolist(), h.samples.tolist(), h.status.tolist()
    ([11.0], [38.0], ['reached'])
    """
    items = schedule_list(schedules)
    problem = check_problem(problem)
    rows, horizon = len(items), max(len(x) for x in items)
    tau = _positive_targets(target, rows)
    check_memory(exact_bytes(problem.dimension, rows=rows), "schedule_to_target",
                 {"d": problem.dimension, "schedules": rows})
    ends = np.array([len(x) for x in items], dtype=np.int64)
    # Per-step (lr, batch) are read _CHUNK steps at a time (Schedule.step_arrays), so a long segment
    # schedule costs memory for one chunk, and time only for the steps simulated (early exit).
    table = {"start": -1, "lr": None, "batch": None, "cum": None}
    running = np.zeros(rows)

    def load(t: int) -> None:
        start = (t // _CHUNK) * _CHUNK
        if table["start"] == start:
            return
        stop = start + _CHUNK
        lr_tab = np.zeros((_CHUNK, rows))  # zero rate past a schedule's end leaves its state alone
        batch_tab = np.ones((_CHUNK, rows))
        for j, sched in enumerate(items):
            lo, hi = min(start, len(sched)), min(stop, len(sched))
            if hi > lo:
                lr_j, b_j = sched.step_arrays(lo, hi)
                lr_tab[: hi - lo, j], batch_tab[: hi - lo, j] = lr_j, b_j
        base = running if table["cum"] is None else table["cum"][-1]
        table.update(start=start, lr=lr_tab, batch=batch_tab, cum=base + np.cumsum(batch_tab, axis=0))

    def lr_at(t: int, idx: np.ndarray) -> np.ndarray:
        load(t)
        return table["lr"][t - table["start"], idx]

    def batch_at(t: int, idx: np.ndarray) -> np.ndarray:
        load(t)
        return table["batch"][t - table["start"], idx]

    def samples_after(t: int, idx: np.ndarray) -> np.ndarray:
        load(t)
        return table["cum"][t - table["start"], idx]

    return _finite_samples(_hitting(problem, lr_at, batch_at, samples_after, rows, horizon, tau, ends=ends),
                           "schedules", schedules)


def _finite_samples(hit: TargetHitting, name: str, value: Any) -> TargetHitting:
    """Refuse a result whose reached rows count samples beyond float64 (batches near 1e308)."""
    bad = hit.reached & ~(np.isfinite(hit.samples) & np.isfinite(hit.fractional_samples))
    if bad.any():
        raise ValueError(f"the samples consumed to the target overflow float64 (row {int(np.argmax(bad))}); "
                         f"got {name}={describe(value)}")
    return hit
