"""``LRShape.crossing`` and ``LRShape.integral``: closed forms against the generic fallbacks.

The base class's scan-plus-bisection and adaptive quadrature are an independent implementation of
the same definitions, so each closed form is checked against them on drawn parameters.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramplab.theory.schedules import (
    WSD,
    Constant,
    Cosine,
    InverseSqrt,
    Linear,
    LRShape,
    PowerDecay,
    StepDecay,
    WarmupCosine,
)

fractions = st.floats(0.0, 0.95)


@st.composite
def shapes(draw):
    total = draw(st.floats(1.0, 1e9))
    peak = draw(st.floats(1e-3, 10.0))
    kind = draw(st.sampled_from(["constant", "step", "linear", "cosine", "quarter", "warmup", "wsd", "rsqrt",
                                 "power"]))
    if kind == "rsqrt":
        w = draw(st.floats(0.0, 0.5))
        c = draw(st.floats(0.0 if w > 1e-6 else 0.01, 0.5))
        return InverseSqrt(peak, total, warmup_fraction=w, constant_fraction=c, warmup_start=draw(fractions))
    if kind == "power":
        return PowerDecay(peak, total, power=draw(st.floats(0.2, 5.0)), final=draw(fractions))
    if kind == "constant":
        return Constant(peak, total)
    if kind == "step":
        n = draw(st.integers(1, 4))
        b = sorted(draw(st.lists(st.floats(0.01, 0.99), min_size=n, max_size=n, unique=True)))
        if any(y - x < 1e-6 for x, y in zip(b, b[1:])):
            b = [b[0]]
        return StepDecay(peak, total, boundaries=tuple(b), factor=draw(st.floats(0.05, 0.95)))
    if kind == "linear":
        return Linear(peak, total, final=draw(fractions))
    if kind in ("cosine", "quarter"):
        return Cosine(peak, total, final=draw(fractions), quarter=kind == "quarter")
    if kind == "warmup":
        return WarmupCosine(peak, total, warmup_fraction=draw(st.floats(0.0, 0.5)),
                            warmup_start=draw(fractions), floor=draw(fractions))
    w = draw(st.floats(0.0, 0.4))
    return WSD(peak, total, warmup_fraction=w, decay_fraction=draw(st.floats(0.05, 1.0 - w)),
               floor=draw(fractions), decay=draw(st.sampled_from(["linear", "cosine", "sqrt"])),
               warmup_start=draw(fractions))


@settings(max_examples=60)
@given(shape=shapes(), level=st.floats(0.01, 1.2))
def test_crossing_closed_form_matches_bisection(shape, level):
    closed = shape.crossing(level * shape.peak)
    generic = LRShape._crossing_fraction(shape, level)
    generic = generic * shape.total_samples if math.isfinite(generic) else math.inf
    if math.isinf(closed) or math.isinf(generic):
        assert closed == generic
    elif abs(closed - generic) > 1e-9 * shape.total_samples:
        # Where the rate is flat (a cosine reaching its floor) the two answers may differ in τ by
        # up to ~sqrt(1e-12) of the horizon; they must then agree in rate.
        assert shape(closed) == pytest.approx(shape(generic), rel=1e-9)


@settings(max_examples=60)
@given(shape=shapes(), level=st.floats(0.01, 0.999))
def test_crossing_is_the_first_sample_at_or_below_the_level(shape, level):
    tau = shape.crossing(level * shape.peak)
    w = shape.warmup_samples
    if math.isinf(tau):
        grid = np.linspace(w, shape.total_samples, 2001)
        assert np.all(shape(grid) > level * shape.peak * (1 - 1e-12))
        return
    assert w - 1e-9 * shape.total_samples <= tau <= shape.total_samples
    assert shape(tau) <= level * shape.peak * (1 + 1e-9) + 1e-12 * shape.peak
    before = np.linspace(w, tau, 200)[:-1]
    before = before[before < tau - 1e-7 * shape.total_samples]
    assert np.all(shape(before) > level * shape.peak * (1 - 1e-9))


@settings(max_examples=60)
@given(shape=shapes(), a=st.floats(0.0, 1.0), b=st.floats(0.0, 1.0))
def test_integral_closed_form_matches_quadrature(shape, a, b):
    lo, hi = sorted((a, b))
    total = shape.total_samples
    closed = shape.integral(lo * total, hi * total)
    reference = shape.peak * total * (LRShape._primitive(shape, hi) - LRShape._primitive(shape, lo))
    assert closed == pytest.approx(reference, rel=1e-7, abs=1e-9 * shape.peak * total)


def test_closed_forms_by_hand():
    # ∫_0^1 of the half cosine is 1/2, of the quarter cosine 2/π; linear warmup from 0.1 over 10 %
    # adds 0.1 · 0.55; WSD with a 20 % linear decay to 0: 0.8 + 0.1.
    assert Cosine(1.0, 1.0).integral() == pytest.approx(0.5, abs=1e-15)
    assert Cosine(1.0, 1.0, quarter=True).integral() == pytest.approx(2 / math.pi, abs=1e-15)
    assert WarmupCosine(1.0, 1.0).integral() == pytest.approx(0.1 * 0.55 + 0.9 * 0.55, abs=1e-15)
    assert WSD(1.0, 1.0, decay_fraction=0.2).integral() == pytest.approx(0.9, abs=1e-15)
    assert StepDecay(2.0, 10.0, boundaries=(0.5,), factor=0.5).integral(2.0, 7.0) == pytest.approx(8.0)
    # Crossings: the §3.3 formula τ = τ_w + (D − τ_w) arccos(2(ℓ − α_f)/(1 − α_f) − 1)/π.
    shape = WarmupCosine(1.0, 1000.0)
    c = 2 * (0.5 - 0.1) / 0.9 - 1
    assert shape.crossing(0.5) == pytest.approx(100 + 900 * math.acos(c) / math.pi, rel=1e-14)
    assert shape.crossing(0.1) == pytest.approx(1000.0)
    assert shape.crossing(0.0999) == math.inf
    # A step decay by 1/1.1 reaches the levels 1.1^{-k} despite (1/1.1)^k ≠ 1.1^{-k} in floats.
    steps = StepDecay(1.0, 100.0, boundaries=(0.2, 0.4, 0.6), factor=1 / 1.1)
    assert [steps.crossing(1.1**-k) for k in (1, 2, 3)] == [20.0, 40.0, 60.0]


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="level must be positive; got 0.0"):
        Linear(1.0, 10.0).crossing(0.0)
    with pytest.raises(ValueError, match="stop must be ≥ start"):
        Linear(1.0, 10.0).integral(5.0, 1.0)
    with pytest.raises(TypeError, match="level must be a real number"):
        Linear(1.0, 10.0).crossing("half")
