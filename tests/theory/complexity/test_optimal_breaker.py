"""Regressions found by the hostile review of issue 22 (optimal_schedule and stretched_schedule).

References: the stretch's invariants are exact arithmetic on the schedule (samples kept; η/B or η/√B kept per step);
the forced-batch budgets are compared with the same optimum computed with equal batch bounds (which the docstring
documents as the fixed-batch path); the rest are argument checks, each naming the argument.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ramplab.theory import HeavyBall, Problem, Schedule, optimal_schedule, serial_step_frontier, stretched_schedule

pytestmark = pytest.mark.filterwarnings("ignore::ramplab.theory.UnstableScheduleWarning")

P = Problem([1.0, 0.3], [1.0, 1.0], noise_variance=0.2)


@pytest.mark.parametrize("optimizer, power", [("sgd", 1.0), ("nsgd", 0.5), (HeavyBall(0.5, "nsgd"), 0.5)])
@pytest.mark.parametrize("steps", [3, 5, 7, 11, 13, 17])
def test_stretch_keeps_samples_when_the_steps_do_not_divide(optimizer, power, steps):
    # before: samples scaled by S'/S per stretched step, so 3 → 11 steps lost 7 % of the samples (164 → 152.7 at batches 4, 8, 32)
    base = Schedule.from_segments([0.3, 0.1, 0.05], [40.0, 80.0, 320.0], [1, 1, 1], integer_batch=False)
    s = stretched_schedule(base, steps, optimizer)
    assert s.serial_steps == steps
    assert float(s.total_samples) == pytest.approx(float(base.total_samples), rel=1e-14)
    lr, batch = s.step_arrays(0, steps)
    index = (np.arange(steps) * 3) // steps
    np.testing.assert_allclose(lr / batch**power, (base.lr / base.batch**power)[index], rtol=1e-14)


@pytest.mark.parametrize("bad", [-1.0, 0.0, math.nan, math.inf, "x", True])
def test_tolerance_is_checked_and_named(bad):
    # before: a negative or huge ftol stopped SLSQP at once and reported converged=True 2x above the optimum
    with pytest.raises((TypeError, ValueError), match="tolerance"):
        optimal_schedule(P, 64, 4, segments=2, tolerance=bad)


@pytest.mark.parametrize("bad", [[0.5, 2.7], [np.nan], "3", [True, False], [[1, 2], [3, 4]], [], [5]])
def test_checkpoints_must_be_integer_steps_in_range(bad):
    # before: [0.5, 2.7] was silently read as [0, 2], "3" as step 3, booleans as steps, a 2-D array flattened
    with pytest.raises((TypeError, ValueError), match="checkpoints"):
        optimal_schedule(P, 64, 4, segments=2, objective="mean_over_checkpoints", checkpoints=bad)


def test_checkpoints_may_come_unsorted_with_repeats():
    a = optimal_schedule(P, 64, 4, segments=2, objective="mean_over_checkpoints", checkpoints=[4, 2, 2, 0])
    b = optimal_schedule(P, 64, 4, segments=2, objective="mean_over_checkpoints", checkpoints=[0, 2, 4])
    assert a.continuous_objective == b.continuous_objective


def test_a_box_where_every_schedule_diverges_is_not_converged():
    # before: objective inf with converged=True ("Optimization terminated successfully")
    opt = optimal_schedule(P, 64, 16, segments=4, lr_bounds=(50.0, 100.0))
    assert math.isinf(opt.continuous_objective) and not opt.converged


@pytest.mark.parametrize("samples, steps, segments, bounds", [(64, 64, 64, None), (64, 16, 16, (4, 64)),
                                                              (64, 4, 4, (1, 16)), (275, 104, 1, None)])
def test_a_budget_that_fixes_the_batch_optimises_the_rates_alone(samples, steps, segments, bounds):
    # before: at S = N/B_min with one segment per step SLSQP hit its iteration limit (converged=False, 12 s)
    p = Problem.power_law(24, a=1.5, b=1.0, noise_variance=0.5)
    box = (1e-4, 1.5)
    opt = optimal_schedule(p, samples, steps, segments=segments, batch_bounds=bounds, lr_bounds=box,
                           integer_batch=False)
    assert opt.converged
    batch = samples / steps
    np.testing.assert_allclose(opt.batch, batch, rtol=1e-12)
    ref = optimal_schedule(p, samples, steps, segments=segments, batch_bounds=(batch, batch), lr_bounds=box,
                           integer_batch=False)
    assert opt.continuous_objective == pytest.approx(ref.continuous_objective, rel=1e-9)


@pytest.mark.parametrize("optimizer, match", [("adamw", "optimizer must be one of"), ("adam", "no exact solver"),
                                              ("signsgd", "no exact solver"), (None, "optimizer must be one of")])
def test_an_unsupported_optimizer_is_named_not_lr_bounds(optimizer, match):
    # breaker finding 9: these were reported as "lr_bounds must be given"
    with pytest.raises(ValueError, match=match) as info:
        optimal_schedule(Problem([1.0, 0.3], [1.0, 1.0], noise_variance=0.2), 64, 4, optimizer=optimizer)
    assert "lr_bounds" not in str(info.value)


def test_weight_decay_is_refused_naming_it():
    from ramplab.theory import SGD

    with pytest.raises(ValueError, match="weight_decay"):
        optimal_schedule(Problem([1.0, 0.3], [1.0, 1.0], noise_variance=0.2), 64, 4, optimizer=SGD(weight_decay=0.1))


def test_a_frontier_executor_without_map_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="executor"):
        serial_step_frontier(Problem([1.0, 0.3], [1.0, 1.0], noise_variance=0.2), 64, [2, 4], executor="pool")


def test_a_trial_point_whose_adjoint_overflows_is_a_diverged_point_not_an_error():
    # breaker finding 8: the default start of this problem overflows the adjoint; the search must step around it
    r = optimal_schedule(Problem([1e150, 1.0], [1.0, 1.0], noise_variance=0.2), 64, 8, segments=4)
    assert np.isfinite(r.objective)


def test_a_start_with_a_zero_rate_warns_nothing(recwarn):
    # breaker finding 14: log(0) of the start's segment mean raised a RuntimeWarning; the rate goes to the lower bound
    p = Problem([1.0, 0.3], [1.0, 1.0], noise_variance=0.2)
    r = optimal_schedule(p, 64, 4, segments=2, start=Schedule([0.0, 0.0, 0.3, 0.3], [16, 16, 16, 16]))
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    assert np.isfinite(r.objective)
