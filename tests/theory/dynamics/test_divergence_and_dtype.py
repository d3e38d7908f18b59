"""Issue kinds 3, 4, 6 and 10 of the reliability review, each with the right value.

- kind 6: a finite blow-up is a divergence (docs/math.md#divergence), reported at the step where the
  risk passes the stated bound — on both kernels, with and without checkpoints;
- kind 3: integer / complex / half dtypes are refused (an int64 state once returned a constant 0.5);
- kind 4: NaN sample positions are refused by ``at_samples``;
- kind 10: float32 stays within its documented accuracy.

Reference values come from an independent plain float64 loop of the recursion written here.
"""

from __future__ import annotations

import numpy as np
import pytest

from ramplab.theory import is_stable, DivergenceError, Numerics, Problem, Schedule, expected_risk

from oracles import sgd_moments

KERNELS = ["fused", "reference"]


def plain_risks(problem: Problem, lr: float, batch: int, steps: int) -> np.ndarray:
    """The risks of docs/math.md#sgd-second-moment-recursion at a constant (lr, batch), by tests/oracles.py."""
    return sgd_moments(problem, [lr] * steps, [batch] * steps)["risk"]


PROBLEM = Problem.power_law(100, 1.5, 1.0, 0.5)
BOUND = 1e12 * (PROBLEM.initial_risk + PROBLEM.noise_variance)
FIRST_ABOVE = int(np.argmax(plain_risks(PROBLEM, 5.0, 1, 100) > BOUND))  # the step the contract names


@pytest.mark.parametrize("kernel", KERNELS)
def test_finite_blow_up_is_a_divergence_at_the_bound(kernel):
    assert 0 < FIRST_ABOVE < 100  # the case of the review: a final risk of ~1e183, never non-finite
    assert np.all(np.isfinite(plain_risks(PROBLEM, 5.0, 1, 100)))
    with pytest.raises(DivergenceError) as info:
        expected_risk(PROBLEM, Schedule.constant(5.0, 1, steps=100), numerics=Numerics(kernel=kernel))
    assert info.value.step == FIRST_ABOVE
    flagged = expected_risk(PROBLEM, Schedule.constant(5.0, 1, steps=100), numerics=Numerics(kernel=kernel),
                            on_divergence="flag")
    assert flagged.diverged_at == FIRST_ABOVE and np.isinf(flagged.risk[FIRST_ABOVE:]).all()
    np.testing.assert_allclose(flagged.risk[:FIRST_ABOVE], plain_risks(PROBLEM, 5.0, 1, 100)[:FIRST_ABOVE],
                               rtol=1e-12)
    cp = expected_risk(PROBLEM, Schedule.constant(5.0, 1, steps=100), numerics=Numerics(kernel=kernel),
                       on_divergence="flag",
                       checkpoints=[0, 50, 100])
    assert cp.diverged_at == FIRST_ABOVE


@pytest.mark.parametrize("kernel", KERNELS)
def test_threshold_is_a_parameter(kernel):
    loose = expected_risk(PROBLEM, Schedule.constant(5.0, 1, steps=100), numerics=Numerics(kernel=kernel),
                          on_divergence="flag",
                          divergence_threshold=1e300)
    assert loose.diverged_at is None  # ~1e183 is below 1e300 × (R(0) + σ²): not flagged under that bound
    later = expected_risk(PROBLEM, Schedule.constant(5.0, 1, steps=100), numerics=Numerics(kernel=kernel),
                          on_divergence="flag",
                          divergence_threshold=1e100)
    assert FIRST_ABOVE < later.diverged_at < 100
    with pytest.raises(ValueError, match="divergence_threshold must be > 1"):
        expected_risk(PROBLEM, Schedule.constant(0.1, 1, steps=3), divergence_threshold=0.5)
    with pytest.raises(TypeError, match="divergence_threshold"):
        expected_risk(PROBLEM, Schedule.constant(0.1, 1, steps=3), divergence_threshold="big")


@pytest.mark.parametrize("kernel", KERNELS)
def test_bounded_transients_are_not_divergences(kernel):
    """A warmup rise and a large stable rate stay far below the bound."""
    from ramplab.theory import WarmupCosine

    edge = 0.99 * max(lr for lr in np.geomspace(1e-3, 2.0, 400) if is_stable(PROBLEM, lr, 1))
    warm = Schedule.from_shape(WarmupCosine(edge, 4000, warmup_fraction=0.1, warmup_start=0.0), 1)
    r = expected_risk(PROBLEM, [warm, Schedule.constant(edge, 1, steps=4000)], numerics=Numerics(kernel=kernel))
    assert all(x.diverged_at is None and np.isfinite(x.risk).all() for x in r)
    nsgd = expected_risk(PROBLEM, Schedule.constant(0.5, 4096, steps=2000), "nsgd", numerics=Numerics(kernel=kernel))
    assert nsgd.diverged_at is None


@pytest.mark.parametrize("dtype", [np.int64, np.int32, complex, np.complex128, np.float16, "int8", bool])
def test_non_float_dtypes_are_refused(dtype):
    with pytest.raises(TypeError, match="dtype must be float64 or float32"):
        expected_risk(PROBLEM, Schedule.constant(0.1, 1, steps=10), numerics=Numerics(dtype=dtype))


def test_at_samples_refuses_nan():
    r = expected_risk(PROBLEM, Schedule.constant(0.1, 1, steps=10))
    for bad in ([np.nan], [np.inf], ["3"]):
        with pytest.raises((ValueError, TypeError), match="grid"):
            r.at_samples(bad)


@pytest.mark.parametrize("kernel", KERNELS)
def test_float32_within_documented_accuracy(kernel):
    steps = 20_000
    cps = np.unique(np.geomspace(1, steps, 40).astype(int))
    sched = Schedule.constant(0.5, 1, steps=steps)
    ref = expected_risk(PROBLEM, sched, checkpoints=cps)
    f32 = expected_risk(PROBLEM, sched, numerics=Numerics(dtype=np.float32, kernel=kernel), checkpoints=cps)
    assert f32.risk.dtype == np.float64
    err = np.max(np.abs(f32.risk / ref.risk - 1))
    assert 0 < err < 1e-4  # docs/math.md#exact-solver-layout: a few parts in 1e4 at most
