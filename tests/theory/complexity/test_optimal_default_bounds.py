"""optimal_schedule is optimal inside its box of rates, and says when the box is active (issue 22: "the optimum's
objective ≤ that of every … schedule with the same samples and no more serial steps").

Reference: NSGD with the expected denominator is SGD at the per-step rate ``η_t / sqrt(G_t)``
(docs/math.md#normalized-sgd), so with one segment per step the NSGD optimum, replayed under SGD at its recorded
effective rates and the same batches, is an SGD schedule of the same ``N`` samples and ``S`` steps with the same risk
(computed by :func:`expected_risk` and checked equal to the NSGD optimum's first, so the construction is right).

Over few serial steps that replay takes a step or two far above the constant-schedule edge, where SGD's default upper
rate bound ``η_s = max_stable_lr(problem, B_max)`` stops the SGD search (found by the opttests helper: d = 24 power law,
N = 1024, S = 7: default SGD optimum 0.396 with six of seven rates at the bound 1.996; the replay 0.215 with effective
rates up to 18.1). So: (1) with the upper bound widened to cover the replay's rates and the search started from the
replay (SLSQP is local; from its default start it stops in another local optimum, 0.218), SGD's optimum is no worse
than the replay; (2) with the default box, the result reports the segments at the bound (``lr_at_upper_bound``), which is how a
user learns that a wider box may do better (docs/math.md#optimal-schedules).
"""

from __future__ import annotations

import numpy as np
import pytest

from ramplab.theory import NSGD, Problem, Schedule, expected_risk, max_stable_lr, optimal_schedule

pytestmark = pytest.mark.filterwarnings("ignore::ramplab.theory.UnstableScheduleWarning")

STEPS, SAMPLES = 7, 1024


@pytest.fixture(scope="module")
def case():
    p = Problem.power_law(24, a=1.5, b=1.0, noise_variance=0.5)
    nsgd = optimal_schedule(p, SAMPLES, STEPS, optimizer="nsgd", segments=STEPS, integer_batch=False)
    traj = expected_risk(p, nsgd.continuous_schedule, NSGD(), progress=False)
    _, batch = nsgd.continuous_schedule.step_arrays(0, STEPS)
    replay = Schedule(np.asarray(traj.effective_lr).ravel()[:STEPS], batch, integer_batch=False)
    assert replay.total_samples == pytest.approx(SAMPLES, rel=1e-9) and replay.serial_steps == STEPS
    replayed = float(expected_risk(p, replay, "sgd", progress=False).risk[-1])
    # the construction: the replay is the NSGD optimum's trajectory (NSGD = SGD at its effective rates)
    assert replayed == pytest.approx(nsgd.continuous_objective, rel=1e-10)
    return p, replay, replayed


def test_sgd_optimum_with_a_wide_box_beats_the_nsgd_optimum_replayed_as_sgd(case):
    p, replay, replayed = case
    edge = max_stable_lr(p, SAMPLES)
    top = float(np.max(replay.lr))
    assert top > 2 * edge  # the replay really leaves the default box
    # SLSQP is a local method and the objective is not convex in the rates (from the default start it stops at
    # 0.2184, a local optimum with the large step first): started from the replay, it must keep or improve it
    sgd = optimal_schedule(p, SAMPLES, STEPS, segments=STEPS, integer_batch=False,
                           lr_bounds=(1e-6 * edge, 1.2 * top), start=replay)
    assert sgd.converged, sgd.message
    assert sgd.continuous_objective <= replayed * (1 + 1e-6), (
        f"SGD optimum {sgd.continuous_objective:.4g} (rates {np.round(sgd.lr, 3).tolist()}) is beaten by an SGD "
        f"schedule with the same samples and steps: {replayed:.4g} (rates {np.round(replay.lr, 3).tolist()})")


def test_the_default_box_reports_its_active_rate_bound(case):
    p, _, replayed = case
    sgd = optimal_schedule(p, SAMPLES, STEPS, segments=STEPS, integer_batch=False)
    assert sgd.converged, sgd.message
    edge = max_stable_lr(p, SAMPLES)
    at_edge = int(np.count_nonzero(sgd.lr >= edge * (1 - 1e-6)))
    assert sgd.lr_at_upper_bound == at_edge >= 1
    # ... and the wider box does pay here, which is why the count matters
    assert replayed < sgd.continuous_objective


def test_an_interior_optimum_reports_no_active_rate_bound():
    # many steps at a fixed batch: the best rates decay well below the edge at the end
    p = Problem.power_law(24, a=1.5, b=1.0, noise_variance=0.5)
    opt = optimal_schedule(p, 8 * 256, 256, segments=4, batch_bounds=(8, 8), integer_batch=False)
    assert opt.converged, opt.message
    assert opt.lr_at_upper_bound == int(np.count_nonzero(opt.lr >= max_stable_lr(p, 8) * (1 - 1e-6)))
    assert opt.lr_at_upper_bound < 4
