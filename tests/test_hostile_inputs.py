"""Hostile inputs: every public entry point gives a clear error or a correct, finite answer.

How it works
------------
:data:`ENTRIES` is a table ``name → Entry(call, valid, kinds, oracle)``: ``valid()`` returns the
keyword arguments of one valid call; ``kinds`` says, per argument, which pool of hostile values to
substitute; ``oracle(result, kwargs)`` checks a returned result against an *independent* plain
float64 (or exact :class:`fractions.Fraction`) computation and raises ``AssertionError`` when it is
wrong. One argument at a time is replaced by a hostile value (NaN, ±inf, 1e308, 2**63, 2**64,
negative, zero, empty, wrong shapes, bools, strings, complex, object arrays, int64 edges, …) and
each call is classified (:func:`classify`) as

- ``clear error``: ``ValueError``/``TypeError`` whose message names the argument (accepted);
- ``correct``: a result the oracle accepts (accepted);
- ``silent wrong``: a result the oracle rejects (NaN, inf, negative, wrong number, or a value
  that should have been refused);
- ``unclear error``: any other exception, or one that does not name the argument;
- ``hang``: the call ran past :data:`CALL_SECONDS` (interrupted with ``signal.setitimer``).

:data:`MODULES` lists the modules whose ``__all__`` is driven; :func:`test_table_is_complete`
fails when one of their public names has neither an entry nor an :data:`EXEMPT` reason (constants,
result records). To add a module: append it to :data:`MODULES`, then add an :class:`Entry` per
public callable (reuse the kinds of :data:`POOLS`, or add one).

Two tests per (entry, argument): the whole fixed pool of that argument's kind (deterministic), and
hypothesis draws (random floats and integers over the full range, arrays of any dtype). Run this
file as a script for the sweep's counts: ``python tests/test_hostile_inputs.py [--verbose]``.
"""

from __future__ import annotations

import importlib
import math
import re
import signal
import sys
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from types import ModuleType
from typing import Any, Callable, Mapping

import numpy as np
import pytest
import sympy as sp
import os

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ramplab.theory import Problem, Schedule
from ramplab.theory.backend import resolve_backend
from ramplab.theory.dynamics import DivergenceError

#: Wall-clock bound per call; a call past it is a hang.
CALL_SECONDS = 10.0

#: The modules whose ``__all__`` this file drives.
MODULES = (
    "ramplab.theory.complexity.sfo",
    "ramplab.theory.complexity.growth",
    "ramplab.theory.complexity.growth_exponents",
    "ramplab.theory.schedules.families",
    "ramplab.theory.schedules.released",
    "ramplab.theory.dynamics.equivalence",
    "ramplab.simulations.samplers",
    "ramplab.simulations.streams",
    "ramplab.proofs",
    "ramplab.proofs.derivation",
    "ramplab.proofs.sfo",
    "ramplab.proofs.growth",
    "ramplab.proofs.equivalence",
    "ramplab.proofs.schedule_sums",
    "ramplab.proofs.symbols",
    "ramplab.theory.schedules.schedule",
    "ramplab.theory.dynamics.problem",
    "ramplab.theory.dynamics.stability",
    "ramplab.theory.dynamics.averaging",
    "ramplab.theory.backend",
    "ramplab.theory.dynamics.recursion",
    "ramplab.theory.schedules.lr_shapes",
    "ramplab.simulations.monte_carlo",
    "ramplab.theory.dynamics.compression",
    "ramplab.theory.schedules.seesaw",
    "ramplab.theory.schedules.serial_steps",
    "ramplab.theory.dynamics.momentum",
    "ramplab.proofs.momentum",
    "ramplab.sweeps",
    "ramplab.interop",
    "ramplab.interop.steps",
    "ramplab.interop.frameworks",
)

FLOAT_MAX = np.finfo(np.float64).max

# ----------------------------------------------------------------------------- hostile pools
UNIVERSAL: list[Any] = [
    math.nan, math.inf, -math.inf, 1e308, -1e308, 2**63, 2**64, -(2**63) - 1,
    np.int64(2**63 - 1), np.int64(-(2**63)), -1, 0, -0.0, 5e-324, True, False,
    "1", "abc", b"1", 1 + 0j, 1j, np.complex128(2.0), None, object(),
    [], [math.nan], [1.0, math.inf], [[1.0, 2.0]], ["1"], [True],
    np.array([1, 2], dtype=object), np.array([1.0], dtype=complex), np.array(["a"]), np.zeros(0),
    np.array([2**63 - 1, 2**62], dtype=np.int64), np.float32("nan"), {}, (1, 2, 3),
]


def _problem(lam, s0, noise=0.0, kurtosis=3.0) -> Problem:
    return Problem(np.asarray(lam, float), np.asarray(s0, float), noise_variance=noise, kurtosis=kurtosis)


#: Extra values per kind, beyond :data:`UNIVERSAL` (valid-but-extreme ones included: the call must
#: then be correct, or refuse naming the argument).
POOLS: dict[str, list[Any]] = {
    "real": [1e-300, 1e300, 2**53 + 1, 3.5, np.float64(2.0), np.int64(3)],
    "int": [2**31, 2**53, 2**53 + 1, 2**62, 1.5, 7.0, np.int64(5), np.uint64(2**64 - 1)],
    # A batch size where cost grows with it (draws per call): the edges beyond 2**53, not the
    # valid-but-expensive middle.
    "batch": [2**53 + 1, 2**62, 1.5, 7.0, np.int64(5), np.uint64(2**64 - 1)],
    # A token budget: 2**31 tokens is a valid run of tens of millions of steps (seconds), not hostile.
    "tokens": [2**53, 2**53 + 1, 2**62, 1.5, 7.0, np.int64(5000), np.uint64(2**64 - 1)],
    "vector": [[-1.0], [0.0], [1e308, 1e308], [1.0, 2.0, 3.0], np.array([3, 1]), np.array([1e-300, 1e300]),
               np.array([[1.0], [2.0]]), [2**64, 1], np.array([np.nan, 1.0])],
    "choice": ["", "GENERAL", "norm ", ["norm"], np.array(["norm", "squared"]), 3],
    "flag": ["yes", "", np.bool_(True), np.True_, 1, 0.0],
    "label": [3, b"x", ["x"]],
    "mapping": [[("a", 1)], "ab", 3, {"counting": "x"}],
    "problem": [_problem([1e150], [1e150], 1e300), _problem([1e-300, 1.0], [0.0, 0.0], 0.0),
                _problem([2.0, 1.0], [1e300, 1e300], 0.0, 1.0), "Problem", {"eigenvalues": [1.0]}],
    "schedule": [Schedule.from_segments([0.1], [1], [2**40]), Schedule([0.0, 0.0, 0.1], [1, 1, 2]),
                 Schedule.from_segments([1e-300], [2**53], [3]), [Schedule.constant(0.1, 1, steps=2)]],
    "schedules": [[Schedule.from_segments([0.1], [1], [2**40])], [Schedule([0.0, 0.1], [1, 1])],
                  ["schedule"], [Schedule.constant(0.1, 1, steps=2), 3]],
    "constants": [(1.0, 1.0, 1.0), {"smoothness": 1.0}],
    "sympy": [sp.nan, sp.oo, sp.zoo, sp.Symbol("x"), "__import__('os').getcwd()", "x +", sp.I],
    "callable": [3, "simplify", sp.Symbol("x")],
    "names": ["ramp_bound", ["nope"], [3], ("ramp_bound",), [["ramp_bound"]]],
    "sequence": [[1.0, 2.0], [[0.5, 1.0]], [(1, 2, 3)], "ab", [math.nan], [-1.0]],
    "rows": [[{}], [{"group": "main"}], "rows", [3]],
    "models": [(("m", 1e308),), (("m", -5.0),), (("m",),), "models", (("m", 1e5, 3),)],
    "xp": [np, "numpy", 3, sp],
    "streams": [[], [3], "streams"],
    "seed": [-5, 2**200, [1, -1], (1.5,), np.random.SeedSequence(3), [2**64]],
    "sizes": [(), (-1,), (2**40,), (2**31, 2**31), (1.5,), ("2",)],
    "any": [],
}

#: Kinds whose valid values cost time in proportion to their size (steps, draws, tokens).
COUNT_KINDS = ("int", "batch", "tokens")

ARRAY_DTYPES = st.sampled_from([np.float64, np.float32, np.int64, np.int8, np.uint64, np.complex128, np.bool_])


def hostile_strategy(kind: str) -> st.SearchStrategy[Any]:
    """Random hostile values for an argument of ``kind``: the fixed pools, plus arbitrary floats,
    huge integers and arrays of any dtype and shape."""
    fixed = st.sampled_from(UNIVERSAL + POOLS[kind])
    # Integers: negative, small, or beyond 2**53 — not the valid-but-expensive middle (a step count
    # of 2**30 is legal, and takes its time). Counts ("int", "batch") get floats on the same terms.
    integers = st.one_of(st.integers(-(2**66), 0), st.integers(0, 64), st.integers(2**53 + 1, 2**66))
    floats = st.floats(allow_nan=True, allow_infinity=True)
    if kind in COUNT_KINDS:
        floats = floats.filter(lambda x: not (64 < abs(x) <= 2**53))
    numbers = st.one_of(floats, integers)
    arrays = hnp.arrays(ARRAY_DTYPES, hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
    if kind in COUNT_KINDS:  # a one-element array is read as its number: same valid-but-expensive middle
        arrays = arrays.filter(lambda a: not (a.size == 1 and a.dtype.kind in "iuf"
                                              and 64 < abs(float(a.ravel()[0])) <= 2**53))
    lists = st.lists(st.one_of(st.floats(), integers, st.booleans()), max_size=4)
    return st.one_of(fixed, numbers, arrays, lists)


# ----------------------------------------------------------------------------- classification
class Hang(Exception):
    """Raised by the interval timer when a call runs past :data:`CALL_SECONDS`."""


def _alarm(signum: int, frame: Any) -> None:
    raise Hang()


def bounded_call(fn: Callable[..., Any], kwargs: dict[str, Any], seconds: float = CALL_SECONDS) -> Any:
    """``fn(**kwargs)`` interrupted by :class:`Hang` after ``seconds`` (main thread only)."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(**kwargs)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def names_argument(message: str, arg: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(arg)}(?!\w)", message) is not None


OUTCOMES = ("clear error", "correct", "silent wrong", "unclear error", "hang")


def classify(name: str, arg: str, value: Any) -> tuple[str, str]:
    """Outcome of calling entry ``name`` with ``arg`` replaced by ``value``, and a detail line."""
    entry = ENTRIES[name]
    kwargs = entry.valid()
    kwargs[arg] = value
    try:
        result = bounded_call(entry.call, kwargs)
    except Hang:
        return "hang", f"ran past {CALL_SECONDS} s"
    except entry.raises as exc:
        return "clear error", f"{type(exc).__name__}: {str(exc)[:160]}"
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        shown = f"{type(exc).__name__}: {msg[:160]}"
        return ("clear error" if names_argument(msg, arg) else "unclear error"), shown
    except BaseException as exc:  # noqa: BLE001 - classifying is the point
        if isinstance(exc, KeyboardInterrupt):
            raise
        return "unclear error", f"{type(exc).__name__}: {str(exc)[:160]}"
    try:
        entry.oracle(result, kwargs)
    except Exception as exc:  # noqa: BLE001 - a wrong result, or one the oracle cannot accept
        return "silent wrong", f"{type(exc).__name__}: {str(exc)[:160]}"
    return "correct", ""


# ----------------------------------------------------------------------------- oracle helpers
def real(v: Any) -> float:
    """A hostile value the function accepted as a real number: must be one (no bool, str, complex)."""
    if isinstance(v, (bool, np.bool_, str, bytes, complex, np.complexfloating)) or v is None:
        raise AssertionError(f"accepted a non-real value {v!r}")
    if isinstance(v, np.ndarray) and v.ndim:
        raise AssertionError(f"accepted an array {v!r} for a scalar")
    if isinstance(v, (list, tuple, dict)):
        raise AssertionError(f"accepted a container {v!r} for a scalar")
    out = float(v)
    assert math.isfinite(out), f"accepted a non-finite value {v!r}"
    return out


def integer(v: Any) -> int:
    x = real(v)
    assert x == int(x), f"accepted a non-integer {v!r}"
    return int(v) if isinstance(v, (int, np.integer)) else int(x)


def vector(v: Any) -> np.ndarray:
    arr = np.asarray(v)
    if arr.dtype.kind not in "iuf" and not (arr.dtype.kind == "O" and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in arr.ravel())):
        raise AssertionError(f"accepted a non-real array {v!r}")
    out = arr.astype(np.float64)
    assert np.all(np.isfinite(out)), f"accepted non-finite entries {v!r}"
    return out


def real_values(v: Any) -> np.ndarray:
    """Like :func:`vector`, but non-finite entries are allowed (per-step kernels propagate them)."""
    arr = np.asarray(v)
    assert arr.dtype.kind in "f", f"accepted a non-floating array {v!r}"
    return arr.astype(np.float64)


def finite(x: Any, *, nonnegative: bool = False) -> None:
    arr = np.asarray(x, dtype=np.float64)
    assert np.all(np.isfinite(arr)), f"non-finite output {x!r}"
    if nonnegative:
        assert np.all(arr >= 0), f"negative output {x!r}"


def close(a: Any, b: Any, rtol: float = 1e-9, what: str = "") -> None:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"{what} shape {a.shape} != {b.shape}"
    same_inf = np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b))
    with np.errstate(invalid="ignore", over="ignore"):
        ok = same_inf | (np.abs(a - b) <= rtol * np.maximum(np.abs(a), np.abs(b)) + 1e-300)
    assert np.all(ok), f"{what} {a!r} != reference {b!r}"


def choice(v: Any, options: tuple[str, ...]) -> str:
    assert isinstance(v, str) and v in options, f"accepted {v!r} for one of {options}"
    return v


def flag(v: Any) -> bool:
    assert isinstance(v, (bool, np.bool_)), f"accepted {v!r} for a bool"
    return bool(v)


def problem_of(v: Any) -> Problem:
    assert isinstance(v, Problem), f"accepted {v!r} for a Problem"
    return v


def schedule_segments(s: Schedule) -> list[tuple[float, float, int]]:
    seg = s.segments
    return [(float(a), float(b), int(n)) for a, b, n in zip(seg.lr, seg.batch, seg.steps)]


def merged(runs: list[tuple[float, float, int]]) -> list[tuple[float, float, int]]:
    out: list[tuple[float, float, int]] = []
    for lr, b, n in runs:
        if out and out[-1][0] == lr and out[-1][1] == b:
            out[-1] = (lr, b, out[-1][2] + n)
        else:
            out.append((lr, b, n))
    return out


def same_segments(s: Schedule, runs: list[tuple[float, float, int]], rtol: float = 1e-12) -> None:
    got, want = schedule_segments(s), merged(runs)
    assert len(got) == len(want), f"{len(got)} segments, reference {len(want)}"
    for (a, b, n), (ra, rb, rn) in zip(got, want):
        assert n == rn and math.isclose(a, ra, rel_tol=rtol) and math.isclose(b, rb, rel_tol=rtol), \
            f"segment {(a, b, n)} != reference {(ra, rb, rn)}"


def plain_gradient_norms(problem: Problem, lrs: list[float], batches: list[float]) -> list[float]:
    """``Σλ²s(t)`` after each step, by a plain Python loop of the SGD second-moment recursion."""
    lam = [float(x) for x in problem.eigenvalues]
    s = [float(x) for x in problem.initial_second_moment]
    kappa, sigma2 = float(problem.kurtosis), float(problem.noise_variance)
    out = [sum(l * l * si for l, si in zip(lam, s))]
    for lr, b in zip(lrs, batches):
        lr, b = float(lr), float(b)
        q = sum(l * si for l, si in zip(lam, s))
        try:
            s = [(1 - lr * l) ** 2 * si + lr * lr / b * ((kappa - 2) * l * l * si + l * (q + sigma2))
                 for l, si in zip(lam, s)]
            out.append(sum(l * l * si for l, si in zip(lam, s)))
        except OverflowError:
            out.append(math.inf)
        if not math.isfinite(out[-1]):
            break
    return out


def first_hit(norms: list[float], tau: float) -> float:
    for t, g in enumerate(norms):
        if g <= tau:
            return float(t)
    return math.inf


# ----------------------------------------------------------------------------- the table
@dataclass
class Entry:
    """One public entry point: how to call it validly, what to substitute, how to check results."""

    call: Callable[..., Any]
    valid: Callable[[], dict[str, Any]]
    kinds: dict[str, str]
    oracle: Callable[[Any, dict[str, Any]], None]
    raises: tuple[type[BaseException], ...] = ()
    skip: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    args: tuple[str, ...] = field(default=())

    def values(self, arg: str) -> list[Any]:
        """The fixed hostile values substituted for ``arg`` (its kind's pools, less ``skip``)."""
        skipped = self.skip.get(arg, ())
        return [v for v in UNIVERSAL + POOLS[self.kinds[arg]] if not any(v is x for x in skipped)]

    def __post_init__(self) -> None:
        self.args = tuple(self.kinds)


ENTRIES: dict[str, Entry] = {}
#: Public names that are not driven, with the reason.
EXEMPT: dict[str, str] = {}


def entry(name: str, call: Callable[..., Any], valid: dict[str, Any] | Callable[[], dict[str, Any]],
          kinds: dict[str, str], oracle: Callable[[Any, dict[str, Any]], None],
          raises: tuple[type[BaseException], ...] = (), skip: dict[str, tuple[Any, ...]] | None = None) -> None:
    """Register an entry point; ``raises``: documented outcomes that are not argument errors (a
    :class:`DivergenceError` of an unstable run), counted as clear errors; ``skip``: per argument,
    values of the pools not to substitute (a valid default that is merely expensive), with the reason
    in a comment at the call."""
    factory = valid if callable(valid) else (lambda v=valid: dict(v))
    ENTRIES[name] = Entry(call, factory, kinds, oracle, raises, skip or {})


def exempt(names: str, reason: str) -> None:
    for n in names.split():
        EXEMPT[n] = reason


# Shared valid objects.
P = _problem([1.0, 0.5], [1.0, 0.5], 1e-3)
S = Schedule.constant(0.5, 4, steps=3)


def _constants():
    from ramplab.theory.complexity.sfo import BoundConstants
    return BoundConstants(1.0, 1.0, 1.0)


# --- theory.complexity.sfo ------------------------------------------------------------------
def _register_sfo() -> None:
    from ramplab.theory.complexity import sfo

    M = "ramplab.theory.complexity.sfo"
    exempt(f"{M}:TargetHitting {M}:CriticalBatch", "result record, built by the measuring functions")

    def tau_of(eps: float, stationarity: str) -> float:
        return eps * eps if stationarity == "norm" else eps

    def o_target(r, kw):
        eps = real(kw["epsilon"])
        assert eps > 0
        ref = tau_of(eps, choice(kw["stationarity"], ("norm", "squared")))
        assert r == ref and math.isfinite(r) and r > 0, f"{r!r} != {ref!r}"

    entry(f"{M}:gradient_target", sfo.gradient_target, {"epsilon": 0.1, "stationarity": "norm"},
          {"epsilon": "real", "stationarity": "choice"}, o_target)

    def variance_ref(problem: Problem, s: np.ndarray) -> np.ndarray:
        lam = [float(x) for x in problem.eigenvalues]
        tr = sum(lam)
        flat = s.reshape(-1, len(lam))
        out = [(problem.kurtosis - 2) * sum(l * l * x for l, x in zip(lam, row))
               + tr * (sum(l * x for l, x in zip(lam, row)) + problem.noise_variance) for row in flat]
        return np.array(out).reshape(s.shape[:-1])

    def o_variance(r, kw):
        p = problem_of(kw["problem"])
        s = vector(kw["second_moment"])
        assert s.ndim >= 1 and s.shape[-1] == p.dimension and np.all(s >= 0), f"accepted {s!r}"
        finite(r, nonnegative=True)
        close(r, variance_ref(p, s), 1e-12)

    entry(f"{M}:gradient_variance", sfo.gradient_variance, lambda: {"problem": P, "second_moment": [1.0, 2.0]},
          {"problem": "problem", "second_moment": "vector"}, o_variance)

    def o_constants(r, kw):
        L, v, d = real(kw["smoothness"]), real(kw["gradient_variance"]), real(kw["initial_gap"])
        assert L > 0 and v >= 0 and d >= 0
        assert (r.smoothness, r.gradient_variance, r.initial_gap) == (L, v, d)

    entry(f"{M}:BoundConstants", sfo.BoundConstants,
          {"smoothness": 1.0, "gradient_variance": 2.0, "initial_gap": 3.0},
          {"smoothness": "real", "gradient_variance": "real", "initial_gap": "real"}, o_constants)

    def o_from_problem(r, kw):
        p = problem_of(kw["problem"])
        v = kw["variance"]
        if isinstance(v, str):
            s = np.zeros(p.dimension) if choice(v, ("optimum", "initial")) == "optimum" else p.initial_second_moment
            ref_v = float(variance_ref(p, s))
        else:
            ref_v = real(v)
            assert ref_v >= 0
        ref_gap = 0.5 * sum(float(l) * float(x) for l, x in zip(p.eigenvalues, p.initial_second_moment))
        finite([r.smoothness, r.gradient_variance, r.initial_gap], nonnegative=True)
        close([r.smoothness, r.gradient_variance, r.initial_gap], [max(p.eigenvalues), ref_v, ref_gap], 1e-12)

    entry(f"{M}:BoundConstants.from_problem", sfo.BoundConstants.from_problem,
          lambda: {"problem": P, "variance": "initial"}, {"problem": "problem", "variance": "choice"},
          o_from_problem)

    def coeffs_ref(c, lr, convention):
        L, sig, gap = Fraction(c.smoothness), Fraction(c.gradient_variance), Fraction(c.initial_gap)
        lr = Fraction(lr)
        if convention == "general":
            assert 0 < L * lr < 2, "accepted L*lr outside (0, 2)"
            return 2 * gap / (2 - L * lr), L * sig / (2 - L * lr)
        assert 0 < L * lr <= 1 + Fraction(1, 10**12), "accepted L*lr outside (0, 1]"
        return 2 * gap, L * sig

    def o_coefficients(r, kw):
        ref = coeffs_ref(_constants(), real(kw["lr_max"]), choice(kw["convention"], ("general", "small_step")))
        finite(r, nonnegative=True)
        close(r, [float(x) for x in ref], 1e-12)

    entry(f"{M}:BoundConstants.coefficients", lambda **kw: _constants().coefficients(**kw),
          {"lr_max": 0.5, "convention": "general"}, {"lr_max": "real", "convention": "choice"}, o_coefficients)

    def o_sfo_bound(r, kw):
        s, c = kw["schedule"], kw["constants"]
        assert isinstance(s, Schedule) and isinstance(c, sfo.BoundConstants), "accepted a wrong type"
        conv = choice(kw["convention"], ("general", "small_step"))
        lrs, bs = s.step_arrays()
        L, sig, gap = c.smoothness, c.gradient_variance, c.initial_gap
        s1 = s2 = 0.0
        top = 0.0
        ref = []
        for lr, b in zip(lrs.tolist(), bs.tolist()):
            top = max(top, lr)
            s1 += lr
            s2 += lr * lr / b
            if conv == "general":
                a_, b_ = 2 * gap / (2 - L * top), L * sig / (2 - L * top)
            else:
                a_, b_ = 2 * gap, L * sig
            ref.append(math.inf if s1 == 0 else a_ / s1 + b_ * s2 / s1)
        r = np.asarray(r)
        assert not np.any(np.isnan(r)), "NaN in the bound"
        close(r, ref, 1e-10, "sfo_bound")

    entry(f"{M}:sfo_bound", sfo.sfo_bound, lambda: {"schedule": S, "constants": _constants(), "convention": "general"},
          {"schedule": "schedule", "constants": "constants", "convention": "choice"}, o_sfo_bound)

    def k_exact(kw):
        c = _constants()
        conv = choice(kw["convention"], ("general", "small_step"))
        st_ = choice(kw["stationarity"], ("norm", "squared"))
        lr = real(kw["lr"])
        a, bb = coeffs_ref(c, lr, conv)
        eps = Fraction(real(kw["epsilon"]))
        assert eps > 0
        tau = eps * eps if st_ == "norm" else eps
        return a / Fraction(lr), bb * Fraction(lr), tau

    def k_of(c1, c2, tau, b):
        b = Fraction(b)
        return c1 * b / (tau * b - c2) if tau * b > c2 else math.inf

    def as_float_or_raise(x):
        if x == math.inf:
            return math.inf
        assert x <= Fraction(FLOAT_MAX), "exact value beyond float64 returned instead of an error"
        return float(x)

    def batch_values(kw):
        b = vector(kw["batch"])
        assert np.all(b > 0), f"accepted non-positive batch {b!r}"
        return b

    def compare_k(r, kw, times_b: bool, what: str):
        """Exact reference, with a tolerance from the conditioning of ``τb − C₂`` (the function rounds
        ``τ``, ``C₁``, ``C₂`` to float64: relative error ≈ 2⁻⁵²·(τb + C₂)/|τb − C₂|); within that
        distance of the feasibility threshold either answer (finite or inf) is right."""
        c1, c2, tau = k_exact(kw)
        b = batch_values(kw)
        got = np.asarray(r, dtype=np.float64)
        assert got.shape == b.shape and not np.any(np.isnan(got)), f"{what} {got!r}"
        for g, x in zip(got.ravel().tolist(), b.ravel().tolist()):
            xb = Fraction(x)
            gap, scale = tau * xb - c2, tau * xb + c2
            slack = Fraction(16, 2**52) * scale
            if abs(gap) <= slack:
                continue
            k = k_of(c1, c2, tau, x)
            want = as_float_or_raise(k if k == math.inf or not times_b else k * xb)
            rtol = 1e-9 + float(Fraction(16, 2**52) * scale / abs(gap))
            close(g, want, rtol, what)

    def o_bound_steps(r, kw):
        compare_k(r, kw, False, "bound_steps")

    kw_bound = {"lr": 0.5, "batch": [1.0, 100.0, 1000.0], "epsilon": 0.1, "convention": "general",
                "stationarity": "norm"}
    kinds_bound = {"lr": "real", "batch": "vector", "epsilon": "real", "convention": "choice",
                   "stationarity": "choice"}
    entry(f"{M}:bound_steps", lambda **kw: sfo.bound_steps(_constants(), **kw), kw_bound, kinds_bound,
          o_bound_steps)

    def o_bound_sfo(r, kw):
        compare_k(r, kw, True, "bound_sfo")

    entry(f"{M}:bound_sfo", lambda **kw: sfo.bound_sfo(_constants(), **kw), kw_bound, kinds_bound, o_bound_sfo)

    def o_bound_critical(r, kw):
        c1, c2, tau = k_exact(kw)
        ref = as_float_or_raise(2 * c2 / tau)
        finite(r, nonnegative=True)
        close(r, ref, 1e-12)

    entry(f"{M}:bound_critical_batch", lambda **kw: sfo.bound_critical_batch(_constants(), **kw),
          {k: v for k, v in kw_bound.items() if k != "batch"},
          {k: v for k, v in kinds_bound.items() if k != "batch"}, o_bound_critical)

    def check_hitting(h, problem, lrs_rows, batch_rows, taus, horizon):
        """Rows: per-step rate and batch lists (or constants, repeated up to ``horizon``)."""
        for i in range(len(taus)):
            lrs, bs = lrs_rows[i], batch_rows[i]
            norms = plain_gradient_norms(problem, lrs, bs)
            t = first_hit(norms, taus[i])
            if h.status[i] == "reached":
                assert h.steps[i] == t, f"row {i}: steps {h.steps[i]} != reference {t}"
                ref_samples = math.fsum(float(x) for x in bs[: int(t)])
                close(h.samples[i], ref_samples, 1e-12, "samples")
                finite([h.fractional_steps[i], h.fractional_samples[i]], nonnegative=True)
            else:
                assert h.status[i] in ("unreachable", "diverged", "horizon"), h.status[i]
                assert t == math.inf, f"row {i}: status {h.status[i]} but the reference reaches at {t}"
                assert h.steps[i] == math.inf
            assert not np.isnan(h.max_gradient_variance[i]) or h.status[i] == "diverged"

    def o_steps_to_target(r, kw):
        p = problem_of(kw["problem"])
        lr, b = np.broadcast_arrays(vector(kw["lr"]), vector(kw["batch"]))
        lr, b = lr.ravel(), b.ravel()
        assert np.all(lr > 0) and np.all(b >= 1)
        horizon = min(integer(kw["max_steps"]), 3000)
        taus = np.broadcast_to(vector(kw["target"]), lr.shape)
        assert np.all(taus > 0)
        check_hitting(r, p, [[x] * horizon for x in lr], [[x] * horizon for x in b], list(taus), horizon)

    entry(f"{M}:steps_to_target", sfo.steps_to_target,
          lambda: {"problem": P, "lr": 0.5, "batch": [1.0, 4.0], "target": 1e-2, "max_steps": 500},
          {"problem": "problem", "lr": "vector", "batch": "vector", "target": "vector", "max_steps": "int"},
          o_steps_to_target)

    def o_schedule_to_target(r, kw):
        p = problem_of(kw["problem"])
        items = [kw["schedules"]] if isinstance(kw["schedules"], Schedule) else list(kw["schedules"])
        assert all(isinstance(x, Schedule) for x in items)
        taus = np.broadcast_to(vector(kw["target"]), (len(items),))
        lrs = [x.step_arrays(0, min(len(x), 5000))[0].tolist() for x in items]
        bs = [x.step_arrays(0, min(len(x), 5000))[1].tolist() for x in items]
        check_hitting(r, p, lrs, bs, list(taus), None)

    entry(f"{M}:schedule_to_target", sfo.schedule_to_target,
          lambda: {"problem": P, "schedules": [S, Schedule.constant(0.5, 1, steps=40)], "target": 1e-2},
          {"problem": "problem", "schedules": "schedules", "target": "vector"}, o_schedule_to_target)

    def o_critical_batch(r, kw):
        p = problem_of(kw["problem"])
        b = vector(kw["batches"])
        assert b.ndim == 1 and b.size >= 3 and np.all(np.diff(b) > 0) and b[0] >= 1
        choice(kw["stationarity"], ("norm", "squared"))
        choice(kw["convention"], ("general", "small_step"))
        if not isinstance(kw["variance"], str):
            assert real(kw["variance"]) >= 0
        assert integer(kw["max_steps"]) >= 1 and integer(kw["refine"]) >= 0
        assert real(kw["convex_slack"]) >= 0
        tau = r.target
        close(tau, tau_of(real(kw["epsilon"]), kw["stationarity"]), 1e-15)
        lr = real(kw["lr"])
        horizon = min(integer(kw["max_steps"]), 3000)
        check_hitting(r.hitting, p, [[lr] * horizon for _ in b], [[x] * horizon for x in b], [tau] * b.size, horizon)
        if r.hitting.reached.any():
            assert b[0] <= r.critical_batch <= b[-1]
        else:
            assert math.isnan(r.critical_batch)
        finite(r.bound_critical_batch, nonnegative=True)

    entry(f"{M}:critical_batch", sfo.critical_batch,
          lambda: {"problem": P, "lr": 0.5, "epsilon": 0.1, "batches": [1.0, 2.0, 4.0], "stationarity": "norm",
                   "convention": "general", "variance": "optimum", "max_steps": 400, "convex_slack": 0.0,
                   "refine": 1},
          {"problem": "problem", "lr": "real", "epsilon": "real", "batches": "vector", "stationarity": "choice",
           "convention": "choice", "variance": "choice", "max_steps": "int", "convex_slack": "real",
           "refine": "int"}, o_critical_batch)


# --- theory.complexity.growth ---------------------------------------------------------------
def _register_growth() -> None:
    from ramplab.theory.complexity import growth

    M = "ramplab.theory.complexity.growth"
    exempt(f"{M}:AdaptiveRun {M}:GrowthGrid", "result record, built by AdaptiveRule.run / growth_grid")
    exempt(f"{M}:MAX_STAGES", "constant")

    def exponent_ref(g, d):
        if g <= 1 or d <= g:
            return math.inf
        x = math.log(d) / math.log(g)
        return 2 * x / (x - 1) if x < 2 else 2 * x

    def o_sfo_exponent(r, kw):
        g, d = real(kw["gamma"]), real(kw["delta"])
        assert g > 0 and d > 0
        close(r, exponent_ref(g, d), 1e-12)
        assert r > 0

    entry(f"{M}:sfo_exponent", growth.sfo_exponent, {"gamma": 1.4, "delta": 2.0},
          {"gamma": "real", "delta": "real"}, o_sfo_exponent)

    def o_poly_exponent(r, kw):
        p, q = real(kw["p"]), real(kw["q"])
        assert p > 0 and q >= 0
        ref = math.inf if p <= q else 2 * (p + 1) / min(q + 1, p - q)
        close(r, ref, 1e-12)
        assert r > 0

    entry(f"{M}:polynomial_sfo_exponent", growth.polynomial_sfo_exponent, {"p": 1.0, "q": 0.0},
          {"p": "real", "q": "real"}, o_poly_exponent)

    def stage_runs(lrs, batches, kw):
        """Reference (lr, batch, steps) per stage from the documented rule."""
        lr_cap = None if kw.get("lr_cap") is None else real(kw["lr_cap"])
        b_cap = None if kw.get("batch_cap") is None else real(kw["batch_cap"])
        integer_batch = flag(kw.get("integer_batch", False))
        runs = []
        for lr, b in zip(lrs, batches):
            lr = min(lr, lr_cap) if lr_cap is not None else lr
            b = min(b, b_cap) if b_cap is not None else b
            if integer_batch:
                b = float(max(1, math.floor(b + 0.5)))
            assert lr >= 0 and math.isfinite(lr) and 1 <= b < math.inf, f"stage value {(lr, b)} accepted"
            if kw.get("stage_steps") is not None:
                assert kw.get("stage_epochs") is None
                n = integer(kw["stage_steps"])
            else:
                e, size = real(kw["stage_epochs"]), real(kw["dataset_size"])
                assert e > 0 and size > 0
                n = max(1, math.ceil(e * size / b * (1 - 1e-12)))
            assert n >= 1
            runs.append((lr, b, n))
        return runs

    def o_stage_schedule(r, kw):
        lrs = [real(x) for x in kw["lrs"]]
        bs = [real(x) for x in kw["batches"]]
        assert lrs and len(lrs) == len(bs) and all(x > 0 for x in lrs) and all(x >= 1 for x in bs)
        assert isinstance(kw["label"], str) and isinstance(kw["metadata"], (dict, type(None)))
        same_segments(r, stage_runs(lrs, bs, kw))

    stage_valid = {"lrs": [0.1, 0.2], "batches": [4.0, 8.0], "stage_steps": 2, "stage_epochs": None,
                   "dataset_size": None, "lr_cap": None, "batch_cap": None, "integer_batch": False, "label": "",
                   "metadata": None}
    entry(f"{M}:stage_schedule", growth.stage_schedule, stage_valid,
          {"lrs": "sequence", "batches": "sequence", "stage_steps": "int", "lr_cap": "real", "batch_cap": "real",
           "integer_batch": "flag", "label": "label", "metadata": "mapping"}, o_stage_schedule)
    entry(f"{M}:stage_schedule[epochs]", growth.stage_schedule,
          dict(stage_valid, stage_steps=None, stage_epochs=1.0, dataset_size=64.0),
          {"stage_epochs": "real", "dataset_size": "real"}, o_stage_schedule)

    def pow_or_inf(base: float, m: int) -> float:
        try:
            return base**m
        except OverflowError:
            return math.inf

    def o_exponential(r, kw):
        lr0, b0, g, d = real(kw["lr0"]), real(kw["batch0"]), real(kw["gamma"]), real(kw["delta"])
        stages = integer(kw["stages"])
        assert lr0 > 0 and b0 >= 1 and g > 0 and d > 0 and stages >= 1
        lrs = [lr0 * pow_or_inf(g, m) for m in range(stages)]
        bs = [b0 * pow_or_inf(d, m) for m in range(stages)]
        same_segments(r, stage_runs(lrs, bs, kw))

    exp_valid = {"lr0": 0.1, "batch0": 8.0, "gamma": 1.4, "delta": 2.0, "stages": 3, "stage_steps": 2,
                 "integer_batch": True}
    exp_kinds = {"lr0": "real", "batch0": "real", "gamma": "real", "delta": "real", "stages": "int",
                 "stage_steps": "int", "integer_batch": "flag"}
    entry(f"{M}:exponential_growth", growth.exponential_growth, exp_valid, exp_kinds, o_exponential)

    def o_polynomial(r, kw):
        lr0, b0, p, q = real(kw["lr0"]), real(kw["batch0"]), real(kw["p"]), real(kw["q"])
        stages = integer(kw["stages"])
        assert lr0 > 0 and b0 >= 1 and p >= 0 and q >= 0 and stages >= 1
        lrs = [lr0 * pow_or_inf(float(m + 1), q) if True else 0 for m in range(stages)]
        bs = [b0 * pow_or_inf(float(m + 1), p) for m in range(stages)]
        same_segments(r, stage_runs(lrs, bs, kw))

    entry(f"{M}:polynomial_growth", growth.polynomial_growth,
          {"lr0": 0.1, "batch0": 2.0, "p": 1.0, "q": 0.0, "stages": 3, "stage_steps": 1, "integer_batch": False},
          {"lr0": "real", "batch0": "real", "p": "real", "q": "real", "stages": "int", "stage_steps": "int",
           "integer_batch": "flag"}, o_polynomial)

    rule_valid = {"lr0": 0.1, "batch0": 8.0, "gamma": 1.4, "delta": 2.0, "epsilon0": 0.5, "check_every": 10,
                  "batch_cap": 4096.0, "lr_cap": None, "integer_batch": False, "freeze_at_cap": True}

    def o_rule(r, kw):
        for k in ("lr0", "gamma", "epsilon0"):
            assert real(kw[k]) > 0
        assert real(kw["batch0"]) >= 1 and real(kw["delta"]) >= 1 and integer(kw["check_every"]) >= 1
        for k in ("batch_cap", "lr_cap"):
            if kw[k] is not None:
                assert real(kw[k]) > 0
        if kw["batch_cap"] is not None:  # the rule only grows the batch; integer batches need an integer in range
            assert real(kw["batch_cap"]) >= real(kw["batch0"])
            if flag(kw["integer_batch"]):
                assert math.floor(real(kw["batch_cap"])) >= math.ceil(real(kw["batch0"]))
        flag(kw["integer_batch"])
        assert r.freeze_at_cap == flag(kw["freeze_at_cap"])
        assert r.lr0 == real(kw["lr0"]) and r.check_every == integer(kw["check_every"])

    entry(f"{M}:AdaptiveRule", growth.AdaptiveRule, rule_valid,
          {"lr0": "real", "batch0": "real", "gamma": "real", "delta": "real", "epsilon0": "real",
           "check_every": "int", "batch_cap": "real", "lr_cap": "real", "integer_batch": "flag",
           "freeze_at_cap": "flag"}, o_rule)

    def rule_values(stage):
        m = integer(stage)
        assert m >= 0
        lr = 0.1 * pow_or_inf(1.4, m)
        b = min(8.0 * pow_or_inf(2.0, m), 4096.0)
        assert math.isfinite(lr), "accepted a stage whose rate overflows"
        return lr, b

    def o_stage_values(r, kw):
        close(r, rule_values(kw["stage"]), 1e-12)
        finite(r, nonnegative=True)

    RULE = growth.AdaptiveRule(check_every=10)
    entry(f"{M}:AdaptiveRule.stage_values", RULE.stage_values, {"stage": 3}, {"stage": "int"}, o_stage_values)

    def o_threshold(r, kw):
        m = integer(kw["stage"])
        assert m >= 0
        b = min(8.0 * pow_or_inf(2.0, m), 4096.0)  # the batch only: ε_m does not depend on the rate
        close(r, 0.5 * math.sqrt(8.0 / b), 1e-12)

    entry(f"{M}:AdaptiveRule.threshold", RULE.threshold, {"stage": 3}, {"stage": "int"}, o_threshold)

    def o_next_stage(r, kw):
        m = integer(kw["stage"])
        assert m >= 0
        b = min(8.0 * pow_or_inf(2.0, m), 4096.0)  # the batch only: neither ε_m nor the freeze needs the rate
        g = real(kw["gradient_norm"])
        assert g >= 0
        assert r == (m + 1 if g <= 0.5 * math.sqrt(8.0 / b) and b < 4096.0 else m)  # released: frozen at b_max

    def o_frozen(r, kw):
        m = integer(kw["stage"])
        assert m >= 0
        assert r is (min(8.0 * pow_or_inf(2.0, m), 4096.0) >= 4096.0)  # the batch only, as for the threshold

    entry(f"{M}:AdaptiveRule.frozen", RULE.frozen, {"stage": 9}, {"stage": "int"}, o_frozen)
    entry(f"{M}:AdaptiveRule.next_stage", RULE.next_stage, {"stage": 0, "gradient_norm": 0.4},
          {"stage": "int", "gradient_norm": "real"}, o_next_stage)

    def o_run(r, kw):
        p = problem_of(kw["problem"])
        steps = integer(kw["steps"])
        rule = growth.AdaptiveRule(lr0=0.2, batch0=2, epsilon0=1.0, check_every=5)
        lam = [float(x) for x in p.eigenvalues]
        stage, lrs, bs = 0, [], []
        s = [float(x) for x in p.initial_second_moment]
        for t in range(steps):
            lr, b = rule.stage_values(stage)
            lrs.append(lr)
            bs.append(b)
            q = sum(l * x for l, x in zip(lam, s))
            s = [(1 - lr * l) ** 2 * x + lr * lr / b * ((p.kurtosis - 2) * l * l * x + l * (q + p.noise_variance))
                 for l, x in zip(lam, s)]
            if (t + 1) % 5 == 0:
                stage = rule.next_stage(stage, math.sqrt(sum(l * l * x for l, x in zip(lam, s))))
        lr_got, b_got = r.schedule.step_arrays()
        close(lr_got, lrs, 1e-12, "lr")
        close(b_got, bs, 1e-12, "batch")
        finite(r.risk, nonnegative=True)

    entry(f"{M}:AdaptiveRule.run",
          lambda **kw: growth.AdaptiveRule(lr0=0.2, batch0=2, epsilon0=1.0, check_every=5).run(**kw),
          lambda: {"problem": P, "steps": 40}, {"problem": "problem", "steps": "int"}, o_run, (DivergenceError,))

    def o_grid(r, kw):
        problem_of(kw["problem"])
        g, d, e = vector(kw["gammas"]), vector(kw["deltas"]), vector(kw["epsilons"])
        assert g.ndim == d.ndim == e.ndim == 1 and g.size and d.size and e.size
        assert np.all(g > 0) and np.all(d > 0) and np.all(e > 0)
        assert real(kw["lr0"]) > 0 and real(kw["batch0"]) >= 1 and integer(kw["stages"]) >= 1
        assert integer(kw["stage_steps"]) >= 1
        assert r.sfo.shape == (g.size, d.size, e.size)
        close(r.predicted, [[exponent_ref(a, b) for b in d] for a in g], 1e-12, "predicted")
        assert not np.any(np.isnan(r.sfo)) and np.all(r.sfo >= 0)

    entry(f"{M}:growth_grid", growth.growth_grid,
          lambda: {"problem": P, "gammas": [1.2], "deltas": [1.44, 2.0], "epsilons": [0.3, 0.15], "lr0": 0.1,
                   "batch0": 1.0, "stage_steps": 5, "stages": 8, "lr_cap": None, "batch_cap": None},
          {"problem": "problem", "gammas": "vector", "deltas": "vector", "epsilons": "vector", "lr0": "real",
           "batch0": "real", "stage_steps": "int", "stages": "int", "lr_cap": "real", "batch_cap": "real"}, o_grid)


# --- theory.complexity.growth_exponents ----------------------------------------------------
def _register_growth_exponents() -> None:
    from ramplab.theory.complexity import growth_exponents as ge

    M = "ramplab.theory.complexity.growth_exponents"
    exempt(f"{M}:GrowthExponent", "result record, built by measure_growth_exponent")
    exempt(f"{M}:TARGETS {M}:TERMS", "constant")

    def o_term(r, kw):
        term = choice(kw["term"], ("bias", "variance"))
        g, d, p = real(kw["gamma"]), real(kw["delta"]), real(kw["bias_decay"])
        assert g > 0 and d > 0 and p > 0
        if term == "variance":
            ref = math.inf if d <= g else 2 * math.log(d) / (math.log(d) - math.log(g))
        else:
            ref = math.inf if g <= 1 or d <= 1 else 2 * math.log(d) / (p * math.log(g))
        close(r, ref, 1e-9)
        assert r > 0

    entry(f"{M}:term_exponent", ge.term_exponent, {"term": "variance", "gamma": 1.2, "delta": 1.3, "bias_decay": 1.0},
          {"term": "choice", "gamma": "real", "delta": "real", "bias_decay": "real"}, o_term)

    cell_valid = {"problem": P, "gamma": 1.2, "delta": 1.5, "epsilons": [0.5, 0.3, 0.2], "target": "gradient_norm",
                  "lr0": 0.01, "batch0": 1.0, "stage_steps": 10, "max_stages": 20, "lr_cap": None}

    def o_cell(r, kw):
        problem_of(kw["problem"])
        for k in ("gamma", "delta", "lr0"):
            assert real(kw[k]) > 0
        assert real(kw["batch0"]) >= 1 and integer(kw["stage_steps"]) >= 1 and 1 <= integer(kw["max_stages"])
        e = vector(kw["epsilons"])
        assert e.ndim == 1 and e.size >= 3 and np.all(np.diff(e) < 0) and np.all(e > 0)
        choice(kw["target"], ge.TARGETS)
        if kw["lr_cap"] is not None:
            assert real(kw["lr_cap"]) > 0
        res = ge.measure_growth_exponent(r)
        assert res.sfo.shape == e.shape and not np.any(np.isnan(res.sfo))
        assert res.dominant in ("bias", "variance", "mixed", "none", "diverged")

    entry(f"{M}:GrowthCell", ge.GrowthCell, lambda: dict(cell_valid),
          {"problem": "problem", "gamma": "real", "delta": "real", "epsilons": "vector", "target": "choice",
           "lr0": "real", "batch0": "real", "stage_steps": "int", "max_stages": "int", "lr_cap": "real"}, o_cell)

    def o_measure(r, kw):
        assert isinstance(kw["cell"], ge.GrowthCell)

    entry(f"{M}:measure_growth_exponent", ge.measure_growth_exponent,
          lambda: {"cell": ge.GrowthCell(**cell_valid)}, {"cell": "problem"}, o_measure)


# --- theory.schedules.families -------------------------------------------------------------
def _register_families() -> None:
    from ramplab.theory.schedules import families

    M = "ramplab.theory.schedules.families"
    exempt(f"{M}:RELEASED_ALPHA_BETA", "constant")

    def o_invariant(r, kw):
        a, b = real(kw["alpha"]), real(kw["beta"])
        assert a > 0 and b > 0
        opt = choice(kw["optimizer"], ("sgd", "nsgd"))
        ref = Fraction(a) * Fraction(b) if opt == "sgd" else None
        ref = float(ref) if ref is not None and ref <= Fraction(FLOAT_MAX) else (
            a * math.sqrt(b) if opt == "nsgd" else math.inf)
        finite(r, nonnegative=True)
        close(r, ref, 1e-14)
        assert r > 0

    entry(f"{M}:family_invariant", families.family_invariant, {"alpha": 2.0, "beta": 1.0, "optimizer": "sgd"},
          {"alpha": "real", "beta": "real", "optimizer": "choice"}, o_invariant)

    def member_ref(c, beta, p, opt):
        c = real(c)
        assert c > 0
        if p is not None:
            p = real(p)
            b = math.exp(p * math.log(c))
            a = math.exp(((1 - p) if opt == "sgd" else (1 - p / 2)) * math.log(c))
        else:
            b = real(beta)
            assert b > 0
            a = c / b if opt == "sgd" else c / math.sqrt(b)
        return a, b

    def o_member(r, kw):
        opt = choice(kw["optimizer"], ("sgd", "nsgd"))
        assert (kw["beta"] is None) != (kw["p"] is None)
        ref = member_ref(kw["c"], kw["beta"], kw["p"], opt)
        finite(r, nonnegative=True)
        assert r[0] > 0 and r[1] > 0, f"member {r} not positive"
        close(r, ref, 1e-9)

    entry(f"{M}:family_member", families.family_member, {"c": 2.0, "beta": None, "p": 1.0, "optimizer": "nsgd"},
          {"c": "real", "p": "real", "optimizer": "choice"}, o_member)
    entry(f"{M}:family_member[beta]", families.family_member,
          {"c": 2.0, "beta": 2.0, "p": None, "optimizer": "sgd"}, {"beta": "real"}, o_member)

    def o_members(r, kw):
        opt = choice(kw["optimizer"], ("sgd", "nsgd"))
        if kw["betas"] is not None:
            ref = [member_ref(kw["c"], b, None, opt) for b in vector(kw["betas"])]
        else:
            ref = [member_ref(kw["c"], None, p, opt) for p in vector(kw["ps"])]
        assert len(ref) > 0 and len(r) == len(ref)
        for got, want in zip(r, ref):
            finite(got, nonnegative=True)
            assert got[0] > 0 and got[1] > 0
            close(got, want, 1e-9)

    entry(f"{M}:family_members", families.family_members,
          {"c": 4.0, "betas": [1.0, 2.0, 4.0], "ps": None, "optimizer": "sgd"},
          {"c": "real", "betas": "vector", "optimizer": "choice"}, o_members)
    entry(f"{M}:family_members[ps]", families.family_members,
          {"c": 2.0, "betas": None, "ps": [0.0, 1.0, 2.0], "optimizer": "nsgd"}, {"ps": "vector"}, o_members)

    def o_ramp(r, kw):
        a, b = real(kw["alpha"]), real(kw["beta"])
        assert a > 0 and b > 0
        assert isinstance(r, bool) and r == (a * (1 + 1e-12) >= math.sqrt(b))

    entry(f"{M}:satisfies_ramp_bound", families.satisfies_ramp_bound, {"alpha": 2.0, "beta": 1.0},
          {"alpha": "real", "beta": "real"}, o_ramp)

    def o_phase(r, kw):
        lr0, b0, a, beta = (real(kw[k]) for k in ("lr0", "batch0", "alpha", "beta"))
        assert lr0 > 0 and b0 > 0 and a > 0 and beta > 0
        samples = [real(x) for x in kw["phase_samples"]]
        assert samples and all(x > 0 for x in samples)
        integer_batch = flag(kw["integer_batch"])
        assert isinstance(kw["label"], str)
        runs = []
        for k, d in enumerate(samples):
            lr = float(Fraction(lr0) / Fraction(a) ** k) if a != 1 else lr0
            b = float(Fraction(b0) * Fraction(beta) ** k)
            assert 1 <= b and math.isfinite(b)
            if integer_batch:
                assert b == int(b) and d == int(d) and b <= 2**53
                full, rest = divmod(int(d), int(b))
                if full:
                    runs.append((lr, b, full))
                if rest:
                    runs.append((lr, float(rest), 1))
            else:
                assert d >= 1
                n = max(1, min(round(d / b), math.floor(d)))
                runs.append((lr, d / n, n))
        same_segments(r, runs, 1e-12)

    entry(f"{M}:phase_schedule", families.phase_schedule,
          {"lr0": 1.0, "batch0": 4.0, "alpha": 2.0, "beta": 2.0, "phase_samples": [16.0, 16.0],
           "integer_batch": False, "label": ""},
          {"lr0": "real", "batch0": "real", "alpha": "real", "beta": "real", "phase_samples": "vector",
           "integer_batch": "flag", "label": "label"}, o_phase)


# --- theory.schedules.released -------------------------------------------------------------
def _register_released() -> None:
    from ramplab.theory.schedules import released

    M = "ramplab.theory.schedules.released"
    exempt(f"{M}:RELEASED_MODELS {M}:RELEASED_SEQ_LEN", "constant")
    exempt(f"{M}:ReleasedRun", "result record, built by released_seesaw_run (its methods are driven)")

    def milestones_ref(total, r, w, floor):
        warm = w * total
        k_max = int(math.log(floor) / math.log(r))
        assert k_max <= 10**6, "accepted a milestone count beyond any plausible run"
        out = []
        for k in range(1, k_max + 1):
            c = min(1.0, max(-1.0, 2.0 * (r**k - floor) / (1.0 - floor) - 1.0))
            out.append(warm + round((total - warm) * math.acos(c) / math.pi))
        return out

    def o_milestones(r, kw):
        total = real(kw["total_tokens"])
        assert total >= 1 and total == int(total)
        rr, w, f = real(kw["milestone_factor"]), real(kw["warmup_fraction"]), real(kw["alpha_f"])
        assert 0 < rr < 1 and 0 <= w < 1 and 0 < f < 1
        ref = milestones_ref(int(kw["total_tokens"]) if isinstance(kw["total_tokens"], int) else int(total), rr, w, f)
        finite(r, nonnegative=True)
        close(r, ref, 1e-15, "milestones")

    entry(f"{M}:released_milestones", released.released_milestones,
          {"total_tokens": 1000, "milestone_factor": 0.5, "warmup_fraction": 0.1, "alpha_f": 0.1},
          {"total_tokens": "real", "milestone_factor": "real", "warmup_fraction": "real", "alpha_f": "real"},
          o_milestones)

    def replay(kw):
        """The released rule, one batch at a time (the module docstring)."""
        total = integer(kw["total_tokens"])
        L, b0 = integer(kw["seq_len"]), integer(kw["initial_batch"])
        bf, lf = real(kw["batch_factor"]), real(kw["lr_factor"])
        assert total >= 1 and L >= 1 and b0 >= 1 and bf >= 1 and lf > 0
        peak, start = real(kw["peak_lr"]), real(kw["warmup_start"])
        assert peak > 0 and 0 <= start <= 1
        mode = choice(kw["lr_mode"], ("auto", "staircase", "cosine"))
        w, f = real(kw["warmup_fraction"]), real(kw["alpha_f"])
        taus = milestones_ref(total, real(kw["milestone_factor"]), w, f)
        if total // (b0 * L) > 200_000:
            return None  # too long to replay one batch at a time here: the caller checks invariants
        tokens, acc, k, level = 0, float(b0), 0, peak
        batches, lrs = [], []
        warm = w * total
        while tokens < total:
            if k < len(taus) and tokens >= taus[k]:
                acc *= bf
                level = max(level * lf, f * peak)
                k += 1
            b = math.floor(acc)
            if b % 32 == 1:
                b = math.ceil(acc)
            if mode == "cosine" or (mode == "auto" and bf == 1 and lf == 1):
                if tokens < warm:
                    lr = peak * (start + (1 - start) * tokens / warm)
                else:
                    x = min(1.0, (tokens - warm) / (total - warm))
                    lr = peak * (f + (1 - f) * 0.5 * (1 + math.cos(math.pi * x)))
            else:
                lr = peak * (start + (1 - start) * tokens / warm) if tokens < warm else level
            batches.append(b)
            lrs.append(lr)
            tokens += b * L
        return batches, lrs

    def o_run(r, kw):
        replayed = replay(kw)
        if replayed is None:
            assert r.tokens >= integer(kw["total_tokens"]) > r.tokens_before[-1]
            assert np.all(np.diff(r.batch) >= 0) and np.all(np.diff(r.tokens_before) > 0)
            finite(r.lr, nonnegative=True)
            return
        batches, lrs = replayed
        assert r.batch.tolist() == batches, "batches differ from the per-batch replay"
        finite(r.lr, nonnegative=True)
        close(r.lr, lrs, 1e-9, "lr")

    run_valid = {"total_tokens": 20000, "seq_len": 4, "initial_batch": 8, "milestone_factor": 1 / 1.1,
                 "batch_factor": 1.1, "lr_factor": 1.1**-0.5, "warmup_fraction": 0.1, "alpha_f": 0.1,
                 "peak_lr": 1.0, "warmup_start": 0.1, "lr_mode": "auto"}
    entry(f"{M}:released_seesaw_run", released.released_seesaw_run, run_valid,
          {k: ("choice" if k == "lr_mode" else "int" if k in ("seq_len", "initial_batch") else
               "tokens" if k == "total_tokens" else "real") for k in run_valid}, o_run)

    def base_run():
        return released.released_seesaw_run(20000, 4, 8, batch_factor=1.0, lr_factor=1.0)

    def o_reduction(r, kw):
        assert isinstance(kw["baseline"], released.ReleasedRun)
        ref = 1 - released.released_seesaw_run(20000, 4, 8).steps / kw["baseline"].steps
        close(r, ref, 1e-15)

    entry(f"{M}:ReleasedRun.reduction_vs",
          lambda **kw: released.released_seesaw_run(20000, 4, 8).reduction_vs(**kw),
          lambda: {"baseline": base_run()}, {"baseline": "any"}, o_reduction)

    def o_as_schedule(r, kw):
        unit = choice(kw["unit"], ("sequences", "tokens"))
        assert isinstance(kw["label"], str)
        run = released.released_seesaw_run(20000, 4, 8)
        lr, b = r.step_arrays()
        close(lr, run.lr, 0, "lr")
        close(b, run.batch * (4 if unit == "tokens" else 1), 0, "batch")

    entry(f"{M}:ReleasedRun.schedule", lambda **kw: released.released_seesaw_run(20000, 4, 8).schedule(**kw),
          {"unit": "sequences", "label": ""}, {"unit": "choice", "label": "label"}, o_as_schedule)

    grid_valid = {"models": (("t", 20000.0),), "seq_len": 4, "main_batches": (8,), "large_batches": (16,)}

    def o_grid(r, kw):
        models = kw["models"]
        assert isinstance(models, (tuple, list)) and models
        for m in models:
            assert isinstance(m, (tuple, list)) and len(m) == 2 and isinstance(m[0], str)
            integer(m[1])
        L = integer(kw["seq_len"])
        main = [integer(b) for b in kw["main_batches"]]
        large = [integer(b) for b in kw["large_batches"]]
        assert L >= 1 and all(b >= 1 for b in main + large)
        assert len(r) == len(models) * (6 * len(main) + len(large))
        for row in r:
            assert row["steps"] >= 1 and row["baseline_steps"] >= 1
            close(row["reduction"], 1 - row["steps"] / row["baseline_steps"], 1e-15)
            assert row["tokens"] >= row["total_tokens"]

    entry(f"{M}:released_grid", released.released_grid, grid_valid,
          {"models": "models", "seq_len": "int", "main_batches": "vector", "large_batches": "vector"}, o_grid)

    ROWS = released.released_grid(**grid_valid)

    def o_table(r, kw):
        rows = kw["rows"]
        assert isinstance(rows, list) and all(isinstance(x, dict) for x in rows)
        assert isinstance(r, str) and len(r.splitlines()) == len(rows) + 1

    entry(f"{M}:format_released_table", released.format_released_table, lambda: {"rows": list(ROWS)},
          {"rows": "rows"}, o_table)


# --- theory.dynamics.equivalence -----------------------------------------------------------
def _register_equivalence() -> None:
    from ramplab.theory.dynamics import equivalence

    M = "ramplab.theory.dynamics.equivalence"
    exempt(f"{M}:EquivalenceReport", "result record, built by equivalence_report (its methods are driven)")

    def ratio_ref(a, b):
        if a == 0 and b == 0:
            return 1.0
        if b == 0 or a == math.inf:
            return math.inf
        if b == math.inf:
            return 0.0
        x = Fraction(a) / Fraction(b)
        return math.inf if x > Fraction(FLOAT_MAX) else float(x)

    def o_ratio(r, kw):
        a, b = np.asarray(kw["numerator"]), np.asarray(kw["denominator"])
        for x in (a, b):
            assert x.dtype.kind in "iuf" or x.dtype.kind == "O" and all(
                isinstance(v, int) and not isinstance(v, bool) for v in x.ravel()), f"accepted {x!r}"
        a, b = np.broadcast_arrays(a.astype(float), b.astype(float))
        assert not np.any(np.isnan(a) | np.isnan(b)) and np.all(a >= 0) and np.all(b >= 0), "accepted bad risks"
        assert not np.any(np.isinf(b)) or True
        ref = np.array([ratio_ref(x, y) if not (math.isinf(x) and math.isinf(y)) else math.inf
                        for x, y in zip(a.ravel(), b.ravel())]).reshape(a.shape)
        assert not np.any(np.isnan(r)) and np.all(np.asarray(r) >= 0)
        close(r, ref, 1e-15)

    entry(f"{M}:risk_ratio", equivalence.risk_ratio, {"numerator": [1.0, 0.0, 2.0], "denominator": [2.0, 0.0, 0.0]},
          {"numerator": "vector", "denominator": "vector"}, o_ratio)

    A = Schedule.constant(0.5, 4, steps=4, label="a")
    B = Schedule.constant(0.25, 2, steps=8, label="b")

    def o_report(r, kw):
        problem_of(kw["problem"])
        items = list(kw["schedules"])
        assert items and all(isinstance(s, Schedule) for s in items)
        choice(kw["optimizer"], ("sgd", "nsgd"))
        start = real(kw["start"])
        assert start >= 0
        finite(r.risk, nonnegative=True)
        finite(r.grid, nonnegative=True)
        assert r.grid.min() >= start and r.grid.max() <= min(s.total_samples for s in items)
        assert np.all(r.max_ratio >= 1) and np.allclose(r.max_ratio, r.max_ratio.T)
        if kw["grid"] is not None and not isinstance(kw["grid"], (int, np.integer)):
            close(r.grid, vector(kw["grid"]), 0)

    entry(f"{M}:equivalence_report", equivalence.equivalence_report,
          lambda: {"problem": P, "schedules": [A, B], "optimizer": "sgd", "grid": None, "start": 0.0},
          {"problem": "problem", "schedules": "schedules", "optimizer": "choice", "grid": "vector",
           "start": "real"}, o_report, (DivergenceError,))

    REP = equivalence.equivalence_report(P, [A, B])

    def o_rep_ratio(r, kw):
        i, j = integer(kw["i"]), integer(kw["j"])
        assert 0 <= i < 2 and 0 <= j < 2, "accepted an index out of range"
        close(r, [ratio_ref(x, y) for x, y in zip(REP.risk[i], REP.risk[j])], 1e-15)

    entry(f"{M}:EquivalenceReport.ratio", REP.ratio, {"i": 0, "j": 1}, {"i": "int", "j": "int"}, o_rep_ratio)

    def o_dominated(r, kw):
        th = real(kw["threshold"])
        assert th >= 0
        ref = [max(m.tolist(), default=0.0) <= th for m in REP.mean_variance_ratio]
        assert r.tolist() == ref

    entry(f"{M}:EquivalenceReport.variance_dominated", REP.variance_dominated, {"threshold": 0.1},
          {"threshold": "real"}, o_dominated)


# --- simulations ----------------------------------------------------------------------------
def _register_simulations() -> None:
    from ramplab.simulations import samplers, streams

    M, N = "ramplab.simulations.samplers", "ramplab.simulations.streams"
    exempt(f"{M}:DATA_KURTOSIS {M}:DIRECT_PIECE_ELEMENTS {M}:SAMPLERS", "constant")
    XP = resolve_backend("numpy")

    def o_piece(r, kw):
        d, b = integer(kw["dimension"]), integer(kw["batch"])
        assert d >= 1 and b >= 1
        assert r == min(b, max(1, 65536 // d))

    entry(f"{M}:direct_piece", samplers.direct_piece, {"dimension": 1000, "batch": 1024},
          {"dimension": "int", "batch": "int"}, o_piece)

    def cov_ref(p, e, batch, kappa):
        lam = [float(x) for x in p.eigenvalues]
        a = [math.sqrt(l) * x for l, x in zip(lam, e)]
        n2 = sum(x * x for x in a)
        d = len(lam)
        out = np.zeros((d, d))
        for i in range(d):
            for j in range(d):
                inner = (n2 + p.noise_variance) * (i == j) + a[i] * a[j] + (kappa - 3) * (i == j) * a[i] ** 2
                out[i, j] = math.sqrt(lam[i]) * inner * math.sqrt(lam[j]) / batch
        return out

    def o_cov(r, kw):
        p = problem_of(kw["problem"])
        e = vector(kw["error"])
        assert e.shape == (p.dimension,)
        b = integer(kw["batch"])
        assert b >= 1
        kappa = p.kurtosis if kw["kurtosis"] is None else real(kw["kurtosis"])
        assert kappa >= 1
        finite(r)
        assert np.all(np.diag(r) >= 0)
        close(r, cov_ref(p, e.tolist(), b, kappa), 1e-12)

    entry(f"{M}:gradient_covariance", samplers.gradient_covariance,
          lambda: {"problem": P, "error": [1.0, -2.0], "batch": 2, "kurtosis": None},
          {"problem": "problem", "error": "vector", "batch": "int", "kurtosis": "real"}, o_cov)

    def o_samples(r, kw):
        p = problem_of(kw["problem"])
        e = vector(kw["error"])
        assert e.shape == (p.dimension,)
        assert integer(kw["batch"]) >= 1
        draws = integer(kw["draws"])
        choice(kw["sampler"], ("gaussian-exact", "direct"))
        choice(kw["data"], ("gaussian", "rademacher", "uniform"))
        assert isinstance(r, np.ndarray) and r.shape == (draws, p.dimension)
        finite(r)

    entry(f"{M}:gradient_samples", samplers.gradient_samples,
          lambda: {"problem": P, "error": [1.0, -2.0], "batch": 4, "draws": 8, "sampler": "gaussian-exact",
                   "data": "gaussian", "seed": 0, "backend": "numpy"},
          {"problem": "problem", "error": "vector", "batch": "int", "draws": "int", "sampler": "choice",
           "data": "choice", "seed": "seed", "backend": "choice"}, o_samples)
    entry(f"{M}:gradient_samples[direct]", samplers.gradient_samples,
          lambda: {"problem": P, "error": [1.0, -2.0], "batch": 4, "draws": 8, "sampler": "direct",
                   "data": "rademacher", "seed": 0, "backend": "numpy"},
          {"batch": "int", "draws": "int", "data": "choice"}, o_samples)

    def kernel_args():
        root = streams.root_seed_sequence(0)
        return {"xp": XP, "streams": streams.block_streams(root, 0, 3, 64, XP, XP.float64),
                "scaled_error": np.ones((3, 2)), "sqrt_eigenvalues": np.array([1.0, 0.5]), "batch": 4,
                "noise_std": 0.1}

    def o_kernel(r, kw):
        assert isinstance(kw["xp"], ModuleType)
        a = real_values(kw["scaled_error"])
        root = real_values(kw["sqrt_eigenvalues"])
        assert a.ndim == 2 and root.shape == (a.shape[1],)
        assert integer(kw["batch"]) >= 1 and real(kw["noise_std"]) >= 0
        assert a.shape[0] == sum(s.used for s in kw["streams"])
        assert np.asarray(r).shape == a.shape
        # A per-step kernel propagates what it is given (Monte Carlo detects divergence): the result
        # must be finite when the inputs are moderate.
        inputs = [a, root, np.array([real(kw["noise_std"])])]
        if "norm_squared" in kw:
            inputs.append(real_values(kw["norm_squared"]))
        if all(np.all(np.abs(x) < 1e100) for x in inputs):  # NaN compares False: NaN in may give NaN out
            finite(r)

    entry(f"{M}:direct_gradient", samplers.direct_gradient, lambda: dict(kernel_args(), data="gaussian"),
          {"xp": "xp", "streams": "streams", "scaled_error": "vector", "sqrt_eigenvalues": "vector",
           "batch": "batch", "noise_std": "real", "data": "choice"}, o_kernel)

    def o_exact_kernel(r, kw):
        n2 = real_values(kw["norm_squared"])
        a = real_values(kw["scaled_error"])
        assert n2.shape == (a.shape[0],)
        if np.allclose(n2, (a * a).sum(axis=1)):  # the kernel's contract: norm_squared = Σ a² (trusted)
            o_kernel(r, kw)

    entry(f"{M}:gaussian_exact_gradient", samplers.gaussian_exact_gradient,
          lambda: dict(kernel_args(), norm_squared=np.full(3, 1.25)),
          {"xp": "xp", "streams": "streams", "scaled_error": "vector", "norm_squared": "vector",
           "sqrt_eigenvalues": "vector", "batch": "batch", "noise_std": "real"}, o_exact_kernel)

    def o_default_block(r, kw):
        assert kw["xp"] is XP or kw["xp"] is np
        assert r == 64

    entry(f"{N}:default_block", streams.default_block, {"xp": XP}, {"xp": "xp"}, o_default_block)

    def o_namespace(r, kw):
        assert isinstance(kw["xp"], ModuleType) and hasattr(kw["xp"], "asarray") and r is kw["xp"]
        assert isinstance(kw["name"], str)

    entry(f"{N}:namespace", streams.namespace, {"xp": XP, "name": "xp"}, {"xp": "xp"}, o_namespace)

    def o_root(r, kw):
        seed = kw["seed"]
        assert isinstance(r, np.random.SeedSequence)
        if isinstance(seed, np.random.SeedSequence):
            assert r is seed
        elif seed is not None:
            if isinstance(seed, (list, tuple)):
                assert seed and all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) and x >= 0
                                    for x in seed)
                assert r.entropy == [int(x) for x in seed]
            else:
                assert isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)) and seed >= 0
                assert r.entropy == int(seed)

    entry(f"{N}:root_seed_sequence", streams.root_seed_sequence, {"seed": 7}, {"seed": "seed"}, o_root)

    def o_block_streams(r, kw):
        first, runs, block = integer(kw["first_run"]), integer(kw["runs"]), integer(kw["block"])
        assert first >= 0 and runs >= 1 and block >= 1 and first % block == 0
        assert isinstance(kw["root"], np.random.SeedSequence)
        assert kw["dtype"] in (XP.float64, XP.float32)
        assert sum(s.used for s in r) == runs and all(s.rows == block for s in r)

    entry(f"{N}:block_streams", streams.block_streams,
          lambda: {"root": streams.root_seed_sequence(3), "first_run": 64, "runs": 7, "block": 64, "xp": XP,
                   "dtype": XP.float64},
          {"root": "seed", "first_run": "int", "runs": "int", "block": "int", "xp": "xp", "dtype": "choice"},
          o_block_streams)

    def o_concat(r, kw):
        parts = kw["parts"]
        assert isinstance(parts, (list, tuple)) and parts and all(isinstance(p, np.ndarray) for p in parts)
        assert np.array_equal(r, np.concatenate(parts, axis=0))

    entry(f"{N}:concat_draws", streams.concat_draws,
          lambda: {"xp": XP, "parts": [np.ones((2, 3)), np.zeros((1, 3))]}, {"xp": "xp", "parts": "streams"}, o_concat)

    def o_stream(r, kw):
        rows, used = integer(kw["rows"]), integer(kw["used"])
        assert 1 <= used <= rows
        assert hasattr(kw["generator"], "normal")

    def gen():
        return streams.block_streams(streams.root_seed_sequence(1), 0, 1, 4, XP, XP.float64)[0].generator

    entry(f"{N}:BlockStream", streams.BlockStream, lambda: {"generator": gen(), "rows": 4, "used": 2},
          {"generator": "any", "rows": "int", "used": "int"}, o_stream)

    def stream():
        return streams.BlockStream(gen(), 4, 2)

    def splat(tail):
        """``tail`` as the method's positional dimensions: a tuple is splatted, anything else is one."""
        return tail if isinstance(tail, tuple) else (tail,)

    def o_draw(kind):
        def check(r, kw):
            tail = tuple(integer(t) for t in splat(kw["tail"]))
            assert all(t >= 0 for t in tail)
            if kind == "gamma":
                k = vector(kw["shape_parameter"])
                assert np.all(k > 0)
            assert np.asarray(r).shape == (2, *tail)
            finite(r, nonnegative=kind in ("gamma", "uniform"))
            if kind == "signs":
                assert np.all(np.abs(r) == 1)
            if kind == "uniform":
                assert np.all(np.asarray(r) < 1)
        return check

    for kind in ("normal", "signs", "uniform"):
        entry(f"{N}:BlockStream.{kind}", lambda tail, k=kind: getattr(stream(), k)(*splat(tail)), {"tail": (3,)},
              {"tail": "sizes"}, o_draw(kind))
    entry(f"{N}:BlockStream.gamma", lambda shape_parameter, tail: stream().gamma(shape_parameter, *splat(tail)),
          {"shape_parameter": np.array([2.0, 1.5]), "tail": (2,)}, {"shape_parameter": "vector", "tail": "sizes"},
          o_draw("gamma"))


# --- proofs ----------------------------------------------------------------------------------
def _register_proofs() -> None:
    import ramplab.proofs as proofs
    derivation = importlib.import_module("ramplab.proofs.derivation")
    growth = importlib.import_module("ramplab.proofs.growth")
    schedule_sums = importlib.import_module("ramplab.proofs.schedule_sums")
    psfo = importlib.import_module("ramplab.proofs.sfo")

    M = "ramplab.proofs"
    exempt(f"{M}:DERIVATIONS", "registry of the zero-argument derivations")
    for name in ("master_bound", "growth_exponential", "growth_polynomial", "nsgd_invariant", "ramp_bound",
                 "serial_step_integrals", "stationary_point", "temperature"):
        where = "sfo" if name == "master_bound" else "growth" if "growth" in name else "equivalence"
        exempt(f"ramplab.proofs.{where}:{name}", "derivation without arguments (nothing to substitute)")
    exempt("ramplab.proofs.sfo:sfo_expressions", "derivation without arguments (nothing to substitute)")
    exempt("ramplab.proofs.sfo:CONVENTIONS ramplab.proofs.sfo:STATIONARITY", "constant")
    exempt(" ".join(f"ramplab.proofs.growth:{n}" for n in ("SFO", "SUM_RATE", "SUM_RATE2_BATCH")), "sympy constant")
    exempt(" ".join(f"ramplab.proofs.schedule_sums:{n}" for n in
                    ("BIAS", "BIAS_LIMIT", "SCHEDULES", "SUM1", "SUM2", "SUM_KIND", "VARIANCE", "VARIANCE_LIMIT")),
           "sympy constant")
    for n in importlib.import_module("ramplab.proofs.symbols").__all__:
        exempt(f"ramplab.proofs.symbols:{n}", "sympy symbol")

    def o_cbs(r, kw):
        vals = [Fraction(real(kw[k])) for k in ("L", "sigma2", "eta", "epsilon")]
        assert all(v > 0 for v in vals)
        L, s2, eta, eps = vals
        conv = choice(kw["convention"], ("general", "small_step"))
        tau = eps * eps if choice(kw["stationarity"], ("norm", "squared")) == "norm" else eps
        if conv == "general":
            assert L * eta < 2
            ref = 2 * (L * s2 / (2 - L * eta)) * eta / tau
        else:
            assert L * eta <= 1
            ref = 2 * L * s2 * eta / tau
        assert ref <= Fraction(FLOAT_MAX), "finite exact value beyond float64 returned"
        finite(r, nonnegative=True)
        close(r, float(ref), 1e-12)

    cbs_valid = {"L": 1.0, "sigma2": 2.0, "eta": 0.5, "epsilon": 0.1, "convention": "general", "stationarity": "norm"}
    entry("ramplab.proofs.sfo:critical_batch_size", proofs.critical_batch_size, cbs_valid,
          {"L": "real", "sigma2": "real", "eta": "real", "epsilon": "real", "convention": "choice",
           "stationarity": "choice"}, o_cbs)

    def o_growth_exp(r, kw):
        g, d = real(kw["gamma"]), real(kw["delta"])
        assert g > 0 and d > 0
        if g <= 1 or d <= g:
            assert r == math.inf
            return
        x = math.log(d) / math.log(g)
        close(r, 2 * x / (x - 1) if x < 2 else 2 * x, 1e-12)

    def o_poly_exp(r, kw):
        p, q = real(kw["p"]), real(kw["q"])
        assert p > 0 and q >= 0
        close(r, math.inf if p <= q else 2 * (p + 1) / min(q + 1, p - q), 1e-12)

    entry("ramplab.proofs.growth:growth_exponent", growth.growth_exponent, {"gamma": 1.4, "delta": 2.0},
          {"gamma": "real", "delta": "real"}, o_growth_exp)
    entry("ramplab.proofs.growth:polynomial_growth_exponent", growth.polynomial_growth_exponent,
          {"p": 1.0, "q": 0.0}, {"p": "real", "q": "real"}, o_poly_exp)

    def o_derivations(r, kw):
        names = list(proofs.DERIVATIONS) if kw["names"] is None else kw["names"]
        assert isinstance(names, (list, tuple)) and all(isinstance(n, str) and n in proofs.DERIVATIONS
                                                        for n in names)
        assert [d.name for d in r] == list(names)

    # names=None is the documented default (every derivation, ~6 s of sympy): tests/proofs covers it.
    entry(f"{M}:derivations", proofs.derivations, lambda: {"names": ["ramp_bound"]}, {"names": "names"}, o_derivations,
          skip={"names": (None,)})

    def o_sums(r, kw):
        assert choice(kw["schedule"], schedule_sums.SCHEDULES)
        assert isinstance(r, derivation.Derivation) and r.verified

    entry("ramplab.proofs.schedule_sums:schedule_sums", schedule_sums.schedule_sums, {"schedule": "constant"},
          {"schedule": "choice"}, o_sums)

    def o_constant(r, kw):
        choice(kw["convention"], ("general", "small_step"))
        choice(kw["stationarity"], ("norm", "squared"))
        assert isinstance(r, derivation.Derivation) and r.verified

    entry("ramplab.proofs.sfo:sfo_constant", psfo.sfo_constant, {"convention": "general", "stationarity": "norm"},
          {"convention": "choice", "stationarity": "choice"}, o_constant)

    def o_bound_constants(r, kw):
        conv = choice(kw["convention"], ("general", "small_step"))
        e = kw["eta_max"]
        assert isinstance(e, (sp.Basic, int, float, np.integer, np.floating)) and not isinstance(e, bool)
        ex = sp.sympify(e)
        assert ex.is_finite is not False and ex.is_extended_real is not False and not ex.has(sp.nan)
        assert len(r) == 2

    entry("ramplab.proofs.sfo:bound_constants", psfo.bound_constants, {"convention": "general", "eta_max": sp.Symbol("eta", positive=True)},
          {"convention": "choice", "eta_max": "sympy"}, o_bound_constants)

    def o_target(r, kw):
        choice(kw["stationarity"], ("norm", "squared"))
        e = kw["eps"]
        assert isinstance(e, (sp.Basic, int, float, np.integer, np.floating)) and not isinstance(e, bool)
        ex = sp.sympify(e)
        assert ex.is_extended_real is not False and not ex.has(sp.nan, sp.zoo)
        if ex.is_number:
            assert ex.is_positive and ex.is_finite
        assert not sp.sympify(r).has(sp.nan, sp.zoo)

    entry("ramplab.proofs.sfo:target", psfo.target, {"stationarity": "norm", "eps": sp.Symbol("epsilon", positive=True)},
          {"stationarity": "choice", "eps": "sympy"}, o_target)

    D = "ramplab.proofs.derivation"
    x = sp.Symbol("x", positive=True)

    def expr_ok(e):
        assert not isinstance(e, (str, bytes, bool, np.bool_)), f"accepted {e!r} for an expression"
        return sp.sympify(e.item() if isinstance(e, np.generic) else e)

    def o_check(kind):
        def check(r, kw):
            assert isinstance(kw["description"], str)
            assert kw.get("simplify") is None or callable(kw["simplify"])
            ex = expr_ok(kw["expr"])
            assert isinstance(r, derivation.Check) and r.kind == kind and isinstance(r.passed, bool)
            if ex.has(sp.nan, sp.zoo) or ex.is_number and not ex.is_finite:
                assert not r.passed, "a check on nan/zoo/oo passed"
        return check

    for kind, fn in (("zero", derivation.check_zero), ("positive", derivation.check_positive),
                     ("negative", derivation.check_negative), ("nonnegative", derivation.check_nonnegative)):
        entry(f"{D}:check_{kind}", fn, {"description": "d", "expr": x, "simplify": None},
              {"description": "label", "expr": "sympy", "simplify": "callable"}, o_check(kind))

    def o_equal(r, kw):
        assert isinstance(kw["description"], str)
        expr_ok(kw["lhs"]), expr_ok(kw["rhs"])
        assert isinstance(r, derivation.Check) and isinstance(r.passed, bool)

    entry(f"{D}:check_equal", derivation.check_equal, {"description": "d", "lhs": x, "rhs": x, "simplify": None},
          {"description": "label", "lhs": "sympy", "rhs": "sympy", "simplify": "callable"}, o_equal)

    def o_limit(r, kw):
        assert isinstance(kw["description"], str) and isinstance(kw["var"], sp.Symbol)
        assert kw["direction"] in ("+", "-", "+-")
        expr_ok(kw["expr"]), expr_ok(kw["point"]), expr_ok(kw["expected"])
        assert isinstance(r, derivation.Check) and isinstance(r.passed, bool)

    entry(f"{D}:check_limit", derivation.check_limit,
          {"description": "d", "expr": 1 / x, "var": x, "point": sp.oo, "expected": 0, "direction": "+"},
          {"description": "label", "expr": "sympy", "var": "sympy", "point": "sympy", "expected": "sympy",
           "direction": "choice"}, o_limit)

    def o_true(r, kw):
        assert isinstance(kw["description"], str)
        rel = kw["relation"]
        rel = (sp.true if rel else sp.false) if isinstance(rel, bool) else expr_ok(rel)
        assert isinstance(r, derivation.Check) and r.passed == (rel is sp.true)

    entry(f"{D}:check_true", derivation.check_true, {"description": "d", "relation": sp.sqrt(2) < 2},
          {"description": "label", "relation": "sympy"}, o_true)

    def o_equation(r, kw):
        assert isinstance(kw["name"], (str, sp.Basic))
        expr_ok(kw["rhs"])
        assert isinstance(r, sp.Eq)

    entry(f"{D}:equation", derivation.equation, {"name": "f", "rhs": x**2}, {"name": "label", "rhs": "sympy"},
          o_equation)

    def o_check_ctor(r, kw):
        assert isinstance(kw["description"], str) and kw["kind"] in derivation.KINDS
        assert isinstance(kw["passed"], (bool, np.bool_))
        expr_ok(kw["expression"])

    entry(f"{D}:Check", derivation.Check, {"description": "d", "kind": "zero", "expression": sp.Integer(0),
                                            "passed": True},
          {"description": "label", "kind": "choice", "expression": "sympy", "passed": "flag"}, o_check_ctor)

    CHK = derivation.check_positive("x > 0", x)

    def o_derivation(r, kw):
        for k in ("name", "title", "statement", "source"):
            assert isinstance(kw[k], str), f"accepted {k}={kw[k]!r}"
        assert isinstance(kw["assumptions"], (tuple, list)) and all(isinstance(a, str) for a in kw["assumptions"])
        assert all(isinstance(c, derivation.Check) for c in kw["checks"]) and len(kw["checks"]) >= 1
        assert all(isinstance(e, sp.Eq) for e in kw["results"])

    entry(f"{D}:Derivation", derivation.Derivation,
          lambda: {"name": "demo", "title": "t", "statement": "s", "assumptions": ("x > 0",),
                   "results": (derivation.equation("f", x**2),), "checks": (CHK,), "source": ""},
          {"name": "label", "title": "label", "statement": "label", "assumptions": "sequence", "results": "sequence",
           "checks": "sequence", "source": "label"}, o_derivation)

    DEMO = derivation.Derivation("demo", "t", "s", (), (derivation.equation("f", x**2),), (CHK,))

    def o_result(r, kw):
        assert kw["name"] == "f" or kw["name"] == sp.Symbol("f")
        assert r == x**2

    entry(f"{D}:Derivation.result", DEMO.result, {"name": "f"}, {"name": "label"}, o_result)


# --- theory.schedules.schedule / lr_shapes / seesaw / serial_steps ---------------------------
def _steps_of(lr, batch, integer_batch):
    """Per-step float64 ``(lr, batch)`` a valid ``Schedule(lr, batch)`` must store (broadcast scalars)."""
    lr_v, b_v = vector(lr), vector(batch)
    if lr_v.ndim == 0 and b_v.ndim == 1:
        lr_v = np.full(b_v.shape, float(lr_v))
    if b_v.ndim == 0 and lr_v.ndim == 1:
        b_v = np.full(lr_v.shape, float(b_v))
    assert lr_v.ndim == 1 and lr_v.shape == b_v.shape and lr_v.size, f"accepted shapes {lr_v.shape}, {b_v.shape}"
    assert np.all(lr_v >= 0) and np.all(b_v >= 1) and np.all(b_v <= 2.0**53), "accepted lr < 0 or batch < 1"
    if integer_batch:
        assert np.all(b_v == np.floor(b_v)), "accepted a non-integer batch"
    return lr_v, b_v


def _same_steps(s: Schedule, lr_v: np.ndarray, b_v: np.ndarray) -> None:
    seg = s.segments
    close(np.repeat(seg.lr.astype(float), seg.steps), lr_v, 0.0, "lr")
    close(np.repeat(seg.batch.astype(float), seg.steps), b_v, 0.0, "batch")
    close(s.samples_at(np.arange(len(lr_v) + 1)), np.concatenate([[0.0], np.cumsum(b_v)]), 1e-12, "samples")


def _label_meta(kw) -> None:
    assert isinstance(kw.get("label", ""), str), f"accepted label {kw.get('label')!r}"
    m = kw.get("metadata")
    assert m is None or isinstance(m, Mapping), f"accepted metadata {m!r}"


def _register_schedules() -> None:
    from ramplab.theory.schedules import lr_shapes, schedule, seesaw, serial_steps

    M = "ramplab.theory.schedules.schedule"
    exempt(f"{M}:MAX_STEP_ARRAY", "constant")
    exempt(f"{M}:Segments", "result record (a NamedTuple of arrays), returned by Schedule.segments")

    def o_schedule_list(r, kw):
        given = kw["schedules"]
        want = [given] if isinstance(given, Schedule) else list(given)
        assert isinstance(r, list) and len(r) == len(want) and all(x is y for x, y in zip(r, want))

    entry(f"{M}:schedule_list", schedule.schedule_list, {"schedules": [S, S]}, {"schedules": "schedules"},
          o_schedule_list)

    def o_schedule(r, kw):
        ib = flag(kw["integer_batch"])
        _label_meta(kw)
        _same_steps(r, *_steps_of(kw["lr"], kw["batch"], ib))

    entry(f"{M}:Schedule", Schedule,
          {"lr": [0.1, 0.1, 0.05], "batch": [2, 2, 4], "label": "x", "metadata": None, "integer_batch": True},
          {"lr": "vector", "batch": "vector", "label": "label", "metadata": "mapping", "integer_batch": "flag"},
          o_schedule)

    def o_from_segments(r, kw):
        ib = flag(kw["integer_batch"])
        _label_meta(kw)
        n = vector(kw["steps"])
        assert n.ndim == 1 and np.all(n >= 1) and np.all(n == np.floor(n)), f"accepted steps {kw['steps']!r}"
        lr_v, b_v = vector(kw["lr"]), vector(kw["batch"])
        assert lr_v.shape == b_v.shape == n.shape, "accepted mismatched shapes"
        _same_steps(r, *_steps_of(np.repeat(lr_v, n.astype(int)), np.repeat(b_v, n.astype(int)), ib))

    entry(f"{M}:Schedule.from_segments", Schedule.from_segments,
          {"lr": [0.1, 0.05], "batch": [2, 4], "steps": [2, 3], "label": "", "metadata": None, "integer_batch": True},
          {"lr": "vector", "batch": "vector", "steps": "vector", "label": "label", "metadata": "mapping",
           "integer_batch": "flag"}, o_from_segments)

    def o_constant(r, kw):
        ib = flag(kw["integer_batch"])
        lr, b = real(kw["lr"]), real(kw["batch"])
        assert lr >= 0 and b >= 1 and (not ib or b == int(b))
        _label_meta(kw)
        if kw["samples"] is None:
            n = integer(kw["steps"])
            assert n >= 1
            seg = r.segments
            assert len(seg.lr) == 1 and int(seg.steps[0]) == n and float(seg.lr[0]) == lr and float(seg.batch[0]) == b
        else:
            assert kw["steps"] is None
            d = real(kw["samples"])
            assert d > 0
            close(float(r.total_samples), d, 1e-12, "total_samples")

    entry(f"{M}:Schedule.constant", Schedule.constant,
          {"lr": 0.1, "batch": 4, "steps": 3, "samples": None, "label": "", "integer_batch": True},
          {"lr": "real", "batch": "real", "steps": "int", "samples": "real", "label": "label",
           "integer_batch": "flag"}, o_constant, skip={"samples": (None,)})
    entry(f"{M}:Schedule.constant[samples]", Schedule.constant,
          {"lr": 0.1, "batch": 4, "steps": None, "samples": 10, "label": "", "integer_batch": True},
          {"samples": "tokens", "integer_batch": "flag"}, o_constant, skip={"samples": (None,)})

    def o_from_phases(r, kw):
        ib = flag(kw["integer_batch"])
        _label_meta(kw)
        lrs, bs = [], []
        for lr, b, d in kw["phases"]:
            lr, b, d = real(lr), real(b), real(d)
            assert lr >= 0 and b >= 1 and d > 0
            if ib:
                assert b == int(b) and d == int(d)
                full, rest = divmod(int(d), int(b))
                lrs += [lr] * (full + (rest > 0))
                bs += [b] * full + ([float(rest)] if rest else [])
            else:
                assert d >= 1
                n = max(1, min(round(d / b), math.floor(d)))
                lrs += [lr] * n
                bs += [d / n] * n
        _same_steps(r, np.array(lrs), np.array(bs))

    entry(f"{M}:Schedule.from_phases", Schedule.from_phases,
          {"phases": [(0.1, 2, 6), (0.05, 4, 9)], "label": "", "metadata": None, "integer_batch": True},
          {"phases": "sequence", "label": "label", "metadata": "mapping", "integer_batch": "flag"}, o_from_phases)

    def o_from_shape(r, kw):
        shape = kw["shape"]
        assert isinstance(shape, lr_shapes.LRShape)
        ib = flag(kw["integer_batch"])
        _label_meta(kw)
        b = real(kw["batch"])
        assert b >= 1 and (not ib or b == int(b))
        close(float(r.total_samples), shape.total_samples, 1e-12, "total_samples")
        lr_v, b_v = r.step_arrays()
        before = np.concatenate([[0.0], np.cumsum(b_v)[:-1]])
        close(lr_v, shape(before), 1e-12, "lr")

    entry(f"{M}:Schedule.from_shape", Schedule.from_shape,
          lambda: {"shape": lr_shapes.Linear(1.0, 8, final=0.0), "batch": 2, "label": "", "integer_batch": True},
          {"shape": "any", "batch": "real", "label": "label", "integer_batch": "flag"}, o_from_shape)

    def o_concatenate(r, kw):
        ss = kw["schedules"]
        assert isinstance(ss, (list, tuple)) and ss and all(isinstance(s, Schedule) for s in ss)
        _label_meta(kw)
        same_segments(r, [run for s in ss for run in schedule_segments(s)])

    entry(f"{M}:Schedule.concatenate", Schedule.concatenate, lambda: {"schedules": [S, S], "label": ""},
          {"schedules": "schedules", "label": "label"}, o_concatenate)

    S3 = Schedule([0.1, 0.1, 0.05], [2, 2, 4])

    def o_step_arrays(r, kw):
        start = integer(kw["start"])
        stop = 3 if kw["stop"] is None else integer(kw["stop"])
        assert 0 <= start <= stop <= 3, f"accepted start={start}, stop={stop}"
        close(r[0], [0.1, 0.1, 0.05][start:stop], 0.0, "lr")
        close(r[1], [2.0, 2.0, 4.0][start:stop], 0.0, "batch")

    entry(f"{M}:Schedule.step_arrays", S3.step_arrays, {"start": 1, "stop": None}, {"start": "int", "stop": "int"},
          o_step_arrays)

    def o_samples_at(r, kw):
        t = vector(kw["steps"])
        assert np.all(t == np.floor(t)) and np.all((t >= 0) & (t <= 3)), f"accepted steps {kw['steps']!r}"
        close(r, np.array([0.0, 2.0, 4.0, 8.0])[t.astype(int)], 0.0, "samples_at")

    entry(f"{M}:Schedule.samples_at", S3.samples_at, {"steps": [0, 2, 3]}, {"steps": "vector"}, o_samples_at)

    def o_with_label(r, kw):
        assert isinstance(kw["label"], str) and r.label == kw["label"]
        _same_steps(r, *S3.step_arrays())

    entry(f"{M}:Schedule.with_label", S3.with_label, {"label": "y"}, {"label": "label"}, o_with_label)



def _same_problem(r: Problem, lam, s0, noise, kurt, mult=None) -> None:
    assert isinstance(r, Problem)
    close(r.eigenvalues, lam, 1e-12, "eigenvalues")
    close(r.initial_second_moment, s0, 1e-12, "initial_second_moment")
    close([r.noise_variance, r.kurtosis], [noise, kurt], 0.0, "noise/kurtosis")
    close(r.multiplicity, np.ones(len(lam)) if mult is None else mult, 0.0, "multiplicity")


def _register_problem() -> None:
    from ramplab.theory.dynamics import problem

    M = "ramplab.theory.dynamics.problem"

    def o_problem(r, kw):
        lam, s0 = vector(kw["eigenvalues"]), vector(kw["initial_second_moment"])
        assert lam.ndim == 1 and lam.size and s0.shape == lam.shape, "accepted wrong shapes"
        assert np.all(lam > 0) and np.all(s0 >= 0), "accepted a non-positive λ or a negative s(0)"
        noise, kurt = real(kw["noise_variance"]), real(kw["kurtosis"])
        assert noise >= 0 and kurt >= 1
        m = kw["multiplicity"]
        if m is not None:
            m = vector(m)
            assert m.shape == lam.shape and np.all(m > 0), f"accepted multiplicity {m!r}"
        _same_problem(r, lam, s0, noise, kurt, m)

    entry(f"{M}:Problem", problem.Problem,
          {"eigenvalues": [1.0, 0.5], "initial_second_moment": [1.0, 2.0], "noise_variance": 0.1, "kurtosis": 3.0,
           "multiplicity": None},
          {"eigenvalues": "vector", "initial_second_moment": "vector", "noise_variance": "real", "kurtosis": "real",
           "multiplicity": "vector"}, o_problem, skip={"multiplicity": (None,)})

    def o_power_law(r, kw):
        d, a, b, scale = integer(kw["d"]), real(kw["a"]), real(kw["b"]), real(kw["scale"])
        assert d >= 1 and a > 0 and scale > 0
        i = np.arange(1, d + 1, dtype=float)
        lam = np.array([scale * float(k) ** -a for k in range(1, d + 1)])
        s0 = np.array([scale * float(k) ** -b for k in range(1, d + 1)]) / lam
        _same_problem(r, lam, s0, real(kw["noise_variance"]), real(kw["kurtosis"]))
        del i

    entry(f"{M}:Problem.power_law", problem.Problem.power_law,
          {"d": 3, "a": 1.5, "b": 2.0, "noise_variance": 0.1, "kurtosis": 3.0, "scale": 1.0},
          {"d": "int", "a": "real", "b": "real", "noise_variance": "real", "kurtosis": "real", "scale": "real"},
          o_power_law, skip={"d": (2**31,)})  # 2**31 coordinates is valid (16 GiB), not hostile

    def o_isotropic(r, kw):
        d, lam, s0 = integer(kw["d"]), real(kw["eigenvalue"]), real(kw["initial_second_moment"])
        assert d >= 1 and lam > 0 and s0 >= 0
        _same_problem(r, np.full(d, lam), np.full(d, s0), real(kw["noise_variance"]), real(kw["kurtosis"]))

    entry(f"{M}:Problem.isotropic", problem.Problem.isotropic,
          {"d": 2, "eigenvalue": 0.5, "initial_second_moment": 2.0, "noise_variance": 0.0, "kurtosis": 3.0},
          {"d": "int", "eigenvalue": "real", "initial_second_moment": "real", "noise_variance": "real",
           "kurtosis": "real"}, o_isotropic, skip={"d": (2**31,)})  # valid, 16 GiB

    def o_from_cov(r, kw):
        cov, e0 = vector(kw["covariance"]), vector(kw["initial_error"])
        assert cov.ndim == 2 and cov.shape[0] == cov.shape[1] and e0.shape == (cov.shape[0],)
        assert np.allclose(cov, cov.T), "accepted a non-symmetric covariance"
        lam_ref = np.sort(np.linalg.eigvalsh(cov))[::-1]
        assert lam_ref[-1] > 0, "accepted a covariance that is not positive definite"
        close(r.eigenvalues, lam_ref, 1e-10, "eigenvalues")
        # Rotation-invariant checks: Σ s_i = |e0|², Σ λ_i s_i = e0ᵀ H e0.
        close(r.initial_second_moment.sum(), e0 @ e0, 1e-10, "Σ s(0)")
        close(r.eigenvalues @ r.initial_second_moment, e0 @ cov @ e0, 1e-10, "Σ λ s(0)")
        assert r.noise_variance == real(kw["noise_variance"]) and r.kurtosis == real(kw["kurtosis"])

    entry(f"{M}:Problem.from_covariance", problem.Problem.from_covariance,
          {"covariance": [[2.0, 1.0], [1.0, 2.0]], "initial_error": [1.0, 0.5], "noise_variance": 0.0,
           "kurtosis": 3.0},
          {"covariance": "vector", "initial_error": "vector", "noise_variance": "real", "kurtosis": "real"},
          o_from_cov)

    def o_replace(r, kw):
        noise = real(kw["noise_variance"])
        assert noise >= 0
        _same_problem(r, P.eigenvalues, P.initial_second_moment, noise, P.kurtosis)

    entry(f"{M}:Problem.replace", P.replace, {"noise_variance": 1.0}, {"noise_variance": "real"}, o_replace)

    PM = Problem([1.0, 0.5], [1.0, 2.0], 0.1, multiplicity=[2.0, 1.0])

    def o_expanded(r, kw):
        _same_problem(r, [1.0, 1.0, 0.5], [1.0, 1.0, 2.0], 0.1, 3.0)

    entry(f"{M}:Problem.expanded", PM.expanded, {}, {}, o_expanded)

    def o_groups(r, kw):
        ss = kw["schedules"]
        assert isinstance(ss, Schedule) or (isinstance(ss, (list, tuple)) and ss
                                            and all(isinstance(s, Schedule) for s in ss))
        tol = kw["rtol"]
        tol = None if tol is None else real(tol)
        assert tol is None or tol >= 0
        g = r.problem
        # Grouping conserves the coordinates counted, the trace and the initial risk.
        close([g.effective_dimension, g.trace, g.initial_risk], [P.effective_dimension, P.trace, P.initial_risk],
              1e-12, "grouped totals")

    entry(f"{M}:Problem.spectral_groups", P.spectral_groups, lambda: {"schedules": S, "rtol": 1e-3},
          {"schedules": "schedules", "rtol": "real"}, o_groups)


def _recursion_matrix(p: Problem, lr: float, b: float) -> np.ndarray:
    """The constant-(η, B) second-moment map ``s ↦ M s`` as a dense matrix, from the plain recursion
    ``s_i' = (1 − ηλ_i)² s_i + (η²/B)((κ − 2)λ_i² s_i + λ_i Σ_j m_j λ_j s_j)``."""
    lam, m = p.eigenvalues.astype(float), p.multiplicity.astype(float)
    k = float(p.kurtosis)
    return (np.diag((1 - lr * lam) ** 2 + lr * lr / b * (k - 2) * lam**2)
            + lr * lr / b * np.outer(lam, m * lam))


def _stable_args(kw) -> tuple[Problem, float, float]:
    p = problem_of(kw["problem"])
    lr, b = real(kw["lr"]), real(kw["batch"])
    assert lr > 0 and b >= 1, f"accepted lr={lr!r}, batch={b!r}"
    assert p.dimension <= 3 or True
    return p, lr, b


def _register_dynamics() -> None:
    from ramplab.theory import backend
    from ramplab.theory.dynamics import averaging, stability

    M = "ramplab.theory.dynamics.stability"
    PS = _problem([1.0, 0.5], [1.0, 0.5], 0.1)

    def radius_ref(p, lr, b):
        with np.errstate(all="ignore"):
            mat = _recursion_matrix(p, lr, b)
        if not np.all(np.isfinite(mat)):
            return math.inf
        return float(np.max(np.abs(np.linalg.eigvals(mat))))

    def o_radius(r, kw):
        p, lr, b = _stable_args(kw)
        ref = radius_ref(p, lr, b)
        assert not math.isnan(r)
        if math.isfinite(ref) and p.dimension <= 3:
            close(r, ref, 1e-8, "spectral_radius")
        else:
            assert r >= 0

    def o_is_stable(r, kw):
        p, lr, b = _stable_args(kw)
        assert isinstance(r, (bool, np.bool_))
        ref = radius_ref(p, lr, b)
        if p.dimension <= 3 and abs(ref - 1) > 1e-9:
            assert bool(r) == (ref < 1), f"is_stable {r} but the radius is {ref}"

    def o_second(r, kw):
        p, lr, b = _stable_args(kw)
        mat = _recursion_matrix(p, lr, b)
        rad = radius_ref(p, lr, b)
        assert rad < 1 + 1e-9, "returned a stationary point of an unstable recursion"
        finite(r, nonnegative=True)
        if rad < 1 - 1e-9:  # else too close to 1 for a float64 solve to be a reference
            rhs = lr * lr / b * p.noise_variance * p.eigenvalues
            close(r, np.linalg.solve(np.eye(p.dimension) - mat, rhs), 1e-8, "stationary_second_moment")

    def o_risk(r, kw):
        p, lr, b = _stable_args(kw)
        mat = _recursion_matrix(p, lr, b)
        rad = radius_ref(p, lr, b)
        assert rad < 1 + 1e-9, "returned a stationary risk of an unstable recursion"
        finite(r, nonnegative=True)
        if rad >= 1 - 1e-9:
            return
        ref = np.linalg.solve(np.eye(p.dimension) - mat, lr * lr / b * p.noise_variance * p.eigenvalues)
        close(r, 0.5 * float(np.sum(p.multiplicity * p.eigenvalues * ref)), 1e-8, "stationary_risk")

    for name, o in (("spectral_radius", o_radius), ("is_stable", o_is_stable),
                    ("stationary_second_moment", o_second), ("stationary_risk", o_risk)):
        entry(f"{M}:{name}", getattr(stability, name), lambda: {"problem": PS, "lr": 0.5, "batch": 2},
              {"problem": "problem", "lr": "real", "batch": "real"}, o)

    A = "ramplab.theory.dynamics.averaging"
    exempt(f"{A}:Averaging", "abstract base class (its weights() raises NotImplementedError)")

    def o_uniform(r, kw):
        assert isinstance(r, averaging.UniformAverage)
        close(r.weights(np.array([1, 2, 4])), [1.0, 0.5, 0.25], 0.0)

    entry(f"{A}:UniformAverage", averaging.UniformAverage, {}, {}, o_uniform)

    def o_tail(r, kw):
        k = integer(kw["start"])
        assert k >= 1
        t = np.arange(1, 6)
        close(r.weights(t), [1.0 if i < k else 1.0 / (i - k + 1) for i in range(1, 6)], 1e-15)

    entry(f"{A}:TailAverage", averaging.TailAverage, {"start": 3}, {"start": "int"}, o_tail)

    def o_exp(r, kw):
        w = kw["weight"]
        if np.ndim(w) == 0:
            w = real(w)
            assert 0 < w <= 1
            close(r.weights(np.array([1, 2])), [w, w], 0.0)
        else:
            w = vector(w)
            assert w.ndim == 1 and w.size and np.all((w > 0) & (w <= 1)), f"accepted weight {w!r}"
            close(r.weights(np.arange(1, w.size + 1)), w, 0.0)

    entry(f"{A}:ExponentialAverage", averaging.ExponentialAverage, {"weight": 0.1}, {"weight": "vector"}, o_exp)

    def o_resolve(r, kw):
        a = kw["average"]
        if a is None:
            assert r is None
        elif isinstance(a, averaging.Averaging):
            assert r is a
        else:
            assert choice(a, ("uniform",)) and isinstance(r, averaging.UniformAverage)

    entry(f"{A}:resolve_average", averaging.resolve_average, {"average": "uniform"}, {"average": "choice"},
          o_resolve, skip={"average": (None,)})

    B = "ramplab.theory.backend"
    exempt(f"{B}:BACKENDS", "constant")
    exempt(f"{B}:array_namespace", "re-export of array_api_compat.array_namespace (third-party, tested there)")

    def o_cupy(r, kw):
        assert isinstance(r, bool)

    entry(f"{B}:cupy_available", backend.cupy_available, {}, {}, o_cupy)

    def o_resolve_backend(r, kw):
        v = kw["backend"]
        assert hasattr(r, "asarray") and hasattr(r, "float64"), f"returned {r!r}, not an array namespace"
        if isinstance(v, str):
            choice(v, ("auto", "numpy", "array_api_strict"))
        else:
            assert v is None or hasattr(v, "asarray"), f"accepted {v!r} as an array namespace"

    entry(f"{B}:resolve_backend", backend.resolve_backend, {"backend": "numpy"}, {"backend": "xp"},
          o_resolve_backend, skip={"backend": (None,)})

    def o_backend_name(r, kw):
        xp = kw["xp"]
        assert hasattr(xp, "asarray"), f"named {xp!r}, not an array namespace"
        assert isinstance(r, str) and r

    entry(f"{B}:backend_name", backend.backend_name, {"xp": np}, {"xp": "xp"}, o_backend_name)

    def o_to_numpy(r, kw):
        assert isinstance(r, np.ndarray)
        ref = np.asarray(kw["x"])
        assert r.shape == ref.shape and r.dtype == ref.dtype

    entry(f"{B}:to_numpy", backend.to_numpy, {"x": [1.0, 2.0]}, {"x": "any"}, o_to_numpy)


def plain_risks(p: Problem, lrs: list[float], batches: list[float], optimizer: str = "sgd"):
    """Risks ``R_0 … R_T`` and the gradient moments ``G_1 … G_T`` by a plain float64 loop of the
    second-moment recursion (docs/math.md#sgd-second-moment-recursion, #normalized-sgd)."""
    lam = [float(x) for x in p.eigenvalues]
    m = [float(x) for x in p.multiplicity]
    s = [float(x) for x in p.initial_second_moment]
    kappa, sigma2 = float(p.kurtosis), float(p.noise_variance)
    risk = [0.5 * sum(mi * l * si for mi, l, si in zip(m, lam, s))]
    gs = []
    for lr, b in zip(lrs, batches):
        try:
            q = sum(mi * l * si for mi, l, si in zip(m, lam, s))
            g = (1 + (kappa - 2) / b) * sum(mi * l * l * si for mi, l, si in zip(m, lam, s)) \
                + sum(mi * l for mi, l in zip(m, lam)) / b * (q + sigma2)
            gs.append(g)
            eta = (lr / math.sqrt(g) if g > 0 else 0.0) if optimizer == "nsgd" else lr
            s = [(1 - eta * l) ** 2 * si + eta * eta / b * ((kappa - 2) * l * l * si + l * (q + sigma2))
                 for l, si in zip(lam, s)]
            risk.append(0.5 * sum(mi * l * si for mi, l, si in zip(m, lam, s)))
        except (OverflowError, ZeroDivisionError):
            risk.append(math.inf)
        if not math.isfinite(risk[-1]):
            risk[-1] = math.inf
            break
    return risk, gs


def _register_recursion() -> None:
    from ramplab.theory.dynamics import averaging, recursion

    M = "ramplab.theory.dynamics.recursion"
    exempt(f"{M}:DivergenceError", "exception class")
    exempt(f"{M}:KERNELS", "constant")
    SR = Schedule([0.5, 0.5, 0.25], [4, 4, 2])

    def o_expected(r, kw):
        p = problem_of(kw["problem"])
        sched = kw["schedules"]
        if not isinstance(sched, Schedule):
            assert isinstance(sched, (list, tuple)) and len(sched) == 1 and isinstance(sched[0], Schedule)
            assert isinstance(r, tuple) and len(r) == 1
            sched, r = sched[0], r[0]
        opt = choice(kw["optimizer"], ("sgd", "nsgd"))
        avg = kw["average"]
        assert avg is None or isinstance(avg, averaging.Averaging) or choice(avg, ("uniform",))
        split = flag(kw["split"])
        mode = choice(kw["on_divergence"], ("raise", "flag"))
        be = kw["backend"]
        assert be is None or be is np or choice(be, ("numpy", "array_api_strict", "auto")), f"accepted {be!r}"
        dt = kw["dtype"]
        assert dt is None or dt in (np.float64, np.float32, "float64", "float32"), f"accepted dtype {dt!r}"
        choice(kw["kernel"], ("auto", "fused", "reference"))
        thr = real(kw["divergence_threshold"])
        assert thr > 1
        comp = kw["compress"]
        if comp is not None:
            comp = real(comp)
            assert comp >= 0
        lrs, bs = sched.step_arrays()
        ref, _ = plain_risks(p, lrs.tolist(), bs.tolist(), opt)
        bound = thr * (ref[0] + p.noise_variance)
        first_bad = next((t for t, x in enumerate(ref) if not x <= bound), None)
        steps = np.arange(len(sched) + 1)
        cps = kw["checkpoints"]
        if cps is not None:
            c = vector(cps)
            assert c.ndim == 1 and np.all(c == np.floor(c)) and np.all(c >= 0) and np.all(np.diff(c) > 0)
            assert np.all(c <= len(sched)), f"accepted checkpoints {cps!r}"
            steps = c.astype(int)
        close(r.steps, steps, 0.0, "steps")
        risk = np.asarray(r.risk, dtype=float)
        assert not np.any(np.isnan(risk)), "NaN risk"
        if first_bad is not None and first_bad < len(ref):
            assert mode == "flag" and r.diverged_at is not None, "a diverging run was not reported"
        tol = 1e-5 if dt in (np.float32, "float32") else 1e-10
        if comp is not None:
            if comp >= 1e-3:
                finite(risk[np.isfinite(risk)], nonnegative=True)
                return
            tol = max(tol, 100 * comp)
        want = np.array([ref[t] if t < len(ref) else math.inf for t in steps])
        if r.diverged_at is not None:
            keep = steps < r.diverged_at
            assert first_bad is not None and r.diverged_at <= first_bad + 1, f"flagged {r.diverged_at}, ref {first_bad}"
            risk, want = risk[keep], want[keep]
        close(risk, want, tol, "risk")
        if split and r.diverged_at is None:
            close(np.asarray(r.bias) + np.asarray(r.variance), r.risk, max(tol, 1e-9), "bias + variance")
        if avg is not None and r.diverged_at is None:
            finite(r.averaged_risk, nonnegative=True)

    base = {"problem": P, "schedules": SR, "optimizer": "sgd", "average": None, "split": False,
            "on_divergence": "raise", "backend": "numpy", "dtype": None, "checkpoints": None, "kernel": "auto",
            "divergence_threshold": 1e12, "compress": None}
    kinds = {"problem": "problem", "schedules": "schedule", "optimizer": "choice", "average": "choice",
             "split": "flag", "on_divergence": "choice", "backend": "xp", "dtype": "choice", "checkpoints": "vector",
             "kernel": "choice", "divergence_threshold": "real", "compress": "real"}
    # A 2**40-step schedule is valid (the solver takes its time), not hostile.
    long = tuple(x for x in POOLS["schedule"] if isinstance(x, Schedule) and len(x) > 2**20)
    entry(f"{M}:expected_risk", recursion.expected_risk, lambda: dict(base), kinds, o_expected,
          raises=(DivergenceError,), skip={"schedules": long})
    entry(f"{M}:expected_risk[nsgd-flag]", recursion.expected_risk,
          lambda: {**base, "optimizer": "nsgd", "on_divergence": "flag", "split": True, "average": "uniform",
                   "checkpoints": [0, 2, 3]},
          {k: kinds[k] for k in ("problem", "checkpoints", "divergence_threshold", "average", "dtype")},
          o_expected, raises=(DivergenceError,))
    entry(f"{M}:expected_risk[compress]", recursion.expected_risk,
          lambda: {**base, "compress": 1e-6, "kernel": "reference", "backend": "array_api_strict"},
          {k: kinds[k] for k in ("compress", "kernel", "backend")}, o_expected, raises=(DivergenceError,))

    def numbers(v):
        arr = np.asarray(v)
        assert arr.dtype.kind in "iuf" or (arr.dtype.kind == "O" and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in arr.ravel())), f"accepted {v!r}"
        return arr.astype(np.float64)

    def o_step(r, kw):
        s, lam = numbers(kw["s"]), numbers(kw["eigenvalues"])
        lr, b, noise = (numbers(kw[k]) for k in ("lr", "batch", "noise_variance"))
        assert not np.any(b <= 0), f"accepted batch {b!r}"  # NaN propagates, as documented
        kappa = real(kw["kurtosis"])
        with np.errstate(all="ignore"):
            q = np.sum(s * lam, axis=-1, keepdims=True)
            ref = (1 - lr * lam) ** 2 * s + lr * lr / b * ((kappa - 2) * lam * lam * s + lam * (q + noise))
            ref = np.where(ref < 0, 0.0, ref)  # documented: the new state is clamped at 0
        assert np.array_equal(np.isnan(r), np.isnan(ref)), f"NaN pattern {r!r} != reference {ref!r}"
        keep = ~np.isnan(ref)
        close(np.asarray(r)[keep], ref[keep], 1e-12, "second_moment_step")

    entry(f"{M}:second_moment_step", recursion.second_moment_step,
          lambda: {"s": np.array([[1.0, 2.0]]), "eigenvalues": np.array([1.0, 0.5]), "lr": 0.5, "batch": 4.0,
                   "noise_variance": 0.1, "kurtosis": 3.0},
          {"s": "vector", "eigenvalues": "vector", "lr": "real", "batch": "real", "noise_variance": "real",
           "kurtosis": "real"}, o_step)

    TR = recursion.expected_risk(P, SR, average="uniform")

    def o_at_samples(r, kw):
        g = vector(kw["grid"])
        averaged = flag(kw["averaged"])
        total = float(TR.samples[-1])
        assert np.all((g >= 0) & (g <= total * (1 + 1e-9))), f"accepted grid {kw['grid']!r}"
        curve = TR.averaged_risk if averaged else TR.risk
        xs, ys = TR.samples.astype(float).tolist(), curve.tolist()
        ref = []
        for x in g.ravel().tolist():
            k = max(i for i in range(len(xs)) if xs[i] <= x) if x < xs[-1] else len(xs) - 2
            w = (x - xs[k]) / (xs[k + 1] - xs[k])
            ref.append(ys[k] + w * (ys[k + 1] - ys[k]))
        close(np.ravel(r), ref, 1e-12, "at_samples")

    entry(f"{M}:RiskTrajectory.at_samples", TR.at_samples, {"grid": [0.0, 3.0, 10.0], "averaged": False},
          {"grid": "vector", "averaged": "flag"}, o_at_samples)

    def o_g2(r, kw):
        p = problem_of(kw["problem"])
        s = vector(kw["second_moment"])
        b = real(kw["batch"])
        assert b >= 1 and s.shape == (p.dimension,) and np.all(s >= 0), f"accepted s={s!r}, batch={b!r}"
        lam, m = p.eigenvalues.tolist(), p.multiplicity.tolist()
        ref = (1 + (p.kurtosis - 2) / b) * sum(mi * l * l * x for mi, l, x in zip(m, lam, s.tolist())) \
            + sum(mi * l for mi, l in zip(m, lam)) / b * (sum(mi * l * x for mi, l, x in zip(m, lam, s.tolist()))
                                                           + p.noise_variance)
        assert math.isfinite(r) and r >= 0
        close(r, ref, 1e-12, "gradient_second_moment")

    entry(f"{M}:gradient_second_moment", recursion.gradient_second_moment,
          lambda: {"problem": P, "second_moment": [1.0, 2.0], "batch": 4},
          {"problem": "problem", "second_moment": "vector", "batch": "real"}, o_g2)

    def o_tables(r, kw):
        ss = kw["schedules"]
        assert not isinstance(ss, (str, bytes, dict)), f"accepted schedules={ss!r}"
        ss = list(ss)
        assert all(isinstance(s, Schedule) for s in ss)
        a, b = integer(kw["start"]), integer(kw["stop"])
        assert 0 <= a <= b
        lr_ref = [[float(s.step_arrays(t, t + 1)[0][0]) if t < len(s) else 0.0 for t in range(a, b)] for s in ss]
        b_ref = [[float(s.step_arrays(t, t + 1)[1][0]) if t < len(s) else 1.0 for t in range(a, b)] for s in ss]
        close(r[0], np.array(lr_ref).reshape(len(ss), b - a), 0.0, "lr table")
        close(r[1], np.array(b_ref).reshape(len(ss), b - a), 0.0, "batch table")

    entry(f"{M}:step_tables", recursion.step_tables, lambda: {"schedules": [SR, S], "start": 1, "stop": 4},
          {"schedules": "schedules", "start": "int", "stop": "int"}, o_tables,
          skip={"stop": (2**31,)})  # a 2**31-column table is valid (32 GiB), not hostile

    def o_initial(r, kw):
        p = problem_of(kw["problem"])
        n = integer(kw["n_schedules"])
        split = flag(kw["split"])
        assert n >= 1, f"accepted n_schedules={n}"
        s0 = p.initial_second_moment.tolist()
        rows = [s0] * n + ([s0] * n + [[0.0] * p.dimension] * n if split else [])
        noise = [p.noise_variance] * n + ([0.0] * n + [p.noise_variance] * n if split else [])
        close(r[0], np.array(rows), 0.0, "state")
        close(r[1], noise, 0.0, "noise")

    entry(f"{M}:initial_state", recursion.initial_state, lambda: {"problem": P, "n_schedules": 2, "split": True},
          {"problem": "problem", "n_schedules": "int", "split": "flag"}, o_initial,
          skip={"n_schedules": (2**31,)})  # valid, 2**31 rows


def _decay_profile(v: float, kind: str) -> float:
    """Decreasing profiles ``h(0) = 1``, ``h(1) = 0`` of docs/math.md#lr-shapes, written out."""
    return {"linear": 1.0 - v, "cosine": 0.5 * (1.0 + math.cos(math.pi * v)),
            "quarter": math.cos(math.pi * v / 2.0), "sqrt": 1.0 - math.sqrt(v)}[kind]


def _register_shapes() -> None:
    from ramplab.theory.schedules import lr_shapes

    M = "ramplab.theory.schedules.lr_shapes"
    exempt(f"{M}:LRShape", "base class: its constructor and methods run through every subclass entry below")

    def frac(v, *, open_right=False):
        x = real(v)
        assert 0 <= x <= 1 and not (open_right and x == 1), f"accepted a fraction {v!r}"
        return x

    def check(r, kw, rate):
        peak, total = real(kw["peak"]), real(kw["total_samples"])
        assert peak > 0 and total > 0
        grid = [total * (k / 16) for k in range(17)]
        got = r(np.array(grid))
        for tau, g in zip(grid, got.tolist()):
            u = min(tau / total, 1.0)
            ref = rate(u)
            if ref is None:
                continue
            assert abs(g - peak * ref) <= 1e-9 * max(peak, abs(peak * ref)), f"rate {g!r} at u={u} != reference {peak * ref!r}"

    def o_constant(r, kw):
        check(r, kw, lambda u: 1.0)

    shape_kinds = {"peak": "real", "total_samples": "real"}
    entry(f"{M}:Constant", lr_shapes.Constant, {"peak": 0.5, "total_samples": 100.0}, shape_kinds, o_constant)

    def o_linear(r, kw):
        f = frac(kw["final"])
        check(r, kw, lambda u: 1.0 - (1.0 - f) * u)

    entry(f"{M}:Linear", lr_shapes.Linear, {"peak": 0.5, "total_samples": 100.0, "final": 0.1},
          {**shape_kinds, "final": "real"}, o_linear)

    def o_cosine(r, kw):
        f = frac(kw["final"])
        kind = "quarter" if flag(kw["quarter"]) else "cosine"
        check(r, kw, lambda u: f + (1.0 - f) * _decay_profile(u, kind))

    entry(f"{M}:Cosine", lr_shapes.Cosine, {"peak": 0.5, "total_samples": 100.0, "final": 0.1, "quarter": False},
          {**shape_kinds, "final": "real", "quarter": "flag"}, o_cosine)

    def o_step(r, kw):
        bs = kw["boundaries"]
        assert isinstance(bs, (list, tuple)) or (isinstance(bs, np.ndarray) and bs.ndim == 1), f"accepted {bs!r}"
        bounds = [frac(b) for b in bs]
        assert all(a < b for a, b in zip(bounds, bounds[1:])), f"accepted unsorted boundaries {bs!r}"
        f = real(kw["factor"])
        assert f > 0

        def rate(u):
            if any(abs(u - b) < 1e-9 for b in bounds):
                return None  # at a jump either side is right
            return f ** sum(u >= b for b in bounds)

        check(r, kw, rate)

    entry(f"{M}:StepDecay", lr_shapes.StepDecay,
          {"peak": 0.5, "total_samples": 100.0, "boundaries": (0.5, 0.75), "factor": 0.1},
          {**shape_kinds, "boundaries": "sequence", "factor": "real"}, o_step)

    def warm(u, w, start):
        return start + (1.0 - start) * u / w

    def o_wcos(r, kw):
        w, ws, fl = frac(kw["warmup_fraction"], open_right=True), frac(kw["warmup_start"]), frac(kw["floor"])

        def rate(u):
            if abs(u - w) < 1e-9:
                return None
            if u < w:
                return warm(u, w, ws)
            return fl + (1.0 - fl) * _decay_profile((u - w) / (1.0 - w), "cosine")

        check(r, kw, rate)

    entry(f"{M}:WarmupCosine", lr_shapes.WarmupCosine,
          {"peak": 0.5, "total_samples": 100.0, "warmup_fraction": 0.1, "warmup_start": 0.1, "floor": 0.1},
          {**shape_kinds, "warmup_fraction": "real", "warmup_start": "real", "floor": "real"}, o_wcos)

    def o_wsd(r, kw):
        w, d, fl = frac(kw["warmup_fraction"]), frac(kw["decay_fraction"]), frac(kw["floor"])
        ws = frac(kw["warmup_start"])
        kind = choice(kw["decay"], ("linear", "cosine", "sqrt", "quarter"))
        assert w + d <= 1 + 1e-12, f"accepted warmup + decay fractions {w} + {d} > 1"

        def rate(u):
            if min(abs(u - w), abs(u - (1 - d))) < 1e-9:
                return None
            if u < w:
                return warm(u, w, ws)
            if u < 1 - d or d == 0:
                return 1.0
            return fl + (1.0 - fl) * _decay_profile((u - (1 - d)) / d, kind)

        check(r, kw, rate)

    entry(f"{M}:WSD", lr_shapes.WSD,
          {"peak": 0.5, "total_samples": 100.0, "warmup_fraction": 0.1, "decay_fraction": 0.2, "floor": 0.0,
           "decay": "linear", "warmup_start": 0.1},
          {**shape_kinds, "warmup_fraction": "real", "decay_fraction": "real", "floor": "real", "decay": "choice",
           "warmup_start": "real"}, o_wsd)

    LIN = lr_shapes.Linear(1.0, 8.0, final=0.0)

    def o_call(r, kw):
        tau = vector(kw["samples"])
        assert np.all(tau >= 0), f"accepted negative samples {tau!r}"
        u = np.minimum(tau / 8.0, 1.0)
        close(r, 1.0 - u, 1e-12, "Linear(1, 8)(samples)")

    entry(f"{M}:Linear.__call__", LIN.__call__, {"samples": [0.0, 2.0, 9.0]}, {"samples": "vector"}, o_call)

    def o_integral(r, kw):
        a = real(kw["start"])
        b = 8.0 if kw["stop"] is None else real(kw["stop"])
        assert 0 <= a <= b, f"accepted start={a}, stop={b}"
        prim = lambda x: min(x, 8.0) - min(x, 8.0) ** 2 / 16.0  # ∫₀ˣ (1 − τ/8) dτ, 0 past the horizon
        close(r, prim(b) - prim(a), 1e-12, "integral")

    entry(f"{M}:Linear.integral", LIN.integral, {"start": 1.0, "stop": 4.0}, {"start": "real", "stop": "real"},
          o_integral, skip={"stop": (None,)})

    def o_crossing(r, kw):
        level = real(kw["level"])
        assert level > 0
        ref = 0.0 if level >= 1.0 else 8.0 * (1.0 - level)
        close(r, ref, 1e-9, "crossing")

    entry(f"{M}:Linear.crossing", LIN.crossing, {"level": 0.25}, {"level": "real"}, o_crossing)


def o_hyperparameters(r, kw, optimizer: str, p: Problem, s: Schedule) -> None:
    """What simulate accepted as hyper-parameters and rotation is what docs/math.md#monte-carlo-optimizers allows."""
    owners = {"momentum": ("momentum", "signsgd"), "betas": ("adam",), "eps": ("adam",), "weight_decay": ("adam",)}
    for name, allowed in owners.items():
        value = kw.get(name)
        if value is None:
            continue
        assert optimizer in allowed, f"accepted {name}={value!r} for optimizer={optimizer!r}"
        if name == "momentum":
            if optimizer == "momentum" and np.ndim(value) >= 1:
                mu = vector(value)
                assert mu.shape == (len(s),) and np.all(mu >= 0), f"accepted momentum={value!r}"
                close(r.hyperparameters["momentum"], mu, 0.0, "momentum")
            else:
                mu = real(value)
                assert 0 <= mu < 1, f"accepted momentum={value!r}"
                assert r.hyperparameters["momentum"] == mu
        elif name == "betas":
            b = vector(value)
            assert b.shape == (2,) and np.all((b >= 0) & (b < 1)), f"accepted betas={value!r}"
            assert r.hyperparameters["betas"] == tuple(b.tolist())
        else:
            v = real(value)
            assert v >= 0, f"accepted {name}={value!r}"
            assert r.hyperparameters[name] == v
    rot = kw.get("rotation")
    if rot is None:
        assert r.rotation is None
    elif isinstance(rot, str):
        assert rot == "random", f"accepted rotation={rot!r}"
    else:
        q = vector(rot)
        assert q.shape == (p.dimension, p.dimension), f"accepted rotation of shape {q.shape}"
        assert np.max(np.abs(q.T @ q - np.eye(p.dimension))) <= 1e-8, "accepted a non-orthogonal rotation"
        close(r.rotation, q, 0.0, "rotation")


def _register_monte_carlo() -> None:
    from ramplab.simulations import monte_carlo
    from ramplab.theory.dynamics import averaging

    M = "ramplab.simulations.monte_carlo"
    exempt(f"{M}:NORMALIZATIONS {M}:OPTIMIZERS", "constant")
    exempt(f"{M}:SimulationDivergenceError", "exception class")
    exempt(f"{M}:SimulationResult", "result record, built by simulate")
    SM = Schedule([0.5, 0.5, 0.25], [4, 4, 2])

    def o_simulate(r, kw):
        p = problem_of(kw["problem"])
        s = kw["schedule"]
        assert isinstance(s, Schedule), f"accepted schedule {s!r}"
        optimizer = choice(kw["optimizer"], ("sgd", "nsgd", "momentum", "adam", "signsgd"))
        choice(kw["normalization"], ("expected", "conditional"))
        o_hyperparameters(r, kw, optimizer, p, s)
        runs = integer(kw["runs"])
        assert runs >= 1
        be = kw["backend"]
        assert be is None or be is np or choice(be, ("numpy", "array_api_strict", "auto")), f"accepted {be!r}"
        choice(kw["sampler"], ("auto", "gaussian-exact", "direct"))
        assert kw["data"] is None or choice(kw["data"], ("gaussian", "rademacher", "uniform"))
        keep = flag(kw["keep_runs"])
        mode = choice(kw["on_divergence"], ("raise", "flag"))
        assert kw["progress"] is None or isinstance(kw["progress"], (bool, np.bool_)), "accepted progress"
        dt = kw["dtype"]
        assert dt is None or dt in (np.float64, np.float32, "float64", "float32"), f"accepted dtype {dt!r}"
        for k in ("chunk_size", "runs_per_stream"):
            if kw[k] is not None:
                assert integer(kw[k]) >= 1, f"accepted {k}={kw[k]!r}"
        avg = kw["average"]
        assert avg is None or isinstance(avg, averaging.Averaging) or choice(avg, ("uniform",))
        cps = kw["checkpoints"]
        if cps is None:
            k = len(s) + 1
        else:
            c = vector(cps).reshape(-1)  # documented: array_like, flattened
            assert c.size and np.all((c >= 0) & (c <= s.total_samples)), f"accepted {cps!r}"
            k = c.size
        mean = np.asarray(r.mean_risk, dtype=float)
        assert mean.shape == (k,) and np.asarray(r.stderr).shape == (k,), f"shapes {mean.shape}, {k}"
        assert not np.any(np.isnan(mean)) and not np.any(np.isnan(r.stderr)), "NaN in the Monte Carlo mean"
        if r.diverged_at is None:
            finite(mean, nonnegative=True)
            se = np.asarray(r.stderr, dtype=float)
            assert np.all(se >= 0), f"negative stderr {se!r}"
            # Documented (RunningMoments): a spread whose sum of squares overflows is reported as +inf.
            # and with a single run the spread is undefined (+inf).
            assert runs == 1 or np.all(np.isfinite(se) | (mean > 1e150)), f"infinite stderr {se!r} at {mean!r}"
        else:
            assert mode == "flag"
        if cps is None:
            close(mean[0], p.initial_risk, 1e-12, "risk[0]")
        if keep:
            assert np.asarray(r.run_risk).shape == (runs, k)

    base = {"problem": P, "schedule": SM, "optimizer": "sgd", "normalization": "expected", "runs": 8, "seed": 0,
            "backend": "numpy", "sampler": "auto", "data": None, "checkpoints": None, "keep_runs": False,
            "on_divergence": "raise", "progress": False, "dtype": None, "chunk_size": None,
            "runs_per_stream": None, "average": None}
    kinds = {"problem": "problem", "schedule": "schedule", "optimizer": "choice", "normalization": "choice",
             "runs": "batch", "seed": "seed", "backend": "xp", "sampler": "choice", "data": "choice",
             "checkpoints": "vector", "keep_runs": "flag", "on_divergence": "choice", "progress": "flag",
             "dtype": "choice", "chunk_size": "batch", "runs_per_stream": "batch", "average": "choice"}
    # A 2**40-step schedule is valid (the simulation takes its time), not hostile.
    long = tuple(x for x in POOLS["schedule"] if isinstance(x, Schedule) and len(x) > 2**20)
    nones = (None,)
    entry(f"{M}:simulate", monte_carlo.simulate, lambda: dict(base), kinds, o_simulate,
          raises=(DivergenceError,),
          skip={"schedule": long, "data": nones, "checkpoints": nones, "progress": nones, "dtype": nones,
                "chunk_size": nones, "runs_per_stream": nones, "average": nones})
    entry(f"{M}:simulate[nsgd-flag]", monte_carlo.simulate,
          lambda: {**base, "optimizer": "nsgd", "normalization": "conditional", "on_divergence": "flag",
                   "keep_runs": True, "average": "uniform", "checkpoints": [0.0, 5.0, 10.0], "chunk_size": 64,
                   "runs_per_stream": 8},
          {k: kinds[k] for k in ("problem", "normalization", "checkpoints", "average", "chunk_size", "runs_per_stream",
                                 "dtype")},
          o_simulate, raises=(DivergenceError,), skip={"dtype": nones})
    # The optimizers of docs/math.md#monte-carlo-optimizers: each hyper-parameter with its own optimizer.
    hyper_kinds = {"momentum": "vector", "betas": "sequence", "eps": "real", "weight_decay": "real",
                   "rotation": "vector"}
    entry(f"{M}:simulate[momentum]", monte_carlo.simulate,
          lambda: {**base, "optimizer": "momentum", "momentum": 0.5},
          {"momentum": "vector", "rotation": "vector", "betas": "sequence"}, o_simulate, raises=(DivergenceError,))
    entry(f"{M}:simulate[adam]", monte_carlo.simulate,
          lambda: {**base, "optimizer": "adam", "betas": (0.9, 0.99), "eps": 1e-8, "weight_decay": 0.01,
                   "rotation": np.array([[0.6, -0.8], [0.8, 0.6]])},
          {k: hyper_kinds[k] for k in ("betas", "eps", "weight_decay", "rotation", "momentum")}, o_simulate,
          raises=(DivergenceError,), skip={"betas": nones, "eps": nones, "weight_decay": nones, "rotation": nones})
    entry(f"{M}:simulate[signsgd]", monte_carlo.simulate,
          lambda: {**base, "optimizer": "signsgd", "momentum": 0.9, "rotation": "random"},
          {"momentum": "real", "rotation": "vector", "eps": "real"}, o_simulate, raises=(DivergenceError,),
          skip={"momentum": nones, "rotation": nones})


def _register_interop() -> None:
    from ramplab.interop import frameworks, steps

    M, N = "ramplab.interop.steps", "ramplab.interop.frameworks"
    exempt(f"{N}:INSTALL_HINT", "constant (a message)")
    SI = Schedule.from_segments([0.2, 0.1, 0.05], [2, 4, 4], [2, 3, 1])

    def segment_runs(s: Schedule) -> list[tuple[float, int]]:
        return [(float(a), int(n)) for a, n in zip(s.segments.lr, s.segments.steps)]

    def o_lr_at(r, kw):
        s = kw["schedule"]
        assert isinstance(s, Schedule), f"accepted schedule {s!r}"
        k = integer(kw["step"])
        assert k >= 0
        acc, ref = 0, None
        for lr, n in segment_runs(s):  # plain walk over the constant runs
            acc += n
            if k < acc:
                ref = lr
                break
        ref = segment_runs(s)[-1][0] if ref is None else ref
        assert r == ref, f"{r!r} != {ref!r}"

    entry(f"{M}:learning_rate_at", steps.learning_rate_at, {"schedule": SI, "step": 3},
          {"schedule": "schedule", "step": "int"}, o_lr_at)

    def o_batches(r, kw):
        s = kw["schedule"]
        assert isinstance(s, Schedule)
        ref = [int(b) for b, n in zip(s.segments.batch, s.segments.steps) for _ in range(int(n))]
        assert r.dtype == np.int64 and r.tolist() == ref

    entry(f"{M}:batch_sizes", steps.batch_sizes, {"schedule": SI}, {"schedule": "schedule"}, o_batches)

    def o_momentum(r, kw):
        s = kw["schedule"]
        assert isinstance(s, Schedule)
        mu = real(kw["momentum"])
        assert 0 <= mu < 1
        lr = [a for a, n in segment_runs(s) for _ in range(n)]
        ref = [mu] + [0.0 if b == 0 else mu * b / a for a, b in zip(lr, lr[1:])]
        close(r, ref, 1e-15, "torch momentum")

    entry(f"{M}:torch_momentum", steps.torch_momentum, {"schedule": SI, "momentum": 0.9},
          {"schedule": "schedule", "momentum": "real"}, o_momentum)

    try:
        import torch
    except ImportError:
        exempt(f"{N}:torch_scheduler", "PyTorch (the interop extra) is not installed")
    else:
        def o_scheduler(r, kw):
            s = kw["schedule"]
            assert isinstance(s, Schedule)
            assert isinstance(kw["optimizer"], torch.optim.Optimizer)
            assert r.optimizer.param_groups[0]["lr"] == float(s.segments.lr[0])

        def valid_scheduler():
            return {"schedule": SI, "optimizer": torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=1.0)}

        entry(f"{N}:torch_scheduler", frameworks.torch_scheduler, valid_scheduler,
              {"schedule": "schedule", "optimizer": "any"}, o_scheduler)
    try:
        import jax  # noqa: F401
    except ImportError:
        exempt(f"{N}:optax_schedule", "JAX (the interop extra) is not installed")
    else:
        def o_optax(r, kw):
            s = kw["schedule"]
            assert isinstance(s, Schedule)
            dt = np.dtype(r(0).dtype)  # JAX's default float (float64 under jax_enable_x64)
            assert float(r(0)) == float(np.asarray(s.segments.lr[0], dtype=dt))
            assert float(r(2**31 - 1)) == float(np.asarray(s.segments.lr[-1], dtype=dt))

        entry(f"{N}:optax_schedule", frameworks.optax_schedule, {"schedule": SI}, {"schedule": "schedule"}, o_optax)


def _register_compression() -> None:
    from ramplab.theory.dynamics import compression

    M = "ramplab.theory.dynamics.compression"
    exempt(f"{M}:SpectralGrouping", "result record, built by spectral_groups")
    SR = Schedule([0.5, 0.5, 0.25], [4, 4, 2])

    def o_resolution(r, kw):
        tol = real(kw["rtol"])
        assert tol >= 0
        # docs/math.md#spectral-compression: δ ∝ sqrt(rtol).
        close(r, compression.resolution_for(1e-4) * math.sqrt(tol / 1e-4), 1e-12, "resolution_for")

    entry(f"{M}:resolution_for", compression.resolution_for, {"rtol": 1e-4}, {"rtol": "real"}, o_resolution)

    def o_contraction(r, kw):
        lam = vector(kw["eigenvalues"])
        lr, b = vector(kw["lr"]), vector(kw["batch"])
        kappa = real(kw["kurtosis"])
        assert lam.ndim == 1 and np.all(lam > 0) and lr.ndim == 1 and lr.shape == b.shape
        assert np.all(lr >= 0) and np.all(b >= 1) and kappa >= 1, "accepted an out-of-range argument"
        a_ref, v_ref = [], []
        for l in lam.tolist():
            a = v = 0.0
            for e, bb in zip(lr.tolist(), b.tolist()):
                c = 1 + (kappa - 2) / bb
                dd = 1 - 2 * e * l + c * e * e * l * l
                a -= math.log(dd)
                v += abs((-2 * e * l + 2 * c * e * e * l * l) / dd)
            a_ref.append(a)
            v_ref.append(v)
        close(r[0], a_ref, 1e-9, "A")
        close(r[1], v_ref, 1e-9, "V")

    entry(f"{M}:contraction_exponent", compression.contraction_exponent,
          {"eigenvalues": [1.0, 0.5], "lr": [0.5, 0.25], "batch": [4.0, 2.0], "kurtosis": 3.0},
          {"eigenvalues": "vector", "lr": "vector", "batch": "vector", "kurtosis": "real"}, o_contraction)

    def o_groups(r, kw):
        p = problem_of(kw["problem"])
        ss = kw["schedules"]
        assert isinstance(ss, Schedule) or (isinstance(ss, (list, tuple)) and ss
                                            and all(isinstance(s, Schedule) for s in ss))
        tol = real(kw["rtol"])
        assert tol >= 0
        g = r.problem
        close([g.effective_dimension, g.trace, g.initial_risk], [p.effective_dimension, p.trace, p.initial_risk],
              1e-12, "grouped totals")

    entry(f"{M}:spectral_groups", compression.spectral_groups, lambda: {"problem": P, "schedules": SR, "rtol": 1e-3},
          {"problem": "problem", "schedules": "schedules", "rtol": "real"}, o_groups)

    def o_compressed(r, kw):
        p = problem_of(kw["problem"])
        assert isinstance(kw["schedules"], Schedule)
        opt = choice(kw["optimizer"], ("sgd", "nsgd"))
        tol = real(kw["rtol"])
        assert tol >= 0
        ref, _ = plain_risks(p, *(a.tolist() for a in SR.step_arrays()), opt)
        finite(r.risk, nonnegative=True)
        if tol < 1e-3:
            close(r.risk, ref, max(1e-10, 100 * tol), "compressed risk")

    entry(f"{M}:compressed_expected_risk", compression.compressed_expected_risk,
          lambda: {"problem": P, "schedules": SR, "optimizer": "sgd", "rtol": 1e-6},
          {"problem": "problem", "optimizer": "choice", "rtol": "real"}, o_compressed, raises=(DivergenceError,))


def _register_seesaw() -> None:
    """Seesaw and serial steps on a half cosine ``η(τ) = ½(1 + cos(πτ/D))`` (D = 1000 samples), whose
    level crossings and integrals the oracles write out independently (docs/math.md#seesaw-rule,
    docs/math.md#serial-step-reduction)."""
    from ramplab.theory import Cosine
    from ramplab.theory.schedules import seesaw, serial_steps

    M, N = "ramplab.theory.schedules.seesaw", "ramplab.theory.schedules.serial_steps"
    exempt(f"{M}:MAX_MILESTONES {M}:MAX_SEGMENTS {M}:MAX_WARMUP_STEPS {M}:ROUNDINGS", "constants")
    total = 1000.0
    base = Cosine(1.0, total)

    def rate(tau):
        return 0.5 * (1.0 + np.cos(np.pi * np.asarray(tau, dtype=np.float64) / total))

    def log_batches(kw, phases):
        """log B_k: B_0 f^{pk} until the next would pass the cap, then frozen (as the rule freezes)."""
        b0, f, pp = real(kw["initial_batch"]), real(kw["factor"]), real(kw.get("p", 1.0))
        cap = kw.get("batch_cap")
        logs = np.log(b0) + pp * np.log(f) * np.arange(phases, dtype=np.float64)
        if cap is not None:
            over = logs > np.log(real(cap)) + 1e-12
            if over.any():
                first = int(np.argmax(over))
                logs[first:] = logs[first - 1] if first > 0 else np.log(b0)
        return logs

    def batches(kw, phases):
        with np.errstate(over="ignore"):
            return np.exp(log_batches(kw, phases))

    def o_round(r, kw):
        b = real(kw["batch"])
        assert b >= 1 and isinstance(r, (int, np.integer)) and abs(r - math.floor(b)) <= max(1.0, 1e-12 * b)

    entry(f"{M}:round_batch", seesaw.round_batch, {"batch": 7.3, "rounding": "floor"},
          {"batch": "real", "rounding": "choice"}, o_round)

    def o_milestones(r, kw):
        f = real(kw["factor"])
        m = np.asarray(r, dtype=np.float64)
        assert m.ndim == 1 and np.all(np.diff(m) > 0) and np.all((m >= 0) & (m <= total))
        k = np.arange(1, m.size + 1, dtype=np.float64)
        # Positions of the crossings η(τ_k) = f^{-k}, written out: τ_k = (D/π) arccos(2 f^{-k} − 1).
        want = total / np.pi * np.arccos(np.clip(2 * np.exp(-k * np.log(f)) - 1, -1, 1))
        assert np.all(np.abs(m - want) <= 1e-9 * total), "milestone positions"

    entry(f"{M}:milestones", seesaw.milestones, {"base": base, "factor": 2.0},
          {"base": "any", "factor": "real", "min_level": "real", "max_count": "int"}, o_milestones,
          skip={"max_count": (2**31, 2**53, 2**53 + 1, 2**62, np.uint64(2**64 - 1))})

    def o_phase_batches(r, kw):
        close(r, batches(kw, int(kw["phases"])), 1e-12, "phase batches")

    entry(f"{M}:phase_batches", seesaw.phase_batches, {"initial_batch": 2.0, "factor": 2.0, "phases": 4},
          {"initial_batch": "real", "factor": "real", "phases": "int", "p": "real", "batch_cap": "real"},
          o_phase_batches)

    def o_phase_lrs(r, kw):
        n, f = int(kw["phases"]), real(kw["factor"])
        kw_b = {"initial_batch": kw.get("initial_batch", 1.0), "factor": f, "p": kw.get("p", 1.0),
                "batch_cap": kw.get("batch_cap")}
        logs = log_batches(kw_b, n)  # η_k / √B_k = (η_0 / √B_0) f^{-k}, in logs (no overflow)
        want = np.exp(np.log(real(kw["peak"])) - np.log(f) * np.arange(n) + 0.5 * (logs - logs[0]))
        close(r, want, 1e-9, "phase learning rates")

    entry(f"{M}:phase_learning_rates", seesaw.phase_learning_rates, {"peak": 1.0, "factor": 2.0, "phases": 4},
          {"peak": "real", "factor": "real", "phases": "int", "p": "real", "initial_batch": "real",
           "batch_cap": "real"}, o_phase_lrs)

    def o_schedule(r, kw):
        assert isinstance(r, Schedule)
        seg = r.segments
        assert abs(r.total_samples - total) <= 1e-9 * total, r.total_samples
        assert np.all(np.diff(seg.batch.astype(np.float64)) >= -1e-9 * float(seg.batch.max()))
        finite(seg.lr, nonnegative=True)
        assert float(seg.batch[0]) >= 1

    schedule_kinds = {"base": "any", "initial_batch": "real", "factor": "real", "p": "real", "batch_cap": "real",
                      "rounding": "choice", "label": "label"}
    entry(f"{M}:seesaw_schedule", seesaw.seesaw_schedule, {"base": base, "initial_batch": 4.0, "factor": 2.0},
          schedule_kinds, o_schedule)
    entry(f"{M}:continuous_seesaw", seesaw.continuous_seesaw, {"base": base, "initial_batch": 4.0},
          {k: v for k, v in schedule_kinds.items() if k != "factor"}, o_schedule)

    def integral(kw):
        b0, pp, cap = real(kw["initial_batch"]), real(kw.get("p", 1.0)), kw.get("batch_cap")
        h = total / 400_000
        tau = (np.arange(400_000) + 0.5) * h  # midpoint rule: never on the zero of the rate at τ = D
        density = rate(tau) ** pp / b0
        if cap is not None:
            density = np.maximum(density, 1.0 / real(cap))
        return float(np.sum(density) * h)

    def o_continuous(r, kw):
        close(r, integral(kw), 1e-6, "continuous serial steps")

    serial_kinds = {"base": "any", "initial_batch": "real", "p": "real", "batch_cap": "real"}
    entry(f"{N}:continuous_serial_steps", serial_steps.continuous_serial_steps, {"base": base, "initial_batch": 4.0},
          serial_kinds, o_continuous)

    def phase_sum(kw):
        f = real(kw["factor"])
        levels = f ** -np.arange(1, 4000, dtype=np.float64)
        taus = total / np.pi * np.arccos(np.clip(2 * levels[levels > 1e-300] - 1, -1, 1))
        bounds = np.concatenate([[0.0], taus[taus < total], [total]])
        b = batches({**kw, "factor": f}, bounds.size - 1)
        return float(np.sum(np.diff(bounds) / b))

    def o_phase_serial(r, kw):
        close(r, phase_sum(kw), 1e-6, "phase serial steps")

    entry(f"{N}:phase_serial_steps", serial_steps.phase_serial_steps,
          {"base": base, "initial_batch": 4.0, "factor": 2.0}, {**serial_kinds, "factor": "real"}, o_phase_serial)

    def o_reduction(r, kw):
        b0 = real(kw.get("initial_batch", 1.0))
        steps = integral({**kw, "initial_batch": b0}) if kw.get("factor") is None else phase_sum(
            {**kw, "initial_batch": b0})
        assert abs(float(r) - (1.0 - steps * b0 / total)) <= 1e-6, f"step reduction {r!r}"  # a fraction

    entry(f"{N}:seesaw_step_reduction", serial_steps.seesaw_step_reduction, {"base": base, "factor": 2.0},
          {**serial_kinds, "factor": "real"}, o_reduction)

    ref, other = Schedule.constant(0.1, 2, steps=8), Schedule.constant(0.1, 4, steps=4)

    def o_step_reduction(r, kw):
        close(r, 1.0 - len(kw["other"]) / len(kw["reference"]), 1e-12, "step reduction")

    entry(f"{N}:step_reduction", serial_steps.step_reduction, {"reference": ref, "other": other},
          {"reference": "schedule", "other": "schedule"}, o_step_reduction)


# --- theory.dynamics.momentum, proofs.momentum, expected_risk(momentum=…) ---------------------
def plain_momentum_risks(p: Problem, lrs: list[float], batches: list[float], mus: list[float],
                         optimizer: str = "sgd") -> list[float]:
    """Risks ``R_0 … R_T`` of heavy ball by a plain float64 loop over ``(S, C, P)`` per coordinate
    (docs/math.md#heavy-ball-momentum); ``mus[0]`` is not used (``w_{−1} = w_0``)."""
    lam = [float(x) for x in p.eigenvalues]
    m = [float(x) for x in p.multiplicity]
    S = [float(x) for x in p.initial_second_moment]
    Cm, Pm = list(S), list(S)
    kappa, sigma2 = float(p.kurtosis), float(p.noise_variance)
    risk = [0.5 * sum(mi * l * si for mi, l, si in zip(m, lam, S))]
    for t, (lr, b) in enumerate(zip(lrs, batches)):
        mu = float(mus[t]) if t else 0.0
        q = sum(mi * l * si for mi, l, si in zip(m, lam, S))
        g = (1 + (kappa - 2) / b) * sum(mi * l * l * si for mi, l, si in zip(m, lam, S)) \
            + sum(mi * l for mi, l in zip(m, lam)) / b * (q + sigma2)
        eta = (lr / math.sqrt(g) if g > 0 else 0.0) if optimizer == "nsgd" else lr
        new = []
        for l, si, ci, pi in zip(lam, S, Cm, Pm):
            a = 1 + mu - eta * l
            new.append((a * a * si + (kappa - 2) / b * eta * eta * l * l * si - 2 * a * mu * ci + mu * mu * pi
                        + eta * eta / b * l * (q + sigma2), a * si - mu * ci, si))
        S, Cm, Pm = [v[0] for v in new], [v[1] for v in new], [v[2] for v in new]
        r = 0.5 * sum(mi * l * si for mi, l, si in zip(m, lam, S))
        risk.append(r if math.isfinite(r) else math.inf)
        if not math.isfinite(r):
            break
    return risk


def _momentum_matrix(p: Problem, lr: float, mu: float, b: float) -> np.ndarray:
    """The dense constant-(η, μ, B) map of ``(S_i, C_i, P_i)_i``, written out from the moment update."""
    lam, m = p.eigenvalues.astype(float), p.multiplicity.astype(float)
    d = lam.size
    mat = np.zeros((3 * d, 3 * d))
    for i, li in enumerate(lam):
        x, a = lr * li, 1 + mu - lr * li
        mat[3 * i, 3 * i: 3 * i + 3] = [a * a + (p.kurtosis - 2) / b * x * x, -2 * a * mu, mu * mu]
        mat[3 * i + 1, 3 * i: 3 * i + 2] = [a, -mu]
        mat[3 * i + 2, 3 * i] = 1.0
        mat[3 * i, 0::3] += lr * lr * li / b * m * lam
    return mat


def _register_momentum() -> None:
    from ramplab.theory.dynamics import momentum, recursion

    M = "ramplab.theory.dynamics.momentum"
    for n in ("heavy_ball_averaging", "heavy_ball_moments", "heavy_ball_stability", "torch_momentum_mapping"):
        exempt(f"ramplab.proofs.momentum:{n}", "derivation without arguments (nothing to substitute)")
    PM = _problem([1.0, 0.5], [1.0, 0.5], 0.1)

    def radius(p, lr, mu, b):
        with np.errstate(all="ignore"):
            mat = _momentum_matrix(p, lr, mu, b)
        if not np.all(np.isfinite(mat)):
            return math.nan
        return float(np.max(np.abs(np.linalg.eigvals(mat))))

    def o_torch(r, kw):
        mu = real(kw["momentum"])
        assert 0 <= mu < 1, f"accepted momentum {mu!r}"
        lrs = kw["lrs"]
        eta = lrs.step_arrays()[0] if isinstance(lrs, Schedule) else vector(lrs)
        assert eta.ndim == 1 and eta.size and np.all(eta >= 0), f"accepted lrs {lrs!r}"
        ref = [mu]
        for t in range(1, eta.size):
            prev, cur = float(eta[t - 1]), float(eta[t])
            assert not (mu > 0 and prev == 0 and cur > 0), "accepted a rate after a zero rate"
            ref.append(mu * cur / prev if prev > 0 else 0.0)
        close(r, ref, 1e-15, "torch momentum")

    entry(f"{M}:heavy_ball_momentum_of_torch_sgd", momentum.heavy_ball_momentum_of_torch_sgd,
          {"lrs": [0.4, 0.2, 0.1], "momentum": 0.9}, {"lrs": "vector", "momentum": "real"}, o_torch)

    def o_is_stable(r, kw):
        p = problem_of(kw["problem"])
        lr, mu, b = real(kw["lr"]), real(kw["momentum"]), real(kw["batch"])
        assert lr > 0 and 0 <= mu < 1 and b >= 1, f"accepted lr={lr!r}, momentum={mu!r}, batch={b!r}"
        assert isinstance(r, bool)
        rad = radius(p, lr, mu, b)
        if p.dimension <= 3 and math.isfinite(rad) and abs(rad - 1) > 1e-9:
            assert r == (rad < 1), f"is_stable_with_momentum {r} but the radius is {rad}"

    entry(f"{M}:is_stable_with_momentum", momentum.is_stable_with_momentum,
          {"problem": PM, "lr": 0.5, "momentum": 0.5, "batch": 2},
          {"problem": "problem", "lr": "real", "momentum": "real", "batch": "real"}, o_is_stable)

    def o_limit(r, kw):
        p = problem_of(kw["problem"])
        mu, b = real(kw["momentum"]), real(kw["batch"])
        assert 0 <= mu < 1 and b >= 1, f"accepted momentum={mu!r}, batch={b!r}"
        r = real(r)
        assert 0 < r <= 2 * (1 + mu) / float(np.max(p.eigenvalues)) * (1 + 1e-12)
        assert momentum.is_stable_with_momentum(p, r, mu, b)
        # Resolvable in float64: the dense eigenvalues of this non-normal map carry errors of about
        # 1e-10 near radius 1, so the ±1e-6 bracket is checked only away from μ → 1 (at μ = 0.99999
        # the radius at 0.999999 η* is 1 − O(1e-11), below what the dense solver resolves).
        if p.dimension <= 3 and mu <= 0.999 and radius(p, 1e-3 * r, mu, b) < 1 - 1e-9:
            assert radius(p, r * (1 - 1e-6), mu, b) < 1 < radius(p, r * (1 + 1e-6), mu, b)

    entry(f"{M}:momentum_stability_limit", momentum.momentum_stability_limit,
          {"problem": PM, "momentum": 0.5, "batch": 2},
          {"problem": "problem", "momentum": "real", "batch": "real"}, o_limit)

    def o_step(r, kw):
        s, c, p_, lam = (vector(kw[k]) for k in ("second_moment", "cross_moment", "previous_moment", "eigenvalues"))
        assert s.ndim == 1 and s.shape == c.shape == p_.shape == lam.shape, "accepted mismatched shapes"
        assert np.all(lam > 0) and np.all(s >= 0) and np.all(p_ >= 0)
        lr, mu, b, noise, k = (real(kw[n]) for n in ("lr", "momentum", "batch", "noise_variance", "kurtosis"))
        assert lr >= 0 and mu >= 0 and b >= 1 and noise >= 0 and k >= 1
        m = np.ones_like(lam) if kw["multiplicity"] is None else vector(kw["multiplicity"])
        assert m.shape == lam.shape and np.all(m >= 1)
        q = float(np.sum(m * lam * s))
        ref = []
        for i in range(lam.size):
            li, x = float(lam[i]), lr * float(lam[i])
            a = 1 + mu - x
            with np.errstate(all="ignore"):  # another order of operations may overflow where the function did not
                new_s = (a * a + (k - 2) / b * x * x) * s[i] - 2 * a * mu * c[i] + mu * mu * p_[i] \
                    + lr * lr / b * li * (q + noise)
                ref.append((max(new_s, 0.0), a * s[i] - mu * c[i], s[i]))
        for j, name in enumerate(("S", "C", "P")):
            finite(r[j])
            close(r[j], [v[j] for v in ref], 1e-12, name)

    entry(f"{M}:momentum_moment_step", momentum.momentum_moment_step,
          {"second_moment": [1.0, 2.0], "cross_moment": [0.5, -1.0], "previous_moment": [1.0, 1.5],
           "eigenvalues": [1.0, 0.5], "lr": 0.3, "momentum": 0.8, "batch": 2.0, "noise_variance": 0.1,
           "kurtosis": 3.0, "multiplicity": None},
          {"second_moment": "vector", "cross_moment": "vector", "previous_moment": "vector", "eigenvalues": "vector",
           "lr": "real", "momentum": "real", "batch": "real", "noise_variance": "real", "kurtosis": "real",
           "multiplicity": "vector"}, o_step)

    SR = Schedule([0.5, 0.5, 0.25], [4, 4, 2])

    def o_expected(r, kw):
        p = problem_of(kw["problem"])
        sched = kw["schedules"]
        if not isinstance(sched, Schedule):
            assert isinstance(sched, (list, tuple)) and len(sched) == 1 and isinstance(sched[0], Schedule)
            assert isinstance(r, tuple) and len(r) == 1
            sched, r = sched[0], r[0]
        opt = choice(kw["optimizer"], ("sgd", "nsgd"))
        mom = kw["momentum"]
        if np.ndim(mom) == 0 and not isinstance(mom, (list, tuple)):
            mu = real(mom)
            assert 0 <= mu < 1, f"accepted momentum {mom!r}"
            mus = [mu] * len(sched)
        else:
            arr = vector(mom)
            assert arr.ndim == 1 and arr.size == len(sched) and np.all(arr >= 0), f"accepted momentum {mom!r}"
            mus = arr.tolist()
        lrs, bs = sched.step_arrays()
        ref = plain_momentum_risks(p, lrs.tolist(), bs.tolist(), mus, opt)
        bound = 1e12 * (ref[0] + p.noise_variance)
        first_bad = next((t for t, x in enumerate(ref) if not x <= bound), None)
        assert first_bad is None, "a diverging run was not reported"  # on_divergence="raise"
        close(r.risk, ref, 1e-10, "risk")

    entry("ramplab.theory.dynamics.recursion:expected_risk[momentum]", recursion.expected_risk,
          {"problem": P, "schedules": SR, "optimizer": "sgd", "momentum": 0.5},
          {"problem": "problem", "schedules": "schedule", "optimizer": "choice", "momentum": "vector"},
          o_expected, raises=(DivergenceError,),
          skip={"schedules": tuple(x for x in POOLS["schedule"] if isinstance(x, Schedule) and len(x) > 2**20)})
# --- sweeps ----------------------------------------------------------------------------------
def _sweep_spec_size(spec: dict) -> dict:
    """The sweep entry's task: defined for every spec a sweep accepts."""
    return {"n": len(spec)}


def _hex64(r: Any) -> str:
    assert isinstance(r, str) and re.fullmatch(r"[0-9a-f]{64}", r), f"not 64 hex digits: {r!r}"
    return r


def _register_sweeps() -> None:
    import contextlib
    import itertools
    import tempfile

    import ramplab.sweeps as sweeps
    from collections.abc import Mapping as MappingABC

    M = "ramplab.sweeps"
    exempt(f"{M}:EXECUTORS", "constant")
    exempt(f"{M}:SweepResult", "result record, built by sweep")
    exempt(f"{M}:SerialExecutor", "takes no arguments; submit/shutdown are the concurrent.futures API, "
                                  "tested in tests/sweeps")

    def mapping_of_str(v: Any) -> dict:
        assert isinstance(v, MappingABC) and all(isinstance(k, str) for k in v), f"accepted {v!r} as a spec"
        return dict(v)

    def o_spec_hash(r, kw):
        spec = mapping_of_str(kw["spec"])
        _hex64(r)
        # Order of keys does not matter; one more key does.
        assert r == sweeps.spec_hash(dict(reversed(list(spec.items()))))
        assert r != sweeps.spec_hash({**spec, "__extra__": 1})

    entry(f"{M}:spec_hash", sweeps.spec_hash, lambda: {"spec": {"lr": 0.1, "batch": 4}},
          {"spec": "mapping"}, o_spec_hash)

    def o_spec_seed(r, kw):
        spec = mapping_of_str(kw["spec"])
        root = integer(kw["root_seed"])
        assert root >= 0 and isinstance(r, np.random.SeedSequence)
        # The documented entropy: the root seed, then the spec hash read as four 64-bit integers.
        h = _hex64(sweeps.spec_hash(spec))
        assert list(r.entropy) == [root, *(int(h[i:i + 16], 16) for i in range(0, 64, 16))]

    entry(f"{M}:spec_seed", sweeps.spec_seed, lambda: {"spec": {"lr": 0.1}, "root_seed": 0},
          {"spec": "mapping", "root_seed": "int"}, o_spec_seed)

    def o_code_hash(r, kw):
        _hex64(r)
        assert kw["func"] is None or callable(kw["func"]), f"accepted {kw['func']!r}"
        if kw["func"] is None:
            assert r == sweeps.code_hash()

    entry(f"{M}:code_hash", sweeps.code_hash, {"func": None}, {"func": "callable"}, o_code_hash)

    def call_grid(**axes):
        return sweeps.grid(**axes)

    def o_grid(r, kw):
        axes = []
        for v in kw.values():
            if isinstance(v, np.ndarray):
                assert v.ndim == 1, f"accepted an array axis of shape {v.shape}"
                v = v.tolist()
            if isinstance(v, (list, tuple)):
                assert len(v) > 0, "accepted an empty axis"
                axes.append(list(v))
            else:
                axes.append([v])
        expected = [dict(zip(kw, combo)) for combo in itertools.product(*axes)]
        assert len(r) == len(expected)
        for got, want in zip(r, expected):
            assert list(got) == list(want) and all(got[k] is want[k] or got[k] == want[k] for k in want)

    entry(f"{M}:grid", call_grid, {"lr": [0.1, 0.2], "batch": 4}, {"lr": "any", "batch": "any"}, o_grid)

    def call_sweep(**kw):
        # A string ``cache`` is a folder: keep the ones the pools hand in out of the working directory.
        with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
            return sweeps.sweep(kw.pop("func"), kw.pop("specs"), **kw)

    def o_sweep(r, kw):
        assert callable(kw["func"])
        specs = list(kw["specs"])
        assert specs and all(isinstance(s, MappingABC) for s in specs), f"accepted specs {kw['specs']!r}"
        threads = integer(kw["threads"])
        assert 1 <= threads <= 1024
        assert kw["progress"] is None or isinstance(kw["progress"], (bool, np.bool_)), "accepted progress"
        assert kw["label"] is None or isinstance(kw["label"], str), "accepted label"
        assert kw["executor"] is None, f"accepted executor {kw['executor']!r}"
        assert kw["cache"] is None or kw["cache"] is False or isinstance(kw["cache"], str), "accepted cache"
        assert r.table["n"].tolist() == [len(s) for s in specs]

    entry(f"{M}:sweep", call_sweep,
          lambda: {"func": _sweep_spec_size, "specs": [{"x": 1.0}, {"x": 2.0, "y": 3}], "executor": None,
                   "cache": None, "threads": 1, "progress": False, "label": None},
          {"func": "callable", "specs": "sequence", "executor": "any", "cache": "any", "threads": "int",
           "progress": "flag", "label": "label"}, o_sweep)

    def call_open_executor(**kw):
        with sweeps.open_executor(**kw) as ex:
            return type(ex).__name__

    def o_open_executor(r, kw):
        choice(kw["kind"], ("serial",))
        assert kw["workers"] is None or 1 <= integer(kw["workers"]) <= 65536
        assert kw["scheduler"] is None, f"accepted scheduler {kw['scheduler']!r} for a serial executor"
        assert r == "SerialExecutor"

    entry(f"{M}:open_executor", call_open_executor, {"kind": "serial", "workers": None, "scheduler": None},
          {"kind": "choice", "workers": "int", "scheduler": "any"}, o_open_executor)

    def call_pinned(**kw):
        with sweeps.pinned_threads(**kw):
            try:
                import numba
            except ImportError:
                return None
            return numba.get_num_threads(), numba.config.NUMBA_NUM_THREADS

    def o_pinned(r, kw):
        threads = integer(kw["threads"])
        assert 1 <= threads <= 1024
        if r is not None:
            assert r[0] == min(threads, r[1])

    entry(f"{M}:pinned_threads", call_pinned, {"threads": 1}, {"threads": "int"}, o_pinned)


for _register in (_register_sfo, _register_growth, _register_growth_exponents, _register_families, _register_released, _register_equivalence,
                  _register_simulations, _register_proofs, _register_schedules,
                  _register_problem, _register_dynamics, _register_recursion,
                  _register_shapes, _register_monte_carlo, _register_compression, _register_seesaw,
                  _register_momentum, _register_sweeps, _register_interop):
    _register()


# ----------------------------------------------------------------------------- tests
def _public_callables() -> list[str]:
    out = []
    for mod_name in MODULES:
        mod = importlib.import_module(mod_name)
        for name in mod.__all__:
            out.append(f"{mod_name}:{name}")
    return out


def _resolve(qualified: str) -> Any:
    mod_name, name = qualified.split("[")[0].split(":")
    obj: Any = importlib.import_module(mod_name)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _owner(qualified: str) -> str:
    """``module:Name`` of an entry (``module:Name.method[variant]`` → ``module:Name``)."""
    mod_name, name = qualified.split("[")[0].split(":")
    return f"{mod_name}:{name.split('.')[0]}"


def test_table_is_complete():
    """Every public name of :data:`MODULES` has an entry or an exemption (a re-export counts as its
    original), and every entry and exemption names something public."""
    public = _public_callables()
    covered = {id(_resolve(_owner(n))) for n in list(ENTRIES) + list(EXEMPT)}
    missing = [n for n in public if id(_resolve(n)) not in covered]
    assert not missing, f"public names without a hostile-input entry or an EXEMPT reason: {missing}"
    stale = [n for n in list(ENTRIES) + list(EXEMPT) if _owner(n) not in public]
    assert not stale, f"entries or exemptions for names that are not public: {stale}"
    for n in ENTRIES:
        _resolve(n)  # methods exist


def test_valid_calls_are_correct():
    """The oracles accept every entry's valid call (so a failure below is the hostile value's)."""
    for name, e in ENTRIES.items():
        kwargs = e.valid()
        e.oracle(bounded_call(e.call, kwargs), kwargs)


CASES = [(name, arg) for name, e in ENTRIES.items() for arg in e.args]


def _assert_handled(name: str, arg: str, value: Any) -> None:
    outcome, detail = classify(name, arg, value)
    assert outcome in ("clear error", "correct"), f"{name}({arg}={_short(value)}): {outcome}: {detail}"


@pytest.mark.parametrize(("name", "arg"), CASES, ids=[f"{n.split(':')[1]}-{a}" for n, a in CASES])
def test_fixed_hostile_values(name: str, arg: str) -> None:
    failures = []
    for value in ENTRIES[name].values(arg):
        outcome, detail = classify(name, arg, value)
        if outcome not in ("clear error", "correct"):
            failures.append(f"{arg}={_short(value)}: {outcome}: {detail}")
    assert not failures, f"{name}:\n" + "\n".join(failures)


@pytest.mark.parametrize(("name", "arg"), CASES, ids=[f"{n.split(':')[1]}-{a}" for n, a in CASES])
def test_random_hostile_values(name: str, arg: str) -> None:
    skipped = ENTRIES[name].skip.get(arg, ())

    @settings(settings.get_profile("hostile-slow" if os.environ.get("RAMPLAB_SLOW") == "1" else "hostile"))
    @given(value=hostile_strategy(ENTRIES[name].kinds[arg]).filter(lambda v: not any(v is x for x in skipped)))
    def run(value: Any) -> None:
        _assert_handled(name, arg, value)

    run()


# ----------------------------------------------------------------------------- the sweep
def _short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a repr that fails on extreme values
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def sweep(verbose: bool = False) -> Counter:
    """Classify every (entry, argument, fixed hostile value); print the counts."""
    counts: Counter = Counter()
    by_entry: dict[str, Counter] = {}
    for name, arg in CASES:
        for value in ENTRIES[name].values(arg):
            outcome, detail = classify(name, arg, value)
            counts[outcome] += 1
            by_entry.setdefault(name, Counter())[outcome] += 1
            if verbose and outcome not in ("clear error", "correct"):
                print(f"{outcome:13s} {name}({arg}={_short(value)}): {detail}")
    print(f"{len(ENTRIES)} entries, {len(CASES)} arguments, {sum(counts.values())} cases")
    for o in OUTCOMES:
        print(f"  {o:14s} {counts[o]}")
    return counts


def _cases_of(name: str) -> list[tuple[str, Any]]:
    return [(arg, value) for arg in ENTRIES[name].args for value in ENTRIES[name].values(arg)]


def _isolated_sweep(verbose: bool) -> None:
    """The sweep with each entry in a child process, so that a crash (segfault, OOM kill) of one
    case is counted as an unclear error and the sweep goes on."""
    import json
    import subprocess

    counts: Counter = Counter()
    for name in ENTRIES:
        total, skip = len(_cases_of(name)), 0
        while skip < total:
            proc = subprocess.run([sys.executable, __file__, "--entry", name, "--skip", str(skip)],
                                  capture_output=True, text=True)
            lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
            for rec in lines:
                counts[rec["outcome"]] += 1
                if verbose and rec["outcome"] not in ("clear error", "correct"):
                    print(f"{rec['outcome']:13s} {name}({rec['arg']}={rec['value']}): {rec['detail']}")
            skip += len(lines)
            if proc.returncode != 0 and skip < total:
                arg, value = _cases_of(name)[skip]
                counts["unclear error"] += 1
                if verbose:
                    print(f"unclear error {name}({arg}={_short(value)}): process died ({proc.returncode})")
                skip += 1
    print(f"{len(ENTRIES)} entries, {len(CASES)} arguments, {sum(counts.values())} cases")
    for o in OUTCOMES:
        print(f"  {o:14s} {counts[o]}")


if __name__ == "__main__":
    import json
    import warnings

    warnings.simplefilter("error", RuntimeWarning)  # as under pytest (pyproject.toml filterwarnings)
    if "--entry" in sys.argv:
        name = sys.argv[sys.argv.index("--entry") + 1]
        skip = int(sys.argv[sys.argv.index("--skip") + 1])
        for arg, value in _cases_of(name)[skip:]:
            outcome, detail = classify(name, arg, value)
            print(json.dumps({"arg": arg, "value": _short(value), "outcome": outcome, "detail": detail}), flush=True)
    elif "--match" in sys.argv:
        pattern = sys.argv[sys.argv.index("--match") + 1]
        CASES[:] = [(n, a) for n, a in CASES if pattern in n]
        sweep(verbose=True)
    elif "--isolated" in sys.argv:
        _isolated_sweep("--verbose" in sys.argv)
    else:
        sweep(verbose="--verbose" in sys.argv)
