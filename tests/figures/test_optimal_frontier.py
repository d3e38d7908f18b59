"""The optimal-frontier figure (issue 22 item 5): files written, the CSV holds every point, the JSON compares
each named schedule with the optimum at its own serial steps, and no named schedule beats the frontier."""

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
    ctx = FigureContext(name="optimal_frontier", out_dir=out, quick=True)
    REGISTRY["optimal_frontier"].build(ctx)
    return out


def test_files_and_numbers(built):
    for ext in ("png", "pdf", "csv", "json"):
        assert (built / f"optimal_frontier.{ext}").stat().st_size > 0
    summary = json.loads((built / "optimal_frontier.json").read_text())
    with (built / "optimal_frontier.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    front = [r for r in rows if r["kind"] == "frontier"]
    steps = [int(r["serial_steps"]) for r in front]
    objective = np.array([float(r["objective"]) for r in front])
    assert steps == sorted(steps) == summary["frontier"]["serial_steps"]
    assert summary["all_converged"]
    # more serial steps never hurt at fixed samples
    assert np.all(np.diff(objective) <= 1e-9 * objective[:-1])
    named = {r["series"]: r for r in rows if r["kind"] == "named"}
    assert set(named) == set(summary["named"])
    for label, entry in summary["named"].items():
        assert int(named[label]["serial_steps"]) == entry["serial_steps"] in steps
        # the optimum at a named schedule's serial steps is no worse than it (the frontier is a lower envelope)
        assert entry["relative_to_frontier"] >= 1 - 1e-9, label
        assert float(named[label]["objective"]) == pytest.approx(entry["objective"], rel=1e-12)
    # every optimal schedule's segments are in the CSV, and they use exactly the samples
    for s in steps:
        seg = [r for r in rows if r["kind"] == "segment" and int(r["serial_steps"]) == s]
        assert seg and float(seg[-1]["samples_end"]) == pytest.approx(summary["samples"], rel=1e-9)
    assert "Seesaw" in summary["claim"]["statement"]
