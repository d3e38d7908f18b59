"""The reference-compatible token mode (docs/math.md#token-mode) against a literal per-batch transcription."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramplab.theory.schedules import (
    RELEASED_ALPHA_BETA,
    ReleasedRun,
    WarmupCosine,
    format_released_table,
    released_grid,
    released_milestones,
    released_seesaw_run,
)


def literal_run(D, L, B0, r=1 / 1.1, bf=1.1, lf=1.1**-0.5, w=0.1, af=0.1):
    """docs/math.md#token-mode read line by line: one Python iteration per batch (the independent oracle)."""
    warm = w * D
    k_max = int(math.log(af) / math.log(r))
    taus = []
    for k in range(1, k_max + 1):
        c = min(1.0, max(-1.0, 2 * (r**k - af) / (1 - af) - 1))
        taus.append(warm + round((D - warm) * math.acos(c) / math.pi))
    tokens, acc, k, lr = 0, float(B0), 0, 1.0
    batches, lrs = [], []
    while tokens < D:  # stop before a batch once tokens consumed ≥ D
        if k < k_max and tokens >= taus[k]:  # at most one milestone per batch
            acc *= bf
            lr = max(lr * lf, af)
            k += 1
        b = math.floor(acc)
        if b % 32 == 1:
            b = math.ceil(acc)
        batches.append(b)
        lrs.append(0.1 + 0.9 * tokens / warm if tokens < warm else lr)
        tokens += b * L
    return batches, lrs, tokens, k


@settings(max_examples=30)
@given(
    n=st.integers(5, 20_000),  # baseline steps, so the literal loop stays short
    extra=st.floats(0.0, 0.999),
    L=st.sampled_from([1, 16, 128, 1024]),
    B0=st.integers(1, 300),
    r=st.sampled_from([1 / 1.1, 0.5, 2**-0.5, 0.8]),
    bf=st.sampled_from([1.0, 1.1, math.sqrt(2), 2.0, 4.0]),
    lf=st.sampled_from([0.5, 2**-0.75, 1.1**-0.5, 0.9]),
)
def test_matches_the_literal_transcription(n, extra, L, B0, r, bf, lf):
    D = n * B0 * L + int(extra * B0 * L)
    batches, lrs, tokens, consumed = literal_run(D, L, B0, r, bf, lf)
    run = released_seesaw_run(D, L, B0, milestone_factor=r, batch_factor=bf, lr_factor=lf)
    assert run.batch.tolist() == batches
    assert np.allclose(run.lr, lrs, rtol=1e-12)
    assert run.tokens == tokens and run.milestones_consumed == consumed
    # Stop rule: the last batch starts below D and ends at or beyond it.
    assert run.tokens_before[-1] < D <= run.tokens


def test_main_runs_reduce_steps_by_384_percent():
    # docs/math.md#serial-step-reduction: "discretised ≈ 38.4 % (the logged runs)". Over the released grid (3 models ×
    # B_0 ∈ {128, …, 1024}) the replay gives 38.34 % … 38.43 %.
    reductions = []
    for _, D in (("150M", 3.3e9), ("300M", 6.6e9), ("600M", 13.2e9)):
        for B0 in (128, 256, 512, 1024):
            seesaw = released_seesaw_run(D, 1024, B0)
            cosine = released_seesaw_run(D, 1024, B0, batch_factor=1.0, lr_factor=1.0)
            assert cosine.steps == math.ceil(D / (B0 * 1024))
            assert seesaw.milestones_consumed == 24
            reductions.append(seesaw.reduction_vs(cosine))
    assert min(reductions) == pytest.approx(0.38343, abs=1e-5)
    assert max(reductions) == pytest.approx(0.38430, abs=1e-5)
    assert abs(np.mean(reductions) - 0.384) < 5e-4


def test_alpha_beta_runs_at_halvings_match_the_f2_number():
    # (√2, 2) with milestone factor 1/2 is Seesaw at f = 2: ≈ 28.1 % (docs/math.md#serial-step-reduction); (2, 1) changes
    # no batch, so it takes the baseline's steps.
    D, B0 = 6.6e9, 256
    cosine = released_seesaw_run(D, 1024, B0, batch_factor=1.0, lr_factor=1.0)
    steps = {}
    for alpha, beta in RELEASED_ALPHA_BETA:
        steps[(alpha, beta)] = released_seesaw_run(D, 1024, B0, 0.5, beta, 1 / alpha)
    assert steps[RELEASED_ALPHA_BETA[0]].steps == cosine.steps
    assert steps[RELEASED_ALPHA_BETA[2]].reduction_vs(cosine) == pytest.approx(0.281, abs=5e-4)
    # Larger β, fewer steps.
    counts = [steps[ab].steps for ab in RELEASED_ALPHA_BETA]
    assert counts == sorted(counts, reverse=True)


def test_learning_rates_staircase_and_cosine_baseline():
    run = released_seesaw_run(1_000_000, 1, 100, peak_lr=0.5)
    assert run.lr_mode == "staircase"
    # Warmup from 0.1 η_0, then η_0 · 1.1^{-k/2} after k milestones (floored at 0.1 η_0: not reached).
    assert run.lr[0] == pytest.approx(0.05)
    after = run.tokens_before >= 100_000
    k = np.searchsorted(run.milestones, run.tokens_before[after], side="right")
    # At most one milestone per batch: the counter can lag the tokens, never lead them.
    consumed = np.concatenate([[0], np.cumsum(np.diff(run.batch) > 0)])[after]
    assert np.all(consumed <= k)
    assert np.allclose(run.lr[after], 0.5 * 1.1 ** (-0.5 * consumed), rtol=1e-12)
    base = released_seesaw_run(1_000_000, 1, 100, batch_factor=1.0, lr_factor=1.0, peak_lr=0.5)
    assert base.lr_mode == "cosine" and np.all(base.batch == 100)
    shape = WarmupCosine(0.5, 1_000_000)
    assert np.allclose(base.lr, shape(base.tokens_before), rtol=1e-12)
    forced = released_seesaw_run(1_000_000, 1, 100, batch_factor=1.0, lr_factor=1.0, lr_mode="staircase")
    assert np.all(forced.lr[forced.tokens_before >= 100_000] == 1.0)


def test_floor_and_schedule_export():
    # 4 milestones at r = 1/2 would take η to η_0/16 < α_f η_0 = 0.1 η_0: the floor holds it.
    run = released_seesaw_run(10_000, 1, 10, milestone_factor=0.5, batch_factor=1.0, lr_factor=0.25)
    assert run.lr.min() == pytest.approx(0.1)
    s = run.schedule()
    assert s.serial_steps == run.steps and s.total_samples == run.tokens
    assert run.schedule(unit="tokens").total_samples == run.tokens * run.seq_len


def test_milestones_and_errors():
    # k_max truncates: int(log 0.1 / log 0.5) = 3, int(log 0.1 / log(1/1.1)) = 24.
    assert len(released_milestones(1000, 0.5)) == 3
    assert len(released_milestones(1000, 1 / 1.1)) == 24
    with pytest.raises(ValueError, match="total_tokens must be a positive whole number"):
        released_seesaw_run(1000.5, 1, 10)
    with pytest.raises(ValueError, match="batch_factor must be ≥ 1"):
        released_seesaw_run(1000, 1, 10, batch_factor=0.5)
    with pytest.raises(ValueError, match="lr_mode must be one of"):
        released_seesaw_run(1000, 1, 10, lr_mode="linear")
    with pytest.raises(ValueError, match="milestone_factor must lie in"):
        released_milestones(1000, 1.5)


def test_released_grid_table():
    rows = released_grid()
    assert len(rows) == 3 * (4 + 4 * 5 + 4)
    assert {r["group"] for r in rows} == {"main", "alpha_beta", "large_batch"}
    for r in rows:
        assert r["tokens"] >= r["total_tokens"] and r["baseline_tokens"] >= r["total_tokens"]
        assert r["reduction"] == pytest.approx(1 - r["steps"] / r["baseline_steps"])
    text = format_released_table(rows)
    assert text.count("\n") == len(rows)
    assert isinstance(released_seesaw_run(1000, 1, 10), ReleasedRun)


# ------------------------------------------------------------------ hostile-input regressions
def test_released_replay_refuses_what_it_cannot_finish():
    # r = 1 − 1e−12 gives k_max = ln 0.1 / ln r ≈ 2.3e12 milestones: formerly a loop that never ended.
    with pytest.raises(ValueError, match="milestone_factor=.*MAX_RELEASED_MILESTONES"):
        released_milestones(1000, 1 - 1e-12)
    # 2^62 tokens at one token per step: per-step arrays beyond MAX_STEP_ARRAY (formerly tens of GiB).
    with pytest.raises(ValueError, match=r"MAX_STEP_ARRAY.*total_tokens=4611686018427387904"):
        released_seesaw_run(2**62, 1, 1)
    with pytest.raises(TypeError, match="lr_mode must be one of"):
        released_seesaw_run(1000, 4, 8, lr_mode=["auto"])
    with pytest.raises(ValueError, match=r"models\[0\].*total_tokens must be a positive whole number"):
        released_grid(models=(("m", -5.0),), main_batches=(8,), large_batches=())
    with pytest.raises(ValueError, match=r"rows\[0\] lacks the field"):
        format_released_table([{"group": "main"}])


# ------------------------------------------------------------------ the manifest's factors (issue #24 item 1)
def _transcribed_released_steps(total_tokens, seq_len, b0, milestones, batch_factor):
    """A plain transcription of the released loop's batch rule (one batch at a time, no closed forms)."""
    tokens, acc, k, steps = 0, float(b0), 0, 0
    while tokens < total_tokens:
        if k < len(milestones) and tokens >= milestones[k]:
            acc *= batch_factor
            k += 1
        batch = math.floor(acc)
        if batch % 32 == 1:
            batch = math.ceil(acc)
        tokens += batch * seq_len
        steps += 1
    return steps, tokens


def test_released_grid_uses_the_manifest_factors_and_matches_the_logged_run():
    # Logged (Seesaw Figure 2, 150M, B₀ = 256, β = √2): 10245 steps, 3 300 396 032 tokens — reproduced with the
    # manifest's 1.4142135, not with the exact √2 (10243 steps, 3 300 284 416 tokens).
    rows = released_grid(models=(("150M", 3.3e9),), main_batches=(256,), large_batches=())
    row = next(r for r in rows if r["beta"] == 2**0.5)
    assert (row["steps"], row["tokens"], row["batch_factor"]) == (10245, 3_300_396_032, 1.4142135)
    exact = released_grid(models=(("150M", 3.3e9),), main_batches=(256,), large_batches=(), factors="exact")
    row_exact = next(r for r in exact if r["beta"] == 2**0.5)
    assert (row_exact["steps"], row_exact["tokens"]) == (10243, 3_300_284_416)
    # Both against the transcription of the released loop, at every (α, β) and both factor sources.
    milestones = released_milestones(int(3.3e9), 0.5)
    for table in (rows, exact):
        for r in table:
            if r["group"] != "alpha_beta":
                continue
            assert (r["steps"], r["tokens"]) == _transcribed_released_steps(
                int(3.3e9), 1024, 256, list(milestones), r["batch_factor"])
