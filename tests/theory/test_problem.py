"""Problem: factories, the eigenbasis rotation, and validation messages that name the argument."""

from __future__ import annotations

import numpy as np
import pytest

from ramplab.theory import Problem


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
