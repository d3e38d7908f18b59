"""Smoke test of the beyond-critical-batch figure: equivalence holds small, fails large."""

from __future__ import annotations


import pytest


NAME = "beyond_critical_batch"


@pytest.fixture(scope="module")
def built(tmp_path_factory, quick_figure):
    return quick_figure(NAME, tmp_path_factory.mktemp("fig"))


def test_files_and_numbers(built):
    out, summary, rows = built
    for ext in ("png", "pdf", "csv", "json"):
        assert (out / f"{NAME}.{ext}").stat().st_size > 0
    small, large = summary["panels"]["small batch"], summary["panels"]["large batch"]
    # Small batch: variance-dominated, Seesaw within a small factor of cosine.
    assert small["median_mean_variance_ratio"]["cosine"] < 1
    assert small["worst_ratio_to_cosine"]["Seesaw (p = 1)"] < 1.5
    # Large batch: the mean gradient dominates and neither ramp replaces the decay.
    assert min(large["median_mean_variance_ratio"].values()) > 10
    assert large["worst_ratio_to_cosine"]["Seesaw (p = 1)"] > 5
    assert large["worst_ratio_to_cosine"]["fixed-LR ramp (p = 2)"] > 20
    for panel, info in summary["panels"].items():
        for series, final in info["final_risk"].items():
            mine = [r for r in rows if r["panel"] == panel and r["series"] == series]
            assert int(mine[-1]["step"]) == info["serial_steps"][series]
            assert float(mine[-1]["risk"]) == pytest.approx(final, rel=1e-12)
