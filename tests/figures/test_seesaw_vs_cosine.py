"""Smoke test of the Seesaw-vs-cosine figure: reductions are what the library computes."""

from __future__ import annotations


import pytest

from ramplab.theory import Schedule, WarmupCosine, seesaw_schedule, seesaw_step_reduction, step_reduction

NAME = "seesaw_vs_cosine"


@pytest.fixture(scope="module")
def built(tmp_path_factory, quick_figure):
    return quick_figure(NAME, tmp_path_factory.mktemp("fig"))


def test_files_and_numbers(built):
    out, summary, rows = built
    for ext in ("png", "pdf", "csv", "json"):
        assert (out / f"{NAME}.{ext}").stat().st_size > 0
    total, factor = summary["total_samples"], summary["factor"]
    for b0, info in summary["per_initial_batch"].items():
        base = WarmupCosine(info["lr0"], total)
        cosine = Schedule.from_shape(base, int(b0), integer_batch=False)
        seesaw = seesaw_schedule(base, int(b0), factor)
        assert info["cosine_steps"] == cosine.serial_steps
        assert info["seesaw_steps"] == seesaw.serial_steps
        assert info["step_reduction"] == pytest.approx(step_reduction(cosine, seesaw), abs=1e-12)
        assert 0.37 < info["step_reduction"] < 0.40
        assert info["worst_ratio"] < 1.5  # equivalence holds at these small batches
        mine = [r for r in rows if r["series"] == f"Seesaw B₀={b0}"]
        assert int(mine[-1]["step"]) == seesaw.serial_steps
    assert summary["ideal_step_reduction_f"] == pytest.approx(seesaw_step_reduction(WarmupCosine(1, 1), 1.1))
    assert summary["continuous_step_reduction"] == pytest.approx(0.405)
