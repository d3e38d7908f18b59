"""Pickling, copies and equality of every public class (issue #19, kind 6).

Every public class of the package (the ``__all__`` of each subpackage) pickles, copies and
deep-copies to an equal object whose read-only arrays are still read-only; every public exception
round-trips through pickle with its message and attributes, so a divergence inside a process-pool
worker reaches the parent as itself, for the right spec. Specs compare by value
(``Schedule``, ``Problem``, ``Segments``, ``GrowthCell``, shapes, optimizer specs …); results
compare by identity on purpose and are checked here field by field.
"""

from __future__ import annotations

import concurrent.futures as cf
import copy
import dataclasses
import importlib
import inspect
import multiprocessing
import pickle
from types import MappingProxyType

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import records
from ramplab.simulations import SimulationDivergenceError
from ramplab.theory import DivergenceError, Problem, Schedule

SUBPACKAGES = ["ramplab.theory", "ramplab.theory.dynamics", "ramplab.theory.schedules",
               "ramplab.theory.complexity", "ramplab.simulations", "ramplab.sweeps", "ramplab.proofs",
               "ramplab.interop"]
WAYS = {
    "pickle": lambda obj: pickle.loads(pickle.dumps(obj)),
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
}
FACTORIES = records.factories()
_BUILT: dict = {}


def built(name):
    if name not in _BUILT:
        _BUILT[name] = FACTORIES[name]()
    return _BUILT[name]


def public_classes():
    out = {}
    for module in SUBPACKAGES:
        mod = importlib.import_module(module)
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isclass(obj):
                out[obj.__name__] = obj
    return out


def assert_same(a, b, path="obj", seen=None):
    """``b`` is a faithful copy of ``a``: same types, equal values, read-only arrays read-only."""
    seen = set() if seen is None else seen
    if id(a) in seen:
        return
    seen.add(id(a))
    assert type(a) is type(b), f"{path}: {type(a).__name__} became {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.shape == b.shape and a.dtype == b.dtype, path
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), path
        assert a.flags.writeable == b.flags.writeable, f"{path}: writeable {a.flags.writeable} → {b.flags.writeable}"
        return
    if type(a).__name__ == "DataFrame":
        assert a.equals(b), path
        return
    if isinstance(a, (MappingProxyType, dict)):
        assert list(a) == list(b), path
        for k in a:
            assert_same(a[k], b[k], f"{path}[{k!r}]", seen)
        return
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]", seen)
        return
    if isinstance(a, BaseException):
        assert a.args == b.args and str(a) == str(b), path
        assert_same(vars(a), vars(b), f"{path}.__dict__", seen)
        return
    if type(a).__eq__ is not object.__eq__ and not dataclasses.is_dataclass(a) or isinstance(a, (Schedule, Problem)):
        assert a == b, f"{path}: {a!r} != {b!r}"
    if hasattr(a, "__dict__") and not isinstance(a, type) and not callable(a):
        for k in vars(a):
            if k in vars(b):
                assert_same(vars(a)[k], vars(b)[k], f"{path}.{k}", seen)
        return
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return
    assert a == b or a is b, f"{path}: {a!r} != {b!r}"


def test_every_public_class_has_an_instance_here():
    """The round trips below cover every public class but the abstract bases."""
    named = {n.split("[")[0] for n in FACTORIES}
    missing = sorted(n for n in public_classes() if n not in named and n not in records.ABSTRACT)
    assert not missing, f"public classes without an instance in tests/records.py: {missing}"


@pytest.mark.parametrize("way", list(WAYS))
@pytest.mark.parametrize("name", list(FACTORIES))
def test_round_trip(name, way):
    """pickle / copy / deepcopy give an equal object with read-only arrays kept read-only."""
    obj = built(name)
    again = WAYS[way](obj)
    assert_same(obj, again, name)
    if type(obj).__hash__ is not None and type(obj).__eq__ is not object.__eq__ and not isinstance(obj, BaseException):
        assert hash(again) == hash(obj)


# ------------------------------------------------------------------------------ schedules
_rates = st.floats(0.0, 10.0, allow_nan=False)
_meta_values = st.recursive(
    st.none() | st.integers(-10, 10) | st.floats(allow_nan=False) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=8)


@st.composite
def schedules(draw):
    k = draw(st.integers(1, 4))
    lr = draw(st.lists(_rates, min_size=k, max_size=k))
    integer = draw(st.booleans())
    batch = draw(st.lists(st.integers(1, 64) if integer else st.floats(1.0, 64.0), min_size=k, max_size=k))
    steps = draw(st.lists(st.integers(1, 10**12), min_size=k, max_size=k))
    meta = draw(st.dictionaries(st.text(max_size=4), _meta_values, max_size=3))
    return Schedule.from_segments(lr, batch, steps, label=draw(st.text(max_size=5)), metadata=meta,
                                  integer_batch=integer)


@settings(max_examples=60)
@given(schedules(), st.sampled_from(list(WAYS)))
@example(Schedule.constant(0.1, 1, steps=3), "pickle")
def test_schedule_round_trips_to_an_equal_schedule(schedule, way):
    again = WAYS[way](schedule)
    assert again == schedule and hash(again) == hash(schedule)
    assert all(not a.flags.writeable for a in again.segments)
    assert isinstance(again.metadata, MappingProxyType)


@settings(max_examples=40)
@given(st.lists(_rates, min_size=1, max_size=5), st.integers(1, 8), st.text(max_size=4))
def test_equal_schedules_are_equal_and_hash_alike(lr, batch, label):
    a = Schedule(lr, batch, label=label, metadata={"m": [1, 2]})
    b = Schedule(list(lr), batch, label=label, metadata={"m": (1, 2)})
    assert a is not b and a == b and hash(a) == hash(b)
    assert a != a.with_label(label + "x")
    assert a != Schedule([x + 1.0 for x in lr], batch, label=label, metadata={"m": [1, 2]})


def test_metadata_is_frozen_and_not_shared_with_the_caller():
    milestones = [1, 2]
    inner = {"k": [3]}
    phase = np.arange(3)
    s = Schedule([0.1, 0.2], [1, 2], metadata={"milestones": milestones, "inner": inner, "phase": phase})
    p = Problem([1.0], [1.0], metadata={"tags": milestones})
    milestones.append(99)
    inner["k"].append(4)
    phase[0] = 7
    assert s.metadata["milestones"] == (1, 2) and s.metadata["inner"]["k"] == (3,)
    assert s.metadata["phase"].tolist() == [0, 1, 2] and not s.metadata["phase"].flags.writeable
    assert p.metadata["tags"] == (1, 2)
    for meta in (s.metadata, s.metadata["inner"], p.metadata):
        with pytest.raises(TypeError):
            meta["new"] = 1


# ------------------------------------------------------------------------------- problems
@settings(max_examples=40)
@given(st.lists(st.floats(1e-3, 1e3), min_size=1, max_size=6), st.floats(0.0, 10.0), st.floats(1.0, 9.0),
       st.sampled_from(list(WAYS)))
def test_problem_round_trips_read_only(lam, sigma2, kappa, way):
    p = Problem(lam, [1.0] * len(lam), sigma2, kappa, metadata={"family": ["x"]})
    again = WAYS[way](p)
    assert again == p and hash(again) == hash(p)
    for name in ("eigenvalues", "initial_second_moment", "multiplicity"):
        assert not getattr(again, name).flags.writeable, name
    assert again.metadata == p.metadata and isinstance(again.metadata, MappingProxyType)
    assert p != p.replace(noise_variance=sigma2 + 1.0)


# ----------------------------------------------------------------------------- exceptions
@settings(max_examples=40)
@given(st.integers(0, 2**63 - 1), st.integers(0, 10**6), st.text(max_size=10), st.sampled_from(list(WAYS)))
@example(7, 1, "lab", "pickle")
def test_divergence_errors_round_trip(step, index, label, way):
    for error in (DivergenceError(step, index, label), SimulationDivergenceError(step, index, label)):
        again = WAYS[way](error)
        assert type(again) is type(error) and str(again) == str(error) and again.args == error.args
        assert vars(again) == vars(error)


def test_every_public_exception_round_trips():
    for name, cls in public_classes().items():
        if issubclass(cls, BaseException):
            error = built(name)
            again = pickle.loads(pickle.dumps(error))
            assert type(again) is cls and vars(again) == vars(error) and str(again) == str(error)


# ----------------------------------------------------------------------- process pools
SPECS = [{"lr": 0.1}, {"lr": 5.0}, {"lr": 0.2}]


def _fork_pool():
    return cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"))


def test_a_diverging_task_in_a_process_pool_reports_its_own_spec():
    """The diverging spec's future holds its DivergenceError; the others finish; the pool is not broken."""
    with _fork_pool() as pool:
        futures = [pool.submit(records.risk_task, spec) for spec in SPECS]
        cf.wait(futures)
        error = futures[1].exception()
        assert isinstance(error, DivergenceError), repr(error)
        assert error.label == "lr=5.0" and error.schedule_index == 0 and error.step > 0
        assert futures[0].exception() is None and futures[2].exception() is None
        assert pool.submit(records.risk_task, SPECS[0]).result() == futures[0].result()


def test_a_diverging_sweep_spec_names_itself():
    from ramplab.sweeps import sweep

    with _fork_pool() as pool:
        with pytest.raises(DivergenceError) as info:
            sweep(records.risk_row, SPECS, executor=pool, progress=False)
    assert info.value.label == "lr=5.0"
    assert any("'lr': 5.0" in note for note in getattr(info.value, "__notes__", []))
