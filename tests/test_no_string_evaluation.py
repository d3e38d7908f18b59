"""Security (#19 kind 1): no public callable of ramplab evaluates a string as code.

:func:`sympy.sympify` and :func:`sympy.nsimplify` run a string through ``eval``; once one argument
of a function was a sympy object, ``growth_exponent`` sent the other one through ``sympify``, so
``growth_exponent(Symbol("g"), "__import__('os').system('id') or 2")`` ran ``id``.

The test walks the public surface (the ``__all__`` of every public module of every subpackage, the
public classmethods and staticmethods of the classes there, and the public methods of a few sample
instances), introspects each callable's parameters and calls it with strings whose evaluation
creates a marker file, in every parameter in turn, the others set to a sympy symbol, a number, or
their defaults (and as the element of a list). Whatever the call does (most refuse the string), the
marker must never appear.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import signal
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import sympy as sp

import ramplab

#: Seconds one call may run before it is interrupted (a call that legitimately computes something
#: with the values given is not what this test is about; the marker is checked either way).
CALL_BOUND = 20.0

#: Callables left out of the walk, with the reason: they run the machine's benchmarks for minutes
#: with their defaults, and take no expression (their string parameters are choices among names).
SKIP = {
    "ramplab.benchmarks.exact_solver.measure": "runs the exact-solver benchmark (minutes)",
    "ramplab.benchmarks.exact_solver.triad_bandwidth": "times memory bandwidth",
    "ramplab.benchmarks.samplers.measure": "runs the sampler benchmark (minutes)",
    "ramplab.benchmarks.fused_kernel.first_call_costs": (
        "starts a fresh interpreter that compiles the kernels (≈ 20 s a call); its string is a folder passed as "
        "NUMBA_CACHE_DIR and the child reads its sizes with int()"),
}

#: Small values used instead of a parameter's default where the default runs for minutes (full-scale
#: benchmarks whose string parameter is a path: the string is still passed, at a small size).
SMALL_DEFAULTS: dict[str, dict[str, Any]] = {
    "ramplab.benchmarks.peer_scale.compute_reference": {"dimension": 20, "steps": 4},
    "ramplab.benchmarks.peer_scale.peer_scale_rows": {"dimension": 20, "steps": 4},
}


def _public_modules() -> list[Any]:
    out = []
    for info in pkgutil.walk_packages(ramplab.__path__, "ramplab."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        out.append(importlib.import_module(info.name))
    return out


def _sample_instances() -> list[Any]:
    from ramplab.proofs.derivation import check_zero
    from ramplab.theory import Problem, Schedule

    x = sp.Symbol("x")
    return [Problem([1.0, 0.5], [1.0, 1.0], noise_variance=0.1), Schedule.constant(0.1, 2, steps=3),
            check_zero("x - x = 0", x - x)]


def public_callables() -> dict[str, Callable[..., Any]]:
    """``qualified name → callable`` of every public function, class, classmethod and staticmethod."""
    found: dict[str, Callable[..., Any]] = {}
    seen: set[int] = set()

    def add(name: str, obj: Any) -> None:
        if callable(obj) and id(obj) not in seen:
            seen.add(id(obj))
            found[name] = obj

    for mod in _public_modules():
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name, None)
            if inspect.isclass(obj):
                if issubclass(obj, BaseException):
                    continue
                add(f"{mod.__name__}.{name}", obj)
                for attr, raw in vars(obj).items():
                    if not attr.startswith("_") and isinstance(raw, (classmethod, staticmethod)):
                        add(f"{mod.__name__}.{name}.{attr}", getattr(obj, attr))
            elif inspect.isfunction(obj) or inspect.isbuiltin(obj) or callable(obj):
                add(f"{mod.__name__}.{name}", obj)
    for instance in _sample_instances():
        cls = type(instance)
        for attr, raw in vars(cls).items():
            if not attr.startswith("_") and inspect.isfunction(raw):
                add(f"{cls.__module__}.{cls.__name__}().{attr}", getattr(instance, attr))
    return found


def _parameters(fn: Callable[..., Any]) -> list[inspect.Parameter] | None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    return [p for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _calls(params: list[inspect.Parameter], hostile: Any,
           small: dict[str, Any] | None = None) -> Iterator[tuple[list[Any], dict[str, Any]]]:
    """Argument sets with ``hostile`` in one parameter, the others a symbol, a number or their default.

    ``small`` maps parameter names to values used in place of their (slow) defaults.
    """
    small = small or {}
    symbol = sp.Symbol("g", positive=True)
    fillers = (symbol, 2, None)  # None: the default where there is one, else the symbol
    for i, target in enumerate(params):
        for filler in fillers:
            args: list[Any] = []
            kwargs: dict[str, Any] = {}
            for j, p in enumerate(params):
                if j == i:
                    value = hostile
                elif filler is None:
                    if p.name in small:
                        value = small[p.name]
                    elif p.default is not p.empty:
                        continue
                    else:
                        value = symbol
                else:
                    value = filler
                if p.kind == p.KEYWORD_ONLY:
                    kwargs[p.name] = value
                elif p.kind == p.POSITIONAL_ONLY or not kwargs:
                    args.append(value)
                else:
                    kwargs[p.name] = value
            yield args, kwargs


class _Bound(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Bound()


def _call(fn: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> None:
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, CALL_BOUND)
    try:
        fn(*args, **kwargs)
    except _Bound:
        pass
    except BaseException as exc:  # noqa: BLE001 - refusing the string (any way) is fine here
        if isinstance(exc, KeyboardInterrupt):
            raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def hostile_strings(marker: Path) -> list[Any]:
    touch = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    return [
        touch,
        f"({touch}) or 2",
        f"{touch} or g",
        f"2 + 0*({touch} or 1)",
        [f"({touch}) or 2"],
    ]


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs an interval timer to bound each call")
def test_no_public_callable_evaluates_a_string(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Strings with a side effect, fed to every parameter of every public callable, never run."""
    monkeypatch.chdir(tmp_path)  # a function that takes the string for a path writes here
    marker = tmp_path / "marker" / "ran"
    marker.parent.mkdir()
    callables = public_callables()
    assert len(callables) > 150, f"only {len(callables)} public callables found"
    ran = []
    for name, fn in sorted(callables.items()):
        if name not in SKIP:
            ran += _evaluations(name, fn, marker)
    assert not ran, "strings evaluated as code by:\n" + "\n".join(ran)


def _evaluations(name: str, fn: Callable[..., Any], marker: Path) -> list[str]:
    """The calls of ``fn`` (hostile strings in each parameter) after which ``marker`` appeared."""
    params = _parameters(fn)
    ran: list[str] = []
    for hostile in hostile_strings(marker) if params else ():
        for args, kwargs in _calls(params, hostile, SMALL_DEFAULTS.get(name)):
            _call(fn, args, kwargs)
            if marker.exists():
                ran.append(f"{name}(*{args!r}, **{kwargs!r})")
                marker.unlink()
    return ran


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs an interval timer to bound each call")
@pytest.mark.parametrize("evaluate", [sp.sympify, sp.nsimplify, sp.parse_expr])
def test_the_check_catches_a_planted_evaluation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                evaluate: Callable[..., Any]) -> None:
    """A function that sends its second argument through sympy's parser once the first is symbolic is caught."""
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "marker" / "ran"
    marker.parent.mkdir()

    def planted(x: Any, y: Any = 1.0, *, scale: float = 1.0) -> Any:
        if isinstance(x, (int, float)) or not isinstance(y, str):
            raise TypeError("only the planted path is of interest")
        return evaluate(y) * scale

    ran = _evaluations("planted", planted, marker)
    assert ran and all(name.startswith("planted(") for name in ran)


def test_the_walk_sees_the_sympy_entry_points() -> None:
    """The walk reaches the functions that take sympy objects (a broken walk would pass vacuously)."""
    names = public_callables()
    for expected in ("ramplab.proofs.growth_exponent", "ramplab.proofs.polynomial_growth_exponent",
                     "ramplab.proofs.derivation.check_limit", "ramplab.proofs.derivation.check_zero"):
        assert expected in names, expected
