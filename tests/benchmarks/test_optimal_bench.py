"""Smoke test of ``ramplab bench --suite optimal``: a tiny run produces every row (values are printed by the
benchmark, never asserted here)."""

from __future__ import annotations

import numpy as np

from ramplab.benchmarks import cli
from ramplab.benchmarks.optimal_schedule import OptimalSizes, measure


def test_optimal_bench_rows():
    sizes = OptimalSizes(d=20, steps=24, segments=3, mean_batch=4.0, budgets=2, workers=1)
    rows = measure(sizes, parts=("optimum",))
    items = [r.item for r in rows]
    for what in ("one forward solve", "one gradient", "optimal_schedule", "optimal_schedule / forward",
                 "objective (rounded)"):
        assert what in items
    for r in rows:
        assert r.value is not None and np.isfinite(r.value) and r.value > 0, r


def test_optimal_section_is_registered():
    assert "optimal" in cli.SECTIONS
