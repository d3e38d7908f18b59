"""Compiled one-pass kernels for the exact solver (NumPy backend, optional numba).

The exact recursion (docs/math.md#sgd-second-moment-recursion), its NSGD rate
(docs/math.md#normalized-sgd) and the iterate-average moments (docs/math.md#iterate-averaging)
advance here in compiled loops over steps, chunk by chunk, so no Python runs per step. Each step
reads and writes every state row once, and the same pass accumulates the weighted sums
``q = Σ m λ s``, ``Σ m λ² s`` and ``Σ m λ a`` of the values it writes: what the next step needs (the
NSGD rate and ``q``) and what is recorded (risk, diagnostics).

Reductions have a fixed order, independent of the number of threads and of the vector width: inside
a tile of :data:`TILE` coordinates, coordinate ``k`` of the tile is added into lane ``k mod LANES`` of a
small accumulator (:data:`LANES` = 16 lanes per sum, each lane summing its coordinates in index order),
the lanes are added pairwise, ``(((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7))) + (… l8 … l15)``, and
tile sums are added in tile order.

Vectorisation: a tile kernel loops over groups of :data:`LANES` coordinates, and inside a group over
the lanes; the inner loop is element-wise (coordinate ``g LANES + l`` updates its own state entries and
adds into lane ``l``), so LLVM's loop vectoriser turns it into packed operations without reassociating
any sum, and keeps the lane accumulators in vector registers across the groups. Two promises make that
possible: no branch on data (the clamp at 0 is a select), and no overlap between the arrays a tile
writes and the others it reads — the tile kernels are compiled with numba's ``noalias`` flag
(:func:`_noalias_pipeline`), which their callers honour by passing distinct state arrays, from which the
tiles make their own views (so LLVM needs no run-time overlap checks and keeps the accumulators out of memory). The loops are compiled
with the fast-math flag ``contract`` only, so LLVM emits packed FMA (a product and a sum rounded once)
and reorders nothing. :func:`weighted_sums`, which sums a state handed in, forms the summed products with
the same expressions, lanes and flags, so it fuses them alike and a continued run reads the sums the
uninterrupted run had. The element-wise arithmetic is the reference's (``second_moment_step``) with
some products fused into FMA, and the sums are the reference's in another order: the two kernels
agree to rounding (tests hold them at 1e-12), and the fused kernel agrees with itself bit for bit
across thread counts and continued runs.

Layout: a *group* is one schedule's rows (the full problem, and with ``split`` its bias and variance
rows, which use the full row's rate). Groups never interact, so each worker advances its share of the
groups through a whole chunk of steps (:func:`run_workers`: the kernels release the GIL and run on
Python threads, with one join per chunk and no barrier inside it). A single schedule runs on one
thread: splitting its coordinates across threads needs a reduction every step, which costs more than
it saves at any ``d`` measured (issue #20: 4–15× slower). A group of one row (no ``split``) that fits one
tile (``d ≤ TILE``), without weight decay, runs :func:`_one_tile_group`: the same operations, with the
tile's loop inlined into the step loop, so that a step makes no call with dozens of array arguments (at
``d = 1000`` that call was a tenth of a step).

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
__all__ = ["AVAILABLE", "LANES", "TILE"]

#: Coordinates per reduction tile (a multiple of :data:`LANES`).
TILE = 8192
#: Accumulator lanes of every sum inside a tile: coordinate ``k`` of the tile adds into lane ``k mod LANES``.
#: Sixteen, not eight: with eight, LLVM unrolls the lane loop of the plain SGD tile completely before the
#: vectoriser sees it, and the result is scalar code (two packed and sixteen scalar FMA); with sixteen
#: every tile's lane loop is vectorised (two packed iterations of eight on AVX-512).
LANES = 16
#: Fast-math flags of the element-wise loops: ``contract`` only, so LLVM may fuse a product and a sum
#: into one FMA (one rounding instead of two) but never reorders anything.
_UPDATE_FLAGS = {"contract"}


def _noalias_pipeline() -> Any:
    """numba's nopython pipeline with the ``noalias`` flag set: every pointer argument of the compiled
    function (the arrays' data) is marked ``noalias`` for LLVM.

    The tile kernels take arrays that never overlap (different state arrays; ``λ`` and ``m λ`` may be one
    array, but both are only read; the rows of an absent average are never read), so the promise holds,
    and it is what lets LLVM keep the lane accumulators in vector registers and vectorise the update
    without run-time overlap checks. Without numba's ``noalias`` flag the kernels would still be correct,
    only slower.
    """
    from numba.core.compiler import CompilerBase, DefaultPassBuilder

    class NoAliasCompiler(CompilerBase):
        def define_pipelines(self) -> list:
            self.state.flags.noalias = True
            return [DefaultPassBuilder.define_nopython_pipeline(self.state)]

    return NoAliasCompiler


_NOALIAS = _noalias_pipeline() if AVAILABLE else None
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


@njit(cache=True, fastmath=False, inline="always")
def _eight(acc, e):
    return (((acc[e] + acc[e + 1]) + (acc[e + 2] + acc[e + 3]))
            + ((acc[e + 4] + acc[e + 5]) + (acc[e + 6] + acc[e + 7])))


@njit(cache=True, fastmath=False, inline="always")
def _lanes_total(acc, first):
    """``acc[first : first + LANES]`` (16 lanes) added pairwise: ``((l0 + l1) + (l2 + l3)) + …`` down to one."""
    return _eight(acc, first) + _eight(acc, first + 8)


@njit(cache=True, fastmath=False, inline="always")
def _clear(acc):
    # Every scratch holds 3 LANES entries: a constant count is six vector stores, not a call of memset.
    for e in range(3 * LANES):
        acc[e] = 0.0


# Every per-coordinate body below reads coordinate ``i`` of the tile's views and adds into lane ``l``
# (``acc[l]``: Σ m λ s, ``acc[LANES + l]``: Σ m λ² s, ``acc[2 LANES + l]``: Σ m λ a). The products are
# written alike everywhere (``wq = w s`` of the stored s, ``wq λ``, ``w a``), so ``contract`` fuses them alike:
# a sum formed by a kernel and the same sum formed by :func:`weighted_sums` are the same bits.
@njit(cache=True, fastmath=False, inline="always")
def _add_second_moment(acc, l, wi, si, li):
    wq = wi * si  # the stored value (float32 states: what a continuation reads)
    acc[l] += wq
    acc[LANES + l] += wq * li


@njit(cache=True, fastmath=False, inline="always")
def _add_average(acc, l, wi, ai):
    acc[2 * LANES + l] += wi * ai


@njit(cache=True, fastmath=False, inline="always")
def _sgd_coordinate(s, lam, w1, i, l, acc, eff, kk, cc):
    li = lam[i]
    v = _sgd_second_moment(s[i], eff * li, cc, kk, li)
    s[i] = 0.0 if v < 0.0 else v  # ≥ 0 exactly for κ ≥ 1; rounding can leave −1e-17 (NaN stays)
    _add_second_moment(acc, l, w1[i], s[i], li)


@_kernel(fastmath=_UPDATE_FLAGS, nogil=True, pipeline_class=_NOALIAS)
def _sgd_tile(s_rows, r, lam_row, w1_row, i0, i1, eff, kk, cc, acc):
    """One SGD step of coordinates ``[i0, i1)`` of row ``r`` of ``s_rows``; returns ``(Σ m λ s, Σ m λ² s)``
    of the new values.

    Per coordinate, with x = eff λ: s ← (1 − x(2 − cc x)) s + kk λ, clamped at 0 (a select; NaN stays).
    Coordinate ``k`` adds into lane ``k mod LANES`` of ``acc`` (scratch of ``3 LANES`` entries); the
    inner loop over the lanes is one packed operation per group of ``LANES`` coordinates (module docstring).
    The tiles take whole arrays and indices and make their views themselves: a view made in the step loop
    of the caller costs an atomic reference count, which dominated a step at small ``d``.
    """
    return _sgd_lanes(s_rows[r][i0:i1], lam_row[i0:i1], w1_row[i0:i1], eff, kk, cc, acc)


@njit(cache=True, fastmath=False, inline="always")
def _sgd_lanes(s, lam, w1, eff, kk, cc, acc):
    """The body of :func:`_sgd_tile` on its views (inlined there and in :func:`_one_tile_group`)."""
    _clear(acc)
    n = s.shape[0]
    full = n - n % LANES
    for g in range(full // LANES):
        for l in range(LANES):
            _sgd_coordinate(s, lam, w1, g * LANES + l, l, acc, eff, kk, cc)
    # The tail's index unsigned: numba then emits no wrap-around of a negative index (a cheaper tail).
    for l in range(n - full):
        _sgd_coordinate(s, lam, w1, np.uint64(full + l), l, acc, eff, kk, cc)
    return _lanes_total(acc, 0), _lanes_total(acc, LANES)


@njit(cache=True, fastmath=False, inline="always")
def _sgd_average_coordinate(s, a, c, lam, w1, i, l, acc, eff, kk, cc, alpha, beta, gamma, keep, rho):
    li = lam[i]
    x = eff * li
    v = _sgd_second_moment(s[i], x, cc, kk, li)
    v = 0.0 if v < 0.0 else v  # ≥ 0 exactly for κ ≥ 1; rounding can leave −1e-17 (NaN stays)
    s[i] = v
    ci = _sgd_moved_cross(c[i], x)
    a[i] = _averaged_second_moment(a[i], v, ci, alpha, beta, gamma)
    c[i] = _averaged_cross(ci, v, keep, rho)
    wi = w1[i]
    _add_second_moment(acc, l, wi, s[i], li)
    _add_average(acc, l, wi, a[i])


@_kernel(fastmath=_UPDATE_FLAGS, nogil=True, pipeline_class=_NOALIAS)
def _sgd_average_tile(s_rows, r, a_rows, c_rows, j, lam_row, w1_row, i0, i1, eff, kk, cc, alpha, beta, gamma, keep,
                      rho, acc):
    """:func:`_sgd_tile` with the iterate-average moments ``a, c`` of the row (docs/math.md#iterate-averaging).

    Per coordinate, after the step (in this order): c ← (1 − x) c, a ← alpha a + beta s + gamma c,
    c ← keep c + rho s (``a, c``: row ``j`` of ``a_rows, c_rows``). Returns ``(Σ m λ s, Σ m λ² s, Σ m λ a)``
    of the new values.
    """
    return _sgd_average_lanes(s_rows[r][i0:i1], a_rows[j][i0:i1], c_rows[j][i0:i1], lam_row[i0:i1], w1_row[i0:i1],
                              eff, kk, cc, alpha, beta, gamma, keep, rho, acc)


@njit(cache=True, fastmath=False, inline="always")
def _sgd_average_lanes(s, a, c, lam, w1, eff, kk, cc, alpha, beta, gamma, keep, rho, acc):
    """The body of :func:`_sgd_average_tile` on its views (inlined there and in :func:`_one_tile_group`)."""
    _clear(acc)
    n = s.shape[0]
    full = n - n % LANES
    for g in range(full // LANES):
        for l in range(LANES):
            _sgd_average_coordinate(s, a, c, lam, w1, g * LANES + l, l, acc, eff, kk, cc, alpha, beta, gamma, keep,
                                    rho)
    # The tail's index unsigned: numba then emits no wrap-around of a negative index (a cheaper tail).
    for l in range(n - full):
        _sgd_average_coordinate(s, a, c, lam, w1, np.uint64(full + l), l, acc, eff, kk, cc, alpha, beta, gamma, keep,
                                rho)
    return _lanes_total(acc, 0), _lanes_total(acc, LANES), _lanes_total(acc, 2 * LANES)


@njit(cache=True, fastmath=False, inline="always")
def _sgd_decay_coordinate(s, tg, a, c, g, wt, lam, w1, i, l, acc, eff, one_u, wr, u, kb, kk, row_avg, alpha, beta,
                          gamma, keep, rho):
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
    wi = w1[i]
    _add_second_moment(acc, l, wi, s[i], li)
    if row_avg:
        z = _decay_moved_cross(c[i], g[i], m, u)
        a[i] = _averaged_second_moment(a[i], v, z, alpha, beta, gamma)
        c[i] = _averaged_cross(z, v, keep, rho)
        g[i] = _averaged_cross(g[i], tn, keep, rho)
        _add_average(acc, l, wi, a[i])


@_kernel(fastmath=_UPDATE_FLAGS, nogil=True, pipeline_class=_NOALIAS)
def _sgd_decay_tile(s_rows, tg_rows, r, a_rows, c_rows, g_rows, j, wt_row, lam_row, w1_row, i0, i1, eff, u, wr, kb, kk,
                    row_avg, alpha, beta, gamma, keep, rho, acc):
    """:func:`_sgd_tile` with weight decay ``u = η ω`` (docs/math.md#weight-decay): the row's target moment
    ``tg = E e w*`` and ``W = wt · wr`` come along, and with ``row_avg`` the average moments ``a, c, g``
    (``E ē², E ē e, E ē w*``, row ``j``; never read otherwise). Per coordinate, with ``x = eff λ`` and
    ``m = (1 − u) − x``, the operations of ``_step.decay_step`` in its order, then the averaging update.
    Returns ``(Σ m λ s, Σ m λ² s, Σ m λ a)``.
    """
    s = s_rows[r][i0:i1]
    tg = tg_rows[r][i0:i1]
    a = a_rows[j][i0:i1] if row_avg else s[:0]  # the average's rows may be absent: an empty view, never read
    c = c_rows[j][i0:i1] if row_avg else s[:0]
    g = g_rows[j][i0:i1] if row_avg else s[:0]
    wt = wt_row[i0:i1]
    lam = lam_row[i0:i1]
    w1 = w1_row[i0:i1]
    _clear(acc)
    one_u = 1.0 - u
    n = s.shape[0]
    full = n - n % LANES
    for grp in range(full // LANES):
        for l in range(LANES):
            _sgd_decay_coordinate(s, tg, a, c, g, wt, lam, w1, grp * LANES + l, l, acc, eff, one_u, wr, u, kb, kk,
                                  row_avg, alpha, beta, gamma, keep, rho)
    for l in range(n - full):
        _sgd_decay_coordinate(s, tg, a, c, g, wt, lam, w1, full + l, l, acc, eff, one_u, wr, u, kb, kk, row_avg,
                              alpha, beta, gamma, keep, rho)
    return _lanes_total(acc, 0), _lanes_total(acc, LANES), (_lanes_total(acc, 2 * LANES) if row_avg else 0.0)


@njit(cache=True, fastmath=False, inline="always")
def _sum_coordinate(s, lam, w1, i, l, acc):
    _add_second_moment(acc, l, w1[i], s[i], lam[i])


@njit(cache=True, fastmath=False, inline="always")
def _average_sum_coordinate(s, w1, i, l, acc):
    _add_average(acc, l, w1[i], s[i])


@_kernel(fastmath=_UPDATE_FLAGS, nogil=True, pipeline_class=_NOALIAS)
def _sums_tile(s_rows, r, lam_row, w1_row, i0, i1, acc):
    """``(Σ m λ s, Σ m λ² s, Σ m λ s)`` of one tile: the first two as the kernels sum a second moment, the
    third (its own pass, so that its product is fused as the kernels fuse ``w a``) as they sum an average."""
    s = s_rows[r][i0:i1]
    lam = lam_row[i0:i1]
    w1 = w1_row[i0:i1]
    _clear(acc)
    n = s.shape[0]
    full = n - n % LANES
    for g in range(full // LANES):
        for l in range(LANES):
            _sum_coordinate(s, lam, w1, g * LANES + l, l, acc)
    for l in range(n - full):
        _sum_coordinate(s, lam, w1, full + l, l, acc)
    for g in range(full // LANES):
        for l in range(LANES):
            _average_sum_coordinate(s, w1, g * LANES + l, l, acc)
    for l in range(n - full):
        _average_sum_coordinate(s, w1, full + l, l, acc)
    return _lanes_total(acc, 0), _lanes_total(acc, LANES), _lanes_total(acc, 2 * LANES)


@_kernel(fastmath=False, nogil=True)
def weighted_sums(s, lam, w1):
    """``(Σ m λ s, Σ m λ² s, Σ m λ s)`` per row of ``s`` (``(rows, d)``), in the kernels' summation order.

    Used for the initial state, so that step 0 and later steps are summed alike: the first two as the
    kernels sum a second moment, the third as they sum an average moment (``Σ m λ a``, one product
    fused into the sum where the tiles fuse it).
    """
    rows, d = s.shape
    out = np.zeros((rows, 3))
    acc = np.zeros(3 * LANES)
    for r in range(rows):
        for i0 in range(0, d, TILE):
            q, m, a = _sums_tile(s, r, lam, w1, i0, min(i0 + TILE, d), acc)
            out[r, 0] += q
            out[r, 1] += m
            out[r, 2] += a
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
    acc = np.zeros(3 * LANES)
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
                    q, m, av = _sgd_decay_tile(s, tg, r, a, c, g, j, wt, lam, w1, i0, i1, eff, udec[j, col], wrow[r],
                                               kex / batch[j, col], kk, row_avg, alpha, beta, gamma, keep, r_t, acc)
                    ta += av
                elif row_avg:
                    q, m, av = _sgd_average_tile(s, r, a, c, j, lam, w1, i0, i1, eff, kk, cc, alpha, beta, gamma, keep,
                                                 r_t, acc)
                    ta += av
                else:
                    q, m = _sgd_tile(s, r, lam, w1, i0, i1, eff, kk, cc, acc)
                tq += q
                tm += m
            sums[r, 0] = tq
            sums[r, 1] = tm
            if row_avg:
                sums[r, 2] = ta
                bad = bad or not ta <= limit  # NaN, ±inf or past the blow-up bound
            bad = bad or not tq <= limit
        if rec[col] >= 0 or bad or (t + 1) % check_every == 0:  # else _finish_step has nothing to do
            # (a call takes and releases a reference to each of its array arguments: atomic operations that
            # cost more than a whole step at small d, so it is made only when there is something to do)
            _finish_step(j, t + 1, rec[col], bad, eff, g2, mean_before, s, sums, avg, blocks, n_sched, check_every,
                         out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active)
    _end_check(j, s, sums, t0, steps, length, horizon, first_bad, bad_check, active, blocks, n_sched, check_every)


@_kernel(fastmath=False, nogil=True)
def _step_scalars(nsgd, eta, batch, kex, trace, q_full, m_full, noise_full, r_t):
    """The scalar work of one step of a one-row group, as :func:`_advance_group` does it: ``(eff, G_t, c, k, keep,
    alpha, beta, gamma)``. Its own compiled function (fast-math off), called from :func:`_one_tile_group`, whose
    ``contract`` flag must not reach these formulas (an inlined call would take the caller's flags)."""
    eff, g2, cc = _rate(nsgd, eta, batch, kex, trace, q_full, m_full, noise_full)
    keep, alpha, beta, gamma = _average_weights(r_t)
    kk = _noise_coefficient(eff, batch, q_full, noise_full)
    return eff, g2, cc, kk, keep, alpha, beta, gamma


@_kernel(fastmath=_UPDATE_FLAGS, nogil=True, pipeline_class=_NOALIAS)
def _one_tile_group(j, s, a, c, lam, w1, noise, sums, lr, batch, rho, rec, t0, length, horizon,
                    out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active,
                    nsgd, kex, trace, check_every, limit, acc):
    """:func:`_advance_group` for a group of one row (no ``split``) in one tile (``d ≤ TILE``), without weight
    decay: the same operations in the same order, with the tile's body (:func:`_sgd_lanes`,
    :func:`_sgd_average_lanes`) inlined into the step loop.

    At small ``d`` the call of a tile kernel per step (numba passes each array as 7 to 9 scalars: some sixty
    arguments) and its views cost a tenth of a step; here a step makes no call but :func:`_step_scalars`
    (scalars only; LLVM inlines it, keeping its own flags) and the row views it makes die in the same function,
    where numba's reference-count pruning removes their increments. The views are made per step, from the
    arrays themselves: a view chosen by a branch (``a[j] if avg else …``) would hide from LLVM which argument
    it comes from, and the loop ran at half speed. Compiled like the tiles (``contract``, ``noalias``: the
    arrays are the solver's distinct arrays, ``λ`` and ``m λ`` may be one but are only read, ``out_avg`` is
    only touched with averaging; ``acc`` is the worker's scratch), so the loop over the coordinates is the
    tiles' loop and its sums are the tiles' bits.
    """
    n_sched = lr.shape[0]
    avg = a.shape[0] > 0
    steps = lr.shape[1]
    for col in range(steps):
        t = t0 + col
        if t >= length or not active[j]:
            break
        r_t = rho[col] if avg else 0.0
        eff, g2, cc, kk, keep, alpha, beta, gamma = _step_scalars(nsgd, lr[j, col], batch[j, col], kex, trace,
                                                                  sums[j, 0], sums[j, 1], noise[j], r_t)
        mean_before = sums[j, 1]
        bad = not active[j]  # False, as in _advance_group
        tq = 0.0  # 0 + the tile's sum, as _advance_group adds its tiles (−0 becomes +0 alike)
        tm = 0.0
        if avg:
            q, m, av = _sgd_average_lanes(s[j], a[j], c[j], lam, w1, eff, kk, cc, alpha, beta, gamma, keep, r_t, acc)
            ta = 0.0
            ta += av
            sums[j, 2] = ta
            bad = bad or not ta <= limit  # NaN, ±inf or past the blow-up bound
        else:
            q, m = _sgd_lanes(s[j], lam, w1, eff, kk, cc, acc)
        tq += q
        tm += m
        sums[j, 0] = tq
        sums[j, 1] = tm
        bad = bad or not tq <= limit
        if rec[col] >= 0 or bad or (t + 1) % check_every == 0:  # else _finish_step has nothing to do
            _finish_step(j, t + 1, rec[col], bad, eff, g2, mean_before, s, sums, avg, 1, n_sched, check_every,
                         out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active)
    _end_check(j, s, sums, t0, steps, length, horizon, first_bad, bad_check, active, 1, n_sched, check_every)


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
    # workers run side by side on Python threads (:func:`run_workers`). A one-row group in one tile
    # without weight decay takes the step loop with the tile inlined (:func:`_one_tile_group`, same bits).
    one_tile = s.shape[1] <= TILE and blocks == 1 and tg.shape[0] == 0
    acc = np.zeros(3 * LANES)
    for k in range(groups.shape[0]):
        j = groups[k]
        if j >= 0:
            if one_tile:
                _one_tile_group(j, s, a, c, lam, w1, noise, sums, lr, batch, rho, rec, t0, lengths[j], horizon,
                                out_q, out_avg, out_eff, out_g2, out_mean, first_bad, bad_check, active,
                                nsgd, kex, trace, check_every, limit, acc)
            else:
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
@njit(cache=True, fastmath=False, inline="always")
def _momentum_coordinate(s, c, p, av, xv, yv, lam, w1, i, l, acc, eff, one_mu, mu, kb, kk, mode, alpha, beta, gamma,
                         keep, rho):
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
    wi = w1[i]
    _add_second_moment(acc, l, wi, s[i], li)  # also Σ m λ² s where unused (mode 0): summed as weighted_sums sums
    if mode == 2:
        xo = xv[i]
        z = _heavy_ball_moved_cross(xo, yv[i], a, mu)
        yv[i] = _averaged_cross(xo, cn, keep, rho)
        xv[i] = _averaged_cross(z, v, keep, rho)
        av[i] = _averaged_second_moment(av[i], v, z, alpha, beta, gamma)
        _add_average(acc, l, wi, av[i])


@_kernel(fastmath=_UPDATE_FLAGS, nogil=True, pipeline_class=_NOALIAS)
def _momentum_tile(s_rows, c_rows, p_rows, r, av_rows, xv_rows, yv_rows, j, lam_row, w1_row, i0, i1, eff, mu, kb, kk,
                   mode, alpha, beta, gamma, keep, rho, acc):
    """Heavy-ball update of one tile of a row (docs/math.md#heavy-ball-momentum).

    ``s, c, p``: the row's ``E e_t², E e_t e_{t−1}, E e_{t−1}²``; ``av, xv, yv``: its average moments
    ``E ē², E ē e_t, E ē e_{t−1}`` (row ``j``, read when ``mode == 2``). Per coordinate, with
    ``x = eff λ`` and ``a = (1 + μ) − x``, the operations of ``_step.heavy_ball_step`` in its order, then
    the averaging update. Returns ``(Σ m λ s, Σ m λ² s, Σ m λ ā)`` of the new values (lanes as in
    :func:`_sgd_tile`).
    """
    s = s_rows[r][i0:i1]
    c = c_rows[r][i0:i1]
    p = p_rows[r][i0:i1]
    av = av_rows[j][i0:i1] if mode == 2 else s[:0]  # the average's rows may be absent: an empty view, never read
    xv = xv_rows[j][i0:i1] if mode == 2 else s[:0]
    yv = yv_rows[j][i0:i1] if mode == 2 else s[:0]
    lam = lam_row[i0:i1]
    w1 = w1_row[i0:i1]
    _clear(acc)
    one_mu = 1.0 + mu
    n = s.shape[0]
    full = n - n % LANES
    for g in range(full // LANES):
        for l in range(LANES):
            _momentum_coordinate(s, c, p, av, xv, yv, lam, w1, g * LANES + l, l, acc, eff, one_mu, mu, kb, kk, mode,
                                 alpha, beta, gamma, keep, rho)
    for l in range(n - full):
        _momentum_coordinate(s, c, p, av, xv, yv, lam, w1, full + l, l, acc, eff, one_mu, mu, kb, kk, mode, alpha,
                             beta, gamma, keep, rho)
    return _lanes_total(acc, 0), _lanes_total(acc, LANES), (_lanes_total(acc, 2 * LANES) if mode == 2 else 0.0)


@njit(cache=True, fastmath=False, inline="always")
def _momentum_decay_coordinate(s, c, p, tg, fg, av, xv, yv, gv, wt, lam, w1, i, l, acc, eff, one_mu_u, wr, mu, u, kb,
                               kk, row_avg, alpha, beta, gamma, keep, rho):
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
    wi = w1[i]
    _add_second_moment(acc, l, wi, s[i], li)
    if row_avg:
        xo = xv[i]
        z = _heavy_ball_decay_moved_cross(xo, yv[i], gv[i], m, mu, u)
        yv[i] = _averaged_cross(xo, cn, keep, rho)
        xv[i] = _averaged_cross(z, v, keep, rho)
        av[i] = _averaged_second_moment(av[i], v, z, alpha, beta, gamma)
        gv[i] = _averaged_cross(gv[i], tn, keep, rho)
        _add_average(acc, l, wi, av[i])


@_kernel(fastmath=_UPDATE_FLAGS, nogil=True, pipeline_class=_NOALIAS)
def _momentum_decay_tile(s_rows, c_rows, p_rows, tg_rows, fg_rows, r, av_rows, xv_rows, yv_rows, gv_rows, j, wt_row,
                         lam_row, w1_row, i0, i1, eff, mu, u, wr, kb, kk, row_avg, alpha, beta, gamma, keep, rho, acc):
    """:func:`_momentum_tile` with weight decay (docs/math.md#weight-decay): also the row's ``T = E e_t w*``
    and ``F = E e_{t−1} w*``, ``W = wt · wr``, and with ``row_avg`` the average's ``G = E ē w*``. Per
    coordinate the operations of ``_step.heavy_ball_decay_step`` in its order, then the averaging update."""
    s = s_rows[r][i0:i1]
    c = c_rows[r][i0:i1]
    p = p_rows[r][i0:i1]
    tg = tg_rows[r][i0:i1]
    fg = fg_rows[r][i0:i1]
    av = av_rows[j][i0:i1] if row_avg else s[:0]  # the average's rows may be absent: an empty view, never read
    xv = xv_rows[j][i0:i1] if row_avg else s[:0]
    yv = yv_rows[j][i0:i1] if row_avg else s[:0]
    gv = gv_rows[j][i0:i1] if row_avg else s[:0]
    wt = wt_row[i0:i1]
    lam = lam_row[i0:i1]
    w1 = w1_row[i0:i1]
    _clear(acc)
    one_mu_u = (1.0 + mu) - u
    n = s.shape[0]
    full = n - n % LANES
    for g in range(full // LANES):
        for l in range(LANES):
            _momentum_decay_coordinate(s, c, p, tg, fg, av, xv, yv, gv, wt, lam, w1, g * LANES + l, l, acc, eff,
                                       one_mu_u, wr, mu, u, kb, kk, row_avg, alpha, beta, gamma, keep, rho)
    for l in range(n - full):
        _momentum_decay_coordinate(s, c, p, tg, fg, av, xv, yv, gv, wt, lam, w1, full + l, l, acc, eff, one_mu_u, wr,
                                   mu, u, kb, kk, row_avg, alpha, beta, gamma, keep, rho)
    return _lanes_total(acc, 0), _lanes_total(acc, LANES), (_lanes_total(acc, 2 * LANES) if row_avg else 0.0)


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
    acc = np.zeros(3 * LANES)
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
            mode = 2 if row_avg else (1 if b == 0 else 0)
            tq = 0.0
            tm = 0.0
            ta = 0.0
            for i0 in range(0, d, TILE):
                i1 = min(i0 + TILE, d)
                if decay:
                    q, m, a_sum = _momentum_decay_tile(s, c, p, tg, fg, r, av, xv, yv, gv, j, wt, lam, w1, i0, i1, eff,
                                                       mu, udec[j, col], wrow[r], kb, kk, row_avg, alpha, beta, gamma,
                                                       keep, r_t, acc)
                else:
                    q, m, a_sum = _momentum_tile(s, c, p, r, av, xv, yv, j, lam, w1, i0, i1, eff, mu, kb, kk, mode,
                                                 alpha, beta, gamma, keep, r_t, acc)
                tq += q
                tm += m
                ta += a_sum
            sums[r, 0] = tq
            sums[r, 1] = tm
            if row_avg:
                sums[r, 2] = ta
                bad = bad or not ta <= limit
            bad = bad or not tq <= limit
        if rec[col] >= 0 or bad or (t + 1) % check_every == 0:  # else _finish_step has nothing to do
            # (a call takes and releases a reference to each of its array arguments: atomic operations that
            # cost more than a whole step at small d, so it is made only when there is something to do)
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
