"""The optimal-frontier figure (issue 22 item 5): files written, the CSV holds every point of every optimizer (its
``optimizer`` column), the JSON compares each named schedule with the optimum at its own serial steps, and no named
schedule beats the frontier, for SGD, NSGD and heavy ball."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from ramplab.figures import REGISTRY, load_all
from ramplab.figures.registry import FigureContext
from ramplab.theory import NSGD, Problem, expected_risk, named_schedules

OPTS = ("sgd", "nsgd", "momentum")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    load_all()
    out = tmp_path_factory.mktemp("fig")
    ctx = FigureContext(name="optimal_frontier", out_dir=out, quick=True)
    REGISTRY["optimal_frontier"].build(ctx)
    return out


@pytest.fixture(scope="module")
def read(built):
    summary = json.loads((built / "optimal_frontier.json").read_text())
    with (built / "optimal_frontier.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    return summary, rows


def test_files_written(built):
    for ext in ("png", "pdf", "csv", "json"):
        assert (built / f"optimal_frontier.{ext}").stat().st_size > 0


def test_every_row_names_its_optimizer(read):
    summary, rows = read
    assert summary["optimizers"] == list(OPTS)
    assert {r["optimizer"] for r in rows} == set(OPTS)
    for opt in OPTS:
        assert {r["kind"] for r in rows if r["optimizer"] == opt} == {"frontier", "named", "segment"}


@pytest.mark.parametrize("opt", OPTS)
def test_frontier_and_named_schedules(read, opt):
    summary, all_rows = read
    rows = [r for r in all_rows if r["optimizer"] == opt]
    front = [r for r in rows if r["kind"] == "frontier"]
    steps = [int(r["serial_steps"]) for r in front]
    objective = np.array([float(r["objective"]) for r in front])
    assert steps == sorted(steps) == summary["frontier"][opt]["serial_steps"]
    np.testing.assert_allclose(objective, summary["frontier"][opt]["objective"], rtol=1e-12)
    assert summary["all_converged"] and summary["not_converged"] == []
    assert all(r["converged"] == "True" for r in front)
    # more serial steps never hurt at fixed samples
    assert np.all(np.diff(objective) <= 1e-9 * objective[:-1])
    named = {r["series"]: r for r in rows if r["kind"] == "named"}
    assert set(named) == set(summary["named"][opt])
    assert any(label.startswith("Seesaw") for label in named)
    for label, entry in summary["named"][opt].items():
        assert int(named[label]["serial_steps"]) == entry["serial_steps"] in steps
        # the optimum at a named schedule's serial steps is no worse than it (the frontier is a lower envelope)
        assert entry["relative_to_frontier"] >= 1 - 1e-9, label
        assert float(named[label]["objective"]) == pytest.approx(entry["objective"], rel=1e-12)
        assert entry["frontier_objective"] == pytest.approx(objective[steps.index(entry["serial_steps"])], rel=1e-12)
    # every optimal schedule's segments are in the CSV, and they use exactly the samples
    for s in steps:
        seg = [r for r in rows if r["kind"] == "segment" and int(r["serial_steps"]) == s]
        assert seg and float(seg[-1]["samples_end"]) == pytest.approx(summary["samples"], rel=1e-9)
    assert f"{opt}_seesaw_best_relative" in summary["claim"]


def test_nsgd_named_risks_are_nsgd_runs(read):
    """The NSGD rows are NSGD: one named schedule re-run by expected_risk with NSGD at its recorded peak gives its
    recorded risk, and the same schedule under SGD does not (the check can fail)."""
    summary, rows = read
    p = Problem.power_law(summary["problem"]["d"], a=1.5, b=1.0, noise_variance=0.5)
    entry = summary["named"]["nsgd"]["cosine"]
    sched = named_schedules(summary["samples"], summary["initial_batch"], entry["peak_lr"])["cosine"]
    assert expected_risk(p, sched, NSGD()).risk[-1] == pytest.approx(entry["objective"], rel=1e-12)
    assert expected_risk(p, sched, "sgd", on_divergence="flag").risk[-1] != pytest.approx(entry["objective"], rel=1e-3)


def test_claim_names_seesaw_for_each_optimizer(read):
    summary, _ = read
    statement = summary["claim"]["statement"]
    assert "Seesaw" in statement and "SGD" in statement and "NSGD" in statement and "heavy ball" in statement
    assert summary["claim"]["min_relative"] >= 1 - 1e-9
