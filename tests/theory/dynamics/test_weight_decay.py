"""Decoupled weight decay in the exact solver (docs/math.md#weight-decay).

References, each independent of the solver's code:

- the Monte Carlo (``simulate``), which applies ``w ← (1 − η ω) w − η' g`` to sampled runs: agreement within
  4 standard errors at checkpoints, fixed seeds, for SGD, NSGD, heavy ball (on SGD and on NSGD), with iterate
  averaging; power: the exact curve without decay is many SE away;
- the stationary point in closed form (docs/math.md#weight-decay-fixed-point), in exact rational arithmetic
  (``fractions``) for SGD; for NSGD the same closed form with the scalar equation for the effective rate solved by
  bracketing; for heavy ball the fixed point of the 3×3 covariance map of ``(e_t, e_{t−1}, w*)`` solved exactly
  over the rationals by sympy (a different route from the solver's expanded formulas);
- the expanded one-step formulas against the covariance propagation ``M Σ Mᵀ + noise`` (hypothesis);
- bitwise identities: ``weight_decay=0`` (a number or zeros per step) is the plain path; a continued run equals
  the uninterrupted one; the fused kernel equals the reference loop to rounding (1e-12);
- the AdamW timescale (docs/math.md#weight-decay-timescale): NSGD's decay uses the schedule's rate (an exact
  identity between consecutive states), and the first-order invariance of NSGD with decay under
  ``(η, B, ω) → (2η, 4B, 2ω)`` (same ``τ = B/(ηωD)``) against ``(2η, 4B, ω)`` (same ``ω``); for Adam (AdamW)
  the same comparison in the Monte Carlo.
"""

from __future__ import annotations

import math
import pickle
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from ramplab.simulations import simulate
from ramplab.theory import (
    NSGD,
    SGD,
    Adam,
    ExponentialAverage,
    HeavyBall,
    Numerics,
    Problem,
    Schedule,
    SolverState,
    expected_risk,
    max_stable_lr,
)
from ramplab.theory.dynamics import _kernels, _step, controlled_risk

KERNELS = ["reference"] + (["fused"] if _kernels.AVAILABLE else [])

MC_PROBLEM = Problem.power_law(8, a=1.5, b=1.0, noise_variance=0.5)
MC_SCHEDULE = Schedule.from_phases([(0.4, 2, 240), (0.2, 4, 480)], label="two phases")  # 240 steps
MC_CHECKPOINTS = [0, 60, 241, 400, 560, 720]
RAMPED_DECAY = np.linspace(0.5, 0.1, len(MC_SCHEDULE))


def _without_decay(spec):
    if isinstance(spec, HeavyBall):
        return HeavyBall(spec.momentum, optimizer=spec.optimizer)
    return type(spec)()


MC_CASES = {
    "sgd": (SGD(weight_decay=0.3), "uniform"),
    "nsgd-per-step": (NSGD(weight_decay=RAMPED_DECAY), "uniform"),
    "heavy-ball": (HeavyBall(0.5, weight_decay=0.3), ExponentialAverage(0.05)),
    "heavy-ball-nsgd": (HeavyBall(0.5, optimizer="nsgd", weight_decay=0.3), "uniform"),
}


@pytest.mark.parametrize("case", list(MC_CASES))
def test_exact_decay_matches_the_monte_carlo(case):
    spec, average = MC_CASES[case]
    mc = simulate(MC_PROBLEM, MC_SCHEDULE, spec, runs=1024, seed=11, numerics=Numerics(backend="numpy"),
                  checkpoints=MC_CHECKPOINTS, average=average, progress=False)
    exact = expected_risk(MC_PROBLEM, MC_SCHEDULE, spec, average=average)
    risk, averaged = exact.at_samples(MC_CHECKPOINTS), exact.at_samples(MC_CHECKPOINTS, averaged=True)
    allowance = 1e-12 * risk  # step 0 is exact in every run (SE 0)
    assert np.all(np.abs(mc.mean_risk - risk) <= 4 * mc.stderr + allowance)
    assert np.all(np.abs(mc.mean_averaged_risk - averaged) <= 4 * mc.averaged_stderr + allowance)
    assert np.all(mc.stderr[2:] < 0.05 * risk[2:])
    # Power: without decay the exact curves are far outside the Monte Carlo's band.
    plain = expected_risk(MC_PROBLEM, MC_SCHEDULE, _without_decay(spec), average=average)
    assert np.max(np.abs(mc.z_score(plain.at_samples(MC_CHECKPOINTS)))) > 6
    assert np.max(np.abs(mc.z_score(plain.at_samples(MC_CHECKPOINTS, averaged=True), averaged=True))) > 6


# ------------------------------------------------------------------------------ the stationary point
LAM = [Fraction(1), Fraction(1, 2), Fraction(1, 4)]
S0 = [Fraction(1), Fraction(2), Fraction(1, 2)]
SIGMA2 = Fraction(1, 2)
FP_PROBLEM = Problem([float(v) for v in LAM], [float(v) for v in S0], noise_variance=float(SIGMA2))


def _sgd_fixed_point(eta, batch, omega, lam=LAM, w=S0, sigma2=SIGMA2, kurtosis=3, u=None):
    """docs/math.md#weight-decay-fixed-point in exact arithmetic: (s∞, T∞) per coordinate.

    ``u`` (the decay per step) defaults to ``η ω``; NSGD passes its effective rate as ``eta`` and ``u`` apart."""
    u = eta * omega if u is None else u
    g, kb = eta * eta / batch, Fraction(kurtosis - 2) / batch
    x = [eta * li for li in lam]
    t_inf = [-u * wi / (u + xi) for wi, xi in zip(w, x)]
    r = [u * u * wi * (2 - u - xi) / (u + xi) for wi, xi in zip(w, x)]
    one_minus_d = [(u + xi) * (2 - u - xi) - kb * xi * xi for xi in x]
    q = (sum(li * (g * li * sigma2 + ri) / di for li, ri, di in zip(lam, r, one_minus_d))
         / (1 - g * sum(li * li / di for li, di in zip(lam, one_minus_d))))
    s_inf = [(g * li * (q + sigma2) + ri) / di for li, ri, di in zip(lam, r, one_minus_d)]
    return s_inf, t_inf


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("eta, batch, omega", [(Fraction(1, 4), 2, Fraction(1, 5)),
                                                (Fraction(1, 8), 1, Fraction(1, 5))])
def test_sgd_reaches_the_closed_form_stationary_point(kernel, eta, batch, omega):
    s_inf, t_inf = _sgd_fixed_point(eta, batch, omega)
    r = expected_risk(FP_PROBLEM, Schedule.constant(float(eta), batch, steps=1500), SGD(weight_decay=float(omega)),
                      checkpoints=[1500], numerics=Numerics(kernel=kernel))
    state = r.state_at(1500)
    np.testing.assert_allclose(state.second_moment[0], [float(v) for v in s_inf], rtol=1e-12)
    np.testing.assert_allclose(state.target_moment[0], [float(v) for v in t_inf], rtol=1e-12)
    # The stationary mean is the ridge solution with penalty ω, whatever η and B: E[w w*] = λ/(λ + ω) W.
    ridge = [float(li / (li + omega) * wi) for li, wi in zip(LAM, S0)]
    np.testing.assert_allclose(state.target_moment[0] + FP_PROBLEM.initial_second_moment, ridge, rtol=1e-12)


def test_nsgd_reaches_its_stationary_point():
    eta, batch, omega = 0.05, 2, 0.5
    lam, w = np.array([float(v) for v in LAM]), np.array([float(v) for v in S0])

    def state_at(eff):
        s, t = _sgd_fixed_point(Fraction(eff), batch, Fraction(omega), u=Fraction(eta) * Fraction(omega))
        return np.array([float(v) for v in s]), np.array([float(v) for v in t])

    def mismatch(eff):  # η' − η/sqrt(G(s∞(η'))), docs/math.md#normalized-sgd (κ = 3)
        s, _ = state_at(eff)
        g2 = (1 + 1 / batch) * float(lam**2 @ s) + lam.sum() / batch * (float(lam @ s) + float(SIGMA2))
        return eff - eta / math.sqrt(g2)

    eff = brentq(mismatch, 1e-4, 0.2, xtol=1e-15, rtol=1e-15)
    s_inf, t_inf = state_at(eff)
    r = expected_risk(FP_PROBLEM, Schedule.constant(eta, batch, steps=4000), NSGD(weight_decay=omega),
                      checkpoints=[3999, 4000])
    assert r.effective_lr[-1] == pytest.approx(eff, rel=1e-12)
    state = r.state_at(4000)
    np.testing.assert_allclose(state.second_moment[0], s_inf, rtol=1e-11)
    np.testing.assert_allclose(state.target_moment[0], t_inf, rtol=1e-11)
    # The ridge penalty is ω sqrt(G∞) = ω η/η', not ω.
    penalty = omega * eta / eff
    np.testing.assert_allclose(state.target_moment[0] + w, lam / (lam + penalty) * w, rtol=1e-11)


def _heavy_ball_fixed_point(eta, batch, omega, mu):
    """Fixed point of Σ ← M Σ Mᵀ + η² E ξ² e₁e₁ᵀ for (e_t, e_{t−1}, w*) per coordinate, over the rationals."""
    u = eta * omega
    unknowns, equations, blocks = [], [], []
    for i, (li, wi) in enumerate(zip(LAM, S0)):
        S, C, P, T, F = sympy.symbols(f"S{i} C{i} P{i} T{i} F{i}")
        unknowns += [S, C, P, T, F]
        blocks.append((li, wi, sympy.Matrix([[S, C, T], [C, P, F], [T, F, sympy.Rational(wi)]])))
    q = sum(sympy.Rational(li) * sig[0, 0] for li, _, sig in blocks)
    for li, wi, sig in blocks:
        m = 1 + mu - u - eta * li
        M = sympy.Matrix([[m, -mu, -u], [1, 0, 0], [0, 0, 1]])
        noise = eta**2 * ((3 - 2) * li**2 * sig[0, 0] + li * (q + SIGMA2)) / batch
        new = M * sig * M.T + sympy.diag(noise, 0, 0)
        equations += [new[0, 0] - sig[0, 0], new[0, 1] - sig[0, 1], new[1, 1] - sig[1, 1], new[0, 2] - sig[0, 2],
                      new[1, 2] - sig[1, 2]]
    (solution,) = sympy.linsolve(equations, unknowns)
    return np.array([float(v) for v in solution]).reshape(len(LAM), 5)


@pytest.mark.parametrize("kernel", KERNELS)
def test_heavy_ball_reaches_the_exact_fixed_point_of_the_covariance_map(kernel):
    eta, batch, omega, mu = Fraction(1, 8), 2, Fraction(1, 5), Fraction(1, 2)
    want = _heavy_ball_fixed_point(eta, batch, omega, mu)
    r = expected_risk(FP_PROBLEM, Schedule.constant(float(eta), batch, steps=3000),
                      HeavyBall(float(mu), weight_decay=float(omega)), checkpoints=[3000],
                      numerics=Numerics(kernel=kernel))
    st_ = r.state_at(3000)
    got = np.stack([st_.second_moment[0], st_.cross_moment[0], st_.previous_moment[0], st_.target_moment[0],
                    st_.previous_target_moment[0]], axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-11)
    # Heavy ball's stationary mean is the same ridge solution as SGD's (T∞ = −u W/(u + x)).
    np.testing.assert_allclose(want[:, 3], [float(-omega * w / (omega + l)) for l, w in zip(LAM, S0)], rtol=1e-12)


# ------------------------------------------------------------------------------ one step, two routes
@settings(max_examples=60, deadline=None)
@given(x=st.floats(0.0, 1.5), u=st.floats(0.0, 0.5), mu=st.floats(0.0, 0.95), kb=st.floats(-1.0, 2.0),
       k=st.floats(0.0, 2.0), corr=st.floats(-0.9, 0.9), heavy=st.booleans())
def test_the_expanded_step_is_the_covariance_propagation(x, u, mu, kb, k, corr, heavy):
    # A valid covariance of (e_t, e_{t−1}, w*): Σ = L Lᵀ.
    L = np.array([[1.3, 0.0, 0.0], [0.8 * corr, 0.9, 0.0], [corr, -0.4 * corr, 0.7]])
    sig = L @ L.T
    lam = 0.5
    mu = mu if heavy else 0.0
    m = 1 + mu - u - x
    M = np.array([[m, -mu, -u], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    # The noise: η²E ξ² = kb x² S + k λ (the step's two noise terms, kb = (κ−2)/B, k = η²(q + σ²)/B).
    want = M @ sig @ M.T
    want[0, 0] += kb * x * x * sig[0, 0] + k * lam
    S, C, P, T, F, W = sig[0, 0], sig[0, 1], sig[1, 1], sig[0, 2], sig[1, 2], sig[2, 2]
    if heavy:
        got_s = _step.heavy_ball_decay_second_moment(S, C, P, T, F, W, x, m, kb, mu, u, k, lam)
        assert _step.heavy_ball_decay_cross(S, C, T, m, mu, u) == pytest.approx(want[0, 1], abs=1e-12)
        assert _step.heavy_ball_decay_target(T, F, W, m, mu, u) == pytest.approx(want[0, 2], abs=1e-12)
    else:
        sig1 = sig[[0, 2]][:, [0, 2]]  # SGD: (e_t, w*) only
        M1 = np.array([[m, -u], [0.0, 1.0]])
        want = M1 @ sig1 @ M1.T
        want[0, 0] += kb * x * x * S + k * lam
        got_s = _step.decay_second_moment(S, T, W, x, m, kb, u, k, lam)
        assert _step.decay_target_moment(T, W, m, u) == pytest.approx(want[0, 1], abs=1e-12)
    assert got_s == pytest.approx(want[0, 0], abs=1e-12)


def test_the_decay_step_at_zero_decay_is_the_plain_step_to_rounding():
    rng = np.random.default_rng(3)
    s, c, p = rng.uniform(0.1, 2, (3, 4, 5))
    t, f = -rng.uniform(0.1, 1, (2, 4, 5))
    w, lam = rng.uniform(0.1, 2, (4, 5)), rng.uniform(0.1, 1, 5)
    col = lambda v: np.full((4, 1), v)  # noqa: E731
    q = np.sum(s * lam, axis=1, keepdims=True)
    plain = _step.sgd_step(np, s, lam, col(0.3), col(2.0), col(0.1), 1.0, q)
    decay, _ = _step.decay_step(np, s, t, w, lam, col(0.3), col(0.0), col(2.0), col(0.1), 1.0, q)
    np.testing.assert_allclose(decay, plain, rtol=1e-15)
    plain_hb = _step.heavy_ball_step(np, s, c, p, lam, col(0.3), col(0.6), col(2.0), col(0.1), 1.0, q)
    decay_hb = _step.heavy_ball_decay_step(np, s, c, p, t, f, w, lam, col(0.3), col(0.6), col(0.0), col(2.0),
                                           col(0.1), 1.0, q)
    for a, b in zip(plain_hb, decay_hb[:3]):
        np.testing.assert_allclose(b, a, rtol=1e-14)


# ------------------------------------------------------------------------------ identities of the solver
PROBLEM = Problem.power_law(30, a=1.5, b=1.0, noise_variance=0.3, kurtosis=2.5)
FULL = Schedule.from_phases([(0.4, 4, 4 * 300), (0.2, 8, 8 * 200)])  # 500 steps
SHORT = Schedule.constant(0.3, 2, steps=350)
DECAY = np.linspace(0.05, 0.3, len(FULL))


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("spec", [SGD(), NSGD(), HeavyBall(0.6), HeavyBall(0.6, optimizer="nsgd")])
def test_zero_decay_is_the_plain_solver_bit_for_bit(kernel, spec):
    kw = dict(numerics=Numerics(kernel=kernel), average="uniform", split=True)
    plain = expected_risk(PROBLEM, [FULL, SHORT], spec, **kw)
    args = {"momentum": spec.momentum, "optimizer": spec.optimizer} if isinstance(spec, HeavyBall) else {}
    for zero in (0.0, np.zeros(len(FULL))):
        again = expected_risk(PROBLEM, [FULL, SHORT], type(spec)(**args, weight_decay=zero), **kw)
        for a, b in zip(plain, again):
            for name in ("risk", "averaged_risk", "bias", "variance", "effective_lr"):
                np.testing.assert_array_equal(getattr(b, name), getattr(a, name))
            assert not b.state_at(b.steps[-1]).decay


SPECS = {"sgd": SGD(weight_decay=DECAY), "nsgd": NSGD(weight_decay=0.2),
         "heavy-ball": HeavyBall(0.6, weight_decay=DECAY), "heavy-ball-nsgd": HeavyBall(0.6, "nsgd", 0.2)}


@pytest.mark.skipif(not _kernels.AVAILABLE, reason="numba is not installed")
@pytest.mark.parametrize("average", [None, "uniform", ExponentialAverage(0.03)])
@pytest.mark.parametrize("name", list(SPECS))
def test_the_fused_kernel_is_the_reference_loop_with_decay(name, average):
    kw = dict(average=average, split=True)
    fused = expected_risk(PROBLEM, [FULL, SHORT], SPECS[name], numerics=Numerics(kernel="fused"), **kw)
    ref = expected_risk(PROBLEM, [FULL, SHORT], SPECS[name], numerics=Numerics(kernel="reference"), **kw)
    for a, b in zip(fused, ref):
        np.testing.assert_allclose(a.risk, b.risk, rtol=1e-12)
        np.testing.assert_allclose(a.bias, b.bias, rtol=1e-12)
        np.testing.assert_allclose(a.variance, b.variance, rtol=1e-12, atol=1e-300)
        # The split still adds: the decay's pull −u w* belongs to the bias run (docs/math.md#weight-decay).
        np.testing.assert_allclose(a.bias + a.variance, a.risk, rtol=1e-13)
        if average is not None:
            np.testing.assert_allclose(a.averaged_risk, b.averaged_risk, rtol=1e-12)
        sa, sb = a.state_at(a.steps[-1]), b.state_at(b.steps[-1])
        assert sorted(sa.arrays()) == sorted(sb.arrays())
        assert sa.decay and "target_moment" in sa.arrays()
        for key in sa.arrays():
            scale = np.max(np.abs(getattr(sb, key)))
            np.testing.assert_allclose(getattr(sa, key), getattr(sb, key), rtol=0, atol=1e-12 * scale)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("name", list(SPECS))
def test_a_continued_decay_run_is_the_uninterrupted_run_bit_for_bit(kernel, name):
    t = 257
    spec = SPECS[name]
    kw = dict(numerics=Numerics(kernel=kernel), average=ExponentialAverage(0.02), split=True)
    whole = expected_risk(PROBLEM, FULL, spec, **kw)
    lr, batch = FULL.step_arrays()
    head, rest = Schedule(lr[:t], batch[:t]), Schedule(lr[t:], batch[t:])

    def part(sl):
        wd = spec.weight_decay
        wd = wd[sl] if isinstance(wd, np.ndarray) else wd
        if isinstance(spec, HeavyBall):
            return HeavyBall(spec.momentum, spec.optimizer, wd)
        return type(spec)(weight_decay=wd)

    state = expected_risk(PROBLEM, head, part(slice(0, t)), **kw).state_at(t)
    assert state.decay and (state.previous_target_moment is not None) == isinstance(spec, HeavyBall)
    more = expected_risk(PROBLEM, rest, part(slice(t, None)), initial_state=state, **kw)
    for name_ in ("risk", "averaged_risk", "bias", "variance", "effective_lr"):
        np.testing.assert_array_equal(getattr(more, name_), getattr(whole, name_)[t:])
    assert more.state_at(len(FULL)) == whole.state_at(len(FULL))
    # A state with decay moments continues on the decay path without decay: T and G go on, s as without decay.
    cont = expected_risk(PROBLEM, rest, _without_decay(spec), initial_state=state, **kw)
    assert cont.state_at(len(FULL)).decay


def test_a_state_with_target_moments_survives_pickle_and_is_checked():
    state = expected_risk(PROBLEM, SHORT, HeavyBall(0.5, weight_decay=0.1), average="uniform").state_at(350)
    assert pickle.loads(pickle.dumps(state)) == state
    fields = state.arrays()
    with pytest.raises(ValueError, match="previous_target_moment"):
        SolverState(state.step, state.samples, **{k: v for k, v in fields.items() if k != "previous_target_moment"})
    with pytest.raises(ValueError, match="average_target_moment"):
        SolverState(state.step, state.samples, **{k: v for k, v in fields.items() if k != "average_target_moment"})
    with pytest.raises(ValueError, match="need target_moment"):
        SolverState(state.step, state.samples, **{k: v for k, v in fields.items() if k != "target_moment"})


def test_decay_is_refused_where_it_has_no_meaning_naming_the_argument():
    plain = expected_risk(PROBLEM, SHORT).state_at(350)
    with pytest.raises(ValueError, match="holds no weight-decay moments"):
        expected_risk(PROBLEM, SHORT, SGD(weight_decay=0.1), initial_state=plain)
    with pytest.raises(NotImplementedError, match="compress is not available with weight decay"):
        expected_risk(PROBLEM, SHORT, SGD(weight_decay=0.1), compress=1e-3)
    with pytest.raises(NotImplementedError, match="reduce=True is not available with weight decay"):
        expected_risk(PROBLEM, SHORT, SGD(weight_decay=0.1), reduce=True)
    with pytest.raises(TypeError, match=r"weight_decay= moved: pass optimizer=SGD\(weight_decay=...\)"):
        expected_risk(PROBLEM, SHORT, weight_decay=0.1)
    with pytest.raises(ValueError, match="weight_decay must be a number or one value per step"):
        expected_risk(PROBLEM, SHORT, SGD(weight_decay=np.ones(3)))
    with pytest.raises(ValueError, match="weight_decay must be finite and ≥ 0"):
        SGD(weight_decay=[0.1, -0.1])
    with pytest.raises(ValueError, match="weight_decay"):
        NSGD(weight_decay=float("nan"))
    with pytest.raises(TypeError, match="weight_decay"):
        HeavyBall(0.5, weight_decay=True)
    with pytest.raises(ValueError, match="no stability edge with weight decay"):
        max_stable_lr(PROBLEM, 4, SGD(weight_decay=0.1))
    with pytest.raises(ValueError, match="no weight decay"):
        controlled_risk(PROBLEM, 10, None, SGD(weight_decay=0.1))
    # reduce="auto" switches itself off: the result is the unreduced solver's.
    big = Problem.power_law(3000, a=1.5, b=1.0, noise_variance=0.3)
    sched = Schedule.constant(0.3, 4, steps=200)
    auto = expected_risk(big, sched, SGD(weight_decay=0.1), checkpoints=[200])
    off = expected_risk(big, sched, SGD(weight_decay=0.1), checkpoints=[200], reduce=False)
    np.testing.assert_array_equal(auto.risk, off.risk)
    assert repr(SGD(weight_decay=0.0)) == "SGD()" and SGD(weight_decay=0.0) == SGD()


# ------------------------------------------------------------------------------ the AdamW timescale
def test_nsgd_decays_with_the_schedules_rate_exactly():
    # T_{t+1} = (1 − η ω − η'_t λ) T_t − η ω W with η the schedule's rate and η'_t = η/sqrt(G_t) (AdamW's convention).
    eta, omega = 0.05, 0.4
    r = expected_risk(FP_PROBLEM, Schedule.constant(eta, 2, steps=40), NSGD(weight_decay=omega),
                      checkpoints=[30, 31], keep_states=True)
    t0, t1 = r.state_at(30).target_moment[0], r.state_at(31).target_moment[0]
    lam, w = FP_PROBLEM.eigenvalues, FP_PROBLEM.initial_second_moment
    eff = r.effective_lr[-1]  # the rate of step 31 (recorded after it)
    np.testing.assert_allclose(t1, (1 - eta * omega - eff * lam) * t0 - eta * omega * w, rtol=1e-14)
    assert not np.allclose(t1, (1 - eff * omega - eff * lam) * t0 - eff * omega * w, rtol=1e-6)


def test_nsgd_with_decay_depends_on_the_timescale_not_on_omega():
    # Variance-dominated NSGD: (η, B, ω) and (2η, 4B, 2ω) share η/sqrt(B) and τ = B/(η ω D); (2η, 4B, ω) does not.
    p = Problem.power_law(50, a=1.5, b=1.0, noise_variance=100.0)
    samples = [2000, 4000, 8000]

    def risk(eta, batch, omega):
        sched = Schedule.constant(eta, batch, steps=8000 // batch)
        return expected_risk(p, sched, NSGD(weight_decay=omega)).at_samples(samples)

    base = risk(0.02, 1, 0.05)
    same_tau, same_omega = risk(0.04, 4, 0.1), risk(0.04, 4, 0.05)
    assert np.max(np.abs(same_tau / base - 1)) < 2e-3  # measured 5e-4 (docs/math.md#weight-decay-timescale)
    assert np.min(np.abs(same_omega / base - 1)) > 0.05  # measured 12–14 %


def test_adamw_in_the_monte_carlo_depends_on_the_timescale_not_on_omega():
    # Adam (AdamW's decay) has no exact solver: the same comparison in the Monte Carlo, variance-dominated.
    # Equal τ = B/(η ω D) agrees within 4 combined SE (measured |z| ≤ 0.8, 0.3–1.3 % with 256–512 runs);
    # equal ω is many SE away (measured z = −5 … −25).
    p = Problem.power_law(8, a=1.5, b=1.0, noise_variance=100.0)
    checkpoints = [1000, 2000]

    def mc(eta, batch, omega, seed):
        sched = Schedule.constant(eta, batch, steps=2000 // batch)
        return simulate(p, sched, Adam(betas=(0.9, 0.99), weight_decay=omega), runs=256, seed=seed,
                        checkpoints=checkpoints, numerics=Numerics(backend="numpy"), progress=False)

    base, same_tau, same_omega = mc(0.01, 1, 0.05, 1), mc(0.02, 4, 0.1, 2), mc(0.02, 4, 0.05, 3)

    def z(r):
        return (r.mean_risk - base.mean_risk) / np.sqrt(r.stderr**2 + base.stderr**2)

    assert np.all(np.abs(z(same_tau)) <= 4)
    assert np.max(np.abs(z(same_omega))) > 6


@pytest.mark.parametrize("kernel", KERNELS)
def test_multiplicities_with_decay_are_the_repeated_coordinates(kernel):
    grouped = Problem([1.0, 0.3], [1.0, 2.0], 0.4, multiplicity=[3, 2])
    expanded = Problem([1.0, 1.0, 1.0, 0.3, 0.3], [1.0, 1.0, 1.0, 2.0, 2.0], 0.4)
    sched = Schedule.constant(0.2, 3, steps=200)
    for spec in (SGD(weight_decay=0.2), HeavyBall(0.4, optimizer="nsgd", weight_decay=0.2)):
        a, b = (expected_risk(p, sched, spec, average="uniform", numerics=Numerics(kernel=kernel))
                for p in (grouped, expanded))
        np.testing.assert_allclose(a.risk, b.risk, rtol=1e-13)
        np.testing.assert_allclose(a.averaged_risk, b.averaged_risk, rtol=1e-13)
