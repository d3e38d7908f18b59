"""Optimal schedules at exact budgets and the serial-step frontier (issue 22 items 2, 3;
docs/math.md#optimal-schedules, docs/math.md#greedy-one-dimension).

Reference values: the d = 1 greedy schedule (derived and checked in proofs/greedy.py), the one-step optimum in
closed form (a quadratic in η, docs/math.md#serial-step-frontier), and schedules evaluated by expected_risk."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramplab.proofs import greedy_learning_rates
from ramplab.theory import (
    Problem,
    Schedule,
    expected_risk,
    named_schedules,
    optimal_schedule,
    serial_step_frontier,
)

# The grids and named schedules below include rates past the stability edge on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::ramplab.theory.UnstableScheduleWarning")


def one_step_risk(p: Problem, samples: float) -> float:
    """min over η of the risk after one step of batch N: ½[q − (Σλ²s)² / (Σλ³s(1 + (κ−2)/N) + Σλ²(q+σ²)/N)]."""
    lam, s = p.eigenvalues, p.initial_second_moment
    q = float(np.sum(lam * s))
    g = float(np.sum(lam**2 * s))
    curv = float(np.sum(lam**3 * s)) * (1 + (p.kurtosis - 2) / samples) + float(np.sum(lam**2)) * (q + p.noise_variance) / samples
    return 0.5 * (q - g * g / curv)


@pytest.mark.parametrize("lam, s0, sigma2, batch, kappa, steps", [
    (1.3, 2.0, 0.7, 2.0, 3.0, 12),
    (0.4, 5.0, 0.1, 1.0, 1.0, 10),
])
def test_one_segment_per_step_reproduces_the_greedy_d1_schedule(lam, s0, sigma2, batch, kappa, steps):
    p = Problem([lam], [s0], noise_variance=sigma2, kurtosis=kappa)
    lr, final = greedy_learning_rates(lam, s0, sigma2, [batch] * steps, kappa)
    greedy = 0.5 * lam * final
    opt = optimal_schedule(p, batch * steps, steps, segments=steps, batch_bounds=(batch, batch),
                           integer_batch=False, lr_bounds=(1e-4, 2.0 / lam))
    assert opt.converged, opt.message
    assert abs(opt.objective - greedy) <= 1e-6 * greedy
    np.testing.assert_allclose(opt.lr, lr, rtol=1e-3)
    # a non-greedy schedule (the greedy one, perturbed) is worse: the comparison can fail
    worse = expected_risk(p, Schedule.from_segments(lr * 1.05, [batch] * steps, [1] * steps, integer_batch=False))
    assert worse.risk[-1] > greedy * (1 + 1e-6)


def test_budgets_are_exact_and_rounding_is_reported():
    p = Problem.power_law(6, a=1.5, b=1.0, noise_variance=0.3)
    opt = optimal_schedule(p, 200, 24, segments=4)
    assert opt.converged, opt.message
    assert opt.schedule.total_samples == 200 and opt.schedule.serial_steps == 24
    assert np.all(opt.schedule.segments.batch == np.round(opt.schedule.segments.batch))
    assert opt.steps.tolist() == [6, 6, 6, 6]
    assert abs(float(np.dot(opt.steps, opt.batch)) - 200) < 1e-9 * 200
    # every rounded batch is within one sample of its segment's continuous batch
    lr_int, b_int = opt.schedule.step_arrays(0, 24)
    assert np.all(np.abs(b_int - np.repeat(opt.batch, opt.steps)) < 1.0)
    # the reported objectives are those of the two schedules
    assert opt.objective == pytest.approx(expected_risk(p, opt.schedule).risk[-1], rel=1e-12)
    assert opt.continuous_objective == pytest.approx(expected_risk(p, opt.continuous_schedule).risk[-1], rel=1e-12)


def test_averaged_and_checkpoint_objectives():
    p = Problem.power_law(4, a=1.5, b=1.0, noise_variance=0.3)
    avg = optimal_schedule(p, 96, 12, segments=3, objective="averaged")
    traj = expected_risk(p, avg.continuous_schedule, average="uniform")
    assert avg.continuous_objective == pytest.approx(traj.averaged_risk[-1], rel=1e-12)
    cp = optimal_schedule(p, 96, 12, segments=3, objective="mean_over_checkpoints", checkpoints=[4, 8, 12])
    traj = expected_risk(p, cp.continuous_schedule)
    assert cp.continuous_objective == pytest.approx(np.mean(traj.risk[[4, 8, 12]]), rel=1e-12)
    final = optimal_schedule(p, 96, 12, segments=3)
    # each optimum beats the others on its own objective
    assert expected_risk(p, final.continuous_schedule).risk[-1] <= traj.risk[-1] * (1 + 1e-9)


def test_frontier_end_points_are_the_closed_forms():
    lam, s0, sigma2, steps = 1.0, 1.5, 0.5, 8
    p = Problem([lam], [s0], noise_variance=sigma2)
    front = serial_step_frontier(p, steps, [1, steps], segments=steps, lr_bounds=(1e-4, 1.9),
                                 integer_batch=False)
    # one step of batch N: the quadratic's minimum
    assert front.objective[0] == pytest.approx(one_step_risk(p, steps), rel=1e-8)
    # N = S · B_min steps: the batch is forced to 1, and the best per-step rates are the greedy ones
    _, final = greedy_learning_rates(lam, s0, sigma2, [1.0] * steps)
    assert front.objective[-1] == pytest.approx(0.5 * lam * final, rel=1e-6)


def test_frontier_is_monotone():
    p = Problem.power_law(6, a=1.5, b=1.0, noise_variance=0.3)
    front = serial_step_frontier(p, 256, [2, 4, 8, 16, 32, 64], segments=4)
    assert all(r.converged for r in front.results)
    assert np.all(np.diff(front.objective) <= 1e-9 * front.objective[:-1]), front.objective


@settings(max_examples=3)
@given(d=st.integers(1, 3), seed=st.integers(0, 2**16), batch=st.sampled_from([2.0, 4.0]))
def test_the_optimum_beats_every_named_schedule_and_the_best_constant(d, seed, batch):
    rng = np.random.default_rng(seed)
    p = Problem(np.sort(rng.uniform(0.05, 1.0, d))[::-1], rng.uniform(0.2, 2.0, d),
                noise_variance=float(rng.uniform(0.05, 1.0)))
    samples = 12 * batch
    named = named_schedules(samples, batch, 0.3 / float(p.eigenvalues[0]))
    risks = dict(zip(named, (t.risk[-1] for t in expected_risk(p, list(named.values()), on_divergence="flag"))))
    best_at: dict[int, float] = {}
    for label, sched in named.items():
        steps = sched.serial_steps
        if steps not in best_at:
            opt = optimal_schedule(p, samples, steps, segments=steps, integer_batch=False)
            best_at[steps] = opt.objective
        assert best_at[steps] <= risks[label] * (1 + 1e-9), (label, steps)
    # the best constant schedule on a fine grid of rates, at the constant batch's serial steps
    lrs = np.geomspace(1e-3, 1.9, 400) / float(p.eigenvalues[0])
    consts = [Schedule.from_segments([lr], [batch], [12], integer_batch=False) for lr in lrs]
    const_best = min(t.risk[-1] for t in expected_risk(p, consts, on_divergence="flag"))
    assert best_at[12] <= const_best * (1 + 1e-9)


@pytest.mark.parametrize("kwargs, match", [
    ({"samples": 10, "serial_steps": 20}, "serial_steps · batch_bounds\\[0\\]"),
    ({"samples": 100, "serial_steps": 2, "batch_bounds": (1, 10)}, "batch_bounds\\[1\\]"),
    ({"samples": 100, "serial_steps": 10, "batch_bounds": (3, 3)}, "fixed batch"),
    ({"samples": 100, "serial_steps": 10, "objective": "best"}, "objective"),
    ({"samples": 100, "serial_steps": 10, "objective": "mean_over_checkpoints"}, "checkpoints"),
    ({"samples": 100.5, "serial_steps": 10}, "samples must be an integer"),
    ({"samples": 100, "serial_steps": 0}, "serial_steps"),
    ({"samples": 100, "serial_steps": 10, "lr_bounds": (1.0, 0.5)}, "lr_bounds"),
])
def test_infeasible_budgets_name_the_argument(kwargs, match):
    p = Problem([1.0, 0.5], [1.0, 1.0], noise_variance=0.1)
    with pytest.raises(ValueError, match=match):
        optimal_schedule(p, **kwargs)


def test_named_schedules_share_the_samples():
    named = named_schedules(4096, 8, 0.1)
    assert {"constant", "step decay", "cosine", "WSD", "Seesaw f=2", "αβ=2 p=1", "α√β=2 p=1", "δ=γ² growth",
            "linear scaling"} <= set(named)
    for sched in named.values():
        assert sched.total_samples == pytest.approx(4096, rel=1e-12)
    assert named["Seesaw f=2"].serial_steps < named["cosine"].serial_steps == 512


def test_nsgd_default_rate_bound_does_not_pin_the_optimum():
    # NSGD with the expected denominator is SGD at the rate η/sqrt(G_t): its optimum reaches about SGD's. With
    # max_stable_lr's NSGD bound (valid at every state, far too tight) as the default, every rate sat at that
    # bound and the risk was 25× SGD's.
    p = Problem.power_law(16, a=1.5, b=1.0, noise_variance=0.5)
    sgd = optimal_schedule(p, 1024, 64, segments=8)
    nsgd = optimal_schedule(p, 1024, 64, optimizer="nsgd", segments=8)
    assert nsgd.converged and nsgd.continuous_objective <= 1.1 * sgd.continuous_objective
    assert np.ptp(np.log(nsgd.lr)) > 1.0  # the rates decay; they are not all at one bound
