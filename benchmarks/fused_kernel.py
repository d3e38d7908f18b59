"""The fused kernel measured against its ideals, side by side in one process (``ramplab bench --suite kernels``).

Four parts (issue #20, items 2–4), rows in the table format of :mod:`benchmarks.exact_solver`;
nothing is asserted (tests check the rows exist, never their values):

1. **ideal** — the fused kernel (one schedule, uniform averaging, one thread, run by
   :func:`ramplab.theory.expected_risk`) against :func:`plain_loop`, the same update as one plain
   ``fastmath=True`` numba loop (reductions reassociated freely: not deterministic across builds, the
   speed a kernel could have), in ns per coordinate-step and as a ratio, at several ``d``. The ratio
   compares like with like: the thread CPU time inside the compiled step loop (``advance_groups``) of
   that run against the plain loop's; the whole ``expected_risk`` call (its O(d) set-up and packaging
   included) gets a row and a ratio of its own.
2. **threads** — the workloads W1 (22 rates, ``d = 2 000``, 5 000 steps) and W2 (22 rates,
   ``d = 20 000``, 1 500 steps) and one split, averaged schedule at ``d = 2·10⁵`` (3 000 steps), all
   with uniform averaging on the full problem (``reduce=False``), on 1 and on 2 threads
   (``numba.set_num_threads``), interleaved, best of 5: wall and process CPU seconds, whether the two
   results are bitwise equal, and the machine's load average before and after. A single schedule runs
   on one thread whatever the setting (:func:`~ramplab.theory.dynamics._kernels.run_workers`), so its
   ratio is 1 up to noise; on a machine busier than its cores, no 2-thread ratio means much.
3. **first call** — a fresh interpreter with an empty numba cache (``NUMBA_CACHE_DIR`` a new
   folder): import, then the first call of each common path (wall and CPU seconds); then a second fresh
   interpreter on the cache the first one filled (what every later session pays).
4. **residency** — the solver's effective bandwidth (:data:`~.exact_solver.STATE_BYTES_PER_COORDINATE`
   per coordinate-step) against a compiled triad ``a = b + s·c`` whose three arrays hold the same bytes as
   the kernel's working set (``s, a, c, λ``), so a cache-resident kernel meets a cache-resident triad.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from ..theory import Numerics, Problem, Schedule, expected_risk
from ..theory.dynamics import _kernels
from ..workloads import largest_stable_lr, workload_lrs, workload_problem
from .exact_solver import STATE_BYTES_PER_COORDINATE, Row

__all__ = ["KERNEL_PARTS", "KernelSizes", "FULL_KERNEL_SIZES", "QUICK_KERNEL_SIZES", "measure", "plain_loop",
           "first_call_costs"]

#: The parts, in the order they run and print.
KERNEL_PARTS = ("ideal", "threads", "first call", "residency")


@dataclass(frozen=True)
class KernelSizes:
    """Sizes of every part (:data:`FULL_KERNEL_SIZES`; :data:`QUICK_KERNEL_SIZES` for a seconds-long run).

    Parameters
    ----------
    ideal : tuple of (int, int)
        ``(d, steps)`` of the ideal-loop comparisons.
    threads : tuple of (str, int, int, int)
        ``(label, schedules, d, steps)`` of the thread comparisons.
    first_call_d, first_call_steps : int
        Size of the first calls (small: compilation is what is timed).
    first_call_paths : int
        How many of the common paths the first-call part runs (all six by default; the quick run
        times the first, 22 rows of plain SGD, only).
    residency : tuple of int
        ``d`` of the residency comparisons (steps chosen for about 10⁸ coordinate-steps, at least 20).
    repeat : int
        Interleaved timed rounds (the best is kept).

    Examples
    --------
    >>> FULL_KERNEL_SIZES.threads[0][:3], QUICK_KERNEL_SIZES.repeat
    (('W1', 22, 2000), 1)
    """

    ideal: tuple[tuple[int, int], ...] = ((1_000, 20_000), (10_000, 4_000), (100_000, 400))
    threads: tuple[tuple[str, int, int, int], ...] = (("W1", 22, 2_000, 5_000), ("W2", 22, 20_000, 1_500),
                                                      ("1 schedule, split", 1, 200_000, 3_000))
    first_call_d: int = 2_000
    first_call_steps: int = 200
    first_call_paths: int = 6
    residency: tuple[int, ...] = (1_000, 10_000, 100_000, 500_000)
    repeat: int = 3


FULL_KERNEL_SIZES = KernelSizes()
QUICK_KERNEL_SIZES = KernelSizes(ideal=((500, 200),), threads=(("W1 (quick)", 6, 300, 200),
                                                                 ("1 schedule (quick)", 1, 2_000, 50)),
                                 first_call_d=50, first_call_steps=20, first_call_paths=1, residency=(1_000,), repeat=1)


# ----------------------------------------------------------------------------------------- ideal
def _plain_kernel() -> Callable[..., Any]:
    from numba import njit

    @njit(fastmath=True, cache=True, nogil=True)
    def plain(s, a, c, lam, w, lr, noise, kex, steps):  # pragma: no cover - compiled
        d = s.shape[0]
        cc = 1.0 + kex
        q = 0.0
        for i in range(d):
            q += w[i] * s[i]
        total = 0.0
        for t in range(steps):
            rho = 1.0 / (t + 1)
            keep = 1.0 - rho
            alpha, beta, gamma = keep * keep, rho * rho, 2.0 * rho * keep
            kk = lr * lr * (q + noise)
            x_q = 0.0
            x_m = 0.0
            x_a = 0.0
            for i in range(d):
                li = lam[i]
                x = lr * li
                v = (1.0 - x * (2.0 - cc * x)) * s[i] + kk * li
                v = 0.0 if v < 0.0 else v
                s[i] = v
                ci = (1.0 - x) * c[i]
                an = alpha * a[i] + beta * v + gamma * ci
                a[i] = an
                c[i] = keep * ci + rho * v
                wq = w[i] * v
                x_q += wq
                x_m += wq * li
                x_a += w[i] * an
            q = x_q
            total += x_m + x_a
        return q, total

    return plain


_PLAIN: list[Any] = []


def plain_loop(problem: Problem, lr: float, steps: int) -> float:
    """Final ``Σ λ s`` after ``steps`` SGD steps at rate ``lr``, batch 1, uniform averaging, by one plain loop.

    The ideal the fused kernel is measured against: every step one pass over the coordinates updating
    ``s, a, c`` and summing ``Σ λ s, Σ λ² s, Σ λ a`` in registers, compiled by numba with
    ``fastmath=True`` (reductions reordered and vectorised at will: fast, and deterministic only per
    build). Needs numba.

    Parameters
    ----------
    problem : Problem
        Eigenvalues, initial second moments, noise and kurtosis (multiplicities ignored).
    lr : float
        Constant learning rate.
    steps : int
        Steps taken.

    Returns
    -------
    float
        ``Σ λ s`` after the last step (twice the risk).

    Examples
    --------
    >>> p = workload_problem(50)
    >>> q = plain_loop(p, 0.5 * largest_stable_lr(p), 10)
    >>> bool(0 < q < 2 * p.initial_risk + 1)
    True
    """
    if not _PLAIN:
        _PLAIN.append(_plain_kernel())
    lam = np.ascontiguousarray(problem.eigenvalues, dtype=np.float64)
    s = np.array(problem.initial_second_moment, dtype=np.float64)
    return float(_PLAIN[0](s, s.copy(), s.copy(), lam, lam, float(lr), float(problem.noise_variance),
                           float(problem.kurtosis - 2.0), int(steps))[0])


def _interleaved(calls: dict[str, Callable[[], Any]], repeat: int,
                 clock: Callable[[], float] = time.perf_counter) -> dict[str, float]:
    """Best time of each call over ``repeat`` interleaved rounds. One-thread comparisons pass
    ``time.thread_time`` (CPU time of this thread: what a busy machine's waits do not inflate)."""
    best = {k: math.inf for k in calls}
    for _ in range(max(1, repeat)):
        for name, fn in calls.items():
            start = clock()
            fn()
            best[name] = min(best[name], clock() - start)
    return best


def _load() -> str:
    try:
        return "load avg {:.1f}/{:.1f}/{:.1f} on {} cores".format(*os.getloadavg(), os.cpu_count())
    except OSError:  # pragma: no cover - no getloadavg here
        return f"{os.cpu_count()} cores"


def _fused_one(problem: Problem, lr: float, steps: int, split: bool = False) -> Any:
    return expected_risk(problem, Schedule.constant(lr, 1, steps=steps), average="uniform", split=split,
                         checkpoints=[0, steps], numerics=Numerics(kernel="fused"), reduce=False)


class _KernelClock:
    """``with _KernelClock() as k:`` sums in ``k.seconds`` the thread CPU time spent inside
    ``_kernels.advance_groups`` (the compiled step loop) during the block: the kernel alone, without the
    solver's O(d) set-up around it (argument checks, state copies, the packaged trajectory)."""

    def __enter__(self) -> "_KernelClock":
        self.seconds = 0.0
        self.original = _kernels.advance_groups

        def timed(*args: Any) -> None:
            start = time.thread_time()
            try:
                self.original(*args)
            finally:
                self.seconds += time.thread_time() - start

        _kernels.advance_groups = timed
        return self

    def __exit__(self, *exc: Any) -> None:
        _kernels.advance_groups = self.original


def _ideal(sizes: KernelSizes) -> list[Row]:
    part = "ideal (1 thread, one schedule, uniform averaging)"
    rows = []
    with _threads(1):
        for d, steps in sizes.ideal:
            problem = workload_problem(d)
            lr = 0.5 * largest_stable_lr(problem)
            _fused_one(problem, lr, 2), plain_loop(problem, lr, 2)  # compile
            kernel_best = math.inf

            def fused() -> None:
                nonlocal kernel_best
                with _KernelClock() as clock:
                    _fused_one(problem, lr, steps)
                kernel_best = min(kernel_best, clock.seconds)

            best = _interleaved({"fused": fused, "plain": lambda: plain_loop(problem, lr, steps)}, sizes.repeat,
                                time.thread_time)
            ns = {k: 1e9 * v / (d * steps) for k, v in best.items()}
            ns["kernel"] = 1e9 * kernel_best / (d * steps)
            rows += [Row(part, f"d={d}: fused kernel", ns["kernel"], "ns",
                         "per coordinate-step, thread CPU time in the compiled step loop"),
                     Row(part, f"d={d}: expected_risk", ns["fused"], "ns", "the same run, set-up and packaging included"),
                     Row(part, f"d={d}: plain fastmath loop", ns["plain"], "ns", "per coordinate-step"),
                     Row(part, f"d={d}: fused speed / plain", ns["plain"] / ns["kernel"], "x",
                         f"target >= 0.8; {_load()}"),
                     Row(part, f"d={d}: expected_risk speed / plain", ns["plain"] / ns["fused"], "x",
                         f"{steps} steps; the call's checks, copies and packaging included")]
    return rows


# --------------------------------------------------------------------------------------- threads
class _threads:
    """``with _threads(n):`` numba's thread count set to ``n`` (at most its maximum) and restored."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __enter__(self) -> int:
        import numba

        self.old = numba.get_num_threads()
        numba.set_num_threads(max(1, min(self.n, numba.config.NUMBA_NUM_THREADS)))
        return numba.get_num_threads()

    def __exit__(self, *exc: Any) -> None:
        import numba

        numba.set_num_threads(self.old)


def _threads_call(n: int, d: int, steps: int) -> Callable[[], Any]:
    """The thread comparison's computation: ``n`` constant schedules (one: split, at half the stable rate),
    uniform averaging, the fused kernel on the full problem (``reduce=False``: the threads, not the
    quadrature reduction, are measured)."""
    problem = workload_problem(d)
    fused = Numerics(kernel="fused")
    if n == 1:
        sched = Schedule.constant(0.5 * largest_stable_lr(problem), 1, steps=steps)
        return lambda: expected_risk(problem, sched, average="uniform", split=True, checkpoints=[0, steps],
                                     numerics=fused, reduce=False)
    scheds = [Schedule.constant(float(lr), 1, steps=steps) for lr in workload_lrs(problem, n)]
    return lambda: expected_risk(problem, scheds, average="uniform", checkpoints=[0, steps], numerics=fused,
                                 reduce=False)


def _thread_cpu() -> dict[int, float]:
    """CPU seconds of each thread of this process (Linux ``/proc/self/task``; empty elsewhere)."""
    out: dict[int, float] = {}
    try:
        tick = os.sysconf("SC_CLK_TCK")
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            out[int(task)] = (int(fields[11]) + int(fields[12])) / tick
    except (OSError, ValueError, IndexError):  # not Linux, or a thread ended while read
        return {}
    return out


def _threads_part(sizes: KernelSizes) -> list[Row]:
    import numba

    part = "threads (1 vs 2, same computation, interleaved; wall s, process CPU s in the note)"
    rows = []
    if numba.config.NUMBA_NUM_THREADS < 2:
        return [Row(part, "2 threads", None, "s", f"NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS}")]
    for label, n, d, steps in sizes.threads:
        call = _threads_call(n, d, steps)
        results: dict[int, Any] = {}
        cpu = {1: math.inf, 2: math.inf}
        busiest = {1: math.inf, 2: math.inf}  # CPU seconds of the busiest thread, in the run of least total CPU

        def timed(k: int) -> Callable[[], Any]:
            def run() -> None:
                with _threads(k):
                    before, c = _thread_cpu(), time.process_time()
                    results[k] = call()
                    used, after = time.process_time() - c, _thread_cpu()
                    if used < cpu[k]:
                        cpu[k] = used
                        per = [after[t] - before.get(t, 0.0) for t in after]
                        busiest[k] = max(per) if per else math.inf
            return run

        timed(2)(), timed(1)()  # compile and warm
        load_before = _load()
        best = _interleaved({"1": timed(1), "2": timed(2)}, max(sizes.repeat, 5) if sizes.repeat > 1 else 1)
        a = results[1] if isinstance(results[1], (list, tuple)) else [results[1]]
        b = results[2] if isinstance(results[2], (list, tuple)) else [results[2]]
        same = all(np.array_equal(x.averaged_risk, y.averaged_risk) and np.array_equal(x.risk, y.risk)
                   for x, y in zip(a, b))
        # One schedule runs on one thread whatever the setting (run_workers): its ratio is 1 up to noise.
        target = "target >= 1 (one schedule: the same serial code)" if n == 1 else "target >= 1.6 on 2 idle cores"
        rows += [Row(part, f"{label} (d={d}, {steps} steps, {n} schedule{'s' if n > 1 else ''}): 1 thread", best["1"],
                     "s", f"{cpu[1]:.3f} CPU-s"),
                 Row(part, f"{label}: 2 threads", best["2"], "s", "bitwise equal" if same else "DIFFERS"),
                 Row(part, f"{label}: speed-up", best["1"] / best["2"], "x",
                     f"{target}; 2 threads {cpu[2]:.3f} CPU-s; before: {load_before}; after: {_load()}")]
        if math.isfinite(busiest[2]) and busiest[2] > 0:
            rows.append(Row(part, f"{label}: speed-up the CPU times allow", cpu[1] / busiest[2], "x",
                            "1 thread's CPU-s / the busiest of 2 threads' CPU-s (what 2 idle cores would give; "
                            "clock ticks of /proc)"))
    return rows


# ------------------------------------------------------------------------------------ first call
_FIRST_CALL_SCRIPT = r"""
import json, sys, time
c0, w0 = time.process_time(), time.perf_counter()
import numpy as np
from ramplab.theory import HeavyBall, Numerics, Problem, Schedule, expected_risk
from ramplab.workloads import workload_lrs, workload_problem
out = {"import": (time.perf_counter() - w0, time.process_time() - c0)}
d, steps, n_paths = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
p = workload_problem(d)
scheds = [Schedule.constant(float(lr), 1, steps=steps) for lr in workload_lrs(p, 22)]
flag = dict(on_divergence="flag")  # heavy ball at the largest rates diverges: that is fine here
paths = [("22 rows SGD", lambda: expected_risk(p, scheds, **flag)),
         ("+ uniform averaging", lambda: expected_risk(p, scheds, average="uniform", **flag)),
         ("+ NSGD, split", lambda: expected_risk(p, scheds, "nsgd", average="uniform", split=True, **flag)),
         ("+ one schedule", lambda: expected_risk(p, scheds[0], **flag)),
         ("+ float32", lambda: expected_risk(p, scheds, numerics=Numerics(dtype=np.float32), **flag)),
         ("+ heavy ball", lambda: expected_risk(p, scheds, HeavyBall(0.5), **flag))]
for name, fn in paths[:n_paths]:
    c, w = time.process_time(), time.perf_counter()
    fn()
    out[name] = (time.perf_counter() - w, time.process_time() - c)
print("RESULT " + json.dumps(out))
"""


def first_call_costs(cache_dir: str, d: int = 2_000, steps: int = 200, paths: int = 6) -> dict[str, tuple[float, float]]:
    """Wall and CPU seconds of import and each common path's first call, in a fresh interpreter.

    Parameters
    ----------
    cache_dir : str
        Given to the child as ``NUMBA_CACHE_DIR`` (an empty folder: a cold start).
    d, steps : int
        Problem size of the calls (small: the cost is compilation).
    paths : int, default 6
        How many of the paths to run, in order: 22 rows of SGD, with uniform averaging, NSGD split,
        one schedule, float32, heavy ball.

    Returns
    -------
    dict
        ``{path: (wall seconds, CPU seconds)}`` in the order run, ``import`` first.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:  # doctest: +SKIP
    ...     sorted(first_call_costs(tmp, d=10, steps=5))[0]
    '+ NSGD, split'
    """
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    proc = subprocess.run([sys.executable, "-c", _FIRST_CALL_SCRIPT, str(d), str(steps), str(paths)], env=env,
                          capture_output=True, text=True, check=True)
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return {k: tuple(v) for k, v in json.loads(line[len("RESULT "):]).items()}


def _first_call(sizes: KernelSizes) -> list[Row]:
    part = "first call (fresh interpreter; wall s, CPU s in the note)"
    rows = []
    with tempfile.TemporaryDirectory(prefix="ramplab-numba-") as tmp:
        for label in ("empty cache", "cache filled by the run above"):
            costs = first_call_costs(tmp, sizes.first_call_d, sizes.first_call_steps, sizes.first_call_paths)
            total_w = sum(w for k, (w, _) in costs.items() if k != "import")
            total_c = sum(c for k, (_, c) in costs.items() if k != "import")
            for k, (w, c) in costs.items():
                rows.append(Row(part, f"{label}: {k}", w, "s", f"{c:.2f} CPU-s"))
            rows.append(Row(part, f"{label}: all paths", total_w, "s", f"{total_c:.2f} CPU-s; {_load()}"))
    return rows


# ------------------------------------------------------------------------------------- residency
def _triad_kernel() -> Callable[..., Any]:
    from numba import njit

    @njit(fastmath=True, cache=True, nogil=True)
    def triad(a, b, c, scalar, times):  # pragma: no cover - compiled
        for _ in range(times):
            for i in range(a.shape[0]):
                a[i] = b[i] + scalar * c[i]
        return a[0]

    return triad


def _residency(sizes: KernelSizes) -> list[Row]:
    part = "residency (solver vs a compiled triad over the same bytes, 1 thread, thread CPU time)"
    triad = _triad_kernel()
    rows = []
    with _threads(1):
        for d in sizes.residency:
            steps = max(20, int(1e8 // d)) if sizes.repeat > 1 else 20
            n = max(8, (4 * d) // 3)  # three triad arrays = the kernel's s, a, c, λ
            b, c, a = np.full(n, 1.0), np.full(n, 2.0), np.empty(n)
            times = max(1, int(steps * d * STATE_BYTES_PER_COORDINATE // (24 * n)))
            triad(a, b, c, 3.0, 1)
            problem = workload_problem(d)
            lr = 0.5 * largest_stable_lr(problem)
            _fused_one(problem, lr, 2)
            best = _interleaved({"triad": lambda: triad(a, b, c, 3.0, times),
                                 "solver": lambda: _fused_one(problem, lr, steps)}, sizes.repeat, time.thread_time)
            tri = 24.0 * n * times / best["triad"]
            sol = STATE_BYTES_PER_COORDINATE * d * steps / best["solver"]
            mib = 32 * d / 2**20
            rows += [Row(part, f"d={d} ({mib:.2g} MiB): triad", tri / 1e9, "GB/s", "24 B/elem"),
                     Row(part, f"d={d}: solver", sol / 1e9, "GB/s", f"{STATE_BYTES_PER_COORDINATE} B/coord-step"),
                     Row(part, f"d={d}: solver / triad", sol / tri, "x", _load())]
    return rows


_RUNNERS = {"ideal": _ideal, "threads": _threads_part, "first call": _first_call, "residency": _residency}


def measure(sizes: KernelSizes = FULL_KERNEL_SIZES, *, parts: Sequence[str] = KERNEL_PARTS,
            progress: Callable[[str], None] | None = None) -> list[Row]:
    """Run the chosen parts and return their rows (see the module docstring).

    Parameters
    ----------
    sizes : KernelSizes
        Problem sizes (:data:`FULL_KERNEL_SIZES` or :data:`QUICK_KERNEL_SIZES`).
    parts : sequence of str
        Any of :data:`KERNEL_PARTS`.
    progress : callable, optional
        Called with a line before each part.

    Returns
    -------
    list of Row
        A single row saying so when numba is not installed.

    Raises
    ------
    ValueError
        For an unknown part.

    Examples
    --------
    >>> measure(parts=["nonsense"])
    Traceback (most recent call last):
    ...
    ValueError: parts must be among ('ideal', 'threads', 'first call', 'residency'); got ['nonsense']
    """
    unknown = [p for p in parts if p not in KERNEL_PARTS]
    if unknown:
        raise ValueError(f"parts must be among {KERNEL_PARTS}; got {unknown}")
    if not _kernels.AVAILABLE:
        return [Row("kernels", "fused kernel", None, "-", "numba is not installed (pip install 'ramplab[fast]')")]
    rows: list[Row] = []
    for p in KERNEL_PARTS:
        if p in parts:
            if progress is not None:
                progress(f"[kernels] {p} …")
            rows += _RUNNERS[p](sizes)
    return rows
