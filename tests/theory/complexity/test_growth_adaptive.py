"""The adaptive rule against a plain transcription of the released stage logic (docs/math.md#adaptive-rule).

The reference below is written from the rule's description, not from the library: keep a float batch
``b``, the integer batch ``⌈b⌉`` capped at ``b_max``, the rate ``η``; at every check, if the gradient
norm is ``≤ ε₀ sqrt(b₀/batch)`` and ``batch < b_max``, multiply ``b`` by ``δ`` and ``η`` by ``γ``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramplab.theory import AdaptiveRule, Problem


def released_stages(norms, *, lr0=0.1, batch0=8.0, gamma=1.4, delta=2.0, epsilon0=0.5, batch_max=4096):
    """(η, integer batch) in force after each check, for a given sequence of measured norms."""
    b_float, lr = float(batch0), float(lr0)
    batch = min(math.ceil(b_float), batch_max)
    out = []
    for norm in norms:
        if norm <= epsilon0 * math.sqrt(batch0 / batch) and batch < batch_max:
            b_float *= delta
            lr *= gamma
            batch = min(math.ceil(b_float), batch_max)
        out.append((lr, batch))
    return out


def rule_stages(rule, norms):
    stage, out = 0, []
    for norm in norms:
        stage = rule.next_stage(stage, norm)
        out.append(rule.stage_values(stage))
    return out


def test_released_defaults_freeze_at_the_cap():
    rule = AdaptiveRule(integer_batch=True)
    norms = [0.0] * 14  # every check passes: the rule advances as far as it may
    got, ref = rule_stages(rule, norms), released_stages(norms)
    for (lr_g, b_g), (lr_r, b_r) in zip(got, ref):
        assert b_g == b_r and lr_g == pytest.approx(lr_r, rel=1e-12)
    # Stage 9 reaches b = 4096 and the rule stops there: η = 0.1·1.4⁹ ≈ 2.07, never 0.1·1.4¹⁰ ≈ 2.89.
    assert got[-1][1] == 4096 and got[-1][0] == pytest.approx(0.1 * 1.4**9) and round(got[-1][0], 2) == 2.07
    # The option that is not the released rule keeps growing η at the capped batch.
    free = rule_stages(AdaptiveRule(integer_batch=True, freeze_at_cap=False), norms)
    assert free[9][0] == pytest.approx(0.1 * 1.4**10) and round(free[9][0], 2) == 2.89


def test_integer_batches_take_the_ceiling():
    rule = AdaptiveRule(batch0=5, delta=1.5, integer_batch=True, batch_cap=40)
    norms = [0.0] * 8
    got, ref = rule_stages(rule, norms), released_stages(norms, batch0=5, delta=1.5, batch_max=40)
    assert [b for _, b in got] == [b for _, b in ref] == [8, 12, 17, 26, 38, 40, 40, 40]
    for (lr_g, _), (lr_r, _) in zip(got, ref):
        assert lr_g == pytest.approx(lr_r, rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_random_norm_sequences_follow_the_released_logic(seed):
    rng = np.random.default_rng(seed)
    batch0, delta, cap = float(rng.integers(1, 9)), float(rng.choice([1.5, 2.0, 3.0])), int(rng.integers(20, 300))
    rule = AdaptiveRule(lr0=0.05, batch0=batch0, gamma=1.3, delta=delta, epsilon0=0.5, integer_batch=True,
                        batch_cap=cap)
    norms = rng.uniform(0.0, 0.6, size=40).tolist()
    got = rule_stages(rule, norms)
    ref = released_stages(norms, lr0=0.05, batch0=batch0, gamma=1.3, delta=delta, epsilon0=0.5, batch_max=cap)
    assert [b for _, b in got] == [b for _, b in ref]
    np.testing.assert_allclose([lr for lr, _ in got], [lr for lr, _ in ref], rtol=1e-12)


def test_run_stops_switching_at_the_cap():
    p = Problem.power_law(30, a=1.5, b=1.0, noise_variance=1.0, scale=0.5)
    run = AdaptiveRule(check_every=20, integer_batch=True, batch_cap=64).run(p, 600)
    lr, batch = run.schedule.step_arrays()
    assert batch.max() == 64 and run.stages.max() == 3      # 8, 16, 32, 64: frozen at stage 3
    assert lr.max() == pytest.approx(0.1 * 1.4**3)
    assert np.all(np.isfinite(run.risk))


def test_batch_cap_below_batch0_is_rejected():
    # The rule only grows the batch: a cap below b₀ would make stage 0 run below b₀ (4 < 8).
    with pytest.raises(ValueError, match="batch_cap"):
        AdaptiveRule(batch_cap=4)
    with pytest.raises(ValueError, match="batch_cap"):
        AdaptiveRule(batch0=5.2, batch_cap=5.5, integer_batch=True)  # no integer batch in [5.2, 5.5]
    assert AdaptiveRule(batch_cap=8).stage_values(0) == (0.1, 8.0)


@pytest.mark.parametrize("cap", [5.5, 10.5, 40.0, 39.9])
def test_integer_batches_never_exceed_a_non_integer_cap(cap):
    # ⌈b₀δ^m⌉ then the cap, as released; an integer batch at most b_max is at most ⌊b_max⌋, and with an
    # integer cap this is the released transcription exactly.
    rule = AdaptiveRule(batch0=5, delta=1.5, integer_batch=True, batch_cap=cap)
    norms = [0.0] * 10
    got = [b for _, b in rule_stages(rule, norms)]
    ref = [b for _, b in released_stages(norms, batch0=5, delta=1.5, batch_max=math.floor(cap))]
    assert got == ref and max(got) <= cap and all(b == int(b) for b in got)
    # The rule freezes once the batch is at the largest integer batch the cap allows.
    assert got[-1] == math.floor(cap) and rule.frozen(len(got))
    assert AdaptiveRule(batch0=5, delta=1.5, integer_batch=True, batch_cap=5.5).stage_values(1)[1] == 5.0


def test_threshold_does_not_depend_on_the_rate():
    # ε_m = ε₀ sqrt(b₀/b_m) needs only the batch: a rate η₀γ^m that overflows float64 does not matter.
    rule = AdaptiveRule()
    with pytest.raises(ValueError, match="lr0"):
        rule.stage_values(10_000)
    assert rule.threshold(10_000) == pytest.approx(0.5 * math.sqrt(8 / 4096), rel=1e-15)
    assert rule.frozen(10_000) and rule.next_stage(10_000, 0.0) == 10_000
    assert AdaptiveRule(batch_cap=None, delta=1.0).threshold(10_000) == 0.5
    with pytest.raises(ValueError, match="batch0 \\* delta"):  # the batch itself overflows: that is real
        AdaptiveRule(batch_cap=None).threshold(10_000)


# ------------------------------------------------------------------ the released order (issue #24 item 2)
def _released_loop(problem, rule, steps):
    """A plain transcription of arXiv 2508.05302's training loop on the expected dynamics: at every step
    t = k·check_every the full-gradient norm is measured *before* the update; on a trigger the scheduler steps
    first (the new learning rate applies to step t) and the loader's next batch has the new size (step t + 1)."""
    lam, s = problem.eigenvalues, problem.initial_second_moment.copy()
    kex, noise = problem.kurtosis - 2.0, problem.noise_variance
    stage, lrs, batches, switches = 0, [], [], []
    lr, batch = rule.stage_values(0)
    for t in range(1, steps + 1):
        next_batch = batch
        if t % rule.check_every == 0:
            norm = math.sqrt(float(np.sum(lam**2 * s)))
            new = rule.next_stage(stage, norm)
            if new != stage:
                stage = new
                switches.append(t - 1)
                lr, next_batch = rule.stage_values(stage)
        q = float(np.sum(lam * s))
        x = lr * lam
        s = (1.0 - x * (2.0 - (1.0 + kex / batch) * x)) * s + lr * lr / batch * (q + noise) * lam
        lrs.append(lr)
        batches.append(batch)
        batch = next_batch
    return np.array(lrs), np.array(batches), switches, 0.5 * float(np.sum(lam * s))


@settings(max_examples=25, deadline=None)
@given(check=st.integers(1, 40), epsilon0=st.floats(0.05, 2.0), delta=st.sampled_from([1.5, 2.0]),
       integer=st.booleans())
def test_released_order_replays_the_released_training_loop(check, epsilon0, delta, integer):
    p = Problem.power_law(20, a=1.5, b=1.0, noise_variance=0.3)
    rule = AdaptiveRule(lr0=0.1, batch0=4, gamma=1.3, delta=delta, epsilon0=epsilon0, check_every=check,
                        batch_cap=64, lr_cap=1.0, integer_batch=integer)
    run = rule.run(p, 400)
    lrs, batches, switches, final = _released_loop(p, rule, 400)
    got_lr, got_b = run.schedule.step_arrays()
    np.testing.assert_array_equal(got_lr, lrs)
    np.testing.assert_array_equal(got_b, batches)
    assert run.switch_steps.tolist() == switches
    assert run.risk[-1] == pytest.approx(final, rel=1e-12)


def test_the_two_orders_differ_by_one_step_per_switch():
    # Same rule, both orders: "after_update" checks one step later and switches the batch with the rate.
    p = Problem.power_law(30, a=1.5, b=1.0, noise_variance=0.2)
    kw = dict(lr0=0.1, batch0=4, gamma=1.4, delta=2.0, epsilon0=0.6, check_every=50, batch_cap=256, lr_cap=1.0)
    released = AdaptiveRule(**kw).run(p, 1500)
    after = AdaptiveRule(**kw, order="after_update").run(p, 1500)
    assert released.check_steps.tolist() == [t - 1 for t in after.check_steps.tolist()]
    lr, batch = released.schedule.step_arrays()
    for s in released.switch_steps:  # rate from step s + 1, batch from step s + 2 (1-based)
        assert lr[s] > lr[s - 1] and batch[s] == batch[s - 1] and batch[s + 1] > batch[s]
    lr_a, batch_a = after.schedule.step_arrays()
    for s in after.switch_steps:
        assert lr_a[s] > lr_a[s - 1] and batch_a[s] > batch_a[s - 1]
    with pytest.raises(ValueError, match="order must be one of"):
        AdaptiveRule(order="before")
