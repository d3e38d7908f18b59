"""Smoke test of noise_scale_estimator_bias: exact values are the library's; the bias table is the rows'."""

from __future__ import annotations

import numpy as np
import pytest

from ramplab.theory import Problem, Schedule, expected_risk, gradient_noise_scale

NAME = "noise_scale_estimator_bias"


@pytest.fixture(scope="module")
def built(tmp_path_factory, quick_figure):
    return quick_figure(NAME, tmp_path_factory.mktemp("fig"))


def test_files_and_numbers(built):
    out, summary, rows = built
    for ext in ("png", "pdf", "csv", "json"):
        assert (out / f"{NAME}.{ext}").stat().st_size > 0
    pr, run = summary["problem"], summary["run"]
    p = Problem.power_law(pr["d"], a=pr["a"], b=pr["b"], noise_variance=pr["noise_variance"])
    exact = [r for r in rows if r["series"] == "exact" and r["quantity"] == "b_simple"]
    steps = [int(float(r["step"])) for r in exact]
    traj = expected_risk(p, Schedule.constant(run["lr"], run["batch"], steps=run["steps"]), checkpoints=steps,
                         keep_states=True)
    ref = gradient_noise_scale(p, np.stack([traj.state_at(t).second_moment[0] for t in steps]))
    np.testing.assert_allclose([float(r["value"]) for r in exact], ref.b_simple, rtol=1e-12)
    table = summary["bias_table_last_checkpoint"]
    for name in ("two_batch", "ema", "per_example"):
        last = [r for r in rows if r["series"] == name and r["quantity"] == "grad_norm_sq"][-1]
        entry = table[name]["grad_norm_sq"]
        assert entry["mean"] == pytest.approx(float(last["value"]), rel=1e-12)
        assert entry["relative_bias"] == pytest.approx(entry["mean"] / entry["exact"] - 1, rel=1e-9, abs=1e-12)
    # The unbiased estimators are unbiased here (4 SE), as the first claim says.
    assert summary["claims"][0].startswith("the two-batch and per-example estimates of |G|² and tr Σ are unbiased")
