"""risk_gradient / risk_hessian / flat_direction (docs/math.md#risk-gradient, #risk-hessian).

References: central finite differences of :func:`expected_risk` (an independent code path: the solver's
loop and fused kernels, not the adjoint kernels) in log learning rate and log batch size, step 1e-5, whose
own error is ~1e-10 relative here (truncation h² ≈ 1e-10, rounding ε/h ≈ 1e-11); for d = 1 a hand-derived
closed form.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramplab.theory import (
    NSGD,
    SGD,
    DivergenceError,
    ExponentialAverage,
    HeavyBall,
    Problem,
    RiskGradient,
    Schedule,
    TailAverage,
    UniformAverage,
    expected_risk,
    flat_direction,
    risk_gradient,
    risk_hessian,
)

TOL = 1e-6


def objective_by_solver(problem, lr, batch, steps, optimizer, objective, checkpoints, average):
    sched = Schedule.from_segments(lr, batch, steps, integer_batch=False)
    if objective == "averaged" and average is None:
        average = UniformAverage()
    checks = [len(sched)] if checkpoints is None else checkpoints
    r = expected_risk(problem, sched, optimizer, average=average, checkpoints=checks, reduce=False, progress=False)
    curve = r.averaged_risk if average is not None else r.risk
    return float(np.mean(curve))


def finite_difference(problem, lr, batch, steps, optimizer, objective, checkpoints, average, h=1e-5):
    K = len(lr)
    out = np.empty(2 * K)
    for j in range(2 * K):
        vals = []
        for sign in (1.0, -1.0):
            lr_j, b_j = np.array(lr, float), np.array(batch, float)
            (lr_j if j < K else b_j)[j % K] *= math.exp(sign * h)
            vals.append(objective_by_solver(problem, lr_j, b_j, steps, optimizer, objective, checkpoints, average))
        out[j] = (vals[0] - vals[1]) / (2 * h)
    return out


def relative_error(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


OPTIMIZERS = {"sgd": "sgd", "nsgd": NSGD(), "momentum": HeavyBall(0.5), "momentum-nsgd": HeavyBall(0.6, optimizer="nsgd")}
CASES = [("final", None, None), ("mean_over_checkpoints", [0, 3, 10, 21], None), ("averaged", None, None),
         ("final", None, TailAverage(5)), ("mean_over_checkpoints", [4, 21], ExponentialAverage(0.2))]


@pytest.fixture(scope="module")
def small_problem():
    rng = np.random.default_rng(0)
    return Problem(rng.uniform(0.1, 1, 5), rng.uniform(0.1, 1, 5), noise_variance=0.3)


@pytest.mark.parametrize("opt", list(OPTIMIZERS))
@pytest.mark.parametrize("case", range(len(CASES)))
def test_gradient_matches_finite_differences(small_problem, opt, case):
    objective, checks, average = CASES[case]
    lr, batch, steps = [0.3, 0.2, 0.5], [2.0, 3.5, 6.0], [7, 5, 9]
    sched = Schedule.from_segments(lr, batch, steps, integer_batch=False)
    g = risk_gradient(small_problem, sched, OPTIMIZERS[opt], objective, checks, average, chunk=4)
    ref = finite_difference(small_problem, lr, batch, steps, OPTIMIZERS[opt], objective, checks, average)
    value = objective_by_solver(small_problem, lr, batch, steps, OPTIMIZERS[opt], objective, checks, average)
    assert g.value == pytest.approx(value, rel=1e-12)
    assert relative_error(g.gradient, ref) < TOL
    # chunking (two levels, and three: stored states every 6 steps, recomputed in sub-chunks of 2 and 3)
    # changes nothing but rounding
    alts = [21, (6, 2), (7, 3)] if opt in ("sgd", "nsgd") else [21, 6]
    for alt in alts:
        g1 = risk_gradient(small_problem, sched, OPTIMIZERS[opt], objective, checks, average, chunk=alt)
        np.testing.assert_allclose(g1.gradient, g.gradient, rtol=1e-12, atol=1e-15 * np.abs(g.gradient).max())
        assert g1.value == pytest.approx(g.value, rel=1e-14)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), opt=st.sampled_from(list(OPTIMIZERS)), K=st.integers(1, 3),
       d=st.integers(1, 6), kurtosis=st.floats(1.0, 5.0), average=st.sampled_from([None, "uniform", "ema"]))
def test_gradient_random_problems(seed, opt, K, d, kurtosis, average):
    rng = np.random.default_rng(seed)
    problem = Problem(rng.uniform(0.05, 1.0, d), rng.uniform(0.0, 1.0, d), noise_variance=float(rng.uniform(0.01, 1)),
                      multiplicity=rng.integers(1, 4, d).astype(float), kurtosis=kurtosis)
    lam_max = float(problem.eigenvalues.max())
    batch = rng.uniform(1.0, 8.0, K)
    trace = float(np.sum(problem.multiplicity * problem.eigenvalues))
    # stable rates: well inside ηλ(1 + (κ+1)/B) < 2 and (η/B) tr H < 1 (docs/math.md#stability)
    cap = min(1.0 / (lam_max * (1 + (kurtosis + 1) / batch.min())), batch.min() / (2 * trace))
    lr = rng.uniform(0.2, 1.0, K) * cap
    if opt in ("nsgd", "momentum-nsgd"):
        lr = lr * math.sqrt(problem.initial_risk * 2 * lam_max + trace * problem.noise_variance / batch.min())
    steps = rng.integers(1, 12, K).tolist()
    avg = {None: None, "uniform": UniformAverage(), "ema": ExponentialAverage(0.3)}[average]
    objective = "final"
    g = risk_gradient(problem, Schedule.from_segments(lr, batch, steps, integer_batch=False), OPTIMIZERS[opt],
                      objective, None, avg)
    ref = finite_difference(problem, lr, batch, steps, OPTIMIZERS[opt], objective, None, avg)
    assert relative_error(g.gradient, ref) < TOL


def test_d1_closed_form():
    """d = 1, SGD, one step: s' = (1 − 2ηλ + cη²λ²) s + η²λ(λs + σ²)/B, c = 1 + (κ − 2)/B.

    By hand: ∂R/∂log η = ½ λ η (−2λ s + 2cηλ² s + 2ηλ(λs + σ²)/B) and
    ∂R/∂log B = −½ λ ((κ − 2)η²λ² s + η²λ(λs + σ²)) / B.
    """
    lam, s, sigma2, eta, B, kappa = 0.7, 1.3, 0.4, 0.3, 2.5, 3.0
    c = 1 + (kappa - 2) / B
    g = risk_gradient(Problem([lam], [s], noise_variance=sigma2, kurtosis=kappa),
                      Schedule.from_segments([eta], [B], [1], integer_batch=False))
    s1 = (1 - 2 * eta * lam + c * eta**2 * lam**2) * s + eta**2 * lam * (lam * s + sigma2) / B
    assert g.value == pytest.approx(0.5 * lam * s1, rel=1e-14)
    d_eta = 0.5 * lam * eta * (-2 * lam * s + 2 * c * eta * lam**2 * s + 2 * eta * lam * (lam * s + sigma2) / B)
    d_b = -0.5 * lam * ((kappa - 2) * eta**2 * lam**2 * s + eta**2 * lam * (lam * s + sigma2)) / B
    assert g.d_log_lr[0] == pytest.approx(d_eta, rel=1e-13)
    assert g.d_log_batch[0] == pytest.approx(d_b, rel=1e-13)


def test_segments_sum_steps_and_result_fields(small_problem):
    sched = Schedule.from_segments([0.2, 0.1], [2, 4], [30, 20])
    g = risk_gradient(small_problem, sched, "nsgd", "mean_over_checkpoints", [10, 50])
    assert isinstance(g, RiskGradient)
    assert g.d_log_lr.shape == g.d_log_batch.shape == (2,)
    assert g.step_d_log_lr.shape == (50,)
    assert g.d_log_lr[0] == pytest.approx(g.step_d_log_lr[:30].sum(), rel=1e-12)
    # steps after the last checkpoint... none here; a finer partition sums to the coarser one
    fine = risk_gradient(small_problem, sched, "nsgd", "mean_over_checkpoints", [10, 50], segment_steps=[10, 20, 20])
    assert fine.d_log_batch[:2].sum() == pytest.approx(g.d_log_batch[0], rel=1e-12)
    assert not g.d_log_lr.flags.writeable
    with pytest.raises(AttributeError):
        g.value = 1.0


def test_steps_after_last_checkpoint_have_zero_gradient(small_problem):
    g = risk_gradient(small_problem, Schedule.from_segments([0.2, 0.1], [2, 4], [30, 20]), "sgd",
                      "mean_over_checkpoints", [0, 30])
    assert np.all(g.step_d_log_lr[30:] == 0) and np.all(g.step_d_log_batch[30:] == 0)
    assert np.all(g.step_d_log_lr[:30] != 0)


def test_errors_name_the_argument(small_problem):
    sched = Schedule.constant(0.1, 2, steps=10)
    with pytest.raises(ValueError, match="objective"):
        risk_gradient(small_problem, sched, objective="best")
    with pytest.raises(ValueError, match="checkpoints"):
        risk_gradient(small_problem, sched, objective="mean_over_checkpoints")
    with pytest.raises(ValueError, match="checkpoints"):
        risk_gradient(small_problem, sched, checkpoints=[3])
    with pytest.raises(ValueError, match="segment_steps"):
        risk_gradient(small_problem, sched, segment_steps=[3, 3])
    with pytest.raises(ValueError, match="chunk"):
        risk_gradient(small_problem, sched, chunk=0)
    with pytest.raises(ValueError, match="chunk"):
        risk_gradient(small_problem, sched, chunk=(4, 0))
    with pytest.raises(ValueError, match="chunk"):
        risk_gradient(small_problem, sched, HeavyBall(0.5), chunk=(4, 2))
    with pytest.raises(TypeError, match="problem"):
        risk_gradient(None, sched)
    with pytest.raises(TypeError, match="schedule"):
        risk_gradient(small_problem, [sched])
    with pytest.raises(ValueError, match="optimizer|normalization|exact"):
        risk_gradient(small_problem, sched, NSGD("conditional"))
    with pytest.raises(DivergenceError):
        risk_gradient(small_problem, Schedule.constant(5.0, 1, steps=100))


def test_sgd_spec_equals_string(small_problem):
    sched = Schedule.constant(0.1, 2, steps=10)
    a, b = risk_gradient(small_problem, sched, SGD()), risk_gradient(small_problem, sched, "sgd")
    np.testing.assert_array_equal(a.gradient, b.gradient)


# ------------------------------------------------------------------------------ Hessian
def test_hessian_symmetric_and_matches_gradient_differences(small_problem):
    lr, batch, steps = [0.3, 0.2], [2.0, 5.0], [8, 6]
    sched = Schedule.from_segments(lr, batch, steps, integer_batch=False)
    h = risk_hessian(small_problem, sched, "nsgd", step=1e-4)
    assert h.hessian.shape == (4, 4)
    assert h.asymmetry < 1e-6
    np.testing.assert_array_equal(h.hessian, h.hessian.T)
    # an independent column: differences of the gradient at a wider step (error O(h²) ≈ 1e-6 relative)
    H = 5e-4
    plus = risk_gradient(small_problem, Schedule.from_segments([lr[0], lr[1]], [batch[0], batch[1] * math.exp(H)],
                                                               steps, integer_batch=False), "nsgd").gradient
    minus = risk_gradient(small_problem, Schedule.from_segments([lr[0], lr[1]], [batch[0], batch[1] * math.exp(-H)],
                                                                steps, integer_batch=False), "nsgd").gradient
    col = (plus - minus) / (2 * H)
    assert relative_error(h.hessian[:, 3], col) < 1e-5
    np.testing.assert_allclose(h.eigenvectors @ np.diag(h.eigenvalues) @ h.eigenvectors.T, h.hessian, atol=1e-12)


def test_flat_direction_sgd_variance_dominated_and_where_it_stops():
    # One segment (the 2×2 Hessian in (log η, log B)); measured numbers in NOTE.md / docs/math.md#risk-hessian.
    # Variance-dominated and stationary (σ² only, ηλT ≥ 40): η/B = const is the flat direction.
    noisy = Problem([0.5, 1.0, 2.0], [0.0, 0.0, 0.0], noise_variance=1.0)
    f = flat_direction(risk_hessian(noisy, Schedule.from_segments([0.02], [4.0], [4000], integer_batch=False)))
    assert f.family_exponent == 1.0
    assert f.global_alignment > 0.999 and f.family_alignment > 0.999
    assert f.relative_eigenvalue < 0.02
    # Power law mid-way from the bias to the noise floor (T = 1000): the rate's contraction speed, not η/B,
    # sets the risk; the alignment drops (0.91), and it is back at stationarity (T = 10⁵: 0.999).
    p = Problem.power_law(100, a=1.5, b=1.0, noise_variance=0.5)
    lr = 0.5 / p.trace
    mid = flat_direction(risk_hessian(p, Schedule.from_segments([lr], [4.0], [1000], integer_batch=False)))
    late = flat_direction(risk_hessian(p, Schedule.from_segments([lr], [4.0], [100_000], integer_batch=False)))
    assert mid.global_alignment < 0.95
    assert late.global_alignment > 0.995


def test_flat_direction_nsgd_is_eta_over_sqrt_b():
    noisy = Problem([0.5, 1.0, 2.0], [0.0, 0.0, 0.0], noise_variance=1.0)
    sched = Schedule.from_segments([0.02], [4.0], [4000], integer_batch=False)
    f = flat_direction(risk_hessian(noisy, sched, "nsgd"))
    assert f.family_exponent == 0.5
    assert f.global_alignment > 0.99
    # and not η/B: the SGD family is off by a clear angle here
    assert flat_direction(risk_hessian(noisy, sched, "nsgd"), exponent=1.0).global_alignment < 0.98


@pytest.mark.parametrize("spec", [SGD(weight_decay=0.1), NSGD(weight_decay=[0.0, 0.1, 0.0, 0.0]),
                                  HeavyBall(0.5, weight_decay=0.05)], ids=["sgd", "nsgd-per-step", "heavy-ball"])
def test_weight_decay_is_refused_by_name_and_zero_decay_is_the_plain_gradient(spec):
    # Weight decay is in the forward solver (docs/math.md#weight-decay) but not differentiated: refused, named.
    problem = Problem(eigenvalues=[1.0, 0.25], initial_second_moment=[1.0, 1.0], noise_variance=0.1)
    sched = Schedule.from_segments([0.2, 0.1], [2.0, 4.0], [2, 2], integer_batch=False)
    with pytest.raises(ValueError, match="weight_decay"):
        risk_gradient(problem, sched, spec)
    plain = risk_gradient(problem, sched, "sgd")
    zero = risk_gradient(problem, sched, SGD(weight_decay=0.0))
    np.testing.assert_array_equal(zero.gradient, plain.gradient)


def test_hessian_batch_columns_at_batch_one_are_one_sided_not_halved():
    # breaker finding 7: at B = 1 the central difference held its lower point at B = 1 and returned half a forward
    # difference (0.170 for 0.341). Reference: a forward difference of the exact gradient with a small step
    # (first order, error O(h)), against the Hessian's batch block.
    from ramplab.theory import Problem, Schedule, risk_gradient, risk_hessian

    p = Problem([1.0, 0.3], [1.0, 1.0], noise_variance=0.2)
    s = Schedule.from_segments([0.5, 0.2], [1, 1], [10, 10], integer_batch=False)
    h = risk_hessian(p, s)
    g0 = risk_gradient(p, s).gradient
    eps = 1e-6
    for k in range(2):
        up = Schedule.from_segments([0.5, 0.2], [np.exp(eps) if k == 0 else 1.0, np.exp(eps) if k == 1 else 1.0],
                                    [10, 10], integer_batch=False)
        forward = (risk_gradient(p, up).gradient - g0) / eps
        assert h.hessian[2 + k, 2 + k] == pytest.approx(forward[2 + k], rel=1e-4)
    assert h.asymmetry < 1e-6
