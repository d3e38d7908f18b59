"""Smoke test of ``ramplab bench --suite gradient``: the quick run produces every row (values are printed by
the benchmark, never asserted here)."""

from __future__ import annotations

import numpy as np

from ramplab.benchmarks import cli
from ramplab.benchmarks.risk_gradient import CASES, GradientSizes, measure


def test_gradient_bench_rows():
    sizes = GradientSizes(ratio=((200, 50),), memory=(100, 60), repeat=1)
    rows = measure(sizes)
    items = [r.item for r in rows]
    for label in CASES:
        for what in ("forward", "gradient", "gradient / forward"):
            assert f"{label}: {what}" in items
    assert "held by risk_gradient" in items
    for r in rows:
        assert r.value is not None and np.isfinite(r.value) and r.value > 0, r


def test_gradient_section_is_registered():
    assert "gradient" in cli.SECTIONS
