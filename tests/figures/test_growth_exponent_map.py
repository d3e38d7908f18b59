"""Smoke test of growth_exponent_map: files, CSV rows = the library's per-cell measurement, JSON says what was measured."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ramplab.figures.growth_exponent_map import B_FOR_TARGET, SETTINGS, power_law_groups
from ramplab.proofs import growth_exponent
from ramplab.theory import sfo_exponent
from ramplab.theory.complexity import GrowthCell, measure_growth_exponent, term_exponent

NAME = "growth_exponent_map"


@pytest.fixture(scope="module")
def built(tmp_path_factory, quick_figure):
    return quick_figure(NAME, tmp_path_factory.mktemp("fig"))


def _cells(rows):
    """The CSV's measured cells (after them come the rows of the γ = 1.2 panel's reference curves)."""
    return [r for r in rows if r["target"] != ""]


def test_files_rows_and_explanation(built):
    out, summary, rows = built
    curves = [r for r in rows if r["target"] == ""]
    rows = _cells(rows)
    for ext in ("png", "pdf", "csv", "json"):
        assert (out / f"{NAME}.{ext}").stat().st_size > 0
    gammas, deltas = summary["gammas"], summary["deltas"]
    assert len(rows) == 4 * sum(1 for g in gammas for d in deltas if d > g)
    for r in rows:
        g, d = float(r["gamma"]), float(r["delta"])
        assert float(r["bound_exponent"]) == pytest.approx(growth_exponent(g, d), rel=1e-12)
        assert float(r["variance_term_exponent"]) == pytest.approx(term_exponent("variance", g, d), rel=1e-12)
    # One cell per (target, setting) recomputed from the JSON's settings: the CSV holds the library's numbers.
    points = summary["settings"]["bias-dominated"]["points"]
    dimension = summary["problem"]["dimension"]
    for r in rows[:: max(1, len(rows) // 4)]:
        cfg = SETTINGS[r["setting"]]
        problem = power_law_groups(dimension, summary["problem"]["a"], B_FOR_TARGET[r["target"]],
                                   cfg["noise_variance"])
        res = measure_growth_exponent(GrowthCell(problem, float(r["gamma"]), float(r["delta"]),
                                                 np.geomspace(*cfg["eps"], points), target=r["target"],
                                                 lr0=cfg["lr0"], stage_steps=cfg["stage_steps"],
                                                 max_stages=summary["settings"][r["setting"]]["max_stages"]))
        assert float(r["measured_exponent"]) == pytest.approx(res.exponent, rel=1e-9)
        assert r["dominant"] == res.dominant
    assert {r["curve"] for r in curves} == {"master bound", "variance term", "bias term"}
    for r in curves:
        g, d = float(r["gamma"]), float(r["delta"])
        formula = sfo_exponent(g, d) if r["curve"] == "master bound" else term_exponent(r["curve"].split()[0], g, d)
        assert float(r["exponent"]) == pytest.approx(formula, rel=1e-12)
    assert "What was measured" in summary["explanation"] and "bias/variance split" in summary["explanation"]


def test_each_setting_is_decided_by_its_term(built):
    _, summary, rows = built
    usable = [r for r in _cells(rows) if r["lr_capped"] == "False" and float(r["decades"]) >= 1.5]
    for setting, term in (("variance-dominated", "variance"), ("bias-dominated", "bias")):
        cells = [r for r in usable if r["setting"] == setting]
        assert cells and all(r["dominant"] == term for r in cells)
        # The excess risk's variance part lags its quasi-stationary level when the batch grows fast (its slow
        # directions weigh more than in the gradient norm), so only the gradient norm is held to the formula there.
        for r in (c for c in cells if term == "bias" or c["target"] == "gradient_norm"):
            formula = float(r[f"{term}_term_exponent"])
            assert abs(float(r["measured_exponent"]) - formula) <= 0.05 * formula
    # At the ridge δ = γ² both settings measure ≈ 4 on both targets.
    ridge = summary["exponent_at_ridge"]
    assert ridge and all(abs(v - 4.0) < 0.1 for v in ridge.values())
    assert not math.isnan(summary["agreement_with_dominant_term_formula"]["gradient_norm/bias-dominated"][
        "median_relative_gap"])


def test_the_cells_go_through_the_sweep_and_a_process_pool_writes_the_serial_csv(built, tmp_path):
    """Every measured cell is one sweep row (the JSON counts them); worker processes (``--executor
    processes``, the path Dask's workers share: pickled top-level task, thread counts pinned) write
    the same CSV bytes as the serial build of the fixture."""
    from ramplab.figures.cli import main

    out, summary, rows = built
    cells = len(_cells(rows))  # one CSV row per measured (target, setting, γ, δ) cell
    moderate = len(summary["moderate_noise_setting"]["cells"])
    assert [{k: v for k, v in e.items() if k != "seconds"} for e in summary["sweeps"]] == [
        {"function": "growth_cell_row", "rows": cells + moderate, "computed": cells + moderate, "cached": 0}]
    assert main(["--only", NAME, "--quick", "--out", str(tmp_path), "--executor", "processes", "--workers", "2",
                 "--no-cache"]) == 0
    assert (tmp_path / f"{NAME}.csv").read_bytes() == (out / f"{NAME}.csv").read_bytes()
