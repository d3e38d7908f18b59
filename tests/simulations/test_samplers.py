"""Moments of one sampled mini-batch gradient at a fixed error, for both samplers.

Reference: the analytic mean ``Λe`` and covariance
``(1/B) Λ^{1/2}[(‖a‖² + σ²) I + a aᵀ + (κ − 3) diag(a²)] Λ^{1/2}`` (``a = Λ^{1/2} e``), derived
from ``E[z_i z_j (zᵀa)²] = δ_ij ‖a‖² + 2 a_i a_j + (κ − 3) δ_ij a_i²`` in the docstring of
:mod:`simulations.samplers`, and checked here against the exact solver's ``E‖g‖²`` (docs/math.md#normalized-sgd),
which was derived independently. Estimates from many draws must lie within 4.5 standard errors,
the standard errors themselves estimated from the same draws; each test also shows that the
comparison has power (a wrong κ is rejected by a wide margin).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ramplab.simulations.samplers import direct_piece, gradient_covariance, gradient_samples
from ramplab.theory import Problem
from ramplab.theory.dynamics import gradient_second_moment

LAM = [1.0, 0.5, 0.2]
ERROR = [0.7, -1.2, 2.0]
DRAWS = 60_000


def _problem(kurtosis: float = 3.0, noise: float = 0.3) -> Problem:
    return Problem(LAM, [1.0, 1.0, 1.0], noise_variance=noise, kurtosis=kurtosis)


def _moment_z_scores(g: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z-scores of the sample mean and of the sample covariance (centred at the exact mean)."""
    n = g.shape[0]
    centred = g - mean
    z_mean = centred.mean(axis=0) / (centred.std(axis=0, ddof=1) / np.sqrt(n))
    iu = np.triu_indices(g.shape[1])
    products = centred[:, iu[0]] * centred[:, iu[1]]
    est = products.mean(axis=0)
    se = products.std(axis=0, ddof=1) / np.sqrt(n)
    return z_mean, (est - cov[iu]) / se, se


def test_covariance_formula_matches_exact_second_moment():
    # tr Cov + ‖Λe‖² must be E‖g‖² of docs/math.md#normalized-sgd for every κ (independent derivation).
    for kappa in (1.0, 1.8, 3.0):
        p = _problem(kappa)
        e = np.asarray(ERROR)
        for batch in (1, 3, 64):
            total = np.trace(gradient_covariance(p, e, batch)) + np.sum((p.eigenvalues * e) ** 2)
            assert total == pytest.approx(gradient_second_moment(p, e**2, batch), rel=1e-13)


@pytest.mark.parametrize(
    ("sampler", "data", "kappa", "batch"),
    [
        ("gaussian-exact", "gaussian", 3.0, 1),  # B = 1: c_2 = 0 branch
        ("gaussian-exact", "gaussian", 3.0, 5),
        ("gaussian-exact", "gaussian", 3.0, 1000),  # large B costs nothing extra
        ("direct", "gaussian", 3.0, 5),
        ("direct", "rademacher", 1.0, 5),
        ("direct", "uniform", 1.8, 5),
    ],
)
def test_gradient_moments(sampler, data, kappa, batch):
    p = _problem(kappa)
    e = np.asarray(ERROR)
    g = gradient_samples(p, e, batch, DRAWS, sampler=sampler, data=data, seed=11)
    assert g.shape == (DRAWS, 3) and np.isfinite(g).all()
    mean = p.eigenvalues * e
    cov = gradient_covariance(p, e, batch)
    z_mean, z_cov, se = _moment_z_scores(g, mean, cov)
    assert np.max(np.abs(z_mean)) < 4.5
    assert np.max(np.abs(z_cov)) < 4.5
    # Power: precise enough to tell the data's κ from a κ two units away.
    wrong = gradient_covariance(p, e, batch, kurtosis=kappa + 2.0)
    iu = np.triu_indices(3)
    assert np.max(np.abs(cov[iu] - wrong[iu]) / se) > 10


def test_gaussian_exact_at_the_optimum():
    # e = 0: any unit vector serves as â; the gradient is pure label noise, Cov = σ² Λ / B.
    p = _problem()
    g = gradient_samples(p, [0.0, 0.0, 0.0], 4, DRAWS, seed=12)
    z_mean, z_cov, _ = _moment_z_scores(g, np.zeros(3), gradient_covariance(p, np.zeros(3), 4))
    assert np.max(np.abs(z_mean)) < 4.5 and np.max(np.abs(z_cov)) < 4.5


def test_noiseless_gaussian_exact():
    p = _problem(noise=0.0)
    e = np.asarray(ERROR)
    g = gradient_samples(p, e, 2, DRAWS, seed=13)
    z_mean, z_cov, _ = _moment_z_scores(g, p.eigenvalues * e, gradient_covariance(p, e, 2))
    assert np.max(np.abs(z_mean)) < 4.5 and np.max(np.abs(z_cov)) < 4.5


@pytest.mark.parametrize("batch", [1, 3])
def test_samplers_agree_in_distribution(batch):
    # Beyond second moments: the law of ‖g‖² (what conditional NSGD divides by) is the same for the
    # exact sampler and the direct oracle (two-sample Kolmogorov–Smirnov, fixed seeds).
    p = _problem()
    a = gradient_samples(p, ERROR, batch, 20_000, sampler="gaussian-exact", seed=21)
    b = gradient_samples(p, ERROR, batch, 20_000, sampler="direct", seed=22)
    assert stats.ks_2samp((a**2).sum(axis=1), (b**2).sum(axis=1)).pvalue > 1e-3
    # The test has power: a Gaussian with the right mean and covariance has the wrong law of ‖g‖².
    rng = np.random.default_rng(23)
    fake = rng.multivariate_normal(p.eigenvalues * np.asarray(ERROR), gradient_covariance(p, ERROR, batch), 20_000)
    assert stats.ks_2samp((a**2).sum(axis=1), (fake**2).sum(axis=1)).pvalue < 1e-6


def test_direct_sampler_pieces_do_not_change_the_law():
    # A batch larger than one piece is drawn in several pieces; the moments are unchanged.
    p = Problem([1.0] * 2000, [1.0] * 2000, noise_variance=0.5)
    batch = 40
    assert direct_piece(p.dimension, batch) < batch
    e = np.zeros(2000)
    e[0] = 1.0
    g = gradient_samples(p, e, batch, 256, sampler="direct", seed=3)
    # Coordinate 0: variance (‖a‖² + σ² + a_0²)/B = 2.5/40; the others (‖a‖² + σ²)/B = 1.5/40.
    var0 = g[:, 0].var(ddof=1)
    rest = g[:, 1:].var(axis=0, ddof=1).mean()
    assert abs(var0 / (2.5 / batch) - 1) < 4.5 * np.sqrt(2 / 255)
    assert abs(rest / (1.5 / batch) - 1) < 0.02


def test_gradient_samples_rejects_bad_input():
    p = _problem()
    with pytest.raises(ValueError, match="sampler"):
        gradient_samples(p, ERROR, 2, 10, sampler="exact")
    with pytest.raises(ValueError, match="data"):
        gradient_samples(p, ERROR, 2, 10, data="cauchy")
    with pytest.raises(ValueError, match="gaussian-exact"):
        gradient_samples(p, ERROR, 2, 10, sampler="gaussian-exact", data="rademacher")


# ------------------------------------------------------------------ hostile-input regressions
def test_samplers_refuse_impossible_arguments_by_name():
    p = Problem([1.0, 4.0], [0.0, 0.0], noise_variance=1.0)
    for kwargs, message in [({"batch": 0}, "batch must be ≥ 1"), ({"kurtosis": 0.5}, "kurtosis must be ≥ 1"),
                            ({"error": [1.0]}, r"error must have shape \(d,\)"),
                            ({"error": [np.nan, 0.0]}, "error must be finite")]:
        args = {"error": [0.0, 0.0], "batch": 2, **kwargs}
        with pytest.raises(ValueError, match=message):
            gradient_covariance(p, **args)
    with pytest.raises(ValueError, match="draws must be ≥ 1"):
        gradient_samples(p, [0.0, 0.0], batch=2, draws=0)        # formerly ZeroDivisionError
    with pytest.raises(ValueError, match="dimension must be ≥ 1"):
        direct_piece(0, 4)                                        # formerly ZeroDivisionError
    with pytest.raises(TypeError, match="problem must be a Problem"):
        gradient_covariance("p", [0.0, 0.0], 2)


def test_block_streams_refuses_block_zero_and_bad_roots():
    from ramplab.simulations.streams import block_streams, root_seed_sequence
    from ramplab.theory import resolve_backend

    xp = resolve_backend("numpy")
    with pytest.raises(ValueError, match="block must be ≥ 1"):
        block_streams(root_seed_sequence(0), 0, 5, 0, xp, xp.float64)   # formerly ZeroDivisionError
    with pytest.raises(TypeError, match="root must be a SeedSequence"):
        block_streams(7, 0, 5, 4, xp, xp.float64)                       # formerly AttributeError
