"""Segment storage: a schedule of K constant segments costs O(K), whatever its step count.

The reference for every per-step quantity is the plain per-step construction (``np.repeat`` of the
segments, built here independently of the class)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ramplab.theory import Schedule
from ramplab.theory._limits import MAX_STEP_ARRAY

segments = st.lists(
    st.tuples(st.sampled_from([0.5, 0.1, 0.01]), st.integers(1, 64), st.integers(1, 40)),
    min_size=1, max_size=8,
)


@given(segments, st.data())
def test_step_arrays_match_per_step_construction(segs, data):
    lr = np.repeat([s[0] for s in segs], [s[2] for s in segs])
    batch = np.repeat([s[1] for s in segs], [s[2] for s in segs])
    a = Schedule.from_segments([s[0] for s in segs], [s[1] for s in segs], [s[2] for s in segs])
    b = Schedule(lr, batch)
    assert len(a) == len(b) == lr.size
    for s in (a, b):
        np.testing.assert_array_equal(s.lr, lr)
        np.testing.assert_array_equal(s.batch, batch)
        np.testing.assert_array_equal(s.samples, np.cumsum(batch))
        assert s.total_samples == int(batch.sum())
    # One normal form: neighbouring equal segments are merged, whichever way the schedule was built.
    for field in ("lr", "batch", "steps"):
        np.testing.assert_array_equal(getattr(a.segments, field), getattr(b.segments, field))
    start = data.draw(st.integers(0, lr.size))
    stop = data.draw(st.integers(start, lr.size))
    got_lr, got_batch = a.step_arrays(start, stop)
    np.testing.assert_array_equal(got_lr, lr[start:stop])
    np.testing.assert_array_equal(got_batch, batch[start:stop].astype(np.float64))


def test_huge_schedule_is_cheap_and_refuses_to_materialise():
    # Bounded by work, not by the clock (which depends on the machine's load): O(K) memory, where a
    # materialised 1e10-step schedule would need 80 GB.
    tracemalloc.start()
    try:
        s = Schedule.constant(0.1, 1, steps=10**10)
        ramp = Schedule.from_phases([(0.1, 2**k, 2**40) for k in range(8)])
        both = Schedule.concatenate([s, ramp])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20, f"building the schedules allocated {peak} bytes at peak"
    assert len(s) == 10**10 and s.total_samples == 10**10
    assert ramp.segments.steps.tolist() == [2**40 >> k for k in range(8)]
    assert both.total_samples == 10**10 + 8 * 2**40
    lr, batch = both.step_arrays(10**10 - 2, 10**10 + 2)
    assert lr.tolist() == [0.1] * 4 and batch.tolist() == [1.0, 1.0, 1.0, 1.0]
    assert both.step_arrays(len(both) - 1)[1].tolist() == [128.0]
    with pytest.raises(ValueError, match="MAX_STEP_ARRAY"):
        s.lr
    assert len(s) > MAX_STEP_ARRAY
    assert "steps=10000000000" in repr(s)


def test_from_segments_validation():
    with pytest.raises(ValueError, match="steps must be positive integers"):
        Schedule.from_segments([0.1], [1], [0])
    with pytest.raises(ValueError, match="steps must be positive integers"):
        Schedule.from_segments([0.1], [1], [1.5])
    with pytest.raises(ValueError, match="one length"):
        Schedule.from_segments([0.1, 0.2], [1], [3])
    with pytest.raises(ValueError, match="lr must be ≥ 0"):
        Schedule.from_segments([-0.1], [1], [3])
    with pytest.raises(ValueError, match="start ≤ stop"):
        Schedule.constant(0.1, 1, steps=3).step_arrays(2, 1)
    s = Schedule.constant(0.1, 1, steps=3)
    with pytest.raises(AttributeError, match="immutable"):
        s.label = "x"
    with pytest.raises(ValueError):
        s.lr[0] = 1.0  # read-only view
