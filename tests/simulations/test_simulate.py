"""Monte Carlo against the exact solver, and the simulator's contract.

Reference for the risk curves: :func:`theory.expected_risk` (docs/math.md#sgd-second-moment-recursion, §1.3), an independent
implementation of the same expectation. Agreement is required within 4 standard errors (plus a
rounding allowance where all runs share one value, e.g. the initial risk), at a handful of sample
checkpoints, with fixed seeds; every such test also checks that the standard errors are small
enough to matter (relative SE bound, and a nearby wrong model rejected by many SE).
"""

from __future__ import annotations

import numpy as np
import pytest

from ramplab.simulations import NSGD, SGD, SimulationDivergenceError, SimulationResult, simulate
from ramplab.theory import Numerics, Problem, Schedule, expected_risk

PROBLEM = Problem.power_law(16, a=1.5, b=1.0, noise_variance=0.5)
SCHEDULE = Schedule.from_phases([(0.8, 2, 200), (0.4, 4, 400), (0.2, 8, 800)], label="ramp")
CHECKPOINTS = [0, 50, 201, 599, 1000, 1400]  # some between steps (interpolated), some on them


def _agrees(mc: SimulationResult, exact: np.ndarray, rounding: float = 1e-12) -> bool:
    allowance = rounding * np.abs(exact)
    return bool(np.all(np.abs(mc.mean_risk - exact) <= 4 * mc.stderr + allowance))


def _informative(mc: SimulationResult, exact: np.ndarray, wrong: np.ndarray, *, rel: float = 0.1) -> None:
    late = mc.samples >= 599
    assert np.all(mc.stderr[late] < rel * exact[late])
    assert np.max(np.abs(mc.z_score(wrong))) > 6  # step 0 is exact (stderr 0): z_score scores it 0


@pytest.mark.parametrize(("sampler", "runs"), [("gaussian-exact", 4000), ("direct", 2000)])
def test_gaussian_sgd_matches_exact(sampler, runs):
    mc = simulate(PROBLEM, SCHEDULE, runs=runs, seed=1, numerics=Numerics(backend="numpy"), sampler=sampler,
                  checkpoints=CHECKPOINTS)
    assert mc.sampler == sampler and mc.data == "gaussian" and mc.runs == runs
    exact = expected_risk(PROBLEM, SCHEDULE).at_samples(CHECKPOINTS)
    assert _agrees(mc, exact)
    # Power: the same schedule on Rademacher-like data (κ = 1) is many SE away.
    wrong = expected_risk(PROBLEM.replace(kurtosis=1.0), SCHEDULE).at_samples(CHECKPOINTS)
    _informative(mc, exact, wrong)


def test_rademacher_sgd_matches_exact():
    problem = PROBLEM.replace(kurtosis=1.0)
    mc = simulate(problem, SCHEDULE, runs=2000, seed=1, numerics=Numerics(backend="numpy"), checkpoints=CHECKPOINTS)
    assert (mc.sampler, mc.data) == ("direct", "rademacher")
    exact = expected_risk(problem, SCHEDULE).at_samples(CHECKPOINTS)
    assert _agrees(mc, exact)
    _informative(mc, exact, expected_risk(PROBLEM, SCHEDULE).at_samples(CHECKPOINTS))


def test_uniform_data_matches_exact():
    problem = PROBLEM.replace(kurtosis=9 / 5)
    mc = simulate(problem, SCHEDULE, runs=1000, seed=2, numerics=Numerics(backend="numpy"), checkpoints=CHECKPOINTS)
    assert mc.data == "uniform"
    assert _agrees(mc, expected_risk(problem, SCHEDULE).at_samples(CHECKPOINTS))


def test_nsgd_expected_denominator_matches_exact():
    mc = simulate(PROBLEM, SCHEDULE, "nsgd", runs=4000, seed=1, numerics=Numerics(backend="numpy"),
                  checkpoints=CHECKPOINTS)
    exact_traj = expected_risk(PROBLEM, SCHEDULE, "nsgd")
    np.testing.assert_array_equal(mc.effective_lr, exact_traj.effective_lr)
    exact = exact_traj.at_samples(CHECKPOINTS)
    assert _agrees(mc, exact)
    _informative(mc, exact, expected_risk(PROBLEM, SCHEDULE).at_samples(CHECKPOINTS))


def test_every_step_recorded_without_checkpoints():
    schedule = Schedule.constant(0.3, 4, steps=40)
    mc = simulate(PROBLEM, schedule, runs=2000, seed=3, numerics=Numerics(backend="numpy"))
    exact = expected_risk(PROBLEM, schedule)
    np.testing.assert_array_equal(mc.steps, exact.steps)
    np.testing.assert_array_equal(mc.samples, exact.samples)
    assert mc.mean_risk[0] == pytest.approx(PROBLEM.initial_risk, rel=1e-14)
    # 41 correlated points: a 4.5-SE band (the maximum of many z-scores).
    assert np.max(np.abs(mc.z_score(exact.risk))[1:]) < 4.5


def test_conditional_nsgd_deterministic_case():
    # d = 1, σ = 0: g = λ e (Σ z_b²)/B has the sign of e, so g/‖g‖ = sign(e) and the iterate walks
    # deterministically: e = 1, 0.7, 0.4, 0.1, −0.2, 0.1, −0.2, … (risk ½ λ e², zero spread).
    problem = Problem([2.0], [1.0], noise_variance=0.0)
    schedule = Schedule.constant(0.3, 3, steps=8)
    walk = [1.0, 0.7, 0.4, 0.1, -0.2, 0.1, -0.2, 0.1, -0.2]
    for sampler in ("gaussian-exact", "direct"):
        mc = simulate(problem, schedule, NSGD("conditional"), runs=100, seed=0,
                      numerics=Numerics(backend="numpy"), sampler=sampler, keep_runs=True)
        assert mc.normalization == "conditional" and mc.effective_lr is None
        np.testing.assert_allclose(mc.mean_risk, [e * e for e in walk], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(mc.run_risk, np.broadcast_to(mc.mean_risk, (100, 9)), rtol=1e-12,
                                   atol=1e-15)


def test_conditional_nsgd_zero_gradient_is_no_step():
    # At w = w* without label noise every batch gradient is 0: the conditional step is defined as 0.
    problem = Problem([1.0, 0.5], [0.0, 0.0], noise_variance=0.0)
    mc = simulate(problem, Schedule.constant(0.5, 2, steps=5), NSGD("conditional"),
                  runs=3, seed=0, numerics=Numerics(backend="numpy"))
    np.testing.assert_array_equal(mc.mean_risk, np.zeros(6))
    assert mc.diverged_at is None


def test_conditional_differs_from_expected_nsgd():
    # Dividing by the realised norm is not dividing by its root mean square: with B = 1 in low
    # dimension ‖g‖ fluctuates strongly and the two NSGD variants part by many standard errors.
    problem = Problem.power_law(4, a=1.0, b=1.0, noise_variance=0.5)
    schedule = Schedule.constant(0.05, 1, steps=200)
    kw = dict(runs=1000, seed=4, numerics=Numerics(backend="numpy"), checkpoints=[100, 200])
    cond = simulate(problem, schedule, NSGD("conditional"), **kw)
    expect = simulate(problem, schedule, NSGD("expected"), **kw)
    gap = np.abs(cond.mean_risk - expect.mean_risk)
    assert np.all(gap > 6 * np.hypot(cond.stderr, expect.stderr))


def test_checkpoints_are_linear_interpolation_of_runs():
    kw = dict(runs=130, seed=5, numerics=Numerics(backend="numpy"), keep_runs=True)
    full = simulate(PROBLEM, SCHEDULE, **kw)
    grid = [0, 1, 3, 200, 1399, 1400]
    ck = simulate(PROBLEM, SCHEDULE, checkpoints=grid, **kw)
    for j, c in enumerate(grid):
        expect = np.array([np.interp(c, full.samples, r) for r in full.run_risk])
        np.testing.assert_allclose(ck.run_risk[:, j], expect, rtol=1e-13)
    np.testing.assert_allclose(ck.mean_risk, ck.run_risk.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(ck.stderr, ck.run_risk.std(axis=0, ddof=1) / np.sqrt(130), rtol=1e-9,
                               atol=1e-15)
    assert ck.steps.tolist() == [0, 0, 1, 100, 299, 300]
    np.testing.assert_array_equal(ck.samples, grid)


def test_reproducible_and_runs_extend():
    kw = dict(seed=7, numerics=Numerics(backend="numpy"), keep_runs=True)
    for sampler in ("gaussian-exact", "direct"):
        a = simulate(PROBLEM, SCHEDULE, runs=70, sampler=sampler, **kw)
        b = simulate(PROBLEM, SCHEDULE, runs=70, sampler=sampler, **kw)
        np.testing.assert_array_equal(a.mean_risk, b.mean_risk)
        np.testing.assert_array_equal(a.stderr, b.stderr)
        # More runs, in other chunks: the first 70 runs are the same runs.
        c = simulate(PROBLEM, SCHEDULE, runs=200, sampler=sampler,
                     **{**kw, "numerics": Numerics("numpy", chunk_size=64)})
        np.testing.assert_array_equal(c.run_risk[:70], a.run_risk)
        # Statistics merged over four chunks and two flushes equal the direct ones.
        np.testing.assert_allclose(c.mean_risk, c.run_risk.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(c.stderr[1:], c.run_risk[:, 1:].std(axis=0, ddof=1) / np.sqrt(200),
                                   rtol=1e-9)
        other = simulate(PROBLEM, SCHEDULE, runs=70, sampler=sampler, **{**kw, "seed": 8})
        assert not np.array_equal(other.run_risk, a.run_risk)


def test_fresh_seed_is_recorded():
    a = simulate(PROBLEM, SCHEDULE, runs=5, seed=None, numerics=Numerics(backend="numpy"))
    b = simulate(PROBLEM, SCHEDULE, runs=5, seed=a.seed, numerics=Numerics(backend="numpy"))
    np.testing.assert_array_equal(a.mean_risk, b.mean_risk)
    seq = simulate(PROBLEM, SCHEDULE, runs=5, seed=np.random.SeedSequence(9).spawn(1)[0],
                   numerics=Numerics(backend="numpy"))
    again = simulate(PROBLEM, SCHEDULE, runs=5, seed=seq.seed, numerics=Numerics(backend="numpy"))
    np.testing.assert_array_equal(seq.mean_risk, again.mean_risk)


def test_single_run_has_infinite_stderr_not_nan():
    mc = simulate(PROBLEM, SCHEDULE, runs=1, seed=0, numerics=Numerics(backend="numpy"))
    assert np.isfinite(mc.mean_risk).all() and np.all(mc.stderr == np.inf)


def test_divergence_raises_with_the_step():
    schedule = Schedule.constant(5.0, 1, steps=400, label="too hot")
    with pytest.raises(SimulationDivergenceError, match="too hot") as info:
        simulate(PROBLEM, schedule, runs=8, seed=0, numerics=Numerics(backend="numpy"))
    # The exact solver's rule and step (docs/math.md#divergence); a run is named only when its own risk is not finite.
    assert 0 < info.value.step < 400 and (info.value.run is None or 0 <= info.value.run < 8)
    assert info.value.step == expected_risk(PROBLEM, schedule, on_divergence="flag").diverged_at
    flagged = simulate(PROBLEM, schedule, runs=8, seed=0, numerics=Numerics(backend="numpy"), on_divergence="flag",
                       keep_runs=True)
    assert flagged.diverged_at == info.value.step and flagged.diverged_runs == 8
    k = flagged.diverged_at
    assert np.isfinite(flagged.mean_risk[:k]).all() and np.isfinite(flagged.stderr[: k // 3]).all()
    assert not np.isnan(flagged.stderr).any()  # huge finite risks just before: spread may overflow to +inf
    assert np.all(flagged.mean_risk[k:] == np.inf) and np.all(flagged.stderr[k:] == np.inf)
    assert not np.isnan(flagged.run_risk).any()
    assert np.isinf(flagged.run_risk[:, -1]).all()  # each run's own curve is +inf from its own non-finite step
    # At sample checkpoints: finite before the first divergence, +inf after.
    grid = [0, k // 2, k - 2, k + 1, 399]  # k is the exact step (7 here), no longer the first overflow
    ck = simulate(PROBLEM, schedule, runs=8, seed=0, numerics=Numerics(backend="numpy"), on_divergence="flag",
                  checkpoints=grid)
    assert ck.diverged_at == k
    assert np.isfinite(ck.mean_risk[:3]).all() and np.all(ck.mean_risk[3:] == np.inf)


def test_float32_state():
    # float32 draws are other random numbers (NumPy's float32 normal sampler), so the check is
    # against the exact solver, not against the float64 simulation.
    grid = [0, 599, 1000, 1400]
    mc = simulate(PROBLEM, SCHEDULE, runs=1000, seed=0, numerics=Numerics(backend="numpy", dtype=np.float32),
                  checkpoints=grid)
    assert _agrees(mc, expected_risk(PROBLEM, SCHEDULE).at_samples(grid), rounding=1e-6)
    assert np.all(mc.stderr[1:] < 0.05 * mc.mean_risk[1:])


@pytest.mark.parametrize("sampler", ["gaussian-exact", "direct"])
@pytest.mark.parametrize("optimizer", [SGD(), NSGD("conditional")])
def test_array_api_strict_end_to_end(sampler, optimizer):
    # array_api_strict rejects NumPy-only calls; with the same draws it reproduces NumPy's numbers.
    kw = dict(runs=70, seed=2, sampler=sampler, keep_runs=True, checkpoints=[0, 33, 1400])
    strict = simulate(PROBLEM, SCHEDULE, optimizer, numerics=Numerics(backend="array_api_strict"), **kw)
    ref = simulate(PROBLEM, SCHEDULE, optimizer, numerics=Numerics(backend="numpy"), **kw)
    assert strict.backend == "array_api_strict"
    np.testing.assert_allclose(strict.run_risk, ref.run_risk, rtol=1e-10)


@pytest.mark.parametrize("kurtosis", [1.0, 9 / 5])
def test_array_api_strict_other_data(kurtosis):
    problem = PROBLEM.replace(kurtosis=kurtosis)
    kw = dict(runs=10, seed=2, keep_runs=True, checkpoints=[0, 33, 1400])
    strict = simulate(problem, SCHEDULE, numerics=Numerics(backend="array_api_strict"), **kw)
    ref = simulate(problem, SCHEDULE, numerics=Numerics(backend="numpy"), **kw)
    np.testing.assert_allclose(strict.run_risk, ref.run_risk, rtol=1e-10)


@pytest.mark.gpu
def test_cupy_matches_exact():
    mc = simulate(PROBLEM, SCHEDULE, runs=4096, seed=1, numerics=Numerics(backend="cupy"), checkpoints=CHECKPOINTS)
    assert mc.backend == "cupy" and mc.runs_per_stream == 1024
    assert _agrees(mc, expected_risk(PROBLEM, SCHEDULE).at_samples(CHECKPOINTS))
    direct = simulate(PROBLEM, SCHEDULE, runs=1024, seed=1, numerics=Numerics(backend="cupy"), sampler="direct",
                      checkpoints=CHECKPOINTS)
    assert _agrees(direct, expected_risk(PROBLEM, SCHEDULE).at_samples(CHECKPOINTS))


def test_progress_bar(capsys):
    simulate(PROBLEM, SCHEDULE, runs=4, seed=0, numerics=Numerics(backend="numpy"), progress=True)
    assert "100%" in capsys.readouterr().err
    simulate(PROBLEM, SCHEDULE, runs=4, seed=0, numerics=Numerics(backend="numpy"), progress=False)
    simulate(PROBLEM, SCHEDULE, runs=4, seed=0, numerics=Numerics(backend="numpy"))  # default: silent when short
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(runs=0), ValueError, "runs must be ≥ 1; got 0"),
        (dict(runs=-3), ValueError, "runs"),
        (dict(runs=2.5), TypeError, "runs must be an integer; got 2.5"),
        (dict(sampler="exact"), ValueError, "sampler must be one of .* got 'exact'"),
        (dict(data="cauchy"), ValueError, "data must be one of .* got 'cauchy'"),
        (dict(numerics={"backend": "fortran"}), ValueError, "backend .* got 'fortran'"),
        (dict(sampler="gaussian-exact", data="rademacher"), ValueError, "kurtosis"),
        (dict(data="rademacher"), ValueError, "problem.replace\\(kurtosis=1.0\\)"),
        (dict(on_divergence="ignore"), ValueError, "on_divergence .* got 'ignore'"),
        (dict(checkpoints=[0, 5000]), ValueError, "checkpoints must lie in \\[0, 1400\\] samples; got 5000"),
        (dict(checkpoints=[]), ValueError, "checkpoints"),
        (dict(seed=-1), ValueError, "seed"),
        (dict(seed="abc"), ValueError, "seed"),
        (dict(numerics={"chunk_size": 0}), ValueError, "chunk_size"),
        (dict(numerics={"kernel": "fused"}), ValueError, "numerics.kernel applies to the exact solver"),
        (dict(numerics="numpy"), TypeError, "numerics must be a Numerics"),
        (dict(progress="yes"), TypeError, "progress"),
    ],
)
def test_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        simulate(PROBLEM, SCHEDULE, **{"runs": 2, "numerics": {"backend": "numpy"}, **kwargs})


def test_bad_normalization_names_itself():
    # The NSGD spec holds the denominator (docs/math.md#normalized-sgd) and checks it when built.
    with pytest.raises(ValueError, match="normalization .* got 'median'"):
        simulate(PROBLEM, SCHEDULE, NSGD("median"), runs=2, numerics=Numerics(backend="numpy"))


def test_bad_input_types_and_batches():
    with pytest.raises(ValueError, match="optimizer .* got 'adagrad'"):
        simulate(PROBLEM, SCHEDULE, "adagrad", runs=2)
    with pytest.raises(TypeError, match="problem must be a Problem"):
        simulate("p", SCHEDULE, runs=2)
    with pytest.raises(TypeError, match="schedule must be a Schedule"):
        simulate(PROBLEM, [0.1, 0.1], runs=2)
    real = Schedule([0.1, 0.1, 0.1], [2.0, 2.5, 3.0], integer_batch=False)
    with pytest.raises(ValueError, match="batch must be integer-valued for Monte Carlo; .* 2.5 at step 2 .*rounding=.floor."):
        simulate(PROBLEM, real, runs=2, numerics=Numerics(backend="numpy"))
    # Real-typed but whole batch sizes are fine.
    whole = Schedule([0.1, 0.1], [2.0, 3.0], integer_batch=False)
    assert simulate(PROBLEM, whole, runs=2, numerics=Numerics(backend="numpy")).samples.tolist() == [0.0, 2.0, 5.0]
    # gaussian-exact needs Gaussian data even when the problem says Rademacher.
    with pytest.raises(ValueError, match="gaussian-exact"):
        simulate(PROBLEM.replace(kurtosis=1.0), SCHEDULE, runs=2, sampler="gaussian-exact")
    with pytest.raises(ValueError, match="matches no data distribution"):
        simulate(PROBLEM.replace(kurtosis=2.5), SCHEDULE, runs=2)


# ----------------------------------------------------------------- hostile-input regressions
# Found by tests/test_hostile_inputs.py: each used to be accepted silently (a truthy value as a
# bool, a complex checkpoint cast to real) or to fail with an error that did not name the argument.
def _hostile_call(**kw):
    from ramplab.simulations.monte_carlo import simulate
    from ramplab.theory import Problem, Schedule

    p = Problem([1.0, 0.5], [1.0, 0.5], noise_variance=1e-3)
    return simulate(p, Schedule([0.5, 0.5, 0.25], [4, 4, 2]), **{"runs": 8, "numerics": {"backend": "numpy"}, **kw})


@pytest.mark.parametrize(("kw", "error", "match"), [
    ({"keep_runs": "yes"}, TypeError, "keep_runs must be True or False"),
    ({"progress": 0}, TypeError, "progress must be True, False or None"),
    ({"optimizer": np.array(["sgd", "nsgd"])}, ValueError, "optimizer must be one of"),
    ({"sampler": np.zeros(0)}, ValueError, "sampler must be one of"),
    ({"data": ["gaussian"]}, ValueError, "data must be one of"),  # was "unhashable type: 'list'"
    ({"numerics": {"backend": "numpy", "dtype": float("nan")}}, TypeError, "dtype must be float64 or float32"),
    ({"runs": 2**53 + 1}, ValueError, "runs must be ≤"),  # was a MemoryError
    ({"runs_per_stream": 2**53 + 1}, ValueError, "runs_per_stream must be ≤"),
    ({"checkpoints": np.array([1 + 0j])}, TypeError, "checkpoints must be an array of sample counts"),
])
def test_simulate_names_hostile_arguments(kw, error, match):
    with pytest.raises(error, match=match):
        _hostile_call(**kw)
