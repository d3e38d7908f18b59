"""Memory estimates before long work, and the refusal of sizes this machine cannot hold (issue #19, kind 9).

Every call that allocates in proportion to ``d``, ``runs`` or the number of recorded points
estimates its peak memory first (:func:`memory_estimate`, by the models below) and raises a
``ValueError`` naming the arguments that drive the size and the estimate when it exceeds the
memory limit, instead of dying in NumPy's allocator, being killed by the kernel, or swapping for
hours. The limit is, in order:

1. the environment variable ``RAMPLAB_MEMORY_LIMIT`` — bytes, with an optional ``K``/``M``/``G``/``T``
   suffix (powers of 1024, ``GiB`` and ``GB`` read alike), or ``off`` (or ``none``, ``0``) to
   turn the check off;
2. otherwise the memory available now: ``psutil.virtual_memory().available`` when psutil is
   installed, else ``MemAvailable`` of ``/proc/meminfo``, else ``os.sysconf`` (available pages),
   and no more than what the address-space limit (``ulimit -v``) leaves to this process.

When none of these can be read, nothing is refused. The models (docs/design.md, "Memory
estimates") count the arrays each call holds at its peak, in bytes:

- ``Problem.power_law`` / ``Problem.isotropic``: ``8 · d`` per float64 array, about 8 of them
  while the factory and the validation run (indices, ``λ``, ``s(0)``, ``m``, temporaries);
- ``expected_risk``: the state ``rows · d · moments`` (rows = schedules × 3 with ``split``;
  moments = 1, 3 with heavy-ball momentum, + 2 with an iterate average) with the step's
  temporaries (4 copies), one more state per kept checkpoint (``keep_states``), and about 8
  recorded curves of ``rows × points`` (points = ``T + 1``, or the checkpoints);
- ``simulate``: about 10 ``(chunk, d)`` arrays (state, draws, gradient, temporaries; 1 + 1 more
  with an iterate average, + 3 for Adam's moments), the per-run risks of 256 steps
  (``chunk × 256``), and with ``keep_runs`` the per-run curves ``runs × points`` (twice with an
  average), in the simulation's dtype.
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

__all__ = ["ENV_VAR", "check_memory", "check_simulation_memory", "describe_bytes", "exact_bytes", "itemsize_of",
           "memory_estimate", "memory_limit", "problem_bytes", "simulation_bytes"]

#: The environment variable that overrides the memory limit (bytes with a K/M/G/T suffix, or "off").
ENV_VAR = "RAMPLAB_MEMORY_LIMIT"

_FLOAT = 8
_PROBLEM_ARRAYS = 8        # factory and validation temporaries of Problem.power_law / isotropic
_STEP_COPIES = 4           # state + the step's temporaries of the exact solver
_EXACT_CURVES = 8          # risk, bias, variance, averaged risk, effective lr, G_t, ratio, samples
_MC_STATE_ARRAYS = 10      # simulate: state, scaled state, draws, gradient, temporaries
_MC_FLUSH = 256            # simulate: per-run risks held on the device before they are folded in
_ALWAYS_FITS = 2**26       # estimates below 64 MiB are not checked against the available memory
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40, "p": 2**50}


def describe_bytes(n: float) -> str:
    """``n`` bytes in the largest binary unit that keeps it ≥ 1 (``'31.0 GiB'``)."""
    for unit, size in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def _parse_limit(text: str) -> int | None:
    value = text.strip().lower()
    if value in ("off", "none", "0", "no", "false", "inf", "unlimited"):
        return None
    match = re.fullmatch(r"([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmgtp]?)(?:i?b)?", value)
    if not match:
        raise ValueError(f"{ENV_VAR} must be a byte count with an optional K, M, G or T suffix (e.g. '16G'), or "
                         f"'off'; got {text!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def _address_space_left() -> int | None:
    """What ``ulimit -v`` (RLIMIT_AS) leaves to this process, or None when unlimited or unknown."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        return None
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    try:
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        used = 0
    return max(0, soft - used)


def _available_memory() -> int | None:
    try:
        import psutil

        ram: int | None = int(psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001 - psutil missing or unable to read: fall back
        ram = None
    if ram is None:
        try:
            with open("/proc/meminfo") as f:
                for line in f:
                    if line.startswith("MemAvailable:"):
                        ram = int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError, IndexError):
            ram = None
    if ram is None:
        try:
            ram = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            ram = None
    left = _address_space_left()
    if left is None:
        return ram
    return left if ram is None else min(ram, left)


def memory_limit() -> int | None:
    """The memory limit in bytes that size checks compare their estimates with (None: no check).

    ``RAMPLAB_MEMORY_LIMIT`` when set (``'off'`` turns the checks off), otherwise the memory
    available now (see the module docstring).

    Returns
    -------
    int or None
        Bytes, or None when the check is off or the available memory cannot be read.

    Raises
    ------
    ValueError
        When ``RAMPLAB_MEMORY_LIMIT`` is not a byte count or ``'off'``.
    """
    text = os.environ.get(ENV_VAR)
    if text is not None and text.strip():
        return _parse_limit(text)
    return _available_memory()


def check_memory(estimate: float, call: str, sizes: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming ``sizes`` (``{'d': 2**31}``) when ``estimate`` bytes exceed the limit."""
    if estimate < _ALWAYS_FITS and not os.environ.get(ENV_VAR, "").strip():
        return  # small runs do not ask the system (hot loops call the solver many times)
    limit = memory_limit()
    if limit is None or estimate <= limit:
        return
    named = ", ".join(f"{k}={v!r}" for k, v in sizes.items())
    source = f"{ENV_VAR}={os.environ[ENV_VAR]!r}" if os.environ.get(ENV_VAR, "").strip() else "available memory"
    raise ValueError(
        f"{call} with {named} would need about {describe_bytes(estimate)}, more than the memory limit of "
        f"{describe_bytes(limit)} ({source}); {_remedy(sizes)}, or set {ENV_VAR} (bytes, e.g. '64G', or 'off') "
        f"to override (ramplab.theory.memory_estimate gives the estimate)"
    )


def _remedy(sizes: dict[str, Any]) -> str:
    flags = [f"{k}=False" for k, v in sizes.items() if v is True]
    counts = [k for k, v in sizes.items() if v is not True]
    text = f"reduce {' or '.join(counts)}" if counts else ""
    if flags:
        text += (", or pass " if text else "pass ") + " and ".join(flags)
    return text


# --------------------------------------------------------------------------------------- the models
def problem_bytes(d: int) -> int:
    """Peak bytes of ``Problem.power_law(d, …)`` / ``Problem.isotropic(d, …)``."""
    return _PROBLEM_ARRAYS * _FLOAT * int(d)


def exact_bytes(d: int, *, rows: int = 1, moments: int = 1, points: int = 1, kept_states: int = 0,
                itemsize: int = _FLOAT) -> int:
    """Peak bytes of ``expected_risk`` beyond the problem: state and step temporaries, kept states, curves."""
    state = int(rows) * int(d) * int(moments) * int(itemsize)
    return _STEP_COPIES * state + int(kept_states) * state + _EXACT_CURVES * int(rows) * int(points) * _FLOAT


def simulation_bytes(d: int, *, runs: int, chunk: int, points: int, keep_runs: bool = False, curves: int = 1,
                     state_arrays: int = _MC_STATE_ARRAYS, itemsize: int = _FLOAT) -> int:
    """Peak bytes of ``simulate`` beyond the problem: a chunk's arrays, its per-run risks, kept curves."""
    chunk = min(int(chunk), int(runs))
    device = state_arrays * chunk * int(d) * int(itemsize) + curves * chunk * _MC_FLUSH * int(itemsize)
    host = curves * 4 * int(points) * _FLOAT + (curves * int(runs) * int(points) * _FLOAT if keep_runs else 0)
    return device + host


def memory_estimate(d: int, *, runs: int | None = None, points: int = 1, keep_runs: bool = False,
                    schedules: int = 1, split: bool = False, kept_states: int = 0, momentum: bool = False,
                    average: bool = False) -> int:
    """Estimated peak memory, in bytes, of a problem of dimension ``d`` and one exact or Monte Carlo run.

    The same models that :meth:`Problem.power_law <ramplab.theory.Problem.power_law>`,
    :func:`~ramplab.theory.expected_risk` and :func:`~ramplab.simulations.simulate` check before
    they allocate (they refuse with a ``ValueError`` naming ``d``, ``runs`` or ``keep_runs`` and
    the estimate when it exceeds the memory limit: the available memory, or the environment
    variable ``RAMPLAB_MEMORY_LIMIT`` — bytes such as ``'64G'``, or ``'off'``). Use it to size a
    run before starting it (docs/design.md, "Memory estimates").

    Parameters
    ----------
    d : int
        Dimension (coordinates; ``Σ m_i`` for a problem with multiplicities in Monte Carlo).
    runs : int, optional
        Monte Carlo runs (``simulate``); None (default) estimates ``expected_risk``.
    points : int, default 1
        Recorded points per curve: ``T + 1`` for full curves, or the number of checkpoints.
    keep_runs : bool, default False
        ``simulate(..., keep_runs=True)``: the per-run curves ``runs × points`` are kept.
    schedules : int, default 1
        Schedules solved together by ``expected_risk``.
    split : bool, default False
        ``expected_risk(..., split=True)`` (bias and variance runs: three rows per schedule).
    kept_states : int, default 0
        Solver states kept (``keep_states=True``: one per checkpoint).
    momentum : bool, default False
        Heavy-ball momentum (three moments per coordinate in the exact solver).
    average : bool, default False
        An iterate average (more moments in the exact solver, a second set of curves in Monte Carlo).

    Returns
    -------
    int
        Bytes: the problem's arrays plus the run's peak (float64; on the default chunking of
        ``simulate`` on the host).

    Raises
    ------
    ValueError, TypeError
        For sizes that are not positive integers (named).

    Examples
    --------
    >>> from ramplab.theory import memory_estimate
    >>> round(memory_estimate(10**6) / 2**20)                        # problem + exact state, in MiB
    92
    >>> round(memory_estimate(1000, runs=2**22, points=1000, keep_runs=True) / 2**30, 1)   # GiB
    31.4
    """
    from ._validate import flag, nonnegative_int, positive_int

    d = positive_int(d, "d")
    points = positive_int(points, "points")
    schedules = positive_int(schedules, "schedules")
    kept_states = nonnegative_int(kept_states, "kept_states")
    keep_runs, split = flag(keep_runs, "keep_runs"), flag(split, "split")
    momentum, average = flag(momentum, "momentum"), flag(average, "average")
    total = problem_bytes(d)
    if runs is None:
        moments = (3 if momentum else 1) + (2 if average else 0)
        return total + exact_bytes(d, rows=schedules * (3 if split else 1), moments=moments, points=points,
                                   kept_states=kept_states)
    runs = positive_int(runs, "runs")
    block = 64
    chunk = min(max(block, (2**21 // d) // block * block), math.ceil(runs / block) * block)
    return total + simulation_bytes(d, runs=runs, chunk=chunk, points=points, keep_runs=keep_runs,
                                    curves=2 if average else 1,
                                    state_arrays=_MC_STATE_ARRAYS + (2 if average else 0))


def itemsize_of(dtype: Any) -> int:
    """Bytes per element of ``dtype`` (NumPy, CuPy or another array API namespace's; 8 when unknown)."""
    try:
        import numpy as np

        return int(np.dtype(getattr(dtype, "type", dtype)).itemsize)
    except (TypeError, ValueError):
        size = getattr(dtype, "itemsize", None)
        if isinstance(size, int):
            return size
        name = str(dtype)
        return 4 if "32" in name else 2 if "16" in name else _FLOAT


def check_simulation_memory(config: Any, points: int, curves: int) -> None:
    """``simulate``'s refusal: the validated ``config`` (a ``SimulationConfig``) against the memory limit."""
    d = int(config.simulated.eigenvalues.shape[0])
    extra = (2 if config.averaging is not None else 0) + (3 if type(config.spec).__name__ == "Adam" else 0)
    estimate = simulation_bytes(d, runs=config.runs, chunk=config.chunk, points=points, keep_runs=config.keep_runs,
                                curves=curves, state_arrays=_MC_STATE_ARRAYS + extra,
                                itemsize=itemsize_of(config.dtype))
    sizes: dict[str, Any] = {"d": d, "runs": config.runs}
    if config.keep_runs:
        sizes["keep_runs"] = True
    check_memory(estimate, "simulate", sizes)
