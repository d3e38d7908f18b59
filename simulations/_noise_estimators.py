"""Practitioners' gradient-noise-scale estimators replayed along a Monte Carlo run.

docs/math.md#noise-scale-estimators. Public trainers estimate ``|G|²`` and ``tr Σ`` (McCandlish et al. 2018,
arXiv 1812.06162, App. A.1) in three ways; :func:`noise_scale_estimators` replays each on SGD runs of noisy
linear regression and reports its mean and spread at checkpoints beside the exact values at the exact second
moments (:func:`ramplab.theory.gradient_noise_scale`):

- ``"two_batch"``: at every step the batch of ``B`` samples splits into ``b`` (``small_batch``) and ``B − b``;
  with ``X = |G_b|²`` and ``Y = |G_B|²`` (``G_B`` the step's gradient),
  ``|G|²_est = (B Y − b X)/(B − b)`` and ``S_est = (X − Y)/(1/b − 1/B)``, both unbiased;
- ``"ema"``: the two per-step estimates, each averaged by a bias-corrected exponential moving average of factor
  ``ema``, then their ratio;
- ``"per_example"``: at the checkpoint's iterate, ``B`` one-sample gradients ``g_j`` (independent of the step's
  own, with the same law): ``S_est = Σ|g_j − ḡ|²/(B − 1)`` and ``|G|²_est = |ḡ|² − S_est/B``, both unbiased.

Each estimator's ``B_simple`` is its ``tr Σ`` estimate over its ``|G|²`` estimate, per run; the mean over runs of
that ratio is what a practitioner averaging runs would see (an expectation of a ratio, not the ratio of
expectations that the exact noise scale is).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .configuration import integer_batches, resolve_data, simulated_problem
from .samplers import direct_gradient, gaussian_exact_gradient
from .streams import block_streams, root_seed_sequence
from ..theory._frozen import FrozenRecord
from ..theory._validate import describe, finite_real, positive_int, strict_real_array
from ..theory.complexity import GradientNoiseScale, gradient_noise_scale
from ..theory.dynamics import Problem, expected_risk
from ..theory.schedules import Schedule

__all__ = ["ESTIMATORS", "NoiseScaleEstimates", "noise_scale_estimators"]

ESTIMATORS = ("two_batch", "ema", "per_example")
_QUANTITIES = ("grad_norm_sq", "trace_cov", "b_simple")
_BLOCK = 1024  # runs per random stream: run j draws the same numbers whatever the number of runs


@dataclass(frozen=True, eq=False)
class NoiseScaleEstimates(FrozenRecord):
    """Monte Carlo means and spreads of the noise-scale estimators at checkpoints, beside the exact values.

    Attributes
    ----------
    steps : ndarray of int64, shape (K,)
        The checkpoints: the estimates use the iterate after ``steps[k]`` steps and the batch of the next step.
    estimators : tuple of str
        ``("two_batch", "ema", "per_example")``: the rows of the arrays below.
    mean : dict of str to ndarray, shape (3, K)
        For ``"grad_norm_sq"``, ``"trace_cov"`` and ``"b_simple"``: each estimator's mean over runs.
    stderr : dict of str to ndarray, shape (3, K)
        The standard errors of ``mean`` (standard deviation over runs / √runs).
    spread : dict of str to ndarray, shape (3, K)
        The standard deviation over runs (one run's scatter around its mean).
    quartiles : dict of str to ndarray, shape (3, 3, K)
        The 25 %, 50 % and 75 % quantiles over runs (axis 1), per estimator (axis 0): the per-run ratio
        ``b_simple`` has heavy tails (its ``|G|²`` estimate can be near 0 or negative), so its median says more
        than its mean.
    exact : GradientNoiseScale
        The exact terms at the same checkpoints (:func:`~ramplab.theory.gradient_noise_scale`).
    small_batch : int
        ``b``, the two-batch estimator's small batch (samples).
    ema : float
        The moving average's factor ``β``.
    runs : int
    seed : Any
        The root seed given.

    Examples
    --------
    >>> from ramplab.theory import Problem, Schedule
    >>> p = Problem.power_law(20, a=1.5, b=1.0, noise_variance=0.2)
    >>> est = noise_scale_estimators(p, Schedule.constant(0.3, 8, steps=50), small_batch=2, runs=200,
    ...                              checkpoints=[10, 49], seed=1)
    >>> est.mean["grad_norm_sq"].shape, est.estimators
    ((3, 2), ('two_batch', 'ema', 'per_example'))
    """

    steps: np.ndarray
    estimators: tuple
    mean: dict
    stderr: dict
    spread: dict
    quartiles: dict
    exact: GradientNoiseScale
    small_batch: int
    ema: float
    runs: int
    seed: Any

    def bias(self, quantity: str) -> np.ndarray:
        """Each estimator's mean minus the exact value, shape (3, K).

        Parameters
        ----------
        quantity : {"grad_norm_sq", "trace_cov", "b_simple"}

        Returns
        -------
        ndarray, shape (3, K)

        Raises
        ------
        ValueError
            For another quantity.
        """
        if quantity not in _QUANTITIES:
            raise ValueError(f"quantity must be one of {_QUANTITIES}; got {quantity!r}")
        return self.mean[quantity] - getattr(self.exact, quantity)[None, :]

    def z_score(self, quantity: str) -> np.ndarray:
        """:meth:`bias` in standard errors, shape (3, K) (``inf`` where the standard error is 0).

        Parameters
        ----------
        quantity : {"grad_norm_sq", "trace_cov", "b_simple"}

        Returns
        -------
        ndarray, shape (3, K)

        Raises
        ------
        ValueError
            For another quantity.
        """
        bias = self.bias(quantity)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.stderr[quantity] > 0, bias / self.stderr[quantity], np.inf * np.sign(bias))


def noise_scale_estimators(problem: Problem, schedule: Schedule, *, small_batch: int, runs: int = 1000,
                           checkpoints: Any = None, ema: float = 0.95, seed: Any = 0,
                           data: str | None = None) -> NoiseScaleEstimates:
    """Replay the two-batch, moving-average and per-example noise-scale estimators along SGD runs.

    ``runs`` SGD runs of ``schedule`` start at ``e₀ = √s(0)`` (as :func:`simulate`); at every step the batch
    gradient is drawn in two independent parts, ``b`` and ``B − b`` samples, with the simulation's sampler (the
    exact ``O(d)`` sampler for Gaussian data, docs/math.md#gaussian-sampler; the direct one otherwise), and the
    step uses their mean. The estimators are those of the module docstring (docs/math.md#noise-scale-estimators).

    Parameters
    ----------
    problem : Problem
        Integer multiplicities (simulated coordinate by coordinate).
    schedule : Schedule
        SGD learning rates and whole-number batches ``B_t > small_batch``; rate 0 keeps the state constant.
    small_batch : int
        ``b ≥ 1`` samples.
    runs : int, default 1000
    checkpoints : array_like of int, optional
        Steps in ``[0, T − 1]``, increasing; by default 10 geometric points.
    ema : float, default 0.95
        The moving averages' factor ``β ∈ (0, 1)``; bias-corrected: after ``n`` steps the weights are
        ``(1 − β) β^{n−1−j} / (1 − βⁿ)``.
    seed : int, sequence of int or SeedSequence, default 0
    data : {"gaussian", "rademacher", "uniform"} or None
        The data law (by ``problem.kurtosis`` when None).

    Returns
    -------
    NoiseScaleEstimates

    Raises
    ------
    TypeError
        For a problem or schedule of another type.
    ValueError
        For ``small_batch`` not below every batch of the schedule, a fractional batch, checkpoints outside
        ``[0, T − 1]`` or not increasing, ``ema`` outside ``(0, 1)``, or runs that overflow.

    Examples
    --------
    The two-batch estimates of ``|G|²`` and ``tr Σ`` are unbiased (within 4 standard errors here):

    >>> from ramplab.theory import Problem, Schedule
    >>> p = Problem.power_law(20, a=1.5, b=1.0, noise_variance=0.2)
    >>> est = noise_scale_estimators(p, Schedule.constant(0.3, 8, steps=200), small_batch=2, runs=400,
    ...                              checkpoints=[199], seed=3)
    >>> bool(abs(est.z_score("grad_norm_sq")[0, 0]) < 4), bool(abs(est.z_score("trace_cov")[0, 0]) < 4)
    (True, True)
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a Problem; got {describe(problem)}")
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be a Schedule; got {describe(schedule)}")
    sim = simulated_problem(problem)
    data = resolve_data(sim, data)
    batches = integer_batches(schedule)
    lrs = np.asarray(schedule.lr, dtype=np.float64)
    horizon = batches.size
    b = positive_int(small_batch, "small_batch")
    if np.any(batches <= b):
        i = int(np.argmax(batches <= b))
        raise ValueError(f"small_batch must be below every batch of the schedule; got small_batch={b} and batch "
                         f"{int(batches[i])} at step {i + 1}")
    runs = positive_int(runs, "runs")
    beta = finite_real(ema, "ema")
    if not 0 < beta < 1:
        raise ValueError(f"ema must lie in (0, 1); got {beta!r}")
    if checkpoints is None:
        ks = np.unique(np.round(np.geomspace(1, horizon, 10)).astype(np.int64) - 1)
    else:
        ks = strict_real_array(checkpoints, "checkpoints").ravel()
        if ks.size == 0 or np.any(ks != np.round(ks)) or np.any(np.diff(ks) <= 0) or ks[0] < 0 \
                or ks[-1] > horizon - 1:
            raise ValueError(f"checkpoints must be increasing whole steps in [0, {horizon - 1}]; got "
                             f"{describe(checkpoints)}")
        ks = ks.astype(np.int64)

    exact_run = expected_risk(problem, schedule, checkpoints=[int(k) for k in ks], keep_states=True)
    exact = gradient_noise_scale(problem, exact_run)
    keep = np.isin(exact.steps, ks)
    exact = GradientNoiseScale(*(_readonly(getattr(exact, f)[keep].copy()) for f in
                                 ("steps", "grad_norm_sq", "trace_cov", "grad_hessian_grad", "trace_hessian_cov")))

    root = root_seed_sequence(seed)
    small_root, rest_root, example_root = root.spawn(3)
    block = _BLOCK
    small_streams = block_streams(small_root, 0, runs, block, np, np.float64)
    rest_streams = block_streams(rest_root, 0, runs, block, np, np.float64)
    example_streams = block_streams(example_root, 0, runs, block, np, np.float64)
    root_lam = np.sqrt(sim.eigenvalues)
    sigma = math.sqrt(sim.noise_variance)
    e = np.broadcast_to(np.sqrt(sim.initial_second_moment), (runs, sim.dimension)).copy()

    def draw(streams: list, a: np.ndarray, batch: int) -> np.ndarray:
        if data == "gaussian":
            return gaussian_exact_gradient(np, streams, a, np.einsum("ij,ij->i", a, a), root_lam, batch, sigma)
        return direct_gradient(np, streams, a, root_lam, batch, sigma, data)

    values = {name: {q: np.empty((runs, ks.size)) for q in _QUANTITIES} for name in ESTIMATORS}
    ema_g = np.zeros(runs)
    ema_s = np.zeros(runs)
    kept = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(int(ks[-1]) + 1):
            big = int(batches[t])
            a = root_lam * e
            g_small = draw(small_streams, a, b)
            g_big = (b * g_small + (big - b) * draw(rest_streams, a, big - b)) / big
            x, y = np.einsum("ij,ij->i", g_small, g_small), np.einsum("ij,ij->i", g_big, g_big)
            g2 = (big * y - b * x) / (big - b)
            s = (x - y) / (1.0 / b - 1.0 / big)
            ema_g = beta * ema_g + (1 - beta) * g2
            ema_s = beta * ema_s + (1 - beta) * s
            if t == ks[kept]:
                norm = 1.0 - beta ** (t + 1)
                rows = {"two_batch": (g2, s), "ema": (ema_g / norm, ema_s / norm),
                        "per_example": _per_example(draw, example_streams, a, big)}
                for name, (gv, sv) in rows.items():
                    values[name]["grad_norm_sq"][:, kept] = gv
                    values[name]["trace_cov"][:, kept] = sv
                    values[name]["b_simple"][:, kept] = sv / gv
                kept += 1
            e = e - lrs[t] * g_big
    if not np.all(np.isfinite(e)):
        raise ValueError(f"the runs overflow float64 before step {int(ks[-1]) + 1} of schedule={schedule!r} on "
                         f"problem={problem!r}: a smaller learning rate keeps them finite")

    def stat(fn: Any) -> dict:
        out = {}
        for q in _QUANTITIES:
            arr = np.stack([fn(values[name][q]) for name in ESTIMATORS])
            arr.flags.writeable = False
            out[q] = arr
        return out

    mean = stat(lambda v: v.mean(axis=0))
    spread = stat(lambda v: v.std(axis=0, ddof=1) if runs > 1 else np.full(v.shape[1], np.inf))
    stderr = {q: _readonly(spread[q] / math.sqrt(runs)) for q in _QUANTITIES}
    ks.flags.writeable = False
    quartiles = {}
    for q in _QUANTITIES:
        arr = np.stack([np.quantile(values[name][q], [0.25, 0.5, 0.75], axis=0) for name in ESTIMATORS])
        quartiles[q] = _readonly(arr)
    return NoiseScaleEstimates(ks, ESTIMATORS, mean, stderr, spread, quartiles, exact, b, beta, runs, seed)


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr.flags.writeable = False
    return arr


def _per_example(draw: Any, streams: list, a: np.ndarray, batch: int) -> tuple[np.ndarray, np.ndarray]:
    """Unbiased ``(|G|², tr Σ)`` from ``batch`` one-sample gradients at each run's iterate (Welford sums)."""
    mean = np.zeros_like(a)
    m2 = np.zeros(a.shape[0])
    for j in range(batch):
        g = draw(streams, a, 1)
        delta = g - mean
        mean = mean + delta / (j + 1)
        m2 = m2 + np.einsum("ij,ij->i", delta, g - mean)
    trace_cov = m2 / (batch - 1)
    return np.einsum("ij,ij->i", mean, mean) - trace_cov / batch, trace_cov
