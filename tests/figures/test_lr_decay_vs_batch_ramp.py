"""Smoke test of the first figure: files written, CSV holds the plotted numbers, JSON the key figures."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from ramplab.figures import REGISTRY, load_all
from ramplab.figures.registry import FigureContext


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    load_all()
    out = tmp_path_factory.mktemp("fig")
    ctx = FigureContext(name="lr_decay_vs_batch_ramp", out_dir=out, quick=True)
    REGISTRY["lr_decay_vs_batch_ramp"].build(ctx)
    return out


def test_files_and_numbers(built):
    for ext in ("png", "pdf", "csv", "json"):
        assert (built / f"lr_decay_vs_batch_ramp.{ext}").stat().st_size > 0
    summary = json.loads((built / "lr_decay_vs_batch_ramp.json").read_text())
    with (built / "lr_decay_vs_batch_ramp.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    series = {r["series"] for r in rows}
    assert series == set(summary["serial_steps"])
    for name, steps in summary["serial_steps"].items():
        mine = [r for r in rows if r["series"] == name]
        assert len(mine) == steps  # one plotted point per step
        assert float(mine[-1]["samples"]) == pytest.approx(sum(summary["phase_samples"]))
        assert float(mine[-1]["risk"]) == pytest.approx(summary["final_risk"][name], rel=1e-12)
    # Batch doubling takes the fewest steps; lr halving the most (β > 1 shortens every later phase).
    steps = sorted(summary["serial_steps"].items(), key=lambda kv: kv[1])
    assert steps[0][0].startswith("batch doubling") and steps[-1][0].startswith("lr halving")
    # The αβ = 2 members stay close at matched samples (first-order η/B equivalence).
    assert max(summary["max_risk_ratio_vs_lr_halving_at_matched_samples"].values()) < 1.5
    assert np.isfinite([float(r["risk"]) for r in rows]).all()
