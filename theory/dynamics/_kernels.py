"""Compiled one-pass kernels for the exact solver (NumPy backend, optional numba).

The exact recursion (docs/math.md#sgd-second-moment-recursion), its NSGD rate
(docs/math.md#normalized-sgd) and the iterate-average moments (docs/math.md#iterate-averaging)
advance here in compiled loops over steps, chunk by chunk, so no Python runs per step. Each step
reads and writes every state row once, and the same pass accumulates the weighted sums
``q = Σ m λ s``, ``Σ m λ² s`` and ``Σ m λ a`` of the values it writes: what the next step needs (the
NSGD rate and ``q``) and what is recorded (risk, diagnostics).

Reductions have a fixed order, independent of the number of threads: inside a tile of :data:`TILE`
coordinates, coordinate ``k`` of the tile is added into entry ``k mod SUB`` of a small buffer, the
buffer entries go to eight lanes that are added pairwise, and tile sums are added in tile order.

Vectorisation: each block of :data:`SUB` coordinates is advanced by one element-wise loop over
views of the state arrays (no branch: the clamp at 0 is a select; no two written arrays are the same
array), and coordinate ``k`` of the block adds its products into ``buf[:, k]``: an element-wise
update too, so the loop vectorises without reassociating any sum. The loops are compiled with the
fast-math flag ``contract`` only, so LLVM emits packed FMA (a product and a sum rounded once) and
reorders nothing. :func:`weighted_sums`, which sums a state handed in, writes the summed products with
the same expressions and flags, so it fuses them alike and a continued run reads the sums the
uninterrupted run had. The element-wise arithmetic is the reference's (``second_moment_step``) with
some products fused into FMA, and the sums are the reference's in another order: the two kernels
agree to rounding (tests hold them at 1e-12), and the fused kernel agrees with itself bit for bit
across thread counts and continued runs.

Layout: a *group* is one schedule's rows (the full problem, and with ``split`` its bias and variance
rows, which use the full row's rate). Groups never interact, so each worker advances its share of the
groups through a whole chunk of steps (:func:`run_workers`: the kernels release the GIL and run on
Python threads, with one join per chunk and no barrier inside it). A single schedule runs on one
thread: splitting its coordinates across threads needs a reduction every step, which costs more than
it saves at any ``d`` measured (issue #20: 4–15× slower).

Divergence bookkeeping follows :func:`~ramplab.theory.expected_risk` and the loop of ``_loop``: per group,
``first_bad`` is the first step whose risk or averaged risk is not finite, and ``bad_check`` the
first check step (a multiple of ``check_every``) at which the state itself was not finite; the group
stops there.

Threads: :func:`thread_count` (numba's setting, ``NUMBA_NUM_THREADS`` or ``numba.set_num_threads``).
Results do not depend on it.

This module imports without numba (``AVAILABLE`` is then False and the solver uses the reference).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

try:  # numba is the optional extra `fast`
    import numba
    from numba import njit

    AVAILABLE = True
except ImportError:  # pragma: no cover - exercised only without the extra
    numba = None
    AVAILABLE = False

    def njit(*args: Any, **kwargs: Any) -> Any:
        def wrap(fn: Any) -> Any:
            return fn

        return wrap if not args or not callable(args[0]) else args[0]


from . import _step


# ---------------------------------------------------------------------------- the persistent cache
def _source_stamp(paths: tuple[str, ...]) -> bytes:
    """SHA-256 of the contents of ``paths`` (a kernel module and ``_step``, whose formulas it inlines)."""
    import hashlib
    import os

    digest = hashlib.sha256()
    for path in paths:
        with open(os.fspath(path), "rb") as fh:
            digest.update(fh.read())
    return digest.digest()


def _stamped_cache(paths: tuple[str, ...]) -> Any:
    """numba's function cache, keyed on :func:`_source_stamp` of ``paths`` (``None`` where numba's layout differs).

    numba keys a cached kernel on its own source file only, so a change of ``_step`` alone would be
    served stale kernels; here the key is the content of the kernel module and ``_step``, never a
    modification time, so the cache also survives a reinstall of the same sources (``make install``; pip
    leaves ``__pycache__`` in place). Where it is: ``NUMBA_CACHE_DIR`` when set, else the installed
    package's ``__pycache__`` when writable, else numba's user-wide cache folder (numba's own order).
    """
    try:
        from numba.core import caching
    except ImportError:  # pragma: no cover
        return None

    def pick(name: str) -> Any:
        return getattr(caching, name, None) or getattr(caching, "_" + name, None)

    bases = [pick(n) for n in ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator")]
    impl, cache = pick("CompileResultCacheImpl"), pick("FunctionCache")
    if None in bases or impl is None or cache is None:  # pragma: no cover - another numba layout
        return None
    stamp = _source_stamp(paths)

    def stamped(base: Any) -> Any:
        return type("Stamped" + base.__name__.lstrip("_"), (base,), {"get_source_stamp": lambda self: stamp})

    impl_class = type("StampedCacheImpl", (impl,), {"_locator_classes": [stamped(b) for b in bases]})
    return type("StampedFunctionCache", (cache,), {"_impl_class": impl_class})


def stamped_kernels(module_file: str) -> Callable[..., Any]:
    """A decorator factory ``(**flags) -> njit(**flags)`` whose kernels are cached on disk under
    :func:`_stamped_cache` of ``module_file`` and ``_step`` (numba's ``cache=True`` where numba's layout differs).
    Every compiled kernel module of the solver (this one, ``_adjoint_kernels``) makes its decorator here."""
    cache = _stamped_cache((module_file, _step.__file__)) if AVAILABLE else None

    def kernel(**flags: Any) -> Any:
        def wrap(fn: Any) -> Any:
            if cache is None:
                return njit(cache=True, **flags)(fn)
            disp = njit(cache=False, **flags)(fn)
            disp._cache = cache(disp.py_func)
            return disp

        return wrap

    return kernel


#: ``numba.njit(**flags)`` cached on disk, keyed on this module and ``_step``.
_kernel = stamped_kernels(__file__)

# The step's formulas (module docstring of ``_step``), compiled and inlined: the kernels below perform
# the operations of the reference loop, in its order, one coordinate at a time (inlined into an update
# loop, they take its fast-math flags: ``contract`` may fuse a product and a sum into one FMA).
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
_decay_second_moment = njit(cache=True, fastmath=False, inline="always")(_step.decay_second_moment)
_decay_target_moment = njit(cache=True, fastmath=False, inline="always")(_step.decay_target_moment)
_decay_moved_cross = njit(cache=True, fastmath=False, inline="always")(_step.decay_moved_cross)
_heavy_ball_decay_second_moment = njit(cache=True, fastmath=False, inline="always")(
    _step.heavy_ball_decay_second_moment)
_heavy_ball_decay_cross = njit(cache=True, fastmath=False, inline="always")(_step.heavy_ball_decay_cross)
_heavy_ball_decay_target = njit(cache=True, fastmath=False, inline="always")(_step.heavy_ball_decay_target)
_heavy_ball_decay_moved_cross = njit(cache=True, fastmath=False, inline="always")(_step.heavy_ball_decay_moved_cross)

#: The kernels themselves (``advance_groups``, ``advance_momentum_groups``, ``run_workers``,
#: ``balanced_assignment``, ``thread_count``, ``weighted_sums``) are internal plumbing of
#: ``ramplab.theory.expected_risk`` and ``momentum``: nothing outside the package calls them, their argument
#: lists follow the solver's array layout (docs/math.md#exact-solver-layout), so they are not public.
__all__ = ["AVAILABLE", "SUB", "TILE"]

#: Coordinates per reduction tile (a multiple of :data:`SUB`).
TILE = 8192
#: Width of the per-tile summation buffers (a multiple of 8).
SUB = 256
#: Fast-math flags of the element-wise loops: ``contract`` only, so LLVM may fuse a product and a sum
#: into one FMA (one rounding instead of two) but never reorders anything.
_UPDATE_FLAGS = {"contract"}
# A step that never happens (used for "not yet" in first_bad / bad_check).
NEVER = np.iinfo(np.int64).max


def thread_count() -> int:
    """Threads the kernels use: numba's setting (``NUMBA_NUM_THREADS``, ``numba.set_num_threads``; 1 without numba).

    Examples
    --------
    >>> thread_count() >= 1
    True
    """
    return int(numba.get_num_threads()) if AVAILABLE else 1


@_kernel(fastmath=False, nogil=True)
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


@_kernel(fastmath=_UPDATE_FLAGS, nogil=True)
def _sgd_tile(s, lam, w1, i0, i1, eff, kk, cc, buf):
    """Update coordinates ``[i0, i1)`` of one row ``s`` and return ``(Σ m λ s, Σ m λ² s)`` of the new values.

    Per coordinate, with x = eff λ: s ← (1 − x(2 − cc x)) s + kk λ, clamped at 0 (NaN stays NaN);
    ``w1`` is m λ, ``buf`` zeroed scratch of shape ``(3, SUB)``, left zeroed. Each block of ``SUB``
    coordinates is one element-wise loop over views (no branch: the clamp is a select); coordinate
    ``k`` of the block adds into ``buf[:, k]``, so the loop vectorises without reassociating the sums,
    and :func:`_lane_sum` adds each buffer in a fixed order. The products summed are written exactly
    as in :func:`weighted_sums` (same expressions, same flags, so the same FMA fusion): a continued
    run reads the sums the uninterrupted run had.
    """
    bq = buf[0]
    bm = buf[1]
    for base in range(i0, i1, SUB):
        end = min(base + SUB, i1)
        sv = s[base:end]
        lv = lam[base:end]
        wv = w1[base:end]
        for k in range(end - base):
            li = lv[k]
            v = _sgd_second_moment(sv[k], eff * li, cc, kk, li)
            sv[k] = 0.0 if v < 0.0 else v  # ≥ 0 exactly for κ ≥ 1; rounding can leave −1e-17 (NaN stays)
            wq = wv[k] * sv[k]  # the stored value (float32 states: what a continuation reads)
            bq[k] += wq
            bm[k] += wq * li
    width = min(i1 - i0, SUB)
    q = _lane_sum(bq, width)
    return q, _lane_sum(bm, width)


@_kernel(fastmath=_UPDATE_FLAGS, nogil=True)
def _sgd_average_tile(s, a, c, lam, w1, i0, i1, eff, kk, cc, alpha, beta, gamma, keep, rho, buf):
    """:func:`_sgd_tile` with the iterate-average moments ``a, c`` of the row (docs/math.md#iterate-averaging).

    Per coordinate, after the step (in this order): c ← (1 − x) c, a ← alpha a + beta s + gamma c,
    c ← keep c + rho s. Returns ``(Σ m λ s, Σ m λ² s, Σ m λ a)`` of the new values.
    """
    bq = buf[0]
    bm = buf[1]
    ba = buf[2]
    for base in range(i0, i1, SUB):
        end = min(base + SUB, i1)
        sv = s[base:end]
        av = a[base:end]
        cv = c[base:end]
        lv = lam[base:end]
        wv = w1[base:end]
        for k in range(end - base):
            li = lv[k]
            x = eff * li
            v = _sgd_second_moment(sv[k], x, cc, kk, li)
            v = 0.0 if v < 0.0 else v  # ≥ 0 exactly for κ ≥ 1; rounding can leave −1e-17 (NaN stays)
            sv[k] = v
            ci = _sgd_moved_cross(cv[k], x)
            av[k] = _averaged_second_moment(av[k], v, ci, alpha, beta, gamma)
            cv[k] = _averaged_cross(ci, v, keep, rho)
            wq = wv[k] * sv[k]
            bq[k] += wq
            bm[k] += wq * li
            ba[k] += wv[k] * av[k]
    width = min(i1 - i0, SUB)
    q = _lane_sum(bq, width)
    m = _lane_sum(bm, width)
    return q, m, _lane_sum(ba, width)


@_kernel(fastmath=_UPDATE_FLAGS, nogil=True)
def _sgd_decay_tile(s, tg, a, c, g, wt, wr, lam, w1, i0, i1, eff, u, kb, kk, row_avg, alpha, beta, gamma, keep, rho,
                    buf):
    """:func:`_sgd_tile` with weight decay ``u = η ω`` (docs/math.md#weight-decay): the row's target moment
    ``tg = E e w*`` and ``W = wt · wr`` come along, and with ``row_avg`` the average moments ``a, c, g``
    (``E ē², E ē e, E ē w*``). Per coordinate, with ``x = eff λ`` and ``m = (1 − u) − x``, the operations
    of ``_step.decay_step`` in its order, then the averaging update. Returns ``(Σ m λ s, Σ m λ² s, Σ m λ a)``.
    """
    bq = buf[0]
    bm = buf[1]
    ba = buf[2]
    one_u = 1.0 - u
    for base in range(i0, i1, SUB):
        end = min(base + SUB, i1)
        for k in range(end - base):
            i = base + k
            li = lam[i]
            x = eff * li
            m = one_u - x
            w = wt[i] * wr
            to = tg[i]
            v = _decay_second_moment(s[i], to, w, x, m, kb, u, kk, li)
            if v < 0.0:  # a variance; rounding can leave −1e-17 → (−)0, and −inf → NaN (as the reference)
                v = 0.0 * v
            tn = _decay_target_moment(to, w, m, u)
            s[i] = v
            tg[i] = tn
            wq = w1[i] * s[i]
            bq[k] += wq
            bm[k] += wq * li
            if row_avg:
                z = _decay_moved_cross(c[i], g[i], m, u)
                a[i] = _averaged_second_moment(a[i], v, z, alpha, beta, gamma)
                c[i] = _averaged_cross(z, v, keep, rho)
                g[i] = _averaged_cross(g[i], tn, keep, rho)
                ba[k] += w1[i] * a[i]
    width = min(i1 - i0, SUB)
    q = _lane_sum(bq, width)
    mm = _lane_sum(bm, width)
    return q, mm, (_lane_sum(ba, width) if row_avg else 0.0)


@_kernel(fastmath=_UPDATE_FLAGS, nogil=True)
def weighted_sums(s, lam, w1):
    """``(Σ m λ s, Σ m λ² s, Σ m λ s)`` per row of ``s`` (``(rows, d)``), in the kernels' summation order.

    Used for the initial state, so that step 0 and later steps are summed alike: the first two as the
    kernels sum a second moment, the third as they sum an average moment (``Σ m λ a``, one product
    fused into the sum where the tiles fuse it).
    """
    rows, d = s.shape
    out = np.zeros((rows, 3))
    buf = np.zeros((3, SUB))
    bq = buf[0]
    bm = buf[1]
    ba = buf[2]
    for r in range(rows):
        for i0 in range(0, d, TILE):
            i1 = min(i0 + TILE, d)
            for base in range(i0, i1, SUB):
                end = min(base + SUB, i1)
                sv = s[r, base:end]
                lv = lam[base:end]
                wv = w1[base:end]
                for k in range(end - base):
                    wq = wv[k] * sv[k]
                    bq[k] += wq
                    bm[k] += wq * lv[k]
                for k in range(end - base):
                    ba[k] += wv[k] * sv[k]
            width = min(i1 - i0, SUB)
            out[r, 0] += _lane_sum(bq, width)
            out[r, 1] += _lane_sum(bm, width)
            out[r, 2] += _lane_sum(ba, width)
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


@_kernel(fastmath=False, nogil=True)
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


@_kernel(fastmath=False, nogil=True)
def _advance_group(j, s, a, c, lam, w1, noise, sums, lr, batch, rho, rec, t0, length, horizon,
                   out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active,
                   nsgd, blocks, kex, trace, check_every, limit, tg, g, wt, wrow, udec):
    """Advance group ``j`` through the chunk's steps (serial); see the module docstring.

    With weight decay (``tg`` has rows): ``tg (R, d)`` the target moments, ``g (S, d)`` the average's,
    ``wt (d,)`` ``W``, ``wrow (R,)`` its per-row factor and ``udec (S, L)`` the decay ``u = η ω`` per step.
    """
    n_sched = lr.shape[0]
    d = s.shape[1]
    avg = a.shape[0] > 0
    decay = tg.shape[0] > 0
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
        bad = not active[j]  # False (an active group), typed as a plain bool: one signature of _finish_step
        for b in range(blocks):
            r = j + b * n_sched
            kk = _noise_coefficient(eff, batch[j, col], sums[r, 0], noise[r])
            row_avg = avg and b == 0
            tq = 0.0
            tm = 0.0
            ta = 0.0
            for i0 in range(0, d, TILE):
                i1 = min(i0 + TILE, d)
                if decay:
                    q, m, av = _sgd_decay_tile(s[r], tg[r], a[j] if row_avg else s[r], c[j] if row_avg else s[r],
                                               g[j] if row_avg else s[r], wt, wrow[r], lam, w1, i0, i1, eff,
                                               udec[j, col], kex / batch[j, col], kk, row_avg, alpha, beta, gamma,
                                               keep, r_t, buf)
                    ta += av
                elif row_avg:
                    q, m, av = _sgd_average_tile(s[r], a[j], c[j], lam, w1, i0, i1, eff, kk, cc,
                                                 alpha, beta, gamma, keep, r_t, buf)
                    ta += av
                else:
                    q, m = _sgd_tile(s[r], lam, w1, i0, i1, eff, kk, cc, buf)
                tq += q
                tm += m
            sums[r, 0] = tq
            sums[r, 1] = tm
            if row_avg:
                sums[r, 2] = ta
                bad = bad or not ta <= limit  # NaN, ±inf or past the blow-up bound
            bad = bad or not tq <= limit
        _finish_step(j, t + 1, rec[col], bad, eff, g2, mean_before, s, sums, avg, blocks, n_sched, check_every,
                     out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active)
    _end_check(j, s, sums, t0, steps, length, horizon, first_bad, bad_check, active, blocks, n_sched, check_every)


@_kernel(fastmath=False, nogil=True)
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


@_kernel(fastmath=False, nogil=True)
def _advance_groups(s, a, c, lam, w1, noise, sums, lr, batch, rho, rec, t0, lengths, horizon,
                    out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active,
                    nsgd, blocks, kex, trace, check_every, limit, tg, g, wt, wrow, udec, groups):
    # The groups of one worker (−1 pads the list), one after the other; the GIL is released, so
    # workers run side by side on Python threads (:func:`run_workers`).
    for k in range(groups.shape[0]):
        j = groups[k]
        if j >= 0:
            _advance_group(j, s, a, c, lam, w1, noise, sums, lr, batch, rho, rec, t0, lengths[j], horizon,
                           out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active,
                           nsgd, blocks, kex, trace, check_every, limit, tg, g, wt, wrow, udec)


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


_POOL: list[Any] = [None, 0]  # a ThreadPoolExecutor and its size, made on first use


def run_workers(kernel: Any, args: tuple, work: np.ndarray, workers: int) -> None:
    """Run ``kernel(*args, groups)`` once per worker, each on its share of the groups (:func:`balanced_assignment`).

    One worker runs in the calling thread; more run on a pool of Python threads (the kernels release
    the GIL). Groups never interact and every group is advanced by the same serial code, so the
    result does not depend on ``workers``; there is no barrier inside a chunk, only the join at its end.
    """
    workers = max(1, min(int(workers), int(np.count_nonzero(work)) or 1))
    if workers == 1:
        kernel(*args, np.arange(work.shape[0], dtype=np.int64))
        return
    assignment = balanced_assignment(work, workers)
    if _POOL[0] is None or _POOL[1] < workers - 1:
        from concurrent.futures import ThreadPoolExecutor

        if _POOL[0] is not None:
            _POOL[0].shutdown(wait=True)
        _POOL[0], _POOL[1] = ThreadPoolExecutor(max_workers=workers - 1, thread_name_prefix="ramplab-kernel"), workers - 1
    futures = [_POOL[0].submit(kernel, *args, assignment[w]) for w in range(1, workers)]
    error = None
    try:
        kernel(*args, assignment[0])
    except BaseException as exc:  # pragma: no cover - the kernels raise nothing; join the others first
        error = exc
    for f in futures:
        f.result()
    if error is not None:  # pragma: no cover
        raise error


def _chunk_work(t0: int, steps: int, lengths: np.ndarray, active: np.ndarray) -> np.ndarray:
    return np.where(active, np.clip(np.minimum(lengths, t0 + steps) - t0, 0, None), 0)


def advance_groups(workers: int, *args: Any) -> None:
    """Advance every group through one chunk of steps, on ``workers`` threads (in this thread for 1).

    Arguments (in order): ``s (R, d)``, ``a, c (S, d)`` (``(0, d)`` without averaging), ``λ (d,)``,
    ``m λ (d,)``, per-row ``σ² (R,)``, per-row running sums ``(R, 3)`` (``Σ mλs, Σ mλ²s, Σ mλa`` of the
    current state), the chunk's ``lr, batch (S, L)``, ``ρ (L,)``, record columns ``rec (L,)`` (−1: not
    recorded), the chunk's first step ``t0``, schedule lengths ``(S,)``, the horizon, the outputs
    ``q (R, K)``, ``avg, eff, G, mean (S, K)``, ``first_bad, bad_check (S,)``, ``active (S,)``, and
    ``nsgd, blocks, κ − 2, tr H, check_every, limit`` (a step whose ``Σ mλs`` or ``Σ mλa`` is not
    ``≤ limit`` counts as diverged), then the weight-decay arrays ``T (R, d)``, ``G (S, d)`` (``(0, d)``
    without decay or averaging), ``W (d,)``, ``W``'s per-row factor ``(R,)`` and ``u = η ω (S, L)``.
    Everything is updated in place.
    """
    run_workers(_advance_groups, args, _chunk_work(args[11], args[7].shape[1], args[12], args[21]), workers)


# ------------------------------------------------------------------------------ heavy-ball momentum
@_kernel(fastmath=_UPDATE_FLAGS, nogil=True)
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
            bm[k] += wq * li  # also where unused (mode 0): the sums are written as in weighted_sums
            if mode == 2:
                xo = xv[i]
                z = _heavy_ball_moved_cross(xo, yv[i], a, mu)
                yv[i] = _averaged_cross(xo, cn, keep, rho)
                xv[i] = _averaged_cross(z, v, keep, rho)
                an = _averaged_second_moment(av[i], v, z, alpha, beta, gamma)
                av[i] = an
                ba[k] += w1[i] * av[i]
    q = _lane_sum(bq, width)
    m = _lane_sum(bm, width)
    av_sum = _lane_sum(ba, width) if mode == 2 else 0.0
    return q, m, av_sum


@_kernel(fastmath=_UPDATE_FLAGS, nogil=True)
def _momentum_decay_tile(s, c, p, tg, fg, av, xv, yv, gv, wt, wr, lam, w1, i0, i1, eff, mu, u, kb, kk, row_avg,
                         alpha, beta, gamma, keep, rho, buf):
    """:func:`_momentum_tile` with weight decay (docs/math.md#weight-decay): also the row's ``T = E e_t w*``
    and ``F = E e_{t−1} w*``, ``W = wt · wr``, and with ``row_avg`` the average's ``G = E ē w*``. Per
    coordinate the operations of ``_step.heavy_ball_decay_step`` in its order, then the averaging update."""
    n = i1 - i0
    width = min(n, SUB)
    bq = buf[0]
    bm = buf[1]
    ba = buf[2]
    one_mu_u = (1.0 + mu) - u
    for sb in range((n + SUB - 1) // SUB):
        base = i0 + sb * SUB
        cnt = min(SUB, i1 - base)
        for k in range(cnt):
            i = base + k
            li = lam[i]
            x = eff * li
            m = one_mu_u - x
            w = wt[i] * wr
            so = s[i]
            co = c[i]
            to = tg[i]
            fo = fg[i]
            v = _heavy_ball_decay_second_moment(so, co, p[i], to, fo, w, x, m, kb, mu, u, kk, li)
            if v < 0.0:
                v = 0.0 * v
            cn = _heavy_ball_decay_cross(so, co, to, m, mu, u)
            tn = _heavy_ball_decay_target(to, fo, w, m, mu, u)
            s[i] = v
            c[i] = cn
            p[i] = so
            tg[i] = tn
            fg[i] = to
            wq = w1[i] * s[i]
            bq[k] += wq
            bm[k] += wq * li
            if row_avg:
                xo = xv[i]
                z = _heavy_ball_decay_moved_cross(xo, yv[i], gv[i], m, mu, u)
                yv[i] = _averaged_cross(xo, cn, keep, rho)
                xv[i] = _averaged_cross(z, v, keep, rho)
                av[i] = _averaged_second_moment(av[i], v, z, alpha, beta, gamma)
                gv[i] = _averaged_cross(gv[i], tn, keep, rho)
                ba[k] += w1[i] * av[i]
    q = _lane_sum(bq, width)
    mm = _lane_sum(bm, width)
    return q, mm, (_lane_sum(ba, width) if row_avg else 0.0)


@_kernel(fastmath=False, nogil=True)
def _advance_momentum_group(j, s, c, p, av, xv, yv, lam, w1, noise, sums, lr, batch, mom, rho, rec, t0, length,
                            horizon, out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active,
                            nsgd, blocks, kex, trace, check_every, limit, tg, fg, gv, wt, wrow, udec):
    """Advance group ``j`` through the chunk's steps with momentum (serial); see :func:`_advance_group`
    (weight decay: ``tg, fg (R, d)`` the target moments ``T, F``, ``gv (S, d)`` the average's ``G``)."""
    n_sched = lr.shape[0]
    d = s.shape[1]
    avg = av.shape[0] > 0
    decay = tg.shape[0] > 0
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
        bad = not active[j]  # False (an active group), typed as a plain bool: one signature of _finish_step
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
                if decay:
                    q, m, a_sum = _momentum_decay_tile(s[r], c[r], p[r], tg[r], fg[r], ar, xr, yr,
                                                       gv[j] if row_avg else s[r], wt, wrow[r], lam, w1, i0,
                                                       min(i0 + TILE, d), eff, mu, udec[j, col], kb, kk, row_avg,
                                                       alpha, beta, gamma, keep, r_t, buf)
                else:
                    q, m, a_sum = _momentum_tile(s[r], c[r], p[r], ar, xr, yr, lam, w1, i0, min(i0 + TILE, d), eff,
                                                 mu, kb, kk, mode, alpha, beta, gamma, keep, r_t, buf)
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


@_kernel(fastmath=False, nogil=True)
def _advance_momentum(s, c, p, av, xv, yv, lam, w1, noise, sums, lr, batch, mom, rho, rec, t0, lengths,
                      horizon, out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active,
                      nsgd, blocks, kex, trace, check_every, limit, tg, fg, gv, wt, wrow, udec, groups):
    for k in range(groups.shape[0]):
        j = groups[k]
        if j >= 0:
            _advance_momentum_group(j, s, c, p, av, xv, yv, lam, w1, noise, sums, lr, batch, mom, rho, rec, t0,
                                    lengths[j], horizon, out_q, out_avg, out_eff, out_g2, out_mean, first_bad,
                                    bad_check, active, nsgd, blocks, kex, trace, check_every, limit, tg, fg, gv, wt,
                                    wrow, udec)


def advance_momentum_groups(workers: int, *args: Any) -> None:
    """Advance every group through one chunk of heavy-ball steps, on ``workers`` threads (serially for 1).

    Arguments (in order): ``s, c, p (R, d)`` (``E e_t², E e_t e_{t−1}, E e_{t−1}²``), ``ā-moments
    A, X, Y (S, d)`` (``(0, d)`` without averaging), ``λ (d,)``, ``m λ (d,)``, ``σ² (R,)``, running sums
    ``(R, 3)``, the chunk's ``lr, batch, μ (S, L)``, ``ρ (L,)``, ``rec (L,)``, ``t0``, ``lengths (S,)``,
    the horizon, the outputs and flags of :func:`advance_groups`, ``nsgd, blocks, κ − 2, tr H,
    check_every, limit``, and the weight-decay arrays ``T, F (R, d)``, ``G (S, d)`` (``(0, d)`` without),
    ``W (d,)``, its per-row factor ``(R,)`` and ``u (S, L)``. Everything is updated in place. Groups run in
    parallel (:func:`run_workers`).
    """
    run_workers(_advance_momentum, args, _chunk_work(args[15], args[10].shape[1], args[16], args[25]), workers)
