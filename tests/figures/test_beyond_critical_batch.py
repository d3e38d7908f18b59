"""Smoke test of the beyond-critical-batch figure: equivalence holds small, fails large."""

from __future__ import annotations


import numpy as np
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
    assert large["worst_ratio_to_cosine"]["fixed-LR ramp (1, f)"] > 20
    for panel, info in summary["panels"].items():
        for series, final in info["final_risk"].items():
            mine = [r for r in rows if r["panel"] == panel and r["series"] == series]
            assert int(mine[-1]["step"]) == info["serial_steps"][series]
            assert float(mine[-1]["risk"]) == pytest.approx(final, rel=1e-12)


def test_the_large_batch_zigzag_is_explained_by_the_edge_of_stability(built):
    out, summary, _ = built
    eos = summary["edge_of_stability"]
    assert "edge of stability" in eos["explanation"] and eos["edge_2_over_lambda1"] == pytest.approx(2.0)
    # Small batch: the effective rate never reaches the edge and the risk does not alternate.
    for stats in eos["per_panel"]["small batch"].values():
        assert stats["steps_above_edge_fraction"] == 0.0 and stats["alternating_risk_fraction"] < 0.05
    # Large batch: the ramps sit above the edge on a large share of steps, and their risk alternates.
    for series in ("Seesaw (p = 1)", "fixed-LR ramp (1, f)"):
        stats = eos["per_panel"]["large batch"][series]
        assert stats["steps_above_edge_fraction"] > 0.2 and stats["alternating_risk_fraction"] > 0.5


def test_edge_statistics_count_flips_and_steps_above_the_edge():
    from ramplab.figures.beyond_critical_batch import _edge_statistics

    # Hand count: rates 1, 3, 1, 3 against edge 2 → half above; risk 4, 1, 3, 2, 2.5 changes -, +, -, +
    # → the sign flips at all 3 interior steps.
    stats = _edge_statistics(np.array([1.0, 3.0, 1.0, 3.0]), np.array([4.0, 1.0, 3.0, 2.0, 2.5]), 2.0)
    assert stats == {"steps_above_edge_fraction": 0.5, "alternating_risk_fraction": 1.0}
