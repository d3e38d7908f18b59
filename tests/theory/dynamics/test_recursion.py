"""The exact solver against independent references.

References used here:
- tests/oracles.py's ``sgd_moments``: docs/math.md#sgd-second-moment-recursion iterated in exact rational arithmetic for
  SGD, and in 40-digit arithmetic for NSGD (its square root is irrational);
- full-covariance oracles written from first principles on *non-diagonal* problems: the Gaussian
  fourth-moment identity ``E[x xᵀ P x xᵀ] = 2HPH + tr(HP)H``, and, for Rademacher inputs, the same
  expectation by enumerating all 2^d sign vectors;
- a joint (average, iterate) covariance oracle for iterate averaging, for any weights ρ_t.

Every oracle test runs on both kernels of the solver (``kernel="fused"`` and ``"reference"``);
tests/theory/dynamics/test_solver_kernels.py holds the two kernels to each other.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from ramplab.theory import DivergenceError, Numerics, Problem, Schedule, expected_risk
from ramplab.theory.dynamics import _kernels as kernels
from ramplab.theory.dynamics import ExponentialAverage, TailAverage, UniformAverage
from ramplab.theory.dynamics import gradient_second_moment, second_moment_step
from ramplab.theory.dynamics import is_stable, spectral_radius, stationary_risk, stationary_second_moment

from oracles import Spectrum, sgd_moments

R = sp.Rational


@pytest.fixture(params=["fused", "reference"])
def kernel(request):
    """Both solver kernels; the fused one only where numba imports (the `fast` extra)."""
    if request.param == "fused" and not kernels.AVAILABLE:
        pytest.skip("numba is not installed")
    return request.param


RATIONAL_CASES = [
    # (λ, s(0), σ², κ, per-step η, per-step B)
    ([R(1)], [R(2)], R(1, 3), R(3), [R(1, 4)] * 5, [1] * 5),
    ([R(1), R(1, 3)], [R(1, 2), R(5, 7)], R(0), R(3), [R(1, 5), R(1, 7), R(1, 9)], [2, 3, 5]),
    ([R(3, 2), R(1, 2), R(1, 10)], [R(1), R(2), R(3)], R(1, 2), R(1), [R(1, 3)] * 4 + [R(1, 6)] * 3,
     [1, 1, 4, 4, 7, 7, 16]),
    ([R(2), R(1, 4), R(1, 8)], [R(1, 3), R(0), R(9, 2)], R(2), R(9, 5), [R(1, 11)] * 6, [3] * 6),
]


@pytest.mark.parametrize("case", RATIONAL_CASES, ids=lambda c: f"d{len(c[0])}")
def test_sgd_matches_exact_rational_arithmetic(case, kernel):
    lam, s0, sigma2, kappa, lrs, batches = case
    problem = Problem([float(x) for x in lam], [float(x) for x in s0], float(sigma2), float(kappa))
    schedule = Schedule([float(x) for x in lrs], batches)
    got = expected_risk(problem, schedule, numerics=Numerics(kernel=kernel)).risk
    exact = sgd_moments(Spectrum(lam, s0, sigma2, kappa), lrs, batches, arithmetic="exact")["risk"]
    want = np.array([float(x) for x in exact])
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)


def test_nsgd_matches_high_precision_arithmetic(kernel):
    lam, s0, sigma2, kappa = [R(1), R(1, 2), R(1, 5)], [R(1), R(3), R(1, 2)], R(1, 4), R(3)
    lrs, batches = [R(1, 10)] * 4 + [R(1, 20)] * 4, [1, 2, 2, 4, 4, 8, 8, 16]
    precise = sgd_moments(Spectrum(lam, s0, sigma2, kappa), lrs, batches, optimizer="nsgd", arithmetic="mpmath",
                          digits=40)
    risks, rates = precise["risk"], precise["effective_lr"]
    problem = Problem([float(x) for x in lam], [float(x) for x in s0], float(sigma2), float(kappa))
    res = expected_risk(problem, Schedule([float(x) for x in lrs], batches), "nsgd", numerics=Numerics(kernel=kernel))
    np.testing.assert_allclose(res.risk, [float(x) for x in risks], rtol=1e-13)
    np.testing.assert_allclose(res.effective_lr, [float(x) for x in rates], rtol=1e-14)


def _random_spd(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def _gaussian_fourth(h, p):
    """E[x xᵀ P x xᵀ] for x ~ N(0, H): Isserlis' theorem."""
    return 2 * h @ p @ h + np.trace(h @ p) * h


def _rademacher_fourth(lam, p):
    """E[x xᵀ P x xᵀ] for x = Λ^{1/2} z, z uniform on {±1}^d, by enumeration (eigenbasis)."""
    d = lam.shape[0]
    out = np.zeros((d, d))
    for signs in itertools.product((-1.0, 1.0), repeat=d):
        x = np.sqrt(lam) * np.array(signs)
        out += np.outer(x, x) @ p @ np.outer(x, x)
    return out / 2**d


def _covariance_oracle(h, e0, sigma2, lrs, batches, fourth, nsgd=False):
    """Risk from the full covariance update P ← (I−ηH)P(I−ηH) + (η²/B)(E[xxᵀPxxᵀ] − HPH + σ²H)."""
    d = h.shape[0]
    p = np.outer(e0, e0)
    risks = [0.5 * np.trace(h @ p)]
    for eta, b in zip(lrs, batches):
        fm = fourth(p)
        if nsgd:
            # E‖g‖² = ‖mean‖² + tr(per-sample covariance)/B.
            g2 = np.trace(h @ p @ h) + (np.trace(fm) - np.trace(h @ p @ h) + sigma2 * np.trace(h)) / b
            eta = eta / np.sqrt(g2)
        a = np.eye(d) - eta * h
        p = a @ p @ a + eta**2 / b * (fm - h @ p @ h + sigma2 * h)
        risks.append(0.5 * np.trace(h @ p))
    return np.array(risks)


@pytest.mark.parametrize("optimizer", ["sgd", "nsgd"])
def test_matches_gaussian_covariance_oracle_on_nondiagonal_problem(optimizer, kernel):
    rng = np.random.default_rng(20261122)
    d = 5
    h, e0, sigma2 = _random_spd(rng, d), rng.normal(size=d), 0.3
    lrs = np.concatenate([np.full(10, 0.3), np.full(10, 0.15), np.full(10, 0.05)])
    batches = np.array([1] * 10 + [3] * 10 + [8] * 10)
    oracle = _covariance_oracle(h, e0, sigma2, lrs, batches, lambda p: _gaussian_fourth(h, p),
                                nsgd=optimizer == "nsgd")
    problem = Problem.from_covariance(h, e0, sigma2)
    got = expected_risk(problem, Schedule(lrs, batches), optimizer, numerics=Numerics(kernel=kernel)).risk
    np.testing.assert_allclose(got, oracle, rtol=1e-12)


def test_matches_rademacher_enumeration_oracle(kernel):
    lam = np.array([1.3, 0.6, 0.2])
    e0 = np.array([0.7, -1.1, 2.0])
    lrs, batches, sigma2 = np.full(12, 0.4), np.array([1, 2, 3] * 4), 0.25
    h = np.diag(lam)
    oracle = _covariance_oracle(h, e0, sigma2, lrs, batches, lambda p: _rademacher_fourth(lam, p))
    problem = Problem(lam, e0**2, sigma2, kurtosis=1.0)
    np.testing.assert_allclose(expected_risk(problem, Schedule(lrs, batches), numerics=Numerics(kernel=kernel)).risk,
                               oracle, rtol=1e-12)


def _averaged_risk_oracle(h, e0, sigma2, lrs, batches, rhos, nsgd=False):
    """Averaged risk from the joint covariance of z = (ē, e), Gaussian data, any weights ρ_t.

    e' = (I − ηH) e − η ξ and ē' = (1 − ρ) ē + ρ e', with ξ the zero-mean gradient noise of
    covariance (E[xxᵀPxxᵀ] − HPH + σ²H)/B given the past: no diagonal structure is assumed.
    """
    d = h.shape[0]
    z = np.concatenate([e0, e0])
    cov = np.outer(z, z)
    want = [0.5 * e0 @ h @ e0]
    eye = np.eye(d)
    for eta, b, rho in zip(lrs, batches, rhos):
        p = cov[d:, d:]
        fm = _gaussian_fourth(h, p)
        if nsgd:
            eta = eta / np.sqrt(np.trace(h @ p @ h) + (np.trace(fm) - np.trace(h @ p @ h) + sigma2 * np.trace(h)) / b)
        a = eye - eta * h
        trans = np.block([[(1 - rho) * eye, rho * a], [np.zeros((d, d)), a]])
        noise = eta**2 / b * (fm - h @ p @ h + sigma2 * h)
        cov = trans @ cov @ trans.T + np.kron(np.array([[rho**2, rho], [rho, 1.0]]), noise)
        want.append(0.5 * np.trace(h @ cov[:d, :d]))
    return np.array(want)


@pytest.mark.parametrize("optimizer", ["sgd", "nsgd"])
@pytest.mark.parametrize(
    "average", [UniformAverage(), TailAverage(start=9), ExponentialAverage(0.2),
                ExponentialAverage(np.linspace(1.0, 0.05, 25))], ids=["uniform", "tail", "ema", "ema-steps"])
def test_average_matches_joint_covariance_oracle(average, optimizer, kernel):
    rng = np.random.default_rng(7)
    d = 4
    h, e0, sigma2 = _random_spd(rng, d), rng.normal(size=d), 0.5
    lrs, batches = np.full(25, 0.25), np.array([2] * 25)
    want = _averaged_risk_oracle(h, e0, sigma2, lrs, batches, average.weights(np.arange(1, 26)),
                                 nsgd=optimizer == "nsgd")
    res = expected_risk(Problem.from_covariance(h, e0, sigma2), Schedule(lrs, batches), optimizer,
                        average=average, numerics=Numerics(kernel=kernel))
    np.testing.assert_allclose(res.averaged_risk, want, rtol=1e-12)
    # The oracle is not trivially the last iterate: averaging changes the risk.
    assert np.max(np.abs(res.averaged_risk / res.risk - 1)) > 0.05


def test_batch_one_special_form():
    lam = np.array([1.0, 0.25])
    s = np.array([2.0, 3.0])
    eta, sigma2 = 0.3, 0.7
    q = lam @ s
    want = (1 - 2 * eta * lam + 2 * eta**2 * lam**2) * s + eta**2 * lam * (q + sigma2)
    np.testing.assert_allclose(second_moment_step(s, lam, eta, 1, sigma2), want, rtol=1e-15)


def test_fixed_point_is_fixed_and_attracting(kernel):
    problem = Problem.power_law(30, a=1.3, b=0.5, noise_variance=0.8)
    eta, batch = 0.7, 4
    s_inf = stationary_second_moment(problem, eta, batch)
    again = second_moment_step(s_inf, problem.eigenvalues, eta, batch, problem.noise_variance)
    np.testing.assert_allclose(again, s_inf, rtol=1e-13)
    res = expected_risk(problem, Schedule.constant(eta, batch, steps=20000), numerics=Numerics(kernel=kernel))
    assert res.final_risk == pytest.approx(stationary_risk(problem, eta, batch), rel=1e-6)


@pytest.mark.parametrize("kappa", [1.0, 1.5, 3.0, 9.0])
def test_stability_predicate_matches_solver(kappa, kernel):
    problem = Problem.power_law(20, a=1.2, b=1.0, noise_variance=0.5, kurtosis=kappa)
    for batch in (1, 4, 32):
        lrs = np.linspace(0.1, 2.4, 24)
        rhos = [spectral_radius(problem, lr, batch) for lr in lrs]
        for lr, rho in zip(lrs, rhos):
            assert is_stable(problem, lr, batch) == (rho < 1), (lr, batch, rho)
        # Away from the boundary the solver itself separates the two cases in 3000 steps.
        clear = [(lr, rho) for lr, rho in zip(lrs, rhos) if abs(rho - 1) >= 0.02]
        runs = expected_risk(problem, [Schedule.constant(lr, batch, steps=3000) for lr, _ in clear],
                             on_divergence="flag", numerics=Numerics(kernel=kernel))
        for (lr, rho), res in zip(clear, runs):
            grew = res.diverged_at is not None or res.final_risk > 1e6 * max(res.risk[0], 1.0)
            assert grew == (rho > 1), (lr, batch, rho, res.final_risk)


def test_stationary_point_rejects_unstable_rate():
    problem = Problem.isotropic(3, noise_variance=1.0)
    with pytest.raises(ValueError, match="not stable"):
        stationary_second_moment(problem, 1.5, 1)


def test_divergence_raises_with_step_and_flag_marks_it(kernel):
    problem = Problem.isotropic(2, noise_variance=1.0)
    bad = Schedule.constant(3.0, 1, steps=2000, label="too hot")
    with pytest.raises(DivergenceError, match="'too hot' diverged") as info:
        expected_risk(problem, bad, numerics=Numerics(kernel=kernel))
    assert 1 < info.value.step < 100  # the blow-up bound (docs/math.md#divergence), long before overflow
    good = Schedule.constant(0.1, 1, steps=50)
    flagged, fine = expected_risk(problem, [bad, good], on_divergence="flag", numerics=Numerics(kernel=kernel))
    k = flagged.diverged_at
    assert k == info.value.step
    assert np.all(np.isfinite(flagged.risk[:k])) and np.all(np.isinf(flagged.risk[k:]))
    assert np.all(np.isnan(flagged.effective_lr[k:])) and np.all(np.isfinite(flagged.effective_lr[:k]))
    assert fine.diverged_at is None and np.all(np.isfinite(fine.risk))


def test_batched_call_equals_separate_calls_and_lengths_may_differ(kernel):
    problem = Problem.power_law(40, a=1.5, b=1.0, noise_variance=0.2)
    scheds = [Schedule.constant(0.5, 2, steps=30), Schedule.from_phases([(0.5, 2, 20), (0.25, 4, 40)]),
              Schedule.constant(0.1, 1, steps=7)]
    for optimizer in ("sgd", "nsgd"):
        together = expected_risk(problem, scheds, optimizer, split=True, average="uniform",
                                 numerics=Numerics(kernel=kernel))
        for sched, joint in zip(scheds, together):
            alone = expected_risk(problem, sched, optimizer, split=True, average="uniform",
                                  numerics=Numerics(kernel=kernel))
            assert joint.risk.shape == (len(sched) + 1,)
            for name in ("risk", "bias", "variance", "averaged_risk", "effective_lr", "mean_variance_ratio"):
                np.testing.assert_allclose(getattr(joint, name), getattr(alone, name), rtol=1e-14)


@pytest.mark.parametrize("optimizer", ["sgd", "nsgd"])
def test_bias_plus_variance_is_risk(optimizer, kernel):
    problem = Problem.power_law(25, a=1.4, b=0.8, noise_variance=0.6)
    res = expected_risk(problem, Schedule.from_phases([(0.6, 2, 100), (0.2, 8, 200)]), optimizer, split=True,
                        numerics=Numerics(kernel=kernel))
    np.testing.assert_allclose(res.bias + res.variance, res.risk, rtol=1e-13)
    assert res.variance[0] == 0 and res.bias[0] == res.risk[0]


def test_nsgd_diagnostics_are_the_expected_gradient_moments(kernel):
    problem = Problem.power_law(10, a=1.0, b=1.0, noise_variance=0.3, kurtosis=2.5)
    sched = Schedule.from_phases([(0.05, 4, 40), (0.05, 16, 64)])
    res = expected_risk(problem, sched, "nsgd", numerics=Numerics(kernel=kernel))
    s = problem.initial_second_moment
    for t in range(len(sched)):
        g2 = gradient_second_moment(problem, s, sched.batch[t])
        mean = problem.eigenvalues**2 @ s
        assert res.gradient_second_moment[t] == pytest.approx(g2, rel=1e-13)
        assert res.effective_lr[t] == pytest.approx(sched.lr[t] / np.sqrt(g2), rel=1e-13)
        assert res.mean_variance_ratio[t] == pytest.approx(mean / (g2 - mean), rel=1e-12)
        s = second_moment_step(s, problem.eigenvalues, res.effective_lr[t], sched.batch[t],
                               problem.noise_variance, problem.kurtosis)


def test_nsgd_at_the_optimum_without_noise_stays_put(kernel):
    problem = Problem([1.0, 0.5], [0.0, 0.0], noise_variance=0.0)
    res = expected_risk(problem, Schedule.constant(0.1, 2, steps=5), "nsgd", numerics=Numerics(kernel=kernel))
    assert np.all(res.risk == 0) and np.all(res.effective_lr == 0)
    assert np.all(res.mean_variance_ratio == 0)


def test_backends_agree(xp):
    problem = Problem.power_law(16, a=1.5, b=1.0, noise_variance=0.4)
    sched = Schedule.from_phases([(0.5, 2, 40), (0.3, 8, 80)])
    ref = expected_risk(problem, sched, "nsgd", split=True, average="uniform", numerics=Numerics(kernel="reference"))
    got = expected_risk(problem, sched, "nsgd", split=True, average="uniform", numerics=Numerics(backend=xp))
    for name in ("risk", "bias", "variance", "averaged_risk", "effective_lr"):
        np.testing.assert_allclose(getattr(got, name), getattr(ref, name), rtol=1e-14)


def test_float32_is_close_to_float64(kernel):
    problem = Problem.power_law(64, a=1.5, b=1.0, noise_variance=0.4)
    sched = Schedule.from_phases([(0.5, 2, 400), (0.3, 8, 800)])
    ref = expected_risk(problem, sched).risk
    got = expected_risk(problem, sched, numerics=Numerics(dtype=np.float32, kernel=kernel)).risk
    np.testing.assert_allclose(got, ref, rtol=1e-5)  # float32: ~1e-7 per op over a few hundred steps


def test_at_samples_interpolates_and_rejects_out_of_range():
    res = expected_risk(Problem.isotropic(2, noise_variance=0.1), Schedule.constant(0.1, 4, steps=5))
    assert res.at_samples([6])[0] == pytest.approx(0.5 * (res.risk[1] + res.risk[2]))
    with pytest.raises(ValueError, match="grid must lie in"):
        res.at_samples([21])


@pytest.mark.parametrize(
    "kwargs, match",
    [({"optimizer": "adam"}, "optimizer"), ({"average": "median"}, "average"),
     ({"on_divergence": "ignore"}, "on_divergence"), ({"numerics": {"backend": "tpu"}}, "backend")],
)
def test_bad_arguments_name_themselves(kwargs, match):
    with pytest.raises(ValueError, match=match):
        expected_risk(Problem.isotropic(2), Schedule.constant(0.1, 1, steps=2), **kwargs)


def test_bad_types_raise_type_error():
    with pytest.raises(TypeError, match="problem"):
        expected_risk("problem", Schedule.constant(0.1, 1, steps=2))
    with pytest.raises(TypeError, match="schedules"):
        expected_risk(Problem.isotropic(2), [])


# ------------------------------------------------------------------------------------ properties
problems = st.builds(
    lambda d, a, b, sigma2, kappa: Problem.power_law(d, a, b, sigma2, kurtosis=kappa),
    st.integers(1, 40), st.floats(0.5, 2.5), st.floats(-1.0, 2.0), st.floats(0.0, 2.0), st.floats(1.0, 5.0),
)


@settings(max_examples=40)
@given(problems, st.floats(0.01, 0.9), st.integers(1, 64), st.integers(1, 200))
def test_risk_is_nonnegative(problem, lr_fraction, batch, steps):
    # Learning rates inside the B = 1 stability region for the drawn κ and spectrum.
    lr = lr_fraction / problem.largest_eigenvalue
    res = expected_risk(problem, Schedule.constant(lr, batch, steps=steps), on_divergence="flag")
    finite = res.risk[np.isfinite(res.risk)]
    assert np.all(finite >= 0)


@settings(max_examples=40)
@given(problems, st.floats(0.01, 1.0), st.integers(1, 64), st.integers(1, 200))
def test_noiseless_risk_is_nonincreasing_for_small_rates(problem, lr_fraction, batch, steps):
    problem = problem.replace(noise_variance=0.0)
    # With σ² = 0, q' − q = Σ_i λ_i s_i [−2ηλ_i + cη²λ_i² + (η²/B) Σλ²] (c = 1 + (κ−2)/B), so every
    # bracket ≤ 0, i.e. η ≤ min_i 2λ_i / (cλ_i² + Σλ²/B), is sufficient. It is also needed in general:
    # mass in a small-λ direction feeds multiplicative noise into the others.
    lam = problem.eigenvalues
    c = 1 + (problem.kurtosis - 2) / batch
    lr = lr_fraction * float(np.min(2 * lam / (c * lam**2 + np.sum(lam**2) / batch)))
    res = expected_risk(problem, Schedule.constant(lr, batch, steps=steps))
    assert np.all(np.diff(res.risk) <= 1e-15 * res.risk[:-1])


@settings(max_examples=30)
@given(problems, st.randoms(use_true_random=False), st.sampled_from(["sgd", "nsgd"]))
def test_invariant_to_permuting_eigendirections(problem, rnd, optimizer):
    perm = list(range(problem.dimension))
    rnd.shuffle(perm)
    shuffled = Problem(problem.eigenvalues[perm], problem.initial_second_moment[perm],
                       problem.noise_variance, problem.kurtosis)
    sched = Schedule.from_phases([(0.3 / problem.largest_eigenvalue, 2, 40), (0.1, 4, 40)])
    a = expected_risk(problem, sched, optimizer, on_divergence="flag").risk
    b = expected_risk(shuffled, sched, optimizer, on_divergence="flag").risk
    np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.gpu
def test_cupy_matches_numpy():
    problem = Problem.power_law(256, a=1.5, b=1.0, noise_variance=0.4)
    sched = Schedule.from_phases([(0.5, 2, 400), (0.3, 8, 800)])
    ref = expected_risk(problem, sched, "nsgd", split=True)
    got = expected_risk(problem, sched, "nsgd", split=True, numerics=Numerics(backend="cupy"))
    np.testing.assert_allclose(got.risk, ref.risk, rtol=1e-12)
    np.testing.assert_allclose(got.bias, ref.bias, rtol=1e-12)


@pytest.mark.gpu
@pytest.mark.parametrize("optimizer", ["sgd", "nsgd"])
@pytest.mark.parametrize("average", [None, "uniform", "tail", "ema"])
def test_cupy_fused_elementwise_matches_numpy(optimizer, average):
    """The CuPy path's fused element-wise kernels against the NumPy reference, with split rows."""
    from ramplab.theory import ExponentialAverage, TailAverage

    spec = {None: None, "uniform": "uniform", "tail": TailAverage(start=300), "ema": ExponentialAverage(0.02)}
    problem = Problem.power_law(300, a=1.5, b=1.0, noise_variance=0.2)
    scheds = [Schedule.from_phases([(0.5, 2, 600), (0.25, 4, 1200)]), Schedule.constant(0.2, 3, steps=700)]
    ref = expected_risk(problem, scheds, optimizer, split=True, average=spec[average],
                        numerics=Numerics(kernel="reference"))
    got = expected_risk(problem, scheds, optimizer, split=True, average=spec[average],
                        numerics=Numerics(backend="cupy"))
    for r, g in zip(ref, got):
        for name in ("risk", "bias", "variance", "averaged_risk", "effective_lr"):
            if getattr(r, name) is not None:
                np.testing.assert_allclose(getattr(g, name), getattr(r, name), rtol=1e-12, err_msg=name)


@pytest.mark.parametrize("bad", [["1"], [True], [0.5, True], np.array([1 + 0j])])
def test_exponential_average_refuses_non_real_weight_arrays(bad):
    # Found by tests/test_hostile_inputs.py: ["1"] and [True] were read as the weight 1.0, complex
    # weights lost their imaginary part with a ComplexWarning.
    with pytest.raises(TypeError, match="weight must be a number or a 1-D array of numbers"):
        ExponentialAverage(bad)


# ----------------------------------------------------------------- hostile-input regressions
# Found by tests/test_hostile_inputs.py: each used to be accepted silently (a truthy value read as
# True, a float32 scalar read as its dtype) or to fail with an error that did not name the argument.
from ramplab.theory.dynamics import (  # noqa: E402
    gradient_second_moment, initial_state, second_moment_step, step_tables)

_P2 = Problem([1.0, 0.5], [1.0, 0.5], noise_variance=1e-3)
_S3 = Schedule([0.5, 0.5, 0.25], [4, 4, 2])


@pytest.mark.parametrize("bad", ["yes", 0, 1.0, None, [True]])
def test_expected_risk_split_must_be_a_bool(bad):
    with pytest.raises(TypeError, match="split must be True or False"):
        expected_risk(_P2, _S3, split=bad)


@pytest.mark.parametrize("arg", ["optimizer", "on_divergence", "kernel"])
def test_expected_risk_choices_refuse_arrays(arg):
    # Used to fail on "The truth value of an array ... is ambiguous".
    def kw(value):
        return {"numerics": {arg: value}} if arg == "kernel" else {arg: value}  # the kernel is a Numerics field

    with pytest.raises(ValueError, match=rf"^{arg} must be"):
        expected_risk(_P2, _S3, **kw(np.array(["sgd", "nsgd"])))
    with pytest.raises(ValueError, match=rf"^{arg} must be"):
        expected_risk(_P2, _S3, compress=1e-3, **kw(np.zeros(0)))  # the compressed path checks too


def test_expected_risk_refuses_scalar_values_as_dtype_and_non_iterable_schedules():
    with pytest.raises(TypeError, match="dtype must be float64 or float32"):  # np.dtype() read float32
        expected_risk(_P2, _S3, numerics=Numerics(dtype=np.float32("nan")))
    with pytest.raises(TypeError, match="schedules must be a Schedule"):  # "'float' object is not iterable"
        expected_risk(_P2, 3.0)
    with pytest.raises(ValueError, match="checkpoints must lie in"):  # a RuntimeWarning in the cast
        expected_risk(_P2, _S3, checkpoints=[1e308])


def test_at_samples_averaged_must_be_a_bool():
    r = expected_risk(_P2, _S3, average="uniform")
    with pytest.raises(TypeError, match="averaged must be True or False"):
        r.at_samples([1.0], averaged="no")


def test_gradient_second_moment_checks_its_arguments():
    with pytest.raises(ValueError, match="second_moment must have shape"):
        gradient_second_moment(_P2, [1.0, 2.0, 3.0], 4)
    with pytest.raises(ValueError, match="batch must be ≥ 1"):
        gradient_second_moment(_P2, [1.0, 2.0], 0.5)
    with pytest.raises(ValueError, match="second_moment is too large"):  # returned inf
        gradient_second_moment(_P2, [1e308, 1e308], 1)
    with pytest.raises(TypeError, match="problem must be a Problem"):
        gradient_second_moment("p", [1.0], 1)


def test_step_tables_and_initial_state_check_their_arguments():
    with pytest.raises(ValueError, match="exceed MAX_TABLE_ENTRIES"):  # was a MemoryError
        step_tables([_S3, _S3], 0, 2**53)
    with pytest.raises(TypeError, match="start must be an integer"):
        step_tables([_S3], 1.5, 3)
    with pytest.raises(TypeError, match="schedules must be a sequence of Schedule"):
        step_tables(3.0, 0, 1)
    with pytest.raises(ValueError, match="n_schedules must be ≤"):  # was a MemoryError
        initial_state(_P2, 2**53)
    with pytest.raises(TypeError, match="split must be True or False"):
        initial_state(_P2, 1, split="yes")


def test_second_moment_step_checks_user_arrays():
    s, lam = np.array([[1.0, 2.0]]), np.array([1.0, 0.5])
    with pytest.raises(TypeError, match="s must hold real numbers"):
        second_moment_step(np.array(["a", "b"]), lam, 0.5, 4.0, 0.1)
    with pytest.raises(ValueError, match="lr must broadcast"):  # numpy's broadcast message before
        second_moment_step(s, lam, [], 4.0, 0.1)
    with pytest.raises(ValueError, match="batch must be positive"):
        second_moment_step(s, lam, 0.5, 0.0, 0.1)
    with np.errstate(all="raise"):  # overflow propagates as inf without a warning
        assert np.isinf(second_moment_step(s, np.array([1e308, 1e308]), 0.5, 4.0, 0.1)).all()


def test_expected_risk_refuses_empty_checkpoints_of_any_dtype():
    # Found by the hostile-input hypothesis draws: an empty complex array reached the int64 cast
    # (a ComplexWarning) instead of the "non-empty" check.
    with pytest.raises(ValueError, match="checkpoints must be a non-empty 1-D sequence"):
        expected_risk(_P2, _S3, checkpoints=np.zeros(0, dtype=complex))


def test_risk_is_never_negative_by_rounding():
    # Found by hypothesis (test_noiseless_risk_is_nonincreasing_for_small_rates): with κ = 1, λ = η = 1
    # and B = 9 the exact state after one step is 0, but the two terms of the update cancelled to
    # −2.8e-17 in float64. The state is ≥ 0 exactly for κ ≥ 1, so every kernel clamps it at 0.
    p = Problem([1.0], [1.0], noise_variance=0.0, kurtosis=1.0)
    for kernel in ("reference", "fused"):
        r = expected_risk(p, Schedule.constant(1.0, 9, steps=2), numerics=Numerics(kernel=kernel))
        assert np.all(r.risk >= 0), (kernel, r.risk)
    assert second_moment_step(np.array([1.0]), np.array([1.0]), 1.0, 9.0, 0.0, 1.0).tolist() == [0.0]
