"""Schedule: step ↔ sample mapping, constructors, validation; sample conservation as a property."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramplab.theory import WSD, Constant, Cosine, Linear, Schedule, StepDecay, WarmupCosine


def test_mapping_is_explicit():
    s = Schedule([0.3, 0.2, 0.1], [1, 2, 4])
    assert s.steps.tolist() == [1, 2, 3]
    assert s.samples.tolist() == [1, 3, 7]
    assert s.samples_before.tolist() == [0, 1, 3]
    assert s.total_samples == 7 and s.serial_steps == 3 == len(s)
    assert s.batch.dtype == np.int64


def test_scalar_broadcast_and_immutability():
    s = Schedule(0.1, [2, 2, 3])
    assert s.lr.tolist() == [0.1] * 3
    with pytest.raises(ValueError):
        s.lr[0] = 1.0
    with pytest.raises(AttributeError):
        s.lr = np.ones(3)  # frozen dataclass


def test_real_batches_when_asked():
    s = Schedule([0.1, 0.1], [1.5, 2.25], integer_batch=False)
    assert s.total_samples == 3.75 and isinstance(s.total_samples, float)


@pytest.mark.parametrize(
    "lr, batch, kwargs, error, match",
    [
        ([0.1, -0.1], [1, 1], {}, ValueError, "lr must be ≥ 0 and finite; got -0.1 at step 2"),
        ([0.1, np.nan], [1, 1], {}, ValueError, "lr must be ≥ 0 and finite; got nan"),
        ([0.1, 0.1], [1, 0], {}, ValueError, "batch must be ≥ 1 and finite; got 0.0 at step 2"),
        ([0.1, 0.1], [1, 2.5], {}, ValueError, "batch must be integer-valued"),
        ([0.1, 0.1], [1, 0.5], {"integer_batch": False}, ValueError, "batch must be ≥ 1"),
        ([0.1, 0.1], [1, 1, 1], {}, ValueError, "same length; got 2 and 3"),
        ([], [], {}, ValueError, "at least one step"),
        (0.1, 2, {}, ValueError, "1-D"),
        (["x"], [1], {}, TypeError, "lr must hold real numbers"),
        ([0.1], [1], {"label": 3}, TypeError, "label"),
    ],
)
def test_validation_names_the_argument(lr, batch, kwargs, error, match):
    with pytest.raises(error, match=match):
        Schedule(lr, batch, **kwargs)


@pytest.mark.parametrize(
    "phases, match",
    [
        ([(0.1, 2, 0)], r"phases\[0\].samples must be positive"),
        ([(0.1, 2, 10), (0.1, 2.5, 10)], r"phases\[1\].batch must be an integer"),
        ([(0.1, 2, 10.5)], r"phases\[0\].samples must be a whole number"),
        ([(-0.1, 2, 10)], r"phases\[0\].lr must be ≥ 0"),
        ([(0.1, 0, 10)], r"phases\[0\].batch must be ≥ 1"),
        ([], "at least one"),
    ],
)
def test_from_phases_validation(phases, match):
    with pytest.raises(ValueError, match=match):
        Schedule.from_phases(phases)


def test_constant_needs_exactly_one_length():
    with pytest.raises(ValueError, match="exactly one"):
        Schedule.constant(0.1, 2)
    with pytest.raises(ValueError, match="exactly one"):
        Schedule.constant(0.1, 2, steps=3, samples=6)


def test_from_shape_is_defined_in_samples_not_steps():
    # The same cosine over the same samples: a larger batch samples the same curve more coarsely.
    shape = Cosine(1.0, 1024)
    small, large = Schedule.from_shape(shape, 4), Schedule.from_shape(shape, 16)
    np.testing.assert_allclose(large.lr, small.lr[::4], rtol=1e-15)
    assert small.total_samples == large.total_samples == 1024


def test_shape_values():
    assert Constant(0.5, 10)([3.0])[0] == 0.5
    assert StepDecay(1.0, 10, boundaries=(0.5,), factor=0.1)([4.99, 5.0]).tolist() == [1.0, 0.1]
    assert Linear(2.0, 10, final=0.5)([10])[0] == pytest.approx(1.0)
    assert Cosine(1.0, 10)([5])[0] == pytest.approx(0.5)
    assert Cosine(1.0, 10, quarter=True)([10])[0] == pytest.approx(0.0, abs=1e-15)
    assert Cosine(1.0, 10, final=0.1)([10])[0] == pytest.approx(0.1)
    wc = WarmupCosine(1.0, 100, warmup_fraction=0.1, warmup_start=0.1, floor=0.1)
    assert wc([5])[0] == pytest.approx(0.55) and wc([55])[0] == pytest.approx(0.55)
    assert wc.warmup_samples == 10
    w = WSD(1.0, 100, warmup_fraction=0.1, decay_fraction=0.2, floor=0.1, decay="cosine")
    assert w([90])[0] == pytest.approx(0.55) and w([100])[0] == pytest.approx(0.1)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: Cosine(0.0, 10), "peak must be positive"),
        (lambda: Cosine(1.0, -1), "total_samples must be positive"),
        (lambda: Linear(1.0, 10, final=1.5), "final must lie in"),
        (lambda: StepDecay(1.0, 10, boundaries=(0.5, 0.2)), "strictly increasing"),
        (lambda: WarmupCosine(1.0, 10, warmup_fraction=1.0), "warmup_fraction"),
        (lambda: WSD(1.0, 10, warmup_fraction=0.5, decay_fraction=0.6), "≤ 1"),
        (lambda: WSD(1.0, 10, decay="step"), "decay must be"),
        (lambda: Schedule.from_shape(lambda t: t, 2), "shape must be an LRShape"),
    ],
)
def test_shape_validation(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# ------------------------------------------------------------------------------------ properties
phase = st.tuples(st.floats(1e-4, 1.0), st.integers(1, 64), st.integers(1, 5000))


@settings(max_examples=60)
@given(st.lists(phase, min_size=1, max_size=6))
def test_from_phases_conserves_samples_integer(phases):
    s = Schedule.from_phases(phases)
    assert s.total_samples == sum(p[2] for p in phases)
    assert np.all(s.batch <= max(p[1] for p in phases))
    # Each phase's samples are exactly its own.
    ends = np.cumsum([p[2] for p in phases])
    assert set(ends.tolist()) <= set(s.samples.tolist())


@settings(max_examples=60)
@given(st.lists(st.tuples(st.floats(1e-4, 1.0), st.floats(1.0, 64.0), st.floats(64.0, 5000.0)),
                min_size=1, max_size=6))
def test_from_phases_conserves_samples_real(phases):
    s = Schedule.from_phases(phases, integer_batch=False)
    assert s.total_samples == pytest.approx(sum(p[2] for p in phases), rel=1e-12)
    for lr, batch, samples in phases:
        n = max(1, min(round(samples / batch), math.floor(samples)))
        assert samples / n == pytest.approx(batch, rel=0.5)
    assert np.all(s.batch >= 1)


shapes = st.one_of(
    st.builds(Constant, st.floats(1e-3, 1.0), st.integers(1, 4000)),
    st.builds(Cosine, st.floats(1e-3, 1.0), st.integers(1, 4000), st.floats(0.01, 0.5), st.booleans()),
    st.builds(Linear, st.floats(1e-3, 1.0), st.integers(1, 4000), st.floats(0.01, 0.5)),
    st.builds(WarmupCosine, st.floats(1e-3, 1.0), st.integers(1, 4000)),
    st.builds(WSD, st.floats(1e-3, 1.0), st.integers(1, 4000), st.floats(0.0, 0.3), st.floats(0.0, 0.5),
              st.floats(0.01, 0.5)),
)


@settings(max_examples=60)
@given(shapes, st.integers(1, 128), st.integers(1, 4))
def test_shape_and_constant_constructors_conserve_samples(shape, batch, parts):
    s = Schedule.from_shape(shape, batch)
    assert s.total_samples == math.ceil(shape.total_samples) == shape.total_samples
    c = Schedule.constant(0.1, batch, samples=shape.total_samples)
    assert c.total_samples == shape.total_samples
    joined = Schedule.concatenate([s] * parts)
    assert joined.total_samples == parts * s.total_samples and len(joined) == parts * len(s)


# ----------------------------------------------------------------- hostile-input regressions
# Found by tests/test_hostile_inputs.py: each used to be accepted silently or to fail with an
# error that did not name the argument.
@pytest.mark.parametrize("call", [
    lambda: Schedule([0.1], [2], integer_batch="yes"),  # was bool("yes") → True
    lambda: Schedule.from_segments([0.1], [2], [1], integer_batch=0.0),
    lambda: Schedule.constant(0.1, 2, steps=1, integer_batch=1),
    lambda: Schedule.from_phases([(0.1, 2, 4)], integer_batch=""),
    lambda: Schedule.from_shape(Linear(1.0, 8), 2, integer_batch="no"),
])
def test_integer_batch_must_be_a_bool(call):
    with pytest.raises(TypeError, match="integer_batch must be True or False"):
        call()


@pytest.mark.parametrize("metadata", [0, False, [], [("a", 1)], "ab", 3.5])
def test_metadata_must_be_a_mapping(metadata):
    # 0, False and [] used to be accepted as empty metadata; the others failed inside dict().
    with pytest.raises(TypeError, match="metadata must be a mapping"):
        Schedule([0.1], [2], metadata=metadata)
    with pytest.raises(TypeError, match="metadata must be a mapping"):
        Schedule.from_phases([(0.1, 2, 4)], metadata=metadata)


def test_samples_at_refuses_non_integer_steps():
    s = Schedule([0.1, 0.1, 0.05], [2, 2, 4])
    for bad in (math.nan, math.inf, 1e308, 2**63, 5e-324, 1.5, [1.0, math.inf]):
        with pytest.raises(ValueError, match="steps"):  # was OverflowError, or step 0 for 5e-324
            s.samples_at(bad)
    for bad in (True, [True], "1", ["1"], 1j):
        with pytest.raises(TypeError, match="steps"):  # "1" and True used to be read as step 1
            s.samples_at(bad)
    assert s.samples_at([0, 2, 3]).tolist() == [0, 4, 8]


def test_step_arrays_bounds_must_be_integers():
    s = Schedule([0.1, 0.1, 0.05], [2, 2, 4])
    for arg in ("start", "stop"):
        for bad in (1.5, "1", True, [1], 1j):  # were numpy casting errors, or True read as 1
            with pytest.raises(TypeError, match=arg):
                s.step_arrays(**{arg: bad})


def test_constant_and_from_shape_errors_name_their_own_arguments():
    # Used to quote the internal "phases[0].samples" / "phases[0].batch".
    with pytest.raises(ValueError, match=r"^samples must be finite"):
        Schedule.constant(0.1, 2, samples=math.inf)
    with pytest.raises(ValueError, match=r"^samples / batch must be at most 2\*\*63"):
        Schedule.constant(0.1, 2, samples=1e308)
    with pytest.raises(ValueError, match=r"^batch must be"):
        Schedule.from_shape(Linear(1.0, 8), -1.0)


def test_segment_steps_out_of_int64_and_non_iterables_are_named():
    with pytest.raises(ValueError, match="steps must be positive integers"):
        Schedule.from_segments([0.1], [2], [-(2**63) - 1])  # was OverflowError
    with pytest.raises(ValueError, match="steps must be positive integers"):
        Schedule.from_segments([0.1, 0.2], [2, 2], [[1, 2]])  # a 2-D steps array was flattened
    with pytest.raises(TypeError, match="phases must be a sequence"):
        Schedule.from_phases(3.0)
    with pytest.raises(TypeError, match="schedules must be a non-empty sequence"):
        Schedule.concatenate(3.0)


def test_shape_choices_and_boundaries_refuse_containers():
    # Found by tests/test_hostile_inputs.py: a dict was read as the sequence of its keys (here
    # empty: no decay at all), and an array decay failed on "truth value of an array is ambiguous".
    with pytest.raises(TypeError, match="boundaries must be a sequence"):
        StepDecay(1.0, 100, boundaries={})
    with pytest.raises(TypeError, match="decay must be"):  # a wrong kind, as theory/_validate.choice says
        WSD(1.0, 100, decay=np.array(["linear", "cosine"]))


def test_step_decay_refuses_a_two_dimensional_boundaries_array():
    # Found by the hostile-input hypothesis draws: an empty (0, 0) array was read as no boundaries.
    with pytest.raises(TypeError, match="boundaries must be a sequence"):
        StepDecay(1.0, 100, boundaries=np.zeros((0, 0)))
