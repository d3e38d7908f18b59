"""Quadrature reduction: the slow part of the spectrum replaced by Gauss rules (docs/math.md#quadrature-reduction).

For a fixed history of the global scalars (rates, batches, ``q``, averaging and momentum weights) every
coordinate's moments are affine in its initial moment, ``s_i(t) = Φ_t(λ_i) s_i(0) + λ_i Ψ_t(λ_i)``,
with ``Φ_t`` and ``Ψ_t`` depending on ``λ_i`` only. Every observable the solver reports is a sum
``Σ m λ s`` or ``Σ m λ² s`` (and ``tr H = Σ m λ``), so the coordinates that barely contract over the
horizon ("slow": log-contraction ``A(λ) ≤ τ``) enter only through integrals of analytic functions
against two discrete measures, ``μ_noise = Σ m λ δ_λ`` and ``μ_bias = Σ m λ s(0) δ_λ``. A ``K``-node
Gauss rule of each integrates polynomials of degree ``2K − 1`` exactly; :func:`reduce_problem` builds
them from modified Chebyshev moments in ``O(d K)`` and returns a :class:`QuadratureReduction`: a small
:class:`Problem` (fast coordinates kept, ``K`` noise nodes, ``K`` bias nodes) that the ordinary solver
runs. :func:`reduced_expected_risk` solves it at two degrees and reports their gap as
``RiskTrajectory.reduction_error``.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from scipy.linalg import eigh_tridiagonal

from .._validate import finite_real, nonnegative_int, strict_real_array
from ..schedules._schedule import Schedule, schedule_list
from ._compression import CURVES as _CURVES
from ._compression import applied_rates as _applied_rates
from ._compression import contraction_exponent
from ._compression import initial_effective_rates as _initial_effective_rates
from ._compression import relative_gap as _relative_gap
from ._compression import schedule_rates as _rates
from . import _quadrature_kernels
from ._problem import Problem
from ._solver import SolveRequest, solve
from ._trajectory import RiskTrajectory

__all__ = ["QuadratureReduction", "gauss_rule", "reduce_problem"]

#: Gauss nodes per measure of the returned run and of the run it is checked against (K + δ and K).
DEGREE = 32
CHECK_DEGREE = 24
#: Largest log-contraction A(λ) over the horizon of a coordinate replaced by quadrature.
SLOW_CONTRACTION = 30.0
#: Target of the a-posteriori check: above it, τ is lowered (more coordinates kept exactly).
TARGET_ERROR = 1e-11
_MAX_TRIES = 4
#: Bias nodes carry the bias measure through a huge s(0) and a tiny multiplicity: their own share of the
#: noise measure is this fraction of the slow trace (far below rounding).
_BIAS_NODE_NOISE_SHARE = 1e-30
#: Largest slow coordinates kept exactly all the same (see _reductions).
_KEEP_TOP_SLOW = 32
#: reduce="auto" reduces only problems with at least this many stored coordinates ...
AUTO_MIN_DIMENSION = 2_000
#: ... with at least this many steps in the longest schedule (the front end costs about 200 passes over d) ...
AUTO_MIN_STEPS = 1000
#: ... and, below :data:`AUTO_LARGE_DIMENSION` coordinates, at least this many coordinate-steps in all
#: (schedules × longest horizon × d): the reduced runs cost a fixed ~7 ms and ~1 µs per schedule-step
#: (two small solves and their curves, measured at d = 2 000), the full one ~0.85 ns per coordinate-step,
#: so one schedule of 5 000 steps at d = 2 000 is faster unreduced and 22 of them are 1.8× faster reduced
#: (``ramplab bench --suite exact``) ...
AUTO_MIN_WORK = 100_000_000
#: ... (from this many coordinates on, the horizon alone decides, as it always did) ...
AUTO_LARGE_DIMENSION = 20_000
#: ... and only when the reduced problem is at most this fraction of the full one.
AUTO_MAX_FRACTION = 0.1
#: Passes over at least this many points use the compiled kernels of :mod:`._quadrature_kernels` (when numba is
#: there); smaller ones (the rules' own nodes) stay in NumPy.
_COMPILED_FROM = 4096


def chebyshev_moments(points: np.ndarray, weights: np.ndarray, lo: float, hi: float, count: int) -> np.ndarray:
    """Modified moments ``∫ p_k dμ``, ``k < count``, of ``μ = Σ w δ_x`` for the monic Chebyshev
    polynomials ``p_k`` of ``[lo, hi]`` (three-term recurrence, ``O(d · count)``). ``weights`` of shape
    ``(r, d)`` gives ``r`` measures on the same points at once (shape ``(r, count)``)."""
    t = (2.0 * points - (lo + hi)) / (hi - lo) if hi > lo else np.zeros_like(points)
    w = np.asarray(weights, dtype=np.float64)
    if _quadrature_kernels.AVAILABLE and w.ndim in (1, 2) and t.size >= _COMPILED_FROM:
        out2 = np.empty((w.size // max(t.size, 1), count))
        _quadrature_kernels.chebyshev_moments_into(np.ascontiguousarray(t, dtype=np.float64),
                                                   np.ascontiguousarray(w.reshape(-1, t.size)), out2)
        return out2.reshape(w.shape[:-1] + (count,))
    out = np.empty(w.shape[:-1] + (count,))
    prev, cur, nxt = np.zeros_like(t), np.ones_like(t), np.empty_like(t)
    for k in range(count):
        # einsum, not a BLAS dot: a threaded BLAS on a busy machine costs milliseconds per call.
        out[..., k] = np.einsum("...i,i->...", w, cur)
        b = 0.0 if k == 0 else (0.5 if k == 1 else 0.25)
        np.multiply(t, cur, out=nxt)
        if b:
            nxt -= b * prev
        prev, cur, nxt = cur, nxt, prev
    return out


def _modified_chebyshev(moments: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Recurrence coefficients ``α_k, β_k`` (``k < n``) of the monic orthogonal polynomials of a measure on
    ``[−1, 1]`` from its ``2n`` modified moments against monic Chebyshev polynomials (Gautschi's modified
    Chebyshev algorithm, *Orthogonal Polynomials: Computation and Approximation*, 2004, Alg. 2.1)."""
    a = np.zeros(2 * n)
    b = np.full(2 * n, 0.25)
    b[0], b[1] = 0.0, 0.5
    alpha, beta = np.zeros(n), np.zeros(n)
    alpha[0] = a[0] + moments[1] / moments[0]
    beta[0] = moments[0]
    sig_prev = np.zeros(2 * n + 1)          # σ_{k−2, l} at index l + 1
    sig = np.zeros(2 * n + 1)
    sig[1:] = moments                        # σ_{k−1, l}, starting with σ_{0, l} = m_l
    for k in range(1, n):
        new = np.zeros(2 * n + 1)
        ls = np.arange(k, 2 * n - k)
        new[ls + 1] = (sig[ls + 2] - (alpha[k - 1] - a[ls]) * sig[ls + 1] - beta[k - 1] * sig_prev[ls + 1]
                       + b[ls] * sig[ls])
        alpha[k] = a[k] + new[k + 2] / new[k + 1] - sig[k + 1] / sig[k]
        beta[k] = new[k + 1] / sig[k]
        sig_prev, sig = sig, new
    return alpha, beta


def _golub_welsch(alpha: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    theta, vec = eigh_tridiagonal(alpha, np.sqrt(beta[1:]))
    return theta, beta[0] * vec[0] ** 2


def _lanczos_rule(t: np.ndarray, w: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Jacobi coefficients ``α, β`` (up to ``n``; the leading ones serve every smaller rule) by Lanczos on ``diag(t)`` with full reorthogonalisation, ``O(d n²)``: the fallback when the
    modified moments are too ill-conditioned for the requested degree."""
    total = float(w.sum())
    v = np.sqrt(w / total)
    basis = np.empty((n, t.size))
    alpha, beta = np.zeros(n), np.zeros(n)
    beta[0] = total
    prev, b_prev = np.zeros_like(v), 0.0
    for k in range(n):
        basis[k] = v
        u = t * v
        alpha[k] = float(np.einsum("i,i->", v, u))
        u -= alpha[k] * v + b_prev * prev
        # Full reorthogonalisation (einsum: no threaded BLAS, see chebyshev_moments).
        u -= np.einsum("kd,k->d", basis[:k + 1], np.einsum("kd,d->k", basis[:k + 1], u))
        b = float(np.sqrt(np.einsum("i,i->", u, u)))
        if k + 1 < n:
            if not b > 0:
                return alpha[:k + 1], beta[:k + 1]
            beta[k + 1] = b * b
            prev, v, b_prev = v, u / b, b
    return alpha, beta


def _accurate(theta: np.ndarray, weight: np.ndarray, moments: np.ndarray) -> bool:
    """Whether the rule reproduces the modified moments it was built from, to 1e-14 of the mass in the
    Chebyshev normalisation ``T_k = 2^{k−1} p_k`` (``|T_k| ≤ 1``, so this bounds every error in ``[−1, 1]``)."""
    if not (np.all(np.isfinite(theta)) and np.all(np.isfinite(weight)) and np.all(weight >= 0)):
        return False
    got = chebyshev_moments(np.clip(theta, -1.0, 1.0), weight, -1.0, 1.0, moments.size)
    scale = 2.0 ** np.maximum(np.arange(moments.size) - 1, 0)
    return bool(np.max(np.abs(got - moments) * scale) <= 1e-14 * moments[0] * moments.size)


def _distinct(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and the inverse index (no sort when ``x`` is already monotone)."""
    if x.size > 1:
        step = np.diff(x)
        if np.all(step <= 0):
            x, flip = x[::-1], True
            step = -step[::-1]
        elif np.all(step >= 0):
            flip = False
        else:
            return np.unique(x, return_inverse=True)
        starts = np.concatenate([[True], step > 0])
        inverse = np.cumsum(starts) - 1
        return x[starts], (inverse[::-1] if flip else inverse)
    return np.unique(x, return_inverse=True)


def _rule(moments: np.ndarray, n: int, lanczos: Any) -> tuple[np.ndarray, np.ndarray]:
    """Gauss rule on ``[−1, 1]`` from ``2n`` modified moments, or by Lanczos (``lanczos()``, the Jacobi
    coefficients of the largest degree asked for) when they are ill-conditioned."""
    alpha, beta = _modified_chebyshev(moments[:2 * n], n)
    if np.all(np.isfinite(alpha)) and np.all(np.isfinite(beta)) and np.all(beta > 0):
        theta, weight = _golub_welsch(alpha, beta)
        if _accurate(theta, weight, moments[:2 * n]):
            return theta, weight
    alpha, beta = lanczos()
    return _golub_welsch(alpha[:n], beta[:n])


def gauss_rules(points: Any, weights: Any, nodes: Sequence[int]) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """Gauss rules of several measures ``weights[r]`` on one set of points, for several numbers of nodes
    (``out[r][j]`` for ``nodes[j]``), sharing one pass of modified moments (docs/math.md#quadrature-reduction)."""
    x = np.asarray(strict_real_array(points, "points"), dtype=np.float64)
    ws = np.atleast_2d(np.asarray(strict_real_array(weights, "weights"), dtype=np.float64))
    counts = [nonnegative_int(n, "nodes") for n in nodes]
    if any(n < 1 for n in counts):
        raise ValueError(f"nodes must be ≥ 1; got {nodes!r}")
    if x.ndim != 1 or x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError(f"points must be a non-empty 1-D array of finite numbers; got shape {x.shape}")
    if ws.ndim != 2 or ws.shape[0] == 0 or ws.shape[-1:] != x.shape:
        raise ValueError(f"weights must have the shape of points {x.shape}, or be a non-empty stack of such rows; "
                         f"got {ws.shape}")
    with np.errstate(over="ignore"):
        total = ws.sum(axis=1)
    if not (np.all(np.isfinite(ws) & (ws >= 0)) and np.all(np.isfinite(total)) and np.all(total > 0)):
        raise ValueError("weights must be finite, ≥ 0, not all zero, with a finite sum")
    if np.any(np.abs(x) > 1e150):
        raise ValueError("points must be at most 1e150 in magnitude (their powers are formed)")
    return _gauss_rules(x, ws, counts)


def _count_distinct(x: np.ndarray) -> int:
    """Number of distinct values of ``x`` (without a sort when ``x`` is monotone)."""
    if x.size > 1:
        step = np.diff(x)
        if np.all(step <= 0) or np.all(step >= 0):
            return 1 + int(np.count_nonzero(step))
    return int(np.unique(x).size)


def _gauss_rules(x: np.ndarray, ws: np.ndarray, counts: Sequence[int]) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """:func:`gauss_rules` on checked arrays: ``x`` finite float64 of shape ``(d,)``, ``ws`` of shape ``(r, d)``
    with finite weights ``≥ 0`` and positive finite sums, ``counts`` positive."""
    n_distinct = _count_distinct(x)
    if n_distinct <= max(counts):
        distinct, inverse = _distinct(x)  # some rule is the measure itself, lumped
        lo, hi = float(distinct[0]), float(distinct[-1])
    else:
        lo, hi = float(x.min()), float(x.max())
    moments = chebyshev_moments(x, ws, lo, hi, 2 * max(counts)) if n_distinct > min(counts) else None
    out = []
    for r, w in enumerate(ws):
        rules = []
        cache: dict[str, Any] = {}

        def lanczos(w: np.ndarray = w, cache: dict = cache) -> Any:
            if "jacobi" not in cache:
                cache["jacobi"] = _lanczos_rule((2.0 * x - (lo + hi)) / (hi - lo), w, max(counts))
            return cache["jacobi"]

        for n in counts:
            if n_distinct <= n:
                lumped = np.bincount(inverse, weights=w, minlength=distinct.size)
                rules.append((distinct[lumped > 0], lumped[lumped > 0]))
                continue
            theta, weight = _rule(moments[r], n, lanczos)
            node = lo + 0.5 * (hi - lo) * (np.clip(theta, -1.0, 1.0) + 1.0)
            good = weight > 0  # a node whose weight underflows carries nothing
            rules.append((node[good], weight[good]))
        out.append(rules)
    return out


def gauss_rule(points: Any, weights: Any, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``nodes``-point Gauss rule of the discrete measure ``Σ_i w_i δ(x − x_i)`` (docs/math.md#quadrature-reduction).

    Built in ``O(d · nodes)`` from the measure's modified moments against the Chebyshev polynomials of
    its support interval, the modified Chebyshev algorithm and the Golub–Welsch eigenproblem; if the
    rule does not reproduce those moments to rounding (an ill-conditioned measure), by Lanczos with
    full reorthogonalisation (``O(d · nodes²)``) instead. A measure with at most ``nodes`` distinct
    support points is returned as is (its own exact rule).

    Parameters
    ----------
    points : array_like, shape (d,)
        Finite support points ``x_i``.
    weights : array_like, shape (d,)
        Weights ``w_i ≥ 0`` (not all zero).
    nodes : int
        Number of nodes ``K ≥ 1``.

    Returns
    -------
    x, w : ndarray
        Nodes (ascending, inside ``[min x_i, max x_i]``) and positive weights with
        ``Σ w f(x) = Σ w_i f(x_i)`` for every polynomial ``f`` of degree ``≤ 2K − 1``.

    Raises
    ------
    ValueError
        If the weights are negative, all zero or not finite, or ``nodes < 1``.

    Examples
    --------
    >>> lam = np.arange(1, 1001) ** -1.5
    >>> x, w = gauss_rule(lam, lam, 8)
    >>> f = lambda t: t**3 - 2 * t**9
    >>> round(float(w @ f(x) / (lam @ f(lam)) - 1), 13)
    0.0
    """
    w = strict_real_array(weights, "weights")
    if np.ndim(w) != 1:
        raise ValueError(f"weights must be a 1-D array of the shape of points; got shape {np.shape(w)}")
    return gauss_rules(points, w, [nodes])[0][0]


@dataclass(frozen=True, eq=False)
class QuadratureReduction:
    """A problem with its slow coordinates replaced by Gauss rules (docs/math.md#quadrature-reduction).

    Attributes
    ----------
    source : Problem
        The full problem (``d`` stored coordinates).
    fast : ndarray of int64
        Indices of the coordinates kept exactly; the rest are slow.
    problem : Problem
        The reduced problem: the fast coordinates first (as in :attr:`source`), then ``K`` noise nodes
        (eigenvalue ``x_k``, multiplicity ``W_k / x_k``, ``s(0) = 0``), then up to ``K`` bias nodes
        (eigenvalue ``y_k``, a tiny multiplicity and the ``s(0)`` that carries the bias weight ``V_k``).
        ``tr H``, ``q(0)`` and the initial risk are those of :attr:`source` to rounding.
    nodes : int
        Nodes per measure ``K``.
    threshold : float
        Log-contraction ``τ`` above which a coordinate was kept.
    noise_nodes, bias_nodes : int
        Nodes of the two rules (fewer than ``nodes`` when the slow coordinates have fewer distinct
        eigenvalues; ``bias_nodes = 0`` when ``s(0)`` vanishes on them).
    rule_error : float
        Largest relative error of the rules on ``∫ λ^j dμ``, ``j = 1, 2, 3``, against the direct sums: the
        rounding of the rules themselves, which comparing two degrees cannot see (both share it).

    Examples
    --------
    >>> p = Problem.power_law(50_000, a=1.5, b=1.5, noise_variance=0.1)
    >>> red = reduce_problem(p, Schedule.constant(0.5 / p.trace, 1, steps=2000))
    >>> red.fast.size, red.noise_nodes, red.bias_nodes, red.dimension
    (40, 32, 32, 104)
    >>> red.expand(red.problem.initial_second_moment).shape
    (50000,)
    """

    source: Problem
    fast: np.ndarray
    problem: Problem
    nodes: int
    threshold: float
    noise_nodes: int
    bias_nodes: int
    rule_error: float = 0.0

    @property
    def dimension(self) -> int:
        """Stored coordinates of the reduced problem."""
        return self.problem.dimension

    def expand(self, second_moment: np.ndarray) -> np.ndarray:
        """Per-coordinate second moments of :attr:`source` from those of :attr:`problem`.

        The fast coordinates are exact; a slow coordinate gets ``s_i(0) Φ(λ_i) + λ_i Ψ(λ_i)`` with ``Φ``
        and ``λΨ`` interpolated (polynomials through the bias and the noise nodes). This reconstruction
        is an interpolation of degree ``K − 1``, less accurate than the sums the solver reports.

        Parameters
        ----------
        second_moment : array_like, shape (..., dimension)
            Per-coordinate values of :attr:`problem` (e.g. a reduced run's ``final_second_moment``).

        Returns
        -------
        ndarray, shape (..., d)
            One value per coordinate of :attr:`source`.
        """
        src, f = self.source, self.fast.size
        if self.problem is src:
            return np.asarray(second_moment, dtype=np.float64)
        s = np.asarray(second_moment, dtype=np.float64)
        out = np.empty(s.shape[:-1] + (src.dimension,))
        out[..., self.fast] = s[..., :f]
        slow = np.ones(src.dimension, dtype=bool)
        slow[self.fast] = False
        lam = src.eigenvalues[slow]
        lam_r = self.problem.eigenvalues
        noise = slice(f, f + self.noise_nodes)
        bias = slice(f + self.noise_nodes, f + self.noise_nodes + self.bias_nodes)
        value = _interpolate(lam_r[noise], s[..., noise], lam)
        if self.bias_nodes:
            phi = s[..., bias] / self.problem.initial_second_moment[bias]
            value = value + src.initial_second_moment[slow] * _interpolate(lam_r[bias], phi, lam)
        out[..., slow] = np.maximum(value, 0.0)
        return out


def _interpolate(nodes: np.ndarray, values: np.ndarray, at: np.ndarray, chunk: int = 16384) -> np.ndarray:
    """Barycentric polynomial interpolation through ``(nodes, values[..., k])`` at ``at`` (in chunks of ``at``)."""
    out = np.zeros(values.shape[:-1] + at.shape)
    if nodes.size == 0:
        return out
    # A rule on a measure with fewer points than nodes repeats a node (same λ, same value): once each.
    nodes, first = np.unique(nodes, return_index=True)
    values = values[..., first]
    diff = nodes[:, None] - nodes[None, :]
    np.fill_diagonal(diff, 1.0)
    # Barycentric weights 1/∏(x_j − x_k), up to a common factor (it cancels): in logarithms, so that
    # clustered nodes (a power law's small eigenvalues) never underflow the product to 0.
    log_w = -np.sum(np.log(np.abs(diff)), axis=1)
    sign = np.where(np.sum(diff < 0, axis=1) % 2 == 1, -1.0, 1.0)
    bw = sign * np.exp(log_w - np.max(log_w))
    for lo in range(0, at.size, chunk):
        part = at[lo:lo + chunk]
        c = part[None, :] - nodes[:, None]
        exact = c == 0
        c[exact] = 1.0
        np.divide(bw[:, None], c, out=c)
        val = np.einsum("...k,kd->...d", values, c)
        val /= np.einsum("kd->d", c)
        hit = exact.any(axis=0)
        if hit.any():
            val[..., hit] = values[..., np.argmax(exact[:, hit], axis=0)]
        out[..., lo:lo + chunk] = val
    return out


def contraction_profile(problem: Problem, rates: Sequence[tuple[np.ndarray, np.ndarray]],
                        momentum: Any = None) -> np.ndarray:
    """Largest log-contraction ``A(λ_i)`` over the schedules, per stored coordinate (interpolated in
    ``log λ`` between 8 nodes per e-fold; heavy ball counts ``η / (1 − μ)``)."""
    lam = problem.eigenvalues
    lo, hi = math.log(float(lam.min())), math.log(float(lam.max()))
    grid = np.exp(np.linspace(lo, hi, max(3, int(math.ceil((hi - lo) * 8)) + 1))) if hi > lo else lam[:1].copy()
    grid[0], grid[-1] = float(lam.min()), float(lam.max())
    prof = np.zeros(grid.shape)
    for lr, batch in rates:
        if momentum is not None:
            mu = np.broadcast_to(np.asarray(momentum, dtype=np.float64), (max(lr.size, 1),))[:lr.size]
            lr = lr / np.maximum(1.0 - np.clip(mu, 0.0, 0.999), 1e-3)
        A, _ = contraction_exponent(grid, lr, batch, problem.kurtosis)
        prof = np.maximum(prof, np.nan_to_num(np.abs(A), nan=np.inf, posinf=np.inf))
    if grid.size == 1:
        return np.full(lam.shape, prof[0])
    # A is increasing in λ where it matters; interpolate on the log grid, with a safety factor.
    return 1.05 * np.exp(np.interp(np.log(lam), np.log(grid), np.log(np.maximum(prof, 1e-300))))


def reduce_problem(problem: Problem, schedules: Schedule | Sequence[Schedule], nodes: int = DEGREE, *,
                   threshold: float = SLOW_CONTRACTION, momentum: Any = None,
                   rates: Sequence[tuple[np.ndarray, np.ndarray]] | None = None) -> QuadratureReduction:
    """Replace the slow coordinates of ``problem`` by Gauss rules for these schedules (docs/math.md#quadrature-reduction).

    A coordinate is slow when its log-contraction ``A(λ) = −Σ_t log D_t(λ)`` (:func:`contraction_exponent`,
    the largest over the schedules) stays ``≤ threshold``. The slow coordinates are replaced by the
    ``nodes``-point Gauss rules of ``Σ m λ δ_λ`` (noise) and ``Σ m λ s(0) δ_λ`` (bias).

    Parameters
    ----------
    problem : Problem
    schedules : Schedule or sequence of Schedule
        The rates the split is for. For NSGD pass schedules of the effective rates (or ``rates=``).
    nodes : int, default 32
        Gauss nodes per measure ``K``.
    threshold : float, default 30
        ``τ``: coordinates with ``A(λ) ≤ τ`` are replaced.
    momentum : float or array_like, optional
        Heavy ball's ``μ`` (the split then uses ``η / (1 − μ)``).
    rates : sequence of (lr, batch) arrays, optional
        The rates to split for, instead of the schedules'.

    Returns
    -------
    QuadratureReduction

    Examples
    --------
    >>> p = Problem.power_law(100_000, a=1.5, b=3.0, noise_variance=0.01)
    >>> red = reduce_problem(p, Schedule.constant(0.5 / p.trace, 1, steps=10_000))
    >>> red.dimension < 200, round(red.problem.trace / p.trace, 12), round(red.problem.initial_risk / p.initial_risk, 12)
    (True, 1.0, 1.0)
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {type(problem).__name__}")
    K = nonnegative_int(nodes, "nodes")
    if K < 1:
        raise ValueError(f"nodes must be ≥ 1; got {nodes!r}")
    tau = finite_real(threshold, "threshold", minimum=0.0)
    if rates is None:
        rates = _rates(schedule_list(schedules))
    return _reductions(problem, rates, momentum, tau, [K])[0]


@np.errstate(over="ignore", divide="ignore", invalid="ignore")
def _reductions(problem: Problem, rates: Sequence[tuple[np.ndarray, np.ndarray]], momentum: Any, tau: float,
                degrees: Sequence[int]) -> list[QuadratureReduction]:
    """One split, one set of modified moments, a reduction per number of nodes."""
    try:
        A = contraction_profile(problem, rates, momentum)
    except ValueError as error:
        raise ValueError(f"problem and schedules: no contraction profile for this pair ({error})") from None
    slow = A <= tau
    if np.count_nonzero(slow) > _KEEP_TOP_SLOW + 2 * max(degrees):
        # The largest slow eigenvalues are few and far apart on power laws (isolated atoms, which make the
        # modified moments ill-conditioned): keep them exactly too, at the cost of a few coordinates.
        index = np.flatnonzero(slow)
        lam_slow = problem.eigenvalues[index]
        # The _KEEP_TOP_SLOW largest (ties by index, as a stable sort): a partition, not a sort of every slow one.
        cut = np.partition(lam_slow, lam_slow.size - _KEEP_TOP_SLOW)[lam_slow.size - _KEEP_TOP_SLOW]
        above = index[lam_slow > cut]
        at_cut = index[lam_slow == cut][:_KEEP_TOP_SLOW - above.size]
        slow[above] = False
        slow[at_cut] = False
    fast = np.flatnonzero(~slow).astype(np.int64)
    lam, m, s0 = problem.eigenvalues, problem.multiplicity, problem.initial_second_moment
    lam_s, m_s, s0_s = lam[slow], m[slow], s0[slow]
    if not lam_s.size:
        return [QuadratureReduction(problem, fast, problem, K, tau, 0, 0) for K in degrees]
    noise_w = m_s * lam_s
    bias_w = noise_w * s0_s
    top = float(lam_s.max())
    # The problem's arrays are checked (finite, λ > 0, s(0) ≥ 0, m > 0): the rules need no further checks.
    if np.any(bias_w > 0):
        measures = np.stack([noise_w, bias_w])
    else:
        measures = noise_w[None, :]
    with np.errstate(over="ignore"):
        total = measures.sum(axis=1)
    if not (np.all(np.isfinite(total)) and np.all(total > 0)):
        raise ValueError("weights must be finite, ≥ 0, not all zero, with a finite sum")  # as gauss_rules says
    if top > 1e150:
        raise ValueError("points must be at most 1e150 in magnitude (their powers are formed)")
    if measures.shape[0] == 2:
        noise_rules, bias_rules = _gauss_rules(lam_s, measures, degrees)
    else:
        noise_rules, bias_rules = _gauss_rules(lam_s, measures, degrees)[0], [None] * len(degrees)
    powers = _power_moments(lam_s, measures, top)  # once for every degree
    out = []
    for K, (x, W), bias in zip(degrees, noise_rules, bias_rules):
        eig, mult, init = [lam[fast], x], [m[fast], W / x], [s0[fast], np.zeros(x.size)]
        n_bias = 0
        if bias is not None:
            y, V = bias
            share = _BIAS_NODE_NOISE_SHARE * float(W.sum()) / y.size
            eig.append(y)
            mult.append(share / y)
            init.append(V / share)
            n_bias = y.size
        mult_all, init_all = np.concatenate(mult), np.concatenate(init)
        if not (np.all(np.isfinite(mult_all) & (mult_all > 0)) and np.all(np.isfinite(init_all))
                and np.all(np.isfinite(np.concatenate(eig)))):
            # A measure beyond float64 once carried by tiny multiplicities: keep every coordinate.
            return [QuadratureReduction(problem, np.arange(problem.dimension, dtype=np.int64), problem, K, tau, 0, 0)
                    for K in degrees]
        reduced = Problem(np.concatenate(eig), init_all, problem.noise_variance, problem.kurtosis,
                          metadata={**problem.metadata, "reduced_from": problem.dimension},
                          multiplicity=mult_all)
        rule_error = _rule_error(powers[0], top, x, W)
        if bias is not None:
            rule_error = max(rule_error, _rule_error(powers[1], top, *bias))
        out.append(QuadratureReduction(problem, fast, reduced, K, tau, x.size, n_bias, rule_error))
    return out


def compile_kernels() -> bool:
    """Compile the reduction's passes (:mod:`._quadrature_kernels`) into numba's on-disk cache, on tiny arrays
    (``warm_up``, ``make install``); False without numba."""
    if not _quadrature_kernels.AVAILABLE:
        return False
    x = np.linspace(-1.0, 1.0, 8)
    w = np.ones((2, 8))
    _quadrature_kernels.chebyshev_moments_into(x, w, np.empty((2, 4)))
    _quadrature_kernels.power_moments_into(x, w, 1.0, np.empty((2, 3)))
    return True


def _power_moments(points: np.ndarray, weights: np.ndarray, top: float) -> np.ndarray:
    """``Σ_i w[r, i] (x_i / top)^j`` for ``j = 1, 2, 3``, shape ``(r, 3)``: one pass over the points."""
    if _quadrature_kernels.AVAILABLE and points.size >= _COMPILED_FROM:
        out = np.empty((weights.shape[0], 3))
        _quadrature_kernels.power_moments_into(np.ascontiguousarray(points, dtype=np.float64),
                                               np.ascontiguousarray(weights, dtype=np.float64), top, out)
        return out
    t = points / top
    return np.stack([np.einsum("ri,i->r", weights, t**j) for j in (1, 2, 3)], axis=1)


def _rule_error(exact: np.ndarray, top: float, nodes: np.ndarray, node_weights: np.ndarray) -> float:
    """Largest relative error of a rule on the power moments ``j = 1, 2, 3`` (in units of the top point), given
    the measure's own (``exact``, from :func:`_power_moments`)."""
    tn = nodes / top
    worst = 0.0
    for j in (1, 2, 3):
        e = float(exact[j - 1])
        if e > 0:
            worst = max(worst, abs(float(np.einsum("i,i->", node_weights, tn**j)) - e) / e)
    return worst


def worth_trying(dimension: int, horizon: int, schedules: int) -> bool:
    """``reduce="auto"``'s rule before any reduction is built: enough coordinates, steps and work for the
    reduction's fixed cost to be repaid (:data:`AUTO_MIN_DIMENSION`, :data:`AUTO_MIN_STEPS`,
    :data:`AUTO_MIN_WORK` below :data:`AUTO_LARGE_DIMENSION`); a problem that fails it runs exactly the
    unreduced computation.

    Examples
    --------
    >>> worth_trying(2_000, 5_000, 22), worth_trying(2_000, 5_000, 1), worth_trying(20_000, 1_000, 1)
    (True, False, True)
    >>> worth_trying(1_000, 100_000, 22)
    False
    """
    if dimension < AUTO_MIN_DIMENSION or horizon < AUTO_MIN_STEPS:
        return False
    return dimension >= AUTO_LARGE_DIMENSION or schedules * horizon * dimension >= AUTO_MIN_WORK


def worth_reducing(problem: Problem, reduced_dimension: int) -> bool:
    """``reduce="auto"``'s rule once a reduction is built: it makes the problem much smaller."""
    return (problem.dimension >= AUTO_MIN_DIMENSION
            and reduced_dimension <= AUTO_MAX_FRACTION * problem.dimension)


def reduced_expected_risk(request: SolveRequest, problem: Problem, auto: bool) -> list[Any] | None:
    """The checked ``request`` of ``expected_risk(..., reduce=...)`` solved on quadrature-reduced problems.

    Solves the problem reduced at ``K = 32`` and at ``K = 24`` nodes per measure, returns the first and
    sets each trajectory's ``reduction_error`` to the largest relative gap over every curve and step
    (risk, bias, variance, averaged risk, effective rate, ``E‖g‖²``, mean/variance ratio) and
    ``reduced_dimension`` (at least four times the rules' own rounding on power moments,
    :attr:`QuadratureReduction.rule_error`, which two degrees share); while the gap exceeds ``1e-11``, ``τ`` is halved (more coordinates kept
    exactly); if it still does after 4 tries, ``auto`` solves the full problem instead and ``reduce=True``
    returns the last try with a RuntimeWarning. For NSGD a pilot run, split for the rates at the initial state, gives the effective
    rates the split is made for. ``final_second_moment`` is expanded with
    :meth:`QuadratureReduction.expand`; no solver state is kept. With ``auto``, returns ``None``
    (solve the full problem instead) when :func:`worth_reducing` says no.
    """
    sched_list = list(request.schedules)
    momentum = request.momentum
    nsgd = request.optimizer == "nsgd"
    if auto and not worth_trying(problem.dimension, request.horizon, len(sched_list)):
        return None

    def solve_on(red: QuadratureReduction) -> tuple[Any, ...]:
        return tuple(solve(request, red.problem))

    tau = SLOW_CONTRACTION
    if nsgd:
        rates = _initial_effective_rates(problem, sched_list)
        pilot = _reductions(problem, rates, momentum, tau, [CHECK_DEGREE])[0]
        if auto and not worth_reducing(problem, pilot.dimension):
            return None
        rates = _applied_rates(solve_on(pilot))
    else:
        rates = _rates(sched_list)
    for attempt in range(_MAX_TRIES):
        fine, coarse = _reductions(problem, rates, momentum, tau, [DEGREE, CHECK_DEGREE])
        if auto and attempt == 0 and not worth_reducing(problem, fine.dimension):
            return None
        runs = solve_on(fine)
        if fine.fast.size == problem.dimension:
            return None if auto else _finish(fine, runs, [0.0] * len(runs))
        if fine.noise_nodes == coarse.noise_nodes and fine.bias_nodes == coarse.bias_nodes:
            # Both rules are the slow coordinates themselves: nothing was approximated.
            return _finish(fine, runs, [0.0] * len(runs))
        check = solve_on(coarse)
        gaps = [max([_relative_gap(getattr(f, name), getattr(c, name)) for name in _CURVES]
                    + [4.0 * fine.rule_error])
                for f, c in zip(runs, check)]
        if max(gaps) <= TARGET_ERROR:
            return _finish(fine, runs, gaps)
        tau *= 0.5
    if auto:
        return None  # "auto" promises rounding-level curves: solve the full problem instead
    warnings.warn(f"quadrature reduction did not reach {TARGET_ERROR:g} (largest gap between {DEGREE} and "
                  f"{CHECK_DEGREE} nodes: {max(gaps):.3g}); reduction_error says how far it got", RuntimeWarning,
                  stacklevel=3)
    return _finish(fine, runs, gaps)


class _Pending:
    """A reduced run's final state, expanded to the source's coordinates when first read."""

    __slots__ = ("reduction", "second_moment")

    def __init__(self, reduction: QuadratureReduction, second_moment: np.ndarray) -> None:
        self.reduction, self.second_moment = reduction, second_moment

    def __reduce__(self) -> tuple:
        return (_Pending, (self.reduction, self.second_moment))


class _ReducedRiskTrajectory(RiskTrajectory):
    """A :class:`RiskTrajectory` of a quadrature-reduced run: ``final_second_moment`` (``O(d K)`` to
    interpolate, :meth:`QuadratureReduction.expand`) is computed when first read, not by the solve."""

    @property  # type: ignore[override]
    def final_second_moment(self) -> np.ndarray:
        state = self.__dict__
        pending = state.get("_final_second_moment")
        if isinstance(pending, _Pending):
            state["_final_second_moment"] = pending.reduction.expand(pending.second_moment)
        return state["_final_second_moment"]

    @final_second_moment.setter
    def final_second_moment(self, value: Any) -> None:  # the dataclass __init__ sets it
        self.__dict__["_final_second_moment"] = value


def _finish(red: QuadratureReduction, runs: Sequence[Any], gaps: Sequence[float]) -> list[Any]:
    out = []
    for run, gap in zip(runs, gaps):
        values = {f.name: getattr(run, f.name) for f in dataclasses.fields(run)}
        values.update(final_second_moment=_Pending(red, run.final_second_moment) if red.problem is not red.source
                      else run.final_second_moment,
                      reduction_error=float(gap), reduced_dimension=red.dimension, states={})
        out.append(_ReducedRiskTrajectory(**values))
    return out
