"""Cost of the exact solver, measured side by side in one process (``ramplab bench --suite exact``).

Four parts, each a block of rows in one table; nothing here is asserted anywhere (the smoke test
checks only that the rows exist and that the implementations agree):

1. **Workloads.** 22 constant learning rates spread geometrically over the stable range (from
   0.95 of the largest stable constant rate down to 1/1000 of it), batch 1, uniform iterate
   averaging, ``λ_i = i^-1.5``, ``λ_i s_i(0) = i^-3``, ``σ² = 0.01``; (a) ``d = 2 000``, 5 000
   steps and (b) ``d = 20 000``, 1 500 steps. Timed for a plain NumPy step loop
   (:func:`naive_averaged_risk`, written from docs/math.md#sgd-second-moment-recursion and
   docs/math.md#iterate-averaging), the same recursion as a JAX ``lax.scan``
   (:func:`jax_averaged_risk`, float64, timed warm after compilation; JAX is the optional
   ``bench`` extra) and :func:`ramplab.theory.expected_risk` (``Numerics(kernel="fused")`` when numba
   is installed), and the same call reduced (``reduce=True``) and with its defaults (``reduce="auto"``,
   which reduces both: docs/math.md#quadrature-reduction). Also the largest relative difference
   between their averaged-risk curves.
2. **Bandwidth.** A STREAM-triad-style ``a = b + s·c`` in NumPy on arrays far larger than the
   cache, and the solver's effective bandwidth on one schedule at ``d = 5·10⁵`` with uniform
   averaging, counting :data:`STATE_BYTES_PER_COORDINATE` bytes per coordinate and step.
3. **Full scale.** ``d = 5·10⁵``, 50 000 steps, 12 curves (``a ∈ {1.1, 1.5, 1.9}``,
   ``b ∈ {a, 2a}``, learning rate ``m/tr H`` and ``m/(tr H √t)``) with ``compress=1e-3``, and
   behind ``--full-uncompressed`` the uncompressed run for the error at a few steps.
4. **Memory.** 10⁶ steps at ``d = 10`` with a few hundred ``checkpoints=``: warm time, tracemalloc
   peak and peak-RSS growth.

Without numba (the ``fast`` extra) the solver's reference kernel is timed instead, and the report says
so; without JAX (the ``bench`` extra) the JAX column is skipped.

The problems, rates and schedules of parts 1 and 3 come from :mod:`ramplab.workloads`, which the
``full_scale_curves`` figure builds its curves from as well.
"""

from __future__ import annotations

import gc
import math
import os
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from ..theory import Numerics, Problem, Schedule, expected_risk
from ..workloads import (
    FULL_SCALE_EXPONENTS,
    averaged_risk_at,
    compression_estimates,
    full_scale_m,
    full_scale_problem,
    full_scale_schedules,
    largest_stable_lr,
    workload_lrs,
    workload_problem,
)

__all__ = [
    "STATE_BYTES_PER_COORDINATE",
    "Row",
    "Sizes",
    "FULL_SIZES",
    "QUICK_SIZES",
    "PARTS",
    "jax_averaged_risk",
    "measure",
    "naive_averaged_risk",
    "report",
    "triad_bandwidth",
]

#: The parts of the benchmark, in the order they run and print.
PARTS = ("workloads", "bandwidth", "full", "memory")

#: Bytes the averaged recursion must move per coordinate and step: the three state arrays ``s``
#: (second moment), ``a`` (averaged second moment) and ``c`` (cross moment) read once and written
#: once, and ``λ`` read once, float64: ``(3 + 3 + 1) × 8``. The reductions ``Σλs`` and ``Σλa`` are
#: counted as riding on the same pass (a fused kernel does that); anything more a kernel reads is
#: not counted, so this is a lower bound on the traffic.
STATE_BYTES_PER_COORDINATE = 7 * 8

@dataclass(frozen=True)
class Row:
    """One line of the report: a measured value (``None`` when not available) and a note.

    Parameters
    ----------
    part : str
        The part of :data:`PARTS` the row belongs to (rows are grouped by it).
    item : str
        What was measured.
    value : float or None
        The measurement, in ``unit``; ``None`` when not available here (no JAX, no RSS counter).
    unit : str, default ""
        Unit of ``value`` (``"s"``, ``"B/s"``, ``"B"``, ``"x"`` for ratios).
    note : str, default ""
        Free text printed after the value.

    Examples
    --------
    >>> print(report([Row("bandwidth", "triad", 1.2e10, "B/s", "numpy")]).splitlines()[-1])
      triad          1.2e+10 B/s   numpy
    """

    part: str
    item: str
    value: float | None
    unit: str = ""
    note: str = ""


@dataclass(frozen=True)
class Sizes:
    """Problem sizes of every part (:data:`FULL_SIZES`; :data:`QUICK_SIZES` for a seconds-long run).

    Parameters
    ----------
    workloads : tuple of (int, int)
        ``(d, steps)`` of each workload (coordinates, steps).
    n_lrs : int
        Constant learning rates per workload (rows solved together).
    triad_length : int
        Elements of each NumPy bandwidth array.
    kernel_d, kernel_steps : int
        Dimension and steps of the solver's bandwidth run.
    full_d, full_steps : int
        Dimension and steps of the full-scale curves.
    full_compare_steps : tuple of int
        Steps at which the compressed and uncompressed full-scale runs are compared.
    memory_d, memory_steps, memory_checkpoints : int
        Dimension, steps and checkpoints of the memory run.
    repeat : int
        Timed repetitions (the best is reported).

    Examples
    --------
    >>> FULL_SIZES.n_lrs, QUICK_SIZES.full_d, Sizes(repeat=5).repeat
    (22, 300, 5)
    """

    workloads: tuple[tuple[int, int], ...] = ((2_000, 5_000), (20_000, 1_500))
    n_lrs: int = 22
    triad_length: int = 100_000_000
    kernel_d: int = 500_000
    kernel_steps: int = 500
    full_d: int = 500_000
    full_steps: int = 50_000
    full_compare_steps: tuple[int, ...] = (100, 1_000, 5_000, 20_000, 50_000)
    memory_d: int = 10
    memory_steps: int = 1_000_000
    memory_checkpoints: int = 300
    repeat: int = 3


FULL_SIZES = Sizes()
QUICK_SIZES = Sizes(
    workloads=((200, 300), (1_000, 100)),
    triad_length=2_000_000,
    kernel_d=20_000,
    kernel_steps=50,
    full_d=300,
    full_steps=1_000,
    full_compare_steps=(10, 100, 500, 1_000),
    memory_steps=10_000,
    memory_checkpoints=100,
    repeat=1,
)


# ----------------------------------------------------------------------------------- helpers
def _max_relative_difference(x: np.ndarray, reference: np.ndarray) -> float:
    x, reference = np.asarray(x, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    scale = np.abs(reference)
    diff = np.abs(x - reference)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), np.where(diff > 0, np.inf, 0.0))
    return float(np.max(rel))


def _best_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls of ``fn`` and the last result."""
    best, result = math.inf, None
    for _ in range(max(1, repeat)):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _interleaved_best_times(calls: dict[str, Callable[[], Any]], repeat: int) -> tuple[dict[str, float], dict[str, Any]]:
    """Best wall time of each call over ``repeat`` interleaved rounds (so that a slow spell of the
    machine hits every implementation alike), and each call's last result."""
    best = {name: math.inf for name in calls}
    results: dict[str, Any] = {}
    for _ in range(max(1, repeat)):
        for name, fn in calls.items():
            gc.collect()
            start, cpu = time.perf_counter(), time.process_time()
            results[name] = fn()
            best[name] = min(best[name], time.perf_counter() - start)
            best[f"{name} cpu"] = min(best.get(f"{name} cpu", math.inf), time.process_time() - cpu)
    return best, results


def _solve(problem: Problem, schedules: Any, *, kernel: str | None = None, checkpoints: Any = None,
           compress: float | None = None) -> Any:
    """``expected_risk`` with uniform averaging (``kernel=None``: the solver's own choice), unreduced: this
    benchmark times the recursion itself (the reduced runs have rows of their own)."""
    return expected_risk(problem, schedules, average="uniform", numerics=Numerics(kernel=kernel or "auto"),
                         checkpoints=checkpoints, compress=compress, reduce=False)


def _pick_kernel(problem: Problem) -> tuple[str | None, str]:
    """``("fused", note)`` when ``Numerics(kernel="fused")`` runs here (numba installed), else ``(None, why not)``."""
    try:
        _solve(problem, Schedule.constant(1e-3, 1, steps=2), kernel="fused")
    except (ImportError, ValueError, RuntimeError, NotImplementedError) as exc:
        return None, f"default kernel (fused unavailable: {type(exc).__name__}: {exc})"
    return "fused", 'Numerics(kernel="fused")'


def _compression_estimate(trajectories: Sequence[Any]) -> tuple[str, float] | None:
    """The largest estimate over ``trajectories``, with its attribute name, or ``None``."""
    found = [(v, k) for t in trajectories for k, v in compression_estimates(t).items()]
    if not found:
        return None
    value, name = max(found)
    return name, value


# ------------------------------------------------------------------- reference implementations
def naive_averaged_risk(eigenvalues: Any, initial_second_moment: Any, noise_variance: float,
                        lr: Any, *, batch: float = 1.0, kurtosis: float = 3.0) -> np.ndarray:
    """Averaged excess risk by a plain NumPy loop over steps (the benchmark's baseline).

    Every step applies, to each row (one schedule per row), the moment updates of
    docs/math.md#iterate-averaging with ``ρ_t = 1/t``:
    ``c ← (1 − ηλ) c``; ``s ← (1 − ηλ)² s + (η²/B)[(κ − 2) λ² s + λ (q + σ²)]``, ``q = Σ λ s``
    (docs/math.md#sgd-second-moment-recursion); ``a ← (1 − ρ)² a + ρ² s + 2ρ(1 − ρ) c``;
    ``c ← (1 − ρ) c + ρ s``; then records ``½ Σ λ a``.

    Parameters
    ----------
    eigenvalues, initial_second_moment : array_like, shape (d,)
    noise_variance : float
    lr : array_like, shape (T, R)
        Learning rate of step ``t`` (row ``t − 1``) for each of the ``R`` schedules.
    batch : float
    kurtosis : float

    Returns
    -------
    ndarray, shape (R, T + 1)
        Averaged risk after steps ``0 … T`` (column 0: the initial risk).

    Examples
    --------
    >>> r = naive_averaged_risk([1.0], [1.0], 0.0, [[0.5], [0.5]])
    >>> r.round(6).tolist()   # s(1) = 0.75 = a(1); s(2) = 0.5625, c = 0.375, a(2) = 0.515625
    [[0.5, 0.375, 0.257812]]
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    lr = np.asarray(lr, dtype=np.float64)
    steps, rows = lr.shape
    s = np.tile(np.asarray(initial_second_moment, dtype=np.float64), (rows, 1))
    a, c = s.copy(), s.copy()
    out = np.empty((rows, steps + 1))
    out[:, 0] = 0.5 * (a @ lam)
    for t in range(1, steps + 1):
        eta = lr[t - 1][:, None]
        rho = 1.0 / t
        q = (s @ lam)[:, None]
        c = (1.0 - eta * lam) * c
        s = (1.0 - eta * lam) ** 2 * s + eta**2 / batch * ((kurtosis - 2.0) * lam**2 * s
                                                           + lam * (q + noise_variance))
        a = (1.0 - rho) ** 2 * a + rho**2 * s + 2.0 * rho * (1.0 - rho) * c
        c = (1.0 - rho) * c + rho * s
        out[:, t] = 0.5 * (a @ lam)
    return out


def jax_averaged_risk() -> Callable[..., Any] | None:
    """The recursion of :func:`naive_averaged_risk` as a jitted JAX ``lax.scan``, or ``None`` without JAX.

    Turns on ``jax_enable_x64`` (float64). The returned function takes
    ``(eigenvalues, initial_second_moment, noise_variance, lr, batch, kurtosis)`` with ``lr`` of
    shape ``(T, R)`` and returns the ``(R, T + 1)`` averaged risk as a NumPy array.

    Returns
    -------
    callable or None
        ``f(eigenvalues, initial_second_moment, noise_variance, lr, batch=1.0, kurtosis=3.0)``
        (docs/math.md#sgd-second-moment-recursion, docs/math.md#iterate-averaging), or ``None``
        when JAX (the ``bench`` extra) is not installed.

    Examples
    --------
    One step at ``η = 0.5`` on ``λ = 1``, ``s(0) = 2``: ``s(1) = 0.25·2 + 0.25·(2·2) = 1.5``, and the
    average of one iterate is that iterate, so the averaged risk goes ``1 → 0.75`` (checked only
    where JAX is installed):

    >>> f = jax_averaged_risk()
    >>> f is None or np.round(f([1.0], [2.0], 0.0, np.full((1, 1), 0.5)), 4).tolist() == [[1.0, 0.75]]
    True
    """
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def run(lam, s0, noise, lr, batch, kurtosis):
        steps, rows = lr.shape
        rho = 1.0 / jnp.arange(1, steps + 1, dtype=jnp.float64)

        def step(carry, xs):
            s, a, c = carry
            eta, r = xs
            eta = eta[:, None]
            q = (s @ lam)[:, None]
            c = (1.0 - eta * lam) * c
            s = (1.0 - eta * lam) ** 2 * s + eta**2 / batch * ((kurtosis - 2.0) * lam**2 * s
                                                               + lam * (q + noise))
            a = (1.0 - r) ** 2 * a + r**2 * s + 2.0 * r * (1.0 - r) * c
            c = (1.0 - r) * c + r * s
            return (s, a, c), 0.5 * (a @ lam)

        init = jnp.broadcast_to(s0, (rows, s0.shape[0]))
        _, hist = jax.lax.scan(step, (init, init, init), (lr, rho))
        return jnp.concatenate([0.5 * (init @ lam)[None, :], hist], axis=0).T

    jitted = jax.jit(run)

    def call(eigenvalues, initial_second_moment, noise_variance, lr, batch=1.0, kurtosis=3.0):
        out = jitted(jnp.asarray(eigenvalues, dtype=jnp.float64),
                     jnp.asarray(initial_second_moment, dtype=jnp.float64),
                     jnp.float64(noise_variance), jnp.asarray(lr, dtype=jnp.float64),
                     jnp.float64(batch), jnp.float64(kurtosis))
        return np.asarray(out.block_until_ready())

    return call


# ------------------------------------------------------------------------------------ parts
def _workloads(sizes: Sizes) -> list[Row]:
    rows: list[Row] = []
    jax_fn = jax_averaged_risk()
    for tag, (d, steps) in zip("ab", sizes.workloads):
        part = f"({tag}) d={d}, {steps} steps, {sizes.n_lrs} LRs"
        problem = workload_problem(d)
        lrs = workload_lrs(problem, sizes.n_lrs)
        lr_table = np.broadcast_to(lrs, (steps, lrs.size))
        schedules = [Schedule.constant(float(eta), 1, steps=steps) for eta in lrs]
        kernel, kernel_note = _pick_kernel(problem)
        args = (problem.eigenvalues, problem.initial_second_moment, problem.noise_variance, lr_table)

        calls: dict[str, Callable[[], Any]] = {
            "naive": lambda: naive_averaged_risk(*args),
            "ramplab": lambda: np.stack([t.averaged_risk
                                         for t in _solve(problem, schedules, kernel=kernel)]),
            # The quadrature reduction (docs/math.md#quadrature-reduction), forced, and the default (reduce="auto",
            # which reduces both workloads: 22 schedules × their horizons are past its work threshold).
            "reduced": lambda: _reduced(problem, schedules),
            "auto": lambda: _auto(problem, schedules),
        }
        if jax_fn is not None:
            jax_fn(*args)  # compile at these shapes; the timed calls are warm
            calls["jax"] = lambda: jax_fn(*args)
        times, curves = _interleaved_best_times(calls, sizes.repeat)
        t_naive, t_ramp, t_jax = times["naive"], times["ramplab"], times.get("jax")
        naive, ramp, jx = curves["naive"], curves["ramplab"], curves.get("jax")
        rows.append(Row(part, "naive NumPy loop", t_naive, "s"))
        if t_jax is not None:
            rows.append(Row(part, "JAX lax.scan (warm)", t_jax, "s"))
        else:
            rows.append(Row(part, "JAX lax.scan (warm)", None, "s", "jax: not installed (pip install 'ramplab[bench]')"))
        rows.append(Row(part, "ramplab expected_risk", t_ramp, "s", kernel_note))
        rows.append(Row(part, "ramplab / naive", t_ramp / t_naive, "x", "time ratio, < 1 is faster"))
        rows.append(Row(part, "ramplab / JAX", None if t_jax is None else t_ramp / t_jax, "x",
                        "time ratio, < 1 is faster" if t_jax else "n/a: jax not installed"))
        rows.append(Row(part, "max rel diff naive vs ramplab", _max_relative_difference(naive, ramp), "",
                        "averaged risk, all steps; target <= 1e-12"))
        rows.append(Row(part, "max rel diff JAX vs ramplab",
                        None if jx is None else _max_relative_difference(jx, ramp), "",
                        "averaged risk, all steps; target <= 1e-12" if jx is not None else "n/a: jax not installed"))
        red, dim, estimate = curves["reduced"]
        t_red = times["reduced"]
        rows.append(Row(part, "ramplab reduce=True", t_red, "s", f"quadrature reduction to {dim} coordinates"))
        rows.append(Row(part, "reduce=True / JAX", None if t_jax is None else t_red / t_jax, "x",
                        "time ratio, < 1 is faster" if t_jax else "n/a: jax not installed"))
        rows.append(Row(part, "reduce=True / ramplab", t_red / t_ramp, "x", "time ratio, < 1 is faster"))
        if t_jax is not None:  # on a shared machine the wall time measures the load: CPU time (all threads) too
            rows.append(Row(part, "ramplab / JAX, CPU time", times["ramplab cpu"] / times["jax cpu"], "x",
                            f"CPU-s {times['ramplab cpu']:.3f} vs {times['jax cpu']:.3f}; load avg {_load_average()}"))
            rows.append(Row(part, "reduce=True / JAX, CPU time", times["reduced cpu"] / times["jax cpu"], "x",
                            f"CPU-s {times['reduced cpu']:.3f} vs {times['jax cpu']:.3f}"))
        rows.append(Row(part, "max rel diff JAX vs reduce=True",
                        _max_relative_difference(jx if jx is not None else ramp, red), "",
                        f"averaged risk, all steps, against {'JAX' if jx is not None else 'ramplab unreduced'}; "
                        f"solver's estimate {estimate:.1e}; target <= 1e-12"))
        auto, auto_dim = curves["auto"]
        t_auto = times["auto"]
        rows.append(Row(part, "ramplab default (reduce=\"auto\")", t_auto, "s",
                        f"reduced to {auto_dim} coordinates" if auto_dim else "not reduced"))
        rows.append(Row(part, "auto / JAX", None if t_jax is None else t_auto / t_jax, "x",
                        "time ratio, < 1 is faster; target <= 0.25 (4x)" if t_jax else "n/a: jax not installed"))
        if t_jax is not None:
            rows.append(Row(part, "auto / JAX, CPU time", times["auto cpu"] / times["jax cpu"], "x",
                            f"CPU-s {times['auto cpu']:.3f} vs {times['jax cpu']:.3f}"))
        rows.append(Row(part, "auto / unreduced", t_auto / t_ramp, "x", "time ratio, < 1 is faster"))
        rows.append(Row(part, "max rel diff JAX vs auto",
                        _max_relative_difference(jx if jx is not None else ramp, auto), "",
                        "averaged risk, all steps; target <= 1e-12"))
    return rows


def _load_average() -> str:
    try:
        return "/".join(f"{v:.1f}" for v in os.getloadavg()) + f" on {os.cpu_count()} cores"
    except (AttributeError, OSError):  # pragma: no cover - platforms without getloadavg
        return "n/a"


def _auto(problem: Problem, schedules: Any) -> tuple[np.ndarray, int | None]:
    """Averaged-risk curves of ``expected_risk`` with its defaults (``reduce="auto"``) and the reduced dimension."""
    runs = expected_risk(problem, schedules, average="uniform", progress=False)
    return np.stack([t.averaged_risk for t in runs]), runs[0].reduced_dimension


def _reduced(problem: Problem, schedules: Any) -> tuple[np.ndarray, int, float]:
    """Averaged-risk curves of ``expected_risk(..., reduce=True)``, the reduced dimension and the estimate."""
    runs = expected_risk(problem, schedules, average="uniform", reduce=True, progress=False)
    return (np.stack([t.averaged_risk for t in runs]), int(runs[0].reduced_dimension or problem.dimension),
            max(float(t.reduction_error or 0.0) for t in runs))


def triad_bandwidth(length: int, repeat: int = 5) -> tuple[float, float]:
    """Best-of-``repeat`` NumPy bandwidths in bytes/s: triad ``a = b + s·c`` and copy ``a = b``.

    The triad counts 24 bytes per element (STREAM's convention: read ``b``, ``c``, write ``a``);
    NumPy does it in two passes (``a = s·c``, then ``a += b``), so it moves more than it counts.
    The copy (``np.copyto``, 16 bytes per element) is a single pass.

    Parameters
    ----------
    length : int
        Elements per array (float64); far beyond the cache for a memory bandwidth.
    repeat : int, default 5
        Timed repetitions; the best is kept.

    Returns
    -------
    (float, float)
        Triad and copy bandwidths in bytes per second.

    Examples
    --------
    >>> triad, copy = triad_bandwidth(10_000, repeat=1)
    >>> triad > 0 and copy > 0
    True
    """
    b = np.full(length, 1.0)
    c = np.full(length, 2.0)
    a = np.empty(length)
    scalar = 3.0
    best_triad = best_copy = math.inf
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        np.multiply(c, scalar, out=a)
        np.add(a, b, out=a)
        best_triad = min(best_triad, time.perf_counter() - start)
        start = time.perf_counter()
        np.copyto(a, b)
        best_copy = min(best_copy, time.perf_counter() - start)
    return 24.0 * length / best_triad, 16.0 * length / best_copy


def _bandwidth(sizes: Sizes) -> tuple[list[Row], float | None]:
    part = "bandwidth"
    triad, copy = triad_bandwidth(sizes.triad_length, repeat=max(3, sizes.repeat + 2))
    mib = 8 * sizes.triad_length / 2**20
    rows = [Row(part, "NumPy triad a = b + s*c", triad / 1e9, "GB/s",
                f"3 arrays x {mib:.0f} MiB, 24 B/elem counted, best of several"),
            Row(part, "NumPy copy a = b", copy / 1e9, "GB/s", "16 B/elem, single pass")]
    d, steps = sizes.kernel_d, sizes.kernel_steps
    problem = workload_problem(d)
    kernel, kernel_note = _pick_kernel(problem)
    schedule = Schedule.constant(0.5 * largest_stable_lr(problem, 1.0), 1, steps=steps)
    checkpoints = [steps]
    _solve(problem, schedule, kernel=kernel, checkpoints=checkpoints)  # warm
    seconds, _ = _best_time(lambda: _solve(problem, schedule, kernel=kernel, checkpoints=checkpoints),
                            sizes.repeat)
    moved = STATE_BYTES_PER_COORDINATE * d * steps
    effective = moved / seconds
    rows += [
        Row(part, f"solver d={d}, {steps} steps, 1 schedule", seconds, "s", kernel_note),
        Row(part, "solver effective bandwidth", effective / 1e9, "GB/s",
            f"{STATE_BYTES_PER_COORDINATE} B/coord/step: s, a, c read+written, lambda read"),
        Row(part, "solver / triad bandwidth", effective / triad, "x",
            f"state {3 * 8 * d / 2**20:.1f} MiB (+ lambda) may sit in cache"),
    ]
    return rows, effective


def _full(sizes: Sizes, *, uncompressed: bool, m_fraction: float,
          rtol: float, effective_bandwidth: float | None, say: Callable[[str], None]) -> list[Row]:
    d, steps = sizes.full_d, sizes.full_steps
    part = f"full scale d={d}, {steps} steps, 12 curves"
    rows: list[Row] = []
    problems, schedules, ms = [], [], []
    for a, b in FULL_SCALE_EXPONENTS:
        problem = full_scale_problem(d, a, b)
        m, m_max = full_scale_m(problem, m_fraction)
        problems.append(problem)
        schedules.append(full_scale_schedules(problem, steps, m))
        ms.append((a, m, m_max))
    m_text = ", ".join(f"a={a:g}: m={m:.3g} (m_max={m_max:.3g})" for a, m, m_max in ms[::2])
    rows.append(Row(part, f"m = {m_fraction:g} x m_max", None, "-", m_text))
    compare = [k for k in sizes.full_compare_steps if k <= steps]
    coordinate_steps = 12 * d * steps
    if effective_bandwidth:
        est = STATE_BYTES_PER_COORDINATE * coordinate_steps / effective_bandwidth
        rows.append(Row(part, "uncompressed, estimated", est, "s", "12·d·T coordinate-steps at the measured bandwidth"))

    # The solver picks its own kernel for the compressed run (kernel="auto").
    start = time.perf_counter()
    compressed = [t for p, pair in zip(problems, schedules) for t in _solve(p, pair, compress=rtol)]
    took = time.perf_counter() - start
    rows.append(Row(part, f"compress={rtol:g}", took, "s",
                    f"target <= 60 s on 2 cores: {'OK' if took <= 60 else 'MISSED'}"))
    estimate = _compression_estimate(compressed)
    rows.append(Row(part, "compression error estimate", None if estimate is None else estimate[1], "",
                    "n/a: no estimate" if estimate is None else f"max of .{estimate[0]}"))

    if not uncompressed:
        rows.append(Row(part, "uncompressed", None, "s", "skipped (pass --full-uncompressed)"))
        return rows
    kernel, kernel_note = _pick_kernel(problems[0])
    if effective_bandwidth:
        say(f"[bench exact] full: uncompressed run, about {est:.0f} s at the measured bandwidth …")
    start = time.perf_counter()
    exact = [t for p, pair in zip(problems, schedules)
             for t in _solve(p, pair, kernel=kernel, checkpoints=compare)]
    took = time.perf_counter() - start
    rows.append(Row(part, "uncompressed", took, "s", kernel_note))
    err = max(_max_relative_difference(averaged_risk_at(c, compare), averaged_risk_at(e, compare))
              for c, e in zip(compressed, exact))
    rows.append(Row(part, "max rel err compressed", err, "",
                    f"at steps {compare}; target <= 1e-3: {'OK' if err <= 1e-3 else 'MISSED'}"))
    return rows


def _peak_rss_bytes() -> tuple[int, int] | None:
    """``(VmRSS, VmHWM)`` of this process in bytes (Linux), or ``None``."""
    try:
        with open("/proc/self/status") as fh:
            fields = dict(line.split(":", 1) for line in fh if ":" in line)
        return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return None


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux ``clear_refs``); whether it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _memory(sizes: Sizes) -> list[Row]:
    d, steps = sizes.memory_d, sizes.memory_steps
    part = f"memory d={d}, {steps} steps"
    problem = workload_problem(d)
    schedule = Schedule.constant(0.5 * largest_stable_lr(problem, 1.0), 1, steps=steps)
    checkpoints = np.unique(np.geomspace(1, steps, sizes.memory_checkpoints).round().astype(np.int64))
    run = lambda: _solve(problem, schedule, checkpoints=checkpoints)  # noqa: E731
    run()  # warm (kernel compilation)
    seconds, _ = _best_time(run, sizes.repeat)
    gc.collect()
    reset = _reset_peak_rss()
    before = _peak_rss_bytes()
    tracemalloc.start()
    try:
        run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    after = _peak_rss_bytes()
    rss_note = "VmHWM after reset minus VmRSS before" if reset else "VmHWM growth (peak not resettable)"
    rss = None if before is None or after is None else (after[1] - (before[0] if reset else before[1])) / 1e6
    return [Row(part, f"time (warm), {checkpoints.size} checkpoints", seconds, "s",
                f"target < 2 s: {'OK' if seconds < 2 else 'MISSED'}"),
            Row(part, "tracemalloc peak", peak / 1e6, "MB", f"target < 100 MB: {'OK' if peak < 1e8 else 'MISSED'}"),
            Row(part, "peak RSS growth", rss, "MB", rss_note)]


def measure(sizes: Sizes = FULL_SIZES, *, parts: Sequence[str] = PARTS, full_uncompressed: bool = False,
            m_fraction: float = 0.5, compress_rtol: float = 1e-3,
            progress: Callable[[str], None] | None = None) -> list[Row]:
    """Run the chosen parts and return their rows (see the module docstring).

    Parameters
    ----------
    sizes : Sizes
        :data:`FULL_SIZES` or :data:`QUICK_SIZES` (or any other).
    parts : sequence of str
        Any of :data:`PARTS`.
    full_uncompressed : bool
        Also run the full-scale curves uncompressed (slow at full size) and compare.
    m_fraction : float
        Full-scale ``m`` as a fraction of the largest stable ``m`` (in ``(0, 1)``).
    compress_rtol : float
        ``compress=`` tolerance of the full-scale run.
    progress : callable, optional
        Called with a line of text before each part.

    Returns
    -------
    list of Row

    Raises
    ------
    ValueError
        For an unknown part or ``m_fraction`` outside ``(0, 1)``.

    Examples
    --------
    >>> rows = measure(QUICK_SIZES, parts=["memory"])
    >>> sorted({row.part for row in rows})
    ['memory d=10, 10000 steps']
    """
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise ValueError(f"parts must be drawn from {PARTS}; got {unknown}")
    if not 0.0 < m_fraction < 1.0:
        raise ValueError(f"m_fraction must lie in (0, 1); got {m_fraction!r}")
    say = progress or (lambda line: None)
    rows: list[Row] = []
    bandwidth: float | None = None
    for part in PARTS:
        if part not in parts:
            continue
        say(f"[bench exact] {part} …")
        if part == "workloads":
            rows += _workloads(sizes)
        elif part == "bandwidth":
            new, bandwidth = _bandwidth(sizes)
            rows += new
        elif part == "full":
            rows += _full(sizes, uncompressed=full_uncompressed, m_fraction=m_fraction,
                          rtol=compress_rtol, effective_bandwidth=bandwidth, say=say)
        else:
            rows += _memory(sizes)
    return rows


def _format_value(value: float | None, unit: str) -> str:
    if unit == "-":  # an information row: the note says it all
        return ""
    if value is None:
        return "n/a"
    if unit == "":
        return f"{value:.2e}"
    if unit == "s":
        return f"{value:.3f} s" if value < 100 else f"{value:.0f} s"
    if unit == "x":
        return f"{value:.3g}x"
    return f"{value:.3g} {unit}"


def report(rows: Sequence[Row], title: str = "Exact solver benchmark: float64, uniform iterate averaging") -> str:
    """A compact plain-text table of ``rows``, grouped by part.

    Parameters
    ----------
    rows : sequence of Row
        The rows of :func:`measure`, in its order.
    title : str, optional
        The header line (other suites print their rows in this format too).

    Returns
    -------
    str
        A header line, then per part its name, a rule and one line per row (``n/a`` for a missing
        value).

    Examples
    --------
    >>> rows = [Row("memory", "peak RSS growth", None, "B", "no RSS counter here")]
    >>> print(report(rows))
    Exact solver benchmark: float64, uniform iterate averaging
    <BLANKLINE>
    memory
    ---------------------------------
      peak RSS growth             n/a   no RSS counter here
    """
    lines = [title, ""]
    width = max([len(r.item) for r in rows] + [10]) + 2
    current = None
    for r in rows:
        if r.part != current:
            current = r.part
            lines += ["", current, "-" * (width + 16)]
        lines.append(f"  {r.item:<{width}}{_format_value(r.value, r.unit):>14}   {r.note}".rstrip())
    return "\n".join(lines[:1] + lines[2:])
