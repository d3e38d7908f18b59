"""Serial-step accounting and the numbers of docs/math.md#serial-step-reduction.

Tolerances. The spec prints reductions to 0.1 %; a value is "reproduced" when it rounds to the
printed one, i.e. lies within 0.0005 of it. The library's own values are checked more tightly
against independent derivations (closed-form integrals; sums over the explicit arccos crossings of
§3.3, which do not use ``LRShape.crossing``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramplab.theory.schedules import (
    WSD,
    Cosine,
    Linear,
    Schedule,
    WarmupCosine,
    continuous_serial_steps,
    phase_serial_steps,
    seesaw_schedule,
    seesaw_step_reduction,
    step_reduction,
)

RELEASED_BASE = WarmupCosine(1.0, 1.0)  # 10 % linear warmup from 0.1 η_0, half cosine to 0.1 η_0


def _cosine_phase_reduction(warmup: float, floor: float, f: float, levels: int) -> float:
    """Independent: phase k of the half cosine runs between the §3.3 crossings of f^{-k}, f^{-k-1}."""
    edges = [0.0, warmup]
    for k in range(1, levels + 1):
        c = min(1.0, max(-1.0, 2 * (f**-k - floor) / (1 - floor) - 1))
        edges.append(warmup + (1 - warmup) * math.acos(c) / math.pi)
    edges.append(1.0)
    lengths = np.diff(edges)
    # Phase 0 is [0, warmup] ∪ [warmup, τ_1]: batch B_0 throughout.
    steps = lengths[0] + sum(d * f**-k for k, d in enumerate(lengths[1:]))
    return 1.0 - steps


def test_continuous_limits():
    # Quarter cosine: ∫_0^1 cos(πu/2) du = 2/π.
    assert seesaw_step_reduction(Cosine(1.0, 1.0, quarter=True)) == pytest.approx(1 - 2 / math.pi, abs=1e-15)
    assert 1 - 2 / math.pi == pytest.approx(0.363, abs=5e-4)
    # Half cosine to 0: ∫ (1 + cos πu)/2 = 1/2.
    assert seesaw_step_reduction(Cosine(1.0, 1.0)) == pytest.approx(0.5, abs=1e-15)
    # Released setting: 0.1 + 0.9 · (0.1 + 0.9 · 0.5) = 0.595 of the steps, i.e. 40.5 %.
    assert seesaw_step_reduction(RELEASED_BASE) == pytest.approx(0.405, abs=1e-15)


def test_half_cosine_halvings_378():
    # docs/math.md#serial-step-reduction: half cosine to 0 discretised at f = 2, no floor: ≈ 37.8 %.
    got = seesaw_step_reduction(Cosine(1.0, 1.0), 2.0)
    assert got == pytest.approx(_cosine_phase_reduction(0.0, 0.0, 2.0, 40), abs=1e-12)
    assert got == pytest.approx(0.378, abs=5e-4)  # 0.37761


@pytest.mark.parametrize("f, spec", [(math.sqrt(2.0), 0.338), (2.0, 0.281)])
def test_released_setting_discretised(f, spec):
    got = seesaw_step_reduction(RELEASED_BASE, f)
    levels = int(math.log(0.1) / math.log(1 / f))  # 6 for √2, 3 for 2
    assert got == pytest.approx(_cosine_phase_reduction(0.1, 0.1, f, levels), abs=1e-12)
    assert got == pytest.approx(spec, abs=5e-4)  # 0.33762 and 0.28128


def test_released_setting_f_11_is_384_in_the_logged_runs_and_3845_ideally():
    # The ideal phase count at f = 1.1 (24 milestones) is 0.384508, which rounds to 38.5 %, not to
    # the spec's 38.4 %. The spec's number is "the logged runs": the token-mode replay with integer
    # batches, the one-milestone-per-batch rule and the stop rule gives 38.34 %–38.43 % over the
    # released grid (tests/theory/schedules/test_released.py). We check the ideal value to 1e-3 of 0.384.
    got = seesaw_step_reduction(RELEASED_BASE, 1.1)
    assert got == pytest.approx(_cosine_phase_reduction(0.1, 0.1, 1.1, 24), abs=1e-12)
    assert got == pytest.approx(0.384508, abs=1e-6)
    assert abs(got - 0.384) < 1e-3


@pytest.mark.parametrize(
    "base",
    [Cosine(1.0, 1.0), Cosine(1.0, 1.0, quarter=True), Linear(1.0, 1.0), RELEASED_BASE,
     WSD(1.0, 1.0, warmup_fraction=0.05, decay_fraction=0.3, floor=0.05, decay="sqrt")],
    ids=["cosine", "quarter", "linear", "released", "wsd-sqrt"],
)
def test_discretised_reduction_rises_to_the_continuous_limit_as_f_falls(base):
    limit = seesaw_step_reduction(base)
    values = [seesaw_step_reduction(base, f) for f in (4.0, 2.0, 1.1, 1.01, 1.001)]
    assert all(a < b for a, b in zip(values, values[1:]))
    assert values[-1] < limit
    # Phase k of the staircase overpays at most a factor f per sample, so the gap is O(f − 1).
    assert limit - values[-1] < 2e-3


@settings(max_examples=40)
@given(p=st.floats(0.0, 2.0), cap=st.none() | st.floats(1.0, 100.0),
       kind=st.sampled_from(["cosine", "linear", "released"]))
def test_continuous_quadrature_matches_the_closed_form_and_p_family(p, cap, kind):
    base = {"cosine": Cosine(1.0, 100.0, final=0.01), "linear": Linear(2.0, 100.0, final=0.05),
            "released": WarmupCosine(1.0, 100.0)}[kind]
    got = continuous_serial_steps(base, 1.0, p=p, batch_cap=cap)
    # Independent: a fine midpoint rule of 1/B(τ) with B = min(B_0 (η_0/η)^p, cap) after the warmup.
    n = 200_000
    tau = (np.arange(n) + 0.5) * (100.0 / n)
    g = base(tau) / base.peak
    b = g**-p
    if cap is not None:
        b = np.minimum(b, cap)
    b = np.where(tau < base.warmup_samples, 1.0, b)
    assert got == pytest.approx(np.sum(1.0 / b) * 100.0 / n, rel=2e-5)


def test_phase_count_is_what_the_exact_schedule_converges_to():
    # Real batches with many steps per phase: the schedule's integer step count approaches Σ D_k/B_k.
    base = WarmupCosine(1.0, 2.0e6)
    count = phase_serial_steps(base, 4.0, 1.1)
    steps = seesaw_schedule(base, 4.0, 1.1).serial_steps
    assert count <= steps <= count + 25  # one partial step per phase at most (25 phases)


def test_step_reduction_of_schedules():
    base = Schedule.constant(0.1, 8, samples=8000)
    ramp = seesaw_schedule(Linear(0.1, 8000.0), 8, 2.0, rounding="floor")
    assert step_reduction(base, ramp) == pytest.approx(1 - ramp.serial_steps / 1000)
    with pytest.raises(ValueError, match="equal samples"):
        step_reduction(base, Schedule.constant(0.1, 8, samples=800))
    with pytest.raises(TypeError, match="other must be a Schedule"):
        step_reduction(base, "ramp")
