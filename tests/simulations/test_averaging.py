"""Iterate averaging in the Monte Carlo (``simulate(..., average=...)``).

References:

- the exact solver's ``expected_risk(..., average=...).averaged_risk`` (docs/math.md#iterate-averaging,
  an independent three-moment recursion) for the random cases: agreement within 4 standard errors
  at sample checkpoints, fixed seeds; each case also checks that the SE is small (relative bound)
  and that the exact curve of a nearby wrong average (other start / weight) is many SE away;
- closed forms written directly from the definitions (plain means of iterates, the explicit EMA
  sum) on a deterministic walk, for the averaging update itself;
- bitwise identities: a weight of 1 makes the average the last iterate, and averaging uses no
  random numbers, so everything else in the result is unchanged.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

from ramplab.simulations import NSGD, SGD, SimulationDivergenceError, simulate
from ramplab.simulations.configuration import configure_simulation, simulated_problem
from ramplab.simulations.recording import ChunkRecorder, CurveStatistics, record_plan
from ramplab.simulations.updates import averaged_update, iterate_update
from ramplab.theory import Numerics, Problem, Schedule, expected_risk
from ramplab.theory.dynamics import Averaging, ExponentialAverage, TailAverage, UniformAverage

PROBLEM = Problem.power_law(8, a=1.5, b=1.0, noise_variance=0.5)
SCHEDULE = Schedule.from_phases([(0.4, 2, 240), (0.2, 4, 480)], label="two phases")  # 240 steps
CHECKPOINTS = [0, 60, 241, 400, 560, 720]
SCHEDULED_WEIGHT = np.linspace(0.3, 0.03, len(SCHEDULE))

# (average, a nearby wrong average whose exact curve the simulation must reject)
AVERAGES = {
    "uniform": ("uniform", TailAverage(100)),
    "tail": (TailAverage(120), TailAverage(100)),
    "ema": (ExponentialAverage(0.05), ExponentialAverage(0.07)),
    "ema-scheduled": (ExponentialAverage(SCHEDULED_WEIGHT), ExponentialAverage(0.6 * SCHEDULED_WEIGHT)),
}


def _check_against_exact(mc, problem, schedule, optimizer, average, wrong, checkpoints, *, rel=0.05):
    exact = expected_risk(problem, schedule, optimizer, average=average).at_samples(checkpoints, averaged=True)
    # All runs share the initial value: allow for rounding where the SE is zero.
    allowance = 1e-12 * np.abs(exact)
    assert np.all(np.abs(mc.mean_averaged_risk - exact) <= 4 * mc.averaged_stderr + allowance)
    # Power: small relative SE after the first checkpoint, and the wrong average's curve is far.
    assert np.all(mc.averaged_stderr[1:] < rel * exact[1:])
    wrong_curve = expected_risk(problem, schedule, optimizer, average=wrong).at_samples(checkpoints, averaged=True)
    assert np.max(np.abs(mc.z_score(wrong_curve, averaged=True))) > 6


@pytest.mark.parametrize("optimizer", ["sgd", "nsgd"])
@pytest.mark.parametrize("name", list(AVERAGES))
def test_averaged_risk_matches_exact(optimizer, name):
    # SGD with the gaussian-exact sampler; NSGD with the expected denominator (the solver's rates).
    average, wrong = AVERAGES[name]
    mc = simulate(PROBLEM, SCHEDULE, optimizer, runs=1024, seed=11, numerics=Numerics(backend="numpy"),
                  checkpoints=CHECKPOINTS, average=average)
    assert mc.sampler == "gaussian-exact"
    assert mc.mean_averaged_risk.shape == mc.averaged_stderr.shape == (len(CHECKPOINTS),)
    _check_against_exact(mc, PROBLEM, SCHEDULE, optimizer, average, wrong, CHECKPOINTS)
    # The iterate's own curve is still the exact risk.
    exact = expected_risk(PROBLEM, SCHEDULE, optimizer).at_samples(CHECKPOINTS)
    assert np.all(np.abs(mc.mean_risk - exact) <= 4 * mc.stderr + 1e-12 * exact)


@pytest.mark.slow
@pytest.mark.parametrize("sampler", ["gaussian-exact", "direct"])
@pytest.mark.parametrize("name", list(AVERAGES))
def test_averaged_risk_matches_exact_every_step_slow(sampler, name):
    average, wrong = AVERAGES[name]
    mc = simulate(PROBLEM, SCHEDULE, runs=8192, seed=12, numerics=Numerics(backend="numpy"), sampler=sampler,
                  average=average)
    exact = expected_risk(PROBLEM, SCHEDULE, average=average)
    # 241 correlated points: the maximum of many z-scores, a 4.5-SE band.
    assert np.max(np.abs(mc.z_score(exact.averaged_risk, averaged=True))[1:]) < 4.5
    assert np.all(mc.averaged_stderr[1:] < 0.02 * exact.averaged_risk[1:])
    wrong_curve = expected_risk(PROBLEM, SCHEDULE, average=wrong).averaged_risk
    assert np.max(np.abs(mc.z_score(wrong_curve, averaged=True))) > 10


@pytest.mark.gpu
def test_cupy_averaging_matches_exact():
    for optimizer, name in [("sgd", "tail"), ("sgd", "ema-scheduled"), ("nsgd", "uniform")]:
        average, wrong = AVERAGES[name]
        mc = simulate(PROBLEM, SCHEDULE, optimizer, runs=4096, seed=1, numerics=Numerics(backend="cupy"),
                      checkpoints=CHECKPOINTS,
                      average=average)
        assert mc.backend == "cupy" and mc.runs_per_stream == 1024
        _check_against_exact(mc, PROBLEM, SCHEDULE, optimizer, average, wrong, CHECKPOINTS, rel=0.03)
    # On the device too the averaged iterate draws nothing: the iterate's runs are bitwise unchanged.
    kw = dict(runs=2048, seed=3, numerics=Numerics(backend="cupy"), keep_runs=True, checkpoints=CHECKPOINTS)
    plain = simulate(PROBLEM, SCHEDULE, **kw)
    avg = simulate(PROBLEM, SCHEDULE, average=ExponentialAverage(SCHEDULED_WEIGHT), **kw)
    np.testing.assert_array_equal(avg.run_risk, plain.run_risk)
    f32 = simulate(PROBLEM, SCHEDULE, runs=4096, seed=2, numerics=Numerics(backend="cupy", dtype=np.float32),
                   checkpoints=CHECKPOINTS,
                   average="uniform")
    exact = expected_risk(PROBLEM, SCHEDULE, average="uniform").at_samples(CHECKPOINTS, averaged=True)
    assert np.all(np.abs(f32.mean_averaged_risk - exact) <= 4 * f32.averaged_stderr + 1e-6 * exact)


def test_averaging_does_not_change_the_other_outputs():
    # The averaged iterate draws no random numbers: runs, means and SEs of the iterate are bitwise
    # those of the simulation without averaging, for every sampler and update rule.
    for optimizer, sampler in [(SGD(), "gaussian-exact"), (SGD(), "direct"), (NSGD("conditional"), "gaussian-exact")]:
        kw = dict(runs=70, seed=5, numerics=Numerics(backend="numpy"), sampler=sampler, keep_runs=True,
                  checkpoints=[0, 33, 500, 720])
        plain = simulate(PROBLEM, SCHEDULE, optimizer, **kw)
        avg = simulate(PROBLEM, SCHEDULE, optimizer, average=TailAverage(50), **kw)
        assert plain.mean_averaged_risk is None and plain.averaged_stderr is None and plain.average is None
        assert plain.run_averaged_risk is None
        for field in ("mean_risk", "stderr", "run_risk", "steps", "samples"):
            np.testing.assert_array_equal(getattr(avg, field), getattr(plain, field))
        assert avg.average == TailAverage(50) and avg.run_averaged_risk.shape == (70, 4)
        # Averaging reduces the spread late in training (sanity, not a reference).
        assert avg.averaged_stderr[-1] < avg.stderr[-1]


def test_averaging_walk_matches_closed_forms():
    # d = 1, σ = 0, conditional NSGD: the iterate walks deterministically (see test_simulate):
    # e = 1, 0.7, 0.4, 0.1, −0.2, 0.1, −0.2, 0.1, −0.2 and the risk ½ λ e² with λ = 2 is e².
    problem = Problem([2.0], [1.0], noise_variance=0.0)
    schedule = Schedule.constant(0.3, 3, steps=8)
    walk = np.array([1.0, 0.7, 0.4, 0.1, -0.2, 0.1, -0.2, 0.1, -0.2])
    t = np.arange(1, 9)
    rho = 0.3
    scheduled = np.linspace(0.9, 0.2, 8)
    closed = [
        # mean of e_1 … e_t
        (UniformAverage(), np.concatenate([[walk[0]], [walk[1 : k + 1].mean() for k in t]])),
        # last iterate before step 4, then the mean of e_4 … e_t
        (TailAverage(4), np.concatenate([walk[:4], [walk[4 : k + 1].mean() for k in t[3:]]])),
        # (1 − ρ)^t e_0 + Σ_j ρ (1 − ρ)^{t − j} e_j
        (ExponentialAverage(rho), np.array(
            [(1 - rho) ** k * walk[0] + sum(rho * (1 - rho) ** (k - j) * walk[j] for j in range(1, k + 1))
             for k in range(9)]
        )),
        # Σ_j ρ_j Π_{i>j} (1 − ρ_i) e_j, with ρ_0 = 1 standing for the start ē_0 = e_0
        (ExponentialAverage(scheduled), np.array(
            [sum(r * np.prod(1 - scheduled[j:k]) * walk[j]
                 for j, r in enumerate(np.concatenate([[1.0], scheduled[:k]]))) for k in range(9)]
        )),
    ]
    for average, e_bar in closed:
        mc = simulate(problem, schedule, NSGD("conditional"), runs=3, seed=0,
                      numerics=Numerics(backend="numpy"), average=average, keep_runs=True)
        np.testing.assert_allclose(mc.mean_averaged_risk, e_bar**2, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(mc.run_averaged_risk, np.broadcast_to(e_bar**2, (3, 9)), rtol=1e-12,
                                   atol=1e-15)
        assert np.all(mc.averaged_stderr[1:] < 1e-12)  # every run walks the same way
        np.testing.assert_allclose(mc.mean_risk, walk**2, rtol=1e-12, atol=1e-15)


def test_unit_weight_makes_the_average_the_last_iterate():
    kw = dict(runs=20, seed=3, numerics=Numerics(backend="numpy"), keep_runs=True)
    ema1 = simulate(PROBLEM, SCHEDULE, average=ExponentialAverage(1.0), **kw)
    np.testing.assert_array_equal(ema1.run_averaged_risk, ema1.run_risk)
    # A tail average is the last iterate before its start and differs from it after.
    tail = simulate(PROBLEM, SCHEDULE, average=TailAverage(100), **kw)
    np.testing.assert_array_equal(tail.run_averaged_risk[:, :100], tail.run_risk[:, :100])
    assert np.all(tail.run_averaged_risk[:, 101:] != tail.run_risk[:, 101:])
    # The initial point is w̄_0 = w_0 for every average.
    uni = simulate(PROBLEM, SCHEDULE, average="uniform", **kw)
    np.testing.assert_array_equal(uni.run_averaged_risk[:, :2], uni.run_risk[:, :2])  # ρ_1 = 1


def test_averaged_checkpoints_interpolate_runs():
    kw = dict(runs=70, seed=6, numerics=Numerics(backend="numpy"), keep_runs=True, average=ExponentialAverage(0.1))
    full = simulate(PROBLEM, SCHEDULE, **kw)
    grid = [0, 1, 3, 241, 719, 720]
    ck = simulate(PROBLEM, SCHEDULE, checkpoints=grid, **kw)
    for j, c in enumerate(grid):
        expect = np.array([np.interp(c, full.samples, r) for r in full.run_averaged_risk])
        np.testing.assert_allclose(ck.run_averaged_risk[:, j], expect, rtol=1e-13)
    np.testing.assert_allclose(ck.mean_averaged_risk, ck.run_averaged_risk.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(ck.averaged_stderr[1:], ck.run_averaged_risk[:, 1:].std(axis=0, ddof=1) / np.sqrt(70),
                               rtol=1e-9)


def test_averaging_in_chunks_and_runs_extend():
    # Longer than one 256-step block, several chunks of runs: the same runs whatever the chunking.
    schedule = Schedule.constant(0.3, 2, steps=300)
    kw = dict(seed=7, numerics=Numerics(backend="numpy"), keep_runs=True, average="uniform", checkpoints=[0, 513, 600])
    a = simulate(PROBLEM, schedule, runs=70, **kw)
    b = simulate(PROBLEM, schedule, runs=140, **{**kw, "numerics": Numerics("numpy", chunk_size=64)})
    np.testing.assert_array_equal(b.run_averaged_risk[:70], a.run_averaged_risk)
    np.testing.assert_allclose(b.mean_averaged_risk, b.run_averaged_risk.mean(axis=0), rtol=1e-12)


class _RecordingAverage(Averaging):
    """A user-defined average (ρ_t = 1/t) that records how many weights each call asks for."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def weights(self, steps):
        steps = np.asarray(steps)
        self.calls.append(steps.size)
        return 1.0 / steps.astype(np.float64)


def test_weights_are_read_in_blocks_and_custom_averages_work():
    schedule = Schedule.constant(0.3, 2, steps=300)
    recorder = _RecordingAverage()
    mc = simulate(PROBLEM, schedule, runs=4, seed=1, numerics=Numerics(backend="numpy"), average=recorder)
    assert max(recorder.calls) <= 256 and sum(recorder.calls) >= 300
    uni = simulate(PROBLEM, schedule, runs=4, seed=1, numerics=Numerics(backend="numpy"), average="uniform")
    np.testing.assert_array_equal(mc.mean_averaged_risk, uni.mean_averaged_risk)


def test_float32_and_array_api_strict_averaging():
    short = Schedule.constant(0.3, 2, steps=40)
    strict_kw = dict(runs=8, seed=2, keep_runs=True, average=TailAverage(10))
    strict = simulate(PROBLEM, short, numerics=Numerics(backend="array_api_strict"), **strict_kw)
    ref = simulate(PROBLEM, short, numerics=Numerics(backend="numpy"), **strict_kw)
    np.testing.assert_allclose(strict.run_averaged_risk, ref.run_averaged_risk, rtol=1e-10)
    kw = dict(seed=2, keep_runs=True, checkpoints=[0, 33, 720], average=TailAverage(30))
    f32 = simulate(PROBLEM, SCHEDULE, runs=256, numerics=Numerics(backend="numpy", dtype=np.float32), **kw)
    assert f32.run_averaged_risk.dtype == np.float64 and np.isfinite(f32.mean_averaged_risk).all()
    # float32 draws are other numbers: compare to the exact curve, with a float32 rounding allowance.
    exact = expected_risk(PROBLEM, SCHEDULE, average=TailAverage(30)).at_samples([0, 33, 720], averaged=True)
    assert np.all(np.abs(f32.mean_averaged_risk - exact) <= 4 * f32.averaged_stderr + 1e-6 * exact)


def test_averaged_divergence():
    schedule = Schedule.constant(5.0, 1, steps=400, label="too hot")
    with pytest.raises(SimulationDivergenceError, match="too hot"):
        simulate(PROBLEM, schedule, runs=8, seed=0, numerics=Numerics(backend="numpy"), average="uniform")
    plain = simulate(PROBLEM, schedule, runs=8, seed=0, numerics=Numerics(backend="numpy"), on_divergence="flag")
    mc = simulate(PROBLEM, schedule, runs=8, seed=0, numerics=Numerics(backend="numpy"), on_divergence="flag",
                  keep_runs=True,
                  average="uniform")
    k = mc.diverged_at
    # The average of finite iterates is finite up to rounding, so it diverges no later than they do.
    assert k is not None and k <= plain.diverged_at and mc.diverged_runs >= plain.diverged_runs >= 1
    assert np.isfinite(mc.mean_averaged_risk[:k]).all()
    assert np.all(mc.mean_averaged_risk[k:] == np.inf) and np.all(mc.averaged_stderr[k:] == np.inf)
    assert np.all(mc.mean_risk[k:] == np.inf)
    assert not np.isnan(mc.run_averaged_risk).any() and not np.isnan(mc.averaged_stderr).any()


@pytest.mark.parametrize(
    ("average", "error", "match"),
    [
        ("polyak", ValueError, "average must be None, 'uniform' or an Averaging"),
        (3, TypeError, "average must be None, 'uniform' or an Averaging; got int"),
        (ExponentialAverage(np.full(10, 0.1)), ValueError, "average: weight has 10 entries but step 240"),
    ],
)
def test_bad_average(average, error, match):
    with pytest.raises(error, match=match):
        simulate(PROBLEM, SCHEDULE, runs=2, numerics=Numerics(backend="numpy"), average=average)


def test_z_score_averaged_needs_averaging():
    mc = simulate(PROBLEM, SCHEDULE, runs=2, numerics=Numerics(backend="numpy"))
    with pytest.raises(ValueError, match="average="):
        mc.z_score(np.zeros(mc.steps.size), averaged=True)


# ------------------------------------------------------------------------------- building blocks

def test_update_functions_are_the_formulas():
    rng = np.random.default_rng(0)
    e, g, e_bar = rng.normal(size=(3, 5, 4))
    np.testing.assert_array_equal(iterate_update(np, e, g, 0.25, False), e - 0.25 * g)
    norms = np.linalg.norm(g, axis=1, keepdims=True)
    np.testing.assert_allclose(iterate_update(np, e, g, 0.25, True), e - 0.25 * g / norms, rtol=1e-14)
    np.testing.assert_array_equal(iterate_update(np, e, np.zeros_like(g), 0.25, True), e)
    np.testing.assert_allclose(averaged_update(e_bar, e, 0.2), 0.8 * e_bar + 0.2 * e, rtol=1e-15)
    np.testing.assert_array_equal(averaged_update(e_bar, e, 1.0), e)


def _config(**overrides):
    kw = dict(runs=3, seed=0, numerics=Numerics(backend="numpy"), sampler="auto", data=None,
              checkpoints=None, keep_runs=False, on_divergence="raise", progress=False, runs_per_stream=None,
              average=None)
    kw.update(overrides)
    return configure_simulation(PROBLEM, SCHEDULE, kw.pop("optimizer", "sgd"), **kw)


def test_step_blocks_are_the_schedule_and_the_weights():
    config = _config(average=TailAverage(3))
    block = config.step_block(0, 5)
    assert block.rates == SCHEDULE.lr[:5].tolist() and block.batches == [2] * 5
    assert block.weights == [1.0, 1.0, 1.0, 0.5, 1 / 3]
    late = config.step_block(238, 240)
    assert late.batches == [4, 4] and late.weights == [1 / 237, 1 / 238]  # steps 239, 240: 1/(t − 3 + 1)
    assert _config().step_block(0, 2).weights is None
    # NSGD with the expected denominator applies the exact solver's rates.
    nsgd = _config(optimizer="nsgd")
    np.testing.assert_array_equal(nsgd.rates, expected_risk(PROBLEM, SCHEDULE, "nsgd").effective_lr)


def test_recorder_masks_from_the_first_non_finite_step():
    # Two runs, two curves over steps 0..3; run 1's second curve stops being finite at step 2.
    plan = record_plan(Schedule.constant(0.1, 1, steps=3))
    curves = [CurveStatistics(2, plan.points, keep_runs=True) for _ in range(2)]
    rec = ChunkRecorder(np, plan, curves, 0, 2, np.float64)
    for t in range(4):
        rec.observe(t, np.array([t, 10.0 + t]), np.array([t, np.inf if t == 2 else 20.0 + t]))
    bad = rec.bad_steps()
    assert bad.tolist() == [np.inf, 2.0]
    rec.flush(bad)
    rec.finish(bad, None)
    np.testing.assert_array_equal(curves[0].run_values, [[0, 1, 2, 3], [10, 11, np.inf, np.inf]])
    np.testing.assert_array_equal(curves[1].run_values, [[0, 1, 2, 3], [20, 21, np.inf, np.inf]])
    mean, stderr, _ = curves[0].result()
    assert mean[:2].tolist() == [5.0, 6.0] and np.all(mean[2:] == np.inf) and np.all(stderr[2:] == np.inf)


class _BadAverage(Averaging):
    def weights(self, steps):
        steps = np.asarray(steps)
        return np.where(steps == 300, 0.0, 0.5)


def test_custom_average_weights_are_checked():
    with pytest.raises(ValueError, match="average must give weights in \\(0, 1\\]; got 0.0 at step 300"):
        simulate(PROBLEM, Schedule.constant(0.3, 2, steps=400), runs=2, numerics=Numerics(backend="numpy"),
                 average=_BadAverage())


# ------------------------------------------------------------------------------- multiplicity

def _with_multiplicity(problem: Problem, multiplicity) -> Problem:
    """A copy of ``problem`` carrying a ``multiplicity`` attribute, whether or not Problem has one."""
    fake = copy.copy(problem)
    object.__setattr__(fake, "multiplicity", np.asarray(multiplicity))
    return fake


def test_integer_multiplicity_is_expanded():
    base = Problem([1.0, 0.5, 0.25], [1.0, 0.5, 2.0], noise_variance=0.3)
    expanded = Problem([1.0, 1.0, 0.5, 0.25, 0.25, 0.25], [1.0, 1.0, 0.5, 2.0, 2.0, 2.0], noise_variance=0.3)
    fake = _with_multiplicity(base, [2, 1, 3])
    np.testing.assert_array_equal(simulated_problem(fake).eigenvalues, expanded.eigenvalues)
    schedule = Schedule.constant(0.2, 2, steps=30)
    kw = dict(runs=20, seed=4, numerics=Numerics(backend="numpy"), keep_runs=True, average="uniform")
    for optimizer in ("sgd", "nsgd"):
        a = simulate(fake, schedule, optimizer, **kw)
        b = simulate(expanded, schedule, optimizer, **kw)
        assert a.problem is fake
        np.testing.assert_array_equal(a.run_risk, b.run_risk)
        np.testing.assert_array_equal(a.run_averaged_risk, b.run_averaged_risk)
    # Unit multiplicities change nothing at all.
    unit = simulate(_with_multiplicity(base, [1, 1, 1]), schedule, **kw)
    np.testing.assert_array_equal(unit.run_risk, simulate(base, schedule, **kw).run_risk)


@pytest.mark.parametrize(("multiplicity", "match"), [([1.5, 1, 1], "positive integers.*1.5 at index 0"),
                                                     ([1, 0, 1], "positive integers.*0.0 at index 1"),
                                                     ([1, 2], "one count per coordinate \\(3\\); got 2")])
def test_bad_multiplicity(multiplicity, match):
    fake = _with_multiplicity(Problem([1.0, 0.5, 0.25], [1.0, 0.5, 2.0]), multiplicity)
    with pytest.raises(ValueError, match="problem.multiplicity"):
        simulate(fake, Schedule.constant(0.2, 2, steps=5), runs=2, numerics=Numerics(backend="numpy"))
    with pytest.raises(ValueError, match=match):
        simulated_problem(fake)


@pytest.mark.skipif("multiplicity" not in {f.name for f in dataclasses.fields(Problem)},
                    reason="Problem has no multiplicity field yet")
def test_multiplicity_matches_exact_solver():
    problem = dataclasses.replace(Problem([1.0, 0.5, 0.25], [1.0, 0.5, 2.0], noise_variance=0.3),
                                  multiplicity=np.array([2.0, 1.0, 3.0]))
    schedule = Schedule.constant(0.2, 2, steps=60)
    grid = [0, 40, 80, 120]
    mc = simulate(problem, schedule, runs=2000, seed=9, numerics=Numerics(backend="numpy"), checkpoints=grid,
                  average="uniform")
    exact = expected_risk(problem, schedule, average="uniform")
    risk, averaged = exact.at_samples(grid), exact.at_samples(grid, averaged=True)
    assert np.all(np.abs(mc.mean_risk - risk) <= 4 * mc.stderr + 1e-12 * risk)
    assert np.all(np.abs(mc.mean_averaged_risk - averaged) <= 4 * mc.averaged_stderr + 1e-12 * averaged)
