"""Smoke test of the Monte Carlo figure: files, CSV of the plotted numbers, key numbers recomputed."""

from __future__ import annotations

import numpy as np
import pytest

from ramplab.figures.monte_carlo import SERIES, setup
from ramplab.simulations import NSGD, simulate
from ramplab.theory import Numerics, expected_risk

NAME = "monte_carlo"


@pytest.fixture(scope="module")
def built(tmp_path_factory, quick_figure):
    return quick_figure(NAME, tmp_path_factory.mktemp("fig"))


def test_files_and_numbers(built):
    out, summary, rows = built
    for ext in ("png", "pdf", "csv", "json"):
        assert (out / f"{NAME}.{ext}").stat().st_size > 0
    cfg = setup(quick=True)
    grid = cfg["grid"]
    exact = {"sgd": expected_risk(cfg["problem"], cfg["sgd"]).at_samples(grid),
             "nsgd": expected_risk(cfg["problem"], cfg["nsgd"], "nsgd").at_samples(grid)}
    assert set(summary["series"]) == {s[0] for s in SERIES}
    for label, optimizer, normalization, sampler, _ in SERIES:
        mine = [r for r in rows if r["series"] == label]
        assert len(mine) == grid.size  # one plotted point per grid sample count
        np.testing.assert_allclose([float(r["samples"]) for r in mine], grid)
        np.testing.assert_allclose([float(r["exact_risk"]) for r in mine], exact[optimizer], rtol=1e-12)
        info = summary["series"][label]
        assert info["sampler"] == sampler and info["runs"] == cfg["runs"][sampler]
        assert float(mine[-1]["mc_mean_risk"]) == pytest.approx(info["final_mc_mean"], rel=1e-12)
        if normalization == "expected":
            # Monte Carlo agrees with the exact curve: no grid point beyond 5 SE.
            assert info["max_abs_z"] < 5
            assert info["fraction_within_2se"] > 0.8
    # The figure's numbers are the library's: rerun one series with the recorded seed.
    label, optimizer, normalization, sampler, _ = SERIES[1]
    info = summary["series"][label]
    spec = NSGD(normalization) if optimizer == "nsgd" else optimizer
    again = simulate(cfg["problem"], cfg[optimizer], spec, sampler=sampler,
                     runs=info["runs"], seed=info["seed"], numerics=Numerics(backend="numpy"), checkpoints=grid)
    assert again.mean_risk[-1] == pytest.approx(info["final_mc_mean"], rel=1e-12)
    # Dividing by the realised norm visibly changes NSGD (many SE apart at the end).
    assert abs(summary["conditional_minus_expected_final"]["in_standard_errors"]) > 4
