"""The solver's own states where exact moments cancel to 0 (breaker finding 6).

With kurtosis 1 (Rademacher data) and no noise, ``η = 1/λ`` zeroes the moments in exact arithmetic, and rounding leaves
them a hair below 0 or past the Cauchy–Schwarz bound. Such a state is the run's state: the solver must return it
(``state_at``, copies, pickles, continuing from it), while a state built by hand with the same defect is still refused.
Reference values: the reproducers the breaker found by fuzzing (seed 2), which raised ValueError before.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from ramplab.theory import HeavyBall, Problem, Schedule, SolverState, expected_risk, optimal_schedule

pytestmark = pytest.mark.filterwarnings("ignore::ramplab.theory.UnstableScheduleWarning")


def _cancelled_heavy_ball_run():
    q = Problem([1.0], [1.0], noise_variance=0.0, kurtosis=1.0)
    return q, expected_risk(q, Schedule.constant(1.4100657840549675, 17 / 9, steps=9, integer_batch=False),
                            HeavyBall(0.5))


def test_the_solver_returns_and_continues_from_its_own_cancelled_state():
    q, traj = _cancelled_heavy_ball_run()
    state = traj.state_at(9)
    for again in (pickle.loads(pickle.dumps(state)), copy.deepcopy(state), copy.copy(state)):
        assert np.array_equal(again.cross_moment, state.cross_moment)
    more = expected_risk(q, Schedule.constant(0.5, 2, steps=3), HeavyBall(0.5), initial_state=state)
    assert np.all(np.isfinite(more.risk))


def test_the_same_defect_built_by_hand_is_still_refused():
    _, traj = _cancelled_heavy_ball_run()
    state = traj.state_at(9)
    fields = {n: getattr(state, n) for n in ("second_moment", "cross_moment", "previous_moment")}
    bad = dict(fields, second_moment=-np.abs(fields["second_moment"]) - 1e-30)
    with pytest.raises(ValueError, match="second_moment must be ≥ 0"):
        SolverState(9, state.samples, **bad)


@pytest.mark.parametrize("case", ["sgd averaged", "heavy ball"])
def test_optimal_schedule_runs_where_the_moments_cancel(case):
    if case == "sgd averaged":
        p = Problem([0.0027616023707859243], [8.510145119934961], noise_variance=0.0, kurtosis=1.0)
        r = optimal_schedule(p, 65, 22, segments=9, objective="averaged")
    else:
        r = optimal_schedule(Problem([1.0], [1.0], noise_variance=0.0, kurtosis=1.0), 17, 9, segments=1,
                             optimizer=HeavyBall(0.5))
    assert np.isfinite(r.objective) and r.objective >= 0
