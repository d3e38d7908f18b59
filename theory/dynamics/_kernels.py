"""Compiled one-pass kernels for the exact solver (NumPy backend, optional numba).

The exact recursion (docs/math.md#sgd-second-moment-recursion), its NSGD rate
(docs/math.md#normalized-sgd) and the iterate-average moments (docs/math.md#iterate-averaging)
advance here in compiled loops over steps, chunk by chunk, so no Python runs per step. Each step
reads and writes every state row once, and the same pass accumulates the weighted sums
``q = Σ m λ s``, ``Σ m λ² s`` and ``Σ m λ a`` of the values it writes: what the next step needs (the
NSGD rate and ``q``) and what is recorded (risk, diagnostics).

Reductions have a fixed order, independent of the number of threads and of the parallel layout:
inside a tile of :data:`TILE` coordinates, coordinate ``k`` of the tile is added into entry
``k mod SUB`` of a small buffer (an element-wise update, so the pass vectorises without any
reassociation), the buffer entries go to eight lanes that are added pairwise, and tile sums are
added in tile order. ``fastmath`` stays off, so the element-wise arithmetic is the reference's
(``second_moment_step``) operation for operation and only the summation order differs from it.

Layout: a *group* is one schedule's rows (the full problem, and with ``split`` its bias and variance
rows, which use the full row's rate). Groups never interact, so several groups run in parallel
(``prange``) over a whole chunk of steps; a single group at large ``d`` instead runs its tiles in
parallel step by step (``advance_wide``).

Divergence bookkeeping follows :func:`~ramplab.theory.expected_risk` and the loop of ``_loop``: per group,
``first_bad`` is the first step whose risk or averaged risk is not finite, and ``bad_check`` the
first check step (a multiple of ``check_every``) at which the state itself was not finite; the group
stops there.

Threads are numba's (``NUMBA_NUM_THREADS``, ``numba.set_num_threads``). The wide layout meets at a
barrier every step; on a machine already busier than its cores, numba's OpenMP layer spins there, and
``numba.set_num_threads(1)`` (or ``NUMBA_THREADING_LAYER=workqueue``) is faster. Results do not depend
on either.

This module imports without numba (``AVAILABLE`` is then False and the solver uses the reference).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

try:  # numba is the optional extra `fast`
    import numba
    from numba import njit, prange

    AVAILABLE = True
except ImportError:  # pragma: no cover - exercised only without the extra
    numba = None
    AVAILABLE = False

    def njit(*args: Any, **kwargs: Any) -> Any:
        def wrap(fn: Any) -> Any:
            return fn

        return wrap if not args or not callable(args[0]) else args[0]

    prange = range

from . import _step

# The step's formulas (module docstring of ``_step``), compiled and inlined: the kernels below perform
# exactly the operations of the reference loop, in its order, one coordinate at a time.
# numba's on-disk cache (cache=True) is keyed on this file only, not on ``_step``: a change of a formula
# there must change this file too, or stale compiled kernels are loaded. Formulas of ``_step`` as of:
# noise_coefficient = η(η((q + σ²)/B)) (no needless underflow of η², #19 kind 7).
_batch_factor = njit(cache=True, fastmath=False, inline="always")(_step.batch_factor)
_noise_coefficient = njit(cache=True, fastmath=False, inline="always")(_step.noise_coefficient)
_gradient_norm2 = njit(cache=True, fastmath=False, inline="always")(_step.gradient_norm2)
_nsgd_rate = njit(cache=True, fastmath=False, inline="always")(_step.nsgd_rate)
_sgd_second_moment = njit(cache=True, fastmath=False, inline="always")(_step.sgd_second_moment)
_sgd_moved_cross = njit(cache=True, fastmath=False, inline="always")(_step.sgd_moved_cross)
_averaged_second_moment = njit(cache=True, fastmath=False, inline="always")(_step.averaged_second_moment)
_average_weights = njit(cache=True, fastmath=False, inline="always")(_step.average_weights)
_averaged_cross = njit(cache=True, fastmath=False, inline="always")(_step.averaged_cross)
_heavy_ball_second_moment = njit(cache=True, fastmath=False, inline="always")(_step.heavy_ball_second_moment)
_heavy_ball_cross = njit(cache=True, fastmath=False, inline="always")(_step.heavy_ball_cross)
_heavy_ball_moved_cross = njit(cache=True, fastmath=False, inline="always")(_step.heavy_ball_moved_cross)

#: The kernels themselves (``advance_groups``, ``advance_momentum_groups``, ``advance_wide``,
#: ``balanced_assignment``, ``thread_count``, ``weighted_sums``) are internal plumbing of
#: ``ramplab.theory.expected_risk`` and ``momentum``: nothing outside the package calls them, their argument
#: lists follow the solver's array layout (docs/math.md#exact-solver-layout), so they are not public.
__all__ = ["AVAILABLE", "SUB", "TILE"]

#: Coordinates per reduction tile (a multiple of 8); tiles are also the unit of parallel work at large d.
TILE = 8192
#: Width of the per-tile summation buffers (a multiple of 8).
SUB = 128
# A step that never happens (used for "not yet" in first_bad / bad_check).
NEVER = np.iinfo(np.int64).max


def thread_count() -> int:
    """Threads numba's parallel loops use (1 without numba).

    Examples
    --------
    >>> thread_count() >= 1
    True
    """
    return int(numba.get_num_threads()) if AVAILABLE else 1


@njit(cache=True, fastmath=False)
def _lane_sum(buf, n):
    """Sum of ``buf[:n]`` (entry ``e`` into lane ``e mod 8``, lanes added pairwise, a ragged end
    last), leaving ``buf[:n]`` zero for the next tile."""
    l0 = l1 = l2 = l3 = l4 = l5 = l6 = l7 = 0.0
    for b in range(n // 8):
        e = 8 * b
        l0 += buf[e]
        l1 += buf[e + 1]
        l2 += buf[e + 2]
        l3 += buf[e + 3]
        l4 += buf[e + 4]
        l5 += buf[e + 5]
        l6 += buf[e + 6]
        l7 += buf[e + 7]
    rest = 0.0
    for e in range(8 * (n // 8), n):
        rest += buf[e]
    for e in range(n):
        buf[e] = 0.0
    return (((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7))) + rest


@njit(cache=True, fastmath=False)
def _tile(s, a, c, lam, w1, i0, i1, eff, kk, cc, mode, alpha, beta, gamma, keep, rho, buf):
    """Update coordinates ``[i0, i1)`` of one row and return its weighted sums over them.

    ``s``: the row; ``a``, ``c``: its average moments (read when ``mode == 2``); ``lam``: λ;
    ``w1``: m λ; ``buf``: zeroed scratch of shape ``(3, SUB)``, left zeroed. Per coordinate, with x = eff λ:
    s ← (1 − x(2 − cc x)) s + kk λ; with averaging (``mode == 2``) also, in this order,
    c ← (1 − x) c, a ← alpha a + beta s + gamma c, c ← keep c + rho s.

    Returns ``(Σ m λ s, Σ m λ² s, Σ m λ a)`` of the new values (``mode`` 0: only the first is
    computed, 1: the first two). Coordinate ``k`` of the tile adds into ``buf[:, k mod SUB]``, an
    element-wise update that vectorises without reassociating anything; :func:`_lane_sum` then
    adds each buffer in a fixed order.
    """
    n = i1 - i0
    width = min(n, SUB)
    sv = s[i0:i1]
    lv = lam[i0:i1]
    wv = w1[i0:i1]
    bq = buf[0]
    bm = buf[1]
    ba = buf[2]
    for sb in range((n + SUB - 1) // SUB):
        base = sb * SUB
        cnt = min(SUB, n - base)
        if mode == 2:
            av = a[i0:i1]
            cv = c[i0:i1]
            for k in range(cnt):
                i = base + k
                x = eff * lv[i]
                v = _sgd_second_moment(sv[i], x, cc, kk, lv[i])
                if v < 0.0:  # ≥ 0 exactly for κ ≥ 1; rounding can leave −1e-17 (NaN stays NaN)
                    v = 0.0
                sv[i] = v
                ci = _sgd_moved_cross(cv[i], x)
                an = _averaged_second_moment(av[i], v, ci, alpha, beta, gamma)
                av[i] = an
                cv[i] = _averaged_cross(ci, v, keep, rho)
                wq = wv[i] * sv[i]  # the stored value: a float32 state sums what a continuation reads
                bq[k] += wq
                bm[k] += wq * lv[i]
                ba[k] += wv[i] * av[i]
        elif mode == 1:
            for k in range(cnt):
                i = base + k
                x = eff * lv[i]
                v = _sgd_second_moment(sv[i], x, cc, kk, lv[i])
                if v < 0.0:  # ≥ 0 exactly for κ ≥ 1; rounding can leave −1e-17 (NaN stays NaN)
                    v = 0.0
                sv[i] = v
                wq = wv[i] * sv[i]  # the stored value: a float32 state sums what a continuation reads
                bq[k] += wq
                bm[k] += wq * lv[i]
        else:
            for k in range(cnt):
                i = base + k
                x = eff * lv[i]
                v = _sgd_second_moment(sv[i], x, cc, kk, lv[i])
                if v < 0.0:  # ≥ 0 exactly for κ ≥ 1; rounding can leave −1e-17 (NaN stays NaN)
                    v = 0.0
                sv[i] = v
                bq[k] += wv[i] * sv[i]
    q = _lane_sum(bq, width)
    m = _lane_sum(bm, width) if mode >= 1 else 0.0
    av_sum = _lane_sum(ba, width) if mode == 2 else 0.0
    return q, m, av_sum


@njit(cache=True, fastmath=False)
def weighted_sums(s, lam, w1):
    """``(Σ m λ s, Σ m λ² s, 0)`` per row of ``s`` (``(rows, d)``), in the kernels' summation order.

    Used for the initial state, so that step 0 and later steps are summed alike (a step at zero rate
    rewrites every coordinate unchanged).
    """
    rows, d = s.shape
    out = np.zeros((rows, 3))
    buf = np.zeros((3, SUB))
    for r in range(rows):
        for i0 in range(0, d, TILE):
            q, m, _ = _tile(s[r], s[r], s[r], lam, w1, i0, min(i0 + TILE, d), 0.0, 0.0, 1.0,
                            1, 1.0, 0.0, 0.0, 1.0, 0.0, buf)
            out[r, 0] += q
            out[r, 1] += m
    return out


@njit(cache=True, fastmath=False, inline="always")
def _rate(nsgd, eta, batch, kex, trace, q_full, m_full, noise_full):
    """(effective rate, G_t, 1 + (κ − 2)/B) of one schedule at the state before the step."""
    cc = _batch_factor(kex, batch)
    g2 = _gradient_norm2(cc, m_full, trace, batch, q_full, noise_full)
    # Zero (or NaN) expected gradient norm: no step (docs/math.md#normalized-sgd).
    eff = _nsgd_rate(eta, g2) if nsgd else eta
    return eff, g2, cc


@njit(cache=True, fastmath=False, inline="always")
def _row_nonfinite(row):
    for i in range(row.shape[0]):
        if not math.isfinite(row[i]):
            return True
    return False


@njit(cache=True, fastmath=False)
def _finish_step(j, step, k, bad, eff, g2, mean_before, s, sums, avg, blocks, n_sched, check_every,
                 out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active):
    """After group ``j`` took ``step``: record it in column ``k`` (``k < 0``: not recorded), note the
    first diverged step, and at a check step deactivate a group whose state is no longer finite."""
    if k >= 0:
        for b in range(blocks):
            out_q[j + b * n_sched, k] = sums[j + b * n_sched, 0]
        if avg:
            out_avg[j, k] = sums[j, 2]
        out_eff[j, k] = eff
        out_g2[j, k] = g2
        out_mean[j, k] = mean_before
    if bad and first_bad[j] > step:
        first_bad[j] = step
    if step % check_every == 0 and first_bad[j] <= step:
        # A finite q implies a finite row (positive finite weights), so only suspect rows are scanned.
        for b in range(blocks):
            r = j + b * n_sched
            if not math.isfinite(sums[r, 0]) and _row_nonfinite(s[r]):
                bad_check[j] = step
                active[j] = False
                break


@njit(cache=True, fastmath=False)
def _advance_group(j, s, a, c, lam, w1, noise, sums, lr, batch, rho, rec, t0, length, horizon,
                   out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active,
                   nsgd, blocks, kex, trace, check_every, limit):
    """Advance group ``j`` through the chunk's steps (serial); see the module docstring."""
    n_sched = lr.shape[0]
    d = s.shape[1]
    avg = a.shape[0] > 0
    steps = lr.shape[1]
    buf = np.zeros((3, SUB))
    for col in range(steps):
        t = t0 + col
        if t >= length or not active[j]:
            break
        eff, g2, cc = _rate(nsgd, lr[j, col], batch[j, col], kex, trace, sums[j, 0], sums[j, 1], noise[j])
        r_t = rho[col] if avg else 0.0
        keep, alpha, beta, gamma = _average_weights(r_t)
        mean_before = sums[j, 1]
        bad = False
        for b in range(blocks):
            r = j + b * n_sched
            kk = _noise_coefficient(eff, batch[j, col], sums[r, 0], noise[r])
            row_avg = avg and b == 0
            ar = a[j] if row_avg else s[r]
            cr = c[j] if row_avg else s[r]
            mode = 2 if row_avg else (1 if b == 0 else 0)
            tq = 0.0
            tm = 0.0
            ta = 0.0
            for i0 in range(0, d, TILE):
                q, m, av = _tile(s[r], ar, cr, lam, w1, i0, min(i0 + TILE, d), eff, kk, cc,
                                 mode, alpha, beta, gamma, keep, r_t, buf)
                tq += q
                tm += m
                ta += av
            sums[r, 0] = tq
            sums[r, 1] = tm
            if row_avg:
                sums[r, 2] = ta
                bad = bad or not ta <= limit  # NaN, ±inf or past the blow-up bound
            bad = bad or not tq <= limit
        _finish_step(j, t + 1, rec[col], bad, eff, g2, mean_before, s, sums, avg, blocks, n_sched, check_every,
                     out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active)
    _end_check(j, s, sums, t0, steps, length, horizon, first_bad, bad_check, active, blocks, n_sched, check_every)


@njit(cache=True, fastmath=False)
def _end_check(j, s, sums, t0, steps, length, horizon, first_bad, bad_check, active, blocks, n_sched, check_every):
    # A schedule that ends inside this chunk, between two checks, keeps its state (the other schedules'
    # padding is a zero rate) until the next check step, where the reference solver looks at it.
    if active[j] and t0 < length <= t0 + steps and first_bad[j] <= length:
        nxt = ((length + check_every - 1) // check_every) * check_every
        if nxt <= horizon:
            for b in range(blocks):
                r = j + b * n_sched
                if not math.isfinite(sums[r, 0]) and _row_nonfinite(s[r]):
                    bad_check[j] = nxt
                    active[j] = False
                    break


@njit(cache=True, fastmath=False, parallel=True)
def _advance_groups_parallel(s, a, c, lam, w1, noise, sums, lr, batch, rho, rec, t0, lengths, horizon,
                             out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active,
                             nsgd, blocks, kex, trace, check_every, limit, assignment):
    # One worker per thread, each with its own list of schedules (-1 pads the lists).
    for w in prange(assignment.shape[0]):
        for k in range(assignment.shape[1]):
            j = assignment[w, k]
            if j >= 0:
                _advance_group(j, s, a, c, lam, w1, noise, sums, lr, batch, rho, rec, t0, lengths[j], horizon,
                               out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active,
                               nsgd, blocks, kex, trace, check_every, limit)


@njit(cache=True, fastmath=False)
def _advance_groups_serial(s, a, c, lam, w1, noise, sums, lr, batch, rho, rec, t0, lengths, horizon,
                           out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active,
                           nsgd, blocks, kex, trace, check_every, limit):
    for j in range(lr.shape[0]):
        _advance_group(j, s, a, c, lam, w1, noise, sums, lr, batch, rho, rec, t0, lengths[j], horizon,
                       out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active,
                       nsgd, blocks, kex, trace, check_every, limit)


def balanced_assignment(work: np.ndarray, workers: int) -> np.ndarray:
    """Schedules per worker, balancing the summed ``work`` (largest first, each to the least loaded).

    Returns an int64 array of shape ``(workers, k)``, padded with −1.

    Examples
    --------
    >>> balanced_assignment(np.array([5, 1, 4, 3]), 2).tolist()
    [[0, 1], [2, 3]]
    """
    load = np.zeros(workers)
    lists: list[list[int]] = [[] for _ in range(workers)]
    for j in np.argsort(-np.asarray(work), kind="stable"):
        w = int(np.argmin(load))
        lists[w].append(int(j))
        load[w] += work[j]
    width = max(len(x) for x in lists)
    out = np.full((workers, width), -1, dtype=np.int64)
    for w, x in enumerate(lists):
        out[w, : len(x)] = sorted(x)
    return out


def advance_groups(workers: int, *args: Any) -> None:
    """Advance every group through one chunk of steps, on ``workers`` threads (serially for 1).

    Arguments (in order): ``s (R, d)``, ``a, c (S, d)`` (``(0, d)`` without averaging), ``λ (d,)``,
    ``m λ (d,)``, per-row ``σ² (R,)``, per-row running sums ``(R, 3)`` (``Σ mλs, Σ mλ²s, Σ mλa`` of the
    current state), the chunk's ``lr, batch (S, L)``, ``ρ (L,)``, record columns ``rec (L,)`` (−1: not
    recorded), the chunk's first step ``t0``, schedule lengths ``(S,)``, the horizon, the outputs
    ``q (R, K)``, ``avg, eff, G, mean (S, K)``, ``first_bad, bad_check (S,)``, ``active (S,)``, and
    ``nsgd, blocks, κ − 2, tr H, check_every, limit`` (a step whose ``Σ mλs`` or ``Σ mλa`` is not
    ``≤ limit`` counts as diverged). Everything is updated in place.
    """
    if workers <= 1:
        _advance_groups_serial(*args)
        return
    t0, lengths, active = args[11], args[12], args[21]
    steps = args[7].shape[1]
    work = np.where(active, np.clip(np.minimum(lengths, t0 + steps) - t0, 0, None), 0)
    _advance_groups_parallel(*args, balanced_assignment(work, workers))


@njit(cache=True, fastmath=False, parallel=True)
def _wide_tiles(s, a, c, lam, w1, rows, n_sched, j, d, n_tiles, effs, kks, cc, avg,
                alpha, beta, gamma, keep, r_t, partial, bufs):
    for item in prange(rows * n_tiles):
        b = item // n_tiles
        i0 = (item % n_tiles) * TILE
        r = j + b * n_sched
        row_avg = avg and b == 0
        ar = a[j] if row_avg else s[r]
        cr = c[j] if row_avg else s[r]
        mode = 2 if row_avg else (1 if b == 0 else 0)
        q, m, av = _tile(s[r], ar, cr, lam, w1, i0, min(i0 + TILE, d), effs, kks[b], cc,
                         mode, alpha, beta, gamma, keep, r_t, bufs[item])
        partial[item, 0] = q
        partial[item, 1] = m
        partial[item, 2] = av


@njit(cache=True, fastmath=False)
def _advance_wide(s, a, c, lam, w1, noise, sums, lr, batch, rho, rec, t0, lengths, horizon,
                  out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active,
                  nsgd, blocks, kex, trace, check_every, limit):
    j = 0
    length = lengths[0]
    n_sched = lr.shape[0]
    d = s.shape[1]
    avg = a.shape[0] > 0
    n_tiles = (d + TILE - 1) // TILE
    partial = np.empty((blocks * n_tiles, 3))
    bufs = np.zeros((blocks * n_tiles, 3, SUB))
    kks = np.empty(blocks)
    for col in range(lr.shape[1]):
        t = t0 + col
        if t >= length or not active[j]:
            break
        eff, g2, cc = _rate(nsgd, lr[j, col], batch[j, col], kex, trace, sums[j, 0], sums[j, 1], noise[j])
        r_t = rho[col] if avg else 0.0
        keep, alpha, beta, gamma = _average_weights(r_t)
        mean_before = sums[j, 1]
        for b in range(blocks):
            r = j + b * n_sched
            kks[b] = _noise_coefficient(eff, batch[j, col], sums[r, 0], noise[r])
        _wide_tiles(s, a, c, lam, w1, blocks, n_sched, j, d, n_tiles, eff, kks, cc, avg,
                    alpha, beta, gamma, keep, r_t, partial, bufs)
        bad = False
        for b in range(blocks):
            r = j + b * n_sched
            tq = 0.0
            tm = 0.0
            ta = 0.0
            for k in range(n_tiles):
                tq += partial[b * n_tiles + k, 0]
                tm += partial[b * n_tiles + k, 1]
                ta += partial[b * n_tiles + k, 2]
            sums[r, 0] = tq
            sums[r, 1] = tm
            if avg and b == 0:
                sums[r, 2] = ta
                bad = bad or not ta <= limit  # NaN, ±inf or past the blow-up bound
            bad = bad or not tq <= limit
        _finish_step(j, t + 1, rec[col], bad, eff, g2, mean_before, s, sums, avg, blocks, n_sched, check_every,
                     out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active)
    _end_check(j, s, sums, t0, lr.shape[1], length, horizon, first_bad, bad_check, active, blocks, n_sched,
               check_every)


def advance_wide(*args: Any) -> None:
    """Advance a single group through one chunk, its tiles in parallel at every step.

    Same arguments as :func:`advance_groups` (without ``parallel``; ``S`` must be 1). Used when one schedule has too few rows to keep the threads busy.
    """
    _advance_wide(*args)


# ------------------------------------------------------------------------------ heavy-ball momentum
@njit(cache=True, fastmath=False)
def _momentum_tile(s, c, p, av, xv, yv, lam, w1, i0, i1, eff, mu, kb, kk, mode, alpha, beta, gamma, keep, rho,
                   buf):
    """Heavy-ball update of coordinates ``[i0, i1)`` of one row (docs/math.md#heavy-ball-momentum).

    ``s, c, p``: the row's ``E e_t², E e_t e_{t−1}, E e_{t−1}²``; ``av, xv, yv``: its average moments
    ``E ē², E ē e_t, E ē e_{t−1}`` (read when ``mode == 2``). Per coordinate, with ``x = eff λ`` and
    ``a = (1 + μ) − x``, the operations of ``_step.heavy_ball_step`` in its order, then the averaging
    update. Returns ``(Σ m λ s, Σ m λ² s, Σ m λ ā)`` of the new values (``mode`` as in :func:`_tile`).
    """
    n = i1 - i0
    width = min(n, SUB)
    bq = buf[0]
    bm = buf[1]
    ba = buf[2]
    one_mu = 1.0 + mu
    for sb in range((n + SUB - 1) // SUB):
        base = i0 + sb * SUB
        cnt = min(SUB, i1 - base)
        for k in range(cnt):
            i = base + k
            li = lam[i]
            x = eff * li
            a = one_mu - x
            so = s[i]
            co = c[i]
            v = _heavy_ball_second_moment(so, co, p[i], x, a, kb, mu, kk, li)
            if v < 0.0:  # a variance; rounding can leave −1e-17 → (−)0, and −inf → NaN (as the reference)
                v = 0.0 * v
            cn = _heavy_ball_cross(so, co, a, mu)
            s[i] = v
            c[i] = cn
            p[i] = so
            wq = w1[i] * s[i]  # the stored value (float32 states: what a continuation reads)
            bq[k] += wq
            if mode >= 1:
                bm[k] += wq * li
            if mode == 2:
                xo = xv[i]
                z = _heavy_ball_moved_cross(xo, yv[i], a, mu)
                yv[i] = _averaged_cross(xo, cn, keep, rho)
                xv[i] = _averaged_cross(z, v, keep, rho)
                an = _averaged_second_moment(av[i], v, z, alpha, beta, gamma)
                av[i] = an
                ba[k] += w1[i] * av[i]
    q = _lane_sum(bq, width)
    m = _lane_sum(bm, width) if mode >= 1 else 0.0
    av_sum = _lane_sum(ba, width) if mode == 2 else 0.0
    return q, m, av_sum


@njit(cache=True, fastmath=False)
def _advance_momentum_group(j, s, c, p, av, xv, yv, lam, w1, noise, sums, lr, batch, mom, rho, rec, t0, length,
                            horizon, out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active,
                            nsgd, blocks, kex, trace, check_every, limit):
    """Advance group ``j`` through the chunk's steps with momentum (serial); see :func:`_advance_group`."""
    n_sched = lr.shape[0]
    d = s.shape[1]
    avg = av.shape[0] > 0
    steps = lr.shape[1]
    buf = np.zeros((3, SUB))
    for col in range(steps):
        t = t0 + col
        if t >= length or not active[j]:
            break
        eff, g2, cc = _rate(nsgd, lr[j, col], batch[j, col], kex, trace, sums[j, 0], sums[j, 1], noise[j])
        mu = mom[j, col]
        kb = kex / batch[j, col]
        r_t = rho[col] if avg else 0.0
        keep, alpha, beta, gamma = _average_weights(r_t)
        mean_before = sums[j, 1]
        bad = False
        for b in range(blocks):
            r = j + b * n_sched
            kk = _noise_coefficient(eff, batch[j, col], sums[r, 0], noise[r])
            row_avg = avg and b == 0
            ar = av[j] if row_avg else s[r]
            xr = xv[j] if row_avg else s[r]
            yr = yv[j] if row_avg else s[r]
            mode = 2 if row_avg else (1 if b == 0 else 0)
            tq = 0.0
            tm = 0.0
            ta = 0.0
            for i0 in range(0, d, TILE):
                q, m, a_sum = _momentum_tile(s[r], c[r], p[r], ar, xr, yr, lam, w1, i0, min(i0 + TILE, d), eff, mu,
                                             kb, kk, mode, alpha, beta, gamma, keep, r_t, buf)
                tq += q
                tm += m
                ta += a_sum
            sums[r, 0] = tq
            sums[r, 1] = tm
            if row_avg:
                sums[r, 2] = ta
                bad = bad or not ta <= limit
            bad = bad or not tq <= limit
        _finish_step(j, t + 1, rec[col], bad, eff, g2, mean_before, s, sums, avg, blocks, n_sched, check_every,
                     out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active)
    _end_check(j, s, sums, t0, steps, length, horizon, first_bad, bad_check, active, blocks, n_sched, check_every)


@njit(cache=True, fastmath=False, parallel=True)
def _advance_momentum_parallel(s, c, p, av, xv, yv, lam, w1, noise, sums, lr, batch, mom, rho, rec, t0, lengths,
                               horizon, out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active,
                               nsgd, blocks, kex, trace, check_every, limit, assignment):
    for w in prange(assignment.shape[0]):
        for k in range(assignment.shape[1]):
            j = assignment[w, k]
            if j >= 0:
                _advance_momentum_group(j, s, c, p, av, xv, yv, lam, w1, noise, sums, lr, batch, mom, rho, rec, t0,
                                        lengths[j], horizon, out_q, out_avg, out_eff, out_g2, out_mean, first_bad,
                                        bad_check, active, nsgd, blocks, kex, trace, check_every, limit)


@njit(cache=True, fastmath=False)
def _advance_momentum_serial(s, c, p, av, xv, yv, lam, w1, noise, sums, lr, batch, mom, rho, rec, t0, lengths,
                             horizon, out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active,
                             nsgd, blocks, kex, trace, check_every, limit):
    for j in range(lr.shape[0]):
        _advance_momentum_group(j, s, c, p, av, xv, yv, lam, w1, noise, sums, lr, batch, mom, rho, rec, t0,
                                lengths[j], horizon, out_q, out_avg, out_eff, out_g2, out_mean, first_bad,
                                bad_check, active, nsgd, blocks, kex, trace, check_every, limit)


def advance_momentum_groups(workers: int, *args: Any) -> None:
    """Advance every group through one chunk of heavy-ball steps, on ``workers`` threads (serially for 1).

    Arguments (in order): ``s, c, p (R, d)`` (``E e_t², E e_t e_{t−1}, E e_{t−1}²``), ``ā-moments
    A, X, Y (S, d)`` (``(0, d)`` without averaging), ``λ (d,)``, ``m λ (d,)``, ``σ² (R,)``, running sums
    ``(R, 3)``, the chunk's ``lr, batch, μ (S, L)``, ``ρ (L,)``, ``rec (L,)``, ``t0``, ``lengths (S,)``,
    the horizon, the outputs and flags of :func:`advance_groups`, and ``nsgd, blocks, κ − 2, tr H,
    check_every, limit``. Everything is updated in place. Groups run in parallel; a single schedule
    runs on one thread (there is no wide layout for momentum).
    """
    if workers <= 1:
        _advance_momentum_serial(*args)
        return
    t0, lengths, active = args[15], args[16], args[25]
    steps = args[10].shape[1]
    work = np.where(active, np.clip(np.minimum(lengths, t0 + steps) - t0, 0, None), 0)
    _advance_momentum_parallel(*args, balanced_assignment(work, workers))
