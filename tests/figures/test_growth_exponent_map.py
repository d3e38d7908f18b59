"""Smoke test of growth_exponent_map: files, CSV = plotted cells, JSON = the library's numbers."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

from ramplab.figures import REGISTRY, load_all
from ramplab.figures.registry import FigureContext
from ramplab.proofs import growth_exponent
from ramplab.theory import Problem, growth_grid

NAME = "growth_exponent_map"


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
    gammas, deltas, eps = summary["gammas"], summary["deltas"], summary["epsilons"]
    assert len(rows) == len(gammas) * len(deltas)
    for r in rows:
        predicted = growth_exponent(float(r["gamma"]), float(r["delta"]))
        if math.isinf(predicted):
            assert r["predicted_exponent"] == "inf"
        else:
            assert float(r["predicted_exponent"]) == pytest.approx(predicted, rel=1e-12)
        assert float(r["ridge_delta"]) == pytest.approx(float(r["gamma"]) ** 2)
    settings = summary["schedule"]
    problem = Problem.power_law(summary["problem"]["d"], a=summary["problem"]["a"], b=summary["problem"]["b"],
                                noise_variance=summary["problem"]["noise_variance"])
    grid = growth_grid(problem, gammas, deltas, eps, lr0=settings["lr0"], batch0=settings["batch0"],
                       stage_steps=settings["stage_steps"], stages=settings["stages"])
    np.testing.assert_allclose(np.array(summary["measured_exponent"], dtype=float), grid.measured, rtol=1e-12)
    assert np.array(summary["lr_capped"]).tolist() == grid.capped.tolist()
    last = f"sfo_eps_{eps[-1]:.4g}"
    np.testing.assert_allclose([float(r[last]) for r in rows], grid.sfo[:, :, -1].ravel(), rtol=1e-12)
    assert summary["agreement_uncapped_above_ridge"]["cells"] > 0
    assert summary["agreement_uncapped_above_ridge"]["median_relative_error"] < 0.2
    assert "ridge" in summary["caption"]
