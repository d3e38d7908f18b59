"""Smoke test of the released-grid table: CSV rows are the replayed runs, the table is printed."""

from __future__ import annotations

import csv
import json

import pytest

from ramplab.figures import REGISTRY, load_all
from ramplab.figures.registry import FigureContext
from ramplab.theory import released_seesaw_run

NAME = "released_runs_table"


def test_files_table_and_numbers(tmp_path, capsys):
    load_all()
    REGISTRY[NAME].build(FigureContext(name=NAME, out_dir=tmp_path, quick=True))
    printed = capsys.readouterr().out
    for ext in ("png", "pdf", "csv", "json"):
        assert (tmp_path / f"{NAME}.{ext}").stat().st_size > 0
    summary = json.loads((tmp_path / f"{NAME}.json").read_text())
    with (tmp_path / f"{NAME}.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == summary["runs"] == 4 + 4 * 5 + 4  # one model in quick mode
    assert printed.count("\n") >= len(rows) + 1 and "reduction" in printed
    for row in rows[:2] + rows[-1:]:
        run = released_seesaw_run(float(row["total_tokens"]), int(row["seq_len"]), int(row["initial_batch"]),
                                  float(row["milestone_factor"]), float(row["batch_factor"]),
                                  float(row["lr_factor"]))
        assert int(row["steps"]) == run.steps and int(row["tokens"]) == run.tokens
    lo, hi = summary["main_reduction_range"]
    assert 0.383 < lo <= hi < 0.385
    assert summary["alpha_beta_reduction_by_beta"]["1.0000"] == 0.0
    assert summary["alpha_beta_reduction_by_beta"]["2.0000"] == pytest.approx(0.281, abs=5e-4)
