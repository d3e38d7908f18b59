"""Exact heavy-ball momentum: the moment recursion, its stability, and torch's convention.

Heavy ball with per-step momentum ``μ_t`` (docs/math.md#heavy-ball-momentum), steps ``t = 0 … T−1``
in the solver's 0-based per-step indexing:

    w_{t+1} = w_t − η_t g_t + μ_t (w_t − w_{t−1}),      w_{−1} = w_0,

so step 0 has no momentum term (``μ_0`` is never used). Per eigen-coordinate the three moments
``S = E e_t²``, ``C = E e_t e_{t−1}``, ``P = E e_{t−1}²`` close exactly; with ``x = ηλ``,
``a = 1 + μ − x``, ``k = (κ − 2)/B`` and ``q = Σ m λ S``, all from the old moments,

    S ← (a² + k x²) S − 2aμ C + μ² P + (η²/B) λ (q + σ²),     C ← a S − μ C,     P ← S.

The gradient noise is the one of plain SGD (docs/math.md#sgd-second-moment-recursion) and NSGD
divides the step by ``sqrt(E‖g_t‖²)``, a function of ``S`` only (docs/math.md#normalized-sgd).
An iterate average ``ē_t = (1 − ρ_t) ē_{t−1} + ρ_t e_t`` adds ``A = E ē_t²``, ``X = E ē_t e_t`` and
``Y = E ē_t e_{t−1}`` (docs/math.md#heavy-ball-averaging).

Public here:

- :func:`momentum_moment_step` — one step of the recursion (the reference the solver runs);
- :func:`heavy_ball_momentum_of_torch_sgd` — the per-step ``μ_t`` of ``torch.optim.SGD(momentum=μ)``;
- :func:`is_stable_with_momentum`, :func:`momentum_stability_limit` — stability of a constant
  ``(η, μ, B)`` (docs/math.md#heavy-ball-stability).

:func:`~ramplab.theory.dynamics.recursion.expected_risk` takes ``momentum=`` and runs the loops
below (the array API reference loop, or the fused numba kernel
``ramplab.theory.dynamics.kernels.advance_momentum_groups``, internal).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validate import finite_real, strict_real_array
from .._backend import to_numpy
from ..schedules._schedule import Schedule
from . import kernels
from .problem import Problem

__all__ = [
    "heavy_ball_momentum_of_torch_sgd",
    "is_stable_with_momentum",
    "momentum_moment_step",
    "momentum_stability_limit",
]


# ------------------------------------------------------------------------------ the argument
def resolve_momentum(momentum: Any, horizon: int) -> float | np.ndarray | None:
    """``momentum=`` of :func:`expected_risk` checked: ``None`` when it is zero at every step, else a
    float in ``(0, 1)`` or a read-only float64 array of length ``horizon`` (the longest schedule).

    A number must lie in ``[0, 1)`` (a constant ``μ ≥ 1`` never contracts: the product of the two
    roots of ``z² − (1 + μ − ηλ) z + μ`` is ``μ``). Entries of an array must be finite and ``≥ 0``;
    single entries ``≥ 1`` are allowed, since torch's convention gives ``μ_t = μ η_t/η_{t−1} > 1``
    during a warmup (:func:`heavy_ball_momentum_of_torch_sgd`).
    """
    if isinstance(momentum, (bool, np.bool_)) or momentum is None or isinstance(momentum, (str, bytes, dict)):
        raise TypeError(f"momentum must be a number in [0, 1) or a 1-D array of per-step values; got {momentum!r:.80}")
    if np.ndim(momentum) == 0 and not isinstance(momentum, (list, tuple)):
        mu = finite_real(momentum, "momentum")
        if not 0.0 <= mu < 1.0:
            raise ValueError(f"momentum must lie in [0, 1); got {momentum!r:.80}")
        return None if mu == 0.0 else mu
    arr = strict_real_array(momentum, "momentum")
    if arr.ndim != 1:
        raise ValueError(f"momentum must be a number or a 1-D array of per-step values; got shape {arr.shape}")
    if arr.shape[0] != horizon:
        raise ValueError(f"momentum must have one entry per step of the longest schedule ({horizon}); "
                         f"got {arr.shape[0]}")
    bad = ~(np.isfinite(arr) & (arr >= 0.0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"momentum must be finite and ≥ 0 at every step; got {arr[i]!r} at step {i}")
    if not np.any(arr[1:] != 0.0):  # μ_0 is never used
        return None
    arr.flags.writeable = False
    return arr


def momentum_tables(momentum: float | np.ndarray, lengths: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Per-step ``μ`` of each schedule for the 0-based steps ``start … stop − 1``, shape ``(S, stop − start)``.

    A schedule of length ``T_j`` uses ``μ_t`` for ``t < T_j`` (a prefix of an array) and 0 on its
    padding, where the rate is 0 too, so its iterate stays put. Step 0 always gets 0 (``w_{−1} = w_0``).
    """
    steps = np.arange(start, stop)
    row = np.full(stop - start, float(momentum)) if np.ndim(momentum) == 0 else np.array(momentum[start:stop])
    row[steps == 0] = 0.0
    out = np.where(steps[None, :] < np.asarray(lengths)[:, None], row[None, :], 0.0)
    return np.ascontiguousarray(out, dtype=np.float64)


# ------------------------------------------------------------------------------ one step
def momentum_moment_step(
    second_moment: Any,
    cross_moment: Any,
    previous_moment: Any,
    eigenvalues: Any,
    lr: float,
    momentum: float,
    batch: float,
    noise_variance: float,
    kurtosis: float = 3.0,
    multiplicity: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One step of the heavy-ball moment recursion (docs/math.md#heavy-ball-momentum), per coordinate.

    Parameters
    ----------
    second_moment, cross_moment, previous_moment : array_like, shape (d,)
        ``S = E e_t²``, ``C = E e_t e_{t−1}`` and ``P = E e_{t−1}²`` per eigen-coordinate (squared
        parameter units).
    eigenvalues : array_like, shape (d,)
        ``λ_i > 0``.
    lr : float
        The rate applied at this step (for NSGD the effective rate ``η/sqrt(G_t)``), per step.
    momentum : float
        ``μ_t ≥ 0`` of this step.
    batch : float
        Samples per step, ``B ≥ 1``.
    noise_variance : float
        Label-noise variance ``σ² ≥ 0``.
    kurtosis : float, default 3.0
        ``κ = E z⁴ ≥ 1`` of the standardised inputs.
    multiplicity : array_like of shape (d,), optional
        Weights ``m_i ≥ 1`` of ``q = Σ m λ S`` (ones by default).

    Returns
    -------
    S, C, P : ndarray, shape (d,)
        The new moments ``E e_{t+1}²``, ``E e_{t+1} e_t``, ``E e_t²``, all computed from the old
        ones. A negative ``S`` left by rounding (it is a variance) is set to 0.

    Raises
    ------
    TypeError
        For arguments that are not real numbers (named).
    ValueError
        For arguments of the wrong shape or out of range (named), and when the new moments overflow
        float64.

    See Also
    --------
    ramplab.theory.expected_risk : runs this step with ``momentum=``.

    Examples
    --------
    With ``S = C = P`` (no motion yet) momentum has no effect: ``(1 − ηλ)² S`` plus the noise.

    >>> S, C, P = momentum_moment_step([1.0], [1.0], [1.0], [1.0], 0.5, 0.9, 1, 0.0, kurtosis=2.0)
    >>> round(float(S[0]), 12), round(float(C[0]), 12), float(P[0])
    (0.5, 0.5, 1.0)
    """
    arrays = []
    for value, name in ((second_moment, "second_moment"), (cross_moment, "cross_moment"),
                        (previous_moment, "previous_moment"), (eigenvalues, "eigenvalues")):
        arr = strict_real_array(value, name)
        if arr.ndim != 1 or not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be a finite 1-D array; got {value!r:.80}")
        arrays.append(arr)
    s, c, p, lam = arrays
    if not s.shape == c.shape == p.shape == lam.shape:
        raise ValueError(f"second_moment, cross_moment, previous_moment and eigenvalues must have one shape; got "
                         f"{s.shape}, {c.shape}, {p.shape}, {lam.shape}")
    if np.any(lam <= 0):
        raise ValueError("eigenvalues must be positive")
    if np.any(s < 0) or np.any(p < 0):
        raise ValueError("second_moment and previous_moment must be ≥ 0")
    lr = finite_real(lr, "lr", minimum=0.0)
    momentum = finite_real(momentum, "momentum", minimum=0.0)
    batch = finite_real(batch, "batch", minimum=1.0)
    noise_variance = finite_real(noise_variance, "noise_variance", minimum=0.0)
    kurtosis = finite_real(kurtosis, "kurtosis", minimum=1.0)
    if multiplicity is None:
        m = np.ones_like(lam)
    else:
        m = strict_real_array(multiplicity, "multiplicity")
        if m.shape != lam.shape or not np.all(np.isfinite(m) & (m >= 1)):
            raise ValueError(f"multiplicity must be finite, ≥ 1 and of shape {lam.shape}; got {multiplicity!r:.80}")
    with np.errstate(over="ignore", invalid="ignore"):
        q = np.array([float((m * lam) @ s)])
        out = _momentum_step(s[None, :], c[None, :], p[None, :], lam, np.array([[lr]]), np.array([[momentum]]),
                             np.array([[batch]]), np.array([[noise_variance]]), kurtosis - 2.0, q[:, None], np)
    if not all(np.all(np.isfinite(v)) for v in out):
        raise ValueError("the step overflows float64: second_moment, cross_moment, previous_moment, eigenvalues, "
                         "lr, momentum, batch, noise_variance, kurtosis or multiplicity is too large")
    return out[0][0], out[1][0], out[2][0]


def _momentum_step(s: Any, c: Any, p: Any, lam: Any, eff: Any, mu: Any, batch: Any, noise: Any, kex: float,
                   q: Any, xp: Any) -> tuple[Any, Any, Any]:
    """The step on ``(rows, d)`` states with per-row columns ``eff, mu, batch, noise, q`` (no checks).

    The fused kernel performs these operations in this order, coordinate by coordinate.
    """
    x = eff * lam
    a = (1.0 + mu) - x
    kb = kex / batch
    kk = (eff * eff / batch) * (q + noise)
    new = (a * a + kb * (x * x)) * s - (2.0 * mu) * (a * c) + (mu * mu) * p + kk * lam
    # A variance: rounding can leave −1e-17, set to (−)0; an overflow to −inf becomes NaN, never a finite 0.
    new = xp.where(new < 0.0, 0.0 * new, new)
    return new, a * s - mu * c, s


# ------------------------------------------------------------------------------ the solver loops
def _initial(problem: Problem, n_sched: int, split: bool):
    from .recursion import initial_state

    return initial_state(problem, n_sched, split)


def run_reference(problem, sched_list, optimizer, weights_of, split, raise_on_divergence, xp, dt, recorder,
                  horizon, limit, momentum):
    """The array API loop with momentum; returns the solver's ``_Run`` (see ``recursion``)."""
    from .recursion import (_CHUNK, _Run, _multiplicity, _new_outputs,
                            _loop_must_stop, _record_chunk, step_tables)

    n_sched = len(sched_list)
    blocks = 3 if split else 1
    s_np, noise_np = _initial(problem, n_sched, split)
    s = xp.asarray(s_np, dtype=dt)
    c, p = xp.asarray(s_np, dtype=dt), xp.asarray(s_np, dtype=dt)  # e_{−1} = e_0
    noise = xp.asarray(noise_np[:, None], dtype=dt)
    lam = xp.asarray(problem.eigenvalues, dtype=dt)
    w1_np = _multiplicity(problem) * problem.eigenvalues
    w1 = xp.asarray(w1_np, dtype=dt)
    moments = xp.stack([w1, w1 * lam], axis=1)
    kex, trace = problem.kurtosis - 2.0, float(np.sum(w1_np))
    noise_full = noise[:n_sched, 0]
    averaging = weights_of is not None
    out_q, out_avg, out_eff, out_g2, out_mean = _new_outputs(s.shape[0], n_sched, recorder.columns, averaging)
    k0 = recorder.column_of_zero()
    if averaging:  # ē_0 = e_0 = e_{−1}: A = X = Y = s(0)
        avg, xs, ys = (xp.asarray(s_np[:n_sched], dtype=dt) for _ in range(3))
    if k0 >= 0:
        out_q[:, k0] = to_numpy(s @ w1)
        if averaging:
            out_avg[:, k0] = to_numpy(xp.sum(avg * w1, axis=1))
    lengths = np.array([len(x) for x in sched_list])
    first_bad = np.full(n_sched, kernels.NEVER, dtype=np.int64)
    stopped_at = horizon
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for t0 in range(0, horizon, _CHUNK):
            t1 = min(t0 + _CHUNK, horizon)
            lr_tab, batch_tab = step_tables(sched_list, t0, t1)
            mu_tab = momentum_tables(momentum, lengths, t0, t1)
            lr_rows, batch_rows = xp.asarray(lr_tab.T, dtype=dt), xp.asarray(batch_tab.T, dtype=dt)
            mu_rows = xp.asarray(mu_tab.T, dtype=dt)
            rho = weights_of(t0, t1) if averaging else None
            hist: dict[str, list[Any]] = {"q": [], "avg": [], "eff": [], "g2": [], "mean": []}
            stop = False
            for t in range(t0, t1):
                eta, batch, mu = lr_rows[t - t0, :], batch_rows[t - t0, :], mu_rows[t - t0, :]
                qm = s @ moments
                q, mean_part = qm[:, 0], qm[:n_sched, 1]
                g2 = (1.0 + kex / batch) * mean_part + (trace / batch) * (q[:n_sched] + noise_full)
                if optimizer == "nsgd":
                    positive = g2 > 0
                    eff = xp.where(positive, eta / xp.sqrt(xp.where(positive, g2, 1.0)), 0.0)
                else:
                    eff = eta
                if blocks > 1:
                    eff_col = xp.concat([eff] * blocks)[:, None]
                    batch_col = xp.concat([batch] * blocks)[:, None]
                    mu_col = xp.concat([mu] * blocks)[:, None]
                else:
                    eff_col, batch_col, mu_col = eff[:, None], batch[:, None], mu[:, None]
                s, c_new, p = _momentum_step(s, c, p, lam, eff_col, mu_col, batch_col, noise, kex, q[:, None], xp)
                if averaging:
                    r = float(rho[t - t0])
                    keep = 1.0 - r
                    alpha, beta, gamma = keep * keep, r * r, 2.0 * r * keep
                    a = (1.0 + mu_col[:n_sched, :]) - eff_col[:n_sched, :] * lam
                    z = a * xs - mu_col[:n_sched, :] * ys  # E[ē_t e_{t+1}]
                    ys = keep * xs + r * c_new[:n_sched, :]
                    xs = keep * z + r * s[:n_sched, :]
                    avg = alpha * avg + beta * s[:n_sched, :] + gamma * z
                    hist["avg"].append(xp.sum(avg * w1, axis=1))
                c = c_new
                hist["eff"].append(eff)
                hist["g2"].append(g2)
                hist["mean"].append(mean_part)
                if _loop_must_stop(xp, s, t, raise_on_divergence):
                    stopped_at = t1 = t + 1
                    stop = True
                hist["q"].append(s @ w1)
                if stop:
                    break
            _record_chunk(hist, xp, recorder, t0, t1, (out_q, out_avg, out_eff, out_g2, out_mean), limit,
                          blocks, n_sched, lengths, first_bad)
            if stop:
                break
    return _Run(out_q, out_avg, out_eff, out_g2, out_mean, first_bad, stopped_at,
                to_numpy(s[:n_sched, :]).astype(np.float64))


def run_fused(problem, sched_list, optimizer, weights_of, split, raise_on_divergence, dtype, recorder, horizon,
              limit, momentum):
    """The fused numba loop with momentum (one schedule per worker); returns the solver's ``_Run``."""
    from .recursion import _CHUNK, _DIVERGENCE_CHECK_EVERY, _Run, _multiplicity, _new_outputs, step_tables

    n_sched = len(sched_list)
    blocks = 3 if split else 1
    s64, noise = _initial(problem, n_sched, split)
    lam64 = problem.eigenvalues
    w164 = _multiplicity(problem) * lam64
    dt = np.dtype(dtype)
    s = np.ascontiguousarray(s64, dtype=dt)
    c, p = s.copy(), s.copy()
    lam = np.ascontiguousarray(lam64, dtype=dt)
    w1 = lam if np.all(w164 == lam64) else np.ascontiguousarray(w164, dtype=dt)
    sums = kernels.weighted_sums(s, lam, w1)
    averaging = weights_of is not None
    if averaging:
        avg, xs, ys = s[:n_sched].copy(), s[:n_sched].copy(), s[:n_sched].copy()
        sums[:n_sched, 2] = sums[:n_sched, 0]
    else:
        avg = xs = ys = np.zeros((0, s.shape[1]), dtype=dt)
    out_q, out_avg, out_eff, out_g2, out_mean = _new_outputs(s.shape[0], n_sched, recorder.columns, averaging)
    k0 = recorder.column_of_zero()
    if k0 >= 0:
        out_q[:, k0] = sums[:, 0]
        if averaging:
            out_avg[:, k0] = sums[:n_sched, 2]
    lengths = np.array([len(x) for x in sched_list], dtype=np.int64)
    first_bad = np.full(n_sched, kernels.NEVER, dtype=np.int64)
    bad_check = np.full(n_sched, kernels.NEVER, dtype=np.int64)
    active = np.ones(n_sched, dtype=np.bool_)
    workers = min(kernels.thread_count(), n_sched)
    stopped_at = horizon
    empty_rho = np.zeros(0)
    for t0 in range(0, horizon, _CHUNK):
        t1 = min(t0 + _CHUNK, horizon)
        lr, batch = step_tables(sched_list, t0, t1)
        mu = momentum_tables(momentum, lengths, t0, t1)
        rho = weights_of(t0, t1) if averaging else empty_rho
        kernels.advance_momentum_groups(
            workers, s, c, p, avg, xs, ys, lam, w1, noise, sums, lr, batch, mu, rho, recorder.columns_for(t0, t1),
            t0, lengths, horizon, out_q, out_avg if averaging else out_eff[:0], out_eff, out_g2, out_mean,
            first_bad, bad_check, active, optimizer == "nsgd", blocks, problem.kurtosis - 2.0,
            float(np.sum(w164)), _DIVERGENCE_CHECK_EVERY, limit)
        if raise_on_divergence and bad_check.min() <= t1:
            stopped_at = int(bad_check.min())
            break
        if not active.any():
            break
    return _Run(out_q, out_avg, out_eff, out_g2, out_mean, first_bad, stopped_at,
                np.array(s[:n_sched], dtype=np.float64))


# ------------------------------------------------------------------------------ torch's convention
def heavy_ball_momentum_of_torch_sgd(lrs: Any, momentum: float) -> np.ndarray:
    """Per-step heavy-ball ``μ_t`` equivalent to ``torch.optim.SGD(momentum=μ, dampening=0)``.

    torch keeps a buffer ``b_t = μ b_{t−1} + g_t`` (``b_0 = g_0``) and steps ``w_{t+1} = w_t − η_t b_t``.
    Since ``w_t − w_{t−1} = −η_{t−1} b_{t−1}``, this is heavy ball with ``μ_t = μ η_t/η_{t−1}``
    (docs/math.md#heavy-ball-momentum): the two agree exactly when the rate is constant and differ
    whenever it changes. Pass the result as ``expected_risk(..., momentum=...)``.

    Parameters
    ----------
    lrs : Schedule or array_like of shape (T,)
        Per-step learning rates ``η_0 … η_{T−1}`` (finite, ≥ 0), or a schedule (its per-step rates).
    momentum : float
        torch's ``momentum`` argument, ``μ ∈ [0, 1)``.

    Returns
    -------
    ndarray, shape (T,)
        ``μ_t = μ η_t/η_{t−1}`` for ``t ≥ 1``; ``μ_0 = μ`` (step 0 has no momentum term, so it is
        never used). ``μ_t = 0`` where ``η_t = η_{t−1} = 0``. A warmup gives ``μ_t > μ``, possibly > 1.

    Raises
    ------
    TypeError
        If ``lrs`` is not a schedule or real numbers, or ``momentum`` is not a real number.
    ValueError
        If ``momentum`` is outside ``[0, 1)``, ``lrs`` is not a non-empty 1-D array of finite values
        ``≥ 0``, or a positive rate follows a zero rate with ``μ > 0``: torch's buffer keeps the
        gradients of the steps it did not apply, which no heavy-ball ``μ_t`` represents.

    See Also
    --------
    ramplab.theory.expected_risk

    Examples
    --------
    >>> heavy_ball_momentum_of_torch_sgd([0.4, 0.4, 0.2, 0.1], 0.9).round(3).tolist()
    [0.9, 0.9, 0.45, 0.45]
    """
    mu = finite_real(momentum, "momentum")
    if not 0.0 <= mu < 1.0:
        raise ValueError(f"momentum must lie in [0, 1); got {momentum!r:.80}")
    if isinstance(lrs, Schedule):
        eta = lrs.step_arrays()[0]
    else:
        eta = strict_real_array(lrs, "lrs")
        if eta.ndim != 1 or eta.size == 0:
            raise ValueError(f"lrs must be a Schedule or a non-empty 1-D array of rates; got shape {eta.shape}")
        if not np.all(np.isfinite(eta) & (eta >= 0)):
            raise ValueError(f"lrs must hold finite rates ≥ 0; got {lrs!r:.80}")
    out = np.empty(eta.shape[0])
    out[0] = mu
    prev, cur = eta[:-1], eta[1:]
    stuck = (prev == 0.0) & (cur > 0.0)
    if mu > 0.0 and stuck.any():
        t = int(np.argmax(stuck)) + 1
        raise ValueError(f"lrs is 0 at step {t - 1} and positive at step {t} (0-based): torch's momentum buffer holds "
                         f"gradients that were never applied, which heavy ball cannot represent")
    with np.errstate(over="ignore"):
        ratio = np.where(prev > 0.0, cur / np.where(prev > 0.0, prev, 1.0), 0.0)
    out[1:] = mu * ratio
    if not np.all(np.isfinite(out)):
        raise ValueError(f"lrs changes by more than float64 can hold between two steps; got {lrs!r:.80}")
    return out


# ------------------------------------------------------------------------------ stability
def _stability_parts(problem: Any, momentum: Any, batch: Any) -> tuple[np.ndarray, np.ndarray, float, float, float]:
    from .stability import _multiplicity as checked_multiplicity

    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {problem!r:.80}")
    mu = finite_real(momentum, "momentum")
    if not 0.0 <= mu < 1.0:
        raise ValueError(f"momentum must lie in [0, 1); got {momentum!r:.80}")
    batch = finite_real(batch, "batch", minimum=1.0)
    m = checked_multiplicity(problem)
    lam = problem.eigenvalues
    return lam, (np.ones_like(lam) if m is None else m), mu, batch, (problem.kurtosis - 2.0) / batch


def _stable(lam: np.ndarray, m: np.ndarray, lr: float, mu: float, batch: float, kb: float) -> bool:
    """``(I − M)^{-1} b`` in the interior of the cone for ``b`` = identity covariances (docs/math.md#heavy-ball-stability)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        x = lr * lam
        a = (1.0 + mu) - x
        den = x * ((1.0 - mu) * (2.0 * (1.0 + mu) - x) - (1.0 + mu) * kb * x)  # det(I − T_i)
        if not np.all(np.isfinite(den)) or np.any(den == 0.0):
            return False
        sy = (1.0 + mu) * (1.0 + mu * mu) / den  # S of (I − T_i)^{-1} (1, 0, 1)
        sz = (1.0 + mu) * x * x / (batch * den)  # S of (I − T_i)^{-1} (η²λ_i/B, 0, 0), times m_i λ_i / λ_i
        loop = 1.0 - float(np.sum(m * sz))
        if not (math.isfinite(loop) and loop != 0.0):
            return False
        total = float(np.sum(m * lam * sy)) / loop
        s = sy + total * sz / lam
        if not np.all(np.isfinite(s)):
            return False
        ratio = (a / (1.0 + mu)) ** 2
        # v_i = (S, aS/(1+μ), S + 1): interior iff S > 0 and S (S + 1) > a² S²/(1 + μ)².
        return bool(np.all(s > 0.0) and np.all(1.0 > s * (ratio - 1.0)))


def is_stable_with_momentum(problem: Problem, lr: float, momentum: float, batch: float) -> bool:
    """Whether constant-(η, μ, B) heavy ball has bounded second moments (docs/math.md#heavy-ball-stability).

    Exactly ``ρ(M) < 1`` for the coupled moment map ``M`` of all coordinates: ``M`` maps the cone of
    per-coordinate 2×2 covariances of ``(e_t, e_{t−1})`` into itself, so ``ρ(M) < 1`` iff
    ``v = (I − M)^{-1} b`` lies inside the cone for ``b`` = identity covariances; ``v`` is O(d) because
    the coordinates couple through one rank-one term.

    Parameters
    ----------
    problem : Problem
        The regression problem (its multiplicities, if any, weight the coupling).
    lr : float
        Learning rate ``η > 0`` (per step).
    momentum : float
        ``μ ∈ [0, 1)``.
    batch : float
        Batch size ``B ≥ 1`` (samples per step).

    Returns
    -------
    bool

    Raises
    ------
    TypeError, ValueError
        For a bad argument (named).

    See Also
    --------
    momentum_stability_limit
    ramplab.theory.stability.is_stable : the same question without momentum.

    Examples
    --------
    One coordinate, Gaussian data, ``B = 1``: the limit is ``3/7`` at ``μ = 1/2`` (2/3 without momentum).

    >>> p = Problem([1.0], [1.0])
    >>> is_stable_with_momentum(p, 0.42, 0.5, 1), is_stable_with_momentum(p, 0.43, 0.5, 1)
    (True, False)
    """
    lam, m, mu, batch, kb = _stability_parts(problem, momentum, batch)
    lr = finite_real(lr, "lr")
    if lr <= 0:
        raise ValueError(f"lr must be positive; got {lr!r}")
    return _stable(lam, m, lr, mu, batch, kb)


def momentum_stability_limit(problem: Problem, momentum: float, batch: float) -> float:
    """Largest stable constant learning rate of heavy ball at momentum ``μ`` and batch ``B``.

    Stability is :func:`is_stable_with_momentum` (exact, docs/math.md#heavy-ball-stability). The
    stable rates form an interval ``(0, η*)`` below the noiseless limit ``2(1 + μ)/λ_max`` (the tests
    check the interval shape on grids); ``η*`` is found by bisection to the last few bits, and the
    value returned is stable.

    Parameters
    ----------
    problem : Problem
        The regression problem.
    momentum : float
        ``μ ∈ [0, 1)``.
    batch : float
        Batch size ``B ≥ 1`` (samples per step).

    Returns
    -------
    float
        ``η*`` (per step): stable at it, unstable at ``η*(1 + 1e-12)``.

    Raises
    ------
    TypeError, ValueError
        For a bad argument (named).

    See Also
    --------
    is_stable_with_momentum

    Examples
    --------
    Without noise coupling the limit is ``2(1 + μ)/λ``; the noise lowers it:

    >>> p = Problem([1.0], [1.0])
    >>> round(momentum_stability_limit(p, 0.5, 1e12), 6)
    3.0
    >>> round(momentum_stability_limit(p, 0.0, 1), 6)   # SGD, Gaussian, B = 1: 2/(c + 1) = 2/3
    0.666667
    """
    lam, m, mu, batch, kb = _stability_parts(problem, momentum, batch)
    top = float(np.max(lam))
    hi = 2.0 * (1.0 + mu) / top
    while _stable(lam, m, hi, mu, batch, kb):  # not expected (the mean dynamics diverge there): guard
        hi *= 2.0
        if not math.isfinite(hi):
            raise ValueError("no unstable learning rate found for this problem, momentum and batch")
    lo = hi
    for _ in range(2100):
        lo *= 0.5
        if lo == 0.0:
            raise ValueError("no stable learning rate found for this problem, momentum and batch (the "
                             "eigenvalues span more than float64 resolves)")
        if _stable(lam, m, lo, mu, batch, kb):
            break
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi:
            break
        if _stable(lam, m, mid, mu, batch, kb):
            lo = mid
        else:
            hi = mid
    return lo
