"""#19 kind 7: the sweep keys of long doubles and masked arrays.

On de6f77e a ``np.longdouble`` array was hashed by its bytes, padding included (x86: 6 bytes of
garbage per element), so one spec had many keys and seeds; a long double scalar was rounded to
float64, so two different specs shared one key; a masked array was hashed without its mask. Now long
doubles are hashed by their exact value (the float64 encoding when they equal a float64) and masked
arrays are refused.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ramplab.sweeps import spec_hash, spec_seed

LD = np.longdouble
HAS_EXTENDED = np.finfo(LD).nmant > np.finfo(np.float64).nmant


def _dirty(values: list[float]) -> np.ndarray:
    """A long double array with random bytes in its padding (as a fresh allocation can have)."""
    arr = np.array(values, dtype=LD)
    raw = np.frombuffer(arr.tobytes(), dtype=np.uint8).copy()
    used = 10 if np.finfo(LD).nmant == 63 else arr.itemsize  # x87 extended: 10 bytes of 12 or 16 used
    for i in range(arr.size):
        raw[i * arr.itemsize + used:(i + 1) * arr.itemsize] = np.random.default_rng(i).integers(0, 256, arr.itemsize - used)
    return np.frombuffer(raw.tobytes(), dtype=LD).copy()


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=1, max_size=5))
@example(values=[0.1, 0.2])
def test_equal_long_double_arrays_have_one_key(values):
    a = np.array(values, dtype=LD)
    b = _dirty(values)
    assert np.array_equal(a, b)
    assert spec_hash({"x": a}) == spec_hash({"x": b})
    assert (spec_seed({"x": a}).generate_state(4) == spec_seed({"x": b}).generate_state(4)).all()


@pytest.mark.skipif(not HAS_EXTENDED, reason="long double is float64 on this platform")
@settings(max_examples=40, deadline=None)
@given(num=st.integers(1, 10**6), den=st.integers(3, 10**6))
@example(num=1, den=3)
def test_a_long_double_is_not_rounded_into_another_key(num, den):
    x = LD(num) / LD(den)
    if Fraction(*(int(v) for v in x.as_integer_ratio())) == Fraction(float(x)):
        return  # exactly a float64: the same value, the same key
    assert spec_hash({"x": x}) != spec_hash({"x": float(x)})
    assert spec_hash({"x": x}) == spec_hash({"x": LD(num) / LD(den)})


@given(x=st.floats(allow_nan=True, allow_infinity=True))
@settings(max_examples=40, deadline=None)
def test_a_long_double_equal_to_a_float_keys_as_that_float(x):
    assert spec_hash({"x": LD(x)}) == spec_hash({"x": x})


@settings(max_examples=30, deadline=None)
@given(data=st.lists(st.floats(-10, 10), min_size=1, max_size=5), seed=st.integers(0, 2**16))
@example(data=[1.0, 2.0], seed=1)
def test_masked_arrays_are_refused(data, seed):
    mask = np.random.default_rng(seed).random(len(data)) < 0.5
    with pytest.raises(TypeError, match="masked"):
        spec_hash({"x": np.ma.masked_array(data, mask=mask)})
