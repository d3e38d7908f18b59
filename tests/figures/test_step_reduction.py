"""Smoke test of the step-reduction figure: the curves and limits are the library's numbers."""

from __future__ import annotations

import math

import pytest

from ramplab.theory import Cosine, WarmupCosine, released_seesaw_run, seesaw_step_reduction

NAME = "step_reduction"


@pytest.fixture(scope="module")
def built(tmp_path_factory, quick_figure):
    return quick_figure(NAME, tmp_path_factory.mktemp("fig"))


def test_files_and_numbers(built):
    out, summary, rows = built
    for ext in ("png", "pdf", "csv", "json"):
        assert (out / f"{NAME}.{ext}").stat().st_size > 0
    limits = summary["continuous_limit"]
    assert limits["quarter cosine"] == pytest.approx(1 - 2 / math.pi)
    assert limits["half cosine to 0"] == pytest.approx(0.5)
    assert limits["linear to 0"] == pytest.approx(0.5)
    assert limits["released: 10 % warmup, cosine to 0.1"] == pytest.approx(0.405)
    assert summary["at_factor"]["half cosine to 0"]["2.0000"] == pytest.approx(
        seesaw_step_reduction(Cosine(1.0, 1.0), 2.0), abs=1e-12)
    for row in rows:
        if row["kind"] == "phase count" and row["series"] == "released: 10 % warmup, cosine to 0.1":
            f = float(row["factor"])
            assert float(row["reduction"]) == pytest.approx(seesaw_step_reduction(WarmupCosine(1, 1), f))
    rep = summary["released_replay"]
    cosine = released_seesaw_run(rep["total_tokens"], rep["seq_len"], rep["initial_batch"],
                                 batch_factor=1.0, lr_factor=1.0)
    run = released_seesaw_run(rep["total_tokens"], rep["seq_len"], rep["initial_batch"])
    assert rep["reduction"]["1.1000"] == pytest.approx(run.reduction_vs(cosine), abs=1e-12)
