"""The gradient noise scale at exact second moments (issue #23 item 1; docs/math.md#gradient-noise-scale).

References: the one-step identity is checked against the exact solver's own step (an independent code path:
``expected_risk`` one step from the state), the four terms against a Monte Carlo of per-sample gradients at a
fixed state (tolerance 4 standard errors, fixed seeds)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramplab.theory import (
    Problem,
    Schedule,
    SolverState,
    expected_risk,
    gradient_noise_scale,
    gradient_variance,
)


@st.composite
def problems_and_states(draw):
    d = draw(st.integers(1, 6))
    lam = np.array(draw(st.lists(st.floats(1e-3, 2.0), min_size=d, max_size=d)))
    s = np.array(draw(st.lists(st.floats(1e-4, 10.0), min_size=d, max_size=d)))
    mult = np.array(draw(st.lists(st.sampled_from([1.0, 2.0, 5.0]), min_size=d, max_size=d)))
    kappa = draw(st.floats(1.0, 6.0))
    sigma2 = draw(st.floats(0.0, 2.0))
    return Problem(lam, s, noise_variance=sigma2, kurtosis=kappa, multiplicity=mult), s


@settings(max_examples=60, deadline=None)
@given(ps=problems_and_states(), batch=st.floats(1.0, 1e4))
def test_one_step_identity_against_the_exact_solver(ps, batch):
    # McCandlish et al. (2018) on a quadratic: at the best learning rate for batch B the expected risk falls by
    # ΔL_max / (1 + B_noise/B). The exact solver's one step from the same second moments must agree.
    problem, s = ps
    g = gradient_noise_scale(problem, s)
    lr = float(g.optimal_lr(batch)[0])
    run = expected_risk(problem, Schedule.constant(lr, batch, steps=1, integer_batch=False))
    change = run.risk[1] - run.risk[0]
    # Rounding scale of the solver's difference: the size of the terms that cancel in it.
    lam, m = problem.eigenvalues, problem.multiplicity
    scale = 0.5 * float(np.sum(m * lam * s)) * 1e-12 + 1e-300
    assert change == pytest.approx(-float(g.loss_decrease(batch)[0]), rel=1e-12, abs=scale)
    # ... and the rate is the best one: a 1 % change either way never does better.
    for factor in (0.99, 1.01):
        other = expected_risk(problem, Schedule.constant(lr * factor, batch, steps=1, integer_batch=False))
        assert other.risk[1] >= run.risk[1] - scale


@settings(max_examples=40, deadline=None)
@given(ps=problems_and_states())
def test_trace_cov_is_the_one_sample_gradient_variance_and_kappa_3_identity(ps):
    problem, s = ps
    g = gradient_noise_scale(problem, s)
    assert g.trace_cov[0] == pytest.approx(float(gradient_variance(problem, s)), rel=1e-13)
    lam, m = problem.eigenvalues, problem.multiplicity
    q = float(np.sum(m * lam * s))
    tr_h = float(np.sum(m * lam))
    # κ = 3: tr Σ = |G|² + tr H (q + σ²) (docs/math.md#gradient-noise-scale)
    gauss = gradient_noise_scale(problem.replace(kurtosis=3.0), s)
    assert gauss.trace_cov[0] == pytest.approx(gauss.grad_norm_sq[0] + tr_h * (q + problem.noise_variance), rel=1e-13)
    assert g.b_simple[0] == pytest.approx(g.trace_cov[0] / g.grad_norm_sq[0], rel=1e-15)
    assert g.b_noise[0] == pytest.approx(g.trace_hessian_cov[0] / g.grad_hessian_grad[0], rel=1e-15)


DATA = {  # one-dimensional standardised laws and their kurtosis E z⁴
    "gaussian": (lambda rng, n: rng.standard_normal(n), 3.0),
    "rademacher": (lambda rng, n: rng.choice([-1.0, 1.0], size=n), 1.0),
    "laplace": (lambda rng, n: rng.laplace(scale=np.sqrt(0.5), size=n), 6.0),
}


@pytest.mark.parametrize("law", sorted(DATA))
def test_terms_against_a_monte_carlo_of_per_sample_gradients(law):
    # e ~ N(0, diag s) (any law with these second moments would do), x = √λ ∘ z, ξ ~ N(0, σ²); per e, M samples
    # give an unbiased estimate of tr Cov(g | e) and of tr(H Cov(g | e)). Averages over N draws of e, 4 SE.
    draw, kappa = DATA[law]
    rng = np.random.default_rng(20261207)
    lam, s, sigma2 = np.array([1.0, 0.4, 0.1]), np.array([0.5, 2.0, 3.0]), 0.3
    problem = Problem(lam, s, noise_variance=sigma2, kurtosis=kappa)
    exact = gradient_noise_scale(problem, s)
    n_e, m_x, d = 20_000, 6, lam.size
    e = rng.standard_normal((n_e, d)) * np.sqrt(s)
    x = draw(rng, n_e * m_x * d).reshape(n_e, m_x, d) * np.sqrt(lam)
    xi = rng.standard_normal((n_e, m_x)) * np.sqrt(sigma2)
    grads = x * ((x * e[:, None, :]).sum(-1) - xi)[..., None]        # (N, M, d) per-sample gradients
    mean = (lam * e)                                                   # G = He given e
    centred = grads - grads.mean(axis=1, keepdims=True)
    per_e = {
        "grad_norm_sq": (mean**2).sum(-1),
        "grad_hessian_grad": (lam * mean**2).sum(-1),
        "trace_cov": (centred**2).sum((1, 2)) / (m_x - 1),
        "trace_hessian_cov": (lam * centred**2).sum((1, 2)) / (m_x - 1),
    }
    for name, values in per_e.items():
        est, se = values.mean(), values.std(ddof=1) / np.sqrt(n_e)
        want = float(getattr(exact, name)[0])
        assert abs(est - want) <= 4 * se, (law, name, est, want, se)


def test_trajectory_state_and_array_inputs_agree():
    problem = Problem.power_law(d=50, a=1.5, b=1.0, noise_variance=0.2)
    schedule = Schedule.constant(0.2, 4, steps=300)
    checkpoints = [0, 10, 100, 300]
    run = expected_risk(problem, schedule, checkpoints=checkpoints, keep_states=True)
    g = gradient_noise_scale(problem, run)
    assert g.steps.tolist() == checkpoints and g.b_noise.shape == (4,)
    stacked = np.stack([run.state_at(t).second_moment[0] for t in checkpoints])
    from_array = gradient_noise_scale(problem, stacked)
    for name in ("grad_norm_sq", "trace_cov", "grad_hessian_grad", "trace_hessian_cov"):
        np.testing.assert_allclose(getattr(g, name), getattr(from_array, name), rtol=1e-14)
    one = gradient_noise_scale(problem, run.state_at(300))
    assert one.steps.tolist() == [300] and one.b_simple[0] == pytest.approx(g.b_simple[-1], rel=1e-14)
    # At the start the gradient is largest and the noise scale smallest; it grows as the risk falls.
    assert np.all(np.diff(g.b_simple) > 0)
    # The trajectory's own E‖g‖² per step is |G|² + tr Σ / B (docs/math.md#normalized-sgd).
    full = expected_risk(problem, schedule, checkpoints=[100, 101], keep_states=True)
    at_100 = gradient_noise_scale(problem, full.state_at(100))
    assert full.gradient_second_moment[-1] == pytest.approx(
        float(at_100.grad_norm_sq[0] + at_100.trace_cov[0] / 4), rel=1e-12)


def test_bad_inputs_name_the_argument():
    problem = Problem([1.0, 0.5], [1.0, 2.0])
    with pytest.raises(ValueError, match="at must be .* shape"):
        gradient_noise_scale(problem, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="at"):
        gradient_noise_scale(problem, [1.0, -2.0])
    with pytest.raises(TypeError, match="problem must be a Problem"):
        gradient_noise_scale("p", [1.0, 2.0])
    with pytest.raises(ValueError, match="dimension"):
        gradient_noise_scale(problem, SolverState(0, 0, np.ones((1, 3))))
    g = gradient_noise_scale(problem, [1.0, 2.0])
    with pytest.raises(ValueError, match="batch"):
        g.optimal_lr(0.5)
    at_optimum = gradient_noise_scale(problem, [0.0, 0.0])
    assert np.isinf(at_optimum.b_noise[0]) and at_optimum.loss_decrease(4)[0] == 0.0
