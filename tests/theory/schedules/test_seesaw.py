"""The Seesaw transform (docs/math.md#seesaw-rule): schedule properties on drawn bases, factors and p."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ramplab.theory.schedules import (
    InverseSqrt,
    PowerDecay,
    WSD,
    Cosine,
    Linear,
    Schedule,
    StepDecay,
    WarmupCosine,
    continuous_seesaw,
    milestones,
    phase_batches,
    phase_learning_rates,
    phase_serial_steps,
    round_batch,
    seesaw_schedule,
)

fractions = st.floats(0.0, 0.9)


@st.composite
def bases(draw, whole=False):
    """Non-increasing-after-warmup bases over a horizon of 10^3 … 2·10^5 samples."""
    total = float(draw(st.integers(1_000, 200_000))) if whole else draw(st.floats(1e3, 2e5))
    peak = draw(st.floats(1e-3, 2.0))
    kind = draw(st.sampled_from(["linear", "cosine", "quarter", "warmup", "wsd", "step", "rsqrt", "power"]))
    if kind == "rsqrt":  # issue #24: inverse square root with warmup, or constant-then-1/√t
        w = draw(st.floats(0.0, 0.3))
        return InverseSqrt(peak, total, warmup_fraction=w, constant_fraction=draw(st.floats(0.0 if w > 0.01 else 0.05, 0.5)))
    if kind == "power":
        return PowerDecay(peak, total, power=draw(st.floats(0.3, 4.0)), final=draw(fractions))
    if kind == "linear":
        return Linear(peak, total, final=draw(fractions))
    if kind in ("cosine", "quarter"):
        return Cosine(peak, total, final=draw(fractions), quarter=kind == "quarter")
    if kind == "warmup":
        return WarmupCosine(peak, total, warmup_fraction=draw(st.floats(0.0, 0.3)),
                            floor=draw(st.floats(0.01, 0.9)))
    if kind == "step":
        return StepDecay(peak, total, boundaries=(0.3, 0.6, 0.8), factor=draw(st.floats(0.1, 0.9)))
    w = draw(st.floats(0.0, 0.3))
    return WSD(peak, total, warmup_fraction=w, decay_fraction=draw(st.floats(0.05, 1.0 - w)),
               floor=draw(fractions), decay=draw(st.sampled_from(["linear", "cosine", "sqrt"])))


factors = st.floats(1.05, 4.0)
batches0 = st.floats(1.0, 64.0)
ps = st.floats(0.0, 2.0)


def _phase_at(taus: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """Number of milestones at or before each sample count: the phase a step starting there is in."""
    return np.searchsorted(taus, samples * (1 + 1e-12), side="right")


@settings(max_examples=40)
@given(base=bases(), b0=batches0, f=factors, p=ps, cap=st.none() | st.floats(1.0, 1e4))
# Found unseeded: 999 steps of 1 + 2^-52 leave a last "step" of 0.99999999999989 < 1 samples, which
# the schedule used to keep and then reject; it now joins the step before.
@example(base=Linear(1.0, 1000), b0=1.0000000000000002, f=2.0, p=0.0, cap=None)
def test_exact_mode_properties(base, b0, f, p, cap):
    if cap is not None:
        cap = max(cap, b0)
    s = seesaw_schedule(base, b0, f, p=p, batch_cap=cap)
    taus = np.array(s.metadata["milestones"])
    # Sample conservation.
    assert s.total_samples == pytest.approx(base.total_samples, rel=1e-12)
    # Milestone consumption: every step is in the phase of its first sample, whatever it crossed
    # (steps starting within float rounding of a milestone may go either way).
    before = s.samples_before.astype(np.float64)
    phase = s.metadata["phase_of_step"]
    clear = np.ones(before.shape, dtype=bool)
    if taus.size:
        i = np.searchsorted(taus, before)
        left = np.abs(before - taus[np.maximum(i - 1, 0)])
        right = np.abs(taus[np.minimum(i, taus.size - 1)] - before)
        clear = np.minimum(left, right) > 1e-9 * base.total_samples
    assert np.array_equal(phase[clear], _phase_at(taus, before)[clear])
    # Monotone batch, to the very end (a last step smaller than the one before is merged into it).
    assert np.all(np.diff(s.batch) >= 0)
    n_phases = taus.size + 1
    expected_b = phase_batches(b0, f, n_phases, p=p, batch_cap=cap)[phase]
    assert np.allclose(s.batch[:-1], expected_b[:-1], rtol=1e-12)
    assert s.batch[-1] < 2 * expected_b[-1] * (1 + 1e-12)
    # Warmup untouched: base rate at B_0; afterwards the NSGD temperature η/√B follows f^{-k}.
    warm = before < base.warmup_samples
    assert np.allclose(s.lr[warm], base(before[warm]), rtol=1e-12)
    assert np.all(s.batch[warm][:-1] == b0)
    post = ~warm
    post[-1] = False
    temperature = s.lr[post] / np.sqrt(s.batch[post])
    assert np.allclose(temperature, base.peak / math.sqrt(b0) * f ** -phase[post].astype(float), rtol=1e-10)


@settings(max_examples=40)
@given(base=bases(), b0=batches0, f=factors)
def test_step_count_brackets_the_phase_count(base, b0, f):
    # Each step starts in some phase and its batch is that phase's, which is ≤ the batch of any later
    # phase it spills into: its share of Σ D_k/B_k is ≤ 1, so steps ≥ the phase count (less one for
    # the remainder merged into the last step). Each phase adds at most one partial step.
    s = seesaw_schedule(base, b0, f)
    count = phase_serial_steps(base, b0, f)
    n_phases = len(s.metadata["milestones"]) + 1
    assert count - 1 <= s.serial_steps <= count + n_phases + 1e-9


def test_a_step_crossing_several_milestones_consumes_them_all():
    # Linear decay to 0 over 64 samples with halvings: milestones 32, 48, 56, 60, 62, 63, … The step
    # starting at 48 (phase 2, batch 16) covers 48 … 64 and so crosses 56, 60, 62, 63, …: nothing
    # is left over for another step, and phases 3, 4, … never get a step.
    s = seesaw_schedule(Linear(1.0, 64.0), 4, 2.0)
    assert s.metadata["milestones"][:6] == (32.0, 48.0, 56.0, 60.0, 62.0, 63.0)
    assert s.batch.tolist() == [4.0] * 8 + [8.0, 8.0, 16.0]
    assert s.metadata["phase_of_step"].tolist() == [0] * 8 + [1, 1, 2]
    # With B_0 = 6 steps straddle the milestones; the step at 30 (phase 0) crosses 32, the step at
    # 36 is in phase 1, at 48 phase 2 (the boundary belongs to the new phase), at 72 … beyond.
    t = seesaw_schedule(Linear(1.0, 96.0), 6, 2.0)
    assert t.samples_before.tolist()[:9] == [0, 6, 12, 18, 24, 30, 36, 42, 48]
    assert t.metadata["phase_of_step"].tolist()[:9] == [0, 0, 0, 0, 0, 0, 0, 0, 1]


@settings(max_examples=30)
@given(base=bases(), b0=batches0, f=factors)
def test_p_equal_one_is_seesaw(base, b0, f):
    # Seesaw from its definition: after milestone k, η_0 f^{-k/2} and B_0 f^k.
    s = seesaw_schedule(base, b0, f)
    assert np.array_equal(s.lr, seesaw_schedule(base, b0, f, p=1.0).lr)
    k = s.metadata["phase_of_step"][:-1]
    post = s.samples_before[:-1] >= base.warmup_samples
    assert np.allclose(s.lr[:-1][post], base.peak * f ** (-0.5 * k[post]), rtol=1e-12)
    assert np.allclose(s.batch[:-2], b0 * f ** k[:-1].astype(float), rtol=1e-12)


@settings(max_examples=30)
@given(base=bases(), b0=st.integers(1, 64), f=factors)
@example(base=PowerDecay(1.0, 1024.0, power=4.0), b0=1, f=2.0)
@example(base=PowerDecay(1.0, 1025.0, power=4.0), b0=1, f=2.0)
def test_p_equal_zero_is_the_base(base, b0, f):
    # p = 0: batch B_0 throughout and the base's staircase η_0 f^{-k}: within a factor f of the base,
    # and never below it, at every step's first sample.
    s = seesaw_schedule(base, b0, f, p=0.0)
    assert np.all(s.batch[:-1] == b0)
    # A step that starts within a relative 1e-12 of a milestone starts on it (seesaw's _BOUNDARY_RTOL:
    # e.g. T = 1000.0000000000001 puts the 0.3 boundary at sample 300.00000000000006, and the step at
    # sample 300 is the first of the new phase), so the base is read just past each step's start.
    # The upper bound also reads the base at the step's own start: near a decay to 0 the nudge alone moves
    # the base by more than the tolerance (PowerDecay(1, 1024, power=4) at sample 1023: 4e-9 relative).
    before = s.samples_before * (1 + 1e-12)
    rate = base(before)
    assert np.all(s.lr >= rate * (1 - 1e-9))
    # Levels below 1e-12 η_0 are not milestones (docs/math.md#seesaw-rule): past them the staircase stays at its last
    # level, so the upper bound holds where the base is still above that floor (PowerDecay(1, 1025, power=4) ends at
    # 9.1e-13, under the floor, with the staircase at 2^-39).
    above = base(s.samples_before) >= 1e-12 * base.peak
    assert np.all((s.lr <= f * np.maximum(rate, base(s.samples_before)) * (1 + 1e-9))[above])


@pytest.mark.parametrize("f", [1.1, 2.0, math.sqrt(2.0)])
def test_p_equal_zero_reproduces_a_step_decay_base_exactly(f):
    # A step decay by 1/f is its own staircase, so the p = 0 transform is the base itself.
    base = StepDecay(0.3, 4000.0, boundaries=(0.25, 0.5, 0.75), factor=1 / f)
    s = seesaw_schedule(base, 8, f, p=0.0, rounding="floor")
    ref = Schedule.from_shape(base, 8)
    assert np.array_equal(s.batch, ref.batch)
    assert np.allclose(s.lr, ref.lr, rtol=1e-12)


def test_batch_cap_hands_the_rest_of_the_decay_to_the_learning_rate():
    base = StepDecay(1.0, 1600.0, boundaries=(0.25, 0.5, 0.75), factor=0.5)
    s = seesaw_schedule(base, 4, 2.0, batch_cap=10, rounding="floor")
    # Phases of 400 samples at batches 4, 8, 8, 8 (16 > cap); lr 1, 1/√2, then × 1/2 per milestone.
    phases = s.metadata["phase_of_step"]
    assert [int(s.batch[phases == k][0]) for k in range(4)] == [4, 8, 8, 8]
    lr = [float(s.lr[phases == k][0]) for k in range(4)]
    assert lr == pytest.approx([1.0, 2**-0.5, 2**-1.5, 2**-2.5], rel=1e-12)
    assert s.serial_steps == 100 + 3 * 50
    assert phase_learning_rates(1.0, 2.0, 4, initial_batch=4, batch_cap=10).tolist() == pytest.approx(lr)


@settings(max_examples=30)
@given(base=bases(whole=True), b0=st.integers(1, 64), f=factors, p=ps,
       rounding=st.sampled_from(["floor", "nearest", "released"]))
def test_integer_modes_conserve_samples_and_round_by_their_rule(base, b0, f, p, rounding):
    s = seesaw_schedule(base, b0, f, p=p, rounding=rounding)
    assert s.integer_batch and s.total_samples == int(base.total_samples)
    assert np.all(np.diff(s.batch) >= 0)
    k = s.metadata["phase_of_step"][:-1]
    expected = [round_batch(b, rounding) for b in phase_batches(b0, f, int(k.max()) + 1, p=p)]
    assert s.batch[:-1].tolist() == [expected[j] for j in k]


def test_round_batch_rules():
    assert round_batch(100 * 1.1**2, "floor") == 121  # 121.00000000000003 or 120.99999999999999
    assert round_batch(120.99999999999999, "floor") == 121
    assert round_batch(120.5, "floor") == 120
    assert round_batch(120.5, "nearest") == 121
    assert round_batch(33.2, "released") == 34  # ⌊33.2⌋ = 33 ≡ 1 (mod 32) → ⌈33.2⌉
    assert round_batch(65.9, "released") == 66  # 65 ≡ 1 (mod 32)
    assert round_batch(64.9, "released") == 64
    assert round_batch(33.0, "released") == 33  # ⌈33⌉ = 33: an integer stays
    with pytest.raises(ValueError, match="rounding must be one of"):
        round_batch(3.0, "ceil")


@settings(max_examples=25)
@given(base=bases(), b0=batches0, p=st.floats(0.0, 1.0), cap=st.none() | st.floats(1.0, 1e4))
def test_continuous_limit_properties(base, b0, p, cap):
    if cap is not None:
        cap = max(cap, b0)
    # The construction is one Python iteration per step: keep the horizon to ≲ 10^4 steps.
    base = type(base)(**{**base.__dict__, "total_samples": min(base.total_samples, 1e4 * b0)})
    s = continuous_seesaw(base, b0, p=p, batch_cap=cap)
    assert s.total_samples == pytest.approx(base.total_samples, rel=1e-12)
    assert np.all(np.diff(s.batch) >= -1e-9 * s.batch.max())
    before = s.samples_before
    post = before >= base.warmup_samples
    post[-1] = False
    # η/√B = η_base/√B_0 after the warmup (the cut last step excluded).
    assert np.allclose(s.lr[post] / np.sqrt(s.batch[post]), base(before[post]) / math.sqrt(b0), rtol=1e-10)
    if cap is not None:  # the remainder may be merged into the last step
        assert s.batch[:-1].max(initial=0.0) <= cap * (1 + 1e-12) and s.batch[-1] < 2 * cap


def test_discrete_ramp_approaches_the_continuous_limit():
    base = WarmupCosine(1.0, 2e5)
    cont = continuous_seesaw(base, 8).serial_steps
    gaps = [abs(seesaw_schedule(base, 8, f).serial_steps - cont) for f in (2.0, 1.1, 1.01)]
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] / cont < 0.01


def test_milestones_of_the_released_base():
    # docs/math.md#token-mode: the crossings of the warmup + cosine base at 1.1^{-k} are the released τ_k
    # (before rounding to whole tokens), k = 1 … 24.
    base = WarmupCosine(1.0, 3.3e9)
    taus = milestones(base, 1.1)
    assert taus.size == 24
    w = 0.1 * 3.3e9
    k = np.arange(1, 25)
    c = 2 * (1.1**-k - 0.1) / 0.9 - 1
    assert np.allclose(taus, w + (3.3e9 - w) * np.arccos(c) / np.pi, rtol=1e-13)


def test_errors_name_the_argument():
    base = Linear(1.0, 100.0)
    with pytest.raises(ValueError, match="factor must be > 1; got 1.0"):
        seesaw_schedule(base, 4, 1.0)
    with pytest.raises(ValueError, match=r"p must lie in \[0, 2\]"):
        seesaw_schedule(base, 4, 2.0, p=-0.5)
    with pytest.raises(ValueError, match="batch_cap must be ≥ initial_batch"):
        seesaw_schedule(base, 4, 2.0, batch_cap=2)
    with pytest.raises(ValueError, match="whole number of samples"):
        seesaw_schedule(Linear(1.0, 100.5), 4, 2.0, rounding="floor")
    with pytest.raises(TypeError, match="base must be an LRShape"):
        seesaw_schedule("cosine", 4, 2.0)
    with pytest.raises(ValueError, match="initial_batch must be ≥ 1"):
        continuous_seesaw(base, 0.5)


@settings(max_examples=30)
@given(base=bases(whole=True), b0=st.integers(1, 64), f=factors, p=ps,
       rounding=st.sampled_from(["floor", "nearest", "released", "exact"]))
@example(base=Linear(1.0, 1000.0, final=0.5), b0=1, f=1.25, p=1.0, rounding="exact")  # remainder 1.16 batches
def test_separate_remainder_keeps_the_last_batch_at_most_the_one_before(base, b0, f, p, rounding):
    # remainder="separate" (issue #21): the same steps as "merge" but the last, a last step no larger
    # than its phase's batch (merged: below twice it), and exactly the base's samples either way.
    merged = seesaw_schedule(base, b0, f, p=p, rounding=rounding)
    kept = seesaw_schedule(base, b0, f, p=p, rounding=rounding, remainder="separate")
    assert kept.total_samples == pytest.approx(merged.total_samples, rel=1e-12)
    assert kept.metadata["remainder"] == "separate" and merged.metadata["remainder"] == "merge"
    phase = merged.metadata["phase_of_step"][-1]
    top = phase_batches(b0, f, phase + 1, p=p)[phase]
    top = top if rounding == "exact" else round_batch(top, rounding)
    # Never above the phase's batch, except a remainder under two samples (it cannot be split into steps of
    # at least one sample), which exceeds it by less than one sample.
    assert kept.batch[-1] <= top * (1 + 1e-12) or (kept.batch[-1] < 2.0 and kept.batch[-1] - top < 1.0)
    assert np.all(kept.batch >= 1.0 - 1e-12)
    assert merged.batch[-1] < 2 * top * (1 + 1e-12) + 1
    assert kept.serial_steps - merged.serial_steps in (0, 1)
    n = merged.serial_steps - 1
    assert np.array_equal(kept.batch[:n], merged.batch[:n]) and np.array_equal(kept.lr[:n], merged.lr[:n])


def test_merged_remainder_is_documented_and_bounded_by_twice_the_phase_batch():
    base = Linear(1.0, 100.0)
    merged = seesaw_schedule(base, 4, 2.0, rounding="floor")
    kept = seesaw_schedule(base, 4, 2.0, rounding="floor", remainder="separate")
    assert merged.batch[-3:].tolist() == [8, 8, 24] and kept.batch[-3:].tolist() == [8, 16, 8]
    assert merged.batch[-1] < 2 * 16
    with pytest.raises(ValueError, match="remainder must be one of"):
        seesaw_schedule(base, 4, 2.0, remainder="drop")


@settings(max_examples=30)
@given(base=bases(whole=True), b0=st.integers(1, 64), f=factors, q=st.floats(-0.5, 1.5))
def test_lr_power_sets_the_rate_cut_per_milestone_and_keeps_the_batches(base, b0, f, q):
    # (α, β) = (f^q, f): the batches (hence the serial steps) are Seesaw's; the rate after the warmup is
    # η₀ f^{−q k} in phase k (issue #24 item 4: q = 0 is the paper's "fixed LR" arm (1, f)).
    seesaw = seesaw_schedule(base, b0, f, rounding="floor")
    other = seesaw_schedule(base, b0, f, rounding="floor", lr_power=q)
    assert np.array_equal(other.batch, seesaw.batch) and other.serial_steps == seesaw.serial_steps
    phases = other.metadata["phase_of_step"]
    after = other.samples_before >= base.warmup_samples
    want = base.peak * f ** (-q * phases[after].astype(float))
    np.testing.assert_allclose(other.lr[after], want, rtol=1e-12)
    assert other.metadata["lr_power"] == q and seesaw.metadata["lr_power"] == 0.5


def test_fixed_lr_arm_holds_the_rate():
    base = Linear(1.0, 4096.0)
    fixed = seesaw_schedule(base, 8, 2.0, rounding="floor", lr_power=0.0)
    assert np.all(fixed.lr == 1.0) and fixed.batch[-2] > 8
    with pytest.raises(ValueError, match="lr_power"):
        seesaw_schedule(base, 8, 2.0, lr_power=float("nan"))
