"""Reliability of the Seesaw / LR-shape layer: bounded work, no self-rejected output, clear errors.

docs/math.md#seesaw-rule. Reference values come from independent plain loops written here: the
phase-by-phase construction that enumerates every milestone (the definition, feasible for moderate
factors), and the one-by-one milestone enumeration. The hang guard is a generous deadline (a hang
detector, not a speed assertion); the work bound itself is checked by counting crossings.
"""

from __future__ import annotations

import contextlib
import math
import signal

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import ramplab.theory.schedules._seesaw as seesaw_module
from ramplab.theory.schedules import (
    WSD,
    Constant,
    Cosine,
    LRShape,
    Linear,
    Schedule,
    StepDecay,
    WarmupCosine,
    continuous_seesaw,
    continuous_serial_steps,
    milestones,
    phase_batches,
    phase_learning_rates,
    phase_serial_steps,
    round_batch,
    seesaw_schedule,
    seesaw_step_reduction,
    step_reduction,
)
from ramplab.theory.schedules._milestones import first_true

HANG_SECONDS = 120  # far above any legitimate run here (well under a second each)


@contextlib.contextmanager
def deadline(seconds: float = HANG_SECONDS):
    """Fail (rather than hang the suite) when the block has not returned after ``seconds``."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def expire(*_):
        raise AssertionError(f"did not return within {seconds} s (a hang)")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _zero_lr_schedules_allowed() -> bool:
    try:
        Schedule([0.0], [1])
    except ValueError:
        return False
    return True


def _check_schedule(s: Schedule, base: LRShape, b0: float) -> None:
    """Samples conserved, batches ≥ 1 and non-decreasing (segment-wise), rates finite."""
    seg = s.segments
    assert float(s.total_samples) == pytest.approx(base.total_samples, rel=1e-12)
    assert np.all(np.isfinite(seg.lr)) and np.all(seg.lr >= 0)
    assert np.all(seg.batch >= 1) and np.all(np.diff(seg.batch) >= 0)
    assert seg.batch[0] == pytest.approx(b0) or seg.steps.sum() == 1


# ------------------------------------------------------------------------ 1. bounded work
HOSTILE_FACTORS = [1 + 1e-12, 1.0000000000000002, 1 + 1e-9, 1.001, 1e6, 1e300]
DECAYING_BASES = {
    "cosine": Cosine(0.1, 4096),
    "linear-to-0": Linear(1.0, 2e4),
    "warmup-cosine-to-0": WarmupCosine(1.0, 2e4, floor=0.0),
    "wsd-sqrt-to-0": WSD(1.0, 2e4, warmup_fraction=0.1, decay_fraction=0.5, decay="sqrt"),
    "quarter": Cosine(2.0, 2e4, quarter=True),
    "step": StepDecay(1.0, 2e4, boundaries=(0.25, 0.5, 0.75), factor=0.1),
    "constant": Constant(0.3, 2e4),
}


@pytest.mark.parametrize("factor", HOSTILE_FACTORS, ids=repr)
@pytest.mark.parametrize("name", list(DECAYING_BASES))
def test_hostile_factors_return_valid_schedules(name, factor):
    base = DECAYING_BASES[name]
    with deadline():
        s = seesaw_schedule(base, 4, factor)
        t = seesaw_schedule(base, 4, factor, p=2.0, rounding="floor")
    _check_schedule(s, base, 4)
    _check_schedule(t, base, 4)
    assert s.metadata["milestone_count"] >= 0


def test_factor_that_rounds_to_one_is_rejected_naming_it():
    with pytest.raises(ValueError, match=r"factor must be > 1; got 1\.0"):
        seesaw_schedule(Cosine(0.1, 4096), 4, 1 + 1e-300)


def test_work_grows_with_segments_not_levels(monkeypatch):
    # Cosine to 0 at f = 1 + 1e-12: ~2.8e13 levels above 1e-12 η_0, yet the schedule has one
    # segment per step (~500) and costs a few crossings per segment plus O(log levels) to count.
    calls = {"n": 0}
    crossing = LRShape._crossing_rel

    def counted(self, ell):
        calls["n"] += 1
        return crossing(self, ell)

    monkeypatch.setattr(LRShape, "_crossing_rel", counted)
    with deadline():
        s = seesaw_schedule(Cosine(0.1, 4096), 4, 1 + 1e-12)
    levels = math.log(1e12) / math.log1p(1e-12)
    assert s.metadata["milestone_count"] > 0.99 * levels  # all but the last level lie inside
    assert s.metadata["milestones"] is None  # too many to list
    runs = s.metadata["phase_runs"][0].shape[0]
    assert calls["n"] <= 4 * runs + 4 * math.log2(levels)
    # Every step starts a new phase here: the continuous limit, which it approaches.
    cont = continuous_seesaw(Cosine(0.1, 4096), 4)
    assert abs(s.serial_steps - cont.serial_steps) <= 2


def test_segment_guard_raises_naming_the_arguments(monkeypatch):
    monkeypatch.setattr(seesaw_module, "MAX_SEGMENTS", 64)
    with deadline(), pytest.raises(ValueError, match=r"MAX_SEGMENTS = 64.*factor \(got 1\.000000001\).*initial_batch"):
        seesaw_schedule(Linear(1.0, 1e5), 1, 1 + 1e-9)
    with deadline(), pytest.raises(ValueError, match=r"MAX_SEGMENTS = 64.*initial_batch \(got 1\.0\)"):
        continuous_seesaw(Cosine(1.0, 1e5), 1)
    # A long constant stretch is one segment, not one per step: still fine under the guard.
    s = continuous_seesaw(WSD(1.0, 1e7, decay_fraction=1e-5), 1)
    assert s.serial_steps > 9.9e6 and s.segments.lr.shape[0] < 64


def test_huge_step_counts_are_segments():
    # 10^15 steps at batch 1: one segment each (per-step arrays would need petabytes).
    with deadline():
        s = seesaw_schedule(Constant(1.0, 1e15), 1, 2.0, rounding="floor")
        c = continuous_seesaw(Constant(1.0, 1e15), 1, rounding="floor")
        lin = seesaw_schedule(Linear(1.0, 1e15), 1, 2.0)
    assert s.segments.steps.tolist() == [10**15] and s.total_samples == 10**15
    assert c.segments.steps.tolist() == [10**15]
    assert lin.segments.lr.shape[0] <= 41 and float(lin.total_samples) == pytest.approx(1e15, rel=1e-12)
    assert lin.metadata["phase_of_step"] is None  # 6·10^14 steps: not listed per step
    with pytest.raises(ValueError, match="initial_batch .*total_samples"):
        seesaw_schedule(Constant(1.0, 1e300), 1, 2.0)


def test_warmup_guard_names_initial_batch():
    with pytest.raises(ValueError, match=r"MAX_WARMUP_STEPS.*initial_batch \(got 1\.0\)"):
        seesaw_schedule(WarmupCosine(1.0, 1e9), 1, 2.0)
    with pytest.raises(ValueError, match=r"MAX_WARMUP_STEPS.*initial_batch \(got 1\.0\)"):
        continuous_seesaw(WarmupCosine(1.0, 1e9), 1)


# ------------------------------------------------------- the milestones, counted and listed
def _milestones_one_by_one(base: LRShape, f: float, min_level: float = 1e-12) -> list[float]:
    """The definition: crossings of η_0 f^{−k}, k = 1, 2, …, while above min_level and inside."""
    out, k = [], 1
    while f**-k >= min_level:
        tau = base.crossing(base.peak * f**-k)
        if not tau < base.total_samples:
            break
        out.append(tau)
        k += 1
    return out


@st.composite
def shapes(draw):
    """Built-in shapes; peaks are powers of two, so η_0 f^{−k} / η_0 = f^{−k} exactly and the
    definition's crossings (of η_0 f^{−k}) are bit-for-bit the library's (of the level f^{−k})."""
    total = draw(st.floats(10.0, 1e7))
    kind = draw(st.sampled_from(["linear", "cosine", "quarter", "warmup", "wsd", "step", "constant"]))
    final = draw(st.sampled_from([0.0, 0.01, 0.3]))
    if kind == "linear":
        return Linear(1.0, total, final=final)
    if kind in ("cosine", "quarter"):
        return Cosine(0.5, total, final=final, quarter=kind == "quarter")
    if kind == "warmup":
        return WarmupCosine(2.0, total, warmup_fraction=draw(st.floats(0.0, 0.5)),
                            warmup_start=draw(st.floats(0.0, 1.0)), floor=final)
    if kind == "wsd":
        return WSD(1.0, total, warmup_fraction=0.1, decay_fraction=draw(st.floats(0.0, 0.9)), floor=final,
                   decay=draw(st.sampled_from(["linear", "cosine", "sqrt"])), warmup_start=0.0)
    if kind == "step":
        return StepDecay(1.0, total, boundaries=(0.2, 0.5, 0.9), factor=draw(st.floats(1e-3, 1.0)))
    return Constant(1.0, total)


@settings(max_examples=60)
@given(base=shapes(), f=st.floats(1.05, 50.0))
def test_milestone_count_and_values_match_the_one_by_one_enumeration(base, f):
    assert milestones(base, f).tolist() == _milestones_one_by_one(base, f)


def test_milestones_of_a_factor_near_one_closed_form():
    # Linear to 0: τ_k = D (1 − f^{−k}); with min_level = 0.999 only ⌊ln(1/0.999)/ln f⌋ levels count.
    f = 1.0001
    got = milestones(Linear(1.0, 100.0), f, min_level=0.999)
    k = np.arange(1, math.floor(math.log(1 / 0.999) / math.log(f)) + 1)
    assert got.shape == (10,)
    assert np.allclose(got, 100.0 * (1 - f**-k), rtol=1e-13)
    with deadline(), pytest.raises(ValueError, match=r"factor=1\.000000000001 gives \d+ milestones.*max_count"):
        milestones(Linear(1.0, 100.0), 1 + 1e-12)


@settings(max_examples=300)
@given(bits=st.lists(st.booleans(), min_size=0, max_size=40).map(sorted), guess=st.integers(-5, 50))
def test_first_true_is_the_first_index_of_a_monotone_predicate(bits, guess):
    reference = next((j for j, b in enumerate(bits) if b), len(bits))
    assert first_true(lambda j: bits[j], 0, len(bits), guess) == reference


# ----------------------------------------- the phase-by-phase definition as a plain reference
def _seesaw_by_phases(base, b0, f, p=1.0, cap=None, rounding="exact"):
    """Plain loop over every phase (the pre-segment construction), per-step arrays throughout."""
    taus = _milestones_one_by_one(base, f)
    ends = taus + [base.total_samples]
    j_cap = math.inf
    if cap is not None and p > 0:
        j_cap = math.floor(math.log(cap / b0) / (p * math.log(f)) * (1 + 1e-12) + 1e-12)
    total = base.total_samples
    pos, lr, batch, starts, phase = 0.0, [], [], [], []
    for k, end in enumerate(ends):
        if pos >= end * (1 - 1e-12) and k < len(ends) - 1:
            continue
        j = min(k, j_cap)
        b_real = b0 * f ** (p * j)
        b = b_real if rounding == "exact" or b_real >= total - pos else float(round_batch(b_real, rounding))
        n = max(1, math.ceil((end - pos) / b - 1e-12 * max(1.0, end / b)))
        for i in range(n):
            starts.append(pos + b * i)
        lr += [base.peak * f ** (-(1 - 0.5 * p) * j - (k - j))] * n
        batch += [b] * n
        phase += [k] * n
        pos = pos + n * b
        if pos >= total:
            break
    lr, batch, starts = np.array(lr), np.array(batch), np.array(starts)
    warm = starts < base.warmup_samples
    lr[warm] = base(starts[warm])
    rest = total - np.cumsum(batch[:-1])[-1] if batch.shape[0] > 1 else total
    if batch.shape[0] > 1 and (rest < batch[-2] * (1 - 1e-12) or rest < 1):
        batch[-2] = max(batch[-2] + rest, batch[-2])
        lr, batch, phase = lr[:-1], batch[:-1], phase[:-1]
    else:
        batch[-1] = rest
    return lr, batch, np.array(phase)


@settings(max_examples=60)
@given(base=shapes(), b0=st.floats(1.0, 40.0), f=st.floats(1.05, 8.0), p=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
       cap=st.none() | st.floats(1.0, 1e3), rounding=st.sampled_from(["exact", "floor", "released"]))
@example(base=Linear(1.0, 1000.0), b0=1.0000000000000002, f=2.0, p=0.0, cap=None, rounding="exact")
def test_segments_reproduce_the_phase_by_phase_construction(base, b0, f, p, cap, rounding):
    if rounding != "exact":
        base = type(base)(**{**base.__dict__, "total_samples": float(math.ceil(base.total_samples))})
        b0 = float(math.floor(b0))
    if cap is not None:
        cap = max(cap, b0)
    base = type(base)(**{**base.__dict__, "total_samples": min(base.total_samples, 2e4 * b0)})
    if base.warmup_samples > 0 and base(0.0)[()] == 0 and not _zero_lr_schedules_allowed():
        base = type(base)(**{**base.__dict__, "warmup_start": 0.5})
    s = seesaw_schedule(base, b0, f, p=p, batch_cap=cap, rounding=rounding)
    lr, batch, phase = _seesaw_by_phases(base, b0, f, p, cap, rounding)
    assert np.array_equal(s.batch.astype(float), batch)
    assert np.array_equal(s.lr, lr)
    assert np.array_equal(s.metadata["phase_of_step"], phase)


# ------------------------------------------------------------- 2. rounding in construction
@settings(max_examples=80)
@given(ulps=st.integers(1, 2**20), total=st.integers(1, 5000), p=st.floats(0.0, 2.0), f=st.floats(1.01, 3.0))
@example(ulps=1, total=1000, p=0.0, f=2.0)
def test_batches_just_above_one_never_leave_a_last_step_below_one(ulps, total, p, f):
    b0 = 1.0 + ulps * 2.0**-52
    s = seesaw_schedule(Linear(1.0, float(total)), b0, f, p=p)
    assert s.segments.batch.min() >= 1.0
    assert float(s.total_samples) == pytest.approx(total, rel=1e-12)


def test_last_step_below_one_sample_joins_the_step_before():
    # 1000 samples at B_0 = 1 + 2^{-52}: 999 full steps leave 1 − 999·2^{-52} < 1, which cannot be a
    # step; it joins step 999 (batch ≈ 2) instead of being rejected by Schedule as "batch < 1".
    b0 = 1.0000000000000002
    s = seesaw_schedule(Linear(1.0, 1000), b0, 2.0, p=0)
    assert s.serial_steps == 999
    assert np.all(s.batch[:-1] == b0)
    assert s.batch[-1] == pytest.approx(2.0, abs=1e-12)
    assert float(s.total_samples) == pytest.approx(1000.0, rel=1e-15)
    c = continuous_seesaw(Linear(1.0, 1000), b0, p=0)
    assert c.serial_steps == 999 and c.batch.min() >= 1.0


# ------------------------------------------------------------------------ 3. bad input
BAD_POSITIONS = [
    (float("nan"), ValueError, "got nan"), (float("inf"), ValueError, "got inf"),
    (-float("inf"), ValueError, "got -inf"), (-1.0, ValueError, r"got -1\.0"),
    ([0.0, float("nan")], ValueError, "got nan at index 1"), ([[1.0], [-2.0]], ValueError, r"got -2\.0 at index \(1, 0\)"),
    ("a", TypeError, "got 'a'"), (True, TypeError, "got True"), (None, TypeError, "got None"),
    (np.array([1 + 2j]), TypeError, "real sample counts"), ([True, False], TypeError, r"got \[True, False\]"),
    ([1.0, "x"], TypeError, "real sample counts"),
]


@pytest.mark.parametrize("value, error, match", BAD_POSITIONS, ids=[repr(v[0]) for v in BAD_POSITIONS])
@pytest.mark.parametrize("shape", [Cosine(0.1, 400), Linear(1.0, 10.0), WarmupCosine(1.0, 100.0), Constant(1.0, 5.0),
                                   StepDecay(1.0, 10.0), WSD(1.0, 10.0)], ids=lambda s: type(s).__name__)
def test_shapes_reject_bad_sample_positions(shape, value, error, match):
    with pytest.raises(error, match="samples must be.*" + match):
        shape(value)


def test_shapes_accept_good_positions():
    c = Cosine(0.1, 400)
    assert c([]).shape == (0,)
    assert c(1e300) == pytest.approx(0.0, abs=1e-15)  # past the horizon: the rate at its end
    assert c(np.int64(200)) == pytest.approx(0.05)
    assert c(-0.0) == 0.1


BAD_ARGUMENTS = [
    (lambda: Cosine(0.1, 400, quarter="no"), TypeError, "quarter must be a bool; got 'no'"),
    (lambda: StepDecay(1.0, 10, boundaries="0.5"), TypeError, "boundaries must be a sequence.*got '0.5'"),
    (lambda: StepDecay(1.0, 10, boundaries=None), TypeError, "boundaries must be a sequence.*got None"),
    (lambda: StepDecay(1.0, 10, boundaries=(0.5, float("nan"))), ValueError, r"boundaries .*got \(0\.5, nan\)"),
    (lambda: StepDecay(1.0, 10, boundaries=(0.6, 0.5)), ValueError, "strictly increasing"),
    (lambda: StepDecay(1.0, 10, boundaries=(0.2, 0.4, 0.6, 0.8), factor=1e300), ValueError, "factor=1e.300 overflows"),
    (lambda: Cosine(0.1, 400).integral(-1.0, 10.0), ValueError, r"start must be a sample count ≥ 0; got -1\.0"),
    (lambda: Cosine(0.1, 400).integral(0.0, float("nan")), ValueError, "stop must be finite; got nan"),
    (lambda: Cosine(0.1, 400).crossing(float("nan")), ValueError, "level must be finite; got nan"),
    (lambda: round_batch(float("nan")), ValueError, "batch must be finite; got nan"),
    (lambda: round_batch(True), TypeError, "batch must be a real number; got True"),
    (lambda: round_batch(3.0, None), TypeError, "rounding must be one of"),
    (lambda: milestones(Linear(1.0, 10.0), float("nan")), ValueError, "factor must be finite; got nan"),
    (lambda: milestones(Linear(1.0, 10.0), True), TypeError, "factor must be a real number; got True"),
    (lambda: milestones(Linear(1.0, 10.0), 2.0, min_level=0.0), ValueError, "min_level must lie in"),
    (lambda: phase_batches(1, 2.0, 10**12), ValueError, "phases must be at most"),
    (lambda: phase_batches(1, 2.0, True), ValueError, "phases must be a positive integer; got True"),
    (lambda: phase_batches(1, 1e300, 3), ValueError, "factor=1e.300 makes the batch of phase 2 overflow"),
    (lambda: phase_learning_rates(float("nan"), 2.0, 3), ValueError, "peak must be finite; got nan"),
    (lambda: seesaw_schedule(Cosine(0.1, 400), float("inf"), 2.0), ValueError, "initial_batch must be finite; got inf"),
    (lambda: seesaw_schedule(Cosine(0.1, 400), 4, 2.0, batch_cap=True), TypeError, "batch_cap must be a real"),
    (lambda: seesaw_schedule(Cosine(0.1, 400), 4, "2"), TypeError, "factor must be a real number; got '2'"),
    (lambda: seesaw_schedule(Cosine(0.1, 400), 4, 2.0, label=3), TypeError, "label must be a string; got 3"),
    (lambda: seesaw_schedule(Linear(1.0, 0.5), 1, 2.0), ValueError, r"base.total_samples must be ≥ 1.*got 0\.5"),
    (lambda: continuous_seesaw(Linear(1.0, 0.5), 1), ValueError, r"base.total_samples must be ≥ 1.*got 0\.5"),
    (lambda: continuous_seesaw(Cosine(0.1, 400), 4, p=float("nan")), ValueError, "p must be finite; got nan"),
    (lambda: phase_serial_steps(Cosine(1.0, 1.0), 1, 1 + 1e-9), ValueError, r"factor=1\.000000001 gives \d+ phases.*factor=None"),
    (lambda: seesaw_step_reduction(Cosine(1.0, 1.0), 1 + 1e-12), ValueError, "factor=1.000000000001 gives"),
    (lambda: seesaw_step_reduction(Cosine(1.0, 1.0), True), TypeError, "factor must be a real number; got True"),
    (lambda: continuous_serial_steps(Cosine(1.0, 1.0), 1, p=0.5, batch_cap=float("nan")), ValueError, "batch_cap must be finite"),
    (lambda: step_reduction(Schedule.constant(0.1, 4, steps=3), None), TypeError, "other must be a Schedule"),
]


@pytest.mark.parametrize("call, error, match", BAD_ARGUMENTS, ids=[f"bad-{i}" for i in range(len(BAD_ARGUMENTS))])
def test_helpers_raise_clear_errors_naming_the_argument(call, error, match):
    with deadline(), pytest.raises(error, match=match):
        call()


def test_extreme_but_legal_values():
    assert round_batch(1.7976931348623157e308, "floor") == int(1.7976931348623157e308)
    assert round_batch(1.7976931348623157e308, "released") == int(1.7976931348623157e308)
    assert milestones(Linear(1.0, 1000.0), 1e300).shape == (0,)
    s = seesaw_schedule(Cosine(0.1, 400), 1e300, 2.0)  # one step takes the whole horizon
    assert s.serial_steps == 1 and float(s.total_samples) == 400.0
    assert phase_batches(1, 1 + 1e-12, 3).tolist() == pytest.approx([1.0, 1.0, 1.0], rel=1e-11)


def test_continuous_limit_where_the_rate_rounds_to_zero_before_the_horizon():
    # 0.5 (1 + cos πu) is exactly 0 in float64 for u within ~1e-8 of 1: the batch is unbounded
    # there and the step takes the rest of the horizon (formerly an error "base rate is 0.0").
    base = Cosine(1.0, 1e9)
    assert base(1e9 - 1.0)[()] == 0.0
    s = continuous_seesaw(base, 1e6)
    _check_schedule(s, base, 1e6)


# ------------------------------------------------------------------- 4. zero learning rates
WARM_FROM_ZERO = [WarmupCosine(1.0, 100, warmup_start=0.0),
                  WSD(1.0, 100, warmup_fraction=0.1, decay_fraction=0.5, warmup_start=0.0)]


@pytest.mark.parametrize("base", WARM_FROM_ZERO, ids=lambda b: type(b).__name__)
def test_warmup_from_zero_in_the_accounting(base):
    twin = type(base)(**{**base.__dict__, "warmup_start": 0.5})  # the same shape after the warmup
    assert base(0.0)[()] == 0.0
    assert milestones(base, 1.1).tolist() == milestones(twin, 1.1).tolist()
    assert phase_serial_steps(base, 2, 1.1) == phase_serial_steps(twin, 2, 1.1)
    for p in (1.0, 0.5):  # closed form and quadrature: the warmup counts w / B_0 whatever its rate
        assert continuous_serial_steps(base, 2, p=p) == pytest.approx(continuous_serial_steps(twin, 2, p=p), rel=1e-9)
    assert math.isfinite(seesaw_step_reduction(base)) and math.isfinite(seesaw_step_reduction(base, 2.0))


@pytest.mark.parametrize("base", WARM_FROM_ZERO, ids=lambda b: type(b).__name__)
@pytest.mark.parametrize("build", ["seesaw", "continuous"])
def test_warmup_from_zero_in_the_builders(base, build):
    def make():
        if build == "seesaw":
            return seesaw_schedule(base, 2, 1.1)
        return continuous_seesaw(base, 2)

    if not _zero_lr_schedules_allowed():
        # The builders get as far as the Schedule, which does not take lr = 0 yet in this tree.
        with pytest.raises(ValueError, match="lr must be positive"):
            make()
        pytest.skip("Schedule([0.0], [1]) raises: zero-LR steps are not accepted by Schedule yet")
    s = make()
    _check_schedule(s, base, 2)
    before = s.samples_before
    warm = before < base.warmup_samples
    assert s.lr[0] == 0.0 and np.all(s.batch[warm][:-1] == 2)
    assert np.allclose(s.lr[warm], base(before[warm]))
    if build == "seesaw":  # milestones against η_0 after the warmup: the same as the twin's
        twin = type(base)(**{**base.__dict__, "warmup_start": 0.5})
        t = seesaw_schedule(twin, 2, 1.1)
        assert s.metadata["milestones"] == t.metadata["milestones"]
        assert np.array_equal(s.lr[~warm], t.lr[~warm]) and np.array_equal(s.batch, t.batch)


# ----------------------------------------------------- the scalar fast paths of the shapes
@settings(max_examples=100)
@given(shape=shapes(), u=st.floats(0.0, 1.0))
def test_scalar_rate_matches_the_array_rate(shape, u):
    # math.cos and NumPy's cos may differ in the last ulp, which 1 + cos(πu) can turn into an absolute
    # difference of ~1e-16 η_0 next to a zero of the profile.
    assert shape._rate1(u) == pytest.approx(float(shape._rate(np.array([u]))[0]), rel=1e-14, abs=1e-15 * shape.peak)


@settings(max_examples=100)
@given(shape=shapes(), u=st.floats(0.0, 0.999))
def test_flat_stretches_are_constant(shape, u):
    end = shape._flat_end(u)
    assert end >= u
    if end > u:
        grid = np.linspace(u, end, 101)[:-1]
        assert np.all(shape._rate(grid) == shape._rate(np.array([u]))[0])
