"""Smoke test of sfo_critical_batch: files, CSV = plotted numbers, JSON key numbers = library values."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from ramplab.figures import REGISTRY, load_all
from ramplab.figures.registry import FigureContext
from ramplab.theory import BoundConstants, Problem, bound_critical_batch, critical_batch

NAME = "sfo_critical_batch"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    load_all()
    out = tmp_path_factory.mktemp("fig")
    REGISTRY[NAME].build(FigureContext(name=NAME, out_dir=out, quick=True))
    return out


def test_files_and_numbers(built):
    for ext in ("png", "pdf", "csv", "json"):
        assert (built / f"{NAME}.{ext}").stat().st_size > 0
    summary = json.loads((built / f"{NAME}.json").read_text())
    with (built / f"{NAME}.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    etas = summary["etas"]
    assert {r["series"] for r in rows} == {"measured", "bound σ² at optimum", "bound σ² initial",
                                           "critical batch vs eta"}
    problem = Problem.power_law(summary["problem"]["d"], a=summary["problem"]["a"], b=summary["problem"]["b"],
                                noise_variance=summary["problem"]["noise_variance"])
    eps = summary["epsilon"]
    grid_lo, grid_hi, n = summary["batch_grid"]
    grid = np.geomspace(grid_lo, grid_hi, n)
    eta = summary["main_eta"]
    cb = critical_batch(problem, eta, eps, grid)
    entry = summary["per_eta"][f"{eta:g}"]
    assert entry["critical_batch_measured"] == pytest.approx(cb.critical_batch, rel=1e-12)
    assert entry["critical_batch_bound_sigma2_optimum"] == pytest.approx(cb.bound_critical_batch, rel=1e-12)
    initial = BoundConstants.from_problem(problem, "initial")
    assert entry["critical_batch_bound_sigma2_initial"] == pytest.approx(bound_critical_batch(initial, eta, eps))
    measured = [r for r in rows if r["series"] == "measured" and float(r["eta"]) == eta]
    assert len(measured) == n
    np.testing.assert_allclose([float(r["sfo"]) for r in measured], cb.sfo, rtol=1e-12)
    crit_rows = [r for r in rows if r["series"] == "critical batch vs eta"]
    assert [float(r["eta"]) for r in crit_rows] == etas
    # What the figure claims in its caption is what the numbers say.
    for v in summary["per_eta"].values():
        assert v["measured_minimum_interior"] and v["bound_with_trajectory_sigma2_holds"]
        assert v["critical_batch_measured"] < v["critical_batch_bound_sigma2_optimum"]
    assert summary["loglog_slope_critical_batch_vs_eta"]["measured"] > 0.8
    assert summary["disagreements"] and "Disagree" in summary["caption"]


def test_panel_titles_are_unique(monkeypatch, tmp_path):
    """The two left panels once carried the same title; every panel now says what it shows."""
    import matplotlib.figure

    titles = []
    original = matplotlib.figure.Figure.savefig

    def spy(fig, *args, **kwargs):
        titles[:] = [ax.get_title() for ax in fig.axes]
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", spy)
    load_all()
    REGISTRY[NAME].build(FigureContext(name=NAME, out_dir=tmp_path, quick=True))
    assert len(titles) == 3 and len(set(titles)) == 3 and all(titles)
    assert "steps" in titles[0] and "samples" in titles[1]
