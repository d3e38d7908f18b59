"""Shared machinery of the hostile-input tests: every public entry point gives a clear error or a correct,
finite answer.

How it works
------------
Each ``test_hostile*.py`` file (next to its subpackage's tests: tests/theory/complexity/test_hostile_complexity.py,
…_schedules.py, …_dynamics.py, tests/simulations/test_hostile.py, tests/proofs/test_hostile.py,
tests/sweeps/test_hostile.py, tests/interop/test_hostile.py) holds a :class:`Table`
``name → Entry(call, valid, kinds, oracle)``: ``valid()`` returns the keyword arguments of one valid
call; ``kinds`` says, per argument, which pool of hostile values to substitute; ``oracle(result,
kwargs)`` checks a returned result against an *independent* plain float64 (or exact
:class:`fractions.Fraction`) computation and raises ``AssertionError`` when it is wrong. One argument
at a time is replaced by a hostile value (NaN, ±inf, 1e308, 2**63, 2**64, negative, zero, empty, wrong
shapes, bools, strings, complex, object arrays, int64 edges, …) and each call is classified
(:meth:`Table.classify`) as

- ``clear error``: ``ValueError``/``TypeError`` whose message names the argument (accepted);
- ``correct``: a result the oracle accepts (accepted);
- ``silent wrong``: a result the oracle rejects (NaN, inf, negative, wrong number, or a value
  that should have been refused);
- ``unclear error``: any other exception, or one that does not name the argument;
- ``hang``: the call ran past :data:`CALL_SECONDS` (interrupted with ``signal.setitimer``).

No wall-clock bound includes compilation or depends on the machine's load: before any bounded call,
:func:`warm_numba_kernels` compiles every numba kernel the exact solver can reach and
:meth:`Table.warm` runs every entry's valid call once (imports, JIT of JAX and the like), both
without a bound; :data:`CALL_SECONDS` is then far above any legitimate call here (each well under
a second), so only a true hang reaches it.

:data:`MODULES` lists the modules whose ``__all__`` is driven; tests/test_hostile_inputs.py's
completeness check fails when one of their public names has neither an entry nor an exemption in
some table (constants, result records). Entries are named ``module:Name[variant]``; the module part
is only a label: names are resolved through :func:`find`, which falls back from a module that was
renamed (``sfo`` → ``_sfo``) or made private to the subpackage that re-exports its names, and
coverage is checked by object identity. To add a module: append it to :data:`MODULES`, then add an
:class:`Entry` per public callable to the table of its subpackage (reuse the kinds of
:data:`POOLS`, or add one).

Two tests per (entry, argument): the whole fixed pool of that argument's kind (deterministic), and
hypothesis draws (random floats and integers over the full range, arrays of any dtype); they are
made by :func:`make_tests`. Run tests/test_hostile_inputs.py as a script for the sweep's counts.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import os
import re
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ramplab.theory import Problem, Schedule

from oracles import sgd_moments

#: Wall-clock bound per call; a call past it is a hang. Every bounded call comes after the warm-up
#: (compiled kernels, imports), and each legitimate call here takes well under a second, so this is
#: generous on a machine several times oversubscribed.
CALL_SECONDS = 120.0

#: The modules whose ``__all__`` the hostile tables drive (a module renamed to its private ``_name``
#: is found under that name; one that is gone must be replaced here by the module that now holds its
#: public names).
MODULES = (
    "ramplab.theory",
    "ramplab.theory.dynamics",
    "ramplab.theory.schedules",
    "ramplab.theory.complexity",
    "ramplab.simulations.samplers",
    "ramplab.simulations.streams",
    "ramplab.proofs",
    "ramplab.proofs.derivation",
    "ramplab.proofs.sfo",
    "ramplab.proofs.growth",
    "ramplab.proofs.equivalence",
    "ramplab.proofs.schedule_sums",
    "ramplab.proofs.symbols",
    "ramplab.simulations.monte_carlo",
    "ramplab.proofs.momentum",
    "ramplab.sweeps",
    "ramplab.interop",
    "ramplab.interop.steps",
    "ramplab.interop.frameworks",
    "ramplab.plot",
)

FLOAT_MAX = np.finfo(np.float64).max


# ----------------------------------------------------------------------------- public names
def _candidates(module: str) -> list[str]:
    """Where the public names of ``module`` may live: itself, its private successor ``_name``, then the
    enclosing packages that re-export them (``ramplab.theory.dynamics``, ``ramplab.theory``)."""
    parts = module.split(".")
    out = [module, ".".join([*parts[:-1], "_" + parts[-1]])]
    out += [".".join(parts[:k]) for k in range(len(parts) - 1, 1, -1)]
    return out


def _import(name: str) -> Any | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            return None  # that module does not exist (any other missing import is a real error)
        raise


def module_of(module: str) -> Any:
    """The module whose ``__all__`` stands for ``module``: itself, or its private successor ``_name``."""
    for name in _candidates(module)[:2]:
        mod = _import(name)
        if mod is not None:
            return mod
    raise LookupError(f"module {module} is gone (and no {_candidates(module)[1]}): replace it in hostile.MODULES "
                      "by the module that now holds its public names")


def find(module: str, name: str) -> Any:
    """The object ``name`` (dotted: ``Schedule.from_segments``) documented in ``module``, found there or,
    after a rename, in its private successor or a package that re-exports it."""
    for cand in _candidates(module):
        obj = _import(cand)
        if obj is None:
            continue
        try:
            for part in name.split("."):
                obj = getattr(obj, part)
        except AttributeError:
            continue
        return obj
    raise LookupError(f"{name} is neither in {module} nor in any of {_candidates(module)[1:]}")


class Public:
    """``Public("ramplab.theory.complexity.sfo").gradient_target``: :func:`find` as attribute access."""

    def __init__(self, module: str) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return find(self._module, name)


def resolve(qualified: str) -> Any:
    """The object an entry or exemption names (``module:Name.method[variant]`` → ``Name.method``)."""
    mod_name, name = qualified.split("[")[0].split(":")
    return find(mod_name, name)


def owner(qualified: str) -> str:
    """``module:Name`` of an entry (``module:Name.method[variant]`` → ``module:Name``)."""
    mod_name, name = qualified.split("[")[0].split(":")
    return f"{mod_name}:{name.split('.')[0]}"


def public_names() -> dict[str, Any]:
    """``module:name → object`` for every name in the ``__all__`` of :data:`MODULES`."""
    out = {}
    for mod_name in MODULES:
        mod = module_of(mod_name)
        for name in mod.__all__:
            out[f"{mod_name}:{name}"] = getattr(mod, name)
    return out


# ----------------------------------------------------------------------------- warm-up
_WARM: set[str] = set()


def warm_numba_kernels() -> None:
    """Compile every numba kernel the exact solver can reach, once per process, with no time bound.

    The fused solver (``kernel="auto"`` on NumPy) runs ``weighted_sums`` and, per chunk, the serial or
    the parallel group kernel (several schedules on several threads) or the wide layout (one schedule,
    d·rows ≥ 16 tiles); heavy-ball momentum has its own serial and parallel kernels. Each is compiled
    per array dtype (float64, float32). The calls go through the public ``expected_risk``, so they take
    the paths the tests take on this machine, whatever its thread count.
    """
    if "numba" in _WARM:
        return
    from ramplab.theory import HeavyBall, Numerics, expected_risk

    small = Problem([1.0, 0.5, 0.25], [1.0, 1.0, 1.0], noise_variance=0.1)
    wide = Problem.power_law(16 * 8192, 1.5, 1.0, 0.1)  # one schedule at d ≥ 16 tiles: the wide layout
    one = Schedule.constant(0.1, 2, steps=3)
    two = [one, Schedule.constant(0.05, 4, steps=2)]
    for dtype in ("float64", "float32"):
        for schedules in (one, two):
            for optimizer in ("sgd", "nsgd"):
                for average, split in ((None, False), ("uniform", True)):
                    expected_risk(small, schedules, optimizer, average=average, split=split,
                                  numerics=Numerics(dtype=dtype, kernel="fused"))
                    expected_risk(small, schedules, HeavyBall(0.5, optimizer=optimizer), average=average,
                                  split=split, numerics=Numerics(dtype=dtype, kernel="fused"))
        expected_risk(wide, one, numerics=Numerics(dtype=dtype, kernel="fused"))
        expected_risk(wide, one, "nsgd", average="uniform", split=True, numerics=Numerics(dtype=dtype, kernel="fused"))
    _WARM.add("numba")

# ----------------------------------------------------------------------------- hostile pools
UNIVERSAL: list[Any] = [
    math.nan, math.inf, -math.inf, 1e308, -1e308, 2**63, 2**64, -(2**63) - 1,
    np.int64(2**63 - 1), np.int64(-(2**63)), -1, 0, -0.0, 5e-324, True, False,
    "1", "abc", b"1", 1 + 0j, 1j, np.complex128(2.0), None, object(),
    [], [math.nan], [1.0, math.inf], [[1.0, 2.0]], ["1"], [True],
    np.array([1, 2], dtype=object), np.array([1.0], dtype=complex), np.array(["a"]), np.zeros(0),
    np.array([2**63 - 1, 2**62], dtype=np.int64), np.float32("nan"), {}, (1, 2, 3),
]


class RaisingArray:
    """A foreign array whose ``__array__`` raises ``exc`` (#19 kind 10)."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise self.exc

    def __repr__(self) -> str:
        return f"RaisingArray({self.exc!r})"


def foreign_arrays() -> list[Any]:
    """Foreign arrays of the installed frameworks that NumPy cannot read (#19 kind 10): a torch tensor
    that requires grad (torch raises its own ``RuntimeError``), one of dtype bfloat16."""
    if importlib.util.find_spec("torch") is None:
        return []
    import torch

    return [torch.tensor([1.0, 0.5], dtype=torch.float64, requires_grad=True),
            torch.tensor([1.0, 0.5], dtype=torch.bfloat16)]


def make_problem(lam, s0, noise=0.0, kurtosis=3.0) -> Problem:
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
               np.array([[1.0], [2.0]]), [2**64, 1], np.array([np.nan, 1.0]),
               # #19 kinds 7 and 10: a mask NumPy would drop, long doubles, foreign arrays whose conversion
               # raises its own exception (a torch tensor that requires grad, an ``__array__`` that raises).
               np.ma.masked_array([1.0, -5.0], mask=[False, True]), [1.0, np.ma.masked],
               np.array([0.5, 0.25], dtype=np.longdouble), RaisingArray(RuntimeError("boom")),
               *foreign_arrays()],
    "choice": ["", "GENERAL", "norm ", ["norm"], np.array(["norm", "squared"]), 3],
    "flag": ["yes", "", np.bool_(True), np.True_, 1, 0.0],
    "label": [3, b"x", ["x"]],
    "mapping": [[("a", 1)], "ab", 3, {"counting": "x"}],
    "problem": [make_problem([1e150], [1e150], 1e300), make_problem([1e-300, 1.0], [0.0, 0.0], 0.0),
                make_problem([2.0, 1.0], [1e300, 1e300], 0.0, 1.0), "Problem", {"eigenvalues": [1.0]}],
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
    """``fn(**kwargs)`` interrupted by :class:`Hang` after ``seconds`` (main thread only; unbounded where
    there is no interval timer). Call it only after the warm-up (:func:`warm_numba_kernels`,
    :meth:`Table.warm`): the bound is for hangs, never for compilation."""
    if not hasattr(signal, "setitimer"):
        return fn(**kwargs)
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
    """``Σλ²s(t)`` after each step, by the plain SGD second-moment loop of tests/oracles.py (a diverging
    run ends at its first non-finite risk)."""
    return sgd_moments(problem, lrs, batches)["gradient_norm"].tolist()


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
        return [v for v in UNIVERSAL + POOLS[self.kinds[arg]] if not self.skipped(arg, v)]

    def skipped(self, arg: str, value: Any) -> bool:
        """Whether ``value`` is one of the ``skip`` values of ``arg``: the same object, or a number or
        string of the same type and value (the tables and the pools live in different modules, so an
        equal literal such as ``2**31`` is not the same object)."""
        return any(value is x or (type(value) is type(x) and isinstance(x, (int, float, str, bytes, np.generic))
                                  and bool(value == x)) for x in self.skip.get(arg, ()))

    def __post_init__(self) -> None:
        self.args = tuple(self.kinds)



class Table:
    """The entries of one test file, and the public names it exempts (with the reason)."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self.exempt_names: dict[str, str] = {}
        self._warm = False

    def entry(self, name: str, call: Callable[..., Any], valid: dict[str, Any] | Callable[[], dict[str, Any]],
              kinds: dict[str, str], oracle: Callable[[Any, dict[str, Any]], None],
              raises: tuple[type[BaseException], ...] = (), skip: dict[str, tuple[Any, ...]] | None = None) -> None:
        """Register an entry point; ``raises``: documented outcomes that are not argument errors (a
        :class:`DivergenceError` of an unstable run), counted as clear errors; ``skip``: per argument,
        values of the pools not to substitute (a valid default that is merely expensive), with the reason
        in a comment at the call."""
        assert name not in self.entries, f"entry {name} registered twice"
        factory = valid if callable(valid) else (lambda v=valid: dict(v))
        self.entries[name] = Entry(call, factory, kinds, oracle, raises, skip or {})

    def exempt(self, names: str, reason: str) -> None:
        for n in names.split():
            self.exempt_names[n] = reason

    @property
    def cases(self) -> list[tuple[str, str]]:
        """(entry, argument) pairs, one pair of tests each."""
        return [(name, arg) for name, e in self.entries.items() for arg in e.args]

    def warm(self) -> None:
        """Once per process: the numba kernels, then every entry's valid call, unbounded (first imports,
        JIT compilation); errors are left to :func:`test_valid_calls_are_correct` to report."""
        if self._warm:
            return
        warm_numba_kernels()
        for e in self.entries.values():
            try:
                e.call(**e.valid())
            except Exception:  # noqa: BLE001 - reported by the valid-call test
                pass
        self._warm = True

    def classify(self, name: str, arg: str, value: Any) -> tuple[str, str]:
        """Outcome of calling entry ``name`` with ``arg`` replaced by ``value``, and a detail line."""
        entry = self.entries[name]
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


# Shared valid objects.
P = make_problem([1.0, 0.5], [1.0, 0.5], 1e-3)
S = Schedule.constant(0.5, 4, steps=3)



# ----------------------------------------------------------------------------- the tests of a table
def short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a repr that fails on extreme values
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def make_tests(table: Table) -> tuple[Callable[..., None], ...]:
    """The three tests of a table, to bind in its test module:
    ``test_valid_calls_are_correct, test_fixed_hostile_values, test_random_hostile_values = make_tests(TABLE)``."""
    cases = table.cases
    ids = [f"{n.split(':')[1]}-{a}" for n, a in cases]

    @pytest.mark.usefixtures("warm_kernels")
    def test_valid_calls_are_correct() -> None:
        """The oracles accept every entry's valid call (so a failure below is the hostile value's)."""
        table.warm()
        for name, e in table.entries.items():
            kwargs = e.valid()
            e.oracle(bounded_call(e.call, kwargs), kwargs)

    @pytest.mark.usefixtures("warm_kernels")
    @pytest.mark.parametrize(("name", "arg"), cases, ids=ids)
    def test_fixed_hostile_values(name: str, arg: str) -> None:
        table.warm()
        failures = []
        for value in table.entries[name].values(arg):
            outcome, detail = table.classify(name, arg, value)
            if outcome not in ("clear error", "correct"):
                failures.append(f"{arg}={short_repr(value)}: {outcome}: {detail}")
        assert not failures, f"{name}:\n" + "\n".join(failures)

    @pytest.mark.usefixtures("warm_kernels")
    @pytest.mark.parametrize(("name", "arg"), cases, ids=ids)
    def test_random_hostile_values(name: str, arg: str) -> None:
        table.warm()
        e = table.entries[name]
        values = hostile_strategy(e.kinds[arg]).filter(lambda v: not e.skipped(arg, v))

        @settings(settings.get_profile("hostile-slow" if os.environ.get("RAMPLAB_SLOW") == "1" else "hostile"))
        @given(value=values)
        def run(value: Any) -> None:
            outcome, detail = table.classify(name, arg, value)
            assert outcome in ("clear error", "correct"), f"{name}({arg}={short_repr(value)}): {outcome}: {detail}"

        run()

    return test_valid_calls_are_correct, test_fixed_hostile_values, test_random_hostile_values


# ----------------------------------------------------------------------------- all tables
_TABLES: dict[str, Table] = {}


def table_files() -> list[Path]:
    """Every hostile table file under tests/ (``test_hostile*.py``, less the completeness check)."""
    root = Path(__file__).resolve().parent
    return sorted(p for p in root.rglob("test_hostile*.py") if p.name != "test_hostile_inputs.py")


def all_tables() -> dict[str, Table]:
    """``path → Table`` of every table file, each loaded once per process under a name of its own."""
    root = Path(__file__).resolve().parent
    for path in table_files():
        key = str(path.relative_to(root))
        if key in _TABLES:
            continue
        mod_name = "hostile_table_" + re.sub(r"\W", "_", key[:-3])
        spec = importlib.util.spec_from_file_location(mod_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        spec.loader.exec_module(module)
        _TABLES[key] = module.TABLE
    return dict(_TABLES)
