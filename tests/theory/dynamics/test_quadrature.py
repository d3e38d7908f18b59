"""Quadrature reduction of the slow spectrum (docs/math.md#quadrature-reduction).

References: (1) Gauss rules against the discrete measure they replace, on polynomials of degree
``2K − 1`` (exact to rounding); (2) reduced curves against the uncompressed solver on the same
problem, for SGD, NSGD and heavy ball with every averaging (the error must be at rounding level, and
``reduction_error`` must bound it up to a rounding floor).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramplab.theory import (ExponentialAverage, HeavyBall, Problem, QuadratureReduction, Schedule, TailAverage,
                            expected_risk, gauss_rule, reduce_problem)
from ramplab.workloads import workload_lrs, workload_problem

CURVES = ("risk", "bias", "variance", "averaged_risk", "effective_lr", "gradient_second_moment",
          "mean_variance_ratio")

EPS = np.finfo(np.float64).eps


def relative_gap(a, b):
    """Largest |a − b| / max(|a|, |b|) over entries (0 where both are equal, zeros included)."""
    if a is None or b is None:
        assert a is None and b is None
        return 0.0
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.abs(a - b) / np.maximum(np.abs(a), np.abs(b))
    return float(np.max(np.where(same, 0.0, gap))) if gap.size else 0.0


def curve_error(full, reduced):
    return max(relative_gap(getattr(full, n), getattr(reduced, n)) for n in CURVES)


# --- Gauss rules -------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(a=st.floats(1.05, 2.5), d=st.integers(100, 5000), start=st.integers(0, 300), nodes=st.integers(4, 40),
       power=st.floats(0.0, 3.0), seed=st.integers(0, 1000))
def test_gauss_rule_integrates_polynomials_of_degree_2k_minus_1(a, d, start, nodes, power, seed):
    x = np.arange(1 + start, d + 1 + start, dtype=np.float64) ** -a
    w = x**power * np.random.default_rng(seed).uniform(0.5, 1.5, x.size)
    node, weight = gauss_rule(x, w, nodes)
    assert node.size <= nodes and np.all(weight > 0)
    assert np.all((node >= x.min()) & (node <= x.max()))
    t = (x - x.min()) / (x.max() - x.min())
    tn = (node - x.min()) / (x.max() - x.min())
    for k in (0, 1, nodes, 2 * node.size - 1):
        exact = float(w @ t**k)
        assert abs(float(weight @ tn**k) - exact) <= 1e-12 * float(w.sum()), k


def test_gauss_rule_of_few_points_is_the_measure_itself():
    x, w = gauss_rule([0.5, 0.25, 0.5, 1.0], [1.0, 2.0, 3.0, 0.0], 3)
    assert x.tolist() == [0.25, 0.5] and w.tolist() == [2.0, 4.0]


def test_gauss_rule_refuses_bad_weights():
    with pytest.raises(ValueError, match="weights"):
        gauss_rule([1.0, 2.0], [-1.0, 1.0], 2)
    with pytest.raises(ValueError, match="nodes"):
        gauss_rule([1.0, 2.0], [1.0, 1.0], 0)


def test_reduced_problem_keeps_trace_and_initial_risk():
    p = Problem.power_law(30_000, a=1.3, b=2.0, noise_variance=0.1)
    red = reduce_problem(p, Schedule.constant(0.5 / p.trace, 1, steps=3000))
    assert isinstance(red, QuadratureReduction)
    assert red.dimension < 150 and red.noise_nodes == red.bias_nodes == 32
    assert red.problem.trace == pytest.approx(p.trace, rel=1e-13)
    assert red.problem.initial_risk == pytest.approx(p.initial_risk, rel=1e-13)
    assert np.array_equal(red.problem.eigenvalues[:red.fast.size], p.eigenvalues[red.fast])


# --- reduced runs against the full solver -------------------------------------------------------


def spectrum(kind, d, a, seed):
    if kind == "power":
        return np.arange(1, d + 1, dtype=np.float64) ** -a
    rng = np.random.default_rng(seed)
    return np.exp(rng.uniform(np.log(1e-6), 0.0, d))


def schedule_of(kind, lr, steps):
    if kind == "constant":
        return Schedule.constant(lr, 1, steps=steps)
    if kind == "sqrt":
        return Schedule(lr / np.sqrt(np.arange(1, steps + 1)), 1)
    return Schedule.from_phases([(lr, max(1, steps // 2), 4096), (lr / 4, steps - max(1, steps // 2), 4096)])


AVERAGES = [None, "uniform", TailAverage(5), ExponentialAverage(0.05)]


@settings(max_examples=30, deadline=None)
@given(kind=st.sampled_from(["power", "random"]), d=st.integers(300, 2500), a=st.floats(1.05, 2.2),
       b_over_a=st.sampled_from([1.0, 2.0]), seed=st.integers(0, 10_000),
       m=st.floats(0.05, 0.9), steps=st.integers(20, 600),
       shapes=st.lists(st.sampled_from(["constant", "sqrt", "phases"]), min_size=1, max_size=2),
       optimizer=st.sampled_from(["sgd", "nsgd", "momentum"]), average=st.sampled_from(AVERAGES),
       split=st.booleans(), noise=st.sampled_from([0.0, 0.01, 1.0]))
def test_reduction_matches_the_full_solver(kind, d, a, b_over_a, seed, m, steps, shapes, optimizer, average,
                                           split, noise):
    lam = spectrum(kind, d, a, seed)
    # λ s(0) = i^-b on power laws (b ≥ a: s(0) = λ^(b/a − 1)); uniform s(0) on random spectra.
    s0 = lam ** (b_over_a - 1.0) if kind == "power" else np.random.default_rng(seed + 1).uniform(0, 2, d)
    p = Problem(lam, s0, noise)
    if optimizer == "nsgd":
        opt, rate = "nsgd", m * 0.5
    elif optimizer == "momentum":
        opt, rate = HeavyBall(0.5), m * 0.5 / p.trace
    else:
        opt, rate = "sgd", m / p.trace
    schedules = [schedule_of(s, rate, steps) for s in shapes]
    kw = dict(average=average, split=split, on_divergence="flag")
    full = expected_risk(p, schedules, opt, reduce=False, **kw)
    reduced = expected_risk(p, schedules, opt, reduce=True, **kw)
    # Rounding floor: heavy ball's per-coordinate recursion cancels, and a Gauss node carries the weight of
    # many coordinates whose independent rounding errors the full sum averages out.
    floor = (2e3 if optimizer == "momentum" else 50.0) * EPS * steps
    for f, r in zip(full, reduced):
        assert f.diverged_at == r.diverged_at
        assert r.reduced_dimension is not None and r.reduction_error is not None
        err = curve_error(f, r)
        assert err <= max(1e-12, floor), err
        assert err <= 3.0 * r.reduction_error + floor, (err, r.reduction_error)
        assert r.final_second_moment.shape == (d,)


@settings(max_examples=15, deadline=None)
@given(d=st.integers(300, 2000), a=st.floats(1.05, 2.2), power=st.floats(-6.0, 0.0), m=st.floats(0.05, 0.9),
       steps=st.integers(5, 300), optimizer=st.sampled_from(["sgd", "nsgd"]))
def test_the_estimate_bounds_the_error_where_rounding_is_not_reached(d, a, power, m, steps, optimizer):
    # s(0) growing down the spectrum puts the bias weight on the smallest eigenvalues, far from the top of
    # the slow interval: the rules are exact only to rounding *of the total weight*, so Σ λ² s can lose
    # digits. The two-degree gap must see it.
    lam = np.arange(1, d + 1, dtype=np.float64) ** -a
    p = Problem(lam, lam**power, 0.0)
    s = Schedule.constant(m / p.trace if optimizer == "sgd" else m * 0.5, 1, steps=steps)
    full = expected_risk(p, s, optimizer, reduce=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        reduced = expected_risk(p, s, optimizer, reduce=True)
    err = curve_error(full, reduced)
    assert err <= 3.0 * reduced.reduction_error + 50 * EPS * steps, (err, reduced.reduction_error)


def test_auto_falls_back_to_the_full_problem_when_the_estimate_misses_the_target(monkeypatch):
    from ramplab.theory.dynamics import _quadrature

    p = Problem.power_law(3000, a=1.5, b=1.5, noise_variance=0.1)
    s = Schedule.constant(0.5 / p.trace, 1, steps=200)
    monkeypatch.setattr(_quadrature, "AUTO_MIN_DIMENSION", 100)
    monkeypatch.setattr(_quadrature, "AUTO_MAX_FRACTION", 0.5)
    monkeypatch.setattr(_quadrature, "AUTO_MIN_STEPS", 10)
    monkeypatch.setattr(_quadrature, "AUTO_MIN_WORK", 0)
    assert expected_risk(p, s).reduced_dimension is not None
    monkeypatch.setattr(_quadrature, "TARGET_ERROR", 0.0)  # no reduction can promise this
    r = expected_risk(p, s)
    assert r.reduced_dimension is None
    assert np.array_equal(r.risk, expected_risk(p, s, reduce=False).risk)
    with pytest.warns(RuntimeWarning, match="did not reach"):
        assert expected_risk(p, s, reduce=True).reduced_dimension is not None


def test_reduction_is_at_rounding_on_a_large_power_law():
    p = Problem.power_law(100_000, a=1.5, b=1.5, noise_variance=0.01)
    lr = 0.5 / p.trace
    pair = [Schedule.constant(lr, 1, steps=2000), Schedule(lr / np.sqrt(np.arange(1, 2001)), 1)]
    checks = [0, 1, 10, 100, 1000, 2000]
    full = expected_risk(p, pair, average="uniform", checkpoints=checks, reduce=False)
    reduced = expected_risk(p, pair, average="uniform", checkpoints=checks)  # "auto" reduces here
    for f, r in zip(full, reduced):
        assert r.reduced_dimension < 200
        assert curve_error(f, r) <= 1e-12
        assert curve_error(f, r) <= 3.0 * r.reduction_error + 50 * EPS * 2000
        # The expanded final moments: exact on the kept coordinates, Σ λ s kept to interpolation accuracy.
        s_full, s_red = f.final_second_moment, r.final_second_moment
        assert float(p.eigenvalues @ s_red) == pytest.approx(float(p.eigenvalues @ s_full), rel=1e-10)


# --- reduce= and the rest of expected_risk ------------------------------------------------------


@pytest.mark.parametrize("d, schedules, steps", [
    (1_500, 22, 4_000),   # below AUTO_MIN_DIMENSION, however much work
    (2_000, 1, 5_000),    # one schedule: measured 0.76x as fast reduced (ramplab bench --suite exact)
    (2_000, 22, 900),     # below AUTO_MIN_STEPS
    (5_000, 4, 2_000),    # 4e7 coordinate-steps < AUTO_MIN_WORK
])
def test_auto_is_the_unreduced_computation_where_reducing_would_not_pay(d, schedules, steps):
    # "never slower than the unreduced path on small d": below the work the reduction repays, "auto" runs
    # the unreduced computation itself (the same bits), not a reduction that might be slower.
    from ramplab.theory.dynamics._quadrature import worth_trying

    p = workload_problem(d)
    sched = [Schedule.constant(float(lr), 1, steps=steps) for lr in workload_lrs(p, schedules)]
    assert not worth_trying(d, steps, schedules)
    auto = expected_risk(p, sched, average="uniform", checkpoints=[0, steps // 2, steps])
    off = expected_risk(p, sched, average="uniform", checkpoints=[0, steps // 2, steps], reduce=False)
    for a, o in zip(auto, off):
        assert a.reduced_dimension is None
        assert np.array_equal(a.averaged_risk, o.averaged_risk) and np.array_equal(a.risk, o.risk)


def test_auto_reduces_many_schedules_at_moderate_d_to_rounding():
    # W1's shape (22 rates, d = 2 000) at half its horizon: 1.1e8 coordinate-steps, where the reduced runs
    # are faster (1.8x at 2 500 and 5 000 steps, measured); the curves stay at rounding.
    from ramplab.theory.dynamics._quadrature import worth_trying

    p = workload_problem(2_000)
    sched = [Schedule.constant(float(lr), 1, steps=2_500) for lr in workload_lrs(p, 22)]
    assert worth_trying(2_000, 2_500, 22)
    auto = expected_risk(p, sched, average="uniform")
    off = expected_risk(p, sched, average="uniform", reduce=False)
    for a, o in zip(auto, off):
        assert a.reduced_dimension is not None and a.reduced_dimension <= 0.1 * 2_000
        assert a.reduction_error <= 1e-12
        assert curve_error(o, a) <= 1e-12


def test_auto_leaves_small_problems_alone():
    p = Problem.power_law(500, a=1.5, b=1.5, noise_variance=0.1)
    s = Schedule.constant(0.5 / p.trace, 1, steps=300)
    auto = expected_risk(p, s, average="uniform")
    off = expected_risk(p, s, average="uniform", reduce=False)
    assert auto.reduction_error is None and auto.reduced_dimension is None
    assert np.array_equal(auto.risk, off.risk) and np.array_equal(auto.averaged_risk, off.averaged_risk)
    assert auto.state_at(300).second_moment.shape == (1, 500)


def test_a_reduced_run_keeps_no_state_and_says_so():
    p = Problem.power_law(3000, a=1.5, b=1.5, noise_variance=0.1)
    s = Schedule.constant(0.5 / p.trace, 1, steps=300)
    r = expected_risk(p, s, reduce=True)
    assert r.reduced_dimension < 3000 and r.states == {}
    with pytest.raises(ValueError, match="quadrature-reduced.*reduce=False"):
        r.state_at(300)
    state = expected_risk(p, s, reduce=False).state_at(300)
    with pytest.raises(NotImplementedError, match="initial_state"):
        expected_risk(p, s, reduce=True, initial_state=state)
    with pytest.raises(NotImplementedError, match="keep_states"):
        expected_risk(p, s, reduce=True, keep_states=True)
    # "auto" continues exactly from a state (and never reduces a continuation).
    cont = expected_risk(p, s, initial_state=state)
    assert cont.reduced_dimension is None


@pytest.mark.parametrize("value, error", [("yes", ValueError), (1, TypeError), (None, TypeError)])
def test_reduce_argument_is_checked(value, error):
    p = Problem.power_law(50, a=1.5, b=1.5)
    with pytest.raises(error, match="reduce"):
        expected_risk(p, Schedule.constant(0.1, 1, steps=5), reduce=value)


def test_reduce_true_and_compress_exclude_each_other():
    p = Problem.power_law(50, a=1.5, b=1.5)
    with pytest.raises(ValueError, match="compress"):
        expected_risk(p, Schedule.constant(0.1, 1, steps=5), reduce=True, compress=1e-3)
    r = expected_risk(p, Schedule.constant(0.1, 1, steps=5), compress=1e-3)  # "auto" yields to compress=
    assert r.compression_error is not None and r.reduction_error is None


# --- the compiled passes and the lazy final state (#20 item 1) -----------------------------------


@pytest.mark.parametrize("rows", [1, 2])
def test_compiled_moments_agree_with_the_numpy_recurrence(monkeypatch, rows):
    # Reference: the NumPy three-term recurrence of chebyshev_moments (a different summation order).
    from ramplab.theory.dynamics import _quadrature, _quadrature_kernels

    if not _quadrature_kernels.AVAILABLE:
        pytest.skip("numba is not installed: the NumPy recurrence is the only path")
    rng = np.random.default_rng(7)
    x = np.sort(rng.uniform(1e-6, 1.0, 5000))[::-1]
    w = rng.uniform(0.0, 1.0, (rows, x.size))
    monkeypatch.setattr(_quadrature, "_COMPILED_FROM", 1)
    compiled = _quadrature.chebyshev_moments(x, w, float(x.min()), float(x.max()), 40)
    powers = _quadrature._power_moments(x, w, float(x.max()))
    monkeypatch.setattr(_quadrature, "_COMPILED_FROM", 10**12)
    plain = _quadrature.chebyshev_moments(x, w, float(x.min()), float(x.max()), 40)
    plain_powers = _quadrature._power_moments(x, w, float(x.max()))
    # In the normalisation T_k = 2^(k−1) p_k (|T_k| ≤ 1), every moment is at most the mass: compare there.
    scale = 2.0 ** np.maximum(np.arange(40) - 1, 0)
    mass = w.sum(axis=1, keepdims=True)
    assert compiled.shape == plain.shape == (rows, 40)
    assert np.max(np.abs(compiled - plain) * scale / mass) <= 1e-13
    assert np.max(np.abs(powers - plain_powers) / mass) <= 1e-13
    assert not np.array_equal(compiled, np.zeros_like(compiled))  # the kernel ran and wrote


def test_a_reduced_final_state_is_expanded_when_first_read_and_pickles_before():
    import copy
    import dataclasses
    import pickle

    from ramplab.theory import RiskTrajectory

    p = Problem.power_law(3000, a=1.5, b=1.5, noise_variance=0.1)
    pair = [Schedule.constant(0.5 / p.trace, 1, steps=300), Schedule.constant(0.25 / p.trace, 1, steps=300)]
    runs = expected_risk(p, pair, reduce=True)
    red = reduce_problem(p, pair)
    for r in runs:
        assert isinstance(r, RiskTrajectory) and r.reduced_dimension == red.dimension
        assert "_final_second_moment" in vars(r) and not isinstance(vars(r)["_final_second_moment"], np.ndarray)
        again = pickle.loads(pickle.dumps(r))  # before the expansion: the pending state travels
        copied = copy.copy(r)
        first = r.final_second_moment
        assert first.shape == (3000,) and r.final_second_moment is first  # expanded once, then kept
        assert np.array_equal(again.final_second_moment, first) and np.array_equal(copied.final_second_moment, first)
        # Exact on the kept coordinates (compared with the unreduced run there).
        full = expected_risk(p, r.schedule, reduce=False)
        np.testing.assert_allclose(first[red.fast], full.final_second_moment[red.fast], rtol=1e-10)
        swapped = dataclasses.replace(r, final_second_moment=np.zeros(3000))
        assert not swapped.final_second_moment.any() and swapped.reduction_error == r.reduction_error


# --- the 12 peer curves against their shipped uncompressed values (#20 items 1–2) ---------------


def _peer_reference():
    from ramplab.benchmarks.peer_scale import REFERENCE, read_json_reference

    path = REFERENCE.with_name("peer_scale_reference_50000.json")
    if not path.exists():
        pytest.skip("the 50 000-step peer-scale reference is not shipped with this install")
    return read_json_reference(path)


def test_the_shipped_peer_reference_starts_at_each_problems_initial_risk():
    # Quick twin of the test below: the file is the 12 curves of these problems (step 0 is R(0), and the
    # averaged risk equals the risk there), in the order problem × (constant, 1/√t).
    from ramplab.workloads import FULL_SCALE_EXPONENTS, full_scale_problem

    ref = _peer_reference()
    assert ref["complete"] and ref["risk"].shape == (12, len(ref["checkpoints"])) and ref["checkpoints"][0] == 0
    assert int(ref["dimension"]) == 500_000 and int(ref["steps"]) == 50_000 and len(ref["checkpoints"]) >= 8
    for k, (a, b) in enumerate(FULL_SCALE_EXPONENTS):
        initial = full_scale_problem(500_000, a, b).initial_risk
        for row in (2 * k, 2 * k + 1):
            assert ref["risk"][row, 0] == pytest.approx(initial, rel=1e-12)  # sums over 5·10⁵ terms, another order
            assert ref["averaged_risk"][row, 0] == ref["risk"][row, 0]
        assert np.all(np.diff(ref["risk"][2 * k, :4]) < 0)  # the risk falls from R(0)


@pytest.mark.slow
def test_the_reduction_matches_the_uncompressed_peer_curves():
    # Reference: expected_risk(..., reduce=False) at d = 5·10⁵, 50 000 steps (benchmarks/data/README.md).
    from ramplab.workloads import FULL_SCALE_EXPONENTS, full_scale_m, full_scale_problem, full_scale_schedules

    ref = _peer_reference()
    for k, (a, b) in enumerate(FULL_SCALE_EXPONENTS):
        p = full_scale_problem(500_000, a, b)
        m, _ = full_scale_m(p, 0.5)
        runs = expected_risk(p, full_scale_schedules(p, 50_000, m), average="uniform",
                             checkpoints=ref["checkpoints"], reduce=True)
        for j, r in enumerate(runs):
            for name in ("risk", "averaged_risk"):
                err = relative_gap(getattr(r, name), ref[name][2 * k + j])
                assert err <= 1e-10, (a, b, j, name, err)
                assert err <= 3.0 * r.reduction_error + 50 * EPS * 50_000, (err, r.reduction_error)
