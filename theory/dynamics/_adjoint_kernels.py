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

Memory: ``ceil(T/L)`` checkpoints and an ``L``-step buffer of the arrays the adjoint reads
(``s``, and ``X`` with averaging; ``S, C`` and ``X`` with heavy ball). The SGD/NSGD sweep may add a
third level (:func:`backward_sgd`): a chunk is recomputed once to mark its state every ``sub`` steps,
and each sub-chunk recomputed again into a cache-sized buffer.

The loops are compiled with fast-math ``reassoc, contract, nsz``: the sums may be reordered (so they
vectorise); the results agree with :func:`~ramplab.theory.expected_risk` to rounding, not bit for bit.
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


@_compiled(fastmath=_FLAGS, nogil=True)
def _recompute_row(src, dst, lam, e, cc, kk):
    """``dst = F(src)``: one SGD step with the recorded rate and noise coefficient (element-wise)."""
    for i in range(lam.shape[0]):
        li = lam[i]
        v = _sgd_second_moment(src[i], e * li, cc, kk, li)
        dst[i] = 0.0 if v < 0.0 else v


@_compiled(fastmath=_FLAGS, nogil=True)
def _recompute_average_row(src, src_x, dst, dst_x, lam, e, cc, kk, r):
    """:func:`_recompute_row` with the averaging cross moment ``X`` (``A`` is not needed backward)."""
    keep = 1.0 - r
    for i in range(lam.shape[0]):
        li = lam[i]
        x = e * li
        v = _sgd_second_moment(src[i], x, cc, kk, li)
        v = 0.0 if v < 0.0 else v
        dst[i] = v
        dst_x[i] = _averaged_cross(_sgd_moved_cross(src_x[i], x), v, keep, r)


@_compiled(fastmath=_FLAGS, nogil=True)
def _adjoint_row(P, s, lam, w1, a, b, e, cc):
    """One backward step on ``P`` (the adjoint of ``s'`` is ``P + (a + bλ) mλ``); returns ``(Σ p̃λ, Σ p̃λ²s, g_e)``
    with ``g_e`` without its noise term."""
    r1 = 0.0
    r2 = 0.0
    r3 = 0.0
    for i in range(lam.shape[0]):
        li = lam[i]
        x = e * li
        pt = P[i] + (a + b * li) * w1[i]
        r1 += pt * li
        u = pt * li * s[i]
        r2 += u
        r3 += u * li
        P[i] = (1.0 - x * (2.0 - cc * x)) * pt
    # Σ u (2c x − 2) with x = e λ, as two sums: fewer operations per coordinate.
    return r1, r3, 2.0 * (cc * e * r3 - r2)


@_compiled(fastmath=_FLAGS, nogil=True)
def _adjoint_average_row(P, PA, PX, s, X, lam, w1, a, b, a_avg, e, cc, r):
    """:func:`_adjoint_row` with the averaging adjoints ``PA`` (of ``A``, plus ``a_avg mλ``) and ``PX``."""
    keep = 1.0 - r
    k2 = keep * keep
    r1 = 0.0
    r2 = 0.0
    r3 = 0.0
    rx = 0.0
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
    return r1, r3, 2.0 * (cc * e * r3 - r2) - rx


@_compiled(fastmath=_FLAGS, nogil=True)
def _recompute_step(src, dst, lam, e, cc, kk, r, avg):
    """One recomputed step from rows ``src`` (``s``, ``X``) into rows ``dst``."""
    if avg:
        _recompute_average_row(src[0], src[1], dst[0], dst[1], lam, e, cc, kk, r)
    else:
        _recompute_row(src[0], dst[0], lam, e, cc, kk)


@_compiled(fastmath=_FLAGS, nogil=True)
def backward_sgd(lam, w1, bounds, every, sub, lr, batch, rho, nsgd, kex, trace, noise, ws, wa,
                 eff, g2, qs, ms, marks, pair, buf, d_log_lr, d_log_batch):
    """Reverse sweep of :func:`forward_sgd`; writes ``∂J/∂log η_t`` and ``∂J/∂log B_t`` per step.

    Three levels: the chunk of ``every`` steps starting at a stored state is recomputed once to store
    its state every ``sub`` steps (``marks (ceil(every/sub), n, d)``, through the two rows of ``pair``),
    then each sub-chunk, from the last, is recomputed into ``buf (sub, n, d)`` (small enough to stay in
    cache) and swept backward. A sub-chunk's first state is read where it is stored (``bounds`` or
    ``marks``), never copied: ``marks[0]`` and ``buf[0]`` stay unused. ``n`` = 2 rows (``s``, ``X``) with averaging, else 1.
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
    for ci in range(n_chunks - 1, -1, -1):
        t0 = ci * every
        t1 = min(steps, t0 + every)
        n_sub = (t1 - t0 + sub - 1) // sub
        # level 2: the states at the sub-chunk starts, written straight into marks (the chunk's first state is
        # read from bounds: marks[0] stays unused), the steps between through the two rows of pair
        src = bounds[ci]
        cur = 0
        for t in range(t0, t0 + (n_sub - 1) * sub):
            k = t + 1 - t0
            if k % sub == 0:
                dst = marks[k // sub]
            else:
                dst = pair[cur]
                cur = 1 - cur
            bt = batch[t]
            e = eff[t]
            r = rho[t] if avg else 0.0
            _recompute_step(src, dst, lam, e, _batch_factor(kex, bt), _noise_coefficient(e, bt, qs[t], noise), r,
                            avg)
            src = dst
        for si in range(n_sub - 1, -1, -1):
            u0 = t0 + si * sub
            u1 = min(t1, u0 + sub)
            first = bounds[ci] if si == 0 else marks[si]  # the state before step u0 (buf[0] stays unused)
            # level 3: the sub-chunk's states, element-wise with the recorded e_t, q_t
            src = first
            for t in range(u0, u1 - 1):
                j = t - u0
                bt = batch[t]
                e = eff[t]
                r = rho[t] if avg else 0.0
                _recompute_step(src, buf[j + 1], lam, e, _batch_factor(kex, bt),
                                _noise_coefficient(e, bt, qs[t], noise), r, avg)
                src = buf[j + 1]
            # the adjoint, backward through the sub-chunk
            for t in range(u1 - 1, u0 - 1, -1):
                j = t - u0
                row = first if j == 0 else buf[j]
                bt = batch[t]
                e = eff[t]
                cc = _batch_factor(kex, bt)
                qn = qs[t] + noise
                if avg:
                    r1, r3, ge = _adjoint_average_row(P, PA, PX, row[0], row[1], lam, w1, a, b, a_avg, e, cc,
                                                      rho[t])
                else:
                    r1, r3, ge = _adjoint_row(P, row[0], lam, w1, a, b, e, cc)
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
    return 0


# ============================================================================ heavy ball (+ averaging)
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
            for i in range(d):
                bounds[c_idx, 0, i] = s[i]
                bounds[c_idx, 1, i] = c[i]
                bounds[c_idx, 2, i] = p[i]
            if avg:
                for i in range(d):
                    bounds[c_idx, 3, i] = xa[i]
                    bounds[c_idx, 4, i] = ya[i]
        bt = batch[t]
        eff, g2, cc = _rate(nsgd, lr[t], bt, kex, trace, q, m, noise)
        kk = _noise_coefficient(eff, bt, q, noise)
        kb = kex / bt
        mu = mom[t]
        eff_out[t] = eff
        g2_out[t] = g2
        q_out[t] = q
        m_out[t] = m
        r = rho[t] if avg else 0.0
        keep, alpha, beta, gamma = _average_weights(r)
        nq = 0.0
        nm = 0.0
        na = 0.0
        one_mu = 1.0 + mu
        for i in range(d):
            li = lam[i]
            x = eff * li
            av = one_mu - x
            so = s[i]
            co = c[i]
            v = _heavy_ball_second_moment(so, co, p[i], x, av, kb, mu, kk, li)
            if v < 0.0:
                v = 0.0 * v
            cn = _heavy_ball_cross(so, co, av, mu)
            s[i] = v
            c[i] = cn
            p[i] = so
            wq = w1[i] * v
            nq += wq
            nm += wq * li
            if avg:
                xo = xa[i]
                z = _heavy_ball_moved_cross(xo, ya[i], av, mu)
                ya[i] = _averaged_cross(xo, cn, keep, r)
                xa[i] = _averaged_cross(z, v, keep, r)
                an = _averaged_second_moment(aa[i], v, z, alpha, beta, gamma)
                aa[i] = an
                na += w1[i] * an
        q = nq
        m = nm
        qa = na
        if not q <= limit or (avg and not qa <= limit):
            return value, t + 1
        value += 0.5 * (ws[t + 1] * q + wa[t + 1] * qa)
    return value, -1


@_compiled(fastmath=_FLAGS, nogil=True)
def backward_momentum(lam, w1, bounds, every, lr, batch, mom, rho, nsgd, kex, trace, noise, ws, wa,
                      eff, g2, qs, ms, buf, work, d_log_lr, d_log_batch):
    """Reverse sweep of :func:`forward_momentum`. ``buf (L, 3, d)``: ``S, C, X`` before each step of a
    chunk; ``work (3, d)``: the recomputation's ``P`` and ``Y`` (and a spare row)."""
    d = lam.shape[0]
    steps = lr.shape[0]
    avg = bounds.shape[1] > 3
    PS = np.zeros(d)
    PC = np.zeros(d)
    PP = np.zeros(d)
    PA = np.zeros(d)
    PX = np.zeros(d)
    PY = np.zeros(d)
    a = 0.5 * ws[steps]
    b = 0.0
    a_avg = 0.5 * wa[steps] if avg else 0.0
    n_chunks = (steps + every - 1) // every
    pw = work[0]
    yw = work[1]
    for ci in range(n_chunks - 1, -1, -1):
        t0 = ci * every
        t1 = min(steps, t0 + every)
        for i in range(d):
            buf[0, 0, i] = bounds[ci, 0, i]
            buf[0, 1, i] = bounds[ci, 1, i]
            pw[i] = bounds[ci, 2, i]
        if avg:
            for i in range(d):
                buf[0, 2, i] = bounds[ci, 3, i]
                yw[i] = bounds[ci, 4, i]
        for t in range(t0, t1 - 1):
            j = t - t0
            bt = batch[t]
            e = eff[t]
            kk = _noise_coefficient(e, bt, qs[t], noise)
            kb = kex / bt
            mu = mom[t]
            one_mu = 1.0 + mu
            r = rho[t] if avg else 0.0
            keep = 1.0 - r
            for i in range(d):
                li = lam[i]
                x = e * li
                av = one_mu - x
                so = buf[j, 0, i]
                co = buf[j, 1, i]
                v = _heavy_ball_second_moment(so, co, pw[i], x, av, kb, mu, kk, li)
                if v < 0.0:
                    v = 0.0 * v
                cn = _heavy_ball_cross(so, co, av, mu)
                buf[j + 1, 0, i] = v
                buf[j + 1, 1, i] = cn
                pw[i] = so
                if avg:
                    xo = buf[j, 2, i]
                    z = _heavy_ball_moved_cross(xo, yw[i], av, mu)
                    yw[i] = _averaged_cross(xo, cn, keep, r)
                    buf[j + 1, 2, i] = _averaged_cross(z, v, keep, r)
        for t in range(t1 - 1, t0 - 1, -1):
            j = t - t0
            bt = batch[t]
            e = eff[t]
            kb = kex / bt
            cc = 1.0 + kb
            mu = mom[t]
            one_mu = 1.0 + mu
            qn = qs[t] + noise
            r = rho[t] if avg else 0.0
            keep = 1.0 - r
            k2 = keep * keep
            r1 = 0.0
            r3 = 0.0
            ge = 0.0
            for i in range(d):
                li = lam[i]
                wi = w1[i]
                x = e * li
                av = one_mu - x
                si = buf[j, 0, i]
                ci_ = buf[j, 1, i]
                ps = PS[i] + (a + b * li) * wi
                if avg:
                    pa = PA[i] + a_avg * wi
                    px = PX[i]
                    py = PY[i]
                    pst = ps + r * (r * pa + px)
                    pct = PC[i] + r * py
                    pz = keep * (2.0 * r * pa + px)
                    PA[i] = k2 * pa
                    PX[i] = av * pz + keep * py
                    PY[i] = -mu * pz
                    ge -= pz * li * buf[j, 2, i]
                else:
                    pst = ps
                    pct = PC[i]
                r1 += pst * li
                r3 += pst * li * li * si
                ge += pst * li * ((2.0 * kb * x - 2.0 * av) * si + 2.0 * mu * ci_) - pct * li * si
                PS[i] = (av * av + kb * x * x) * pst + av * pct + PP[i]
                PC[i] = -2.0 * mu * av * pst - mu * pct
                PP[i] = mu * mu * pst
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
    return 0
