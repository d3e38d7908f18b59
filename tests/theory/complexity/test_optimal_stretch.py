"""stretched_schedule and the frontier's second search from a smaller budget's stretched optimum
(docs/math.md#serial-step-frontier).

References: the stretch's invariants are exact arithmetic on the schedule (same samples; η/B kept for SGD, η/√B for
NSGD); the restarted budget's objective is recomputed here by an independent call of optimal_schedule started from
the stretched schedule, and the frontier must keep the better of the two searches.
"""

from __future__ import annotations

import numpy as np
import pytest

import ramplab.theory.complexity._optimal as optimal_module
from ramplab.theory import (NSGD, HeavyBall, Problem, Schedule, optimal_schedule, serial_step_frontier,
                            stretched_schedule)

pytestmark = pytest.mark.filterwarnings("ignore::ramplab.theory.UnstableScheduleWarning")


@pytest.mark.parametrize("optimizer, power", [("sgd", 1.0), (HeavyBall(0.5), 1.0), ("nsgd", 0.5),
                                              (NSGD(), 0.5), (HeavyBall(0.5, "nsgd"), 0.5)])
@pytest.mark.parametrize("factor", [1, 2, 3, 4])
def test_stretch_keeps_samples_and_temperature(optimizer, power, factor):
    base = Schedule([0.4, 0.3, 0.1], [48.0, 96.0, 192.0], integer_batch=False)
    s = stretched_schedule(base, 3 * factor, optimizer)
    assert s.serial_steps == 3 * factor
    assert float(s.total_samples) == pytest.approx(float(base.total_samples), rel=1e-15)
    lr, batch = s.step_arrays(0, s.serial_steps)
    ratio = np.repeat(base.lr / base.batch**power, factor)
    np.testing.assert_allclose(lr / batch**power, ratio, rtol=1e-14)


def test_stretch_raises_batches_below_one_and_refuses_fewer_steps():
    s = stretched_schedule(Schedule([0.1, 0.1], [2, 2]), 8)
    assert np.all(s.batch == 1.0) and s.serial_steps == 8
    with pytest.raises(ValueError, match="serial_steps"):
        stretched_schedule(Schedule([0.1, 0.1], [2, 2]), 1)
    with pytest.raises(TypeError, match="schedule"):
        stretched_schedule([0.1, 0.1], 4)


def test_frontier_searches_a_rising_budget_again_from_the_stretched_smaller_optimum(monkeypatch):
    p = Problem.power_law(12, a=1.5, b=1.0, noise_variance=0.5)
    samples, budgets, kw = 512, [8, 16, 32], {"segments": 4}
    real = optimal_module._frontier_point
    tiny = (1e-6, 2e-6)

    def first_search_of_32_stuck(job):  # the largest budget's first search is held at tiny rates (a bad local stop)
        problem, n, steps, options = job
        if steps == 32 and "start" not in options:
            options = dict(options, lr_bounds=tiny)
        return real((problem, n, steps, options))

    monkeypatch.setattr(optimal_module, "_frontier_point", first_search_of_32_stuck)
    f = serial_step_frontier(p, samples, budgets, **kw)
    assert f.restarted == (32,)
    assert np.all(np.diff(f.objective) <= 0)  # monotone again
    smaller = f.results[int(np.argmin(f.objective[:2]))]
    again = optimal_schedule(p, samples, 32, start=stretched_schedule(smaller.continuous_schedule, 32), **kw)
    stuck = optimal_schedule(p, samples, 32, lr_bounds=tiny, **kw)
    assert f.objective[-1] == min(again.continuous_objective, stuck.continuous_objective) == again.continuous_objective


def test_a_monotone_frontier_is_not_searched_again():
    f = serial_step_frontier(Problem.power_law(8, a=1.5, b=1.0, noise_variance=0.5), 256, [8, 32], segments=4)
    assert f.restarted == () and f.objective[1] < f.objective[0]


def test_restart_sources_pair_each_rising_budget_with_the_best_earlier_one_of_its_group():
    # by hand: group a rises at index 2 (above index 1, its best earlier); group b rises at index 4 (above index 3)
    objectives = [3.0, 1.0, 2.0, 5.0, 6.0, 0.5]
    groups = ["a", "a", "a", "b", "b", "a"]
    assert optimal_module.restart_sources(objectives, groups) == [(2, 1), (4, 3)]
    assert optimal_module.restart_sources([1.0, 1.0 + 1e-12, 0.9]) == []  # within 1e-9: not a rise
