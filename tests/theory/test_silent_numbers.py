"""#19 kind 7: numbers that were silently wrong (theory side; the sweep keys are in
tests/sweeps/test_key_exactness.py, Monte Carlo's step 0 in tests/simulations).

- the step's noise term ``η²/B (q + σ²) λ`` underflowed when ``η²`` is subnormal although the term is
  a normal number (checked against exact fractions, through the public one-step function and both
  kernels of the exact solver);
- a masked array's mask was dropped (its hidden values used);
- a :class:`Problem` whose trace or initial risk overflows to inf was accepted;
- an integer sample count above 2**53 went through float64.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ramplab.theory import Numerics, Problem, Schedule, expected_risk, second_moment_step


def _exact_noise_step(lam: float, lr: float, batch: int, noise: float) -> Fraction:
    """``s₁`` from ``s₀ = 0``: ``η²/B σ² λ`` (``q = 0``), exactly."""
    return Fraction(lr) ** 2 / batch * Fraction(noise) * Fraction(lam)


# η with a subnormal (or zero) square, σ² large enough that the term itself is a normal number.
TINY_RATES = st.floats(1e-200, 1e-155)
HUGE_NOISE = st.floats(1e250, 1e300)


@settings(max_examples=60, deadline=None)
@given(lr=TINY_RATES, noise=HUGE_NOISE, lam=st.floats(1e-3, 1e3), batch=st.integers(1, 10**6))
@example(lr=1e-160, noise=1e300, lam=2.0, batch=3)
@example(lr=3e-162, noise=1e300, lam=1.0, batch=1)
def test_noise_term_does_not_underflow_needlessly(lr, noise, lam, batch):
    exact = _exact_noise_step(lam, lr, batch, noise)
    got = second_moment_step(np.array([0.0]), np.array([lam]), lr, batch, noise)[0]
    assert abs(Fraction(float(got)) - exact) <= 1e-12 * exact, (float(got), float(exact))


@pytest.mark.usefixtures("warm_kernels")
@pytest.mark.parametrize("kernel", ["fused", "reference"])
@settings(max_examples=15, deadline=None)
@given(lr=TINY_RATES, noise=HUGE_NOISE, lam=st.floats(1e-2, 1e2), batch=st.integers(1, 1000))
@example(lr=1e-160, noise=1e300, lam=2.0, batch=3)
def test_solver_noise_term_does_not_underflow(kernel, lr, noise, lam, batch):
    """Both kernels of the exact solver (the numba kernels and the reference loop inline the same formula)."""
    problem = Problem([lam], [0.0], noise_variance=noise)
    risk = expected_risk(problem, Schedule.constant(lr, batch, steps=1), numerics=Numerics(kernel=kernel)).risk
    exact = Fraction(1, 2) * Fraction(lam) * _exact_noise_step(lam, lr, batch, noise)
    assert abs(Fraction(float(risk[1])) - exact) <= 1e-12 * exact, (float(risk[1]), float(exact))


# ----------------------------------------------------------------------------- masked arrays
@st.composite
def masked_vectors(draw):
    n = draw(st.integers(1, 5))
    data = draw(st.lists(st.floats(0.1, 10.0), min_size=n, max_size=n))
    mask = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    return np.ma.masked_array(data, mask=mask)


@settings(max_examples=30, deadline=None)
@given(values=masked_vectors(), which=st.sampled_from(["eigenvalues", "initial_second_moment", "multiplicity"]))
@example(values=np.ma.masked_array([1.0, 2.0], mask=[False, True]), which="eigenvalues")
@example(values=np.ma.masked_array([1.0, 2.0], mask=[False, False]), which="multiplicity")
def test_masked_arrays_are_refused_naming_the_argument(values, which):
    kwargs = {"eigenvalues": np.ones(values.size), "initial_second_moment": np.ones(values.size), which: values}
    with pytest.raises(TypeError, match=which):
        Problem(**kwargs)


def test_masked_elements_in_a_list_are_refused():
    with pytest.raises(TypeError, match="eigenvalues"):
        Problem([1.0, np.ma.masked], [1.0, 1.0])
    with pytest.raises(TypeError, match="lr"):
        Schedule(np.ma.masked_array([0.1, 0.2], mask=[0, 1]), [1, 1])


# ----------------------------------------------------------------------------- overflowing problems
@settings(max_examples=40, deadline=None)
@given(lam=st.floats(1e300, 1.7e308), d=st.integers(2, 1000), s0=st.floats(0.0, 1.0))
@example(lam=1e308, d=2, s0=1.0)
def test_a_trace_that_overflows_is_refused(lam, d, s0):
    """``Σ λ`` beyond float64 (each λ finite): refused naming the eigenvalues."""
    if Fraction(lam) * d <= Fraction(float(np.finfo(np.float64).max)):
        return  # the trace is representable
    with pytest.raises(ValueError, match="eigenvalues"):
        Problem(np.full(d, lam), np.full(d, s0))


@settings(max_examples=40, deadline=None)
@given(lam=st.floats(1e100, 1e200), s0=st.floats(1e200, 1e300))
@example(lam=1e200, s0=1e200)
def test_an_initial_risk_that_overflows_is_refused(lam, s0):
    if Fraction(lam) * Fraction(s0) / 2 <= Fraction(np.finfo(np.float64).max):
        return
    with pytest.raises(ValueError, match="initial_second_moment"):
        Problem([lam], [s0])


# ----------------------------------------------------------------------------- exact sample counts
@settings(max_examples=60, deadline=None)
@given(samples=st.integers(2**53 + 1, 2**62), batch=st.integers(1, 2**20))
@example(samples=2**53 + 1, batch=1)
def test_integer_sample_counts_stay_exact(samples, batch):
    s = Schedule.constant(0.1, batch, samples=samples)
    assert s.total_samples == samples
    assert int(s.samples_at(len(s))) == samples
    assert Schedule.from_phases([(0.1, batch, samples)]).total_samples == samples


@given(samples=st.integers(2**52, 2**61).map(lambda k: 2 * k + 1))  # odd and above 2**53: never a float64
@settings(max_examples=20, deadline=None)
@example(samples=2**53 + 1)
def test_inexact_samples_with_real_batches_are_refused(samples):
    with pytest.raises(ValueError, match="samples"):
        Schedule.constant(0.1, 1.5, samples=samples, integer_batch=False)
