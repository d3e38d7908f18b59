"""Sketched regression and power-law random features (issue #24 item 9; docs/math.md#sketched-problems).

Reference: a plain NumPy Monte Carlo of SGD on the sketched features of the *original* d-dimensional Gaussian
data (not the rotated problem), against the exact solver on the constructed problem, tolerance 4 standard
errors with a fixed seed."""

from __future__ import annotations

import numpy as np
import pytest

from ramplab.theory import Schedule, expected_risk, power_law_random_features, sketched_problem
from ramplab.theory.dynamics._sketched import _gaussian_sketch


@pytest.mark.parametrize("batch, lr", [(1, 0.1), (4, 0.3)])
def test_exact_risk_matches_a_monte_carlo_of_sketched_sgd_on_the_original_data(batch, lr):
    rng = np.random.default_rng(7)
    d, m, sigma2, seed = 12, 5, 0.2, 3
    lam = np.arange(1, d + 1, dtype=float) ** -1.2
    w_star = np.arange(1, d + 1, dtype=float) ** -0.7
    problem = sketched_problem(lam, w_star, m, noise_variance=sigma2, seed=seed)
    steps = 40
    exact = expected_risk(problem, Schedule.constant(lr, batch, steps=steps))
    sketch = _gaussian_sketch(d, m, seed)
    runs = 6000
    v = np.zeros((runs, m))
    h_s = sketch.T @ (lam[:, None] * sketch)
    v_star = np.linalg.solve(h_s, sketch.T @ (lam * w_star))
    means, ses = [], []
    for t in range(steps + 1):
        if t in (0, 5, 20, 40):
            e = (v - v_star) @ sketch.T                        # the model's error in data space, (runs, d)
            risk = 0.5 * (e**2 * lam).sum(axis=1)
            means.append(risk.mean())
            ses.append(risk.std(ddof=1) / np.sqrt(runs))
        if t == steps:
            break
        x = rng.standard_normal((runs, batch, d)) * np.sqrt(lam)
        y = x @ w_star + rng.standard_normal((runs, batch)) * np.sqrt(sigma2)
        z = x @ sketch                                          # (runs, batch, M) sketched features
        residual = np.einsum("rbm,rm->rb", z, v) - y
        v = v - lr / batch * np.einsum("rbm,rb->rm", z, residual)
    for (t, mean, se) in zip((0, 5, 20, 40), means, ses):
        assert abs(mean - exact.risk[t]) <= 4 * se + 1e-12, (t, mean, exact.risk[t], se)
    # The population risk of the sketched model: excess risk + (σ² + approximation error)/2.
    assert problem.noise_variance == pytest.approx(sigma2 + problem.metadata["approximation_error"], rel=1e-15)


def test_approximation_error_vanishes_with_a_full_sketch_and_grows_as_it_shrinks():
    lam = np.arange(1, 9, dtype=float) ** -1.0
    w_star = np.ones(8)
    errors = [sketched_problem(lam, w_star, m, seed=0).metadata["approximation_error"] for m in (8, 6, 4, 2)]
    assert errors[0] == pytest.approx(0.0, abs=1e-10)
    assert all(a < b for a, b in zip(errors, errors[1:]))
    # Same seed, same problem (reproducible); another seed, another sketch.
    a, b = sketched_problem(lam, w_star, 4, seed=1), sketched_problem(lam, w_star, 4, seed=1)
    assert np.array_equal(a.eigenvalues, b.eigenvalues)
    assert not np.array_equal(a.eigenvalues, sketched_problem(lam, w_star, 4, seed=2).eigenvalues)


def test_power_law_random_features_and_bad_inputs():
    p = power_law_random_features(100, 10, alpha=0.6, beta=0.8, seed=0)
    assert p.dimension == 10 and p.metadata["alpha"] == 0.6 and p.metadata["features"] == 10
    with pytest.raises(ValueError, match="features"):
        sketched_problem([1.0, 0.5], [1.0, 1.0], 3)
    with pytest.raises(ValueError, match="target"):
        sketched_problem([1.0, 0.5], [1.0], 1)
    with pytest.raises(ValueError, match="alpha"):
        power_law_random_features(10, 2, alpha=0.0, beta=1.0)
    with pytest.raises(ValueError, match="eigenvalues"):
        sketched_problem([1.0, -0.5], [1.0, 1.0], 1)
