"""Stability of constant-(η, B) SGD: the O(d) secular-equation radius and the closed stability test.

References used here:
- ``numpy.linalg.eigvals`` of the dense recursion matrix ``diag(D) + (η²/B) λ λᵀ``, built entry by entry
  from docs/math.md#stability on the *expanded* problem (a coordinate of multiplicity m written out m
  times);
- the fixed point checked by one step of the solver's own recursion (``second_moment_step``) and by a
  plain-loop step written here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ramplab.theory import Problem
from ramplab.theory.dynamics import second_moment_step
from ramplab.theory.dynamics import is_stable, spectral_radius, stationary_risk, stationary_second_moment

from oracles import Spectrum, sgd_moment_matrix, sgd_moments


def _dense_matrix(lam, kappa, lr, batch):
    """The recursion matrix written out: M[i, j] = D_i [i = j] + η² λ_i λ_j / B (tests/oracles.py)."""
    return sgd_moment_matrix(Spectrum(lam, kurtosis=kappa), lr, batch)


def _dense_radius(lam, kappa, lr, batch):
    return float(np.max(np.abs(np.linalg.eigvals(_dense_matrix(lam, kappa, lr, batch)))))


def _with_multiplicity(problem, counts):
    """A real Problem carrying a ``multiplicity`` attribute (stand-in until Problem grows the field)."""
    object.__setattr__(problem, "multiplicity", np.asarray(counts, dtype=np.float64))
    return problem


def _random_cases(seed, n):
    """(eigenvalues, kurtosis, lr, batch) drawn over κ < 2, κ = 2, κ > 3, tiny to huge ηλ, with ties."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        d = int(rng.integers(1, 9))
        lam = np.exp(rng.uniform(-4, 1, size=d))
        if d > 2 and rng.random() < 0.4:  # repeated eigenvalues
            lam[1:3] = lam[0]
        kappa = float(rng.choice([1.0, 1.2, 1.5, 1.9, 2.0, 3.0, 5.0, 12.0]))
        batch = float(rng.choice([1, 2, 3, 8, 64]))
        lr = float(np.exp(rng.uniform(np.log(1e-7), np.log(1e3))) / lam.max())
        yield lam, kappa, lr, batch


@pytest.mark.parametrize("seed", range(6))
def test_radius_matches_dense_eigvals(seed):
    for lam, kappa, lr, batch in _random_cases(seed, 40):
        want = _dense_radius(lam, kappa, lr, batch)
        got = spectral_radius(Problem(lam, np.ones_like(lam), kurtosis=kappa), lr, batch)
        assert got == pytest.approx(want, rel=1e-9), (lam, kappa, lr, batch)


@pytest.mark.parametrize("seed", range(6))
def test_is_stable_matches_dense_eigvals(seed):
    rng = np.random.default_rng(100 + seed)
    checked = 0
    for lam, kappa, _, batch in _random_cases(seed, 40):
        problem = Problem(lam, np.ones_like(lam), kurtosis=kappa)
        # Rates near the stability edge, where the verdict is in doubt: ηλ_max ∈ (0.5, 6).
        for lr in rng.uniform(0.5, 6.0, size=6) / lam.max():
            rho = _dense_radius(lam, kappa, lr, batch)
            if abs(rho - 1.0) < 1e-9:
                continue
            assert is_stable(problem, lr, batch) == (rho < 1.0), (lam, kappa, lr, batch, rho)
            checked += 1
    assert checked > 200


def test_negative_diagonal_cases_have_both_verdicts():
    """κ < 2 cases where some D_i < −1: the smallest eigenvalue decides, and it can go either way."""
    lam = np.array([1.0, 0.3, 0.05])
    problem = Problem(lam, np.ones(3), kurtosis=1.0)
    verdicts = set()
    for lr in np.linspace(1.01, 3.0, 200):  # D_1 = 1 − 2ηλ_1 < −1
        rho = _dense_radius(lam, 1.0, lr, 1)
        if abs(rho - 1) > 1e-9:
            assert is_stable(problem, lr, 1) == (rho < 1), lr
            verdicts.add(rho < 1)
        assert spectral_radius(problem, lr, 1) == pytest.approx(rho, rel=1e-10)
    assert verdicts == {True, False}


def test_largest_eigenvalue_is_the_radius_even_with_negative_diagonal():
    """docs/math.md#stability: M ≥ 0 entrywise for κ ≥ 1, so ρ(M) is its largest eigenvalue, not |smallest|."""
    rng = np.random.default_rng(11)
    negative = 0
    for _ in range(300):
        d = int(rng.integers(2, 6))
        lam = np.exp(rng.uniform(-3, 0, size=d))
        kappa, batch, lr = float(rng.uniform(1, 2)), float(rng.uniform(1, 2)), float(rng.uniform(0.5, 5))
        m = _dense_matrix(lam, kappa, lr, batch)
        assert m.min() >= 0.0
        eig = np.linalg.eigvals(m)
        assert np.max(np.abs(eig.imag)) <= 1e-9 * np.max(np.abs(eig))  # similar to a symmetric matrix
        negative += int(np.any(np.diag(m) - lr**2 * lam**2 / batch < -1))  # some D_i < −1
        top = float(np.max(eig.real))
        assert np.max(np.abs(eig)) == pytest.approx(top, rel=1e-12)
        assert spectral_radius(Problem(lam, np.ones(d), kurtosis=kappa), lr, batch) == pytest.approx(top, rel=1e-9)
    assert negative > 10


def test_equal_diagonal_from_distinct_eigenvalues():
    # D(x) = 1 − 2x + c x² takes equal values at x and 2/c − x: distinct λ, tied D, one eigenvalue
    # exactly D (eigenvector orthogonal to g inside the tie) and the rest from the secular equation.
    kappa, batch = 1.5, 1.0
    c = 1.0 + (kappa - 2.0) / batch
    lr = 1.0
    x = np.array([0.7, 2.0 / c - 0.7, 0.2, 0.2])
    lam = x / lr
    problem = Problem(lam, np.ones(4), kurtosis=kappa)
    assert spectral_radius(problem, lr, batch) == pytest.approx(_dense_radius(lam, kappa, lr, batch), rel=1e-10)


@pytest.mark.parametrize("kappa", [1.0, 1.5, 3.0])
def test_isotropic_ties(kappa):
    for lr in (1e-6, 0.3, 1.2, 2.5, 40.0):
        lam = np.full(5, 0.8)
        got = spectral_radius(Problem(lam, np.ones(5), kurtosis=kappa), lr, 2)
        assert got == pytest.approx(_dense_radius(lam, kappa, lr, 2), rel=1e-10)


def test_tiny_steps_keep_precision():
    # ρ = 1 − O(ηλ_min): the gap to 1 must survive, not round to 1.
    lam = np.array([1.0, 0.3, 1e-3])
    for lr in (1e-2, 1e-4, 1e-6):
        got = spectral_radius(Problem(lam, np.ones(3)), lr, 1)
        want = _dense_radius(lam, 3.0, lr, 1)
        assert 1.0 - got == pytest.approx(1.0 - want, rel=1e-5)
        assert got < 1.0
    # Below the resolution of ρ near 1 the closed test still sees the contraction.
    assert is_stable(Problem(np.array([1.0, 1e-6]), np.ones(2)), 1e-12, 1)


def test_huge_steps():
    lam = np.array([1.0, 0.5])
    for kappa in (1.0, 1.5, 3.0):
        for lr in (1e3, 1e8):
            got = spectral_radius(Problem(lam, np.ones(2), kurtosis=kappa), lr, 1)
            assert got == pytest.approx(_dense_radius(lam, kappa, lr, 1), rel=1e-9)
            assert not is_stable(Problem(lam, np.ones(2), kurtosis=kappa), lr, 1)
    assert spectral_radius(Problem(lam, np.ones(2)), 1e300, 1) == math.inf


def test_multiplicity_equals_expanded_problem():
    rng = np.random.default_rng(7)
    for kappa in (1.0, 1.5, 3.0, 9.0):
        for _ in range(15):
            lam = np.exp(rng.uniform(-3, 0.5, size=4))
            counts = rng.integers(1, 4, size=4)
            big = np.repeat(lam, counts)
            sigma2 = 0.3
            small = _with_multiplicity(Problem(lam, np.ones(4), sigma2, kappa), counts)
            full = Problem(big, np.ones(big.size), sigma2, kappa)
            lr = float(rng.uniform(0.05, 3.0) / lam.max())
            batch = float(rng.choice([1, 4]))
            rho = _dense_radius(big, kappa, lr, batch)
            assert spectral_radius(small, lr, batch) == pytest.approx(rho, rel=1e-9)
            if abs(rho - 1) > 1e-9:
                assert is_stable(small, lr, batch) == (rho < 1) == is_stable(full, lr, batch)
            if rho < 1 - 1e-9:
                np.testing.assert_allclose(stationary_second_moment(small, lr, batch),
                                           stationary_second_moment(full, lr, batch)[np.cumsum(counts) - 1],
                                           rtol=1e-11)
                assert stationary_risk(small, lr, batch) == pytest.approx(stationary_risk(full, lr, batch),
                                                                          rel=1e-11)


def test_multiplicity_one_changes_nothing():
    p = Problem.power_law(30, a=1.3, b=0.5, noise_variance=0.8, kurtosis=1.5)
    q = _with_multiplicity(Problem.power_law(30, a=1.3, b=0.5, noise_variance=0.8, kurtosis=1.5), np.ones(30))
    for lr in (0.3, 1.7, 2.6):
        assert spectral_radius(q, lr, 1) == spectral_radius(p, lr, 1)
        assert is_stable(q, lr, 1) == is_stable(p, lr, 1)


def test_multiplicity_field_of_problem():
    """The real ``Problem(..., multiplicity=...)`` once another change adds it; skipped before."""
    try:
        p = Problem([1.0, 0.25], [1.0, 1.0], 0.5, multiplicity=[1, 3])
    except TypeError:
        pytest.skip("Problem has no multiplicity field yet")
    full = Problem([1.0, 0.25, 0.25, 0.25], np.ones(4), 0.5)
    assert spectral_radius(p, 0.4, 2) == pytest.approx(spectral_radius(full, 0.4, 2), rel=1e-12)
    assert stationary_risk(p, 0.4, 2) == pytest.approx(stationary_risk(full, 0.4, 2), rel=1e-12)


@pytest.mark.parametrize("bad", [[1.0], [1.0, 0.0], [1.0, np.nan], [[1.0, 1.0]], "ab"])
def test_bad_multiplicity(bad):
    p = _with_multiplicity(Problem([1.0, 0.5], [1.0, 1.0]), [1, 1])
    object.__setattr__(p, "multiplicity", bad)
    with pytest.raises((ValueError, TypeError), match="multiplicity"):
        spectral_radius(p, 0.1, 1)


@pytest.mark.parametrize("kappa", [1.0, 1.5, 3.0])
def test_fixed_point_is_fixed_for_any_kurtosis(kappa):
    problem = Problem.power_law(25, a=1.1, b=0.5, noise_variance=0.7, kurtosis=kappa)
    lam, sigma2 = problem.eigenvalues, problem.noise_variance
    # Largest stable rate on a grid, so that κ < 2 reaches negative D.
    lrs = [lr for lr in np.linspace(0.05, 4.0, 80) if is_stable(problem, lr, 1)]
    lr = max(lrs)
    s = stationary_second_moment(problem, lr, 1)
    np.testing.assert_allclose(second_moment_step(s, lam, lr, 1, sigma2, kappa), s, rtol=1e-10)
    q = float(lam @ s)
    step = sgd_moments(Spectrum(lam, s, sigma2, kappa), [lr], [1])["second_moment"]  # the plain loop, one step
    np.testing.assert_allclose(step, s, rtol=1e-10)
    assert stationary_risk(problem, lr, 1) == pytest.approx(0.5 * q, rel=1e-12)


def test_large_dimension_low_kurtosis_returns():
    """d = 5000, κ = 1.5 (some D_i < 0): once a dense 5000² eigen-solve, now O(d)."""
    problem = Problem.power_law(5000, a=1.2, b=1.0, noise_variance=0.5, kurtosis=1.5)
    assert not is_stable(problem, 1.9, 1)
    rho = spectral_radius(problem, 1.9, 1)
    assert 4.0 < rho < 5.0  # dense eigvals at d = 4999 gave 4.3534 (minutes)
    assert is_stable(problem, 0.2, 1) and spectral_radius(problem, 0.2, 1) < 1


@pytest.mark.slow
def test_large_dimension_matches_dense():
    problem = Problem.power_law(1500, a=1.2, b=1.0, kurtosis=1.5)
    for lr in (0.5, 1.9):
        want = _dense_radius(problem.eigenvalues, 1.5, lr, 1)
        assert spectral_radius(problem, lr, 1) == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("fn", [is_stable, spectral_radius, stationary_second_moment, stationary_risk])
@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"lr": float("nan")}, ValueError, "lr must be finite; got nan"),
        ({"lr": float("inf")}, ValueError, "lr must be finite; got inf"),
        ({"lr": -0.1}, ValueError, "lr must be positive; got -0.1"),
        ({"lr": 0}, ValueError, "lr must be positive; got 0.0"),
        ({"lr": True}, TypeError, "lr must be a real number; got True"),
        ({"lr": "0.1"}, TypeError, "lr must be a real number; got '0.1'"),
        ({"batch": float("nan")}, ValueError, "batch must be finite; got nan"),
        ({"batch": -np.inf}, ValueError, "batch must be finite; got -inf"),
        ({"batch": 0}, ValueError, "batch must be ≥ 1.0; got 0"),
        ({"batch": -4}, ValueError, "batch must be ≥ 1.0; got -4"),
        ({"batch": False}, TypeError, "batch must be a real number; got False"),
        ({"batch": "8"}, TypeError, "batch must be a real number; got '8'"),
        ({"problem": "p"}, TypeError, "problem must be a Problem; got 'p'"),
        ({"problem": None}, TypeError, "problem must be a Problem; got None"),
    ],
)
def test_hostile_arguments(fn, kwargs, error, text):
    args = {"problem": Problem.isotropic(3, noise_variance=1.0), "lr": 0.1, "batch": 2, **kwargs}
    with pytest.raises(error) as info:
        fn(**args)
    assert str(info.value) == text


def test_unstable_stationary_point_message_names_the_problem():
    # Found by tests/test_hostile_inputs.py: the error for an unstable problem named only lr and batch.
    p = Problem([1e150], [1e150], noise_variance=1.0)
    with pytest.raises(ValueError, match=r"SGD is not stable at lr=0\.5, batch=2\.0 for this problem"):
        stationary_second_moment(p, 0.5, 2)
