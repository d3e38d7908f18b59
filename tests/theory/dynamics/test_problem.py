"""Problem: factories, the eigenbasis rotation, and validation messages that name the argument."""

from __future__ import annotations

import numpy as np
import pytest

from ramplab.theory import Numerics, Problem, spectral_groups


def test_power_law_definition():
    p = Problem.power_law(4, a=1.5, b=0.5, noise_variance=0.2)
    i = np.arange(1, 5)
    np.testing.assert_allclose(p.eigenvalues, i**-1.5, rtol=1e-15)
    np.testing.assert_allclose(p.eigenvalues * p.initial_second_moment, i**-0.5, rtol=1e-15)
    assert p.noise_variance == 0.2 and p.kurtosis == 3.0 and p.dimension == 4


def test_from_covariance_preserves_the_risk_and_spectrum():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(6, 6))
    cov = a @ a.T + np.eye(6)
    e0 = rng.normal(size=6)
    p = Problem.from_covariance(cov, e0, 0.1)
    assert p.initial_risk == pytest.approx(0.5 * e0 @ cov @ e0, rel=1e-13)
    np.testing.assert_allclose(np.sort(p.eigenvalues), np.linalg.eigvalsh(cov), rtol=1e-13)
    assert np.all(np.diff(p.eigenvalues) <= 0)
    assert p.initial_second_moment.sum() == pytest.approx(e0 @ e0, rel=1e-13)


def test_arrays_are_read_only():
    p = Problem.isotropic(3)
    with pytest.raises(ValueError):
        p.eigenvalues[0] = 2.0


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        (([1.0, -0.5], [1.0, 1.0]), {}, ValueError, "eigenvalues must be positive"),
        (([1.0, np.nan], [1.0, 1.0]), {}, ValueError, "eigenvalues must be positive and finite; got nan"),
        (([1.0, 0.0], [1.0, 1.0]), {}, ValueError, "eigenvalues"),
        (([1.0, 2.0], [1.0, -1.0]), {}, ValueError, "initial_second_moment must be non-negative"),
        (([1.0, 2.0], [1.0, np.inf]), {}, ValueError, "initial_second_moment"),
        (([1.0, 2.0], [1.0]), {}, ValueError, "same length"),
        (([1.0], [1.0]), {"noise_variance": -1.0}, ValueError, "noise_variance"),
        (([1.0], [1.0]), {"noise_variance": np.nan}, ValueError, "noise_variance must be finite"),
        (([1.0], [1.0]), {"kurtosis": 0.5}, ValueError, "kurtosis must be ≥ 1"),
        (([1.0], [1.0]), {"kurtosis": "3"}, TypeError, "kurtosis must be a real number"),
        (([], []), {}, ValueError, "eigenvalues must be a non-empty 1-D array"),
        (([[1.0]], [1.0]), {}, ValueError, "eigenvalues must be a non-empty 1-D array"),
        ((["a"], [1.0]), {}, TypeError, "eigenvalues"),
    ],
)
def test_bad_input_names_the_argument(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        Problem(*args, **kwargs)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: Problem.power_law(0, 1.0, 1.0), ValueError, "d must be ≥ 1"),
        (lambda: Problem.power_law(2.5, 1.0, 1.0), TypeError, "d must be an integer"),
        (lambda: Problem.power_law(3, -1.0, 1.0), ValueError, "a must be positive"),
        (lambda: Problem.from_covariance([[1.0, 2.0], [0.0, 1.0]], [1.0, 1.0]), ValueError, "symmetric"),
        (lambda: Problem.from_covariance([[1.0, 0.0], [0.0, -1.0]], [1.0, 1.0]), ValueError, "positive definite"),
        (lambda: Problem.from_covariance(np.eye(2), [1.0]), ValueError, "initial_error"),
        (lambda: Problem.isotropic(2).replace(colour=1), TypeError, "colour"),
    ],
)
def test_factories_validate(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ------------------------------------------------------------------ multiplicity (docs/math.md#multiplicity)
def test_multiplicity_defaults_to_ones_and_weights_the_sums():
    p = Problem([1.0, 0.5], [1.0, 2.0])
    assert p.multiplicity.tolist() == [1.0, 1.0] and p.has_unit_multiplicity and p.effective_dimension == 2.0
    q = Problem([1.0, 0.5], [1.0, 2.0], multiplicity=[3.0, 0.5])
    assert q.dimension == 2 and q.effective_dimension == 3.5 and not q.has_unit_multiplicity
    assert q.trace == 3.0 * 1.0 + 0.5 * 0.5
    assert q.initial_risk == 0.5 * (3.0 * 1.0 * 1.0 + 0.5 * 0.5 * 2.0)
    with pytest.raises(ValueError):
        q.multiplicity[0] = 2.0
    assert q.replace(noise_variance=1.0).multiplicity.tolist() == [3.0, 0.5]
    assert "effective_dimension=3.5" in repr(q)


@pytest.mark.parametrize(
    "mult, error, match",
    [
        ([1.0, 0.0], ValueError, "multiplicity must be positive and finite; got 0.0 at index 1"),
        ([1.0, np.inf], ValueError, "multiplicity must be positive and finite"),
        ([1.0], ValueError, "multiplicity must have the same length as eigenvalues"),
        (["x", 1.0], TypeError, "multiplicity"),
    ],
)
def test_multiplicity_is_validated(mult, error, match):
    with pytest.raises(error, match=match):
        Problem([1.0, 0.5], [1.0, 1.0], multiplicity=mult)


def test_expanded_repeats_whole_multiplicities_and_rejects_fractions():
    p = Problem([1.0, 0.5], [1.0, 2.0], 0.1, multiplicity=[2.0, 3.0]).expanded()
    assert p.eigenvalues.tolist() == [1.0, 1.0, 0.5, 0.5, 0.5] and p.has_unit_multiplicity
    assert p.initial_second_moment.tolist() == [1.0, 1.0, 2.0, 2.0, 2.0] and p.noise_variance == 0.1
    with pytest.raises(ValueError, match="whole-number multiplicities.*1.5 at index 1"):
        Problem([1.0, 0.5], [1.0, 2.0], multiplicity=[2.0, 1.5]).expanded()


def _grouped_and_written_out():
    grouped = Problem([1.0, 0.3, 0.02], [1.0, 2.0, 5.0], noise_variance=0.2, multiplicity=[1.0, 3.0, 2.0])
    return grouped, grouped.expanded()


def test_stability_honours_multiplicity():
    from ramplab.theory import is_stable, spectral_radius, stationary_risk

    grouped, full = _grouped_and_written_out()
    for lr, batch in [(0.2, 1), (0.6, 2), (0.9, 1), (1.3, 4)]:
        assert is_stable(grouped, lr, batch) == is_stable(full, lr, batch)
        assert spectral_radius(grouped, lr, batch) == pytest.approx(
            spectral_radius(full, lr, batch), rel=1e-12)
    assert stationary_risk(grouped, 0.2, 2) == pytest.approx(stationary_risk(full, 0.2, 2),
                                                                      rel=1e-13)
    # κ < 2 with a large step: the diagonal is negative and the radius is computed directly; the modes
    # inside a coordinate of multiplicity 3 then carry the largest eigenvalue.
    rad = Problem([1.0, 0.3], [1.0, 1.0], kurtosis=1.0, multiplicity=[1.0, 3.0])
    assert spectral_radius(rad, 1.8, 1) == pytest.approx(
        spectral_radius(rad.expanded(), 1.8, 1), rel=1e-12)


def test_sfo_and_growth_honour_multiplicity():
    from ramplab.theory import AdaptiveRule, gradient_variance, steps_to_target

    grouped, full = _grouped_and_written_out()
    s = grouped.initial_second_moment
    assert float(gradient_variance(grouped, s)) == pytest.approx(
        float(gradient_variance(full, full.initial_second_moment)), rel=1e-13)
    a = steps_to_target(grouped, [0.1, 0.3], [1, 4], 1e-2)
    b = steps_to_target(full, [0.1, 0.3], [1, 4], 1e-2)
    assert a.steps.tolist() == b.steps.tolist() and a.status.tolist() == b.status.tolist()
    rule = AdaptiveRule(lr0=0.2, batch0=2, epsilon0=1.0, check_every=5)
    np.testing.assert_allclose(rule.run(grouped, 60).risk, rule.run(full, 60).risk, rtol=1e-13)


def test_monte_carlo_expands_whole_multiplicities_and_rejects_fractions():
    from ramplab.simulations import simulate
    from ramplab.theory import Schedule

    grouped, full = _grouped_and_written_out()
    sched = Schedule.constant(0.1, 2, steps=5)
    a = simulate(grouped, sched, runs=64, seed=3, numerics=Numerics(backend="numpy"))
    b = simulate(full, sched, runs=64, seed=3, numerics=Numerics(backend="numpy"))
    np.testing.assert_array_equal(a.mean_risk, b.mean_risk)
    with pytest.raises(ValueError, match="problem.multiplicity must be positive integers for Monte Carlo"):
        simulate(grouped.replace(multiplicity=[1.0, 2.5, 1.0]), sched, runs=8, seed=0,
                 numerics=Numerics(backend="numpy"))


# ----------------------------------------------------------------- hostile-input regressions
# Found by tests/test_hostile_inputs.py: each used to fail with an error that did not name the
# argument (NumPy's allocator, a RuntimeWarning, a float() conversion, "eigenvalues must be …").
@pytest.mark.parametrize("factory", [lambda d: Problem.power_law(d, 1.0, 1.0), lambda d: Problem.isotropic(d)])
@pytest.mark.parametrize("d", [2**53, 2**62, np.int64(2**63 - 1)])
def test_factories_refuse_an_unallocatable_dimension(factory, d):
    with pytest.raises(ValueError, match=r"^d must be ≤"):  # was MemoryError / "array is too big"
        factory(d)


@pytest.mark.parametrize(("kw", "name"), [({"a": 1e308}, "a"), ({"b": -1e308}, "b"), ({"scale": 5e-324}, "scale")])
def test_power_law_refuses_exponents_that_leave_float64(kw, name):
    args = {"d": 3, "a": 1.5, "b": 2.0, **kw}
    with pytest.raises(ValueError, match=rf"a, b and scale put .* got .*{name}="):  # was a RuntimeWarning
        Problem.power_law(**args)


def test_isotropic_names_its_eigenvalue():
    with pytest.raises(ValueError, match=r"^eigenvalue must be positive; got 0.0"):  # quoted "eigenvalues"
        Problem.isotropic(2, eigenvalue=0)


def test_from_covariance_refuses_non_real_input_and_overflow():
    for bad in ("abc", 1j, np.array([[1 + 0j]]), {}):
        with pytest.raises(TypeError, match="covariance must hold real numbers"):
            Problem.from_covariance(bad, [1.0])
    with pytest.raises(ValueError, match="initial_error is too large"):  # was a RuntimeWarning
        Problem.from_covariance([[2.0, 1.0], [1.0, 2.0]], [1e308, 1e308])


def test_spectral_groups_refuses_a_non_iterable_schedules():
    from ramplab.theory import Schedule  # noqa: F401 - the valid type named in the message

    with pytest.raises(TypeError, match="schedules must be a Schedule or a non-empty sequence"):
        spectral_groups(Problem.isotropic(2), 3.0, rtol=1e-3)  # was "'float' object is not iterable"


def test_spectral_groups_refuses_a_zero_dimensional_array():
    # Found by the hostile-input hypothesis draws: np.array(0.) has __iter__ but cannot be iterated.
    with pytest.raises(TypeError, match="schedules must be a Schedule or a non-empty sequence"):
        spectral_groups(Problem.isotropic(2), np.array(0.0), rtol=1e-3)


def test_from_covariance_refuses_an_empty_matrix():
    # Found by the hostile-input hypothesis draws: a (0, 0) covariance failed inside np.max.
    with pytest.raises(ValueError, match="covariance must be a non-empty square matrix"):
        Problem.from_covariance(np.zeros((0, 0)), [])
