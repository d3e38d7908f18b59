"""Growth schedules, the adaptive rule and the (γ, δ) measurement grid (theory/growth.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramplab.theory import (
    AdaptiveRule,
    Problem,
    exponential_growth,
    expected_risk,
    growth_grid,
    polynomial_growth,
    schedule_to_target,
    sfo_exponent,
    stage_schedule,
)


@settings(max_examples=30)
@given(lr0=st.floats(1e-3, 0.5), batch0=st.floats(1.0, 32.0), g=st.floats(0.8, 2.0), d=st.floats(1.0, 3.0),
       stages=st.integers(1, 10), k=st.integers(1, 6))
def test_exponential_growth_in_steps(lr0, batch0, g, d, stages, k):
    s = exponential_growth(lr0, batch0, g, d, stages, stage_steps=k)
    assert s.serial_steps == stages * k
    m = np.repeat(np.arange(stages), k)
    np.testing.assert_allclose(s.lr, lr0 * g**m, rtol=1e-12)
    np.testing.assert_allclose(s.batch, batch0 * d**m, rtol=1e-12)
    # Closed forms of docs/math.md#sfo-complexity (q = γ²/δ), checked against the per-step arrays.
    assert s.lr.sum() == pytest.approx(k * lr0 * sum(g**j for j in range(stages)), rel=1e-12)
    assert float(s.total_samples) == pytest.approx(k * batch0 * sum(d**j for j in range(stages)), rel=1e-12)
    assert s.metadata["stage_starts"] == tuple(range(0, stages * k, k))


def test_caps_rounding_and_epochs():
    s = exponential_growth(0.1, 8, 2.0, 2.0, 4, stage_steps=1, lr_cap=0.3, batch_cap=40)
    assert s.lr.tolist() == [0.1, 0.2, 0.3, 0.3] and s.batch.tolist() == [8.0, 16.0, 32.0, 40.0]
    r = exponential_growth(0.1, 3, 1.0, 1.5, 3, stage_steps=1, integer_batch=True)
    assert r.batch.tolist() == [3, 5, 7] and r.batch.dtype == np.int64  # 4.5 → 5, 6.75 → 7
    # Epoch-counted stages: ⌈E n / b_m⌉ steps, so later (larger-batch) stages are shorter.
    e = exponential_growth(0.1, 4, 1.0, 2.0, 3, stage_epochs=2, dataset_size=100)
    assert e.metadata["stage_steps"] == (50, 25, 13) and e.metadata["counting"] == "epochs"
    assert polynomial_growth(0.1, 2, 2.0, 1.0, 3, stage_steps=1).lr.tolist() == pytest.approx([0.1, 0.2, 0.3])
    assert polynomial_growth(0.1, 2, 2.0, 1.0, 3, stage_steps=1).batch.tolist() == [2.0, 8.0, 18.0]


def test_epoch_counting_bounds_the_sum_of_rates():
    # γ < δ with epochs per stage: Σ η = Σ_m η₀γ^m ⌈En/(b₀δ^m)⌉ ≈ (E n η₀/b₀) Σ (γ/δ)^m, bounded —
    # as long as b_m ≤ n: past that every stage still takes one step (the ceiling) and Σ η grows again.
    n = 2**14
    sums = [exponential_growth(0.1, 1, 1.2, 2.0, m, stage_epochs=1, dataset_size=n).lr.sum() for m in (6, 10, 15)]
    limit = n * 0.1 / (1 - 1.2 / 2.0)
    assert sums[0] < sums[1] < sums[2] < limit * 1.01
    assert sums[2] - sums[1] < 0.02 * sums[2]
    late = exponential_growth(0.1, 1, 1.2, 2.0, 40, stage_epochs=1, dataset_size=n).lr.sum()
    assert late > 1.15 * limit
    steps = [exponential_growth(0.1, 1, 1.2, 2.0, m, stage_steps=100).lr.sum() for m in (10, 20, 30)]
    assert steps[-1] > 5 * steps[0]  # step-counted stages: Σ η grows like γ^M


def test_stage_schedule_validation():
    with pytest.raises(ValueError, match="exactly one of stage_steps= or stage_epochs="):
        stage_schedule([0.1], [1])
    with pytest.raises(ValueError, match="stage_epochs needs dataset_size"):
        stage_schedule([0.1], [1], stage_epochs=1)
    with pytest.raises(ValueError, match="equal length"):
        stage_schedule([0.1, 0.2], [1], stage_steps=1)
    with pytest.raises(ValueError, match="batches\\[0\\] must be ≥ 1"):
        stage_schedule([0.1], [0.5], stage_steps=1)
    with pytest.raises(ValueError, match="gamma must be positive"):
        exponential_growth(0.1, 1, 0.0, 2.0, 3, stage_steps=1)
    with pytest.raises(ValueError, match="lr_cap must be positive"):
        exponential_growth(0.1, 1, 1.1, 2.0, 3, stage_steps=1, lr_cap=-1.0)


def test_adaptive_rule_reproduces_the_exact_solver_and_switches_correctly():
    p = Problem.power_law(30, a=1.5, b=1.0, noise_variance=0.2)
    rule = AdaptiveRule(lr0=0.1, batch0=4, gamma=1.4, delta=2.0, epsilon0=0.6, check_every=50,
                        batch_cap=256, lr_cap=1.0)
    run = rule.run(p, 1500)
    # The realised schedule, fed to the exact solver, reproduces the run's risk.
    np.testing.assert_allclose(expected_risk(p, run.schedule).risk, run.risk, rtol=1e-12)
    # A stage advances exactly when the measured RMS gradient norm is at most ε_m = ε₀ sqrt(b₀/b_m).
    stages = np.concatenate([[0], run.stages])
    for k, (norm, thr) in enumerate(zip(run.gradient_norms, run.thresholds)):
        assert thr == pytest.approx(rule.threshold(stages[k]))
        assert (stages[k + 1] == stages[k] + 1) == (norm <= thr and not rule.frozen(stages[k]))
    assert run.switch_steps.size >= 2
    # Within a stage the schedule holds the stage's values, capped: the rate from the step after the measured
    # state, the batch one step later (the released order, docs/math.md#adaptive-rule).
    for k, step in enumerate(run.check_steps[:-1]):
        lr, batch = rule.stage_values(stages[k + 1])
        assert run.schedule.lr[step] == pytest.approx(lr) and run.schedule.batch[step + 1] == pytest.approx(batch)
    assert run.schedule.batch.max() <= 256 and run.schedule.lr.max() <= 1.0


def test_adaptive_rule_defaults_and_validation():
    rule = AdaptiveRule()
    assert (rule.delta, rule.gamma, rule.epsilon0, rule.batch0, rule.lr0, rule.check_every, rule.batch_cap) == (
        2.0, 1.4, 0.5, 8.0, 0.1, 1000, 4096.0)
    assert rule.stage_values(20)[1] == 4096.0 and rule.threshold(20) == pytest.approx(0.5 * math.sqrt(8 / 4096))
    with pytest.raises(ValueError, match="check_every must be ≥ 1"):
        AdaptiveRule(check_every=0)
    with pytest.raises(ValueError, match="epsilon0 must be positive"):
        AdaptiveRule(epsilon0=0.0)
    from ramplab.theory import DivergenceError

    with pytest.raises(DivergenceError):
        rule = AdaptiveRule(lr0=3.0, batch0=1, check_every=10, epsilon0=1e-9)
        rule.run(Problem.isotropic(3, noise_variance=1.0), 5000)


def test_growth_grid_matches_direct_runs_and_the_prediction():
    p = Problem.power_law(30, a=1.5, b=1.0, noise_variance=1.0)
    gammas, deltas, eps = [1.2], [1.44, 2.0], [0.3, 0.15]
    g = growth_grid(p, gammas, deltas, eps, lr0=0.01, stage_steps=20, stages=40)
    for j, d in enumerate(deltas):
        sched = exponential_growth(0.01, 1.0, 1.2, d, 40, stage_steps=20, lr_cap=1.0)
        for k, e in enumerate(eps):
            h = schedule_to_target(p, sched, e * e)
            assert g.sfo[0, j, k] == pytest.approx(h.fractional_samples[0], rel=1e-12)
        assert g.predicted[0, j] == pytest.approx(sfo_exponent(1.2, d))
        x = np.log(1 / np.array(eps))
        assert g.measured[0, j] == pytest.approx(np.polyfit(x, np.log(g.sfo[0, j]), 1)[0], rel=1e-12)


def test_measured_exponent_follows_the_bias_rate_before_the_cap():
    """On λ_i s_i(0) = i^{-1} (bias ∝ 1/Σ η, the bound's own rate) and before the η cap, the measured
    ε-exponent is 2 ln δ/ln γ within 10 % — above the ridge that is the prediction; below it the
    prediction 2 ln δ/(ln δ − ln γ) is not met (figure growth_exponent_map, default size: 3 % median)."""
    p = Problem.power_law(150, a=1.5, b=1.0, noise_variance=1.0)
    gammas, deltas = [1.15, 1.25], [1.25, 1.6, 2.5]
    g = growth_grid(p, gammas, deltas, np.geomspace(0.2, 0.05, 3), lr0=0.001, stage_steps=60, stages=120)
    for i, gm in enumerate(gammas):
        for j, d in enumerate(deltas):
            if g.capped[i, j] or d <= gm:
                continue
            bias_rate = 2 * math.log(d) / math.log(gm)
            assert g.measured[i, j] == pytest.approx(bias_rate, rel=0.10)
            if d >= gm * gm:
                assert g.measured[i, j] == pytest.approx(g.predicted[i, j], rel=0.10)
            else:
                assert g.measured[i, j] < 0.8 * g.predicted[i, j]
    assert not g.capped[0, 2] and not g.capped[1, 2]
    assert (~g.capped & (np.array(deltas)[None, :] < np.array(gammas)[:, None] ** 2)).any()


# ------------------------------------------------------------------ hostile-input regressions
def test_exponential_growth_integer_batch_overflow_names_the_arguments():
    # 8·2^m passes 2**53 at m = 51: the error names the user's stages, delta and batch0 and the limit
    # (it used to be a derived "batch ... at step 52" from Schedule).
    with pytest.raises(ValueError, match=r"2\*\*53.*stages=60") as info:
        exponential_growth(0.1, 8, 1.4, 2.0, 60, stage_steps=1, integer_batch=True, lr_cap=1.0)
    assert "delta=2.0" in str(info.value) and "batch0=8.0" in str(info.value)
    with pytest.raises(ValueError, match="overflows float64.*gamma=1.4.*stages=3000"):
        exponential_growth(0.1, 8, 1.4, 2.0, 3000, stage_steps=1, batch_cap=64)   # 1.4^2109 > 1.8e308
    with pytest.raises(ValueError, match="stages must be ≤ 1048576"):
        exponential_growth(0.1, 8, 1.4, 2.0, 2**40, stage_steps=1)


def test_growth_schedules_are_segments_and_overflow_is_named():
    # 10^12 steps per stage: built as 3 segments in O(stages), exact values 0.1·1.4^m and 8·2^m.
    s = exponential_growth(0.1, 8, 1.4, 2.0, 3, stage_steps=10**12)
    assert s.serial_steps == 3 * 10**12 and s.segments.steps.tolist() == [10**12] * 3
    assert s.segments.batch.tolist() == [8, 16, 32] and s.segments.lr.tolist() == [0.1, 0.1 * 1.4, 0.1 * 1.4**2]
    with pytest.raises(ValueError, match=r"batch0 \* \(m\+1\)\*\*p overflows float64.*p=400"):
        polynomial_growth(0.1, 2, 400.0, 0.0, 8, stage_steps=1)                  # 8^400 > 1.8e308
    with pytest.raises(TypeError, match="batches must hold real numbers"):
        stage_schedule([0.1, 0.2], [4, True], stage_steps=1)
    with pytest.raises(TypeError, match="integer_batch must be True or False"):
        stage_schedule([0.1], [4], stage_steps=1, integer_batch="no")


def test_adaptive_rule_refuses_overflowing_stages_and_nan_norms():
    rule = AdaptiveRule(batch_cap=None)
    with pytest.raises(ValueError, match="stage=2000"):
        rule.stage_values(2000)                          # 0.1·1.4^2000 overflows without lr_cap
    with pytest.raises(ValueError, match="gradient_norm must be finite"):
        rule.next_stage(0, float("nan"))
    with pytest.raises(ValueError, match="steps must be ≤ MAX_STEP_ARRAY"):
        rule.run(Problem([1.0], [1.0]), 2**40)


# ------------------------------------------------------------------ per-epoch remainder (issue #24 item 3)
def _released_trainer_batches(lrs, batches, epochs, n):
    """A plain transcription of a released trainer's loop with a plain DataLoader (no drop_last; arXiv 2409.08770's
    code, hikarumeda1030/incr_both_bs_lr cifar100.py): per stage, per epoch, batches of b samples and a last
    partial one."""
    out_lr, out_b = [], []
    for lr, b in zip(lrs, batches):
        for _ in range(epochs):
            i = 0
            while i < n:
                out_lr.append(lr)
                out_b.append(min(b, n - i))
                i += b
    return out_lr, out_b


@settings(max_examples=40, deadline=None)
@given(batches=st.lists(st.integers(1, 300), min_size=1, max_size=4), epochs=st.integers(1, 4),
       n=st.integers(1, 2000))
def test_partial_epochs_replay_the_released_trainer(batches, epochs, n):
    lrs = [0.1 * (m + 1) for m in range(len(batches))]
    s = stage_schedule(lrs, batches, stage_epochs=epochs, dataset_size=n, integer_batch=True,
                       epoch_remainder="partial")
    want_lr, want_b = _released_trainer_batches(lrs, batches, epochs, n)
    assert s.batch.tolist() == want_b and s.lr.tolist() == pytest.approx(want_lr, rel=0, abs=0)
    assert s.total_samples == epochs * n * len(batches)
    assert list(s.metadata["stage_steps"]) == [epochs * math.ceil(n / b) for b in batches]
    # The default rounds each stage up to whole batches: never fewer samples, never fewer steps per stage.
    rounded = stage_schedule(lrs, batches, stage_epochs=epochs, dataset_size=n, integer_batch=True)
    assert rounded.total_samples >= s.total_samples
    assert all(k_r <= k_p for k_r, k_p in zip(rounded.metadata["stage_steps"], s.metadata["stage_steps"]))


def test_partial_epochs_refuse_what_they_cannot_count():
    with pytest.raises(ValueError, match="epoch_remainder='partial' counts stages in epochs"):
        stage_schedule([0.1], [8], stage_steps=3, epoch_remainder="partial")
    with pytest.raises(ValueError, match="whole numbers of epochs"):
        stage_schedule([0.1], [8], stage_epochs=1.5, dataset_size=20, integer_batch=True, epoch_remainder="partial")
    with pytest.raises(ValueError, match="whole-number batches"):
        stage_schedule([0.1], [8.5], stage_epochs=1, dataset_size=20, epoch_remainder="partial")
    with pytest.raises(ValueError, match="epoch_remainder must be one of"):
        stage_schedule([0.1], [8], stage_epochs=1, dataset_size=20, epoch_remainder="drop")


def _affine_exponential(a, r, x0, x_max, s):
    """arXiv 2409.08770's released growth, transcribed: ``min(a·r^s + x₀ − a, x_max)`` at stage ``s``."""
    return min(a * r**s + x0 - a, x_max)


def test_affine_exponential_growth_is_a_stage_schedule():
    """The 2409.08770 code's affine-exponential growth (issue #24 item 3) is expressible: its per-stage values
    through ``stage_schedule`` replay the released trainer's loop (partial epochs) batch for batch."""
    stages, epochs, n = 7, 2, 1000
    batches = [_affine_exponential(8, 2, 16, 512, s) for s in range(stages)]      # 16, 24, 40, …, capped at 512
    lrs = [_affine_exponential(0.05, 1.4, 0.1, 0.3, s) for s in range(stages)]
    assert batches[:3] == [16, 24, 40] and batches[-1] == 512 and max(lrs) == 0.3
    s = stage_schedule(lrs, batches, stage_epochs=epochs, dataset_size=n, integer_batch=True,
                       epoch_remainder="partial")
    want_lr, want_b = _released_trainer_batches(lrs, batches, epochs, n)
    assert s.batch.tolist() == want_b and s.lr.tolist() == want_lr
    assert s.total_samples == stages * epochs * n


def _dynamic_batch_sampler(lrs, batches, epochs, n):
    """A plain transcription of arXiv 2508.05297's released sampler (hikarumeda1030/optimal-schedule @409abf6,
    src/utils/data/sampler.py, used with drop_last=True by src/cifar100.py): per epoch, batches of b samples while
    a whole batch remains; the rest of the epoch is dropped."""
    out_lr, out_b = [], []
    for lr, b in zip(lrs, batches):
        for _ in range(epochs):
            i = 0
            while i < n:
                end = min(i + b, n)
                if end - i < b:
                    break
                out_lr.append(lr)
                out_b.append(end - i)
                i = end
    return out_lr, out_b


@settings(max_examples=40, deadline=None)
@given(batches=st.lists(st.integers(1, 300), min_size=1, max_size=4), epochs=st.integers(1, 4),
       n=st.integers(300, 2000))
def test_drop_last_epochs_replay_the_released_sampler(batches, epochs, n):
    lrs = [0.1 * (m + 1) for m in range(len(batches))]
    s = stage_schedule(lrs, batches, stage_epochs=epochs, dataset_size=n, integer_batch=True,
                       epoch_remainder="drop_last")
    want_lr, want_b = _dynamic_batch_sampler(lrs, batches, epochs, n)
    assert s.batch.tolist() == want_b and s.lr.tolist() == want_lr
    assert list(s.metadata["stage_steps"]) == [epochs * (n // b) for b in batches]
    assert s.total_samples == sum(epochs * (n // b) * b for b in batches)


def test_released_cifar100_step_counts():
    """Total steps of the released CIFAR-100 runs (n = 50 000, 200 epochs, b₀ = 16 doubled at epochs 25, 50, …,
    175, MAX_BS = 2048; hikarumeda1030/optimal-schedule @409abf6): 25·Σ⌊n/b⌋ = 155 550 with the released
    sampler; a partial last batch would give 155 725, rounding each stage up 155 643."""
    batches = [min(16 * 2**m, 2048) for m in range(8)]
    counts = {mode: len(stage_schedule([0.1] * 8, batches, stage_epochs=25, dataset_size=50_000,
                                       integer_batch=True, epoch_remainder=mode))
              for mode in ("drop_last", "partial", "round_up")}
    assert counts == {"drop_last": 155_550, "partial": 155_725, "round_up": 155_643}
    # Issue #24's numbers: growth every 20 epochs (the release README's incr_interval = 20), 10 stages, the batch
    # capped at 2048 from stage 7: "ramplab 125 493" is round_up, "released 125 580" is the partial count; the
    # indexed release's sampler (drop_last) gives 125 400.
    batches = [min(16 * 2**m, 2048) for m in range(10)]
    counts = {mode: len(stage_schedule([0.1] * 10, batches, stage_epochs=20, dataset_size=50_000,
                                       integer_batch=True, epoch_remainder=mode))
              for mode in ("drop_last", "partial", "round_up")}
    assert counts == {"drop_last": 125_400, "partial": 125_580, "round_up": 125_493}
    with pytest.raises(ValueError, match="drops every batch"):
        stage_schedule([0.1], [64], stage_epochs=1, dataset_size=50, integer_batch=True, epoch_remainder="drop_last")
