"""State in, state out (docs/math.md#solver-state): a run continued from ``RiskTrajectory.state_at(t)`` equals
the uninterrupted run bit for bit, and every client of the loop applies the one divergence rule
(docs/math.md#divergence).

Reference: the uninterrupted run of the same solver (the claim is bitwise identity, so no tolerance)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramplab.theory import (
    AdaptiveRule,
    DivergenceError,
    ExponentialAverage,
    HeavyBall,
    Numerics,
    Problem,
    Schedule,
    SolverState,
    TailAverage,
    expected_risk,
    steps_to_target,
)
from ramplab.theory.dynamics import _kernels

KERNELS = ["reference"] + (["fused"] if _kernels.AVAILABLE else [])
PROBLEM = Problem.power_law(60, a=1.5, b=1.0, noise_variance=0.3, kurtosis=2.5)
FULL = Schedule.from_phases([(0.5, 4, 4 * 2000), (0.25, 8, 8 * 1500), (0.125, 16, 16 * 600)])  # 4100 steps
AVERAGES = {"none": None, "uniform": "uniform", "tail": TailAverage(start=2000),
            "ema": ExponentialAverage(0.02)}


def _pieces(t: int) -> tuple[Schedule, Schedule]:
    lr, batch = FULL.step_arrays()
    return Schedule(lr[:t], batch[:t]), Schedule(lr[t:], batch[t:])


def _curves(r):
    return [r.steps, r.samples, r.risk, r.bias, r.variance, r.averaged_risk, r.effective_lr,
            r.gradient_second_moment, r.mean_variance_ratio]


@settings(max_examples=40, deadline=None)
@given(t=st.integers(1, len(FULL) - 1), kernel=st.sampled_from(KERNELS), optimizer=st.sampled_from(["sgd", "nsgd"]),
       average=st.sampled_from(sorted(AVERAGES)), momentum=st.sampled_from([0.0, 0.6]), split=st.booleans())
def test_a_continued_run_is_the_uninterrupted_run_bit_for_bit(t, kernel, optimizer, average, momentum, split):
    kw = dict(numerics=Numerics(kernel=kernel), average=AVERAGES[average], split=split)
    optimizer = HeavyBall(momentum, optimizer=optimizer)
    whole = expected_risk(PROBLEM, FULL, optimizer, **kw)
    head, rest = _pieces(t)
    first = expected_risk(PROBLEM, head, optimizer, **kw)
    state = first.state_at(t)
    assert state.step == t and state.samples == whole.samples[t]
    assert state.momentum == (momentum > 0) and state.averaging == (average != "none") and state.split == split
    more = expected_risk(PROBLEM, rest, optimizer, initial_state=state, **kw)
    for got, want in zip(_curves(more), _curves(whole)):
        if want is None:
            assert got is None
            continue
        # Curves after each step hold T + 1 entries (steps 0 … T), per-step ones T (steps 1 … T): from step t on.
        np.testing.assert_array_equal(got, want[t:])
    np.testing.assert_array_equal(more.final_second_moment, whole.final_second_moment)
    assert more.state_at(len(FULL)) == whole.state_at(len(FULL))


@pytest.mark.parametrize("kernel", KERNELS)
def test_states_at_checkpoints_continue_the_run_and_one_state_branches_several(kernel):
    cps = [0, 100, 1000, 2048, 3000]
    whole = expected_risk(PROBLEM, FULL, "nsgd", numerics=Numerics(kernel=kernel), checkpoints=cps + [len(FULL)],
                          keep_states=True,
                          average="uniform")
    assert sorted(whole.states) == cps + [len(FULL)]
    for t in cps[1:]:
        _, rest = _pieces(t)
        more = expected_risk(PROBLEM, rest, "nsgd", numerics=Numerics(kernel=kernel), average="uniform",
                             initial_state=whole.state_at(t),
                             checkpoints=[t, len(FULL)])
        assert more.steps.tolist() == [t, len(FULL)]
        np.testing.assert_array_equal(more.risk, whole.risk[[cps.index(t), -1]])
    # Branching: one state, several continuations at once (each as if run alone, to rounding: the reference
    # loop's matrix products may sum in another order for another number of rows).
    state = whole.state_at(1000)
    bigger = [Schedule.constant(0.25, b, steps=500) for b in (8, 16, 32)]
    together = expected_risk(PROBLEM, bigger, "nsgd", numerics=Numerics(kernel=kernel), average="uniform",
                             initial_state=state)
    for one, branch in zip(bigger, together):
        alone = expected_risk(PROBLEM, one, "nsgd", numerics=Numerics(kernel=kernel), average="uniform",
                              initial_state=state)
        np.testing.assert_allclose(alone.risk, branch.risk, rtol=1e-13, atol=0)
        assert branch.steps[0] == 1000 and branch.samples[0] == whole.samples[cps.index(1000)]


def test_a_state_survives_pickle_and_copy_and_is_read_only():
    state = expected_risk(PROBLEM, FULL, HeavyBall(0.5), average="uniform").state_at(len(FULL))
    for other in (pickle.loads(pickle.dumps(state)), copy.deepcopy(state), copy.copy(state)):
        assert other == state
    with pytest.raises(ValueError):
        state.second_moment[0, 0] = 1.0
    assert state != SolverState(step=1, samples=4, second_moment=state.second_moment)


def test_bad_states_are_refused_naming_the_argument():
    plain = expected_risk(PROBLEM, FULL).state_at(len(FULL))
    rest = Schedule.constant(0.1, 4, steps=10)
    with pytest.raises(ValueError, match="momentum"):
        expected_risk(PROBLEM, rest, HeavyBall(0.5), initial_state=plain)
    with pytest.raises(ValueError, match="average"):
        expected_risk(PROBLEM, rest, average="uniform", initial_state=plain)
    with pytest.raises(ValueError, match="split"):
        expected_risk(PROBLEM, rest, split=True, initial_state=plain)
    with pytest.raises(ValueError, match="coordinates"):
        expected_risk(Problem.isotropic(3), rest, initial_state=plain)
    with pytest.raises(ValueError, match="one SolverState per schedule"):
        expected_risk(PROBLEM, [rest, rest], initial_state=[plain])
    with pytest.raises(TypeError, match="initial_state"):
        expected_risk(PROBLEM, rest, initial_state="state")
    with pytest.raises(ValueError, match=r"checkpoints must lie in \[4100, 4110\]"):
        expected_risk(PROBLEM, rest, initial_state=plain, checkpoints=[0, 4110])
    with pytest.raises(NotImplementedError, match="initial_state"):
        expected_risk(PROBLEM, rest, initial_state=plain, compress=1e-3)
    with pytest.raises(ValueError, match="was not kept"):
        expected_risk(PROBLEM, FULL).state_at(7)


def test_the_adaptive_rule_raises_where_its_risk_diverges():
    # Found on main 9033ad4: without the freeze at the cap, the rate keeps growing by γ at a capped batch and the
    # rule's own loop returned risks of 1e97 with no flag (it raised only on overflow). It now runs through the
    # solver's loop and its one divergence rule (risk past 1e12 × (R(0) + σ²)).
    p = Problem.power_law(30, a=1.5, b=1.0, noise_variance=1.0, scale=0.5)
    rule = AdaptiveRule(check_every=20, integer_batch=True, batch_cap=16, freeze_at_cap=False, epsilon0=10.0)
    with pytest.raises(DivergenceError) as info:
        rule.run(p, 2000)
    step = info.value.step
    # The step is where the uninterrupted exact run of the same rates crosses the bound.
    lrs = [rule.stage_values(m)[0] for m in range(200)]
    assert 20 < step < 2000 and max(lrs) > 2.0


def test_the_adaptive_run_is_expected_risk_on_its_schedule_bit_for_bit():
    p = Problem.power_law(30, a=1.5, b=1.0, noise_variance=1.0, scale=0.5)
    run = AdaptiveRule(check_every=20, integer_batch=True, batch_cap=64).run(p, 600)
    np.testing.assert_array_equal(run.risk, expected_risk(p, run.schedule).risk)


def test_hitting_times_report_divergence_by_the_solvers_rule():
    p = Problem.power_law(20, a=1.5, b=1.0, noise_variance=0.1)
    hit = steps_to_target(p, [0.5, 50.0], 1, 1e-9, max_steps=5000)
    assert hit.status.tolist()[1] in ("diverged", "unreachable")
    bad = steps_to_target(p, 50.0, 1, 1e-9, max_steps=5000)
    assert bad.status[0] == hit.status[1]


# ---------------------------------------------------------------------------- found by a reviewer of the change
@pytest.mark.parametrize("kernel", KERNELS)
def test_a_shorter_schedule_of_a_call_keeps_its_state_after_its_end(kernel):
    # Its zero-rate padding leaves s alone but would move heavy ball's C, P and the average's moments: a schedule
    # that ended stops advancing on both backends, so its state (and any continuation) is the one it has alone.
    p = Problem.power_law(20, a=1.5, b=1.0, noise_variance=0.5)
    short, long, rest = (Schedule.constant(0.05, 4, steps=n) for n in (100, 400, 50))
    kw = dict(average="uniform", numerics=Numerics(kernel=kernel))
    alone = expected_risk(p, short, HeavyBall(0.9), **kw).state_at(100)
    _, shared = expected_risk(p, [long, short], HeavyBall(0.9), **kw)
    assert shared.state_at(100) == alone


@pytest.mark.parametrize("kernel", KERNELS)
def test_a_float32_continuation_is_bitwise_too(kernel):
    kw = dict(average="uniform", numerics=Numerics(kernel=kernel, dtype=np.float32))
    whole = expected_risk(PROBLEM, FULL, HeavyBall(0.5), **kw)
    head, rest = _pieces(257)
    more = expected_risk(PROBLEM, rest, HeavyBall(0.5), initial_state=expected_risk(PROBLEM, head, HeavyBall(0.5),
                                                                                      **kw).state_at(257), **kw)
    np.testing.assert_array_equal(more.risk, whole.risk[257:])
    np.testing.assert_array_equal(more.averaged_risk, whole.averaged_risk[257:])


def test_per_step_momentum_uses_its_first_entry_in_a_continuation():
    p = Problem.power_law(20, a=1.5, b=1.0, noise_variance=0.5)
    mu = np.full(20, 0.5)
    whole = expected_risk(p, Schedule.constant(0.2, 4, steps=20), HeavyBall(mu))
    head = expected_risk(p, Schedule.constant(0.2, 4, steps=19), HeavyBall(mu[:19]))
    one = expected_risk(p, Schedule.constant(0.2, 4, steps=1), HeavyBall(mu[19:]), initial_state=head.state_at(19))
    np.testing.assert_array_equal(one.risk, whole.risk[19:])
    # A run without momentum keeps no heavy-ball moments; they cannot be made up from s: refused, not ignored.
    late = np.zeros(20)
    late[10] = 0.9
    plain_head = expected_risk(p, Schedule.constant(0.2, 4, steps=10), HeavyBall(late[:10]))
    with pytest.raises(ValueError, match="holds no heavy-ball moments"):
        expected_risk(p, Schedule.constant(0.2, 4, steps=10), HeavyBall(late[10:]),
                      initial_state=plain_head.state_at(10))


def test_copies_stay_checked_and_impossible_states_are_refused():
    state = expected_risk(PROBLEM, FULL, HeavyBall(0.5), average="uniform").state_at(len(FULL))
    for other in (pickle.loads(pickle.dumps(state)), copy.deepcopy(state)):
        assert not other.second_moment.flags.writeable and not other.cross_moment.flags.writeable
    s = state.second_moment
    with pytest.raises(ValueError, match="cross_moment is not a cross moment of second_moment and previous_moment"):
        SolverState(1, 4, s, cross_moment=1e6 * s, previous_moment=s)
    with pytest.raises(ValueError, match="initial_state is at step"):
        expected_risk(PROBLEM, FULL, initial_state=SolverState(2**63 - 5, 0, np.ones((1, PROBLEM.dimension))))
    blown = expected_risk(PROBLEM, Schedule.constant(50.0, 1, steps=600), on_divergence="flag")
    with pytest.raises(ValueError, match="diverged at step"):
        blown.state_at(500)
    with pytest.raises(NotImplementedError, match="keep_states"):
        expected_risk(PROBLEM, FULL, compress=1e-3, checkpoints=[0, 10], keep_states=True)
