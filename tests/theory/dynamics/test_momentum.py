"""Heavy-ball momentum in the exact solver (docs/math.md#heavy-ball-momentum).

References are written from the definitions, independently of the solver (tests/oracles.py):

- a plain loop that propagates, per coordinate, the full covariance of ``(e_t, e_{t−1})`` (and of
  ``(ē_t, e_t, e_{t−1})`` for averaging) as small NumPy matrices, ``Σ ← L Σ Lᵀ + noise``;
- a plain NumPy Monte Carlo of the iterates themselves, compared within 4 standard errors;
- the dense ``3d × 3d`` moment map, whose eigenvalues decide stability.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ramplab.theory import (is_stable,
    ExponentialAverage,
    HeavyBall,
    Numerics,
    Problem,
    Schedule,
    TailAverage,
    expected_risk,
    heavy_ball_momentum_of_torch_sgd,
    is_stable_with_momentum,
    momentum_moment_step,
    momentum_stability_limit,
)
from ramplab.theory.dynamics import _kernels as kernels
from ramplab.theory.dynamics import DivergenceError

from oracles import heavy_ball_moment_matrix, heavy_ball_moments

fused_only = pytest.mark.skipif(not kernels.AVAILABLE, reason="needs numba (the 'fast' extra)")


# ----------------------------------------------------------------------------- the plain reference
def plain_momentum(problem, lrs, batches, mus, optimizer="sgd", rho=None):
    """Risk, averaged risk, bias and variance after each step, and the rates: tests/oracles.py's covariance
    propagation per coordinate (``full`` is the risk)."""
    ref = heavy_ball_moments(problem, lrs, batches, mus, optimizer=optimizer, rhos=rho, split=True)
    return {"full": ref["risk"], "averaged": ref["averaged_risk"], "bias": ref["bias"],
            "variance": ref["variance"], "effective": ref["effective_lr"]}


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


P = Problem.power_law(12, a=1.4, b=1.0, noise_variance=0.3)
P_ODD = Problem(np.array([2.0, 1.0, 0.3, 0.05]), np.array([0.5, 1.0, 2.0, 4.0]), noise_variance=0.2,
                kurtosis=9 / 5, multiplicity=np.array([1.0, 3.0, 1.0, 2.5]))
SCHED = Schedule.from_segments([0.3, 0.15, 0.05], [4, 8, 8], [30, 20, 20])  # 70 steps


@pytest.mark.parametrize("kernel", ["reference", pytest.param("fused", marks=fused_only)])
@pytest.mark.parametrize("optimizer", ["sgd", "nsgd"])
@pytest.mark.parametrize("per_step", [False, True])
def test_matches_plain_covariance_loop(kernel, optimizer, per_step):
    lrs, bs = SCHED.step_arrays()
    lr_scale = 1.0 if optimizer == "sgd" else 0.5
    sched = Schedule(lrs * lr_scale, bs)
    mus = np.linspace(0.4, 0.95, len(sched)) if per_step else np.full(len(sched), 0.8)
    momentum = mus if per_step else 0.8
    rho = 1.0 / np.arange(1, len(sched) + 1)
    ref = plain_momentum(P, lrs * lr_scale, bs, mus, optimizer, rho)
    r = expected_risk(P, sched, HeavyBall(momentum, optimizer=optimizer), average="uniform", split=True,
                      numerics=Numerics(kernel=kernel))
    assert rel(r.risk, ref["full"]) < 1e-12
    assert rel(r.averaged_risk, ref["averaged"]) < 1e-12
    assert rel(r.bias, ref["bias"]) < 1e-12
    assert rel(r.variance, ref["variance"]) < 1e-12
    assert rel(r.effective_lr, ref["effective"]) < 1e-12
    # Momentum changes the curve (the test can fail): compare with plain SGD/NSGD.
    plain = expected_risk(P, sched, optimizer)
    assert rel(r.risk[1:], plain.risk[1:]) > 1e-3


@pytest.mark.parametrize("kernel", ["reference", pytest.param("fused", marks=fused_only)])
@pytest.mark.parametrize("average", [TailAverage(start=20), ExponentialAverage(0.05)])
def test_matches_plain_loop_other_averages_kurtosis_and_multiplicity(kernel, average):
    lrs, bs = SCHED.step_arrays()
    lrs = lrs * 0.5
    mus = np.linspace(0.9, 0.3, len(lrs))
    rho = average.weights(np.arange(1, len(lrs) + 1))
    ref = plain_momentum(P_ODD, lrs, bs, mus, "sgd", rho)
    r = expected_risk(P_ODD, Schedule(lrs, bs), HeavyBall(mus), average=average, numerics=Numerics(kernel=kernel))
    assert rel(r.risk, ref["full"]) < 1e-12
    assert rel(r.averaged_risk, ref["averaged"]) < 1e-12


def test_moment_step_matches_covariance_propagation():
    lam, s, c, p = np.array([1.0, 0.25]), np.array([2.0, 1.0]), np.array([0.5, -0.3]), np.array([1.5, 0.8])
    eta, mu, b, noise, kappa = 0.4, 0.7, 3.0, 0.2, 5.0
    got = momentum_moment_step(s, c, p, lam, eta, mu, b, noise, kappa)
    q = float(lam @ s)
    for i in range(2):
        a = np.array([[1 + mu - eta * lam[i], -mu], [1.0, 0.0]])
        cov = a @ np.array([[s[i], c[i]], [c[i], p[i]]]) @ a.T
        cov[0, 0] += eta**2 / b * ((kappa - 2) * lam[i] ** 2 * s[i] + lam[i] * (q + noise))
        assert rel([got[0][i], got[1][i], got[2][i]], [cov[0, 0], cov[0, 1], cov[1, 1]]) < 1e-14


# ----------------------------------------------------------------------------- Monte Carlo
def test_agrees_with_plain_monte_carlo():
    """Independent runs of the heavy-ball iteration itself (Gaussian inputs, fresh batches): the mean risk and the
    mean averaged risk match the exact curves within 4 standard errors at every checkpoint."""
    problem = Problem(np.array([1.0, 0.5, 0.2, 0.05]), np.array([1.0, 2.0, 1.0, 4.0]), noise_variance=0.5)
    lam, d = problem.eigenvalues, problem.dimension
    steps, eta, mu, b, runs = 60, 0.15, 0.8, 2, 20_000
    rng = np.random.default_rng(12345)
    w_star = rng.standard_normal((runs, d)) * np.sqrt(problem.initial_second_moment)  # e_0 = −w*, w_0 = 0
    w, w_prev, avg = np.zeros((runs, d)), np.zeros((runs, d)), np.zeros((runs, d))
    checkpoints = [1, 5, 20, 60]
    means, errs, amean, aerrs = [], [], [], []
    for t in range(steps):
        x = rng.standard_normal((runs, b, d)) * np.sqrt(lam)
        y = np.einsum("rbd,rd->rb", x, w_star) + np.sqrt(problem.noise_variance) * rng.standard_normal((runs, b))
        g = np.einsum("rbd,rb->rd", x, np.einsum("rbd,rd->rb", x, w) - y) / b
        w, w_prev = w - eta * g + (mu if t > 0 else 0.0) * (w - w_prev), w
        avg = avg + (w - avg) / (t + 1)
        if t + 1 in checkpoints:
            for arr, mm, ee in ((w, means, errs), (avg, amean, aerrs)):
                risk = 0.5 * np.sum(lam * (arr - w_star) ** 2, axis=1)
                mm.append(risk.mean())
                ee.append(risk.std(ddof=1) / math.sqrt(runs))
    exact = expected_risk(problem, Schedule.constant(eta, b, steps=steps), HeavyBall(mu), average="uniform",
                          checkpoints=checkpoints)
    assert np.all(np.abs(np.array(means) - exact.risk) < 4 * np.array(errs))
    assert np.all(np.abs(np.array(amean) - exact.averaged_risk) < 4 * np.array(aerrs))
    # Resolving power: the plain-SGD curve at the same rate is many standard errors away.
    plain = expected_risk(problem, Schedule.constant(eta, b, steps=steps), checkpoints=checkpoints)
    assert np.max(np.abs(np.array(means) - plain.risk) / np.array(errs)) > 20


# ----------------------------------------------------------------------------- μ = 0 and the layout
@pytest.mark.parametrize("kernel", ["reference", pytest.param("fused", marks=fused_only)])
@pytest.mark.parametrize("zero", [0.0, 0, "zeros", "first-only"])
def test_zero_momentum_is_the_plain_solver_bit_for_bit(kernel, zero):
    scheds = [SCHED, Schedule.constant(0.2, 2, steps=40)]
    horizon = max(len(s) for s in scheds)
    momentum = {"zeros": np.zeros(horizon), "first-only": np.r_[0.9, np.zeros(horizon - 1)]}.get(zero, zero)
    for optimizer in ("sgd", "nsgd"):
        base = expected_risk(P, scheds, optimizer, average="uniform", split=True, numerics=Numerics(kernel=kernel))
        got = expected_risk(P, scheds, HeavyBall(momentum, optimizer=optimizer), average="uniform", split=True,
                            numerics=Numerics(kernel=kernel))
        for a, b in zip(base, got):
            for name in ("risk", "averaged_risk", "bias", "variance", "effective_lr", "gradient_second_moment"):
                assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name


@fused_only
@pytest.mark.parametrize("optimizer", ["sgd", "nsgd"])
def test_fused_matches_reference(optimizer):
    scheds = [SCHED, Schedule.constant(0.1, 2, steps=45), Schedule.constant(0.25, 16, steps=70)]
    mus = np.linspace(0.95, 0.5, 70)
    kw = dict(average="uniform", split=True, checkpoints=[0, 1, 7, 44, 45, 69, 70])
    ref = expected_risk(P_ODD, scheds, HeavyBall(mus, optimizer=optimizer), numerics=Numerics(kernel="reference"), **kw)
    fused = expected_risk(P_ODD, scheds, HeavyBall(mus, optimizer=optimizer), numerics=Numerics(kernel="fused"), **kw)
    for a, b in zip(ref, fused):
        assert np.array_equal(a.steps, b.steps)
        for name in ("risk", "averaged_risk", "bias", "variance", "effective_lr", "gradient_second_moment"):
            x, y = getattr(a, name), getattr(b, name)
            ok = np.isfinite(x)
            assert np.array_equal(ok, np.isfinite(y))
            assert rel(y[ok], x[ok]) < 1e-12, name
        assert rel(b.final_second_moment, a.final_second_moment) < 1e-12


@fused_only
def test_float32_state_stays_close():
    r64 = expected_risk(P, SCHED, HeavyBall(0.8))
    r32 = expected_risk(P, SCHED, HeavyBall(0.8), numerics=Numerics(dtype=np.float32))
    assert rel(r32.risk, r64.risk) < 1e-5


def test_array_api_strict_backend_matches_numpy():
    pytest.importorskip("array_api_strict")
    a = expected_risk(P, SCHED, HeavyBall(0.7), average="uniform", numerics=Numerics(kernel="reference"))
    b = expected_risk(P, SCHED, HeavyBall(0.7), average="uniform", numerics=Numerics(backend="array_api_strict"))
    assert rel(b.risk, a.risk) < 1e-13 and rel(b.averaged_risk, a.averaged_risk) < 1e-13


@pytest.mark.parametrize("kernel", ["reference", pytest.param("fused", marks=fused_only)])
def test_shorter_schedule_uses_a_prefix_and_checkpoints_pick_steps(kernel):
    short, long = Schedule.constant(0.2, 4, steps=25), SCHED
    mus = np.linspace(0.2, 0.9, len(long))
    both = expected_risk(P, [short, long], HeavyBall(mus), numerics=Numerics(kernel=kernel))
    alone = expected_risk(P, short, HeavyBall(mus[: len(short)]), numerics=Numerics(kernel=kernel))
    assert rel(both[0].risk, alone.risk) < 1e-13
    cps = [0, 3, 25, 70]
    picked = expected_risk(P, [short, long], HeavyBall(mus), numerics=Numerics(kernel=kernel), checkpoints=cps)
    assert picked[0].steps.tolist() == [0, 3, 25]
    assert rel(picked[1].risk, both[1].risk[cps]) < 1e-13


@pytest.mark.parametrize("kernel", ["reference", pytest.param("fused", marks=fused_only)])
def test_divergence_is_raised_or_flagged(kernel):
    limit = momentum_stability_limit(P, 0.9, 4)
    sched = Schedule.constant(1.5 * limit, 4, steps=3000)
    with pytest.raises(DivergenceError) as info:
        expected_risk(P, sched, HeavyBall(0.9), numerics=Numerics(kernel=kernel))
    r = expected_risk(P, sched, HeavyBall(0.9), numerics=Numerics(kernel=kernel), on_divergence="flag")
    assert r.diverged_at == info.value.step
    assert np.all(np.isinf(r.risk[r.diverged_at:])) and np.all(np.isfinite(r.risk[: r.diverged_at]))


def test_unsupported_combinations_say_so():
    with pytest.raises(NotImplementedError, match="compress"):
        expected_risk(P, SCHED, HeavyBall(0.5), compress=1e-3)


# ----------------------------------------------------------------------------- stability
def dense_radius(problem, eta, mu, b):
    return float(np.max(np.abs(np.linalg.eigvals(heavy_ball_moment_matrix(problem, eta, mu, b)))))


@pytest.mark.parametrize("problem", [P_ODD, Problem(np.array([1.0, 0.6]), np.ones(2), 0.1, kurtosis=1.0),
                                     Problem.power_law(6, a=1.0, b=1.0, noise_variance=1.0)])
@pytest.mark.parametrize("mu", [0.0, 0.5, 0.9, 0.99])
@pytest.mark.parametrize("b", [1, 4, 64])
def test_stability_test_matches_dense_eigenvalues(problem, mu, b):
    limit = momentum_stability_limit(problem, mu, b)
    top = 2 * (1 + mu) / problem.eigenvalues.max()
    assert 0 < limit < top
    assert dense_radius(problem, limit * (1 - 1e-7), mu, b) < 1 < dense_radius(problem, limit * (1 + 1e-7), mu, b)
    grid = np.linspace(top * 1e-3, top * 1.1, 60)
    stable = [is_stable_with_momentum(problem, e, mu, b) for e in grid]
    assert stable == [bool(e < limit) for e in grid]  # the stable rates are the interval (0, limit)
    for e in grid:
        r = dense_radius(problem, e, mu, b)
        if abs(r - 1) > 1e-9:
            assert is_stable_with_momentum(problem, e, mu, b) == (r < 1)
    if mu == 0.0:
        assert is_stable(problem, limit * (1 - 1e-9), b)
        assert not is_stable(problem, limit * (1 + 1e-9), b)


# The reference loop is slower per step: it runs 8000 steps at 5 % above the limit (diverges near step 5700),
# the fused kernel 20000 steps at 2 % (near step 13900).
@pytest.mark.parametrize("kernel, above_factor, steps", [("reference", 1.05, 8000),
                                                         pytest.param("fused", 1.02, 20_000, marks=fused_only)])
def test_recursion_bounded_below_limit_and_diverges_above(kernel, above_factor, steps):
    mu, b = 0.9, 2
    limit = momentum_stability_limit(P, mu, b)
    below = expected_risk(P, Schedule.constant(0.98 * limit, b, steps=steps), HeavyBall(mu),
                          numerics=Numerics(kernel=kernel),
                          checkpoints=[0, steps // 2, steps])
    assert np.all(np.isfinite(below.risk)) and below.risk[-1] < 10 * (P.initial_risk + P.noise_variance)
    assert abs(below.risk[-1] / below.risk[-2] - 1) < 1e-3  # settled at its stationary point
    above = expected_risk(P, Schedule.constant(above_factor * limit, b, steps=steps), HeavyBall(mu),
                          numerics=Numerics(kernel=kernel),
                          on_divergence="flag", checkpoints=[0, steps])
    assert above.diverged_at is not None


# ----------------------------------------------------------------------------- torch's convention
def test_torch_mapping_values_and_a_torch_convention_loop():
    lrs = np.array([0.05, 0.1, 0.2, 0.2, 0.1, 0.02])
    mus = heavy_ball_momentum_of_torch_sgd(lrs, 0.9)
    assert mus.tolist() == pytest.approx([0.9, 1.8, 1.8, 0.9, 0.45, 0.18], rel=1e-15)
    rng = np.random.default_rng(0)
    grads = rng.standard_normal(lrs.size)
    w_t = w_h = w_h_prev = 0.3
    buf = 0.0
    for t, (lr, g) in enumerate(zip(lrs, grads)):
        buf = g if t == 0 else 0.9 * buf + g
        w_t -= lr * buf
        w_h, w_h_prev = w_h - lr * g + (mus[t] if t else 0.0) * (w_h - w_h_prev), w_h
        assert w_h == pytest.approx(w_t, rel=1e-13, abs=1e-15)
    sched = Schedule(lrs, [1] * lrs.size)
    assert heavy_ball_momentum_of_torch_sgd(sched, 0.9).tolist() == mus.tolist()
    # The mapped array is accepted by the solver (entries above 1 during the warmup included).
    expected_risk(P, sched, HeavyBall(mus))


def test_torch_mapping_refuses_a_rate_after_a_zero_rate():
    with pytest.raises(ValueError, match="lrs"):
        heavy_ball_momentum_of_torch_sgd([0.0, 0.1], 0.9)
    assert heavy_ball_momentum_of_torch_sgd([0.0, 0.1], 0.0).tolist() == [0.0, 0.0]
    assert heavy_ball_momentum_of_torch_sgd([0.1, 0.0, 0.0], 0.5).tolist() == [0.5, 0.0, 0.0]


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("bad, error", [
    (-0.1, ValueError), (1.0, ValueError), (1.5, ValueError), (math.nan, ValueError), (math.inf, ValueError),
    (True, TypeError), ("0.5", TypeError), (None, TypeError), (1j, TypeError), ({}, TypeError),
    (np.full(69, 0.5), ValueError), (np.full(71, 0.5), ValueError), (np.full((70, 1), 0.5), ValueError),
    (np.r_[0.5, np.full(68, 0.5), -0.1], ValueError), (np.r_[np.full(69, 0.5), np.nan], ValueError),
    (np.array(["a"] * 70), TypeError), ([0.5] * 69 + [True], TypeError),
])
def test_bad_momentum_is_refused_naming_it(bad, error):
    with pytest.raises(error, match="momentum"):
        expected_risk(P, SCHED, HeavyBall(bad))


@pytest.mark.parametrize("value", [0.0, 0.5, np.full(70, 0.5)])
def test_momentum_keyword_moved_to_the_heavy_ball_spec(value):
    with pytest.raises(TypeError, match=r"momentum= moved: pass optimizer=HeavyBall\(momentum, optimizer=\.\.\.\) "
                                        r"to expected_risk"):
        expected_risk(P, SCHED, momentum=value)
    with pytest.raises(TypeError, match="momentum= moved"):
        expected_risk(P, SCHED, HeavyBall(0.5), momentum=value)
    with pytest.raises(TypeError, match="unexpected keyword argument 'mommentum'"):
        expected_risk(P, SCHED, mommentum=value)


def test_bad_arguments_of_the_helpers_name_them():
    with pytest.raises(ValueError, match="momentum"):
        momentum_stability_limit(P, 1.0, 4)
    with pytest.raises(ValueError, match="batch"):
        momentum_stability_limit(P, 0.5, 0.5)
    with pytest.raises(TypeError, match="problem"):
        is_stable_with_momentum("P", 0.1, 0.5, 4)
    with pytest.raises(ValueError, match="lr"):
        is_stable_with_momentum(P, -0.1, 0.5, 4)
    with pytest.raises(ValueError, match="lrs"):
        heavy_ball_momentum_of_torch_sgd([0.1, -0.1], 0.5)
    with pytest.raises(ValueError, match="momentum"):
        heavy_ball_momentum_of_torch_sgd([0.1], 1.0)
    with pytest.raises(ValueError, match="eigenvalues"):
        momentum_moment_step([1.0], [1.0], [1.0], [0.0], 0.1, 0.5, 1, 0.0)
