"""Compiled forward and reverse (adjoint) sweeps of the exact recursion, for :func:`risk_gradient`.

The forward sweep advances one schedule through its ``T`` steps with the step of :mod:`._step`
(the formula functions compiled and inlined here, as :mod:`._kernels` does), records per step the
scalars the step read (effective rate ``e_t``, ``G_t = E‖g_t‖²``, ``q_t = Σ m λ s_t``,
``M_t = Σ m λ² s_t``), accumulates the objective ``J = Σ_t ½ (wS_t q_t + wA_t Σ m λ A_t)``, and stores
the state at every ``L``-th step (the *checkpoints* of the reverse sweep).

The reverse sweep walks the chunks ``[cL, (c + 1)L)`` from the last: it recomputes the chunk's states
from its checkpoint with the recorded scalars (element-wise: with ``e_t`` and ``q_t`` known no sum is
needed), then runs the adjoint recursion (docs/math.md#risk-gradient) backward through the chunk,
one pass over the coordinates per step. The adjoint of ``s`` is held as ``P + a·mλ + b·mλ²``: the
rank-one couplings of a step (through ``q`` in the noise term and, for NSGD, through ``G``) are
carried as the two scalars ``a, b`` and folded in during the next step's pass, so each step reads
and writes every array once.

Fused recomputation: without averaging for heavy ball, and for every SGD/NSGD sweep, a (sub-)chunk's
recomputation runs inside the adjoint pass of the (sub-)chunk after it. The buffer holds a
(sub-)chunk's states in slot order or reversed (alternating); each slot the adjoint frees (read
first, coordinate by coordinate) is rewritten in the same pass with the next state of the
(sub-)chunk before, computed from its previous state one slot back. A row is then read and written
once per step, and no separate recomputation pass runs (only for the last (sub-)chunk and the one
before a short one). :func:`_backward_momentum_plain`, :func:`backward_sgd`.

Vectorisation: the per-step loops are row kernels compiled with numba's ``noalias`` flag (the
pipeline of :func:`._kernels._noalias_pipeline`), which their callers honour by passing distinct
rows (``λ`` and ``m λ`` may be one array, only read; rows not read in a mode may repeat): without it
LLVM needs run-time overlap checks for every pair of arrays, gives up past its limit (heavy ball: six
adjoint arrays and four state rows) and runs scalar code. Branches on the mode (averaging) are
outside the coordinate loops, and the clamp at 0 is a select.

Memory: ``ceil(T/L)`` checkpoints and an ``L``-step buffer of the arrays the adjoint reads
(``s``, and ``X`` with averaging; ``S, C`` and ``X`` with heavy ball). The SGD/NSGD sweep may add a
third level (:func:`backward_sgd`): a chunk is recomputed once to mark its state every ``sub`` steps,
and each sub-chunk recomputed again into a cache-sized buffer. The fused recomputation uses the same
buffers (and no more vectors of ``d``).

The loops are compiled with fast-math ``reassoc, contract, nsz``: the sums may be reordered (so they
vectorise; the order is fixed by the compiled code, so the same inputs give the same bits); the results
agree with :func:`~ramplab.theory.expected_risk` to rounding, not bit for bit. The adjoint's SGD
multiplier ``1 − x(2 − c x)`` is evaluated in powers of ``λ`` (``1 + λ(−2e + c e² λ)``), the recomputed
states with the formulas of :mod:`._step`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

try:
    from numba import njit

    AVAILABLE = True
except ImportError:  # pragma: no cover - exercised only without the extra
    AVAILABLE = False

    def njit(*args: Any, **kwargs: Any) -> Any:
        def wrap(fn: Any) -> Any:
            return fn

        return wrap if not args or not callable(args[0]) else args[0]


from . import _kernels, _step

__all__ = ["AVAILABLE"]

_FLAGS = {"reassoc", "contract", "nsz"}


#: ``numba.njit(**flags)`` cached on disk, keyed on this module and ``_step`` (whose formulas the kernels inline),
#: as :mod:`._kernels` keys its own: numba alone keys on this file only and would serve stale kernels after a
#: change of ``_step``.
_compiled = _kernels.stamped_kernels(__file__)
#: numba's pipeline with the ``noalias`` flag (:func:`._kernels._noalias_pipeline`): the row kernels promise
#: that the arrays they write overlap nothing else they touch, so LLVM vectorises them without run-time checks.
_NOALIAS = _kernels._NOALIAS


def _inline(fn: Any) -> Any:
    return njit(cache=True, inline="always")(fn)


_batch_factor = _inline(_step.batch_factor)
_noise_coefficient = _inline(_step.noise_coefficient)
_gradient_norm2 = _inline(_step.gradient_norm2)
_nsgd_rate = _inline(_step.nsgd_rate)
_sgd_second_moment = _inline(_step.sgd_second_moment)
_sgd_moved_cross = _inline(_step.sgd_moved_cross)
_averaged_second_moment = _inline(_step.averaged_second_moment)
_averaged_cross = _inline(_step.averaged_cross)
_average_weights = _inline(_step.average_weights)
_heavy_ball_second_moment = _inline(_step.heavy_ball_second_moment)
_heavy_ball_cross = _inline(_step.heavy_ball_cross)
_heavy_ball_moved_cross = _inline(_step.heavy_ball_moved_cross)


@njit(cache=True, inline="always")
def _rate(nsgd, eta, batch, kex, trace, q, m, noise):
    cc = _batch_factor(kex, batch)
    g2 = _gradient_norm2(cc, m, trace, batch, q, noise)
    eff = _nsgd_rate(eta, g2) if nsgd else eta
    return eff, g2, cc


# ============================================================================ SGD / NSGD (+ averaging)
@_compiled(fastmath=_FLAGS, nogil=True)
def forward_sgd(lam, w1, s, xa, aa, lr, batch, rho, nsgd, kex, trace, noise, every, bounds, ws, wa,
                eff_out, g2_out, q_out, m_out, limit):
    """Forward sweep (in place on ``s``, ``xa``, ``aa``; ``xa, aa`` empty without averaging).

    ``bounds (C, 2, d)``: the state (``s``, ``X``) before steps ``0, every, 2·every, …``. Returns
    ``(J, diverged)`` with ``diverged`` the first step (1-based) whose ``q`` or ``Σ m λ A`` is not
    ``≤ limit`` (−1 if none); the sweep stops there.
    """
    d = lam.shape[0]
    steps = lr.shape[0]
    avg = xa.shape[0] > 0
    q = 0.0
    m = 0.0
    qa = 0.0
    for i in range(d):
        q += w1[i] * s[i]
        m += w1[i] * lam[i] * s[i]
        if avg:
            qa += w1[i] * aa[i]
    value = 0.5 * (ws[0] * q + wa[0] * qa)
    for t in range(steps):
        if t % every == 0:
            c_idx = t // every
            for i in range(d):
                bounds[c_idx, 0, i] = s[i]
            if avg:
                for i in range(d):
                    bounds[c_idx, 1, i] = xa[i]
        bt = batch[t]
        eff, g2, cc = _rate(nsgd, lr[t], bt, kex, trace, q, m, noise)
        kk = _noise_coefficient(eff, bt, q, noise)
        eff_out[t] = eff
        g2_out[t] = g2
        q_out[t] = q
        m_out[t] = m
        nq = 0.0
        nm = 0.0
        na = 0.0
        if avg:
            keep, alpha, beta, gamma = _average_weights(rho[t])
            r = rho[t]
            for i in range(d):
                li = lam[i]
                x = eff * li
                v = _sgd_second_moment(s[i], x, cc, kk, li)
                v = 0.0 if v < 0.0 else v
                s[i] = v
                z = _sgd_moved_cross(xa[i], x)
                an = _averaged_second_moment(aa[i], v, z, alpha, beta, gamma)
                aa[i] = an
                xa[i] = _averaged_cross(z, v, keep, r)
                wq = w1[i] * v
                nq += wq
                nm += wq * li
                na += w1[i] * an
        else:
            for i in range(d):
                li = lam[i]
                v = _sgd_second_moment(s[i], eff * li, cc, kk, li)
                v = 0.0 if v < 0.0 else v
                s[i] = v
                wq = w1[i] * v
                nq += wq
                nm += wq * li
        q = nq
        m = nm
        qa = na
        if not q <= limit or (avg and not qa <= limit):
            return value, t + 1
        value += 0.5 * (ws[t + 1] * q + wa[t + 1] * qa)
    return value, -1


@_compiled(fastmath=_FLAGS, nogil=True, pipeline_class=_NOALIAS)
def _sgd_rows(s, xs, s_out, x_out, lam, e, cc, kk, r, avg, keep_out):
    """One recomputed SGD step in place on the rows ``s`` (and ``xs``: ``X``, with averaging), copied into ``s_out``
    (``x_out``) when ``keep_out``. The four are distinct rows (``noalias``); ``x*`` not read without averaging.

    The state advances in its own rows (cache-resident where they fit) and the kept copy is only written,
    never read back by the next step."""
    if avg:
        keep = 1.0 - r
        for i in range(lam.shape[0]):
            li = lam[i]
            x = e * li
            v = _sgd_second_moment(s[i], x, cc, kk, li)
            v = 0.0 if v < 0.0 else v
            z = _averaged_cross(_sgd_moved_cross(xs[i], x), v, keep, r)
            s[i] = v
            xs[i] = z
            if keep_out:
                s_out[i] = v
                x_out[i] = z
    else:
        for i in range(lam.shape[0]):
            li = lam[i]
            v = _sgd_second_moment(s[i], e * li, cc, kk, li)
            v = 0.0 if v < 0.0 else v
            s[i] = v
            if keep_out:
                s_out[i] = v


@_compiled(fastmath=_FLAGS, nogil=True)
def _recompute_sgd(first, fi, out, every, t0, nsteps, scratch, lam, eff, batch, qs, rho, kex, noise, avg):
    """The states after steps ``t0 … t0 + nsteps − 1`` from ``first[fi]`` (rows ``s``, and ``X`` with averaging),
    element-wise with the recorded ``e_t, q_t``, advanced in ``scratch[0]``: the state after ``k`` steps is
    copied to ``out[k // every]`` when ``every`` divides ``k``. ``out[0]`` stays unused.
    """
    cur = scratch[0]
    cur[:] = first[fi]
    for k in range(nsteps):
        t = t0 + k
        bt = batch[t]
        e = eff[t]
        kept = (k + 1) % every == 0
        dst = out[(k + 1) // every] if kept else scratch[1]
        r = rho[t] if avg else 0.0
        _sgd_rows(cur[0], cur[-1], dst[0], dst[-1], lam, e, _batch_factor(kex, bt),
                  _noise_coefficient(e, bt, qs[t], noise), r, avg, kept)
    return 0


@_compiled(fastmath=_FLAGS, nogil=True, pipeline_class=_NOALIAS)
def _adjoint_row(P, PA, PX, s, X, lam, w1, a, b, a_avg, e, cc, r, avg):
    """One backward step on ``P`` (the adjoint of ``s'`` is ``P + (a + bλ) mλ``) at the state ``s`` (and ``X``
    with averaging; not read without); returns ``(Σ p̃λ, Σ p̃λ²s, g_e)`` with ``g_e`` without its noise term.

    With averaging also the adjoints ``PA`` (of ``A``, plus ``a_avg mλ``) and ``PX``. ``P, PA, PX, rows``
    and the state rows are distinct arrays (``noalias``; ``lam`` and ``w1`` may be one array, both only read).
    """
    r1 = 0.0
    r2 = 0.0
    r3 = 0.0
    rx = 0.0
    f1 = -2.0 * e
    f2 = cc * e * e
    if avg:
        keep = 1.0 - r
        k2 = keep * keep
        for i in range(lam.shape[0]):
            li = lam[i]
            wi = w1[i]
            x = e * li
            ps = P[i] + (a + b * li) * wi
            pa = PA[i] + a_avg * wi
            px = PX[i]
            pt = ps + r * (r * pa + px)
            pz = keep * (2.0 * r * pa + px)
            r1 += pt * li
            u = pt * li * s[i]
            r2 += u
            r3 += u * li
            rx += pz * li * X[i]
            P[i] = (1.0 - x * (2.0 - cc * x)) * pt
            PA[i] = k2 * pa
            PX[i] = (1.0 - x) * pz
    else:
        for i in range(lam.shape[0]):
            li = lam[i]
            pt = P[i] + (a + b * li) * w1[i]
            r1 += pt * li
            u = pt * li * s[i]
            r2 += u
            r3 += u * li
            P[i] = (1.0 + li * (f1 + f2 * li)) * pt  # 1 − x (2 − c x), x = e λ, in powers of λ
    # Σ u (2c x − 2) with x = e λ, as two sums: fewer operations per coordinate.
    return r1, r3, 2.0 * (cc * e * r3 - r2) - rx


@_compiled(fastmath=_FLAGS, nogil=True, pipeline_class=_NOALIAS)
def _sgd_step_rows(s, xs, s_dst, x_dst, lam, e, cc, kk, r, avg):
    """One recomputed SGD step from the rows ``s`` (``xs``: ``X``, with averaging) into ``s_dst`` (``x_dst``). The
    four are distinct rows (``noalias``); ``x*`` not read without averaging."""
    if avg:
        keep = 1.0 - r
        for i in range(lam.shape[0]):
            li = lam[i]
            x = e * li
            v = _sgd_second_moment(s[i], x, cc, kk, li)
            v = 0.0 if v < 0.0 else v
            s_dst[i] = v
            x_dst[i] = _averaged_cross(_sgd_moved_cross(xs[i], x), v, keep, r)
    else:
        for i in range(lam.shape[0]):
            li = lam[i]
            v = _sgd_second_moment(s[i], e * li, cc, kk, li)
            s_dst[i] = 0.0 if v < 0.0 else v


@_compiled(fastmath=_FLAGS, nogil=True, pipeline_class=_NOALIAS)
def _adjoint_recompute_row(P, PA, PX, s, X, s_prev, x_prev, lam, w1, a, b, a_avg, e, cc, r, e_n, cc_n, kk_n, r_n,
                           avg):
    """:func:`_adjoint_row` at the state rows ``s`` (``X``), fused with one recomputed step of the next sub-chunk
    (:func:`_sgd_step_rows` from ``s_prev``, ``x_prev`` with ``e_n, cc_n, kk_n, r_n``) whose values overwrite
    ``s`` (``X``) coordinate by coordinate after they are read (:func:`backward_sgd`). All rows distinct
    (``noalias``); ``X, x_prev, PA, PX`` not read without averaging."""
    r1 = 0.0
    r2 = 0.0
    r3 = 0.0
    rx = 0.0
    f1 = -2.0 * e
    f2 = cc * e * e
    if avg:
        keep = 1.0 - r
        k2 = keep * keep
        keep_n = 1.0 - r_n
        for i in range(lam.shape[0]):
            li = lam[i]
            wi = w1[i]
            x = e * li
            ps = P[i] + (a + b * li) * wi
            pa = PA[i] + a_avg * wi
            px = PX[i]
            pt = ps + r * (r * pa + px)
            pz = keep * (2.0 * r * pa + px)
            r1 += pt * li
            u = pt * li * s[i]
            r2 += u
            r3 += u * li
            rx += pz * li * X[i]
            P[i] = (1.0 - x * (2.0 - cc * x)) * pt
            PA[i] = k2 * pa
            PX[i] = (1.0 - x) * pz
            xn = e_n * li
            v = _sgd_second_moment(s_prev[i], xn, cc_n, kk_n, li)
            v = 0.0 if v < 0.0 else v
            s[i] = v
            X[i] = _averaged_cross(_sgd_moved_cross(x_prev[i], xn), v, keep_n, r_n)
    else:
        for i in range(lam.shape[0]):
            li = lam[i]
            pt = P[i] + (a + b * li) * w1[i]
            r1 += pt * li
            u = pt * li * s[i]
            r2 += u
            r3 += u * li
            P[i] = (1.0 + li * (f1 + f2 * li)) * pt  # 1 − x (2 − c x), x = e λ, in powers of λ
            v = _sgd_second_moment(s_prev[i], e_n * li, cc_n, kk_n, li)
            s[i] = 0.0 if v < 0.0 else v
    return r1, r3, 2.0 * (cc * e * r3 - r2) - rx


@_compiled(fastmath=_FLAGS, nogil=True)
def _sub_chunks(steps, every, sub, ci):
    """``(t0, t1, n_sub)`` of chunk ``ci``."""
    t0 = ci * every
    t1 = min(steps, t0 + every)
    return t0, t1, (t1 - t0 + sub - 1) // sub


@_compiled(fastmath=_FLAGS, nogil=True)
def backward_sgd(lam, w1, bounds, every, sub, lr, batch, rho, nsgd, kex, trace, noise, ws, wa,
                 eff, g2, qs, ms, marks, pair, buf, d_log_lr, d_log_batch):
    """Reverse sweep of :func:`forward_sgd`; writes ``∂J/∂log η_t`` and ``∂J/∂log B_t`` per step.

    Three levels: the chunk of ``every`` steps starting at a stored state is recomputed once to store
    its state every ``sub`` steps (``marks (ceil(every/sub), n, d)``; the state advances in ``pair[0]``;
    ``marks[0]`` stays unused: the chunk's first state is in ``bounds``), and the sub-chunks, from the
    last, are swept backward from their states in ``buf (sub, n, d)``. ``n`` = 2 rows (``s``, ``X``) with
    averaging, else 1.

    The sub-chunk's state ``k`` is in slot ``k`` of ``buf``, or ``sub − 1 − k`` in reversed sub-chunks
    (orientations alternate). While the adjoint consumes a full sub-chunk from its last state, each slot it
    frees receives the next state of the sub-chunk before it (in this chunk, or the last of the chunk before,
    whose marks are recomputed first), computed from the state one slot back: a buffer row is read and
    rewritten in one pass, and no separate recomputation pass runs. The last sub-chunk, and the sub-chunk
    before a short one, are recomputed alone.
    """
    d = lam.shape[0]
    steps = lr.shape[0]
    avg = bounds.shape[1] > 1
    P = np.zeros(d)
    PA = np.zeros(d)
    PX = np.zeros(d)
    a = 0.5 * ws[steps]
    b = 0.0
    a_avg = 0.5 * wa[steps] if avg else 0.0
    n_chunks = (steps + every - 1) // every
    rev = False
    alone = True
    for ci in range(n_chunks - 1, -1, -1):
        t0, t1, n_sub = _sub_chunks(steps, every, sub, ci)
        if ci == n_chunks - 1 and n_sub > 1:  # level 2 (the chunks before: during the sweep of the chunk after)
            _recompute_sgd(bounds, ci, marks, sub, t0, (n_sub - 1) * sub, pair, lam, eff, batch, qs, rho, kex, noise,
                           avg)
        for si in range(n_sub - 1, -1, -1):
            u0 = t0 + si * sub
            n = min(t1, u0 + sub) - u0
            if alone:  # this sub-chunk's states, in orientation rev
                first = bounds[ci] if si == 0 else marks[si]
                slot = sub - 1 if rev else 0
                buf[slot] = first
                for k in range(1, n):
                    t = u0 + k - 1
                    bt = batch[t]
                    e = eff[t]
                    src = buf[slot]
                    slot = sub - 1 - k if rev else k
                    dst = buf[slot]
                    _sgd_step_rows(src[0], src[-1], dst[0], dst[-1], lam, e, _batch_factor(kex, bt),
                                   _noise_coefficient(e, bt, qs[t], noise), rho[t] if avg else 0.0, avg)
            # the sub-chunk swept next: its first state and steps
            n_y = 0
            y0 = 0
            y_first = bounds[ci]
            if si > 0:
                n_y = sub
                y0 = u0 - sub
                y_first = bounds[ci] if si == 1 else marks[si - 1]
            elif ci > 0:
                p0, p1, p_sub = _sub_chunks(steps, every, sub, ci - 1)
                if p_sub > 1:  # level 2 of the chunk before (this chunk's marks are no longer read)
                    _recompute_sgd(bounds, ci - 1, marks, sub, p0, (p_sub - 1) * sub, pair, lam, eff, batch, qs, rho,
                                   kex, noise, avg)
                y0 = p0 + (p_sub - 1) * sub
                n_y = p1 - y0
                y_first = bounds[ci - 1] if p_sub == 1 else marks[p_sub - 1]
            fuse = n_y > 0 and n == sub
            for m in range(1, n + 1):
                k = n - m
                t = u0 + k
                slot = sub - 1 - k if rev else k
                bt = batch[t]
                e = eff[t]
                cc = _batch_factor(kex, bt)
                qn = qs[t] + noise
                r = rho[t] if avg else 0.0
                row = buf[slot]
                if fuse and 1 < m <= n_y:
                    tn = y0 + m - 2  # the step from the next sub-chunk's state m − 2 (one slot back) to m − 1
                    bn = batch[tn]
                    en = eff[tn]
                    prev = buf[slot - 1 if rev else slot + 1]  # the next sub-chunk has the other orientation
                    r1, r3, ge = _adjoint_recompute_row(P, PA, PX, row[0], row[-1], prev[0], prev[-1], lam, w1, a, b,
                                                        a_avg, e, cc, r, en, _batch_factor(kex, bn),
                                                        _noise_coefficient(en, bn, qs[tn], noise),
                                                        rho[tn] if avg else 0.0, avg)
                else:
                    r1, r3, ge = _adjoint_row(P, PA, PX, row[0], row[-1], lam, w1, a, b, a_avg, e, cc, r, avg)
                    if fuse and m == 1:
                        buf[slot] = y_first
                ge += 2.0 * e * qn / bt * r1
                e2 = e * e
                gb = -(kex / (bt * bt)) * e2 * r3 - e2 * qn / (bt * bt) * r1
                a = e2 / bt * r1
                b = 0.0
                if nsgd and g2[t] > 0.0:
                    phi = -ge * e / (2.0 * g2[t])
                    a += phi * trace / bt
                    b = phi * cc
                    gb += phi * (-(kex / (bt * bt)) * ms[t] - trace / (bt * bt) * qn)
                a += 0.5 * ws[t]
                if avg:
                    a_avg = 0.5 * wa[t]
                d_log_lr[t] = ge * e
                d_log_batch[t] = gb * bt
            alone = not fuse
            rev = not rev
    return 0


# ============================================================================ heavy ball (+ averaging)
@_compiled(fastmath=_FLAGS, nogil=True, pipeline_class=_NOALIAS)
def _momentum_forward_rows(lam, w1, s, c, p, xa, ya, aa, eff, kk, kb, mu, r, avg):
    """One heavy-ball step in place on ``s, c, p`` (and ``xa, ya, aa`` with averaging; not read without); returns
    ``(Σ m λ s, Σ m λ² s, Σ m λ a)`` of the new values. The state arrays are distinct (``noalias``)."""
    keep, alpha, beta, gamma = _average_weights(r)
    nq = 0.0
    nm = 0.0
    na = 0.0
    one_mu = 1.0 + mu
    if avg:
        for i in range(lam.shape[0]):
            li = lam[i]
            x = eff * li
            av = one_mu - x
            so = s[i]
            co = c[i]
            v = _heavy_ball_second_moment(so, co, p[i], x, av, kb, mu, kk, li)
            v = 0.0 * v if v < 0.0 else v
            cn = _heavy_ball_cross(so, co, av, mu)
            s[i] = v
            c[i] = cn
            p[i] = so
            wq = w1[i] * v
            nq += wq
            nm += wq * li
            xo = xa[i]
            z = _heavy_ball_moved_cross(xo, ya[i], av, mu)
            ya[i] = _averaged_cross(xo, cn, keep, r)
            xa[i] = _averaged_cross(z, v, keep, r)
            an = _averaged_second_moment(aa[i], v, z, alpha, beta, gamma)
            aa[i] = an
            na += w1[i] * an
    else:
        for i in range(lam.shape[0]):
            li = lam[i]
            x = eff * li
            av = one_mu - x
            so = s[i]
            co = c[i]
            v = _heavy_ball_second_moment(so, co, p[i], x, av, kb, mu, kk, li)
            v = 0.0 * v if v < 0.0 else v
            s[i] = v
            c[i] = _heavy_ball_cross(so, co, av, mu)
            p[i] = so
            wq = w1[i] * v
            nq += wq
            nm += wq * li
    return nq, nm, na


@_compiled(fastmath=_FLAGS, nogil=True)
def forward_momentum(lam, w1, s, c, p, xa, ya, aa, lr, batch, mom, rho, nsgd, kex, trace, noise, every, bounds,
                     ws, wa, eff_out, g2_out, q_out, m_out, limit):
    """Forward heavy-ball sweep; ``bounds (C, 5, d)`` holds ``S, C, P, X, Y`` at the checkpoints."""
    d = lam.shape[0]
    steps = lr.shape[0]
    avg = xa.shape[0] > 0
    q = 0.0
    m = 0.0
    qa = 0.0
    for i in range(d):
        q += w1[i] * s[i]
        m += w1[i] * lam[i] * s[i]
        if avg:
            qa += w1[i] * aa[i]
    value = 0.5 * (ws[0] * q + wa[0] * qa)
    for t in range(steps):
        if t % every == 0:
            c_idx = t // every
            bounds[c_idx, 0] = s
            bounds[c_idx, 1] = c
            bounds[c_idx, 2] = p
            if avg:
                bounds[c_idx, 3] = xa
                bounds[c_idx, 4] = ya
        bt = batch[t]
        eff, g2, cc = _rate(nsgd, lr[t], bt, kex, trace, q, m, noise)
        kk = _noise_coefficient(eff, bt, q, noise)
        eff_out[t] = eff
        g2_out[t] = g2
        q_out[t] = q
        m_out[t] = m
        r = rho[t] if avg else 0.0
        q, m, qa = _momentum_forward_rows(lam, w1, s, c, p, xa, ya, aa, eff, kk, kex / bt, mom[t], r, avg)
        if not q <= limit or (avg and not qa <= limit):
            return value, t + 1
        value += 0.5 * (ws[t + 1] * q + wa[t + 1] * qa)
    return value, -1


@_compiled(fastmath=_FLAGS, nogil=True, pipeline_class=_NOALIAS)
def _momentum_recompute_rows(s, c, x, s_dst, c_dst, x_dst, pw, yw, lam, e, kk, kb, mu, r):
    """One recomputed heavy-ball step with averaging: ``S, C, X`` from rows ``s, c, x`` into ``*_dst``, with ``P``
    and ``Y`` advanced in place in ``pw, yw``. All rows distinct (``noalias``)."""
    one_mu = 1.0 + mu
    keep = 1.0 - r
    for i in range(lam.shape[0]):
        li = lam[i]
        xe = e * li
        av = one_mu - xe
        so = s[i]
        co = c[i]
        v = _heavy_ball_second_moment(so, co, pw[i], xe, av, kb, mu, kk, li)
        v = 0.0 * v if v < 0.0 else v
        cn = _heavy_ball_cross(so, co, av, mu)
        s_dst[i] = v
        c_dst[i] = cn
        pw[i] = so
        xo = x[i]
        z = _heavy_ball_moved_cross(xo, yw[i], av, mu)
        yw[i] = _averaged_cross(xo, cn, keep, r)
        x_dst[i] = _averaged_cross(z, v, keep, r)


@_compiled(fastmath=_FLAGS, nogil=True, pipeline_class=_NOALIAS)
def _momentum_recompute_own(sw, cw, pw, s_dst, c_dst, lam, e, kk, kb, mu):
    """One recomputed heavy-ball step (no averaging) in place on the rows ``sw, cw, pw``, with ``S, C`` copied into
    ``s_dst, c_dst`` (written, never read back: the next step reads the cache-resident rows). All distinct."""
    one_mu = 1.0 + mu
    for i in range(lam.shape[0]):
        li = lam[i]
        xe = e * li
        av = one_mu - xe
        so = sw[i]
        co = cw[i]
        v = _heavy_ball_second_moment(so, co, pw[i], xe, av, kb, mu, kk, li)
        v = 0.0 * v if v < 0.0 else v
        cn = _heavy_ball_cross(so, co, av, mu)
        sw[i] = v
        cw[i] = cn
        pw[i] = so
        s_dst[i] = v
        c_dst[i] = cn


@_compiled(fastmath=_FLAGS, nogil=True, pipeline_class=_NOALIAS)
def _momentum_adjoint_rows(PS, PC, PP, PA, PX, PY, s, c, x, lam, w1, a, b, a_avg, e, kb, mu, r, avg):
    """One backward heavy-ball step on the adjoints ``PS, PC, PP`` (``PA, PX, PY`` with averaging; not read
    without) at the state rows ``s, c`` (``x``); returns ``(Σ p̃λ, Σ p̃λ²s, g_e)`` with ``g_e`` without its noise
    term. All arrays distinct (``noalias``; ``lam`` and ``w1`` may be one array, both only read)."""
    one_mu = 1.0 + mu
    r1 = 0.0
    r3 = 0.0
    ge = 0.0
    if avg:
        keep = 1.0 - r
        k2 = keep * keep
        for i in range(lam.shape[0]):
            li = lam[i]
            wi = w1[i]
            xe = e * li
            av = one_mu - xe
            si = s[i]
            ps = PS[i] + (a + b * li) * wi
            pa = PA[i] + a_avg * wi
            px = PX[i]
            py = PY[i]
            pst = ps + r * (r * pa + px)
            pct = PC[i] + r * py
            pz = keep * (2.0 * r * pa + px)
            PA[i] = k2 * pa
            PX[i] = av * pz + keep * py
            PY[i] = -mu * pz
            r1 += pst * li
            r3 += pst * li * li * si
            ge += pst * li * ((2.0 * kb * xe - 2.0 * av) * si + 2.0 * mu * c[i]) - pct * li * si - pz * li * x[i]
            PS[i] = (av * av + kb * xe * xe) * pst + av * pct + PP[i]
            PC[i] = -2.0 * mu * av * pst - mu * pct
            PP[i] = mu * mu * pst
    else:
        for i in range(lam.shape[0]):
            li = lam[i]
            xe = e * li
            av = one_mu - xe
            si = s[i]
            pst = PS[i] + (a + b * li) * w1[i]
            pct = PC[i]
            r1 += pst * li
            r3 += pst * li * li * si
            ge += pst * li * ((2.0 * kb * xe - 2.0 * av) * si + 2.0 * mu * c[i]) - pct * li * si
            PS[i] = (av * av + kb * xe * xe) * pst + av * pct + PP[i]
            PC[i] = -2.0 * mu * av * pst - mu * pct
            PP[i] = mu * mu * pst
    return r1, r3, ge


@_compiled(fastmath=_FLAGS, nogil=True, pipeline_class=_NOALIAS)
def _momentum_adjoint_recompute(PS, PC, PP, s, c, s_prev, c_prev, p_prev, lam, w1, a, b, e, kb, mu, e_n, kk_n, kb_n,
                                mu_n):
    """:func:`_momentum_adjoint_rows` (no averaging) at the state rows ``s, c``, fused with one recomputed step of
    the next chunk from ``s_prev, c_prev, p_prev`` (``S, C, P`` of its previous state: buffer rows, or the
    stored ``P``) with ``e_n, kk_n, kb_n, mu_n``, whose ``S, C`` overwrite ``s, c`` coordinate by coordinate after
    they are read: the slot the adjoint frees is the slot the recomputation fills (:func:`_backward_momentum_plain`).
    All arrays distinct (``noalias``)."""
    one_mu = 1.0 + mu
    one_mu_n = 1.0 + mu_n
    r1 = 0.0
    r3 = 0.0
    ge = 0.0
    for i in range(lam.shape[0]):
        li = lam[i]
        xe = e * li
        av = one_mu - xe
        si = s[i]
        pst = PS[i] + (a + b * li) * w1[i]
        pct = PC[i]
        r1 += pst * li
        r3 += pst * li * li * si
        ge += pst * li * ((2.0 * kb * xe - 2.0 * av) * si + 2.0 * mu * c[i]) - pct * li * si
        PS[i] = (av * av + kb * xe * xe) * pst + av * pct + PP[i]
        PC[i] = -2.0 * mu * av * pst - mu * pct
        PP[i] = mu * mu * pst
        xn = e_n * li
        an = one_mu_n - xn
        so = s_prev[i]
        co = c_prev[i]
        v = _heavy_ball_second_moment(so, co, p_prev[i], xn, an, kb_n, mu_n, kk_n, li)
        s[i] = 0.0 * v if v < 0.0 else v
        c[i] = _heavy_ball_cross(so, co, an, mu_n)
    return r1, r3, ge


@_compiled(fastmath=_FLAGS, nogil=True)
def _backward_momentum_plain(lam, w1, bounds, every, lr, batch, mom, nsgd, kex, trace, noise, ws, eff, g2, qs, ms,
                             buf, work, d_log_lr, d_log_batch):
    """:func:`backward_momentum` without averaging, the recomputation of each chunk fused into the adjoint sweep
    of the chunk after it.

    ``buf (L, 2, d)`` holds a chunk's states ``S, C`` (state ``k`` in slot ``k``, or ``L − 1 − k`` in reversed
    chunks; orientations alternate). While the adjoint consumes a full chunk from its last state, each slot it
    frees receives the next state of the chunk before (whose orientation is the other one: the slot freed at
    the ``m``-th step is the slot of that chunk's state ``m − 1``), so a buffer row is read and rewritten in one
    pass and no separate recomputation pass runs; its step reads the state before from the neighbouring slots
    (``P`` is the ``S`` two states back). The last chunk, and the chunk before a short one, are recomputed
    alone, in ``work (2, d)`` and one vector made here (``S, C, P``).
    """
    d = lam.shape[0]
    steps = lr.shape[0]
    L = every
    PS = np.zeros(d)
    PC = np.zeros(d)
    PP = np.zeros(d)
    sw = np.empty(d)
    cw = work[0]
    pw = work[1]
    a = 0.5 * ws[steps]
    b = 0.0
    n_chunks = (steps + L - 1) // L
    rev = False
    recompute_alone = True
    for ci in range(n_chunks - 1, -1, -1):
        t0 = ci * L
        n = min(steps, t0 + L) - t0
        if recompute_alone:  # this chunk's states, in orientation rev
            sw[:] = bounds[ci, 0]
            cw[:] = bounds[ci, 1]
            pw[:] = bounds[ci, 2]
            slot = L - 1 if rev else 0
            buf[slot, 0] = sw
            buf[slot, 1] = cw
            for k in range(1, n):
                t = t0 + k - 1
                bt = batch[t]
                e = eff[t]
                slot = L - 1 - k if rev else k
                _momentum_recompute_own(sw, cw, pw, buf[slot, 0], buf[slot, 1], lam, e,
                                        _noise_coefficient(e, bt, qs[t], noise), kex / bt, mom[t])
        fuse = ci > 0 and n == L  # the chunk before, recomputed into the freed slots (orientation not rev)
        for m in range(1, n + 1):
            k = n - m
            t = t0 + k
            slot = L - 1 - k if rev else k
            bt = batch[t]
            e = eff[t]
            kb = kex / bt
            cc = 1.0 + kb
            qn = qs[t] + noise
            row = buf[slot]
            if fuse and m > 1:
                tn = t0 - L + m - 2  # the step from the chunk before's state m − 2 (one slot back) to m − 1
                bn = batch[tn]
                en = eff[tn]
                back = slot - 1 if rev else slot + 1  # the chunk before has the other orientation
                prev = buf[back]
                p_prev = bounds[ci - 1, 2] if m == 2 else buf[back - 1 if rev else back + 1, 0]
                r1, r3, ge = _momentum_adjoint_recompute(PS, PC, PP, row[0], row[1], prev[0], prev[1], p_prev, lam,
                                                         w1, a, b, e, kb, mom[t], en,
                                                         _noise_coefficient(en, bn, qs[tn], noise), kex / bn, mom[tn])
            else:
                r1, r3, ge = _momentum_adjoint_rows(PS, PC, PP, PS[:0], PS[:0], PS[:0], row[0], row[1], row[1], lam,
                                                    w1, a, b, 0.0, e, kb, mom[t], 0.0, False)
                if fuse:  # m == 1: the chunk before's first state
                    row[0] = bounds[ci - 1, 0]
                    row[1] = bounds[ci - 1, 1]
            ge += 2.0 * e * qn / bt * r1
            e2 = e * e
            gb = -(kex / (bt * bt)) * e2 * r3 - e2 * qn / (bt * bt) * r1
            a = e2 / bt * r1
            b = 0.0
            if nsgd and g2[t] > 0.0:
                phi = -ge * e / (2.0 * g2[t])
                a += phi * trace / bt
                b = phi * cc
                gb += phi * (-(kex / (bt * bt)) * ms[t] - trace / (bt * bt) * qn)
            a += 0.5 * ws[t]
            d_log_lr[t] = ge * e
            d_log_batch[t] = gb * bt
        recompute_alone = not fuse
        rev = not rev
    return 0


@_compiled(fastmath=_FLAGS, nogil=True)
def backward_momentum(lam, w1, bounds, every, lr, batch, mom, rho, nsgd, kex, trace, noise, ws, wa,
                      eff, g2, qs, ms, buf, work, d_log_lr, d_log_batch):
    """Reverse sweep of :func:`forward_momentum`. ``buf (L, 3, d)``: ``S, C, X`` before each step of a
    chunk (``(L, 2, d)`` without averaging: :func:`_backward_momentum_plain`); ``work (2, d)``: the
    recomputation's ``P`` and ``Y``."""
    d = lam.shape[0]
    steps = lr.shape[0]
    avg = bounds.shape[1] > 3
    if not avg:
        return _backward_momentum_plain(lam, w1, bounds, every, lr, batch, mom, nsgd, kex, trace, noise, ws, eff, g2,
                                        qs, ms, buf, work, d_log_lr, d_log_batch)
    PS = np.zeros(d)
    PC = np.zeros(d)
    PP = np.zeros(d)
    PA = np.zeros(d)
    PX = np.zeros(d)
    PY = np.zeros(d)
    a = 0.5 * ws[steps]
    b = 0.0
    a_avg = 0.5 * wa[steps]
    n_chunks = (steps + every - 1) // every
    pw = work[0]
    yw = work[1]
    for ci in range(n_chunks - 1, -1, -1):
        t0 = ci * every
        t1 = min(steps, t0 + every)
        buf[0, 0] = bounds[ci, 0]
        buf[0, 1] = bounds[ci, 1]
        pw[:] = bounds[ci, 2]
        buf[0, 2] = bounds[ci, 3]
        yw[:] = bounds[ci, 4]
        for t in range(t0, t1 - 1):
            j = t - t0
            bt = batch[t]
            e = eff[t]
            kk = _noise_coefficient(e, bt, qs[t], noise)
            src = buf[j]
            dst = buf[j + 1]
            _momentum_recompute_rows(src[0], src[1], src[2], dst[0], dst[1], dst[2], pw, yw, lam, e, kk, kex / bt,
                                     mom[t], rho[t])
        for t in range(t1 - 1, t0 - 1, -1):
            j = t - t0
            bt = batch[t]
            e = eff[t]
            kb = kex / bt
            cc = 1.0 + kb
            qn = qs[t] + noise
            row = buf[j]
            r1, r3, ge = _momentum_adjoint_rows(PS, PC, PP, PA, PX, PY, row[0], row[1], row[2], lam, w1, a, b, a_avg,
                                                e, kb, mom[t], rho[t], True)
            ge += 2.0 * e * qn / bt * r1
            e2 = e * e
            gb = -(kex / (bt * bt)) * e2 * r3 - e2 * qn / (bt * bt) * r1
            a = e2 / bt * r1
            b = 0.0
            if nsgd and g2[t] > 0.0:
                phi = -ge * e / (2.0 * g2[t])
                a += phi * trace / bt
                b = phi * cc
                gb += phi * (-(kex / (bt * bt)) * ms[t] - trace / (bt * bt) * qn)
            a += 0.5 * ws[t]
            a_avg = 0.5 * wa[t]
            d_log_lr[t] = ge * e
            d_log_batch[t] = gb * bt
    return 0
