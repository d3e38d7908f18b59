"""Smoke test of critical_batch_definitions: the JSON's numbers are the library's (issue #23 items 3–5)."""

from __future__ import annotations

import numpy as np
import pytest

from ramplab.theory import (
    Problem,
    Schedule,
    StepDecay,
    critical_batch,
    expected_risk,
    linear_scaling_critical_batch,
    pareto_critical_batch,
    seesaw_schedule,
)

NAME = "critical_batch_definitions"


@pytest.fixture(scope="module")
def built(tmp_path_factory, quick_figure):
    return quick_figure(NAME, tmp_path_factory.mktemp("fig"))


def test_files_and_numbers(built):
    out, summary, rows = built
    for ext in ("png", "pdf", "csv", "json"):
        assert (out / f"{NAME}.{ext}").stat().st_size > 0
    pr = summary["problem"]
    p = Problem.power_law(pr["d"], a=pr["a"], b=pr["b"], noise_variance=pr["noise_variance"])
    tau = summary["targets"][-1]
    entry = summary["per_target"][f"{tau:g}"]
    batches = np.geomspace(*summary["batch_grid"][:2], int(summary["batch_grid"][2]))
    lrs = np.geomspace(*summary["lr_grid"][:2], int(summary["lr_grid"][2]))
    assert entry["pareto"] == pytest.approx(pareto_critical_batch(p, batches, tau, lrs=lrs, max_steps=5000)
                                            .critical_batch, rel=1e-12)
    assert entry["linear_scaling"] == pytest.approx(
        linear_scaling_critical_batch(p, batches, tau, lrs=lrs, max_steps=5000), rel=1e-12)
    sfo = critical_batch(p, summary["sfo_eta"], tau**0.5, np.geomspace(*summary["sfo_grid"][:2],
                                                                        int(summary["sfo_grid"][2])), max_steps=5000)
    assert entry["sfo"] == pytest.approx(sfo.critical_batch, rel=1e-12)
    # Four different numbers for "the critical batch".
    values = [entry[k] for k in ("sfo", "pareto", "linear_scaling")]
    assert len({round(v, 6) for v in values}) == 3
    # The equal-samples comparison: every schedule consumes the base's samples; serial steps and final risks are the
    # exact solver's.
    run = summary["base_run"]
    shape = StepDecay(run["eta"], run["total_samples"], boundaries=tuple(run["boundaries"]), factor=run["decay"])
    base = Schedule.from_shape(shape, run["batch"])
    comp = summary["equal_samples_comparison"]
    assert comp["base"]["serial_steps"] == base.serial_steps
    assert comp["base"]["final_risk"] == pytest.approx(float(expected_risk(p, base).risk[-1]), rel=1e-12)
    see = seesaw_schedule(shape, run["batch"], 2.0, lr_power=0.0, rounding="floor")
    assert comp["Seesaw fixed-rate arm (η, 2B)"]["serial_steps"] == see.serial_steps
    assert {v["samples"] for v in comp.values()} == {float(run["total_samples"])}
    warm = comp["local-critical-batch warmup"]
    assert warm["serial_steps"] < comp["base"]["serial_steps"]
    # Names: the JSON uses the one public name of each quantity.
    assert summary["names"]["sfo"].startswith("SFO-minimising batch")
    assert {r["series"] for r in rows} >= {"sfo", "pareto", "linear_scaling", "local", "b_noise", "b_simple"}
